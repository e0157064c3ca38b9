//! `convex deployment select <deployment>`: resolve a deployment selector
//! relative to the current project (the `--deployment` grammar of
//! [`crate::credentials::selector`]), fetch its credentials and canonical
//! URLs, and save it in `.env.local` (`CONVEX_DEPLOYMENT`, the client URL and
//! HTTP-actions URL variables) through the same code `dev` uses, keeping
//! every other line.
//!
//! `local` (and `[team:]project:local`) selects this directory's local
//! deployment; when it belongs to another cloud project than the one asked
//! for, it is moved there (`local_deployment/start` under the new project).
//! Production deployments cannot be selected.

use anyhow::Result;
use serde_json::Value;

use crate::commands::dev::{configure, env_setup};
use crate::context::{Context, ContextOptions};
use crate::credentials::local_state::{LocalDeploymentKind, load_project_local_config};
use crate::credentials::selector::{InProjectSelector, ParsedSelector, parse_selector};
use crate::credentials::{
    self, DeploymentCredentials, DeploymentSelection, DeploymentType, LoadOptions, ProjectDetails,
    ProjectSelection, SelectionFlags, SelectionWithinProject,
};
use crate::error::fail;
use crate::local_backend::{LocalDeploymentControlPlane, ManagementControlPlane};
use crate::output::{self, style};
use crate::push::announce::{BannerStyle, format_banner};

/// Select the deployment to use when running commands.
///
/// The deployment will be used by all `npx convex` commands, except `npx
/// convex deploy`. You can also run individual commands on another
/// deployment by using the --deployment flag on that command.
///
/// • Select your personal cloud dev deployment in the current project: `npx convex deployment select dev`
/// • Select your local deployment: `npx convex deployment select local`
/// • Select a deployment in the same project by its reference: `npx convex deployment select dev/james`
/// • Select a deployment in another project in the same team: `npx convex deployment select some-project:dev/james`
/// • Select a deployment in a particular team/project: `npx convex deployment select some-team:some-project:dev/james`
#[derive(Debug, Clone, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The deployment to use
    #[arg(value_name = "deployment")]
    pub deployment: String,
}

pub fn run(args: Args) -> Result<()> {
    let ctx = Context::new(ContextOptions::default())?;
    crate::commands::block_on(select(&ctx, &args.deployment))
}

async fn select(ctx: &Context, selector: &str) -> Result<()> {
    let current = credentials::get_deployment_selection(ctx, &SelectionFlags::default()).await?;
    let parsed = parse_selector(selector);
    let is_local = parsed.in_project_selector() == Some(&InProjectSelector::Local);
    if matches!(current, DeploymentSelection::ChooseProject { .. })
        && !matches!(
            parsed,
            ParsedSelector::InTeamProject { .. } | ParsedSelector::DeploymentName(_)
        )
        && !is_local
    {
        return Err(fail(
            "No project configured. Run `npx convex dev` to set up a project first, or use a full selector like 'my-team:my-project:dev/james' or 'happy-capybara-123'.",
        ));
    }
    if is_local {
        return select_local(ctx, selector, &parsed, &current).await;
    }
    let selection = credentials::get_deployment_selection(
        ctx,
        &SelectionFlags {
            deployment: Some(selector.to_string()),
            ..SelectionFlags::default()
        },
    )
    .await?;
    let previous = previous_name(&current);
    let deployment =
        save_selected_deployment(ctx, selector, &selection, previous.as_deref()).await?;
    output::success("Selected deployment:");
    announce(ctx, &deployment.url, deployment.fields.as_ref());
    Ok(())
}

/// The deployment name the current selection names, if any.
pub(crate) fn previous_name(selection: &DeploymentSelection) -> Option<String> {
    selection.name_and_type().and_then(|(name, _)| name)
}

/// The banner without a header line.
pub(crate) fn announce(ctx: &Context, url: &str, fields: Option<&credentials::DeploymentFields>) {
    output::message(&format_banner(
        None,
        url,
        fields,
        ctx.dashboard_host(),
        BannerStyle::detect(),
    ));
}

/// Resolve `selection` and write it to `.env.local` (the official
/// `saveSelectedDeployment`); production deployments are refused before
/// anything is written.
pub(crate) async fn save_selected_deployment(
    ctx: &Context,
    selector: &str,
    selection: &DeploymentSelection,
    previous: Option<&str>,
) -> Result<DeploymentCredentials> {
    let deployment = credentials::load_selected_deployment_credentials(
        ctx,
        selection,
        LoadOptions {
            ensure_local_running: false,
        },
    )
    .await?;
    let Some(fields) = &deployment.fields else {
        return Err(fail(format!(
            "`{selector}` is not a deployment of a Convex project (it has no name or type), so it cannot be selected."
        )));
    };
    if fields.deployment_type == DeploymentType::Prod {
        return Err(fail(format!(
            "Selecting a production deployment is unsupported. To run commands on a production deployment, pass the {} flag to each command.",
            style::bold(&format!("--deployment {selector}"))
        )));
    }
    let (app_url, site_url) = if fields.deployment_type == DeploymentType::Local {
        (deployment.url.clone(), None)
    } else {
        let (cloud_url, site_url) =
            configure::canonical_urls(ctx, &deployment.url, &deployment.admin_key).await?;
        let app_url = if fields.deployment_type.is_local() {
            deployment.url.clone()
        } else {
            cloud_url.unwrap_or_else(|| deployment.url.clone())
        };
        (app_url, site_url)
    };
    env_setup::save_deployment_selection(ctx, fields, &app_url, site_url.as_deref(), previous)?;
    Ok(deployment)
}

/// `local`, `project:local`, `team:project:local`.
async fn select_local(
    ctx: &Context,
    selector: &str,
    parsed: &ParsedSelector,
    current: &DeploymentSelection,
) -> Result<()> {
    let Some((existing_name, existing_config)) = load_project_local_config(&ctx.cwd) else {
        return offer_to_create_local(ctx, parsed, current).await;
    };
    let mut name = existing_name.clone();
    if let Some(target) = target_project_for_local_selector(ctx, parsed, current).await? {
        match existing_config.cloud_project_id {
            Some(old_id) if Some(old_id) != target.id => {
                name = move_local_deployment(ctx, &existing_name, old_id, &target).await?;
            }
            Some(_) => {}
            None => {
                // Older configs lack the project id: record it.
                save_with_project_id(ctx, &existing_name, &existing_name, target.id)?;
            }
        }
    }
    let selection = DeploymentSelection::WithinProject {
        target: ProjectSelection::DeploymentName {
            deployment_name: name,
            deployment_type: Some(DeploymentType::Local),
        },
        within: SelectionWithinProject::Selector(selector.to_string()),
    };
    let previous = previous_name(current);
    save_selected_deployment(ctx, selector, &selection, previous.as_deref()).await?;
    Ok(())
}

/// No local deployment here: on a terminal, offer to create one.
async fn offer_to_create_local(
    ctx: &Context,
    parsed: &ParsedSelector,
    current: &DeploymentSelection,
) -> Result<()> {
    let none_found = || {
        fail(format!(
            "No local deployment found. Run {} to create one.",
            style::bold("npx convex deployment create local")
        ))
    };
    if !output::stdin_is_terminal() {
        return Err(none_found());
    }
    if matches!(current, DeploymentSelection::ChooseProject { .. })
        && !matches!(parsed, ParsedSelector::InTeamProject { .. })
    {
        return Err(fail(
            "No project configured. Run `npx convex dev` to set up a project first.",
        ));
    }
    if let ParsedSelector::InProject { project_slug, .. } = parsed {
        return Err(fail(format!(
            "No local deployment found. To create one in {}, run {}, or use a fully qualified selector like {}.",
            style::bold(project_slug),
            style::bold(&format!(
                "npx convex deployment create local --project {project_slug}"
            )),
            style::bold(&format!("my-team:{project_slug}:local"))
        )));
    }
    if !output::prompt_yes_no("No local deployment found. Create one now?", Some(true))? {
        return Err(none_found());
    }
    let team_and_project = match parsed {
        ParsedSelector::InTeamProject {
            team_slug,
            project_slug,
            ..
        } => Some((team_slug.clone(), project_slug.clone())),
        _ => None,
    };
    super::create::create_local_deployment(ctx, current, true, team_and_project).await
}

/// The cloud project a `[team:project:]local` selector points at, when it
/// can be told (not in anonymous mode or without a current project).
async fn target_project_for_local_selector(
    ctx: &Context,
    parsed: &ParsedSelector,
    current: &DeploymentSelection,
) -> Result<Option<ProjectDetails>> {
    let current_target = match current {
        DeploymentSelection::WithinProject { target, .. } => Some(target),
        _ => None,
    };
    Ok(match parsed {
        ParsedSelector::InTeamProject {
            team_slug,
            project_slug,
            ..
        } => Some(
            credentials::project_details(
                ctx,
                &ProjectSelection::TeamAndProjectSlugs {
                    team_slug: team_slug.clone(),
                    project_slug: project_slug.clone(),
                },
            )
            .await?,
        ),
        ParsedSelector::InCurrentProject(_) => match current_target {
            Some(target) => Some(credentials::project_details(ctx, target).await?),
            None => None,
        },
        ParsedSelector::InProject { project_slug, .. } => match current_target {
            Some(target) => {
                let current_project = credentials::project_details(ctx, target).await?;
                Some(
                    credentials::project_details(
                        ctx,
                        &ProjectSelection::TeamAndProjectSlugs {
                            team_slug: current_project.team_slug,
                            project_slug: project_slug.clone(),
                        },
                    )
                    .await?,
                )
            }
            None => None,
        },
        ParsedSelector::DeploymentName(_) => None,
    })
}

/// The local deployment here belongs to another cloud project: pause it
/// there (best effort), register it with `target`, and save its config
/// under the new name. Returns the new name.
async fn move_local_deployment(
    ctx: &Context,
    existing_name: &str,
    old_project_id: i64,
    target: &ProjectDetails,
) -> Result<String> {
    let management = ctx.management()?;
    let old_project = match management
        .platform_get(&format!("/projects/{old_project_id}"), &[])
        .await
    {
        Ok(Some(project)) => {
            let field = |name: &str| {
                project
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            Some((field("teamSlug"), field("slug")))
        }
        Ok(None) => None,
        Err(e) => {
            output::verbose(&format!(
                "Failed to resolve cloud project {old_project_id}: {e}"
            ));
            None
        }
    };
    let old_label = match &old_project {
        Some((team, project)) => format!("project {}", style::bold(&format!("{team}:{project}"))),
        None => format!("an unknown cloud project (ID {old_project_id})"),
    };
    output::warning(&format!(
        "⚠️ This local deployment was previously in {old_label}. Moving it to project {}.",
        style::bold(&format!("{}:{}", target.team_slug, target.slug))
    ));
    let control_plane = ManagementControlPlane::new(management);
    if let Some((team, project)) = old_project
        && let Err(e) = control_plane.pause(team, project).await
    {
        output::verbose(&format!("Failed to pause local deployment: {e}"));
    }
    let Some((_, config)) = load_project_local_config(&ctx.cwd) else {
        return Err(fail(
            "The local deployment's configuration disappeared while it was being moved.",
        ));
    };
    let started = control_plane
        .start(crate::local_backend::StartLocalDeployment {
            port: config.ports.cloud,
            project_slug: target.slug.clone(),
            team_slug: target.team_slug.clone(),
            instance_name: None,
        })
        .await?;
    save_with_project_id(ctx, existing_name, &started.deployment_name, target.id)?;
    Ok(started.deployment_name)
}

/// Rewrite the project-local `config.json` of `existing_name` as
/// `new_name` with `cloudProjectId` set, keeping its other fields and their
/// order.
fn save_with_project_id(
    ctx: &Context,
    existing_name: &str,
    new_name: &str,
    project_id: Option<i64>,
) -> Result<()> {
    let dir = crate::credentials::local_state::project_local_state_dir(&ctx.cwd);
    let text = std::fs::read_to_string(dir.join("config.json")).map_err(|e| {
        fail(format!(
            "Could not read the local deployment's configuration for {existing_name}: {e}"
        ))
    })?;
    let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(&text) else {
        return Err(fail(format!(
            "The local deployment's configuration for {existing_name} is not a JSON object."
        )));
    };
    match project_id {
        Some(id) => {
            fields.insert("cloudProjectId".into(), id.into());
        }
        None => {
            fields.shift_remove("cloudProjectId");
        }
    }
    crate::local_backend::save_deployment_config_fields(
        &ctx.dirs,
        &ctx.cwd,
        LocalDeploymentKind::Local,
        new_name,
        fields,
    )?;
    Ok(())
}
