//! The deployment endpoints of a push (`/api/get_config_hashes`,
//! `/api/deploy2/*`), each returning a typed answer or a classified
//! [`PushError`].
//!
//! Transport (the reference's): push bodies (`evaluate_schema`,
//! `evaluate_push`, `start_push`, `finish_push`) are compact JSON, brotli
//! compressed, with `Content-Encoding: br` and a `traceparent` header;
//! `wait_for_schema` has `traceparent` only; `get_config_hashes` and
//! `report_push_completed` neither.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ErrorCategory, PushError, PushResult};
use super::request::{RemoteModuleHash, StartPushRequest, brotli_compress};
use super::tracing::{CompletedSpan, Span};
use crate::http::{DeploymentClient, DeploymentRequest, FetchError, RetryPolicy};

/// Retries of the best-effort `evaluate_schema` call.
const BEST_EFFORT_RETRIES: u32 = 5;
/// Long-poll duration asked of `wait_for_schema`.
pub const SCHEMA_TIMEOUT_MS: u64 = 10_000;

/// What `get_config_hashes` says about the deployment.
#[derive(Debug, Clone, Default)]
pub struct RemoteConfig {
    pub module_hashes: Vec<RemoteModuleHash>,
    /// Node.js version the deployment runs actions with (top-level
    /// `nodeVersion`).
    pub node_version: Option<String>,
    pub udf_server_version: Option<String>,
}

/// A push-body request; `compressed` is the brotli-compressed JSON (the same
/// bytes serve `evaluate_schema`, `evaluate_push` and `start_push`).
fn push_body_request(path: &str, compressed: &[u8], span: &Span) -> DeploymentRequest {
    let mut request = DeploymentRequest::new(Method::POST, path);
    request.body = Some(compressed.to_vec());
    request.headers = vec![
        ("Content-Type".into(), "application/json".into()),
        ("Content-Encoding".into(), "br".into()),
        ("traceparent".into(), span.traceparent()),
    ];
    request
}

async fn read_json(
    client: &DeploymentClient,
    path: &str,
    resp: reqwest::Response,
) -> Result<Value, FetchError> {
    let url = client.url_for(path);
    let bytes = resp.bytes().await.map_err(|e| FetchError::Network {
        url: url.clone(),
        detail: e.to_string(),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| FetchError::Decode {
        url,
        detail: format!("the body is not JSON ({e})"),
    })
}

fn unexpected(path: &str, detail: impl std::fmt::Display) -> PushError {
    PushError::fatal(format!(
        "Unexpected answer from {path}: {detail}. The deployment may run a backend version this CLI does not understand."
    ))
}

/// `POST /api/get_config_hashes`: the server's module hashes and versions.
pub async fn get_config_hashes(
    client: &DeploymentClient,
    cli_version: &str,
) -> PushResult<RemoteConfig> {
    let path = "/api/get_config_hashes";
    let request = DeploymentRequest::new(Method::POST, path)
        .json(&json!({"version": cli_version, "adminKey": client.admin_key()}));
    let context = format!("Unable to pull deployment config from {}", client.url());
    let fail = |e: FetchError| PushError::from_fetch(e).with_context(context.clone());
    let resp = client.send(&request).await.map_err(fail)?;
    client.check_deprecation(&resp);
    let data = read_json(client, path, resp).await.map_err(fail)?;
    parse_remote_config(&data).map_err(|e| e.with_context(context.clone()))
}

fn parse_remote_config(data: &Value) -> PushResult<RemoteConfig> {
    let path = "/api/get_config_hashes";
    let config = data.get("config");
    if !config
        .and_then(|c| c.get("functions"))
        .is_some_and(Value::is_string)
    {
        return Err(unexpected(path, "`config.functions` is not a string"));
    }
    if let Some(v) = config.and_then(|c| c.get("nodeVersion"))
        && !v.is_string()
        && !v.is_null()
    {
        return Err(unexpected(path, "`config.nodeVersion` is not a string"));
    }
    let module_hashes = match data.get("moduleHashes") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| unexpected(path, format!("bad `moduleHashes` ({e})")))?,
    };
    let text = |name: &str| data.get(name).and_then(Value::as_str).map(str::to_string);
    Ok(RemoteConfig {
        module_hashes,
        node_version: text("nodeVersion"),
        udf_server_version: text("udfServerVersion"),
    })
}

/// `POST /api/deploy2/evaluate_schema`, best effort: retries only network
/// errors and 5xx, and any failure (including an answer of the wrong shape)
/// is `None` so the advisory checks skip themselves.
pub async fn evaluate_schema(
    client: &DeploymentClient,
    body: &[u8],
    span: &Span,
) -> Option<EvaluateSchemaResponse> {
    let path = "/api/deploy2/evaluate_schema";
    let mut request = push_body_request(path, body, span);
    request.retry = RetryPolicy::NetworkOrServerError;
    request.max_retries = BEST_EFFORT_RETRIES;
    let result = async {
        let resp = client.send(&request).await.map_err(|e| e.to_string())?;
        let value = read_json(client, path, resp)
            .await
            .map_err(|e| e.to_string())?;
        serde_json::from_value::<EvaluateSchemaResponse>(value).map_err(|e| e.to_string())
    }
    .await;
    match result {
        Ok(response) => Some(response),
        Err(reason) => {
            crate::output::verbose(&format!("Skipping schema evaluation checks: {reason}"));
            None
        }
    }
}

/// `POST /api/deploy2/evaluate_push`: the schema change a push would make
/// (fallback for deployments without `evaluate_schema`).
pub async fn evaluate_push(
    client: &DeploymentClient,
    body: &[u8],
    span: &Span,
    failure_context: &str,
) -> PushResult<Value> {
    let path = "/api/deploy2/evaluate_push";
    let request = push_body_request(path, body, span);
    let resp = client
        .send(&request)
        .await
        .map_err(|e| push_call_error(e, failure_context))?;
    let value = read_json(client, path, resp)
        .await
        .map_err(|e| push_call_error(e, failure_context))?;
    Ok(value.get("schemaChange").cloned().unwrap_or(Value::Null))
}

/// How a failed push call is reported: the step that failed, then the
/// server's error (`PushError::from_fetch`).
pub fn push_call_error(error: FetchError, failure_context: &str) -> PushError {
    PushError::from_fetch(error).with_context(failure_context.to_string())
}

/// `POST /api/deploy2/start_push`. The answer is kept whole: it is echoed
/// back in `finish_push`.
pub async fn start_push(
    client: &DeploymentClient,
    request: &StartPushRequest,
    body: &[u8],
    span: &Span,
    failure_context: &str,
) -> PushResult<StartPushResponse> {
    let path = "/api/deploy2/start_push";
    let summary = json!({
        "hasAppDefinition": true,
        "appFunctionCount": request.app_definition.changed_modules.len()
            + request.app_definition.unchanged_module_hashes.len(),
        "hasAppSchema": request.app_definition.schema.is_some(),
        "componentCount": request.component_definitions.len(),
        "hasDependencies": !request.node_dependencies.is_empty(),
        "dryRun": request.dry_run,
    });
    crate::output::verbose(&format!("Push request summary: {summary}"));
    let http_request = push_body_request(path, body, span);
    let resp = client
        .send(&http_request)
        .await
        .map_err(|e| push_call_error(e, failure_context))?;
    let value = read_json(client, path, resp)
        .await
        .map_err(|e| push_call_error(e, failure_context))?;
    StartPushResponse::from_value(value).map_err(|detail| unexpected(path, detail))
}

/// The `start_push` answer: the raw JSON plus the parts the CLI reads.
#[derive(Debug, Clone)]
pub struct StartPushResponse {
    pub raw: Value,
}

impl StartPushResponse {
    fn from_value(raw: Value) -> Result<StartPushResponse, String> {
        let Some(obj) = raw.as_object() else {
            return Err("not an object".into());
        };
        for key in ["analysis", "schemaChange"] {
            if !obj.get(key).is_some_and(Value::is_object) {
                return Err(format!("`{key}` is missing"));
            }
        }
        Ok(StartPushResponse { raw })
    }

    /// `schemaChange`, sent back to `wait_for_schema`.
    pub fn schema_change(&self) -> &Value {
        &self.raw["schemaChange"]
    }

    /// `analysis`, which final codegen reads.
    pub fn analysis(&self) -> &Value {
        &self.raw["analysis"]
    }

    /// `environmentVariables` (only used to redact verbose output).
    pub fn environment_variables(&self) -> Vec<String> {
        self.raw
            .get("environmentVariables")
            .and_then(Value::as_object)
            .map(|vars| {
                vars.values()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The root component's index diff (`schemaChange.indexDiffs[""]`).
    pub fn root_index_diff(&self) -> Option<IndexDiff> {
        let diff = self.raw.get("schemaChange")?.get("indexDiffs")?.get("")?;
        serde_json::from_value(diff.clone()).ok()
    }
}

/// One answer of `wait_for_schema`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SchemaStatus {
    InProgress {
        #[serde(default)]
        components: std::collections::BTreeMap<String, ComponentSchemaStatus>,
    },
    Failed {
        error: String,
        #[serde(rename = "componentPath", default)]
        component_path: Option<String>,
        #[serde(rename = "tableName", default)]
        table_name: Option<String>,
    },
    RaceDetected,
    Complete,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentSchemaStatus {
    pub schema_validation_complete: bool,
    pub indexes_complete: u64,
    pub indexes_total: u64,
}

/// `POST /api/deploy2/wait_for_schema` once (a 10 s long poll).
pub async fn wait_for_schema_once(
    client: &DeploymentClient,
    schema_change: &Value,
    dry_run: bool,
    span: &Span,
) -> PushResult<SchemaStatus> {
    let path = "/api/deploy2/wait_for_schema";
    let context = format!("Unable to wait for schema from {}", client.url());
    let mut request = DeploymentRequest::new(Method::POST, path).json(&json!({
        "adminKey": client.admin_key(),
        "schemaChange": schema_change,
        "timeoutMs": SCHEMA_TIMEOUT_MS,
        "dryRun": dry_run,
    }));
    request.headers = vec![("traceparent".into(), span.traceparent())];
    let resp = client
        .send(&request)
        .await
        .map_err(|e| PushError::from_fetch(e).with_context(context.clone()))?;
    let value = read_json(client, path, resp)
        .await
        .map_err(|e| PushError::from_fetch(e).with_context(context.clone()))?;
    serde_json::from_value(value).map_err(|e| unexpected(path, e))
}

/// `POST /api/deploy2/finish_push`.
pub async fn finish_push(
    client: &DeploymentClient,
    start_push: &StartPushResponse,
    dry_run: bool,
    message: Option<&str>,
    span: &Span,
) -> PushResult<Value> {
    let path = "/api/deploy2/finish_push";
    let context = format!("Unable to finish push to {}", client.url());
    let body = json!({
        "adminKey": client.admin_key(),
        "startPush": start_push.raw,
        "dryRun": dry_run,
        "message": message,
    });
    let bytes = serde_json::to_vec(&body).expect("JSON values serialise");
    let request = push_body_request(path, &brotli_compress(&bytes), span);
    let resp = client
        .send(&request)
        .await
        .map_err(|e| push_call_error(e, &context))?;
    let value = read_json(client, path, resp)
        .await
        .map_err(|e| push_call_error(e, &context))?;
    if !value.get("componentDiffs").is_some_and(Value::is_object) {
        return Err(unexpected(path, "`componentDiffs` is missing"));
    }
    Ok(value)
}

/// `POST /api/deploy2/report_push_completed`. Advisory: failures are only
/// reported in verbose output.
pub async fn report_push_completed(client: &DeploymentClient, spans: &[CompletedSpan]) {
    let path = "/api/deploy2/report_push_completed";
    let request = DeploymentRequest::new(Method::POST, path)
        .json(&json!({"adminKey": client.admin_key(), "spans": spans}));
    if let Err(e) = client.send(&request).await {
        crate::output::verbose(&format!(
            "Unable to report push completed to {}: {e}",
            client.url()
        ));
    }
}

/// `GET /api/v1/get_canonical_urls`: the URLs clients should use (they may
/// differ from the URL the CLI pushes to, e.g. with custom domains).
pub async fn canonical_urls(client: &DeploymentClient) -> Result<(String, String), PushError> {
    let path = "/api/v1/get_canonical_urls";
    let request = DeploymentRequest::new(Method::GET, path);
    let context = format!("Unable to fetch the canonical URLs of {}", client.url());
    let resp = client
        .send(&request)
        .await
        .map_err(|e| PushError::from_fetch(e).with_context(context.clone()))?;
    let value = read_json(client, path, resp)
        .await
        .map_err(|e| PushError::from_fetch(e).with_context(context.clone()))?;
    match (
        value.get("convexCloudUrl").and_then(Value::as_str),
        value.get("convexSiteUrl").and_then(Value::as_str),
    ) {
        (Some(cloud), Some(site)) => Ok((cloud.to_string(), site.to_string())),
        _ => Err(unexpected(path, "the URLs are missing")),
    }
}

/// One index as the server describes it in diffs and evaluations.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexSpec {
    /// `<table>.<index>`.
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub search_field: Option<String>,
    #[serde(default)]
    pub vector_field: Option<String>,
    #[serde(default)]
    pub dimensions: Option<u64>,
    #[serde(default)]
    pub filter_fields: Vec<String>,
    #[serde(default)]
    pub staged: Option<bool>,
}

impl IndexSpec {
    pub fn table(&self) -> &str {
        self.name.split('.').next().unwrap_or(&self.name)
    }

    pub fn is_staged(&self) -> bool {
        self.staged == Some(true)
    }
}

/// Index changes of one component.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct IndexDiff {
    #[serde(default)]
    pub added_indexes: Vec<IndexSpec>,
    #[serde(default)]
    pub removed_indexes: Vec<IndexSpec>,
    #[serde(default)]
    pub enabled_indexes: Vec<IndexSpec>,
    #[serde(default)]
    pub disabled_indexes: Vec<IndexSpec>,
}

/// The `evaluate_schema` answer (only the parts the checks read).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateSchemaResponse {
    pub component_schema_evaluations: std::collections::BTreeMap<String, ComponentEvaluation>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentEvaluation {
    #[serde(default)]
    pub tables: Vec<TablePrediction>,
    #[serde(default)]
    pub indexes: Vec<IndexPrediction>,
    #[serde(default)]
    pub discarded_staged_validators: Vec<DiscardedStagedValidator>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TablePrediction {
    pub name: String,
    pub outcome: String,
    #[serde(default)]
    pub num_docs: u64,
    #[serde(default)]
    pub size_bytes: u64,
    #[serde(default)]
    pub staged: Option<Value>,
    #[serde(default)]
    pub can_skip_after_staged_validation: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexPrediction {
    #[serde(flatten)]
    pub index: IndexSpec,
    pub change: String,
    #[serde(default)]
    pub needs_backfill: bool,
    #[serde(default)]
    pub num_docs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscardedStagedValidator {
    pub table_name: String,
    #[serde(default)]
    pub state: Value,
    #[serde(default)]
    pub replaced: Option<bool>,
}

/// Category of a `wait_for_schema` failure.
pub fn schema_failure_category(
    table_name: Option<&str>,
    component_path: Option<&str>,
) -> ErrorCategory {
    ErrorCategory::InvalidFilesystemOrDbData {
        table_name: table_name.map(str::to_string),
        component_path: component_path.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_config_parsing() {
        let data = json!({
            "config": {"functions": "convex/", "authInfo": []},
            "moduleHashes": [{"path": "a.js", "hash": "ff", "environment": "node"}],
            "nodeDependencies": [],
            "udfServerVersion": null,
            "nodeVersion": "20"
        });
        let config = parse_remote_config(&data).unwrap();
        assert_eq!(config.module_hashes.len(), 1);
        assert_eq!(config.node_version.as_deref(), Some("20"));
        assert_eq!(config.udf_server_version, None);
        assert!(parse_remote_config(&json!({"config": {}})).is_err());
        assert!(
            parse_remote_config(&json!({"config": {"functions": "x", "nodeVersion": 3}})).is_err()
        );
    }

    #[test]
    fn schema_status_parsing() {
        let s: SchemaStatus = serde_json::from_value(json!({
            "type": "inProgress",
            "components": {"": {"schemaValidationComplete": false, "indexesComplete": 0, "indexesTotal": 1}}
        }))
        .unwrap();
        assert!(
            matches!(s, SchemaStatus::InProgress { ref components } if components[""].indexes_total == 1)
        );
        let f: SchemaStatus = serde_json::from_value(json!({
            "type": "failed", "error": "bad doc", "tableName": "notes"
        }))
        .unwrap();
        assert_eq!(
            f,
            SchemaStatus::Failed {
                error: "bad doc".into(),
                component_path: None,
                table_name: Some("notes".into())
            }
        );
        let r: SchemaStatus = serde_json::from_value(json!({"type": "raceDetected"})).unwrap();
        assert_eq!(r, SchemaStatus::RaceDetected);
    }

    #[test]
    fn evaluation_parsing_keeps_index_details() {
        let e: EvaluateSchemaResponse = serde_json::from_value(json!({
            "componentSchemaEvaluations": {"": {
                "definitionPath": "", "schemaValidation": true,
                "tables": [{"name": "notes", "outcome": "mustWalk", "numDocs": 5, "sizeBytes": 10}],
                "indexes": [{"name": "notes.by_tag", "type": "database", "fields": ["tag"],
                             "change": "dropped", "needsBackfill": false, "numDocs": 200000}]
            }},
            "newComponentDefinitions": []
        }))
        .unwrap();
        let root = &e.component_schema_evaluations[""];
        assert_eq!(root.indexes[0].index.name, "notes.by_tag");
        assert_eq!(root.indexes[0].index.fields, ["tag"]);
        assert_eq!(root.indexes[0].num_docs, 200_000);
        assert_eq!(root.tables[0].outcome, "mustWalk");
    }
}
