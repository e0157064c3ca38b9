//! Starting a deployment's backend: secrets, the saved config, the upgrade
//! decision when the backend version changed, the launch and the health check.

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::LocalBackends;
use super::config::save_deployment_config;
use super::download::{BackendBinary, BinaryVersion};
use super::paths::BackendDirs;
use super::paths::PRODUCTION_PROVISION_HOST;
use super::process::{
    LaunchSpec, LocalBackendProcess, parse_startup_timeout, probe_binary, spawn_backend,
    wait_until_ready,
};
use super::secrets::{LEGACY_INSTANCE_SECRET, generate_admin_key, generate_instance_secret};
use super::version::{is_downgrade, supports_control_plane_auth};
use crate::credentials::local_state::{
    LocalDeploymentConfig, LocalDeploymentKind, LocalPorts, load_anonymous_uuid,
    load_deployment_config,
};
use crate::output;

/// A saved admin key and the secret it was made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub admin_key: String,
    pub instance_secret: String,
}

impl Credentials {
    /// The credentials of a saved config (old configs have no secret: they
    /// ran with the legacy one).
    pub fn from_config(config: &LocalDeploymentConfig) -> Self {
        Credentials {
            admin_key: config.admin_key.clone(),
            instance_secret: config
                .instance_secret
                .clone()
                .unwrap_or_else(|| LEGACY_INSTANCE_SECRET.to_string()),
        }
    }
}

pub(crate) struct StartRequest {
    pub kind: LocalDeploymentKind,
    pub deployment_name: String,
    /// The saved deployment's version; `None` for a new deployment.
    pub old_version: Option<String>,
    pub binary: BackendBinary,
    pub ports: LocalPorts,
    pub existing_credentials: Option<Credentials>,
    pub force_upgrade: bool,
    pub cloud_project_id: Option<i64>,
    /// For `--control-plane-access-token` (linked local deployments).
    pub access_token: Option<String>,
}

pub(crate) struct Started {
    pub process: LocalBackendProcess,
    pub admin_key: String,
    pub backend_version: String,
    pub state_dir: PathBuf,
}

impl LocalBackends {
    /// Saves the config and starts the backend, handling a version change:
    /// upgrades (and downgrades) happen in place on the same data unless the
    /// user declines at the prompt, in which case the saved version runs.
    pub(crate) async fn start_with_possible_upgrade(
        &self,
        request: StartRequest,
    ) -> Result<Started> {
        let credentials = match request.existing_credentials {
            Some(c) if c.instance_secret != LEGACY_INSTANCE_SECRET => c,
            // New deployments and those on the legacy secret get fresh ones.
            _ => self.generate_credentials(&request.deployment_name).await?,
        };
        let config = LocalDeploymentConfig {
            ports: request.ports,
            backend_version: request.binary.version.clone(),
            admin_key: credentials.admin_key.clone(),
            instance_secret: Some(credentials.instance_secret.clone()),
            cloud_project_id: request.cloud_project_id,
            deployment_name: None,
        };
        let launch = |binary: &BackendBinary, is_latest: bool| {
            self.run_backend(RunRequest {
                kind: request.kind,
                deployment_name: request.deployment_name.clone(),
                binary: binary.clone(),
                ports: request.ports,
                instance_secret: credentials.instance_secret.clone(),
                is_latest,
                access_token: request.access_token.clone(),
            })
        };

        let old_version = match request.old_version {
            Some(old) if old != request.binary.version => old,
            _ => {
                save_deployment_config(
                    &self.dirs,
                    &self.project_dir,
                    request.kind,
                    &request.deployment_name,
                    &config,
                )?;
                let (process, state_dir) = launch(&request.binary, true).await?;
                return Ok(Started {
                    process,
                    admin_key: credentials.admin_key,
                    backend_version: request.binary.version,
                    state_dir,
                });
            }
        };

        let confirmed = request.force_upgrade
            || !self.stdin_is_terminal
            || self.prompter.confirm(
                "This deployment is using an older version of the Convex backend. Upgrade now?",
                true,
            )?;
        if !confirmed {
            let old_binary = self
                .ensure_binary(BinaryVersion::Exact(old_version.clone()))
                .await?;
            let config = LocalDeploymentConfig {
                backend_version: old_version.clone(),
                ..config
            };
            save_deployment_config(
                &self.dirs,
                &self.project_dir,
                request.kind,
                &request.deployment_name,
                &config,
            )?;
            let (process, state_dir) = launch(&old_binary, false).await?;
            return Ok(Started {
                process,
                admin_key: credentials.admin_key,
                backend_version: old_version,
                state_dir,
            });
        }

        let new_version = request.binary.version.clone();
        let downgrade = is_downgrade(&old_version, &new_version);
        if downgrade {
            output::warning(&format!(
                "Moving this local deployment back to an older backend version ({old_version} → \
                 {new_version}) is not supported: the older backend may not read data written by \
                 the newer one. If it fails to start, delete the deployment's state folder to start \
                 fresh on this version."
            ));
        }
        // The new backend migrates the data itself; the config records the
        // new version only once it has started on it.
        let (process, state_dir) = launch(&request.binary, true).await?;
        output::success(&format!(
            "{} to backend version {new_version}",
            if downgrade { "Moved back" } else { "Upgraded" }
        ));
        save_deployment_config(
            &self.dirs,
            &self.project_dir,
            request.kind,
            &request.deployment_name,
            &config,
        )?;
        Ok(Started {
            process,
            admin_key: credentials.admin_key,
            backend_version: new_version,
            state_dir,
        })
    }

    /// A new instance secret and its admin key, made by the latest backend
    /// (older releases may lack `keygen`), downloading it when needed.
    pub(crate) async fn generate_credentials(&self, deployment_name: &str) -> Result<Credentials> {
        let latest = self.ensure_binary(BinaryVersion::Latest).await?;
        let instance_secret = generate_instance_secret()?;
        let admin_key = generate_admin_key(&latest.path, deployment_name, &instance_secret).await?;
        Ok(Credentials {
            admin_key,
            instance_secret,
        })
    }

    /// Probes, launches and health-checks one backend.
    pub(crate) async fn run_backend(
        &self,
        request: RunRequest,
    ) -> Result<(LocalBackendProcess, PathBuf)> {
        let state_dir = self.dirs.deployment_state_dir(
            &self.project_dir,
            request.kind,
            &request.deployment_name,
        );
        std::fs::create_dir_all(&state_dir).map_err(|e| {
            anyhow::anyhow!("Could not create the folder {}: {e}", state_dir.display())
        })?;
        let beacon_uuid = match request.kind {
            LocalDeploymentKind::Anonymous if request.is_latest => load_anonymous_uuid(&self.dirs),
            _ => None,
        };
        let supports_control_plane = supports_control_plane_auth(&request.binary.version);
        let control_plane_url = (supports_control_plane
            && self.provision_host != PRODUCTION_PROVISION_HOST)
            .then(|| self.provision_host.clone());
        let control_plane_access_token = match (request.kind, request.access_token) {
            (LocalDeploymentKind::Local, Some(token)) if supports_control_plane => Some(token),
            _ => None,
        };
        let spec = LaunchSpec {
            binary: request.binary.path,
            kind: request.kind,
            deployment_name: request.deployment_name,
            instance_secret: request.instance_secret,
            ports: request.ports,
            state_dir: state_dir.clone(),
            beacon_uuid,
            control_plane_url,
            control_plane_access_token,
        };
        probe_binary(&spec).await?;
        let timeout = parse_startup_timeout(self.startup_timeout_secs.as_deref())?;
        let process = spawn_backend(&spec)?;
        if let Err(e) = wait_until_ready(
            &self.client,
            &process,
            spec.ports.cloud,
            &spec.deployment_name,
            timeout,
        )
        .await
        {
            process.stop_async().await;
            return Err(e);
        }
        Ok((process, state_dir))
    }

    /// Starts a saved deployment on its saved ports and version, for a
    /// command that needs it only for a moment (the official
    /// `withRunningBackend`). Stop it by dropping the process.
    /// `access_token` is the user's access token when that is how they are
    /// authenticated (passed to linked local backends that support it).
    pub async fn start_saved_deployment(
        &self,
        kind: LocalDeploymentKind,
        deployment_name: &str,
        access_token: Option<String>,
    ) -> Result<LocalBackendProcess> {
        let Some(config) =
            load_deployment_config(&self.dirs, kind, deployment_name, &self.project_dir)
        else {
            bail!(
                "The local backend isn't running and no saved configuration was found for \
                 {deployment_name}.\nRun `npx convex dev` first."
            );
        };
        let binary = self
            .ensure_binary(BinaryVersion::Exact(config.backend_version.clone()))
            .await?;
        let credentials = Credentials::from_config(&config);
        let (process, _) = self
            .run_backend(RunRequest {
                kind,
                deployment_name: deployment_name.to_string(),
                binary,
                ports: config.ports,
                instance_secret: credentials.instance_secret,
                is_latest: true,
                access_token,
            })
            .await?;
        Ok(process)
    }
}

pub(crate) struct RunRequest {
    pub kind: LocalDeploymentKind,
    pub deployment_name: String,
    pub binary: BackendBinary,
    pub ports: LocalPorts,
    pub instance_secret: String,
    /// False only when the user declined an upgrade: newer flags are left out.
    pub is_latest: bool,
    pub access_token: Option<String>,
}
