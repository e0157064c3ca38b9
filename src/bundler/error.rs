//! The bundler's error type. It is typed because callers branch on it:
//! `convex dev` retries [`BundleErrorKind::Transient`] errors at once and
//! waits for a file change after [`BundleErrorKind::InvalidFilesystemData`].

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleErrorKind {
    /// The user's files are wrong (syntax error, bad directive, reserved
    /// directory, bad `package.json`...). Fixing a file fixes it.
    InvalidFilesystemData,
    /// A file changed while esbuild read it: try again.
    Transient,
    /// The project cannot be bundled at all as installed (no `convex`
    /// package, no esbuild binary, esbuild version unsupported): run the
    /// package manager's install.
    Setup,
    /// Something that should not happen (esbuild died, an output is missing).
    Internal,
}

/// A bundling failure. `message` is `None` when esbuild has already printed
/// the details on stderr and there is nothing to add.
#[derive(Debug, Clone)]
pub struct BundleError {
    pub kind: BundleErrorKind,
    pub message: Option<String>,
}

impl BundleError {
    pub fn invalid(message: impl Into<String>) -> Self {
        BundleError {
            kind: BundleErrorKind::InvalidFilesystemData,
            message: Some(message.into()),
        }
    }

    /// esbuild already printed what went wrong.
    pub fn printed_by_esbuild() -> Self {
        BundleError {
            kind: BundleErrorKind::InvalidFilesystemData,
            message: None,
        }
    }

    pub fn setup(message: impl Into<String>) -> Self {
        BundleError {
            kind: BundleErrorKind::Setup,
            message: Some(message.into()),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        BundleError {
            kind: BundleErrorKind::Internal,
            message: Some(message.into()),
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        BundleError {
            kind: BundleErrorKind::Transient,
            message: Some(message.into()),
        }
    }
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => f.write_str(message),
            None => f.write_str("Bundling failed; esbuild's messages above say why."),
        }
    }
}

impl std::error::Error for BundleError {}

pub type BundleResult<T> = Result<T, BundleError>;
