//! Convex agent skills: installed and removed by the third-party `skills`
//! installer (`npx --yes skills@latest add convex/agent-skills …`), exactly
//! as the official CLI does. That tool fetches the skills from GitHub and
//! knows where each coding agent keeps them; it is an npm program, so this
//! step (and only this step of `ai-files`) needs Node and npx. When they are
//! missing or refuse to run, the step fails with a message and the other AI
//! files are still written.

use std::path::Path;
use std::process::Stdio;

use crate::output::{self, style};

/// The agents skills are installed for when `convex.json` names none.
pub const DEFAULT_AGENTS: [&str; 2] = ["claude-code", "codex"];

/// `npx` as a program name (`npx.cmd` on Windows, which `Command` cannot
/// find by its bare name).
fn npx() -> &'static str {
    if cfg!(windows) { "npx.cmd" } else { "npx" }
}

/// Runs `npx --yes skills@latest <args>` in `cwd`; on failure shows the last
/// ten lines of its output. Returns whether it exited 0.
async fn run_skills(cwd: &Path, args: &[String]) -> bool {
    let output = tokio::process::Command::new(npx())
        .args(["--yes", "skills@latest"])
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await;
    let output = match output {
        Ok(o) => o,
        Err(e) => {
            output::note(&format!(
                "Could not start `npx skills` ({e}); Node.js and npx are needed for agent skills."
            ));
            return false;
        }
    };
    if !output.status.success() {
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        let text = text.trim();
        if !text.is_empty() {
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(10)..].join("\n");
            output::note(&format!("skills output (last lines):\n{tail}"));
        }
    }
    output.status.success()
}

/// `skills add convex/agent-skills --yes --copy --agent <a>…`.
pub async fn add(cwd: &Path, agents: &[String]) -> bool {
    let mut args: Vec<String> = ["add", "convex/agent-skills", "--yes", "--copy"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for agent in agents {
        args.push("--agent".into());
        args.push(agent.clone());
    }
    run_skills(cwd, &args).await
}

/// `skills remove <name>… --yes`: only the Convex skills, leaving others.
pub async fn remove(cwd: &Path, names: &[String]) -> bool {
    let mut args = vec!["remove".to_string()];
    args.extend(names.iter().cloned());
    args.push("--yes".into());
    run_skills(cwd, &args).await
}

/// Deletes `skills-lock.json` when every skill it lists was just removed
/// (`skills remove` leaves the file behind). Returns whether it did.
pub fn remove_lock_if_empty(project_dir: &Path, removed: &[String]) -> bool {
    let path = project_dir.join("skills-lock.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return false;
    };
    let Ok(lock) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    let all_removed = match lock.get("skills") {
        Some(serde_json::Value::Object(skills)) => skills.keys().all(|n| removed.contains(n)),
        // An array's keys are its indices, never a skill name.
        Some(serde_json::Value::Array(items)) => items.is_empty(),
        _ => false,
    };
    if !all_removed {
        return false;
    }
    if std::fs::remove_file(&path).is_ok() {
        output::success("Deleted skills-lock.json.");
        return true;
    }
    false
}

/// The message shown when the installer failed.
pub fn install_failed_hint() -> String {
    style::yellow(
        "Could not install the agent skills. Install them yourself with: npx skills add convex/agent-skills --copy",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_file_goes_only_when_nothing_else_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("skills-lock.json");
        let names = vec!["convex-a".to_string(), "convex-b".to_string()];
        assert!(!remove_lock_if_empty(dir.path(), &names));
        std::fs::write(&lock, r#"{"skills": {"convex-a": {}, "mine": {}}}"#).unwrap();
        assert!(!remove_lock_if_empty(dir.path(), &names));
        assert!(lock.exists());
        std::fs::write(&lock, r#"{"skills": {"convex-a": {}}}"#).unwrap();
        assert!(remove_lock_if_empty(dir.path(), &names));
        assert!(!lock.exists());
        std::fs::write(&lock, r#"[1]"#).unwrap();
        assert!(!remove_lock_if_empty(dir.path(), &names));
    }
}
