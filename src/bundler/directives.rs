//! Source-level checks the reference does with a Babel parse: the `"use node"`
//! directive and whether an `https.*` file imports `httpRouter`.
//!
//! Instead of a full parser, a small scanner reads the *directive prologue*
//! (the string-literal statements before the first other statement), skipping
//! whitespace, comments and a hashbang line. When the scanner meets input it
//! cannot read (an unterminated string or comment in the prologue), it falls
//! back to the reference's own fallback: any line that is just
//! `"use node"` / `'use node'` with an optional semicolon.

/// The outcome of reading a prologue.
#[derive(Debug, PartialEq, Eq)]
enum Prologue {
    /// The raw texts (between the quotes) of every directive.
    Directives(Vec<String>),
    /// The prologue could not be read; use the line-regex fallback.
    Unreadable,
}

/// Whether `source` has a `"use node"` directive.
pub fn has_use_node_directive(source: &str) -> bool {
    // Cheap pre-check, as the reference does.
    if !source.contains("use node") {
        return false;
    }
    match read_prologue(source) {
        // Babel keeps the raw text of a directive, so escapes never match.
        Prologue::Directives(directives) => directives.iter().any(|d| d == "use node"),
        Prologue::Unreadable => source.split('\n').any(line_is_use_node),
    }
}

/// The fallback line test: `^\s*("|')use node("|');?\s*$`.
fn line_is_use_node(line: &str) -> bool {
    let trimmed = line.trim_matches(is_js_whitespace);
    let Some(rest) = trimmed.strip_prefix(['"', '\'']) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix("use node") else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(['"', '\'']) else {
        return false;
    };
    rest.is_empty() || rest == ";"
}

/// JavaScript's `\s`: white space and line terminators.
pub(crate) fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

struct Scanner {
    chars: Vec<char>,
    pos: usize,
}

impl Scanner {
    fn new(source: &str) -> Self {
        Scanner {
            chars: source.chars().collect(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    /// Skips white space and comments. Returns whether a line terminator was
    /// crossed, or `None` for an unterminated block comment.
    fn skip_trivia(&mut self) -> Option<bool> {
        let mut newline = false;
        while let Some(c) = self.peek() {
            if is_js_whitespace(c) {
                newline |= is_line_terminator(c);
                self.pos += 1;
            } else if c == '/' && self.peek_at(1) == Some('/') {
                while let Some(c) = self.peek() {
                    if is_line_terminator(c) {
                        break;
                    }
                    self.pos += 1;
                }
            } else if c == '/' && self.peek_at(1) == Some('*') {
                self.pos += 2;
                loop {
                    match self.peek() {
                        None => return None,
                        Some('*') if self.peek_at(1) == Some('/') => {
                            self.pos += 2;
                            break;
                        }
                        Some(c) => {
                            newline |= is_line_terminator(c);
                            self.pos += 1;
                        }
                    }
                }
            } else {
                break;
            }
        }
        Some(newline)
    }

    /// Reads a string literal starting at the current quote; returns its raw
    /// text, or `None` when it is unterminated.
    fn string_literal(&mut self) -> Option<String> {
        let quote = self.peek()?;
        let start = self.pos + 1;
        self.pos += 1;
        loop {
            match self.peek() {
                None => return None,
                Some('\\') => {
                    // An escape may also continue the string onto the next line.
                    if self.peek_at(1) == Some('\r') && self.peek_at(2) == Some('\n') {
                        self.pos += 3;
                    } else {
                        self.pos += 2;
                    }
                }
                Some(c) if c == quote => {
                    let raw: String = self.chars[start..self.pos].iter().collect();
                    self.pos += 1;
                    return Some(raw);
                }
                Some('\n') | Some('\r') => return None,
                Some(_) => self.pos += 1,
            }
        }
    }

    /// After a line break, whether the next token would continue the
    /// previous expression (so no semicolon is inserted).
    fn continues_expression(&self) -> bool {
        let Some(c) = self.peek() else {
            return false;
        };
        match c {
            '(' | '[' | '.' | ',' | '?' | '=' | '*' | '/' | '%' | '<' | '>' | '&' | '|' | '^'
            | '`' => true,
            // `++` / `--` after a line break start a new statement.
            '+' | '-' => self.peek_at(1) != Some(c),
            '!' => self.peek_at(1) == Some('='),
            _ => {
                let word: String = self.chars[self.pos..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_' || **c == '$')
                    .collect();
                word == "in" || word == "instanceof"
            }
        }
    }
}

fn read_prologue(source: &str) -> Prologue {
    let mut s = Scanner::new(source);
    if s.peek() == Some('\u{FEFF}') {
        s.pos += 1;
    }
    // A hashbang line (Babel's interpreter directive).
    if s.peek() == Some('#') && s.peek_at(1) == Some('!') {
        while let Some(c) = s.peek() {
            if is_line_terminator(c) {
                break;
            }
            s.pos += 1;
        }
    }
    let mut directives = Vec::new();
    loop {
        if s.skip_trivia().is_none() {
            return Prologue::Unreadable;
        }
        if !matches!(s.peek(), Some('"') | Some('\'')) {
            return Prologue::Directives(directives);
        }
        let Some(raw) = s.string_literal() else {
            return Prologue::Unreadable;
        };
        let Some(newline) = s.skip_trivia() else {
            return Prologue::Unreadable;
        };
        match s.peek() {
            None => {
                directives.push(raw);
                return Prologue::Directives(directives);
            }
            Some(';') => {
                s.pos += 1;
                directives.push(raw);
            }
            Some(_) if newline && !s.continues_expression() => directives.push(raw),
            // The string is part of a longer expression: the prologue ends.
            Some(_) => return Prologue::Directives(directives),
        }
    }
}

/// Whether `source` has an import declaration that imports `httpRouter` by
/// name (used only for a warning about `https.*` files).
pub fn imports_http_router(source: &str) -> bool {
    let mut rest = source;
    while let Some(index) = rest.find("import") {
        let before = &rest[..index];
        let after = &rest[index + "import".len()..];
        rest = after;
        // `import` must be a whole word at the start of a statement.
        let at_statement_start = before
            .trim_end_matches(is_js_whitespace)
            .chars()
            .last()
            .is_none_or(|c| matches!(c, ';' | '}' | '/' | ')'));
        let next_is_boundary = after
            .chars()
            .next()
            .is_some_and(|c| is_js_whitespace(c) || c == '{' || c == '*' || c == '"' || c == '\'');
        if !at_statement_start || !next_is_boundary {
            continue;
        }
        let Some(from) = after.find("from") else {
            continue;
        };
        let clause = &after[..from];
        let (Some(open), Some(close)) = (clause.find('{'), clause.rfind('}')) else {
            continue;
        };
        if open > close {
            continue;
        }
        let imported_names = clause[open + 1..close].split(',').map(|spec| {
            let spec = spec.trim_matches(is_js_whitespace);
            let spec = spec.strip_prefix("type ").unwrap_or(spec);
            spec.split(is_js_whitespace).next().unwrap_or("")
        });
        if imported_names.into_iter().any(|n| n == "httpRouter") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_use_node_in_the_prologue() {
        let yes = [
            "\"use node\";\nexport const a = 1;",
            "'use node'\nexport const a = 1;",
            "\"use node\"",
            "// comment\n/* block\n */\n\"use node\";\nimport x from 'y';",
            "\"use strict\";\n'use node';\nexport {}",
            "#!/usr/bin/env node\n\"use node\";",
            "\u{FEFF}\"use node\";",
            "\"use node\" // trailing\nimport x from \"y\"",
            "\"use node\"\n++x;",
            "\"use node\"; \"other\"; export {}",
        ];
        for src in yes {
            assert!(has_use_node_directive(src), "{src:?}");
        }
    }

    #[test]
    fn ignores_use_node_outside_the_prologue() {
        let no = [
            "import x from 'y';\n\"use node\";",
            "export const a = \"use node\";",
            "\"use node\" + x;",
            "\"use node\"\n(foo)",
            "\"use node\"\n.length",
            "\"use node\"\n`tpl`",
            "\"use node\"\n in x",
            "\"use\\u0020node\";",
            "\"use  node\";",
            "const a = 1;\n'use node'",
            "// \"use node\"\nexport {}",
            "/* \"use node\"; */ export {}",
            "",
        ];
        for src in no {
            assert!(!has_use_node_directive(src), "{src:?}");
        }
    }

    #[test]
    fn falls_back_to_lines_when_the_prologue_is_unreadable() {
        // Unterminated comment before the directive: the line test decides.
        assert!(has_use_node_directive("/* oops\n\"use node\";"));
        assert!(has_use_node_directive("\"unterminated\n  'use node'  \n"));
        assert!(!has_use_node_directive("/* oops\n\"use node\"; x"));
        assert!(line_is_use_node("  \"use node\";  \r"));
        assert!(line_is_use_node("'use node\""));
        assert!(!line_is_use_node("\"use node\";;"));
    }

    #[test]
    fn detects_http_router_imports() {
        assert!(imports_http_router(
            "import { httpRouter } from \"convex/server\";"
        ));
        assert!(imports_http_router(
            "import {\n  httpActionGeneric,\n  httpRouter as r,\n} from 'convex/server'"
        ));
        assert!(imports_http_router(
            "import x, { httpRouter } from \"./other\";"
        ));
        assert!(!imports_http_router(
            "import { httpAction } from \"convex/server\";"
        ));
        assert!(!imports_http_router("const httpRouter = 1; export {}"));
        assert!(!imports_http_router("reimport { httpRouter } from 'x'"));
    }
}
