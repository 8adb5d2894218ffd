//! The binary's only voice on stderr: an [`Observer`] that draws the library's progress as a bar
//! with the step's name and the elapsed time, and prints details, notes and warnings. On a terminal
//! the bar redraws in place; in a log (stderr not a terminal) each step is one line, so CI logs stay
//! readable. `--quiet` silences all of it (warnings still reach `report.json`).

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use netmatch::observe::{Event, Observe, Observer};

/// Renders events on stderr unless quiet.
pub struct Term {
    quiet: bool,
    tty: bool,
}

impl Term {
    /// An observer for a run that is `quiet` or not, ready for the library's parameters.
    pub fn observe(quiet: bool) -> Observe {
        Observe::new(Arc::new(Term { quiet, tty: std::io::stderr().is_terminal() }))
    }
}

/// Says `text` on stderr as a note of the binary's own (backend choice, where output went).
pub fn note(quiet: bool, text: &str) {
    if !quiet {
        eprintln!("netmatch: {text}");
    }
}

fn bar(task: &str, done: usize, total: usize, what: &str, seconds: f64) -> String {
    const W: usize = 24;
    let fill = W * done.min(total) / total.max(1);
    format!("netmatch {task} [{}{}] {done:>2}/{total} {what} ({seconds:.1} s)", "#".repeat(fill), "-".repeat(W - fill))
}

impl Observer for Term {
    fn event(&self, event: &Event<'_>) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        // A failed write to stderr has nowhere to be reported; the computation goes on.
        let _ = match *event {
            Event::Step { task, what, done, total, seconds } if self.tty => {
                write!(err, "\r\x1b[2K{}", bar(task, done, total, what, seconds))
            }
            Event::Step { task, what, done, total, seconds } => {
                writeln!(err, "{}", bar(task, done, total, what, seconds))
            }
            Event::Finished { task, what, total, seconds } if self.tty => {
                writeln!(err, "\r\x1b[2K{}", bar(task, total, total, what, seconds))
            }
            Event::Finished { task, what, total, seconds } => {
                writeln!(err, "{}", bar(task, total, total, what, seconds))
            }
            Event::Detail(text) => writeln!(err, "netmatch: {text}"),
            Event::Warning(text) => writeln!(err, "netmatch: warning: {text}"),
        };
        let _ = err.flush();
    }
}
