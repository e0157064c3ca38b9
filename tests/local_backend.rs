//! End-to-end tests of `convex_cli::local_backend` against the fake backend
//! (`examples/fake_local_backend.rs`), with wiremock playing the version API,
//! the GitHub release download and the management API. No network.
#![cfg(unix)]

mod support;

use std::collections::VecDeque;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use convex_cli::env::Env;
use convex_cli::global_config::ConvexDirs;
use convex_cli::http::{HttpClient, ManagementClient};
use convex_cli::local_backend::*;
use serde_json::{Value, json};
use support::{example, free_ports, pid_alive};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const V_NEW: &str = "precompiled-2026-11-20-fake001";
const V_OLD: &str = "precompiled-2026-10-01-old0001";
const V_EARLY: &str = "precompiled-2026-01-05-early01";

/// The shared client, as a command without proxy settings builds it.
fn http() -> HttpClient {
    HttpClient::new(&Env::default()).unwrap()
}

struct TestEnv {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
    log: PathBuf,
    server: MockServer,
    provision_host: Option<String>,
}

impl TestEnv {
    async fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let project = tmp.path().join("my-app");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&project).unwrap();
        let log = tmp.path().join("backend.jsonl");
        TestEnv {
            _tmp: tmp,
            home,
            project,
            log,
            server: MockServer::start().await,
            provision_host: None,
        }
    }

    fn settings(&self) -> LocalBackendSettings {
        LocalBackendSettings {
            dirs: self.dirs(),
            project_dir: self.project.clone(),
            provision_host: self
                .provision_host
                .clone()
                .unwrap_or_else(|| PRODUCTION_PROVISION_HOST.to_string()),
            startup_timeout_secs: None,
            stdin_is_terminal: false,
            stderr_is_terminal: false,
        }
    }

    fn backends_with(
        &self,
        settings: LocalBackendSettings,
        prompter: Arc<dyn Prompter>,
    ) -> LocalBackends {
        LocalBackends::new(http(), settings, prompter).with_endpoints(OutsideEndpoints {
            version_api: format!("{}/v1/local_backend_version", self.server.uri()),
            releases: format!("{}/releases", self.server.uri()),
        })
    }

    fn backends(&self) -> LocalBackends {
        self.backends_with(self.settings(), Arc::new(NoPrompts))
    }

    fn dirs(&self) -> ConvexDirs {
        let env = match &self.provision_host {
            Some(host) => Env::from_pairs([("CONVEX_PROVISION_HOST", host.as_str())]),
            None => Env::default(),
        };
        ConvexDirs::new(&self.home, &env)
    }

    /// A wrapper script that runs the fake backend, logging to `self.log`.
    fn wrapper(&self, version: &str, env: &[(&str, &str)]) -> String {
        let mut script = format!(
            "#!/bin/sh\nexport FAKE_LOCAL_BACKEND_LOG='{}'\nexport FAKE_LOCAL_BACKEND_INSTALLED_AS='{version}'\n",
            self.log.display()
        );
        for (k, v) in env {
            script.push_str(&format!("export {k}='{v}'\n"));
        }
        script.push_str(&format!(
            "exec '{}' \"$@\"\n",
            example("fake_local_backend").display()
        ));
        script
    }

    /// Puts the fake into the binary cache as `version`.
    fn install(&self, version: &str, env: &[(&str, &str)]) -> PathBuf {
        let path = self.dirs().executable_path(version);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, self.wrapper(version, env)).unwrap();
        // Not executable on purpose: the CLI must `chmod +x` cached binaries.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        path
    }

    async fn serve_latest(&self, version: &str) {
        Mock::given(method("GET"))
            .and(path("/v1/local_backend_version"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "version": version })))
            .mount(&self.server)
            .await;
    }

    async fn outside_requests(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect()
    }

    fn events(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        // A line without its newline is still being written: not an event yet.
        let complete = &text[..text.rfind('\n').map_or(0, |end| end + 1)];
        complete
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The kinds of the backend runs, in order.
    fn runs(&self) -> Vec<String> {
        self.events()
            .iter()
            .filter(|e| e["event"] == "start")
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    }

    fn argv(&self, kind: &str) -> Vec<String> {
        serde_json::from_value(self.last_start(kind)["argv"].clone()).unwrap()
    }

    /// The version the last run of this kind was installed as.
    fn version_of(&self, kind: &str) -> String {
        self.last_start(kind)["installed_as"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn last_start(&self, kind: &str) -> Value {
        self.events()
            .into_iter()
            .rfind(|e| e["event"] == "start" && e["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} run"))
    }

    /// How the run with this pid ended, waiting a little for its last line.
    fn end_of(&self, pid: u32) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let end = self
                .events()
                .into_iter()
                .find(|e| e["event"] == "end" && e["pid"] == pid)
                .map(|e| e["how"].as_str().unwrap().to_string());
            if end.is_some() || Instant::now() > deadline {
                return end;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn local_config_text(&self) -> String {
        std::fs::read_to_string(self.project.join(".convex/local/default/config.json")).unwrap()
    }
}

fn pinned(version: &str, ports: (u16, u16)) -> LocalBackendOptions {
    LocalBackendOptions {
        cloud_port: Some(ports.0),
        site_port: Some(ports.1),
        backend_version: Some(version.to_string()),
        force_upgrade: false,
    }
}

fn agent(local: LocalBackendOptions) -> AnonymousOptions {
    AnonymousOptions {
        local,
        agent_mode: true,
        ..Default::default()
    }
}

struct ScriptedPrompter {
    answers: Mutex<VecDeque<bool>>,
    asked: Mutex<Vec<String>>,
}

impl ScriptedPrompter {
    fn new(answers: &[bool]) -> Arc<Self> {
        Arc::new(ScriptedPrompter {
            answers: Mutex::new(answers.iter().copied().collect()),
            asked: Mutex::new(Vec::new()),
        })
    }
}

impl Prompter for ScriptedPrompter {
    fn confirm(&self, question: &str, _default: bool) -> anyhow::Result<bool> {
        self.asked.lock().unwrap().push(question.to_string());
        Ok(self.answers.lock().unwrap().pop_front().expect("an answer"))
    }
    fn select(&self, question: &str, _choices: &[String]) -> anyhow::Result<usize> {
        self.asked.lock().unwrap().push(question.to_string());
        Ok(0)
    }
}

#[tokio::test]
async fn anonymous_agent_deployment_runs_end_to_end_and_stops() {
    let env = TestEnv::new().await;
    env.serve_latest(V_NEW).await;
    let binary = env.install(V_NEW, &[]);
    let ports = free_ports();

    let deployment = env
        .backends()
        .ensure_anonymous_deployment(&agent(pinned(V_NEW, ports)))
        .await
        .unwrap();

    assert_eq!(deployment.deployment_name, "anonymous-agent");
    assert_eq!(deployment.url, format!("http://127.0.0.1:{}", ports.0));
    assert_eq!(deployment.choice, DeploymentChoice::New);
    assert_eq!(deployment.backend_version, V_NEW);
    assert_eq!(env.runs(), ["keygen", "help", "serve"]);
    // A new deployment's admin key comes from the latest binary: one lookup.
    assert_eq!(
        env.outside_requests().await,
        ["GET /v1/local_backend_version"]
    );
    let lookup = &env.server.received_requests().await.unwrap()[0];
    assert_eq!(
        lookup.headers.get("convex-client").unwrap(),
        &format!("npm-cli-{}", convex_cli::REFERENCE_VERSION)
    );

    let keygen = env.argv("keygen");
    assert_eq!(
        keygen[..4],
        ["keygen", "admin-key", "--instance-name", "anonymous-agent"]
    );
    assert_eq!(keygen[4], "--instance-secret");
    let secret = keygen[5].clone();
    assert_eq!(secret.len(), 64);
    assert!(
        deployment
            .admin_key
            .starts_with("anonymous-agent|fakeadminkey-")
    );

    let state = env.project.join(".convex/local/default");
    let expected: Vec<String> = [
        "--port",
        &ports.0.to_string(),
        "--site-proxy-port",
        &ports.1.to_string(),
        "--sentry-identifier",
        "6be6b0b3a4b5e530d8d0fe6b43315de542d935627e4c98cfbc3f0fd6e3b423ec",
        "--instance-name",
        "anonymous-agent",
        "--instance-secret",
        &secret,
        "--local-storage",
        state.join("convex_local_storage").to_str().unwrap(),
        "--beacon-tag",
        "cli-anonymous-dev",
        state.join("convex_local_backend.sqlite3").to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut help = expected.clone();
    help.push("--help".into());
    assert_eq!(env.argv("help"), help);
    // No CONVEX_PROVISION_HOST: production, so no --control-plane-url.
    assert_eq!(env.argv("serve"), expected);

    assert_eq!(
        env.local_config_text(),
        format!(
            "{{\"ports\":{{\"cloud\":{},\"site\":{}}},\"backendVersion\":\"{V_NEW}\",\"adminKey\":\"{}\",\"instanceSecret\":\"{secret}\",\"deploymentName\":\"anonymous-agent\"}}",
            ports.0, ports.1, deployment.admin_key
        )
    );
    assert_eq!(
        std::fs::read_to_string(env.project.join(".convex/.gitignore")).unwrap(),
        "/*\n"
    );
    assert!(state.join("convex_local_backend.sqlite3").exists());
    // The cached binary was made executable.
    let mode = std::fs::metadata(&binary).unwrap().permissions().mode();
    assert_eq!(mode & 0o111, 0o111);

    // The backend answers, then stops on shutdown.
    let client = http().reqwest().clone();
    assert_backend_running(&client, &deployment.url, "anonymous-agent")
        .await
        .unwrap();
    let pid = deployment.process().unwrap().pid();
    assert!(pid_alive(pid));
    deployment.shutdown().await;
    assert_eq!(env.end_of(pid).as_deref(), Some("SIGTERM"));
    assert!(!pid_alive(pid));
    let err = assert_backend_running(
        &client,
        &format!("http://127.0.0.1:{}", ports.0),
        "anonymous-agent",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("isn't running"), "{err}");
}

#[tokio::test]
async fn saved_deployment_with_pinned_version_runs_offline_and_keeps_its_keys() {
    let env = TestEnv::new().await;
    env.serve_latest(V_NEW).await;
    env.install(V_NEW, &[]);
    let ports = free_ports();
    let first = env
        .backends()
        .ensure_anonymous_deployment(&agent(pinned(V_NEW, ports)))
        .await
        .unwrap();
    let admin_key = first.admin_key.clone();
    drop(first);
    let config_before = env.local_config_text();
    env.server.reset().await; // the version API is gone

    // No pinned ports this time: the saved ones are suggested and free.
    let second = env
        .backends()
        .ensure_anonymous_deployment(&agent(LocalBackendOptions {
            backend_version: Some(V_NEW.into()),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(second.choice, DeploymentChoice::Existing);
    assert_eq!(second.admin_key, admin_key);
    assert_eq!(
        second.ports,
        LocalPorts {
            cloud: ports.0,
            site: ports.1
        }
    );
    assert_eq!(env.outside_requests().await, Vec::<String>::new());
    assert_eq!(env.runs(), ["keygen", "help", "serve", "help", "serve"]);
    assert_eq!(env.local_config_text(), config_before);
}

#[tokio::test]
async fn unpinned_runs_need_the_version_lookup_and_fail_cleanly_offline() {
    let env = TestEnv::new().await;
    Mock::given(method("GET"))
        .and(path("/v1/local_backend_version"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down for maintenance"))
        .mount(&env.server)
        .await;
    env.install(V_NEW, &[]);
    let err = env
        .backends()
        .ensure_anonymous_deployment(&agent(LocalBackendOptions::default()))
        .await
        .unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("latest local backend version"),
        "{message}"
    );
    assert!(message.contains("503"), "{message}");
    assert!(message.contains("down for maintenance"), "{message}");
    assert!(message.contains("--local-backend-version"), "{message}");
    assert!(
        !env.project.join(".convex").exists(),
        "nothing may be written"
    );
    assert_eq!(env.runs(), Vec::<String>::new());

    // A pinned version does not help a new deployment: keygen needs the latest.
    let err = env
        .backends()
        .ensure_anonymous_deployment(&agent(pinned(V_NEW, free_ports())))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("latest local backend version"));
}

#[tokio::test]
async fn invalid_pinned_version_is_refused_before_any_request() {
    let env = TestEnv::new().await;
    env.serve_latest(V_NEW).await;
    let err = env
        .backends()
        .ensure_anonymous_deployment(&agent(pinned("1.2.3", free_ports())))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Invalid local backend version \"1.2.3\""),
        "{err}"
    );
    assert_eq!(env.outside_requests().await, Vec::<String>::new());
}

/// A release zip holding `convex-local-backend` (mode 0644, so the CLI has
/// to make it executable).
fn release_zip(contents: &str) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o644);
        zip.start_file("convex-local-backend", options).unwrap();
        zip.write_all(contents.as_bytes()).unwrap();
        zip.finish().unwrap();
    }
    buf.into_inner()
}

#[tokio::test]
async fn missing_binary_is_downloaded_unzipped_and_cached() {
    let env = TestEnv::new().await;
    env.serve_latest(V_NEW).await;
    let asset = release_asset_name().expect("a supported test platform");
    Mock::given(method("GET"))
        .and(path(format!("/releases/{V_NEW}/{asset}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_bytes(release_zip(&env.wrapper(V_NEW, &[]))),
        )
        .expect(1)
        .mount(&env.server)
        .await;
    // A version folder without the executable is cleaned up first.
    let stale = env.dirs().versioned_binary_dir(V_NEW);
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("partial"), "x").unwrap();

    let deployment = env
        .backends()
        .ensure_anonymous_deployment(&agent(LocalBackendOptions {
            cloud_port: Some(free_ports().0),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(deployment.backend_version, V_NEW);
    let requests = env.outside_requests().await;
    assert_eq!(
        requests,
        [
            "GET /v1/local_backend_version".to_string(),
            format!("GET /releases/{V_NEW}/{asset}"),
        ]
    );
    // The download carries no Convex headers.
    let download = &env.server.received_requests().await.unwrap()[1];
    assert!(download.headers.get("convex-client").is_none());
    let binary = env.dirs().executable_path(V_NEW);
    assert_eq!(
        std::fs::read_to_string(&binary).unwrap(),
        env.wrapper(V_NEW, &[])
    );
    assert_eq!(
        std::fs::metadata(&binary).unwrap().permissions().mode() & 0o111,
        0o111
    );
    assert!(!stale.join("partial").exists());
    // Nothing but the version folder is left in the cache.
    let entries: Vec<String> = std::fs::read_dir(env.dirs().binaries_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(entries, [V_NEW]);
    assert_eq!(env.runs(), ["keygen", "help", "serve"]);

    // The second time the cache is used: no new download (`expect(1)`).
    drop(deployment);
    env.backends()
        .ensure_binary(BinaryVersion::Exact(V_NEW.into()))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_missing_release_is_reported_with_its_url() {
    let env = TestEnv::new().await;
    env.serve_latest(V_NEW).await;
    let err = env
        .backends()
        .ensure_binary(BinaryVersion::Latest)
        .await
        .unwrap_err();
    let message = format!("{err:#}");
    let asset = release_asset_name().unwrap();
    assert!(
        message.contains(&format!("{}/releases/{V_NEW}/{asset}", env.server.uri())),
        "{message}"
    );
    assert!(message.contains("404"), "{message}");
    assert!(!env.dirs().versioned_binary_dir(V_NEW).exists());
}

#[tokio::test]
async fn a_corrupt_download_fails_and_leaves_no_partial_binary() {
    let env = TestEnv::new().await;
    let asset = release_asset_name().unwrap();
    Mock::given(method("GET"))
        .and(path(format!("/releases/{V_NEW}/{asset}")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"not a zip".to_vec()))
        .mount(&env.server)
        .await;
    let err = env
        .backends()
        .ensure_binary(BinaryVersion::Exact(V_NEW.into()))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("not a zip archive"), "{err:#}");
    assert!(!env.dirs().versioned_binary_dir(V_NEW).exists());
    assert_eq!(
        std::fs::read_dir(env.dirs().binaries_dir())
            .unwrap()
            .count(),
        0,
        "the staging folder is removed"
    );
}

#[tokio::test]
async fn the_latest_version_is_looked_up_once_per_run() {
    let env = TestEnv::new().await;
    Mock::given(method("GET"))
        .and(path("/v1/local_backend_version"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "version": V_NEW })))
        .expect(1)
        .mount(&env.server)
        .await;
    env.install(V_NEW, &[]);
    let backends = env.backends();
    for _ in 0..3 {
        let binary = backends.ensure_binary(BinaryVersion::Latest).await.unwrap();
        assert_eq!(binary.version, V_NEW);
    }
}

#[tokio::test]
async fn an_older_saved_version_is_upgraded_in_place_without_a_terminal() {
    let env = TestEnv::new().await;
    env.serve_latest(V_NEW).await;
    env.install(V_NEW, &[]);
    env.install(V_OLD, &[]);
    let ports = free_ports();
    let saved = format!(
        "{{\"ports\":{{\"cloud\":{},\"site\":{}}},\"backendVersion\":\"{V_OLD}\",\"adminKey\":\"anonymous-agent|k\",\"instanceSecret\":\"{}\",\"deploymentName\":\"anonymous-agent\"}}",
        ports.0,
        ports.1,
        "ab".repeat(32)
    );
    std::fs::create_dir_all(env.project.join(".convex/local/default")).unwrap();
    std::fs::write(
        env.project.join(".convex/local/default/config.json"),
        &saved,
    )
    .unwrap();

    let deployment = env
        .backends()
        .ensure_anonymous_deployment(&agent(LocalBackendOptions::default()))
        .await
        .unwrap();
    assert_eq!(deployment.backend_version, V_NEW);
    assert_eq!(deployment.admin_key, "anonymous-agent|k");
    // Saved secret reused: no keygen; the new binary runs on the same data.
    assert_eq!(env.runs(), ["help", "serve"]);
    assert!(env.argv("serve").contains(&"ab".repeat(32)));
    assert_eq!(env.local_config_text(), saved.replace(V_OLD, V_NEW));
}

#[tokio::test]
async fn a_declined_upgrade_runs_the_saved_version_without_newer_flags() {
    let mut env = TestEnv::new().await;
    env.provision_host = Some("http://127.0.0.1:9".into());
    env.serve_latest(V_NEW).await;
    env.install(V_NEW, &[]);
    env.install(V_OLD, &[]);
    let dirs = env.dirs();
    std::fs::create_dir_all(dirs.anonymous_user_file().parent().unwrap()).unwrap();
    std::fs::write(
        dirs.anonymous_user_file(),
        r#"{"uuid":"de80cfe5-1111-4222-8333-444455556666"}"#,
    )
    .unwrap();
    let ports = free_ports();
    let saved = format!(
        "{{\"ports\":{{\"cloud\":{},\"site\":{}}},\"backendVersion\":\"{V_OLD}\",\"adminKey\":\"anonymous-my-app|k\",\"instanceSecret\":\"{}\",\"deploymentName\":\"anonymous-my-app\"}}",
        ports.0,
        ports.1,
        "cd".repeat(32)
    );
    std::fs::create_dir_all(env.project.join(".convex/local/default")).unwrap();
    std::fs::write(
        env.project.join(".convex/local/default/config.json"),
        &saved,
    )
    .unwrap();

    let prompter = ScriptedPrompter::new(&[false]);
    let mut settings = env.settings();
    settings.stdin_is_terminal = true;
    let deployment = env
        .backends_with(settings, prompter.clone())
        .ensure_anonymous_deployment(&AnonymousOptions::default())
        .await
        .unwrap();
    assert_eq!(deployment.backend_version, V_OLD);
    assert_eq!(prompter.asked.lock().unwrap().len(), 1);
    let serve = env.argv("serve");
    assert!(serve.iter().all(|a| a != "--beacon-fields"), "{serve:?}");
    assert_eq!(env.version_of("help"), V_OLD);
    assert_eq!(env.version_of("serve"), V_OLD);
    // V_OLD (2026-10-01) supports the control plane, and the host is not production.
    assert_eq!(
        serve[serve.len() - 2..],
        ["--control-plane-url", "http://127.0.0.1:9"]
    );
    assert_eq!(env.local_config_text(), saved);
    assert_eq!(env.runs(), ["help", "serve"]);
    assert!(dirs.cache.ends_with(".cache/convex-test-9"));
}

#[tokio::test]
async fn control_plane_flags_follow_version_and_uuid_gives_beacon_fields() {
    let mut env = TestEnv::new().await;
    env.provision_host = Some("http://127.0.0.1:18050".into());
    env.serve_latest(V_NEW).await;
    env.install(V_NEW, &[]);
    env.install(V_EARLY, &[]);
    let dirs = env.dirs();
    std::fs::create_dir_all(dirs.anonymous_user_file().parent().unwrap()).unwrap();
    std::fs::write(dirs.anonymous_user_file(), r#"{"uuid":"u-1"}"#).unwrap();

    let deployment = env
        .backends()
        .ensure_anonymous_deployment(&AnonymousOptions {
            local: pinned(V_EARLY, free_ports()),
            ..Default::default()
        })
        .await
        .unwrap();
    // Not agent mode: named after the project folder; first ever deployment.
    assert_eq!(deployment.deployment_name, "anonymous-my-app");
    assert_eq!(deployment.choice, DeploymentChoice::First);
    let serve = env.argv("serve");
    assert_eq!(
        serve[serve.len() - 2..],
        ["--beacon-fields", "{\"override_uuid\":\"u-1\"}"]
    );
    assert_eq!(env.version_of("serve"), V_EARLY);
    drop(deployment);

    // Same deployment on the newer version: the control-plane URL is added.
    let deployment = env
        .backends()
        .ensure_anonymous_deployment(&AnonymousOptions {
            local: LocalBackendOptions {
                backend_version: Some(V_NEW.into()),
                force_upgrade: true,
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(deployment.choice, DeploymentChoice::Existing);
    let serve = env.argv("serve");
    assert_eq!(
        serve[serve.len() - 4..],
        [
            "--beacon-fields",
            "{\"override_uuid\":\"u-1\"}",
            "--control-plane-url",
            "http://127.0.0.1:18050"
        ]
    );
    assert_eq!(env.version_of("serve"), V_NEW);
    // Keys were made once, by the latest binary, though the early one ran first.
    assert_eq!(env.runs(), ["keygen", "help", "serve", "help", "serve"]);
    assert_eq!(env.version_of("keygen"), V_NEW);
}

#[tokio::test]
async fn legacy_home_state_named_by_convex_deployment_is_used_in_place() {
    let env = TestEnv::new().await;
    env.install(V_NEW, &[]);
    let dirs = env.dirs();
    let legacy = dirs
        .root
        .join("anonymous-convex-backend-state")
        .join("anonymous-foo");
    std::fs::create_dir_all(&legacy).unwrap();
    let ports = free_ports();
    std::fs::write(
        legacy.join("config.json"),
        format!(
            "{{\"ports\":{{\"cloud\":{},\"site\":{}}},\"backendVersion\":\"{V_NEW}\",\"adminKey\":\"anonymous-foo|k\",\"instanceSecret\":\"{}\"}}",
            ports.0,
            ports.1,
            "cd".repeat(32)
        ),
    )
    .unwrap();
    let deployment = env
        .backends()
        .ensure_anonymous_deployment(&AnonymousOptions {
            local: LocalBackendOptions {
                backend_version: Some(V_NEW.into()),
                ..Default::default()
            },
            configured_deployment: Some("anonymous-foo".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(deployment.deployment_name, "anonymous-foo");
    assert_eq!(deployment.state_dir, legacy);
    let serve = env.argv("serve");
    assert!(serve.contains(&legacy.join("convex_local_storage").display().to_string()));
    // Rewritten in place, now with its name; nothing in the project.
    assert!(
        std::fs::read_to_string(legacy.join("config.json"))
            .unwrap()
            .ends_with(",\"deploymentName\":\"anonymous-foo\"}")
    );
    assert!(!env.project.join(".convex").exists());
    assert_eq!(env.outside_requests().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_project_local_linked_deployment_is_replaced_by_a_new_anonymous_one() {
    let env = TestEnv::new().await;
    env.serve_latest(V_NEW).await;
    env.install(V_NEW, &[]);
    std::fs::create_dir_all(env.project.join(".convex/local/default")).unwrap();
    std::fs::write(
        env.project.join(".convex/local/default/config.json"),
        format!(
            "{{\"ports\":{{\"cloud\":3210,\"site\":3211}},\"backendVersion\":\"{V_NEW}\",\"adminKey\":\"x\",\"instanceSecret\":\"{}\",\"cloudProjectId\":7,\"deploymentName\":\"local-acme-rocket\"}}",
            "ab".repeat(32)
        ),
    )
    .unwrap();
    let deployment = env
        .backends()
        .ensure_anonymous_deployment(&agent(pinned(V_NEW, free_ports())))
        .await
        .unwrap();
    assert_eq!(deployment.choice, DeploymentChoice::New);
    assert_eq!(env.runs(), ["keygen", "help", "serve"]);
    let text = env.local_config_text();
    assert!(!text.contains("cloudProjectId"), "{text}");
    // Named after the folder even in agent mode, as the official CLI does.
    assert_eq!(deployment.deployment_name, "anonymous-my-app");
    assert!(text.ends_with("\"deploymentName\":\"anonymous-my-app\"}"));
}

#[tokio::test]
async fn startup_failures_are_reported_quickly_and_leave_nothing_running() {
    let env = TestEnv::new().await;
    env.serve_latest(V_NEW).await;

    // The backend exits at once: reported without waiting for the timeout.
    env.install(V_NEW, &[("FAKE_LOCAL_BACKEND_EXIT", "3")]);
    let started = Instant::now();
    let err = env
        .backends()
        .ensure_anonymous_deployment(&agent(pinned(V_NEW, free_ports())))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exited"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // The --help probe fails: its status and stderr are shown.
    env.install(V_NEW, &[("FAKE_LOCAL_BACKEND_HELP_EXIT", "4")]);
    let err = env
        .backends()
        .ensure_anonymous_deployment(&agent(pinned(V_NEW, free_ports())))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("exit status: 4"), "{message}");
    assert!(message.contains("help probe told to fail"), "{message}");

    // Another deployment answers on the port.
    env.install(V_NEW, &[("FAKE_LOCAL_BACKEND_NAME", "anonymous-other")]);
    let err = env
        .backends()
        .ensure_anonymous_deployment(&agent(pinned(V_NEW, free_ports())))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("anonymous-other"), "{err}");

    // Too slow for the configured timeout.
    env.install(V_NEW, &[("FAKE_LOCAL_BACKEND_STARTUP_DELAY_MS", "60000")]);
    let mut settings = env.settings();
    settings.startup_timeout_secs = Some("1".into());
    let err = env
        .backends_with(settings, Arc::new(NoPrompts))
        .ensure_anonymous_deployment(&agent(pinned(V_NEW, free_ports())))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("within 1 seconds"), "{err}");

    // An invalid timeout is refused before the backend starts.
    env.install(V_NEW, &[]);
    let mut settings = env.settings();
    settings.startup_timeout_secs = Some("abc".into());
    let serves_before = env.runs().iter().filter(|k| *k == "serve").count();
    let err = env
        .backends_with(settings, Arc::new(NoPrompts))
        .ensure_anonymous_deployment(&agent(pinned(V_NEW, free_ports())))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("CONVEX_LOCAL_BACKEND_STARTUP_TIMEOUT_SECS=\"abc\""),
        "{err}"
    );
    assert_eq!(
        env.runs().iter().filter(|k| *k == "serve").count(),
        serves_before
    );

    // Every backend that was started has been stopped.
    let pids: Vec<u32> = env
        .events()
        .iter()
        .filter(|e| e["event"] == "start" && e["kind"] == "serve")
        .map(|e| e["pid"].as_u64().unwrap() as u32)
        .collect();
    assert_eq!(pids.len(), 3);
    for pid in pids {
        assert!(!pid_alive(pid), "backend {pid} is still running");
    }
}

#[tokio::test]
async fn dropping_the_handle_stops_the_backend() {
    let env = TestEnv::new().await;
    env.serve_latest(V_NEW).await;
    env.install(V_NEW, &[]);
    let deployment = env
        .backends()
        .ensure_anonymous_deployment(&agent(pinned(V_NEW, free_ports())))
        .await
        .unwrap();
    let pid = deployment.process().unwrap().pid();
    drop(deployment);
    assert!(!pid_alive(pid));
    assert_eq!(env.end_of(pid).as_deref(), Some("SIGTERM"));
}

/// Runs `hold_local_backend` for `env` and returns it with its backend's pid.
fn hold_backend(env: &TestEnv) -> (std::process::Child, u32) {
    let (cloud, site) = free_ports();
    let mut holder = std::process::Command::new(example("hold_local_backend"))
        .args([
            env.home.to_str().unwrap(),
            env.project.to_str().unwrap(),
            V_NEW,
            &format!("{}/v1/local_backend_version", env.server.uri()),
            &cloud.to_string(),
            &site.to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let backend_pid: u32 = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected output {line:?}"))
        .parse()
        .unwrap();
    assert!(pid_alive(backend_pid));
    (holder, backend_pid)
}

/// Waits for a process that is not our child to go away.
fn wait_gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid_alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

#[tokio::test]
async fn a_signal_to_the_cli_stops_its_backend() {
    let env = TestEnv::new().await;
    env.serve_latest(V_NEW).await;
    env.install(V_NEW, &[]);
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let (mut holder, backend_pid) = hold_backend(&env);
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(holder.id() as libc::pid_t, signal);
        }
        assert_eq!(holder.wait().unwrap().code(), Some(code));
        assert_eq!(env.end_of(backend_pid).as_deref(), Some("SIGTERM"));
        assert!(wait_gone(backend_pid));
    }
}

/// Even a CLI killed outright takes its backend down (Linux: the backend is
/// told by the kernel when its parent dies).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_killed_cli_leaves_no_backend_behind() {
    let env = TestEnv::new().await;
    env.serve_latest(V_NEW).await;
    env.install(V_NEW, &[]);
    let (mut holder, backend_pid) = hold_backend(&env);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(env.end_of(backend_pid).as_deref(), Some("SIGTERM"));
    assert!(
        wait_gone(backend_pid),
        "backend {backend_pid} outlived its CLI"
    );
}

#[tokio::test]
async fn linked_local_deployment_registers_imports_env_pings_and_pauses() {
    let mut env = TestEnv::new().await;
    let api = MockServer::start().await;
    env.provision_host = Some(api.uri());
    env.serve_latest(V_NEW).await;
    env.install(V_NEW, &[]);
    let ports = free_ports();
    let bearer = "Bearer convex-pat-alice";
    Mock::given(method("POST"))
        .and(path("/api/local_deployment/start"))
        .and(header("authorization", bearer))
        .and(body_json(json!({
            "port": ports.0, "projectSlug": "my-proj", "teamSlug": "team-one", "instanceName": null
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "deploymentName": "local-team_one-my_proj", "adminKey": "(deprecated)", "projectId": 42
        })))
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/teams/team-one/projects/my-proj"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 42, "slug": "my-proj"})),
        )
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/projects/42/list_default_environment_variables"))
        .and(query_param("deploymentType", "dev"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "items": [{"name": "FOO", "value": "bar"}, {"name": "BAZ", "value": "q"}]
        })))
        .mount(&api)
        .await;
    for route in ["record_activity", "pause"] {
        Mock::given(method("POST"))
            .and(path(format!("/api/local_deployment/{route}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .mount(&api)
            .await;
    }
    let control_plane = Arc::new(control_plane_for(&api.uri()));

    let mut deployment = env
        .backends()
        .ensure_linked_local_deployment(
            &LinkedLocalOptions {
                team_slug: "team-one".into(),
                project_slug: "my-proj".into(),
                local: pinned(V_NEW, ports),
                access_token: Some("convex-pat-alice".into()),
            },
            control_plane,
        )
        .await
        .unwrap();
    assert_eq!(deployment.deployment_name, "local-team_one-my_proj");
    assert_eq!(deployment.choice, DeploymentChoice::First);
    assert_eq!(deployment.project_id, Some(42));
    let serve = env.argv("serve");
    assert_eq!(serve[13], "cli-local-dev");
    assert_eq!(
        serve[15..],
        [
            "--control-plane-url".to_string(),
            api.uri(),
            "--control-plane-access-token".into(),
            "convex-pat-alice".into()
        ]
    );
    let text = env.local_config_text();
    assert!(
        text.ends_with(",\"cloudProjectId\":42,\"deploymentName\":\"local-team_one-my_proj\"}"),
        "{text}"
    );
    // The default env vars went to the backend with its admin key.
    let update = env
        .events()
        .into_iter()
        .find(|e| e["event"] == "request" && e["path"] == "/api/update_environment_variables")
        .expect("env vars imported");
    assert_eq!(
        update["body"],
        json!({"changes": [{"name": "FOO", "value": "bar"}, {"name": "BAZ", "value": "q"}]})
    );
    assert_eq!(
        update["headers"]["authorization"],
        format!("Convex {}", deployment.admin_key)
    );

    deployment.start_activity_pings();
    let deadline = Instant::now() + Duration::from_secs(5);
    let paths = || async {
        api.received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| r.url.path().to_string())
            .collect::<Vec<_>>()
    };
    while !paths().await.iter().any(|p| p.ends_with("record_activity")) {
        assert!(Instant::now() < deadline, "no activity ping");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = deployment.process().unwrap().pid();
    deployment.shutdown().await;
    assert!(!pid_alive(pid));
    assert_eq!(
        paths().await,
        [
            "/api/local_deployment/start",
            "/v1/teams/team-one/projects/my-proj",
            "/v1/projects/42/list_default_environment_variables",
            "/api/local_deployment/record_activity",
            "/api/local_deployment/pause",
        ]
    );
    let ping = &api.received_requests().await.unwrap()[3];
    let body: Value = serde_json::from_slice(&ping.body).unwrap();
    assert_eq!(body["instanceName"], "local-team_one-my_proj");

    // Second run: the saved deployment is found by its name's prefix; no import.
    let mut env2_settings = env.settings();
    env2_settings.stdin_is_terminal = false;
    let control_plane = Arc::new(control_plane_for(&api.uri()));
    api.reset().await;
    Mock::given(method("POST"))
        .and(path("/api/local_deployment/start"))
        .and(body_json(json!({
            "port": ports.0, "projectSlug": "my-proj", "teamSlug": "team-one",
            "instanceName": "local-team_one-my_proj"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "deploymentName": "local-team_one-my_proj", "adminKey": "(deprecated)", "projectId": 42
        })))
        .mount(&api)
        .await;
    let again = env
        .backends_with(env2_settings, Arc::new(NoPrompts))
        .ensure_linked_local_deployment(
            &LinkedLocalOptions {
                team_slug: "team-one".into(),
                project_slug: "my-proj".into(),
                local: LocalBackendOptions {
                    backend_version: Some(V_NEW.into()),
                    ..Default::default()
                },
                access_token: None,
            },
            control_plane,
        )
        .await
        .unwrap();
    assert_eq!(again.choice, DeploymentChoice::Existing);
    assert_eq!(again.admin_key, deployment_admin_key_from(&text));
    assert_eq!(api.received_requests().await.unwrap().len(), 1);
}

fn control_plane_for(host: &str) -> ManagementControlPlane {
    ManagementControlPlane::new(ManagementClient::new(
        http(),
        host,
        Some("Bearer convex-pat-alice".into()),
        None,
        Default::default(),
    ))
}

fn deployment_admin_key_from(config_text: &str) -> String {
    let value: Value = serde_json::from_str(config_text).unwrap();
    value["adminKey"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn default_ports_start_at_3210() {
    // Only this test uses the default search, so it cannot race the others.
    let env = TestEnv::new().await;
    env.serve_latest(V_NEW).await;
    env.install(V_NEW, &[]);
    let deployment = env
        .backends()
        .ensure_anonymous_deployment(&agent(LocalBackendOptions {
            backend_version: Some(V_NEW.into()),
            ..Default::default()
        }))
        .await
        .unwrap();
    // 3210 unless something on this machine holds it; the site port follows.
    assert!(
        (3210..3220).contains(&deployment.ports.cloud),
        "{:?}",
        deployment.ports
    );
    assert!(deployment.ports.site > deployment.ports.cloud);
    assert_eq!(
        deployment.url,
        format!("http://127.0.0.1:{}", deployment.ports.cloud)
    );
}

fn dashboard_zip() -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default();
        for (name, text) in [("index.html", "dashboard home"), ("data.html", "data page")] {
            zip.start_file(name, options).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    buf.into_inner()
}

#[tokio::test]
async fn the_local_dashboard_is_downloaded_once_and_served_to_loopback_only() {
    let mut env = TestEnv::new().await;
    env.provision_host = Some(env.server.uri());
    env.serve_latest(V_NEW).await;
    env.install(V_NEW, &[]);
    Mock::given(method("GET"))
        .and(path(format!("/releases/{V_NEW}/dashboard.zip")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(dashboard_zip()))
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/self_hosted_event"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&env.server)
        .await;
    let dirs = env.dirs();
    std::fs::create_dir_all(dirs.root.join("anonymous-convex-backend-state")).unwrap();
    std::fs::write(
        dirs.root.join("anonymous-convex-backend-state/config.json"),
        r#"{"uuid":"u-9"}"#,
    )
    .unwrap();
    let backends = env.backends();
    let deployment = backends
        .ensure_anonymous_deployment(&AnonymousOptions {
            local: LocalBackendOptions {
                cloud_port: Some(free_ports().0),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    let dashboard = backends.start_dashboard(&deployment, None).await.unwrap();
    // 6790 unless something on this machine holds it.
    assert!((6790..6800).contains(&dashboard.port), "{}", dashboard.port);
    assert_eq!(
        std::fs::read_to_string(deployment.state_dir.join("dashboard.json")).unwrap(),
        format!("{{\"port\":{}}}", dashboard.port)
    );
    assert_eq!(
        saved_dashboard_url(&dirs, &env.project, &deployment.deployment_name),
        Some(dashboard.url())
    );
    assert_eq!(
        std::fs::read_to_string(dirs.cache.join("dashboard/config.json")).unwrap(),
        format!("{{\"version\":\"{V_NEW}\"}}")
    );

    let client = http().reqwest().clone();
    let base = format!("http://127.0.0.1:{}", dashboard.port);
    let page = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.text().await.unwrap(), "dashboard home");
    let data = client.get(format!("{base}/data")).send().await.unwrap();
    assert_eq!(data.text().await.unwrap(), "data page");
    let current: Value = client
        .get(format!(
            "http://localhost:{}/api/current_deployment",
            dashboard.port
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        current,
        json!({"name": deployment.deployment_name, "url": deployment.url, "adminKey": deployment.admin_key})
    );
    let foreign = client
        .get(format!("{base}/api/current_deployment"))
        .header("host", format!("evil.example:{}", dashboard.port))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);

    // One telemetry event, without credentials, for the first page only.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events: Vec<_> = env
        .server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/api/self_hosted_event")
        .collect();
    assert_eq!(events.len(), 1);
    assert!(events[0].headers.get("authorization").is_none());
    let body: Value = serde_json::from_slice(&events[0].body).unwrap();
    assert_eq!(
        body,
        json!({"eventName": "self_host_dashboard_connected", "tag": "cli-anonymous-dev", "selfHostedUuid": "u-9"})
    );

    // Stopped with its handle; the cached build is reused next time.
    let port = dashboard.port;
    drop(dashboard);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        client
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .is_err()
    );
    let again = env
        .backends()
        .start_dashboard(&deployment, Some(V_NEW))
        .await
        .unwrap();
    let page = client.get(again.url()).send().await.unwrap();
    assert_eq!(page.text().await.unwrap(), "dashboard home");
}
