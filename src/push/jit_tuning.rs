//! V8 flags for the Node.js processes that run the project's TypeScript 4/5
//! compiler: the warm checker and typecheck server, and `tsc` itself.
//!
//! A cold `tsc` run is short and spends much of its CPU time in V8's
//! optimizing compiler (TurboFan, on a background thread: 2.5 s of CPU for
//! 1.7 s of wall time on the benchmark project), competing with esbuild for
//! the second core. Optimizing fewer functions, later (a larger tier-up
//! budget) and with less inlining makes the whole run quicker: on the
//! benchmark project, cold `tsc --noEmit` 1.48 s against 1.72 s on Node.js
//! 20 and 1.44 s against 1.63 s on 22; a 5 s run (the same project with
//! `skipLibCheck` off) 4.71 s against 5.12 s on 20. Node.js 24 and later
//! tier up through Maglev first and showed no gain, so they run untouched,
//! as do versions where these flags were not checked to exist (an unknown
//! flag would print an error). The flags change when code is optimized,
//! never what it computes: diagnostics and exit codes are the same.
//!
//! `jit_tuning.js` opens the warm checker's script (which also runs the
//! pushes' `tsc`, in its `tsc` mode) and [`script_launcher`] (`tsc` when
//! there is no cache folder to put that script in).
//! The flags are set from JavaScript (`v8.setFlagsFromString`, before the
//! compiler is loaded) rather than on `node`'s command line, where a flag a
//! later Node.js no longer knows would stop it from starting.

/// The tuning, the first statements of the warm checker's script.
const PRELUDE: &str = include_str!("jit_tuning.js");

/// `node -e` code that runs a Node.js script (`process.argv[1]`, as when
/// `node <script> <args>` runs it) after the tuning: [`PRELUDE`] on one
/// line, without its comments (a command-line argument with line breaks
/// does not survive every shell or shim on Windows).
pub(crate) fn script_launcher() -> String {
    let mut code: Vec<&str> = PRELUDE
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .collect();
    code.push("require(require('path').resolve(process.argv[1]));");
    code.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launcher_survives_a_command_line() {
        // Passed as one argument on every platform, also through cmd.exe
        // quoting of a `node.cmd` shim: no characters it would interpret.
        let launcher = script_launcher();
        for forbidden in ['"', '%', '^', '&', '|', '<', '>', '!', '\n', '\r'] {
            assert!(
                !launcher.contains(forbidden),
                "launcher contains {forbidden:?}"
            );
        }
        // Comments go; every statement stays.
        assert!(!launcher.contains("//"));
        assert!(launcher.starts_with("'use strict'; (function tuneJit() {"));
        assert!(launcher.contains("setFlagsFromString(flag)"));
        assert!(super::super::warm_checker::SCRIPT.starts_with(PRELUDE));
    }

    /// The launched script sees the arguments and the exit code it would
    /// see run directly, with the tuning applied on this Node.js.
    #[test]
    fn the_launcher_runs_a_script_as_node_would() {
        if std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("skipped: node is not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("script.js");
        std::fs::write(
            &script,
            "console.log(JSON.stringify(process.argv.slice(2))); process.exit(3);",
        )
        .unwrap();
        let out = std::process::Command::new("node")
            .arg("-e")
            .arg(script_launcher())
            .arg("--")
            .arg(&script)
            .args(["--noEmit", "-p", "convex"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            r#"["--noEmit","-p","convex"]"#
        );
        // No "unrecognized flag" complaint on the Node.js at hand.
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    }
}
