//! Shared helpers for integration tests.
//!
//! # npm packages
//!
//! Tests that bundle need a real `node_modules` with `convex` 1.48.0 and the
//! esbuild it pins. [`npm_node_modules`] installs them once per checkout,
//! from `tests/fixtures/npm/package.json` + its committed `package-lock.json`
//! (`npm ci --ignore-scripts`), into `target/test-npm/<hash of the two
//! files>/node_modules`, and returns that folder. A file lock makes parallel
//! test binaries wait for one install; later runs reuse it. Needs `node` and
//! `npm` on `PATH` and the npm registry; nothing is installed by hand.
//!
//! To change the packages: edit `tests/fixtures/npm/package.json`, run
//! `npm install --package-lock-only` in that folder and commit both files.
//!
//! [`make_project`] lays out a temporary project with a `node_modules` of
//! symbolic links into that install (like the conformance harness does), so
//! each test can add its own fake packages.
//!
//! The same install holds the reference CLI:
//! [`reference_cli`] returns `node_modules/convex/bin/main.js`.
//!
//! # Other helpers
//!
//! [`scene`]: a temporary HOME and project with wiremock as the management
//! API. [`example`]: the fake local backends of `examples/`, built on
//! demand. [`free_ports`], [`pid_alive`].
#![allow(dead_code)]

pub mod deploy_mock;
pub mod fake_convex;
pub mod scene;

use std::collections::hash_map::DefaultHasher;
use std::fs::{self, File};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cargo target folder (`CARGO_TARGET_DIR` or `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                manifest_dir().join(p)
            }
        })
        .unwrap_or_else(|| manifest_dir().join("target"))
}

/// The variables that make `home` the home folder of a child run with a
/// cleared environment: `HOME`, and on Windows `USERPROFILE` (where Node and
/// the CLI look) plus `SystemRoot` and `SystemDrive`, without which a
/// Windows process cannot open a socket.
pub fn home_env(home: &Path) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    let mut vars = vec![("HOME".into(), home.as_os_str().to_owned())];
    if cfg!(windows) {
        vars.push(("USERPROFILE".into(), home.as_os_str().to_owned()));
        for name in ["SystemRoot", "SystemDrive"] {
            if let Some(value) = std::env::var_os(name) {
                vars.push((name.into(), value));
            }
        }
    }
    vars
}

/// `npm` (a `.cmd` script on Windows, which `Command` does not find by the
/// bare name).
pub fn npm() -> Command {
    Command::new(if cfg!(windows) { "npm.cmd" } else { "npm" })
}

/// Whether `program --version` runs.
pub fn has_program(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn install() -> Result<PathBuf, String> {
    install_fixture("npm")
}

/// `npm ci` of `tests/fixtures/<name>` into `target/test-npm/<hash>`, once.
fn install_fixture(name: &str) -> Result<PathBuf, String> {
    let fixture = manifest_dir().join("tests/fixtures").join(name);
    let package_json = fs::read(fixture.join("package.json")).map_err(|e| e.to_string())?;
    let lock = fs::read(fixture.join("package-lock.json")).map_err(|e| e.to_string())?;
    let mut hasher = DefaultHasher::new();
    package_json.hash(&mut hasher);
    lock.hash(&mut hasher);
    let base = target_dir().join("test-npm");
    let dir = base.join(format!("{:016x}", hasher.finish()));
    let node_modules = dir.join("node_modules");
    let marker = dir.join(".installed");
    if marker.exists() {
        return Ok(node_modules);
    }
    fs::create_dir_all(&base).map_err(|e| e.to_string())?;
    let lock_file = File::create(base.join(".lock")).map_err(|e| e.to_string())?;
    lock_file.lock().map_err(|e| e.to_string())?;
    // Another process may have finished while we waited for the lock.
    if marker.exists() {
        return Ok(node_modules);
    }
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    fs::write(dir.join("package.json"), &package_json).map_err(|e| e.to_string())?;
    fs::write(dir.join("package-lock.json"), &lock).map_err(|e| e.to_string())?;
    let output = npm()
        .args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("could not run npm: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "npm ci failed in {}:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    fs::write(&marker, "").map_err(|e| e.to_string())?;
    Ok(node_modules)
}

static NPM: OnceLock<Result<PathBuf, String>> = OnceLock::new();
static NPM_TS7: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// TypeScript 7.0.2 (its native compiler) and `@types/node`, installed on
/// first use (`tests/fixtures/npm-ts7`).
pub fn npm_ts7_node_modules() -> &'static Path {
    match NPM_TS7.get_or_init(|| install_fixture("npm-ts7")) {
        Ok(path) => path,
        Err(err) => panic!("installing the TypeScript 7 test packages failed: {err}"),
    }
}

/// The shared `node_modules` (convex 1.48.0, esbuild 0.27.0, ...),
/// installed on first use. Panics with npm's output if the install fails.
pub fn npm_node_modules() -> &'static Path {
    match NPM.get_or_init(install) {
        Ok(path) => path,
        Err(err) => panic!("installing the test npm packages failed: {err}"),
    }
}

/// Whether npm's output says the registry could not be reached.
fn registry_unreachable(err: &str) -> bool {
    [
        "ENOTFOUND",
        "EAI_AGAIN",
        "ECONNREFUSED",
        "ECONNRESET",
        "ETIMEDOUT",
        "ENETUNREACH",
        "EHOSTUNREACH",
        "network request",
    ]
    .iter()
    .any(|code| err.contains(code))
}

/// Both installs for tests that may skip: `None` (after a loud message
/// naming `test`) only when npm could not reach the registry; any other
/// failure panics as [`npm_node_modules`] does.
pub fn npm_installs_or_skip(test: &str, ts7: bool) -> Option<(&'static Path, &'static Path)> {
    let check = |result: &'static Result<PathBuf, String>| match result {
        Ok(path) => Some(path.as_path()),
        Err(err) if registry_unreachable(err) => {
            eprintln!(
                "\n!!!!! SKIPPED {test}: the npm registry is unreachable, so TypeScript could not be installed. \
                 This test proves nothing in this run.\n{err}\n"
            );
            None
        }
        Err(err) => panic!("installing the test npm packages failed: {err}"),
    };
    let shared = check(NPM.get_or_init(install))?;
    let ts7 = if ts7 {
        check(NPM_TS7.get_or_init(|| install_fixture("npm-ts7")))?
    } else {
        shared
    };
    Some((shared, ts7))
}

/// `node_modules/convex/bin/main.js` of the shared install: the reference
/// CLI, run with `node`.
pub fn reference_cli() -> PathBuf {
    npm_node_modules().join("convex/bin/main.js")
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(windows)]
fn symlink(target: &Path, link: &Path) {
    std::os::windows::fs::symlink_dir(target, link).unwrap();
}

/// Gives `project` a `node_modules` folder whose entries are symbolic links
/// to the shared install (so tests may add packages of their own).
pub fn link_node_modules(project: &Path) {
    link_node_modules_except(project, &[]);
}

/// [`link_node_modules`] without the packages named in `left_out` (e.g.
/// `typescript`, so that `--typecheck try` skips tsc).
pub fn link_node_modules_except(project: &Path, left_out: &[&str]) {
    let shared = npm_node_modules();
    let local = project.join("node_modules");
    fs::create_dir_all(&local).unwrap();
    for entry in fs::read_dir(shared).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name_text = name.to_string_lossy();
        if name_text.starts_with('.') || left_out.contains(&name_text.as_ref()) {
            continue;
        }
        let link = local.join(&name);
        if !link.exists() {
            symlink(&entry.path(), &link);
        }
    }
}

/// Writes `files` (relative path → content) under `dir`.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (rel, content) in files {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
}

/// Writes `wrapper`, a shell script that runs `line` and then the
/// project's real esbuild with its arguments, for `ESBUILD_BINARY_PATH`:
/// tests see the environment esbuild starts with.
#[cfg(unix)]
pub fn esbuild_wrapper(project: &Path, wrapper: &Path, line: &str) {
    use std::os::unix::fs::PermissionsExt;
    let real = convex_cli::bundler::locate_esbuild(project, None).unwrap();
    fs::write(
        wrapper,
        format!("#!/bin/sh\n{line}\nexec '{}' \"$@\"\n", real.path.display()),
    )
    .unwrap();
    fs::set_permissions(wrapper, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Copies a directory tree (files and folders; no links).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temporary project: `files` written, `node_modules` linked.
pub fn make_project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), files);
    link_node_modules(dir.path());
    dir
}

/// `target/debug/examples/<name>` (the fake local backends), built once per
/// test process so that a stale copy is never used.
pub fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().unwrap().parent().unwrap().join("examples");
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet"])
            .args(["--example", "fake_local_backend"])
            .args(["--example", "hold_local_backend"])
            .current_dir(manifest_dir())
            .status()
            .expect("run cargo build --example");
        assert!(status.success(), "building the test examples failed");
    });
    let path = examples.join(name);
    assert!(path.exists(), "{} is missing", path.display());
    path
}

/// Two different loopback ports nothing listens on (at the time of asking).
pub fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

/// Whether process `pid` exists.
#[cfg(unix)]
pub fn pid_alive(pid: impl Into<i64>) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid.into() as libc::pid_t, 0) == 0 }
}
