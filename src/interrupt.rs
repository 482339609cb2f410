//! Ctrl-C, SIGTERM and SIGHUP, counted: every long-running command ends on
//! the first one, keeping what it made whole, and exits 130.
//!
//! The count, not a flag, is what a frontend watches: `record` ends its run
//! on the first signal and cuts the drain short on the next, and a third
//! quits at once (the outputs are unnamed temporary files until they are
//! complete, so even that leaves nothing half-written behind).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Signals past this many quit the process at once, whatever it is doing.
const QUIT_AT: u32 = 3;

/// How many stop signals arrived; cheap to clone and to read.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicU32>);

impl Interrupt {
    /// A count no signal reaches (tests, and frontends that raise it
    /// themselves).
    pub fn new() -> Self {
        Interrupt::default()
    }

    /// Counts SIGINT, SIGTERM and SIGHUP from now on. `on_signal` runs on
    /// the signal thread after each is counted (the window uses it to close
    /// itself). A process has one handler: a second `install` returns a
    /// count no signal reaches.
    pub fn install(on_signal: impl Fn() + Send + 'static) -> Self {
        let interrupt = Interrupt::new();
        let count = Arc::clone(&interrupt.0);
        // A background job of a non-interactive shell starts with SIGINT
        // ignored; a handler of our own makes Ctrl-C work there too.
        let _ = ctrlc::set_handler(move || {
            let seen = count.fetch_add(1, Relaxed) + 1;
            if seen >= QUIT_AT {
                std::process::exit(crate::record::exit::INTERRUPTED);
            }
            on_signal();
        });
        interrupt
    }

    /// Signals so far.
    pub fn count(&self) -> u32 {
        self.0.load(Relaxed)
    }

    /// At least one signal arrived.
    pub fn raised(&self) -> bool {
        self.count() > 0
    }

    /// Counts one, as a signal would (tests; a frontend's own stop).
    pub fn raise(&self) {
        self.0.fetch_add(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_count() {
        let interrupt = Interrupt::new();
        let seen_by_worker = interrupt.clone();
        assert!(!seen_by_worker.raised());
        interrupt.raise();
        interrupt.raise();
        assert_eq!(seen_by_worker.count(), 2);
    }
}
