//! No deploy key, admin key or access token on stderr, in a `[verbose]` line
//! or in an error chain; on stdout only where printing one is the command's
//! job (`deployment token create` without `--save-env`). Every command runs
//! with and without `CONVEX_VERBOSE=1`, on its success path and on failures.

use serde_json::json;

use super::fault_server::Fault;
use super::scene::*;

/// Secrets of this file: unique random-looking tails so that any leak of 10
/// characters or more is caught.
const DEPLOY_KEY_IN_ENV: &str = "dev:happy-otter-123|eyJ2MiI6Ik7qZ3xWp9LmQ4tRv8Ks2Hd6Yc1Nb5Fa0Ue";
const OLD_KEY_TO_DELETE: &str = "dev:happy-otter-123|eyJ2MiI6IkT5rWq2Zx8Mn4Lp7Vb3Jc6Hg9Df1Sa0Ek";
const SPLIT_SECRET: &str = "eyJ2MiI6IjdkM2Y5YTFiMmM0ZTVmNmE3YjhjOWQwZTFmMmEzYjRjIn0";

fn secrets() -> Vec<&'static str> {
    vec![
        ACCESS_TOKEN,
        ADMIN_KEY,
        NEW_ACCESS_TOKEN,
        IDENTITY_TOKEN,
        NEW_DEPLOY_KEY,
        DEPLOY_KEY_IN_ENV,
        OLD_KEY_TO_DELETE,
        SPLIT_SECRET,
    ]
}

/// The part of a secret worth hiding: after the `|` of a deploy key, minus
/// the base64 of `{"v2":"` that every key starts with.
fn hidden_part(secret: &str) -> &str {
    match secret.split_once('|') {
        Some((_, s)) => &s[s.len().min(10)..],
        None if secret.starts_with("eyJ2MiI6I") => &secret[9..],
        None => secret,
    }
}

/// Every 10-character window of every secret's hidden part.
fn leaks(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for secret in secrets() {
        let hidden: Vec<char> = hidden_part(secret).chars().collect();
        for window in hidden.windows(10) {
            let w: String = window.iter().collect();
            if text.contains(&w) {
                found.push(format!("{secret} (as {w})"));
                break;
            }
        }
    }
    found
}

struct Case {
    name: &'static str,
    args: Vec<&'static str>,
    setup: fn(&mut Scene),
    /// stdout may hold this secret (the command's job).
    stdout_may_hold: Option<&'static str>,
}

fn nothing(_: &mut Scene) {}

fn cases() -> Vec<Case> {
    let create = vec!["deployment", "token", "create", "ci"];
    vec![
        Case {
            name: "token create prints the new key",
            args: create.clone(),
            setup: nothing,
            stdout_may_hold: Some(NEW_DEPLOY_KEY),
        },
        Case {
            name: "token create --save-env",
            args: vec!["deployment", "token", "create", "ci", "--save-env"],
            setup: nothing,
            stdout_may_hold: None,
        },
        Case {
            name: "token create, 401 from create_deploy_key",
            args: create.clone(),
            setup: |s| {
                s.server.route(
                    "POST",
                    &format!("/v1/deployments/{DEPLOYMENT}/create_deploy_key"),
                    vec![Fault::StatusJson(
                        401,
                        convex_error("Unauthenticated", "Token expired"),
                    )],
                )
            },
            stdout_may_hold: None,
        },
        Case {
            name: "token create, connection reset",
            args: create.clone(),
            setup: |s| {
                s.server.route(
                    "POST",
                    "/api/deployment/authorize_within_current_project",
                    vec![Fault::Reset],
                )
            },
            stdout_may_hold: None,
        },
        Case {
            name: "token create refused with a deploy key in the environment",
            args: create.clone(),
            setup: |s| s.set("CONVEX_DEPLOY_KEY", DEPLOY_KEY_IN_ENV),
            stdout_may_hold: None,
        },
        Case {
            name: "token create with a quoted, padded deploy key in .env.local",
            args: create.clone(),
            setup: |s| {
                s.write(
                    ".env.local",
                    &format!("CONVEX_DEPLOY_KEY=\" {DEPLOY_KEY_IN_ENV} \"\n"),
                )
            },
            stdout_may_hold: None,
        },
        Case {
            name: "token create with --url and --admin-key",
            args: vec![
                "deployment",
                "token",
                "create",
                "ci",
                "--url",
                "http://127.0.0.1:9",
                "--admin-key",
                ADMIN_KEY,
            ],
            setup: nothing,
            stdout_may_hold: None,
        },
        Case {
            name: "token delete by value",
            args: vec!["deployment", "token", "delete", OLD_KEY_TO_DELETE],
            setup: nothing,
            stdout_may_hold: None,
        },
        Case {
            name: "token delete by value, 500",
            args: vec!["deployment", "token", "delete", OLD_KEY_TO_DELETE],
            setup: |s| {
                s.server.route(
                    "POST",
                    &format!("/v1/deployments/{DEPLOYMENT}/delete_deploy_key"),
                    vec![Fault::StatusRaw(500, "oops")],
                )
            },
            stdout_may_hold: None,
        },
        Case {
            name: "login with an identity token",
            args: vec![
                "login",
                "--force",
                "--device-name",
                "d",
                "--override-access-token",
                IDENTITY_TOKEN,
                "--accept-opt-ins",
            ],
            setup: nothing,
            stdout_may_hold: None,
        },
        Case {
            name: "login, token exchange fails",
            args: vec![
                "login",
                "--force",
                "--device-name",
                "d",
                "--override-access-token",
                IDENTITY_TOKEN,
            ],
            setup: |s| {
                s.server.route(
                    "POST",
                    "/v1/create_personal_access_token",
                    vec![Fault::StatusJson(
                        400,
                        convex_error("BadToken", "bad token"),
                    )],
                )
            },
            stdout_may_hold: None,
        },
        Case {
            name: "login, token exchange answers garbage",
            args: vec![
                "login",
                "--force",
                "--device-name",
                "d",
                "--override-access-token",
                IDENTITY_TOKEN,
            ],
            setup: |s| {
                s.server.route(
                    "POST",
                    "/v1/create_personal_access_token",
                    vec![Fault::Truncated {
                        status: 200,
                        body: "{\"accessToken\": \"pat-SEC",
                        announced: 99,
                    }],
                )
            },
            stdout_may_hold: None,
        },
        Case {
            name: "login when already logged in",
            args: vec!["login"],
            setup: nothing,
            stdout_may_hold: None,
        },
        Case {
            name: "login status with a deploy key",
            args: vec!["login", "status"],
            setup: |s| {
                s.set("CONVEX_DEPLOY_KEY", DEPLOY_KEY_IN_ENV);
                s.server.route(
                    "GET",
                    "/api/teams",
                    vec![Fault::Json(json!([{"name": "Acme", "slug": "acme"}]))],
                );
            },
            stdout_may_hold: None,
        },
        Case {
            name: "login status, authorize rejects",
            args: vec!["login", "status"],
            setup: |s| {
                s.server
                    .route("HEAD", "/api/authorize", vec![Fault::StatusRaw(401, "")])
            },
            stdout_may_hold: None,
        },
        Case {
            name: "shell split a deploy key",
            args: create.clone(),
            setup: |s| s.set(SPLIT_SECRET, ""),
            stdout_may_hold: None,
        },
        Case {
            name: "logout",
            args: vec!["logout"],
            setup: nothing,
            stdout_may_hold: None,
        },
    ]
}

#[test]
fn no_secret_on_stderr_or_in_verbose_lines() {
    let mut runs = 0;
    for case in cases() {
        for verbose in [false, true] {
            let mut s = Scene::new();
            if verbose {
                s.set("CONVEX_VERBOSE", "1");
            }
            (case.setup)(&mut s);
            let run = s.run(&case.args);
            runs += 1;
            let context = format!("{} (verbose: {verbose}): {run:#?}", case.name);
            assert!(!run.stderr.contains("panicked"), "{context}");
            if verbose {
                assert!(
                    run.stderr.contains("[verbose]")
                        || case.name == "logout"
                        || case.name.starts_with("shell split"),
                    "verbose off? {context}"
                );
            }
            let leaked = leaks(&run.stderr);
            assert!(leaked.is_empty(), "stderr leaks {leaked:?}; {context}");
            let stdout = match case.stdout_may_hold {
                Some(secret) => run.stdout.replace(secret, ""),
                None => run.stdout.clone(),
            };
            let leaked = leaks(&stdout);
            assert!(leaked.is_empty(), "stdout leaks {leaked:?}; {context}");
            // Files written under HOME or in the project may hold secrets
            // (that is their job); the temporary files must be gone.
            for path in s.files().keys() {
                assert!(
                    !path.to_string_lossy().contains(".convex-tmp-"),
                    "{context}"
                );
            }
        }
    }
    assert_eq!(runs, 2 * cases().len());
}

/// The one place a secret is printed on purpose: the new key on stdout.
#[test]
fn token_create_prints_its_key_on_stdout_only() {
    let s = Scene::new();
    let run = s.run(&["deployment", "token", "create", "ci"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.stdout.trim_end(), NEW_DEPLOY_KEY);
    assert!(leaks(&run.stderr).is_empty());
}

/// The detector itself: it must see a leak of part of a key, and only that.
#[test]
fn the_leak_detector_detects() {
    let key_tail = &DEPLOY_KEY_IN_ENV[DEPLOY_KEY_IN_ENV.len() - 12..];
    let found = |text: String, secret: &str| leaks(&text).iter().any(|l| l.starts_with(secret));
    assert!(found(
        format!("error: bad key …{key_tail}"),
        DEPLOY_KEY_IN_ENV
    ));
    assert!(found(format!("Bearer {ACCESS_TOKEN}"), ACCESS_TOKEN));
    assert!(found(format!("Convex {ADMIN_KEY}\n"), ADMIN_KEY));
    // The public half of a key and a 4-character hint are fine.
    assert!(leaks("dev:happy-otter-123 eyJ2MiI6I… eyJ2...Ue").is_empty());
}
