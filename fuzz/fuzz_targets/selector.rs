//! The `--deployment` selector grammar never panics, and its answer agrees
//! with the input.
#![no_main]

use convex_cli::credentials::selector::{InProjectSelector, ParsedSelector, parse_selector};
use libfuzzer_sys::fuzz_target;

fn check_in_project(sel: &InProjectSelector, text: &str) {
    match sel {
        InProjectSelector::Dev => assert_eq!(text, "dev"),
        InProjectSelector::Prod => assert_eq!(text, "prod"),
        InProjectSelector::Local => assert_eq!(text, "local"),
        InProjectSelector::Reference(r) => {
            assert_eq!(r, text);
            assert!(!matches!(text, "dev" | "prod" | "local"));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_selector(text) {
        ParsedSelector::DeploymentName(name) => {
            assert_eq!(name, text);
            assert!(convex_cli::credentials::selector::is_deployment_name(text));
        }
        ParsedSelector::InCurrentProject(sel) => check_in_project(&sel, text),
        ParsedSelector::InProject {
            project_slug,
            selector,
        } => {
            let (p, s) = text.split_once(':').unwrap();
            assert_eq!(project_slug, p);
            check_in_project(&selector, s);
        }
        ParsedSelector::InTeamProject {
            team_slug,
            project_slug,
            selector,
        } => {
            let mut it = text.splitn(3, ':');
            assert_eq!(Some(team_slug.as_str()), it.next());
            assert_eq!(Some(project_slug.as_str()), it.next());
            check_in_project(&selector, it.next().unwrap());
        }
    }
    let _ = convex_cli::credentials::configured_deployment_type(text);
});
