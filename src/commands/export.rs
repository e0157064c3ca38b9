//! `convex export --path <zip or folder> [--include-file-storage]`: request a
//! snapshot export of the selected deployment, wait for it, download the ZIP
//! (see [`crate::snapshot::export`]).

use anyhow::Result;

use crate::commands::SelectionArgs;
use crate::context::{Context, ContextOptions};
use crate::credentials::{self, LoadOptions};
use crate::output::style;
use crate::snapshot::{self, export::ExportOptions};

/// Export data from your deployment to a ZIP file
///
/// Export data, and optionally file storage, from your Convex deployment to a ZIP file.
///
/// • Export to a directory: `npx convex export --path dir/`
/// • Export to a ZIP file: `npx convex export --path snapshot.zip`
/// • Include file storage: `npx convex export --include-file-storage --path dir/`
///
/// By default, this exports from your dev deployment.
///
/// See the data export guide (https://docs.convex.dev/database/import-export/export) for details and use cases.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct Args {
    /// Exports data into a ZIP file at this path, which may be a directory or unoccupied .zip path
    #[arg(long, value_name = "zipFilePath")]
    pub path: String,
    /// Includes stored files (https://dashboard.convex.dev/deployment/files) in a _storage folder within the ZIP file
    #[arg(long = "include-file-storage")]
    pub include_file_storage: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

pub fn run(args: Args) -> Result<()> {
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    ctx.project().ensure_has_convex_dependency("export")?;
    super::block_on(async {
        let selection = credentials::get_deployment_selection(&ctx, &flags).await?;
        let deployment = credentials::load_selected_deployment_credentials(
            &ctx,
            &selection,
            LoadOptions::default(),
        )
        .await?;
        let client = ctx.deployment_client(&deployment.url, &deployment.admin_key)?;
        let name = deployment
            .fields
            .as_ref()
            .map(|f| f.deployment_name.as_str());
        let options = ExportOptions {
            path: &args.path,
            include_storage: args.include_file_storage,
            deployment_notice: prod_notice(args.selection.prod),
            dashboard_link: snapshot::dashboard_page(
                ctx.dashboard_host(),
                name,
                "/settings/snapshots",
            ),
            cwd: &ctx.cwd,
        };
        snapshot::export::export_from_deployment(&client, &ctx.http()?, &options).await
    })
}

/// `" in your prod deployment"` when `--prod` was given (not for
/// `--deployment prod`), as the official CLI words it.
pub(crate) fn prod_notice(prod: bool) -> String {
    if prod {
        format!(" in your {} deployment", style::bold("prod"))
    } else {
        String::new()
    }
}
