//! `convex deploy` and `convex codegen` against a wiremock server that plays
//! the management API, the version API and the deployment, on a real
//! project (tests/fixtures/projects/basic) bundled with the npm-installed
//! `convex` + esbuild of tests/support.

mod support;

use support::deploy_mock::start_push_response;
use support::scene::header;

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PROD_KEY: &str = "prod:brave-lynx-456|eyJ2MiI6InByb2Qta2V5In0=";
const PREVIEW_KEY: &str = "preview:acme:rocket|eyJ2MiI6InByZXZpZXcta2V5In0=";

struct Scene {
    home: tempfile::TempDir,
    project: tempfile::TempDir,
    server: MockServer,
    env: Vec<(String, String)>,
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/projects")
        .join(name)
}

impl Scene {
    async fn new() -> Scene {
        Scene::with_project("basic", false).await
    }

    async fn with_project(name: &str, with_typescript: bool) -> Scene {
        let project = tempfile::tempdir().unwrap();
        support::copy_dir(&fixture(name), project.path());
        // TypeScript only when asked: with it, `--typecheck try` would run
        // tsc in every test.
        let left_out: &[&str] = if with_typescript {
            &[]
        } else {
            &["typescript"]
        };
        support::link_node_modules_except(project.path(), left_out);
        let scene = Scene {
            home: tempfile::tempdir().unwrap(),
            project,
            server: MockServer::start().await,
            env: Vec::new(),
        };
        scene.mount_defaults().await;
        scene
    }

    async fn mount(&self, http_method: &str, route: &str, status: u16, body: Value) {
        Mock::given(method(http_method))
            .and(path(route))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&self.server)
            .await;
    }

    /// A route answered `times` times before the defaults take over.
    async fn mount_first(&self, route: &str, times: u64, status: u16, body: Value) {
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .up_to_n_times(times)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// `claim_preview_deployment` answers with a new preview deployment
    /// (`tidy-heron-789`) served by this mock.
    async fn mount_new_preview_deployment(&self) {
        let uri = self.server.uri();
        self.mount(
            "POST",
            "/api/claim_preview_deployment",
            200,
            json!({"adminKey": "preview:tidy-heron-789|admin", "instanceUrl": uri, "deploymentName": "tidy-heron-789",
                   "reference": "preview/feature-login", "isNewDeployment": true}),
        )
        .await;
    }

    async fn mount_defaults(&self) {
        support::deploy_mock::mount_defaults(&self.server).await;
    }

    fn set(&mut self, k: &str, v: &str) {
        self.env.push((k.to_string(), v.to_string()));
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("convex").unwrap();
        cmd.env_clear()
            .current_dir(self.project.path())
            .envs(support::home_env(self.home.path()))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("CONVEX_PROVISION_HOST", self.server.uri())
            .env("CONVEX_VERSION_API_ORIGIN", self.server.uri())
            .env("NO_COLOR", "1")
            .args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    async fn paths(&self) -> Vec<String> {
        self.requests()
            .await
            .iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .filter(|p| !p.ends_with("report_push_completed"))
            .collect()
    }

    async fn bodies(&self, route: &str) -> Vec<Value> {
        self.requests()
            .await
            .iter()
            .filter(|r| r.url.path() == route)
            .map(body)
            .collect()
    }

    fn file(&self, rel: &str) -> PathBuf {
        self.project.path().join(rel)
    }
}

/// The JSON body, brotli-decoded when the request says so.
fn body(req: &Request) -> Value {
    let bytes = if header(req, "content-encoding") == Some("br") {
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &req.body[..], &mut out).expect("valid brotli");
        out
    } else {
        req.body.clone()
    };
    serde_json::from_slice(&bytes).expect("JSON body")
}

fn module_paths(modules: &Value) -> Vec<String> {
    let mut paths: Vec<String> = modules
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    paths
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const FULL_SEQUENCE: [&str; 9] = [
    "POST /api/deployment/url_for_key",
    "POST /api/deployment/team_and_project_for_key",
    "GET /v1/version",
    "POST /api/get_config_hashes",
    "POST /api/deploy2/evaluate_schema",
    "POST /api/deploy2/start_push",
    "POST /api/deploy2/wait_for_schema",
    "POST /api/deploy2/finish_push",
    "",
];

#[tokio::test(flavor = "multi_thread")]
async fn prod_key_runs_the_whole_push_sequence() {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    let out = s.cmd(&["deploy"]).output().unwrap();
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("Deployed Convex functions to {}", s.server.uri())),
        "{stderr}"
    );
    assert!(
        stderr.contains("[Production] acme:rocket:production (prod)"),
        "{stderr}"
    );
    assert!(stderr.contains("[+] notes.by_tag   tag"), "{stderr}");
    assert!(!stderr.contains("a-long-secret-value"));
    assert!(out.stdout.is_empty());
    // As with `dev`: the project has no Convex AI files, and the reference
    // says so after a deploy too (even off a terminal).
    assert!(
        stderr.contains("Convex AI files are not installed."),
        "{stderr}"
    );

    let mut paths = s.paths().await;
    // The version check runs alongside: anywhere after the key lookups.
    let version = paths
        .iter()
        .position(|p| p == "GET /v1/version")
        .expect("version check");
    assert!(version >= 2);
    paths.remove(version);
    let expected: Vec<&str> = FULL_SEQUENCE
        .iter()
        .copied()
        .filter(|p| !p.is_empty() && *p != "GET /v1/version")
        .collect();
    assert_eq!(paths, expected);

    let requests = s.requests().await;
    let traceparents: Vec<&str> = requests
        .iter()
        .filter(|r| {
            r.url.path().starts_with("/api/deploy2/")
                && !r.url.path().ends_with("report_push_completed")
        })
        .map(|r| header(r, "traceparent").expect("traceparent"))
        .collect();
    let trace_id = &traceparents[0][3..35];
    let shape = regex::Regex::new("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$").unwrap();
    for tp in &traceparents {
        assert!(shape.is_match(tp), "{tp}");
        assert_eq!(&tp[3..35], trace_id, "one trace per push");
    }
    for r in requests.iter().filter(|r| {
        r.url.path().starts_with("/api/deploy2/") || r.url.path() == "/api/get_config_hashes"
    }) {
        assert_eq!(
            header(r, "authorization"),
            Some(format!("Convex {PROD_KEY}").as_str())
        );
        assert_eq!(header(r, "convex-client"), Some("npm-cli-1.48.0"));
        let compressed = ["evaluate_schema", "start_push", "finish_push"]
            .iter()
            .any(|n| r.url.path().ends_with(n));
        assert_eq!(
            header(r, "content-encoding") == Some("br"),
            compressed,
            "{}",
            r.url.path()
        );
    }
    for r in requests
        .iter()
        .filter(|r| r.url.path().starts_with("/api/deployment/"))
    {
        assert_eq!(
            header(r, "authorization"),
            Some(format!("Bearer {PROD_KEY}").as_str())
        );
    }

    assert_eq!(
        s.bodies("/api/get_config_hashes").await,
        vec![json!({"version": "1.48.0", "adminKey": PROD_KEY})]
    );
    let start = &s.bodies("/api/deploy2/start_push").await[0];
    assert_eq!(start["adminKey"], PROD_KEY);
    assert_eq!(start["dryRun"], false);
    assert_eq!(start["functions"], "convex/");
    assert_eq!(start["forCodegen"], false);
    assert!(start.get("nodeVersion").is_none());
    let app = &start["appDefinition"];
    assert_eq!(app["udfServerVersion"], "1.48.0");
    assert_eq!(app["definition"]["path"], "convex.config.js");
    assert_eq!(app["schema"]["path"], "schema.js");
    assert_eq!(app["unchangedModuleHashes"], json!([]));
    let paths = module_paths(&app["changedModules"]);
    assert!(
        paths.contains(&"notes.js".to_string()) && paths.contains(&"digest.js".to_string()),
        "{paths:?}"
    );
    let digest = app["changedModules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"] == "digest.js")
        .unwrap();
    assert_eq!(digest["environment"], "node");
    // evaluate_schema gets the same request.
    assert_eq!(&s.bodies("/api/deploy2/evaluate_schema").await[0], start);

    let wait = &s.bodies("/api/deploy2/wait_for_schema").await[0];
    assert_eq!(wait["timeoutMs"], 10000);
    assert_eq!(wait["dryRun"], false);
    assert_eq!(wait["schemaChange"], start_push_response()["schemaChange"]);
    let finish = &s.bodies("/api/deploy2/finish_push").await[0];
    assert_eq!(finish["startPush"], start_push_response());
    assert_eq!(finish["message"], Value::Null);
    assert_eq!(finish["dryRun"], false);

    // Codegen wrote the final files (typed `env` only comes from the final
    // phase).
    let server_dts = std::fs::read_to_string(s.file("convex/_generated/server.d.ts")).unwrap();
    assert!(server_dts.contains("CONVEX_CLOUD_URL"), "{server_dts}");
    assert!(s.file("convex/_generated/api.js").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn unchanged_modules_are_sent_by_hash() {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    // The first push bundles against the stub generated files; from the
    // second on, the final ones are in place and the bundles are stable.
    assert!(s.cmd(&["deploy"]).output().unwrap().status.success());
    assert!(s.cmd(&["deploy"]).output().unwrap().status.success());
    let first = s.bodies("/api/deploy2/start_push").await.remove(1);
    // The server now reports what it has.
    let hashes: Vec<Value> = first["appDefinition"]["changedModules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(m["source"].as_str().unwrap().as_bytes());
            h.update(m["sourceMap"].as_str().unwrap_or("").as_bytes());
            let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            json!({"path": m["path"], "hash": hex, "environment": m["environment"]})
        })
        .collect();
    let count = hashes.len();
    s.server.reset().await;
    s.mount(
        "POST",
        "/api/get_config_hashes",
        200,
        json!({"config": {"functions": "convex/"}, "moduleHashes": hashes}),
    )
    .await;
    s.mount_defaults().await;
    let out = s
        .cmd(&["deploy", "--typecheck", "disable"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let second = s.bodies("/api/deploy2/start_push").await.remove(0);
    assert_eq!(second["appDefinition"]["changedModules"], json!([]));
    let unchanged = second["appDefinition"]["unchangedModuleHashes"]
        .as_array()
        .unwrap();
    assert_eq!(unchanged.len(), count);
    assert!(unchanged[0].get("sha256").is_some() && unchanged[0].get("environment").is_some());
    // Schema and definition always go in full.
    assert!(second["appDefinition"]["schema"]["source"].is_string());

    // --push-all-modules skips the hashes.
    s.server.reset().await;
    s.mount_defaults().await;
    let out = s.cmd(&["deploy", "--push-all-modules"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        !s.paths()
            .await
            .contains(&"POST /api/get_config_hashes".to_string())
    );
    let third = s.bodies("/api/deploy2/start_push").await.remove(0);
    assert_eq!(
        third["appDefinition"]["changedModules"]
            .as_array()
            .unwrap()
            .len(),
        count
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_sends_dry_run_bodies_and_writes_nothing() {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    // Committed generated code lets the dry run bundle without writing.
    let server_js = "export { queryGeneric as query, mutationGeneric as mutation, actionGeneric as action, internalQueryGeneric as internalQuery, internalMutationGeneric as internalMutation, internalActionGeneric as internalAction } from \"convex/server\";\n";
    support::write_files(
        s.project.path(),
        &[("convex/_generated/server.js", server_js)],
    );
    let out = s.cmd(&["deploy", "--dry-run"]).output().unwrap();
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Would have deployed Convex functions to"),
        "{stderr}"
    );
    assert!(stderr.contains("Remote config would be overwritten with the following changes:\n  Change the server's function version:\n  [+] 1.48.0"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Command would write file: "), "{stdout}");
    assert!(!s.file("convex/_generated/api.js").exists());
    let paths = s.paths().await;
    let hashes = paths
        .iter()
        .filter(|p| *p == "POST /api/get_config_hashes")
        .count();
    assert_eq!(hashes, 2, "{paths:?}");
    let wait = paths
        .iter()
        .position(|p| p.ends_with("wait_for_schema"))
        .unwrap();
    assert_eq!(paths[wait + 1], "POST /api/get_config_hashes");
    for route in [
        "/api/deploy2/evaluate_schema",
        "/api/deploy2/start_push",
        "/api/deploy2/wait_for_schema",
        "/api/deploy2/finish_push",
    ] {
        assert_eq!(s.bodies(route).await[0]["dryRun"], true, "{route}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_at_each_step_stop_the_push() {
    struct Step {
        route: &'static str,
        status: u16,
        body: Value,
        stderr: &'static str,
        last: &'static str,
    }
    let steps = [
        Step {
            route: "/api/deployment/url_for_key",
            status: 401,
            body: json!({"code": "BadDeployKey", "message": "Invalid deploy key."}),
            stderr: "401 Unauthorized: BadDeployKey: Invalid deploy key.",
            last: "POST /api/deployment/url_for_key",
        },
        Step {
            route: "/api/get_config_hashes",
            status: 500,
            body: json!({"code": "InternalServerError", "message": "boom"}),
            stderr: "Unable to pull deployment config from",
            last: "POST /api/get_config_hashes",
        },
        Step {
            route: "/api/deploy2/start_push",
            status: 400,
            body: json!({"code": "InvalidModules", "message": "Failed to analyze notes.js"}),
            stderr: "400 Bad Request: InvalidModules: Failed to analyze notes.js",
            last: "POST /api/deploy2/start_push",
        },
        Step {
            route: "/api/deploy2/wait_for_schema",
            status: 200,
            body: json!({"type": "failed", "error": "Document abc does not match", "tableName": "notes"}),
            stderr: "Schema validation failed.\nDocument abc does not match",
            last: "POST /api/deploy2/wait_for_schema",
        },
        Step {
            route: "/api/deploy2/wait_for_schema",
            status: 200,
            body: json!({"type": "raceDetected"}),
            stderr: "Schema was overwritten by another push",
            last: "POST /api/deploy2/wait_for_schema",
        },
        Step {
            route: "/api/deploy2/finish_push",
            status: 500,
            body: json!({"code": "InternalServerError", "message": "boom"}),
            stderr: "Unable to finish push to",
            last: "POST /api/deploy2/finish_push",
        },
        Step {
            route: "/api/deploy2/start_push",
            status: 400,
            body: json!({"code": "AuthConfigMissingEnvironmentVariable", "message": "Environment variable CLERK_ISSUER is used in auth config file but its value was not set"}),
            stderr: "npx convex env set --deployment brave-lynx-456 CLERK_ISSUER <value>",
            last: "POST /api/deploy2/start_push",
        },
    ];
    for step in steps {
        let mut s = Scene::new().await;
        s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
        s.mount_first(step.route, 100, step.status, step.body.clone())
            .await;
        let out = s.cmd(&["deploy"]).output().unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", step.route);
        assert!(stderr.contains(step.stderr), "{}: {stderr}", step.route);
        assert!(!stderr.contains("Deployed Convex functions"), "{stderr}");
        let paths = s.paths().await;
        let last = paths.iter().rfind(|p| !p.ends_with("/v1/version")).unwrap();
        assert_eq!(last, step.last, "{}: {paths:?}", step.route);
        // Not retried: exactly one attempt.
        assert_eq!(
            paths.iter().filter(|p| *p == step.last).count(),
            1,
            "{paths:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn evaluate_schema_failures_fall_back_to_evaluate_push() {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    s.mount_first(
        "/api/deploy2/evaluate_schema",
        10,
        404,
        json!({"code": "NotFound", "message": "no"}),
    )
    .await;
    let out = s.cmd(&["deploy"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let paths = s.paths().await;
    let i = paths
        .iter()
        .position(|p| p.ends_with("evaluate_schema"))
        .unwrap();
    assert_eq!(paths[i + 1], "POST /api/deploy2/evaluate_push");
    assert_eq!(paths[i + 2], "POST /api/deploy2/start_push");
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.ends_with("evaluate_schema"))
            .count(),
        1,
        "404 is not retried"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn large_index_deletion_needs_a_terminal_or_the_flag() {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    s.mount_first(
        "/api/deploy2/evaluate_schema",
        10,
        200,
        json!({"componentSchemaEvaluations": {"": {"tables": [], "indexes": [
            {"name": "notes.by_old", "type": "database", "fields": ["old"], "change": "dropped", "needsBackfill": false, "numDocs": 250000}
        ]}}}),
    )
    .await;
    let out = s.cmd(&["deploy"]).output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("⛔ notes.by_old   old  ⚠️  250,000 documents"),
        "{stderr}"
    );
    assert!(stderr.contains("--skip-large-indexes-check"), "{stderr}");
    assert!(!s.paths().await.iter().any(|p| p.ends_with("start_push")));

    let out = s
        .cmd(&["deploy", "--skip-large-indexes-check"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Proceeding with push since deleting large indexes was allowed by flag"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_progress_is_reported_until_complete() {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    s.mount_first(
        "/api/deploy2/wait_for_schema",
        2,
        200,
        json!({"type": "inProgress", "components": {"": {"schemaValidationComplete": false, "indexesComplete": 0, "indexesTotal": 1}}}),
    )
    .await;
    let out = s.cmd(&["deploy"]).output().unwrap();
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "Backfilling indexes (0/1 ready) and checking that documents match your schema..."
        ),
        "{stderr}"
    );
    let waits = s
        .paths()
        .await
        .iter()
        .filter(|p| p.ends_with("wait_for_schema"))
        .count();
    assert_eq!(waits, 3);
}

/// A deploy's esbuild serves that deploy alone: its garbage collector waits
/// for a memory limit (`GOGC=off`, `GOMEMLIMIT=1GiB`). A `GOGC` the user set
/// stands (and no limit is added), as does a `GOMEMLIMIT` of theirs. The
/// user's own `--cmd` sees the environment as the user left it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn esbuild_gets_a_gc_target_that_user_commands_do_not() {
    let cases = [
        (None, None, "off 1GiB"),
        (Some("77"), None, "77 unset"),
        (None, Some("300MiB"), "off 300MiB"),
    ];
    for (user_gogc, user_limit, expected) in cases {
        let mut s = Scene::new().await;
        s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
        let seen = s.file("esbuild-gogc.txt");
        let wrapper = s.file("esbuild-wrapper.sh");
        let record = format!(
            "[ \"$1\" = --version ] || printf '%s %s' \"${{GOGC-unset}}\" \"${{GOMEMLIMIT-unset}}\" > '{}'",
            seen.display()
        );
        support::esbuild_wrapper(s.project.path(), &wrapper, &record);
        s.set("ESBUILD_BINARY_PATH", wrapper.to_str().unwrap());
        if let Some(value) = user_gogc {
            s.set("GOGC", value);
        }
        if let Some(value) = user_limit {
            s.set("GOMEMLIMIT", value);
        }
        let cmd = "printf '%s %s' \"${GOGC-unset}\" \"${GOMEMLIMIT-unset}\" > cmd-gogc.txt";
        let out = s
            .cmd(&["deploy", "--typecheck", "disable", "--cmd", cmd])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        let esbuild = std::fs::read_to_string(&seen).unwrap();
        assert_eq!(esbuild, expected);
        let user = std::fs::read_to_string(s.file("cmd-gogc.txt")).unwrap();
        let as_left = format!(
            "{} {}",
            user_gogc.unwrap_or("unset"),
            user_limit.unwrap_or("unset")
        );
        assert_eq!(user, as_left);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cmd_runs_with_the_canonical_urls_before_the_push() {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    support::write_files(
        s.project.path(),
        &[(
            "package.json",
            r#"{"name": "app", "dependencies": {"convex": "1.48.0", "vite": "5.0.0"}}"#,
        )],
    );
    // The command runs through the system shell: sh, or cmd on Windows
    // (where the key's `|` would be a pipe once expanded: left out there).
    let (cmd, expected) = if cfg!(windows) {
        (
            "echo %VITE_CONVEX_URL% %VITE_CONVEX_SITE_URL%> out.txt".to_string(),
            "https://canonical.convex.cloud https://canonical.convex.site".to_string(),
        )
    } else {
        (
            "printf '%s %s %s' \"$VITE_CONVEX_URL\" \"$VITE_CONVEX_SITE_URL\" \"$CONVEX_DEPLOY_KEY\" > out.txt".to_string(),
            format!("https://canonical.convex.cloud https://canonical.convex.site {PROD_KEY}"),
        )
    };
    let out = s.cmd(&["deploy", "--cmd", &cmd]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        std::fs::read_to_string(s.file("out.txt"))
            .unwrap()
            .trim_end(),
        expected
    );
    let paths = s.paths().await;
    let canonical = paths
        .iter()
        .position(|p| p.ends_with("get_canonical_urls"))
        .unwrap();
    let hashes = paths
        .iter()
        .position(|p| p.ends_with("get_config_hashes"))
        .unwrap();
    assert!(canonical < hashes);

    // --cmd-url-env-var-name renames only the URL variable.
    let out = s
        .cmd(&[
            "deploy",
            "--cmd",
            if cfg!(windows) {
                "echo %MY_URL%^|%VITE_CONVEX_SITE_URL%> out2.txt"
            } else {
                "printf '%s|%s' \"$MY_URL\" \"$VITE_CONVEX_SITE_URL\" > out2.txt"
            },
            "--cmd-url-env-var-name",
            "MY_URL",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(s.file("out2.txt"))
            .unwrap()
            .trim_end(),
        "https://canonical.convex.cloud|https://canonical.convex.site"
    );

    // A failing command stops the deploy before bundling, with exit 1.
    s.server.reset().await;
    s.mount_defaults().await;
    let out = s.cmd(&["deploy", "--cmd", "exit 7"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("'exit 7' failed"));
    assert!(
        !s.paths()
            .await
            .iter()
            .any(|p| p.ends_with("get_config_hashes"))
    );

    // A dry run only announces the command.
    s.server.reset().await;
    s.mount_defaults().await;
    support::write_files(
        s.project.path(),
        &[("convex/_generated/server.js", "export {};\n")],
    );
    let out = s
        .cmd(&[
            "deploy",
            "--dry-run",
            "--typecheck",
            "disable",
            "--codegen",
            "disable",
            "--cmd",
            "touch ran.txt",
        ])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("Would have run \"touch ran.txt\""),
        "{stderr}"
    );
    assert!(!s.file("ran.txt").exists());
    assert!(
        !s.paths()
            .await
            .iter()
            .any(|p| p.ends_with("get_canonical_urls"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn preview_key_claims_pushes_and_runs_the_function() {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PREVIEW_KEY);
    s.mount_new_preview_deployment().await;
    s.mount(
        "POST",
        "/api/function",
        200,
        json!({"status": "success", "value": [1, {"a": "b"}], "logLines": []}),
    )
    .await;
    let out = s
        .cmd(&[
            "deploy",
            "--preview-create",
            "feature-login",
            "--preview-run",
            "api.notes.list",
        ])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("[Preview] acme:rocket:preview/feature-login"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Finished running function \"api.notes.list\""),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "[\n  1,\n  {\n    \"a\": \"b\"\n  }\n]\n"
    );
    let claim = &s.bodies("/api/claim_preview_deployment").await[0];
    assert_eq!(
        claim,
        &json!({"projectSelection": {"kind": "teamAndProjectSlugs", "teamSlug": "acme", "projectSlug": "rocket"},
                "identifier": "feature-login", "reuse": false})
    );
    let paths = s.paths().await;
    assert!(
        !paths.iter().any(|p| p.ends_with("/v1/version")),
        "no version check for previews"
    );
    let requests = s.requests().await;
    let function = requests
        .iter()
        .find(|r| r.url.path() == "/api/function")
        .unwrap();
    assert_eq!(header(function, "convex-client"), Some("npm-1.48.0"));
    assert_eq!(
        header(function, "authorization"),
        Some("Convex preview:tidy-heron-789|admin")
    );
    assert_eq!(
        body(function),
        json!({"path": "notes:list", "format": "convex_encoded_json", "args": {}})
    );
    assert_eq!(
        s.bodies("/api/deploy2/start_push").await[0]["adminKey"],
        "preview:tidy-heron-789|admin"
    );

    // Without a name (and no CI branch) the deploy fails before any request.
    s.server.reset().await;
    s.mount_defaults().await;
    let out = s.cmd(&["deploy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("--preview-name"));
    assert!(s.paths().await.is_empty());

    // A dry run makes no request at all.
    let out = s
        .cmd(&[
            "deploy",
            "--dry-run",
            "--preview-name",
            "b",
            "--preview-run",
            "f",
        ])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Would have claimed preview deployment for \"b\""),
        "{stderr}"
    );
    assert!(stderr.contains("Would have run function \"f\""), "{stderr}");
    assert!(s.paths().await.is_empty());
}

/// `--preview-run` shares `dev --run`'s function call: a 560 answer is the
/// function's own failure (its log lines still printed), and "Could not
/// find function" lists what the deployment has.
#[tokio::test(flavor = "multi_thread")]
async fn preview_run_failures_are_reported_like_dev_run() {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PREVIEW_KEY);
    s.mount_new_preview_deployment().await;
    Mock::given(method("POST"))
        .and(path("/api/function"))
        .respond_with(ResponseTemplate::new(560).set_body_json(json!({
            "status": "error", "errorMessage": "Uncaught Error: boom", "logLines": ["[LOG] 'seeding'"]
        })))
        .up_to_n_times(1)
        .mount(&s.server)
        .await;
    let args = [
        "deploy",
        "--preview-create",
        "feature-login",
        "--preview-run",
        "init:seed",
    ];
    let out = s.cmd(&args).output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("[CONVEX ?(init:seed)] [LOG] 'seeding'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Failed to run function \"init:seed\":\nError: Uncaught Error: boom"),
        "{stderr}"
    );
    assert!(!stderr.contains("Finished running function"), "{stderr}");
    assert!(out.stdout.is_empty());

    s.mount(
        "POST",
        "/api/function",
        200,
        json!({"status": "error", "errorMessage": "Could not find function for 'init:seed'"}),
    )
    .await;
    // The function list is read over the sync protocol, which this HTTP
    // mock does not speak (tests/sync_protocol.rs and tests/run.rs cover
    // the listing): the failure is still reported, without a list.
    s.set("CONVEX_TEST_RETRY_DELAY_MS", "1");
    let out = s.cmd(&args).output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Error: Could not find function for 'init:seed'\n\nNo functions found."),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn build_environment_guard_and_default_message() {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    s.set("VERCEL", "1");
    s.set("VERCEL_ENV", "preview");
    s.set("VERCEL_GIT_COMMIT_SHA", "abcdef1234567");
    let out = s.cmd(&["deploy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("non-production build environment"));
    // The key lookups happen before the guard, nothing after.
    assert_eq!(s.paths().await.len(), 2);

    let out = s
        .cmd(&["deploy", "--check-build-environment", "disable"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        s.bodies("/api/deploy2/finish_push").await[0]["message"],
        "Deployed from Vercel • abcdef1"
    );

    let out = s
        .cmd(&[
            "deploy",
            "--check-build-environment",
            "disable",
            "--message",
            "by hand",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        s.bodies("/api/deploy2/finish_push").await[1]["message"],
        "by hand"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn write_push_request_and_debug_bundle_skip_the_push() {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    let out = s
        .cmd(&["deploy", "--write-push-request", "req"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let request: Value =
        serde_json::from_str(&std::fs::read_to_string(s.file("req.json")).unwrap()).unwrap();
    assert_eq!(request["adminKey"], PROD_KEY);
    assert!(
        request["appDefinition"]["changedModules"]
            .as_array()
            .unwrap()
            .len()
            >= 3
    );
    assert!(!s.paths().await.iter().any(|p| p.contains("deploy2")));

    s.server.reset().await;
    s.mount_defaults().await;
    let out = s
        .cmd(&["deploy", "--debug-bundle-path", "dbg"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(s.file("dbg/fullConfig.json")).unwrap())
            .unwrap();
    assert!(
        config["modules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["path"] == "notes.js")
    );
    assert!(s.file("dbg/isolate/notes.js").exists());
    assert!(s.file("dbg/node/digest.js").exists());
    assert!(
        !s.paths()
            .await
            .iter()
            .any(|p| p.contains("deploy2") || p.contains("get_config_hashes"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn self_hosted_and_url_flags_skip_the_management_api() {
    let mut s = Scene::new().await;
    let uri = s.server.uri();
    s.set("CONVEX_SELF_HOSTED_URL", &uri);
    s.set("CONVEX_SELF_HOSTED_ADMIN_KEY", "self-hosted|key");
    let out = s.cmd(&["deploy"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let paths = s.paths().await;
    assert!(
        paths
            .iter()
            .all(|p| !p.contains("/api/deployment/") && !p.contains("/v1/version")),
        "{paths:?}"
    );
    assert_eq!(
        s.bodies("/api/deploy2/start_push").await[0]["adminKey"],
        "self-hosted|key"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_from_a_dev_setup_asks_and_refuses_without_a_terminal() {
    let s = Scene::new().await;
    let port = s.server.address().port();
    let dir = s.home.path().join(format!(".convex-test-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), r#"{"accessToken": "pat-1"}"#).unwrap();
    support::write_files(
        s.project.path(),
        &[(".env.local", "CONVEX_DEPLOYMENT=dev:happy-otter-123\n")],
    );
    let uri = s.server.uri();
    s.mount(
        "GET",
        "/api/deployment/happy-otter-123/team_and_project",
        200,
        json!({"team": "acme", "project": "rocket", "teamId": 17}),
    )
    .await;
    s.mount(
        "GET",
        "/api/deployment/brave-lynx-456/team_and_project",
        200,
        json!({"team": "acme", "project": "rocket", "teamId": 17}),
    )
    .await;
    s.mount(
        "POST",
        "/api/deployment/authorize_prod",
        200,
        json!({"deploymentName": "brave-lynx-456", "url": uri, "adminKey": "prod:brave-lynx-456|admin", "deploymentType": "prod", "reference": "production", "isDefault": true}),
    )
    .await;
    s.mount(
        "GET",
        "/api/dashboard/teams/17/usage/team_usage_state",
        200,
        json!({"usageState": "Approaching"}),
    )
    .await;
    s.mount(
        "GET",
        "/api/dashboard/teams/17/get_spending_limits",
        200,
        json!({"state": "Running"}),
    )
    .await;
    let out = s.cmd(&["deploy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Do you want to push your code to your prod deployment brave-lynx-456 now?\n"
    );
    assert!(stderr_of(&out).contains("non-interactive"));
    assert_eq!(s.paths().await.len(), 2);

    let out = s.cmd(&["deploy", "-y"]).output().unwrap();
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Your projects are approaching the Free plan limits."),
        "{stderr}"
    );
    assert_eq!(
        s.bodies("/api/deploy2/start_push").await[0]["adminKey"],
        "prod:brave-lynx-456|admin"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_type_error_stops_the_push_before_anything_is_committed() {
    if !support::has_program("node") {
        eprintln!("skipped: node is not installed");
        return;
    }
    let mut s = Scene::with_project("basic", true).await;
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    // `tsc` itself (tests/typecheck_server.rs covers the server), and no
    // server left running.
    s.set("CONVEX_TYPECHECK_SERVER", "0");
    // The fixture's node action needs @types/node; keep the check about our file.
    std::fs::remove_file(s.file("convex/digest.ts")).unwrap();
    support::write_files(
        s.project.path(),
        &[(
            "convex/bad.ts",
            "import { query } from \"./_generated/server\";\nexport const n: number = \"text\";\nexport const q = query({ args: {}, handler: async () => 1 });\n",
        )],
    );
    let out = s
        .cmd(&["deploy", "--typecheck", "enable"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("TypeScript typecheck via `tsc` failed."),
        "{stderr}"
    );
    assert!(stderr.contains("bad.ts"), "{stderr}");
    assert!(stderr.contains("TS2322"), "{stderr}");
    // As the official CLI: staged (start_push), never committed.
    let paths = s.paths().await;
    assert!(paths.iter().any(|p| p.ends_with("start_push")), "{paths:?}");
    assert!(
        !paths
            .iter()
            .any(|p| p.ends_with("wait_for_schema") || p.ends_with("finish_push")),
        "{paths:?}"
    );

    support::write_files(
        s.project.path(),
        &[(
            "convex/bad.ts",
            "import { query } from \"./_generated/server\";\nexport const q = query({ args: {}, handler: async () => 1 });\n",
        )],
    );
    let out = s
        .cmd(&["deploy", "--typecheck", "enable"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    // The final generated API names the new module.
    let api = std::fs::read_to_string(s.file("convex/_generated/api.d.ts")).unwrap();
    assert!(
        api.contains("import type * as bad from \"../bad.js\";"),
        "{api}"
    );
}

/// A stand-in compiler (`node_modules/typescript/bin/tsc`): marks its start
/// and end with files in the project, waits `FAKE_TSC_DELAY_MS`, and fails
/// like tsc (with a report for `--pretty`) when `FAKE_TSC_FAIL=1`.
const FAKE_TSC: &str = r#"#!/usr/bin/env node
const fs = require("fs");
const args = process.argv.slice(2);
fs.writeFileSync("tsc-started", "");
setTimeout(() => {
  fs.writeFileSync("tsc-done", "");
  if (process.env.FAKE_TSC_FAIL === "1") {
    if (args.includes("--pretty")) {
      console.log("convex/notes.ts:1:1 - error TS2322: Fake failure.\n\nFound 1 error in convex/notes.ts:1\n");
    } else {
      console.log("convex/notes.ts(1,1): error TS2322: Fake failure.");
    }
    process.exit(2);
  }
}, Number(process.env.FAKE_TSC_DELAY_MS || "0"));
"#;

/// A scene whose project's compiler is [`FAKE_TSC`].
async fn fake_tsc_scene(delay_ms: u64, fail: bool) -> Scene {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    s.set("FAKE_TSC_DELAY_MS", &delay_ms.to_string());
    s.set("FAKE_TSC_FAIL", if fail { "1" } else { "0" });
    support::write_files(
        s.project.path(),
        &[
            ("node_modules/typescript/bin/tsc", FAKE_TSC),
            (
                "node_modules/typescript/package.json",
                r#"{"name":"typescript","version":"5.9.3"}"#,
            ),
        ],
    );
    s
}

/// The typecheck's verdict decides the push whichever finishes first:
/// a quick compiler (done before bundling is) or a slow one (still running
/// when `start_push` is sent). A failure stops the push after `start_push`
/// (as in the official CLI) and before `wait_for_schema` / `finish_push`.
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_typecheck_stops_the_push_in_either_order() {
    if !support::has_program("node") {
        eprintln!("skipped: node is not installed");
        return;
    }
    for delay in [0, 6000] {
        let s = fake_tsc_scene(delay, true).await;
        let out = s.cmd(&["deploy"]).output().unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("TypeScript typecheck via `tsc` failed."),
            "{stderr}"
        );
        assert!(stderr.contains("Fake failure."), "{stderr}");
        assert!(
            stderr.contains("Found 1 error"),
            "the --pretty run is shown: {stderr}"
        );
        let paths = s.paths().await;
        assert!(paths.iter().any(|p| p.ends_with("start_push")), "{paths:?}");
        assert!(
            !paths
                .iter()
                .any(|p| p.ends_with("wait_for_schema") || p.ends_with("finish_push")),
            "{delay} ms: {paths:?}"
        );
    }
}

/// The typecheck runs alongside bundling and the requests that do not need
/// it (it is still running when `start_push` arrives), and `finish_push`
/// comes only after it passed.
#[tokio::test(flavor = "multi_thread")]
async fn finish_push_waits_for_a_slow_typecheck() {
    if !support::has_program("node") {
        eprintln!("skipped: node is not installed");
        return;
    }
    let s = fake_tsc_scene(4000, false).await;
    let project = s.project.path().to_path_buf();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, bool, bool)>::new()));
    for route in ["/api/deploy2/start_push", "/api/deploy2/finish_push"] {
        let seen = seen.clone();
        let project = project.clone();
        let answer = if route.ends_with("start_push") {
            start_push_response()
        } else {
            json!({"authDiff": {"added": [], "removed": []}, "definitionDiffs": {},
                   "componentDiffs": {"": {"diffType": {"type": "modify"}}}})
        };
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(move |_: &Request| {
                seen.lock().unwrap().push((
                    route.to_string(),
                    project.join("tsc-started").exists(),
                    project.join("tsc-done").exists(),
                ));
                ResponseTemplate::new(200).set_body_json(answer.clone())
            })
            .with_priority(1)
            .mount(&s.server)
            .await;
    }
    let out = s.cmd(&["deploy"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            // Started, not done: the compiler runs while the push goes on.
            ("/api/deploy2/start_push".to_string(), true, false),
            // Committed only once it passed.
            ("/api/deploy2/finish_push".to_string(), true, true),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn typecheck_enable_needs_a_compiler() {
    let mut s = Scene::new().await;
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    let out = s
        .cmd(&["deploy", "--typecheck", "enable"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("No `tsc` binary found"));
    // Where the official CLI fails too: after start_push, before anything is
    // committed.
    let paths = s.paths().await;
    assert!(paths.iter().any(|p| p.ends_with("start_push")), "{paths:?}");
    assert!(
        !paths.iter().any(|p| p.ends_with("finish_push")),
        "{paths:?}"
    );
    // As the official CLI, the final generated API (naming each module) is
    // written before the missing compiler fails the deploy.
    let api = std::fs::read_to_string(s.file("convex/_generated/api.d.ts")).unwrap();
    assert!(
        api.contains("import type * as notes from \"../notes.js\";"),
        "{api}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn codegen_starts_a_push_and_stops() {
    let mut s = Scene::new().await;
    s.set(
        "CONVEX_DEPLOY_KEY",
        "dev:happy-otter-123|eyJ2MiI6ImRldi1rZXkifQ==",
    );
    let out = s.cmd(&["codegen"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        s.paths().await,
        vec![
            "POST /api/deployment/url_for_key",
            "POST /api/deployment/team_and_project_for_key",
            "POST /api/get_config_hashes",
            "POST /api/deploy2/start_push",
        ]
    );
    assert!(s.file("convex/_generated/dataModel.d.ts").exists());
    let api = std::fs::read_to_string(s.file("convex/_generated/api.d.ts")).unwrap();
    assert!(api.contains("import type * as notes from \"../notes.js\";"));
    let modified = std::fs::metadata(s.file("convex/_generated/api.d.ts"))
        .unwrap()
        .modified()
        .unwrap();

    // Unchanged files are left alone; --dry-run lists nothing then.
    let out = s.cmd(&["codegen", "--dry-run"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(s.bodies("/api/deploy2/start_push").await[1]["dryRun"], true);
    let out = s.cmd(&["codegen"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        std::fs::metadata(s.file("convex/_generated/api.d.ts"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );

    // A preview key is refused.
    let mut p = Scene::new().await;
    p.set("CONVEX_DEPLOY_KEY", PREVIEW_KEY);
    let out = p.cmd(&["codegen"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("doesn't support CONVEX_DEPLOY_KEY"));
}

/// `codegen --component-dir`: a synthetic app that uses only that component
/// is sent with `forCodegen: true`, and only that component's
/// `_generated/` is written (byte for byte what a whole-app codegen writes
/// for it), not the app's.
#[tokio::test(flavor = "multi_thread")]
async fn codegen_component_dir_generates_that_component_alone() {
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codegen/components");
    let mut s = Scene::new().await;
    support::copy_dir(&fixture.join("project"), s.project.path());
    s.set(
        "CONVEX_DEPLOY_KEY",
        "dev:happy-otter-123|eyJ2MiI6ImRldi1rZXkifQ==",
    );
    // The server's analysis recorded for this project (whole app).
    let analysis: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.join("expected/analysis.json")).unwrap(),
    )
    .unwrap();
    let mut answer = start_push_response();
    answer["analysis"] = analysis;
    s.mount_first("/api/deploy2/start_push", 1, 200, answer)
        .await;

    let out = s
        .cmd(&[
            "codegen",
            "--typecheck",
            "disable",
            "--component-dir",
            "components/notifier",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let start = &s.bodies("/api/deploy2/start_push").await[0];
    assert_eq!(start["forCodegen"], true);
    assert_eq!(start["dryRun"], false);
    let generated = "components/notifier/_generated";
    for name in ["api.ts", "server.ts", "dataModel.ts", "component.ts"] {
        let expected =
            std::fs::read_to_string(fixture.join("expected/files").join(generated).join(name))
                .unwrap();
        let written = std::fs::read_to_string(s.file(&format!("{generated}/{name}"))).unwrap();
        assert_eq!(written, expected, "{name}");
    }
    assert!(!s.file("convex/_generated").exists());
    assert!(!s.file("convex/counter/_generated").exists());

    // A folder without convex.config.ts is refused before any push.
    let out = s
        .cmd(&["codegen", "--component-dir", "convex/counter/lib"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("Only directories with convex.config.ts files are supported"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(s.bodies("/api/deploy2/start_push").await.len(), 1);
}
