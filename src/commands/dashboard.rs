//! `convex dashboard` (alias `dash`): open the selected deployment's page of
//! the Convex dashboard, or print its URL on stdout with `--no-open`.
//!
//! Cloud deployments (and local ones) open `<dashboard>/d/<name>`; an
//! anonymous deployment opens the local dashboard that `convex dev` serves,
//! when its saved port answers for that deployment. Self-hosted deployments
//! have no page: a note says so and the command succeeds, as the official
//! CLI does. Without a display (see [`crate::browser`]) the URL is shown on
//! stderr instead of opening a browser.

use anyhow::Result;

use crate::browser::{self, Opened};
use crate::commands::SelectionArgs;
use crate::context::{Context, ContextOptions};
use crate::credentials::{
    DeploymentType, LoadOptions, SelectionFlags, get_deployment_selection,
    load_selected_deployment_credentials,
};
use crate::error::fail;
use crate::output::{self, style};

/// Open the dashboard in the browser
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct Args {
    /// Don't automatically open the dashboard in the default browser
    #[arg(long = "no-open")]
    pub no_open: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

pub fn run(args: Args) -> Result<()> {
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    crate::commands::block_on(dashboard(&ctx, &flags, !args.no_open))
}

async fn dashboard(ctx: &Context, flags: &SelectionFlags, open: bool) -> Result<()> {
    let selection = get_deployment_selection(ctx, flags).await?;
    let deployment = load_selected_deployment_credentials(
        ctx,
        &selection,
        LoadOptions {
            ensure_local_running: false,
        },
    )
    .await?;
    let Some(fields) = deployment.fields else {
        output::warning(&format!(
            "This project uses a self-hosted deployment, which has no page on the Convex dashboard, so {} cannot open it.\nThe self-hosting instructions explain how to run the dashboard yourself.",
            style::bold("npx convex dashboard")
        ));
        return Ok(());
    };
    let name = &fields.deployment_name;
    let url = match &fields.deployment_type {
        DeploymentType::Anonymous => {
            crate::local_backend::saved_dashboard_url(&ctx.dirs, &ctx.cwd, name)
        }
        DeploymentType::Dev
        | DeploymentType::Prod
        | DeploymentType::Preview
        | DeploymentType::Custom
        | DeploymentType::Local => Some(format!("{}/d/{name}", ctx.dashboard_host())),
        DeploymentType::Other(kind) => {
            return Err(fail(format!(
                "Cannot open the dashboard: the deployment {name} has the unknown type \"{kind}\"."
            )));
        }
    };
    if name.starts_with("anonymous-") {
        let not_running = "The local dashboard is not running. Start `npx convex dev` in this project, then run this command again.";
        let Some(url) = url else {
            output::warning(not_running);
            return Ok(());
        };
        if !local_dashboard_serves(ctx, &url, name).await {
            output::warning(not_running);
            return Ok(());
        }
        show_or_open(ctx, &url, open);
        return Ok(());
    }
    let url = url.unwrap_or_else(|| ctx.dashboard_host().to_string());
    show_or_open(ctx, &url, open);
    Ok(())
}

/// Whether the local dashboard at `url` (ending in `/`) is up and serving
/// `deployment_name`: its port is saved per deployment but another
/// anonymous `dev` may have taken it since.
async fn local_dashboard_serves(ctx: &Context, url: &str, deployment_name: &str) -> bool {
    let Ok(http) = ctx.http() else {
        return false;
    };
    let endpoint = format!("{url}api/current_deployment");
    let Ok(response) = http.reqwest_for(&endpoint).get(&endpoint).send().await else {
        return false;
    };
    if response.status() != reqwest::StatusCode::OK {
        return false;
    }
    let Ok(current) = response.json::<serde_json::Value>().await else {
        return false;
    };
    current.get("name").and_then(|n| n.as_str()) == Some(deployment_name)
}

/// `--no-open`: the URL alone on stdout. Otherwise open it, or show it on
/// stderr when no browser can be opened.
fn show_or_open(ctx: &Context, url: &str, open: bool) {
    if !open {
        output::data(url);
        return;
    }
    match browser::open_url(&ctx.process_env, url) {
        Opened::Started => output::note(&format!("Opening {url} in the default browser...")),
        Opened::NoDisplay => output::message(&format!(
            "No display to open a browser on. The dashboard is at:\n{url}"
        )),
        Opened::Failed(why) => output::warning(&format!(
            "Could not open the dashboard in the default browser ({why}).\nOpen it yourself: {url}"
        )),
    }
}
