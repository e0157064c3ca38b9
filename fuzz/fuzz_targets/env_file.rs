//! The dotenv reader and the env-file editor, on arbitrary bytes:
//! - reading never panics;
//! - after an edit, reading the new file gives the new value for the target
//!   variable and the same value for every other variable;
//! - an edit of a file that already holds the value is a no-op, and a second
//!   identical edit changes nothing;
//! - bytes that are not UTF-8 are carried through (the file minus the target
//!   lines is unchanged byte for byte when the variable is appended).
#![no_main]

use convex_cli::dotenv;
use convex_cli::env_file::{EnvFileEdit, changed_env_bytes};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

const NAMES: [&str; 4] = ["CONVEX_DEPLOY_KEY", "CONVEX_DEPLOYMENT", "A", "CONVEX_URL"];
const VALUES: [&str; 4] = [
    "dev:happy-otter-123|eyJ2MiI6IngifQ==",
    "dev:happy-otter-123",
    "",
    "https://x.convex.cloud",
];

fn others(text: &str, name: &str) -> HashMap<String, String> {
    let mut map = dotenv::parse_map(text);
    map.remove(name);
    map
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(selector & 3)];
    let value = VALUES[usize::from((selector >> 2) & 3)];
    let edit = EnvFileEdit {
        name,
        value,
        comment_after_value: (selector & 0x10 != 0).then_some("team: t, project: p"),
        comment_on_previous_line: (selector & 0x20 != 0).then_some("# comment line"),
    };
    let lossy = String::from_utf8_lossy(file);
    let before = dotenv::parse(&lossy);
    let result = match changed_env_bytes(Some(file), &edit) {
        Ok(result) => result,
        Err(e) => {
            // Only refused: bytes that are not UTF-8 mixed with our
            // stand-ins, or quoting that no edit reads back right from.
            assert!(
                std::str::from_utf8(file).is_err()
                    || e.to_string().contains("quotes are unbalanced"),
                "refused: {e}"
            );
            return;
        }
    };
    let Some(new) = result else {
        // Unchanged: the file already gives the variable this value.
        assert_eq!(dotenv::lookup(&lossy, name).as_deref(), Some(value));
        return;
    };
    let new_lossy = String::from_utf8_lossy(&new);
    assert_eq!(
        dotenv::lookup(&new_lossy, name).as_deref(),
        Some(value),
        "the edit did not take"
    );
    if std::str::from_utf8(file).is_ok() {
        // npm dotenv quirk (found by this target): a last line `KEY:` with no
        // line ending is not an assignment, but `KEY:\n` is (`KEY=""`), so
        // appending after it gives KEY an empty value. The official CLI does
        // the same; compare with the old text plus a line ending.
        //
        // An existing variable whose in-place edit would not read back is
        // appended too (found by this target: the file ended `KEY:`), so any
        // edit that only added bytes is compared the same way.
        let appended = new.starts_with(file);
        let with_ending = format!("{lossy}\n");
        let baseline = if appended && !lossy.ends_with('\n') {
            &with_ending
        } else {
            &*lossy
        };
        let in_place_same = others(&lossy, name) == others(&new_lossy, name);
        assert!(
            in_place_same || others(baseline, name) == others(&new_lossy, name),
            "another variable changed"
        );
    }
    if !before.iter().any(|(k, _)| k == name) {
        // Appended: the old file is a byte-for-byte prefix.
        assert!(new.starts_with(file), "appending changed existing bytes");
    }
    // Idempotent.
    assert_eq!(changed_env_bytes(Some(&new), &edit).unwrap(), None);
});
