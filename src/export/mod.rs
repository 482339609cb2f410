//! Writing what a session recorded: samples as CSV, a run summary as JSON.
//! Files appear whole or not at all.

mod atomic;
pub mod csv;
pub mod pcap;
pub mod png;
pub mod recording;
pub mod summary;

pub use atomic::{AtomicFile, OutputPathError};
