//! A deployment's insights (OCC conflicts, read limits) over the last 72
//! hours, from the team usage API (`GET /api/dashboard/teams/<id>/usage/
//! query`), parsed and sorted as the official CLI does.

use anyhow::{Context as _, Result};
use serde_json::Value;

use crate::http::ManagementClient;
use crate::values::JsValue;

/// The insights dataset's query id (the dashboard's).
pub const INSIGHTS_QUERY_ID: &str = "9ab3b74e-a725-480b-88a6-43e6bd70bd82";
const ROOT_COMPONENT_PATH: &str = "-root-component-";
const MAX_RECENT_EVENTS: usize = 5;

/// Kinds from most to least severe.
const KINDS: &[(&str, &str)] = &[
    ("documentsReadLimit", "error"),
    ("bytesReadLimit", "error"),
    ("occFailedPermanently", "error"),
    ("documentsReadThreshold", "warning"),
    ("bytesReadThreshold", "warning"),
    ("occRetried", "warning"),
];

/// One insight, with the fields of the official JSON output in its order.
#[derive(Debug, Clone, PartialEq)]
pub struct Insight {
    pub kind: String,
    pub severity: String,
    pub function_id: String,
    pub component_path: Option<String>,
    /// OCC kinds: `occCalls` (and `occTableName`); others: `count`.
    pub occ: bool,
    pub calls_or_count: JsValue,
    pub occ_table_name: Option<JsValue>,
    pub recent_events: Option<Vec<JsValue>>,
}

impl Insight {
    /// The object the official `--json` prints.
    pub fn to_js(&self) -> JsValue {
        let mut o = vec![
            ("kind".to_string(), JsValue::String(self.kind.clone())),
            (
                "severity".to_string(),
                JsValue::String(self.severity.clone()),
            ),
            (
                "functionId".to_string(),
                JsValue::String(self.function_id.clone()),
            ),
            (
                "componentPath".to_string(),
                self.component_path
                    .clone()
                    .map_or(JsValue::Null, JsValue::String),
            ),
        ];
        if self.occ {
            o.push(("occCalls".into(), self.calls_or_count.clone()));
            if let Some(t) = &self.occ_table_name {
                o.push(("occTableName".into(), t.clone()));
            }
        } else {
            o.push(("count".into(), self.calls_or_count.clone()));
        }
        if let Some(events) = &self.recent_events {
            o.push(("recentEvents".into(), JsValue::Array(events.clone())));
        }
        JsValue::Object(o)
    }

    fn order(&self) -> usize {
        KINDS
            .iter()
            .position(|(k, _)| *k == self.kind)
            .unwrap_or(KINDS.len())
    }
}

/// Turn the usage API's rows (`[kind, functionId, componentPath,
/// detailsJson]`) into insights, most severe first. Unknown kinds are
/// skipped.
pub fn parse_rows(rows: &[Value], include_recent_events: bool) -> Result<Vec<Insight>> {
    let mut out = Vec::new();
    for row in rows {
        let cell = |i: usize| row.get(i).and_then(Value::as_str);
        let Some(kind) = cell(0) else {
            anyhow::bail!("The usage API sent an insight row without a kind: {row}");
        };
        let Some((_, severity)) = KINDS.iter().find(|(k, _)| *k == kind) else {
            continue;
        };
        let function_id = cell(1).unwrap_or("").to_string();
        let component_path = match cell(2) {
            Some(ROOT_COMPONENT_PATH) | None => None,
            Some(p) => Some(p.to_string()),
        };
        let details: Value =
            serde_json::from_str(cell(3).unwrap_or("null")).with_context(|| {
                format!("The usage API sent insight details that are not JSON: {row}")
            })?;
        let details = JsValue::from_serde(&details);
        let field = |name: &str| match &details {
            JsValue::Object(entries) => entries
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            _ => None,
        };
        let recent_events = if include_recent_events {
            match field("recentEvents") {
                Some(JsValue::Array(events)) => {
                    Some(events.into_iter().take(MAX_RECENT_EVENTS).collect())
                }
                _ => Some(Vec::new()),
            }
        } else {
            None
        };
        let occ = kind.starts_with("occ");
        out.push(Insight {
            kind: kind.to_string(),
            severity: severity.to_string(),
            function_id,
            component_path,
            occ,
            calls_or_count: field(if occ { "occCalls" } else { "count" }).unwrap_or(JsValue::Null),
            occ_table_name: if occ { field("occTableName") } else { None },
            recent_events,
        });
    }
    out.sort_by_key(Insight::order);
    Ok(out)
}

/// "2 errors and 1 warning": how many insights of each severity.
pub fn count_by_severity(insights: &[Insight]) -> String {
    let count = |severity: &str, word: &str| {
        let n = insights.iter().filter(|i| i.severity == severity).count();
        (n > 0).then(|| format!("{n} {word}{}", if n > 1 { "s" } else { "" }))
    };
    [count("error", "error"), count("warning", "warning")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The deployment insights are asked about: only cloud deployments (which
/// have a name) have them.
pub fn insights_deployment_name(
    credentials: &crate::credentials::DeploymentCredentials,
) -> Result<String> {
    credentials
        .fields
        .as_ref()
        .map(|f| f.deployment_name.clone())
        .ok_or_else(|| {
            crate::error::fail(
                "Insights are only available for cloud deployments. Local deployments do not have insights data.",
            )
        })
}

/// Fetch the insights of `deployment_name` (team `team_id`) for the 72
/// hours up to `now`.
pub async fn fetch_insights(
    management: &ManagementClient,
    team_id: u64,
    deployment_name: &str,
    include_recent_events: bool,
    now: std::time::SystemTime,
) -> Result<Vec<Insight>> {
    let day = |t: std::time::SystemTime| crate::output::iso_time(t)[..10].to_string();
    let from = day(now - std::time::Duration::from_secs(72 * 3600));
    let to = day(now);
    let query = format!(
        "dashboard/teams/{team_id}/usage/query?queryId={INSIGHTS_QUERY_ID}&deploymentName={}&from={from}&to={to}",
        crate::http::encode_component(deployment_name)
    );
    let rows = management
        .big_brain_get(&query)
        .await
        .context("Could not read the deployment's insights")?
        .unwrap_or(Value::Array(Vec::new()));
    let rows = rows.as_array().with_context(|| {
        format!("The usage API answered with something other than rows: {rows}")
    })?;
    parse_rows(rows, include_recent_events)
}

/// The text lines of one insight (`--details` adds its recent events).
pub fn format_insight(insight: &Insight, details: bool) -> String {
    let severity = if insight.severity == "error" {
        "[ERROR]"
    } else {
        "[WARNING]"
    };
    let kind = match insight.kind.as_str() {
        "occRetried" => "OCC Retried",
        "occFailedPermanently" => "OCC Failed Permanently",
        "bytesReadLimit" => "Bytes Read Limit Exceeded",
        "bytesReadThreshold" => "Bytes Read Near Limit",
        "documentsReadLimit" => "Documents Read Limit Exceeded",
        "documentsReadThreshold" => "Documents Read Near Limit",
        other => other,
    };
    let function = match &insight.component_path {
        Some(p) if !p.is_empty() => format!("{p}:{}", insight.function_id),
        _ => insight.function_id.clone(),
    };
    let n = insight.calls_or_count.js_to_string();
    let plural = if matches!(insight.calls_or_count, JsValue::Number(x) if x == 1.0) {
        ""
    } else {
        "s"
    };
    let detail = if insight.occ {
        let table = match &insight.occ_table_name {
            Some(JsValue::String(t)) if !t.is_empty() => format!(" on table {t}"),
            _ => String::new(),
        };
        format!("{n} OCC conflict{plural}{table}")
    } else {
        format!("{n} occurrence{plural}")
    };
    let mut out = format!("{severity} {kind}: {function} — {detail}");
    if details
        && let Some(events) = &insight.recent_events
        && !events.is_empty()
    {
        out.push('\n');
        for event in events {
            let get = |k: &str| match event {
                JsValue::Object(e) => e.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()),
                _ => None,
            };
            let time = match get("timestamp") {
                Some(JsValue::String(s)) => parse_date_ms(&s)
                    .map(crate::commands::dev::locale_string)
                    .unwrap_or_else(|| "Invalid Date".into()),
                Some(JsValue::Number(ms)) => crate::commands::dev::locale_string(ms),
                _ => "Invalid Date".into(),
            };
            let request = get("request_id")
                .map(|v| v.js_to_string())
                .unwrap_or_else(|| "undefined".into());
            let truthy = |v: &Option<JsValue>| match v {
                None | Some(JsValue::Null) | Some(JsValue::Bool(false)) => false,
                Some(JsValue::String(s)) => !s.is_empty(),
                Some(JsValue::Number(n)) => *n != 0.0 && !n.is_nan(),
                _ => true,
            };
            if let Some(retries) = get("occ_retry_count") {
                let doc = get("occ_document_id");
                let doc = if truthy(&doc) {
                    format!(" doc:{}", doc.map(|d| d.js_to_string()).unwrap_or_default())
                } else {
                    String::new()
                };
                let source = get("occ_write_source");
                let source = if truthy(&source) {
                    format!(
                        " source:{}",
                        source.map(|d| d.js_to_string()).unwrap_or_default()
                    )
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "    {time}  req:{request}  retries:{}{doc}{source}\n",
                    retries.js_to_string()
                ));
            } else {
                let status = if truthy(&get("success")) {
                    "ok"
                } else {
                    "fail"
                };
                let calls = match get("calls") {
                    Some(JsValue::Array(calls)) => calls
                        .iter()
                        .map(|c| {
                            let f = |k: &str| match c {
                                JsValue::Object(e) => e
                                    .iter()
                                    .find(|(key, _)| key == k)
                                    .map(|(_, v)| v.js_to_string())
                                    .unwrap_or_else(|| "undefined".into()),
                                _ => "undefined".into(),
                            };
                            format!(
                                "{}({} docs, {} bytes)",
                                f("table_name"),
                                f("documents_read"),
                                f("bytes_read")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    _ => String::new(),
                };
                out.push_str(&format!("    {time}  req:{request}  {status}  {calls}\n"));
            }
        }
    }
    out
}

/// Milliseconds since the epoch of a date string (ISO 8601 / RFC 3339, or
/// a plain date taken as UTC midnight).
fn parse_date_ms(s: &str) -> Option<f64> {
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond() as f64);
    }
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        // No offset: JavaScript reads a date-time as local time.
        let zoned = jiff::tz::TimeZone::system().to_zoned_datetime(dt).ok()?;
        return Some(zoned.timestamp().as_millisecond() as f64);
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        let zoned = jiff::tz::TimeZone::UTC
            .to_zoned_datetime(d.at(0, 0, 0, 0))
            .ok()?;
        return Some(zoned.timestamp().as_millisecond() as f64);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_become_sorted_insights() {
        let rows = vec![
            json!([
                "occRetried",
                "notes:add",
                "-root-component-",
                "{\"occCalls\":3,\"occTableName\":\"notes\",\"recentEvents\":[]}"
            ]),
            json!([
                "documentsReadLimit",
                "notes:list",
                "workpool",
                "{\"count\":1,\"recentEvents\":[]}"
            ]),
            json!(["somethingNew", "x", "-root-component-", "{}"]),
        ];
        let insights = parse_rows(&rows, false).unwrap();
        assert_eq!(insights.len(), 2);
        assert_eq!(insights[0].kind, "documentsReadLimit");
        assert_eq!(
            format_insight(&insights[0], false),
            "[ERROR] Documents Read Limit Exceeded: workpool:notes:list — 1 occurrence"
        );
        assert_eq!(
            format_insight(&insights[1], false),
            "[WARNING] OCC Retried: notes:add — 3 OCC conflicts on table notes"
        );
        assert_eq!(
            crate::values::stringify(&insights[1].to_js(), 0),
            r#"{"kind":"occRetried","severity":"warning","functionId":"notes:add","componentPath":null,"occCalls":3,"occTableName":"notes"}"#
        );
    }
}
