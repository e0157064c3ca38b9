//! Convex AI files: what `convex ai-files install|update|enable|disable|
//! status|remove` manage, and the staleness hint `dev` and `deploy` print.
//!
//! The files, as the official CLI lays them out:
//! - `<functions>/_generated/ai/guidelines.md`: downloaded from the version
//!   API (`GET /v1/guidelines`) and written as received; local edits are not
//!   kept (it lives in `_generated/`);
//! - a managed section in `AGENTS.md` and in `CLAUDE.md` at the project root
//!   ([`section`]): the rest of each file is the user's and is kept;
//! - agent skills, installed by the third-party `skills` tool ([`skills`]);
//! - `<functions>/_generated/ai/ai-files.state.json` ([`state`]): hashes of
//!   what was installed;
//! - `convex.json`'s `aiFiles` (`enabled`, `skills.agents`).
//!
//! An install writes everything it can even when the guidelines download or
//! the skills step fails, then reports the failure (exit 1). Every file is
//! written atomically.

pub mod section;
pub mod skills;
pub mod state;

use anyhow::{Context as _, Result};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::fsutil::write_atomic;
use crate::http::VersionClient;
use crate::output::{self, style};
use section::Stripped;
use state::{AiFilesState, ReadState};

/// Where the AI files of a project go.
#[derive(Debug, Clone)]
pub struct AiFilesPaths {
    /// The project root (where `convex.json`, `AGENTS.md` and `CLAUDE.md` are).
    pub project_dir: PathBuf,
    /// The functions folder, absolute.
    pub convex_dir: PathBuf,
}

impl AiFilesPaths {
    pub fn ai_dir(&self) -> PathBuf {
        self.convex_dir.join("_generated").join("ai")
    }
    pub fn guidelines(&self) -> PathBuf {
        self.ai_dir().join("guidelines.md")
    }
    pub fn state_file(&self) -> PathBuf {
        self.ai_dir().join("ai-files.state.json")
    }
    pub fn agents_md(&self) -> PathBuf {
        self.project_dir.join("AGENTS.md")
    }
    pub fn claude_md(&self) -> PathBuf {
        self.project_dir.join("CLAUDE.md")
    }
    /// The functions folder relative to the project (`convex`).
    pub fn convex_dir_name(&self) -> String {
        self.relative(&self.convex_dir)
    }
    fn relative(&self, path: &Path) -> String {
        crate::bundler::relative_path(&self.project_dir, path)
            .to_string_lossy()
            .into_owned()
    }
    fn legacy_cursor_rules(&self) -> PathBuf {
        self.project_dir
            .join(".cursor")
            .join("rules")
            .join("convex_rules.mdc")
    }
}

/// `convex.json`'s `aiFiles`, as validated by [`crate::project`].
#[derive(Debug, Clone, Default)]
pub struct AiFilesConfig {
    /// The validated object (`None` when `convex.json` has no `aiFiles`).
    pub raw: Option<Value>,
}

impl AiFilesConfig {
    pub fn new(raw: Option<&Value>) -> AiFilesConfig {
        AiFilesConfig { raw: raw.cloned() }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.raw.as_ref()?.get(key)
    }

    /// `enabled: false`, or else the deprecated
    /// `disableStalenessMessage: true`.
    pub fn is_disabled(&self) -> bool {
        match self.get("enabled") {
            Some(enabled) => enabled == &Value::Bool(false),
            None => self.get("disableStalenessMessage") == Some(&Value::Bool(true)),
        }
    }

    /// The agents skills are installed for.
    pub fn skill_agents(&self) -> Vec<String> {
        match self
            .get("skills")
            .and_then(|s| s.get("agents"))
            .and_then(Value::as_array)
        {
            Some(agents) => agents
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect(),
            None => skills::DEFAULT_AGENTS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }

    /// The `aiFiles` to write for `enable` (`enabled: true`) or `disable`:
    /// the current keys without the deprecated `disableStalenessMessage`,
    /// `enabled` in its place or last.
    pub fn with_enabled(&self, enabled: bool) -> Value {
        let mut out = match &self.raw {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        out.shift_remove("disableStalenessMessage");
        out.insert("enabled".into(), Value::Bool(enabled));
        Value::Object(out)
    }
}

/// Lowercase hex SHA-256 of the UTF-8 text.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("Could not read {}", path.display())),
    }
}

fn write(path: &Path, contents: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("Could not create the folder {}", dir.display()))?;
    }
    write_atomic(path, contents, None)
        .with_context(|| format!("Could not write {}", path.display()))
}

/// The version API's `/v1/version`, or `None` when it cannot be had.
async fn version_info(client: &VersionClient) -> Option<Value> {
    match client.get("/v1/version").await {
        Ok(Some(v))
            if v.is_object()
                && v.get("message")
                    .is_some_and(|m| m.is_null() || m.is_string()) =>
        {
            Some(v)
        }
        Ok(_) => None,
        Err(e) => {
            output::verbose(&format!("Version API: {e}"));
            None
        }
    }
}

fn string_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Whether the skills installer may run: the version API can switch it off
/// (with a message); when it cannot be asked, it runs.
async fn skills_installer_allowed(client: &VersionClient) -> bool {
    let Some(info) = version_info(client).await else {
        return true;
    };
    if info.get("disableSkillsCli") == Some(&Value::Bool(true)) {
        let message = string_field(&info, "disableSkillsCliMessage")
            .unwrap_or_else(|| "Agent skills are temporarily disabled.".to_string());
        output::message(&style::yellow(&message));
        return false;
    }
    true
}

/// The state recorded by the last install (a blank one when there is none
/// or it is unreadable as a state).
fn current_state(paths: &AiFilesPaths) -> Result<AiFilesState> {
    let read = state::read(&paths.state_file())
        .with_context(|| format!("Could not read {}", paths.state_file().display()))?;
    Ok(match read {
        ReadState::Ok(s) => s,
        ReadState::NoFile | ReadState::Invalid => AiFilesState::default(),
    })
}

/// Writes the managed section into `path`; returns its hash.
fn apply_section(paths: &AiFilesPaths, path: &Path, name: &str) -> Result<String> {
    let section = section::section_text(&paths.project_dir, &paths.convex_dir_name());
    let existing = read_optional(path)?.unwrap_or_default();
    let updated = section::inject(&existing, &section);
    if updated != existing {
        write(path, &updated)?;
        output::success(&format!("{name} written"));
    }
    Ok(sha256_hex(&section))
}

/// Deletes `.cursor/rules/convex_rules.mdc`, left by older CLIs and replaced
/// by the guidelines file.
fn remove_legacy_cursor_rules(paths: &AiFilesPaths) -> bool {
    if std::fs::remove_file(paths.legacy_cursor_rules()).is_ok() {
        output::success(
            "Removed the old .cursor/rules/convex_rules.mdc (convex/_generated/ai/guidelines.md replaces it).",
        );
        return true;
    }
    false
}

/// Installs or refreshes every AI file. `Ok(false)`: the guidelines could
/// not be downloaded or the skills not installed (said already); everything
/// else was written.
pub async fn install(
    paths: &AiFilesPaths,
    config: &AiFilesConfig,
    client: &VersionClient,
) -> Result<bool> {
    let mut state = current_state(paths)?;

    let guidelines_ok = match client.get_text("/v1/guidelines").await {
        Ok(text) => {
            write(&paths.guidelines(), text.as_bytes())?;
            state.guidelines_hash = Some(sha256_hex(&text));
            output::success(&format!("{} written", paths.relative(&paths.guidelines())));
            true
        }
        Err(e) => {
            output::verbose(&format!("Guidelines download: {e}"));
            output::message(&style::yellow(
                "Could not download the Convex AI guidelines. Try again later with: npx convex ai-files install",
            ));
            false
        }
    };
    state.agents_md_section_hash = Some(apply_section(paths, &paths.agents_md(), "AGENTS.md")?);
    state.claude_md_hash = Some(apply_section(paths, &paths.claude_md(), "CLAUDE.md")?);

    let agents = config.skill_agents();
    let mut skills_ok = true;
    if !agents.is_empty() && skills_installer_allowed(client).await {
        output::message("Installing Convex agent skills...");
        if skills::add(&paths.project_dir, &agents).await {
            if let Some(sha) = version_info(client)
                .await
                .and_then(|v| string_field(&v, "agentSkillsSha"))
            {
                state.agent_skills_sha = Some(sha);
            }
            output::success("Skills installed");
        } else {
            output::message(&skills::install_failed_hint());
            skills_ok = false;
        }
    }
    remove_legacy_cursor_rules(paths);
    write(&paths.state_file(), state.to_text().as_bytes())?;
    Ok(guidelines_ok && skills_ok)
}

/// Removes every AI file: the managed sections (and files they alone made
/// up), the Convex agent skills, the legacy Cursor rules and
/// `<functions>/_generated/ai/`. Needs the skills catalog
/// (`GET /v1/agent_skills`) to know which skills are Convex's: without it
/// nothing is removed and the result is an error.
pub async fn remove(paths: &AiFilesPaths, client: &VersionClient) -> Result<()> {
    let skill_names = match client.get("/v1/agent_skills").await {
        Ok(Some(catalog)) => catalog_skill_names(&catalog),
        Ok(None) => None,
        Err(e) => {
            output::verbose(&format!("Agent skills catalog: {e}"));
            None
        }
    }
    .ok_or_else(|| {
        crate::error::fail(
            "Could not get the list of Convex agent skills from the version API, so nothing was removed. Try `npx convex ai-files remove` again later.",
        )
    })?;

    let mut removed_any = false;
    for (path, name) in [
        (paths.agents_md(), "AGENTS.md"),
        (paths.claude_md(), "CLAUDE.md"),
    ] {
        let Some(text) = read_optional(&path)? else {
            continue;
        };
        match section::strip(&text) {
            Stripped::NoSection => {}
            Stripped::Rest(rest) => {
                write(&path, &rest)?;
                output::success(&format!("Removed the Convex section from {name}."));
                removed_any = true;
            }
            Stripped::Empty => {
                if std::fs::remove_file(&path).is_ok() {
                    output::success(&format!(
                        "Deleted {name} (it held only the Convex section)."
                    ));
                    removed_any = true;
                }
            }
        }
    }
    if !skill_names.is_empty() && skills_installer_allowed(client).await {
        output::message(&format!(
            "Removing Convex agent skills: {}",
            skill_names.join(", ")
        ));
        if skills::remove(&paths.project_dir, &skill_names).await {
            skills::remove_lock_if_empty(&paths.project_dir, &skill_names);
            removed_any = true;
        } else {
            output::message(&style::yellow(
                "Could not remove the agent skills automatically. Remove them with: npx skills remove",
            ));
        }
    }
    removed_any |= remove_legacy_cursor_rules(paths);
    let ai_dir = paths.ai_dir();
    match std::fs::remove_dir_all(&ai_dir) {
        Ok(()) => {
            output::success(&format!("Deleted {}/", paths.relative(&ai_dir)));
            removed_any = true;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => output::message(&style::yellow(&format!(
            "Could not delete {}/ ({e}). Remove it yourself.",
            paths.relative(&ai_dir)
        ))),
    }
    if removed_any {
        output::message("Convex AI files removed.");
    } else {
        output::message("No Convex AI files found: nothing to remove.");
    }
    Ok(())
}

/// The skill names of a valid `/v1/agent_skills` answer.
fn catalog_skill_names(catalog: &Value) -> Option<Vec<String>> {
    let obj = catalog.as_object()?;
    if !obj
        .get("latestRepoSha")
        .is_some_and(|v| v.is_null() || v.is_string())
    {
        return None;
    }
    obj.get("skills")?
        .as_array()?
        .iter()
        .map(|skill| {
            let status_ok = match skill.get("status")?.get("kind")?.as_str()? {
                "active" => true,
                "deleted" => skill.get("status")?.get("deletedAt")?.is_number(),
                _ => false,
            };
            let valid = status_ok
                && skill.get("hash")?.is_string()
                && skill.get("lastSeenRepoSha")?.is_string()
                && skill.get("lastSeenAt")?.is_number();
            valid.then(|| string_field(skill, "skillName")).flatten()
        })
        .collect()
}

/// `ai-files status`: what is installed and whether it is current.
pub async fn status(
    paths: &AiFilesPaths,
    config: &AiFilesConfig,
    client: &VersionClient,
) -> Result<()> {
    if config.is_disabled() {
        output::message(&format!("Convex AI files: {}", style::yellow("disabled")));
        output::message(&format!(
            "  Run {} to turn them back on.",
            style::bold("npx convex ai-files enable")
        ));
        return Ok(());
    }
    let read = state::read(&paths.state_file())
        .with_context(|| format!("Could not read {}", paths.state_file().display()))?;
    let ReadState::Ok(state) = read else {
        output::message(&format!(
            "Convex AI files: {}",
            style::yellow("not installed")
        ));
        output::message(&format!(
            "Run {} to install them.",
            style::bold("npx convex ai-files install")
        ));
        return Ok(());
    };
    output::message(&format!("Convex AI files: {}", style::green("enabled")));
    let info = version_info(client).await;
    let online = info.is_some();
    let canonical = |key: &str| info.as_ref().and_then(|v| string_field(v, key));
    let ok = |text: &str| output::message(&format!("  {} {text}", style::green("✔")));
    let warn = |text: &str| output::message(&format!("  {} {text}", style::yellow("⚠")));
    let up_to_date = if online { ", up to date" } else { "" };

    let guidelines_name = paths.relative(&paths.guidelines());
    match read_optional(&paths.guidelines())? {
        None => warn(&format!(
            "{guidelines_name}: missing; run {} to put it back",
            style::bold("npx convex ai-files install")
        )),
        Some(bytes) if bytes.is_empty() => warn(&format!(
            "{guidelines_name}: missing; run {} to put it back",
            style::bold("npx convex ai-files install")
        )),
        Some(bytes) => {
            let hash = sha256_hex(&String::from_utf8_lossy(&bytes));
            let recorded = state.guidelines_hash.as_deref();
            if recorded.is_some_and(|r| r != hash) {
                warn(&format!(
                    "{guidelines_name}: installed, changed locally (the next update replaces the changes)"
                ));
            } else if let (Some(c), Some(r)) = (canonical("guidelinesHash"), recorded)
                && c != r
            {
                warn(&format!(
                    "{guidelines_name}: installed, out of date; run {}",
                    style::bold("npx convex ai-files update")
                ));
            } else {
                ok(&format!("{guidelines_name}: installed{up_to_date}"));
            }
        }
    }

    let section_hash = sha256_hex(&section::section_text(
        &paths.project_dir,
        &paths.convex_dir_name(),
    ));
    let agents = read_optional(&paths.agents_md())?;
    if !agents.as_deref().is_some_and(section::has_section) {
        warn(&format!(
            "AGENTS.md: no Convex section; run {} to add it",
            style::bold("npx convex ai-files install")
        ));
    } else if state
        .agents_md_section_hash
        .as_deref()
        .is_some_and(|h| h != section_hash)
    {
        warn(&format!(
            "AGENTS.md: Convex section out of date; run {}",
            style::bold("npx convex ai-files update")
        ));
    } else {
        ok("AGENTS.md: Convex section present, up to date");
    }
    match read_optional(&paths.claude_md())? {
        None => warn(&format!(
            "CLAUDE.md: missing; run {} to create it",
            style::bold("npx convex ai-files install")
        )),
        Some(text) if !section::has_section(&text) => warn(&format!(
            "CLAUDE.md: no Convex section; run {} to add it",
            style::bold("npx convex ai-files update")
        )),
        Some(_) => {
            if state
                .claude_md_hash
                .as_deref()
                .is_some_and(|h| h != section_hash)
            {
                warn(&format!(
                    "CLAUDE.md: Convex section out of date; run {}",
                    style::bold("npx convex ai-files update")
                ));
            } else {
                ok("CLAUDE.md: Convex section present, up to date");
            }
        }
    }
    match &state.agent_skills_sha {
        None => warn(&format!(
            "Agent skills: not installed; run {} to install them",
            style::bold("npx convex ai-files install")
        )),
        Some(sha) => {
            if canonical("agentSkillsSha").is_some_and(|c| &c != sha) {
                warn(&format!(
                    "Agent skills: installed, out of date; run {}",
                    style::bold("npx convex ai-files update")
                ));
            } else {
                ok(&format!("Agent skills: installed{up_to_date}"));
            }
        }
    }
    Ok(())
}

/// What `dev` does when it sets up a project, on a terminal only: unless
/// the AI files are disabled, refresh them when they were installed before,
/// otherwise offer to install them. Failures are only logged verbosely: the
/// setup goes on.
pub async fn attempt_setup(ctx: &crate::context::Context) {
    if !output::stdin_is_terminal() {
        return;
    }
    let Ok(config) = ctx.project().config() else {
        return;
    };
    let paths = AiFilesPaths {
        project_dir: ctx.cwd.clone(),
        convex_dir: config.functions_dir(&ctx.cwd),
    };
    let ai_config = AiFilesConfig::new(config.ai_files.as_ref());
    if ai_config.is_disabled() {
        return;
    }
    let installed_before =
        matches!(state::read(&paths.state_file()), Ok(ReadState::Ok(_))) || has_artifacts(&paths);
    if !installed_before
        && !output::prompt_yes_no(
            "Set up Convex AI files? (guidelines, AGENTS.md, agent skills)",
            Some(true),
        )
        .unwrap_or(false)
    {
        return;
    }
    let Ok(client) = ctx.version_client() else {
        return;
    };
    if let Err(e) = install(&paths, &ai_config, &client).await {
        output::verbose(&format!("Installing the Convex AI files failed: {e:#}"));
    }
}

/// Whether any AI file is there: a non-empty guidelines file or a managed
/// section in AGENTS.md or CLAUDE.md.
fn has_artifacts(paths: &AiFilesPaths) -> bool {
    let non_empty = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.len() > 0);
    let managed = |p: &Path| std::fs::read(p).is_ok_and(|t| section::has_section(&t));
    non_empty(&paths.guidelines()) || managed(&paths.agents_md()) || managed(&paths.claude_md())
}

/// What the hint after a push should say.
#[derive(Debug, PartialEq, Eq)]
pub enum Staleness {
    NotInstalled,
    Stale,
    Silent,
}

/// Whether the AI files are missing or out of date, given the version API's
/// current guidelines hash and skills commit.
pub fn staleness(
    paths: &AiFilesPaths,
    config: &AiFilesConfig,
    guidelines_hash: Option<&str>,
    skills_sha: Option<&str>,
) -> Staleness {
    if config.is_disabled() {
        return Staleness::Silent;
    }
    match state::read(&paths.state_file()) {
        Ok(ReadState::Ok(state)) => {
            if guidelines_hash.is_none() && skills_sha.is_none() {
                return Staleness::Silent;
            }
            let stale = |canonical: Option<&str>, local: &Option<String>| matches!((canonical, local), (Some(c), Some(l)) if c != l);
            if stale(guidelines_hash, &state.guidelines_hash)
                || stale(skills_sha, &state.agent_skills_sha)
            {
                Staleness::Stale
            } else {
                Staleness::Silent
            }
        }
        _ => {
            if has_artifacts(paths) {
                Staleness::Silent
            } else {
                Staleness::NotInstalled
            }
        }
    }
}

/// Writes `aiFiles` into `<project_dir>/convex.json` (created when missing),
/// keeping every other key: `$schema` first (added when absent), then the
/// other keys in their order, then `aiFiles`.
pub fn write_config(project_dir: &Path, ai_files: &Value) -> Result<()> {
    let path = project_dir.join(crate::project::CONVEX_JSON);
    let existing = match read_optional(&path)? {
        Some(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        },
        None => Map::new(),
    };
    let mut next = Map::new();
    next.insert(
        "$schema".into(),
        existing.get("$schema").cloned().unwrap_or_else(|| {
            Value::String("node_modules/convex/schemas/convex.schema.json".into())
        }),
    );
    for (key, value) in existing {
        if key != "$schema" && key != "aiFiles" {
            next.insert(key, value);
        }
    }
    if ai_files.as_object().is_some_and(|o| !o.is_empty()) {
        next.insert("aiFiles".into(), ai_files.clone());
    }
    let mut text = serde_json::to_string_pretty(&js_numbers(Value::Object(next)))
        .context("Could not serialise convex.json")?;
    text.push('\n');
    write(&path, text.as_bytes())
}

/// Whole-number floats (`1.0`) as JavaScript writes them (`1`).
fn js_numbers(value: Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(js_numbers).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, js_numbers(v))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(root: &Path) -> AiFilesPaths {
        AiFilesPaths {
            project_dir: root.to_path_buf(),
            convex_dir: root.join("convex"),
        }
    }

    #[test]
    fn staleness_states() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        std::fs::create_dir_all(p.ai_dir()).unwrap();
        let none = AiFilesConfig::default();
        assert_eq!(staleness(&p, &none, None, None), Staleness::NotInstalled);
        let off = AiFilesConfig::new(Some(&json!({"enabled": false})));
        assert_eq!(staleness(&p, &off, None, None), Staleness::Silent);
        let old_off = AiFilesConfig::new(Some(&json!({"disableStalenessMessage": true})));
        assert_eq!(staleness(&p, &old_off, None, None), Staleness::Silent);
        // `enabled: true` wins over the deprecated key.
        let on = AiFilesConfig::new(Some(
            &json!({"enabled": true, "disableStalenessMessage": true}),
        ));
        assert_eq!(staleness(&p, &on, None, None), Staleness::NotInstalled);
        std::fs::write(
            p.agents_md(),
            "x\n<!-- convex-ai-start -->\n...\n<!-- convex-ai-end -->\n",
        )
        .unwrap();
        assert_eq!(staleness(&p, &none, None, None), Staleness::Silent);
        std::fs::write(
            p.state_file(),
            r#"{"guidelinesHash":"old","agentsMdSectionHash":null,"claudeMdHash":null,"agentSkillsSha":null}"#,
        )
        .unwrap();
        assert_eq!(staleness(&p, &none, Some("new"), None), Staleness::Stale);
        assert_eq!(
            staleness(&p, &none, Some("old"), Some("x")),
            Staleness::Silent
        );
    }

    #[test]
    fn config_is_written_with_schema_first_and_other_keys_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        write_config(dir.path(), &json!({"enabled": false})).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("convex.json")).unwrap(),
            "{\n  \"$schema\": \"node_modules/convex/schemas/convex.schema.json\",\n  \"aiFiles\": {\n    \"enabled\": false\n  }\n}\n"
        );
        std::fs::write(
            dir.path().join("convex.json"),
            r#"{"functions": "src/convex/", "aiFiles": {"x": 1}, "node": {"v": 2.0}, "$schema": "mine"}"#,
        )
        .unwrap();
        let config = AiFilesConfig::new(Some(
            &json!({"disableStalenessMessage": true, "skills": {"agents": []}}),
        ));
        write_config(dir.path(), &config.with_enabled(true)).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("convex.json")).unwrap(),
            "{\n  \"$schema\": \"mine\",\n  \"functions\": \"src/convex/\",\n  \"node\": {\n    \"v\": 2\n  },\n  \"aiFiles\": {\n    \"skills\": {\n      \"agents\": []\n    },\n    \"enabled\": true\n  }\n}\n"
        );
        assert_eq!(p.convex_dir_name(), "convex");
    }

    #[test]
    fn catalog_validation() {
        let good = json!({"latestRepoSha": null, "skills": [
            {"skillName": "convex-a", "status": {"kind": "active"}, "hash": "h", "lastSeenRepoSha": "s", "lastSeenAt": 1},
            {"skillName": "convex-b", "status": {"kind": "deleted", "deletedAt": 2}, "hash": "h", "lastSeenRepoSha": "s", "lastSeenAt": 1}
        ]});
        assert_eq!(
            catalog_skill_names(&good),
            Some(vec!["convex-a".to_string(), "convex-b".to_string()])
        );
        assert_eq!(catalog_skill_names(&json!({"skills": []})), None);
        assert_eq!(
            catalog_skill_names(&json!({"latestRepoSha": "x", "skills": [{"skillName": "a"}]})),
            None
        );
    }
}
