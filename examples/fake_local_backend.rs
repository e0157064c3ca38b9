//! A fake `convex-local-backend` for tests (built by `cargo test` into
//! `target/debug/examples/`). It behaves like the real binary in the three
//! ways the CLI runs it:
//!
//! * `... --help` prints a usage text and exits 0;
//! * `keygen admin-key --instance-name N --instance-secret S` prints
//!   `N|fakeadminkey-<first 24 hex digits of sha256("N\nS")>`;
//! * otherwise it serves a deployment's HTTP API on `127.0.0.1:<--port>`
//!   (`/instance_name`, `/api/v1/get_canonical_urls`, the push endpoints,
//!   `/api/stream_function_logs`, ...) and listens on `--site-proxy-port`,
//!   creating the `--local-storage` folder and the database file, until
//!   SIGTERM/SIGINT.
//!
//! Environment knobs (tests set them in a wrapper script):
//! * `FAKE_LOCAL_BACKEND_LOG`: file to append JSON lines to (each run's argv
//!   and kind, served requests, how it ended);
//! * `FAKE_LOCAL_BACKEND_INSTALLED_AS`: a label logged with each run (the
//!   version it was installed as);
//! * `FAKE_LOCAL_BACKEND_STARTUP_DELAY_MS`: wait before listening;
//! * `FAKE_LOCAL_BACKEND_NAME`: answer this instance name instead;
//! * `FAKE_LOCAL_BACKEND_EXIT`: exit with this code instead of serving;
//! * `FAKE_LOCAL_BACKEND_HELP_EXIT`: exit code of the `--help` probe.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn log(event: Value) {
    let Ok(path) = std::env::var("FAKE_LOCAL_BACKEND_LOG") else {
        return;
    };
    let mut event = event;
    event["pid"] = json!(std::process::id());
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        // One write per line: `writeln!` may split it, and a reader could
        // see half a line.
        let _ = file.write_all(format!("{event}\n").as_bytes());
    }
}

fn env_number(name: &str) -> Option<i64> {
    std::env::var(name).ok()?.parse().ok()
}

fn option(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn admin_key(name: &str, secret: &str) -> String {
    let digest: String = Sha256::digest(format!("{name}\n{secret}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{name}|fakeadminkey-{}", &digest[..24])
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = if args.iter().any(|a| a == "--help" || a == "-h") {
        "help"
    } else if args.first().map(String::as_str) == Some("keygen") {
        "keygen"
    } else {
        "serve"
    };
    log(json!({
        "event": "start", "kind": kind, "argv": args,
        "installed_as": std::env::var("FAKE_LOCAL_BACKEND_INSTALLED_AS").ok(),
    }));
    match kind {
        "help" => {
            let code = env_number("FAKE_LOCAL_BACKEND_HELP_EXIT").unwrap_or(0) as i32;
            if code == 0 {
                println!(
                    "fake convex-local-backend\n\nUsage: convex-local-backend [OPTIONS] [DB_SPEC]"
                );
            } else {
                eprintln!("fake convex-local-backend: help probe told to fail");
            }
            log(json!({"event": "end", "how": format!("exit {code}")}));
            std::process::exit(code);
        }
        "keygen" => {
            let (Some(name), Some(secret)) = (
                option(&args, "--instance-name"),
                option(&args, "--instance-secret"),
            ) else {
                eprintln!("error: keygen admin-key needs --instance-name and --instance-secret");
                std::process::exit(2);
            };
            println!("{}", admin_key(&name, &secret));
            log(json!({"event": "end", "how": "exit 0"}));
        }
        _ => serve(args),
    }
}

struct State {
    name: String,
    port: u16,
    site_port: u16,
}

#[tokio::main(flavor = "current_thread")]
async fn serve(args: Vec<String>) {
    if let Some(code) = env_number("FAKE_LOCAL_BACKEND_EXIT") {
        eprintln!("fake convex-local-backend: told to exit with {code}");
        log(json!({"event": "end", "how": format!("exit {code}")}));
        std::process::exit(code as i32);
    }
    let (Some(port), Some(name)) = (
        option(&args, "--port").and_then(|p| p.parse::<u16>().ok()),
        option(&args, "--instance-name"),
    ) else {
        eprintln!("error: --port and --instance-name are required");
        std::process::exit(2);
    };
    let site_port = option(&args, "--site-proxy-port")
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(0);
    // What a real backend leaves behind: its file storage and database.
    if let Some(storage) = option(&args, "--local-storage") {
        let _ = std::fs::create_dir_all(storage);
    }
    if let Some(db) = args
        .last()
        .filter(|a| !a.starts_with("--") && a.ends_with(".sqlite3"))
    {
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(db);
    }
    if let Some(delay) = env_number("FAKE_LOCAL_BACKEND_STARTUP_DELAY_MS") {
        tokio::time::sleep(Duration::from_millis(delay as u64)).await;
    }
    let state = Arc::new(State {
        name: std::env::var("FAKE_LOCAL_BACKEND_NAME").unwrap_or(name),
        port,
        site_port,
    });
    let mut listeners = Vec::new();
    for (which, p) in [("cloud", port), ("site", site_port)] {
        if p == 0 {
            continue;
        }
        match tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], p))).await {
            Ok(l) => listeners.push((which, l)),
            Err(e) => {
                eprintln!("error: cannot listen on {p}: {e}");
                log(json!({"event": "end", "how": "exit 1", "error": e.to_string()}));
                std::process::exit(1);
            }
        }
    }
    log(json!({"event": "listening", "port": port, "site_port": site_port}));
    for (which, listener) in listeners {
        let state = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(req, state.clone(), which));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    }
    let how = wait_for_signal().await;
    log(json!({"event": "end", "how": how}));
    std::process::exit(0);
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
    which: &'static str,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers: BTreeMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    log(json!({
        "event": "request", "server": which, "method": method, "path": path,
        "query": query, "headers": headers, "body": body_json,
    }));
    let url = |p: u16| format!("http://127.0.0.1:{p}");
    let answer = match (which, method.as_str(), path.as_str()) {
        ("cloud", "GET", "/instance_name") => {
            return Ok(Response::new(Full::new(Bytes::from(state.name.clone()))));
        }
        ("cloud", "GET", "/api/v1/get_canonical_urls") => Some(json!({
            "convexCloudUrl": url(state.port),
            "convexSiteUrl": url(if state.site_port == 0 { state.port } else { state.site_port }),
        })),
        ("cloud", "POST", "/api/get_config_hashes") => Some(json!({
            "config": {"functions": "convex/", "authInfo": []},
            "moduleHashes": [], "nodeDependencies": [], "udfServerVersion": null,
        })),
        ("cloud", "POST", "/api/deploy2/evaluate_schema") => Some(json!({
            "componentSchemaEvaluations": {"": {
                "definitionPath": "", "schemaValidation": true, "tables": [], "indexes": [],
                "discardedStagedValidators": [],
            }},
            "newComponentDefinitions": [],
        })),
        ("cloud", "POST", "/api/deploy2/evaluate_push") => {
            Some(json!({"schemaChange": schema_change()}))
        }
        ("cloud", "POST", "/api/deploy2/start_push") => Some(start_push_response()),
        ("cloud", "POST", "/api/deploy2/wait_for_schema") => Some(json!({"type": "complete"})),
        ("cloud", "POST", "/api/deploy2/finish_push") => Some(json!({
            "authDiff": {"added": [], "removed": []},
            "definitionDiffs": {},
            "componentDiffs": {"": {
                "diffType": {"type": "modify"},
                "moduleDiff": {"added": [], "removed": []},
                "udfConfigDiff": null,
                "cronDiff": {"added": [], "updated": [], "deleted": []},
                "indexDiff": {"added_indexes": [], "removed_indexes": []},
                "schemaDiff": null,
            }},
        })),
        ("cloud", "POST", "/api/deploy2/report_push_completed") => Some(json!({})),
        ("cloud", "POST", "/api/update_environment_variables") => Some(json!({})),
        ("cloud", "POST", "/api/query") => {
            Some(json!({"status": "success", "value": 0, "logLines": []}))
        }
        ("cloud", "GET", "/api/stream_function_logs") => {
            // A long poll with nothing to report.
            tokio::time::sleep(Duration::from_secs(5)).await;
            Some(json!({"entries": [], "newCursor": 0}))
        }
        _ => None,
    };
    let (status, value) = match answer {
        Some(value) => (StatusCode::OK, value),
        None => (
            StatusCode::NOT_FOUND,
            json!({"code": "NotFound", "message": format!("fake backend: no route for {method} {path}")}),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

fn schema_change() -> Value {
    json!({
        "allocatedComponentIds": {},
        "schemaIds": {},
        "indexDiffs": {"": {
            "added_indexes": [], "removed_indexes": [], "enabled_indexes": [], "disabled_indexes": [],
        }},
    })
}

fn start_push_response() -> Value {
    json!({
        "environmentVariables": {},
        "externalDepsId": null,
        "componentDefinitionPackages": {},
        "appAuth": [],
        "analysis": {"": {
            "definition": {
                "path": "", "definitionType": {"type": "app"}, "childComponents": [],
                "httpMounts": {}, "exports": {"type": "branch", "branch": []},
            },
            "schema": {"tables": [], "schemaValidation": true},
            "functions": {},
            "udfConfig": {
                "serverVersion": "0.0.0-fake",
                "importPhaseRngSeed": {"$bytes": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
                "importPhaseUnixTimestamp": {"$integer": "AAAAAAAAAAA="},
            },
        }},
        "app": {
            "definitionPath": "", "componentPath": "", "args": {}, "childComponents": {},
            "httpRoutes": {"httpModuleRoutes": null, "mounts": []}, "exports": {},
        },
        "schemaChange": schema_change(),
    })
}
