//! Issue 11's promise: the binary is a whole CLI. Every leaf command of the
//! clap tree (`convex_cli::cli::Cli::command()`), and `help <command>` for
//! every top-level one, runs with a `node` first on PATH that records each
//! call and exits 99, in a project that has `node_modules/convex/bin/main.js`
//! (so handing a command over to the official CLI would start that `node`).
//! None of them may call it.
//!
//! The only commands whose job is to start Node are the ones that run the
//! project's TypeScript compiler (`typecheck`, and `dev`/`deploy` while
//! type-checking) or `--cmd`: the project here has no `typescript` package
//! and no `--cmd` is given, so they must not start it either.
//!
//! Each command gets its own HOME and project, a logged-in user, a dev
//! deployment in `.env.local` whose management API and deployment are a
//! loopback wiremock that knows only where the deployment is (every other
//! request gets a 404), and a proxy on a closed loopback port for any other
//! host, so commands fail fast instead of reaching a real service. Commands
//! that would run until stopped (`logs`, `dev`, `login`'s wait…) are stopped
//! after a while; what matters is that they did not start Node.

mod support;

use clap::CommandFactory;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// How long one command may run before it is stopped.
const RUN_LIMIT: Duration = Duration::from_secs(20);

/// Arguments for leaves that need some to get past the usage check.
fn arguments_for(leaf: &str) -> Vec<&'static str> {
    let args: &[&str] = match leaf {
        "dev" => &["--once"],
        "deploy" => &["-y"],
        "run" => &["messages:list", "{}"],
        "import" => &["--table", "notes", "notes.jsonl"],
        "export" => &["--path", "snapshot.zip"],
        "env set" => &["API_KEY", "secret"],
        "env get" | "env remove" => &["API_KEY"],
        "env default set" => &["API_KEY", "secret", "--type", "dev"],
        "env default get" | "env default remove" => &["API_KEY", "--type", "dev"],
        "env default list" => &["--type", "dev"],
        "data" => &["notes"],
        "dashboard" | "docs" => &["--no-open"],
        "deployment select" => &["dev"],
        "deployment create" => &["--type", "dev", "--default"],
        "deployment usage-limits set" => &[
            "--metric",
            "functionCalls",
            "--window",
            "month",
            "--type",
            "warning",
            "--limit",
            "10",
        ],
        "deployment usage-limits remove" => &[
            "--metric",
            "functionCalls",
            "--window",
            "month",
            "--type",
            "warning",
        ],
        "integration workos create-project-environment" => &["--name", "staging"],
        "integration workos delete-project-environment" => &["--client-id", "client_01"],
        "deployment token create" => &["ci"],
        "deployment token delete" => &["ci"],
        "project create" => &["rocket-2"],
        "login" => &["--no-open", "--force"],
        _ => &[],
    };
    args.to_vec()
}

/// Space-separated paths of the commands under `command` that run
/// something: the leaves, and the commands whose subcommand is optional
/// (`login` beside `login status`), hidden ones included.
fn leaves(command: &clap::Command, prefix: &str, out: &mut Vec<String>) {
    for sub in command.get_subcommands() {
        let name = if prefix.is_empty() {
            sub.get_name().to_string()
        } else {
            format!("{prefix} {}", sub.get_name())
        };
        if !sub.has_subcommands() || !sub.is_subcommand_required_set() {
            out.push(name.clone());
        }
        if sub.has_subcommands() {
            leaves(sub, &name, out);
        }
    }
}

/// A `node` that records its arguments in `node-calls` and refuses to run.
fn refusing_node(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = dir.join("node-calls");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let script = bin.join("node");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$@\" >> '{}'\necho 'node must not run' >&2\nexit 99\n",
                calls.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    #[cfg(windows)]
    std::fs::write(
        bin.join("node.cmd"),
        format!(
            "@echo off\r\necho %* >> \"{}\"\r\necho node must not run 1>&2\r\nexit /b 99\r\n",
            calls.display()
        ),
    )
    .unwrap();
    bin
}

struct Outcome {
    command: String,
    node_calls: Option<String>,
    code: Option<i32>,
    stopped: bool,
    stderr: String,
}

fn run_one(argv: Vec<String>, host: String, proxy: String) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let project = dir.path().join("project");
    let bin = refusing_node(dir.path());
    support::write_files(
        &project,
        &[
            (
                "package.json",
                r#"{"name":"rocket","dependencies":{"convex":"1.48.0"}}"#,
            ),
            (
                "node_modules/convex/package.json",
                r#"{"name":"convex","version":"1.48.0"}"#,
            ),
            ("node_modules/convex/bin/main.js", "// the official CLI\n"),
            ("convex/messages.ts", "export const list = 1;\n"),
            ("notes.jsonl", "{\"text\": \"hi\"}\n"),
            (
                ".env.local",
                "CONVEX_DEPLOYMENT=dev:happy-otter-123 # team: acme, project: rocket\n",
            ),
        ],
    );
    let port = host.rsplit(':').next().unwrap().to_string();
    let convex_dir = home.join(format!(".convex-test-{port}"));
    std::fs::create_dir_all(&convex_dir).unwrap();
    std::fs::write(
        convex_dir.join("config.json"),
        r#"{"accessToken": "convex-pat-alice-0001"}"#,
    )
    .unwrap();

    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_convex"));
    cmd.args(&argv)
        .env_clear()
        .current_dir(&project)
        .env("HOME", &home)
        .env("USERPROFILE", &home)
        .env("PATH", &bin)
        .env("CONVEX_PROVISION_HOST", &host)
        .env("CONVEX_VERSION_API_ORIGIN", &host)
        .env("HTTPS_PROXY", &proxy)
        .env("HTTP_PROXY", &proxy)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("CONVEX_TEST_RETRY_DELAY_MS", "10")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    #[cfg(windows)]
    if let Some(root) = std::env::var_os("SystemRoot") {
        cmd.env("SystemRoot", root);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let started = Instant::now();
    let (code, stopped) = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break (status.code(), false);
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // A command that left a child behind holding stderr open: do not wait
    // for it past the limit.
    let stderr = if reader.is_finished() || !stopped {
        reader.join().unwrap_or_default()
    } else {
        String::new()
    };
    Outcome {
        command: argv.join(" "),
        node_calls: std::fs::read_to_string(dir.path().join("node-calls")).ok(),
        code,
        stopped,
        stderr,
    }
}

async fn mock_deployment() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/deployment/happy-otter-123/team_and_project"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/deployment/authorize_within_current_project"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "deploymentName": "happy-otter-123", "url": server.uri(),
            "adminKey": "dev:happy-otter-123|admin", "deploymentType": "dev"
        })))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn no_command_of_the_tree_starts_node() {
    let tree = convex_cli::cli::Cli::command();
    let mut all = Vec::new();
    leaves(&tree, "", &mut all);
    assert!(all.len() > 40, "the tree has {} leaves", all.len());
    for expected in ["dev", "deploy", "mcp start", "env set", "typecheck"] {
        assert!(all.iter().any(|l| l == expected), "no leaf `{expected}`");
    }

    let mut runs: Vec<Vec<String>> = Vec::new();
    for leaf in &all {
        let mut argv: Vec<String> = leaf.split(' ').map(String::from).collect();
        argv.extend(arguments_for(leaf).into_iter().map(String::from));
        runs.push(argv);
    }
    for top in tree.get_subcommands() {
        runs.push(vec!["help".into(), top.get_name().into()]);
        runs.push(vec![top.get_name().into(), "--help".into()]);
    }
    // The control: the one forwarded flag does start the refusing `node`,
    // so a forwarded command above could not go unnoticed.
    let control: Vec<String> = ["dev", "--once", "--debug-node-apis"]
        .map(String::from)
        .to_vec();
    runs.push(control.clone());

    let server = mock_deployment().await;
    // Nothing listens on port 9 (discard) of the loopback: proxied requests
    // to any other host fail at once.
    let proxy = "http://127.0.0.1:9".to_string();
    let host = server.uri();
    let mut outcomes = Vec::new();
    // A few at a time: most of each run is waiting on a socket.
    for chunk in runs.chunks(6) {
        let handles: Vec<_> = chunk
            .iter()
            .cloned()
            .map(|argv| {
                let (host, proxy) = (host.clone(), proxy.clone());
                tokio::task::spawn_blocking(move || run_one(argv, host, proxy))
            })
            .collect();
        for handle in handles {
            outcomes.push(handle.await.unwrap());
        }
    }

    let mut report = String::new();
    for o in &outcomes {
        let status = match (o.stopped, o.code) {
            (true, _) => "stopped after the time limit".to_string(),
            (false, Some(code)) => format!("exit {code}"),
            (false, None) => "killed by a signal".to_string(),
        };
        let first_line = o
            .stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        report.push_str(&format!("convex {}: {status}; {first_line}\n", o.command));
    }
    eprintln!("{report}");
    let (controls, outcomes): (Vec<Outcome>, Vec<Outcome>) = outcomes
        .into_iter()
        .partition(|o| o.command == control.join(" "));
    assert!(
        controls[0]
            .node_calls
            .as_deref()
            .is_some_and(|calls| calls.contains("main.js dev --once --debug-node-apis")),
        "the refusing node did not record `dev --once --debug-node-apis`"
    );
    assert_eq!(controls[0].code, Some(99));
    let offenders: Vec<String> = outcomes
        .iter()
        .filter_map(|o| {
            o.node_calls
                .as_ref()
                .map(|calls| format!("`convex {}` ran `node {}`", o.command, calls.trim()))
        })
        .collect();
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
    // Exit 99 would be the refusing node's own code passed through.
    assert!(outcomes.iter().all(|o| o.code != Some(99)));
    // The fake was reached: the commands got past their setup.
    assert!(!server.received_requests().await.unwrap().is_empty());
}
