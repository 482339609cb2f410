//! The reading application: recv(bufsize) at a paced or unlimited rate, or
//! not at all (paused), checking every byte against the stream pattern.

use std::io::{self, Read};
use std::net::TcpStream;
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
use super::probe::{self, TcpState};
use super::sample::ReaderState;
use super::sampler::SampleDesk;
use super::shared::Shared;
use super::units::Rate;
use super::worker_error::{IoFailure, WorkerError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReaderControl {
    Rate(Rate),
    Bufsize(usize),
    /// The run is over: read everything up to EOF, ignoring the rate.
    Drain,
    /// Stop now without reading the rest (restart, quit).
    Stop,
    /// Fault injection for the reliability tests: the thread panics.
    Panic,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReaderExit {
    pub error: Option<WorkerError>,
}

pub(crate) struct Reader {
    stream: Arc<TcpStream>,
    /// The reader takes due samples itself while it runs (see SampleDesk).
    desk: Arc<SampleDesk>,
    shared: Arc<Shared>,
    controls: Receiver<ReaderControl>,
    pacer: Pacer,
    buf: Vec<u8>,
    bufsize: usize,
    verify: bool,
    draining: bool,
    stop: bool,
    /// Polls in a row that found bytes at once (see `wait_for_data`).
    quick_polls: u32,
}

impl Reader {
    pub fn new(
        stream: Arc<TcpStream>,
        desk: Arc<SampleDesk>,
        shared: Arc<Shared>,
        controls: Receiver<ReaderControl>,
        rate: Rate,
        bufsize: usize,
        verify: bool,
    ) -> Self {
        Reader {
            stream,
            desk,
            shared,
            controls,
            pacer: Pacer::new(rate, Instant::now()),
            buf: vec![0; bufsize.min(HELD_AT_MOST)],
            bufsize,
            verify,
            draining: false,
            stop: false,
            quick_polls: 0,
        }
    }

    /// A wait, cut short when the next sample is due.
    fn wait_limit(&self, wanted: Duration) -> Duration {
        self.desk
            .reader_wait_limit()
            .map_or(wanted, |due| wanted.min(due))
    }

    /// Waits for a control, at most until the next sample is due.
    fn wait(&mut self, timeout: Duration) {
        let timeout = self.wait_limit(timeout);
        self.wait_for_control(timeout);
    }

    /// How much of a recv(`want`) to hold in memory: all of it up to
    /// `HELD_AT_MOST`, else the receive buffer's size (at least
    /// `HELD_AT_MOST`), which is more than its queue can hold, so the call
    /// returns what the whole one would. Grows `buf` to it.
    fn held_for_recv(&mut self, want: usize) -> usize {
        let held = if want <= HELD_AT_MOST {
            want
        } else {
            let room = socket2::SockRef::from(&*self.stream)
                .recv_buffer_size()
                .unwrap_or(0);
            want.min(room.max(HELD_AT_MOST))
        };
        if self.buf.len() < held {
            self.buf.resize(held, 0);
        }
        held
    }

    pub fn run(mut self) -> ReaderExit {
        self.recv_loop()
    }

    fn recv_loop(&mut self) -> ReaderExit {
        let mut position = self.shared.read.load(Relaxed);
        loop {
            self.desk.reader_turn();
            self.take_controls();
            if self.stop {
                self.shared.set_reader_state(ReaderState::Stopped);
                return ReaderExit { error: None };
            }
            let want = if self.draining {
                self.shared.set_reader_state(ReaderState::Draining);
                self.bufsize
            } else {
                match self.pacer.allowance(self.bufsize, 1, Instant::now()) {
                    Allowance::Bytes(n) => {
                        self.shared.set_reader_state(ReaderState::Reading);
                        n
                    }
                    Allowance::Wait(wait) => {
                        self.wait(wait);
                        continue;
                    }
                    Allowance::Paused => {
                        // A paused application makes no recv() calls: the
                        // kernel keeps receiving until the window closes.
                        self.shared.set_reader_state(ReaderState::Paused);
                        self.wait(Duration::from_millis(100));
                        continue;
                    }
                }
            };
            let want = self.held_for_recv(want);
            self.shared.reader_in_call.store(true, Relaxed);
            let result = (&*self.stream).read(&mut self.buf[..want]);
            self.shared.reader_in_call.store(false, Relaxed);
            match result {
                Ok(0) => {
                    // A reset whose ECONNRESET the writer's send() took
                    // first leaves recv() nothing but 0; the socket is
                    // then CLOSE, where a FIN leaves it CLOSE_WAIT (or
                    // later states of an orderly close).
                    let reset = probe::tcp_info(&*self.stream)
                        .is_ok_and(|info| info.state == TcpState::Close);
                    if reset {
                        self.shared.set_reader_state(ReaderState::PeerReset);
                    } else {
                        self.shared.set_reader_state(ReaderState::PeerClosed);
                    }
                    return ReaderExit { error: None };
                }
                Ok(received) => {
                    if self.verify
                        && let Some(offset) = pattern::verify(&self.buf[..received], position)
                    {
                        self.shared.record_mismatch(position + offset as u64);
                    }
                    position += received as u64;
                    self.shared.read.store(position, Relaxed);
                    if !self.draining {
                        self.pacer.consume(received);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait_for_data(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    self.shared.set_reader_state(ReaderState::PeerReset);
                    return ReaderExit {
                        error: Some(WorkerError::PeerReset),
                    };
                }
                Err(e) => {
                    self.shared.set_reader_state(ReaderState::Failed);
                    return ReaderExit {
                        error: Some(WorkerError::Recv(IoFailure::from(&e))),
                    };
                }
            }
        }
    }
}

/// A poll() that found data within this long found it "at once".
const AT_ONCE: Duration = Duration::from_micros(200);
/// After this many such polls in a row the bytes are flowing.
const FLOWING_AFTER: u32 = 8;
/// How long a poll() may wait while bytes are flowing: past the kernel's
/// next tick (4 ms at HZ=250), so arming its timer reprograms no clock.
const FLOWING_WAIT: Duration = Duration::from_millis(5);

impl Reader {
    /// Waits in poll() for bytes to read. While it helps sampling, the wait
    /// ends when the next sample is due, except while bytes are flowing:
    /// then a poll returns within microseconds anyway, and a timeout that
    /// short on every one of tens of thousands of polls a second was most
    /// of what 1 kHz sampling cost (bench/sampling-cost.sh: +12 % CPU per
    /// GiB; most likely each such timer, set before the next tick,
    /// reprograms the CPU's clock, a VM exit on virtual machines). When the
    /// flow stops, the one poll that waits longer may
    /// leave a gap of up to FLOWING_WAIT in the samples; the next waits
    /// are cut to the schedule again.
    fn wait_for_data(&mut self) {
        let due = self.wait_limit(TICK);
        let limit = if self.quick_polls >= FLOWING_AFTER {
            due.max(FLOWING_WAIT)
        } else {
            due
        };
        let mut fds = [PollFd::new(self.stream.as_fd(), PollFlags::POLLIN)];
        // poll() counts whole milliseconds: round up, so a due sample is
        // taken just after the wait, not spun for.
        let millis = limit.as_micros().div_ceil(1000);
        let started = Instant::now();
        let ready = poll(&mut fds, millis as u16).is_ok_and(|n| n > 0);
        if ready && started.elapsed() < AT_ONCE {
            self.quick_polls = self.quick_polls.saturating_add(1);
        } else {
            self.quick_polls = 0;
        }
    }
}

impl Controlled for Reader {
    type Control = ReaderControl;

    fn controls(&self) -> &Receiver<ReaderControl> {
        &self.controls
    }

    fn apply(&mut self, control: ReaderControl) {
        match control {
            ReaderControl::Rate(rate) => self.pacer.set_rate(rate, Instant::now()),
            ReaderControl::Bufsize(size) => {
                self.bufsize = size.max(1);
                self.buf.resize(self.bufsize.min(HELD_AT_MOST), 0);
                self.buf.shrink_to(HELD_AT_MOST);
            }
            ReaderControl::Drain => self.draining = true,
            ReaderControl::Stop => self.stop = true,
            ReaderControl::Panic => panic!("injected fault: the reader thread failed"),
        }
    }

    /// The session is gone: stop rather than read forever.
    fn session_gone(&mut self) {
        self.stop = true;
    }
}
