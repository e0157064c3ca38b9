//! The `.env` file editor: set one variable, keep every other line and byte.
//!
//! Used by `deployment token create --save-env` (`CONVEX_DEPLOY_KEY`) and by
//! `dev` (`CONVEX_DEPLOYMENT` with a comment line and a trailing comment,
//! then `CONVEX_URL`-style lines).
//!
//! Behaviour (the official CLI's, except where it is plainly wrong; see
//! `docs/compatibility.md`):
//! - no file: `[comment line\n]NAME=VALUE[ # comment]\n`;
//! - the file already gives NAME this value (npm-dotenv reading, last
//!   assignment wins): no change;
//! - NAME is assigned: the first assignment (also `export NAME=` or indented,
//!   and a quoted value spanning several lines) is replaced in place, keeping
//!   its indentation, its `export ` and its line ending; later assignments of
//!   NAME, which would override the new value, get the new value too (they
//!   are not deleted: removing lines can join their neighbours into a new
//!   assignment). The official CLI
//!   instead rewrites the first line that merely *starts* with NAME (so
//!   `NAME_OLD=` could be hit), leaves stale duplicates that still win, and
//!   silently does nothing for `export`/indented lines;
//! - NAME is not assigned: appended after one blank line (`\n` added if the
//!   file ends with one, `\n\n` otherwise), with the comment line if given,
//!   using the file's own line ending (CRLF files stay CRLF).
//!
//! The value is written as is (no quoting), as the official CLI does.

use std::path::Path;

use crate::dotenv;

/// One variable to set.
#[derive(Debug, Clone, Copy)]
pub struct EnvFileEdit<'a> {
    pub name: &'a str,
    pub value: &'a str,
    /// Written after the value as ` # <comment>`.
    pub comment_after_value: Option<&'a str>,
    /// Written on its own line above the variable when it is added.
    pub comment_on_previous_line: Option<&'a str>,
}

impl<'a> EnvFileEdit<'a> {
    /// `NAME=VALUE`, no comments.
    pub fn new(name: &'a str, value: &'a str) -> EnvFileEdit<'a> {
        EnvFileEdit {
            name,
            value,
            comment_after_value: None,
            comment_on_previous_line: None,
        }
    }

    fn assignment(&self) -> String {
        match self.comment_after_value {
            Some(c) => format!("{}={} # {c}", self.name, self.value),
            None => format!("{}={}", self.name, self.value),
        }
    }
}

/// The new content, or `None` when the file already has this value.
///
/// Every result is checked by reading it back: NAME must read as the new
/// value and every other variable as before. Replacing a value in place can
/// change how an *earlier* line reads (a stray quote in the old value may
/// have been what kept a previous quoted value from spanning several lines;
/// found by fuzzing), so when the in-place edit does not read back right the
/// variable is appended instead, where the last assignment wins. A file where
/// neither reads back right is refused rather than silently corrupted.
pub fn changed_env_file(
    existing: Option<&str>,
    edit: &EnvFileEdit,
) -> Result<Option<String>, AmbiguousEnvFile> {
    let Some(content) = existing else {
        let mut out = String::new();
        if let Some(l) = edit.comment_on_previous_line {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str(&edit.assignment());
        out.push('\n');
        return Ok(Some(out));
    };
    let current = dotenv::lookup(content, edit.name);
    if current.as_deref() == Some(edit.value) {
        return Ok(None);
    }
    if current.is_some() {
        let spans = assignment_spans(content, edit.name);
        if !spans.is_empty() {
            let replaced = replaced_in_place(content, &spans, edit);
            if reads_back(content, &replaced, edit) {
                return Ok(Some(replaced));
            }
        }
    }
    let appended = appended(content, edit);
    // npm dotenv reads a last line `KEY:` without a line ending as nothing
    // but `KEY:\n` as `KEY=""`; the official CLI appends the same way, so
    // compare with the old text plus a line ending.
    let baseline = if content.ends_with('\n') {
        content.to_string()
    } else {
        format!("{content}\n")
    };
    if reads_back(&baseline, &appended, edit) {
        Ok(Some(appended))
    } else {
        Err(AmbiguousEnvFile {
            name: edit.name.to_string(),
        })
    }
}

/// The file's quoting is such that no edit of ours reads back as intended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmbiguousEnvFile {
    name: String,
}

impl std::fmt::Display for AmbiguousEnvFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "its quotes are unbalanced, so setting {} there would change how other lines read; \
             fix the quoting (or set {} by hand)",
            self.name, self.name
        )
    }
}

impl std::error::Error for AmbiguousEnvFile {}

impl From<AmbiguousEnvFile> for std::io::Error {
    fn from(e: AmbiguousEnvFile) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// Every assignment gets the new value. Later ones are rewritten, not
/// deleted: deleting lines can join their neighbours into a new assignment
/// (dotenv allows `KEY` and `=` on different lines; found by fuzzing).
fn replaced_in_place(content: &str, spans: &[Span], edit: &EnvFileEdit) -> String {
    let mut out = String::with_capacity(content.len() + edit.value.len());
    let mut pos = 0;
    for span in spans {
        out.push_str(&content[pos..span.start]);
        out.push_str(&content[span.start..span.key_start]);
        out.push_str(&edit.assignment());
        out.push_str(&content[span.terminator_start..span.end]);
        pos = span.end;
    }
    out.push_str(&content[pos..]);
    out
}

/// `content`, one blank line, the optional comment line and the assignment,
/// in the file's own line ending.
fn appended(content: &str, edit: &EnvFileEdit) -> String {
    let newline = if content.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut out = content.to_string();
    out.push_str(newline);
    if !content.ends_with('\n') {
        out.push_str(newline);
    }
    if let Some(l) = edit.comment_on_previous_line {
        out.push_str(l);
        out.push_str(newline);
    }
    out.push_str(&edit.assignment());
    out.push_str(newline);
    out
}

/// Whether `new` gives NAME the new value and every other variable the value
/// it has in `old`.
fn reads_back(old: &str, new: &str, edit: &EnvFileEdit) -> bool {
    let mut before = dotenv::parse_map(old);
    let mut after = dotenv::parse_map(new);
    if after.remove(edit.name).as_deref() != Some(edit.value) {
        return false;
    }
    before.remove(edit.name);
    before == after
}

/// Outcome of [`update_env_file`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvFileChange {
    /// The file already had the value; nothing was written.
    Unchanged,
    /// The file was created or rewritten.
    Written,
}

/// Apply an edit to a file on disk, atomically (temporary file + rename; an
/// existing file keeps its permissions). Bytes that are not UTF-8 (a Latin-1
/// comment, say) are kept as they are; the official CLI replaces them with
/// U+FFFD.
pub fn update_env_file(path: &Path, edit: &EnvFileEdit) -> std::io::Result<EnvFileChange> {
    let existing = read_existing(path)?;
    match changed_env_bytes(existing.as_deref(), edit)? {
        None => Ok(EnvFileChange::Unchanged),
        Some(bytes) => {
            crate::fsutil::write_atomic(path, &bytes, None)?;
            Ok(EnvFileChange::Written)
        }
    }
}

/// Check, before doing anything that cannot be undone (such as creating a
/// deploy key on the server), that [`update_env_file`] could set `name` in
/// `path`: its folder exists, and the file, if present, is readable and an
/// edit of it reads back right (checked with a stand-in value of the same
/// shape as a deploy key: no quotes, `#` or line breaks).
pub fn check_env_file_editable(path: &Path, name: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("the folder {} does not exist", dir.display()),
        ));
    }
    let existing = read_existing(path)?;
    changed_env_bytes(
        existing.as_deref(),
        &EnvFileEdit::new(name, "prod:stand-in-123|c3RhbmQtaW4="),
    )?;
    Ok(())
}

fn read_existing(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// [`changed_env_file`] on raw bytes: bytes that are not UTF-8 are carried
/// through unchanged.
pub fn changed_env_bytes(
    existing: Option<&[u8]>,
    edit: &EnvFileEdit,
) -> std::io::Result<Option<Vec<u8>>> {
    let Some(bytes) = existing else {
        return Ok(changed_env_file(None, edit)?.map(String::into_bytes));
    };
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(changed_env_file(Some(text), edit)?.map(String::into_bytes));
    }
    let decoded = decode_preserving(bytes)?;
    Ok(changed_env_file(Some(&decoded), edit)?.map(|text| encode_preserving(&text)))
}

/// Stand-ins for bytes that are not UTF-8: byte `b` (always >= 0x80 in an
/// invalid sequence) becomes the private-use character `ESCAPE_BASE + b`.
const ESCAPE_BASE: u32 = 0x10_FF00;

fn is_escape(c: char) -> bool {
    (ESCAPE_BASE..=ESCAPE_BASE + 0xFF).contains(&(c as u32))
}

/// Decode text that is not valid UTF-8, mapping each invalid byte to a private-use stand-in so that the
/// text editor can work on it and [`encode_preserving`] can restore it.
fn decode_preserving(bytes: &[u8]) -> std::io::Result<String> {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        if chunk.valid().chars().any(is_escape) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "it mixes characters from the end of Unicode plane 16 with bytes that are not UTF-8; convert it to UTF-8 first",
            ));
        }
        out.push_str(chunk.valid());
        for &b in chunk.invalid() {
            out.push(char::from_u32(ESCAPE_BASE + u32::from(b)).expect("valid code point"));
        }
    }
    Ok(out)
}

fn encode_preserving(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        if is_escape(c) {
            out.push((c as u32 - ESCAPE_BASE) as u8);
        } else {
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    out
}

/// Byte range of one assignment: `start..end` covers the whole lines
/// (terminator included); the key starts at `key_start` (after indentation
/// and `export `); the line terminator of the last line starts at
/// `terminator_start`.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    key_start: usize,
    terminator_start: usize,
    end: usize,
}

/// The assignments of `name`, as npm dotenv's reader sees them (see
/// [`dotenv::assignment_ranges`]), widened to whole lines.
fn assignment_spans(content: &str, name: &str) -> Vec<Span> {
    let bytes = content.as_bytes();
    dotenv::assignment_ranges(content)
        .into_iter()
        .filter(|a| a.key == name)
        .map(|a| {
            let start = content[..a.key_start]
                .rfind(['\n', '\r'])
                .map_or(0, |i| i + 1);
            // The match may go on past blank lines and a comment on a later
            // line (its final `\s*(#.*)?`); the assignment ends with the
            // line holding the end of its value.
            let matched = &content[a.key_start..a.value_end];
            let visible_end = a.key_start
                + matched
                    .trim_end_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
                    .len();
            let terminator_start = content[visible_end..]
                .find(['\n', '\r'])
                .map_or(content.len(), |i| visible_end + i);
            let end = match (bytes.get(terminator_start), bytes.get(terminator_start + 1)) {
                (Some(b'\r'), Some(b'\n')) => terminator_start + 2,
                (Some(b'\r' | b'\n'), _) => terminator_start + 1,
                _ => terminator_start,
            };
            Span {
                start,
                key_start: a.key_start,
                terminator_start,
                end,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save(existing: Option<&str>) -> Option<String> {
        changed_env_file(existing, &EnvFileEdit::new("CONVEX_DEPLOY_KEY", "K")).unwrap()
    }

    /// The table of spec §9.4, with our corrections where the official CLI
    /// is wrong.
    #[test]
    fn save_env_table() {
        let rows: Vec<(Option<&str>, Option<&str>)> = vec![
            (None, Some("CONVEX_DEPLOY_KEY=K\n")),
            (Some(""), Some("\n\nCONVEX_DEPLOY_KEY=K\n")),
            (Some("FOO=bar"), Some("FOO=bar\n\nCONVEX_DEPLOY_KEY=K\n")),
            (Some("FOO=bar\n"), Some("FOO=bar\n\nCONVEX_DEPLOY_KEY=K\n")),
            (
                Some("FOO=bar\nCONVEX_DEPLOY_KEY=old|x # my comment\nBAZ=1\n"),
                Some("FOO=bar\nCONVEX_DEPLOY_KEY=K\nBAZ=1\n"),
            ),
            (Some("CONVEX_DEPLOY_KEY=K\n"), None),
            (Some("CONVEX_DEPLOY_KEY='K'\n"), None),
            // Corrected: the official CLI leaves these unchanged but says "saved".
            (
                Some("export CONVEX_DEPLOY_KEY=old\n"),
                Some("export CONVEX_DEPLOY_KEY=K\n"),
            ),
            (
                Some("  CONVEX_DEPLOY_KEY=old\n"),
                Some("  CONVEX_DEPLOY_KEY=K\n"),
            ),
            // Corrected: the official CLI overwrites CONVEX_DEPLOY_KEY_OLD.
            (
                Some("CONVEX_DEPLOY_KEY_OLD=foo\nCONVEX_DEPLOY_KEY=bar\n"),
                Some("CONVEX_DEPLOY_KEY_OLD=foo\nCONVEX_DEPLOY_KEY=K\n"),
            ),
            // Corrected: the official CLI leaves the stale duplicate that wins.
            (
                Some("CONVEX_DEPLOY_KEY=one\nCONVEX_DEPLOY_KEY=two\n"),
                Some("CONVEX_DEPLOY_KEY=K\nCONVEX_DEPLOY_KEY=K\n"),
            ),
            (
                Some("# CONVEX_DEPLOY_KEY=old\n"),
                Some("# CONVEX_DEPLOY_KEY=old\n\nCONVEX_DEPLOY_KEY=K\n"),
            ),
            (
                Some("FOO=bar\r\nCONVEX_DEPLOY_KEY=old\r\nBAZ=1\r\n"),
                Some("FOO=bar\r\nCONVEX_DEPLOY_KEY=K\r\nBAZ=1\r\n"),
            ),
            // Corrected: the official CLI leaves `line2"` behind.
            (
                Some("CONVEX_DEPLOY_KEY=\"line1\nline2\"\nBAZ=1\n"),
                Some("CONVEX_DEPLOY_KEY=K\nBAZ=1\n"),
            ),
            (
                Some("CONVEX_DEPLOY_KEY=\nBAZ=1\n"),
                Some("CONVEX_DEPLOY_KEY=K\nBAZ=1\n"),
            ),
            (
                Some("CONVEX_DEPLOY_KEY = old\n"),
                Some("CONVEX_DEPLOY_KEY=K\n"),
            ),
            (
                Some("CONVEX_DEPLOY_KEY: old\n"),
                Some("CONVEX_DEPLOY_KEY=K\n"),
            ),
            // No final newline after the replaced line: none added.
            (
                Some("A=1\nCONVEX_DEPLOY_KEY=old"),
                Some("A=1\nCONVEX_DEPLOY_KEY=K"),
            ),
            // A multi-line value of another variable is not mistaken for ours.
            (
                Some("A=\"x\nCONVEX_DEPLOY_KEY=inside\"\n"),
                Some("A=\"x\nCONVEX_DEPLOY_KEY=inside\"\n\nCONVEX_DEPLOY_KEY=K\n"),
            ),
            // `KEY:` with nothing after the colon takes the next line as its
            // value (npm dotenv): that line is not an assignment.
            (
                Some("B:\nCONVEX_DEPLOY_KEY=x\nCONVEX_DEPLOY_KEY=old\n"),
                Some("B:\nCONVEX_DEPLOY_KEY=x\nCONVEX_DEPLOY_KEY=K\n"),
            ),
            (
                Some("CONVEX_DEPLOY_KEY:\nold\nA=1\n"),
                Some("CONVEX_DEPLOY_KEY=K\nA=1\n"),
            ),
            // A lone CR ends a line, as in npm dotenv.
            (
                Some("X=1\rCONVEX_DEPLOY_KEY=old\rY=2\n"),
                Some("X=1\rCONVEX_DEPLOY_KEY=K\rY=2\n"),
            ),
            (
                Some("CONVEX_DEPLOY_KEY=a\nX=1\rCONVEX_DEPLOY_KEY=b\n"),
                Some("CONVEX_DEPLOY_KEY=K\nX=1\rCONVEX_DEPLOY_KEY=K\n"),
            ),
            // CRLF file, appended in CRLF.
            (
                Some("FOO=bar\r\n"),
                Some("FOO=bar\r\n\r\nCONVEX_DEPLOY_KEY=K\r\n"),
            ),
        ];
        for (input, expected) in rows {
            assert_eq!(save(input).as_deref(), expected, "input {input:?}");
        }
    }

    #[test]
    fn dev_style_edit_with_comments() {
        let edit = EnvFileEdit {
            name: "CONVEX_DEPLOYMENT",
            value: "dev:happy-animal-123",
            comment_after_value: Some("team: my-team, project: my-project"),
            comment_on_previous_line: Some("# Deployment used by `npx convex dev`"),
        };
        assert_eq!(
            changed_env_file(None, &edit).unwrap().unwrap(),
            "# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=dev:happy-animal-123 # team: my-team, project: my-project\n"
        );
        assert_eq!(
            changed_env_file(Some("X=1\n"), &edit).unwrap().unwrap(),
            "X=1\n\n# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=dev:happy-animal-123 # team: my-team, project: my-project\n"
        );
        // Replacing keeps the existing comment line and swaps the trailing comment.
        assert_eq!(
            changed_env_file(
                Some("# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=dev:old-name-1 # team: a, project: b\n"),
                &edit
            )
            .unwrap()
            .unwrap(),
            "# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=dev:happy-animal-123 # team: my-team, project: my-project\n"
        );
        // Same value (the comment is not part of the value): unchanged.
        assert_eq!(
            changed_env_file(
                Some("CONVEX_DEPLOYMENT=dev:happy-animal-123 # other\n"),
                &edit
            ),
            Ok(None)
        );
    }

    #[test]
    fn an_edit_that_would_change_an_earlier_line_appends_instead() {
        // `U="` cannot close its quote on line 2 (`x"!` follows the quote),
        // so U reads as `"`. Replacing line 2's value would drop that quote
        // and let U's value run to the quote on line 3, swallowing the new
        // assignment (found by fuzzing); the variable is appended instead.
        let old = "U=\"\nCONVEX_URL=x\"!\n\"";
        assert_eq!(dotenv::lookup(old, "U").as_deref(), Some("\""));
        let edit = EnvFileEdit::new("CONVEX_URL", "https://a.convex.cloud");
        let new = changed_env_file(Some(old), &edit).unwrap().unwrap();
        assert_eq!(
            new,
            "U=\"\nCONVEX_URL=x\"!\n\"\n\nCONVEX_URL=https://a.convex.cloud\n"
        );
        assert_eq!(dotenv::lookup(&new, "U").as_deref(), Some("\""));
        assert_eq!(
            dotenv::lookup(&new, "CONVEX_URL").as_deref(),
            Some("https://a.convex.cloud")
        );
        assert_eq!(changed_env_file(Some(&new), &edit), Ok(None));
    }

    #[test]
    fn file_update_is_atomic_and_reports_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env.local");
        let edit = EnvFileEdit::new("CONVEX_DEPLOY_KEY", "dev:a|b");
        assert_eq!(
            update_env_file(&path, &edit).unwrap(),
            EnvFileChange::Written
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "CONVEX_DEPLOY_KEY=dev:a|b\n"
        );
        assert_eq!(
            update_env_file(&path, &edit).unwrap(),
            EnvFileChange::Unchanged
        );
        let missing_dir = dir.path().join("nope").join(".env");
        assert!(update_env_file(&missing_dir, &edit).is_err());
        assert!(check_env_file_editable(&missing_dir, "CONVEX_DEPLOY_KEY").is_err());
        assert!(check_env_file_editable(&path, "CONVEX_DEPLOY_KEY").is_ok());
    }

    #[test]
    fn bytes_that_are_not_utf8_survive_an_edit() {
        let edit = EnvFileEdit::new("CONVEX_DEPLOY_KEY", "dev:a|b");
        let latin1 = b"# caf\xe9\r\nOTHER=\xff\xfe\r\n";
        let out = changed_env_bytes(Some(latin1), &edit).unwrap().unwrap();
        assert_eq!(
            out,
            b"# caf\xe9\r\nOTHER=\xff\xfe\r\n\r\nCONVEX_DEPLOY_KEY=dev:a|b\r\n"
        );
        let replaced = changed_env_bytes(Some(b"CONVEX_DEPLOY_KEY=\xe9\nX=\xe9\n"), &edit)
            .unwrap()
            .unwrap();
        assert_eq!(replaced, b"CONVEX_DEPLOY_KEY=dev:a|b\nX=\xe9\n");
        // A file that already holds our stand-in characters is refused, not
        // corrupted.
        let ambiguous = "A=\u{10FFE9}\n".as_bytes().to_vec();
        let mut mixed = ambiguous.clone();
        mixed.push(0xe9);
        assert!(changed_env_bytes(Some(&mixed), &edit).is_err());
        // ...but is fine when it is valid UTF-8 and so needs no stand-ins.
        let mut expected = ambiguous.clone();
        expected.extend_from_slice(b"\nCONVEX_DEPLOY_KEY=dev:a|b\n");
        assert_eq!(
            changed_env_bytes(Some(&ambiguous), &edit).unwrap().unwrap(),
            expected
        );
    }
}
