//! `convex codegen`: flags parsed natively; until the native generator lands
//! the run is handed to the project's own CLI with the original arguments.

use super::TypecheckMode;

/// Generate backend type definitions
///
/// Generate code in `convex/_generated/` based on the current contents of `convex/`.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct Args {
    /// Print out the generated configuration to stdout instead of writing to convex directory
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    #[arg(long, hide = true)]
    pub debug: bool,
    /// Whether to check TypeScript files with `tsc --noEmit`.
    #[arg(long, value_enum, value_name = "mode", default_value_t = TypecheckMode::Try)]
    pub typecheck: TypecheckMode,
    /// Also (over-)write the default convex/README.md and convex/tsconfig.json files.
    #[arg(long)]
    pub init: bool,
    #[arg(long = "admin-key", value_name = "adminKey", hide = true)]
    pub admin_key: Option<String>,
    #[arg(long, value_name = "url", hide = true)]
    pub url: Option<String>,
    #[arg(long = "live-component-sources", hide = true)]
    pub live_component_sources: bool,
    /// Generate CommonJS modules (CJS) instead of ECMAScript modules, the default.
    #[arg(long, hide = true)]
    pub commonjs: bool,
    #[arg(long = "system-udfs", hide = true)]
    pub system_udfs: bool,
    /// Generate code for a specific component directory instead of the current application.
    #[arg(long = "component-dir", value_name = "path")]
    pub component_dir: Option<String>,
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    let code = crate::forward::forward_current_args();
    if code == 0 {
        Ok(())
    } else {
        Err(crate::error::Failure::silent(code).into())
    }
}
