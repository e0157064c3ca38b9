//! The parts of the `start_push` response's `analysis` that codegen reads.
//! Unknown fields are ignored; missing optional ones default.

use anyhow::{Context as _, Result};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// `analysis`: one entry per component definition path (`""` is the app).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Analysis(pub BTreeMap<String, ComponentAnalysis>);

impl Analysis {
    /// Reads the `analysis` object of a `start_push` response.
    pub fn from_value(analysis: &Value) -> Result<Analysis> {
        serde_json::from_value(analysis.clone()).context("the server's push analysis is malformed")
    }

    /// Reads `analysis` out of a whole `start_push` response.
    pub fn from_start_push_response(response: &Value) -> Result<Analysis> {
        let analysis = response
            .get("analysis")
            .context("the start_push response has no `analysis`")?;
        Analysis::from_value(analysis)
    }

    pub fn get(&self, definition_path: &str) -> Option<&ComponentAnalysis> {
        self.0.get(definition_path)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ComponentAnalysis {
    pub definition: Definition,
    #[serde(default)]
    pub schema: Option<Schema>,
    /// Module path (`lib/util.js`) and its functions, in the order
    /// JavaScript's `Object.entries` lists the server's object.
    #[serde(default, deserialize_with = "modules_in_js_order")]
    pub functions: Vec<(String, AnalyzedModule)>,
}

impl ComponentAnalysis {
    pub fn module(&self, path: &str) -> Option<&AnalyzedModule> {
        self.functions
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, module)| module)
    }
}

fn modules_in_js_order<'de, D>(deserializer: D) -> Result<Vec<(String, AnalyzedModule)>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let map = serde_json::Map::<String, Value>::deserialize(deserializer)?;
    js_entries(&map)
        .into_iter()
        .map(|(path, module)| {
            AnalyzedModule::deserialize(module)
                .map(|m| (path.to_string(), m))
                .map_err(serde::de::Error::custom)
        })
        .collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    #[serde(default)]
    pub child_components: Vec<ChildComponent>,
    #[serde(default = "empty_exports")]
    pub exports: Exports,
    #[serde(default)]
    pub env_vars: Option<Vec<(String, EnvVarDeclaration)>>,
}

fn empty_exports() -> Exports {
    Exports::Branch { branch: Vec::new() }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChildComponent {
    pub name: String,
    /// Definition path of the child, relative to the app's functions dir.
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Exports {
    Leaf { leaf: String },
    Branch { branch: Vec<(String, Exports)> },
}

#[derive(Debug, Clone, Deserialize)]
pub struct EnvVarDeclaration {
    /// The validator, serialised as JSON.
    pub value: String,
    #[serde(default)]
    pub optional: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    pub tables: Vec<Table>,
    pub schema_validation: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    pub table_name: String,
    #[serde(default)]
    pub indexes: Vec<Index>,
    #[serde(default)]
    pub search_indexes: Option<Vec<SearchIndex>>,
    #[serde(default)]
    pub vector_indexes: Option<Vec<VectorIndex>>,
    pub document_type: Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub index_descriptor: String,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchIndex {
    pub index_descriptor: String,
    pub search_field: String,
    pub filter_fields: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorIndex {
    pub index_descriptor: String,
    pub vector_field: String,
    pub filter_fields: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AnalyzedModule {
    #[serde(default)]
    pub functions: Vec<AnalyzedFunction>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzedFunction {
    pub name: String,
    /// `Query`, `Mutation` or `Action`.
    pub udf_type: String,
    #[serde(default)]
    pub visibility: Option<Visibility>,
    #[serde(default)]
    pub args: Option<String>,
    #[serde(default)]
    pub returns: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Visibility {
    /// `public` or `internal`.
    pub kind: String,
}

pub use crate::jsfmt::{array_index, js_entries};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_mock_servers_default_analysis() {
        let analysis = Analysis::from_value(&json!({
            "": {
                "definition": {
                    "path": "",
                    "definitionType": {"type": "app"},
                    "childComponents": [],
                    "httpMounts": {},
                    "exports": {"type": "branch", "branch": []}
                },
                "schema": {"tables": [], "schemaValidation": true},
                "functions": {},
                "udfConfig": {"serverVersion": "0.0.0"}
            }
        }))
        .unwrap();
        let app = analysis.get("").unwrap();
        assert!(app.definition.env_vars.is_none());
        assert!(app.schema.as_ref().unwrap().schema_validation);
        assert!(matches!(&app.definition.exports, Exports::Branch { branch } if branch.is_empty()));
    }
}
