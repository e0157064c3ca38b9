//! Bundling of Convex functions with the project's own esbuild, driven
//! through esbuild's stdin/stdout service protocol. The output is
//! byte-identical to the official CLI's (same esbuild, same options, same
//! plugins), so module hashes match and unchanged modules are not re-sent.
//!
//! Use from the push pipeline (see `docs/bundler.md` for the whole picture):
//!
//! ```no_run
//! # async fn push(root: &std::path::Path) -> anyhow::Result<()> {
//! use convex_cli::bundler::{BundleOptions, Bundler};
//! use convex_cli::project::ProjectConfig;
//!
//! let config = ProjectConfig::read(root)?;
//! // Starts esbuild in the background; keep it for the whole run (`dev`
//! // reuses it for every rebuild).
//! let bundler = Bundler::start(root, None)?;
//! let options = BundleOptions::default();
//! let graph = bundler.component_graph(&config, &options).await?;
//! // ... initial codegen for `graph.components` ...
//! let app = bundler.bundle_app(&config, &graph, &options).await?;
//! // app.definition, app.schema, app.functions, app.node_dependencies,
//! // app.components[..] go into the StartPushRequest.
//! bundler.stop();
//! # Ok(()) }
//! ```

mod build;
pub mod cache;
mod components;
mod debug_bundle;
mod directives;
mod entry_points;
mod error;
mod esbuild;
mod externals;
pub mod fingerprint;
mod plugins;
mod service;

pub use cache::BuildCache;
pub use components::{
    ComponentDirectory, ComponentGraph, DefinitionModule, is_component_directory,
    qualified_definition_path, relative_path, synthetic_root, to_component_definition_path,
};
pub use debug_bundle::{DebugBundle, write_debug_bundle};
pub use directives::has_use_node_directive;
pub use entry_points::{
    EntryPoints, Environment, determine_environment, entry_points, entry_points_by_environment,
};
pub use error::{BundleError, BundleErrorKind, BundleResult};
pub use esbuild::{
    EsbuildBinary, go_gc_target_is_ours, hide_esbuild_gc_target, hide_esbuild_gc_target_std,
    locate as locate_esbuild, node_modules_dirs, raise_esbuild_gc_target, resolve_package,
};
pub use externals::{NodeDependency, compute_external_packages, should_mark_external};
pub use plugins::definition_import_path;

use crate::project::ProjectConfig;
use build::{FunctionBuild, FunctionBuildOutput, run_function_build};
use futures_util::future::join_all;
use plugins::Platform;
use serde::Serialize;
use service::{EsbuildStart, Service, ServiceThread};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Prints a warning line on stderr.
pub(crate) fn warn(message: &str) {
    eprintln!("{message}");
}

/// One bundled module as pushed: `path` is posix, relative to its component
/// directory, and ends in `.js` (`messages.js`, `lib/util.js`,
/// `_deps/ABCD1234.js`, `_deps/node/EFGH5678.js`, `auth.config.js`,
/// `schema.js`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub source: String,
    /// esbuild's source map (JSON text), when there is one.
    pub source_map: Option<String>,
    pub environment: Environment,
}

/// Serialises as the push protocol's module object, in the reference's key
/// order: `{path, source, environment, sourceMap?}`.
impl Serialize for Module {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("path", &self.path)?;
        map.serialize_entry("source", &self.source)?;
        map.serialize_entry("environment", &self.environment)?;
        if let Some(source_map) = &self.source_map {
            map.serialize_entry("sourceMap", source_map)?;
        }
        map.end()
    }
}

/// Options of one push that affect bundling.
#[derive(Debug, Clone, Default)]
pub struct BundleOptions {
    /// `--live-component-sources`: resolve component packages to their
    /// sources (adds the esbuild condition `@convex-dev/component-source`).
    pub live_component_sources: bool,
    /// Start esbuild, if it is not running yet, on one thread
    /// (`GOMAXPROCS=1`, unless the user set `GOMAXPROCS`). For a one-shot
    /// push on two cores while TypeScript 7's single-threaded compiler checks
    /// beside it: each then has a core, where two esbuild threads would take
    /// turns with the compiler, and the push, which waits for both, ends
    /// ~10% sooner (see docs/performance.md). Not for a
    /// long-lived esbuild (`dev`): alone, one thread bundles ~40% slower.
    pub one_esbuild_thread: bool,
    /// Start esbuild, if it is not running yet, for this push alone (a
    /// one-shot `deploy` or `codegen`): its garbage collector then waits for
    /// a memory limit (`GOGC=off`, `GOMEMLIMIT=1GiB`) instead of running
    /// every few MiB, as nearly everything a push's builds allocate stays
    /// live until they end. Unless the user set `GOGC`; a `GOMEMLIMIT` of
    /// theirs stays. Not for a long-lived esbuild (`dev`), whose memory
    /// would grow up to the limit.
    pub one_shot_esbuild: bool,
}

impl BundleOptions {
    fn extra_conditions(&self) -> Vec<String> {
        if self.live_component_sources {
            vec!["@convex-dev/component-source".to_string()]
        } else {
            Vec::new()
        }
    }
}

/// Everything one push sends for one non-root component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentBundle {
    /// Posix path from the app's functions directory to the component's.
    pub definition_path: String,
    pub definition: DefinitionModule,
    /// Definition paths of the components this one's definition uses.
    pub dependencies: Vec<String>,
    pub schema: Option<Module>,
    /// All its function modules (components are never hashed).
    pub functions: Vec<Module>,
}

/// Everything one push sends, bundled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppBundle {
    /// The app's `convex.config.js` (synthetic when it has none).
    pub definition: DefinitionModule,
    /// Definition paths of the components the app uses directly.
    pub dependencies: Vec<String>,
    pub schema: Option<Module>,
    /// Isolate modules, then Node.js modules, then `auth.config.js`.
    pub functions: Vec<Module>,
    /// Packages the server installs for the Node.js modules.
    pub node_dependencies: Vec<NodeDependency>,
    /// Non-root components, in discovery order.
    pub components: Vec<ComponentBundle>,
    /// Every file esbuild read (absolute), for `dev`'s watcher.
    pub input_files: Vec<PathBuf>,
}

/// Bundles for one component directory.
struct DirectoryBundle {
    schema: Option<Module>,
    functions: Vec<Module>,
    node_dependencies: Vec<NodeDependency>,
    inputs: Vec<PathBuf>,
}

/// The bundler: one esbuild service process for the whole run.
pub struct Bundler {
    service: ServiceThread,
    project_root: PathBuf,
    esbuild: EsbuildBinary,
    cache: Option<std::sync::Arc<BuildCache>>,
}

impl Bundler {
    /// Finds the project's esbuild (`esbuild_binary_path` is the value of
    /// `ESBUILD_BINARY_PATH`, when set) and starts it in the background.
    /// Fails with [`BundleErrorKind::Setup`] when `convex` or esbuild is not
    /// installed.
    pub fn start(project_root: &Path, esbuild_binary_path: Option<&Path>) -> BundleResult<Bundler> {
        Self::start_with(
            project_root,
            esbuild_binary_path,
            service::RECYCLE_AFTER_BYTES,
            None,
        )
    }

    /// [`Bundler::start`] with a build cache: builds whose inputs did not
    /// change are reused instead of run (see [`cache`]); esbuild itself then
    /// starts only when a build is needed.
    pub fn start_cached(
        project_root: &Path,
        esbuild_binary_path: Option<&Path>,
        cache: BuildCache,
    ) -> BundleResult<Bundler> {
        Self::start_with(
            project_root,
            esbuild_binary_path,
            service::RECYCLE_AFTER_BYTES,
            Some(cache),
        )
    }

    /// [`Bundler::start`] with a custom threshold for replacing the esbuild
    /// process (tests use a tiny one).
    #[doc(hidden)]
    pub fn start_with_recycle_limit(
        project_root: &Path,
        esbuild_binary_path: Option<&Path>,
        recycle_after_bytes: u64,
    ) -> BundleResult<Bundler> {
        Self::start_with(project_root, esbuild_binary_path, recycle_after_bytes, None)
    }

    fn start_with(
        project_root: &Path,
        esbuild_binary_path: Option<&Path>,
        recycle_after_bytes: u64,
        cache: Option<BuildCache>,
    ) -> BundleResult<Bundler> {
        let project_root = dunce::canonicalize(project_root).map_err(|err| {
            BundleError::setup(format!(
                "The project directory {} is not usable: {err}",
                project_root.display()
            ))
        })?;
        let esbuild = esbuild::locate(&project_root, esbuild_binary_path)?;
        let cache = cache.map(std::sync::Arc::new);
        let service = ServiceThread::spawn(
            esbuild.clone(),
            project_root.clone(),
            recycle_after_bytes,
            cache.clone(),
        )?;
        Ok(Bundler {
            service,
            project_root,
            esbuild,
            cache,
        })
    }

    /// How many builds the build cache answered so far (0 without one).
    pub fn cache_hits(&self) -> u64 {
        self.cache.as_ref().map_or(0, |c| c.hits())
    }

    /// The esbuild binary in use.
    pub fn esbuild(&self) -> &EsbuildBinary {
        &self.esbuild
    }

    /// The project root (absolute, symbolic links resolved).
    pub fn project_root(&self) -> &Path {
        &self.project_root
    }

    /// The root component directory: the functions directory.
    pub fn root_component(&self, config: &ProjectConfig) -> BundleResult<ComponentDirectory> {
        let functions_dir = config.functions_dir(&self.project_root);
        is_component_directory(&functions_dir, true).map_err(|why| {
            BundleError::invalid(format!(
                "Invalid component root directory ({why}): {}",
                functions_dir.display()
            ))
        })
    }

    /// The root of `codegen --component-dir <dir>`: a synthetic app in the
    /// functions directory that uses only the component in `component_dir`
    /// (relative to the project root, or absolute), which must hold a
    /// `convex.config.ts`. Pass it to [`Bundler::component_graph_from`].
    pub fn synthetic_root_component(
        &self,
        config: &ProjectConfig,
        component_dir: &Path,
    ) -> BundleResult<ComponentDirectory> {
        let functions_dir = config.functions_dir(&self.project_root);
        synthetic_root(&functions_dir, &self.project_root.join(component_dir))
            .map_err(BundleError::invalid)
    }

    /// Finds the app's components (step 1 of a push; codegen needs the
    /// result before anything else is bundled).
    pub async fn component_graph(
        &self,
        config: &ProjectConfig,
        options: &BundleOptions,
    ) -> BundleResult<ComponentGraph> {
        let root = self.root_component(config)?;
        self.component_graph_from(config, root, options).await
    }

    /// [`Bundler::component_graph`] from a given root (the one of
    /// [`Bundler::root_component`] or [`Bundler::synthetic_root_component`]).
    pub async fn component_graph_from(
        &self,
        config: &ProjectConfig,
        root: ComponentDirectory,
        options: &BundleOptions,
    ) -> BundleResult<ComponentGraph> {
        let functions_dir = config.functions_dir(&self.project_root);
        let live = options.live_component_sources;
        self.service
            .run(move |service| async move {
                components::discover(&service, root, &functions_dir, live).await
            })
            .await
    }

    /// Bundles everything a push sends: definitions, schemas and functions
    /// of the app and of every component. Independent esbuild builds run
    /// concurrently. With a synthetic root (`--component-dir`) the app has
    /// no code of its own: its schema, functions and node dependencies are
    /// empty.
    pub async fn bundle_app(
        &self,
        config: &ProjectConfig,
        graph: &ComponentGraph,
        options: &BundleOptions,
    ) -> BundleResult<AppBundle> {
        let graph = graph.clone();
        let external_allow_list = config.node.external_packages.clone();
        let include_sources_content = config.include_sources_content();
        let options = options.clone();
        self.service
            .run(move |service| async move {
                bundle_app_on(
                    service,
                    graph,
                    external_allow_list,
                    include_sources_content,
                    options,
                )
                .await
            })
            .await
    }

    /// What `--debug-bundle-path` writes: the root's modules bundled as the
    /// reference's debug path does (no `sourcesContent`, no extra
    /// conditions), plus the parsed config. Write it with
    /// [`write_debug_bundle`].
    pub async fn debug_bundle(&self, config: &ProjectConfig) -> BundleResult<DebugBundle> {
        let dir = config.functions_dir(&self.project_root);
        let allow_list = config.node.external_packages.clone();
        let (modules, node_dependencies) = self
            .service
            .run(move |service| async move {
                let entry_points = entry_points_by_environment(&dir)?;
                let params = DirectoryParams {
                    dir,
                    is_root: true,
                    external_allow_list: allow_list,
                    extra_conditions: Vec::new(),
                    include_sources_content: false,
                };
                let bundle = bundle_directory_code(&service, &params, entry_points).await?;
                Ok((bundle.functions, bundle.node_dependencies))
            })
            .await?;
        Ok(DebugBundle {
            project_config: config.to_reference_json(),
            modules,
            node_dependencies,
            udf_server_version: crate::REFERENCE_VERSION.to_string(),
            node_version: config.node.node_version.clone(),
        })
    }

    /// How many times the esbuild process was replaced (see
    /// `RECYCLE_AFTER_BYTES` in `service.rs`).
    #[doc(hidden)]
    pub async fn esbuild_generation(&self) -> BundleResult<u64> {
        self.service
            .run(|service| async move { Ok(service.generation()) })
            .await
    }

    /// Between builds, when none is coming soon (`dev` waiting for the next
    /// change): lets the service replace its esbuild process in the
    /// background, which frees the memory the esbuild client library keeps
    /// (every byte esbuild ever sent). Does not wait.
    pub fn release_memory(&self) {
        self.service.recycle_when_idle();
    }

    /// Stops esbuild and waits for it to exit.
    pub fn stop(mut self) {
        self.service.stop();
    }
}

struct DirectoryParams {
    dir: PathBuf,
    is_root: bool,
    external_allow_list: Vec<String>,
    extra_conditions: Vec<String>,
    include_sources_content: bool,
}

impl DirectoryParams {
    fn function_build(&self, entry_points: Vec<PathBuf>, platform: Platform) -> FunctionBuild {
        let node = platform == Platform::Node;
        FunctionBuild {
            dir: self.dir.clone(),
            entry_points,
            platform,
            chunks_folder: if node { "_deps/node" } else { "_deps" },
            external_allow_list: if node {
                self.external_allow_list.clone()
            } else {
                Vec::new()
            },
            extra_conditions: self.extra_conditions.clone(),
            include_sources_content: self.include_sources_content,
            splitting: true,
        }
    }
}

/// Isolate functions, Node.js functions and (root only) the auth config of
/// one directory, concurrently; errors are reported in the reference's order.
async fn bundle_directory_code(
    service: &Service,
    params: &DirectoryParams,
    entry_points: EntryPoints,
) -> BundleResult<DirectoryBundle> {
    let isolate = run_function_build(
        service,
        params.function_build(entry_points.isolate, Platform::Browser),
    );
    let node = run_function_build(
        service,
        params.function_build(entry_points.node, Platform::Node),
    );
    let auth = async {
        if params.is_root {
            bundle_auth_config(service, &params.dir).await
        } else {
            Ok(FunctionBuildOutput::default())
        }
    };
    let (isolate, node, auth) = tokio::join!(isolate, node, auth);
    let isolate = isolate?;
    if !isolate.external_dependencies.is_empty() {
        return Err(BundleError::internal(
            "external dependencies are not supported outside \"use node\" modules",
        ));
    }
    let node = node?;
    if !params.is_root && !node.modules.is_empty() {
        return Err(BundleError::invalid(format!(
            "\"use node\" is not supported in components yet. Remove it from the files of the \
             component at {}.",
            params.dir.display()
        )));
    }
    let auth = auth?;
    let mut inputs = isolate.inputs;
    inputs.extend(node.inputs);
    inputs.extend(auth.inputs);
    let mut functions = isolate.modules;
    functions.extend(node.modules);
    functions.extend(auth.modules);
    Ok(DirectoryBundle {
        schema: None,
        functions,
        node_dependencies: node.external_dependencies,
        inputs,
    })
}

/// `auth.config.ts` (else `.js`) as a single isolate module.
async fn bundle_auth_config(service: &Service, dir: &Path) -> BundleResult<FunctionBuildOutput> {
    let js = dir.join("auth.config.js");
    let ts = dir.join("auth.config.ts");
    if js.exists() && ts.exists() {
        return Err(BundleError::invalid(format!(
            "Found both {} and {}; keep only one of them.",
            js.display(),
            ts.display()
        )));
    }
    let chosen = if ts.exists() { ts } else { js };
    if !chosen.exists() {
        return Ok(FunctionBuildOutput::default());
    }
    run_function_build(
        service,
        FunctionBuild {
            dir: dir.to_path_buf(),
            entry_points: vec![chosen],
            platform: Platform::Browser,
            chunks_folder: "_deps",
            external_allow_list: Vec::new(),
            extra_conditions: Vec::new(),
            include_sources_content: false,
            // The auth config must be one module.
            splitting: false,
        },
    )
    .await
}

/// `schema.ts` (else `.js`) of a directory, when there is one.
async fn bundle_schema(
    service: &Service,
    dir: &Path,
    extra_conditions: &[String],
) -> BundleResult<Option<(Module, Vec<PathBuf>)>> {
    let ts = dir.join("schema.ts");
    let js = dir.join("schema.js");
    let target = if ts.exists() {
        ts
    } else if js.exists() {
        js
    } else {
        return Ok(None);
    };
    let output = run_function_build(
        service,
        FunctionBuild {
            dir: dir.to_path_buf(),
            entry_points: vec![target],
            platform: Platform::Browser,
            chunks_folder: "_deps",
            external_allow_list: Vec::new(),
            extra_conditions: extra_conditions.to_vec(),
            include_sources_content: false,
            splitting: true,
        },
    )
    .await?;
    Ok(output
        .modules
        .into_iter()
        .next()
        .map(|module| (module, output.inputs)))
}

/// Schema, entry points and code of one directory.
async fn bundle_directory(
    service: &Service,
    params: DirectoryParams,
) -> BundleResult<DirectoryBundle> {
    let schema = bundle_schema(service, &params.dir, &params.extra_conditions);
    let code = async {
        let entry_points = entry_points_by_environment(&params.dir)?;
        bundle_directory_code(service, &params, entry_points).await
    };
    let (schema, code) = tokio::join!(schema, code);
    let schema = schema?;
    let mut bundle = code?;
    if let Some((module, inputs)) = schema {
        bundle.schema = Some(module);
        bundle.inputs.extend(inputs);
    }
    Ok(bundle)
}

async fn bundle_app_on(
    service: Rc<Service>,
    graph: ComponentGraph,
    external_allow_list: Vec<String>,
    include_sources_content: bool,
    options: BundleOptions,
) -> BundleResult<AppBundle> {
    service.tune_next_start(EsbuildStart {
        one_thread: options.one_esbuild_thread,
        one_shot: options.one_shot_esbuild,
    });
    let extra_conditions = options.extra_conditions();
    let definitions =
        components::bundle_definitions(&service, &graph, options.live_component_sources);
    let synthetic = graph.root.synthetic_import.is_some();
    let mut directories = Vec::new();
    if !synthetic {
        directories.push(graph.root.clone());
    }
    directories.extend(
        graph
            .components
            .iter()
            .filter(|c| !c.is_root && c.synthetic_import.is_none())
            .cloned(),
    );
    let directory_builds = join_all(directories.iter().map(|directory| {
        bundle_directory(
            &service,
            DirectoryParams {
                dir: directory.path.clone(),
                is_root: directory.path == graph.root.path,
                external_allow_list: external_allow_list.clone(),
                extra_conditions: extra_conditions.clone(),
                include_sources_content,
            },
        )
    }));
    let (definitions, directory_builds) = tokio::join!(definitions, directory_builds);
    let (definitions, mut input_files) = definitions?;
    input_files.extend(graph.input_files.iter().cloned());

    let mut app = None;
    let mut components = Vec::new();
    for (directory, result) in directories.iter().zip(directory_builds) {
        let mut bundle = result?;
        input_files.append(&mut bundle.inputs);
        if directory.path == graph.root.path {
            app = Some(bundle);
            continue;
        }
        let position = graph
            .components
            .iter()
            .position(|c| c.path == directory.path)
            .ok_or_else(|| BundleError::internal("component vanished from the graph"))?;
        components.push(ComponentBundle {
            definition_path: to_component_definition_path(&graph.root, directory),
            definition: definitions[position].clone(),
            dependencies: graph.dependencies_of(directory),
            schema: bundle.schema,
            functions: bundle.functions,
        });
    }
    let app = match app {
        Some(app) => app,
        None if synthetic => DirectoryBundle {
            schema: None,
            functions: Vec::new(),
            node_dependencies: Vec::new(),
            inputs: Vec::new(),
        },
        None => return Err(BundleError::internal("no app implementation was bundled")),
    };
    let root_position = graph
        .components
        .iter()
        .position(|c| c.path == graph.root.path)
        .ok_or_else(|| BundleError::internal("found the wrong number of app definitions"))?;
    input_files.sort();
    input_files.dedup();
    Ok(AppBundle {
        definition: definitions[root_position].clone(),
        dependencies: graph.dependencies_of(&graph.components[root_position]),
        schema: app.schema,
        functions: app.functions,
        node_dependencies: app.node_dependencies,
        components,
        input_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The push pipeline may run on a multi-threaded runtime and keep the
    /// bundler in shared state: the bundler and its futures must be `Send`.
    #[allow(dead_code)]
    fn futures_are_send(
        bundler: &Bundler,
        config: &ProjectConfig,
        graph: &ComponentGraph,
        options: &BundleOptions,
    ) {
        fn send<F: Send>(_: F) {}
        send(bundler.component_graph(config, options));
        send(bundler.bundle_app(config, graph, options));
        send(bundler.debug_bundle(config));
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Bundler>();
        check::<AppBundle>();
        check::<ComponentGraph>();
        check::<BundleError>();
    }

    #[test]
    fn modules_serialise_in_the_reference_key_order() {
        let module = Module {
            path: "a.js".into(),
            source: "s".into(),
            source_map: Some("m".into()),
            environment: Environment::Node,
        };
        assert_eq!(
            serde_json::to_string(&module).unwrap(),
            r#"{"path":"a.js","source":"s","environment":"node","sourceMap":"m"}"#
        );
        let without_map = Module {
            source_map: None,
            ..module
        };
        assert_eq!(
            serde_json::to_string(&without_map).unwrap(),
            r#"{"path":"a.js","source":"s","environment":"node"}"#
        );
        let definition = DefinitionModule {
            path: "convex.config.js".into(),
            source: "d".into(),
            source_map: Some("m".into()),
        };
        assert_eq!(
            serde_json::to_string(&definition).unwrap(),
            r#"{"path":"convex.config.js","source":"d","sourceMap":"m","environment":"isolate"}"#
        );
    }
}
