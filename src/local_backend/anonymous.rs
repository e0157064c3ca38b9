//! Anonymous deployments: a local backend for a user without an account.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail};

use super::config::{ensure_anonymous_user_id, list_legacy_deployments};
use super::download::BinaryVersion;
use super::ports::{PortChoice, choose_ports};
use super::process::ensure_backend_stopped;
use super::start::{Credentials, StartRequest};
use super::{ChosenConfiguration, LocalBackendOptions, LocalBackends, LocalDeploymentHandle};
use crate::credentials::local_state::{
    LocalDeploymentConfig, LocalDeploymentKind, load_project_local_config, local_deployment_url,
};
use crate::output;

/// The fixed name of the anonymous deployment in agent mode.
pub const AGENT_DEPLOYMENT_NAME: &str = "anonymous-agent";

/// What `ensure_anonymous_deployment` needs besides the shared settings.
#[derive(Clone, Debug, Default)]
pub struct AnonymousOptions {
    pub local: LocalBackendOptions,
    /// The anonymous deployment `CONVEX_DEPLOYMENT` names (`anonymous:<name>`).
    pub configured_deployment: Option<String>,
    /// `--configure [new|existing]`.
    pub chosen_configuration: Option<ChosenConfiguration>,
    /// `CONVEX_AGENT_MODE=anonymous`.
    pub agent_mode: bool,
}

/// How the deployment was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeploymentChoice {
    /// A saved deployment, reused.
    Existing,
    /// A new deployment. `dev` then creates `convex/README.md` and
    /// `convex/tsconfig.json` when missing (and offers the AI files).
    New,
    /// The user's very first anonymous deployment (nothing saved anywhere):
    /// like `New`, but `dev` does not add the starter files.
    First,
}

enum Chosen {
    Existing(String, LocalDeploymentConfig),
    New(String),
    First(String),
}

impl LocalBackends {
    /// Runs the anonymous deployment of this project: picks it (the saved
    /// one, the one `CONVEX_DEPLOYMENT` names, or a new
    /// `anonymous-<folder name>`), makes sure the backend binary is present,
    /// starts the backend and waits for it.
    ///
    /// Outside requests: the latest-version lookup, unless
    /// `--local-backend-version` is given for a saved deployment that has an
    /// instance secret; a download when the version is not cached.
    pub async fn ensure_anonymous_deployment(
        &self,
        options: &AnonymousOptions,
    ) -> Result<LocalDeploymentHandle> {
        let chosen = self.choose_anonymous_deployment(options)?;
        if let Chosen::First(_) = chosen
            && !options.agent_mode
            && self.stdin_is_terminal
        {
            output::message(
                "This command, `npx convex dev`, will run your Convex backend locally and update it \
                 with the functions you write in the `convex/` folder.",
            );
            output::message(
                "Use `npx convex dashboard` to view and interact with your project from a web UI.",
            );
            output::message(
                "Use `npx convex docs` to read the docs and `npx convex help` to see other commands.",
            );
            ensure_anonymous_user_id(&self.dirs)?;
            if !self.prompter.confirm("Continue?", true)? {
                bail!("Exiting: no local deployment was set up.");
            }
        }

        let binary = self
            .ensure_binary(match &options.local.backend_version {
                Some(version) => BinaryVersion::Exact(version.clone()),
                None => BinaryVersion::Latest,
            })
            .await?;

        let (deployment_name, existing, choice) = match chosen {
            Chosen::Existing(name, config) => (name, Some(config), DeploymentChoice::Existing),
            Chosen::New(name) => (name, None, DeploymentChoice::New),
            Chosen::First(name) => (name, None, DeploymentChoice::First),
        };
        if let Some(config) = &existing {
            // Its own earlier run must be gone; another deployment on those
            // ports is fine, new ports are picked below.
            ensure_backend_stopped(
                &self.client,
                config.ports.cloud,
                &deployment_name,
                Duration::from_secs(5),
            )
            .await?;
        }
        let ports = choose_ports(
            options.local.requested_ports(),
            existing
                .as_ref()
                .map(|c| PortChoice::from(c.ports))
                .unwrap_or_default(),
        )?;
        let started = self
            .start_with_possible_upgrade(StartRequest {
                kind: LocalDeploymentKind::Anonymous,
                deployment_name: deployment_name.clone(),
                old_version: existing.as_ref().map(|c| c.backend_version.clone()),
                binary,
                ports,
                existing_credentials: existing.as_ref().map(Credentials::from_config),
                force_upgrade: options.local.force_upgrade,
                cloud_project_id: None,
                access_token: None,
            })
            .await?;
        Ok(LocalDeploymentHandle {
            kind: LocalDeploymentKind::Anonymous,
            url: local_deployment_url(ports.cloud),
            deployment_name,
            admin_key: started.admin_key,
            ports,
            backend_version: started.backend_version,
            state_dir: started.state_dir,
            choice,
            project_id: None,
            process: Some(started.process),
            linked: None,
        })
    }

    fn choose_anonymous_deployment(&self, options: &AnonymousOptions) -> Result<Chosen> {
        let new_name = || anonymous_deployment_name(&self.project_dir);
        if let Some((name, config)) = load_project_local_config(&self.project_dir) {
            if is_anonymous_name(&name) {
                return Ok(Chosen::Existing(name, config));
            }
            // The folder held a linked local deployment: a new anonymous one
            // takes over its data folder and config.
            return Ok(Chosen::New(new_name()));
        }

        let legacy = list_legacy_deployments(&self.dirs, LocalDeploymentKind::Anonymous);
        if let (Some(wanted), None) = (
            &options.configured_deployment,
            &options.chosen_configuration,
        ) {
            match legacy.iter().find(|(name, _)| name == wanted) {
                Some((name, config)) => return Ok(Chosen::Existing(name.clone(), config.clone())),
                None => output::warning(&format!(
                    "Could not find the local deployment {wanted} (CONVEX_DEPLOYMENT); setting up a new one."
                )),
            }
        }

        if options.agent_mode {
            return Ok(Chosen::New(AGENT_DEPLOYMENT_NAME.to_string()));
        }
        if legacy.is_empty() {
            output::message("Setting up a new project...");
            return Ok(Chosen::First(new_name()));
        }
        if options.chosen_configuration == Some(ChosenConfiguration::New) || !self.stdin_is_terminal
        {
            return Ok(Chosen::New(new_name()));
        }

        let offer_new = options.chosen_configuration != Some(ChosenConfiguration::Existing);
        let mut choices: Vec<String> = Vec::new();
        if offer_new {
            choices.push("Create a new one".to_string());
        }
        choices.extend(legacy.iter().map(|(name, _)| name.clone()));
        let picked = self
            .prompter
            .select("Which project would you like to use?", &choices)?;
        let legacy_index = if offer_new {
            match picked.checked_sub(1) {
                None => return Ok(Chosen::New(new_name())),
                Some(i) => i,
            }
        } else {
            picked
        };
        match legacy.into_iter().nth(legacy_index) {
            Some((name, config)) => Ok(Chosen::Existing(name, config)),
            None => bail!("No project was chosen."),
        }
    }
}

/// `anonymous-<name of the project folder>`.
pub fn anonymous_deployment_name(project_dir: &Path) -> String {
    let base = project_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("anonymous-{base}")
}

/// Whether a deployment name is an anonymous one.
pub fn is_anonymous_name(name: &str) -> bool {
    name.starts_with("anonymous-")
}
