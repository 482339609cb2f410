//! The window's state and its one place for inputs. Reads the run only
//! through `Run::pump` (a non-blocking drain) and steers it with controls;
//! the panels it draws are in `panels`.

mod animate;
mod panels;

use super::floating::{self, Floating};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui;

use super::action::{self, Action};
use super::animation::{AnimationDialog, AnimationExport};
use super::background::Background;
use super::connections::ConnectionsWindow;
use super::controls::{Edits, PendingBuffers, ScenarioPanel};
use super::export::{ExportWhat, Exports, default_export_dir};
use super::info_panel::ReuseState;
use super::messages::{MessagesAction, MessagesWindow};
use super::options::{GuiOptions, Panel, repaint_waker};
use super::playback::Playback;
use super::plot::PlotView;
use super::scripted::ScriptedCapture;
use super::server::ServerWindow;
use super::settings::{FlagsApplied, SETTINGS_KEY, Settings};
use super::steps::StepsWindow;
use super::theme::{self, Palette};
use super::vessel::{self, Slots};
use super::view::VesselMotion;
use super::wire::{Replay, WireShown, WireWindow};
use crate::i18n::{Lang, S};
use crate::lab::link::LinkSpec;
use crate::lab::messages::MessagePair;
use crate::lab::reuseaddr::ReuseTrial;
use crate::lab::scenario::{self, Scenario, ScenarioError};
use crate::lab::{Cable, Endpoint, LabConfig, Sample, SessionInfo, Timeline};
use crate::run::attach::MAX_ATTACH_HZ;
use crate::run::{AttachError, AttachSource, Control, Run, Target};

/// The windows over the main view, and the info panel's experiment.
#[derive(Default)]
struct Windows {
    info: bool,
    /// A recording dropped on the window, being read: the share read so
    /// far (in millionths) and the result.
    opening: Option<(String, std::sync::Arc<std::sync::atomic::AtomicU32>)>,
    opening_job: Background<Result<crate::export::recording::Recording, String>>,
    opening_error: Option<String>,
    /// The Open… field's text.
    open_path: String,
    reuse: ReuseState,
    reuse_job: Background<Result<Vec<ReuseTrial>, String>>,
    /// Messages by hand on their own connection.
    messages: MessagesWindow,
    messages_job: Background<Result<MessagePair, String>>,
    /// The lesson's call sequences, one real call per button.
    steps: StepsWindow,
    server: ServerWindow,
    wire: WireWindow,
    connections: ConnectionsWindow,
    /// The Animation dialog (A).
    animation: AnimationDialog,
    /// Open…: a folder's recordings.
    browse: super::browse::BrowseWindow,
}

pub struct SockscopeApp {
    run: Run,
    settings: Settings,
    /// The settings before and after the command line's flags, which are
    /// for this run only.
    flags_applied: FlagsApplied,
    persist: bool,
    /// Buffer sizes and the scenario path being edited.
    edits: Edits,
    slots: Slots,
    motion: VesselMotion,
    plot_view: PlotView,
    exports: Exports,
    capture: Option<ScriptedCapture>,
    windows: Windows,
    /// Where this frame laid out the timeline panel (what an export crops).
    timeline_rect: Option<egui::Rect>,
    /// Where this frame drew the wire window, if open (a PNG export crops
    /// the ladder to it).
    wire_rect: Option<egui::Rect>,
    /// Where this frame showed the event log's rows (what they are clipped to).
    events_rect: Option<egui::Rect>,
    applied_projector: Option<bool>,
    /// This frame's CPU time in `ui`, for the benchmark.
    pub frame_cpu: Duration,
    /// How old the newest sample was when this frame drew it (live only).
    pub sample_lag: Option<Duration>,
    /// Why the private link (or one of its settings) could not be had, once
    /// the run went on without it.
    link_refused: Option<LinkRefusal>,
    /// A moment marked on the wire (ns on the session's clock): the
    /// buffers show it until Esc or L.
    marked_ns: Option<i64>,
    /// A recording played back (`open FILE`): its cursor drives the picture.
    playback: Option<Playback>,
    /// An animation being drawn from the recording played back
    /// (`--export-gif`, or the Animation dialog).
    gif: Option<AnimationExport>,
    /// A live run's samples being saved for an animation (A).
    preparing: Option<animate::Preparing>,
    /// An animation being drawn in the window, and what to return to.
    drawing: Option<animate::Drawing>,
}

/// What the window went on without, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRefusal {
    /// The system refused the private link (the sentence says how to
    /// allow it): the run is on the machine's loopback.
    NoLink(String),
    /// The kernel cannot delay (no netem): the link runs without the
    /// delay asked for (ms each way).
    NoDelay(u32),
    /// The kernel has no nf_tables: the link runs without its loss.
    NoLoss,
}

impl LinkRefusal {
    pub fn text(&self, lang: Lang) -> String {
        match self {
            LinkRefusal::NoLink(sentence) => S::LinkFellBack.fill(lang, &[sentence]),
            LinkRefusal::NoDelay(_) => S::NoNetem.text(lang).into(),
            LinkRefusal::NoLoss => S::NoNfTables.text(lang).into(),
        }
    }
}

impl SockscopeApp {
    /// Builds the app from eframe's creation context: restores settings,
    /// installs the vessel shader, and starts a lab session at once.
    pub fn new(cc: &eframe::CreationContext<'_>, options: &GuiOptions) -> Self {
        let stored: Option<Settings> = if options.persist {
            cc.storage
                .and_then(|storage| eframe::get_value(storage, SETTINGS_KEY))
        } else {
            None
        };
        let mut settings = stored.unwrap_or_default();
        let flags = settings.take_options(options);
        let config = LabConfig {
            // A preset on a private link (slow-link, long-link) brings its
            // link along; link flags change it (its rate and delay stay
            // unless one is given).
            endpoint: match (
                options.endpoint,
                options.preset.map(|p| p.config().endpoint),
            ) {
                (Endpoint::Loopback, Some(preset)) => preset,
                (Endpoint::Link(flags), Some(Endpoint::Link(preset))) => Endpoint::Link(LinkSpec {
                    rate: if flags.rate == crate::lab::Rate::Unlimited {
                        preset.rate
                    } else {
                        flags.rate
                    },
                    delay_ms: if flags.delay_ms == 0 {
                        preset.delay_ms
                    } else {
                        flags.delay_ms
                    },
                    ..flags
                }),
                (endpoint, _) => endpoint,
            },
            // The window shows the wire whenever the pair is on a link.
            capture: true,
            ..settings.lab
        };
        install_fonts(&cc.egui_ctx);
        let gpu = cc.wgpu_render_state.as_ref().is_some_and(vessel::install);
        let playback = options.recording.as_ref().map(|recording| {
            Playback::new(
                std::sync::Arc::clone(recording),
                options
                    .at
                    .map(|at| recording.span().0 + at.as_nanos() as u64),
            )
        });
        let run = match (&options.fixed, &options.recording) {
            (_, Some(recording)) => Run::recorded(
                recording.config,
                recording.info.clone(),
                recording.timeline.clone(),
            ),
            (Some((info, timeline)), None) => Run::recorded(
                config,
                (**info).clone(),
                std::sync::Arc::new((**timeline).clone()),
            ),
            (None, None) => {
                let mut run = Run::new(config, Some(repaint_waker(&cc.egui_ctx)));
                run.set_resume_read_rate(settings.resume_read_rate);
                // For Export's pcap.
                run.keep_packets(true);
                run.start(config);
                run
            }
        };
        let gif = options
            .gif
            .clone()
            .map(|plan| AnimationExport::new(plan, std::sync::Arc::clone(&options.outcome), true));
        let capture = (gif.is_none()
            && (options.screenshot.is_some() || options.quit_after.is_some()))
        .then(|| {
            ScriptedCapture::new(
                options.screenshot.clone(),
                options.quit_after.unwrap_or(Duration::from_secs(3)),
                std::sync::Arc::clone(&options.outcome),
            )
        });
        let mut windows = Windows::default();
        match options.open {
            Some(Panel::Server) => windows.server.open = true,
            Some(Panel::Steps) => windows.steps.open = true,
            Some(Panel::Messages) => windows.messages.open = true,
            Some(Panel::Wire) => windows.wire.open = true,
            Some(Panel::Connections) => windows.connections.open = true,
            Some(Panel::Animation) => windows.animation.open = true,
            Some(Panel::Info) => windows.info = true,
            None => {}
        }
        let mut app = SockscopeApp {
            run,
            edits: Edits {
                pending: PendingBuffers::of(&config),
                scenario: ScenarioPanel::default(),
            },
            settings,
            flags_applied: flags,
            persist: options.persist,
            slots: Slots::new(gpu),
            motion: VesselMotion::default(),
            plot_view: PlotView::default(),
            exports: Exports::default(),
            capture,
            windows,
            timeline_rect: None,
            wire_rect: None,
            events_rect: None,
            applied_projector: None,
            frame_cpu: Duration::ZERO,
            sample_lag: None,
            link_refused: None,
            marked_ns: None,
            playback,
            gif,
            preparing: None,
            drawing: None,
        };
        if let Some(target) = options.attach.clone() {
            app.attach(Ok(target), &cc.egui_ctx);
        }
        app
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Watches another program's connection instead of the lab's own, or
    /// says why it cannot.
    fn attach(&mut self, target: Result<Target, AttachError>, ctx: &egui::Context) {
        let hz = self.config().sample_hz.min(MAX_ATTACH_HZ);
        match target.and_then(|t| AttachSource::start(t, hz, Some(repaint_waker(ctx)))) {
            Ok(source) => {
                self.run.watch(Box::new(source));
                self.windows.connections.attach_error = None;
                self.marked_ns = None;
            }
            Err(error) => self.windows.connections.attach_error = Some(error.to_string()),
        }
    }

    /// The config the lab runs with now.
    pub fn config(&self) -> LabConfig {
        *self.run.config()
    }

    pub fn timeline(&self) -> &Timeline {
        self.run.timeline()
    }

    fn info(&self) -> Option<&SessionInfo> {
        self.run.info()
    }

    /// The running connection's endpoints and buffer sizes (tests).
    #[doc(hidden)]
    pub fn info_for_tests(&self) -> Option<&SessionInfo> {
        self.info()
    }

    /// Where the event log's rows were shown this frame (tests).
    #[doc(hidden)]
    pub fn events_rect(&self) -> Option<egui::Rect> {
        self.events_rect
    }

    /// A recording played back: its cursor (ns) and whether it plays
    /// (tests).
    pub fn playback_state(&self) -> Option<(u64, bool)> {
        self.playback.as_ref().map(|p| (p.cursor_ns, p.playing))
    }

    /// The sample the picture shows now (tests).
    pub fn shown_sample(&self) -> Sample {
        self.now().0
    }

    /// The connections window's rows (tests).
    pub fn connection_rows(&self) -> &[crate::lab::diag::Connection] {
        self.windows.connections.rows()
    }

    /// The packets step mode's sockets exchanged (on a private link).
    pub fn step_packet_kinds(&mut self) -> Vec<crate::lab::wire_log::SegmentKind> {
        self.windows.steps.packet_kinds()
    }

    /// The running session's segments as the wire window shows them.
    pub fn wire_log(&self) -> Option<&crate::lab::wire_log::WireLog> {
        self.run.wire_log()
    }

    /// The live session's id (None for a recorded timeline or a failed
    /// start).
    pub fn session_id(&self) -> Option<u64> {
        self.run.session_id()
    }

    pub fn export_dir(&self) -> PathBuf {
        self.settings
            .export_dir
            .clone()
            .unwrap_or_else(default_export_dir)
    }

    /// The export status line and whether it reports a failure.
    pub fn export_message(&self) -> Option<(String, bool)> {
        self.exports.message(self.settings.lang)
    }

    /// Appends samples to a recorded timeline, as a live session would:
    /// for benchmarks of a growing run. Ignored live.
    pub fn push_fixed_samples(&mut self, samples: impl IntoIterator<Item = Sample>) {
        self.run.push_recorded(samples);
    }

    /// Seconds the timeline shows while following live (∞ = whole run).
    pub fn set_timeline_window(&mut self, secs: f64) {
        self.settings.plot.window_secs = secs;
    }

    /// Makes a worker of the live session fail (reliability tests).
    #[doc(hidden)]
    pub fn inject_fault(&self, fault: crate::lab::Fault) {
        self.run.inject_fault(fault);
    }

    pub fn is_projector(&self) -> bool {
        self.settings.projector
    }

    /// Carries out one input, whatever it came from.
    fn act(&mut self, ctx: &egui::Context, action: Action) {
        match action {
            Action::Control(control) => self.run.control(control),
            Action::TogglePause => match &mut self.playback {
                Some(playback) => playback.toggle(),
                None => self.run.toggle_reader_pause(),
            },
            Action::OpenRecording(path) => self.open_file(path, ctx),
            Action::BrowseRecordings => {
                // The typed path's folder, else the export folder.
                let typed = PathBuf::from(self.windows.open_path.trim());
                let folder = [
                    typed.clone(),
                    typed.parent().map(PathBuf::from).unwrap_or_default(),
                ]
                .into_iter()
                .find(|p| !p.as_os_str().is_empty() && p.is_dir())
                .unwrap_or_else(|| self.export_dir());
                self.windows.browse.toggle(&folder);
            }
            Action::Step(forward) => {
                if let Some(playback) = &mut self.playback {
                    playback.step(forward);
                }
            }
            Action::Seek(t_ns) => {
                if let Some(playback) = &mut self.playback {
                    playback.seek(t_ns);
                }
            }
            Action::ApplyBuffers { sndbuf, rcvbuf } => self.restart(LabConfig {
                sndbuf,
                rcvbuf,
                ..self.config()
            }),
            Action::Restart => self.restart(self.config()),
            Action::Attach(local, peer) => {
                let target = Target::find(local, Some(peer));
                self.attach(target, ctx);
            }
            Action::UseLink(on) => {
                // A new try: its own failure, if any, will say so again.
                self.link_refused = None;
                self.restart(LabConfig {
                    endpoint: if on {
                        Endpoint::Link(LinkSpec::default())
                    } else {
                        Endpoint::Loopback
                    },
                    ..self.config()
                });
            }
            Action::SetCongestion(congestion) => self.restart(LabConfig {
                congestion: Some(congestion),
                ..self.config()
            }),
            Action::ToggleCable => {
                // Only a private link has a cable; elsewhere U does nothing.
                if let Some(cable) = self.run.timeline().last().map(|s| s.cable)
                    && cable != Cable::NoLink
                {
                    self.run.control(Control::Cable(cable == Cable::Unplugged));
                }
            }
            Action::LoadPreset(preset) => {
                // A new try: a link setting it cannot have says so again.
                self.link_refused = None;
                let config = preset.config();
                self.edits.pending = PendingBuffers::of(&config);
                self.restart(config);
            }
            Action::RunScenario(name) => {
                let built_in = scenario::BUILT_IN.iter().find(|(n, _)| *n == name);
                if let Some((_, text)) = built_in {
                    self.play(name, scenario::parse(text, name));
                }
            }
            Action::RunScenarioFile(path) => {
                let name = path
                    .file_stem()
                    .map_or_else(|| "file".into(), |s| s.to_string_lossy().into_owned());
                self.play(&name, scenario::load(&path));
            }
            Action::Export => self.export(ctx),
            Action::SetProjector(on) => self.settings.projector = on,
            Action::ToggleInfo => self.windows.info = !self.windows.info,
            Action::ToggleControls => {
                self.settings.show_controls = !self.settings.show_controls;
            }
            Action::ToggleSteps => self.windows.steps.open = !self.windows.steps.open,
            Action::ToggleMessages => self.windows.messages.open = !self.windows.messages.open,
            Action::ToggleWire => self.windows.wire.open = !self.windows.wire.open,
            Action::ToggleAnimation => self.windows.animation.toggle(),
            Action::ToggleConnections => {
                self.windows.connections.open = !self.windows.connections.open;
            }
            Action::MarkMoment(t_ns) => match &mut self.playback {
                // In a recording, a packet clicked is where the picture goes.
                Some(playback) => playback.seek(u64::try_from(t_ns).unwrap_or(0)),
                None => self.marked_ns = Some(t_ns),
            },
            Action::ToggleServer => {
                // Closing the window stops the server and every client.
                if self.windows.server.open {
                    self.windows.server.stop();
                }
                self.windows.server.open = !self.windows.server.open;
            }
            Action::ToggleFullscreen => {
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(!fullscreen(ctx)));
            }
            Action::Escape => {
                // A live run's marked moment first (its banner says "Esc
                // or L: back to live"; a recording's cursor marks one every
                // frame, which kept Esc from ever closing a window there),
                // then the floating window on top, as a dialog's Esc, then
                // full screen.
                let lang = self.settings.lang;
                if self.marked_ns.is_some() && self.playback.is_none() {
                    self.marked_ns = None;
                } else if let Some(window) = floating::topmost(ctx, lang, |w| self.is_open(w)) {
                    self.close(window);
                } else if fullscreen(ctx) {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(false));
                }
            }
            Action::SwitchLanguage => self.settings.lang = self.settings.lang.other(),
            Action::FollowLive(follow) => {
                self.plot_view.follow = follow;
                if follow {
                    self.marked_ns = None;
                }
            }
            Action::SetTimelineWindow(secs) => {
                self.settings.plot.window_secs = secs;
                self.plot_view.follow = true;
            }
            Action::SetExportDir(dir) => self.settings.export_dir = Some(dir),
            Action::DismissStatus => self.exports.dismiss(),
            Action::RunReuseExperiment => self.run_reuse_experiment(ctx),
            Action::ConnectMessages => self.connect_messages(ctx),
        }
        self.settings
            .remember(self.run.config(), self.run.resume_read_rate());
    }

    /// A new connection with `config`, and a fresh timeline view.
    /// A link the system refused (no user namespaces, no helper) or a link
    /// setting the kernel cannot apply (a delay without netem) does not
    /// leave the window empty: the run goes on without it, and the Link
    /// section says why.
    fn fall_back_from_a_refused_link(&mut self) {
        use crate::lab::LabError;
        use crate::lab::link::{LinkError, Loss};
        use crate::run::RunError;
        let Some(RunError::Start(LabError::Link(error))) = self.run.error() else {
            return;
        };
        let Endpoint::Link(spec) = self.config().endpoint else {
            return;
        };
        let (endpoint, refusal) = match error {
            LinkError::Namespace(_) | LinkError::Helper { .. } | LinkError::Handover(_) => {
                (Endpoint::Loopback, LinkRefusal::NoLink(error.to_string()))
            }
            LinkError::NoDelay => (
                Endpoint::Link(LinkSpec {
                    delay_ms: 0,
                    ..spec
                }),
                LinkRefusal::NoDelay(spec.delay_ms),
            ),
            LinkError::NoLoss(_) => (
                Endpoint::Link(LinkSpec {
                    loss: Loss::NONE,
                    ..spec
                }),
                LinkRefusal::NoLoss,
            ),
            _ => return,
        };
        // Said where the command was typed too: a flag the window cannot
        // honour is never dropped silently.
        eprintln!(
            "sockscope: {}; the window goes on without it.",
            refusal.text(Lang::En).trim_end_matches('.')
        );
        self.link_refused = Some(refusal);
        self.restart(LabConfig {
            endpoint,
            ..self.config()
        });
    }

    fn restart(&mut self, config: LabConfig) {
        self.marked_ns = None;
        self.run.start(LabConfig {
            capture: true,
            ..config
        });
        self.plot_view = PlotView::default();
    }

    /// Starts a scenario on a new connection, or shows why it cannot.
    fn play(&mut self, name: &str, scenario: Result<Scenario, ScenarioError>) {
        if self.run.phase() == crate::run::Phase::Recorded {
            return;
        }
        match scenario {
            Ok(scenario) => {
                self.edits.scenario.error = None;
                self.run.start_scenario(name, &scenario);
                self.edits.pending = PendingBuffers::of(self.run.config());
                self.plot_view = PlotView::default();
            }
            Err(error) => self.edits.scenario.error = Some(format!("{error}.")),
        }
    }

    /// Saves the timeline panel as a PNG (a screenshot of a coming frame)
    /// and the full-resolution samples as CSV.
    fn export(&mut self, ctx: &egui::Context) {
        let dir = self.export_dir();
        let what = self.export_what();
        self.exports.start(ctx, &dir, what, self.settings.lang);
    }

    /// What an export saves of the run now: its samples at full
    /// resolution, its packets, and its settings and figures so far.
    fn export_what(&self) -> ExportWhat {
        let timeline = self.run.timeline();
        let samples: Vec<Sample> = timeline.recent().iter().copied().collect();
        let older = timeline.total_samples() - samples.len() as u64;
        // With a capture, the wire's packets too, as pcap.
        let packets = self
            .run
            .wire_log()
            .is_some()
            .then(|| self.run.kept_packets());
        let ladder = self.windows.wire.open && self.run.wire_log().is_some();
        let summary = self.run.info().map(|info| {
            let last = timeline.last().copied().unwrap_or_default();
            let figures = self.run.figures();
            // The run so far, as a report: its bytes are checked only at
            // its end, so integrity is not known here.
            let report = crate::lab::SessionReport {
                bytes_written: last.written,
                bytes_read: last.read,
                first_mismatch: None,
                stall_count: last.stall_count,
                stall_time: Duration::from_nanos(last.stall_ns),
                samples: timeline.total_samples(),
                // The run so far is all on the sampler's clock.
                schedule: crate::lab::SampleSchedule {
                    taken: timeline.total_samples(),
                    first_ns: figures.first_sample_ns,
                    last_ns: figures.last_sample_ns,
                },
                elapsed: Duration::from_nanos(last.t_ns),
                errors: Vec::new(),
                final_sndbuf: None,
                final_rcvbuf: None,
                drained: false,
                verified: false,
            };
            let mut summary = crate::export::summary::Summary::new(
                self.run.config(),
                info,
                &report,
                timeline,
                crate::export::summary::RunFigures {
                    duration_s: last.t_secs(),
                    interrupted: false,
                    zero_window_ns: figures.zero_window_ns,
                    drain_cut: self.run.drain_cut(),
                },
            );
            // Its pcap is named once the export settles the file's name.
            summary.capture = packets
                .is_some()
                .then(|| crate::export::summary::CaptureSummary::of(&self.run, info, None));
            summary
        });
        ExportWhat {
            samples,
            older,
            packets,
            ladder,
            summary,
        }
    }

    /// Runs the SO_REUSEADDR experiment on a background thread: it makes
    /// real connect()/accept() calls, which the UI thread never waits on.
    fn run_reuse_experiment(&mut self, ctx: &egui::Context) {
        let spawned = self
            .windows
            .reuse_job
            .spawn("sockscope-reuseaddr", ctx, || {
                crate::lab::reuseaddr::all_trials().map_err(|e| e.to_string())
            });
        self.windows.reuse = match spawned {
            Ok(()) => ReuseState::Running,
            Err(error) => ReuseState::Done(Err(error.to_string())),
        };
    }

    /// Opens the Messages window's connection on a background thread.
    fn connect_messages(&mut self, ctx: &egui::Context) {
        let messages = &mut self.windows.messages;
        messages.pair = None;
        messages.connecting = true;
        let spawned = self
            .windows
            .messages_job
            .spawn("sockscope-messages", ctx, || {
                MessagePair::connect().map_err(|e| e.to_string())
            });
        if let Err(error) = spawned {
            let messages = &mut self.windows.messages;
            messages.connecting = false;
            messages.log.push(error.to_string());
        }
    }

    /// Results of the windows' background jobs.
    /// A file dropped on the window: read it as a recording on a thread
    /// of its own, then play it back in place of what ran.
    fn open_dropped(&mut self, ctx: &egui::Context) {
        if self.animating() {
            return;
        }
        let dropped = ctx.input(|i| i.raw.dropped_files.first().map(|f| f.path().to_path_buf()));
        if let Some(path) = dropped {
            self.open_file(path, ctx);
        }
    }

    /// Reads `path` as a recording on a thread of its own (the window shows
    /// the progress), then plays it back.
    fn open_file(&mut self, path: PathBuf, ctx: &egui::Context) {
        let share = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let progress = std::sync::Arc::clone(&share);
        let name = path.display().to_string();
        let spawned = self
            .windows
            .opening_job
            .spawn("sockscope-open", ctx, move || {
                crate::export::recording::Recording::open(&path, &mut |read| {
                    progress.store((read * 1e6) as u32, std::sync::atomic::Ordering::Relaxed);
                })
                .map_err(|e| e.to_string())
            });
        match spawned {
            Ok(()) => {
                self.windows.opening = Some((name, share));
                self.windows.opening_error = None;
            }
            Err(error) => self.windows.opening_error = Some(error.to_string()),
        }
    }

    /// Plays `recording` back in place of whatever ran.
    fn play_recording(&mut self, recording: crate::export::recording::Recording) {
        let recording = std::sync::Arc::new(recording);
        self.run = Run::recorded(
            recording.config,
            recording.info.clone(),
            recording.timeline.clone(),
        );
        self.playback = Some(Playback::new(recording, None));
    }

    fn receive_background(&mut self) {
        if let Some(result) = self.windows.opening_job.poll() {
            self.windows.opening = None;
            match result {
                Ok(recording) => self.play_recording(recording),
                Err(error) => self.windows.opening_error = Some(error),
            }
        }
        if let Some(result) = self.windows.reuse_job.poll() {
            self.windows.reuse = ReuseState::Done(result);
        }
        if let Some(result) = self.windows.messages_job.poll() {
            let messages = &mut self.windows.messages;
            messages.connecting = false;
            match result {
                Ok(pair) => {
                    messages.pair = Some(pair);
                    messages.log.clear();
                }
                Err(error) => messages.log.push(error),
            }
        }
    }

    fn is_open(&self, window: Floating) -> bool {
        let w = &self.windows;
        match window {
            Floating::Info => w.info,
            Floating::Messages => w.messages.open,
            Floating::Steps => w.steps.open,
            Floating::Server => w.server.open,
            Floating::Wire => w.wire.open,
            Floating::Connections => w.connections.open,
            // Hidden while an animation is drawn.
            Floating::Animation => w.animation.open && !self.animating(),
            Floating::Browse => w.browse.open,
        }
    }

    fn close(&mut self, window: Floating) {
        let w = &mut self.windows;
        match window {
            Floating::Info => w.info = false,
            Floating::Messages => w.messages.open = false,
            Floating::Steps => w.steps.open = false,
            Floating::Server => {
                // As its close button: the server and its clients stop.
                w.server.stop();
                w.server.open = false;
            }
            Floating::Wire => w.wire.open = false,
            Floating::Connections => w.connections.open = false,
            Floating::Animation => w.animation.toggle(),
            Floating::Browse => w.browse.open = false,
        }
    }

    /// The windows over the main view; returns their actions and whether
    /// something in them moves.
    fn windows(&mut self, ctx: &egui::Context, palette: &Palette) -> (Vec<Action>, bool) {
        let lang = self.settings.lang;
        let mut actions = Vec::new();
        if self.windows.info {
            actions.extend(self.info_window(ctx));
        }
        let messages = &mut self.windows.messages;
        if messages.open {
            // Connect once on opening; after a failure, the button retries.
            if messages.pair.is_none() && !messages.connecting && messages.log.is_empty() {
                actions.push(Action::ConnectMessages);
            }
            if let Some(MessagesAction::Connect) = messages.show(ctx, lang) {
                actions.push(Action::ConnectMessages);
            }
        }
        if self.windows.steps.open && self.windows.steps.show(ctx, palette, lang) {
            // A call is waiting: retry it soon, as a blocking call would.
            ctx.request_repaint_after(Duration::from_millis(30));
        }
        if self.windows.connections.open {
            self.windows.connections.show(ctx, palette, lang);
            if let Some((local, peer)) = self.windows.connections.take_picked() {
                actions.push(Action::Attach(local, peer));
            }
        }
        self.wire_rect = None;
        if self.windows.wire.open {
            let shown = WireShown {
                log: self.run.wire_log(),
                info: self.run.info(),
                last: self.run.timeline().last(),
                counts: self.run.capture_counts(),
                marked_ns: self.marked_ns,
                replay: self.playback.as_ref().map(|playback| Replay {
                    now_ns: playback.cursor_ns as i64,
                    wire: playback.recording.wire.as_ref(),
                }),
            };
            let (marked, rect) = self.windows.wire.show(ctx, &shown, palette, lang);
            self.wire_rect = rect;
            if let Some(t_ns) = marked {
                actions.push(Action::MarkMoment(t_ns));
            }
        }
        self.animation_dialog(ctx, palette);
        if self.windows.browse.open {
            let exports = self.export_dir();
            if let Some(path) = self.windows.browse.show(ctx, &exports, palette, lang) {
                self.windows.open_path = path.display().to_string();
                actions.push(Action::OpenRecording(path));
            }
        }
        let mut animating = false;
        if self.windows.server.open {
            animating |= self
                .windows
                .server
                .show(ctx, palette, &mut self.slots, lang);
        }
        (actions, animating)
    }
}

/// Whether the window is full screen; the window manager may leave it on
/// its own, so ask it.
fn fullscreen(ctx: &egui::Context) -> bool {
    ctx.input(|i| i.viewport().fullscreen).unwrap_or(false)
}

/// egui's default proportional font lacks arrows (→) that the captions
/// use; its bundled monospace font has them. Falling back to it draws the
/// same on every machine, with or without system fonts.
pub(crate) fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    if fonts.font_data.contains_key("Hack") {
        fonts
            .families
            .entry(egui::FontFamily::Proportional)
            .or_default()
            .push("Hack".into());
    }
    // Chinese draws the same on every machine: a subset of Noto Sans CJK
    // SC (assets/fonts, SIL OFL) bundled in the binary, after the Latin
    // fonts so English keeps its look.
    fonts.font_data.insert(
        "NotoSansSC".into(),
        std::sync::Arc::new(egui::FontData::from_static(include_bytes!(
            "../../../assets/fonts/NotoSansSC-sockscope.otf"
        ))),
    );
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts
            .families
            .entry(family)
            .or_default()
            .push("NotoSansSC".into());
    }
    ctx.set_fonts(fonts);
}

impl eframe::App for SockscopeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let frame_start = Instant::now();
        let ctx = ui.ctx().clone();
        if self.applied_projector != Some(self.settings.projector) {
            theme::apply(&ctx, self.settings.projector);
            self.applied_projector = Some(self.settings.projector);
        }
        let palette = Palette::new(self.settings.projector);
        self.run.pump();
        self.fall_back_from_a_refused_link();
        self.sample_lag = self.run.sample_lag();
        self.exports.receive(&ctx, self.settings.lang);
        self.open_dropped(&ctx);
        self.receive_background();
        let mut actions = action::shortcuts(&ctx, self.settings.projector);
        self.slots.begin_frame();
        let mut playing = false;
        if let (Some(gif), Some(playback)) = (&mut self.gif, &mut self.playback) {
            gif.frame(&ctx, playback, self.timeline_rect);
        }
        self.animation_frame(&ctx);
        if let Some(playback) = &mut self.playback {
            playback.advance(ctx.input(|i| i.stable_dt).min(0.1));
            self.marked_ns = Some(playback.cursor_ns as i64);
            playing = playback.playing;
        }

        actions.extend(self.top_bar(ui, &palette));
        actions.extend(self.status_bar(ui, &palette));
        // What is left is the floating windows' room: none covers the
        // top bar's buttons.
        let room = ui.available_rect_before_wrap();
        floating::set_area(&ctx, room);
        floating::keep_below_top(&ctx, room);
        if self.settings.show_controls {
            actions.extend(self.controls_panel(ui, &palette));
        }
        self.failure_bar(ui, &palette);
        self.preparing_bar(ui);
        let (central, mut animating) = self.central_panel(ui, &palette);
        animating |= playing;
        actions.extend(central);
        let (windows, moving) = self.windows(&ctx, &palette);
        actions.extend(windows);
        // A window dragged up this frame (or one shown without the
        // constraint) is back under the top bar by the next.
        floating::keep_below_top(&ctx, room);
        animating |= moving;

        self.exports.request_screenshots(
            &ctx,
            self.timeline_rect,
            self.wire_rect,
            self.settings.lang,
        );
        let actions = self.animation_input(&ctx, actions);
        for action in actions {
            self.act(&ctx, action);
        }
        if let Some(capture) = &mut self.capture {
            capture.frame(&ctx);
        }
        if animating || self.exports.busy() {
            ctx.request_repaint();
        }
        self.frame_cpu = frame_start.elapsed();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.persist {
            eframe::set_value(
                storage,
                SETTINGS_KEY,
                &self.settings.to_store(&self.flags_applied),
            );
        }
    }

    fn persist_egui_memory(&self) -> bool {
        false
    }
}

impl Lang {
    /// The other of the two languages.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }
}

/// The caption of a failed start, a refused control or a session that
/// ended by itself, in the window's language.
fn run_failure(run: &Run, lang: Lang) -> Option<String> {
    use crate::run::RunError;
    if let Some(error) = run.error() {
        return Some(match error {
            RunError::Start(error) => S::StartFailed.fill(lang, &[error]),
            RunError::NoThread(error) => S::StartNoThread.fill(lang, &[error]),
            RunError::StartThreadEnded => S::StartThreadEnded.text(lang).into(),
            RunError::Control(error) => S::ControlFailed.fill(lang, &[error]),
            RunError::Retire(error) => S::RetireFailed.fill(lang, &[error]),
        });
    }
    run.ended_with()
        .map(|errors| S::SessionEnded.fill(lang, &[&errors]))
}
