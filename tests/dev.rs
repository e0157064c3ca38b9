//! `convex dev` end to end: the real binary in a temporary HOME and project
//! (with the npm packages the bundler needs), wiremock as the management API
//! and cloud deployment, and the fake local backend
//! (`examples/fake_local_backend.rs`) in a temporary binary cache for local
//! and anonymous deployments. No network: backend versions are pinned and
//! the deployments already have their secrets, so no version lookup is made.
#![cfg(unix)]

mod support;

use support::{example, free_ports, pid_alive};

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const VERSION: &str = "precompiled-2026-11-20-fake001";
const TOKEN: &str = "convex-pat-alice-0001";
const ADMIN_KEY: &str = "dev:happy-otter-123|admin-key-selected";

/// A project, a HOME, a mock server, and the command line around them.
struct Dev {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
    backend_log: PathBuf,
    server: MockServer,
    env: Vec<(String, String)>,
}

impl Dev {
    async fn new() -> Dev {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let project = tmp.path().join("my-app");
        std::fs::create_dir_all(&home).unwrap();
        support::copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects/basic"),
            &project,
        );
        support::link_node_modules(&project);
        let backend_log = tmp.path().join("backend.jsonl");
        Dev {
            _tmp: tmp,
            home,
            project,
            backend_log,
            server: MockServer::start().await,
            env: Vec::new(),
        }
    }

    fn port(&self) -> u16 {
        self.server.address().port()
    }

    fn login(&self) {
        let dir = self.home.join(format!(".convex-test-{}", self.port()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.json"),
            format!("{{\n  \"accessToken\": \"{TOKEN}\"\n}}"),
        )
        .unwrap();
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.project.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.project.join(rel)).unwrap_or_default()
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(assert_cmd::cargo::cargo_bin("convex"));
        cmd.env_clear()
            .current_dir(&self.project)
            .env("HOME", &self.home)
            .env("PATH", "/usr/bin:/bin")
            .env("CONVEX_PROVISION_HOST", self.server.uri())
            .env("CONVEX_VERSION_API_ORIGIN", self.server.uri())
            .env("NO_COLOR", "1")
            .env("TZ", "UTC")
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs to completion: (exit code, stdout, stderr).
    async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = tokio::time::timeout(Duration::from_secs(120), self.command(args).output())
            .await
            .expect("dev finished in time")
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Requests the mock received, as `METHOD /path`.
    async fn requests(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect()
    }

    async fn bodies(&self, route: &str) -> Vec<Value> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == route)
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }

    /// The management API and a cloud dev deployment at the mock.
    async fn mount_cloud(&self) {
        let uri = self.server.uri();
        let credentials = json!({
            "deploymentName": "happy-otter-123", "adminKey": ADMIN_KEY, "url": uri,
            "deploymentType": "dev", "reference": "dev/alice", "isDefault": true,
        });
        let routes: Vec<(&str, &str, Value)> = vec![
            ("POST", "/api/check_opt_ins", json!({"optInsToAccept": []})),
            (
                "GET",
                "/api/deployment/happy-otter-123/team_and_project",
                json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242}),
            ),
            (
                "POST",
                "/api/deployment/authorize_within_current_project",
                credentials.clone(),
            ),
            (
                "POST",
                "/api/deployment/provision_and_authorize",
                credentials,
            ),
            (
                "GET",
                "/api/teams",
                json!([{"id": 17, "name": "Acme", "slug": "acme", "defaultRegion": null}]),
            ),
            (
                "POST",
                "/v1/teams/17/create_project",
                json!({"slug": "rocket", "id": 4242}),
            ),
            ("GET", "/v1/version", json!({"message": null})),
            (
                "GET",
                "/api/dashboard/teams/17/usage/team_usage_state",
                json!({"usageState": "Default"}),
            ),
            (
                "GET",
                "/api/dashboard/teams/17/get_spending_limits",
                json!({"state": null}),
            ),
            (
                "POST",
                "/api/local_deployment/start",
                json!({"deploymentName": "local-acme-rocket", "adminKey": "(deprecated)", "projectId": 4242}),
            ),
            ("POST", "/api/local_deployment/record_activity", json!({})),
            ("POST", "/api/local_deployment/pause", json!({})),
        ];
        for (m, p, body) in routes {
            Mock::given(method(m))
                .and(path(p))
                .respond_with(ResponseTemplate::new(200).set_body_json(body))
                .mount(&self.server)
                .await;
        }
        Mock::given(method("HEAD"))
            .and(path("/api/authorize"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&self.server)
            .await;
        mount_deployment(&self.server).await;
    }

    /// The fake backend in the binary cache, as `VERSION`.
    fn install_fake_backend(&self) {
        let path = self
            .home
            .join(format!(".cache/convex-test-{}", self.port()))
            .join("binaries")
            .join(VERSION)
            .join("convex-local-backend");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\nexport FAKE_LOCAL_BACKEND_LOG='{}'\nexec '{}' \"$@\"\n",
                self.backend_log.display(),
                example("fake_local_backend").display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A deployment already set up in this project (so nothing needs the
    /// latest-version lookup): its `config.json` with a secret and admin key.
    fn save_local_deployment(&self, name: &str, ports: (u16, u16)) -> String {
        let secret = "ab".repeat(32);
        let output = std::process::Command::new(example("fake_local_backend"))
            .args([
                "keygen",
                "admin-key",
                "--instance-name",
                name,
                "--instance-secret",
                &secret,
            ])
            .output()
            .unwrap();
        let admin_key = String::from_utf8(output.stdout).unwrap().trim().to_string();
        self.write(
            ".convex/local/default/config.json",
            &json!({
                "ports": {"cloud": ports.0, "site": ports.1},
                "backendVersion": VERSION,
                "adminKey": admin_key,
                "instanceSecret": secret,
                "deploymentName": name,
            })
            .to_string(),
        );
        admin_key
    }

    fn backend_events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.backend_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn backend_requests(&self) -> Vec<String> {
        self.backend_events()
            .iter()
            .filter(|e| e["event"] == "request")
            .map(|e| {
                format!(
                    "{} {}",
                    e["method"].as_str().unwrap(),
                    e["path"].as_str().unwrap()
                )
            })
            .collect()
    }

    fn serving_pid(&self) -> Option<i64> {
        self.backend_events()
            .iter()
            .find(|e| e["event"] == "start" && e["kind"] == "serve")
            .and_then(|e| e["pid"].as_i64())
    }

    /// How the serving backend ended (waits a little for its last line).
    fn backend_end(&self) -> Option<String> {
        let pid = self.serving_pid()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let end = self
                .backend_events()
                .into_iter()
                .find(|e| e["event"] == "end" && e["pid"] == pid)
                .and_then(|e| e["how"].as_str().map(str::to_string));
            if end.is_some() || Instant::now() > deadline {
                return end;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The deployment API (what a push and the log tail need).
async fn mount_deployment(server: &MockServer) {
    let uri = server.uri();
    let schema_change = json!({
        "allocatedComponentIds": {}, "schemaIds": {},
        "indexDiffs": {"": {"added_indexes": [], "removed_indexes": [], "enabled_indexes": [], "disabled_indexes": []}},
    });
    let routes: Vec<(&str, &str, Value)> = vec![
        (
            "GET",
            "/api/v1/get_canonical_urls",
            json!({"convexCloudUrl": "https://happy-otter-123.convex.cloud", "convexSiteUrl": "https://happy-otter-123.convex.site"}),
        ),
        (
            "POST",
            "/api/get_config_hashes",
            json!({"config": {"functions": "convex/", "authInfo": []}, "moduleHashes": [], "nodeDependencies": [], "udfServerVersion": null}),
        ),
        (
            "POST",
            "/api/deploy2/evaluate_schema",
            json!({"componentSchemaEvaluations": {"": {"definitionPath": "", "schemaValidation": true, "tables": [], "indexes": [], "discardedStagedValidators": []}}, "newComponentDefinitions": []}),
        ),
        (
            "POST",
            "/api/deploy2/start_push",
            json!({
                "environmentVariables": {}, "externalDepsId": null, "componentDefinitionPackages": {}, "appAuth": [],
                "analysis": {"": {
                    "definition": {"path": "", "definitionType": {"type": "app"}, "childComponents": [], "httpMounts": {}, "exports": {"type": "branch", "branch": []}},
                    "schema": {"tables": [], "schemaValidation": true}, "functions": {},
                    "udfConfig": {"serverVersion": "0.0.0-test", "importPhaseRngSeed": {"$bytes": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "importPhaseUnixTimestamp": {"$integer": "AAAAAAAAAAA="}},
                }},
                "app": {"definitionPath": "", "componentPath": "", "args": {}, "childComponents": {}, "httpRoutes": {"httpModuleRoutes": null, "mounts": []}, "exports": {}},
                "schemaChange": schema_change,
            }),
        ),
        (
            "POST",
            "/api/deploy2/wait_for_schema",
            json!({"type": "complete"}),
        ),
        (
            "POST",
            "/api/deploy2/finish_push",
            json!({"authDiff": {"added": [], "removed": []}, "definitionDiffs": {}, "componentDiffs": {"": {
                "diffType": {"type": "modify"}, "moduleDiff": {"added": [], "removed": []}, "udfConfigDiff": null,
                "cronDiff": {"added": [], "updated": [], "deleted": []}, "indexDiff": {"added_indexes": [], "removed_indexes": []}, "schemaDiff": null}}}),
        ),
        ("POST", "/api/deploy2/report_push_completed", json!({})),
    ];
    for (m, p, body) in routes {
        Mock::given(method(m))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(server)
            .await;
    }
    // The log tail: a long poll with nothing to report.
    Mock::given(method("GET"))
        .and(path("/api/stream_function_logs"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"entries": [], "newCursor": 0}))
                .set_delay(Duration::from_secs(30)),
        )
        .mount(server)
        .await;
    let _ = uri;
}

/// A `dev` left running: its stderr lines, collected as they come.
struct Running {
    child: tokio::process::Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Running {
    fn spawn(mut cmd: tokio::process::Command) -> Running {
        cmd.stderr(Stdio::piped()).stdout(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = lines.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        Running { child, lines }
    }

    fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    async fn wait_for(&self, needle: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while self.count(needle) < count {
            assert!(
                Instant::now() < deadline,
                "no {count}× {needle:?} in time; stderr:\n{}",
                self.lines.lock().unwrap().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn signal(&self, signal: i32) {
        let pid = self.child.id().unwrap() as libc::pid_t;
        // SAFETY: kill(2) on our own child.
        unsafe {
            libc::kill(pid, signal);
        }
    }

    async fn status(&mut self) -> std::process::ExitStatus {
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("dev exits after the signal")
            .unwrap()
    }

    fn stderr(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }
}

/// `dev`'s esbuild lives on between pushes: it keeps our usual garbage
/// collection target (`GOGC=400`, no memory limit) and Go's thread count,
/// where a deploy's one-shot esbuild collects only near a limit.
#[tokio::test(flavor = "multi_thread")]
async fn dev_keeps_esbuild_collecting_garbage() {
    let mut dev = Dev::new().await;
    dev.login();
    dev.mount_cloud().await;
    dev.write(".env.local", "CONVEX_DEPLOYMENT=dev:happy-otter-123\n");
    let seen = dev.home.join("esbuild-env.txt");
    let wrapper = dev.home.join("esbuild-wrapper.sh");
    let record = format!(
        "[ \"$1\" = --version ] || printf '%s %s %s\\n' \"${{GOGC-unset}}\" \"${{GOMEMLIMIT-unset}}\" \"${{GOMAXPROCS-unset}}\" >> '{}'",
        seen.display()
    );
    support::esbuild_wrapper(&dev.project, &wrapper, &record);
    dev.env.push((
        "ESBUILD_BINARY_PATH".into(),
        wrapper.to_str().unwrap().into(),
    ));
    let (code, _, stderr) = dev.run(&["dev", "--once", "--typecheck", "disable"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Convex functions ready!"), "{stderr}");
    let seen = std::fs::read_to_string(&seen).unwrap();
    assert_eq!(seen.lines().collect::<Vec<_>>(), ["400 unset unset"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn once_against_the_configured_cloud_deployment() {
    let dev = Dev::new().await;
    dev.login();
    dev.mount_cloud().await;
    dev.write(".env.local", "CONVEX_DEPLOYMENT=dev:happy-otter-123\n");
    let (code, _, stderr) = dev.run(&["dev", "--once", "--typecheck", "disable"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Convex functions ready!"), "{stderr}");
    assert_eq!(
        dev.read(".env.local"),
        "CONVEX_DEPLOYMENT=dev:happy-otter-123\n\nCONVEX_URL=https://happy-otter-123.convex.cloud\n\nCONVEX_SITE_URL=https://happy-otter-123.convex.site\n"
    );
    assert!(dev.project.join("convex/_generated/api.d.ts").exists());
    let requests = dev.requests().await;
    let position = |r: &str| requests.iter().position(|x| x == r);
    for r in [
        "HEAD /api/authorize",
        "POST /api/deployment/authorize_within_current_project",
        "GET /api/v1/get_canonical_urls",
        "POST /api/deploy2/start_push",
        "POST /api/deploy2/finish_push",
        "GET /v1/version",
    ] {
        assert!(position(r).is_some(), "{r} missing in {requests:?}");
    }
    assert!(position("POST /api/deploy2/start_push") < position("POST /api/deploy2/finish_push"));
    let authorize = dev
        .bodies("/api/deployment/authorize_within_current_project")
        .await;
    assert_eq!(
        authorize[0],
        json!({"selectedDeploymentName": "happy-otter-123", "projectSelection": {"kind": "deploymentName", "deploymentName": "happy-otter-123", "deploymentType": "dev"}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn configure_new_provisions_a_cloud_dev_deployment() {
    let dev = Dev::new().await;
    dev.login();
    dev.mount_cloud().await;
    let (code, _, stderr) = dev
        .run(&[
            "dev",
            "--once",
            "--typecheck",
            "disable",
            "--configure",
            "new",
            "--team",
            "acme",
            "--project",
            "rocket",
        ])
        .await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        dev.bodies("/v1/teams/17/create_project").await,
        vec![json!({"projectName": "rocket", "deploymentType": "dev", "deploymentRegion": null})]
    );
    assert_eq!(
        dev.bodies("/api/deployment/provision_and_authorize").await,
        vec![json!({"teamSlug": "acme", "projectSlug": "rocket", "deploymentType": "dev"})]
    );
    assert_eq!(
        dev.read(".env.local"),
        "# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=dev:happy-otter-123 # team: acme, project: rocket\n\nCONVEX_URL=https://happy-otter-123.convex.cloud\n\nCONVEX_SITE_URL=https://happy-otter-123.convex.site\n"
    );
    assert_eq!(dev.read(".gitignore"), "\n.env.local\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn once_exit_codes_follow_the_failure() {
    // 400 from start_push: the files (or env vars) are wrong → exit 1.
    let dev = Dev::new().await;
    Mock::given(method("POST"))
        .and(path("/api/deploy2/start_push"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"code": "InvalidModules", "message": "Loading the pushed modules failed"}),
        ))
        .with_priority(1)
        .mount(&dev.server)
        .await;
    dev.mount_cloud().await;
    dev.login();
    dev.write(".env.local", "CONVEX_DEPLOYMENT=dev:happy-otter-123\n");
    let (code, _, stderr) = dev.run(&["dev", "--once", "--typecheck", "disable"]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("InvalidModules"), "{stderr}");
    assert!(
        !dev.requests()
            .await
            .contains(&"POST /api/deploy2/finish_push".to_string())
    );

    // 401: fatal. The official CLI exits 0 here; we exit 1.
    let dev = Dev::new().await;
    Mock::given(method("POST"))
        .and(path("/api/get_config_hashes"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"code": "BadAdminKey", "message": "The provided admin key was invalid"}),
        ))
        .with_priority(1)
        .mount(&dev.server)
        .await;
    dev.mount_cloud().await;
    dev.login();
    dev.write(".env.local", "CONVEX_DEPLOYMENT=dev:happy-otter-123\n");
    let (code, _, stderr) = dev.run(&["dev", "--once", "--typecheck", "disable"]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("401"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn run_prints_the_function_value_on_stdout() {
    let dev = Dev::new().await;
    Mock::given(method("POST"))
        .and(path("/api/function"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success", "value": [{"a": 1}], "logLines": ["[LOG] 'listing'"],
        })))
        .mount(&dev.server)
        .await;
    dev.mount_cloud().await;
    dev.login();
    dev.write(".env.local", "CONVEX_DEPLOYMENT=dev:happy-otter-123\n");
    let (code, stdout, stderr) = dev
        .run(&[
            "dev",
            "--once",
            "--typecheck",
            "disable",
            "--run",
            "api.notes.list",
        ])
        .await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "[\n  {\n    \"a\": 1\n  }\n]\n");
    assert!(
        stderr.contains("[CONVEX ?(notes:list)] [LOG] 'listing'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Finished running function \"api.notes.list\""),
        "{stderr}"
    );
    assert_eq!(
        dev.bodies("/api/function").await,
        vec![json!({"path": "notes:list", "format": "convex_encoded_json", "args": {}})]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_function_file_is_pushed_again() {
    let dev = Dev::new().await;
    dev.login();
    dev.mount_cloud().await;
    dev.write(".env.local", "CONVEX_DEPLOYMENT=dev:happy-otter-123\n");
    let mut running =
        Running::spawn(dev.command(&["dev", "--typecheck", "disable", "--tail-logs", "disable"]));
    running.wait_for("Convex functions ready!", 1).await;
    let start_pushes = |requests: &[String]| {
        requests
            .iter()
            .filter(|r| *r == "POST /api/deploy2/start_push")
            .count()
    };
    assert_eq!(start_pushes(&dev.requests().await), 1);

    // An unrelated file does not push.
    dev.write("README.md", "# my app\n");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(running.count("Convex functions ready!"), 1);

    // Saving a function file does, once for a burst of writes.
    let notes = dev.project.join("convex/notes.ts");
    let original = std::fs::read_to_string(&notes).unwrap();
    for i in 0..3 {
        std::fs::write(&notes, format!("{original}\n// edit {i}\n")).unwrap();
    }
    running.wait_for("Convex functions ready!", 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        running.count("Convex functions ready!"),
        2,
        "{}",
        running.stderr()
    );
    let requests = dev.requests().await;
    assert_eq!(start_pushes(&requests), 2);
    let bodies = dev.bodies("/api/get_config_hashes").await;
    assert_eq!(bodies.len(), 2);

    running.signal(libc::SIGINT);
    assert_eq!(running.status().await.code(), Some(130));
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_dev_runs_against_the_fake_backend() {
    let dev = Dev::new().await;
    dev.install_fake_backend();
    let ports = free_ports();
    let admin_key = dev.save_local_deployment("anonymous-my-app", ports);
    dev.write(
        ".env.local",
        "# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=anonymous:anonymous-my-app\n",
    );
    let (code, _, stderr) = dev
        .run(&[
            "dev",
            "--once",
            "--typecheck",
            "disable",
            "--local-backend-version",
            VERSION,
        ])
        .await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Convex functions ready!"), "{stderr}");
    let url = format!("http://127.0.0.1:{}", ports.0);
    assert_eq!(
        dev.read(".env.local"),
        format!(
            "# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=anonymous:anonymous-my-app\n\nCONVEX_URL={url}\n\nCONVEX_SITE_URL=http://127.0.0.1:{}\n",
            ports.1
        )
    );
    let requests = dev.backend_requests();
    for r in [
        "GET /instance_name",
        "GET /api/v1/get_canonical_urls",
        "POST /api/deploy2/start_push",
        "POST /api/deploy2/finish_push",
    ] {
        assert!(
            requests.contains(&r.to_string()),
            "{r} missing: {requests:?}"
        );
    }
    // The saved admin key was used, and the backend was stopped at exit.
    let hashes = dev
        .backend_events()
        .into_iter()
        .find(|e| e["event"] == "request" && e["path"] == "/api/get_config_hashes")
        .unwrap();
    assert_eq!(
        hashes["headers"]["authorization"],
        format!("Convex {admin_key}")
    );
    assert_eq!(dev.backend_end().as_deref(), Some("SIGTERM"));
    // No management API call for an anonymous deployment.
    assert!(
        dev.requests().await.iter().all(|r| r == "GET /v1/version"),
        "{:?}",
        dev.requests().await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn linked_local_dev_runs_against_the_fake_backend() {
    let dev = Dev::new().await;
    dev.login();
    dev.mount_cloud().await;
    Mock::given(method("GET"))
        .and(path("/api/deployment/local-acme-rocket/team_and_project"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242}),
        ))
        .mount(&dev.server)
        .await;
    dev.install_fake_backend();
    let ports = free_ports();
    dev.save_local_deployment("local-acme-rocket", ports);
    dev.write(
        ".env.local",
        "CONVEX_DEPLOYMENT=local:local-acme-rocket # team: acme, project: rocket\n",
    );
    let (code, _, stderr) = dev
        .run(&[
            "dev",
            "--once",
            "--typecheck",
            "disable",
            "--local-backend-version",
            VERSION,
        ])
        .await;
    assert_eq!(code, 0, "{stderr}");
    let requests = dev.requests().await;
    for r in [
        "POST /api/local_deployment/start",
        "POST /api/local_deployment/record_activity",
        "POST /api/local_deployment/pause",
    ] {
        assert!(
            requests.contains(&r.to_string()),
            "{r} missing: {requests:?}"
        );
    }
    assert_eq!(
        dev.bodies("/api/local_deployment/start").await,
        vec![
            json!({"port": ports.0, "projectSlug": "rocket", "teamSlug": "acme", "instanceName": "local-acme-rocket"})
        ]
    );
    assert!(
        dev.backend_requests()
            .contains(&"POST /api/deploy2/finish_push".to_string())
    );
    assert!(
        dev.read(".env.local")
            .contains(&format!("CONVEX_URL=http://127.0.0.1:{}", ports.0))
    );
    assert_eq!(dev.backend_end().as_deref(), Some("SIGTERM"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_backend_and_the_start_command() {
    let dev = Dev::new().await;
    dev.login();
    dev.mount_cloud().await;
    Mock::given(method("GET"))
        .and(path("/api/deployment/local-acme-rocket/team_and_project"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242}),
        ))
        .mount(&dev.server)
        .await;
    dev.install_fake_backend();
    let ports = free_ports();
    dev.save_local_deployment("local-acme-rocket", ports);
    dev.write(
        ".env.local",
        "CONVEX_DEPLOYMENT=local:local-acme-rocket # team: acme, project: rocket\n",
    );
    let mut running = Running::spawn(dev.command(&[
        "dev",
        "--typecheck",
        "disable",
        "--local-backend-version",
        VERSION,
        "--start",
        "echo $$ > start.pid; sleep 300 & echo $! > sleep.pid; wait",
    ]));
    running.wait_for("Convex functions ready!", 1).await;
    let read_pid = |name: &str| -> i64 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(text) = std::fs::read_to_string(dev.project.join(name))
                && let Ok(pid) = text.trim().parse()
            {
                return pid;
            }
            assert!(Instant::now() < deadline, "{name} not written");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let shell = read_pid("start.pid");
    let sleeper = read_pid("sleep.pid");
    let backend = dev.serving_pid().expect("the backend serves");
    assert!(pid_alive(shell) && pid_alive(sleeper) && pid_alive(backend));

    running.signal(libc::SIGTERM);
    // Cleaned up, then ended by the signal itself (a shell shows 143).
    let status = running.status().await;
    assert_eq!(
        status.signal(),
        Some(libc::SIGTERM),
        "{status:?}: {}",
        running.stderr()
    );
    assert_eq!(dev.backend_end().as_deref(), Some("SIGTERM"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while [shell, sleeper, backend].iter().any(|p| pid_alive(*p)) {
        assert!(Instant::now() < deadline, "a process outlived dev");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        dev.requests()
            .await
            .contains(&"POST /api/local_deployment/pause".to_string())
    );
}

/// Processes whose parent is `parent` and whose command line contains
/// `needle` (Linux's /proc).
#[cfg(target_os = "linux")]
fn children_matching(parent: u32, needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The fields after the command name (which may hold spaces).
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r.to_string()) else {
            continue;
        };
        let ppid = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if ppid != Some(parent) {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(needle) {
            found.push(pid);
        }
    }
    found
}

/// Whether `pid` is gone (or a zombie waiting to be reaped).
#[cfg(target_os = "linux")]
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.split_whitespace().next() == Some("Z")),
    }
}

#[cfg(target_os = "linux")]
async fn wait_gone(pid: u32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while !gone(pid) {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

/// A project with TypeScript whose typecheck passes (the fixture's Node.js
/// action needs @types/node, which the shared install does not have).
#[cfg(target_os = "linux")]
async fn dev_with_typescript() -> Dev {
    let dev = Dev::new().await;
    std::fs::remove_file(dev.project.join("convex/digest.ts")).unwrap();
    dev.login();
    dev.mount_cloud().await;
    dev.write(".env.local", "CONVEX_DEPLOYMENT=dev:happy-otter-123\n");
    dev
}

/// With `--typecheck try` (the default), saves are checked by one warm
/// TypeScript process kept between pushes; its report is tsc's; Ctrl-C
/// ends it with `dev`.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn saves_are_typechecked_by_a_warm_checker_that_ends_with_dev() {
    let dev = dev_with_typescript().await;
    let mut running = Running::spawn(dev.command(&["dev", "--tail-logs", "disable"]));
    let pid = running.child.id().unwrap();
    running.wait_for("Convex functions ready!", 1).await;
    let checkers = children_matching(pid, "warm-checker-");
    assert_eq!(checkers.len(), 1, "one warm checker: {checkers:?}");
    let checker = checkers[0];

    let notes = dev.read("convex/notes.ts");
    dev.write(
        "convex/notes.ts",
        &format!("{notes}\nexport const wrong: number = \"text\";\n"),
    );
    running
        .wait_for("TypeScript typecheck via `tsc` failed.", 1)
        .await;
    running.wait_for("TS2322", 1).await;
    dev.write("convex/notes.ts", &notes);
    running.wait_for("Convex functions ready!", 2).await;
    // The same process answered every check.
    assert_eq!(children_matching(pid, "warm-checker-"), vec![checker]);
    let stderr = running.stderr();
    assert!(stderr.contains("notes.ts"), "{stderr}");

    running.signal(libc::SIGINT);
    assert_eq!(running.status().await.code(), Some(130));
    assert!(
        wait_gone(checker, Duration::from_secs(5)).await,
        "the warm checker outlived dev"
    );
}

/// Killed outright, `dev` runs no clean-up: the checker notices its input
/// closing and exits by itself.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn the_warm_checker_exits_when_dev_is_killed() {
    let dev = dev_with_typescript().await;
    let mut running = Running::spawn(dev.command(&["dev", "--tail-logs", "disable"]));
    let pid = running.child.id().unwrap();
    running.wait_for("Convex functions ready!", 1).await;
    let checkers = children_matching(pid, "warm-checker-");
    assert_eq!(checkers.len(), 1, "{checkers:?}");
    running.signal(libc::SIGKILL);
    let _ = running.status().await;
    assert!(
        wait_gone(checkers[0], Duration::from_secs(10)).await,
        "the warm checker outlived a killed dev"
    );
}
