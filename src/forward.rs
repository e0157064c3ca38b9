//! The one thing this CLI still hands to the project's own official CLI,
//! with its reason in docs/compatibility.md ("Commands that still run the
//! official CLI"): the hidden `dev --debug-node-apis` diagnostic. Nothing
//! else reaches this module: every command of the tree is native, and an
//! unknown command is a usage error.
//!
//! It runs `node <dir>/node_modules/convex/bin/main.js <args>`, where `<dir>`
//! is the nearest folder at or above the working directory that has one.
//! Arguments, stdio, environment and exit code pass through untouched (on
//! Unix the process is replaced with `exec`, so signals reach Node directly).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The official CLI's entry point in the nearest `node_modules/convex`.
pub fn find_project_cli(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| {
            dir.join("node_modules")
                .join("convex")
                .join("bin")
                .join("main.js")
        })
        .find(|candidate| candidate.is_file())
}

/// Run the project's official CLI with this process's own arguments (after
/// the program name) and return its exit code (prints a clear error and
/// returns 1 when it cannot be run).
pub fn forward_current_args() -> u8 {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    forward(&args)
}

fn forward(args: &[OsString]) -> u8 {
    let command_name = args
        .iter()
        .find(|a| !a.to_string_lossy().starts_with('-'))
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "this command".to_string());
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            crate::output::failure(&format!("Cannot read the current directory: {e}"));
            return 1;
        }
    };
    let Some(main_js) = find_project_cli(&cwd) else {
        crate::output::failure(&format!(
            "This part of `convex {command_name}` is not built into this native CLI, so it runs \
             the official CLI from your project's node_modules, and none was found in {} or any \
             folder above it.\n  Install it in your project with `npm install convex`, then run \
             the command again.",
            cwd.display()
        ));
        return 1;
    };
    let mut command = std::process::Command::new("node");
    command.arg(&main_js).args(args);
    crate::output::verbose(&format!(
        "Running the official CLI for `{command_name}`: node {}",
        main_js.display()
    ));
    run_replacing_this_process(command, &command_name)
}

#[cfg(unix)]
fn run_replacing_this_process(mut command: std::process::Command, command_name: &str) -> u8 {
    use std::os::unix::process::CommandExt;
    let err = command.exec();
    report_spawn_error(err, command_name)
}

/// Windows has no `exec`: the official CLI runs in this console in this
/// process's place. It gets Ctrl-C and Ctrl-Break itself and decides what
/// to do; this process ignores them meanwhile (as a process replaced by
/// `exec` would not see them), then exits with the child's exit code, all
/// 32 bits of it (a code like `STATUS_CONTROL_C_EXIT` must not become 0).
#[cfg(windows)]
fn run_replacing_this_process(mut command: std::process::Command, command_name: &str) -> u8 {
    if let Err(err) = crate::win::ignore_console_control_events() {
        crate::output::verbose(&format!(
            "Could not leave Ctrl-C to the official CLI: {err}"
        ));
    }
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(err) => report_spawn_error(err, command_name),
    }
}

fn report_spawn_error(err: std::io::Error, command_name: &str) -> u8 {
    if err.kind() == std::io::ErrorKind::NotFound {
        crate::output::failure(&format!(
            "`convex {command_name}` runs the official CLI with Node.js, but `node` was not \
             found on your PATH. Install Node.js 20 or later and try again."
        ));
    } else {
        crate::output::failure(&format!(
            "Could not start Node.js for `convex {command_name}`: {err}"
        ));
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nearest_project_cli_walking_up() {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("node_modules/convex/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("main.js"), "").unwrap();
        let nested = root.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(find_project_cli(&nested), Some(bin.join("main.js")));
        let other = tempfile::tempdir().unwrap();
        assert_eq!(find_project_cli(other.path()), None);
    }
}
