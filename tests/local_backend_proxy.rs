//! The local backend's outside requests (version lookup, release download)
//! through an HTTPS proxy, with the proxy's certificate trusted through
//! `SSL_CERT_FILE` / `NODE_EXTRA_CA_CERTS`, and loopback traffic kept off the
//! proxy by `NO_PROXY` — using the shared HTTP client, as `convex dev` does.
//!
//! A loopback proxy accepts `CONNECT version.convex.dev:443` and
//! `CONNECT github.com:443`, terminates TLS with a certificate from a test CA
//! made here, and answers like the real hosts. Anything else is refused.
#![cfg(unix)]

mod support;

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use convex_cli::env::Env;
use convex_cli::global_config::ConvexDirs;
use convex_cli::http::HttpClient;
use convex_cli::local_backend::*;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use support::example;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const VERSION: &str = "precompiled-2026-11-20-fake001";

/// A CA (PEM) and a server certificate it signed for the two outside hosts.
fn tls_material() -> (String, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![
        "version.convex.dev".to_string(),
        "github.com".to_string(),
    ])
    .unwrap()
    .signed_by(&key, &ca)
    .unwrap();
    (
        ca.pem(),
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
}

/// What the proxy saw: `CONNECT host:port` lines, then the requests inside
/// the tunnels as `host METHOD path convex-client`.
type Log = Arc<Mutex<Vec<String>>>;

/// Starts the proxy; returns its URL.
async fn start_proxy(zip: Vec<u8>, log: Log) -> String {
    let (_, certs, key) = TLS.get_or_init(tls_material);
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs.clone(), key.clone_key())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let zip = Bytes::from(zip);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, log, zip) = (acceptor.clone(), log.clone(), zip.clone());
            tokio::spawn(async move {
                // The request head, byte by byte: nothing of the tunnel is read.
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let first = head.lines().next().unwrap_or("").to_string();
                let mut parts = first.split_whitespace();
                let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                log.lock().unwrap().push(format!("{method} {target}"));
                let host = target.trim_end_matches(":443").to_string();
                if method != "CONNECT"
                    || !["version.convex.dev", "github.com"].contains(&host.as_str())
                {
                    let _ = stream
                        .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                }
                let _ = stream
                    .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    .await;
                let Ok(tls) = acceptor.accept(stream).await else {
                    log.lock()
                        .unwrap()
                        .push(format!("TLS handshake with {host} failed"));
                    return;
                };
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (log, zip, host) = (log.clone(), zip.clone(), host.clone());
                    async move {
                        let client = req
                            .headers()
                            .get("convex-client")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-")
                            .to_string();
                        let path = req.uri().path().to_string();
                        log.lock()
                            .unwrap()
                            .push(format!("{host} {} {path} {client}", req.method()));
                        let asset = release_asset_name().unwrap();
                        let response = match (host.as_str(), path.as_str()) {
                            ("version.convex.dev", "/v1/local_backend_version") => Response::new(
                                Full::new(Bytes::from(format!("{{\"version\":\"{VERSION}\"}}"))),
                            ),
                            ("github.com", p)
                                if p == format!(
                                    "/convex/convex-backend/releases/download/{VERSION}/{asset}"
                                ) =>
                            {
                                Response::new(Full::new(zip))
                            }
                            _ => {
                                let mut r = Response::new(Full::new(Bytes::new()));
                                *r.status_mut() = StatusCode::NOT_FOUND;
                                r
                            }
                        };
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    url
}

static TLS: OnceLock<(String, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> =
    OnceLock::new();

fn release_zip(contents: &str) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        zip.start_file("convex-local-backend", options).unwrap();
        zip.write_all(contents.as_bytes()).unwrap();
        zip.finish().unwrap();
    }
    buf.into_inner()
}

struct Setup {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
    ca_file: PathBuf,
    log: Log,
    proxy: String,
}

async fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let project = tmp.path().join("app");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    let ca_file = tmp.path().join("ca.pem");
    std::fs::write(&ca_file, &TLS.get_or_init(tls_material).0).unwrap();
    let wrapper = format!(
        "#!/bin/sh\nexec '{}' \"$@\"\n",
        example("fake_local_backend").display()
    );
    let log: Log = Arc::default();
    let proxy = start_proxy(release_zip(&wrapper), log.clone()).await;
    Setup {
        _tmp: tmp,
        home,
        project,
        ca_file,
        log,
        proxy,
    }
}

impl Setup {
    fn backends(&self, ca_var: Option<&str>) -> LocalBackends {
        let ca = self.ca_file.to_str().unwrap();
        let mut pairs = vec![
            ("HTTPS_PROXY", self.proxy.as_str()),
            ("HTTP_PROXY", self.proxy.as_str()),
            ("NO_PROXY", "127.0.0.1,localhost"),
        ];
        if let Some(var) = ca_var {
            pairs.push((var, ca));
        }
        let env = Env::from_pairs(pairs);
        let settings = LocalBackendSettings {
            dirs: ConvexDirs::new(&self.home, &Env::default()),
            project_dir: self.project.clone(),
            provision_host: PRODUCTION_PROVISION_HOST.to_string(),
            startup_timeout_secs: None,
            stdin_is_terminal: false,
            stderr_is_terminal: false,
        };
        // The real outside addresses: only the proxy makes them reachable.
        LocalBackends::new(
            HttpClient::new(&env).unwrap(),
            settings,
            Arc::new(NoPrompts),
        )
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn lookup_and_download_go_through_the_proxy_with_the_extra_ca() {
    for ca_var in ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"] {
        let setup = setup().await;
        let (cloud, site) = {
            let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            (
                a.local_addr().unwrap().port(),
                b.local_addr().unwrap().port(),
            )
        };
        let deployment = setup
            .backends(Some(ca_var))
            .ensure_anonymous_deployment(&AnonymousOptions {
                local: LocalBackendOptions {
                    cloud_port: Some(cloud),
                    site_port: Some(site),
                    ..Default::default()
                },
                agent_mode: true,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{ca_var}: {e:#}\nproxy saw {:?}", setup.log()));
        assert_eq!(deployment.backend_version, VERSION);
        let asset = release_asset_name().unwrap();
        let inside: Vec<String> = setup
            .log()
            .into_iter()
            .filter(|l| !l.starts_with("CONNECT "))
            .collect();
        assert_eq!(
            inside,
            [
                "version.convex.dev GET /v1/local_backend_version npm-cli-1.48.0".to_string(),
                format!(
                    "github.com GET /convex/convex-backend/releases/download/{VERSION}/{asset} -"
                ),
            ],
            "{ca_var}"
        );
        // Only tunnels to the two hosts: the health probes to 127.0.0.1 went
        // direct (NO_PROXY), or the proxy would have refused them.
        assert!(
            setup
                .log()
                .iter()
                .filter(|l| l.starts_with("CONNECT "))
                .all(|l| l == "CONNECT version.convex.dev:443" || l == "CONNECT github.com:443"),
            "{:?}",
            setup.log()
        );
        deployment.shutdown().await;
    }
}

#[tokio::test]
async fn without_the_extra_ca_the_proxy_certificate_is_refused() {
    let setup = setup().await;
    let err = setup
        .backends(None)
        .ensure_binary(BinaryVersion::Latest)
        .await
        .unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("latest local backend version"),
        "{message}"
    );
    assert!(
        setup
            .log()
            .iter()
            .all(|l| !l.starts_with("version.convex.dev GET")),
        "no request may pass an untrusted TLS handshake: {:?}",
        setup.log()
    );
}
