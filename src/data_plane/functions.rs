//! Running functions: one call (`POST /api/function`, as the official
//! browser HTTP client sends it), a live query ([`watch_query`]), the
//! function spec (`_system/cli/modules:apiSpec` + `convexUrl:cloudUrl`), and
//! the "Available functions" listing after "Could not find function".

use anyhow::{Context as _, Result};
use base64::Engine as _;
use serde_json::Value;

use crate::http::HttpClient;
use crate::sync::{Query, Subscription, SyncClient};
use crate::values::{ConvexValue, JsValue, stringify, to_serde_json};

/// Where to run: the deployment, its admin key, and optionally a fake
/// identity to act as (`run --identity`).
#[derive(Clone)]
pub struct Target {
    pub http: HttpClient,
    pub deployment_url: String,
    pub admin_key: String,
    /// Filled in by [`crate::values::fake_identity`].
    pub identity: Option<JsValue>,
    /// The `convex` npm version named in `Convex-Client: npm-<version>`.
    pub npm_version: String,
}

/// One function call.
pub struct Call<'a> {
    /// `path:export` (see [`crate::push::function_call::parse_function_name`]).
    pub path: &'a str,
    /// Convex-encoded arguments (an object).
    pub args: &'a JsValue,
    pub component: Option<&'a str>,
}

/// What a call did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The function returned `value` (Convex-encoded JSON).
    Success { value: Value, log_lines: Vec<Value> },
    /// The function (or the request) failed: `message` as the official CLI
    /// shows it (`Error: ...`, `ConvexError: ...`).
    Failure {
        message: String,
        log_lines: Vec<Value>,
        /// `errorData` of a `ConvexError`.
        error_data: Option<Value>,
    },
}

/// `Authorization: Convex <key>`, or with an identity
/// `Convex <key>:<base64 of the identity's JSON>`.
pub fn authorization(admin_key: &str, identity: Option<&JsValue>) -> String {
    match identity {
        None => format!("Convex {admin_key}"),
        Some(identity) => format!(
            "Convex {admin_key}:{}",
            base64::engine::general_purpose::STANDARD.encode(stringify(identity, 0))
        ),
    }
}

/// Call a function once. Network failures are errors; everything the
/// deployment answered is an [`Outcome`].
pub async fn run_function(target: &Target, call: &Call<'_>) -> Result<Outcome> {
    let mut body: Vec<(String, JsValue)> = Vec::new();
    if let Some(component) = call.component {
        body.push(("componentPath".into(), JsValue::String(component.into())));
    }
    body.push(("path".into(), JsValue::String(call.path.into())));
    body.push((
        "format".into(),
        JsValue::String("convex_encoded_json".into()),
    ));
    body.push(("args".into(), call.args.clone()));
    let url = format!(
        "{}/api/function",
        target.deployment_url.trim_end_matches('/')
    );
    // As the official browser client: its own Convex-Client value, no
    // retries, and a 560 answer ("the function failed") carries the same
    // JSON body as a success.
    let response = target
        .http
        .reqwest_for(&url)
        .post(&url)
        .header("Content-Type", "application/json")
        .header("Convex-Client", format!("npm-{}", target.npm_version))
        .header(
            "Authorization",
            authorization(&target.admin_key, target.identity.as_ref()),
        )
        .body(stringify(&JsValue::Object(body), 0))
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "Could not reach {url}: {e}\nCheck the deployment URL and your network (and HTTPS_PROXY / NO_PROXY if you use a proxy), then try again."
            )
        })?;
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .with_context(|| format!("The answer from {url} was cut off"))?;
    if !(200..300).contains(&status) && status != 560 {
        return Ok(Outcome::Failure {
            message: format!("Error: {}", text.trim()),
            log_lines: Vec::new(),
            error_data: None,
        });
    }
    let answer: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => {
            return Ok(Outcome::Failure {
                message: format!(
                    "Error: the deployment answered with something that is not JSON: {}",
                    text.trim()
                ),
                log_lines: Vec::new(),
                error_data: None,
            });
        }
    };
    let log_lines = answer
        .get("logLines")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match answer.get("status").and_then(Value::as_str) {
        Some("success") => Ok(Outcome::Success {
            value: answer.get("value").cloned().unwrap_or(Value::Null),
            log_lines,
        }),
        Some("error") => {
            let message = answer
                .get("errorMessage")
                .map(|m| match m {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            let error_data = answer.get("errorData").cloned();
            let message = if error_data.is_some() {
                format!("ConvexError: {message}")
            } else {
                format!("Error: {message}")
            };
            Ok(Outcome::Failure {
                message,
                log_lines,
                error_data,
            })
        }
        _ => Ok(Outcome::Failure {
            message: format!("Error: Invalid response: {}", compact_json(&answer)),
            log_lines,
            error_data: None,
        }),
    }
}

fn compact_json(v: &Value) -> String {
    stringify(&JsValue::from_serde(v), 0)
}

/// A function log line as the official client prints it:
/// `[CONVEX ?(path)] [LEVEL] message`.
pub fn function_log_line(path: &str, line: &Value) -> String {
    match split_log_line(line) {
        Some((level, message)) => format!("[CONVEX ?({path})] [{level}] {message}"),
        None => format!("[CONVEX ?({path})] Could not parse console.log"),
    }
}

/// A function log line's `[LEVEL]` and message (`None` when it has no
/// level, which the official client reports as unparsable).
pub fn split_log_line(line: &Value) -> Option<(String, String)> {
    let text = match line {
        Value::String(s) => s.clone(),
        other => format!("ConvexError {}", stringify(&JsValue::from_serde(other), 2)),
    };
    // `^\[.*?\] ` without crossing a line break.
    let first_line_end = text.find(['\n', '\r']).unwrap_or(text.len());
    let rest = text[..first_line_end].strip_prefix('[')?;
    let end = rest.find("] ")?;
    Some((rest[..end].to_string(), text[end + 3..].to_string()))
}

/// The official client's text for a permission failure, when `message` is
/// one (only the permission sentence is kept, plus which variable holds the
/// deploy key).
pub fn permission_denied(message: &str, deploy_key_var: Option<&str>) -> Option<String> {
    const PREFIX: &str = "You do not have permission to perform this operation";
    let index = message.find(PREFIX)?;
    let mut msg = message[index..]
        .split('\n')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if let Some(var) = deploy_key_var {
        msg.push_str(&format!(
            "\nThis is determined by the permissions granted to {var}."
        ));
    }
    Some(msg)
}

/// The value as `convex run` prints it: `JSON.stringify(convexToJson(v),
/// null, 2)` (keys sorted, bigints as `$integer`, JavaScript's number
/// format). `None` for `null`, which is not printed.
pub fn format_result(value: &Value) -> Result<Option<String>, String> {
    let v = ConvexValue::from_serde(value)?;
    if v == ConvexValue::Null {
        return Ok(None);
    }
    Ok(Some(stringify(&v.to_json()?, 2)))
}

/// Subscribe to a query; each [`crate::sync::QueryUpdate`] is a new result.
pub async fn watch_query(
    target: &Target,
    path: &str,
    args: &JsValue,
    component: Option<&str>,
) -> Result<Subscription, crate::sync::SyncError> {
    let client = SyncClient::new(target.http.clone(), &target.deployment_url).with_admin_auth(
        &target.admin_key,
        target.identity.as_ref().map(to_serde_json),
    );
    client
        .subscribe(Query::new(path, to_serde_json(args)).component(component))
        .await
}

/// The deployment's functions (`_system/cli/modules:apiSpec`), in a
/// component when given.
pub async fn api_spec(
    http: &HttpClient,
    deployment_url: &str,
    admin_key: &str,
    component: Option<&str>,
) -> Result<Vec<Value>> {
    let client = SyncClient::new(http.clone(), deployment_url).with_admin_auth(admin_key, None);
    let value = client
        .query(
            &Query::new("_system/cli/modules:apiSpec", serde_json::json!({})).component(component),
        )
        .await
        .context("Could not read the deployment's function list")?;
    match value {
        Value::Array(functions) => Ok(functions),
        other => Err(anyhow::anyhow!(
            "The deployment answered the function list with {other}"
        )),
    }
}

/// `function-spec`'s JSON: `{"url": ..., "functions": [...]}`, indented.
pub async fn function_spec(
    http: &HttpClient,
    deployment_url: &str,
    admin_key: &str,
) -> Result<String> {
    let functions = api_spec(http, deployment_url, admin_key, None).await?;
    let client = SyncClient::new(http.clone(), deployment_url).with_admin_auth(admin_key, None);
    let url = client
        .query(&Query::new(
            "_system/cli/convexUrl:cloudUrl",
            serde_json::json!({}),
        ))
        .await
        .context("Could not read the deployment's URL")?;
    let functions = ConvexValue::from_serde(&Value::Array(functions))
        .and_then(|v| v.to_json())
        .map_err(|e| {
            anyhow::anyhow!("The deployment's function list is not a Convex value: {e}")
        })?;
    let spec = JsValue::Object(vec![
        ("url".into(), JsValue::from_serde(&url)),
        ("functions".into(), functions),
    ]);
    Ok(stringify(&spec, 2))
}

/// What an inline query did.
#[derive(Debug, Clone, PartialEq)]
pub enum InlineOutcome {
    Success {
        value: Value,
        log_lines: Vec<Value>,
    },
    /// The deployment's whole answer when it was not a success.
    Failure(Value),
}

const QUERY_MODULE_PREAMBLE: &str =
    "import { query, internalQuery } from \"convex:/_system/repl/wrappers.js\";";

/// The module `--inline-query` code becomes (as the official CLI builds it):
/// a module source is used as is (with the wrappers' import added), an
/// expression is returned, statements are the handler's body.
pub fn inline_query_source(inline_query: &str) -> String {
    let trimmed = inline_query.trim();
    let looks_like_module = trimmed.contains("export default")
        && regex::Regex::new(r"\b(?:query|internalQuery)\s*\(")
            .map(|re| re.is_match(trimmed))
            .unwrap_or(false);
    if looks_like_module {
        if trimmed.contains("convex:/_system/repl/wrappers.js") {
            return trimmed.to_string();
        }
        return format!("{QUERY_MODULE_PREAMBLE}\n\n{trimmed}");
    }
    let is_statement =
        regex::Regex::new(r"^(const|let|var|if|for|while|switch|try|throw|return)\b")
            .map(|re| re.is_match(trimmed))
            .unwrap_or(false);
    let body = if trimmed.contains('\n') || is_statement {
        trimmed.to_string()
    } else {
        format!("return ({});", trimmed.strip_suffix(';').unwrap_or(trimmed))
    };
    let indented: Vec<String> = body.split('\n').map(|l| format!("    {l}")).collect();
    format!(
        "{QUERY_MODULE_PREAMBLE}\n\nexport default query({{\n  handler: async (ctx) => {{\n{}\n  }},\n}});",
        indented.join("\n")
    )
}

/// The id of the component mounted at `path` (`None`: the app root), or an
/// error listing the mounted components.
pub async fn component_id(target: &Target, path: Option<&str>) -> Result<Option<String>> {
    let path = path.map(str::trim);
    let path = match path {
        None | Some("_App") => return Ok(None),
        Some("") => return Err(crate::error::fail("`--component` must not be empty.")),
        Some(p) => p,
    };
    let client = SyncClient::new(target.http.clone(), &target.deployment_url)
        .with_admin_auth(&target.admin_key, None);
    let components = client
        .query(&Query::new(
            "_system/frontend/components:list",
            serde_json::json!({}),
        ))
        .await
        .context("Could not list the deployment's components")?;
    let components = components.as_array().cloned().unwrap_or_default();
    if let Some(found) = components
        .iter()
        .find(|c| c.get("path").and_then(Value::as_str) == Some(path))
    {
        return Ok(found.get("id").and_then(Value::as_str).map(str::to_string));
    }
    let mut available: Vec<&str> = components
        .iter()
        .filter_map(|c| c.get("path").and_then(Value::as_str))
        .filter(|p| !p.is_empty())
        .collect();
    available.sort();
    let listing = if available.is_empty() {
        "This deployment has no mounted components.".to_string()
    } else {
        format!(
            "Available components:\n{}",
            available
                .iter()
                .map(|p| format!("• {}", crate::output::style::gray(p)))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    Err(crate::error::fail(format!(
        "Component path \"{path}\" was not found.\n\n{listing}\nOmit `--component` to target the app root."
    )))
}

/// Evaluate `--inline-query` code (`POST /api/run_test_function`).
pub async fn run_inline_query(
    target: &Target,
    inline_query: &str,
    component: Option<&str>,
) -> Result<InlineOutcome> {
    let component_id = component_id(target, component).await?;
    run_test_query(target, &inline_query_source(inline_query), component_id).await
}

/// Evaluate a query module's source (`POST /api/run_test_function`, as the
/// dashboard and the MCP `runOneoffQuery` tool send it).
pub async fn run_test_query(
    target: &Target,
    source: &str,
    component_id: Option<String>,
) -> Result<InlineOutcome> {
    let mut body = serde_json::json!({
        "adminKey": target.admin_key,
        "args": {},
        "bundle": {"path": "testQuery.js", "source": source},
        "format": "convex_encoded_json",
    });
    if let Some(id) = component_id {
        body["componentId"] = Value::String(id);
    }
    let client = crate::http::DeploymentClient::new(
        target.http.clone(),
        &target.deployment_url,
        &target.admin_key,
    );
    let answer = client
        .send_json(
            &crate::http::DeploymentRequest::new(reqwest::Method::POST, "/api/run_test_function")
                .json(&body),
        )
        .await
        .context("Could not run the inline query")?
        .unwrap_or(Value::Null);
    if answer.get("status").and_then(Value::as_str) != Some("success") {
        return Ok(InlineOutcome::Failure(answer));
    }
    Ok(InlineOutcome::Success {
        value: answer.get("value").cloned().unwrap_or(Value::Null),
        log_lines: answer
            .get("logLines")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn inline_query_modules() {
        let src = inline_query_source("await ctx.db.query(\"m\").take(5);");
        assert!(src.ends_with("export default query({\n  handler: async (ctx) => {\n    return (await ctx.db.query(\"m\").take(5));\n  },\n});"), "{src}");
        let src = inline_query_source("const a = 1;\nreturn a;");
        assert!(src.contains("    const a = 1;\n    return a;"), "{src}");
        let module = "export default query({ handler: async () => 1 })";
        assert_eq!(
            inline_query_source(module),
            format!("{QUERY_MODULE_PREAMBLE}\n\n{module}")
        );
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn log_lines() {
        assert_eq!(
            function_log_line("notes:list", &json!("[LOG] 'listing notes'")),
            "[CONVEX ?(notes:list)] [LOG] 'listing notes'"
        );
        assert_eq!(
            function_log_line("x:y", &json!("no level")),
            "[CONVEX ?(x:y)] Could not parse console.log"
        );
        assert_eq!(
            function_log_line("x:y", &json!("[LOG\n] x")),
            "[CONVEX ?(x:y)] Could not parse console.log"
        );
        assert_eq!(
            function_log_line("x:y", &json!("[WARN] a\nb")),
            "[CONVEX ?(x:y)] [WARN] a\nb"
        );
    }

    #[test]
    fn identities_ride_in_the_authorization_header() {
        assert_eq!(authorization("k", None), "Convex k");
        let id = JsValue::Object(vec![("subject".into(), JsValue::String("u".into()))]);
        assert_eq!(
            authorization("k", Some(&id)),
            format!(
                "Convex k:{}",
                base64::engine::general_purpose::STANDARD.encode(r#"{"subject":"u"}"#)
            )
        );
    }

    #[test]
    fn permission_messages() {
        assert_eq!(
            permission_denied(
                "[CONVEX Q(x)] You do not have permission to perform this operation (deployment:data:view).\n  at x",
                Some("CONVEX_DEPLOY_KEY")
            )
            .unwrap(),
            "You do not have permission to perform this operation (deployment:data:view).\nThis is determined by the permissions granted to CONVEX_DEPLOY_KEY."
        );
        assert!(permission_denied("Uncaught Error", None).is_none());
    }

    #[test]
    fn results() {
        assert_eq!(format_result(&json!(null)).unwrap(), None);
        assert_eq!(
            format_result(&json!({"b": 1, "a": {"$integer": "AQAAAAAAAAA="}}))
                .unwrap()
                .unwrap(),
            "{\n  \"a\": {\n    \"$integer\": \"AQAAAAAAAAA=\"\n  },\n  \"b\": 1\n}"
        );
    }
}
