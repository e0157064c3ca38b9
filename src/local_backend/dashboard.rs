//! The local dashboard of long-running anonymous `dev`: the self-hosted
//! dashboard build (`dashboard.zip` of the backend's release, cached in
//! `<cache>/dashboard/out`) served on `127.0.0.1:<port from 6790>`, with
//! `/api/current_deployment` telling it which deployment to open.

use std::convert::Infallible;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode, header};

use super::download::BinaryVersion;
use super::paths::BackendDirs;
use super::ports::find_free_port;
use super::version::check_version;
use super::{LocalBackends, LocalDeploymentHandle, beacon_tag};
use crate::credentials::local_state::{LocalDeploymentKind, load_anonymous_uuid};
use crate::fsutil::write_atomic;
use crate::global_config::ConvexDirs;
use crate::http::ManagementClient;

/// Where the dashboard's port search starts.
pub const DEFAULT_DASHBOARD_PORT: u16 = 6790;

/// The running dashboard server; dropping it stops the server.
pub struct LocalDashboard {
    pub port: u16,
    server: tokio::task::JoinHandle<()>,
}

impl LocalDashboard {
    /// `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for LocalDashboard {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The dashboard URL saved for an anonymous deployment (`dashboard.json` next
/// to its `config.json`), for the summary and `convex dashboard`.
pub fn saved_dashboard_url(
    dirs: &ConvexDirs,
    project_dir: &Path,
    deployment_name: &str,
) -> Option<String> {
    let dir =
        dirs.deployment_state_dir(project_dir, LocalDeploymentKind::Anonymous, deployment_name);
    let text = std::fs::read_to_string(dir.join("dashboard.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let port = value.get("port")?.as_u64()?;
    Some(format!("http://127.0.0.1:{port}/"))
}

struct Served {
    out_dir: PathBuf,
    port: u16,
    current_deployment: String,
    /// The first page request reports `self_host_dashboard_connected`.
    reported: AtomicBool,
    report: serde_json::Value,
    management: ManagementClient,
}

impl LocalBackends {
    /// Downloads the dashboard of the running backend's version when the
    /// cache holds another one, picks a port, saves it in `dashboard.json`
    /// and serves the dashboard until the returned value is dropped.
    pub async fn start_dashboard(
        &self,
        deployment: &LocalDeploymentHandle,
        pinned_version: Option<&str>,
    ) -> Result<LocalDashboard> {
        // The version lookup is made at most once per run; here it is
        // normally answered from memory.
        let version = self
            .ensure_binary(match pinned_version {
                Some(v) => BinaryVersion::Exact(v.to_string()),
                None => BinaryVersion::Latest,
            })
            .await?
            .version;
        let out_dir = self.ensure_dashboard_downloaded(&version).await?;
        let port = tokio::task::spawn_blocking(|| find_free_port(DEFAULT_DASHBOARD_PORT))
            .await
            .context("The port search failed")?;
        let state_dir = self.dirs.deployment_state_dir(
            &self.project_dir,
            LocalDeploymentKind::Anonymous,
            &deployment.deployment_name,
        );
        std::fs::create_dir_all(&state_dir)
            .with_context(|| format!("Could not create the folder {}", state_dir.display()))?;
        let dashboard_json = state_dir.join("dashboard.json");
        write_atomic(
            &dashboard_json,
            serde_json::json!({ "port": port }).to_string().as_bytes(),
            None,
        )
        .with_context(|| format!("Could not write {}", dashboard_json.display()))?;

        let mut report = serde_json::json!({
            "eventName": "self_host_dashboard_connected",
            "tag": beacon_tag(LocalDeploymentKind::Anonymous),
        });
        if let Some(uuid) = load_anonymous_uuid(&self.dirs) {
            report["selfHostedUuid"] = serde_json::Value::String(uuid);
        }
        let served = Arc::new(Served {
            out_dir,
            port,
            current_deployment: serde_json::json!({
                "name": deployment.deployment_name,
                "url": deployment.url,
                "adminKey": deployment.admin_key,
            })
            .to_string(),
            reported: AtomicBool::new(false),
            report,
            management: ManagementClient::new(
                self.http.clone(),
                &self.provision_host,
                None,
                None,
                Default::default(),
            ),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| format!("Could not serve the dashboard on port {port}"))?;
        let server = tokio::spawn(async move {
            // Owned here so that stopping the server also ends open connections.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                while connections.try_join_next().is_some() {}
                let served = served.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let served = served.clone();
                        async move { Ok::<_, Infallible>(handle(&served, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(LocalDashboard { port, server })
    }

    /// `<cache>/dashboard/out` holding the dashboard of `version`,
    /// downloading it unless `<cache>/dashboard/config.json` says it is there.
    async fn ensure_dashboard_downloaded(&self, version: &str) -> Result<PathBuf> {
        check_version(version)?;
        let dir = self.dirs.cache.join("dashboard");
        let out_dir = dir.join("out");
        let config_file = dir.join("config.json");
        let cached = std::fs::read_to_string(&config_file)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|v| v.get("version").and_then(|v| v.as_str()) == Some(version));
        if cached && out_dir.is_dir() {
            return Ok(out_dir);
        }
        let release = self
            .download_release_zip(
                version,
                "dashboard.zip",
                "Convex dashboard",
                &self.dirs.cache,
            )
            .await?;
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("Could not remove the old {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("Could not create the folder {}", dir.display()))?;
        std::fs::rename(&release.unpacked, &out_dir)
            .with_context(|| format!("Could not move the dashboard to {}", out_dir.display()))?;
        write_atomic(
            &config_file,
            serde_json::json!({ "version": version })
                .to_string()
                .as_bytes(),
            None,
        )
        .with_context(|| format!("Could not write {}", config_file.display()))?;
        Ok(out_dir)
    }
}

async fn handle(served: &Served, request: Request<Incoming>) -> Response<Full<Bytes>> {
    // Only the address the CLI prints: no other host name that happens to
    // resolve to this machine (DNS rebinding).
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if host != format!("127.0.0.1:{}", served.port) && host != format!("localhost:{}", served.port)
    {
        return status_only(StatusCode::FORBIDDEN);
    }
    let path = request.uri().path().to_string();
    if path == "/api/current_deployment" {
        let mut response = Response::new(Full::new(Bytes::from(served.current_deployment.clone())));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        return response;
    }
    if !served.reported.swap(true, Ordering::SeqCst) {
        let management = served.management.clone();
        let report = served.report.clone();
        // Best effort, as the official CLI: the answer does not matter.
        tokio::spawn(async move {
            let _ = management
                .big_brain_post("self_hosted_event", Some(&report))
                .await;
        });
    }
    serve_static(&served.out_dir, &path)
}

fn status_only(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// Static files with the official server's "clean URL" rules: `/x.html` and
/// `/x/index` redirect to `/x`; `/x` serves `x/index.html` or `x.html`;
/// unknown paths get `404.html` (if the build has one) with status 404.
fn serve_static(root: &Path, raw_path: &str) -> Response<Full<Bytes>> {
    let Some(path) = percent_decode(raw_path) else {
        return status_only(StatusCode::BAD_REQUEST);
    };
    let relative = Path::new(path.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return status_only(StatusCode::BAD_REQUEST);
    }
    for suffix in [".html", "/index"] {
        if let Some(stripped) = path.strip_suffix(suffix) {
            let target = if stripped.starts_with('/') {
                stripped.to_string()
            } else {
                format!("/{stripped}")
            };
            let mut response = status_only(StatusCode::MOVED_PERMANENTLY);
            if let Ok(location) = header::HeaderValue::from_str(&target) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            return response;
        }
    }
    let direct = root.join(relative);
    let candidates = [
        direct.clone(),
        direct.join("index.html"),
        root.join(format!("{}.html", relative.display())),
    ];
    let found = if relative.extension().is_some() {
        candidates.iter().find(|p| p.is_file())
    } else {
        candidates[1..]
            .iter()
            .chain(&candidates[..1])
            .find(|p| p.is_file())
    };
    match found {
        Some(file) => file_response(file, StatusCode::OK),
        None => {
            let not_found = root.join("404.html");
            if not_found.is_file() {
                file_response(&not_found, StatusCode::NOT_FOUND)
            } else {
                status_only(StatusCode::NOT_FOUND)
            }
        }
    }
}

fn file_response(file: &Path, status: StatusCode) -> Response<Full<Bytes>> {
    let Ok(bytes) = std::fs::read(file) else {
        return status_only(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type(file)),
    );
    response
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "application/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: Response<Full<Bytes>>) -> (StatusCode, String) {
        use http_body_util::BodyExt;
        let status = response.status();
        let bytes = futures_util::FutureExt::now_or_never(response.into_body().collect())
            .unwrap()
            .unwrap()
            .to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[test]
    fn clean_urls() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join("index.html"), "home").unwrap();
        std::fs::write(root.join("data.html"), "data").unwrap();
        std::fs::create_dir_all(root.join("settings")).unwrap();
        std::fs::write(root.join("settings/index.html"), "settings").unwrap();
        std::fs::create_dir_all(root.join("_next")).unwrap();
        std::fs::write(root.join("_next/app.js"), "js").unwrap();
        assert_eq!(
            body(serve_static(root, "/")),
            (StatusCode::OK, "home".into())
        );
        assert_eq!(
            body(serve_static(root, "/data")),
            (StatusCode::OK, "data".into())
        );
        assert_eq!(
            body(serve_static(root, "/settings")),
            (StatusCode::OK, "settings".into())
        );
        assert_eq!(
            body(serve_static(root, "/_next/app.js")),
            (StatusCode::OK, "js".into())
        );
        let redirect = serve_static(root, "/data.html");
        assert_eq!(redirect.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(redirect.headers()[header::LOCATION], "/data");
        assert_eq!(serve_static(root, "/nope").status(), StatusCode::NOT_FOUND);
        std::fs::write(root.join("404.html"), "lost").unwrap();
        assert_eq!(
            body(serve_static(root, "/nope")),
            (StatusCode::NOT_FOUND, "lost".into())
        );
        assert_eq!(
            serve_static(root, "/../secret").status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            serve_static(root, "/%2e%2e/secret").status(),
            StatusCode::BAD_REQUEST
        );
    }
}
