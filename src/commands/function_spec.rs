//! `convex function-spec [--file]`: the deployment's functions with their
//! argument and return validators, as JSON (stdout, or a file).

use anyhow::Result;

use crate::commands::SelectionArgs;
use crate::context::{Context, ContextOptions};
use crate::error::fail;
use crate::output;

/// List argument and return values to your Convex functions.
///
/// By default, this inspects your dev deployment.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct Args {
    /// Output as JSON to a file.
    #[arg(long)]
    pub file: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

pub fn run(args: Args) -> Result<()> {
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    crate::commands::block_on(async {
        let selection = crate::credentials::get_deployment_selection(&ctx, &flags).await?;
        let deployment = crate::credentials::load_selected_deployment_credentials(
            &ctx,
            &selection,
            crate::credentials::LoadOptions::default(),
        )
        .await?;
        let spec = crate::data_plane::functions::function_spec(
            &ctx.http()?,
            &deployment.url,
            &deployment.admin_key,
        )
        .await?;
        if args.file {
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            let name = format!("function_spec_{millis}.json");
            crate::fsutil::write_atomic(&ctx.cwd.join(&name), spec.as_bytes(), None)
                .map_err(|e| fail(format!("Could not write {name}: {e}")))?;
            output::data(&format!("Wrote function spec to {name}"));
        } else {
            output::data(&spec);
        }
        Ok(())
    })
}
