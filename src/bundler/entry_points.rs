//! Which files of a functions directory are function modules, and in which
//! runtime each one runs.
//!
//! Codegen uses [`entry_points`] for the module list of `api.d.ts`; the
//! bundler uses [`entry_points_by_environment`].

use super::directives::{has_use_node_directive, imports_http_router};
use super::error::{BundleError, BundleResult};
use super::warn;
use serde::Serialize;
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// Extensions esbuild can load as a module entry point (checked
/// case-sensitively, as the reference does).
const ENTRY_POINT_EXTENSIONS: [&str; 8] =
    [".js", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".jsx"];

/// The runtime a module runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Convex's own JavaScript runtime (the default).
    Isolate,
    /// Node.js, for files starting with `"use node"`.
    Node,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Isolate => "isolate",
            Environment::Node => "node",
        }
    }
}

/// Entry points of one functions directory, split by runtime. Paths are
/// absolute, in walk order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryPoints {
    pub isolate: Vec<PathBuf>,
    pub node: Vec<PathBuf>,
}

/// Compares names by UTF-16 code units, shorter prefix first (the order the
/// reference walks directories in).
fn compare_names(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

struct WalkEntry {
    path: PathBuf,
    depth: usize,
}

/// Files under `dir` in walk order. Symbolic links are neither followed nor
/// listed, and subdirectories holding a `convex.config.ts` (nested
/// components) are skipped.
fn walk(dir: &Path, depth: usize, out: &mut Vec<WalkEntry>) -> BundleResult<()> {
    let read = std::fs::read_dir(dir)
        .map_err(|err| BundleError::invalid(format!("Could not list {}: {err}", dir.display())))?;
    let mut entries = Vec::new();
    for entry in read {
        let entry = entry.map_err(|err| {
            BundleError::invalid(format!("Could not list {}: {err}", dir.display()))
        })?;
        let file_type = entry.file_type().map_err(|err| {
            BundleError::invalid(format!("Could not read {}: {err}", entry.path().display()))
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        entries.push((name, file_type));
    }
    entries.sort_by(|a, b| compare_names(&a.0, &b.0));
    for (name, file_type) in entries {
        let path = dir.join(&name);
        if file_type.is_dir() {
            if path.join("convex.config.ts").exists() {
                continue;
            }
            walk(&path, depth + 1, out)?;
        } else if file_type.is_file() {
            out.push(WalkEntry { path, depth });
        }
    }
    Ok(())
}

fn relative_str(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// The function modules of the functions directory `dir` (absolute paths,
/// walk order), with every skip rule of the reference:
///
/// * anything under `_deps/` is an error (the directory is reserved);
/// * a top-level `https.*` file importing `httpRouter` gets a warning;
/// * only `.js .mjs .cjs .ts .tsx .mts .cts .jsx` (case-sensitive);
/// * not under `_generated/`, not dotfiles or `#` editor files, not
///   `schema.ts`/`schema.js`, no name with more than one dot
///   (`auth.config.ts`, `*.test.ts`, `*.d.ts`), no path with a space;
/// * `.ts`/`.tsx` files need a line starting (after up to 100 spaces) with
///   `import` or `export`.
pub fn entry_points(dir: &Path) -> BundleResult<Vec<PathBuf>> {
    let mut result = Vec::new();
    for path in candidates(dir)? {
        if is_typescript(&path) && !has_import_or_export_line(&read_lossy(&path)?) {
            continue;
        }
        result.push(path);
    }
    Ok(result)
}

fn is_typescript(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with(".ts") || name.ends_with(".tsx")
}

/// Entry points before the TypeScript "is it a module" rule.
fn candidates(dir: &Path) -> BundleResult<Vec<PathBuf>> {
    let mut files = Vec::new();
    walk(dir, 0, &mut files)?;
    let sep = std::path::MAIN_SEPARATOR;
    let mut entry_points = Vec::new();
    for WalkEntry { path, depth } in files {
        let rel = relative_str(dir, &path);
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if rel.starts_with(&format!("_deps{sep}")) {
            return Err(BundleError::invalid(format!(
                "The path \"{}\" is within the \"_deps\" directory, which is reserved for \
                 dependencies. Please move your code to another directory.",
                path.display()
            )));
        }
        if depth == 0 && base.to_lowercase().starts_with("https.") {
            let source = read_lossy(&path)?;
            if imports_http_router(&source) {
                let extension = path
                    .extension()
                    .map(|e| format!(".{}", e.to_string_lossy().to_lowercase()))
                    .unwrap_or_default();
                warn(&format!(
                    "Found {}. HTTP action routes will not be imported from this file. Did \
                     you mean to include http{extension}?",
                    path.display()
                ));
            }
        }
        let is_candidate = ENTRY_POINT_EXTENSIONS.iter().any(|ext| rel.ends_with(ext))
            && !rel.starts_with(&format!("_generated{sep}"))
            && !base.starts_with('.')
            && !base.starts_with('#')
            && base != "schema.ts"
            && base != "schema.js"
            && base.matches('.').count() <= 1
            && !rel.contains(' ');
        if is_candidate {
            entry_points.push(path);
        }
    }
    Ok(entry_points)
}

/// `/^\s{0,100}(import|export)/m`: some line starts, after at most 100
/// white-space characters (line breaks included), with `import` or `export`.
pub(crate) fn has_import_or_export_line(source: &str) -> bool {
    let chars: Vec<char> = source.chars().collect();
    let starts_keyword = |i: usize| {
        let word: String = chars[i..].iter().take(6).collect();
        word == "import" || word == "export"
    };
    let is_line_start =
        |i: usize| i == 0 || matches!(chars[i - 1], '\n' | '\r' | '\u{2028}' | '\u{2029}');
    for start in 0..chars.len() {
        if !is_line_start(start) {
            continue;
        }
        let mut i = start;
        loop {
            if starts_keyword(i) {
                return true;
            }
            if i - start >= 100
                || i >= chars.len()
                || !super::directives::is_js_whitespace(chars[i])
            {
                break;
            }
            i += 1;
        }
    }
    false
}

fn read_lossy(path: &Path) -> BundleResult<String> {
    let bytes = std::fs::read(path)
        .map_err(|err| BundleError::invalid(format!("Could not read {}: {err}", path.display())))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `http`, `crons`, `schema` and `auth.config` (top level, any extension)
/// must run in the isolate.
pub fn must_be_isolate(rel_path: &str) -> bool {
    // Strip the last extension: `/\.[^/.]+$/`.
    let stem = match rel_path.rfind('.') {
        Some(dot) if !rel_path[dot + 1..].is_empty() && !rel_path[dot + 1..].contains('/') => {
            &rel_path[..dot]
        }
        _ => rel_path,
    };
    ["http", "crons", "schema", "auth.config"].contains(&stem)
}

/// The runtime of one entry point of `dir`.
pub fn determine_environment(dir: &Path, path: &Path) -> BundleResult<Environment> {
    environment_of(dir, path, &read_lossy(path)?)
}

fn environment_of(dir: &Path, path: &Path, source: &str) -> BundleResult<Environment> {
    let rel = relative_str(dir, path);
    if has_use_node_directive(source) {
        if must_be_isolate(&rel) {
            return Err(BundleError::invalid(format!(
                "\"use node\" directive is not allowed for {rel}."
            )));
        }
        return Ok(Environment::Node);
    }
    if rel.starts_with(&format!("actions{}", std::path::MAIN_SEPARATOR)) {
        return Err(BundleError::invalid(format!(
            "{rel} is in the actions/ folder but has no \"use node\" directive. Files in \
             actions/ must start with \"use node\" (the folder is the old way to choose the \
             Node.js runtime): add the directive, or move the file out of actions/ to run it \
             in the Convex runtime. See https://docs.convex.dev/functions/actions"
        )));
    }
    Ok(Environment::Isolate)
}

/// [`entry_points`] of `dir`, split by [`determine_environment`]. Each file
/// is read once.
pub fn entry_points_by_environment(dir: &Path) -> BundleResult<EntryPoints> {
    let mut kept = Vec::new();
    for path in candidates(dir)? {
        let source = read_lossy(&path)?;
        if is_typescript(&path) && !has_import_or_export_line(&source) {
            continue;
        }
        kept.push((path, source));
    }
    // Environments are decided once the whole list is known, so a reserved
    // or unreadable file is reported before a misplaced directive.
    let mut result = EntryPoints::default();
    for (path, source) in kept {
        match environment_of(dir, &path, &source)? {
            Environment::Isolate => result.isolate.push(path),
            Environment::Node => result.node.push(path),
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn rels(dir: &Path, paths: &[PathBuf]) -> Vec<String> {
        paths.iter().map(|p| relative_str(dir, p)).collect()
    }

    const MODULE: &str = "export const a = 1;\n";

    #[test]
    fn applies_every_skip_rule() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for rel in [
            "messages.ts",
            "b.js",
            "c.mjs",
            "d.cjs",
            "e.tsx",
            "f.mts",
            "g.cts",
            "h.jsx",
            "lib/util.ts",
            "lib/deeper/x.js",
            "UPPER.TS",
            "notes.md",
            "data.json",
            "_generated/api.js",
            "_generated/server.ts",
            ".hidden.ts",
            ".eslintrc.js",
            "#tmp.ts",
            "schema.ts",
            "lib/schema.js",
            "auth.config.ts",
            "convex.config.ts",
            "messages.test.ts",
            "types.d.ts",
            "my file.ts",
            "dir with space/a.ts",
            "https.ts",
        ] {
            write(d, rel, MODULE);
        }
        write(d, "empty.ts", "// nothing\nconst x = 1;\n");
        write(d, "empty.js", "const x = 1;\n");
        write(d, "indented.ts", "\n\n      import x from 'y';\n");
        // A nested component: skipped entirely.
        write(d, "component/convex.config.ts", MODULE);
        write(d, "component/fn.ts", MODULE);
        // A directory with a convex.config.js only is not skipped.
        write(d, "jsconfig/convex.config.js", MODULE);
        write(d, "jsconfig/fn.ts", MODULE);

        let found = entry_points(d).unwrap();
        assert_eq!(
            rels(d, &found),
            vec![
                "b.js",
                "c.mjs",
                "d.cjs",
                "e.tsx",
                "empty.js",
                "f.mts",
                "g.cts",
                "h.jsx",
                "https.ts",
                "indented.ts",
                "jsconfig/fn.ts",
                "lib/deeper/x.js",
                "lib/util.ts",
                "messages.ts",
            ]
        );
    }

    #[test]
    fn walk_order_is_utf16_with_shorter_prefix_first() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for rel in [
            "b.js",
            "a.js",
            "B.js",
            "ab/c.js",
            "a_b.js",
            "\u{FF5E}.js",
            "\u{1F600}.js",
        ] {
            write(d, rel, MODULE);
        }
        let found = entry_points(d).unwrap();
        // 'B' < '_' < 'a'; "a.js" < "a_b.js" < "ab/" ('.' < '_' < 'b');
        // U+1F600 is a surrogate pair (0xD83D...) and sorts before U+FF5E.
        assert_eq!(
            rels(d, &found),
            vec![
                "B.js",
                "a.js",
                "a_b.js",
                "ab/c.js",
                "b.js",
                "\u{1F600}.js",
                "\u{FF5E}.js"
            ]
        );
    }

    #[test]
    fn deps_directory_is_reserved() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "_deps/x.md", "hi");
        let err = entry_points(tmp.path()).unwrap_err();
        assert!(err.to_string().contains("\"_deps\" directory"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("convex");
        write(&d, "real.ts", MODULE);
        write(tmp.path(), "outside/x.ts", MODULE);
        std::os::unix::fs::symlink(tmp.path().join("outside"), d.join("linked")).unwrap();
        std::os::unix::fs::symlink(d.join("real.ts"), d.join("alias.ts")).unwrap();
        assert_eq!(rels(&d, &entry_points(&d).unwrap()), vec!["real.ts"]);
    }

    #[test]
    fn environments() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(d, "a.ts", "\"use node\";\nexport const a = 1;");
        write(d, "b.ts", MODULE);
        write(d, "actions/c.js", "'use node'\nexport const c = 1;");
        let eps = entry_points_by_environment(d).unwrap();
        assert_eq!(rels(d, &eps.node), vec!["a.ts", "actions/c.js"]);
        assert_eq!(rels(d, &eps.isolate), vec!["b.ts"]);

        write(d, "actions/d.js", MODULE);
        let err = entry_points_by_environment(d).unwrap_err().to_string();
        assert!(err.contains("actions/d.js"), "{err}");
        std::fs::remove_file(d.join("actions/d.js")).unwrap();

        for name in ["http.ts", "crons.js"] {
            write(d, name, "\"use node\";\nexport default 1;");
            let err = entry_points_by_environment(d).unwrap_err().to_string();
            assert!(err.contains(&format!("not allowed for {name}")), "{err}");
            std::fs::remove_file(d.join(name)).unwrap();
        }
        // Nested http.ts is not special.
        write(d, "sub/http.ts", "\"use node\";\nexport default 1;");
        assert!(entry_points_by_environment(d).is_ok());
    }

    #[test]
    fn must_be_isolate_strips_one_extension() {
        assert!(must_be_isolate("http.ts"));
        assert!(must_be_isolate("crons.js"));
        assert!(must_be_isolate("auth.config.ts"));
        assert!(must_be_isolate("schema.mjs"));
        assert!(!must_be_isolate("lib/http.ts"));
        assert!(!must_be_isolate("https.ts"));
        assert!(must_be_isolate("http"));
        assert!(!must_be_isolate("http."));
    }

    #[test]
    fn import_export_line_rule() {
        assert!(has_import_or_export_line("export {}"));
        assert!(has_import_or_export_line("const a = 1;\nimport x from 'y'"));
        assert!(has_import_or_export_line("  \t exportation"));
        assert!(!has_import_or_export_line("const a = 1; export {}"));
        assert!(!has_import_or_export_line(&format!(
            "{}export {{}}",
            " ".repeat(101)
        )));
        assert!(has_import_or_export_line(&format!(
            "{}export {{}}",
            " ".repeat(100)
        )));
        assert!(!has_import_or_export_line(""));
    }
}
