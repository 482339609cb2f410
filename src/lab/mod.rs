//! The lab: real sockets, the threads that drive them, and what they record.
//! No GUI dependency: the headless recorder and the window both sit on this.

pub mod backlog;
pub mod buffers;
pub mod config;
pub mod congestion;
mod connect;
mod control;
pub mod diag;
pub mod lifecycle;
pub mod link;
pub mod messages;
mod pacer;
pub mod pattern;
pub mod preset;
pub mod probe;
mod reader;
pub mod rendezvous;
pub mod reuseaddr;
pub mod sample;
pub mod sampler;
pub mod scenario;
pub mod server;
pub mod server_owner;
mod session;
mod shared;
pub mod speed;
pub mod timeline;
pub mod units;
pub mod wire;
pub mod wire_log;
pub mod worker_error;
mod writer;

pub use buffers::{BufferKind, BufferSetting};
pub use config::{
    Endpoint, LabConfig, LabError, MAX_BUFFER, MAX_CHUNK, MAX_SAMPLE_HZ, check_buffer, check_chunk,
    check_sample_hz,
};
pub use preset::Preset;
pub use sample::{
    Cable, DelayTotals, RATE_WINDOW, ReaderState, ReceiverMemory, Sample, SampleBatch,
    SampleSchedule, SenderMemory, WindowRoom, WriterState, rates_over,
};
pub use session::{
    Attached, CaptureState, Fault, Session, SessionInfo, SessionReport, next_session_id,
};
pub use timeline::{Event, EventKind, SampleSpan, Thinned, Timeline};
pub use units::{Rate, Size};
pub use worker_error::{IoFailure, LabThread, WorkerError};
