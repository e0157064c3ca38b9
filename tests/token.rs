//! `convex deployment token create|delete` against a wiremock management API.

mod support;

use predicates::str::contains;

use serde_json::json;
use support::scene::{DEV_ENV_LOCAL, Scene, header, json_body};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, ResponseTemplate};

const KEY: &str = "dev:happy-otter-123|eyJ2MiI6Im5ldyJ9";

async fn mount_dev_resolution(s: &Scene) {
    Mock::given(method("GET"))
        .and(path("/api/deployment/happy-otter-123/team_and_project"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"team": "acme", "project": "rocket", "teamId": 1, "projectId": 2}),
        ))
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/deployment/authorize_within_current_project"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "deploymentName": "happy-otter-123", "adminKey": "admin", "url": s.host(),
            "deploymentType": "dev", "reference": "dev/alice", "isDefault": true
        })))
        .mount(&s.server)
        .await;
}

async fn mount_create(s: &Scene) {
    Mock::given(method("POST"))
        .and(path("/v1/deployments/happy-otter-123/create_deploy_key"))
        .and(body_json(json!({"name": "ci"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"deployKey": KEY})))
        .mount(&s.server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_prints_only_the_key_on_stdout() {
    let s = Scene::new().await;
    s.login("pat-1");
    s.write(".env.local", DEV_ENV_LOCAL);
    mount_dev_resolution(&s).await;
    mount_create(&s).await;
    let out = s
        .cmd(&["deployment", "token", "create", "ci"])
        .assert()
        .success();
    let out = out.get_output();
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{KEY}\n"));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("Created deploy key \"ci\" for happy-otter-123")
    );

    let reqs = s.requests().await;
    let paths: Vec<_> = reqs.iter().map(|r| r.url.path().to_string()).collect();
    assert_eq!(
        paths,
        [
            "/api/deployment/happy-otter-123/team_and_project",
            "/api/deployment/authorize_within_current_project",
            "/v1/deployments/happy-otter-123/create_deploy_key"
        ]
    );
    for r in &reqs {
        assert_eq!(header(r, "authorization"), Some("Bearer pat-1"));
        assert_eq!(header(r, "convex-client"), Some("npm-cli-1.48.0"));
    }
    assert_eq!(header(&reqs[0], "content-type"), None);
    assert_eq!(header(&reqs[1], "content-type"), Some("application/json"));
    assert_eq!(
        json_body(&reqs[1]),
        json!({"selectedDeploymentName": "happy-otter-123", "projectSelection": {"kind": "deploymentName", "deploymentName": "happy-otter-123", "deploymentType": "dev"}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn create_save_env_replaces_the_key_line_and_keeps_the_rest() {
    let s = Scene::new().await;
    s.login("pat-1");
    s.write(".env.local", DEV_ENV_LOCAL);
    s.write(".env.ci", "# CI\nexport CONVEX_DEPLOY_KEY=dev:old|x # rotated\nCONVEX_DEPLOY_KEY_OLD=keep\nNODE_ENV=production\n");
    mount_dev_resolution(&s).await;
    mount_create(&s).await;
    let out = s
        .cmd(&[
            "deployment",
            "token",
            "create",
            "ci",
            "--save-env",
            ".env.ci",
        ])
        .assert()
        .success();
    assert!(out.get_output().stdout.is_empty());
    assert_eq!(
        s.read(".env.ci"),
        format!(
            "# CI\nexport CONVEX_DEPLOY_KEY={KEY}\nCONVEX_DEPLOY_KEY_OLD=keep\nNODE_ENV=production\n"
        )
    );
    // Same key again: nothing changes.
    s.cmd(&[
        "deployment",
        "token",
        "create",
        "ci",
        "--save-env",
        ".env.ci",
    ])
    .assert()
    .success()
    .stderr(contains("already present in .env.ci"));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_save_env_into_a_missing_folder_fails_without_a_partial_file() {
    let s = Scene::new().await;
    s.login("pat-1");
    s.write(".env.local", DEV_ENV_LOCAL);
    mount_dev_resolution(&s).await;
    mount_create(&s).await;
    s.cmd(&[
        "deployment",
        "token",
        "create",
        "ci",
        "--save-env",
        "missing/.env",
    ])
    .assert()
    .code(1)
    .stderr(contains("No key was created"));
    assert!(!s.project.path().join("missing").exists());
    // Checked before the key is created on the server.
    let reqs = s.requests().await;
    assert!(
        !reqs
            .iter()
            .any(|r| r.url.path().ends_with("/create_deploy_key"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_send_no_request() {
    // Not logged in.
    let s = Scene::new().await;
    s.write(".env.local", DEV_ENV_LOCAL);
    s.cmd(&["deployment", "token", "create", "ci"])
        .assert()
        .code(1)
        .stderr(contains("requires being logged in"));
    // A dev key saved in .env.local outranks the account.
    let s2 = Scene::new().await;
    s2.login("pat-1");
    s2.write(
        ".env.local",
        &format!("{DEV_ENV_LOCAL}CONVEX_DEPLOY_KEY={KEY}\n"),
    );
    s2.cmd(&["deployment", "token", "delete", "ci"])
        .assert()
        .code(1)
        .stderr(contains(
            "Unset CONVEX_DEPLOY_KEY (it is set in .env.local)",
        ));
    // The alias is named when it is the one set.
    let mut s3 = Scene::new().await;
    s3.login("pat-1");
    s3.set("CONVEX_DEPLOYMENT_TOKEN", KEY);
    s3.cmd(&["deployment", "token", "create", "ci"])
        .assert()
        .code(1)
        .stderr(contains("Unset CONVEX_DEPLOYMENT_TOKEN"));
    // Self-hosted.
    let mut s4 = Scene::new().await;
    s4.login("pat-1");
    s4.set("CONVEX_SELF_HOSTED_URL", "http://127.0.0.1:1");
    s4.set("CONVEX_SELF_HOSTED_ADMIN_KEY", "k");
    s4.cmd(&["deployment", "token", "create", "ci"])
        .assert()
        .code(1)
        .stderr(contains("self-hosted"));
    // Missing-key sentinel: its message, exit 1.
    let mut s5 = Scene::new().await;
    s5.login("pat-1");
    s5.set(
        "CONVEX_DEPLOY_KEY",
        "<missing_deploy_key:Add CONVEX_DEPLOY_KEY to your CI secrets>",
    );
    s5.cmd(&["deployment", "token", "create", "ci"])
        .assert()
        .code(1)
        .stderr(contains("Add CONVEX_DEPLOY_KEY to your CI secrets"));
    // Nothing configured.
    let s6 = Scene::new().await;
    s6.login("pat-1");
    s6.cmd(&["deployment", "token", "create", "ci"])
        .assert()
        .code(1)
        .stderr(contains("No CONVEX_DEPLOYMENT set"));
    for scene in [&s, &s2, &s3, &s4, &s5, &s6] {
        assert!(scene.requests().await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_deployment_is_refused() {
    let s = Scene::new().await;
    s.login("pat-1");
    s.write(
        ".env.local",
        "CONVEX_DEPLOYMENT=anonymous:anonymous-rocket\n",
    );
    let state = s
        .convex_dir()
        .join("anonymous-convex-backend-state/anonymous-rocket");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("config.json"),
        r#"{"ports": {"cloud": 3210, "site": 3211}, "backendVersion": "v", "adminKey": "anonymous-rocket|0123"}"#,
    )
    .unwrap();
    s.cmd(&["deployment", "token", "create", "ci"])
        .assert()
        .code(1)
        .stderr(contains("an anonymous deployment"));
    assert!(s.requests().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn api_errors_are_shown_with_status_and_code() {
    let s = Scene::new().await;
    s.login("pat-1");
    s.write(".env.local", DEV_ENV_LOCAL);
    mount_dev_resolution(&s).await;
    Mock::given(method("POST"))
        .and(path("/v1/deployments/happy-otter-123/create_deploy_key"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": "Unauthenticated", "message": "Token expired"})),
        )
        .mount(&s.server)
        .await;
    s.cmd(&["deployment", "token", "create", "ci"])
        .assert()
        .code(1)
        .stderr(contains("401 Unauthorized: Unauthenticated: Token expired"));
    // Management calls are not retried on HTTP errors.
    assert_eq!(s.requests().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_access_is_explained() {
    let s = Scene::new().await;
    s.login("pat-1");
    s.write(".env.local", DEV_ENV_LOCAL);
    Mock::given(method("GET"))
        .and(path("/api/deployment/happy-otter-123/team_and_project"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": "DeploymentNotFound", "message": "nope"})),
        )
        .mount(&s.server)
        .await;
    s.cmd(&["deployment", "token", "create", "ci"])
        .assert()
        .code(1)
        .stderr(contains("don't have access"));
}

#[tokio::test(flavor = "multi_thread")]
async fn override_token_with_a_dev_key_resolves_through_the_key() {
    let mut s = Scene::new().await;
    s.set("CONVEX_OVERRIDE_ACCESS_TOKEN", "ov");
    s.set("CONVEX_DEPLOY_KEY", "dev:happy-otter-123|s");
    Mock::given(method("POST"))
        .and(path("/api/deployment/url_for_key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(s.host())))
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/deployment/team_and_project_for_key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"team": "acme", "project": "rocket", "teamId": 1, "projectId": 2, "reference": "dev/alice", "isDefault": true})))
        .mount(&s.server)
        .await;
    mount_create(&s).await;
    s.cmd(&["deployment", "token", "create", "ci"])
        .assert()
        .success();
    let reqs = s.requests().await;
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        json_body(&reqs[0]),
        json!({"deployKey": "dev:happy-otter-123|s"})
    );
    assert!(
        reqs.iter()
            .all(|r| header(r, "authorization") == Some("Bearer ov"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_by_value_sends_the_secret_and_partial_keys_are_refused() {
    let s = Scene::new().await;
    s.login("pat-1");
    s.write(".env.local", DEV_ENV_LOCAL);
    mount_dev_resolution(&s).await;
    Mock::given(method("POST"))
        .and(path("/v1/deployments/happy-otter-123/delete_deploy_key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&s.server)
        .await;
    s.cmd(&["deployment", "token", "delete", "dev:happy-otter-123|A|B"])
        .assert()
        .success()
        .stderr(contains("Deleted deploy key for happy-otter-123"));
    let reqs = s.requests().await;
    assert_eq!(json_body(reqs.last().unwrap()), json!({"id": "A|B"}));

    s.cmd(&["deployment", "token", "delete", "dev:happy-otter-123"])
        .assert()
        .code(1)
        .stderr(contains("partial deploy key"));
    let after = s.requests().await;
    // Resolution happened, no second delete.
    assert_eq!(
        after
            .iter()
            .filter(|r| r.url.path().ends_with("delete_deploy_key"))
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deployment_prod_selector_uses_authorize_prod() {
    let s = Scene::new().await;
    s.login("pat-1");
    s.write(".env.local", DEV_ENV_LOCAL);
    mount_dev_resolution(&s).await;
    Mock::given(method("POST"))
        .and(path("/api/deployment/authorize_prod"))
        .and(body_json(json!({"deploymentName": "happy-otter-123"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "deploymentName": "brave-lynx-456", "adminKey": "a", "url": s.host(), "deploymentType": "prod"
        })))
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/deployments/brave-lynx-456/create_deploy_key"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"deployKey": "prod:brave-lynx-456|x"})),
        )
        .mount(&s.server)
        .await;
    s.cmd(&[
        "deployment",
        "token",
        "create",
        "ci",
        "--deployment",
        "prod",
    ])
    .assert()
    .success()
    .stdout("prod:brave-lynx-456|x\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn reference_selector_is_url_encoded() {
    let s = Scene::new().await;
    s.login("pat-1");
    s.write(".env.local", DEV_ENV_LOCAL);
    mount_dev_resolution(&s).await;
    Mock::given(method("GET"))
        .and(path("/v1/teams/acme/projects/rocket/deployment"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "happy-otter-123"})))
        .mount(&s.server)
        .await;
    mount_create(&s).await;
    s.cmd(&[
        "deployment",
        "token",
        "create",
        "ci",
        "--deployment",
        "dev/james",
    ])
    .assert()
    .success();
    let reqs = s.requests().await;
    let lookup = reqs
        .iter()
        .find(|r| r.url.path().ends_with("/deployment"))
        .unwrap();
    assert_eq!(lookup.url.query(), Some("reference=dev%2Fjames"));
}
