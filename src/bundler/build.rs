//! One esbuild invocation for function modules (the reference's `bundle()`):
//! options, plugins, error handling, the file-changed check and the
//! conversion of esbuild's output files into [`Module`]s.

use super::entry_points::Environment;
use super::error::{BundleError, BundleResult};
use super::externals::{NodeDependency, compute_external_packages, node_dependency_versions};
use super::plugins::{self, ExternalsRecord, Platform};
use super::service::{BuildFailure, BuildOutput, BuildSpec, Service};
use super::{Module, warn};
use esbuild_client::protocol::Message;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Log flags esbuild's JavaScript API sends for every build.
pub(crate) fn log_flags() -> Vec<String> {
    let mut flags = Vec::new();
    if std::io::stderr().is_terminal() {
        flags.push("--color=true".to_string());
    }
    flags.push("--log-level=warning".to_string());
    flags.push("--log-limit=0".to_string());
    flags
}

/// A request to bundle some entry points of one component directory.
#[derive(Debug, Clone)]
pub(crate) struct FunctionBuild {
    /// The component directory (esbuild's `outbase`), absolute.
    pub dir: PathBuf,
    pub entry_points: Vec<PathBuf>,
    pub platform: Platform,
    /// `_deps` or `_deps/node`.
    pub chunks_folder: &'static str,
    pub external_allow_list: Vec<String>,
    pub extra_conditions: Vec<String>,
    pub include_sources_content: bool,
    pub splitting: bool,
}

/// The result of a [`FunctionBuild`].
#[derive(Debug, Clone, Default)]
pub(crate) struct FunctionBuildOutput {
    pub modules: Vec<Module>,
    pub external_dependencies: Vec<NodeDependency>,
    /// Files esbuild read (for `dev`'s file watcher).
    pub inputs: Vec<PathBuf>,
}

impl FunctionBuild {
    fn flags(&self) -> Vec<String> {
        let mut flags = log_flags();
        flags.push(format!(
            "--sources-content={}",
            self.include_sources_content
        ));
        flags.push("--target=esnext".into());
        flags.push("--format=esm".into());
        flags.push(format!("--platform={}", self.platform.as_str()));
        flags.push("--minify-syntax".into());
        flags.push("--minify-identifiers".into());
        flags.push("--tree-shaking=true".into());
        flags.push("--jsx=automatic".into());
        flags.push("--define:process.env.NODE_ENV=\"production\"".into());
        flags.push("--keep-names".into());
        flags.push("--sourcemap".into());
        flags.push("--bundle".into());
        if self.splitting {
            flags.push("--splitting".into());
        }
        flags.push("--metafile".into());
        flags.push("--outdir=out".into());
        flags.push(format!("--outbase={}", self.dir.to_string_lossy()));
        flags.push(format!("--chunk-names={}/[hash]", self.chunks_folder));
        let mut conditions = vec!["convex".to_string(), "module".to_string()];
        conditions.extend(self.extra_conditions.iter().cloned());
        flags.push(format!("--conditions={}", conditions.join(",")));
        flags
    }
}

/// Metafile inputs that are virtual modules of our plugins, not files.
pub(crate) fn is_virtual_input(key: &str) -> bool {
    key.contains("(disabled):")
        || [
            "wasm-binary:",
            "wasm-stub:",
            "server-only-stub:",
            "async-hooks-shim:",
        ]
        .iter()
        .any(|prefix| key.starts_with(prefix))
}

/// Checks that every file esbuild read still has the size esbuild saw; a
/// change means an editor saved mid-build and the bundle may be torn.
/// Returns the absolute paths checked.
pub(crate) fn check_inputs_unchanged(
    working_dir: &Path,
    metafile: &Value,
    skip: impl Fn(&str) -> bool,
) -> BundleResult<Vec<PathBuf>> {
    let mut checked = Vec::new();
    let Some(inputs) = metafile.get("inputs").and_then(Value::as_object) else {
        return Ok(checked);
    };
    for (key, input) in inputs {
        if skip(key) {
            continue;
        }
        let path = crate::project::normalize(&working_dir.join(key));
        let expected = input.get("bytes").and_then(Value::as_u64);
        let actual = std::fs::metadata(&path).ok().map(|m| m.len());
        if actual.is_none() || actual != expected {
            warn(&format!(
                "Bundled file {} changed right after esbuild invocation",
                path.display()
            ));
            return Err(BundleError::transient(format!(
                "{} changed while it was being bundled; try again.",
                path.display()
            )));
        }
        checked.push(path);
    }
    Ok(checked)
}

pub(crate) fn print_warnings(warnings: &[Message]) {
    for warning in warnings {
        warn(&format!("esbuild warning: {}", warning.text));
    }
}

const NODE_HINT_NOTE: &str = "Are you trying to bundle for node?";

/// Turns a rejected build into our error, adding the "use node" hint when
/// an isolate build failed on a Node.js built-in.
fn build_failure(failure: BuildFailure, platform: Platform) -> BundleError {
    let wants_node = platform != Platform::Node
        && failure
            .errors
            .iter()
            .any(|e| e.notes.iter().any(|n| n.text.contains(NODE_HINT_NOTE)));
    if wants_node {
        BundleError::invalid(
            "It looks like you are using Node APIs from a file without the \"use node\" \
             directive.\nMove the actions that use Node.js APIs into a file that starts with \
             \"use node\" (and contains only actions) so they run in the Node.js runtime.\n\
             See https://docs.convex.dev/functions/runtimes#nodejs-runtime",
        )
    } else {
        BundleError::printed_by_esbuild()
    }
}

/// Posix form of a relative path.
pub(crate) fn to_posix(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Bundles the entry points of `build`.
pub(crate) async fn run_function_build(
    service: &Service,
    build: FunctionBuild,
) -> BundleResult<FunctionBuildOutput> {
    let working_dir = service.working_dir().to_path_buf();
    let externals = compute_external_packages(&working_dir, &build.external_allow_list)?;
    if build.entry_points.is_empty() {
        // Nothing to bundle: esbuild would return nothing either.
        return Ok(FunctionBuildOutput::default());
    }
    let record = Rc::new(RefCell::new(ExternalsRecord::default()));
    let mut spec = BuildSpec::new(
        build
            .entry_points
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        build.flags(),
        vec![
            plugins::async_hooks_shim(build.platform),
            plugins::server_only_stub(),
            plugins::wasm(),
        ],
    );
    spec.state = Some(record.clone());
    // The externals plugin sees every import (a protocol round trip each);
    // with nothing to mark external it cannot change the output, so it is
    // only installed when there is an external set (the reference installs
    // it always). It goes before the wasm plugin, as in the reference.
    if !externals.is_empty() {
        spec.plugins.insert(
            2,
            plugins::node_externals(externals.clone(), working_dir.clone(), record.clone()),
        );
    }
    let BuildOutput {
        outputs,
        metafile,
        warnings,
        ..
    } = service
        .build(spec)
        .await?
        .map_err(|failure| build_failure(failure, build.platform))?;
    print_warnings(&warnings);
    let inputs = check_inputs_unchanged(&working_dir, &metafile, is_virtual_input)?;

    let out_dir = working_dir.join("out");
    let environment = match build.platform {
        Platform::Node => Environment::Node,
        Platform::Browser => Environment::Isolate,
    };
    let mut source_maps: HashMap<String, String> = HashMap::new();
    let mut modules = Vec::new();
    for file in outputs {
        let relative = file.path.strip_prefix(&out_dir).map_err(|_| {
            BundleError::internal(format!(
                "esbuild wrote {} outside {}",
                file.path.display(),
                out_dir.display()
            ))
        })?;
        let path = to_posix(relative);
        if path.ends_with(".map") {
            source_maps.insert(path, file.text);
        } else {
            modules.push(Module {
                path,
                source: file.text,
                source_map: None,
                environment,
            });
        }
    }
    for module in &mut modules {
        if let Some(map) = source_maps.remove(&format!("{}.map", module.path))
            && !map.is_empty()
        {
            module.source_map = Some(map);
        }
    }
    let referenced = record.borrow().external.clone();
    let external_dependencies = node_dependency_versions(&externals, &referenced)?;
    Ok(FunctionBuildOutput {
        modules,
        external_dependencies,
        inputs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_build_flags_match_the_reference_options() {
        let build = FunctionBuild {
            dir: PathBuf::from("/p/convex"),
            entry_points: vec![],
            platform: Platform::Node,
            chunks_folder: "_deps/node",
            external_allow_list: vec![],
            extra_conditions: vec!["@convex-dev/component-source".into()],
            include_sources_content: true,
            splitting: true,
        };
        let flags = build.flags();
        let without_color: Vec<&str> = flags
            .iter()
            .map(String::as_str)
            .filter(|f| !f.starts_with("--color"))
            .collect();
        assert_eq!(
            without_color,
            vec![
                "--log-level=warning",
                "--log-limit=0",
                "--sources-content=true",
                "--target=esnext",
                "--format=esm",
                "--platform=node",
                "--minify-syntax",
                "--minify-identifiers",
                "--tree-shaking=true",
                "--jsx=automatic",
                "--define:process.env.NODE_ENV=\"production\"",
                "--keep-names",
                "--sourcemap",
                "--bundle",
                "--splitting",
                "--metafile",
                "--outdir=out",
                "--outbase=/p/convex",
                "--chunk-names=_deps/node/[hash]",
                "--conditions=convex,module,@convex-dev/component-source",
            ]
        );
    }

    #[test]
    fn virtual_inputs_are_not_stat_checked() {
        assert!(is_virtual_input("wasm-stub:/a/b.wasm"));
        assert!(is_virtual_input("async-hooks-shim:async_hooks"));
        assert!(is_virtual_input("server-only-stub:server-only"));
        assert!(is_virtual_input("node_modules/x/(disabled):fs"));
        assert!(!is_virtual_input("convex/messages.ts"));
    }

    #[test]
    fn changed_files_are_transient_errors() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a.ts"), "12345").unwrap();
        let ok = serde_json::json!({"inputs": {"a.ts": {"bytes": 5, "imports": []}}});
        let checked = check_inputs_unchanged(tmp.path(), &ok, is_virtual_input).unwrap();
        assert_eq!(checked, vec![tmp.path().join("a.ts")]);
        let changed = serde_json::json!({"inputs": {"a.ts": {"bytes": 4, "imports": []}}});
        let err = check_inputs_unchanged(tmp.path(), &changed, is_virtual_input).unwrap_err();
        assert_eq!(err.kind, super::super::error::BundleErrorKind::Transient);
    }
}
