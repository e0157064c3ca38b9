//! The command tree. Every flag of every native command is declared here or in
//! the `Args` struct of its command module.
//!
//! Every command of the official CLI 1.48.0 is native. One flag still runs
//! the project's official CLI ([`crate::forward`], with its reason in
//! docs/compatibility.md): the hidden `dev --debug-node-apis` diagnostic.
//! Anything the tree does not know is a usage error, never a Node start. The hidden `completion`
//! command is ours alone (the official CLI has none).
//!
//! Usage errors exit 1 (not clap's 2), `--help` goes to stdout with exit 0 and
//! `--version` prints the reference version alone, as the official CLI does.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::ffi::OsString;
use std::process::ExitCode;

use crate::commands;

/// Start developing with Convex by running `npx convex dev`.
#[derive(Debug, Parser)]
#[command(
    name = "convex",
    bin_name = "convex",
    disable_version_flag = true,
    arg_required_else_help = true,
    args_override_self = true,
    override_usage = "convex <command> [options]"
)]
pub struct Cli {
    /// Print the version
    #[arg(short = 'V', long = "version", action = clap::ArgAction::SetTrue)]
    pub version: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Develop against a dev deployment, watching for changes
    Dev(commands::dev::Args),
    /// Deploy to a production or preview deployment
    Deploy(commands::deploy::Args),
    /// Login to Convex
    #[command(hide = true)]
    Login(commands::login::Args),
    /// Log out of Convex on this machine
    Logout(commands::logout::Args),
    /// Manage deployments
    Deployment(commands::deployment::Args),
    /// Generate backend type definitions
    Codegen(commands::codegen::Args),
    /// Export data from your deployment to a ZIP file
    Export(commands::export::Args),
    /// Import data from a file to your deployment
    Import(commands::import::Args),
    // Not in the official CLI, so hidden from `--help` (see
    // `commands::completion`).
    #[command(hide = true)]
    Completion(commands::completion::Args),

    /// Run a function (query, mutation, or action) on your deployment
    Run(commands::run::Args),
    /// Open the dashboard in the browser
    #[command(alias = "dash")]
    Dashboard(commands::dashboard::Args),
    /// Open the docs in the browser
    Docs(commands::docs::Args),
    /// Watch logs from your deployment
    Logs(commands::logs::Args),
    /// Set and view environment variables
    Env(commands::env::Args),
    /// List tables and print data from your database
    Data(commands::data::Args),
    /// Manage projects
    Project(commands::project::Args),
    /// Print instructions for updating the convex package
    Update(commands::update::Args),
    /// List function metadata from your deployment
    #[command(name = "function-spec")]
    FunctionSpec(commands::function_spec::Args),
    /// Show insights about your deployment
    Insights(commands::insights::Args),
    /// Manage the Model Context Protocol server for Convex [BETA]
    Mcp(commands::mcp::Args),
    /// Manage Convex AI files
    #[command(name = "ai-files")]
    AiFiles(commands::ai_files::Args),
    #[command(hide = true)]
    Init(commands::init::Args),
    #[command(hide = true)]
    Reinit(commands::reinit::Args),
    #[command(hide = true)]
    Deployments(commands::deployments::Args),
    #[command(hide = true)]
    Typecheck(commands::typecheck::Args),
    #[command(hide = true)]
    Auth(commands::auth::Args),
    #[command(hide = true, name = "network-test")]
    NetworkTest(commands::network_test::Args),
    #[command(hide = true)]
    Integration(commands::integration::Args),
}

/// What `main` should do after parsing.
pub enum Parsed {
    /// Run a command.
    Run(Box<Command>),
    /// Stop now with this exit code (help, version and usage errors were
    /// printed already).
    Exit(u8),
}

/// Parse `argv` (including the program name). Prints help/version/usage
/// errors itself.
pub fn parse(argv: Vec<OsString>) -> Parsed {
    // `help help` names no command of the official CLI: a usage error.
    if argv.len() >= 3 && argv[1] == "help" && argv[2] == "help" {
        eprintln!("error: unknown command 'help'\n");
        let _ = Cli::command().write_help(&mut std::io::stderr());
        return Parsed::Exit(1);
    }
    let mut command = with_required_values_taking_any_argument(Cli::command());
    let matches = match command.clone().try_get_matches_from_mut(argv.clone()) {
        Ok(m) => m,
        Err(err) if err.kind() == clap::error::ErrorKind::UnknownArgument => {
            // The official parser shows the requested help before it
            // complains about unknown options (`create --bogus --help`).
            if let Some(help_argv) = help_request(&command, &argv)
                && let Err(help) = command.try_get_matches_from_mut(help_argv)
            {
                return Parsed::Exit(print_clap_error(help));
            }
            return Parsed::Exit(print_clap_error(err));
        }
        Err(err) => return Parsed::Exit(print_clap_error(err)),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => return Parsed::Exit(print_clap_error(err)),
    };
    if cli.version {
        println!("{}", crate::REFERENCE_VERSION);
        return Parsed::Exit(0);
    }
    match cli.command {
        Some(c) => Parsed::Run(Box::new(c)),
        None => {
            let _ = Cli::command().write_help(&mut std::io::stderr());
            Parsed::Exit(1)
        }
    }
}

/// As the official parser, an option that needs a value takes the next
/// argument whatever it looks like (`--message -x`, `--deployment -prod`);
/// an optional value (`--save-env [path]`) is still never a `-…` argument.
fn with_required_values_taking_any_argument(command: clap::Command) -> clap::Command {
    command
        .mut_args(|arg| {
            let needs_value = arg.get_action().takes_values()
                && arg.get_num_args().is_none_or(|n| n.min_values() >= 1);
            if !arg.is_positional() && needs_value {
                arg.allow_hyphen_values(true)
            } else {
                arg
            }
        })
        .mut_subcommands(with_required_values_taking_any_argument)
}

/// When `argv` asks for help (`-h` / `--help` before `--`), the arguments
/// that show the help of the subcommand it names.
fn help_request(command: &clap::Command, argv: &[OsString]) -> Option<Vec<OsString>> {
    let args = argv.iter().skip(1).take_while(|a| *a != "--");
    if !args.clone().any(|a| a == "--help" || a == "-h") {
        return None;
    }
    let mut help_argv = vec![argv.first()?.clone()];
    let mut current = command;
    for arg in args {
        let Some(name) = arg.to_str() else { continue };
        if let Some(sub) = current.find_subcommand(name) {
            help_argv.push(arg.clone());
            current = sub;
        }
    }
    help_argv.push("--help".into());
    Some(help_argv)
}

fn print_clap_error(err: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            0
        }
        ErrorKind::MissingRequiredArgument => {
            // Word it as the official CLI does ("missing required argument
            // 'name'"), then clap's usage and hint.
            let rendered = err.render().to_string();
            let names: Vec<String> = match err.get(clap::error::ContextKind::InvalidArg) {
                Some(clap::error::ContextValue::Strings(names)) => names.clone(),
                Some(clap::error::ContextValue::String(name)) => vec![name.clone()],
                _ => Vec::new(),
            };
            let rest = rendered
                .find("Usage:")
                .map(|i| &rendered[i..])
                .unwrap_or("");
            for name in &names {
                let bare = name.trim_start_matches('<').trim_end_matches('>');
                eprintln!("error: missing required argument '{bare}'");
            }
            if names.is_empty() {
                let _ = err.print();
            } else {
                eprint!("\n{rest}");
            }
            1
        }
        _ => {
            // Usage errors (and help shown because arguments are missing) go
            // to stderr and exit 1, as the official CLI's parser does.
            let _ = err.print();
            1
        }
    }
}

/// Dispatch a parsed command.
pub fn run(command: Command) -> ExitCode {
    use Command as C;
    let result = match command {
        C::Dev(args) => commands::dev::run(args),
        C::Deploy(args) => commands::deploy::run(args),
        C::Login(args) => commands::login::run(args),
        C::Logout(args) => commands::logout::run(args),
        C::Deployment(args) => commands::deployment::run(args),
        C::Codegen(args) => commands::codegen::run(args),
        C::Project(args) => commands::project::run(args),
        C::Init(args) => commands::init::run(args),
        C::Reinit(args) => commands::reinit::run(args),
        C::Deployments(args) => commands::deployments::run(args),
        C::Dashboard(args) => commands::dashboard::run(args),
        C::Docs(args) => commands::docs::run(args),
        C::Update(args) => commands::update::run(args),
        C::Auth(args) => commands::auth::run(args),
        C::Typecheck(args) => commands::typecheck::run(args),
        C::AiFiles(args) => commands::ai_files::run(args),
        C::Mcp(args) => commands::mcp::run(args),
        C::Integration(args) => commands::integration::run(args),
        C::NetworkTest(args) => commands::network_test::run(args),
        C::Export(args) => commands::export::run(args),
        C::Import(args) => commands::import::run(args),
        C::Completion(args) => commands::completion::run(args),
        C::Run(args) => commands::run::run(args),
        C::Logs(args) => commands::logs::run(args),
        C::Env(args) => commands::env::run(args),
        C::Data(args) => commands::data::run(args),
        C::FunctionSpec(args) => commands::function_spec::run(args),
        C::Insights(args) => commands::insights::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => ExitCode::from(crate::error::report_and_exit_code(&err)),
    }
}

/// Whether `argv` (with the program name) asks for the version. As in the
/// official CLI's parser, `--version` / `-V` is a program-wide option that
/// wins wherever it stands before `--` (`convex deploy --version`,
/// `convex --help -V`), even after unknown flags.
fn asks_for_version(argv: &[OsString]) -> bool {
    argv.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--version" || a == "-V")
}

/// Entry point used by `main`: fast path for `--version`, then parse and run.
pub fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    // `--version` must not build a runtime or read any file.
    if asks_for_version(&argv) {
        println!("{}", crate::REFERENCE_VERSION);
        return ExitCode::SUCCESS;
    }
    match parse(argv) {
        Parsed::Exit(code) => ExitCode::from(code),
        Parsed::Run(command) => {
            if matches!(
                *command,
                Command::Dev(_) | Command::Deploy(_) | Command::Codegen(_)
            ) {
                // SAFETY: no thread has started yet.
                unsafe { crate::bundler::raise_esbuild_gc_target() };
            }
            run(*command)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(args: &[&str]) -> Command {
        let mut argv = vec!["convex"];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv).expect("parses");
        cli.command.expect("has a command")
    }

    #[test]
    fn required_values_may_start_with_a_dash() {
        let argv = |args: &[&str]| -> Vec<OsString> {
            std::iter::once("convex")
                .chain(args.iter().copied())
                .map(OsString::from)
                .collect()
        };
        match parse(argv(&["deploy", "--message", "-x", "--cmd", "-v"])) {
            Parsed::Run(command) => match *command {
                Command::Deploy(d) => {
                    assert_eq!(d.message.as_deref(), Some("-x"));
                    assert_eq!(d.cmd.as_deref(), Some("-v"));
                }
                _ => panic!("not deploy"),
            },
            Parsed::Exit(code) => panic!("exit {code}"),
        }
        // An optional value never takes a flag-like argument.
        assert!(matches!(
            parse(argv(&[
                "deployment",
                "token",
                "create",
                "n",
                "--save-env",
                "-x"
            ])),
            Parsed::Exit(1)
        ));
    }

    #[test]
    fn version_flag_wins_anywhere_before_double_dash() {
        let argv = |args: &[&str]| -> Vec<OsString> {
            std::iter::once("convex")
                .chain(args.iter().copied())
                .map(OsString::from)
                .collect()
        };
        assert!(asks_for_version(&argv(&["--version"])));
        assert!(asks_for_version(&argv(&["deploy", "--version"])));
        assert!(asks_for_version(&argv(&["--help", "-V"])));
        assert!(asks_for_version(&argv(&["logout", "--bogus", "--version"])));
        assert!(!asks_for_version(&argv(&["dev", "--", "--version"])));
        assert!(!asks_for_version(&argv(&["deploy", "--version=1"])));
        assert!(!asks_for_version(&argv(&["deploy"])));
    }

    #[test]
    fn tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn token_create_save_env_takes_an_optional_path() {
        match parse_ok(&["deployment", "token", "create", "n", "--save-env"]) {
            Command::Deployment(d) => match d.command {
                commands::deployment::Sub::Token(t) => match t.command {
                    commands::deployment::TokenSub::Create(c) => {
                        assert_eq!(c.name, "n");
                        assert_eq!(c.save_env, Some(None));
                    }
                    _ => panic!(),
                },
                _ => panic!(),
            },
            _ => panic!(),
        }
        match parse_ok(&[
            "deployment",
            "token",
            "create",
            "--save-env",
            ".env.ci",
            "n",
        ]) {
            Command::Deployment(d) => match d.command {
                commands::deployment::Sub::Token(t) => match t.command {
                    commands::deployment::TokenSub::Create(c) => {
                        assert_eq!(c.save_env, Some(Some(".env.ci".to_string())));
                        assert_eq!(c.name, "n");
                    }
                    _ => panic!(),
                },
                _ => panic!(),
            },
            _ => panic!(),
        }
    }

    #[test]
    fn repeated_flags_take_the_last_value() {
        match parse_ok(&[
            "deployment",
            "token",
            "delete",
            "k",
            "--deployment",
            "a",
            "--deployment",
            "b",
        ]) {
            Command::Deployment(d) => match d.command {
                commands::deployment::Sub::Token(t) => match t.command {
                    commands::deployment::TokenSub::Delete(c) => {
                        assert_eq!(c.selection.deployment.as_deref(), Some("b"))
                    }
                    _ => panic!(),
                },
                _ => panic!(),
            },
            _ => panic!(),
        }
    }

    #[test]
    fn mcp_start_flags_parse() {
        match parse_ok(&["mcp", "start", "--disable-tools", "data,logs", "--prod"]) {
            Command::Mcp(m) => match m.command {
                commands::mcp::Sub::Start(s) => {
                    assert_eq!(s.disable_tools.as_deref(), Some("data,logs"));
                    assert!(s.selection.prod);
                }
            },
            _ => panic!(),
        }
        assert!(matches!(parse_ok(&["dash"]), Command::Dashboard(_)));
    }

    #[test]
    fn dev_and_deploy_flags_parse() {
        match parse_ok(&["dev", "--once", "--tail-logs", "--typecheck", "disable"]) {
            Command::Dev(a) => {
                assert!(a.once);
                assert_eq!(a.tail_logs, Some(None));
                assert_eq!(a.typecheck, commands::TypecheckMode::Disable);
            }
            _ => panic!(),
        }
        match parse_ok(&[
            "deploy",
            "--cmd",
            "vite build",
            "--cmd-url-env-var-name",
            "VITE_CONVEX_URL",
            "-y",
        ]) {
            Command::Deploy(a) => {
                assert_eq!(a.cmd.as_deref(), Some("vite build"));
                assert!(a.yes);
                assert_eq!(a.codegen, commands::CodegenMode::Enable);
            }
            _ => panic!(),
        }
        assert!(Cli::try_parse_from(["convex", "dev", "--typecheck", "nope"]).is_err());
    }
}
