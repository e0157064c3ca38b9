//! The write side of the files local deployments keep (the read side and the
//! types are in [`crate::credentials::local_state`]): each deployment's
//! `config.json`, the anonymous user's id, and `.convex/.gitignore`.
//!
//! `config.json` is written as the official CLI writes it — compact JSON, no
//! trailing newline, keys in the order `ports`, `backendVersion`, `adminKey`,
//! `instanceSecret`, `cloudProjectId` (linked local only), `deploymentName`:
//!
//! ```json
//! {"ports":{"cloud":3210,"site":3211},"backendVersion":"precompiled-2026-11-20-abc","adminKey":"anonymous-app|...","instanceSecret":"<64 hex>","deploymentName":"anonymous-app"}
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::paths::BackendDirs;
use crate::credentials::local_state::{
    LocalDeploymentConfig, LocalDeploymentKind, LocalPorts, legacy_state_dir, legacy_state_root,
    load_anonymous_uuid, load_config_from_dir,
};
use crate::fsutil::write_atomic;
use crate::global_config::ConvexDirs;

/// `config.json` as written: field order matters.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile<'a> {
    ports: LocalPorts,
    backend_version: &'a str,
    admin_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_secret: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_project_id: Option<i64>,
    deployment_name: &'a str,
}

/// The exact text of a deployment's `config.json`.
pub fn config_file_text(config: &LocalDeploymentConfig, deployment_name: &str) -> String {
    serde_json::to_string(&ConfigFile {
        ports: config.ports,
        backend_version: &config.backend_version,
        admin_key: &config.admin_key,
        instance_secret: config.instance_secret.as_deref(),
        cloud_project_id: config.cloud_project_id,
        deployment_name,
    })
    .expect("a config always serialises")
}

/// Saves a deployment's config into its state folder (see
/// [`BackendDirs::deployment_state_dir`]) with `deploymentName` set, creating
/// `.convex/.gitignore` when `.convex/` exists without one. Returns the
/// state folder.
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
    let file = dir.join("config.json");
    // It holds the admin key: readable by its owner only.
    write_atomic(
        &file,
        config_file_text(config, deployment_name).as_bytes(),
        Some(0o600),
    )
    .with_context(|| format!("Could not write {}", file.display()))?;
    Ok(dir)
}

/// [`save_deployment_config`] for a config whose key order is the caller's
/// (the official CLI writes `JSON.stringify({...config, deploymentName})`,
/// so the order depends on how the object was built): `fields` as given,
/// then `deploymentName` (in place when `fields` has it).
pub fn save_deployment_config_fields(
    dirs: &ConvexDirs,
    project_dir: &Path,
    kind: LocalDeploymentKind,
    deployment_name: &str,
    mut fields: serde_json::Map<String, serde_json::Value>,
) -> Result<PathBuf> {
    fields.insert(
        "deploymentName".into(),
        serde_json::Value::String(deployment_name.to_string()),
    );
    let text = serde_json::Value::Object(fields).to_string();
    // It must read back as a config before it replaces one.
    serde_json::from_str::<LocalDeploymentConfig>(&text)
        .context("The local deployment's configuration is incomplete")?;
    let dir = dirs.deployment_state_dir(project_dir, kind, deployment_name);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("Could not create the folder {}", dir.display()))?;
    ensure_dot_convex_gitignore(project_dir)?;
    let file = dir.join("config.json");
    write_atomic(&file, text.as_bytes(), Some(0o600))
        .with_context(|| format!("Could not write {}", file.display()))?;
    Ok(dir)
}

/// Writes `<project>/.convex/.gitignore` (`/*`) when `.convex/` exists and has
/// none, so local state is never committed.
pub fn ensure_dot_convex_gitignore(project_dir: &Path) -> Result<()> {
    let dot_convex = project_dir.join(".convex");
    let gitignore = dot_convex.join(".gitignore");
    if dot_convex.exists() && !gitignore.exists() {
        write_atomic(&gitignore, b"/*\n", None)
            .with_context(|| format!("Could not write {}", gitignore.display()))?;
    }
    Ok(())
}

/// Deployments kept in the legacy home folders (`anonymous-*` or `local-*`
/// folders holding a readable `config.json`), sorted by name.
pub fn list_legacy_deployments(
    dirs: &ConvexDirs,
    kind: LocalDeploymentKind,
) -> Vec<(String, LocalDeploymentConfig)> {
    let prefix = match kind {
        LocalDeploymentKind::Anonymous => "anonymous-",
        LocalDeploymentKind::Local => "local-",
    };
    let Ok(entries) = std::fs::read_dir(legacy_state_root(dirs, kind)) else {
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
            let config = load_config_from_dir(&legacy_state_dir(dirs, kind, &name))?;
            Some((name, config))
        })
        .collect()
}

/// The anonymous user's id, creating `{"uuid":"<v4>"}` when there is none.
pub fn ensure_anonymous_user_id(dirs: &ConvexDirs) -> Result<String> {
    if let Some(uuid) = load_anonymous_uuid(dirs).filter(|u| !u.is_empty()) {
        return Ok(uuid);
    }
    let uuid = uuid::Uuid::new_v4().to_string();
    let file = dirs.anonymous_user_file();
    let dir = file.parent().expect("the file has a folder");
    std::fs::create_dir_all(dir)
        .with_context(|| format!("Could not create the folder {}", dir.display()))?;
    let text = serde_json::json!({ "uuid": uuid }).to_string();
    write_atomic(&file, text.as_bytes(), None)
        .with_context(|| format!("Could not write {}", file.display()))?;
    Ok(uuid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::local_state::{load_deployment_config, load_project_local_config};
    use crate::env::Env;

    fn sample() -> LocalDeploymentConfig {
        LocalDeploymentConfig {
            ports: LocalPorts {
                cloud: 3210,
                site: 3211,
            },
            backend_version: "precompiled-2026-11-20-fake001".into(),
            admin_key: "anonymous-proj|key".into(),
            instance_secret: Some("ab".repeat(32)),
            deployment_name: Some("ignored".into()),
            cloud_project_id: None,
        }
    }

    #[test]
    fn file_text_matches_the_official_shape() {
        let mut config = sample();
        assert_eq!(
            config_file_text(&config, "anonymous-proj"),
            format!(
                "{{\"ports\":{{\"cloud\":3210,\"site\":3211}},\"backendVersion\":\"precompiled-2026-11-20-fake001\",\"adminKey\":\"anonymous-proj|key\",\"instanceSecret\":\"{}\",\"deploymentName\":\"anonymous-proj\"}}",
                "ab".repeat(32)
            )
        );
        config.cloud_project_id = Some(2);
        assert!(
            config_file_text(&config, "local-a-b")
                .ends_with(",\"cloudProjectId\":2,\"deploymentName\":\"local-a-b\"}")
        );
    }

    #[test]
    fn save_then_load_and_gitignore() {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("p");
        std::fs::create_dir_all(&project).unwrap();
        let dirs = ConvexDirs::new(&tmp.path().join("h"), &Env::default());
        let kind = LocalDeploymentKind::Anonymous;
        let dir = save_deployment_config(&dirs, &project, kind, "anonymous-p", &sample()).unwrap();
        assert_eq!(
            dir,
            crate::credentials::local_state::project_local_state_dir(&project)
        );
        assert_eq!(
            std::fs::read_to_string(project.join(".convex/.gitignore")).unwrap(),
            "/*\n"
        );
        let text = std::fs::read_to_string(dir.join("config.json")).unwrap();
        assert!(text.ends_with("\"deploymentName\":\"anonymous-p\"}"));
        let (name, loaded) = load_project_local_config(&project).unwrap();
        assert_eq!(name, "anonymous-p");
        assert_eq!(loaded.admin_key, "anonymous-proj|key");
        assert!(load_deployment_config(&dirs, kind, "anonymous-q", &project).is_none());
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
    fn legacy_listing_skips_broken_and_foreign_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = ConvexDirs::new(tmp.path(), &Env::default());
        let kind = LocalDeploymentKind::Anonymous;
        for (name, text) in [
            ("anonymous-b", config_file_text(&sample(), "anonymous-b")),
            ("anonymous-a", config_file_text(&sample(), "anonymous-a")),
            ("anonymous-broken", "{not json".to_string()),
            ("other", config_file_text(&sample(), "other")),
        ] {
            let dir = legacy_state_dir(&dirs, kind, name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("config.json"), text).unwrap();
        }
        std::fs::create_dir_all(legacy_state_dir(&dirs, kind, "anonymous-empty")).unwrap();
        let names: Vec<String> = list_legacy_deployments(&dirs, kind)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["anonymous-a", "anonymous-b"]);
    }

    #[test]
    fn anonymous_user_id_is_created_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = ConvexDirs::new(tmp.path(), &Env::default());
        assert_eq!(load_anonymous_uuid(&dirs), None);
        let id = ensure_anonymous_user_id(&dirs).unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4', "a v4 uuid: {id}");
        assert_eq!(
            std::fs::read_to_string(dirs.anonymous_user_file()).unwrap(),
            format!("{{\"uuid\":\"{id}\"}}")
        );
        assert_eq!(ensure_anonymous_user_id(&dirs).unwrap(), id);
    }
}
