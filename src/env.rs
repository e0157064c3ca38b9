//! The environment as a command sees it, without ever mutating the process
//! environment.
//!
//! The official CLI merges `./.env.local` and then `./.env` into the process
//! environment (a variable already present, even empty, is never replaced) and
//! reads everything from there. [`Env`] reproduces that merge as a value that
//! remembers where each variable came from, so that
//! - selection and auth read merged values ([`Env::get`], [`Env::non_empty`]);
//! - `login status` can tell the user which file a deploy key came from;
//! - child processes (`--cmd`, `--start`) can be given the merged environment
//!   with [`Env::apply_to_command`].
//!
//! With `--env-file F` the official CLI reads deployment variables from `F`
//! only; that is [`Env::from_file_only`], used by the credential resolver.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::dotenv;

/// Where a variable's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    /// The real process environment.
    Process,
    /// A dotenv file merged in (`.env.local`, `.env`, or an `--env-file`).
    File(PathBuf),
}

#[derive(Debug, Clone)]
struct EnvValue {
    value: String,
    source: EnvSource,
}

/// A snapshot of environment variables with their sources.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, EnvValue>,
}

/// The dotenv files merged after the real environment, in order.
pub const DOTENV_FILES: [&str; 2] = [".env.local", ".env"];

impl Env {
    /// The real process environment only (variables that are not valid UTF-8
    /// are skipped: none of the ones the CLI reads can be).
    pub fn from_process() -> Env {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .map(|(k, value)| {
                (
                    k,
                    EnvValue {
                        value,
                        source: EnvSource::Process,
                    },
                )
            })
            .collect();
        Env { vars }
    }

    /// Build from explicit pairs, all marked as coming from the process
    /// environment (for tests and embedding).
    pub fn from_pairs<I, K, V>(pairs: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| {
                (
                    k.into(),
                    EnvValue {
                        value: v.into(),
                        source: EnvSource::Process,
                    },
                )
            })
            .collect();
        Env { vars }
    }

    /// The variables of one dotenv file and nothing else (`--env-file`).
    pub fn from_file_only(path: &Path, contents: &str) -> Env {
        let mut env = Env::default();
        env.merge_dotenv(path, contents);
        env
    }

    /// Add the variables of dotenv text that are not present yet (present
    /// includes "set to the empty string"), as npm dotenv does.
    pub fn merge_dotenv(&mut self, path: &Path, contents: &str) {
        for (key, value) in dotenv::parse_map(contents) {
            self.vars.entry(key).or_insert_with(|| EnvValue {
                value,
                source: EnvSource::File(path.to_path_buf()),
            });
        }
    }

    /// Merge `./.env.local` then `./.env` (relative to `cwd`, no search
    /// upwards). Missing or unreadable files are skipped; text that is not
    /// UTF-8 is decoded with replacement characters, as the official CLI does.
    pub fn merge_project_dotenv_files(&mut self, cwd: &Path) {
        for name in DOTENV_FILES {
            let path = cwd.join(name);
            // Bytes that are not UTF-8 (a Latin-1 comment) must not hide the
            // whole file: decode as Node does, with U+FFFD replacements.
            if let Ok(bytes) = std::fs::read(&path) {
                self.merge_dotenv(Path::new(name), &String::from_utf8_lossy(&bytes));
            }
        }
    }

    /// The value, if the variable is present (possibly empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.value.as_str())
    }

    /// The value if present and non-empty; an empty value counts as unset,
    /// as everywhere in the official CLI's selection logic.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Whether the variable is present and non-empty.
    pub fn is_truthy(&self, name: &str) -> bool {
        self.non_empty(name).is_some()
    }

    /// Where the variable came from.
    pub fn source(&self, name: &str) -> Option<&EnvSource> {
        self.vars.get(name).map(|v| &v.source)
    }

    /// Set a variable (e.g. for tests); marked as a process variable.
    pub fn set(&mut self, name: &str, value: &str) {
        self.vars.insert(
            name.to_string(),
            EnvValue {
                value: value.to_string(),
                source: EnvSource::Process,
            },
        );
    }

    /// Remove a variable.
    pub fn remove(&mut self, name: &str) {
        self.vars.remove(name);
    }

    /// All variables with their values, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.value.as_str()))
    }

    /// Variables that came from dotenv files (not the real environment).
    pub fn file_vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars
            .iter()
            .filter(|(_, v)| matches!(v.source, EnvSource::File(_)))
            .map(|(k, v)| (k.as_str(), v.value.as_str()))
    }

    /// Give a child process the merged environment: it inherits the real
    /// environment anyway, so only the file variables are added.
    /// (`GOGC` set for esbuild is taken out again.)
    pub fn apply_to_command(&self, command: &mut std::process::Command) {
        crate::bundler::hide_esbuild_gc_target_std(command);
        command.envs(self.file_vars());
    }

    /// Same as [`Env::apply_to_command`] for tokio processes.
    pub fn apply_to_tokio_command(&self, command: &mut tokio::process::Command) {
        crate::bundler::hide_esbuild_gc_target(command);
        command.envs(self.file_vars());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_env_beats_env_local_beats_env() {
        let mut env = Env::from_pairs([("A", "shell"), ("EMPTY", "")]);
        env.merge_dotenv(Path::new(".env.local"), "A=local\nB=local\nEMPTY=local\n");
        env.merge_dotenv(Path::new(".env"), "A=dot\nB=dot\nC=dot\n");
        assert_eq!(env.get("A"), Some("shell"));
        assert_eq!(env.get("B"), Some("local"));
        assert_eq!(env.get("C"), Some("dot"));
        // An empty real variable blocks the file value and counts as unset.
        assert_eq!(env.get("EMPTY"), Some(""));
        assert_eq!(env.non_empty("EMPTY"), None);
        assert_eq!(env.source("A"), Some(&EnvSource::Process));
        assert_eq!(
            env.source("B"),
            Some(&EnvSource::File(PathBuf::from(".env.local")))
        );
        let mut files: Vec<_> = env.file_vars().map(|(k, _)| k.to_string()).collect();
        files.sort();
        assert_eq!(files, ["B", "C"]);
    }

    #[test]
    fn env_file_only_ignores_everything_else() {
        let env = Env::from_file_only(Path::new("ci.env"), "CONVEX_DEPLOYMENT=dev:x\n");
        assert_eq!(env.get("CONVEX_DEPLOYMENT"), Some("dev:x"));
        assert_eq!(env.get("PATH"), None);
    }
}
