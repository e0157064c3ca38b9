//! Starts an anonymous local deployment with the library and holds it until
//! Ctrl-C or SIGTERM, stopping the backend on the way out. Tests use it to
//! check a signal leaves no backend behind; it also shows the API.
//!
//! `hold_local_backend <home> <project> <version> <version-api-url> <cloud-port> <site-port>`
//! prints `ready <backend pid> <url>` on stdout once the backend answers.

use std::path::PathBuf;
use std::sync::Arc;

use convex_cli::env::Env;
use convex_cli::global_config::ConvexDirs;
use convex_cli::http::HttpClient;
use convex_cli::local_backend::{
    AnonymousOptions, LocalBackendOptions, LocalBackendSettings, LocalBackends, NoPrompts,
    OutsideEndpoints, PRODUCTION_PROVISION_HOST, exit_on_signal_after_stopping_backends,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [home, project, version, version_api, cloud, site] = args.as_slice() else {
        anyhow::bail!(
            "usage: hold_local_backend <home> <project> <version> <version-api-url> <cloud-port> <site-port>"
        );
    };
    exit_on_signal_after_stopping_backends();
    let settings = LocalBackendSettings {
        dirs: ConvexDirs::new(&PathBuf::from(home), &Env::default()),
        project_dir: PathBuf::from(project),
        provision_host: PRODUCTION_PROVISION_HOST.to_string(),
        startup_timeout_secs: None,
        stdin_is_terminal: false,
        stderr_is_terminal: false,
    };
    let http = HttpClient::new(&Env::default())?;
    let backends =
        LocalBackends::new(http, settings, Arc::new(NoPrompts)).with_endpoints(OutsideEndpoints {
            version_api: version_api.clone(),
            releases: format!("{version_api}/releases"),
        });
    let deployment = backends
        .ensure_anonymous_deployment(&AnonymousOptions {
            local: LocalBackendOptions {
                cloud_port: Some(cloud.parse()?),
                site_port: Some(site.parse()?),
                backend_version: Some(version.clone()),
                force_upgrade: false,
            },
            agent_mode: true,
            ..Default::default()
        })
        .await?;
    let pid = deployment.process().map(|p| p.pid()).unwrap_or(0);
    println!("ready {pid} {}", deployment.url);
    std::future::pending::<()>().await;
    Ok(())
}
