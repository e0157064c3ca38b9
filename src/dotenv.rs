//! The dotenv grammar of the npm `dotenv` package, version 16 (what the
//! official CLI bundles), used both to read `.env.local` / `.env` /
//! `--env-file` and by the env-file editor.
//!
//! Why not `dotenvy`: it expands `$VAR` references, stops with an error at the
//! first line it cannot parse, rejects `KEY: value` lines and treats quotes and
//! comments differently, so the same file would select a different deployment
//! than the official CLI. npm dotenv is one multi-line regular expression that
//! is applied repeatedly over the whole text; reproducing that expression with
//! the `regex` crate (which picks the same match as a backtracking engine for
//! expressions without back-references) gives the same answers by
//! construction, including its quirks (a quoted value may span lines, a value
//! that starts with a quote but has text after the closing quote is kept
//! verbatim).

use regex::Regex;
use std::sync::OnceLock;

// JavaScript's `\s` (without the `u` flag), spelled out: Rust's `\s` differs in
// U+0085 and U+FEFF.
const JS_SPACE: &str = r"\t\n\x0B\x0C\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";

fn line_regex() -> &'static Regex {
    static LINE: OnceLock<Regex> = OnceLock::new();
    LINE.get_or_init(|| {
        let s = format!("[{JS_SPACE}]");
        // JavaScript's `.` excludes all line terminators.
        let dot = r"[^\n\r\x{2028}\x{2029}]";
        let pattern = format!(
            r#"(?m)^{s}*(?:export{s}+)?([A-Za-z0-9_.-]+)(?:{s}*={s}*?|:{s}+?)({s}*'(?:\\'|[^'])*'|{s}*"(?:\\"|[^"])*"|{s}*`(?:\\`|[^`])*`|[^#\r\n]+)?{s}*(?:#{dot}*)?$"#
        );
        Regex::new(&pattern).expect("dotenv line pattern is valid")
    })
}

fn unquote_regex() -> &'static Regex {
    static UNQUOTE: OnceLock<Regex> = OnceLock::new();
    // `^(['"`])([\s\S]*)\1$` with the `m` flag, without a back-reference.
    UNQUOTE.get_or_init(|| {
        Regex::new(r#"(?m)^'((?s:.)*)'$|^"((?s:.)*)"$|^`((?s:.)*)`$"#)
            .expect("dotenv unquote pattern is valid")
    })
}

/// Parse dotenv text into `(key, value)` pairs in file order. A key may appear
/// more than once; the last one wins when looked up (see [`parse_map`]).
pub fn parse(src: &str) -> Vec<(String, String)> {
    let text = normalize_newlines(src);
    let mut out = Vec::new();
    for caps in line_regex().captures_iter(&text) {
        let key = caps[1].to_string();
        let raw = caps.get(2).map(|m| m.as_str()).unwrap_or("");
        out.push((key, clean_value(raw)));
    }
    out
}

/// Where one assignment is in the original text (before line endings are
/// normalised): its key starts at `key_start` (after any `export `), its
/// value (or, without one, its `=` / `:`) ends at `value_end`, and the match
/// ends at `end` (which may lie past blank lines and a comment on a later
/// line, swallowed by the grammar's final `\s*(#.*)?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRange {
    pub key: String,
    pub key_start: usize,
    pub value_end: usize,
    pub end: usize,
}

/// Every assignment, in file order, with its place in `src`: exactly the
/// matches [`parse`] reads, so an editor working from these ranges agrees
/// with the reader by construction (quoted values over several lines, a
/// closing quote followed by other text, `KEY:` taking the next line, ...).
pub fn assignment_ranges(src: &str) -> Vec<AssignmentRange> {
    // Normalised byte i came from original offset origin[i] (a `\r\n`
    // pair gives one `\n` that starts at the `\r`).
    let bytes = src.as_bytes();
    let mut origin = Vec::with_capacity(bytes.len() + 1);
    let mut i = 0;
    while i < bytes.len() {
        origin.push(i);
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 2;
        } else {
            i += 1;
        }
    }
    origin.push(bytes.len());
    let text = normalize_newlines(src);
    debug_assert_eq!(text.len() + 1, origin.len());
    line_regex()
        .captures_iter(&text)
        .map(|caps| {
            let key = caps.get(1).expect("the key group always matches");
            let value_end = match caps.get(2) {
                Some(value) => value.end(),
                None => {
                    let after_key = &text[key.end()..];
                    key.end() + after_key.find(['=', ':']).map_or(0, |i| i + 1)
                }
            };
            AssignmentRange {
                key: key.as_str().to_string(),
                key_start: origin[key.start()],
                value_end: origin[value_end],
                end: origin[caps.get(0).expect("whole match").end()],
            }
        })
        .collect()
}

/// Parse and keep the last value of each key.
pub fn parse_map(src: &str) -> std::collections::HashMap<String, String> {
    parse(src).into_iter().collect()
}

/// Value of one key (last occurrence wins), or `None` if absent.
pub fn lookup(src: &str, key: &str) -> Option<String> {
    parse(src)
        .into_iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn normalize_newlines(src: &str) -> String {
    // `\r\n?` -> `\n`
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

fn js_trim(s: &str) -> &str {
    // JavaScript's String.prototype.trim also strips U+FEFF and line terminators.
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
}

fn clean_value(raw: &str) -> String {
    let value = js_trim(raw);
    let starts_with_double_quote = value.starts_with('"');
    let unquoted = unquote_regex().replace_all(value, |caps: &regex::Captures| {
        let inner = caps
            .get(1)
            .or_else(|| caps.get(2))
            .or_else(|| caps.get(3))
            .map(|m| m.as_str())
            .unwrap_or("");
        inner.to_string()
    });
    if starts_with_double_quote {
        unquoted.replace("\\n", "\n").replace("\\r", "\r")
    } else {
        unquoted.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(src: &str, key: &str) -> Option<String> {
        lookup(src, key)
    }

    #[test]
    fn plain_and_spaced_assignments() {
        assert_eq!(get("A=1", "A").as_deref(), Some("1"));
        assert_eq!(get("A = 1 ", "A").as_deref(), Some("1"));
        assert_eq!(get("  A=1", "A").as_deref(), Some("1"));
        assert_eq!(get("export A=1", "A").as_deref(), Some("1"));
        assert_eq!(get("A: 1", "A").as_deref(), Some("1"));
        // `:` must be followed by whitespace.
        assert_eq!(get("A:1", "A"), None);
        assert_eq!(get("A=", "A").as_deref(), Some(""));
    }

    #[test]
    fn comments() {
        assert_eq!(
            get(
                "CONVEX_DEPLOYMENT=dev:x # team: a, project: b",
                "CONVEX_DEPLOYMENT"
            )
            .as_deref(),
            Some("dev:x")
        );
        assert_eq!(get("# A=1", "A"), None);
        assert_eq!(get("A=a#b", "A").as_deref(), Some("a"));
        assert_eq!(get("A='a#b' # c", "A").as_deref(), Some("a#b"));
    }

    #[test]
    fn quotes() {
        assert_eq!(get("A='x'", "A").as_deref(), Some("x"));
        assert_eq!(get("A=\"x\\ny\"", "A").as_deref(), Some("x\ny"));
        assert_eq!(get("A='x\\ny'", "A").as_deref(), Some("x\\ny"));
        assert_eq!(get("A=`x`", "A").as_deref(), Some("x"));
        assert_eq!(
            get("A=\"line1\nline2\"\nB=1", "A").as_deref(),
            Some("line1\nline2")
        );
        assert_eq!(get("A=\"line1\nline2\"\nB=1", "B").as_deref(), Some("1"));
        // Text after the closing quote: kept verbatim (npm dotenv quirk).
        assert_eq!(get("A=\"x\" y", "A").as_deref(), Some("\"x\" y"));
        assert_eq!(
            get("STRIPE_KEY=\"sk_test_123\" # keep quoted", "STRIPE_KEY").as_deref(),
            Some("sk_test_123")
        );
    }

    #[test]
    fn last_wins_and_crlf() {
        assert_eq!(get("A=1\nA=2", "A").as_deref(), Some("2"));
        assert_eq!(get("A=1\r\nB=2\r\n", "B").as_deref(), Some("2"));
        assert_eq!(get("A=1\rB=2", "B").as_deref(), Some("2"));
    }

    #[test]
    fn deploy_keys_with_pipes() {
        let src = "CONVEX_DEPLOY_KEY=dev:happy-otter-123|b2xkLWtleQ== # rotated monthly\n";
        assert_eq!(
            get(src, "CONVEX_DEPLOY_KEY").as_deref(),
            Some("dev:happy-otter-123|b2xkLWtleQ==")
        );
    }

    #[test]
    fn bom_and_blank_lines() {
        assert_eq!(get("\u{FEFF}A=1", "A").as_deref(), Some("1"));
        assert_eq!(get("\n\n  \nA=1\n\n", "A").as_deref(), Some("1"));
    }
}
