//! `convex deployment usage` and `convex deployment usage-limits
//! list|set|remove`: the deployment's usage so far this day and month
//! (`GET /api/v1/get_current_usage`) and its usage limits
//! (`/api/v1/list_usage_limits`, `create_usage_limit`,
//! `update_usage_limit/<id>`, `delete_usage_limit/<id>`), with the admin key
//! of the selected deployment.
//!
//! Tables and `--json` go to stdout, formatted as the official CLI's
//! JavaScript prints them ([`crate::jsfmt`]); everything else to stderr.

use anyhow::Result;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::commands::one_off::{self, Target};
use crate::commands::{GlobalSelectionArgs, SelectionArgs};
use crate::context::{Context, ContextOptions};
use crate::credentials::SelectionFlags;
use crate::error::fail;
use crate::http::{DeploymentClient, DeploymentRequest, FetchError};
use crate::jsfmt::{
    format_compact, format_grouped, js_length, js_math_round, json_number, stringify_pretty,
};
use crate::output;

/// The metrics a limit can be set on, in the order tables list them.
pub const METRICS: [&str; 9] = [
    "functionCalls",
    "queryMutationComputeGbHours",
    "actionComputeConvexGbHours",
    "actionComputeNodeJsGbHours",
    "actionComputeCpuGbHours",
    "databaseIoGb",
    "searchQueryGb",
    "dataEgressGb",
    "aiGatewayCostDollars",
];

/// Human names of the metrics; unknown ones show their id.
pub fn metric_label(metric: &str) -> &str {
    match metric {
        "functionCalls" => "Function calls",
        "queryMutationComputeGbHours" => "Query/Mutation compute",
        "actionComputeConvexGbHours" => "Action compute",
        "actionComputeNodeJsGbHours" => "Action compute (Node.js)",
        "actionComputeCpuGbHours" => "Action compute (CPU)",
        "databaseIoGb" => "Database I/O",
        "searchQueryGb" => "Search queries",
        "dataEgressGb" => "Data egress",
        "aiGatewayCostDollars" => "AI Gateway",
        other => other,
    }
}

/// `--metric <metric>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "verbatim")]
#[allow(non_camel_case_types)]
pub enum Metric {
    functionCalls,
    queryMutationComputeGbHours,
    actionComputeConvexGbHours,
    actionComputeNodeJsGbHours,
    actionComputeCpuGbHours,
    databaseIoGb,
    searchQueryGb,
    dataEgressGb,
    aiGatewayCostDollars,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        METRICS[self as usize]
    }
}

/// `--window <window>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Window {
    Day,
    Month,
}

impl Window {
    pub fn as_str(self) -> &'static str {
        match self {
            Window::Day => "day",
            Window::Month => "month",
        }
    }
}

/// `--type <type>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LimitType {
    Warning,
    Disable,
}

impl LimitType {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitType::Warning => "warning",
            LimitType::Disable => "disable",
        }
    }
}

/// Show usage so far in the current day and calendar month for every metric.
///
/// • Show current usage: `npx convex deployment usage`
/// • Print as JSON: `npx convex deployment usage --json`
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct UsageArgs {
    /// Output the usage as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

/// List and configure usage limits on your deployment.
///
/// A usage limit either warns or pauses your deployment when a metric
/// (function calls, database bandwidth, …) crosses a threshold within a
/// daily or monthly window. Each limit is identified by its
/// (metric, window, type).
///
/// • List usage limits: `npx convex deployment usage-limits list`
/// • Create or update one: `npx convex deployment usage-limits set --metric functionCalls --window day --type disable --limit 1000000`
/// • Delete one: `npx convex deployment usage-limits remove --metric functionCalls --window day --type disable`
#[derive(Debug, Clone, clap::Args)]
#[command(
    subcommand_required = true,
    arg_required_else_help = true,
    disable_help_subcommand = true,
    args_override_self = true,
    verbatim_doc_comment,
    mut_arg("prod", |a| a.help(
        "List and configure usage limits on this project's default production deployment"
    )),
    mut_arg("deployment", |a| a.help(
        "List and configure usage limits on a specific deployment (a name, a reference, `dev`, `prod`, `local`, optionally `project:` or `team:project:` first)"
    ))
)]
pub struct LimitsArgs {
    #[command(flatten)]
    pub selection: GlobalSelectionArgs,
    #[command(subcommand)]
    pub command: LimitsSub,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum LimitsSub {
    /// List configured usage limits
    List(ListArgs),
    /// Create or update a usage limit
    Set(SetArgs),
    /// Delete a usage limit
    #[command(visible_alias = "rm", alias = "delete")]
    Remove(RemoveArgs),
}

/// List the usage limits configured on your deployment.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct ListArgs {
    /// Output the usage limits as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The (metric, window, type) that identifies a usage limit.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitKey {
    /// The metric to limit.
    #[arg(long, value_enum, value_name = "metric", required = true)]
    pub metric: Option<Metric>,
    /// The window the limit is measured over.
    #[arg(long, value_enum, value_name = "window", required = true)]
    pub window: Option<Window>,
    /// `warning` only notifies; `disable` pauses the deployment when exceeded.
    #[arg(long = "type", value_enum, value_name = "type", required = true)]
    pub limit_type: Option<LimitType>,
}

impl LimitKey {
    fn parts(&self) -> (&'static str, &'static str, &'static str) {
        (
            self.metric.map(Metric::as_str).unwrap_or_default(),
            self.window.map(Window::as_str).unwrap_or_default(),
            self.limit_type.map(LimitType::as_str).unwrap_or_default(),
        )
    }
}

/// Create a usage limit, or update the existing one for the same
/// (metric, window, type). At most one limit exists per combination.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct SetArgs {
    #[command(flatten)]
    pub key: LimitKey,
    /// The limit amount, in the metric's native units. Required when
    /// creating; kept as-is when omitted while updating.
    #[arg(long, value_name = "limit")]
    pub limit: Option<String>,
    /// Enforce the limit (the default for a new limit).
    #[arg(long)]
    pub active: bool,
    /// Create or leave the limit unenforced.
    #[arg(long)]
    pub inactive: bool,
}

/// Delete a usage limit, identified by its (metric, window, type).
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true)]
pub struct RemoveArgs {
    #[command(flatten)]
    pub key: LimitKey,
}

pub fn run_usage(args: UsageArgs) -> Result<()> {
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    crate::commands::block_on(async {
        let target = prepare(&ctx, &flags, "deployment usage").await?;
        one_off::with_running_backend(&ctx, &target, async {
            let usage = get_current_usage(&target.client(&ctx)?).await?;
            if args.json {
                output::data(&stringify_pretty(&usage));
                return Ok(());
            }
            if let Some(message) = seed_status_message(&usage) {
                output::message(message);
            }
            let Some(metrics) = usage.get("metrics").and_then(Value::as_object) else {
                return Err(unexpected("get_current_usage", &usage));
            };
            let mut entries: Vec<(&String, &Value)> = metrics.iter().collect();
            entries.sort_by_key(|(name, _)| metric_rank(name));
            let rows: Vec<Vec<String>> = entries
                .into_iter()
                .map(|(name, m)| {
                    let unit = m.get("unit");
                    let amount = |window: &str| {
                        format_amount(m.get("usage").and_then(|u| u.get(window)), unit)
                    };
                    vec![
                        metric_label(name).to_string(),
                        amount("current_day"),
                        amount("current_month"),
                    ]
                })
                .collect();
            output::data(&format_table(&["Metric", "Day", "Month"], &rows, &[]));
            Ok(())
        })
        .await
    })
}

pub fn run_limits(args: LimitsArgs) -> Result<()> {
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    crate::commands::block_on(async {
        match &args.command {
            LimitsSub::List(list) => limits_list(&ctx, &flags, list).await,
            LimitsSub::Set(set) => limits_set(&ctx, &flags, set).await,
            LimitsSub::Remove(remove) => limits_remove(&ctx, &flags, remove).await,
        }
    })
}

/// Select the deployment, then check the project depends on `convex`
/// (in that order, as the official CLI).
async fn prepare(ctx: &Context, flags: &SelectionFlags, command: &str) -> Result<Target> {
    let target = one_off::select_deployment(ctx, flags).await?;
    ctx.project().ensure_has_convex_dependency(command)?;
    Ok(target)
}

async fn limits_list(ctx: &Context, flags: &SelectionFlags, args: &ListArgs) -> Result<()> {
    let target = prepare(ctx, flags, "deployment usage-limits list").await?;
    one_off::with_running_backend(ctx, &target, async {
        let client = target.client(ctx)?;
        // Both requests leave together, as the official CLI sends them.
        let (limits, usage) = tokio::join!(list_usage_limits(&client), get_current_usage(&client));
        let (limits, usage) = (limits?, usage?);
        let limits = with_status(&limits, &usage);
        if args.json {
            output::data(&stringify_pretty(&Value::Array(
                limits
                    .iter()
                    .map(|l| Value::Object(l.json.clone()))
                    .collect(),
            )));
            return Ok(());
        }
        if limits.is_empty() {
            output::message(&format!("No usage limits configured{}.", target.notice()));
            return Ok(());
        }
        if let Some(message) = seed_status_message(&usage) {
            output::message(message);
        }
        let rows: Vec<Vec<String>> = limits.iter().map(LimitStatus::row).collect();
        output::data(&format_table(
            &[
                "Metric",
                "Window",
                "Type",
                "Limit",
                "Current Usage",
                "Active",
                "Triggered",
            ],
            &rows,
            &[3, 4],
        ));
        Ok(())
    })
    .await
}

async fn limits_set(ctx: &Context, flags: &SelectionFlags, args: &SetArgs) -> Result<()> {
    let target = prepare(ctx, flags, "deployment usage-limits set").await?;
    if args.active && args.inactive {
        return Err(fail("error: Pass at most one of --active and --inactive."));
    }
    let new_limit = match &args.limit {
        Some(raw) => Some(parse_limit(raw)?),
        None => None,
    };
    let (metric, window, limit_type) = args.key.parts();
    let notice = target.notice();
    one_off::with_running_backend(ctx, &target, async {
        let client = target.client(ctx)?;
        let limits = list_usage_limits(&client).await?;
        let existing = find_limit(&limits, metric, window, limit_type);
        let label = format!(
            "{limit_type} usage limit on {} per {window}",
            metric_label(metric)
        );
        let Some(existing) = existing else {
            let Some(limit) = new_limit else {
                return Err(fail(
                    "error: --limit is required when creating a usage limit.",
                ));
            };
            let body = json!({
                "metric": metric,
                "window": window,
                "limitType": limit_type,
                "limit": limit,
                "enabled": !args.inactive,
            });
            let answer = post(&client, "/api/v1/create_usage_limit", Some(&body)).await?;
            let created = answer
                .as_ref()
                .and_then(|a| a.get("usageLimit"))
                .ok_or_else(|| {
                    unexpected(
                        "create_usage_limit",
                        answer.as_ref().unwrap_or(&Value::Null),
                    )
                })?;
            output::success(&format!(
                "Created {label}: {}, {}{notice}.",
                format_limit_amount(created.get("limit")),
                active_word(truthy(created.get("enabled")))
            ));
            return Ok(());
        };
        let was_enabled = existing.get("enabled").cloned().unwrap_or(Value::Null);
        let enabled = if args.active {
            Value::Bool(true)
        } else if args.inactive {
            Value::Bool(false)
        } else {
            was_enabled.clone()
        };
        let old_limit = existing.get("limit").cloned().unwrap_or(Value::Null);
        let limit = new_limit.clone().unwrap_or_else(|| old_limit.clone());
        let mut changes = Vec::new();
        if !js_strict_equal(&limit, &old_limit) {
            changes.push(format!(
                "limit {} → {}",
                format_limit_amount(Some(&old_limit)),
                format_limit_amount(Some(&limit))
            ));
        }
        if !js_strict_equal(&enabled, &was_enabled) {
            changes.push(format!(
                "{} → {}",
                active_word(truthy(Some(&was_enabled))),
                active_word(truthy(Some(&enabled)))
            ));
        }
        if changes.is_empty() {
            output::success(&format!(
                "No changes to {label} ({}, {}){notice}.",
                format_limit_amount(Some(&old_limit)),
                active_word(truthy(Some(&was_enabled)))
            ));
            return Ok(());
        }
        let mut body = Map::new();
        for field in ["metric", "window", "limitType"] {
            if let Some(v) = existing.get(field) {
                body.insert(field.to_string(), v.clone());
            }
        }
        body.insert("limit".into(), limit);
        body.insert("enabled".into(), enabled);
        let id = id_of(existing);
        post(
            &client,
            &format!("/api/v1/update_usage_limit/{id}"),
            Some(&Value::Object(body)),
        )
        .await?;
        output::success(&format!("Updated {label}: {}{notice}.", changes.join(", ")));
        Ok(())
    })
    .await
}

async fn limits_remove(ctx: &Context, flags: &SelectionFlags, args: &RemoveArgs) -> Result<()> {
    let target = prepare(ctx, flags, "deployment usage-limits remove").await?;
    let (metric, window, limit_type) = args.key.parts();
    let notice = target.notice();
    one_off::with_running_backend(ctx, &target, async {
        let client = target.client(ctx)?;
        let limits = list_usage_limits(&client).await?;
        let Some(existing) = find_limit(&limits, metric, window, limit_type) else {
            return Err(fail(format!(
                "error: No {limit_type} usage limit on {metric} per {window}{notice}."
            )));
        };
        let id = id_of(existing);
        post(&client, &format!("/api/v1/delete_usage_limit/{id}"), None).await?;
        let field = |name: &str| existing.get(name).map(js_display).unwrap_or_default();
        output::success(&format!(
            "Deleted {} usage limit on {} per {}{notice}.",
            field("limitType"),
            metric_label(&field("metric")),
            field("window")
        ));
        Ok(())
    })
    .await
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

async fn get_current_usage(client: &DeploymentClient) -> Result<Value> {
    let request = DeploymentRequest::new(Method::GET, "/api/v1/get_current_usage");
    Ok(client
        .send_json(&request)
        .await
        .map_err(|e| step("read the deployment's current usage", e))?
        .unwrap_or(Value::Null))
}

async fn list_usage_limits(client: &DeploymentClient) -> Result<Vec<Value>> {
    let request = DeploymentRequest::new(Method::GET, "/api/v1/list_usage_limits");
    let answer = client
        .send_json(&request)
        .await
        .map_err(|e| step("list the deployment's usage limits", e))?
        .unwrap_or(Value::Null);
    match answer.get("usageLimits").and_then(Value::as_array) {
        Some(limits) => Ok(limits.clone()),
        None => Err(unexpected("list_usage_limits", &answer)),
    }
}

async fn post(
    client: &DeploymentClient,
    path: &str,
    body: Option<&Value>,
) -> Result<Option<Value>> {
    let mut request = DeploymentRequest::new(Method::POST, path);
    if let Some(body) = body {
        request = request.json(body);
    }
    let what = if path.contains("create_usage_limit") {
        "create the usage limit"
    } else if path.contains("update_usage_limit") {
        "update the usage limit"
    } else {
        "delete the usage limit"
    };
    client.send_json(&request).await.map_err(|e| step(what, e))
}

/// "Could not <what>: <the HTTP error>".
fn step(what: &str, error: FetchError) -> anyhow::Error {
    fail(format!("Could not {what}. {error}"))
}

fn unexpected(endpoint: &str, answer: &Value) -> anyhow::Error {
    fail(format!(
        "Unexpected answer from the deployment's /api/v1/{endpoint}: {answer}"
    ))
}

// ---------------------------------------------------------------------------
// Limits with their current usage
// ---------------------------------------------------------------------------

/// A limit with `currentUsage`, `unit` and `triggered` added (the official
/// `UsageLimitStatus`), as JSON in the official key order.
struct LimitStatus {
    json: Map<String, Value>,
}

impl LimitStatus {
    fn row(&self) -> Vec<String> {
        let get = |name: &str| self.json.get(name);
        let unit = get("unit").cloned().unwrap_or(Value::Null);
        let current = match get("currentUsage") {
            Some(Value::Null) => "—".to_string(),
            current => {
                let ratio = number_of(current) / number_of(get("limit")) * 100.0;
                format!(
                    "{} ({}%)",
                    format_amount(current, Some(&unit)),
                    no_negative_zero(format_grouped(js_math_round(ratio)))
                )
            }
        };
        vec![
            metric_label(&get("metric").map(js_display).unwrap_or_default()).to_string(),
            get("window").map(js_display).unwrap_or_default(),
            get("limitType").map(js_display).unwrap_or_default(),
            format_amount(get("limit"), Some(&unit)),
            current,
            yes_no(truthy(get("enabled"))),
            yes_no(truthy(get("triggered"))),
        ]
    }
}

fn with_status(limits: &[Value], usage: &Value) -> Vec<LimitStatus> {
    let metrics = usage.get("metrics");
    let mut out: Vec<LimitStatus> = limits
        .iter()
        .map(|limit| {
            let mut json = limit.as_object().cloned().unwrap_or_default();
            let metric = limit.get("metric").map(js_display).unwrap_or_default();
            let window = limit.get("window").map(js_display).unwrap_or_default();
            let m = metrics.and_then(|m| m.get(&metric));
            // `undefined` (a metric without that window) leaves the key out.
            let current: Option<Value> = match m {
                None => Some(Value::Null),
                Some(m) => {
                    let field = if window == "day" {
                        "current_day"
                    } else {
                        "current_month"
                    };
                    m.get("usage").and_then(|u| u.get(field)).cloned()
                }
            };
            let unit = m
                .and_then(|m| m.get("unit"))
                .filter(|u| !u.is_null())
                .cloned()
                .unwrap_or(Value::Null);
            let enabled = limit.get("enabled");
            let triggered: Option<Value> = if truthy(enabled) {
                Some(Value::Bool(match &current {
                    Some(Value::Null) | None => false,
                    Some(c) => number_of(Some(c)) >= number_of(limit.get("limit")),
                }))
            } else {
                enabled.cloned()
            };
            set_or_remove(&mut json, "currentUsage", current);
            json.insert("unit".into(), unit);
            set_or_remove(&mut json, "triggered", triggered);
            LimitStatus { json }
        })
        .collect();
    // Stable, as JavaScript's sort: metric, then month before day, then
    // warning before disable.
    out.sort_by_key(|l| {
        let text = |name: &str| l.json.get(name).map(js_display).unwrap_or_default();
        (
            metric_rank(&text("metric")),
            usize::from(text("window") != "month"),
            usize::from(text("limitType") != "warning"),
        )
    });
    out
}

fn set_or_remove(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            map.insert(key.to_string(), v);
        }
        None => {
            map.shift_remove(key);
        }
    }
}

fn find_limit<'a>(
    limits: &'a [Value],
    metric: &str,
    window: &str,
    limit_type: &str,
) -> Option<&'a Value> {
    limits.iter().find(|l| {
        l.get("metric").and_then(Value::as_str) == Some(metric)
            && l.get("window").and_then(Value::as_str) == Some(window)
            && l.get("limitType").and_then(Value::as_str) == Some(limit_type)
    })
}

fn id_of(limit: &Value) -> String {
    limit.get("id").map(js_display).unwrap_or_default()
}

fn metric_rank(metric: &str) -> usize {
    METRICS
        .iter()
        .position(|m| *m == metric)
        .unwrap_or(METRICS.len())
}

fn seed_status_message(usage: &Value) -> Option<&'static str> {
    match usage.get("seedStatus").and_then(Value::as_str) {
        Some("complete") => None,
        Some("failed") => Some(
            "We couldn't load this deployment's historical usage, so the usage shown below may understate its actual usage. Limits are still enforced going forward.",
        ),
        _ => Some(
            "Historical usage is still being loaded, so the usage shown below may understate this deployment's actual usage. Check back shortly for accurate totals.",
        ),
    }
}

// ---------------------------------------------------------------------------
// Values as JavaScript sees them
// ---------------------------------------------------------------------------

/// A JSON value used as a number (`NaN` for anything else).
fn number_of(value: Option<&Value>) -> f64 {
    match value {
        Some(Value::Number(n)) => json_number(n),
        Some(Value::Null) => 0.0,
        Some(Value::Bool(b)) => f64::from(u8::from(*b)),
        _ => f64::NAN,
    }
}

/// JavaScript truthiness (`undefined` is `None`).
fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => {
            let f = json_number(n);
            f != 0.0 && !f.is_nan()
        }
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// `===` between two parsed JSON values (objects and arrays are never equal).
fn js_strict_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => json_number(x) == json_number(y),
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        _ => false,
    }
}

/// A value in a template string.
fn js_display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => crate::jsfmt::js_number_to_string(json_number(n)),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Array(_) | Value::Object(_) => value.to_string(),
    }
}

fn no_negative_zero(s: String) -> String {
    if s == "-0" { "0".into() } else { s }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn active_word(b: bool) -> &'static str {
    if b { "active" } else { "inactive" }
}

/// `1.235K GB`, `1 call`, `1M calls`; no unit when it is null (`None`:
/// missing, which JavaScript prints as `undefined`).
fn format_amount(value: Option<&Value>, unit: Option<&Value>) -> String {
    let amount = number_of(value);
    let number = no_negative_zero(format_compact(amount));
    match unit {
        Some(Value::Null) => number,
        unit => {
            let unit = unit.map(js_display).unwrap_or_else(|| "undefined".into());
            if amount == 1.0 && unit == "calls" {
                format!("{number} call")
            } else {
                format!("{number} {unit}")
            }
        }
    }
}

/// An exact, grouped amount for messages (`1,000,000`).
fn format_limit_amount(value: Option<&Value>) -> String {
    format_grouped(number_of(value))
}

/// `--limit`: `Number(value)` must be an integer of at least 1.
fn parse_limit(raw: &str) -> Result<Value> {
    let limit = js_number_from_string(raw);
    if !(limit.is_finite() && limit.fract() == 0.0 && limit >= 1.0) {
        return Err(fail(format!(
            "error: --limit must be a positive integer, got \"{raw}\"."
        )));
    }
    // Sent as JSON.stringify writes the number.
    Ok(if limit < 9_007_199_254_740_992.0 {
        json!(limit as u64)
    } else {
        json!(limit)
    })
}

/// JavaScript's `Number(string)`: surrounding white space ignored, empty is
/// 0, `0x`/`0o`/`0b` integers, `Infinity`, decimal literals; else `NaN`.
fn js_number_from_string(raw: &str) -> f64 {
    let s = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if s.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(digits) = s.strip_prefix(prefix) {
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return f64::NAN;
            }
            return digits.chars().fold(0.0, |acc, c| {
                acc * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0))
            });
        }
    }
    let (sign, body) = match s.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    if body == "Infinity" {
        return sign * f64::INFINITY;
    }
    let bytes = body.as_bytes();
    let mut i = 0;
    let digits_before = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    i += digits_before;
    let mut digits_after = 0;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        digits_after = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        i += digits_after;
    }
    if digits_before + digits_after == 0 {
        return f64::NAN;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exp_digits == 0 {
            return f64::NAN;
        }
        i += exp_digits;
    }
    if i != bytes.len() {
        return f64::NAN;
    }
    body.parse::<f64>().map(|v| sign * v).unwrap_or(f64::NAN)
}

/// The official CLI's box-drawn table; `right_align`: column indices padded
/// on the left. Widths count UTF-16 units, as JavaScript's `padEnd` does.
pub fn format_table(header: &[&str], rows: &[Vec<String>], right_align: &[usize]) -> String {
    let widths: Vec<usize> = header
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            rows.iter()
                .map(|row| row.get(i).map(|c| js_length(c)).unwrap_or(0))
                .chain(std::iter::once(js_length(cell)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let pad = |cell: &str, i: usize| {
        let fill = " ".repeat(widths[i].saturating_sub(js_length(cell)));
        if right_align.contains(&i) {
            format!("{fill}{cell}")
        } else {
            format!("{cell}{fill}")
        }
    };
    let rule = |left: &str, mid: &str, right: &str| {
        let parts: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
        format!("{left}{}{right}", parts.join(mid))
    };
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = (0..widths.len())
            .map(|i| pad(cells.get(i).copied().unwrap_or(""), i))
            .collect();
        format!("│ {} │", padded.join(" │ "))
    };
    let mut lines = vec![rule("┌", "┬", "┐"), line(header.to_vec())];
    lines.push(rule("├", "┼", "┤"));
    for row in rows {
        lines.push(line(row.iter().map(String::as_str).collect()));
    }
    lines.push(rule("└", "┴", "┘"));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_parsing_follows_javascript() {
        for (s, v) in [
            ("25", 25.0),
            (" 12 ", 12.0),
            ("1e3", 1000.0),
            ("0x10", 16.0),
            ("", 0.0),
            ("+7", 7.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("Infinity", f64::INFINITY),
        ] {
            assert_eq!(js_number_from_string(s), v, "{s:?}");
        }
        for s in [
            "abc", "1.5.2", "inf", "nan", "0x", "1e", "12abc", "--1", "e5",
        ] {
            assert!(js_number_from_string(s).is_nan(), "{s:?}");
        }
    }

    #[test]
    fn limits_must_be_positive_integers() {
        assert_eq!(parse_limit("25").unwrap(), json!(25));
        assert_eq!(parse_limit("1e3").unwrap(), json!(1000));
        for bad in ["0", "1.5", "-3", "abc", "", "Infinity"] {
            let err = parse_limit(bad).unwrap_err().to_string();
            assert!(
                err.contains("--limit must be a positive integer"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn table_matches_the_reference_layout() {
        let rows = vec![vec!["Function calls".to_string(), "1 call".into()]];
        assert_eq!(
            format_table(&["Metric", "Day"], &rows, &[1]),
            "┌────────────────┬────────┐\n│ Metric         │    Day │\n├────────────────┼────────┤\n│ Function calls │ 1 call │\n└────────────────┴────────┘"
        );
    }

    #[test]
    fn limits_get_their_usage_and_sort_like_the_dashboard() {
        let limits = vec![
            json!({"id": "a", "metric": "databaseIoGb", "window": "month", "limitType": "disable", "limit": 50, "enabled": true}),
            json!({"id": "b", "metric": "functionCalls", "window": "day", "limitType": "disable", "limit": 1000, "enabled": true}),
            json!({"id": "c", "metric": "functionCalls", "window": "day", "limitType": "warning", "limit": 1000, "enabled": false}),
            json!({"id": "d", "metric": "functionCalls", "window": "month", "limitType": "disable", "limit": 10, "enabled": true}),
            json!({"id": "e", "metric": "searchQueryGb", "window": "month", "limitType": "warning", "limit": 1, "enabled": true}),
        ];
        let usage = json!({"seedStatus": "complete", "metrics": {
            "functionCalls": {"unit": "calls", "usage": {"current_day": 1, "current_month": 56789}},
            "databaseIoGb": {"unit": "GB", "usage": {"current_day": 0.0123, "current_month": 1234.5678}}
        }});
        let rows: Vec<Vec<String>> = with_status(&limits, &usage)
            .iter()
            .map(LimitStatus::row)
            .collect();
        let ids: Vec<String> = with_status(&limits, &usage)
            .iter()
            .map(|l| l.json["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, ["d", "c", "b", "a", "e"]);
        assert_eq!(
            rows[0],
            [
                "Function calls",
                "month",
                "disable",
                "10 calls",
                "56.789K calls (567,890%)",
                "yes",
                "yes"
            ]
        );
        assert_eq!(rows[1][4], "1 call (0%)");
        assert_eq!(rows[1][6], "no");
        assert_eq!(rows[3][4], "1.235K GB (2,469%)");
        assert_eq!(rows[4][4], "—");
        assert_eq!(rows[4][3], "1");
        let e = &with_status(&limits, &usage)[4].json;
        let keys: Vec<&str> = e.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "id",
                "metric",
                "window",
                "limitType",
                "limit",
                "enabled",
                "currentUsage",
                "unit",
                "triggered"
            ]
        );
    }
}
