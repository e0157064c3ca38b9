//! `--start <command>`: a long-running command (a frontend dev server, ...)
//! started through the shell after the first successful push, with the
//! terminal's stdio, in its own process group so the whole group can be
//! signalled.
//!
//! On Windows (see [`crate::win`]) the "group" is a job object holding the
//! shell and everything it starts, plus a console process group of its own:
//! Ctrl-C and the request to stop are sent to it as Ctrl-Break, and a kill
//! ends the whole job. The job is created with kill-on-close, so the
//! command cannot outlive `dev`.

use std::process::ExitStatus;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::env::Env;

/// How long a child that got SIGINT may take to exit before SIGTERM.
const SIGTERM_ESCALATION: Duration = Duration::from_secs(1);

/// The running `--start` command.
pub struct ShellChild {
    command: String,
    child: tokio::process::Child,
    /// Its pid, which is also its process group id.
    pgid: u32,
    /// Windows: the job holding the shell and its descendants (`None` if
    /// one could not be created: then only the shell itself can be ended).
    #[cfg(windows)]
    job: Option<crate::win::Job>,
    status: Option<ExitStatus>,
    interrupted: bool,
}

impl ShellChild {
    /// The command through the shell ([`crate::shell::command`]) with the
    /// CLI's environment (including variables read from `.env.local` /
    /// `.env` at start-up).
    pub fn spawn(command: &str, env: &Env) -> Result<ShellChild> {
        let mut cmd = crate::shell::command(command, env);
        // Its own group, so Ctrl-C handling and cleanup reach the shell's
        // children too.
        #[cfg(unix)]
        cmd.process_group(0);
        #[cfg(windows)]
        let job = {
            let job = match crate::win::Job::new(true) {
                Ok(job) => Some(job),
                Err(err) => {
                    crate::output::verbose(&format!(
                        "Could not create a job object for `{command}` ({err}); only the \
                         shell itself can be stopped."
                    ));
                    None
                }
            };
            cmd.creation_flags(if job.is_some() {
                crate::win::CREATE_SUSPENDED_GROUP
            } else {
                windows_sys::Win32::System::Threading::CREATE_NEW_PROCESS_GROUP
            });
            job
        };
        env.apply_to_tokio_command(&mut cmd);
        cmd.stdin(std::process::Stdio::inherit())
            .stdout(std::process::Stdio::inherit())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(false);
        #[cfg_attr(not(windows), allow(unused_mut))]
        let mut child = cmd
            .spawn()
            .with_context(|| format!("Failed to run command `{command}`"))?;
        let pgid = child.id().unwrap_or(0);
        #[cfg(windows)]
        let job = match (job, child.raw_handle()) {
            (Some(job), Some(handle)) => {
                let adopted = job.adopt(handle, pgid);
                if let Err(err) = adopted.resumed {
                    let _ = child.start_kill();
                    return Err(anyhow::anyhow!(
                        "Failed to run command `{command}`: it was created but could not be \
                         started ({err})"
                    ));
                }
                match adopted.assigned {
                    Ok(()) => Some(job),
                    Err(err) => {
                        crate::output::verbose(&format!(
                            "`{command}` could not join its job object ({err}); only the \
                             shell itself can be stopped."
                        ));
                        None
                    }
                }
            }
            _ => None,
        };
        Ok(ShellChild {
            command: command.to_string(),
            child,
            pgid,
            #[cfg(windows)]
            job,
            status: None,
            interrupted: false,
        })
    }

    /// Wait for the command to exit (returns at once if it already did).
    pub async fn wait(&mut self) -> ExitStatus {
        if let Some(status) = self.status {
            return status;
        }
        let status = match self.child.wait().await {
            Ok(status) => status,
            Err(_) => exit_status_failure(),
        };
        self.status = Some(status);
        status
    }

    /// Whether it has exited (without waiting).
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.status = Some(status);
        }
        self.status
    }

    /// The error that ends `dev` for this exit: a non-zero code (an exit by
    /// signal is not a failure: someone stopped it).
    pub fn failure(&self, status: ExitStatus) -> Option<String> {
        if status.success() {
            return None;
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if status.signal().is_some() {
                return None;
            }
        }
        // Ended by Ctrl-C / Ctrl-Break (or by us, with the same code).
        #[cfg(windows)]
        if status.code() == Some(crate::win::STATUS_CONTROL_C_EXIT as i32) {
            return None;
        }
        Some(format!(
            "Command `{}` exited with code {}",
            self.command,
            status.code().unwrap_or(1)
        ))
    }

    /// Forward Ctrl-C to the whole group.
    pub fn interrupt(&mut self) {
        self.interrupted = true;
        self.signal_group(Signal::Interrupt);
    }

    fn signal_group(&mut self, signal: Signal) {
        let leader_exited = self.try_status().is_some();
        #[cfg(unix)]
        {
            let sig = match signal {
                Signal::Interrupt => libc::SIGINT,
                Signal::Terminate => libc::SIGTERM,
                Signal::Kill => libc::SIGKILL,
            };
            // The group outlives its leader while the shell's children run.
            let pgid = self.pgid as libc::pid_t;
            // SAFETY: plain kill(2) on the child's own process group, or on
            // the child itself while it has not been reaped.
            unsafe {
                if libc::kill(-pgid, sig) != 0 && !leader_exited {
                    libc::kill(pgid, sig);
                }
            }
        }
        #[cfg(windows)]
        {
            // No SIGINT or SIGTERM for another process on Windows: the
            // request to stop is Ctrl-Break to the command's own console
            // group (Ctrl-C cannot be aimed at one group). Without a shared
            // console to send it through, the job is ended at once.
            let asked = match signal {
                Signal::Interrupt | Signal::Terminate => {
                    crate::win::send_ctrl_break(self.pgid).is_ok()
                }
                Signal::Kill => false,
            };
            if !asked {
                let ended = self
                    .job
                    .as_ref()
                    .is_some_and(|job| job.terminate(crate::win::STATUS_CONTROL_C_EXIT).is_ok());
                if !ended && !leader_exited {
                    let _ = self.child.start_kill();
                }
            }
        }
    }

    /// Whether any process of its group is still running.
    #[cfg(unix)]
    pub fn group_alive(&self) -> bool {
        // SAFETY: signal 0 only checks that the group exists.
        unsafe { libc::kill(-(self.pgid as libc::pid_t), 0) == 0 }
    }

    /// Whether any process of its job is still running (the shell alone
    /// when there is no job).
    #[cfg(windows)]
    pub fn group_alive(&mut self) -> bool {
        match self.job.as_ref().map(|job| job.active_processes()) {
            Some(Ok(n)) => n > 0,
            _ => self.try_status().is_none(),
        }
    }

    /// Stop it: after a forwarded Ctrl-C give it a second to exit on its
    /// own, then SIGTERM the group (the shell's children too; Ctrl-Break on
    /// Windows) and wait; after 10 s, kill the group.
    pub async fn stop(&mut self) {
        if self.interrupted {
            let _ = tokio::time::timeout(SIGTERM_ESCALATION, self.wait()).await;
        }
        self.signal_group(Signal::Terminate);
        // A command that ignores SIGTERM would hold `dev` forever: kill it
        // after a while.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let _ = tokio::time::timeout_at(deadline, self.wait()).await;
            if !self.group_alive() {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                self.signal_group(Signal::Kill);
                let _ = self.wait().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[derive(Clone, Copy)]
enum Signal {
    Interrupt,
    Terminate,
    Kill,
}

fn exit_status_failure() -> ExitStatus {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        ExitStatus::from_raw(1 << 8)
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::ExitStatusExt;
        ExitStatus::from_raw(1)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn exit_codes_and_signals() {
        // Variables read from `.env.local` reach the command.
        let mut env = Env::default();
        env.merge_dotenv(
            std::path::Path::new(".env.local"),
            "DEV_START_TEST=from-env\n",
        );
        let mut ok = ShellChild::spawn("test \"$DEV_START_TEST\" = from-env", &env).unwrap();
        let status = ok.wait().await;
        assert_eq!(ok.failure(status), None);

        let mut bad = ShellChild::spawn("exit 3", &env).unwrap();
        let status = bad.wait().await;
        assert_eq!(
            bad.failure(status).as_deref(),
            Some("Command `exit 3` exited with code 3")
        );

        // A group: the shell and its child both go.
        let mut long = ShellChild::spawn("sleep 30 & wait", &env).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        long.interrupt();
        tokio::time::timeout(Duration::from_secs(5), long.stop())
            .await
            .unwrap();
        let status = long.try_status().unwrap();
        assert_eq!(
            long.failure(status),
            None,
            "stopped by a signal: {status:?}"
        );
        assert!(!long.group_alive(), "the shell's child is gone too");
    }
}

#[cfg(all(test, windows))]
mod windows_tests {
    use super::*;

    #[tokio::test]
    async fn exit_codes_and_the_whole_job_stopped() {
        let mut env = Env::default();
        env.merge_dotenv(
            std::path::Path::new(".env.local"),
            "DEV_START_TEST=from-env\n",
        );
        // The command line reaches cmd as written (quotes included).
        let mut ok = ShellChild::spawn(
            "if \"%DEV_START_TEST%\"==\"from-env\" (exit 0) else (exit 7)",
            &env,
        )
        .unwrap();
        let status = ok.wait().await;
        assert_eq!(ok.failure(status), None, "{status:?}");

        let mut bad = ShellChild::spawn("exit 3", &env).unwrap();
        let status = bad.wait().await;
        assert_eq!(
            bad.failure(status).as_deref(),
            Some("Command `exit 3` exited with code 3")
        );

        // cmd and the ping it starts are both in the job, and both go.
        let mut long = ShellChild::spawn("ping -n 60 127.0.0.1 >NUL", &env).unwrap();
        let started = std::time::Instant::now();
        while long.job.as_ref().unwrap().active_processes().unwrap() < 2 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "ping never started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        long.interrupt();
        // ping shows statistics on Ctrl-Break and goes on: this also covers the
        // escalation to ending the job.
        tokio::time::timeout(Duration::from_secs(30), long.stop())
            .await
            .unwrap();
        assert!(long.try_status().is_some());
        assert!(!long.group_alive(), "the shell's child is gone too");
    }
}
