//! Packages left out of `"use node"` bundles and installed on the server
//! instead (`convex.json` `node.externalPackages`), and the exact versions
//! sent as `nodeDependencies`.

use super::error::{BundleError, BundleResult};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One package the server installs for the Node.js runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeDependency {
    pub name: String,
    pub version: String,
}

/// Packages that may be marked external, in `package.json` order, with the
/// `node_modules` folder each must resolve to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalPackages {
    packages: Vec<(String, PathBuf)>,
}

impl ExternalPackages {
    pub fn get(&self, name: &str) -> Option<&Path> {
        self.packages
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.as_path())
    }

    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.packages.iter().map(|(n, _)| n.as_str())
    }
}

/// The package an import specifier names: `(name, folder under
/// node_modules)`; `@scope/pkg/x` → `@scope/pkg`, `pkg/x` → `pkg`.
pub fn package_of_import(specifier: &str) -> (String, PathBuf) {
    if specifier.starts_with('@') {
        let mut parts = specifier.split('/');
        let scope = parts.next().unwrap_or_default();
        // The reference joins `undefined` when there is no second segment.
        let name = parts.next().unwrap_or("undefined");
        (format!("{scope}/{name}"), Path::new(scope).join(name))
    } else {
        let name = specifier.split('/').next().unwrap_or_default();
        (name.to_string(), PathBuf::from(name))
    }
}

/// Whether a dependency may be external: never `convex`, never local or URL
/// specs (those are bundled), and only when the allow-list names it or `*`.
pub fn should_mark_external(name: &str, spec: &str, allow_list: &[String]) -> bool {
    if name == "convex" {
        return false;
    }
    const BUNDLED_PREFIXES: [&str; 8] = [
        "file:",
        "git+file://",
        "http://",
        "https://",
        "git://",
        "git+ssh://",
        "git+http://",
        "git+https://",
    ];
    if BUNDLED_PREFIXES.iter().any(|p| spec.starts_with(p)) {
        return false;
    }
    allow_list.iter().any(|a| a == name || a == "*")
}

/// The nearest `package.json` at or above `start`.
pub fn find_package_json(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join("package.json"))
        .find(|p| p.is_file())
}

/// Computes the external set from the nearest `package.json` above the
/// project root. Empty (and nothing read) when the allow-list is empty.
pub fn compute_external_packages(
    project_root: &Path,
    allow_list: &[String],
) -> BundleResult<ExternalPackages> {
    if allow_list.is_empty() {
        return Ok(ExternalPackages::default());
    }
    let package_json_path = find_package_json(project_root).ok_or_else(|| {
        BundleError::invalid(
            "No package.json found in this directory or above it. To create a new project \
             using Convex, see https://docs.convex.dev/home#quickstarts",
        )
    })?;
    let package_json: Value = std::fs::read_to_string(&package_json_path)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
        .map_err(|err| {
            BundleError::invalid(format!(
                "Couldn't parse \"{}\". Make sure it's valid JSON. Error: {err}",
                package_json_path.display()
            ))
        })?;
    let package_dir = package_json_path.parent().unwrap_or(Path::new("/"));
    let mut packages: Vec<(String, PathBuf)> = Vec::new();
    for section in [
        "dependencies",
        "devDependencies",
        "peerDependencies",
        "optionalDependencies",
    ] {
        let Some(Value::Object(deps)) = package_json.get(section) else {
            continue;
        };
        for (name, spec) in deps {
            if packages.iter().any(|(n, _)| n == name) {
                continue;
            }
            let Value::String(spec) = spec else {
                return Err(BundleError::invalid(format!(
                    "Invalid \"{}\": the version of \"{section}.{name}\" must be a string, \
                     not {}.",
                    package_json_path.display(),
                    json_type(spec)
                )));
            };
            if !should_mark_external(name, spec, allow_list) {
                continue;
            }
            let path = package_dir
                .join("node_modules")
                .join(package_of_import(name).1);
            if path.exists() {
                packages.push((name.clone(), path));
            }
        }
    }
    Ok(ExternalPackages { packages })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "object",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) | Value::Object(_) => "object",
    }
}

/// Finds `node_modules/<package_dir>` walking up from `resolve_dir`, the way
/// the reference's externals plugin does (each search restarts above the
/// `node_modules` folder just tried).
pub fn resolve_node_module(package_dir: &Path, resolve_dir: &Path) -> Option<PathBuf> {
    let mut start = resolve_dir.to_path_buf();
    loop {
        let node_modules = start
            .ancestors()
            .map(|dir| dir.join("node_modules"))
            .find(|p| p.is_dir())?;
        let candidate = node_modules.join(package_dir);
        if candidate.exists() {
            return Some(candidate);
        }
        let above = node_modules.parent()?.parent()?;
        start = above.to_path_buf();
    }
}

/// `nodeDependencies`: each referenced external package with the exact
/// version installed, then (transitively) the peer and optional
/// dependencies of those that are themselves external.
pub fn node_dependency_versions(
    available: &ExternalPackages,
    referenced: &[String],
) -> BundleResult<Vec<NodeDependency>> {
    let mut queue: Vec<String> = referenced.to_vec();
    let mut result = Vec::new();
    let mut i = 0;
    while i < queue.len() {
        let name = queue[i].clone();
        i += 1;
        let Some(path) = available.get(&name) else {
            continue;
        };
        let manifest_path = path.join("package.json");
        let manifest: Value = std::fs::read_to_string(&manifest_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| {
                BundleError::invalid(format!(
                    "Missing or unreadable \"{}\": it is needed to install the external \
                     package \"{name}\" listed in convex.json.",
                    manifest_path.display()
                ))
            })?;
        let version = match manifest.get("version") {
            None => {
                return Err(BundleError::invalid(format!(
                    "\"{}\" has no 'version' field; it is needed to install the external \
                     package \"{name}\" listed in convex.json.",
                    manifest_path.display()
                )));
            }
            Some(Value::String(v)) => v.clone(),
            Some(other) => other.to_string(),
        };
        result.push(NodeDependency {
            name: name.clone(),
            version,
        });
        for section in ["peerDependencies", "optionalDependencies"] {
            let Some(Value::Object(deps)) = manifest.get(section) else {
                continue;
            };
            for (dep, spec) in deps {
                if !spec.is_string() {
                    return Err(BundleError::invalid(format!(
                        "Invalid \"{}\": the version of \"{section}.{dep}\" must be a string, \
                         not {}.",
                        manifest_path.display(),
                        json_type(spec)
                    )));
                }
                if available.get(dep).is_some() && !queue.contains(dep) {
                    queue.push(dep.clone());
                }
            }
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn package_names() {
        assert_eq!(package_of_import("lodash/fp").0, "lodash");
        assert_eq!(
            package_of_import("@aws-sdk/client-s3/x").0,
            "@aws-sdk/client-s3"
        );
        assert_eq!(
            package_of_import("@aws-sdk/client-s3").1,
            Path::new("@aws-sdk").join("client-s3")
        );
        assert_eq!(package_of_import("node:crypto").0, "node:crypto");
    }

    #[test]
    fn external_rules() {
        let all = list(&["*"]);
        assert!(should_mark_external("ws", "^8", &all));
        assert!(!should_mark_external("convex", "^1", &all));
        for spec in [
            "file:../x",
            "git+file:///x",
            "http://x",
            "https://x",
            "git://x",
            "git+ssh://x",
            "git+http://x",
            "git+https://x",
        ] {
            assert!(!should_mark_external("ws", spec, &all), "{spec}");
        }
        assert!(should_mark_external("ws", "github:user/ws", &all));
        assert!(should_mark_external("ws", "1", &list(&["ws"])));
        assert!(!should_mark_external("ws", "1", &list(&["other"])));
        assert!(!should_mark_external("ws", "1", &[]));
    }

    #[test]
    fn computes_the_external_set_and_versions() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            root,
            "package.json",
            r#"{
              "dependencies": {"convex": "1.48.0", "fake-ext": "^1", "local": "file:./local", "notinstalled": "1"},
              "devDependencies": {"fake-ext": {"ignored": "duplicate"}, "@scope/pkg": "2"},
              "optionalDependencies": {"ws": "8"}
            }"#,
        );
        write(
            root,
            "node_modules/fake-ext/package.json",
            r#"{"name":"fake-ext","version":"1.2.3","peerDependencies":{"ws":"*","unlisted":"1"}}"#,
        );
        write(
            root,
            "node_modules/ws/package.json",
            r#"{"version":"8.21.0"}"#,
        );
        write(
            root,
            "node_modules/@scope/pkg/package.json",
            r#"{"version":"2.0.0"}"#,
        );
        write(
            root,
            "node_modules/local/package.json",
            r#"{"version":"0.0.1"}"#,
        );
        write(
            root,
            "node_modules/convex/package.json",
            r#"{"version":"1.48.0"}"#,
        );

        let all = compute_external_packages(root, &list(&["*"])).unwrap();
        assert_eq!(
            all.names().collect::<Vec<_>>(),
            vec!["fake-ext", "@scope/pkg", "ws"]
        );
        let some = compute_external_packages(root, &list(&["fake-ext", "ws"])).unwrap();
        assert_eq!(some.names().collect::<Vec<_>>(), vec!["fake-ext", "ws"]);
        assert!(compute_external_packages(root, &[]).unwrap().is_empty());

        let deps = node_dependency_versions(&some, &list(&["fake-ext"])).unwrap();
        assert_eq!(
            deps,
            vec![
                NodeDependency {
                    name: "fake-ext".into(),
                    version: "1.2.3".into()
                },
                NodeDependency {
                    name: "ws".into(),
                    version: "8.21.0".into()
                },
            ]
        );
        // A peer outside the external set is not added.
        let only = compute_external_packages(root, &list(&["fake-ext"])).unwrap();
        assert_eq!(
            node_dependency_versions(&only, &list(&["fake-ext"]))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn bad_versions_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(root, "package.json", r#"{"dependencies": {"x": 1}}"#);
        let err = compute_external_packages(root, &list(&["x"])).unwrap_err();
        assert!(err.to_string().contains("dependencies.x"), "{err}");

        write(root, "package.json", r#"{"dependencies": {"x": "1"}}"#);
        write(root, "node_modules/x/package.json", r#"{"name":"x"}"#);
        let set = compute_external_packages(root, &list(&["x"])).unwrap();
        let err = node_dependency_versions(&set, &list(&["x"])).unwrap_err();
        assert!(err.to_string().contains("no 'version'"), "{err}");
        std::fs::remove_file(root.join("node_modules/x/package.json")).unwrap();
        assert!(node_dependency_versions(&set, &list(&["x"])).is_err());
    }

    #[test]
    fn resolves_node_modules_walking_up() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(root, "node_modules/a/package.json", "{}");
        write(root, "sub/node_modules/b/package.json", "{}");
        write(root, "sub/deep/file.ts", "");
        let deep = root.join("sub/deep");
        assert_eq!(
            resolve_node_module(Path::new("b"), &deep),
            Some(root.join("sub/node_modules/b"))
        );
        // Not in the nearest node_modules: keep looking further up.
        assert_eq!(
            resolve_node_module(Path::new("a"), &deep),
            Some(root.join("node_modules/a"))
        );
        assert_eq!(resolve_node_module(Path::new("zzz-none"), &deep), None);
    }
}
