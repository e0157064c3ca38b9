//! `convex export` and `convex import` against a loopback deployment
//! (`server.rs`: HTTP routes with faults, and the sync protocol): the
//! request sequences, every step answering 4xx/5xx, a download cut off half
//! way, confirmation without a terminal — and never a Node start (`node` on
//! PATH refuses to run).

mod server;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};
use server::{Answer, MockDeployment};

const ADMIN_KEY: &str = "self-hosted-admin|01f00d";

struct Scene {
    server: MockDeployment,
    home: tempfile::TempDir,
    project: tempfile::TempDir,
    bin: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let project = tempfile::tempdir().unwrap();
        std::fs::write(
            project.path().join("package.json"),
            r#"{"name": "app", "dependencies": {"convex": "^1.48.0"}}"#,
        )
        .unwrap();
        let bin = tempfile::tempdir().unwrap();
        refusing_node(bin.path());
        Scene {
            server: MockDeployment::start(),
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
            .env("NO_COLOR", "1")
            .env("CONVEX_SELF_HOSTED_URL", &self.server.url)
            .env("CONVEX_SELF_HOSTED_ADMIN_KEY", ADMIN_KEY)
            .env("CONVEX_TEST_RETRY_DELAY_MS", "1")
            .timeout(std::time::Duration::from_secs(60))
            .args(args);
        cmd
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.project.path().join(rel)
    }

    fn write(&self, rel: &str, bytes: &[u8]) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// Names of the entries of a project folder, sorted.
    fn listing(&self, rel: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path(rel))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// A `node` that fails loudly: the commands must never start it.
fn refusing_node(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let node = dir.join("node");
        std::fs::write(&node, "#!/bin/sh\necho 'node must not run' >&2\nexit 99\n").unwrap();
        std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    #[cfg(windows)]
    std::fs::write(
        dir.join("node.cmd"),
        "@echo node must not run 1>&2\r\n@exit /b 99\r\n",
    )
    .unwrap();
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    let o = Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !o.stderr.contains("node must not run"),
        "Node was started:\n{}",
        o.stderr
    );
    o
}

fn int64(n: i64) -> Value {
    use base64::Engine as _;
    json!({"$integer": base64::engine::general_purpose::STANDARD.encode(n.to_le_bytes())})
}

// --- export -----------------------------------------------------------------

const TS: i64 = 1_700_000_000_123_456_789;

fn export_states(last: &str) -> Vec<Value> {
    vec![
        json!({"_id": "e1", "state": "requested"}),
        json!({"_id": "e1", "state": "in_progress", "start_ts": int64(TS)}),
        json!({"_id": "e1", "state": last, "start_ts": int64(TS)}),
    ]
}

fn zip_bytes(len: usize) -> Vec<u8> {
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend((0..len).map(|i| (i * 7 % 251) as u8));
    bytes
}

fn export_scene(download: Vec<Answer>) -> Scene {
    let s = Scene::new();
    s.server.route(
        "POST",
        "/api/export/request/zip",
        vec![Answer::Json(200, json!({}))],
    );
    s.server.sync(
        "_system/cli/exports:getLatest",
        vec![export_states("completed")],
    );
    s.server
        .route("GET", &format!("/api/export/zip/{TS}"), download);
    s
}

fn zip_answer(body: Vec<u8>) -> Answer {
    Answer::Bytes {
        status: 200,
        headers: vec![(
            "Content-Disposition".into(),
            format!("attachment; filename=snapshot_self_{TS}.zip"),
        )],
        body,
    }
}

#[test]
fn export_downloads_the_zip_after_following_the_export() {
    let body = zip_bytes(300_000);
    let s = export_scene(vec![zip_answer(body.clone())]);
    let out = run(&mut s.cmd(&["export", "--path", "backup.zip"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains(&format!("Created snapshot export at timestamp {TS}"))
    );
    assert!(
        out.stderr
            .contains("Downloaded snapshot export to backup.zip")
    );
    assert_eq!(std::fs::read(s.path("backup.zip")).unwrap(), body);
    // Only the file: no temporary file left beside it.
    assert_eq!(s.listing("."), ["backup.zip", "package.json"]);
    assert_eq!(
        s.server.trail(),
        [
            "POST /api/export/request/zip",
            "GET /api/1.48.0/sync",
            "WS Connect",
            "WS Authenticate",
            "WS ModifyQuerySet Add",
            "WS ModifyQuerySet Remove",
            &format!("GET /api/export/zip/{TS}"),
        ]
    );
    let seen = s.server.seen();
    assert_eq!(seen[0].query, "includeStorage=false");
    assert_eq!(
        seen[0].header("authorization"),
        Some(&*format!("Convex {ADMIN_KEY}"))
    );
    assert_eq!(seen[0].header("convex-client"), Some("npm-cli-1.48.0"));
    let auth = seen[3].json();
    assert_eq!(auth["tokenType"], "Admin");
    assert_eq!(auth["value"], ADMIN_KEY);
    assert_eq!(
        seen[4].json()["modifications"][0]["udfPath"],
        "_system/cli/exports:getLatest"
    );
}

#[test]
fn export_into_a_folder_takes_the_servers_file_name() {
    let body = zip_bytes(1000);
    let s = export_scene(vec![zip_answer(body.clone())]);
    std::fs::create_dir(s.path("backups")).unwrap();
    let out = run(&mut s.cmd(&["export", "--path", "backups", "--include-file-storage"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let name = format!("snapshot_self_{TS}.zip");
    assert_eq!(s.listing("backups"), std::slice::from_ref(&name));
    assert_eq!(std::fs::read(s.path("backups").join(&name)).unwrap(), body);
    assert_eq!(s.server.seen()[0].query, "includeStorage=true");
}

#[test]
fn export_cut_off_mid_download_leaves_no_file() {
    for cut in [
        Answer::Truncated {
            announced: 100_000,
            body: zip_bytes(20_000),
        },
        Answer::ChunkedCut {
            body: zip_bytes(20_000),
        },
    ] {
        let s = export_scene(vec![cut.clone()]);
        let out = run(&mut s.cmd(&["export", "--path", "backup.zip"]));
        assert_eq!(out.code, 1, "{cut:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("Downloading the snapshot export failed"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("No file was written"), "{}", out.stderr);
        assert_eq!(s.listing("."), ["package.json"], "{cut:?}");
        // A body cut off after the headers is not fetched again.
        assert_eq!(s.server.hits("GET", &format!("/api/export/zip/{TS}")), 1);
    }
}

#[test]
fn export_download_errors_leave_no_file() {
    // 5xx: a GET is retried (7 attempts in all), then fails.
    let s = export_scene(vec![Answer::Json(
        500,
        json!({"code": "InternalServerError", "message": "try later"}),
    )]);
    let out = run(&mut s.cmd(&["export", "--path", "backup.zip"]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("Downloading the snapshot export failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("500 Internal Server Error"),
        "{}",
        out.stderr
    );
    assert_eq!(s.server.hits("GET", &format!("/api/export/zip/{TS}")), 7);
    assert_eq!(s.listing("."), ["package.json"]);

    // 403: not retried.
    let s = export_scene(vec![Answer::Json(
        403,
        json!({"code": "Forbidden", "message": "not allowed to download"}),
    )]);
    let out = run(&mut s.cmd(&["export", "--path", "backup.zip"]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("not allowed to download"),
        "{}",
        out.stderr
    );
    assert_eq!(s.server.hits("GET", &format!("/api/export/zip/{TS}")), 1);
    assert_eq!(s.listing("."), ["package.json"]);

    // A connection reset before any answer: retried, then the file.
    let body = zip_bytes(500);
    let s = export_scene(vec![Answer::Reset, zip_answer(body.clone())]);
    let out = run(&mut s.cmd(&["export", "--path", "backup.zip"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read(s.path("backup.zip")).unwrap(), body);
}

#[test]
fn export_request_failures_stop_before_anything_else() {
    // 500 on the POST: not retried, no subscription.
    let s = Scene::new();
    s.server.route(
        "POST",
        "/api/export/request/zip",
        vec![Answer::Json(
            500,
            json!({"code": "InternalServerError", "message": "boom"}),
        )],
    );
    let out = run(&mut s.cmd(&["export", "--path", "backup.zip"]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("Requesting the snapshot export failed"),
        "{}",
        out.stderr
    );
    assert_eq!(s.server.trail(), ["POST /api/export/request/zip"]);

    // An export already running.
    let s = Scene::new();
    s.server.route(
        "POST",
        "/api/export/request/zip",
        vec![Answer::Json(
            400,
            json!({"code": "ExportInProgress", "message": "There is already an export requested or in progress"}),
        )],
    );
    let out = run(&mut s.cmd(&["export", "--path", "backup.zip"]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("already requested or in progress"),
        "{}",
        out.stderr
    );
    assert_eq!(s.server.trail(), ["POST /api/export/request/zip"]);
    assert_eq!(s.listing("."), ["package.json"]);
}

#[test]
fn export_that_fails_on_the_server_downloads_nothing() {
    let s = export_scene(vec![zip_answer(zip_bytes(10))]);
    s.server.sync(
        "_system/cli/exports:getLatest",
        vec![export_states("failed")],
    );
    let out = run(&mut s.cmd(&["export", "--path", "backup.zip"]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("Export failed"), "{}", out.stderr);
    assert_eq!(s.server.hits("GET", &format!("/api/export/zip/{TS}")), 0);
    assert_eq!(s.listing("."), ["package.json"]);
}

#[test]
fn export_never_overwrites_an_existing_file() {
    let s = export_scene(vec![zip_answer(zip_bytes(10))]);
    s.write("backup.zip", b"precious");
    let out = run(&mut s.cmd(&["export", "--path", "backup.zip"]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert_eq!(std::fs::read(s.path("backup.zip")).unwrap(), b"precious");
    assert_eq!(s.listing("."), ["backup.zip", "package.json"]);
}

#[test]
fn export_into_a_missing_folder_fails_cleanly() {
    let s = export_scene(vec![zip_answer(zip_bytes(10))]);
    for path in ["nope/backup.zip", "nope/"] {
        let out = run(&mut s.cmd(&["export", "--path", path]));
        assert_eq!(out.code, 1);
        assert!(
            out.stderr.contains("the folder nope") && out.stderr.contains("does not exist"),
            "{path}: {}",
            out.stderr
        );
        assert_eq!(s.listing("."), ["package.json"]);
    }
}

#[test]
fn export_needs_path_and_the_convex_dependency() {
    let s = Scene::new();
    let out = run(&mut s.cmd(&["export"]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("--path"), "{}", out.stderr);
    s.write("package.json", br#"{"name": "app"}"#);
    let out = run(&mut s.cmd(&["export", "--path", "x.zip"]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("add `convex`"), "{}", out.stderr);
    assert!(s.server.seen().is_empty());
}

// --- import -----------------------------------------------------------------

const IMPORT_ID: &str = "kx7c9e1r2t3y4u5i6o7p8a9s0d1f2g3h";
const JSONL: &str =
    "{\"author\": \"alice\", \"body\": \"hello\"}\n{\"author\": \"bob\", \"body\": \"world\"}\n";

fn import_record(state: Value) -> Value {
    json!({"_id": IMPORT_ID, "format": {"format": "jsonl", "table": "messages"}, "mode": "RequireEmpty", "state": state})
}

fn waiting(manual: bool) -> Value {
    import_record(json!({
        "state": "waiting_for_confirmation",
        "message_to_confirm": "Import change summary:\n| messages | 2 | 0 of 0 |",
        "require_manual_confirmation": manual,
    }))
}

fn import_scene(list: Vec<Value>) -> Scene {
    let s = Scene::new();
    s.write("data.jsonl", JSONL.as_bytes());
    s.server.route(
        "POST",
        "/api/query",
        vec![Answer::Json(
            200,
            json!({"status": "success", "value": list, "logLines": []}),
        )],
    );
    s.server.route(
        "POST",
        "/api/import/start_upload",
        vec![Answer::Json(200, json!({"uploadToken": "tok/1+2"}))],
    );
    s.server.route(
        "POST",
        "/api/import/upload_part",
        vec![Answer::Json(200, json!("etag"))],
    );
    s.server.route(
        "POST",
        "/api/import/finish_upload",
        vec![Answer::Json(200, json!({"importId": IMPORT_ID}))],
    );
    s.server.route(
        "POST",
        "/api/perform_import",
        vec![Answer::Json(200, json!({}))],
    );
    s.server.sync(
        "_system/cli/queryImport:default",
        vec![
            vec![import_record(json!({"state": "uploaded"})), waiting(true)],
            vec![
                import_record(json!({"state": "in_progress", "progress_message": "Importing", "checkpoint_messages": []})),
                import_record(json!({"state": "in_progress", "checkpoint_messages": ["Imported \"messages\" (2 documents)"]})),
                import_record(json!({"state": "completed", "num_rows_written": int64(2)})),
            ],
        ],
    );
    s
}

fn http_trail(s: &Scene) -> Vec<String> {
    s.server
        .trail()
        .into_iter()
        .filter(|t| !t.starts_with("WS") && !t.ends_with("/sync"))
        .collect()
}

#[test]
fn import_uploads_in_parts_confirms_and_follows_to_the_end() {
    let s = import_scene(vec![]);
    let out = run(s
        .cmd(&["import", "--table", "messages", "-y", "data.jsonl"])
        .env("CONVEX_IMPORT_CHUNK_SIZE", "24"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("Imported \"messages\" (2 documents)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Added 2 documents to table \"messages\"."),
        "{}",
        out.stderr
    );
    assert_eq!(
        http_trail(&s),
        [
            "POST /api/query",
            "POST /api/import/start_upload",
            "POST /api/import/upload_part",
            "POST /api/import/upload_part",
            "POST /api/import/upload_part",
            "POST /api/import/finish_upload",
            "POST /api/perform_import",
        ]
    );
    let seen = s.server.seen();
    let list = &seen[0];
    assert_eq!(list.header("convex-client"), Some("npm-1.48.0"));
    assert_eq!(
        list.json(),
        json!({"path": "_system/cli/queryImport:list", "format": "convex_encoded_json", "args": [{}]})
    );
    let parts: Vec<_> = seen
        .iter()
        .filter(|r| r.path == "/api/import/upload_part")
        .collect();
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(
            p.query,
            format!("uploadToken=tok%2F1%2B2&partNumber={}", i + 1)
        );
        assert_eq!(p.header("content-type"), Some("application/octet-stream"));
        assert_eq!(p.body.len(), 24);
    }
    let joined: Vec<u8> = parts.iter().flat_map(|p| p.body.clone()).collect();
    assert_eq!(joined, JSONL.as_bytes());
    let finish = seen
        .iter()
        .find(|r| r.path == "/api/import/finish_upload")
        .unwrap();
    assert_eq!(
        finish.json(),
        json!({"import": {"tableName": "messages", "mode": "requireEmpty", "format": "jsonLines"}, "uploadToken": "tok/1+2", "partTokens": ["etag", "etag", "etag"]})
    );
    let perform = seen
        .iter()
        .find(|r| r.path == "/api/perform_import")
        .unwrap();
    assert_eq!(perform.json(), json!({"importId": IMPORT_ID}));
    // Two subscriptions, each to the import's record.
    let adds: Vec<Value> = seen
        .iter()
        .filter(|r| r.method == "WS" && r.json()["modifications"][0]["type"] == "Add")
        .map(|r| r.json()["modifications"][0].clone())
        .collect();
    assert_eq!(adds.len(), 2);
    for add in adds {
        assert_eq!(add["udfPath"], "_system/cli/queryImport:default");
        assert_eq!(add["args"], json!([{"importId": IMPORT_ID}]));
    }
}

#[test]
fn import_modes_formats_and_components_reach_finish_upload() {
    let cases: [(&[&str], &str, Value); 4] = [
        (
            &["--append", "--table", "t", "-y", "data.json"],
            "data.json",
            json!({"tableName": "t", "mode": "append", "format": "jsonArray"}),
        ),
        (
            &["--replace", "--table", "t", "-y", "data.csv"],
            "data.csv",
            json!({"tableName": "t", "mode": "replace", "format": "csv"}),
        ),
        (
            &["--replace-all", "-y", "snap.zip"],
            "snap.zip",
            json!({"mode": "replaceAll", "format": "zip"}),
        ),
        (
            &[
                "--table",
                "t",
                "--component",
                "workflow",
                "--format",
                "jsonLines",
                "-y",
                "data",
            ],
            "data",
            json!({"tableName": "t", "componentPath": "workflow", "mode": "requireEmpty", "format": "jsonLines"}),
        ),
    ];
    for (args, file, expected) in cases {
        let s = import_scene(vec![]);
        s.write(file, b"[{\"a\": 1}]\n");
        let mut all = vec!["import"];
        all.extend_from_slice(args);
        let out = run(&mut s.cmd(&all));
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        let finish = s
            .server
            .seen()
            .into_iter()
            .find(|r| r.path == "/api/import/finish_upload")
            .unwrap();
        assert_eq!(finish.json()["import"], expected, "{args:?}");
    }
}

#[test]
fn import_strips_a_byte_order_mark_from_the_first_part_only() {
    let s = import_scene(vec![]);
    let mut file = b"\xef\xbb\xbf".to_vec();
    file.extend_from_slice(JSONL.as_bytes());
    s.write("data.jsonl", &file);
    let out = run(s
        .cmd(&["import", "--table", "messages", "-y", "data.jsonl"])
        .env("CONVEX_IMPORT_CHUNK_SIZE", "40"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let parts: Vec<Vec<u8>> = s
        .server
        .seen()
        .into_iter()
        .filter(|r| r.path == "/api/import/upload_part")
        .map(|r| r.body)
        .collect();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].len(), 37);
    assert_eq!(parts[1].len(), 35);
    assert_eq!(parts.concat(), JSONL.as_bytes());
}

/// The step that fails, and whether the import was performed.
fn assert_nothing_imported(s: &Scene) {
    assert_eq!(
        s.server.hits("POST", "/api/perform_import"),
        0,
        "{:?}",
        s.server.trail()
    );
}

#[test]
fn import_failures_at_each_step_before_perform_import_change_nothing() {
    let boom = || {
        Answer::Json(
            500,
            json!({"code": "InternalServerError", "message": "boom"}),
        )
    };
    // queryImport:list
    let s = import_scene(vec![]);
    s.server.route("POST", "/api/query", vec![boom()]);
    let out = run(&mut s.cmd(&["import", "--table", "messages", "-y", "data.jsonl"]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("queryImport:list"), "{}", out.stderr);
    assert_eq!(http_trail(&s), ["POST /api/query"]);

    // start_upload
    let s = import_scene(vec![]);
    s.server
        .route("POST", "/api/import/start_upload", vec![boom()]);
    let out = run(&mut s.cmd(&["import", "--table", "messages", "-y", "data.jsonl"]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("start_upload"), "{}", out.stderr);
    assert!(
        out.stderr.contains("Nothing was imported"),
        "{}",
        out.stderr
    );
    assert_eq!(
        http_trail(&s),
        ["POST /api/query", "POST /api/import/start_upload"]
    );

    // upload_part: the second part fails; a POST answered 500 is not retried.
    let s = import_scene(vec![]);
    s.server.route(
        "POST",
        "/api/import/upload_part",
        vec![Answer::Json(200, json!("etag")), boom()],
    );
    let out = run(s
        .cmd(&["import", "--table", "messages", "-y", "data.jsonl"])
        .env("CONVEX_IMPORT_CHUNK_SIZE", "24"));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("uploading part 2 of 3"),
        "{}",
        out.stderr
    );
    assert_eq!(
        http_trail(&s),
        [
            "POST /api/query",
            "POST /api/import/start_upload",
            "POST /api/import/upload_part",
            "POST /api/import/upload_part",
        ]
    );

    // finish_upload
    let s = import_scene(vec![]);
    s.server.route(
        "POST",
        "/api/import/finish_upload",
        vec![Answer::Json(
            400,
            json!({"code": "InvalidImport", "message": "bad table name"}),
        )],
    );
    let out = run(&mut s.cmd(&["import", "--table", "messages", "-y", "data.jsonl"]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("finish_upload"), "{}", out.stderr);
    assert!(out.stderr.contains("bad table name"), "{}", out.stderr);
    assert_eq!(s.server.hits("GET", "/api/1.48.0/sync"), 0);
    assert_nothing_imported(&s);

    // The server fails the import while parsing it.
    let s = import_scene(vec![]);
    s.server.sync(
        "_system/cli/queryImport:default",
        vec![vec![import_record(
            json!({"state": "failed", "error_message": "line 2 is not JSON"}),
        )]],
    );
    let out = run(&mut s.cmd(&["import", "--table", "messages", "-y", "data.jsonl"]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("line 2 is not JSON"), "{}", out.stderr);
    assert_nothing_imported(&s);
}

#[test]
fn import_perform_import_failure_is_reported() {
    let s = import_scene(vec![]);
    s.server.route(
        "POST",
        "/api/perform_import",
        vec![Answer::Json(
            503,
            json!({"code": "Unavailable", "message": "busy"}),
        )],
    );
    let out = run(&mut s.cmd(&["import", "--table", "messages", "-y", "data.jsonl"]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("perform_import"), "{}", out.stderr);
    assert!(out.stderr.contains("503"), "{}", out.stderr);
    // A POST answered 503 is not retried.
    assert_eq!(s.server.hits("POST", "/api/perform_import"), 1);
}

#[test]
fn import_upload_part_reset_is_retried() {
    let s = import_scene(vec![]);
    s.server.route(
        "POST",
        "/api/import/upload_part",
        vec![Answer::Reset, Answer::Json(200, json!("etag"))],
    );
    let out = run(&mut s.cmd(&["import", "--table", "messages", "-y", "data.jsonl"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(s.server.hits("POST", "/api/import/upload_part"), 2);
}

#[test]
fn import_confirmation_without_a_terminal_fails_before_perform_import() {
    let s = import_scene(vec![]);
    let out = run(&mut s.cmd(&["import", "--table", "messages", "data.jsonl"]));
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "Perform import?\n");
    assert!(
        out.stderr.contains("Import change summary"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert_nothing_imported(&s);

    // When the server does not require it, no question is asked.
    let s = import_scene(vec![]);
    s.server.sync(
        "_system/cli/queryImport:default",
        vec![
            vec![waiting(false)],
            vec![import_record(
                json!({"state": "completed", "num_rows_written": int64(2)}),
            )],
        ],
    );
    let out = run(&mut s.cmd(&["import", "--table", "messages", "data.jsonl"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(s.server.hits("POST", "/api/perform_import"), 1);
}

#[test]
fn import_with_another_in_progress_asks_first() {
    let ongoing = vec![json!({"_id": "other", "state": {"state": "in_progress"}})];
    let s = import_scene(ongoing.clone());
    let out = run(&mut s.cmd(&["import", "--table", "messages", "data.jsonl"]));
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "Start another import?\n");
    assert_eq!(http_trail(&s), ["POST /api/query"]);

    let s = import_scene(ongoing);
    let out = run(&mut s.cmd(&["import", "--table", "messages", "-y", "data.jsonl"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn import_refuses_bad_input_before_any_request() {
    let s = Scene::new();
    s.write("data.jsonl", JSONL.as_bytes());
    s.write("snap.zip", b"PK\x05\x06");
    s.write("data", JSONL.as_bytes());
    s.write("folder.jsonl/x", b"");
    let cases: [(&[&str], &str); 6] = [
        (&["missing.jsonl", "--table", "t"], "does not exist"),
        (&["folder.jsonl", "--table", "t"], "is a folder"),
        (&["data", "--table", "t"], "--format"),
        (&["data.jsonl"], "`--table` option is required"),
        (&["snap.zip", "--table", "t"], "not allowed"),
        (&["data.jsonl", "--table", "t", "--format", "xml"], "xml"),
    ];
    for (args, message) in cases {
        let mut all = vec!["import"];
        all.extend_from_slice(args);
        let out = run(&mut s.cmd(&all));
        assert_eq!(out.code, 1, "{args:?}");
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
    }
    assert!(s.server.seen().is_empty(), "{:?}", s.server.trail());
}

// --- Ctrl-C -------------------------------------------------------------------

/// Start the command, wait until the server has seen `until`, send SIGINT,
/// and return the exit code and stderr.
#[cfg(unix)]
fn interrupt_when(s: &Scene, args: &[&str], until: impl Fn(&[String]) -> bool) -> (i32, String) {
    use std::io::Read;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("convex"))
        .env_clear()
        .current_dir(s.project.path())
        .env("HOME", s.home.path())
        .env("PATH", s.bin.path())
        .env("NO_COLOR", "1")
        .env("CONVEX_SELF_HOSTED_URL", &s.server.url)
        .env("CONVEX_SELF_HOSTED_ADMIN_KEY", ADMIN_KEY)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !until(&s.server.trail()) {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            s.server.trail()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Let the client take in what was sent before the signal.
    std::thread::sleep(std::time::Duration::from_millis(200));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code().unwrap_or(-1), stderr)
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_the_export_runs_leaves_it_running_and_says_so() {
    let s = export_scene(vec![zip_answer(zip_bytes(10))]);
    s.server.sync(
        "_system/cli/exports:getLatest",
        vec![export_states("in_progress")[..2].to_vec()],
    );
    let (code, stderr) = interrupt_when(&s, &["export", "--path", "backup.zip"], |t| {
        t.iter().any(|l| l == "WS ModifyQuerySet Add")
    });
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("continuing to run on the server"),
        "{stderr}"
    );
    assert_eq!(s.server.hits("GET", &format!("/api/export/zip/{TS}")), 0);
    assert!(
        s.server
            .trail()
            .iter()
            .any(|l| l == "WS ModifyQuerySet Remove")
    );
    assert_eq!(s.listing("."), ["package.json"]);
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_the_download_leaves_no_file() {
    let s = export_scene(vec![Answer::Stall {
        announced: 1_000_000,
        body: zip_bytes(10_000),
    }]);
    let (code, stderr) = interrupt_when(&s, &["export", "--path", "backup.zip"], |t| {
        t.iter().any(|l| l.starts_with("GET /api/export/zip/"))
    });
    assert_eq!(code, 130, "{stderr}");
    assert_eq!(s.listing("."), ["package.json"]);
}

#[cfg(unix)]
#[test]
fn ctrl_c_after_perform_import_says_the_import_goes_on() {
    let s = import_scene(vec![]);
    s.server.sync(
        "_system/cli/queryImport:default",
        vec![
            vec![waiting(true)],
            vec![import_record(json!({"state": "in_progress", "progress_message": "Importing", "checkpoint_messages": []}))],
        ],
    );
    let (code, stderr) = interrupt_when(
        &s,
        &["import", "--table", "messages", "-y", "data.jsonl"],
        |t| t.iter().filter(|l| *l == "WS ModifyQuerySet Add").count() == 2,
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("Import is continuing to run on the server"),
        "{stderr}"
    );
    assert_eq!(s.server.hits("POST", "/api/perform_import"), 1);
}
