//! The sampler thread: at a fixed rate, reads both sockets' queues and
//! TCP_INFO through the probe, adds the applications' counters, and sends
//! the samples in batches.

use std::io;
use std::net::TcpStream;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Acquire, fence};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::control::recv_within;
use super::link::LinkProbe;
use super::probe;
use super::sample::{
    Bottleneck, Cable, DelayTotals, ReceiverInfo, ReceiverMemory, Sample, SampleBatch,
    SampleSchedule, SenderInfo, SenderMemory,
};
use super::shared::Shared;
use super::worker_error::{IoFailure, WorkerError};

pub use super::config::{DEFAULT_SAMPLE_HZ, MAX_SAMPLE_HZ};

/// One batch per display frame or so: a GUI repaints once per batch.
const BATCH_INTERVAL: Duration = Duration::from_millis(16);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SamplerControl {
    Hz(u32),
    /// A worker ended: take the final sample now rather than at the next tick.
    WorkerDone,
    Stop,
}

/// TCP_INFO of a socket whose thread is inside send()/recv() is read at
/// most this often. tcp_get_info() takes the socket lock, which a busy
/// writer holds for every 128 KiB copy and retakes at once: at 1 kHz the
/// call slept ~450 µs a time waiting for it and cost 15% of the throughput.
/// SIOCOUTQ and SIOCOUTQNSD take no lock; FIONREAD takes it only briefly
/// (lock_sock_fast). All three are read every sample.
pub const BUSY_TCP_INFO_HZ: u32 = 50;

pub(crate) fn sender_info(tx: &probe::TcpInfo, unsent: u32) -> SenderInfo {
    SenderInfo {
        state: tx.state,
        probes: tx.probes,
        snd_wnd: tx.snd_wnd.unwrap_or(0),
        snd_cwnd: tx.snd_cwnd,
        snd_mss: tx.snd_mss,
        rtt_us: tx.rtt_us,
        notsent_bytes: tx.notsent_bytes.unwrap_or(unsent),
        busy_us: tx.busy_us.unwrap_or(0),
        rwnd_limited_us: tx.rwnd_limited_us.unwrap_or(0),
        sndbuf_limited_us: tx.sndbuf_limited_us.unwrap_or(0),
        total_retrans: tx.total_retrans,
        rto_us: tx.rto_us,
        snd_ssthresh: tx.snd_ssthresh,
        segs_out: tx.segs_out,
        segs_in: tx.segs_in,
    }
}

pub(crate) fn receiver_info(rx: &probe::TcpInfo) -> ReceiverInfo {
    ReceiverInfo {
        state: rx.state,
        rcv_space: rx.rcv_space,
        rcv_mss: rx.rcv_mss,
        rcv_wnd: rx.rcv_wnd.unwrap_or(0),
    }
}

/// A zero window: the writer sees the reader advertise 0 bytes. A kernel
/// too old for tcpi_snd_wnd (< 5.4) never reports one.
fn zero_window(sender: &SenderInfo, filled: bool) -> bool {
    filled && sender.snd_wnd == 0
}

/// One full sample of both sockets: the three queue ioctls, the reader's
/// SO_MEMINFO and both TCP_INFO calls. The unit the probe benchmark times.
pub fn take_sample(writer: &TcpStream, reader: &TcpStream, t_ns: u64) -> io::Result<Sample> {
    let mut sample = take_queues(writer, reader, t_ns)?;
    let tx = probe::tcp_info(writer)?;
    sample.sender = sender_info(&tx, sample.unsent);
    sample.zero_window = zero_window(&sample.sender, tx.snd_wnd.is_some());
    sample.receiver = receiver_info(&probe::tcp_info(reader)?);
    Ok(sample)
}

/// The three queue ioctls and SO_MEMINFO. SIOCOUTQNSD is read before SIOCOUTQ: a
/// send() between the two can only grow the send queue, so it still holds
/// the unsent bytes; an ACK between them can shrink it below them, so the
/// unsent count is capped at the send queue, and no sample shows more
/// unsent than queued or a negative number in flight.
/// The reader's SO_MEMINFO (lock-free too) follows FIONREAD, so the queue
/// and the memory it takes are read as close together as they can be.
fn take_queues(writer: &TcpStream, reader: &TcpStream, t_ns: u64) -> io::Result<Sample> {
    let unsent = probe::unsent(writer)?;
    let send_queue = probe::send_queue(writer)?;
    let recv_queue = probe::recv_queue(reader)?;
    Ok(Sample {
        t_ns,
        send_queue,
        unsent: unsent.min(send_queue),
        recv_queue,
        receiver_memory: receiver_memory(reader),
        sender_memory: sender_memory(writer),
        ..Sample::default()
    })
}

/// All zero where the kernel has no SO_MEMINFO (before 4.12).
fn receiver_memory(reader: &TcpStream) -> ReceiverMemory {
    probe::meminfo(reader).map_or_else(
        |_| ReceiverMemory::default(),
        |memory| ReceiverMemory {
            rmem_alloc: memory.rmem_alloc,
            rcvbuf: memory.rcvbuf,
            backlog: memory.backlog,
            drops: memory.drops,
        },
    )
}

/// The writer's SO_MEMINFO (lock-free, like the reader's); all zero where
/// the kernel has none.
fn sender_memory(writer: &TcpStream) -> SenderMemory {
    probe::meminfo(writer).map_or_else(
        |_| SenderMemory::default(),
        |memory| SenderMemory {
            wmem_queued: memory.wmem_queued,
            sndbuf: memory.sndbuf,
        },
    )
}

/// The reader takes samples itself (see `SampleDesk`) up to this rate; above
/// it, its waits are too coarse (poll() counts milliseconds).
pub const READER_HELPS_UP_TO_HZ: u32 = 1_000;

/// Every how many samples a busy socket's TCP_INFO is read.
fn info_every(hz: u32) -> u64 {
    u64::from(hz.div_ceil(BUSY_TCP_INFO_HZ).max(1))
}

fn period_ns(hz: u32) -> u64 {
    1_000_000_000 / u64::from(hz.clamp(1, MAX_SAMPLE_HZ))
}

/// Where samples are taken and queued, shared by the sampler thread and the
/// reader thread.
///
/// Why the reader helps: a timer wake-up is expensive on the machines we
/// use. The reader wakes thousands of times a second
/// anyway, so while it runs it takes each sample that is due, and the
/// sampler thread wakes only to send batches and to cover for it (when it
/// is late, has ended, or the rate is above `READER_HELPS_UP_TO_HZ`). The
/// schedule, the order and the batches stay in one place: a sample is
/// claimed, taken and queued under one lock, which the reader only ever
/// try-locks.
pub(crate) struct SampleDesk {
    writer: Arc<TcpStream>,
    reader: Arc<TcpStream>,
    shared: Arc<Shared>,
    /// The private link's cable (read every sample) and bottleneck queue
    /// (read with a busy socket's TCP_INFO); None without a link.
    link: Option<LinkProbe>,
    /// Mirror of `state.next_due_ns`, so the reader can check without locking.
    next_due_ns: AtomicU64,
    reader_helps: AtomicBool,
    state: Mutex<DeskState>,
}

/// The newest TCP_INFO readings of both sockets, and when they were taken
/// (ns on the session's clock).
#[derive(Debug, Clone, Copy, Default)]
struct LastInfo {
    sender: SenderInfo,
    /// The kernel fills tcpi_snd_wnd (Linux 5.4 and later).
    filled: bool,
    sender_ns: u64,
    receiver: ReceiverInfo,
    receiver_ns: u64,
    bottleneck: Bottleneck,
}

struct DeskState {
    period_ns: u64,
    next_due_ns: u64,
    busy_info_every: u64,
    taken: u64,
    schedule: SampleSchedule,
    last_info: Option<LastInfo>,
    pending: Vec<Sample>,
    error: Option<WorkerError>,
}

impl SampleDesk {
    pub fn new(
        writer: Arc<TcpStream>,
        reader: Arc<TcpStream>,
        shared: Arc<Shared>,
        hz: u32,
        link: Option<LinkProbe>,
    ) -> Self {
        let desk = SampleDesk {
            writer,
            reader,
            shared,
            link,
            next_due_ns: AtomicU64::new(0),
            reader_helps: AtomicBool::new(false),
            state: Mutex::new(DeskState {
                period_ns: 0,
                next_due_ns: 0,
                busy_info_every: 1,
                taken: 0,
                schedule: SampleSchedule::default(),
                last_info: None,
                pending: Vec::new(),
                error: None,
            }),
        };
        desk.set_hz(hz);
        desk
    }

    fn lock(&self) -> MutexGuard<'_, DeskState> {
        // A panic while sampling leaves consistent data (plain counters).
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn set_hz(&self, hz: u32) {
        let mut state = self.lock();
        state.period_ns = period_ns(hz);
        state.busy_info_every = info_every(hz);
        state.next_due_ns = self.shared.now_ns();
        self.next_due_ns.store(state.next_due_ns, Relaxed);
        self.reader_helps
            .store(hz <= READER_HELPS_UP_TO_HZ, Relaxed);
    }

    /// Called by the reader at every turn of its loop: takes the sample if
    /// one is due and nobody else is taking one. Never blocks on the lock.
    pub fn reader_turn(&self) {
        if !self.reader_helps.load(Relaxed) || self.shared.now_ns() < self.next_due_ns.load(Relaxed)
        {
            return;
        }
        if let Ok(mut state) = self.state.try_lock() {
            let now = self.shared.now_ns();
            if now >= state.next_due_ns {
                self.take(&mut state, now);
            }
        }
    }

    /// How long the reader may wait before the next sample is due; None
    /// when the reader is not helping.
    pub fn reader_wait_limit(&self) -> Option<Duration> {
        self.reader_helps.load(Relaxed).then(|| {
            Duration::from_nanos(
                self.next_due_ns
                    .load(Relaxed)
                    .saturating_sub(self.shared.now_ns()),
            )
        })
    }

    /// Takes one sample now, queues it and moves the schedule on.
    fn take(&self, state: &mut DeskState, now_ns: u64) {
        let info_due = state.taken.is_multiple_of(state.busy_info_every);
        // Not so for the sample a worker's end asks for before its tick.
        let on_schedule = now_ns >= state.next_due_ns;
        match self.sample(info_due, &mut state.last_info) {
            Ok(sample) => {
                if on_schedule {
                    state.schedule.add(sample.t_ns);
                }
                state.pending.push(sample);
                state.taken += 1;
            }
            Err(e) => {
                state
                    .error
                    .get_or_insert(WorkerError::Sampling(IoFailure::from(&e)));
            }
        }
        state.next_due_ns += state.period_ns;
        if state.next_due_ns + state.period_ns < now_ns {
            // Far behind (the machine was busy): skip the missed ticks
            // rather than fire a burst of samples with bunched timestamps.
            state.next_due_ns = now_ns + state.period_ns;
        }
        self.next_due_ns.store(state.next_due_ns, Relaxed);
    }

    /// Reads one sample; `info_due` says whether a busy socket's TCP_INFO
    /// is due this time (an idle one is read every sample).
    fn sample(&self, info_due: bool, last: &mut Option<LastInfo>) -> io::Result<Sample> {
        let shared = &self.shared;
        // Read the applications' counters first: a byte counted as read is
        // then surely out of the receive queue in the probe that follows.
        // Pairs with the Release of the done flags: a final sample holds
        // the final counters.
        fence(Acquire);
        let written = shared.written.load(Relaxed);
        let read = shared.read.load(Relaxed);
        let stall_count = shared.stall_count.load(Relaxed);
        let stall_ns = shared.stall_ns.load(Relaxed);
        let writer_state = shared.writer_state();
        let reader_state = shared.reader_state();
        let mut sample = take_queues(&self.writer, &self.reader, shared.now_ns())?;
        if let Some(probe) = &self.link {
            // A few atomic loads: fresh every sample.
            let delay = probe.delay();
            sample.link_delay_ms = delay.delay_ms;
            sample.delay_held_packets = delay.held_packets;
            sample.delay_stopped = delay.stopped;
            sample.delay_totals = DelayTotals {
                packets: delay.delayed_packets,
                undelayed: delay.undelayed_packets,
                thread_cpu_ns: delay.thread_cpu_ns,
            };
        }
        sample.cable = match &self.link {
            None => Cable::NoLink,
            // One ioctl, no lock; an unreadable state reads as plugged.
            Some(probe) if probe.plugged().unwrap_or(true) => Cable::Plugged,
            Some(_) => Cable::Unplugged,
        };
        // A writer outside send() (blocked in poll, paused, pacing) holds
        // no socket lock, and that is when the window matters most: read
        // its TCP_INFO every sample then.
        let fresh = last.is_none();
        let mut info = last.unwrap_or_default();
        if fresh || info_due || !shared.writer_in_call.load(Relaxed) {
            let tx = probe::tcp_info(&self.writer)?;
            info.sender = sender_info(&tx, sample.unsent);
            info.filled = tx.snd_wnd.is_some();
            info.sender_ns = sample.t_ns;
        }
        if fresh || info_due || !shared.reader_in_call.load(Relaxed) {
            info.receiver = receiver_info(&probe::tcp_info(&self.reader)?);
            info.receiver_ns = sample.t_ns;
        }
        if (fresh || info_due)
            && let Some(queue) = self.link.as_ref().and_then(LinkProbe::queue)
        {
            info.bottleneck = queue;
        }
        *last = Some(info);
        let age_us = |taken_ns: u64| {
            u32::try_from(sample.t_ns.saturating_sub(taken_ns) / 1_000).unwrap_or(u32::MAX)
        };
        sample.sender = info.sender;
        sample.sender_info_age_us = age_us(info.sender_ns);
        // Equal to tcpi_notsent_bytes, and fresh even when TCP_INFO is not.
        sample.sender.notsent_bytes = sample.unsent;
        // Decided when the writer's TCP_INFO was read, and as old as it.
        sample.zero_window = zero_window(&info.sender, info.filled);
        sample.receiver = info.receiver;
        sample.receiver_info_age_us = age_us(info.receiver_ns);
        sample.bottleneck = info.bottleneck;
        sample.written = written;
        sample.read = read;
        sample.stall_count = stall_count;
        sample.stall_ns = stall_ns;
        sample.writer_state = writer_state;
        sample.reader_state = reader_state;
        Ok(sample)
    }
}

/// The sampler thread: owns the schedule's safety net and the batches.
pub(crate) struct Sampler {
    pub session_id: u64,
    pub desk: Arc<SampleDesk>,
    pub shared: Arc<Shared>,
    pub controls: Receiver<SamplerControl>,
    pub out: Sender<SampleBatch>,
    /// Called after each batch is sent, e.g. to repaint a window at once.
    pub waker: Option<Waker>,
}

/// Tells a frontend that a batch is waiting on the channel.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SamplerExit {
    pub error: Option<WorkerError>,
    pub samples: u64,
    pub schedule: SampleSchedule,
}

impl Sampler {
    pub fn run(self) -> SamplerExit {
        // Wake on time: the default 50 µs timer slack is half a period at 10 kHz.
        let _ = nix::sys::prctl::set_timerslack(1_000);
        let batch_ns = BATCH_INTERVAL.as_nanos() as u64;
        let mut last_send_ns = self.shared.now_ns();
        let mut stop = false;
        loop {
            let done = self.shared.workers_done();
            let helped = self.desk.reader_helps.load(Relaxed) && !self.shared.reader_ended();
            let (wake_ns, failed) = {
                let mut state = self.desk.lock();
                let now = self.shared.now_ns();
                // Cover for the reader only once it is a period late.
                let grace = if helped { state.period_ns } else { 0 };
                // The last sample is taken after both workers ended, so it
                // holds the final counters.
                if done || stop || now >= state.next_due_ns + grace {
                    self.desk.take(&mut state, now);
                }
                if done || stop || now >= last_send_ns + batch_ns {
                    let samples = std::mem::take(&mut state.pending);
                    drop(state);
                    if self.send(samples).is_err() {
                        break;
                    }
                    last_send_ns = now;
                    state = self.desk.lock();
                }
                let next_batch = last_send_ns + batch_ns;
                let wake = if helped {
                    next_batch
                } else {
                    state.next_due_ns.min(next_batch)
                };
                (wake, state.error.is_some())
            };
            if done || stop || failed {
                break;
            }
            let wait = Duration::from_nanos(wake_ns.saturating_sub(self.shared.now_ns()));
            match recv_within(&self.controls, wait) {
                Ok(SamplerControl::Hz(hz)) => self.desk.set_hz(hz),
                Ok(SamplerControl::WorkerDone) | Err(RecvTimeoutError::Timeout) => {}
                Ok(SamplerControl::Stop) | Err(RecvTimeoutError::Disconnected) => stop = true,
            }
        }
        let mut state = self.desk.lock();
        let rest = std::mem::take(&mut state.pending);
        let exit = SamplerExit {
            error: state.error.clone(),
            samples: state.taken,
            schedule: state.schedule,
        };
        drop(state);
        let _ = self.send(rest);
        exit
    }

    fn send(&self, samples: Vec<Sample>) -> Result<(), ()> {
        if samples.is_empty() {
            return Ok(());
        }
        self.out
            .send(SampleBatch {
                session_id: self.session_id,
                samples,
            })
            .map_err(|_| ())?;
        if let Some(wake) = &self.waker {
            wake();
        }
        Ok(())
    }
}
