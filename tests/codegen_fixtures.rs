//! Byte-for-byte comparison of our `_generated/` output with the official
//! CLI's, recorded by `scripts/record-reference-codegen.sh` into
//! `tests/fixtures/codegen/<case>/expected/` (see docs/codegen.md).
//!
//! Each case replays the reference run with the library API: same project,
//! same steps and edits, same module lists and server analysis; then the
//! files created, changed and deleted in the project, and stdout, must be
//! exactly the reference's.

use convex_cli::codegen::{self, Analysis, ComponentDir, Options, Output, WriteMode};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/codegen");

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file under `root` (except its top-level `node_modules`) → bytes.
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if entry.file_type().unwrap().is_dir() {
                if rel != "node_modules" {
                    walk(root, &path, out);
                }
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    if root.exists() {
        walk(root, root, &mut out);
    }
    out
}

/// `a/b/../c` → `a/c`, without touching the disk.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Replays one recorded case; returns a description of every difference.
fn run_case(name: &str) -> Vec<String> {
    let case_dir = Path::new(FIXTURES).join(name);
    let case = read_json(&case_dir.join("case.json"));
    let expected_dir = case_dir.join("expected");
    let steps = read_json(&expected_dir.join("steps.json"));
    let analysis = Analysis::from_value(&read_json(&expected_dir.join("analysis.json"))).unwrap();

    let temp = tempfile::tempdir().unwrap();
    let project = temp.path().join("project");
    if case_dir.join("project").exists() {
        copy_tree(&case_dir.join("project"), &project);
    } else {
        std::fs::create_dir_all(&project).unwrap();
    }
    let before = snapshot(&project);

    let convex_json = project.join("convex.json");
    let config = if convex_json.exists() {
        read_json(&convex_json)
    } else {
        serde_json::json!({})
    };
    let functions = config
        .get("functions")
        .and_then(Value::as_str)
        .unwrap_or("convex/")
        .to_string();
    let root_path = normalize(&project.join(&functions));
    let root = ComponentDir::root(&root_path);
    let mut components = vec![root.clone()];
    for c in case
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let path = normalize(&root_path.join(c["path"].as_str().unwrap()));
        components.push(ComponentDir::child(
            &root_path,
            path,
            c.get("published").and_then(Value::as_bool).unwrap_or(false),
            c.get("importSpecifier")
                .and_then(Value::as_str)
                .map(str::to_string),
        ));
    }

    let mut problems = Vec::new();
    let case_steps = case
        .get("steps")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| vec![serde_json::json!({})]);
    for (index, (step, recorded)) in case_steps.iter().zip(steps.as_array().unwrap()).enumerate() {
        for (rel, content) in step
            .get("edit")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let path = project.join(rel);
            match content.as_str() {
                Some(text) => {
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, text).unwrap();
                }
                None => std::fs::remove_file(&path).unwrap(),
            }
        }
        let args = strings(&recorded["args"]);
        let has = |flag: &str| args.iter().any(|a| a == flag);
        let mut options = Options::from_convex_json(&config);
        options.generate_commonjs_api |= has("--commonjs");
        options.mode = if has("--debug") {
            WriteMode::Debug
        } else if has("--dry-run") {
            WriteMode::DryRun
        } else {
            WriteMode::Write
        };
        let modules: BTreeMap<String, Vec<String>> = recorded["modules"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), strings(v)))
            .collect();

        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let result = (|| -> anyhow::Result<()> {
            let mut out = Output {
                stdout: &mut stdout,
                stderr: &mut stderr,
            };
            if has("--init") {
                codegen::init_functions_dir(&root_path, &options, &mut out)?;
            }
            if has("--system-udfs") {
                codegen::system_udfs_codegen(&root_path, &modules[""], &options, &mut out)?;
                return Ok(());
            }
            for component in &components {
                codegen::initial_codegen(component, &options, &mut out)?;
            }
            for component in &components {
                let empty = Vec::new();
                let component_modules = modules.get(&component.definition_path).unwrap_or(&empty);
                codegen::final_codegen(
                    component,
                    &analysis,
                    component_modules,
                    &components,
                    &options,
                    &mut out,
                )?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            problems.push(format!("step {index}: codegen failed: {e:#}"));
            continue;
        }
        let stdout = String::from_utf8(stdout)
            .unwrap()
            .replace(&project.display().to_string(), "<PROJECT>");
        let expected_stdout = recorded["stdout"].as_str().unwrap();
        if stdout != expected_stdout {
            problems.push(format!(
                "step {index}: stdout differs\n{}",
                diff(expected_stdout, &stdout)
            ));
        }
    }

    // A second identical run must leave every file alone.
    let last_args = strings(&steps.as_array().unwrap().last().unwrap()["args"]);
    let plain = !last_args
        .iter()
        .any(|a| ["--dry-run", "--debug", "--system-udfs"].contains(&a.as_str()));
    if plain && problems.is_empty() {
        let mut options = Options::from_convex_json(&config);
        options.generate_commonjs_api |= last_args.iter().any(|a| a == "--commonjs");
        let modules = &steps.as_array().unwrap().last().unwrap()["modules"];
        let mut sink = (Vec::new(), Vec::new());
        let mut out = Output {
            stdout: &mut sink.0,
            stderr: &mut sink.1,
        };
        let mut changed = Vec::new();
        for component in &components {
            changed.extend(codegen::initial_codegen(component, &options, &mut out).unwrap());
        }
        for component in &components {
            let component_modules = strings(&modules[&component.definition_path]);
            changed.extend(
                codegen::final_codegen(
                    component,
                    &analysis,
                    &component_modules,
                    &components,
                    &options,
                    &mut out,
                )
                .unwrap(),
            );
        }
        if !changed.is_empty() {
            problems.push(format!("a second identical run rewrote {changed:?}"));
        }
    }

    let after = snapshot(&project);
    let expected_files = snapshot(&expected_dir.join("files"));
    let changed: BTreeMap<&String, &Vec<u8>> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .collect();
    for (path, expected) in &expected_files {
        match changed.get(path) {
            None => problems.push(format!("{path}: not written")),
            Some(actual) if *actual != expected => problems.push(format!(
                "{path}: contents differ\n{}",
                diff(
                    &String::from_utf8_lossy(expected),
                    &String::from_utf8_lossy(actual)
                )
            )),
            Some(_) => {}
        }
    }
    for path in changed.keys() {
        if !expected_files.contains_key(*path) {
            problems.push(format!("{path}: written, but the reference left it alone"));
        }
    }
    let deleted: Vec<String> = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    let expected_deleted = strings(&read_json(&expected_dir.join("deleted.json")));
    if deleted != expected_deleted {
        problems.push(format!(
            "deleted {deleted:?}, the reference deleted {expected_deleted:?}"
        ));
    }
    problems
}

/// The first differing lines, with a little context.
fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let first = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = first.saturating_sub(3);
    let mut out = format!("  first difference at line {}\n", first + 1);
    for (label, lines) in [("reference", &e), ("ours", &a)] {
        out.push_str(&format!("  --- {label}:\n"));
        for line in lines.iter().skip(from).take(12) {
            out.push_str(&format!("  | {line}\n"));
        }
    }
    out
}

fn case_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("expected/steps.json").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn generated_files_match_the_reference_byte_for_byte() {
    let names = case_names();
    assert!(names.len() >= 20, "fixtures missing: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let problems = run_case(name);
        if !problems.is_empty() {
            failures.push(format!("== {name}\n{}", problems.join("\n")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from the reference:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
