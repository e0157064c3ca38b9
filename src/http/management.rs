//! The management API: `<host>/api/...` ("big brain") and `<host>/v1/...`
//! (platform API), where `<host>` is `CONVEX_PROVISION_HOST` used verbatim (a
//! trailing slash really gives `//api/`).
//!
//! Headers: `Authorization: Bearer <credential>` (omitted without one),
//! `Convex-Client`, `Content-Type: application/json` on POST. Requests are
//! retried on network errors only (7 attempts, 1 ms / 1 s / 2 s / 4 s / 8 s /
//! 16 s plus jitter); unlike the official CLI, each retry prints a short note
//! so the wait is not silent.

use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::error::{describe, parse_error_body};
use super::retry::{MAX_RETRIES, retry_delay};
use super::{FetchError, HttpClient, StatusError};

/// Which half of the management API a call goes to (their success and error
/// conventions differ slightly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    /// `/api/...`: JSON only on status 200; deprecation headers checked.
    BigBrain,
    /// `/v1/...`: JSON unless 204 or an empty body.
    Platform,
}

/// Client for the management API with one credential.
#[derive(Clone)]
pub struct ManagementClient {
    http: HttpClient,
    host: String,
    auth_header: Option<String>,
    deploy_key_var: Option<&'static str>,
    deprecation_printed: Arc<AtomicBool>,
}

impl ManagementClient {
    /// `host`: the provision host, verbatim. `auth_header`: the full
    /// `Authorization` value (`Bearer ...`). `deploy_key_var`: the variable
    /// holding a deploy key in scope (named in 403 messages).
    pub fn new(
        http: HttpClient,
        host: &str,
        auth_header: Option<String>,
        deploy_key_var: Option<&'static str>,
        deprecation_printed: Arc<AtomicBool>,
    ) -> ManagementClient {
        ManagementClient {
            http,
            host: host.to_string(),
            auth_header,
            deploy_key_var,
            deprecation_printed,
        }
    }

    /// The same client with another credential.
    pub fn with_auth_header(&self, auth_header: Option<String>) -> ManagementClient {
        ManagementClient {
            auth_header,
            ..self.clone()
        }
    }

    /// The provision host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `<host>/api/<path>`.
    pub fn big_brain_url(&self, path: &str) -> String {
        format!("{}/api/{}", self.host, path.trim_start_matches('/'))
    }

    /// `<host>/v1<path>` (`path` starts with `/`).
    pub fn platform_url(&self, path: &str) -> String {
        format!("{}/v1{}", self.host, path)
    }

    /// `GET <host>/api/<path>`; `None` when the status is a 2xx other than 200.
    pub async fn big_brain_get(&self, path: &str) -> Result<Option<Value>, FetchError> {
        let url = self.big_brain_url(path);
        self.send(Api::BigBrain, Method::GET, url, None).await
    }

    /// `POST <host>/api/<path>` with a JSON body (`{}` when there is none).
    pub async fn big_brain_post(
        &self,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, FetchError> {
        let url = self.big_brain_url(path);
        let body = body
            .cloned()
            .unwrap_or_else(|| Value::Object(Default::default()));
        self.send(Api::BigBrain, Method::POST, url, Some(body))
            .await
    }

    /// `GET <host>/v1<path>?<query>` (query values are percent-encoded).
    pub async fn platform_get(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Option<Value>, FetchError> {
        let mut url = self.platform_url(path);
        if !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        super::encode_component(k),
                        super::encode_component(v)
                    )
                })
                .collect();
            url = format!("{url}?{}", q.join("&"));
        }
        self.send(Api::Platform, Method::GET, url, None).await
    }

    /// `POST <host>/v1<path>` with a JSON body.
    pub async fn platform_post(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<Option<Value>, FetchError> {
        let url = self.platform_url(path);
        self.send(Api::Platform, Method::POST, url, Some(body.clone()))
            .await
    }

    /// `HEAD <host>/api/authorize` with the given `Authorization` header:
    /// whether the credential is valid (status 200). No retries.
    pub async fn authorize(&self, auth_header: &str) -> Result<bool, FetchError> {
        let url = self.big_brain_url("authorize");
        let result = self
            .http
            .reqwest_for(&url)
            .head(&url)
            .header("Authorization", auth_header)
            .header("Convex-Client", self.http.convex_client())
            .send()
            .await;
        match result {
            Ok(resp) => Ok(resp.status().as_u16() == 200),
            Err(e) => Err(FetchError::Network {
                url,
                detail: describe(&e),
            }),
        }
    }

    async fn send(
        &self,
        api: Api,
        method: Method,
        url: String,
        body: Option<Value>,
    ) -> Result<Option<Value>, FetchError> {
        let body_bytes = body.map(|b| serde_json::to_vec(&b).expect("JSON values serialize"));
        let mut attempt = 0;
        let response = loop {
            let mut request = self
                .http
                .reqwest_for(&url)
                .request(method.clone(), &url)
                .header("Convex-Client", self.http.convex_client());
            if let Some(auth) = &self.auth_header {
                request = request.header("Authorization", auth);
            }
            if method == Method::POST {
                request = request.header("Content-Type", "application/json");
            }
            if let Some(bytes) = &body_bytes {
                request = request.body(bytes.clone());
            }
            crate::output::verbose(&format!("{method} {url}"));
            match request.send().await {
                Ok(resp) => break resp,
                Err(err) => {
                    let detail = describe(&err);
                    if attempt >= MAX_RETRIES {
                        return Err(FetchError::Network { url, detail });
                    }
                    let delay = retry_delay(attempt);
                    attempt += 1;
                    if attempt > 1 {
                        crate::output::note(&format!(
                            "Could not reach {} ({detail}); retrying in {:.0}s (attempt {}/{})...",
                            self.host,
                            delay.as_secs_f64(),
                            attempt + 1,
                            MAX_RETRIES + 1
                        ));
                    }
                    tokio::time::sleep(delay).await;
                }
            }
        };
        let status = response.status();
        let deprecation_state = header(&response, "x-convex-deprecation-state");
        let deprecation_message = header(&response, "x-convex-deprecation-message");
        let content_length_zero = response.content_length() == Some(0);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| super::error::cut_off(&url, &e))?;
        if !status.is_success() {
            let deprecated = match deprecation_state.as_deref() {
                None => None,
                Some("Deprecated") => Some(deprecation_message.clone().unwrap_or_else(|| {
                    "This version of the Convex CLI is no longer supported; upgrade it.".to_string()
                })),
                Some(_) => {
                    self.warn_deprecation(deprecation_message.as_deref());
                    None
                }
            };
            let (code, message) = parse_error_body(&bytes);
            return Err(FetchError::Status(Box::new(StatusError {
                method: (api == Api::BigBrain).then(|| method.to_string()),
                url,
                status: status.as_u16(),
                status_text: status.canonical_reason().unwrap_or("").to_string(),
                code,
                message,
                deprecated,
                deploy_key_var: self.deploy_key_var,
            })));
        }
        match api {
            Api::BigBrain => {
                if deprecation_state.is_some() {
                    self.warn_deprecation(deprecation_message.as_deref());
                }
                if status.as_u16() != 200 {
                    return Ok(None);
                }
            }
            Api::Platform => {
                if status.as_u16() == 204 || content_length_zero || bytes.is_empty() {
                    return Ok(None);
                }
            }
        }
        if bytes.is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| FetchError::Decode {
                url,
                detail: format!("the body is not JSON ({e})"),
            })
    }

    fn warn_deprecation(&self, message: Option<&str>) {
        if !self.deprecation_printed.swap(true, Ordering::SeqCst) {
            crate::output::warning(message.unwrap_or("(no deprecation message included)"));
        }
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
