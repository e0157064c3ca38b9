//! `convex deployments` (hidden, a debugging aid whose output is not
//! stable): say on stderr which deployment the current directory is
//! configured for, as deployment selection sees it.

use anyhow::Result;

use crate::context::{Context, ContextOptions};
use crate::credentials::{
    self, DeploymentSelection, ExistingSource, ProjectSelection, SelectionFlags,
};
use crate::output;

/// List deployments associated with a project
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    let ctx = Context::new(ContextOptions::default())?;
    crate::commands::block_on(async {
        let selection =
            credentials::get_deployment_selection(&ctx, &SelectionFlags::default()).await?;
        describe(&ctx, &selection).await
    })
}

async fn describe(ctx: &Context, selection: &DeploymentSelection) -> Result<()> {
    output::message("Currently configured deployment:");
    let or_null = |s: &Option<String>| s.clone().unwrap_or_else(|| "null".into());
    match selection {
        DeploymentSelection::Existing {
            url,
            fields,
            source,
            ..
        } => {
            output::message(&format!("  URL: {url}"));
            match fields {
                Some(fields) => {
                    output::message(&format!(
                        "  Deployment: {} ({})",
                        fields.deployment_name, fields.deployment_type
                    ));
                    output::message(&format!("  Team: {}", or_null(&fields.team_slug)));
                    output::message(&format!("  Project: {}", or_null(&fields.project_slug)));
                }
                None => output::message(&format!(
                    "  Type: {}",
                    match source {
                        ExistingSource::DeployKey => "deployKey",
                        ExistingSource::SelfHosted => "selfHosted",
                        ExistingSource::CliArgs => "cliArgs",
                    }
                )),
            }
        }
        DeploymentSelection::WithinProject { target, .. } => match target {
            ProjectSelection::TeamAndProjectSlugs {
                team_slug,
                project_slug,
            } => {
                output::message(&format!("  Team: {team_slug}"));
                output::message(&format!("  Project: {project_slug}"));
            }
            ProjectSelection::DeploymentName {
                deployment_name,
                deployment_type,
            } => {
                let answer = ctx
                    .management()?
                    .big_brain_get(&format!("deployment/{deployment_name}/team_and_project"))
                    .await?
                    .unwrap_or_default();
                let field = |name: &str| {
                    answer
                        .get(name)
                        .and_then(|v| v.as_str())
                        .unwrap_or("undefined")
                        .to_string()
                };
                output::message(&format!("  Team: {}", field("team")));
                output::message(&format!("  Project: {}", field("project")));
                output::message(&format!("  Deployment: {deployment_name}"));
                if let Some(kind) = deployment_type {
                    output::message(&format!("  Type: {kind}"));
                }
            }
            ProjectSelection::ProjectDeployKey(_) => {
                output::message("  Project deploy key configured");
            }
        },
        DeploymentSelection::Preview { .. } => {
            output::message("  Preview deployment (deploy key configured)");
        }
        DeploymentSelection::Anonymous {
            deployment_name, ..
        } => match deployment_name {
            Some(name) => output::message(&format!("  Anonymous deployment: {name}")),
            None => output::message("  Anonymous development (no deployment selected)"),
        },
        DeploymentSelection::ChooseProject { .. } => {
            output::message("  No project configured - will prompt interactively");
        }
    }
    Ok(())
}
