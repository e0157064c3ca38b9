//! Formatting as the official CLI's JavaScript runtime does it, for stdout
//! data that must match byte for byte:
//!
//! - [`js_number_to_string`], `Number.prototype.toString()`;
//! - [`js_entries`] / [`js_key_order`], the order JavaScript enumerates an
//!   object's keys;
//! - [`stringify_pretty`], `JSON.stringify(value, null, 2)` of a value that
//!   went through `JSON.parse` (on [`crate::values::stringify`]);
//! - [`format_grouped`] / [`format_compact`], `Intl.NumberFormat("en-US")`
//!   (`1,234.568`) and its compact short notation with at most three
//!   fraction digits (`1.235K`, `2.5B`), rounded half away from zero on the
//!   shortest decimal form of the double, as ICU does.

use serde_json::Value;

/// `Number.prototype.toString()` for a double: the shortest digits that round
/// trip, in plain notation for exponents in [-7, 21) and scientific otherwise.
pub fn js_number_to_string(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if value == 0.0 {
        return "0".to_string();
    }
    let Decimal { digits, point, .. } = Decimal::of(value);
    let digits: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    let k = digits.len() as i32;
    let n = point;
    let sign = if value < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let exp = if e >= 0 {
            format!("+{e}")
        } else {
            e.to_string()
        };
        if k == 1 {
            format!("{digits}e{exp}")
        } else {
            format!("{}.{}e{exp}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

/// The entries of a JSON object in the order JavaScript enumerates them:
/// keys that are array indices first, ascending, then the rest as written.
pub fn js_entries(map: &serde_json::Map<String, Value>) -> Vec<(&str, &Value)> {
    js_key_order(map)
        .into_iter()
        .map(|(k, v)| (k.as_str(), v))
        .collect()
}

/// Any key/value sequence in JavaScript's property order (see [`js_entries`]).
pub fn js_key_order<'a, K: AsRef<str> + 'a, V: 'a>(
    entries: impl IntoIterator<Item = (&'a K, &'a V)>,
) -> Vec<(&'a K, &'a V)> {
    let mut indices: Vec<(u32, &K, &V)> = Vec::new();
    let mut others = Vec::new();
    for (key, value) in entries {
        match array_index(key.as_ref()) {
            Some(i) => indices.push((i, key, value)),
            None => others.push((key, value)),
        }
    }
    indices.sort_by_key(|(i, _, _)| *i);
    indices
        .into_iter()
        .map(|(_, k, v)| (k, v))
        .chain(others)
        .collect()
}

/// `Some(n)` if `key` is the canonical decimal form of an integer below 2^32 - 1.
pub fn array_index(key: &str) -> Option<u32> {
    if key.is_empty() || (key.len() > 1 && key.starts_with('0')) {
        return None;
    }
    if !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u32>().ok().filter(|n| *n != u32::MAX)
}

/// A JSON number as the double `JSON.parse` makes of it.
pub fn json_number(n: &serde_json::Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

/// `JSON.stringify(value, null, 2)` of a parsed JSON value (numbers as the
/// doubles `JSON.parse` makes, integer-like keys first).
pub fn stringify_pretty(value: &Value) -> String {
    crate::values::stringify(&crate::values::JsValue::from_serde(value), 2)
}

/// A finite double as decimal digits: value = 0.d1d2d3… × 10^point.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    /// No leading zeros; empty for zero.
    digits: Vec<u8>,
    point: i32,
}

impl Decimal {
    /// The shortest decimal form that reads back as `value` (finite).
    fn of(value: f64) -> Decimal {
        let negative = value.is_sign_negative();
        if value == 0.0 {
            return Decimal {
                negative,
                digits: Vec::new(),
                point: 0,
            };
        }
        // Rust's `{:e}` gives the shortest round-tripping digits: "1.5e-7".
        let scientific = format!("{:e}", value.abs());
        let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let digits: Vec<u8> = mantissa
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect();
        let mut d = Decimal {
            negative,
            digits,
            point: exponent + 1,
        };
        d.trim();
        d
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    fn trim(&mut self) {
        while self.digits.last() == Some(&0) {
            self.digits.pop();
        }
        let leading = self.digits.iter().take_while(|d| **d == 0).count();
        if leading > 0 {
            self.digits.drain(..leading);
            self.point -= leading as i32;
        }
        if self.digits.is_empty() {
            self.point = 0;
        }
    }

    /// Position of the most significant digit (ICU's magnitude): 0 for
    /// 1–9, 3 for 1000–9999, -1 for 0.1–0.9.
    fn magnitude(&self) -> i32 {
        self.point - 1
    }

    /// Multiply by 10^shift.
    fn shift(&mut self, shift: i32) {
        if !self.is_zero() {
            self.point += shift;
        }
    }

    /// Round to `fraction` digits after the point, halves away from zero.
    fn round_fraction(&mut self, fraction: i32) {
        let keep = self.point + fraction;
        if keep >= self.digits.len() as i32 {
            return;
        }
        if keep < 0 {
            self.digits.clear();
            self.trim();
            return;
        }
        let keep = keep as usize;
        let round_up = self.digits[keep] >= 5;
        self.digits.truncate(keep);
        if round_up {
            let mut i = keep;
            loop {
                if i == 0 {
                    self.digits.insert(0, 1);
                    self.point += 1;
                    break;
                }
                i -= 1;
                if self.digits[i] == 9 {
                    self.digits[i] = 0;
                } else {
                    self.digits[i] += 1;
                    break;
                }
            }
        }
        self.trim();
    }

    /// Plain digits with en-US grouping of the integer part: `min_grouping`
    /// is 1 for ordinary formatting, 2 for compact notation (ICU's "min2":
    /// `1000T` but `10,000T`).
    fn render(&self, min_grouping: usize) -> String {
        let int_len = self.point.max(0) as usize;
        let mut int_digits = String::new();
        for i in 0..int_len {
            let d = self.digits.get(i).copied().unwrap_or(0);
            int_digits.push(char::from(b'0' + d));
        }
        if int_digits.is_empty() {
            int_digits.push('0');
        }
        let grouped = if int_digits.len() >= 3 + min_grouping {
            let mut g = String::new();
            let first = int_digits.len() % 3;
            for (i, c) in int_digits.chars().enumerate() {
                if i > 0 && (i + 3 - first).is_multiple_of(3) {
                    g.push(',');
                }
                g.push(c);
            }
            g
        } else {
            int_digits
        };
        let mut fraction = String::new();
        if self.point < 0 {
            fraction.push_str(&"0".repeat((-self.point) as usize));
        }
        for d in self.digits.iter().skip(int_len) {
            fraction.push(char::from(b'0' + d));
        }
        let sign = if self.negative { "-" } else { "" };
        if fraction.is_empty() {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped}.{fraction}")
        }
    }
}

fn non_finite(value: f64) -> Option<String> {
    if value.is_nan() {
        Some("NaN".to_string())
    } else if value.is_infinite() {
        Some(if value > 0.0 { "∞" } else { "-∞" }.to_string())
    } else {
        None
    }
}

/// `new Intl.NumberFormat("en-US").format(value)`: grouped, at most three
/// fraction digits (`-0` for negatives that round to zero, as ICU does).
pub fn format_grouped(value: f64) -> String {
    if let Some(s) = non_finite(value) {
        return s;
    }
    let mut d = Decimal::of(value);
    d.round_fraction(3);
    d.render(1)
}

/// `new Intl.NumberFormat("en-US", {notation: "compact", compactDisplay:
/// "short", maximumFractionDigits: 3}).format(value)`.
pub fn format_compact(value: f64) -> String {
    if let Some(s) = non_finite(value) {
        return s;
    }
    let mut d = Decimal::of(value);
    if d.is_zero() {
        return d.render(2);
    }
    // ICU's CompactHandler: scale by the power of the magnitude's pattern,
    // round, and if rounding carried into a magnitude with another pattern
    // (999.9995 → 1000), scale again (→ 1K).
    let magnitude = d.magnitude();
    let multiplier = compact_multiplier(magnitude);
    d.shift(multiplier);
    d.round_fraction(3);
    let mut used = multiplier;
    if !d.is_zero() && d.magnitude() != magnitude + multiplier {
        let next = compact_multiplier(magnitude + 1);
        if next != multiplier {
            d = Decimal::of(value);
            d.shift(next);
            d.round_fraction(3);
            used = next;
        }
    }
    let suffix = match -used {
        3 => "K",
        6 => "M",
        9 => "B",
        12 => "T",
        _ => "",
    };
    format!("{}{suffix}", d.render(2))
}

/// The power of ten a compact en pattern divides by, negated (ICU's
/// multiplier): thousands K, millions M, billions B, trillions T and above.
fn compact_multiplier(magnitude: i32) -> i32 {
    match magnitude {
        i32::MIN..=2 => 0,
        3..=5 => -3,
        6..=8 => -6,
        9..=11 => -9,
        _ => -12,
    }
}

/// JavaScript's `Math.round`: halves toward positive infinity.
pub fn js_math_round(value: f64) -> f64 {
    if !value.is_finite() || value == 0.0 {
        return value;
    }
    let floor = value.floor();
    let rounded = if value - floor >= 0.5 {
        floor + 1.0
    } else {
        floor
    };
    // Math.round(-0.4) is -0.
    if rounded == 0.0 && value < 0.0 {
        -0.0
    } else {
        rounded
    }
}

/// Length of a string in UTF-16 code units (JavaScript's `.length`), for
/// padding table cells as `padStart` / `padEnd` do.
pub fn js_length(s: &str) -> usize {
    s.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn js_number_formatting_matches_javascript() {
        for (v, expected) in [
            (1.0, "1"),
            (0.5, "0.5"),
            (123456789.125, "123456789.125"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (1e20, "100000000000000000000"),
            (1e-7, "1e-7"),
            (1.25e-7, "1.25e-7"),
            (0.000001, "0.000001"),
            (-0.1, "-0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(js_number_to_string(v), expected, "{v}");
        }
    }

    /// Rows printed by Node 20 (`Intl.NumberFormat("en-US", …)`).
    #[test]
    fn intl_formats_match_node() {
        let rows: &[(f64, &str, &str)] = &[
            (0.0, "0", "0"),
            (0.0005, "0.001", "0.001"),
            (0.0015, "0.002", "0.002"),
            (1.0005, "1.001", "1.001"),
            (999.9995, "1K", "1,000"),
            (999.9994, "999.999", "999.999"),
            (999999.9999, "1M", "1,000,000"),
            (1e15, "1000T", "1,000,000,000,000,000"),
            (1e16, "10,000T", "10,000,000,000,000,000"),
            (1.5e18, "1,500,000T", "1,500,000,000,000,000,000"),
            (1e21, "1,000,000,000T", "1,000,000,000,000,000,000,000"),
            (-1500.0, "-1.5K", "-1,500"),
            (-0.0001, "-0", "-0"),
            (12345.6785, "12.346K", "12,345.679"),
            (0.1 + 0.2, "0.3", "0.3"),
            (1e-7, "0", "0"),
            (123456789012.0, "123.457B", "123,456,789,012"),
            (f64::NAN, "NaN", "NaN"),
            (f64::INFINITY, "∞", "∞"),
            (999.5, "999.5", "999.5"),
            (99999.9996, "100K", "100,000"),
            (0.0025, "0.003", "0.003"),
            (1.0025, "1.003", "1.003"),
            (56789.0, "56.789K", "56,789"),
            (1234.5678, "1.235K", "1,234.568"),
            (2.5e9, "2.5B", "2,500,000,000"),
            (12345678.0, "12.346M", "12,345,678"),
            (0.0123, "0.012", "0.012"),
        ];
        for (value, compact, grouped) in rows {
            assert_eq!(format_compact(*value), *compact, "compact {value}");
            assert_eq!(format_grouped(*value), *grouped, "grouped {value}");
        }
    }

    #[test]
    fn math_round_matches_javascript() {
        assert_eq!(js_math_round(2.5), 3.0);
        assert_eq!(js_math_round(-2.5), -2.0);
        assert_eq!(js_math_round(0.49999999999999994), 0.0);
        assert_eq!(js_math_round(123.4), 123.0);
        assert!(js_math_round(-0.4).is_sign_negative());
    }

    #[test]
    fn pretty_json_matches_json_stringify() {
        let v: Value = serde_json::from_str(
            r#"{"b":1e21,"2":1e-7,"a":[0.000001,50.0,{},[]],"1":{"x":"q\"\n\u0001"},"n":null,"t":true,"big":12345678901234567890}"#,
        )
        .unwrap();
        assert_eq!(
            stringify_pretty(&v),
            "{\n  \"1\": {\n    \"x\": \"q\\\"\\n\\u0001\"\n  },\n  \"2\": 1e-7,\n  \"b\": 1e+21,\n  \"a\": [\n    0.000001,\n    50,\n    {},\n    []\n  ],\n  \"n\": null,\n  \"t\": true,\n  \"big\": 12345678901234567000\n}"
        );
        assert_eq!(stringify_pretty(&json!([])), "[]");
        assert_eq!(stringify_pretty(&json!(-0.0)), "0");
    }

    #[test]
    fn keys_in_javascript_order() {
        let value = json!({"b": 1, "2": 2, "a": 3, "1": 4, "01": 5});
        let keys: Vec<&str> = js_entries(value.as_object().unwrap())
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["1", "2", "b", "a", "01"]);
    }
}
