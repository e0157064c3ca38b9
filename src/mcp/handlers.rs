//! The tools themselves. Each takes its checked arguments and the call's
//! [`Context`], and returns the value the official server returns (as a
//! [`JsValue`], so that it is written byte for byte as `JSON.stringify`
//! writes it). The work is done by the existing layers: deployment
//! selection and credentials, the HTTP and sync clients, and the
//! data-plane functions the `env`, `run`, `data`, `logs`, `function-spec`
//! and `insights` commands use.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use serde_json::{Map, Value, json};

use super::request::{self, McpOptions, Selector};
use super::tools::{ProdAccess, ToolName};
use crate::context::Context;
use crate::credentials::{
    self, DeploymentCredentials, DeploymentSelection, LoadOptions, SelectionWithinProject,
};
use crate::data_plane::env::{EnvBackend, EnvVarChange};
use crate::data_plane::{functions, insights as insights_api, logs as logs_api};
use crate::error::fail;
use crate::http::DeploymentRequest;
use crate::sync::{Query, SyncClient};
use crate::values::{ConvexValue, JsValue, to_serde_json};

/// The folder whose settings a call reads: the project it names (if that
/// folder exists), else `--project-dir`, else where the server started.
pub fn settings_dir(
    options: &McpOptions,
    tool: Option<ToolName>,
    arguments: Option<&Map<String, Value>>,
) -> PathBuf {
    let named = arguments.and_then(|args| match tool {
        Some(ToolName::Status) => args
            .get("projectDir")
            .and_then(Value::as_str)
            .map(str::to_string),
        Some(_) => args
            .get("deploymentSelector")
            .and_then(Value::as_str)
            .and_then(|s| request::decode_selector(s).ok())
            .map(|s| s.project_dir),
        None => None,
    });
    named
        .or_else(|| options.project_dir.clone())
        .and_then(|raw| options.resolve_project_dir(&raw).ok())
        .unwrap_or_else(|| options.launch_dir.clone())
}

/// Run a tool whose arguments were checked against its schema.
pub async fn run(
    tool: ToolName,
    options: &McpOptions,
    ctx: Context,
    args: &Map<String, Value>,
) -> Result<JsValue> {
    if tool == ToolName::Status {
        return status(options, ctx, args).await;
    }
    let target = Target::open(tool, options, ctx, args).await?;
    match tool {
        ToolName::Status => unreachable!("handled above"),
        ToolName::Tables => tables(&target).await,
        ToolName::Data => data(&target, args).await,
        ToolName::FunctionSpec => function_spec(&target).await,
        ToolName::Run => run_function(&target, args).await,
        ToolName::RunOneoffQuery => run_oneoff_query(&target, args).await,
        ToolName::EnvList => env_list(&target, args).await,
        ToolName::EnvGet => env_get(&target, args).await,
        ToolName::EnvSet => env_set(&target, args).await,
        ToolName::EnvRemove => env_remove(&target, args).await,
        ToolName::Logs => logs(&target, args).await,
        ToolName::Insights => insights(&target).await,
    }
}

fn text_arg<'a>(args: &'a Map<String, Value>, name: &str) -> &'a str {
    args.get(name).and_then(Value::as_str).unwrap_or("")
}

/// The deployment a tool call acts on, after the production safeguards.
struct Target {
    ctx: Context,
    project_dir: PathBuf,
    credentials: DeploymentCredentials,
}

impl Target {
    async fn open(
        tool: ToolName,
        options: &McpOptions,
        ctx: Context,
        args: &Map<String, Value>,
    ) -> Result<Target> {
        let Selector {
            project_dir,
            deployment,
        } = request::decode_selector(text_arg(args, "deploymentSelector"))?;
        let access = tool.prod_access();
        if deployment == SelectionWithinProject::Prod {
            options.check_prod(access)?;
        }
        let dir = options.resolve_project_dir(&project_dir)?;
        let ctx = if ctx.cwd == dir {
            ctx
        } else {
            options.context_at(&dir)?
        };
        let credentials = request::load_credentials(&ctx, options, &deployment).await?;
        // A production deployment reached another way (a `prod:` deploy
        // key, `--deployment <prod name>`) is guarded just the same.
        if request::is_production(&credentials) {
            options.check_prod(access)?;
        }
        Ok(Target {
            ctx,
            project_dir: dir,
            credentials,
        })
    }

    fn sync(&self) -> Result<SyncClient> {
        Ok(SyncClient::new(self.ctx.http()?, &self.credentials.url)
            .with_admin_auth(&self.credentials.admin_key, None))
    }

    /// A system query's result (`runSystemQuery`: one answer over the sync
    /// protocol, in the root app). `args` are sent Convex-encoded.
    fn function_target(&self) -> Result<functions::Target> {
        Ok(functions::Target {
            http: self.ctx.http()?,
            deployment_url: self.credentials.url.clone(),
            admin_key: self.credentials.admin_key.clone(),
            identity: None,
            npm_version: crate::push::installed_convex_version(&self.project_dir)
                .unwrap_or_else(|| crate::REFERENCE_VERSION.to_string()),
        })
    }

    fn env_backend(&self) -> Result<EnvBackend> {
        let client = self
            .ctx
            .deployment_client(&self.credentials.url, &self.credentials.admin_key)?;
        Ok(EnvBackend::deployment(
            client,
            self.ctx.http()?,
            String::new(),
        ))
    }

    async fn system_query(&self, udf_path: &str, args: Value) -> Result<Value> {
        let encoded = ConvexValue::from_serde(&args)
            .and_then(|v| v.to_json())
            .map(|v| to_serde_json(&v))
            .map_err(|e| anyhow::anyhow!("Invalid arguments for {udf_path}: {e}"))?;
        Ok(self.sync()?.query(&Query::new(udf_path, encoded)).await?)
    }
}

fn js(value: &Value) -> JsValue {
    JsValue::from_serde(value)
}

async fn status(options: &McpOptions, ctx: Context, args: &Map<String, Value>) -> Result<JsValue> {
    let Some(raw_dir) = args
        .get("projectDir")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| options.project_dir.clone())
    else {
        return Err(fail(
            "No project directory provided. Either provide the `projectDir` argument or configure the MCP server with the `--project-dir` flag.",
        ));
    };
    let dir = options.resolve_project_dir(&raw_dir)?;
    let ctx = if ctx.cwd == dir {
        ctx
    } else {
        options.context_at(&dir)?
    };
    let within = options.selection_within_project();
    let selection = credentials::get_deployment_selection(&ctx, &options.selection).await?;
    let first =
        credentials::load_selected_deployment_credentials(&ctx, &selection, LoadOptions::default())
            .await?;
    let mut deployments = vec![(
        request::kind_name(&within),
        request::encode_selector(&raw_dir, &within),
        first.clone(),
    )];
    // A project's production deployment is listed too when the server
    // chooses none in particular. A deployment that is already fixed (a
    // deploy key, self-hosted, a local one) has no other to list.
    let through_project = matches!(
        selection,
        DeploymentSelection::WithinProject { .. } | DeploymentSelection::Preview { .. }
    );
    if within == SelectionWithinProject::Unspecified && through_project {
        let prod_selection = selection
            .clone()
            .with_selection_within_project(SelectionWithinProject::Prod);
        let prod = credentials::load_selected_deployment_credentials(
            &ctx,
            &prod_selection,
            LoadOptions::default(),
        )
        .await?;
        let same = prod.fields.as_ref().map(|f| &f.deployment_name)
            == first.fields.as_ref().map(|f| &f.deployment_name);
        if prod.fields.is_some() && !same {
            deployments.push((
                "prod",
                request::encode_selector(&raw_dir, &SelectionWithinProject::Prod),
                prod,
            ));
        }
    }
    // Without full access a production deployment is read-only, and not
    // even that for personal data unless the server allows it.
    let read_only = !options.prod_allowed(ProdAccess::PersonalData);
    let entries = deployments
        .into_iter()
        .map(|(kind, selector, creds)| {
            let mut fields = vec![
                ("kind".to_string(), JsValue::String(kind.to_string())),
                ("deploymentSelector".to_string(), JsValue::String(selector)),
                ("url".to_string(), JsValue::String(creds.url.clone())),
            ];
            if let Some(f) = &creds.fields {
                fields.push((
                    "dashboardUrl".to_string(),
                    JsValue::String(format!("{}/d/{}", ctx.dashboard_host(), f.deployment_name)),
                ));
            }
            let production = kind == "prod" || request::is_production(&creds);
            if production && !options.dangerously_enable_production_deployments {
                fields.push(("readOnly".to_string(), JsValue::Bool(read_only)));
            }
            JsValue::Object(fields)
        })
        .collect();
    Ok(JsValue::Object(vec![(
        "availableDeployments".to_string(),
        JsValue::Array(entries),
    )]))
}

/// Table names as JavaScript sorts them.
fn js_sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    names.dedup();
    names
}

async fn tables(target: &Target) -> Result<JsValue> {
    let schemas = target
        .system_query("_system/frontend/getSchemas", json!({}))
        .await
        .context("Could not read the deployment's schema")?;
    // The declared schema of each table, with the fields the official
    // server keeps, in its order.
    let mut declared: Vec<(String, JsValue)> = Vec::new();
    if let Some(active) = schemas.get("active").and_then(Value::as_str) {
        let parsed: Value =
            serde_json::from_str(active).context("The deployment's active schema is not JSON")?;
        let malformed = || {
            fail(format!(
                "The deployment's active schema has an unexpected shape: {active}"
            ))
        };
        for table in parsed
            .get("tables")
            .and_then(Value::as_array)
            .ok_or_else(malformed)?
        {
            let name = table
                .get("tableName")
                .and_then(Value::as_str)
                .ok_or_else(malformed)?;
            let mut fields = vec![("tableName".to_string(), JsValue::String(name.to_string()))];
            for key in ["indexes", "searchIndexes", "vectorIndexes"] {
                let list = table
                    .get(key)
                    .filter(|v| v.is_array())
                    .ok_or_else(malformed)?;
                fields.push((key.to_string(), js(list)));
            }
            if let Some(document_type) = table.get("documentType") {
                fields.push(("documentType".to_string(), js(document_type)));
            }
            declared.push((name.to_string(), JsValue::Object(fields)));
        }
    }
    let shapes = target
        .ctx
        .deployment_client(&target.credentials.url, &target.credentials.admin_key)?
        .send_json(&DeploymentRequest::new(
            reqwest::Method::GET,
            "/api/shapes2",
        ))
        .await
        .context("Could not read the deployment's table shapes")?
        .unwrap_or(Value::Null);
    let shapes = shapes.as_object().cloned().unwrap_or_default();
    let names = js_sorted(
        shapes
            .keys()
            .cloned()
            .chain(declared.iter().map(|(n, _)| n.clone()))
            .collect(),
    );
    let tables = names
        .into_iter()
        .map(|name| {
            let mut entry = Vec::new();
            if let Some((_, schema)) = declared.iter().rev().find(|(n, _)| *n == name) {
                entry.push(("schema".to_string(), schema.clone()));
            }
            if let Some(shape) = shapes.get(&name) {
                entry.push(("inferredSchema".to_string(), js(shape)));
            }
            (name, JsValue::Object(entry))
        })
        .collect();
    Ok(JsValue::Object(vec![(
        "tables".to_string(),
        JsValue::Object(tables),
    )]))
}

async fn data(target: &Target, args: &Map<String, Value>) -> Result<JsValue> {
    let table = text_arg(args, "tableName");
    let page = target
        .system_query(
            "_system/cli/tableData",
            json!({
                "table": table,
                "order": text_arg(args, "order"),
                "paginationOpts": {
                    "numItems": args.get("limit").cloned().unwrap_or(json!(100)),
                    "cursor": args.get("cursor").cloned().unwrap_or(Value::Null),
                },
            }),
        )
        .await
        .with_context(|| format!("Could not read the table {table}"))?;
    let field = |name: &str| page.get(name).map(js).unwrap_or(JsValue::Null);
    Ok(JsValue::Object(vec![
        ("page".to_string(), field("page")),
        ("isDone".to_string(), field("isDone")),
        ("continueCursor".to_string(), field("continueCursor")),
    ]))
}

/// The value of a `Convex-encoded` JSON answer as the tools return it:
/// as received (an int64 stays `{"$integer": ...}`, bytes `{"$bytes": ...}`).
fn result_value(value: &Value) -> JsValue {
    js(value)
}

fn success(success: bool) -> JsValue {
    JsValue::Object(vec![("success".to_string(), JsValue::Bool(success))])
}

async fn function_spec(target: &Target) -> Result<JsValue> {
    let functions = functions::api_spec(
        &target.ctx.http()?,
        &target.credentials.url,
        &target.credentials.admin_key,
        None,
    )
    .await?;
    ConvexValue::from_serde(&Value::Array(functions))
        .and_then(|v| v.to_json())
        .map_err(|e| {
            fail(format!(
                "The deployment's function list is not a Convex value: {e}"
            ))
        })
}

/// A log line of a function run as the official MCP server reports it:
/// `<level>: <what its logger was given, joined by spaces>`.
fn run_log_line(path: &str, line: &Value) -> String {
    match functions::split_log_line(line) {
        Some((level, message)) => {
            format!("info: %c[CONVEX ?({path})] [{level}] color:rgb(0, 145, 255) {message}")
        }
        None => format!("error: [CONVEX ?({path})] Could not parse console.log"),
    }
}

async fn run_function(target: &Target, args: &Map<String, Value>) -> Result<JsValue> {
    let name = text_arg(args, "functionName");
    let function_args = crate::commands::run::parse_args(text_arg(args, "args"))?;
    let config = crate::project::ProjectConfig::read(&target.project_dir)?;
    let path = crate::push::function_call::parse_function_name(
        name,
        &config.functions,
        &target.project_dir,
    )
    .map_err(fail)?;
    let call = functions::Call {
        path: &path,
        args: &function_args,
        component: None,
    };
    let failed = |message: &str| {
        fail(format!(
            "Failed to run function \"{name}\":\n{}",
            message.trim()
        ))
    };
    match functions::run_function(&target.function_target()?, &call).await {
        Err(e) => Err(failed(&crate::error::message_of(&e))),
        Ok(functions::Outcome::Failure { message, .. }) => Err(failed(&message)),
        Ok(functions::Outcome::Success { value, log_lines }) => Ok(JsValue::Object(vec![
            ("result".to_string(), result_value(&value)),
            (
                "logLines".to_string(),
                JsValue::Array(
                    log_lines
                        .iter()
                        .map(|l| JsValue::String(run_log_line(&path, l)))
                        .collect(),
                ),
            ),
        ])),
    }
}

async fn run_oneoff_query(target: &Target, args: &Map<String, Value>) -> Result<JsValue> {
    let outcome =
        functions::run_test_query(&target.function_target()?, text_arg(args, "query"), None)
            .await
            .map_err(|e| {
                fail(format!(
                    "Failed to run query: {}",
                    crate::error::message_of(&e)
                ))
            })?;
    match outcome {
        functions::InlineOutcome::Failure(payload) => Err(fail(format!(
            "Query failed: {}",
            crate::values::stringify(&js(&payload), 2)
        ))),
        functions::InlineOutcome::Success { value, log_lines } => Ok(JsValue::Object(vec![
            ("result".to_string(), result_value(&value)),
            (
                "logLines".to_string(),
                JsValue::Array(log_lines.iter().map(js).collect()),
            ),
        ])),
    }
}

async fn env_list(target: &Target, args: &Map<String, Value>) -> Result<JsValue> {
    let include_values = args.get("includeValues").and_then(Value::as_bool) == Some(true);
    let variables = target.env_backend()?.list().await?;
    Ok(JsValue::Object(vec![(
        "variables".to_string(),
        JsValue::Array(
            variables
                .into_iter()
                .map(|v| {
                    let mut fields = vec![("name".to_string(), JsValue::String(v.name))];
                    if include_values {
                        fields.push(("value".to_string(), JsValue::String(v.value)));
                    }
                    JsValue::Object(fields)
                })
                .collect(),
        ),
    )]))
}

async fn env_get(target: &Target, args: &Map<String, Value>) -> Result<JsValue> {
    let variable = target.env_backend()?.get(text_arg(args, "name")).await?;
    Ok(JsValue::Object(vec![(
        "value".to_string(),
        variable.map_or(JsValue::Null, |v| JsValue::String(v.value)),
    )]))
}

async fn env_set(target: &Target, args: &Map<String, Value>) -> Result<JsValue> {
    let name = text_arg(args, "name");
    let value = text_arg(args, "value");
    if crate::commands::env::split_assignment(name).is_some() {
        return Err(fail(format!(
            "The name {name} holds a `=`: give the name alone in `name` and the value in `value`."
        )));
    }
    target
        .env_backend()?
        .update(&[EnvVarChange {
            name: name.to_string(),
            value: Some(value.to_string()),
        }])
        .await?;
    Ok(success(true))
}

async fn env_remove(target: &Target, args: &Map<String, Value>) -> Result<JsValue> {
    target
        .env_backend()?
        .update(&[EnvVarChange {
            name: text_arg(args, "name").to_string(),
            value: None,
        }])
        .await?;
    Ok(success(true))
}

/// Keep the newest entries whose JSON fits in about `tokens_limit` tokens
/// (a token taken as three characters), in their order.
fn within_token_budget(entries: &[Value], tokens_limit: f64) -> &[Value] {
    let mut tokens = 0.0;
    let mut start = entries.len();
    for (i, entry) in entries.iter().enumerate().rev() {
        tokens += crate::jsfmt::js_length(&crate::values::stringify(&js(entry), 0)) as f64 * 0.33;
        if tokens > tokens_limit {
            break;
        }
        start = i;
    }
    &entries[start..]
}

async fn logs(target: &Target, args: &Map<String, Value>) -> Result<JsValue> {
    let client = target
        .ctx
        .deployment_client(&target.credentials.url, &target.credentials.admin_key)?;
    let cursor = args.get("cursor").and_then(Value::as_f64).unwrap_or(0.0);
    let (all, new_cursor) = logs_api::poll(&client, cursor)
        .await
        .map_err(|e| fail(format!("Could not fetch the deployment's logs: {e}")))?;
    let status = args.get("status").and_then(Value::as_str).unwrap_or("all");
    let entries: Vec<Value> = all
        .into_iter()
        .filter(|entry| {
            if status == "all" {
                return true;
            }
            if entry.get("kind").and_then(Value::as_str) != Some("Completion") {
                return false;
            }
            let failed = entry.get("error").is_some_and(|e| !e.is_null());
            failed == (status == "failure")
        })
        .collect();
    let entries_limit = args
        .get("entriesLimit")
        .and_then(Value::as_f64)
        .map_or(entries.len(), |n| n as usize);
    let newest = &entries[entries.len().saturating_sub(entries_limit)..];
    let tokens_limit = args
        .get("tokensLimit")
        .and_then(Value::as_f64)
        .unwrap_or(20_000.0);
    let kept = within_token_budget(newest, tokens_limit);
    let jsonl = args.get("jsonl").and_then(Value::as_bool) == Some(true);
    let text = logs_api::format_entries(
        kept,
        &logs_api::LogOptions {
            history: logs_api::History::All,
            success: false,
            jsonl,
            color: false,
        },
    )
    .join("\n");
    Ok(JsValue::Object(vec![
        ("entries".to_string(), JsValue::String(text)),
        ("newCursor".to_string(), JsValue::Number(new_cursor)),
    ]))
}

async fn insights(target: &Target) -> Result<JsValue> {
    let name = insights_api::insights_deployment_name(&target.credentials)?;
    if !target.ctx.auth().is_some_and(|a| {
        a.is_access_token() || matches!(a, credentials::ManagementAuth::PreviewDeployKey(_))
    }) {
        return Err(fail(
            "Insights require to be logged in as a user. Deploy keys and project keys cannot access team usage data.",
        ));
    }
    let team = crate::commands::env::team_and_project(&target.ctx, &name).await?;
    let found = insights_api::fetch_insights(
        &target.ctx.management()?,
        team.team_id,
        &name,
        true,
        std::time::SystemTime::now(),
    )
    .await?;
    let summary = if found.is_empty() {
        "No issues found. The deployment is healthy over the last 72 hours.".to_string()
    } else {
        format!(
            "Found {} in the last 72 hours.",
            insights_api::count_by_severity(&found)
        )
    };
    Ok(JsValue::Object(vec![
        (
            "insights".to_string(),
            JsValue::Array(found.iter().map(|i| i.to_js()).collect()),
        ),
        ("summary".to_string(), JsValue::String(summary)),
        (
            "dashboardUrl".to_string(),
            JsValue::String(format!(
                "{}/d/{name}?view=insights",
                target.ctx.dashboard_host()
            )),
        ),
    ]))
}
