//! Where a run's samples come from. The controller reads every source the
//! same way, so a new kind (a recording file, another program's
//! connection) needs no change in the frontends.

use std::time::Duration;

use crossbeam_channel::TryRecvError;

use crate::lab::{Fault, LabError, Sample, Session, SessionInfo, SessionReport};

use super::control::Control;

/// Whether a source may still send samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    Open,
    /// Nothing more will come: `join` returns at once.
    Ended,
}

/// A running source of samples.
pub trait SampleSource: Send {
    fn info(&self) -> &SessionInfo;

    /// Time since the source started, on its samples' clock.
    fn elapsed(&self) -> Duration;

    /// Moves what arrived into `out`, without waiting.
    fn poll(&mut self, out: &mut Vec<Sample>) -> Feed;

    /// Applies a live control. A source that is not ours to steer (a
    /// recording, another program's connection) refuses it.
    fn control(&self, control: Control) -> Result<(), LabError>;

    /// Ends the run the orderly way; keep polling until `Feed::Ended`.
    fn finish(&self);

    /// Stops now, without draining.
    fn abort(&self);

    /// Waits for the source's threads and says how the run went.
    fn join(self: Box<Self>) -> SessionReport;

    /// Makes a worker fail (reliability tests); sources without workers
    /// ignore it.
    #[doc(hidden)]
    fn inject_fault(&self, _fault: Fault) {}
}

/// The lab's own connection: a session's writer, reader and sampler.
pub struct LabSource {
    session: Session,
    /// Batches from another session, dropped (a restart cannot mix them).
    pub stale_batches: u64,
}

impl LabSource {
    pub fn new(session: Session) -> Self {
        LabSource {
            session,
            stale_batches: 0,
        }
    }
}

impl SampleSource for LabSource {
    fn info(&self) -> &SessionInfo {
        self.session.info()
    }

    fn elapsed(&self) -> Duration {
        self.session.elapsed()
    }

    fn poll(&mut self, out: &mut Vec<Sample>) -> Feed {
        let id = self.session.id();
        loop {
            match self.session.samples().try_recv() {
                Ok(batch) if batch.session_id == id => out.extend(batch.samples),
                Ok(_) => self.stale_batches += 1,
                Err(TryRecvError::Empty) => return Feed::Open,
                Err(TryRecvError::Disconnected) => return Feed::Ended,
            }
        }
    }

    fn control(&self, control: Control) -> Result<(), LabError> {
        let session = &self.session;
        match control {
            Control::ReadRate(rate) => session.set_read_rate(rate),
            Control::WriteRate(rate) => session.set_write_rate(rate),
            Control::ReadChunk(size) => session.set_read_chunk(size)?,
            Control::WriteChunk(size) => session.set_write_chunk(size)?,
            Control::SampleHz(hz) => session.set_sample_hz(hz)?,
            Control::LinkRate(rate) => session.set_link_rate(rate)?,
            Control::LinkDelay(ms) => session.set_link_delay(ms)?,
            Control::LinkLoss(loss) => session.set_link_loss(loss)?,
            Control::Cable(plugged) => {
                session
                    .set_cable(plugged)
                    .map_err(|source| LabError::Socket {
                        step: if plugged {
                            "plug the cable in"
                        } else {
                            "unplug the cable"
                        },
                        source,
                    })?
            }
        }
        Ok(())
    }

    fn finish(&self) {
        self.session.finish();
    }

    fn abort(&self) {
        self.session.abort();
    }

    fn join(self: Box<Self>) -> SessionReport {
        self.session.join()
    }

    fn inject_fault(&self, fault: Fault) {
        self.session.inject_fault(fault);
    }
}
