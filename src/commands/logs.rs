//! `convex logs`: stream a deployment's function logs to stdout
//! ([`crate::data_plane::logs`]).

use anyhow::Result;

use crate::commands::SelectionArgs;
use crate::context::{Context, ContextOptions};
use crate::data_plane::logs::{History, LogOptions, watch_logs};
use crate::output::{self, style};

/// Stream function logs from your Convex deployment.
/// By default, this streams from your project's dev deployment.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct Args {
    /// Show `n` most recent logs. Defaults to showing all available logs.
    #[arg(long, value_name = "n", num_args = 0..=1, value_parser = parse_number)]
    pub history: Option<Option<f64>>,
    /// Print a log line for every successful function execution
    #[arg(long)]
    pub success: bool,
    /// Output raw log events as JSONL
    #[arg(long)]
    pub jsonl: bool,
    /// Deprecated: `convex logs` already tails. Accepted as `--history`.
    #[arg(long, value_name = "n", num_args = 0..=1, value_parser = parse_number, hide = true)]
    pub tail: Option<Option<f64>>,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

fn parse_number(value: &str) -> Result<f64, String> {
    let n = crate::commands::data::js_to_number(value);
    if n.is_nan() {
        return Err("Not a number.".into());
    }
    Ok(n)
}

pub fn run(args: Args) -> Result<()> {
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    crate::commands::block_on(run_async(&ctx, &flags, &args))
}

async fn run_async(
    ctx: &Context,
    flags: &crate::credentials::SelectionFlags,
    args: &Args,
) -> Result<()> {
    let deployment = crate::credentials::select_deployment_credentials(
        ctx,
        flags,
        crate::credentials::LoadOptions::default(),
    )
    .await?;
    crate::push::announce::announce_deployment_target(
        "Showing logs of deployment:",
        &deployment.url,
        deployment.fields.as_ref(),
        ctx.dashboard_host(),
    );
    let name = deployment
        .fields
        .as_ref()
        .map(|f| format!(" {}", f.deployment_name))
        .unwrap_or_default();
    let kind = if flags.prod { "production" } else { "dev" };
    let mut history = args.history;
    if let Some(tail) = args.tail {
        output::warning(
            "`--tail` is unnecessary: `convex logs` already tails by default. Treating it as `--history`.",
        );
        if let (Some(n), None) = (tail, history) {
            history = Some(Some(n));
        }
    }
    let history = match history {
        None => History::None,
        Some(None) => History::All,
        Some(Some(n)) => History::Last(n),
    };
    output::message(&style::yellow(&format!(
        "Watching logs for {kind} deployment{name}..."
    )));
    let client = ctx.deployment_client(&deployment.url, &deployment.admin_key)?;
    let options = LogOptions {
        history,
        success: args.success,
        jsonl: args.jsonl,
        color: false,
    };
    watch_logs(&client, options, output::data, || async {}).await
}
