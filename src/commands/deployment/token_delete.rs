//! `convex deployment token delete <nameOrToken>`.

use crate::commands::SelectionArgs;

/// Delete an access token. Currently only deploy keys are supported.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct Args {
    /// The unique name of the deploy key, or the deploy key value itself.
    #[arg(value_name = "nameOrToken")]
    pub name_or_token: String,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    Err(crate::error::fail("not built yet"))
}
