//! The live changes a run takes.

use crate::lab::link::{LinkSpec, Loss};
use crate::lab::scenario::Change;
use crate::lab::{Endpoint, LabConfig, Rate, Size};

/// A live change to a running source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    ReadRate(Rate),
    WriteRate(Rate),
    /// recv(bufsize).
    ReadChunk(Size),
    /// Bytes per send(data).
    WriteChunk(Size),
    SampleHz(u32),
    /// The private link's rate.
    LinkRate(Rate),
    /// The private link's one-way delay, in ms.
    LinkDelay(u32),
    /// The share of packets the private link drops.
    LinkLoss(Loss),
    /// The private link's cable: plugged in (true) or unplugged.
    Cable(bool),
}

impl From<Change> for Control {
    fn from(change: Change) -> Self {
        match change {
            Change::ReadRate(rate) => Control::ReadRate(rate),
            Change::WriteRate(rate) => Control::WriteRate(rate),
            Change::ReadChunk(size) => Control::ReadChunk(size),
            Change::WriteChunk(size) => Control::WriteChunk(size),
            Change::LinkRate(rate) => Control::LinkRate(rate),
            Change::LinkDelay(ms) => Control::LinkDelay(ms),
            Change::LinkLoss(loss) => Control::LinkLoss(loss),
            Change::Cable(plugged) => Control::Cable(plugged),
        }
    }
}

impl Control {
    /// The config with this control applied.
    pub(super) fn apply_to(self, config: &mut LabConfig) {
        match self {
            Control::ReadRate(rate) => config.read_rate = rate,
            Control::WriteRate(rate) => config.write_rate = rate,
            Control::ReadChunk(size) => config.read_chunk = size,
            Control::WriteChunk(size) => config.write_chunk = size,
            Control::SampleHz(hz) => config.sample_hz = hz,
            // Link settings apply to a private link only.
            Control::LinkRate(rate) => with_link(config, |spec| spec.rate = rate),
            Control::LinkDelay(ms) => with_link(config, |spec| spec.delay_ms = ms),
            Control::LinkLoss(loss) => with_link(config, |spec| spec.loss = loss),
            // The cable is the link's state, not a setting a restart keeps.
            Control::Cable(_) => {}
        }
    }

    /// The controls that take `from` to `to`, for a source that started
    /// with `from` while the user went on changing things.
    pub(super) fn between(from: &LabConfig, to: &LabConfig) -> Vec<Control> {
        let mut controls = Vec::new();
        if from.read_rate != to.read_rate {
            controls.push(Control::ReadRate(to.read_rate));
        }
        if from.write_rate != to.write_rate {
            controls.push(Control::WriteRate(to.write_rate));
        }
        if from.read_chunk != to.read_chunk {
            controls.push(Control::ReadChunk(to.read_chunk));
        }
        if from.write_chunk != to.write_chunk {
            controls.push(Control::WriteChunk(to.write_chunk));
        }
        if from.sample_hz != to.sample_hz {
            controls.push(Control::SampleHz(to.sample_hz));
        }
        if let (Endpoint::Link(from), Endpoint::Link(to)) = (from.endpoint, to.endpoint) {
            if from.rate != to.rate {
                controls.push(Control::LinkRate(to.rate));
            }
            if from.delay_ms != to.delay_ms {
                controls.push(Control::LinkDelay(to.delay_ms));
            }
            if from.loss != to.loss {
                controls.push(Control::LinkLoss(to.loss));
            }
        }
        controls
    }
}

/// Changes the config's private link, if it has one.
fn with_link(config: &mut LabConfig, change: impl FnOnce(&mut LinkSpec)) {
    if let Endpoint::Link(spec) = &mut config.endpoint {
        change(spec);
    }
}
