//! The `.env` text `convex env set --from-file` (or stdin) reads, on
//! arbitrary bytes, against an arbitrary set of existing variables:
//! - reading never panics;
//! - the plan accounts for every variable of the text exactly once (skipped,
//!   new, updated, unchanged or conflicting), with the value the dotenv
//!   reader gives it;
//! - all or nothing: with a conflict nothing is sent; with `--force` there
//!   are no conflicts and exactly the new and changed variables are sent.
#![no_main]

use std::collections::HashMap;

use convex_cli::data_plane::env::{CLI_MANAGED_VARS, EnvVar, SetPlan, parse_env_content};
use convex_cli::dotenv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let parsed = parse_env_content(&text);
    let map = dotenv::parse_map(&text);
    assert_eq!(parsed.len(), map.len());
    for (k, v) in &parsed {
        assert_eq!(map.get(k), Some(v), "{k}");
    }
    // Existing variables: some of the text's names, some with its value.
    let existing: Vec<EnvVar> = parsed
        .iter()
        .enumerate()
        .filter(|(i, _)| (selector >> (i % 7)) & 1 == 1)
        .map(|(i, (k, v))| EnvVar {
            name: k.clone(),
            value: if i % 2 == 0 { v.clone() } else { format!("{v}-old") },
        })
        .collect();
    let force = selector & 0x80 != 0;
    let plan = SetPlan::new(&text, &existing, force);
    let existing: HashMap<&str, &str> = existing
        .iter()
        .map(|e| (e.name.as_str(), e.value.as_str()))
        .collect();
    let mut seen = 0;
    for (name, value) in &parsed {
        let managed = CLI_MANAGED_VARS.contains(&name.as_str());
        let count = [
            plan.skipped.iter().any(|n| n == name),
            plan.new.iter().any(|(n, v)| n == name && v == value),
            plan.updated.iter().any(|(n, v)| n == name && v == value),
            plan.unchanged.iter().any(|(n, v)| n == name && v == value),
            plan.conflicts.iter().any(|n| n == name),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        assert_eq!(count, 1, "{name} is in {count} groups");
        if managed {
            assert!(plan.skipped.contains(name));
        } else {
            match existing.get(name.as_str()) {
                None => assert!(plan.new.iter().any(|(n, _)| n == name)),
                Some(old) if *old == value => {
                    assert!(plan.unchanged.iter().any(|(n, _)| n == name))
                }
                Some(_) if force => assert!(plan.updated.iter().any(|(n, _)| n == name)),
                Some(_) => assert!(plan.conflicts.contains(name)),
            }
        }
        seen += 1;
    }
    assert_eq!(seen, plan.total_in_source);
    let changes = plan.changes();
    if !plan.conflicts.is_empty() {
        assert!(!force);
        assert!(changes.is_empty(), "a conflict must send nothing");
    } else {
        assert_eq!(changes.len(), plan.new.len() + plan.updated.len());
        for c in &changes {
            assert_eq!(map.get(&c.name), c.value.as_ref());
        }
    }
});
