//! `convex deployment token create <name> [--save-env [path]]`.

use crate::commands::SelectionArgs;

/// Creates a deploy key that, when set as `CONVEX_DEPLOY_KEY`, scopes all
/// commands to the target deployment.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct Args {
    /// Name for the new deploy key
    #[arg(value_name = "name")]
    pub name: String,
    /// Save the new key as CONVEX_DEPLOY_KEY in an env file instead of
    /// printing it. Defaults to .env.local.
    #[arg(long = "save-env", value_name = "path", num_args = 0..=1)]
    pub save_env: Option<Option<String>>,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    Err(crate::error::fail("not built yet"))
}
