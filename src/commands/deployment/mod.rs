//! `convex deployment ...`: `select`, `create`, `token create|delete`,
//! `usage` and `usage-limits`.

pub mod create;
pub mod select;
pub mod token_create;
pub mod token_delete;
pub mod usage;

/// Manage deployments in your project.
#[derive(Debug, Clone, clap::Args)]
#[command(subcommand_required = true, arg_required_else_help = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Sub {
    /// Manage access tokens
    Token(TokenArgs),
    /// Select the deployment to use when running commands
    Select(select::Args),
    /// Create a new deployment for a project
    Create(create::Args),
    /// Show current usage for each metric
    Usage(usage::UsageArgs),
    /// List and configure deployment usage limits
    #[command(name = "usage-limits")]
    UsageLimits(usage::LimitsArgs),
}

/// Create and delete access tokens. Currently supports deploy keys.
#[derive(Debug, Clone, clap::Args)]
#[command(subcommand_required = true, arg_required_else_help = true)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenSub,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum TokenSub {
    /// Create an access token
    Create(token_create::Args),
    /// Delete an access token
    Delete(token_delete::Args),
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Sub::Token(token) => match token.command {
            TokenSub::Create(a) => token_create::run(a),
            TokenSub::Delete(a) => token_delete::run(a),
        },
        Sub::Usage(a) => usage::run_usage(a),
        Sub::UsageLimits(a) => usage::run_limits(a),
        Sub::Select(a) => select::run(a),
        Sub::Create(a) => create::run(a),
    }
}

/// Select and resolve the deployment a token command acts on (local
/// backends are not probed).
pub(crate) async fn resolve_target(
    ctx: &crate::context::Context,
    flags: &crate::credentials::SelectionFlags,
) -> anyhow::Result<crate::credentials::DeploymentCredentials> {
    let selection = crate::credentials::get_deployment_selection(ctx, flags).await?;
    crate::credentials::load_selected_deployment_credentials(
        ctx,
        &selection,
        crate::credentials::LoadOptions {
            ensure_local_running: false,
        },
    )
    .await
}

/// The deployment name, or the refusal for deployments that have no deploy
/// keys (self-hosted, local, anonymous). `verb`: "create" or "delete".
pub(crate) fn describe_refusal(
    target: crate::credentials::DeploymentCredentials,
    verb: &str,
) -> anyhow::Result<String> {
    let Some(fields) = target.fields else {
        return Err(crate::error::fail(format!(
            "Cannot {verb} a deploy key for a self-hosted deployment: deploy keys exist only for Convex Cloud deployments. Use the deployment's admin key instead."
        )));
    };
    if fields.deployment_type.is_local() {
        let kind = fields.deployment_type.as_str();
        let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        return Err(crate::error::fail(format!(
            "Cannot {verb} a deploy key for {article} {kind} deployment ({}): it runs on this machine and needs no deploy key.",
            fields.deployment_name
        )));
    }
    Ok(fields.deployment_name)
}
