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
    Stop,
}

/// Reads one sample of both sockets. Also the unit the probe benchmark times.
pub fn take_sample(writer: &TcpStream, reader: &TcpStream, t_ns: u64) -> io::Result<Sample> {
    let send_queue = probe::send_queue(writer)?;
    let unsent = probe::unsent(writer)?;
    let recv_queue = probe::recv_queue(reader)?;
    let tx = probe::tcp_info(writer)?;
    let rx = probe::tcp_info(reader)?;
    Ok(Sample {
        t_ns,
        send_queue,
        unsent,
        recv_queue,
        // A kernel too old for tcpi_snd_wnd never reports a zero window.
        zero_window: tx.snd_wnd == Some(0),
        sender: SenderInfo {
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
        },
        receiver: ReceiverInfo {
            state: rx.state,
            rcv_space: rx.rcv_space,
            rcv_wnd: rx.rcv_wnd.unwrap_or(0),
        },
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

fn period(hz: u32) -> Duration {
    Duration::from_secs_f64(1.0 / f64::from(hz.clamp(1, MAX_SAMPLE_HZ)))
}

impl Sampler {
    fn sample(&self) -> io::Result<Sample> {
        let shared = &self.shared;
        // Read the applications' counters first: a byte counted as read is
        // then surely out of the receive queue in the probe that follows.
        let written = shared.written.load(Relaxed);
        let read = shared.read.load(Relaxed);
        let stall_count = shared.stall_count.load(Relaxed);
        let stall_ns = shared.stall_ns.load(Relaxed);
        let writer_state = shared.writer_state();
        let reader_state = shared.reader_state();
        let mut sample = take_sample(&self.writer, &self.reader, shared.now_ns())?;
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
        loop {
            let done =
                self.shared.writer_done.load(Relaxed) && self.shared.reader_done.load(Relaxed);
            match self.sample() {
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
                        next = Instant::now() + period;
                    }
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
