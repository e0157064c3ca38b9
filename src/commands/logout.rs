//! `convex logout`: delete `config.json` from the global state folder.

use crate::context::{Context, ContextOptions};

/// Log out of Convex on this machine
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    let ctx = Context::new(ContextOptions::default())?;
    crate::global_config::delete_config(&ctx.dirs)?;
    crate::output::success(
        "You have been logged out of Convex.\n  Run `npx convex dev` (or `npx convex login`) to log in again.",
    );
    Ok(())
}
