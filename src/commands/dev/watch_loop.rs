//! The watch–push loop: push, report, run `--run`/`--start` once, then wait
//! for a relevant file change (or retry after a failure) and push again.
//!
//! Failures carry the category the official CLI decides on (spec §8.4):
//!
//! | category | long-running / `--until-success` | `--once` |
//! |---|---|---|
//! | fatal (401/403/404, race, deprecation) | stop, exit 1 | exit 1 |
//! | transient (network, 5xx, ...) | warn, back off, retry at once | same |
//! | invalid files | wait for a file change | exit 1 |
//! | invalid files or env vars (HTTP 400) | wait for a file or env-var change | exit 1 |
//! | invalid files or db data (schema) | wait for a file or table change | exit 1 |
//!
//! (The official CLI exits 0 after a fatal failure; see
//! `docs/compatibility.md`.)
//!
//! The push itself is one call, [`DevPush::push`], so the loop does not care
//! how pushing works; `dev` plugs in the shared push pipeline.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Result;

use super::logs::LogManager;
use super::push_step::failure_of;
use super::remote_watch::{RemoteTrigger, RemoteWatch};
use super::start::ShellChild;
use super::timefmt::{clock_time, format_duration};
use crate::env::Env;
use crate::error::Failure;
use crate::http::{DeploymentClient, HttpClient};
use crate::output;
use crate::push::function_call;
use crate::watch::{FileWatcher, Observations, Trace};

/// What ended a push (the official CLI's `ErrorType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureCategory {
    Fatal,
    Transient,
    InvalidFiles,
    InvalidFilesOrEnvVars,
    InvalidFilesOrDbData {
        table_name: Option<String>,
        component_path: Option<String>,
    },
}

/// A failed push (or `--run`).
#[derive(Debug, Clone)]
pub struct PushFailure {
    pub category: FailureCategory,
    /// Which step failed (printed as a `✖` line).
    pub context: Option<String>,
    /// What went wrong; `None` when it was already printed.
    pub message: Option<String>,
    /// Files the push had read (watched for the retry).
    pub observed: Vec<PathBuf>,
}

/// A successful push.
#[derive(Debug, Clone, Default)]
pub struct PushSuccess {
    /// Files the push read (esbuild inputs, configuration, ...).
    pub observed: Vec<PathBuf>,
}

/// What a push awaits before its first request to the deployment (see
/// [`push_after_change`]).
pub use crate::push::Gate;

/// One push of the project to the deployment.
#[async_trait::async_trait(?Send)]
pub trait DevPush {
    /// Pushes. With a `gate`, the push may read and bundle files at once,
    /// but awaits the gate before anything reaches the deployment (and may
    /// be dropped before it opens).
    async fn push(&mut self, gate: Option<Gate<'_>>) -> Result<PushSuccess, PushFailure>;

    /// Folders whose whole tree is watched (the functions folder), and files
    /// always watched (`package.json`, `convex.json`, tsconfig files).
    fn watch_roots(&self) -> (Vec<PathBuf>, Vec<PathBuf>);
}

/// What to do once after the first successful push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAfterPush {
    /// `--run <function>` (`--run-component`).
    Function {
        name: String,
        component: Option<String>,
    },
    /// `--start <command>` / `--run-sh <command>`.
    Shell(String),
}

/// Loop settings.
#[derive(Debug, Clone)]
pub struct LoopOptions {
    pub once: bool,
    pub until_success: bool,
    pub trace_events: bool,
    /// Quiet time after a relevant change before pushing.
    pub debounce: Duration,
}

/// Where `--run` and `--start` act.
pub struct AfterPush {
    pub run: Option<RunAfterPush>,
    pub deployment: DeploymentClient,
    pub http: HttpClient,
    /// `functions` of `convex.json` as written (e.g. `convex/`).
    pub functions_dir: String,
    pub project_root: PathBuf,
    pub env: Env,
}

/// Delay before the next attempt after `failures` consecutive transient
/// failures: `min(500 ms · 2^n, 16 s)`, times a random factor in [0.5, 1.5).
pub fn next_backoff(failures: u32) -> Duration {
    let base = (500.0 * 2f64.powi(failures.min(16) as i32)).min(16_000.0);
    Duration::from_secs_f64(base * (0.5 + fastrand::f64()) / 1000.0)
}

fn show_failure(failure: &PushFailure) {
    match (&failure.context, &failure.message) {
        (Some(context), Some(message)) => {
            output::failure(context);
            output::failure(message);
        }
        (Some(only), None) | (None, Some(only)) => output::failure(only),
        (None, None) => output::fail_spinner(),
    }
}

/// Run the loop until `--once`/`--until-success` are done, a fatal failure,
/// or the `--start` command fails. `child` receives the `--start` process
/// (owned by the caller, who stops it at exit).
pub async fn watch_and_push<P: DevPush>(
    pusher: &mut P,
    options: &LoopOptions,
    logs: Option<&LogManager>,
    after: &AfterPush,
    remote: &RemoteWatch,
    child: &mut Option<ShellChild>,
) -> Result<()> {
    let mut watcher: Option<FileWatcher> = None;
    let mut failures: u32 = 0;
    let mut ran = false;
    let mut pushed = false;
    let mut observed: Vec<PathBuf> = Vec::new();
    // After a file change: what changed was observed against, and when the
    // push may reach the deployment.
    let mut changed: Option<(Observations, tokio::time::Instant)> = None;
    loop {
        let (trees, always) = pusher.watch_roots();
        let files = |observed: &Vec<PathBuf>| -> Vec<PathBuf> {
            observed.iter().chain(always.iter()).cloned().collect()
        };
        let before = Observations::record(files(&observed), trees.clone());
        let started = Instant::now();
        if let Some(logs) = logs {
            logs.begin_deploy();
        }
        output::start_spinner("Preparing Convex functions...");
        let outcome = match (&changed, watcher.as_mut()) {
            (Some((observations, quiet_until)), Some(watcher)) => {
                push_after_change(pusher, watcher, observations, *quiet_until).await
            }
            _ => Some(pusher.push(None).await),
        };
        let Some(outcome) = outcome else {
            // Changed again before the quiet period ended: start over.
            if let Some((observations, quiet_until)) = changed.as_mut()
                && let Some(watcher) = watcher.as_mut()
            {
                *quiet_until = settle(watcher, observations, options.debounce, None).await;
            }
            continue;
        };
        changed = None;
        let result = match outcome {
            Ok(success) => {
                let elapsed = started.elapsed();
                if let Some(logs) = logs {
                    logs.end_deploy();
                }
                failures = 0;
                observed = success.observed;
                output::success(&format!(
                    "{} Convex functions ready! ({})",
                    clock_time(SystemTime::now()),
                    format_duration(elapsed)
                ));
                let result = if ran {
                    Ok(())
                } else {
                    run_after_push(after, child).await
                };
                if result.is_ok() {
                    ran = true;
                    pushed = true;
                }
                result
            }
            Err(failure) => {
                if !failure.observed.is_empty() {
                    observed = failure.observed.clone();
                }
                Err(failure)
            }
        };
        let mut trigger = RemoteTrigger::None;
        if let Err(failure) = result {
            show_failure(&failure);
            match &failure.category {
                FailureCategory::Fatal => return Err(Failure::silent(1).into()),
                FailureCategory::Transient => {
                    let delay = next_backoff(failures);
                    failures += 1;
                    output::warning(&format!(
                        "Failed due to network error, retrying in {}...",
                        format_duration(delay)
                    ));
                    tokio::time::sleep(delay).await;
                    continue;
                }
                category => {
                    if options.once {
                        return Err(Failure::silent(1).into());
                    }
                    output::stop_spinner();
                    trigger = trigger_for(category);
                }
            }
        }
        if options.once || (pushed && options.until_success) {
            return Ok(());
        }

        let after_push = Observations::record(files(&observed), trees.clone());
        if after_push.first_difference(&before).is_some() {
            output::message("Filesystem changed during push, retrying...");
            continue;
        }
        if watcher.is_none() {
            watcher = Some(FileWatcher::new()?);
        }
        let Some(watcher) = watcher.as_mut() else {
            continue;
        };
        watcher.update(&after_push);
        // A save made while the watches were being set up sent no event:
        // look once more now that they are.
        if Observations::record(files(&observed), trees)
            .first_difference(&after_push)
            .is_some()
        {
            output::message("Filesystem changed during push, retrying...");
            continue;
        }
        let trace = |line: &str| output::message(line);
        let trace: crate::watch::Trace<'_> = if options.trace_events {
            Some(&trace)
        } else {
            None
        };
        loop {
            tokio::select! {
                _ = watcher.wait_for_overlap(&after_push, trace) => {
                    // An editor's save is often a burst of writes: start
                    // once the burst is over; the rest of the debounce runs
                    // while the push bundles (see `push_after_change`).
                    let quiet_until = settle(watcher, &after_push, options.debounce, trace).await;
                    changed = Some((after_push, quiet_until));
                    break;
                }
                _ = remote.wait_for(&trigger) => break,
                status = wait_child(child) => {
                    if let Some(message) = child.as_ref().and_then(|c| c.failure(status)) {
                        output::error_line(&message);
                        return Err(Failure::silent(1).into());
                    }
                    // It ended well (or by a signal): keep developing.
                }
            }
        }
    }
}

/// How long a change must be followed by quiet before a push starts
/// reading files. The push then runs to the point of its first request
/// while the rest of the debounce passes (see [`push_after_change`]).
const EAGER_QUIET: Duration = Duration::from_millis(5);

/// Waits out a change's burst of writes ([`EAGER_QUIET`]); returns when the
/// rest of the `debounce` ends, the time the push may reach the deployment.
async fn settle(
    watcher: &mut FileWatcher,
    observations: &Observations,
    debounce: Duration,
    trace: Trace<'_>,
) -> tokio::time::Instant {
    let eager = EAGER_QUIET.min(debounce);
    watcher.wait_for_quiet(observations, eager, trace).await;
    tokio::time::Instant::now() + debounce - eager
}

/// A push after a file change, started before the debounce is over: it reads
/// and bundles at once, and reaches the deployment only once no further
/// overlapping change arrived until `quiet_until`. A change before then
/// abandons it (`None`: push again); a push that failed before then (say on
/// a file caught mid-save) counts only if the quiet period then passes.
async fn push_after_change<P: DevPush>(
    pusher: &mut P,
    watcher: &mut FileWatcher,
    changed: &Observations,
    quiet_until: tokio::time::Instant,
) -> Option<Result<PushSuccess, PushFailure>> {
    let opened = std::cell::Cell::new(false);
    let gate = async {
        tokio::time::sleep_until(quiet_until).await;
        opened.set(true);
    };
    let result = {
        let push = pusher.push(Some(Box::pin(gate)));
        tokio::pin!(push);
        loop {
            tokio::select! {
                result = &mut push => break result,
                () = watcher.next_overlap(changed), if !opened.get() => {
                    // Once open, the push may have sent requests: let it
                    // finish (the loop compares before and after).
                    if !opened.get() {
                        return None;
                    }
                }
            }
        }
    };
    if !opened.get() {
        tokio::select! {
            _ = tokio::time::sleep_until(quiet_until) => {}
            () = watcher.next_overlap(changed) => return None,
        }
    }
    Some(result)
}

/// `--run` or `--start`, after the first successful push.
async fn run_after_push(
    after: &AfterPush,
    child: &mut Option<ShellChild>,
) -> Result<(), PushFailure> {
    match &after.run {
        None => Ok(()),
        Some(RunAfterPush::Function { name, component }) => {
            let path =
                function_call::parse_function_name(name, &after.functions_dir, &after.project_root)
                    .map_err(|message| PushFailure {
                        category: FailureCategory::Fatal,
                        context: None,
                        message: Some(message),
                        observed: Vec::new(),
                    })?;
            let npm_version = crate::push::installed_convex_version(&after.project_root)
                .unwrap_or_else(|| crate::REFERENCE_VERSION.to_string());
            let call = function_call::FunctionCall {
                display_name: name,
                path: &path,
                component: component.as_deref(),
                npm_version: &npm_version,
            };
            function_call::run_function_and_log(&after.deployment, &after.http, &call)
                .await
                .map_err(failure_of)
        }
        Some(RunAfterPush::Shell(command)) => match ShellChild::spawn(command, &after.env) {
            Ok(spawned) => {
                *child = Some(spawned);
                Ok(())
            }
            Err(e) => Err(PushFailure {
                category: FailureCategory::Fatal,
                context: None,
                message: Some(format!("{e:#}")),
                observed: Vec::new(),
            }),
        },
    }
}

fn trigger_for(category: &FailureCategory) -> RemoteTrigger {
    match category {
        FailureCategory::InvalidFilesOrEnvVars => RemoteTrigger::EnvVars,
        FailureCategory::InvalidFilesOrDbData {
            table_name: Some(table),
            component_path,
        } => RemoteTrigger::Table {
            table_name: table.clone(),
            component_path: component_path.clone(),
        },
        _ => RemoteTrigger::None,
    }
}

/// The `--start` command's exit, or never when there is none (or it
/// already exited).
async fn wait_child(child: &mut Option<ShellChild>) -> std::process::ExitStatus {
    match child {
        Some(c) => {
            if c.try_status().is_some() {
                return std::future::pending().await;
            }
            c.wait().await
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::path::Path;

    /// Scripted push results; each push may also edit the project.
    struct FakePush {
        root: PathBuf,
        script: VecDeque<Result<(), FailureCategory>>,
        /// Pushes that got past the gate.
        pushes: usize,
        /// Pushes begun (some dropped at the gate).
        started: usize,
        /// `convex/a.ts` as each push past the gate read it.
        seen: Vec<String>,
    }

    impl FakePush {
        fn new(root: &Path, script: Vec<Result<(), FailureCategory>>) -> FakePush {
            FakePush {
                root: root.to_path_buf(),
                script: script.into(),
                pushes: 0,
                started: 0,
                seen: Vec::new(),
            }
        }
    }

    #[async_trait::async_trait(?Send)]
    impl DevPush for FakePush {
        async fn push(&mut self, gate: Option<Gate<'_>>) -> Result<PushSuccess, PushFailure> {
            self.started += 1;
            // What a bundler would read before the gate.
            let read = std::fs::read_to_string(self.root.join("convex/a.ts")).unwrap_or_default();
            if let Some(gate) = gate {
                gate.await;
            }
            self.seen.push(read);
            self.pushes += 1;
            let observed = vec![self.root.join("convex/a.ts")];
            match self
                .script
                .pop_front()
                .unwrap_or(Err(FailureCategory::Fatal))
            {
                Ok(()) => Ok(PushSuccess { observed }),
                Err(category) => Err(PushFailure {
                    category,
                    context: Some("Unable to push".into()),
                    message: None,
                    observed,
                }),
            }
        }

        fn watch_roots(&self) -> (Vec<PathBuf>, Vec<PathBuf>) {
            (
                vec![self.root.join("convex")],
                vec![self.root.join("package.json")],
            )
        }
    }

    fn project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("convex")).unwrap();
        std::fs::write(dir.path().join("convex/a.ts"), "export const a = 1;").unwrap();
        std::fs::write(dir.path().join("package.json"), "{}").unwrap();
        dir
    }

    fn after(root: &Path) -> AfterPush {
        let http = HttpClient::new(&Env::default()).unwrap();
        AfterPush {
            run: None,
            deployment: DeploymentClient::new(http.clone(), "http://127.0.0.1:9", "key"),
            http,
            functions_dir: "convex/".into(),
            project_root: root.to_path_buf(),
            env: Env::default(),
        }
    }

    fn options(once: bool, until_success: bool) -> LoopOptions {
        LoopOptions {
            once,
            until_success,
            trace_events: false,
            debounce: Duration::from_millis(20),
        }
    }

    async fn run(pusher: &mut FakePush, options: &LoopOptions, root: &Path) -> Result<()> {
        let mut child = None;
        tokio::time::timeout(
            Duration::from_secs(20),
            watch_and_push(
                pusher,
                options,
                None,
                &after(root),
                &RemoteWatch::disabled(),
                &mut child,
            ),
        )
        .await
        .expect("the loop ends")
    }

    fn exit_code(result: &Result<()>) -> Option<u8> {
        result
            .as_ref()
            .err()
            .and_then(|e| e.downcast_ref::<Failure>())
            .map(|f| f.exit_code)
    }

    #[tokio::test]
    async fn once_pushes_once() {
        let dir = project();
        let mut ok = FakePush::new(dir.path(), vec![Ok(())]);
        assert!(
            run(&mut ok, &options(true, false), dir.path())
                .await
                .is_ok()
        );
        assert_eq!(ok.pushes, 1);

        let mut bad = FakePush::new(dir.path(), vec![Err(FailureCategory::InvalidFiles)]);
        let result = run(&mut bad, &options(true, false), dir.path()).await;
        assert_eq!(exit_code(&result), Some(1));
        assert_eq!(bad.pushes, 1);

        let mut fatal = FakePush::new(dir.path(), vec![Err(FailureCategory::Fatal)]);
        let result = run(&mut fatal, &options(true, false), dir.path()).await;
        assert_eq!(exit_code(&result), Some(1));
    }

    #[tokio::test]
    async fn transient_failures_are_retried_without_a_change() {
        let dir = project();
        let mut pusher = FakePush::new(dir.path(), vec![Err(FailureCategory::Transient), Ok(())]);
        assert!(
            run(&mut pusher, &options(true, false), dir.path())
                .await
                .is_ok()
        );
        assert_eq!(pusher.pushes, 2);
    }

    #[tokio::test]
    async fn a_saved_file_pushes_again() {
        let dir = project();
        // Push 1 succeeds; push 2 (after the edit) ends the loop.
        let mut pusher = FakePush::new(dir.path(), vec![Ok(()), Err(FailureCategory::Fatal)]);
        let file = dir.path().join("convex/a.ts");
        let editor = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            std::fs::write(&file, "export const a = 2; // edited").unwrap();
        });
        let result = run(&mut pusher, &options(false, false), dir.path()).await;
        editor.await.unwrap();
        assert_eq!(exit_code(&result), Some(1));
        assert_eq!(pusher.pushes, 2);
    }

    #[tokio::test]
    async fn a_change_during_the_debounce_starts_the_push_over() {
        let dir = project();
        let mut pusher = FakePush::new(dir.path(), vec![Ok(()), Err(FailureCategory::Fatal)]);
        let file = dir.path().join("convex/a.ts");
        let editor = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            std::fs::write(&file, "export const a = 2;").unwrap();
            // Past the eager start, within the debounce.
            tokio::time::sleep(Duration::from_millis(100)).await;
            std::fs::write(&file, "export const a = 3;").unwrap();
        });
        let options = LoopOptions {
            debounce: Duration::from_millis(400),
            ..options(false, false)
        };
        let result = run(&mut pusher, &options, dir.path()).await;
        editor.await.unwrap();
        assert_eq!(exit_code(&result), Some(1));
        // The initial push and one push of the final content got through;
        // the one begun on the first write was dropped at the gate.
        assert_eq!(pusher.pushes, 2);
        assert_eq!(pusher.started, 3);
        assert_eq!(pusher.seen.last().unwrap(), "export const a = 3;");
    }

    #[tokio::test]
    async fn until_success_waits_for_a_fix() {
        let dir = project();
        let mut pusher =
            FakePush::new(dir.path(), vec![Err(FailureCategory::InvalidFiles), Ok(())]);
        let file = dir.path().join("convex/b.ts");
        let editor = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            std::fs::write(&file, "export const b = 1;").unwrap();
        });
        let result = run(&mut pusher, &options(false, true), dir.path()).await;
        editor.await.unwrap();
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(pusher.pushes, 2);
    }

    #[test]
    fn backoff_schedule() {
        for (n, base) in [
            (0u32, 500.0),
            (1, 1000.0),
            (3, 4000.0),
            (5, 16000.0),
            (9, 16000.0),
        ] {
            for _ in 0..50 {
                let ms = next_backoff(n).as_secs_f64() * 1000.0;
                assert!(ms >= base * 0.5 && ms < base * 1.5, "{n}: {ms}");
            }
        }
    }
}
