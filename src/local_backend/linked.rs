//! Local deployments linked to a cloud project (`dev --configure ...
//! --dev-deployment local`, or `CONVEX_DEPLOYMENT=local:...`): the backend runs
//! here, and the management API knows about it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::config::list_legacy_deployments;
use super::download::BinaryVersion;
use super::ports::{PortChoice, choose_ports};
use super::process::{backend_status, ensure_backend_stopped};
use super::start::{Credentials, StartRequest};
use super::{DeploymentChoice, LocalBackendOptions, LocalBackends, LocalDeploymentHandle};
use crate::credentials::local_state::local_deployment_url;
use crate::credentials::local_state::{
    LocalDeploymentConfig, LocalDeploymentKind, load_project_local_config,
};
use crate::http::{
    DeploymentClient, DeploymentRequest, FetchError, ManagementClient, encode_component,
};
use crate::output;

/// A boxed future, so the control plane can be a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Body of `POST /api/local_deployment/start`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartLocalDeployment {
    /// The chosen cloud port.
    pub port: u16,
    pub project_slug: String,
    pub team_slug: String,
    /// The existing deployment's name, `null` the first time.
    pub instance_name: Option<String>,
}

/// What `local_deployment/start` answers (its `adminKey` is deprecated and ignored).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedLocalDeployment {
    pub deployment_name: String,
    pub project_id: i64,
}

/// A project's default environment variables for dev deployments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefaultEnvVars {
    Vars(Vec<(String, String)>),
    /// The list was refused (403); the message says why.
    Forbidden(String),
}

/// The management-API calls a linked local deployment makes. `dev` implements
/// it with the shared management-API client; [`ManagementControlPlane`] is a
/// ready-made implementation.
pub trait LocalDeploymentControlPlane: Send + Sync {
    /// `POST /api/local_deployment/start`.
    fn start(&self, request: StartLocalDeployment)
    -> BoxFuture<'_, Result<StartedLocalDeployment>>;
    /// `POST /api/local_deployment/record_activity` `{"instanceName","adminKey"}`.
    fn record_activity(
        &self,
        instance_name: String,
        admin_key: String,
    ) -> BoxFuture<'_, Result<()>>;
    /// `POST /api/local_deployment/pause` `{"projectSlug","teamSlug"}`.
    fn pause(&self, team_slug: String, project_slug: String) -> BoxFuture<'_, Result<()>>;
    /// `GET /v1/teams/<team>/projects/<project>` for the project id, then
    /// `GET /v1/projects/<id>/list_default_environment_variables?deploymentType=dev`.
    fn default_env_vars(
        &self,
        team_slug: String,
        project_slug: String,
    ) -> BoxFuture<'_, Result<DefaultEnvVars>>;
}

/// What `ensure_linked_local_deployment` needs.
#[derive(Clone, Debug, Default)]
pub struct LinkedLocalOptions {
    pub team_slug: String,
    pub project_slug: String,
    pub local: LocalBackendOptions,
    /// The user's access token, when that is how they are authenticated: the
    /// backend gets it as `--control-plane-access-token` (versions that
    /// support it).
    pub access_token: Option<String>,
}

/// The state a linked deployment keeps in the handle.
pub(crate) struct LinkedState {
    pub control_plane: Arc<dyn LocalDeploymentControlPlane>,
    pub team_slug: String,
    pub project_slug: String,
    pub pings: Option<tokio::task::JoinHandle<()>>,
}

/// How often a running linked deployment reports activity.
const ACTIVITY_INTERVAL: Duration = Duration::from_secs(60);

impl LocalBackends {
    /// Runs the project's linked local deployment, registering it with the
    /// management API (`local_deployment/start`). The first time (no saved
    /// deployment for the project), prints the beta notice and imports the
    /// project's default environment variables.
    ///
    /// The caller then calls [`LocalDeploymentHandle::start_activity_pings`]
    /// and, at exit, [`LocalDeploymentHandle::shutdown`] (which pauses the
    /// deployment in the management API).
    pub async fn ensure_linked_local_deployment(
        &self,
        options: &LinkedLocalOptions,
        control_plane: Arc<dyn LocalDeploymentControlPlane>,
    ) -> Result<LocalDeploymentHandle> {
        let existing = self.existing_linked_deployment(&options.team_slug, &options.project_slug);
        let first_time = existing.is_none();
        if first_time {
            output::message("You're trying out the beta local deployment feature!");
            output::message(
                "To learn more, read the docs: https://docs.convex.dev/cli/local-deployments",
            );
        }
        if let Some((name, config)) = &existing {
            ensure_backend_stopped(
                &self.client,
                config.ports.cloud,
                name,
                Duration::from_secs(5),
            )
            .await?;
        }
        let binary = self
            .ensure_binary(match (&options.local.backend_version, &existing) {
                (Some(version), _) => BinaryVersion::Exact(version.clone()),
                (None, Some((_, config))) => {
                    BinaryVersion::LatestOr(config.backend_version.clone())
                }
                (None, None) => BinaryVersion::Latest,
            })
            .await?;
        let ports = choose_ports(
            options.local.requested_ports(),
            existing
                .as_ref()
                .map(|(_, c)| PortChoice::from(c.ports))
                .unwrap_or_default(),
        )?;
        let registered = control_plane
            .start(StartLocalDeployment {
                port: ports.cloud,
                project_slug: options.project_slug.clone(),
                team_slug: options.team_slug.clone(),
                instance_name: existing.as_ref().map(|(name, _)| name.clone()),
            })
            .await?;
        let deployment_name = registered.deployment_name;
        let started = self
            .start_with_possible_upgrade(StartRequest {
                kind: LocalDeploymentKind::Local,
                deployment_name: deployment_name.clone(),
                old_version: existing.as_ref().map(|(_, c)| c.backend_version.clone()),
                binary,
                ports,
                existing_credentials: existing.as_ref().map(|(_, c)| Credentials::from_config(c)),
                force_upgrade: options.local.force_upgrade,
                cloud_project_id: Some(registered.project_id),
                access_token: options.access_token.clone(),
            })
            .await?;
        let url = local_deployment_url(ports.cloud);
        let handle = LocalDeploymentHandle {
            kind: LocalDeploymentKind::Local,
            url,
            deployment_name,
            admin_key: started.admin_key,
            ports,
            backend_version: started.backend_version,
            state_dir: started.state_dir,
            choice: if first_time {
                DeploymentChoice::First
            } else {
                DeploymentChoice::Existing
            },
            project_id: Some(registered.project_id),
            process: Some(started.process),
            linked: Some(LinkedState {
                control_plane,
                team_slug: options.team_slug.clone(),
                project_slug: options.project_slug.clone(),
                pings: None,
            }),
        };
        if first_time {
            self.import_default_env_vars(&handle).await?;
        }
        Ok(handle)
    }

    /// A new local deployment for a cloud project, registered but not
    /// started (`deployment create local`): the latest backend (downloaded
    /// if needed), free ports, `local_deployment/start`, a new instance
    /// secret and admin key, and its `config.json` in the project.
    pub async fn register_new_local_deployment(
        &self,
        team_slug: &str,
        project_slug: &str,
        cloud_project_id: Option<i64>,
        control_plane: &dyn LocalDeploymentControlPlane,
    ) -> Result<RegisteredLocalDeployment> {
        output::start_spinner("Downloading local backend...");
        let binary = self.ensure_binary(BinaryVersion::Latest).await?;
        let ports = choose_ports(PortChoice::default(), PortChoice::default())?;
        output::start_spinner("Registering local deployment...");
        let registered = control_plane
            .start(StartLocalDeployment {
                port: ports.cloud,
                project_slug: project_slug.to_string(),
                team_slug: team_slug.to_string(),
                instance_name: None,
            })
            .await?;
        let credentials = self
            .generate_credentials(&registered.deployment_name)
            .await?;
        // Keys in the official CLI's order for a new local deployment.
        let mut fields = serde_json::Map::new();
        fields.insert("backendVersion".into(), binary.version.clone().into());
        fields.insert(
            "ports".into(),
            serde_json::json!({"cloud": ports.cloud, "site": ports.site}),
        );
        fields.insert("adminKey".into(), credentials.admin_key.clone().into());
        fields.insert(
            "instanceSecret".into(),
            credentials.instance_secret.clone().into(),
        );
        if let Some(id) = cloud_project_id {
            fields.insert("cloudProjectId".into(), id.into());
        }
        super::save_deployment_config_fields(
            &self.dirs,
            &self.project_dir,
            LocalDeploymentKind::Local,
            &registered.deployment_name,
            fields,
        )?;
        output::stop_spinner();
        Ok(RegisteredLocalDeployment {
            deployment_name: registered.deployment_name,
            ports,
            admin_key: credentials.admin_key,
        })
    }

    /// The saved linked deployment of this project: the project-local one
    /// if its name fits `local-<team>-<project>` (`-` → `_`), else the first
    /// legacy one whose name starts so.
    fn existing_linked_deployment(
        &self,
        team_slug: &str,
        project_slug: &str,
    ) -> Option<(String, LocalDeploymentConfig)> {
        let prefix = linked_deployment_prefix(team_slug, project_slug);
        if let Some((name, config)) = load_project_local_config(&self.project_dir)
            && name.starts_with(&prefix)
        {
            return Some((name, config));
        }
        list_legacy_deployments(&self.dirs, LocalDeploymentKind::Local)
            .into_iter()
            .find(|(name, _)| name.starts_with(&prefix))
    }

    /// Copies the project's default dev environment variables into a new
    /// linked deployment.
    async fn import_default_env_vars(&self, handle: &LocalDeploymentHandle) -> Result<()> {
        let linked = handle.linked.as_ref().expect("a linked deployment");
        output::message("Importing default environment variables...");
        let vars = match linked
            .control_plane
            .default_env_vars(linked.team_slug.clone(), linked.project_slug.clone())
            .await?
        {
            DefaultEnvVars::Forbidden(message) => {
                output::warning(&format!(
                    "Skipping the import of default environment variables: {message}"
                ));
                return Ok(());
            }
            DefaultEnvVars::Vars(vars) if vars.is_empty() => {
                output::success("No default environment variables to import.");
                return Ok(());
            }
            DefaultEnvVars::Vars(vars) => vars,
        };
        // The official CLI checks the backend is (still) up first.
        let _ = backend_status(&self.client, &handle.url, &handle.deployment_name).await;
        let changes: Vec<serde_json::Value> = vars
            .iter()
            .map(|(name, value)| serde_json::json!({ "name": name, "value": value }))
            .collect();
        DeploymentClient::new(self.http.clone(), &handle.url, &handle.admin_key)
            .send_json(
                &DeploymentRequest::new(reqwest::Method::POST, "/api/update_environment_variables")
                    .json(&serde_json::json!({ "changes": changes })),
            )
            .await?;
        let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
        output::success(&format!(
            "Imported {} environment {} from the project's default environment variables: {}",
            vars.len(),
            if vars.len() == 1 {
                "variable"
            } else {
                "variables"
            },
            names.join(", ")
        ));
        Ok(())
    }
}

impl LocalDeploymentHandle {
    /// Reports activity to the management API now and every 60 s until
    /// shutdown (linked deployments only; errors are ignored).
    pub fn start_activity_pings(&mut self) {
        let Some(linked) = self.linked.as_mut() else {
            return;
        };
        if linked.pings.is_some() {
            return;
        }
        let control_plane = linked.control_plane.clone();
        let name = self.deployment_name.clone();
        let admin_key = self.admin_key.clone();
        linked.pings = Some(tokio::spawn(async move {
            loop {
                let _ = control_plane
                    .record_activity(name.clone(), admin_key.clone())
                    .await;
                tokio::time::sleep(ACTIVITY_INTERVAL).await;
            }
        }));
    }
}

/// A local deployment [`LocalBackends::register_new_local_deployment`] made.
#[derive(Clone, PartialEq, Eq)]
pub struct RegisteredLocalDeployment {
    pub deployment_name: String,
    pub ports: super::LocalPorts,
    pub admin_key: String,
}

impl std::fmt::Debug for RegisteredLocalDeployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the admin key.
        f.debug_struct("RegisteredLocalDeployment")
            .field("deployment_name", &self.deployment_name)
            .field("ports", &self.ports)
            .finish_non_exhaustive()
    }
}

/// `local-<team>-<project>` with `-` replaced by `_` inside the slugs.
pub fn linked_deployment_prefix(team_slug: &str, project_slug: &str) -> String {
    format!(
        "local-{}-{}",
        team_slug.replace('-', "_"),
        project_slug.replace('-', "_")
    )
}

/// [`LocalDeploymentControlPlane`] over the shared management-API client
/// (`<provision host>/api/...` and `/v1/...`, `Authorization: Bearer`).
pub struct ManagementControlPlane {
    management: ManagementClient,
}

impl ManagementControlPlane {
    pub fn new(management: ManagementClient) -> Self {
        ManagementControlPlane { management }
    }
}

impl LocalDeploymentControlPlane for ManagementControlPlane {
    fn start(
        &self,
        request: StartLocalDeployment,
    ) -> BoxFuture<'_, Result<StartedLocalDeployment>> {
        Box::pin(async move {
            let body = serde_json::to_value(&request)?;
            let answer = self
                .management
                .big_brain_post("local_deployment/start", Some(&body))
                .await?
                .unwrap_or_default();
            serde_json::from_value(answer)
                .context("Unexpected answer from /api/local_deployment/start")
        })
    }

    fn record_activity(
        &self,
        instance_name: String,
        admin_key: String,
    ) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let body = serde_json::json!({ "instanceName": instance_name, "adminKey": admin_key });
            self.management
                .big_brain_post("local_deployment/record_activity", Some(&body))
                .await?;
            Ok(())
        })
    }

    fn pause(&self, team_slug: String, project_slug: String) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let body = serde_json::json!({ "projectSlug": project_slug, "teamSlug": team_slug });
            self.management
                .big_brain_post("local_deployment/pause", Some(&body))
                .await?;
            Ok(())
        })
    }

    fn default_env_vars(
        &self,
        team_slug: String,
        project_slug: String,
    ) -> BoxFuture<'_, Result<DefaultEnvVars>> {
        Box::pin(async move {
            let project = self
                .management
                .platform_get(
                    &format!(
                        "/teams/{}/projects/{}",
                        encode_component(&team_slug),
                        encode_component(&project_slug)
                    ),
                    &[],
                )
                .await?
                .unwrap_or_default();
            let Some(id) = project.get("id").and_then(|v| v.as_i64()) else {
                bail!(
                    "The project {team_slug}/{project_slug} has no id in the management API's answer."
                );
            };
            let list = match self
                .management
                .platform_get(
                    &format!("/projects/{id}/list_default_environment_variables"),
                    &[("deploymentType", "dev")],
                )
                .await
            {
                Ok(list) => list.unwrap_or_default(),
                Err(e) if e.status() == Some(403) => {
                    let message = match &e {
                        FetchError::Status(s) => s.message.clone(),
                        _ => None,
                    };
                    return Ok(DefaultEnvVars::Forbidden(
                        message.unwrap_or_else(|| e.to_string()),
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            let items = list
                .get("items")
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default();
            Ok(DefaultEnvVars::Vars(
                items
                    .iter()
                    .filter_map(|item| {
                        Some((
                            item.get("name")?.as_str()?.to_string(),
                            item.get("value")?.as_str()?.to_string(),
                        ))
                    })
                    .collect(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_replaces_dashes() {
        assert_eq!(
            linked_deployment_prefix("team-one", "my-proj"),
            "local-team_one-my_proj"
        );
    }

    #[test]
    fn start_body_field_order() {
        let body = serde_json::to_string(&StartLocalDeployment {
            port: 3210,
            project_slug: "rocket".into(),
            team_slug: "acme".into(),
            instance_name: None,
        })
        .unwrap();
        assert_eq!(
            body,
            r#"{"port":3210,"projectSlug":"rocket","teamSlug":"acme","instanceName":null}"#
        );
    }
}
