//! Typechecking the functions with the project's own TypeScript compiler.
//!
//! As the official CLI: `node <compiler> --project <dir> --listFiles`, and
//! only on failure a second run with `--pretty` to show the errors. Exit 0,
//! or the "no inputs" error TS18003, is a success. Differences (see
//! `docs/compatibility.md`): the compiler is looked up in `node_modules` of
//! the project root **and its ancestors** (so hoisted monorepo installs
//! work), and its version is read from its `package.json` instead of running
//! `--version`. And, for speed, with the same verdict and messages:
//!
//! 1. a passed typecheck is remembered (`<cache>/typecheck/`) with the
//!    fingerprint of every file the compiler read, of what can change
//!    module resolution (see `bundler::fingerprint`) and of the listing of
//!    every folder the tsconfig's `include` patterns reach; while it holds,
//!    the compiler does not run at all (a tsconfig that `extends` another
//!    is not remembered);
//! 2. `dev` keeps a warm checker (see [`super::warm_checker`]), and
//!    one-shot pushes (`deploy`, ...) with TypeScript 4/5 reach the same
//!    checker as a background typecheck server that outlives the CLI (see
//!    [`super::typecheck_server`]; off in CI and with
//!    `CONVEX_TYPECHECK_SERVER=0`);
//! 3. otherwise `tsc` runs with `--incremental --tsBuildInfoFile
//!    <cache>/typecheck/<key>.tsbuildinfo` (unless the tsconfig already
//!    deals with incremental builds), and TypeScript 7's `tsc` runs its
//!    native binary directly instead of through its Node.js launcher:
//!    without `--incremental`, with `--singleThreaded` on machines of two
//!    cores or fewer (see `fresh`) and with Go's collector off up to a
//!    memory limit (see [`relax_native_gc`]).
//!
//! Modes: `disable` does nothing; `try` skips quietly when there is no
//! compiler or no `tsconfig.json`; `enable` fails then.
//!
//! The hidden `convex typecheck` command runs the compiler exactly as the
//! official command does ([`Invocation::COMMAND`]): `--version` first, the
//! functions folder as the project relative to the working directory, and
//! `--pretty true` for the errors, and none of the speed-ups above. Pushes
//! use [`Invocation::PUSH`].

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use super::error::{ErrorCategory, PushError, PushResult};
use super::output::PushOutput;
use super::warm_checker::{WarmAnswer, WarmChecker};
use crate::bundler::BuildCache;
use crate::bundler::cache::KeyBuilder;
use crate::bundler::fingerprint::{Fingerprint, Memo, sha256_hex};
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
    /// TypeScript 7's native binary (see [`Compiler::native_binary`]).
    native: Option<PathBuf>,
}

impl Compiler {
    pub fn name(&self) -> &'static str {
        self.kind.as_str()
    }

    /// The compiler's package folder (`…/node_modules/typescript`), links
    /// resolved.
    pub fn package_dir(&self) -> Option<PathBuf> {
        let dir = self.script.parent()?.parent()?;
        dunce::canonicalize(dir).ok()
    }

    /// Whether this is TypeScript 4/5's `tsc`: the whole compiler in
    /// JavaScript (`lib/typescript.js` beside it), a CommonJS script. Not
    /// TypeScript 7's, whose `bin/tsc` is an ES module that starts a native
    /// binary.
    pub fn is_javascript_compiler(&self) -> bool {
        self.kind == TypescriptCompiler::Tsc
            && self.native.is_none()
            && self
                .package_dir()
                .is_some_and(|dir| dir.join("lib").join("typescript.js").is_file())
    }

    /// TypeScript 7's native binary, which its `bin/tsc` launcher (a Node.js
    /// script) would run: `@typescript/<name>-<platform>-<arch>/lib/tsc`,
    /// resolved from the package as Node.js would.
    pub fn native_binary(&self) -> Option<&Path> {
        self.native.as_deref()
    }

    fn locate_native_binary(&self) -> Option<PathBuf> {
        let package = self.package_dir()?;
        if !package.join("lib/getExePath.js").is_file() {
            return None;
        }
        let text = std::fs::read_to_string(package.join("package.json")).ok()?;
        let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
        let name = manifest.get("name")?.as_str()?;
        let base = name.rsplit('/').next()?;
        let bin = if base == "typescript" { "tsc" } else { "tsgo" };
        let platform = match std::env::consts::OS {
            "macos" => "darwin",
            "windows" => "win32",
            other => other,
        };
        let arch = match std::env::consts::ARCH {
            "x86_64" => "x64",
            "aarch64" => "arm64",
            "x86" => "ia32",
            "powerpc64" => "ppc64",
            "loongarch64" => "loong64",
            other => other,
        };
        let platform_package = format!("@typescript/{base}-{platform}-{arch}");
        let found = crate::bundler::resolve_package(&platform_package, &package)?;
        let exe = found.join("lib").join(if cfg!(windows) {
            format!("{bin}.exe")
        } else {
            bin.to_string()
        });
        exe.is_file().then_some(exe)
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
                script.is_file().then(|| {
                    let mut compiler = Compiler {
                        kind,
                        version: read_version(&package_dir),
                        script,
                        native: None,
                    };
                    compiler.native = compiler.locate_native_binary();
                    compiler
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
    /// Remembered passes, the warm checker, `--incremental` and TypeScript
    /// 7's native binary run directly (see the module docs).
    pub speed_ups: bool,
}

impl Invocation {
    /// The push pipeline's: no extra Node start for the version.
    pub const PUSH: Invocation = Invocation {
        probe_version: false,
        pretty: None,
        speed_ups: true,
    };
    /// The `typecheck` command's, as the official command runs it.
    pub const COMMAND: Invocation = Invocation {
        probe_version: true,
        pretty: Some(true),
        speed_ups: false,
    };
}

/// Where typecheck results and `tsc`'s build-info files are kept across
/// runs.
#[derive(Debug, Clone)]
pub struct TypecheckCache {
    /// Passed typechecks (`<cache>/typecheck/results`).
    pub results: Arc<BuildCache>,
    /// `<cache>/typecheck`: build-info files.
    pub dir: PathBuf,
    /// The project root (how far up folder listings go).
    pub project_root: PathBuf,
}

impl TypecheckCache {
    pub fn new(cache_folder: &Path, project_root: &Path) -> TypecheckCache {
        let dir = cache_folder.join("typecheck");
        TypecheckCache {
            results: Arc::new(BuildCache::on_disk_with_limit(
                dir.join("results"),
                16 * 1024 * 1024,
            )),
            dir,
            project_root: project_root.to_path_buf(),
        }
    }
}

/// A pass is not remembered when the folders its tsconfig's `include`
/// patterns reach hold more folders than this.
const MAX_INCLUDE_DIRS: usize = 2000;

/// The build-info files in `<cache>/typecheck` are kept under this size
/// (the least recently written go first).
const BUILD_INFO_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

/// The folders under which `dir/tsconfig.json`'s `include` patterns can pick
/// up files (`dir` itself, and the fixed part of each pattern); `None` when
/// that cannot be told (an unreadable tsconfig, or one that `extends`
/// another, whose patterns are relative to that other file, or has project
/// `references`).
fn include_roots(dir: &Path) -> Option<Vec<PathBuf>> {
    let text = std::fs::read_to_string(dir.join("tsconfig.json")).ok()?;
    let config: serde_json::Value =
        serde_json::from_str(&crate::bundler::fingerprint::strip_jsonc(&text)).ok()?;
    let config = config.as_object()?;
    if config.contains_key("extends") || config.contains_key("references") {
        return None;
    }
    let mut roots = vec![dir.to_path_buf()];
    let Some(include) = config.get("include") else {
        return Some(roots);
    };
    for pattern in include.as_array()? {
        let pattern = pattern.as_str()?;
        let fixed: Vec<&str> = pattern
            .split(['/', '\\'])
            .take_while(|part| !part.contains(['*', '?']))
            .collect();
        let mut base = crate::project::normalize(&dir.join(fixed.join("/")));
        if !base.is_dir() {
            // A file, or not there yet: its folder.
            base.pop();
        }
        roots.push(base);
    }
    Some(roots)
}

/// Removes the oldest build-info files in `dir` (not `keep`) until they
/// take at most [`BUILD_INFO_LIMIT_BYTES`].
fn trim_build_info(dir: &Path, keep: &Path) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = read
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tsbuildinfo"))
        .filter(|e| e.path() != keep)
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((meta.modified().ok()?, meta.len(), e.path()))
        })
        .collect();
    let mut total: u64 =
        files.iter().map(|f| f.1).sum::<u64>() + std::fs::metadata(keep).map_or(0, |m| m.len());
    files.sort();
    for (_, size, path) in files {
        if total <= BUILD_INFO_LIMIT_BYTES {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total = total.saturating_sub(size);
        }
    }
}

/// One check in progress.
struct Run<'a> {
    compiler: &'a Compiler,
    dir: &'a Path,
    project_arg: &'a str,
    invocation: Invocation,
    pretty: bool,
}

/// What is needed to typecheck: mode, compiler and where `node` is.
#[derive(Debug, Clone)]
pub struct Typechecker {
    pub mode: TypecheckMode,
    pub compiler: Option<Compiler>,
    pub kind: TypescriptCompiler,
    /// The `node` program (`node` from `PATH` by default).
    pub node: PathBuf,
    /// Remembered results and build-info files.
    pub cache: Option<TypecheckCache>,
    /// `dev`'s warm checker, or the typecheck server, for this compiler.
    pub warm: Option<Arc<WarmChecker>>,
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
            cache: None,
            warm: None,
        }
    }

    /// The result cache's key for `dir`: the compiler (script, version,
    /// manifest, native binary) and the folder.
    fn result_key(&self, compiler: &Compiler, dir: &Path) -> String {
        let mut key = KeyBuilder::new();
        key.add("typecheck")
            .add(compiler.kind.as_str())
            .add(&compiler.script.to_string_lossy())
            .add(compiler.version.as_deref().unwrap_or(""))
            .add(&dir.to_string_lossy());
        let manifest = compiler
            .package_dir()
            .and_then(|d| std::fs::read(d.join("package.json")).ok())
            .map(|bytes| sha256_hex(&bytes))
            .unwrap_or_default();
        key.add(&manifest);
        match compiler
            .native_binary()
            .and_then(|p| Some((p, std::fs::metadata(p).ok()?)))
        {
            Some((native, meta)) => {
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                key.add(&format!("{}:{}:{modified}", native.display(), meta.len()));
            }
            None => {
                key.add("-");
            }
        }
        key.finish()
    }

    /// The files of a remembered pass of `dir`, when nothing it read changed.
    fn remembered_pass(&self, compiler: &Compiler, dir: &Path) -> Option<Vec<PathBuf>> {
        let cache = self.cache.as_ref()?;
        let key = self.result_key(compiler, dir);
        let entry = cache.results.lookup(&key, &mut Memo::default())?;
        let files = entry
            .state
            .get("files")?
            .as_array()?
            .iter()
            .filter_map(|v| v.as_str().map(PathBuf::from))
            .collect();
        Some(files)
    }

    /// Remembers a pass, unless a file it read was modified while (or just
    /// before) it ran: the compiler may have read other bytes.
    fn remember_pass(
        &self,
        compiler: &Compiler,
        dir: &Path,
        files: &[PathBuf],
        started: std::time::SystemTime,
    ) {
        let Some(cache) = &self.cache else {
            return;
        };
        let mut read: Vec<PathBuf> = files
            .iter()
            .filter(|f| f.is_absolute())
            .map(|f| crate::project::normalize(f))
            .collect();
        read.push(dir.join("tsconfig.json"));
        read.sort();
        read.dedup();
        let limit = started
            .checked_sub(std::time::Duration::from_millis(20))
            .unwrap_or(std::time::UNIX_EPOCH);
        let settled = read.iter().all(|f| {
            std::fs::metadata(f)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < limit)
        });
        if !settled {
            return;
        }
        // The compiler also picks up new files anywhere its `include`
        // patterns reach, read or not.
        let Some(roots) = include_roots(dir) else {
            return;
        };
        let mut memo = Memo::default();
        let mut fingerprint = Fingerprint::capture(&read, &cache.project_root, &mut memo);
        if !fingerprint.add_trees(&roots, MAX_INCLUDE_DIRS, &mut memo) {
            return;
        }
        let listed: Vec<String> = files
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect();
        cache.results.store(
            &self.result_key(compiler, dir),
            fingerprint,
            Vec::new(),
            String::new(),
            serde_json::json!({ "files": listed }),
        );
    }

    /// `--incremental --tsBuildInfoFile <file>` for `dir`, unless its
    /// tsconfig (or one it extends) already says something about
    /// incremental builds. Not for TypeScript 7's native compiler: writing
    /// and reading the build info costs it more than it saves (benchmark
    /// project, one file changed since the last run: 0.24 s with it, 0.21 s
    /// without; a first run 0.34 against 0.27 s).
    fn incremental_args(&self, run: &Run<'_>) -> Vec<String> {
        let (compiler, dir) = (run.compiler, run.dir);
        let Some(cache) = self.cache.as_ref().filter(|_| run.invocation.speed_ups) else {
            return Vec::new();
        };
        if compiler.native_binary().is_some() {
            return Vec::new();
        }
        let Ok(text) = std::fs::read_to_string(dir.join("tsconfig.json")) else {
            return Vec::new();
        };
        if ["extends", "incremental", "composite", "tsBuildInfoFile"]
            .iter()
            .any(|word| text.contains(word))
        {
            return Vec::new();
        }
        let name = format!(
            "{}.tsbuildinfo",
            &sha256_hex(
                format!(
                    "{}\n{}",
                    dir.display(),
                    compiler.package_dir().unwrap_or_default().display()
                )
                .as_bytes()
            )[..32]
        );
        if std::fs::create_dir_all(&cache.dir).is_err() {
            return Vec::new();
        }
        let file = cache.dir.join(name);
        trim_build_info(&cache.dir, &file);
        vec![
            "--incremental".to_string(),
            "--tsBuildInfoFile".to_string(),
            file.to_string_lossy().into_owned(),
        ]
    }

    /// Whether [`Typechecker::check`] would run the compiler on `dir` (so it
    /// is worth preparing for).
    pub fn will_run(&self, dir: &Path) -> bool {
        self.mode != TypecheckMode::Disable
            && self.compiler.is_some()
            && dir.join("tsconfig.json").exists()
    }

    /// Whether this typechecker's compiler runs on one thread in a push:
    /// TypeScript 7's native compiler, checking fresh (no warm checker) on
    /// a machine of two cores or fewer (see `fresh`).
    pub fn checks_on_one_thread(&self) -> bool {
        self.warm.is_none() && self.compiler.as_ref().is_some_and(checks_single_threaded)
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
        let run = Run {
            compiler,
            dir,
            project_arg,
            invocation,
            pretty: invocation
                .pretty
                .unwrap_or_else(crate::output::colors_enabled),
        };
        let started = std::time::SystemTime::now();
        let mut version = compiler.version.clone();
        if invocation.probe_version {
            match self.run(&run, &["--version".to_string()]).await {
                Ok(out) => {
                    let stdout = String::from_utf8_lossy(&out.stdout);
                    version = stdout
                        .lines()
                        .find_map(|l| l.split_once("Version ").map(|(_, v)| v.trim().to_string()))
                        .or(version);
                }
                Err(e) => return self.cannot_run(compiler, e, output),
            }
        }
        if invocation.speed_ups
            && let Some(files) = self.remembered_pass(compiler, dir)
        {
            crate::output::verbose(&format!(
                "Typecheck of {}: passed before, and nothing it read has changed",
                dir.display()
            ));
            return Ok(TypecheckOutcome::Passed { files });
        }
        let warm = match &self.warm {
            Some(warm) if invocation.speed_ups => warm.check(dir, run.pretty).await,
            _ => None,
        };
        let outcome = match warm {
            Some(WarmAnswer::Passed { files }) => TypecheckOutcome::Passed { files },
            Some(WarmAnswer::Failed {
                files,
                report: Some(report),
            }) => TypecheckOutcome::Failed {
                files,
                diagnostics: report,
            },
            Some(WarmAnswer::Failed {
                files,
                report: None,
            }) => self.collect_errors(&run, files, output).await?,
            None => match self.fresh(&run, output).await? {
                Some(outcome) => outcome,
                None => return Ok(TypecheckOutcome::Skipped),
            },
        };
        if invocation.speed_ups
            && let TypecheckOutcome::Passed { files } = &outcome
        {
            self.remember_pass(compiler, dir, files, started);
        }
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

    /// `tsc --listFiles`, then `--pretty` on failure. `None`: skipped (no
    /// Node.js in `try` mode).
    async fn fresh(
        &self,
        run: &Run<'_>,
        output: &dyn PushOutput,
    ) -> PushResult<Option<TypecheckOutcome>> {
        let mut args = vec![
            "--project".to_string(),
            run.project_arg.to_string(),
            "--listFiles".to_string(),
        ];
        args.extend(self.incremental_args(run));
        if run.invocation.speed_ups && checks_single_threaded(run.compiler) {
            // TypeScript 7 checks with several checkers at once, each
            // resolving the shared types (Convex's generics) again. With two
            // cores or fewer, and the bundler busy alongside, that extra work
            // only delays the verdict: one thread does a third less work
            // (measured on the basic project: 0.30 vs 0.48 CPU seconds, the same
            // wall time alone). The verdict and file list do not depend on it,
            // and the report on a failure comes from a run without it.
            args.push("--singleThreaded".to_string());
        }
        let first = match self.run(run, &args).await {
            Ok(out) => out,
            Err(e) => {
                return match self.cannot_run(run.compiler, e, output)? {
                    TypecheckOutcome::Skipped => Ok(None),
                    other => Ok(Some(other)),
                };
            }
        };
        let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
        let files: Vec<PathBuf> = stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| run.dir.join(l))
            .filter(|p| p.exists())
            .collect();
        if first.status.success() || stdout.starts_with("error TS18003") {
            return Ok(Some(TypecheckOutcome::Passed { files }));
        }
        self.collect_errors(run, files, output).await.map(Some)
    }

    /// The compiler could not be started: no Node.js skips in `try` mode.
    fn cannot_run(
        &self,
        compiler: &Compiler,
        e: std::io::Error,
        output: &dyn PushOutput,
    ) -> PushResult<TypecheckOutcome> {
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(PushError::new(
                ErrorCategory::Transient,
                format!("Could not run {}: {e}", compiler.script.display()),
            ));
        }
        if self.mode != TypecheckMode::Enable {
            output.note("Node.js was not found on your PATH, so skipping typecheck.");
            return Ok(TypecheckOutcome::Skipped);
        }
        Err(PushError::invalid_files(
            "Node.js was not found on your PATH, so the typecheck cannot run.\nInstall Node.js, or use `--typecheck=disable`.",
        ))
    }

    /// The second run on a failure: `--pretty`, its report shown. A pass
    /// there (a file changed in between and fixed the error) is a pass.
    async fn collect_errors(
        &self,
        run: &Run<'_>,
        files: Vec<PathBuf>,
        output: &dyn PushOutput,
    ) -> PushResult<TypecheckOutcome> {
        output.progress("Collecting TypeScript errors");
        let mut args = vec![
            "--project".to_string(),
            run.project_arg.to_string(),
            "--pretty".to_string(),
            if run.pretty { "true" } else { "false" }.to_string(),
        ];
        args.extend(self.incremental_args(run));
        let second = self.run(run, &args).await.map_err(|e| {
            PushError::new(
                ErrorCategory::Transient,
                format!("Could not run {}: {e}", run.compiler.script.display()),
            )
        })?;
        if second.status.success() {
            return Ok(TypecheckOutcome::Passed { files });
        }
        let mut diagnostics = String::from_utf8_lossy(&second.stdout).into_owned();
        diagnostics.push_str(&String::from_utf8_lossy(&second.stderr));
        Ok(TypecheckOutcome::Failed { files, diagnostics })
    }

    async fn run(&self, run: &Run<'_>, args: &[String]) -> std::io::Result<std::process::Output> {
        let native = if run.invocation.speed_ups {
            run.compiler.native_binary()
        } else {
            None
        };
        let mut command = match native {
            Some(native) => {
                let mut command = tokio::process::Command::new(native);
                if crate::bundler::go_gc_target_is_ours() {
                    relax_native_gc(&mut command);
                }
                command
            }
            None => {
                let mut command = tokio::process::Command::new(&self.node);
                if run.invocation.speed_ups && run.compiler.is_javascript_compiler() {
                    // The same run, with V8 tuned for it (see `jit_tuning`)
                    // and, through the checker script, the compiler from
                    // V8's code cache (Node.js before 22.1).
                    let code_cached = self
                        .cache
                        .as_ref()
                        .zip(run.compiler.package_dir())
                        .and_then(|(cache, package_dir)| {
                            super::warm_checker::tsc_launch_args(&cache.dir, &package_dir)
                        });
                    match code_cached {
                        Some(args) => command.args(args),
                        None => command
                            .arg("-e")
                            .arg(super::jit_tuning::script_launcher())
                            .arg("--"),
                    };
                }
                command.arg(&run.compiler.script);
                command
            }
        };
        command
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
    }
}

/// The memory TypeScript 7's compiler may take before its garbage collector
/// first runs (see [`relax_native_gc`]).
const NATIVE_GC_MEMORY_LIMIT: &str = "2GiB";

/// Turns off TypeScript 7's garbage collector up to a memory limit. A
/// one-shot check keeps nearly everything it allocates until it exits, so
/// collecting mostly re-marks live memory: without it the benchmark
/// project's check takes 0.16 s instead of 0.23 s (0.18 s at esbuild's
/// `GOGC=400`) and peaks at the same ~96 MiB. Past the limit Go collects
/// again. A `GOMEMLIMIT` of the user's own stays.
fn relax_native_gc(command: &mut tokio::process::Command) {
    command.env(crate::env_vars::GOGC, "off");
    if crate::env_vars::process_value(crate::env_vars::GOMEMLIMIT).is_none() {
        command.env(crate::env_vars::GOMEMLIMIT, NATIVE_GC_MEMORY_LIMIT);
    }
}

/// Whether pushes run `compiler` with `--singleThreaded`: TypeScript 7's
/// native compiler on a machine of two cores or fewer.
fn checks_single_threaded(compiler: &Compiler) -> bool {
    compiler.native_binary().is_some() && few_cores()
}

/// Whether this machine has at most two cores for us.
fn few_cores() -> bool {
    std::thread::available_parallelism().map_or(true, |n| n.get() <= 2)
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

    #[test]
    fn include_roots_cover_every_pattern() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let dir = root.join("app/convex");
        std::fs::create_dir_all(root.join("app/shared/lib")).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        let write = |text: &str| std::fs::write(dir.join("tsconfig.json"), text).unwrap();
        write("{ /* default include */ \"compilerOptions\": {},\n}");
        assert_eq!(include_roots(&dir), Some(vec![dir.clone()]));
        write(r#"{"include": ["./**/*", "../shared/lib/**/*.ts", "../other.ts", "../shared/*"]}"#);
        assert_eq!(
            include_roots(&dir),
            Some(vec![
                dir.clone(),
                dir.clone(),
                root.join("app/shared/lib"),
                root.join("app"),
                root.join("app/shared"),
            ])
        );
        write(r#"{"extends": "./base.json"}"#);
        assert_eq!(include_roots(&dir), None);
        write("not json");
        assert_eq!(include_roots(&dir), None);
    }

    #[test]
    fn build_info_files_stay_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let big = vec![b'x'; (BUILD_INFO_LIMIT_BYTES / 2) as usize];
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        for name in ["a", "b", "c"] {
            let path = dir.join(format!("{name}.tsbuildinfo"));
            std::fs::write(&path, &big).unwrap();
            let file = std::fs::File::options().append(true).open(&path).unwrap();
            file.set_modified(old + std::time::Duration::from_secs(name.as_bytes()[0] as u64))
                .unwrap();
        }
        std::fs::write(dir.join("results"), "not a build-info file").unwrap();
        let keep = dir.join("a.tsbuildinfo");
        trim_build_info(dir, &keep);
        // `a` is kept (in use), `b` (oldest of the rest) goes, `c` stays.
        assert!(keep.exists());
        assert!(!dir.join("b.tsbuildinfo").exists());
        assert!(dir.join("c.tsbuildinfo").exists());
        assert!(dir.join("results").exists());
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
