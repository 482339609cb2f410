//! `Run`: one source's whole life, from start to report.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError, bounded};
use thiserror::Error;

use super::control::Control;
use super::source::{Feed, LabSource, SampleSource};
use crate::lab::sampler::Waker;
use crate::lab::scenario::{Change, Scenario, StepClock};
use crate::lab::wire::{CaptureCounters, PacketBatch, WirePacket};
use crate::lab::wire_log::WireLog;
use crate::lab::{
    Endpoint, Event, Fault, LabConfig, LabError, Rate, Sample, Session, SessionInfo, SessionReport,
    Timeline,
};

/// Why a run could not start or be steered; each frontend words it.
#[derive(Debug, Error)]
pub enum RunError {
    /// The connection could not be made (a socket call failed, a bad
    /// setting).
    #[error("{0}")]
    Start(LabError),
    #[error("no thread to connect on: {0}")]
    NoThread(String),
    #[error("the connecting thread ended without a result")]
    StartThreadEnded,
    /// A control the source refused.
    #[error("{0}")]
    Control(LabError),
    #[error("could not stop the old session in the background: {0}")]
    Retire(String),
}

/// Where the run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing started (or the start failed: see `error`).
    Idle,
    /// Connecting, or waiting for an outside peer.
    Connecting,
    Running,
    /// Asked to end: draining what is left.
    Finishing,
    /// The source ended (by `finish`, or by itself) and was joined.
    Ended,
    /// A recorded timeline: complete, nothing runs.
    Recorded,
}

/// Something that happened during a `pump`, for a frontend that reports
/// as it goes (`record`'s log lines). The window reads the same from the
/// timeline and `scenario_note`.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// A flow-control or connection event, in order.
    Event(Event),
    /// A scenario step was applied.
    ScenarioStep(ScenarioNote),
}

/// What a scenario did last.
#[derive(Debug, Clone, PartialEq)]
pub enum ScenarioNote {
    Started(String),
    Step {
        name: String,
        at: Duration,
        changes: Vec<Change>,
        /// When the next step is due; None after the last.
        next: Option<Duration>,
    },
}

/// Figures the controller keeps beside the timeline, over every sample
/// (the timeline thins old ones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Time spent with the window at 0, sample to sample.
    pub zero_window_ns: u64,
    pub first_sample_ns: u64,
    pub last_sample_ns: u64,
}

impl Figures {
    fn take(&mut self, previous: Option<&Sample>, sample: &Sample) {
        match previous {
            Some(prev) if prev.zero_window => {
                self.zero_window_ns += sample.t_ns.saturating_sub(prev.t_ns);
            }
            Some(_) => {}
            None => self.first_sample_ns = sample.t_ns,
        }
        self.last_sample_ns = sample.t_ns;
    }
}

/// The longest a drain may go without the reader getting a byte: the
/// link delivers nothing (the cable is out, every packet is lost). A
/// retransmission timeout doubles from 200 ms, so a link that is only
/// slow still delivers within it.
pub const DRAIN_QUIET: Duration = Duration::from_secs(2);
/// The longest a drain may last in all (a slow link with full buffers).
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Why a drain ended before the reader reached the writer's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainCut {
    /// Nothing arrived for `DRAIN_QUIET`.
    Quiet,
    /// The drain reached `DRAIN_LIMIT`.
    TooLong,
    /// Stopped at once (a second Ctrl-C, or one during the drain).
    Stopped,
}

impl DrainCut {
    /// The summary's word for it.
    pub fn key(self) -> &'static str {
        match self {
            DrainCut::Quiet => "nothing_arrived",
            DrainCut::TooLong => "too_long",
            DrainCut::Stopped => "stopped",
        }
    }

    /// Why, in words, after "the drain was cut short: ".
    pub fn reason(self) -> String {
        match self {
            DrainCut::Quiet => format!(
                "nothing arrived for {} s (the cable out, or every packet lost)",
                DRAIN_QUIET.as_secs()
            ),
            DrainCut::TooLong => format!("it reached its limit of {} s", DRAIN_LIMIT.as_secs()),
            DrainCut::Stopped => "stopped by Ctrl-C".to_string(),
        }
    }
}

/// The drain after `finish`, bounded so that no link can hold a run open.
#[derive(Debug, Clone, Copy)]
struct Drain {
    started: Instant,
    /// The reader's total when it last moved, and when.
    read: u64,
    moved: Instant,
    /// Set once the drain was cut (the source is then aborted).
    cut: Option<(DrainCut, Duration)>,
}

/// What one `pump` brought.
#[derive(Debug, Default)]
pub struct Pumped {
    /// Samples added to the timeline.
    pub samples: usize,
    pub notices: Vec<Notice>,
}

/// A start in progress on its own thread.
struct Starting {
    thread: JoinHandle<()>,
    cancel: Arc<AtomicBool>,
    result: Receiver<Result<Session, LabError>>,
    /// The config it was started with; controls changed meanwhile are
    /// applied once it is connected.
    config: LabConfig,
}

/// A scenario being played on the source's clock.
struct Playing {
    name: String,
    clock: StepClock,
}

pub struct Run {
    /// The settings wanted now: what a restart uses, what the controls show.
    config: LabConfig,
    /// The reader's rate before it was paused, to resume to.
    resume_read_rate: Rate,
    starting: Option<Starting>,
    /// A start still winding down after being replaced or cancelled; the
    /// next start waits for it (it may hold the port an outside peer
    /// connects to).
    cancelled: Option<JoinHandle<()>>,
    source: Option<Box<dyn SampleSource>>,
    info: Option<SessionInfo>,
    /// Shared with a recording played back (not copied); a live run's
    /// is its own (`Arc::make_mut` then never copies).
    timeline: Arc<Timeline>,
    figures: Figures,
    phase: Phase,
    playing: Option<Playing>,
    scenario_note: Option<ScenarioNote>,
    error: Option<RunError>,
    /// The report of the source that ended.
    report: Option<SessionReport>,
    /// Events counted so far over the whole run (the log drops its oldest
    /// once full, so its length alone stops growing).
    events_seen: u64,
    waker: Option<Waker>,
    /// Reused between pumps.
    batch: Vec<Sample>,
    /// The running session's wire: its packets' channel (which outlives the
    /// session, so its last packets can be read after it ends) and the
    /// capture's counts.
    wire: Option<Wire>,
    /// Whether `wire` keeps the newest packets whole (see `keep_packets`).
    keep_packets: bool,
    /// The drain in progress (or done) after `finish`.
    drain: Option<Drain>,
}

struct Wire {
    session_id: u64,
    packets: crossbeam_channel::Receiver<PacketBatch>,
    counters: Option<Arc<CaptureCounters>>,
    log: WireLog,
    /// The packets the last pump brought, for a frontend that keeps them
    /// whole (`record --pcap`).
    fresh: Vec<WirePacket>,
    /// The newest packets whole, for the window's pcap export.
    kept: std::collections::VecDeque<WirePacket>,
    /// Packets that fell out of `kept`.
    kept_dropped: u64,
    /// When the session's clock read 0, on the kernel's realtime clock
    /// (ns since the Unix epoch): what places a pcap's packets on the
    /// samples' clock when a recording is played back.
    clock_zero_unix_ns: Option<i128>,
}

/// Packets kept whole for the window's pcap export: about 25 MB.
const KEPT_PACKETS: usize = 200_000;

impl Run {
    /// A controller with nothing started; `start` connects.
    pub fn new(config: LabConfig, waker: Option<Waker>) -> Self {
        Run {
            config,
            resume_read_rate: Rate::Unlimited,
            starting: None,
            cancelled: None,
            source: None,
            info: None,
            timeline: Arc::new(Timeline::new()),
            figures: Figures::default(),
            phase: Phase::Idle,
            playing: None,
            scenario_note: None,
            error: None,
            report: None,
            events_seen: 0,
            waker,
            batch: Vec::new(),
            wire: None,
            keep_packets: false,
            drain: None,
        }
    }

    /// A run that was recorded: its timeline, complete, with nothing to
    /// start or steer (snapshots, benchmarks; recordings played back).
    pub fn recorded(config: LabConfig, info: SessionInfo, timeline: Arc<Timeline>) -> Self {
        let mut run = Run::new(config, None);
        run.info = Some(info);
        run.events_seen = timeline.events_dropped() + timeline.events().len() as u64;
        run.timeline = timeline;
        run.phase = Phase::Recorded;
        run
    }

    /// Starts (or restarts) the lab's connection with `config`: new
    /// sockets, so new buffer sizes take effect, and an empty timeline.
    /// Returns at once; `pump` takes the source when it is connected. An
    /// outside peer stays the one the run was made with (the command line
    /// chose it); the lab's own pair moves between the machine's loopback
    /// and a private link as `config` says.
    pub fn start(&mut self, config: LabConfig) {
        if !self.stop_current() {
            return;
        }
        let endpoint = if self.config.endpoint.is_outside() {
            self.config.endpoint
        } else if config.endpoint.is_outside() {
            Endpoint::Loopback
        } else {
            config.endpoint
        };
        self.config = LabConfig { endpoint, ..config };
        self.reset_record();
        let config = self.config;
        let previous = self.cancelled.take();
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, result) = bounded(1);
        let waker = self.waker.clone();
        let spawned = std::thread::Builder::new()
            .name("sockscope-connect".into())
            .spawn({
                let cancel = Arc::clone(&cancel);
                move || {
                    // The wait for an outside client that was replaced
                    // closes its listener before this one binds.
                    if let Some(previous) = previous {
                        let _ = previous.join();
                    }
                    // If the run moved on meanwhile, the session is
                    // dropped here, which stops it.
                    let started = Session::start_cancellable(config, waker.clone(), Some(&cancel));
                    if matches!(started, Err(LabError::Cancelled)) {
                        return;
                    }
                    let _ = tx.send(started);
                    if let Some(wake) = waker {
                        wake();
                    }
                }
            });
        match spawned {
            Ok(thread) => {
                self.starting = Some(Starting {
                    thread,
                    cancel,
                    result,
                    config,
                });
                self.phase = Phase::Connecting;
            }
            Err(error) => {
                self.error = Some(RunError::NoThread(error.to_string()));
                self.phase = Phase::Idle;
            }
        }
    }

    /// Watches a source that is already running (a recording played back,
    /// another program's connection): the same pump, timeline, events and
    /// report as the lab's own connection. What was running is stopped.
    pub fn watch(&mut self, source: Box<dyn SampleSource>) {
        if !self.stop_current() {
            return;
        }
        self.reset_record();
        self.info = Some(source.info().clone());
        self.source = Some(source);
        self.phase = Phase::Running;
    }

    /// Starts from a scenario's settings and plays its steps from the
    /// moment the connection is made.
    pub fn start_scenario(&mut self, name: &str, scenario: &Scenario) {
        self.start(scenario.apply_setup(self.config));
        self.play_steps(name, scenario);
    }

    /// Plays a scenario's steps on the clock of the source being started
    /// (or running), leaving its settings as they are: for a frontend that
    /// merged them with its own already.
    pub fn play_steps(&mut self, name: &str, scenario: &Scenario) {
        self.playing = Some(Playing {
            name: name.to_string(),
            clock: StepClock::new(scenario),
        });
        self.scenario_note = Some(ScenarioNote::Started(name.to_string()));
    }

    /// Stops a start that is still connecting (a wait for an outside peer
    /// ends within 100 ms); the run goes back to idle.
    pub fn cancel(&mut self) {
        if let Some(starting) = self.starting.take() {
            starting.cancel.store(true, Relaxed);
            // Connected meanwhile and handed over: stop it off this
            // thread. (Until handed over, the connecting thread drops it.)
            if let Ok(Ok(session)) = starting.result.try_recv() {
                self.retire_source(Box::new(LabSource::new(session)));
            }
            self.cancelled = Some(starting.thread);
            if self.phase == Phase::Connecting {
                self.phase = Phase::Idle;
            }
        }
    }

    /// Applies a live control now, and to every later start.
    pub fn control(&mut self, control: Control) {
        if self.phase == Phase::Recorded {
            return;
        }
        control.apply_to(&mut self.config);
        if let Some(source) = &self.source
            && let Err(error) = source.control(control)
        {
            self.error = Some(RunError::Control(error));
        }
    }

    /// Pauses the reader, or resumes it at the rate it had before.
    pub fn toggle_reader_pause(&mut self) {
        let rate = if self.config.read_rate.is_paused() {
            self.resume_read_rate
        } else {
            self.resume_read_rate = self.config.read_rate;
            Rate::Paused
        };
        self.control(Control::ReadRate(rate));
    }

    /// The rate a paused reader resumes to (kept with the settings).
    pub fn resume_read_rate(&self) -> Rate {
        self.resume_read_rate
    }

    pub fn set_resume_read_rate(&mut self, rate: Rate) {
        if !rate.is_paused() {
            self.resume_read_rate = rate;
        }
    }

    /// Ends the run the orderly way: the writer stops, the reader reads
    /// what is left, the sampler takes a last sample. Keep pumping until
    /// `phase()` is `Ended`. Scenario steps not yet due do not run. A start
    /// still connecting is cancelled instead (the run goes back to idle).
    pub fn finish(&mut self) {
        self.playing = None;
        if self.phase == Phase::Connecting {
            self.cancel();
        }
        if let Some(source) = &self.source
            && self.phase == Phase::Running
        {
            source.finish();
            self.phase = Phase::Finishing;
            let now = Instant::now();
            self.drain = Some(Drain {
                started: now,
                read: self.timeline.last().map_or(0, |s| s.read),
                moved: now,
                cut: None,
            });
        }
    }

    /// Ends a drain in progress at once: what was not read stays unread
    /// (and unverified). Does nothing before `finish`.
    pub fn stop_now(&mut self) {
        self.cut_drain(DrainCut::Stopped);
    }

    /// Why the drain was cut, and after how long; None when it reached the
    /// writer's end (or there was none).
    pub fn drain_cut(&self) -> Option<(DrainCut, Duration)> {
        self.drain?.cut
    }

    fn cut_drain(&mut self, why: DrainCut) {
        if self.phase != Phase::Finishing {
            return;
        }
        if let (Some(drain), Some(source)) = (&mut self.drain, &self.source)
            && drain.cut.is_none()
        {
            drain.cut = Some((why, drain.started.elapsed()));
            source.abort();
        }
    }

    /// Cuts a drain that has gone `DRAIN_QUIET` without the reader getting
    /// a byte (a few samples' time at a slow sample rate), or `DRAIN_LIMIT`
    /// in all.
    fn bound_drain(&mut self) {
        let Some(drain) = &mut self.drain else { return };
        if drain.cut.is_some() {
            return;
        }
        let now = Instant::now();
        let read = self.timeline.last().map_or(0, |s| s.read);
        if read != drain.read {
            drain.read = read;
            drain.moved = now;
        }
        let quiet = DRAIN_QUIET.max(Duration::from_secs(3) / self.config.sample_hz.max(1));
        if now.duration_since(drain.started) >= DRAIN_LIMIT {
            self.cut_drain(DrainCut::TooLong);
        } else if now.duration_since(drain.moved) >= quiet {
            self.cut_drain(DrainCut::Quiet);
        }
    }

    /// Moves everything waiting into the timeline; never blocks.
    pub fn pump(&mut self) -> Pumped {
        self.pump_with(|_| {})
    }

    /// Like `pump`, handing every new sample to `sink` first, in order
    /// (`record` streams them to its CSV).
    pub fn pump_with(&mut self, mut sink: impl FnMut(&Sample)) -> Pumped {
        let mut pumped = Pumped::default();
        self.collect_started();
        let Some(source) = &mut self.source else {
            return pumped;
        };
        self.batch.clear();
        let feed = source.poll(&mut self.batch);
        for sample in &self.batch {
            sink(sample);
            self.figures.take(self.timeline.last(), sample);
            Arc::make_mut(&mut self.timeline).push(*sample);
        }
        pumped.samples = self.batch.len();
        self.new_events(&mut pumped.notices);
        if feed == Feed::Ended {
            // Every thread is done, so joining is immediate; a step still
            // to come has nothing left to change.
            self.playing = None;
            if let Some(source) = self.source.take() {
                self.report = Some(source.join());
            }
            self.phase = Phase::Ended;
        } else {
            // After the samples, so its lines follow what happened before.
            self.play_scenario(&mut pumped.notices);
            if self.phase == Phase::Finishing {
                self.bound_drain();
            }
        }
        // After a join too: the capture's last packets come as it ends.
        self.drain_wire();
        pumped
    }

    /// Moves the packets captured since the last pump into the wire's log
    /// and its fresh list.
    fn drain_wire(&mut self) {
        let Some(wire) = &mut self.wire else { return };
        wire.fresh.clear();
        while let Ok(batch) = wire.packets.try_recv() {
            if batch.session_id == wire.session_id {
                wire.fresh.extend(batch.packets);
            }
        }
        for packet in &wire.fresh {
            wire.clock_zero_unix_ns
                .get_or_insert(i128::from(packet.unix_ns) - i128::from(packet.t_ns));
            wire.log.push(packet);
            if !self.keep_packets {
                continue;
            }
            if wire.kept.len() == KEPT_PACKETS {
                wire.kept.pop_front();
                wire.kept_dropped += 1;
            }
            wire.kept.push_back(packet.clone());
        }
    }

    /// Keeps the newest packets whole, for a pcap export later (the
    /// window); `record` writes each as it comes and keeps none.
    pub fn keep_packets(&mut self, keep: bool) {
        self.keep_packets = keep;
    }

    /// The newest packets kept whole (for a pcap), and how many older ones
    /// are no longer kept.
    pub fn kept_packets(&self) -> (Vec<WirePacket>, u64) {
        self.wire.as_ref().map_or((Vec::new(), 0), |wire| {
            (wire.kept.iter().cloned().collect(), wire.kept_dropped)
        })
    }

    /// The packets the last pump brought, in order; none without a capture.
    pub fn fresh_packets(&self) -> &[WirePacket] {
        self.wire.as_ref().map_or(&[], |wire| &wire.fresh)
    }

    /// When the session's clock read 0, ns since the Unix epoch on the
    /// kernel's realtime clock, as the capture's timestamps are; None
    /// before the first packet.
    pub fn capture_clock_zero(&self) -> Option<i128> {
        self.wire.as_ref()?.clock_zero_unix_ns
    }

    /// The running session's segments, as a ladder diagram reads them; None
    /// before a session with a capture started.
    pub fn wire_log(&self) -> Option<&WireLog> {
        self.wire
            .as_ref()
            .filter(|wire| wire.counters.is_some())
            .map(|wire| &wire.log)
    }

    /// The capture's counts so far (segments captured, a super-segment
    /// counting as the segments it stands for; frames its socket dropped);
    /// None without a capture. `capture_counters` has them all.
    pub fn capture_counts(&self) -> Option<(u64, u64)> {
        let counters = self.wire.as_ref()?.counters.as_ref()?;
        Some((
            counters.captured.load(Relaxed),
            counters.dropped.load(Relaxed),
        ))
    }

    /// The capture's counters, shared with its thread; None without one.
    pub fn capture_counters(&self) -> Option<&CaptureCounters> {
        self.wire.as_ref()?.counters.as_deref()
    }

    /// Takes a source that has finished connecting, without taking any of
    /// its samples (a frontend that streams every sample waits with this).
    /// Returns the source's info once there is one.
    pub fn poll_start(&mut self) -> Option<&SessionInfo> {
        self.collect_started();
        self.info.as_ref()
    }

    /// Takes a source that finished connecting, and gives it the controls
    /// changed meanwhile.
    fn collect_started(&mut self) {
        let Some(starting) = &self.starting else {
            return;
        };
        let started = match starting.result.try_recv() {
            Err(TryRecvError::Empty) => return,
            Ok(Ok(session)) => {
                self.wire = Some(Wire {
                    session_id: session.id(),
                    packets: session.packets(),
                    counters: session.capture_counters(),
                    log: WireLog::new(session.info().writer_addr.port()),
                    fresh: Vec::new(),
                    kept: std::collections::VecDeque::new(),
                    kept_dropped: 0,
                    clock_zero_unix_ns: None,
                });
                let source = LabSource::new(session);
                for control in Control::between(&starting.config, &self.config) {
                    // Checked when it was asked for; a refusal is a bug.
                    if let Err(error) = source.control(control) {
                        self.error = Some(RunError::Control(error));
                    }
                }
                Ok(source)
            }
            Ok(Err(error)) => Err(RunError::Start(error)),
            Err(TryRecvError::Disconnected) => Err(RunError::StartThreadEnded),
        };
        if let Some(starting) = self.starting.take() {
            // Done (or about to be): joined on the next start or the drop.
            self.cancelled = Some(starting.thread);
        }
        match started {
            Ok(source) => {
                self.info = Some(source.info().clone());
                self.source = Some(Box::new(source));
                self.phase = Phase::Running;
            }
            Err(error) => {
                self.error = Some(error);
                self.phase = Phase::Idle;
            }
        }
    }

    /// Applies the scenario steps that are due.
    fn play_scenario(&mut self, notices: &mut Vec<Notice>) {
        let Some(elapsed) = self.source.as_ref().map(|s| s.elapsed()) else {
            return;
        };
        let Some(playing) = &mut self.playing else {
            return;
        };
        let name = playing.name.clone();
        let due: Vec<_> = playing.clock.due(elapsed).to_vec();
        let next = playing.clock.next_at();
        if next.is_none() && !due.is_empty() {
            self.playing = None;
        }
        for step in due {
            for &change in &step.changes {
                self.control(change.into());
            }
            let note = ScenarioNote::Step {
                name: name.clone(),
                at: step.at,
                changes: step.changes,
                next,
            };
            notices.push(Notice::ScenarioStep(note.clone()));
            self.scenario_note = Some(note);
        }
    }

    /// The events the timeline derived since the last pump.
    fn new_events(&mut self, notices: &mut Vec<Notice>) {
        let events = self.timeline.events();
        let total = self.timeline.events_dropped() + events.len() as u64;
        let new = (total - self.events_seen.min(total)).min(events.len() as u64) as usize;
        notices.extend(
            events
                .iter()
                .skip(events.len() - new)
                .map(|event| Notice::Event(*event)),
        );
        self.events_seen = total;
    }

    /// Stops what runs or connects, and its scenario, for something new;
    /// false for a recorded run, which nothing replaces.
    fn stop_current(&mut self) -> bool {
        if self.phase == Phase::Recorded {
            return false;
        }
        self.playing = None;
        self.scenario_note = None;
        self.retire();
        self.cancel();
        true
    }

    /// A new start's empty record.
    fn reset_record(&mut self) {
        self.timeline = Arc::new(Timeline::new());
        self.figures = Figures::default();
        self.info = None;
        self.error = None;
        self.report = None;
        self.events_seen = 0;
        self.drain = None;
    }

    /// Stops the current source and joins it on a thread of its own.
    fn retire(&mut self) {
        if let Some(source) = self.source.take() {
            self.retire_source(source);
        }
    }

    fn retire_source(&mut self, source: Box<dyn SampleSource>) {
        source.abort();
        let joiner = std::thread::Builder::new()
            .name("sockscope-retire".into())
            .spawn(move || drop(source.join()));
        if let Err(error) = joiner {
            // No thread to spare: the closure, and with it the source, was
            // dropped, and its drop joined the workers here.
            self.error = Some(RunError::Retire(error.to_string()));
        }
    }

    /// Makes a worker of the running source fail (reliability tests).
    #[doc(hidden)]
    pub fn inject_fault(&self, fault: Fault) {
        if let Some(source) = &self.source {
            source.inject_fault(fault);
        }
    }

    /// Appends samples to a recorded run, as a live source would (for
    /// benchmarks of a growing run). Ignored for a live run.
    pub fn push_recorded(&mut self, samples: impl IntoIterator<Item = Sample>) {
        if self.phase == Phase::Recorded {
            for sample in samples {
                self.figures.take(self.timeline.last(), &sample);
                Arc::make_mut(&mut self.timeline).push(sample);
            }
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// True while connecting (or waiting for an outside peer).
    pub fn is_connecting(&self) -> bool {
        self.phase == Phase::Connecting
    }

    /// A live source runs (or is draining).
    pub fn is_running(&self) -> bool {
        matches!(self.phase, Phase::Running | Phase::Finishing)
    }

    pub fn config(&self) -> &LabConfig {
        &self.config
    }

    /// Where every start connects: loopback, or an outside peer.
    pub fn endpoint(&self) -> Endpoint {
        self.config.endpoint
    }

    pub fn info(&self) -> Option<&SessionInfo> {
        self.info.as_ref()
    }

    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    pub fn figures(&self) -> Figures {
        self.figures
    }

    /// Why the last start or control failed.
    pub fn error(&self) -> Option<&RunError> {
        self.error.as_ref()
    }

    /// Takes the start error (a frontend that stops on it).
    pub fn take_error(&mut self) -> Option<RunError> {
        self.error.take()
    }

    /// How the source that ended went.
    pub fn report(&self) -> Option<&SessionReport> {
        self.report.as_ref()
    }

    /// The errors of a source that ended by itself (a failed worker), in
    /// words; None if it ended well or still runs.
    pub fn ended_with(&self) -> Option<String> {
        self.report.as_ref()?.errors_text()
    }

    /// The running session's id.
    pub fn session_id(&self) -> Option<u64> {
        self.source.as_ref().map(|s| s.info().id)
    }

    /// Time since the source started, while one runs.
    pub fn elapsed(&self) -> Option<Duration> {
        self.source.as_ref().map(|s| s.elapsed())
    }

    /// How long ago (on the source's clock) the newest sample was taken.
    pub fn sample_lag(&self) -> Option<Duration> {
        let elapsed = self.elapsed()?;
        let newest = self.timeline.last()?.t_ns;
        Some(elapsed.saturating_sub(Duration::from_nanos(newest)))
    }

    /// The scenario's last action, if one is playing or just ended.
    pub fn scenario_note(&self) -> Option<&ScenarioNote> {
        self.scenario_note.as_ref()
    }

    /// When the next scenario step is due, on the source's clock.
    pub fn next_step_at(&self) -> Option<Duration> {
        self.playing.as_ref().and_then(|p| p.clock.next_at())
    }
}

impl Drop for Run {
    /// Stops the source and waits for its threads (they end within a
    /// pacing tick), and for a start being cancelled. A source retired
    /// earlier ends on its own thread.
    fn drop(&mut self) {
        // A wait for an outside peer ends within 100 ms once cancelled; a
        // session made meanwhile is dropped (stopped) by that thread.
        self.cancel();
        if let Some(thread) = self.cancelled.take() {
            let _ = thread.join();
        }
        if let Some(source) = self.source.take() {
            source.abort();
            drop(source.join());
        }
    }
}
