//! The esbuild plugins of the reference, in Rust. Namespaces, virtual paths
//! and virtual module contents are exactly the reference's: they show up in
//! the bundles (path comments) and in source maps (`sources`).

use super::externals::{ExternalPackages, package_of_import, resolve_node_module};
use super::service::Plugin;
use crate::project::normalize;
use base64::Engine;
use esbuild_client::protocol::ImportKind;
use esbuild_client::{BuiltinLoader, OnLoadResult, OnResolveResult};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// esbuild platforms we build for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Platform {
    Browser,
    Node,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Browser => "browser",
            Platform::Node => "node",
        }
    }
}

const ASYNC_HOOKS_SHIM: &str = "\n            export const AsyncLocalStorage = globalThis.AsyncLocalStorage;\n            export const AsyncResource = globalThis.AsyncResource;\n            export default { AsyncLocalStorage, AsyncResource };\n          ";

/// `async_hooks` / `node:async_hooks` become a shim over the isolate's
/// globals. Node builds get the real module (the plugin is then empty).
pub(crate) fn async_hooks_shim(platform: Platform) -> Plugin {
    let plugin = Plugin::new("convex-async-hooks-shim", platform.as_str());
    if platform != Platform::Browser {
        return plugin;
    }
    plugin
        .on_resolve("^(node:)?async_hooks$", "", |args| {
            Ok(Some(OnResolveResult {
                path: Some(args.path.clone()),
                namespace: Some("async-hooks-shim".into()),
                ..Default::default()
            }))
        })
        .on_load(".*", "async-hooks-shim", |_| {
            Ok(Some(OnLoadResult {
                contents: Some(ASYNC_HOOKS_SHIM.as_bytes().to_vec()),
                loader: Some(BuiltinLoader::Js),
                ..Default::default()
            }))
        })
}

/// `import "server-only"` (Next.js) becomes an empty module. It runs before
/// the externals plugin so it wins even when the package is external.
pub(crate) fn server_only_stub() -> Plugin {
    Plugin::new("convex-server-only", "")
        .on_resolve("^server-only$", "", |args| {
            Ok(Some(OnResolveResult {
                path: Some(args.path.clone()),
                namespace: Some("server-only-stub".into()),
                ..Default::default()
            }))
        })
        .on_load(".*", "server-only-stub", |_| {
            Ok(Some(OnLoadResult {
                contents: Some(Vec::new()),
                loader: Some(BuiltinLoader::Js),
                ..Default::default()
            }))
        })
}

/// Package names the externals plugin saw, in the order it saw them.
#[derive(Debug, Default)]
pub(crate) struct ExternalsRecord {
    pub external: Vec<String>,
    pub bundled: Vec<String>,
}

impl super::service::BuildState for RefCell<ExternalsRecord> {
    fn save(&self) -> serde_json::Value {
        let record = self.borrow();
        serde_json::json!({"external": record.external, "bundled": record.bundled})
    }

    fn restore(&self, saved: &serde_json::Value) {
        let list = |key: &str| -> Vec<String> {
            saved
                .get(key)
                .and_then(serde_json::Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut record = self.borrow_mut();
        record.external = list("external");
        record.bundled = list("bundled");
    }
}

fn record(list: &mut Vec<String>, name: String) {
    if !list.contains(&name) {
        list.push(name);
    }
}

/// Marks imports of allowed packages external when they resolve to the
/// package folder recorded for them (the import is then kept as written and
/// the package installed on the server).
pub(crate) fn node_externals(
    packages: ExternalPackages,
    working_dir: PathBuf,
    record_to: Rc<RefCell<ExternalsRecord>>,
) -> Plugin {
    let identity = format!("{}\n{packages:?}", working_dir.display());
    // Relative imports are never packages: the filter keeps esbuild from
    // asking about them at all (a round trip each, hundreds per build
    // inside the `convex` package), where the reference's plugin is asked
    // and returns at once.
    Plugin::new("convex-node-externals", identity).on_resolve("^[^.]", "file", move |args| {
        let (name, dir_name) = package_of_import(&args.path);
        if let Some(expected) = packages.get(&name) {
            let resolve_dir = match args.resolve_dir.as_deref() {
                Some(dir) if !dir.is_empty() => PathBuf::from(dir),
                _ => working_dir.clone(),
            };
            if resolve_node_module(&dir_name, &resolve_dir).as_deref() == Some(expected) {
                record(&mut record_to.borrow_mut().external, name);
                return Ok(Some(OnResolveResult {
                    path: Some(args.path.clone()),
                    external: Some(true),
                    ..Default::default()
                }));
            }
        }
        record(&mut record_to.borrow_mut().bundled, name);
        Ok(None)
    })
}

/// `.wasm` imports become a module exporting a compiled
/// `WebAssembly.Module`; the bytes are embedded with esbuild's binary loader.
pub(crate) fn wasm() -> Plugin {
    Plugin::new("convex-wasm", "")
        .on_resolve(r"\.wasm$", "", |args| {
            if args.namespace.as_deref() == Some("wasm-stub") {
                return Ok(Some(OnResolveResult {
                    path: Some(args.path.clone()),
                    namespace: Some("wasm-binary".into()),
                    ..Default::default()
                }));
            }
            let resolve_dir = args.resolve_dir.as_deref().unwrap_or_default();
            if resolve_dir.is_empty() {
                return Ok(None);
            }
            let path = if Path::new(&args.path).is_absolute() {
                args.path.clone()
            } else {
                normalize(&Path::new(resolve_dir).join(&args.path))
                    .to_string_lossy()
                    .into_owned()
            };
            Ok(Some(OnResolveResult {
                path: Some(path),
                namespace: Some("wasm-stub".into()),
                ..Default::default()
            }))
        })
        .on_load(".*", "wasm-stub", |args| {
            let quoted = serde_json::to_string(&args.path)?;
            let contents = format!(
                "import wasm from {quoted}\n          export default new WebAssembly.Module(wasm)"
            );
            Ok(Some(OnLoadResult {
                contents: Some(contents.into_bytes()),
                ..Default::default()
            }))
        })
        .on_load(".*", "wasm-binary", |args| {
            let bytes = std::fs::read(&args.path)
                .map_err(|err| anyhow::anyhow!("Could not read {}: {err}", args.path))?;
            Ok(Some(OnLoadResult {
                contents: Some(bytes),
                loader: Some(BuiltinLoader::Binary),
                ..Default::default()
            }))
        })
}

pub(crate) const VIRTUAL_CONFIG_NAMESPACE: &str = "convex-virtual-config";
const VIRTUAL_CONFIG_CONTENTS: &str =
    "import { defineApp } from \"convex/server\";\nconst app = defineApp();\nexport default app;";

/// Escapes a string for use inside a regular expression, as the reference
/// does (`/[.*+?^${}()|[\]\\]/g`).
pub(crate) fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if ".*+?^${}()|[]\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The specifier the synthetic app of `codegen --component-dir` imports its
/// component by: relative to the root, posix, `.ts` → `.js` (not `./`
/// prefixed, as in the reference).
pub(crate) fn synthetic_import_specifier(root_dir: &Path, component_config: &Path) -> String {
    let relative = super::components::relative_path(root_dir, component_config);
    let posix = relative.to_string_lossy().replace('\\', "/");
    match posix.strip_suffix(".ts") {
        Some(stem) => format!("{stem}.js"),
        None => posix,
    }
}

/// The source of the virtual `convex.config` of a root without one:
/// `defineApp()` using nothing, or using the `--component-dir` component.
pub(crate) fn virtual_config_contents(import_specifier: Option<&str>) -> String {
    match import_specifier {
        None => VIRTUAL_CONFIG_CONTENTS.to_string(),
        Some(specifier) => format!(
            "import {{ defineApp }} from \"convex/server\";\nimport component from \"{specifier}\";\n\nconst app = defineApp();\napp.use(component, {{ name: \"exampleComponentInstance\" }});\nexport default app;"
        ),
    }
}

/// Serves the virtual `convex.config` (see [`virtual_config_contents`]) at
/// `qualified_path`, the root's entry point (`./convex/convex.config.js`).
pub(crate) fn virtual_config(qualified_path: &str, root_dir: &Path, contents: String) -> Plugin {
    let filter = format!("^{}$", escape_regex(&qualified_path.replace('\\', "/")));
    let resolve_dir = root_dir.to_string_lossy().into_owned();
    let identity = format!("{filter}\n{resolve_dir}\n{contents}");
    Plugin::new("convex-virtual-config", identity)
        .on_resolve(&filter, "", |args| {
            Ok(Some(OnResolveResult {
                path: Some(args.path.clone()),
                namespace: Some(VIRTUAL_CONFIG_NAMESPACE.into()),
                ..Default::default()
            }))
        })
        .on_load(&filter, VIRTUAL_CONFIG_NAMESPACE, move |_| {
            Ok(Some(OnLoadResult {
                contents: Some(contents.clone().into_bytes()),
                resolve_dir: Some(resolve_dir.clone()),
                ..Default::default()
            }))
        })
}

/// In the discovery build of a synthetic root, resolves the virtual config's
/// import of its component the way the reference's discovery plugin does:
/// relative specifiers find the component's config (`.js` if present, else
/// `.ts`); a bare one is left to esbuild (and fails there too).
pub(crate) fn discover_synthetic_import(specifier: &str, component_config: &Path) -> Plugin {
    let filter = format!("^{}$", escape_regex(specifier));
    let target = {
        let js = component_config.with_extension("js");
        if js.exists() {
            js
        } else {
            component_config.to_path_buf()
        }
    };
    let relative = specifier.starts_with('.');
    let identity = format!("{filter}\n{}\n{relative}", target.display());
    Plugin::new("convex-discover-components", identity).on_resolve(
        &filter,
        VIRTUAL_CONFIG_NAMESPACE,
        move |_| {
            if !relative {
                return Ok(None);
            }
            Ok(Some(OnResolveResult {
                path: Some(target.to_string_lossy().into_owned()),
                ..Default::default()
            }))
        },
    )
}

/// Where each `convex.config` import of the discovery build resolved:
/// `(importer, specifier) → resolved file`, all absolute (a virtual importer
/// is `convex-virtual-config:<its path>`).
pub(crate) type ConfigImports = HashMap<(PathBuf, String), PathBuf>;

/// The path a definition bundle imports another component's definition by:
/// `./_componentDeps/<base64url(component definition path)>`.
pub fn definition_import_path(component_definition_path: &str) -> String {
    let encoded =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(component_definition_path);
    format!("./_componentDeps/{encoded}")
}

/// In definition bundles, imports of other components' `convex.config`
/// become external imports of `./_componentDeps/<id>`, so each definition is
/// bundled on its own. `resolve_component` maps a resolved config file to
/// its component definition path (or `None` when it is not a component).
pub(crate) fn bundle_components(
    config_imports: std::sync::Arc<ConfigImports>,
    resolve_component: impl Fn(&Path) -> Option<String> + 'static,
    resolver_identity: &str,
) -> Plugin {
    let mut imports: Vec<_> = config_imports.iter().collect();
    imports.sort();
    let identity = format!("{resolver_identity}\n{imports:?}");
    Plugin::new("convex-bundle-components", identity).on_resolve(
        ".*convex.config.*",
        "",
        move |args| {
            let namespace = args.namespace.as_deref().unwrap_or("file");
            if namespace != "file" && namespace != VIRTUAL_CONFIG_NAMESPACE {
                return Ok(None);
            }
            if args.kind == ImportKind::EntryPoint {
                return Ok(None);
            }
            let Some(importer) = args.importer.as_deref() else {
                return Ok(None);
            };
            let importer = if namespace == VIRTUAL_CONFIG_NAMESPACE {
                PathBuf::from(format!("{VIRTUAL_CONFIG_NAMESPACE}:{importer}"))
            } else {
                PathBuf::from(importer)
            };
            let key = (importer, args.path.clone());
            let Some(resolved) = config_imports.get(&key) else {
                return Ok(None);
            };
            let Some(component_path) = resolve_component(resolved) else {
                return Ok(None);
            };
            Ok(Some(OnResolveResult {
                path: Some(definition_import_path(&component_path)),
                external: Some(true),
                ..Default::default()
            }))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_import_paths() {
        assert_eq!(
            definition_import_path("counter"),
            "./_componentDeps/Y291bnRlcg"
        );
        assert_eq!(
            definition_import_path("../node_modules/@convex-dev/x/dist/component"),
            format!(
                "./_componentDeps/{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode("../node_modules/@convex-dev/x/dist/component")
            )
        );
    }

    #[test]
    fn regex_escaping() {
        assert_eq!(
            escape_regex("./convex/convex.config.js"),
            r"\./convex/convex\.config\.js"
        );
        assert_eq!(
            escape_regex("a+b(c)[d]{e}|^$?*\\"),
            r"a\+b\(c\)\[d\]\{e\}\|\^\$\?\*\\"
        );
    }
}
