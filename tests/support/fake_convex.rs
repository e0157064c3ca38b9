//! A loopback fake of the Convex services for the data-plane command tests:
//! one port answers the management API, the deployment's HTTP API and the
//! sync protocol's WebSocket (`GET /api/<version>/sync`), and logs
//! everything it was sent, WebSocket messages included.
//!
//! HTTP answers come from [`Route`]s (first match wins, `times` limits a
//! route to N answers); sync answers from [`SyncScript`]s (one per
//! connection, in order; the last one stays): each query the client adds is
//! answered with one `Transition` per scripted value, or `QueryFailed`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// One logged request or WebSocket message.
#[derive(Debug, Clone)]
pub struct Logged {
    /// `GET`, `POST`, ... or `WS` for a message sent on a socket.
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Logged {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

#[derive(Debug, Clone)]
pub struct Route {
    pub method: &'static str,
    pub path: String,
    /// Each pair must be in the query string.
    pub query: Vec<(String, String)>,
    pub status: u16,
    pub body: Value,
    pub times: Option<usize>,
    /// Answer with this raw text instead of `body`.
    pub raw: Option<String>,
    /// Answer with the request's own body (`network-test`'s `/echo`).
    pub echo: bool,
}

impl Route {
    pub fn new(method: &'static str, path: &str, body: Value) -> Route {
        Route {
            method,
            path: path.to_string(),
            query: Vec::new(),
            status: 200,
            body,
            times: None,
            raw: None,
            echo: false,
        }
    }
    pub fn echo(mut self) -> Route {
        self.echo = true;
        self
    }
    pub fn status(mut self, status: u16) -> Route {
        self.status = status;
        self
    }
    pub fn times(mut self, n: usize) -> Route {
        self.times = Some(n);
        self
    }
    pub fn query(mut self, k: &str, v: &str) -> Route {
        self.query.push((k.to_string(), v.to_string()));
        self
    }
    pub fn raw(mut self, text: &str) -> Route {
        self.raw = Some(text.to_string());
        self
    }
}

/// What one sync connection answers.
#[derive(Debug, Clone, Default)]
pub struct SyncScript {
    /// udfPath (canonical) → values, one transition each.
    pub queries: HashMap<String, Vec<Value>>,
    /// udfPath → error message (`QueryFailed`).
    pub errors: HashMap<String, String>,
    /// Close the socket (code 1011) after sending the scripted values.
    pub close_after: bool,
    /// Refuse the upgrade with this HTTP status.
    pub refuse: Option<u16>,
}

impl SyncScript {
    pub fn query(mut self, udf_path: &str, values: Vec<Value>) -> SyncScript {
        self.queries.insert(udf_path.to_string(), values);
        self
    }
    pub fn error(mut self, udf_path: &str, message: &str) -> SyncScript {
        self.errors
            .insert(udf_path.to_string(), message.to_string());
        self
    }
    pub fn close_after(mut self) -> SyncScript {
        self.close_after = true;
        self
    }
    pub fn refuse(mut self, status: u16) -> SyncScript {
        self.refuse = Some(status);
        self
    }
}

#[derive(Default)]
struct State {
    routes: Vec<Route>,
    sync: Vec<SyncScript>,
    /// Sync connections served so far.
    sync_used: usize,
    log: Vec<Logged>,
    url: String,
}

#[derive(Clone)]
pub struct FakeConvex {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeConvex {
    /// Start on a free loopback port, with the deploy-key routes
    /// (`url_for_key`, `team_and_project_for_key`) pointing at itself.
    pub async fn start() -> FakeConvex {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            url: format!("http://{addr}"),
            ..State::default()
        }));
        let fake = FakeConvex { addr, state };
        let server = fake.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let server = server.clone();
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let service = hyper::service::service_fn(move |req| {
                        let server = server.clone();
                        async move { Ok::<_, Infallible>(server.handle(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .with_upgrades()
                        .await;
                });
            }
        });
        let url = fake.url();
        fake.route(Route::new(
            "POST",
            "/api/deployment/url_for_key",
            json!(url),
        ));
        fake.route(Route::new(
            "POST",
            "/api/deployment/team_and_project_for_key",
            json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242,
                   "reference": "production", "isDefault": true}),
        ));
        fake
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Add an HTTP route (tried before the ones added earlier).
    pub fn route(&self, route: Route) {
        self.state.lock().unwrap().routes.insert(0, route);
    }

    /// Add the script of the next sync connection.
    pub fn sync(&self, script: SyncScript) {
        self.state.lock().unwrap().sync.push(script);
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    /// The messages clients sent on sockets, as JSON.
    pub fn ws_messages(&self) -> Vec<Value> {
        self.log()
            .iter()
            .filter(|l| l.method == "WS")
            .map(Logged::json)
            .collect()
    }

    /// Logged HTTP requests to `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Logged> {
        self.log()
            .into_iter()
            .filter(|l| l.method != "WS" && l.path == path)
            .collect()
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or("").to_string();
        let headers: HashMap<String, String> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let is_upgrade = headers
            .get("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        if is_upgrade && path.starts_with("/api/") && path.ends_with("/sync") {
            self.push_log(Logged {
                method,
                path: path.clone(),
                query,
                headers: headers.clone(),
                body: String::new(),
            });
            return self.upgrade(req, headers, path);
        }
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let raw_body = body.clone();
        let body = String::from_utf8_lossy(&body).into_owned();
        self.push_log(Logged {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            headers,
            body,
        });
        let pairs: Vec<(String, String)> = url_pairs(&query);
        let answer = {
            let mut state = self.state.lock().unwrap();
            let found = state.routes.iter_mut().find(|r| {
                r.method == method
                    && r.path == path
                    && r.times != Some(0)
                    && r.query.iter().all(|q| pairs.contains(q))
            });
            found.map(|r| {
                if let Some(t) = r.times.as_mut() {
                    *t -= 1;
                }
                let text = if r.echo {
                    raw_body.clone()
                } else {
                    Bytes::from(r.raw.clone().unwrap_or_else(|| r.body.to_string()))
                };
                (r.status, text)
            })
        };
        let (status, text) = answer.unwrap_or((
            404,
            Bytes::from(
                json!({"code": "NotFound", "message": format!("no route for {path}")}).to_string(),
            ),
        ));
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(text))
            .unwrap()
    }

    fn push_log(&self, entry: Logged) {
        self.state.lock().unwrap().log.push(entry);
    }

    fn next_script(&self) -> SyncScript {
        let mut state = self.state.lock().unwrap();
        let index = state.sync_used.min(state.sync.len().saturating_sub(1));
        state.sync_used += 1;
        state.sync.get(index).cloned().unwrap_or_default()
    }

    fn upgrade(
        &self,
        mut req: Request<Incoming>,
        headers: HashMap<String, String>,
        path: String,
    ) -> Response<Full<Bytes>> {
        let script = self.next_script();
        if let Some(status) = script.refuse {
            return Response::builder()
                .status(status)
                .body(Full::new(Bytes::from("refused by the test")))
                .unwrap();
        }
        let key = headers
            .get("sec-websocket-key")
            .cloned()
            .unwrap_or_default();
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        let server = self.clone();
        tokio::spawn(async move {
            let Ok(upgraded) = hyper::upgrade::on(&mut req).await else {
                return;
            };
            let io = hyper_util::rt::TokioIo::new(upgraded);
            let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
                io,
                tokio_tungstenite::tungstenite::protocol::Role::Server,
                None,
            )
            .await;
            server.serve_sync(ws, script, path).await;
        });
        Response::builder()
            .status(101)
            .header("upgrade", "websocket")
            .header("connection", "Upgrade")
            .header("sec-websocket-accept", accept)
            .body(Full::new(Bytes::new()))
            .unwrap()
    }

    async fn serve_sync<S>(
        &self,
        mut ws: tokio_tungstenite::WebSocketStream<S>,
        script: SyncScript,
        path: String,
    ) where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let mut query_set = 0u64;
        let mut identity = 0u64;
        let mut ts = 0u64;
        let u64_b64 = |n: u64| base64::engine::general_purpose::STANDARD.encode(n.to_le_bytes());
        let mut last = json!({"querySet": 0, "identity": 0, "ts": u64_b64(0)});
        while let Some(Ok(message)) = ws.next().await {
            let text = match message {
                Message::Text(t) => t.to_string(),
                Message::Close(_) => return,
                _ => continue,
            };
            self.push_log(Logged {
                method: "WS".into(),
                path: path.clone(),
                query: String::new(),
                headers: HashMap::new(),
                body: text.clone(),
            });
            let msg: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let mut answers = Vec::new();
            match msg["type"].as_str() {
                Some("Authenticate") => identity = msg["baseVersion"].as_u64().unwrap_or(0) + 1,
                Some("ModifyQuerySet") => {
                    query_set = msg["newVersion"].as_u64().unwrap_or(query_set);
                    for m in msg["modifications"].as_array().cloned().unwrap_or_default() {
                        if m["type"] != "Add" {
                            continue;
                        }
                        let udf = m["udfPath"].as_str().unwrap_or("").to_string();
                        if let Some(values) = script.queries.get(&udf) {
                            for v in values {
                                answers
                                    .push(json!({"type": "QueryUpdated", "queryId": m["queryId"],
                                    "value": v, "logLines": [], "journal": null}));
                            }
                        } else {
                            let message = script
                                .errors
                                .get(&udf)
                                .cloned()
                                .unwrap_or_else(|| format!("no script for {udf}"));
                            answers.push(json!({"type": "QueryFailed", "queryId": m["queryId"],
                                "errorMessage": message, "logLines": [], "journal": null}));
                        }
                    }
                }
                _ => {}
            }
            let had_answers = !answers.is_empty();
            for modification in answers {
                ts += 1;
                let end = json!({"querySet": query_set, "identity": identity, "ts": u64_b64(ts)});
                let transition = json!({"type": "Transition", "startVersion": last,
                    "endVersion": end, "modifications": [modification]});
                last = end;
                if ws
                    .send(Message::text(transition.to_string()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            if had_answers && script.close_after {
                let _ = ws
                    .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                        code: 1011u16.into(),
                        reason: "InternalServerError: test".into(),
                    }))
                    .await;
                return;
            }
        }
    }
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() + 1 && i + 3 <= bytes.len() => {
                if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
