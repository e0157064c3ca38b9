//! The release build as users get it (issue 12):
//!
//! - `cargo build --release` gives a binary that runs alone: copied into an
//!   empty folder that is the whole PATH (no Rust toolchain, no Node.js), it
//!   runs `--version`, `login status` and `deployment token create` against
//!   a loopback mock;
//! - the npm distribution built from that binary by
//!   `scripts/npm-packages.mjs` (the script the release workflow runs), for
//!   this platform, `npm pack`ed and installed with npm into a temporary
//!   Convex project next to the official `convex` package: `npx convex`
//!   runs the native binary (`--version`, a `deploy` against a loopback
//!   mock, with a `node` on PATH that refuses to run on Unix), and the
//!   official package still works as a library and as its own CLI.
//!
//! Both build the release profile once per run (`cargo build --release
//! --locked`; a no-op when it is up to date). npm needs the npm registry
//! only for the official `convex` package and its dependencies, which the
//! shared test install (`tests/support`) has already put into npm's cache.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::json;
use support::scene::{DEV_ENV_LOCAL, header};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PROD_KEY: &str = "prod:brave-lynx-456|eyJ2MiI6InByb2Qta2V5In0=";
const SCOPE: &str = "@convex-native";

/// `target/release/convex[.exe]`, built once for this test process.
fn release_binary() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "--locked", "--bin", "convex"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --release");
        assert!(status.success(), "cargo build --release failed");
        let binary = support::target_dir()
            .join("release")
            .join(format!("convex{}", std::env::consts::EXE_SUFFIX));
        assert!(binary.is_file(), "{} is missing", binary.display());
        binary
    })
}

/// This machine's package key (Node's `${platform}-${arch}`).
fn npm_platform() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "linux-x64",
        ("linux", "aarch64") => "linux-arm64",
        ("macos", "x86_64") => "darwin-x64",
        ("macos", "aarch64") => "darwin-arm64",
        ("windows", "x86_64") => "win32-x64",
        other => panic!("no npm package is built for {other:?}"),
    }
}

/// A program by name as Windows needs it (`npx` is `npx.cmd` there).
fn tool(name: &str) -> Command {
    if cfg!(windows) {
        Command::new(format!("{name}.cmd"))
    } else {
        Command::new(name)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn check(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_release_binary_runs_alone_without_rust_or_node() {
    let release = release_binary();
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("bin");
    let home = root.path().join("home");
    let project = root.path().join("project");
    for dir in [&bin, &home, &project] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let exe = bin.join(release.file_name().unwrap());
    std::fs::copy(release, &exe).unwrap();
    // The folder holds the binary and nothing else, and it is all of PATH.
    assert_eq!(std::fs::read_dir(&bin).unwrap().count(), 1);
    let server = MockServer::start().await;
    let run = |args: &[&str]| {
        let mut command = Command::new(&exe);
        command
            .env_clear()
            .envs(support::home_env(&home))
            .env("NO_COLOR", "1")
            .env("PATH", &bin)
            .env("CONVEX_PROVISION_HOST", server.uri())
            .current_dir(&project)
            .args(args);
        command.output().unwrap()
    };
    for tool in ["cargo", "rustc", "node"] {
        let mut probe = Command::new(tool);
        probe.env_clear().env("PATH", &bin).arg("--version");
        assert!(
            probe.output().is_err(),
            "{tool} is reachable on the test PATH"
        );
    }

    let version = run(&["--version"]);
    check(&version, "--version");
    assert_eq!(text(&version.stdout), "1.48.0\n");

    // Not logged in: said so, exit 0 as the official CLI.
    let status = run(&["login", "status"]);
    check(&status, "login status (logged out)");
    assert!(
        text(&status.stderr).contains("Status: Not logged in"),
        "{}",
        text(&status.stderr)
    );

    // Logged in (a token in the global config the mock host selects).
    let port = server.address().port();
    let convex_dir = home.join(format!(".convex-test-{port}"));
    std::fs::create_dir_all(&convex_dir).unwrap();
    std::fs::write(
        convex_dir.join("config.json"),
        "{\n  \"accessToken\": \"pat-1\"\n}",
    )
    .unwrap();
    Mock::given(method("HEAD"))
        .and(path("/api/authorize"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/teams"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": 1, "name": "Acme", "slug": "acme"}])),
        )
        .mount(&server)
        .await;
    let status = run(&["login", "status"]);
    check(&status, "login status");
    let stderr = text(&status.stderr);
    assert!(stderr.contains("Status: Logged in"), "{stderr}");
    assert!(stderr.contains("  - Acme (acme)"), "{stderr}");

    // A deploy key for the project's dev deployment.
    std::fs::write(project.join(".env.local"), DEV_ENV_LOCAL).unwrap();
    Mock::given(method("GET"))
        .and(path("/api/deployment/happy-otter-123/team_and_project"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"team": "acme", "project": "rocket", "teamId": 1, "projectId": 2}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/deployment/authorize_within_current_project"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "deploymentName": "happy-otter-123", "adminKey": "admin", "url": server.uri(),
            "deploymentType": "dev", "reference": "dev/alice", "isDefault": true
        })))
        .mount(&server)
        .await;
    let key = "dev:happy-otter-123|eyJ2MiI6Im5ldyJ9";
    Mock::given(method("POST"))
        .and(path("/v1/deployments/happy-otter-123/create_deploy_key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"deployKey": key})))
        .mount(&server)
        .await;
    let created = run(&["deployment", "token", "create", "ci"]);
    check(&created, "deployment token create");
    assert_eq!(text(&created.stdout), format!("{key}\n"));
    let requests = server.received_requests().await.unwrap();
    let create = requests
        .iter()
        .find(|r| r.url.path() == "/v1/deployments/happy-otter-123/create_deploy_key")
        .expect("create_deploy_key was requested");
    assert_eq!(header(create, "authorization"), Some("Bearer pat-1"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&create.body).unwrap(),
        json!({"name": "ci"})
    );
}

/// The tarballs `scripts/npm-packages.mjs --pack` wrote: (platform
/// package, main package).
fn pack_npm_packages(binary: &Path, out: &Path) -> (PathBuf, PathBuf) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/npm-packages.mjs");
    let output = Command::new("node")
        .arg(&script)
        .arg("--out")
        .arg(out.join("packages"))
        .arg("--pack")
        .arg(out.join("tarballs"))
        .arg(format!("{}={}", npm_platform(), binary.display()))
        .output()
        .expect("run node");
    check(&output, "scripts/npm-packages.mjs");
    let mut platform = None;
    let mut main = None;
    for line in text(&output.stdout).lines() {
        let columns: Vec<&str> = line.split('\t').collect();
        assert_eq!(columns.len(), 3, "{line}");
        let tarball = PathBuf::from(columns[2]);
        assert!(tarball.is_file(), "{line}");
        if columns[0] == format!("{SCOPE}/cli-{}", npm_platform()) {
            platform = Some(tarball);
        } else if columns[0] == format!("{SCOPE}/cli") {
            main = Some(tarball);
        } else {
            panic!("unexpected package: {line}");
        }
    }
    (
        platform.expect("a platform package"),
        main.expect("the main package"),
    )
}

/// `node_modules/.bin/convex` is the platform package's binary itself.
fn assert_bin_link_is_the_binary(app: &Path) {
    let package_bin = app
        .join("node_modules")
        .join(SCOPE)
        .join(format!("cli-{}", npm_platform()))
        .join("bin");
    if cfg!(windows) {
        // npm writes shims that start the target; ours names the exe.
        let shim = std::fs::read_to_string(app.join("node_modules/.bin/convex.cmd")).unwrap();
        let wanted = format!("{}\\cli-win32-x64\\bin\\convex.exe", SCOPE);
        assert!(shim.contains(&wanted), "{shim}");
    } else {
        let link = std::fs::canonicalize(app.join("node_modules/.bin/convex")).unwrap();
        assert_eq!(
            link,
            std::fs::canonicalize(package_bin.join("convex")).unwrap()
        );
    }
    let installed =
        std::fs::read(package_bin.join(format!("convex{}", std::env::consts::EXE_SUFFIX))).unwrap();
    assert!(
        installed == std::fs::read(release_binary()).unwrap(),
        "the installed binary is not the release binary"
    );
}

/// The first `name` on PATH, links resolved.
#[cfg(unix)]
fn on_path(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::canonicalize(p).ok())
        .unwrap_or_else(|| panic!("{name} is not on PATH"))
}

#[tokio::test(flavor = "multi_thread")]
async fn npm_packages_install_next_to_the_official_convex_and_npx_runs_the_native_binary() {
    let binary = release_binary();
    // Puts the official convex 1.48.0 and its dependencies in npm's cache.
    support::npm_node_modules();
    let work = tempfile::tempdir().unwrap();
    let (platform_tarball, main_tarball) = pack_npm_packages(binary, work.path());

    // A Convex project with the official package as its dependency, then
    // ours added with npm the way the README says. Our platform package
    // comes as the main package's optional dependency, as from the
    // registry: an override points npm at its tarball.
    let app = work.path().join("app");
    support::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects/basic"),
        &app,
    );
    let file_spec = |p: &Path| format!("file:{}", p.to_string_lossy().replace('\\', "/"));
    let mut overrides = serde_json::Map::new();
    overrides.insert(
        format!("{SCOPE}/cli-{}", npm_platform()),
        json!(file_spec(&platform_tarball)),
    );
    let package_json = json!({
        "name": "npm-install-test",
        "private": true,
        "type": "module",
        "dependencies": {"convex": "1.48.0"},
        "overrides": overrides,
    });
    std::fs::write(app.join("package.json"), package_json.to_string()).unwrap();
    let npm = |args: &[&str], what: &str| {
        let output = tool("npm")
            .args(args)
            .args([
                "--prefer-offline",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ])
            .current_dir(&app)
            .output()
            .unwrap();
        check(&output, what);
    };
    npm(&["install"], "npm install (the official convex)");
    npm(
        &["install", "--save-dev", &file_spec(&main_tarball)],
        "npm install --save-dev (our package)",
    );
    assert_bin_link_is_the_binary(&app);
    // A clean install from the lockfile (CI): npm links the commands of
    // all packages in one sorted pass, and ours (scoped) comes first.
    std::fs::remove_dir_all(app.join("node_modules")).unwrap();
    npm(&["ci"], "npm ci");
    assert_bin_link_is_the_binary(&app);

    let npx = |args: &[&str]| tool("npx").args(args).current_dir(&app).output().unwrap();
    let version = npx(&["convex", "--version"]);
    check(&version, "npx convex --version");
    assert_eq!(text(&version.stdout).trim_end(), "1.48.0");
    // The official CLI has no `completion`: only ours prints a script.
    let completion = npx(&["convex", "completion", "bash"]);
    check(&completion, "npx convex completion bash");
    assert!(text(&completion.stdout).contains("complete -F _convex"));

    // A deploy through npx against the mock. On Unix the PATH starts with a
    // `node` that refuses to run, so the official CLI (a Node script) could
    // not have done it; npx itself is started with the real node.
    let server = MockServer::start().await;
    support::deploy_mock::mount_defaults(&server).await;
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    #[cfg(unix)]
    let mut deploy = {
        use std::os::unix::fs::PermissionsExt;
        let refuse = work.path().join("refuse-node");
        std::fs::create_dir_all(&refuse).unwrap();
        let fake = refuse.join("node");
        std::fs::write(&fake, "#!/bin/sh\necho 'node was started' >&2\nexit 99\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let npx_cli = on_path("npx");
        let mut path = vec![refuse];
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let mut command = Command::new(on_path("node"));
        command
            .arg(npx_cli)
            .env("PATH", std::env::join_paths(path).unwrap());
        command
    };
    #[cfg(not(unix))]
    let mut deploy = {
        let mut command = tool("npx");
        command.env("PATH", std::env::var_os("PATH").unwrap_or_default());
        command
    };
    // npm keeps its cache and logs in the temporary home.
    deploy
        .env("CONVEX_DEPLOY_KEY", PROD_KEY)
        .env("CONVEX_PROVISION_HOST", server.uri())
        .env("CONVEX_VERSION_API_ORIGIN", server.uri())
        .env("NO_COLOR", "1")
        .args(["convex", "deploy"])
        .current_dir(&app);
    deploy.envs(support::home_env(&home));
    let deployed = deploy.output().unwrap();
    check(&deployed, "npx convex deploy");
    let stderr = text(&deployed.stderr);
    assert!(
        stderr.contains(&format!("Deployed Convex functions to {}", server.uri())),
        "{stderr}"
    );
    assert!(!stderr.contains("node was started"), "{stderr}");
    let requests = server.received_requests().await.unwrap();
    let routes: Vec<&str> = requests.iter().map(|r| r.url.path()).collect();
    for route in ["/api/deploy2/start_push", "/api/deploy2/finish_push"] {
        assert!(routes.contains(&route), "{routes:?}");
    }
    assert!(app.join("convex/_generated/api.d.ts").is_file());

    // The official package in the same project: a library for CommonJS and
    // ESM, and its own CLI, untouched.
    let node = |args: &[&str]| {
        Command::new("node")
            .args(args)
            .current_dir(&app)
            .output()
            .unwrap()
    };
    let cjs = node(&[
        "-e",
        "const s = require('convex/server'); const v = require('convex/values'); \
         if (typeof s.defineSchema !== 'function' || typeof v.v.string !== 'function') process.exit(2); \
         console.log(require('convex/package.json').version)",
    ]);
    check(&cjs, "require('convex/server')");
    assert_eq!(text(&cjs.stdout).trim_end(), "1.48.0");
    let esm = node(&[
        "--input-type=module",
        "-e",
        "import { ConvexHttpClient } from 'convex/browser'; import { defineTable } from 'convex/server'; \
         console.log(typeof ConvexHttpClient, typeof defineTable)",
    ]);
    check(&esm, "import from 'convex/browser'");
    assert_eq!(text(&esm.stdout).trim_end(), "function function");
    let official = node(&["node_modules/convex/bin/main.js", "--version"]);
    check(&official, "the official CLI");
    assert_eq!(text(&official.stdout).trim_end(), "1.48.0");
}
