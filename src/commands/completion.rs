//! `convex completion <shell>`: prints a completion script for bash, zsh,
//! fish or PowerShell, generated from the clap command tree (`clap_complete`),
//! so it always matches the commands and flags this binary accepts.
//!
//! The official CLI has no such command; it is hidden from `convex --help` so
//! that the help text stays the official one (see docs/compatibility.md).

use std::io::Write;

use anyhow::Context as _;
use clap::CommandFactory;

/// Print a shell completion script
#[derive(Debug, Clone, clap::Args)]
#[command(
    args_override_self = true,
    after_long_help = "Load it once in the current shell, or add the line to your shell's start-up file:\n  \
        bash:       source <(convex completion bash)        (~/.bashrc)\n  \
        zsh:        source <(convex completion zsh)         (~/.zshrc, after compinit)\n  \
        fish:       convex completion fish | source         (~/.config/fish/config.fish)\n  \
        PowerShell: convex completion powershell | Out-String | Invoke-Expression   ($PROFILE)"
)]
pub struct Args {
    /// The shell to print the script for
    #[arg(value_enum, value_name = "shell")]
    pub shell: Shell,
}

/// The shells a script can be printed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    #[value(alias = "pwsh")]
    Powershell,
}

impl Shell {
    fn generator(self) -> clap_complete::Shell {
        match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
            Shell::Powershell => clap_complete::Shell::PowerShell,
        }
    }
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut command = visible(&crate::cli::Cli::command());
    let mut out = Vec::new();
    clap_complete::generate(shell.generator(), &mut command, "convex", &mut out);
    out
}

/// `command` with only what `--help` shows: the generators list hidden
/// subcommands too (the official CLI's hidden `init`, `reinit`, ... and
/// `completion` itself), and clap cannot remove a subcommand, so the tree
/// is copied without them: names, descriptions, arguments, visible aliases.
fn visible(command: &clap::Command) -> clap::Command {
    let mut copy = clap::Command::new(command.get_name().to_string())
        .visible_aliases(command.get_visible_aliases().map(str::to_string))
        .args(command.get_arguments().cloned());
    if let Some(about) = command.get_about() {
        copy = copy.about(about.clone());
    }
    if command.is_disable_help_flag_set() {
        copy = copy.disable_help_flag(true);
    }
    copy.subcommands(
        command
            .get_subcommands()
            .filter(|sub| !sub.is_hide_set())
            .map(visible),
    )
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let script = script(args.shell);
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&script).and_then(|()| stdout.flush()) {
        // `convex completion bash | head` is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("Could not write the completion script to stdout"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(shell: Shell) -> String {
        String::from_utf8(script(shell)).unwrap()
    }

    #[test]
    fn scripts_name_the_commands_and_flags_of_the_tree() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Powershell] {
            let s = text(shell);
            for word in ["deploy", "dev", "deployment", "token", "preview-create"] {
                assert!(s.contains(word), "{shell:?} script lacks {word}");
            }
        }
        // Shell-specific entry points, so a script is really for its shell.
        assert!(text(Shell::Bash).contains("complete -F _convex"));
        assert!(text(Shell::Zsh).starts_with("#compdef convex"));
        assert!(text(Shell::Fish).contains("complete -c convex"));
        assert!(text(Shell::Powershell).contains("Register-ArgumentCompleter"));
    }

    #[test]
    fn hidden_commands_stay_out_of_the_scripts() {
        // `init` and `completion` itself are hidden, as in `--help`.
        let s = text(Shell::Fish);
        assert!(
            !s.contains("\"init\"") && !s.contains(" -a \"init\""),
            "{s}"
        );
        assert!(!s.contains("-a \"completion\""), "{s}");
    }
}
