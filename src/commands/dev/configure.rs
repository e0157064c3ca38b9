//! From a deployment selection to a deployment `dev` can push to (spec §4–§6,
//! the official `deploymentCredentialsOrConfigure`): use a configured one,
//! let the user pick or create a project (interactively, or with
//! `--configure new|existing --team --project`), provision the cloud dev
//! deployment, or start a local backend (linked to a project, or anonymous).

use std::sync::Arc;

use anyhow::Result;
use serde_json::{Value, json};

use super::DevDeploymentMode;
use crate::commands::login;
use crate::context::Context;
use crate::credentials::{
    self, Access, DeploymentCredentials, DeploymentFields, DeploymentSelection, DeploymentType,
    LoadOptions, ManagementAuth, SelectionWithinProject, anonymous_allowed,
};
use crate::env_vars;
use crate::error::fail;
use crate::local_backend::{
    AnonymousOptions, ChosenConfiguration, DeploymentChoice, LinkedLocalOptions,
    LocalBackendOptions, LocalBackends, LocalDeploymentHandle, ManagementControlPlane,
};
use crate::output::{self, style};

/// The flags that decide how a project is chosen and what runs locally.
#[derive(Debug, Clone, Default)]
pub struct ConfigureOptions {
    /// `--configure [new|existing]` (bare: ask).
    pub chosen: Option<ChosenConfiguration>,
    /// `--prod` with `--configure`: the project's prod deployment.
    pub prod: bool,
    pub local: LocalBackendOptions,
    pub team: Option<String>,
    pub project: Option<String>,
    pub dev_deployment: Option<DevDeploymentMode>,
    pub login: login::AuthOverrides,
    /// The suggested name of a new project (default: the folder's name).
    pub default_project_name: Option<String>,
}

/// The deployment `dev` works against.
pub struct Target {
    pub url: String,
    pub admin_key: String,
    /// `None` for self-hosted deployments and `--url`/`--admin-key`.
    pub fields: Option<DeploymentFields>,
    /// The local backend `dev` started (stopped when `dev` ends).
    pub local: Option<LocalDeploymentHandle>,
}

impl Target {
    fn from_credentials(credentials: DeploymentCredentials) -> Target {
        Target {
            url: credentials.url,
            admin_key: credentials.admin_key,
            fields: credentials.fields,
            local: None,
        }
    }
}

/// `GET /api/v1/get_canonical_urls`: the deployment's public cloud URL and
/// HTTP-actions URL (either may be missing from the answer).
pub(crate) async fn canonical_urls(
    ctx: &Context,
    url: &str,
    admin_key: &str,
) -> Result<(Option<String>, Option<String>)> {
    let canonical = ctx
        .deployment_client(url, admin_key)?
        .send_json(&crate::http::DeploymentRequest::new(
            reqwest::Method::GET,
            "/api/v1/get_canonical_urls",
        ))
        .await?
        .unwrap_or(Value::Null);
    let field = |name: &str| {
        canonical
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Ok((field("convexCloudUrl"), field("convexSiteUrl")))
}

/// After [`credentials_or_configure`] (the rest of the official
/// `deploymentCredentialsOrConfigure`, shared by `dev` and `init`): fetch
/// the canonical URLs and save the deployment in `.env.local` (or, for
/// self-hosted deployments and `--url`, only the URL variables).
pub(crate) async fn save_configured_target(
    ctx: &Context,
    selection: &DeploymentSelection,
    url: &str,
    admin_key: &str,
    fields: Option<&DeploymentFields>,
) -> Result<()> {
    let (canonical_url, site_url) = canonical_urls(ctx, url, admin_key).await?;
    match fields {
        Some(fields) => {
            // Cloud deployments: the canonical URL goes into the app's env.
            let app_url = if fields.deployment_type.is_local() {
                url.to_string()
            } else {
                canonical_url.unwrap_or_else(|| url.to_string())
            };
            let existing = selection.name_and_type().and_then(|(name, _)| name);
            super::env_setup::save_deployment_selection(
                ctx,
                fields,
                &app_url,
                site_url.as_deref(),
                existing.as_deref(),
            )
        }
        None => super::env_setup::update_env_for_url(&ctx.cwd, url, site_url.as_deref()),
    }
}

/// Resolve the selection (see the module docs).
pub async fn credentials_or_configure(
    ctx: &Context,
    selection: &DeploymentSelection,
    options: &ConfigureOptions,
    backends: &LocalBackends,
) -> Result<Target> {
    match selection {
        DeploymentSelection::Existing {
            url,
            admin_key,
            fields,
            ..
        } => {
            assert_local_options_are_default(&options.local)?;
            Ok(Target {
                url: url.clone(),
                admin_key: admin_key.clone(),
                fields: fields.clone(),
                local: None,
            })
        }
        DeploymentSelection::ChooseProject { within } => {
            ensure_logged_in(ctx, options, None).await?;
            choose_project(ctx, options, is_prod(within), backends).await
        }
        DeploymentSelection::Preview { .. } => Err(fail(
            "A preview deploy key is set: `npx convex dev` cannot develop against preview deployments. Use `npx convex deploy` to create or update a preview deployment.",
        )),
        DeploymentSelection::WithinProject { target, within } => {
            within_project(ctx, selection, target, within, options, backends).await
        }
        DeploymentSelection::Anonymous {
            deployment_name,
            within,
        } => anonymous(ctx, deployment_name.as_deref(), within, options, backends).await,
    }
}

fn is_prod(within: &SelectionWithinProject) -> bool {
    matches!(within, SelectionWithinProject::Prod)
}

/// `--local-*` flags only make sense with a local deployment.
fn assert_local_options_are_default(local: &LocalBackendOptions) -> Result<()> {
    let flag = if local.cloud_port.is_some() {
        "--local-cloud-port"
    } else if local.site_port.is_some() {
        "--local-site-port"
    } else if local.backend_version.is_some() {
        "--local-backend-version"
    } else if local.force_upgrade {
        "--local-force-upgrade"
    } else {
        return Ok(());
    };
    Err(fail(format!(
        "`{flag}` can only be used when developing with a local deployment. Use `npx convex deployment select local` to use a local deployment."
    )))
}

/// Check the credential (`HEAD /api/authorize`, then the terms opt-ins);
/// without a valid one, run the login flow (which needs a terminal).
async fn ensure_logged_in(
    ctx: &Context,
    options: &ConfigureOptions,
    message: Option<&str>,
) -> Result<()> {
    if login::check_authorization(ctx, false).await? {
        return Ok(());
    }
    if let Some(message) = message {
        output::message(message);
    }
    let args = login::Args {
        auth_overrides: options.login.clone(),
        ..login::Args::default()
    };
    login::perform_login(ctx, &args).await
}

async fn within_project(
    ctx: &Context,
    selection: &DeploymentSelection,
    target: &credentials::ProjectSelection,
    within: &SelectionWithinProject,
    options: &ConfigureOptions,
    backends: &LocalBackends,
) -> Result<Target> {
    let tip = if ctx.auth().is_some() && anonymous_allowed(&ctx.env) {
        None
    } else {
        Some(
            "Tip: You can try out Convex without creating an account by clearing the CONVEX_DEPLOYMENT environment variable (often in .env.local).",
        )
    };
    ensure_logged_in(ctx, options, tip).await?;
    if options.chosen.is_some() {
        return choose_project(ctx, options, is_prod(within), backends).await;
    }
    if credentials::check_access_to_project(ctx, target).await? == Access::No {
        output::message("You don't have access to the selected project.");
        return choose_project(ctx, options, is_prod(within), backends).await;
    }
    let credentials = credentials::load_selected_deployment_credentials(
        ctx,
        selection,
        LoadOptions {
            ensure_local_running: false,
        },
    )
    .await?;
    if let Some(fields) = &credentials.fields
        && fields.deployment_type == DeploymentType::Local
    {
        // Start it (possibly on other ports than the saved ones).
        let handle = start_linked_local(
            ctx,
            fields.team_slug.as_deref().unwrap_or_default(),
            fields.project_slug.as_deref().unwrap_or_default(),
            &options.local,
            backends,
        )
        .await?;
        return Ok(Target {
            url: handle.url.clone(),
            admin_key: handle.admin_key.clone(),
            fields: credentials.fields.clone(),
            local: Some(handle),
        });
    }
    assert_local_options_are_default(&options.local)?;
    Ok(Target::from_credentials(credentials))
}

async fn start_linked_local(
    ctx: &Context,
    team_slug: &str,
    project_slug: &str,
    local: &LocalBackendOptions,
    backends: &LocalBackends,
) -> Result<LocalDeploymentHandle> {
    let access_token = match ctx.auth() {
        Some(ManagementAuth::AccessToken(token)) => Some(token),
        _ => None,
    };
    let control_plane = Arc::new(ManagementControlPlane::new(ctx.management()?));
    let mut handle = backends
        .ensure_linked_local_deployment(
            &LinkedLocalOptions {
                team_slug: team_slug.to_string(),
                project_slug: project_slug.to_string(),
                local: local.clone(),
                access_token,
            },
            control_plane,
        )
        .await?;
    handle.start_activity_pings();
    Ok(handle)
}

async fn anonymous(
    ctx: &Context,
    deployment_name: Option<&str>,
    within: &SelectionWithinProject,
    options: &ConfigureOptions,
    backends: &LocalBackends,
) -> Result<Target> {
    let has_auth = ctx.auth().is_some();
    let agent_mode = ctx.env.get(env_vars::CONVEX_AGENT_MODE) == Some("anonymous");
    let tty = output::stdin_is_terminal();
    if !agent_mode
        && tty
        && has_auth
        && let Some(name) = deployment_name
    {
        let link = options.chosen.is_some()
            || output::prompt_yes_no(
                &format!(
                    "CONVEX_DEPLOYMENT is configured with deployment {name}, which is not linked with your account. Would you like to link it now?"
                ),
                Some(true),
            )?;
        if link {
            return choose_project(ctx, options, is_prod(within), backends).await;
        }
    }
    let already_configured = deployment_name.is_some() && options.chosen.is_none();
    if agent_mode {
        output::warning(&style::bold(&style::yellow(
            "CONVEX_AGENT_MODE=anonymous mode is in beta, functionality may change in the future.",
        )));
    }
    let log_in = if agent_mode || !tty || already_configured {
        false
    } else {
        let choices = vec![
            "Start without an account (run Convex locally)".to_string(),
            "Login or create an account".to_string(),
        ];
        output::prompt_select(
            "Welcome to Convex! Would you like to login to your account?",
            &choices,
            0,
        )? == 1
    };
    if log_in {
        return choose_project(ctx, options, is_prod(within), backends).await;
    }
    let handle = backends
        .ensure_anonymous_deployment(&AnonymousOptions {
            local: options.local.clone(),
            configured_deployment: deployment_name.map(str::to_string),
            chosen_configuration: options.chosen,
            agent_mode,
        })
        .await?;
    if handle.choice == DeploymentChoice::New {
        init_convex_folder(ctx)?;
        crate::ai_files::attempt_setup(ctx).await;
    }
    Ok(Target {
        url: handle.url.clone(),
        admin_key: handle.admin_key.clone(),
        fields: Some(DeploymentFields {
            deployment_name: handle.deployment_name.clone(),
            deployment_type: DeploymentType::Anonymous,
            team_slug: None,
            project_slug: None,
            reference: None,
            is_default: false,
        }),
        local: Some(handle),
    })
}

/// `convex/README.md` (for a new functions folder) and
/// `convex/tsconfig.json` (when missing), as `codegen --init` writes them.
fn init_convex_folder(ctx: &Context) -> Result<()> {
    let config = ctx.project().config()?;
    let functions_dir = config.functions_dir(&ctx.cwd);
    crate::codegen::Output::with_std(|out| {
        crate::codegen::init_functions_dir(&functions_dir, &crate::codegen::Options::default(), out)
    })?;
    Ok(())
}

/// What the user picked or created.
pub(crate) struct ChosenProject {
    pub team_slug: String,
    pub project_slug: String,
    pub dev_deployment: DevDeploymentMode,
}

async fn choose_project(
    ctx: &Context,
    options: &ConfigureOptions,
    prod: bool,
    backends: &LocalBackends,
) -> Result<Target> {
    ensure_logged_in(ctx, options, None).await?;
    let project = select_project(ctx, options).await?;
    if prod || project.dev_deployment != DevDeploymentMode::Local {
        assert_local_options_are_default(&options.local)?;
    }
    if prod {
        let creds = credentials::provision_deployment(
            ctx,
            &project.team_slug,
            &project.project_slug,
            "prod",
        )
        .await?;
        return Ok(Target::from_credentials(creds));
    }
    if project.dev_deployment == DevDeploymentMode::Local {
        let handle = start_linked_local(
            ctx,
            &project.team_slug,
            &project.project_slug,
            &options.local,
            backends,
        )
        .await?;
        return Ok(Target {
            url: handle.url.clone(),
            admin_key: handle.admin_key.clone(),
            fields: Some(DeploymentFields {
                deployment_name: handle.deployment_name.clone(),
                deployment_type: DeploymentType::Local,
                team_slug: Some(project.team_slug),
                project_slug: Some(project.project_slug),
                reference: None,
                is_default: false,
            }),
            local: Some(handle),
        });
    }
    let creds =
        credentials::provision_deployment(ctx, &project.team_slug, &project.project_slug, "dev")
            .await?;
    Ok(Target::from_credentials(creds))
}

/// Create a new project or pick an existing one (the official
/// `selectProject`).
pub(crate) async fn select_project(
    ctx: &Context,
    options: &ConfigureOptions,
) -> Result<ChosenProject> {
    let new = match options.chosen {
        Some(ChosenConfiguration::New) => true,
        Some(ChosenConfiguration::Existing) => false,
        _ => ask_new_or_existing(ctx).await?,
    };
    if new {
        select_new_project(ctx, options).await
    } else {
        select_existing_project(ctx, options).await
    }
}

async fn ask_new_or_existing(ctx: &Context) -> Result<bool> {
    let has_projects = ctx.management()?.big_brain_get("has_projects").await?;
    if !has_projects.as_ref().is_some_and(is_truthy) {
        return Ok(true);
    }
    let choice = output::prompt_select(
        "What would you like to configure?",
        &[
            "create a new project".to_string(),
            "choose an existing project".to_string(),
        ],
        0,
    )?;
    Ok(choice == 0)
}

/// JavaScript truthiness of a JSON answer.
fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// A team of the account (`GET /api/teams`).
pub(crate) struct Team {
    pub id: Value,
    pub slug: String,
    pub default_region: Option<String>,
}

impl Team {
    /// The id as a path segment.
    pub fn id_segment(&self) -> String {
        match &self.id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// `GET /api/teams`; `--team` must name one; a single team is used without
/// asking; otherwise the user picks (terminal only).
async fn validate_or_select_team(ctx: &Context, team: Option<&str>) -> Result<(Team, bool)> {
    choose_team(ctx, team, "Team:").await
}

/// [`validate_or_select_team`] with the question to ask (the official
/// `validateOrSelectTeam`). Returns the team and whether the user picked it.
pub(crate) async fn choose_team(
    ctx: &Context,
    team: Option<&str>,
    question: &str,
) -> Result<(Team, bool)> {
    let teams = ctx
        .management()?
        .big_brain_get("teams")
        .await?
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    if teams.is_empty() {
        return Err(fail("Error: No teams found"));
    }
    let parse = |t: &Value| Team {
        id: t.get("id").cloned().unwrap_or(Value::Null),
        slug: str_of(t, "slug"),
        default_region: t
            .get("defaultRegion")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    if let Some(wanted) = team {
        return match teams.iter().find(|t| str_of(t, "slug") == wanted) {
            Some(t) => Ok((parse(t), false)),
            None => Err(fail(format!(
                "Error: Team {wanted} not found, fix the --team option or remove it"
            ))),
        };
    }
    if teams.len() == 1 {
        return Ok((parse(&teams[0]), false));
    }
    let choices: Vec<String> = teams
        .iter()
        .map(|t| format!("{} ({})", str_of(t, "name"), str_of(t, "slug")))
        .collect();
    let picked = output::prompt_select(question, &choices, 0)?;
    Ok((parse(&teams[picked]), true))
}

fn str_of(v: &Value, name: &str) -> String {
    v.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn cwd_name(ctx: &Context) -> String {
    ctx.cwd
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Cloud or local dev deployment for the chosen project (the official
/// `selectDevDeploymentType`).
async fn select_dev_deployment_type(
    ctx: &Context,
    options: &ConfigureOptions,
    existing_project: Option<(&str, &str)>,
    chose_interactively: bool,
) -> Result<DevDeploymentMode> {
    if let Some(mode) = options.dev_deployment {
        return Ok(mode);
    }
    if let (Some((team_slug, project_slug)), None) = (existing_project, options.chosen) {
        let answer = ctx
            .management()?
            .big_brain_post(
                "deployment/existing_dev",
                Some(&json!({"projectSlug": project_slug, "teamSlug": team_slug})),
            )
            .await?;
        if answer
            .as_ref()
            .and_then(|a| a.get("kind"))
            .and_then(Value::as_str)
            == Some("Exists")
        {
            return Ok(DevDeploymentMode::Cloud);
        }
    }
    if options.chosen != Some(ChosenConfiguration::Ask) && !chose_interactively {
        return Ok(DevDeploymentMode::Cloud);
    }
    let metadata = ctx
        .management()?
        .big_brain_post("local_deployment/enable_feature_metadata", Some(&json!({})))
        .await?;
    let total = metadata
        .as_ref()
        .and_then(|m| m.get("totalProjects"))
        .and_then(|t| t.get("kind"))
        .and_then(Value::as_str);
    if total != Some("multiple") {
        return Ok(DevDeploymentMode::Cloud);
    }
    let picked = output::prompt_select(
        "Use cloud or local dev deployment? For more see https://docs.convex.dev/cli/local-deployments",
        &[
            "cloud deployment".to_string(),
            "local deployment (BETA)".to_string(),
        ],
        0,
    )?;
    Ok(if picked == 1 {
        DevDeploymentMode::Local
    } else {
        DevDeploymentMode::Cloud
    })
}

/// Where a new cloud dev deployment runs: the team's default region; on a
/// terminal without one, the user picks.
async fn select_region(ctx: &Context, team: &Team) -> Result<Option<String>> {
    let tip = || {
        output::message(&style::gray(&format!(
            "Tip: you can configure a default region for your team at {}",
            style::underline(&format!(
                "{}/t/{}/settings",
                ctx.dashboard_host(),
                team.slug
            ))
        )))
    };
    if !output::stdin_is_terminal() {
        if team.default_region.is_none() {
            tip();
        }
        return Ok(team.default_region.clone());
    }
    if let Some(region) = &team.default_region {
        return Ok(Some(region.clone()));
    }
    let region = prompt_region(ctx, &team.id_segment(), "dev").await?;
    tip();
    Ok(region)
}

/// Ask where a new `deployment_type` deployment should run, among the
/// team's available regions (`GET /v1/teams/<id>/list_deployment_regions`;
/// terminal only). `None` when the team has no region available.
pub(crate) async fn prompt_region(
    ctx: &Context,
    team_id: &str,
    deployment_type: &str,
) -> Result<Option<String>> {
    let regions = ctx
        .management()?
        .platform_get(&format!("/teams/{team_id}/list_deployment_regions"), &[])
        .await?
        .and_then(|v| v.get("items").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    const ORDER: [&str; 4] = [
        "aws-us-east-1",
        "aws-eu-west-1",
        "aws-ca-central-1",
        "aws-ap-southeast-2",
    ];
    let mut available: Vec<(String, String)> = regions
        .iter()
        .filter(|r| r.get("available").and_then(Value::as_bool) == Some(true))
        .map(|r| (str_of(r, "displayName"), str_of(r, "name")))
        .collect();
    available.sort_by_key(|(_, name)| ORDER.iter().position(|o| o == name).unwrap_or(ORDER.len()));
    let choices: Vec<String> = available.iter().map(|(d, _)| d.clone()).collect();
    let picked = output::prompt_select(
        &format!("Where should this {deployment_type} deployment run?"),
        &choices,
        0,
    )?;
    Ok(available.get(picked).map(|(_, name)| name.clone()))
}

async fn select_new_project(ctx: &Context, options: &ConfigureOptions) -> Result<ChosenProject> {
    let (team, chose_team) = validate_or_select_team(ctx, options.team.as_deref()).await?;
    let (project_name, chose_name) = match &options.project {
        Some(p) if !p.is_empty() => (p.clone(), false),
        _ => (
            output::prompt_string(
                "Project name:",
                Some(
                    options
                        .default_project_name
                        .as_deref()
                        .filter(|n| !n.is_empty())
                        .unwrap_or(&cwd_name(ctx)),
                ),
            )?,
            true,
        ),
    };
    let dev_deployment =
        select_dev_deployment_type(ctx, options, None, chose_team || chose_name).await?;
    let region = if dev_deployment == DevDeploymentMode::Cloud {
        select_region(ctx, &team).await?
    } else {
        None
    };
    output::start_spinner("Creating new Convex project...");
    let id = match &team.id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let body = json!({
        "projectName": project_name,
        "deploymentType": if dev_deployment == DevDeploymentMode::Cloud { json!("dev") } else { Value::Null },
        "deploymentRegion": region,
    });
    let created = match ctx
        .management()?
        .platform_post(&format!("/teams/{id}/create_project"), &body)
        .await
    {
        Ok(answer) => answer,
        Err(e) => {
            output::failure("Unable to create project.");
            return Err(e.into());
        }
    };
    let Some(project_slug) = created
        .as_ref()
        .and_then(|c| c.get("slug"))
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Err(fail(format!(
            "Unexpected response during provisioning: {}",
            created.map(|c| c.to_string()).unwrap_or_default()
        )));
    };
    let team_message = if chose_team {
        format!(" in team {}", style::bold(&team.slug))
    } else {
        String::new()
    };
    output::success(&format!(
        "Created project {}{team_message}, manage it at {}",
        style::bold(&project_slug),
        style::bold(&format!(
            "{}/t/{}/{project_slug}",
            ctx.dashboard_host(),
            team.slug
        ))
    ));
    init_convex_folder(ctx)?;
    crate::ai_files::attempt_setup(ctx).await;
    Ok(ChosenProject {
        team_slug: team.slug,
        project_slug,
        dev_deployment,
    })
}

async fn select_existing_project(
    ctx: &Context,
    options: &ConfigureOptions,
) -> Result<ChosenProject> {
    let (team, chose_team) = validate_or_select_team(ctx, options.team.as_deref()).await?;
    let id = match &team.id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut projects: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query: Vec<(&str, &str)> = match &cursor {
            Some(c) => vec![("cursor", c.as_str())],
            None => Vec::new(),
        };
        let page = ctx
            .management()?
            .platform_get(&format!("/teams/{id}/projects"), &query)
            .await?
            .unwrap_or(Value::Null);
        if let Some(items) = page.get("items").and_then(Value::as_array) {
            projects.extend(items.iter().cloned());
        }
        let pagination = page.get("pagination");
        let has_more = pagination
            .and_then(|p| p.get("hasMore"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        cursor = pagination
            .and_then(|p| p.get("nextCursor"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if !has_more || cursor.is_none() {
            break;
        }
    }
    if projects.is_empty() {
        return Err(fail(
            "No existing projects! Run this command again and choose \"create a new project.\"",
        ));
    }
    let project_slug = match &options.project {
        Some(wanted) if !wanted.is_empty() => {
            if !projects.iter().any(|p| str_of(p, "slug") == *wanted) {
                return Err(fail(format!(
                    "Error: Project {wanted} not found, fix the --project option or remove it"
                )));
            }
            wanted.clone()
        }
        _ if projects.len() == 1 => {
            let p = &projects[0];
            let confirmed = output::prompt_yes_no(
                &format!(
                    "Configure project {} ({})?",
                    str_of(p, "name"),
                    str_of(p, "slug")
                ),
                None,
            )?;
            if !confirmed {
                return Err(fail(
                    "Run the command again to create a new project instead.",
                ));
            }
            str_of(p, "slug")
        }
        _ => {
            let choices: Vec<String> = projects
                .iter()
                .map(|p| format!("{} ({})", str_of(p, "name"), str_of(p, "slug")))
                .collect();
            let picked = output::prompt_select("Project:", &choices, 0)?;
            str_of(&projects[picked], "slug")
        }
    };
    let chose = chose_team || options.project.as_deref().is_none_or(str::is_empty);
    let dev_deployment =
        select_dev_deployment_type(ctx, options, Some((&team.slug, &project_slug)), chose).await?;
    output::success(&format!(
        "Reinitialized project {}",
        style::bold(&project_slug)
    ));
    Ok(ChosenProject {
        team_slug: team.slug,
        project_slug,
        dev_deployment,
    })
}
