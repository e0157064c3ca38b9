//! The database: table names (`_system/cli/tables`) and documents
//! (`_system/cli/tableData`), read page by page over the sync protocol as
//! the official CLI does, and the `data` command's ways of printing them.

use anyhow::{Context as _, Result};
use serde_json::{Value, json};

use crate::http::HttpClient;
use crate::jsfmt::js_length;
use crate::sync::{Query, SyncClient};
use crate::values::ConvexValue;

/// A deployment to read from.
#[derive(Clone)]
pub struct Database {
    sync: SyncClient,
}

/// Oldest or newest first (by `_creationTime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

impl Database {
    pub fn new(http: HttpClient, deployment_url: &str, admin_key: &str) -> Database {
        Database {
            sync: SyncClient::new(http, deployment_url).with_admin_auth(admin_key, None),
        }
    }

    /// Table names, sorted. `component`: `""` is the root app.
    pub async fn list_tables(&self, component: &str) -> Result<Vec<String>> {
        let rows = self
            .sync
            .paginated_query(
                &Query::new("_system/cli/tables", json!({})).component(Some(component)),
                None,
            )
            .await
            .context("Could not list the tables")?;
        let mut names = Vec::with_capacity(rows.len());
        for row in rows {
            let name = row
                .get("name")
                .and_then(Value::as_str)
                .with_context(|| format!("The deployment listed a table without a name: {row}"))?;
            names.push(name.to_string());
        }
        // JavaScript's default sort: by UTF-16 code units.
        names.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
        Ok(names)
    }

    /// Up to `limit` documents of `table` (Convex-encoded JSON).
    pub async fn documents(
        &self,
        table: &str,
        order: Order,
        component: &str,
        limit: usize,
    ) -> Result<Vec<Value>> {
        self.sync
            .paginated_query(
                &Query::new(
                    "_system/cli/tableData",
                    json!({"table": table, "order": order.as_str()}),
                )
                .component(Some(component)),
                Some(limit),
            )
            .await
            .with_context(|| format!("Could not read the documents of table \"{table}\""))
    }
}

/// A document's fields as the `data` command prints them (`5n`,
/// `Bytes("...")`, strings quoted), in JavaScript's property order.
pub fn document_cells(document: &Value) -> Result<Vec<(String, String)>, String> {
    let v = ConvexValue::from_serde(document)?;
    Ok(v.entries()
        .into_iter()
        .map(|(k, v)| (k.clone(), v.display()))
        .collect())
}

/// One document on one line (`--format jsonl`).
pub fn document_line(document: &Value) -> Result<String, String> {
    Ok(ConvexValue::from_serde(document)?.display())
}

/// The `pretty` table: a header, a rule, one row per document; columns
/// `_id`, `_creationTime`, then the other fields sorted. Lines are cut to
/// `width - 10` characters when a width is given (stdout is a terminal);
/// the flag says whether any was.
pub fn documents_table(
    rows: &[Vec<(String, String)>],
    width: Option<usize>,
) -> (Vec<String>, bool) {
    let mut widths: Vec<(String, usize)> = Vec::new();
    for row in rows {
        for (column, value) in row {
            let len = js_length(value);
            match widths.iter_mut().find(|(c, _)| c == column) {
                Some((_, w)) => *w = (*w).max(len),
                None => widths.push((column.clone(), len)),
            }
        }
    }
    let mut others: Vec<String> = widths.iter().map(|(c, _)| c.clone()).collect();
    others.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    let mut fields: Vec<String> = Vec::new();
    for f in ["_id".to_string(), "_creationTime".to_string()]
        .into_iter()
        .chain(others)
    {
        if !fields.contains(&f) {
            fields.push(f);
        }
    }
    // A column no document has (`_id` of an odd table) has width
    // `undefined` in the official CLI: no padding.
    let width_of = |f: &str| widths.iter().find(|(c, _)| c == f).map(|(_, w)| *w);
    let pad = |s: &str, w: Option<usize>| {
        let len = js_length(s);
        match w {
            Some(w) if len < w => format!("{s}{}", " ".repeat(w - len)),
            _ => s.to_string(),
        }
    };
    let mut truncated = false;
    let mut limit = |line: String| -> String {
        match width {
            None => line,
            Some(width) => {
                let max = width.saturating_sub(10);
                let units: Vec<u16> = line.encode_utf16().collect();
                if units.len() > max {
                    truncated = true;
                    String::from_utf16_lossy(&units[..max])
                } else {
                    line
                }
            }
        }
    };
    let mut lines = Vec::new();
    lines.push(limit(
        fields
            .iter()
            .map(|f| pad(f, width_of(f)))
            .collect::<Vec<_>>()
            .join(" | "),
    ));
    lines.push(limit(
        fields
            .iter()
            .map(|f| "-".repeat(width_of(f).unwrap_or(0)))
            .collect::<Vec<_>>()
            .join("-|-"),
    ));
    for row in rows {
        lines.push(limit(
            fields
                .iter()
                .map(|f| {
                    let cell = row
                        .iter()
                        .find(|(c, _)| c == f)
                        .map(|(_, v)| v.as_str())
                        .unwrap_or("");
                    pad(cell, width_of(f))
                })
                .collect::<Vec<_>>()
                .join(" | "),
        ));
    }
    (lines, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_lines_use_the_cli_value_syntax() {
        let doc = json!({"_id": "k1", "_creationTime": 1700000100000.0, "n": {"$integer": "BQAAAAAAAAA="},
                         "raw": {"$bytes": "AQID"}, "s": "say \"hi\"", "tags": ["a", "b"], "o": {}});
        assert_eq!(
            document_line(&doc).unwrap(),
            r#"{ "_id": "k1", "_creationTime": 1700000100000, "n": 5n, "raw": Bytes("AQID"), "s": "say \"hi\"", "tags": ["a", "b"], "o": {  } }"#
        );
    }

    #[test]
    fn pretty_table() {
        let rows = vec![
            vec![
                ("_id".into(), "\"a\"".into()),
                ("_creationTime".into(), "1".into()),
                ("z".into(), "true".into()),
            ],
            vec![
                ("_id".into(), "\"bb\"".into()),
                ("_creationTime".into(), "22".into()),
                ("b".into(), "null".into()),
            ],
        ];
        let (lines, truncated) = documents_table(&rows, None);
        assert!(!truncated);
        assert_eq!(
            lines,
            vec![
                "_id  | _creationTime | b    | z   ",
                // Widths come from the values only, as in the official CLI.
                "-----|----|------|-----",
                "\"a\"  | 1  |      | true",
                "\"bb\" | 22 | null |     ",
            ]
        );
        let (lines, truncated) = documents_table(&rows, Some(20));
        assert!(truncated);
        assert_eq!(lines[0], "_id  | _cr");
    }
}
