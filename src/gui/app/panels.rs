//! The window's panels, one function each. They draw the state and return
//! what the user asked for as actions; none changes the run itself.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::{LinkRefusal, SockscopeApp, run_failure};
use crate::export::png::utc_stamp;
use crate::gui::action::Action;
use crate::gui::controls;
use crate::gui::export::unix_now;
use crate::gui::i18n::{Lang, S};
use crate::gui::info_panel;
use crate::gui::plot;
use crate::gui::speed::{self, SpeedShown};
use crate::gui::theme::Palette;
use crate::gui::view::{self, NoConnection, Now, StartFailure};
use crate::lab::scenario::changes_text;
use crate::lab::units::format_bytes;
use crate::lab::{
    BufferSetting, Cable, Endpoint, EventKind, RATE_WINDOW, Rate, Sample, rates_over,
};
use crate::run::ScenarioNote;

impl SockscopeApp {
    /// The newest sample and what the picture derives from it.
    pub(super) fn now(&self) -> (Sample, Option<u64>, f64, f64) {
        let timeline = self.timeline();
        if let Some(playback) = &self.playback {
            // The moment played back, read from the file at full resolution.
            let sample = playback.sample();
            let (write_rate, read_rate) = rates_over(playback.before_cursor(), RATE_WINDOW);
            return (
                sample,
                stall_started(timeline, &sample),
                write_rate,
                read_rate,
            );
        }
        let recent = timeline.recent();
        let end = self.shown_end();
        let sample = end
            .checked_sub(1)
            .and_then(|i| recent.get(i))
            .copied()
            .unwrap_or_default();
        let (write_rate, read_rate) = rates_over(recent.range(..end), RATE_WINDOW);
        (
            sample,
            stall_started(timeline, &sample),
            write_rate,
            read_rate,
        )
    }

    /// Where the samples shown end in the timeline's recent ones: the
    /// newest, or the last one at the moment marked on the wire (the
    /// oldest kept, for a moment older than that).
    fn shown_end(&self) -> usize {
        let recent = self.timeline().recent();
        match self.marked_ns {
            Some(t) => recent
                .partition_point(|s| s.t_ns as i64 <= t)
                .clamp(1, recent.len().max(1)),
            None => recent.len(),
        }
    }

    /// What sets the speed, on a link with a delay, up to the sample shown;
    /// or that the link was asked for a delay the kernel could not give.
    /// Nothing on a link without a delay, nor while nothing can move (no
    /// connection, the cable pulled, an application paused).
    pub(super) fn speed_shown(&self) -> Option<SpeedShown> {
        use crate::lab::speed::{self, SPEED_WINDOW, Setup};
        let config = self.config();
        let Endpoint::Link(spec) = config.endpoint else {
            return None;
        };
        let lang = self.settings.lang;
        if let Some(LinkRefusal::NoDelay(delay_ms)) = &self.link_refused
            && spec.delay_ms == 0
        {
            return Some(SpeedShown::NoDelay {
                why: LinkRefusal::NoDelay(*delay_ms).text(lang),
                delay_ms: *delay_ms,
            });
        }
        let info = self.info()?;
        let (sample, ..) = self.now();
        if spec.delay_ms == 0
            || self.no_connection().is_some()
            || sample.cable == Cable::Unplugged
            || config.read_rate.is_paused()
            || config.write_rate == Rate::Paused
        {
            return None;
        }
        let setup = Setup::of(&config, info, spec);
        let limit = match &self.playback {
            Some(playback) => speed::analyse(playback.before_cursor(), SPEED_WINDOW, &setup),
            None => speed::analyse(
                self.timeline().recent().range(..self.shown_end()),
                SPEED_WINDOW,
                &setup,
            ),
        }?;
        Some(SpeedShown::Limit {
            limit,
            congestion: info.congestion.clone(),
        })
    }

    /// Why a live run has no connection to draw: it is still connecting
    /// (or waiting for an outside client), or its start failed. None once
    /// a session has started, and for a recording.
    fn no_connection(&self) -> Option<NoConnection> {
        use crate::run::RunError;
        if self.playback.is_some() || self.info().is_some() {
            return None;
        }
        let endpoint = self.run.endpoint();
        if self.run.is_connecting() {
            return Some(match endpoint {
                Endpoint::Listen(addr) => NoConnection::WaitingForPeer(addr),
                other => NoConnection::Connecting(other),
            });
        }
        match self.run.error()? {
            error @ (RunError::Start(_) | RunError::NoThread(_) | RunError::StartThreadEnded) => {
                Some(NoConnection::Failed(endpoint, StartFailure::of(error)))
            }
            RunError::Control(_) | RunError::Retire(_) => None,
        }
    }

    /// The name, the connection, the clock and the window's toggles.
    pub(super) fn top_bar(&self, ui: &mut egui::Ui, palette: &Palette) -> Vec<Action> {
        let mut actions = Vec::new();
        egui::Panel::top("top").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                self.connection_line(ui, palette);
                self.top_buttons(ui, &mut actions);
            });
        });
        actions
    }

    fn connection_line(&self, ui: &mut egui::Ui, palette: &Palette) {
        let lang = self.settings.lang;
        ui.heading(RichText::new("sockscope").strong());
        if let Some(info) = self.info()
            && ui.available_width() > 700.0
        {
            ui.label(
                RichText::new(
                    S::ConnectionLine.fill(lang, &[&info.writer_addr, &info.reader_addr, &info.id]),
                )
                .color(palette.weak_text),
            );
        }
        if self.run.is_connecting() {
            let endpoint = self.run.endpoint();
            let text = match endpoint {
                Endpoint::Loopback | Endpoint::Link(_) => S::Connecting.text(lang).to_string(),
                Endpoint::Listen(addr) => {
                    S::WaitingForPeer.fill(lang, &[&addr, &addr.ip(), &addr.port()])
                }
                Endpoint::Connect(addr) => S::ConnectingTo.fill(lang, &[&addr]),
            };
            let color = if endpoint.is_outside() {
                palette.caution
            } else {
                palette.weak_text
            };
            ui.label(RichText::new(text).color(color).strong());
        }
        // The run's clock: a recording's at the cursor.
        let t = match &self.playback {
            Some(playback) => playback.cursor_ns as f64 / 1e9,
            None => self.timeline().last().map_or(0.0, Sample::t_secs),
        };
        ui.label(RichText::new(S::Seconds.fill(lang, &[&format!("{t:.1}")])).monospace());
        ui.separator();
    }

    fn top_buttons(&self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        let lang = self.settings.lang;
        // A live run's frames show the live run's button.
        let pause = match self.playback.as_ref().filter(|_| !self.drawing_live()) {
            Some(playback) if playback.playing => S::PlayPause,
            Some(_) => S::PlayPlay,
            None if self.config().read_rate.is_paused() => S::ResumeReader,
            None => S::PauseReader,
        };
        if ui.button(pause.text(lang)).on_hover_text("Space").clicked() {
            actions.push(Action::TogglePause);
        }
        if ui
            .button(S::Export.text(lang))
            .on_hover_text(S::ExportHover.text(lang))
            .clicked()
        {
            actions.push(Action::Export);
        }
        let toggles = [
            (
                self.settings.projector,
                S::Projector,
                S::ProjectorHover.text(lang),
                Action::SetProjector(!self.settings.projector),
            ),
            (
                self.windows.info,
                S::Info,
                S::InfoHover.text(lang),
                Action::ToggleInfo,
            ),
            (
                self.settings.show_controls,
                S::Controls,
                "C",
                Action::ToggleControls,
            ),
            (
                self.windows.steps.open,
                S::Steps,
                S::StepsHover.text(lang),
                Action::ToggleSteps,
            ),
            (
                self.windows.messages.open,
                S::Messages,
                S::MessagesHover.text(lang),
                Action::ToggleMessages,
            ),
            (
                self.windows.server.open,
                S::Server,
                S::ServerHover.text(lang),
                Action::ToggleServer,
            ),
            (
                self.windows.wire.open,
                S::Wire,
                S::WireHover.text(lang),
                Action::ToggleWire,
            ),
            (
                self.windows.connections.open,
                S::Connections,
                S::ConnectionsHover.text(lang),
                Action::ToggleConnections,
            ),
        ];
        for (on, label, hover, action) in toggles {
            let mut on = on;
            if ui
                .toggle_value(&mut on, label.text(lang))
                .on_hover_text(hover)
                .changed()
            {
                actions.push(action);
            }
        }
        if ui
            .button(S::Language.text(lang))
            .on_hover_text(S::LanguageHover.text(lang))
            .clicked()
        {
            actions.push(Action::SwitchLanguage);
        }
    }

    /// The export status line at the bottom, while there is one.
    pub(super) fn status_bar(&self, ui: &mut egui::Ui, palette: &Palette) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some((message, failed)) = self.export_message() else {
            return actions;
        };
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                let color = if failed { palette.alarm } else { palette.ok };
                ui.label(RichText::new(message).color(color));
                if ui
                    .small_button(S::Dismiss.text(self.settings.lang))
                    .clicked()
                {
                    actions.push(Action::DismissStatus);
                }
            });
        });
        actions
    }

    /// The teacher's controls and the export folder, on the left.
    pub(super) fn controls_panel(&mut self, ui: &mut egui::Ui, palette: &Palette) -> Vec<Action> {
        let lang = self.settings.lang;
        let config = self.config();
        let info = self.info().cloned();
        let scenario_note = self.run.scenario_note().map(|n| scenario_text(n, lang));
        let dir = self.export_dir().display().to_string();
        let mut actions = Vec::new();
        let width = if self.settings.projector {
            270.0
        } else {
            250.0
        };
        let cable = self
            .run
            .timeline()
            .last()
            .map(|s| s.cable)
            .unwrap_or_default();
        egui::Panel::left("controls")
            .resizable(true)
            .default_size(width)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let shown = controls::Shown {
                        config: &config,
                        info: info.as_ref(),
                        scenario_note: scenario_note.as_deref(),
                        cable,
                        link_refused: self.link_refused.as_ref().map(|r| r.text(lang)),
                    };
                    if let Some(playback) = &self.playback {
                        // A recording: its settings, nothing to change.
                        let (heading, note) = if self.drawing_live() {
                            (S::AnimLiveHeading, S::AnimLiveNote)
                        } else {
                            (S::PlaybackHeading, S::PlaybackNote)
                        };
                        ui.heading(heading.text(lang));
                        ui.label(RichText::new(note.text(lang)).color(palette.caution));
                        ui.label(S::PlaybackSettings.fill(
                            lang,
                            &[
                                &config.write_rate,
                                &format_bytes(config.write_chunk.bytes()),
                                &config.read_rate,
                                &format_bytes(config.read_chunk.bytes()),
                                &config.sample_hz,
                            ],
                        ));
                        if !playback.recording.has_summary {
                            ui.label(
                                RichText::new(S::PlaybackNoSummary.text(lang))
                                    .color(palette.weak_text),
                            );
                        }
                    } else {
                        actions.extend(controls::panel(ui, shown, &mut self.edits, palette, lang));
                    }
                    ui.separator();
                    actions.extend(open_field(ui, &mut self.windows.open_path, lang));
                    ui.separator();
                    if ui.button(S::AnimButton.text(lang)).clicked() {
                        actions.push(Action::ToggleAnimation);
                    }
                    actions.extend(export_folder(ui, dir, palette, lang));
                });
            });
        actions
    }

    /// Why the connection could not start, or ended by itself.
    pub(super) fn failure_bar(&self, ui: &mut egui::Ui, palette: &Palette) {
        let lang = self.settings.lang;
        if let Some((name, share)) = &self.windows.opening {
            let read = share.load(std::sync::atomic::Ordering::Relaxed) as f32 / 1e6;
            egui::Panel::top("opening").show(ui, |ui| {
                ui.add(
                    egui::ProgressBar::new(read)
                        .show_percentage()
                        .text(S::Opening.fill(lang, &[name])),
                );
            });
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
        if let Some(error) = &self.windows.opening_error {
            egui::Panel::top("open-error").show(ui, |ui| {
                ui.label(RichText::new(error).color(palette.alarm).strong());
            });
        }
        if let Some(error) = run_failure(&self.run, self.settings.lang) {
            egui::Panel::top("error").show(ui, |ui| {
                ui.label(RichText::new(error).color(palette.alarm).strong());
            });
        }
    }

    /// The buffers and their caption over the timeline and the event log;
    /// returns the actions and whether the picture still moves.
    pub(super) fn central_panel(
        &mut self,
        ui: &mut egui::Ui,
        palette: &Palette,
    ) -> (Vec<Action>, bool) {
        let lang = self.settings.lang;
        let (sample, stall_started_ns, write_rate, read_rate) = self.now();
        let config = self.config();
        let info = self.info().cloned();
        let no_connection = self.no_connection();
        let speed_shown = self.speed_shown();
        let now = Now {
            sample,
            info: info.as_ref(),
            config: &config,
            stall_started_ns,
            stalled_at_start_ns: self
                .timeline()
                .first()
                .filter(|_| self.timeline().stalled_at_start())
                .map(|first| first.t_ns),
            write_rate,
            read_rate,
            no_connection: no_connection.as_ref(),
        };
        let mut animating = false;
        let mut actions = Vec::new();
        let marked = self
            .marked_ns
            .filter(|_| self.playback.is_none())
            .map(|_| sample.t_ns);
        // Out for the frame: the closure borrows the rest of self.
        let mut playback = self.playback.take();
        let cursor_s = playback.as_ref().map(|p| p.cursor_ns as f64 / 1e9);
        // A live run's frames show the live window: no playback bar naming
        // the file its samples were saved to.
        let live_frames = self.drawing_live();
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(playback) = playback.as_mut().filter(|_| !live_frames) {
                actions.extend(playback.bar(ui, palette, lang));
            }
            if let Some(t_ns) = marked {
                ui.label(
                    RichText::new(
                        S::WireMarked.fill(lang, &[&format!("{:.3}", t_ns as f64 / 1e9)]),
                    )
                    .color(palette.caution)
                    .strong(),
                );
            }
            let diagram_height = (ui.available_height() * 0.5).clamp(240.0, 420.0);
            animating = view::pipeline(
                ui,
                &now,
                &mut self.motion,
                palette,
                &mut self.slots,
                diagram_height,
                lang,
            );
            let (caption, severity) = view::caption(&now, lang);
            ui.add_space(4.0);
            ui.label(
                RichText::new(caption)
                    .size(17.0 * palette.scale)
                    .color(severity.color(palette))
                    .strong(),
            );
            if let Some(shown) = &speed_shown {
                ui.add_space(2.0);
                speed::show(ui, shown, palette, lang);
            }
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
                        actions.extend(self.timeline_section(ui, palette, cursor_s));
                    },
                );
                // Never wider or taller than the room the panel was given.
                let given = egui::Rect::from_min_size(plot_rect.response.rect.min, plot_size);
                self.timeline_rect = Some(plot_rect.response.rect.intersect(given));
                self.events_rect = ui
                    .allocate_ui_with_layout(
                        egui::vec2(log_width, rest.y),
                        egui::Layout::top_down(egui::Align::LEFT),
                        |ui| self.event_log(ui, palette, cursor_s),
                    )
                    .inner;
            });
        });
        self.playback = playback;
        (actions, animating)
    }

    /// The timeline with its legend and view controls; while a PNG export
    /// is being captured, the settings caption instead of the controls.
    /// `cursor_s`: a recording's cursor, which following keeps in view.
    fn timeline_section(
        &mut self,
        ui: &mut egui::Ui,
        palette: &Palette,
        cursor_s: Option<f64>,
    ) -> Vec<Action> {
        let lang = self.settings.lang;
        let mut actions = Vec::new();
        // The settings line is part of exported PNGs; on screen the
        // controls already say it.
        let capturing = self.exports.capturing();
        if capturing {
            ui.add(egui::Label::new(RichText::new(self.export_caption()).small().strong()).wrap());
        }
        let link = self.run.info().is_some_and(|i| i.link.is_some());
        let attached = self.run.info().is_some_and(|i| i.attached.is_some());
        plot::legend(ui, palette, lang, link, attached);
        // The view controls stay out of an exported picture, and out of
        // an animation's frames.
        if !capturing && self.gif.is_none() {
            ui.horizontal(|ui| {
                let mut follow = self.plot_view.follow;
                let label = if cursor_s.is_some() {
                    S::FollowCursor
                } else {
                    S::FollowLive
                };
                if ui.toggle_value(&mut follow, label.text(lang)).changed() {
                    actions.push(Action::FollowLive(follow));
                }
                ui.label(RichText::new(S::Window.text(lang)).small());
                for secs in plot::WINDOWS {
                    let label = plot::window_label(secs, lang);
                    let chosen = self.settings.plot.window() == secs;
                    if ui.selectable_label(chosen, label).clicked() {
                        actions.push(Action::SetTimelineWindow(secs));
                    }
                }
                if !self.plot_view.follow {
                    ui.label(RichText::new(S::PausedView.text(lang)).small());
                }
            });
        }
        let clicked = plot::show(
            ui,
            self.run.timeline(),
            self.run.info(),
            &self.settings.plot,
            &mut self.plot_view,
            (palette, lang),
            plot::Moments {
                marked_s: self.marked_ns.map(|t| t as f64 / 1e9),
                now_s: cursor_s,
            },
        );
        // A click on the timeline: the buffers show that moment (a
        // recording's cursor goes there).
        if let Some(secs) = clicked {
            actions.push(Action::MarkMoment((secs * 1e9) as i64));
        }
        actions
    }

    /// The events so far; a recording's up to its cursor (`cursor_s`).
    /// Returns where its rows are shown, if there are any.
    fn event_log(
        &self,
        ui: &mut egui::Ui,
        palette: &Palette,
        cursor_s: Option<f64>,
    ) -> Option<egui::Rect> {
        let lang = self.settings.lang;
        ui.label(RichText::new(S::Events.text(lang)).strong());
        let events = self.timeline().events();
        let shown = match cursor_s {
            Some(cursor) => events.partition_point(|e| e.t_ns as f64 / 1e9 <= cursor),
            None => events.len(),
        };
        let attached = self.info().is_some_and(|i| i.attached.is_some());
        if shown == 0 {
            ui.label(
                RichText::new(S::NoEvents.text(lang))
                    .small()
                    .color(palette.weak_text),
            );
            return None;
        }
        // Only the rows in view are laid out: a long run's thousands of
        // events cost no more per frame than a dozen.
        let row_height = ui.text_style_height(&egui::TextStyle::Small) + 2.0;
        let spacing = ui.spacing().item_spacing.y;
        let list = egui::ScrollArea::vertical()
            .id_salt("events")
            .auto_shrink([false, false])
            .max_height(whole_rows_height(
                ui.available_height(),
                row_height,
                spacing,
            ))
            .stick_to_bottom(true)
            .show_rows(ui, row_height, shown, |ui, rows| {
                ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
                let width = ui.available_width();
                for event in events.range(rows) {
                    let t = event.t_ns as f64 / 1e9;
                    let (short, long) = event_words(event.kind, attached, lang);
                    let text = format!(
                        "{}  {short}",
                        S::Seconds.fill(lang, &[&format!("{t:>8.3}")])
                    );
                    // Each row exactly as tall as show_rows counts it, so
                    // the rows land where the scroll offset expects them.
                    ui.allocate_ui_with_layout(
                        egui::vec2(width, row_height),
                        egui::Layout::left_to_right(egui::Align::Center),
                        |ui| {
                            ui.set_min_height(row_height);
                            ui.label(
                                RichText::new(text)
                                    .color(event_color(event.kind, palette))
                                    .small(),
                            )
                            .on_hover_text(long);
                        },
                    );
                }
            });
        Some(list.inner_rect)
    }

    /// The caption line that goes into exported PNGs: settings and time.
    fn export_caption(&self) -> String {
        let lang = self.settings.lang;
        let config = self.config();
        let buffer = |setting: Option<&BufferSetting>| match setting {
            Some(s) => match s.requested {
                Some(asked) => format!("{} → {}", format_bytes(asked), format_bytes(s.effective)),
                None => S::BufferAuto.fill(lang, &[&format_bytes(s.effective)]),
            },
            None => "–".into(),
        };
        let info = self.info();
        let (_, when) = utc_stamp(unix_now());
        // Another program's connection: who and where, not our settings.
        if let Some((info, attached)) = info.and_then(|i| Some((i, i.attached.as_ref()?))) {
            let program = |owner: &Option<String>| owner.clone().unwrap_or_else(|| "?".into());
            return S::ExportCaptionAttached.fill(
                lang,
                &[
                    &program(&attached.writer_owner),
                    &info.writer_addr,
                    &program(&attached.reader_owner),
                    &info.reader_addr,
                    &config.sample_hz.min(crate::run::attach::MAX_ATTACH_HZ),
                    &when,
                ],
            );
        }
        S::ExportCaption.fill(
            lang,
            &[
                &buffer(info.map(|i| &i.sndbuf)),
                &buffer(info.map(|i| &i.rcvbuf)),
                &config.write_rate,
                &format_bytes(config.write_chunk.bytes()),
                &config.read_rate,
                &format_bytes(config.read_chunk.bytes()),
                &config.sample_hz,
                &when,
            ],
        )
    }

    /// The info panel (I) with the SO_REUSEADDR experiment.
    pub(super) fn info_window(&mut self, ctx: &egui::Context) -> Vec<Action> {
        let lang = self.settings.lang;
        let mut actions = Vec::new();
        let mut open = true;
        egui::Window::new(S::InfoTitle.text(lang))
            .open(&mut open)
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(ctx.content_rect().center())
            .default_width(640.0)
            .constrain_to(crate::gui::floating::area(ctx))
            .collapsible(false)
            .show(ctx, |ui| {
                if info_panel::show(ui, self.run.info(), &self.windows.reuse, lang) {
                    actions.push(Action::RunReuseExperiment);
                }
            });
        if !open {
            actions.push(Action::ToggleInfo);
        }
        actions
    }
}

/// The export folder field and its hint.
fn export_folder(ui: &mut egui::Ui, mut dir: String, palette: &Palette, lang: Lang) -> Vec<Action> {
    ui.label(RichText::new(S::ExportFolder.text(lang)).strong());
    let response = ui.add(egui::TextEdit::singleline(&mut dir).desired_width(f32::INFINITY));
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::TextInput, true, S::ExportFolder.text(lang))
    });
    ui.label(
        RichText::new(S::ExportFolderHint.text(lang))
            .small()
            .color(palette.weak_text),
    );
    if response.changed() {
        vec![Action::SetExportDir(PathBuf::from(dir))]
    } else {
        Vec::new()
    }
}

/// The height of the most whole rows that fit in `available`: scrolled to
/// its bottom (where the log sticks), a list this tall starts with a whole
/// row at the top instead of the lower half of one.
pub fn whole_rows_height(available: f32, row_height: f32, spacing: f32) -> f32 {
    let step = row_height + spacing;
    let rows = ((available + spacing) / step).floor().max(1.0);
    rows * step - spacing
}

/// An event's few words and its line. Another program's send() calls are
/// not visible, so its stalls are the send buffer too full to write into.
fn event_words(kind: EventKind, attached: bool, lang: Lang) -> (String, String) {
    match kind {
        EventKind::WriterStallStarted if attached => (
            S::EvAttFull.text(lang).into(),
            S::EvLongAttFull.text(lang).into(),
        ),
        EventKind::WriterStallEnded { stalled } if attached => {
            let ms = format!("{:.0}", stalled.as_secs_f64() * 1e3);
            (
                S::EvAttWritable.fill(lang, &[&ms]),
                S::EvLongAttWritable.fill(lang, &[&ms]),
            )
        }
        _ => (kind.short(lang), kind.describe(lang)),
    }
}

fn event_color(kind: EventKind, palette: &Palette) -> egui::Color32 {
    match kind {
        EventKind::WriterStallStarted
        | EventKind::PeerReset
        | EventKind::WriterPeerGone
        | EventKind::WriterFailed
        | EventKind::ReaderFailed
        | EventKind::CableUnplugged
        | EventKind::DelayStopped => palette.alarm,
        EventKind::DelayFellBehind => palette.caution,
        EventKind::WindowClosed | EventKind::ReaderPaused | EventKind::RetransmitTimeout { .. } => {
            palette.caution
        }
        EventKind::WriterStallEnded { .. }
        | EventKind::WindowReopened
        | EventKind::ReaderResumed
        | EventKind::CablePlugged => palette.ok,
        EventKind::PeerClosed | EventKind::ConnectionClosed => palette.text,
    }
}

/// Open…: a recording's path and the button that opens it (a file can
/// also be dropped on the window).
fn open_field(ui: &mut egui::Ui, path: &mut String, lang: Lang) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.label(RichText::new(S::OpenHeading.text(lang)).strong());
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(path)
                .hint_text("run.csv")
                .desired_width(150.0),
        );
        field.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::TextInput, true, S::OpenField.text(lang))
        });
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (ui.button(S::OpenButton.text(lang)).clicked() || entered) && !path.trim().is_empty() {
            actions.push(Action::OpenRecording(path.trim().into()));
        }
    });
    if ui.button(S::BrowseButton.text(lang)).clicked() {
        actions.push(Action::BrowseRecordings);
    }
    ui.label(RichText::new(S::OpenHint.text(lang)).small());
    actions
}

/// When the writer's running stall began (the last WriterStallStarted
/// event at or before `sample`), if it is blocked.
fn stall_started(timeline: &crate::lab::Timeline, sample: &Sample) -> Option<u64> {
    timeline
        .events()
        .iter()
        .rev()
        .filter(|e| e.t_ns <= sample.t_ns)
        .find(|e| {
            matches!(
                e.kind,
                EventKind::WriterStallStarted | EventKind::WriterStallEnded { .. }
            )
        })
        .filter(|e| e.kind == EventKind::WriterStallStarted)
        .map(|e| e.t_ns)
}

/// What a scenario did, in the window's language.
fn scenario_text(note: &ScenarioNote, lang: Lang) -> String {
    match note {
        ScenarioNote::Started(name) => S::ScenarioStarted.fill(lang, &[name]),
        ScenarioNote::Step {
            name,
            at,
            changes,
            next,
        } => {
            let next = next.map_or_else(
                || S::ScenarioLast.text(lang).to_string(),
                |at| S::ScenarioNext.fill(lang, &[&format!("{:.1}", at.as_secs_f64())]),
            );
            S::ScenarioStep.fill(
                lang,
                &[
                    name,
                    &format!("{:.1}", at.as_secs_f64()),
                    &changes_text(changes),
                    &next,
                ],
            )
        }
    }
}
