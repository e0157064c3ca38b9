//! A temporary HOME and project, a [`FaultServer`] as the management API and
//! the deployment, and the real binary run with a clean environment, short
//! injected retry delays and a short read timeout.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::fault_server::{Fault, FaultServer};

pub const DEPLOYMENT: &str = "happy-otter-123";
pub const ACCESS_TOKEN: &str = "pat-SECRET-access-0123456789";
pub const ADMIN_KEY: &str = "admin-SECRET-key-0123456789";
pub const NEW_DEPLOY_KEY: &str = "dev:happy-otter-123|eyJ2MiI6IlNFQ1JFVC1uZXcta2V5In0=";
pub const NEW_ACCESS_TOKEN: &str = "pat-SECRET-new-9876543210";
pub const IDENTITY_TOKEN: &str = "idtok-SECRET-5555555555";
pub const DEV_ENV_LOCAL: &str = "# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=dev:happy-otter-123 # team: acme, project: rocket\n\nCONVEX_URL=https://happy-otter-123.convex.cloud\n";
/// Read timeout given to the binary (ms); [`slow`] answers later than this.
pub const TIMEOUT_MS: u64 = 300;

pub struct Scene {
    pub home: tempfile::TempDir,
    pub project: tempfile::TempDir,
    pub server: FaultServer,
    pub env: Vec<(String, String)>,
}

impl Scene {
    /// A project configured for the dev deployment, logged in, with every
    /// route of the token and login flows answering normally.
    pub fn new() -> Scene {
        let scene = Scene {
            home: tempfile::tempdir().unwrap(),
            project: tempfile::tempdir().unwrap(),
            server: FaultServer::start(),
            env: Vec::new(),
        };
        scene.write(".env.local", DEV_ENV_LOCAL);
        scene.login(ACCESS_TOKEN);
        scene.default_routes();
        scene
    }

    fn default_routes(&self) {
        let s = &self.server;
        s.route(
            "GET",
            &format!("/api/deployment/{DEPLOYMENT}/team_and_project"),
            vec![Fault::Json(
                json!({"team": "acme", "project": "rocket", "teamId": 1, "projectId": 2}),
            )],
        );
        s.route(
            "POST",
            "/api/deployment/authorize_within_current_project",
            vec![Fault::Json(json!({
                "deploymentName": DEPLOYMENT, "adminKey": ADMIN_KEY, "url": s.url,
                "deploymentType": "dev", "reference": "dev/alice", "isDefault": true
            }))],
        );
        s.route(
            "POST",
            &format!("/v1/deployments/{DEPLOYMENT}/create_deploy_key"),
            vec![Fault::Json(json!({"deployKey": NEW_DEPLOY_KEY}))],
        );
        s.route(
            "POST",
            &format!("/v1/deployments/{DEPLOYMENT}/delete_deploy_key"),
            vec![Fault::Json(json!({}))],
        );
        s.route("HEAD", "/api/authorize", vec![Fault::Json(json!({}))]);
        s.route(
            "POST",
            "/v1/create_personal_access_token",
            vec![Fault::Json(json!({"accessToken": NEW_ACCESS_TOKEN}))],
        );
        s.route(
            "POST",
            "/api/check_opt_ins",
            vec![Fault::Json(json!({"optInsToAccept": [
                {"optIn": {"tos": "v1"}, "message": "Accept the terms?"}
            ]}))],
        );
        s.route("POST", "/api/accept_opt_ins", vec![Fault::Json(json!({}))]);
    }

    /// `~/.convex-test-<port>`, where the CLI keeps `config.json` under a
    /// mock provision host.
    pub fn convex_dir(&self) -> PathBuf {
        self.home
            .path()
            .join(format!(".convex-test-{}", self.server.port))
    }

    pub fn config_path(&self) -> PathBuf {
        self.convex_dir().join("config.json")
    }

    pub fn login(&self, token: &str) {
        std::fs::create_dir_all(self.convex_dir()).unwrap();
        std::fs::write(
            self.config_path(),
            format!("{{\n  \"accessToken\": \"{token}\"\n}}"),
        )
        .unwrap();
    }

    pub fn logout(&self) {
        let _ = std::fs::remove_file(self.config_path());
    }

    pub fn write(&self, rel: &str, text: &str) {
        self.write_bytes(rel, text.as_bytes());
    }

    pub fn write_bytes(&self, rel: &str, bytes: &[u8]) {
        let path = self.project.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.project.path().join(rel)).unwrap()
    }

    pub fn set(&mut self, k: &str, v: &str) {
        self.env.push((k.to_string(), v.to_string()));
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_convex"));
        cmd.env_clear()
            .current_dir(self.project.path())
            .envs(super::support::home_env(self.home.path()))
            .env("PATH", "/nonexistent-bin")
            .env("CONVEX_PROVISION_HOST", &self.server.url)
            .env("NO_COLOR", "1")
            .env("CONVEX_TEST_RETRY_DELAY_MS", "1")
            .env("CONVEX_TEST_HTTP_TIMEOUT_MS", TIMEOUT_MS.to_string())
            .stdin(std::process::Stdio::null())
            .args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().unwrap())
    }

    /// Every file under HOME and the project, with its bytes.
    pub fn files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        for root in [self.home.path(), self.project.path()] {
            collect(root, root, &mut out);
        }
        out
    }
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // Not through links: node_modules links to the shared npm install.
        if entry.file_type().is_ok_and(|t| t.is_symlink()) {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.insert(path.strip_prefix(root).unwrap().to_path_buf(), bytes);
        }
    }
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// A Convex JSON error body.
pub fn convex_error(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message})
}

/// The fault server as the identity provider of a device-flow login
/// (`--override-auth-url`): its OpenID configuration and device-authorization
/// endpoint, polled every `interval` seconds. The token endpoint is left to
/// the caller.
pub fn route_device_authorization(s: &Scene, interval: u64) {
    let url = s.server.url.clone();
    s.server.route(
        "GET",
        "/.well-known/openid-configuration",
        vec![Fault::Json(json!({
            "issuer": url,
            "device_authorization_endpoint": format!("{url}/oauth/device"),
            "token_endpoint": format!("{url}/oauth/token"),
        }))],
    );
    s.server.route(
        "POST",
        "/oauth/device",
        vec![Fault::Json(json!({
            "device_code": "dc", "user_code": "ABCD-EFGH",
            "verification_uri": format!("{url}/activate"),
            "expires_in": 900, "interval": interval
        }))],
    );
}
