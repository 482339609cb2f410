//! A lab session: one real TCP connection over loopback, a writer thread on
//! the client socket, a reader thread on the accepted socket, and a sampler
//! thread watching both. Start, steer, finish, join.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, unbounded};
use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

use super::buffers::{BufferKind, BufferSetting};
use super::config::{Endpoint, LabConfig, LabError, check_chunk, check_sample_hz};
use super::connect::{accept_one, connect_one, connect_pair, fresh_sockets, split, step};
use super::link::{Link, LinkLacks, LinkSpec, Loss};
use super::reader::{Reader, ReaderControl, ReaderExit};
use super::sample::{ReaderState, SampleBatch, SampleSchedule, WriterState};
use super::sampler::{SampleDesk, Sampler, SamplerControl, SamplerExit, Waker};
use super::shared::{Shared, Worker};
use super::units::{Rate, Size};
use super::wire::{CaptureCounters, Capturer, PacketBatch, Tap};
use super::worker_error::{LabThread, WorkerError};
use super::writer::{Writer, WriterControl, WriterExit};

/// What a session is, once started: its endpoints and real buffer sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: u64,
    pub writer_addr: SocketAddr,
    pub reader_addr: SocketAddr,
    pub sndbuf: BufferSetting,
    pub rcvbuf: BufferSetting,
    /// An outside peer: writer_addr is the local end, reader_addr the
    /// peer's, and the bytes read are not verified.
    pub outside: bool,
    /// The private link the pair runs on; None on the machine's loopback.
    pub link: Option<LinkSpec>,
    /// The link controls the kernel cannot apply (delay without netem,
    /// loss without nf_tables); none without a link.
    pub link_lacks: LinkLacks,
    /// The writer's congestion control, as the kernel reports it.
    pub congestion: String,
    /// The capture of the wire: not asked for, running, or why it could
    /// not start (the session runs without it).
    pub capture: CaptureState,
    /// Another program's connection, watched read-only; None for the lab's
    /// own.
    pub attached: Option<Attached>,
}

/// Another program's connection that sockscope watches through sock_diag:
/// nothing of it is sockscope's to steer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// The local address the user named.
    pub followed: SocketAddr,
    /// The programs holding each end ("python3, pid 4242"), where this user
    /// may see them.
    pub writer_owner: Option<String>,
    pub reader_owner: Option<String>,
}

/// Whether the session's packets are captured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CaptureState {
    #[default]
    Off,
    On,
    /// One sentence: why there is no capture.
    Failed(String),
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionReport {
    pub bytes_written: u64,
    pub bytes_read: u64,
    /// Stream position of the first byte that did not match the pattern.
    pub first_mismatch: Option<u64>,
    pub stall_count: u64,
    pub stall_time: Duration,
    pub samples: u64,
    /// The samples taken on the sampler's clock, for the achieved rate.
    pub schedule: SampleSchedule,
    /// Time from the start to the end of the last worker (writer or reader).
    pub elapsed: Duration,
    /// Errors the workers met; each prints as one sentence.
    pub errors: Vec<WorkerError>,
    /// SO_SNDBUF / SO_RCVBUF at the end: autotuning grows unset buffers
    /// while the connection runs, so these can exceed the start values.
    pub final_sndbuf: Option<u64>,
    pub final_rcvbuf: Option<u64>,
    /// The reader read up to the writer's EOF (recv() returned 0).
    pub drained: bool,
    /// The reader checked every byte against the writer's pattern (false
    /// with an outside peer).
    pub verified: bool,
}

impl SessionReport {
    /// Some(true): every byte written arrived once, in order, unchanged.
    /// Some(false): a byte was wrong, or the reader reached EOF short.
    /// None: the run was not read to the end (aborted, or the connection
    /// was reset), so only the bytes read were checked and all were right.
    pub fn integrity(&self) -> Option<bool> {
        if !self.verified {
            None
        } else if self.first_mismatch.is_some() {
            Some(false)
        } else if self.drained {
            Some(self.bytes_read == self.bytes_written)
        } else {
            None
        }
    }

    /// Proven intact: `integrity() == Some(true)`.
    pub fn integrity_ok(&self) -> bool {
        self.integrity() == Some(true)
    }

    /// The workers' errors in words, joined by "; "; None without any.
    pub fn errors_text(&self) -> Option<String> {
        (!self.errors.is_empty()).then(|| {
            self.errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

/// Two distinct CPUs this process may run on, for the writer and the
/// reader: the last two allowed (CPU 0 tends to take more interrupts).
fn worker_cpus() -> Option<(usize, usize)> {
    let allowed = sched_getaffinity(Pid::from_raw(0)).ok()?;
    let cpus: Vec<usize> = (0..CpuSet::count())
        .filter(|&cpu| allowed.is_set(cpu).unwrap_or(false))
        .collect();
    match cpus.as_slice() {
        [.., writer, reader] => Some((*writer, *reader)),
        _ => None,
    }
}

/// Pins the calling thread to `cpu`; on failure the thread stays unpinned.
fn pin_current_thread(cpu: Option<usize>) {
    if let Some(cpu) = cpu {
        let mut set = CpuSet::new();
        if set.set(cpu).is_ok() {
            let _ = sched_setaffinity(Pid::from_raw(0), &set);
        }
    }
}

/// Starts a worker on its own named thread (pinned to `cpu` if given).
/// However it ends, even by a panic, it is marked ended and wakes the
/// sampler, so the sampler and `join()` never wait for it forever.
///
/// A worker that fails (an error, or a panic) calls `on_failure`, which
/// tells the other worker to end too: a session with a failed worker ends
/// by itself, and its frontend sees the channel close.
fn spawn_worker<T: Send + 'static>(
    worker: Worker,
    cpu: Option<usize>,
    shared: &Arc<Shared>,
    wake: &Sender<SamplerControl>,
    on_failure: impl FnOnce() + Send + 'static,
    run: impl FnOnce() -> T + Send + 'static,
) -> Result<JoinHandle<T>, LabError> {
    type OnFailure = Box<dyn FnOnce() + Send>;
    struct Ended(
        Worker,
        Arc<Shared>,
        Sender<SamplerControl>,
        Option<OnFailure>,
    );
    impl Drop for Ended {
        fn drop(&mut self) {
            let shared = &self.1;
            if std::thread::panicking() {
                match self.0 {
                    Worker::Writer => shared.set_writer_state(WriterState::Failed),
                    Worker::Reader => shared.set_reader_state(ReaderState::Failed),
                }
            }
            let failed = match self.0 {
                Worker::Writer => shared.writer_state() == WriterState::Failed,
                Worker::Reader => shared.reader_state() == ReaderState::Failed,
            };
            if failed && let Some(on_failure) = self.3.take() {
                on_failure();
            }
            shared.mark_worker_ended(self.0);
            let _ = self.2.send(SamplerControl::WorkerDone);
        }
    }
    let ended = Ended(
        worker,
        Arc::clone(shared),
        wake.clone(),
        Some(Box::new(on_failure)),
    );
    let name = match worker {
        Worker::Writer => "writer",
        Worker::Reader => "reader",
    };
    std::thread::Builder::new()
        .name(format!("sockscope-{name}"))
        .spawn(move || {
            let _ended = ended;
            pin_current_thread(cpu);
            run()
        })
        .map_err(|e| LabError::Thread(name, e))
}

/// A fault `Session::inject_fault` can cause.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    WriterPanics,
    ReaderPanics,
}

/// What a session is: a new id, both ends' addresses, and the buffer
/// sizes the kernel actually gave.
fn session_info(
    config: &LabConfig,
    writer: &TcpStream,
    reader: &TcpStream,
    peer: Option<SocketAddr>,
) -> Result<SessionInfo, LabError> {
    let sndbuf = BufferSetting::read(
        BufferKind::Send,
        config.sndbuf,
        socket2::SockRef::from(writer).send_buffer_size(),
    )
    .map_err(step("read SO_SNDBUF back"))?;
    let rcvbuf = BufferSetting::read(
        BufferKind::Receive,
        config.rcvbuf,
        socket2::SockRef::from(reader).recv_buffer_size(),
    )
    .map_err(step("read SO_RCVBUF back"))?;
    Ok(SessionInfo {
        id: NEXT_SESSION_ID.fetch_add(1, Relaxed),
        writer_addr: writer
            .local_addr()
            .map_err(step("read the writer address"))?,
        // With an outside peer, the other end is the peer.
        reader_addr: match peer {
            Some(peer) => peer,
            None => reader
                .local_addr()
                .map_err(step("read the reader address"))?,
        },
        sndbuf,
        rcvbuf,
        outside: config.endpoint.is_outside(),
        link: match config.endpoint {
            Endpoint::Link(spec) => Some(spec),
            _ => None,
        },
        link_lacks: LinkLacks::default(),
        congestion: super::congestion::get(writer).unwrap_or_default(),
        capture: CaptureState::Off,
        attached: None,
    })
}

static NEXT_SESSION_ID: AtomicU64 = AtomicU64::new(1);

/// A new session id, for a source that is not a lab session (an attached
/// connection), so no two runs share one.
pub fn next_session_id() -> u64 {
    NEXT_SESSION_ID.fetch_add(1, Relaxed)
}

pub struct Session {
    info: SessionInfo,
    shared: Arc<Shared>,
    writer: Arc<TcpStream>,
    reader: Arc<TcpStream>,
    writer_ctl: Sender<WriterControl>,
    reader_ctl: Sender<ReaderControl>,
    sampler_ctl: Sender<SamplerControl>,
    samples: Receiver<SampleBatch>,
    packets: Receiver<PacketBatch>,
    capture: Option<CaptureThread>,
    threads: Option<Threads>,
    /// Holds the private namespace's control socket (see `set_cable`).
    link: Option<Link>,
}

/// The capture of the wire, while it runs.
struct CaptureThread {
    stop: Arc<AtomicBool>,
    counters: Arc<CaptureCounters>,
    thread: Option<JoinHandle<Option<io::Error>>>,
}

struct Threads {
    writer: JoinHandle<WriterExit>,
    reader: JoinHandle<ReaderExit>,
    sampler: JoinHandle<SamplerExit>,
}

impl Session {
    /// Connects a fresh pair of sockets and starts the writer, reader and
    /// sampler threads.
    pub fn start(config: LabConfig) -> Result<Session, LabError> {
        Session::start_with_waker(config, None)
    }

    /// Like `start`, calling `waker` whenever a batch of samples is sent,
    /// so a window can repaint as soon as there is something new to show.
    pub fn start_with_waker(config: LabConfig, waker: Option<Waker>) -> Result<Session, LabError> {
        Session::start_cancellable(config, waker, None)
    }

    /// Like `start_with_waker`; with an outside peer, setting `cancel` stops
    /// the wait for a client or for the server (within 100 ms).
    pub fn start_cancellable(
        config: LabConfig,
        waker: Option<Waker>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Session, LabError> {
        config.check()?;
        let mut link = None;
        let mut capture = None;
        let (writer, reader, peer) = match config.endpoint {
            Endpoint::Loopback => {
                let (writer, reader) = connect_pair(&config, fresh_sockets()?)?;
                (writer, reader, None)
            }
            Endpoint::Link(spec) => {
                let made = Link::open(spec)?;
                // Armed before the connection, so its handshake is caught.
                if config.capture {
                    capture = Some(made.link.capture_socket().map_err(|e| {
                        format!("no capture of the wire (the link's packet socket: {e})")
                    }));
                }
                link = Some(made.link);
                let (writer, reader) = connect_pair(&config, (made.listener, made.client))?;
                (writer, reader, None)
            }
            Endpoint::Listen(addr) => split(accept_one(&config, addr, cancel)?)?,
            Endpoint::Connect(addr) => split(connect_one(&config, addr, cancel)?)?,
        };
        if config.capture && capture.is_none() {
            capture = Some(Err(
                "no capture of the wire: it needs sockscope's own pair on a private link (--link)"
                    .to_string(),
            ));
        }
        let mut session = Session::start_on(config, writer, reader, peer, waker, link)?;
        if let Some(capture) = capture {
            session.start_capture(capture);
        }
        Ok(session)
    }

    /// Starts the capture thread on an armed packet socket, or notes why
    /// there is none; the session runs either way.
    fn start_capture(&mut self, socket: Result<Tap, String>) {
        let (tx, rx) = unbounded();
        self.packets = rx;
        let socket = match socket {
            Ok(socket) => socket,
            Err(sentence) => {
                self.info.capture = CaptureState::Failed(sentence);
                return;
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(CaptureCounters::default());
        let capturer = Capturer {
            session_id: self.info.id,
            tap: socket,
            epoch: self.shared.epoch,
            counters: Arc::clone(&counters),
            stop: Arc::clone(&stop),
            out: tx,
        };
        match std::thread::Builder::new()
            .name("sockscope-capture".into())
            .spawn(move || capturer.run())
        {
            Ok(thread) => {
                self.info.capture = CaptureState::On;
                self.capture = Some(CaptureThread {
                    stop,
                    counters,
                    thread: Some(thread),
                });
            }
            Err(e) => {
                self.info.capture =
                    CaptureState::Failed(format!("no capture of the wire (no thread: {e})"));
            }
        }
    }

    /// Batches of the wire's packets; disconnected once the capture has
    /// ended (at once without one). A clone outlives the session.
    pub fn packets(&self) -> Receiver<PacketBatch> {
        self.packets.clone()
    }

    /// The capture's counts so far; None without a capture.
    pub fn capture_counters(&self) -> Option<Arc<CaptureCounters>> {
        self.capture.as_ref().map(|c| Arc::clone(&c.counters))
    }

    /// Sets the private link's rate; an error on the machine's loopback.
    pub fn set_link_rate(&self, rate: Rate) -> Result<(), LabError> {
        Ok(self.link("set the link rate")?.set_rate(rate)?)
    }

    /// Sets the private link's one-way delay (where the kernel has netem).
    pub fn set_link_delay(&self, delay_ms: u32) -> Result<(), LabError> {
        Ok(self.link("set the link delay")?.set_delay(delay_ms)?)
    }

    /// Ends the private link's delaying thread at once, as if it had died
    /// (see `Link::stop_delaying_thread`): the queue fails open, packets
    /// cross undelayed, and the samples say the delay stopped. Nothing
    /// happens under netem or without a delay running.
    pub fn stop_link_delaying_thread(&self) -> Result<(), LabError> {
        self.link("stop the link's delaying thread")?
            .stop_delaying_thread();
        Ok(())
    }

    /// How the private link delays (netem, the queue), None where it
    /// cannot or without a link.
    pub fn link_delay_method(&self) -> Option<super::link::DelayMethod> {
        self.link.as_ref().and_then(Link::delay_method)
    }

    /// Sets the share of packets the private link drops.
    pub fn set_link_loss(&self, loss: Loss) -> Result<(), LabError> {
        Ok(self.link("set the link loss")?.set_loss(loss)?)
    }

    fn link(&self, step: &'static str) -> Result<&Link, LabError> {
        self.link.as_ref().ok_or_else(|| LabError::Socket {
            step,
            source: io::Error::new(
                io::ErrorKind::Unsupported,
                "only a private link (--link) has a rate, a delay and a loss to set",
            ),
        })
    }

    /// The private link's settings in force; None on the machine's loopback.
    pub fn link_spec(&self) -> Option<LinkSpec> {
        self.link.as_ref().map(Link::spec)
    }

    /// Unplugs or plugs the private link's cable; an error on the
    /// machine's own loopback, which is not sockscope's to unplug.
    pub fn set_cable(&self, plugged: bool) -> io::Result<()> {
        match &self.link {
            Some(link) => link.set_cable(plugged),
            None => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "only a private link (--link) has a cable to unplug",
            )),
        }
    }

    /// Starts a lab session on two connected sockets the caller made: the
    /// tests put a relay they control between them, to corrupt the stream
    /// for real and follow it to the verdict. Not for users.
    #[doc(hidden)]
    pub fn start_on_pair(
        config: LabConfig,
        writer: TcpStream,
        reader: TcpStream,
    ) -> Result<Session, LabError> {
        for socket in [&writer, &reader] {
            socket
                .set_nonblocking(true)
                .map_err(super::connect::step("make the socket non-blocking"))?;
        }
        Session::start_on(
            LabConfig {
                endpoint: super::config::Endpoint::Loopback,
                ..config
            },
            writer,
            reader,
            None,
            None,
            None,
        )
    }

    /// Starts the threads on a connection that is already made: `writer`
    /// is the client's socket, `reader` the one the server accepted (the
    /// same socket twice for an outside peer, whose address is `peer`).
    /// Both must be non-blocking.
    pub(crate) fn start_on(
        config: LabConfig,
        writer: TcpStream,
        reader: TcpStream,
        peer: Option<SocketAddr>,
        waker: Option<Waker>,
        link: Option<Link>,
    ) -> Result<Session, LabError> {
        let (write_chunk, read_chunk) = config.call_sizes()?;
        let mut info = session_info(&config, &writer, &reader, peer)?;
        info.link_lacks = link.as_ref().map(Link::lacks).unwrap_or_default();
        let outside = info.outside;
        let writer = Arc::new(writer);
        let reader = Arc::new(reader);
        let shared = Arc::new(Shared::new(Instant::now()));
        let (writer_ctl, writer_rx) = unbounded();
        let (reader_ctl, reader_rx) = unbounded();
        let (sampler_ctl, sampler_rx) = unbounded();
        // Unbounded so the sampler never blocks and never drops a sample;
        // the frontends drain it every frame.
        let (samples_tx, samples) = unbounded();

        let (writer_cpu, reader_cpu) = match worker_cpus().filter(|_| config.pin_workers) {
            Some((writer, reader)) => (Some(writer), Some(reader)),
            None => (None, None),
        };
        let worker = Writer::new(
            Arc::clone(&writer),
            Arc::clone(&shared),
            writer_rx,
            config.write_rate,
            write_chunk,
        );
        // A failed writer: end the stream (a panic skipped the writer's own
        // shutdown) so the reader can read and check all that was sent.
        let writer_failed = {
            let writer = Arc::clone(&writer);
            let reader_ctl = reader_ctl.clone();
            move || {
                let _ = writer.shutdown(std::net::Shutdown::Write);
                let _ = reader_ctl.send(if outside {
                    ReaderControl::Stop
                } else {
                    ReaderControl::Drain
                });
            }
        };
        let writer_thread = spawn_worker(
            Worker::Writer,
            writer_cpu,
            &shared,
            &sampler_ctl,
            writer_failed,
            move || worker.run(),
        )?;
        let desk = Arc::new(SampleDesk::new(
            Arc::clone(&writer),
            Arc::clone(&reader),
            Arc::clone(&shared),
            config.sample_hz,
            link.as_ref()
                .map(Link::probe)
                .transpose()
                .map_err(step("watch the link"))?,
        ));
        let worker = Reader::new(
            Arc::clone(&reader),
            Arc::clone(&desk),
            Arc::clone(&shared),
            reader_rx,
            config.read_rate,
            read_chunk,
            // An outside peer's bytes are its own: nothing to verify.
            !outside,
        );
        let reader_failed = {
            let writer_ctl = writer_ctl.clone();
            move || {
                let _ = writer_ctl.send(WriterControl::Finish);
            }
        };
        // If a later thread cannot start, the ones already running are told
        // to end and joined: each holds the other's control channel (for its
        // failure guard), so dropping ours would not stop them.
        let stop_writer = |writer_thread: JoinHandle<WriterExit>| {
            let _ = writer_ctl.send(WriterControl::Finish);
            let _ = writer_thread.join();
        };
        let reader_thread = match spawn_worker(
            Worker::Reader,
            reader_cpu,
            &shared,
            &sampler_ctl,
            reader_failed,
            move || worker.run(),
        ) {
            Ok(thread) => thread,
            Err(error) => {
                stop_writer(writer_thread);
                return Err(error);
            }
        };
        let sampler = Sampler {
            session_id: info.id,
            desk,
            shared: Arc::clone(&shared),
            controls: sampler_rx,
            out: samples_tx,
            waker,
        };
        let sampler_thread = std::thread::Builder::new()
            .name("sockscope-sampler".into())
            .spawn(move || {
                // With the reader: the writer's CPU also runs loopback's
                // receive path and is the busier one.
                pin_current_thread(reader_cpu);
                sampler.run()
            })
            .map_err(|e| LabError::Thread("sampler", e));
        let sampler_thread = match sampler_thread {
            Ok(thread) => thread,
            Err(error) => {
                let _ = reader_ctl.send(ReaderControl::Stop);
                let _ = reader_thread.join();
                stop_writer(writer_thread);
                return Err(error);
            }
        };

        Ok(Session {
            info,
            shared,
            writer,
            reader,
            writer_ctl,
            reader_ctl,
            sampler_ctl,
            samples,
            // No capture until `start_capture`: a channel already closed.
            packets: unbounded().1,
            capture: None,
            threads: Some(Threads {
                writer: writer_thread,
                reader: reader_thread,
                sampler: sampler_thread,
            }),
            link,
        })
    }

    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    pub fn id(&self) -> u64 {
        self.info.id
    }

    /// Batches of samples; disconnected once the session has ended.
    pub fn samples(&self) -> &Receiver<SampleBatch> {
        &self.samples
    }

    /// Time since the session started, on the samples' clock.
    pub fn elapsed(&self) -> Duration {
        self.shared.epoch.elapsed()
    }

    // Controls never block: a worker picks them up within one pacing tick.
    // A send fails only when the worker has already ended, which is harmless.

    pub fn set_write_rate(&self, rate: Rate) {
        let _ = self.writer_ctl.send(WriterControl::Rate(rate));
    }

    pub fn set_write_chunk(&self, chunk: Size) -> Result<(), LabError> {
        let _ = self
            .writer_ctl
            .send(WriterControl::Chunk(check_chunk(chunk)?));
        Ok(())
    }

    pub fn set_read_rate(&self, rate: Rate) {
        let _ = self.reader_ctl.send(ReaderControl::Rate(rate));
    }

    pub fn set_read_chunk(&self, chunk: Size) -> Result<(), LabError> {
        let _ = self
            .reader_ctl
            .send(ReaderControl::Bufsize(check_chunk(chunk)?));
        Ok(())
    }

    pub fn set_sample_hz(&self, hz: u32) -> Result<(), LabError> {
        let _ = self
            .sampler_ctl
            .send(SamplerControl::Hz(check_sample_hz(hz)?));
        Ok(())
    }

    /// Ends the run the orderly way: the writer stops and shuts down its
    /// side, the reader reads everything left (ignoring its rate) up to EOF,
    /// the sampler takes a last sample and closes the channel. Returns at
    /// once; keep draining `samples()` and then `join()`.
    pub fn finish(&self) {
        let _ = self.writer_ctl.send(WriterControl::Finish);
        // An outside peer need never close: do not wait for its EOF.
        let reader_end = if self.info.outside {
            ReaderControl::Stop
        } else {
            ReaderControl::Drain
        };
        let _ = self.reader_ctl.send(reader_end);
    }

    /// Makes a worker fail, for the reliability tests (not for users).
    #[doc(hidden)]
    pub fn inject_fault(&self, fault: Fault) {
        match fault {
            Fault::WriterPanics => drop(self.writer_ctl.send(WriterControl::Panic)),
            Fault::ReaderPanics => drop(self.reader_ctl.send(ReaderControl::Panic)),
        }
    }

    /// Stops everything now, without draining (a restart).
    pub fn abort(&self) {
        let _ = self.reader_ctl.send(ReaderControl::Stop);
        let _ = self.writer_ctl.send(WriterControl::Finish);
        let _ = self.sampler_ctl.send(SamplerControl::Stop);
    }

    /// Waits for the three threads and reports how the run went. Without an
    /// earlier `abort()`, this finishes the run the orderly way first.
    pub fn join(mut self) -> SessionReport {
        self.finish();
        self.join_threads()
    }

    fn join_threads(&mut self) -> SessionReport {
        let mut errors = Vec::new();
        let mut samples = 0;
        let mut schedule = SampleSchedule::default();
        if let Some(threads) = self.threads.take() {
            let writer = threads.writer.join();
            let reader = threads.reader.join();
            // The sampler stops by itself once both workers are done.
            let sampler = threads.sampler.join();
            // An outside peer that closes or resets is doing its part, not
            // failing the run: that shows as an event, not as an error.
            let outside = self.info.outside;
            let peer_gone = outside && self.shared.writer_state() == WriterState::PeerGone;
            let peer_reset = outside && self.shared.reader_state() == ReaderState::PeerReset;
            match writer {
                Ok(exit) => errors.extend(exit.error.filter(|_| !peer_gone)),
                Err(_) => errors.push(WorkerError::Panicked(LabThread::Writer)),
            }
            match reader {
                Ok(exit) => errors.extend(exit.error.filter(|_| !peer_reset)),
                Err(_) => errors.push(WorkerError::Panicked(LabThread::Reader)),
            }
            match sampler {
                Ok(exit) => {
                    errors.extend(exit.error);
                    samples = exit.samples;
                    schedule = exit.schedule;
                }
                Err(_) => errors.push(WorkerError::Panicked(LabThread::Sampler)),
            }
        }
        // The capture ends after the samples: it reads what is queued, then
        // closes its channel.
        if let Some(capture) = &mut self.capture {
            capture.stop.store(true, Relaxed);
            if let Some(thread) = capture.thread.take() {
                let _ = thread.join();
            }
        }
        SessionReport {
            bytes_written: self.shared.written.load(Relaxed),
            bytes_read: self.shared.read.load(Relaxed),
            first_mismatch: self.shared.first_mismatch(),
            stall_count: self.shared.stall_count.load(Relaxed),
            stall_time: Duration::from_nanos(self.shared.stall_ns.load(Relaxed)),
            samples,
            schedule,
            elapsed: self.shared.workers_ended(),
            errors,
            final_sndbuf: socket2::SockRef::from(&*self.writer)
                .send_buffer_size()
                .ok()
                .map(|n| n as u64),
            final_rcvbuf: socket2::SockRef::from(&*self.reader)
                .recv_buffer_size()
                .ok()
                .map(|n| n as u64),
            drained: self.shared.reader_state() == ReaderState::PeerClosed,
            verified: !self.info.outside,
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.threads.is_some() {
            self.abort();
            self.join_threads();
        }
    }
}
