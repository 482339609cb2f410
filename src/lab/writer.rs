//! The writing application: send(data) in chunks of the stream pattern, at a
//! paced or unlimited rate, on a non-blocking socket so it knows exactly
//! when the kernel would block it, and for how long.

use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use nix::poll::{PollFd, PollFlags, poll};

use super::config::HELD_AT_MOST;
use super::control::Controlled;
use super::pacer::{Allowance, Pacer, TICK};
use super::pattern;
use super::sample::WriterState;
use super::shared::Shared;
use super::units::Rate;
use super::worker_error::{IoFailure, WorkerError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriterControl {
    Rate(Rate),
    Chunk(usize),
    /// Stop sending and shut down the write side (the peer sees EOF).
    Finish,
    /// Fault injection for the reliability tests: the thread panics.
    Panic,
}

/// Why the writer stopped, for the session report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WriterExit {
    pub error: Option<WorkerError>,
}

pub(crate) struct Writer {
    stream: Arc<TcpStream>,
    shared: Arc<Shared>,
    controls: Receiver<WriterControl>,
    pacer: Pacer,
    chunk: usize,
    /// The stream's bytes from `buf_start` on: the whole chunk, or the
    /// part of a chunk larger than `HELD_AT_MOST` the next calls can take.
    buf: Vec<u8>,
    buf_start: u64,
    /// The part of the current chunk the kernel has not taken yet.
    pending: std::ops::Range<usize>,
    stall_started: Option<Instant>,
    finish: bool,
}

/// Whatever way the writer ends, even by a panic, the peer gets its EOF.
impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

impl Writer {
    pub fn new(
        stream: Arc<TcpStream>,
        shared: Arc<Shared>,
        controls: Receiver<WriterControl>,
        rate: Rate,
        chunk: usize,
    ) -> Self {
        Writer {
            stream,
            shared,
            controls,
            pacer: Pacer::new(rate, Instant::now()),
            chunk,
            buf: Vec::new(),
            buf_start: 0,
            pending: 0..0,
            stall_started: None,
            finish: false,
        }
    }

    fn start_stall(&mut self) {
        if self.stall_started.is_none() {
            self.stall_started = Some(Instant::now());
            self.shared.set_writer_state(WriterState::Blocked);
        }
    }

    fn end_stall(&mut self) {
        if let Some(started) = self.stall_started.take() {
            let stalled = started.elapsed().as_nanos() as u64;
            self.shared.stall_ns.fetch_add(stalled, Relaxed);
            self.shared.stall_count.fetch_add(1, Relaxed);
            // A stall that ends because the peer is gone (or the writer
            // failed) keeps that state: it is how the run ended.
            if self.shared.writer_state() == WriterState::Blocked {
                self.shared.set_writer_state(WriterState::Sending);
            }
        }
    }

    pub fn run(mut self) -> WriterExit {
        let exit = self.send_loop();
        self.end_stall();
        // Shut down the write side: the reader's recv() returns 0 once it has
        // read everything before the FIN.
        let _ = self.stream.shutdown(Shutdown::Write);
        if exit.error.is_none() && self.shared.writer_state() != WriterState::PeerGone {
            self.shared.set_writer_state(WriterState::Finished);
        }
        exit
    }

    /// The rest of the chunk from stream `position`, as much of it as one
    /// non-blocking send() can take: all of it up to `HELD_AT_MOST`, else
    /// the send buffer's size (at least `HELD_AT_MOST`). Refills the held
    /// bytes, twice that much at a time, when the call passes their end.
    fn bytes_for_send(&mut self, position: u64) -> std::ops::Range<usize> {
        let rest = self.pending.len();
        let pass = if rest <= HELD_AT_MOST {
            rest
        } else {
            let room = socket2::SockRef::from(&*self.stream)
                .send_buffer_size()
                .unwrap_or(0);
            rest.min(room.max(HELD_AT_MOST))
        };
        let held_end = self.buf_start + self.buf.len() as u64;
        if position < self.buf_start || position + pass as u64 > held_end {
            let len = rest.min(pass.saturating_mul(2));
            self.buf.resize(len, 0);
            self.buf.shrink_to(len.saturating_mul(2));
            pattern::fill(&mut self.buf, position);
            self.buf_start = position;
        }
        let from = (position - self.buf_start) as usize;
        from..from + pass
    }

    fn send_loop(&mut self) -> WriterExit {
        let mut position = self.shared.written.load(Relaxed);
        loop {
            self.take_controls();
            if self.finish {
                return WriterExit { error: None };
            }
            if self.pending.is_empty() {
                match self.pacer.allowance(self.chunk, self.chunk, Instant::now()) {
                    Allowance::Bytes(_) => {}
                    Allowance::Wait(wait) => {
                        self.wait_for_control(wait);
                        continue;
                    }
                    Allowance::Paused => {
                        self.shared.set_writer_state(WriterState::Paused);
                        self.wait_for_control(Duration::from_millis(100));
                        if !self.pacer.rate().is_paused() {
                            self.shared.set_writer_state(WriterState::Sending);
                        }
                        continue;
                    }
                }
                self.pacer.consume(self.chunk);
                self.pending = 0..self.chunk;
            }
            let held = self.bytes_for_send(position);
            self.shared.writer_in_call.store(true, Relaxed);
            let result = (&*self.stream).write(&self.buf[held]);
            self.shared.writer_in_call.store(false, Relaxed);
            match result {
                Ok(0) => {
                    return WriterExit {
                        error: Some(WorkerError::SendAcceptedNothing),
                    };
                }
                Ok(sent) => {
                    self.end_stall();
                    self.pending.start += sent;
                    position += sent as u64;
                    self.shared.written.store(position, Relaxed);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // The send buffer is full: a blocking send() would sleep here.
                    self.start_stall();
                    let mut fds = [PollFd::new(self.stream.as_fd(), PollFlags::POLLOUT)];
                    let _ = poll(&mut fds, TICK.as_millis() as u16);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    // On loopback the lab's own reader never resets: say so.
                    self.shared.set_writer_state(WriterState::PeerGone);
                    return WriterExit {
                        error: Some(WorkerError::PeerGone(IoFailure::from(&e))),
                    };
                }
                Err(e) => {
                    self.shared.set_writer_state(WriterState::Failed);
                    return WriterExit {
                        error: Some(WorkerError::Send(IoFailure::from(&e))),
                    };
                }
            }
        }
    }
}

impl Controlled for Writer {
    type Control = WriterControl;

    fn controls(&self) -> &Receiver<WriterControl> {
        &self.controls
    }

    fn apply(&mut self, control: WriterControl) {
        match control {
            WriterControl::Rate(rate) => self.pacer.set_rate(rate, Instant::now()),
            WriterControl::Chunk(chunk) => self.chunk = chunk.max(1),
            WriterControl::Finish => self.finish = true,
            WriterControl::Panic => panic!("injected fault: the writer thread failed"),
        }
    }

    /// The session is gone: stop rather than send forever.
    fn session_gone(&mut self) {
        self.finish = true;
    }
}
