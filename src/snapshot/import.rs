//! `convex import`: upload a file in parts, then follow the import through
//! the server's parsing, the confirmation and the writing.
//!
//! The sequence is the official CLI's:
//! 1. local checks: the path exists, a format is known (`--format` or the
//!    extension), `--table` is given for csv/json/jsonl and not for zip;
//! 2. `POST /api/query` `_system/cli/queryImport:list` (as the browser
//!    client sends it: `Convex-Client: npm-<version>`, no retries); an import
//!    already in progress asks "Start another import?" unless `--yes`;
//! 3. `POST /api/import/start_upload` → `uploadToken`; `POST
//!    /api/import/upload_part?uploadToken=…&partNumber=n` with each part
//!    ([`super::import_file::PartReader`]) → a part token; `POST
//!    /api/import/finish_upload` `{import: {tableName, componentPath, mode,
//!    format}, uploadToken, partTokens}` → `importId`;
//! 4. a subscription to `_system/cli/queryImport {importId}` until the state
//!    is `waiting_for_confirmation`, `completed` or `failed` (progress and
//!    checkpoint lines meanwhile); on `waiting_for_confirmation` the
//!    server's summary is shown, confirmed (prompt unless `--yes` or the
//!    server does not require it), `POST /api/perform_import {importId}` is
//!    sent and a new subscription follows the import to its end.
//!
//! Nothing before `perform_import` changes the deployment's data: a failure
//! in steps 1–3, or a refused confirmation, leaves the tables as they were
//! (and says so). POSTs are retried only on network errors and 404, as the
//! reference's `deploymentFetch` does.

use std::fs::File;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;

use anyhow::Result;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::display_number;
use super::follow::{Followed, follow_query};
use super::import_file::{
    ChunkSetting, ImportFormat, PartReader, SNIFF_LEN, chunk_size, determine_format, format_size,
    sniff,
};
use crate::error::fail;
use crate::http::{DeploymentClient, DeploymentRequest, FetchError, HttpClient, encode_component};
use crate::output::{self, style};

/// What happens to tables that already hold documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// Fail if a destination table is not empty (the default).
    #[default]
    RequireEmpty,
    /// `--append`.
    Append,
    /// `--replace`.
    Replace,
    /// `--replace-all`.
    ReplaceAll,
}

impl ImportMode {
    /// The name sent in `finish_upload`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportMode::RequireEmpty => "requireEmpty",
            ImportMode::Append => "append",
            ImportMode::Replace => "replace",
            ImportMode::ReplaceAll => "replaceAll",
        }
    }
}

/// What `import_into_deployment` needs besides the clients.
pub struct ImportOptions<'a> {
    /// The file as given on the command line.
    pub path: &'a str,
    /// Working directory (a relative path is taken from it).
    pub cwd: &'a Path,
    pub table: Option<&'a str>,
    pub format: Option<ImportFormat>,
    pub mode: ImportMode,
    /// `-y` / `--yes`.
    pub yes: bool,
    pub component: Option<&'a str>,
    /// `" in your prod deployment"` with `--prod`, else empty.
    pub deployment_notice: String,
    /// The dashboard's snapshots page of the deployment.
    pub dashboard_link: String,
    /// `CONVEX_IMPORT_CHUNK_SIZE` from the process environment.
    pub chunk_size_var: Option<&'a str>,
}

impl ImportOptions<'_> {
    fn table_notice(&self) -> String {
        self.table
            .map(|t| format!(" to table \"{}\"", style::bold(t)))
            .unwrap_or_default()
    }

    /// `Importing data from "<file>"[ to table "<t>"][ in your prod deployment] failed`.
    fn failed_line(&self) -> String {
        format!(
            "Importing data from \"{}\"{}{} failed",
            style::bold(self.path),
            self.table_notice(),
            self.deployment_notice
        )
    }
}

/// The states of `_system/cli/queryImport` the CLI acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportState {
    Uploaded,
    WaitingForConfirmation {
        message_to_confirm: Option<String>,
        require_manual_confirmation: Option<bool>,
    },
    InProgress {
        progress_message: Option<String>,
        checkpoint_messages: Vec<String>,
    },
    Completed {
        /// `num_rows_written` as JavaScript prints it.
        num_rows_written: String,
    },
    Failed {
        error_message: String,
    },
    Unknown(Value),
}

impl ImportState {
    /// Read one value of the query (the import record; `None` for `null`).
    pub fn from_value(value: &Value) -> Option<ImportState> {
        let state = value.get("state")?;
        let text = |name: &str| state.get(name).and_then(Value::as_str).map(str::to_string);
        Some(match state.get("state").and_then(Value::as_str) {
            Some("uploaded") => ImportState::Uploaded,
            Some("waiting_for_confirmation") => ImportState::WaitingForConfirmation {
                message_to_confirm: text("message_to_confirm"),
                require_manual_confirmation: state
                    .get("require_manual_confirmation")
                    .and_then(Value::as_bool),
            },
            Some("in_progress") => ImportState::InProgress {
                progress_message: text("progress_message"),
                checkpoint_messages: state
                    .get("checkpoint_messages")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            Some("completed") => ImportState::Completed {
                num_rows_written: state
                    .get("num_rows_written")
                    .and_then(display_number)
                    .unwrap_or_else(|| "undefined".to_string()),
            },
            Some("failed") => ImportState::Failed {
                error_message: text("error_message").unwrap_or_default(),
            },
            _ => ImportState::Unknown(state.clone()),
        })
    }
}

/// The whole import (see the module docs).
pub async fn import_into_deployment(
    client: &DeploymentClient,
    http: &HttpClient,
    options: &ImportOptions<'_>,
) -> Result<()> {
    let absolute = options.cwd.join(options.path);
    let meta = match std::fs::metadata(&absolute) {
        Ok(meta) => meta,
        Err(_) => {
            return Err(fail(format!(
                "Error: Path {} does not exist. Check the file name (a relative path is taken from {}); nothing was imported.",
                style::bold(options.path),
                options.cwd.display()
            )));
        }
    };
    if meta.is_dir() {
        return Err(fail(format!(
            "Error: {} is a folder. `npx convex import` takes one file: a .csv, .json or .jsonl file with --table, or a .zip snapshot; nothing was imported.",
            style::bold(options.path)
        )));
    }

    let choice = determine_format(options.path, options.format);
    if let Some(warning) = &choice.mismatch_warning {
        output::warning(&format!("Warning: {warning}"));
    }
    let Some(format) = choice.format else {
        return Err(fail(
            "No input file format inferred by the filename extension or specified. Specify your input file's format using the `--format` flag (csv, jsonLines, jsonArray or zip).",
        ));
    };
    match (options.table, format) {
        (None, ImportFormat::Zip)
        | (Some(_), ImportFormat::Csv)
        | (Some(_), ImportFormat::JsonLines)
        | (Some(_), ImportFormat::JsonArray) => {}
        (None, _) => {
            return Err(fail(format!(
                "Error: The `--table` option is required for format {}: name the table to import into, e.g. `npx convex import --table messages {}`.",
                format.as_str(),
                options.path
            )));
        }
        (Some(_), ImportFormat::Zip) => {
            return Err(fail(format!(
                "Error: The `--table` option is not allowed for format {}: a ZIP snapshot names its tables itself (one folder per table).",
                format.as_str()
            )));
        }
    }
    if let Some(warning) = read_head(&absolute)
        .ok()
        .and_then(|head| sniff(format, &head, meta.len()))
    {
        output::warning(&format!(
            "{} may not be a valid {} file: {warning} The deployment checks it after the upload.",
            options.path,
            format.as_str()
        ));
    }

    let imports = list_imports(client, http).await?;
    let ongoing = imports
        .iter()
        .filter(|i| {
            i.get("state")
                .and_then(|s| s.get("state"))
                .and_then(Value::as_str)
                == Some("in_progress")
        })
        .count();
    if ongoing > 0 {
        output::message(&format!(
            "There is already a snapshot import in progress. You can view its progress at {}.",
            options.dashboard_link
        ));
        if !options.yes {
            confirm("Start another import?")?;
        }
    }

    output::start_spinner(&format!(
        "Importing {} ({})",
        options.path,
        format_size(meta.len())
    ));
    let import_id = upload(client, options, format, &absolute).await?;
    output::change_spinner("Parsing uploaded data");

    loop {
        let state = wait_for_stable_state(client, http, &import_id).await?;
        match state {
            ImportState::Completed { num_rows_written } => {
                output::success(&format!(
                    "Added {num_rows_written} documents{}{}.",
                    options.table_notice(),
                    options.deployment_notice
                ));
                return Ok(());
            }
            ImportState::Failed { error_message } => {
                return Err(fail(format!(
                    "{}\n\n{}",
                    options.failed_line(),
                    style::red(&error_message)
                )));
            }
            ImportState::WaitingForConfirmation {
                message_to_confirm,
                require_manual_confirmation,
            } => {
                output::stop_spinner();
                if let Some(message) = message_to_confirm.filter(|m| !m.is_empty()) {
                    output::message(&message);
                    if require_manual_confirmation != Some(false) && !options.yes {
                        confirm("Perform import?")?;
                    }
                }
                output::start_spinner("Importing");
                perform_import(client, &import_id)
                    .await
                    .map_err(|e| {
                        fail(format!(
                            "{}: starting the import (perform_import) failed: {e}\nThe file was uploaded; the import may not have started. Check the deployment's snapshot imports at {} before running the command again.",
                            options.failed_line(),
                            options.dashboard_link
                        ))
                    })?;
            }
            ImportState::Uploaded => {
                return Err(fail(
                    "Import canceled while parsing uploaded file; nothing was imported.",
                ));
            }
            ImportState::InProgress { .. } => {
                return Err(fail(format!(
                    "WARNING: Import is continuing to run on the server. Visit {} to monitor its progress.",
                    options.dashboard_link
                )));
            }
            ImportState::Unknown(value) => {
                return Err(fail(format!(
                    "The deployment reported an import state this CLI does not know: {value}. Check the import at {}.",
                    options.dashboard_link
                )));
            }
        }
    }
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    File::open(path)?
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// Ask yes/no (default yes); without a terminal the question goes to stdout
/// and the run fails, as the official CLI does, with what to do instead.
fn confirm(question: &str) -> Result<()> {
    if !output::stdin_is_terminal() {
        output::data(question);
        return Err(fail(format!(
            "Cannot prompt for input in non-interactive terminals. ({question}) Run the command again with --yes (-y) to answer yes; nothing was imported."
        )));
    }
    if output::prompt_yes_no(question, Some(true))? {
        Ok(())
    } else {
        Err(fail("Import canceled; nothing was imported."))
    }
}

/// `_system/cli/queryImport:list` through `POST /api/query`, as the official
/// browser client sends it (its own `Convex-Client`, no retries; a 560 answer
/// carries the function's error).
async fn list_imports(client: &DeploymentClient, http: &HttpClient) -> Result<Vec<Value>> {
    let step = "Checking for imports in progress (_system/cli/queryImport:list)";
    let url = client.url_for("/api/query");
    let body = json!({
        "path": "_system/cli/queryImport:list",
        "format": "convex_encoded_json",
        "args": [{}],
    });
    output::verbose(&format!("POST {url}"));
    let response = http
        .reqwest_for(&url)
        .post(&url)
        .header("Content-Type", "application/json")
        .header("Convex-Client", format!("npm-{}", crate::REFERENCE_VERSION))
        .header("Authorization", format!("Convex {}", client.admin_key()))
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| {
            fail(format!(
                "{step} failed: could not reach {url}: {}. Check your connection and try again; nothing was imported.",
                crate::http::describe_error(&e)
            ))
        })?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() && status.as_u16() != 560 {
        return Err(fail(format!(
            "{step} failed: {} {} {}; nothing was imported.",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            text.trim()
        )));
    }
    let answer: Value = serde_json::from_str(&text).map_err(|_| {
        fail(format!(
            "{step} failed: the answer is not JSON: {}",
            text.trim()
        ))
    })?;
    match answer.get("status").and_then(Value::as_str) {
        Some("success") => Ok(answer
            .get("value")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()),
        Some("error") => Err(fail(format!(
            "{step} failed: {}; nothing was imported.",
            answer
                .get("errorMessage")
                .and_then(Value::as_str)
                .unwrap_or("the query failed")
        ))),
        _ => Err(fail(format!(
            "{step} failed: invalid response: {}",
            text.trim()
        ))),
    }
}

/// `start_upload`, the parts, `finish_upload`; returns the import id.
async fn upload(
    client: &DeploymentClient,
    options: &ImportOptions<'_>,
    format: ImportFormat,
    absolute: &Path,
) -> Result<String> {
    let failed = |step: &str, detail: String| {
        fail(format!(
            "{} while {step}: {detail}\nNothing was imported; run the command again.",
            options.failed_line()
        ))
    };
    let file = File::open(absolute).map_err(|e| failed("opening the file", e.to_string()))?;
    let file_size = file
        .metadata()
        .map_err(|e| failed("reading the file", e.to_string()))?
        .len();
    let setting = ChunkSetting::parse(options.chunk_size_var);
    let Some(chunk) = chunk_size(setting, file_size) else {
        return Err(fail(format!(
            "{}: CONVEX_IMPORT_CHUNK_SIZE={:?} is not a number of bytes. Unset it (parts are 5 MiB by default) or set it to a whole number; nothing was imported.",
            options.failed_line(),
            options.chunk_size_var.unwrap_or_default()
        )));
    };
    if let Some(raw) = options.chunk_size_var
        && matches!(setting, ChunkSetting::Bytes(_))
        && ChunkSetting::ignores_text(raw)
    {
        output::warning(&format!(
            "CONVEX_IMPORT_CHUNK_SIZE={raw:?} is read as {chunk} bytes (the text after the leading digits is ignored)."
        ));
    }
    let total_parts = file_size.div_ceil(chunk);
    let mut parts = PartReader::new(std::io::BufReader::new(file), chunk);

    let start = DeploymentRequest::new(Method::POST, "/api/import/start_upload");
    let answer = client
        .send_json(&start)
        .await
        .map_err(|e| failed("starting the upload (start_upload)", e.to_string()))?;
    let Some(upload_token) = answer
        .as_ref()
        .and_then(|a| a.get("uploadToken"))
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Err(failed(
            "starting the upload (start_upload)",
            format!(
                "the answer has no uploadToken: {}",
                answer.unwrap_or(Value::Null)
            ),
        ));
    };

    let mut part_tokens = Vec::new();
    let mut part_number: u64 = 1;
    loop {
        let part = parts
            .next_part()
            .map_err(|e| failed("reading the file", e.to_string()))?;
        let Some(part) = part else { break };
        let mut request = DeploymentRequest::new(
            Method::POST,
            &format!(
                "/api/import/upload_part?uploadToken={}&partNumber={part_number}",
                encode_component(&upload_token)
            ),
        );
        request.body = Some(part);
        request.headers.push((
            "Content-Type".to_string(),
            "application/octet-stream".to_string(),
        ));
        let token = client.send_json(&request).await.map_err(|e| {
            failed(
                &format!(
                    "uploading part {part_number} of {} (upload_part)",
                    total_parts.max(part_number)
                ),
                e.to_string(),
            )
        })?;
        part_tokens.push(token.unwrap_or(Value::Null));
        part_number += 1;
        if output::spinner_is_animated() {
            output::change_spinner(&format!(
                "Uploading {} ({}/{})",
                options.path,
                format_size(parts.bytes_read()),
                format_size(file_size)
            ));
        }
    }

    let mut import_args = Map::new();
    if let Some(table) = options.table {
        import_args.insert("tableName".into(), json!(table));
    }
    if let Some(component) = options.component {
        import_args.insert("componentPath".into(), json!(component));
    }
    import_args.insert("mode".into(), json!(options.mode.as_str()));
    import_args.insert("format".into(), json!(format.as_str()));
    let finish = DeploymentRequest::new(Method::POST, "/api/import/finish_upload").json(&json!({
        "import": import_args,
        "uploadToken": upload_token,
        "partTokens": part_tokens,
    }));
    let answer = client
        .send_json(&finish)
        .await
        .map_err(|e| failed("finishing the upload (finish_upload)", e.to_string()))?;
    match answer
        .as_ref()
        .and_then(|a| a.get("importId"))
        .and_then(Value::as_str)
    {
        Some(id) => Ok(id.to_string()),
        None => Err(failed(
            "finishing the upload (finish_upload)",
            format!(
                "the answer has no importId: {}",
                answer.unwrap_or(Value::Null)
            ),
        )),
    }
}

async fn perform_import(client: &DeploymentClient, import_id: &str) -> Result<(), FetchError> {
    let request = DeploymentRequest::new(Method::POST, "/api/perform_import")
        .json(&json!({ "importId": import_id }));
    client.send(&request).await.map(|_| ())
}

/// One subscription to the import's record, until a stable state;
/// `in_progress` values print their new checkpoint lines and progress.
async fn wait_for_stable_state(
    client: &DeploymentClient,
    http: &HttpClient,
    import_id: &str,
) -> Result<ImportState> {
    let mut last: Option<ImportState> = None;
    let mut checkpoints_shown = 0usize;
    let mut missing = false;
    let followed = follow_query(
        client,
        http,
        "_system/cli/queryImport",
        json!({ "importId": import_id }),
        |value| {
            let Some(state) = ImportState::from_value(value) else {
                missing = true;
                return ControlFlow::Break(None);
            };
            match &state {
                ImportState::Uploaded => {}
                ImportState::InProgress {
                    progress_message,
                    checkpoint_messages,
                } => {
                    output::stop_spinner();
                    for message in checkpoint_messages.iter().skip(checkpoints_shown) {
                        output::success(message);
                    }
                    checkpoints_shown = checkpoints_shown.max(checkpoint_messages.len());
                    output::start_spinner(progress_message.as_deref().unwrap_or("Importing"));
                }
                _ => return ControlFlow::Break(Some(state)),
            }
            last = Some(state);
            ControlFlow::Continue(())
        },
    )
    .await?;
    if missing {
        return Err(fail(format!(
            "The deployment has no import with id {import_id} any more; check its snapshot imports in the dashboard."
        )));
    }
    Ok(match followed {
        Followed::Settled(Some(state)) => state,
        Followed::Settled(None) | Followed::Interrupted => last.unwrap_or(ImportState::Uploaded),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states() {
        let s = |v: Value| ImportState::from_value(&v);
        assert_eq!(s(Value::Null), None);
        assert_eq!(
            s(json!({"state": {"state": "uploaded"}})),
            Some(ImportState::Uploaded)
        );
        assert_eq!(
            s(
                json!({"state": {"state": "waiting_for_confirmation", "message_to_confirm": "m", "require_manual_confirmation": false}})
            ),
            Some(ImportState::WaitingForConfirmation {
                message_to_confirm: Some("m".into()),
                require_manual_confirmation: Some(false)
            })
        );
        assert_eq!(
            s(json!({"state": {"state": "in_progress", "checkpoint_messages": ["a"]}})),
            Some(ImportState::InProgress {
                progress_message: None,
                checkpoint_messages: vec!["a".into()]
            })
        );
        assert_eq!(
            s(
                json!({"state": {"state": "completed", "num_rows_written": {"$integer": "AgAAAAAAAAA="}}})
            ),
            Some(ImportState::Completed {
                num_rows_written: "2".into()
            })
        );
        assert_eq!(
            s(json!({"state": {"state": "failed", "error_message": "bad"}})),
            Some(ImportState::Failed {
                error_message: "bad".into()
            })
        );
        assert!(matches!(
            s(json!({"state": {"state": "new"}})),
            Some(ImportState::Unknown(_))
        ));
    }

    #[test]
    fn modes() {
        assert_eq!(ImportMode::default().as_str(), "requireEmpty");
        assert_eq!(ImportMode::ReplaceAll.as_str(), "replaceAll");
    }
}
