//! Running the backend: its arguments, the `--help` probe, the launch, the
//! health check on `/instance_name`, and stopping it again.
//!
//! Every backend this process starts is recorded in a process-wide registry,
//! so [`stop_all_backends`] (called from a signal handler or before
//! `std::process::exit`) can stop them all; dropping a
//! [`LocalBackendProcess`] stops its backend too.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::credentials::local_state::{LocalDeploymentKind, LocalPorts, local_deployment_url};
use crate::output;

/// The DSN the official CLI hands its backends (`SENTRY_DSN`).
const LOCAL_BACKEND_SENTRY_DSN: &str =
    "https://1c77542933b4002e48934a351c84dd38@o1192621.ingest.us.sentry.io/4511826465587200";

/// Default for `CONVEX_LOCAL_BACKEND_STARTUP_TIMEOUT_SECS`.
pub const DEFAULT_STARTUP_TIMEOUT_SECS: f64 = 30.0;

/// Time between two health probes.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// How long a stopped backend gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Everything that goes on a backend's command line.
#[derive(Clone, Debug)]
pub struct LaunchSpec {
    pub binary: PathBuf,
    pub kind: LocalDeploymentKind,
    pub deployment_name: String,
    pub instance_secret: String,
    pub ports: LocalPorts,
    pub state_dir: PathBuf,
    /// `--beacon-fields {"override_uuid":"<uuid>"}` (anonymous deployments of
    /// the latest version, when the anonymous user has an id).
    pub beacon_uuid: Option<String>,
    /// `--control-plane-url`: the provision host when it is not production
    /// and the version supports it.
    pub control_plane_url: Option<String>,
    /// `--control-plane-access-token`: linked local deployments authenticated
    /// by an access token, when the version supports it.
    pub control_plane_access_token: Option<String>,
}

impl LaunchSpec {
    /// The arguments the `--help` probe runs with (followed by `--help`).
    pub fn probe_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "--port".into(),
            self.ports.cloud.to_string().into(),
            "--site-proxy-port".into(),
            self.ports.site.to_string().into(),
            "--sentry-identifier".into(),
            sentry_identifier(&self.deployment_name).into(),
            "--instance-name".into(),
            self.deployment_name.clone().into(),
            "--instance-secret".into(),
            self.instance_secret.clone().into(),
            "--local-storage".into(),
            self.state_dir.join("convex_local_storage").into(),
            "--beacon-tag".into(),
            super::beacon_tag(self.kind).into(),
            self.state_dir.join("convex_local_backend.sqlite3").into(),
        ];
        if let Some(uuid) = &self.beacon_uuid {
            args.push("--beacon-fields".into());
            args.push(
                serde_json::json!({ "override_uuid": uuid })
                    .to_string()
                    .into(),
            );
        }
        args
    }

    /// The full launch arguments: the probe's plus the control-plane flags.
    pub fn launch_args(&self) -> Vec<OsString> {
        let mut args = self.probe_args();
        if let Some(url) = &self.control_plane_url {
            args.push("--control-plane-url".into());
            args.push(url.into());
        }
        if let Some(token) = &self.control_plane_access_token {
            args.push("--control-plane-access-token".into());
            args.push(token.into());
        }
        args
    }
}

/// The arguments as text, with the secret values replaced by `[REDACTED]`.
pub fn redacted(args: &[OsString]) -> Vec<String> {
    let mut previous: Option<&OsString> = None;
    args.iter()
        .map(|arg| {
            let secret = previous
                .is_some_and(|p| p == "--instance-secret" || p == "--control-plane-access-token");
            previous = Some(arg);
            if secret {
                "[REDACTED]".to_string()
            } else {
                arg.to_string_lossy().into_owned()
            }
        })
        .collect()
}

/// The hex SHA-256 of the deployment name (`--sentry-identifier`).
pub fn sentry_identifier(deployment_name: &str) -> String {
    Sha256::digest(deployment_name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs the binary with the launch arguments and `--help`: a binary that
/// cannot run here (wrong platform, missing libraries) fails now, with its
/// own error, instead of timing out later.
pub async fn probe_binary(spec: &LaunchSpec) -> Result<()> {
    let output = tokio::process::Command::new(&spec.binary)
        .args(spec.probe_args())
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("Could not run the local backend {}", spec.binary.display()))?;
    if output.status.success() {
        return Ok(());
    }
    #[cfg(windows)]
    if output.status.code() == Some(-1073741515) {
        // STATUS_DLL_NOT_FOUND (3221225781)
        bail!(
            "The local backend could not start because shared libraries are missing. Installing the \
             Microsoft Visual C++ Redistributable usually provides them."
        );
    }
    bail!(
        "The local backend {} does not run on this machine ({}):\n{}",
        spec.binary.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim_end()
    );
}

/// Parses `CONVEX_LOCAL_BACKEND_STARTUP_TIMEOUT_SECS` (seconds, may be
/// fractional, must be positive).
pub fn parse_startup_timeout(raw: Option<&str>) -> Result<Duration> {
    let Some(raw) = raw else {
        return Ok(Duration::from_secs_f64(DEFAULT_STARTUP_TIMEOUT_SECS));
    };
    match raw.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 => Ok(Duration::from_secs_f64(secs.min(1e9))),
        _ => bail!(
            "Invalid CONVEX_LOCAL_BACKEND_STARTUP_TIMEOUT_SECS={raw:?}: expected a positive number of seconds, e.g. 120."
        ),
    }
}

/// A running local backend. Dropping it stops the backend.
#[derive(Debug)]
pub struct LocalBackendProcess {
    inner: Arc<RunningBackend>,
}

#[derive(Debug)]
struct RunningBackend {
    binary: PathBuf,
    pid: u32,
    cloud_port: u16,
    child: Mutex<Option<Child>>,
}

/// Every backend started by this process that may still be running.
static RUNNING: Mutex<Vec<Weak<RunningBackend>>> = Mutex::new(Vec::new());

/// Starts the backend with the launch arguments, its output discarded and
/// `SENTRY_DSN` set, and registers it for [`stop_all_backends`].
pub fn spawn_backend(spec: &LaunchSpec) -> Result<LocalBackendProcess> {
    output::verbose(&format!(
        "Starting local backend: `{} {}`",
        spec.binary.display(),
        redacted(&spec.launch_args()).join(" ")
    ));
    let mut command = Command::new(&spec.binary);
    command
        .args(spec.launch_args())
        .env("SENTRY_DSN", LOCAL_BACKEND_SENTRY_DSN)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = spawn_tied_to_this_process(command).with_context(|| {
        format!(
            "Could not start the local backend {}",
            spec.binary.display()
        )
    })?;
    let inner = Arc::new(RunningBackend {
        binary: spec.binary.clone(),
        pid: child.id(),
        cloud_port: spec.ports.cloud,
        child: Mutex::new(Some(child)),
    });
    let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    running.retain(|w| w.strong_count() > 0);
    running.push(Arc::downgrade(&inner));
    Ok(LocalBackendProcess { inner })
}

impl LocalBackendProcess {
    pub fn pid(&self) -> u32 {
        self.inner.pid
    }

    /// The exit status if the backend has already exited.
    pub fn exit_status(&self) -> Option<std::process::ExitStatus> {
        self.inner.try_wait()
    }

    /// Stops the backend: SIGTERM (Ctrl-Break on Windows), then up to 10 s for
    /// it to exit, then a kill.
    /// Blocks while it waits; safe to call more than once.
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// [`stop`](Self::stop) without blocking the async runtime's thread.
    pub async fn stop_async(&self) {
        let inner = self.inner.clone();
        let _ = tokio::task::spawn_blocking(move || inner.stop()).await;
    }
}

impl Drop for LocalBackendProcess {
    fn drop(&mut self) {
        self.inner.stop();
    }
}

impl RunningBackend {
    fn try_wait(&self) -> Option<std::process::ExitStatus> {
        let mut guard = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let child = guard.as_mut()?;
        child.try_wait().ok().flatten()
    }

    fn stop(&self) {
        let mut guard = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let Some(mut child) = guard.take() else {
            return;
        };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        terminate(&mut child);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        output::warning(&format!(
            "The local backend on port {} did not stop within {} s; killing it.",
            self.cloud_port,
            STOP_GRACE.as_secs()
        ));
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Spawns a child that gets SIGTERM if this process dies without stopping it
/// (killed, crashed, `std::process::exit`), so no backend is ever orphaned.
///
/// Linux sends the "parent died" signal when the *thread* that spawned the
/// child exits, so children are spawned from one thread that lives as long as
/// the process.
#[cfg(target_os = "linux")]
fn spawn_tied_to_this_process(mut command: Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    use std::sync::OnceLock;
    use std::sync::mpsc;

    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();

    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before the prctl took effect.
            if libc::getppid() != parent {
                return Err(std::io::Error::other(
                    "the CLI exited while starting the backend",
                ));
            }
            Ok(())
        });
    }
    let sender = SPAWNER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("local-backend-spawner".into())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("start the local backend spawner thread");
        Mutex::new(requests)
    });
    let (reply, result) = mpsc::channel();
    sender
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((command, reply))
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?;
    result
        .recv()
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?
}

/// Windows: the backend joins a job object created with kill-on-close, which
/// the system ends when this process exits in any way (the counterpart of
/// the "parent died" signal), and gets its own console process group so
/// that [`terminate`] can send it Ctrl-Break alone. It is created suspended
/// and let run once it is in the job.
#[cfg(windows)]
fn spawn_tied_to_this_process(mut command: Command) -> std::io::Result<Child> {
    use std::os::windows::io::AsRawHandle;
    use std::os::windows::process::CommandExt;
    use std::sync::OnceLock;

    // One job for every backend, never closed before the process exits.
    static JOB: OnceLock<Option<crate::win::Job>> = OnceLock::new();
    let job = JOB.get_or_init(|| match crate::win::Job::new(true) {
        Ok(job) => Some(job),
        Err(err) => {
            output::verbose(&format!(
                "Could not create a job object for local backends ({err}); a backend may \
                 outlive this process if it is killed."
            ));
            None
        }
    });
    let Some(job) = job else {
        command.creation_flags(windows_sys::Win32::System::Threading::CREATE_NEW_PROCESS_GROUP);
        return command.spawn();
    };
    command.creation_flags(crate::win::CREATE_SUSPENDED_GROUP);
    let mut child = command.spawn()?;
    let adopted = job.adopt(child.as_raw_handle(), child.id());
    if let Err(err) = adopted.assigned {
        output::verbose(&format!(
            "The local backend could not join this process's job object ({err}); it may \
             outlive this process if it is killed."
        ));
    }
    if let Err(err) = adopted.resumed {
        let _ = child.kill();
        let _ = child.wait();
        return Err(std::io::Error::other(format!(
            "the local backend was created but could not be started: {err}"
        )));
    }
    Ok(child)
}

/// macOS has no "parent died" signal: a backend is stopped by this process
/// (on exit, on Ctrl-C and SIGTERM) but outlives a SIGKILL.
#[cfg(not(any(target_os = "linux", windows)))]
fn spawn_tied_to_this_process(mut command: Command) -> std::io::Result<Child> {
    command.spawn()
}

/// Asks the backend to shut down cleanly.
#[cfg(unix)]
fn terminate(child: &mut Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) on the pid of a child we have not yet reaped.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

/// Asks the backend to shut down: Ctrl-Break to its own console process
/// group (see [`spawn_tied_to_this_process`]), the Windows request to stop
/// whose default action ends the process. Without a console to send it
/// through, the backend is ended at once.
#[cfg(windows)]
fn terminate(child: &mut Child) {
    if let Err(err) = crate::win::send_ctrl_break(child.id()) {
        output::verbose(&format!(
            "Could not send Ctrl-Break to the local backend ({err}); ending it."
        ));
        let _ = child.kill();
    }
}

/// Stops every backend this process started that is still running. Call it
/// from signal handlers and before `std::process::exit`, which skips
/// destructors.
pub fn stop_all_backends() {
    let backends: Vec<Arc<RunningBackend>> = {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        let alive = running.iter().filter_map(Weak::upgrade).collect();
        running.clear();
        alive
    };
    std::thread::scope(|scope| {
        for backend in &backends {
            scope.spawn(|| backend.stop());
        }
    });
}

/// Installs a handler for the requests to stop (Ctrl-C, SIGTERM; Ctrl-Break
/// and closing the console on Windows: see [`crate::signals`]) that stops
/// every running backend and exits with 130 / 143 (`STATUS_CONTROL_C_EXIT`
/// on Windows), as a shell expects. Commands that own other children (e.g.
/// `dev --start`) may prefer their own handler calling [`stop_all_backends`].
pub fn exit_on_signal_after_stopping_backends() {
    tokio::spawn(async {
        let stop = crate::signals::next().await;
        tokio::task::spawn_blocking(stop_all_backends).await.ok();
        std::process::exit(crate::signals::exit_code(stop));
    });
}

/// What answers on a local deployment's URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendStatus {
    /// The named deployment.
    Running,
    /// Another deployment, by this name.
    Different(String),
    /// Something answered with a non-200 status.
    Error(u16),
    /// Nothing answered.
    NotRunning,
}

/// `GET <url>/instance_name` (no Convex headers).
pub async fn backend_status(
    client: &reqwest::Client,
    url: &str,
    deployment_name: &str,
) -> BackendStatus {
    probe_instance_name(client, url, deployment_name, Duration::from_secs(5)).await
}

/// [`backend_status`] with a time limit for the answer.
async fn probe_instance_name(
    client: &reqwest::Client,
    url: &str,
    deployment_name: &str,
    timeout: Duration,
) -> BackendStatus {
    let request = client
        .get(format!("{}/instance_name", url.trim_end_matches('/')))
        .timeout(timeout);
    let Ok(response) = request.send().await else {
        return BackendStatus::NotRunning;
    };
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return BackendStatus::Error(status.as_u16());
    }
    match response.text().await {
        Ok(name) if name == deployment_name => BackendStatus::Running,
        Ok(name) => BackendStatus::Different(name),
        Err(_) => BackendStatus::NotRunning,
    }
}

/// Fails unless the named deployment answers at `url` (what commands other
/// than `dev` check before talking to a local deployment).
pub async fn assert_backend_running(
    client: &reqwest::Client,
    url: &str,
    deployment_name: &str,
) -> Result<()> {
    match backend_status(client, url, deployment_name).await {
        BackendStatus::Running => Ok(()),
        BackendStatus::Different(other) => bail!(
            "A different local backend, {other}, is running at {url} (expected {deployment_name}). \
             Stop it, then run `npx convex dev` for this project."
        ),
        BackendStatus::Error(status) => bail!(
            "The local backend at {url} answered with status {status}. Restart `npx convex dev`."
        ),
        BackendStatus::NotRunning => bail!(
            "The local backend isn't running (nothing listens at {url}).\n\
             Run `npx convex dev` in another terminal first."
        ),
    }
}

/// Waits until the named deployment answers on `cloud_port`, polling every
/// 0.5 s for up to `timeout`. Fails at once if another deployment answers or
/// the backend exits.
pub async fn wait_until_ready(
    client: &reqwest::Client,
    process: &LocalBackendProcess,
    cloud_port: u16,
    deployment_name: &str,
    timeout: Duration,
) -> Result<()> {
    let url = local_deployment_url(cloud_port);
    let start = Instant::now();
    let mut announced = false;
    loop {
        match probe_instance_name(client, &url, deployment_name, Duration::from_secs(2)).await {
            BackendStatus::Running => return Ok(()),
            BackendStatus::Different(other) => bail!(
                "A different local backend, {other}, is running on port {cloud_port}. Stop it, or \
                 choose other ports with --local-cloud-port and --local-site-port."
            ),
            BackendStatus::Error(_) | BackendStatus::NotRunning => {}
        }
        if let Some(status) = process.exit_status() {
            bail!(
                "The local backend {} exited ({status}) before it was ready on port {cloud_port}.",
                process.inner.binary.display()
            );
        }
        if start.elapsed() >= timeout {
            let secs = timeout.as_secs_f64();
            let mut message = format!(
                "The local backend did not start on port {cloud_port} within {secs} seconds."
            );
            if secs >= DEFAULT_STARTUP_TIMEOUT_SECS {
                message.push_str(
                    " If your local database is large, allow more time with \
                     CONVEX_LOCAL_BACKEND_STARTUP_TIMEOUT_SECS (e.g. CONVEX_LOCAL_BACKEND_STARTUP_TIMEOUT_SECS=120).",
                );
            }
            bail!(message);
        }
        if !announced && start.elapsed() > Duration::from_secs(2) {
            output::message("Waiting for the local backend to start...");
            announced = true;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Before reusing a saved deployment: waits up to `max_wait` for its saved
/// cloud port to be free. Another deployment answering there is fine (new
/// ports will be chosen); the same deployment still answering, or something
/// else holding the port, is waited for and then reported.
pub async fn ensure_backend_stopped(
    client: &reqwest::Client,
    cloud_port: u16,
    deployment_name: &str,
    max_wait: Duration,
) -> Result<()> {
    let start = Instant::now();
    let url = local_deployment_url(cloud_port);
    while start.elapsed() < max_wait {
        if tokio::task::spawn_blocking(move || super::ports::is_port_free(cloud_port))
            .await
            .unwrap_or(false)
        {
            return Ok(());
        }
        if let BackendStatus::Different(_) =
            probe_instance_name(client, &url, deployment_name, Duration::from_secs(1)).await
        {
            return Ok(());
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    bail!(
        "A local backend is still running on port {cloud_port}. Stop it (close the other \
         `convex dev`), then run this command again."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> LaunchSpec {
        LaunchSpec {
            binary: "/cache/convex-local-backend".into(),
            kind: LocalDeploymentKind::Anonymous,
            deployment_name: "anonymous-proj".into(),
            instance_secret: "ab".repeat(32),
            ports: LocalPorts {
                cloud: 3210,
                site: 3211,
            },
            state_dir: "/p/.convex/local/default".into(),
            beacon_uuid: Some("de80cfe5-1111-4222-8333-444455556666".into()),
            control_plane_url: Some("http://127.0.0.1:18050".into()),
            control_plane_access_token: None,
        }
    }

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn argv_matches_the_official_order() {
        let secret = "ab".repeat(32);
        let sentry = sentry_identifier("anonymous-proj");
        let expected_probe = vec![
            "--port",
            "3210",
            "--site-proxy-port",
            "3211",
            "--sentry-identifier",
            &sentry,
            "--instance-name",
            "anonymous-proj",
            "--instance-secret",
            &secret,
            "--local-storage",
            "/p/.convex/local/default/convex_local_storage",
            "--beacon-tag",
            "cli-anonymous-dev",
            "/p/.convex/local/default/convex_local_backend.sqlite3",
            "--beacon-fields",
            "{\"override_uuid\":\"de80cfe5-1111-4222-8333-444455556666\"}",
        ];
        assert_eq!(strings(spec().probe_args()), expected_probe);
        let mut launch = expected_probe.clone();
        launch.extend(["--control-plane-url", "http://127.0.0.1:18050"]);
        assert_eq!(strings(spec().launch_args()), launch);
        let linked = LaunchSpec {
            kind: LocalDeploymentKind::Local,
            beacon_uuid: None,
            control_plane_access_token: Some("token".into()),
            ..spec()
        };
        let args = strings(linked.launch_args());
        assert_eq!(args[13], "cli-local-dev");
        assert_eq!(
            args[15..],
            [
                "--control-plane-url",
                "http://127.0.0.1:18050",
                "--control-plane-access-token",
                "token"
            ]
        );
    }

    #[test]
    fn secrets_are_redacted_in_logged_command_lines() {
        let linked = LaunchSpec {
            control_plane_access_token: Some("secret-token-value".into()),
            ..spec()
        };
        let text = redacted(&linked.launch_args()).join(" ");
        assert!(!text.contains(&"ab".repeat(32)), "{text}");
        assert!(!text.contains("secret-token-value"), "{text}");
        assert!(text.contains("--instance-secret [REDACTED]"));
        assert!(text.ends_with("--control-plane-access-token [REDACTED]"));
    }

    /// A one-route HTTP server answering `/instance_name` with `name`.
    async fn serve_instance_name(name: &'static str) -> (u16, tokio::task::JoinHandle<()>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{name}",
                    name.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            }
        });
        (port, task)
    }

    #[tokio::test]
    async fn a_still_running_deployment_blocks_but_another_one_does_not() {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let (port, server) = serve_instance_name("anonymous-app").await;
        let started = Instant::now();
        let err = ensure_backend_stopped(&client, port, "anonymous-app", Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("still running on port {port}"))
        );
        assert!(started.elapsed() >= Duration::from_secs(1));
        // Another deployment on the port: fine, new ports will be chosen.
        ensure_backend_stopped(&client, port, "anonymous-other", Duration::from_secs(1))
            .await
            .unwrap();
        server.abort();
        // Something that is not a backend holds the port: waited for, then reported.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let err =
            ensure_backend_stopped(&client, port, "anonymous-app", Duration::from_millis(600))
                .await
                .unwrap_err();
        assert!(err.to_string().contains("still running"));
        drop(silent);
        // A free port: at once.
        ensure_backend_stopped(&client, port, "anonymous-app", Duration::from_secs(1))
            .await
            .unwrap();
    }

    #[test]
    fn sentry_identifier_is_sha256_hex() {
        // Values seen in the official CLI's argv.
        assert_eq!(
            sentry_identifier("anonymous-agent"),
            "6be6b0b3a4b5e530d8d0fe6b43315de542d935627e4c98cfbc3f0fd6e3b423ec"
        );
        assert_eq!(
            sentry_identifier("local-acme-rocket"),
            "cdbe23aa090411b7918f9d44b328630042dd7e9a4113043532a328a87c34b660"
        );
    }

    #[test]
    fn startup_timeout() {
        assert_eq!(
            parse_startup_timeout(None).unwrap(),
            Duration::from_secs(30)
        );
        assert_eq!(
            parse_startup_timeout(Some("2.5")).unwrap(),
            Duration::from_millis(2500)
        );
        for bad in ["abc", "0", "-1", "", "NaN", "inf"] {
            let err = parse_startup_timeout(Some(bad)).unwrap_err().to_string();
            assert!(
                err.contains("CONVEX_LOCAL_BACKEND_STARTUP_TIMEOUT_SECS"),
                "{bad}: {err}"
            );
        }
    }
}
