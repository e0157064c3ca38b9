//! `convex dev`'s warm TypeScript checker: one long-lived Node.js process
//! running `warm_checker.cjs` with the project's own TypeScript, so that a
//! check after a save redoes only what the save affected instead of
//! starting `tsc` from scratch.
//!
//! - TypeScript 4.x/5.x (`watch` mode): the watch program of `tsc --watch`
//!   through the `typescript` package's API, its file and folder watchers
//!   polled at each check (times, sizes, listings); diagnostics and their
//!   text come from the functions `tsc` itself uses, so a failure's message is
//!   the one a fresh `tsc --pretty` prints.
//! - TypeScript 7 (`api` mode): the `typescript/unstable/sync` API server,
//!   told which files changed; it gives the verdict, and on a failure the
//!   caller runs a fresh `tsc --pretty` for the messages (as the official CLI
//!   always does on a failure).
//!
//! After a check, while idle, the `watch` checker spends a few throwaway
//! checks of the project's own files warming V8's JIT, so that the first
//! saves are re-checked about as fast as later ones. A request interrupts
//! them: the CLI creates an interrupt file before it sends one, which the
//! throwaway check looks for as TypeScript's cancellation token (a stat
//! every few milliseconds at most), so a save does not wait for it.
//!
//! Anything the checker cannot promise to answer as `tsc` would (a tsconfig
//! with errors, one that emits or is incremental, project references, an
//! API it does not find) makes it answer "fallback", and the caller runs the
//! real `tsc`. A checker that dies is restarted at the next check (twice at
//! most per run); meanwhile `tsc` runs from scratch as before.
//!
//! Clean-up: the process (and what it starts: TypeScript 7's server) runs
//! in its own process group (Unix) or job object (Windows), killed when the
//! checker is dropped; it also exits by itself when its standard input
//! closes, i.e. when the CLI is gone however it ended.
//!
//! The typecheck server ([`WarmSpec::server`], for one-shot pushes such as
//! `deploy`) is the same script and protocol, reached over a Unix socket
//! (Windows: a named pipe) instead of standard input and output, and meant
//! to outlive the CLI: see [`super::typecheck_server`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, Lines};

use super::process_group::{self, ProcessGroup};

/// V8's semi-space size (MiB) for the checker's Node.js process.
pub(crate) const YOUNG_GENERATION_FLAG: &str = "--max-semi-space-size=32";

/// The script, written to the cache folder (or a temporary file) once; it
/// starts with the V8 tuning of [`super::jit_tuning`].
pub(crate) const SCRIPT: &str = concat!(
    include_str!("jit_tuning.js"),
    include_str!("warm_checker.cjs")
);

/// How the checker drives TypeScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarmMode {
    /// TypeScript 4.x/5.x: its JavaScript API.
    Watch,
    /// TypeScript 7: its API server.
    Api,
}

impl WarmMode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WarmMode::Watch => "watch",
            WarmMode::Api => "api",
        }
    }

    /// The mode for a compiler package folder, if it has an API to use:
    /// `lib/typescript.js` (4.x/5.x) or `dist/api/sync/api.js` (7).
    pub fn for_package(package_dir: &Path) -> Option<WarmMode> {
        if package_dir.join("lib/typescript.js").is_file() {
            Some(WarmMode::Watch)
        } else if package_dir.join("dist/api/sync/api.js").is_file() {
            Some(WarmMode::Api)
        } else {
            None
        }
    }
}

/// What the checker answered for one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarmAnswer {
    Passed {
        files: Vec<PathBuf>,
    },
    Failed {
        files: Vec<PathBuf>,
        /// `tsc`'s report (`watch` mode); `None` when only the verdict is
        /// known (`api` mode).
        report: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
struct Reply {
    id: Option<u64>,
    #[serde(default)]
    ready: bool,
    unsupported: Option<String>,
    status: Option<String>,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    output: String,
    reason: Option<String>,
    /// The typecheck server's process id (in its ready line).
    pid: Option<u32>,
    /// The compiler's version and the file the checker loaded (ready line).
    version: Option<String>,
    compiler: Option<PathBuf>,
    /// Whether V8's code cache of the compiler was "used", "missing" or
    /// "rejected" (ready line; absent when there is none to keep).
    #[serde(rename = "codeCache")]
    code_cache: Option<String>,
    /// A JIT warm-up check stopped for this request.
    #[serde(default, rename = "interruptedWarmUp")]
    interrupted_warm_up: bool,
}

pub(crate) type Reader = Box<dyn AsyncRead + Send + Unpin>;
pub(crate) type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// A connection to the checker: its standard streams, or a socket to the
/// typecheck server.
pub(crate) struct Running {
    /// The child (`dev`); `None` for the server, which is not ours.
    pub(crate) child: Option<tokio::process::Child>,
    pub(crate) input: Writer,
    pub(crate) output: Lines<BufReader<Reader>>,
    pub(crate) ready: bool,
    /// The ready line, when it was read on connecting (the server's).
    greeting: Option<Reply>,
    /// Created before each request (see the module docs).
    interrupt_file: Option<PathBuf>,
}

impl Drop for Running {
    fn drop(&mut self) {
        // Our own checker's file goes with it; the server's stays its own.
        if self.child.is_some()
            && let Some(file) = &self.interrupt_file
        {
            let _ = std::fs::remove_file(file);
        }
    }
}

impl Running {
    pub(crate) fn new(
        input: Writer,
        output: Reader,
        child: Option<tokio::process::Child>,
    ) -> Running {
        Running {
            child,
            input,
            output: BufReader::new(output).lines(),
            ready: false,
            greeting: None,
            interrupt_file: None,
        }
    }

    /// Tells the checker of each request through `file` (see the module
    /// docs); it must have been started with `--interrupt <file>`.
    pub(crate) fn interrupting(mut self, file: &Path) -> Running {
        self.interrupt_file = Some(file.to_path_buf());
        self
    }

    /// A warm-up check under way stops for the request about to be sent.
    /// Best effort: without the file the request waits for that check.
    fn interrupt(&self) {
        if let Some(file) = &self.interrupt_file
            && let Err(e) = crate::fsutil::write_atomic(file, b"", None)
        {
            crate::output::verbose(&format!(
                "Could not create {} ({e}); the request may wait for a warm-up check",
                file.display()
            ));
        }
    }

    /// Reads the first line now: a listener that is going away (a killed
    /// server whose socket its last thread still holds) accepts and then
    /// resets the connection, and this tells the caller before it relies
    /// on it.
    pub(crate) async fn greet(&mut self) -> Result<(), String> {
        if self.greeting.is_none() && !self.ready {
            self.greeting = Some(read_reply(&mut self.output).await?);
        }
        Ok(())
    }
}

/// How to start the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarmSpec {
    pub node: PathBuf,
    /// The compiler package (`node_modules/typescript`, links resolved).
    pub package_dir: PathBuf,
    pub mode: WarmMode,
    /// The project root (the official CLI runs `tsc` from there: the
    /// folder diagnostics are relative to).
    pub cwd: PathBuf,
    /// Where to put the script (the CLI's cache folder).
    pub script_dir: Option<PathBuf>,
    /// Reach the checker as a typecheck server that outlives the CLI
    /// instead of starting a child of its own.
    pub server: Option<super::typecheck_server::ServerSpec>,
}

impl WarmSpec {
    /// `node`'s arguments up to the checker's options: the script, its mode
    /// and compiler, and where it keeps V8's code cache for the compiler.
    pub(crate) fn script_args(&self, script: &Path) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = vec![
            // A larger young generation: TypeScript's checker allocates many
            // short-lived objects, and fewer scavenges make a re-check ~20%
            // quicker (measured on TypeScript 5.9).
            YOUNG_GENERATION_FLAG.into(),
            script.into(),
            self.mode.as_str().into(),
            self.package_dir.clone().into(),
        ];
        if let Some(dir) = &self.script_dir {
            args.push("--code-cache".into());
            args.push(dir.join(CODE_CACHE_FOLDER).into());
        }
        args
    }
}

/// Writes [`SCRIPT`] into `dir` (unless it is there already) and returns
/// its path (the name holds a hash of the script) and whether it was
/// there already.
pub(crate) fn write_script(dir: &Path) -> std::io::Result<(PathBuf, bool)> {
    let name = format!(
        "warm-checker-{}.cjs",
        &crate::bundler::fingerprint::sha256_hex(SCRIPT.as_bytes())[..16]
    );
    let path = dir.join(name);
    let there = std::fs::read(&path).ok().as_deref() == Some(SCRIPT.as_bytes());
    if !there {
        crate::fsutil::write_atomic(&path, SCRIPT.as_bytes(), Some(0o644))?;
    }
    Ok((path, there))
}

/// `node`'s arguments before the compiler script's for a push's `tsc` run
/// on TypeScript 4/5: the checker script in its `tsc` mode, which runs the
/// compiler as `node <script>` would, with V8's tuning (`jit_tuning`) and,
/// once an earlier run left the script in `cache_dir` (the folder outlives
/// a run: not a fresh CI machine), V8's code cache in
/// `<cache_dir>/code-cache`, which costs ~20 ms to write as `tsc` exits.
/// `None` when the script cannot be written.
pub(crate) fn tsc_launch_args(
    cache_dir: &Path,
    package_dir: &Path,
) -> Option<Vec<std::ffi::OsString>> {
    let (script, was_there) = std::fs::create_dir_all(cache_dir)
        .and_then(|()| write_script(cache_dir))
        .ok()?;
    let mut args: Vec<std::ffi::OsString> = vec![script.into(), "tsc".into(), package_dir.into()];
    if was_there {
        args.push("--code-cache".into());
        args.push(cache_dir.join(CODE_CACHE_FOLDER).into());
    }
    args.push("--".into());
    Some(args)
}

/// Under [`WarmSpec::script_dir`]: V8's code cache of the compiler bundle,
/// on Node.js versions before 22.1 (see `warm_checker.cjs`).
pub(crate) const CODE_CACHE_FOLDER: &str = "code-cache";

/// Restarts allowed after the checker died.
const MAX_STARTS: u32 = 3;

/// The warm checker of a run (see the module docs). Cheap to share.
pub struct WarmChecker {
    spec: WarmSpec,
    running: tokio::sync::Mutex<Option<Running>>,
    /// The running process's group (outside `running`, so that it can be
    /// killed while a check holds that lock).
    group: std::sync::Mutex<Option<ProcessGroup>>,
    disabled: AtomicBool,
    starts: AtomicU32,
    next_id: AtomicU64,
    script: std::sync::Mutex<Option<PathBuf>>,
    /// The compiler file the running checker loaded (from its ready line).
    loaded: std::sync::Mutex<Option<PathBuf>>,
    /// What became of V8's code cache of that compiler (from its ready line).
    code_cache: std::sync::Mutex<Option<String>>,
    /// Requests for which a JIT warm-up check stopped (for tests).
    interrupted_warm_ups: AtomicU64,
}

impl std::fmt::Debug for WarmChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarmChecker")
            .field("spec", &self.spec)
            .finish()
    }
}

impl Drop for WarmChecker {
    fn drop(&mut self) {
        self.kill_now();
    }
}

impl WarmChecker {
    pub fn new(spec: WarmSpec) -> Arc<WarmChecker> {
        Arc::new(WarmChecker {
            spec,
            running: tokio::sync::Mutex::new(None),
            group: std::sync::Mutex::new(None),
            disabled: AtomicBool::new(false),
            starts: AtomicU32::new(0),
            next_id: AtomicU64::new(1),
            script: std::sync::Mutex::new(None),
            loaded: std::sync::Mutex::new(None),
            code_cache: std::sync::Mutex::new(None),
            interrupted_warm_ups: AtomicU64::new(0),
        })
    }

    pub fn spec(&self) -> &WarmSpec {
        &self.spec
    }

    /// The compiler file the checker loaded, once it has started: for
    /// TypeScript 5, `tsc`'s own bundle (`lib/_tsc.js` or `lib/tsc.js`)
    /// when it can, else `lib/typescript.js`.
    pub fn loaded_compiler(&self) -> Option<PathBuf> {
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether the running checker's compiler came from V8's code cache
    /// (`"used"`), or compiled without one (`"missing"`, `"rejected"`);
    /// `None` where none is kept (Node.js 22.1 and later cache compiled
    /// code themselves, TypeScript 7, no cache folder).
    pub fn compiler_code_cache(&self) -> Option<String> {
        self.code_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn disable(&self, why: &str) {
        if !self.disabled.swap(true, Ordering::Relaxed) {
            crate::output::verbose(&format!(
                "Warm typecheck off for this run ({why}); running tsc from scratch instead"
            ));
        }
    }

    /// The script's path, written on first use.
    pub(crate) fn script_path(&self) -> std::io::Result<PathBuf> {
        let mut known = self.script.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(path) = known.as_ref()
            && path.is_file()
        {
            return Ok(path.clone());
        }
        let dir = match &self.spec.script_dir {
            Some(dir) if std::fs::create_dir_all(dir).is_ok() => dir.clone(),
            _ => std::env::temp_dir(),
        };
        let (path, _) = write_script(&dir)?;
        *known = Some(path.clone());
        Ok(path)
    }

    async fn start(&self) -> Option<Running> {
        if self.starts.fetch_add(1, Ordering::Relaxed) >= MAX_STARTS {
            self.disable("it stopped too often");
            return None;
        }
        if let Some(server) = &self.spec.server {
            return match super::typecheck_server::connect_or_start(self, server).await {
                Ok(running) => Some(running),
                Err(why) => {
                    self.disable(&why);
                    None
                }
            };
        }
        let script = match self.script_path() {
            Ok(path) => path,
            Err(e) => {
                self.disable(&format!("could not write its script: {e}"));
                return None;
            }
        };
        // Unique to this checker: a `dev` run has one, tests run several.
        static STARTED: AtomicU64 = AtomicU64::new(0);
        let interrupt_file = script.with_file_name(format!(
            "warm-checker-{}-{}.interrupt",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let mut command = tokio::process::Command::new(&self.spec.node);
        command
            .args(self.spec.script_args(&script))
            .arg("--interrupt")
            .arg(&interrupt_file)
            .current_dir(&self.spec.cwd);
        process_group::prepare(&mut command);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                self.disable(&format!("could not start node: {e}"));
                return None;
            }
        };
        let group = ProcessGroup::adopt(&child);
        if let Some(old) = self
            .group
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(group)
        {
            drop(old);
        }
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return None;
        };
        // Its stderr (Node's warnings, a crash's stack) only in verbose mode.
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                crate::output::verbose(&format!("typecheck worker: {line}"));
            }
        });
        Some(
            Running::new(Box::new(stdin), Box::new(stdout), Some(child))
                .interrupting(&interrupt_file),
        )
    }

    /// Starts the process now (and has it read `project`), so that the
    /// first check finds it warm. Does not wait.
    pub fn prestart(self: &Arc<Self>, project: &Path) {
        let this = self.clone();
        let project = project.to_path_buf();
        tokio::spawn(async move {
            let _ = this.check(&project, false).await;
        });
    }

    /// Checks `project` (a folder with a `tsconfig.json`). `None`: no
    /// verdict (the checker is off, died, or answered "fallback"); run `tsc`.
    pub async fn check(&self, project: &Path, pretty: bool) -> Option<WarmAnswer> {
        if self.disabled.load(Ordering::Relaxed) {
            return None;
        }
        let mut guard = self.running.lock().await;
        if guard.is_none() {
            *guard = self.start().await;
        }
        let running = guard.as_mut()?;
        match self.exchange(running, project, pretty).await {
            Ok(answer) => answer,
            Err(why) => {
                crate::output::verbose(&format!("Warm typecheck: {why}"));
                guard.take();
                self.kill_now();
                None
            }
        }
    }

    async fn exchange(
        &self,
        running: &mut Running,
        project: &Path,
        pretty: bool,
    ) -> Result<Option<WarmAnswer>, String> {
        if !running.ready {
            let reply = match running.greeting.take() {
                Some(reply) => reply,
                None => read_reply(&mut running.output).await?,
            };
            if let Some(why) = reply.unsupported {
                self.disable(why.lines().next().unwrap_or("unsupported"));
                return Ok(None);
            }
            if !reply.ready {
                return Err("the worker did not start properly".into());
            }
            if let (Some(server), Some(pid)) = (&self.spec.server, reply.pid) {
                crate::output::verbose(&format!(
                    "Typecheck by the typecheck server (pid {pid}, {})",
                    server.address.display()
                ));
            }
            if let Some(compiler) = &reply.compiler {
                crate::output::verbose(&format!(
                    "Warm checker: TypeScript {} from {}{}",
                    reply.version.as_deref().unwrap_or("(unknown version)"),
                    compiler.display(),
                    reply
                        .code_cache
                        .as_deref()
                        .map(|status| format!(" (V8 code cache: {status})"))
                        .unwrap_or_default()
                ));
            }
            *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = reply.compiler;
            *self.code_cache.lock().unwrap_or_else(|e| e.into_inner()) = reply.code_cache;
            running.ready = true;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let request = serde_json::json!({
            "id": id,
            "project": project,
            "pretty": pretty,
        });
        running.interrupt();
        // A leading newline ends whatever a cancelled write left behind.
        let mut line = format!("\n{request}");
        line.push('\n');
        running
            .input
            .write_all(line.as_bytes())
            .await
            .map_err(|e| format!("the worker stopped reading: {e}"))?;
        running
            .input
            .flush()
            .await
            .map_err(|e| format!("the worker stopped reading: {e}"))?;
        loop {
            let reply = read_reply(&mut running.output).await?;
            // Answers to requests whose caller went away are skipped.
            if reply.id != Some(id) {
                continue;
            }
            if reply.interrupted_warm_up {
                self.interrupted_warm_ups.fetch_add(1, Ordering::Relaxed);
                crate::output::verbose("Warm typecheck: a JIT warm-up check gave way to this one");
            }
            let files: Vec<PathBuf> = reply.files.iter().map(PathBuf::from).collect();
            return Ok(match reply.status.as_deref() {
                Some("passed") => Some(WarmAnswer::Passed { files }),
                Some("failed") => Some(WarmAnswer::Failed {
                    files,
                    report: (self.spec.mode == WarmMode::Watch).then_some(reply.output),
                }),
                _ => {
                    crate::output::verbose(&format!(
                        "Warm typecheck: running tsc instead ({})",
                        reply
                            .reason
                            .as_deref()
                            .and_then(|r| r.lines().next())
                            .unwrap_or("no reason given")
                    ));
                    None
                }
            });
        }
    }

    /// Kills the process and what it started, now (also done on drop).
    pub fn kill_now(&self) {
        if let Some(mut group) = self.group.lock().unwrap_or_else(|e| e.into_inner()).take() {
            group.kill();
        }
    }

    /// How many checks a JIT warm-up check stopped for (for tests).
    #[doc(hidden)]
    pub fn interrupted_warm_ups(&self) -> u64 {
        self.interrupted_warm_ups.load(Ordering::Relaxed)
    }

    /// The checker's process id, while it runs (for tests).
    #[doc(hidden)]
    pub async fn pid(&self) -> Option<u32> {
        self.running
            .lock()
            .await
            .as_ref()
            .and_then(|r| r.child.as_ref()?.id())
    }
}

async fn read_reply(stdout: &mut Lines<BufReader<Reader>>) -> Result<Reply, String> {
    loop {
        match stdout.next_line().await {
            Ok(Some(line)) => {
                if line.trim().is_empty() {
                    continue;
                }
                return serde_json::from_str(&line)
                    .map_err(|e| format!("the worker wrote something unexpected ({e})"));
            }
            Ok(None) => return Err("the worker exited".into()),
            Err(e) => return Err(format!("could not read from the worker: {e}")),
        }
    }
}
