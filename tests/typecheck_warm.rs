//! The warm checker of `convex dev` against a fresh `tsc`, and the
//! remembered typecheck results.
//!
//! Differential: a project goes through a series of edits that add and
//! remove type errors (in function files, in `_generated/`, in shared code
//! outside the functions folder, new and deleted files, an import that
//! starts resolving, a package appearing in `node_modules`, a tsconfig
//! option, a syntax error). After each edit the warm checker and a fresh
//! `tsc` of the same TypeScript must agree: on the verdict, on the files
//! read, and (TypeScript 5, whose checker also writes the report) on the
//! exact text of the report, plain and `--pretty`.

mod support;

use convex_cli::commands::TypecheckMode;
use convex_cli::push::RecordingOutput;
use convex_cli::push::typecheck::{TypecheckCache, TypecheckOutcome, Typechecker};
use convex_cli::push::warm_checker::{WarmAnswer, WarmChecker, WarmMode, WarmSpec};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::write_files;

const TSCONFIG: &str = r#"{
  /* As `codegen --init` writes it, with a smaller lib to keep the test quick. */
  "compilerOptions": {
    "allowJs": true,
    "strict": true,
    "moduleResolution": "Bundler",
    "jsx": "react-jsx",
    "skipLibCheck": true,
    "allowSyntheticDefaultImports": true,
    "target": "ESNext",
    "lib": ["ES2021"],
    "forceConsistentCasingInFileNames": true,
    "module": "ESNext",
    "isolatedModules": true,
    "noEmit": true
  },
  "include": ["./**/*"],
  "exclude": ["./_generated"]
}
"#;

const SERVER_DTS: &str = "export declare function query<T>(definition: { handler: () => T }): T;\n";

const NOTES: &str = "import { query } from \"./_generated/server\";\nimport { label } from \"../shared/util\";\n\nexport const list = query({ handler: () => label(1) });\n";

const TAGS: &str = "import { query } from \"./_generated/server\";\n\nexport const all = query({ handler: () => [\"a\", \"b\"] });\n";

const UTIL: &str = "export function label(n: number): string {\n  return `#${n}`;\n}\n";

fn base(root: &Path) {
    write_files(
        root,
        &[
            (
                "package.json",
                r#"{"name":"t","private":true,"dependencies":{"convex":"1.48.0"}}"#,
            ),
            ("convex/tsconfig.json", TSCONFIG),
            ("convex/_generated/server.d.ts", SERVER_DTS),
            ("convex/_generated/server.js", "export {};\n"),
            ("convex/notes.ts", NOTES),
            ("convex/tags.ts", TAGS),
            ("shared/util.ts", UTIL),
        ],
    );
}

#[cfg(unix)]
fn link(target: &Path, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(windows)]
fn link(target: &Path, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::windows::fs::symlink_dir(target, link).unwrap();
}

/// A project using TypeScript 5.9.3 (`typescript` of the shared install) or
/// TypeScript 7.0.2.
/// `None` (the test skips, loudly) only when npm cannot reach the registry.
/// The test project with the compiler linked in; `None` (the test is
/// skipped) without `node` or the npm installs.
fn project(test: &str, ts7: bool) -> Option<(tempfile::TempDir, PathBuf)> {
    if !support::has_program("node") {
        eprintln!("skipped: node is not installed");
        return None;
    }
    let (shared, ts7_modules) = support::npm_installs_or_skip(test, ts7)?;
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap().join("app");
    base(&root);
    link(&shared.join("convex"), &root.join("node_modules/convex"));
    if ts7 {
        let ts7 = ts7_modules;
        link(
            &ts7.join("typescript"),
            &root.join("node_modules/typescript"),
        );
        link(
            &ts7.join("@typescript"),
            &root.join("node_modules/@typescript"),
        );
    } else {
        link(
            &shared.join("typescript"),
            &root.join("node_modules/typescript"),
        );
    }
    Some((tmp, root))
}

/// One edit of the series, with the verdict a fresh `tsc` must give.
struct Step {
    what: &'static str,
    edit: Box<dyn Fn(&Path)>,
    passes: bool,
}

fn step(what: &'static str, passes: bool, edit: impl Fn(&Path) + 'static) -> Step {
    Step {
        what,
        edit: Box::new(edit),
        passes,
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    write_files(root, &[(rel, text)]);
}

fn steps() -> Vec<Step> {
    vec![
        step("nothing changed", true, |_| {}),
        step("a type error in a function file", false, |r| {
            write(
                r,
                "convex/notes.ts",
                &format!("{NOTES}export const bad: number = \"text\";\n"),
            )
        }),
        step("the error fixed", true, |r| {
            write(r, "convex/notes.ts", NOTES)
        }),
        step("a new file with an error", false, |r| {
            write(r, "convex/extra.ts", "export const n: string = 42;\n")
        }),
        step("two errors in two files", false, |r| {
            write(
                r,
                "convex/tags.ts",
                &format!("{TAGS}export const m: boolean = 1;\n"),
            )
        }),
        step("the new file fixed", false, |r| {
            write(r, "convex/extra.ts", "export const n: string = \"42\";\n")
        }),
        step("both fixed, the new file deleted", true, |r| {
            write(r, "convex/tags.ts", TAGS);
            std::fs::remove_file(r.join("convex/extra.ts")).unwrap();
        }),
        step("a subfolder without TypeScript files", true, |r| {
            write(r, "convex/sub/README.md", "notes\n")
        }),
        step("a file with an error in that subfolder", false, |r| {
            write(
                r,
                "convex/sub/deep.ts",
                "export const d: number = \"text\";\n",
            )
        }),
        step("that file deleted", true, |r| {
            std::fs::remove_file(r.join("convex/sub/deep.ts")).unwrap()
        }),
        step("_generated/ changes a signature", false, |r| {
            write(
                r,
                "convex/_generated/server.d.ts",
                "export declare function query<T>(definition: { handler: () => T; args: object }): T;\n",
            )
        }),
        step("_generated/ restored", true, |r| {
            write(r, "convex/_generated/server.d.ts", SERVER_DTS)
        }),
        step("shared code outside convex/ breaks a caller", false, |r| {
            write(
                r,
                "shared/util.ts",
                "export function label(n: string): string {\n  return `#${n}`;\n}\n",
            )
        }),
        step("shared code fixed", true, |r| {
            write(r, "shared/util.ts", UTIL)
        }),
        step("an import of a file that does not exist", false, |r| {
            write(
                r,
                "convex/notes.ts",
                &format!(
                    "{NOTES}import {{ later }} from \"./later\";\nexport const l: number = later;\n"
                ),
            )
        }),
        step("the imported file created", true, |r| {
            write(r, "convex/later.ts", "export const later = 3;\n")
        }),
        step("an import of a package not installed", false, |r| {
            write(
                r,
                "convex/tags.ts",
                &format!(
                    "{TAGS}import {{ pkg }} from \"localpkg\";\nexport const p: string = pkg;\n"
                ),
            )
        }),
        step("the package installed", true, |r| {
            write_files(
                r,
                &[
                    (
                        "node_modules/localpkg/package.json",
                        r#"{"name":"localpkg","version":"1.0.0","types":"index.d.ts"}"#,
                    ),
                    (
                        "node_modules/localpkg/index.d.ts",
                        "export declare const pkg: string;\n",
                    ),
                ],
            )
        }),
        step("a parameter without a type under strict", false, |r| {
            write(
                r,
                "convex/loose.ts",
                "export function f(x) {\n  return x;\n}\n",
            )
        }),
        step("strict turned off in the tsconfig", true, |r| {
            write(
                r,
                "convex/tsconfig.json",
                &TSCONFIG.replace("\"strict\": true", "\"strict\": false"),
            )
        }),
        step("a syntax error", false, |r| {
            write(r, "convex/loose.ts", "export function f(x {\n")
        }),
        step("the syntax error fixed", true, |r| {
            write(
                r,
                "convex/loose.ts",
                "export function f(x: number) {\n  return x;\n}\n",
            )
        }),
    ]
}

/// A fresh `tsc` of the project's compiler, as the official CLI runs it.
fn fresh_tsc(root: &Path, args: &[&str]) -> (bool, String) {
    let script = root.join("node_modules/typescript/bin/tsc");
    let out = std::process::Command::new("node")
        .arg(script)
        .arg("--project")
        .arg(root.join("convex"))
        .args(args)
        .current_dir(root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let passed = out.status.success() || stdout.starts_with("error TS18003");
    (passed, stdout)
}

/// The files `--listFiles` printed, and the rest of its output.
fn split_list_files(stdout: &str) -> (BTreeSet<PathBuf>, String) {
    let mut files = BTreeSet::new();
    let mut rest = String::new();
    for line in stdout.lines() {
        let path = Path::new(line.trim());
        if path.is_absolute() && path.exists() {
            files.insert(path.to_path_buf());
        } else {
            rest.push_str(line);
            rest.push('\n');
        }
    }
    (files, rest)
}

fn warm_checker(root: &Path, scripts: &Path) -> std::sync::Arc<WarmChecker> {
    let package_dir = std::fs::canonicalize(root.join("node_modules/typescript")).unwrap();
    let mode = WarmMode::for_package(&package_dir).expect("a TypeScript with an API");
    WarmChecker::new(WarmSpec {
        node: PathBuf::from("node"),
        package_dir,
        mode,
        cwd: root.to_path_buf(),
        script_dir: Some(scripts.to_path_buf()),
        server: None,
    })
}

/// Which TypeScript 5 files the checker can load.
#[derive(Clone, Copy, PartialEq)]
enum Ts5Files {
    /// The installed package: the checker loads `tsc`'s bundle.
    Installed,
    /// The same package with a `lib/_tsc.js` that is not the bundle: the
    /// checker loads `lib/typescript.js` (as for TypeScript 4).
    #[cfg_attr(not(unix), allow(dead_code))]
    WithoutTscBundle,
}

/// Replaces `root`'s `node_modules/typescript` link by a folder of links
/// to the same files, but for a `lib/_tsc.js` that is not tsc's bundle.
#[cfg(unix)]
fn without_tsc_bundle(root: &Path) {
    let package = root.join("node_modules/typescript");
    let real = std::fs::canonicalize(&package).unwrap();
    std::fs::remove_file(&package).unwrap();
    for entry in std::fs::read_dir(&real).unwrap().flatten() {
        if entry.file_name() != "lib" {
            link(&entry.path(), &package.join(entry.file_name()));
        }
    }
    std::fs::create_dir_all(package.join("lib")).unwrap();
    for entry in std::fs::read_dir(real.join("lib")).unwrap().flatten() {
        let to = package.join("lib").join(entry.file_name());
        if entry.file_name() == "_tsc.js" {
            std::fs::write(&to, "// not tsc's bundle\n").unwrap();
        } else {
            link(&entry.path(), &to);
        }
    }
}

async fn differential(ts7: bool, files: Ts5Files, edits: usize) {
    let scripts = tempfile::tempdir().unwrap();
    differential_in(ts7, files, edits, scripts.path()).await;
}

/// The differential with the checker's script (and V8's code cache of the
/// compiler) in `scripts`; what became of that cache, or `None` when the
/// test was skipped.
async fn differential_in(
    ts7: bool,
    files: Ts5Files,
    edits: usize,
    scripts: &Path,
) -> Option<Option<String>> {
    let test = if ts7 {
        "the TypeScript 7 differential"
    } else {
        "the TypeScript 5 differential"
    };
    let (_tmp, root) = project(test, ts7)?;
    #[cfg(unix)]
    if files == Ts5Files::WithoutTscBundle {
        without_tsc_bundle(&root);
    }
    let checker = warm_checker(&root, scripts);
    assert_eq!(
        checker.spec().mode,
        if ts7 { WarmMode::Api } else { WarmMode::Watch }
    );
    let convex = root.join("convex");
    let mut results = Vec::new();
    for step in steps().into_iter().take(edits) {
        (step.edit)(&root);
        let (fresh_passed, listed) = fresh_tsc(&root, &["--listFiles", "--pretty", "false"]);
        assert_eq!(
            fresh_passed, step.passes,
            "the test's expectation for `{}` is wrong:\n{listed}",
            step.what
        );
        let (fresh_files, fresh_plain) = split_list_files(&listed);
        let warm = checker
            .check(&convex, false)
            .await
            .unwrap_or_else(|| panic!("no warm verdict after `{}`", step.what));
        let (warm_passed, warm_files, warm_report) = match warm {
            WarmAnswer::Passed { files } => (true, files, None),
            WarmAnswer::Failed { files, report } => (false, files, report),
        };
        assert_eq!(
            warm_passed, fresh_passed,
            "verdicts differ after `{}`:\nfresh tsc:\n{fresh_plain}",
            step.what
        );
        let warm_files: BTreeSet<PathBuf> = warm_files.into_iter().collect();
        assert_eq!(
            warm_files, fresh_files,
            "files read differ after `{}`",
            step.what
        );
        if !ts7 {
            // The plain report, byte for byte...
            let plain = if warm_passed {
                warm_report.unwrap_or_default()
            } else {
                warm_report.expect("a report for a failure")
            };
            assert_eq!(
                plain, fresh_plain,
                "plain reports differ after `{}`",
                step.what
            );
            // ...and the pretty one (colours, code frames, summary).
            let (_, fresh_pretty) = fresh_tsc(&root, &["--pretty", "true"]);
            let pretty = match checker.check(&convex, true).await {
                Some(WarmAnswer::Failed {
                    report: Some(report),
                    ..
                }) => report,
                Some(WarmAnswer::Passed { .. }) => String::new(),
                other => panic!("unexpected answer after `{}`: {other:?}", step.what),
            };
            assert_eq!(
                pretty, fresh_pretty,
                "pretty reports differ after `{}`",
                step.what
            );
        }
        results.push((step.what, fresh_passed));
    }
    let loaded = checker
        .loaded_compiler()
        .expect("the checker names what it loaded");
    let expected = match (ts7, files) {
        (true, _) => "dist/api/sync/api.js",
        (false, Ts5Files::Installed) => "lib/_tsc.js",
        (false, Ts5Files::WithoutTscBundle) => "lib/typescript.js",
    };
    assert!(
        loaded.ends_with(expected),
        "the checker loaded {}, not …/{expected}",
        loaded.display()
    );
    // The series does go both ways.
    assert!(results.iter().any(|r| r.1) && results.iter().any(|r| !r.1));
    eprintln!(
        "{} edits, warm checker and fresh tsc agreed on each: {results:?}",
        results.len()
    );
    Some(checker.compiler_code_cache())
}

#[tokio::test(flavor = "multi_thread")]
async fn warm_checker_agrees_with_fresh_tsc_on_typescript_5() {
    differential(false, Ts5Files::Installed, usize::MAX).await;
}

/// The files of V8's code cache under `scripts`.
fn code_cache_files(scripts: &Path) -> Vec<PathBuf> {
    let dir = scripts.join("code-cache");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// On Node.js before 22.1 the checker keeps V8's code cache of the
/// compiler: a checker started from it (compiled code of the first run,
/// not of the source) gives the same answers as a fresh `tsc` over the
/// whole series, and a damaged cache is rejected by V8, not trusted, and
/// written again.
#[tokio::test(flavor = "multi_thread")]
async fn a_checker_started_from_the_code_cache_agrees_with_fresh_tsc() {
    let scripts = tempfile::tempdir().unwrap();
    let Some(first) = differential_in(false, Ts5Files::Installed, 2, scripts.path()).await else {
        return;
    };
    let Some(first) = first else {
        eprintln!("skipped: this Node.js caches compiled code itself");
        return;
    };
    assert_eq!(first, "missing");
    // Written after the first check's answer, while the checker was idle.
    let files = code_cache_files(scripts.path());
    assert_eq!(files.len(), 1, "one cache file: {files:?}");
    let written = std::fs::read(&files[0]).unwrap();
    assert!(written.len() > 100_000, "{} bytes", written.len());

    let second = differential_in(false, Ts5Files::Installed, usize::MAX, scripts.path()).await;
    assert_eq!(second, Some(Some("used".to_string())));
    assert_eq!(
        code_cache_files(scripts.path()),
        files,
        "the same file, kept"
    );

    // Cut short (as a full disk might leave a file written without the
    // CLI's rename): V8 rejects it, and the checker writes a whole one.
    std::fs::write(&files[0], &written[..written.len() / 2]).unwrap();
    let third = differential_in(false, Ts5Files::Installed, 2, scripts.path()).await;
    assert_eq!(third, Some(Some("rejected".to_string())));
    assert_eq!(code_cache_files(scripts.path()), files);
    let rewritten = std::fs::read(&files[0]).unwrap();
    assert!(rewritten.len() > written.len() / 2 + 1000, "written again");
}

/// The checker's other way of loading TypeScript 5 (and 4): its full API,
/// over the first edits of the series.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn warm_checker_on_typescript_js_agrees_with_fresh_tsc() {
    differential(false, Ts5Files::WithoutTscBundle, 8).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn warm_checker_agrees_with_fresh_tsc_on_typescript_7() {
    differential(true, Ts5Files::Installed, usize::MAX).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_the_checker_cannot_vouch_for_falls_back_to_tsc() {
    let Some((_tmp, root)) = project(
        "a_config_the_checker_cannot_vouch_for_falls_back_to_tsc",
        false,
    ) else {
        return;
    };
    // Without `noEmit`, tsc would write JavaScript files: only tsc itself
    // may run then.
    write(
        &root,
        "convex/tsconfig.json",
        &TSCONFIG.replace("\"noEmit\": true", "\"noEmit\": false"),
    );
    let scripts = tempfile::tempdir().unwrap();
    let checker = warm_checker(&root, scripts.path());
    assert_eq!(checker.check(&root.join("convex"), false).await, None);
}

/// A check does not wait for the JIT warm-up's throwaway check under way:
/// the CLI creates the interrupt file before each request, and the
/// throwaway check stops when it sees it. Here that check would take long
/// (a file of 1500 inferred definitions, ~1.5 s in a fresh type checker on
/// the development machine), and the warm-up starts on it as soon as a
/// check is answered.
#[tokio::test(flavor = "multi_thread")]
async fn a_check_interrupts_the_warm_up_under_way() {
    let Some((_tmp, root)) = project("a_check_interrupts_the_warm_up_under_way", false) else {
        return;
    };
    std::fs::remove_file(root.join("convex/notes.ts")).unwrap();
    std::fs::remove_file(root.join("convex/tags.ts")).unwrap();
    let mut heavy = String::from("import { query } from \"./_generated/server\";\n");
    for i in 0..1500 {
        heavy.push_str(&format!(
            "export const f{i} = query({{ handler: () => [{i}, \"x\", (a: number) => a + {i}] as const }});\n"
        ));
    }
    write(&root, "convex/heavy.ts", &heavy);
    let scripts = tempfile::tempdir().unwrap();
    let checker = warm_checker(&root, scripts.path());
    let project = root.join("convex");
    assert!(matches!(
        checker.check(&project, false).await,
        Some(WarmAnswer::Passed { .. })
    ));
    // A request sent before the warm-up has reached `heavy.ts` (its first
    // steps are quick) is simply answered first; a few tries make sure
    // one lands while that file is being checked.
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        assert!(matches!(
            checker.check(&project, false).await,
            Some(WarmAnswer::Passed { .. })
        ));
        if checker.interrupted_warm_ups() > 0 {
            break;
        }
    }
    assert!(
        checker.interrupted_warm_ups() > 0,
        "no check interrupted the warm-up"
    );
    // The checker removed the file when it took the request.
    let left: Vec<_> = std::fs::read_dir(scripts.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|name| name.to_string_lossy().ends_with(".interrupt"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// The checker process goes away with the checker (its process group is
/// killed).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn dropping_the_checker_ends_its_process() {
    let Some((_tmp, root)) = project("dropping_the_checker_ends_its_process", false) else {
        return;
    };
    let scripts = tempfile::tempdir().unwrap();
    let checker = warm_checker(&root, scripts.path());
    assert!(checker.check(&root.join("convex"), false).await.is_some());
    let pid = checker.pid().await.expect("the checker runs");
    assert!(support::pid_alive(pid));
    drop(checker);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while support::pid_alive(pid) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Reaped by the kill_on_drop child handle, or at least gone.
    assert!(
        !support::pid_alive(pid) || is_zombie(pid),
        "the checker outlived its owner"
    );
}

#[cfg(unix)]
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2) == Some("Z"))
        .unwrap_or(false)
}

/// A remembered pass is reused while nothing the compiler read changed:
/// then not even Node.js starts. Any change makes the compiler run again.
#[tokio::test(flavor = "multi_thread")]
async fn a_remembered_pass_skips_the_compiler_until_something_changes() {
    let Some((_tmp, root)) = project(
        "a_remembered_pass_skips_the_compiler_until_something_changes",
        false,
    ) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let convex = root.join("convex");
    let out = RecordingOutput::default();
    let checker = |node: &str| {
        let mut t = Typechecker::new(TypecheckMode::Try, &root, None);
        t.cache = Some(TypecheckCache::new(cache.path(), &root));
        t.node = PathBuf::from(node);
        t
    };
    let first = checker("node").check(&convex, &out).await.unwrap();
    assert!(
        matches!(first, TypecheckOutcome::Passed { .. }),
        "{first:?}"
    );
    // Files written just now may not be remembered (see `remember_pass`):
    // age them and check again.
    age(&root);
    let again = checker("node").check(&convex, &out).await.unwrap();
    assert!(matches!(again, TypecheckOutcome::Passed { .. }));
    // No node now: a remembered pass needs none.
    let missing = root.join("no-such-node");
    let missing = missing.to_str().unwrap();
    let remembered = checker(missing).check(&convex, &out).await.unwrap();
    assert_eq!(remembered, again);
    // A change (even one that keeps the verdict): the compiler must run,
    // and without node, `try` skips.
    write(&root, "convex/tags.ts", &format!("{TAGS}// edited\n"));
    let after_edit = checker(missing).check(&convex, &out).await.unwrap();
    assert_eq!(after_edit, TypecheckOutcome::Skipped);
    // So does a new file in the functions folder.
    write(&root, "convex/tags.ts", TAGS);
    let _ = checker("node").check(&convex, &out).await.unwrap();
    write(&root, "convex/new.ts", "export {};\n");
    assert_eq!(
        checker(missing).check(&convex, &out).await.unwrap(),
        TypecheckOutcome::Skipped
    );
    // And a new file in a subfolder that held no TypeScript file: nothing
    // the compiler read is there, but its `include` pattern reaches it.
    std::fs::remove_file(root.join("convex/new.ts")).unwrap();
    write(&root, "convex/sub/README.md", "notes\n");
    age(&root);
    let passed = checker("node").check(&convex, &out).await.unwrap();
    assert!(matches!(passed, TypecheckOutcome::Passed { .. }));
    assert_eq!(checker(missing).check(&convex, &out).await.unwrap(), passed);
    write(
        &root,
        "convex/sub/bad.ts",
        "export const b: number = \"text\";\n",
    );
    assert_eq!(
        checker(missing).check(&convex, &out).await.unwrap(),
        TypecheckOutcome::Skipped
    );
    assert!(matches!(
        checker("node").check(&convex, &out).await.unwrap(),
        TypecheckOutcome::Failed { .. }
    ));
}

/// Sets every file's modification time a minute back (passes are only
/// remembered when what they read is older than the check).
fn age(root: &Path) {
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    for entry in walk(root) {
        let _ = std::fs::File::options()
            .append(true)
            .open(&entry)
            .and_then(|f| f.set_modified(old));
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            out.extend(walk(&path));
        } else if kind.is_file() {
            out.push(path);
        }
    }
    out
}

/// Whether this `node` caches compiled code itself (Node.js 22.1 and
/// later), so that the checker keeps no code cache of its own.
fn node_has_compile_cache() -> bool {
    std::process::Command::new("node")
        .args([
            "-e",
            "process.exit(require('module').enableCompileCache ? 0 : 1)",
        ])
        .status()
        .is_ok_and(|status| status.success())
}

#[cfg(unix)]
fn identity(file: &Path) -> (u64, std::time::SystemTime) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(file).unwrap();
    (meta.ino(), meta.modified().unwrap())
}

/// A push's `tsc` run (no warm checker) goes through the checker script's
/// `tsc` mode on Node.js before 22.1: the compiler from V8's code cache in
/// `<cache>/typecheck/code-cache`, written as the second run exits (the
/// first, in a new cache folder, keeps none), used (not rewritten) by the
/// next, and written again when damaged; the verdicts and the report stay
/// a fresh `tsc`'s.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn tsc_runs_from_the_code_cache_with_a_fresh_tscs_report() {
    let Some((_tmp, root)) = project("tsc_runs_from_the_code_cache", false) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let scripts = cache.path().join("typecheck");
    let convex = root.join("convex");
    let out = RecordingOutput::default();
    let check = || async {
        let mut t = Typechecker::new(TypecheckMode::Try, &root, None);
        t.cache = Some(TypecheckCache::new(cache.path(), &root));
        t.check(&convex, &out).await.unwrap()
    };
    let failing = |n: u32| format!("{TAGS}export const bad{n}: number = \"text\";\n");
    // As the push runs it: `--pretty false` (no terminal), from the CLI's
    // working folder.
    let fresh_report = || {
        let out = std::process::Command::new("node")
            .arg(root.join("node_modules/typescript/bin/tsc"))
            .arg("--project")
            .arg(&convex)
            .args(["--pretty", "false"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    // The first run (a new cache folder, as on a fresh CI machine) keeps
    // no code cache, so that it pays nothing for it.
    assert!(matches!(check().await, TypecheckOutcome::Passed { .. }));
    assert!(code_cache_files(&scripts).is_empty());
    // The next ones write it (this one as its first `tsc` run exits).
    write(&root, "convex/tags.ts", &failing(1));
    let fresh = fresh_report();
    assert!(fresh.contains("TS2322"), "{fresh}");
    match check().await {
        TypecheckOutcome::Failed { diagnostics, .. } => {
            assert_eq!(diagnostics, fresh, "the report is tsc's own")
        }
        other => panic!("expected a failure: {other:?}"),
    }
    let files = code_cache_files(&scripts);
    if node_has_compile_cache() {
        assert!(files.is_empty(), "{files:?}");
        return;
    }
    assert_eq!(files.len(), 1, "{files:?}");
    let (inode, _) = identity(&files[0]);

    std::thread::sleep(std::time::Duration::from_millis(20));
    let before = std::time::SystemTime::now();
    write(&root, "convex/tags.ts", TAGS);
    assert!(matches!(check().await, TypecheckOutcome::Passed { .. }));
    let (same_inode, used_at) = identity(&files[0]);
    assert_eq!(same_inode, inode, "used, not written again");
    assert!(used_at >= before, "marked as recently used");

    // Damaged: rejected by V8, the run still right, the cache written whole.
    let whole = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &whole[..whole.len() / 3]).unwrap();
    write(&root, "convex/tags.ts", &failing(2));
    let fresh = fresh_report();
    assert!(fresh.contains("TS2322"), "{fresh}");
    match check().await {
        TypecheckOutcome::Failed { diagnostics, .. } => assert_eq!(diagnostics, fresh),
        other => panic!("expected a failure: {other:?}"),
    }
    assert_eq!(code_cache_files(&scripts), files);
    assert!(std::fs::metadata(&files[0]).unwrap().len() > whole.len() as u64 / 2);
}
