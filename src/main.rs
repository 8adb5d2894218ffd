//! The `netmatch` binary: parse the command line (clap checks every value; a usage error exits 2),
//! run one command through [`cli::run`], and map the outcome to an exit code: 0 success, 1 error,
//! 2 usage, 3 not equivalent under `--fail-unless-equivalent`, 4 eigen-solve not converged.

#![expect(clippy::print_stdout, clippy::print_stderr, reason = "the binary is the one place that prints")]

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::args::Cli::parse();
    match cli::run(args.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("netmatch: error: {e}");
            // An eigen-solve that did not converge is its own outcome (4), as for `embed`.
            ExitCode::from(if matches!(e, netmatch::Error::Eigen(_)) { 4 } else { 1 })
        }
    }
}
