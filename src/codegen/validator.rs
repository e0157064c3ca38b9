//! Convex validators (the JSON the server sends in `analysis`) as TypeScript
//! types, the way the official CLI spells them before prettier sees them.

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use serde_json::Value;

use super::ts_type::{Key, Member, TsType};

/// How `v.id("table")` is typed: `Id<"table">` in the app's static API and
/// data model, a plain `string` in component APIs and env types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdStyle {
    Id,
    String,
}

/// Parses the validator JSON string the server sends for function args,
/// returns and env vars. `None`/empty means "no validator".
pub fn parse(validator: Option<&str>) -> Result<Option<Value>> {
    match validator {
        None | Some("") => Ok(None),
        Some(s) => serde_json::from_str(s)
            .map(Some)
            .with_context(|| format!("invalid validator JSON: {s}")),
    }
}

pub fn to_type(validator: &Value, ids: IdStyle) -> Result<TsType> {
    let kind = validator
        .get("type")
        .and_then(Value::as_str)
        .with_context(|| format!("validator without a type: {validator}"))?;
    Ok(match kind {
        "null" => TsType::Keyword("null"),
        "number" => TsType::Keyword("number"),
        "bigint" => TsType::Keyword("bigint"),
        "boolean" => TsType::Keyword("boolean"),
        "string" => TsType::Keyword("string"),
        "any" => TsType::Keyword("any"),
        "bytes" => TsType::named("ArrayBuffer"),
        // What `Infer<v.commitTs()>` is: a bigint once committed, a
        // placeholder while the mutation that writes it is running.
        "commitTs" => TsType::Union(vec![
            TsType::Keyword("bigint"),
            TsType::Import {
                module: "convex/values".to_string(),
                name: "CommitTsPlaceholder".to_string(),
                args: Vec::new(),
            },
        ]),
        "literal" => literal_type(validator.get("value").unwrap_or(&Value::Null))?,
        "id" => match ids {
            IdStyle::Id => {
                let table = validator
                    .get("tableName")
                    .and_then(Value::as_str)
                    .context("id validator without tableName")?;
                TsType::reference("Id", vec![TsType::Literal(quote_raw(table))])
            }
            IdStyle::String => TsType::Keyword("string"),
        },
        "array" => TsType::reference("Array", vec![to_type(field(validator, "value")?, ids)?]),
        "record" => {
            let keys = to_type(field(validator, "keys")?, ids)?;
            let values = field(validator, "values")?;
            let values = to_type(values.get("fieldType").unwrap_or(values), ids)?;
            TsType::reference("Record", vec![keys, values])
        }
        "union" => {
            let members = field(validator, "value")?
                .as_array()
                .context("union validator without a list")?;
            let members = members
                .iter()
                .map(|m| to_type(m, ids))
                .collect::<Result<Vec<_>>>()?;
            if members.is_empty() {
                bail!("empty union validator");
            }
            TsType::union(members)
        }
        "object" => object_type(field(validator, "value")?, ids)?,
        other => bail!("unsupported validator type `{other}`"),
    })
}

fn field<'a>(validator: &'a Value, name: &str) -> Result<&'a Value> {
    validator
        .get(name)
        .with_context(|| format!("validator without `{name}`: {validator}"))
}

/// `{ a: T; b?: U }` in the order the server lists the fields.
pub fn object_type(fields: &Value, ids: IdStyle) -> Result<TsType> {
    let fields = fields
        .as_object()
        .context("object validator without fields")?;
    let mut members = Vec::with_capacity(fields.len());
    // The reference walks the parsed JSON with `Object.entries`.
    for (name, field) in super::analysis::js_entries(fields) {
        let field_type = field
            .get("fieldType")
            .context("object field without fieldType")?;
        members.push(Member {
            readonly: false,
            key: Key::Bare(name.to_string()),
            optional: field
                .get("optional")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            ty: to_type(field_type, ids)?,
        });
    }
    Ok(TsType::object(members, false))
}

/// A string literal for `value`. The reference writes `"<value>"` without
/// escaping and prettier then reads that text, so backslashes keep their
/// escaping meaning; do the same. A value the reference could not parse
/// (a bare `"` or a line break) gets a correctly escaped literal instead.
pub fn quote_raw(value: &str) -> String {
    let breaks_the_literal = value.contains(['\n', '\r', '\u{2028}', '\u{2029}'])
        || value
            .char_indices()
            .any(|(i, c)| c == '"' && !is_escaped(value, i))
        || trailing_backslashes(value) % 2 == 1;
    if breaks_the_literal {
        let json = serde_json::to_string(value).unwrap_or_default();
        return super::ts_type::print_string(&json[1..json.len() - 1]);
    }
    super::ts_type::print_string(value)
}

/// Whether the character at byte `index` is preceded by an odd number of backslashes.
fn is_escaped(s: &str, index: usize) -> bool {
    trailing_backslashes(&s[..index]) % 2 == 1
}

fn trailing_backslashes(s: &str) -> usize {
    s.bytes().rev().take_while(|b| *b == b'\\').count()
}

/// A literal validator's value (Convex JSON) as a literal type.
fn literal_type(value: &Value) -> Result<TsType> {
    Ok(TsType::Literal(match value {
        Value::Null => return Ok(TsType::Keyword("null")),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => quote_raw(s),
        Value::Number(n) => {
            let f = n.as_f64().context("literal number out of range")?;
            normalize_number(&js_number_to_string(f))
        }
        Value::Object(map) if map.len() == 1 && map.contains_key("$integer") => {
            let encoded = map["$integer"]
                .as_str()
                .context("$integer is not a string")?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .context("$integer is not base64")?;
            let bytes: [u8; 8] = bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("$integer is not 8 bytes"))?;
            format!("{}n", i64::from_le_bytes(bytes))
        }
        Value::Object(map) if map.len() == 1 && map.contains_key("$float") => {
            let encoded = map["$float"].as_str().context("$float is not a string")?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .context("$float is not base64")?;
            let bytes: [u8; 8] = bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("$float is not 8 bytes"))?;
            normalize_number(&js_number_to_string(f64::from_le_bytes(bytes)))
        }
        other => bail!("unsupported literal value {other}"),
    }))
}

pub use crate::jsfmt::js_number_to_string;

/// prettier's `printNumber`: lower case; no `+` or leading zeros in the
/// exponent, no zero exponent; a digit before a leading point; extra trailing
/// zeros after the point dropped (one stays: `1.0`); no trailing point.
pub fn normalize_number(raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    let (sign, rest) = match lower.strip_prefix(['-', '+']) {
        Some(rest) => (&lower[..1], rest),
        None => ("", lower.as_str()),
    };
    let is_numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let (mut mantissa, exponent) = match rest.split_once('e') {
        Some((m, e)) if is_numeric(m) => (m.to_string(), Some(e.to_string())),
        _ if is_numeric(rest) => (rest.to_string(), None),
        _ => return raw.to_string(), // NaN, Infinity
    };
    let exponent = exponent.and_then(|e| {
        let (negative, digits) = match e.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, e.strip_prefix('+').unwrap_or(&e)),
        };
        let significant = digits.trim_start_matches('0');
        if significant.is_empty() {
            None
        } else {
            Some(format!("{}{significant}", if negative { "-" } else { "" }))
        }
    });
    if mantissa.starts_with('.') {
        mantissa.insert(0, '0');
    }
    if let Some(dot) = mantissa.find('.') {
        let fraction = &mantissa[dot + 1..];
        if fraction.len() > 1 {
            let kept = fraction.trim_end_matches('0');
            let kept = if kept.is_empty() {
                &fraction[..1]
            } else {
                kept
            };
            mantissa = format!("{}.{kept}", &mantissa[..dot]);
        }
        if mantissa.ends_with('.') {
            mantissa.pop();
        }
    }
    match exponent {
        Some(e) => format!("{sign}{mantissa}e{e}"),
        None => format!("{sign}{mantissa}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flat(v: Value, ids: IdStyle) -> String {
        to_type(&v, ids).unwrap().to_flat_string()
    }

    #[test]
    fn scalars() {
        for (t, expected) in [
            ("null", "null"),
            ("number", "number"),
            ("bigint", "bigint"),
            ("boolean", "boolean"),
            ("string", "string"),
            ("bytes", "ArrayBuffer"),
            ("any", "any"),
        ] {
            assert_eq!(flat(json!({ "type": t }), IdStyle::Id), expected);
        }
        assert_eq!(
            flat(json!({"type": "commitTs"}), IdStyle::Id),
            "bigint | import(\"convex/values\").CommitTsPlaceholder"
        );
    }

    #[test]
    fn ids_depend_on_the_style() {
        let v = json!({"type": "id", "tableName": "users"});
        assert_eq!(flat(v.clone(), IdStyle::Id), "Id<\"users\">");
        assert_eq!(flat(v, IdStyle::String), "string");
    }

    #[test]
    fn containers() {
        let v = json!({"type": "object", "value": {
            "a": {"fieldType": {"type": "array", "value": {"type": "string"}}, "optional": false},
            "b": {"fieldType": {"type": "record", "keys": {"type": "string"},
                  "values": {"fieldType": {"type": "union", "value": [{"type": "number"}, {"type": "null"}]}, "optional": false}}, "optional": true},
        }});
        assert_eq!(
            flat(v, IdStyle::Id),
            "{ a: Array<string>; b?: Record<string, number | null> }"
        );
        assert_eq!(
            flat(json!({"type": "object", "value": {}}), IdStyle::Id),
            "{}"
        );
    }

    #[test]
    fn literals() {
        let lit = |v: Value| flat(json!({"type": "literal", "value": v}), IdStyle::Id);
        assert_eq!(lit(json!("x")), "\"x\"");
        assert_eq!(lit(json!(1)), "1");
        assert_eq!(lit(json!(2.5)), "2.5");
        assert_eq!(lit(json!(-3)), "-3");
        assert_eq!(lit(json!(true)), "true");
        assert_eq!(lit(json!(null)), "null");
        assert_eq!(lit(json!({"$integer": "CgAAAAAAAAA="})), "10n");
        assert_eq!(lit(json!({"$integer": "9v////////8="})), "-10n");
        assert_eq!(lit(json!(1e21)), "1e21");
    }

    #[test]
    fn values_the_reference_cannot_format_still_give_valid_typescript() {
        let lit = |v: &str| flat(json!({"type": "literal", "value": v}), IdStyle::Id);
        // What the reference writes (and prettier keeps):
        assert_eq!(lit("it's"), "\"it's\"");
        assert_eq!(lit(r"a\d"), r#""a\d""#);
        // Where the reference's text would not parse, a proper literal:
        assert_eq!(lit("say \"hi\""), r#"'say "hi"'"#);
        assert_eq!(lit("two\nlines"), r#""two\nlines""#);
        assert_eq!(lit("ends with \\"), r#""ends with \\""#);
        let field = json!({"type": "object", "value": {
            "my-field": {"fieldType": {"type": "string"}, "optional": false},
            "ok": {"fieldType": {"type": "string"}, "optional": true},
        }});
        assert_eq!(
            flat(field, IdStyle::Id),
            r#"{ "my-field": string; ok?: string }"#
        );
    }

    #[test]
    fn object_fields_follow_javascript_key_order() {
        let v = json!({"type": "object", "value": {
            "b": {"fieldType": {"type": "string"}, "optional": false},
            "10": {"fieldType": {"type": "string"}, "optional": false},
            "2": {"fieldType": {"type": "string"}, "optional": false},
        }});
        assert_eq!(flat(v, IdStyle::Id), "{ 2: string; 10: string; b: string }");
    }

    #[test]
    fn prettier_number_normalisation() {
        assert_eq!(normalize_number("1e+21"), "1e21");
        assert_eq!(normalize_number("1.50"), "1.5");
        assert_eq!(normalize_number("1.0"), "1.0");
        assert_eq!(normalize_number("1.00"), "1.0");
        assert_eq!(normalize_number("5."), "5");
        assert_eq!(normalize_number("1E-07"), "1e-7");
        assert_eq!(normalize_number(".5"), "0.5");
        assert_eq!(normalize_number("2e0"), "2");
    }
}
