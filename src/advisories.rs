//! The advisory checks `dev` and `deploy` run next to a push to a cloud
//! deployment: the team's usage state (a warning when projects are disabled
//! or near the free limits) and the version API's message plus the AI-files
//! staleness hint. Failures are only logged verbosely: they must never stop
//! a push.

use std::path::Path;

use serde_json::Value;

use crate::context::Context;
use crate::credentials::ManagementAuth;
use crate::env_vars;
use crate::output::style;
use crate::project::ProjectConfig;

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
    let Ok(config) = ProjectConfig::read(&ctx.cwd) else {
        return;
    };
    let functions_dir = config.functions_dir(&ctx.cwd);
    let raw = std::fs::read_to_string(ctx.cwd.join(crate::project::CONVEX_JSON))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let ai_files = raw.as_ref().and_then(|v| v.get("aiFiles"));
    let canonical = |name: &str| version.get(name).and_then(Value::as_str);
    match ai_files_status(
        &ctx.cwd,
        &functions_dir,
        ai_files,
        canonical("guidelinesHash"),
        canonical("agentSkillsSha"),
    ) {
        AiFilesStatus::NotInstalled => crate::output::message(&style::yellow(&format!(
            "Convex AI files are not installed. Run {} to get started or {} to hide this message.",
            style::bold("npx convex ai-files install"),
            style::bold("npx convex ai-files disable")
        ))),
        AiFilesStatus::Stale => crate::output::message(&style::yellow(&format!(
            "Your Convex AI files are out of date. Run {} to get the latest.",
            style::bold("npx convex ai-files update")
        ))),
        AiFilesStatus::Silent => {}
    }
}

#[derive(Debug, PartialEq, Eq)]
enum AiFilesStatus {
    NotInstalled,
    Stale,
    Silent,
}

const MANAGED_START: &str = "<!-- convex-ai-start -->";
const MANAGED_END: &str = "<!-- convex-ai-end -->";

fn ai_files_status(
    project_dir: &Path,
    functions_dir: &Path,
    config: Option<&Value>,
    guidelines_hash: Option<&str>,
    skills_sha: Option<&str>,
) -> AiFilesStatus {
    let disabled = match config.and_then(|c| c.get("enabled")) {
        Some(enabled) => enabled == &Value::Bool(false),
        None => config.and_then(|c| c.get("disableStalenessMessage")) == Some(&Value::Bool(true)),
    };
    if disabled {
        return AiFilesStatus::Silent;
    }
    let ai_dir = functions_dir.join("_generated").join("ai");
    let state = std::fs::read_to_string(ai_dir.join("ai-files.state.json"))
        .ok()
        .filter(|t| !t.is_empty());
    let state = state.and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let Some(state) = state else {
        let non_empty = |p: &Path| std::fs::read_to_string(p).is_ok_and(|t| !t.is_empty());
        let managed = |p: &Path| {
            std::fs::read_to_string(p)
                .is_ok_and(|t| t.contains(MANAGED_START) && t.contains(MANAGED_END))
        };
        let installed = non_empty(&ai_dir.join("guidelines.md"))
            || managed(&project_dir.join("AGENTS.md"))
            || managed(&project_dir.join("CLAUDE.md"));
        return if installed {
            AiFilesStatus::Silent
        } else {
            AiFilesStatus::NotInstalled
        };
    };
    let stale = |canonical: Option<&str>, key: &str| match (canonical, state.get(key)) {
        (Some(c), Some(Value::String(local))) => local != c,
        _ => false,
    };
    if stale(guidelines_hash, "guidelinesHash") || stale(skills_sha, "agentSkillsSha") {
        AiFilesStatus::Stale
    } else {
        AiFilesStatus::Silent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ai_files_states() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let convex = root.join("convex");
        std::fs::create_dir_all(convex.join("_generated/ai")).unwrap();
        assert_eq!(
            ai_files_status(root, &convex, None, None, None),
            AiFilesStatus::NotInstalled
        );
        assert_eq!(
            ai_files_status(root, &convex, Some(&json!({"enabled": false})), None, None),
            AiFilesStatus::Silent
        );
        std::fs::write(
            root.join("AGENTS.md"),
            "x\n<!-- convex-ai-start -->\n...\n<!-- convex-ai-end -->\n",
        )
        .unwrap();
        assert_eq!(
            ai_files_status(root, &convex, None, None, None),
            AiFilesStatus::Silent
        );
        std::fs::write(
            convex.join("_generated/ai/ai-files.state.json"),
            r#"{"guidelinesHash":"old","agentSkillsSha":null}"#,
        )
        .unwrap();
        assert_eq!(
            ai_files_status(root, &convex, None, Some("new"), None),
            AiFilesStatus::Stale
        );
        assert_eq!(
            ai_files_status(root, &convex, None, Some("old"), Some("x")),
            AiFilesStatus::Silent
        );
    }
}
