//! Typechecking the functions with the project's own TypeScript compiler.
//!
//! As the official CLI: `node <compiler> --project <dir> --listFiles`, and
//! only on failure a second run with `--pretty` to show the errors. Exit 0,
//! or the "no inputs" error TS18003, is a success. Differences: the compiler
//! is looked up in `node_modules` of the project root **and its ancestors**
//! (so hoisted monorepo installs work), and its version is read from its
//! `package.json` instead of running `--version`.
//!
//! Modes: `disable` does nothing; `try` skips quietly when there is no
//! compiler or no `tsconfig.json`; `enable` fails then.
//!
//! The hidden `convex typecheck` command runs the compiler exactly as the
//! official command does ([`Invocation::COMMAND`]): `--version` first, the
//! functions folder as the project relative to the working directory, and
//! `--pretty true` for the errors. Pushes use [`Invocation::PUSH`].

use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::error::{ErrorCategory, PushError, PushResult};
use super::output::PushOutput;
use crate::commands::TypecheckMode;
use crate::project::TypescriptCompiler;

/// A compiler found in the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiler {
    pub kind: TypescriptCompiler,
    /// The script `node` runs.
    pub script: PathBuf,
    /// The version in the compiler package's `package.json`.
    pub version: Option<String>,
}

impl Compiler {
    pub fn name(&self) -> &'static str {
        self.kind.as_str()
    }
}

/// Finds the compiler in `node_modules` of `project_root` or the nearest
/// ancestor that has one. `tsc`: `@typescript/native/bin/tsc` (TypeScript
/// 7), then `typescript/bin/tsc`; `tsgo`:
/// `@typescript/native-preview/bin/tsgo`, then `…/tsgo.js`.
pub fn find_compiler(project_root: &Path, kind: TypescriptCompiler) -> Option<Compiler> {
    let candidates: &[(&str, &str)] = match kind {
        TypescriptCompiler::Tsc => &[("@typescript/native", "bin/tsc"), ("typescript", "bin/tsc")],
        TypescriptCompiler::Tsgo => &[
            ("@typescript/native-preview", "bin/tsgo"),
            ("@typescript/native-preview", "bin/tsgo.js"),
        ],
    };
    project_root
        .ancestors()
        .filter(|dir| dir.file_name().is_none_or(|n| n != "node_modules"))
        .find_map(|dir| {
            candidates.iter().find_map(|(package, bin)| {
                let package_dir = dir.join("node_modules").join(package);
                let script = package_dir.join(bin);
                script.is_file().then(|| Compiler {
                    kind,
                    version: read_version(&package_dir),
                    script,
                })
            })
        })
}

fn read_version(package_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(package_dir.join("package.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("version")?.as_str().map(str::to_string)
}

/// Whether `version` is older than 4.8.4 (Convex's recommended minimum).
fn is_older_than_recommended(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or(version);
    let parts: Vec<u64> = core.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    let get = |i: usize| parts.get(i).copied().unwrap_or(0);
    (get(0), get(1), get(2)) < (4, 8, 4)
}

/// The result of typechecking one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypecheckOutcome {
    /// Mode `disable`, or `try` without compiler / tsconfig.
    Skipped,
    Passed {
        /// Files the compiler read (`--listFiles`), for `dev`'s watcher.
        files: Vec<PathBuf>,
    },
    Failed {
        files: Vec<PathBuf>,
        /// The compiler's own report (`--pretty`).
        diagnostics: String,
    },
}

/// How the compiler is run (the same steps either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invocation {
    /// Run `<compiler> --version` first and take the version from its
    /// `Version x.y.z` line (otherwise it comes from `package.json`).
    pub probe_version: bool,
    /// `--pretty` value of the error run; `None`: `true` only when stderr
    /// shows colours.
    pub pretty: Option<bool>,
}

impl Invocation {
    /// The push pipeline's: no extra Node start for the version.
    pub const PUSH: Invocation = Invocation {
        probe_version: false,
        pretty: None,
    };
    /// The `typecheck` command's, as the official command runs it.
    pub const COMMAND: Invocation = Invocation {
        probe_version: true,
        pretty: Some(true),
    };
}

/// What is needed to typecheck: mode, compiler and where `node` is.
#[derive(Debug, Clone)]
pub struct Typechecker {
    pub mode: TypecheckMode,
    pub compiler: Option<Compiler>,
    pub kind: TypescriptCompiler,
    /// The `node` program (`node` from `PATH` by default).
    pub node: PathBuf,
}

impl Typechecker {
    pub fn new(
        mode: TypecheckMode,
        project_root: &Path,
        kind: Option<TypescriptCompiler>,
    ) -> Typechecker {
        let kind = kind.unwrap_or(TypescriptCompiler::Tsc);
        let compiler = if mode == TypecheckMode::Disable {
            None
        } else {
            find_compiler(project_root, kind)
        };
        Typechecker {
            mode,
            compiler,
            kind,
            node: PathBuf::from("node"),
        }
    }

    /// Whether [`Typechecker::check`] would run the compiler on `dir` (so it
    /// is worth preparing for).
    pub fn will_run(&self, dir: &Path) -> bool {
        self.mode != TypecheckMode::Disable
            && self.compiler.is_some()
            && dir.join("tsconfig.json").exists()
    }

    /// Typechecks `dir`. A missing compiler or `tsconfig.json` is an error
    /// in `enable` mode and a quiet skip in `try` mode.
    pub async fn check(&self, dir: &Path, output: &dyn PushOutput) -> PushResult<TypecheckOutcome> {
        self.check_with(dir, &dir.display().to_string(), Invocation::PUSH, output)
            .await
    }

    /// [`Typechecker::check`], passing `project_arg` to `--project` (the
    /// folder `dir` as the user should see it) and running the compiler as
    /// `invocation` says.
    pub async fn check_with(
        &self,
        dir: &Path,
        project_arg: &str,
        invocation: Invocation,
        output: &dyn PushOutput,
    ) -> PushResult<TypecheckOutcome> {
        if self.mode == TypecheckMode::Disable {
            return Ok(TypecheckOutcome::Skipped);
        }
        let enable = self.mode == TypecheckMode::Enable;
        if !dir.join("tsconfig.json").exists() {
            if !enable {
                return Ok(TypecheckOutcome::Skipped);
            }
            return Err(PushError::invalid_files(format!(
                "Found no {} to use to typecheck Convex functions.\nRun `npx convex codegen --init` to create one, or use `--typecheck=disable`.",
                dir.join("tsconfig.json").display()
            )));
        }
        let Some(compiler) = &self.compiler else {
            if !enable {
                return Ok(TypecheckOutcome::Skipped);
            }
            return Err(PushError::invalid_files(format!(
                "No `{}` binary found in node_modules (of this folder or any folder above), so the typecheck cannot run.\nInstall TypeScript (`npm install --save-dev typescript`), or use `--typecheck=disable`.",
                self.kind.as_str()
            )));
        };
        let project = project_arg;
        let cannot_run = |e: std::io::Error| -> PushResult<TypecheckOutcome> {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(PushError::new(
                    ErrorCategory::Transient,
                    format!("Could not run {}: {e}", compiler.script.display()),
                ));
            }
            if !enable {
                output.note("Node.js was not found on your PATH, so skipping typecheck.");
                return Ok(TypecheckOutcome::Skipped);
            }
            Err(PushError::invalid_files(
                "Node.js was not found on your PATH, so the typecheck cannot run.\nInstall Node.js, or use `--typecheck=disable`.",
            ))
        };
        let mut version = compiler.version.clone();
        if invocation.probe_version {
            match self.run(compiler, &["--version"]).await {
                Ok(out) => {
                    let stdout = String::from_utf8_lossy(&out.stdout);
                    version = stdout
                        .lines()
                        .find_map(|l| l.split_once("Version ").map(|(_, v)| v.trim().to_string()))
                        .or(version);
                }
                Err(e) => return cannot_run(e),
            }
        }
        let first = match self
            .run(compiler, &["--project", project, "--listFiles"])
            .await
        {
            Ok(out) => out,
            Err(e) => return cannot_run(e),
        };
        let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
        let files: Vec<PathBuf> = stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| dir.join(l))
            .filter(|p| p.exists())
            .collect();
        let outcome = if first.status.success() || stdout.starts_with("error TS18003") {
            TypecheckOutcome::Passed { files }
        } else {
            output.progress("Collecting TypeScript errors");
            let pretty = if invocation
                .pretty
                .unwrap_or_else(crate::output::colors_enabled)
            {
                "true"
            } else {
                "false"
            };
            let second = self
                .run(compiler, &["--project", project, "--pretty", pretty])
                .await
                .map_err(|e| {
                    PushError::new(
                        ErrorCategory::Transient,
                        format!("Could not run {}: {e}", compiler.script.display()),
                    )
                })?;
            if second.status.success() {
                // A file changed between the two runs and fixed the error.
                TypecheckOutcome::Passed { files }
            } else {
                let mut diagnostics = String::from_utf8_lossy(&second.stdout).into_owned();
                diagnostics.push_str(&String::from_utf8_lossy(&second.stderr));
                TypecheckOutcome::Failed { files, diagnostics }
            }
        };
        if let Some(version) = &version
            && compiler.kind == TypescriptCompiler::Tsc
            && is_older_than_recommended(version)
        {
            output.warning(
                "Convex works best with TypeScript version 4.8.4 or newer -- npm i --save-dev typescript@latest to update.",
            );
        }
        Ok(outcome)
    }

    async fn run(
        &self,
        compiler: &Compiler,
        args: &[&str],
    ) -> std::io::Result<std::process::Output> {
        tokio::process::Command::new(&self.node)
            .arg(&compiler.script)
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
    }
}

/// The error for a failed typecheck, with the compiler's report.
pub fn failure(compiler: &str, diagnostics: &str) -> PushError {
    let diagnostics = diagnostics.trim_end();
    PushError::invalid_files(format!(
        "TypeScript typecheck via `{compiler}` failed.\n{diagnostics}\nTo ignore failing typecheck, use `--typecheck=disable`."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_comparison() {
        assert!(is_older_than_recommended("4.8.3"));
        assert!(is_older_than_recommended("3.9.10"));
        assert!(!is_older_than_recommended("4.8.4"));
        assert!(!is_older_than_recommended("5.9.3"));
        assert!(!is_older_than_recommended("7.0.0-dev.20250101.1"));
    }

    #[test]
    fn compiler_lookup_walks_up() {
        let root = tempfile::tempdir().unwrap();
        let app = root.path().join("apps/web");
        std::fs::create_dir_all(&app).unwrap();
        assert_eq!(find_compiler(&app, TypescriptCompiler::Tsc), None);
        let ts = root.path().join("node_modules/typescript");
        std::fs::create_dir_all(ts.join("bin")).unwrap();
        std::fs::write(ts.join("bin/tsc"), "").unwrap();
        std::fs::write(ts.join("package.json"), r#"{"version": "5.9.3"}"#).unwrap();
        let found = find_compiler(&app, TypescriptCompiler::Tsc).unwrap();
        assert_eq!(found.script, ts.join("bin/tsc"));
        assert_eq!(found.version.as_deref(), Some("5.9.3"));
        // A closer install wins, and TypeScript 7's alias comes first.
        let native = app.join("node_modules/@typescript/native");
        std::fs::create_dir_all(native.join("bin")).unwrap();
        std::fs::write(native.join("bin/tsc"), "").unwrap();
        assert_eq!(
            find_compiler(&app, TypescriptCompiler::Tsc).unwrap().script,
            native.join("bin/tsc")
        );
        assert_eq!(find_compiler(&app, TypescriptCompiler::Tsgo), None);
    }

    #[tokio::test]
    async fn try_mode_skips_without_tsconfig_or_compiler() {
        let dir = tempfile::tempdir().unwrap();
        let out = crate::push::output::RecordingOutput::default();
        let checker = Typechecker::new(TypecheckMode::Try, dir.path(), None);
        assert_eq!(
            checker.check(dir.path(), &out).await.unwrap(),
            TypecheckOutcome::Skipped
        );
        std::fs::write(dir.path().join("tsconfig.json"), "{}").unwrap();
        assert_eq!(
            checker.check(dir.path(), &out).await.unwrap(),
            TypecheckOutcome::Skipped
        );
        let enable = Typechecker::new(TypecheckMode::Enable, dir.path(), None);
        let err = enable.check(dir.path(), &out).await.unwrap_err();
        assert_eq!(err.category, ErrorCategory::InvalidFilesystemData);
        assert!(err.to_string().contains("No `tsc` binary found"));
        let disabled = Typechecker::new(TypecheckMode::Disable, dir.path(), None);
        assert_eq!(
            disabled.check(dir.path(), &out).await.unwrap(),
            TypecheckOutcome::Skipped
        );
    }
}
