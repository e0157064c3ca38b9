//! Long-lived helper processes (the warm TypeScript checker and what it
//! starts) that must not outlive the CLI.
//!
//! - Unix (Linux, macOS): the helper leads its own process group, so the
//!   terminal's Ctrl-C does not reach it half-way through a check, and
//!   [`ProcessGroup::kill`] (also run on drop) ends the whole group with
//!   SIGKILL, grandchildren included.
//! - Windows: the helper is put in a job object that kills every process
//!   in it when its last handle closes: on drop, and when the CLI itself
//!   ends in any way (the handle is the CLI's).
//!
//! If the CLI is killed outright (SIGKILL on Unix) nothing here runs; the
//! helpers then see their standard input close and exit on their own.

use std::process::Stdio;

/// Puts the command in a group of its own (Unix) and pipes its standard
/// streams.
pub fn prepare(command: &mut tokio::process::Command) {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    #[cfg(windows)]
    {
        // No console window for the helper; Ctrl-C in the CLI's console
        // is not delivered to it (the CLI stops it).
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        command.creation_flags(CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP);
    }
}

/// The group of a started helper; dropping it kills every process in it.
#[derive(Debug)]
pub struct ProcessGroup {
    #[cfg(unix)]
    pgid: Option<i32>,
    #[cfg(windows)]
    job: Option<windows::Job>,
}

impl ProcessGroup {
    /// Takes charge of `child`, started with a command [`prepare`]d.
    pub fn adopt(child: &tokio::process::Child) -> ProcessGroup {
        #[cfg(unix)]
        {
            ProcessGroup {
                pgid: child.id().map(|id| id as i32),
            }
        }
        #[cfg(windows)]
        {
            ProcessGroup {
                job: child.raw_handle().and_then(windows::Job::containing),
            }
        }
        #[cfg(not(any(unix, windows)))]
        {
            let _ = child;
            ProcessGroup {}
        }
    }

    /// Kills every process of the group (idempotent).
    pub fn kill(&mut self) {
        #[cfg(unix)]
        if let Some(pgid) = self.pgid.take()
            && pgid > 0
        {
            // SAFETY: kill(2) with a negative pid signals that process group;
            // it has no memory-safety preconditions.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
        #[cfg(windows)]
        if let Some(job) = self.job.take() {
            job.terminate();
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(windows)]
mod windows {
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
        SetInformationJobObject, TerminateJobObject,
    };

    /// A job object that kills its processes when its handle closes.
    #[derive(Debug)]
    pub struct Job(HANDLE);

    // SAFETY: a job handle may be used and closed from any thread.
    unsafe impl Send for Job {}
    unsafe impl Sync for Job {}

    impl Job {
        /// A new job holding the process `process` (a process handle).
        pub fn containing(process: std::os::windows::io::RawHandle) -> Option<Job> {
            // SAFETY: plain Win32 calls on handles we own or were given; every
            // pointer passed points to a live, correctly sized value.
            unsafe {
                let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
                if job.is_null() {
                    return None;
                }
                let job = Job(job);
                let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
                info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
                let set = SetInformationJobObject(
                    job.0,
                    JobObjectExtendedLimitInformation,
                    &info as *const _ as *const core::ffi::c_void,
                    std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                );
                if set == 0 || AssignProcessToJobObject(job.0, process as HANDLE) == 0 {
                    return None;
                }
                Some(job)
            }
        }

        pub fn terminate(self) {
            // SAFETY: the handle is ours; dropping closes it.
            unsafe {
                TerminateJobObject(self.0, 1);
            }
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: the handle is ours and closed once; with
            // KILL_ON_JOB_CLOSE this ends the processes still in the job.
            unsafe {
                CloseHandle(self.0);
            }
        }
    }
}
