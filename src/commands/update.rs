//! `convex update`: say how to upgrade the `convex` package (on stderr;
//! nothing is sent or written).

use anyhow::Result;

use crate::output::{self, style};

/// Print instructions for updating the convex package
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    output::message(&style::green(
        "What changed in each release: https://news.convex.dev/tag/releases/\n\
         To upgrade the convex package of this project, run:\n\
         npm install convex@latest\n",
    ));
    Ok(())
}
