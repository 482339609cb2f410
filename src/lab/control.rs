//! How the writer and the reader take their controls: every message
//! waiting at each turn of the loop, or one while they wait (paced or
//! paused). A session that is gone (its sender dropped) counts as being
//! told to stop, so a worker never runs on forever.

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

pub(crate) trait Controlled {
    type Control;

    fn controls(&self) -> &Receiver<Self::Control>;

    fn apply(&mut self, control: Self::Control);

    /// The session dropped its end of the channel.
    fn session_gone(&mut self);

    /// Applies every control waiting, without blocking.
    fn take_controls(&mut self) {
        loop {
            match self.controls().try_recv() {
                Ok(control) => self.apply(control),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.session_gone();
                    break;
                }
            }
        }
    }

    /// Waits up to `timeout` for a control message, applying it.
    fn wait_for_control(&mut self, timeout: Duration) {
        match self.controls().recv_timeout(timeout) {
            Ok(control) => self.apply(control),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => self.session_gone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossbeam_channel::unbounded;

    struct Worker {
        controls: Receiver<u32>,
        applied: Vec<u32>,
        gone: bool,
    }

    impl Controlled for Worker {
        type Control = u32;
        fn controls(&self) -> &Receiver<u32> {
            &self.controls
        }
        fn apply(&mut self, control: u32) {
            self.applied.push(control);
        }
        fn session_gone(&mut self) {
            self.gone = true;
        }
    }

    #[test]
    fn controls_apply_in_order_and_a_dropped_session_means_stop() {
        let (tx, controls) = unbounded();
        let mut worker = Worker {
            controls,
            applied: Vec::new(),
            gone: false,
        };
        worker.take_controls();
        worker.wait_for_control(Duration::ZERO);
        assert!(worker.applied.is_empty() && !worker.gone);
        for control in [1, 2, 3] {
            tx.send(control).unwrap();
        }
        worker.wait_for_control(Duration::ZERO);
        assert_eq!(worker.applied, [1]);
        tx.send(4).unwrap();
        drop(tx);
        worker.take_controls();
        assert_eq!(worker.applied, [1, 2, 3, 4]);
        assert!(worker.gone);
        worker.gone = false;
        worker.wait_for_control(Duration::from_secs(5));
        assert!(worker.gone);
    }
}
