//! Reliability suite (issue 5): fault injection, secrets, files, odd inputs,
//! properties. One test binary so the suite links once; see
//! `docs/reliability.md`.

mod deploy;
mod dev;
mod fault_server;
mod faults;
mod files;
mod odd_inputs;
mod properties;
mod scene;
mod secrets;
mod signals;
#[path = "../support/mod.rs"]
mod support;
