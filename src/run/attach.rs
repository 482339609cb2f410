//! Another program's connection as a sample source: its two sockets read
//! through sock_diag (what `ss -tmi` reads), at up to 1000 samples a
//! second, into the same samples, vessels, captions and events as the
//! lab's own connection. Read-only: nothing of it is ours to steer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, unbounded};
use thiserror::Error;

use super::control::Control;
use super::source::{Feed, SampleSource};
use crate::lab::diag::{Connection, DiagSocket, OwnerCache};
use crate::lab::probe::{TcpInfo, TcpState};
use crate::lab::sample::{RATE_WINDOW, ReceiverMemory, SampleSchedule, SenderInfo, SenderMemory};
use crate::lab::sampler::{self, BUSY_TCP_INFO_HZ, Waker};
use crate::lab::{
    Attached, BufferKind, BufferSetting, Fault, IoFailure, LabError, LabThread, ReaderState,
    Sample, SessionInfo, SessionReport, WorkerError, WriterState, next_session_id,
};

/// The fastest an attached connection is read: each sample is two netlink
/// requests (one per end), and a thousand a second follow any flow-control
/// story a class can watch.
pub const MAX_ATTACH_HZ: u32 = 1_000;

/// A batch of samples per display frame or so, as the lab's sampler sends.
const BATCH_INTERVAL: Duration = Duration::from_millis(16);

/// Why a connection could not be attached to.
#[derive(Debug, Error)]
pub enum AttachError {
    #[error(
        "no TCP connection on this machine has the local address {0} (a listening socket is not a connection; `sockscope connections` lists them all)"
    )]
    NotFound(SocketAddr),
    #[error("no TCP connection from {local} goes to {peer} (`sockscope connections --port {port}` lists those from {local})", port = local.port())]
    NoSuchPeer { local: SocketAddr, peer: SocketAddr },
    #[error("{count} connections have the local address {local}; pick one with --peer ADDR:PORT:\n{list}", count = .peers.len(), list = peer_list(.peers))]
    Ambiguous {
        local: SocketAddr,
        /// Each match's peer address and state.
        peers: Vec<(SocketAddr, &'static str)>,
    },
    #[error("could not read the machine's sockets (sock_diag netlink): {0}")]
    Diag(#[from] std::io::Error),
    #[error("could not start the attach thread: {0}")]
    Thread(std::io::Error),
}

impl AttachError {
    /// The user named a connection that is not there, or not only one:
    /// bad input (exit 2), not a failure of the machine.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            AttachError::NotFound(_)
                | AttachError::NoSuchPeer { .. }
                | AttachError::Ambiguous { .. }
        )
    }
}

fn peer_list(peers: &[(SocketAddr, &'static str)]) -> String {
    peers
        .iter()
        .map(|(peer, state)| format!("  --peer {peer}   ({state})"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The same address, however the socket is bound: an IPv4 connection on a
/// dual-stack IPv6 socket reports `::ffff:127.0.0.1`.
fn same_address(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && a.ip().to_canonical() == b.ip().to_canonical()
}

/// The connection to follow: the socket whose local address is `local`
/// (and whose peer is `peer`, if given), and its other end if that is on
/// this machine too.
#[derive(Debug, Clone)]
pub struct Target {
    pub followed: Connection,
    /// The other end's socket, when the peer is a program on this machine.
    pub other: Option<Connection>,
    /// Whether each end was accepted from a listener (else it connected):
    /// an accepted socket's byte count never holds its SYN.
    pub followed_accepted: bool,
    pub other_accepted: bool,
}

impl Target {
    /// Finds the connection. Sockets no program holds any more (closed,
    /// finishing on their own, TIME_WAIT) and listeners are not candidates.
    pub fn find(local: SocketAddr, peer: Option<SocketAddr>) -> Result<Target, AttachError> {
        let all = DiagSocket::open()?.dump()?;
        Self::find_in(&all, local, peer)
    }

    fn find_in(
        all: &[Connection],
        local: SocketAddr,
        peer: Option<SocketAddr>,
    ) -> Result<Target, AttachError> {
        let live = |c: &&Connection| c.tcp_state != TcpState::Listen && !c.orphaned();
        let from_here: Vec<&Connection> = all
            .iter()
            .filter(live)
            .filter(|c| same_address(c.local, local))
            .collect();
        if from_here.is_empty() {
            return Err(AttachError::NotFound(local));
        }
        let matching: Vec<&Connection> = from_here
            .iter()
            .copied()
            .filter(|c| peer.is_none_or(|p| same_address(c.peer, p)))
            .collect();
        let followed = match (matching.as_slice(), peer) {
            ([one], _) => (*one).clone(),
            ([], Some(peer)) => return Err(AttachError::NoSuchPeer { local, peer }),
            _ => {
                return Err(AttachError::Ambiguous {
                    local,
                    peers: matching.iter().map(|c| (c.peer, c.state)).collect(),
                });
            }
        };
        let other = all
            .iter()
            .filter(live)
            .find(|c| same_address(c.local, followed.peer) && same_address(c.peer, followed.local))
            .cloned();
        // An end whose port a listener on its address holds was accepted
        // from it (a connecting end's port is an ephemeral one).
        let accepted = |end: &Connection| {
            all.iter().any(|l| {
                l.tcp_state == TcpState::Listen
                    && l.local.port() == end.local.port()
                    && (l.local.ip().is_unspecified()
                        || l.local.ip().to_canonical() == end.local.ip().to_canonical())
            })
        };
        let followed_accepted = accepted(&followed);
        let other_accepted = other.as_ref().is_some_and(accepted);
        let mut ends: Vec<Connection> = std::iter::once(followed).chain(other).collect();
        OwnerCache::default().fill(&mut ends);
        let mut ends = ends.into_iter();
        Ok(Target {
            followed: ends.next().expect("the followed end"),
            other: ends.next(),
            followed_accepted,
            other_accepted,
        })
    }

    /// Whether the followed end sends the data the picture shows: the end
    /// that has sent more so far; the followed end if nothing moved yet.
    /// With the peer on another machine the one socket is both.
    fn followed_writes(&self) -> bool {
        let info = self.followed.info.unwrap_or_default();
        let sent = info.bytes_acked.unwrap_or(0) + u64::from(self.followed.send_q);
        let received = info.bytes_received.unwrap_or(0);
        self.other.is_none() || sent >= received
    }
}

/// Watches another program's connection.
pub struct AttachSource {
    info: SessionInfo,
    started: Instant,
    batches: Receiver<Vec<Sample>>,
    stop: Arc<AtomicBool>,
    hz: Arc<AtomicU32>,
    thread: Option<JoinHandle<FollowerEnd>>,
}

/// What the follower leaves when it ends (its channel is dropped with it,
/// which tells `poll` that nothing more comes).
struct FollowerEnd {
    last: Option<Sample>,
    /// The stalls counted to the end: a stall still running when watching
    /// stopped ends there, as the lab's writer ends its own when it stops.
    stall_count: u64,
    stall_ns: u64,
    /// The last sample before the connection closed (the closed one reads
    /// a freed socket: no buffers).
    last_open: Option<Sample>,
    samples: u64,
    schedule: SampleSchedule,
    error: Option<WorkerError>,
}

impl AttachSource {
    /// Starts following `target` at `hz` samples a second (at most
    /// `MAX_ATTACH_HZ`); `waker` is called as samples arrive.
    pub fn start(target: Target, hz: u32, waker: Option<Waker>) -> Result<Self, AttachError> {
        let (source, first) = Self::launch(target, hz, waker, DiagSocket::open()?)?;
        // Watching begins with the first sample: once this returns, a
        // stall that starts is seen starting (a caller may now say it
        // watches, and a test may now make the stall). A follower that
        // ends drops its sender, which ends the wait too.
        let _ = first.recv_timeout(FIRST_SAMPLE_WAIT);
        Ok(source)
    }

    /// Like `start`, reading the ends through `diag` (one made in a
    /// private link's namespace follows a connection there), and without
    /// waiting for the first sample: for a caller that finds connections
    /// as they come and must not stop looking.
    pub fn start_with(
        target: Target,
        hz: u32,
        waker: Option<Waker>,
        diag: DiagSocket,
    ) -> Result<Self, AttachError> {
        Self::launch(target, hz, waker, diag).map(|(source, _)| source)
    }

    /// Starts the follower; the receiver hears of its first sample.
    fn launch(
        target: Target,
        hz: u32,
        waker: Option<Waker>,
        diag: DiagSocket,
    ) -> Result<(Self, Receiver<()>), AttachError> {
        let writes = target.followed_writes();
        let (writer, reader) = match (&target.other, writes) {
            (None, _) => (&target.followed, &target.followed),
            (Some(other), true) => (&target.followed, other),
            (Some(other), false) => (other, &target.followed),
        };
        let owner = |c: &Connection| {
            c.owner
                .as_ref()
                .map(|o| format!("{}, pid {}", o.command, o.pid))
        };
        let memory = |c: &Connection| c.memory.unwrap_or_default();
        let buffer = |kind, bytes: u32| BufferSetting {
            kind,
            requested: None,
            effective: u64::from(bytes),
            kernel_max: None,
            origin_known: false,
        };
        let info = SessionInfo {
            id: next_session_id(),
            writer_addr: writer.local,
            reader_addr: if target.other.is_some() {
                reader.local
            } else {
                target.followed.peer
            },
            sndbuf: buffer(BufferKind::Send, memory(writer).sndbuf),
            rcvbuf: buffer(BufferKind::Receive, memory(reader).rcvbuf),
            outside: target.other.is_none(),
            link: None,
            link_lacks: Default::default(),
            congestion: writer.congestion.clone().unwrap_or_default(),
            capture: Default::default(),
            attached: Some(Attached {
                followed: target.followed.local,
                writer_owner: owner(writer),
                reader_owner: if target.other.is_some() {
                    owner(reader)
                } else {
                    None
                },
            }),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let hz = Arc::new(AtomicU32::new(hz.clamp(1, MAX_ATTACH_HZ)));
        let (tx, batches) = unbounded();
        let (first_taken, first) = crossbeam_channel::bounded(1);
        let started = Instant::now();
        let follower = Follower {
            first_taken: Some(first_taken),
            diag,
            writer: writer.clone(),
            reader: target.other.as_ref().map(|_| reader.clone()),
            followed_writes: writes,
            writer_accepted: if writes {
                target.followed_accepted
            } else {
                target.other_accepted
            },
            info: Default::default(),
            started,
            stop: Arc::clone(&stop),
            hz: Arc::clone(&hz),
            out: tx,
            waker,
            last: None,
            last_open: None,
            stall_began: None,
            reader_still_since: 0,
            samples: 0,
            schedule: SampleSchedule::default(),
            error: None,
        };
        let thread = std::thread::Builder::new()
            .name("sockscope-attach".into())
            .spawn(move || follower.run())
            .map_err(AttachError::Thread)?;
        let source = AttachSource {
            info,
            started,
            batches,
            stop,
            hz,
            thread: Some(thread),
        };
        Ok((source, first))
    }
}

impl SampleSource for AttachSource {
    fn info(&self) -> &SessionInfo {
        &self.info
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn poll(&mut self, out: &mut Vec<Sample>) -> Feed {
        loop {
            match self.batches.try_recv() {
                Ok(batch) => out.extend(batch),
                Err(TryRecvError::Empty) => return Feed::Open,
                Err(TryRecvError::Disconnected) => return Feed::Ended,
            }
        }
    }

    /// Only the sample rate is ours; the connection is another program's.
    fn control(&self, control: Control) -> Result<(), LabError> {
        match control {
            Control::SampleHz(hz) => {
                self.hz.store(hz.clamp(1, MAX_ATTACH_HZ), Relaxed);
                Ok(())
            }
            _ => Err(LabError::ReadOnly),
        }
    }

    /// Stops following; the last sample is taken at once.
    fn finish(&self) {
        self.stop.store(true, Relaxed);
    }

    fn abort(&self) {
        self.stop.store(true, Relaxed);
    }

    fn join(mut self: Box<Self>) -> SessionReport {
        self.stop.store(true, Relaxed);
        let follower = self.thread.take().map(|t| t.join());
        let elapsed = self.started.elapsed();
        let mut report = SessionReport {
            bytes_written: 0,
            bytes_read: 0,
            first_mismatch: None,
            stall_count: 0,
            stall_time: Duration::ZERO,
            samples: 0,
            schedule: Default::default(),
            elapsed,
            errors: Vec::new(),
            final_sndbuf: None,
            final_rcvbuf: None,
            drained: false,
            // Another program's bytes are not ours to check.
            verified: false,
        };
        match follower {
            Some(Ok(follower)) => {
                if let Some(last) = follower.last {
                    report.bytes_written = last.written;
                    report.bytes_read = last.read;
                }
                report.stall_count = follower.stall_count;
                report.stall_time = Duration::from_nanos(follower.stall_ns);
                if let Some(open) = follower.last_open {
                    report.final_sndbuf = Some(u64::from(open.sender_memory.sndbuf));
                    report.final_rcvbuf = Some(u64::from(open.receiver_memory.rcvbuf));
                }
                report.samples = follower.samples;
                // Every sample is on the follower's clock.
                report.schedule = follower.schedule;
                report.errors.extend(follower.error);
            }
            Some(Err(_)) => report
                .errors
                .push(WorkerError::Panicked(LabThread::Sampler)),
            None => {}
        }
        report
    }

    fn inject_fault(&self, _fault: Fault) {}
}

impl Drop for AttachSource {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread that reads both ends.
struct Follower {
    diag: DiagSocket,
    /// The end that sends; with the peer on another machine, the one
    /// socket (which then also receives).
    writer: Connection,
    /// The end that receives, when it is on this machine.
    reader: Option<Connection>,
    /// The end the user named is `writer` (else `reader`).
    followed_writes: bool,
    /// The sending end was accepted from a listener (its count holds no SYN).
    writer_accepted: bool,
    /// Each end's TCP_INFO, read as often as its lock allows.
    info: [InfoReading; 2],
    started: Instant,
    stop: Arc<AtomicBool>,
    hz: Arc<AtomicU32>,
    out: Sender<Vec<Sample>>,
    waker: Option<Waker>,
    last: Option<Sample>,
    last_open: Option<Sample>,
    /// When the send buffer filled, for the stall counters.
    stall_began: Option<u64>,
    /// When the receiving program last took bytes, or its queue last had
    /// room: since when a full queue has stood still.
    reader_still_since: u64,
    samples: u64,
    schedule: SampleSchedule,
    error: Option<WorkerError>,
    /// Told once the first sample is taken.
    first_taken: Option<Sender<()>>,
}

/// The longest `AttachSource::start` waits for the first sample (one
/// sock_diag dump, a millisecond or so).
const FIRST_SAMPLE_WAIT: Duration = Duration::from_secs(2);

impl Follower {
    fn run(mut self) -> FollowerEnd {
        let mut batch = Vec::new();
        let mut sent_at = Instant::now();
        let mut next = Instant::now();
        loop {
            let stopping = self.stop.load(Relaxed);
            let sample = match self.take() {
                Ok(sample) => sample,
                Err(error) => {
                    self.error = Some(WorkerError::Sampling(IoFailure::from(&error)));
                    break;
                }
            };
            if let Some(first_taken) = self.first_taken.take() {
                let _ = first_taken.send(());
            }
            let closed = sample.writer_state == WriterState::Closed;
            if !closed {
                self.last_open = Some(sample);
            }
            batch.push(sample);
            self.last = Some(sample);
            self.samples += 1;
            self.schedule.add(sample.t_ns);
            if closed || stopping || sent_at.elapsed() >= BATCH_INTERVAL {
                if self.out.send(std::mem::take(&mut batch)).is_err() {
                    break;
                }
                if let Some(wake) = &self.waker {
                    wake();
                }
                sent_at = Instant::now();
            }
            if closed || stopping {
                break;
            }
            let period = Duration::from_nanos(1_000_000_000 / u64::from(self.hz.load(Relaxed)));
            next += period;
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            } else {
                // Behind (a busy machine): take the next sample now, and
                // count the schedule from here.
                next = now;
            }
        }
        // What a failed read left unsent.
        if !batch.is_empty()
            && self.out.send(batch).is_ok()
            && let Some(wake) = &self.waker
        {
            wake();
        }
        let (stall_count, stall_ns) = self.stalls_at_end();
        FollowerEnd {
            last: self.last,
            stall_count,
            stall_ns,
            last_open: self.last_open,
            samples: self.samples,
            schedule: self.schedule,
            error: self.error,
        }
    }

    /// One sample: both ends asked for again.
    fn take(&mut self) -> std::io::Result<Sample> {
        let t_ns = self.started.elapsed().as_nanos() as u64;
        let writer = self.info[0].read(&self.diag, &self.writer, t_ns)?;
        let reader = match &self.reader {
            Some(reader) => self.info[1].read(&self.diag, reader, t_ns)?,
            // The one socket is both ends.
            None => writer.clone(),
        };
        let before = [
            self.info[0].before,
            self.info[usize::from(self.reader.is_some())].before,
        ];
        let mut sample = build_sample(
            t_ns,
            writer.as_ref(),
            reader.as_ref(),
            before,
            self.writer_accepted,
        );
        sample.sender_info_age_us = self.info[0].age_us(t_ns);
        sample.receiver_info_age_us = if self.reader.is_some() {
            self.info[1].age_us(t_ns)
        } else {
            sample.sender_info_age_us
        };
        if let Some(last) = &self.last {
            // Between two TCP_INFO readings the byte counts rest on the
            // older one; they never run backwards.
            sample.written = sample.written.max(last.written);
            sample.read = sample.read.max(last.read);
        }
        // The end the user named is gone or no program holds it: the
        // connection is over for its program.
        let followed_gone = if self.reader.is_some() && !self.followed_writes {
            reader.as_ref().is_none_or(Connection::orphaned)
        } else {
            writer.as_ref().is_none_or(Connection::orphaned)
        };
        if followed_gone {
            sample.writer_state = WriterState::Closed;
        }
        self.count_stalls(&mut sample);
        self.judge_reader(&mut sample);
        Ok(sample)
    }

    /// Whether the receiving program reads, as far as its kernel shows:
    /// a queue with room, or one whose bytes are being taken, is read
    /// (its program may wait in recv() for more); a queue full enough to
    /// offer no window that has not moved for `RATE_WINDOW` (the span the
    /// window's read rate is measured over) is not: a recv() on it would
    /// have taken bytes.
    fn judge_reader(&mut self, sample: &mut Sample) {
        // The writer's view of the window is this reader's only when both
        // ends are here; the room by the reader's own memory always is.
        let full = (self.reader.is_some() && sample.zero_window)
            || sample.window_room().is_some_and(|room| room.too_little());
        let moved = self.last.is_some_and(|last| last.read != sample.read);
        if !full || moved {
            self.reader_still_since = sample.t_ns;
        }
        let still = Duration::from_nanos(sample.t_ns.saturating_sub(self.reader_still_since));
        if full && still >= RATE_WINDOW && sample.writer_state != WriterState::Closed {
            sample.reader_state = ReaderState::NotReading;
        }
    }

    /// The stall counters once watching ends: a stall still running is
    /// counted up to the last sample (one that began before watching did
    /// is counted from the first).
    fn stalls_at_end(&self) -> (u64, u64) {
        let Some(last) = &self.last else {
            return (0, 0);
        };
        match self.stall_began {
            Some(began) if last.writer_blocked() => (
                last.stall_count + 1,
                last.stall_ns + last.t_ns.saturating_sub(began),
            ),
            _ => (last.stall_count, last.stall_ns),
        }
    }

    /// Counts the times the send buffer was full as the lab counts its
    /// writer's stalls: each one is added, with its length, when it ends.
    fn count_stalls(&mut self, sample: &mut Sample) {
        let (count, total) = self.last.map_or((0, 0), |l| (l.stall_count, l.stall_ns));
        sample.stall_count = count;
        sample.stall_ns = total;
        match (sample.writer_blocked(), self.stall_began) {
            (true, None) => self.stall_began = Some(sample.t_ns),
            (false, Some(began)) => {
                sample.stall_count += 1;
                sample.stall_ns += sample.t_ns.saturating_sub(began);
                self.stall_began = None;
            }
            _ => {}
        }
    }
}

/// TCP_INFO costs a wait for the socket's lock (the kernel's
/// tcp_get_info() takes it), which a busy program holds almost all the
/// time: a reading that waited longer than this makes the next ones come
/// at most `BUSY_TCP_INFO_HZ` times a second, as the lab's own sampler
/// does, while the queues and memory stay fresh every sample.
const SLOW_INFO: Duration = Duration::from_micros(100);

/// One end's last TCP_INFO, and whether reading it is slow now.
#[derive(Default)]
struct InfoReading {
    info: Option<TcpInfo>,
    /// A TCP_INFO read before the last lookup's queues: the byte counts
    /// the queues are taken from (see `build_sample`).
    before: Option<TcpInfo>,
    congestion: Option<String>,
    at_ns: u64,
    slow: bool,
}

impl InfoReading {
    /// The end now: with a fresh TCP_INFO when it is cheap or due, else
    /// with the last one.
    fn read(
        &mut self,
        diag: &DiagSocket,
        end: &Connection,
        t_ns: u64,
    ) -> std::io::Result<Option<Connection>> {
        if self.info.is_none() {
            // A first TCP_INFO, so that even the first sample's byte counts
            // come from one read before its queues.
            self.info = diag.lookup(end, true)?.and_then(|found| found.info);
        }
        let due = t_ns.saturating_sub(self.at_ns) >= 1_000_000_000 / u64::from(BUSY_TCP_INFO_HZ);
        let with_info = !self.slow || due || self.info.is_none();
        // Read at an earlier lookup, so before this one's queues.
        self.before = self.info;
        let asked = Instant::now();
        let found = diag.lookup(end, with_info)?;
        let Some(mut found) = found else {
            return Ok(None);
        };
        if with_info {
            self.slow = asked.elapsed() > SLOW_INFO;
            self.info = found.info;
            self.congestion = found.congestion.clone();
            self.at_ns = t_ns;
        } else {
            found.info = self.info;
            found.congestion = self.congestion.clone();
        }
        Ok(Some(found))
    }

    fn age_us(&self, t_ns: u64) -> u32 {
        u32::try_from(t_ns.saturating_sub(self.at_ns) / 1_000).unwrap_or(u32::MAX)
    }
}

/// A sample from the two ends' sock_diag answers (None: gone). The writer's
/// queue is its send queue (SIOCOUTQ's number), the reader's its receive
/// queue (FIONREAD's); the bytes the programs wrote and read come from the
/// kernel's counts of bytes acknowledged and received, taken from `before`,
/// each end's TCP_INFO read before these queues were.
///
/// sock_diag reads a socket's queues without its lock and its TCP_INFO
/// after them, under the lock: an ACK (or a segment) that arrives between
/// the two counts its bytes in both, and "written" (acknowledged + queued)
/// or "read" (received - queued) comes out too high, kilobytes at a time
/// on loopback. Counts read before the queues can only be lower than
/// the queues' moment: while data moves, a sample shows the bytes written
/// and read as of the TCP_INFO before (one sample earlier, or up to
/// 1/`BUSY_TCP_INFO_HZ` s while a busy program's lock rations it), and to
/// the byte once it stops (the counts never run backwards, so one too
/// high would stay).
fn build_sample(
    t_ns: u64,
    writer: Option<&Connection>,
    reader: Option<&Connection>,
    before: [Option<TcpInfo>; 2],
    writer_accepted: bool,
) -> Sample {
    let tx = writer.and_then(|c| c.info).unwrap_or_default();
    let rx = reader.and_then(|c| c.info).unwrap_or_default();
    let [tx_before, rx_before] = before.map(Option::unwrap_or_default);
    let send_queue = writer.map_or(0, |c| c.send_q);
    let recv_queue = reader.map_or(0, |c| c.recv_q);
    // The FIN is in the send queue once its program closed: counted out
    // if the socket's state before the queue (sock_diag's header) or
    // after it (a fresh TCP_INFO) says it may be.
    let fin_queued = writer.is_some_and(|c| fin_sent(c.tcp_state)) || fin_sent(tx.state);
    let unsent = tx.notsent_bytes.unwrap_or(0).min(send_queue);
    let wmem = writer.and_then(|c| c.memory).unwrap_or_default();
    let rmem = reader.and_then(|c| c.memory).unwrap_or_default();
    let sender_memory = SenderMemory {
        wmem_queued: wmem.wmem_queued,
        sndbuf: wmem.sndbuf,
    };
    // The lab's own conversion, with the unsent bytes capped at the queue
    // as the sample's are.
    let sender = SenderInfo {
        notsent_bytes: unsent,
        ..sampler::sender_info(&tx, unsent)
    };
    Sample {
        t_ns,
        send_queue,
        unsent,
        recv_queue,
        written: bytes_written(&tx_before, send_queue, fin_queued, writer_accepted),
        read: rx_before
            .bytes_received
            .unwrap_or(0)
            .saturating_sub(u64::from(recv_queue)),
        writer_state: writer_state(writer, sender_memory),
        // The receiving program's calls are not visible: it counts as
        // reading until its queue shows otherwise (`judge_reader`). (Its
        // FIN received shows in its TCP state, not as `PeerClosed`, which
        // says a recv() returned 0.)
        reader_state: ReaderState::Reading,
        zero_window: writer.is_some() && tx.snd_wnd == Some(0) && tx.state == TcpState::Established,
        sender,
        receiver: sampler::receiver_info(&rx),
        receiver_memory: ReceiverMemory {
            rmem_alloc: rmem.rmem_alloc,
            rcvbuf: rmem.rcvbuf,
            backlog: rmem.backlog,
            drops: rmem.drops,
        },
        sender_memory,
        ..Sample::default()
    }
}

/// Whether a socket in `state` has had its FIN queued: its program closed
/// (or shut down) its side.
fn fin_sent(state: TcpState) -> bool {
    matches!(
        state,
        TcpState::FinWait1
            | TcpState::FinWait2
            | TcpState::Closing
            | TcpState::LastAck
            | TcpState::TimeWait
    )
}

/// The bytes the sending program handed to its kernel: those acknowledged
/// (by `tx`, read before `send_queue`) and those still queued. The kernel's
/// counts include, on a connecting socket, the SYN's one sequence number
/// (acknowledged with the handshake; an accepted socket is made with its
/// SYN acknowledged, and its count starts after it) and, once its program
/// closed its side, the FIN's (queued, then acknowledged).
fn bytes_written(tx: &TcpInfo, send_queue: u32, fin_queued: bool, accepted: bool) -> u64 {
    let sequence = tx.bytes_acked.unwrap_or(0) + u64::from(send_queue);
    sequence.saturating_sub(u64::from(!accepted) + u64::from(fin_queued))
}

/// What the sending end is doing, as far as its kernel shows: its program's
/// calls are not visible, but a send buffer too full to be writable (what
/// poll() and select() report) is when a program's send() sleeps or
/// returns EAGAIN, and a FIN sent is its program closing or shutting down
/// its side.
fn writer_state(writer: Option<&Connection>, memory: SenderMemory) -> WriterState {
    let Some(writer) = writer else {
        return WriterState::Closed;
    };
    // The state in sock_diag's header, fresh every sample (a TCP_INFO may
    // be older).
    match writer.tcp_state {
        TcpState::FinWait1
        | TcpState::FinWait2
        | TcpState::Closing
        | TcpState::LastAck
        | TcpState::TimeWait
        | TcpState::Close => WriterState::Finished,
        _ if !memory.writable() => WriterState::Blocked,
        _ => WriterState::Sending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(state: TcpState, acked: u64, received: u64) -> TcpInfo {
        TcpInfo {
            state,
            bytes_acked: Some(acked),
            bytes_received: Some(received),
            ..TcpInfo::default()
        }
    }

    /// An ACK for 4 KiB and a 4 KiB segment arrive between sock_diag's
    /// reading of the queues and its TCP_INFO: the counts read before the
    /// queues give the bytes written and read, not those (8 KiB too many
    /// written, 4 KiB read that no program read).
    #[test]
    fn written_and_read_come_from_counts_read_before_the_queues() {
        let writer = Connection::example(
            TcpState::Established,
            12_288,
            0,
            info(TcpState::Established, 1 + 4_096 + 4_096, 1),
        );
        let reader = Connection::example(
            TcpState::Established,
            0,
            8_192,
            info(TcpState::Established, 1, 8_192 + 4_096),
        );
        let before = [
            Some(info(TcpState::Established, 1 + 4_096, 1)),
            Some(info(TcpState::Established, 1, 8_192)),
        ];
        let sample = build_sample(7, Some(&writer), Some(&reader), before, false);
        assert_eq!(sample.written, 4_096 + 12_288);
        assert_eq!(sample.read, 0);
        // Read from the answer alone, the race shows.
        let racy = build_sample(
            7,
            Some(&writer),
            Some(&reader),
            [writer.info, reader.info],
            false,
        );
        assert_eq!(racy.written, 4_096 + 4_096 + 12_288);
        assert_eq!(racy.read, 4_096);
    }

    /// Once the program closed, its FIN takes a sequence number in the
    /// queue: counted out when either state (sock_diag's header, read
    /// before the queue, or the TCP_INFO) says it was queued.
    #[test]
    fn a_queued_fin_is_not_a_byte_written() {
        let acked = 1 + 1_000;
        for (header, info_state) in [
            (TcpState::FinWait1, TcpState::FinWait1),
            (TcpState::FinWait1, TcpState::Established),
            (TcpState::Established, TcpState::FinWait1),
        ] {
            let writer = Connection::example(header, 501, 0, info(info_state, acked, 1));
            let before = [writer.info, None];
            let sample = build_sample(7, Some(&writer), None, before, false);
            assert_eq!(sample.written, 1_500, "{header:?} {info_state:?}");
        }
        let writer = Connection::example(
            TcpState::Established,
            500,
            0,
            info(TcpState::Established, acked, 1),
        );
        let sample = build_sample(7, Some(&writer), None, [writer.info, None], false);
        assert_eq!(sample.written, 1_500);
        assert_eq!(sample.writer_state, WriterState::Sending);
    }
}
