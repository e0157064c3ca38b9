//! A native, drop-in replacement for the `convex` command-line tool (npm `convex` 1.48.0).
//!
//! Map of the crate:
//! - `advisories`: the usage warning, version notice and AI-files hint printed
//!   next to a push.
//! - `ai_files`: the Convex AI files (guidelines, managed sections of
//!   AGENTS.md / CLAUDE.md, agent skills, their state).
//! - `browser`: opening a URL in the user's browser (or saying why not).
//! - `cli`: the clap command tree (where every flag is parsed).
//! - `commands`: one module per command, each `Args` + `run`.
//! - `context`: what every command builds first (environment, folders, auth, HTTP).
//! - `env`, `env_vars`, `dotenv`, `env_file`: the environment, every variable
//!   name, the npm-dotenv grammar and the `.env` file editor.
//! - `global_config`: `~/.convex`, `~/.cache/convex` and `config.json`.
//! - `credentials`: the one place a deployment and a credential are chosen.
//! - `http`: the one HTTP client (management API, deployment API, version API).
//! - `jsfmt`: numbers, JSON and `Intl` formats as the official CLI's JavaScript prints them.
//! - `output`, `error`: stderr lines, spinners, prompts; exit codes.
//! - `forward`: non-native commands run the project's own official CLI.
//! - `project`: `convex.json`, `package.json` and the functions directory.
//! - `bundler`: esbuild driven through its service protocol.
//! - `codegen`: `convex/_generated/`.
//! - `push`: the deploy2 push pipeline shared by `deploy`, `dev` and `codegen`.
//! - `local_backend`: local and anonymous backends.
//! - `workos`: WorkOS AuthKit provisioning (the `integration workos` commands).
//! - `snapshot`: snapshot export and import (`export`, `import`).
//! - `watch`: file watching for `dev` (what a push read, and when it changed).
//! - `shell`: a user's command line run through the system shell.
//! - `signals`: Ctrl-C and the requests to terminate, per platform.
//! - `win` (Windows only): job objects, console control events, file
//!   identity — the counterparts of process groups, signals and inodes.
pub mod advisories;
pub mod ai_files;
pub mod browser;
pub mod bundler;
pub mod cli;
pub mod codegen;
pub mod commands;
pub mod context;
pub mod credentials;
pub mod data_plane;
pub mod dotenv;
pub mod env;
pub mod env_file;
pub mod env_vars;
pub mod error;
pub mod forward;
pub mod fsutil;
pub mod global_config;
pub mod http;
pub mod jsfmt;
pub mod local_backend;
pub mod mcp;
pub mod output;
pub mod project;
pub mod push;
pub mod shell;
pub mod signals;
pub mod snapshot;
pub mod sync;
pub mod values;
pub mod watch;
#[cfg(windows)]
pub mod win;
pub mod workos;

/// The version of the official CLI this binary stands in for. It is what
/// `--version` prints and what the `Convex-Client` header carries.
pub const REFERENCE_VERSION: &str = "1.48.0";

pub fn main() -> std::process::ExitCode {
    cli::main()
}
