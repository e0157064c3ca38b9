//! A user's command line (`deploy --cmd`, `dev --start` / `--run-sh`) run
//! through the system shell, as Node's `spawn(line, { shell: true })` runs it
//! for the official CLI: `/bin/sh -c <line>` on Unix, and on Windows
//! `%ComSpec% /d /s /c "<line>"` passed verbatim (`/s` makes cmd strip just
//! the outer quotes, so the line's own quoting reaches cmd as written; the
//! usual argument escaping would turn its quotes into `\"`, which cmd does not
//! read).

use crate::env::Env;

/// The shell command for `line`; the caller sets stdio, the environment and
/// any process-group options.
pub fn command(line: &str, env: &Env) -> tokio::process::Command {
    #[cfg(unix)]
    {
        let _ = env;
        let mut command = tokio::process::Command::new("/bin/sh");
        command.arg("-c").arg(line);
        command
    }
    #[cfg(windows)]
    {
        let shell = env.non_empty(crate::env_vars::COMSPEC).unwrap_or("cmd.exe");
        let mut command = tokio::process::Command::new(shell);
        command
            .args(["/d", "/s", "/c"])
            .raw_arg(format!("\"{line}\""));
        command
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_line_reaches_the_shell_with_its_quotes() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.txt");
        // Quotes, spaces and a redirection, in each shell's own syntax.
        #[cfg(unix)]
        let (line, expected) = (
            format!("printf '%s' \"a  b\" > '{}'", out.display()),
            "a  b",
        );
        // cmd's echo keeps the quotes: they reached it unescaped.
        #[cfg(windows)]
        let (line, expected) = (
            format!("echo \"a  b\"> \"{}\"", out.display()),
            "\"a  b\"\r\n",
        );
        let status = command(&line, &Env::default()).status().await.unwrap();
        assert!(status.success());
        assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
        let status = command("exit 3", &Env::default()).status().await.unwrap();
        assert_eq!(status.code(), Some(3));
    }
}
