//! The deployment API: `<deploymentUrl>/api/...` with
//! `Authorization: Convex <adminKey>`, `Content-Type: application/json` (on
//! every request, as the official CLI) and `Convex-Client`.
//!
//! Retries (official CLI): network errors; 404 for any method (fresh
//! deployments can briefly answer 404); any other non-2xx for idempotent
//! methods except 400/401/402/403/405/406/412–416. Same backoff as the
//! management API; from the 3rd retry on a grey progress note is printed.

use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::error::{describe, parse_error_body};
use super::retry::{MAX_RETRIES, retry_delay};
use super::{FetchError, HttpClient, StatusError};

/// When to retry a deployment request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryPolicy {
    /// The official CLI's default (see the module docs).
    Default,
    /// Only network errors.
    NetworkOnly,
    /// Network errors and 5xx answers (best-effort calls).
    NetworkOrServerError,
    /// Never.
    None,
}

/// One request to a deployment.
#[derive(Debug, Clone)]
pub struct DeploymentRequest {
    pub method: Method,
    /// Path from the deployment root, e.g. `/api/deploy2/start_push`.
    pub path: String,
    /// Raw body (already encoded/compressed by the caller).
    pub body: Option<Vec<u8>>,
    /// Extra headers, e.g. `Content-Encoding: br`.
    pub headers: Vec<(String, String)>,
    pub retry: RetryPolicy,
    /// Retries after the first attempt (default 6).
    pub max_retries: u32,
    /// Send no header of our own (no `Authorization`, `Content-Type` or
    /// `Convex-Client`): the official CLI's `bareDeploymentFetch`.
    pub bare: bool,
    /// Follow redirects (the default); when off, a 3xx answer is returned
    /// as a failed request with its status.
    pub follow_redirects: bool,
}

impl DeploymentRequest {
    /// A request with the default retry policy.
    pub fn new(method: Method, path: &str) -> DeploymentRequest {
        DeploymentRequest {
            method,
            path: path.to_string(),
            body: None,
            headers: Vec::new(),
            retry: RetryPolicy::Default,
            max_retries: MAX_RETRIES,
            bare: false,
            follow_redirects: true,
        }
    }

    /// A request without any header of ours (see [`DeploymentRequest::bare`]).
    pub fn bare(method: Method, path: &str) -> DeploymentRequest {
        DeploymentRequest {
            bare: true,
            ..DeploymentRequest::new(method, path)
        }
    }

    /// Whether redirects are followed.
    pub fn follow_redirects(mut self, follow: bool) -> DeploymentRequest {
        self.follow_redirects = follow;
        self
    }

    /// Set a JSON body.
    pub fn json(mut self, body: &Value) -> DeploymentRequest {
        self.body = Some(serde_json::to_vec(body).expect("JSON values serialize"));
        self
    }
}

/// Client for one deployment.
#[derive(Clone)]
pub struct DeploymentClient {
    http: HttpClient,
    url: String,
    admin_key: String,
    /// Shared "deprecation warning already printed" flag; `None`: never warn.
    deprecation_printed: Option<Arc<AtomicBool>>,
    /// The variable holding a deploy key in scope (named in 403 advice).
    deploy_key_var: Option<&'static str>,
}

const NO_RETRY_STATUSES: [u16; 11] = [400, 401, 402, 403, 405, 406, 412, 413, 414, 415, 416];

impl DeploymentClient {
    pub fn new(http: HttpClient, deployment_url: &str, admin_key: &str) -> DeploymentClient {
        DeploymentClient {
            http,
            url: deployment_url.to_string(),
            admin_key: admin_key.to_string(),
            deprecation_printed: None,
            deploy_key_var: None,
        }
    }

    /// Print deprecation warnings from `x-convex-deprecation-*` headers
    /// (once per `flag`), and name `deploy_key_var` in 403 advice.
    pub fn with_advice(
        mut self,
        deprecation_printed: Arc<AtomicBool>,
        deploy_key_var: Option<&'static str>,
    ) -> DeploymentClient {
        self.deprecation_printed = Some(deprecation_printed);
        self.deploy_key_var = deploy_key_var;
        self
    }

    /// The admin key requests are sent with.
    pub fn admin_key(&self) -> &str {
        &self.admin_key
    }

    /// Warn (once) when a response says this CLI version is deprecated.
    /// The official CLI checks this on `get_config_hashes` answers and on
    /// every error answer.
    pub fn check_deprecation(&self, response: &reqwest::Response) {
        let state = response.headers().get("x-convex-deprecation-state");
        if state.is_none() {
            return;
        }
        let message = response
            .headers()
            .get("x-convex-deprecation-message")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("(no deprecation message included)");
        if let Some(flag) = &self.deprecation_printed
            && !flag.swap(true, Ordering::SeqCst)
        {
            crate::output::warning(message);
        }
    }

    /// The deployment URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Absolute URL of a path on the deployment.
    pub fn url_for(&self, path: &str) -> String {
        match reqwest::Url::parse(&self.url).and_then(|base| base.join(path)) {
            Ok(u) => u.to_string(),
            Err(_) => format!("{}{}", self.url.trim_end_matches('/'), path),
        }
    }

    /// Send with retries; returns the 2xx response.
    pub async fn send(&self, req: &DeploymentRequest) -> Result<reqwest::Response, FetchError> {
        let url = self.url_for(&req.path);
        let idempotent = matches!(
            req.method,
            Method::GET
                | Method::HEAD
                | Method::PUT
                | Method::DELETE
                | Method::OPTIONS
                | Method::TRACE
        );
        let no_redirects = if req.follow_redirects {
            None
        } else {
            Some(
                self.http
                    .reqwest_without_redirects()
                    .map_err(|e| FetchError::Network {
                        url: url.clone(),
                        detail: format!("{e:#}"),
                    })?,
            )
        };
        let mut attempt: u32 = 0;
        loop {
            let client = no_redirects
                .as_ref()
                .unwrap_or_else(|| self.http.reqwest_for(&url));
            let mut builder = client.request(req.method.clone(), &url);
            if !req.bare {
                builder = builder.header("Authorization", format!("Convex {}", self.admin_key));
            }
            if !req.bare
                && !req
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("convex-client"))
            {
                builder = builder.header("Convex-Client", self.http.convex_client());
            }
            if !req.bare
                && !req
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                builder = builder.header("Content-Type", "application/json");
            }
            for (k, v) in &req.headers {
                builder = builder.header(k, v);
            }
            if let Some(body) = &req.body {
                builder = builder.body(body.clone());
            }
            crate::output::verbose(&format!("{} {url}", req.method));
            let outcome = builder.send().await;
            let retry_reason = match &outcome {
                Err(e) => Some(describe(e)),
                Ok(resp) if resp.status().is_success() => None,
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry = match req.retry {
                        RetryPolicy::Default => {
                            status == 404 || (idempotent && !NO_RETRY_STATUSES.contains(&status))
                        }
                        RetryPolicy::NetworkOrServerError => status >= 500,
                        _ => false,
                    };
                    retry.then(|| format!("status {status}"))
                }
            };
            let may_retry = match (req.retry, &outcome) {
                (RetryPolicy::None, _) => false,
                (RetryPolicy::NetworkOnly, Err(_)) => true,
                (RetryPolicy::NetworkOnly, Ok(_)) => false,
                (RetryPolicy::Default | RetryPolicy::NetworkOrServerError, _) => true,
            };
            match retry_reason {
                Some(reason) if may_retry && attempt < req.max_retries => {
                    if attempt >= 3 {
                        crate::output::note(&format!(
                            "Retrying request to {url} after {reason} (attempt {attempt}/{})...",
                            req.max_retries
                        ));
                    }
                    tokio::time::sleep(retry_delay(attempt)).await;
                    attempt += 1;
                    continue;
                }
                _ => {}
            }
            return match outcome {
                Err(e) => Err(FetchError::Network {
                    url,
                    detail: describe(&e),
                }),
                Ok(resp) if resp.status().is_success() => Ok(resp),
                Ok(resp) => {
                    let status = resp.status();
                    let deprecated = match resp
                        .headers()
                        .get("x-convex-deprecation-state")
                        .and_then(|v| v.to_str().ok())
                    {
                        Some("Deprecated") => Some(
                            resp.headers()
                                .get("x-convex-deprecation-message")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or(
                                    "This version of the Convex CLI is no longer supported; upgrade it.",
                                )
                                .to_string(),
                        ),
                        _ => {
                            self.check_deprecation(&resp);
                            None
                        }
                    };
                    let bytes = resp.bytes().await.unwrap_or_default();
                    let (code, message) = parse_error_body(&bytes);
                    Err(FetchError::Status(Box::new(StatusError {
                        method: Some(req.method.to_string()),
                        url,
                        status: status.as_u16(),
                        status_text: status.canonical_reason().unwrap_or("").to_string(),
                        code,
                        message,
                        deprecated,
                        deploy_key_var: self.deploy_key_var,
                    })))
                }
            };
        }
    }

    /// Send and decode a JSON answer (`None` for an empty body).
    pub async fn send_json(&self, req: &DeploymentRequest) -> Result<Option<Value>, FetchError> {
        let url = self.url_for(&req.path);
        let resp = self.send(req).await?;
        let bytes = resp.bytes().await.map_err(|e| FetchError::Network {
            url: url.clone(),
            detail: describe(&e),
        })?;
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
}
