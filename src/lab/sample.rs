//! One sample: the kernel's numbers for both ends of the connection, and the
//! applications' own counters, at one instant.

use std::time::Duration;

use super::probe::TcpState;

/// What the writing application is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum WriterState {
    #[default]
    Sending = 0,
    /// Rate 0: the writer makes no send() calls.
    Paused = 1,
    /// send() would block: the send buffer is full.
    Blocked = 2,
    /// The writer stopped and shut down its side (FIN sent).
    Finished = 3,
    /// send() failed because the peer closed or reset the connection.
    PeerGone = 4,
    Failed = 5,
    /// An attached connection's socket is closed: its program closed it
    /// (the kernel finishes the connection alone) or it is gone.
    Closed = 6,
}

/// What the reading application is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum ReaderState {
    #[default]
    Reading = 0,
    /// Rate 0: the reader makes no recv() calls; the receive buffer fills.
    Paused = 1,
    /// The run is over: reading everything left, ignoring the rate.
    Draining = 2,
    /// recv() returned 0: the peer closed its side (FIN received).
    PeerClosed = 3,
    /// recv() failed with ECONNRESET.
    PeerReset = 4,
    /// Stopped by the session (restart or quit).
    Stopped = 5,
    Failed = 6,
    /// An attached connection's receiving program takes nothing: its
    /// receive queue is full (no window to offer) and has not moved for
    /// `RATE_WINDOW`. Its calls are not visible, but a recv() on a queue
    /// that holds bytes returns some, so none was made.
    NotReading = 7,
}

macro_rules! from_u8 {
    ($ty:ident { $($variant:ident),* $(,)? }) => {
        impl $ty {
            pub(crate) fn from_u8(value: u8) -> Self {
                $(if value == $ty::$variant as u8 { return $ty::$variant; })*
                $ty::default()
            }

            /// The state `name()` calls `name` (a recording's column).
            pub fn from_name(name: &str) -> Option<Self> {
                [$($ty::$variant),*].into_iter().find(|s| s.name() == name)
            }
        }
    };
}
from_u8!(WriterState {
    Sending,
    Paused,
    Blocked,
    Finished,
    PeerGone,
    Failed,
    Closed
});
from_u8!(ReaderState {
    Reading,
    Paused,
    Draining,
    PeerClosed,
    PeerReset,
    Stopped,
    Failed,
    NotReading
});

impl WriterState {
    pub fn name(self) -> &'static str {
        match self {
            WriterState::Sending => "sending",
            WriterState::Paused => "paused",
            WriterState::Blocked => "blocked",
            WriterState::Finished => "finished",
            WriterState::PeerGone => "peer gone",
            WriterState::Failed => "failed",
            WriterState::Closed => "closed",
        }
    }
}

impl ReaderState {
    pub fn name(self) -> &'static str {
        match self {
            ReaderState::Reading => "reading",
            ReaderState::Paused => "paused",
            ReaderState::Draining => "draining",
            ReaderState::PeerClosed => "peer closed",
            ReaderState::PeerReset => "peer reset",
            ReaderState::Stopped => "stopped",
            ReaderState::Failed => "failed",
            ReaderState::NotReading => "not reading",
        }
    }
}

/// TCP_INFO of the writing socket, the fields that explain the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    pub state: TcpState,
    /// Unanswered zero-window probes.
    pub probes: u8,
    /// The reader's advertised window as the writer sees it (bytes).
    pub snd_wnd: u32,
    pub snd_cwnd: u32,
    pub snd_mss: u32,
    pub rtt_us: u32,
    pub notsent_bytes: u32,
    pub busy_us: u64,
    pub rwnd_limited_us: u64,
    pub sndbuf_limited_us: u64,
    /// Segments retransmitted so far (tcpi_total_retrans).
    pub total_retrans: u32,
    /// The retransmission timeout now, µs (tcpi_rto).
    pub rto_us: u32,
    /// Slow-start threshold in segments (tcpi_snd_ssthresh).
    pub snd_ssthresh: u32,
    /// Segments the writer sent and received so far (tcpi_segs_out,
    /// tcpi_segs_in): what a capture of the wire should count.
    pub segs_out: u32,
    pub segs_in: u32,
}

/// TCP_INFO of the reading socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReceiverInfo {
    pub state: TcpState,
    pub rcv_space: u32,
    /// Segment size the reader expects: it reopens a zero window only when
    /// this much room is free (silly-window-syndrome avoidance).
    pub rcv_mss: u32,
    /// The window the reader advertises (bytes; 0 before Linux 6.2).
    pub rcv_wnd: u32,
}

/// The private link's cable, as the sampler read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cable {
    /// The machine's loopback or an outside peer: no cable of ours.
    #[default]
    NoLink,
    Plugged,
    Unplugged,
}

impl Cable {
    /// The word the CSV writes: empty without a link.
    pub fn name(self) -> &'static str {
        match self {
            Cable::NoLink => "",
            Cable::Plugged => "plugged",
            Cable::Unplugged => "unplugged",
        }
    }
}

/// What waits at the private link's bottleneck: its qdisc's queue
/// (`tc -s qdisc`'s backlog) and what the qdisc dropped (a queue over its
/// limit, or a packet larger than a token bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bottleneck {
    pub backlog_bytes: u32,
    /// Since the qdisc was put on lo (a new rate puts a new one).
    pub drops: u32,
}

/// The reading socket's memory (SO_MEMINFO), read every sample (it takes
/// no lock). All zero on kernels before 4.12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReceiverMemory {
    /// Memory the receive queue takes, overhead included (sk_rmem_alloc).
    pub rmem_alloc: u32,
    /// The receive buffer's limit at this moment (sk_rcvbuf).
    pub rcvbuf: u32,
    /// Segments waiting for the socket lock (sk_backlog.len).
    pub backlog: u32,
    /// Packets the socket dropped so far (sk_drops): no memory left for
    /// them, or a full backlog.
    pub drops: u32,
}

/// The writing socket's memory (SO_MEMINFO, or sock_diag's SKMEMINFO for
/// an attached connection): what its send queue takes, overhead included,
/// against the limit send() blocks at. All zero where unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderMemory {
    /// Memory the send queue's segments take (sk_wmem_queued).
    pub wmem_queued: u32,
    /// The send buffer's limit now (sk_sndbuf).
    pub sndbuf: u32,
}

impl SenderMemory {
    /// poll() and select() say the socket is writable: at least half as
    /// much memory is free as the queue takes (sk_stream_is_writeable()).
    /// A sender that found the buffer full sleeps until this holds, so a
    /// send() of any size blocks (or returns EAGAIN) while it does not.
    /// True where the memory is unknown.
    pub fn writable(&self) -> bool {
        self.sndbuf == 0 || self.sndbuf.saturating_sub(self.wmem_queued) >= self.wmem_queued / 2
    }
}

/// The receiver's room by the kernel's own numbers, in bytes of memory (as
/// SO_MEMINFO and SO_RCVBUF count), and the room its window needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRoom {
    /// Free memory: SO_RCVBUF now, less the queue's memory and the backlog.
    pub free: u32,
    /// The buffer's limit now (sk_rcvbuf).
    pub buffer: u32,
    /// The free memory the kernel wants before it offers a window again:
    /// one segment's worth, but at least 1/16 of the buffer and at most
    /// half of it.
    pub needed: u32,
}

impl WindowRoom {
    /// The kernel offers a zero window now.
    pub fn too_little(&self) -> bool {
        self.free < self.needed
    }

    /// Less than half the buffer is free: the kernel stops growing the
    /// window and offers only what is free, then 0.
    pub fn closing(&self) -> bool {
        self.free < self.buffer / 2
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sample {
    /// Nanoseconds since the session started (monotonic clock).
    pub t_ns: u64,
    /// Writer's SIOCOUTQ: unsent + sent-but-unacknowledged bytes.
    pub send_queue: u32,
    /// Writer's SIOCOUTQNSD: bytes not yet sent.
    pub unsent: u32,
    /// Reader's FIONREAD: bytes received, not yet read by the application.
    pub recv_queue: u32,
    /// Bytes the writer's send() calls handed to the kernel so far.
    pub written: u64,
    /// Bytes the reader's recv() calls took from the kernel so far.
    pub read: u64,
    pub writer_state: WriterState,
    pub reader_state: ReaderState,
    /// The reader advertises a zero window (writer's tcpi_snd_wnd == 0).
    pub zero_window: bool,
    /// Writer stalls that ended so far, and their total length.
    pub stall_count: u64,
    pub stall_ns: u64,
    pub sender: SenderInfo,
    pub receiver: ReceiverInfo,
    /// How old `sender` (and the zero-window flag decided from it) is, in
    /// µs: 0 when read for this sample. A writer inside send() holds the
    /// socket lock that TCP_INFO takes, so then it is read at most
    /// `BUSY_TCP_INFO_HZ` times a second and repeated in between.
    pub sender_info_age_us: u32,
    /// The same for `receiver`, while the reader is inside recv().
    pub receiver_info_age_us: u32,
    /// The reading socket's memory, fresh every sample.
    pub receiver_memory: ReceiverMemory,
    /// The writing socket's memory, fresh every sample.
    pub sender_memory: SenderMemory,
    /// The private link's cable, fresh every sample.
    pub cable: Cable,
    /// What waits at the private link's bottleneck (lo's qdisc), as fresh
    /// as the writer's TCP_INFO; all zero without a link or a qdisc.
    pub bottleneck: Bottleneck,
    /// The private link's one-way delay in force, in ms (0 without one).
    pub link_delay_ms: u32,
    /// Packets held by the delay now, travelling the link (the queue's;
    /// 0 under netem, whose packets are in `bottleneck`).
    pub delay_held_packets: u32,
    /// The delaying thread has ended: the link passes packets undelayed.
    pub delay_stopped: bool,
    /// The delaying thread's counts so far (all zero under netem).
    pub delay_totals: DelayTotals,
}

/// What the private link's delaying thread has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DelayTotals {
    /// Packets it delayed (a GSO super-packet of many segments is one).
    pub packets: u64,
    /// Packets that crossed undelayed because it fell behind (its socket
    /// overflowed and the queue failed open).
    pub undelayed: u64,
    /// CPU time the thread used, in ns.
    pub thread_cpu_ns: u64,
}

impl Sample {
    /// Sent but not yet acknowledged: SIOCOUTQ minus SIOCOUTQNSD.
    pub fn in_flight(&self) -> u32 {
        self.send_queue.saturating_sub(self.unsent)
    }

    /// The congestion window in bytes (tcpi_snd_cwnd segments of
    /// tcpi_snd_mss bytes): how much the writer may have in flight.
    pub fn cwnd_bytes(&self) -> u32 {
        self.sender.snd_cwnd.saturating_mul(self.sender.snd_mss)
    }

    /// The slow-start threshold in bytes; None until the first loss sets
    /// one (the kernel starts it at "infinite", TCP_INFINITE_SSTHRESH).
    pub fn ssthresh_bytes(&self) -> Option<u32> {
        const TCP_INFINITE_SSTHRESH: u32 = 0x7fff_ffff;
        let segments = self.sender.snd_ssthresh;
        (segments > 0 && segments < TCP_INFINITE_SSTHRESH)
            .then(|| segments.saturating_mul(self.sender.snd_mss))
    }

    pub fn writer_blocked(&self) -> bool {
        self.writer_state == WriterState::Blocked
    }

    /// The writer's stalls so far, the running one included. (The writer
    /// counts a stall in `stall_count` when it ends, with its length.)
    pub fn stalls_so_far(&self) -> u64 {
        self.stall_count + u64::from(self.writer_blocked())
    }

    /// The reader's free memory and the room its window needs, by the rule
    /// of the kernel's __tcp_select_window() (Linux 6.x): while less than
    /// half the buffer is free, the window is 0 until the free space
    /// reaches one segment (tcpi_rcv_mss) or 1/16 of the buffer, whichever
    /// is more. Comparing with half and 1/16 needs no conversion; the
    /// segment counts payload, which the kernel turns into memory by its
    /// measured payload share (scaling_ratio, not exported). That share is
    /// estimated by the queue's own, FIONREAD / rmem_alloc, which reads low
    /// while a segment is partly read (its memory is freed only once it
    /// has been read to its end), so the segment's memory reads high: the
    /// rule errs towards "0", the side the kernel has shown. None while
    /// nothing is queued, or where the kernel has no SO_MEMINFO.
    pub fn window_room(&self) -> Option<WindowRoom> {
        let memory = self.receiver_memory;
        if memory.rmem_alloc == 0 || self.recv_queue == 0 || memory.rcvbuf == 0 {
            return None;
        }
        let share = (f64::from(self.recv_queue) / f64::from(memory.rmem_alloc)).min(1.0);
        let segment = (f64::from(self.receiver.rcv_mss) / share).min(f64::from(u32::MAX)) as u32;
        let buffer = memory.rcvbuf;
        Some(WindowRoom {
            free: buffer
                .saturating_sub(memory.rmem_alloc)
                .saturating_sub(memory.backlog),
            buffer,
            needed: segment.clamp(buffer / 16, buffer / 2),
        })
    }

    pub fn reader_paused(&self) -> bool {
        self.reader_state == ReaderState::Paused
    }

    pub fn t_secs(&self) -> f64 {
        self.t_ns as f64 / 1e9
    }
}

/// The samples a sampler took on its clock, for the rate it achieved. The
/// extra sample taken when a worker ends (so the last one holds the final
/// counters) is not on the clock: counted, it would make a 1 Hz run of
/// one second read "2 Hz".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleSchedule {
    pub taken: u64,
    pub first_ns: u64,
    pub last_ns: u64,
}

impl SampleSchedule {
    /// Counts a sample taken on the clock at `t_ns`.
    pub fn add(&mut self, t_ns: u64) {
        if self.taken == 0 {
            self.first_ns = t_ns;
        }
        self.last_ns = t_ns;
        self.taken += 1;
    }

    /// Samples a second between the first and the last on the clock; 0
    /// with fewer than two.
    pub fn achieved_hz(&self) -> f64 {
        let span_s = self.last_ns.saturating_sub(self.first_ns) as f64 / 1e9;
        if self.taken > 1 && span_s > 0.0 {
            (self.taken - 1) as f64 / span_s
        } else {
            0.0
        }
    }
}

/// Samples from one tick, tagged with the session that produced them so a
/// restart can never mix old and new samples.
#[derive(Debug, Clone)]
pub struct SampleBatch {
    pub session_id: u64,
    pub samples: Vec<Sample>,
}

/// The span the rates on screen are measured over: long enough to smooth
/// a paced writer's ticks, short enough to follow a slider at once.
pub const RATE_WINDOW: Duration = Duration::from_millis(500);

/// Bytes per second written and read over the last `window` of `samples`
/// (sorted by time, in a slice, a `Vec` or a `VecDeque`): from the oldest
/// sample within `window` of the newest to the newest. (0, 0) until two
/// samples span some time. Walks back only as far as `window`.
pub fn rates_over<'a, I>(samples: I, window: Duration) -> (f64, f64)
where
    I: IntoIterator<Item = &'a Sample>,
    I::IntoIter: DoubleEndedIterator,
{
    let mut newest_first = samples.into_iter().rev();
    let Some(newest) = newest_first.next() else {
        return (0.0, 0.0);
    };
    let since = newest
        .t_ns
        .saturating_sub(window.as_nanos().try_into().unwrap_or(u64::MAX));
    let first = newest_first
        .take_while(|s| s.t_ns >= since)
        .last()
        .unwrap_or(newest);
    if newest.t_ns <= first.t_ns {
        return (0.0, 0.0);
    }
    let secs = (newest.t_ns - first.t_ns) as f64 / 1e9;
    (
        newest.written.saturating_sub(first.written) as f64 / secs,
        newest.read.saturating_sub(first.read) as f64 / secs,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64, written: u64, read: u64) -> Sample {
        Sample {
            t_ns: ms * 1_000_000,
            written,
            read,
            ..Sample::default()
        }
    }

    const HALF_SECOND: Duration = Duration::from_millis(500);

    #[test]
    fn rates_use_only_the_samples_within_the_window_of_the_newest() {
        let samples = [
            // Older than the window: a burst that must not count.
            at(0, 0, 0),
            at(100, 1_000_000, 1_000_000),
            // The window: 500 ms before the newest (inclusive) to it.
            at(600, 1_000_000, 1_000_000),
            at(850, 1_250_000, 1_100_000),
            at(1100, 1_500_000, 1_200_000),
        ];
        let (written, read) = rates_over(&samples, HALF_SECOND);
        assert_eq!(written, 1_000_000.0);
        assert_eq!(read, 400_000.0);
        // A longer window reaches further back.
        let (written, _) = rates_over(&samples, Duration::from_secs(2));
        assert!((written - 1_500_000.0 / 1.1).abs() < 1e-6, "{written}");
    }

    #[test]
    fn rates_are_zero_until_two_samples_span_some_time() {
        assert_eq!(rates_over(&[], HALF_SECOND), (0.0, 0.0));
        assert_eq!(rates_over(&[at(5, 10, 10)], HALF_SECOND), (0.0, 0.0));
        // The newest alone within the window.
        let far = [at(0, 0, 0), at(2000, 4096, 4096)];
        assert_eq!(rates_over(&far, HALF_SECOND), (0.0, 0.0));
        // Counters never run backwards, but a restart's would not panic.
        let (written, read) = rates_over(&[at(0, 100, 100), at(500, 50, 50)], HALF_SECOND);
        assert_eq!((written, read), (0.0, 0.0));
    }

    #[test]
    fn a_send_buffer_is_writable_while_half_as_much_is_free_as_queued() {
        let memory = |wmem_queued| SenderMemory {
            wmem_queued,
            sndbuf: 131_072,
        };
        // Measured with the lesson's Python client after EAGAIN: 95 % full.
        assert!(!memory(125_291).writable());
        // 43,692 free of 87,380 queued: half of it, writable again.
        assert!(memory(87_380).writable());
        assert!(!memory(87_400).writable());
        assert!(SenderMemory::default().writable(), "unknown: not blocked");
    }
}
