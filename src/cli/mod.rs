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
        Command::Bench(BenchCommand::PeersRun(a)) => {
            bench::peers(a.common, Some((config::task(&a.task)?, a.backend, a.solver)))
        }
        Command::Bench(BenchCommand::Verdicts(a)) => bench::verdicts(a),
        Command::Bench(BenchCommand::Resolution(a)) => bench::resolution(a),
    }
}

/// The values clap hands over as text because their check is semantic (a rule or a number, a shape
/// pair, a task): converted here through the library's own parsers, so their errors are the
/// library's (exit 1, naming the flag), like the other checks that follow the parse.
mod config {
    use netmatch::bench::PeerTask;
    use netmatch::error::{Error, Result};
    use netmatch::pipeline::kernel::EpsilonRule;
    use netmatch::pipeline::whitney::Neurons;

    /// `--eps`: auto, median or a positive number.
    pub fn eps(s: &str) -> Result<EpsilonRule> {
        s.parse()
    }

    /// `--neurons`: all, auto or a positive count.
    pub fn neurons(s: &str) -> Result<Neurons> {
        s.parse()
    }

    /// `--configs`: DxR with 65 536 ≥ D ≥ R ≥ 1, each.
    pub fn configs(list: &[String]) -> Result<Vec<(usize, usize)>> {
        list.iter()
            .map(|s| {
                s.split_once('x')
                    .and_then(|(d, r)| Some((d.trim().parse().ok()?, r.trim().parse().ok()?)))
                    .filter(|&(d, r): &(usize, usize)| d >= r && r >= 1 && d <= 65_536)
                    .ok_or_else(|| Error::param("configs", format!("expected DxR with 65 536 ≥ D ≥ R ≥ 1, got `{s}`")))
            })
            .collect()
    }

    /// `--task`: mushroom, sparse or the N of one exported matrix.
    pub fn task(s: &str) -> Result<PeerTask> {
        match s {
            "mushroom" => Ok(PeerTask::Mushroom),
            "sparse" => Ok(PeerTask::Sparse),
            _ => s
                .parse()
                .map(PeerTask::Matrix)
                .map_err(|_| Error::param("task", "expected `mushroom`, `sparse` or an N")),
        }
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
