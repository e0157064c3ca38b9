//! What a push prints about its effect: the index and component changes
//! after `finish_push`, the verbose "remote config will be overwritten"
//! summary, and the redaction of environment-variable values in verbose
//! dumps.

use serde_json::{Map, Value};

use super::api::{IndexDiff, RemoteConfig, StartPushResponse};
use super::checks::format_index;
use super::output::PushOutput;

/// Values shorter than this are not scrubbed (too likely to be ordinary text).
const MIN_SCRUBBED_VALUE_LENGTH: usize = 8;

/// Replaces every occurrence of an environment variable's value (8+
/// characters, also in JSON-escaped form) inside any string of `node`.
pub fn redact_values(node: &Value, values: &[String]) -> Value {
    let mut needles: Vec<String> = Vec::new();
    for value in values
        .iter()
        .filter(|v| v.chars().count() >= MIN_SCRUBBED_VALUE_LENGTH)
    {
        needles.push(value.clone());
        let escaped = serde_json::to_string(value).unwrap_or_default();
        let escaped = escaped[1..escaped.len().saturating_sub(1)].to_string();
        if escaped != *value {
            needles.push(escaped);
        }
    }
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    scrub(node, &needles)
}

fn scrub(node: &Value, needles: &[String]) -> Value {
    match node {
        Value::String(s) => {
            let mut out = s.clone();
            for needle in needles {
                if out.contains(needle.as_str()) {
                    out = out.replace(needle.as_str(), "<redacted>");
                }
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| scrub(i, needles)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), scrub(v, needles)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The `start_push` answer for `--verbose` output: values scrubbed, and
/// `environmentVariables` reduced to names.
pub fn start_push_for_logging(response: &StartPushResponse) -> Value {
    let mut redacted = redact_values(&response.raw, &response.environment_variables());
    if let Some(vars) = response
        .raw
        .get("environmentVariables")
        .and_then(Value::as_object)
    {
        let names: Map<String, Value> = vars
            .keys()
            .map(|k| (k.clone(), Value::String("<redacted>".into())))
            .collect();
        redacted["environmentVariables"] = Value::Object(names);
    }
    redacted
}

/// The "remote config will be overwritten" summary: server function
/// version and Node.js version changes.
pub fn config_diff(
    remote: &RemoteConfig,
    udf_server_version: &str,
    node_version: Option<&str>,
) -> String {
    let mut diff = String::new();
    let mut version = String::new();
    let same = remote.udf_server_version.as_deref() == Some(udf_server_version);
    if let Some(old) = &remote.udf_server_version
        && !same
    {
        version.push_str(&format!("[-] {old}\n"));
    }
    if !same {
        version.push_str(&format!("[+] {udf_server_version}\n"));
    }
    if !version.is_empty() {
        diff.push_str("Change the server's function version:\n");
        diff.push_str(&version);
    }
    if remote.node_version.as_deref() != node_version {
        diff.push_str("Change the server's version for Node.js actions:\n");
        if let Some(old) = &remote.node_version {
            diff.push_str(&format!("[-] {old}\n"));
        }
        if let Some(new) = node_version {
            diff.push_str(&format!("[+] {new}\n"));
        }
    }
    diff
}

/// Prints what `finish_push` reports: with `verbose` the whole (redacted)
/// answer; otherwise the root's index changes and component installs.
pub fn print_finish_diff(
    output: &dyn PushOutput,
    start_push: &StartPushResponse,
    finish_push: &Value,
    verbose: bool,
    dry_run: bool,
    dashboard: &dyn Fn(&str) -> String,
) {
    if verbose {
        let redacted = redact_values(finish_push, &start_push.environment_variables());
        output.message(&serde_json::to_string_pretty(&redacted).unwrap_or_default());
        return;
    }
    let component_diffs = finish_push
        .get("componentDiffs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let root_diff = start_push.root_index_diff().or_else(|| {
        let reported = component_diffs
            .get("")
            .and_then(|d| d.get("indexDiff"))
            .filter(|d| !d.is_null())?;
        let parsed = serde_json::from_value::<IndexDiff>(reported.clone()).ok();
        if parsed.is_none() {
            // The push is finished by now: failing here (as the official
            // CLI does) would report a deployed push as failed.
            output.warning(
                "The push finished, but the deployment's list of index changes could not be read, so it is not shown. \
                 The indexes are on the dashboard's Data page; `--verbose` prints the deployment's answer.",
            );
        }
        parsed
    });
    if let Some(diff) = root_diff {
        let section = |title: &str, marker: &str, indexes: &[&super::api::IndexSpec]| {
            if indexes.is_empty() {
                return;
            }
            let lines: Vec<String> = indexes
                .iter()
                .map(|i| format!("  [{marker}] {}", format_index(i)))
                .collect();
            output.step_done(&format!("{title}\n{}", lines.join("\n")));
        };
        let removed: Vec<_> = diff.removed_indexes.iter().collect();
        section(
            if dry_run {
                "Would delete table indexes:"
            } else {
                "Deleted table indexes:"
            },
            "-",
            &removed,
        );
        let added: Vec<_> = diff
            .added_indexes
            .iter()
            .filter(|i| !i.is_staged())
            .collect();
        section(
            if dry_run {
                "Would add table indexes:"
            } else {
                "Added table indexes:"
            },
            "+",
            &added,
        );
        let staged: Vec<_> = diff
            .added_indexes
            .iter()
            .filter(|i| i.is_staged())
            .collect();
        if !staged.is_empty() {
            let lines: Vec<String> = staged
                .iter()
                .map(|i| {
                    format!(
                        "  [+] {}\n      See progress: {}",
                        format_index(i),
                        dashboard(&format!("/data?table={}&showIndexes=true", i.table()))
                    )
                })
                .collect();
            output.step_done(&format!(
                "{}\n{}",
                if dry_run {
                    "Would add staged table indexes:"
                } else {
                    "Added staged table indexes:"
                },
                lines.join("\n")
            ));
        }
        let enabled: Vec<_> = diff.enabled_indexes.iter().collect();
        section(
            if dry_run {
                "These indexes would be enabled:"
            } else {
                "These indexes are now enabled:"
            },
            "*",
            &enabled,
        );
        let disabled: Vec<_> = diff.disabled_indexes.iter().collect();
        section(
            if dry_run {
                "These indexes would be staged:"
            } else {
                "These indexes are now staged:"
            },
            "*",
            &disabled,
        );
    }
    for (path, diff) in &component_diffs {
        if path.is_empty() {
            continue;
        }
        let kind = diff
            .get("diffType")
            .and_then(|d| d.get("type"))
            .and_then(Value::as_str);
        match kind {
            Some("create") => output.step_done(&format!("Installed component {path}.")),
            Some("unmount") => output.step_done(&format!("Unmounted component {path}.")),
            Some("remount") => output.step_done(&format!("Remounted component {path}.")),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::output::RecordingOutput;
    use serde_json::json;

    #[test]
    fn redaction() {
        let node = json!({"a": "key=supersecret1 and \"quoted\\\"secret\"", "b": ["short", 5], "c": {"d": "supersecret1"}});
        let out = redact_values(
            &node,
            &[
                "supersecret1".into(),
                "short".into(),
                "quoted\"secret".into(),
            ],
        );
        assert_eq!(out["a"], "key=<redacted> and \"<redacted>\"");
        assert_eq!(out["b"], json!(["short", 5]));
        assert_eq!(out["c"]["d"], "<redacted>");
    }

    #[test]
    fn config_diffs() {
        let remote = RemoteConfig::default();
        assert_eq!(
            config_diff(&remote, "1.48.0", None),
            "Change the server's function version:\n[+] 1.48.0\n"
        );
        let remote = RemoteConfig {
            udf_server_version: Some("1.47.0".into()),
            node_version: Some("18".into()),
            ..Default::default()
        };
        assert_eq!(
            config_diff(&remote, "1.48.0", Some("20")),
            "Change the server's function version:\n[-] 1.47.0\n[+] 1.48.0\nChange the server's version for Node.js actions:\n[-] 18\n[+] 20\n"
        );
        let same = RemoteConfig {
            udf_server_version: Some("1.48.0".into()),
            ..Default::default()
        };
        assert_eq!(config_diff(&same, "1.48.0", None), "");
    }

    #[test]
    fn unreadable_index_diff_is_a_warning() {
        let start = StartPushResponse {
            raw: json!({"analysis": {}}),
        };
        // Added indexes that are not a list.
        let finish = json!({"componentDiffs": {"": {"indexDiff": {
            "added_indexes": "notes.by_tag",
            "removed_indexes": []
        }}}});
        let out = RecordingOutput::default();
        print_finish_diff(&out, &start, &finish, false, false, &|page| {
            page.to_string()
        });
        let lines = out.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("! The push finished"), "{lines:?}");
        // No index diff at all says nothing.
        let out = RecordingOutput::default();
        let finish = json!({"componentDiffs": {"": {"indexDiff": null}}});
        print_finish_diff(&out, &start, &finish, false, false, &|page| {
            page.to_string()
        });
        assert!(out.lines().is_empty());
    }

    #[test]
    fn finish_diff_lines() {
        let start = StartPushResponse {
            raw: json!({"analysis": {}, "schemaChange": {"indexDiffs": {"": {
                "added_indexes": [
                    {"name": "notes.by_tag", "type": "database", "fields": ["tag"]},
                    {"name": "notes.by_x", "type": "database", "fields": ["x"], "staged": true}
                ],
                "removed_indexes": [{"name": "tags.old", "type": "database", "fields": ["a"]}]
            }}}}),
        };
        let finish =
            json!({"componentDiffs": {"": {}, "counter": {"diffType": {"type": "create"}}}});
        let out = RecordingOutput::default();
        print_finish_diff(&out, &start, &finish, false, false, &|page| {
            format!("D{page}")
        });
        assert_eq!(
            out.lines(),
            vec![
                "✔ Deleted table indexes:\n  [-] tags.old   a",
                "✔ Added table indexes:\n  [+] notes.by_tag   tag",
                "✔ Added staged table indexes:\n  [+] notes.by_x   x  (staged)\n      See progress: D/data?table=notes&showIndexes=true",
                "✔ Installed component counter.",
            ]
        );
    }
}
