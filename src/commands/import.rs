//! `convex import [--table <t>] <path>`: upload a CSV, JSON, JSONL or ZIP
//! file to the selected deployment and import it (see
//! [`crate::snapshot::import`]).

use anyhow::Result;

use crate::commands::SelectionArgs;
use crate::context::{Context, ContextOptions};
use crate::credentials::{self, LoadOptions};
use crate::env_vars;
use crate::snapshot::{
    self,
    import::{ImportMode, ImportOptions},
    import_file::ImportFormat,
};

/// Import data from a file to your deployment
///
/// Import data from a file to your Convex deployment.
///
/// • From a snapshot: `npx convex import snapshot.zip`
/// • For a single table: `npx convex import --table tableName file.json`
///
/// By default, this imports into your dev deployment.
///
/// See the data import guide (https://docs.convex.dev/database/import-export/import) for details and use cases.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct Args {
    /// Path to the input file
    #[arg(value_name = "path")]
    pub path: String,
    /// Destination table name. Required if format is csv, jsonLines, or jsonArray. Not supported if format is zip.
    #[arg(long, value_name = "table")]
    pub table: Option<String>,
    /// Replace all existing data in any of the imported tables
    #[arg(long)]
    pub replace: bool,
    /// Append imported data to any existing tables
    #[arg(long)]
    pub append: bool,
    /// Replace all existing data in the deployment with the imported tables,
    /// deleting tables that don't appear in the import file or the schema,
    /// and clearing tables that appear in the schema but not in the import file
    #[arg(long = "replace-all", verbatim_doc_comment)]
    pub replace_all: bool,
    /// Skip confirmation prompt when import leads to deleting existing documents
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Input file format. This flag is only required if the filename is missing an extension.
    /// - CSV files must have a header, and each row's entries are interpreted either as a (floating point) number or a string.
    /// - JSON files must be an array of JSON objects.
    /// - JSONLines files must have a JSON object per line.
    /// - ZIP files must have one directory per table, containing <table>/documents.jsonl. Snapshot exports from the Convex dashboard have this format.
    #[arg(long, value_enum, value_name = "format", verbatim_doc_comment)]
    pub format: Option<ImportFormat>,
    /// Path to the component (e.g. "workflow" or "workflow/workpool")
    #[arg(long, value_name = "path")]
    pub component: Option<String>,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

impl Args {
    /// The mode; of several mode flags `--append` wins, then `--replace`,
    /// as in the official CLI (whose parser does not enforce the documented
    /// conflict). The others are named in a warning.
    fn mode(&self) -> ImportMode {
        let given: Vec<&str> = [
            (self.append, "--append"),
            (self.replace, "--replace"),
            (self.replace_all, "--replace-all"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect();
        if given.len() > 1 {
            crate::output::warning(&format!(
                "{} cannot be combined; importing with {} and ignoring {}.",
                given.join(", "),
                given[0],
                given[1..].join(", ")
            ));
        }
        if self.append {
            ImportMode::Append
        } else if self.replace {
            ImportMode::Replace
        } else if self.replace_all {
            ImportMode::ReplaceAll
        } else {
            ImportMode::RequireEmpty
        }
    }
}

pub fn run(args: Args) -> Result<()> {
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    ctx.project().ensure_has_convex_dependency("import")?;
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
        let dashboard_link = match name {
            Some(_) => snapshot::dashboard_page(ctx.dashboard_host(), name, "/settings/snapshots"),
            None => format!("{}/deployment/settings/snapshots", ctx.dashboard_host()),
        };
        let options = ImportOptions {
            path: &args.path,
            cwd: &ctx.cwd,
            table: args.table.as_deref(),
            format: args.format,
            mode: args.mode(),
            yes: args.yes,
            component: args.component.as_deref(),
            deployment_notice: super::export::prod_notice(args.selection.prod),
            dashboard_link,
            chunk_size_var: ctx.process_env.get(env_vars::CONVEX_IMPORT_CHUNK_SIZE),
        };
        snapshot::import::import_into_deployment(&client, &ctx.http()?, &options).await
    })
}
