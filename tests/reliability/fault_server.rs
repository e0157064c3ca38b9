//! A loopback HTTP/1.1 server that misbehaves on purpose.
//!
//! wiremock can answer with any status and body, and delay, but it cannot
//! reset a connection or send fewer body bytes than it announced. This server
//! can: each route has a queue of [`Fault`]s (the last one repeats), every
//! request is recorded, and anything not routed answers 404 with a Convex
//! error body. It runs on its own thread with its own runtime, so tests are
//! plain `#[test]` functions that run the real binary.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 200 with a JSON body.
    Json(Value),
    /// Any status with a JSON body.
    StatusJson(u16, Value),
    /// Any status with a raw body (`text/html`, say).
    StatusRaw(u16, &'static str),
    /// Read the request, then reset the connection (RST, no answer).
    Reset,
    /// Read the request, then close the connection cleanly without answering.
    Close,
    /// Wait, then answer as the inner fault does (or hang up if the client
    /// gave up first).
    Slow(Duration, Box<Fault>),
    /// Headers announce `announced` body bytes; only `body` is sent, then
    /// the connection is closed.
    Truncated {
        status: u16,
        body: &'static str,
        announced: usize,
    },
}

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
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
}

#[derive(Default)]
struct State {
    routes: HashMap<(String, String), Vec<Fault>>,
    seen: Vec<Seen>,
}

pub struct FaultServer {
    pub url: String,
    pub port: u16,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultServer {
    pub fn start() -> FaultServer {
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
        FaultServer {
            url: format!("http://127.0.0.1:{}", addr.port()),
            port: addr.port(),
            state,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// Answer `method path` with these faults in order (the last repeats).
    /// Replaces an earlier route for the same request.
    pub fn route(&self, method: &str, path: &str, faults: Vec<Fault>) {
        assert!(!faults.is_empty());
        self.state
            .lock()
            .unwrap()
            .routes
            .insert((method.to_string(), path.to_string()), faults);
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// How many times `method path` was requested.
    pub fn hits(&self, method: &str, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path == path)
            .count()
    }

    /// `METHOD path` of every request, in order.
    pub fn trail(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|s| format!("{} {}", s.method, s.path))
            .collect()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Seen>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("");
    let path = target.split('?').next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    for line in lines.filter(|l| !l.is_empty()) {
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim().to_string();
            if k == "content-length" {
                length = v.parse().unwrap_or(0);
            }
            headers.push((k, v));
        }
    }
    let mut body = buf[header_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(Seen {
        method,
        path,
        headers,
        body,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    announced: usize,
    head_only: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {announced}\r\nConnection: close\r\n\r\n",
        reason(status)
    );
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        stream.write_all(body).await?;
    }
    stream.flush().await?;
    stream.shutdown().await
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else {
        return Ok(());
    };
    let head_only = request.method == "HEAD";
    let key = (request.method.clone(), request.path.clone());
    let fault = {
        let mut state = state.lock().unwrap();
        state.seen.push(request);
        match state.routes.get_mut(&key) {
            Some(queue) if queue.len() > 1 => Some(queue.remove(0)),
            Some(queue) => Some(queue[0].clone()),
            None => None,
        }
    };
    let fault = fault.unwrap_or_else(|| {
        Fault::StatusJson(
            404,
            serde_json::json!({"code": "RouteNotFound", "message": format!("{} {}", key.0, key.1)}),
        )
    });
    answer(&mut stream, fault, head_only).await
}

async fn answer(stream: &mut TcpStream, fault: Fault, head_only: bool) -> std::io::Result<()> {
    let mut fault = fault;
    loop {
        match fault {
            Fault::Slow(delay, inner) => {
                tokio::time::sleep(delay).await;
                fault = *inner;
            }
            Fault::Json(v) => return json(stream, 200, &v, head_only).await,
            Fault::StatusJson(s, v) => return json(stream, s, &v, head_only).await,
            Fault::StatusRaw(s, body) => {
                return respond(
                    stream,
                    s,
                    "text/html",
                    body.as_bytes(),
                    body.len(),
                    head_only,
                )
                .await;
            }
            Fault::Truncated {
                status,
                body,
                announced,
            } => {
                return respond(
                    stream,
                    status,
                    "application/json",
                    body.as_bytes(),
                    announced,
                    false,
                )
                .await;
            }
            Fault::Close => return stream.shutdown().await,
            Fault::Reset => {
                // SO_LINGER 0: closing sends RST instead of FIN.
                #[allow(deprecated)]
                stream.set_linger(Some(Duration::ZERO))?;
                return Ok(());
            }
        }
    }
}

async fn json(
    stream: &mut TcpStream,
    status: u16,
    value: &Value,
    head_only: bool,
) -> std::io::Result<()> {
    let body = serde_json::to_vec(value).unwrap();
    respond(
        stream,
        status,
        "application/json",
        &body,
        body.len(),
        head_only,
    )
    .await
}
