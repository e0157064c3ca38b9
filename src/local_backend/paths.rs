//! Where local backends live on disk: the global state and cache folders, the
//! cached binaries, and each deployment's state folder.
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

use super::LocalDeploymentKind;

/// The provision host the official CLI treats as production. Any other
/// `CONVEX_PROVISION_HOST` renames the global folders and adds
/// `--control-plane-url` to the backend's arguments.
pub const PRODUCTION_PROVISION_HOST: &str = "https://api.convex.dev";

/// The name of the global folders: `convex`, or a test name while
/// `CONVEX_PROVISION_HOST` is set (to a non-empty value).
///
/// The "port" is the third `:`-separated piece of the host, taken verbatim, as
/// the official CLI does: `http://127.0.0.1:18050` → `convex-test-18050`; no
/// third piece or `8050` → `convex-test`.
pub fn convex_dir_name(provision_host: Option<&str>) -> String {
    match provision_host.filter(|h| !h.is_empty()) {
        None => "convex".to_string(),
        Some(host) => match host.split(':').nth(2) {
            None | Some("8050") => "convex-test".to_string(),
            Some(port) => format!("convex-test-{port}"),
        },
    }
}

/// The two global folders: `root` (`~/.convex`) holds legacy deployment state
/// and the anonymous user id; `cache` (`~/.cache/convex`) holds binaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvexDirs {
    pub root: PathBuf,
    pub cache: PathBuf,
}

/// What the Windows cache location depends on.
#[derive(Clone, Debug, Default)]
pub struct WindowsAppData {
    pub local_app_data: Option<PathBuf>,
    pub user_profile: Option<PathBuf>,
}

impl ConvexDirs {
    /// The folders for this platform. `windows` is only read on Windows.
    pub fn resolve(home: &Path, provision_host: Option<&str>, windows: &WindowsAppData) -> Self {
        let name = convex_dir_name(provision_host);
        let root = home.join(format!(".{name}"));
        let cache = if cfg!(windows) {
            // %LOCALAPPDATA%\<name>, else %USERPROFILE%\AppData\Local\<name>,
            // else <home>\AppData\Local\<name>.
            match (&windows.local_app_data, &windows.user_profile) {
                (Some(local), _) if !local.as_os_str().is_empty() => local.join(&name),
                (_, Some(profile)) if !profile.as_os_str().is_empty() => {
                    profile.join("AppData").join("Local").join(&name)
                }
                _ => home.join("AppData").join("Local").join(&name),
            }
        } else {
            home.join(".cache").join(&name)
        };
        ConvexDirs { root, cache }
    }

    pub fn binaries_dir(&self) -> PathBuf {
        self.cache.join("binaries")
    }

    pub fn versioned_binary_dir(&self, version: &str) -> PathBuf {
        self.binaries_dir().join(version)
    }

    pub fn executable_path(&self, version: &str) -> PathBuf {
        self.versioned_binary_dir(version).join(executable_name())
    }

    pub fn dashboard_dir(&self) -> PathBuf {
        self.cache.join("dashboard")
    }

    /// `<root>/convex-backend-state` or `<root>/anonymous-convex-backend-state`.
    pub fn legacy_state_root(&self, kind: LocalDeploymentKind) -> PathBuf {
        self.root.join(match kind {
            LocalDeploymentKind::Local => "convex-backend-state",
            LocalDeploymentKind::Anonymous => "anonymous-convex-backend-state",
        })
    }

    pub fn legacy_state_dir(&self, kind: LocalDeploymentKind, deployment_name: &str) -> PathBuf {
        self.legacy_state_root(kind).join(deployment_name)
    }

    /// The file holding the anonymous user's id.
    pub fn anonymous_user_file(&self) -> PathBuf {
        self.legacy_state_root(LocalDeploymentKind::Anonymous)
            .join("config.json")
    }

    /// The state folder a deployment uses: the project-local folder when it
    /// already holds a `config.json`, else the legacy folder when it exists,
    /// else the project-local folder (new deployments).
    pub fn deployment_state_dir(
        &self,
        project_dir: &Path,
        kind: LocalDeploymentKind,
        deployment_name: &str,
    ) -> PathBuf {
        let local = project_local_state_dir(project_dir);
        if local.join("config.json").exists() {
            return local;
        }
        let legacy = self.legacy_state_dir(kind, deployment_name);
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

/// `<project>/.convex/local/default`: one deployment per project folder.
pub fn project_local_state_dir(project_dir: &Path) -> PathBuf {
    project_dir.join(".convex").join("local").join("default")
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

    #[test]
    fn dir_name_follows_the_provision_host() {
        assert_eq!(convex_dir_name(None), "convex");
        assert_eq!(convex_dir_name(Some("")), "convex");
        assert_eq!(
            convex_dir_name(Some("http://127.0.0.1:18050")),
            "convex-test-18050"
        );
        assert_eq!(
            convex_dir_name(Some("http://127.0.0.1:8050")),
            "convex-test"
        );
        assert_eq!(
            convex_dir_name(Some("https://api.example.com")),
            "convex-test"
        );
        // Taken verbatim, as the official CLI does.
        assert_eq!(
            convex_dir_name(Some("http://127.0.0.1:9000/")),
            "convex-test-9000/"
        );
    }

    #[cfg(unix)]
    #[test]
    fn unix_folders() {
        let dirs = ConvexDirs::resolve(
            Path::new("/home/u"),
            Some("http://127.0.0.1:4321"),
            &WindowsAppData::default(),
        );
        assert_eq!(dirs.root, Path::new("/home/u/.convex-test-4321"));
        assert_eq!(dirs.cache, Path::new("/home/u/.cache/convex-test-4321"));
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
        assert_eq!(
            dirs.legacy_state_dir(LocalDeploymentKind::Local, "local-a-b"),
            Path::new("/home/u/.convex-test-4321/convex-backend-state/local-a-b")
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
        let home = tmp.path().join("home");
        let project = tmp.path().join("project");
        std::fs::create_dir_all(&project).unwrap();
        let dirs = ConvexDirs::resolve(&home, None, &WindowsAppData::default());
        let kind = LocalDeploymentKind::Anonymous;
        let local = project_local_state_dir(&project);
        // Nothing anywhere: project-local.
        assert_eq!(
            dirs.deployment_state_dir(&project, kind, "anonymous-x"),
            local
        );
        // A legacy folder exists: legacy.
        let legacy = dirs.legacy_state_dir(kind, "anonymous-x");
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
