//! Deployment selection: flags + environment → [`DeploymentSelection`].
//!
//! Order (first match wins), as the official CLI:
//! 1. `--url` + `--admin-key` → existing deployment.
//! 2. `--deployment` naming a deployment or a `team:project:…` selector
//!    (not `…:local`) → within that project, no environment needed.
//! 3. The environment (`--env-file` alone, else real env > `.env.local` >
//!    `.env`): deploy key; self-hosted pair; `--deployment-name`;
//!    `CONVEX_DEPLOYMENT`; build environment → error; nothing → anonymous or
//!    "choose a project".
//! 4. `--deployment local` / `project:local` / `team:project:local` → this
//!    directory's local deployment (after a project-mismatch check).
//! 5. Flags that make no sense for an existing deployment: error or warning.

use anyhow::Result;
use serde_json::{Value, json};
use std::path::Path;

use super::deploy_key::{self, DeployKeyKind};
use super::local_state;
use super::selector::{InProjectSelector, ParsedSelector, parse_selector};
use super::{
    DeploymentFields, DeploymentSelection, DeploymentType, ExistingSource, ProjectSelection,
    SelectionFlags, SelectionWithinProject, anonymous_allowed,
};
use crate::context::Context;
use crate::env::Env;
use crate::env_vars;
use crate::error::fail;

/// Decide which deployment the command acts on (see the module docs). May
/// call the management API (deploy keys, local selectors); never fetches the
/// deployment's admin key (that is
/// [`super::load_selected_deployment_credentials`]).
pub async fn get_deployment_selection(
    ctx: &Context,
    flags: &SelectionFlags,
) -> Result<DeploymentSelection> {
    let within = SelectionWithinProject::from_flags(flags);
    let selection = select(ctx, flags, &within).await?;
    if let DeploymentSelection::Existing { source, .. } = &selection {
        validate_for_existing(&within, *source)?;
    }
    crate::output::verbose(&describe(&selection));
    Ok(selection)
}

fn describe(selection: &DeploymentSelection) -> String {
    match selection {
        DeploymentSelection::Existing { url, source, .. } => {
            format!("Existing deployment: {url} ({source:?})")
        }
        DeploymentSelection::WithinProject { target, .. } => match target {
            ProjectSelection::TeamAndProjectSlugs {
                team_slug,
                project_slug,
            } => format!(
                "Deployment within project: team and project slugs {team_slug} {project_slug}"
            ),
            ProjectSelection::DeploymentName {
                deployment_name, ..
            } => {
                format!("Deployment within project: deployment name {deployment_name}")
            }
            // Never print the key itself.
            ProjectSelection::ProjectDeployKey(_) => {
                "Deployment within project: project deploy key".to_string()
            }
        },
        DeploymentSelection::Preview { .. } => "Preview deploy key".to_string(),
        DeploymentSelection::ChooseProject { .. } => "Choose project".to_string(),
        DeploymentSelection::Anonymous {
            deployment_name, ..
        } => {
            format!(
                "Anonymous, has selected deployment?: {}",
                deployment_name.is_some()
            )
        }
    }
}

async fn select(
    ctx: &Context,
    flags: &SelectionFlags,
    within: &SelectionWithinProject,
) -> Result<DeploymentSelection> {
    if let (Some(url), Some(admin_key)) = (&flags.url, &flags.admin_key) {
        return Ok(DeploymentSelection::Existing {
            url: url.clone(),
            admin_key: admin_key.clone(),
            fields: None,
            source: ExistingSource::CliArgs,
        });
    }
    let parsed = flags.deployment.as_deref().map(parse_selector);
    if let Some(parsed) = &parsed {
        match parsed {
            ParsedSelector::InTeamProject {
                team_slug,
                project_slug,
                selector,
            } if *selector != InProjectSelector::Local => {
                return Ok(DeploymentSelection::WithinProject {
                    target: ProjectSelection::TeamAndProjectSlugs {
                        team_slug: team_slug.clone(),
                        project_slug: project_slug.clone(),
                    },
                    within: within.clone(),
                });
            }
            ParsedSelector::DeploymentName(name) => {
                return Ok(DeploymentSelection::WithinProject {
                    target: ProjectSelection::DeploymentName {
                        deployment_name: name.clone(),
                        deployment_type: None,
                    },
                    within: within.clone(),
                });
            }
            ParsedSelector::InTeamProject { .. } => {
                return resolve_local_selection(ctx, parsed, within, None).await;
            }
            _ => {}
        }
    }
    let base = resolve_base(ctx, flags, within).await?;
    if let Some(
        parsed @ (ParsedSelector::InCurrentProject(InProjectSelector::Local)
        | ParsedSelector::InProject {
            selector: InProjectSelector::Local,
            ..
        }),
    ) = &parsed
    {
        return resolve_local_selection(ctx, parsed, within, Some(&base)).await;
    }
    Ok(base)
}

/// Read an `--env-file` (relative to the working directory).
pub fn read_env_file(cwd: &Path, path: &str) -> Result<Env> {
    let full = cwd.join(path);
    match std::fs::read(&full) {
        Ok(bytes) => Ok(Env::from_file_only(
            Path::new(path),
            &String::from_utf8_lossy(&bytes),
        )),
        Err(_) => Err(fail(format!(
            "The env file `{path}` given with --env-file does not exist (or cannot be read)."
        ))),
    }
}

async fn resolve_base(
    ctx: &Context,
    flags: &SelectionFlags,
    within: &SelectionWithinProject,
) -> Result<DeploymentSelection> {
    if let Some(path) = &flags.env_file {
        let file_env = read_env_file(&ctx.cwd, path)?;
        return match from_env(ctx, within, &file_env).await? {
            Some(selection) => Ok(selection),
            None => Err(fail(format!(
                "The env file `{path}` does not choose a Convex deployment. Set `{}`, `{}`, or both `{}` and `{}` in it.",
                env_vars::CONVEX_DEPLOY_KEY,
                env_vars::CONVEX_DEPLOYMENT,
                env_vars::CONVEX_SELF_HOSTED_URL,
                env_vars::CONVEX_SELF_HOSTED_ADMIN_KEY
            ))),
        };
    }
    if let Some(selection) = from_env(ctx, within, &ctx.env).await? {
        return Ok(selection);
    }
    let logged_in = ctx.auth().is_some();
    let agent_anonymous = ctx.env.get(env_vars::CONVEX_AGENT_MODE) == Some("anonymous");
    if (!logged_in || agent_anonymous || !crate::output::stdin_is_terminal())
        && !flags.implicit_prod
        && anonymous_allowed(&ctx.env)
    {
        return Ok(DeploymentSelection::Anonymous {
            deployment_name: None,
            within: within.clone(),
        });
    }
    Ok(DeploymentSelection::ChooseProject {
        within: within.clone(),
    })
}

/// `Vercel`, `Netlify` or `Cloudflare` when running in one of their builds.
pub fn build_environment(env: &Env) -> Option<&'static str> {
    if env.is_truthy(env_vars::VERCEL) {
        Some("Vercel")
    } else if env.is_truthy(env_vars::NETLIFY) {
        Some("Netlify")
    } else if env.is_truthy(env_vars::CF_PAGES) || env.is_truthy(env_vars::WORKERS_CI) {
        Some("Cloudflare")
    } else {
        None
    }
}

/// Selection from one environment (merged env or `--env-file`); `None` when
/// it configures nothing.
async fn from_env(
    ctx: &Context,
    within: &SelectionWithinProject,
    env: &Env,
) -> Result<Option<DeploymentSelection>> {
    if let Some(key) = deploy_key::deploy_key_from_env(env)? {
        return Ok(Some(match deploy_key::classify(&key) {
            DeployKeyKind::Preview { .. } => DeploymentSelection::Preview {
                preview_deploy_key: key,
                within: within.clone(),
            },
            DeployKeyKind::Project => DeploymentSelection::WithinProject {
                target: ProjectSelection::ProjectDeployKey(key),
                within: within.clone(),
            },
            DeployKeyKind::Deployment {
                name,
                deployment_type,
            } => {
                let var = deploy_key::deploy_key_var_name(env);
                let Some(name) = name else {
                    return Err(fail(format!(
                        "The value of {var} is not a complete deploy key (it has no `|`). Please set {var} to a new key which you can find on your Convex dashboard (deployment settings)."
                    )));
                };
                let management = ctx.management()?;
                let url = management
                    .big_brain_post("deployment/url_for_key", Some(&json!({"deployKey": key})))
                    .await?;
                let url = match url {
                    Some(Value::String(u)) => u,
                    other => {
                        return Err(fail(format!(
                            "Unexpected answer when looking up the URL of the deploy key's deployment: {}",
                            other
                                .map(|v| v.to_string())
                                .unwrap_or_else(|| "nothing".into())
                        )));
                    }
                };
                let slugs = super::resolve::fetch_team_and_project_for_key(ctx, &key).await?;
                DeploymentSelection::Existing {
                    url,
                    admin_key: key,
                    fields: Some(DeploymentFields {
                        deployment_name: name,
                        deployment_type: DeploymentType::parse(&deployment_type),
                        team_slug: Some(slugs.team),
                        project_slug: Some(slugs.project),
                        reference: slugs.reference,
                        is_default: slugs.is_default,
                    }),
                    source: ExistingSource::DeployKey,
                }
            }
        }));
    }

    let configured = env.non_empty(env_vars::CONVEX_DEPLOYMENT);
    let self_hosted_url = env.non_empty(env_vars::CONVEX_SELF_HOSTED_URL);
    let self_hosted_key = env.non_empty(env_vars::CONVEX_SELF_HOSTED_ADMIN_KEY);

    if let (Some(url), Some(admin_key)) = (self_hosted_url, self_hosted_key) {
        if configured.is_some() {
            return Err(fail(format!(
                "{} must not be set when {} and {} are set: keep only the variables of the deployment you want to use.",
                env_vars::CONVEX_DEPLOYMENT,
                env_vars::CONVEX_SELF_HOSTED_URL,
                env_vars::CONVEX_SELF_HOSTED_ADMIN_KEY
            )));
        }
        return Ok(Some(DeploymentSelection::Existing {
            url: url.to_string(),
            admin_key: admin_key.to_string(),
            fields: None,
            source: ExistingSource::SelfHosted,
        }));
    }

    // --deployment-name may name a deployment of another project.
    if let SelectionWithinProject::DeploymentName(name) = within {
        return Ok(Some(DeploymentSelection::WithinProject {
            target: ProjectSelection::DeploymentName {
                deployment_name: name.clone(),
                deployment_type: None,
            },
            within: within.clone(),
        }));
    }

    if let Some(configured) = configured {
        if self_hosted_url.is_some() || self_hosted_key.is_some() {
            return Err(fail(format!(
                "{} and {} must not be set when {} is set: keep only the variables of the deployment you want to use.",
                env_vars::CONVEX_SELF_HOSTED_URL,
                env_vars::CONVEX_SELF_HOSTED_ADMIN_KEY,
                env_vars::CONVEX_DEPLOYMENT
            )));
        }
        let deployment_type = configured_deployment_type(configured);
        let name = configured
            .rsplit(':')
            .next()
            .unwrap_or(configured)
            .to_string();
        if name.starts_with("anonymous-") {
            if !anonymous_allowed(&ctx.env) {
                return Ok(None);
            }
            return Ok(Some(DeploymentSelection::Anonymous {
                deployment_name: Some(name),
                within: within.clone(),
            }));
        }
        let within = if *within == SelectionWithinProject::Unspecified
            && deployment_type != Some(DeploymentType::Local)
        {
            SelectionWithinProject::DeploymentName(name.clone())
        } else {
            within.clone()
        };
        return Ok(Some(DeploymentSelection::WithinProject {
            target: ProjectSelection::DeploymentName {
                deployment_name: name,
                deployment_type,
            },
            within,
        }));
    }

    if let Some(platform) = build_environment(&ctx.env) {
        return Err(fail(format!(
            "{platform} build environment detected but no Convex deployment configuration found.\n\
             Set one of:\n  • {} for Convex Cloud deployments\n  • {} and {} for self-hosted deployments\n\
             See https://docs.convex.dev/production/hosting or https://docs.convex.dev/self-hosting",
            env_vars::CONVEX_DEPLOY_KEY,
            env_vars::CONVEX_SELF_HOSTED_URL,
            env_vars::CONVEX_SELF_HOSTED_ADMIN_KEY
        )));
    }
    Ok(None)
}

/// Type prefix of `CONVEX_DEPLOYMENT` (`dev`, `prod`, `preview`, `local`), if any.
pub fn configured_deployment_type(configured: &str) -> Option<DeploymentType> {
    match configured.split(':').next() {
        Some("dev") => Some(DeploymentType::Dev),
        Some("prod") => Some(DeploymentType::Prod),
        Some("preview") => Some(DeploymentType::Preview),
        Some("local") => Some(DeploymentType::Local),
        _ => None,
    }
}

fn validate_for_existing(within: &SelectionWithinProject, source: ExistingSource) -> Result<()> {
    use SelectionWithinProject as W;
    match within {
        W::Unspecified | W::ImplicitProd => Ok(()),
        W::Selector(_) => Err(fail(match source {
            ExistingSource::SelfHosted => {
                "The `--deployment` flag cannot be used with a self-hosted deployment (CONVEX_SELF_HOSTED_URL)."
            }
            ExistingSource::DeployKey => {
                "The `--deployment` flag cannot be used with CONVEX_DEPLOY_KEY: the key already chooses the deployment. Unset it to pick another one."
            }
            ExistingSource::CliArgs => {
                "The `--deployment` flag cannot be used with --url and --admin-key."
            }
        })),
        _ => match source {
            ExistingSource::SelfHosted => Err(fail(
                "The `--prod`, `--preview-name`, and `--deployment-name` flags cannot be used with a self-hosted deployment.",
            )),
            ExistingSource::DeployKey => {
                crate::output::warning(
                    "Ignoring `--prod`, `--preview-name`, or `--deployment-name` flags and using deployment from CONVEX_DEPLOY_KEY",
                );
                Ok(())
            }
            ExistingSource::CliArgs => {
                crate::output::warning(
                    "Ignoring `--prod`, `--preview-name`, or `--deployment-name` flags since this command was run with --url and --admin-key",
                );
                Ok(())
            }
        },
    }
}

/// `[team:project:]local` and `[project:]local`.
async fn resolve_local_selection(
    ctx: &Context,
    parsed: &ParsedSelector,
    within: &SelectionWithinProject,
    current: Option<&DeploymentSelection>,
) -> Result<DeploymentSelection> {
    let Some((name, config)) = local_state::load_project_local_config(&ctx.cwd) else {
        return Err(fail(
            "No local deployment found in this directory. Run `npx convex deployment create local` to create one.",
        ));
    };
    if let Some(cloud_project_id) = config.cloud_project_id {
        let target = match parsed {
            ParsedSelector::InTeamProject {
                team_slug,
                project_slug,
                ..
            } => Some(
                super::resolve::project_details(
                    ctx,
                    &ProjectSelection::TeamAndProjectSlugs {
                        team_slug: team_slug.clone(),
                        project_slug: project_slug.clone(),
                    },
                )
                .await?,
            ),
            ParsedSelector::InCurrentProject(_) => match current {
                Some(DeploymentSelection::WithinProject { target, .. }) => {
                    Some(super::resolve::project_details(ctx, target).await?)
                }
                _ => None,
            },
            ParsedSelector::InProject { project_slug, .. } => match current {
                Some(DeploymentSelection::WithinProject { target, .. }) => {
                    let current_project = super::resolve::project_details(ctx, target).await?;
                    Some(
                        super::resolve::project_details(
                            ctx,
                            &ProjectSelection::TeamAndProjectSlugs {
                                team_slug: current_project.team_slug,
                                project_slug: project_slug.clone(),
                            },
                        )
                        .await?,
                    )
                }
                _ => None,
            },
            ParsedSelector::DeploymentName(_) => None,
        };
        if let Some(target) = target
            && target.id != Some(cloud_project_id)
        {
            {
                return Err(fail(format!(
                    "The local deployment in this directory is in a different project than `{team}:{project}`.\n  Hint: if you want to move the local deployment to this project, run `npx convex deployment select {team}:{project}:local`",
                    team = target.team_slug,
                    project = target.slug
                )));
            }
        }
    }
    Ok(DeploymentSelection::WithinProject {
        target: ProjectSelection::DeploymentName {
            deployment_name: name,
            deployment_type: Some(DeploymentType::Local),
        },
        within: within.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Context, ContextOptions};
    use std::path::PathBuf;

    struct Scene {
        _home: tempfile::TempDir,
        project: tempfile::TempDir,
        home_path: PathBuf,
    }

    fn scene(env_local: Option<&str>) -> Scene {
        let home = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        if let Some(text) = env_local {
            std::fs::write(project.path().join(".env.local"), text).unwrap();
        }
        let home_path = home.path().to_path_buf();
        Scene {
            _home: home,
            project,
            home_path,
        }
    }

    fn select_with(
        scene: &Scene,
        vars: &[(&str, &str)],
        flags: SelectionFlags,
    ) -> Result<DeploymentSelection> {
        let ctx = Context::with_parts(
            scene.project.path().to_path_buf(),
            scene.home_path.clone(),
            Env::from_pairs(vars.iter().copied()),
            ContextOptions::from(&flags),
        )?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(get_deployment_selection(&ctx, &flags))
    }

    fn within_name(
        name: &str,
        t: Option<DeploymentType>,
        within: SelectionWithinProject,
    ) -> DeploymentSelection {
        DeploymentSelection::WithinProject {
            target: ProjectSelection::DeploymentName {
                deployment_name: name.into(),
                deployment_type: t,
            },
            within,
        }
    }

    /// Selection truth table for the rows that need no network.
    #[test]
    fn selection_truth_table() {
        use SelectionWithinProject as W;
        let none = SelectionFlags::default();
        let s = scene(Some(
            "CONVEX_DEPLOYMENT=dev:happy-otter-123 # team: acme, project: rocket\n",
        ));
        // .env.local's CONVEX_DEPLOYMENT: that very deployment.
        assert_eq!(
            select_with(&s, &[], none.clone()).unwrap(),
            within_name(
                "happy-otter-123",
                Some(DeploymentType::Dev),
                W::DeploymentName("happy-otter-123".into())
            )
        );
        // The real environment beats .env.local.
        assert_eq!(
            select_with(
                &s,
                &[("CONVEX_DEPLOYMENT", "prod:brave-lynx-456")],
                none.clone()
            )
            .unwrap(),
            within_name(
                "brave-lynx-456",
                Some(DeploymentType::Prod),
                W::DeploymentName("brave-lynx-456".into())
            )
        );
        // An empty real variable hides the file value: nothing configured.
        assert!(matches!(
            select_with(&s, &[("CONVEX_DEPLOYMENT", "")], none.clone()).unwrap(),
            DeploymentSelection::Anonymous {
                deployment_name: None,
                ..
            }
        ));
        // --prod keeps the configured deployment as the project anchor.
        assert_eq!(
            select_with(
                &s,
                &[],
                SelectionFlags {
                    prod: true,
                    ..Default::default()
                }
            )
            .unwrap(),
            within_name("happy-otter-123", Some(DeploymentType::Dev), W::Prod)
        );
        // --deployment-name ignores CONVEX_DEPLOYMENT.
        assert_eq!(
            select_with(
                &s,
                &[],
                SelectionFlags {
                    deployment_name: Some("other-name-1".into()),
                    ..Default::default()
                }
            )
            .unwrap(),
            within_name(
                "other-name-1",
                None,
                W::DeploymentName("other-name-1".into())
            )
        );
        // A deployment name selector needs no project context.
        let empty = scene(None);
        assert_eq!(
            select_with(
                &empty,
                &[],
                SelectionFlags {
                    deployment: Some("brave-lynx-456".into()),
                    ..Default::default()
                }
            )
            .unwrap(),
            within_name("brave-lynx-456", None, W::Selector("brave-lynx-456".into()))
        );
        assert_eq!(
            select_with(
                &empty,
                &[],
                SelectionFlags {
                    deployment: Some("t:p:staging".into()),
                    ..Default::default()
                }
            )
            .unwrap(),
            DeploymentSelection::WithinProject {
                target: ProjectSelection::TeamAndProjectSlugs {
                    team_slug: "t".into(),
                    project_slug: "p".into()
                },
                within: W::Selector("t:p:staging".into()),
            }
        );
        // Local CONVEX_DEPLOYMENT keeps "unspecified".
        assert_eq!(
            select_with(
                &empty,
                &[("CONVEX_DEPLOYMENT", "local:local-acme-rocket")],
                none.clone()
            )
            .unwrap(),
            within_name(
                "local-acme-rocket",
                Some(DeploymentType::Local),
                W::Unspecified
            )
        );
        // Anonymous deployments, and the kill switch.
        assert_eq!(
            select_with(
                &empty,
                &[("CONVEX_DEPLOYMENT", "anonymous:anonymous-rocket")],
                none.clone()
            )
            .unwrap(),
            DeploymentSelection::Anonymous {
                deployment_name: Some("anonymous-rocket".into()),
                within: W::Unspecified
            }
        );
        assert!(matches!(
            select_with(
                &empty,
                &[
                    ("CONVEX_DEPLOYMENT", "anonymous:anonymous-rocket"),
                    ("CONVEX_ALLOW_ANONYMOUS", "false")
                ],
                none.clone()
            )
            .unwrap(),
            DeploymentSelection::ChooseProject { .. }
        ));
        // Nothing configured, implicit prod: choose a project.
        assert!(matches!(
            select_with(
                &empty,
                &[],
                SelectionFlags {
                    implicit_prod: true,
                    ..Default::default()
                }
            )
            .unwrap(),
            DeploymentSelection::ChooseProject {
                within: W::ImplicitProd
            }
        ));
        // Build environment with nothing configured: error.
        let err = select_with(&empty, &[("VERCEL", "1")], none.clone()).unwrap_err();
        assert!(err.to_string().contains("Vercel build environment"));
    }

    #[test]
    fn self_hosted_rows() {
        let none = SelectionFlags::default();
        let empty = scene(None);
        let both = [
            ("CONVEX_SELF_HOSTED_URL", "http://sh:1"),
            ("CONVEX_SELF_HOSTED_ADMIN_KEY", "ak"),
        ];
        assert_eq!(
            select_with(&empty, &both, none.clone()).unwrap(),
            DeploymentSelection::Existing {
                url: "http://sh:1".into(),
                admin_key: "ak".into(),
                fields: None,
                source: ExistingSource::SelfHosted
            }
        );
        let mut with_deployment = both.to_vec();
        with_deployment.push(("CONVEX_DEPLOYMENT", "dev:a-b-1"));
        assert!(select_with(&empty, &with_deployment, none.clone()).is_err());
        // Only one self-hosted variable plus CONVEX_DEPLOYMENT: error too.
        assert!(
            select_with(
                &empty,
                &[
                    ("CONVEX_SELF_HOSTED_URL", "http://sh:1"),
                    ("CONVEX_DEPLOYMENT", "dev:a-b-1")
                ],
                none.clone()
            )
            .is_err()
        );
        // Flags with a self-hosted deployment.
        assert!(
            select_with(
                &empty,
                &both,
                SelectionFlags {
                    prod: true,
                    ..Default::default()
                }
            )
            .is_err()
        );
        assert!(
            select_with(
                &empty,
                &both,
                SelectionFlags {
                    deployment: Some("staging".into()),
                    ..Default::default()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn url_admin_key_and_env_file_rows() {
        let s = scene(Some("CONVEX_DEPLOYMENT=dev:happy-otter-123\n"));
        let flags = SelectionFlags {
            url: Some("http://x:1".into()),
            admin_key: Some("k".into()),
            ..Default::default()
        };
        assert_eq!(
            select_with(&s, &[("CONVEX_DEPLOY_KEY", "dev:a-b-1|s")], flags).unwrap(),
            DeploymentSelection::Existing {
                url: "http://x:1".into(),
                admin_key: "k".into(),
                fields: None,
                source: ExistingSource::CliArgs
            }
        );
        // Only --url: ignored.
        let flags = SelectionFlags {
            url: Some("http://x:1".into()),
            ..Default::default()
        };
        assert!(matches!(
            select_with(&s, &[], flags).unwrap(),
            DeploymentSelection::WithinProject { .. }
        ));
        // --env-file: the file only; .env.local and the real env are ignored.
        std::fs::write(
            s.project.path().join("ci.env"),
            "CONVEX_DEPLOYMENT=prod:brave-lynx-456\n",
        )
        .unwrap();
        let flags = SelectionFlags {
            env_file: Some("ci.env".into()),
            ..Default::default()
        };
        assert_eq!(
            select_with(&s, &[("CONVEX_DEPLOYMENT", "dev:x-y-1")], flags).unwrap(),
            within_name(
                "brave-lynx-456",
                Some(DeploymentType::Prod),
                SelectionWithinProject::DeploymentName("brave-lynx-456".into())
            )
        );
        std::fs::write(s.project.path().join("empty.env"), "OTHER=1\n").unwrap();
        let flags = SelectionFlags {
            env_file: Some("empty.env".into()),
            ..Default::default()
        };
        assert!(
            select_with(&s, &[], flags)
                .unwrap_err()
                .to_string()
                .contains("does not choose")
        );
        let flags = SelectionFlags {
            env_file: Some("missing.env".into()),
            ..Default::default()
        };
        assert!(
            select_with(&s, &[], flags)
                .unwrap_err()
                .to_string()
                .contains("does not exist")
        );
    }

    #[test]
    fn deploy_key_without_pipe_fails_before_any_request() {
        let empty = scene(None);
        let err = select_with(
            &empty,
            &[("CONVEX_DEPLOY_KEY", "dev:no-pipe")],
            SelectionFlags::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a complete deploy key"));
    }

    #[test]
    fn local_selector_needs_a_local_deployment() {
        let empty = scene(None);
        let err = select_with(
            &empty,
            &[],
            SelectionFlags {
                deployment: Some("local".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("No local deployment"));
        let dir = empty.project.path().join(".convex/local/default");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.json"),
            r#"{"ports":{"cloud":3210,"site":3211},"backendVersion":"v","adminKey":"k","deploymentName":"local-acme-rocket"}"#,
        )
        .unwrap();
        assert_eq!(
            select_with(
                &empty,
                &[],
                SelectionFlags {
                    deployment: Some("local".into()),
                    ..Default::default()
                }
            )
            .unwrap(),
            within_name(
                "local-acme-rocket",
                Some(DeploymentType::Local),
                SelectionWithinProject::Selector("local".into())
            )
        );
    }
}
