//! Requests to stop, from the terminal or the system, per platform, for the
//! commands that clean up before they exit (`dev`, and commands that started
//! a local backend):
//!
//! | | Unix | Windows |
//! | --- | --- | --- |
//! | [`Stop::Interrupt`] | SIGINT (Ctrl-C) | Ctrl-C |
//! | [`Stop::Terminate`] | SIGTERM | Ctrl-Break, the console window closed |
//!
//! After cleaning up, an interrupted command exits with 130 (as the official
//! CLI does everywhere); a terminated one ends the way the default action
//! would have ended it ([`end_as_terminated`]): killed by SIGTERM on Unix (a
//! shell shows 143), `STATUS_CONTROL_C_EXIT` on Windows.

/// What was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Interrupt,
    Terminate,
}

/// Waits for the next request to stop. Listening starts at the first poll;
/// if the handlers cannot be installed it never returns (the default
/// actions then apply).
pub async fn next() -> Stop {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            return tokio::select! {
                _ = interrupt.recv() => Stop::Interrupt,
                _ = terminate.recv() => Stop::Terminate,
            };
        }
        std::future::pending().await
    }
    #[cfg(windows)]
    {
        use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close};
        if let (Ok(mut interrupt), Ok(mut brk), Ok(mut close)) =
            (ctrl_c(), ctrl_break(), ctrl_close())
        {
            return tokio::select! {
                _ = interrupt.recv() => Stop::Interrupt,
                _ = brk.recv() => Stop::Terminate,
                _ = close.recv() => Stop::Terminate,
            };
        }
        std::future::pending().await
    }
}

/// The exit code for `stop` when the process exits by itself after its
/// cleanup (with `std::process::exit`).
pub fn exit_code(stop: Stop) -> i32 {
    match stop {
        Stop::Interrupt => i32::from(crate::error::EXIT_INTERRUPTED),
        #[cfg(unix)]
        Stop::Terminate => 143,
        #[cfg(windows)]
        Stop::Terminate => crate::win::STATUS_CONTROL_C_EXIT as i32,
    }
}

/// After the cleanup that followed [`Stop::Terminate`]: end the process the
/// way the default action ends it, so a parent sees "terminated by signal
/// 15" on Unix and `STATUS_CONTROL_C_EXIT` on Windows. Returns only if the
/// signal could not be raised (the caller then exits with 143).
pub fn end_as_terminated() {
    use std::io::Write;
    let _ = std::io::stderr().flush();
    let _ = std::io::stdout().flush();
    #[cfg(unix)]
    // SAFETY: restoring the default action and raising the signal is the
    // documented way to terminate by a signal after handling it.
    unsafe {
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
        libc::raise(libc::SIGTERM);
    }
    #[cfg(windows)]
    std::process::exit(exit_code(Stop::Terminate));
}
