//! The global state folder (`~/.convex`), the cache folder (`~/.cache/convex`)
//! and `config.json`, which holds the account access token.
//!
//! While `CONVEX_PROVISION_HOST` is set, the official CLI renames both folders
//! so that test runs never touch a real login: the third `:`-separated piece of
//! the host (its port) is appended, e.g. `http://127.0.0.1:8765` gives
//! `~/.convex-test-8765` and `~/.cache/convex-test-8765`; no port, or port
//! 8050, gives `~/.convex-test`. [`ConvexDirs`] reproduces that naming.

use anyhow::{Context as _, Result};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

use crate::{env::Env, env_vars, fsutil, output};

/// Where the CLI keeps global state and caches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvexDirs {
    /// `~/.convex` (or `~/.convex-test-<port>`): `config.json`, anonymous and
    /// legacy local backend state.
    pub root: PathBuf,
    /// `~/.cache/convex` (or `~/.cache/convex-test-<port>`): backend binaries,
    /// dashboard.
    pub cache: PathBuf,
}

/// `convex`, `convex-test` or `convex-test-<port>`.
pub fn convex_dir_name(provision_host: Option<&str>) -> String {
    match provision_host.filter(|h| !h.is_empty()) {
        None => "convex".to_string(),
        Some(host) => match host.split(':').nth(2) {
            None | Some("8050") => "convex-test".to_string(),
            Some(port) => format!("convex-test-{port}"),
        },
    }
}

impl ConvexDirs {
    /// Compute the folders from the home directory and the environment
    /// (`CONVEX_PROVISION_HOST`; on Windows `LOCALAPPDATA` / `USERPROFILE`).
    pub fn new(home: &Path, env: &Env) -> ConvexDirs {
        let name = convex_dir_name(env.non_empty(env_vars::CONVEX_PROVISION_HOST));
        let root = home.join(format!(".{name}"));
        let cache = if cfg!(windows) {
            if let Some(local) = env.non_empty(env_vars::LOCALAPPDATA) {
                PathBuf::from(local).join(&name)
            } else if let Some(profile) = env.non_empty(env_vars::USERPROFILE) {
                PathBuf::from(profile)
                    .join("AppData")
                    .join("Local")
                    .join(&name)
            } else {
                home.join("AppData").join("Local").join(&name)
            }
        } else {
            home.join(".cache").join(&name)
        };
        ConvexDirs { root, cache }
    }

    /// `<root>/config.json`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }
}

/// The home directory, found as Node's `os.homedir()` finds it for the
/// official CLI: `$HOME`, else the user database, on Unix; `%USERPROFILE%`,
/// else the profile folder Windows reports, on Windows.
pub fn home_dir() -> Result<PathBuf> {
    #[cfg(windows)]
    if let Some(profile) =
        env_vars::process_value(env_vars::USERPROFILE).filter(|value| !value.is_empty())
    {
        return Ok(PathBuf::from(profile));
    }
    let variable = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    dirs::home_dir()
        .with_context(|| format!("could not determine your home directory (set {variable})"))
}

/// Read the account access token from `config.json`.
///
/// Missing or unreadable file: `None`, silently. Invalid JSON or no non-empty
/// `accessToken` string: a warning line on stderr and `None` (the official CLI
/// also carries on as "not logged in").
pub fn read_access_token(dirs: &ConvexDirs) -> Option<String> {
    let path = dirs.config_path();
    let text = std::fs::read_to_string(&path).ok()?;
    match parse_access_token(&text) {
        Ok(token) => Some(token),
        Err(why) => {
            output::error_line(&format!(
                "Ignoring {}: {why}. Run `npx convex login` to log in again.",
                path.display()
            ));
            None
        }
    }
}

fn parse_access_token(text: &str) -> std::result::Result<String, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("it is not valid JSON ({e})"))?;
    match value.get("accessToken") {
        Some(Value::String(token)) if !token.is_empty() => Ok(token.clone()),
        Some(_) => Err("its `accessToken` is not a non-empty string".to_string()),
        None => Err("it has no `accessToken`".to_string()),
    }
}

/// Write `accessToken` into `config.json`, keeping every other key of an
/// existing file in its place. The folder is created (mode 0700) if missing;
/// the file is written atomically with mode 0600, as JSON with 2-space
/// indentation and no trailing newline (byte-compatible with the official CLI).
pub fn save_access_token(dirs: &ConvexDirs, access_token: &str) -> Result<PathBuf> {
    let path = dirs.config_path();
    let mut object = Map::new();
    if let Ok(text) = std::fs::read_to_string(&path) {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(existing)) => object = existing,
            _ => output::warning(&format!(
                "{} was not a JSON object; replacing it.",
                path.display()
            )),
        }
    }
    object.insert(
        "accessToken".to_string(),
        Value::String(access_token.to_string()),
    );
    let text = serde_json::to_string_pretty(&Value::Object(object))?;
    fsutil::create_private_dir(&dirs.root)
        .with_context(|| format!("Failed to create {}", dirs.root.display()))?;
    fsutil::write_atomic(&path, text.as_bytes(), Some(0o600))
        .with_context(|| format!("Failed to write credentials to {}", path.display()))?;
    Ok(path)
}

/// Delete `config.json` (the folder and anonymous state stay). Succeeds if the
/// file does not exist.
pub fn delete_config(dirs: &ConvexDirs) -> Result<()> {
    let path = dirs.config_path();
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("Failed to delete {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_follow_the_provision_host() {
        assert_eq!(convex_dir_name(None), "convex");
        assert_eq!(convex_dir_name(Some("")), "convex");
        assert_eq!(
            convex_dir_name(Some("http://127.0.0.1:8765")),
            "convex-test-8765"
        );
        assert_eq!(
            convex_dir_name(Some("http://127.0.0.1:8050")),
            "convex-test"
        );
        assert_eq!(
            convex_dir_name(Some("https://api.example.test")),
            "convex-test"
        );
    }

    #[test]
    fn dirs_under_home() {
        let env = Env::from_pairs([("CONVEX_PROVISION_HOST", "http://127.0.0.1:9000/")]);
        let dirs = ConvexDirs::new(Path::new("/home/u"), &env);
        assert_eq!(
            dirs.config_path(),
            Path::new("/home/u/.convex-test-9000/config.json")
        );
        if !cfg!(windows) {
            assert_eq!(dirs.cache, Path::new("/home/u/.cache/convex-test-9000"));
        }
        let dirs = ConvexDirs::new(Path::new("/home/u"), &Env::default());
        assert_eq!(dirs.root, Path::new("/home/u/.convex"));
    }

    #[test]
    fn save_keeps_unknown_keys_and_writes_no_trailing_newline() {
        let home = tempfile::tempdir().unwrap();
        let dirs = ConvexDirs::new(home.path(), &Env::default());
        std::fs::create_dir(&dirs.root).unwrap();
        std::fs::write(
            dirs.config_path(),
            r#"{"other": [1, 2], "accessToken": "old", "z": {}}"#,
        )
        .unwrap();
        save_access_token(&dirs, "new").unwrap();
        let text = std::fs::read_to_string(dirs.config_path()).unwrap();
        assert_eq!(
            text,
            "{\n  \"other\": [\n    1,\n    2\n  ],\n  \"accessToken\": \"new\",\n  \"z\": {}\n}"
        );
        assert_eq!(read_access_token(&dirs).as_deref(), Some("new"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dirs.config_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn fresh_config_has_only_the_token() {
        let home = tempfile::tempdir().unwrap();
        let dirs = ConvexDirs::new(home.path(), &Env::default());
        save_access_token(&dirs, "tok").unwrap();
        assert_eq!(
            std::fs::read_to_string(dirs.config_path()).unwrap(),
            "{\n  \"accessToken\": \"tok\"\n}"
        );
        delete_config(&dirs).unwrap();
        assert!(!dirs.config_path().exists());
        delete_config(&dirs).unwrap();
    }

    #[test]
    fn invalid_config_reads_as_logged_out() {
        assert!(parse_access_token("{").is_err());
        assert!(parse_access_token(r#"{"accessToken": ""}"#).is_err());
        assert!(parse_access_token(r#"{"accessToken": 3}"#).is_err());
        assert_eq!(
            parse_access_token(r#"{"accessToken": "t", "x": 1}"#).unwrap(),
            "t"
        );
    }
}
