//! The sampler thread: at a fixed rate, reads both sockets' queues and
//! TCP_INFO through the probe, adds the applications' counters, and sends
//! the samples in batches.

use std::io;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::probe;
use super::sample::{ReceiverInfo, Sample, SampleBatch, SenderInfo};
use super::shared::Shared;

pub const DEFAULT_SAMPLE_HZ: u32 = 200;
pub const MAX_SAMPLE_HZ: u32 = 10_000;

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

fn sender_info(tx: &probe::TcpInfo, unsent: u32) -> SenderInfo {
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
    }
}

fn receiver_info(rx: &probe::TcpInfo) -> ReceiverInfo {
    ReceiverInfo {
        state: rx.state,
        rcv_space: rx.rcv_space,
        rcv_wnd: rx.rcv_wnd.unwrap_or(0),
    }
}

/// A zero window: the writer sees the reader advertise 0 bytes. A kernel
/// too old for tcpi_snd_wnd (< 5.4) never reports one.
fn zero_window(sender: &SenderInfo, filled: bool) -> bool {
    filled && sender.snd_wnd == 0
}

/// One full sample of both sockets: the three queue ioctls and both
/// TCP_INFO calls. The unit the probe benchmark times.
pub fn take_sample(writer: &TcpStream, reader: &TcpStream, t_ns: u64) -> io::Result<Sample> {
    let mut sample = take_queues(writer, reader, t_ns)?;
    let tx = probe::tcp_info(writer)?;
    sample.sender = sender_info(&tx, sample.unsent);
    sample.zero_window = zero_window(&sample.sender, tx.snd_wnd.is_some());
    sample.receiver = receiver_info(&probe::tcp_info(reader)?);
    Ok(sample)
}

/// The three queue ioctls only.
fn take_queues(writer: &TcpStream, reader: &TcpStream, t_ns: u64) -> io::Result<Sample> {
    Ok(Sample {
        t_ns,
        send_queue: probe::send_queue(writer)?,
        unsent: probe::unsent(writer)?,
        recv_queue: probe::recv_queue(reader)?,
        ..Sample::default()
    })
}

pub(crate) struct Sampler {
    pub session_id: u64,
    pub writer: Arc<TcpStream>,
    pub reader: Arc<TcpStream>,
    pub shared: Arc<Shared>,
    pub controls: Receiver<SamplerControl>,
    pub out: Sender<SampleBatch>,
    pub hz: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SamplerExit {
    pub error: Option<String>,
    pub samples: u64,
}

/// Every how many samples a busy socket's TCP_INFO is read.
fn info_every(hz: u32) -> u64 {
    u64::from(hz.div_ceil(BUSY_TCP_INFO_HZ).max(1))
}

fn period(hz: u32) -> Duration {
    Duration::from_secs_f64(1.0 / f64::from(hz.clamp(1, MAX_SAMPLE_HZ)))
}

impl Sampler {
    /// Reads one sample; `info_due` says whether a busy socket's TCP_INFO
    /// is due this time (an idle one is read every sample).
    fn sample(
        &self,
        info_due: bool,
        last: &mut Option<(SenderInfo, bool, ReceiverInfo)>,
    ) -> io::Result<Sample> {
        let shared = &self.shared;
        // Read the applications' counters first: a byte counted as read is
        // then surely out of the receive queue in the probe that follows.
        let written = shared.written.load(Relaxed);
        let read = shared.read.load(Relaxed);
        let stall_count = shared.stall_count.load(Relaxed);
        let stall_ns = shared.stall_ns.load(Relaxed);
        let writer_state = shared.writer_state();
        let reader_state = shared.reader_state();
        let mut sample = take_queues(&self.writer, &self.reader, shared.now_ns())?;
        // A writer outside send() (blocked in poll, paused, pacing) holds
        // no socket lock, and that is when the window matters most: read
        // its TCP_INFO every sample then.
        let (mut sender, mut filled, mut receiver) = last.unwrap_or_default();
        if info_due || last.is_none() || !shared.writer_in_call.load(Relaxed) {
            let tx = probe::tcp_info(&self.writer)?;
            sender = sender_info(&tx, sample.unsent);
            filled = tx.snd_wnd.is_some();
        }
        if info_due || last.is_none() || !shared.reader_in_call.load(Relaxed) {
            receiver = receiver_info(&probe::tcp_info(&self.reader)?);
        }
        *last = Some((sender, filled, receiver));
        sample.sender = sender;
        // Equal to tcpi_notsent_bytes, and fresh even when TCP_INFO is not.
        sample.sender.notsent_bytes = sample.unsent;
        sample.zero_window = zero_window(&sender, filled);
        sample.receiver = receiver;
        sample.written = written;
        sample.read = read;
        sample.stall_count = stall_count;
        sample.stall_ns = stall_ns;
        sample.writer_state = writer_state;
        sample.reader_state = reader_state;
        Ok(sample)
    }

    pub fn run(self) -> SamplerExit {
        // Wake on time: the default 50 µs timer slack is half a period at 10 kHz.
        let _ = nix::sys::prctl::set_timerslack(1_000);
        let mut period = period(self.hz);
        let mut batch = Vec::new();
        let mut last_send = Instant::now();
        let mut next = Instant::now();
        let mut taken = 0u64;
        let mut error = None;
        let mut last_info = None;
        let mut busy_info_every = info_every(self.hz);
        loop {
            let done = self.shared.workers_done();
            match self.sample(taken.is_multiple_of(busy_info_every), &mut last_info) {
                Ok(sample) => {
                    batch.push(sample);
                    taken += 1;
                }
                Err(e) => {
                    error = Some(format!("sampling the sockets failed: {e}"));
                    break;
                }
            }
            // The last sample is taken after both workers ended, so it holds
            // the final counters.
            if done {
                break;
            }
            let now = Instant::now();
            if now.duration_since(last_send) >= BATCH_INTERVAL {
                let samples = std::mem::take(&mut batch);
                if self.send(samples).is_err() {
                    break;
                }
                last_send = now;
            }
            next += period;
            if next + period < now {
                // Far behind (the machine was busy): skip the missed ticks
                // rather than fire a burst of samples with bunched timestamps.
                next = now + period;
            }
            let mut stop = false;
            loop {
                let wait = next.saturating_duration_since(Instant::now());
                match self.controls.recv_timeout(wait) {
                    Ok(SamplerControl::Hz(hz)) => {
                        period = self::period(hz);
                        busy_info_every = info_every(hz);
                        next = Instant::now() + period;
                    }
                    Ok(SamplerControl::WorkerDone) => break,
                    Ok(SamplerControl::Stop) | Err(RecvTimeoutError::Disconnected) => {
                        stop = true;
                        break;
                    }
                    Err(RecvTimeoutError::Timeout) => break,
                }
            }
            if stop {
                break;
            }
        }
        let _ = self.send(batch);
        SamplerExit {
            error,
            samples: taken,
        }
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
            .map_err(|_| ())
    }
}
