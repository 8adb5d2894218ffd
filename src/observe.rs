//! How progress, details and warnings leave the library. The library never prints: it hands
//! [`Event`]s to an [`Observer`] the caller installs (the `netmatch` binary draws them on stderr; a
//! Python caller or a notebook can route them anywhere), carried in the parameters as an [`Observe`].
//! With no observer installed every call here is a no-op, and the strings of [`Observe::detail`] are
//! not even built.
//!
//! The observer can also stop the work: [`Observer::cancelled`] is asked between steps, stages and
//! eigensolver cycles, and a `true` ends the running call with [`Error::Cancelled`] (the Python module
//! answers it from Ctrl-C).
//!
//! Warnings are also returned with the results that they qualify (an embedding's and a comparison's
//! `warnings`, and so `report.json`), so they are not lost when nobody listens.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use crate::error::{Error, Result};

/// One thing the library reports while it works.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// A step of a task with a known number of steps starts; `done` steps are finished.
    Step {
        /// The task, e.g. `"compare"`.
        task: &'a str,
        /// The step that starts now.
        what: &'a str,
        /// Steps finished so far.
        done: usize,
        /// Steps in all.
        total: usize,
        /// Seconds since the task started.
        seconds: f64,
    },
    /// The task finished (all `total` steps).
    Finished {
        /// The task.
        task: &'a str,
        /// What it ended with.
        what: &'a str,
        /// Steps in all.
        total: usize,
        /// Seconds the task took.
        seconds: f64,
    },
    /// Detail for a verbose run: solver cycles, stage timings, choices made.
    Detail(&'a str),
    /// Something about the result the user should know; also returned with the result.
    Warning(&'a str),
}

/// Receives the library's [`Event`]s. Called from the computing thread; keep it quick.
pub trait Observer: Send + Sync {
    /// Handles one event.
    fn event(&self, event: &Event<'_>);

    /// Whether the caller wants the work stopped. Asked between the steps of a task and between
    /// eigensolver cycles (also when events are muted by [`Observe::when`]); a `true` makes the
    /// running call return [`Error::Cancelled`]. Default: never.
    fn cancelled(&self) -> bool {
        false
    }
}

/// An optional [`Observer`], cheap to clone into every parameter struct (default: none). A muted
/// copy ([`Observe::when`]`(false)`) drops events but still passes on cancellation.
#[derive(Clone, Default)]
pub struct Observe {
    observer: Option<Arc<dyn Observer>>,
    muted: bool,
}

impl fmt::Debug for Observe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match (&self.observer, self.muted) {
            (None, _) => "Observe(none)",
            (Some(_), false) => "Observe(installed)",
            (Some(_), true) => "Observe(muted)",
        })
    }
}

impl Observe {
    /// Sends events to `observer`.
    pub fn new(observer: Arc<dyn Observer>) -> Observe {
        Observe { observer: Some(observer), muted: false }
    }

    /// Whether events reach an observer.
    pub fn is_active(&self) -> bool {
        self.observer.is_some() && !self.muted
    }

    /// Hands `event` to the observer, if any listens.
    pub fn emit(&self, event: &Event<'_>) {
        if let (Some(o), false) = (&self.observer, self.muted) {
            o.event(event);
        }
    }

    /// A [`Event::Detail`] built only when an observer listens.
    pub fn detail(&self, text: impl FnOnce() -> String) {
        if self.is_active() {
            self.emit(&Event::Detail(&text()));
        }
    }

    /// This observer when `on`, muted otherwise: what a verbose flag passes on.
    pub fn when(&self, on: bool) -> Observe {
        Observe { observer: self.observer.clone(), muted: self.muted || !on }
    }

    /// [`Error::Cancelled`] when the observer asks to stop (see [`Observer::cancelled`]).
    pub fn check(&self) -> Result<()> {
        match &self.observer {
            Some(o) if o.cancelled() => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }

    /// A [`Event::Warning`].
    pub fn warning(&self, text: &str) {
        self.emit(&Event::Warning(text));
    }

    /// A task of `total` steps (silent with no observer; gate it with [`Observe::when`]).
    pub fn task(&self, name: &str, total: usize) -> Task {
        Task { observe: self.clone(), name: name.to_string(), total: total.max(1), done: 0, start: Instant::now() }
    }
}

/// A task with a known number of steps, reported as [`Event::Step`] and [`Event::Finished`].
#[derive(Debug)]
pub struct Task {
    observe: Observe,
    name: String,
    total: usize,
    done: usize,
    start: Instant,
}

impl Task {
    /// Announces the step that starts now; [`Error::Cancelled`] instead when the observer asks to stop.
    pub fn start(&mut self, what: &str) -> Result<()> {
        self.observe.check()?;
        self.observe.emit(&Event::Step {
            task: &self.name,
            what,
            done: self.done.min(self.total),
            total: self.total,
            seconds: self.start.elapsed().as_secs_f64(),
        });
        Ok(())
    }

    /// Marks one step finished.
    pub fn step(&mut self) {
        self.done += 1;
    }

    /// Ends the task.
    pub fn finish(&mut self, what: &str) {
        self.done = self.total;
        self.observe.emit(&Event::Finished {
            task: &self.name,
            what,
            total: self.total,
            seconds: self.start.elapsed().as_secs_f64(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);
    impl Observer for Log {
        fn event(&self, e: &Event<'_>) {
            let line = match e {
                Event::Step { task, what, done, total, .. } => format!("{task} {done}/{total} {what}"),
                Event::Finished { task, what, .. } => format!("{task} done {what}"),
                Event::Detail(s) => format!("detail {s}"),
                Event::Warning(s) => format!("warning {s}"),
            };
            self.0.lock().unwrap().push(line);
        }
    }

    #[test]
    fn events_reach_the_observer_in_order_and_a_disabled_task_is_silent() {
        let log = Arc::new(Log::default());
        let o = Observe::new(log.clone());
        let mut t = o.task("compare", 2);
        t.start("a").unwrap();
        t.step();
        t.start("b").unwrap();
        t.finish("ok");
        o.detail(|| "d".into());
        o.warning("w");
        let mut quiet = o.when(false).task("quiet", 3);
        quiet.start("x").unwrap();
        quiet.finish("y");
        Observe::default().warning("nobody hears this");
        let got = log.0.lock().unwrap().clone();
        assert_eq!(got, ["compare 0/2 a", "compare 1/2 b", "compare done ok", "detail d", "warning w"]);
    }

    struct Stop;
    impl Observer for Stop {
        fn event(&self, _: &Event<'_>) {}
        fn cancelled(&self) -> bool {
            true
        }
    }

    #[test]
    fn cancellation_reaches_a_muted_task_and_nothing_cancels_without_an_observer() {
        let stop = Observe::new(Arc::new(Stop));
        assert!(matches!(stop.when(false).task("t", 1).start("x"), Err(Error::Cancelled)));
        assert!(matches!(stop.check(), Err(Error::Cancelled)));
        assert!(Observe::default().task("t", 1).start("x").is_ok());
    }
}
