//! `--run <function>`: call a function once after the first successful push
//! (`POST /api/function` with empty arguments), print its log lines on
//! stderr and its value on stdout.

use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};

use super::style;
use super::watch_loop::{FailureCategory, PushFailure};
use crate::http::{DeploymentClient, DeploymentRequest};

/// `api.a.b.c` → `a/b:c`; `path:export` kept (extension dropped); `path`
/// → `path:default`. A path starting with the functions folder is made
/// relative to it unless such a file exists from the project root.
pub fn parse_function_name(name: &str, functions_dir: &str, project_root: &Path) -> String {
    if name.starts_with("api.") || name.starts_with("internal.") {
        let mut parts: Vec<&str> = name.split('.').collect();
        if parts.len() >= 3 {
            let export = parts.pop().unwrap_or_default();
            return format!("{}:{export}", parts[1..].join("/"));
        }
    }
    const EXTENSIONS: [&str; 8] = [".ts", ".js", ".tsx", ".jsx", ".mts", ".mjs", ".cts", ".cjs"];
    let file_path = name.split(':').next().unwrap_or(name);
    let mut normalized = file_path;
    let mut has_extension = false;
    for ext in EXTENSIONS {
        if let Some(stripped) = file_path.strip_suffix(ext) {
            normalized = stripped;
            has_extension = true;
            break;
        }
    }
    let export = name.split(':').nth(1).unwrap_or("default");
    let normalized_name = format!("{normalized}:{export}");
    let Some(without_prefix) = normalized.strip_prefix(functions_dir) else {
        return normalized_name;
    };
    let exists = |relative: &str| project_root.join(functions_dir).join(relative).exists();
    let exists = if has_extension {
        exists(file_path)
    } else {
        EXTENSIONS
            .iter()
            .any(|ext| exists(&format!("{file_path}{ext}")))
    };
    if exists {
        normalized_name
    } else {
        format!("{without_prefix}:{export}")
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

/// Run the function. Failures carry the loop's categories: "function not
/// found" is the project's files, any other error the files or the
/// deployment's environment variables.
pub async fn run_function(
    client: &DeploymentClient,
    http: &crate::http::HttpClient,
    admin_key: &str,
    display_name: &str,
    path: &str,
    component: Option<&str>,
) -> Result<(), PushFailure> {
    let mut body = serde_json::Map::new();
    if let Some(component) = component {
        body.insert("componentPath".into(), json!(component));
    }
    body.insert("path".into(), json!(path));
    body.insert("format".into(), json!("convex_encoded_json"));
    body.insert("args".into(), json!({}));
    let url = client.url_for("/api/function");
    // The browser client's request: its own `Convex-Client` value.
    let response = http
        .reqwest_for(&url)
        .post(&url)
        .header("Content-Type", "application/json")
        .header("Convex-Client", format!("npm-{}", crate::REFERENCE_VERSION))
        .header("Authorization", format!("Convex {admin_key}"))
        .body(Value::Object(body).to_string())
        .send()
        .await;
    let failed = |message: String| PushFailure {
        category: FailureCategory::InvalidFilesOrEnvVars,
        context: None,
        message: Some(format!(
            "Failed to run function \"{display_name}\":\n{}",
            style::red(&message)
        )),
        observed: Vec::new(),
    };
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            return Err(PushFailure {
                category: FailureCategory::Transient,
                context: None,
                message: Some(format!("Could not reach {url}: {e}")),
                observed: Vec::new(),
            });
        }
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    // 560 is "the function failed", with a JSON body like a success.
    if !status.is_success() && status.as_u16() != 560 {
        return Err(failed(format!("Error: {}", text.trim())));
    }
    let answer: Value = serde_json::from_str(&text)
        .map_err(|_| failed(format!("Error: Invalid response: {}", text.trim())))?;
    if let Some(lines) = answer.get("logLines").and_then(Value::as_array) {
        for line in lines {
            crate::output::message(&log_line(path, line));
        }
    }
    match answer.get("status").and_then(Value::as_str) {
        Some("success") => {
            crate::output::success(&format!("Finished running function \"{display_name}\""));
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
                .unwrap_or("")
                .to_string();
            let message = if answer.get("errorData").is_some() {
                format!("ConvexError: {message}")
            } else {
                format!("Error: {message}")
            };
            if message.contains("Could not find function") {
                let listing = available_functions(client, component).await;
                return Err(PushFailure {
                    category: FailureCategory::InvalidFiles,
                    context: None,
                    message: Some(format!(
                        "Failed to run function \"{display_name}\":\n{}\n\n{listing}",
                        style::red(&message)
                    )),
                    observed: Vec::new(),
                });
            }
            Err(failed(message))
        }
        _ => Err(failed(format!("Error: Invalid response: {}", text.trim()))),
    }
}

/// "Available functions:" followed by `• path:name` lines (system query
/// `_system/cli/modules:apiSpec`), or "No functions found.".
async fn available_functions(client: &DeploymentClient, component: Option<&str>) -> String {
    let mut body = json!({
        "path": "_system/cli/modules:apiSpec",
        "format": "convex_encoded_json",
        "args": {},
    });
    if let Some(component) = component {
        body["componentPath"] = json!(component);
    }
    let request = DeploymentRequest::new(Method::POST, "/api/query").json(&body);
    let functions = match client.send_json(&request).await {
        Ok(Some(answer)) => answer
            .get("value")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
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
        assert_eq!(parse_function_name("api.a.b.c", "convex/", p), "a/b:c");
        assert_eq!(
            parse_function_name("internal.init.seed", "convex/", p),
            "init:seed"
        );
        assert_eq!(
            parse_function_name("hello:hello", "convex/", p),
            "hello:hello"
        );
        assert_eq!(
            parse_function_name("dir/file", "convex/", p),
            "dir/file:default"
        );
        assert_eq!(
            parse_function_name("hello.ts:world", "convex/", p),
            "hello:world"
        );
        assert_eq!(
            parse_function_name("convex/hello:hi", "convex/", p),
            "hello:hi"
        );
        std::fs::create_dir_all(p.join("convex/convex")).unwrap();
        std::fs::write(p.join("convex/convex/hello.ts"), "").unwrap();
        assert_eq!(
            parse_function_name("convex/hello:hi", "convex/", p),
            "convex/hello:hi"
        );
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
