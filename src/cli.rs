//! The command tree. Every flag of every native command is declared here or in
//! the `Args` struct of its command module.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "convex", version = crate::REFERENCE_VERSION, disable_help_subcommand = false)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log out of Convex on this machine
    Logout,
}

pub fn main() -> ExitCode {
    let _cli = Cli::parse();
    ExitCode::SUCCESS
}
