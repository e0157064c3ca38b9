//! The one place the push pipeline calls [`crate::codegen`]: the initial
//! (stub) phase before bundling, the final phase from the `start_push`
//! analysis, and the local prediction of the final phase that lets the
//! typecheck run before `start_push`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::error::{PushError, PushResult};
use super::output::PushOutput;
use crate::bundler::{ComponentDirectory, ComponentGraph};
use crate::codegen::{self, Analysis, ComponentDir, WriteMode};
use crate::project::{CodegenFileType, ProjectConfig};

/// How generated files are handled in this push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodegenWrites {
    /// Write changed files.
    Write,
    /// List what would change on stdout (`--dry-run`).
    DryRun,
    /// Print every file on stdout instead of writing (`--debug`).
    Debug,
}

/// Codegen settings for one push.
#[derive(Debug, Clone)]
pub struct CodegenSettings {
    pub options: codegen::Options,
}

impl CodegenSettings {
    pub fn new(config: &ProjectConfig, writes: CodegenWrites, commonjs: bool) -> CodegenSettings {
        CodegenSettings {
            options: codegen::Options {
                file_type: match config.codegen.file_type {
                    Some(CodegenFileType::Ts) => codegen::FileType::Ts,
                    _ => codegen::FileType::JsDts,
                },
                static_api: config.codegen.static_api,
                static_data_model: config.codegen.static_data_model,
                legacy_component_api: config.codegen.legacy_component_api == Some(true),
                generate_commonjs_api: config.generate_common_js_api || commonjs,
                mode: match writes {
                    CodegenWrites::Write => WriteMode::Write,
                    CodegenWrites::DryRun => WriteMode::DryRun,
                    CodegenWrites::Debug => WriteMode::Debug,
                },
            },
        }
    }

    /// Whether files really get written.
    pub fn writes(&self) -> bool {
        self.options.mode == WriteMode::Write
    }
}

fn component_dir(root: &Path, directory: &ComponentDirectory) -> ComponentDir {
    if directory.is_root {
        ComponentDir::root(&directory.path)
    } else {
        ComponentDir::child(
            root,
            &directory.path,
            directory.is_published_package(),
            directory.import_specifier.clone(),
        )
    }
}

/// The graph's directories as codegen sees them, root first.
pub fn component_dirs(graph: &ComponentGraph) -> Vec<ComponentDir> {
    let root = &graph.root.path;
    let mut dirs = vec![component_dir(root, &graph.root)];
    dirs.extend(
        graph
            .components
            .iter()
            .filter(|c| !c.is_root)
            .map(|c| component_dir(root, c)),
    );
    dirs
}

/// Whether codegen writes `directory`'s files: every directory, except
/// that `codegen --component-dir` (a synthetic root) writes only the one
/// component it names, not the root.
pub fn is_codegen_target(graph: &ComponentGraph, directory: &ComponentDirectory) -> bool {
    match &graph.root.synthetic_import {
        None => true,
        Some(component_config) => {
            !directory.is_root && &directory.definition_path == component_config
        }
    }
}

/// The directories codegen writes, root first (see [`is_codegen_target`]).
fn codegen_targets(graph: &ComponentGraph) -> Vec<ComponentDir> {
    let root = &graph.root.path;
    std::iter::once(&graph.root)
        .chain(graph.components.iter().filter(|c| !c.is_root))
        .filter(|c| is_codegen_target(graph, c))
        .map(|c| component_dir(root, c))
        .collect()
}

/// Runs a codegen call with stdout as the data sink and its notes going to
/// `output`.
fn with_output<T>(
    output: &dyn PushOutput,
    f: impl FnOnce(&mut codegen::Output<'_>) -> anyhow::Result<T>,
) -> PushResult<T> {
    let mut notes: Vec<u8> = Vec::new();
    let mut stdout = std::io::stdout().lock();
    let result = f(&mut codegen::Output {
        stdout: &mut stdout,
        stderr: &mut notes,
    });
    drop(stdout);
    for line in String::from_utf8_lossy(&notes).lines() {
        output.note(line);
    }
    result.map_err(|e| PushError::invalid_files(format!("Code generation failed: {e:#}")))
}

/// Initial codegen (root first, then each component), with stale-file
/// cleanup. Returns the files written.
pub fn initial(
    graph: &ComponentGraph,
    settings: &CodegenSettings,
    output: &dyn PushOutput,
) -> PushResult<Vec<PathBuf>> {
    let mut written = Vec::new();
    for dir in codegen_targets(graph) {
        written.extend(with_output(output, |out| {
            codegen::initial_codegen(&dir, &settings.options, out)
        })?);
    }
    Ok(written)
}

/// Function modules of a component directory, relative, with extensions.
fn modules_of(dir: &Path) -> PushResult<Vec<String>> {
    let entry_points = crate::bundler::entry_points(dir)?;
    Ok(entry_points
        .iter()
        .filter_map(|p| p.strip_prefix(dir).ok())
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect())
}

fn write_final(
    graph: &ComponentGraph,
    analysis: &Analysis,
    settings: &CodegenSettings,
    output: &dyn PushOutput,
) -> PushResult<Vec<PathBuf>> {
    let dirs = component_dirs(graph);
    let mut written = Vec::new();
    for dir in &codegen_targets(graph) {
        if dir.is_published_package() {
            continue;
        }
        let modules = modules_of(&dir.path)?;
        written.extend(with_output(output, |out| {
            codegen::final_codegen(dir, analysis, &modules, &dirs, &settings.options, out)
        })?);
    }
    Ok(written)
}

/// Final codegen from the `start_push` answer's `analysis`. Returns the
/// files that changed.
pub fn final_(
    graph: &ComponentGraph,
    analysis: &Value,
    settings: &CodegenSettings,
    output: &dyn PushOutput,
) -> PushResult<Vec<PathBuf>> {
    let analysis =
        Analysis::from_value(analysis).map_err(|e| PushError::fatal(format!("{e:#}")))?;
    write_final(graph, &analysis, settings, output)
}

/// Whether the final phase's output is known before `start_push`: an app
/// without `convex.config` (so no components and no declared environment
/// variables) and without the analysis-driven `staticApi` /
/// `staticDataModel` options.
pub fn final_is_predictable(graph: &ComponentGraph, config: &ProjectConfig) -> bool {
    graph.root.is_root_without_config
        && graph.components.iter().all(|c| c.is_root)
        && !config.codegen.static_api
        && !config.codegen.static_data_model
}

/// The analysis the server gives an app without `convex.config`, as far as
/// codegen reads it.
fn predicted_analysis() -> Analysis {
    Analysis::from_value(&json!({
        "": {
            "definition": {
                "path": "",
                "definitionType": {"type": "app"},
                "childComponents": [],
                "httpMounts": {},
                "exports": {"type": "branch", "branch": []}
            },
            "functions": {}
        }
    }))
    .expect("the predicted analysis is well-formed")
}

/// The predicted final files that differ from what is on disk, split into
/// declaration files (`.d.ts`, `.d.cts`, `.d.mts`: only the typecheck reads
/// them) and the others (which bundles may include). Only call when
/// [`final_is_predictable`].
pub struct PredictedFinal {
    pub declarations: Vec<(PathBuf, codegen::GeneratedFile)>,
    pub code: Vec<(PathBuf, codegen::GeneratedFile)>,
}

impl PredictedFinal {
    /// Whether writing [`PredictedFinal::declarations`] now, and the rest
    /// after bundling, gives the typecheck the final files: every changed
    /// code file has a declaration file beside it in the final set (`tsc`
    /// then reads the declaration, never the code).
    pub fn typecheck_can_start_early(&self) -> bool {
        self.code.iter().all(|(dir, file)| {
            let stem = file
                .name
                .strip_suffix(".js")
                .map(|s| format!("{s}.d.ts"))
                .or_else(|| file.name.strip_suffix(".cjs").map(|s| format!("{s}.d.cts")))
                .or_else(|| file.name.strip_suffix(".mjs").map(|s| format!("{s}.d.mts")));
            stem.is_some_and(|declaration| {
                dir.join(&declaration).is_file()
                    || self
                        .declarations
                        .iter()
                        .any(|(d, f)| d == dir && f.name == declaration)
            })
        })
    }

    /// Writes `files`; returns the paths written.
    pub fn write(
        files: &[(PathBuf, codegen::GeneratedFile)],
        settings: &CodegenSettings,
        output: &dyn PushOutput,
    ) -> PushResult<Vec<PathBuf>> {
        let mut written = Vec::new();
        for (dir, file) in files {
            written.extend(with_output(output, |out| {
                codegen::write_files(dir, std::slice::from_ref(file), settings.options.mode, out)
            })?);
        }
        Ok(written)
    }
}

/// What [`predicted_final`] would change, without writing anything.
pub fn predicted_final_changes(
    graph: &ComponentGraph,
    settings: &CodegenSettings,
) -> PushResult<PredictedFinal> {
    let analysis = predicted_analysis();
    let dirs = component_dirs(graph);
    let mut predicted = PredictedFinal {
        declarations: Vec::new(),
        code: Vec::new(),
    };
    for dir in &codegen_targets(graph) {
        if dir.is_published_package() {
            continue;
        }
        let modules = modules_of(&dir.path)?;
        let inputs = codegen::FinalInputs {
            analysis: &analysis,
            modules: &modules,
            has_schema: codegen::has_schema_file(&dir.path),
            components: &dirs,
        };
        let files = codegen::plan_final(dir, &inputs, &settings.options)
            .map_err(|e| PushError::invalid_files(format!("Code generation failed: {e:#}")))?;
        let generated = dir.generated_dir();
        for file in files {
            let path = generated.join(&file.name);
            if std::fs::read(&path).ok().as_deref() == Some(file.contents.as_bytes()) {
                continue;
            }
            let declaration = [".d.ts", ".d.cts", ".d.mts"]
                .iter()
                .any(|ext| file.name.ends_with(ext));
            if declaration {
                predicted.declarations.push((generated.clone(), file));
            } else {
                predicted.code.push((generated.clone(), file));
            }
        }
    }
    Ok(predicted)
}

/// Writes the final phase's files before `start_push` (only call when
/// [`final_is_predictable`]). Returns the files that changed.
pub fn predicted_final(
    graph: &ComponentGraph,
    settings: &CodegenSettings,
    output: &dyn PushOutput,
) -> PushResult<Vec<PathBuf>> {
    write_final(graph, &predicted_analysis(), settings, output)
}

/// `codegen --init`: `tsconfig.json` (and `README.md` for a new functions
/// directory).
pub fn init(
    functions_dir: &Path,
    settings: &CodegenSettings,
    output: &dyn PushOutput,
) -> PushResult<Vec<PathBuf>> {
    with_output(output, |out| {
        codegen::init_functions_dir(functions_dir, &settings.options, out)
    })
}

/// `codegen --system-udfs`: the offline legacy codegen of the functions dir.
pub fn system_udfs(
    functions_dir: &Path,
    settings: &CodegenSettings,
    output: &dyn PushOutput,
) -> PushResult<Vec<PathBuf>> {
    let modules = modules_of(functions_dir)?;
    with_output(output, |out| {
        codegen::system_udfs_codegen(functions_dir, &modules, &settings.options, out)
    })
}
