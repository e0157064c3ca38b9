//! The push pipeline shared by `deploy`, `dev` and `codegen`: bundle the
//! functions, generate `_generated/`, typecheck, and send them with the
//! deploy2 protocol.
//!
//! ```ignore
//! let pusher = Pusher::start(&ctx)?;          // starts esbuild once
//! let outcome = pusher
//!     .push(&ctx, &target, &options, &ConsoleOutput)
//!     .await?;                                 // as often as needed
//! if let Some(report) = outcome.completion_report { report.send().await; }
//! pusher.stop();
//! ```
//!
//! One push, in order (the reference's, except where noted):
//! 1. `package.json` must list `convex`; `convex.json` is read.
//! 2. Component discovery; initial codegen (stubs so imports resolve).
//! 3. Bundling (definitions, schemas, functions) with the project's esbuild.
//! 4. `get_config_hashes` (unless `push_all_modules`): unchanged modules go
//!    by hash only.
//! 5. Advisory checks (`evaluate_schema`, prompts) — see [`checks`].
//! 6. `start_push`; final codegen from its `analysis`.
//! 7. **Typecheck** verdict, as the reference checks: after `start_push` and
//!    final codegen, before `wait_for_schema`, so a type error stages but
//!    never commits. The compiler itself starts earlier (before bundling
//!    when the final generated `.d.ts` files can be predicted and written
//!    first, else right after bundling) and runs alongside 3–6.
//! 8. `wait_for_schema` until done (index backfill / validation progress).
//! 9. With `verbose` or `dry_run`: a second `get_config_hashes` and a summary
//!    of what changes on the server.
//! 10. `finish_push`; index and component changes are printed.
//! 11. The spans for `report_push_completed` are handed back to the caller
//!     ([`CompletionReport`]), who decides whether to send them.
//!
//! Nothing is printed directly: all output goes through [`PushOutput`].
//! Errors carry an [`ErrorCategory`] for `convex dev`'s retry logic.

pub mod announce;
pub mod api;
pub mod checks;
pub mod codegen_step;
pub mod diff;
pub mod environment;
pub mod error;
pub mod function_call;
pub mod jit_tuning;
pub mod output;
pub mod process_group;
pub mod request;
pub mod tracing;
pub mod typecheck;
pub mod typecheck_server;
pub mod warm_checker;

pub use checks::{CheckMode, PushChecks};
pub use error::{ErrorCategory, PushError, PushResult};
pub use output::{ConsoleOutput, PushOutput, RecordingOutput};

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use crate::bundler::{BuildCache, BundleOptions, Bundler, ComponentGraph};
use crate::commands::TypecheckMode;
use crate::context::Context;
use crate::credentials::DeploymentType;
use crate::http::DeploymentClient;
use crate::project::{ProjectConfig, ProjectFiles};
use api::{SchemaStatus, StartPushResponse};
use codegen_step::{CodegenSettings, CodegenWrites, PredictedFinal};
use tracing::{CompletedSpan, Reporter, Span};
use typecheck::{TypecheckCache, TypecheckOutcome, Typechecker};
use warm_checker::{WarmChecker, WarmMode, WarmSpec};

/// The build cache's folder inside the CLI's cache folder.
pub const BUILD_CACHE_DIR: &str = "build-cache";

/// Where a push goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTarget {
    pub url: String,
    pub admin_key: String,
    /// `None` for self-hosted deployments and `--url`/`--admin-key`.
    pub deployment_name: Option<String>,
    pub deployment_type: Option<DeploymentType>,
}

/// How to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// `dryRun: true` in every push body; codegen lists instead of writing.
    pub dry_run: bool,
    /// Print the `start_push` answer and the full `finish_push` diff.
    pub verbose: bool,
    /// Write `_generated/` (initial and final phases).
    pub codegen: bool,
    /// Print generated files on stdout instead of writing them (`--debug`).
    pub codegen_debug: bool,
    /// Also emit the CommonJS API (`codegen --commonjs`).
    pub commonjs: bool,
    pub typecheck: TypecheckMode,
    /// Also typecheck every non-root component directory.
    pub typecheck_components: bool,
    /// Bundle the root, write the bundles here and stop.
    pub debug_bundle_path: Option<PathBuf>,
    /// Build the request, write it to `<path>.json` and stop.
    pub write_push_request: Option<PathBuf>,
    /// Resolve component packages to their sources.
    pub live_component_sources: bool,
    /// Skip `get_config_hashes`: send every module.
    pub push_all_modules: bool,
    pub checks: PushChecks,
    /// Audit-log message for `finish_push`.
    pub message: Option<String>,
    /// Stop after `start_push` and final codegen (`convex codegen`).
    pub stop_after_start_push: bool,
    /// `codegen --component-dir`: push a synthetic app that uses only the
    /// component in this directory (`forCodegen: true`), and generate and
    /// typecheck that component alone.
    pub codegen_only_component: Option<PathBuf>,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            dry_run: false,
            verbose: false,
            codegen: true,
            codegen_debug: false,
            commonjs: false,
            typecheck: TypecheckMode::Try,
            typecheck_components: false,
            debug_bundle_path: None,
            write_push_request: None,
            live_component_sources: false,
            push_all_modules: false,
            checks: PushChecks::default(),
            message: None,
            stop_after_start_push: false,
            codegen_only_component: None,
        }
    }
}

/// How far a successful push went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushStage {
    /// `finish_push` succeeded.
    Finished,
    /// `--debug-bundle-path`: bundles written, nothing sent.
    DebugBundleWritten,
    /// `--write-push-request`: request written, nothing pushed.
    PushRequestWritten,
    /// `stop_after_start_push`: `start_push` and final codegen done.
    Started,
}

/// The spans of a finished push, for `report_push_completed`.
pub struct CompletionReport {
    client: DeploymentClient,
    spans: Vec<CompletedSpan>,
}

impl CompletionReport {
    /// Sends the report (advisory: failures are only logged verbosely).
    pub async fn send(self) {
        api::report_push_completed(&self.client, &self.spans).await;
    }

    pub fn spans(&self) -> &[CompletedSpan] {
        &self.spans
    }
}

/// A successful push.
pub struct PushOutcome {
    pub stage: PushStage,
    /// The `start_push` answer (when the push got that far).
    pub start_push: Option<Value>,
    /// The `finish_push` answer.
    pub finish_push: Option<Value>,
    /// Files the push read (esbuild inputs, files tsc read, generated
    /// files), for `dev`'s watcher.
    pub observed_files: Vec<PathBuf>,
    /// Present after a real (not dry-run) finished push.
    pub completion_report: Option<CompletionReport>,
}

/// The `convex` version installed in the project (nearest
/// `node_modules/convex/package.json` at or above `project_root`), sent as
/// `udfServerVersion` and to `get_config_hashes`. The official CLI sends its
/// own version, which is the same thing when it runs from the project.
pub fn installed_convex_version(project_root: &Path) -> Option<String> {
    project_root
        .ancestors()
        .filter(|d| d.file_name().is_none_or(|n| n != "node_modules"))
        .map(|d| d.join("node_modules/convex/package.json"))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|v| v.get("version")?.as_str().map(str::to_string))
}

/// Bundles and pushes; keeps one esbuild process for all its pushes.
pub struct Pusher {
    bundler: Bundler,
    project_root: PathBuf,
    /// `<cache folder>`: build and typecheck caches, the warm checker's
    /// script.
    cache_folder: Option<PathBuf>,
    typecheck_cache: Option<TypecheckCache>,
    warm: WarmSlot,
    /// One-shot pushes' typecheck server (see [`typecheck_server`]).
    typecheck_server: Option<typecheck_server::ServerSettings>,
    /// A run of many pushes (`dev`, see [`Pusher::expect_many_pushes`]).
    many_pushes: std::sync::atomic::AtomicBool,
    /// What the next `get_config_hashes` is expected to report (`dev`).
    predictions: std::sync::Mutex<Predictions>,
}

/// What `get_config_hashes` reports next: normally the modules of the last
/// successful push; but a server that keeps none (or another pusher) makes
/// it repeat its previous report instead.
#[derive(Default)]
struct Predictions {
    /// The module hashes of the last successful push.
    pushed: Option<Vec<request::RemoteModuleHash>>,
    /// The last report.
    reported: Option<Vec<request::RemoteModuleHash>>,
    /// Whether the last report repeated the one before rather than the
    /// last push's modules.
    repeats: bool,
}

impl Predictions {
    /// Notes what the server reported (see [`Predictions::repeats`]).
    fn note_report(&mut self, reported: &[request::RemoteModuleHash]) {
        fn same(a: &[request::RemoteModuleHash], b: &[request::RemoteModuleHash]) -> bool {
            let key = |list: &[request::RemoteModuleHash]| {
                let mut keys: Vec<(String, String, bool)> = list
                    .iter()
                    .map(|h| {
                        (
                            h.path.clone(),
                            h.hash.clone(),
                            h.environment == crate::bundler::Environment::Node,
                        )
                    })
                    .collect();
                keys.sort();
                keys
            };
            a.len() == b.len() && key(a) == key(b)
        }
        if self
            .pushed
            .as_deref()
            .is_some_and(|pushed| same(pushed, reported))
        {
            self.repeats = false;
        } else if self
            .reported
            .as_deref()
            .is_some_and(|previous| same(previous, reported))
        {
            self.repeats = true;
        }
        self.reported = Some(reported.to_vec());
    }
}

/// `dev`'s warm checker; dropping the slot stops it.
#[derive(Default)]
struct WarmSlot {
    enabled: std::sync::atomic::AtomicBool,
    checker: std::sync::Mutex<Option<std::sync::Arc<WarmChecker>>>,
}

impl Drop for WarmSlot {
    fn drop(&mut self) {
        if let Some(checker) = self
            .checker
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            checker.kill_now();
        }
    }
}

impl Pusher {
    /// Checks `package.json` and starts the project's esbuild.
    pub fn start(ctx: &Context) -> PushResult<Pusher> {
        ctx.project()
            .ensure_has_convex_dependency("push")
            .map_err(|e| PushError::invalid_files(format!("{e:#}")))?;
        let mut pusher = Pusher::launch(
            &ctx.cwd,
            ctx.env
                .non_empty(crate::env_vars::ESBUILD_BINARY_PATH)
                .map(Path::new),
            Some(&ctx.dirs.cache),
        )?;
        pusher.typecheck_server = typecheck_server::ServerSettings::from_env(&ctx.env);
        Ok(pusher)
    }

    /// [`Pusher::start`] for an explicit project root; `cache_folder` holds
    /// the build and typecheck caches (none without it).
    pub fn start_in(
        project_root: &Path,
        esbuild_binary_path: Option<&Path>,
        cache_folder: Option<&Path>,
    ) -> PushResult<Pusher> {
        crate::project::ensure_has_convex_dependency(project_root, "push")
            .map_err(|e| PushError::invalid_files(format!("{e:#}")))?;
        Pusher::launch(project_root, esbuild_binary_path, cache_folder)
    }

    /// Starts the bundler (`package.json` checked).
    fn launch(
        project_root: &Path,
        esbuild_binary_path: Option<&Path>,
        cache_folder: Option<&Path>,
    ) -> PushResult<Pusher> {
        let bundler = match cache_folder {
            Some(folder) => Bundler::start_cached(
                project_root,
                esbuild_binary_path,
                BuildCache::on_disk(folder.join(BUILD_CACHE_DIR)),
            )?,
            None => Bundler::start(project_root, esbuild_binary_path)?,
        };
        let project_root = bundler.project_root().to_path_buf();
        Ok(Pusher {
            typecheck_cache: cache_folder.map(|f| TypecheckCache::new(f, &project_root)),
            cache_folder: cache_folder.map(Path::to_path_buf),
            project_root,
            bundler,
            warm: WarmSlot::default(),
            typecheck_server: None,
            many_pushes: std::sync::atomic::AtomicBool::new(false),
            predictions: std::sync::Mutex::new(Predictions::default()),
        })
    }

    /// For a run of many pushes (`dev`), whose esbuild lives on between
    /// them (so it keeps Go's usual thread count and garbage collection; see
    /// `BundleOptions`). And while `get_config_hashes` is
    /// answered, each push hashes its modules (what the server reports after
    /// it) and builds and encodes the request the expected report would make
    /// (see [`Predictions`]); when the server reports exactly that, the body
    /// is ready. The work runs on the push's own thread, between sending the
    /// request and reading its answer: another thread would keep its own
    /// memory arena, several MiB of resident memory for the whole run.
    pub fn expect_many_pushes(&self) {
        self.many_pushes
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether [`Pusher::expect_many_pushes`] was called.
    fn expects_many_pushes(&self) -> bool {
        self.many_pushes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The module hashes the next `get_config_hashes` is expected to report
    /// (see [`Pusher::expect_many_pushes`]); `None` when not speculating.
    fn expected_hashes(&self) -> Option<Option<Vec<request::RemoteModuleHash>>> {
        if !self.expects_many_pushes() {
            return None;
        }
        let predictions = self.predictions();
        Some(if predictions.repeats {
            predictions.reported.clone()
        } else {
            predictions.pushed.clone()
        })
    }

    fn predictions(&self) -> std::sync::MutexGuard<'_, Predictions> {
        self.predictions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps a warm TypeScript checker for the pushes to come (`dev`), and
    /// starts it now when the project has a compiler and a tsconfig, so
    /// that its first check overlaps the first push.
    pub fn keep_typecheck_warm(&self, mode: TypecheckMode) {
        if mode == TypecheckMode::Disable {
            return;
        }
        self.warm
            .enabled
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let Ok(config) = ProjectConfig::read(&self.project_root) else {
            return;
        };
        let _ = config.take_unknown_key_warnings();
        let typechecker = self.typechecker(mode, &config);
        let functions_dir = config.functions_dir(&self.project_root);
        if let Some(warm) = &typechecker.warm
            && typechecker.will_run(&functions_dir)
        {
            warm.prestart(&functions_dir);
        }
    }

    /// The typechecker for one push: the compiler `config` names, the
    /// caches, and the warm checker when `dev` keeps one (else the
    /// typecheck server, when one-shot pushes use it).
    fn typechecker(&self, mode: TypecheckMode, config: &ProjectConfig) -> Typechecker {
        let mut typechecker =
            Typechecker::new(mode, &self.project_root, config.typescript_compiler);
        typechecker.cache = self.typecheck_cache.clone();
        if let Some(compiler) = &typechecker.compiler {
            if self.warm.enabled.load(std::sync::atomic::Ordering::Relaxed) {
                typechecker.warm = self.warm_checker_for(compiler, &typechecker.node, None);
            } else if self.typecheck_server.is_some() && compiler.native_binary().is_none() {
                // TypeScript 7's native compiler checks a fresh project
                // (~0.2 s) before its API server has started and read it
                // (~0.4 s); later deploys would gain ~0.1 s from a warm one,
                // not worth a process left running. So no server for it.
                let functions_dir = config.functions_dir(&self.project_root);
                typechecker.warm =
                    self.warm_checker_for(compiler, &typechecker.node, Some(&functions_dir));
            }
        }
        typechecker
    }

    /// The warm checker for `compiler`: `dev`'s own child, or with
    /// `server_for` (the functions folder) the typecheck server.
    fn warm_checker_for(
        &self,
        compiler: &typecheck::Compiler,
        node: &Path,
        server_for: Option<&Path>,
    ) -> Option<std::sync::Arc<WarmChecker>> {
        let package_dir = compiler.package_dir()?;
        let mode = WarmMode::for_package(&package_dir)?;
        let server = match (server_for, self.typecheck_server) {
            (Some(functions_dir), Some(settings)) => {
                let key = typecheck_server::ServerKey {
                    cache_folder: self.cache_folder.as_deref()?,
                    node,
                    package_dir: &package_dir,
                    version: compiler.version.as_deref(),
                    project_root: &self.project_root,
                    functions_dir,
                };
                Some(typecheck_server::ServerSpec::new(&key, settings)?)
            }
            _ => None,
        };
        let spec = WarmSpec {
            node: node.to_path_buf(),
            package_dir,
            mode,
            cwd: self.project_root.clone(),
            script_dir: self.cache_folder.as_ref().map(|f| f.join("typecheck")),
            server,
        };
        let mut slot = self.warm.checker.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = slot.as_ref()
            && existing.spec() == &spec
        {
            return Some(existing.clone());
        }
        // Another compiler now (`typescriptCompiler` changed): replace it.
        if let Some(old) = slot.take() {
            old.kill_now();
        }
        let checker = WarmChecker::new(spec);
        *slot = Some(checker.clone());
        Some(checker)
    }

    /// The project root (absolute, symbolic links resolved).
    pub fn project_root(&self) -> &Path {
        &self.project_root
    }

    /// Frees what the last push left in memory, in the background (see
    /// [`Bundler::release_memory`]); for callers that wait between pushes.
    pub fn release_memory(&self) {
        self.bundler.release_memory();
    }

    /// Stops esbuild.
    pub fn stop(self) {
        self.bundler.stop();
    }

    /// One push (see the module docs).
    pub async fn push(
        &self,
        ctx: &Context,
        target: &PushTarget,
        options: &PushOptions,
        output: &dyn PushOutput,
    ) -> PushResult<PushOutcome> {
        self.push_gated(ctx, target, options, output, None).await
    }

    /// [`Pusher::push`] that awaits `gate` before its first request to the
    /// deployment (`dev` bundles while a save's debounce runs out, and drops
    /// the push if the files change again before the gate opens). The
    /// typecheck starts before the gate too: a dropped push leaves the warm
    /// checker finishing a check nobody waits for (its answer is skipped),
    /// which costs the next push that check's time only in that rare case.
    pub async fn push_gated(
        &self,
        ctx: &Context,
        target: &PushTarget,
        options: &PushOptions,
        output: &dyn PushOutput,
        gate: Option<Gate<'_>>,
    ) -> PushResult<PushOutcome> {
        let reporter = Reporter::default();
        let mut root_span = Span::root(&reporter, "runComponentsPush");
        let udf_server_version = installed_convex_version(&self.project_root)
            .unwrap_or_else(|| crate::REFERENCE_VERSION.to_string());
        root_span.set_property("cli_version", &udf_server_version);
        let run = Run {
            ctx,
            pusher: self,
            target,
            options,
            output,
            client: ctx
                .deployment_client(&target.url, &target.admin_key)
                .map_err(|e| PushError::fatal(format!("{e:#}")))?,
            udf_server_version,
            started: Instant::now(),
            gate: std::cell::RefCell::new(gate),
            module_hashes: std::cell::RefCell::new(None),
        };
        let mut outcome = run.run(&mut root_span).await.map_err(|mut e| {
            e.observed_files.sort();
            e.observed_files.dedup();
            e
        })?;
        outcome.observed_files.sort();
        outcome.observed_files.dedup();
        root_span.end();
        if outcome.stage == PushStage::Finished && !options.dry_run {
            outcome.completion_report = Some(CompletionReport {
                client: run.client.clone(),
                spans: reporter.spans(),
            });
        }
        Ok(outcome)
    }
}

/// One push in progress.
struct Run<'a> {
    ctx: &'a Context,
    pusher: &'a Pusher,
    target: &'a PushTarget,
    options: &'a PushOptions,
    output: &'a dyn PushOutput,
    client: DeploymentClient,
    udf_server_version: String,
    started: Instant,
    /// Awaited before the first request (see [`Pusher::push_gated`]).
    gate: std::cell::RefCell<Option<Gate<'a>>>,
    /// This push's module hashes (see [`Pusher::expect_many_pushes`]).
    module_hashes: std::cell::RefCell<Option<Vec<request::RemoteModuleHash>>>,
}

/// What a push awaits before its first request to the deployment.
pub type Gate<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

/// When and on what the typecheck runs (see `Run::plan_typecheck`).
#[derive(Default)]
struct TypecheckPlan {
    /// It can start before bundling.
    early: bool,
    /// Its verdict stands whatever the server's analysis says.
    authoritative: bool,
    predicted: PredictedSplit,
}

/// The predicted final generated files that differ from disk.
#[derive(Default)]
struct PredictedSplit {
    declarations: Vec<(PathBuf, crate::codegen::GeneratedFile)>,
    code: Vec<(PathBuf, crate::codegen::GeneratedFile)>,
    all: Vec<(PathBuf, crate::codegen::GeneratedFile)>,
}

/// Runs `work` to completion while also polling `background` (which keeps
/// its output when it finishes first).
async fn drive<B, W>(
    mut background: std::pin::Pin<&mut futures_util::future::MaybeDone<B>>,
    work: W,
) -> W::Output
where
    B: std::future::Future,
    W: std::future::Future,
{
    use std::future::Future as _;
    tokio::pin!(work);
    std::future::poll_fn(move |cx| {
        let _ = background.as_mut().poll(cx);
        work.as_mut().poll(cx)
    })
    .await
}

impl Run<'_> {
    /// `[verbose]` timing of the push's phases.
    fn timing(&self, phase: &str) {
        crate::output::verbose(&format!(
            "Push: {phase} after {} ms",
            self.started.elapsed().as_millis()
        ));
    }

    fn dashboard_page(&self, page: &str) -> String {
        let host = self.ctx.dashboard_host();
        match &self.target.deployment_name {
            Some(name) => format!("{host}/d/{name}{page}"),
            None => format!("{host}{page}"),
        }
    }

    fn codegen_writes(&self) -> CodegenWrites {
        if self.options.codegen_debug {
            CodegenWrites::Debug
        } else if self.options.dry_run {
            CodegenWrites::DryRun
        } else {
            CodegenWrites::Write
        }
    }

    /// Waits for the gate, once.
    async fn open_gate(&self) {
        let gate = self.gate.borrow_mut().take();
        if let Some(gate) = gate {
            gate.await;
            self.timing("gate opened");
        }
    }

    async fn run(&self, root_span: &mut Span) -> PushResult<PushOutcome> {
        let project_root = self.pusher.project_root();
        // A one-shot push uses the run's reading of the project's files;
        // `dev` reads them again for each push, as it watches them.
        let fresh;
        let files =
            if self.pusher.expects_many_pushes() || self.ctx.project().root() != project_root {
                fresh = ProjectFiles::new(project_root);
                &fresh
            } else {
                self.ctx.project()
            };
        files
            .ensure_has_convex_dependency("push")
            .map_err(|e| PushError::invalid_files(format!("{e:#}")))?;
        let config = files
            .config()
            .map_err(|e| PushError::invalid_files(format!("{e:#}")))?;
        for warning in config.take_unknown_key_warnings() {
            self.output.warning(&warning);
        }
        let mut observed: Vec<PathBuf> = vec![
            project_root.join("package.json"),
            project_root.join(crate::project::CONVEX_JSON),
        ];

        let mut span = root_span.child("startComponentsPushAndCodegen");
        let started = self
            .start_push_and_codegen(&config, &mut span, &mut observed)
            .await
            .map_err(|mut e| {
                if e.observed_files.is_empty() {
                    e.observed_files = observed.clone();
                }
                e
            })?;
        span.end();
        let start_push = match started {
            Started::Stopped(stage) => {
                return Ok(PushOutcome {
                    stage,
                    start_push: None,
                    finish_push: None,
                    observed_files: observed,
                    completion_report: None,
                });
            }
            Started::Pushed(response) => response,
        };
        if self.options.stop_after_start_push {
            return Ok(PushOutcome {
                stage: PushStage::Started,
                start_push: Some(start_push.raw),
                finish_push: None,
                observed_files: observed,
                completion_report: None,
            });
        }

        let with_files = |mut e: PushError| {
            e.observed_files = observed.clone();
            e
        };
        {
            let span = root_span.child("waitForSchema");
            self.wait_for_schema(&start_push, &span)
                .await
                .map_err(with_files)?;
        }
        self.timing("schema ready");

        if self.options.verbose || self.options.dry_run {
            self.output
                .progress("Downloading current deployment state...");
            let remote = api::get_config_hashes(&self.client, &self.udf_server_version)
                .await
                .map_err(with_files)?;
            self.output
                .progress("Diffing local code and deployment state...");
            let diff = diff::config_diff(
                &remote,
                &self.udf_server_version,
                config.node.node_version.as_deref(),
            );
            self.output.step_done(&format!(
                "Remote config {} be overwritten with the following changes:\n  {}",
                if self.options.dry_run {
                    "would"
                } else {
                    "will"
                },
                diff.replace('\n', "\n  ")
            ));
        }

        let finish = {
            let span = root_span.child("finishPush");
            self.output.progress("Finalizing push...");
            api::finish_push(
                &self.client,
                &start_push,
                self.options.dry_run,
                self.options.message.as_deref(),
                &span,
            )
            .await
            .map_err(with_files)?
        };
        self.timing("finish_push answered");
        if !self.options.dry_run
            && let Some(hashes) = self.module_hashes.borrow_mut().take()
        {
            self.pusher.predictions().pushed = Some(hashes);
        }
        diff::print_finish_diff(
            self.output,
            &start_push,
            &finish,
            self.options.verbose,
            self.options.dry_run,
            &|page| self.dashboard_page(page),
        );
        Ok(PushOutcome {
            stage: PushStage::Finished,
            start_push: Some(start_push.raw),
            finish_push: Some(finish),
            observed_files: observed,
            completion_report: None,
        })
    }

    /// Steps 2–7 of the module docs.
    async fn start_push_and_codegen(
        &self,
        config: &ProjectConfig,
        span: &mut Span,
        observed: &mut Vec<PathBuf>,
    ) -> PushResult<Started> {
        let bundler = &self.pusher.bundler;
        let options = self.options;
        let mut bundle_options = BundleOptions {
            live_component_sources: options.live_component_sources,
            one_shot_esbuild: !self.pusher.expects_many_pushes(),
            ..BundleOptions::default()
        };

        self.output.progress("Finding component definitions...");
        let graph = {
            let _s = span.child("componentGraph");
            match &options.codegen_only_component {
                None => bundler.component_graph(config, &bundle_options).await?,
                Some(dir) => {
                    let root = bundler.synthetic_root_component(config, dir)?;
                    bundler
                        .component_graph_from(config, root, &bundle_options)
                        .await?
                }
            }
        };
        observed.extend(graph.input_files.iter().cloned());
        self.timing("found components");

        let settings = CodegenSettings::new(config, self.codegen_writes(), options.commonjs);
        if options.codegen {
            self.output.progress("Generating server code...");
            let _s = span.child("doInitialComponentCodegen");
            observed.extend(codegen_step::initial(&graph, &settings, self.output)?);
            self.timing("initial codegen done");
        }

        if let Some(dir) = &options.debug_bundle_path {
            self.output
                .progress("Bundling component schemas and implementations...");
            let bundle = bundler.debug_bundle(config).await?;
            crate::bundler::write_debug_bundle(dir, &bundle)?;
            self.output.message(&format!(
                "Wrote bundle and metadata for modules in the root to {}. Skipping rest of push.",
                dir.display()
            ));
            return Ok(Started::Stopped(PushStage::DebugBundleWritten));
        }

        // The typecheck starts as early as its verdict can be final: now,
        // when the final generated files it reads can be written before
        // bundling (see `plan_typecheck`), else right after bundling. It
        // then runs alongside bundling, hashing, the advisory checks and
        // `start_push`; its verdict is awaited before `wait_for_schema`, so
        // a type error still stops the push before anything is committed
        // (the official CLI checks at that same point).
        let typechecker = self.pusher.typechecker(options.typecheck, config);
        let typecheck_dirs = self.typecheck_dirs(&graph);
        let typechecks = options.write_push_request.is_none()
            && typechecker.mode != TypecheckMode::Disable
            && (typecheck_dirs.iter().any(|d| typechecker.will_run(d))
                || typechecker.mode == TypecheckMode::Enable);
        let plan = if typechecks {
            self.plan_typecheck(&graph, config, &settings)?
        } else {
            TypecheckPlan::default()
        };
        let typecheck = futures_util::future::maybe_done(self.run_typecheck(
            &typechecker,
            &typecheck_dirs,
            typechecks && plan.early,
        ));
        tokio::pin!(typecheck);
        if typechecks && plan.early {
            observed.extend(PredictedFinal::write(
                &plan.predicted.declarations,
                &settings,
                self.output,
            )?);
            // Get the compiler going now.
            drive(typecheck.as_mut(), std::future::ready(())).await;
        }

        // A one-shot push whose compiler checks on one thread of two cores:
        // esbuild, if it starts now, leaves the compiler the other core.
        bundle_options.one_esbuild_thread = typechecks
            && plan.early
            && typecheck.as_mut().output_mut().is_none()
            && typechecker.checks_on_one_thread()
            && !self.pusher.expects_many_pushes();

        self.output.progress("Bundling component definitions...");
        let app = {
            let _d = span.child("bundleDefinitions");
            let _s = span.child("bundleImplementations");
            self.output
                .progress("Bundling component schemas and implementations...");
            drive(
                typecheck.as_mut(),
                bundler.bundle_app(config, &graph, &bundle_options),
            )
            .await?
        };
        observed.extend(app.input_files.iter().cloned());
        self.timing("bundled");
        self.open_gate().await;
        if typechecks {
            // The rest of the predicted final files (bundles read them as
            // they were).
            let late = if plan.early {
                &plan.predicted.code
            } else {
                &plan.predicted.all
            };
            observed.extend(PredictedFinal::write(late, &settings, self.output)?);
        }
        let typecheck_pending = typechecks && !plan.early;

        let params = request::RequestParams {
            admin_key: &self.target.admin_key,
            dry_run: options.dry_run,
            functions: &config.functions,
            node_version: config.node.node_version.as_deref(),
            udf_server_version: &self.udf_server_version,
            for_codegen: options.codegen_only_component.is_some(),
        };
        // While `get_config_hashes` is answered: this push's module hashes,
        // and the request the expected answer would make, encoded (see
        // `Pusher::expect_many_pushes`).
        let expected = if options.push_all_modules || options.write_push_request.is_some() {
            None
        } else {
            self.pusher.expected_hashes()
        };
        let prepare_request = async {
            let (remote, prepared) = if options.push_all_modules {
                (None, None)
            } else {
                let _s = span.child("getUnchangedModuleHashesFromServer");
                let ahead = async {
                    let expected = expected.as_ref()?;
                    // Let the request go out first.
                    for _ in 0..3 {
                        tokio::task::yield_now().await;
                    }
                    *self.module_hashes.borrow_mut() =
                        Some(request::app_module_hashes(&app.functions));
                    let expected = expected.as_ref()?;
                    Some(request::Speculative::prepare(
                        app.clone(),
                        expected,
                        &params,
                    ))
                };
                let (remote, prepared) = tokio::join!(
                    api::get_config_hashes(&self.client, &self.udf_server_version),
                    ahead
                );
                let remote = remote?;
                if expected.is_some() {
                    self.pusher.predictions().note_report(&remote.module_hashes);
                }
                (Some(remote), prepared)
            };
            let request = request::build_request(
                app,
                remote.as_ref().map(|r| r.module_hashes.as_slice()),
                &params,
            );
            PushResult::Ok((request, prepared))
        };

        // Write the request before any check, as the reference does.
        if let Some(path) = &options.write_push_request {
            let (request, _) = prepare_request.await?;
            let mut file = path.clone().into_os_string();
            file.push(".json");
            crate::fsutil::write_atomic(
                Path::new(&file),
                request.to_json().as_bytes(),
                Some(0o600),
            )
            .map_err(|e| {
                PushError::invalid_files(format!(
                    "Could not write {}: {e:#}",
                    Path::new(&file).display()
                ))
            })?;
            return Ok(Started::Stopped(PushStage::PushRequestWritten));
        }
        if typecheck_pending {
            typecheck.set(futures_util::future::maybe_done(self.run_typecheck(
                &typechecker,
                &typecheck_dirs,
                true,
            )));
        }

        let checks_and_request = async {
            let (request, prepared) = prepare_request.await?;
            let sizes = request.component_module_sizes();
            let (json_len, body) = match prepared.and_then(|p| p.body_for(&request)) {
                Some((json_len, body)) => {
                    crate::output::verbose(
                        "Using the request body encoded during get_config_hashes \
                         (the server reported the expected modules)",
                    );
                    (json_len, body)
                }
                None => {
                    let json = request.to_json();
                    (json.len(), request::brotli_compress(json.as_bytes()))
                }
            };
            crate::output::verbose(&format!(
                "Compressed {:.2}KiB to {:.2}KiB",
                json_len as f64 / 1024.0,
                body.len() as f64 / 1024.0
            ));
            let check_ctx = checks::CheckContext {
                client: &self.client,
                output: self.output,
                thresholds: checks::Thresholds::from_env(&self.ctx.env, self.output),
                dry_run: options.dry_run,
                body: &body,
                stages_validators: request.stages_validators(),
            };
            checks::run_checks(&check_ctx, &options.checks, span).await?;
            PushResult::Ok((request, body, sizes))
        };
        let (request, body, sizes) = drive(typecheck.as_mut(), checks_and_request).await?;
        self.timing("hashes and checks done");
        span.set_property("v8_size", sizes.v8_size.to_string());
        span.set_property("v8_count", sizes.v8_count.to_string());
        span.set_property("node_size", sizes.node_size.to_string());
        span.set_property("node_count", sizes.node_count.to_string());

        self.output.progress("Uploading functions to Convex...");
        let start_push = {
            let s = span.child("startPush");
            let context = format!("Unable to start push to {}", self.target.url);
            drive(
                typecheck.as_mut(),
                api::start_push(&self.client, &request, &body, &s, &context),
            )
            .await
            .map_err(|e| self.refine_push_error(e))?
        };
        drop(request);
        self.timing("start_push answered");
        if options.verbose {
            self.output.message(&format!(
                "startPush: {}",
                serde_json::to_string_pretty(&diff::start_push_for_logging(&start_push))
                    .unwrap_or_default()
            ));
        }

        let mut final_changes = Vec::new();
        if options.codegen {
            self.output.progress("Generating TypeScript bindings...");
            let _s = span.child("doFinalComponentCodegen");
            final_changes =
                codegen_step::final_(&graph, start_push.analysis(), &settings, self.output)?;
            observed.extend(final_changes.iter().cloned());
        }

        self.timing("final codegen done");
        self.output.progress("Running TypeScript...");
        {
            let _s = span.child("typeCheckFunctionsInMode");
            typecheck.as_mut().await;
            let outcomes = typecheck
                .as_mut()
                .take_output()
                .unwrap_or_else(|| Ok(Vec::new()))?;
            // The files it checked were final unless the server's analysis
            // changed some (components, static codegen): then check again.
            let outcomes = if plan.authoritative || final_changes.is_empty() {
                outcomes
            } else {
                self.run_typecheck(&typechecker, &typecheck_dirs, typechecks)
                    .await?
            };
            self.timing("typecheck done");
            for outcome in &outcomes {
                if let TypecheckOutcome::Passed { files } | TypecheckOutcome::Failed { files, .. } =
                    outcome
                {
                    observed.extend(files.iter().cloned());
                }
            }
            self.fail_on_type_errors(&typechecker, &outcomes)?;
        }
        Ok(Started::Pushed(start_push))
    }

    /// How the typecheck can start: whether the final generated files can
    /// be computed locally (an app without `convex.config` and without
    /// `staticApi` / `staticDataModel`), and whether those the typecheck
    /// reads can be written before bundling.
    fn plan_typecheck(
        &self,
        graph: &ComponentGraph,
        config: &ProjectConfig,
        settings: &CodegenSettings,
    ) -> PushResult<TypecheckPlan> {
        if !self.options.codegen || !settings.writes() {
            // Nothing gets written: the files as they are are final.
            return Ok(TypecheckPlan {
                early: true,
                authoritative: true,
                predicted: PredictedSplit::default(),
            });
        }
        if !codegen_step::final_is_predictable(graph, config) {
            // Checked on the files as they are (bundling writes nothing),
            // and again if final codegen changes any.
            return Ok(TypecheckPlan {
                early: true,
                authoritative: false,
                predicted: PredictedSplit::default(),
            });
        }
        let predicted = codegen_step::predicted_final_changes(graph, settings)?;
        let early = predicted.typecheck_can_start_early();
        let mut all = predicted.declarations.clone();
        all.extend(predicted.code.iter().cloned());
        Ok(TypecheckPlan {
            early,
            authoritative: true,
            predicted: PredictedSplit {
                declarations: predicted.declarations,
                code: predicted.code,
                all,
            },
        })
    }

    /// Typechecks every folder, in order (nothing when `run` is false).
    async fn run_typecheck(
        &self,
        typechecker: &Typechecker,
        dirs: &[PathBuf],
        run: bool,
    ) -> PushResult<Vec<TypecheckOutcome>> {
        let mut outcomes = Vec::new();
        if !run {
            return Ok(outcomes);
        }
        for dir in dirs {
            outcomes.push(typechecker.check(dir, self.output).await?);
        }
        Ok(outcomes)
    }

    /// Directories to typecheck: the root, plus every local component with
    /// `typecheck_components`. For `codegen --component-dir`, not the root
    /// but that component (or every component with `typecheck_components`).
    fn typecheck_dirs(&self, graph: &ComponentGraph) -> Vec<PathBuf> {
        let synthetic = graph.root.synthetic_import.is_some();
        let mut dirs = Vec::new();
        if !synthetic {
            dirs.push(graph.root.path.clone());
        }
        let components = graph.components.iter().filter(|c| !c.is_root);
        if self.options.typecheck_components {
            dirs.extend(components.map(|c| c.path.clone()));
        } else if synthetic {
            dirs.extend(
                components
                    .filter(|c| codegen_step::is_codegen_target(graph, c))
                    .map(|c| c.path.clone()),
            );
        }
        dirs
    }

    fn fail_on_type_errors(
        &self,
        typechecker: &Typechecker,
        outcomes: &[TypecheckOutcome],
    ) -> PushResult<()> {
        for outcome in outcomes {
            if let TypecheckOutcome::Failed { diagnostics, files } = outcome {
                let mut err = typecheck::failure(typechecker.kind.as_str(), diagnostics);
                err.observed_files = files.clone();
                return Err(err);
            }
        }
        Ok(())
    }

    /// Push-call errors with special advice: missing environment
    /// variables, races, local backend crashes.
    fn refine_push_error(&self, error: PushError) -> PushError {
        let Some(fetch) = error.fetch.clone() else {
            return error;
        };
        let (code, message) = match fetch.as_ref() {
            crate::http::FetchError::Status(s) if s.deprecated.is_none() => {
                (s.code.clone(), s.message.clone().unwrap_or_default())
            }
            _ => return error,
        };
        let name = self.target.deployment_name.as_deref();
        let with_fetch = |mut e: PushError| {
            e.fetch = Some(fetch.clone());
            e
        };
        match code.as_deref() {
            Some("AuthConfigMissingEnvironmentVariable") => {
                let variable = regex::Regex::new(r"(?i)Environment variable (\S+)")
                    .ok()
                    .and_then(|re| re.captures(&message))
                    .map(|c| c[1].to_string());
                let text = format!(
                    "Environment variable {} is used in auth config file but its value was not set.\n{}",
                    variable.as_deref().unwrap_or("(unknown)"),
                    set_env_vars_instructions(
                        variable.as_slice(),
                        name,
                        self.target.deployment_type.as_ref(),
                        &self.target.url,
                        self.ctx.dashboard_host(),
                    )
                );
                with_fetch(PushError::new(
                    ErrorCategory::InvalidFilesystemOrEnvVars,
                    text,
                ))
            }
            Some("MissingEnvironmentVariables") => {
                let names: Vec<String> = regex::Regex::new(r"are not set: ([^.]+)\.")
                    .ok()
                    .and_then(|re| re.captures(&message))
                    .map(|c| c[1].split(", ").map(str::to_string).collect())
                    .unwrap_or_default();
                let head = match names.len() {
                    0 => message.clone(),
                    1 => format!(
                        "Environment variable {} is declared as required in convex.config.ts but its value was not set.",
                        names[0]
                    ),
                    _ => format!(
                        "Environment variables {} are declared as required in convex.config.ts but their values were not set.",
                        names.join(", ")
                    ),
                };
                let text = format!(
                    "{head}\n{}",
                    set_env_vars_instructions(
                        &names,
                        name,
                        self.target.deployment_type.as_ref(),
                        &self.target.url,
                        self.ctx.dashboard_host(),
                    )
                );
                with_fetch(PushError::new(
                    ErrorCategory::InvalidFilesystemOrEnvVars,
                    text,
                ))
            }
            Some("RaceDetected") => {
                let text = if message.is_empty() {
                    "Schema or environment variables changed during push".to_string()
                } else {
                    message
                };
                with_fetch(PushError::new(ErrorCategory::Transient, text))
            }
            Some("InternalServerError") if name.is_some_and(|n| n.starts_with("local-")) => {
                let mut e = error;
                e.category = ErrorCategory::Fatal;
                e.message = Some(format!(
                    "{}\nThe local backend hit an internal error. Try restarting `npx convex dev`, and report the problem if it persists.",
                    e.message.as_deref().unwrap_or("")
                ));
                e
            }
            _ => error,
        }
    }

    /// Polls `wait_for_schema` until the schema is validated and the new
    /// indexes are backfilled.
    async fn wait_for_schema(&self, start_push: &StartPushResponse, span: &Span) -> PushResult<()> {
        let start = Instant::now();
        self.output
            .progress("Pushing code to your Convex deployment...");
        loop {
            let status = api::wait_for_schema_once(
                &self.client,
                start_push.schema_change(),
                self.options.dry_run,
                span,
            )
            .await?;
            let slow = start.elapsed().as_secs() >= 10;
            match status {
                SchemaStatus::InProgress { components } => {
                    let schema_done = components.values().all(|c| c.schema_validation_complete);
                    let done: u64 = components.values().map(|c| c.indexes_complete).sum();
                    let total: u64 = components.values().map(|c| c.indexes_total).sum();
                    let schema_link = || {
                        if slow {
                            format!(
                                "\nSee progress here: {}",
                                self.dashboard_page("/schema?showSchema=true")
                            )
                        } else {
                            String::new()
                        }
                    };
                    let text = if done != total && !schema_done {
                        format!(
                            "Backfilling indexes ({done}/{total} ready) and checking that documents match your schema...{}",
                            schema_link()
                        )
                    } else if done != total {
                        let index = start_push.root_index_diff().and_then(|d| {
                            d.added_indexes
                                .first()
                                .or(d.enabled_indexes.first())
                                .cloned()
                        });
                        match index {
                            Some(index) if slow => format!(
                                "Backfilling index {} ({done}/{total} ready), see progress here: {}",
                                index.name,
                                self.dashboard_page(&format!(
                                    "/data?table={}&showIndexes=true",
                                    index.table()
                                ))
                            ),
                            _ => format!("Backfilling indexes ({done}/{total} ready)..."),
                        }
                    } else {
                        format!(
                            "Checking that documents match your schema...{}",
                            schema_link()
                        )
                    };
                    self.output.progress(&text);
                }
                SchemaStatus::Failed {
                    error,
                    component_path,
                    table_name,
                } => {
                    let mut headline = "Schema validation failed".to_string();
                    if let Some(path) = component_path.as_deref().filter(|p| !p.is_empty()) {
                        headline.push_str(&format!(" in component \"{path}\""));
                    }
                    headline.push('.');
                    let category = api::schema_failure_category(
                        table_name.as_deref(),
                        component_path.as_deref(),
                    );
                    return Err(PushError::new(category, error).with_context(headline));
                }
                SchemaStatus::RaceDetected => {
                    return Err(PushError::fatal(
                        "Schema was overwritten by another push. Run the command again.",
                    ));
                }
                SchemaStatus::Complete => {
                    self.output.progress("Schema validation complete.");
                    return Ok(());
                }
            }
        }
    }
}

enum Started {
    Stopped(PushStage),
    Pushed(StartPushResponse),
}

/// How to set missing environment variables (shown when a push fails on
/// them).
pub fn set_env_vars_instructions(
    names: &[String],
    deployment_name: Option<&str>,
    deployment_type: Option<&DeploymentType>,
    deployment_url: &str,
    dashboard_host: &str,
) -> String {
    let flag = match (deployment_name, deployment_type) {
        (Some(name), t) if !t.is_some_and(|t| t.is_local()) => format!(" --deployment {name}"),
        (_, Some(DeploymentType::Prod)) => " --prod".to_string(),
        (None, _) => format!(" --url {deployment_url} --admin-key <admin key>"),
        _ => String::new(),
    };
    let shown: Vec<String> = if names.is_empty() {
        vec!["<NAME>".to_string()]
    } else {
        names.to_vec()
    };
    let commands: Vec<String> = shown
        .iter()
        .map(|n| format!("    npx convex env set{flag} {n} <value>"))
        .collect();
    let mut text = format!(
        "Set {} with:\n\n{}\n",
        if names.len() > 1 { "them" } else { "it" },
        commands.join("\n")
    );
    if let Some(name) = deployment_name.filter(|n| !n.starts_with("anonymous-")) {
        let query = if names.len() == 1 {
            format!("?var={}", names[0])
        } else {
            String::new()
        };
        text.push_str(&format!(
            "\nor in the dashboard:\n\n    {dashboard_host}/d/{name}/settings/environment-variables{query}\n"
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_instructions() {
        let text = set_env_vars_instructions(
            &["CLERK_ISSUER".to_string()],
            Some("brave-lynx-456"),
            Some(&DeploymentType::Prod),
            "https://x",
            "https://dashboard.convex.dev",
        );
        assert!(
            text.contains("npx convex env set --deployment brave-lynx-456 CLERK_ISSUER <value>")
        );
        assert!(text.contains(
            "https://dashboard.convex.dev/d/brave-lynx-456/settings/environment-variables?var=CLERK_ISSUER"
        ));
        let self_hosted = set_env_vars_instructions(&[], None, None, "http://h", "D");
        assert!(
            self_hosted.contains(
                "npx convex env set --url http://h --admin-key <admin key> <NAME> <value>"
            )
        );
        assert!(!self_hosted.contains("dashboard"));
        let local = set_env_vars_instructions(
            &["A".into(), "B".into()],
            Some("local-x"),
            Some(&DeploymentType::Local),
            "http://127.0.0.1:3210",
            "D",
        );
        assert!(local.starts_with("Set them with:"));
        assert!(local.contains("npx convex env set A <value>"));
    }

    #[test]
    fn installed_version_is_found_upwards() {
        let root = tempfile::tempdir().unwrap();
        let app = root.path().join("apps/x");
        std::fs::create_dir_all(&app).unwrap();
        assert_eq!(installed_convex_version(&app), None);
        let pkg = root.path().join("node_modules/convex");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(
            pkg.join("package.json"),
            r#"{"name":"convex","version":"1.48.0"}"#,
        )
        .unwrap();
        assert_eq!(installed_convex_version(&app).as_deref(), Some("1.48.0"));
    }
}
