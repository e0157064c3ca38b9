//! `convex auth list|remove|add`: retired commands. Each fails with a pointer
//! to the current authentication docs (exit 1), after the usual start-up
//! checks of the environment, as the official CLI does.

use anyhow::Result;

use crate::context::{Context, ContextOptions};
use crate::error::fail;

/// Removed: authentication is configured as https://docs.convex.dev/auth describes
#[derive(Debug, Clone, clap::Args)]
#[command(subcommand_required = true, arg_required_else_help = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Sub {
    /// Removed
    List,
    /// Removed
    Remove,
    /// Removed
    Add(AddArgs),
}

/// The options `auth add` once took (accepted, unused).
#[derive(Debug, Clone, clap::Args)]
pub struct AddArgs {
    #[arg(long = "identity-provider-url", value_name = "url", hide = true)]
    pub identity_provider_url: Option<String>,
    #[arg(long = "application-id", value_name = "applicationId", hide = true)]
    pub application_id: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    let name = match args.command {
        Sub::List => "list",
        Sub::Remove => "remove",
        Sub::Add(_) => "add",
    };
    Context::new(ContextOptions::default())?;
    Err(fail(format!(
        "`convex auth {name}` no longer exists: the `convex auth` commands were removed. \
         Set up authentication as https://docs.convex.dev/auth describes."
    )))
}
