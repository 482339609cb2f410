//! Counters the writer and reader publish and the sampler reads. Plain
//! atomics: the workers never wait on a lock the sampler or a GUI holds.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use super::sample::{ReaderState, WriterState};

/// `first_mismatch` when every byte so far was right.
const NO_MISMATCH: u64 = u64::MAX;

#[derive(Debug)]
pub(crate) struct Shared {
    pub epoch: Instant,
    pub written: AtomicU64,
    pub read: AtomicU64,
    writer_state: AtomicU8,
    reader_state: AtomicU8,
    pub stall_count: AtomicU64,
    pub stall_ns: AtomicU64,
    pub first_mismatch: AtomicU64,
    pub writer_done: AtomicBool,
    pub reader_done: AtomicBool,
    /// When the last worker so far ended, ns since the epoch.
    workers_ended_ns: AtomicU64,
}

impl Shared {
    pub fn new(epoch: Instant) -> Self {
        Shared {
            epoch,
            written: AtomicU64::new(0),
            read: AtomicU64::new(0),
            writer_state: AtomicU8::new(WriterState::Sending as u8),
            reader_state: AtomicU8::new(ReaderState::Reading as u8),
            stall_count: AtomicU64::new(0),
            stall_ns: AtomicU64::new(0),
            first_mismatch: AtomicU64::new(NO_MISMATCH),
            writer_done: AtomicBool::new(false),
            reader_done: AtomicBool::new(false),
            workers_ended_ns: AtomicU64::new(0),
        }
    }

    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    pub fn mark_worker_ended(&self) {
        self.workers_ended_ns.fetch_max(self.now_ns(), Relaxed);
    }

    /// Time from the start to the end of the last worker; now if none ended.
    pub fn workers_ended(&self) -> std::time::Duration {
        match self.workers_ended_ns.load(Relaxed) {
            0 => self.epoch.elapsed(),
            ns => std::time::Duration::from_nanos(ns),
        }
    }

    pub fn writer_state(&self) -> WriterState {
        WriterState::from_u8(self.writer_state.load(Relaxed))
    }

    pub fn set_writer_state(&self, state: WriterState) {
        self.writer_state.store(state as u8, Relaxed);
    }

    pub fn reader_state(&self) -> ReaderState {
        ReaderState::from_u8(self.reader_state.load(Relaxed))
    }

    pub fn set_reader_state(&self, state: ReaderState) {
        self.reader_state.store(state as u8, Relaxed);
    }

    /// Remembers the stream position of the first wrong byte (the first one wins).
    pub fn record_mismatch(&self, position: u64) {
        let _ = self
            .first_mismatch
            .compare_exchange(NO_MISMATCH, position, Relaxed, Relaxed);
    }

    pub fn first_mismatch(&self) -> Option<u64> {
        match self.first_mismatch.load(Relaxed) {
            NO_MISMATCH => None,
            position => Some(position),
        }
    }
}
