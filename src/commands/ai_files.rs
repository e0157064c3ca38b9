//! `convex ai-files status|install|enable|update|disable|remove`: manage
//! the Convex AI files of the project (see [`crate::ai_files`]).
//!
//! Every subcommand reads `convex.json` first (an invalid one fails the
//! command); the files go where its `functions` folder says.

use anyhow::Result;

use crate::ai_files::{self, AiFilesConfig, AiFilesPaths};
use crate::context::{Context, ContextOptions};
use crate::error::fail;
use crate::output::{self, style};

/// Manage Convex AI files
///
/// Convex AI files help AI coding assistants (Cursor, Claude Code, etc.)
/// understand Convex patterns and APIs. They are set up during your first
/// `npx convex dev` and can be managed at any time with the commands below.
#[derive(Debug, Clone, clap::Args)]
#[command(
    subcommand_required = true,
    arg_required_else_help = true,
    disable_help_subcommand = true
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Sub {
    /// Show the current status of Convex AI files
    ///
    /// Prints whether Convex AI files are enabled and, for the guidelines,
    /// AGENTS.md, CLAUDE.md and the agent skills, whether they are installed
    /// and current (asking the version API; offline, that part is skipped).
    Status(NoArgs),
    /// Install or refresh Convex AI files
    ///
    /// Writes convex/_generated/ai/guidelines.md, the Convex section of
    /// AGENTS.md and CLAUDE.md, and the agent skills (for the coding agents
    /// named in convex.json's aiFiles.skills.agents).
    Install(NoArgs),
    /// Enable Convex AI files
    ///
    /// Sets `aiFiles.enabled: true` in convex.json, then installs or
    /// refreshes the AI files.
    Enable(NoArgs),
    /// Update Convex AI files to the latest version
    Update(NoArgs),
    /// Disable Convex AI files without removing them
    ///
    /// Sets `aiFiles.enabled: false` in convex.json, so `npx convex dev`
    /// stops offering to install them and says nothing when they are out of
    /// date. Installed files stay; `npx convex ai-files remove` deletes them.
    Disable(NoArgs),
    /// Remove all Convex AI files from the project
    ///
    /// Deletes convex/_generated/ai/, the Convex sections of AGENTS.md and
    /// CLAUDE.md (a file left empty is deleted, otherwise the rest is kept)
    /// and the Convex agent skills. Skills from elsewhere stay.
    Remove(NoArgs),
}

/// A subcommand without options.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct NoArgs {}

pub fn run(args: Args) -> Result<()> {
    let ctx = Context::new(ContextOptions::default())?;
    let config = ctx
        .project()
        .config()
        .map_err(|e| fail(format!("Could not read the project configuration: {e:#}")))?;
    let paths = AiFilesPaths {
        project_dir: ctx.cwd.clone(),
        convex_dir: config.functions_dir(&ctx.cwd),
    };
    let ai_config = AiFilesConfig::new(config.ai_files.as_ref());
    crate::commands::block_on(async move {
        let client = ctx.version_client()?;
        match args.command {
            Sub::Install(_) | Sub::Update(_) => {
                let updated = matches!(args.command, Sub::Update(_));
                if !ai_files::install(&paths, &ai_config, &client).await? {
                    return Err(fail(
                        "Some Convex AI files could not be installed (see above); the others were written.",
                    ));
                }
                output::success(if updated {
                    "Convex AI files updated."
                } else {
                    "Convex AI files installed."
                });
                Ok(())
            }
            Sub::Enable(_) => {
                ai_files::install(&paths, &ai_config, &client).await?;
                ai_files::write_config(&paths.project_dir, &ai_config.with_enabled(true))
            }
            Sub::Disable(_) => {
                ai_files::write_config(&paths.project_dir, &ai_config.with_enabled(false))?;
                output::success(&format!(
                    "Convex AI files disabled. Run {} to turn them back on.",
                    style::bold("npx convex ai-files enable")
                ));
                Ok(())
            }
            Sub::Status(_) => ai_files::status(&paths, &ai_config, &client).await,
            Sub::Remove(_) => ai_files::remove(&paths, &client).await,
        }
    })
}
