//! How the writer and the reader take their controls: every message
//! waiting at each turn of the loop, or one while they wait (paced or
//! paused). A session that is gone (its sender dropped) counts as being
//! told to stop, so a worker never runs on forever.

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Select, TryRecvError};

/// Waits up to `timeout` for a message, sleeping at once. Crossbeam's
/// `recv_timeout()` first spins and then calls sched_yield() up to four
/// times, and on a machine whose cores are all busy each yield hands the
/// core away until the scheduler's next tick (4 ms at HZ=250): a thread
/// that waits 1 ms between samples then wakes every 4 ms (190 samples a
/// second of 1000 asked with two CPU hogs running). A `Select` with a
/// timeout parks without yielding (`select!` would not do: with one
/// operation it turns into `recv_timeout()`).
pub(crate) fn recv_within<T>(
    receiver: &Receiver<T>,
    timeout: Duration,
) -> Result<T, RecvTimeoutError> {
    let mut select = Select::new();
    select.recv(receiver);
    match select.select_timeout(timeout) {
        Ok(operation) => operation
            .recv(receiver)
            .map_err(|_| RecvTimeoutError::Disconnected),
        Err(_) => Err(RecvTimeoutError::Timeout),
    }
}

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
        match recv_within(self.controls(), timeout) {
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

    /// A control another thread sends ends a long wait: the wait returns
    /// the control (its timeout would return none); a dropped sender ends
    /// it as a disconnection.
    #[test]
    fn a_control_sent_during_a_wait_ends_it() {
        let (tx, controls) = unbounded();
        let (waiting_tx, waiting) = unbounded();
        let sender = std::thread::Builder::new()
            .name("control-sender".into())
            .spawn(move || {
                waiting.recv().unwrap();
                tx.send(7).unwrap();
                // Kept until the control is taken, so it is no disconnection.
                tx
            })
            .unwrap();
        waiting_tx.send(()).unwrap();
        let began = std::time::Instant::now();
        let taken = recv_within(&controls, Duration::from_secs(600));
        assert_eq!(taken, Ok(7));
        assert!(began.elapsed() < Duration::from_secs(600));
        drop(sender.join().unwrap());
        assert_eq!(
            recv_within(&controls, Duration::from_secs(600)),
            Err(RecvTimeoutError::Disconnected)
        );
    }
}
