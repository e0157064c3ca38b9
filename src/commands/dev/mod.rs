//! `convex dev`: flags only for now; the body is built by the dev issue.

use super::{CodegenMode, TypecheckMode};

/// `--tail-logs [mode]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TailLogs {
    Always,
    PauseOnDeploy,
    Disable,
}

/// `--configure [choice]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfigureChoice {
    New,
    Existing,
}

/// `--dev-deployment <mode>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DevDeploymentMode {
    Cloud,
    Local,
}

/// Develop against a dev deployment, watching for changes
///
///   1. Configures a new or existing project (if needed)
///   2. Updates generated types and pushes code to the configured dev deployment
///   3. Runs the provided command (if `--start` or `--run` is used)
///   4. Watches for file changes, and repeats step 2
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct Args {
    /// Show full listing of changes
    #[arg(short, long)]
    pub verbose: bool,
    /// Check TypeScript files with `tsc --noEmit`.
    #[arg(long, value_enum, value_name = "mode", default_value_t = TypecheckMode::Try)]
    pub typecheck: TypecheckMode,
    /// Check TypeScript files within component implementations with `tsc --noEmit`.
    #[arg(long = "typecheck-components")]
    pub typecheck_components: bool,
    /// Regenerate code in `convex/_generated/`
    #[arg(long, value_enum, value_name = "mode", default_value_t = CodegenMode::Enable)]
    pub codegen: CodegenMode,
    /// Push all modules without checking for unchanged module hashes from the server
    #[arg(long = "push-all-modules", hide = true)]
    pub push_all_modules: bool,
    /// Execute only the first 3 steps, stop on any failure
    #[arg(long)]
    pub once: bool,
    /// Execute only the first 3 steps, on failure watch for local and remote changes and retry steps 2 and 3
    #[arg(long = "until-success")]
    pub until_success: bool,
    /// Start a long-running command alongside `npx convex dev`, like a frontend dev server.
    #[arg(long, value_name = "command")]
    pub start: Option<String>,
    /// Deprecated: use --start instead.
    #[arg(long = "run-sh", value_name = "command", hide = true)]
    pub run_sh: Option<String>,
    /// The identifier of the function to run in step 3, like `api.init.createData` or `myDir/myFile:myFunction`
    #[arg(long, value_name = "functionName")]
    pub run: Option<String>,
    /// If --run is used and the function is in a component, the path to the component.
    #[arg(long = "run-component", value_name = "functionName")]
    pub run_component: Option<String>,
    /// Choose whether to tail Convex function logs in this terminal:
    /// always, pause-on-deploy (the default) or disable.
    #[arg(long = "tail-logs", value_enum, value_name = "mode", num_args = 0..=1)]
    pub tail_logs: Option<Option<TailLogs>>,
    #[arg(long = "trace-events", hide = true)]
    pub trace_events: bool,
    #[arg(long = "debug-bundle-path", value_name = "path", hide = true)]
    pub debug_bundle_path: Option<String>,
    #[arg(long = "debug-node-apis", hide = true)]
    pub debug_node_apis: bool,
    #[arg(long = "live-component-sources", hide = true)]
    pub live_component_sources: bool,
    /// Ignore existing configuration and configure new or existing project.
    #[arg(long, value_enum, value_name = "choice", num_args = 0..=1)]
    pub configure: Option<Option<ConfigureChoice>>,
    /// The team you'd like to use for this project
    #[arg(long, value_name = "team_slug", hide = true)]
    pub team: Option<String>,
    /// The name of the project you'd like to configure
    #[arg(long, value_name = "project_slug", hide = true)]
    pub project: Option<String>,
    /// Use a local or cloud deployment for dev for this project
    #[arg(long = "dev-deployment", value_enum, value_name = "mode", hide = true)]
    pub dev_deployment: Option<DevDeploymentMode>,
    /// Develop live against this project's production deployment.
    #[arg(long, hide = true)]
    pub prod: bool,
    #[arg(long = "allow-unstaging-schema", hide = true)]
    pub allow_unstaging_schema: bool,
    /// Path to a custom file of environment variables, for choosing the
    /// deployment, e.g. CONVEX_DEPLOYMENT or CONVEX_SELF_HOSTED_URL.
    #[arg(long = "env-file", value_name = "envFile")]
    pub env_file: Option<String>,
    #[arg(long = "skip-push", hide = true)]
    pub skip_push: bool,
    #[arg(long = "admin-key", value_name = "adminKey", hide = true)]
    pub admin_key: Option<String>,
    #[arg(long, value_name = "url", hide = true)]
    pub url: Option<String>,
    #[arg(long = "override-auth-url", value_name = "url", hide = true)]
    pub override_auth_url: Option<String>,
    #[arg(long = "override-auth-client", value_name = "id", hide = true)]
    pub override_auth_client: Option<String>,
    #[arg(long = "override-auth-username", value_name = "username", hide = true)]
    pub override_auth_username: Option<String>,
    #[arg(long = "override-auth-password", value_name = "password", hide = true)]
    pub override_auth_password: Option<String>,
    #[arg(long = "local-cloud-port", value_name = "port", hide = true)]
    pub local_cloud_port: Option<String>,
    #[arg(long = "local-site-port", value_name = "port", hide = true)]
    pub local_site_port: Option<String>,
    #[arg(long = "local-backend-version", value_name = "version", hide = true)]
    pub local_backend_version: Option<String>,
    #[arg(long = "local-force-upgrade", hide = true)]
    pub local_force_upgrade: bool,
    #[arg(long, value_name = "deployment", hide = true)]
    pub deployment: Option<String>,
    #[arg(long, hide = true)]
    pub local: bool,
    #[arg(long, hide = true)]
    pub cloud: bool,
}

/// Not native yet: the dev issue builds this body on top of
/// [`crate::credentials`] and [`crate::http`].
pub fn run(_args: Args) -> anyhow::Result<()> {
    Err(crate::error::fail(
        "`convex dev` is not available in this build of the native CLI yet. \
         Run `npx convex dev` with the official CLI for now.",
    ))
}
