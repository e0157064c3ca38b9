//! What the data-plane commands do, as library functions: `env`, `run`,
//! `data`, `function-spec`, `insights` and `logs` are thin wrappers over
//! these (flags, stdout), and the MCP tools call them directly.
//!
//! - [`env`]: a deployment's environment variables and a project's default
//!   ones ([`env::EnvBackend`]: get, list, update), `env set --from-file`
//!   planning, `.env` formatting of values;
//! - [`functions`]: run a function (`POST /api/function`), watch a query,
//!   the function spec (`_system/cli/modules:apiSpec`);
//! - [`data`]: list tables, read documents;
//! - [`insights`]: the deployment's insights (usage API);
//! - [`logs`]: the function-log stream (`/api/stream_function_logs`).
//!
//! Reads over the sync protocol go through [`crate::sync`]; HTTP through
//! [`crate::http`]. Errors are `anyhow` errors whose message names the step.

pub mod data;
pub mod env;
pub mod functions;
pub mod insights;
pub mod logs;
