//! Fault injection at every HTTP step of `deployment token create`,
//! `deployment token delete` and `login`: each fault ends with a message that
//! names the step, exit 1, exactly the official CLI's number of attempts
//! (spec credentials-and-tokens.md §7.2), nothing printed on stdout, and no
//! file half written.

use serde_json::json;
use std::time::Duration;

use super::fault_server::Fault;
use super::scene::*;

/// One kind of failure.
pub struct Injected {
    pub name: &'static str,
    pub fault: Fault,
    /// Fails before any answer is read (retried by the management client).
    pub network: bool,
    /// Text the error must show (status, Convex code and message).
    pub shows: &'static [&'static str],
}

/// Every fault of the issue: connection reset, 5xx, 4xx with and without a
/// Convex JSON error body, a body that is not JSON, a server slower than the
/// timeout, a truncated response.
pub fn faults() -> Vec<Injected> {
    vec![
        Injected {
            name: "connection reset",
            fault: Fault::Reset,
            network: true,
            shows: &["Could not reach"],
        },
        Injected {
            name: "connection closed without an answer",
            fault: Fault::Close,
            network: true,
            shows: &["Could not reach"],
        },
        Injected {
            name: "server slower than the timeout",
            fault: Fault::Slow(
                Duration::from_millis(TIMEOUT_MS + 1500),
                Box::new(Fault::Json(json!({}))),
            ),
            network: true,
            shows: &["timed out"],
        },
        Injected {
            name: "500 with a Convex error body",
            fault: Fault::StatusJson(500, convex_error("InternalServerError", "Boom 42")),
            network: false,
            shows: &[
                "500 Internal Server Error",
                "InternalServerError",
                "Boom 42",
            ],
        },
        Injected {
            name: "502 with an HTML body",
            fault: Fault::StatusRaw(502, "<html>Bad gateway</html>"),
            network: false,
            shows: &["502 Bad Gateway"],
        },
        Injected {
            name: "400 with a Convex error body",
            fault: Fault::StatusJson(400, convex_error("BadThing", "Thing 17 is bad")),
            network: false,
            shows: &["400 Bad Request", "BadThing", "Thing 17 is bad"],
        },
        Injected {
            name: "404 without a JSON body",
            fault: Fault::StatusRaw(404, "no such page"),
            network: false,
            shows: &["404 Not Found"],
        },
        Injected {
            name: "200 whose body is not JSON",
            fault: Fault::StatusRaw(200, "<html>captive portal</html>"),
            network: false,
            shows: &["not JSON"],
        },
        Injected {
            name: "truncated response",
            fault: Fault::Truncated {
                status: 200,
                body: "{\"deployKey\": \"dev:happy",
                announced: 400,
            },
            network: false,
            shows: &["cut off"],
        },
    ]
}

/// Attempts the management API makes for a failure: 7 for a network error
/// (6 retries), 1 for any HTTP answer.
fn management_attempts(f: &Injected) -> usize {
    if f.network { 7 } else { 1 }
}

fn assert_no_leftover_temp_files(s: &Scene) {
    for path in s.files().keys() {
        assert!(
            !path.to_string_lossy().contains(".convex-tmp-"),
            "temporary file left behind: {}",
            path.display()
        );
    }
}

/// No secret of the scene appears on stderr (§3 of the issue, checked on
/// every fault run too).
pub fn assert_no_secrets(text: &str) {
    for secret in [
        ACCESS_TOKEN,
        ADMIN_KEY,
        NEW_ACCESS_TOKEN,
        IDENTITY_TOKEN,
        NEW_DEPLOY_KEY.split_once('|').unwrap().1,
    ] {
        assert!(!text.contains(secret), "secret {secret} leaked in:\n{text}");
    }
    assert!(!text.contains("SECRET"), "a secret leaked in:\n{text}");
}

struct Step {
    method: &'static str,
    path: String,
    /// Words of the failure message that name the step.
    names: &'static str,
}

fn token_steps(last: &'static str) -> Vec<Step> {
    let last_names = if last == "create_deploy_key" {
        "Could not create the deploy key."
    } else {
        "Could not delete the deploy key."
    };
    vec![
        Step {
            method: "GET",
            path: format!("/api/deployment/{DEPLOYMENT}/team_and_project"),
            names: "Could not look up the deployment's team and project.",
        },
        Step {
            method: "POST",
            path: "/api/deployment/authorize_within_current_project".into(),
            names: "Could not get the deployment's credentials.",
        },
        Step {
            method: "POST",
            path: format!("/v1/deployments/{DEPLOYMENT}/{last}"),
            names: last_names,
        },
    ]
}

/// Run `args` once per fault with the fault at `step`; check everything.
fn token_step(args: &[&str], last: &'static str, step_index: usize) {
    let steps = token_steps(last);
    let step = &steps[step_index];
    for f in faults() {
        let s = Scene::new();
        s.write(".env.ci", "# CI\nOTHER=1\n");
        s.server
            .route(step.method, &step.path, vec![f.fault.clone()]);
        let before = s.files();
        let run = s.run(args);
        let context = format!("{} at {} {}: {run:#?}", f.name, step.method, step.path);
        if std::env::var_os("SHOW_FAULT_RUNS").is_some() {
            eprintln!("=== {} at {}\n{}", f.name, step.path, run.stderr);
        }
        assert_eq!(run.code, Some(1), "{context}");
        assert_eq!(run.stdout, "", "{context}");
        assert!(run.stderr.contains(step.names), "step not named; {context}");
        for text in f.shows {
            assert!(run.stderr.contains(text), "missing {text:?}; {context}");
        }
        let answered_2xx = matches!(
            f.fault,
            Fault::StatusRaw(200, _) | Fault::Truncated { status: 200, .. }
        );
        if last == "create_deploy_key" && step_index == 2 && answered_2xx {
            // The key may exist on the server: the user is told how to delete it.
            assert!(
                run.stderr.contains("token delete ci"),
                "no clean-up advice; {context}"
            );
        }
        assert!(!run.stderr.contains("panicked"), "{context}");
        assert_eq!(
            s.server.hits(step.method, &step.path),
            management_attempts(&f),
            "{context}"
        );
        // Every retry is the same request again.
        let attempts: Vec<_> = s
            .server
            .seen()
            .into_iter()
            .filter(|r| r.method == step.method && r.path == step.path)
            .collect();
        for a in &attempts {
            assert_eq!(
                a.body, attempts[0].body,
                "a retry changed the body; {context}"
            );
            assert_eq!(a.header("convex-client"), Some("npm-cli-1.48.0"));
            assert_eq!(
                a.header("authorization"),
                Some(format!("Bearer {ACCESS_TOKEN}").as_str())
            );
        }
        for later in &steps[step_index + 1..] {
            assert_eq!(s.server.hits(later.method, &later.path), 0, "{context}");
        }
        assert_eq!(before, s.files(), "files changed; {context}");
        assert_no_leftover_temp_files(&s);
        assert_no_secrets(&run.stderr);
    }
}

const CREATE: &[&str] = &[
    "deployment",
    "token",
    "create",
    "ci",
    "--save-env",
    ".env.ci",
];
const DELETE: &[&str] = &["deployment", "token", "delete", "ci"];

#[test]
fn token_create_team_and_project() {
    token_step(CREATE, "create_deploy_key", 0);
}

#[test]
fn token_create_authorize() {
    token_step(CREATE, "create_deploy_key", 1);
}

#[test]
fn token_create_create_deploy_key() {
    token_step(CREATE, "create_deploy_key", 2);
}

#[test]
fn token_delete_team_and_project() {
    token_step(DELETE, "delete_deploy_key", 0);
}

#[test]
fn token_delete_authorize() {
    token_step(DELETE, "delete_deploy_key", 1);
}

#[test]
fn token_delete_delete_deploy_key() {
    token_step(DELETE, "delete_deploy_key", 2);
}

#[test]
fn token_create_succeeds_with_the_scene_as_is() {
    // The baseline the fault runs are measured against.
    let s = Scene::new();
    let run = s.run(&["deployment", "token", "create", "ci"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.stdout, format!("{NEW_DEPLOY_KEY}\n"));
}

const LOGIN: &[&str] = &[
    "login",
    "--device-name",
    "laptop",
    "--override-access-token",
    IDENTITY_TOKEN,
    "--accept-opt-ins",
];

/// `config.json` is absent, or the old one byte for byte, or a complete
/// file with the new token and mode 0600; never anything in between.
fn assert_config_whole(s: &Scene, old: Option<&[u8]>) {
    match std::fs::read(s.config_path()) {
        Err(_) => assert!(old.is_none(), "config.json deleted"),
        Ok(bytes) if Some(bytes.as_slice()) == old => {}
        Ok(bytes) => {
            let v: serde_json::Value = serde_json::from_slice(&bytes).expect("config.json is JSON");
            assert_eq!(v["accessToken"], NEW_ACCESS_TOKEN);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(s.config_path())
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600);
            }
        }
    }
    assert_no_leftover_temp_files(s);
}

fn login_step(method: &str, path: &str, names: &str, later: &[(&str, &str)]) {
    for f in faults() {
        let s = Scene::new();
        s.logout();
        s.server.route(method, path, vec![f.fault.clone()]);
        let run = s.run(LOGIN);
        let context = format!("{} at {method} {path}: {run:#?}", f.name);
        assert_eq!(run.code, Some(1), "{context}");
        assert_eq!(run.stdout, "", "{context}");
        assert!(run.stderr.contains(names), "step not named; {context}");
        for text in f.shows {
            assert!(run.stderr.contains(text), "missing {text:?}; {context}");
        }
        assert!(!run.stderr.contains("panicked"), "{context}");
        assert_eq!(
            s.server.hits(method, path),
            management_attempts(&f),
            "{context}"
        );
        for (m, p) in later {
            assert_eq!(s.server.hits(m, p), 0, "{context}");
        }
        assert_config_whole(&s, None);
        assert_no_secrets(&run.stderr);
    }
}

#[test]
fn login_create_personal_access_token() {
    login_step(
        "POST",
        "/v1/create_personal_access_token",
        "Could not exchange the login token for an access token.",
        &[("POST", "/api/check_opt_ins")],
    );
    // Nothing was saved.
}

#[test]
fn login_check_opt_ins() {
    login_step(
        "POST",
        "/api/check_opt_ins",
        "Could not check which terms of service need accepting.",
        &[("POST", "/api/accept_opt_ins")],
    );
}

#[test]
fn login_accept_opt_ins() {
    login_step(
        "POST",
        "/api/accept_opt_ins",
        "Could not accept the terms of service.",
        &[],
    );
}

/// `HEAD /api/authorize` is never retried. No answer at all ends the
/// command; any answer other than 200 means "not logged in", so the login
/// goes on (and here succeeds); a 200 means the saved token is still good.
#[test]
fn login_authorize_check() {
    for f in faults() {
        let s = Scene::new();
        let old = std::fs::read(s.config_path()).unwrap();
        s.server
            .route("HEAD", "/api/authorize", vec![f.fault.clone()]);
        let run = s.run(LOGIN);
        let context = format!("{}: {run:#?}", f.name);
        assert_eq!(s.server.hits("HEAD", "/api/authorize"), 1, "{context}");
        assert_eq!(run.stdout, "", "{context}");
        assert!(!run.stderr.contains("panicked"), "{context}");
        let answered_200 = matches!(
            f.fault,
            Fault::StatusRaw(200, _) | Fault::Truncated { status: 200, .. }
        );
        if f.network {
            assert_eq!(run.code, Some(1), "{context}");
            assert!(
                run.stderr.contains("connected to the internet"),
                "{context}"
            );
            assert!(run.stderr.contains("/api/authorize"), "{context}");
            assert_eq!(std::fs::read(s.config_path()).unwrap(), old);
        } else if answered_200 {
            assert_eq!(run.code, Some(0), "{context}");
            assert!(
                run.stderr.contains("previously been authorized"),
                "{context}"
            );
            assert_eq!(s.server.hits("POST", "/v1/create_personal_access_token"), 0);
        } else {
            assert_eq!(run.code, Some(0), "{context}");
            assert_eq!(s.server.hits("POST", "/v1/create_personal_access_token"), 1);
        }
        assert_config_whole(&s, Some(&old));
        assert_no_secrets(&run.stderr);
    }
}

/// Routes of a device-flow login against the fault server as the identity
/// provider (`--override-auth-url`).
fn device_flow_routes(s: &Scene) {
    route_device_authorization(s, 0);
    s.server.route(
        "POST",
        "/oauth/token",
        vec![Fault::Json(json!({"access_token": IDENTITY_TOKEN}))],
    );
}

/// The identity-provider requests of the device flow are never retried
/// (openid-client); any fault ends the login with exit 1 and saves nothing.
#[test]
fn login_device_flow_steps() {
    // The happy path first, so a fault run failing means the fault.
    let s = Scene::new();
    s.logout();
    device_flow_routes(&s);
    let url = s.server.url.clone();
    let args = [
        "login",
        "--device-name",
        "d",
        "--no-open",
        "--override-auth-url",
        &url,
        "--accept-opt-ins",
    ];
    let run = s.run(&args);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(s.config_path().exists());

    for (method, path) in [
        ("GET", "/.well-known/openid-configuration"),
        ("POST", "/oauth/device"),
        ("POST", "/oauth/token"),
    ] {
        for f in faults() {
            let mut s = Scene::new();
            s.logout();
            s.set("OPENID_CLIENT_TIMEOUT", &TIMEOUT_MS.to_string());
            device_flow_routes(&s);
            s.server.route(method, path, vec![f.fault.clone()]);
            let url = s.server.url.clone();
            let args = [
                "login",
                "--device-name",
                "d",
                "--no-open",
                "--override-auth-url",
                &url,
                "--accept-opt-ins",
            ];
            let run = s.run(&args);
            let context = format!("{} at {method} {path}: {run:#?}", f.name);
            assert_eq!(run.code, Some(1), "{context}");
            assert_eq!(run.stdout, "", "{context}");
            assert!(!run.stderr.contains("panicked"), "{context}");
            assert!(run.stderr.contains('✖'), "no failure line; {context}");
            assert_eq!(s.server.hits(method, path), 1, "{context}");
            assert_eq!(s.server.hits("POST", "/v1/create_personal_access_token"), 0);
            assert!(!s.config_path().exists(), "{context}");
            assert_no_leftover_temp_files(&s);
            assert_no_secrets(&run.stderr);
        }
    }
}
