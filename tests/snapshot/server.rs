//! A loopback deployment for `export` / `import` tests: HTTP routes with
//! scripted answers (including answers cut off half way and connection
//! resets) and the Convex sync protocol on `GET /api/<version>/sync`.
//!
//! The sync side is the protocol's server half, as small as the tests need:
//! it accepts the WebSocket upgrade, records every client message (method
//! `WS`), and answers each `ModifyQuerySet` `Add` of a scripted function with
//! one `Transition` per scripted value. Each connection takes the next
//! script of that function (the last one repeats), as the real deployment
//! would show a later state to a later subscription. A connection with the
//! script `hold` gets its values and then silence (the client waits).
//!
//! It runs on its own thread and runtime, so tests are plain `#[test]`s that
//! run the real binary.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How one HTTP request is answered.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A JSON body with this status.
    Json(u16, Value),
    /// Raw bytes with extra headers.
    Bytes {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// `Content-Length: announced`, only `body` sent, then the connection
    /// is closed.
    Truncated { announced: usize, body: Vec<u8> },
    /// Chunked encoding: `body` as one chunk, then the connection closes
    /// without the final chunk.
    ChunkedCut { body: Vec<u8> },
    /// Read the request, then reset the connection.
    Reset,
    /// `Content-Length: announced`, `body` sent, then nothing for 30 s.
    /// (Used by the Ctrl-C test, which is Unix-only.)
    #[cfg_attr(not(unix), allow(dead_code))]
    Stall { announced: usize, body: Vec<u8> },
}

/// One request (or WebSocket message) the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<(String, String), Vec<Answer>>,
    /// udfPath → one script per connection (the last repeats).
    sync: HashMap<String, Vec<Vec<Value>>>,
    seen: Vec<Seen>,
}

pub struct MockDeployment {
    pub url: String,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockDeployment {
    pub fn start() -> MockDeployment {
        let state = Arc::new(Mutex::new(State::default()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, mut shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_state = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut shutdown_rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let state = thread_state.clone();
                            tokio::spawn(async move {
                                let _ = serve(stream, state).await;
                            });
                        }
                    }
                }
            });
        });
        let addr = addr_rx.recv().unwrap();
        MockDeployment {
            url: format!("http://127.0.0.1:{}", addr.port()),
            state,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// Answer `method path` (no query) with these answers in order; the
    /// last one repeats.
    pub fn route(&self, method: &str, path: &str, answers: Vec<Answer>) {
        assert!(!answers.is_empty());
        self.state
            .lock()
            .unwrap()
            .routes
            .insert((method.to_string(), path.to_string()), answers);
    }

    /// Sync scripts of `udf_path` (canonical, `module:function`): the n-th
    /// connection that adds it gets the n-th list of values.
    pub fn sync(&self, udf_path: &str, per_connection: Vec<Vec<Value>>) {
        assert!(!per_connection.is_empty());
        self.state
            .lock()
            .unwrap()
            .sync
            .insert(udf_path.to_string(), per_connection);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// `METHOD /path` of every request, WebSocket messages as `WS <type>`.
    pub fn trail(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|s| {
                if s.method == "WS" {
                    let v = s.json();
                    let kind = v["type"].as_str().unwrap_or("?").to_string();
                    match v["modifications"][0]["type"].as_str() {
                        Some(m) => format!("WS {kind} {m}"),
                        None => format!("WS {kind}"),
                    }
                } else {
                    format!("{} {}", s.method, s.path)
                }
            })
            .collect()
    }

    pub fn hits(&self, method: &str, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path == path)
            .count()
    }
}

impl Drop for MockDeployment {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (target.clone(), String::new()),
        };
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let mut body = vec![
            0;
            header("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0)
        ];
        reader.read_exact(&mut body).await?;
        let upgrade = header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        let seen = Seen {
            method: method.clone(),
            path: path.clone(),
            query,
            headers: headers.clone(),
            body,
        };
        state.lock().unwrap().seen.push(seen);
        if upgrade && path.ends_with("/sync") {
            let key = header("sec-websocket-key").unwrap_or_default();
            return serve_sync(reader.into_inner(), &key, &path, state).await;
        }
        let answer = {
            let mut state = state.lock().unwrap();
            match state.routes.get_mut(&(method.clone(), path.clone())) {
                Some(queue) if queue.len() > 1 => Some(queue.remove(0)),
                Some(queue) => Some(queue[0].clone()),
                None => None,
            }
        }
        .unwrap_or_else(|| {
            Answer::Json(
                404,
                json!({"code": "RouteNotFound", "message": format!("{method} {path}")}),
            )
        });
        let stream = reader.get_mut();
        match answer {
            Answer::Json(status, value) => {
                let body = serde_json::to_vec(&value).unwrap();
                let headers = vec![("Content-Type".to_string(), "application/json".to_string())];
                respond(stream, status, &headers, &body).await?;
            }
            Answer::Bytes {
                status,
                headers,
                body,
            } => respond(stream, status, &headers, &body).await?,
            Answer::Truncated { announced, body } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {announced}\r\n\r\n"
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(&body).await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_millis(50)).await;
                return stream.shutdown().await;
            }
            Answer::ChunkedCut { body } => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
                stream.write_all(head.as_bytes()).await?;
                stream
                    .write_all(format!("{:x}\r\n", body.len()).as_bytes())
                    .await?;
                stream.write_all(&body).await?;
                stream.write_all(b"\r\n").await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_millis(50)).await;
                return stream.shutdown().await;
            }
            Answer::Stall { announced, body } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {announced}\r\n\r\n"
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(&body).await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_secs(30)).await;
                return Ok(());
            }
            Answer::Reset => {
                #[allow(deprecated)]
                stream.set_linger(Some(Duration::ZERO))?;
                return Ok(());
            }
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

// --- WebSocket (RFC 6455), server side --------------------------------------

fn accept_key(key: &str) -> String {
    use base64::Engine as _;
    // The handshake needs SHA-1, which no dependency offers: computed here
    // (tests only).
    let digest = sha1(format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// SHA-1 (FIPS 180-4), for the WebSocket handshake only.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64) * 8;
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([
                block[4 * i],
                block[4 * i + 1],
                block[4 * i + 2],
                block[4 * i + 3],
            ]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | ((!b) & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        h = [
            h[0].wrapping_add(a),
            h[1].wrapping_add(b),
            h[2].wrapping_add(c),
            h[3].wrapping_add(d),
            h[4].wrapping_add(e),
        ];
    }
    let mut out = [0u8; 20];
    for (i, word) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// One frame from the client: (opcode, payload), `None` at the end.
async fn read_frame(stream: &mut TcpStream) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 2];
    if stream.read_exact(&mut head).await.is_err() {
        return Ok(None);
    }
    let opcode = head[0] & 0x0f;
    let masked = head[1] & 0x80 != 0;
    let mut len = u64::from(head[1] & 0x7f);
    if len == 126 {
        let mut b = [0u8; 2];
        stream.read_exact(&mut b).await?;
        len = u64::from(u16::from_be_bytes(b));
    } else if len == 127 {
        let mut b = [0u8; 8];
        stream.read_exact(&mut b).await?;
        len = u64::from_be_bytes(b);
    }
    let mut mask = [0u8; 4];
    if masked {
        stream.read_exact(&mut mask).await?;
    }
    let mut payload = vec![0u8; len as usize];
    stream.read_exact(&mut payload).await?;
    if masked {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
    }
    Ok(Some((opcode, payload)))
}

async fn write_frame(stream: &mut TcpStream, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => frame.push(n as u8),
        n if n < 65536 => {
            frame.push(126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    stream.write_all(&frame).await?;
    stream.flush().await
}

fn ts(n: u64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(n.to_le_bytes())
}

async fn serve_sync(
    mut stream: TcpStream,
    key: &str,
    path: &str,
    state: Arc<Mutex<State>>,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    );
    stream.write_all(head.as_bytes()).await?;
    let mut query_set = 0u64;
    let mut identity = 0u64;
    let mut version_ts = 0u64;
    let mut last = json!({"querySet": 0, "identity": 0, "ts": ts(0)});
    while let Some((opcode, payload)) = read_frame(&mut stream).await? {
        match opcode {
            0x8 => {
                let _ = write_frame(&mut stream, 0x8, &payload[..payload.len().min(2)]).await;
                return Ok(());
            }
            0x9 => {
                write_frame(&mut stream, 0xA, &payload).await?;
                continue;
            }
            0xA => continue,
            _ => {}
        }
        let message: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
        state.lock().unwrap().seen.push(Seen {
            method: "WS".into(),
            path: path.to_string(),
            query: String::new(),
            headers: Vec::new(),
            body: payload.clone(),
        });
        let mut answers = Vec::new();
        match message["type"].as_str() {
            Some("Authenticate") => identity = message["baseVersion"].as_u64().unwrap_or(0) + 1,
            Some("ModifyQuerySet") => {
                query_set = message["newVersion"].as_u64().unwrap_or(query_set);
                for m in message["modifications"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                {
                    if m["type"] != "Add" {
                        continue;
                    }
                    let udf = m["udfPath"].as_str().unwrap_or("").to_string();
                    let udf = if udf.contains(':') {
                        udf
                    } else {
                        format!("{udf}:default")
                    };
                    let script = {
                        let mut state = state.lock().unwrap();
                        match state.sync.get_mut(&udf) {
                            Some(q) if q.len() > 1 => Some(q.remove(0)),
                            Some(q) => Some(q[0].clone()),
                            None => None,
                        }
                    };
                    match script {
                        Some(values) => {
                            for value in values {
                                answers.push(json!({"type": "QueryUpdated", "queryId": m["queryId"], "value": value, "logLines": [], "journal": null}));
                            }
                        }
                        None => answers.push(json!({"type": "QueryFailed", "queryId": m["queryId"], "errorMessage": format!("no script for {udf}"), "logLines": [], "journal": null})),
                    }
                }
            }
            _ => {}
        }
        for modification in answers {
            version_ts += 1;
            let end = json!({"querySet": query_set, "identity": identity, "ts": ts(version_ts)});
            let transition = json!({"type": "Transition", "startVersion": last, "endVersion": end, "modifications": [modification]});
            last = end;
            write_frame(&mut stream, 0x1, transition.to_string().as_bytes()).await?;
            // Values arrive one by one, as a deployment's would.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha1_known_answer() {
        // RFC 6455's example handshake.
        assert_eq!(
            super::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
