//! `convex reinit` (hidden, deprecated): always fails, pointing to
//! `npx convex dev --once --configure=existing`, as the official CLI does.

use anyhow::Result;

use crate::context::{Context, ContextOptions};
use crate::error::fail;

/// Reinitialize a Convex project in the local directory if you've lost your convex.json file
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct Args {
    /// The identifier of the team the project belongs to.
    #[arg(long, value_name = "team_slug")]
    pub team: Option<String>,
    /// The identifier of the project you'd like to reinitialize.
    #[arg(long, value_name = "project_slug")]
    pub project: Option<String>,
}

pub fn run(_args: Args) -> Result<()> {
    // The environment is read (and a bad deploy key reported) first, as in
    // the official CLI.
    Context::new(ContextOptions::default())?;
    Err(fail(
        "The `reinit` command is deprecated. Use `npx convex dev --once --configure=existing` instead.",
    ))
}
