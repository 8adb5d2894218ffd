//! Progress on stderr for work that takes more than a second: a bar over a known number of steps
//! with the current step's name and the elapsed time. On a terminal the bar redraws in place; in a
//! log (stderr not a terminal) each step is one line, so CI logs stay readable.

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// A bar over `total` steps; silent when disabled.
pub struct Progress {
    label: String,
    total: usize,
    done: usize,
    start: Instant,
    enabled: bool,
    tty: bool,
}

impl Progress {
    /// A bar named `label` over `total` steps, drawn only when `enabled`.
    pub fn new(label: &str, total: usize, enabled: bool) -> Progress {
        Progress {
            label: label.to_string(),
            total: total.max(1),
            done: 0,
            start: Instant::now(),
            enabled,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn draw(&self, what: &str) {
        if !self.enabled {
            return;
        }
        const W: usize = 24;
        let fill = W * self.done.min(self.total) / self.total;
        let bar: String = "#".repeat(fill) + &"-".repeat(W - fill);
        let line = format!(
            "netmatch {} [{bar}] {:>2}/{} {what} ({:.1} s)",
            self.label,
            self.done,
            self.total,
            self.start.elapsed().as_secs_f64()
        );
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    /// Announces the step that starts now (`done` steps are finished).
    pub fn start(&mut self, what: &str) {
        self.draw(what);
    }

    /// Marks one step finished.
    pub fn step(&mut self) {
        self.done += 1;
    }

    /// Draws the full bar and ends the line.
    pub fn finish(&mut self, what: &str) {
        self.done = self.total;
        self.draw(what);
        if self.enabled && self.tty {
            eprintln!();
        }
    }
}
