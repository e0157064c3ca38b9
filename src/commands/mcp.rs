//! `convex mcp start`: run the Model Context Protocol server on stdio
//! ([`crate::mcp`]) with the official CLI's flags.

use anyhow::Result;

use crate::commands::SelectionArgs;
use crate::context::{Context, ContextOptions};
use crate::error::fail;
use crate::mcp::request::McpOptions;
use crate::mcp::tools;

/// Commands to initialize and run a Model Context Protocol server for Convex that can be used with AI tools.
/// This server exposes your Convex codebase to AI tools in a structured way.
#[derive(Debug, Clone, clap::Args)]
#[command(
    subcommand_required = true,
    arg_required_else_help = true,
    verbatim_doc_comment
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Sub {
    /// Start the MCP server
    Start(StartArgs),
}

/// The `--disable-tools` help: the tool names in JavaScript's sort order.
const DISABLE_TOOLS_HELP: &str = "Comma separated list of tool names to disable (options: data, envGet, envList, envRemove, envSet, functionSpec, insights, logs, run, runOneoffQuery, status, tables)";

/// Start the Model Context Protocol server for Convex that can be used with
/// AI tools. It reads JSON-RPC messages on stdin and answers on stdout; its
/// own messages go to stderr.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct StartArgs {
    /// Run the MCP server for a single project. By default, the MCP server
    /// can run for multiple projects, and each tool call specifies its
    /// project directory.
    #[arg(long = "project-dir", value_name = "project-dir")]
    pub project_dir: Option<String>,
    #[arg(long = "disable-tools", value_name = "tool-names", help = DISABLE_TOOLS_HELP)]
    pub disable_tools: Option<String>,
    /// Allow read-only tools (data, logs, queries) on production
    /// deployments. These tools may expose PII. Defaults to false.
    #[arg(long = "cautiously-allow-production-pii")]
    pub cautiously_allow_production_pii: bool,
    /// DANGEROUSLY allow the MCP server to access production deployments,
    /// including mutating tools. Defaults to false.
    #[arg(long = "dangerously-enable-production-deployments")]
    pub dangerously_enable_production_deployments: bool,
    /// Deprecated and ignored: production deployments are disabled unless
    /// --dangerously-enable-production-deployments is given.
    #[arg(long = "disable-production-deployments", hide = true)]
    pub disable_production_deployments: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

pub fn run(args: Args) -> Result<()> {
    match args.command {
        Sub::Start(start) => run_start(start),
    }
}

fn run_start(args: StartArgs) -> Result<()> {
    // As the official CLI: a bad --disable-tools stops here, before any
    // client connects.
    let enabled = tools::enabled_tools(args.disable_tools.as_deref())
        .map_err(|e| fail(format!("Failed to start MCP server: {e}")))?;
    let flags = args.selection.to_flags();
    // The environment is read (and checked) as for any command; each tool
    // call then reads its own project's settings.
    let ctx = Context::new(ContextOptions::from(&flags))?;
    // stdout carries protocol messages only from here on.
    crate::output::reserve_stdout_for_protocol();
    let options = McpOptions {
        project_dir: args.project_dir,
        cautiously_allow_production_pii: args.cautiously_allow_production_pii,
        dangerously_enable_production_deployments: args.dangerously_enable_production_deployments,
        selection: flags,
        enabled,
        launch_dir: ctx.cwd.clone(),
        home: ctx.home.clone(),
    };
    drop(ctx);
    crate::commands::block_on(crate::mcp::serve(options))
}

#[cfg(test)]
mod tests {
    #[test]
    fn disable_tools_help_lists_every_tool() {
        assert!(super::DISABLE_TOOLS_HELP.ends_with(&format!(
            "(options: {})",
            crate::mcp::tools::sorted_names().join(", ")
        )));
    }
}
