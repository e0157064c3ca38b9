//! The typecheck server of one-shot pushes (`src/push/typecheck_server.rs`):
//! `convex deploy` twice in one checkout against wiremock with the real
//! TypeScript 5.9.3 of the shared npm install. The second deploy's verdict
//! comes from the server the first one left (same pid, a verbose line), an
//! edit in between that breaks the types is caught with tsc's message and
//! no `finish_push`; a killed server is replaced, a socket that cannot be
//! used falls back to `tsc`; `CI` and `CONVEX_TYPECHECK_SERVER=0` leave no
//! server; the idle timeout ends one. Every server a test starts is killed
//! by pid at its end.
#![cfg(unix)]

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use wiremock::MockServer;

const PROD_KEY: &str = "prod:brave-lynx-456|eyJ2MiI6InByb2Qta2V5In0=";

const BAD: &str = "import { query } from \"./_generated/server\";\nexport const n: number = \"text\";\nexport const q = query({ args: {}, handler: async () => 1 });\n";
const GOOD: &str = "import { query } from \"./_generated/server\";\nexport const q = query({ args: {}, handler: async () => 1 });\n";

struct Scene {
    home: tempfile::TempDir,
    project: tempfile::TempDir,
    server: MockServer,
    env: Vec<(String, String)>,
    edits: std::cell::Cell<u32>,
}

impl Drop for Scene {
    /// Kills the servers this test started.
    fn drop(&mut self) {
        for pid in self.server_pids() {
            // A pid file a killed server left may name a recycled pid.
            let command = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if !Path::new("/proc/self").exists()
                || String::from_utf8_lossy(&command).contains("warm-checker")
            {
                kill(pid);
            }
        }
    }
}

impl Scene {
    async fn new() -> Option<Scene> {
        if !support::has_program("node") {
            eprintln!("skipped: node is not installed");
            return None;
        }
        support::npm_installs_or_skip("typecheck_server", false)?;
        let project = tempfile::tempdir().unwrap();
        support::copy_dir(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects/basic"),
            project.path(),
        );
        support::link_node_modules(project.path());
        // Its node action needs @types/node; keep the checks about our files.
        std::fs::remove_file(project.path().join("convex/digest.ts")).unwrap();
        let scene = Scene {
            home: tempfile::tempdir().unwrap(),
            project,
            server: MockServer::start().await,
            env: vec![
                ("CONVEX_DEPLOY_KEY".into(), PROD_KEY.into()),
                ("CONVEX_VERBOSE".into(), "1".into()),
            ],
            edits: Default::default(),
        };
        support::deploy_mock::mount_defaults(&scene.server).await;
        Some(scene)
    }

    fn set(&mut self, k: &str, v: &str) {
        self.env.push((k.to_string(), v.to_string()));
    }

    /// `convex deploy --typecheck enable`: (exit code, stderr).
    fn deploy(&self) -> (Option<i32>, String) {
        let mut cmd = Command::cargo_bin("convex").unwrap();
        cmd.env_clear()
            .current_dir(self.project.path())
            .envs(support::home_env(self.home.path()))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("CONVEX_PROVISION_HOST", self.server.uri())
            .env("CONVEX_VERSION_API_ORIGIN", self.server.uri())
            .env("NO_COLOR", "1")
            .args(["deploy", "--typecheck", "enable"])
            .timeout(Duration::from_secs(120));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Writes `convex/bad.ts`, each time with other bytes: a remembered
    /// pass (same contents as before) would answer without any checker.
    fn edit_bad(&self, text: &str) {
        let n = self.edits.get() + 1;
        self.edits.set(n);
        support::write_files(
            self.project.path(),
            &[("convex/bad.ts", &format!("{text}// edit {n}\n"))],
        );
    }

    /// `<cache>/typecheck/server`.
    fn server_dir(&self) -> PathBuf {
        let port = self.server.address().port();
        self.home
            .path()
            .join(format!(".cache/convex-test-{port}/typecheck/server"))
    }

    fn files_with(&self, extension: &str) -> Vec<PathBuf> {
        let Ok(read) = std::fs::read_dir(self.server_dir()) else {
            return Vec::new();
        };
        read.flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == extension))
            .collect()
    }

    /// A passing deploy that starts a server, then that server killed;
    /// its pid.
    fn serve_then_kill(&self) -> i32 {
        self.edit_bad(GOOD);
        let (code, first) = self.deploy();
        assert_eq!(code, Some(0), "{first}");
        let old = served_by(&first).unwrap_or_else(|| panic!("not served by a server: {first}"));
        kill(old);
        assert!(wait_until_gone(old, Duration::from_secs(10)));
        old
    }

    /// A listener of the test's own in place of the server's stale socket.
    fn listen_at_the_socket(&self) -> std::os::unix::net::UnixListener {
        let stale = self.files_with("sock");
        assert_eq!(stale.len(), 1);
        std::fs::remove_file(&stale[0]).unwrap();
        std::os::unix::net::UnixListener::bind(&stale[0]).unwrap()
    }

    fn server_pids(&self) -> Vec<i32> {
        self.files_with("pid")
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok()?.trim().parse().ok())
            .collect()
    }

    async fn finish_pushes(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path().ends_with("/finish_push"))
            .count()
    }
}

/// Whether `pid` runs (a zombie does not).
fn alive(pid: i32) -> bool {
    if !support::pid_alive(pid) {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => !Path::new("/proc/self").exists(),
    }
}

fn kill(pid: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

fn wait_until_gone(pid: i32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// The pid in the "Typecheck by the typecheck server (pid N" line.
fn served_by(stderr: &str) -> Option<i32> {
    let (_, rest) = stderr.split_once("Typecheck by the typecheck server (pid ")?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn assert_type_error(code: Option<i32>, stderr: &str) {
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("TypeScript typecheck via `tsc` failed."),
        "{stderr}"
    );
    // tsc's own report line.
    assert!(
        stderr.contains(
            "convex/bad.ts(2,14): error TS2322: Type 'string' is not assignable to type 'number'."
        ),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_deploy_is_checked_by_the_server_the_first_left() {
    let Some(s) = Scene::new().await else { return };
    s.edit_bad(GOOD);
    let (code, first) = s.deploy();
    assert_eq!(code, Some(0), "{first}");
    assert!(first.contains("Started a typecheck server"), "{first}");
    let pids = s.server_pids();
    assert_eq!(pids.len(), 1, "{first}");
    let pid = pids[0];
    assert_eq!(served_by(&first), Some(pid), "{first}");
    // The CLI is gone, the server stays, in a socket folder only we enter.
    assert!(alive(pid));
    assert_eq!(s.files_with("sock").len(), 1);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.server_dir()).unwrap().permissions();
        assert_eq!(mode.mode() & 0o777, 0o700);
    }
    assert_eq!(s.finish_pushes().await, 1);

    // A type error: the server sees the edit and answers with tsc's report;
    // nothing is committed.
    s.edit_bad(BAD);
    let (code, second) = s.deploy();
    assert_type_error(code, &second);
    assert_eq!(served_by(&second), Some(pid), "{second}");
    assert!(!second.contains("Started a typecheck server"), "{second}");
    assert_eq!(s.finish_pushes().await, 1);

    // Fixed: passes, same server.
    s.edit_bad(GOOD);
    let (code, third) = s.deploy();
    assert_eq!(code, Some(0), "{third}");
    assert_eq!(served_by(&third), Some(pid), "{third}");
    assert_eq!(s.finish_pushes().await, 2);
    assert_eq!(s.server_pids(), vec![pid]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_server_is_replaced_and_an_unusable_socket_falls_back_to_tsc() {
    let Some(s) = Scene::new().await else { return };
    // Killed: its socket file stays behind, stale; the next deploy's new
    // server replaces it, and the verdict is right. A dying server's
    // listener can outlive its main thread for a moment: it accepts, then
    // closes. Here a listener that does so once and goes away stands in for
    // it, so the deploy must start a new server after such a connection.
    let old = s.serve_then_kill();
    let dying = s.listen_at_the_socket();
    let accepted = std::thread::spawn(move || dying.accept().is_ok());
    s.edit_bad(BAD);
    let (code, second) = s.deploy();
    assert!(accepted.join().unwrap());
    assert_type_error(code, &second);
    assert!(second.contains("did not answer"), "{second}");
    let new = served_by(&second).unwrap_or_else(|| panic!("not served by a new server: {second}"));
    assert_ne!(new, old);

    // Killed, and a folder where its socket was: no server can listen
    // there, so `tsc` runs, with the same verdict and report.
    kill(new);
    assert!(wait_until_gone(new, Duration::from_secs(10)));
    let socket = s.files_with("sock").pop().unwrap();
    std::fs::remove_file(&socket).unwrap();
    std::fs::create_dir(&socket).unwrap();
    let (code, third) = s.deploy();
    assert_type_error(code, &third);
    assert_eq!(served_by(&third), None, "{third}");
    assert!(
        third.contains("running tsc from scratch instead"),
        "{third}"
    );
    assert_eq!(s.finish_pushes().await, 1);
    s.edit_bad(GOOD);
    let (code, fourth) = s.deploy();
    assert_eq!(code, Some(0), "{fourth}");
    assert_eq!(s.finish_pushes().await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_never_answers_is_given_up_for_tsc() {
    let Some(s) = Scene::new().await else { return };
    s.serve_then_kill();
    // Something alive at the address that accepts and never says a word
    // (a stopped server, say): the deploy neither hangs nor starts a
    // server that could not listen there; `tsc` gives the verdict.
    let silent = s.listen_at_the_socket();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let held = silent.accept().ok();
        let _ = done_rx.recv_timeout(Duration::from_secs(60));
        held.is_some()
    });
    s.edit_bad(BAD);
    let (code, second) = s.deploy();
    let _ = done_tx.send(());
    assert!(holder.join().unwrap());
    assert_type_error(code, &second);
    assert!(second.contains("did not answer within"), "{second}");
    assert!(
        second.contains("running tsc from scratch instead"),
        "{second}"
    );
    assert!(!second.contains("Started a typecheck server"), "{second}");
    assert_eq!(served_by(&second), None, "{second}");
    assert_eq!(s.finish_pushes().await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn ci_and_the_switch_leave_no_server_and_an_idle_one_exits() {
    let Some(mut s) = Scene::new().await else {
        return;
    };
    s.set("CI", "true");
    let (code, stderr) = s.deploy();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("typecheck server"), "{stderr}");
    assert!(s.server_pids().is_empty());
    assert!(s.files_with("sock").is_empty());

    s.env.retain(|(k, _)| k != "CI");
    s.set("CONVEX_TYPECHECK_SERVER", "0");
    s.edit_bad(GOOD);
    let (code, stderr) = s.deploy();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("typecheck server"), "{stderr}");
    assert!(s.server_pids().is_empty());

    // On, with a one-second idle timeout: the server goes by itself and
    // takes its socket and pid file along.
    s.env.retain(|(k, _)| k != "CONVEX_TYPECHECK_SERVER");
    s.set("CONVEX_TYPECHECK_SERVER_IDLE_SECONDS", "1");
    s.edit_bad(GOOD);
    let (code, stderr) = s.deploy();
    assert_eq!(code, Some(0), "{stderr}");
    let pid = served_by(&stderr).unwrap_or_else(|| panic!("not served by a server: {stderr}"));
    assert!(
        wait_until_gone(pid, Duration::from_secs(15)),
        "the idle server still runs"
    );
    assert!(s.files_with("sock").is_empty());
    assert!(s.server_pids().is_empty());
}

/// Replaces the project's TypeScript by a TypeScript 7 package whose native
/// compiler is a script that appends its arguments and Go settings to
/// `record`, lists the functions as the files it read, and passes. It also has the API a typecheck server would load.
fn fake_typescript_7(project: &Path, record: &Path) {
    let modules = project.join("node_modules");
    std::fs::remove_file(modules.join("typescript")).unwrap();
    let platform = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    let native = format!("@typescript/typescript-{platform}-{arch}");
    let script = format!(
        "#!/bin/sh\nprintf 'GOGC=%s GOMEMLIMIT=%s ARGS=%s\\n' \"${{GOGC-unset}}\" \"${{GOMEMLIMIT-unset}}\" \"$*\" >> '{}'\n\
         # --listFiles: the functions, so that an edit means a new check.\n\
         for file in \"$2\"/*.ts; do echo \"$file\"; done\n",
        record.display()
    );
    support::write_files(
        &modules,
        &[
            (
                "typescript/package.json",
                r#"{"name": "typescript", "version": "7.0.2"}"#,
            ),
            ("typescript/bin/tsc", "#!/usr/bin/env node\n"),
            ("typescript/lib/getExePath.js", "module.exports = {};\n"),
            ("typescript/dist/api/sync/api.js", "export {};\n"),
            (
                &format!("{native}/package.json"),
                &format!(r#"{{"name": "{native}", "version": "7.0.2"}}"#),
            ),
            (&format!("{native}/lib/tsc"), &script),
        ],
    );
    use std::os::unix::fs::PermissionsExt;
    let binary = modules.join(&native).join("lib/tsc");
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A deploy on two cores whose TypeScript 7 compiler checks beside the
/// bundling starts esbuild on one thread (`GOMAXPROCS=1`), so that each has
/// a core; a `GOMAXPROCS` of the user's own stands. With more cores esbuild
/// keeps Go's default.
#[tokio::test(flavor = "multi_thread")]
async fn esbuild_leaves_typescript_7_a_core_on_two_cores() {
    let Some(mut s) = Scene::new().await else {
        return;
    };
    fake_typescript_7(s.project.path(), &s.home.path().join("native-runs.txt"));
    let seen = s.home.path().join("esbuild-threads.txt");
    let wrapper = s.home.path().join("esbuild-wrapper.sh");
    let record = format!(
        "printf '%s %s\\n' \"${{GOMAXPROCS-unset}}\" \"$1\" >> '{}'",
        seen.display()
    );
    support::esbuild_wrapper(s.project.path(), &wrapper, &record);
    s.set("ESBUILD_BINARY_PATH", wrapper.to_str().unwrap());
    let services = || -> Vec<String> {
        std::fs::read_to_string(&seen)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("--service="))
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect()
    };
    let two_cores = std::thread::available_parallelism().map_or(true, |n| n.get() <= 2);

    s.edit_bad(GOOD);
    let (code, stderr) = s.deploy();
    assert_eq!(code, Some(0), "{stderr}");
    let expected = if two_cores { "1" } else { "unset" };
    assert_eq!(services(), [expected], "{stderr}");

    s.set("GOMAXPROCS", "3");
    s.edit_bad(GOOD);
    let (code, stderr) = s.deploy();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(services(), [expected, "3"], "{stderr}");
    assert_eq!(s.finish_pushes().await, 2);
}

/// TypeScript 7's native compiler checks a fresh project before a server
/// would have started, so deploys run it directly: no server, no build-info
/// file, and Go's collector off up to a memory limit unless the user set
/// `GOGC` (then theirs stands, and no limit is added).
#[tokio::test(flavor = "multi_thread")]
async fn typescript_7_runs_its_native_compiler_with_no_server() {
    let Some(mut s) = Scene::new().await else {
        return;
    };
    let record = s.home.path().join("native-runs.txt");
    fake_typescript_7(s.project.path(), &record);
    s.edit_bad(GOOD);
    let (code, stderr) = s.deploy();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("typecheck server"), "{stderr}");
    assert!(s.server_pids().is_empty(), "{stderr}");
    assert!(s.files_with("sock").is_empty(), "{stderr}");
    let runs = std::fs::read_to_string(&record).unwrap_or_default();
    let runs: Vec<&str> = runs.lines().collect();
    assert_eq!(runs.len(), 1, "{runs:?}\n{stderr}");
    assert!(
        runs[0].starts_with("GOGC=off GOMEMLIMIT=2GiB ARGS=--project "),
        "{runs:?}"
    );
    assert!(runs[0].contains("--listFiles"), "{runs:?}");
    assert!(!runs[0].contains("--incremental"), "{runs:?}");
    assert_eq!(s.finish_pushes().await, 1);

    s.set("GOGC", "150");
    s.edit_bad(GOOD);
    let (code, stderr) = s.deploy();
    assert_eq!(code, Some(0), "{stderr}");
    let runs = std::fs::read_to_string(&record).unwrap();
    let last = runs.lines().last().unwrap();
    assert!(
        last.starts_with("GOGC=150 GOMEMLIMIT=unset ARGS="),
        "{runs}"
    );
    assert!(s.server_pids().is_empty(), "{stderr}");
}
