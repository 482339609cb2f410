//! The window's side of a lab session: starts and restarts it, drains its
//! sample channel without blocking, and keeps the timeline. Connecting
//! (socket, bind, listen, connect, accept) runs on a background thread, and
//! a session being replaced is stopped and joined on another, so the window
//! never waits for a socket or a worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, TryRecvError, bounded};

use crate::lab::sampler::Waker;
use crate::lab::scenario::{Change, Scenario, StepClock};
use crate::lab::{
    Endpoint, LabConfig, LabError, Rate, Sample, Session, SessionInfo, Size, Timeline,
};

/// Where the window's numbers come from.
pub enum Source {
    /// A real session on loopback.
    Live(Box<LiveLab>),
    /// A recorded or synthetic timeline (tests, snapshots, benchmarks).
    Fixed {
        info: Box<SessionInfo>,
        timeline: Box<Timeline>,
    },
}

impl Source {
    pub fn timeline(&self) -> &Timeline {
        match self {
            Source::Live(lab) => lab.timeline(),
            Source::Fixed { timeline, .. } => timeline,
        }
    }
}

pub struct LiveLab {
    config: LabConfig,
    /// Where every start connects: loopback, or an outside peer given on
    /// the command line. Presets and restarts keep it.
    endpoint: Endpoint,
    /// The thread connecting the newest start, and the flag that stops its
    /// wait for an outside client.
    connecting: Option<(JoinHandle<()>, Arc<AtomicBool>)>,
    session: Option<Session>,
    /// A session being connected, and the config it was started with.
    starting: Option<(Receiver<Result<Session, LabError>>, LabConfig)>,
    info: Option<SessionInfo>,
    timeline: Timeline,
    waker: Option<Waker>,
    /// Why the last start failed, in one sentence.
    error: Option<String>,
    /// The errors of a session that ended by itself.
    ended_with: Option<String>,
    /// Batches received from an older session and dropped.
    stale_batches: u64,
    /// A scenario being played: its name and the steps still to come, on
    /// the session's clock.
    scenario: Option<(String, StepClock)>,
    /// What the scenario did last, for the status line.
    scenario_note: Option<ScenarioNote>,
}

/// What a scenario did last; the window words it in its language.
#[derive(Debug, Clone, PartialEq)]
pub enum ScenarioNote {
    Started(String),
    Step {
        name: String,
        at_secs: f64,
        /// As in a scenario file: `read_rate = 0 (paused)`.
        changes: String,
        next_secs: Option<f64>,
    },
}

impl LiveLab {
    pub fn new(config: LabConfig, waker: Option<Waker>) -> Self {
        LiveLab {
            config,
            endpoint: config.endpoint,
            connecting: None,
            session: None,
            starting: None,
            info: None,
            timeline: Timeline::new(),
            waker,
            error: None,
            ended_with: None,
            stale_batches: 0,
            scenario: None,
            scenario_note: None,
        }
    }

    /// Starts (or restarts) the connection with `config`: new sockets, so
    /// new buffer sizes take effect, and an empty timeline. Returns at
    /// once; `pump` picks the session up when it is connected.
    pub fn start(&mut self, config: LabConfig) {
        self.scenario = None;
        self.scenario_note = None;
        self.retire();
        let config = LabConfig {
            endpoint: self.endpoint,
            ..config
        };
        self.config = config;
        self.timeline = Timeline::new();
        self.info = None;
        self.error = None;
        self.ended_with = None;
        // A start still waiting for an outside client stops waiting; the
        // new one waits for it to close its listener before binding.
        let previous = self.connecting.take().map(|(thread, cancel)| {
            cancel.store(true, Relaxed);
            thread
        });
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = bounded(1);
        let waker = self.waker.clone();
        let spawned = std::thread::Builder::new()
            .name("sockscope-connect".into())
            .spawn({
                let cancel = Arc::clone(&cancel);
                move || {
                    if let Some(previous) = previous {
                        let _ = previous.join();
                    }
                    // If the window moved on to another start, the session
                    // is dropped here, which stops it.
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
                self.starting = Some((rx, config));
                self.connecting = Some((thread, cancel));
            }
            Err(error) => {
                self.error = Some(format!(
                    "Could not start the connection: no thread ({error})."
                ));
            }
        }
    }

    /// Where every start connects.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// Starts a new connection from the scenario's settings and plays its
    /// steps from the moment it is connected.
    pub fn start_scenario(&mut self, name: &str, scenario: &Scenario) {
        let config = scenario.apply_setup(self.config);
        self.start(config);
        self.scenario = Some((name.to_string(), StepClock::new(scenario)));
        self.scenario_note = Some(ScenarioNote::Started(name.to_string()));
    }

    /// Applies the scenario steps that are due.
    fn play_scenario(&mut self) {
        let Some(elapsed) = self.session.as_ref().map(Session::elapsed) else {
            return;
        };
        let Some((name, clock)) = &mut self.scenario else {
            return;
        };
        let name = name.clone();
        let due: Vec<_> = clock.due(elapsed).to_vec();
        let next = clock.next_at();
        for step in &due {
            for change in &step.changes {
                match *change {
                    Change::ReadRate(rate) => self.set_read_rate(rate),
                    Change::WriteRate(rate) => self.set_write_rate(rate),
                    Change::ReadChunk(size) => self.set_read_chunk(size),
                    Change::WriteChunk(size) => self.set_write_chunk(size),
                }
            }
            let changes: Vec<String> = step.changes.iter().map(ToString::to_string).collect();
            self.scenario_note = Some(ScenarioNote::Step {
                name: name.clone(),
                at_secs: step.at.as_secs_f64(),
                changes: changes.join(", "),
                next_secs: next.map(|at| at.as_secs_f64()),
            });
        }
        if next.is_none() && !due.is_empty() {
            self.scenario = None;
        }
    }

    /// The scenario's last action, if one is playing or just ended.
    pub fn scenario_note(&self) -> Option<&ScenarioNote> {
        self.scenario_note.as_ref()
    }

    /// Takes a session that finished connecting, and gives it any control
    /// changed meanwhile.
    fn collect_started(&mut self) {
        let Some((rx, started_with)) = &self.starting else {
            return;
        };
        let started_with = *started_with;
        match rx.try_recv() {
            Err(TryRecvError::Empty) => return,
            Ok(Ok(session)) => {
                let now = self.config;
                if now.read_rate != started_with.read_rate {
                    session.set_read_rate(now.read_rate);
                }
                if now.write_rate != started_with.write_rate {
                    session.set_write_rate(now.write_rate);
                }
                if now.read_chunk != started_with.read_chunk {
                    let _ = session.set_read_chunk(now.read_chunk);
                }
                if now.write_chunk != started_with.write_chunk {
                    let _ = session.set_write_chunk(now.write_chunk);
                }
                if now.sample_hz != started_with.sample_hz {
                    let _ = session.set_sample_hz(now.sample_hz);
                }
                self.info = Some(session.info().clone());
                self.session = Some(session);
            }
            Ok(Err(error)) => {
                self.error = Some(format!("Could not start the connection: {error}."))
            }
            Err(TryRecvError::Disconnected) => {
                self.error = Some("Could not start the connection: its thread ended.".into());
            }
        }
        self.starting = None;
    }

    /// True until the connection is made (or failed).
    pub fn is_connecting(&self) -> bool {
        self.starting.is_some()
    }

    /// Stops the current session in the background.
    fn retire(&mut self) {
        if let Some(session) = self.session.take() {
            session.abort();
            let joiner = std::thread::Builder::new()
                .name("sockscope-retire".into())
                .spawn(move || drop(session.join()));
            if let Err(error) = joiner {
                // No thread to spare: the closure, and with it the session,
                // was dropped, and Session's drop joined its workers here.
                self.error = Some(format!(
                    "Could not retire the old session in the background: {error}."
                ));
            }
        }
    }

    /// Moves every waiting batch into the timeline; never blocks.
    /// Returns the number of samples taken.
    pub fn pump(&mut self) -> usize {
        self.collect_started();
        self.play_scenario();
        let Some(session) = &self.session else {
            return 0;
        };
        let id = session.id();
        let mut taken = 0;
        let mut ended = false;
        loop {
            match session.samples().try_recv() {
                Ok(batch) if batch.session_id == id => {
                    taken += batch.samples.len();
                    self.timeline.extend(batch.samples);
                }
                Ok(_) => self.stale_batches += 1,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    ended = true;
                    break;
                }
            }
        }
        // The session ended by itself (a failed worker, or an outside peer
        // that left): every thread is done, so joining is immediate.
        if ended && let Some(session) = self.session.take() {
            let report = session.join();
            if !report.errors.is_empty() {
                self.ended_with = Some(
                    report
                        .errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                );
            }
        }
        taken
    }

    /// Makes a worker of the running session fail (reliability tests).
    #[doc(hidden)]
    pub fn inject_fault(&self, fault: crate::lab::Fault) {
        if let Some(session) = &self.session {
            session.inject_fault(fault);
        }
    }

    /// Why the session ended by itself, if it failed.
    pub fn ended_with(&self) -> Option<&str> {
        self.ended_with.as_deref()
    }

    /// How long ago (on the session's clock) the newest sample was taken.
    pub fn sample_lag(&self) -> Option<std::time::Duration> {
        let session = self.session.as_ref()?;
        let newest = self.timeline.last()?.t_ns;
        Some(
            session
                .elapsed()
                .saturating_sub(std::time::Duration::from_nanos(newest)),
        )
    }

    pub fn config(&self) -> &LabConfig {
        &self.config
    }

    pub fn info(&self) -> Option<&SessionInfo> {
        self.info.as_ref()
    }

    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn session_id(&self) -> Option<u64> {
        self.session.as_ref().map(Session::id)
    }

    pub fn set_read_rate(&mut self, rate: Rate) {
        self.config.read_rate = rate;
        if let Some(session) = &self.session {
            session.set_read_rate(rate);
        }
    }

    pub fn set_write_rate(&mut self, rate: Rate) {
        self.config.write_rate = rate;
        if let Some(session) = &self.session {
            session.set_write_rate(rate);
        }
    }

    /// Sizes were checked by the controls; an error here is a bug report.
    pub fn set_read_chunk(&mut self, chunk: Size) {
        self.config.read_chunk = chunk;
        if let Some(session) = &self.session
            && let Err(error) = session.set_read_chunk(chunk)
        {
            self.error = Some(format!("{error}."));
        }
    }

    pub fn set_write_chunk(&mut self, chunk: Size) {
        self.config.write_chunk = chunk;
        if let Some(session) = &self.session
            && let Err(error) = session.set_write_chunk(chunk)
        {
            self.error = Some(format!("{error}."));
        }
    }

    pub fn set_sample_hz(&mut self, hz: u32) {
        self.config.sample_hz = hz;
        if let Some(session) = &self.session
            && let Err(error) = session.set_sample_hz(hz)
        {
            self.error = Some(format!("{error}."));
        }
    }

    /// A copy of the full-resolution samples, for a CSV export.
    pub fn recent_samples(&self) -> Vec<Sample> {
        self.timeline.recent().iter().copied().collect()
    }
}

impl Drop for LiveLab {
    /// The window is closing: stop the workers and wait for them, so no
    /// thread outlives the app. They end within a pacing tick.
    fn drop(&mut self) {
        // A wait for an outside peer ends within 100 ms once cancelled; a
        // session it made meanwhile is dropped (stopped) by that thread.
        if let Some((thread, cancel)) = self.connecting.take() {
            cancel.store(true, Relaxed);
            let _ = thread.join();
        }
        if let Some(session) = self.session.take() {
            session.abort();
            drop(session.join());
        }
    }
}

/// A waker that repaints the window whenever the sampler sends a batch.
pub fn repaint_waker(ctx: &eframe::egui::Context) -> Waker {
    let ctx = ctx.clone();
    Arc::new(move || ctx.request_repaint())
}
