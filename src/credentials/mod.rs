//! The one place that decides which deployment a command acts on and with
//! what credential.
//!
//! Two questions, answered as the official CLI does:
//!
//! 1. **Who are we to the management API?** [`ManagementAuth`], decided once
//!    when the [`crate::context::Context`] is built ([`initial_auth`]):
//!    `CONVEX_OVERRIDE_ACCESS_TOKEN`, then a project key, then a
//!    `dev:`/`prod:` deploy key, then the account token in `config.json`, then
//!    a preview deploy key. With both `--url` and `--admin-key` the deploy key
//!    is not consulted.
//! 2. **Which deployment?** [`get_deployment_selection`] turns the flags and
//!    the environment into a [`DeploymentSelection`] (data, no secrets
//!    fetched yet), then [`load_selected_deployment_credentials`] resolves it
//!    into [`DeploymentCredentials`]: URL, admin key, name, type, team and
//!    project.
//!
//! ```ignore
//! let ctx = Context::new(ContextOptions::from(&flags))?;
//! let selection = credentials::get_deployment_selection(&ctx, &flags).await?;
//! let creds = credentials::load_selected_deployment_credentials(
//!     &ctx, &selection, LoadOptions::default()).await?;
//! ```

pub mod deploy_key;
pub mod local_state;
mod resolve;
mod selection;
pub mod selector;

pub use resolve::{
    Access, DeploymentCredentials, DeploymentFields, LoadOptions, ProjectDetails,
    check_access_to_project, load_selected_deployment_credentials, project_details,
    provision_deployment, select_deployment_credentials,
};
pub use selection::{
    build_environment, configured_deployment_type, get_deployment_selection,
    read_env_file as read_env_file_for_context,
};

use crate::env::Env;
use crate::env_vars;
use crate::global_config::{self, ConvexDirs};

/// The deployment-selection flags a command passes to the resolver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectionFlags {
    /// `--url` (effective only with `--admin-key`).
    pub url: Option<String>,
    /// `--admin-key` (effective only with `--url`).
    pub admin_key: Option<String>,
    /// `--env-file`: read deployment variables from this file only.
    pub env_file: Option<String>,
    /// `--prod`.
    pub prod: bool,
    /// `--preview-name`.
    pub preview_name: Option<String>,
    /// `--deployment-name` (hidden).
    pub deployment_name: Option<String>,
    /// `--deployment` (selector, see [`selector`]).
    pub deployment: Option<String>,
    /// The command defaults to prod (`deploy`).
    pub implicit_prod: bool,
}

/// A credential for the management API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagementAuth {
    /// A personal access token (from `config.json`, `login`, or
    /// `CONVEX_OVERRIDE_ACCESS_TOKEN`).
    AccessToken(String),
    /// A project key (`project:…|…`).
    ProjectKey(String),
    /// A `dev:`/`prod:` deploy key.
    DeploymentKey(String),
    /// A preview deploy key (`preview:team:project|…`).
    PreviewDeployKey(String),
}

impl ManagementAuth {
    /// The `Authorization` header value.
    pub fn header(&self) -> String {
        format!("Bearer {}", self.secret())
    }

    /// The credential itself.
    pub fn secret(&self) -> &str {
        match self {
            ManagementAuth::AccessToken(s)
            | ManagementAuth::ProjectKey(s)
            | ManagementAuth::DeploymentKey(s)
            | ManagementAuth::PreviewDeployKey(s) => s,
        }
    }

    /// Whether this is an account access token.
    pub fn is_access_token(&self) -> bool {
        matches!(self, ManagementAuth::AccessToken(_))
    }
}

/// Deployment type as the CLI knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentType {
    Dev,
    Prod,
    Preview,
    Custom,
    Local,
    Anonymous,
    /// Any other prefix of a deploy key (kept verbatim).
    Other(String),
}

impl DeploymentType {
    pub fn parse(s: &str) -> DeploymentType {
        match s {
            "dev" => DeploymentType::Dev,
            "prod" => DeploymentType::Prod,
            "preview" => DeploymentType::Preview,
            "custom" => DeploymentType::Custom,
            "local" => DeploymentType::Local,
            "anonymous" => DeploymentType::Anonymous,
            other => DeploymentType::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            DeploymentType::Dev => "dev",
            DeploymentType::Prod => "prod",
            DeploymentType::Preview => "preview",
            DeploymentType::Custom => "custom",
            DeploymentType::Local => "local",
            DeploymentType::Anonymous => "anonymous",
            DeploymentType::Other(s) => s,
        }
    }

    /// Local or anonymous: runs on this machine.
    pub fn is_local(&self) -> bool {
        matches!(self, DeploymentType::Local | DeploymentType::Anonymous)
    }
}

impl std::fmt::Display for DeploymentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which deployment within a project the flags ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionWithinProject {
    /// `--preview-name`.
    PreviewName(String),
    /// `--deployment-name`, or the deployment in `CONVEX_DEPLOYMENT`.
    DeploymentName(String),
    /// `--prod`.
    Prod,
    /// The command defaults to prod and nothing else was asked.
    ImplicitProd,
    /// Nothing asked: the user's own dev deployment.
    Unspecified,
    /// `--deployment <selector>`.
    Selector(String),
}

impl SelectionWithinProject {
    /// From the flags, first match wins: `--deployment`, `--preview-name`,
    /// `--deployment-name`, `--prod`, implicit prod, unspecified.
    pub fn from_flags(flags: &SelectionFlags) -> SelectionWithinProject {
        if let Some(s) = &flags.deployment {
            SelectionWithinProject::Selector(s.clone())
        } else if let Some(p) = &flags.preview_name {
            SelectionWithinProject::PreviewName(p.clone())
        } else if let Some(n) = &flags.deployment_name {
            SelectionWithinProject::DeploymentName(n.clone())
        } else if flags.prod {
            SelectionWithinProject::Prod
        } else if flags.implicit_prod {
            SelectionWithinProject::ImplicitProd
        } else {
            SelectionWithinProject::Unspecified
        }
    }
}

/// The project a selection is relative to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectSelection {
    TeamAndProjectSlugs {
        team_slug: String,
        project_slug: String,
    },
    /// The project of this deployment (`deployment_type` as configured, if known).
    DeploymentName {
        deployment_name: String,
        deployment_type: Option<DeploymentType>,
    },
    /// The project of a project key.
    ProjectDeployKey(String),
}

impl ProjectSelection {
    /// The `projectSelection` JSON the management API takes.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            ProjectSelection::TeamAndProjectSlugs {
                team_slug,
                project_slug,
            } => {
                json!({"kind": "teamAndProjectSlugs", "teamSlug": team_slug, "projectSlug": project_slug})
            }
            ProjectSelection::DeploymentName {
                deployment_name,
                deployment_type,
            } => json!({
                "kind": "deploymentName",
                "deploymentName": deployment_name,
                "deploymentType": deployment_type.as_ref().map(|t| t.as_str().to_string()),
            }),
            ProjectSelection::ProjectDeployKey(key) => {
                json!({"kind": "projectDeployKey", "projectDeployKey": key})
            }
        }
    }
}

/// Where an already-known deployment came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistingSource {
    /// `CONVEX_DEPLOY_KEY` / `CONVEX_DEPLOYMENT_TOKEN`.
    DeployKey,
    /// `CONVEX_SELF_HOSTED_URL` + `CONVEX_SELF_HOSTED_ADMIN_KEY`.
    SelfHosted,
    /// `--url` + `--admin-key`.
    CliArgs,
}

/// The result of deployment selection: what the flags and environment point
/// at, before credentials are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentSelection {
    /// URL and admin key are known; `fields` only for deploy keys.
    Existing {
        url: String,
        admin_key: String,
        fields: Option<DeploymentFields>,
        source: ExistingSource,
    },
    /// A deployment inside a project, to be resolved through the management API.
    WithinProject {
        target: ProjectSelection,
        within: SelectionWithinProject,
    },
    /// A preview deploy key is in scope.
    Preview {
        preview_deploy_key: String,
        within: SelectionWithinProject,
    },
    /// Nothing configured and the user could pick a project (`dev` prompts).
    ChooseProject { within: SelectionWithinProject },
    /// The anonymous local backend (`name` if one is configured).
    Anonymous {
        deployment_name: Option<String>,
        within: SelectionWithinProject,
    },
}

impl DeploymentSelection {
    /// Best-effort deployment name and type without any network call.
    pub fn name_and_type(&self) -> Option<(Option<String>, Option<DeploymentType>)> {
        match self {
            DeploymentSelection::Existing { fields, .. } => Some((
                fields.as_ref().map(|f| f.deployment_name.clone()),
                fields.as_ref().map(|f| f.deployment_type.clone()),
            )),
            DeploymentSelection::WithinProject {
                target:
                    ProjectSelection::DeploymentName {
                        deployment_name,
                        deployment_type,
                    },
                ..
            } => Some((Some(deployment_name.clone()), deployment_type.clone())),
            _ => None,
        }
    }
}

impl DeploymentSelection {
    /// The same selection with another choice of deployment within its
    /// project (the MCP tools act on the deployment a selector names). A
    /// deployment that is already known (deploy key, self-hosted, `--url`)
    /// has no such choice and stays as it is.
    pub fn with_selection_within_project(
        self,
        new_within: SelectionWithinProject,
    ) -> DeploymentSelection {
        use DeploymentSelection as S;
        match self {
            S::Existing { .. } => self,
            S::WithinProject { target, .. } => S::WithinProject {
                target,
                within: new_within,
            },
            S::Preview {
                preview_deploy_key, ..
            } => S::Preview {
                preview_deploy_key,
                within: new_within,
            },
            S::ChooseProject { .. } => S::ChooseProject { within: new_within },
            S::Anonymous {
                deployment_name, ..
            } => S::Anonymous {
                deployment_name,
                within: new_within,
            },
        }
    }
}

/// `CONVEX_ALLOW_ANONYMOUS` is not exactly `false`.
pub fn anonymous_allowed(env: &Env) -> bool {
    env.get(env_vars::CONVEX_ALLOW_ANONYMOUS) != Some("false")
}

/// The management credential in force when a command starts (see the
/// module docs for the precedence). `deploy_key_env`: where deploy keys are
/// read from (the merged environment, or only the `--env-file` file), `None`
/// when `--url` and `--admin-key` are both given. `env`: the environment
/// `CONVEX_OVERRIDE_ACCESS_TOKEN` is read from.
pub fn initial_auth(
    env: &Env,
    deploy_key_env: Option<&Env>,
    dirs: &ConvexDirs,
) -> anyhow::Result<Option<ManagementAuth>> {
    let deploy_key = match deploy_key_env {
        Some(e) => deploy_key::deploy_key_from_env(e)?,
        None => None,
    };
    if let Some(token) = env.non_empty(env_vars::CONVEX_OVERRIDE_ACCESS_TOKEN) {
        return Ok(Some(ManagementAuth::AccessToken(token.to_string())));
    }
    if let Some(key) = &deploy_key {
        if deploy_key::is_project_key(key) {
            return Ok(Some(ManagementAuth::ProjectKey(key.clone())));
        }
        if deploy_key::is_deployment_key(key) {
            return Ok(Some(ManagementAuth::DeploymentKey(key.clone())));
        }
    }
    if let Some(token) = global_config::read_access_token(dirs) {
        return Ok(Some(ManagementAuth::AccessToken(token)));
    }
    if let Some(key) = deploy_key.filter(|k| deploy_key::is_preview_deploy_key(k)) {
        return Ok(Some(ManagementAuth::PreviewDeployKey(key)));
    }
    Ok(None)
}

/// Fail unless the management credential is an account access token (the
/// deploy-key commands need one; deploy keys cannot manage deploy keys).
/// `action` starts the message, e.g. "Creating a deploy key". No request is
/// sent.
pub fn ensure_logged_in_with_access_token(
    ctx: &crate::context::Context,
    action: &str,
) -> anyhow::Result<()> {
    let auth = ctx.auth();
    if auth.as_ref().is_some_and(ManagementAuth::is_access_token) {
        return Ok(());
    }
    let next_step = match auth {
        None => "Run `npx convex login` and try again.".to_string(),
        Some(_) => {
            let var = deploy_key::deploy_key_var_name(&ctx.env);
            let place = match ctx.env.source(var) {
                Some(crate::env::EnvSource::File(file)) => {
                    format!(" (it is set in {})", file.display())
                }
                _ if ctx.options.env_file.is_some() => {
                    " (it is set in the --env-file file)".to_string()
                }
                _ => String::new(),
            };
            format!("Unset {var}{place} and run `npx convex login`, then try again.")
        }
    };
    Err(crate::error::fail(format!(
        "{action} requires being logged in with a personal access token. {next_step}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn dirs_with_token(token: Option<&str>) -> (tempfile::TempDir, ConvexDirs) {
        let home = tempfile::tempdir().unwrap();
        let dirs = ConvexDirs::new(home.path(), &Env::default());
        if let Some(t) = token {
            global_config::save_access_token(&dirs, t).unwrap();
        }
        (home, dirs)
    }

    /// The management-auth truth table (spec §0).
    #[test]
    fn management_auth_precedence() {
        use ManagementAuth as A;
        type Row<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, Option<A>);
        let rows: Vec<Row> = vec![
            (&[], None, None),
            (&[], Some("pat"), Some(A::AccessToken("pat".into()))),
            (
                &[
                    ("CONVEX_OVERRIDE_ACCESS_TOKEN", "ov"),
                    ("CONVEX_DEPLOY_KEY", "project:t:p|s"),
                ],
                Some("pat"),
                Some(A::AccessToken("ov".into())),
            ),
            (
                &[("CONVEX_DEPLOY_KEY", "project:t:p|s")],
                Some("pat"),
                Some(A::ProjectKey("project:t:p|s".into())),
            ),
            (
                &[("CONVEX_DEPLOY_KEY", "dev:x-y-1|s")],
                Some("pat"),
                Some(A::DeploymentKey("dev:x-y-1|s".into())),
            ),
            (
                &[("CONVEX_DEPLOY_KEY", "prod:x-y-1|s")],
                None,
                Some(A::DeploymentKey("prod:x-y-1|s".into())),
            ),
            (
                &[("CONVEX_DEPLOY_KEY", "preview:t:p|s")],
                Some("pat"),
                Some(A::AccessToken("pat".into())),
            ),
            (
                &[("CONVEX_DEPLOY_KEY", "preview:t:p|s")],
                None,
                Some(A::PreviewDeployKey("preview:t:p|s".into())),
            ),
            (&[("CONVEX_DEPLOY_KEY", "x-y-1|s")], None, None),
            (
                &[("CONVEX_DEPLOY_KEY", "x-y-1|s")],
                Some("pat"),
                Some(A::AccessToken("pat".into())),
            ),
            (&[("CONVEX_DEPLOY_KEY", "custom:x-y-1|s")], None, None),
            (&[("CONVEX_DEPLOY_KEY", "preview:x-y-1|s")], None, None),
            (
                &[("CONVEX_DEPLOYMENT_TOKEN", "dev:x-y-1|s")],
                Some("pat"),
                Some(A::DeploymentKey("dev:x-y-1|s".into())),
            ),
            (
                &[
                    ("CONVEX_DEPLOY_KEY", "<ignore_deploy_key>"),
                    ("CONVEX_DEPLOYMENT_TOKEN", "dev:x-y-1|s"),
                ],
                Some("pat"),
                Some(A::AccessToken("pat".into())),
            ),
            (
                &[
                    ("CONVEX_DEPLOY_KEY", ""),
                    ("CONVEX_DEPLOYMENT_TOKEN", "dev:x-y-1|s"),
                ],
                None,
                Some(A::DeploymentKey("dev:x-y-1|s".into())),
            ),
        ];
        for (vars, token, expected) in rows {
            let (_home, dirs) = dirs_with_token(token);
            let env = Env::from_pairs(vars.iter().copied());
            let got = initial_auth(&env, Some(&env), &dirs).unwrap();
            assert_eq!(got, expected, "env {vars:?}, token {token:?}");
        }
    }

    #[test]
    fn url_and_admin_key_ignore_deploy_keys() {
        let (_home, dirs) = dirs_with_token(Some("pat"));
        let env = Env::from_pairs([("CONVEX_DEPLOY_KEY", "dev:x-y-1|s")]);
        assert_eq!(
            initial_auth(&env, None, &dirs).unwrap(),
            Some(ManagementAuth::AccessToken("pat".into()))
        );
    }

    #[test]
    fn env_file_keys_only() {
        let (_home, dirs) = dirs_with_token(None);
        let real = Env::from_pairs([("CONVEX_DEPLOY_KEY", "dev:real-env-1|s")]);
        let file =
            Env::from_file_only(Path::new("f.env"), "CONVEX_DEPLOY_KEY=prod:from-file-1|s\n");
        assert_eq!(
            initial_auth(&real, Some(&file), &dirs).unwrap(),
            Some(ManagementAuth::DeploymentKey("prod:from-file-1|s".into()))
        );
        let empty_file = Env::from_file_only(Path::new("f.env"), "OTHER=1\n");
        assert_eq!(initial_auth(&real, Some(&empty_file), &dirs).unwrap(), None);
    }

    #[test]
    fn missing_sentinel_fails() {
        let (_home, dirs) = dirs_with_token(Some("pat"));
        let env = Env::from_pairs([("CONVEX_DEPLOY_KEY", "<missing_deploy_key:Add the secret>")]);
        let err = initial_auth(&env, Some(&env), &dirs).unwrap_err();
        assert_eq!(err.to_string(), "Add the secret");
    }

    #[test]
    fn within_project_precedence() {
        let mut flags = SelectionFlags {
            prod: true,
            deployment_name: Some("n".into()),
            preview_name: Some("p".into()),
            deployment: Some("staging".into()),
            implicit_prod: true,
            ..Default::default()
        };
        assert_eq!(
            SelectionWithinProject::from_flags(&flags),
            SelectionWithinProject::Selector("staging".into())
        );
        flags.deployment = None;
        assert_eq!(
            SelectionWithinProject::from_flags(&flags),
            SelectionWithinProject::PreviewName("p".into())
        );
        flags.preview_name = None;
        assert_eq!(
            SelectionWithinProject::from_flags(&flags),
            SelectionWithinProject::DeploymentName("n".into())
        );
        flags.deployment_name = None;
        assert_eq!(
            SelectionWithinProject::from_flags(&flags),
            SelectionWithinProject::Prod
        );
        flags.prod = false;
        assert_eq!(
            SelectionWithinProject::from_flags(&flags),
            SelectionWithinProject::ImplicitProd
        );
        flags.implicit_prod = false;
        assert_eq!(
            SelectionWithinProject::from_flags(&flags),
            SelectionWithinProject::Unspecified
        );
    }
}
