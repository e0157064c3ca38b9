//! `convex deploy`: push the functions to a production, preview, project
//! or self-hosted deployment (typically from CI with `CONVEX_DEPLOY_KEY`).
//!
//! Order (the reference's): choose the target (deploy key lookups), the
//! non-production build guard, then either the preview flow (claim the
//! preview deployment, `--cmd`, push, `--preview-run`) or the existing
//! deployment flow (credentials, banner, confirmation when the target is
//! not the configured deployment, then `--cmd` and the push, with the
//! version check and usage warning alongside). The push itself is
//! [`crate::push::Pusher::push`].

use anyhow::Result;
use futures_util::future::Either;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

use super::{CodegenMode, TypecheckMode};
use crate::context::{Context, ContextOptions};
use crate::credentials::{
    self, DeploymentFields, DeploymentSelection, DeploymentType, ExistingSource, LoadOptions,
    ProjectSelection, SelectionFlags, deploy_key,
};
use crate::env_vars;
use crate::error::{Failure, fail};
use crate::output;
use crate::push::{
    self, ConsoleOutput, PushChecks, PushOptions, PushResult, PushTarget, Pusher, announce,
    environment,
};

/// `--check-build-environment <mode>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum CheckBuildEnvironment {
    #[default]
    Enable,
    Disable,
}

/// Deploy to a production or preview deployment
///
/// Deploys code to a deployment. This is typically used for deploying to a
/// prod or preview deployment manually or from CI; to deploy to your dev
/// deployment when developing, use `npx convex dev`.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct Args {
    /// Show full listing of changes
    #[arg(short, long)]
    pub verbose: bool,
    /// Print out the generated configuration without deploying to your Convex deployment
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Skip confirmation prompt when running interactively.
    #[arg(short, long, hide = true)]
    pub yes: bool,
    /// Whether to check TypeScript files with `tsc --noEmit` before deploying.
    #[arg(long, value_enum, value_name = "mode", default_value_t = TypecheckMode::Try)]
    pub typecheck: TypecheckMode,
    /// Check TypeScript files within component implementations with `tsc --noEmit`.
    #[arg(long = "typecheck-components")]
    pub typecheck_components: bool,
    /// Whether to regenerate code in `convex/_generated/` before pushing.
    #[arg(long, value_enum, value_name = "mode", default_value_t = CodegenMode::Enable)]
    pub codegen: CodegenMode,
    /// Command to run as part of deploying your app (e.g. `vite build`).
    #[arg(long, value_name = "command")]
    pub cmd: Option<String>,
    /// Environment variable name to set Convex deployment URL (e.g. `VITE_CONVEX_URL`) when using `--cmd`
    #[arg(long = "cmd-url-env-var-name", value_name = "name")]
    pub cmd_url_env_var_name: Option<String>,
    #[arg(long = "debug-bundle-path", value_name = "path", hide = true)]
    pub debug_bundle_path: Option<String>,
    #[arg(long, hide = true)]
    pub debug: bool,
    #[arg(
        long = "write-push-request",
        value_name = "writePushRequest",
        hide = true
    )]
    pub write_push_request: Option<String>,
    #[arg(long = "live-component-sources", hide = true)]
    pub live_component_sources: bool,
    /// Push all modules without checking for unchanged module hashes from the server
    #[arg(long = "push-all-modules", hide = true)]
    pub push_all_modules: bool,
    /// Function to run if deploying to a preview deployment.
    #[arg(long = "preview-run", value_name = "functionName")]
    pub preview_run: Option<String>,
    /// The name to associate with this preview deployment.
    #[arg(long = "preview-name", value_name = "name")]
    pub preview_name: Option<String>,
    /// Like --preview-name, but deletes and recreates an existing preview deployment with the same name.
    #[arg(long = "preview-create", value_name = "name")]
    pub preview_create: Option<String>,
    #[arg(long = "check-build-environment", value_enum, value_name = "mode", hide = true, default_value_t = CheckBuildEnvironment::Enable)]
    pub check_build_environment: CheckBuildEnvironment,
    #[arg(long = "admin-key", value_name = "adminKey", hide = true)]
    pub admin_key: Option<String>,
    #[arg(long, value_name = "url", hide = true)]
    pub url: Option<String>,
    /// Path to a custom file of environment variables, for choosing the
    /// deployment, e.g. CONVEX_DEPLOYMENT or CONVEX_SELF_HOSTED_URL.
    #[arg(long = "env-file", value_name = "envFile")]
    pub env_file: Option<String>,
    /// Optional message to attach to this deployment in the audit log.
    #[arg(long, value_name = "message")]
    pub message: Option<String>,
    #[arg(long = "skip-workos-check", hide = true)]
    pub skip_workos_check: bool,
    /// Skip the confirmation prompt when this push creates, changes, or deletes an index on a large table.
    #[arg(long = "skip-large-indexes-check")]
    pub skip_large_indexes_check: bool,
    #[arg(long = "allow-deleting-large-indexes", hide = true)]
    pub allow_deleting_large_indexes: bool,
    /// Skip the confirmation prompt when this push discards a staged table validator.
    #[arg(long = "allow-unstaging-schema")]
    pub allow_unstaging_schema: bool,
}

impl Args {
    /// The selection flags `deploy` passes to the resolver: it "defaults to
    /// prod" and its `--preview-name` also feeds selection.
    pub fn selection_flags(&self) -> crate::credentials::SelectionFlags {
        crate::credentials::SelectionFlags {
            url: self.url.clone(),
            admin_key: self.admin_key.clone(),
            env_file: self.env_file.clone(),
            prod: false,
            preview_name: self.preview_name.clone(),
            deployment_name: None,
            deployment: None,
            implicit_prod: true,
        }
    }
}

/// Run `convex deploy`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let flags = args.selection_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    super::block_on(deploy(&ctx, &args, &flags))
}

async fn deploy(ctx: &Context, args: &Args, flags: &SelectionFlags) -> Result<()> {
    // esbuild starts now, while the deployment is looked up; a problem with
    // the project is reported when the push needs it, after any
    // deployment error (as the official CLI orders them).
    let pusher = Pusher::start(ctx);
    let selection = credentials::get_deployment_selection(ctx, flags).await?;

    if args.check_build_environment == CheckBuildEnvironment::Enable
        && environment::is_non_prod_build_environment(&ctx.env)
        && let DeploymentSelection::Existing {
            source: ExistingSource::DeployKey,
            fields: Some(fields),
            ..
        } = &selection
        && fields.deployment_type == DeploymentType::Prod
    {
        return Err(fail(format!(
            "Detected a non-production build environment and \"{}\" for a production Convex deployment.\n\
             This is probably unintentional: preview builds should use a preview deploy key. \
             Pass `--check-build-environment disable` if you really mean to deploy to production from here.",
            env_vars::CONVEX_DEPLOY_KEY
        )));
    }

    if let DeploymentSelection::Anonymous { .. } = selection {
        output::message(
            "You are currently developing anonymously with a locally running project.\n\
             To deploy your Convex app to the cloud, log in by running `npx convex login`.\n\
             See https://docs.convex.dev/production for more information on how Convex cloud works and instructions on how to set up hosting.",
        );
        return Err(Failure::silent(1).into());
    }

    let message = args
        .message
        .clone()
        .or_else(|| environment::default_deploy_message(&ctx.env));

    if let DeploymentSelection::Preview {
        preview_deploy_key, ..
    } = &selection
    {
        return deploy_to_preview(ctx, args, preview_deploy_key, message, pusher).await;
    }

    if args.preview_create.is_some() {
        let name = match &selection {
            DeploymentSelection::WithinProject {
                target:
                    ProjectSelection::DeploymentName {
                        deployment_name, ..
                    },
                ..
            } => Some(deployment_name.clone()),
            DeploymentSelection::Existing {
                fields: Some(fields),
                ..
            } => Some(fields.deployment_name.clone()),
            _ => None,
        };
        let place = match name {
            Some(name) => format!(
                "at {}/dp/{name}/settings#preview-deploy-keys",
                ctx.dashboard_host()
            ),
            None => "on the dashboard".to_string(),
        };
        return Err(fail(format!(
            "Preview deployments can only be created with preview deploy keys. Generate a preview deploy key {place} and set the {} environment variable with it.",
            env_vars::CONVEX_DEPLOY_KEY
        )));
    }

    deploy_to_existing(ctx, args, &selection, message, pusher).await
}

/// The checks of a deploy to a prod (or otherwise existing) deployment.
fn existing_checks(args: &Args) -> PushChecks {
    PushChecks::deploy(
        args.skip_large_indexes_check,
        args.allow_deleting_large_indexes,
        args.allow_unstaging_schema,
    )
}

fn push_options(
    args: &Args,
    checks: PushChecks,
    dry_run: bool,
    message: Option<String>,
    cwd: &Path,
) -> PushOptions {
    PushOptions {
        dry_run,
        verbose: args.verbose,
        codegen: args.codegen == CodegenMode::Enable,
        codegen_debug: args.debug,
        commonjs: false,
        typecheck: args.typecheck,
        typecheck_components: args.typecheck_components,
        debug_bundle_path: args.debug_bundle_path.as_ref().map(|p| cwd.join(p)),
        write_push_request: args.write_push_request.as_ref().map(|p| cwd.join(p)),
        live_component_sources: args.live_component_sources,
        push_all_modules: args.push_all_modules,
        checks,
        message,
        stop_after_start_push: false,
        codegen_only_component: None,
    }
}

async fn deploy_to_existing(
    ctx: &Context,
    args: &Args,
    selection: &DeploymentSelection,
    message: Option<String>,
    pusher: PushResult<Pusher>,
) -> Result<()> {
    let creds =
        credentials::load_selected_deployment_credentials(ctx, selection, LoadOptions::default())
            .await?;
    announce::announce_deployment_target(
        "Deploying code to deployment:",
        &creds.url,
        creds.fields.as_ref(),
        ctx.dashboard_host(),
    );
    let fields = creds.fields.clone();

    if let Some((Some(configured_name), configured_type)) = selection.name_and_type()
        && fields.as_ref().map(|f| &f.deployment_name) != Some(&configured_name)
        && !args.yes
        && !confirm_push_to_other(
            ctx,
            &configured_name,
            configured_type.as_ref(),
            fields.as_ref(),
            &creds.url,
        )?
    {
        return Err(Failure::silent(1).into());
    }

    let target = PushTarget {
        url: creds.url.clone(),
        admin_key: creds.admin_key.clone(),
        deployment_name: fields.as_ref().map(|f| f.deployment_name.clone()),
        deployment_type: fields.as_ref().map(|f| f.deployment_type.clone()),
    };
    let push = async {
        warn_about_authkit(ctx, args);
        run_cmd(ctx, args, &target.url, &target.admin_key, args.dry_run).await?;
        let options = push_options(args, existing_checks(args), args.dry_run, message, &ctx.cwd);
        push_with_spinner(ctx, pusher, &target, &options).await
    };
    let advisory = async {
        if let Some(f) = &fields {
            crate::advisories::check_all(ctx, &f.deployment_name).await;
        }
    };
    let result = with_advisory(push, advisory).await;
    result?;
    output::success(&format!(
        "{} Convex functions to {}",
        if args.dry_run {
            "Would have deployed"
        } else {
            "Deployed"
        },
        target.url
    ));
    Ok(())
}

/// Runs `main` with `advisory` alongside. Once `main` succeeds, `advisory`
/// gets a moment to finish (its messages belong before the final line);
/// when `main` fails it is dropped.
async fn with_advisory<T>(
    main: impl std::future::Future<Output = Result<T>>,
    advisory: impl std::future::Future<Output = ()>,
) -> Result<T> {
    let main = std::pin::pin!(main);
    let advisory = std::pin::pin!(advisory);
    match futures_util::future::select(main, advisory).await {
        Either::Left((result, advisory)) => {
            if result.is_ok() {
                let _ = tokio::time::timeout(ADVISORY_GRACE, advisory).await;
            }
            result
        }
        Either::Right(((), main)) => main.await,
    }
}

/// How long a finished deploy waits for the version check and usage
/// warning.
const ADVISORY_GRACE: Duration = Duration::from_secs(3);

/// Prompt when the resolved target is not the configured deployment (a
/// `CONVEX_DEPLOYMENT` dev setup deploying to prod). The question goes to
/// stdout and the command fails when there is no terminal.
fn confirm_push_to_other(
    ctx: &Context,
    configured_name: &str,
    configured_type: Option<&DeploymentType>,
    fields: Option<&DeploymentFields>,
    url: &str,
) -> Result<bool> {
    let requested_type = fields
        .map(|f| f.deployment_type.as_str().to_string())
        .unwrap_or_default();
    let requested_name = fields
        .map(|f| f.deployment_name.clone())
        .unwrap_or_default();
    let url_var =
        environment::suggested_url_env_var_names(ctx.project().package_json().ok()).convex_url;
    output::message(&format!(
        "You're currently developing against your {} deployment\n\n  {configured_name} (set in CONVEX_DEPLOYMENT)\n\nYour {} deployment {} serves traffic at:\n\n  {url_var}={}\n\nMake sure that your published client is configured with this URL (for instructions see https://docs.convex.dev/hosting)\n",
        output::style::bold(configured_type.map(|t| t.as_str()).unwrap_or("dev")),
        output::style::bold(&requested_type),
        output::style::bold(&requested_name),
        output::style::bold(url),
    ));
    output::prompt_yes_no(
        &format!(
            "Do you want to push your code to your {requested_type} deployment {requested_name} now?"
        ),
        Some(true),
    )
}

async fn push_with_spinner(
    ctx: &Context,
    pusher: PushResult<Pusher>,
    target: &PushTarget,
    options: &PushOptions,
) -> Result<()> {
    let pusher = pusher.map_err(Failure::from)?;
    output::start_spinner(&format!(
        "Deploying to {}...{}",
        target.url,
        if options.dry_run { " [dry run]" } else { "" }
    ));
    let result = pusher.push(ctx, target, options, &ConsoleOutput).await;
    pusher.stop();
    // The completion report is not sent: the official CLI exits before it
    // leaves (its request is fire-and-forget), and waiting would only slow
    // CI down.
    result.map(|_| ()).map_err(|e| Failure::from(e).into())
}

/// `convex.json`'s `authKit` asks the official CLI to provision WorkOS
/// before building; this CLI does not do that yet.
fn warn_about_authkit(ctx: &Context, args: &Args) {
    if args.skip_workos_check {
        return;
    }
    if let Ok(config) = ctx.project().config()
        && config.auth_kit.is_some()
    {
        output::warning(
            "convex.json configures WorkOS AuthKit, which this CLI does not provision. \
             Make sure the WorkOS environment variables are set on the deployment \
             (or pass --skip-workos-check to hide this warning).",
        );
    }
}

/// `--cmd`: run the build command with the deployment's canonical URLs set.
async fn run_cmd(
    ctx: &Context,
    args: &Args,
    url: &str,
    admin_key: &str,
    dry_run: bool,
) -> Result<()> {
    let Some(cmd) = &args.cmd else {
        return Ok(());
    };
    let names = environment::suggested_url_env_var_names(ctx.project().package_json().ok());
    let url_var = args
        .cmd_url_env_var_name
        .clone()
        .unwrap_or_else(|| names.convex_url.to_string());
    let site_var = names.convex_site_url;
    output::start_spinner(&format!(
        "Running '{cmd}' with environment variables \"{url_var}\" and \"{site_var}\" set...{}",
        if dry_run { " [dry run]" } else { "" }
    ));
    if !dry_run {
        let client = ctx.deployment_client(url, admin_key)?;
        let (cloud_url, site_url) = push::api::canonical_urls(&client)
            .await
            .map_err(Failure::from)?;
        output::stop_spinner();
        let mut command = crate::shell::command(cmd, &ctx.env);
        ctx.env.apply_to_tokio_command(&mut command);
        command.env(&url_var, &cloud_url).env(site_var, &site_url);
        let status = command
            .status()
            .await
            .map_err(|e| fail(format!("Could not run '{cmd}': {e}")))?;
        if !status.success() {
            return Err(fail(format!(
                "'{cmd}' failed{}. Fix the command (it ran with {url_var}={cloud_url}), or run the deploy without --cmd.",
                match status.code() {
                    Some(code) => format!(" with exit code {code}"),
                    None => " (killed by a signal)".to_string(),
                }
            )));
        }
    }
    output::success(&format!(
        "{} \"{cmd}\" with environment variables \"{url_var}\" and \"{site_var}\" set",
        if dry_run { "Would have run" } else { "Ran" }
    ));
    Ok(())
}

/// The deploy of a preview deploy key: claim (or reuse) the preview
/// deployment named after the branch, push to it, and run `--preview-run`
/// on a new one.
async fn deploy_to_preview(
    ctx: &Context,
    args: &Args,
    preview_deploy_key: &str,
    message: Option<String>,
    pusher: PushResult<Pusher>,
) -> Result<()> {
    let preview_name = args
        .preview_create
        .clone()
        .or_else(|| args.preview_name.clone())
        .or_else(|| environment::git_branch_from_environment(&ctx.env));
    let reuse = args.preview_create.is_none();
    let (team_slug, project_slug) = deploy_key::preview_key_slugs(preview_deploy_key)?;
    let Some(preview_name) = preview_name else {
        return Err(fail(
            "`npx convex deploy` to a preview deployment could not determine the preview name. Provide one using `--preview-name`",
        ));
    };

    if args.dry_run {
        output::success(&format!(
            "Would have claimed preview deployment for \"{preview_name}\""
        ));
        run_cmd(
            ctx,
            args,
            "https://<PREVIEW DEPLOYMENT>.convex.cloud",
            "preview-deployment-admin-key",
            true,
        )
        .await?;
        output::success(&format!(
            "Would have deployed Convex functions to preview deployment for \"{preview_name}\""
        ));
        if let Some(f) = &args.preview_run {
            output::message(&format!("Would have run function \"{f}\""));
        }
        return Ok(());
    }

    let project_selection = ProjectSelection::TeamAndProjectSlugs {
        team_slug: team_slug.clone(),
        project_slug: project_slug.clone(),
    };
    let data = ctx
        .management()?
        .big_brain_post(
            "claim_preview_deployment",
            Some(&json!({
                "projectSelection": project_selection.to_json(),
                "identifier": preview_name,
                "reuse": reuse,
            })),
        )
        .await?
        .unwrap_or(Value::Null);
    let text = |name: &str| data.get(name).and_then(Value::as_str).map(str::to_string);
    let (Some(admin_key), Some(url), Some(deployment_name)) = (
        text("adminKey"),
        text("instanceUrl"),
        text("deploymentName"),
    ) else {
        return Err(fail(
            "Unexpected answer while claiming the preview deployment (no URL or admin key). Try again, and contact Convex support if it persists.",
        ));
    };
    let is_new = data
        .get("isNewDeployment")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let fields = DeploymentFields {
        deployment_name: deployment_name.clone(),
        deployment_type: DeploymentType::Preview,
        team_slug: Some(team_slug),
        project_slug: Some(project_slug),
        reference: text("reference"),
        is_default: false,
    };
    announce::announce_deployment_target(
        "Deploying code to deployment:",
        &url,
        Some(&fields),
        ctx.dashboard_host(),
    );
    warn_about_authkit(ctx, args);
    run_cmd(ctx, args, &url, &admin_key, false).await?;

    let target = PushTarget {
        url: url.clone(),
        admin_key: admin_key.clone(),
        deployment_name: Some(deployment_name),
        deployment_type: Some(DeploymentType::Preview),
    };
    let options = push_options(
        args,
        PushChecks::preview(is_new, args.skip_large_indexes_check),
        false,
        message,
        &ctx.cwd,
    );
    let pusher = pusher.map_err(Failure::from)?;
    output::start_spinner(&format!("Deploying to {url}..."));
    let pushed = pusher.push(ctx, &target, &options, &ConsoleOutput).await;
    pusher.stop();
    let outcome = pushed.map_err(Failure::from)?;
    output::success(&format!("Deployed Convex functions to {url}"));

    if let Some(function) = args.preview_run.as_ref().filter(|_| is_new) {
        let config = ctx.project().config().ok();
        let functions = config
            .as_ref()
            .map(|c| c.functions.clone())
            .unwrap_or_else(|| crate::project::DEFAULT_FUNCTIONS_DIR.to_string());
        let path = push::function_call::parse_function_name(function, &functions, &ctx.cwd)
            .map_err(fail)?;
        let client = ctx.deployment_client(&url, &admin_key)?;
        let http = ctx.http()?;
        let npm_version = push::installed_convex_version(&ctx.cwd)
            .unwrap_or_else(|| crate::REFERENCE_VERSION.to_string());
        // The push report goes out while the function runs, as with the
        // official CLI (whose process is still alive then).
        let report = async {
            if let Some(report) = outcome.completion_report {
                report.send().await;
            }
        };
        let call = push::function_call::FunctionCall {
            display_name: function,
            path: &path,
            component: None,
            npm_version: &npm_version,
        };
        let run = push::function_call::run_function_and_log(&client, &http, &call);
        let ((), result) = tokio::join!(report, run);
        result.map_err(Failure::from)?;
    }
    Ok(())
}
