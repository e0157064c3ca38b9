//! Component directories, the component graph (found through the imports of
//! `convex.config.*` files) and the definition bundles.

use super::build::{check_inputs_unchanged, log_flags, print_warnings, to_posix};
use super::error::{BundleError, BundleResult};
use super::plugins::{self, ConfigImports, VIRTUAL_CONFIG_NAMESPACE};
use super::service::{BuildFailure, BuildSpec, Service};
use crate::project::normalize;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const DEFINITION_FILENAME_TS: &str = "convex.config.ts";
const DEFINITION_FILENAME_JS: &str = "convex.config.js";

/// A component definition's directory on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentDirectory {
    /// The app's own functions directory.
    pub is_root: bool,
    /// Absolute path of the directory.
    pub path: PathBuf,
    /// Absolute path of its `convex.config.ts` (preferred) or
    /// `convex.config.js`; for a root without config, the `.js` path that
    /// does not exist.
    pub definition_path: PathBuf,
    /// The root has no `convex.config.*`: a synthetic `defineApp()` is used.
    pub is_root_without_config: bool,
    /// How a parent imported it, with `/convex.config…` removed
    /// (`@convex-dev/workpool`, `./counter`); `None` when not imported.
    pub import_specifier: Option<String>,
    /// For the synthetic root of `codegen --component-dir`: the
    /// `convex.config.ts` of the one component the synthetic app uses.
    pub synthetic_import: Option<PathBuf>,
}

impl ComponentDirectory {
    /// A non-root component whose definition is a `.js` file: a published
    /// package, for which no code is generated.
    pub fn is_published_package(&self) -> bool {
        !self.is_root && self.definition_path.extension().is_some_and(|e| e == "js")
    }
}

/// Describes `directory` as a component directory, or says why it is not one.
pub fn is_component_directory(
    directory: &Path,
    is_root: bool,
) -> Result<ComponentDirectory, String> {
    let path = normalize(directory);
    if !directory.exists() {
        return Ok(ComponentDirectory {
            is_root,
            definition_path: path.join(DEFINITION_FILENAME_TS),
            path,
            is_root_without_config: true,
            import_specifier: None,
            synthetic_import: None,
        });
    }
    if !directory.is_dir() {
        return Err("Not a directory".into());
    }
    let mut filename = DEFINITION_FILENAME_TS;
    if !path.join(filename).exists() {
        filename = DEFINITION_FILENAME_JS;
    }
    let definition_path = path.join(filename);
    let is_root_without_config = !definition_path.exists();
    if !is_root_without_config && !definition_path.is_file() {
        return Err(format!("Component definition {filename} isn't a file"));
    }
    Ok(ComponentDirectory {
        is_root,
        path,
        definition_path,
        is_root_without_config,
        import_specifier: None,
        synthetic_import: None,
    })
}

/// The root used by `codegen --component-dir <dir>`: a synthetic app in the
/// functions directory whose only content is `app.use(<that component>)`.
pub fn synthetic_root(
    functions_dir: &Path,
    component_dir: &Path,
) -> Result<ComponentDirectory, String> {
    let component_config = normalize(component_dir).join(DEFINITION_FILENAME_TS);
    if !component_config.exists() {
        return Err(format!(
            "Only directories with convex.config.ts files are supported, this directory does \
             not: {}",
            normalize(component_dir).display()
        ));
    }
    let path = normalize(functions_dir);
    Ok(ComponentDirectory {
        is_root: true,
        definition_path: path.join(DEFINITION_FILENAME_TS),
        path,
        is_root_without_config: false,
        import_specifier: None,
        synthetic_import: Some(component_config),
    })
}

/// Node's `path.relative(from, to)` for absolute, normalised paths.
pub fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for component in &to[common..] {
        out.push(component.as_os_str());
    }
    out
}

/// The entry point esbuild is given for a definition: `./` plus the posix
/// path relative to the working directory.
pub fn qualified_definition_path(working_dir: &Path, directory: &ComponentDirectory) -> String {
    format!(
        "./{}",
        to_posix(&relative_path(working_dir, &directory.definition_path))
    )
}

/// A component's identity in a push: the posix path from the root's
/// directory to the component's directory (`counter`,
/// `../node_modules/@convex-dev/x/dist/component`).
pub fn to_component_definition_path(
    root: &ComponentDirectory,
    component: &ComponentDirectory,
) -> String {
    to_posix(&relative_path(&root.path, &component.path))
}

/// The components of an app and how their definitions import each other.
#[derive(Debug, Clone)]
pub struct ComponentGraph {
    pub root: ComponentDirectory,
    /// Every component directory, the root included, in discovery order.
    pub components: Vec<ComponentDirectory>,
    /// Import edges: (importing definition file, imported component
    /// directory), in discovery order (duplicates kept).
    pub edges: Vec<(PathBuf, PathBuf)>,
    /// Where the discovery build resolved each `convex.config` import.
    pub(crate) config_imports: Arc<ConfigImports>,
    /// Files read while discovering (for `dev`'s watcher).
    pub input_files: Vec<PathBuf>,
}

impl ComponentGraph {
    /// Component definition paths that `component`'s definition imports.
    pub fn dependencies_of(&self, component: &ComponentDirectory) -> Vec<String> {
        self.edges
            .iter()
            .filter(|(importer, _)| *importer == component.definition_path)
            .filter_map(|(_, imported)| self.components.iter().find(|c| &c.path == imported))
            .map(|imported| to_component_definition_path(&self.root, imported))
            .collect()
    }

    /// The graph of a root without `convex.config`: just the root.
    pub(crate) fn root_only(root: ComponentDirectory) -> ComponentGraph {
        ComponentGraph {
            components: vec![root.clone()],
            root,
            edges: Vec::new(),
            config_imports: Arc::new(ConfigImports::new()),
            input_files: Vec::new(),
        }
    }
}

fn shared_definition_flags(live_component_sources: bool) -> (Vec<String>, Vec<String>) {
    // Options are split around `sourcemap`, which each build sets itself, to
    // keep the order esbuild's JavaScript API sends them in.
    let before = vec![
        "--target=esnext".to_string(),
        "--format=esm".to_string(),
        "--platform=browser".to_string(),
        "--minify".to_string(),
        "--keep-names".to_string(),
    ];
    let mut conditions = vec!["convex", "module"];
    if live_component_sources {
        conditions.push("@convex-dev/component-source");
    }
    let after = vec![
        "--bundle".to_string(),
        "--metafile".to_string(),
        "--outdir=/".to_string(),
        "--outbase=/".to_string(),
        format!("--conditions={}", conditions.join(",")),
    ];
    (before, after)
}

fn describe_failure(failure: &BuildFailure) -> String {
    let mut lines = vec![format!(
        "esbuild failed: Build failed with {} error{}:",
        failure.errors.len(),
        if failure.errors.len() == 1 { "" } else { "s" }
    )];
    for error in &failure.errors {
        match &error.location {
            Some(loc) => lines.push(format!(
                "{}:{}:{}: ERROR: {}",
                loc.file, loc.line, loc.column, error.text
            )),
            None => lines.push(format!("ERROR: {}", error.text)),
        }
    }
    lines.join("\n")
}

fn skip_definition_input(key: &str) -> bool {
    Path::new(key)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("convex.config"))
        || key.contains("(disabled):")
        || key.starts_with("wasm-binary:")
        || key.starts_with("wasm-stub:")
}

/// Builds the component graph: one esbuild pass over the root's
/// `convex.config` whose metafile lists every definition it reaches.
pub(crate) async fn discover(
    service: &Service,
    root: ComponentDirectory,
    functions_dir: &Path,
    live_component_sources: bool,
) -> BundleResult<ComponentGraph> {
    if root.is_root_without_config && root.synthetic_import.is_none() {
        return Ok(ComponentGraph::root_only(root));
    }
    let working_dir = service.working_dir().to_path_buf();
    let (before, after) = shared_definition_flags(live_component_sources);
    // The reference also asks for an external source map here, but only
    // the metafile of this build is used, and its inputs and imports do not
    // depend on source maps: skipping them saves most of the printing.
    let mut flags = log_flags();
    flags.extend(before);
    flags.extend(after);
    let entry = qualified_definition_path(&working_dir, &root);
    // The reference's discovery plugin resolves config imports exactly as
    // esbuild does, so file imports need no plugin; the metafile records
    // the result either way. A synthetic root's virtual config needs one.
    let mut plugins = Vec::new();
    let mut virtual_root = None;
    if let Some(component_config) = &root.synthetic_import {
        let specifier = plugins::synthetic_import_specifier(&root.path, component_config);
        plugins.push(plugins::discover_synthetic_import(
            &specifier,
            component_config,
        ));
        plugins.push(plugins::virtual_config(
            &entry,
            &root.path,
            plugins::virtual_config_contents(Some(&specifier)),
        ));
        virtual_root = Some((format!("{VIRTUAL_CONFIG_NAMESPACE}:{entry}"), root.clone()));
    }
    let spec = BuildSpec::new(vec![entry], flags, plugins);
    let output = service
        .build(spec)
        .await?
        .map_err(|failure| BundleError::invalid(describe_failure(&failure)))?;
    print_warnings(&output.warnings);
    let input_files =
        check_inputs_unchanged(&working_dir, &output.metafile, skip_definition_input)?;
    let mut graph =
        component_graph_from_metafile(&working_dir, functions_dir, &output.metafile, virtual_root)?;
    graph.root = root;
    graph.input_files = input_files;
    Ok(graph)
}

/// The reference's `findComponentDependencies`: every metafile input whose
/// path contains `.config.` is a component definition; imports between them
/// are the edges.
fn component_graph_from_metafile(
    working_dir: &Path,
    functions_dir: &Path,
    metafile: &Value,
    virtual_root: Option<(String, ComponentDirectory)>,
) -> BundleResult<ComponentGraph> {
    let empty = serde_json::Map::new();
    let inputs = metafile
        .get("inputs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    // Virtual inputs (`namespace:path`) stay as written.
    let resolve = |key: &str| {
        if key.starts_with(&format!("{VIRTUAL_CONFIG_NAMESPACE}:")) {
            PathBuf::from(key)
        } else {
            normalize(&working_dir.join(key))
        }
    };

    // (resolved input path, component) in metafile order.
    let mut by_key: Vec<(PathBuf, ComponentDirectory)> = Vec::new();
    for key in inputs.keys().filter(|k| k.contains(".config.")) {
        if let Some((virtual_key, root)) = &virtual_root
            && key == virtual_key
        {
            by_key.push((PathBuf::from(key), root.clone()));
            continue;
        }
        let definition = resolve(key);
        let dir = definition.parent().unwrap_or(Path::new("/")).to_path_buf();
        let component = is_component_directory(&dir, dir == functions_dir).map_err(|why| {
            BundleError::invalid(format!(
                "Invalid component directory ({why}): {}",
                dir.display()
            ))
        })?;
        match by_key.iter_mut().find(|(k, _)| *k == definition) {
            Some(entry) => entry.1 = component,
            None => by_key.push((definition, component)),
        }
    }

    let mut edges = Vec::new();
    let mut config_imports = ConfigImports::new();
    for (key, input) in inputs {
        let importer = resolve(key);
        let imports = input
            .get("imports")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for import in &imports {
            let Some(path) = import.get("path").and_then(Value::as_str) else {
                continue;
            };
            if !path.contains(".config.") {
                continue;
            }
            let imported_file = resolve(path);
            if let Some(original) = import.get("original").and_then(Value::as_str) {
                config_imports.insert(
                    (importer.clone(), original.to_string()),
                    imported_file.clone(),
                );
            }
            if !key.contains(".config.") {
                continue;
            }
            let Some(position) = by_key.iter().position(|(k, _)| *k == imported_file) else {
                let known: Vec<String> = by_key
                    .iter()
                    .map(|(k, _)| k.display().to_string())
                    .collect();
                return Err(BundleError::invalid(format!(
                    "Didn't find {} in {}",
                    imported_file.display(),
                    known.join(",")
                )));
            };
            if let Some(original) = import.get("original").and_then(Value::as_str) {
                by_key[position].1.import_specifier = Some(strip_config_suffix(original));
            }
            let importer_component = by_key.iter().find(|(k, _)| *k == importer);
            if let Some((_, importer_component)) = importer_component {
                edges.push((
                    importer_component.definition_path.clone(),
                    by_key[position].1.path.clone(),
                ));
            }
        }
    }

    // One entry per directory: first position, last value (a JS Map).
    let mut components: Vec<ComponentDirectory> = Vec::new();
    for (_, component) in by_key {
        match components.iter_mut().find(|c| c.path == component.path) {
            Some(existing) => *existing = component,
            None => components.push(component),
        }
    }
    let root = components
        .iter()
        .find(|c| c.is_root)
        .cloned()
        .unwrap_or_else(|| {
            components
                .first()
                .cloned()
                .unwrap_or_else(|| ComponentDirectory {
                    is_root: true,
                    path: functions_dir.to_path_buf(),
                    definition_path: functions_dir.join(DEFINITION_FILENAME_TS),
                    is_root_without_config: false,
                    import_specifier: None,
                    synthetic_import: None,
                })
        });
    Ok(ComponentGraph {
        root,
        components,
        edges,
        config_imports: Arc::new(config_imports),
        input_files: Vec::new(),
    })
}

/// `@convex-dev/workpool/convex.config.js` → `@convex-dev/workpool`.
fn strip_config_suffix(specifier: &str) -> String {
    match specifier.find("/convex.config") {
        Some(index) => specifier[..index].to_string(),
        None => specifier.to_string(),
    }
}

/// One bundled definition (`convex.config.js`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionModule {
    /// Always `convex.config.js` (relative to the component directory).
    pub path: String,
    pub source: String,
    pub source_map: Option<String>,
}

impl Serialize for DefinitionModule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("path", &self.path)?;
        map.serialize_entry("source", &self.source)?;
        if let Some(source_map) = &self.source_map {
            map.serialize_entry("sourceMap", source_map)?;
        }
        map.serialize_entry("environment", "isolate")?;
        map.end()
    }
}

/// Bundles every component's definition in one esbuild pass. Returns the
/// definitions in `graph.components` order, and the files read.
pub(crate) async fn bundle_definitions(
    service: &Service,
    graph: &ComponentGraph,
    live_component_sources: bool,
) -> BundleResult<(Vec<DefinitionModule>, Vec<PathBuf>)> {
    let working_dir = service.working_dir().to_path_buf();
    let (before, after) = shared_definition_flags(live_component_sources);
    let mut flags = log_flags();
    flags.extend(before);
    flags.push("--sourcemap".into());
    flags.extend(after);

    let root = graph.root.clone();
    let resolve_component = move |resolved: &Path| {
        let parent = resolved.parent()?;
        let component = is_component_directory(parent, false).ok()?;
        Some(to_component_definition_path(&root, &component))
    };
    let mut plugins = vec![plugins::bundle_components(
        graph.config_imports.clone(),
        resolve_component,
        &graph.root.path.to_string_lossy(),
    )];
    if graph.root.is_root_without_config || graph.root.synthetic_import.is_some() {
        let specifier = graph
            .root
            .synthetic_import
            .as_ref()
            .map(|config| plugins::synthetic_import_specifier(&graph.root.path, config));
        plugins.push(plugins::virtual_config(
            &qualified_definition_path(&working_dir, &graph.root),
            &graph.root.path,
            plugins::virtual_config_contents(specifier.as_deref()),
        ));
    }
    let spec = BuildSpec::new(
        graph
            .components
            .iter()
            .map(|c| qualified_definition_path(&working_dir, c))
            .collect(),
        flags,
        plugins,
    );
    let output = service
        .build(spec)
        .await?
        .map_err(|failure| BundleError::invalid(describe_failure(&failure)))?;
    print_warnings(&output.warnings);
    let inputs = check_inputs_unchanged(&working_dir, &output.metafile, |key| {
        skip_definition_input(key) || key.starts_with(VIRTUAL_CONFIG_NAMESPACE)
    })?;

    let mut definitions = Vec::new();
    for component in &graph.components {
        let definition = component.definition_path.to_string_lossy();
        let stem = match definition.rfind('.') {
            Some(dot) => &definition[..dot],
            None => &definition[..],
        };
        let expected_js = PathBuf::from(format!("{stem}.js"));
        let expected_map = PathBuf::from(format!("{stem}.js.map"));
        let js = output
            .outputs
            .iter()
            .find(|o| o.path == expected_js)
            .ok_or_else(|| {
                BundleError::internal(format!(
                    "esbuild produced no {} (outputs: {})",
                    expected_js.display(),
                    output
                        .outputs
                        .iter()
                        .map(|o| o.path.display().to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ))
            })?;
        let map = output.outputs.iter().find(|o| o.path == expected_map);
        definitions.push(DefinitionModule {
            path: to_posix(&relative_path(&component.path, &js.path)),
            source: js.text.clone(),
            source_map: map.map(|m| m.text.clone()),
        });
    }
    Ok((definitions, inputs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_like_node() {
        assert_eq!(
            relative_path(Path::new("/a/b"), Path::new("/a/b/c/d")),
            PathBuf::from("c/d")
        );
        assert_eq!(
            relative_path(Path::new("/a/b/convex"), Path::new("/a/b/node_modules/x")),
            PathBuf::from("../node_modules/x")
        );
        assert_eq!(
            relative_path(Path::new("/a"), Path::new("/a")),
            PathBuf::new()
        );
    }

    #[test]
    fn component_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("convex");
        std::fs::create_dir_all(&dir).unwrap();
        let c = is_component_directory(&dir, true).unwrap();
        assert!(c.is_root_without_config);
        assert_eq!(c.definition_path, dir.join("convex.config.js"));
        std::fs::write(dir.join("convex.config.js"), "").unwrap();
        let c = is_component_directory(&dir, true).unwrap();
        assert!(!c.is_root_without_config);
        assert_eq!(c.definition_path, dir.join("convex.config.js"));
        std::fs::write(dir.join("convex.config.ts"), "").unwrap();
        let c = is_component_directory(&dir, true).unwrap();
        assert_eq!(c.definition_path, dir.join("convex.config.ts"));
        let missing = is_component_directory(&tmp.path().join("nope"), true).unwrap();
        assert_eq!(
            missing.definition_path,
            tmp.path().join("nope/convex.config.ts")
        );
        assert!(is_component_directory(&dir.join("convex.config.ts"), false).is_err());
        assert_eq!(
            qualified_definition_path(tmp.path(), &c),
            "./convex/convex.config.ts"
        );
    }

    #[test]
    fn graph_from_a_metafile() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for dir in [
            "convex",
            "convex/counter",
            "node_modules/@x/y/dist/component",
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join("convex/convex.config.ts"), "").unwrap();
        std::fs::write(root.join("convex/counter/convex.config.ts"), "").unwrap();
        std::fs::write(
            root.join("node_modules/@x/y/dist/component/convex.config.js"),
            "",
        )
        .unwrap();
        let metafile = serde_json::json!({"inputs": {
            "node_modules/@x/y/dist/component/convex.config.js": {"bytes": 0, "imports": []},
            "convex/counter/convex.config.ts": {"bytes": 0, "imports": []},
            "convex/convex.config.ts": {"bytes": 0, "imports": [
                {"path": "node_modules/convex/dist/esm/server/index.js", "kind": "import-statement", "original": "convex/server"},
                {"path": "convex/counter/convex.config.ts", "kind": "import-statement", "original": "./counter/convex.config"},
                {"path": "node_modules/@x/y/dist/component/convex.config.js", "kind": "import-statement", "original": "@x/y/convex.config.js"}
            ]}
        }});
        let functions_dir = root.join("convex");
        let graph = component_graph_from_metafile(root, &functions_dir, &metafile, None).unwrap();
        let paths: Vec<String> = graph
            .components
            .iter()
            .map(|c| to_component_definition_path(&graph.root, c))
            .collect();
        assert_eq!(
            paths,
            vec!["../node_modules/@x/y/dist/component", "counter", ""]
        );
        assert!(graph.root.is_root);
        assert_eq!(
            graph.dependencies_of(&graph.root),
            vec!["counter", "../node_modules/@x/y/dist/component"]
        );
        assert_eq!(
            graph.components[0].import_specifier.as_deref(),
            Some("@x/y")
        );
        assert_eq!(
            graph.components[1].import_specifier.as_deref(),
            Some("./counter")
        );
        assert!(graph.components[0].is_published_package());
        assert!(!graph.components[1].is_published_package());
        assert_eq!(
            graph.config_imports.get(&(
                root.join("convex/convex.config.ts"),
                "./counter/convex.config".to_string()
            )),
            Some(&root.join("convex/counter/convex.config.ts"))
        );
    }
}
