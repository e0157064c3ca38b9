//! `convex codegen`: regenerate `convex/_generated/` from the server's
//! analysis of the current code, without changing what the deployment runs.
//!
//! As the official CLI: the push pipeline runs up to `start_push` (which
//! analyses the code but commits nothing) and writes the final generated
//! files; `--dry-run` lists changed files instead, `--init` also writes
//! `convex/tsconfig.json` (and `README.md` for a new functions directory),
//! and the hidden `--system-udfs` is the only offline mode. `--component-dir`
//! pushes a synthetic app that uses only that component (`forCodegen: true`)
//! and generates that component's files alone.

use anyhow::Result;

use super::TypecheckMode;
use crate::context::{Context, ContextOptions};
use crate::credentials::{self, DeploymentSelection, LoadOptions, SelectionFlags};
use crate::error::{Failure, fail};
use crate::local_backend;
use crate::push::codegen_step::{self, CodegenSettings, CodegenWrites};
use crate::push::typecheck::{self, TypecheckOutcome, Typechecker};
use crate::push::{ConsoleOutput, PushChecks, PushOptions, PushOutput, PushTarget, Pusher};

/// Generate backend type definitions
///
/// Generate code in `convex/_generated/` based on the current contents of `convex/`.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct Args {
    /// Print out the generated configuration to stdout instead of writing to convex directory
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    #[arg(long, hide = true)]
    pub debug: bool,
    /// Whether to check TypeScript files with `tsc --noEmit`.
    #[arg(long, value_enum, value_name = "mode", default_value_t = TypecheckMode::Try)]
    pub typecheck: TypecheckMode,
    /// Also (over-)write the default convex/README.md and convex/tsconfig.json files.
    #[arg(long)]
    pub init: bool,
    #[arg(long = "admin-key", value_name = "adminKey", hide = true)]
    pub admin_key: Option<String>,
    #[arg(long, value_name = "url", hide = true)]
    pub url: Option<String>,
    #[arg(long = "live-component-sources", hide = true)]
    pub live_component_sources: bool,
    /// Generate CommonJS modules (CJS) instead of ECMAScript modules, the default.
    #[arg(long, hide = true)]
    pub commonjs: bool,
    #[arg(long = "system-udfs", hide = true)]
    pub system_udfs: bool,
    /// Generate code for a specific component directory instead of the current application.
    #[arg(long = "component-dir", value_name = "path")]
    pub component_dir: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    let flags = SelectionFlags {
        url: args.url.clone(),
        admin_key: args.admin_key.clone(),
        ..Default::default()
    };
    let ctx = Context::new(ContextOptions::from(&flags))?;
    super::block_on(codegen(&ctx, &args, &flags))
}

fn writes(args: &Args) -> CodegenWrites {
    if args.debug {
        CodegenWrites::Debug
    } else if args.dry_run {
        CodegenWrites::DryRun
    } else {
        CodegenWrites::Write
    }
}

async fn codegen(ctx: &Context, args: &Args, flags: &SelectionFlags) -> Result<()> {
    let selection = if args.system_udfs {
        None
    } else {
        Some(credentials::get_deployment_selection(ctx, flags).await?)
    };
    if let Some(DeploymentSelection::Preview { .. }) = &selection {
        return Err(fail(
            "Codegen requires an existing deployment so doesn't support CONVEX_DEPLOY_KEY.\n\
             Generate code in dev and commit it to the repo instead.\n\
             https://docs.convex.dev/understanding/best-practices/other-recommendations#check-generated-code-into-version-control",
        ));
    }
    let creds = match &selection {
        Some(selection) => Some(
            credentials::load_selected_deployment_credentials(
                ctx,
                selection,
                LoadOptions {
                    ensure_local_running: false,
                },
            )
            .await?,
        ),
        None => None,
    };
    // A local deployment that is not running is started for the command
    // and stopped afterwards (the official CLI's `withRunningBackend`).
    let _backend = match &creds {
        Some(creds) => start_local_backend_if_needed(ctx, creds).await?,
        None => None,
    };

    ctx.project()
        .ensure_has_convex_dependency("codegen")
        .map_err(|e| fail(format!("{e:#}")))?;
    let config = ctx.project().config().map_err(|e| fail(format!("{e:#}")))?;
    let functions_dir = config.functions_dir(&ctx.cwd);
    let settings = CodegenSettings::new(&config, writes(args), args.commonjs);
    let output = ConsoleOutput;
    if args.init {
        codegen_step::init(&functions_dir, &settings, &output).map_err(Failure::from)?;
    }

    let Some(creds) = creds else {
        return system_udfs(ctx, args, &config, &functions_dir, &settings, &output).await;
    };
    let target = PushTarget {
        url: creds.url.clone(),
        admin_key: creds.admin_key.clone(),
        deployment_name: creds.fields.as_ref().map(|f| f.deployment_name.clone()),
        deployment_type: creds.fields.as_ref().map(|f| f.deployment_type.clone()),
    };
    let options = PushOptions {
        dry_run: args.dry_run,
        verbose: ctx.env.is_truthy(crate::env_vars::CONVEX_VERBOSE),
        codegen: true,
        codegen_debug: args.debug,
        commonjs: args.commonjs,
        typecheck: args.typecheck,
        live_component_sources: args.live_component_sources,
        checks: PushChecks::none(),
        stop_after_start_push: true,
        codegen_only_component: args.component_dir.as_ref().map(std::path::PathBuf::from),
        ..PushOptions::default()
    };
    let pusher = Pusher::start(ctx).map_err(Failure::from)?;
    crate::output::start_spinner("Generating code...");
    let result = pusher.push(ctx, &target, &options, &output).await;
    pusher.stop();
    result.map_err(Failure::from)?;
    crate::output::stop_spinner();
    Ok(())
}

async fn start_local_backend_if_needed(
    ctx: &Context,
    creds: &credentials::DeploymentCredentials,
) -> Result<Option<local_backend::LocalBackendProcess>> {
    let Some(fields) = &creds.fields else {
        return Ok(None);
    };
    let kind = match fields.deployment_type {
        credentials::DeploymentType::Local => local_backend::LocalDeploymentKind::Local,
        credentials::DeploymentType::Anonymous => local_backend::LocalDeploymentKind::Anonymous,
        _ => return Ok(None),
    };
    let http = ctx.http()?;
    let status =
        local_backend::backend_status(http.reqwest(), &creds.url, &fields.deployment_name).await;
    if status == local_backend::BackendStatus::Running {
        return Ok(None);
    }
    let access_token = ctx
        .auth()
        .filter(|a| a.is_access_token())
        .map(|a| a.secret().to_string());
    let process = local_backend::LocalBackends::from_context(ctx)?
        .start_saved_deployment(kind, &fields.deployment_name, access_token)
        .await?;
    Ok(Some(process))
}

/// `--system-udfs`: the legacy generated files, written offline, then a
/// typecheck of the functions directory.
async fn system_udfs(
    ctx: &Context,
    args: &Args,
    config: &crate::project::ProjectConfig,
    functions_dir: &std::path::Path,
    settings: &CodegenSettings,
    output: &dyn PushOutput,
) -> Result<()> {
    if args.typecheck != TypecheckMode::Disable {
        output.note("Running TypeScript typecheck…");
    }
    codegen_step::system_udfs(functions_dir, settings, output).map_err(Failure::from)?;
    let checker = Typechecker::new(args.typecheck, &ctx.cwd, config.typescript_compiler);
    match checker
        .check(functions_dir, output)
        .await
        .map_err(Failure::from)?
    {
        TypecheckOutcome::Failed { diagnostics, .. } => {
            Err(Failure::from(typecheck::failure(checker.kind.as_str(), &diagnostics)).into())
        }
        _ => Ok(()),
    }
}
