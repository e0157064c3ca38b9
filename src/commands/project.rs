//! `convex project create [name] [--team <slug>]`: create a project in one
//! of the account's teams (`POST /v1/teams/<id>/create_project`). No
//! deployment is provisioned: that is `deployment create`'s job.

use anyhow::Result;
use serde_json::{Value, json};

use crate::commands::deployment::create::ensure_auth_can_create_deployment;
use crate::commands::dev::configure;
use crate::context::{Context, ContextOptions};
use crate::error::fail;
use crate::output::{self, style};

/// Manage projects in your team.
#[derive(Debug, Clone, clap::Args)]
#[command(subcommand_required = true, arg_required_else_help = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Sub {
    /// Create a new project
    Create(CreateArgs),
}

/// Create a new project.
///
/// Provisioning a deployment is a separate step — after creating the
/// project, run `npx convex deployment create` to add one.
///
/// • Create a project in your only team: `npx convex project create my-app`
/// • Pick the team: `npx convex project create my-app --team my-team`
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct CreateArgs {
    /// The name of the new project. Prompted for when omitted in an
    /// interactive terminal; required otherwise.
    #[arg(value_name = "name")]
    pub name: Option<String>,
    /// The team to create the project in. Defaults to your only team, or
    /// prompts when you belong to several.
    #[arg(long, value_name = "team_slug")]
    pub team: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    match args.command {
        Sub::Create(create) => {
            let ctx = Context::new(ContextOptions::default())?;
            crate::commands::block_on(create_project(&ctx, &create))
        }
    }
}

async fn create_project(ctx: &Context, args: &CreateArgs) -> Result<()> {
    ensure_auth_can_create_deployment(ctx)?;
    let (team, _) = configure::choose_team(ctx, args.team.as_deref(), "Team:").await?;
    let name = match args.name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => name.to_string(),
        None => {
            if !output::stdin_is_terminal() {
                return Err(fail(
                    "Specify a project name:\n  `npx convex project create my-app`",
                ));
            }
            output::prompt_string("Project name:", None)?
        }
    };
    output::start_spinner(&format!("Creating project {name}..."));
    let body = json!({
        "projectName": name,
        "deploymentType": Value::Null,
        "deploymentRegion": Value::Null,
    });
    let created = match ctx
        .management()?
        .platform_post(
            &format!("/teams/{}/create_project", team.id_segment()),
            &body,
        )
        .await
    {
        Ok(answer) => answer,
        Err(e) => {
            output::fail_spinner();
            return Err(fail(format!("Could not create the project. {e}")));
        }
    };
    let Some(slug) = created
        .as_ref()
        .and_then(|c| c.get("slug"))
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        output::fail_spinner();
        return Err(fail(format!(
            "Unexpected response during provisioning: {}",
            created.map(|c| c.to_string()).unwrap_or_default()
        )));
    };
    output::success(&format!(
        "Created project {} in team {}, manage it at {}",
        style::bold(&slug),
        style::bold(&team.slug),
        style::bold(&format!("{}/t/{}/{slug}", ctx.dashboard_host(), team.slug))
    ));
    output::message(&style::gray(&format!(
        "Next, add a deployment with `npx convex deployment create {}:{slug}:dev/my-feature --type dev --select` (pass `--region us` to choose a region).",
        team.slug
    )));
    Ok(())
}
