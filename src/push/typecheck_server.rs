//! The typecheck server: `dev`'s warm checker ([`super::warm_checker`]) for
//! one-shot pushes (`deploy`, `codegen`; `dev`, `dev --once` and
//! `run --push` keep their own checker), kept between runs so that a
//! second `convex deploy` does not load, parse and bind the whole program
//! again. TypeScript 4 and 5 only: TypeScript 7's native compiler checks a
//! fresh project faster than its API server starts, so it runs directly.
//!
//! - The first push that typechecks starts `warm_checker.cjs --serve` with
//!   the project's TypeScript as a detached background process (Unix: its
//!   own session, `setsid`; Windows: a detached process outside the CLI's
//!   job objects), its standard streams closed, listening on a Unix socket
//!   in `<cache>/typecheck/server/` (a folder only the user may enter;
//!   Windows: a named pipe). Its name is a hash of the script, `node`, the
//!   compiler package and version, the project and its functions folder.
//!   That push's own typecheck goes through it; the CLI exits, the server
//!   stays.
//! - Later pushes connect and send the same request as `dev`; the server
//!   polls the file system at each check as in `dev`, so edits are seen.
//! - A connection counts once the server's ready line is read: one that
//!   is closed before it (a killed server's last thread still holding the
//!   socket) is dropped and a new server started; a server alive but
//!   silent for [`GREETING_TIMEOUT`] (stopped, stuck) is given up for `tsc`.
//! - Anything unexpected (no server and none can start, a stale socket the
//!   new server cannot replace, a server that dies mid-check, a reply that
//!   is not a verdict, "fallback") makes the push run `tsc` as before.
//! - The server exits after [`DEFAULT_IDLE`] without a request
//!   (`CONVEX_TYPECHECK_SERVER_IDLE_SECONDS`), when its compiler's
//!   `package.json` changes or disappears, when its socket file is removed,
//!   and when another server already listens there (two pushes at once).
//! - Off when `CONVEX_TYPECHECK_SERVER` is `0`/`false`/`no`/`off`, and in
//!   CI (`CI` set and not `0`/`false`) unless that variable is set to
//!   another value. Documented in `docs/compatibility.md` and
//!   `docs/performance.md`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::warm_checker::{Running, SCRIPT, WarmChecker, WarmSpec};
use crate::bundler::fingerprint::sha256_hex;
use crate::env::Env;
use crate::env_vars;

/// How long an unused server stays.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(600);

/// How long a push waits for a server it started to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a push waits for a running server's ready line: at once when it
/// is idle, after its current step when it is busy (a warm-up file, another
/// push's check).
const GREETING_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether pushes use a typecheck server, and how long it stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSettings {
    pub idle: Duration,
}

impl ServerSettings {
    /// From `CONVEX_TYPECHECK_SERVER`, `CI` and
    /// `CONVEX_TYPECHECK_SERVER_IDLE_SECONDS` (see the module docs); `None`:
    /// no server.
    pub fn from_env(env: &Env) -> Option<ServerSettings> {
        let falsy = |v: &str| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "0" | "false" | "no" | "off"
            )
        };
        match env.non_empty(env_vars::CONVEX_TYPECHECK_SERVER) {
            Some(v) if falsy(v) => return None,
            Some(_) => {}
            None => {
                if env.non_empty(env_vars::CI).is_some_and(|v| !falsy(v)) {
                    return None;
                }
            }
        }
        let idle = env
            .non_empty(env_vars::CONVEX_TYPECHECK_SERVER_IDLE_SECONDS)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map_or(DEFAULT_IDLE, |s| Duration::from_secs_f64(s.min(86_400.0)));
        Some(ServerSettings { idle })
    }
}

/// Where one server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// The socket file (Unix) or the pipe name (Windows).
    pub address: PathBuf,
    /// Holds the server's process id while it runs.
    pub pid_file: PathBuf,
    /// Created by a client before each request: a JIT warm-up check under
    /// way gives way to it (see `warm_checker.cjs`).
    pub interrupt_file: PathBuf,
    pub idle: Duration,
}

/// What a server's name is made of.
pub struct ServerKey<'a> {
    pub cache_folder: &'a Path,
    pub node: &'a Path,
    pub package_dir: &'a Path,
    pub version: Option<&'a str>,
    pub project_root: &'a Path,
    pub functions_dir: &'a Path,
}

impl ServerSpec {
    /// The server for `key`, in `<cache>/typecheck/server/`; `None` when
    /// that folder cannot be made private to the user, or (Unix) its path
    /// is too long for a socket address.
    pub fn new(key: &ServerKey<'_>, settings: ServerSettings) -> Option<ServerSpec> {
        let hash = sha256_hex(
            [
                SCRIPT,
                &key.node.to_string_lossy(),
                &key.package_dir.to_string_lossy(),
                key.version.unwrap_or(""),
                &key.project_root.to_string_lossy(),
                &key.functions_dir.to_string_lossy(),
                &key.cache_folder.to_string_lossy(),
            ]
            .join("\n")
            .as_bytes(),
        );
        let name = &hash[..24];
        let dir = key.cache_folder.join("typecheck").join("server");
        if let Err(why) = private_dir(&dir) {
            crate::output::verbose(&format!(
                "No typecheck server: {} cannot be made private ({why})",
                dir.display()
            ));
            return None;
        }
        let pid_file = dir.join(format!("{name}.pid"));
        let interrupt_file = dir.join(format!("{name}.interrupt"));
        #[cfg(windows)]
        let address = PathBuf::from(format!(r"\\.\pipe\convex-typecheck-{name}"));
        #[cfg(not(windows))]
        let address = dir.join(format!("{name}.sock"));
        // `sun_path` holds 104 bytes on macOS, 108 on Linux.
        if cfg!(unix) && address.as_os_str().len() > 100 {
            crate::output::verbose(&format!(
                "No typecheck server: its socket path would be too long ({})",
                address.display()
            ));
            return None;
        }
        Some(ServerSpec {
            address,
            pid_file,
            interrupt_file,
            idle: settings.idle,
        })
    }

    /// The running server's process id, from its pid file.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(&self.pid_file)
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

/// Creates `dir` private to the user ([`crate::fsutil::create_private_dir`])
/// and, on Unix, makes sure it is a real folder of this user's that no one
/// else can enter (it holds the socket). Windows: the folder holds only the
/// pid file (the pipe is named), in the user's own profile.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    crate::fsutil::create_private_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::symlink_metadata(dir)?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if !meta.is_dir() || meta.uid() != me {
            return Err(std::io::Error::other("not a folder of this user"));
        }
        if meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// A connection to the server of `server`, starting one when none answers.
pub(crate) async fn connect_or_start(
    checker: &WarmChecker,
    server: &ServerSpec,
) -> Result<Running, String> {
    match connect(&server.address, GREETING_TIMEOUT).await {
        Ok(running) => return Ok(running.interrupting(&server.interrupt_file)),
        // Alive but silent (stopped, or stuck): a new server could not take
        // its address either.
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            return Err(format!(
                "the typecheck server at {} did not answer within {} s",
                server.address.display(),
                GREETING_TIMEOUT.as_secs()
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::Other => crate::output::verbose(&format!(
            "The typecheck server at {} did not answer ({e}); starting another",
            server.address.display()
        )),
        Err(_) => {}
    }
    let script = checker
        .script_path()
        .map_err(|e| format!("could not write its script: {e}"))?;
    let spec = checker.spec();
    let mut child = spawn_detached(spec, &script, server)
        .map_err(|e| format!("could not start the typecheck server: {e}"))?;
    crate::output::verbose(&format!(
        "Started a typecheck server (pid {}, {}); it stops after {} s unused",
        child.id(),
        server.address.display(),
        server.idle.as_secs()
    ));
    let deadline = Instant::now() + START_TIMEOUT;
    let mut exited = false;
    loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        // Its ready line follows once it has loaded the compiler.
        let within = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1));
        match connect(&server.address, within).await {
            Ok(running) => {
                reap(child);
                return Ok(running.interrupting(&server.interrupt_file));
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                reap(child);
                return Err("the typecheck server did not answer in time".into());
            }
            Err(_) => {}
        }
        if exited {
            return Err("the typecheck server exited at once".into());
        }
        // Exited: maybe another one won the race; one more try.
        exited = matches!(child.try_wait(), Ok(Some(_)) | Err(_));
        if !exited && Instant::now() > deadline {
            reap(child);
            return Err("the typecheck server did not listen in time".into());
        }
    }
}

/// Waits for the server on a thread of its own, so that it leaves no
/// zombie should it exit while this CLI still runs.
fn reap(mut child: std::process::Child) {
    std::thread::spawn(move || {
        let _ = child.wait();
    });
}

#[cfg(unix)]
async fn connect(address: &Path, within: Duration) -> std::io::Result<Running> {
    let stream = tokio::net::UnixStream::connect(address).await?;
    let (read, write) = stream.into_split();
    greeted(Running::new(Box::new(write), Box::new(read), None), within).await
}

#[cfg(windows)]
async fn connect(address: &Path, within: Duration) -> std::io::Result<Running> {
    let client = tokio::net::windows::named_pipe::ClientOptions::new().open(address)?;
    let (read, write) = tokio::io::split(client);
    greeted(Running::new(Box::new(write), Box::new(read), None), within).await
}

#[cfg(not(any(unix, windows)))]
async fn connect(_address: &Path, _within: Duration) -> std::io::Result<Running> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// The connection once the server has said it is ready; `Other` when it
/// closed instead (it was going away: a new one is started), `TimedOut`
/// when it said nothing `within`.
async fn greeted(mut running: Running, within: Duration) -> std::io::Result<Running> {
    match tokio::time::timeout(within, running.greet()).await {
        Ok(Ok(())) => Ok(running),
        Ok(Err(why)) => Err(std::io::Error::other(why)),
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

/// Starts the server, detached from this CLI: no standard stream of ours
/// (it must never hold a CI step's pipes open), its own session (Unix) or a
/// detached process outside our job objects (Windows).
fn spawn_detached(
    spec: &WarmSpec,
    script: &Path,
    server: &ServerSpec,
) -> std::io::Result<std::process::Child> {
    use std::process::Stdio;
    let command = || {
        let mut command = std::process::Command::new(&spec.node);
        command
            .args(spec.script_args(script))
            .arg("--serve")
            .arg(&server.address)
            .arg(&server.pid_file)
            .arg(server.idle.as_millis().to_string())
            .arg("--interrupt")
            .arg(&server.interrupt_file)
            .current_dir(&spec.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let mut command = command();
        // Descriptors this CLI inherited without close-on-exec (a CI
        // runner's pipe, a jobserver) must not reach the server either.
        // SAFETY: sysconf has no preconditions.
        let max_fd = match unsafe { libc::sysconf(libc::_SC_OPEN_MAX) } {
            n if n > 0 => n.min(65_536) as i32,
            _ => 1024,
        };
        // SAFETY: the closure runs in the child between fork and exec and
        // calls only setsid(2) and fcntl(2), which are async-signal-safe.
        unsafe {
            command.pre_exec(move || {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                for fd in 3..max_fd {
                    let flags = libc::fcntl(fd, libc::F_GETFD);
                    if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                        libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
                    }
                }
                Ok(())
            });
        }
        command.spawn()
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        const DETACHED_PROCESS: u32 = 0x0000_0008;
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        const CREATE_BREAKAWAY_FROM_JOB: u32 = 0x0100_0000;
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        let flags = DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW;
        // Out of a job the CLI runs in when that job allows it; otherwise
        // (breaking away is refused) inside it.
        match command()
            .creation_flags(flags | CREATE_BREAKAWAY_FROM_JOB)
            .spawn()
        {
            Ok(child) => Ok(child),
            Err(_) => command().creation_flags(flags).spawn(),
        }
    }
    #[cfg(not(any(unix, windows)))]
    {
        command().spawn()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn settings_follow_the_switch_and_ci() {
        assert_eq!(
            ServerSettings::from_env(&env(&[])),
            Some(ServerSettings { idle: DEFAULT_IDLE })
        );
        for off in ["0", "false", "OFF", "no"] {
            assert_eq!(
                ServerSettings::from_env(&env(&[("CONVEX_TYPECHECK_SERVER", off)])),
                None
            );
        }
        assert_eq!(ServerSettings::from_env(&env(&[("CI", "true")])), None);
        assert_eq!(ServerSettings::from_env(&env(&[("CI", "1")])), None);
        assert!(ServerSettings::from_env(&env(&[("CI", "false")])).is_some());
        assert!(
            ServerSettings::from_env(&env(&[("CI", "true"), ("CONVEX_TYPECHECK_SERVER", "1")]))
                .is_some()
        );
        assert_eq!(
            ServerSettings::from_env(&env(&[("CONVEX_TYPECHECK_SERVER_IDLE_SECONDS", "2.5")])),
            Some(ServerSettings {
                idle: Duration::from_millis(2500)
            })
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_socket_folder_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join("c");
        let dir = cache.join("typecheck/server");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let key = ServerKey {
            cache_folder: &cache,
            node: Path::new("node"),
            package_dir: Path::new("/p/node_modules/typescript"),
            version: Some("5.9.3"),
            project_root: Path::new("/p"),
            functions_dir: Path::new("/p/convex"),
        };
        let settings = ServerSettings { idle: DEFAULT_IDLE };
        let spec = ServerSpec::new(&key, settings).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(spec.address.starts_with(&dir));
        // Another functions folder, another server.
        let other = ServerSpec::new(
            &ServerKey {
                functions_dir: Path::new("/p/functions"),
                ..key
            },
            settings,
        )
        .unwrap();
        assert_ne!(spec.address, other.address);
    }
}
