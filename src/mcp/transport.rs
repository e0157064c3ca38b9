//! The MCP server's stdio transport: one JSON-RPC message per line on stdin
//! and stdout, for the SDK's service loop ([`rmcp::transport::Transport`]).
//!
//! Why not the SDK's own stdio transport: it drops a line that is not JSON
//! without a word, and answers a message of the wrong shape with an error
//! that has no `id`. Here every malformed request gets a JSON-RPC error and
//! the server keeps serving:
//! - not JSON (or not UTF-8): `-32700 Parse error`, `"id": null`;
//! - JSON but not a JSON-RPC message (a batch, no `method`, `jsonrpc` not
//!   `"2.0"`): `-32600 Invalid Request`, with the request's `id` when it
//!   has a usable one;
//! - a request whose `params` do not fit its method: `-32602 Invalid
//!   params`, with its `id`.
//!
//! A malformed notification has no one to answer: it is logged on stderr and
//! dropped. So is a notification or response that arrives before any
//! lifecycle has begun (the SDK would end the session on one). stdout gets
//! nothing but protocol messages; every log line goes to stderr.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rmcp::RoleServer;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;

/// Lines longer than this are refused (and skipped) rather than buffered.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Set once a lifecycle (an `initialize`, or a first stateless request) has
/// reached the server's handlers; before that, notifications and responses
/// are dropped instead of handed to the SDK.
#[derive(Clone, Default)]
pub struct LifecycleFlag(Arc<AtomicBool>);

impl LifecycleFlag {
    pub fn mark_started(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn started(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

type SharedWriter = Arc<Mutex<Box<dyn AsyncWrite + Send + Unpin>>>;

/// Newline-delimited JSON-RPC over any reader and writer (stdin and stdout
/// in `mcp start`, in-memory pipes in tests).
pub struct LineTransport<R> {
    reader: R,
    writer: SharedWriter,
    /// The line being read; kept across a cancelled `receive` (the SDK polls
    /// it inside `select!`), cleared once a whole line is handled.
    line: Vec<u8>,
    /// Skipping the rest of an over-long line.
    skipping: bool,
    lifecycle: LifecycleFlag,
}

enum LineRead {
    Line,
    TooLong,
    Eof,
    Failed(std::io::Error),
}

impl<R: AsyncBufRead + Send + Unpin> LineTransport<R> {
    pub fn new(
        reader: R,
        writer: impl AsyncWrite + Send + Unpin + 'static,
        lifecycle: LifecycleFlag,
    ) -> Self {
        LineTransport {
            reader,
            writer: Arc::new(Mutex::new(Box::new(writer))),
            line: Vec::new(),
            skipping: false,
            lifecycle,
        }
    }

    async fn read_line(&mut self) -> LineRead {
        loop {
            let (used, done) = {
                let available = match self.reader.fill_buf().await {
                    Ok(bytes) => bytes,
                    Err(e) => return LineRead::Failed(e),
                };
                if available.is_empty() {
                    return LineRead::Eof;
                }
                let newline = available.iter().position(|b| *b == b'\n');
                let used = newline.map_or(available.len(), |i| i + 1);
                if self.skipping {
                    if newline.is_some() {
                        self.skipping = false;
                    }
                    (used, None)
                } else if self.line.len() + used > MAX_LINE_BYTES {
                    self.line.clear();
                    self.skipping = newline.is_none();
                    (used, Some(LineRead::TooLong))
                } else {
                    self.line.extend_from_slice(&available[..used]);
                    (used, newline.map(|_| LineRead::Line))
                }
            };
            self.reader.consume(used);
            if let Some(result) = done {
                return result;
            }
        }
    }

    fn write_raw(
        &self,
        line: String,
    ) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
        let writer = self.writer.clone();
        async move { write_line(&writer, line).await }
    }
}

async fn write_line(writer: &SharedWriter, mut line: String) -> std::io::Result<()> {
    line.push('\n');
    let mut w = writer.lock().await;
    w.write_all(line.as_bytes()).await?;
    w.flush().await
}

/// What to do with one incoming line.
#[derive(Debug)]
pub enum Decoded {
    /// Hand this message to the server.
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// Answer with this error line.
    Reply(Value),
    /// Nothing to do (blank line, or a notification we drop); the string is
    /// logged on stderr when not empty.
    Skip(String),
}

fn error_reply(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// Decode one line (without its newline).
pub fn decode_line(line: &[u8]) -> Decoded {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Decoded::Skip(String::new());
    }
    let value: Value = match std::str::from_utf8(line)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(text).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            return Decoded::Reply(error_reply(
                Value::Null,
                -32700,
                &format!("Parse error: the line is not JSON ({e})"),
            ));
        }
    };
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_i64() || id.is_u64())
        .cloned();
    let method = value
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_string);
    let parsed = serde_json::from_value::<RxJsonRpcMessage<RoleServer>>(value.clone());
    match parsed {
        Ok(message) => Decoded::Message(Box::new(message)),
        Err(e) => {
            let Some(object) = value.as_object() else {
                let what = if value.is_array() {
                    "batches are not supported"
                } else {
                    "a message must be a JSON object"
                };
                return Decoded::Reply(error_reply(
                    Value::Null,
                    -32600,
                    &format!("Invalid Request: {what}"),
                ));
            };
            let version_ok = object.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
            match (id, method) {
                // A notification: nobody to answer.
                (None, Some(method)) if version_ok && !object.contains_key("id") => {
                    Decoded::Skip(format!("Ignored a malformed `{method}` notification: {e}"))
                }
                (id, Some(method)) if version_ok && id.is_some() => Decoded::Reply(error_reply(
                    id.unwrap_or(Value::Null),
                    -32602,
                    &format!("Invalid params for `{method}`: {e}"),
                )),
                (id, _) => {
                    let why = if !version_ok {
                        "`jsonrpc` must be \"2.0\"".to_string()
                    } else if object.get("method").is_none() && id.is_some() {
                        "no `method`".to_string()
                    } else {
                        format!("{e}")
                    };
                    Decoded::Reply(error_reply(
                        id.unwrap_or(Value::Null),
                        -32600,
                        &format!("Invalid Request: {why}"),
                    ))
                }
            }
        }
    }
}

impl<R: AsyncBufRead + Send + Unpin> rmcp::transport::Transport<RoleServer> for LineTransport<R> {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let writer = self.writer.clone();
        async move {
            let value = serde_json::to_value(&item).map_err(std::io::Error::other)?;
            write_line(&writer, as_the_official_server_writes(value).to_string()).await
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            match self.read_line().await {
                LineRead::Line => {}
                LineRead::TooLong => {
                    log(&format!(
                        "Skipped an incoming message longer than {MAX_LINE_BYTES} bytes."
                    ));
                    let reply = error_reply(
                        Value::Null,
                        -32600,
                        "Invalid Request: the message is too long",
                    );
                    if self.write_raw(reply.to_string()).await.is_err() {
                        return None;
                    }
                    continue;
                }
                LineRead::Eof => return None,
                LineRead::Failed(e) => {
                    log(&format!("Could not read from stdin: {e}"));
                    return None;
                }
            }
            let line = std::mem::take(&mut self.line);
            let body = line.strip_suffix(b"\n").unwrap_or(&line);
            match decode_line(body) {
                Decoded::Message(message) => {
                    let message = *message;
                    let early = !self.lifecycle.started()
                        && !matches!(message, rmcp::model::JsonRpcMessage::Request(_));
                    if early {
                        log("Ignored a notification or response sent before `initialize`.");
                        continue;
                    }
                    return Some(message);
                }
                Decoded::Reply(reply) => {
                    if self.write_raw(reply.to_string()).await.is_err() {
                        return None;
                    }
                }
                Decoded::Skip(note) => {
                    if !note.is_empty() {
                        log(&note);
                    }
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.writer.lock().await.flush().await
    }
}

/// An outgoing message as the official server writes it, so that stdout is
/// the same bytes: a result as `{"result":…,"jsonrpc":"2.0","id":…}` (errors
/// keep `{"jsonrpc","id","error"}`), and a method the server does not serve
/// (`resources/list`, `bogus/x`, …) answered `-32601 "Method not found"`
/// (the SDK names the method instead).
fn as_the_official_server_writes(value: Value) -> Value {
    match value {
        Value::Object(mut object) if object.contains_key("result") => {
            let mut ordered = serde_json::Map::with_capacity(object.len());
            if let Some(result) = object.shift_remove("result") {
                ordered.insert("result".to_string(), result);
            }
            ordered.extend(object);
            Value::Object(ordered)
        }
        Value::Object(mut object) => {
            if let Some(Value::Object(error)) = object.get_mut("error")
                && error.get("code").and_then(Value::as_i64) == Some(-32601)
            {
                error.insert("message".into(), Value::from("Method not found"));
                error.shift_remove("data");
            }
            Value::Object(object)
        }
        other => other,
    }
}

/// A line on stderr (the only place the server logs to).
pub fn log(text: &str) {
    crate::output::error_line(&format!("MCP server: {text}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(line: &str) -> Value {
        match decode_line(line.as_bytes()) {
            Decoded::Reply(v) => v,
            other => panic!("expected a reply to {line}, got {other:?}"),
        }
    }

    #[test]
    fn malformed_lines_get_json_rpc_errors() {
        let r = reply("not json");
        assert_eq!(r["error"]["code"], -32700);
        assert_eq!(r["id"], Value::Null);
        assert_eq!(reply("[1,2]")["error"]["code"], -32600);
        assert_eq!(reply("42")["error"]["code"], -32600);
        let r = reply(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":"x"}"#);
        assert_eq!(r["error"]["code"], -32602);
        assert_eq!(r["id"], 7);
        let r = reply(r#"{"jsonrpc":"1.0","id":"a","method":"tools/list"}"#);
        assert_eq!(r["error"]["code"], -32600);
        assert_eq!(r["id"], "a");
        let r = reply(r#"{"foo":1}"#);
        assert_eq!(r["error"]["code"], -32600);
        assert!(matches!(
            decode_line(br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":5}"#),
            Decoded::Skip(_)
        ));
        assert!(matches!(decode_line(b"  \r"), Decoded::Skip(_)));
    }

    #[test]
    fn results_are_written_in_the_official_key_order() {
        let reply = json!({"jsonrpc": "2.0", "id": 7, "result": {"tools": []}});
        assert_eq!(
            as_the_official_server_writes(reply).to_string(),
            r#"{"result":{"tools":[]},"jsonrpc":"2.0","id":7}"#
        );
        let error = json!({"jsonrpc": "2.0", "id": 8, "error": {"code": -32602, "message": "m"}});
        assert_eq!(
            as_the_official_server_writes(error).to_string(),
            r#"{"jsonrpc":"2.0","id":8,"error":{"code":-32602,"message":"m"}}"#
        );
        let unknown = json!({"jsonrpc": "2.0", "id": 9, "error": {"code": -32601, "message": "prompts/list"}});
        assert_eq!(
            as_the_official_server_writes(unknown).to_string(),
            r#"{"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"Method not found"}}"#
        );
    }

    #[test]
    fn well_formed_messages_pass() {
        for line in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"bogus/method"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            "\u{feff}{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\r",
        ] {
            assert!(
                matches!(decode_line(line.as_bytes()), Decoded::Message(_)),
                "{line}"
            );
        }
    }

    #[tokio::test]
    async fn keeps_serving_after_bad_lines_and_drops_early_notifications() {
        use rmcp::transport::Transport;
        let input = b"oops\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n".to_vec();
        let (out_w, mut out_r) = tokio::io::duplex(4096);
        let mut t = LineTransport::new(
            tokio::io::BufReader::new(&input[..]),
            out_w,
            LifecycleFlag::default(),
        );
        let first = t.receive().await.expect("the ping");
        assert!(matches!(first, rmcp::model::JsonRpcMessage::Request(_)));
        assert!(t.receive().await.is_none());
        drop(t);
        let mut written = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut out_r, &mut written)
            .await
            .unwrap();
        let lines: Vec<Value> = written
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{written}");
        assert_eq!(lines[0]["error"]["code"], -32700);
    }
}
