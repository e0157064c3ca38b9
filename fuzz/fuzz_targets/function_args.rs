//! `convex run` arguments (JSON5, then the Convex JSON encoding), on
//! arbitrary text:
//! - parsing never panics;
//! - accepted arguments are an object whose encoding is stable: printing it
//!   (`JSON.stringify`), reading that back as an answer from a deployment and
//!   printing again gives the same text;
//! - every number prints in a form that reads back as the same number.
#![no_main]

use convex_cli::jsfmt::js_number_to_string as js_number;
use convex_cli::values::{ConvexValue, JsValue, parse_function_args, stringify};
use libfuzzer_sys::fuzz_target;

fn check_numbers(v: &JsValue) {
    match v {
        JsValue::Number(n) if n.is_finite() => {
            let text = js_number(*n);
            let back: f64 = text.parse().expect("JavaScript number text parses");
            assert!(
                back == *n || (back == 0.0 && *n == 0.0),
                "{n} printed as {text}"
            );
        }
        JsValue::Array(items) => items.iter().for_each(check_numbers),
        JsValue::Object(entries) => entries.iter().for_each(|(_, v)| check_numbers(v)),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(args) = parse_function_args(text) else {
        return;
    };
    assert!(matches!(args, JsValue::Object(_)));
    check_numbers(&args);
    let printed = stringify(&args, 0);
    let reread: serde_json::Value =
        serde_json::from_str(&printed).expect("printed arguments are JSON");
    let again = ConvexValue::from_serde(&reread)
        .expect("printed arguments are a Convex encoding")
        .to_json()
        .expect("and encode again");
    assert_eq!(stringify(&again, 0), printed);
    // Pretty printing is the same value.
    let pretty: serde_json::Value = serde_json::from_str(&stringify(&args, 2)).unwrap();
    assert_eq!(pretty, reread);
});
