//! What `dev` writes into the project once the deployment is known (spec
//! §7): `CONVEX_DEPLOYMENT` in `.env.local` (with its comment line),
//! `.gitignore`, the functions folder, the client and HTTP-actions URL
//! variables (named after the framework), and the summary lines.
//!
//! Every file is edited with [`crate::env_file`] (atomic writes, other lines
//! kept).

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::credentials::DeploymentType;
use crate::env_file::{EnvFileEdit, changed_env_file};
use crate::env_vars;
use crate::output::style;
use crate::project::ProjectConfig;
use crate::push::environment;

/// The env file `dev` keeps `CONVEX_DEPLOYMENT` in.
pub const ENV_LOCAL: &str = ".env.local";
const DEPLOYMENT_COMMENT: &str = "# Deployment used by `npx convex dev`";

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("Could not read {}", path.display())),
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    crate::fsutil::write_atomic(path, text.as_bytes(), None)
        .with_context(|| format!("Could not write {}", path.display()))
}

/// Which variable to write for one URL, given what the file already has.
enum Resolved {
    /// Write this variable (`None`: it already has the value).
    Write(Option<String>),
    /// Several candidates, or an ambiguous old value: write nothing.
    Invalid,
}

fn resolve_name(
    suggested: &str,
    value: &str,
    file: &str,
    vars: &[(String, String)],
    names: &[&str],
) -> Resolved {
    let mut matching: Vec<&(String, String)> = Vec::new();
    for pair in vars {
        if names.contains(&pair.0.as_str()) && !matching.iter().any(|m| m.0 == pair.0) {
            matching.push(pair);
        }
    }
    if matching.len() > 1 {
        crate::output::warning(&style::yellow(&format!(
            "Found multiple {suggested} environment variables in {file} so cannot update automatically."
        )));
        return Resolved::Invalid;
    }
    let Some((name, old)) = matching.first().map(|(n, _)| {
        // The value in force (last assignment wins).
        let value = vars
            .iter()
            .rev()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        (n.clone(), value)
    }) else {
        return Resolved::Write(Some(suggested.to_string()));
    };
    if old == value {
        return Resolved::Write(None);
    }
    let distinct: std::collections::HashMap<&str, &str> =
        vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if !old.is_empty() && distinct.values().filter(|v| **v == old).count() != 1 {
        crate::output::warning(&style::yellow(&format!(
            "Can't safely modify {file} for {suggested}, please edit manually."
        )));
        return Resolved::Invalid;
    }
    Resolved::Write(Some(name))
}

/// What [`write_urls_to_env_file`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenUrls {
    pub env_file: String,
    pub url_var: Option<String>,
    pub site_url_var: Option<String>,
}

impl WrittenUrls {
    pub fn any(&self) -> bool {
        self.url_var.is_some() || self.site_url_var.is_some()
    }
}

/// The URL variables to write and the env file's new text (`new_text` is
/// `None` when nothing changes).
struct UrlPlan {
    env_file: &'static str,
    url_var: Option<String>,
    site_url_var: Option<String>,
    new_text: Option<String>,
}

/// Which URL variables to set where (spec §7.3), given what `.env.local`
/// will hold (`env_local`: `None` when there is none). `None` when the file
/// cannot be updated safely (a warning says why).
fn plan_url_vars(
    project_root: &Path,
    env_local: Option<&str>,
    url: &str,
    site_url: Option<&str>,
) -> Result<Option<UrlPlan>> {
    let package_json = crate::project::PackageJson::read(project_root).ok();
    let names = environment::suggested_url_env_var_names(package_json.as_ref());
    // Remix reads `.env`: use it when there is no `.env.local`.
    let remix = names.framework == Some("Remix");
    let env_file = if env_local.is_some() || !remix {
        ENV_LOCAL
    } else {
        ".env"
    };
    let path = project_root.join(env_file);
    let existing = if env_file == ENV_LOCAL {
        env_local.map(str::to_string)
    } else {
        read_optional(&path)?
    };
    let (url_var, site_url_var) = match &existing {
        None => (
            Some(names.convex_url.to_string()),
            Some(names.convex_site_url.to_string()),
        ),
        Some(text) => {
            let vars = crate::dotenv::parse(text);
            let url_var = resolve_name(
                names.convex_url,
                url,
                env_file,
                &vars,
                &environment::URL_VAR_NAMES,
            );
            let site_var = resolve_name(
                names.convex_site_url,
                site_url.unwrap_or(""),
                env_file,
                &vars,
                &environment::SITE_URL_VAR_NAMES,
            );
            match (url_var, site_var) {
                (Resolved::Write(u), Resolved::Write(s)) => (u, s),
                _ => return Ok(None),
            }
        }
    };
    let mut updated: Option<String> = None;
    if let Some(name) = &url_var {
        updated = changed_env_file(existing.as_deref(), &EnvFileEdit::new(name, url))
            .with_context(|| format!("Cannot set {name} in {}", path.display()))?;
    }
    if let (Some(name), Some(site_url)) = (&site_url_var, site_url.filter(|s| !s.is_empty())) {
        let base = updated.clone().or_else(|| existing.clone());
        if let Some(text) = changed_env_file(base.as_deref(), &EnvFileEdit::new(name, site_url))
            .with_context(|| format!("Cannot set {name} in {}", path.display()))?
        {
            updated = Some(text);
        }
    }
    Ok(Some(UrlPlan {
        env_file,
        url_var,
        site_url_var,
        new_text: updated,
    }))
}

/// Write the client URL and HTTP-actions URL variables (spec §7.3).
/// `None` when the file cannot be updated safely (a warning says why).
pub fn write_urls_to_env_file(
    project_root: &Path,
    url: &str,
    site_url: Option<&str>,
) -> Result<Option<WrittenUrls>> {
    let env_local = read_optional(&project_root.join(ENV_LOCAL))?;
    let Some(plan) = plan_url_vars(project_root, env_local.as_deref(), url, site_url)? else {
        return Ok(None);
    };
    if let Some(text) = &plan.new_text {
        write(&project_root.join(plan.env_file), text)?;
    }
    Ok(Some(WrittenUrls {
        env_file: plan.env_file.to_string(),
        url_var: plan.url_var,
        site_url_var: plan.site_url_var,
    }))
}

/// Whether a `.gitignore` line already ignores `.env.local`.
fn ignores_env_local(line: &str) -> bool {
    if line.starts_with('#') || line.starts_with('!') {
        return false;
    }
    let line = line.trim_end();
    line == ".env.local"
        || line == ".env.*"
        || line == ".env*"
        || line.ends_with(".local")
        || line == ".env*.local"
}

/// Make `.gitignore` ignore `.env.local`; whether it was changed.
pub fn gitignore_env_local(project_root: &Path) -> Result<bool> {
    let path = project_root.join(".gitignore");
    let existing = read_optional(&path)?.unwrap_or_default();
    if existing.split('\n').any(ignores_env_local) {
        return Ok(false);
    }
    write(&path, &format!("{existing}\n{ENV_LOCAL}\n"))?;
    Ok(true)
}

/// `.env.local` with `CONVEX_DEPLOYMENT=<type>:<name> # team: <t>, project:
/// <p>` (and its comment line): the new text, `None` when it already says
/// so.
fn deployment_env_text(
    current: Option<&str>,
    deployment_type: &DeploymentType,
    deployment_name: &str,
    team: Option<&str>,
    project: Option<&str>,
    path: &Path,
) -> Result<Option<String>> {
    let value = format!("{deployment_type}:{deployment_name}");
    let comment = match (team, project) {
        (Some(t), Some(p)) => Some(format!("team: {t}, project: {p}")),
        _ => None,
    };
    let edit = EnvFileEdit {
        name: env_vars::CONVEX_DEPLOYMENT,
        value: &value,
        comment_after_value: comment.as_deref(),
        comment_on_previous_line: Some(DEPLOYMENT_COMMENT),
    };
    changed_env_file(current, &edit).with_context(|| {
        format!(
            "Cannot set {} in {}",
            env_vars::CONVEX_DEPLOYMENT,
            path.display()
        )
    })
}

/// Whether setting the deployment counts as a change the user should hear
/// about: the file changed and the selection did not already name it
/// (`existing` is sometimes given without its `<type>:` prefix).
fn deployment_changed(
    file_changed: bool,
    deployment_type: &DeploymentType,
    deployment_name: &str,
    existing: Option<&str>,
) -> bool {
    let value = format!("{deployment_type}:{deployment_name}");
    file_changed && existing != Some(deployment_name) && existing != Some(value.as_str())
}

/// `CONVEX_DEPLOYMENT=<type>:<name> # team: <t>, project: <p>` in
/// `.env.local`. Returns (wrote `.gitignore`, changed the variable compared
/// with `existing`, the value the selection started from).
#[cfg(test)]
pub fn write_deployment_env_var(
    project_root: &Path,
    deployment_type: &DeploymentType,
    deployment_name: &str,
    team: Option<&str>,
    project: Option<&str>,
    existing: Option<&str>,
) -> Result<(bool, bool)> {
    let path = project_root.join(ENV_LOCAL);
    let current = read_optional(&path)?;
    let Some(text) = deployment_env_text(
        current.as_deref(),
        deployment_type,
        deployment_name,
        team,
        project,
        &path,
    )?
    else {
        return Ok((false, false));
    };
    let changed = deployment_changed(true, deployment_type, deployment_name, existing);
    write(&path, &text)?;
    Ok((gitignore_env_local(project_root)?, changed))
}

/// Remove `CONVEX_DEPLOYMENT` from `.env.local` (self-hosted and
/// `--url`/`--admin-key` targets); whether it was there.
pub fn erase_deployment_env_var(project_root: &Path) -> Result<bool> {
    let path = project_root.join(ENV_LOCAL);
    let Some(text) = read_optional(&path)? else {
        return Ok(false);
    };
    if crate::dotenv::lookup(&text, env_vars::CONVEX_DEPLOYMENT).is_none() {
        return Ok(false);
    }
    // Empty the assignment line(s), keeping the line breaks.
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let ending = &line[content.len()..];
        let assigned = content
            .trim_start()
            .trim_start_matches("export ")
            .trim_start()
            .strip_prefix(env_vars::CONVEX_DEPLOYMENT)
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        if assigned {
            out.push_str(ending);
        } else {
            out.push_str(line);
        }
    }
    write(&path, &out)?;
    Ok(true)
}

/// `"Provisioned a dev deployment"` / `"Configured a local deployment for <url>"`.
fn configured_what(deployment_type: &DeploymentType, url: &str) -> String {
    if deployment_type.is_local() {
        format!("Configured a local deployment for {url}")
    } else {
        format!("Provisioned a {deployment_type} deployment")
    }
}

/// The deployment `dev` configured, for [`update_env_and_config`].
pub struct Configured<'a> {
    pub deployment_type: &'a DeploymentType,
    pub deployment_name: &'a str,
    pub team: Option<&'a str>,
    pub project: Option<&'a str>,
    /// The URL for the application's env file.
    pub url: &'a str,
    pub site_url: Option<&'a str>,
    /// The dashboard link printed after a change (`null` when unknown).
    pub dashboard_url: Option<String>,
}

/// Everything of spec §7 for a deployment with a name and type; `existing`
/// is the deployment name the selection started from. Every change to
/// `.env.local` (the deployment and the URL variables) is written at once,
/// so a failure leaves the file as it was.
pub fn update_env_and_config(
    project_root: &Path,
    target: &Configured,
    existing: Option<&str>,
) -> Result<()> {
    let config = ProjectConfig::read(project_root)?;
    let env_local_path = project_root.join(ENV_LOCAL);
    let current = read_optional(&env_local_path)?;
    let deployment_text = if *target.deployment_type != DeploymentType::Prod {
        deployment_env_text(
            current.as_deref(),
            target.deployment_type,
            target.deployment_name,
            target.team,
            target.project,
            &env_local_path,
        )?
    } else {
        None
    };
    let changed_deployment = deployment_changed(
        deployment_text.is_some(),
        target.deployment_type,
        target.deployment_name,
        existing,
    );
    let env_local = deployment_text.as_deref().or(current.as_deref());
    let plan = plan_url_vars(project_root, env_local, target.url, target.site_url)?;
    // One write per file.
    let mut env_local_text = deployment_text.clone();
    let mut other_file: Option<(&str, String)> = None;
    if let Some(plan) = &plan
        && let Some(text) = &plan.new_text
    {
        if plan.env_file == ENV_LOCAL {
            env_local_text = Some(text.clone());
        } else {
            other_file = Some((plan.env_file, text.clone()));
        }
    }
    if let Some(text) = &env_local_text {
        write(&env_local_path, text)?;
    }
    let wrote_gitignore = if deployment_text.is_some() {
        gitignore_env_local(project_root)?
    } else {
        false
    };
    let functions_dir = config.functions_dir(project_root);
    std::fs::create_dir_all(&functions_dir)
        .with_context(|| format!("Could not create {}", functions_dir.display()))?;
    if let Some((file, text)) = &other_file {
        write(&project_root.join(file), text)?;
    }

    let written = plan.map(|plan| WrittenUrls {
        env_file: plan.env_file.to_string(),
        url_var: plan.url_var,
        site_url_var: plan.site_url_var,
    });
    let urls_changed = written.as_ref().is_some_and(WrittenUrls::any);
    if let Some(written) = written.as_ref().filter(|w| w.any()) {
        let mut text = format!(
            "{} and saved its:\n",
            configured_what(target.deployment_type, target.url)
        );
        if changed_deployment {
            text.push_str("    name as CONVEX_DEPLOYMENT\n");
        }
        if let Some(name) = &written.url_var {
            text.push_str(&format!("    client URL as {name}\n"));
        }
        if let Some(name) = &written.site_url_var {
            text.push_str(&format!("    HTTP actions URL as {name}\n"));
        }
        text.push_str(&format!(" to {}", written.env_file));
        crate::output::success(&text);
    } else if changed_deployment {
        crate::output::success(&format!(
            "{} and saved its name as CONVEX_DEPLOYMENT to {ENV_LOCAL}",
            configured_what(target.deployment_type, target.url)
        ));
    }
    if wrote_gitignore {
        crate::output::message(&style::gray(&format!(
            "  Added \"{ENV_LOCAL}\" to .gitignore"
        )));
    }
    if wrote_gitignore || changed_deployment || urls_changed {
        crate::output::message(&format!(
            "\nWrite your Convex functions in {}\nGive us feedback at https://convex.dev/community or support@convex.dev\nView the Convex dashboard at {}\n",
            style::bold(&functions_path_for_display(&config.functions)),
            target.dashboard_url.as_deref().unwrap_or("null")
        ));
    }
    Ok(())
}

/// The official `updateEnvAndConfigForDeploymentSelection`: after a
/// deployment with a name and type was chosen (`dev`, `init`, `deployment
/// select`, `deployment create --select`), save it in `.env.local` with the
/// application's URL variables, and say so with a dashboard link.
/// `existing`: the deployment name the selection started from.
pub fn save_deployment_selection(
    ctx: &crate::context::Context,
    fields: &crate::credentials::DeploymentFields,
    app_url: &str,
    site_url: Option<&str>,
    existing: Option<&str>,
) -> Result<()> {
    let dashboard_url = match fields.deployment_type {
        DeploymentType::Anonymous => {
            crate::local_backend::saved_dashboard_url(&ctx.dirs, &ctx.cwd, &fields.deployment_name)
        }
        _ => Some(format!(
            "{}/d/{}",
            ctx.dashboard_host(),
            fields.deployment_name
        )),
    };
    update_env_and_config(
        &ctx.cwd,
        &Configured {
            deployment_type: &fields.deployment_type,
            deployment_name: &fields.deployment_name,
            team: fields.team_slug.as_deref(),
            project: fields.project_slug.as_deref(),
            url: app_url,
            site_url,
            dashboard_url,
        },
        existing,
    )
}

/// Self-hosted and `--url`/`--admin-key`: drop `CONVEX_DEPLOYMENT`, write
/// the URL variables, one line saying which.
pub fn update_env_for_url(project_root: &Path, url: &str, site_url: Option<&str>) -> Result<()> {
    if erase_deployment_env_var(project_root)? {
        crate::output::message(&style::yellow(
            "Removed the CONVEX_DEPLOYMENT environment variable from .env.local",
        ));
    }
    if let Some(written) = write_urls_to_env_file(project_root, url, site_url)?
        && written.any()
    {
        let names: Vec<&str> = [&written.url_var, &written.site_url_var]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        crate::output::message(&style::green(&format!(
            "Saved {} to {}",
            names.join(" and "),
            written.env_file
        )));
    }
    Ok(())
}

/// `functions` of `convex.json` as Node's `path.join(".", functions)` shows
/// it (`convex/`, `src/convex/`).
pub fn functions_path_for_display(functions: &str) -> String {
    let trailing = functions.ends_with('/') || functions.ends_with('\\');
    let mut parts: Vec<&str> = Vec::new();
    for part in functions.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let mut joined = parts.join("/");
    if joined.is_empty() {
        joined = ".".into();
    }
    if trailing && joined != "." {
        joined.push('/');
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn project(package_json: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("package.json"), package_json).unwrap();
        dir
    }

    #[test]
    fn first_cloud_run_writes_the_reference_layout() {
        let dir = project(r#"{"dependencies":{"convex":"1.48.0"}}"#);
        let root = dir.path();
        let (gitignore, changed) = write_deployment_env_var(
            root,
            &DeploymentType::Dev,
            "happy-otter-123",
            Some("acme"),
            Some("rocket"),
            None,
        )
        .unwrap();
        assert!(gitignore && changed);
        let urls = write_urls_to_env_file(
            root,
            "https://mock-deployment.convex.cloud",
            Some("https://mock-deployment.convex.site"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(urls.url_var.as_deref(), Some("CONVEX_URL"));
        assert_eq!(
            fs::read_to_string(root.join(".env.local")).unwrap(),
            "# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=dev:happy-otter-123 # team: acme, project: rocket\n\nCONVEX_URL=https://mock-deployment.convex.cloud\n\nCONVEX_SITE_URL=https://mock-deployment.convex.site\n"
        );
        assert_eq!(
            fs::read_to_string(root.join(".gitignore")).unwrap(),
            "\n.env.local\n"
        );
        // A second run changes nothing.
        let again = write_deployment_env_var(
            root,
            &DeploymentType::Dev,
            "happy-otter-123",
            Some("acme"),
            Some("rocket"),
            Some("happy-otter-123"),
        )
        .unwrap();
        assert_eq!(again, (false, false));
        let urls = write_urls_to_env_file(
            root,
            "https://mock-deployment.convex.cloud",
            Some("https://mock-deployment.convex.site"),
        )
        .unwrap()
        .unwrap();
        assert!(!urls.any());
    }

    #[test]
    fn existing_deployment_line_is_replaced_not_appended() {
        let dir = project(r#"{"devDependencies":{"convex":"1","vite":"5"}}"#);
        let root = dir.path();
        fs::write(
            root.join(".env.local"),
            "# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=anonymous:anonymous-proj\nVITE_CONVEX_URL=\nOTHER=1\n",
        )
        .unwrap();
        fs::write(root.join(".gitignore"), "node_modules\n*.local\n").unwrap();
        let (gitignore, changed) = write_deployment_env_var(
            root,
            &DeploymentType::Dev,
            "happy-otter-123",
            Some("acme"),
            Some("rocket"),
            Some("anonymous-proj"),
        )
        .unwrap();
        assert!(!gitignore, "*.local already ignores it");
        assert!(changed);
        let urls = write_urls_to_env_file(root, "https://a.convex.cloud", None)
            .unwrap()
            .unwrap();
        assert_eq!(urls.url_var.as_deref(), Some("VITE_CONVEX_URL"));
        assert_eq!(urls.site_url_var.as_deref(), Some("VITE_CONVEX_SITE_URL"));
        assert_eq!(
            fs::read_to_string(root.join(".env.local")).unwrap(),
            "# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=dev:happy-otter-123 # team: acme, project: rocket\nVITE_CONVEX_URL=https://a.convex.cloud\nOTHER=1\n"
        );
    }

    #[test]
    fn ambiguous_url_variables_are_left_alone() {
        let dir = project(r#"{"dependencies":{"convex":"1","next":"14"}}"#);
        let root = dir.path();
        fs::write(
            root.join(".env.local"),
            "CONVEX_URL=a\nNEXT_PUBLIC_CONVEX_URL=b\n",
        )
        .unwrap();
        assert_eq!(write_urls_to_env_file(root, "u", Some("s")).unwrap(), None);
        fs::write(root.join(".env.local"), "CONVEX_URL=a\nSOMETHING_ELSE=a\n").unwrap();
        assert_eq!(write_urls_to_env_file(root, "u", Some("s")).unwrap(), None);
        assert_eq!(
            fs::read_to_string(root.join(".env.local")).unwrap(),
            "CONVEX_URL=a\nSOMETHING_ELSE=a\n"
        );
    }

    #[test]
    fn remix_uses_dot_env_and_self_hosted_erases_the_deployment() {
        let dir = project(r#"{"dependencies":{"convex":"1","@remix-run/dev":"2"}}"#);
        let root = dir.path();
        let written = write_urls_to_env_file(root, "http://127.0.0.1:3210", Some("http://s"))
            .unwrap()
            .unwrap();
        assert_eq!(written.env_file, ".env");
        assert_eq!(
            fs::read_to_string(root.join(".env")).unwrap(),
            "CONVEX_URL=http://127.0.0.1:3210\n\nCONVEX_SITE_URL=http://s\n"
        );
        fs::write(
            root.join(".env.local"),
            "# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=dev:x # c\nKEEP=1\n",
        )
        .unwrap();
        assert!(erase_deployment_env_var(root).unwrap());
        assert_eq!(
            fs::read_to_string(root.join(".env.local")).unwrap(),
            "# Deployment used by `npx convex dev`\n\nKEEP=1\n"
        );
        assert!(!erase_deployment_env_var(root).unwrap());
    }

    #[test]
    fn display_paths() {
        assert_eq!(functions_path_for_display("convex/"), "convex/");
        assert_eq!(functions_path_for_display("./src/convex"), "src/convex");
        assert_eq!(functions_path_for_display("a/../b/"), "b/");
    }
}
