//! The push pipeline's error: a message for the user plus the category
//! `convex dev` decides on (retry now, wait for a file change, wait for an
//! environment-variable or table change, or give up).

use std::fmt;

use crate::bundler::{BundleError, BundleErrorKind};
use crate::http::FetchError;

/// What kind of failure ended a push (the reference's `ErrorType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCategory {
    /// Retrying will not help (bad credentials, deprecated CLI, race in
    /// schema validation, internal bugs).
    Fatal,
    /// Try again (network errors, 5xx, files changed while bundling).
    Transient,
    /// The user's files are wrong (bundling, typecheck, codegen errors).
    InvalidFilesystemData,
    /// Fix the files or the deployment's environment variables (HTTP 400
    /// from a push, missing variables used by the auth config).
    InvalidFilesystemOrEnvVars,
    /// Schema validation failed against the stored documents.
    InvalidFilesystemOrDbData {
        table_name: Option<String>,
        component_path: Option<String>,
    },
}

/// A failed push. Boxed (results stay small); the fields are reached
/// through `Deref`: `error.category`, `error.message`, ...
#[derive(Debug, Clone)]
pub struct PushError(Box<PushErrorDetails>);

/// What [`PushError`] holds.
#[derive(Debug, Clone)]
pub struct PushErrorDetails {
    pub category: ErrorCategory,
    /// Which step failed, e.g. "Unable to start push to <url>".
    pub context: Option<String>,
    /// What went wrong; `None` when it was already shown (esbuild's and
    /// tsc's diagnostics go straight to stderr).
    pub message: Option<String>,
    /// The HTTP failure behind it, when there was one.
    pub fetch: Option<std::sync::Arc<FetchError>>,
    /// Files the push had read when it failed (for `dev`'s watcher; empty
    /// when it failed before reading the project).
    pub observed_files: Vec<std::path::PathBuf>,
}

impl std::ops::Deref for PushError {
    type Target = PushErrorDetails;
    fn deref(&self) -> &PushErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for PushError {
    fn deref_mut(&mut self) -> &mut PushErrorDetails {
        &mut self.0
    }
}

impl From<PushErrorDetails> for PushError {
    fn from(details: PushErrorDetails) -> PushError {
        PushError(Box::new(details))
    }
}

impl PushError {
    pub fn new(category: ErrorCategory, message: impl Into<String>) -> PushError {
        PushErrorDetails {
            category,
            context: None,
            message: Some(message.into()),
            fetch: None,
            observed_files: Vec::new(),
        }
        .into()
    }

    pub fn fatal(message: impl Into<String>) -> PushError {
        PushError::new(ErrorCategory::Fatal, message)
    }

    pub fn invalid_files(message: impl Into<String>) -> PushError {
        PushError::new(ErrorCategory::InvalidFilesystemData, message)
    }

    /// A failure whose details were already printed.
    pub fn already_shown(category: ErrorCategory) -> PushError {
        PushErrorDetails {
            category,
            context: None,
            message: None,
            fetch: None,
            observed_files: Vec::new(),
        }
        .into()
    }

    pub fn with_context(mut self, context: impl Into<String>) -> PushError {
        self.context = Some(context.into());
        self
    }

    /// Classifies a failed request the way the official CLI does: 400 →
    /// files or environment variables; 401, 403, 404 and deprecation →
    /// fatal; network errors and other statuses → transient.
    pub fn from_fetch(error: FetchError) -> PushError {
        let category = match &error {
            FetchError::Status(status) if status.deprecated.is_some() => ErrorCategory::Fatal,
            FetchError::Status(status) => match status.status {
                400 => ErrorCategory::InvalidFilesystemOrEnvVars,
                401 | 403 | 404 => ErrorCategory::Fatal,
                _ => ErrorCategory::Transient,
            },
            FetchError::Network { .. } => ErrorCategory::Transient,
            FetchError::Decode { .. } => ErrorCategory::Fatal,
        };
        let mut message = error.to_string();
        if let FetchError::Status(status) = &error
            && status.status == 404
            && status.deprecated.is_none()
        {
            message.push_str(
                "\nCheck that the deployment URL is right and that the deployment still exists.",
            );
        }
        PushErrorDetails {
            category,
            context: None,
            message: Some(message),
            fetch: Some(std::sync::Arc::new(error)),
            observed_files: Vec::new(),
        }
        .into()
    }

    /// The server's error code, for HTTP failures.
    pub fn server_code(&self) -> Option<&str> {
        self.fetch.as_deref().and_then(FetchError::server_code)
    }

    /// Whether `convex dev` should retry at once.
    pub fn is_transient(&self) -> bool {
        self.category == ErrorCategory::Transient
    }
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.context, &self.message) {
            (Some(c), Some(m)) => write!(f, "{c}\n{m}"),
            (Some(c), None) => f.write_str(c),
            (None, Some(m)) => f.write_str(m),
            (None, None) => f.write_str("The push failed (see the messages above)."),
        }
    }
}

impl std::error::Error for PushError {}

impl From<BundleError> for PushError {
    fn from(error: BundleError) -> PushError {
        let category = match error.kind {
            BundleErrorKind::InvalidFilesystemData | BundleErrorKind::Setup => {
                ErrorCategory::InvalidFilesystemData
            }
            BundleErrorKind::Transient => ErrorCategory::Transient,
            BundleErrorKind::Internal => ErrorCategory::Fatal,
        };
        PushErrorDetails {
            category,
            context: None,
            message: error.message,
            fetch: None,
            observed_files: Vec::new(),
        }
        .into()
    }
}

/// Commands end with exit 1 and the message (or nothing more, when the
/// details were already shown).
impl From<PushError> for crate::error::Failure {
    fn from(error: PushError) -> crate::error::Failure {
        if error.context.is_none() && error.message.is_none() {
            crate::error::Failure::silent(1)
        } else {
            crate::error::Failure::new(error.to_string())
        }
    }
}

/// Shorthand for pipeline results.
pub type PushResult<T> = Result<T, PushError>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::StatusError;

    fn status(code: u16) -> FetchError {
        FetchError::Status(Box::new(StatusError {
            method: Some("POST".into()),
            url: "http://d/api/deploy2/start_push".into(),
            status: code,
            status_text: "X".into(),
            code: Some("C".into()),
            message: Some("M".into()),
            deprecated: None,
            deploy_key_var: None,
        }))
    }

    #[test]
    fn http_categories() {
        assert_eq!(
            PushError::from_fetch(status(400)).category,
            ErrorCategory::InvalidFilesystemOrEnvVars
        );
        for code in [401, 403, 404] {
            assert_eq!(
                PushError::from_fetch(status(code)).category,
                ErrorCategory::Fatal
            );
        }
        for code in [409, 429, 500, 503] {
            assert_eq!(
                PushError::from_fetch(status(code)).category,
                ErrorCategory::Transient
            );
        }
        let network = FetchError::Network {
            url: "u".into(),
            detail: "refused".into(),
        };
        assert!(PushError::from_fetch(network).is_transient());
        let mut deprecated = status(500);
        if let FetchError::Status(s) = &mut deprecated {
            s.deprecated = Some("upgrade".into());
        }
        let err = PushError::from_fetch(deprecated);
        assert_eq!(err.category, ErrorCategory::Fatal);
        assert_eq!(err.to_string(), "upgrade");
        assert_eq!(PushError::from_fetch(status(400)).server_code(), Some("C"));
    }

    #[test]
    fn display_joins_context_and_message() {
        let err =
            PushError::from_fetch(status(400)).with_context("Unable to start push to http://d");
        assert_eq!(
            err.to_string(),
            "Unable to start push to http://d\nError fetching POST http://d/api/deploy2/start_push 400 X: C: M"
        );
        let shown = PushError::already_shown(ErrorCategory::InvalidFilesystemData);
        let failure: crate::error::Failure = shown.into();
        assert_eq!(failure.message, None);
        assert_eq!(failure.exit_code, 1);
    }
}
