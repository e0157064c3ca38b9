//! Where local backends live on disk, on top of the global folders
//! ([`ConvexDirs`]: `~/.convex` and `~/.cache/convex`, renamed while
//! `CONVEX_PROVISION_HOST` is set).
//!
//! ```text
//! <cache>/binaries/<version>/convex-local-backend[.exe]
//! <cache>/dashboard/{config.json,out/}
//! <root>/anonymous-convex-backend-state/config.json        {"uuid":"..."}
//! <root>/anonymous-convex-backend-state/<anonymous-name>/   legacy anonymous state
//! <root>/convex-backend-state/local-<team>-<project>/       legacy linked-local state
//! <project>/.convex/local/default/                          current state folder
//! ```

use std::path::{Path, PathBuf};

use crate::credentials::local_state::{
    LocalDeploymentKind, legacy_state_dir, legacy_state_root, project_local_state_dir,
};
use crate::global_config::ConvexDirs;

/// The provision host the official CLI treats as production. Any other
/// `CONVEX_PROVISION_HOST` adds `--control-plane-url` to the backend's
/// arguments (when its version supports it).
pub const PRODUCTION_PROVISION_HOST: &str = "https://api.convex.dev";

/// Local-backend paths under the global folders.
pub trait BackendDirs {
    /// `<cache>/binaries`.
    fn binaries_dir(&self) -> PathBuf;
    /// `<cache>/binaries/<version>`.
    fn versioned_binary_dir(&self, version: &str) -> PathBuf;
    /// `<cache>/binaries/<version>/convex-local-backend[.exe]`.
    fn executable_path(&self, version: &str) -> PathBuf;
    /// `<root>/anonymous-convex-backend-state/config.json`: the anonymous user's id.
    fn anonymous_user_file(&self) -> PathBuf;
    /// The state folder a deployment uses: the project-local folder when it
    /// already holds a `config.json`, else the legacy folder when it exists,
    /// else the project-local folder (new deployments).
    fn deployment_state_dir(
        &self,
        project_dir: &Path,
        kind: LocalDeploymentKind,
        deployment_name: &str,
    ) -> PathBuf;
}

impl BackendDirs for ConvexDirs {
    fn binaries_dir(&self) -> PathBuf {
        self.cache.join("binaries")
    }

    fn versioned_binary_dir(&self, version: &str) -> PathBuf {
        self.binaries_dir().join(version)
    }

    fn executable_path(&self, version: &str) -> PathBuf {
        self.versioned_binary_dir(version).join(executable_name())
    }

    fn anonymous_user_file(&self) -> PathBuf {
        legacy_state_root(self, LocalDeploymentKind::Anonymous).join("config.json")
    }

    fn deployment_state_dir(
        &self,
        project_dir: &Path,
        kind: LocalDeploymentKind,
        deployment_name: &str,
    ) -> PathBuf {
        let local = project_local_state_dir(project_dir);
        if local.join("config.json").exists() {
            return local;
        }
        let legacy = legacy_state_dir(self, kind, deployment_name);
        if legacy.is_dir() {
            return legacy;
        }
        local
    }
}

/// The name of the backend executable inside a version folder and a release zip.
pub fn executable_name() -> &'static str {
    if cfg!(windows) {
        "convex-local-backend.exe"
    } else {
        "convex-local-backend"
    }
}

/// The release asset for this machine, or `None` where no backend is published.
pub fn release_asset_name() -> Option<&'static str> {
    release_asset_name_for(std::env::consts::OS, std::env::consts::ARCH)
}

pub(crate) fn release_asset_name_for(os: &str, arch: &str) -> Option<&'static str> {
    Some(match (os, arch) {
        ("macos", "aarch64") => "convex-local-backend-aarch64-apple-darwin.zip",
        ("macos", "x86_64") => "convex-local-backend-x86_64-apple-darwin.zip",
        ("linux", "aarch64") => "convex-local-backend-aarch64-unknown-linux-gnu.zip",
        ("linux", "x86_64") => "convex-local-backend-x86_64-unknown-linux-gnu.zip",
        // Only an x86_64 build is published; Windows on ARM runs it emulated.
        ("windows", _) => "convex-local-backend-x86_64-pc-windows-msvc.zip",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;

    #[cfg(unix)]
    #[test]
    fn cache_paths_follow_the_provision_host() {
        let dirs = ConvexDirs::new(
            Path::new("/home/u"),
            &Env::from_pairs([("CONVEX_PROVISION_HOST", "http://127.0.0.1:4321")]),
        );
        assert_eq!(
            dirs.executable_path("precompiled-2026-01-01-abc"),
            Path::new(
                "/home/u/.cache/convex-test-4321/binaries/precompiled-2026-01-01-abc/convex-local-backend"
            )
        );
        assert_eq!(
            dirs.anonymous_user_file(),
            Path::new("/home/u/.convex-test-4321/anonymous-convex-backend-state/config.json")
        );
    }

    #[test]
    fn release_assets() {
        assert_eq!(
            release_asset_name_for("linux", "x86_64"),
            Some("convex-local-backend-x86_64-unknown-linux-gnu.zip")
        );
        assert_eq!(
            release_asset_name_for("macos", "aarch64"),
            Some("convex-local-backend-aarch64-apple-darwin.zip")
        );
        assert_eq!(
            release_asset_name_for("windows", "aarch64"),
            Some("convex-local-backend-x86_64-pc-windows-msvc.zip")
        );
        assert_eq!(release_asset_name_for("freebsd", "x86_64"), None);
        assert_eq!(release_asset_name_for("linux", "riscv64"), None);
    }

    #[test]
    fn state_dir_prefers_project_local_then_legacy() {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("project");
        std::fs::create_dir_all(&project).unwrap();
        let dirs = ConvexDirs::new(&tmp.path().join("home"), &Env::default());
        let kind = LocalDeploymentKind::Anonymous;
        let local = project_local_state_dir(&project);
        // Nothing anywhere: project-local.
        assert_eq!(
            dirs.deployment_state_dir(&project, kind, "anonymous-x"),
            local
        );
        // A legacy folder exists: legacy.
        let legacy = legacy_state_dir(&dirs, kind, "anonymous-x");
        std::fs::create_dir_all(&legacy).unwrap();
        assert_eq!(
            dirs.deployment_state_dir(&project, kind, "anonymous-x"),
            legacy
        );
        // Project-local with a config wins over legacy.
        std::fs::create_dir_all(&local).unwrap();
        std::fs::write(local.join("config.json"), "{}").unwrap();
        assert_eq!(
            dirs.deployment_state_dir(&project, kind, "anonymous-x"),
            local
        );
    }
}
