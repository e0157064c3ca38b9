//! `convex deployment ...`: `token create|delete` are native; `select`,
//! `create`, `usage` and `usage-limits` run the project's own CLI.

pub mod token_create;
pub mod token_delete;

use crate::cli::Forwarded;

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
    Select(Forwarded),
    /// Create a new deployment
    Create(Forwarded),
    /// Show usage of a deployment
    Usage(Forwarded),
    /// Manage usage limits of a deployment
    #[command(name = "usage-limits")]
    UsageLimits(Forwarded),
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
        Sub::Select(_) | Sub::Create(_) | Sub::Usage(_) | Sub::UsageLimits(_) => {
            let code = crate::forward::forward_current_args();
            if code == 0 {
                Ok(())
            } else {
                Err(crate::error::Failure::silent(code).into())
            }
        }
    }
}
