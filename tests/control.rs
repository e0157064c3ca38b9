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
