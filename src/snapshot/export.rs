//! `convex export`: request a snapshot export, follow it to the end, download
//! the ZIP.
//!
//! Requests, as the official CLI sends them: `POST
//! /api/export/request/zip?includeStorage=<bool>`; a subscription to
//! `_system/cli/exports:getLatest` until its state is `completed` or
//! `failed`; `GET /api/export/zip/<start_ts>`. What is checked where is the
//! reference's too: an existing `--path` that is a file is refused only once
//! the download has answered (a folder takes the server's file name).
//!
//! Unlike the reference, the body is written to a temporary file in the
//! destination folder and renamed into place only when every byte has
//! arrived: a connection cut or a full disk leaves no file behind.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Result;
use reqwest::Method;
use serde_json::{Value, json};

use super::display_number;
use super::follow::{Followed, follow_query};
use super::import_file::format_size;
use crate::error::{Failure, fail};
use crate::http::{DeploymentClient, DeploymentRequest, FetchError, HttpClient};
use crate::output::{self, style};

/// What `export_from_deployment` needs besides the client.
pub struct ExportOptions<'a> {
    /// `--path` as given.
    pub path: &'a str,
    /// `--include-file-storage`.
    pub include_storage: bool,
    /// `" in your prod deployment"` with `--prod`, else empty.
    pub deployment_notice: String,
    /// The dashboard's snapshots page of the deployment.
    pub dashboard_link: String,
    /// Working directory (relative `--path` values are taken from it).
    pub cwd: &'a Path,
}

/// The states of `_system/cli/exports:getLatest` the CLI acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportState {
    Requested,
    InProgress,
    Failed,
    Completed {
        /// `start_ts` as JavaScript prints it (the download's name).
        start_ts: String,
    },
    /// A state this version does not know, with the whole value.
    Unknown(Value),
}

impl ExportState {
    /// Read one value of the query (`None` for `null`: no export yet).
    pub fn from_value(value: &Value) -> Option<ExportState> {
        if value.is_null() {
            return None;
        }
        Some(match value.get("state").and_then(Value::as_str) {
            Some("requested") => ExportState::Requested,
            Some("in_progress") => ExportState::InProgress,
            Some("failed") => ExportState::Failed,
            Some("completed") => match value.get("start_ts").and_then(display_number) {
                Some(start_ts) => ExportState::Completed { start_ts },
                None => ExportState::Unknown(value.clone()),
            },
            _ => ExportState::Unknown(value.clone()),
        })
    }

    fn is_stable(&self) -> bool {
        !matches!(self, ExportState::Requested | ExportState::InProgress)
    }
}

/// The whole export (see the module docs).
pub async fn export_from_deployment(
    client: &DeploymentClient,
    http: &HttpClient,
    options: &ExportOptions<'_>,
) -> Result<()> {
    output::start_spinner(&format!(
        "Creating snapshot export{}",
        options.deployment_notice
    ));
    request_export(client, options).await?;
    let state = wait_for_stable_state(client, http).await?;
    let start_ts = match state {
        ExportState::Completed { start_ts } => start_ts,
        ExportState::Requested | ExportState::InProgress => {
            return Err(fail(format!(
                "WARNING: Export is continuing to run on the server. Follow it at {}; nothing was downloaded.",
                options.dashboard_link
            )));
        }
        ExportState::Failed => {
            return Err(fail(
                "Export failed. Please try again later or contact support@convex.dev for help. Nothing was downloaded.",
            ));
        }
        ExportState::Unknown(value) => {
            return Err(fail(format!(
                "The deployment reported an export state this CLI does not know: {value}. Nothing was downloaded."
            )));
        }
    };
    output::success(&format!("Created snapshot export at timestamp {start_ts}"));
    output::success(&format!(
        "Export is available at {}",
        options.dashboard_link
    ));
    output::start_spinner(&format!(
        "Downloading snapshot export to {}",
        style::bold(options.path)
    ));
    let file = download_export(client, &start_ts, options.path, options.cwd).await?;
    output::success(&format!(
        "Downloaded snapshot export to {}",
        style::bold(&file)
    ));
    Ok(())
}

async fn request_export(client: &DeploymentClient, options: &ExportOptions<'_>) -> Result<()> {
    let request = DeploymentRequest::new(
        Method::POST,
        &format!(
            "/api/export/request/zip?includeStorage={}",
            options.include_storage
        ),
    );
    match client.send(&request).await {
        Ok(_) => Ok(()),
        Err(e) if e.server_code() == Some("ExportInProgress") => Err(fail(format!(
            "A snapshot export is already requested or in progress. Only one can run at a time, so wait for it to finish and try again.\nCheck its progress at {}",
            options.dashboard_link
        ))),
        Err(e) => Err(step_failed("Requesting the snapshot export", &e)),
    }
}

/// `"<step> failed: <error>"`, with what to do next.
fn step_failed(step: &str, err: &FetchError) -> anyhow::Error {
    fail(format!("{step} failed: {err}"))
}

async fn wait_for_stable_state(
    client: &DeploymentClient,
    http: &HttpClient,
) -> Result<ExportState> {
    let mut last = None;
    let followed = follow_query(
        client,
        http,
        "_system/cli/exports:getLatest",
        json!({}),
        |value| match ExportState::from_value(value) {
            Some(state) if state.is_stable() => ControlFlow::Break(state),
            Some(state) => {
                last = Some(state);
                ControlFlow::Continue(())
            }
            None => ControlFlow::Continue(()),
        },
    )
    .await?;
    Ok(match followed {
        Followed::Settled(state) => state,
        // Ctrl-C while the export runs: it goes on without us.
        Followed::Interrupted => last.unwrap_or(ExportState::Requested),
    })
}

/// `GET /api/export/zip/<ts>` into `input_path` (or, when that is a folder,
/// into the name the server gives in `Content-Disposition`). Returns the path
/// written, as displayed.
pub async fn download_export(
    client: &DeploymentClient,
    start_ts: &str,
    input_path: &str,
    cwd: &Path,
) -> Result<String> {
    let url_path = format!("/api/export/zip/{start_ts}");
    let response = client
        .send(&DeploymentRequest::new(Method::GET, &url_path))
        .await
        .map_err(|e| step_failed("Downloading the snapshot export", &e))?;

    let absolute = cwd.join(input_path);
    let (display, target, may_replace) = match std::fs::metadata(&absolute) {
        Ok(meta) if meta.is_dir() => {
            let name = attachment_file_name(
                response
                    .headers()
                    .get(reqwest::header::CONTENT_DISPOSITION)
                    .and_then(|v| v.to_str().ok()),
                start_ts,
            );
            let display = Path::new(input_path).join(&name);
            (
                display.display().to_string(),
                absolute.join(&name),
                // The reference overwrites a file of that name in the folder.
                true,
            )
        }
        Ok(_) => {
            return Err(fail(format!(
                "Error: Path {} already exists. Choose a new file name or a folder for --path; the existing file was left as it was.",
                style::bold(input_path)
            )));
        }
        Err(_) if input_path.ends_with('/') || (cfg!(windows) && input_path.ends_with('\\')) => {
            return Err(fail(format!(
                "Exporting data failed: the folder {input_path} does not exist. Create it first, or give --path a file name such as {input_path}snapshot.zip; nothing was saved."
            )));
        }
        Err(_) => (input_path.to_string(), absolute, false),
    };
    if display != input_path {
        output::change_spinner(&format!(
            "Downloading snapshot export to {}",
            style::bold(&display)
        ));
    }
    write_body_atomically(response, &target, &display, may_replace).await?;
    Ok(display)
}

/// The file name a folder `--path` gets: what follows `attachment;
/// filename=` (as the reference reads it), else `snapshot_<ts>.zip`. A name
/// that would leave the folder (a separator, `.`, `..`) is not used.
pub fn attachment_file_name(content_disposition: Option<&str>, start_ts: &str) -> String {
    let fallback = format!("snapshot_{start_ts}.zip");
    let Some(name) = content_disposition.and_then(|v| v.strip_prefix("attachment; filename="))
    else {
        return fallback;
    };
    let unsafe_name = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '\0'])
        || (cfg!(windows) && name.contains(':'));
    if unsafe_name {
        output::warning(&format!(
            "Ignoring the file name {name:?} the deployment suggested; saving as {fallback}."
        ));
        return fallback;
    }
    name.to_string()
}

/// Stream `response` into a temporary file beside `target`, then rename it
/// to `target`. Nothing is left behind on failure.
async fn write_body_atomically(
    mut response: reqwest::Response,
    target: &Path,
    display: &str,
    may_replace: bool,
) -> Result<()> {
    let folder = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".to_string());
    let prefix = format!(".{file_name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".partial");
    #[cfg(unix)]
    {
        // A regular file's mode (0666 minus the umask), as Node writes it.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut temp = builder.tempfile_in(&folder).map_err(|e| {
        let folder_name = Path::new(display)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| ".".to_string(), |p| p.display().to_string());
        if !folder.is_dir() {
            fail(format!(
                "Exporting data failed: the folder {folder_name} does not exist, so {display} cannot be written. Create the folder or choose another --path, then run the command again."
            ))
        } else {
            fail(format!(
                "Exporting data failed: cannot create a file in {folder_name} ({}). Check that the folder is writable, then run the command again.",
                e.kind()
            ))
        }
    })?;
    let total = response.content_length();
    let mut received: u64 = 0;
    let mut last_progress = Instant::now();
    let animated = output::spinner_is_animated();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                return Err(fail(format!(
                    "Downloading the snapshot export failed after {}{}: the connection broke off ({}). No file was written to {display}; run the command again.",
                    format_size(received),
                    total
                        .map(|t| format!(" of {}", format_size(t)))
                        .unwrap_or_default(),
                    crate::http::describe_error(&e)
                )));
            }
        };
        received += chunk.len() as u64;
        temp.write_all(&chunk)
            .map_err(|e| write_failed(display, &e))?;
        if animated && last_progress.elapsed() >= Duration::from_millis(100) {
            last_progress = Instant::now();
            let of_total = total
                .map(|t| format!("/{}", format_size(t)))
                .unwrap_or_default();
            output::change_spinner(&format!(
                "Downloading snapshot export to {} ({}{of_total})",
                style::bold(display),
                format_size(received)
            ));
        }
    }
    if let Some(total) = total
        && received != total
    {
        return Err(fail(format!(
            "Downloading the snapshot export failed: the deployment announced {} but sent {}. No file was written to {display}; run the command again.",
            format_size(total),
            format_size(received)
        )));
    }
    temp.as_file_mut()
        .sync_all()
        .map_err(|e| write_failed(display, &e))?;
    // Replacing goes through fsutil, which waits out a Windows program that
    // holds the old file open.
    let persisted = if may_replace {
        crate::fsutil::replace_with(temp, target)
    } else {
        temp.persist_noclobber(target)
            .map(|_| ())
            .map_err(|e| e.error)
    };
    persisted.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            fail(format!(
                "Error: Path {display} was created by something else during the download; it was left as it was and the export was not saved. Run the command again with another --path."
            ))
        } else {
            write_failed(display, &e)
        }
    })?;
    Ok(())
}

fn write_failed(display: &str, err: &std::io::Error) -> anyhow::Error {
    let advice = if err.kind() == std::io::ErrorKind::StorageFull {
        "free some space or choose another --path"
    } else {
        "check the path and its permissions, or choose another --path"
    };
    Failure::new(format!(
        "Exporting data failed: cannot write {display} ({err}). Nothing was saved; {advice}, then run the command again."
    ))
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states() {
        let s = |v: Value| ExportState::from_value(&v);
        assert_eq!(s(Value::Null), None);
        assert_eq!(
            s(json!({"state": "requested"})),
            Some(ExportState::Requested)
        );
        assert_eq!(
            s(json!({"state": "in_progress"})),
            Some(ExportState::InProgress)
        );
        assert_eq!(s(json!({"state": "failed"})), Some(ExportState::Failed));
        assert_eq!(
            s(json!({"state": "completed", "start_ts": {"$integer": "Fc2FPf6clxc="}})),
            Some(ExportState::Completed {
                start_ts: "1700000000123456789".into()
            })
        );
        assert!(matches!(
            s(json!({"state": "completed"})),
            Some(ExportState::Unknown(_))
        ));
        assert!(matches!(
            s(json!({"state": "paused"})),
            Some(ExportState::Unknown(_))
        ));
    }

    #[test]
    fn folder_file_names() {
        assert_eq!(
            attachment_file_name(Some("attachment; filename=snap.zip"), "7"),
            "snap.zip"
        );
        assert_eq!(attachment_file_name(None, "7"), "snapshot_7.zip");
        assert_eq!(
            attachment_file_name(Some("inline; filename=x.zip"), "7"),
            "snapshot_7.zip"
        );
        assert_eq!(
            attachment_file_name(Some("attachment; filename=../x.zip"), "7"),
            "snapshot_7.zip"
        );
        assert_eq!(
            attachment_file_name(Some("attachment; filename=.."), "7"),
            "snapshot_7.zip"
        );
        assert_eq!(
            attachment_file_name(Some("attachment; filename="), "7"),
            "snapshot_7.zip"
        );
    }
}
