//! Byte-identity of our bundles with the official CLI's.
//!
//! Each test copies a fixture project into a temporary folder, runs the
//! reference CLI there (`deploy --push-all-modules --write-push-request`,
//! self-hosted variables pointing at a closed port: that path bundles and
//! writes the StartPushRequest without any server), then bundles the same
//! folder (which now holds the reference's `_generated/`) with our bundler
//! and compares every module: path, environment, source and source map,
//! byte for byte, plus definitions, dependencies and `nodeDependencies`.
//!
//! The reference is the `convex` package of the shared test install (see
//! `tests/support`); the tests skip, saying so, when `node` is missing.

mod support;

use convex_cli::bundler::{
    AppBundle, BuildCache, BundleOptions, Bundler, DebugBundle, write_debug_bundle,
};
use convex_cli::project::ProjectConfig;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{copy_dir, has_program, link_node_modules, reference_cli};

/// A WebAssembly module exporting `add(i32, i32) -> i32`.
const ADD_WASM: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01,
    0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x0a, 0x09,
    0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b,
];

fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/projects")
        .join(name)
}

/// Copies fixture `name` into a temporary project: its `local-packages/*`
/// become `node_modules/*`, the rest of `node_modules` links to the shared
/// install, and a `.wasm` file is added where a module imports one.
fn prepare(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path();
    copy_dir(&fixture_dir(name), project);
    let local = project.join("local-packages");
    if local.exists() {
        for entry in std::fs::read_dir(&local).unwrap() {
            let entry = entry.unwrap();
            copy_dir(
                &entry.path(),
                &project.join("node_modules").join(entry.file_name()),
            );
        }
        std::fs::remove_dir_all(&local).unwrap();
    }
    if project.join("convex/wasmUser.ts").exists() {
        std::fs::write(project.join("convex/add.wasm"), ADD_WASM).unwrap();
    }
    link_node_modules(project);
    tmp
}

fn node_available() -> bool {
    if has_program("node") {
        return true;
    }
    eprintln!("SKIPPED: `node` is not on PATH, so the reference CLI cannot run");
    false
}

/// Runs the reference `deploy` in `project` with extra arguments; panics
/// with its output when it fails.
fn run_reference(project: &Path, args: &[&str]) {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new("node")
        .arg(reference_cli())
        .args(["deploy", "--typecheck", "disable"])
        .args(args)
        .current_dir(project)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(support::home_env(home.path()))
        .env("CONVEX_SELF_HOSTED_URL", "http://127.0.0.1:1")
        .env("CONVEX_SELF_HOSTED_ADMIN_KEY", "test-admin-key")
        .env("NO_COLOR", "1")
        .output()
        .expect("running node");
    assert!(
        output.status.success(),
        "reference deploy failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The reference's StartPushRequest for `project`.
fn reference_push_request(project: &Path, extra_args: &[&str]) -> Value {
    let out = tempfile::tempdir().unwrap();
    let request = out.path().join("request");
    let mut args = vec![
        "--push-all-modules",
        "--write-push-request",
        request.to_str().unwrap(),
    ];
    args.extend_from_slice(extra_args);
    run_reference(project, &args);
    let text = std::fs::read_to_string(out.path().join("request.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn our_bundle(project: &Path, options: BundleOptions) -> AppBundle {
    let config = ProjectConfig::read(project).unwrap();
    // esbuild on one thread applies to an esbuild started by the build, as a
    // cached bundler's is (an uncached one starts at once).
    let cache = tempfile::tempdir().unwrap();
    let bundler = if options.one_esbuild_thread {
        let cache = BuildCache::on_disk(cache.path().to_path_buf());
        Bundler::start_cached(project, None, cache).unwrap()
    } else {
        Bundler::start(project, None).unwrap()
    };
    let graph = bundler.component_graph(&config, &options).await.unwrap();
    let app = bundler.bundle_app(&config, &graph, &options).await.unwrap();
    bundler.stop();
    app
}

/// Where two strings first differ, with some context, for readable failures.
fn first_difference(ours: &str, theirs: &str) -> String {
    let index = ours
        .bytes()
        .zip(theirs.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(ours.len().min(theirs.len()));
    let start = index.saturating_sub(80);
    let clip = |s: &str| {
        let end = (index + 80).min(s.len());
        String::from_utf8_lossy(&s.as_bytes()[start.min(s.len())..end]).into_owned()
    };
    format!(
        "lengths {} vs {}, first difference at byte {index}\n ours: {:?}\n theirs: {:?}",
        ours.len(),
        theirs.len(),
        clip(ours),
        clip(theirs)
    )
}

/// Compares module lists (or single modules) field by field.
fn assert_same(label: &str, ours: &Value, theirs: &Value) {
    match (ours, theirs) {
        (Value::String(a), Value::String(b)) => {
            assert!(a == b, "{label} differs: {}", first_difference(a, b));
        }
        (Value::Array(a), Value::Array(b)) => {
            let paths = |list: &Vec<Value>| -> Vec<String> {
                list.iter()
                    .map(|m| {
                        m.get("path")
                            .map(|p| p.to_string())
                            .unwrap_or_else(|| m.to_string())
                    })
                    .collect()
            };
            assert_eq!(paths(a), paths(b), "{label}: different entries");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_same(&format!("{label}[{i}]"), x, y);
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => assert_same(&format!("{label}.{key}"), x, y),
                    (x, y) => panic!("{label}.{key}: ours {x:?}, theirs {y:?}"),
                }
            }
        }
        _ => assert_eq!(ours, theirs, "{label}"),
    }
}

/// The JSON text of ours and of the reference's (re-serialised with key
/// order kept) must be equal: same key order, same escaping.
fn assert_same_json_text<T: serde::Serialize>(label: &str, ours: &T, theirs: &Value) {
    let ours = serde_json::to_string(ours).unwrap();
    let theirs = serde_json::to_string(theirs).unwrap();
    assert!(
        ours == theirs,
        "{label} JSON text differs: {}",
        first_difference(&ours, &theirs)
    );
}

fn check_against_reference(app: &AppBundle, request: &Value) {
    let app_def = &request["appDefinition"];
    assert_same_json_text("definition", &app.definition, &app_def["definition"]);
    assert_same_json_text("schema", &app.schema, &app_def["schema"]);
    assert_same_json_text("functions", &app.functions, &app_def["changedModules"]);
    assert_same_json_text(
        "nodeDependencies",
        &app.node_dependencies,
        &request["nodeDependencies"],
    );
    assert_same("definition", &to(&app.definition), &app_def["definition"]);
    assert_same(
        "dependencies",
        &to(&app.dependencies),
        &app_def["dependencies"],
    );
    assert_same("schema", &to(&app.schema), &app_def["schema"]);
    assert_same("functions", &to(&app.functions), &app_def["changedModules"]);
    assert_same(
        "nodeDependencies",
        &to(&app.node_dependencies),
        &request["nodeDependencies"],
    );
    let theirs = request["componentDefinitions"].as_array().unwrap();
    assert_eq!(app.components.len(), theirs.len(), "number of components");
    for (ours, theirs) in app.components.iter().zip(theirs) {
        let mut theirs = theirs.clone();
        theirs
            .as_object_mut()
            .unwrap()
            .shift_remove("udfServerVersion");
        assert_same_json_text(&ours.definition_path, ours, &theirs);
        assert_same(
            &format!("component {}", ours.definition_path),
            &to(ours),
            &theirs,
        );
    }
}

fn to<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

async fn compare_fixture(name: &str) -> AppBundle {
    compare_fixture_with(name, &[], BundleOptions::default()).await
}

async fn compare_fixture_with(name: &str, args: &[&str], options: BundleOptions) -> AppBundle {
    let tmp = prepare(name);
    let request = reference_push_request(tmp.path(), args);
    let app = our_bundle(tmp.path(), options).await;
    check_against_reference(&app, &request);
    app
}

#[tokio::test]
async fn basic_project_matches_reference() {
    if !node_available() {
        return;
    }
    let app = compare_fixture("basic").await;
    // Sanity: the comparison covered real content.
    let paths: Vec<&str> = app.functions.iter().map(|m| m.path.as_str()).collect();
    assert!(
        paths.contains(&"notes.js") && paths.contains(&"digest.js"),
        "{paths:?}"
    );
    assert!(app.schema.is_some());
}

#[tokio::test]
async fn js_only_project_matches_reference() {
    if !node_available() {
        return;
    }
    let app = compare_fixture("js-only").await;
    assert!(app.schema.is_none());
    assert_eq!(app.functions[0].path, "counter.js");
}

#[tokio::test]
async fn kitchen_sink_matches_reference() {
    if !node_available() {
        return;
    }
    let app = compare_fixture("kitchen-sink").await;
    let paths: Vec<&str> = app.functions.iter().map(|m| m.path.as_str()).collect();
    for expected in [
        "actions/legacy.js",
        "auth.config.js",
        "extra.js",
        "http.js",
        "lib/deep/strings.js",
        "nodeAction.js",
        "old.js",
        "serverOnly.js",
        "storage.js",
        "view.js",
        "wasmUser.js",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
    assert!(!paths.contains(&"messages.test.js") && !paths.contains(&"empty.js"));
    assert_eq!(
        app.node_dependencies
            .iter()
            .map(|d| format!("{}@{}", d.name, d.version))
            .collect::<Vec<_>>(),
        vec!["fake-ext@1.2.3", "ws@8.21.0"]
    );
    // Two `app.use` of one definition: one dependency.
    assert_eq!(app.dependencies, vec!["counter"]);
    assert_eq!(app.components.len(), 1);
    assert_eq!(app.components[0].definition_path, "counter");
}

/// esbuild on one thread (`GOMAXPROCS=1`, beside TypeScript 7 on two
/// cores) bundles the same bytes.
#[tokio::test]
async fn one_esbuild_thread_matches_reference() {
    if !node_available() {
        return;
    }
    let options = BundleOptions {
        one_esbuild_thread: true,
        ..BundleOptions::default()
    };
    let app = compare_fixture_with("kitchen-sink", &[], options).await;
    assert!(app.functions.len() > 10, "{}", app.functions.len());
}

/// Custom functions directory, a local component that itself uses a
/// component, and a published component package from `node_modules`.
#[tokio::test]
async fn components_match_reference() {
    if !node_available() {
        return;
    }
    let app = compare_fixture("components").await;
    let paths: Vec<&str> = app
        .components
        .iter()
        .map(|c| c.definition_path.as_str())
        .collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(paths.contains(&"counter"), "{paths:?}");
    let widget = "../../node_modules/@acme/widget/dist/component";
    assert!(paths.contains(&widget), "{paths:?}");
    let counter = app
        .components
        .iter()
        .find(|c| c.definition_path == "counter")
        .unwrap();
    assert_eq!(counter.dependencies, vec![widget]);
    assert!(
        counter.definition.source.contains("./_componentDeps/"),
        "{}",
        counter.definition.source
    );
}

/// `--live-component-sources`: the component package resolves to its
/// TypeScript sources through the `@convex-dev/component-source` condition.
#[tokio::test]
async fn live_component_sources_match_reference() {
    if !node_available() {
        return;
    }
    let options = BundleOptions {
        live_component_sources: true,
        ..BundleOptions::default()
    };
    let app = compare_fixture_with("components", &["--live-component-sources"], options).await;
    let paths: Vec<&str> = app
        .components
        .iter()
        .map(|c| c.definition_path.as_str())
        .collect();
    assert!(
        paths.contains(&"../../node_modules/@acme/widget/src/component"),
        "{paths:?}"
    );
}

/// Tricky directive prologues: our scanner must classify each file as the
/// reference's Babel parse does (the environments are compared per module).
#[tokio::test]
async fn use_node_detection_matches_reference() {
    if !node_available() {
        return;
    }
    let app = compare_fixture("directives").await;
    let node: Vec<&str> = app
        .functions
        .iter()
        .filter(|m| m.environment == convex_cli::bundler::Environment::Node)
        .filter(|m| !m.path.starts_with("_deps/"))
        .map(|m| m.path.as_str())
        .collect();
    let mut expected = vec![
        "bom.js",
        "commentsFirst.js",
        "crlf.js",
        "hashbang.js",
        "plainNode.js",
        "postfixNextLine.js",
        "semicolonNextLine.js",
        "strictThenNode.js",
        "trailingComment.js",
        "twoOnOneLine.js",
    ];
    let mut node_sorted = node.clone();
    node_sorted.sort();
    expected.sort();
    assert_eq!(node_sorted, expected);
}

/// `codegen --component-dir`: the reference has no `--write-push-request`
/// there, so its start_push body is caught by a loopback mock.
#[tokio::test]
async fn component_dir_codegen_matches_reference() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    if !node_available() {
        return;
    }
    let tmp = prepare("components");
    let component_dir = "node_modules/@acme/widget/src/component";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/get_config_hashes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "config": {"functions": "convex/", "authInfo": []},
            "moduleHashes": [], "nodeDependencies": [], "udfServerVersion": null
        })))
        .mount(&server)
        .await;
    // Stop the reference right after it sent what we want to see.
    Mock::given(method("POST"))
        .and(path("/api/deploy2/start_push"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            serde_json::json!({"code": "TestStop", "message": "captured by the test"}),
        ))
        .mount(&server)
        .await;
    let home = tempfile::tempdir().unwrap();
    let output = Command::new("node")
        .arg(reference_cli())
        .args([
            "codegen",
            "--typecheck",
            "disable",
            "--component-dir",
            component_dir,
        ])
        .current_dir(tmp.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(support::home_env(home.path()))
        .env("CONVEX_SELF_HOSTED_URL", server.uri())
        .env("CONVEX_SELF_HOSTED_ADMIN_KEY", "test-admin-key")
        .output()
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let start_push = requests
        .iter()
        .find(|r| r.url.path() == "/api/deploy2/start_push")
        .unwrap_or_else(|| {
            panic!(
                "the reference sent no start_push:\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let mut body = Vec::new();
    brotli_decompressor::BrotliDecompress(&mut start_push.body.as_slice(), &mut body).unwrap();
    let request: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(request["forCodegen"], true);

    let config = ProjectConfig::read(tmp.path()).unwrap();
    let bundler = Bundler::start(tmp.path(), None).unwrap();
    let options = BundleOptions::default();
    let root = bundler
        .synthetic_root_component(&config, Path::new(component_dir))
        .unwrap();
    let graph = bundler
        .component_graph_from(&config, root, &options)
        .await
        .unwrap();
    let app = bundler.bundle_app(&config, &graph, &options).await.unwrap();
    bundler.stop();
    check_against_reference(&app, &request);
    assert!(app.functions.is_empty() && app.schema.is_none());
    assert_eq!(
        app.dependencies,
        vec!["../../node_modules/@acme/widget/src/component"]
    );
    assert!(app.definition.source.contains("exampleComponentInstance"));
}

/// A component inside the functions directory is imported by a bare
/// specifier in the synthetic config, which esbuild cannot resolve: the
/// reference fails there, and so do we.
#[tokio::test]
async fn component_dir_inside_functions_dir_fails_like_reference() {
    let tmp = prepare("components");
    let config = ProjectConfig::read(tmp.path()).unwrap();
    let bundler = Bundler::start(tmp.path(), None).unwrap();
    let root = bundler
        .synthetic_root_component(&config, Path::new("src/backend/counter"))
        .unwrap();
    let err = bundler
        .component_graph_from(&config, root, &BundleOptions::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("counter/convex.config.js"),
        "{err}"
    );
    let err = bundler
        .synthetic_root_component(&config, Path::new("src"))
        .unwrap_err();
    assert!(err.to_string().contains("convex.config.ts"), "{err}");
    bundler.stop();
}

/// `--debug-bundle-path`: same files, byte for byte.
#[tokio::test]
async fn debug_bundle_matches_reference() {
    if !node_available() {
        return;
    }
    let tmp = prepare("kitchen-sink");
    let out = tempfile::tempdir().unwrap();
    let theirs = out.path().join("theirs");
    run_reference(
        tmp.path(),
        &["--debug-bundle-path", theirs.to_str().unwrap()],
    );

    let config = ProjectConfig::read(tmp.path()).unwrap();
    let bundler = Bundler::start(tmp.path(), None).unwrap();
    let debug: DebugBundle = bundler.debug_bundle(&config).await.unwrap();
    bundler.stop();
    let ours = out.path().join("ours");
    write_debug_bundle(&ours, &debug).unwrap();

    let list = |root: &Path| {
        let mut files = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    files.push(path.strip_prefix(root).unwrap().to_path_buf());
                }
            }
        }
        files.sort();
        files
    };
    let files = list(&theirs);
    assert_eq!(list(&ours), files);
    assert!(files.len() > 10, "{files:?}");
    for file in files {
        let a = std::fs::read_to_string(ours.join(&file)).unwrap();
        let b = std::fs::read_to_string(theirs.join(&file)).unwrap();
        assert!(
            a == b,
            "{} differs: {}",
            file.display(),
            first_difference(&a, &b)
        );
    }
}
