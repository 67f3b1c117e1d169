//! The `iamc` command-line front end (feature `cli`): one file per subcommand.

mod authorize;
mod bench;
mod compile;
mod load;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// iamc: compile AWS IAM policies into a decision engine and ask it questions.
///
/// iamc reads IAM JSON policies (identity-based, resource-based, permissions boundaries,
/// session policies, SCPs and RCPs) and decides requests exactly as AWS does: explicit deny
/// anywhere wins, then RCPs and SCPs must allow, then the identity and resource policies grant,
/// same-account and cross-account rules included.
#[derive(Parser, Debug)]
#[command(name = "iamc", version, about, long_about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Authorize(Box<authorize::Args>),
    Bench(Box<bench::Args>),
    Compile(Box<compile::Args>),
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Authorize(args) => authorize::run(*args),
        Command::Bench(args) => bench::run(*args),
        Command::Compile(args) => compile::run(*args),
    }
}
