//! The body of `evaluate_schema`, `evaluate_push` and `start_push`
//! (`StartPushRequest`), module hashing, and the brotli encoding of push
//! bodies.
//!
//! Key order follows the official CLI's `JSON.stringify` output (the server
//! does not care, but request dumps such as `--write-push-request` then read
//! the same): `adminKey, dryRun, functions, appDefinition,
//! componentDefinitions, nodeDependencies, nodeVersion?, forCodegen`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;

use crate::bundler::{
    AppBundle, ComponentBundle, DefinitionModule, Environment, Module, NodeDependency,
};

/// `appDefinition`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppDefinition {
    pub definition: DefinitionModule,
    pub dependencies: Vec<String>,
    pub schema: Option<Module>,
    pub changed_modules: Vec<Module>,
    pub unchanged_module_hashes: Vec<ModuleHash>,
    pub udf_server_version: String,
}

/// One entry of `componentDefinitions`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentDefinition {
    pub definition_path: String,
    pub definition: DefinitionModule,
    pub dependencies: Vec<String>,
    pub schema: Option<Module>,
    pub functions: Vec<Module>,
    pub udf_server_version: String,
}

/// A module the server already has: sent by hash instead of source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleHash {
    pub path: String,
    pub environment: Environment,
    pub sha256: String,
}

/// The body of `start_push` (and of the two evaluation calls).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartPushRequest {
    pub admin_key: String,
    pub dry_run: bool,
    /// `convex.json`'s `functions`, verbatim.
    pub functions: String,
    pub app_definition: AppDefinition,
    pub component_definitions: Vec<ComponentDefinition>,
    pub node_dependencies: Vec<NodeDependency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_version: Option<String>,
    pub for_codegen: bool,
}

impl StartPushRequest {
    /// Compact JSON, as `JSON.stringify` writes it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a push request always serialises")
    }

    /// Whether any schema module calls `.staged(` (then the slow-schema
    /// report runs even on real pushes). The bundled `convex` library's own
    /// comments contain the text, so in practice every `defineSchema` schema
    /// matches; the reference has the same false positive.
    pub fn stages_validators(&self) -> bool {
        std::iter::once(&self.app_definition.schema)
            .chain(self.component_definitions.iter().map(|c| &c.schema))
            .flatten()
            .any(|schema| schema.source.contains(".staged("))
    }

    /// Sizes for the `startComponentsPushAndCodegen` span: bytes and counts
    /// of the component modules per runtime (the app's are not counted, as
    /// in the reference).
    pub fn component_module_sizes(&self) -> ModuleSizes {
        let mut sizes = ModuleSizes::default();
        for module in self.component_definitions.iter().flat_map(|c| &c.functions) {
            let len = utf16_len(&module.source)
                + module.source_map.as_deref().map(utf16_len).unwrap_or(0);
            match module.environment {
                Environment::Isolate => {
                    sizes.v8_size += len;
                    sizes.v8_count += 1;
                }
                Environment::Node => {
                    sizes.node_size += len;
                    sizes.node_count += 1;
                }
            }
        }
        sizes
    }
}

/// See [`StartPushRequest::component_module_sizes`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModuleSizes {
    pub v8_size: usize,
    pub v8_count: usize,
    pub node_size: usize,
    pub node_count: usize,
}

/// JavaScript string length (UTF-16 code units).
fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// A module hash as the server reports it (`get_config_hashes`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RemoteModuleHash {
    pub path: String,
    pub hash: String,
    pub environment: Environment,
}

impl<'de> Deserialize<'de> for Environment {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "isolate" => Ok(Environment::Isolate),
            "node" => Ok(Environment::Node),
            other => Err(serde::de::Error::custom(format!(
                "unknown module environment `{other}`"
            ))),
        }
    }
}

/// `hex(sha256(source ‖ sourceMap))`: how the server identifies a module.
pub fn module_hash(module: &Module) -> String {
    let mut hasher = Sha256::new();
    hasher.update(module.source.as_bytes());
    hasher.update(module.source_map.as_deref().unwrap_or("").as_bytes());
    let digest = hasher.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits the app's modules into those the server already has (same path,
/// same environment, same hash) and those to upload, keeping the order.
pub fn partition_modules(
    functions: Vec<Module>,
    remote: &[RemoteModuleHash],
) -> (Vec<ModuleHash>, Vec<Module>) {
    let by_path: HashMap<&str, &RemoteModuleHash> =
        remote.iter().map(|h| (h.path.as_str(), h)).collect();
    let mut unchanged = Vec::new();
    let mut changed = Vec::new();
    for module in functions {
        let hash = module_hash(&module);
        let same = by_path
            .get(module.path.as_str())
            .is_some_and(|old| old.environment == module.environment && old.hash == hash);
        if same {
            unchanged.push(ModuleHash {
                path: module.path,
                environment: module.environment,
                sha256: hash,
            });
        } else {
            changed.push(module);
        }
    }
    (unchanged, changed)
}

/// `(path, hash, environment)` of every module of the app, as
/// `get_config_hashes` reports them once the server has the modules.
pub fn app_module_hashes(functions: &[Module]) -> Vec<RemoteModuleHash> {
    functions
        .iter()
        .map(|module| RemoteModuleHash {
            path: module.path.clone(),
            hash: module_hash(module),
            environment: module.environment,
        })
        .collect()
}

/// A request's encoded body prepared ahead, from the hashes the server is
/// expected to report (`dev`: those of the previous push). It stands in
/// only for the same request (see [`Speculative::body_for`]).
pub struct Speculative {
    /// The modules the prepared request sends by hash: given the same
    /// bundle and parameters, the only part that depends on the server.
    unchanged: Vec<ModuleHash>,
    /// The length of the request's JSON.
    pub json_len: usize,
    body: Vec<u8>,
}

impl Speculative {
    /// Builds and encodes the request `bundle` makes if the server reports
    /// `expected` (while the real report is on its way).
    pub fn prepare(
        bundle: AppBundle,
        expected: &[RemoteModuleHash],
        params: &RequestParams<'_>,
    ) -> Speculative {
        let request = build_request(bundle, Some(expected), params);
        let json = request.to_json();
        Speculative {
            unchanged: request.app_definition.unchanged_module_hashes,
            json_len: json.len(),
            body: brotli_compress(json.as_bytes()),
        }
    }

    /// The prepared body, when `request` (built from the same bundle and
    /// parameters) sends the same modules by hash, and so is the request
    /// prepared.
    pub fn body_for(self, request: &StartPushRequest) -> Option<(usize, Vec<u8>)> {
        (request.app_definition.unchanged_module_hashes == self.unchanged)
            .then_some((self.json_len, self.body))
    }
}

/// Everything [`build_request`] needs besides the bundles.
pub struct RequestParams<'a> {
    pub admin_key: &'a str,
    pub dry_run: bool,
    pub functions: &'a str,
    pub node_version: Option<&'a str>,
    pub udf_server_version: &'a str,
    pub for_codegen: bool,
}

/// Assembles the request from the bundles. `remote` is the server's module
/// hashes, or `None` to send every module (`--push-all-modules`).
pub fn build_request(
    bundle: AppBundle,
    remote: Option<&[RemoteModuleHash]>,
    params: &RequestParams<'_>,
) -> StartPushRequest {
    let AppBundle {
        definition,
        dependencies,
        schema,
        functions,
        node_dependencies,
        components,
        input_files: _,
    } = bundle;
    let (unchanged_module_hashes, changed_modules) = match remote {
        Some(remote) => partition_modules(functions, remote),
        None => (Vec::new(), functions),
    };
    let version = params.udf_server_version.to_string();
    StartPushRequest {
        admin_key: params.admin_key.to_string(),
        dry_run: params.dry_run,
        functions: params.functions.to_string(),
        app_definition: AppDefinition {
            definition,
            dependencies,
            schema,
            changed_modules,
            unchanged_module_hashes,
            udf_server_version: version.clone(),
        },
        component_definitions: components
            .into_iter()
            .map(|c: ComponentBundle| ComponentDefinition {
                definition_path: c.definition_path,
                definition: c.definition,
                dependencies: c.dependencies,
                schema: c.schema,
                functions: c.functions,
                udf_server_version: version.clone(),
            })
            .collect(),
        node_dependencies,
        node_version: params.node_version.map(str::to_string),
        for_codegen: params.for_codegen,
    }
}

/// Brotli as the official CLI compresses push bodies: quality 4, text mode.
pub fn brotli_compress(data: &[u8]) -> Vec<u8> {
    // A window just large enough for the whole body compresses exactly as
    // well as the largest one, and the encoder's ring buffer is sized from
    // it (a 22-bit window costs 8 MiB of memory whatever the body's size).
    let needed_bits = usize::BITS - data.len().max(1).leading_zeros();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 4,
        lgwin: needed_bits.clamp(16, 22) as i32,
        size_hint: data.len(),
        mode: brotli::enc::backward_references::BrotliEncoderMode::BROTLI_MODE_TEXT,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    {
        let mut writer = brotli::CompressorWriter::with_params(&mut out, 64 * 1024, &params);
        writer
            .write_all(data)
            .expect("compressing into memory cannot fail");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(path: &str, source: &str, map: Option<&str>, env: Environment) -> Module {
        Module {
            path: path.into(),
            source: source.into(),
            source_map: map.map(str::to_string),
            environment: env,
        }
    }

    fn definition() -> DefinitionModule {
        DefinitionModule {
            path: "convex.config.js".into(),
            source: "export default {}".into(),
            source_map: None,
        }
    }

    #[test]
    fn hash_is_sha256_of_source_then_map() {
        // sha256("ab") — the source map is appended to the source.
        let m = module("x.js", "a", Some("b"), Environment::Isolate);
        assert_eq!(
            module_hash(&m),
            "fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603"
        );
        let no_map = module("x.js", "ab", None, Environment::Isolate);
        assert_eq!(module_hash(&no_map), module_hash(&m));
    }

    #[test]
    fn unchanged_needs_same_path_environment_and_hash() {
        let a = module("a.js", "A", None, Environment::Isolate);
        let b = module("b.js", "B", None, Environment::Node);
        let c = module("c.js", "C", None, Environment::Isolate);
        let remote = vec![
            RemoteModuleHash {
                path: "a.js".into(),
                hash: module_hash(&a),
                environment: Environment::Isolate,
            },
            // Same hash, other runtime: must be re-sent.
            RemoteModuleHash {
                path: "b.js".into(),
                hash: module_hash(&b),
                environment: Environment::Isolate,
            },
            RemoteModuleHash {
                path: "c.js".into(),
                hash: "00".into(),
                environment: Environment::Isolate,
            },
        ];
        let (unchanged, changed) =
            partition_modules(vec![a.clone(), b.clone(), c.clone()], &remote);
        assert_eq!(
            unchanged,
            vec![ModuleHash {
                path: "a.js".into(),
                environment: Environment::Isolate,
                sha256: module_hash(&a)
            }]
        );
        assert_eq!(changed, vec![b, c]);
    }

    fn sample_request(node_version: Option<&str>) -> StartPushRequest {
        let a_hash = RemoteModuleHash {
            path: "a.js".into(),
            hash: module_hash(&module("a.js", "A", None, Environment::Isolate)),
            environment: Environment::Isolate,
        };
        build_request(
            sample_bundle(),
            Some(&[a_hash]),
            &RequestParams {
                admin_key: "prod:x|k",
                dry_run: false,
                functions: "convex/",
                node_version,
                udf_server_version: "1.48.0",
                for_codegen: false,
            },
        )
    }

    #[test]
    fn a_prepared_body_stands_in_only_for_the_same_request() {
        let params = RequestParams {
            admin_key: "prod:x|k",
            dry_run: false,
            functions: "convex/",
            node_version: None,
            udf_server_version: "1.48.0",
            for_codegen: false,
        };
        let bundle = sample_bundle();
        // What the server reports once it has this push's modules.
        let pushed = app_module_hashes(&bundle.functions);
        assert_eq!(pushed.len(), 2);
        assert_eq!(pushed[1].hash, module_hash(&bundle.functions[1]));
        let real =
            |remote: &[RemoteModuleHash]| build_request(sample_bundle(), Some(remote), &params);
        let prepared = Speculative::prepare(sample_bundle(), &pushed, &params);
        let request = real(&pushed);
        let json = request.to_json();
        let (len, body) = prepared.body_for(&request).expect("same request");
        assert_eq!(len, json.len());
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &body[..], &mut decoded).unwrap();
        assert_eq!(decoded, json.as_bytes());
        // Both modules went by hash.
        assert_eq!(request.app_definition.unchanged_module_hashes.len(), 2);
        // The server reports other hashes: the prepared body is not used.
        let prepared = Speculative::prepare(sample_bundle(), &pushed, &params);
        assert!(prepared.body_for(&real(&pushed[..1])).is_none());
    }

    fn sample_bundle() -> AppBundle {
        AppBundle {
            definition: definition(),
            dependencies: vec!["counter".into()],
            schema: Some(module("schema.js", "s", Some("{}"), Environment::Isolate)),
            functions: vec![
                module("a.js", "A", None, Environment::Isolate),
                module("n.js", "N", None, Environment::Node),
            ],
            node_dependencies: vec![NodeDependency {
                name: "ws".into(),
                version: "8.0.0".into(),
            }],
            components: vec![ComponentBundle {
                definition_path: "counter".into(),
                definition: definition(),
                dependencies: vec![],
                schema: None,
                functions: vec![module("c.js", "C", None, Environment::Isolate)],
            }],
            input_files: vec![],
        }
    }

    fn keys(value: &serde_json::Value) -> Vec<&str> {
        value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn request_shape_and_key_order() {
        let json: serde_json::Value =
            serde_json::from_str(&sample_request(Some("20")).to_json()).unwrap();
        assert_eq!(
            keys(&json),
            [
                "adminKey",
                "dryRun",
                "functions",
                "appDefinition",
                "componentDefinitions",
                "nodeDependencies",
                "nodeVersion",
                "forCodegen"
            ]
        );
        assert_eq!(
            keys(&json["appDefinition"]),
            [
                "definition",
                "dependencies",
                "schema",
                "changedModules",
                "unchangedModuleHashes",
                "udfServerVersion"
            ]
        );
        assert_eq!(
            keys(&json["componentDefinitions"][0]),
            [
                "definitionPath",
                "definition",
                "dependencies",
                "schema",
                "functions",
                "udfServerVersion"
            ]
        );
        let app = &json["appDefinition"];
        assert_eq!(app["changedModules"].as_array().unwrap().len(), 1);
        assert_eq!(app["changedModules"][0]["path"], "n.js");
        assert_eq!(app["changedModules"][0]["environment"], "node");
        // No source map: the key is left out.
        assert!(app["changedModules"][0].get("sourceMap").is_none());
        assert_eq!(
            keys(&app["unchangedModuleHashes"][0]),
            ["path", "environment", "sha256"]
        );
        assert_eq!(app["schema"]["sourceMap"], "{}");
        assert_eq!(
            json["componentDefinitions"][0]["schema"],
            serde_json::Value::Null
        );
        assert_eq!(
            json["nodeDependencies"],
            serde_json::json!([{"name": "ws", "version": "8.0.0"}])
        );
        assert_eq!(json["nodeVersion"], "20");
        assert_eq!(json["forCodegen"], false);
    }

    #[test]
    fn node_version_key_absent_when_unset() {
        let json: serde_json::Value =
            serde_json::from_str(&sample_request(None).to_json()).unwrap();
        assert!(json.get("nodeVersion").is_none());
    }

    #[test]
    fn component_sizes_count_components_only() {
        let sizes = sample_request(None).component_module_sizes();
        assert_eq!(
            sizes,
            ModuleSizes {
                v8_size: 1,
                v8_count: 1,
                node_size: 0,
                node_count: 0
            }
        );
    }

    #[test]
    fn brotli_round_trip() {
        let text = sample_request(None).to_json().repeat(50);
        let compressed = brotli_compress(text.as_bytes());
        assert!(compressed.len() < text.len() / 4);
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &compressed[..], &mut decoded).unwrap();
        assert_eq!(decoded, text.as_bytes());
    }

    #[test]
    fn staged_detection() {
        let mut request = sample_request(None);
        assert!(!request.stages_validators());
        request.app_definition.schema = Some(module(
            "schema.js",
            "defineTable({}).staged({})",
            None,
            Environment::Isolate,
        ));
        assert!(request.stages_validators());
    }
}
