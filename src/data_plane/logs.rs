//! The function-log stream: the long poll `GET /api/stream_function_logs?
//! cursor=N` and the lines the official CLI prints for its entries. Used by
//! `convex logs` (stdout) and `dev --tail-logs` (stderr).
//!
//! The first answer establishes the head: its entries are printed only with
//! a history (`--history [n]`: the last `n`, or all). Later answers are
//! printed whole. Failures are retried with `dev`'s backoff (announced after
//! 5 in a row), except a 403 (the admin key may not read logs), which ends
//! the stream.

use std::time::Duration;

use anyhow::Result;
use reqwest::Method;
use serde_json::Value;

use crate::http::{DeploymentClient, DeploymentRequest, FetchError};
use crate::jsfmt::js_number_to_string as js_number;
use crate::output::style;
use crate::values::{JsValue, stringify};

/// Consecutive failures after which each retry is announced.
const QUIET_FAILURES: u32 = 5;

/// How much of the first answer to print.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum History {
    /// Nothing (only what happens from now on).
    None,
    /// Everything the deployment still has.
    All,
    /// The last `n` entries.
    Last(f64),
}

/// What to print.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogOptions {
    pub history: History,
    /// A line for every successful execution.
    pub success: bool,
    /// The raw entries as JSON lines.
    pub jsonl: bool,
    /// ANSI colours in the lines.
    pub color: bool,
}

/// Delay before the next attempt after `failures` consecutive failures:
/// `min(500 ms · 2^n, 16 s)`, times a random factor in [0.5, 1.5) (the
/// official `nextBackoff`).
pub fn next_backoff(failures: u32) -> Duration {
    if let Some(d) = crate::http::delay_override() {
        return d;
    }
    let base = 500.0 * 2f64.powi(failures.min(16) as i32);
    let capped = base.min(16_000.0);
    Duration::from_millis((capped * (0.5 + fastrand::f64())) as u64)
}

/// One poll: the entries and the next cursor.
pub async fn poll(client: &DeploymentClient, cursor: f64) -> Result<(Vec<Value>, f64), FetchError> {
    let request = DeploymentRequest::new(
        Method::GET,
        &format!("/api/stream_function_logs?cursor={}", js_number(cursor)),
    );
    let answer = client.send_json(&request).await?.unwrap_or(Value::Null);
    let entries = answer
        .get("entries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let new_cursor = answer
        .get("newCursor")
        .and_then(Value::as_f64)
        .unwrap_or(cursor);
    Ok((entries, new_cursor))
}

/// Poll forever, handing each printable line to `write`. `before_print` is
/// awaited before a batch is printed (`dev` pauses logs during a push).
/// Ends only with a 403.
pub async fn watch_logs<W, P, F>(
    client: &DeploymentClient,
    options: LogOptions,
    mut write: W,
    mut before_print: P,
) -> Result<()>
where
    W: FnMut(&str),
    P: FnMut() -> F,
    F: std::future::Future<Output = ()>,
{
    let mut cursor: f64 = 0.0;
    let mut first = true;
    let mut failures: u32 = 0;
    loop {
        match poll(client, cursor).await {
            Ok((entries, new_cursor)) => {
                cursor = new_cursor;
                failures = 0;
                before_print().await;
                let batch: &[Value] = if first {
                    first = false;
                    match options.history {
                        History::None => &[],
                        History::All => &entries,
                        History::Last(n) if n > 0.0 => {
                            let start = (entries.len() as f64 - n).trunc();
                            let start = if start < 0.0 { 0 } else { start as usize };
                            &entries[start.min(entries.len())..]
                        }
                        History::Last(_) => &[],
                    }
                } else {
                    &entries
                };
                for line in format_entries(batch, &options) {
                    write(&line);
                }
            }
            Err(FetchError::Status(status)) if status.status == 403 => {
                return Err(FetchError::Status(status).into());
            }
            Err(e) => {
                crate::output::verbose(&format!("Fetching function logs failed: {e}"));
                failures += 1;
            }
        }
        if failures > 0 {
            let backoff = next_backoff(failures);
            if failures > QUIET_FAILURES {
                crate::output::warning(&format!(
                    "Convex [WARN] Failed to fetch logs. Waiting {}ms before next retry.",
                    backoff.as_millis()
                ));
            }
            tokio::time::sleep(backoff).await;
        }
    }
}

fn paint(color: bool, f: fn(&str) -> String, text: &str) -> String {
    if color { f(text) } else { text.to_string() }
}

/// The lines for a batch of function executions.
pub fn format_entries(entries: &[Value], options: &LogOptions) -> Vec<String> {
    let mut out = Vec::new();
    if options.jsonl {
        for entry in entries {
            out.push(stringify(&JsValue::from_serde(entry), 0));
        }
        return out;
    }
    let c = options.color;
    for entry in entries {
        let Some(lines) = entry.get("logLines").and_then(Value::as_array) else {
            continue;
        };
        let identifier = entry
            .get("identifier")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = entry
            .get("udfType")
            .and_then(Value::as_str)
            .and_then(|t| t.chars().next())
            .map(String::from)
            .unwrap_or_default();
        let timestamp_ms = entry
            .get("timestamp")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
            * 1000.0;
        for line in lines {
            out.push(format_line(timestamp_ms, &kind, identifier, line, c));
        }
        let error = entry.get("error").filter(|e| match e {
            Value::Null | Value::Bool(false) => false,
            Value::String(s) => !s.is_empty(),
            Value::Number(n) => n.as_f64() != Some(0.0),
            _ => true,
        });
        if let Some(error) = error {
            let text = match error {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push(paint(
                c,
                style::red,
                &format!("{} {text}", prefix(timestamp_ms, &kind, identifier)),
            ));
        } else if options.success && entry.get("kind").and_then(Value::as_str) == Some("Completion")
        {
            let execution_ms = entry
                .get("executionTime")
                .and_then(Value::as_f64)
                .map_or(f64::NAN, |s| s * 1000.0);
            out.push(paint(
                c,
                style::green,
                &format!(
                    "{} Function executed in {} ms",
                    prefix(timestamp_ms, &kind, identifier),
                    js_number(execution_ms.ceil())
                ),
            ));
        }
    }
    out
}

fn prefix(timestamp_ms: f64, kind: &str, identifier: &str) -> String {
    format!(
        "{} [CONVEX {kind}({identifier})]",
        crate::commands::dev::locale_string(timestamp_ms)
    )
}

fn format_line(timestamp_ms: f64, kind: &str, identifier: &str, line: &Value, c: bool) -> String {
    match line {
        Value::String(text) => {
            // Legacy `"[LEVEL] message"` lines: `^\[.*?\] ` on the first line.
            let first_line_end = text.find(['\n', '\r']).unwrap_or(text.len());
            let parsed = text[..first_line_end]
                .strip_prefix('[')
                .and_then(|rest| rest.find("] ").map(|end| (&rest[..end], &text[end + 3..])));
            match parsed {
                Some((level, message)) => format!(
                    "{} {message}",
                    paint(
                        c,
                        style::cyan,
                        &format!("{} [{level}]", prefix(timestamp_ms, kind, identifier))
                    )
                ),
                None => paint(
                    c,
                    style::red,
                    &format!("[CONVEX {kind}({identifier})] Could not parse console.log"),
                ),
            }
        }
        structured => {
            let level = match structured.get("level") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => "undefined".into(),
            };
            let line_ms = structured
                .get("timestamp")
                .and_then(Value::as_f64)
                .unwrap_or(f64::NAN);
            let messages: Vec<String> = structured
                .get("messages")
                .and_then(Value::as_array)
                .map(|m| {
                    m.iter()
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let truncated = structured
                .get("isTruncated")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            format!(
                "{} {}{}",
                paint(
                    c,
                    style::cyan,
                    &format!("{} [{level}]", prefix(line_ms, kind, identifier))
                ),
                messages.join(" "),
                if truncated {
                    " (truncated due to length)"
                } else {
                    ""
                }
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(success: bool, jsonl: bool) -> LogOptions {
        LogOptions {
            history: History::None,
            success,
            jsonl,
            color: false,
        }
    }

    #[test]
    fn lines_as_the_official_cli_prints_them() {
        let t = crate::commands::dev::locale_string;
        let entries = vec![
            json!({"identifier": "notes:pin", "udfType": "Mutation", "timestamp": 1767600010.0,
                   "kind": "Completion", "executionTime": 0.0123,
                   "logLines": ["[WARN] 'no such note'"], "error": "Uncaught Error: x"}),
            json!({"identifier": "tags:forNote", "udfType": "Query", "timestamp": 1767600011.75,
                   "kind": "Completion", "executionTime": 0.0123, "logLines": [], "error": null}),
            json!({"identifier": "d:f", "udfType": "Action", "timestamp": 1767600002.0, "kind": "Progress",
                   "logLines": [{"messages": ["'hashing'", "42"], "isTruncated": true, "timestamp": 1767600002000.0, "level": "DEBUG"}]}),
        ];
        let lines = format_entries(&entries, &opts(true, false));
        assert_eq!(
            lines,
            vec![
                format!(
                    "{} [CONVEX M(notes:pin)] [WARN] 'no such note'",
                    t(1767600010000.0)
                ),
                format!(
                    "{} [CONVEX M(notes:pin)] Uncaught Error: x",
                    t(1767600010000.0)
                ),
                format!(
                    "{} [CONVEX Q(tags:forNote)] Function executed in 13 ms",
                    t(1767600011750.0)
                ),
                format!(
                    "{} [CONVEX A(d:f)] [DEBUG] 'hashing' 42 (truncated due to length)",
                    t(1767600002000.0)
                ),
            ]
        );
        assert_eq!(format_entries(&entries, &opts(false, false)).len(), 3);
        let jsonl = format_entries(&entries[1..2], &opts(false, true));
        assert_eq!(
            jsonl,
            vec![
                r#"{"identifier":"tags:forNote","udfType":"Query","timestamp":1767600011.75,"kind":"Completion","executionTime":0.0123,"logLines":[],"error":null}"#
            ]
        );
    }
}
