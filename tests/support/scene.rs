//! A temporary HOME and project folder, a wiremock server as
//! `CONVEX_PROVISION_HOST`, and the real binary run with a clean environment
//! (no `node` on PATH, nothing from the developer's shell). Used by the
//! `login` and `deployment token` tests.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use wiremock::MockServer;

pub struct Scene {
    pub home: tempfile::TempDir,
    pub project: tempfile::TempDir,
    pub server: MockServer,
    pub env: Vec<(String, String)>,
}

impl Scene {
    pub async fn new() -> Scene {
        let server = MockServer::start().await;
        Scene {
            home: tempfile::tempdir().unwrap(),
            project: tempfile::tempdir().unwrap(),
            server,
            env: Vec::new(),
        }
    }

    pub fn host(&self) -> String {
        self.server.uri()
    }

    /// `~/.convex-test-<port>`, as the CLI names it under a mock host.
    pub fn convex_dir(&self) -> PathBuf {
        let port = self.server.address().port();
        self.home.path().join(format!(".convex-test-{port}"))
    }

    pub fn login(&self, token: &str) {
        std::fs::create_dir_all(self.convex_dir()).unwrap();
        std::fs::write(
            self.convex_dir().join("config.json"),
            format!("{{\n  \"accessToken\": \"{token}\"\n}}"),
        )
        .unwrap();
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.project.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.project.path().join(rel)).unwrap()
    }

    pub fn set(&mut self, k: &str, v: &str) {
        self.env.push((k.to_string(), v.to_string()));
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("convex").unwrap();
        cmd.env_clear()
            .current_dir(self.project.path())
            .envs(super::home_env(self.home.path()))
            .env("PATH", empty_path())
            .env("CONVEX_PROVISION_HOST", self.host())
            .env("NO_COLOR", "1")
            .args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub async fn requests(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.unwrap_or_default()
    }
}

fn empty_path() -> &'static Path {
    Path::new("/nonexistent-bin")
}

pub fn json_body(req: &wiremock::Request) -> serde_json::Value {
    serde_json::from_slice(&req.body).unwrap()
}

pub fn header<'a>(req: &'a wiremock::Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

pub const DEV_ENV_LOCAL: &str = "# Deployment used by `npx convex dev`\nCONVEX_DEPLOYMENT=dev:happy-otter-123 # team: acme, project: rocket\n\nCONVEX_URL=https://happy-otter-123.convex.cloud\n";
