//! Ctrl-C (SIGINT) and SIGTERM in the middle of a command: exit 130 on
//! Ctrl-C, no file half written, no temporary file left, no child left.

#![cfg(unix)]

use serde_json::json;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::fault_server::Fault;
use super::scene::*;

pub fn send(child: &Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill(1) is available");
    assert!(status.success());
}

/// Wait until the server has seen `method path`, or fail after 20 s.
pub fn wait_for(s: &Scene, method: &str, path: &str) {
    let start = Instant::now();
    while s.server.hits(method, path) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never saw {method} {path}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Let the request reach the point where the CLI waits for the answer.
    std::thread::sleep(Duration::from_millis(50));
}

/// Wait for the process to end; it must end within 10 s of the signal.
pub fn wait_end(mut child: Child) -> std::process::Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the CLI did not stop after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every process whose parent chain leads to `pid` (Linux `/proc`).
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) {
                // `pid (comm) state ppid ...`; comm may hold spaces.
                if let Some(rest) = stat.rsplit_once(") ") {
                    let ppid = rest.1.split(' ').nth(1).and_then(|v| v.parse().ok());
                    if let Some(ppid) = ppid {
                        parents.push((p, ppid));
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for (child, parent) in &parents {
            if *parent == p && !out.contains(child) {
                out.push(*child);
                frontier.push(*child);
            }
        }
    }
    out
}

/// Whether a process is still running (not gone, not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        Err(_) => false,
    }
}

fn spawn(s: &Scene, args: &[&str]) -> Child {
    s.cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn no_temp_files(s: &Scene) {
    for path in s.files().keys() {
        assert!(!path.to_string_lossy().contains(".convex-tmp-"), "{path:?}");
    }
}

#[test]
fn interrupt_while_creating_a_key_changes_no_file() {
    for signal in ["-INT", "-TERM"] {
        let s = Scene::new();
        s.write(".env.ci", "A=1\n");
        let path = format!("/v1/deployments/{DEPLOYMENT}/create_deploy_key");
        s.server.route(
            "POST",
            &path,
            vec![Fault::Slow(
                Duration::from_secs(30),
                Box::new(Fault::Json(json!({"deployKey": NEW_DEPLOY_KEY}))),
            )],
        );
        // The test's read timeout would end the request first.
        let mut cmd = s.cmd(&[
            "deployment",
            "token",
            "create",
            "ci",
            "--save-env",
            ".env.ci",
        ]);
        cmd.env("CONVEX_TEST_HTTP_TIMEOUT_MS", "60000")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let before = s.files();
        let child = cmd.spawn().unwrap();
        wait_for(&s, "POST", &path);
        let children = descendants(child.id());
        send(&child, signal);
        let out = wait_end(child);
        for p in children {
            assert!(!alive(p), "child {p} left running");
        }
        if signal == "-INT" {
            assert_eq!(out.status.code(), Some(130), "{out:?}");
        } else {
            use std::os::unix::process::ExitStatusExt;
            assert!(
                out.status.signal() == Some(15) || out.status.code().is_some_and(|c| c != 0),
                "{out:?}"
            );
        }
        assert!(out.stdout.is_empty());
        assert_eq!(before, s.files(), "{signal}");
        no_temp_files(&s);
    }
}

#[test]
fn interrupt_while_waiting_for_the_device_login_saves_nothing() {
    let s = Scene::new();
    s.logout();
    route_device_authorization(&s, 1);
    s.server.route(
        "POST",
        "/oauth/token",
        vec![Fault::StatusJson(
            400,
            json!({"error": "authorization_pending"}),
        )],
    );
    let child = spawn(
        &s,
        &[
            "login",
            "--device-name",
            "d",
            "--no-open",
            "--override-auth-url",
            &s.server.url,
        ],
    );
    wait_for(&s, "POST", "/oauth/token");
    send(&child, "-INT");
    let out = wait_end(child);
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert!(!s.config_path().exists());
    no_temp_files(&s);
}
