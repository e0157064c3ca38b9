//! Turning a [`DeploymentSelection`] into [`DeploymentCredentials`] through
//! the management API (access check, then the `authorize_*` /
//! `provision_and_authorize` call that returns URL and admin key), or from
//! local state for local and anonymous deployments.

use anyhow::Result;
use serde_json::{Value, json};

use super::local_state::{self, LocalDeploymentKind};
use super::selector::{InProjectSelector, ParsedSelector, parse_selector};
use super::{
    DeploymentSelection, DeploymentType, ManagementAuth, ProjectSelection, SelectionWithinProject,
    deploy_key,
};
use crate::context::Context;
use crate::error::fail;
use crate::http::FetchError;

const NO_ACCESS: &str = "You don't have access to the selected project. Run `npx convex dev` to select a different project.";
const NOTHING_CONFIGURED: &str =
    "No CONVEX_DEPLOYMENT set, run `npx convex dev` to configure a Convex project";

/// What is known about a cloud, local or anonymous deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentFields {
    pub deployment_name: String,
    pub deployment_type: DeploymentType,
    pub team_slug: Option<String>,
    pub project_slug: Option<String>,
    /// Deployment reference (`dev/alice`, `production`, ...); `None` for local.
    pub reference: Option<String>,
    pub is_default: bool,
}

/// Where to send deployment-API requests and with which admin key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentCredentials {
    pub url: String,
    pub admin_key: String,
    /// `None` for self-hosted deployments and `--url`/`--admin-key`.
    pub fields: Option<DeploymentFields>,
}

/// Options of [`load_selected_deployment_credentials`].
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// Probe a local backend (`GET /instance_name`) before returning it.
    /// The token commands turn this off.
    pub ensure_local_running: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            ensure_local_running: true,
        }
    }
}

/// Team and project of a deploy key (`team_and_project_for_key`).
pub(crate) struct KeySlugs {
    pub team: String,
    pub project: String,
    pub project_id: Option<i64>,
    pub reference: Option<String>,
    pub is_default: bool,
}

/// A project record from the platform API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectDetails {
    pub id: Option<i64>,
    pub slug: String,
    pub team_slug: String,
    pub team_id: Option<i64>,
}

impl ProjectDetails {
    /// The id as a path segment (`undefined` when the record had none, as
    /// the official CLI's template strings write it).
    pub fn id_segment(&self) -> String {
        self.id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "undefined".into())
    }

    /// The team id as a path segment.
    pub fn team_id_segment(&self) -> String {
        self.team_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "undefined".into())
    }
}

fn str_field(v: &Value, name: &str) -> Option<String> {
    v.get(name).and_then(|x| x.as_str()).map(str::to_string)
}

pub(crate) async fn fetch_team_and_project_for_key(ctx: &Context, key: &str) -> Result<KeySlugs> {
    let data = ctx
        .management()?
        .big_brain_post(
            "deployment/team_and_project_for_key",
            Some(&json!({"deployKey": key})),
        )
        .await?
        .unwrap_or(Value::Null);
    match (str_field(&data, "team"), str_field(&data, "project")) {
        (Some(team), Some(project)) => Ok(KeySlugs {
            team,
            project,
            project_id: data.get("projectId").and_then(|v| v.as_i64()),
            reference: str_field(&data, "reference"),
            is_default: data
                .get("isDefault")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        }),
        _ => Err(fail(format!(
            "Unknown error when fetching team and project: {data}"
        ))),
    }
}

/// `GET /api/deployment/{name}/team_and_project`; `None` = no access.
async fn team_and_project_for_deployment(
    ctx: &Context,
    name: &str,
) -> Result<Option<(String, String)>> {
    match ctx
        .management()?
        .big_brain_get(&format!("deployment/{name}/team_and_project"))
        .await
    {
        Ok(data) => {
            let data = data.unwrap_or(Value::Null);
            match (str_field(&data, "team"), str_field(&data, "project")) {
                (Some(t), Some(p)) => Ok(Some((t, p))),
                _ => Err(fail(format!(
                    "Unknown error when fetching team and project: {data}"
                ))),
            }
        }
        Err(e)
            if matches!(
                e.server_code(),
                Some("DeploymentNotFound" | "ProjectNotFound")
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Result of an access check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Has {
        team_slug: String,
        project_slug: String,
    },
    No,
    Unknown,
}

/// Whether the current credential can see the selected project.
pub async fn check_access_to_project(ctx: &Context, target: &ProjectSelection) -> Result<Access> {
    match target {
        ProjectSelection::DeploymentName {
            deployment_name, ..
        } => Ok(
            match team_and_project_for_deployment(ctx, deployment_name).await? {
                Some((team_slug, project_slug)) => Access::Has {
                    team_slug,
                    project_slug,
                },
                None => Access::No,
            },
        ),
        ProjectSelection::TeamAndProjectSlugs {
            team_slug,
            project_slug,
        } => {
            let path = format!("/teams/{team_slug}/projects/{project_slug}");
            match ctx.management()?.platform_get(&path, &[]).await {
                Ok(_) => Ok(Access::Has {
                    team_slug: team_slug.clone(),
                    project_slug: project_slug.clone(),
                }),
                Err(e) if matches!(e.server_code(), Some("TeamNotFound" | "ProjectNotFound")) => {
                    Ok(Access::No)
                }
                Err(e) => Err(e.into()),
            }
        }
        ProjectSelection::ProjectDeployKey(_) => Ok(Access::Unknown),
    }
}

async fn require_access(ctx: &Context, target: &ProjectSelection) -> Result<(String, String)> {
    match check_access_to_project(ctx, target).await? {
        Access::Has {
            team_slug,
            project_slug,
        } => Ok((team_slug, project_slug)),
        _ => Err(fail(NO_ACCESS)),
    }
}

/// The project record behind a project selection (platform API; the
/// official `getProjectDetails`).
pub async fn project_details(ctx: &Context, target: &ProjectSelection) -> Result<ProjectDetails> {
    let management = ctx.management()?;
    let parse = |v: Option<Value>| -> Result<ProjectDetails> {
        let v = v.unwrap_or(Value::Null);
        Ok(ProjectDetails {
            id: v.get("id").and_then(|x| x.as_i64()),
            team_id: v.get("teamId").and_then(|x| x.as_i64()),
            slug: str_field(&v, "slug").unwrap_or_default(),
            team_slug: str_field(&v, "teamSlug").unwrap_or_default(),
        })
    };
    match target {
        ProjectSelection::DeploymentName {
            deployment_name,
            deployment_type,
        } => {
            if *deployment_type == Some(DeploymentType::Local) {
                let Some((team_slug, project_slug)) =
                    team_and_project_for_deployment(ctx, deployment_name).await?
                else {
                    return Err(fail(NO_ACCESS));
                };
                let v = management
                    .platform_get(&format!("/teams/{team_slug}/projects/{project_slug}"), &[])
                    .await?;
                return parse(v);
            }
            let deployment = management
                .platform_get(&format!("/deployments/{deployment_name}"), &[])
                .await?
                .unwrap_or(Value::Null);
            let project_id = deployment.get("projectId").cloned().unwrap_or(Value::Null);
            parse(
                management
                    .platform_get(&format!("/projects/{project_id}"), &[])
                    .await?,
            )
        }
        ProjectSelection::TeamAndProjectSlugs {
            team_slug,
            project_slug,
        } => parse(
            management
                .platform_get(&format!("/teams/{team_slug}/projects/{project_slug}"), &[])
                .await?,
        ),
        ProjectSelection::ProjectDeployKey(key) => {
            let slugs = fetch_team_and_project_for_key(ctx, key).await?;
            let id = slugs
                .project_id
                .map(|i| i.to_string())
                .unwrap_or_else(|| "undefined".into());
            parse(
                management
                    .platform_get(&format!("/projects/{id}"), &[])
                    .await?,
            )
        }
    }
}

/// URL, admin key, name and type returned by an authorize call.
struct Authorized {
    deployment_name: String,
    admin_key: String,
    url: String,
    deployment_type: DeploymentType,
    reference: Option<String>,
    is_default: bool,
}

fn authorized_from(
    data: Option<Value>,
    default_type: Option<DeploymentType>,
) -> Result<Authorized> {
    let data = data.unwrap_or(Value::Null);
    let (Some(admin_key), Some(url)) = (str_field(&data, "adminKey"), str_field(&data, "url"))
    else {
        return Err(fail(format!(
            "Unexpected answer while authorizing access to the deployment: {}",
            redact(&data)
        )));
    };
    let deployment_type = str_field(&data, "deploymentType")
        .map(|t| DeploymentType::parse(&t))
        .or(default_type)
        .unwrap_or(DeploymentType::Dev);
    Ok(Authorized {
        deployment_name: str_field(&data, "deploymentName").unwrap_or_default(),
        admin_key,
        url,
        deployment_type,
        reference: str_field(&data, "reference"),
        is_default: data
            .get("isDefault")
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
    })
}

/// A JSON answer with any `adminKey` hidden, for error messages.
fn redact(data: &Value) -> String {
    let mut copy = data.clone();
    if let Some(obj) = copy.as_object_mut()
        && obj.contains_key("adminKey")
    {
        obj.insert("adminKey".into(), Value::String("<redacted>".into()));
    }
    copy.to_string()
}

async fn provision_and_authorize(
    ctx: &Context,
    target: &ProjectSelection,
    deployment_type: &str,
) -> Result<Authorized> {
    if let ProjectSelection::ProjectDeployKey(key) = target {
        let matches = matches!(ctx.auth(), Some(ManagementAuth::ProjectKey(k)) if &k == key);
        if !matches {
            return Err(fail(
                "Unexpected error when loading the Convex deployment: the project key is not the credential in use.",
            ));
        }
    }
    let (team, project) = match target {
        ProjectSelection::TeamAndProjectSlugs {
            team_slug,
            project_slug,
        } => (json!(team_slug), json!(project_slug)),
        _ => (Value::Null, Value::Null),
    };
    let body = json!({"teamSlug": team, "projectSlug": project, "deploymentType": deployment_type});
    let data = ctx
        .management()?
        .big_brain_post("deployment/provision_and_authorize", Some(&body))
        .await
        .map_err(|e| fail(format!("Unknown error during authorization: {e}")))?;
    let data = data.unwrap_or(Value::Null);
    if str_field(&data, "adminKey").is_none() || str_field(&data, "url").is_none() {
        return Err(fail(format!(
            "Unknown error during authorization: {}",
            redact(&data)
        )));
    }
    authorized_from(Some(data), Some(DeploymentType::parse(deployment_type))).map(|mut a| {
        a.deployment_type = DeploymentType::parse(deployment_type);
        a
    })
}

/// The member's dev deployment (created when missing) or the project's prod
/// deployment of a team's project: `POST
/// /api/deployment/provision_and_authorize` (`dev` after choosing a project).
pub async fn provision_deployment(
    ctx: &Context,
    team_slug: &str,
    project_slug: &str,
    deployment_type: &str,
) -> Result<DeploymentCredentials> {
    let target = ProjectSelection::TeamAndProjectSlugs {
        team_slug: team_slug.to_string(),
        project_slug: project_slug.to_string(),
    };
    let result = provision_and_authorize(ctx, &target, deployment_type).await?;
    Ok(DeploymentCredentials {
        url: result.url,
        admin_key: result.admin_key,
        fields: Some(DeploymentFields {
            deployment_name: result.deployment_name,
            deployment_type: result.deployment_type,
            team_slug: Some(team_slug.to_string()),
            project_slug: Some(project_slug.to_string()),
            reference: result.reference,
            is_default: result.is_default,
        }),
    })
}

async fn authorize_post(ctx: &Context, path: &str, body: Value) -> Result<Authorized> {
    let data = ctx.management()?.big_brain_post(path, Some(&body)).await?;
    authorized_from(data, None)
}

async fn own_dev(ctx: &Context, target: &ProjectSelection) -> Result<Authorized> {
    match target {
        ProjectSelection::DeploymentName {
            deployment_name,
            deployment_type: Some(DeploymentType::Local),
        } => load_local(ctx, deployment_name),
        ProjectSelection::DeploymentName {
            deployment_name, ..
        } => {
            let (team_slug, project_slug) =
                match team_and_project_for_deployment(ctx, deployment_name).await {
                    Ok(Some(slugs)) => slugs,
                    Ok(None) => return Err(fail(NO_ACCESS)),
                    Err(e) => return Err(e),
                };
            provision_and_authorize(
                ctx,
                &ProjectSelection::TeamAndProjectSlugs {
                    team_slug,
                    project_slug,
                },
                "dev",
            )
            .await
        }
        _ => provision_and_authorize(ctx, target, "dev").await,
    }
}

fn load_local(ctx: &Context, deployment_name: &str) -> Result<Authorized> {
    let Some(config) = local_state::load_deployment_config(
        &ctx.dirs,
        LocalDeploymentKind::Local,
        deployment_name,
        &ctx.cwd,
    ) else {
        return Err(fail(
            "Failed to load the local deployment's config - try running `npx convex dev --configure`",
        ));
    };
    Ok(Authorized {
        deployment_name: deployment_name.to_string(),
        admin_key: config.admin_key,
        url: local_state::local_deployment_url(config.ports.cloud),
        deployment_type: DeploymentType::Local,
        reference: None,
        is_default: false,
    })
}

async fn prod(ctx: &Context, target: &ProjectSelection) -> Result<Authorized> {
    match target {
        ProjectSelection::DeploymentName {
            deployment_name, ..
        } => {
            authorize_post(
                ctx,
                "deployment/authorize_prod",
                json!({"deploymentName": deployment_name}),
            )
            .await
        }
        _ => provision_and_authorize(ctx, target, "prod").await,
    }
}

async fn preview(
    ctx: &Context,
    preview_name: &str,
    target: &ProjectSelection,
) -> Result<Authorized> {
    match target {
        ProjectSelection::ProjectDeployKey(_) => Err(fail(
            "Project deploy keys are not supported for preview deployments",
        )),
        _ => {
            authorize_post(
                ctx,
                "deployment/authorize_preview",
                json!({"previewName": preview_name, "projectSelection": target.to_json()}),
            )
            .await
        }
    }
}

async fn by_name(
    ctx: &Context,
    deployment_name: &str,
    target: &ProjectSelection,
) -> Result<Authorized> {
    match target {
        ProjectSelection::ProjectDeployKey(_) => Err(fail(
            "Project deploy keys are not supported with the --deployment-name flag",
        )),
        _ => {
            authorize_post(
                ctx,
                "deployment/authorize_within_current_project",
                json!({"selectedDeploymentName": deployment_name, "projectSelection": target.to_json()}),
            )
            .await
        }
    }
}

async fn deployment_name_by_query(
    ctx: &Context,
    team_slug: &str,
    project_slug: &str,
    query: (&str, &str),
) -> Result<std::result::Result<String, FetchError>> {
    let path = format!("/teams/{team_slug}/projects/{project_slug}/deployment");
    match ctx.management()?.platform_get(&path, &[query]).await {
        Ok(v) => Ok(Ok(v
            .as_ref()
            .and_then(|v| str_field(v, "name"))
            .unwrap_or_default())),
        Err(e) => Ok(Err(e)),
    }
}

async fn in_project(
    ctx: &Context,
    selector: &InProjectSelector,
    target: &ProjectSelection,
) -> Result<Authorized> {
    match selector {
        InProjectSelector::Local => {
            let Some((name, _)) = local_state::load_project_local_config(&ctx.cwd) else {
                return Err(fail(
                    "No local deployment found in this directory. Run `npx convex deployment create local` to create one.",
                ));
            };
            load_local(ctx, &name)
        }
        InProjectSelector::Dev => {
            let (team_slug, project_slug) = require_access(ctx, target).await?;
            let name = match deployment_name_by_query(
                ctx,
                &team_slug,
                &project_slug,
                ("defaultDev", "true"),
            )
            .await?
            {
                Ok(name) => name,
                Err(e) if e.server_code() == Some("DeploymentNotFound") => {
                    return Err(fail(
                        "You don't have a personal cloud dev deployment in this project. Run `npx convex deployment create --type dev --default` to create one.",
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            by_name(
                ctx,
                &name,
                &ProjectSelection::TeamAndProjectSlugs {
                    team_slug,
                    project_slug,
                },
            )
            .await
        }
        InProjectSelector::Prod => prod(ctx, target).await,
        InProjectSelector::Reference(reference) => {
            let (team_slug, project_slug) = require_access(ctx, target).await?;
            let name = match deployment_name_by_query(
                ctx,
                &team_slug,
                &project_slug,
                ("reference", reference),
            )
            .await?
            {
                Ok(name) => name,
                Err(e) if e.server_code() == Some("DeploymentNotFound") => {
                    return Err(fail(format!(
                        "Deployment “{reference}” not found. To create a new deployment, use `npx convex deployment create {team_slug}:{project_slug}:{reference} --select`"
                    )));
                }
                Err(e) => return Err(e.into()),
            };
            by_name(ctx, &name, target).await
        }
    }
}

async fn by_selector(
    ctx: &Context,
    selector: &str,
    target: &ProjectSelection,
) -> Result<Authorized> {
    match parse_selector(selector) {
        ParsedSelector::DeploymentName(name) => by_name(ctx, &name, target).await,
        ParsedSelector::InCurrentProject(s) => in_project(ctx, &s, target).await,
        ParsedSelector::InProject {
            project_slug,
            selector,
        } => {
            let (team_slug, _) = require_access(ctx, target).await?;
            in_project(
                ctx,
                &selector,
                &ProjectSelection::TeamAndProjectSlugs {
                    team_slug,
                    project_slug,
                },
            )
            .await
        }
        ParsedSelector::InTeamProject {
            team_slug,
            project_slug,
            selector,
        } => {
            in_project(
                ctx,
                &selector,
                &ProjectSelection::TeamAndProjectSlugs {
                    team_slug,
                    project_slug,
                },
            )
            .await
        }
    }
}

async fn within_project(
    ctx: &Context,
    target: &ProjectSelection,
    within: &SelectionWithinProject,
) -> Result<Authorized> {
    match within {
        SelectionWithinProject::Unspecified => own_dev(ctx, target).await,
        SelectionWithinProject::Prod | SelectionWithinProject::ImplicitProd => {
            prod(ctx, target).await
        }
        SelectionWithinProject::PreviewName(p) => preview(ctx, p, target).await,
        SelectionWithinProject::DeploymentName(n) => by_name(ctx, n, target).await,
        SelectionWithinProject::Selector(s) => by_selector(ctx, s, target).await,
    }
}

async fn load_for_project(
    ctx: &Context,
    target: &ProjectSelection,
    within: &SelectionWithinProject,
    options: LoadOptions,
) -> Result<DeploymentCredentials> {
    let access = check_access_to_project(ctx, target).await?;
    if access == Access::No {
        return Err(fail(NO_ACCESS));
    }
    let result = within_project(ctx, target, within).await?;
    crate::output::verbose(&format!(
        "Deployment URL: {}, Deployment Name: {}, Deployment Type: {}",
        result.url, result.deployment_name, result.deployment_type
    ));
    if options.ensure_local_running && result.deployment_type == DeploymentType::Local {
        local_state::assert_local_backend_running(
            &ctx.http()?,
            &result.url,
            &result.deployment_name,
        )
        .await?;
    }
    let (team_slug, project_slug) = match access {
        Access::Has {
            team_slug,
            project_slug,
        } => (Some(team_slug), Some(project_slug)),
        _ => (None, None),
    };
    Ok(DeploymentCredentials {
        url: result.url,
        admin_key: result.admin_key,
        fields: Some(DeploymentFields {
            deployment_name: result.deployment_name,
            deployment_type: result.deployment_type,
            team_slug,
            project_slug,
            reference: result.reference,
            is_default: result.is_default,
        }),
    })
}

/// The whole resolution most commands need: select the deployment from the
/// flags and environment, then load its credentials.
pub async fn select_deployment_credentials(
    ctx: &Context,
    flags: &super::SelectionFlags,
    options: LoadOptions,
) -> Result<DeploymentCredentials> {
    let selection = super::get_deployment_selection(ctx, flags).await?;
    load_selected_deployment_credentials(ctx, &selection, options).await
}

/// Resolve a selection into URL, admin key and deployment fields.
///
/// - existing deployment: as is;
/// - choose project / anonymous without a name: fails ("No CONVEX_DEPLOYMENT
///   set, run `npx convex dev`"); `dev` handles those itself before calling;
/// - preview key: within the key's project;
/// - within project: access check, then the authorize call;
/// - anonymous with a name: its local config.
pub async fn load_selected_deployment_credentials(
    ctx: &Context,
    selection: &DeploymentSelection,
    options: LoadOptions,
) -> Result<DeploymentCredentials> {
    match selection {
        DeploymentSelection::Existing {
            url,
            admin_key,
            fields,
            ..
        } => Ok(DeploymentCredentials {
            url: url.clone(),
            admin_key: admin_key.clone(),
            fields: fields.clone(),
        }),
        DeploymentSelection::ChooseProject { .. }
        | DeploymentSelection::Anonymous {
            deployment_name: None,
            ..
        } => Err(fail(NOTHING_CONFIGURED)),
        DeploymentSelection::Preview {
            preview_deploy_key,
            within,
        } => {
            let (team_slug, project_slug) = deploy_key::preview_key_slugs(preview_deploy_key)?;
            load_for_project(
                ctx,
                &ProjectSelection::TeamAndProjectSlugs {
                    team_slug,
                    project_slug,
                },
                within,
                options,
            )
            .await
        }
        DeploymentSelection::WithinProject { target, within } => {
            load_for_project(ctx, target, within, options).await
        }
        DeploymentSelection::Anonymous {
            deployment_name: Some(name),
            ..
        } => {
            let Some(config) = local_state::load_deployment_config(
                &ctx.dirs,
                LocalDeploymentKind::Anonymous,
                name,
                &ctx.cwd,
            ) else {
                return Err(fail(format!("Could not find deployment with name {name}!")));
            };
            let url = local_state::local_deployment_url(config.ports.cloud);
            if options.ensure_local_running {
                local_state::assert_local_backend_running(&ctx.http()?, &url, name).await?;
            }
            Ok(DeploymentCredentials {
                url,
                admin_key: config.admin_key,
                fields: Some(DeploymentFields {
                    deployment_name: name.clone(),
                    deployment_type: DeploymentType::Anonymous,
                    team_slug: None,
                    project_slug: None,
                    reference: None,
                    is_default: false,
                }),
            })
        }
    }
}
