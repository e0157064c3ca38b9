//! Local and anonymous backend state, read side (the local-backend module
//! writes it with the same shapes).
//!
//! - Project-local (current default): `<project>/.convex/local/default/config.json`.
//! - Legacy: `~/.convex/convex-backend-state/<name>/config.json` (account-linked
//!   `local-…` deployments) and `~/.convex/anonymous-convex-backend-state/<name>/config.json`.
//! - Anonymous user id: `~/.convex/anonymous-convex-backend-state/config.json`
//!   = `{"uuid": "…"}`.
//!
//! A deployment's config is the project-local one if it exists and names no
//! deployment or this one; otherwise the legacy one.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::global_config::ConvexDirs;

/// Account-linked (`local`) or account-less (`anonymous`) local deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalDeploymentKind {
    Local,
    Anonymous,
}

/// Ports of a local backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalPorts {
    pub cloud: u16,
    pub site: u16,
}

/// `config.json` of a local or anonymous deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalDeploymentConfig {
    pub ports: LocalPorts,
    pub backend_version: String,
    pub admin_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_project_id: Option<i64>,
}

/// `<project>/.convex/local/default`.
pub fn project_local_state_dir(project_dir: &Path) -> PathBuf {
    project_dir.join(".convex").join("local").join("default")
}

/// `~/.convex/convex-backend-state` or `~/.convex/anonymous-convex-backend-state`.
pub fn legacy_state_root(dirs: &ConvexDirs, kind: LocalDeploymentKind) -> PathBuf {
    dirs.root.join(match kind {
        LocalDeploymentKind::Local => "convex-backend-state",
        LocalDeploymentKind::Anonymous => "anonymous-convex-backend-state",
    })
}

/// The legacy state folder of one deployment.
pub fn legacy_state_dir(dirs: &ConvexDirs, kind: LocalDeploymentKind, name: &str) -> PathBuf {
    legacy_state_root(dirs, kind).join(name)
}

/// Read `<dir>/config.json`; `None` if missing or not a valid config.
pub fn load_config_from_dir(dir: &Path) -> Option<LocalDeploymentConfig> {
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    match serde_json::from_str(&text) {
        Ok(config) => Some(config),
        Err(e) => {
            crate::output::verbose(&format!(
                "Failed to parse local deployment config at {}: {e}",
                dir.display()
            ));
            None
        }
    }
}

/// The project-local config, if it names its deployment.
pub fn load_project_local_config(project_dir: &Path) -> Option<(String, LocalDeploymentConfig)> {
    let config = load_config_from_dir(&project_local_state_dir(project_dir))?;
    let name = config.deployment_name.clone().filter(|n| !n.is_empty())?;
    Some((name, config))
}

/// The config of a named local/anonymous deployment (project-local first).
pub fn load_deployment_config(
    dirs: &ConvexDirs,
    kind: LocalDeploymentKind,
    name: &str,
    project_dir: &Path,
) -> Option<LocalDeploymentConfig> {
    if let Some(config) = load_config_from_dir(&project_local_state_dir(project_dir)) {
        match config.deployment_name.as_deref() {
            None | Some("") => return Some(config),
            Some(n) if n == name => return Some(config),
            Some(_) => {}
        }
    }
    load_config_from_dir(&legacy_state_dir(dirs, kind, name))
}

/// The anonymous user id sent with `login` (`None` if never created).
pub fn load_anonymous_uuid(dirs: &ConvexDirs) -> Option<String> {
    let path = legacy_state_root(dirs, LocalDeploymentKind::Anonymous).join("config.json");
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("uuid")?.as_str().map(str::to_string)
}

/// `http://127.0.0.1:<port>`.
pub fn local_deployment_url(cloud_port: u16) -> String {
    format!("http://127.0.0.1:{cloud_port}")
}

/// Fail unless the expected local backend answers `GET <url>/instance_name`
/// with its deployment name.
pub async fn assert_local_backend_running(
    http: &crate::http::HttpClient,
    url: &str,
    deployment_name: &str,
) -> anyhow::Result<()> {
    use crate::error::fail;
    crate::output::verbose(&format!("Checking local backend at {url} is running"));
    let resp = http
        .reqwest()
        .get(format!("{url}/instance_name"))
        .send()
        .await;
    match resp {
        Err(_) => Err(fail(format!(
            "The local backend isn't running (nothing is listening at {url}).\n  Run `npx convex dev` in another terminal first."
        ))),
        Ok(r) if !r.status().is_success() => Err(fail(format!(
            "The local backend at {url} answered {} {}.",
            r.status().as_u16(),
            r.status().canonical_reason().unwrap_or("")
        ))),
        Ok(r) => {
            let name = r.text().await.unwrap_or_default();
            if name == deployment_name {
                Ok(())
            } else {
                Err(fail(format!(
                    "A different local backend ({name}) is running at {url}, not {deployment_name}."
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn project_local_first_then_legacy() {
        let home = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let dirs = ConvexDirs::new(home.path(), &Env::default());
        let legacy = legacy_state_dir(&dirs, LocalDeploymentKind::Anonymous, "anonymous-rocket");
        write(
            &legacy.join("config.json"),
            r#"{"ports": {"cloud": 3210, "site": 3211}, "backendVersion": "v", "adminKey": "legacy-key"}"#,
        );
        let found = load_deployment_config(
            &dirs,
            LocalDeploymentKind::Anonymous,
            "anonymous-rocket",
            project.path(),
        )
        .unwrap();
        assert_eq!(found.admin_key, "legacy-key");
        assert_eq!(found.ports.cloud, 3210);

        // A project-local config for another deployment does not shadow it.
        let local = project_local_state_dir(project.path()).join("config.json");
        write(
            &local,
            r#"{"ports":{"cloud":3220,"site":3221},"backendVersion":"v","adminKey":"other","deploymentName":"anonymous-other"}"#,
        );
        let found = load_deployment_config(
            &dirs,
            LocalDeploymentKind::Anonymous,
            "anonymous-rocket",
            project.path(),
        )
        .unwrap();
        assert_eq!(found.admin_key, "legacy-key");
        assert_eq!(
            load_project_local_config(project.path()).unwrap().0,
            "anonymous-other"
        );

        // One for this deployment wins.
        write(
            &local,
            r#"{"ports":{"cloud":3230,"site":3231},"backendVersion":"v","adminKey":"mine","deploymentName":"anonymous-rocket","cloudProjectId":7}"#,
        );
        let found = load_deployment_config(
            &dirs,
            LocalDeploymentKind::Anonymous,
            "anonymous-rocket",
            project.path(),
        )
        .unwrap();
        assert_eq!(found.admin_key, "mine");
        assert_eq!(found.cloud_project_id, Some(7));
    }

    #[test]
    fn anonymous_uuid() {
        let home = tempfile::tempdir().unwrap();
        let dirs = ConvexDirs::new(home.path(), &Env::default());
        assert_eq!(load_anonymous_uuid(&dirs), None);
        write(
            &legacy_state_root(&dirs, LocalDeploymentKind::Anonymous).join("config.json"),
            r#"{"uuid": "0b9d3c9e"}"#,
        );
        assert_eq!(load_anonymous_uuid(&dirs).as_deref(), Some("0b9d3c9e"));
    }
}
