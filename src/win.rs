//! Windows counterparts of the Unix process and file facilities the CLI uses
//! (compiled on Windows only; the Unix side lives next to each caller).
//!
//! | Unix | Windows, here |
//! | --- | --- |
//! | a process group (`setpgid`), `kill(-pgid, SIGKILL)` | a [`Job`] object: every process the child starts joins it, [`Job::terminate`] ends them all, [`Job::active_processes`] says whether any is left |
//! | `PR_SET_PDEATHSIG` (Linux): children die with the CLI | a [`Job`] created with kill-on-close: when the CLI exits in any way, its handle closes and the system ends the job's processes |
//! | `kill(-pgid, SIGINT or SIGTERM)` | [`send_ctrl_break`] to the child's console process group (`CREATE_NEW_PROCESS_GROUP`); Ctrl-C cannot be aimed at one group, Ctrl-Break can, and its default action ends the process |
//! | `exec` (the CLI becomes the child) | [`ignore_console_control_events`] while the child runs in the same console (it gets Ctrl-C itself), then exit with its code |
//! | `dev` and `ino` of a file | [`file_identity`]: volume serial number and file index |
//!
//! A child is put into its job before it runs any code: it is created
//! suspended ([`CREATE_SUSPENDED_GROUP`]) and resumed by [`Job::adopt`], so
//! nothing it starts can escape the job.
#![cfg(windows)]

use std::io;
use std::os::windows::io::RawHandle;
use std::path::Path;

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Storage::FileSystem::{
    BY_HANDLE_FILE_INFORMATION, FILE_FLAG_BACKUP_SEMANTICS, GetFileInformationByHandle,
};
use windows_sys::Win32::System::Console::{
    CTRL_BREAK_EVENT, GenerateConsoleCtrlEvent, SetConsoleCtrlHandler,
};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, TH32CS_SNAPTHREAD, THREADENTRY32, Thread32First, Thread32Next,
};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JobObjectBasicAccountingInformation, JobObjectExtendedLimitInformation,
    QueryInformationJobObject, SetInformationJobObject, TerminateJobObject,
};
use windows_sys::Win32::System::Threading::{
    CREATE_NEW_PROCESS_GROUP, CREATE_SUSPENDED, OpenThread, ResumeThread, THREAD_SUSPEND_RESUME,
};

/// Creation flags of a child that gets its own console process group (so
/// Ctrl-Break can be sent to it alone) and starts suspended, to be put into
/// a [`Job`] with [`Job::adopt`] before it runs.
pub const CREATE_SUSPENDED_GROUP: u32 = CREATE_NEW_PROCESS_GROUP | CREATE_SUSPENDED;

/// The exit code of a process ended by the default Ctrl-C / Ctrl-Break
/// handler (`STATUS_CONTROL_C_EXIT`): what "killed by a signal" looks like on
/// Windows. Also the code [`Job::terminate`] callers give the processes.
pub const STATUS_CONTROL_C_EXIT: u32 = 0xC000_013A;

/// A job object (see the module docs). Closing it (drop) ends its processes
/// only if it was created with `kill_on_close`.
#[derive(Debug)]
pub struct Job(HANDLE);

// SAFETY: a job handle may be used from any thread; the calls made with it
// are thread-safe kernel calls.
unsafe impl Send for Job {}
// SAFETY: as above; no method mutates the wrapper itself.
unsafe impl Sync for Job {}

impl Job {
    /// A new, unnamed job. With `kill_on_close`, the system ends every
    /// process of the job when the last handle to it closes (when this
    /// process exits, at the latest).
    pub fn new(kill_on_close: bool) -> io::Result<Job> {
        // SAFETY: no security attributes, no name.
        let handle = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
        if handle.is_null() {
            return Err(io::Error::last_os_error());
        }
        let job = Job(handle);
        if kill_on_close {
            // SAFETY: a plain C struct; all-zero is its "no limits" value.
            let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
            info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            // SAFETY: `info` is the structure this information class names,
            // with its size.
            let ok = unsafe {
                SetInformationJobObject(
                    job.0,
                    JobObjectExtendedLimitInformation,
                    (&raw const info).cast(),
                    size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                )
            };
            if ok == 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(job)
    }

    /// Puts the process `process` (a handle with the usual rights of a
    /// child's handle) into the job.
    pub fn assign(&self, process: RawHandle) -> io::Result<()> {
        // SAFETY: both handles are valid for the duration of the call.
        if unsafe { AssignProcessToJobObject(self.0, process as HANDLE) } == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// For a child created with [`CREATE_SUSPENDED_GROUP`]: puts it into
    /// the job, then lets it run. The child runs even if it could not join
    /// the job (that error is returned, for the caller to log); an error to
    /// resume it is returned too, and then the child must be killed.
    pub fn adopt(&self, process: RawHandle, pid: u32) -> AdoptResult {
        let assigned = self.assign(process);
        let resumed = resume_threads(pid);
        AdoptResult { assigned, resumed }
    }

    /// Ends every process of the job with `exit_code`.
    pub fn terminate(&self, exit_code: u32) -> io::Result<()> {
        // SAFETY: a valid job handle.
        if unsafe { TerminateJobObject(self.0, exit_code) } == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// How many processes of the job are still running.
    pub fn active_processes(&self) -> io::Result<u32> {
        // SAFETY: a plain C struct, filled in by the call.
        let mut info: JOBOBJECT_BASIC_ACCOUNTING_INFORMATION = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is the structure this information class names,
        // with its size.
        let ok = unsafe {
            QueryInformationJobObject(
                self.0,
                JobObjectBasicAccountingInformation,
                (&raw mut info).cast(),
                size_of::<JOBOBJECT_BASIC_ACCOUNTING_INFORMATION>() as u32,
                std::ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(info.ActiveProcesses)
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // SAFETY: the handle is ours and closed once.
        unsafe {
            CloseHandle(self.0);
        }
    }
}

/// What [`Job::adopt`] did.
#[must_use]
pub struct AdoptResult {
    /// Whether the child joined the job.
    pub assigned: io::Result<()>,
    /// Whether the child was let run.
    pub resumed: io::Result<()>,
}

/// Resumes the threads of process `pid` (a child created suspended has one).
fn resume_threads(pid: u32) -> io::Result<()> {
    // SAFETY: a snapshot of all threads; closed below.
    let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) };
    if snapshot == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a plain C struct; dwSize is set as the API requires.
    let mut entry: THREADENTRY32 = unsafe { std::mem::zeroed() };
    entry.dwSize = size_of::<THREADENTRY32>() as u32;
    let mut resumed = 0;
    let mut failure = None;
    // SAFETY: `snapshot` is valid and `entry` has its size set.
    let mut more = unsafe { Thread32First(snapshot, &raw mut entry) } != 0;
    while more {
        if entry.th32OwnerProcessID == pid {
            // SAFETY: opening a thread by id; the handle is closed below.
            let thread = unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, entry.th32ThreadID) };
            if thread.is_null() {
                failure = Some(io::Error::last_os_error());
            } else {
                // SAFETY: a thread handle with THREAD_SUSPEND_RESUME.
                if unsafe { ResumeThread(thread) } == u32::MAX {
                    failure = Some(io::Error::last_os_error());
                } else {
                    resumed += 1;
                }
                // SAFETY: the handle opened above.
                unsafe {
                    CloseHandle(thread);
                }
            }
        }
        // SAFETY: as for Thread32First.
        more = unsafe { Thread32Next(snapshot, &raw mut entry) } != 0;
    }
    // SAFETY: the snapshot handle opened above.
    unsafe {
        CloseHandle(snapshot);
    }
    match (resumed, failure) {
        (0, Some(err)) => Err(err),
        (0, None) => Err(io::Error::other(format!(
            "process {pid} has no thread to resume"
        ))),
        _ => Ok(()),
    }
}

/// Sends Ctrl-Break to the console process group `group` (the pid of a
/// process created with `CREATE_NEW_PROCESS_GROUP`). Fails when this
/// process has no console shared with the group (then the caller ends the
/// processes another way).
pub fn send_ctrl_break(group: u32) -> io::Result<()> {
    if group == 0 {
        // 0 would mean every process of this console, this one included.
        return Err(io::Error::other("no process group to signal"));
    }
    // SAFETY: plain call; the group id is a pid.
    if unsafe { GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, group) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// From now on this process ignores Ctrl-C, Ctrl-Break and the console's
/// close button: for the time a child runs in the same console in its
/// place (the child gets those events itself and decides; this process
/// then exits with the child's code, as after `exec`).
pub fn ignore_console_control_events() -> io::Result<()> {
    unsafe extern "system" fn handled(_event: u32) -> windows_sys::core::BOOL {
        1
    }
    // SAFETY: registers a handler that touches nothing.
    if unsafe { SetConsoleCtrlHandler(Some(handled), 1) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The volume serial number and file index of `path`: what `dev` and `ino`
/// are on Unix (a file replaced by another under the same name has another
/// index, whatever its size and times).
pub fn file_identity(path: &Path) -> Option<(u32, u64)> {
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::AsRawHandle;
    // No access rights are needed to read the information; backup
    // semantics let the same call open a directory.
    let file = std::fs::OpenOptions::new()
        .access_mode(0)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
        .open(path)
        .ok()?;
    // SAFETY: a plain C struct, filled in by the call.
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: the handle is open for the duration of the call.
    if unsafe { GetFileInformationByHandle(file.as_raw_handle() as HANDLE, &raw mut info) } == 0 {
        return None;
    }
    let index = (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow);
    Some((info.dwVolumeSerialNumber, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_identity_changes_when_a_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.ts");
        std::fs::write(&path, "one").unwrap();
        let first = file_identity(&path).unwrap();
        assert_eq!(file_identity(&path), Some(first), "stable while unchanged");
        let other = dir.path().join("b.ts");
        std::fs::write(&other, "two").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_ne!(file_identity(&path), Some(first), "a replaced file");
        assert_eq!(file_identity(&dir.path().join("missing")), None);
    }

    #[test]
    fn a_job_ends_every_process_it_holds() {
        use std::os::windows::io::AsRawHandle;
        use std::os::windows::process::CommandExt;
        let job = Job::new(true).unwrap();
        // cmd starts ping: two processes, both in the job.
        let mut child = std::process::Command::new("cmd")
            .args(["/d", "/c", "ping -n 60 127.0.0.1 >NUL"])
            .creation_flags(CREATE_SUSPENDED_GROUP)
            .spawn()
            .unwrap();
        let adopted = job.adopt(child.as_raw_handle(), child.id());
        adopted.assigned.unwrap();
        adopted.resumed.unwrap();
        let start = std::time::Instant::now();
        while job.active_processes().unwrap() < 2 {
            assert!(start.elapsed().as_secs() < 20, "ping never started");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        job.terminate(STATUS_CONTROL_C_EXIT).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(STATUS_CONTROL_C_EXIT as i32));
        let start = std::time::Instant::now();
        while job.active_processes().unwrap() > 0 {
            assert!(start.elapsed().as_secs() < 20, "ping outlived the job");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
