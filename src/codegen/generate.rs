//! The contents of each generated file, as pure functions of their inputs.

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value};

use super::analysis::{
    Analysis, AnalyzedFunction, ComponentAnalysis, EnvVarDeclaration, Exports, Schema, Table,
    array_index, js_entries,
};
use super::modules::{compare_names, module_identifier, module_key, sort_module_paths};
use super::templates::{self as t, BUILDERS};
use super::ts_type::{Key, Member, Statement, TsType, print_string};
use super::validator::{self, IdStyle};

/// Appends blocks of already formatted text, one statement per call.
#[derive(Default)]
struct Text(String);

impl Text {
    fn new(description: &str) -> Text {
        Text(t::header(description))
    }

    fn push(&mut self, block: &str) -> &mut Text {
        self.0.push_str(block);
        self
    }

    fn blank(&mut self) -> &mut Text {
        self.0.push('\n');
        self
    }

    fn statement(&mut self, statement: Statement<'_>) -> &mut Text {
        self.0.push_str(&statement.print());
        self.0.push('\n');
        self
    }

    fn finish(self) -> String {
        self.0
    }
}

// ---------------------------------------------------------------- server

/// The `Env` type block, or `None` before the server's analysis is known
/// (then `env` is an untyped record).
pub type EnvVars<'a> = Option<&'a str>;

/// `type Env = { readonly NAME: T; ... };` with its comment: the platform
/// variables, then the declared ones.
pub fn env_type(env: &[(String, EnvVarDeclaration)]) -> Result<String> {
    let platform = ["CONVEX_CLOUD_URL", "CONVEX_SITE_URL"]
        .into_iter()
        .map(|name| Member {
            readonly: true,
            key: Key::Bare(name.to_string()),
            optional: false,
            ty: TsType::Keyword("string"),
        });
    let mut members: Vec<Member> = platform.collect();
    for (name, declaration) in env {
        let validator = validator::parse(Some(&declaration.value))
            .with_context(|| format!("invalid validator for environment variable {name}"))?;
        let mut ty = match validator {
            Some(v) => validator::to_type(&v, IdStyle::String)?,
            None => TsType::Keyword("unknown"),
        };
        if declaration.optional == Some(true) {
            ty = TsType::union(vec![ty, TsType::Keyword("undefined")]);
        }
        members.push(Member {
            readonly: true,
            key: Key::Bare(name.clone()),
            optional: false,
            ty,
        });
    }
    let ty = TsType::object(members, true);
    let statement = Statement::TypeAlias {
        export: false,
        name: "Env",
        ty: &ty,
    };
    Ok(format!("{}{}\n", t::ENV_DOC, statement.print()))
}

pub fn server_dts(env: EnvVars<'_>) -> String {
    let mut text = Text::new(t::SERVER_DESCRIPTION);
    text.blank()
        .push(t::SERVER_TYPE_IMPORTS_AS_VALUES)
        .push(t::DATA_MODEL_IMPORT);
    if let Some(env) = env {
        text.blank().push(env);
    }
    for builder in &BUILDERS {
        text.blank().push(builder.doc).push(builder.dts);
    }
    text.blank();
    match env {
        Some(_) => text.push(t::ENV_DOC).push(t::ENV_TYPED_DTS),
        None => text.push(t::ENV_UNTYPED_DTS),
    };
    app_context_types(&mut text);
    text.finish()
}

pub fn server_js(typed_env: bool) -> String {
    let mut text = Text::new(t::SERVER_DESCRIPTION);
    text.blank().push(t::SERVER_RUNTIME_IMPORTS);
    for builder in &BUILDERS {
        text.blank().push(builder.doc).push(builder.js);
    }
    text.blank();
    if typed_env {
        text.push(t::ENV_DOC);
    }
    text.push(t::ENV_JS);
    text.finish()
}

pub fn server_ts(env: EnvVars<'_>) -> String {
    let mut text = Text::new(t::SERVER_DESCRIPTION);
    text.blank()
        .push(t::SERVER_RUNTIME_IMPORTS)
        .push(t::SERVER_TYPE_IMPORTS)
        .push(t::DATA_MODEL_IMPORT);
    if let Some(env) = env {
        text.blank().push(env);
    }
    for builder in &BUILDERS {
        text.blank().push(builder.doc).push(builder.ts);
    }
    text.blank();
    match env {
        Some(_) => text.push(t::ENV_DOC).push(t::ENV_TYPED_TS),
        None => text.push(t::ENV_UNTYPED_TS),
    };
    app_context_types(&mut text);
    text.finish()
}

/// `server.ts` of a non-root component.
pub fn component_server_ts(env: EnvVars<'_>) -> String {
    let mut text = Text::new(t::SERVER_DESCRIPTION);
    text.blank()
        .push(t::SERVER_TYPE_IMPORTS)
        .push(t::SERVER_RUNTIME_IMPORTS)
        .push(t::DATA_MODEL_IMPORT);
    if let Some(env) = env {
        text.blank().push(env);
    }
    for builder in &BUILDERS {
        text.blank().push(builder.doc).push(builder.ts);
    }
    match env {
        Some(_) => text.push(t::ENV_TYPED_TS),
        None => text.push(t::ENV_UNTYPED_TS),
    };
    text.blank()
        .push(t::QUERY_CTX_COMPONENT)
        .blank()
        .push(t::MUTATION_CTX_COMPONENT)
        .blank()
        .push(t::OTHER_CTX_TYPES);
    text.finish()
}

fn app_context_types(text: &mut Text) {
    text.blank()
        .push(t::QUERY_CTX_APP)
        .blank()
        .push(t::MUTATION_CTX_APP)
        .blank()
        .push(t::OTHER_CTX_TYPES);
}

// ---------------------------------------------------------------- data model

/// `dataModel` when a schema file exists: types derived from `typeof schema`.
pub fn dynamic_data_model() -> String {
    let mut text = Text::new(t::DATA_MODEL_DESCRIPTION);
    text.blank()
        .push(t::DYNAMIC_DATA_MODEL_IMPORTS)
        .blank()
        .push(t::TABLE_NAMES)
        .blank()
        .push(t::DOC_TYPE)
        .blank()
        .push(&t::id_type_with_schema())
        .blank()
        .push(t::DATA_MODEL_MODEL_DOC)
        .push(t::DYNAMIC_DATA_MODEL_TYPE);
    text.finish()
}

/// `dataModel` without a schema: permissive types.
pub fn no_schema_data_model() -> String {
    let mut text = Text::new(t::DATA_MODEL_DESCRIPTION);
    text.blank()
        .push(t::NO_SCHEMA_IMPORTS)
        .blank()
        .push(t::NO_SCHEMA_NOTICE)
        .blank()
        .push(t::NO_SCHEMA_TABLE_NAMES)
        .blank()
        .push(t::NO_SCHEMA_DOC)
        .blank()
        .push(&t::id_type_without_schema())
        .blank()
        .push(t::DATA_MODEL_MODEL_DOC)
        .push(t::NO_SCHEMA_DATA_MODEL_TYPE);
    text.finish()
}

/// `dataModel` with `codegen.staticDataModel`: a literal `DataModel` type
/// from the server's view of the schema.
pub fn static_data_model(schema: &Schema) -> Result<String> {
    let mut tables: Vec<&Table> = schema.tables.iter().collect();
    tables.sort_by(|a, b| compare_names(&a.table_name, &b.table_name));
    let mut members = Vec::with_capacity(tables.len());
    for table in tables {
        members.push(Member {
            readonly: false,
            key: Key::Bare(table.table_name.clone()),
            optional: false,
            ty: table_type(table)?,
        });
    }
    let mut ty = TsType::object(members, true);
    if !schema.schema_validation {
        ty = TsType::Intersection(vec![ty, TsType::named("AnyDataModel")]);
    }
    let mut text = Text::new(t::DATA_MODEL_DESCRIPTION);
    text.blank()
        .push(t::STATIC_DATA_MODEL_IMPORTS)
        .blank()
        .push(t::DATA_MODEL_MODEL_DOC)
        .blank()
        .statement(Statement::TypeAlias {
            export: true,
            name: "DataModel",
            ty: &ty,
        })
        .blank()
        .push(t::TABLE_NAMES)
        .blank()
        .push(t::DOC_TYPE)
        .blank()
        .push(&t::id_type_with_schema());
    Ok(text.finish())
}

fn bare(name: &str, ty: TsType) -> Member {
    Member {
        readonly: false,
        key: Key::Bare(name.to_string()),
        optional: false,
        ty,
    }
}

fn quoted(name: &str, ty: TsType) -> Member {
    Member {
        readonly: false,
        key: Key::Quoted(name.to_string()),
        optional: false,
        ty,
    }
}

fn table_type(table: &Table) -> Result<TsType> {
    let document = with_system_fields(&table.table_name, &table.document_type)?;
    let mut paths: Vec<String> = Vec::new();
    for path in field_paths(&document) {
        let joined = path.join(".");
        if !paths.contains(&joined) {
            paths.push(joined);
        }
    }
    paths.sort_by(|a, b| compare_names(a, b));

    // System indexes first, then the table's, enumerated as a JS object would.
    let mut indexes: Vec<(String, Vec<String>)> = vec![
        ("by_id".to_string(), vec!["_id".to_string()]),
        (
            "by_creation_time".to_string(),
            vec!["_creationTime".to_string()],
        ),
    ];
    for index in &table.indexes {
        if indexes
            .iter()
            .any(|(name, _)| *name == index.index_descriptor)
        {
            bail!(
                "Duplicate index name {} in table {}.",
                index.index_descriptor,
                table.table_name
            );
        }
        indexes.push((index.index_descriptor.clone(), index.fields.clone()));
    }
    let mut numbered: Vec<(u32, (String, Vec<String>))> = Vec::new();
    let mut named = Vec::new();
    for entry in indexes {
        match array_index(&entry.0) {
            Some(n) => numbered.push((n, entry)),
            None => named.push(entry),
        }
    }
    numbered.sort_by_key(|(n, _)| *n);
    let index_members = numbered
        .into_iter()
        .map(|(_, entry)| entry)
        .chain(named)
        .map(|(name, fields)| {
            let tuple = fields.iter().map(|f| json_string_literal(f)).collect();
            quoted(&name, TsType::Tuple(tuple))
        })
        .collect();

    let search_members = table
        .search_indexes
        .iter()
        .flatten()
        .map(|index| {
            let ty = TsType::object(
                vec![
                    bare(
                        "searchField",
                        TsType::Literal(validator::quote_raw(&index.search_field)),
                    ),
                    bare("filterFields", string_literal_union(&index.filter_fields)),
                ],
                true,
            );
            quoted(&index.index_descriptor, ty)
        })
        .collect();
    let vector_members = table
        .vector_indexes
        .iter()
        .flatten()
        .map(|index| {
            let ty = TsType::object(
                vec![
                    bare(
                        "vectorField",
                        TsType::Literal(validator::quote_raw(&index.vector_field)),
                    ),
                    bare("dimensions", TsType::Keyword("number")),
                    bare("filterFields", string_literal_union(&index.filter_fields)),
                ],
                true,
            );
            quoted(&index.index_descriptor, ty)
        })
        .collect();

    Ok(TsType::object(
        vec![
            bare("document", validator::to_type(&document, IdStyle::Id)?),
            bare("fieldPaths", string_literal_union(&paths)),
            bare("indexes", TsType::object(index_members, true)),
            bare("searchIndexes", TsType::object(search_members, true)),
            bare("vectorIndexes", TsType::object(vector_members, true)),
        ],
        true,
    ))
}

/// A field name as `JSON.stringify` writes it, read back as a literal type.
fn json_string_literal(value: &str) -> TsType {
    let json = serde_json::to_string(value).unwrap_or_default();
    let inner = &json[1..json.len().saturating_sub(1).max(1)];
    TsType::Literal(print_string(inner))
}

/// `"a" | "b"`, template literals for record paths, `never` when empty.
fn string_literal_union(fields: &[String]) -> TsType {
    if fields.is_empty() {
        return TsType::Keyword("never");
    }
    TsType::union(
        fields
            .iter()
            .map(|field| {
                if field.contains("${") {
                    TsType::Template(format!("`{field}`"))
                } else {
                    TsType::Literal(validator::quote_raw(field))
                }
            })
            .collect(),
    )
}

/// The document validator plus `_id` and `_creationTime` (on every member of
/// a top-level union).
fn with_system_fields(table: &str, document: &Value) -> Result<Value> {
    match document.get("type").and_then(Value::as_str) {
        Some("object") => add_system_fields(table, document),
        Some("any") => Ok(serde_json::json!({"type": "any"})),
        Some("union") => {
            let members = document
                .get("value")
                .and_then(Value::as_array)
                .context("union validator without members")?;
            let members = members
                .iter()
                .map(|m| add_system_fields(table, m))
                .collect::<Result<Vec<_>>>()?;
            Ok(serde_json::json!({"type": "union", "value": members}))
        }
        _ => bail!("Invalid top-level validator for {table}."),
    }
}

fn add_system_fields(table: &str, validator: &Value) -> Result<Value> {
    if validator.get("type").and_then(Value::as_str) != Some("object") {
        bail!("System fields can only be added to objects.");
    }
    let fields = validator
        .get("value")
        .and_then(Value::as_object)
        .context("object validator without fields")?;
    let mut out = Map::new();
    for (name, field) in js_entries(fields) {
        if name == "_id" || name == "_creationTime" {
            bail!("System field {name} present in table {table}.");
        }
        out.insert(name.to_string(), field.clone());
    }
    out.insert(
        "_id".to_string(),
        serde_json::json!({"fieldType": {"type": "id", "tableName": table}, "optional": false}),
    );
    out.insert(
        "_creationTime".to_string(),
        serde_json::json!({"fieldType": {"type": "number"}, "optional": false}),
    );
    Ok(serde_json::json!({"type": "object", "value": out}))
}

/// Every dotted field path of a document validator; records contribute `${string}`.
fn field_paths(validator: &Value) -> Vec<Vec<String>> {
    match validator.get("type").and_then(Value::as_str) {
        Some("object") => {
            let mut out = Vec::new();
            let Some(fields) = validator.get("value").and_then(Value::as_object) else {
                return vec![Vec::new()];
            };
            for (name, field) in js_entries(fields) {
                out.push(vec![name.to_string()]);
                let inner = field.get("fieldType").unwrap_or(&Value::Null);
                for sub in field_paths(inner) {
                    if !sub.is_empty() {
                        let mut path = vec![name.to_string()];
                        path.extend(sub);
                        out.push(path);
                    }
                }
            }
            out
        }
        Some("union") => validator
            .get("value")
            .and_then(Value::as_array)
            .map(|members| members.iter().flat_map(field_paths).collect())
            .unwrap_or_default(),
        Some("record") => vec![vec!["${string}".to_string()]],
        _ => vec![Vec::new()],
    }
}

// ---------------------------------------------------------------- api

/// What `components` in an api file lists for each child component.
pub enum ChildApi {
    /// `import("<spec>/_generated/component.js").ComponentApi<"<name>">`.
    Import { name: String, import_path: String },
    /// The child's exports inlined (`codegen.legacyComponentApi`).
    Inline { name: String, ty: TsType },
}

fn components_type(children: &[ChildApi]) -> TsType {
    let members = children
        .iter()
        .map(|child| match child {
            ChildApi::Import { name, import_path } => quoted(
                name,
                TsType::Import {
                    module: format!("{import_path}/_generated/component.js"),
                    name: "ComponentApi".to_string(),
                    args: vec![TsType::Literal(validator::quote_raw(name))],
                },
            ),
            ChildApi::Inline { name, ty } => bare(name, ty.clone()),
        })
        .collect();
    TsType::object(members, true)
}

/// How `api` and `internal` are typed.
pub enum ApiShape<'a> {
    /// `typeof` imports of the component's modules (paths relative to the
    /// component dir, any separator, with extensions).
    Dynamic(&'a [String]),
    /// Literal types built from the server's analysis (`codegen.staticApi`).
    Static(&'a ComponentAnalysis),
}

fn module_imports(modules: &[String]) -> String {
    let mut out = String::new();
    for module in modules {
        out.push_str(&format!(
            "import type * as {} from {};\n",
            module_identifier(module),
            print_string(&format!("../{}.js", module_key(module)))
        ));
    }
    out
}

fn full_api_type(modules: &[String]) -> TsType {
    let members = modules
        .iter()
        .map(|m| quoted(&module_key(m), TsType::TypeOf(module_identifier(m))))
        .collect();
    TsType::reference("ApiFromModules", vec![TsType::object(members, true)])
}

fn sorted(modules: &[String]) -> Vec<String> {
    let mut modules = modules.to_vec();
    sort_module_paths(&mut modules);
    modules
}

/// `api.d.ts` (also `api_cjs.d.cts`) after the push.
pub fn api_dts(shape: &ApiShape<'_>, children: &[ChildApi]) -> Result<String> {
    let mut text = Text::new(t::API_DESCRIPTION);
    text.blank();
    match shape {
        ApiShape::Dynamic(modules) => {
            let modules = sorted(modules);
            if !modules.is_empty() {
                text.push(&module_imports(&modules)).blank();
            }
            let full_api = full_api_type(&modules);
            text.push(t::API_TYPE_IMPORTS)
                .blank()
                .statement(Statement::DeclareConst {
                    export: false,
                    name: "fullApi",
                    ty: &full_api,
                })
                .blank()
                .push(&t::api_comment("api", "public"))
                .push(t::FILTERED_API_DTS[0])
                .blank()
                .push(&t::api_comment("internal", "internal"))
                .push(t::FILTERED_API_DTS[1]);
        }
        ApiShape::Static(analysis) => {
            let public = api_tree(analysis, "public")?;
            let internal = api_tree(analysis, "internal")?;
            text.push(t::STATIC_API_IMPORTS)
                .blank()
                .push(&t::api_comment("api", "public"))
                .statement(Statement::DeclareConst {
                    export: true,
                    name: "api",
                    ty: &public,
                })
                .blank()
                .push(&t::api_comment("internal", "internal"))
                .statement(Statement::DeclareConst {
                    export: true,
                    name: "internal",
                    ty: &internal,
                });
        }
    }
    let components = components_type(children);
    text.blank().statement(Statement::DeclareConst {
        export: true,
        name: "components",
        ty: &components,
    });
    Ok(text.finish())
}

/// `api.ts` after the push (`fileType: "ts"` and every non-root component).
pub fn api_ts(shape: &ApiShape<'_>, children: &[ChildApi]) -> Result<String> {
    let mut text = Text::new(t::API_DESCRIPTION);
    text.blank();
    match shape {
        ApiShape::Dynamic(modules) => {
            let modules = sorted(modules);
            if !modules.is_empty() {
                text.push(&module_imports(&modules)).blank();
            }
            let full_api = full_api_type(&modules);
            text.push(t::API_TYPE_IMPORTS)
                .push(t::API_RUNTIME_IMPORT)
                .blank()
                .statement(Statement::ConstWithType {
                    export: false,
                    name: "fullApi",
                    ty: &full_api,
                    init: "anyApi as any",
                })
                .blank()
                .push(&t::api_comment("api", "public"))
                .push(t::FILTERED_API_TS[0])
                .blank()
                .push(&t::api_comment("internal", "internal"))
                .push(t::FILTERED_API_TS[1]);
        }
        ApiShape::Static(analysis) => {
            let public = api_tree(analysis, "public")?;
            let internal = api_tree(analysis, "internal")?;
            text.push(t::STATIC_API_IMPORTS)
                .push(t::API_RUNTIME_IMPORT)
                .blank()
                .push(&t::api_comment("api", "public"))
                .statement(Statement::ConstWithType {
                    export: true,
                    name: "api",
                    ty: &public,
                    init: "anyApi as any",
                })
                .blank()
                .push(&t::api_comment("internal", "internal"))
                .statement(Statement::ConstWithType {
                    export: true,
                    name: "internal",
                    ty: &internal,
                    init: "anyApi as any",
                });
        }
    }
    let components = components_type(children);
    text.blank().statement(Statement::ComponentsCast {
        name: "components",
        ty: &components,
    });
    Ok(text.finish())
}

pub fn api_js() -> String {
    let mut text = Text::new(t::API_DESCRIPTION);
    text.blank().push(t::API_JS_BODY);
    text.finish()
}

pub fn api_cjs() -> String {
    let mut text = Text::new(t::API_DESCRIPTION);
    text.blank().push(t::API_CJS_BODY);
    text.finish()
}

/// Placeholder `api.d.ts` written before the first push.
pub fn api_stub_dts() -> String {
    let mut text = Text::new(t::API_DESCRIPTION);
    text.blank().push(t::API_STUB_DTS_BODY);
    text.finish()
}

/// Placeholder `api.ts` written before the first push.
pub fn api_stub_ts() -> String {
    let mut text = Text::new(t::API_DESCRIPTION);
    text.blank().push(t::API_STUB_TS_BODY);
    text.finish()
}

/// The legacy `api.d.ts` of `codegen --system-udfs` (no `components`).
pub fn legacy_api_dts(modules: &[String]) -> String {
    let modules = sorted(modules);
    let full_api = full_api_type(&modules);
    let mut text = Text::new(t::API_DESCRIPTION);
    text.blank()
        .push(t::API_TYPE_IMPORTS)
        .push(&module_imports(&modules))
        .blank()
        .push(&t::api_comment("api", ""))
        .statement(Statement::DeclareConst {
            export: false,
            name: "fullApi",
            ty: &full_api,
        })
        .push(t::FILTERED_API_DTS[0])
        .push(t::FILTERED_API_DTS[1]);
    text.finish()
}

pub fn legacy_api_js() -> String {
    let mut text = Text::new(t::API_DESCRIPTION);
    text.blank().push(t::LEGACY_API_JS_BODY);
    text.finish()
}

pub fn legacy_api_ts(modules: &[String]) -> String {
    let modules = sorted(modules);
    let full_api = full_api_type(&modules);
    let mut text = Text::new(t::API_DESCRIPTION);
    text.blank()
        .push(t::API_TYPE_IMPORTS)
        .push("import { anyApi } from \"convex/server\";\n")
        .push(&module_imports(&modules))
        .blank()
        .statement(Statement::ConstWithType {
            export: false,
            name: "fullApi",
            ty: &full_api,
            init: "anyApi as any",
        })
        .blank()
        .push(&t::api_comment("api", "public"))
        .push(t::FILTERED_API_TS[0])
        .blank()
        .push(&t::api_comment("internal", "internal"))
        .push(t::FILTERED_API_TS[1]);
    text.finish()
}

enum ApiNode<'a> {
    Branch(Vec<(String, ApiNode<'a>)>),
    Leaf(&'a AnalyzedFunction),
}

/// `api` or `internal` as a nested object type: module path segments, then
/// function names, each leaf a `FunctionReference`.
fn api_tree(analysis: &ComponentAnalysis, visibility: &str) -> Result<TsType> {
    let mut root: Vec<(String, ApiNode<'_>)> = Vec::new();
    for (module_path, module) in &analysis.functions {
        let key = module_key(module_path);
        if key.starts_with("_deps/") {
            continue;
        }
        for function in &module.functions {
            if function.visibility.as_ref().map(|v| v.kind.as_str()) != Some(visibility) {
                continue;
            }
            let mut current = &mut root;
            for segment in key.split('/') {
                let position = match current.iter().position(|(name, _)| name == segment) {
                    Some(p) => p,
                    None => {
                        current.push((segment.to_string(), ApiNode::Branch(Vec::new())));
                        current.len() - 1
                    }
                };
                current = match &mut current[position].1 {
                    ApiNode::Branch(children) => children,
                    ApiNode::Leaf(_) => {
                        bail!(
                            "Ambiguous function name: {} in {module_path}",
                            function.name
                        )
                    }
                };
            }
            if current.iter().any(|(name, _)| *name == function.name) {
                bail!(
                    "Duplicate function name: {} in {module_path}",
                    function.name
                );
            }
            current.push((function.name.clone(), ApiNode::Leaf(function)));
        }
    }
    api_node_type(root, visibility)
}

fn api_node_type(mut entries: Vec<(String, ApiNode<'_>)>, visibility: &str) -> Result<TsType> {
    entries.sort_by(|a, b| compare_names(&a.0, &b.0));
    let mut members = Vec::with_capacity(entries.len());
    for (name, node) in entries {
        let ty = match node {
            ApiNode::Branch(children) => api_node_type(children, visibility)?,
            ApiNode::Leaf(function) => function_reference(function, visibility, IdStyle::Id, None)?,
        };
        members.push(quoted(&name, ty));
    }
    Ok(TsType::object(members, true))
}

/// `FunctionReference<"query", "public", Args, Returns[, Name]>`.
fn function_reference(
    function: &AnalyzedFunction,
    visibility: &str,
    ids: IdStyle,
    component_name_parameter: Option<&str>,
) -> Result<TsType> {
    let invalid_args = || {
        format!(
            "Invalid function args: {}",
            function.args.as_deref().unwrap_or("")
        )
    };
    let args = match validator::parse(function.args.as_deref()).with_context(invalid_args)? {
        None => TsType::Keyword("any"),
        Some(v)
            if matches!(
                v.get("type").and_then(Value::as_str),
                Some("object" | "any")
            ) =>
        {
            validator::to_type(&v, ids).with_context(invalid_args)?
        }
        Some(_) => bail!(invalid_args()),
    };
    let invalid_returns = || {
        format!(
            "Invalid function returns: {}",
            function.returns.as_deref().unwrap_or("")
        )
    };
    let returns =
        match validator::parse(function.returns.as_deref()).with_context(invalid_returns)? {
            None => TsType::Keyword("any"),
            Some(v) => validator::to_type(&v, ids).with_context(invalid_returns)?,
        };
    let mut parameters = vec![
        TsType::Literal(print_string(&function.udf_type.to_lowercase())),
        TsType::Literal(print_string(visibility)),
        args,
        returns,
    ];
    if let Some(name) = component_name_parameter {
        parameters.push(TsType::named(name));
    }
    Ok(TsType::reference("FunctionReference", parameters))
}

/// A component's exports as a nested object type whose leaves are internal
/// function references (`component.ts`, and inlined child APIs).
pub fn exports_type(
    analysis: &ComponentAnalysis,
    exports: &Exports,
    component_name_parameter: Option<&str>,
) -> Result<TsType> {
    match exports {
        Exports::Leaf { leaf } => {
            let function = resolve_reference(analysis, leaf)?;
            function_reference(
                function,
                "internal",
                IdStyle::String,
                component_name_parameter,
            )
        }
        Exports::Branch { branch } => {
            let mut entries: Vec<&(String, Exports)> = branch.iter().collect();
            entries.sort_by(|a, b| compare_names(&a.0, &b.0));
            let mut members = Vec::with_capacity(entries.len());
            for (name, child) in entries {
                members.push(bare(
                    name,
                    exports_type(analysis, child, component_name_parameter)?,
                ));
            }
            Ok(TsType::object(members, true))
        }
    }
}

fn resolve_reference<'a>(
    analysis: &'a ComponentAnalysis,
    reference: &str,
) -> Result<&'a AnalyzedFunction> {
    let Some(udf_path) = reference.strip_prefix("_reference/function/") else {
        bail!("Invalid function reference: {reference}");
    };
    let mut parts = udf_path.split(':');
    let module_path = parts.next().unwrap_or("");
    let function_name = parts.next().unwrap_or("");
    let canonical = if module_path.ends_with(".js") {
        module_path.to_string()
    } else {
        format!("{module_path}.js")
    };
    let module = analysis
        .module(&canonical)
        .with_context(|| format!("Module not found: {module_path}"))?;
    module
        .functions
        .iter()
        .find(|f| f.name == function_name)
        .with_context(|| format!("Function not found: {function_name}"))
}

/// `component.ts` of a non-root component.
pub fn component_ts(analysis: &ComponentAnalysis) -> Result<String> {
    let ty = exports_type(analysis, &analysis.definition.exports, Some("Name"))?;
    let mut text = Text::new(t::COMPONENT_API_DESCRIPTION);
    text.blank()
        .push(t::COMPONENT_API_IMPORT)
        .blank()
        .push(t::COMPONENT_API_DOC)
        .statement(Statement::ComponentApiAlias { ty: &ty });
    Ok(text.finish())
}

/// The `components` entries of a component's api file.
pub fn child_apis(
    analysis: &Analysis,
    component: &ComponentAnalysis,
    import_specifier: impl Fn(&str) -> Option<Option<String>>,
    legacy_inline: bool,
) -> Result<Vec<ChildApi>> {
    let mut out = Vec::new();
    for child in &component.definition.child_components {
        if legacy_inline {
            let child_analysis = analysis
                .get(&child.path)
                .with_context(|| format!("No analysis found for child component {}", child.path))?;
            out.push(ChildApi::Inline {
                name: child.name.clone(),
                ty: exports_type(child_analysis, &child_analysis.definition.exports, None)?,
            });
        } else {
            let specifier = import_specifier(&child.path)
                .with_context(|| format!("Invalid child component directory: {}", child.path))?;
            let import_path = match specifier {
                Some(spec) if !spec.starts_with('.') && spec != child.path => spec,
                _ => format!("../{}", child.path),
            };
            out.push(ChildApi::Import {
                name: child.name.clone(),
                import_path,
            });
        }
    }
    Ok(out)
}
