//! The `iamc` command-line front end (feature `cli`): one file per subcommand.

mod analyze;
mod authorize;
mod bench;
mod check;
mod compile;
mod fmt;
mod gateway;
mod import;
mod load;
mod replay;
mod serve;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// iamc: compile AWS IAM policies into a decision engine and ask it questions.
///
/// iamc reads IAM JSON policies (identity-based, resource-based, permissions boundaries,
/// session policies, SCPs and RCPs) and decides requests exactly as AWS does: explicit deny
/// anywhere wins, then RCPs and SCPs must allow, then the identity and resource policies grant,
/// same-account and cross-account rules included.
#[derive(Parser, Debug)]
#[command(
    name = "iamc",
    version,
    about,
    long_about,
    propagate_version = true,
    after_long_help = "Exit codes: 0 success; 1 failure (policies with errors, a file that is not \
formatted, a store or server that could not start); 2 bad arguments. `iamc authorize` is the \
exception: it answers 2 for \"denied\", so its usage errors exit 1. Each verb's --help says \
more."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Authorize(Box<authorize::Args>),
    Bench(Box<bench::Args>),
    Check(Box<check::Args>),
    /// CI gates: actions not granted, resources not open to others.
    CheckAccess(Box<analyze::CheckAccessArgs>),
    Compile(Box<compile::Args>),
    /// Does a new policy grant anything the old one does not?
    Diff(Box<analyze::DiffArgs>),
    Fmt(Box<fmt::Args>),
    Gateway(Box<gateway::Args>),
    Import(Box<import::Args>),
    Replay(Box<replay::Args>),
    Serve(Box<serve::Args>),
    /// What a principal can do, directly and through roles.
    WhatCan(Box<analyze::WhatCanArgs>),
    /// Who can do an action on a resource, through role chains too.
    WhoCan(Box<analyze::WhoCanArgs>),
}

/// The exit code of a usage error (bad arguments) in every verb but `authorize`, whose 2 means
/// "denied" and whose usage errors are errors like its others (1).
const USAGE: u8 = 2;

/// Why a server's configuration was refused.
enum ConfigError {
    /// A flag's value is wrong: exit 2, as for clap's own refusals.
    Usage(String),
    /// Something the server needs cannot be read or is invalid (a file): exit 1.
    Start(String),
}

impl From<String> for ConfigError {
    fn from(e: String) -> ConfigError {
        ConfigError::Start(e)
    }
}

/// Runs a server subcommand: a bad flag value is `error: …` and exit 2, another bad
/// configuration exit 1; otherwise `serve` runs on a multi-threaded Tokio runtime (`threads`
/// workers, default one per core).
fn run_server<C, F: std::future::Future<Output = ExitCode>>(
    threads: Option<usize>,
    config: Result<C, ConfigError>,
    serve: impl FnOnce(C) -> F,
) -> ExitCode {
    match config {
        Ok(c) => block_on(threads, serve(c)),
        Err(ConfigError::Usage(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(USAGE)
        }
        Err(ConfigError::Start(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Prints `listening on ADDRESS`, the first line of a server's standard output, at once.
fn announce(addr: std::net::SocketAddr) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}

/// Runs a server's future on a multi-threaded Tokio runtime (`threads` workers, default one
/// per core); exit 1 when the runtime cannot start.
fn block_on(threads: Option<usize>, fut: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = threads.filter(|n| *n > 0) {
        rt.worker_threads(n);
    }
    match rt.build() {
        Ok(rt) => rt.block_on(fut),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::from(1)
        }
    }
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Bad arguments exit 2, except in `iamc authorize`, where 2 is the answer "denied":
            // there a usage error is an error like the others, 1, so that a typo is never read
            // as a denial.
            let authorize = std::env::args().nth(1).as_deref() == Some("authorize");
            let code = match (e.use_stderr(), authorize) {
                (false, _) => 0,
                (true, true) => 1,
                (true, false) => USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Authorize(args) => authorize::run(*args),
        Command::Bench(args) => bench::run(*args),
        Command::Check(args) => check::run(*args),
        Command::CheckAccess(args) => analyze::run_check_access(*args),
        Command::Diff(args) => analyze::run_diff(*args),
        Command::WhatCan(args) => analyze::run_what_can(*args),
        Command::WhoCan(args) => analyze::run_who_can(*args),
        Command::Compile(args) => compile::run(*args),
        Command::Fmt(args) => fmt::run(*args),
        Command::Gateway(args) => gateway::run(*args),
        Command::Import(args) => import::run(*args),
        Command::Replay(args) => replay::run(*args),
        Command::Serve(args) => serve::run(*args),
    }
}
