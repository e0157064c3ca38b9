//! WebSocket connections (the Convex sync protocol's transport), opened with
//! the same network settings as the HTTP client: the proxy rule of
//! [`super::ProxyRule`] (`HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`, reached
//! with a `CONNECT` tunnel), the connect timeout, and rustls with the
//! platform's roots plus `SSL_CERT_FILE` / `NODE_EXTRA_CA_CERTS` (the
//! verifier reqwest builds for the HTTP client). No OpenSSL.
//!
//! [`connect`] returns a [`WebSocket`] after the upgrade handshake; the sync
//! protocol itself is in [`crate::sync`].

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite;

use super::{CONNECT_TIMEOUT, HttpClient};
use crate::env_vars;

/// A byte stream: plain TCP, TLS, or TLS inside a proxy tunnel.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A boxed [`Stream`] (so every way of getting there has one type).
pub struct BoxedStream(Box<dyn Stream>);

impl AsyncRead for BoxedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for BoxedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

/// An open WebSocket.
pub type WebSocket = WebSocketStream<BoxedStream>;

/// Why a WebSocket could not be opened.
#[derive(Debug)]
pub enum ConnectError {
    /// The URL is not a `ws://` / `wss://` URL.
    BadUrl(String),
    /// No TCP connection (or proxy tunnel, or TLS session) could be made.
    Network(String),
    /// The server answered the upgrade with an HTTP status instead of 101.
    Status { status: u16, body: String },
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::BadUrl(m) => write!(f, "{m}"),
            ConnectError::Network(m) => write!(f, "{m}"),
            ConnectError::Status { status, body } => {
                write!(f, "the server answered HTTP {status}")?;
                let body = body.trim();
                if !body.is_empty() {
                    let short: String = body.chars().take(300).collect();
                    write!(f, ": {short}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConnectError {}

/// Open a WebSocket to `url` (`ws://` or `wss://`) through the proxy the
/// environment names, if any.
pub async fn connect(http: &HttpClient, url: &str) -> Result<WebSocket, ConnectError> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| ConnectError::BadUrl(format!("{url}: {e}")))?;
    let tls = match parsed.scheme() {
        "wss" => true,
        "ws" => false,
        other => {
            return Err(ConnectError::BadUrl(format!(
                "{url}: unsupported scheme {other}"
            )));
        }
    };
    let host = parsed
        .host_str()
        .ok_or_else(|| ConnectError::BadUrl(format!("{url}: no host")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = parsed
        .port_or_known_default()
        .unwrap_or(if tls { 443 } else { 80 });
    // The proxy rule is written for http(s) URLs.
    let mut as_http = parsed.clone();
    let _ = as_http.set_scheme(if tls { "https" } else { "http" });
    let proxy = http
        .proxy_rule
        .as_ref()
        .and_then(|rule| rule.proxy_for(&as_http));

    let stream = match &proxy {
        None => BoxedStream(Box::new(tcp_connect(&host, port).await?)),
        Some(proxy) => tunnel(http, proxy, &host, port).await?,
    };
    let stream = if tls {
        BoxedStream(Box::new(tls_connect(http, &host, stream).await?))
    } else {
        stream
    };
    crate::output::verbose(&format!(
        "Opening WebSocket {url}{}",
        proxy
            .as_ref()
            .map(|p| format!(" through proxy {}", redact_proxy(p)))
            .unwrap_or_default()
    ));
    let request = tungstenite::client::IntoClientRequest::into_client_request(url)
        .map_err(|e| ConnectError::BadUrl(format!("{url}: {e}")))?;
    let config = tungstenite::protocol::WebSocketConfig::default();
    match tokio::time::timeout(
        super::read_timeout(&http.process_env),
        tokio_tungstenite::client_async_with_config(request, stream, Some(config)),
    )
    .await
    {
        Err(_) => Err(ConnectError::Network(format!(
            "{url}: no answer to the WebSocket upgrade"
        ))),
        Ok(Ok((socket, _response))) => Ok(socket),
        Ok(Err(tungstenite::Error::Http(response))) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Err(ConnectError::Status { status, body })
        }
        Ok(Err(e)) => Err(ConnectError::Network(format!("{url}: {e}"))),
    }
}

fn redact_proxy(proxy: &reqwest::Url) -> String {
    let mut p = proxy.clone();
    if p.password().is_some() {
        let _ = p.set_password(Some("***"));
    }
    p.to_string()
}

async fn tcp_connect(host: &str, port: u16) -> Result<TcpStream, ConnectError> {
    let connect = TcpStream::connect((host, port));
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| {
            ConnectError::Network(format!(
                "could not connect to {host}:{port} within {} s",
                CONNECT_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| ConnectError::Network(format!("could not connect to {host}:{port}: {e}")))?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// A `CONNECT host:port` tunnel through an `http://` or `https://` proxy.
async fn tunnel(
    http: &HttpClient,
    proxy: &reqwest::Url,
    host: &str,
    port: u16,
) -> Result<BoxedStream, ConnectError> {
    let proxy_host = proxy
        .host_str()
        .unwrap_or("")
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let proxy_tls = proxy.scheme() == "https";
    let proxy_port = proxy
        .port_or_known_default()
        .unwrap_or(if proxy_tls { 443 } else { 80 });
    let tcp = tcp_connect(&proxy_host, proxy_port).await?;
    let mut stream = if proxy_tls {
        BoxedStream(Box::new(
            tls_connect(http, &proxy_host, BoxedStream(Box::new(tcp))).await?,
        ))
    } else {
        BoxedStream(Box::new(tcp))
    };
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if !proxy.username().is_empty() {
        use base64::Engine as _;
        let user = percent_decode(proxy.username());
        let password = percent_decode(proxy.password().unwrap_or(""));
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    let proxy_failed = |e: std::io::Error| {
        ConnectError::Network(format!("the proxy {} failed: {e}", redact_proxy(proxy)))
    };
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(proxy_failed)?;
    // Read the proxy's answer up to the blank line, byte by byte so nothing
    // of the tunnelled stream is consumed.
    let mut head = Vec::new();
    let read_head = async {
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() > 16 * 1024 {
                return Err(std::io::Error::other("answer too long"));
            }
            let n = stream.read(&mut byte).await?;
            if n == 0 {
                return Err(std::io::Error::other("the proxy closed the connection"));
            }
            head.push(byte[0]);
        }
        Ok(())
    };
    tokio::time::timeout(CONNECT_TIMEOUT, read_head)
        .await
        .map_err(|_| {
            ConnectError::Network(format!(
                "the proxy {} did not answer CONNECT",
                redact_proxy(proxy)
            ))
        })?
        .map_err(proxy_failed)?;
    let status_line = String::from_utf8_lossy(head.split(|b| *b == b'\n').next().unwrap_or(&[]))
        .trim()
        .to_string();
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if !status.starts_with('2') {
        return Err(ConnectError::Network(format!(
            "the proxy {} refused the tunnel to {authority}: {status_line}",
            redact_proxy(proxy)
        )));
    }
    Ok(stream)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn tls_connect(
    http: &HttpClient,
    host: &str,
    stream: BoxedStream,
) -> Result<tokio_rustls::client::TlsStream<BoxedStream>, ConnectError> {
    let config = http
        .websocket_tls_config()
        .map_err(|e| ConnectError::Network(format!("could not set up TLS: {e:#}")))?;
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| ConnectError::BadUrl(format!("{host}: {e}")))?;
    let connector = tokio_rustls::TlsConnector::from(config);
    tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name, stream))
        .await
        .map_err(|_| ConnectError::Network(format!("TLS handshake with {host} timed out")))?
        .map_err(|e| ConnectError::Network(format!("TLS handshake with {host} failed: {e}")))
}

/// The rustls configuration for WebSockets: the platform verifier with the
/// extra roots of `SSL_CERT_FILE` / `NODE_EXTRA_CA_CERTS`, as the HTTP
/// client's.
pub(super) fn build_tls_config(
    process_env: &crate::env::Env,
) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let mut extra = Vec::new();
    for var in [env_vars::SSL_CERT_FILE, env_vars::NODE_EXTRA_CA_CERTS] {
        if let Some(path) = process_env.non_empty(var) {
            match std::fs::read(path) {
                Ok(pem) => {
                    let mut any = false;
                    for cert in pem_certificates(&pem) {
                        extra.push(cert);
                        any = true;
                    }
                    if !any {
                        crate::output::warning(&format!(
                            "Ignoring {var}={path}: not a PEM certificate bundle"
                        ));
                    }
                }
                Err(e) => crate::output::warning(&format!("Ignoring {var}={path}: {e}")),
            }
        }
    }
    let verifier = if extra.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone())?
    } else {
        new_verifier_with_extra_roots(extra, provider.clone())?
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(any(all(unix, not(target_os = "android")), target_os = "windows"))]
fn new_verifier_with_extra_roots(
    extra: Vec<rustls::pki_types::CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> anyhow::Result<rustls_platform_verifier::Verifier> {
    Ok(rustls_platform_verifier::Verifier::new_with_extra_roots(
        extra, provider,
    )?)
}

#[cfg(not(any(all(unix, not(target_os = "android")), target_os = "windows")))]
fn new_verifier_with_extra_roots(
    _extra: Vec<rustls::pki_types::CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> anyhow::Result<rustls_platform_verifier::Verifier> {
    crate::output::warning("Extra CA certificates are not supported on this platform");
    Ok(rustls_platform_verifier::Verifier::new(provider)?)
}

/// The certificates of a PEM bundle (other sections skipped).
fn pem_certificates(pem: &[u8]) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%40b"), "a@b");
        assert_eq!(percent_decode("plain"), "plain");
        assert_eq!(percent_decode("bad%4"), "bad%4");
    }

    #[test]
    fn connect_errors_read_well() {
        let e = ConnectError::Status {
            status: 404,
            body: "{\"code\":\"NotFound\"}\n".into(),
        };
        assert_eq!(
            e.to_string(),
            "the server answered HTTP 404: {\"code\":\"NotFound\"}"
        );
    }
}
