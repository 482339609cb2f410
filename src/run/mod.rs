//! The run controller: a session's whole life, owned by the core and
//! shared by every frontend. It starts a source (cancellably, off the
//! caller's thread), steers it, plays a scenario on its clock, pumps its
//! samples into the timeline and the run's figures, hands out what
//! happened as notices, restarts, and ends with the drain and the report.
//! `record` and the window are both thin loops around [`Run::pump`]; as
//! trippy's core owns tracing for its TUI and its reports alike.
//!
//! Nothing here blocks: `pump` drains without waiting, a start connects on
//! a thread of its own, and a replaced source is stopped and joined on
//! another. Only dropping a `Run` waits (for its threads, a pacing tick).

pub mod attach;
mod control;
mod controller;
pub mod link_record;
mod source;

pub use attach::{AttachError, AttachSource, Target};
pub use control::Control;
pub use controller::{
    DRAIN_LIMIT, DRAIN_QUIET, DrainCut, Figures, Notice, Phase, Pumped, Run, RunError, ScenarioNote,
};
pub use source::{Feed, LabSource, SampleSource};
