//! Convex values as the CLI reads and prints them.
//!
//! - [`parse_json5`]: JSON5 text (function arguments, `--identity`) into a
//!   [`JsValue`], as JavaScript's `JSON5.parse` gives it (every number an
//!   f64, `Infinity` / `NaN` / `-0` kept, the last of duplicate keys wins).
//! - [`ConvexValue`]: a Convex value; [`ConvexValue::from_json`] reads the
//!   Convex JSON encoding (`{"$integer": ...}`, `{"$bytes": ...}`,
//!   `{"$float": ...}`, as `jsonToConvex`), [`ConvexValue::to_json`] writes
//!   it (keys sorted, special floats as `$float`, as `convexToJson`).
//! - [`stringify`]: `JSON.stringify` of a [`JsValue`] (compact or indented),
//!   byte for byte: JavaScript's number formatting (`1e+21`,
//!   `12345678901234567000`) and property order (array-index keys first).
//! - [`to_serde_json`] / [`JsValue::from_serde`]: to and from
//!   `serde_json::Value` (the sync protocol and HTTP bodies).
//! - [`ConvexValue::display`]: the `data` command's value syntax (`5n`,
//!   `Bytes("AQID")`, `{ "a": 1 }`).

use crate::jsfmt::js_number_to_string;
use base64::Engine as _;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A JSON value as JavaScript holds it: numbers are f64 (so `Infinity`,
/// `NaN` and `-0` exist), objects keep their insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum JsValue {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<JsValue>),
    Object(Vec<(String, JsValue)>),
}

impl JsValue {
    /// From serde_json (numbers become f64, as `JSON.parse` makes them).
    pub fn from_serde(value: &Value) -> JsValue {
        match value {
            Value::Null => JsValue::Null,
            Value::Bool(b) => JsValue::Bool(*b),
            Value::Number(n) => JsValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => JsValue::String(s.clone()),
            Value::Array(a) => JsValue::Array(a.iter().map(JsValue::from_serde).collect()),
            Value::Object(m) => JsValue::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), JsValue::from_serde(v)))
                    .collect(),
            ),
        }
    }

    /// `String(value)` for the few shapes messages show.
    pub fn js_to_string(&self) -> String {
        match self {
            JsValue::Null => "null".into(),
            JsValue::Bool(b) => b.to_string(),
            JsValue::Number(n) => js_number_to_string(*n),
            JsValue::String(s) => s.clone(),
            JsValue::Array(a) => a
                .iter()
                .map(|v| match v {
                    JsValue::Null => String::new(),
                    other => other.js_to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            JsValue::Object(_) => "[object Object]".into(),
        }
    }
}

/// Insert with JavaScript's semantics: an existing key keeps its place and
/// takes the new value.
fn js_insert(entries: &mut Vec<(String, JsValue)>, key: String, value: JsValue) {
    if let Some(slot) = entries.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = value;
    } else {
        entries.push((key, value));
    }
}

impl<'de> Deserialize<'de> for JsValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<JsValue, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JsValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON5 value")
            }
            fn visit_unit<E>(self) -> Result<JsValue, E> {
                Ok(JsValue::Null)
            }
            fn visit_none<E>(self) -> Result<JsValue, E> {
                Ok(JsValue::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<JsValue, D::Error> {
                JsValue::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<JsValue, E> {
                Ok(JsValue::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<JsValue, E> {
                Ok(number(n as f64))
            }
            fn visit_u64<E>(self, n: u64) -> Result<JsValue, E> {
                Ok(number(n as f64))
            }
            fn visit_i128<E>(self, n: i128) -> Result<JsValue, E> {
                Ok(number(n as f64))
            }
            fn visit_u128<E>(self, n: u128) -> Result<JsValue, E> {
                Ok(number(n as f64))
            }
            fn visit_f64<E>(self, n: f64) -> Result<JsValue, E> {
                Ok(number(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<JsValue, E> {
                Ok(JsValue::String(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<JsValue, E> {
                Ok(JsValue::String(s))
            }
            fn visit_char<E>(self, c: char) -> Result<JsValue, E> {
                Ok(JsValue::String(c.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<JsValue>()? {
                    items.push(item);
                }
                Ok(JsValue::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsValue, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, JsValue>()? {
                    js_insert(&mut entries, key, value);
                }
                Ok(JsValue::Object(entries))
            }
        }
        deserializer.deserialize_any(V)
    }
}

thread_local! {
    /// While [`parse_json5`] runs: how many numbers were read, and which of
    /// them (by position in the text) are an integer `-0`, which the json5
    /// crate reads as `0` but JavaScript as negative zero.
    static NUMBERS: std::cell::RefCell<(usize, Vec<usize>)> =
        const { std::cell::RefCell::new((0, Vec::new())) };
}

/// A number read by the JSON5 deserializer (see [`NUMBERS`]).
fn number(n: f64) -> JsValue {
    NUMBERS.with(|state| {
        let mut state = state.borrow_mut();
        let index = state.0;
        state.0 += 1;
        if n == 0.0 && state.1.contains(&index) {
            JsValue::Number(-0.0)
        } else {
            JsValue::Number(n)
        }
    })
}

/// The positions (in reading order) of the number literals of a JSON5 text
/// that are a negative integer zero (`-0`, `-0x0`).
fn negative_zero_literals(text: &str) -> Vec<usize> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut count = 0;
    let mut i = 0;
    let is_ident =
        |c: char| c.is_alphanumeric() || c == '$' || c == '_' || c == '\\' || !c.is_ascii();
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' => {
                i += 1;
                while i < chars.len() && chars[i] != c {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && !matches!(chars[i], '\n' | '\r' | '\u{2028}' | '\u{2029}')
                {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            '+' | '-' | '.' | '0'..='9' => {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (is_ident(chars[i])
                        || chars[i] == '.'
                        || ((chars[i] == '+' || chars[i] == '-')
                            && matches!(chars[i - 1], 'e' | 'E')))
                {
                    i += 1;
                }
                let token: String = chars[start..i].iter().collect();
                if let Some(rest) = token.strip_prefix('-')
                    && (rest == "0"
                        || rest.eq_ignore_ascii_case("0x0")
                        || (rest.len() > 2
                            && rest[..2].eq_ignore_ascii_case("0x")
                            && rest[2..].bytes().all(|b| b == b'0')))
                {
                    found.push(count);
                }
                count += 1;
            }
            c if is_ident(c) => {
                let start = i;
                while i < chars.len() && is_ident(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                // `Infinity` / `NaN` standing alone are numbers too (keys
                // with those names are followed by a colon and are not read
                // as numbers).
                if word == "Infinity" || word == "NaN" {
                    let mut j = i;
                    while j < chars.len() && chars[j].is_whitespace() {
                        j += 1;
                    }
                    if chars.get(j) != Some(&':') {
                        count += 1;
                    }
                }
            }
            _ => i += 1,
        }
    }
    found
}

/// `JSON5.parse(text)`. The error names the line and column.
pub fn parse_json5(text: &str) -> Result<JsValue, String> {
    let negative_zeros = negative_zero_literals(text);
    NUMBERS.with(|state| *state.borrow_mut() = (0, negative_zeros));
    let result = json5::from_str::<JsValue>(text).map_err(|e| format!("JSON5: {e}"));
    NUMBERS.with(|state| *state.borrow_mut() = (0, Vec::new()));
    result
}

/// A Convex value.
#[derive(Debug, Clone, PartialEq)]
pub enum ConvexValue {
    Null,
    Bool(bool),
    /// A float64 (`v.number()`); may be special (`NaN`, `±Infinity`, `-0`).
    Number(f64),
    /// An int64 (`v.int64()`, a JavaScript bigint).
    Int64(i64),
    Bytes(Vec<u8>),
    String(String),
    Array(Vec<ConvexValue>),
    /// Fields in insertion order.
    Object(Vec<(String, ConvexValue)>),
}

fn is_special(n: f64) -> bool {
    n.is_nan() || n.is_infinite() || (n == 0.0 && n.is_sign_negative())
}

/// The field-name rule of `validateObjectField`.
fn validate_field(k: &str) -> Result<(), String> {
    const MAX_IDENTIFIER_LEN: usize = 1024;
    if k.encode_utf16().count() > MAX_IDENTIFIER_LEN {
        return Err(format!(
            "Field name {k} exceeds maximum field name length {MAX_IDENTIFIER_LEN}."
        ));
    }
    if k.starts_with('$') {
        return Err(format!(
            "Field name {k} starts with a '$', which is reserved."
        ));
    }
    if let Some(c) = k.chars().find(|c| (*c as u32) < 32 || (*c as u32) >= 127) {
        return Err(format!(
            "Field name {k} has invalid character '{c}': Field names can only contain non-control ASCII characters"
        ));
    }
    Ok(())
}

impl ConvexValue {
    /// `jsonToConvex`: read the Convex JSON encoding.
    pub fn from_json(value: &JsValue) -> Result<ConvexValue, String> {
        Ok(match value {
            JsValue::Null => ConvexValue::Null,
            JsValue::Bool(b) => ConvexValue::Bool(*b),
            JsValue::Number(n) => ConvexValue::Number(*n),
            JsValue::String(s) => ConvexValue::String(s.clone()),
            JsValue::Array(items) => ConvexValue::Array(
                items
                    .iter()
                    .map(ConvexValue::from_json)
                    .collect::<Result<_, _>>()?,
            ),
            JsValue::Object(entries) => {
                if let [(key, inner)] = entries.as_slice() {
                    let b64 = |name: &str| -> Result<Vec<u8>, String> {
                        let JsValue::String(s) = inner else {
                            return Err(format!("Malformed {name} field on [object Object]"));
                        };
                        decode_base64(s)
                            .ok_or_else(|| format!("Malformed {name} field: {s} is not base64"))
                    };
                    match key.as_str() {
                        "$bytes" => return Ok(ConvexValue::Bytes(b64("$bytes")?)),
                        "$integer" => {
                            let bytes = b64("$integer")?;
                            let bytes: [u8; 8] = bytes.as_slice().try_into().map_err(|_| {
                                format!("Received {} bytes, expected 8 for $integer", bytes.len())
                            })?;
                            return Ok(ConvexValue::Int64(i64::from_le_bytes(bytes)));
                        }
                        "$float" => {
                            let bytes = b64("$float")?;
                            let bytes: [u8; 8] = bytes.as_slice().try_into().map_err(|_| {
                                format!("Received {} bytes, expected 8 for $float", bytes.len())
                            })?;
                            let f = f64::from_le_bytes(bytes);
                            if !is_special(f) {
                                return Err(format!(
                                    "Float {} should be encoded as a number",
                                    js_number_to_string(f)
                                ));
                            }
                            return Ok(ConvexValue::Number(f));
                        }
                        "$set" => {
                            return Err(
                                "Received a Set which is no longer supported as a Convex type."
                                    .into(),
                            );
                        }
                        "$map" => {
                            return Err(
                                "Received a Map which is no longer supported as a Convex type."
                                    .into(),
                            );
                        }
                        _ => {}
                    }
                }
                let mut out: Vec<(String, ConvexValue)> = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    validate_field(k)?;
                    let v = ConvexValue::from_json(v)?;
                    if let Some(slot) = out.iter_mut().find(|(key, _)| key == k) {
                        slot.1 = v;
                    } else {
                        out.push((k.clone(), v));
                    }
                }
                ConvexValue::Object(out)
            }
        })
    }

    /// [`ConvexValue::from_json`] of a serde_json value (an answer from the
    /// deployment).
    pub fn from_serde(value: &Value) -> Result<ConvexValue, String> {
        ConvexValue::from_json(&JsValue::from_serde(value))
    }

    /// `convexToJson`: the Convex JSON encoding, object keys sorted.
    pub fn to_json(&self) -> Result<JsValue, String> {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        Ok(match self {
            ConvexValue::Null => JsValue::Null,
            ConvexValue::Bool(b) => JsValue::Bool(*b),
            ConvexValue::Number(n) if is_special(*n) => JsValue::Object(vec![(
                "$float".into(),
                JsValue::String(b64(&n.to_le_bytes())),
            )]),
            ConvexValue::Number(n) => JsValue::Number(*n),
            ConvexValue::Int64(i) => JsValue::Object(vec![(
                "$integer".into(),
                JsValue::String(b64(&i.to_le_bytes())),
            )]),
            ConvexValue::Bytes(bytes) => {
                JsValue::Object(vec![("$bytes".into(), JsValue::String(b64(bytes)))])
            }
            ConvexValue::String(s) => JsValue::String(s.clone()),
            ConvexValue::Array(items) => JsValue::Array(
                items
                    .iter()
                    .map(ConvexValue::to_json)
                    .collect::<Result<_, _>>()?,
            ),
            ConvexValue::Object(entries) => {
                let mut sorted: Vec<&(String, ConvexValue)> = entries.iter().collect();
                sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
                let mut out = Vec::with_capacity(sorted.len());
                for (k, v) in sorted {
                    validate_field(k)?;
                    out.push((k.clone(), v.to_json()?));
                }
                JsValue::Object(out)
            }
        })
    }

    /// The `data` command's syntax for a value (its `stringify`).
    pub fn display(&self) -> String {
        match self {
            ConvexValue::Null => "null".into(),
            ConvexValue::Int64(i) => format!("{i}n"),
            ConvexValue::Number(n) => js_number_to_string(*n),
            ConvexValue::Bool(b) => b.to_string(),
            ConvexValue::String(s) => json_string(s),
            ConvexValue::Bytes(bytes) => format!(
                "Bytes(\"{}\")",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            ),
            ConvexValue::Array(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(ConvexValue::display)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ConvexValue::Object(entries) => {
                let pairs: Vec<String> = js_property_order(entries)
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\": {}", v.display()))
                    .collect();
                format!("{{ {} }}", pairs.join(", "))
            }
        }
    }

    /// The fields of an object in JavaScript's property order (what
    /// `Object.entries` / `for … in` give).
    pub fn entries(&self) -> Vec<(&String, &ConvexValue)> {
        match self {
            ConvexValue::Object(entries) => js_property_order(entries),
            _ => Vec::new(),
        }
    }
}

/// Base64 as `Base64.toByteArray` reads it (standard alphabet, padding
/// optional; URL-safe characters accepted too).
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let normalized: String = s
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    LENIENT.decode(normalized).ok()
}

fn js_property_order<V>(entries: &[(String, V)]) -> Vec<(&String, &V)> {
    crate::jsfmt::js_key_order(entries.iter().map(|(k, v)| (k, v)))
}

/// `JSON.stringify(string)`.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `JSON.stringify(value, null, indent)` (`indent` 0: compact).
pub fn stringify(value: &JsValue, indent: usize) -> String {
    let mut out = String::new();
    write_json(&mut out, value, indent, 0);
    out
}

fn write_json(out: &mut String, value: &JsValue, indent: usize, depth: usize) {
    let newline = |out: &mut String, depth: usize| {
        if indent > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent * depth));
        }
    };
    match value {
        JsValue::Null => out.push_str("null"),
        JsValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        JsValue::Number(n) if n.is_finite() => out.push_str(&js_number_to_string(*n)),
        JsValue::Number(_) => out.push_str("null"),
        JsValue::String(s) => out.push_str(&json_string(s)),
        JsValue::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_json(out, item, indent, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
        JsValue::Object(entries) => {
            if entries.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, v)) in js_property_order(entries).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                out.push_str(&json_string(k));
                out.push(':');
                if indent > 0 {
                    out.push(' ');
                }
                write_json(out, v, indent, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
    }
}

/// A [`JsValue`] as serde_json (non-finite numbers, which JSON cannot hold,
/// become `null` as in `JSON.stringify`; whole numbers are written without a
/// fraction).
pub fn to_serde_json(value: &JsValue) -> Value {
    match value {
        JsValue::Null => Value::Null,
        JsValue::Bool(b) => Value::Bool(*b),
        JsValue::Number(n) => {
            if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 && !is_special(*n) {
                Value::from(*n as i64)
            } else {
                serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
            }
        }
        JsValue::String(s) => Value::String(s.clone()),
        JsValue::Array(items) => Value::Array(items.iter().map(to_serde_json).collect()),
        JsValue::Object(entries) => Value::Object(
            js_property_order(entries)
                .into_iter()
                .map(|(k, v)| (k.clone(), to_serde_json(v)))
                .collect(),
        ),
    }
}

/// Function arguments as `convex run` reads them: JSON5, then the Convex
/// JSON encoding (`jsonToConvex`), which must be an object. Returns the
/// Convex-encoded arguments (keys sorted, as `convexToJson` sends them).
/// Errors: `Err((parse_error, is_syntax))`: a JSON5 or encoding problem
/// (`is_syntax` true), or arguments that are not an object.
pub fn parse_function_args(text: &str) -> Result<JsValue, ArgsError> {
    let parsed = parse_json5(text).map_err(ArgsError::Syntax)?;
    let value =
        ConvexValue::from_json(&parsed).map_err(|e| ArgsError::Syntax(format!("Error: {e}")))?;
    if !matches!(value, ConvexValue::Object(_)) {
        return Err(ArgsError::NotAnObject(parsed.js_to_string()));
    }
    value.to_json().map_err(ArgsError::NotAnObject)
}

/// Why function arguments were refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgsError {
    /// Not JSON5, or not a valid Convex encoding.
    Syntax(String),
    /// Valid, but not an object (what it was, as JavaScript prints it).
    NotAnObject(String),
}

/// The fake identity of `run --identity`: JSON5, with `subject`, `issuer`
/// and `tokenIdentifier` filled in as the official CLI does.
pub fn fake_identity(text: &str) -> Result<JsValue, String> {
    let parsed = parse_json5(text)?;
    let JsValue::Object(mut entries) = parsed.clone() else {
        // Spreading a non-object yields just the three fields.
        return fake_identity_fields(Vec::new(), &parsed);
    };
    let get = |entries: &Vec<(String, JsValue)>, k: &str| {
        entries
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .filter(|v| *v != JsValue::Null)
    };
    let subject = get(&entries, "subject")
        .unwrap_or_else(|| JsValue::String(simple_hash(&stringify(&parsed, 0)).to_string()));
    let issuer =
        get(&entries, "issuer").unwrap_or_else(|| JsValue::String("https://convex.test".into()));
    let token_identifier = get(&entries, "tokenIdentifier").unwrap_or_else(|| {
        JsValue::String(format!(
            "{}|{}",
            issuer.js_to_string(),
            subject.js_to_string()
        ))
    });
    js_insert(&mut entries, "subject".into(), subject);
    js_insert(&mut entries, "issuer".into(), issuer);
    js_insert(&mut entries, "tokenIdentifier".into(), token_identifier);
    Ok(JsValue::Object(entries))
}

fn fake_identity_fields(
    entries: Vec<(String, JsValue)>,
    parsed: &JsValue,
) -> Result<JsValue, String> {
    match parsed {
        JsValue::Null => Err("Cannot read properties of null (reading 'subject')".into()),
        _ => {
            let mut entries = entries;
            let subject = JsValue::String(simple_hash(&stringify(parsed, 0)).to_string());
            let issuer = JsValue::String("https://convex.test".into());
            let token = JsValue::String(format!(
                "{}|{}",
                issuer.js_to_string(),
                subject.js_to_string()
            ));
            entries.push(("subject".into(), subject));
            entries.push(("issuer".into(), issuer));
            entries.push(("tokenIdentifier".into(), token));
            Ok(JsValue::Object(entries))
        }
    }
}

/// The official CLI's 32-bit string hash (over UTF-16 code units).
fn simple_hash(s: &str) -> i32 {
    let mut hash: i32 = 0;
    for unit in s.encode_utf16() {
        hash = hash
            .wrapping_shl(5)
            .wrapping_sub(hash)
            .wrapping_add(unit as i32);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_does() {
        for (n, s) in [
            (12345678901234567890.0, "12345678901234567000"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (0.30000000000000004, "0.30000000000000004"),
            (1700000000123.5, "1700000000123.5"),
            (-0.0, "0"),
            (5.0, "5"),
            (-2.5e-10, "-2.5e-10"),
            (123e20, "1.23e+22"),
            (100.0, "100"),
            (f64::INFINITY, "Infinity"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(js_number_to_string(n), s, "{n}");
        }
    }

    #[test]
    fn json5_args_become_convex_json() {
        let args = parse_function_args("{b: Infinity, a: -0, c: 0x10, d: 'x', }").unwrap();
        assert_eq!(
            stringify(&args, 0),
            r#"{"a":{"$float":"AAAAAAAAAIA="},"b":{"$float":"AAAAAAAA8H8="},"c":16,"d":"x"}"#
        );
        assert!(matches!(
            parse_function_args("{author: 'bob', body: }"),
            Err(ArgsError::Syntax(_))
        ));
        assert_eq!(
            parse_function_args("[1, 2]"),
            Err(ArgsError::NotAnObject("1,2".into()))
        );
        assert!(matches!(
            parse_function_args("{$x: 1}"),
            Err(ArgsError::Syntax(e)) if e.contains("starts with a '$'")
        ));
        assert!(matches!(
            parse_function_args(r#"{x: {"$integer": 5}}"#),
            Err(ArgsError::Syntax(_))
        ));
        // Duplicate keys: the last wins.
        assert_eq!(
            stringify(&parse_function_args("{a: 1, a: 2}").unwrap(), 0),
            r#"{"a":2}"#
        );
    }

    #[test]
    fn results_print_like_the_official_cli() {
        let answer: Value = serde_json::from_str(
            r#"{"count":{"$integer":"KgAAAAAAAAA="},"blob":{"$bytes":"aGVsbG8="},"big":12345678901234567890,"huge":1e+21,"10":1,"9":2}"#,
        )
        .unwrap();
        let v = ConvexValue::from_serde(&answer).unwrap();
        let json = v.to_json().unwrap();
        assert_eq!(
            stringify(&json, 2),
            "{\n  \"9\": 2,\n  \"10\": 1,\n  \"big\": 12345678901234567000,\n  \"blob\": {\n    \"$bytes\": \"aGVsbG8=\"\n  },\n  \"count\": {\n    \"$integer\": \"KgAAAAAAAAA=\"\n  },\n  \"huge\": 1e+21\n}"
        );
        assert_eq!(
            v.display(),
            r#"{ "9": 2, "10": 1, "count": 42n, "blob": Bytes("aGVsbG8="), "big": 12345678901234567000, "huge": 1e+21 }"#
        );
        assert_eq!(stringify(&JsValue::Array(vec![]), 2), "[]");
        assert_eq!(ConvexValue::Object(vec![]).display(), "{  }");
    }

    #[test]
    fn fake_identities() {
        let id = fake_identity("{name: 'Al'}").unwrap();
        let s = stringify(&id, 0);
        assert!(s.starts_with(r#"{"name":"Al","subject":""#), "{s}");
        assert!(s.contains(r#""issuer":"https://convex.test""#));
        let id = fake_identity("{subject: 'u1', issuer: 'https://i'}").unwrap();
        assert_eq!(
            stringify(&id, 0),
            r#"{"subject":"u1","issuer":"https://i","tokenIdentifier":"https://i|u1"}"#
        );
        assert_eq!(simple_hash(""), 0);
        assert_eq!(simple_hash("a"), 97);
        assert_eq!(simple_hash("ab"), 97 * 31 + 98);
    }

    #[test]
    fn to_serde_keeps_integers_whole() {
        assert_eq!(to_serde_json(&JsValue::Number(16.0)).to_string(), "16");
        assert_eq!(to_serde_json(&JsValue::Number(2.5)).to_string(), "2.5");
    }
}
