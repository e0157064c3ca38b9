//! What a build (or a typecheck) depended on, recorded so that a later run
//! can tell whether redoing it could give a different answer.
//!
//! A [`Fingerprint`] holds the SHA-256 of every file that was read and of
//! everything that could change how an import resolves:
//!
//! - the listing (names, kinds, symbolic-link targets) of every folder that
//!   holds a file that was read, and of its parents up to a boundary: the
//!   project root for project files, the folder above the outermost
//!   `node_modules` for installed packages, the nearest common folder with the
//!   project root otherwise. A new `foo.tsx` beside `foo.ts`, a new package
//!   folder that shadows another, a re-pointed symbolic link all show up
//!   there;
//! - `package.json`, `tsconfig.json` and `jsconfig.json` in each of those
//!   folders and in the project root and every folder above it (present or
//!   absent), and the files a `tsconfig.json` `extends`;
//! - the `node_modules` folder of the project root and of every folder above
//!   it (its listing, or its absence), and the marker files package managers
//!   rewrite on every install (`.package-lock.json`, `.modules.yaml`,
//!   `.yarn-state.yml`, `.yarn-integrity`).
//!
//! Editors' temporary files (`*.swp`, `*~`, `.#*`, `4913`, JetBrains'
//! `___jb_*___`) are left out of folder listings: no import names them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// Hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// A file as it was: the hash of its bytes, or `None` when it did not exist
/// (or was not a readable file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    pub path: PathBuf,
    pub hash: Option<String>,
}

/// A folder as it was: the hash of its listing, or `None` when it did not
/// exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirState {
    pub path: PathBuf,
    pub listing: Option<String>,
}

/// Everything a result depended on (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub files: Vec<FileState>,
    pub dirs: Vec<DirState>,
}

/// Hashes already computed during one check (a push reads the same
/// `node_modules/convex` files in several builds).
#[derive(Debug, Default)]
pub struct Memo {
    files: HashMap<PathBuf, Option<String>>,
    dirs: HashMap<PathBuf, Option<String>>,
}

impl Memo {
    fn file(&mut self, path: &Path) -> Option<String> {
        if let Some(hash) = self.files.get(path) {
            return hash.clone();
        }
        let hash = hash_file(path);
        self.files.insert(path.to_path_buf(), hash.clone());
        hash
    }

    fn dir(&mut self, path: &Path) -> Option<String> {
        if let Some(hash) = self.dirs.get(path) {
            return hash.clone();
        }
        let hash = hash_listing(path);
        self.dirs.insert(path.to_path_buf(), hash.clone());
        hash
    }
}

fn hash_file(path: &Path) -> Option<String> {
    // A folder (or anything else that is not a file) counts as absent.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    std::fs::read(path).ok().map(|bytes| sha256_hex(&bytes))
}

/// Names no import resolves to: editors' swap, backup and probe files.
fn is_editor_temporary(name: &str) -> bool {
    name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swo")
        || name.ends_with(".swx")
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || name.ends_with("___jb_tmp___")
        || name.ends_with("___jb_old___")
        || name == "4913"
}

fn hash_listing(dir: &Path) -> Option<String> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut items: Vec<(Vec<u8>, u8, Vec<u8>)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if is_editor_temporary(&name.to_string_lossy()) {
            continue;
        }
        let (kind, target) = match entry.file_type() {
            Ok(t) if t.is_symlink() => (
                b'l',
                std::fs::read_link(entry.path())
                    .map(|p| p.as_os_str().as_encoded_bytes().to_vec())
                    .unwrap_or_default(),
            ),
            Ok(t) if t.is_dir() => (b'd', Vec::new()),
            Ok(t) if t.is_file() => (b'f', Vec::new()),
            _ => (b'o', Vec::new()),
        };
        items.push((name.as_encoded_bytes().to_vec(), kind, target));
    }
    items.sort();
    let mut hasher = Sha256::new();
    for (name, kind, target) in &items {
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name);
        hasher.update([*kind]);
        hasher.update((target.len() as u64).to_le_bytes());
        hasher.update(target);
    }
    Some(hex(&hasher.finalize()))
}

/// Marker files package managers rewrite on every install.
const INSTALL_MARKERS: [&str; 4] = [
    ".package-lock.json",
    ".modules.yaml",
    ".yarn-state.yml",
    ".yarn-integrity",
];

/// Configuration files looked for in every relevant folder.
const CONFIG_FILES: [&str; 3] = ["package.json", "tsconfig.json", "jsconfig.json"];

/// How far up the folder listings of `file`'s parents go.
fn boundary_for(file: &Path, project_root: &Path) -> PathBuf {
    if file.starts_with(project_root) {
        return project_root.to_path_buf();
    }
    let mut above = PathBuf::new();
    for component in file.components() {
        if component.as_os_str() == "node_modules" {
            return above;
        }
        above.push(component);
    }
    // Nearest common folder with the project root.
    let mut common = PathBuf::new();
    for (a, b) in file.components().zip(project_root.components()) {
        if a != b {
            break;
        }
        common.push(a);
    }
    common
}

/// Files and folders whose state decides how the imports of `read` resolve
/// (see the module docs).
fn environment(read: &[PathBuf], project_root: &Path) -> (BTreeSet<PathBuf>, BTreeSet<PathBuf>) {
    let mut dirs = BTreeSet::new();
    let mut files = BTreeSet::new();
    for file in read {
        let boundary = boundary_for(file, project_root);
        let Some(parent) = file.parent() else {
            continue;
        };
        for dir in parent.ancestors() {
            if !dir.starts_with(&boundary) {
                break;
            }
            dirs.insert(dir.to_path_buf());
            if dir == boundary {
                break;
            }
        }
    }
    for dir in project_root.ancestors() {
        dirs.insert(dir.join("node_modules"));
        for name in CONFIG_FILES {
            files.insert(dir.join(name));
        }
    }
    for dir in &dirs {
        for name in CONFIG_FILES {
            files.insert(dir.join(name));
        }
        if dir.file_name().is_some_and(|n| n == "node_modules") {
            for marker in INSTALL_MARKERS {
                files.insert(dir.join(marker));
            }
        }
    }
    // What `tsconfig.json` / `jsconfig.json` files extend.
    let mut pending: Vec<PathBuf> = files
        .iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n == "tsconfig.json" || n == "jsconfig.json")
        })
        .filter(|p| p.is_file())
        .cloned()
        .collect();
    let mut seen = BTreeSet::new();
    while let Some(config) = pending.pop() {
        if !seen.insert(config.clone()) || seen.len() > 64 {
            continue;
        }
        for candidate in extends_candidates(&config) {
            if candidate.is_file() && !files.contains(&candidate) {
                pending.push(candidate.clone());
            }
            files.insert(candidate);
        }
    }
    (files, dirs)
}

/// A tsconfig's `extends` targets, and for package specifiers every place
/// TypeScript might find them (so their appearance is noticed too).
fn extends_candidates(config: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(config) else {
        return Vec::new();
    };
    if !text.contains("extends") {
        return Vec::new();
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&strip_jsonc(&text)) else {
        return Vec::new();
    };
    let specs: Vec<String> = match value.get("extends") {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let base = config.parent().unwrap_or(Path::new("/"));
    let mut out = Vec::new();
    for spec in specs {
        let path = Path::new(&spec);
        if spec.starts_with("./") || spec.starts_with("../") || path.is_absolute() {
            let full = crate::project::normalize(&base.join(path));
            out.push(full.clone());
            if !spec.ends_with(".json") {
                let mut json = full.into_os_string();
                json.push(".json");
                out.push(PathBuf::from(json));
            }
        } else {
            let package = super::externals::package_of_import(&spec).1;
            for node_modules in super::esbuild::node_modules_dirs(base) {
                let target = node_modules.join(path);
                out.push(target.clone());
                out.push(target.join("tsconfig.json"));
                let mut json = target.into_os_string();
                json.push(".json");
                out.push(PathBuf::from(json));
                out.push(node_modules.join(&package).join("package.json"));
            }
        }
    }
    out
}

/// JSON with comments and trailing commas (tsconfig's dialect) as JSON.
pub(crate) fn strip_jsonc(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            if c == b'\\' && i + 1 < bytes.len() {
                out.push_str(&text[i..i + 2]);
                i += 2;
                continue;
            }
            if c == b'"' {
                in_string = false;
            }
            let len = utf8_len(c);
            out.push_str(&text[i..(i + len).min(bytes.len())]);
            i += len;
            continue;
        }
        match c {
            b'"' => {
                in_string = true;
                out.push('"');
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b',' => {
                // Drop a comma followed (after blanks and comments) by } or ].
                let mut j = i + 1;
                loop {
                    while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if bytes.get(j) == Some(&b'/') && bytes.get(j + 1) == Some(&b'/') {
                        while j < bytes.len() && bytes[j] != b'\n' {
                            j += 1;
                        }
                    } else if bytes.get(j) == Some(&b'/') && bytes.get(j + 1) == Some(&b'*') {
                        j += 2;
                        while j + 1 < bytes.len() && !(bytes[j] == b'*' && bytes[j + 1] == b'/') {
                            j += 1;
                        }
                        j += 2;
                    } else {
                        break;
                    }
                }
                if !matches!(bytes.get(j), Some(b'}') | Some(b']')) {
                    out.push(',');
                }
                i += 1;
            }
            _ => {
                let len = utf8_len(c);
                out.push_str(&text[i..(i + len).min(bytes.len())]);
                i += len;
            }
        }
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

impl Fingerprint {
    /// Records `read` (files whose bytes were used) and their resolution
    /// environment. Paths must be absolute and normalised.
    pub fn capture(read: &[PathBuf], project_root: &Path, memo: &mut Memo) -> Fingerprint {
        let (extra, dirs) = environment(read, project_root);
        let mut all: BTreeSet<&PathBuf> = read.iter().collect();
        all.extend(extra.iter());
        Fingerprint {
            files: all
                .into_iter()
                .map(|path| FileState {
                    hash: memo.file(path),
                    path: path.clone(),
                })
                .collect(),
            dirs: dirs
                .into_iter()
                .map(|path| DirState {
                    listing: memo.dir(&path),
                    path,
                })
                .collect(),
        }
    }

    /// Whether everything is as it was when this was captured. Folders are
    /// compared first (cheap), then the files outside `node_modules` (the
    /// ones a save changes), then installed packages' files: a stale entry
    /// is usually found out without hashing megabytes of declarations (a
    /// hoisted `node_modules` can sort before the project's own files).
    pub fn still_holds(&self, memo: &mut Memo) -> bool {
        let installed =
            |f: &&FileState| f.path.components().any(|c| c.as_os_str() == "node_modules");
        self.dirs.iter().all(|d| memo.dir(&d.path) == d.listing)
            && self
                .files
                .iter()
                .filter(|f| !installed(f))
                .all(|f| memo.file(&f.path) == f.hash)
            && self
                .files
                .iter()
                .filter(installed)
                .all(|f| memo.file(&f.path) == f.hash)
    }

    /// Adds the listing of every folder under each of `roots` (normalised
    /// absolute paths), not going into `node_modules` folders (which a
    /// compiler's wildcard `include` patterns skip too): a new file in a
    /// folder no read file lives in shows up there. `false` (and nothing
    /// added) when the trees hold more than `max_dirs` folders.
    pub fn add_trees(&mut self, roots: &[PathBuf], max_dirs: usize, memo: &mut Memo) -> bool {
        let mut listed: BTreeSet<PathBuf> = BTreeSet::new();
        let mut visited: BTreeSet<PathBuf> = BTreeSet::new();
        let mut pending: Vec<PathBuf> = roots.to_vec();
        while let Some(dir) = pending.pop() {
            // A folder reached twice through links is walked once.
            let real = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
            if !visited.insert(real) {
                continue;
            }
            listed.insert(dir.clone());
            if listed.len() > max_dirs {
                return false;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_name() == "node_modules" {
                    continue;
                }
                // Links to folders count as folders (the compiler follows
                // them).
                if std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()) {
                    pending.push(dir.join(entry.file_name()));
                }
            }
        }
        let known: BTreeSet<PathBuf> = self.dirs.iter().map(|d| d.path.clone()).collect();
        for dir in listed {
            if !known.contains(&dir) {
                self.dirs.push(DirState {
                    listing: memo.dir(&dir),
                    path: dir,
                });
            }
        }
        true
    }

    /// Whether every path is absolute and normalised (a corrupt or foreign
    /// entry could hold anything).
    pub fn is_well_formed(&self) -> bool {
        let ok = |p: &Path| {
            p.is_absolute()
                && !p
                    .components()
                    .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
        };
        self.files.iter().all(|f| ok(&f.path)) && self.dirs.iter().all(|d| ok(&d.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonc_is_read_as_json() {
        let text = "{\n  // comment, with \"quotes\"\n  \"a\": \"x // not a comment\", /* c */\n  \"b\": [1, 2,],\n  \"c\": {\"d\": \"\\\"/*\\\"\",},\n}";
        let value: serde_json::Value = serde_json::from_str(&strip_jsonc(text)).unwrap();
        assert_eq!(value["a"], "x // not a comment");
        assert_eq!(value["b"], serde_json::json!([1, 2]));
        assert_eq!(value["c"]["d"], "\"/*\"");
        let trailing = "{\"a\": 1, // last\n}";
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&strip_jsonc(trailing)).unwrap()["a"],
            1
        );
        assert_eq!(strip_jsonc("{\"é\": \"ü\"}"), "{\"é\": \"ü\"}");
    }

    #[test]
    fn boundaries() {
        let root = Path::new("/p/app");
        assert_eq!(boundary_for(Path::new("/p/app/convex/a.ts"), root), root);
        assert_eq!(
            boundary_for(Path::new("/cache/ref/node_modules/convex/dist/x.js"), root),
            PathBuf::from("/cache/ref")
        );
        assert_eq!(
            boundary_for(Path::new("/p/shared/src/x.ts"), root),
            PathBuf::from("/p")
        );
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_changed_project_file_is_found_before_installed_files_are_hashed() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        // A hoisted install that sorts before the project's own files.
        let lib = base.join("a/node_modules/typescript/lib/lib.d.ts");
        let root = base.join("b/app");
        write(&lib, "declare var x: number;");
        write(&root.join("package.json"), "{}");
        write(&root.join("convex/a.ts"), "export {}");
        let read = vec![lib.clone(), root.join("convex/a.ts")];
        let print = Fingerprint::capture(&read, &root, &mut Memo::default());
        write(&root.join("convex/a.ts"), "export {};");
        let mut memo = Memo::default();
        assert!(!print.still_holds(&mut memo));
        assert!(memo.files.contains_key(&root.join("convex/a.ts")));
        assert!(!memo.files.contains_key(&lib));
        // A changed installed file still counts.
        let print = Fingerprint::capture(&read, &root, &mut Memo::default());
        write(&lib, "declare var x: string;");
        assert!(!print.still_holds(&mut Memo::default()));
    }

    #[test]
    fn notices_what_changes_resolution() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap().join("app");
        write(&root.join("package.json"), "{}");
        write(&root.join("convex/a.ts"), "import './b';");
        write(&root.join("convex/b.ts"), "export {}");
        write(&root.join("node_modules/x/index.js"), "1");
        write(
            &root.join("convex/tsconfig.json"),
            "{\"extends\": \"./base\"}",
        );
        write(&root.join("convex/base.json"), "{}");
        let read = vec![
            root.join("convex/a.ts"),
            root.join("convex/b.ts"),
            root.join("node_modules/x/index.js"),
        ];
        let capture = || Fingerprint::capture(&read, &root, &mut Memo::default());
        let print = capture();
        assert!(print.is_well_formed());
        assert!(print.still_holds(&mut Memo::default()));
        let changes: Vec<Box<dyn Fn()>> = vec![
            // The bytes of a file that was read.
            Box::new(|| write(&root.join("convex/b.ts"), "export {};")),
            // A file that could shadow an import.
            Box::new(|| write(&root.join("convex/b.tsx"), "")),
            // A package.json next to a read file, or above the project.
            Box::new(|| write(&root.join("node_modules/x/package.json"), "{}")),
            Box::new(|| write(&root.parent().unwrap().join("package.json"), "{}")),
            // A node_modules folder above the project.
            Box::new(|| write(&root.parent().unwrap().join("node_modules/y/i.js"), "")),
            // What a tsconfig extends.
            Box::new(|| write(&root.join("convex/base.json"), "{\"x\":1}")),
            // An install.
            Box::new(|| write(&root.join("node_modules/.package-lock.json"), "{}")),
        ];
        for change in changes {
            let before = capture();
            change();
            assert!(!before.still_holds(&mut Memo::default()));
        }
        // Editor temporaries and unrelated files elsewhere do not count.
        let before = capture();
        write(&root.join("convex/.a.ts.swp"), "x");
        write(&root.join("convex/a.ts~"), "x");
        write(&root.parent().unwrap().join("unrelated.txt"), "x");
        assert!(before.still_holds(&mut Memo::default()));
    }

    #[test]
    fn trees_notice_new_files_in_folders_nothing_was_read_from() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap().join("app");
        write(&root.join("convex/a.ts"), "export {}");
        write(&root.join("convex/sub/deeper/README.md"), "notes");
        write(&root.join("convex/node_modules/p/index.d.ts"), "");
        let capture = || {
            let mut print =
                Fingerprint::capture(&[root.join("convex/a.ts")], &root, &mut Memo::default());
            assert!(print.add_trees(&[root.join("convex")], 100, &mut Memo::default()));
            print
        };
        let before = capture();
        assert!(before.is_well_formed());
        // Without the trees, a file in a folder no read file is in goes
        // unnoticed.
        let plain = Fingerprint::capture(&[root.join("convex/a.ts")], &root, &mut Memo::default());
        write(&root.join("convex/sub/deeper/b.ts"), "export {}");
        assert!(plain.still_holds(&mut Memo::default()));
        assert!(!before.still_holds(&mut Memo::default()));
        // node_modules folders inside are not walked.
        let before = capture();
        write(&root.join("convex/node_modules/p/other.d.ts"), "");
        assert!(before.still_holds(&mut Memo::default()));
        // Too many folders: nothing is added.
        let mut print = Fingerprint::default();
        assert!(!print.add_trees(&[root.join("convex")], 2, &mut Memo::default()));
        assert!(print.dirs.is_empty());
    }
}
