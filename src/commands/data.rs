//! `convex data [table]`: list the tables, or print a table's documents.
//! The reads are in [`crate::data_plane::data`].

use anyhow::Result;

use crate::commands::SelectionArgs;
use crate::context::{Context, ContextOptions};
use crate::data_plane::data::{Database, Order, document_cells, document_line, documents_table};
use crate::error::fail;
use crate::output::{self, style};

/// Inspect your Convex deployment's database.
///
/// • List tables: `npx convex data`
/// • List documents in a table: `npx convex data tableName`
///
/// By default, this inspects your dev deployment.
///
/// This works with system tables, such as `_storage`, in addition to your own tables.
#[derive(Debug, Clone, clap::Args)]
#[command(args_override_self = true, verbatim_doc_comment)]
pub struct Args {
    /// If specified, list documents in this table.
    #[arg(value_name = "table")]
    pub table: Option<String>,
    /// List only the `n` the most recently created documents.
    #[arg(long, value_name = "n", default_value = "100", value_parser = parse_positive_number)]
    pub limit: f64,
    /// Order the documents by their `_creationTime`.
    #[arg(long, value_enum, value_name = "choice", default_value = "desc")]
    pub order: Order,
    /// Path to the component (e.g. "workflow" or "workflow/workpool")
    #[arg(long, value_name = "path")]
    pub component: Option<String>,
    /// Format to print the data in: jsonArray (aka json), jsonLines (aka
    /// jsonl) or pretty.
    #[arg(long, value_enum, value_name = "format")]
    pub format: Option<Format>,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[value(name = "jsonArray")]
    JsonArray,
    #[value(name = "json")]
    Json,
    #[value(name = "jsonLines")]
    JsonLines,
    #[value(name = "jsonl")]
    Jsonl,
    #[value(name = "pretty")]
    Pretty,
}

/// A number as JavaScript's `+value` reads it, which must be positive
/// (`--limit`).
pub fn parse_positive_number(value: &str) -> Result<f64, String> {
    let n = js_to_number(value);
    if n.is_nan() {
        return Err("Not a number.".into());
    }
    if n <= 0.0 {
        return Err("Not a positive number.".into());
    }
    Ok(n)
}

/// `Number(text)`: whitespace trimmed, empty is 0, `0x`/`0o`/`0b` prefixes,
/// `Infinity`; anything else that is not a decimal literal is `NaN`.
pub fn js_to_number(text: &str) -> f64 {
    let t = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if t.is_empty() {
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
        if let Some(digits) = t.strip_prefix(prefix) {
            return u128::from_str_radix(digits, radix).map_or(f64::NAN, |n| n as f64);
        }
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    let valid = t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && t.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

pub fn run(args: Args) -> Result<()> {
    let flags = args.selection.to_flags();
    let ctx = Context::new(ContextOptions::from(&flags))?;
    crate::commands::block_on(run_async(&ctx, &flags, &args))
}

async fn run_async(
    ctx: &Context,
    flags: &crate::credentials::SelectionFlags,
    args: &Args,
) -> Result<()> {
    let deployment = crate::credentials::select_deployment_credentials(
        ctx,
        flags,
        crate::credentials::LoadOptions::default(),
    )
    .await?;
    let db = Database::new(ctx.http()?, &deployment.url, &deployment.admin_key);
    let component = args.component.as_deref().unwrap_or("");
    let Some(table) = &args.table else {
        let tables = db.list_tables(component).await?;
        if tables.is_empty() {
            let notice = deployment
                .fields
                .as_ref()
                .map(|f| format!("{} deployment's ", style::bold(&f.deployment_name)))
                .unwrap_or_default();
            output::error_line(&format!("There are no tables in the {notice}database."));
            return Ok(());
        }
        output::data(&tables.join("\n"));
        return Ok(());
    };
    let limit = args.limit;
    // One more than asked, to know whether there are more.
    let fetch = if limit.is_finite() {
        (limit.ceil() as usize).saturating_add(1)
    } else {
        usize::MAX
    };
    let documents = db.documents(table, args.order, component, fetch).await?;
    if documents.is_empty() {
        output::error_line("There are no documents in this table.");
        return Ok(());
    }
    let shown_count = if limit.is_finite() {
        (limit.ceil() as usize).min(documents.len())
    } else {
        documents.len()
    };
    let shown = &documents[..shown_count];
    let invalid = |e: String| {
        fail(format!(
            "The deployment sent a document that is not a Convex value: {e}"
        ))
    };
    match args.format {
        Some(Format::Json | Format::JsonArray) => {
            let lines = shown
                .iter()
                .map(|d| document_line(d).map_err(invalid))
                .collect::<Result<Vec<_>>>()?;
            output::data(&format!("[\n{}\n]", lines.join(",\n")));
        }
        Some(Format::JsonLines | Format::Jsonl) => {
            let lines = shown
                .iter()
                .map(|d| document_line(d).map_err(invalid))
                .collect::<Result<Vec<_>>>()?;
            output::data(&lines.join("\n"));
        }
        Some(Format::Pretty) | None => {
            let rows = shown
                .iter()
                .map(|d| document_cells(d).map_err(invalid))
                .collect::<Result<Vec<_>>>()?;
            let width = output::stdout_columns();
            let (lines, truncated) = documents_table(&rows, width);
            for line in lines {
                output::data(&line);
            }
            if truncated {
                output::warning(
                    "Lines were truncated to fit the terminal width. Pipe the command to see the full output, such as:\n  `npx convex data tableName | less -S`",
                );
            }
            if (documents.len() as f64) > limit {
                output::warning(&format!(
                    "Showing the {} {} created document{}. Use the --limit option to see more.",
                    crate::jsfmt::js_number_to_string(limit),
                    if args.order == Order::Desc {
                        "most recently"
                    } else {
                        "oldest"
                    },
                    if limit > 1.0 { "s" } else { "" }
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_javascript_reads_them() {
        assert_eq!(js_to_number(" 5 "), 5.0);
        assert_eq!(js_to_number("1e2"), 100.0);
        assert_eq!(js_to_number("0x10"), 16.0);
        assert_eq!(js_to_number(""), 0.0);
        assert!(js_to_number("5x").is_nan());
        assert!(js_to_number("abc").is_nan());
        assert_eq!(
            parse_positive_number("0"),
            Err("Not a positive number.".into())
        );
        assert_eq!(parse_positive_number("x"), Err("Not a number.".into()));
    }
}
