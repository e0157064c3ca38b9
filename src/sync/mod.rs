//! The Convex sync protocol (queries over a WebSocket), as the official CLI
//! uses it through its browser client (`runSystemQuery` / `subscribe` in
//! `src/cli/lib/run.ts`). The one implementation: `env list` / `env get`,
//! `data`, `function-spec`, the "Available functions" list of `run`,
//! `run --watch`, export/import status, `network-test` and the MCP tools
//! call it. Do not write a second one.
//!
//! # API
//!
//! ```ignore
//! let client = SyncClient::new(ctx.http()?, &deployment.url)
//!     .with_admin_auth(&deployment.admin_key, None);
//! // One answer (`runSystemQuery`): subscribe, first result, unsubscribe, close.
//! let vars = client.query(&Query::new("_system/cli/queryEnvironmentVariables", json!({}))).await?;
//! // Every page of a paginated system query (`runSystemPaginatedQuery`),
//! // one connection per page, `limit` documents at most.
//! let docs = client
//!     .paginated_query(&Query::new("_system/cli/tableData", json!({"table": "t"})).component(Some("")), Some(101))
//!     .await?;
//! // A live subscription (`run --watch`): each new value as it arrives;
//! // reconnects (with the official backoff) for as long as it lives.
//! let mut sub = client.subscribe(Query::new("notes:list", json!({}))).await?;
//! while let Ok(update) = sub.next().await { /* update.value */ }
//! sub.close().await;
//! ```
//!
//! - [`SyncClient::with_admin_auth`] is `setAdminAuth(adminKey, identity)`:
//!   `identity` is the fake user identity to act as (`run --identity`), sent
//!   as `impersonating`.
//! - [`Query::component`] sets `componentPath`; `None` leaves the field out
//!   (as the official client does for `undefined`), `Some("")` is the root
//!   app.
//! - Query arguments and results are Convex-encoded JSON (`$integer`,
//!   `$bytes`, `$float` objects): see [`crate::values`] to read and print
//!   them.
//! - Errors are [`SyncError`]s: a query that threw on the server
//!   ([`SyncError::QueryFailed`]), a socket that could not be opened or kept
//!   open, a fatal protocol error. They read as sentences; callers add the
//!   step ("Could not list the tables").
//!
//! # Wire behaviour
//!
//! Messages, fields and order are the official client's: on every socket
//! `Connect` (the same random `sessionId` for the client's life, counting
//! connections, the last close reason), `Authenticate` (admin key), then one
//! `ModifyQuerySet` adding the query; after the answer of a one-shot query,
//! a `ModifyQuerySet` removing it and a close. The URL is
//! `ws(s)://<deployment>/api/1.48.0/sync`. The socket goes through the HTTP
//! client's proxy and TLS settings ([`crate::http::websocket`]).
//!
//! Reconnecting: a socket that fails or closes is reopened after the
//! official backoff (100 ms after a client-side problem, 1 s or the
//! server's error-specific delay otherwise, doubling per failure up to 16 s,
//! ±50 % jitter), and after 60 s without any server message. A live
//! subscription retries for as long as it lives; a one-shot query gives up
//! after [`ONE_SHOT_ATTEMPTS`] failed sockets (the official CLI retries
//! forever, printing to stdout) and an upgrade answered with a 4xx other than
//! 404/408/429 fails at once.

pub mod protocol;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::http::HttpClient;
use crate::http::websocket::{self, ConnectError, WebSocket};
use protocol::{AddQuery, ChunkBuffer, Connect, QueryModification, ServerMessage};

/// Failed sockets a one-shot query tolerates before giving up.
pub const ONE_SHOT_ATTEMPTS: u32 = 5;
/// Silence after which a socket is considered dead (the official 60 s).
const SERVER_INACTIVITY: Duration = Duration::from_secs(60);
/// How long [`Subscription::close`] waits for the server's close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Longest backoff between two sockets.
const MAX_BACKOFF_MS: f64 = 16_000.0;

/// One query: function path, Convex-encoded JSON arguments, component.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub udf_path: String,
    pub args: Value,
    pub component_path: Option<String>,
}

impl Query {
    /// A query of `udf_path` (`module:function`, or `module` for its
    /// default export) with an argument object.
    pub fn new(udf_path: &str, args: Value) -> Query {
        Query {
            udf_path: udf_path.to_string(),
            args,
            component_path: None,
        }
    }

    /// Run in this component (`Some("")`: the root app, sent explicitly).
    pub fn component(mut self, component_path: Option<&str>) -> Query {
        self.component_path = component_path.map(str::to_string);
        self
    }
}

/// A new result of a subscribed query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryUpdate {
    /// Convex-encoded JSON.
    pub value: Value,
    /// The query's `console.*` lines for this run.
    pub log_lines: Vec<Value>,
}

/// Why a sync-protocol query gave no result.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncError {
    /// The query threw on the server (`[CONVEX Q(path)] message`).
    QueryFailed {
        udf_path: String,
        message: String,
        error_data: Option<Value>,
    },
    /// No socket could be opened, or every one closed before the answer.
    Connection {
        url: String,
        detail: String,
        attempts: u32,
    },
    /// The server refused the upgrade for good (an HTTP 4xx).
    Refused {
        url: String,
        status: u16,
        body: String,
    },
    /// The server sent `FatalError`.
    Fatal(String),
    /// The server did not accept the admin key (`AuthError`).
    Auth(String),
    /// The deployment URL cannot be turned into a WebSocket URL.
    BadUrl(String),
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::QueryFailed {
                udf_path, message, ..
            } => write!(f, "[CONVEX Q({udf_path})] {message}"),
            SyncError::Connection {
                url,
                detail,
                attempts,
            } => {
                write!(
                    f,
                    "could not keep a sync connection to {url} open ({detail})"
                )?;
                if *attempts > 1 {
                    write!(f, "; gave up after {attempts} attempts")?;
                }
                write!(
                    f,
                    ". Check that the deployment URL is right and reachable (proxy settings: HTTPS_PROXY, NO_PROXY)."
                )
            }
            SyncError::Refused { url, status, body } => {
                write!(
                    f,
                    "the deployment refused the sync connection to {url} (HTTP {status})"
                )?;
                let body = body.trim();
                if !body.is_empty() {
                    let short: String = body.chars().take(300).collect();
                    write!(f, ": {short}")?;
                }
                Ok(())
            }
            SyncError::Fatal(e) => write!(f, "the deployment ended the sync connection: {e}"),
            SyncError::Auth(e) => write!(f, "the deployment did not accept the admin key: {e}"),
            SyncError::BadUrl(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SyncError {}

/// How a [`Subscription`] reacts to a lost socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Give up after this many failed sockets in a row.
    Bounded(u32),
    /// Reconnect for as long as the subscription lives, saying so on stderr.
    Forever,
}

/// A deployment and the credential to query it with.
#[derive(Clone)]
pub struct SyncClient {
    http: HttpClient,
    ws_url: Result<String, String>,
    admin_key: Option<String>,
    identity: Option<Value>,
}

impl SyncClient {
    /// A client for the deployment at `deployment_url` (`http(s)://...`).
    pub fn new(http: HttpClient, deployment_url: &str) -> SyncClient {
        SyncClient {
            http,
            ws_url: websocket_url(deployment_url),
            admin_key: None,
            identity: None,
        }
    }

    /// `setAdminAuth(adminKey, identity)`: authenticate every socket with
    /// this admin key, acting as `identity` when given.
    pub fn with_admin_auth(mut self, admin_key: &str, identity: Option<Value>) -> SyncClient {
        self.admin_key = Some(admin_key.to_string());
        self.identity = identity;
        self
    }

    /// The WebSocket URL (`ws(s)://.../api/<version>/sync`).
    pub fn url(&self) -> Result<&str, SyncError> {
        self.ws_url
            .as_deref()
            .map_err(|e| SyncError::BadUrl(e.clone()))
    }

    /// `runSystemQuery`: the query's first result, then unsubscribe and
    /// close.
    pub async fn query(&self, query: &Query) -> Result<Value, SyncError> {
        let mut sub = self
            .open(query.clone(), Retry::Bounded(ONE_SHOT_ATTEMPTS))
            .await?;
        let result = sub.next().await;
        match &result {
            // The official client throws before it unsubscribes.
            Err(SyncError::QueryFailed { .. }) => sub.abandon().await,
            _ => sub.close().await,
        }
        result.map(|update| update.value)
    }

    /// `runSystemPaginatedQuery`: the query's pages (each on its own
    /// connection, `paginationOpts` added to the arguments) until the last
    /// one or until `limit` items were read. `numItems` is 10000, or what
    /// is left of `limit`.
    pub async fn paginated_query(
        &self,
        query: &Query,
        limit: Option<usize>,
    ) -> Result<Vec<Value>, SyncError> {
        let mut results = Vec::new();
        let mut cursor = Value::Null;
        loop {
            if limit.is_some_and(|l| results.len() >= l) {
                break;
            }
            let num_items = limit.map_or(10_000, |l| l - results.len());
            let mut page_query = query.clone();
            let mut args = match &query.args {
                Value::Object(m) => m.clone(),
                _ => serde_json::Map::new(),
            };
            args.insert(
                "paginationOpts".into(),
                serde_json::json!({"cursor": cursor, "numItems": num_items}),
            );
            page_query.args = Value::Object(args);
            let page = self.query(&page_query).await?;
            let malformed = || {
                SyncError::Fatal(format!(
                    "{} did not answer with a page of results",
                    query.udf_path
                ))
            };
            let items = page
                .get("page")
                .and_then(Value::as_array)
                .ok_or_else(malformed)?;
            results.extend(items.iter().cloned());
            let is_done = page.get("isDone").and_then(Value::as_bool).unwrap_or(true);
            cursor = page.get("continueCursor").cloned().unwrap_or(Value::Null);
            if is_done {
                break;
            }
        }
        Ok(results)
    }

    /// A live subscription: [`Subscription::next`] yields each new result,
    /// reconnecting whenever the socket is lost.
    pub async fn subscribe(&self, query: Query) -> Result<Subscription, SyncError> {
        self.open(query, Retry::Forever).await
    }

    async fn open(&self, query: Query, retry: Retry) -> Result<Subscription, SyncError> {
        let url = self.url()?.to_string();
        Ok(Subscription {
            client: self.clone(),
            url,
            retry,
            udf_path: protocol::canonical_udf_path(&query.udf_path),
            query,
            session_id: uuid::Uuid::new_v4().to_string(),
            connection_count: 0,
            last_close_reason: Some("InitialConnect".to_string()),
            max_observed_ts: None,
            journal: None,
            socket: None,
            failures: 0,
            chunks: ChunkBuffer::default(),
            query_set_version: 0,
        })
    }
}

/// `http(s)://host[/path]` → `ws(s)://host[/path]/api/<version>/sync`.
fn websocket_url(deployment_url: &str) -> Result<String, String> {
    let Some((scheme, rest)) = deployment_url.split_once("://") else {
        return Err(format!(
            "The deployment URL {deployment_url} is not an absolute URL."
        ));
    };
    let ws = match scheme {
        "http" => "ws",
        "https" => "wss",
        other => {
            return Err(format!(
                "The deployment URL {deployment_url} has an unknown protocol {other}."
            ));
        }
    };
    Ok(format!(
        "{ws}://{}/api/{}/sync",
        rest.trim_end_matches('/'),
        crate::REFERENCE_VERSION
    ))
}

/// One subscribed query on a (re)connecting socket.
pub struct Subscription {
    client: SyncClient,
    url: String,
    retry: Retry,
    query: Query,
    udf_path: String,
    session_id: String,
    connection_count: u32,
    last_close_reason: Option<String>,
    max_observed_ts: Option<String>,
    /// The journal of the last result (`None` before the first one).
    journal: Option<Value>,
    socket: Option<WebSocket>,
    /// Failed sockets since the last result.
    failures: u32,
    chunks: ChunkBuffer,
    query_set_version: u32,
}

/// What ended a socket.
enum Lost {
    /// Reconnect after the backoff for this kind of failure.
    Retry {
        reason: String,
        /// Initial backoff in ms (before doubling).
        initial_backoff_ms: f64,
        detail: String,
    },
    /// Stop: this error is final.
    Fail(SyncError),
}

const QUERY_ID: u32 = 0;

impl Subscription {
    /// The next result of the query. Reconnects as needed; fails when the
    /// query threw, the server ended the session, or (one-shot queries)
    /// too many sockets failed.
    pub async fn next(&mut self) -> Result<QueryUpdate, SyncError> {
        loop {
            if self.socket.is_none() {
                match self.connect().await {
                    Ok(()) => {}
                    Err(lost) => {
                        self.lost(lost).await?;
                        continue;
                    }
                }
            }
            match self.read_update().await {
                Ok(update) => {
                    self.failures = 0;
                    return Ok(update);
                }
                Err(lost) => {
                    self.socket = None;
                    self.chunks.clear();
                    self.lost(lost).await?;
                }
            }
        }
    }

    /// Unsubscribe (`ModifyQuerySet` / `Remove`) and close the socket,
    /// waiting briefly for the server's close frame.
    pub async fn close(mut self) {
        let Some(mut socket) = self.socket.take() else {
            return;
        };
        let remove = protocol::modify_query_set(
            self.query_set_version,
            self.query_set_version + 1,
            vec![protocol::remove_query(QUERY_ID)],
        );
        let _ = socket.send(Message::text(remove.to_string())).await;
        let _ = socket.close(None).await;
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            while let Some(Ok(_)) = socket.next().await {}
        })
        .await;
    }

    /// Close the socket without unsubscribing first.
    pub async fn abandon(mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
            let _ = tokio::time::timeout(CLOSE_WAIT, async {
                while let Some(Ok(_)) = socket.next().await {}
            })
            .await;
        }
    }

    async fn lost(&mut self, lost: Lost) -> Result<(), SyncError> {
        let (reason, initial, detail) = match lost {
            Lost::Fail(e) => return Err(e),
            Lost::Retry {
                reason,
                initial_backoff_ms,
                detail,
            } => (reason, initial_backoff_ms, detail),
        };
        self.last_close_reason = Some(reason);
        let backoff = initial * 2f64.powi(self.failures.min(16) as i32);
        self.failures += 1;
        if let Retry::Bounded(max) = self.retry
            && self.failures >= max
        {
            return Err(SyncError::Connection {
                url: self.url.clone(),
                detail,
                attempts: self.failures,
            });
        }
        let capped = backoff.min(MAX_BACKOFF_MS);
        let delay = capped + capped * (fastrand::f64() - 0.5);
        let delay = crate::http::delay_override()
            .unwrap_or_else(|| Duration::from_millis(delay.max(0.0) as u64));
        match self.retry {
            Retry::Forever => crate::output::warning(&format!(
                "Lost the connection to the deployment ({detail}); reconnecting in {} ms",
                delay.as_millis()
            )),
            Retry::Bounded(_) => crate::output::verbose(&format!(
                "Sync connection failed ({detail}); retrying in {} ms",
                delay.as_millis()
            )),
        }
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// Open a socket and send `Connect`, `Authenticate`, `ModifyQuerySet`.
    async fn connect(&mut self) -> Result<(), Lost> {
        let mut socket = match websocket::connect(&self.client.http, &self.url).await {
            Ok(s) => s,
            Err(ConnectError::Status { status, body })
                if (400..500).contains(&status) && ![404, 408, 429].contains(&status) =>
            {
                return Err(Lost::Fail(SyncError::Refused {
                    url: self.url.clone(),
                    status,
                    body,
                }));
            }
            Err(ConnectError::BadUrl(e)) => return Err(Lost::Fail(SyncError::BadUrl(e))),
            Err(e) => {
                return Err(Lost::Retry {
                    // The browser WebSocket reports a failed open as an
                    // abnormal close.
                    reason: "closed with code 1006".into(),
                    initial_backoff_ms: 1000.0,
                    detail: e.to_string(),
                });
            }
        };
        let client_ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let connect = Connect {
            session_id: &self.session_id,
            connection_count: self.connection_count,
            last_close_reason: self.last_close_reason.as_deref(),
            client_ts,
            max_observed_timestamp: self.max_observed_ts.as_deref(),
        };
        let mut messages = vec![connect.to_json()];
        if let Some(key) = &self.client.admin_key {
            messages.push(protocol::authenticate_admin(
                0,
                key,
                self.client.identity.as_ref(),
            ));
        }
        let add = AddQuery {
            query_id: QUERY_ID,
            udf_path: &self.udf_path,
            args: &self.query.args,
            journal: self.journal.as_ref(),
            component_path: self.query.component_path.as_deref(),
        };
        messages.push(protocol::modify_query_set(0, 1, vec![add.to_json()]));
        self.query_set_version = 1;
        for message in messages {
            if let Err(e) = socket.send(Message::text(message.to_string())).await {
                return Err(Lost::Retry {
                    reason: "FailedToSendMessage".into(),
                    initial_backoff_ms: 100.0,
                    detail: format!("could not send: {e}"),
                });
            }
        }
        self.connection_count += 1;
        self.last_close_reason = None;
        self.socket = Some(socket);
        Ok(())
    }

    /// Read until the query has a new result.
    async fn read_update(&mut self) -> Result<QueryUpdate, Lost> {
        let Some(socket) = self.socket.as_mut() else {
            return Err(Lost::Retry {
                reason: "closed with code 1006".into(),
                initial_backoff_ms: 100.0,
                detail: "no socket".into(),
            });
        };
        loop {
            let frame = match tokio::time::timeout(SERVER_INACTIVITY, socket.next()).await {
                Err(_) => {
                    return Err(Lost::Retry {
                        reason: "InactiveServer".into(),
                        initial_backoff_ms: 100.0,
                        detail: format!(
                            "no message from the server for {} s",
                            SERVER_INACTIVITY.as_secs()
                        ),
                    });
                }
                Ok(frame) => frame,
            };
            let text = match frame {
                None => return Err(closed_abnormally("the connection ended")),
                Some(Err(e)) => return Err(closed_abnormally(&e.to_string())),
                Some(Ok(Message::Text(text))) => text.to_string(),
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return Err(closed_by_server(code, &reason));
                }
                Some(Ok(_)) => continue,
            };
            let message = match protocol::parse_server_message(&text) {
                Ok(m) => m,
                Err(e) => {
                    return Err(Lost::Fail(SyncError::Fatal(format!(
                        "unexpected message from the server: {e}"
                    ))));
                }
            };
            let message = match message {
                ServerMessage::TransitionChunk {
                    chunk,
                    part_number,
                    total_parts,
                    transition_id,
                } => match self
                    .chunks
                    .push(chunk, part_number, total_parts, transition_id)
                {
                    Ok(None) => continue,
                    Ok(Some(whole)) => match protocol::parse_server_message(&whole) {
                        Ok(m @ ServerMessage::Transition { .. }) => m,
                        Ok(_) | Err(_) => {
                            return Err(Lost::Fail(SyncError::Fatal(
                                "a chunked transition did not reassemble into a Transition".into(),
                            )));
                        }
                    },
                    Err(e) => return Err(Lost::Fail(SyncError::Fatal(e))),
                },
                other => other,
            };
            match message {
                ServerMessage::Transition {
                    end_ts,
                    modifications,
                } => {
                    if let Some(ts) = end_ts {
                        let newer = match &self.max_observed_ts {
                            None => true,
                            Some(old) => protocol::decode_ts(old) <= protocol::decode_ts(&ts),
                        };
                        if newer {
                            self.max_observed_ts = Some(ts);
                        }
                    }
                    for modification in modifications {
                        match modification {
                            QueryModification::Updated {
                                query_id,
                                value,
                                log_lines,
                                journal,
                            } if query_id == QUERY_ID => {
                                self.journal = Some(journal);
                                return Ok(QueryUpdate { value, log_lines });
                            }
                            QueryModification::Failed {
                                query_id,
                                error_message,
                                error_data,
                                log_lines,
                                ..
                            } if query_id == QUERY_ID => {
                                for line in &log_lines {
                                    crate::output::message(&query_log_line(&self.udf_path, line));
                                }
                                return Err(Lost::Fail(SyncError::QueryFailed {
                                    udf_path: self.udf_path.clone(),
                                    message: error_message,
                                    error_data,
                                }));
                            }
                            _ => {}
                        }
                    }
                }
                ServerMessage::FatalError(e) => return Err(Lost::Fail(SyncError::Fatal(e))),
                ServerMessage::AuthError(e) => return Err(Lost::Fail(SyncError::Auth(e))),
                ServerMessage::Ping
                | ServerMessage::Other(_)
                | ServerMessage::TransitionChunk { .. } => {}
            }
        }
    }
}

/// A query's log line as the official client prints it
/// (`[CONVEX Q(path)] [LEVEL] message`).
pub fn query_log_line(udf_path: &str, line: &Value) -> String {
    let text = match line {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!("[CONVEX Q({udf_path})] {text}")
}

fn closed_abnormally(detail: &str) -> Lost {
    Lost::Retry {
        reason: "closed with code 1006".into(),
        initial_backoff_ms: 1000.0,
        detail: detail.to_string(),
    }
}

/// The official delays for server-side close reasons (ms).
const SERVER_DISCONNECT_BACKOFF: &[(&str, f64)] = &[
    ("InternalServerError", 1000.0),
    ("SubscriptionsWorkerFullError", 3000.0),
    ("TooManyConcurrentRequests", 3000.0),
    ("CommitterFullError", 3000.0),
    ("AwsTooManyRequestsException", 3000.0),
    ("ExecuteFullError", 3000.0),
    ("SystemTimeoutError", 3000.0),
    ("ExpiredInQueue", 3000.0),
    ("VectorIndexesUnavailable", 1000.0),
    ("SearchIndexesUnavailable", 1000.0),
    ("TableSummariesUnavailable", 1000.0),
    ("VectorIndexTooLarge", 3000.0),
    ("SearchIndexTooLarge", 3000.0),
    ("TooManyWritesInTimePeriod", 3000.0),
];

fn closed_by_server(code: u16, reason: &str) -> Lost {
    let initial = SERVER_DISCONNECT_BACKOFF
        .iter()
        .find(|(prefix, _)| reason.starts_with(prefix))
        .map_or(1000.0, |(_, ms)| *ms);
    let detail = if reason.is_empty() {
        format!("closed with code {code}")
    } else {
        format!("closed with code {code}: {reason}")
    };
    Lost::Retry {
        reason: if reason.is_empty() {
            format!("closed with code {code}")
        } else {
            reason.to_string()
        },
        initial_backoff_ms: initial,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls() {
        assert_eq!(
            websocket_url("https://happy-otter-123.convex.cloud").unwrap(),
            "wss://happy-otter-123.convex.cloud/api/1.48.0/sync"
        );
        assert_eq!(
            websocket_url("http://127.0.0.1:3210/").unwrap(),
            "ws://127.0.0.1:3210/api/1.48.0/sync"
        );
        assert!(websocket_url("ftp://x").is_err());
        assert!(websocket_url("nope").is_err());
    }

    #[test]
    fn server_close_reasons_pick_the_official_backoff() {
        match closed_by_server(1011, "TooManyConcurrentRequests: slow down") {
            Lost::Retry {
                initial_backoff_ms,
                reason,
                ..
            } => {
                assert_eq!(initial_backoff_ms, 3000.0);
                assert_eq!(reason, "TooManyConcurrentRequests: slow down");
            }
            Lost::Fail(_) => panic!(),
        }
        match closed_by_server(1006, "") {
            Lost::Retry {
                initial_backoff_ms,
                reason,
                ..
            } => {
                assert_eq!(initial_backoff_ms, 1000.0);
                assert_eq!(reason, "closed with code 1006");
            }
            Lost::Fail(_) => panic!(),
        }
    }

    #[test]
    fn errors_read_as_sentences() {
        let e = SyncError::QueryFailed {
            udf_path: "_system/cli/tables:default".into(),
            message: "Uncaught Error: boom".into(),
            error_data: None,
        };
        assert_eq!(
            e.to_string(),
            "[CONVEX Q(_system/cli/tables:default)] Uncaught Error: boom"
        );
        let e = SyncError::Connection {
            url: "ws://x/api/1.48.0/sync".into(),
            detail: "could not connect".into(),
            attempts: 5,
        };
        assert!(e.to_string().contains("gave up after 5 attempts"));
    }
}
