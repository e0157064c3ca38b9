//! `convex network-test` (hidden): check the way to a deployment step by
//! step, as the official command does, and stop at the first failure
//! (exit 1):
//! 1. DNS lookup of the deployment's host (the system resolver);
//! 2. TCP connect to its port (for `https://` without a port, 443 and 80);
//! 3. `GET /instance_name` over HTTP (for `https://`: first plain HTTP on
//!    port 80, where a 301 redirect counts as a pass, then HTTPS);
//! 4. a WebSocket session over the Convex sync protocol (the query
//!    `_system/cli/convexUrl:cloudUrl` must answer a string), when an admin
//!    key is known;
//! 5. `POST /echo` of 128 random bytes, then 4 MiB (and 64 MiB with
//!    `--speed-test`), which must come back unchanged.
//!
//! `--url` alone tests that URL without an admin key (no WebSocket step) and
//! without asking the management API anything. The whole test is bounded by
//! `--timeout` seconds (30 by default).

use anyhow::Result;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::commands::SelectionArgs;
use crate::context::{Context, ContextOptions};
use crate::credentials::{
    LoadOptions, get_deployment_selection, load_selected_deployment_credentials,
};
use crate::error::fail;
use crate::http::{DeploymentClient, DeploymentRequest, FetchError};
use crate::output::{self, style};

/// Run a network test to Convex's servers
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct Args {
    /// Timeout in seconds for the network test (default: 30).
    #[arg(long, value_name = "timeout")]
    pub timeout: Option<String>,
    /// IP family to use (ipv4, ipv6, or auto)
    #[arg(long = "ip-family", value_name = "ipFamily")]
    pub ip_family: Option<String>,
    /// Perform a large echo test to measure network speed.
    #[arg(long = "speed-test")]
    pub speed_test: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

pub fn run(args: Args) -> Result<()> {
    let timeout = match &args.timeout {
        None => Duration::from_secs(30),
        Some(text) => timeout_from(text)?,
    };
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    crate::commands::block_on(async {
        match tokio::time::timeout(timeout, network_test(&ctx, &args)).await {
            Ok(result) => result,
            Err(_) => Err(fail(format!(
                "FAIL: Network test timed out after {}.",
                format_duration(timeout.as_secs_f64() * 1000.0)
            ))),
        }
    })
}

/// `--timeout`: seconds, read as JavaScript's `parseFloat` reads them (a
/// leading number; `10s` is 10). Like a Node timer, a delay below 1 ms or
/// above 2^31−1 ms fires after 1 ms.
fn timeout_from(text: &str) -> Result<Duration> {
    let seconds = js_parse_float(text).ok_or_else(|| {
        fail(format!(
            "--timeout must be a number of seconds, not \"{text}\"."
        ))
    })?;
    let ms = seconds * 1000.0;
    let ms = if !(1.0..=2_147_483_647.0).contains(&ms) {
        1.0
    } else {
        ms
    };
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

/// The longest prefix of `text` (after leading white space) that is a
/// decimal number, as `parseFloat` finds it; `None` for NaN.
fn js_parse_float(text: &str) -> Option<f64> {
    let t = text.trim_start();
    if let Some(rest) = t.strip_prefix(['+', '-'])
        && rest.starts_with("Infinity")
    {
        return Some(if t.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if t.starts_with("Infinity") {
        return Some(f64::INFINITY);
    }
    let bytes = t.as_bytes();
    let mut end = 0;
    let mut best = None;
    let mut seen_dot = false;
    let mut seen_exp = false;
    let mut i = 0;
    if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
        i += 1;
    }
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_digit() {
            i += 1;
            end = i;
            if let Ok(v) = t[..end].parse::<f64>() {
                best = Some(v);
            }
            continue;
        }
        if c == b'.' && !seen_dot && !seen_exp {
            seen_dot = true;
            i += 1;
            continue;
        }
        if (c == b'e' || c == b'E') && !seen_exp && best.is_some() {
            seen_exp = true;
            i += 1;
            if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
                i += 1;
            }
            continue;
        }
        break;
    }
    let _ = end;
    best
}

/// Where the test goes, and with which admin key (none: no WebSocket step).
struct Target {
    url: String,
    admin_key: Option<String>,
}

async fn network_test(ctx: &Context, args: &Args) -> Result<()> {
    output::start_spinner("Performing network test...");
    let flags = args.selection.to_flags();
    let target = match (&flags.url, &flags.admin_key) {
        (Some(url), Some(key)) => Target {
            url: url.clone(),
            admin_key: Some(key.clone()),
        },
        (Some(url), None) => Target {
            url: url.clone(),
            admin_key: None,
        },
        _ => {
            let selection = get_deployment_selection(ctx, &flags).await?;
            let creds =
                load_selected_deployment_credentials(ctx, &selection, LoadOptions::default())
                    .await?;
            Target {
                url: creds.url,
                admin_key: Some(creds.admin_key),
            }
        }
    };
    output::success(&format!("Deployment URL: {}", target.url));
    let url = reqwest::Url::parse(&target.url).map_err(|e| {
        fail(format!(
            "FAIL: the deployment URL {} is not a URL ({e}).",
            target.url
        ))
    })?;
    let host = url
        .host_str()
        .ok_or_else(|| {
            fail(format!(
                "FAIL: the deployment URL {} has no host.",
                target.url
            ))
        })?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();

    check_dns(&host).await?;
    let family = args.ip_family.as_deref().unwrap_or("auto");
    match url.scheme() {
        "http" => check_tcp(&host, url.port().unwrap_or(80), family).await?,
        "https" => {
            check_tcp(&host, url.port().unwrap_or(443), family).await?;
            if url.port().is_none() {
                check_tcp(&host, 80, family).await?;
            }
        }
        other => {
            return Err(fail(format!(
                "FAIL: the deployment URL has the unknown protocol {other}:."
            )));
        }
    }
    check_http(ctx, &url).await?;
    match &target.admin_key {
        Some(key) => check_websocket(ctx, &target.url, key).await?,
        None => output::warning("Skipping the WebSocket check: no admin key was given."),
    }
    check_echo(ctx, &target.url, 128).await?;
    check_echo(ctx, &target.url, 4 * 1024 * 1024).await?;
    if args.speed_test {
        check_echo(ctx, &target.url, 64 * 1024 * 1024).await?;
    }
    output::success("Network test passed.");
    Ok(())
}

fn ok_line(text: &str) {
    output::message(&format!("{} OK: {text}", style::green("✔")));
}

fn elapsed_ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

async fn check_dns(host: &str) -> Result<()> {
    let start = Instant::now();
    let first = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| e.to_string())
        .and_then(|mut addrs| addrs.next().ok_or_else(|| "no address".to_string()));
    match first {
        Ok(addr) => {
            ok_line(&format!(
                "DNS lookup => {}:{} ({})",
                addr.ip(),
                if addr.is_ipv4() { "ipv4" } else { "ipv6" },
                format_duration(elapsed_ms(start))
            ));
            Ok(())
        }
        Err(e) => Err(fail(format!("FAIL: DNS lookup of {host} ({e})"))),
    }
}

async fn check_tcp(host: &str, port: u16, family: &str) -> Result<()> {
    let label = if family == "auto" {
        "TCP".to_string()
    } else {
        format!("TCP/{family} {host}:{port}")
    };
    let start = Instant::now();
    let result = async {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await?
            .filter(|a| match family {
                "ipv4" => a.is_ipv4(),
                "ipv6" => a.is_ipv6(),
                _ => true,
            })
            .collect();
        if addrs.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no {family} address for {host}"),
            ));
        }
        let stream = tokio::net::TcpStream::connect(&addrs[..]).await?;
        let _ = stream.set_nodelay(true);
        Ok::<_, std::io::Error>(())
    }
    .await;
    match result {
        Ok(()) => {
            ok_line(&format!(
                "{label} connect ({})",
                format_duration(elapsed_ms(start))
            ));
            Ok(())
        }
        Err(e) => Err(fail(format!("FAIL: {label} connect ({e})"))),
    }
}

async fn check_http(ctx: &Context, url: &reqwest::Url) -> Result<()> {
    if url.scheme() == "https" {
        let mut plain = url.clone();
        let _ = plain.set_scheme("http");
        let _ = plain.set_port(Some(80));
        check_http_once(ctx, "HTTP", &plain, false).await?;
        check_http_once(ctx, "HTTPS", url, true).await
    } else {
        check_http_once(ctx, "HTTP", url, true).await
    }
}

/// `GET /instance_name` must answer 200; without following redirects a 301
/// passes too (plain HTTP in front of an HTTPS deployment).
async fn check_http_once(
    ctx: &Context,
    name: &str,
    base: &reqwest::Url,
    follow_redirects: bool,
) -> Result<()> {
    let start = Instant::now();
    let url = base
        .join("/instance_name")
        .map_err(|e| fail(e.to_string()))?;
    let request = DeploymentRequest::bare(reqwest::Method::GET, "/instance_name")
        .follow_redirects(follow_redirects);
    let client = DeploymentClient::new(ctx.http()?, base.as_str(), "");
    let outcome = match client.send(&request).await {
        Ok(resp) if resp.status().as_u16() == 200 => Ok(()),
        Ok(resp) => Err(format!(
            "Error: Unexpected status code: {}",
            resp.status().as_u16()
        )),
        Err(FetchError::Status(s)) if !follow_redirects && s.status == 301 => Ok(()),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(()) => {
            ok_line(&format!(
                "{name} check ({})",
                format_duration(elapsed_ms(start))
            ));
            Ok(())
        }
        Err(e) => Err(fail(format!("FAIL: {name} check of {url} ({e})"))),
    }
}

async fn check_websocket(ctx: &Context, url: &str, admin_key: &str) -> Result<()> {
    let client = crate::sync::SyncClient::new(ctx.http()?, url).with_admin_auth(admin_key, None);
    let mut subscription = client
        .subscribe(crate::sync::Query::new(
            "_system/cli/convexUrl:cloudUrl",
            serde_json::json!({}),
        ))
        .await
        .map_err(|e| {
            fail(format!(
                "FAIL: Failed to connect to deployment over WebSocket ({e})."
            ))
        })?;
    let answer = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let update = subscription.next().await?;
            if update.value.is_string() {
                return Ok::<_, crate::sync::SyncError>(());
            }
        }
    })
    .await;
    match answer {
        Ok(Ok(())) => {
            ok_line("WebSocket connection established.");
            // Left open, as the official CLI leaves its client, until the
            // process ends.
            std::mem::forget(subscription);
            Ok(())
        }
        Ok(Err(e)) => Err(fail(format!(
            "FAIL: Failed to connect to deployment over WebSocket ({e})."
        ))),
        Err(_) => Err(fail(
            "FAIL: Failed to connect to deployment over WebSocket (no answer within 10 s).",
        )),
    }
}

/// `POST /echo` of `size` random bytes; the same bytes must come back.
async fn check_echo(ctx: &Context, url: &str, size: usize) -> Result<()> {
    let start = Instant::now();
    let mut data = vec![0u8; size];
    getrandom::fill(&mut data).map_err(|e| fail(format!("Could not make random data: {e}")))?;
    let client = DeploymentClient::new(ctx.http()?, url, "");
    let mut request = DeploymentRequest::bare(reqwest::Method::POST, "/echo");
    request.body = Some(data.clone());
    let label = format_size(size as f64);
    let outcome = async {
        let resp = client.send(&request).await.map_err(|e| e.to_string())?;
        if resp.status().as_u16() != 200 {
            return Err(format!(
                "Error: Unexpected status code: {}",
                resp.status().as_u16()
            ));
        }
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        if body.as_ref() != data.as_slice() {
            return Err("Error: Response data mismatch".into());
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => {
            let ms = elapsed_ms(start);
            let per_second = size as f64 / (ms / 1000.0);
            ok_line(&format!(
                "echo {label} ({}, {}/s)",
                format_duration(ms),
                format_size(per_second)
            ));
            Ok(())
        }
        Err(e) => Err(fail(format!("FAIL: echo {label} ({e})"))),
    }
}

/// `128 bytes`, `4 MiB`, `1.5 KiB`.
fn format_size(n: f64) -> String {
    const UNITS: [&str; 6] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if (value * 10.0).round() / 10.0 >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let formatted = format!("{value:.1}");
    let formatted = formatted.strip_suffix(".0").unwrap_or(&formatted);
    format!("{formatted} {}", UNITS[unit])
}

/// `356.68µs`, `25.9ms`, `1.5s`, `2m`: at most two decimals, en-US digit
/// grouping.
fn format_duration(ms: f64) -> String {
    let (value, unit) = if ms < 1e-3 {
        (ms * 1e6, "ns")
    } else if ms < 1.0 {
        (ms * 1e3, "µs")
    } else if ms < 1e3 {
        (ms, "ms")
    } else if ms / 1e3 < 60.0 {
        (ms / 1e3, "s")
    } else {
        (ms / 60e3, "m")
    };
    let rounded = format!("{value:.2}");
    let rounded = rounded.trim_end_matches('0').trim_end_matches('.');
    let (int, frac) = rounded.split_once('.').unwrap_or((rounded, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        format!("{grouped}{unit}")
    } else {
        format!("{grouped}.{frac}{unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_as_the_official_ones() {
        assert_eq!(format_size(128.0), "128 bytes");
        assert_eq!(format_size(4.0 * 1024.0 * 1024.0), "4 MiB");
        assert_eq!(format_size(1536.0), "1.5 KiB");
        assert_eq!(format_size(1023.99 * 1024.0), "1 MiB");
        assert_eq!(format_duration(0.35668), "356.68µs");
        assert_eq!(format_duration(25.9), "25.9ms");
        assert_eq!(format_duration(274.054), "274.05ms");
        assert_eq!(format_duration(1500.0), "1.5s");
        assert_eq!(format_duration(30_000.0), "30s");
        assert_eq!(format_duration(120_000.0), "2m");
        assert_eq!(format_duration(0.0000005), "0.5ns");
    }

    #[test]
    fn timeouts_parse_like_parse_float() {
        assert_eq!(js_parse_float("10"), Some(10.0));
        assert_eq!(js_parse_float(" 2.5s"), Some(2.5));
        assert_eq!(js_parse_float("1e3"), Some(1000.0));
        assert_eq!(js_parse_float("-3"), Some(-3.0));
        assert_eq!(js_parse_float(".5"), Some(0.5));
        assert_eq!(js_parse_float("abc"), None);
        assert_eq!(js_parse_float(""), None);
        assert_eq!(timeout_from("5").unwrap(), Duration::from_secs(5));
        assert_eq!(timeout_from("0").unwrap(), Duration::from_millis(1));
        assert_eq!(timeout_from("-1").unwrap(), Duration::from_millis(1));
        assert!(timeout_from("soon").is_err());
    }
}
