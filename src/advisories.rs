//! The advisory checks `dev` and `deploy` run next to a push to a cloud
//! deployment: the team's usage state (a warning when projects are disabled
//! or near the free limits) and the version API's message plus the AI-files
//! staleness hint. Failures are only logged verbosely: they must never stop
//! a push.

use serde_json::Value;

use crate::ai_files::Staleness;
use crate::context::Context;
use crate::credentials::ManagementAuth;
use crate::env_vars;
use crate::output::style;

/// Both checks side by side, for the cloud deployment `deployment_name`.
pub async fn check_all(ctx: &Context, deployment_name: &str) {
    tokio::join!(
        usage_state_warning(ctx, deployment_name),
        version_and_ai_files_check(ctx)
    );
}

/// `GET /api/deployment/<name>/team_and_project`, then the team's usage and
/// spending-limit states in parallel; prints a three-line warning when they
/// call for one. Only with an account token (not deploy keys), not in agent
/// mode, not for anonymous deployments.
pub async fn usage_state_warning(ctx: &Context, deployment_name: &str) {
    let auth = ctx.auth();
    if !auth.as_ref().is_some_and(ManagementAuth::is_access_token)
        || ctx.env.get(env_vars::CONVEX_AGENT_MODE) == Some("anonymous")
        || deployment_name.starts_with("anonymous-")
    {
        return;
    }
    let Ok(management) = ctx.management() else {
        return;
    };
    let owner = match management
        .big_brain_get(&format!("deployment/{deployment_name}/team_and_project"))
        .await
    {
        Ok(Some(owner)) => owner,
        Ok(None) => return,
        Err(e) => {
            crate::output::verbose(&format!("Skipping usage state warning: {e}"));
            return;
        }
    };
    let (Some(team_id), Some(team)) = (
        owner.get("teamId").and_then(Value::as_i64),
        owner.get("team").and_then(Value::as_str),
    ) else {
        return;
    };
    let usage_path = format!("dashboard/teams/{team_id}/usage/team_usage_state");
    let limits_path = format!("dashboard/teams/{team_id}/get_spending_limits");
    let (usage, limits) = tokio::join!(
        management.big_brain_get(&usage_path),
        management.big_brain_get(&limits_path)
    );
    let (Ok(usage), Ok(limits)) = (usage, limits) else {
        crate::output::verbose("Skipping usage state warning: the usage requests failed");
        return;
    };
    let field = |v: &Option<Value>, name: &str| {
        v.as_ref()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let warning = match (
        field(&limits, "state").as_deref(),
        field(&usage, "usageState").as_deref(),
    ) {
        (Some("Disabled"), _) => Some((
            "Your projects are disabled because you exceeded your spending limit.",
            "Increase it from the dashboard to re-enable your projects.",
        )),
        (_, Some("Approaching")) => Some((
            "Your projects are approaching the Free plan limits.",
            "Consider upgrading to avoid service interruption.",
        )),
        (_, Some("Exceeded")) => Some((
            "Your projects are above the Free plan limits.",
            "Decrease your usage or upgrade to avoid service interruption.",
        )),
        (_, Some("Disabled")) => Some((
            "Your projects are disabled because the team exceeded Free plan limits.",
            "Decrease your usage or upgrade to reenable your projects.",
        )),
        (_, Some("Paused")) => Some((
            "Your projects are disabled because the team previously exceeded Free plan limits.",
            "Restore your projects by going to the dashboard.",
        )),
        _ => None,
    };
    if let Some((title, advice)) = warning {
        crate::output::warning(&style::bold(&style::yellow(title)));
        crate::output::warning(&style::yellow(advice));
        crate::output::warning(&style::yellow(&format!(
            "Visit {}/t/{team} to learn more.",
            ctx.dashboard_host()
        )));
    }
}

/// `GET /v1/version`: print its message, if any, then say when the
/// project's Convex AI files are missing or out of date.
pub async fn version_and_ai_files_check(ctx: &Context) {
    let Ok(client) = ctx.version_client() else {
        return;
    };
    let version = match client.get("/v1/version").await {
        Ok(Some(version)) => version,
        Ok(None) => return,
        Err(e) => {
            crate::output::verbose(&format!("Version check failed: {e}"));
            return;
        }
    };
    if let Some(message) = version.get("message").and_then(Value::as_str)
        && !message.is_empty()
    {
        crate::output::message(message);
    }
    let Ok(config) = ctx.project().config() else {
        return;
    };
    let paths = crate::ai_files::AiFilesPaths {
        project_dir: ctx.cwd.clone(),
        convex_dir: config.functions_dir(&ctx.cwd),
    };
    let ai_config = crate::ai_files::AiFilesConfig::new(config.ai_files.as_ref());
    let canonical = |name: &str| version.get(name).and_then(Value::as_str);
    match crate::ai_files::staleness(
        &paths,
        &ai_config,
        canonical("guidelinesHash"),
        canonical("agentSkillsSha"),
    ) {
        Staleness::NotInstalled => crate::output::message(&style::yellow(&format!(
            "Convex AI files are not installed. Run {} to get started or {} to hide this message.",
            style::bold("npx convex ai-files install"),
            style::bold("npx convex ai-files disable")
        ))),
        Staleness::Stale => crate::output::message(&style::yellow(&format!(
            "Your Convex AI files are out of date. Run {} to get the latest.",
            style::bold("npx convex ai-files update")
        ))),
        Staleness::Silent => {}
    }
}
