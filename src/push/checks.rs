//! The advisory checks between hashing and `start_push`: deleting indexes on
//! large tables, blocking backfills of new indexes on large tables,
//! discarding staged validators, and the slow-schema-validation report.
//!
//! All of them read one `evaluate_schema` answer, requested at most once
//! per push (and only when some check needs it). The deletion check falls
//! back to `evaluate_push` plus a table-size query when the deployment has
//! no `evaluate_schema`.

use reqwest::Method;
use serde_json::{Value, json};

use super::api::{self, EvaluateSchemaResponse, IndexDiff, IndexPrediction, IndexSpec};
use super::error::{PushError, PushResult};
use super::output::PushOutput;
use super::tracing::Span;
use crate::env::Env;
use crate::http::{DeploymentClient, DeploymentRequest};

/// How a check behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckMode {
    /// Do not run the check.
    #[default]
    Off,
    /// Warn, and ask before going on (fail without a terminal).
    Ask,
    /// Warn and go on (the user passed the flag that allows it).
    Allowed,
}

/// Which checks a push runs (the reference's per-command table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PushChecks {
    pub large_index_deletion: CheckMode,
    pub large_index_backfill: CheckMode,
    pub staged_validator_deletion: CheckMode,
    /// Report staged validators and (on dry runs) slow schema walks.
    pub warn_on_slow_schema_validation: bool,
}

impl PushChecks {
    /// `convex deploy` to a prod or custom deployment.
    pub fn deploy(
        skip_large_indexes_check: bool,
        allow_deleting_large_indexes: bool,
        allow_unstaging_schema: bool,
    ) -> PushChecks {
        let allowed = |yes: bool| {
            if yes {
                CheckMode::Allowed
            } else {
                CheckMode::Ask
            }
        };
        PushChecks {
            large_index_deletion: allowed(skip_large_indexes_check || allow_deleting_large_indexes),
            large_index_backfill: allowed(skip_large_indexes_check),
            staged_validator_deletion: allowed(allow_unstaging_schema),
            warn_on_slow_schema_validation: true,
        }
    }

    /// `convex deploy` to a preview deployment: throwaway data, so only the
    /// backfill check of a reused preview remains.
    pub fn preview(is_new_deployment: bool, skip_large_indexes_check: bool) -> PushChecks {
        PushChecks {
            large_index_deletion: CheckMode::Off,
            large_index_backfill: if is_new_deployment {
                CheckMode::Off
            } else if skip_large_indexes_check {
                CheckMode::Allowed
            } else {
                CheckMode::Ask
            },
            staged_validator_deletion: CheckMode::Off,
            warn_on_slow_schema_validation: true,
        }
    }

    /// `convex dev`: backfill and staged checks only when the target is prod.
    pub fn dev(target_is_prod: bool) -> PushChecks {
        let mode = if target_is_prod {
            CheckMode::Ask
        } else {
            CheckMode::Off
        };
        PushChecks {
            large_index_deletion: CheckMode::Off,
            large_index_backfill: mode,
            staged_validator_deletion: mode,
            warn_on_slow_schema_validation: true,
        }
    }

    /// `convex codegen`: nothing.
    pub fn none() -> PushChecks {
        PushChecks::default()
    }
}

const DEFAULT_MIN_DOCUMENTS: u64 = 100_000;
const DEFAULT_MIN_WALK_BYTES: u64 = 1 << 27;

/// The thresholds, from the environment (base-10 integers; anything else is
/// ignored with a warning, as the reference does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub min_documents_for_delete_warning: u64,
    pub min_documents_for_backfill_warning: u64,
    pub min_bytes_for_schema_walk_warning: u64,
}

impl Thresholds {
    pub fn from_env(env: &Env, output: &dyn PushOutput) -> Thresholds {
        let read = |name: &str, default: u64| -> u64 {
            let Some(raw) = env.get(name) else {
                return default;
            };
            let trimmed = raw.trim();
            let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                output.warning(&format!(
                    "Ignoring {name}={raw:?}: expected an integer, using {default}"
                ));
                return default;
            }
            if trimmed.starts_with('-') {
                // A negative threshold warns about every table.
                return 0;
            }
            digits.parse().unwrap_or(u64::MAX)
        };
        Thresholds {
            min_documents_for_delete_warning: read(
                crate::env_vars::CONVEX_MIN_DOCUMENTS_FOR_INDEX_DELETE_WARNING,
                DEFAULT_MIN_DOCUMENTS,
            ),
            min_documents_for_backfill_warning: read(
                crate::env_vars::CONVEX_MIN_DOCUMENTS_FOR_INDEX_BACKFILL_WARNING,
                DEFAULT_MIN_DOCUMENTS,
            ),
            min_bytes_for_schema_walk_warning: read(
                crate::env_vars::CONVEX_MIN_BYTES_FOR_SCHEMA_WALK_WARNING,
                DEFAULT_MIN_WALK_BYTES,
            ),
        }
    }
}

/// `1,234,567`, as JavaScript's `toLocaleString()` in en-US.
pub fn with_commas(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1.5 MiB`, one decimal, `.0` dropped.
pub fn format_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if (value * 10.0).round() / 10.0 >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text} {}", UNITS[unit])
}

/// `table.index   field, field` (and the search / vector variants).
pub fn format_index(index: &IndexSpec) -> String {
    let (table, name) = index.name.split_once('.').unwrap_or((&index.name, ""));
    let filters = |fields: &[String]| {
        if fields.is_empty() {
            String::new()
        } else {
            format!(
                ", filter{} on {}",
                if fields.len() == 1 { "" } else { "s" },
                fields.join(", ")
            )
        }
    };
    let fields = match index.kind.as_str() {
        "search" => format!(
            "(text)   {}{}",
            index.search_field.as_deref().unwrap_or(""),
            filters(&index.filter_fields)
        ),
        "vector" => format!(
            "(vector)   {} ({} dimensions){}",
            index.vector_field.as_deref().unwrap_or(""),
            index.dimensions.unwrap_or(0),
            filters(&index.filter_fields)
        ),
        _ => format!("  {}", index.fields.join(", ")),
    };
    let staged = if index.is_staged() { "  (staged)" } else { "" };
    format!("{table}.{name} {fields}{staged}")
}

fn component_prefix(component_path: &str) -> String {
    if component_path.is_empty() {
        String::new()
    } else {
        format!("{component_path}:")
    }
}

/// What the checks need to know about the push.
pub struct CheckContext<'a> {
    pub client: &'a DeploymentClient,
    pub output: &'a dyn PushOutput,
    pub thresholds: Thresholds,
    pub dry_run: bool,
    /// The request body (brotli-compressed), for `evaluate_schema` /
    /// `evaluate_push`.
    pub body: &'a [u8],
    /// Whether a schema module stages validators.
    pub stages_validators: bool,
}

fn confirm_or_fail(ctx: &CheckContext<'_>, flag: &str, question: &str) -> PushResult<()> {
    if !ctx.output.can_prompt() {
        return Err(PushError::fatal(format!(
            "To confirm the push:\n• run the deploy command in an interactive terminal\n• or run the deploy command with the {flag} flag"
        )));
    }
    match ctx.output.confirm(question, false) {
        Ok(true) => {
            ctx.output.step_done("Proceeding with push.");
            Ok(())
        }
        Ok(false) => Err(PushError::fatal("Canceling push")),
        Err(e) if e.downcast_ref::<crate::error::Interrupted>().is_some() => {
            Err(PushError::fatal("Canceling push (interrupted)"))
        }
        Err(e) => Err(PushError::fatal(e.to_string())),
    }
}

/// Runs the enabled checks in the reference's order.
pub async fn run_checks(
    ctx: &CheckContext<'_>,
    checks: &PushChecks,
    parent: &Span,
) -> PushResult<()> {
    let slow_report = checks.warn_on_slow_schema_validation
        && (ctx.dry_run
            || checks.staged_validator_deletion != CheckMode::Off
            || ctx.stages_validators);
    let wanted = checks.large_index_deletion != CheckMode::Off
        || checks.large_index_backfill != CheckMode::Off
        || checks.staged_validator_deletion != CheckMode::Off
        || slow_report;
    if !wanted {
        return Ok(());
    }
    let evaluation = {
        let span = parent.child("evaluateSchema");
        api::evaluate_schema(ctx.client, ctx.body, &span).await
    };

    if checks.large_index_deletion != CheckMode::Off {
        let mut span = parent.child("checkForLargeIndexDeletion");
        check_large_index_deletion(
            ctx,
            checks.large_index_deletion,
            evaluation.as_ref(),
            &mut span,
        )
        .await?;
    }
    if checks.large_index_backfill != CheckMode::Off {
        let _span = parent.child("checkForLargeIndexBackfill");
        let mode = if ctx.dry_run {
            None
        } else {
            Some(checks.large_index_backfill)
        };
        check_large_index_backfill(ctx, mode, evaluation.as_ref())?;
    }
    if checks.staged_validator_deletion != CheckMode::Off {
        let _span = parent.child("checkForStagedValidatorDeletion");
        check_staged_validator_deletion(
            ctx,
            checks.staged_validator_deletion,
            evaluation.as_ref(),
        )?;
    }
    if slow_report {
        let _span = parent.child("checkForSlowSchemaValidation");
        report_slow_schema_validation(ctx, evaluation.as_ref());
    }
    Ok(())
}

struct DeletedIndex {
    component_path: String,
    index: IndexSpec,
    documents: u64,
    replaced_by: Option<IndexSpec>,
}

fn deleted_from_evaluation(response: &EvaluateSchemaResponse) -> Vec<DeletedIndex> {
    let mut out = Vec::new();
    for (path, prediction) in &response.component_schema_evaluations {
        for index in prediction.indexes.iter().filter(|i| i.change == "dropped") {
            out.push(DeletedIndex {
                component_path: path.clone(),
                index: index.index.clone(),
                documents: index.num_docs,
                replaced_by: prediction
                    .indexes
                    .iter()
                    .find(|other| other.change == "added" && other.index.name == index.index.name)
                    .map(|i| i.index.clone()),
            });
        }
    }
    out
}

async fn deleted_from_table_sizes(
    ctx: &CheckContext<'_>,
    span: &Span,
) -> PushResult<Vec<DeletedIndex>> {
    let context = format!("Unable to start push to {}", ctx.client.url());
    let schema_change = api::evaluate_push(ctx.client, ctx.body, span, &context).await?;
    let diffs: std::collections::BTreeMap<String, IndexDiff> = schema_change
        .get("indexDiffs")
        .and_then(|d| serde_json::from_value(d.clone()).ok())
        .unwrap_or_default();
    let mut deleted: Vec<DeletedIndex> = Vec::new();
    for (path, diff) in &diffs {
        for index in &diff.removed_indexes {
            deleted.push(DeletedIndex {
                component_path: path.clone(),
                index: index.clone(),
                documents: 0,
                replaced_by: diff
                    .added_indexes
                    .iter()
                    .find(|other| other.name == index.name)
                    .cloned(),
            });
        }
    }
    if deleted.is_empty() {
        return Ok(deleted);
    }
    ctx.output
        .progress("Checking whether the deleted indexes are on large tables...");
    let mut tables: Vec<(String, String)> = deleted
        .iter()
        .map(|d| (d.component_path.clone(), d.index.table().to_string()))
        .collect();
    tables.sort();
    tables.dedup();
    let counts = futures_util::future::join_all(
        tables
            .iter()
            .map(|(path, table)| table_size(ctx.client, path, table)),
    )
    .await;
    for (key, count) in tables.iter().zip(counts) {
        let count = count?;
        for d in deleted
            .iter_mut()
            .filter(|d| d.component_path == key.0 && d.index.table() == key.1)
        {
            d.documents = count;
        }
    }
    Ok(deleted)
}

/// The number of documents in a table (system query `_system/cli/tableSize`).
async fn table_size(
    client: &DeploymentClient,
    component_path: &str,
    table: &str,
) -> PushResult<u64> {
    let mut body = json!({
        "path": "_system/cli/tableSize:default",
        "format": "convex_encoded_json",
        "args": {"tableName": table},
    });
    if !component_path.is_empty() {
        body["componentPath"] = json!(component_path);
    }
    let request = DeploymentRequest::new(Method::POST, "/api/query").json(&body);
    let answer = client
        .send_json(&request)
        .await
        .map_err(|e| {
            PushError::from_fetch(e)
                .with_context(format!("Unable to count the documents of table {table}"))
        })?
        .unwrap_or(Value::Null);
    if answer.get("status").and_then(Value::as_str) != Some("success") {
        let message = answer
            .get("errorMessage")
            .and_then(Value::as_str)
            .unwrap_or("no answer");
        return Err(PushError::fatal(format!(
            "Unable to count the documents of table {table}: {message}"
        )));
    }
    Ok(match &answer["value"] {
        Value::Number(n) => n.as_f64().unwrap_or(0.0).max(0.0) as u64,
        // `convex_encoded_json` integers (`{"$integer": base64 i64 LE}`).
        Value::Object(o) => o
            .get("$integer")
            .and_then(Value::as_str)
            .and_then(|b| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.decode(b).ok()
            })
            .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
            .map(|bytes| i64::from_le_bytes(bytes).max(0) as u64)
            .unwrap_or(0),
        _ => 0,
    })
}

async fn check_large_index_deletion(
    ctx: &CheckContext<'_>,
    mode: CheckMode,
    evaluation: Option<&EvaluateSchemaResponse>,
    span: &mut Span,
) -> PushResult<()> {
    ctx.output
        .progress("Verifying that the push isn’t deleting large indexes...");
    let deleted = match evaluation {
        Some(response) => deleted_from_evaluation(response),
        None => {
            crate::output::verbose(
                "Schema evaluation unavailable, sizing deleted indexes per table",
            );
            deleted_from_table_sizes(ctx, span).await?
        }
    };
    if deleted.is_empty() {
        ctx.output.step_done("No indexes are deleted by this push");
        return Ok(());
    }
    let min = ctx.thresholds.min_documents_for_delete_warning;
    if !deleted.iter().any(|d| d.documents >= min) {
        ctx.output
            .step_done("No large indexes are deleted by this push");
        return Ok(());
    }
    let lines: Vec<String> = deleted
        .iter()
        .map(|d| {
            let count = if d.documents >= min {
                format!("  ⚠️  {} documents", with_commas(d.documents))
            } else {
                format!(
                    "  {} {}",
                    with_commas(d.documents),
                    if d.documents == 1 {
                        "document"
                    } else {
                        "documents"
                    }
                )
            };
            let replaced = d
                .replaced_by
                .as_ref()
                .map(|r| format!("\n   → replaced by: {}", format_index(r)))
                .unwrap_or_default();
            format!(
                "⛔ {}{}{count}{replaced}",
                component_prefix(&d.component_path),
                format_index(&d.index)
            )
        })
        .collect();
    let one = deleted.len() == 1;
    ctx.output.message(&format!(
        "⚠️  This code push will delete the following {}\nfrom your production deployment ({}):\n\n{}\n\nThe documents that are in the index won’t be deleted, but the index will need\nto be backfilled again if you want to restore it later.\n",
        if one { "index" } else { "indexes" },
        ctx.client.url(),
        lines.join("\n")
    ));
    if mode == CheckMode::Allowed {
        ctx.output
            .step_done("Proceeding with push since deleting large indexes was allowed by flag");
        return Ok(());
    }
    confirm_or_fail(
        ctx,
        "--skip-large-indexes-check",
        if one {
            "Delete this index?"
        } else {
            "Delete these indexes?"
        },
    )
}

fn blocking_indexes(
    response: &EvaluateSchemaResponse,
    min_documents: u64,
) -> Vec<(&str, &IndexPrediction)> {
    response
        .component_schema_evaluations
        .iter()
        .flat_map(|(path, prediction)| {
            prediction
                .indexes
                .iter()
                .filter(move |i| {
                    i.needs_backfill
                        && !i.index.is_staged()
                        && (i.change == "added" || i.change == "enabled")
                        && i.num_docs >= min_documents
                })
                .map(move |i| (path.as_str(), i))
        })
        .collect()
}

/// `mode`: `None` on dry runs (warn only).
fn check_large_index_backfill(
    ctx: &CheckContext<'_>,
    mode: Option<CheckMode>,
    evaluation: Option<&EvaluateSchemaResponse>,
) -> PushResult<()> {
    ctx.output
        .progress("Verifying that the push isn’t creating large indexes...");
    let Some(response) = evaluation else {
        return Ok(());
    };
    let blocking = blocking_indexes(response, ctx.thresholds.min_documents_for_backfill_warning);
    if blocking.is_empty() {
        return Ok(());
    }
    let plural = blocking.len() != 1;
    let lines: Vec<String> = blocking
        .iter()
        .map(|(path, i)| {
            let note = if i.change == "enabled" {
                "\n   enabled before its staged backfill finished"
            } else {
                ""
            };
            format!(
                "⛔ {}{}  ⚠️  {} documents{note}",
                component_prefix(path),
                format_index(&i.index),
                with_commas(i.num_docs)
            )
        })
        .collect();
    ctx.output.message(&format!(
        "⚠️  This push will create the following {}\nin your deployment ({}). The deploy will block until {} backfilling:\n\n{}\n\nTip: stage the index (e.g. `.index(\"by_field\", {{ fields: [\"field\"], staged: true }})`) to backfill\nit in the background without blocking the deploy, then remove `staged` in a later push once it’s ready.\nLearn more at https://docs.convex.dev/database/reading-data/indexes#staged-indexes\n",
        if plural { "indexes on large tables" } else { "index on a large table" },
        ctx.client.url(),
        if plural { "they finish" } else { "it finishes" },
        lines.join("\n")
    ));
    match mode {
        None => Ok(()),
        Some(CheckMode::Allowed) | Some(CheckMode::Off) => {
            ctx.output
                .step_done("Proceeding with push since --skip-large-indexes-check is set");
            Ok(())
        }
        Some(CheckMode::Ask) => confirm_or_fail(
            ctx,
            "--skip-large-indexes-check",
            if plural {
                "Create these indexes now?"
            } else {
                "Create this index now?"
            },
        ),
    }
}

fn validation_progress(state: &Value) -> String {
    let checked = state
        .get("numDocsValidated")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    match state.get("totalDocs").and_then(Value::as_u64) {
        Some(total) => format!(
            "{} of approximately {} documents checked",
            with_commas(checked),
            with_commas(total)
        ),
        None => format!("{} documents checked", with_commas(checked)),
    }
}

fn describe_discarded(state: &Value, replaced: bool) -> String {
    let status = match state.get("state").and_then(Value::as_str) {
        Some("pending") => format!(
            "validating in the background ({})",
            validation_progress(state)
        ),
        Some("valid") => "validated".to_string(),
        Some(other) => other.to_string(),
        None => "unknown".to_string(),
    };
    let action = if replaced {
        "the push stages a different validator"
    } else {
        "the push removes the staged validator"
    };
    format!("{status}; {action}")
}

fn check_staged_validator_deletion(
    ctx: &CheckContext<'_>,
    mode: CheckMode,
    evaluation: Option<&EvaluateSchemaResponse>,
) -> PushResult<()> {
    let Some(response) = evaluation else {
        return Ok(());
    };
    let discarded: Vec<String> = response
        .component_schema_evaluations
        .iter()
        .flat_map(|(path, p)| {
            p.discarded_staged_validators.iter().map(move |v| {
                format!(
                    "⛔ {}{}: {}",
                    component_prefix(path),
                    v.table_name,
                    describe_discarded(&v.state, v.replaced == Some(true))
                )
            })
        })
        .collect();
    if discarded.is_empty() {
        return Ok(());
    }
    let one = discarded.len() == 1;
    ctx.output.message(&format!(
        "⚠️  This push {} staged schema validation for the following {}:\n\n{}\n\nA discarded staged validator restarts validation from zero if staged again.\n",
        if ctx.dry_run { "would discard" } else { "discards" },
        if one { "table" } else { "tables" },
        discarded.join("\n")
    ));
    if ctx.dry_run {
        return Ok(());
    }
    if mode == CheckMode::Allowed {
        ctx.output
            .step_done("Proceeding with push since --allow-unstaging-schema is set");
        return Ok(());
    }
    confirm_or_fail(
        ctx,
        "--allow-unstaging-schema",
        if one {
            "Discard staged validation for this table?"
        } else {
            "Discard staged validation for these tables?"
        },
    )
}

fn report_slow_schema_validation(
    ctx: &CheckContext<'_>,
    evaluation: Option<&EvaluateSchemaResponse>,
) {
    let Some(response) = evaluation else {
        return;
    };
    // Staged validators and their progress.
    let mut staged_lines = Vec::new();
    for (path, prediction) in &response.component_schema_evaluations {
        for table in &prediction.tables {
            let Some(staged) = &table.staged else {
                continue;
            };
            let prefix = if path.is_empty() {
                String::new()
            } else {
                format!("{path}: ")
            };
            let discarded = prediction
                .discarded_staged_validators
                .iter()
                .find(|v| v.table_name == table.name);
            let text = if let Some(v) = discarded {
                describe_discarded(&v.state, v.replaced == Some(true))
            } else {
                match staged.get("state").and_then(Value::as_str) {
                    Some("pending") => format!("validating in the background ({})", validation_progress(staged)),
                    Some("valid") if table.outcome == "supersetOfStagedValidated" => {
                        "validated. This deploy applies the staged schema without scanning the table.".to_string()
                    }
                    Some("valid") => "validated. Safe to apply the staged schema changes and deploy.".to_string(),
                    Some("failed") => format!(
                        "failed: {} (fix the offending documents and redeploy to revalidate)",
                        staged.get("error").and_then(Value::as_str).unwrap_or("")
                    ),
                    _ => continue,
                }
            };
            staged_lines.push(format!("  {prefix}{}: {text}", table.name));
        }
    }
    if !staged_lines.is_empty() {
        ctx.output.message(&format!(
            "Staged schema validation status:\n{}\n",
            staged_lines.join("\n")
        ));
    }
    if !ctx.dry_run {
        return;
    }
    let walked: Vec<(&str, &api::TablePrediction)> = response
        .component_schema_evaluations
        .iter()
        .flat_map(|(path, p)| {
            p.tables
                .iter()
                .filter(|t| t.outcome == "mustWalk")
                .map(move |t| (path.as_str(), t))
        })
        .collect();
    if walked.is_empty() {
        return;
    }
    let total: u64 = walked.iter().map(|(_, t)| t.size_bytes).sum();
    if total < ctx.thresholds.min_bytes_for_schema_walk_warning {
        return;
    }
    let suggest_staging = walked
        .iter()
        .any(|(_, t)| t.can_skip_after_staged_validation != Some(true));
    let lines: Vec<String> = walked
        .iter()
        .map(|(path, t)| {
            let prefix = if path.is_empty() {
                String::new()
            } else {
                format!("{path}: ")
            };
            let pending = t
                .staged
                .as_ref()
                .and_then(|s| s.get("state"))
                .and_then(Value::as_str)
                == Some("pending");
            let note = if pending && t.can_skip_after_staged_validation == Some(true) {
                ". Staged schema validation in progress. Wait for validation to complete before deploying with the staged changes. Deploying now will block on a full table revalidation scan."
            } else {
                ""
            };
            format!(
                "  {prefix}{} ({} documents, {}){note}",
                t.name,
                with_commas(t.num_docs),
                format_size(t.size_bytes)
            )
        })
        .collect();
    let tip = if suggest_staging {
        "\n\nTip: stage the new validator (`defineTable({...}).staged({...})`) to validate it in the background without blocking deploys."
    } else {
        ""
    };
    ctx.output.message(&format!(
        "⚠️  This schema change requires checking every document in the following {} against your new schema, totaling {}. This deploy may take a while:\n\n{}{tip}",
        if walked.len() == 1 { "table" } else { "tables" },
        format_size(total),
        lines.join("\n")
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::output::RecordingOutput;

    #[test]
    fn number_formats() {
        assert_eq!(with_commas(0), "0");
        assert_eq!(with_commas(999), "999");
        assert_eq!(with_commas(100_000), "100,000");
        assert_eq!(with_commas(1_234_567), "1,234,567");
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(1536), "1.5 KiB");
        assert_eq!(format_size(1 << 27), "128 MiB");
        assert_eq!(format_size(1024 * 1024 - 1), "1 MiB");
    }

    fn spec(value: Value) -> IndexSpec {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn index_formats() {
        assert_eq!(
            format_index(&spec(
                json!({"name": "notes.by_tag", "type": "database", "fields": ["tag", "_creationTime"]})
            )),
            "notes.by_tag   tag, _creationTime"
        );
        assert_eq!(
            format_index(&spec(
                json!({"name": "notes.search", "type": "search", "searchField": "body", "filterFields": ["tag"], "staged": true})
            )),
            "notes.search (text)   body, filter on tag  (staged)"
        );
        assert_eq!(
            format_index(&spec(
                json!({"name": "e.v", "type": "vector", "vectorField": "emb", "dimensions": 3, "filterFields": ["a", "b"]})
            )),
            "e.v (vector)   emb (3 dimensions), filters on a, b"
        );
    }

    #[test]
    fn thresholds_from_env() {
        let out = RecordingOutput::default();
        let env = Env::from_pairs([
            ("CONVEX_MIN_DOCUMENTS_FOR_INDEX_DELETE_WARNING", " 10 "),
            ("CONVEX_MIN_DOCUMENTS_FOR_INDEX_BACKFILL_WARNING", "1e5"),
        ]);
        let t = Thresholds::from_env(&env, &out);
        assert_eq!(t.min_documents_for_delete_warning, 10);
        assert_eq!(t.min_documents_for_backfill_warning, 100_000);
        assert_eq!(t.min_bytes_for_schema_walk_warning, 1 << 27);
        assert_eq!(out.lines().len(), 1);
        assert!(out.lines()[0].contains("CONVEX_MIN_DOCUMENTS_FOR_INDEX_BACKFILL_WARNING"));
    }

    #[test]
    fn blocking_indexes_filter() {
        let response: EvaluateSchemaResponse = serde_json::from_value(json!({
            "componentSchemaEvaluations": {"": {"tables": [], "indexes": [
                {"name": "t.a", "type": "database", "fields": ["a"], "change": "added", "needsBackfill": true, "numDocs": 200000},
                {"name": "t.b", "type": "database", "fields": ["b"], "change": "added", "needsBackfill": true, "numDocs": 200000, "staged": true},
                {"name": "t.c", "type": "database", "fields": ["c"], "change": "identical", "needsBackfill": true, "numDocs": 200000},
                {"name": "t.d", "type": "database", "fields": ["d"], "change": "enabled", "needsBackfill": true, "numDocs": 5},
                {"name": "t.e", "type": "database", "fields": ["e"], "change": "enabled", "needsBackfill": true, "numDocs": 100000}
            ]}}
        }))
        .unwrap();
        let names: Vec<&str> = blocking_indexes(&response, 100_000)
            .iter()
            .map(|(_, i)| i.index.name.as_str())
            .collect();
        assert_eq!(names, ["t.a", "t.e"]);
    }

    #[test]
    fn check_tables() {
        let deploy = PushChecks::deploy(false, true, false);
        assert_eq!(deploy.large_index_deletion, CheckMode::Allowed);
        assert_eq!(deploy.large_index_backfill, CheckMode::Ask);
        assert_eq!(deploy.staged_validator_deletion, CheckMode::Ask);
        let preview = PushChecks::preview(true, false);
        assert_eq!(preview.large_index_backfill, CheckMode::Off);
        assert_eq!(
            PushChecks::preview(false, true).large_index_backfill,
            CheckMode::Allowed
        );
        assert_eq!(
            PushChecks::dev(false).staged_validator_deletion,
            CheckMode::Off
        );
        assert_eq!(PushChecks::dev(true).large_index_backfill, CheckMode::Ask);
    }
}
