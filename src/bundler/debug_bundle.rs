//! `--debug-bundle-path <dir>`: the root's bundles written to disk.
//!
//! Layout (the reference's): `<dir>/fullConfig.json` holding
//! `{projectConfig, modules, nodeDependencies, udfServerVersion, nodeVersion?}`,
//! and each module at `<dir>/<environment>/<path>` (`isolate/messages.js`,
//! `node/_deps/node/X.js`) with its map next to it (`….js.map`).

use super::Module;
use super::error::{BundleError, BundleResult};
use super::externals::NodeDependency;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// What `--debug-bundle-path` writes (see [`super::Bundler::debug_bundle`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DebugBundle {
    /// `convex.json` as the reference serialises its parsed config.
    pub project_config: Value,
    pub modules: Vec<Module>,
    pub node_dependencies: Vec<NodeDependency>,
    pub udf_server_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_version: Option<String>,
}

fn io_error(path: &Path, err: std::io::Error) -> BundleError {
    BundleError::invalid(format!("Could not write {}: {err}", path.display()))
}

/// Writes `contents` to `path` through a temporary file in the same folder.
fn write_atomically(path: &Path, contents: &str) -> BundleResult<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&temp, contents).map_err(|err| io_error(&temp, err))?;
    std::fs::rename(&temp, path).map_err(|err| {
        let _ = std::fs::remove_file(&temp);
        io_error(path, err)
    })
}

/// Writes `bundle` into `dir`, which must be missing (its parent must
/// exist) or an empty directory.
pub fn write_debug_bundle(dir: &Path, bundle: &DebugBundle) -> BundleResult<()> {
    match std::fs::metadata(dir) {
        Err(_) => std::fs::create_dir(dir).map_err(|err| {
            BundleError::invalid(format!(
                "Could not create {} for `--debug-bundle-path`: {err}",
                dir.display()
            ))
        })?,
        Ok(meta) if !meta.is_dir() => {
            return Err(BundleError::invalid(format!(
                "`{}` is not a directory. Choose an empty directory for \
                 `--debug-bundle-path`.",
                dir.display()
            )));
        }
        Ok(_) => {
            let mut entries = std::fs::read_dir(dir).map_err(|err| io_error(dir, err))?;
            if entries.next().is_some() {
                return Err(BundleError::invalid(format!(
                    "Directory `{}` is not empty. Remove it or choose an empty directory for \
                     `--debug-bundle-path`.",
                    dir.display()
                )));
            }
        }
    }
    let full_config = serde_json::to_string(bundle)
        .map_err(|err| BundleError::internal(format!("Could not encode the config: {err}")))?;
    write_atomically(&dir.join("fullConfig.json"), &full_config)?;
    for module in &bundle.modules {
        let trimmed = module.path.strip_suffix(".js").unwrap_or(&module.path);
        let js_path = dir
            .join(module.environment.as_str())
            .join(format!("{trimmed}.js"));
        if let Some(parent) = js_path.parent() {
            std::fs::create_dir_all(parent).map_err(|err| io_error(parent, err))?;
        }
        write_atomically(&js_path, &module.source)?;
        if let Some(map) = &module.source_map {
            let map_path = dir
                .join(module.environment.as_str())
                .join(format!("{trimmed}.js.map"));
            write_atomically(&map_path, map)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundler::Environment;

    fn sample() -> DebugBundle {
        DebugBundle {
            project_config: serde_json::json!({"functions": "convex/"}),
            modules: vec![
                Module {
                    path: "lib/a.js".into(),
                    source: "A".into(),
                    source_map: Some("{}".into()),
                    environment: Environment::Isolate,
                },
                Module {
                    path: "_deps/node/X.js".into(),
                    source: "X".into(),
                    source_map: None,
                    environment: Environment::Node,
                },
            ],
            node_dependencies: vec![NodeDependency {
                name: "ws".into(),
                version: "8.0.0".into(),
            }],
            udf_server_version: "1.48.0".into(),
            node_version: None,
        }
    }

    #[test]
    fn writes_the_reference_layout() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        write_debug_bundle(&dir, &sample()).unwrap();
        let full = std::fs::read_to_string(dir.join("fullConfig.json")).unwrap();
        assert_eq!(
            full,
            r#"{"projectConfig":{"functions":"convex/"},"modules":[{"path":"lib/a.js","source":"A","environment":"isolate","sourceMap":"{}"},{"path":"_deps/node/X.js","source":"X","environment":"node"}],"nodeDependencies":[{"name":"ws","version":"8.0.0"}],"udfServerVersion":"1.48.0"}"#
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("isolate/lib/a.js")).unwrap(),
            "A"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("isolate/lib/a.js.map")).unwrap(),
            "{}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("node/_deps/node/X.js")).unwrap(),
            "X"
        );
        assert!(!dir.join("node/_deps/node/X.js.map").exists());
    }

    #[test]
    fn refuses_non_empty_or_non_directories() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("file"), "x").unwrap();
        assert!(write_debug_bundle(&tmp.path().join("file"), &sample()).is_err());
        assert!(write_debug_bundle(tmp.path(), &sample()).is_err());
        assert!(write_debug_bundle(&tmp.path().join("a/b"), &sample()).is_err());
        std::fs::create_dir(tmp.path().join("empty")).unwrap();
        write_debug_bundle(&tmp.path().join("empty"), &sample()).unwrap();
    }
}
