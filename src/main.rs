//! The `iamc` binary: see `iamc --help`.

fn main() -> std::process::ExitCode {
    iamc::cli::main()
}
