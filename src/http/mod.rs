//! The one HTTP client: management API (`/api/`, `/v1/`), deployment API,
//! version API, and any other download (local backend binaries).
//!
//! [`client_builder`] is the single place where proxies, extra CA
//! certificates, timeouts and the user agent are set; [`HttpClient`] wraps the
//! built client (one per process, so connections are reused). The API
//! clients on top of it:
//! - [`ManagementClient`]: `<CONVEX_PROVISION_HOST>/api/...` ("big brain") and
//!   `/v1/...` (platform API), `Authorization: Bearer`, retries on network
//!   errors only;
//! - [`DeploymentClient`]: `<deployment>/api/...`, `Authorization: Convex`,
//!   retries on network errors, 404 and failed idempotent requests;
//! - [`VersionClient`], for `<CONVEX_VERSION_API_ORIGIN>/v1/...`.
//!
//! Proxies, as the official CLI (Node + undici's `EnvHttpProxyAgent`):
//! proxying is on only when the upper-case `HTTPS_PROXY` or `HTTP_PROXY` is
//! non-empty; then `https://` targets use `https_proxy` ?? `HTTPS_PROXY` ??
//! the HTTP proxy, `http://` targets `http_proxy` ?? `HTTP_PROXY`, and hosts
//! in `no_proxy` ?? `NO_PROXY` are reached directly. Extra trusted roots come
//! from the PEM files in `SSL_CERT_FILE` and `NODE_EXTRA_CA_CERTS`.

mod deployment;
mod error;
mod management;
mod retry;
mod version;
pub mod websocket;

pub use deployment::{DeploymentClient, DeploymentRequest, RetryPolicy};
pub(crate) use error::describe as describe_error;
pub use error::{FetchError, StatusError};
pub use management::ManagementClient;
pub use retry::{MAX_RETRIES, delay_override, retry_delay};
pub use version::VersionClient;

use anyhow::{Context as _, Result};
use std::time::Duration;

use crate::env::Env;
use crate::env_vars;

/// Connection timeout: an unreachable host fails after this instead of the
/// operating system's minutes-long default (Node's undici uses 10 s too).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest silence while waiting for response headers or body bytes (Node's
/// undici default is 300 s for both). Tests shorten it with
/// `CONVEX_TEST_HTTP_TIMEOUT_MS`.
pub const READ_TIMEOUT: Duration = Duration::from_secs(300);

/// The value of the `Convex-Client` header: `npm-cli-1.48.0`, or
/// `npm-cli-$CONVEX_VERSION_OVERRIDE`.
pub fn convex_client_header(process_env: &Env) -> String {
    let version = process_env
        .non_empty(env_vars::CONVEX_VERSION_OVERRIDE)
        .unwrap_or(crate::REFERENCE_VERSION);
    format!("npm-cli-{version}")
}

/// The one `reqwest` client builder: proxy, extra CA certificates, timeouts
/// and user agent. `process_env` is the real process environment (proxy
/// settings are read at start-up, not from `.env.local`).
pub fn client_builder(process_env: &Env) -> Result<reqwest::ClientBuilder> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(read_timeout(process_env))
        .user_agent(format!("convex-cli-native/{}", crate::REFERENCE_VERSION))
        // Only our own proxy rule below, never reqwest's reading of the
        // lower-case variables on its own.
        .no_proxy();
    if let Some(proxy) = proxy_from_env(process_env)? {
        builder = builder.proxy(proxy);
    }
    for var in [env_vars::SSL_CERT_FILE, env_vars::NODE_EXTRA_CA_CERTS] {
        if let Some(path) = process_env.non_empty(var) {
            match load_pem_bundle(path) {
                Ok(certs) => builder = builder.tls_certs_merge(certs),
                Err(e) => crate::output::warning(&format!("Ignoring {var}={path}: {e:#}")),
            }
        }
    }
    Ok(builder)
}

/// Test hooks: `CONVEX_TEST_HTTP_TIMEOUT_MS` shortens the read timeout and
/// `CONVEX_TEST_RETRY_DELAY_MS` the retry delay.
fn read_timeout(process_env: &Env) -> Duration {
    let test_ms = |var| {
        process_env
            .non_empty(var)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_millis)
    };
    if let Some(delay) = test_ms(env_vars::CONVEX_TEST_RETRY_DELAY_MS) {
        retry::set_delay_override(delay);
    }
    test_ms(env_vars::CONVEX_TEST_HTTP_TIMEOUT_MS).unwrap_or(READ_TIMEOUT)
}

fn load_pem_bundle(path: &str) -> Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).with_context(|| format!("could not read {path}"))?;
    let certs =
        reqwest::Certificate::from_pem_bundle(&pem).context("not a PEM certificate bundle")?;
    Ok(certs)
}

/// The proxy rule of the official CLI, or `None` when proxying is off.
fn proxy_from_env(env: &Env) -> Result<Option<reqwest::Proxy>> {
    let rule = ProxyRule::from_env(env);
    let Some(rule) = rule else { return Ok(None) };
    let proxy = reqwest::Proxy::custom(move |url| rule.proxy_for(url));
    Ok(Some(proxy))
}

/// Which proxy (if any) a URL goes through.
#[derive(Debug, Clone)]
pub struct ProxyRule {
    http: Option<reqwest::Url>,
    https: Option<reqwest::Url>,
    no_proxy: Vec<(String, u16)>,
    no_proxy_all: bool,
}

impl ProxyRule {
    /// `None` unless `HTTPS_PROXY` or `HTTP_PROXY` (upper case) is non-empty.
    pub fn from_env(env: &Env) -> Option<ProxyRule> {
        if !env.is_truthy(env_vars::HTTPS_PROXY) && !env.is_truthy(env_vars::HTTP_PROXY) {
            return None;
        }
        let parse = |v: Option<&str>| -> Option<reqwest::Url> {
            let v = v.filter(|v| !v.is_empty())?;
            match reqwest::Url::parse(v) {
                Ok(u) => Some(u),
                Err(e) => {
                    crate::output::warning(&format!("Ignoring the proxy setting {v}: {e}"));
                    None
                }
            }
        };
        // `a ?? b`: the lower-case variable wins whenever it is present.
        let http_raw = env
            .get(env_vars::HTTP_PROXY_LOWER)
            .or(env.get(env_vars::HTTP_PROXY));
        let https_raw = env
            .get(env_vars::HTTPS_PROXY_LOWER)
            .or(env.get(env_vars::HTTPS_PROXY));
        let http = parse(http_raw);
        let https = parse(https_raw).or_else(|| http.clone());
        let no_proxy_value = env
            .get(env_vars::NO_PROXY_LOWER)
            .or(env.get(env_vars::NO_PROXY))
            .unwrap_or("");
        let mut no_proxy = Vec::new();
        for entry in no_proxy_value
            .split([',', ' ', '\t', '\n'])
            .filter(|e| !e.is_empty())
        {
            let (host, port) = match entry.rsplit_once(':') {
                Some((h, p))
                    if !h.is_empty() && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    (h, p.parse().unwrap_or(0))
                }
                _ => (entry, 0),
            };
            let host = host
                .strip_prefix("*.")
                .or_else(|| host.strip_prefix('.'))
                .unwrap_or(host);
            no_proxy.push((host.to_ascii_lowercase(), port));
        }
        Some(ProxyRule {
            http,
            https,
            no_proxy_all: no_proxy_value == "*",
            no_proxy,
        })
    }

    /// The proxy for this URL, or `None` to connect directly.
    pub fn proxy_for(&self, url: &reqwest::Url) -> Option<reqwest::Url> {
        let host = url
            .host_str()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = url.port_or_known_default().unwrap_or(0);
        if self.no_proxy_all {
            return None;
        }
        for (entry, entry_port) in &self.no_proxy {
            if *entry_port != 0 && *entry_port != port {
                continue;
            }
            if host == *entry || host.ends_with(&format!(".{entry}")) {
                return None;
            }
        }
        if url.scheme() == "https" {
            self.https.clone()
        } else {
            self.http.clone()
        }
    }
}

/// The process-wide HTTP client (cheap to clone; shares connection pools).
///
/// Two `reqwest` clients, each built on first use: one for plain `http://`
/// targets, without a TLS root store, and one for everything else, with the
/// platform's roots plus `SSL_CERT_FILE` / `NODE_EXTRA_CA_CERTS`. Loading the
/// platform roots reads every file in the system certificate folder (tens of
/// milliseconds), which a local backend or a loopback test server never
/// needs. Both keep connections alive with `TCP_NODELAY` on.
#[derive(Clone)]
pub struct HttpClient {
    plain: std::sync::Arc<std::sync::OnceLock<reqwest::Client>>,
    tls: std::sync::Arc<std::sync::OnceLock<reqwest::Client>>,
    proxy_rule: Option<ProxyRule>,
    process_env: std::sync::Arc<Env>,
    convex_client: String,
    interactive: bool,
    agent_mode: Option<String>,
    websocket_tls: std::sync::Arc<std::sync::OnceLock<std::sync::Arc<rustls::ClientConfig>>>,
}

impl HttpClient {
    /// Build from the real process environment. Fails when the proxy
    /// settings cannot be used.
    pub fn new(process_env: &Env) -> Result<HttpClient> {
        let plain = plain_client(process_env)?;
        Ok(HttpClient {
            plain: std::sync::Arc::new(std::sync::OnceLock::from(plain)),
            tls: Default::default(),
            proxy_rule: ProxyRule::from_env(process_env),
            process_env: std::sync::Arc::new(process_env.clone()),
            convex_client: convex_client_header(process_env),
            interactive: crate::output::stdin_is_terminal(),
            agent_mode: process_env
                .non_empty(env_vars::CONVEX_AGENT_MODE)
                .map(str::to_string),
            websocket_tls: Default::default(),
        })
    }

    /// The client for any URL (downloads and other plain requests): the one
    /// with TLS.
    pub fn reqwest(&self) -> &reqwest::Client {
        self.tls.get_or_init(|| {
            client_builder(&self.process_env)
                .and_then(|b| Ok(b.build()?))
                .unwrap_or_else(|e| {
                    crate::output::warning(&format!(
                        "Could not load the system's trusted certificates ({e:#}); \
                         HTTPS requests will fail. Set SSL_CERT_FILE to a PEM bundle to fix this."
                    ));
                    self.plain.get().cloned().unwrap_or_default()
                })
        })
    }

    /// The client for a request to `url`: plain `http://` (not through an
    /// HTTPS proxy) skips the TLS set-up.
    pub fn reqwest_for(&self, url: &str) -> &reqwest::Client {
        if self.needs_tls(url) {
            return self.reqwest();
        }
        self.plain.get_or_init(|| {
            plain_client(&self.process_env).unwrap_or_else(|_| reqwest::Client::new())
        })
    }

    fn needs_tls(&self, url: &str) -> bool {
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return true;
        };
        if parsed.scheme() != "http" {
            return true;
        }
        self.proxy_rule
            .as_ref()
            .and_then(|rule| rule.proxy_for(&parsed))
            .is_some_and(|proxy| proxy.scheme() != "http")
    }

    /// A client like [`HttpClient::reqwest`] (same builder) that does not
    /// follow redirects, for the one check that wants to see a 301
    /// (`network-test`). Built on each call: it is needed once per run.
    pub fn reqwest_without_redirects(&self) -> Result<reqwest::Client> {
        Ok(client_builder(&self.process_env)?
            .redirect(reqwest::redirect::Policy::none())
            .build()?)
    }

    /// The `Convex-Client` header value.
    pub fn convex_client(&self) -> &str {
        &self.convex_client
    }

    /// The TLS settings for WebSockets (built on first use, then shared).
    fn websocket_tls_config(&self) -> Result<std::sync::Arc<rustls::ClientConfig>> {
        if let Some(config) = self.websocket_tls.get() {
            return Ok(config.clone());
        }
        let config = websocket::build_tls_config(&self.process_env)?;
        Ok(self.websocket_tls.get_or_init(|| config).clone())
    }
}

/// [`client_builder`] without any trusted root: for `http://` only.
fn plain_client(process_env: &Env) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(read_timeout(process_env))
        .user_agent(format!("convex-cli-native/{}", crate::REFERENCE_VERSION))
        .no_proxy()
        .tls_certs_only(std::iter::empty::<reqwest::Certificate>());
    if let Some(proxy) = proxy_from_env(process_env)? {
        builder = builder.proxy(proxy);
    }
    builder.build().context("Could not set up the HTTP client")
}

/// Percent-encode a query or path component as JavaScript's
/// `encodeURIComponent` does.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> reqwest::Url {
        reqwest::Url::parse(s).unwrap()
    }

    #[test]
    fn proxy_only_with_upper_case_variables() {
        assert!(ProxyRule::from_env(&Env::from_pairs([("https_proxy", "http://p:1")])).is_none());
        assert!(ProxyRule::from_env(&Env::from_pairs([("HTTPS_PROXY", "")])).is_none());
        let rule = ProxyRule::from_env(&Env::from_pairs([
            ("HTTPS_PROXY", "http://guard:3128"),
            ("NO_PROXY", "127.0.0.1,localhost"),
        ]))
        .unwrap();
        assert_eq!(
            rule.proxy_for(&url("https://github.com/x")),
            Some(url("http://guard:3128"))
        );
        assert_eq!(rule.proxy_for(&url("http://127.0.0.1:8000/api")), None);
        assert_eq!(rule.proxy_for(&url("http://localhost:8000/api")), None);
        // http targets use HTTP_PROXY only.
        assert_eq!(rule.proxy_for(&url("http://example.test/")), None);
    }

    #[test]
    fn no_proxy_suffixes_and_ports() {
        let rule = ProxyRule::from_env(&Env::from_pairs([
            ("HTTP_PROXY", "http://p:1"),
            ("no_proxy", ".example.test, other.test:8080"),
            ("NO_PROXY", "ignored.test"),
        ]))
        .unwrap();
        assert_eq!(rule.proxy_for(&url("https://a.example.test/")), None);
        assert_eq!(rule.proxy_for(&url("https://example.test/")), None);
        assert_eq!(rule.proxy_for(&url("http://other.test:8080/")), None);
        assert_eq!(
            rule.proxy_for(&url("http://other.test:9090/")),
            Some(url("http://p:1"))
        );
        // https falls back to the HTTP proxy.
        assert_eq!(
            rule.proxy_for(&url("https://ignored.test/")),
            Some(url("http://p:1"))
        );
        let all = ProxyRule::from_env(&Env::from_pairs([
            ("HTTP_PROXY", "http://p:1"),
            ("NO_PROXY", "*"),
        ]))
        .unwrap();
        assert_eq!(all.proxy_for(&url("http://x/")), None);
    }

    #[test]
    fn tls_only_where_needed() {
        let direct = HttpClient::new(&Env::default()).unwrap();
        assert!(!direct.needs_tls("http://127.0.0.1:3210/api/x"));
        assert!(!direct.needs_tls("http://example.test/"));
        assert!(direct.needs_tls("https://api.convex.dev/api/x"));
        assert!(direct.needs_tls("not a url"));
        // No client with roots is built for plain http.
        direct.reqwest_for("http://127.0.0.1:3210/");
        assert!(direct.tls.get().is_none());
        direct.reqwest_for("https://api.convex.dev/");
        assert!(direct.tls.get().is_some());

        let through_tls_proxy = HttpClient::new(&Env::from_pairs([
            ("HTTP_PROXY", "https://guard:3128"),
            ("NO_PROXY", "localhost"),
        ]))
        .unwrap();
        assert!(through_tls_proxy.needs_tls("http://example.test/"));
        assert!(!through_tls_proxy.needs_tls("http://localhost:3210/"));
        let through_plain_proxy =
            HttpClient::new(&Env::from_pairs([("HTTP_PROXY", "http://guard:3128")])).unwrap();
        assert!(!through_plain_proxy.needs_tls("http://example.test/"));
    }

    #[test]
    fn client_header() {
        assert_eq!(convex_client_header(&Env::default()), "npm-cli-1.48.0");
        assert_eq!(
            convex_client_header(&Env::from_pairs([("CONVEX_VERSION_OVERRIDE", "9.9.9")])),
            "npm-cli-9.9.9"
        );
    }

    #[test]
    fn encodes_like_encode_uri_component() {
        assert_eq!(encode_component("dev/james"), "dev%2Fjames");
        assert_eq!(encode_component("a:b:c:d"), "a%3Ab%3Ac%3Ad");
        assert_eq!(encode_component("x y~'()*!"), "x%20y~'()*!");
    }
}
