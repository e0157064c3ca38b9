//! The version API (`GET <CONVEX_VERSION_API_ORIGIN>/v1/...`, default origin
//! `https://version.convex.dev`), used by `deploy` and `dev` for update
//! notices. Headers: `Convex-Client`, `Convex-Interactive` (`true` when stdin
//! is a terminal), `Convex-Agent-Mode` (when `CONVEX_AGENT_MODE` is set).

use serde_json::Value;

use super::error::describe;
use super::{FetchError, HttpClient};

/// Default origin of the version API.
pub const DEFAULT_VERSION_API_ORIGIN: &str = "https://version.convex.dev";

#[derive(Clone)]
pub struct VersionClient {
    http: HttpClient,
    origin: String,
}

impl VersionClient {
    /// `origin`: `CONVEX_VERSION_API_ORIGIN` from the merged environment, or
    /// the default.
    pub fn new(http: HttpClient, origin: Option<&str>) -> VersionClient {
        VersionClient {
            http,
            origin: origin.unwrap_or(DEFAULT_VERSION_API_ORIGIN).to_string(),
        }
    }

    /// `GET <origin><path>` (e.g. `/v1/version`); `None` for a non-JSON body.
    /// No retries: callers treat failures as "no information".
    pub async fn get(&self, path: &str) -> Result<Option<Value>, FetchError> {
        let bytes = self.get_bytes(path).await?;
        Ok(serde_json::from_slice(&bytes).ok())
    }

    /// `GET <origin><path>` as text (e.g. `/v1/guidelines`), decoded as
    /// `fetch().text()` does: UTF-8 with U+FFFD for invalid bytes, a leading
    /// byte-order mark dropped.
    pub async fn get_text(&self, path: &str) -> Result<String, FetchError> {
        let bytes = self.get_bytes(path).await?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    async fn get_bytes(&self, path: &str) -> Result<hyper::body::Bytes, FetchError> {
        let url = format!("{}{}", self.origin, path);
        let mut request = self
            .http
            .reqwest_for(&url)
            .get(&url)
            .header("Convex-Client", self.http.convex_client())
            .header(
                "Convex-Interactive",
                if self.http.interactive {
                    "true"
                } else {
                    "false"
                },
            );
        if let Some(mode) = &self.http.agent_mode {
            request = request.header("Convex-Agent-Mode", mode);
        }
        let resp = request.send().await.map_err(|e| FetchError::Network {
            url: url.clone(),
            detail: describe(&e),
        })?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| FetchError::Network {
            url: url.clone(),
            detail: describe(&e),
        })?;
        if !status.is_success() {
            return Err(FetchError::Status(Box::new(super::StatusError {
                method: Some("GET".into()),
                url,
                status: status.as_u16(),
                status_text: status.canonical_reason().unwrap_or("").to_string(),
                code: None,
                message: None,
                deprecated: None,
                deploy_key_var: None,
            })));
        }
        Ok(bytes)
    }
}
