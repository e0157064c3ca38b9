//! `--tail-logs`: the function-log long poll
//! (`GET /api/stream_function_logs?cursor=N`) and its lines on stderr.
//!
//! The first answer only establishes the head (its entries are dropped);
//! each later request sends the previous `newCursor`. In `pause-on-deploy`
//! mode a batch waits while a push is in progress (and after a failed push,
//! until the next success).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use reqwest::Method;
use serde_json::Value;

use super::TailLogs;
use super::timefmt::locale_string;
use crate::http::{DeploymentClient, DeploymentRequest, FetchError};
use crate::output::style;

/// Consecutive failures after which each retry is announced.
const QUIET_FAILURES: u32 = 5;

/// Whether log lines may be printed now (see the module docs).
pub struct LogManager {
    mode: TailLogs,
    paused: AtomicBool,
    resumed: tokio::sync::Notify,
}

impl LogManager {
    pub fn new(mode: TailLogs) -> Arc<LogManager> {
        Arc::new(LogManager {
            mode,
            paused: AtomicBool::new(false),
            resumed: tokio::sync::Notify::new(),
        })
    }

    /// A push starts.
    pub fn begin_deploy(&self) {
        if self.mode == TailLogs::PauseOnDeploy {
            self.paused.store(true, Ordering::SeqCst);
        }
    }

    /// A push succeeded.
    pub fn end_deploy(&self) {
        if self.mode == TailLogs::PauseOnDeploy {
            self.paused.store(false, Ordering::SeqCst);
            self.resumed.notify_waiters();
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    async fn wait_until_unpaused(&self) {
        loop {
            let resumed = self.resumed.notified();
            if !self.is_paused() {
                return;
            }
            resumed.await;
        }
    }
}

/// Poll and print until a fatal error (403: the admin key may not read
/// logs). Other failures are retried with the loop's backoff.
pub async fn tail_logs(client: DeploymentClient, manager: Arc<LogManager>) -> Result<()> {
    let mut cursor: f64 = 0.0;
    let mut first = true;
    let mut failures: u32 = 0;
    loop {
        match poll(&client, cursor).await {
            Ok((entries, new_cursor)) => {
                cursor = new_cursor;
                failures = 0;
                manager.wait_until_unpaused().await;
                if first {
                    first = false;
                } else {
                    for line in format_entries(&entries) {
                        crate::output::message(&line);
                    }
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
            let backoff = super::watch_loop::next_backoff(failures);
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

async fn poll(client: &DeploymentClient, cursor: f64) -> Result<(Vec<Value>, f64), FetchError> {
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

/// A number as JavaScript prints it in a template string (no `.0`).
fn js_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The lines for a batch of function executions (see the spec, §8.6).
pub fn format_entries(entries: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
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
            out.push(format_line(timestamp_ms, &kind, identifier, line));
        }
        if let Some(error) = entry.get("error").and_then(Value::as_str)
            && !error.is_empty()
        {
            out.push(style::red(&format!(
                "{} {error}",
                prefix(timestamp_ms, &kind, identifier)
            )));
        }
    }
    out
}

fn prefix(timestamp_ms: f64, kind: &str, identifier: &str) -> String {
    format!(
        "{} [CONVEX {kind}({identifier})]",
        locale_string(timestamp_ms)
    )
}

fn format_line(timestamp_ms: f64, kind: &str, identifier: &str, line: &Value) -> String {
    match line {
        Value::String(text) => {
            // Legacy `"[LEVEL] message"` lines.
            let parsed = text
                .strip_prefix('[')
                .and_then(|rest| rest.find("] ").map(|end| (&rest[..end], &rest[end + 2..])));
            match parsed {
                Some((level, message)) => format!(
                    "{} {message}",
                    style::cyan(&format!(
                        "{} [{level}]",
                        prefix(timestamp_ms, kind, identifier)
                    ))
                ),
                None => style::red(&format!(
                    "[CONVEX {kind}({identifier})] Could not parse console.log"
                )),
            }
        }
        structured => {
            let level = structured
                .get("level")
                .and_then(Value::as_str)
                .unwrap_or("LOG");
            let line_ms = structured
                .get("timestamp")
                .and_then(Value::as_f64)
                .unwrap_or(timestamp_ms);
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
                style::cyan(&format!("{} [{level}]", prefix(line_ms, kind, identifier))),
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
    use std::time::Duration;

    #[test]
    fn lines_as_the_reference_prints_them() {
        // TZ-independent: compare against our own locale formatting.
        let t = |ms: f64| locale_string(ms);
        let entries = vec![
            json!({
                "identifier": "hello.js:hello", "udfType": "Query", "timestamp": 1764183000.0,
                "kind": "Completion",
                "logLines": [
                    {"messages": ["'hello from query'", "42"], "level": "LOG", "timestamp": 1764183000000.0, "isTruncated": false},
                    {"messages": ["'warned'"], "level": "WARN", "timestamp": 1764183000500.0, "isTruncated": true}
                ]
            }),
            json!({
                "identifier": "tasks.js:add", "udfType": "Mutation", "timestamp": 1764183001.0,
                "logLines": ["[LOG] 'legacy string line'", "no level here"],
                "error": "Uncaught Error: boom\n    at handler (../convex/tasks.ts:5:9)"
            }),
            json!({"identifier": "quiet.js:q", "udfType": "Action", "timestamp": 1.0, "logLines": []}),
            json!({"identifier": "nolines.js:q", "udfType": "Action", "timestamp": 1.0}),
        ];
        let lines = format_entries(&entries);
        assert_eq!(
            lines,
            vec![
                format!(
                    "{} [CONVEX Q(hello.js:hello)] [LOG] 'hello from query' 42",
                    t(1764183000000.0)
                ),
                format!(
                    "{} [CONVEX Q(hello.js:hello)] [WARN] 'warned' (truncated due to length)",
                    t(1764183000500.0)
                ),
                format!(
                    "{} [CONVEX M(tasks.js:add)] [LOG] 'legacy string line'",
                    t(1764183001000.0)
                ),
                "[CONVEX M(tasks.js:add)] Could not parse console.log".to_string(),
                format!(
                    "{} [CONVEX M(tasks.js:add)] Uncaught Error: boom\n    at handler (../convex/tasks.ts:5:9)",
                    t(1764183001000.0)
                ),
            ]
        );
    }

    #[test]
    fn cursor_in_the_query_string() {
        assert_eq!(js_number(0.0), "0");
        assert_eq!(js_number(1764183000123.0), "1764183000123");
        assert_eq!(js_number(1.5), "1.5");
    }

    #[tokio::test]
    async fn pause_on_deploy_holds_lines_until_success() {
        let manager = LogManager::new(TailLogs::PauseOnDeploy);
        manager.begin_deploy();
        let waiter = {
            let manager = manager.clone();
            tokio::spawn(async move { manager.wait_until_unpaused().await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        manager.end_deploy();
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
        let always = LogManager::new(TailLogs::Always);
        always.begin_deploy();
        assert!(!always.is_paused());
    }
}
