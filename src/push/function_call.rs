//! Running one Convex function with admin rights (`POST /api/function`),
//! as `deploy --preview-run` (and `dev --run`) do after a push.

use reqwest::Method;
use serde_json::{Value, json};

use super::error::{ErrorCategory, PushError, PushResult};
use crate::http::{DeploymentClient, DeploymentRequest, RetryPolicy};

/// `api.foo.bar` → `foo:bar`; `foo/bar` → `foo/bar:default`;
/// `foo/bar.ts:baz` → `foo/bar:baz`; a path starting with the functions
/// directory (`convex/foo`) is taken relative to it unless the functions
/// directory itself holds such a file.
pub fn parse_function_name(
    name: &str,
    functions_dir_name: &str,
    functions_dir: &std::path::Path,
) -> Result<String, String> {
    if name.starts_with("api.") || name.starts_with("internal.") {
        let parts: Vec<&str> = name.split('.').collect();
        if parts.len() < 3 {
            return Err(format!("Function name has too few parts: \"{name}\""));
        }
        let export = parts[parts.len() - 1];
        return Ok(format!("{}:{export}", parts[1..parts.len() - 1].join("/")));
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
    let full = format!("{normalized}:{export}");
    let Some(without_prefix) = normalized.strip_prefix(functions_dir_name) else {
        return Ok(full);
    };
    let relative = format!("{without_prefix}:{export}");
    let exists = if has_extension {
        functions_dir.join(file_path).exists()
    } else {
        EXTENSIONS
            .iter()
            .any(|ext| functions_dir.join(format!("{file_path}{ext}")).exists())
    };
    Ok(if exists { full } else { relative })
}

/// Runs `path` with `args` and returns its value (Convex JSON). Log lines
/// the function printed come back too.
pub async fn run_function(
    client: &DeploymentClient,
    npm_client_version: &str,
    path: &str,
    args: &Value,
    component_path: Option<&str>,
) -> PushResult<(Value, Vec<Value>)> {
    let mut body = serde_json::Map::new();
    if let Some(c) = component_path {
        body.insert("componentPath".into(), json!(c));
    }
    body.insert("path".into(), json!(path));
    body.insert("format".into(), json!("convex_encoded_json"));
    body.insert("args".into(), args.clone());
    let mut request =
        DeploymentRequest::new(Method::POST, "/api/function").json(&Value::Object(body));
    // The official CLI calls this through its browser client, whose
    // `Convex-Client` is `npm-<version>`, without retries.
    request.headers = vec![("Convex-Client".into(), format!("npm-{npm_client_version}"))];
    request.retry = RetryPolicy::None;
    let failed = |detail: String| {
        PushError::new(
            ErrorCategory::InvalidFilesystemOrEnvVars,
            format!("Failed to run function \"{path}\":\n{detail}"),
        )
    };
    let answer = match client.send_json(&request).await {
        Ok(answer) => answer.unwrap_or(Value::Null),
        // A failed function answers 560 with the usual JSON body.
        Err(crate::http::FetchError::Status(s)) if s.status == 560 => {
            return Err(failed(s.message.clone().unwrap_or_else(|| s.to_string())));
        }
        Err(e) => return Err(failed(e.to_string())),
    };
    let logs = answer
        .get("logLines")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match answer.get("status").and_then(Value::as_str) {
        Some("success") => Ok((answer.get("value").cloned().unwrap_or(Value::Null), logs)),
        Some("error") => {
            let message = answer
                .get("errorMessage")
                .and_then(Value::as_str)
                .unwrap_or("(no error message)");
            let category = if message.contains("Could not find function") {
                ErrorCategory::InvalidFilesystemData
            } else {
                ErrorCategory::InvalidFilesystemOrEnvVars
            };
            Err(PushError::new(
                category,
                format!("Failed to run function \"{path}\":\n{message}"),
            ))
        }
        _ => Err(failed(format!("Invalid response: {answer}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names() {
        let dir = tempfile::tempdir().unwrap();
        let functions = dir.path();
        let parse = |n: &str| parse_function_name(n, "convex/", functions).unwrap();
        assert_eq!(parse("api.notes.list"), "notes:list");
        assert_eq!(parse("internal.lib.util.go"), "lib/util:go");
        assert!(parse_function_name("api.x", "convex/", functions).is_err());
        assert_eq!(parse("notes:list"), "notes:list");
        assert_eq!(parse("notes"), "notes:default");
        assert_eq!(parse("notes.ts:list"), "notes:list");
        assert_eq!(parse("convex/notes:list"), "notes:list");
        std::fs::create_dir_all(functions.join("convex")).unwrap();
        std::fs::write(functions.join("convex/notes.ts"), "").unwrap();
        assert_eq!(parse("convex/notes:list"), "convex/notes:list");
    }
}
