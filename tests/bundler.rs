//! The bundler on its own: errors, rebuilds, esbuild discovery. (Byte
//! identity with the official CLI is in `bundler_reference.rs`.)

mod support;

use convex_cli::bundler::{BundleErrorKind, BundleOptions, Bundler, Environment, locate_esbuild};
use convex_cli::project::ProjectConfig;
use std::path::Path;
use std::time::Instant;
use support::{make_project, npm_node_modules, write_files};

/// What codegen would write, reduced to what bundling needs.
const GENERATED_SERVER: &str = "export {\n  queryGeneric as query,\n  mutationGeneric as mutation,\n  actionGeneric as action,\n  internalQueryGeneric as internalQuery,\n} from \"convex/server\";\n";

const PACKAGE_JSON: &str = r#"{"name":"t","private":true,"dependencies":{"convex":"1.48.0"}}"#;

const QUERY: &str = "import { query } from \"./_generated/server\";\nexport const get = query({ args: {}, handler: async () => 1 });\n";

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let mut all = vec![
        ("package.json", PACKAGE_JSON),
        ("convex/_generated/server.js", GENERATED_SERVER),
    ];
    all.extend_from_slice(files);
    make_project(&all)
}

async fn bundle(
    root: &Path,
) -> Result<convex_cli::bundler::AppBundle, convex_cli::bundler::BundleError> {
    let config = ProjectConfig::read(root).unwrap();
    let bundler = Bundler::start(root, None)?;
    let options = BundleOptions::default();
    let graph = bundler.component_graph(&config, &options).await?;
    let app = bundler.bundle_app(&config, &graph, &options).await;
    bundler.stop();
    app
}

#[tokio::test]
async fn bundles_a_project_without_config() {
    let tmp = project(&[
        ("convex/a.ts", QUERY),
        ("convex/b.ts", "\"use node\";\nexport const x = 1;\n"),
    ]);
    let app = bundle(tmp.path()).await.unwrap();
    assert_eq!(app.definition.path, "convex.config.js");
    // The synthetic `defineApp()` config; keepNames keeps the name.
    assert!(app.definition.source.contains("\"defineApp\""));
    assert!(app.dependencies.is_empty());
    assert!(app.schema.is_none());
    assert!(app.components.is_empty());
    let summary: Vec<(String, Environment)> = app
        .functions
        .iter()
        .map(|m| (m.path.clone(), m.environment))
        .collect();
    assert!(
        summary.contains(&("a.js".into(), Environment::Isolate)),
        "{summary:?}"
    );
    assert!(
        summary.contains(&("b.js".into(), Environment::Node)),
        "{summary:?}"
    );
    let a = app.functions.iter().find(|m| m.path == "a.js").unwrap();
    assert!(
        a.source.ends_with("//# sourceMappingURL=a.js.map\n"),
        "{}",
        a.source
    );
    let map: serde_json::Value = serde_json::from_str(a.source_map.as_deref().unwrap()).unwrap();
    let sources = map["sources"].as_array().unwrap();
    assert!(sources.iter().any(|s| s == "../convex/a.ts"), "{sources:?}");
    // sourcesContent is off by default for function bundles...
    assert!(map.get("sourcesContent").is_none());
    // ...and on for definitions.
    let def_map: serde_json::Value =
        serde_json::from_str(app.definition.source_map.as_deref().unwrap()).unwrap();
    assert!(def_map.get("sourcesContent").is_some());
    assert!(
        app.input_files
            .contains(&tmp.path().canonicalize().unwrap().join("convex/a.ts"))
    );
}

#[tokio::test]
async fn syntax_errors_are_reported_by_esbuild() {
    let tmp = project(&[("convex/a.ts", "export const = ;\n")]);
    let err = bundle(tmp.path()).await.unwrap_err();
    assert_eq!(err.kind, BundleErrorKind::InvalidFilesystemData);
    assert!(err.message.is_none(), "{err}");
}

#[tokio::test]
async fn node_builtins_in_the_isolate_suggest_use_node() {
    let tmp = project(&[(
        "convex/a.ts",
        "import { readFileSync } from \"fs\";\nexport const x = readFileSync;\n",
    )]);
    let err = bundle(tmp.path()).await.unwrap_err();
    assert_eq!(err.kind, BundleErrorKind::InvalidFilesystemData);
    assert!(err.to_string().contains("\"use node\""), "{err}");
}

#[tokio::test]
async fn use_node_is_rejected_in_components() {
    let tmp = project(&[
        (
            "convex/convex.config.ts",
            "import { defineApp } from \"convex/server\";\nimport c from \"./c/convex.config\";\nconst app = defineApp();\napp.use(c);\nexport default app;\n",
        ),
        (
            "convex/c/convex.config.ts",
            "import { defineComponent } from \"convex/server\";\nexport default defineComponent(\"c\");\n",
        ),
        ("convex/c/_generated/server.js", GENERATED_SERVER),
        ("convex/c/n.ts", "\"use node\";\nexport const x = 1;\n"),
    ]);
    let err = bundle(tmp.path()).await.unwrap_err();
    assert!(
        err.to_string().contains("not supported in components"),
        "{err}"
    );
}

#[tokio::test]
async fn definition_errors_name_the_file() {
    let tmp = project(&[(
        "convex/convex.config.ts",
        "import { defineApp } from \"convex/server\";\nimport missing from \"./nope/convex.config\";\nconst app = defineApp();\napp.use(missing);\nexport default app;\n",
    )]);
    let err = bundle(tmp.path()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("esbuild failed:"), "{text}");
    assert!(text.contains("convex/convex.config.ts"), "{text}");
}

#[tokio::test]
async fn reserved_and_misplaced_files_are_errors() {
    let tmp = project(&[("convex/_deps/x.ts", QUERY)]);
    let err = bundle(tmp.path()).await.unwrap_err();
    assert!(err.to_string().contains("_deps"), "{err}");

    let tmp = project(&[("convex/http.ts", "\"use node\";\nexport default 1;\n")]);
    let err = bundle(tmp.path()).await.unwrap_err();
    assert!(err.to_string().contains("not allowed for http.ts"), "{err}");

    let tmp = project(&[
        (
            "convex/auth.config.ts",
            "export default { providers: [] };\n",
        ),
        (
            "convex/auth.config.js",
            "export default { providers: [] };\n",
        ),
    ]);
    let err = bundle(tmp.path()).await.unwrap_err();
    assert!(err.to_string().contains("auth.config"), "{err}");
}

#[tokio::test]
async fn missing_install_says_to_run_npm_install() {
    let tmp = tempfile::tempdir().unwrap();
    write_files(
        tmp.path(),
        &[("package.json", PACKAGE_JSON), ("convex/a.ts", QUERY)],
    );
    let err = Bundler::start(tmp.path(), None).err().unwrap();
    assert_eq!(err.kind, BundleErrorKind::Setup);
    assert!(err.to_string().contains("npm install"), "{err}");
}

#[tokio::test]
async fn esbuild_binary_path_overrides_the_lookup() {
    let tmp = project(&[("convex/a.ts", QUERY)]);
    let found = locate_esbuild(tmp.path(), None).unwrap();
    assert_eq!(found.version, "0.27.0");
    assert!(
        found
            .path
            .starts_with(npm_node_modules().canonicalize().unwrap())
    );
    let overridden = locate_esbuild(tmp.path(), Some(&found.path)).unwrap();
    assert_eq!(overridden.version, "0.27.0");
    let bogus = tmp.path().join("package.json");
    let err = locate_esbuild(tmp.path(), Some(&bogus)).unwrap_err();
    assert_eq!(err.kind, BundleErrorKind::Setup);
}

/// `dev` keeps one bundler and rebuilds on every change.
#[tokio::test]
async fn one_service_serves_many_rebuilds() {
    let tmp = project(&[("convex/a.ts", QUERY), ("convex/b.ts", QUERY)]);
    let root = tmp.path();
    let config = ProjectConfig::read(root).unwrap();
    let bundler = Bundler::start(root, None).unwrap();
    let options = BundleOptions::default();
    let mut timings = Vec::new();
    for round in 0..4 {
        write_files(
            root,
            &[(
                "convex/a.ts",
                &format!(
                    "import {{ query }} from \"./_generated/server\";\nexport const get = query({{ args: {{}}, handler: async () => {round} }});\n"
                ),
            )],
        );
        let started = Instant::now();
        let graph = bundler.component_graph(&config, &options).await.unwrap();
        let app = bundler.bundle_app(&config, &graph, &options).await.unwrap();
        timings.push(started.elapsed());
        let a = app.functions.iter().find(|m| m.path == "a.js").unwrap();
        assert!(a.source.contains(&format!("=> {round}")), "{}", a.source);
        // A long-lived service gives what a fresh one gives.
        let fresh = Bundler::start(root, None).unwrap();
        let fresh_graph = fresh
            .component_graph(&config, &BundleOptions::default())
            .await
            .unwrap();
        let expected = fresh
            .bundle_app(&config, &fresh_graph, &BundleOptions::default())
            .await
            .unwrap();
        fresh.stop();
        assert_eq!(app, expected, "round {round}");
        if round == 1 {
            // A new entry point: the context is rebuilt with it.
            write_files(root, &[("convex/c.ts", QUERY)]);
        }
        if round == 2 {
            assert!(app.functions.iter().any(|m| m.path == "c.js"));
        }
    }
    bundler.stop();
    eprintln!("bundle_app timings: {timings:?}");
}

/// The esbuild process is replaced after a while (the client library keeps
/// everything it ever read); builds go on as before.
#[tokio::test]
async fn esbuild_is_recycled_transparently() {
    let tmp = project(&[("convex/a.ts", QUERY)]);
    let root = tmp.path();
    let config = ProjectConfig::read(root).unwrap();
    let bundler = Bundler::start_with_recycle_limit(root, None, 1).unwrap();
    let options = BundleOptions::default();
    let mut results = Vec::new();
    for _ in 0..3 {
        let graph = bundler.component_graph(&config, &options).await.unwrap();
        results.push(bundler.bundle_app(&config, &graph, &options).await.unwrap());
    }
    assert!(bundler.esbuild_generation().await.unwrap() >= 2);
    assert_eq!(results[0], results[2]);
    bundler.stop();
}

/// `release_memory` between builds (what `dev` does while it waits)
/// replaces esbuild once it has sent enough, and builds go on as before.
#[tokio::test]
async fn release_memory_recycles_esbuild_between_builds() {
    let tmp = project(&[("convex/a.ts", QUERY)]);
    let root = tmp.path();
    let config = ProjectConfig::read(root).unwrap();
    let bundler = Bundler::start(root, None).unwrap();
    let options = BundleOptions::default();
    let mut results = Vec::new();
    for _ in 0..12 {
        let graph = bundler.component_graph(&config, &options).await.unwrap();
        results.push(bundler.bundle_app(&config, &graph, &options).await.unwrap());
        bundler.release_memory();
    }
    // Each round receives a few hundred KiB: more than the idle threshold
    // (1 MiB) several times over, far below the automatic one (64 MiB).
    assert!(bundler.esbuild_generation().await.unwrap() >= 1);
    assert!(results.iter().all(|r| *r == results[0]));
    bundler.stop();
}

/// An esbuild package whose version does not match its binary: the
/// handshake fails and the error says what to do.
#[cfg(unix)]
#[tokio::test]
async fn mismatched_esbuild_binary_is_a_setup_error() {
    let shared = npm_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_files(
        root,
        &[
            ("package.json", PACKAGE_JSON),
            ("convex/a.ts", QUERY),
            (
                "node_modules/convex/package.json",
                r#"{"version":"1.48.0"}"#,
            ),
            (
                "node_modules/esbuild/package.json",
                r#"{"version":"0.26.0"}"#,
            ),
        ],
    );
    std::fs::create_dir_all(root.join("node_modules/@esbuild")).unwrap();
    for entry in std::fs::read_dir(shared.join("@esbuild")).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(
            entry.path(),
            root.join("node_modules/@esbuild").join(entry.file_name()),
        )
        .unwrap();
    }
    let config = ProjectConfig::read(root).unwrap();
    let bundler = Bundler::start(root, None).unwrap();
    assert_eq!(bundler.esbuild().version, "0.26.0");
    // A project without `convex.config` needs no esbuild for its component
    // graph; the first build fails.
    let options = BundleOptions::default();
    let graph = bundler.component_graph(&config, &options).await.unwrap();
    let err = bundler
        .bundle_app(&config, &graph, &options)
        .await
        .unwrap_err();
    assert_eq!(err.kind, BundleErrorKind::Setup, "{err}");
    assert!(err.to_string().contains("0.26.0"), "{err}");
    bundler.stop();
}
