//! `convex docs`: open the Convex documentation, or show its URL with
//! `--no-open` (on stderr, as the official CLI does; nothing on stdout).
//!
//! Without a display, or when no opener program can be started, the URL is
//! shown instead and the command succeeds (the official CLI dies with
//! "spawn xdg-open ENOENT" when `xdg-open` is missing).

use anyhow::Result;

use crate::browser::{self, Opened};
use crate::env::Env;
use crate::output::{self, style};

/// The documentation's address, tagged as coming from the CLI.
pub const DOCS_URL: &str = "https://docs.convex.dev/?utm_source=convex-cli";

/// Open the docs in the browser
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct Args {
    /// Print docs URL instead of opening it in your browser
    #[arg(long = "no-open")]
    pub no_open: bool,
}

pub fn run(args: Args) -> Result<()> {
    if args.no_open {
        output::message(&style::green(&format!("The Convex docs are at {DOCS_URL}")));
        return Ok(());
    }
    match browser::open_url(&Env::from_process(), DOCS_URL) {
        Opened::Started => {
            output::message(&style::green("Opened the Convex docs in your browser."))
        }
        Opened::NoDisplay => output::message(&format!(
            "No display to open a browser on. The Convex docs are at:\n{DOCS_URL}"
        )),
        Opened::Failed(why) => output::warning(&format!(
            "Could not open a browser ({why}). The Convex docs are at:\n{DOCS_URL}"
        )),
    }
    Ok(())
}
