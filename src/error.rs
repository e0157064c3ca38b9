//! Errors and exit codes, decided in one place ([`report_and_exit_code`]).
//!
//! Commands return `anyhow::Result`. Three kinds of error end a run:
//! - [`Failure`]: a handled failure with a message for the user (`✖ message`,
//!   exit 1 unless it says otherwise);
//! - [`Interrupted`]: Ctrl-C, exit 130, nothing printed;
//! - anything else (I/O, HTTP, ...): `✖ <error>` plus one `Caused by:` line per
//!   cause in the chain, exit 1.
//!
//! HTTP errors from [`crate::http`] format themselves the way the official
//! CLI words them, so they go through the last branch.

use std::fmt;

/// A handled failure: printed as `✖ <message>` (if any) and exits with
/// `exit_code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Text for the user; `None` when it was already printed.
    pub message: Option<String>,
    /// Process exit code (1 for every handled failure in the official CLI).
    pub exit_code: u8,
}

impl Failure {
    /// A failure with a message, exit code 1.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: Some(message.into()),
            exit_code: 1,
        }
    }

    /// End the run with this exit code without printing anything more
    /// (`exit_code` 0 ends a command early but successfully).
    pub fn silent(exit_code: u8) -> Failure {
        Failure {
            message: None,
            exit_code,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => f.write_str(m),
            None => write!(f, "exit {}", self.exit_code),
        }
    }
}

impl std::error::Error for Failure {}

/// The user pressed Ctrl-C (in a prompt or while a command ran).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// Shorthand: `return Err(fail("message"))`.
pub fn fail(message: impl Into<String>) -> anyhow::Error {
    Failure::new(message).into()
}

/// Exit code for Ctrl-C.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Print an error the way the user should see it and return the exit code.
pub fn report_and_exit_code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<Interrupted>().is_some() {
        crate::output::stop_spinner();
        return EXIT_INTERRUPTED;
    }
    if let Some(failure) = err.downcast_ref::<Failure>() {
        match &failure.message {
            Some(message) => crate::output::failure(message),
            None => crate::output::stop_spinner(),
        }
        return failure.exit_code;
    }
    crate::output::failure(&message_of(err));
    1
}

/// The text of an error as the user should read it: a [`Failure`]'s
/// message, or the error with its causes. For callers that hand the message
/// on instead of printing it (the MCP server's tool results).
pub fn message_of(err: &anyhow::Error) -> String {
    if let Some(failure) = err.downcast_ref::<Failure>() {
        return match &failure.message {
            Some(message) => message.clone(),
            None => "The request failed; the reason was logged on stderr.".to_string(),
        };
    }
    if err.downcast_ref::<Interrupted>().is_some() {
        return "Interrupted.".to_string();
    }
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        text.push_str(&format!("\n  Caused by: {cause}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(report_and_exit_code(&Interrupted.into()), 130);
        assert_eq!(report_and_exit_code(&fail("nope")), 1);
        assert_eq!(report_and_exit_code(&Failure::silent(0).into()), 0);
        assert_eq!(report_and_exit_code(&anyhow::anyhow!("io")), 1);
    }
}
