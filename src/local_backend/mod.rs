//! Local and anonymous backends: the `convex-local-backend` binary (cache and
//! download), deployment state folders and `config.json`, ports, launch,
//! health check, upgrades and stop.
//!
//! # Use
//!
//! ```no_run
//! # async fn example(ctx: &convex_cli::context::Context) -> anyhow::Result<()> {
//! use convex_cli::local_backend::*;
//!
//! let backends = LocalBackends::from_context(ctx)?;
//! let deployment = backends
//!     .ensure_anonymous_deployment(&AnonymousOptions {
//!         agent_mode: true,
//!         ..Default::default()
//!     })
//!     .await?;
//! // ... talk to deployment.url with `Authorization: Convex <deployment.admin_key>` ...
//! deployment.shutdown().await; // or drop it: the backend is stopped either way
//! # Ok(()) }
//! ```
//!
//! * Anonymous deployments: [`LocalBackends::ensure_anonymous_deployment`].
//! * Linked local deployments: [`LocalBackends::ensure_linked_local_deployment`]
//!   with a [`LocalDeploymentControlPlane`] (the management-API calls).
//! * A saved deployment for a one-off command (`env`, `run`, ...):
//!   [`LocalBackends::start_saved_deployment`]; to check one is up,
//!   [`assert_backend_running`].
//! * Saved state: [`load_deployment_config`], [`load_project_local_config`].
//! * The local dashboard of long-running anonymous `dev`:
//!   [`LocalBackends::start_dashboard`]; its saved URL: [`saved_dashboard_url`].
//!
//! Every backend started is stopped when its handle is dropped, by
//! [`LocalDeploymentHandle::shutdown`], or by [`stop_all_backends`] — call the
//! latter from signal handlers and before `std::process::exit` (which skips
//! destructors), or install [`exit_on_signal_after_stopping_backends`].
//!
//! # Network
//!
//! The only outside requests are the ones the official CLI makes:
//! `GET https://version.convex.dev/v1/local_backend_version` (with
//! `Convex-Client: npm-cli-<version>`) and
//! `GET https://github.com/convex/convex-backend/releases/download/<version>/<asset>.zip`
//! (no Convex headers); long-running anonymous `dev` also fetches
//! `.../releases/download/<version>/dashboard.zip` once per version. They go
//! through the shared [`HttpClient`] (proxies, `NO_PROXY`, extra CA
//! certificates), which adds no Convex headers by default: the
//! `/instance_name` probes and downloads carry none. Health probes go to
//! `http://127.0.0.1:<port>` through the same client.
//!
//! * Moving an anonymous deployment into a project (`login`'s link flow):
//!   [`LocalBackends::link_anonymous_deployment`].

mod anonymous;
mod config;
mod dashboard;
mod download;
mod link;
mod linked;
mod paths;
mod ports;
mod process;
mod secrets;
mod start;
mod version;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Result, bail};

use crate::context::Context;
use crate::env_vars;
use crate::global_config::ConvexDirs;
use crate::http::HttpClient;
use crate::output;

pub use crate::credentials::local_state::{
    LocalDeploymentConfig, LocalDeploymentKind, LocalPorts, load_anonymous_uuid,
    load_deployment_config, load_project_local_config, local_deployment_url,
    project_local_state_dir,
};
pub use anonymous::{
    AGENT_DEPLOYMENT_NAME, AnonymousOptions, DeploymentChoice, anonymous_deployment_name,
    is_anonymous_name,
};
pub use config::{
    config_file_text, ensure_anonymous_user_id, list_legacy_deployments, save_deployment_config,
    save_deployment_config_fields,
};
pub use dashboard::{DEFAULT_DASHBOARD_PORT, LocalDashboard, saved_dashboard_url};
pub use download::{BackendBinary, BinaryVersion};
pub use link::LinkedAnonymousDeployment;
pub use linked::{
    BoxFuture, DefaultEnvVars, LinkedLocalOptions, LocalDeploymentControlPlane,
    ManagementControlPlane, RegisteredLocalDeployment, StartLocalDeployment,
    StartedLocalDeployment, linked_deployment_prefix,
};
pub use paths::{BackendDirs, PRODUCTION_PROVISION_HOST, release_asset_name};
pub use ports::{DEFAULT_CLOUD_PORT, PortChoice, choose_ports, find_free_port, is_port_free};
pub use process::{
    BackendStatus, LocalBackendProcess, assert_backend_running, backend_status,
    exit_on_signal_after_stopping_backends, sentry_identifier, stop_all_backends,
};
pub use secrets::LEGACY_INSTANCE_SECRET;
pub use version::{
    VERSION_API_URL, is_downgrade, is_valid_backend_version, release_date,
    supports_control_plane_auth,
};

/// Where release zips are downloaded from: `<this>/<version>/<asset>`.
pub const RELEASES_DOWNLOAD_URL: &str =
    "https://github.com/convex/convex-backend/releases/download";

/// `--beacon-tag` of a deployment kind.
pub fn beacon_tag(kind: LocalDeploymentKind) -> &'static str {
    match kind {
        LocalDeploymentKind::Local => "cli-local-dev",
        LocalDeploymentKind::Anonymous => "cli-anonymous-dev",
    }
}

/// `--configure [new|existing]`; a bare `--configure` asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChosenConfiguration {
    New,
    Existing,
    Ask,
}

/// The `dev` flags for local deployments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalBackendOptions {
    /// `--local-cloud-port`.
    pub cloud_port: Option<u16>,
    /// `--local-site-port`.
    pub site_port: Option<u16>,
    /// `--local-backend-version`.
    pub backend_version: Option<String>,
    /// `--local-force-upgrade`.
    pub force_upgrade: bool,
}

impl LocalBackendOptions {
    fn requested_ports(&self) -> PortChoice {
        PortChoice {
            cloud: self.cloud_port,
            site: self.site_port,
        }
    }
}

/// Questions the flows may ask. Only called when stdin is a terminal
/// ([`LocalBackendSettings::stdin_is_terminal`]).
pub trait Prompter: Send + Sync {
    /// A yes/no question.
    fn confirm(&self, question: &str, default: bool) -> Result<bool>;
    /// One of `choices`; returns its index.
    fn select(&self, question: &str, choices: &[String]) -> Result<usize>;
}

/// A [`Prompter`] for non-interactive use: every question is an error.
pub struct NoPrompts;

impl Prompter for NoPrompts {
    fn confirm(&self, question: &str, _default: bool) -> Result<bool> {
        bail!("Cannot prompt for input in non-interactive terminals. ({question})")
    }
    fn select(&self, question: &str, _choices: &[String]) -> Result<usize> {
        bail!("Cannot prompt for input in non-interactive terminals. ({question})")
    }
}

/// A [`Prompter`] on the terminal, through [`crate::output`]'s prompts.
///
/// TODO(output): use a real select prompt once `output` has one; until then
/// the choices are numbered and the answer is typed.
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn confirm(&self, question: &str, default: bool) -> Result<bool> {
        output::prompt_yes_no(question, Some(default))
    }

    fn select(&self, question: &str, choices: &[String]) -> Result<usize> {
        for (i, choice) in choices.iter().enumerate() {
            output::message(&format!("  {}. {choice}", i + 1));
        }
        loop {
            let answer = output::prompt_string(question, Some("1"))?;
            match answer.trim().parse::<usize>() {
                Ok(n) if (1..=choices.len()).contains(&n) => return Ok(n - 1),
                _ => output::warning(&format!("Type a number from 1 to {}.", choices.len())),
            }
        }
    }
}

/// What the module reads from the command's context and environment.
#[derive(Clone, Debug)]
pub struct LocalBackendSettings {
    /// The global state and cache folders.
    pub dirs: ConvexDirs,
    /// The project folder (where `.convex/local/default` lives); normally the
    /// current folder.
    pub project_dir: PathBuf,
    /// `CONVEX_PROVISION_HOST` or production (see [`PRODUCTION_PROVISION_HOST`]).
    pub provision_host: String,
    /// `CONVEX_LOCAL_BACKEND_STARTUP_TIMEOUT_SECS`, unparsed.
    pub startup_timeout_secs: Option<String>,
    /// Prompts are possible; without it, upgrades are accepted and new
    /// deployments created without asking.
    pub stdin_is_terminal: bool,
    /// Draw a download progress bar.
    pub stderr_is_terminal: bool,
}

impl LocalBackendSettings {
    /// The settings of a command run.
    pub fn from_context(ctx: &Context) -> Self {
        use std::io::IsTerminal;
        LocalBackendSettings {
            dirs: ctx.dirs.clone(),
            project_dir: ctx.cwd.clone(),
            provision_host: ctx.provision_host.clone(),
            startup_timeout_secs: ctx
                .env
                .get(env_vars::CONVEX_LOCAL_BACKEND_STARTUP_TIMEOUT_SECS)
                .map(str::to_string),
            stdin_is_terminal: output::stdin_is_terminal(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
        }
    }
}

/// The two outside addresses, replaceable in tests.
#[derive(Clone, Debug)]
pub struct OutsideEndpoints {
    /// [`VERSION_API_URL`].
    pub version_api: String,
    /// [`RELEASES_DOWNLOAD_URL`].
    pub releases: String,
}

impl Default for OutsideEndpoints {
    fn default() -> Self {
        OutsideEndpoints {
            version_api: VERSION_API_URL.to_string(),
            releases: RELEASES_DOWNLOAD_URL.to_string(),
        }
    }
}

/// Local backends for one command run: settings, the HTTP client, and the
/// latest-version lookup (made at most once).
pub struct LocalBackends {
    http: HttpClient,
    client: reqwest::Client,
    dirs: ConvexDirs,
    project_dir: PathBuf,
    provision_host: String,
    startup_timeout_secs: Option<String>,
    stdin_is_terminal: bool,
    stderr_is_terminal: bool,
    prompter: Arc<dyn Prompter>,
    endpoints: OutsideEndpoints,
    latest_version: tokio::sync::Mutex<Option<String>>,
}

impl LocalBackends {
    /// `http` is the shared client ([`crate::http::HttpClient`]): proxies,
    /// extra CA certificates, `Convex-Client` header value.
    pub fn new(
        http: HttpClient,
        settings: LocalBackendSettings,
        prompter: Arc<dyn Prompter>,
    ) -> Self {
        LocalBackends {
            client: http.reqwest().clone(),
            http,
            dirs: settings.dirs,
            project_dir: settings.project_dir,
            provision_host: settings.provision_host,
            startup_timeout_secs: settings.startup_timeout_secs,
            stdin_is_terminal: settings.stdin_is_terminal,
            stderr_is_terminal: settings.stderr_is_terminal,
            prompter,
            endpoints: OutsideEndpoints::default(),
            latest_version: tokio::sync::Mutex::new(None),
        }
    }

    /// For a command run: the context's client and settings, prompts on the
    /// terminal.
    pub fn from_context(ctx: &Context) -> Result<Self> {
        Ok(LocalBackends::new(
            ctx.http()?,
            LocalBackendSettings::from_context(ctx),
            Arc::new(TerminalPrompter),
        ))
    }

    /// Replaces the version API and release addresses (tests).
    pub fn with_endpoints(mut self, endpoints: OutsideEndpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    pub fn dirs(&self) -> &ConvexDirs {
        &self.dirs
    }

    pub fn project_dir(&self) -> &std::path::Path {
        &self.project_dir
    }

    fn convex_client(&self) -> &str {
        self.http.convex_client()
    }

    /// The saved config of a deployment (project-local first, then legacy).
    pub fn saved_config(
        &self,
        kind: LocalDeploymentKind,
        deployment_name: &str,
    ) -> Option<LocalDeploymentConfig> {
        load_deployment_config(&self.dirs, kind, deployment_name, &self.project_dir)
    }
}

/// A running local deployment. Dropping it stops the backend (and the
/// activity pings of a linked one); [`shutdown`](Self::shutdown) also pauses
/// a linked deployment in the management API.
pub struct LocalDeploymentHandle {
    pub kind: LocalDeploymentKind,
    pub deployment_name: String,
    /// `http://127.0.0.1:<cloud port>`.
    pub url: String,
    pub admin_key: String,
    pub ports: LocalPorts,
    /// The version actually running.
    pub backend_version: String,
    /// Where its data lives.
    pub state_dir: PathBuf,
    /// Anonymous: how the deployment was chosen. Linked: `First` when the
    /// project had no local deployment yet, else `Existing`.
    pub choice: DeploymentChoice,
    /// The cloud project of a linked deployment.
    pub project_id: Option<i64>,
    process: Option<LocalBackendProcess>,
    linked: Option<linked::LinkedState>,
}

impl std::fmt::Debug for LocalDeploymentHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the admin key.
        f.debug_struct("LocalDeploymentHandle")
            .field("kind", &self.kind)
            .field("deployment_name", &self.deployment_name)
            .field("url", &self.url)
            .field("ports", &self.ports)
            .field("backend_version", &self.backend_version)
            .field("state_dir", &self.state_dir)
            .field("choice", &self.choice)
            .finish_non_exhaustive()
    }
}

impl LocalDeploymentHandle {
    /// The backend process (`None` after shutdown).
    pub fn process(&self) -> Option<&LocalBackendProcess> {
        self.process.as_ref()
    }

    /// Stops the activity pings and the backend, then (linked deployments)
    /// `POST /api/local_deployment/pause`, whose failure is only a warning.
    pub async fn shutdown(mut self) {
        if let Some(pings) = self.linked.as_mut().and_then(|l| l.pings.take()) {
            pings.abort();
        }
        if let Some(process) = self.process.take() {
            process.stop_async().await;
        }
        if let Some(linked) = self.linked.take()
            && let Err(e) = linked
                .control_plane
                .pause(linked.team_slug.clone(), linked.project_slug.clone())
                .await
        {
            output::warning(&format!("Could not pause the local deployment: {e:#}"));
        }
    }
}

impl Drop for LocalDeploymentHandle {
    fn drop(&mut self) {
        if let Some(pings) = self.linked.as_mut().and_then(|l| l.pings.take()) {
            pings.abort();
        }
        // Dropping the process stops the backend.
        self.process.take();
    }
}
