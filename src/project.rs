//! The user's project: `package.json`, `convex.json` and the functions directory.
//!
//! The project root is the directory the CLI runs in (the reference uses the
//! process working directory). Everything here takes that root explicitly so
//! it can be tested without changing the process's working directory.
//!
//! * [`PackageJson`] reads `package.json` and answers dependency questions
//!   (the "`convex` must be a dependency" check of every push).
//! * [`ProjectConfig`] is `convex.json` after validation, with the reference's
//!   defaults filled in; [`ProjectConfig::read`] loads it (or the defaults when
//!   the file is missing). Unknown keys are kept (so they survive a
//!   round trip) and reported once per process through
//!   [`ProjectConfig::take_unknown_key_warnings`].
//! * [`ProjectFiles`] holds both as one run reads them: each file once, on
//!   first use (the per-run context keeps the one of the working directory).
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// A project's `package.json` and `convex.json`, each read from disk once,
/// when first asked for; later questions get the same answer (or the same
/// error). One-shot commands keep one for the run in the context
/// ([`crate::context::Context::project`]); `dev` reads a fresh one for each
/// push, as it watches these files.
#[derive(Debug)]
pub struct ProjectFiles {
    root: PathBuf,
    package_json: OnceLock<Result<PackageJson, String>>,
    config: OnceLock<Result<ProjectConfig, String>>,
}

impl ProjectFiles {
    /// The files of the project in `root`; nothing is read yet.
    pub fn new(root: &Path) -> ProjectFiles {
        ProjectFiles {
            root: root.to_path_buf(),
            package_json: OnceLock::new(),
            config: OnceLock::new(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `package.json` (see [`PackageJson::read`]).
    pub fn package_json(&self) -> Result<&PackageJson> {
        self.package_json
            .get_or_init(|| PackageJson::read(&self.root).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow!("{e}"))
    }

    /// `convex.json` (see [`ProjectConfig::read`]), a copy of its own.
    pub fn config(&self) -> Result<ProjectConfig> {
        self.config
            .get_or_init(|| {
                ProjectConfig::read_with(&self.root, || self.package_json().cloned())
                    .map_err(|e| format!("{e:#}"))
            })
            .clone()
            .map_err(|e| anyhow!("{e}"))
    }

    /// [`ensure_has_convex_dependency`] on these files.
    pub fn ensure_has_convex_dependency(&self, purpose: &str) -> Result<()> {
        if !self.package_json()?.has_dependency("convex", true) {
            bail!(
                "In order to {purpose}, add `convex` to the dependencies in your package.json \
                 (for example with `npm install convex`)."
            );
        }
        Ok(())
    }
}

/// Name of the project config file, relative to the project root.
pub const CONVEX_JSON: &str = "convex.json";
/// Functions directory when `convex.json` does not say otherwise.
pub const DEFAULT_FUNCTIONS_DIR: &str = "convex/";

// ---------------------------------------------------------------------------
// package.json
// ---------------------------------------------------------------------------

/// The project's `package.json` (the one in the project root).
#[derive(Debug, Clone)]
pub struct PackageJson {
    /// The parsed file; always a JSON object.
    pub value: Map<String, Value>,
}

impl PackageJson {
    /// Reads `<project_root>/package.json`.
    pub fn read(project_root: &Path) -> Result<PackageJson> {
        let path = project_root.join("package.json");
        let text = std::fs::read_to_string(&path).map_err(|err| {
            anyhow!(
                "Could not read {}: {err}. Run this command from the root directory of your \
                 Convex app, the one that holds its package.json.",
                path.display()
            )
        })?;
        Self::parse(&text).with_context(|| format!("Could not use {}", path.display()))
    }

    /// Parses the text of a `package.json`.
    pub fn parse(text: &str) -> Result<PackageJson> {
        let value: Value =
            serde_json::from_str(text).map_err(|err| anyhow!("it is not valid JSON: {err}"))?;
        match value {
            Value::Object(value) => Ok(PackageJson { value }),
            _ => bail!("it must contain a JSON object"),
        }
    }

    /// Names listed in `dependencies` and `devDependencies` (and
    /// `peerDependencies` when `include_peer`), as the reference merges them.
    pub fn dependency_names(&self, include_peer: bool) -> Vec<String> {
        let mut sections = vec!["dependencies", "devDependencies"];
        if include_peer {
            sections.insert(0, "peerDependencies");
        }
        let mut names: Vec<String> = Vec::new();
        for section in sections {
            if let Some(Value::Object(deps)) = self.value.get(section) {
                for name in deps.keys() {
                    if !names.contains(name) {
                        names.push(name.clone());
                    }
                }
            }
        }
        names
    }

    /// Whether `name` is a dependency (see [`PackageJson::dependency_names`]).
    pub fn has_dependency(&self, name: &str, include_peer: bool) -> bool {
        self.dependency_names(include_peer)
            .iter()
            .any(|n| n == name)
    }
}

/// The check every push makes first: `package.json` must exist and list
/// `convex` in `dependencies`, `devDependencies` or `peerDependencies`.
/// `purpose` completes "In order to …" in the message (e.g. "push").
pub fn ensure_has_convex_dependency(project_root: &Path, purpose: &str) -> Result<()> {
    ProjectFiles::new(project_root).ensure_has_convex_dependency(purpose)
}

// ---------------------------------------------------------------------------
// convex.json
// ---------------------------------------------------------------------------

/// `codegen.fileType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodegenFileType {
    /// `"ts"`: generated `.ts` files.
    Ts,
    /// `"js/dts"`: generated `.js` + `.d.ts` files (the behaviour when absent).
    JsDts,
}

impl CodegenFileType {
    pub fn as_str(self) -> &'static str {
        match self {
            CodegenFileType::Ts => "ts",
            CodegenFileType::JsDts => "js/dts",
        }
    }
}

/// `typescriptCompiler`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypescriptCompiler {
    Tsc,
    Tsgo,
}

impl TypescriptCompiler {
    pub fn as_str(self) -> &'static str {
        match self {
            TypescriptCompiler::Tsc => "tsc",
            TypescriptCompiler::Tsgo => "tsgo",
        }
    }
}

/// `node` section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeConfig {
    /// `node.externalPackages`: packages installed on the server instead of
    /// bundled into `"use node"` modules; `"*"` means every dependency.
    pub external_packages: Vec<String>,
    /// `node.nodeVersion`; sent as `nodeVersion` in the push when present.
    pub node_version: Option<String>,
    /// Unknown keys of this section, kept as written.
    pub extra: Map<String, Value>,
}

/// `codegen` section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodegenConfig {
    pub static_api: bool,
    pub static_data_model: bool,
    /// `Some(true)` inlines component API types (legacy style).
    pub legacy_component_api: Option<bool>,
    /// `None` behaves as [`CodegenFileType::JsDts`].
    pub file_type: Option<CodegenFileType>,
    pub extra: Map<String, Value>,
}

/// `bundler` section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BundlerConfig {
    /// esbuild `sourcesContent` for function bundles.
    pub include_sources_content: bool,
    pub extra: Map<String, Value>,
}

/// Where a [`ProjectConfig`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// `convex.json` exists and was parsed.
    File,
    /// No `convex.json`: the reference's defaults.
    Defaults,
}

/// `convex.json` after validation, with defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectConfig {
    /// `functions`, verbatim (it is also sent as-is in the push request).
    pub functions: String,
    pub node: NodeConfig,
    pub generate_common_js_api: bool,
    pub codegen: CodegenConfig,
    /// `None` when the file has no `bundler` section.
    pub bundler: Option<BundlerConfig>,
    pub typescript_compiler: Option<TypescriptCompiler>,
    /// `$schema` (editor hint, unused).
    pub schema_url: Option<String>,
    /// `authKit`, validated, unknown sub-keys dropped as the reference does.
    pub auth_kit: Option<Value>,
    /// `aiFiles`, validated, unknown sub-keys dropped as the reference does.
    pub ai_files: Option<Value>,
    /// Deprecated `project`, `team`, `prodUrl` keys (ignored but accepted).
    pub project: Option<String>,
    pub team: Option<String>,
    pub prod_url: Option<String>,
    /// Unknown top-level keys, kept as written.
    pub extra: Map<String, Value>,
    /// Dotted paths of every unknown key (`foo`, `node.bar`), in file order.
    pub unknown_keys: Vec<String>,
    pub source: ConfigSource,
}

/// Unknown keys already warned about in this process (the reference warns
/// once per key even when `dev` rereads the file on every change).
static WARNED_UNKNOWN_KEYS: Mutex<Option<HashSet<String>>> = Mutex::new(None);

impl ProjectConfig {
    /// The configuration used when there is no `convex.json`: functions in
    /// `convex/`, or `src/convex/` for create-react-app projects (they cannot
    /// import from outside `src/`).
    pub fn defaults(package_json: &PackageJson) -> ProjectConfig {
        let functions = if package_json.has_dependency("react-scripts", false) {
            format!("src/{DEFAULT_FUNCTIONS_DIR}")
        } else {
            DEFAULT_FUNCTIONS_DIR.to_string()
        };
        ProjectConfig {
            functions,
            node: NodeConfig::default(),
            generate_common_js_api: false,
            codegen: CodegenConfig::default(),
            bundler: None,
            typescript_compiler: None,
            schema_url: None,
            auth_kit: None,
            ai_files: Some(Value::Object(Map::new())),
            project: None,
            team: None,
            prod_url: None,
            extra: Map::new(),
            unknown_keys: Vec::new(),
            source: ConfigSource::Defaults,
        }
    }

    /// Reads `<project_root>/convex.json`, or the defaults when it is missing
    /// (which needs `package.json` for the create-react-app rule).
    pub fn read(project_root: &Path) -> Result<ProjectConfig> {
        Self::read_with(project_root, || PackageJson::read(project_root))
    }

    /// [`ProjectConfig::read`], asking `package_json` for `package.json`
    /// when it is needed.
    fn read_with(
        project_root: &Path,
        package_json: impl FnOnce() -> Result<PackageJson>,
    ) -> Result<ProjectConfig> {
        let path = project_root.join(CONVEX_JSON);
        let wrong_path = project_root.join("src").join(CONVEX_JSON);
        let exists = path.exists();
        let wrong_exists = wrong_path.exists();
        if wrong_exists && exists {
            bail!(
                "Both convex.json and src/convex.json exist. Merge them into convex.json \
                 at the project root and delete src/convex.json."
            );
        }
        if wrong_exists {
            bail!(
                "src/convex.json is no longer read: move it to the root of your project \
                 (next to package.json)."
            );
        }
        if !exists {
            return Ok(Self::defaults(&package_json()?));
        }
        let text = std::fs::read_to_string(&path).map_err(|err| {
            anyhow!(
                "Could not read {}: {err}. Run this command from the root directory of \
                 your Convex project.",
                path.display()
            )
        })?;
        Self::parse(&text)
    }

    /// Parses and validates the text of a `convex.json`.
    pub fn parse(text: &str) -> Result<ProjectConfig> {
        let value: Value = serde_json::from_str(text)
            .map_err(|err| anyhow!("Parsing convex.json failed: {err}"))?;
        Self::from_value(&value)
    }

    /// Validates a parsed `convex.json` (the checks and defaults of the
    /// reference's schema).
    pub fn from_value(value: &Value) -> Result<ProjectConfig> {
        let Value::Object(obj) = value else {
            bail!("`convex.json` must contain a JSON object");
        };
        let mut v = Validator::default();
        let config = parse_top_level(obj, &mut v);
        if let Some(issue) = v.issues.first() {
            bail!("{}", issue.describe());
        }
        if config.generate_common_js_api && config.codegen.file_type == Some(CodegenFileType::Ts) {
            bail!(
                "`generateCommonJSApi` in `convex.json`: `generateCommonJSApi: true` cannot be \
                 combined with `codegen.fileType: \"ts\"` (CommonJS output needs JavaScript \
                 generation). Set `codegen.fileType` to \"js/dts\" or remove \
                 `generateCommonJSApi`."
            );
        }
        Ok(config)
    }

    /// The functions directory, absolute: `<root>/<functions>` resolved like
    /// Node's `path.resolve(root, path.join(".", functions))`.
    pub fn functions_dir(&self, project_root: &Path) -> PathBuf {
        // `path.join(".", x)` turns an absolute `x` into a relative one.
        let relative = self.functions.trim_start_matches(['/', '\\']);
        normalize(&project_root.join(relative))
    }

    /// `bundler.includeSourcesContent`, false by default.
    pub fn include_sources_content(&self) -> bool {
        self.bundler
            .as_ref()
            .is_some_and(|b| b.include_sources_content)
    }

    /// Warning lines for unknown keys not yet reported in this process
    /// (empty when there is nothing new). Keys are kept either way.
    pub fn take_unknown_key_warnings(&self) -> Vec<String> {
        let mut guard = WARNED_UNKNOWN_KEYS
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let warned = guard.get_or_insert_with(HashSet::new);
        let fresh: Vec<&String> = self
            .unknown_keys
            .iter()
            .filter(|k| !warned.contains(*k))
            .collect();
        if fresh.is_empty() {
            return Vec::new();
        }
        let names = fresh
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        for key in fresh {
            warned.insert(key.clone());
        }
        vec![format!(
            "Warning: convex.json has {} this version of Convex does not know: {names}. \
             They are kept but ignored.",
            if names.contains(", ") {
                "properties"
            } else {
                "a property"
            }
        )]
    }

    /// The configuration as the reference serialises its parsed config (key
    /// order and defaults included), e.g. for `fullConfig.json` of
    /// `--debug-bundle-path`.
    pub fn to_reference_json(&self) -> Value {
        let mut out = Map::new();
        if self.source == ConfigSource::Defaults {
            out.insert("functions".into(), Value::String(self.functions.clone()));
            out.insert("node".into(), node_json(&self.node));
            out.insert(
                "generateCommonJSApi".into(),
                Value::Bool(self.generate_common_js_api),
            );
            out.insert("codegen".into(), codegen_json(&self.codegen));
            if let Some(ai) = &self.ai_files {
                out.insert("aiFiles".into(), ai.clone());
            }
            return Value::Object(out);
        }
        out.insert("functions".into(), Value::String(self.functions.clone()));
        out.insert("node".into(), node_json(&self.node));
        out.insert("codegen".into(), codegen_json(&self.codegen));
        if let Some(bundler) = &self.bundler {
            let mut b = Map::new();
            b.insert(
                "includeSourcesContent".into(),
                Value::Bool(bundler.include_sources_content),
            );
            b.extend(bundler.extra.clone());
            out.insert("bundler".into(), Value::Object(b));
        }
        out.insert(
            "generateCommonJSApi".into(),
            Value::Bool(self.generate_common_js_api),
        );
        let opt_str = |out: &mut Map<String, Value>, key: &str, v: &Option<String>| {
            if let Some(v) = v {
                out.insert(key.into(), Value::String(v.clone()));
            }
        };
        if let Some(tc) = self.typescript_compiler {
            out.insert("typescriptCompiler".into(), tc.as_str().into());
        }
        opt_str(&mut out, "$schema", &self.schema_url);
        if let Some(v) = &self.auth_kit {
            out.insert("authKit".into(), v.clone());
        }
        if let Some(v) = &self.ai_files {
            out.insert("aiFiles".into(), v.clone());
        }
        opt_str(&mut out, "project", &self.project);
        opt_str(&mut out, "team", &self.team);
        opt_str(&mut out, "prodUrl", &self.prod_url);
        out.extend(self.extra.clone());
        Value::Object(out)
    }
}

fn node_json(node: &NodeConfig) -> Value {
    let mut n = Map::new();
    n.insert(
        "externalPackages".into(),
        Value::Array(
            node.external_packages
                .iter()
                .map(|p| Value::String(p.clone()))
                .collect(),
        ),
    );
    if let Some(v) = &node.node_version {
        n.insert("nodeVersion".into(), Value::String(v.clone()));
    }
    n.extend(node.extra.clone());
    Value::Object(n)
}

fn codegen_json(codegen: &CodegenConfig) -> Value {
    let mut c = Map::new();
    c.insert("staticApi".into(), Value::Bool(codegen.static_api));
    c.insert(
        "staticDataModel".into(),
        Value::Bool(codegen.static_data_model),
    );
    if let Some(v) = codegen.legacy_component_api {
        c.insert("legacyComponentApi".into(), Value::Bool(v));
    }
    if let Some(v) = codegen.file_type {
        c.insert("fileType".into(), v.as_str().into());
    }
    c.extend(codegen.extra.clone());
    Value::Object(c)
}

/// Lexical normalisation of an absolute path (`.` and `..` removed), as
/// Node's `path.resolve` does; never touches the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(component);
                }
                // `/..` stays `/`.
                if out.as_os_str().is_empty() && path.has_root() {
                    out.push("/");
                }
            }
            other => out.push(other),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Validation, in the order the reference reports problems.
// ---------------------------------------------------------------------------

struct Issue {
    path: Vec<String>,
    message: String,
}

impl Issue {
    fn describe(&self) -> String {
        if self.path.is_empty() {
            format!("`convex.json`: {}", self.message)
        } else {
            format!(
                "`{}` in `convex.json`: {}",
                self.path.join("."),
                self.message
            )
        }
    }
}

#[derive(Default)]
struct Validator {
    issues: Vec<Issue>,
    unknown: Vec<String>,
}

/// A JSON value's type as zod (and so the official CLI's messages) names it.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Validator {
    fn wrong_type(&mut self, path: &[&str], expected: &str, got: &Value) {
        self.issues.push(Issue {
            path: path.iter().map(|s| s.to_string()).collect(),
            message: format!("expected {expected}, found {}", type_name(got)),
        });
    }

    fn custom(&mut self, path: &[&str], message: String) {
        self.issues.push(Issue {
            path: path.iter().map(|s| s.to_string()).collect(),
            message,
        });
    }

    fn string(&mut self, obj: &Map<String, Value>, key: &str, path: &[&str]) -> Option<String> {
        match obj.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.wrong_type(path, "a string", other);
                None
            }
        }
    }

    fn boolean(&mut self, obj: &Map<String, Value>, key: &str, path: &[&str]) -> Option<bool> {
        match obj.get(key)? {
            Value::Bool(b) => Some(*b),
            other => {
                self.wrong_type(path, "a boolean", other);
                None
            }
        }
    }

    fn string_array(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &[&str],
    ) -> Option<Vec<String>> {
        match obj.get(key)? {
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        other => {
                            let index = i.to_string();
                            let mut p: Vec<&str> = path.to_vec();
                            p.push(&index);
                            self.wrong_type(&p, "a string", other);
                        }
                    }
                }
                Some(out)
            }
            other => {
                self.wrong_type(path, "an array of strings", other);
                None
            }
        }
    }

    fn enumeration(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &[&str],
        allowed: &[&str],
    ) -> Option<String> {
        let value = obj.get(key)?;
        let quoted = allowed
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(" or ");
        match value {
            Value::String(s) if allowed.contains(&s.as_str()) => Some(s.clone()),
            Value::String(s) => {
                self.custom(path, format!("expected {quoted}, found \"{s}\""));
                None
            }
            other => {
                self.wrong_type(path, &quoted, other);
                None
            }
        }
    }

    fn object<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &[&str],
    ) -> Option<&'a Map<String, Value>> {
        match obj.get(key)? {
            Value::Object(o) => Some(o),
            other => {
                self.wrong_type(path, "an object", other);
                None
            }
        }
    }

    /// Records keys of `obj` outside `known`, and returns them as written.
    fn unknown_keys(
        &mut self,
        obj: &Map<String, Value>,
        known: &[&str],
        prefix: &str,
    ) -> Map<String, Value> {
        let mut extra = Map::new();
        for (k, v) in obj {
            if !known.contains(&k.as_str()) {
                self.unknown.push(format!("{prefix}{k}"));
                extra.insert(k.clone(), v.clone());
            }
        }
        extra
    }
}

fn parse_top_level(obj: &Map<String, Value>, v: &mut Validator) -> ProjectConfig {
    let functions = v
        .string(obj, "functions", &["functions"])
        .unwrap_or_else(|| DEFAULT_FUNCTIONS_DIR.to_string());

    let mut node = NodeConfig::default();
    if let Some(n) = v.object(obj, "node", &["node"]) {
        node.external_packages = v
            .string_array(n, "externalPackages", &["node", "externalPackages"])
            .unwrap_or_default();
        node.node_version = v.string(n, "nodeVersion", &["node", "nodeVersion"]);
        node.extra = v.unknown_keys(n, &["externalPackages", "nodeVersion"], "node.");
    }

    let mut codegen = CodegenConfig::default();
    if let Some(c) = v.object(obj, "codegen", &["codegen"]) {
        codegen.static_api = v
            .boolean(c, "staticApi", &["codegen", "staticApi"])
            .unwrap_or(false);
        codegen.static_data_model = v
            .boolean(c, "staticDataModel", &["codegen", "staticDataModel"])
            .unwrap_or(false);
        codegen.legacy_component_api =
            v.boolean(c, "legacyComponentApi", &["codegen", "legacyComponentApi"]);
        codegen.file_type = v
            .enumeration(c, "fileType", &["codegen", "fileType"], &["ts", "js/dts"])
            .map(|s| {
                if s == "ts" {
                    CodegenFileType::Ts
                } else {
                    CodegenFileType::JsDts
                }
            });
        codegen.extra = v.unknown_keys(
            c,
            &[
                "staticApi",
                "staticDataModel",
                "legacyComponentApi",
                "fileType",
            ],
            "codegen.",
        );
    }

    let bundler = v
        .object(obj, "bundler", &["bundler"])
        .map(|b| BundlerConfig {
            include_sources_content: v
                .boolean(
                    b,
                    "includeSourcesContent",
                    &["bundler", "includeSourcesContent"],
                )
                .unwrap_or(false),
            extra: v.unknown_keys(b, &["includeSourcesContent"], "bundler."),
        });

    let generate_common_js_api = v
        .boolean(obj, "generateCommonJSApi", &["generateCommonJSApi"])
        .unwrap_or(false);
    let typescript_compiler = v
        .enumeration(
            obj,
            "typescriptCompiler",
            &["typescriptCompiler"],
            &["tsc", "tsgo"],
        )
        .map(|s| {
            if s == "tsc" {
                TypescriptCompiler::Tsc
            } else {
                TypescriptCompiler::Tsgo
            }
        });
    let schema_url = v.string(obj, "$schema", &["$schema"]);
    let auth_kit = v
        .object(obj, "authKit", &["authKit"])
        .map(|a| validate_auth_kit(a, v));
    let ai_files = v
        .object(obj, "aiFiles", &["aiFiles"])
        .map(|a| validate_ai_files(a, v));
    let project = v.string(obj, "project", &["project"]);
    let team = v.string(obj, "team", &["team"]);
    let prod_url = v.string(obj, "prodUrl", &["prodUrl"]);
    let extra = v.unknown_keys(
        obj,
        &[
            "functions",
            "node",
            "codegen",
            "bundler",
            "generateCommonJSApi",
            "typescriptCompiler",
            "$schema",
            "authKit",
            "aiFiles",
            "project",
            "team",
            "prodUrl",
        ],
        "",
    );

    ProjectConfig {
        functions,
        node,
        generate_common_js_api,
        codegen,
        bundler,
        typescript_compiler,
        schema_url,
        auth_kit,
        ai_files,
        project,
        team,
        prod_url,
        extra,
        unknown_keys: std::mem::take(&mut v.unknown),
        source: ConfigSource::File,
    }
}

/// `authKit`: validated like the reference; unknown sub-keys are dropped.
fn validate_auth_kit(obj: &Map<String, Value>, v: &mut Validator) -> Value {
    let mut out = Map::new();
    for env in ["dev", "preview", "prod"] {
        let Some(e) = v.object(obj, env, &["authKit", env]) else {
            continue;
        };
        let mut env_out = Map::new();
        if let Some(t) = v.enumeration(
            e,
            "environmentType",
            &["authKit", env, "environmentType"],
            &["development", "staging", "production"],
        ) {
            env_out.insert("environmentType".into(), Value::String(t));
        }
        match e.get("configure") {
            None => {}
            Some(Value::Bool(false)) => {
                env_out.insert("configure".into(), Value::Bool(false));
            }
            Some(Value::Object(c)) => {
                let mut c_out = Map::new();
                let base = ["authKit", env, "configure"];
                for key in ["redirectUris", "corsOrigins"] {
                    let path = [base[0], base[1], base[2], key];
                    if let Some(list) = v.string_array(c, key, &path) {
                        c_out.insert(key.into(), list.into_iter().map(Value::String).collect());
                    }
                }
                let path = [base[0], base[1], base[2], "appHomepageUrl"];
                if let Some(url) = v.string(c, "appHomepageUrl", &path) {
                    c_out.insert("appHomepageUrl".into(), Value::String(url));
                }
                env_out.insert("configure".into(), Value::Object(c_out));
            }
            Some(other) => {
                v.wrong_type(&["authKit", env, "configure"], "false or an object", other)
            }
        }
        match e.get("localEnvVars") {
            None => {}
            Some(Value::Bool(false)) => {
                env_out.insert("localEnvVars".into(), Value::Bool(false));
            }
            Some(Value::Object(vars)) => {
                for (name, value) in vars {
                    if !value.is_string() {
                        v.wrong_type(&["authKit", env, "localEnvVars", name], "a string", value);
                    }
                }
                env_out.insert("localEnvVars".into(), Value::Object(vars.clone()));
            }
            Some(other) => v.wrong_type(
                &["authKit", env, "localEnvVars"],
                "false or an object of strings",
                other,
            ),
        }
        out.insert(env.into(), Value::Object(env_out));
    }
    let env_field = |env: &str, field: &str| out.get(env).and_then(|e| e.get(field)).cloned();
    if env_field("dev", "environmentType").is_some()
        || env_field("preview", "environmentType").is_some()
    {
        v.custom(
            &["authKit", "environmentType"],
            "`environmentType` is only allowed in the `prod` section".into(),
        );
    } else if ["preview", "prod"].iter().any(
        |env| matches!(env_field(env, "localEnvVars"), Some(ref x) if *x != Value::Bool(false)),
    ) {
        v.custom(
            &["authKit", "localEnvVars"],
            "`localEnvVars` is only supported for dev deployments; set preview and prod \
             environment variables in your deployment platform instead"
                .into(),
        );
    }
    Value::Object(out)
}

/// `aiFiles`: validated like the reference; unknown sub-keys are dropped.
fn validate_ai_files(obj: &Map<String, Value>, v: &mut Validator) -> Value {
    let mut out = Map::new();
    for key in ["enabled", "disableStalenessMessage"] {
        if let Some(b) = v.boolean(obj, key, &["aiFiles", key]) {
            out.insert(key.into(), Value::Bool(b));
        }
    }
    if let Some(skills) = v.object(obj, "skills", &["aiFiles", "skills"]) {
        let mut s_out = Map::new();
        if let Some(agents) = v.string_array(skills, "agents", &["aiFiles", "skills", "agents"]) {
            s_out.insert(
                "agents".into(),
                agents.into_iter().map(Value::String).collect(),
            );
        }
        out.insert("skills".into(), Value::Object(s_out));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<ProjectConfig> {
        ProjectConfig::from_value(&v)
    }

    /// Each file is read once: later changes on disk are not seen by the
    /// same `ProjectFiles`, errors included, and a missing `convex.json`
    /// takes its defaults from the `package.json` already read.
    #[test]
    fn project_files_read_each_file_once() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(
            root.join("package.json"),
            r#"{"dependencies": {"convex": "1", "react-scripts": "5"}}"#,
        )
        .unwrap();
        let files = ProjectFiles::new(root);
        assert!(files.ensure_has_convex_dependency("push").is_ok());
        std::fs::write(root.join("package.json"), "{}").unwrap();
        assert!(files.ensure_has_convex_dependency("push").is_ok());
        // The defaults of a create-react-app project, from the first reading.
        assert_eq!(files.config().unwrap().functions, "src/convex/");
        std::fs::write(root.join(CONVEX_JSON), r#"{"functions": "x/"}"#).unwrap();
        assert_eq!(files.config().unwrap().functions, "src/convex/");
        // A fresh reading sees the files as they are now.
        let fresh = ProjectFiles::new(root);
        assert_eq!(fresh.config().unwrap().functions, "x/");
        assert!(fresh.ensure_has_convex_dependency("push").is_err());

        std::fs::write(root.join("package.json"), "[1,").unwrap();
        let broken = ProjectFiles::new(root);
        let first = format!("{:#}", broken.package_json().unwrap_err());
        assert!(first.contains("not valid JSON"), "{first}");
        std::fs::write(root.join("package.json"), "{}").unwrap();
        assert_eq!(format!("{:#}", broken.package_json().unwrap_err()), first);
    }

    #[test]
    fn empty_object_gets_defaults() {
        let c = parse(json!({})).unwrap();
        assert_eq!(c.functions, "convex/");
        assert!(c.node.external_packages.is_empty());
        assert_eq!(c.node.node_version, None);
        assert!(!c.generate_common_js_api);
        assert!(!c.include_sources_content());
        assert_eq!(
            serde_json::to_string(&c.to_reference_json()).unwrap(),
            r#"{"functions":"convex/","node":{"externalPackages":[]},"codegen":{"staticApi":false,"staticDataModel":false},"generateCommonJSApi":false}"#
        );
    }

    #[test]
    fn every_known_key_is_read() {
        let c = parse(json!({
            "$schema": "x",
            "functions": "src/fns",
            "node": {"externalPackages": ["a", "*"], "nodeVersion": "20"},
            "codegen": {"staticApi": true, "staticDataModel": true, "legacyComponentApi": true, "fileType": "ts"},
            "bundler": {"includeSourcesContent": true},
            "typescriptCompiler": "tsgo",
            "project": "p", "team": "t", "prodUrl": "u",
            "aiFiles": {"enabled": false, "other": 1},
            "authKit": {"dev": {"configure": false}}
        }))
        .unwrap();
        assert_eq!(c.functions, "src/fns");
        assert_eq!(c.node.external_packages, vec!["a", "*"]);
        assert_eq!(c.node.node_version.as_deref(), Some("20"));
        assert!(c.codegen.static_api && c.codegen.static_data_model);
        assert_eq!(c.codegen.legacy_component_api, Some(true));
        assert_eq!(c.codegen.file_type, Some(CodegenFileType::Ts));
        assert!(c.include_sources_content());
        assert_eq!(c.typescript_compiler, Some(TypescriptCompiler::Tsgo));
        assert!(c.unknown_keys.is_empty());
        // aiFiles drops its unknown sub-key, as the reference's schema does.
        assert_eq!(c.ai_files, Some(json!({"enabled": false})));
        assert_eq!(
            serde_json::to_string(&c.to_reference_json()).unwrap(),
            r#"{"functions":"src/fns","node":{"externalPackages":["a","*"],"nodeVersion":"20"},"codegen":{"staticApi":true,"staticDataModel":true,"legacyComponentApi":true,"fileType":"ts"},"bundler":{"includeSourcesContent":true},"generateCommonJSApi":false,"typescriptCompiler":"tsgo","$schema":"x","authKit":{"dev":{"configure":false}},"aiFiles":{"enabled":false},"project":"p","team":"t","prodUrl":"u"}"#
        );
    }

    #[test]
    fn unknown_keys_are_kept_and_listed() {
        let c = parse(json!({"zzz": 1, "node": {"extra": true}, "functions": "convex/"})).unwrap();
        assert_eq!(c.unknown_keys, vec!["node.extra", "zzz"]);
        assert_eq!(
            serde_json::to_string(&c.to_reference_json()).unwrap(),
            r#"{"functions":"convex/","node":{"externalPackages":[],"extra":true},"codegen":{"staticApi":false,"staticDataModel":false},"generateCommonJSApi":false,"zzz":1}"#
        );
        let first = c.take_unknown_key_warnings();
        assert_eq!(first.len(), 1);
        assert!(first[0].contains("`node.extra`, `zzz`"), "{first:?}");
        assert!(c.take_unknown_key_warnings().is_empty(), "warned twice");
    }

    #[test]
    fn wrong_types_name_the_key() {
        let cases = [
            (json!({"functions": 3}), "`functions`"),
            (
                json!({"node": {"externalPackages": "x"}}),
                "`node.externalPackages`",
            ),
            (
                json!({"node": {"externalPackages": ["a", 1]}}),
                "`node.externalPackages.1`",
            ),
            (json!({"node": {"nodeVersion": 20}}), "`node.nodeVersion`"),
            (json!({"node": []}), "`node`"),
            (
                json!({"codegen": {"staticApi": "yes"}}),
                "`codegen.staticApi`",
            ),
            (
                json!({"codegen": {"fileType": "tsx"}}),
                "`codegen.fileType`",
            ),
            (
                json!({"bundler": {"includeSourcesContent": 1}}),
                "`bundler.includeSourcesContent`",
            ),
            (
                json!({"generateCommonJSApi": null}),
                "`generateCommonJSApi`",
            ),
            (json!({"typescriptCompiler": "swc"}), "`typescriptCompiler`"),
            (json!({"$schema": false}), "`$schema`"),
            (json!({"prodUrl": 1}), "`prodUrl`"),
            (
                json!({"authKit": {"dev": {"environmentType": "production"}}}),
                "`authKit.environmentType`",
            ),
            (
                json!({"authKit": {"prod": {"localEnvVars": {"A": "b"}}}}),
                "`authKit.localEnvVars`",
            ),
            (
                json!({"aiFiles": {"skills": {"agents": [1]}}}),
                "`aiFiles.skills.agents.0`",
            ),
        ];
        for (value, key) in cases {
            let err = parse(value.clone()).unwrap_err().to_string();
            assert!(err.contains(key), "{value}: {err}");
        }
        // The first problem in the reference's key order is the one reported.
        let err = parse(json!({"prodUrl": 1, "functions": 2}))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("`functions`"), "{err}");
    }

    #[test]
    fn commonjs_api_conflicts_with_ts_codegen() {
        let err = parse(json!({"generateCommonJSApi": true, "codegen": {"fileType": "ts"}}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("generateCommonJSApi"), "{err}");
        parse(json!({"generateCommonJSApi": true, "codegen": {"fileType": "js/dts"}})).unwrap();
    }

    #[test]
    fn non_object_and_bad_json_are_rejected() {
        assert!(parse(json!([1])).is_err());
        assert!(parse(json!(null)).is_err());
        let err = ProjectConfig::parse("{ nope").unwrap_err().to_string();
        assert!(err.contains("Parsing convex.json failed"), "{err}");
    }

    #[test]
    fn functions_dir_resolves_like_node() {
        let root = Path::new("/p/app");
        let dir = |f: &str| {
            let mut c = parse(json!({})).unwrap();
            c.functions = f.to_string();
            c.functions_dir(root)
        };
        assert_eq!(dir("convex/"), PathBuf::from("/p/app/convex"));
        assert_eq!(dir("./src/convex"), PathBuf::from("/p/app/src/convex"));
        assert_eq!(dir("../shared/convex"), PathBuf::from("/p/shared/convex"));
        assert_eq!(dir("/abs/convex"), PathBuf::from("/p/app/abs/convex"));
        assert_eq!(dir(""), PathBuf::from("/p/app"));
    }

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn missing_convex_json_uses_defaults_and_react_scripts_rule() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "package.json",
            r#"{"dependencies":{"convex":"1"}}"#,
        );
        let c = ProjectConfig::read(tmp.path()).unwrap();
        assert_eq!(c.source, ConfigSource::Defaults);
        assert_eq!(c.functions, "convex/");
        assert_eq!(
            serde_json::to_string(&c.to_reference_json()).unwrap(),
            r#"{"functions":"convex/","node":{"externalPackages":[]},"generateCommonJSApi":false,"codegen":{"staticApi":false,"staticDataModel":false},"aiFiles":{}}"#
        );
        write(
            tmp.path(),
            "package.json",
            r#"{"devDependencies":{"react-scripts":"5"}}"#,
        );
        assert_eq!(
            ProjectConfig::read(tmp.path()).unwrap().functions,
            "src/convex/"
        );
        // Without package.json the default cannot be decided.
        std::fs::remove_file(tmp.path().join("package.json")).unwrap();
        assert!(ProjectConfig::read(tmp.path()).is_err());
    }

    #[test]
    fn src_convex_json_is_rejected() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "package.json", "{}");
        write(tmp.path(), "src/convex.json", "{}");
        let err = ProjectConfig::read(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("move it to the root"), "{err}");
        write(tmp.path(), "convex.json", "{}");
        let err = ProjectConfig::read(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("Both"), "{err}");
    }

    #[test]
    fn convex_dependency_check() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(ensure_has_convex_dependency(tmp.path(), "push").is_err());
        write(
            tmp.path(),
            "package.json",
            r#"{"dependencies":{"react":"1"}}"#,
        );
        let err = ensure_has_convex_dependency(tmp.path(), "push")
            .unwrap_err()
            .to_string();
        assert!(err.contains("In order to push, add `convex`"), "{err}");
        for section in ["dependencies", "devDependencies", "peerDependencies"] {
            write(
                tmp.path(),
                "package.json",
                &format!(r#"{{"{section}":{{"convex":"^1.48.0"}}}}"#),
            );
            ensure_has_convex_dependency(tmp.path(), "push").unwrap();
        }
        write(tmp.path(), "package.json", "[1,");
        assert!(ensure_has_convex_dependency(tmp.path(), "push").is_err());
    }
}
