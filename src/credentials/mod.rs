//! The one place that decides which deployment a command acts on and with what credential.
