//! The Convex-managed section of `AGENTS.md` and `CLAUDE.md`: the text
//! between `<!-- convex-ai-start -->` and `<!-- convex-ai-end -->`.
//! Everything outside the markers belongs to the user and is kept byte for
//! byte (also bytes that are not UTF-8).
//!
//! The editing rules are the official CLI's, so both CLIs leave the same
//! files: a section present is replaced in place; otherwise it is appended
//! after the file's content trimmed of trailing whitespace and a blank line,
//! or makes up a new file; removing it joins what was before (trailing
//! whitespace trimmed) and after (leading whitespace trimmed) with a blank
//! line, and deletes a file left blank. "Whitespace" is JavaScript's
//! (`String.prototype.trim`), which is not quite Rust's.
//!
//! The section's wording: see [`section_text`].

use std::path::{Path, PathBuf};

/// Start marker of the managed section (the same in both files).
pub const START_MARKER: &str = "<!-- convex-ai-start -->";
/// End marker of the managed section.
pub const END_MARKER: &str = "<!-- convex-ai-end -->";

/// Where the markers are in `text`: the first start marker and the first end
/// marker after it. (The official CLI takes the first end marker anywhere; an
/// end marker before the start marker then made it duplicate text.)
fn find_section(text: &[u8]) -> Option<(usize, usize)> {
    let start = find(text, START_MARKER.as_bytes(), 0)?;
    let end = find(text, END_MARKER.as_bytes(), start + START_MARKER.len())?;
    Some((start, end + END_MARKER.len()))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Whether `text` holds a whole managed section.
pub fn has_section(text: &[u8]) -> bool {
    find_section(text).is_some()
}

/// `existing` (empty for a missing file) with `section` put in.
pub fn inject(existing: &[u8], section: &str) -> Vec<u8> {
    if let Some((start, end)) = find_section(existing) {
        let mut out = existing[..start].to_vec();
        out.extend_from_slice(section.as_bytes());
        out.extend_from_slice(&existing[end..]);
        return out;
    }
    let mut out = Vec::new();
    if !existing.is_empty() {
        out.extend_from_slice(trim_end(existing));
        out.extend_from_slice(b"\n\n");
    }
    out.extend_from_slice(section.as_bytes());
    out.push(b'\n');
    out
}

/// What removing the section leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stripped {
    /// No whole section in the text.
    NoSection,
    /// The text without it.
    Rest(Vec<u8>),
    /// Nothing but whitespace would be left: delete the file.
    Empty,
}

/// `text` without its managed section.
pub fn strip(text: &[u8]) -> Stripped {
    let Some((start, end)) = find_section(text) else {
        return Stripped::NoSection;
    };
    let before = trim_end(&text[..start]);
    let after = trim_start(&text[end..]);
    let mut out = before.to_vec();
    if !before.is_empty() && !after.is_empty() {
        out.extend_from_slice(b"\n\n");
    }
    out.extend_from_slice(after);
    if trim_start(&out).is_empty() {
        return Stripped::Empty;
    }
    out.push(b'\n');
    Stripped::Rest(out)
}

/// JavaScript's white space and line terminators (`trim()`): Rust's
/// `char::is_whitespace` but with U+FEFF and without U+0085.
fn is_js_whitespace(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{FEFF}'
}

/// The last character of `bytes` if it is well-formed UTF-8, with its length.
fn last_char(bytes: &[u8]) -> Option<(char, usize)> {
    (1..=4.min(bytes.len())).find_map(|n| {
        let s = std::str::from_utf8(&bytes[bytes.len() - n..]).ok()?;
        let mut chars = s.chars();
        let c = chars.next()?;
        chars.next().is_none().then_some((c, n))
    })
}

fn first_char(bytes: &[u8]) -> Option<(char, usize)> {
    (1..=4.min(bytes.len())).find_map(|n| {
        let s = std::str::from_utf8(&bytes[..n]).ok()?;
        let mut chars = s.chars();
        let c = chars.next()?;
        chars.next().is_none().then_some((c, n))
    })
}

fn trim_end(mut bytes: &[u8]) -> &[u8] {
    while let Some((c, n)) = last_char(bytes) {
        if !is_js_whitespace(c) {
            break;
        }
        bytes = &bytes[..bytes.len() - n];
    }
    bytes
}

fn trim_start(mut bytes: &[u8]) -> &[u8] {
    while let Some((c, n)) = first_char(bytes) {
        if !is_js_whitespace(c) {
            break;
        }
        bytes = &bytes[n..];
    }
    bytes
}

/// The managed section for a project whose functions folder is
/// `convex_dir_name` (relative to the project, e.g. `convex`).
///
/// Its text is what the project's own `convex` package writes: read from
/// that package's `dist/esm/cli/codegen_templates/agentsmd.js` (nearest
/// `node_modules/convex` at or above `project_dir`), so that a team mixing
/// this CLI with the official one never sees the section rewritten back and
/// forth, and `ai-files status` of either agrees with the other. When the
/// package is missing or its template is not in the expected shape, our own
/// wording is used.
pub fn section_text(project_dir: &Path, convex_dir_name: &str) -> String {
    let dir = convex_dir_name.replace('\\', "/");
    let body = installed_template(project_dir)
        .and_then(|template| template.render(&dir))
        .unwrap_or_else(|| own_body(&dir));
    format!("{START_MARKER}\n\n{body}\n\n{END_MARKER}")
}

/// Our own wording of the section's body.
fn own_body(dir: &str) -> String {
    format!(
        "The backend of this project runs on [Convex](https://convex.dev).\n\
         \n\
         Read `{dir}/_generated/ai/guidelines.md` before you write or change\n\
         Convex code: it says how to use the Convex APIs and patterns correctly,\n\
         and where it disagrees with what you remember about Convex, it is right.\n\
         \n\
         `npx convex ai-files install` installs Convex agent skills for common tasks."
    )
}

/// The body template of the installed package, as a list of literal parts
/// and the places where the functions folder goes.
struct Template {
    parts: Vec<Part>,
}

enum Part {
    Text(String),
    ConvexDir,
}

impl Template {
    fn render(&self, dir: &str) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::ConvexDir => out.push_str(dir),
            }
        }
        (!out.trim().is_empty()).then_some(out)
    }
}

fn template_file(project_dir: &Path, name: &str) -> Option<PathBuf> {
    project_dir
        .ancestors()
        .filter(|d| d.file_name().is_none_or(|n| n != "node_modules"))
        .map(|d| {
            d.join("node_modules/convex/dist/esm/cli/codegen_templates")
                .join(name)
        })
        .find(|p| p.is_file())
}

/// Reads the body template of the nearest installed `convex` package and
/// checks that the section around it is built the way we build it (markers
/// as ours, a blank line on either side of the body).
fn installed_template(project_dir: &Path) -> Option<Template> {
    let agents = std::fs::read_to_string(template_file(project_dir, "agentsmd.js")?).ok()?;
    let claude = std::fs::read_to_string(template_file(project_dir, "claudemd.js")?).ok()?;
    let constant = |source: &str, name: &str| -> Option<String> {
        let after = source.split_once(&format!("{name} = \""))?.1;
        Some(after.split_once('"')?.0.to_string())
    };
    let markers_agree = constant(&agents, "AGENTS_MD_START_MARKER")? == START_MARKER
        && constant(&agents, "AGENTS_MD_END_MARKER")? == END_MARKER
        && constant(&claude, "CLAUDE_MD_START_MARKER")? == START_MARKER
        && constant(&claude, "CLAUDE_MD_END_MARKER")? == END_MARKER;
    let wrapper = |source: &str, function: &str, prefix: &str| -> Option<bool> {
        let literal = returned_literal(source, function)?;
        Some(
            literal
                == format!(
                    "${{{prefix}_START_MARKER}}\n\n${{convexAiMarkdownBody(convexDir)}}\n\n${{{prefix}_END_MARKER}}"
                ),
        )
    };
    if !markers_agree
        || !wrapper(&agents, "agentsMdConvexSection", "AGENTS_MD")?
        || !wrapper(&claude, "claudeMdConvexSection", "CLAUDE_MD")?
    {
        return None;
    }
    let body = returned_literal(&agents, "convexAiMarkdownBody")?;
    parse_template(&body)
}

/// The raw text of the template literal that `function <name>(...)` returns.
fn returned_literal(source: &str, function: &str) -> Option<String> {
    let start = source.find(&format!("function {function}("))?;
    let after_return = &source[start..].split_once("return `")?.1;
    let mut raw = String::new();
    let mut chars = after_return.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                raw.push(c);
                raw.push(chars.next()?);
            }
            '`' => return Some(raw),
            _ => raw.push(c),
        }
    }
    None
}

/// Splits a raw template literal into text and `${normalizedConvexDir}`
/// holes; anything else it cannot stand for exactly makes it unusable.
fn parse_template(raw: &str) -> Option<Template> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("${") {
            let (expr, tail) = after.split_once('}')?;
            if expr != "normalizedConvexDir" {
                return None;
            }
            parts.push(Part::Text(std::mem::take(&mut text)));
            parts.push(Part::ConvexDir);
            rest = tail;
            continue;
        }
        if c == '\\' {
            let mut escaped = rest[1..].chars();
            let e = escaped.next()?;
            text.push(match e {
                '`' | '\\' | '$' | '\'' | '"' => e,
                'n' => '\n',
                't' => '\t',
                _ => return None,
            });
            rest = &rest[1 + e.len_utf8()..];
            continue;
        }
        text.push(c);
        rest = &rest[c.len_utf8()..];
    }
    parts.push(Part::Text(text));
    Some(Template { parts })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTION: &str = "<!-- convex-ai-start -->\n\nbody\n\n<!-- convex-ai-end -->";

    #[test]
    fn inject_appends_replaces_and_creates() {
        assert_eq!(inject(b"", SECTION), format!("{SECTION}\n").into_bytes());
        assert_eq!(
            inject(b"# Notes\n\nKeep.\n \n", SECTION),
            format!("# Notes\n\nKeep.\n\n{SECTION}\n").into_bytes()
        );
        let with_old = format!("top\n{START_MARKER}\nold\n{END_MARKER}\nbottom \u{FEFF}\n");
        assert_eq!(
            inject(with_old.as_bytes(), SECTION),
            format!("top\n{SECTION}\nbottom \u{FEFF}\n").into_bytes()
        );
        // The user's bytes that are not UTF-8 are kept.
        let mut latin1 = b"caf\xe9\n".to_vec();
        latin1.extend_from_slice(format!("{START_MARKER}x{END_MARKER}").as_bytes());
        let out = inject(&latin1, SECTION);
        assert!(out.starts_with(b"caf\xe9\n<!-- convex-ai-start -->"));
    }

    #[test]
    fn an_end_marker_before_the_start_is_not_a_section() {
        let text = format!("{END_MARKER}\nmine\n{START_MARKER}\n");
        assert!(!has_section(text.as_bytes()));
        assert_eq!(strip(text.as_bytes()), Stripped::NoSection);
    }

    #[test]
    fn strip_keeps_the_rest_and_deletes_blank_files() {
        let file = format!("# Notes\n\nKeep.\n\n{SECTION}\n");
        assert_eq!(
            strip(file.as_bytes()),
            Stripped::Rest(b"# Notes\n\nKeep.\n".to_vec())
        );
        assert_eq!(
            strip(format!("\n {SECTION}\n\n").as_bytes()),
            Stripped::Empty
        );
        assert_eq!(
            strip(format!("a{SECTION}b").as_bytes()),
            Stripped::Rest(b"a\n\nb\n".to_vec())
        );
        assert_eq!(strip(b"no markers"), Stripped::NoSection);
        // JavaScript trims U+FEFF but not U+0085.
        assert_eq!(
            strip(format!("a\u{85}\u{FEFF}{SECTION}").as_bytes()),
            Stripped::Rest("a\u{85}\n".as_bytes().to_vec())
        );
    }

    #[test]
    fn template_from_an_installed_package() {
        let root = tempfile::tempdir().unwrap();
        let dir = root
            .path()
            .join("node_modules/convex/dist/esm/cli/codegen_templates");
        std::fs::create_dir_all(&dir).unwrap();
        // Without the package: our own wording, with the markers.
        let own = section_text(root.path(), "convex");
        assert!(own.starts_with(START_MARKER) && own.ends_with(END_MARKER));
        assert!(own.contains("`convex/_generated/ai/guidelines.md`"));
        std::fs::write(
            dir.join("agentsmd.js"),
            "export const AGENTS_MD_START_MARKER = \"<!-- convex-ai-start -->\";\n\
             export const AGENTS_MD_END_MARKER = \"<!-- convex-ai-end -->\";\n\
             export function convexAiMarkdownBody(convexDir) {\n\
               const normalizedConvexDir = convexDir.replaceAll(\"\\\\\", \"/\");\n\
               return `Read \\`${normalizedConvexDir}/x.md\\` first.\nThen \\$go.`;\n\
             }\n\
             export function agentsMdConvexSection(convexDir) {\n\
               return `${AGENTS_MD_START_MARKER}\n\n${convexAiMarkdownBody(convexDir)}\n\n${AGENTS_MD_END_MARKER}`;\n\
             }\n",
        )
        .unwrap();
        // claudemd.js missing: still our own wording.
        assert_eq!(section_text(root.path(), "convex"), own);
        std::fs::write(
            dir.join("claudemd.js"),
            "export const CLAUDE_MD_START_MARKER = \"<!-- convex-ai-start -->\";\n\
             export const CLAUDE_MD_END_MARKER = \"<!-- convex-ai-end -->\";\n\
             export function claudeMdConvexSection(convexDir) {\n\
               return `${CLAUDE_MD_START_MARKER}\n\n${convexAiMarkdownBody(convexDir)}\n\n${CLAUDE_MD_END_MARKER}`;\n\
             }\n",
        )
        .unwrap();
        let nested = root.path().join("apps/web");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(
            section_text(&nested, "src\\convex"),
            format!("{START_MARKER}\n\nRead `src/convex/x.md` first.\nThen $go.\n\n{END_MARKER}")
        );
        // An expression we cannot evaluate: our own wording.
        let text = std::fs::read_to_string(dir.join("agentsmd.js")).unwrap();
        std::fs::write(
            dir.join("agentsmd.js"),
            text.replace("${normalizedConvexDir}/x.md", "${other}"),
        )
        .unwrap();
        assert_eq!(section_text(root.path(), "convex"), own);
    }
}
