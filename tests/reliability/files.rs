//! Files: `config.json` is 0600 in a 0700 folder, every write is atomic, and
//! concurrent `--save-env` runs into one file leave a valid file.

use serde_json::json;
use std::path::Path;

use super::fault_server::Fault;
use super::scene::*;

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn login_writes_config_0600_in_a_new_0700_folder() {
    let s = Scene::new();
    std::fs::remove_dir_all(s.convex_dir()).unwrap();
    let run = s.run(&[
        "login",
        "--device-name",
        "d",
        "--override-access-token",
        IDENTITY_TOKEN,
        "--accept-opt-ins",
    ]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(mode(&s.convex_dir()), 0o700);
    assert_eq!(mode(&s.config_path()), 0o600);
    let text = std::fs::read_to_string(s.config_path()).unwrap();
    assert_eq!(
        text,
        format!("{{\n  \"accessToken\": \"{NEW_ACCESS_TOKEN}\"\n}}")
    );
}

#[cfg(unix)]
#[test]
fn login_over_a_world_readable_config_makes_it_0600_and_keeps_other_keys() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scene::new();
    std::fs::write(
        s.config_path(),
        "{\"accessToken\": \"old\", \"other\": {\"kept\": true}}",
    )
    .unwrap();
    std::fs::set_permissions(s.config_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = s.run(&[
        "login",
        "--force",
        "--device-name",
        "d",
        "--override-access-token",
        IDENTITY_TOKEN,
        "--accept-opt-ins",
    ]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(mode(&s.config_path()), 0o600);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.config_path()).unwrap()).unwrap();
    assert_eq!(
        v,
        json!({"accessToken": NEW_ACCESS_TOKEN, "other": {"kept": true}})
    );
}

#[cfg(unix)]
#[test]
fn save_env_keeps_the_mode_of_an_existing_env_file() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scene::new();
    s.write(".env.ci", "A=1\n");
    let path = s.project.path().join(".env.ci");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = s.run(&[
        "deployment",
        "token",
        "create",
        "ci",
        "--save-env",
        ".env.ci",
    ]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(
        s.read(".env.ci"),
        format!("A=1\n\nCONVEX_DEPLOY_KEY={NEW_DEPLOY_KEY}\n")
    );
}

/// A write through a symbolic link edits the target and keeps the link.
#[cfg(unix)]
#[test]
fn save_env_through_a_symlink_keeps_the_link() {
    let s = Scene::new();
    s.write("shared/env", "A=1\n");
    std::os::unix::fs::symlink("shared/env", s.project.path().join(".env.ci")).unwrap();
    let run = s.run(&[
        "deployment",
        "token",
        "create",
        "ci",
        "--save-env",
        ".env.ci",
    ]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let link = s.project.path().join(".env.ci");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        s.read("shared/env")
            .ends_with(&format!("CONVEX_DEPLOY_KEY={NEW_DEPLOY_KEY}\n"))
    );
}

/// Two `token create --save-env` into one file at the same time: the file
/// ends with exactly one of the two keys and every other line intact
/// (each run writes a whole new file and renames it into place).
#[test]
fn concurrent_save_env_into_one_file() {
    const KEY_A: &str = "dev:happy-otter-123|eyJ2MiI6ImFhYWEifQ==";
    const KEY_B: &str = "dev:happy-otter-123|eyJ2MiI6ImJiYmIifQ==";
    let original = "# CI settings\r\nexport FIRST=1\nCONVEX_DEPLOY_KEY=dev:old|x # rotate me\nMULTI=\"a\nb\"\nLAST=z";
    for round in 0..8 {
        let s = Scene::new();
        s.write(".env.ci", original);
        s.server.route(
            "POST",
            &format!("/v1/deployments/{DEPLOYMENT}/create_deploy_key"),
            vec![
                Fault::Json(json!({"deployKey": KEY_A})),
                Fault::Json(json!({"deployKey": KEY_B})),
            ],
        );
        let args = [
            "deployment",
            "token",
            "create",
            "ci",
            "--save-env",
            ".env.ci",
        ];
        let spawn = || {
            s.cmd(&args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let a = spawn();
        let b = spawn();
        let a = a.wait_with_output().unwrap();
        let b = b.wait_with_output().unwrap();
        assert!(
            a.status.success() && b.status.success(),
            "round {round}: {a:?} {b:?}"
        );
        let text = s.read(".env.ci");
        let with = |key: &str| original.replace("dev:old|x # rotate me", key);
        assert!(
            text == with(KEY_A) || text == with(KEY_B),
            "round {round}: {text:?}"
        );
        let leftovers: Vec<_> = std::fs::read_dir(s.project.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".convex-tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "round {round}");
    }
}

/// Every write of a user file goes through `fsutil::write_atomic`: no
/// `fs::write`, `File::create` or `OpenOptions` in the sources outside tests,
/// except in the places listed here with their reason.
#[test]
fn every_write_is_atomic() {
    const ALLOWED: &[(&str, &str)] = &[
        ("src/fsutil.rs", "the atomic writer itself"),
        (
            "src/bundler/debug_bundle.rs",
            "writes a temporary file and renames it (atomic)",
        ),
        (
            "src/local_backend/download.rs",
            "downloads into a private staging folder, then renames into place",
        ),
        (
            "src/local_backend/link.rs",
            "moves a deployment's data: a rename, or a copy into a staging folder renamed into place",
        ),
        (
            "src/win.rs",
            "opens a file with no access rights to read its identity; writes nothing",
        ),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut offenders = Vec::new();
    let mut stack = vec![root.join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if ALLOWED.iter().any(|(p, _)| *p == rel) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests may write fixtures as they like.
            let code = text.split("#[cfg(test)]").next().unwrap();
            for (n, line) in code.lines().enumerate() {
                let line = line.trim_start();
                if line.starts_with("//") {
                    continue;
                }
                for pattern in [
                    "fs::write(",
                    "File::create(",
                    "OpenOptions::new(",
                    "fs::copy(",
                ] {
                    if line.contains(pattern) {
                        offenders.push(format!("{rel}:{}: {line}", n + 1));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "non-atomic writes (use convex_cli::fsutil::write_atomic):\n{}",
        offenders.join("\n")
    );
}
