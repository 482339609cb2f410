//! Counters the writer and reader publish and the sampler reads. Plain
//! atomics: the workers never wait on a lock the sampler or a GUI holds.

use std::sync::atomic::{
    AtomicBool, AtomicU8, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::time::Instant;

use super::sample::{ReaderState, WriterState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Worker {
    Writer,
    Reader,
}

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
    writer_done: AtomicBool,
    reader_done: AtomicBool,
    /// The writer is inside send() / the reader inside recv(): the socket
    /// lock is likely held, so TCP_INFO would wait for it.
    pub writer_in_call: AtomicBool,
    pub reader_in_call: AtomicBool,
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
            writer_in_call: AtomicBool::new(false),
            reader_in_call: AtomicBool::new(false),
            workers_ended_ns: AtomicU64::new(0),
        }
    }

    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Called once by each worker as it ends, however it ends. Release: a
    /// sampler that sees the flag also sees the worker's final counters.
    pub fn mark_worker_ended(&self, worker: Worker) {
        self.workers_ended_ns.fetch_max(self.now_ns(), Relaxed);
        match worker {
            Worker::Writer => self.writer_done.store(true, Release),
            Worker::Reader => self.reader_done.store(true, Release),
        }
    }

    pub fn reader_ended(&self) -> bool {
        self.reader_done.load(Acquire)
    }

    pub fn workers_done(&self) -> bool {
        self.writer_done.load(Acquire) && self.reader_done.load(Acquire)
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
