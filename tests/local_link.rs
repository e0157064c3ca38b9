//! Linking an anonymous deployment into a project and registering a new
//! local deployment (`login`'s link flow, `deployment create local`), through
//! `convex_cli::local_backend` with the fake backend for `keygen` and
//! wiremock as the version API and the management API. No network.
#![cfg(unix)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;

use convex_cli::env::Env;
use convex_cli::global_config::ConvexDirs;
use convex_cli::http::{HttpClient, ManagementClient};
use convex_cli::local_backend::*;
use serde_json::{Value, json};
use support::example;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const VERSION: &str = "precompiled-2026-11-20-fake001";

struct Scene {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
    server: MockServer,
}

impl Scene {
    async fn new() -> Scene {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let project = tmp.path().join("my-app");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&project).unwrap();
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1/local_backend_version"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"version": VERSION})))
            .mount(&server)
            .await;
        let s = Scene {
            _tmp: tmp,
            home,
            project,
            server,
        };
        // The fake backend in the cache as the latest version (for keygen).
        let exe = s.dirs().executable_path(VERSION);
        std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
        std::fs::write(
            &exe,
            format!(
                "#!/bin/sh\nexec '{}' \"$@\"\n",
                example("fake_local_backend").display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        s
    }

    fn dirs(&self) -> ConvexDirs {
        ConvexDirs::new(&self.home, &Env::default())
    }

    fn backends(&self) -> LocalBackends {
        let http = HttpClient::new(&Env::default()).unwrap();
        LocalBackends::new(
            http,
            LocalBackendSettings {
                dirs: self.dirs(),
                project_dir: self.project.clone(),
                provision_host: PRODUCTION_PROVISION_HOST.to_string(),
                startup_timeout_secs: None,
                stdin_is_terminal: false,
                stderr_is_terminal: false,
            },
            Arc::new(NoPrompts),
        )
        .with_endpoints(OutsideEndpoints {
            version_api: format!("{}/v1/local_backend_version", self.server.uri()),
            releases: format!("{}/releases", self.server.uri()),
        })
    }

    fn control_plane(&self) -> ManagementControlPlane {
        ManagementControlPlane::new(ManagementClient::new(
            HttpClient::new(&Env::default()).unwrap(),
            &self.server.uri(),
            Some("Bearer convex-pat-alice".into()),
            None,
            Default::default(),
        ))
    }

    async fn mount_start(&self, status: u16) {
        let body = if status == 200 {
            json!({"deploymentName": "local-acme-rocket", "adminKey": "unused", "projectId": 4242})
        } else {
            json!({"code": "Boom", "message": "registration failed"})
        };
        Mock::given(method("POST"))
            .and(path("/api/local_deployment/start"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/local_deployment/pause"))
            .and(body_json(
                json!({"projectSlug": "rocket", "teamSlug": "acme"}),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .mount(&self.server)
            .await;
    }

    async fn management_paths(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path().starts_with("/api/"))
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect()
    }

    fn legacy_anonymous(&self, name: &str) -> PathBuf {
        let dir = self
            .dirs()
            .root
            .join("anonymous-convex-backend-state")
            .join(name);
        std::fs::create_dir_all(dir.join("storage")).unwrap();
        std::fs::write(
            dir.join("config.json"),
            json!({"ports": {"cloud": 3290, "site": 3291}, "backendVersion": VERSION,
                   "adminKey": format!("{name}|old"), "instanceSecret": "cd".repeat(32)})
            .to_string(),
        )
        .unwrap();
        std::fs::write(dir.join("convex_local_backend.sqlite3"), "data").unwrap();
        std::fs::write(dir.join("storage/blob"), "file").unwrap();
        dir
    }

    fn project_config(&self) -> String {
        std::fs::read_to_string(self.project.join(".convex/local/default/config.json")).unwrap()
    }
}

fn keys(text: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(text).unwrap();
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_legacy_anonymous_deployment_moves_into_the_project() {
    let s = Scene::new().await;
    s.mount_start(200).await;
    let old = s.legacy_anonymous("anonymous-rocket");
    let linked = s
        .backends()
        .link_anonymous_deployment("anonymous-rocket", "acme", "rocket", &s.control_plane())
        .await
        .unwrap();
    assert_eq!(linked.deployment_name, "local-acme-rocket");
    assert_eq!(linked.url, "http://127.0.0.1:3290");
    assert_eq!(linked.project_slug, "rocket");
    // The data moved to the project's folder, the old folder is gone.
    assert!(!old.exists());
    let new = s.project.join(".convex/local/default");
    assert_eq!(
        std::fs::read_to_string(new.join("convex_local_backend.sqlite3")).unwrap(),
        "data"
    );
    assert_eq!(
        std::fs::read_to_string(new.join("storage/blob")).unwrap(),
        "file"
    );
    // config.json as the official CLI writes it for a linked deployment.
    let text = s.project_config();
    assert_eq!(
        keys(&text),
        [
            "instanceSecret",
            "adminKey",
            "backendVersion",
            "ports",
            "cloudProjectId",
            "deploymentName"
        ]
    );
    let config: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(config["cloudProjectId"], 4242);
    assert_eq!(config["ports"], json!({"cloud": 3290, "site": 3291}));
    assert_ne!(config["instanceSecret"], json!("cd".repeat(32)));
    assert!(
        config["adminKey"]
            .as_str()
            .unwrap()
            .starts_with("local-acme-rocket|")
    );
    assert_eq!(
        s.management_paths().await,
        [
            "POST /api/local_deployment/start",
            "POST /api/local_deployment/pause"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_registration_moves_nothing() {
    let s = Scene::new().await;
    s.mount_start(500).await;
    let old = s.legacy_anonymous("anonymous-rocket");
    let before = std::fs::read_to_string(old.join("config.json")).unwrap();
    let err = s
        .backends()
        .link_anonymous_deployment("anonymous-rocket", "acme", "rocket", &s.control_plane())
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("registration failed"),
        "{err:#}"
    );
    assert_eq!(
        std::fs::read_to_string(old.join("config.json")).unwrap(),
        before
    );
    assert!(!s.project.join(".convex").exists());

    // An unknown deployment: nothing is asked of the management API.
    let s = Scene::new().await;
    s.mount_start(200).await;
    let err = s
        .backends()
        .link_anonymous_deployment("anonymous-nope", "acme", "rocket", &s.control_plane())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Failed to load deployment config"));
    assert!(s.management_paths().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_local_deployment_is_registered_with_the_official_config_layout() {
    let s = Scene::new().await;
    s.mount_start(200).await;
    let registered = s
        .backends()
        .register_new_local_deployment("acme", "rocket", Some(4242), &s.control_plane())
        .await
        .unwrap();
    assert_eq!(registered.deployment_name, "local-acme-rocket");
    let text = s.project_config();
    assert_eq!(
        keys(&text),
        [
            "backendVersion",
            "ports",
            "adminKey",
            "instanceSecret",
            "cloudProjectId",
            "deploymentName"
        ]
    );
    let config: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(config["adminKey"], json!(registered.admin_key));
    assert_eq!(config["ports"]["cloud"], json!(registered.ports.cloud));
    assert_eq!(
        std::fs::read_to_string(s.project.join(".convex/.gitignore")).unwrap(),
        "/*\n"
    );
    // Nothing runs: only `start` was asked for.
    assert_eq!(
        s.management_paths().await,
        ["POST /api/local_deployment/start"]
    );
}
