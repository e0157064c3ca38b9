//! `convex deploy`: flags only for now; the body is built by the deploy issue.
//! Selection: [`crate::credentials::SelectionFlags`] with `implicit_prod`.

use super::{CodegenMode, TypecheckMode};

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

/// Not native yet: the deploy issue builds this body on top of
/// [`crate::credentials`] and [`crate::http`].
pub fn run(_args: Args) -> anyhow::Result<()> {
    Err(crate::error::fail(
        "`convex deploy` is not available in this build of the native CLI yet. \
         Run `npx convex deploy` with the official CLI for now.",
    ))
}
