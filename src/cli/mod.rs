//! The binary's own code: the command line ([`args`]), one short function per subcommand, and the
//! stderr renderer of the library's events ([`term`]). Each function turns typed arguments into the
//! library's parameters, calls the library, and prints the summary; the library does the rest.

pub mod args;
mod bench;
mod compare;
#[cfg(feature = "demos")]
mod demo;
mod embed;
mod render;
pub mod term;

use std::process::ExitCode;

use netmatch::backend::BackendChoice;
use netmatch::error::Result;

use args::{BenchCommand, Command, RenderCommand};

/// Runs one command; `Ok` carries the exit code of a run that finished (0, or 3 / 4 for the verdict
/// and convergence gates).
pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Info => embed::info(),
        Command::Embed(a) => embed::run(a),
        Command::Compare(a) => compare::run(*a),
        Command::Render(RenderCommand::Horse(a)) => render::run(a),
        #[cfg(feature = "demos")]
        Command::Demo(d) => demo::run(d),
        Command::Bench(BenchCommand::Embed(a)) => bench::embed(a),
        Command::Bench(BenchCommand::PeersExport(a)) => bench::peers(a, None),
        Command::Bench(BenchCommand::PeersRun(a)) => bench::peers(a.common, Some((a.task, a.backend, a.solver))),
        Command::Bench(BenchCommand::Verdicts(a)) => bench::verdicts(a),
    }
}

/// Opens the chosen backend and says on stderr (unless quiet) when `auto` chose the CPU and why.
fn open_backend(choice: BackendChoice, quiet: bool) -> Result<(Box<dyn netmatch::Device>, Option<String>)> {
    let (dev, note) = netmatch::open(choice)?;
    if let Some(note) = &note {
        term::note(quiet, note);
    }
    Ok((dev, note))
}
