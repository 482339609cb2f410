//! The window: state, keyboard shortcuts, persistence, export and the
//! scripted capture. Reads the lab only through `LiveLab::pump` (a
//! non-blocking channel drain) and sends it controls.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, unbounded};
use eframe::egui::{self, Key, Modifiers, RichText};

use super::controls::{self, Action, Edits, PendingBuffers, ScenarioPanel};
use super::i18n::{Lang, S};
use super::live::{LiveLab, ScenarioNote, Source, repaint_waker};
use super::messages::{MessagesAction, MessagesWindow};
use super::plot::{self, PlotSettings, PlotView};
use super::server::ServerWindow;
use super::steps::StepsWindow;
use super::theme::{self, Palette};
use super::vessel::{self, Slots};
use super::view::{self, Now, VesselMotion};
use super::{GuiOptions, Panel, info_panel};
use crate::export::png::{unused_path, utc_stamp, write_png};
use crate::export::{AtomicFile, csv::SampleCsv};
use crate::lab::units::format_bytes;
use crate::lab::{
    Endpoint, EventKind, LabConfig, Preset, Rate, Sample, SessionInfo, Size, Timeline,
};

const SETTINGS_KEY: &str = "sockscope-settings";

/// What survives a restart of the program (eframe persistence). Every field
/// has a default, and `StoredConfig::to_config` and `PlotSettings::window`
/// replace values a hand-edited or corrupted file could hold.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    pub lab: StoredConfig,
    pub projector: bool,
    pub show_controls: bool,
    pub export_dir: Option<PathBuf>,
    pub plot: PlotSettings,
    /// The reader's rate before Space paused it, as `Rate::parse` text.
    pub resume_read_rate: String,
    /// The interface language; at first the system locale's.
    pub lang: Lang,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lab: StoredConfig::from(&Preset::Balanced.config()),
            projector: false,
            show_controls: true,
            export_dir: None,
            plot: PlotSettings::default(),
            resume_read_rate: "max".into(),
            lang: Lang::from_environment(),
        }
    }
}

/// A `LabConfig` in a form that serializes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct StoredConfig {
    pub sndbuf: Option<u64>,
    pub rcvbuf: Option<u64>,
    pub write_rate: String,
    pub write_chunk: u64,
    pub read_rate: String,
    pub read_chunk: u64,
    pub sample_hz: u32,
}

impl Default for StoredConfig {
    fn default() -> Self {
        StoredConfig::from(&Preset::Balanced.config())
    }
}

fn rate_text(rate: Rate) -> String {
    match rate {
        Rate::Unlimited => "max".into(),
        Rate::Paused => "0".into(),
        Rate::BytesPerSec(n) => n.to_string(),
    }
}

impl From<&LabConfig> for StoredConfig {
    fn from(config: &LabConfig) -> Self {
        StoredConfig {
            sndbuf: config.sndbuf.map(Size::bytes),
            rcvbuf: config.rcvbuf.map(Size::bytes),
            write_rate: rate_text(config.write_rate),
            write_chunk: config.write_chunk.bytes(),
            read_rate: rate_text(config.read_rate),
            read_chunk: config.read_chunk.bytes(),
            sample_hz: config.sample_hz,
        }
    }
}

impl StoredConfig {
    /// The config, with any unusable value replaced by the default's.
    pub fn to_config(&self) -> LabConfig {
        let default = Preset::Balanced.config();
        let chunk = |bytes: u64, fallback: Size| {
            if (1..=crate::lab::MAX_CHUNK).contains(&bytes) {
                Size(bytes)
            } else {
                fallback
            }
        };
        let buffer = |bytes: Option<u64>| bytes.filter(|b| (1..=1 << 30).contains(b)).map(Size);
        LabConfig {
            sndbuf: buffer(self.sndbuf),
            rcvbuf: buffer(self.rcvbuf),
            write_rate: Rate::parse(&self.write_rate).unwrap_or(default.write_rate),
            write_chunk: chunk(self.write_chunk, default.write_chunk),
            read_rate: Rate::parse(&self.read_rate).unwrap_or(default.read_rate),
            read_chunk: chunk(self.read_chunk, default.read_chunk),
            sample_hz: if (1..=crate::lab::sampler::MAX_SAMPLE_HZ).contains(&self.sample_hz) {
                self.sample_hz
            } else {
                default.sample_hz
            },
            ..default
        }
    }
}

/// A screenshot on its way back from the renderer.
enum Shot {
    /// `--screenshot FILE`: the whole window, then quit.
    Scripted(PathBuf),
    /// Export: the timeline panel, cropped.
    Timeline { rect: egui::Rect, png: PathBuf },
}

/// Messages from export threads and screenshot callbacks.
enum Delivery {
    Image(Shot, Arc<egui::ColorImage>),
    Saved(Result<String, String>),
    Reuse(Result<Vec<crate::lab::reuseaddr::ReuseTrial>, String>),
    Messages(Result<crate::lab::messages::MessagePair, String>),
}

/// How the scripted capture ended; read by `gui::run` after the window closed.
pub type CaptureOutcome = Arc<Mutex<Option<Result<PathBuf, String>>>>;

struct ScriptedCapture {
    screenshot: Option<PathBuf>,
    after: Duration,
    requested_at: Option<Instant>,
    outcome: CaptureOutcome,
}

pub struct SockscopeApp {
    source: Source,
    settings: Settings,
    persist: bool,
    /// Buffer sizes and the scenario path being edited.
    edits: Edits,
    slots: Slots,
    motion: VesselMotion,
    plot_view: PlotView,
    started: Instant,
    capture: Option<ScriptedCapture>,
    delivery_tx: Sender<Delivery>,
    delivery_rx: Receiver<Delivery>,
    /// The last export's confirmation or error, and whether it failed.
    export_message: Option<(String, bool)>,
    exports_running: usize,
    timeline_rect: Option<egui::Rect>,
    /// Export file names handed out in this run.
    reserved_paths: std::collections::HashSet<PathBuf>,
    /// An export's PNG, to be requested at the end of this frame.
    pending_png: Option<PathBuf>,
    /// Screenshots requested and not yet delivered: until then every frame
    /// draws the settings caption, so whichever frame the renderer captures
    /// has the layout the crop was measured on.
    awaiting_png: usize,
    show_info: bool,
    /// The SO_REUSEADDR experiment in the info panel.
    reuse: info_panel::ReuseState,
    /// Messages by hand on their own connection.
    messages: MessagesWindow,
    /// The lesson's call sequences, one real call per button.
    steps: StepsWindow,
    server: ServerWindow,
    applied_projector: Option<bool>,
    /// This frame's CPU time in `ui`, for the benchmark.
    pub frame_cpu: Duration,
    /// How old the newest sample was when this frame drew it (live only).
    pub sample_lag: Option<Duration>,
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
        if let Some(preset) = options.preset {
            settings.lab = StoredConfig::from(&preset.config());
        }
        if let Some(dir) = &options.export_dir {
            settings.export_dir = Some(dir.clone());
        }
        if options.projector {
            settings.projector = true;
        }
        if let Some(lang) = options.lang {
            settings.lang = lang;
        }
        let config = LabConfig {
            endpoint: options.endpoint,
            ..settings.lab.to_config()
        };
        settings.lab = StoredConfig::from(&config);
        install_fonts(&cc.egui_ctx);
        let gpu = cc.wgpu_render_state.as_ref().is_some_and(vessel::install);
        let source = match &options.fixed {
            Some((info, timeline)) => Source::Fixed {
                info: info.clone(),
                timeline: timeline.clone(),
            },
            None => {
                let mut lab = LiveLab::new(config, Some(repaint_waker(&cc.egui_ctx)));
                lab.start(config);
                Source::Live(Box::new(lab))
            }
        };
        let (delivery_tx, delivery_rx) = unbounded();
        let capture = (options.screenshot.is_some() || options.quit_after.is_some()).then(|| {
            ScriptedCapture {
                screenshot: options.screenshot.clone(),
                after: options.quit_after.unwrap_or(Duration::from_secs(3)),
                requested_at: None,
                outcome: Arc::clone(&options.outcome),
            }
        });
        let mut app = SockscopeApp {
            source,
            edits: Edits {
                pending: PendingBuffers {
                    sndbuf: config.sndbuf,
                    rcvbuf: config.rcvbuf,
                },
                scenario: ScenarioPanel::default(),
            },
            settings,
            persist: options.persist,
            slots: Slots::new(gpu),
            motion: VesselMotion::default(),
            plot_view: PlotView::default(),
            started: Instant::now(),
            capture,
            delivery_tx,
            delivery_rx,
            export_message: None,
            exports_running: 0,
            timeline_rect: None,
            reserved_paths: std::collections::HashSet::new(),
            pending_png: None,
            awaiting_png: 0,
            show_info: false,
            reuse: info_panel::ReuseState::NotRun,
            messages: MessagesWindow::default(),
            steps: StepsWindow::default(),
            server: ServerWindow::default(),
            applied_projector: None,
            frame_cpu: Duration::ZERO,
            sample_lag: None,
        };
        match options.open {
            Some(Panel::Server) => app.server.open = true,
            Some(Panel::Steps) => app.steps.open = true,
            Some(Panel::Messages) => app.messages.open = true,
            Some(Panel::Info) => app.show_info = true,
            None => {}
        }
        app
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The config the lab runs with now.
    pub fn config(&self) -> LabConfig {
        match &self.source {
            Source::Live(lab) => *lab.config(),
            Source::Fixed { .. } => self.settings.lab.to_config(),
        }
    }

    pub fn timeline(&self) -> &Timeline {
        self.source.timeline()
    }

    fn info(&self) -> Option<&SessionInfo> {
        match &self.source {
            Source::Live(lab) => lab.info(),
            Source::Fixed { info, .. } => Some(info),
        }
    }

    /// The live session's id (None for a fixed timeline or a failed start).
    pub fn session_id(&self) -> Option<u64> {
        match &self.source {
            Source::Live(lab) => lab.session_id(),
            Source::Fixed { .. } => None,
        }
    }

    pub fn export_dir(&self) -> PathBuf {
        self.settings
            .export_dir
            .clone()
            .unwrap_or_else(default_export_dir)
    }

    pub fn export_message(&self) -> Option<&(String, bool)> {
        self.export_message.as_ref()
    }

    /// Appends samples to a fixed (recorded or synthetic) timeline, as a
    /// live session would: for benchmarks of a growing run. Ignored live.
    pub fn push_fixed_samples(&mut self, samples: impl IntoIterator<Item = Sample>) {
        if let Source::Fixed { timeline, .. } = &mut self.source {
            timeline.extend(samples);
        }
    }

    /// Seconds the timeline shows while following live (∞ = whole run).
    pub fn set_timeline_window(&mut self, secs: f64) {
        self.settings.plot.window_secs = secs;
    }

    /// Makes a worker of the live session fail (reliability tests).
    #[doc(hidden)]
    pub fn inject_fault(&self, fault: crate::lab::Fault) {
        if let Source::Live(lab) = &self.source {
            lab.inject_fault(fault);
        }
    }

    pub fn is_projector(&self) -> bool {
        self.settings.projector
    }

    /// Applies one control.
    fn act(&mut self, action: Action) {
        match &action {
            Action::RunScenario(name) => {
                let found = crate::lab::scenario::BUILT_IN
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, text)| crate::lab::scenario::parse(text, name));
                if let Some(parsed) = found {
                    self.play(name, parsed);
                }
                return;
            }
            Action::RunScenarioFile(path) => {
                let name = path
                    .file_stem()
                    .map_or_else(|| "file".into(), |s| s.to_string_lossy().into_owned());
                self.play(&name, crate::lab::scenario::load(path));
                return;
            }
            _ => {}
        }
        let Source::Live(lab) = &mut self.source else {
            return;
        };
        match action {
            Action::SetReadRate(rate) => lab.set_read_rate(rate),
            Action::SetWriteRate(rate) => lab.set_write_rate(rate),
            Action::SetReadChunk(size) => lab.set_read_chunk(size),
            Action::SetWriteChunk(size) => lab.set_write_chunk(size),
            Action::SetSampleHz(hz) => lab.set_sample_hz(hz),
            Action::TogglePause => {
                if lab.config().read_rate.is_paused() {
                    let resume = Rate::parse(&self.settings.resume_read_rate)
                        .ok()
                        .filter(|r| !r.is_paused())
                        .unwrap_or(Rate::Unlimited);
                    lab.set_read_rate(resume);
                } else {
                    self.settings.resume_read_rate = rate_text(lab.config().read_rate);
                    lab.set_read_rate(Rate::Paused);
                }
            }
            Action::ApplyBuffers { sndbuf, rcvbuf } => {
                let config = LabConfig {
                    sndbuf,
                    rcvbuf,
                    ..*lab.config()
                };
                lab.start(config);
                self.plot_view = PlotView::default();
            }
            Action::Restart => {
                let config = *lab.config();
                lab.start(config);
                self.plot_view = PlotView::default();
            }
            // Played above, before `lab` is borrowed.
            Action::RunScenario(_) | Action::RunScenarioFile(_) => {}
            Action::LoadPreset(preset) => {
                let config = preset.config();
                self.edits.pending = PendingBuffers {
                    sndbuf: config.sndbuf,
                    rcvbuf: config.rcvbuf,
                };
                lab.start(config);
                self.plot_view = PlotView::default();
            }
        }
        self.settings.lab = StoredConfig::from(lab.config());
    }

    /// Runs the SO_REUSEADDR experiment on a background thread: it makes
    /// real connect()/accept() calls, which the UI thread never waits on.
    fn run_reuse_experiment(&mut self, ctx: &egui::Context) {
        let tx = self.delivery_tx.clone();
        let repaint = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("sockscope-reuseaddr".into())
            .spawn(move || {
                let result = crate::lab::reuseaddr::all_trials().map_err(|e| e.to_string());
                let _ = tx.send(Delivery::Reuse(result));
                repaint.request_repaint();
            });
        self.reuse = match spawned {
            Ok(_) => info_panel::ReuseState::Running,
            Err(error) => info_panel::ReuseState::Done(Err(error.to_string())),
        };
    }

    /// Opens the Messages window's connection on a background thread.
    /// Opens the server window (starting its server) or closes it
    /// (stopping the server and every client).
    fn toggle_server(&mut self) {
        if self.server.open {
            self.server.stop();
        }
        self.server.open = !self.server.open;
    }

    fn connect_messages(&mut self, ctx: &egui::Context) {
        let tx = self.delivery_tx.clone();
        let repaint = ctx.clone();
        self.messages.pair = None;
        self.messages.connecting = true;
        let spawned = std::thread::Builder::new()
            .name("sockscope-messages".into())
            .spawn(move || {
                let result =
                    crate::lab::messages::MessagePair::connect().map_err(|e| e.to_string());
                let _ = tx.send(Delivery::Messages(result));
                repaint.request_repaint();
            });
        if let Err(error) = spawned {
            self.messages.connecting = false;
            self.messages.log.push(error.to_string());
        }
    }

    /// Starts a scenario on a new connection, or shows why it cannot.
    fn play(
        &mut self,
        name: &str,
        scenario: Result<crate::lab::scenario::Scenario, crate::lab::scenario::ScenarioError>,
    ) {
        let Source::Live(lab) = &mut self.source else {
            return;
        };
        match scenario {
            Ok(scenario) => {
                self.edits.scenario.error = None;
                lab.start_scenario(name, &scenario);
                self.edits.pending = PendingBuffers {
                    sndbuf: lab.config().sndbuf,
                    rcvbuf: lab.config().rcvbuf,
                };
                self.plot_view = PlotView::default();
                self.settings.lab = StoredConfig::from(lab.config());
            }
            Err(error) => self.edits.scenario.error = Some(format!("{error}.")),
        }
    }

    /// Keyboard shortcuts, unless a text field has the keyboard. A held key
    /// acts once: its repeats are swallowed (holding S must not export
    /// twenty times, nor Space flip the reader on and off).
    fn shortcuts(&mut self, ctx: &egui::Context) -> Vec<Action> {
        let mut actions = Vec::new();
        if ctx.egui_wants_keyboard_input() {
            return actions;
        }
        let take = |modifiers: Modifiers, key: Key| {
            ctx.input_mut(|i| {
                let mut first_press = false;
                i.events.retain(|event| match event {
                    egui::Event::Key {
                        key: k,
                        pressed: true,
                        repeat,
                        modifiers: m,
                        ..
                    } if *k == key && m.matches_logically(modifiers) => {
                        first_press |= !repeat;
                        false
                    }
                    _ => true,
                });
                first_press
            })
        };
        let pressed = |key| take(Modifiers::NONE, key);
        if take(Modifiers::COMMAND, Key::S) || pressed(Key::S) {
            self.export(ctx);
        }
        if pressed(Key::Space) {
            actions.push(Action::TogglePause);
        }
        if pressed(Key::R) {
            actions.push(Action::Restart);
        }
        if pressed(Key::P) {
            self.settings.projector = !self.settings.projector;
        }
        // The window manager may leave full screen on its own: ask it.
        let fullscreen = ctx.input(|i| i.viewport().fullscreen).unwrap_or(false);
        if pressed(Key::F11) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(!fullscreen));
        }
        if pressed(Key::L) {
            self.plot_view.follow = true;
        }
        if pressed(Key::I) {
            self.show_info = !self.show_info;
        }
        if pressed(Key::T) {
            self.steps.open = !self.steps.open;
        }
        if pressed(Key::M) {
            self.messages.open = !self.messages.open;
        }
        if pressed(Key::G) {
            self.toggle_server();
        }
        if pressed(Key::C) {
            self.settings.show_controls = !self.settings.show_controls;
        }
        if pressed(Key::Escape) {
            if self.show_info {
                self.show_info = false;
            } else if fullscreen {
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(false));
            }
        }
        actions
    }

    /// Saves the timeline panel as a PNG (via a screenshot of the next
    /// frame) and the full-resolution samples as CSV.
    pub fn export(&mut self, ctx: &egui::Context) {
        let dir = self.export_dir();
        if let Err(error) = std::fs::create_dir_all(&dir) {
            self.export_message = Some((
                S::ExportFolderError.fill(self.settings.lang, &[&dir.display(), &error.kind()]),
                true,
            ));
            return;
        }
        let (stamp, _) = utc_stamp(unix_now());
        let stem = format!("sockscope-{stamp}");
        // Names are reserved here: the PNG is written frames later, and a
        // second export in the same second must not pick the same name.
        let taken = |path: &std::path::Path| self.reserved_paths.contains(path);
        let png = unused_path(&dir, &stem, "png", taken);
        let csv = unused_path(&dir, &stem, "csv", taken);
        self.reserved_paths.insert(png.clone());
        self.reserved_paths.insert(csv.clone());
        // The screenshot is requested at the end of this frame, which draws
        // the settings caption, so the crop matches what was drawn.
        self.pending_png = Some(png);
        self.export_message = Some((S::Exporting.text(self.settings.lang).into(), false));
        let samples: Vec<Sample> = self.timeline().recent().iter().copied().collect();
        let older = self.timeline().total_samples() - samples.len() as u64;
        let lang = self.settings.lang;
        let tx = self.delivery_tx.clone();
        let repaint = ctx.clone();
        self.exports_running += 2;
        let spawned = std::thread::Builder::new()
            .name("sockscope-export-csv".into())
            .spawn(move || {
                let result = write_csv(&csv, &samples).map(|rows| {
                    let saved = S::SamplesSaved.fill(lang, &[&rows, &csv.display()]);
                    if older > 0 {
                        saved + &S::SamplesPartial.fill(lang, &[&older])
                    } else {
                        saved
                    }
                });
                let _ = tx.send(Delivery::Saved(result));
                repaint.request_repaint();
            });
        if let Err(error) = spawned {
            self.exports_running -= 1;
            self.export_message = Some((format!("Could not start the CSV export: {error}."), true));
        }
    }

    /// Asks the renderer for this frame's pixels, cropped to the timeline
    /// panel as laid out in this frame.
    fn request_pending_png(&mut self, ctx: &egui::Context) {
        let Some(png) = self.pending_png.take() else {
            return;
        };
        let Some(rect) = self.timeline_rect else {
            self.exports_running = self.exports_running.saturating_sub(1);
            return;
        };
        let tx = self.delivery_tx.clone();
        let repaint = ctx.clone();
        self.awaiting_png += 1;
        ctx.request_screenshot(move |image| {
            let _ = tx.send(Delivery::Image(Shot::Timeline { rect, png }, image));
            repaint.request_repaint();
        });
    }

    /// Handles screenshots and finished exports.
    fn receive_deliveries(&mut self, ctx: &egui::Context) {
        while let Ok(delivery) = self.delivery_rx.try_recv() {
            match delivery {
                Delivery::Image(Shot::Scripted(path), image) => {
                    let result = save_image(&image, &path, None);
                    if let Some(capture) = &self.capture {
                        *capture.outcome.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(result.map(|_| path.clone()));
                    }
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                Delivery::Image(Shot::Timeline { rect, png }, image) => {
                    self.awaiting_png = self.awaiting_png.saturating_sub(1);
                    let tx = self.delivery_tx.clone();
                    let repaint = ctx.clone();
                    let ppp = ctx.pixels_per_point();
                    let lang = self.settings.lang;
                    let spawned = std::thread::Builder::new()
                        .name("sockscope-export-png".into())
                        .spawn(move || {
                            let result = save_image(&image, &png, Some((rect, ppp)))
                                .map(|()| S::TimelineSaved.fill(lang, &[&png.display()]));
                            let _ = tx.send(Delivery::Saved(result));
                            repaint.request_repaint();
                        });
                    if spawned.is_err() {
                        self.exports_running = self.exports_running.saturating_sub(1);
                    }
                }
                Delivery::Reuse(result) => self.reuse = info_panel::ReuseState::Done(result),
                Delivery::Messages(result) => {
                    self.messages.connecting = false;
                    match result {
                        Ok(pair) => {
                            self.messages.pair = Some(pair);
                            self.messages.log.clear();
                        }
                        Err(error) => self.messages.log.push(error),
                    }
                }
                Delivery::Saved(result) => {
                    self.exports_running = self.exports_running.saturating_sub(1);
                    let (text, failed) = match result {
                        Ok(text) => (text, false),
                        Err(text) => (text, true),
                    };
                    // Keep an error visible over a later success.
                    match &mut self.export_message {
                        Some((message, was_failed)) if !is_placeholder(message) => {
                            if failed || !*was_failed {
                                *message = format!("{message}; {text}");
                                *was_failed |= failed;
                            }
                        }
                        slot => *slot = Some((capitalise(&text), failed)),
                    }
                }
            }
        }
    }

    fn scripted_capture(&mut self, ctx: &egui::Context) {
        let Some(capture) = &mut self.capture else {
            return;
        };
        let elapsed = self.started.elapsed();
        if elapsed < capture.after {
            ctx.request_repaint_after(capture.after - elapsed);
            return;
        }
        match (&capture.screenshot, capture.requested_at) {
            (None, _) => {
                *capture.outcome.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(Ok(PathBuf::new()));
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            (Some(path), None) => {
                capture.requested_at = Some(Instant::now());
                let tx = self.delivery_tx.clone();
                let repaint = ctx.clone();
                let path = path.clone();
                ctx.request_screenshot(move |image| {
                    let _ = tx.send(Delivery::Image(Shot::Scripted(path), image));
                    repaint.request_repaint();
                });
            }
            (Some(_), Some(at)) if at.elapsed() > Duration::from_secs(20) => {
                *capture.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(Err(
                    "the renderer never delivered the screenshot (20 s)".into(),
                ));
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            _ => ctx.request_repaint_after(Duration::from_millis(50)),
        }
    }

    /// The newest sample and what the picture derives from it.
    fn now(&self) -> (Sample, Option<u64>, f64, f64) {
        let timeline = self.timeline();
        let sample = timeline.last().copied().unwrap_or_default();
        // The running stall began at the last WriterStallStarted event.
        let stall_started = timeline
            .events()
            .iter()
            .rev()
            .find(|e| {
                matches!(
                    e.kind,
                    EventKind::WriterStallStarted | EventKind::WriterStallEnded { .. }
                )
            })
            .filter(|e| e.kind == EventKind::WriterStallStarted)
            .map(|e| e.t_ns);
        // Rates over the last half second of samples.
        let recent = timeline.recent();
        let since = sample.t_ns.saturating_sub(500_000_000);
        let start = recent.partition_point(|s| s.t_ns < since);
        let (write_rate, read_rate) = match recent.get(start) {
            Some(first) if sample.t_ns > first.t_ns => {
                let secs = (sample.t_ns - first.t_ns) as f64 / 1e9;
                (
                    sample.written.saturating_sub(first.written) as f64 / secs,
                    sample.read.saturating_sub(first.read) as f64 / secs,
                )
            }
            _ => (0.0, 0.0),
        };
        (sample, stall_started, write_rate, read_rate)
    }

    fn top_bar(&mut self, ui: &mut egui::Ui, palette: &Palette) -> Vec<Action> {
        let lang = self.settings.lang;
        let mut actions = Vec::new();
        ui.horizontal_wrapped(|ui| {
            ui.heading(RichText::new("sockscope").strong());
            if let Some(info) = self.info()
                && ui.available_width() > 700.0
            {
                ui.label(
                    RichText::new(
                        S::ConnectionLine
                            .fill(lang, &[&info.writer_addr, &info.reader_addr, &info.id]),
                    )
                    .color(palette.weak_text),
                );
            }
            if let Source::Live(lab) = &self.source
                && lab.is_connecting()
            {
                let text = match lab.endpoint() {
                    Endpoint::Loopback => S::Connecting.text(lang).to_string(),
                    Endpoint::Listen(addr) => {
                        S::WaitingForPeer.fill(lang, &[&addr, &addr.ip(), &addr.port()])
                    }
                    Endpoint::Connect(addr) => S::ConnectingTo.fill(lang, &[&addr]),
                };
                let color = if lab.endpoint().is_outside() {
                    palette.caution
                } else {
                    palette.weak_text
                };
                ui.label(RichText::new(text).color(color).strong());
            }
            let t = self.timeline().last().map_or(0.0, Sample::t_secs);
            ui.label(RichText::new(format!("{t:.1} s")).monospace());
            ui.separator();
            let paused = self.config().read_rate.is_paused();
            let pause = if paused {
                S::ResumeReader
            } else {
                S::PauseReader
            };
            if ui.button(pause.text(lang)).on_hover_text("Space").clicked() {
                actions.push(Action::TogglePause);
            }
            if ui
                .button(S::Export.text(lang))
                .on_hover_text(S::ExportHover.text(lang))
                .clicked()
            {
                self.export(ui.ctx());
            }
            let mut projector = self.settings.projector;
            if ui
                .toggle_value(&mut projector, S::Projector.text(lang))
                .on_hover_text(S::ProjectorHover.text(lang))
                .changed()
            {
                self.settings.projector = projector;
            }
            ui.toggle_value(&mut self.show_info, S::Info.text(lang))
                .on_hover_text(S::InfoHover.text(lang));
            ui.toggle_value(&mut self.settings.show_controls, S::Controls.text(lang))
                .on_hover_text("C");
            ui.toggle_value(&mut self.steps.open, S::Steps.text(lang))
                .on_hover_text(S::StepsHover.text(lang));
            ui.toggle_value(&mut self.messages.open, S::Messages.text(lang))
                .on_hover_text(S::MessagesHover.text(lang));
            let mut server = self.server.open;
            if ui
                .toggle_value(&mut server, S::Server.text(lang))
                .on_hover_text(S::ServerHover.text(lang))
                .changed()
            {
                self.toggle_server();
            }
            if ui
                .button(S::Language.text(lang))
                .on_hover_text(S::LanguageHover.text(lang))
                .clicked()
            {
                self.settings.lang = match lang {
                    Lang::En => Lang::Zh,
                    Lang::Zh => Lang::En,
                };
            }
        });
        actions
    }

    fn event_log(&self, ui: &mut egui::Ui, palette: &Palette) {
        let lang = self.settings.lang;
        ui.label(RichText::new(S::Events.text(lang)).strong());
        let events = self.timeline().events();
        if events.is_empty() {
            ui.label(
                RichText::new(S::NoEvents.text(lang))
                    .small()
                    .color(palette.weak_text),
            );
            return;
        }
        // Only the rows in view are laid out: a long run's thousands of
        // events cost no more per frame than a dozen.
        let row_height = ui.text_style_height(&egui::TextStyle::Small) + 2.0;
        egui::ScrollArea::vertical()
            .id_salt("events")
            .auto_shrink([false, false])
            .stick_to_bottom(true)
            .show_rows(ui, row_height, events.len(), |ui, rows| {
                ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
                for event in events.range(rows) {
                    let color = match event.kind {
                        EventKind::WriterStallStarted
                        | EventKind::PeerReset
                        | EventKind::WriterPeerGone
                        | EventKind::WriterFailed
                        | EventKind::ReaderFailed => palette.alarm,
                        EventKind::WindowClosed | EventKind::ReaderPaused => palette.caution,
                        EventKind::WriterStallEnded { .. }
                        | EventKind::WindowReopened
                        | EventKind::ReaderResumed => palette.ok,
                        EventKind::PeerClosed => palette.text,
                    };
                    let t = event.t_ns as f64 / 1e9;
                    let text = format!("{t:>8.3} s  {}", event_text(event.kind, lang));
                    ui.label(RichText::new(text).color(color).small())
                        .on_hover_text(event.kind.describe());
                }
            });
    }

    /// The caption line that goes into exported PNGs: settings and time.
    fn export_caption(&self) -> String {
        let config = self.config();
        let buffer = |setting: Option<&crate::lab::BufferSetting>| match setting {
            Some(s) => match s.requested {
                Some(asked) => format!("{} → {}", format_bytes(asked), format_bytes(s.effective)),
                None => format!("auto {}", format_bytes(s.effective)),
            },
            None => "–".into(),
        };
        let info = self.info();
        let (_, when) = utc_stamp(unix_now());
        format!(
            "SO_SNDBUF {} · SO_RCVBUF {} · writer {} send({}) · reader {} recv({}) · {} Hz · {when}",
            buffer(info.map(|i| &i.sndbuf)),
            buffer(info.map(|i| &i.rcvbuf)),
            config.write_rate,
            format_bytes(config.write_chunk.bytes()),
            config.read_rate,
            format_bytes(config.read_chunk.bytes()),
            config.sample_hz,
        )
    }
}

/// egui's default proportional font lacks arrows (→) that the captions
/// use; its bundled monospace font has them. Falling back to it draws the
/// same on every machine, with or without system fonts.
fn install_fonts(ctx: &egui::Context) {
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
            "../../assets/fonts/NotoSansSC-sockscope.otf"
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

/// What a scenario did, in the window's language.
fn scenario_text(note: &ScenarioNote, lang: Lang) -> String {
    match note {
        ScenarioNote::Started(name) => S::ScenarioStarted.fill(lang, &[name]),
        ScenarioNote::Step {
            name,
            at_secs,
            changes,
            next_secs,
        } => {
            let next = next_secs.map_or_else(
                || S::ScenarioLast.text(lang).to_string(),
                |at| S::ScenarioNext.fill(lang, &[&format!("{at:.1}")]),
            );
            S::ScenarioStep.fill(lang, &[name, &format!("{at_secs:.1}"), changes, &next])
        }
    }
}

/// An event in a few words.
fn event_text(kind: EventKind, lang: Lang) -> String {
    match kind {
        EventKind::WriterStallStarted => S::EvStallStarted.text(lang).into(),
        EventKind::WriterStallEnded { stalled } => {
            S::EvStallEnded.fill(lang, &[&format!("{:.0}", stalled.as_secs_f64() * 1e3)])
        }
        EventKind::WindowClosed => S::EvWindowClosed.text(lang).into(),
        EventKind::WindowReopened => S::EvWindowReopened.text(lang).into(),
        EventKind::ReaderPaused => S::EvReaderPaused.text(lang).into(),
        EventKind::ReaderResumed => S::EvReaderResumed.text(lang).into(),
        EventKind::PeerClosed => S::EvPeerClosed.text(lang).into(),
        EventKind::PeerReset => S::EvPeerReset.text(lang).into(),
        EventKind::WriterPeerGone => S::EvPeerGone.text(lang).into(),
        EventKind::WriterFailed => S::EvWriterFailed.text(lang).into(),
        EventKind::ReaderFailed => S::EvReaderFailed.text(lang).into(),
    }
}

/// The "Exporting…" line, in either language.
fn is_placeholder(message: &str) -> bool {
    message == S::Exporting.text(Lang::En) || message == S::Exporting.text(Lang::Zh)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `$HOME/sockscope-exports`, or the working folder's.
pub fn default_export_dir() -> PathBuf {
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
        .join("sockscope-exports")
}

/// Writes the samples; returns how many rows.
fn write_csv(path: &std::path::Path, samples: &[Sample]) -> Result<u64, String> {
    let shown = path.display();
    let mut file = AtomicFile::create(path).map_err(|e| format!("{e}"))?;
    let mut csv = SampleCsv::new(file.writer());
    for sample in samples {
        csv.write(sample)
            .map_err(|e| format!("cannot write {shown}: {e}"))?;
    }
    let rows = csv.rows();
    csv.finish()
        .map_err(|e| format!("cannot write {shown}: {e}"))?;
    file.commit()
        .map_err(|e| format!("cannot write {shown}: {e}"))?;
    Ok(rows)
}

/// Writes a screenshot (or the `crop` region of it, in points) as PNG.
fn save_image(
    image: &egui::ColorImage,
    path: &std::path::Path,
    crop: Option<(egui::Rect, f32)>,
) -> Result<(), String> {
    let region;
    let image = match crop {
        Some((rect, ppp)) => {
            // The panel may reach past the window's edge on a small window.
            let whole = egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(image.size[0] as f32, image.size[1] as f32) / ppp,
            );
            let rect = rect.intersect(whole);
            if !rect.is_positive() {
                return Err("the timeline panel is not on screen; make the window larger".into());
            }
            region = image.region(&rect, Some(ppp));
            &region
        }
        None => image,
    };
    let [width, height] = image.size;
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    write_png(path, width as u32, height as u32, &rgba)
        .map(|_| ())
        .map_err(|e| e.to_string())
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
        let lang = self.settings.lang;
        if let Source::Live(lab) = &mut self.source {
            lab.pump();
            self.sample_lag = lab.sample_lag();
        }
        self.receive_deliveries(&ctx);
        let mut actions = self.shortcuts(&ctx);
        self.slots.begin_frame();

        egui::Panel::top("top").show(ui, |ui| {
            actions.extend(self.top_bar(ui, &palette));
        });
        if let Some((message, failed)) = &self.export_message {
            let (message, failed) = (message.clone(), *failed);
            egui::Panel::bottom("status").show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    let color = if failed { palette.alarm } else { palette.ok };
                    ui.label(RichText::new(message).color(color));
                    if ui
                        .small_button(S::Dismiss.text(self.settings.lang))
                        .clicked()
                    {
                        self.export_message = None;
                    }
                });
            });
        }
        if self.settings.show_controls {
            let config = self.config();
            let info = self.info().cloned();
            let scenario_note = match &self.source {
                Source::Live(lab) => lab.scenario_note().map(|note| scenario_text(note, lang)),
                Source::Fixed { .. } => None,
            };
            egui::Panel::left("controls")
                .resizable(true)
                .default_size(if self.settings.projector {
                    270.0
                } else {
                    250.0
                })
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        actions.extend(controls::panel(
                            ui,
                            &config,
                            info.as_ref(),
                            &mut self.edits,
                            scenario_note.as_deref(),
                            &palette,
                            lang,
                        ));
                        ui.separator();
                        ui.label(RichText::new(S::ExportFolder.text(lang)).strong());
                        let mut dir = self.export_dir().display().to_string();
                        let response = ui
                            .add(egui::TextEdit::singleline(&mut dir).desired_width(f32::INFINITY));
                        response.widget_info(|| {
                            egui::WidgetInfo::labeled(
                                egui::Role::TextInput,
                                true,
                                S::ExportFolder.text(lang),
                            )
                        });
                        if response.changed() {
                            self.settings.export_dir = Some(PathBuf::from(dir));
                        }
                        ui.label(
                            RichText::new(S::ExportFolderHint.text(lang))
                                .small()
                                .color(palette.weak_text),
                        );
                    });
                });
        }
        let failure = match &self.source {
            Source::Live(lab) => lab.error().map(str::to_string).or_else(|| {
                lab.ended_with()
                    .map(|errors| S::SessionEnded.fill(lang, &[&errors]))
            }),
            Source::Fixed { .. } => None,
        };
        if let Some(error) = failure {
            egui::Panel::top("error").show(ui, |ui| {
                ui.label(RichText::new(error).color(palette.alarm).strong());
            });
        }

        let (sample, stall_started_ns, write_rate, read_rate) = self.now();
        let config = self.config();
        let info = self.info().cloned();
        let now = Now {
            sample,
            info: info.as_ref(),
            config: &config,
            stall_started_ns,
            write_rate,
            read_rate,
        };
        let mut animating = false;
        egui::CentralPanel::default().show(ui, |ui| {
            let available = ui.available_height();
            let diagram_height = (available * 0.5).clamp(240.0, 420.0);
            animating = view::pipeline(
                ui,
                &now,
                &mut self.motion,
                &palette,
                &mut self.slots,
                diagram_height,
                lang,
            );
            let (caption, severity) = view::caption(&now, lang);
            ui.add_space(4.0);
            ui.label(
                RichText::new(caption)
                    .size(17.0 * palette.scale)
                    .color(severity.color(&palette))
                    .strong(),
            );
            ui.add_space(4.0);
            ui.separator();
            // Timeline (left) and event log (right).
            let rest = ui.available_size();
            let log_width = (rest.x * 0.28).clamp(200.0, 360.0);
            ui.horizontal_top(|ui| {
                let plot_size = egui::vec2(rest.x - log_width - 8.0, rest.y);
                let plot_rect = ui.allocate_ui_with_layout(
                    plot_size,
                    egui::Layout::top_down(egui::Align::LEFT),
                    |ui| {
                        ui.set_min_size(plot_size);
                        // The settings line is part of exported PNGs; on screen
                        // the controls already say it.
                        let exporting = self.pending_png.is_some() || self.awaiting_png > 0;
                        if exporting {
                            ui.add(
                                egui::Label::new(
                                    RichText::new(self.export_caption()).small().strong(),
                                )
                                .wrap(),
                            );
                        }
                        plot::legend(ui, &palette, lang);
                        // The view controls stay out of an exported picture.
                        if !exporting {
                            ui.horizontal(|ui| {
                                let mut follow = self.plot_view.follow;
                                if ui
                                    .toggle_value(&mut follow, S::FollowLive.text(lang))
                                    .changed()
                                {
                                    self.plot_view.follow = follow;
                                }
                                ui.label(RichText::new(S::Window.text(lang)).small());
                                for (secs, label) in plot::WINDOWS {
                                    let label = if secs.is_finite() {
                                        label
                                    } else {
                                        S::All.text(lang)
                                    };
                                    if ui
                                        .selectable_label(
                                            self.settings.plot.window() == secs,
                                            label,
                                        )
                                        .clicked()
                                    {
                                        self.settings.plot.window_secs = secs;
                                        self.plot_view.follow = true;
                                    }
                                }
                                if !self.plot_view.follow {
                                    ui.label(RichText::new(S::PausedView.text(lang)).small());
                                }
                            });
                        }
                        plot::show(
                            ui,
                            self.source.timeline(),
                            info.as_ref(),
                            &self.settings.plot,
                            &mut self.plot_view,
                            &palette,
                            lang,
                        );
                    },
                );
                // Never wider or taller than the room the panel was given.
                let given = egui::Rect::from_min_size(plot_rect.response.rect.min, plot_size);
                self.timeline_rect = Some(plot_rect.response.rect.intersect(given));
                ui.allocate_ui_with_layout(
                    egui::vec2(log_width, rest.y),
                    egui::Layout::top_down(egui::Align::LEFT),
                    |ui| {
                        self.event_log(ui, &palette);
                    },
                );
            });
        });

        if self.show_info {
            let mut open = true;
            let centre = ctx.content_rect().center();
            egui::Window::new(S::InfoTitle.text(lang))
                .open(&mut open)
                .pivot(egui::Align2::CENTER_CENTER)
                .default_pos(centre)
                .default_width(640.0)
                .collapsible(false)
                .show(&ctx, |ui| {
                    if info_panel::show(ui, info.as_ref(), &self.reuse, lang) {
                        self.run_reuse_experiment(&ctx);
                    }
                });
            self.show_info = open;
        }

        if self.messages.open {
            // Connect once on opening; after a failure, the button retries.
            if self.messages.pair.is_none()
                && !self.messages.connecting
                && self.messages.log.is_empty()
            {
                self.connect_messages(&ctx);
            }
            if let Some(MessagesAction::Connect) = self.messages.show(&ctx, lang) {
                self.connect_messages(&ctx);
            }
        }
        if self.steps.open && self.steps.show(&ctx, &palette, lang) {
            // A call is waiting: retry it soon, as a blocking call would.
            ctx.request_repaint_after(Duration::from_millis(30));
        }
        if self.server.open {
            animating |= self.server.show(&ctx, &palette, &mut self.slots, lang);
        }
        self.request_pending_png(&ctx);
        for action in actions {
            self.act(action);
        }
        self.scripted_capture(&ctx);
        if animating || self.exports_running > 0 {
            ctx.request_repaint();
        }
        self.frame_cpu = frame_start.elapsed();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.persist {
            eframe::set_value(storage, SETTINGS_KEY, &self.settings);
        }
    }

    fn persist_egui_memory(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_settings_survive_nonsense() {
        let broken = StoredConfig {
            sndbuf: Some(0),
            rcvbuf: Some(u64::MAX),
            write_rate: "fast".into(),
            write_chunk: 0,
            read_rate: "-3".into(),
            read_chunk: u64::MAX,
            sample_hz: 0,
        };
        let config = broken.to_config();
        let default = Preset::Balanced.config();
        assert_eq!(config.sndbuf, None);
        assert_eq!(config.rcvbuf, None);
        assert_eq!(config.write_rate, default.write_rate);
        assert_eq!(config.read_rate, default.read_rate);
        assert_eq!(config.write_chunk, default.write_chunk);
        assert_eq!(config.read_chunk, default.read_chunk);
        assert_eq!(config.sample_hz, default.sample_hz);
        for preset in Preset::ALL {
            let config = preset.config();
            assert_eq!(StoredConfig::from(&config).to_config(), config);
        }
        // Unknown and missing fields fall back too.
        let parsed: Settings =
            serde_json::from_str(r#"{"projector": true, "nonsense": 3}"#).unwrap();
        assert!(parsed.projector);
        assert_eq!(parsed.lab, StoredConfig::default());
    }
}
