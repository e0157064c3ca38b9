//! `deployment select|create|usage|usage-limits`, `project create`,
//! `deployments`, `reinit`, `init` and `login --link-deployments` against a
//! wiremock management API / deployment, run as the real binary with a
//! `node` on PATH that refuses to run (so none of them starts Node).

mod support;

use serde_json::{Value, json};
use support::scene::{DEV_ENV_LOCAL, Scene, json_body};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const PACKAGE_JSON: &str = r#"{"name": "app", "dependencies": {"convex": "1.48.0"}}"#;
const DEV_KEY: &str = "dev:happy-otter-123|eyJ2MiI6ImRldi1rZXkifQ==";

/// A scene logged in as alice, in a project configured for happy-otter-123.
async fn scene() -> Scene {
    let s = Scene::new().await;
    s.login("convex-pat-alice-0001");
    s.write("package.json", PACKAGE_JSON);
    s.write(".env.local", DEV_ENV_LOCAL);
    s
}

/// The command, with a `node` first on PATH that fails loudly (exit 99).
fn cmd(s: &Scene, args: &[&str]) -> assert_cmd::Command {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut cmd = s.cmd(args);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let bin = s.home.path().join("refusing-node-bin");
        std::fs::create_dir_all(&bin).unwrap();
        let node = bin.join("node");
        std::fs::write(&node, "#!/bin/sh\necho 'node must not run' >&2\nexit 99\n").unwrap();
        std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o755)).unwrap();
        cmd.env("PATH", &bin);
    }
    cmd
}

async fn mount(s: &Scene, m: &str, p: &str, status: u16, body: Value) {
    Mock::given(method(m))
        .and(path(p))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&s.server)
        .await;
}

async fn paths(s: &Scene) -> Vec<String> {
    s.requests()
        .await
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

fn deployment_record(name: &str, kind: &str, reference: &str) -> Value {
    json!({
        "id": 9100, "name": name, "deploymentType": kind, "projectId": 4242,
        "createTime": 1700000000000u64, "creator": 1, "kind": "cloud",
        "previewIdentifier": null, "region": "aws-us-east-1", "reference": reference,
        "isDefault": false, "deploymentUrl": format!("https://{name}.convex.cloud"),
    })
}

/// The routes `deployment select dev/bob` goes through, with the selected
/// deployment answering at the mock.
async fn mount_select_routes(s: &Scene, kind: &str) {
    mount(
        s,
        "GET",
        "/api/deployment/happy-otter-123/team_and_project",
        200,
        json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242}),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/v1/teams/acme/projects/rocket/deployment"))
        .and(query_param("reference", "dev/bob"))
        .respond_with(ResponseTemplate::new(200).set_body_json(deployment_record(
            "clever-fox-321",
            kind,
            "dev/bob",
        )))
        .mount(&s.server)
        .await;
    mount(
        s,
        "POST",
        "/api/deployment/authorize_within_current_project",
        200,
        json!({"deploymentName": "clever-fox-321", "url": s.host(),
               "adminKey": format!("{kind}:clever-fox-321|admin"), "deploymentType": kind,
               "reference": "dev/bob", "isDefault": false}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn select_rewrites_the_deployment_and_url_lines_and_keeps_the_rest() {
    let s = scene().await;
    s.write(
        ".env.local",
        &format!("FOO=1\n{DEV_ENV_LOCAL}CONVEX_SITE_URL=https://happy-otter-123.convex.site\n# mine\nBAR=\"two words\"\n"),
    );
    mount_select_routes(&s, "dev").await;
    mount(
        &s,
        "GET",
        "/api/v1/get_canonical_urls",
        200,
        json!({"convexCloudUrl": "https://clever-fox-321.convex.cloud",
               "convexSiteUrl": "https://clever-fox-321.convex.site"}),
    )
    .await;
    cmd(&s, &["deployment", "select", "dev/bob"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicates::str::contains("Selected deployment:"));
    assert_eq!(
        s.read(".env.local"),
        "FOO=1\n# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=dev:clever-fox-321 # team: acme, project: rocket\n\nCONVEX_URL=https://clever-fox-321.convex.cloud\nCONVEX_SITE_URL=https://clever-fox-321.convex.site\n# mine\nBAR=\"two words\"\n"
    );
    let requests = s.requests().await;
    let authorize = requests
        .iter()
        .find(|r| r.url.path() == "/api/deployment/authorize_within_current_project")
        .unwrap();
    assert_eq!(
        json_body(authorize),
        json!({"selectedDeploymentName": "clever-fox-321",
               "projectSelection": {"kind": "deploymentName", "deploymentName": "happy-otter-123", "deploymentType": "dev"}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn select_refuses_production_and_leaves_the_file_alone() {
    let s = scene().await;
    mount_select_routes(&s, "prod").await;
    cmd(&s, &["deployment", "select", "dev/bob"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicates::str::contains("--deployment dev/bob"));
    assert_eq!(s.read(".env.local"), DEV_ENV_LOCAL);
    assert!(!s.project.path().join(".gitignore").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn select_writes_nothing_when_a_later_step_fails() {
    let s = scene().await;
    mount_select_routes(&s, "dev").await;
    mount(
        &s,
        "GET",
        "/api/v1/get_canonical_urls",
        401,
        json!({"code": "BadAdminKey", "message": "bad key"}),
    )
    .await;
    cmd(&s, &["deployment", "select", "dev/bob"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("bad key"));
    assert_eq!(s.read(".env.local"), DEV_ENV_LOCAL);

    // A reference that does not exist: the message says how to create it.
    let s = scene().await;
    mount(
        &s,
        "GET",
        "/api/deployment/happy-otter-123/team_and_project",
        200,
        json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242}),
    )
    .await;
    mount(
        &s,
        "GET",
        "/v1/teams/acme/projects/rocket/deployment",
        404,
        json!({"code": "DeploymentNotFound", "message": "no"}),
    )
    .await;
    cmd(&s, &["deployment", "select", "staging"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "npx convex deployment create acme:rocket:staging --select",
        ));
    assert_eq!(s.read(".env.local"), DEV_ENV_LOCAL);
}

#[tokio::test(flavor = "multi_thread")]
async fn select_without_a_project_or_local_deployment_fails_before_any_request() {
    let mut s = scene().await;
    std::fs::remove_file(s.project.path().join(".env.local")).unwrap();
    s.set("CONVEX_ALLOW_ANONYMOUS", "false");
    cmd(&s, &["deployment", "select", "dev/bob"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("No project configured"));
    cmd(&s, &["deployment", "select", "local"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "npx convex deployment create local",
        ));
    assert!(s.requests().await.is_empty());
    assert!(!s.project.path().join(".env.local").exists());
}

async fn mount_project_lookup(s: &Scene) {
    mount(
        s,
        "GET",
        "/v1/deployments/happy-otter-123",
        200,
        deployment_record("happy-otter-123", "dev", "dev/alice"),
    )
    .await;
    mount(
        s,
        "GET",
        "/v1/projects/4242",
        200,
        json!({"id": 4242, "name": "Rocket", "slug": "rocket", "teamId": 17, "teamSlug": "acme"}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_sends_the_official_body_and_prints_the_select_hint() {
    let s = scene().await;
    mount_project_lookup(&s).await;
    mount(
        &s,
        "GET",
        "/v1/teams/17/list_deployment_regions",
        200,
        json!({"items": [{"name": "aws-eu-west-1", "displayName": "EU West", "available": true}]}),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/v1/projects/4242/create_deployment"))
        .and(body_json(json!({"type": "dev", "region": "aws-eu-west-1",
                              "reference": "dev/feature", "isDefault": true, "expiresAt": null})))
        .respond_with(ResponseTemplate::new(200).set_body_json(deployment_record(
            "swift-panda-555",
            "dev",
            "dev/feature",
        )))
        .mount(&s.server)
        .await;
    cmd(
        &s,
        &[
            "deployment",
            "create",
            "dev/feature",
            "--type",
            "dev",
            "--region",
            "eu",
            "--default",
            "--expiration",
            "none",
        ],
    )
    .assert()
    .code(0)
    .stdout("")
    .stderr(predicates::str::contains(
        "npx convex deployment select acme:rocket:dev/feature",
    ));
    assert_eq!(s.read(".env.local"), DEV_ENV_LOCAL);
    assert!(
        paths(&s)
            .await
            .contains(&"POST /v1/projects/4242/create_deployment".to_string())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn create_refuses_bad_input_before_creating_anything() {
    let s = scene().await;
    mount_project_lookup(&s).await;
    for (args, message) in [
        (
            &["deployment", "create", "happy-otter-999", "--type", "dev"][..],
            "not a valid deployment reference",
        ),
        (
            &["deployment", "create", "dev", "--type", "dev"],
            "reserved",
        ),
        (&["deployment", "create", "staging"], "--type is required"),
        (
            &["deployment", "create", "--type", "prod"],
            "Specify a deployment ref or use --default",
        ),
        (
            &[
                "deployment",
                "create",
                "x/y",
                "--type",
                "dev",
                "--expiration",
                "soon",
            ],
            "Invalid expiration format",
        ),
        (
            &[
                "deployment",
                "create",
                "x/y",
                "--type",
                "dev",
                "--expiration",
                "in 5 minutes",
            ],
            "at least 30 minutes",
        ),
        (
            &["deployment", "create", "local", "--type", "dev"],
            "--type cannot be used when creating a local deployment",
        ),
        (
            &["deployment", "create", "rocket:local"],
            "team:project:local",
        ),
    ] {
        cmd(&s, args)
            .assert()
            .code(1)
            .stdout("")
            .stderr(predicates::str::contains(message));
    }
    assert!(
        !paths(&s)
            .await
            .iter()
            .any(|p| p.contains("create_deployment")),
        "{:?}",
        paths(&s).await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn create_names_the_failed_step_and_deploy_keys_are_refused() {
    let s = scene().await;
    mount_project_lookup(&s).await;
    mount(
        &s,
        "POST",
        "/v1/projects/4242/create_deployment",
        400,
        json!({"code": "DeploymentReferenceTaken", "message": "A deployment with this reference already exists"}),
    )
    .await;
    cmd(
        &s,
        &["deployment", "create", "dev/feature", "--type", "dev"],
    )
    .assert()
    .code(1)
    .stderr(predicates::str::contains("Could not create the deployment"))
    .stderr(predicates::str::contains("already exists"));

    let mut s = scene().await;
    s.set("CONVEX_DEPLOY_KEY", DEV_KEY);
    cmd(&s, &["deployment", "create", "staging", "--type", "prod"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "isn't supported with a deploy key (CONVEX_DEPLOY_KEY)",
        ));
    assert!(s.requests().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn create_select_saves_the_new_deployment() {
    let s = scene().await;
    mount_project_lookup(&s).await;
    mount(
        &s,
        "POST",
        "/v1/projects/4242/create_deployment",
        200,
        deployment_record("swift-panda-555", "dev", "dev/feature"),
    )
    .await;
    mount(
        &s,
        "GET",
        "/v1/teams/acme/projects/rocket",
        200,
        json!({"id": 4242, "slug": "rocket", "teamSlug": "acme", "teamId": 17}),
    )
    .await;
    mount(
        &s,
        "GET",
        "/v1/teams/acme/projects/rocket/deployment",
        200,
        deployment_record("swift-panda-555", "dev", "dev/feature"),
    )
    .await;
    mount(
        &s,
        "POST",
        "/api/deployment/authorize_within_current_project",
        200,
        json!({"deploymentName": "swift-panda-555", "url": s.host(),
               "adminKey": "dev:swift-panda-555|admin", "deploymentType": "dev",
               "reference": "dev/feature", "isDefault": false}),
    )
    .await;
    mount(
        &s,
        "GET",
        "/api/v1/get_canonical_urls",
        200,
        json!({"convexCloudUrl": "https://swift-panda-555.convex.cloud",
               "convexSiteUrl": "https://swift-panda-555.convex.site"}),
    )
    .await;
    cmd(
        &s,
        &[
            "deployment",
            "create",
            "dev/feature",
            "--type",
            "dev",
            "--select",
        ],
    )
    .assert()
    .code(0)
    .stderr(predicates::str::contains(
        "Created and selected new dev deployment:",
    ));
    assert_eq!(
        s.read(".env.local"),
        "# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=dev:swift-panda-555 # team: acme, project: rocket\n\nCONVEX_URL=https://swift-panda-555.convex.cloud\n\nCONVEX_SITE_URL=https://swift-panda-555.convex.site\n"
    );
}

/// A scene whose deploy key makes the mock the deployment.
async fn key_scene() -> Scene {
    let mut s = Scene::new().await;
    s.write("package.json", PACKAGE_JSON);
    s.set("CONVEX_DEPLOY_KEY", DEV_KEY);
    mount(
        &s,
        "POST",
        "/api/deployment/url_for_key",
        200,
        json!(s.host()),
    )
    .await;
    mount(
        &s,
        "POST",
        "/api/deployment/team_and_project_for_key",
        200,
        json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242}),
    )
    .await;
    s
}

fn usage() -> Value {
    json!({"seedStatus": "complete", "metrics": {
        "databaseIoGb": {"unit": "GB", "usage": {"current_day": 0.0123, "current_month": 1234.5678}},
        "functionCalls": {"unit": "calls", "usage": {"current_day": 1, "current_month": 56789}},
    }})
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_prints_the_table_and_the_json() {
    let s = key_scene().await;
    mount(&s, "GET", "/api/v1/get_current_usage", 200, usage()).await;
    cmd(&s, &["deployment", "usage"]).assert().code(0).stdout(
        "┌────────────────┬──────────┬───────────────┐\n\
         │ Metric         │ Day      │ Month         │\n\
         ├────────────────┼──────────┼───────────────┤\n\
         │ Function calls │ 1 call   │ 56.789K calls │\n\
         │ Database I/O   │ 0.012 GB │ 1.235K GB     │\n\
         └────────────────┴──────────┴───────────────┘\n",
    );
    let out = cmd(&s, &["deployment", "usage", "--json"]).assert().code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), usage());
    assert!(
        stdout.starts_with(
            "{\n  \"seedStatus\": \"complete\",\n  \"metrics\": {\n    \"databaseIoGb\""
        )
    );
    let auth: Vec<String> = s
        .requests()
        .await
        .iter()
        .filter(|r| r.url.path() == "/api/v1/get_current_usage")
        .map(|r| {
            r.headers
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(auth, vec![format!("Convex {DEV_KEY}"); 2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_failures_exit_1_with_the_step() {
    let s = key_scene().await;
    mount(
        &s,
        "GET",
        "/api/v1/get_current_usage",
        403,
        json!({"code": "Forbidden", "message": "no access"}),
    )
    .await;
    cmd(&s, &["deployment", "usage"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicates::str::contains(
            "Could not read the deployment's current usage",
        ))
        .stderr(predicates::str::contains("no access"));

    // No `convex` dependency: refused after the selection, before the usage request.
    let s = key_scene().await;
    s.write("package.json", r#"{"name": "x"}"#);
    cmd(&s, &["deployment", "usage"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("add `convex`"));
    assert!(
        !paths(&s)
            .await
            .iter()
            .any(|p| p.contains("get_current_usage"))
    );
}

fn limits() -> Value {
    json!({"usageLimits": [
        {"id": "ul_2", "metric": "databaseIoGb", "window": "month", "limitType": "disable", "limit": 50, "enabled": true},
        {"id": "ul_1", "metric": "functionCalls", "window": "day", "limitType": "warning", "limit": 1000, "enabled": true},
    ]})
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_limits_list_set_and_remove() {
    let s = key_scene().await;
    mount(&s, "GET", "/api/v1/list_usage_limits", 200, limits()).await;
    mount(&s, "GET", "/api/v1/get_current_usage", 200, usage()).await;
    cmd(&s, &["deployment", "usage-limits", "list"]).assert().code(0).stdout(
        "┌────────────────┬────────┬─────────┬──────────┬────────────────────┬────────┬───────────┐\n\
         │ Metric         │ Window │ Type    │    Limit │      Current Usage │ Active │ Triggered │\n\
         ├────────────────┼────────┼─────────┼──────────┼────────────────────┼────────┼───────────┤\n\
         │ Function calls │ day    │ warning │ 1K calls │        1 call (0%) │ yes    │ no        │\n\
         │ Database I/O   │ month  │ disable │    50 GB │ 1.235K GB (2,469%) │ yes    │ yes       │\n\
         └────────────────┴────────┴─────────┴──────────┴────────────────────┴────────┴───────────┘\n",
    );

    Mock::given(method("POST"))
        .and(path("/api/v1/update_usage_limit/ul_1"))
        .and(body_json(
            json!({"metric": "functionCalls", "window": "day", "limitType": "warning",
                              "limit": 2000, "enabled": false}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"usageLimit": {}})))
        .mount(&s.server)
        .await;
    cmd(
        &s,
        &[
            "deployment",
            "usage-limits",
            "set",
            "--metric",
            "functionCalls",
            "--window",
            "day",
            "--type",
            "warning",
            "--limit",
            "2000",
            "--inactive",
        ],
    )
    .assert()
    .code(0)
    .stderr(predicates::str::contains(
        "limit 1,000 → 2,000, active → inactive",
    ));

    Mock::given(method("POST"))
        .and(path("/api/v1/create_usage_limit"))
        .and(body_json(json!({"metric": "dataEgressGb", "window": "month", "limitType": "disable",
                              "limit": 25, "enabled": true})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"usageLimit":
            {"id": "ul_9", "metric": "dataEgressGb", "window": "month", "limitType": "disable", "limit": 25, "enabled": true}})))
        .mount(&s.server)
        .await;
    cmd(
        &s,
        &[
            "deployment",
            "usage-limits",
            "set",
            "--metric",
            "dataEgressGb",
            "--window",
            "month",
            "--type",
            "disable",
            "--limit",
            "25",
        ],
    )
    .assert()
    .code(0)
    .stderr(predicates::str::contains(
        "Created disable usage limit on Data egress per month: 25, active",
    ));

    mount(
        &s,
        "POST",
        "/api/v1/delete_usage_limit/ul_2",
        200,
        json!({}),
    )
    .await;
    cmd(
        &s,
        &[
            "deployment",
            "usage-limits",
            "rm",
            "--metric",
            "databaseIoGb",
            "--window",
            "month",
            "--type",
            "disable",
        ],
    )
    .assert()
    .code(0)
    .stderr(predicates::str::contains(
        "Deleted disable usage limit on Database I/O per month",
    ));

    // Bad input: nothing is sent after the listing.
    let before = s.requests().await.len();
    cmd(
        &s,
        &[
            "deployment",
            "usage-limits",
            "rm",
            "--metric",
            "searchQueryGb",
            "--window",
            "day",
            "--type",
            "warning",
        ],
    )
    .assert()
    .code(1)
    .stderr(predicates::str::contains(
        "No warning usage limit on searchQueryGb per day",
    ));
    cmd(
        &s,
        &[
            "deployment",
            "usage-limits",
            "set",
            "--metric",
            "dataEgressGb",
            "--window",
            "day",
            "--type",
            "warning",
            "--limit",
            "1.5",
        ],
    )
    .assert()
    .code(1)
    .stderr(predicates::str::contains(
        "--limit must be a positive integer",
    ));
    cmd(
        &s,
        &[
            "deployment",
            "usage-limits",
            "set",
            "--metric",
            "bogus",
            "--window",
            "day",
            "--type",
            "warning",
        ],
    )
    .assert()
    .code(1);
    let after: Vec<String> = paths(&s).await[before..].to_vec();
    assert!(
        after
            .iter()
            .all(|p| !p.contains("delete_usage_limit") && !p.contains("create_usage_limit")),
        "{after:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn project_create_in_the_only_team() {
    let s = scene().await;
    mount(
        &s,
        "GET",
        "/api/teams",
        200,
        json!([{"id": 17, "name": "Acme", "slug": "acme", "defaultRegion": null}]),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/v1/teams/17/create_project"))
        .and(body_json(
            json!({"projectName": "my-app", "deploymentType": null, "deploymentRegion": null}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 5000, "slug": "my-app"})),
        )
        .mount(&s.server)
        .await;
    cmd(&s, &["project", "create", "my-app"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicates::str::contains(
            "Created project my-app in team acme",
        ))
        .stderr(predicates::str::contains(
            "npx convex deployment create acme:my-app:dev/my-feature",
        ));
    cmd(&s, &["project", "create", "x", "--team", "nope"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("Team nope not found"));
    cmd(&s, &["project", "create"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("Specify a project name"));
    let creates = paths(&s)
        .await
        .iter()
        .filter(|p| p.contains("create_project"))
        .count();
    assert_eq!(creates, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn deployments_reinit_and_init() {
    let s = scene().await;
    mount(
        &s,
        "GET",
        "/api/deployment/happy-otter-123/team_and_project",
        200,
        json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242}),
    )
    .await;
    cmd(&s, &["deployments"])
        .assert()
        .code(0)
        .stdout("")
        .stderr("Currently configured deployment:\n  Team: acme\n  Project: rocket\n  Deployment: happy-otter-123\n  Type: dev\n");
    cmd(&s, &["reinit", "--team", "acme"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "npx convex dev --once --configure=existing",
        ));

    // init: a configured project gets its URL variables, nothing is pushed.
    mount(&s, "HEAD", "/api/authorize", 200, json!({})).await;
    mount(
        &s,
        "POST",
        "/api/check_opt_ins",
        200,
        json!({"optInsToAccept": []}),
    )
    .await;
    mount(
        &s,
        "POST",
        "/api/deployment/authorize_within_current_project",
        200,
        json!({"deploymentName": "happy-otter-123", "url": s.host(),
               "adminKey": "dev:happy-otter-123|admin", "deploymentType": "dev"}),
    )
    .await;
    mount(
        &s,
        "GET",
        "/api/v1/get_canonical_urls",
        200,
        json!({"convexCloudUrl": "https://happy-otter-123.convex.cloud",
               "convexSiteUrl": "https://happy-otter-123.convex.site"}),
    )
    .await;
    cmd(&s, &["init"])
        .env("CONVEX_VERSION_API_ORIGIN", s.host())
        .assert()
        .code(0)
        .stdout("");
    assert_eq!(
        s.read(".env.local"),
        format!("{DEV_ENV_LOCAL}\nCONVEX_SITE_URL=https://happy-otter-123.convex.site\n")
    );
    assert!(
        !paths(&s)
            .await
            .iter()
            .any(|p| p.contains("deploy2") || p.contains("push"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn login_link_deployments_without_a_terminal() {
    let s = scene().await;
    std::fs::remove_file(s.project.path().join(".env.local")).unwrap();
    mount(&s, "HEAD", "/api/authorize", 200, json!({})).await;
    mount(
        &s,
        "POST",
        "/api/check_opt_ins",
        200,
        json!({"optInsToAccept": []}),
    )
    .await;
    cmd(&s, &["login", "--link-deployments"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicates::str::contains(
            "It doesn't look like you have any deployments to link",
        ));

    // Legacy anonymous deployments: the question is printed, then exit 1.
    let state = s
        .convex_dir()
        .join("anonymous-convex-backend-state/anonymous-one");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("config.json"),
        r#"{"ports":{"cloud":3210,"site":3211},"backendVersion":"precompiled-2026-11-20-fake001","adminKey":"k"}"#,
    )
    .unwrap();
    cmd(&s, &["login"]).assert().code(1).stdout(
        "Would you like to link your existing deployment to your account? (\"anonymous-one\")\n",
    );
    cmd(&s, &["login", "--link-deployments"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicates::str::contains("- anonymous-one"))
        .stderr(predicates::str::contains(
            "Which deployment would you like to link",
        ));
    assert!(state.join("config.json").exists());
}
