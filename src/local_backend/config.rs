//! The files local deployments keep: each deployment's `config.json`, the
//! anonymous user's id, and `.convex/.gitignore`.
//!
//! `config.json` is written as the official CLI writes it — compact JSON, no
//! trailing newline, keys in the order `ports`, `backendVersion`, `adminKey`,
//! `instanceSecret`, `cloudProjectId` (linked local only), `deploymentName`:
//!
//! ```json
//! {"ports":{"cloud":3210,"site":3211},"backendVersion":"precompiled-2026-11-20-abc","adminKey":"anonymous-app|...","instanceSecret":"<64 hex>","deploymentName":"anonymous-app"}
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::LocalDeploymentKind;
use super::paths::{ConvexDirs, project_local_state_dir};
use super::say;

/// The cloud (HTTP API) and site (HTTP actions) ports of a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    pub cloud: u16,
    pub site: u16,
}

/// A deployment's saved state. Field order is the order written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalDeploymentConfig {
    pub ports: Ports,
    pub backend_version: String,
    pub admin_key: String,
    /// Absent in old files: those deployments run with the legacy secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_secret: Option<String>,
    /// The cloud project a linked local deployment is registered under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_project_id: Option<i64>,
    /// Always written; may be missing in old files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_name: Option<String>,
}

impl LocalDeploymentConfig {
    /// The exact bytes written to `config.json`.
    pub fn to_file_text(&self) -> String {
        serde_json::to_string(self).expect("a config always serialises")
    }
}

/// Reads `<dir>/config.json`. A missing file is `None`; a file that cannot be
/// read as a deployment config is also `None` (as the official CLI treats it),
/// after a warning naming the file, since the next save replaces it.
pub fn load_config_from_dir(dir: &Path) -> Option<LocalDeploymentConfig> {
    let file = dir.join("config.json");
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            say::warn(&format!(
                "Ignoring local deployment config {}: {e}",
                file.display()
            ));
            return None;
        }
    };
    match serde_json::from_str(&text) {
        Ok(config) => Some(config),
        Err(e) => {
            say::warn(&format!(
                "Ignoring local deployment config {} (not a valid deployment config: {e})",
                file.display()
            ));
            None
        }
    }
}

/// The project-local deployment, if its config names one.
pub fn load_project_local_config(project_dir: &Path) -> Option<(String, LocalDeploymentConfig)> {
    let config = load_config_from_dir(&project_local_state_dir(project_dir))?;
    match config.deployment_name.clone() {
        Some(name) if !name.is_empty() => Some((name, config)),
        _ => None,
    }
}

/// The config of a named deployment: the project-local one if it is for that
/// name (or names none), else the legacy one.
pub fn load_deployment_config(
    dirs: &ConvexDirs,
    project_dir: &Path,
    kind: LocalDeploymentKind,
    deployment_name: &str,
) -> Option<LocalDeploymentConfig> {
    if let Some(config) = load_config_from_dir(&project_local_state_dir(project_dir)) {
        match config.deployment_name.as_deref() {
            None | Some("") => return Some(config),
            Some(name) if name == deployment_name => return Some(config),
            Some(_) => {}
        }
    }
    load_config_from_dir(&dirs.legacy_state_dir(kind, deployment_name))
}

/// Saves a deployment's config into its state folder (§ `deployment_state_dir`)
/// with `deploymentName` set, creating `.convex/.gitignore` when `.convex/`
/// exists without one. Returns the state folder.
pub fn save_deployment_config(
    dirs: &ConvexDirs,
    project_dir: &Path,
    kind: LocalDeploymentKind,
    deployment_name: &str,
    config: &LocalDeploymentConfig,
) -> Result<PathBuf> {
    let dir = dirs.deployment_state_dir(project_dir, kind, deployment_name);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("Could not create the folder {}", dir.display()))?;
    ensure_dot_convex_gitignore(project_dir)?;
    let config = LocalDeploymentConfig {
        deployment_name: Some(deployment_name.to_string()),
        ..config.clone()
    };
    // The file holds the admin key: readable by its owner only.
    write_atomic(
        &dir.join("config.json"),
        config.to_file_text().as_bytes(),
        0o600,
    )?;
    Ok(dir)
}

/// Writes `<project>/.convex/.gitignore` (`/*`) when `.convex/` exists and has
/// none, so local state is never committed.
pub fn ensure_dot_convex_gitignore(project_dir: &Path) -> Result<()> {
    let dot_convex = project_dir.join(".convex");
    let gitignore = dot_convex.join(".gitignore");
    if dot_convex.exists() && !gitignore.exists() {
        write_atomic(&gitignore, b"/*\n", 0o644)?;
    }
    Ok(())
}

/// Legacy anonymous deployments kept in the home folder: folders named
/// `anonymous-*` holding a readable `config.json`, sorted by name.
pub fn list_legacy_deployments(
    dirs: &ConvexDirs,
    kind: LocalDeploymentKind,
) -> Vec<(String, LocalDeploymentConfig)> {
    let prefix = match kind {
        LocalDeploymentKind::Anonymous => "anonymous-",
        LocalDeploymentKind::Local => "local-",
    };
    let Ok(entries) = std::fs::read_dir(dirs.legacy_state_root(kind)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.starts_with(prefix))
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|name| {
            let config = load_config_from_dir(&dirs.legacy_state_dir(kind, &name))?;
            Some((name, config))
        })
        .collect()
}

/// The anonymous user's id, if one was saved.
pub fn load_anonymous_user_id(dirs: &ConvexDirs) -> Option<String> {
    let text = std::fs::read_to_string(dirs.anonymous_user_file()).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("uuid")?.as_str().map(str::to_string)
}

/// The anonymous user's id, creating `{"uuid":"<v4>"}` when there is none.
pub fn ensure_anonymous_user_id(dirs: &ConvexDirs) -> Result<String> {
    if let Some(uuid) = load_anonymous_user_id(dirs).filter(|u| !u.is_empty()) {
        return Ok(uuid);
    }
    let uuid = uuid::Uuid::new_v4().to_string();
    let file = dirs.anonymous_user_file();
    let dir = file.parent().expect("the file has a folder");
    std::fs::create_dir_all(dir)
        .with_context(|| format!("Could not create the folder {}", dir.display()))?;
    let text = serde_json::json!({ "uuid": uuid }).to_string();
    write_atomic(&file, text.as_bytes(), 0o644)?;
    Ok(uuid)
}

/// Writes a file atomically: a temporary file in the same folder, then a
/// rename, so a crash never leaves a half-written file behind.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let write = || -> std::io::Result<()> {
        let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
        tmp.write_all(contents)?;
        tmp.as_file().sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().with_context(|| format!("Could not write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local_backend::paths::WindowsAppData;

    fn sample() -> LocalDeploymentConfig {
        LocalDeploymentConfig {
            ports: Ports {
                cloud: 3210,
                site: 3211,
            },
            backend_version: "precompiled-2026-11-20-fake001".into(),
            admin_key: "anonymous-proj|key".into(),
            instance_secret: Some("ab".repeat(32)),
            cloud_project_id: None,
            deployment_name: None,
        }
    }

    #[test]
    fn file_text_matches_the_official_shape() {
        let mut config = sample();
        config.deployment_name = Some("anonymous-proj".into());
        assert_eq!(
            config.to_file_text(),
            format!(
                "{{\"ports\":{{\"cloud\":3210,\"site\":3211}},\"backendVersion\":\"precompiled-2026-11-20-fake001\",\"adminKey\":\"anonymous-proj|key\",\"instanceSecret\":\"{}\",\"deploymentName\":\"anonymous-proj\"}}",
                "ab".repeat(32)
            )
        );
        config.cloud_project_id = Some(2);
        assert!(
            config
                .to_file_text()
                .ends_with(",\"cloudProjectId\":2,\"deploymentName\":\"anonymous-proj\"}")
        );
    }

    #[test]
    fn old_files_without_optional_fields_load() {
        let config: LocalDeploymentConfig = serde_json::from_str(
            r#"{"adminKey":"k","backendVersion":"v","ports":{"site":2,"cloud":1}}"#,
        )
        .unwrap();
        assert_eq!(config.ports, Ports { cloud: 1, site: 2 });
        assert_eq!(config.instance_secret, None);
        assert_eq!(config.deployment_name, None);
    }

    #[test]
    fn save_then_load_and_gitignore() {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("p");
        std::fs::create_dir_all(&project).unwrap();
        let dirs = ConvexDirs::resolve(&tmp.path().join("h"), None, &WindowsAppData::default());
        let kind = LocalDeploymentKind::Anonymous;
        let dir = save_deployment_config(&dirs, &project, kind, "anonymous-p", &sample()).unwrap();
        assert_eq!(dir, project_local_state_dir(&project));
        assert_eq!(
            std::fs::read_to_string(project.join(".convex/.gitignore")).unwrap(),
            "/*\n"
        );
        let text = std::fs::read_to_string(dir.join("config.json")).unwrap();
        assert!(text.ends_with("\"deploymentName\":\"anonymous-p\"}"));
        let (name, loaded) = load_project_local_config(&project).unwrap();
        assert_eq!(name, "anonymous-p");
        assert_eq!(loaded.admin_key, "anonymous-proj|key");
        // Another name: the project-local file is not it; nothing in legacy.
        assert!(load_deployment_config(&dirs, &project, kind, "anonymous-q").is_none());
        assert!(load_deployment_config(&dirs, &project, kind, "anonymous-p").is_some());
        // An existing .gitignore is left alone.
        std::fs::write(project.join(".convex/.gitignore"), "mine\n").unwrap();
        save_deployment_config(&dirs, &project, kind, "anonymous-p", &sample()).unwrap();
        assert_eq!(
            std::fs::read_to_string(project.join(".convex/.gitignore")).unwrap(),
            "mine\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("config.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn legacy_listing_and_corrupt_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = ConvexDirs::resolve(tmp.path(), None, &WindowsAppData::default());
        let kind = LocalDeploymentKind::Anonymous;
        for (name, text) in [
            ("anonymous-b", sample().to_file_text()),
            ("anonymous-a", sample().to_file_text()),
            ("anonymous-broken", "{not json".to_string()),
            ("other", sample().to_file_text()),
        ] {
            let dir = dirs.legacy_state_dir(kind, name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("config.json"), text).unwrap();
        }
        std::fs::create_dir_all(dirs.legacy_state_dir(kind, "anonymous-empty")).unwrap();
        let names: Vec<String> = list_legacy_deployments(&dirs, kind)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["anonymous-a", "anonymous-b"]);
    }

    #[test]
    fn anonymous_user_id_is_created_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = ConvexDirs::resolve(tmp.path(), None, &WindowsAppData::default());
        assert_eq!(load_anonymous_user_id(&dirs), None);
        let id = ensure_anonymous_user_id(&dirs).unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4', "a v4 uuid: {id}");
        assert_eq!(
            std::fs::read_to_string(dirs.anonymous_user_file()).unwrap(),
            format!("{{\"uuid\":\"{id}\"}}")
        );
        assert_eq!(ensure_anonymous_user_id(&dirs).unwrap(), id);
        assert_eq!(load_anonymous_user_id(&dirs), Some(id));
    }
}
