//! `env`, `run`, `data`, `function-spec`, `insights` and `logs` run as the
//! real binary against a loopback fake of the Convex services
//! (`support::fake_convex`: management API, deployment API and the sync
//! protocol on one port), with no `node` that works on PATH.

mod support;

use std::process::Output;

use assert_cmd::Command;
use serde_json::{Value, json};
use support::fake_convex::{FakeConvex, Route, SyncScript};

const PROD_KEY: &str = "prod:brave-lynx-456|eyJ2MiI6InByb2Qta2V5LTBhNGUxMmM3In0=";
const DEV_KEY: &str = "dev:happy-otter-123|eyJ2MiI6ImRldi1rZXktNWMxZjc3YWEifQ==";

struct Env {
    fake: FakeConvex,
    home: tempfile::TempDir,
    project: tempfile::TempDir,
    /// A folder whose `node` refuses to run: nothing may start Node.
    bin: tempfile::TempDir,
}

impl Env {
    async fn new() -> Env {
        let fake = FakeConvex::start().await;
        let project = tempfile::tempdir().unwrap();
        std::fs::write(
            project.path().join("package.json"),
            r#"{"name": "app", "dependencies": {"convex": "1.48.0"}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(project.path().join("convex")).unwrap();
        let bin = tempfile::tempdir().unwrap();
        let node = bin.path().join("node");
        std::fs::write(&node, "#!/bin/sh\necho 'node must not run' >&2\nexit 99\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Env {
            fake,
            home: tempfile::tempdir().unwrap(),
            project,
            bin,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("convex").unwrap();
        cmd.env_clear()
            .current_dir(self.project.path())
            .env("HOME", self.home.path())
            .env("PATH", self.bin.path())
            .env("CONVEX_PROVISION_HOST", self.fake.url())
            .env("CONVEX_DEPLOY_KEY", PROD_KEY)
            .env("CONVEX_TEST_RETRY_DELAY_MS", "1")
            .env("NO_COLOR", "1")
            .args(args);
        cmd
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.project.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let out: Output = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn update_bodies(fake: &FakeConvex) -> Vec<Value> {
    fake.requests_to("/api/update_environment_variables")
        .iter()
        .map(|r| r.json())
        .collect()
}

const ENV_LIST: &str = "_system/cli/queryEnvironmentVariables:default";

#[tokio::test(flavor = "multi_thread")]
async fn env_list_prints_dotenv_lines_and_names_only_for_agents() {
    let e = Env::new().await;
    let vars = json!([{"name": "A", "value": "1"}, {"name": "PEM", "value": "x\ny"}, {"name": "H", "value": "a#b"}]);
    e.fake
        .sync(SyncScript::default().query(ENV_LIST, vec![vars]));
    let (code, stdout, _) = run(&mut e.cmd(&["env", "list"]));
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "A=1\nPEM='x\ny'\nH='a#b'\n");
    let (code, stdout, stderr) = run(e.cmd(&["env", "list"]).env("CLAUDECODE", "1"));
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "A\nPEM\nH\n");
    assert!(stderr.contains("AI agent (claude)"), "{stderr}");
    let (_, stdout, _) = run(e
        .cmd(&["env", "list", "--include-values"])
        .env("CLAUDECODE", "1"));
    assert_eq!(stdout, "A=1\nPEM='x\ny'\nH='a#b'\n");
    let (code, _, stderr) = run(&mut e.cmd(&["env", "list", "--names-only", "--include-values"]));
    assert_eq!(code, Some(1), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn env_set_sends_one_change_and_never_prints_the_secret() {
    let e = Env::new().await;
    e.fake.route(Route::new(
        "POST",
        "/api/update_environment_variables",
        json!({}),
    ));
    let secret = "sk-live-very-secret-0123";
    for args in [
        vec!["env", "set", "API_KEY", secret],
        vec!["env", "set", &format!("API_KEY={secret}")],
    ] {
        let (code, stdout, stderr) = run(e.cmd(&args).env("CONVEX_VERBOSE", "1"));
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("Successfully set API_KEY (on prod deployment brave-lynx-456)"),
            "{stderr}"
        );
        assert!(!stderr.contains(secret), "the secret leaked: {stderr}");
    }
    // From stdin: one trailing newline dropped.
    let (code, _, stderr) = run(e
        .cmd(&["env", "set", "API_KEY"])
        .env("CONVEX_VERBOSE", "1")
        .write_stdin(format!("{secret}\n")));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
    let bodies = update_bodies(&e.fake);
    assert_eq!(bodies.len(), 3);
    for body in bodies {
        assert_eq!(
            body,
            json!({"changes": [{"name": "API_KEY", "value": secret}]})
        );
    }
    // A failed update does not echo the value either.
    e.fake.route(
        Route::new(
            "POST",
            "/api/update_environment_variables",
            json!({"code": "Oops", "message": "bad"}),
        )
        .status(400),
    );
    let (code, _, stderr) = run(e
        .cmd(&["env", "set", "API_KEY", secret])
        .env("CONVEX_VERBOSE", "1"));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("update_environment_variables"), "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn env_set_from_file_is_all_or_nothing() {
    let e = Env::new().await;
    e.write(".env.defaults", "CONVEX_URL=skip\nA=1\nB=new\nC=3\n");
    e.fake.route(Route::new(
        "POST",
        "/api/update_environment_variables",
        json!({}),
    ));
    e.fake.sync(SyncScript::default().query(
        ENV_LIST,
        vec![json!([{"name": "A", "value": "1"}, {"name": "B", "value": "old"}])],
    ));
    let (code, _, stderr) = run(&mut e.cmd(&["env", "set", "--from-file", ".env.defaults"]));
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("Skipping 1 CLI-managed environment variable: CONVEX_URL"),
        "{stderr}"
    );
    assert!(
        stderr.contains("environment variable B already exists with different value"),
        "{stderr}"
    );
    assert!(
        update_bodies(&e.fake).is_empty(),
        "a conflict must change nothing"
    );

    let (code, _, stderr) =
        run(&mut e.cmd(&["env", "set", "--from-file", ".env.defaults", "--force"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("Successfully set 2 environment variables from .env.defaults (1 new, 1 updated, 1 unchanged)"), "{stderr}");
    assert_eq!(
        update_bodies(&e.fake),
        vec![json!({"changes": [{"name": "C", "value": "3"}, {"name": "B", "value": "new"}]})]
    );

    let (code, _, stderr) = run(&mut e.cmd(&["env", "set", "--from-file", "missing.env"]));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("file not found: missing.env"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn env_get_and_remove() {
    let e = Env::new().await;
    e.fake.sync(SyncScript::default().query(
        "_system/cli/queryEnvironmentVariables:get",
        vec![json!({"name": "W", "value": "two\n lines "})],
    ));
    e.fake.sync(SyncScript::default().query(
        "_system/cli/queryEnvironmentVariables:get",
        vec![Value::Null],
    ));
    let (code, stdout, _) = run(&mut e.cmd(&["env", "get", "W"]));
    assert_eq!((code, stdout.as_str()), (Some(0), "two\n lines \n"));
    let (code, stdout, stderr) = run(&mut e.cmd(&["env", "get", "W"]));
    assert_eq!((code, stdout.as_str()), (Some(0), ""));
    assert!(
        stderr.contains("Environment variable \"W\" not found"),
        "{stderr}"
    );
    e.fake.route(Route::new(
        "POST",
        "/api/update_environment_variables",
        json!({}),
    ));
    let (code, _, stderr) = run(&mut e.cmd(&["env", "rm", "W"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        update_bodies(&e.fake),
        vec![json!({"changes": [{"name": "W", "value": null}]})]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn env_list_reports_a_failing_query() {
    let e = Env::new().await;
    e.fake
        .sync(SyncScript::default().error(ENV_LIST, "Uncaught Error: nope"));
    let (code, stdout, stderr) = run(&mut e.cmd(&["env", "list"]));
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("Could not list the environment variables"),
        "{stderr}"
    );
    assert!(stderr.contains("Uncaught Error: nope"), "{stderr}");
}

fn function_answer(value: Value) -> Route {
    Route::new(
        "POST",
        "/api/function",
        json!({"status": "success", "value": value, "logLines": ["[LOG] 'hi'"]}),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn run_prints_every_value_type_as_the_official_cli() {
    let e = Env::new().await;
    e.fake.route(function_answer(json!({
        "count": {"$integer": "KgAAAAAAAAA="}, "blob": {"$bytes": "aGVsbG8="},
        "ratio": {"$float": "AAAAAAAA8H8="}, "big": 12345678901234567890u64, "huge": 1e21,
        "nested": [1, 2.5, null, true, "x"]
    })));
    let (code, stdout, stderr) =
        run(&mut e.cmd(&["run", "tags:forNote", "{noteId: 'k1', n: Infinity}"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "{\n  \"big\": 12345678901234567000,\n  \"blob\": {\n    \"$bytes\": \"aGVsbG8=\"\n  },\n  \"count\": {\n    \"$integer\": \"KgAAAAAAAAA=\"\n  },\n  \"huge\": 1e+21,\n  \"nested\": [\n    1,\n    2.5,\n    null,\n    true,\n    \"x\"\n  ],\n  \"ratio\": {\n    \"$float\": \"AAAAAAAA8H8=\"\n  }\n}\n"
    );
    assert!(
        stderr.contains("[CONVEX ?(tags:forNote)] [LOG] 'hi'"),
        "{stderr}"
    );
    let request = &e.fake.requests_to("/api/function")[0];
    assert_eq!(
        request.json(),
        json!({"path": "tags:forNote", "format": "convex_encoded_json",
               "args": {"n": {"$float": "AAAAAAAA8H8="}, "noteId": "k1"}})
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Convex {PROD_KEY}").as_str())
    );
    assert_eq!(request.header("convex-client"), Some("npm-1.48.0"));
}

#[tokio::test(flavor = "multi_thread")]
async fn run_failures_name_the_problem() {
    let e = Env::new().await;
    // Malformed arguments: nothing is sent.
    let (code, _, stderr) = run(&mut e.cmd(&["run", "notes:add", "{author: 'bob', body: }"]));
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("Failed to parse arguments as JSON"),
        "{stderr}"
    );
    assert!(e.fake.requests_to("/api/function").is_empty());
    // Unknown function: the deployment's functions are listed.
    e.fake.route(
        Route::new("POST", "/api/function", json!({"status": "error", "errorMessage": "Could not find function for 'x:y'", "logLines": []}))
            .status(560),
    );
    e.fake.sync(SyncScript::default().query(
        "_system/cli/modules:apiSpec",
        vec![json!([{"functionType": "Query", "identifier": "notes.js:list"}, {"functionType": "HttpAction", "identifier": "http.js:GET /x"}])],
    ));
    let (code, _, stderr) = run(&mut e.cmd(&["run", "x:y"]));
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("Available functions:\n• notes:list"),
        "{stderr}"
    );
    assert!(!stderr.contains("http"), "{stderr}");
    // A 500 answer.
    e.fake.route(
        Route::new("POST", "/api/function", json!(null))
            .status(500)
            .raw("Internal Server Error"),
    );
    let (code, _, stderr) = run(&mut e.cmd(&["run", "x:y"]));
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("Failed to run function \"x:y\":\nError: Internal Server Error"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn run_watch_prints_each_value_over_a_live_subscription() {
    let e = Env::new().await;
    e.fake.sync(
        SyncScript::default()
            .query("notes:list", vec![json!([1]), json!([1, 2])])
            .close_after(),
    );
    e.fake
        .sync(SyncScript::default().query("notes:list", vec![json!([1, 2, 3])]));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("convex"));
    child
        .env_clear()
        .current_dir(e.project.path())
        .env("HOME", e.home.path())
        .env("PATH", e.bin.path())
        .env("CONVEX_PROVISION_HOST", e.fake.url())
        .env("CONVEX_DEPLOY_KEY", PROD_KEY)
        .env("CONVEX_TEST_RETRY_DELAY_MS", "1")
        .args(["run", "--watch", "notes:list", "{}"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // Killed through `&mut` where there is no SIGINT to send.
    #[cfg_attr(unix, allow(unused_mut))]
    let mut child = child.spawn().unwrap();
    // Wait for the third value (after a reconnect), then stop the watcher.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while e
        .fake
        .ws_messages()
        .iter()
        .filter(|m| m["type"] == "Connect")
        .count()
        < 2
        || e.fake.ws_messages().len() < 6
    {
        assert!(std::time::Instant::now() < deadline, "no reconnect");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    #[cfg(unix)]
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    #[cfg(not(unix))]
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "[\n  1\n]\n[\n  1,\n  2\n]\n[\n  1,\n  2,\n  3\n]\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Watching query notes:list on"), "{stderr}");
    #[cfg(unix)]
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

const TABLES: &str = "_system/cli/tables:default";
const TABLE_DATA: &str = "_system/cli/tableData:default";

#[tokio::test(flavor = "multi_thread")]
async fn data_lists_tables_and_documents() {
    let e = Env::new().await;
    e.fake.sync(SyncScript::default().query(
        TABLES,
        vec![json!({"page": [{"name": "tags"}, {"name": "Notes"}, {"name": "authors"}], "isDone": true, "continueCursor": "e"})],
    ));
    let (code, stdout, _) = run(&mut e.cmd(&["data"]));
    assert_eq!((code, stdout.as_str()), (Some(0), "Notes\nauthors\ntags\n"));
    let docs = json!([
        {"_id": "a", "_creationTime": 1.5, "n": {"$integer": "BQAAAAAAAAA="}, "b": {"$bytes": "AQID"}},
        {"_id": "bb", "_creationTime": 2, "s": "x \"y\""}
    ]);
    e.fake.sync(SyncScript::default().query(
        TABLE_DATA,
        vec![json!({"page": docs, "isDone": false, "continueCursor": "c"})],
    ));
    let (code, stdout, _) =
        run(&mut e.cmd(&["data", "notes", "--format", "jsonl", "--limit", "2"]));
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout,
        "{ \"_id\": \"a\", \"_creationTime\": 1.5, \"n\": 5n, \"b\": Bytes(\"AQID\") }\n{ \"_id\": \"bb\", \"_creationTime\": 2, \"s\": \"x \\\"y\\\"\" }\n"
    );
    let adds: Vec<Value> = e
        .fake
        .ws_messages()
        .into_iter()
        .filter(|m| m["type"] == "ModifyQuerySet" && m["newVersion"] == 1)
        .filter(|m| m["modifications"][0]["udfPath"] == TABLE_DATA)
        .collect();
    // Two documents came back for three asked (2 + 1 to see whether there
    // are more) and the page was not the last: the next page asks for one.
    assert_eq!(adds.len(), 2);
    assert_eq!(
        adds[1]["modifications"][0]["args"],
        json!([{"table": "notes", "order": "desc", "paginationOpts": {"cursor": "c", "numItems": 1}}])
    );
    let add = &adds[0];
    assert_eq!(
        add["modifications"][0]["args"],
        json!([{"table": "notes", "order": "desc", "paginationOpts": {"cursor": null, "numItems": 3}}])
    );
    assert_eq!(add["modifications"][0]["componentPath"], "");
    let (code, stdout, stderr) = run(&mut e.cmd(&["data", "notes", "--limit", "1"]));
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout,
        "_id | _creationTime | b             | n \n----|-----|---------------|---\n\"a\" | 1.5 | Bytes(\"AQID\") | 5n\n"
    );
    assert!(
        stderr.contains("Showing the 1 most recently created document."),
        "{stderr}"
    );
    let (code, _, stderr) = run(&mut e.cmd(&["data", "notes", "--limit", "0"]));
    assert_eq!(code, Some(1), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn function_spec_prints_url_and_sorted_functions() {
    let e = Env::new().await;
    e.fake.sync(SyncScript::default().query(
        "_system/cli/modules:apiSpec",
        vec![json!([{"identifier": "a.js:b", "functionType": "Query", "args": "{}"}])],
    ));
    e.fake.sync(SyncScript::default().query(
        "_system/cli/convexUrl:cloudUrl",
        vec![json!("https://brave-lynx-456.convex.cloud")],
    ));
    let (code, stdout, stderr) = run(&mut e.cmd(&["function-spec"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "{\n  \"url\": \"https://brave-lynx-456.convex.cloud\",\n  \"functions\": [\n    {\n      \"args\": \"{}\",\n      \"functionType\": \"Query\",\n      \"identifier\": \"a.js:b\"\n    }\n  ]\n}\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn insights_need_a_user_login_and_print_rows() {
    let e = Env::new().await;
    let (code, _, stderr) = run(&mut e.cmd(&["insights"]));
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("Insights require to be logged in as a user"),
        "{stderr}"
    );
    // Logged in, dev deployment from .env.local.
    let convex_dir = e
        .home
        .path()
        .join(format!(".convex-test-{}", e.fake.port()));
    std::fs::create_dir_all(&convex_dir).unwrap();
    std::fs::write(
        convex_dir.join("config.json"),
        r#"{"accessToken": "pat-1"}"#,
    )
    .unwrap();
    e.write(".env.local", "CONVEX_DEPLOYMENT=dev:happy-otter-123\n");
    e.fake.route(Route::new(
        "GET",
        "/api/deployment/happy-otter-123/team_and_project",
        json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242}),
    ));
    e.fake.route(Route::new(
        "POST",
        "/api/deployment/authorize_within_current_project",
        json!({"deploymentName": "happy-otter-123", "url": e.fake.url(), "adminKey": "dev:happy-otter-123|k", "deploymentType": "dev"}),
    ));
    e.fake.route(Route::new(
        "GET",
        "/api/dashboard/teams/17/usage/query",
        json!([[
            "occRetried",
            "notes:add",
            "-root-component-",
            "{\"occCalls\":2,\"occTableName\":\"notes\",\"recentEvents\":[]}"
        ]]),
    ));
    let (code, stdout, stderr) = run(e.cmd(&["insights"]).env_remove("CONVEX_DEPLOY_KEY"));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "Found 1 warning in the last 72 hours:\n\n[WARNING] OCC Retried: notes:add — 2 OCC conflicts on table notes\n\nDashboard: http://localhost:6789/d/happy-otter-123?view=insights\n"
    );
    let usage = &e.fake.requests_to("/api/dashboard/teams/17/usage/query")[0];
    assert!(
        usage.query.starts_with(
            "queryId=9ab3b74e-a725-480b-88a6-43e6bd70bd82&deploymentName=happy-otter-123&from="
        ),
        "{}",
        usage.query
    );
}

fn log_entry(identifier: &str, ts: f64, line: &str) -> Value {
    json!({"kind": "Completion", "udfType": "Query", "identifier": identifier, "timestamp": ts,
           "logLines": [line], "executionTime": 0.002, "error": null})
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_print_history_then_new_entries_and_stop_on_403() {
    let e = Env::new().await;
    e.fake.route(
        Route::new(
            "GET",
            "/api/stream_function_logs",
            json!({"code": "Forbidden", "message": "revoked"}),
        )
        .status(403),
    );
    e.fake.route(
        Route::new("GET", "/api/stream_function_logs", json!({"entries": [log_entry("c:d", 1767600003.0, "[INFO] 'new'")], "newCursor": 1767600003000u64}))
            .query("cursor", "1767600002000")
            .times(1),
    );
    // A server error in between is retried.
    e.fake.route(
        Route::new(
            "GET",
            "/api/stream_function_logs",
            json!({"code": "Internal", "message": "x"}),
        )
        .query("cursor", "1767600002000")
        .status(500)
        .times(1),
    );
    e.fake.route(
        Route::new("GET", "/api/stream_function_logs", json!({"entries": [log_entry("a:b", 1767600001.0, "[LOG] 'old'"), log_entry("a:b", 1767600002.0, "[LOG] 'last'")], "newCursor": 1767600002000u64}))
            .query("cursor", "0")
            .times(1),
    );
    let (code, stdout, stderr) = run(e
        .cmd(&["logs", "--history", "1", "--jsonl"])
        .env("TZ", "UTC"));
    assert_eq!(code, Some(1), "{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0]["logLines"][0], "[LOG] 'last'");
    assert_eq!(lines[1]["identifier"], "c:d");
    assert!(stderr.contains("revoked"), "{stderr}");
    assert!(
        stderr.contains("Watching logs for dev deployment brave-lynx-456"),
        "{stderr}"
    );
}

/// `env set NAME` on a terminal: the value is asked for and typed with the
/// terminal's echo off, so it never shows on the screen (a pseudo-terminal
/// stands in for the user's; its master side records everything shown).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn env_set_on_a_terminal_reads_the_value_without_echo() {
    use std::io::{Read as _, Write as _};
    use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
    use std::os::unix::process::CommandExt as _;

    let e = Env::new().await;
    e.fake.route(Route::new(
        "POST",
        "/api/update_environment_variables",
        json!({}),
    ));
    let (mut master_fd, mut slave_fd) = (-1, -1);
    // SAFETY: openpty writes two new descriptors into the pointers given.
    let rc = unsafe {
        libc::openpty(
            &mut master_fd,
            &mut slave_fd,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned here from now on.
    let (master, slave) = unsafe {
        (
            OwnedFd::from_raw_fd(master_fd),
            OwnedFd::from_raw_fd(slave_fd),
        )
    };
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("convex"));
    cmd.env_clear()
        .current_dir(e.project.path())
        .env("HOME", e.home.path())
        .env("PATH", e.bin.path())
        .env("CONVEX_PROVISION_HOST", e.fake.url())
        .env("CONVEX_DEPLOY_KEY", PROD_KEY)
        .env("CONVEX_VERBOSE", "1")
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .args(["env", "set", "API_KEY"])
        .stdin(std::fs::File::from(slave.try_clone().unwrap()))
        .stdout(std::fs::File::from(slave.try_clone().unwrap()))
        .stderr(std::fs::File::from(slave.try_clone().unwrap()));
    // SAFETY: setsid and ioctl are async-signal-safe; the child makes the
    // pseudo-terminal its controlling terminal, as a login shell would.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    // The command holds copies of the terminal's child side: close them.
    drop(cmd);
    // Everything the terminal shows, read on a thread until the child's
    // side is closed.
    let shown = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let mut reader = std::fs::File::from(master.try_clone().unwrap());
    let reader_shown = shown.clone();
    let reader_thread = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            reader_shown.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    // Wait for the question and for the echo to be switched off before
    // typing (what the terminal would show is what matters).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let asked = String::from_utf8_lossy(&shown.lock().unwrap()).contains("API_KEY");
        // SAFETY: termios is plain data, filled in by tcgetattr.
        let mut termios: libc::termios = unsafe { std::mem::zeroed() };
        let echo_off = unsafe { libc::tcgetattr(slave.as_raw_fd(), &mut termios) } == 0
            && termios.c_lflag & libc::ECHO == 0;
        if asked && echo_off {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "env set ended before asking: {}",
            String::from_utf8_lossy(&shown.lock().unwrap())
        );
        assert!(
            std::time::Instant::now() < deadline,
            "no prompt with echo off"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let secret = "typed-secret-4711";
    let mut writer = std::fs::File::from(master.try_clone().unwrap());
    writer.write_all(format!("{secret}\n").as_bytes()).unwrap();
    let status = child.wait().unwrap();
    drop(slave);
    drop(writer);
    drop(master);
    reader_thread.join().unwrap();
    let shown = String::from_utf8_lossy(&shown.lock().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{shown}");
    assert!(shown.contains("Successfully set API_KEY"), "{shown}");
    assert!(
        !shown.contains(secret),
        "the typed secret was shown: {shown}"
    );
    assert_eq!(
        update_bodies(&e.fake),
        vec![json!({"changes": [{"name": "API_KEY", "value": secret}]})]
    );
}

/// `integration workos provision-environment` on the env data plane: the
/// three `WORKOS_*` variables read over the sync protocol, a new WorkOS
/// environment provisioned and set on the deployment, `localEnvVars`
/// written to `.env.local` (with a cookie secret for Next.js), and
/// `configure` applied through the WorkOS API (a loopback stand-in).
#[tokio::test(flavor = "multi_thread")]
async fn workos_provision_environment_sets_variables_env_local_and_configuration() {
    let e = Env::new().await;
    e.write(
        "package.json",
        r#"{"name": "app", "dependencies": {"convex": "1.48.0", "next": "15.0.0"}}"#,
    );
    e.write(
        "convex.json",
        r#"{"authKit": {"dev": {
            "localEnvVars": {"WORKOS_CLIENT_ID": "${authEnv.WORKOS_CLIENT_ID}", "APP_URL": "${buildEnv.APP_ORIGIN}/app"},
            "configure": {
                "redirectUris": ["${buildEnv.APP_ORIGIN}/callback"],
                "appHomepageUrl": "${buildEnv.APP_ORIGIN}",
                "corsOrigins": ["${buildEnv.APP_ORIGIN}", "https://known.example"]
            }
        }}}"#,
    );
    e.write(".env.local", "# mine\nOTHER=1\n");
    e.fake.sync(SyncScript::default().query(
        "_system/cli/queryEnvironmentVariables:get",
        vec![Value::Null],
    ));
    for route in [
        Route::new(
            "POST",
            "/api/workos/has_associated_workos_team",
            json!({"hasAssociatedWorkosTeam": true, "teamId": 17}),
        ),
        Route::new(
            "POST",
            "/api/workos/get_or_provision_workos_environment",
            json!({"clientId": "client_01", "environmentId": "environment_01", "apiKey": "sk_test_provisioned", "newlyProvisioned": true}),
        ),
        Route::new("POST", "/api/update_environment_variables", json!({})),
        Route::new("POST", "/user_management/redirect_uris", json!({})).status(201),
        Route::new("PUT", "/user_management/app_homepage_url", json!({})),
        Route::new("POST", "/user_management/cors_origins", json!({})).status(201),
    ] {
        e.fake.route(route);
    }
    // The second CORS origin exists already: not an error.
    e.fake.route(
        Route::new(
            "POST",
            "/user_management/cors_origins",
            json!({"code": "duplicate_cors_origin", "message": "already exists"}),
        )
        .status(409)
        .times(1),
    );
    e.fake.route(
        Route::new("POST", "/user_management/cors_origins", json!({}))
            .status(201)
            .times(1),
    );
    let (code, stdout, stderr) = run(e
        .cmd(&["integration", "workos", "provision-environment"])
        .env("CONVEX_DEPLOY_KEY", DEV_KEY)
        .env("APP_ORIGIN", "https://app.example")
        .env("CONVEX_TEST_WORKOS_API_ORIGIN", e.fake.url()));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("New AuthKit environment provisioned"),
        "{stderr}"
    );
    assert!(
        stderr.contains("AuthKit redirect URI added: https://app.example/callback"),
        "{stderr}"
    );
    assert!(!stderr.contains("sk_test_provisioned"), "{stderr}");
    // Three reads, one connection each, as the official CLI.
    let reads: Vec<String> = e
        .fake
        .ws_messages()
        .iter()
        .filter(|m| m["type"] == "ModifyQuerySet")
        .filter_map(|m| {
            m["modifications"][0]["args"][0]["name"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let mut sorted = reads.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec![
            "WORKOS_API_KEY",
            "WORKOS_CLIENT_ID",
            "WORKOS_ENVIRONMENT_ID"
        ]
    );
    assert_eq!(
        e.fake
            .requests_to("/api/workos/get_or_provision_workos_environment")[0]
            .json(),
        json!({"deploymentName": "happy-otter-123", "environmentType": "nonproduction"})
    );
    assert_eq!(
        update_bodies(&e.fake),
        vec![json!({"changes": [
            {"name": "WORKOS_CLIENT_ID", "value": "client_01"},
            {"name": "WORKOS_ENVIRONMENT_ID", "value": "environment_01"},
            {"name": "WORKOS_API_KEY", "value": "sk_test_provisioned"},
        ]})]
    );
    let redirect = &e.fake.requests_to("/user_management/redirect_uris")[0];
    assert_eq!(
        redirect.json(),
        json!({"uri": "https://app.example/callback"})
    );
    assert_eq!(
        redirect.header("authorization"),
        Some("Bearer sk_test_provisioned")
    );
    assert_eq!(
        e.fake.requests_to("/user_management/app_homepage_url")[0].json(),
        json!({"url": "https://app.example"})
    );
    let origins: Vec<Value> = e
        .fake
        .requests_to("/user_management/cors_origins")
        .iter()
        .map(|r| r.json())
        .collect();
    assert_eq!(
        origins,
        vec![
            json!({"origin": "https://app.example"}),
            json!({"origin": "https://known.example"})
        ]
    );
    let env_local = std::fs::read_to_string(e.project.path().join(".env.local")).unwrap();
    assert!(env_local.starts_with("# mine\nOTHER=1\n"), "{env_local}");
    assert!(
        env_local.contains(
            "# See this environment at https://dashboard.workos.com/environment_01/authentication\nWORKOS_CLIENT_ID=client_01\n"
        ),
        "{env_local}"
    );
    assert!(
        env_local.contains("APP_URL=https://app.example/app\n"),
        "{env_local}"
    );
    let cookie = env_local
        .lines()
        .find_map(|l| l.strip_prefix("WORKOS_COOKIE_PASSWORD="))
        .expect("a cookie password for Next.js");
    assert_eq!(cookie.len(), 43, "32 random bytes, base64url: {cookie}");

    // Run again: the variables are there now, nothing is provisioned and
    // .env.local keeps what it has.
    e.fake.sync(SyncScript::default().query(
        "_system/cli/queryEnvironmentVariables:get",
        vec![json!({"name": "WORKOS_X", "value": "set"})],
    ));
    e.fake.route(
        Route::new(
            "POST",
            "/user_management/redirect_uris",
            json!({"code": "invalid", "message": "boom"}),
        )
        .status(500),
    );
    let (code, stdout, stderr) = run(e
        .cmd(&["integration", "workos", "provision-environment"])
        .env("CONVEX_DEPLOY_KEY", DEV_KEY)
        .env("APP_ORIGIN", "https://app.example")
        .env("CONVEX_TEST_WORKOS_API_ORIGIN", e.fake.url()));
    assert_eq!(
        stdout,
        "Deployment already has environment variables for a WorkOS environment configured for AuthKit.\n"
    );
    // A WorkOS API failure ends the command, naming the step.
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("Failed to create redirect URI: 500"),
        "{stderr}"
    );
    assert_eq!(
        e.fake
            .requests_to("/api/workos/get_or_provision_workos_environment")
            .len(),
        1
    );
    assert_eq!(
        std::fs::read_to_string(e.project.path().join(".env.local")).unwrap(),
        env_local
    );
}
