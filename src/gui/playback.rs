//! Playing a recorded run back: a cursor on the recording's clock that the
//! picture follows, moved by play (at 0.1x to 10x), by stepping one sample
//! at a time, or by seeking. The samples around the cursor are read again
//! from the file at full resolution (the timeline keeps old ones thinned),
//! so every moment shows exactly what was recorded.

use std::sync::Arc;

use eframe::egui::{self, RichText};

use super::action::Action;
use super::theme::Palette;
use crate::export::recording::Recording;
use crate::i18n::{Lang, S};
use crate::lab::Sample;

/// The speeds offered.
/// The shortest slider track the file's note may leave beside it.
const MIN_TRACK: f32 = 240.0;

pub const SPEEDS: [f32; 7] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0];

pub struct Playback {
    pub recording: Arc<Recording>,
    /// The moment shown, ns on the recording's clock.
    pub cursor_ns: u64,
    pub playing: bool,
    pub speed: f32,
    /// Full-resolution samples around the cursor, from the file.
    stretch: Vec<Sample>,
    error: Option<String>,
}

impl Playback {
    /// Starts paused at `at_ns` (the first sample if None).
    pub fn new(recording: Arc<Recording>, at_ns: Option<u64>) -> Self {
        let (first, last) = recording.span();
        let mut playback = Playback {
            cursor_ns: at_ns.map_or(first, |t| t.clamp(first, last)),
            recording,
            playing: false,
            speed: 1.0,
            stretch: Vec::new(),
            error: None,
        };
        playback.load();
        playback
    }

    /// Moves the cursor by `dt` of wall-clock time while playing; stops at
    /// the end.
    pub fn advance(&mut self, dt: f32) {
        if !self.playing {
            return;
        }
        let (_, last) = self.recording.span();
        let step = (f64::from(dt) * f64::from(self.speed) * 1e9) as u64;
        self.cursor_ns = self.cursor_ns.saturating_add(step).min(last);
        if self.cursor_ns >= last {
            self.playing = false;
        }
        self.load();
    }

    pub fn seek(&mut self, t_ns: u64) {
        let (first, last) = self.recording.span();
        self.cursor_ns = t_ns.clamp(first, last);
        self.load();
    }

    /// One sample forward (or back), pausing.
    pub fn step(&mut self, forward: bool) {
        self.playing = false;
        let at = self.index();
        let target = if forward {
            match self.stretch.get(at + 1) {
                Some(next) => next.t_ns,
                None => return,
            }
        } else if at > 0 {
            self.stretch[at - 1].t_ns
        } else {
            // The stretch before this one.
            let Some(first) = self.stretch.first() else {
                return;
            };
            let before = self.recording.samples_near(first.t_ns.saturating_sub(1));
            match before
                .ok()
                .and_then(|s| s.into_iter().rfind(|s| s.t_ns < first.t_ns))
            {
                Some(previous) => previous.t_ns,
                None => return,
            }
        };
        self.seek(target);
    }

    pub fn toggle(&mut self) {
        let (first, last) = self.recording.span();
        if !self.playing && self.cursor_ns >= last {
            self.seek(first);
        }
        self.playing = !self.playing;
    }

    /// The sample shown: the last at or before the cursor.
    pub fn sample(&self) -> Sample {
        self.stretch
            .get(self.index())
            .copied()
            .or_else(|| self.recording.timeline.last().copied())
            .unwrap_or_default()
    }

    /// The samples up to the cursor in its stretch (for the rates).
    pub fn before_cursor(&self) -> &[Sample] {
        let end = (self.index() + 1).min(self.stretch.len());
        &self.stretch[..end]
    }

    fn index(&self) -> usize {
        self.stretch
            .partition_point(|s| s.t_ns <= self.cursor_ns)
            .saturating_sub(1)
    }

    /// Reads the stretch around the cursor when the cursor left it (or is
    /// at its last sample, whose successor is in the next one).
    fn load(&mut self) {
        let inside = matches!(
            (self.stretch.first(), self.stretch.last()),
            (Some(first), Some(last)) if first.t_ns <= self.cursor_ns && self.cursor_ns < last.t_ns
        );
        if inside {
            return;
        }
        match self.recording.samples_near(self.cursor_ns) {
            Ok(stretch) => {
                self.stretch = stretch;
                self.error = None;
            }
            Err(error) => self.error = Some(error.to_string()),
        }
    }

    /// The bar: play/pause, steps, the speed; the position on a row of its
    /// own.
    pub fn bar(&mut self, ui: &mut egui::Ui, palette: &Palette, lang: Lang) -> Vec<Action> {
        let mut actions = Vec::new();
        let (first, last) = self.recording.span();
        let name = self
            .recording
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let note = if self.recording.has_summary {
            S::PlaybackFile.fill(lang, &[&name, &self.recording.rows])
        } else {
            S::PlaybackFileNoSummary.fill(lang, &[&name, &self.recording.rows])
        };
        let note = RichText::new(note).small().color(palette.weak_text);
        let note_width = ui
            .painter()
            .layout_no_wrap(
                note.text().to_string(),
                egui::TextStyle::Small.resolve(ui.style()),
                egui::Color32::WHITE,
            )
            .size()
            .x
            + ui.spacing().item_spacing.x;
        let mut secs = (self.cursor_ns.saturating_sub(first)) as f64 / 1e9;
        let span = (last.saturating_sub(first)) as f64 / 1e9;
        let text = S::PlayPosition.fill(lang, &[&format!("{span:.1}")]);
        let suffix = S::SecondsSuffix.text(lang);
        let font = egui::TextStyle::Body.resolve(ui.style());
        let width_of = |t: String| {
            ui.painter()
                .layout_no_wrap(t, font.clone(), egui::Color32::WHITE)
                .size()
                .x
        };
        // The value box shows up to "999.999 s"; the text sits after it.
        let beside = width_of(text.clone())
            + width_of(format!("{:.3}{suffix}", span.max(1.0)))
            + 4.0 * ui.spacing().item_spacing.x
            + 2.0 * ui.spacing().button_padding.x;
        // The file's note goes after the slider where it leaves the
        // slider room, else after the buttons: a row less for the picture.
        let note_after_slider = ui.available_width() - beside - note_width >= MIN_TRACK;
        let mut note = Some(note);
        ui.horizontal_wrapped(|ui| {
            let play = if self.playing {
                S::PlayPause
            } else {
                S::PlayPlay
            };
            if ui.button(play.text(lang)).clicked() {
                actions.push(Action::TogglePause);
            }
            if ui.button(S::PlayBack.text(lang)).clicked() {
                actions.push(Action::Step(false));
            }
            if ui.button(S::PlayForward.text(lang)).clicked() {
                actions.push(Action::Step(true));
            }
            egui::ComboBox::from_label(S::PlaySpeed.text(lang))
                .selected_text(format!("{}x", self.speed))
                .show_ui(ui, |ui| {
                    for speed in SPEEDS {
                        if ui
                            .selectable_label(self.speed == speed, format!("{speed}x"))
                            .clicked()
                        {
                            self.speed = speed;
                        }
                    }
                });
            if !note_after_slider && let Some(note) = note.take() {
                ui.label(note);
            }
            if let Some(error) = &self.error {
                ui.label(RichText::new(error).color(palette.alarm));
            }
        });
        // The slider on a row of its own, as wide as the room left beside
        // its value and "of 4.7 s": a slider is one widget that does not
        // wrap, and at its default width beside the buttons it pushed the
        // panel, and the picture, past the window's right edge (projector,
        // Chinese, 1024 wide).
        let beside = beside + if note.is_some() { note_width } else { 0.0 };
        ui.horizontal(|ui| {
            ui.spacing_mut().slider_width = (ui.available_width() - beside).max(60.0);
            let slider = ui.add(
                egui::Slider::new(&mut secs, 0.0..=span.max(1e-3))
                    .suffix(suffix)
                    .max_decimals(3)
                    .text(text),
            );
            // Only a hand on it seeks: the slider may round the value it
            // shows, which is no reason to move.
            let by_hand = slider.dragged()
                || slider.has_focus()
                || slider.is_pointer_button_down_on()
                || slider.clicked();
            if slider.changed() && by_hand {
                actions.push(Action::Seek(first + (secs * 1e9) as u64));
            }
            if let Some(note) = note {
                ui.label(note);
            }
        });
        actions
    }
}
