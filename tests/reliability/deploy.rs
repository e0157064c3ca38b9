//! Fault injection, signals and files for `convex deploy` (a prod deploy key,
//! the `basic` fixture project bundled with the real esbuild).

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

use super::fault_server::Fault;
use super::faults::{Injected, assert_no_secrets, faults};
use super::scene::*;
use super::support;

pub const PROD_KEY: &str = "prod:brave-lynx-456|eyJ2MiI6IlNFQ1JFVC1wcm9kLWtleSJ9";

fn start_push_response() -> Value {
    json!({
        "environmentVariables": {},
        "externalDepsId": null,
        "componentDefinitionPackages": {},
        "appAuth": [],
        "analysis": {"": {
            "definition": {"path": "", "definitionType": {"type": "app"}, "childComponents": [],
                           "httpMounts": {}, "exports": {"type": "branch", "branch": []}},
            "schema": {"tables": [], "schemaValidation": true},
            "functions": {},
            "udfConfig": {"serverVersion": "0.0.0-test"}
        }},
        "app": {"definitionPath": "", "componentPath": "", "args": {}, "childComponents": {},
                "httpRoutes": {"httpModuleRoutes": null, "mounts": []}, "exports": {}},
        "schemaChange": {"allocatedComponentIds": {}, "schemaIds": {}, "indexDiffs": {}}
    })
}

/// `start_push`'s normal answer.
pub fn start_push_ok() -> Fault {
    Fault::Json(start_push_response())
}

/// A project ready to deploy to the fault server with a prod deploy key.
pub fn deploy_scene() -> Scene {
    let mut s = Scene::new();
    std::fs::remove_file(s.project.path().join(".env.local")).unwrap();
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects/basic");
    support::copy_dir(&fixture, s.project.path());
    support::link_node_modules(s.project.path());
    s.set("CONVEX_DEPLOY_KEY", PROD_KEY);
    s.set("CONVEX_VERSION_API_ORIGIN", &s.server.url.clone());
    let srv = &s.server;
    srv.route(
        "POST",
        "/api/deployment/url_for_key",
        vec![Fault::Json(json!(srv.url))],
    );
    srv.route(
        "POST",
        "/api/deployment/team_and_project_for_key",
        vec![Fault::Json(
            json!({"team": "acme", "project": "rocket", "teamId": 17,
            "projectId": 4242, "reference": "production", "isDefault": true}),
        )],
    );
    srv.route(
        "GET",
        "/v1/version",
        vec![Fault::Json(json!({"message": null}))],
    );
    srv.route(
        "POST",
        "/api/get_config_hashes",
        vec![Fault::Json(
            json!({"config": {"functions": "convex/", "authInfo": []},
            "moduleHashes": [], "nodeDependencies": [], "udfServerVersion": null}),
        )],
    );
    srv.route(
        "POST",
        "/api/deploy2/evaluate_schema",
        vec![Fault::Json(
            json!({"componentSchemaEvaluations": {"": {"tables": [], "indexes": []}}}),
        )],
    );
    srv.route(
        "POST",
        "/api/deploy2/evaluate_push",
        vec![Fault::Json(json!({"schemaChange": {"indexDiffs": {}}}))],
    );
    srv.route(
        "POST",
        "/api/deploy2/start_push",
        vec![Fault::Json(start_push_response())],
    );
    srv.route(
        "POST",
        "/api/deploy2/wait_for_schema",
        vec![Fault::Json(json!({"type": "complete"}))],
    );
    srv.route(
        "POST",
        "/api/deploy2/finish_push",
        vec![Fault::Json(
            json!({"authDiff": {"added": [], "removed": []}, "definitionDiffs": {},
            "componentDiffs": {"": {"diffType": {"type": "modify"}}}}),
        )],
    );
    srv.route(
        "GET",
        "/api/v1/get_canonical_urls",
        vec![Fault::Json(
            json!({"convexCloudUrl": "https://happy-otter-123.convex.cloud",
            "convexSiteUrl": "https://happy-otter-123.convex.site"}),
        )],
    );
    srv.route(
        "POST",
        "/api/deploy2/report_push_completed",
        vec![Fault::Json(json!({}))],
    );
    s
}

const DEPLOY: &[&str] = &["deploy", "--typecheck", "disable"];

/// Project files after a successful deploy (with `_generated/`).
fn files_after_success() -> BTreeMap<PathBuf, Vec<u8>> {
    let s = deploy_scene();
    let run = s.run(DEPLOY);
    assert_eq!(run.code, Some(0), "baseline deploy failed: {run:#?}");
    assert!(run.stderr.contains("Deployed Convex functions"), "{run:#?}");
    project_files(&s)
}

/// Project files after a deploy that stopped right after the initial codegen
/// (the first of codegen's two phases, spec deploy-and-push.md §5.2): the
/// `_generated/` files then hold the pre-push version, complete.
fn files_after_initial_codegen() -> BTreeMap<PathBuf, Vec<u8>> {
    let s = deploy_scene();
    s.server.route(
        "POST",
        "/api/get_config_hashes",
        vec![Fault::StatusJson(400, convex_error("Stop", "stop here"))],
    );
    let run = s.run(DEPLOY);
    assert_eq!(run.code, Some(1), "{run:#?}");
    project_files(&s)
}

/// The complete states a project file may be in.
struct States {
    after: BTreeMap<PathBuf, Vec<u8>>,
    initial: BTreeMap<PathBuf, Vec<u8>>,
}

impl States {
    /// Computed once per test run (two deploys).
    fn new() -> &'static States {
        static STATES: std::sync::OnceLock<States> = std::sync::OnceLock::new();
        STATES.get_or_init(|| States {
            after: files_after_success(),
            initial: files_after_initial_codegen(),
        })
    }

    /// Every file is as before, as after the initial codegen or as after a
    /// successful deploy (none half written); none was deleted; no
    /// temporary file is left.
    fn check(&self, before: &BTreeMap<PathBuf, Vec<u8>>, s: &Scene, context: &str) {
        let now = project_files(s);
        for (path, bytes) in &now {
            assert!(
                before.get(path) == Some(bytes)
                    || self.initial.get(path) == Some(bytes)
                    || self.after.get(path) == Some(bytes),
                "{} is half written (neither old nor new); {context}",
                path.display()
            );
            assert!(
                !path.to_string_lossy().contains(".convex-tmp-"),
                "{context}"
            );
        }
        for path in before.keys() {
            assert!(
                now.contains_key(path),
                "{} deleted; {context}",
                path.display()
            );
        }
    }
}

fn project_files(s: &Scene) -> BTreeMap<PathBuf, Vec<u8>> {
    // Not the CLI's own state and cache folders (the build and typecheck
    // caches there check their entries themselves: a torn one is ignored).
    s.files()
        .into_iter()
        .filter(|(p, _)| !p.starts_with(format!(".convex-test-{}", s.server.port)))
        .filter(|(p, _)| !p.starts_with(format!(".cache/convex-test-{}", s.server.port)))
        .collect()
}

struct DeployStep {
    path: &'static str,
    names: &'static str,
    /// The management API (retries network errors only) or the deployment
    /// API (also 404 for any method).
    management: bool,
    /// Advisory: never fails the deploy.
    advisory: bool,
}

const STEPS: &[DeployStep] = &[
    DeployStep {
        path: "/api/deployment/url_for_key",
        names: "Could not look up the deploy key's deployment.",
        management: true,
        advisory: false,
    },
    DeployStep {
        path: "/api/deployment/team_and_project_for_key",
        names: "Could not look up the deploy key's team and project.",
        management: true,
        advisory: false,
    },
    DeployStep {
        path: "/api/get_config_hashes",
        names: "Unable to pull deployment config",
        management: false,
        advisory: false,
    },
    DeployStep {
        path: "/api/deploy2/evaluate_schema",
        names: "",
        management: false,
        advisory: true,
    },
    DeployStep {
        path: "/api/deploy2/start_push",
        names: "Unable to start push",
        management: false,
        advisory: false,
    },
    DeployStep {
        path: "/api/deploy2/wait_for_schema",
        names: "Unable to wait for schema",
        management: false,
        advisory: false,
    },
    DeployStep {
        path: "/api/deploy2/finish_push",
        names: "Unable to finish push",
        management: false,
        advisory: false,
    },
];

/// Attempts the official CLI makes (spec deploy-and-push.md §3.1).
fn attempts(step: &DeployStep, f: &Injected) -> usize {
    let status = match &f.fault {
        Fault::StatusJson(s, _) | Fault::StatusRaw(s, _) => Some(*s),
        _ => None,
    };
    if step.advisory {
        // Network errors and >= 500: up to 5 retries.
        return if f.network || status.is_some_and(|s| s >= 500) {
            6
        } else {
            1
        };
    }
    if f.network || (!step.management && status == Some(404)) {
        7
    } else {
        1
    }
}

fn deploy_step(index: usize) {
    let step = &STEPS[index];
    let states = States::new();
    // Every fault on the push calls; a representative four elsewhere.
    let all = faults();
    let chosen: Vec<&Injected> = if matches!(
        step.path,
        "/api/deploy2/start_push" | "/api/deploy2/finish_push"
    ) {
        all.iter().collect()
    } else {
        all.iter()
            .filter(|f| {
                matches!(
                    f.name,
                    "connection reset"
                        | "500 with a Convex error body"
                        | "404 without a JSON body"
                        | "200 whose body is not JSON"
                )
            })
            .collect()
    };
    for f in chosen {
        let s = deploy_scene();
        s.server.route("POST", step.path, vec![f.fault.clone()]);
        let before = project_files(&s);
        let run = s.run(DEPLOY);
        let context = format!("{} at {}: {run:#?}", f.name, step.path);
        assert!(!run.stderr.contains("panicked"), "{context}");
        assert_eq!(run.stdout, "", "{context}");
        assert_eq!(
            s.server.hits("POST", step.path),
            attempts(step, f),
            "attempts; {context}"
        );
        if step.advisory {
            assert_eq!(run.code, Some(0), "{context}");
        } else {
            assert_eq!(run.code, Some(1), "{context}");
            assert!(run.stderr.contains(step.names), "step not named; {context}");
            assert!(
                !run.stderr.contains("Deployed Convex functions"),
                "{context}"
            );
            // The push pipeline reports a cut-off body as a network error
            // (retried by `dev`); its wording is its own.
            if !matches!(f.fault, Fault::Truncated { .. }) {
                for text in f.shows {
                    assert!(run.stderr.contains(text), "missing {text:?}; {context}");
                }
            }
            // Nothing after the failed step.
            let later = STEPS.iter().skip(index + 1).filter(|l| !l.advisory);
            for l in later {
                assert_eq!(
                    s.server.hits("POST", l.path),
                    0,
                    "{} reached; {context}",
                    l.path
                );
            }
        }
        states.check(&before, &s, &context);
        assert_no_secrets(&run.stderr);
        assert!(!run.stderr.contains("SECRET-prod-key"), "{context}");
    }
}

#[test]
fn deploy_url_for_key() {
    deploy_step(0);
}

#[test]
fn deploy_team_and_project_for_key() {
    deploy_step(1);
}

#[test]
fn deploy_get_config_hashes() {
    deploy_step(2);
}

#[test]
fn deploy_evaluate_schema_is_advisory() {
    deploy_step(3);
}

#[test]
fn deploy_start_push() {
    deploy_step(4);
}

#[test]
fn deploy_wait_for_schema() {
    deploy_step(5);
}

#[test]
fn deploy_finish_push() {
    deploy_step(6);
}

/// Ctrl-C and SIGTERM before and after start_push: the CLI stops within
/// seconds, Ctrl-C exits 130, no child process (esbuild) is left, and no file
/// is half written.
#[cfg(unix)]
#[test]
fn deploy_interrupted_before_and_after_start_push() {
    use std::process::Stdio;
    let states = States::new();
    for (hold, signal) in [
        ("/api/get_config_hashes", "-INT"),
        ("/api/get_config_hashes", "-TERM"),
        ("/api/deploy2/wait_for_schema", "-INT"),
        ("/api/deploy2/wait_for_schema", "-TERM"),
    ] {
        let s = deploy_scene();
        s.server.route(
            "POST",
            hold,
            vec![Fault::Slow(
                std::time::Duration::from_secs(30),
                Box::new(Fault::Json(json!({"type": "complete"}))),
            )],
        );
        let before = project_files(&s);
        let mut cmd = s.cmd(DEPLOY);
        cmd.env("CONVEX_TEST_HTTP_TIMEOUT_MS", "60000")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd.spawn().unwrap();
        let pid = child.id();
        super::signals::wait_for(&s, "POST", hold);
        let children_before = super::signals::descendants(pid);
        super::signals::send(&child, signal);
        let out = super::signals::wait_end(child);
        let context = format!("{signal} at {hold}: {out:?}");
        if signal == "-INT" {
            assert_eq!(out.status.code(), Some(130), "{context}");
        }
        // No process the CLI started outlives it.
        std::thread::sleep(std::time::Duration::from_millis(200));
        for p in children_before {
            assert!(
                !super::signals::alive(p),
                "child {p} left running; {context}"
            );
        }
        states.check(&before, &s, &context);
        if hold.ends_with("get_config_hashes") {
            assert_eq!(s.server.hits("POST", "/api/deploy2/start_push"), 0);
        } else {
            assert_eq!(s.server.hits("POST", "/api/deploy2/finish_push"), 0);
        }
    }
}

/// `deploy` with `CONVEX_VERBOSE=1` and `-v`, on success and on failures:
/// the deploy key, and the environment variable values the server returns,
/// never reach stderr.
#[test]
fn deploy_prints_no_secret_even_verbose() {
    let mut start = start_push_response();
    start["environmentVariables"] = json!({"API_TOKEN": "env-SECRET-value-0123456789"});
    let cases: Vec<(&str, Option<(&str, Fault)>)> = vec![
        ("success", None),
        (
            "start_push 401",
            Some((
                "/api/deploy2/start_push",
                Fault::StatusJson(401, convex_error("BadAdminKey", "The admin key is invalid")),
            )),
        ),
        (
            "finish_push reset",
            Some(("/api/deploy2/finish_push", Fault::Reset)),
        ),
    ];
    for (name, fault) in cases {
        for verbose in [false, true] {
            let mut s = deploy_scene();
            s.server.route(
                "POST",
                "/api/deploy2/start_push",
                vec![Fault::Json(start.clone())],
            );
            if let Some((path, f)) = &fault {
                s.server.route("POST", path, vec![f.clone()]);
            }
            let mut args = DEPLOY.to_vec();
            if verbose {
                s.set("CONVEX_VERBOSE", "1");
                args.push("-v");
            }
            let run = s.run(&args);
            let context = format!("{name} (verbose {verbose}): {run:#?}");
            assert_eq!(
                run.code,
                Some(if fault.is_none() { 0 } else { 1 }),
                "{context}"
            );
            for secret in [
                PROD_KEY.split_once('|').unwrap().1,
                "env-SECRET-value-0123456789",
            ] {
                assert!(!run.stderr.contains(secret), "{secret} leaked; {context}");
                assert!(!run.stdout.contains(secret), "{secret} leaked; {context}");
            }
            assert_no_secrets(&run.stderr);
        }
    }
}
