//! The module's human messages on stderr.
//!
//! TODO(output): route these through `crate::output` once it has its
//! success/warning helpers, so colour and TTY handling live in one place.

/// A plain line.
pub(crate) fn info(message: &str) {
    eprintln!("{message}");
}

/// A finished step: `✔ <message>`.
pub(crate) fn success(message: &str) {
    eprintln!("✔ {message}");
}

/// A warning (yellow in the official CLI; plain here until `output` lands).
pub(crate) fn warn(message: &str) {
    eprintln!("{message}");
}
