//! Names derived from function module paths, and the two orders the
//! generated files use.

use std::cmp::Ordering;

/// Names the api files declare themselves, and words that are legal property
/// names but not legal identifiers: a module named like one gets a `_` suffix.
const TAKEN: &[&str] = &["fullApi", "api", "internal", "components"];
const RESERVED: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "let",
    "static",
    "yield",
    "await",
    "enum",
    "implements",
    "interface",
    "package",
    "private",
    "protected",
    "public",
];

/// `lib/util.ts` → `lib/util`: forward slashes, extension dropped.
pub fn module_key(module_path: &str) -> String {
    let normalized = module_path.replace('\\', "/");
    match normalized.rfind('.') {
        Some(dot) => normalized[..dot].to_string(),
        None => normalized,
    }
}

/// The identifier a module is imported as: `lib/my-util.ts` → `lib_my_util`,
/// `delete.ts` → `delete_`, `api.ts` → `api_`.
pub fn module_identifier(module_path: &str) -> String {
    let mut ident = module_key(module_path).replace(['/', '-'], "_");
    if TAKEN.contains(&ident.as_str()) {
        ident.push('_');
    }
    if RESERVED.contains(&ident.as_str()) {
        ident.push('_');
    }
    ident
}

/// Module order in the api files: plain UTF-16 code-unit order of the
/// `/`-separated path, extension included (so `a-b.ts` < `a.ts`).
pub fn compare_module_paths(a: &str, b: &str) -> Ordering {
    let a = a.replace('\\', "/");
    let b = b.replace('\\', "/");
    a.encode_utf16().cmp(b.encode_utf16())
}

pub fn sort_module_paths(paths: &mut [String]) {
    paths.sort_by(|a, b| compare_module_paths(a, b));
}

/// The order of keys in generated object types: the reference sorts with
/// `Intl.Collator("en-US", { numeric: true, sensitivity: "case" })`. For the
/// characters names are made of this is: punctuation and symbols first (in
/// CLDR's order), then digit runs by numeric value, then letters
/// alphabetically; case decides only between strings that are otherwise
/// equal, lower case first.
pub fn compare_names(a: &str, b: &str) -> Ordering {
    let primary_a = primary_keys(a);
    let primary_b = primary_keys(b);
    match primary_a.cmp(&primary_b) {
        Ordering::Equal => {}
        other => return other,
    }
    // Tertiary level: lower case before upper case, position by position.
    let case_a = a
        .chars()
        .filter(|c| c.is_alphabetic())
        .map(|c| c.is_uppercase());
    let case_b = b
        .chars()
        .filter(|c| c.is_alphabetic())
        .map(|c| c.is_uppercase());
    case_a.cmp(case_b)
}

/// ICU root collation order of ASCII punctuation and symbols.
const PUNCTUATION_ORDER: &str = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Primary {
    Symbol(usize),
    /// A run of digits: compared by value (length of the significant part, then digits).
    Number(usize, String),
    Letter(String),
    Other(u32),
}

fn primary_keys(s: &str) -> Vec<Primary> {
    let mut keys = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            let significant = run.trim_start_matches('0');
            let significant = if significant.is_empty() {
                "0"
            } else {
                significant
            };
            keys.push(Primary::Number(significant.len(), significant.to_string()));
            continue;
        }
        if let Some(position) = PUNCTUATION_ORDER.find(c) {
            keys.push(Primary::Symbol(position));
        } else if c.is_alphabetic() {
            keys.push(Primary::Letter(c.to_lowercase().collect()));
        } else {
            keys.push(Primary::Other(c as u32));
        }
        i += 1;
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(module_identifier("messages.ts"), "messages");
        assert_eq!(module_identifier("lib/my-util.ts"), "lib_my_util");
        assert_eq!(
            module_identifier("a/b/c/deep-module.ts"),
            "a_b_c_deep_module"
        );
        assert_eq!(module_identifier("delete.ts"), "delete_");
        assert_eq!(module_identifier("api.ts"), "api_");
        assert_eq!(module_identifier("fullApi.js"), "fullApi_");
        assert_eq!(module_identifier("components.ts"), "components_");
        assert_eq!(module_identifier("await.ts"), "await_");
        assert_eq!(module_identifier("Delete.ts"), "Delete");
        assert_eq!(module_identifier("lib\\win.ts"), "lib_win");
        assert_eq!(module_identifier("noext"), "noext");
    }

    #[test]
    fn keys_drop_only_the_last_extension() {
        assert_eq!(module_key("extra.mjs"), "extra");
        assert_eq!(module_key("a/b.c/d.ts"), "a/b.c/d");
        assert_eq!(module_key("a\\b.ts"), "a/b");
    }

    #[test]
    fn module_order_is_code_unit_order_with_extensions() {
        let mut paths: Vec<String> = ["a.ts", "a-b.ts", "B.ts", "a/x.ts", "_x.ts", "a_b.ts"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        sort_module_paths(&mut paths);
        assert_eq!(
            paths,
            ["B.ts", "_x.ts", "a-b.ts", "a.ts", "a/x.ts", "a_b.ts"]
        );
    }

    #[test]
    fn name_order_matches_the_en_us_numeric_collator() {
        // Expected order taken from node's Intl.Collator with the reference's options.
        let mut names: Vec<&str> = vec![
            "item10", "item2", "Item1", "item1", "_private", "zeta", "Alpha", "alpha", "a-b",
            "a_b", "ab", "aB", "Ab", "ab2", "a9", "$x", "x$",
        ];
        names.sort_by(|a, b| compare_names(a, b));
        assert_eq!(
            names,
            [
                "_private", "$x", "a_b", "a-b", "a9", "ab", "aB", "Ab", "ab2", "alpha", "Alpha",
                "item1", "Item1", "item2", "item10", "x$", "zeta"
            ]
        );
    }
}
