//! Differential fuzzing of the final codegen against the official CLI's own
//! templates and prettier (`scripts/codegen-oracle.mjs`): random analyses
//! with long names, deep and wide validators, unions, records, schemas, env
//! vars and child components, compared file by file.
//!
//! Needs node and the reference install, so it is ignored by default:
//!   cargo test --test codegen_fuzz -- --ignored --nocapture
//! `CODEGEN_FUZZ_CASES` (default 400) and `CODEGEN_FUZZ_SEED` (default 1)
//! choose the batch.

use convex_cli::codegen::{Analysis, ComponentDir, FileType, FinalInputs, Options, plan_final};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// xorshift64*: small, deterministic, good enough for test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "user",
    "message",
    "channel",
    "get",
    "list",
    "send",
    "remove",
    "update",
    "status",
    "item",
    "Value",
    "config",
    "settings",
    "profile",
    "author",
    "body",
    "created",
    "index",
    "search",
    "embedding",
    "very",
    "long",
    "descriptive",
    "name",
    "that",
    "keeps",
    "going",
    "on",
    "x",
    "id",
];

fn identifier(rng: &mut Rng) -> String {
    let words = match rng.below(10) {
        0..=3 => 1,
        4..=6 => 2,
        7..=8 => 3 + rng.below(3),
        _ => 6 + rng.below(5),
    };
    let mut out = String::new();
    for i in 0..words {
        let w = *rng.pick(WORDS);
        if i == 0 {
            out.push_str(&w.to_lowercase());
        } else {
            let mut chars = w.chars();
            let first = chars.next().unwrap().to_ascii_uppercase();
            out.push(first);
            out.extend(chars);
        }
    }
    match rng.below(12) {
        0 => format!("_{out}"),
        1 => format!("{out}{}", rng.below(20)),
        2 => {
            let mut c = out.chars();
            let f = c.next().unwrap().to_ascii_uppercase();
            format!("{f}{}", c.as_str())
        }
        3 => format!("${out}"),
        _ => out,
    }
}

fn kebab(rng: &mut Rng) -> String {
    let n = 1 + rng.below(3);
    (0..n)
        .map(|_| rng.pick(WORDS).to_lowercase())
        .collect::<Vec<_>>()
        .join("-")
}

fn segment(rng: &mut Rng) -> String {
    if rng.chance(20) {
        kebab(rng)
    } else {
        identifier(rng)
    }
}

fn literal_string(rng: &mut Rng) -> String {
    if rng.chance(8) {
        // Quotes, escapes and characters wider than one column.
        let special = [
            "it's",
            "日本語のテキスト",
            "héllo wörld",
            r"a\d",
            r"tab\t",
            "emoji 🎉 party",
            "x\"y",
            "naïve café",
            "全角スペースを含む長い文字列です",
            "back\\slash",
        ];
        let base = *rng.pick(&special);
        return if rng.chance(50) {
            base.to_string()
        } else {
            format!("{base} {}", rng.pick(WORDS))
        };
    }
    let n = 1 + rng.below(4);
    let sep = *rng.pick(&["", "-", "_", ".", " ", "/"]);
    (0..n)
        .map(|_| *rng.pick(WORDS))
        .collect::<Vec<_>>()
        .join(sep)
}

fn validator(rng: &mut Rng, depth: usize, tables: &[String]) -> Value {
    let scalar_only = depth >= 3;
    let choice = if scalar_only {
        rng.below(10)
    } else {
        rng.below(17)
    };
    match choice {
        0 => json!({"type": "null"}),
        1 => json!({"type": "number"}),
        2 => json!({"type": "bigint"}),
        3 => json!({"type": "boolean"}),
        4 => json!({"type": "string"}),
        5 => json!({"type": if rng.chance(50) { "bytes" } else { "commitTs" }}),
        6 => json!({"type": "any"}),
        7 => {
            let value = match rng.below(6) {
                0 => json!(literal_string(rng)),
                1 => json!(rng.below(1000) as i64 - 500),
                2 => json!((rng.below(10000) as f64) / 8.0),
                3 => json!(rng.chance(50)),
                4 => json!({"$integer": "CgAAAAAAAAA="}),
                _ => json!(literal_string(rng)),
            };
            json!({"type": "literal", "value": value})
        }
        8 | 9 => {
            let table = if tables.is_empty() {
                identifier(rng)
            } else {
                rng.pick(tables).clone()
            };
            json!({"type": "id", "tableName": table})
        }
        10 | 11 => json!({"type": "array", "value": validator(rng, depth + 1, tables)}),
        12 => {
            let keys = if rng.chance(70) {
                json!({"type": "string"})
            } else {
                validator(rng, 3, tables)
            };
            json!({"type": "record", "keys": keys,
                   "values": {"fieldType": validator(rng, depth + 1, tables), "optional": false}})
        }
        13 | 14 => {
            let wide = rng.chance(30);
            let n = 2 + rng.below(if wide { 9 } else { 3 });
            let members: Vec<Value> = (0..n)
                .map(|_| {
                    if rng.chance(40) {
                        json!({"type": "literal", "value": literal_string(rng)})
                    } else {
                        validator(rng, depth + 1, tables)
                    }
                })
                .collect();
            json!({"type": "union", "value": members})
        }
        _ => object_validator(rng, depth + 1, tables),
    }
}

fn object_validator(rng: &mut Rng, depth: usize, tables: &[String]) -> Value {
    let wide = rng.chance(20);
    let n = if rng.chance(10) {
        0
    } else {
        1 + rng.below(if wide { 10 } else { 4 })
    };
    let mut fields = serde_json::Map::new();
    for _ in 0..n {
        let name = identifier(rng).trim_start_matches(['_', '$']).to_string();
        if name.is_empty() {
            continue;
        }
        fields.insert(
            name,
            json!({"fieldType": validator(rng, depth, tables), "optional": rng.chance(30)}),
        );
    }
    json!({"type": "object", "value": fields})
}

fn functions(rng: &mut Rng, tables: &[String]) -> (Value, Vec<(String, String)>) {
    let mut modules = serde_json::Map::new();
    let mut all = Vec::new();
    let count = 1 + rng.below(5);
    for _ in 0..count {
        let depth = 1 + rng.below(3);
        let key = (0..depth)
            .map(|_| segment(rng))
            .collect::<Vec<_>>()
            .join("/");
        let module_path = format!("{key}.js");
        let mut fns = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for _ in 0..1 + rng.below(5) {
            let name = identifier(rng);
            if names.contains(&name) {
                continue;
            }
            names.push(name.clone());
            let args = match rng.below(5) {
                0 => Value::Null,
                1 => json!(json!({"type": "any"}).to_string()),
                _ => json!(object_validator(rng, 1, tables).to_string()),
            };
            let returns = if rng.chance(25) {
                Value::Null
            } else {
                json!(validator(rng, 1, tables).to_string())
            };
            let visibility = match rng.below(10) {
                0 => Value::Null,
                1..=3 => json!({"kind": "internal"}),
                _ => json!({"kind": "public"}),
            };
            fns.push(json!({
                "name": name, "pos": null, "udfType": rng.pick(&["Query", "Mutation", "Action"]),
                "visibility": visibility, "args": args, "returns": returns,
            }));
            all.push((key.clone(), name));
        }
        modules.insert(
            module_path,
            json!({"functions": fns, "httpRoutes": null, "cronSpecs": null, "sourceMapped": null}),
        );
    }
    if rng.chance(5) && !all.is_empty() {
        // A module named like a function of another module: ambiguous.
        let (module, function) = rng.pick(&all).clone();
        let key = format!("{module}/{function}");
        modules.insert(
            format!("{key}.js"),
            json!({"functions": [{"name": "inner", "udfType": "Query", "visibility": {"kind": "public"}, "args": null, "returns": null}]}),
        );
        all.push((key, "inner".to_string()));
    }
    if rng.chance(20) {
        modules.insert(
            "_deps/node/chunk.js".to_string(),
            json!({"functions": [{"name": "hidden", "udfType": "Query", "visibility": {"kind": "public"}, "args": null, "returns": null}]}),
        );
    }
    (Value::Object(modules), all)
}

fn exports(rng: &mut Rng, functions: &[(String, String)], depth: usize) -> Value {
    let n = if functions.is_empty() {
        0
    } else {
        1 + rng.below(4)
    };
    let mut branch = Vec::new();
    let mut used = Vec::new();
    for _ in 0..n {
        let name = identifier(rng);
        if used.contains(&name) {
            continue;
        }
        used.push(name.clone());
        let child = if depth < 3 && rng.chance(40) {
            exports(rng, functions, depth + 1)
        } else {
            let (module, function) = rng.pick(functions);
            let module = if rng.chance(20) {
                format!("{module}.js")
            } else {
                module.clone()
            };
            json!({"type": "leaf", "leaf": format!("_reference/function/{module}:{function}")})
        };
        branch.push(json!([name, child]));
    }
    json!({"type": "branch", "branch": branch})
}

fn schema(rng: &mut Rng) -> (Value, Vec<String>) {
    let names: Vec<String> = (0..rng.below(5)).map(|_| identifier(rng)).collect();
    let mut tables = Vec::new();
    let mut seen = Vec::new();
    for name in &names {
        if seen.contains(name) {
            continue;
        }
        seen.push(name.clone());
        let document = match rng.below(10) {
            0 => json!({"type": "any"}),
            1 | 2 => {
                json!({"type": "union", "value": (0..2 + rng.below(2)).map(|_| object_validator(rng, 1, &names)).collect::<Vec<_>>()})
            }
            _ => object_validator(rng, 1, &names),
        };
        let field_names: Vec<String> = document
            .pointer("/value")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let pick_fields = |rng: &mut Rng| -> Vec<String> {
            let mut out: Vec<String> = (0..1 + rng.below(4))
                .map(|_| {
                    if field_names.is_empty() || rng.chance(20) {
                        identifier(rng)
                    } else {
                        rng.pick(&field_names).clone()
                    }
                })
                .collect();
            out.dedup();
            out
        };
        let indexes: Vec<Value> = (0..rng.below(3))
            .map(|i| json!({"indexDescriptor": format!("by_{}_{i}", identifier(rng)), "fields": pick_fields(rng)}))
            .collect();
        let search: Vec<Value> = (0..rng.below(3))
            .map(|i| json!({"indexDescriptor": format!("search_{i}"), "searchField": identifier(rng), "filterFields": if rng.chance(30) { vec![] } else { pick_fields(rng) }}))
            .collect();
        let vector: Vec<Value> = (0..rng.below(2))
            .map(|i| json!({"indexDescriptor": format!("vector_{i}"), "vectorField": identifier(rng), "dimensions": 1536, "filterFields": pick_fields(rng)}))
            .collect();
        tables.push(json!({"tableName": name, "indexes": indexes, "searchIndexes": search, "vectorIndexes": vector, "documentType": document}));
    }
    (
        json!({"tables": tables, "schemaValidation": rng.chance(70)}),
        seen,
    )
}

fn env_vars(rng: &mut Rng, tables: &[String]) -> Value {
    let n = rng.below(6);
    let vars: Vec<Value> = (0..n)
        .map(|_| {
            let name = identifier(rng).to_uppercase();
            let mut decl = json!({"type": "value", "value": validator(rng, 1, tables).to_string()});
            match rng.below(3) {
                0 => decl["optional"] = json!(true),
                1 => decl["optional"] = json!(false),
                _ => {}
            }
            json!([name, decl])
        })
        .collect();
    Value::Array(vars)
}

fn component_analysis(rng: &mut Rng, definition_type: Value) -> (Value, Vec<(String, String)>) {
    let (schema, tables) = schema(rng);
    let (functions, all) = functions(rng, &tables);
    let mut definition = json!({
        "path": "", "definitionType": definition_type, "childComponents": [], "httpMounts": {},
        "exports": exports(rng, &all, 0),
    });
    if rng.chance(70) {
        definition["envVars"] = env_vars(rng, &tables);
    }
    let mut analysis = json!({"definition": definition, "functions": functions, "udfConfig": {}});
    if rng.chance(85) {
        analysis["schema"] = schema;
    }
    (analysis, all)
}

struct Case {
    input: Value,
    options: Options,
    component: ComponentDir,
    components: Vec<ComponentDir>,
    modules: Vec<String>,
    has_schema: bool,
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn case(rng: &mut Rng) -> Case {
    let root_path = PathBuf::from("/project/convex");
    let mut analysis = serde_json::Map::new();
    let (mut app, _) = component_analysis(rng, json!({"type": "app"}));
    let mut children = Vec::new();
    let mut component_entries = Vec::new();
    let mut components = vec![ComponentDir::root(&root_path)];
    for i in 0..rng.below(4) {
        let path = match rng.below(3) {
            0 => format!("{}{i}", segment(rng)),
            1 => format!("../components/{}{i}", segment(rng)),
            _ => format!("../node_modules/@acme/{}-{i}", kebab(rng)),
        };
        let name = identifier(rng).trim_start_matches('$').to_string();
        let name = if name.is_empty() {
            format!("c{i}")
        } else {
            name
        };
        let specifier = match rng.below(4) {
            0 => None,
            1 => Some(format!("./{path}")),
            2 => Some(path.trim_start_matches("../node_modules/").to_string()),
            _ => Some(path.clone()),
        };
        let (mut child, _) =
            component_analysis(rng, json!({"type": "childComponent", "name": name}));
        child["definition"]["path"] = json!(path);
        analysis.insert(path.clone(), child);
        children.push(json!({"name": name, "path": path}));
        if rng.chance(95) {
            component_entries.push(json!({"path": path, "importSpecifier": specifier}));
            components.push(ComponentDir::child(
                &root_path,
                normalize(&root_path.join(&path)),
                false,
                specifier,
            ));
        }
    }
    app["definition"]["childComponents"] = Value::Array(children);
    analysis.insert(String::new(), app);

    let keys: Vec<String> = analysis.keys().cloned().collect();
    let definition_path = if rng.chance(70) {
        String::new()
    } else {
        rng.pick(&keys).clone()
    };
    let component = if definition_path.is_empty() {
        ComponentDir::root(&root_path)
    } else {
        ComponentDir::child(
            &root_path,
            normalize(&root_path.join(&definition_path)),
            false,
            None,
        )
    };
    let extensions = ["ts", "js", "tsx", "mjs", "cjs", "jsx", "mts", "cts"];
    let mut modules: Vec<String> = (0..rng.below(8))
        .map(|_| {
            let depth = 1 + rng.below(3);
            let key = (0..depth)
                .map(|_| segment(rng))
                .collect::<Vec<_>>()
                .join("/");
            format!("{key}.{}", rng.pick(&extensions))
        })
        .collect();
    if rng.chance(10) {
        // Two modules with the same identifier (`a-b` and `a_b`).
        modules.push("same-name.ts".to_string());
        modules.push("same_name.js".to_string());
    }
    let mut modules_unique = Vec::new();
    for m in modules {
        let key = m.rsplit_once('.').unwrap().0.to_string();
        if !modules_unique
            .iter()
            .any(|x: &String| x.rsplit_once('.').unwrap().0 == key)
        {
            modules_unique.push(m);
        }
    }
    let options = Options {
        file_type: if rng.chance(40) {
            FileType::Ts
        } else {
            FileType::JsDts
        },
        static_api: rng.chance(60),
        static_data_model: rng.chance(60),
        legacy_component_api: rng.chance(25),
        generate_commonjs_api: false,
        ..Options::default()
    };
    let mut options = options;
    options.generate_commonjs_api = options.file_type == FileType::JsDts && rng.chance(20);
    let has_schema = rng.chance(80);
    let input = json!({
        "definitionPath": definition_path,
        "analysis": Value::Object(analysis),
        "components": component_entries,
        "modules": modules_unique,
        "fileType": if options.file_type == FileType::Ts { "ts" } else { "js/dts" },
        "staticApi": options.static_api,
        "staticDataModel": options.static_data_model,
        "legacyComponentApi": options.legacy_component_api,
        "commonjs": options.generate_commonjs_api,
        "hasSchema": has_schema,
    });
    Case {
        input,
        options,
        component,
        components,
        modules: modules_unique,
        has_schema,
    }
}

#[test]
#[ignore = "needs node and the reference CLI install; run with --ignored"]
fn final_codegen_matches_the_reference_templates_on_random_inputs() {
    let count: usize = std::env::var("CODEGEN_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let seed: u64 = std::env::var("CODEGEN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let cases: Vec<Case> = (0..count).map(|_| case(&mut rng)).collect();

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cases.json");
    let output = dir.path().join("results.json");
    let inputs: Vec<&Value> = cases.iter().map(|c| &c.input).collect();
    std::fs::write(&input, serde_json::to_string(&inputs).unwrap()).unwrap();
    let oracle = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/codegen-oracle.mjs");
    let status = std::process::Command::new("node")
        .arg(oracle)
        .arg(&input)
        .arg(&output)
        .status()
        .expect("node");
    assert!(status.success(), "the oracle failed");
    let results: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();

    let mut compared = 0;
    let mut reference_errors = 0;
    let mut failures = Vec::new();
    for (i, (case, result)) in cases.iter().zip(&results).enumerate() {
        let analysis = Analysis::from_value(&case.input["analysis"]).unwrap();
        let ours = plan_final(
            &case.component,
            &FinalInputs {
                analysis: &analysis,
                modules: &case.modules,
                has_schema: case.has_schema,
                components: &case.components,
            },
            &case.options,
        );
        match (result.get("files"), ours) {
            (Some(files), Ok(ours)) => {
                compared += 1;
                let ours: std::collections::BTreeMap<&str, &str> = ours
                    .iter()
                    .map(|f| (f.name.as_str(), f.contents.as_str()))
                    .collect();
                let theirs: std::collections::BTreeMap<&str, &str> = files
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
                    .collect();
                if ours != theirs {
                    let name = theirs
                        .keys()
                        .find(|k| ours.get(*k) != theirs.get(*k))
                        .copied();
                    let detail = match name {
                        Some(name) => first_difference(
                            theirs[name],
                            ours.get(name).copied().unwrap_or("<missing>"),
                        ),
                        None => {
                            format!("file sets differ: {:?} vs {:?}", theirs.keys(), ours.keys())
                        }
                    };
                    failures.push(format!(
                        "case {i} ({}): {}\n{detail}",
                        case.input["definitionPath"],
                        name.unwrap_or("")
                    ));
                }
            }
            (Some(_), Err(e)) => failures.push(format!(
                "case {i}: we failed where the reference did not: {e:#}"
            )),
            (None, ours) => {
                // The reference crashed (bad reference, duplicate name, ...).
                // Where we produce files instead it is listed, not failed.
                reference_errors += 1;
                if std::env::var_os("CODEGEN_FUZZ_VERBOSE").is_some() {
                    eprintln!(
                        "case {i}: reference failed ({}); ours: {}",
                        result["error"],
                        match &ours {
                            Ok(_) => "files".to_string(),
                            Err(e) => format!("{e:#}"),
                        }
                    );
                }
            }
        }
    }
    eprintln!(
        "{count} cases: {compared} compared, {} differ, {reference_errors} where the reference failed",
        failures.len()
    );
    if !failures.is_empty() {
        let dump = dir.keep().join("cases.json");
        panic!(
            "{} differences (inputs kept in {}):\n{}",
            failures.len(),
            dump.display(),
            failures
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n\n")
        );
    }
}

fn first_difference(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let first = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = first.saturating_sub(4);
    let mut out = format!("first difference at line {}\n--- reference\n", first + 1);
    for l in e.iter().skip(from).take(14) {
        out.push_str(&format!("| {l}\n"));
    }
    out.push_str("--- ours\n");
    for l in a.iter().skip(from).take(14) {
        out.push_str(&format!("| {l}\n"));
    }
    out
}
