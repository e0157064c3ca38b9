//! `convex deployment create [reference] --type dev|prod|preview`: create a
//! cloud deployment in the current project (or `team:project:ref`) with
//! `POST /v1/projects/<id>/create_deployment`, optionally in a region
//! (`--region`, aliases `us`/`eu`), of a class (`--class`), with an
//! expiration (`--expiration`), as the project's default (`--default`), and
//! select it (`--select`, through `deployment select`'s code).
//!
//! `local` / `team:project:local` registers a new local deployment for the
//! project instead (no backend is started for long: only to import the
//! project's default environment variables).
//!
//! Without a terminal every choice must come from the flags; with one, the
//! type, reference and region are asked for when missing.

use anyhow::Result;
use serde_json::{Map, Value};

use super::select::{announce, previous_name, save_selected_deployment};
use crate::commands::dev::configure;
use crate::commands::one_off;
use crate::context::{Context, ContextOptions};
use crate::credentials::local_state::load_project_local_config;
use crate::credentials::selector::{InProjectSelector, ParsedSelector, parse_selector};
use crate::credentials::{
    self, DeploymentCredentials, DeploymentFields, DeploymentSelection, DeploymentType,
    ManagementAuth, ProjectDetails, ProjectSelection, SelectionFlags, SelectionWithinProject,
    deploy_key,
};
use crate::error::fail;
use crate::local_backend::{DefaultEnvVars, LocalBackends, LocalDeploymentControlPlane};
use crate::output::{self, style};

/// `--type <type>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NewDeploymentType {
    Dev,
    Prod,
    Preview,
}

impl NewDeploymentType {
    fn as_str(self) -> &'static str {
        match self {
            NewDeploymentType::Dev => "dev",
            NewDeploymentType::Prod => "prod",
            NewDeploymentType::Preview => "preview",
        }
    }
}

/// Create a new deployment for a project.
///
/// • Create a dev deployment and select it: `npx convex deployment create dev/my-new-feature --type dev --select`
/// • Create a prod deployment named “staging”: `npx convex deployment create staging --type prod`
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct Args {
    /// The reference for the new deployment, e.g. `staging` or
    /// `dev/my-feature`. Use `local` to create a local deployment. You can
    /// specify a team and project with `team-slug:project-slug:ref` (e.g.
    /// `my-team:my-project:staging` or `my-team:my-project:local`). Can be
    /// omitted when using `--default`.
    #[arg(value_name = "reference")]
    pub reference: Option<String>,
    /// Deployment type
    #[arg(long = "type", value_enum, value_name = "type")]
    pub deployment_type: Option<NewDeploymentType>,
    /// Deployment region
    #[arg(long, value_name = "region")]
    pub region: Option<String>,
    #[arg(long = "class", value_name = "class", hide = true)]
    pub class: Option<String>,
    /// Select the new deployment. This will update the Convex environment
    /// variables in .env.local. Subsequent `npx convex` commands will run
    /// against this deployment.
    #[arg(long)]
    pub select: bool,
    /// Make the new deployment your default production deployment (used by
    /// `npx convex deploy`) or your personal dev deployment.
    #[arg(long)]
    pub default: bool,
    /// When the deployment expires (e.g. "none", "in 7 days",
    /// "2026-04-01T00:00:00Z", or a UNIX timestamp in seconds or milliseconds)
    #[arg(long, value_name = "value")]
    pub expiration: Option<String>,
    #[arg(long, value_name = "value", hide = true)]
    pub expiry: Option<String>,
    #[arg(long, value_name = "value", hide = true)]
    pub expires: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    let ctx = Context::new(ContextOptions::default())?;
    crate::commands::block_on(create(&ctx, &args))
}

/// What the new deployment will be.
struct Plan {
    reference: Option<String>,
    deployment_type: &'static str,
    is_default: Option<bool>,
    project: ProjectDetails,
    region: Option<(String, String)>,
    class: Option<String>,
}

async fn create(ctx: &Context, args: &Args) -> Result<()> {
    let expiration = args
        .expiration
        .as_ref()
        .or(args.expiry.as_ref())
        .or(args.expires.as_ref());
    ensure_auth_can_create_deployment(ctx)?;
    let current = credentials::get_deployment_selection(ctx, &SelectionFlags::default()).await?;

    if let Some(reference) = &args.reference
        && let Some(local) = local_create_target(reference)
    {
        let cloud_only = [
            ("type", args.deployment_type.is_some()),
            (
                "region",
                args.region.as_deref().is_some_and(|r| !r.is_empty()),
            ),
            (
                "class",
                args.class.as_deref().is_some_and(|c| !c.is_empty()),
            ),
            ("default", args.default),
        ];
        if let Some((flag, _)) = cloud_only.iter().find(|(_, given)| *given) {
            return Err(fail(format!(
                "--{flag} cannot be used when creating a local deployment"
            )));
        }
        if expiration.is_some() {
            return Err(fail(
                "--expiration cannot be used when creating a local deployment",
            ));
        }
        let team_and_project = match local {
            LocalTarget::NeedsTeam => {
                return Err(fail(
                    "Please use `team:project:local` to specify the team when creating a local deployment in a different project.",
                ));
            }
            LocalTarget::CurrentProject => None,
            LocalTarget::TeamProject(team, project) => Some((team, project)),
        };
        return create_local_deployment(ctx, &current, args.select, team_and_project).await;
    }

    let expires_at = match expiration.filter(|e| !e.is_empty()) {
        Some(raw) => Some(resolve_expiration(raw, now_ms())?),
        None => None,
    };
    let plan = if output::stdin_is_terminal() {
        plan_interactively(ctx, &current, args).await?
    } else {
        plan_from_flags(ctx, &current, args).await?
    };

    let mut spinner = format!("Creating {} deployment", plan.deployment_type);
    if let Some((_, display)) = &plan.region {
        spinner.push_str(&format!(" in region {display}"));
    }
    if let Some(class) = &plan.class {
        spinner.push_str(&format!(" with class {class}"));
    }
    spinner.push_str("...");
    output::start_spinner(&spinner);
    let mut body = Map::new();
    body.insert("type".into(), plan.deployment_type.into());
    body.insert(
        "region".into(),
        plan.region
            .as_ref()
            .map(|(name, _)| Value::String(name.clone()))
            .unwrap_or(Value::Null),
    );
    body.insert(
        "reference".into(),
        plan.reference
            .clone()
            .map(Value::String)
            .unwrap_or(Value::Null),
    );
    body.insert(
        "isDefault".into(),
        plan.is_default.map(Value::Bool).unwrap_or(Value::Null),
    );
    if let Some(expires_at) = expires_at {
        body.insert(
            "expiresAt".into(),
            expires_at.map(json_integer).unwrap_or(Value::Null),
        );
    }
    if let Some(class) = &plan.class {
        body.insert("class".into(), class.clone().into());
    }
    let created = match ctx
        .management()?
        .platform_post(
            &format!("/projects/{}/create_deployment", plan.project.id_segment()),
            &Value::Object(body),
        )
        .await
    {
        Ok(answer) => answer.unwrap_or(Value::Null),
        Err(e) => {
            output::fail_spinner();
            return Err(fail(format!("Could not create the deployment. {e}")));
        }
    };
    output::stop_spinner();
    let text = |name: &str| {
        created
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let kind = created.get("kind").and_then(Value::as_str);
    if kind != Some("cloud") {
        return Err(fail(format!(
            "Expected cloud deployment to be created but got {}",
            kind.unwrap_or("undefined")
        )));
    }
    let (Some(name), Some(created_type), Some(url)) =
        (text("name"), text("deploymentType"), text("deploymentUrl"))
    else {
        return Err(fail(format!(
            "The deployment was created, but the answer did not say its name, type and URL: {created}"
        )));
    };
    let reference = text("reference");
    let is_default = created.get("isDefault").and_then(Value::as_bool) == Some(true);
    output::success(&if args.select {
        format!("Created and selected new {created_type} deployment:")
    } else {
        format!(
            "Created new {}{created_type} deployment:",
            if is_default { "default " } else { "" }
        )
    });
    announce(
        ctx,
        &url,
        Some(&DeploymentFields {
            deployment_name: name,
            deployment_type: DeploymentType::parse(&created_type),
            team_slug: Some(plan.project.team_slug.clone()),
            project_slug: Some(plan.project.slug.clone()),
            reference: reference.clone(),
            is_default,
        }),
    );
    let reference_text = reference.clone().unwrap_or_else(|| "null".into());
    if !args.select {
        if plan.deployment_type != "prod" {
            output::message(&format!(
                "\nTo make `npx convex` use this deployment, run {}",
                style::bold(&format!(
                    "npx convex deployment select {}:{}:{reference_text}",
                    plan.project.team_slug, plan.project.slug
                ))
            ));
            output::message(&style::gray(
                "Hint: use `--select` to immediately select the newly created deployment.",
            ));
        }
        return Ok(());
    }
    let selection = DeploymentSelection::WithinProject {
        target: ProjectSelection::TeamAndProjectSlugs {
            team_slug: plan.project.team_slug.clone(),
            project_slug: plan.project.slug.clone(),
        },
        within: SelectionWithinProject::Selector(reference_text.clone()),
    };
    let previous = previous_name(&current);
    save_selected_deployment(ctx, &reference_text, &selection, previous.as_deref()).await?;
    Ok(())
}

/// Creating a deployment or project needs an account token or a project
/// key; deploy keys of one deployment cannot.
pub(crate) fn ensure_auth_can_create_deployment(ctx: &Context) -> Result<()> {
    match ctx.auth() {
        Some(ManagementAuth::AccessToken(_) | ManagementAuth::ProjectKey(_)) => Ok(()),
        None => Err(fail(format!(
            "Creating a deployment requires logging in. Run {} and try again.",
            style::bold("npx convex login")
        ))),
        Some(_) => Err(fail(format!(
            "Creating a deployment isn't supported with a deploy key ({}). Run {} (or use a project key) and try again.",
            deploy_key::deploy_key_var_name(&ctx.env),
            style::bold("npx convex login")
        ))),
    }
}

enum LocalTarget {
    CurrentProject,
    NeedsTeam,
    TeamProject(String, String),
}

/// `local`, `project:local` (refused: the team is needed) and
/// `team:project:local`.
fn local_create_target(reference: &str) -> Option<LocalTarget> {
    match parse_selector(reference) {
        ParsedSelector::InCurrentProject(InProjectSelector::Local) => {
            Some(LocalTarget::CurrentProject)
        }
        ParsedSelector::InProject {
            selector: InProjectSelector::Local,
            ..
        } => Some(LocalTarget::NeedsTeam),
        ParsedSelector::InTeamProject {
            team_slug,
            project_slug,
            selector: InProjectSelector::Local,
        } => Some(LocalTarget::TeamProject(team_slug, project_slug)),
        _ => None,
    }
}

/// A reference for a new deployment, and the `team:project` it names.
type NewReference = (String, Option<(String, String)>);

/// Check a `[team:project:]ref` for a new deployment.
fn parse_new_reference(input: &str) -> std::result::Result<NewReference, String> {
    let reserved = |selector: &InProjectSelector, local_hint: String| match selector {
        InProjectSelector::Dev => {
            Some("\"dev\" is reserved as an alias for your default dev deployment.".to_string())
        }
        InProjectSelector::Prod => Some(
            "\"prod\" is reserved as an alias for your default production deployment.".to_string(),
        ),
        InProjectSelector::Local => Some(format!(
            "\"local\" is reserved as an alias for your local deployment. To create one, run {}",
            style::bold(&local_hint)
        )),
        InProjectSelector::Reference(_) => None,
    };
    match parse_selector(input) {
        ParsedSelector::DeploymentName(name) => Err(format!(
            "\"{name}\" is not a valid deployment reference. References can't look like \"word-word-123\" — that format is reserved for automatically-generated deployment names."
        )),
        ParsedSelector::InCurrentProject(selector) => {
            if let Some(message) = reserved(&selector, "npx convex deployment create local".into()) {
                return Err(message);
            }
            match selector {
                InProjectSelector::Reference(r) => Ok((r, None)),
                _ => unreachable!("reserved selectors are refused above"),
            }
        }
        ParsedSelector::InProject { .. } => Err(
            "Please use \"team:project:ref\" to specify the team when creating a new deployment in a different project.".to_string(),
        ),
        ParsedSelector::InTeamProject {
            team_slug,
            project_slug,
            selector,
        } => {
            let hint = format!("npx convex deployment create {team_slug}:{project_slug}:local");
            if let Some(message) = reserved(&selector, hint) {
                return Err(message);
            }
            match selector {
                InProjectSelector::Reference(r) => Ok((r, Some((team_slug, project_slug)))),
                _ => unreachable!("reserved selectors are refused above"),
            }
        }
    }
}

/// The project the new deployment goes in, from the current selection (the
/// official `resolveProject`).
async fn resolve_project(ctx: &Context, current: &DeploymentSelection) -> Result<ProjectDetails> {
    match current {
        DeploymentSelection::Existing { fields, .. } => match fields {
            Some(fields) => {
                credentials::project_details(
                    ctx,
                    &ProjectSelection::DeploymentName {
                        deployment_name: fields.deployment_name.clone(),
                        deployment_type: None,
                    },
                )
                .await
            }
            None => Err(fail(
                "Cannot infer project from the current deployment configuration. Use `team:project:ref` to specify team and project slugs.",
            )),
        },
        DeploymentSelection::WithinProject { target, .. } => {
            credentials::project_details(ctx, target).await
        }
        DeploymentSelection::Preview {
            preview_deploy_key, ..
        } => {
            let (team_slug, project_slug) = deploy_key::preview_key_slugs(preview_deploy_key)?;
            credentials::project_details(
                ctx,
                &ProjectSelection::TeamAndProjectSlugs {
                    team_slug,
                    project_slug,
                },
            )
            .await
        }
        DeploymentSelection::ChooseProject { .. } => Err(fail(
            "No project configured yet. Use `team:project:ref` to specify team and project slugs.",
        )),
        DeploymentSelection::Anonymous { .. } => Err(fail(
            "Cannot create a deployment in anonymous mode. Run `npx convex login` and configure a project first.",
        )),
    }
}

async fn project_for(
    ctx: &Context,
    current: &DeploymentSelection,
    team_and_project: Option<(String, String)>,
) -> Result<ProjectDetails> {
    match team_and_project {
        Some((team_slug, project_slug)) => {
            credentials::project_details(
                ctx,
                &ProjectSelection::TeamAndProjectSlugs {
                    team_slug,
                    project_slug,
                },
            )
            .await
        }
        None => resolve_project(ctx, current).await,
    }
}

/// Without a terminal: everything from the flags.
async fn plan_from_flags(
    ctx: &Context,
    current: &DeploymentSelection,
    args: &Args,
) -> Result<Plan> {
    let mut reference = None;
    let mut team_and_project = None;
    if let Some(raw) = args.reference.as_deref().filter(|r| !r.is_empty()) {
        let (r, tp) = parse_new_reference(raw).map_err(fail)?;
        reference = Some(r);
        team_and_project = tp;
    }
    if reference.is_none() && !args.default {
        return Err(fail(
            "Specify a deployment ref or use --default:\n  `npx convex deployment create my-deployment-ref --type dev`\n  `npx convex deployment create --type prod --default`",
        ));
    }
    let Some(deployment_type) = args.deployment_type else {
        return Err(fail(
            "--type is required (supported values: dev, prod, preview)",
        ));
    };
    let project = project_for(ctx, current, team_and_project).await?;
    let region = match args.region.as_deref().filter(|r| !r.is_empty()) {
        Some(region) => Some(resolve_region(ctx, &project, region).await?),
        None => None,
    };
    let class = match args.class.as_deref().filter(|c| !c.is_empty()) {
        Some(class) => Some(resolve_class(ctx, &project, class).await?),
        None => None,
    };
    Ok(Plan {
        reference,
        deployment_type: deployment_type.as_str(),
        is_default: args.default.then_some(true),
        project,
        region,
        class,
    })
}

/// On a terminal: ask for what the flags leave open.
async fn plan_interactively(
    ctx: &Context,
    current: &DeploymentSelection,
    args: &Args,
) -> Result<Plan> {
    let deployment_type = match args.deployment_type {
        Some(t) => {
            log_and_use("type", t.as_str());
            t
        }
        None => {
            let choices = ["dev", "preview", "prod"].map(str::to_string);
            match output::prompt_select("Deployment type?", &choices, 0)? {
                0 => NewDeploymentType::Dev,
                1 => NewDeploymentType::Preview,
                _ => NewDeploymentType::Prod,
            }
        }
    };
    let mut reference = None;
    let mut team_and_project = None;
    if let Some(raw) = args.reference.as_deref().filter(|r| !r.is_empty()) {
        match parse_new_reference(raw) {
            Ok((r, tp)) => {
                log_and_use("ref", &r);
                reference = Some(r);
                team_and_project = tp;
            }
            Err(message) => output::failure(&message),
        }
    }
    while reference.is_none() {
        let default = default_reference(&ctx.cwd, deployment_type);
        let input = loop {
            let answer = output::prompt_string(
                "What do you want to call this deployment?\nThe deployment reference will be used to identify your deployment on the dashboard and in CLI commands.\nExamples: staging, dev/james/feature\n>",
                default.as_deref(),
            )?;
            match validate_tentative_reference(&answer) {
                Ok(()) => break answer,
                Err(message) => output::failure(&message),
            }
        };
        match parse_new_reference(&input) {
            Ok((r, tp)) => {
                reference = Some(r);
                team_and_project = tp;
            }
            Err(message) => output::failure(&message),
        }
    }
    let project = project_for(ctx, current, team_and_project).await?;
    let region = match args.region.as_deref().filter(|r| !r.is_empty()) {
        Some(region) => {
            let resolved = resolve_region(ctx, &project, region).await?;
            log_and_use("region", &resolved.1);
            resolved
        }
        None => {
            let (team, _) = configure::choose_team(ctx, Some(&project.team_slug), "Team:")
                .await
                .map_err(|_| fail(format!("Error: Team {} not found.", project.team_slug)))?;
            let name = match &team.default_region {
                Some(region) => region.clone(),
                None => configure::prompt_region(
                    ctx,
                    &project.team_id_segment(),
                    deployment_type.as_str(),
                )
                .await?
                .unwrap_or_default(),
            };
            let resolved = resolve_region(ctx, &project, &name).await?;
            if team.default_region.is_some() {
                output::success(&format!("Using team default region of {}", resolved.1));
            } else {
                output::message(&style::gray(&format!(
                    "Tip: you can configure a default region for your team at {}",
                    style::underline(&format!(
                        "{}/t/{}/settings",
                        ctx.dashboard_host(),
                        team.slug
                    ))
                )));
            }
            resolved
        }
    };
    let class = match args.class.as_deref().filter(|c| !c.is_empty()) {
        Some(class) => {
            let class = resolve_class(ctx, &project, class).await?;
            log_and_use("class", &class);
            Some(class)
        }
        None => None,
    };
    Ok(Plan {
        reference,
        deployment_type: deployment_type.as_str(),
        is_default: args.default.then_some(true),
        project,
        region: Some(region),
        class,
    })
}

fn log_and_use(label: &str, value: &str) {
    output::success(&format!("Using {label}: {}", style::bold(value)));
}

/// The reference suggested from the git branch (`dev/<branch>`), for dev
/// and preview deployments, when it is a valid reference.
fn default_reference(cwd: &std::path::Path, deployment_type: NewDeploymentType) -> Option<String> {
    if deployment_type == NewDeploymentType::Prod {
        return None;
    }
    let output = std::process::Command::new("git")
        .args(["rev-parse", "--abbrev-ref", "HEAD"])
        .current_dir(cwd)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let branch = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() || ["", "HEAD", "main", "master"].contains(&branch.as_str()) {
        return None;
    }
    let mut slug = String::new();
    for c in branch.chars() {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '/' || c == '-' {
            c
        } else {
            '-'
        };
        if !(c == '-' && slug.ends_with('-')) {
            slug.push(c);
        }
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        return None;
    }
    let reference = format!("{}/{slug}", deployment_type.as_str());
    validate_tentative_reference(&reference).ok()?;
    Some(reference)
}

/// A quick check of a typed reference (the server has the last word).
fn validate_tentative_reference(reference: &str) -> std::result::Result<(), String> {
    let len = reference.chars().count();
    if len < 3 {
        return Err("References must be at least 3 characters".into());
    }
    if len > 100 {
        return Err("References must be at most 100 characters".into());
    }
    if !reference
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '/' || c == '-')
    {
        return Err("References can only contain lowercase letters, numbers, `-`, and `/`".into());
    }
    match reference {
        "dev" => Err("\"dev\" is reserved as an alias for your default dev deployment.".into()),
        "prod" => {
            Err("\"prod\" is reserved as an alias for your default production deployment.".into())
        }
        "local" => Err(format!(
            "\"local\" is reserved as an alias for your local deployment. To create one, run {}",
            style::bold("npx convex deployment create local")
        )),
        r if crate::credentials::selector::is_deployment_name(r) => Err(
            "References can't look like \"word-word-123\" — that format is reserved for automatically-generated deployment names. Try something like dev/my-feature or staging instead.".into(),
        ),
        _ => Ok(()),
    }
}

/// `--region`: a region name or its alias (`us`, `eu`), among the team's
/// available regions. Returns (name, display name).
async fn resolve_region(
    ctx: &Context,
    project: &ProjectDetails,
    region: &str,
) -> Result<(String, String)> {
    let items = list_available(ctx, project, "list_deployment_regions").await?;
    let wanted = match region {
        "us" => "aws-us-east-1",
        "eu" => "aws-eu-west-1",
        other => other,
    };
    let field = |item: &Value, name: &str| {
        item.get(name)
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_else(|| "undefined".into())
    };
    if let Some(item) = items
        .iter()
        .find(|i| i.get("name").and_then(Value::as_str) == Some(wanted))
    {
        return Ok((field(item, "name"), field(item, "displayName")));
    }
    let lines: Vec<String> = items
        .iter()
        .map(|item| {
            let name = field(item, "name");
            let alias = match name.as_str() {
                "aws-us-east-1" => "us".to_string(),
                "aws-eu-west-1" => "eu".to_string(),
                _ => name,
            };
            format!(
                "    Use `--region {alias}` for {}",
                field(item, "displayName")
            )
        })
        .collect();
    Err(fail(format!(
        "Invalid region \"{region}\".\n\n{}",
        lines.join("\n")
    )))
}

/// `--class`: one of the team's available deployment classes.
async fn resolve_class(ctx: &Context, project: &ProjectDetails, class: &str) -> Result<String> {
    let items = list_available(ctx, project, "list_deployment_classes").await?;
    let type_of = |item: &Value| {
        item.get("type")
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_else(|| "undefined".into())
    };
    if let Some(item) = items
        .iter()
        .find(|i| i.get("type").and_then(Value::as_str) == Some(class))
    {
        return Ok(type_of(item));
    }
    let lines: Vec<String> = items
        .iter()
        .map(|item| format!("    `--class {}`", type_of(item)))
        .collect();
    Err(fail(format!(
        "Invalid class \"{class}\".\n\nAvailable classes:\n{}",
        lines.join("\n")
    )))
}

/// `GET /v1/teams/<team id>/<endpoint>`: the items marked available.
async fn list_available(
    ctx: &Context,
    project: &ProjectDetails,
    endpoint: &str,
) -> Result<Vec<Value>> {
    let answer = ctx
        .management()?
        .platform_get(
            &format!("/teams/{}/{endpoint}", project.team_id_segment()),
            &[],
        )
        .await?
        .unwrap_or(Value::Null);
    let Some(items) = answer.get("items").and_then(Value::as_array) else {
        return Err(fail(format!(
            "Unexpected answer from /v1/teams/{}/{endpoint}: {answer}",
            project.team_id_segment()
        )));
    };
    Ok(items
        .iter()
        .filter(|i| i.get("available").is_some_and(truthy))
        .cloned()
        .collect())
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

fn json_integer(ms: f64) -> Value {
    if ms.fract() == 0.0 && ms.abs() < 9_007_199_254_740_992.0 {
        Value::from(ms as i64)
    } else {
        serde_json::Number::from_f64(ms)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as f64)
        .unwrap_or(0.0)
}

const EXPIRATION_FORMATS: &str = "Supported formats:\n  \"none\"                          — no expiration\n  \"in 7 days\"                     — relative (minutes, hours, days)\n  \"2026-04-01T00:00:00Z\"          — UTC datetime\n  \"1711828382\"                    — Unix timestamp (seconds)\n  \"1711828382000\"                 — Unix timestamp (milliseconds)";

/// `--expiration`: `Ok(None)` for "none", else the time in milliseconds,
/// which must be 30 minutes to a year from `now`.
fn resolve_expiration(raw: &str, now: f64) -> Result<Option<f64>> {
    let trimmed = raw.trim();
    let invalid = || {
        fail(format!(
            "Invalid expiration format: \"{trimmed}\". {EXPIRATION_FORMATS}"
        ))
    };
    let at = if trimmed.eq_ignore_ascii_case("none") {
        return Ok(None);
    } else if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let n: f64 = trimmed.parse().map_err(|_| invalid())?;
        if n < 1e12 { n * 1000.0 } else { n }
    } else if let Some(ms) = utc_datetime(trimmed) {
        match ms {
            Some(ms) => ms,
            None => {
                return Err(fail(format!(
                    "Invalid UTC datetime: \"{trimmed}\". {EXPIRATION_FORMATS}"
                )));
            }
        }
    } else if let Some((amount, unit_ms)) = relative(trimmed) {
        now + amount * unit_ms
    } else {
        return Err(invalid());
    };
    if at <= now {
        return Err(fail("Expiration must be in the future."));
    }
    if at - now < 30.0 * 60.0 * 1000.0 {
        return Err(fail("Expiration must be at least 30 minutes from now."));
    }
    if at - now > 365.0 * 24.0 * 60.0 * 60.0 * 1000.0 {
        return Err(fail("Expiration must be at most 1 year from now."));
    }
    Ok(Some(at))
}

/// `in <n> minute(s)|hour(s)|day(s)` (any case): (n, unit in ms).
fn relative(s: &str) -> Option<(f64, f64)> {
    let lower = s.to_ascii_lowercase();
    let rest = lower.strip_prefix("in")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let mut words = rest.split_whitespace();
    let amount = words.next()?;
    let unit = words.next()?;
    if words.next().is_some() || amount.is_empty() || !amount.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let unit_ms = match unit.strip_suffix('s').unwrap_or(unit) {
        "minute" => 60_000.0,
        "hour" => 3_600_000.0,
        "day" => 86_400_000.0,
        _ => return None,
    };
    Some((amount.parse().ok()?, unit_ms))
}

/// `YYYY-MM-DDTHH:MM:SSZ`: `None` when it is not that shape, `Some(None)`
/// when it is but names no time (as JavaScript's `Date` parses it: days 1–31
/// in any month roll over, hour 24 only as 24:00:00).
fn utc_datetime(s: &str) -> Option<Option<f64>> {
    let b = s.as_bytes();
    let shape = b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap_or(-1);
    let (year, month, day) = (num(0..4), num(5..7), num(8..10));
    let (hour, minute, second) = (num(11..13), num(14..16), num(17..19));
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && minute <= 59
        && second <= 59
        && (hour <= 23 || (hour == 24 && minute == 0 && second == 0));
    if !valid {
        return Some(None);
    }
    let days = days_from_civil(year, month, 1) + day - 1;
    Some(Some(
        ((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000) as f64,
    ))
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Register a new local deployment for the project (the official
/// `createLocalDeployment`), import the project's default environment
/// variables into it, and select it when asked.
pub(crate) async fn create_local_deployment(
    ctx: &Context,
    current: &DeploymentSelection,
    select: bool,
    team_and_project: Option<(String, String)>,
) -> Result<()> {
    if load_project_local_config(&ctx.cwd).is_some() {
        return Err(fail("A local deployment already exists."));
    }
    let project = project_for(ctx, current, team_and_project).await?;
    let backends = LocalBackends::from_context(ctx)?;
    let control_plane = crate::local_backend::ManagementControlPlane::new(ctx.management()?);
    let registered = backends
        .register_new_local_deployment(
            &project.team_slug,
            &project.slug,
            project.id,
            &control_plane,
        )
        .await?;
    output::success(if select {
        "Created and selected local deployment:"
    } else {
        "Created local deployment:"
    });
    let url = format!("http://127.0.0.1:{}", registered.ports.cloud);
    let fields = DeploymentFields {
        deployment_name: registered.deployment_name.clone(),
        deployment_type: DeploymentType::Local,
        team_slug: Some(project.team_slug.clone()),
        project_slug: Some(project.slug.clone()),
        reference: None,
        is_default: false,
    };
    announce(ctx, &url, Some(&fields));
    import_default_env_vars(
        ctx,
        &control_plane,
        &project,
        &DeploymentCredentials {
            url: url.clone(),
            admin_key: registered.admin_key.clone(),
            fields: Some(fields),
        },
    )
    .await?;
    if select {
        let selection = DeploymentSelection::WithinProject {
            target: ProjectSelection::DeploymentName {
                deployment_name: registered.deployment_name.clone(),
                deployment_type: Some(DeploymentType::Local),
            },
            within: SelectionWithinProject::Selector("local".into()),
        };
        let previous = previous_name(current);
        save_selected_deployment(ctx, "local", &selection, previous.as_deref()).await?;
        output::message(&format!(
            "\nRun {} to start it.",
            style::bold("npx convex dev")
        ));
    } else {
        output::message(&format!(
            "\nTo use this deployment, run:\n{}  Then, run {} to start it.",
            style::bold("      npx convex deployment select local\n"),
            style::bold("npx convex dev")
        ));
    }
    Ok(())
}

/// Copy the project's default dev environment variables into the new local
/// deployment, starting its backend for the moment it takes.
async fn import_default_env_vars(
    ctx: &Context,
    control_plane: &dyn LocalDeploymentControlPlane,
    project: &ProjectDetails,
    deployment: &DeploymentCredentials,
) -> Result<()> {
    output::start_spinner("Importing default env vars...");
    let vars = match control_plane
        .default_env_vars(project.team_slug.clone(), project.slug.clone())
        .await?
    {
        DefaultEnvVars::Forbidden(message) => {
            output::stop_spinner();
            output::warning(&format!("Skipping default env var import: {message}"));
            return Ok(());
        }
        DefaultEnvVars::Vars(vars) => vars,
    };
    if vars.is_empty() {
        output::success("No default env vars to import.");
        return Ok(());
    }
    let target = one_off::Target {
        credentials: deployment.clone(),
    };
    one_off::with_running_backend(ctx, &target, async {
        let changes: Vec<Value> = vars
            .iter()
            .map(|(name, value)| serde_json::json!({"name": name, "value": value}))
            .collect();
        target
            .client(ctx)?
            .send_json(
                &crate::http::DeploymentRequest::new(
                    reqwest::Method::POST,
                    "/api/update_environment_variables",
                )
                .json(&serde_json::json!({ "changes": changes })),
            )
            .await?;
        let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
        output::success(&format!(
            "Imported {} environment {} from default environment variables: {}",
            vars.len(),
            if vars.len() == 1 {
                "variable"
            } else {
                "variables"
            },
            names.join(", ")
        ));
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_for_new_deployments() {
        assert_eq!(
            parse_new_reference("staging").unwrap(),
            ("staging".into(), None)
        );
        assert_eq!(
            parse_new_reference("acme:rocket:dev/x").unwrap(),
            ("dev/x".into(), Some(("acme".into(), "rocket".into())))
        );
        for (input, fragment) in [
            ("happy-otter-999", "not a valid deployment reference"),
            ("dev", "\"dev\" is reserved"),
            ("prod", "\"prod\" is reserved"),
            ("local", "\"local\" is reserved"),
            ("rocket:staging", "team:project:ref"),
            ("a:b:prod", "\"prod\" is reserved"),
        ] {
            assert!(
                parse_new_reference(input).unwrap_err().contains(fragment),
                "{input}"
            );
        }
    }

    #[test]
    fn expirations() {
        let now = 1_796_166_107_000.0;
        assert_eq!(resolve_expiration(" None ", now).unwrap(), None);
        assert_eq!(
            resolve_expiration("in 7 days", now).unwrap(),
            Some(now + 7.0 * 86_400_000.0)
        );
        assert_eq!(
            resolve_expiration("IN 2 Hours", now).unwrap(),
            Some(now + 2.0 * 3_600_000.0)
        );
        assert_eq!(
            resolve_expiration("2027-03-01T00:00:00Z", now).unwrap(),
            Some(1_803_859_200_000.0)
        );
        assert_eq!(
            resolve_expiration("1804000000", now).unwrap(),
            Some(1_804_000_000_000.0)
        );
        assert_eq!(
            resolve_expiration("1804000000000", now).unwrap(),
            Some(1_804_000_000_000.0)
        );
        // February 30th rolls over, as JavaScript's Date does.
        assert_eq!(
            resolve_expiration("2027-02-30T00:00:00Z", now).unwrap(),
            Some(1_803_945_600_000.0)
        );
        for (input, fragment) in [
            ("tomorrow", "Invalid expiration format"),
            ("2027-13-01T00:00:00Z", "Invalid UTC datetime"),
            ("2027-01-01T23:60:00Z", "Invalid UTC datetime"),
            ("in 10 minutes", "at least 30 minutes"),
            ("1000000000", "in the future"),
            ("in 400 days", "at most 1 year"),
            ("in7days", "Invalid expiration format"),
        ] {
            let err = resolve_expiration(input, now).unwrap_err().to_string();
            assert!(err.contains(fragment), "{input}: {err}");
        }
    }

    #[test]
    fn tentative_references() {
        assert!(validate_tentative_reference("dev/my-feature").is_ok());
        assert!(validate_tentative_reference("ab").is_err());
        assert!(validate_tentative_reference("Dev/x").is_err());
        assert!(validate_tentative_reference("happy-otter-123").is_err());
        assert!(validate_tentative_reference("local").is_err());
    }
}
