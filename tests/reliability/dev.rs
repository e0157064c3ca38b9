//! Faults and signals for `convex dev` (a dev deploy key, the `basic`
//! fixture project, the fault server as the deployment).

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::deploy::deploy_scene;
use super::fault_server::Fault;
use super::scene::*;

const DEV_KEY: &str = "dev:happy-otter-123|eyJ2MiI6IlNFQ1JFVC1kZXYta2V5In0=";
const DEV_ONCE: &[&str] = &[
    "dev",
    "--once",
    "--tail-logs",
    "disable",
    "--typecheck",
    "disable",
];

/// A project ready for `dev --once` against the fault server with a dev
/// deploy key.
fn dev_scene() -> Scene {
    let mut s = deploy_scene();
    s.set("CONVEX_DEPLOY_KEY", DEV_KEY);
    s
}

/// Run with a deadline (a `dev` that never ends fails the test instead of
/// hanging it).
fn run_bounded(s: &Scene, args: &[&str], limit: Duration) -> Run {
    let mut child = s
        .cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "`{}` still running after {limit:?}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run::from(child.wait_with_output().unwrap())
}

/// Fatal push failures end `dev --once` with exit 1, after exactly the
/// deployment client's attempts, with the step named, no secret shown and
/// `.env.local` either untouched or whole.
#[test]
fn dev_once_push_faults() {
    let baseline = dev_scene();
    let run = run_bounded(&baseline, DEV_ONCE, Duration::from_secs(60));
    assert_eq!(run.code, Some(0), "baseline: {run:#?}");
    let env_after = std::fs::read(baseline.project.path().join(".env.local")).unwrap();
    let cases = [
        (
            "/api/deploy2/start_push",
            Fault::StatusJson(401, convex_error("BadAdminKey", "The admin key is invalid")),
            1,
            "Unable to start push",
        ),
        (
            "/api/deploy2/start_push",
            Fault::StatusRaw(404, "gone"),
            7,
            "Unable to start push",
        ),
        (
            "/api/deploy2/finish_push",
            Fault::StatusJson(403, convex_error("Forbidden", "Not allowed 77")),
            1,
            "Not allowed 77",
        ),
        (
            "/api/get_config_hashes",
            Fault::StatusJson(401, convex_error("BadAdminKey", "bad")),
            1,
            "Unable to pull deployment config",
        ),
    ];
    for (path, fault, attempts, names) in cases {
        let s = dev_scene();
        s.server.route("POST", path, vec![fault.clone()]);
        let run = run_bounded(&s, DEV_ONCE, Duration::from_secs(60));
        let context = format!("{fault:?} at {path}: {run:#?}");
        assert_eq!(run.code, Some(1), "{context}");
        assert!(run.stderr.contains(names), "step not named; {context}");
        assert_eq!(s.server.hits("POST", path), attempts, "{context}");
        assert!(!run.stderr.contains("panicked"), "{context}");
        assert!(!run.stderr.contains("SECRET"), "{context}");
        assert_eq!(
            s.server.hits("POST", "/api/deploy2/finish_push") > 0,
            path.ends_with("finish_push"),
            "{context}"
        );
        if let Ok(bytes) = std::fs::read(s.project.path().join(".env.local")) {
            assert_eq!(bytes, env_after, "{context}");
        }
        for p in s.files().keys() {
            assert!(!p.to_string_lossy().contains(".convex-tmp-"), "{context}");
        }
    }
}

/// Ctrl-C and SIGTERM while `dev` watches (after its first push) and while
/// a push waits for the server: the CLI ends within seconds (Ctrl-C: 130),
/// no child process outlives it, `.env.local` is whole.
#[cfg(unix)]
#[test]
fn dev_interrupted_while_watching_and_while_pushing() {
    use super::signals::{alive, descendants, send, wait_end, wait_for};
    let probe = dev_scene();
    drop(probe);
    for (during_push, signal) in [
        (false, "-INT"),
        (false, "-TERM"),
        (true, "-INT"),
        (true, "-TERM"),
    ] {
        let s = dev_scene();
        if during_push {
            s.server.route(
                "POST",
                "/api/deploy2/start_push",
                vec![Fault::Slow(
                    Duration::from_secs(30),
                    Box::new(Fault::StatusJson(500, convex_error("Late", "late"))),
                )],
            );
        }
        let mut cmd = s.cmd(&["dev", "--tail-logs", "disable", "--typecheck", "disable"]);
        cmd.env("CONVEX_TEST_HTTP_TIMEOUT_MS", "60000")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd.spawn().unwrap();
        let pid = child.id();
        if during_push {
            wait_for(&s, "POST", "/api/deploy2/start_push");
        } else {
            wait_for(&s, "POST", "/api/deploy2/finish_push");
            std::thread::sleep(Duration::from_millis(500));
        }
        let children = descendants(pid);
        send(&child, signal);
        let out = wait_end(child);
        let context = format!("{signal} (during push: {during_push}): {out:?}");
        if signal == "-INT" {
            assert_eq!(out.status.code(), Some(130), "{context}");
        }
        std::thread::sleep(Duration::from_millis(300));
        for p in children {
            assert!(!alive(p), "child {p} left running; {context}");
        }
        if let Ok(text) = std::fs::read_to_string(s.project.path().join(".env.local")) {
            assert!(
                text.contains("CONVEX_URL=") && text.ends_with('\n'),
                "{context}"
            );
        }
        for p in s.files().keys() {
            assert!(!p.to_string_lossy().contains(".convex-tmp-"), "{context}");
        }
    }
}

/// A transient failure (500) is retried after a short back-off, as the
/// official `dev` does, and `dev --once` then succeeds.
#[test]
fn dev_once_retries_a_transient_push_failure() {
    let s = dev_scene();
    s.server.route(
        "POST",
        "/api/deploy2/start_push",
        vec![
            Fault::StatusJson(500, convex_error("InternalServerError", "Try again")),
            super::deploy::start_push_ok(),
        ],
    );
    let run = run_bounded(&s, DEV_ONCE, Duration::from_secs(60));
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        s.server.hits("POST", "/api/deploy2/start_push"),
        2,
        "{run:#?}"
    );
    assert_eq!(
        s.server.hits("POST", "/api/deploy2/finish_push"),
        1,
        "{run:#?}"
    );
    assert!(run.stderr.contains("Try again"), "{run:#?}");
}
