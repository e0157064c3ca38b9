//! The native control-plane commands: `dashboard`, `docs`, `update`, `auth`,
//! `ai-files`, `typecheck`, `integration`, `network-test`, against wiremock,
//! with a `node` on PATH that refuses to run (only `typecheck` may start
//! Node: its job is to run the project's TypeScript compiler).

mod support;

use predicates::prelude::*;
use serde_json::json;
use support::scene::{DEV_ENV_LOCAL, Scene, header};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// A folder whose `node` prints a marker and exits 99, to put first on PATH.
fn refusing_node() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("node");
    std::fs::write(&script, "#!/bin/sh\necho NODE-WAS-STARTED >&2\nexit 99\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

/// `Scene::cmd` with the refusing `node` first on PATH.
fn cmd(s: &Scene, node: &tempfile::TempDir, args: &[&str]) -> assert_cmd::Command {
    let mut c = s.cmd(args);
    c.env("PATH", node.path());
    c
}

async fn mount_dev_deployment(s: &Scene) {
    Mock::given(method("GET"))
        .and(path("/api/deployment/happy-otter-123/team_and_project"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242}),
        ))
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/deployment/authorize_within_current_project"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "deploymentName": "happy-otter-123", "url": s.host(),
            "adminKey": "dev:happy-otter-123|admin", "deploymentType": "dev"
        })))
        .mount(&s.server)
        .await;
}

fn no_node() -> impl Predicate<str> {
    predicate::str::contains("NODE-WAS-STARTED").not()
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_no_open_prints_the_deployment_page() {
    let s = Scene::new().await;
    let node = refusing_node();
    s.login("convex-pat-alice-0001");
    s.write(".env.local", DEV_ENV_LOCAL);
    mount_dev_deployment(&s).await;
    for name in ["dashboard", "dash"] {
        cmd(&s, &node, &[name, "--no-open"])
            .assert()
            .code(0)
            .stdout("http://localhost:6789/d/happy-otter-123\n")
            .stderr(no_node());
    }
    let requests = s.requests().await;
    assert_eq!(requests.len(), 4);
    assert_eq!(
        header(&requests[0], "authorization"),
        Some("Bearer convex-pat-alice-0001")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_without_a_display_shows_the_url_on_stderr() {
    let s = Scene::new().await;
    let node = refusing_node();
    s.login("convex-pat-alice-0001");
    s.write(".env.local", DEV_ENV_LOCAL);
    mount_dev_deployment(&s).await;
    cmd(&s, &node, &["dashboard"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains("/d/happy-otter-123").and(no_node()));
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_fails_when_the_deployment_lookup_fails() {
    let s = Scene::new().await;
    let node = refusing_node();
    s.login("convex-pat-alice-0001");
    s.write(".env.local", DEV_ENV_LOCAL);
    Mock::given(method("GET"))
        .and(path("/api/deployment/happy-otter-123/team_and_project"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(
                json!({"code": "DeploymentNotFound", "message": "No such deployment"}),
            ),
        )
        .mount(&s.server)
        .await;
    cmd(&s, &node, &["dashboard", "--no-open"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("have access").and(no_node()));
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_for_self_hosted_says_there_is_no_page() {
    let mut s = Scene::new().await;
    let node = refusing_node();
    let host = s.host();
    s.set("CONVEX_SELF_HOSTED_URL", &host);
    s.set("CONVEX_SELF_HOSTED_ADMIN_KEY", "self|key");
    cmd(&s, &node, &["dashboard", "--no-open"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains("self-hosted").and(no_node()));
    assert!(s.requests().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_for_an_anonymous_deployment_checks_its_local_dashboard() {
    let s = Scene::new().await;
    let node = refusing_node();
    let port = s.server.address().port();
    s.write(
        ".env.local",
        "CONVEX_DEPLOYMENT=anonymous:anonymous-rocket\n",
    );
    s.write(
        ".convex/local/default/config.json",
        &format!(
            "{{\"ports\":{{\"cloud\":{port},\"site\":3211}},\"backendVersion\":\"v1\",\"adminKey\":\"anonymous-rocket|abc\",\"instanceSecret\":\"ab\"}}"
        ),
    );
    // No saved dashboard: a warning, exit 0, nothing on stdout.
    cmd(&s, &node, &["dashboard", "--no-open"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains("npx convex dev"));
    s.write(
        ".convex/local/default/dashboard.json",
        &format!("{{\"port\": {port}}}"),
    );
    // Saved, but serving another deployment.
    Mock::given(method("GET"))
        .and(path("/api/current_deployment"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "anonymous-other"})))
        .up_to_n_times(1)
        .mount(&s.server)
        .await;
    cmd(&s, &node, &["dashboard", "--no-open"])
        .assert()
        .code(0)
        .stdout("");
    Mock::given(method("GET"))
        .and(path("/api/current_deployment"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "anonymous-rocket"})))
        .mount(&s.server)
        .await;
    cmd(&s, &node, &["dashboard", "--no-open"])
        .assert()
        .code(0)
        .stdout(format!("http://127.0.0.1:{port}/\n"))
        .stderr(no_node());
}

#[tokio::test(flavor = "multi_thread")]
async fn docs_update_and_auth_need_no_project_and_no_node() {
    let s = Scene::new().await;
    let node = refusing_node();
    cmd(&s, &node, &["docs", "--no-open"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(
            predicate::str::contains("https://docs.convex.dev/?utm_source=convex-cli")
                .and(no_node()),
        );
    cmd(&s, &node, &["docs"])
        .env("DISPLAY", "")
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains(
            "https://docs.convex.dev/?utm_source=convex-cli",
        ));
    cmd(&s, &node, &["update"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains("npm install convex@latest").and(no_node()));
    for sub in ["list", "remove", "add"] {
        cmd(&s, &node, &["auth", sub])
            .assert()
            .code(1)
            .stdout("")
            .stderr(predicate::str::contains("https://docs.convex.dev/auth").and(no_node()));
    }
    cmd(&s, &node, &["update", "extra"]).assert().code(1);
    cmd(&s, &node, &["docs", "extra"]).assert().code(1);
    assert!(s.requests().await.is_empty());
}

/// The folder of the real `node` on the test's PATH.
fn real_node_dir() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|dir| dir.join("node").is_file())
}

const STAND_IN_TSC: &str = r#"const fs = require("fs");
const args = process.argv.slice(2);
fs.appendFileSync("tsc-invocations.log", JSON.stringify(args) + "\n");
if (args.includes("--version")) { console.log("Version 5.6.3"); process.exit(0); }
if (fs.existsSync("convex/bad.ts")) {
  if (args.includes("--listFiles")) process.exit(2);
  console.log("convex/bad.ts:1:1 - error TS1: broken");
  process.exit(2);
}
process.exit(0);
"#;

fn typecheck_project(s: &Scene) {
    s.write(
        "package.json",
        r#"{"name": "app", "dependencies": {"convex": "^1.48.0"}}"#,
    );
    s.write("convex/tsconfig.json", "{}");
    s.write("convex/ok.ts", "export const x = 1;\n");
    s.write(
        "node_modules/typescript/package.json",
        r#"{"name": "typescript", "version": "5.6.3"}"#,
    );
    s.write("node_modules/typescript/bin/tsc", STAND_IN_TSC);
}

#[tokio::test(flavor = "multi_thread")]
async fn typecheck_runs_the_project_compiler_as_the_official_command() {
    let Some(node_dir) = real_node_dir() else {
        eprintln!("skipping: no node on PATH");
        return;
    };
    let s = Scene::new().await;
    typecheck_project(&s);
    let run = |s: &Scene| {
        let mut c = s.cmd(&["typecheck"]);
        c.env("PATH", &node_dir);
        c
    };
    run(&s)
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains("Typecheck passed"));
    assert_eq!(
        s.read("tsc-invocations.log"),
        "[\"--version\"]\n[\"--project\",\"convex/\",\"--listFiles\"]\n"
    );
    std::fs::remove_file(s.project.path().join("tsc-invocations.log")).unwrap();
    s.write("convex/bad.ts", "export const y = 2;\n");
    run(&s).assert().code(1).stdout("").stderr(
        predicate::str::contains("error TS1: broken").and(predicate::str::contains("failed")),
    );
    assert_eq!(
        s.read("tsc-invocations.log"),
        "[\"--version\"]\n[\"--project\",\"convex/\",\"--listFiles\"]\n[\"--project\",\"convex/\",\"--pretty\",\"true\"]\n"
    );
    // `--typescript-compiler tsgo` without the package: a clear failure.
    run(&s)
        .args(["--typescript-compiler", "tsgo"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("@typescript/native-preview"));
    assert!(s.requests().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn typecheck_failures_before_the_compiler() {
    let s = Scene::new().await;
    let node = refusing_node();
    typecheck_project(&s);
    std::fs::remove_file(s.project.path().join("convex/tsconfig.json")).unwrap();
    cmd(&s, &node, &["typecheck"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("tsconfig.json").and(no_node()));
    assert!(!s.project.path().join("tsc-invocations.log").exists());
    s.write("package.json", r#"{"name": "app", "dependencies": {}}"#);
    cmd(&s, &node, &["typecheck"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("add `convex`"));
    // Node itself refusing to run is reported, not hidden.
    s.write(
        "package.json",
        r#"{"name": "app", "dependencies": {"convex": "^1.48.0"}}"#,
    );
    s.write("convex/tsconfig.json", "{}");
    cmd(&s, &node, &["typecheck"]).assert().code(1);
}

async fn ai_scene() -> Scene {
    let mut s = Scene::new().await;
    let host = s.host();
    s.set("CONVEX_VERSION_API_ORIGIN", &host);
    s
}

async fn mount_guidelines(s: &Scene, status: u16) {
    Mock::given(method("GET"))
        .and(path("/v1/guidelines"))
        .respond_with(ResponseTemplate::new(status).set_body_string("# Guidelines\n"))
        .mount(&s.server)
        .await;
}

const NO_SKILLS: &str = r#"{"aiFiles": {"skills": {"agents": []}}}"#;

#[tokio::test(flavor = "multi_thread")]
async fn ai_files_install_writes_the_files_and_keeps_the_users_text() {
    let s = ai_scene().await;
    let node = refusing_node();
    mount_guidelines(&s, 200).await;
    s.write("convex.json", NO_SKILLS);
    s.write("AGENTS.md", "# Team notes\n\nRun the tests.\n\n\n");
    s.write(".cursor/rules/convex_rules.mdc", "old");
    cmd(&s, &node, &["ai-files", "install"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains("Convex AI files installed.").and(no_node()));
    assert_eq!(
        s.read("convex/_generated/ai/guidelines.md"),
        "# Guidelines\n"
    );
    let agents = s.read("AGENTS.md");
    assert!(agents.starts_with("# Team notes\n\nRun the tests.\n\n<!-- convex-ai-start -->\n\n"));
    assert!(agents.ends_with("<!-- convex-ai-end -->\n"));
    assert!(agents.contains("`convex/_generated/ai/guidelines.md`"));
    let claude = s.read("CLAUDE.md");
    assert!(claude.starts_with("<!-- convex-ai-start -->"));
    let state: serde_json::Value =
        serde_json::from_str(&s.read("convex/_generated/ai/ai-files.state.json")).unwrap();
    // sha256 of "# Guidelines\n"
    assert_eq!(
        state["guidelinesHash"],
        "42dc8524704d836b77ca9941f1090eeec35437ffd96a95a81ad08c320e8c6e82"
    );
    assert_eq!(state["agentSkillsSha"], serde_json::Value::Null);
    assert_eq!(state["agentsMdSectionHash"], state["claudeMdHash"]);
    assert!(
        !s.project
            .path()
            .join(".cursor/rules/convex_rules.mdc")
            .exists()
    );
    // A second install changes nothing.
    let before = s.read("AGENTS.md");
    cmd(&s, &node, &["ai-files", "update"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("updated"));
    assert_eq!(s.read("AGENTS.md"), before);
    // Remove: the section goes, the user's text stays, CLAUDE.md (only the
    // section) and the ai folder are deleted.
    Mock::given(method("GET"))
        .and(path("/v1/agent_skills"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"latestRepoSha": null, "skills": []})),
        )
        .mount(&s.server)
        .await;
    cmd(&s, &node, &["ai-files", "remove"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("removed").and(no_node()));
    assert_eq!(s.read("AGENTS.md"), "# Team notes\n\nRun the tests.\n");
    assert!(!s.project.path().join("CLAUDE.md").exists());
    assert!(!s.project.path().join("convex/_generated/ai").exists());
    let paths: Vec<String> = s
        .requests()
        .await
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        paths,
        ["/v1/guidelines", "/v1/guidelines", "/v1/agent_skills"]
    );
    for r in s.requests().await {
        assert_eq!(header(&r, "convex-client"), Some("npm-cli-1.48.0"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ai_files_install_failures_write_what_they_can() {
    let s = ai_scene().await;
    let node = refusing_node();
    mount_guidelines(&s, 500).await;
    s.write("convex.json", NO_SKILLS);
    cmd(&s, &node, &["ai-files", "install"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("guidelines").and(no_node()));
    assert!(
        !s.project
            .path()
            .join("convex/_generated/ai/guidelines.md")
            .exists()
    );
    assert!(s.read("AGENTS.md").contains("<!-- convex-ai-start -->"));
    let state = s.read("convex/_generated/ai/ai-files.state.json");
    assert!(state.contains("\"guidelinesHash\": null"), "{state}");

    // Default agents: the skills step needs npx, which is not there (only a
    // refusing node is): it fails with a message, the rest is written.
    let s = ai_scene().await;
    mount_guidelines(&s, 200).await;
    s.write("package.json", r#"{"dependencies": {"convex": "^1.48.0"}}"#);
    cmd(&s, &node, &["ai-files", "install"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("agent skills").and(no_node()));
    assert_eq!(
        s.read("convex/_generated/ai/guidelines.md"),
        "# Guidelines\n"
    );

    // Remove without the skills catalog removes nothing.
    let s = ai_scene().await;
    s.write("convex.json", NO_SKILLS);
    s.write(
        "AGENTS.md",
        "<!-- convex-ai-start -->\nx\n<!-- convex-ai-end -->\n",
    );
    cmd(&s, &node, &["ai-files", "remove"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nothing was removed"));
    assert!(s.project.path().join("AGENTS.md").exists());

    // An invalid convex.json stops every subcommand before any request.
    s.write("convex.json", r#"{"aiFiles": {"enabled": "yes"}}"#);
    for sub in ["install", "status", "disable", "enable", "remove", "update"] {
        cmd(&s, &node, &["ai-files", sub]).assert().code(1);
    }
    assert_eq!(s.read("convex.json"), r#"{"aiFiles": {"enabled": "yes"}}"#);
}

#[tokio::test(flavor = "multi_thread")]
async fn ai_files_enable_disable_and_status() {
    let s = ai_scene().await;
    let node = refusing_node();
    mount_guidelines(&s, 200).await;
    s.write(
        "convex.json",
        r#"{"functions": "convex/", "aiFiles": {"disableStalenessMessage": true, "skills": {"agents": []}}}"#,
    );
    cmd(&s, &node, &["ai-files", "status"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("disabled").and(no_node()));
    cmd(&s, &node, &["ai-files", "enable"]).assert().code(0);
    assert_eq!(
        s.read("convex.json"),
        "{\n  \"$schema\": \"node_modules/convex/schemas/convex.schema.json\",\n  \"functions\": \"convex/\",\n  \"aiFiles\": {\n    \"skills\": {\n      \"agents\": []\n    },\n    \"enabled\": true\n  }\n}\n"
    );
    Mock::given(method("GET"))
        .and(path("/v1/version"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"message": null})))
        .mount(&s.server)
        .await;
    cmd(&s, &node, &["ai-files", "status"])
        .assert()
        .code(0)
        .stderr(
            predicate::str::contains("enabled").and(predicate::str::contains(
                "AGENTS.md: Convex section present",
            )),
        );
    cmd(&s, &node, &["ai-files", "disable"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("disabled"));
    assert!(s.read("convex.json").contains("\"enabled\": false"));
    // Files stay after disable.
    assert!(
        s.project
            .path()
            .join("convex/_generated/ai/guidelines.md")
            .exists()
    );
    cmd(&s, &node, &["ai-files"]).assert().code(1);
    cmd(&s, &node, &["ai-files", "help"]).assert().code(1);
}

async fn mount_json(s: &Scene, verb: &str, p: &str, status: u16, body: serde_json::Value) {
    Mock::given(method(verb))
        .and(path(p))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&s.server)
        .await;
}

async fn integration_scene() -> Scene {
    let s = Scene::new().await;
    s.login("convex-pat-alice-0001");
    s.write(".env.local", DEV_ENV_LOCAL);
    mount_dev_deployment(&s).await;
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn integration_workos_status_and_project_environments() {
    let s = integration_scene().await;
    let node = refusing_node();
    mount_json(&s, "GET", "/api/teams/17/workos_team_health", 200,
        json!({"teamProvisioned": true, "teamInfo": {"name": "Acme WorkOS", "productionState": "active"}})).await;
    mount_json(
        &s,
        "GET",
        "/api/deployments/happy-otter-123/workos_environment_health",
        404,
        json!({"code": "WorkOSEnvironmentNotProvisioned", "message": "none"}),
    )
    .await;
    s.write(
        "convex.json",
        r#"{"authKit": {"dev": {"configure": false}}}"#,
    );
    cmd(&s, &node, &["integration", "workos", "status"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(
            predicate::str::contains("WorkOS team: Acme WorkOS")
                .and(predicate::str::contains(
                    "WorkOS environment: Not provisioned",
                ))
                .and(predicate::str::contains("dev: configure: disabled"))
                .and(no_node()),
        );

    mount_json(&s, "GET", "/api/projects/4242/workos_environments", 200,
        json!({"environments": [{"userEnvironmentName": "staging", "workosClientId": "client_s", "isProduction": false}]})).await;
    cmd(
        &s,
        &node,
        &["integration", "workos", "list-project-environments"],
    )
    .assert()
    .code(0)
    .stderr(predicate::str::contains("staging - Client ID: client_s"));

    mount_json(&s, "POST", "/api/projects/4242/workos_environments", 200,
        json!({"userEnvironmentName": "live", "workosClientId": "client_l", "workosApiKey": "sk_live"})).await;
    cmd(
        &s,
        &node,
        &[
            "integration",
            "workos",
            "create-project-environment",
            "--name",
            "live",
            "--production",
        ],
    )
    .assert()
    .code(0)
    .stderr(predicate::str::contains("API Key: sk_live"));
    let requests = s.requests().await;
    let create = requests
        .iter()
        .find(|r| {
            r.method.as_str() == "POST" && r.url.path() == "/api/projects/4242/workos_environments"
        })
        .unwrap();
    assert_eq!(
        support::scene::json_body(create),
        json!({"environmentName": "live", "isProduction": true})
    );

    // Deleting asks first: without a terminal the question goes to stdout
    // and nothing is deleted.
    cmd(
        &s,
        &node,
        &[
            "integration",
            "workos",
            "delete-project-environment",
            "--client-id",
            "client_s",
        ],
    )
    .assert()
    .code(1)
    .stdout(predicate::str::contains("client_s"));
    assert!(
        !s.requests()
            .await
            .iter()
            .any(|r| r.url.path().ends_with("delete_project_environment"))
    );
    // A required flag missing is a usage error, before any request.
    let before = s.requests().await.len();
    cmd(
        &s,
        &node,
        &["integration", "workos", "create-project-environment"],
    )
    .assert()
    .code(1);
    assert_eq!(s.requests().await.len(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn integration_workos_team_commands() {
    let s = integration_scene().await;
    let node = refusing_node();
    Mock::given(method("POST"))
        .and(path("/api/workos/has_associated_workos_team"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"hasAssociatedWorkosTeam": true, "teamId": 17})),
        )
        .up_to_n_times(1)
        .mount(&s.server)
        .await;
    cmd(&s, &node, &["integration", "workos", "provision-team"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("already has").and(no_node()));
    mount_json(
        &s,
        "POST",
        "/api/workos/has_associated_workos_team",
        200,
        json!({"hasAssociatedWorkosTeam": false, "teamId": 17}),
    )
    .await;
    cmd(&s, &node, &["integration", "workos", "provision-team"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("Create a WorkOS team"))
        .stderr(predicate::str::contains("terminal"));
    assert!(
        !s.requests()
            .await
            .iter()
            .any(|r| r.url.path().ends_with("provision_associated_workos_team"))
    );

    mount_json(
        &s,
        "POST",
        "/api/workos/invite_team_member",
        400,
        json!({"code": "WorkosUserAlreadyInvited", "message": "Already invited"}),
    )
    .await;
    cmd(
        &s,
        &node,
        &["integration", "workos", "invite", "--email", "bob@acme.dev"],
    )
    .assert()
    .code(0)
    .stderr(predicate::str::contains("Already invited"));
    let invite = s
        .requests()
        .await
        .into_iter()
        .find(|r| r.url.path() == "/api/workos/invite_team_member")
        .unwrap();
    assert_eq!(
        support::scene::json_body(&invite),
        json!({"teamId": 17, "email": "bob@acme.dev"})
    );

    // A self-hosted deployment has no WorkOS integration.
    let mut s = Scene::new().await;
    let host = s.host();
    s.set("CONVEX_SELF_HOSTED_URL", &host);
    s.set("CONVEX_SELF_HOSTED_ADMIN_KEY", "self|key");
    cmd(&s, &node, &["integration", "workos", "status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("self-hosted"));
}

mod network_test {
    use super::*;
    use support::fake_convex::{FakeConvex, Route, SyncScript};

    fn run(fake: &FakeConvex, node: &tempfile::TempDir, args: &[&str]) -> assert_cmd::Command {
        let home = tempfile::tempdir().unwrap();
        let mut c = assert_cmd::Command::cargo_bin("convex").unwrap();
        c.env_clear()
            .current_dir(home.path())
            .env("HOME", home.path())
            .env("PATH", node.path())
            .env("CONVEX_PROVISION_HOST", fake.url())
            .env("NO_COLOR", "1")
            .arg("network-test")
            .args(args);
        std::mem::forget(home);
        c
    }

    async fn fake_deployment() -> FakeConvex {
        let fake = FakeConvex::start().await;
        fake.route(Route::new("GET", "/instance_name", json!(null)).raw("happy-otter-123"));
        fake.route(Route::new("POST", "/echo", json!(null)).echo());
        fake
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn passes_every_step_against_a_working_deployment() {
        let fake = fake_deployment().await;
        let node = refusing_node();
        fake.sync(
            SyncScript::default().query("_system/cli/convexUrl:cloudUrl", vec![json!(fake.url())]),
        );
        let url = fake.url();
        run(
            &fake,
            &node,
            &["--url", &url, "--admin-key", "dev:happy-otter-123|key"],
        )
        .assert()
        .code(0)
        .stdout("")
        .stderr(
            predicate::str::contains("OK: DNS lookup => 127.0.0.1:ipv4")
                .and(predicate::str::contains("OK: TCP connect"))
                .and(predicate::str::contains("OK: HTTP check"))
                .and(predicate::str::contains(
                    "OK: WebSocket connection established.",
                ))
                .and(predicate::str::contains("OK: echo 128 bytes"))
                .and(predicate::str::contains("OK: echo 4 MiB"))
                .and(predicate::str::contains("Network test passed."))
                .and(no_node()),
        );
        let echoes = fake.requests_to("/echo");
        assert_eq!(echoes.len(), 2);
        // Bare requests: no header of ours.
        for r in echoes
            .iter()
            .chain(fake.requests_to("/instance_name").iter())
        {
            assert!(r.header("authorization").is_none(), "{r:?}");
            assert!(r.header("convex-client").is_none(), "{r:?}");
            assert!(r.header("content-type").is_none(), "{r:?}");
        }
        let types: Vec<String> = fake
            .ws_messages()
            .iter()
            .map(|m| m["type"].as_str().unwrap_or("").to_string())
            .collect();
        // The subscription is left open, as the official CLI leaves it.
        assert_eq!(types, ["Connect", "Authenticate", "ModifyQuerySet"]);
        assert_eq!(fake.ws_messages()[1]["value"], "dev:happy-otter-123|key");
        // No management request with --url.
        assert!(
            fake.log()
                .iter()
                .all(|l| !l.path.starts_with("/api/deployment"))
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn url_alone_skips_the_websocket_and_failures_stop_the_test() {
        let fake = fake_deployment().await;
        let node = refusing_node();
        let url = fake.url();
        run(&fake, &node, &["--url", &url])
            .assert()
            .code(0)
            .stderr(predicate::str::contains("Skipping the WebSocket check"));
        assert!(fake.ws_messages().is_empty());

        // A query that throws fails the WebSocket step; nothing is echoed.
        let fake = fake_deployment().await;
        fake.sync(
            SyncScript::default().error("_system/cli/convexUrl:cloudUrl", "no such function"),
        );
        let url = fake.url();
        run(&fake, &node, &["--url", &url, "--admin-key", "k"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "FAIL: Failed to connect to deployment over WebSocket",
            ));
        assert!(fake.requests_to("/echo").is_empty());

        // An echo that does not come back unchanged.
        let fake = FakeConvex::start().await;
        fake.route(Route::new("GET", "/instance_name", json!(null)).raw("x"));
        fake.route(Route::new("POST", "/echo", json!(null)).raw("not the same"));
        let url = fake.url();
        run(&fake, &node, &["--url", &url])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "FAIL: echo 128 bytes (Error: Response data mismatch)",
            ));

        // /instance_name refused.
        let fake = FakeConvex::start().await;
        fake.route(
            Route::new(
                "GET",
                "/instance_name",
                json!({"code": "Forbidden", "message": "no"}),
            )
            .status(403),
        );
        let url = fake.url();
        run(&fake, &node, &["--url", &url])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("FAIL: HTTP check"));

        // A timeout that is not a number: nothing is sent.
        let fake = FakeConvex::start().await;
        let url = fake.url();
        run(&fake, &node, &["--url", &url, "--timeout", "soon"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("--timeout"));
        assert!(fake.log().is_empty());
    }
}
