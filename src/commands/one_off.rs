//! The deployment a one-off command acts on (`deployment usage`,
//! `deployment usage-limits`, and any command that talks to one deployment
//! with its admin key): the official `selectEnvDeployment` and
//! `withRunningBackend`.
//!
//! 1. [`select_deployment`]: the usual selection from the flags and the
//!    environment, then the credentials (a local backend is not probed yet);
//! 2. [`with_running_backend`]: a local or anonymous deployment whose backend
//!    is not running is started on its saved ports and version for the
//!    duration of the action, then stopped.

use std::future::Future;

use anyhow::Result;

use crate::context::Context;
use crate::credentials::{
    self, DeploymentCredentials, DeploymentType, LoadOptions, SelectionFlags,
};
use crate::http::DeploymentClient;
use crate::local_backend::{self, BackendStatus, LocalBackends, LocalDeploymentKind};
use crate::output::style;

/// The selected deployment and its admin key.
pub struct Target {
    pub credentials: DeploymentCredentials,
}

impl Target {
    /// ` (on dev deployment happy-otter-123)`, or nothing for self-hosted
    /// deployments and `--url`/`--admin-key` (the official
    /// `deploymentNotice`).
    pub fn notice(&self) -> String {
        match &self.credentials.fields {
            Some(fields) => format!(
                " (on {} deployment {})",
                style::bold(fields.deployment_type.as_str()),
                style::bold(&fields.deployment_name)
            ),
            None => String::new(),
        }
    }

    /// A deployment-API client with the admin key.
    pub fn client(&self, ctx: &Context) -> Result<DeploymentClient> {
        ctx.deployment_client(&self.credentials.url, &self.credentials.admin_key)
    }
}

/// Select the deployment from the flags and environment and fetch its
/// credentials (the official `selectEnvDeployment`).
pub async fn select_deployment(ctx: &Context, flags: &SelectionFlags) -> Result<Target> {
    let credentials = credentials::select_deployment_credentials(
        ctx,
        flags,
        LoadOptions {
            ensure_local_running: false,
        },
    )
    .await?;
    Ok(Target { credentials })
}

/// Run `action`; for a local or anonymous deployment whose backend is not
/// answering, start it from its saved configuration first and stop it after.
pub async fn with_running_backend<T, F>(ctx: &Context, target: &Target, action: F) -> Result<T>
where
    F: Future<Output = Result<T>>,
{
    let Some(fields) = &target.credentials.fields else {
        return action.await;
    };
    let kind = match fields.deployment_type {
        DeploymentType::Local => LocalDeploymentKind::Local,
        DeploymentType::Anonymous => LocalDeploymentKind::Anonymous,
        _ => return action.await,
    };
    let http = ctx.http()?;
    let status = local_backend::backend_status(
        http.reqwest(),
        &target.credentials.url,
        &fields.deployment_name,
    )
    .await;
    if status == BackendStatus::Running {
        return action.await;
    }
    let backends = LocalBackends::from_context(ctx)?;
    if backends
        .saved_config(kind, &fields.deployment_name)
        .is_none()
    {
        return Err(crate::error::fail(format!(
            "The local backend of {} isn't running and no saved configuration was found for it.\n  Run `npx convex dev` first.",
            fields.deployment_name
        )));
    }
    let access_token = match ctx.auth() {
        Some(credentials::ManagementAuth::AccessToken(token)) => Some(token),
        _ => None,
    };
    let process = backends
        .start_saved_deployment(kind, &fields.deployment_name, access_token)
        .await?;
    let result = action.await;
    process.stop_async().await;
    result
}
