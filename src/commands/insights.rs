//! `convex insights [--details] [--json]`: health insights of a cloud
//! deployment over the last 72 hours ([`crate::data_plane::insights`]).

use anyhow::Result;

use crate::commands::SelectionArgs;
use crate::context::{Context, ContextOptions};
use crate::credentials::ManagementAuth;
use crate::data_plane::insights::{fetch_insights, format_insight, insights_deployment_name};
use crate::error::fail;
use crate::output;
use crate::values::{JsValue, stringify};

/// Show health insights for a Convex deployment over the last 72 hours.
/// Displays OCC conflicts and resource limit issues that may indicate performance problems.
///
/// • Show insights: `npx convex insights`
/// • Include recent events for each insight: `npx convex insights --details`
/// • Check the production deployment: `npx convex insights --prod`
///
/// This command is only available for Convex cloud deployments when logged in as a user.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct Args {
    /// Show recent events for each insight
    #[arg(long)]
    pub details: bool,
    /// Output insights as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
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
    let name = insights_deployment_name(&deployment)?;
    if matches!(
        ctx.auth(),
        None | Some(ManagementAuth::DeploymentKey(_)) | Some(ManagementAuth::ProjectKey(_))
    ) {
        return Err(fail(
            "Insights require to be logged in as a user. Deploy keys and project keys cannot access team usage data. Run `npx convex login`, or unset CONVEX_DEPLOY_KEY for this command.",
        ));
    }
    let team = crate::commands::env::team_and_project(ctx, &name).await?;
    let insights = fetch_insights(
        &ctx.management()?,
        team.team_id,
        &name,
        args.details,
        std::time::SystemTime::now(),
    )
    .await?;
    let dashboard_url = format!("{}/d/{name}?view=insights", ctx.dashboard_host());
    if args.json {
        let json = JsValue::Object(vec![
            ("deploymentName".into(), JsValue::String(name.clone())),
            ("dashboardUrl".into(), JsValue::String(dashboard_url)),
            (
                "insights".into(),
                JsValue::Array(insights.iter().map(|i| i.to_js()).collect()),
            ),
        ]);
        output::data(&stringify(&json, 2));
        return Ok(());
    }
    if insights.is_empty() {
        output::data("No issues found. The deployment is healthy over the last 72 hours.");
    } else {
        output::data(&format!(
            "Found {} in the last 72 hours:\n",
            crate::data_plane::insights::count_by_severity(&insights)
        ));
        for insight in &insights {
            output::data(&format_insight(insight, args.details));
        }
    }
    output::data(&format!("\nDashboard: {dashboard_url}"));
    Ok(())
}
