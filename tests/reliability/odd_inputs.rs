//! Odd inputs: the official CLI's behaviour where it is sane, a clear error
//! where it is not (see docs/reliability.md for the comparison runs).

use super::scene::*;

const CREATE: &[&str] = &["deployment", "token", "create", "ci"];

fn trail_has_create(s: &Scene) -> bool {
    s.server.hits(
        "POST",
        &format!("/v1/deployments/{DEPLOYMENT}/create_deploy_key"),
    ) == 1
}

#[test]
fn crlf_env_local_is_read_and_stays_crlf() {
    let s = Scene::new();
    s.write(
        ".env.local",
        "# Deployment used by `npx convex dev`\r\nCONVEX_DEPLOYMENT=dev:happy-otter-123 # team: acme, project: rocket\r\n",
    );
    let run = s.run(&["deployment", "token", "create", "ci", "--save-env"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        s.read(".env.local"),
        format!(
            "# Deployment used by `npx convex dev`\r\nCONVEX_DEPLOYMENT=dev:happy-otter-123 # team: acme, project: rocket\r\n\r\nCONVEX_DEPLOY_KEY={NEW_DEPLOY_KEY}\r\n"
        )
    );
}

/// The official CLI reads such a file with U+FFFD replacements (so the
/// deployment is found) and then writes the replacements back, corrupting
/// the bytes it did not understand. We read it the same way and keep the
/// bytes.
#[test]
fn env_local_that_is_not_utf8_is_read_and_its_bytes_kept() {
    let s = Scene::new();
    let original: &[u8] =
        b"# caf\xe9 (Latin-1)\nCONVEX_DEPLOYMENT=dev:happy-otter-123\nOTHER=\xff\xfe\n";
    s.write_bytes(".env.local", original);
    let run = s.run(&["deployment", "token", "create", "ci", "--save-env"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let mut expected = original.to_vec();
    expected.extend_from_slice(format!("\nCONVEX_DEPLOY_KEY={NEW_DEPLOY_KEY}\n").as_bytes());
    assert_eq!(
        std::fs::read(s.project.path().join(".env.local")).unwrap(),
        expected
    );
}

#[test]
fn env_local_with_a_byte_order_mark() {
    let s = Scene::new();
    s.write(
        ".env.local",
        "\u{feff}CONVEX_DEPLOYMENT=dev:happy-otter-123\n",
    );
    let run = s.run(CREATE);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(trail_has_create(&s));
}

fn assert_not_logged_in(s: &Scene, config: &str, why: &str) {
    std::fs::write(s.config_path(), config).unwrap();
    let run = s.run(CREATE);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains(why), "{run:#?}");
    assert!(run.stderr.contains("npx convex login"), "{run:#?}");
    assert!(s.server.seen().is_empty(), "no request without a token");
    assert_eq!(std::fs::read_to_string(s.config_path()).unwrap(), config);
    // `login` repairs it.
    let run = s.run(&[
        "login",
        "--device-name",
        "d",
        "--override-access-token",
        IDENTITY_TOKEN,
        "--accept-opt-ins",
    ]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.config_path()).unwrap()).unwrap();
    assert_eq!(v["accessToken"], NEW_ACCESS_TOKEN);
}

#[test]
fn config_json_that_is_not_json() {
    assert_not_logged_in(&Scene::new(), "not json {", "not valid JSON");
}

#[test]
fn config_json_without_a_token() {
    assert_not_logged_in(&Scene::new(), "{\"other\": 1}", "no `accessToken`");
}

#[test]
fn config_json_that_is_empty() {
    assert_not_logged_in(&Scene::new(), "", "not valid JSON");
}

#[test]
fn no_package_json_is_fine_for_token_commands() {
    let s = Scene::new();
    assert!(!s.project.path().join("package.json").exists());
    let run = s.run(CREATE);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let run = s.run(&["deployment", "token", "delete", "ci"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
}

#[test]
fn paths_with_spaces_and_non_ascii_characters() {
    let s = Scene::new();
    let dir = s.project.path().join("mon projet/ünïcödé ✓");
    std::fs::create_dir_all(dir.join("env files")).unwrap();
    std::fs::write(dir.join(".env.local"), DEV_ENV_LOCAL).unwrap();
    let run = s
        .cmd(&[
            "deployment",
            "token",
            "create",
            "ci",
            "--save-env",
            "env files/.env ñ",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:#?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("env files/.env ñ")).unwrap(),
        format!("CONVEX_DEPLOY_KEY={NEW_DEPLOY_KEY}\n")
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("env files/.env ñ"), "{stderr}");
}

/// A key that cannot be saved is not created: the file's folder is checked
/// before the request.
#[test]
fn save_env_into_a_missing_folder_creates_no_key() {
    let s = Scene::new();
    let run = s.run(&[
        "deployment",
        "token",
        "create",
        "ci",
        "--save-env",
        "no/such/dir/.env",
    ]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains("no/such/dir"), "{run:#?}");
    assert!(run.stderr.contains("No key was created"), "{run:#?}");
    assert!(!trail_has_create(&s));
}

/// Whitespace or quotes around a deploy key (CI secret stores, docker env
/// files) are dropped with a warning; the key then acts as itself. The
/// official CLI keeps them and misreads the key's kind.
#[test]
fn deploy_key_with_surrounding_whitespace_or_quotes() {
    let key = "dev:happy-otter-123|eyJ2MiI6ImFiYyJ9";
    let plain = {
        let mut s = Scene::new();
        s.set("CONVEX_DEPLOY_KEY", key);
        let run = s.run(CREATE);
        (run.code, s.server.trail(), run.stdout)
    };
    // `token create` refuses a deployment's own key.
    assert_eq!(plain.0, Some(1));
    for padded in [
        format!(" {key} "),
        format!("{key}\n"),
        format!("\"{key}\""),
        format!("'{key}'"),
    ] {
        let mut s = Scene::new();
        s.set("CONVEX_DEPLOY_KEY", &padded);
        let run = s.run(CREATE);
        assert_eq!(
            (run.code, s.server.trail(), run.stdout.clone()),
            plain,
            "{padded:?}: {run:#?}"
        );
        assert!(run.stderr.contains("whitespace or quotes"), "{run:#?}");
        assert!(!run.stderr.contains("eyJ2MiI6ImFiYyJ9"), "{run:#?}");
    }
    // The same from .env.local, quoted with spaces inside.
    let s = Scene::new();
    s.write(".env.local", &format!("CONVEX_DEPLOY_KEY=\" {key} \"\n"));
    let run = s.run(CREATE);
    assert_eq!(
        (run.code, s.server.trail(), run.stdout.clone()),
        plain,
        "{run:#?}"
    );
}
