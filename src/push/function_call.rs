//! Running one Convex function with admin rights (`POST /api/function`) and
//! logging what it did, as `deploy --preview-run` and `dev --run` do after a
//! push. The one implementation both commands call.

use std::path::Path;

use serde_json::{Value, json};

use super::error::{ErrorCategory, PushError, PushResult};
use crate::http::{DeploymentClient, HttpClient};
use crate::output::style;

/// The extensions a function path may be written with.
const EXTENSIONS: [&str; 8] = [".ts", ".js", ".tsx", ".jsx", ".mts", ".mjs", ".cts", ".cjs"];

/// `api.foo.bar` → `foo:bar`; `foo/bar` → `foo/bar:default`;
/// `foo/bar.ts:baz` → `foo/bar:baz`. A path starting with the functions
/// directory as written in `convex.json` (`convex/foo`) is taken relative to
/// it, unless the functions directory itself holds such a file
/// (`convex/convex/foo.ts`).
pub fn parse_function_name(
    name: &str,
    functions_dir_name: &str,
    project_root: &Path,
) -> Result<String, String> {
    if name.starts_with("api.") || name.starts_with("internal.") {
        let parts: Vec<&str> = name.split('.').collect();
        if parts.len() < 3 {
            return Err(format!("Function name has too few parts: \"{name}\""));
        }
        let export = parts[parts.len() - 1];
        return Ok(format!("{}:{export}", parts[1..parts.len() - 1].join("/")));
    }
    let file_path = name.split(':').next().unwrap_or(name);
    let (normalized, has_extension) = EXTENSIONS
        .iter()
        .find_map(|ext| file_path.strip_suffix(ext))
        .map_or((file_path, false), |stripped| (stripped, true));
    let export = name.split(':').nth(1).unwrap_or("default");
    let full = format!("{normalized}:{export}");
    let Some(without_prefix) = normalized.strip_prefix(functions_dir_name) else {
        return Ok(full);
    };
    let functions_dir = project_root.join(functions_dir_name);
    let exists = if has_extension {
        functions_dir.join(file_path).exists()
    } else {
        EXTENSIONS
            .iter()
            .any(|ext| functions_dir.join(format!("{file_path}{ext}")).exists())
    };
    Ok(if exists {
        full
    } else {
        format!("{without_prefix}:{export}")
    })
}

/// One call: what the user named, the parsed path, the component.
pub struct FunctionCall<'a> {
    /// The name as the user wrote it (used in messages).
    pub display_name: &'a str,
    /// `path:export`, from [`parse_function_name`].
    pub path: &'a str,
    pub component: Option<&'a str>,
    /// The `convex` npm version the official browser client would name in
    /// its `Convex-Client` header (`npm-<version>`).
    pub npm_version: &'a str,
}

/// Runs the function with empty arguments, prints its log lines (stderr),
/// "Finished running function" and its value (stdout) unless it is `null`.
///
/// Failures: "function not found" is the project's files (with the list of
/// functions the deployment has), no answer at all is transient, anything
/// else is the files or the deployment's environment variables.
pub async fn run_function_and_log(
    client: &DeploymentClient,
    http: &HttpClient,
    call: &FunctionCall<'_>,
) -> PushResult<()> {
    let mut body = serde_json::Map::new();
    if let Some(component) = call.component {
        body.insert("componentPath".into(), json!(component));
    }
    body.insert("path".into(), json!(call.path));
    body.insert("format".into(), json!("convex_encoded_json"));
    body.insert("args".into(), json!({}));
    let url = client.url_for("/api/function");
    // The official CLI sends this through its browser client: its own
    // `Convex-Client` value, no retries, and a 560 answer ("the function
    // failed") carries the same JSON body as a success.
    let response = http
        .reqwest_for(&url)
        .post(&url)
        .header("Content-Type", "application/json")
        .header("Convex-Client", format!("npm-{}", call.npm_version))
        .header("Authorization", format!("Convex {}", client.admin_key()))
        .body(Value::Object(body).to_string())
        .send()
        .await;
    let failed = |category: ErrorCategory, message: &str| {
        PushError::new(
            category,
            format!(
                "Failed to run function \"{}\":\n{}",
                call.display_name,
                style::red(message)
            ),
        )
    };
    let invalid = |message: String| failed(ErrorCategory::InvalidFilesystemOrEnvVars, &message);
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            return Err(failed(
                ErrorCategory::Transient,
                &format!("Could not reach {url}: {e}"),
            ));
        }
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() && status.as_u16() != 560 {
        return Err(invalid(format!("Error: {}", text.trim())));
    }
    let answer: Value = serde_json::from_str(&text)
        .map_err(|_| invalid(format!("Error: Invalid response: {}", text.trim())))?;
    if let Some(lines) = answer.get("logLines").and_then(Value::as_array) {
        for line in lines {
            crate::output::message(&log_line(call.path, line));
        }
    }
    match answer.get("status").and_then(Value::as_str) {
        Some("success") => {
            crate::output::success(&format!(
                "Finished running function \"{}\"",
                call.display_name
            ));
            let value = answer.get("value").cloned().unwrap_or(Value::Null);
            if !value.is_null() {
                crate::output::data(&format_value(&value));
            }
            Ok(())
        }
        Some("error") => {
            let message = answer
                .get("errorMessage")
                .and_then(Value::as_str)
                .unwrap_or("");
            let message = if answer.get("errorData").is_some() {
                format!("ConvexError: {message}")
            } else {
                format!("Error: {message}")
            };
            if message.contains("Could not find function") {
                let listing = available_functions(client, http, call.component).await;
                return Err(PushError::new(
                    ErrorCategory::InvalidFilesystemData,
                    format!(
                        "Failed to run function \"{}\":\n{}\n\n{listing}",
                        call.display_name,
                        style::red(&message)
                    ),
                ));
            }
            Err(invalid(message))
        }
        _ => Err(invalid(format!("Error: Invalid response: {}", text.trim()))),
    }
}

/// The value as the official CLI prints it off a terminal: JSON with two
/// spaces of indentation.
pub fn format_value(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// A function log line as the browser client logs it (`[CONVEX ?(path)]`).
fn log_line(path: &str, line: &Value) -> String {
    let text = match line {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match text
        .strip_prefix('[')
        .and_then(|rest| rest.find("] ").map(|end| (&rest[..end], &rest[end + 2..])))
    {
        Some((level, message)) => format!("[CONVEX ?({path})] [{level}] {message}"),
        None => format!("[CONVEX ?({path})] Could not parse console.log"),
    }
}

/// "Available functions:" followed by `• path:name` lines (system query
/// `_system/cli/modules:apiSpec` over the sync protocol, as the official
/// CLI), or "No functions found.".
pub async fn available_functions(
    client: &DeploymentClient,
    http: &HttpClient,
    component: Option<&str>,
) -> String {
    let sync = crate::sync::SyncClient::new(http.clone(), client.url())
        .with_admin_auth(client.admin_key(), None);
    let query =
        crate::sync::Query::new("_system/cli/modules:apiSpec", json!({})).component(component);
    let functions = match sync.query(&query).await {
        Ok(Value::Array(functions)) => functions,
        Ok(_) => Vec::new(),
        Err(e) => {
            crate::output::verbose(&format!("Could not list the deployment's functions: {e}"));
            Vec::new()
        }
    };
    format_available_functions(&functions)
}

/// The listing of [`available_functions`] for an `apiSpec` answer.
pub fn format_available_functions(functions: &[Value]) -> String {
    let names: Vec<String> = functions
        .iter()
        .filter(|f| f.get("functionType").and_then(Value::as_str) != Some("HttpAction"))
        .filter_map(|f| f.get("identifier").and_then(Value::as_str))
        .map(|identifier| match identifier.split_once(':') {
            Some((path, name)) => format!(
                "• {}{name}",
                style::gray(&format!("{}:", path.strip_suffix(".js").unwrap_or(path)))
            ),
            None => format!("• {}{identifier}", style::gray(":")),
        })
        .collect();
    if names.is_empty() {
        "No functions found.".to_string()
    } else {
        format!("Available functions:\n{}", names.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path();
        let parse = |n: &str| parse_function_name(n, "convex/", p).unwrap();
        assert_eq!(parse("api.notes.list"), "notes:list");
        assert_eq!(parse("api.a.b.c"), "a/b:c");
        assert_eq!(parse("internal.lib.util.go"), "lib/util:go");
        assert_eq!(
            parse_function_name("api.x", "convex/", p).unwrap_err(),
            "Function name has too few parts: \"api.x\""
        );
        assert_eq!(parse("notes:list"), "notes:list");
        assert_eq!(parse("dir/file"), "dir/file:default");
        assert_eq!(parse("notes.ts:list"), "notes:list");
        assert_eq!(parse("convex/notes:list"), "notes:list");
        assert_eq!(parse("convex/notes.ts:list"), "notes:list");
        // `convex/convex/notes.ts` exists: the name is taken as written.
        std::fs::create_dir_all(p.join("convex/convex")).unwrap();
        std::fs::write(p.join("convex/convex/notes.ts"), "").unwrap();
        assert_eq!(parse("convex/notes:list"), "convex/notes:list");
        assert_eq!(parse("convex/notes.ts:list"), "convex/notes:list");
    }

    #[test]
    fn values_and_log_lines() {
        assert_eq!(
            format_value(&json!({"a": [1, 2]})),
            "{\n  \"a\": [\n    1,\n    2\n  ]\n}"
        );
        assert_eq!(
            log_line("hello:hello", &json!("[LOG] 'hi'")),
            "[CONVEX ?(hello:hello)] [LOG] 'hi'"
        );
        assert_eq!(
            log_line("x:y", &json!("oops")),
            "[CONVEX ?(x:y)] Could not parse console.log"
        );
    }
}
