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
#[cfg(test)]
use serde_json::Value;

use super::TailLogs;
use crate::data_plane::logs::{History, LogOptions, watch_logs};
use crate::http::DeploymentClient;

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

/// Poll and print (stderr) until a fatal error (403: the admin key may not
/// read logs). The stream itself is [`crate::data_plane::logs`].
pub async fn tail_logs(client: DeploymentClient, manager: Arc<LogManager>) -> Result<()> {
    let options = LogOptions {
        history: History::None,
        success: false,
        jsonl: false,
        color: true,
    };
    watch_logs(&client, options, crate::output::message, || {
        manager.wait_until_unpaused()
    })
    .await
}

/// The lines for a batch of function executions (see the spec, §8.6).
#[cfg(test)]
pub fn format_entries(entries: &[Value]) -> Vec<String> {
    crate::data_plane::logs::format_entries(
        entries,
        &LogOptions {
            history: History::None,
            success: false,
            jsonl: false,
            color: true,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::dev::locale_string;
    use crate::jsfmt::js_number_to_string as js_number;
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
