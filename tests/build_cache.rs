//! The build cache never changes a bundle: after random edits of a project
//! (function files, shared code outside the functions folder, a shadowing
//! file, a local package's `package.json`, `tsconfig.json` paths, a
//! component, a `"use node"` directive, the schema, a touch without a
//! change), a bundler with a cache (kept in memory between pushes, or read
//! back from disk by a new bundler) gives exactly what a fresh bundler
//! without a cache gives.

mod support;

use convex_cli::bundler::{AppBundle, BuildCache, BundleOptions, Bundler};
use convex_cli::project::ProjectConfig;
use proptest::prelude::*;
use std::path::Path;
use support::{make_project, write_files};

const PACKAGE_JSON: &str = r#"{"name":"t","private":true,"dependencies":{"convex":"1.48.0"}}"#;

const SERVER: &str = "export {\n  queryGeneric as query,\n  mutationGeneric as mutation,\n  actionGeneric as action,\n} from \"convex/server\";\n";

fn base_files() -> Vec<(&'static str, String)> {
    vec![
        ("package.json", PACKAGE_JSON.to_string()),
        (
            "tsconfig.json",
            r#"{"compilerOptions": {"paths": {"@shared/*": ["./shared/*"]}}}"#.to_string(),
        ),
        ("convex/_generated/server.js", SERVER.to_string()),
        ("convex/counter/_generated/server.js", SERVER.to_string()),
        (
            "convex/convex.config.ts",
            "import { defineApp } from \"convex/server\";\nimport counter from \"./counter/convex.config\";\nconst app = defineApp();\napp.use(counter);\nexport default app;\n".to_string(),
        ),
        (
            "convex/counter/convex.config.ts",
            "import { defineComponent } from \"convex/server\";\nexport default defineComponent(\"counter\");\n".to_string(),
        ),
        (
            "convex/counter/lib.ts",
            "import { query } from \"./_generated/server\";\nexport const count = query({ args: {}, handler: async () => 1 });\n".to_string(),
        ),
        (
            "convex/schema.ts",
            "import { defineSchema, defineTable } from \"convex/server\";\nimport { v } from \"convex/values\";\nexport default defineSchema({ notes: defineTable({ body: v.string() }) });\n".to_string(),
        ),
        ("convex/notes.ts", function_file(0, "helpers")),
        ("convex/tags.ts", function_file(1, "@shared/helpers")),
        (
            "convex/act.ts",
            "\"use node\";\nimport { action } from \"./_generated/server\";\nimport { createHash } from \"node:crypto\";\nimport { pick } from \"localpkg\";\nexport const h = action({ args: {}, handler: async () => createHash(\"sha256\").digest(\"hex\") + pick() });\n".to_string(),
        ),
        (
            "shared/helpers.ts",
            "export function greet(name: string) { return `hello ${name}`; }\n".to_string(),
        ),
        (
            "node_modules/localpkg/package.json",
            r#"{"name":"localpkg","version":"1.0.0","main":"a.js"}"#.to_string(),
        ),
        (
            "node_modules/localpkg/a.js",
            "export function pick() { return \"a\"; }\n".to_string(),
        ),
        (
            "node_modules/localpkg/b.js",
            "export function pick() { return \"b\"; }\n".to_string(),
        ),
    ]
}

fn function_file(n: u32, helpers: &str) -> String {
    let import = if helpers == "helpers" {
        "../shared/helpers"
    } else {
        helpers
    };
    format!(
        "import {{ query }} from \"./_generated/server\";\nimport {{ greet }} from \"{import}\";\nexport const get{n} = query({{ args: {{}}, handler: async () => greet(\"{n}\") }});\n"
    )
}

#[derive(Debug, Clone)]
enum Edit {
    /// Rewrite a function file with another constant.
    ChangeFunction(u32),
    /// Add (or rewrite) a new function file.
    AddFunction(u32),
    /// Remove an added function file.
    RemoveFunction(u32),
    /// Change shared code outside the functions folder.
    ChangeShared(u32),
    /// A `.tsx` beside `shared/helpers.ts`, which esbuild prefers.
    ShadowShared,
    UnshadowShared,
    /// Point the local package's `main` at the other file.
    SwitchPackageMain,
    /// Re-point the tsconfig `paths` alias.
    SwitchTsconfigPaths,
    /// Change the component's function.
    ChangeComponent(u32),
    /// Add or drop `"use node"` in a function file.
    ToggleUseNode,
    ChangeSchema(u32),
    /// Rewrite a file with the same bytes (only its time changes).
    Touch,
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0u32..5).prop_map(Edit::ChangeFunction),
        (0u32..3).prop_map(Edit::AddFunction),
        (0u32..3).prop_map(Edit::RemoveFunction),
        (0u32..5).prop_map(Edit::ChangeShared),
        Just(Edit::ShadowShared),
        Just(Edit::UnshadowShared),
        Just(Edit::SwitchPackageMain),
        Just(Edit::SwitchTsconfigPaths),
        (0u32..5).prop_map(Edit::ChangeComponent),
        Just(Edit::ToggleUseNode),
        (0u32..3).prop_map(Edit::ChangeSchema),
        Just(Edit::Touch),
    ]
}

fn apply(root: &Path, edit: &Edit) {
    let write = |rel: &str, text: &str| write_files(root, &[(rel, text)]);
    let read = |rel: &str| std::fs::read_to_string(root.join(rel)).unwrap_or_default();
    match edit {
        Edit::ChangeFunction(n) => write(
            "convex/notes.ts",
            &function_file(0, "helpers").replace("greet(\"0\")", &format!("greet(\"v{n}\")")),
        ),
        Edit::AddFunction(n) => write(
            &format!("convex/extra{n}.ts"),
            &function_file(10 + n, "helpers"),
        ),
        Edit::RemoveFunction(n) => {
            let _ = std::fs::remove_file(root.join(format!("convex/extra{n}.ts")));
        }
        Edit::ChangeShared(n) => write(
            "shared/helpers.ts",
            &format!("export function greet(name: string) {{ return `hello{n} ${{name}}`; }}\n"),
        ),
        Edit::ShadowShared => write(
            "shared/helpers.tsx",
            "export function greet(name: string) { return `shadow ${name}`; }\n",
        ),
        Edit::UnshadowShared => {
            let _ = std::fs::remove_file(root.join("shared/helpers.tsx"));
        }
        Edit::SwitchPackageMain => {
            let text = read("node_modules/localpkg/package.json");
            let next = if text.contains("a.js") {
                text.replace("a.js", "b.js")
            } else {
                text.replace("b.js", "a.js")
            };
            write("node_modules/localpkg/package.json", &next);
        }
        Edit::SwitchTsconfigPaths => {
            let text = read("tsconfig.json");
            if text.contains("./shared/*") {
                write_files(
                    root,
                    &[(
                        "other/helpers.ts",
                        "export function greet(name: string) { return `other ${name}`; }\n",
                    )],
                );
                write("tsconfig.json", &text.replace("./shared/*", "./other/*"));
            } else {
                write("tsconfig.json", &text.replace("./other/*", "./shared/*"));
            }
        }
        Edit::ChangeComponent(n) => write(
            "convex/counter/lib.ts",
            &format!(
                "import {{ query }} from \"./_generated/server\";\nexport const count = query({{ args: {{}}, handler: async () => {n} }});\n"
            ),
        ),
        Edit::ToggleUseNode => {
            let text = read("convex/tags.ts");
            match text.strip_prefix("\"use node\";\n") {
                Some(rest) => write("convex/tags.ts", rest),
                None => write("convex/tags.ts", &format!("\"use node\";\n{text}")),
            }
        }
        Edit::ChangeSchema(n) => write(
            "convex/schema.ts",
            &format!(
                "import {{ defineSchema, defineTable }} from \"convex/server\";\nimport {{ v }} from \"convex/values\";\nexport default defineSchema({{ notes{n}: defineTable({{ body: v.string() }}) }});\n"
            ),
        ),
        Edit::Touch => {
            let text = read("convex/notes.ts");
            write("convex/notes.ts", &text);
        }
    }
}

async fn bundle_with(bundler: &Bundler, root: &Path) -> AppBundle {
    let config = ProjectConfig::read(root).unwrap();
    let options = BundleOptions::default();
    let graph = bundler.component_graph(&config, &options).await.unwrap();
    bundler.bundle_app(&config, &graph, &options).await.unwrap()
}

async fn fresh_bundle(root: &Path) -> AppBundle {
    let bundler = Bundler::start(root, None).unwrap();
    let app = bundle_with(&bundler, root).await;
    bundler.stop();
    app
}

/// Runs the edits; after each, the cached bundle must equal a fresh one.
/// `reopen[i]`: start a new cached bundler (reading the disk cache) before
/// step i. Returns how many builds the caches answered.
fn check(edits: &[Edit], reopen: &[bool]) -> u64 {
    let files = base_files();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let project = make_project(&borrowed);
    let root = std::fs::canonicalize(project.path()).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let open = || {
            Bundler::start_cached(
                &root,
                None,
                BuildCache::on_disk(cache_dir.path().to_path_buf()),
            )
            .unwrap()
        };
        let mut cached = open();
        let mut hits = 0;
        // Prime the cache with the unedited project.
        assert_eq!(bundle_with(&cached, &root).await, fresh_bundle(&root).await);
        for (i, edit) in edits.iter().enumerate() {
            apply(&root, edit);
            // Let the edit age past the "settled" margin, so the result
            // may be stored (and reused by later steps).
            std::thread::sleep(std::time::Duration::from_millis(30));
            if reopen.get(i).copied().unwrap_or(false) {
                hits += cached.cache_hits();
                cached.stop();
                cached = open();
            }
            let from_cache = bundle_with(&cached, &root).await;
            let fresh = fresh_bundle(&root).await;
            assert_eq!(
                from_cache,
                fresh,
                "cached and fresh bundles differ after {:?}",
                &edits[..=i]
            );
        }
        hits += cached.cache_hits();
        cached.stop();
        hits
    })
}

#[test]
fn every_edit_kind_once() {
    // A fixed walk through every kind of edit, in and across runs.
    let edits = vec![
        Edit::Touch,
        Edit::ChangeFunction(1),
        Edit::ShadowShared,
        Edit::ChangeShared(2),
        Edit::UnshadowShared,
        Edit::SwitchPackageMain,
        Edit::SwitchTsconfigPaths,
        Edit::AddFunction(0),
        Edit::ChangeComponent(3),
        Edit::ToggleUseNode,
        Edit::RemoveFunction(0),
        Edit::ChangeSchema(1),
        Edit::SwitchTsconfigPaths,
        Edit::SwitchPackageMain,
    ];
    let reopen: Vec<bool> = (0..edits.len()).map(|i| i % 3 == 2).collect();
    let hits = check(&edits, &reopen);
    // Most edits leave most of the five builds alone.
    assert!(hits >= 20, "only {hits} builds were reused");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 6,
        // Each case bundles a real project a few dozen times.
        max_shrink_iters: 8,
        ..ProptestConfig::default()
    })]

    #[test]
    fn cached_bundles_equal_fresh_ones(
        edits in proptest::collection::vec(edit_strategy(), 1..7),
        reopen in proptest::collection::vec(any::<bool>(), 7),
    ) {
        check(&edits, &reopen);
    }
}
