//! Regressions found by the exploratory conformance cases
//! (tests/conformance-cases/), each checked against the official CLI.

mod support;

use support::scene::Scene;

#[tokio::test(flavor = "multi_thread")]
async fn version_flag_after_a_command_prints_the_version() {
    let s = Scene::new().await;
    for args in [
        &["deploy", "--version"][..],
        &["deployment", "token", "create", "--version"],
        &["--help", "--version"],
        &["logout", "--bogus", "-V"],
        &["--version", "extra"],
    ] {
        s.cmd(args).assert().code(0).stdout("1.48.0\n");
    }
    // After `--` it is an ordinary argument.
    s.cmd(&["dev", "--", "--version"])
        .assert()
        .code(1)
        .stdout("");
    // No request went out.
    assert!(s.requests().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn save_env_with_an_empty_path_creates_no_key() {
    let s = Scene::new().await;
    s.login("convex-pat-alice-0001");
    s.write(".env.local", "CONVEX_DEPLOYMENT=dev:happy-otter-123\n");
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(
            "/api/deployment/happy-otter-123/team_and_project",
        ))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242}),
        ))
        .mount(&s.server)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path(
            "/api/deployment/authorize_within_current_project",
        ))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "deploymentName": "happy-otter-123", "url": s.host(),
                "adminKey": "dev:happy-otter-123|admin", "deploymentType": "dev"
            })),
        )
        .mount(&s.server)
        .await;
    s.cmd(&["deployment", "token", "create", "ci", "--save-env="])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicates::str::contains("empty path"));
    let paths: Vec<String> = s
        .requests()
        .await
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert!(
        !paths.iter().any(|p| p.ends_with("create_deploy_key")),
        "{paths:?}"
    );
    assert_eq!(
        s.read(".env.local"),
        "CONVEX_DEPLOYMENT=dev:happy-otter-123\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn help_wins_over_unknown_options_and_values_may_start_with_a_dash() {
    let s = Scene::new().await;
    // The help of the named subcommand, on stdout, exit 0.
    s.cmd(&["deployment", "token", "create", "--bogus", "--help"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("--save-env"));
    // Without --help the unknown option stays a usage error.
    s.cmd(&["deployment", "token", "create", "ci", "--bogus"])
        .assert()
        .code(1)
        .stdout("");
    // `help help` is no command.
    s.cmd(&["help", "help"]).assert().code(1).stdout("");
    // `--deployment -prod` is a value: the command goes on to its login check.
    s.cmd(&[
        "deployment",
        "token",
        "create",
        "ci",
        "--deployment",
        "-prod",
    ])
    .assert()
    .code(1)
    .stderr(predicates::str::contains("logged in"));
    assert!(s.requests().await.is_empty());
}
