//! `convex/_generated/`: the initial stubs and the final, analysis-driven files.
//!
//! The files must be byte-identical to what the official CLI writes (after
//! its prettier pass), so users can mix this binary with `npx convex` and
//! "codegen, then `git diff --exit-code`" checks stay quiet. Fixed text lives
//! in `templates`; the parts that depend on the project are built as
//! TypeScript types (`ts_type`) and laid out by a prettier-compatible printer
//! (`doc`).
//!
//! Entry points, in the order a push calls them:
//! - [`initial_codegen`] for each component directory before bundling;
//! - [`final_codegen`] for each component directory after `start_push`,
//!   with the response's `analysis` ([`Analysis`]);
//! - [`init_functions_dir`] for `codegen --init`;
//! - [`system_udfs_codegen`] for the offline `codegen --system-udfs`.
//!
//! The `plan_*` functions are the pure halves: they return the files to
//! write; [`write_files`] applies write-if-changed, `--dry-run` and `--debug`.

mod analysis;
mod doc;
mod generate;
mod modules;
mod templates;
mod ts_type;
mod validator;
mod writer;

use anyhow::{Context as _, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub use analysis::{Analysis, ComponentAnalysis};
pub use modules::{compare_module_paths, compare_names, module_identifier, module_key};
pub use writer::{Output, WriteMode, write_files};

/// Name of the generated directory inside every component directory.
pub const GENERATED_DIR: &str = "_generated";

/// Which flavour of files the root component gets (`codegen.fileType`).
/// Non-root components always get TypeScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileType {
    /// `api.js` + `api.d.ts`, `server.js` + `server.d.ts`, `dataModel.d.ts`.
    #[default]
    JsDts,
    /// `api.ts`, `server.ts`, `dataModel.ts`.
    Ts,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub file_type: FileType,
    /// `codegen.staticApi`.
    pub static_api: bool,
    /// `codegen.staticDataModel`.
    pub static_data_model: bool,
    /// `codegen.legacyComponentApi: true`: inline child component APIs.
    pub legacy_component_api: bool,
    /// `generateCommonJSApi` in `convex.json`, or `codegen --commonjs`.
    pub generate_commonjs_api: bool,
    pub mode: WriteMode,
}

impl Options {
    /// The codegen settings of a parsed `convex.json` (missing keys take
    /// their defaults; validating the file is `project`'s job).
    pub fn from_convex_json(config: &Value) -> Options {
        let codegen = config.get("codegen");
        let flag = |name: &str| {
            codegen
                .and_then(|c| c.get(name))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        Options {
            file_type: match codegen
                .and_then(|c| c.get("fileType"))
                .and_then(Value::as_str)
            {
                Some("ts") => FileType::Ts,
                _ => FileType::JsDts,
            },
            static_api: flag("staticApi"),
            static_data_model: flag("staticDataModel"),
            legacy_component_api: flag("legacyComponentApi"),
            generate_commonjs_api: config
                .get("generateCommonJSApi")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            mode: WriteMode::Write,
        }
    }
}

/// One component directory of the project (the app's functions dir is the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentDir {
    /// Absolute path of the directory.
    pub path: PathBuf,
    pub is_root: bool,
    /// POSIX path relative to the root's directory (`""` for the root,
    /// `counter`, `../node_modules/@acme/x`): the key of `analysis`.
    pub definition_path: String,
    /// The definition file is `convex.config.js`, so for a non-root
    /// component this is an installed package whose code is never generated.
    pub definition_is_js: bool,
    /// The specifier `convex.config` imported it with, `/convex.config…` cut
    /// (`@acme/ratelimit`, `./counter`), when known.
    pub import_specifier: Option<String>,
}

impl ComponentDir {
    /// The app's functions directory.
    pub fn root(path: impl Into<PathBuf>) -> ComponentDir {
        ComponentDir {
            path: path.into(),
            is_root: true,
            definition_path: String::new(),
            definition_is_js: false,
            import_specifier: None,
        }
    }

    /// A child component directory; its definition path is computed
    /// lexically from the root's path.
    pub fn child(
        root: &Path,
        path: impl Into<PathBuf>,
        definition_is_js: bool,
        import_specifier: Option<String>,
    ) -> ComponentDir {
        let path = path.into();
        ComponentDir {
            definition_path: relative_posix_path(root, &path),
            path,
            is_root: false,
            definition_is_js,
            import_specifier,
        }
    }

    /// An installed component package: no code is generated for it.
    pub fn is_published_package(&self) -> bool {
        !self.is_root && self.definition_is_js
    }

    pub fn generated_dir(&self) -> PathBuf {
        self.path.join(GENERATED_DIR)
    }

    fn uses_typescript(&self, options: &Options) -> bool {
        !self.is_root || options.file_type == FileType::Ts
    }
}

/// `to` relative to `from`, with `/` separators, without touching the disk.
pub fn relative_posix_path(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// Whether a component directory has a schema (`schema.ts` or `schema.js`).
pub fn has_schema_file(component_dir: &Path) -> bool {
    component_dir.join("schema.ts").exists() || component_dir.join("schema.js").exists()
}

/// A file to write in a `_generated` directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name inside `_generated/`.
    pub name: String,
    pub contents: String,
}

fn file(name: &str, contents: String) -> GeneratedFile {
    GeneratedFile {
        name: name.to_string(),
        contents,
    }
}

/// What the initial phase writes, and which existing entries it keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitialPlan {
    pub files: Vec<GeneratedFile>,
    /// Entries of `_generated/` that survive the stale-file cleanup
    /// (written now or kept from an earlier run); `ai` always survives.
    pub keep: Vec<String>,
}

/// The initial (stub) phase for one component directory: just enough for the
/// functions to bundle. Files that may hold better types from an earlier
/// final phase are only written when missing (`exists` answers for names in
/// `_generated/`); the runtime `api.js` / `api_cjs.cjs` are always written.
pub fn plan_initial(
    component: &ComponentDir,
    has_schema: bool,
    options: &Options,
    exists: impl Fn(&str) -> bool,
) -> InitialPlan {
    let mut plan = InitialPlan::default();
    if component.is_published_package() {
        return plan;
    }
    let ts = component.uses_typescript(options);

    let data_model = if ts { "dataModel.ts" } else { "dataModel.d.ts" };
    if !exists(data_model) {
        let contents = if has_schema {
            generate::dynamic_data_model()
        } else {
            generate::no_schema_data_model()
        };
        plan.files.push(file(data_model, contents));
    }
    plan.keep.push(data_model.to_string());

    if ts {
        if !exists("server.ts") {
            let contents = if component.is_root {
                generate::server_ts(None)
            } else {
                generate::component_server_ts(None)
            };
            plan.files.push(file("server.ts", contents));
        }
        plan.keep.push("server.ts".to_string());
    } else {
        // Only `server.js` is checked: both are written together.
        if !exists("server.js") {
            plan.files
                .push(file("server.js", generate::server_js(false)));
            plan.files
                .push(file("server.d.ts", generate::server_dts(None)));
        }
        plan.keep.push("server.js".to_string());
        plan.keep.push("server.d.ts".to_string());
    }

    if ts {
        if !exists("api.ts") {
            plan.files.push(file("api.ts", generate::api_stub_ts()));
        }
        plan.keep.push("api.ts".to_string());
    } else {
        plan.files.push(file("api.js", generate::api_js()));
        if !exists("api.d.ts") {
            plan.files.push(file("api.d.ts", generate::api_stub_dts()));
        }
        plan.keep.push("api.js".to_string());
        plan.keep.push("api.d.ts".to_string());
        if options.generate_commonjs_api && component.is_root {
            plan.files.push(file("api_cjs.cjs", generate::api_cjs()));
            if !exists("api_cjs.d.cts") {
                plan.files
                    .push(file("api_cjs.d.cts", generate::api_stub_dts()));
            }
            plan.keep.push("api_cjs.cjs".to_string());
            plan.keep.push("api_cjs.d.cts".to_string());
        }
    }

    // `component.ts` is only made by the final phase; keep an earlier one.
    if !component.is_root && exists("component.ts") {
        plan.keep.push("component.ts".to_string());
    }
    plan
}

/// Inputs of the final phase for one component directory.
pub struct FinalInputs<'a> {
    /// The `analysis` of the `start_push` response.
    pub analysis: &'a Analysis,
    /// The component's function modules (entry points), relative to its
    /// directory, with their extensions (`lib/util.ts`).
    pub modules: &'a [String],
    pub has_schema: bool,
    /// Every component directory of the push (to find the import specifier
    /// of each child component).
    pub components: &'a [ComponentDir],
}

/// The final phase for one component directory, from the server's analysis.
pub fn plan_final(
    component: &ComponentDir,
    inputs: &FinalInputs<'_>,
    options: &Options,
) -> Result<Vec<GeneratedFile>> {
    if component.is_published_package() {
        return Ok(Vec::new());
    }
    let ts = component.uses_typescript(options);
    let analysis = inputs.analysis.get(&component.definition_path);
    let require_analysis = || {
        analysis.with_context(|| {
            let known: Vec<&str> = inputs.analysis.0.keys().map(String::as_str).collect();
            format!(
                "The server sent no analysis for component `{}` (it sent: {}).",
                component.definition_path,
                known.join(", ")
            )
        })
    };
    let mut files = Vec::new();

    let data_model = match (inputs.has_schema, options.static_data_model) {
        (true, true) => match &require_analysis()?.schema {
            Some(schema) => generate::static_data_model(schema)?,
            None => generate::no_schema_data_model(),
        },
        (true, false) => generate::dynamic_data_model(),
        (false, _) => generate::no_schema_data_model(),
    };
    files.push(file(
        if ts { "dataModel.ts" } else { "dataModel.d.ts" },
        data_model,
    ));

    if !component.is_root {
        files.push(file(
            "component.ts",
            generate::component_ts(require_analysis()?)?,
        ));
    }

    // Typed `env` even when the analysis declares nothing (platform variables).
    let declared = analysis
        .and_then(|a| a.definition.env_vars.as_deref())
        .unwrap_or(&[]);
    let env = generate::env_type(declared)?;
    if !component.is_root {
        files.push(file("server.ts", generate::component_server_ts(Some(&env))));
    } else if ts {
        files.push(file("server.ts", generate::server_ts(Some(&env))));
    } else {
        files.push(file("server.js", generate::server_js(true)));
        files.push(file("server.d.ts", generate::server_dts(Some(&env))));
    }

    let own = require_analysis()?;
    let children = generate::child_apis(
        inputs.analysis,
        own,
        |child_path| {
            inputs
                .components
                .iter()
                .find(|c| c.definition_path == child_path)
                .map(|c| c.import_specifier.clone())
        },
        options.legacy_component_api,
    )?;
    let shape = if options.static_api {
        generate::ApiShape::Static(own)
    } else {
        generate::ApiShape::Dynamic(inputs.modules)
    };
    if ts {
        files.push(file("api.ts", generate::api_ts(&shape, &children)?));
    } else {
        let api = generate::api_dts(&shape, &children)?;
        if options.generate_commonjs_api {
            files.push(file("api.d.ts", api.clone()));
            files.push(file("api_cjs.d.cts", api));
        } else {
            files.push(file("api.d.ts", api));
        }
    }
    Ok(files)
}

/// The legacy, offline codegen of `codegen --system-udfs`: everything is
/// rewritten, `api` has no `components`, `env` is untyped.
pub fn plan_system_udfs(modules: &[String], has_schema: bool, options: &Options) -> InitialPlan {
    let mut files = Vec::new();
    let ts = options.file_type == FileType::Ts;
    let data_model = if has_schema {
        generate::dynamic_data_model()
    } else {
        generate::no_schema_data_model()
    };
    if ts {
        files.push(file("dataModel.ts", data_model));
        files.push(file("server.ts", generate::server_ts(None)));
        files.push(file("api.ts", generate::legacy_api_ts(modules)));
    } else {
        files.push(file("dataModel.d.ts", data_model));
        files.push(file("server.js", generate::server_js(false)));
        files.push(file("server.d.ts", generate::server_dts(None)));
        files.push(file("api.js", generate::legacy_api_js()));
        files.push(file("api.d.ts", generate::legacy_api_dts(modules)));
        if options.generate_commonjs_api {
            files.push(file("api_cjs.cjs", generate::api_cjs()));
            files.push(file("api_cjs.d.cts", generate::legacy_api_dts(modules)));
        }
    }
    let keep = files.iter().map(|f| f.name.clone()).collect();
    InitialPlan { files, keep }
}

/// Deletes a `<functions dir>/_generated.ts` left by very old versions and
/// makes sure `_generated/` exists (not in dry-run or debug mode).
fn prepare(dir: &Path, options: &Options, out: &mut Output<'_>) -> Result<PathBuf> {
    let legacy = dir.join("_generated.ts");
    if legacy.exists() {
        if options.mode == WriteMode::DryRun {
            out.note(&format!(
                "Would delete the legacy generated file {}",
                legacy.display()
            ));
        } else {
            out.note(&format!(
                "Deleting the legacy generated file {} (newer versions generate _generated/ instead)",
                legacy.display()
            ));
            std::fs::remove_file(&legacy)
                .with_context(|| format!("could not delete {}", legacy.display()))?;
        }
    }
    let generated = dir.join(GENERATED_DIR);
    if options.mode == WriteMode::Write {
        std::fs::create_dir_all(&generated)
            .with_context(|| format!("could not create {}", generated.display()))?;
    }
    Ok(generated)
}

/// Initial codegen for one component directory (reads which files exist and
/// whether there is a schema), then removes stale entries of `_generated/`.
pub fn initial_codegen(
    component: &ComponentDir,
    options: &Options,
    out: &mut Output<'_>,
) -> Result<Vec<PathBuf>> {
    if component.is_published_package() {
        return Ok(Vec::new());
    }
    let generated = prepare(&component.path, options, out)?;
    let plan = plan_initial(
        component,
        has_schema_file(&component.path),
        options,
        |name| generated.join(name).exists(),
    );
    let changed = write_files(&generated, &plan.files, options.mode, out)?;
    writer::remove_stale_entries(&generated, &plan.keep, options.mode, out)?;
    Ok(changed)
}

/// Final codegen for one component directory from the `start_push` analysis.
pub fn final_codegen(
    component: &ComponentDir,
    analysis: &Analysis,
    modules: &[String],
    components: &[ComponentDir],
    options: &Options,
    out: &mut Output<'_>,
) -> Result<Vec<PathBuf>> {
    if component.is_published_package() {
        return Ok(Vec::new());
    }
    let inputs = FinalInputs {
        analysis,
        modules,
        has_schema: has_schema_file(&component.path),
        components,
    };
    let files = plan_final(component, &inputs, options)?;
    let generated = component.generated_dir();
    if options.mode == WriteMode::Write {
        std::fs::create_dir_all(&generated)
            .with_context(|| format!("could not create {}", generated.display()))?;
    }
    write_files(&generated, &files, options.mode, out)
}

/// `codegen --system-udfs`: the legacy offline codegen of the functions dir.
pub fn system_udfs_codegen(
    functions_dir: &Path,
    modules: &[String],
    options: &Options,
    out: &mut Output<'_>,
) -> Result<Vec<PathBuf>> {
    let generated = prepare(functions_dir, options, out)?;
    let plan = plan_system_udfs(modules, has_schema_file(functions_dir), options);
    let changed = write_files(&generated, &plan.files, options.mode, out)?;
    writer::remove_stale_entries(&generated, &plan.keep, options.mode, out)?;
    Ok(changed)
}

/// `codegen --init`: `tsconfig.json` in the functions dir unless one exists,
/// and `README.md` when the functions dir is new.
pub fn init_functions_dir(
    functions_dir: &Path,
    options: &Options,
    out: &mut Output<'_>,
) -> Result<Vec<PathBuf>> {
    let existed = functions_dir.exists();
    prepare(functions_dir, options, out)?;
    let mut files = Vec::new();
    if !existed {
        files.push(file("README.md", templates::README_MD.to_string()));
    }
    if !functions_dir.join("tsconfig.json").exists() {
        files.push(file("tsconfig.json", templates::TSCONFIG_JSON.to_string()));
    }
    write_files(functions_dir, &files, options.mode, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_lexical_and_posix() {
        let root = Path::new("/p/convex");
        assert_eq!(
            relative_posix_path(root, Path::new("/p/convex/counter")),
            "counter"
        );
        assert_eq!(
            relative_posix_path(root, Path::new("/p/components/notifier")),
            "../components/notifier"
        );
        assert_eq!(relative_posix_path(root, root), "");
    }

    #[test]
    fn options_from_convex_json() {
        let o = Options::from_convex_json(&serde_json::json!({
            "generateCommonJSApi": true,
            "codegen": {"staticApi": true, "fileType": "ts", "legacyComponentApi": true}
        }));
        assert_eq!(o.file_type, FileType::Ts);
        assert!(o.static_api && !o.static_data_model && o.legacy_component_api);
        assert!(o.generate_commonjs_api);
        let d = Options::from_convex_json(&serde_json::json!({}));
        assert_eq!(d.file_type, FileType::JsDts);
        assert!(!d.static_api && !d.generate_commonjs_api);
    }

    #[test]
    fn initial_plan_writes_stubs_only_when_missing() {
        let root = ComponentDir::root("/p/convex");
        let options = Options::default();
        let fresh = plan_initial(&root, true, &options, |_| false);
        let names: Vec<&str> = fresh.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "dataModel.d.ts",
                "server.js",
                "server.d.ts",
                "api.js",
                "api.d.ts"
            ]
        );
        let again = plan_initial(&root, true, &options, |_| true);
        let names: Vec<&str> = again.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["api.js"]);
        assert_eq!(again.keep, fresh.keep);
    }

    #[test]
    fn initial_plan_for_components_keeps_component_ts() {
        let child = ComponentDir::child(Path::new("/p/convex"), "/p/convex/counter", false, None);
        let plan = plan_initial(&child, false, &Options::default(), |name| {
            name == "component.ts"
        });
        let names: Vec<&str> = plan.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["dataModel.ts", "server.ts", "api.ts"]);
        assert!(plan.keep.contains(&"component.ts".to_string()));
        let package = ComponentDir::child(Path::new("/p/convex"), "/p/node_modules/x", true, None);
        assert_eq!(
            plan_initial(&package, false, &Options::default(), |_| false),
            InitialPlan::default()
        );
    }
}
