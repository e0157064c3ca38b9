//! `login`, `login status`, `logout`, the command tree and forwarding.

mod support;

use predicates::str::contains;

use serde_json::json;
use support::scene::{Scene, header, json_body};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

async fn mount_exchange(s: &Scene) {
    Mock::given(method("POST"))
        .and(path("/v1/create_personal_access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"accessToken": "pat-new"})))
        .mount(&s.server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn login_with_override_token_saves_config_and_accepts_opt_ins() {
    let s = Scene::new().await;
    mount_exchange(&s).await;
    Mock::given(method("POST"))
        .and(path("/api/check_opt_ins"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"optInsToAccept": [{"optIn": {"tos": "v3"}, "message": "Accept?"}]}),
        ))
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/accept_opt_ins"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&s.server)
        .await;
    // An existing config with another key is kept.
    std::fs::create_dir_all(s.convex_dir()).unwrap();
    std::fs::write(
        s.convex_dir().join("config.json"),
        r#"{"accessToken": "", "extra": 1}"#,
    )
    .unwrap();
    s.cmd(&[
        "login",
        "--device-name",
        "ci",
        "--override-access-token",
        "idp-token",
        "--accept-opt-ins",
    ])
    .assert()
    .success()
    .stderr(contains("Saved credentials to"));
    let config = std::fs::read_to_string(s.convex_dir().join("config.json")).unwrap();
    assert_eq!(
        config,
        "{\n  \"accessToken\": \"pat-new\",\n  \"extra\": 1\n}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.convex_dir().join("config.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let reqs = s.requests().await;
    let exchange = &reqs[0];
    assert_eq!(header(exchange, "authorization"), Some("Bearer idp-token"));
    assert_eq!(
        json_body(exchange),
        json!({"name": "ci", "anonymousId": null})
    );
    assert_eq!(header(&reqs[1], "authorization"), Some("Bearer pat-new"));
    assert_eq!(json_body(&reqs[1]), json!({}));
    assert_eq!(
        json_body(&reqs[2]),
        json!({"optInsAccepted": [{"tos": "v3"}]})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn opt_in_prompt_without_a_tty_prints_the_question_on_stdout() {
    let s = Scene::new().await;
    mount_exchange(&s).await;
    Mock::given(method("POST"))
        .and(path("/api/check_opt_ins"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"optInsToAccept": [{"optIn": {"tos": "v3"}, "message": "Accept the terms?"}]}),
        ))
        .mount(&s.server)
        .await;
    s.cmd(&[
        "login",
        "--device-name",
        "ci",
        "--override-access-token",
        "idp",
    ])
    .assert()
    .code(1)
    .stdout("Accept the terms?\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn login_needs_a_device_name_without_a_tty() {
    let s = Scene::new().await;
    s.cmd(&["login", "--override-access-token", "x"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains(
            "Cannot prompt for input in non-interactive terminals. (Device name:)",
        ));
    assert!(s.requests().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn already_authorized_device_does_not_log_in_again() {
    let s = Scene::new().await;
    s.login("pat-1");
    Mock::given(method("HEAD"))
        .and(path("/api/authorize"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/check_opt_ins"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"optInsToAccept": []})))
        .mount(&s.server)
        .await;
    s.cmd(&["login"])
        .assert()
        .success()
        .stderr(contains("previously been authorized"));
    let reqs = s.requests().await;
    assert_eq!(header(&reqs[0], "authorization"), Some("Bearer pat-1"));
    assert_eq!(reqs.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn dump_access_token_prints_it_and_saves_nothing() {
    let s = Scene::new().await;
    s.cmd(&[
        "login",
        "--device-name",
        "d",
        "--override-access-token",
        "idp",
        "--dump-access-token",
    ])
    .assert()
    .success()
    .stdout("idp\n");
    assert!(!s.convex_dir().join("config.json").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn login_status_lists_teams() {
    let s = Scene::new().await;
    s.login("pat-1");
    Mock::given(method("HEAD"))
        .and(path("/api/authorize"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&s.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/teams"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": 1, "name": "Acme", "slug": "acme"}])),
        )
        .mount(&s.server)
        .await;
    s.cmd(&["login", "status"])
        .assert()
        .success()
        .stderr(contains("Status: Logged in"))
        .stderr(contains("  - Acme (acme)"));
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_removes_only_config_json() {
    let s = Scene::new().await;
    s.login("pat-1");
    std::fs::create_dir_all(s.convex_dir().join("anonymous-convex-backend-state")).unwrap();
    s.cmd(&["logout"])
        .assert()
        .success()
        .stderr(contains("logged out"));
    assert!(!s.convex_dir().join("config.json").exists());
    assert!(
        s.convex_dir()
            .join("anonymous-convex-backend-state")
            .exists()
    );
    // Again: still fine.
    s.cmd(&["logout"]).assert().success();
}

#[tokio::test(flavor = "multi_thread")]
async fn version_help_and_usage_errors() {
    let s = Scene::new().await;
    s.cmd(&["--version"]).assert().success().stdout("1.48.0\n");
    s.cmd(&["--help"])
        .assert()
        .success()
        .stdout(contains("Usage: convex <command> [options]"));
    s.cmd(&["deployment", "token", "create"])
        .assert()
        .code(1)
        .stderr(contains("missing required argument 'name'"));
    s.cmd(&["deployment", "token", "create", "a", "b"])
        .assert()
        .code(1);
    s.cmd(&["login", "--login-flow", "nope"]).assert().code(1);
    s.cmd(&["nonexistent"]).assert().code(1);
    s.cmd(&[]).assert().code(1);
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_command_without_node_modules_says_how_to_get_it() {
    // `dev --debug-node-apis` is the one forwarded flag (docs/compatibility.md).
    let s = Scene::new().await;
    s.cmd(&["dev", "--once", "--debug-node-apis"])
        .assert()
        .code(1)
        .stderr(contains("`convex dev`"))
        .stderr(contains("npm install convex"));
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_command_without_node_on_path_says_so() {
    let s = Scene::new().await;
    s.write("node_modules/convex/bin/main.js", "");
    s.cmd(&["dev", "--once", "--debug-node-apis"])
        .assert()
        .code(1)
        .stderr(contains("`node` was not found"));
}

#[tokio::test(flavor = "multi_thread")]
async fn http_proxy_is_used_for_http_targets_unless_no_proxy_matches() {
    let s = Scene::new().await;
    let proxy = wiremock::MockServer::start().await;
    for server in [&s.server, &proxy] {
        Mock::given(method("POST"))
            .and(path("/v1/create_personal_access_token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"accessToken": "p"})))
            .mount(server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/check_opt_ins"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"optInsToAccept": []})))
            .mount(server)
            .await;
    }
    let args = [
        "login",
        "--device-name",
        "d",
        "--override-access-token",
        "t",
        "--force",
    ];
    // Lower-case only: no proxy (as the official CLI).
    s.cmd(&args)
        .env("http_proxy", proxy.uri())
        .assert()
        .success();
    assert!(proxy.received_requests().await.unwrap().is_empty());
    // Upper-case: through the proxy.
    s.cmd(&args)
        .env("HTTP_PROXY", proxy.uri())
        .assert()
        .success();
    assert_eq!(proxy.received_requests().await.unwrap().len(), 2);
    // NO_PROXY covering the host: direct again.
    s.cmd(&args)
        .env("HTTP_PROXY", proxy.uri())
        .env("NO_PROXY", "127.0.0.1")
        .assert()
        .success();
    assert_eq!(proxy.received_requests().await.unwrap().len(), 2);
}
