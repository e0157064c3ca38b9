//! `convex integration workos …` (hidden): the WorkOS AuthKit integration's
//! debugging commands. They act on the selected cloud deployment (dev,
//! preview or prod) through the management API:
//! - `status`: the team's WorkOS team, the deployment's WorkOS environment
//!   and the `authKit` section of `convex.json`;
//! - `provision-team`, `disconnect-team`, `invite`: the WorkOS team of the
//!   Convex team (interactive: they ask first, and fail without a terminal);
//! - `list-project-environments`, `create-project-environment`,
//!   `delete-project-environment`: project-level WorkOS environments;
//! - `provision-environment`: the deployment's own WorkOS environment and its
//!   `WORKOS_*` environment variables.
//!
//! As in the official CLI, a failed request ends the command with exit 1;
//! the outcomes the API reports by error code ("not provisioned", "already
//! invited", …) are messages, exit 0.

use anyhow::Result;
use serde_json::{Value, json};

use crate::commands::SelectionArgs;
use crate::context::{Context, ContextOptions};
use crate::credentials::{
    DeploymentType, LoadOptions, get_deployment_selection, load_selected_deployment_credentials,
};
use crate::error::fail;
use crate::http::FetchError;
use crate::output::{self, style};

/// Integration commands
#[derive(Debug, Clone, clap::Args)]
#[command(subcommand_required = true, arg_required_else_help = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: IntegrationSub,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum IntegrationSub {
    /// WorkOS integration commands
    Workos(WorkosArgs),
}

/// Manage WorkOS team provisioning and environment setup
#[derive(Debug, Clone, clap::Args)]
#[command(subcommand_required = true, arg_required_else_help = true)]
pub struct WorkosArgs {
    #[command(subcommand)]
    pub command: WorkosSub,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum WorkosSub {
    /// Provision a WorkOS environment for the deployment
    #[command(name = "provision-environment")]
    ProvisionEnvironment(ProvisionEnvironmentArgs),
    /// Status of the associated WorkOS team and environment
    Status(SelectionOnly),
    /// Provision a WorkOS team for this Convex team
    #[command(name = "provision-team")]
    ProvisionTeam(SelectionOnly),
    /// Disconnect the WorkOS team from the Convex team
    #[command(name = "disconnect-team")]
    DisconnectTeam(SelectionOnly),
    /// Invite yourself to the WorkOS team
    Invite(InviteArgs),
    /// List WorkOS environments for the current project
    #[command(name = "list-project-environments")]
    ListProjectEnvironments(SelectionOnly),
    /// Create a new WorkOS environment for the project
    #[command(name = "create-project-environment")]
    CreateProjectEnvironment(CreateArgs),
    /// Delete a WorkOS environment from the project
    #[command(name = "delete-project-environment")]
    DeleteProjectEnvironment(DeleteArgs),
}

#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct SelectionOnly {
    #[command(flatten)]
    pub selection: SelectionArgs,
}

#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct ProvisionEnvironmentArgs {
    /// Custom name for the WorkOS environment (accepted; the environment is
    /// named after the deployment, as in the official CLI)
    #[arg(long, value_name = "name")]
    pub name: Option<String>,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct InviteArgs {
    /// Email address to invite (skips validation)
    #[arg(long, value_name = "email")]
    pub email: Option<String>,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct CreateArgs {
    /// Name for the new environment
    #[arg(long, value_name = "name", required = true)]
    pub name: String,
    /// Mark this environment as a production environment
    #[arg(long)]
    pub production: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct DeleteArgs {
    /// WorkOS client ID of the environment to delete (shown by
    /// list-project-environments)
    #[arg(long = "client-id", value_name = "clientId", required = true)]
    pub client_id: String,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

pub fn run(args: Args) -> Result<()> {
    let IntegrationSub::Workos(workos) = args.command;
    let selection = match &workos.command {
        WorkosSub::ProvisionEnvironment(a) => &a.selection,
        WorkosSub::Status(a)
        | WorkosSub::ProvisionTeam(a)
        | WorkosSub::DisconnectTeam(a)
        | WorkosSub::ListProjectEnvironments(a) => &a.selection,
        WorkosSub::Invite(a) => &a.selection,
        WorkosSub::CreateProjectEnvironment(a) => &a.selection,
        WorkosSub::DeleteProjectEnvironment(a) => &a.selection,
    };
    let flags = selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    crate::commands::block_on(async {
        let deployment = select_deployment(&ctx, &flags).await?;
        match &workos.command {
            WorkosSub::ProvisionEnvironment(_) => {
                let target = crate::workos::Target {
                    deployment_name: deployment.name.clone(),
                    deployment_type: deployment.kind,
                    url: deployment.url.clone(),
                    admin_key: deployment.admin_key.clone(),
                };
                crate::workos::provision_environment_command(&ctx, &target).await
            }
            WorkosSub::Status(_) => status(&ctx, &deployment).await,
            WorkosSub::ProvisionTeam(_) => provision_team(&ctx, &deployment).await,
            WorkosSub::DisconnectTeam(_) => disconnect_team(&ctx, &deployment).await,
            WorkosSub::Invite(a) => invite(&ctx, &deployment, a.email.as_deref()).await,
            WorkosSub::ListProjectEnvironments(_) => list_environments(&ctx, &deployment).await,
            WorkosSub::CreateProjectEnvironment(a) => {
                create_environment(&ctx, &deployment, &a.name, a.production).await
            }
            WorkosSub::DeleteProjectEnvironment(a) => {
                delete_environment(&ctx, &deployment, &a.client_id).await
            }
        }
    })
}

/// The selected cloud deployment.
pub struct Deployment {
    pub name: String,
    /// `dev`, `preview` or `prod`.
    pub kind: &'static str,
    pub url: String,
    pub admin_key: String,
}

async fn select_deployment(
    ctx: &Context,
    flags: &crate::credentials::SelectionFlags,
) -> Result<Deployment> {
    let selection = get_deployment_selection(ctx, flags).await?;
    let creds =
        load_selected_deployment_credentials(ctx, &selection, LoadOptions::default()).await?;
    let Some(fields) = creds.fields else {
        return Err(fail(
            "The WorkOS integration needs a Convex Cloud deployment; this one is self-hosted (or given by --url).",
        ));
    };
    let kind = match fields.deployment_type {
        DeploymentType::Dev => "dev",
        DeploymentType::Preview => "preview",
        DeploymentType::Prod => "prod",
        DeploymentType::Custom => {
            return Err(fail(
                "The WorkOS integration is not available for custom deployments yet.",
            ));
        }
        other => {
            return Err(fail(format!(
                "The WorkOS integration is only available for cloud deployments (dev, preview, prod), not {other}."
            )));
        }
    };
    Ok(Deployment {
        name: fields.deployment_name,
        kind,
        url: creds.url,
        admin_key: creds.admin_key,
    })
}

/// `GET /api/deployment/<name>/team_and_project`: team and project slugs
/// and ids; an answer without them is an error.
async fn team_and_project(ctx: &Context, deployment: &str) -> Result<Value> {
    let data = ctx
        .management()?
        .big_brain_get(&format!("deployment/{deployment}/team_and_project"))
        .await?
        .unwrap_or(Value::Null);
    if data.get("team").is_none() || data.get("project").is_none() {
        return Err(fail(format!(
            "Unexpected answer when looking up the deployment's team and project: {data}"
        )));
    }
    Ok(data)
}

fn id(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "undefined".into(),
    }
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "undefined".into(),
        Some(other) => other.to_string(),
    }
}

async fn status(ctx: &Context, deployment: &Deployment) -> Result<()> {
    let management = ctx.management()?;
    let info = team_and_project(ctx, &deployment.name).await?;
    let team_id = id(&info, "teamId");
    let health = management
        .big_brain_get(&format!("teams/{team_id}/workos_team_health"))
        .await?
        .unwrap_or(Value::Null);
    let team = (health.get("teamProvisioned") == Some(&Value::Bool(true)))
        .then(|| health.get("teamInfo").cloned())
        .flatten()
        .filter(|t| !t.is_null());
    match team {
        None => {
            output::message("WorkOS team: Not provisioned");
            let emails = management
                .big_brain_get("workos/available_workos_team_emails")
                .await?
                .unwrap_or(Value::Null);
            let emails: Vec<String> = emails
                .get("availableEmails")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if !emails.is_empty() {
                output::message(&format!(
                    "  Verified emails that can provision: {}",
                    emails.join(", ")
                ));
            }
        }
        Some(team) if team.get("productionState").and_then(Value::as_str) == Some("inactive") => {
            output::message(&format!(
                "WorkOS team: {} (no credit card added on workos.com, so production auth environments cannot be created)",
                text(&team, "name")
            ));
        }
        Some(team) => output::message(&format!("WorkOS team: {}", text(&team, "name"))),
    }
    match environment_health(ctx, &deployment.name).await? {
        None => output::message("WorkOS environment: Not provisioned"),
        Some(env) => {
            output::message(&format!("WorkOS environment: {}", text(&env, "name")));
            output::message(&format!(
                "https://dashboard.workos.com/{}/authentication",
                text(&env, "id")
            ));
        }
    }
    let config = ctx
        .project()
        .config()
        .map_err(|e| fail(format!("Could not read the project configuration: {e:#}")))?;
    describe_auth_kit(config.auth_kit.as_ref());
    Ok(())
}

/// `GET /api/deployments/<name>/workos_environment_health`; `None` when
/// the deployment has no WorkOS environment.
async fn environment_health(ctx: &Context, deployment: &str) -> Result<Option<Value>> {
    match ctx
        .management()?
        .big_brain_get(&format!(
            "deployments/{deployment}/workos_environment_health"
        ))
        .await
    {
        Ok(v) => Ok(Some(v.unwrap_or(Value::Null))),
        Err(e) if e.server_code() == Some("WorkOSEnvironmentNotProvisioned") => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The `authKit` section, one line per deployment type.
fn describe_auth_kit(auth_kit: Option<&Value>) {
    let Some(auth_kit) = auth_kit else {
        output::message(&format!(
            "AuthKit config: {}",
            style::gray("Not configured in convex.json")
        ));
        return;
    };
    output::message("AuthKit config:");
    for kind in ["dev", "preview", "prod"] {
        let Some(env) = auth_kit.get(kind).filter(|v| !v.is_null()) else {
            output::message(&format!("  {kind}: {}", style::gray("not configured")));
            continue;
        };
        let mut parts: Vec<String> = Vec::new();
        if kind == "prod"
            && let Some(t) = env.get("environmentType").and_then(Value::as_str)
        {
            parts.push(format!("environment type: {t}"));
        }
        match env.get("configure") {
            Some(Value::Bool(false)) => parts.push("configure: disabled".into()),
            Some(Value::Object(_)) => parts.push("will configure WorkOS".into()),
            _ => {}
        }
        if let Some(Value::Object(vars)) = env.get("localEnvVars") {
            parts.push(format!("{} local env vars", vars.len()));
        }
        let description = if parts.is_empty() {
            "configured".to_string()
        } else {
            parts.join(", ")
        };
        output::message(&format!("  {kind}: {description}"));
    }
}

/// `POST /api/workos/has_associated_workos_team`:
/// `(hasAssociatedWorkosTeam, teamId)`.
async fn has_associated_team(ctx: &Context, deployment: &str) -> Result<(bool, Value)> {
    let answer = ctx
        .management()?
        .big_brain_post(
            "workos/has_associated_workos_team",
            Some(&json!({"deploymentName": deployment})),
        )
        .await?
        .unwrap_or(Value::Null);
    Ok((
        answer.get("hasAssociatedWorkosTeam") == Some(&Value::Bool(true)),
        answer.get("teamId").cloned().unwrap_or(Value::Null),
    ))
}

/// The team slug of `deployment`, `None` when the API does not know it.
async fn team_slug(ctx: &Context, deployment: &str) -> Result<Option<String>> {
    match ctx
        .management()?
        .big_brain_get(&format!("deployment/{deployment}/team_and_project"))
        .await
    {
        Ok(v) => Ok(v.and_then(|v| v.get("team").and_then(Value::as_str).map(str::to_string))),
        Err(e)
            if matches!(
                e.server_code(),
                Some("DeploymentNotFound") | Some("ProjectNotFound")
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// A yes/no question; without a terminal the question goes to stdout and
/// the command fails with `non_interactive` (as the official CLI does).
fn confirm(question: &str, default: bool, non_interactive: Option<String>) -> Result<bool> {
    if !output::stdin_is_terminal()
        && let Some(message) = non_interactive
    {
        output::data(question);
        return Err(fail(message));
    }
    output::prompt_yes_no(question, Some(default))
}

async fn provision_team(ctx: &Context, deployment: &Deployment) -> Result<()> {
    let (has_team, team_id) = has_associated_team(ctx, &deployment.name).await?;
    if has_team {
        output::message(&style::yellow(
            "This Convex team already has an associated WorkOS team.",
        ));
        output::message(&style::gray(
            "Use 'npx convex integration workos status' to view details.",
        ));
        return Ok(());
    }
    match crate::workos::provision_team_interactive(
        ctx,
        &deployment.name,
        &team_id,
        deployment.kind,
    )
    .await?
    {
        Some((id, name)) => {
            output::message(&style::green(&format!(
                "\n✓ Successfully created WorkOS team \"{name}\" ({id})"
            )));
            output::message(&style::gray(
                "You can now provision WorkOS environments for deployments on this team.",
            ));
        }
        None => output::message(&style::gray("Cancelled.")),
    }
    Ok(())
}

async fn disconnect_team(ctx: &Context, deployment: &Deployment) -> Result<()> {
    let (has_team, team_id) = has_associated_team(ctx, &deployment.name).await?;
    if !has_team {
        output::message(&style::yellow(
            "This Convex team does not have an associated WorkOS team.",
        ));
        return Ok(());
    }
    let slug = team_slug(ctx, &deployment.name)
        .await?
        .unwrap_or_else(|| "undefined".into());
    output::message(&style::yellow(&format!(
        "Warning: this disconnects the WorkOS team from the Convex team \"{slug}\"."
    )));
    output::message(
        "AuthKit environments of this team's deployments will no longer be provisioned from this WorkOS team.",
    );
    output::message(&style::gray(
        "Existing WorkOS environments keep working with their current API keys.",
    ));
    if !confirm(
        "Are you sure you want to disconnect this WorkOS team?",
        false,
        None,
    )? {
        output::message(&style::gray("Cancelled."));
        return Ok(());
    }
    match ctx
        .management()?
        .big_brain_post(
            "workos/disconnect_workos_team",
            Some(&json!({"teamId": team_id})),
        )
        .await
    {
        Ok(answer) => {
            let answer = answer.unwrap_or(Value::Null);
            output::success(&format!(
                "Successfully disconnected WorkOS team \"{}\" ({})",
                text(&answer, "workosTeamName"),
                text(&answer, "workosTeamId")
            ));
            Ok(())
        }
        Err(e) if e.server_code() == Some("WorkOSTeamNotAssociated") => {
            output::message(&style::yellow(
                "This Convex team does not have an associated WorkOS team.",
            ));
            Ok(())
        }
        Err(e) => Err(fail(format!(
            "Failed to disconnect WorkOS team: {}",
            server_message(&e)
        ))),
    }
}

/// The server's own message of a failed request, else the whole error.
fn server_message(e: &FetchError) -> String {
    match e {
        FetchError::Status(s) => s.message.clone().unwrap_or_else(|| e.to_string()),
        _ => e.to_string(),
    }
}

async fn invite(ctx: &Context, deployment: &Deployment, email: Option<&str>) -> Result<()> {
    let management = ctx.management()?;
    let info = team_and_project(ctx, &deployment.name).await?;
    let team_id = info.get("teamId").cloned().unwrap_or(Value::Null);
    let email = match email {
        Some(e) => e.to_string(),
        None => {
            let eligible = management
                .big_brain_get(&format!(
                    "teams/{}/workos_invitation_eligible_emails",
                    id(&info, "teamId")
                ))
                .await?
                .unwrap_or(Value::Null);
            let mut emails: Vec<String> = eligible
                .get("eligibleEmails")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let admin = eligible.get("adminEmail").and_then(Value::as_str);
            if let Some(admin) = admin
                && !emails.iter().any(|e| e == admin)
            {
                emails.push(admin.to_string());
            }
            if emails.is_empty() {
                output::message("You don't have any verified emails available for invitation.");
                output::message(
                    "This could be because all your verified emails are already admin of other WorkOS teams.",
                );
                return Ok(());
            }
            let labels: Vec<String> = emails
                .iter()
                .map(|e| {
                    if Some(e.as_str()) == admin {
                        format!("{e} (admin email)")
                    } else {
                        e.clone()
                    }
                })
                .collect();
            let chosen = output::prompt_select(
                "Which email would you like to invite to the WorkOS team?",
                &labels,
                0,
            )?;
            let email = emails[chosen].clone();
            if !output::prompt_yes_no(&format!("Send invitation to {email}?"), Some(true))? {
                output::message("Invitation cancelled.");
                return Ok(());
            }
            email
        }
    };
    output::message(&format!("Sending invitation to {email}..."));
    match management
        .big_brain_post(
            "workos/invite_team_member",
            Some(&json!({"teamId": team_id, "email": email})),
        )
        .await
    {
        Ok(answer) => {
            let answer = answer.unwrap_or(Value::Null);
            output::message(&format!(
                "✓ Successfully sent invitation to {} with role {}",
                text(&answer, "email"),
                text(&answer, "roleSlug")
            ));
            output::message("Check your email for the invitation link to join the WorkOS team.");
            Ok(())
        }
        Err(e) => {
            let message = |default: &str| match &e {
                FetchError::Status(s) => s.message.clone().unwrap_or_else(|| default.into()),
                _ => default.into(),
            };
            match e.server_code() {
                Some("WorkOSTeamNotProvisioned") => output::message(&format!(
                    "✗ {}. Run 'npx convex integration workos provision-environment' first.",
                    message("This team doesn't have a WorkOS team yet")
                )),
                Some("WorkosUserAlreadyInWorkspace")
                | Some("WorkosUserAlreadyInvited")
                | Some("WorkosUserAlreadyInThisTeam") => output::message(&format!(
                    "✗ {}. This usually means the email is already used in another WorkOS workspace.",
                    message("This email is already a member of another WorkOS workspace")
                )),
                _ => return Err(e.into()),
            }
            Ok(())
        }
    }
}

async fn list_environments(ctx: &Context, deployment: &Deployment) -> Result<()> {
    let info = team_and_project(ctx, &deployment.name).await?;
    output::message("Fetching project WorkOS environments...");
    let answer = ctx
        .management()?
        .big_brain_get(&format!(
            "projects/{}/workos_environments",
            id(&info, "projectId")
        ))
        .await?
        .unwrap_or(Value::Null);
    let environments = answer
        .get("environments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if environments.is_empty() {
        output::message("No WorkOS environments found for this project.");
        output::message(&style::gray(
            "Create one with: npx convex integration workos create-project-environment --name <name>",
        ));
        return Ok(());
    }
    output::message(&style::bold("WorkOS Project Environments:"));
    for env in environments {
        let production = if env.get("isProduction") == Some(&Value::Bool(true)) {
            style::yellow(" (production)")
        } else {
            String::new()
        };
        output::message(&format!(
            "  {}{production} - Client ID: {}",
            style::green(&text(&env, "userEnvironmentName")),
            text(&env, "workosClientId")
        ));
    }
    Ok(())
}

async fn create_environment(
    ctx: &Context,
    deployment: &Deployment,
    name: &str,
    production: bool,
) -> Result<()> {
    let info = team_and_project(ctx, &deployment.name).await?;
    output::start_spinner(&format!(
        "Creating project-level WorkOS environment '{name}'..."
    ));
    let mut body = json!({"environmentName": name});
    if production {
        body["isProduction"] = Value::Bool(true);
    }
    let answer = ctx
        .management()?
        .big_brain_post(
            &format!("projects/{}/workos_environments", id(&info, "projectId")),
            Some(&body),
        )
        .await?
        .unwrap_or(Value::Null);
    output::success(&format!("Created WorkOS environment '{name}'"));
    output::message("");
    output::message(&style::bold("Environment Details:"));
    output::message(&format!("  Name: {}", text(&answer, "userEnvironmentName")));
    output::message(&format!("  Client ID: {}", text(&answer, "workosClientId")));
    output::message(&format!("  API Key: {}", text(&answer, "workosApiKey")));
    Ok(())
}

async fn delete_environment(ctx: &Context, deployment: &Deployment, client_id: &str) -> Result<()> {
    let info = team_and_project(ctx, &deployment.name).await?;
    if !confirm(
        &format!("Are you sure you want to delete environment with client ID '{client_id}'?"),
        false,
        None,
    )? {
        output::message("Deletion cancelled.");
        return Ok(());
    }
    output::start_spinner("Deleting project WorkOS environment (this can take a while)...");
    let project_id = info.get("projectId").cloned().unwrap_or(Value::Null);
    ctx.management()?
        .big_brain_post(
            "workos/delete_project_environment",
            Some(&json!({"projectId": project_id, "clientId": client_id})),
        )
        .await?;
    output::success(&format!("Deleted environment with client ID '{client_id}'"));
    Ok(())
}
