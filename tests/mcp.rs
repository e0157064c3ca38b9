//! `convex mcp start` through a real MCP client (the `rmcp` SDK's client
//! side, over the server's stdin/stdout), against a loopback fake of the
//! Convex services, with a `node` on PATH that refuses to run: the tools
//! list compared live with the official CLI's, each tool called, the
//! production safeguards, malformed input, both protocol eras.

mod support;

use std::path::Path;
use std::process::Stdio;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientLifecycleMode, ClientServiceExt, RoleClient};
use serde_json::{Map, Value, json};
use support::fake_convex::{FakeConvex, Route, SyncScript};
use tempfile::TempDir;

const DEV: &str = "happy-otter-123";
const PROD: &str = "brave-lynx-456";

/// A folder holding a `node` that refuses to run and records each call.
struct RefusingNode {
    dir: TempDir,
}

impl RefusingNode {
    fn new() -> RefusingNode {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("node-was-called");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let script = dir.path().join("node");
            std::fs::write(
                &script,
                format!(
                    "#!/bin/sh\necho \"$@\" >> '{}'\necho 'node must not run' >&2\nexit 99\n",
                    marker.display()
                ),
            )
            .unwrap();
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        #[cfg(windows)]
        std::fs::write(
            dir.path().join("node.cmd"),
            format!(
                "@echo off\r\necho %* >> \"{}\"\r\necho node must not run 1>&2\r\nexit /b 99\r\n",
                marker.display()
            ),
        )
        .unwrap();
        RefusingNode { dir }
    }

    fn path_var(&self) -> std::ffi::OsString {
        let mut paths = vec![self.dir.path().to_path_buf()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(paths).unwrap()
    }

    fn was_called(&self) -> bool {
        self.dir.path().join("node-was-called").exists()
    }
}

/// A logged-in HOME, a project using the dev deployment, the fake.
struct Setup {
    fake: FakeConvex,
    home: TempDir,
    project: TempDir,
    node: RefusingNode,
}

impl Setup {
    async fn new() -> Setup {
        let fake = FakeConvex::start().await;
        let url = fake.url();
        fake.route(Route::new("HEAD", "/api/authorize", json!({})));
        fake.route(Route::new(
            "POST",
            "/api/check_opt_ins",
            json!({"optInsToAccept": []}),
        ));
        for name in [DEV, PROD] {
            fake.route(Route::new(
                "GET",
                &format!("/api/deployment/{name}/team_and_project"),
                json!({"team": "acme", "project": "rocket", "teamId": 17, "projectId": 4242}),
            ));
        }
        fake.route(Route::new(
            "POST",
            "/api/deployment/authorize_within_current_project",
            json!({"deploymentName": DEV, "url": url, "adminKey": format!("dev:{DEV}|admin-dev"),
                   "deploymentType": "dev", "reference": "dev/alice", "isDefault": true}),
        ));
        // A selector of kind "unspecified" means the project's own dev
        // deployment, which the official CLI asks for this way.
        fake.route(Route::new(
            "POST",
            "/api/deployment/provision_and_authorize",
            json!({"deploymentName": DEV, "url": url, "adminKey": format!("dev:{DEV}|admin-dev"),
                   "deploymentType": "dev", "reference": "dev/alice", "isDefault": true}),
        ));
        fake.route(Route::new(
            "POST",
            "/api/deployment/authorize_prod",
            json!({"deploymentName": PROD, "url": url, "adminKey": format!("prod:{PROD}|admin-prod"),
                   "deploymentType": "prod", "reference": "production", "isDefault": true}),
        ));
        let home = tempfile::tempdir().unwrap();
        let state = home.path().join(format!(".convex-test-{}", fake.port()));
        std::fs::create_dir_all(&state).unwrap();
        std::fs::write(
            state.join("config.json"),
            r#"{"accessToken": "test-token"}"#,
        )
        .unwrap();
        let project = tempfile::tempdir().unwrap();
        std::fs::write(
            project.path().join(".env.local"),
            format!("CONVEX_DEPLOYMENT=dev:{DEV}\n"),
        )
        .unwrap();
        std::fs::write(
            project.path().join("package.json"),
            r#"{"name": "app", "dependencies": {"convex": "1.48.0"}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(project.path().join("convex")).unwrap();
        Setup {
            fake,
            home,
            project,
            node: RefusingNode::new(),
        }
    }

    fn project_dir(&self) -> String {
        self.project.path().to_string_lossy().into_owned()
    }

    /// `convex mcp start <args>` in `cwd`, in a clean environment.
    fn command(&self, cwd: &Path, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_convex"));
        cmd.arg("mcp")
            .arg("start")
            .args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", self.node.path_var())
            .env("HOME", self.home.path())
            .env("USERPROFILE", self.home.path())
            .env("CONVEX_PROVISION_HOST", self.fake.url())
            .env("NO_COLOR", "1");
        if let Some(tmp) = std::env::var_os("TMPDIR") {
            cmd.env("TMPDIR", tmp);
        }
        #[cfg(windows)]
        for var in ["SystemRoot", "TEMP", "TMP"] {
            if let Some(v) = std::env::var_os(var) {
                cmd.env(var, v);
            }
        }
        cmd
    }

    async fn client_in(
        &self,
        cwd: &Path,
        args: &[&str],
        lifecycle: ClientLifecycleMode,
    ) -> RunningService<RoleClient, ()> {
        let (transport, _) = TokioChildProcess::builder(self.command(cwd, args))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        ().serve_with_lifecycle(transport, lifecycle)
            .await
            .expect("the MCP session starts")
    }

    async fn client(&self, args: &[&str]) -> RunningService<RoleClient, ()> {
        // Started elsewhere than the project: each call names its project.
        let elsewhere = self.home.path().to_path_buf();
        self.client_in(&elsewhere, args, ClientLifecycleMode::Initialize)
            .await
    }
}

fn text_of(result: &CallToolResult) -> String {
    match &result.content[..] {
        [content] => content
            .as_text()
            .unwrap_or_else(|| panic!("not text: {content:?}"))
            .text
            .clone(),
        other => panic!("expected one content block, got {other:?}"),
    }
}

/// Call a tool; `(isError, parsed text)`.
async fn call(client: &RunningService<RoleClient, ()>, name: &str, args: Value) -> (bool, Value) {
    let mut params = CallToolRequestParams::new(name.to_string());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    let result = client.call_tool(params).await.expect("tools/call answers");
    let text = text_of(&result);
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (result.is_error == Some(true), value)
}

async fn ok(client: &RunningService<RoleClient, ()>, name: &str, args: Value) -> Value {
    let (is_error, value) = call(client, name, args.clone()).await;
    assert!(!is_error, "{name} {args} failed: {value}");
    value
}

async fn err(client: &RunningService<RoleClient, ()>, name: &str, args: Value) -> String {
    let (is_error, value) = call(client, name, args.clone()).await;
    assert!(is_error, "{name} {args} should fail: {value}");
    value["error"].as_str().unwrap_or_default().to_string()
}

/// The deployment selectors `status` hands out, by kind.
async fn selectors(client: &RunningService<RoleClient, ()>, project: &str) -> Map<String, Value> {
    let status = ok(client, "status", json!({"projectDir": project})).await;
    status["availableDeployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["deploymentSelector"].clone(),
            )
        })
        .collect()
}

/// The official CLI's `tools/list`, through the same client.
async fn reference_tools() -> Vec<rmcp::model::Tool> {
    let project = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(support::reference_cli())
        .args(["mcp", "start"])
        .current_dir(project.path())
        .env("CONVEX_PROVISION_HOST", "http://127.0.0.1:9");
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client =
        ().serve_with_lifecycle(transport, ClientLifecycleMode::Initialize)
            .await
            .expect("the official server starts");
    let tools = client.list_all_tools().await.unwrap();
    let _ = client.cancel().await;
    tools
}

fn as_json(tools: &[rmcp::model::Tool]) -> Vec<Value> {
    tools
        .iter()
        .map(|t| json!({"name": t.name, "description": t.description, "inputSchema": *t.input_schema}))
        .collect()
}

#[tokio::test]
async fn tools_list_matches_the_official_server() {
    let setup = Setup::new().await;
    let client = setup.client(&[]).await;
    let info = client.peer_info().expect("initialize answered");
    let server = info.server_info.clone().expect("server info");
    assert_eq!(server.name, "Convex MCP Server");
    assert_eq!(server.version, "0.0.1");
    let ours = client.list_all_tools().await.unwrap();
    let _ = client.cancel().await;
    let reference = reference_tools().await;
    assert_eq!(reference.len(), 12, "the official server lists 12 tools");
    let (ours, reference) = (as_json(&ours), as_json(&reference));
    for (a, b) in ours.iter().zip(&reference) {
        assert_eq!(a, b, "tool differs from the official one");
    }
    assert_eq!(ours.len(), reference.len());
    assert!(!setup.node.was_called(), "mcp start ran node");
}

#[tokio::test]
async fn disable_tools_is_checked_before_serving() {
    let setup = Setup::new().await;
    let client = setup.client(&["--disable-tools", "run, envSet"]).await;
    let names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(names.len(), 10);
    assert!(!names.contains(&"run".to_string()) && !names.contains(&"envSet".to_string()));
    assert_eq!(
        err(
            &client,
            "run",
            json!({"deploymentSelector": "x", "functionName": "f", "args": "{}"})
        )
        .await,
        "Tool run not found"
    );
    let _ = client.cancel().await;

    let out = setup
        .command(setup.project.path(), &["--disable-tools", "status,bogus"])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Disabled tool bogus not found (valid tools: data, envGet, envList"),
        "{stderr}"
    );
}

#[tokio::test]
async fn status_lists_dev_and_read_only_prod() {
    let setup = Setup::new().await;
    let client = setup.client(&[]).await;
    let project = setup.project_dir();
    let status = ok(&client, "status", json!({"projectDir": project})).await;
    let url = setup.fake.url();
    let deployments = status["availableDeployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 2, "{status}");
    assert_eq!(deployments[0]["kind"], "unspecified");
    assert_eq!(deployments[0]["url"], url);
    assert_eq!(
        deployments[0]["dashboardUrl"],
        format!("http://localhost:6789/d/{DEV}")
    );
    assert!(deployments[0].get("readOnly").is_none());
    assert_eq!(deployments[1]["kind"], "prod");
    assert_eq!(deployments[1]["readOnly"], true);
    // The selector is the official encoding (base64 of the JSON payload).
    let selector = deployments[0]["deploymentSelector"].as_str().unwrap();
    let (kind, payload) = selector.split_once(':').unwrap();
    assert_eq!(kind, "unspecified");
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&payload).unwrap(),
        json!({"projectDir": project, "deployment": {"kind": "unspecified"}})
    );
    // Every call checks the login first.
    assert_eq!(setup.fake.requests_to("/api/authorize").len(), 1);
    let auth = &setup.fake.requests_to("/api/authorize")[0];
    assert_eq!(auth.header("authorization"), Some("Bearer test-token"));

    // Without a project anywhere, the call fails and the server goes on.
    let message = err(&client, "status", json!({})).await;
    assert!(
        message.starts_with("No project directory provided."),
        "{message}"
    );
    let message = err(&client, "status", json!({"projectDir": "/no/such/folder"})).await;
    assert!(
        message.contains("/no/such/folder does not exist"),
        "{message}"
    );
    assert!(
        ok(&client, "status", json!({"projectDir": project})).await["availableDeployments"]
            .is_array()
    );
    let _ = client.cancel().await;

    // --project-dir answers calls that name no project; --cautiously-allow-
    // production-pii makes prod readable; full access drops readOnly.
    let client = setup
        .client(&[
            "--project-dir",
            &project,
            "--cautiously-allow-production-pii",
        ])
        .await;
    let status = ok(&client, "status", json!({})).await;
    assert_eq!(status["availableDeployments"][1]["readOnly"], false);
    let _ = client.cancel().await;
    let client = setup
        .client(&[
            "--project-dir",
            &project,
            "--dangerously-enable-production-deployments",
        ])
        .await;
    let status = ok(&client, "status", json!({})).await;
    assert!(status["availableDeployments"][1].get("readOnly").is_none());
    let _ = client.cancel().await;
    assert!(!setup.node.was_called());
}

#[tokio::test]
async fn calls_are_refused_without_a_login() {
    let setup = Setup::new().await;
    std::fs::remove_dir_all(
        setup
            .home
            .path()
            .join(format!(".convex-test-{}", setup.fake.port())),
    )
    .unwrap();
    let client = setup.client(&[]).await;
    let message = err(
        &client,
        "status",
        json!({"projectDir": setup.project_dir()}),
    )
    .await;
    assert_eq!(
        message,
        "Not Authorized: Run `npx convex dev` to login to your Convex project."
    );
    let _ = client.cancel().await;
}

#[tokio::test]
async fn tables_and_data_read_through_the_sync_protocol() {
    let setup = Setup::new().await;
    let schema = json!({"tables": [{"tableName": "messages", "indexes": [], "searchIndexes": [],
        "vectorIndexes": [], "documentType": {"type": "any"}, "extra": 1}]});
    setup.fake.sync(
        SyncScript::default()
            .query(
                "_system/frontend/getSchemas:default",
                vec![json!({"active": schema.to_string(), "inProgress": null})],
            )
            .query(
                "_system/cli/tableData:default",
                vec![
                    json!({"page": [{"_id": "a1", "body": "hi", "n": {"$integer": "AQAAAAAAAAA="}}],
                    "isDone": false, "continueCursor": "c2"}),
                ],
            ),
    );
    setup.fake.route(Route::new(
        "GET",
        "/api/shapes2",
        json!({"users": {"type": "Object"}, "messages": {"type": "Object"}}),
    ));
    let client = setup.client(&[]).await;
    let selectors = selectors(&client, &setup.project_dir()).await;
    let dev = selectors["unspecified"].clone();

    let tables = ok(&client, "tables", json!({"deploymentSelector": dev})).await;
    assert_eq!(
        tables,
        json!({"tables": {
            "messages": {"schema": {"tableName": "messages", "indexes": [], "searchIndexes": [],
                "vectorIndexes": [], "documentType": {"type": "any"}},
                "inferredSchema": {"type": "Object"}},
            "users": {"inferredSchema": {"type": "Object"}}}})
    );
    let shapes = &setup.fake.requests_to("/api/shapes2")[0];
    assert_eq!(
        shapes.header("authorization"),
        Some(&*format!("Convex dev:{DEV}|admin-dev"))
    );

    let page = ok(
        &client,
        "data",
        json!({"deploymentSelector": dev, "tableName": "messages", "order": "desc", "limit": 5, "cursor": "c1"}),
    )
    .await;
    assert_eq!(
        page,
        json!({"page": [{"_id": "a1", "body": "hi", "n": {"$integer": "AQAAAAAAAAA="}}],
            "isDone": false, "continueCursor": "c2"})
    );
    let added: Vec<Value> = setup
        .fake
        .ws_messages()
        .into_iter()
        .filter(|m| m["type"] == "ModifyQuerySet")
        .flat_map(|m| m["modifications"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["type"] == "Add")
        .collect();
    let table_data = added
        .iter()
        .find(|m| m["udfPath"] == "_system/cli/tableData:default")
        .expect("tableData was queried");
    assert_eq!(
        table_data["args"],
        json!([{"order": "desc", "paginationOpts": {"cursor": "c1", "numItems": 5}, "table": "messages"}])
    );
    // Bad arguments are refused before anything is sent.
    let message = err(
        &client,
        "data",
        json!({"deploymentSelector": dev, "tableName": "messages", "order": "sideways"}),
    )
    .await;
    assert!(
        message.contains("Invalid enum value. Expected 'asc' | 'desc', received 'sideways'"),
        "{message}"
    );
    let _ = client.cancel().await;
    assert!(!setup.node.was_called());
}

#[tokio::test]
async fn production_is_guarded() {
    let setup = Setup::new().await;
    let client = setup.client(&[]).await;
    let prod = selectors(&client, &setup.project_dir()).await["prod"].clone();
    for (tool, args, expected) in [
        (
            "data",
            json!({"deploymentSelector": prod, "tableName": "t", "order": "asc"}),
            "This read-only tool may expose PII from production.",
        ),
        (
            "envSet",
            json!({"deploymentSelector": prod, "name": "A", "value": "1"}),
            "This tool cannot be used with production deployments.",
        ),
        (
            "run",
            json!({"deploymentSelector": prod, "functionName": "f", "args": "{}"}),
            "This tool cannot be used with production deployments.",
        ),
    ] {
        let message = err(&client, tool, args).await;
        assert!(message.starts_with(expected), "{tool}: {message}");
    }
    // Refused before the production deployment was even looked up.
    assert!(
        setup
            .fake
            .requests_to("/api/deployment/authorize_prod")
            .len()
            == 1
    );
    let _ = client.cancel().await;

    // A production deployment reached through a selector of another kind
    // (`--deployment prod`) is guarded all the same.
    let client = setup
        .client(&[
            "--deployment",
            "prod",
            "--project-dir",
            &setup.project_dir(),
        ])
        .await;
    let status = ok(&client, "status", json!({})).await;
    let first = &status["availableDeployments"][0];
    assert_eq!(first["kind"], "deploymentSelector");
    assert_eq!(first["readOnly"], true, "{status}");
    let message = err(
        &client,
        "envSet",
        json!({"deploymentSelector": first["deploymentSelector"], "name": "A", "value": "1"}),
    )
    .await;
    assert!(message.starts_with("This tool cannot be used with production deployments."));
    let _ = client.cancel().await;
}

#[tokio::test]
async fn a_failing_tool_leaves_the_server_serving() {
    let setup = Setup::new().await;
    let client = setup.client(&[]).await;
    let message = err(
        &client,
        "tables",
        json!({"deploymentSelector": "prod:not-base64!"}),
    )
    .await;
    assert!(message.contains("Invalid deployment selector"), "{message}");
    let message = err(&client, "nope", json!({})).await;
    assert_eq!(message, "Tool nope not found");
    let result = client
        .call_tool(CallToolRequestParams::new("status"))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    assert_eq!(
        serde_json::from_str::<Value>(&text_of(&result)).unwrap(),
        json!({"error": "No arguments provided"})
    );
    assert!(
        ok(
            &client,
            "status",
            json!({"projectDir": setup.project_dir()})
        )
        .await
        .is_object()
    );
    let _ = client.cancel().await;
}

#[tokio::test]
async fn the_stateless_protocol_era_is_served_too() {
    let setup = Setup::new().await;
    let client = setup
        .client_in(
            setup.project.path(),
            &[],
            ClientLifecycleMode::Discover {
                preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
            },
        )
        .await;
    assert_eq!(client.list_all_tools().await.unwrap().len(), 12);
    let status = ok(
        &client,
        "status",
        json!({"projectDir": setup.project_dir()}),
    )
    .await;
    assert_eq!(status["availableDeployments"][0]["kind"], "unspecified");
    let _ = client.cancel().await;
}

/// Raw lines in, raw lines out: only JSON-RPC on stdout, an error for each
/// malformed request, and the server still answers afterwards.
#[tokio::test]
async fn malformed_requests_get_json_rpc_errors() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let setup = Setup::new().await;
    let mut child = setup
        .command(setup.project.path(), &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut send = async |line: &str| {
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    };
    send("this is not json").await;
    send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
    send(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#).await;
    send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
    send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":"x"}"#).await;
    send(r#"{"foo":1}"#).await;
    send(r#"{"jsonrpc":"2.0","id":3,"method":"bogus/method"}"#).await;
    send(r#"[{"jsonrpc":"2.0","id":4,"method":"ping"}]"#).await;
    send(r#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#).await;
    let mut answers = Vec::new();
    while answers.len() < 7 {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("an answer in time")
            .unwrap()
            .expect("the server is still there");
        answers.push(serde_json::from_str::<Value>(&line).expect("stdout is JSON-RPC only"));
    }
    let code = |i: usize| answers[i]["error"]["code"].as_i64();
    assert_eq!(code(0), Some(-32700));
    assert_eq!(answers[0]["id"], Value::Null);
    assert_eq!(answers[1]["id"], 1);
    assert_eq!(
        answers[1]["result"]["serverInfo"]["name"],
        "Convex MCP Server"
    );
    let by_id = |id: i64| answers.iter().find(|a| a["id"] == id).cloned().unwrap();
    assert_eq!(by_id(2)["error"]["code"], -32602);
    assert_eq!(by_id(3)["error"]["code"], -32601);
    assert_eq!(by_id(3)["error"]["message"], "Method not found");
    let invalid: Vec<&Value> = answers
        .iter()
        .filter(|a| a["id"].is_null() && a["error"]["code"] == -32600)
        .collect();
    assert_eq!(invalid.len(), 2, "{answers:?}");
    assert_eq!(by_id(5)["result"]["tools"].as_array().unwrap().len(), 12);
    drop(stdin);
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("the server ends when stdin closes")
        .unwrap();
    assert!(status.success());
    assert!(!setup.node.was_called());
}

/// The routes and sync answers every tool needs.
fn script_every_tool(fake: &FakeConvex) {
    fake.sync(
        SyncScript::default()
            .query(
                "_system/frontend/getSchemas:default",
                vec![json!({"active": json!({"tables": [{"tableName": "messages", "indexes": [],
                    "searchIndexes": [], "vectorIndexes": [], "documentType": {"type": "any"}}]}).to_string()})],
            )
            .query(
                "_system/cli/tableData:default",
                vec![json!({"page": [{"_id": "a1", "_creationTime": 1.5, "body": "hi"}],
                    "isDone": true, "continueCursor": "end"})],
            )
            .query(
                "_system/cli/modules:apiSpec",
                vec![json!([{"functionType": "Query", "identifier": "messages.js:list",
                    "args": "{\"type\":\"object\",\"value\":{}}", "returns": "{\"type\":\"any\"}",
                    "visibility": {"kind": "public"}}])],
            )
            .query(
                "_system/cli/queryEnvironmentVariables:default",
                vec![json!([{"name": "A", "value": "1"}, {"name": "B", "value": "two words"}])],
            )
            .query(
                "_system/cli/queryEnvironmentVariables:get",
                vec![json!({"name": "A", "value": "1"})],
            ),
    );
    fake.route(Route::new(
        "GET",
        "/api/shapes2",
        json!({"messages": {"type": "Object"}}),
    ));
    fake.route(Route::new(
        "POST",
        "/api/function",
        json!({"status": "success", "value": {"count": 2, "names": ["a", "b"]},
               "logLines": ["[LOG] 'listing'", "no level here"]}),
    ));
    fake.route(
        Route::new(
            "POST",
            "/api/function",
            json!({"status": "error", "errorMessage": "Uncaught Error: boom", "logLines": []}),
        )
        .status(560)
        .times(1),
    );
    fake.route(Route::new(
        "POST",
        "/api/run_test_function",
        json!({"status": "success", "value": 3, "logLines": ["[LOG] 'counted'"]}),
    ));
    fake.route(
        Route::new(
            "POST",
            "/api/run_test_function",
            json!({"status": "error", "errorMessage": "ReferenceError: x is not defined"}),
        )
        .times(1),
    );
    fake.route(Route::new(
        "POST",
        "/api/update_environment_variables",
        json!({}),
    ));
    let completion = |id: &str, error: Value, ts: f64| {
        json!({"kind": "Completion", "identifier": id, "udfType": "Query", "timestamp": ts,
               "logLines": ["[LOG] 'line of ".to_string() + id + "'"], "error": error,
               "executionTime": 0.01, "requestId": "r", "executionId": "e"})
    };
    fake.route(Route::new(
        "GET",
        "/api/stream_function_logs",
        json!({"entries": [
            completion("messages:list", Value::Null, 1_700_000_000.0),
            completion("messages:send", json!("Uncaught Error: boom"), 1_700_000_001.0),
            {"kind": "Progress", "identifier": "messages:slow", "udfType": "Action",
             "timestamp": 1_700_000_002.0, "logLines": ["[INFO] 'halfway'"]},
        ], "newCursor": 1_700_000_003_000.0_f64}),
    ));
    fake.route(Route::new(
        "GET",
        "/api/dashboard/teams/17/usage/query",
        json!([
            [
                "occRetried",
                "messages:send",
                "-root-component-",
                json!({"occCalls": 3, "occTableName": "messages", "recentEvents": []}).to_string()
            ],
            [
                "bytesReadLimit",
                "messages:list",
                "-root-component-",
                json!({"count": 1, "recentEvents": []}).to_string()
            ]
        ]),
    ));
}

/// One call of each tool (two where a failure is worth seeing), given the
/// dev deployment's selector.
fn every_tool_calls(dev: &Value) -> Vec<(&'static str, Value)> {
    vec![
        ("tables", json!({"deploymentSelector": dev})),
        (
            "data",
            json!({"deploymentSelector": dev, "tableName": "messages", "order": "asc"}),
        ),
        ("functionSpec", json!({"deploymentSelector": dev})),
        (
            "run",
            json!({"deploymentSelector": dev, "functionName": "messages:list", "args": "{}"}),
        ),
        (
            "run",
            json!({"deploymentSelector": dev, "functionName": "api.messages.list", "args": "{n: 1, big: {$integer: 'AQAAAAAAAAA='}}"}),
        ),
        (
            "run",
            json!({"deploymentSelector": dev, "functionName": "messages:list", "args": "{not json"}),
        ),
        (
            "runOneoffQuery",
            json!({"deploymentSelector": dev, "query": "export default query({ handler: async () => x })"}),
        ),
        (
            "runOneoffQuery",
            json!({"deploymentSelector": dev, "query": "export default query({ handler: async () => 3 })"}),
        ),
        ("envList", json!({"deploymentSelector": dev})),
        (
            "envList",
            json!({"deploymentSelector": dev, "includeValues": true}),
        ),
        ("envGet", json!({"deploymentSelector": dev, "name": "A"})),
        (
            "envSet",
            json!({"deploymentSelector": dev, "name": "C", "value": "3"}),
        ),
        ("envRemove", json!({"deploymentSelector": dev, "name": "B"})),
        ("logs", json!({"deploymentSelector": dev})),
        (
            "logs",
            json!({"deploymentSelector": dev, "status": "failure", "jsonl": true, "cursor": 5}),
        ),
        (
            "logs",
            json!({"deploymentSelector": dev, "status": "success"}),
        ),
        ("insights", json!({"deploymentSelector": dev})),
    ]
}

/// What a server sent the fake: HTTP requests (method, path, query, JSON
/// body) and the queries it added over the sync protocol.
fn traffic(fake: &FakeConvex) -> Vec<Value> {
    fake.log()
        .into_iter()
        .filter(|l| l.path != "/api/authorize" && !l.path.ends_with("/sync"))
        .map(|l| json!({"method": l.method, "path": l.path, "query": l.query, "body": l.json()}))
        .chain(
            fake.ws_messages()
                .into_iter()
                .filter(|m| m["type"] == "ModifyQuerySet")
                .flat_map(|m| m["modifications"].as_array().cloned().unwrap_or_default())
                .filter(|m| m["type"] == "Add")
                .map(|m| json!({"udfPath": m["udfPath"], "args": m["args"]})),
        )
        .collect()
}

/// Every tool through our server and through the official one, against the
/// same fake: same results (error or not, and the JSON text), same requests.
#[tokio::test]
async fn every_tool_answers_as_the_official_server() {
    let mut results = Vec::new();
    let mut requests = Vec::new();
    for official in [false, true] {
        let setup = Setup::new().await;
        script_every_tool(&setup.fake);
        let client = if official {
            let mut cmd = setup.command(setup.home.path(), &[]);
            cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
            let program = std::mem::replace(&mut cmd, tokio::process::Command::new("node"));
            drop(program);
            cmd.arg(support::reference_cli())
                .args(["mcp", "start"])
                .current_dir(setup.home.path())
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", setup.home.path())
                .env("CONVEX_PROVISION_HOST", setup.fake.url())
                .env("TZ", "UTC")
                .env("NO_COLOR", "1");
            let (transport, _) = TokioChildProcess::builder(cmd)
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            ().serve_with_lifecycle(transport, ClientLifecycleMode::Initialize)
                .await
                .unwrap()
        } else {
            let mut cmd = setup.command(setup.home.path(), &[]);
            cmd.env("TZ", "UTC");
            let (transport, _) = TokioChildProcess::builder(cmd)
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            ().serve_with_lifecycle(transport, ClientLifecycleMode::Initialize)
                .await
                .unwrap()
        };
        let dev = selectors(&client, &setup.project_dir()).await["unspecified"].clone();
        let mut these = Vec::new();
        for (tool, args) in every_tool_calls(&dev) {
            let (is_error, value) = call(&client, tool, args).await;
            these.push(json!({"tool": tool, "isError": is_error, "value": value}));
        }
        let _ = client.cancel().await;
        // The project folder differs between the two runs.
        let text = serde_json::to_string(&these)
            .unwrap()
            .replace(&setup.project_dir(), "<PROJECT>");
        results.push(serde_json::from_str::<Vec<Value>>(&text).unwrap());
        requests.push(traffic(&setup.fake));
        if !official {
            assert!(!setup.node.was_called(), "our server ran node");
        }
    }
    if std::env::var_os("MCP_TEST_DUMP").is_some() {
        eprintln!("{}", serde_json::to_string_pretty(&results).unwrap());
        eprintln!("{}", serde_json::to_string_pretty(&requests).unwrap());
    }
    let (ours, official) = (&results[0], &results[1]);
    for (a, b) in ours.iter().zip(official) {
        let tool = a["tool"].as_str().unwrap();
        assert_eq!(a["isError"], b["isError"], "{tool}: ours {a} official {b}");
        if a["isError"] == true {
            // Failure messages are ours to word; they must say what failed.
            continue;
        }
        assert_eq!(a, b, "{tool} differs from the official server");
    }
    assert_eq!(ours.len(), official.len());
    assert_eq!(requests[0], requests[1], "different requests");
}
