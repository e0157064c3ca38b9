//! HTTP failures, worded for the user.

use std::fmt;

/// A request that failed: a non-2xx answer or no answer at all.
#[derive(Debug)]
pub enum FetchError {
    /// The server answered with a non-2xx status.
    Status(Box<StatusError>),
    /// No usable answer (connection refused, DNS, TLS, timeout, ...), after
    /// the retries.
    Network { url: String, detail: String },
    /// A 2xx answer whose body was not the JSON we need.
    Decode { url: String, detail: String },
}

/// A non-2xx answer.
#[derive(Debug, Clone)]
pub struct StatusError {
    /// HTTP method, when the official CLI names it in its message
    /// (management `/api/` and deployment calls, not `/v1/` calls).
    pub method: Option<String>,
    pub url: String,
    pub status: u16,
    pub status_text: String,
    /// Convex error `code` (e.g. `DeploymentNotFound`), when the body was
    /// JSON with both `code` and `message`.
    pub code: Option<String>,
    pub message: Option<String>,
    /// `x-convex-deprecation-state: Deprecated`: this version is no longer
    /// accepted; the deprecation message replaces everything else.
    pub deprecated: Option<String>,
    /// The variable holding a deploy key in scope, named in 403 advice.
    pub deploy_key_var: Option<&'static str>,
}

impl FetchError {
    /// The Convex error code of a non-2xx answer.
    pub fn server_code(&self) -> Option<&str> {
        match self {
            FetchError::Status(s) => s.code.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status of a non-2xx answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status(s) => Some(s.status),
            _ => None,
        }
    }
}

/// What the CLI was doing when a management-API request to `url` failed,
/// for the first words of the message (`None` for endpoints not listed;
/// the push pipeline names its deployment calls itself).
pub fn step_of(url: &str) -> Option<&'static str> {
    let path = url.split('?').next().unwrap_or(url);
    const STEPS: &[(&str, &str)] = &[
        (
            "/team_and_project",
            "look up the deployment's team and project",
        ),
        (
            "/authorize_within_current_project",
            "get the deployment's credentials",
        ),
        (
            "/authorize_prod",
            "get the production deployment's credentials",
        ),
        (
            "/authorize_preview",
            "get the preview deployment's credentials",
        ),
        (
            "/provision_and_authorize",
            "get the dev deployment's credentials",
        ),
        ("/url_for_key", "look up the deploy key's deployment"),
        (
            "/team_and_project_for_key",
            "look up the deploy key's team and project",
        ),
        ("/create_deploy_key", "create the deploy key"),
        ("/delete_deploy_key", "delete the deploy key"),
        (
            "/create_personal_access_token",
            "exchange the login token for an access token",
        ),
        (
            "/check_opt_ins",
            "check which terms of service need accepting",
        ),
        ("/accept_opt_ins", "accept the terms of service"),
        ("/api/teams", "list your teams"),
    ];
    STEPS
        .iter()
        .find(|(suffix, _)| path.ends_with(suffix))
        .map(|(_, step)| *step)
}

fn write_step(f: &mut fmt::Formatter<'_>, url: &str) -> fmt::Result {
    match step_of(url) {
        Some(step) => write!(f, "Could not {step}. "),
        None => Ok(()),
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Status(s) => s.fmt(f),
            FetchError::Network { url, detail } => {
                write_step(f, url)?;
                write!(
                    f,
                    "Could not reach {url}: {detail}\nCheck your internet connection (and HTTPS_PROXY / NO_PROXY if you use a proxy), then try again."
                )
            }
            FetchError::Decode { url, detail } => {
                write_step(f, url)?;
                write!(f, "Unexpected response from {url}: {detail}")
            }
        }
    }
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(message) = &self.deprecated {
            return f.write_str(message);
        }
        write_step(f, &self.url)?;
        if self.status == 403
            && let Some(message) = &self.message
        {
            f.write_str(message)?;
            if let Some(var) = self.deploy_key_var {
                write!(
                    f,
                    "\nThis is determined by the permissions granted to {var}."
                )?;
            }
            return Ok(());
        }
        match &self.method {
            Some(m) => write!(f, "Error fetching {m} {}", self.url)?,
            None => write!(f, "Error fetching {}", self.url)?,
        }
        write!(f, " {} {}", self.status, self.status_text)?;
        if let (Some(code), Some(message)) = (&self.code, &self.message) {
            write!(f, ": {code}: {message}")?;
        }
        match self.status {
            401 => f.write_str(
                "\nThe credential was rejected. Log in again with `npx convex login`, or check the deploy key you set.",
            )?,
            403 => {
                if let Some(var) = self.deploy_key_var {
                    write!(f, "\nThis is determined by the permissions granted to {var}.")?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl std::error::Error for FetchError {}

/// Read a Convex error body (`{"code", "message"}`).
pub(crate) fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => {
            let code = v.get("code").and_then(|c| c.as_str()).map(str::to_string);
            let message = v
                .get("message")
                .and_then(|c| c.as_str())
                .map(str::to_string);
            if code.is_some() && message.is_some() {
                (code, message)
            } else {
                (None, None)
            }
        }
        Err(_) => (None, None),
    }
}

/// The headers arrived but the body did not, whole (the connection closed
/// or stalled half way). Not retried, as the official CLI (its `fetch` has
/// already resolved by then).
pub(crate) fn cut_off(url: &str, err: &reqwest::Error) -> FetchError {
    FetchError::Decode {
        url: url.to_string(),
        detail: format!(
            "the answer was cut off before its end ({}); try again",
            describe(err)
        ),
    }
}

/// Describe a `reqwest` error with its causes on one line.
pub(crate) fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "timed out".to_string()
    } else if err.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(err);
    let mut last = String::new();
    while let Some(cause) = source {
        let s = cause.to_string();
        if s != last {
            text.push_str(": ");
            text.push_str(&s);
            last = s;
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, text: &str, method: Option<&str>) -> StatusError {
        StatusError {
            method: method.map(str::to_string),
            url: "http://h/v1/x".into(),
            status,
            status_text: text.into(),
            code: Some("Code".into()),
            message: Some("Msg".into()),
            deprecated: None,
            deploy_key_var: None,
        }
    }

    #[test]
    fn wording() {
        assert_eq!(
            status(500, "Internal Server Error", None).to_string(),
            "Error fetching http://h/v1/x 500 Internal Server Error: Code: Msg"
        );
        assert_eq!(
            status(404, "Not Found", Some("POST")).to_string(),
            "Error fetching POST http://h/v1/x 404 Not Found: Code: Msg"
        );
        assert!(
            status(401, "Unauthorized", None)
                .to_string()
                .contains("401 Unauthorized: Code: Msg\n")
        );
        let mut forbidden = status(403, "Forbidden", None);
        forbidden.deploy_key_var = Some("CONVEX_DEPLOY_KEY");
        assert_eq!(
            forbidden.to_string(),
            "Msg\nThis is determined by the permissions granted to CONVEX_DEPLOY_KEY."
        );
        let mut deprecated = status(400, "Bad Request", None);
        deprecated.deprecated = Some("Upgrade now".into());
        assert_eq!(deprecated.to_string(), "Upgrade now");
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            parse_error_body(br#"{"code":"A","message":"B"}"#),
            (Some("A".into()), Some("B".into()))
        );
        assert_eq!(parse_error_body(br#"{"code":"A"}"#), (None, None));
        assert_eq!(parse_error_body(b"oops"), (None, None));
    }
}
