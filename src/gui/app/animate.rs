//! Animations drawn in the window (A): a span of the recording played
//! back, or of the live run. A live run's samples are first saved as a
//! recording (CSV, summary, any pcap) and read back, so the frames are
//! drawn exactly as `sockscope open FILE --export-gif` draws them; the live
//! run goes on underneath meanwhile, and the window returns to it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use eframe::egui;

use super::SockscopeApp;
use crate::export::png::{unused_path, utc_stamp};
use crate::export::recording::Recording;
use crate::gui::action::Action;
use crate::gui::animation::{AnimationExport, AnimationPlan, AnimationRequest, Format};
use crate::gui::background::Background;
use crate::gui::export::{unix_now, write_recording};
use crate::gui::options::CaptureOutcome;
use crate::gui::playback::Playback;
use crate::gui::theme::Palette;
use crate::i18n::S;
use crate::run::Run;

/// A live run's samples being saved and read back for an animation.
pub(super) struct Preparing {
    plan: AnimationPlan,
    csv: PathBuf,
    /// The share read back so far, in millionths.
    read: Arc<AtomicU32>,
    job: Background<Result<Recording, String>>,
}

/// An animation being drawn in the window, and what to return to.
pub(super) struct Drawing {
    outcome: CaptureOutcome,
    /// The live run, going on while its saved samples are drawn.
    live: Option<Run>,
    /// The saved samples of a live run.
    csv: Option<PathBuf>,
    /// A recording's cursor and whether it played.
    resume: Option<(u64, bool)>,
    marked_ns: Option<i64>,
    follow: bool,
    /// The progress last put in the window's title.
    titled: Option<(u64, u64)>,
}

impl SockscopeApp {
    /// Whether an animation is being prepared or drawn: the window then
    /// takes no other input than Esc.
    pub(super) fn animating(&self) -> bool {
        self.preparing.is_some() || self.drawing.is_some()
    }

    /// Whether a live run's span is being drawn (from its saved samples).
    pub(super) fn drawing_live(&self) -> bool {
        self.drawing.as_ref().is_some_and(|d| d.live.is_some())
    }

    /// Only Esc acts while an animation is drawn: it stops it.
    pub(super) fn animation_input(
        &mut self,
        ctx: &egui::Context,
        actions: Vec<Action>,
    ) -> Vec<Action> {
        if !self.animating() {
            return actions;
        }
        if actions.contains(&Action::Escape)
            && let Some(export) = &mut self.gif
            && self.drawing.is_some()
        {
            export.cancel(ctx, S::AnimStopped.text(self.settings.lang).into());
        }
        Vec::new()
    }

    /// The span (s on the timeline's clock) an animation can be drawn from:
    /// a recording's whole span, or the live samples kept at full
    /// resolution.
    fn animation_span(&self) -> Option<(f64, f64)> {
        let (first, last) = match &self.playback {
            Some(playback) => playback.recording.span(),
            None => {
                let recent = self.run.timeline().recent();
                (recent.front()?.t_ns, recent.back()?.t_ns)
            }
        };
        (last > first).then(|| (first as f64 / 1e9, last as f64 / 1e9))
    }

    /// The Animation dialog, when open and nothing is being drawn.
    pub(super) fn animation_dialog(&mut self, ctx: &egui::Context, palette: &Palette) {
        if !self.windows.animation.open || self.animating() {
            return;
        }
        let span = self.animation_span();
        let cursor = self
            .playback
            .as_ref()
            .map(|playback| playback.cursor_ns as f64 / 1e9);
        let lang = self.settings.lang;
        if let Some(request) = self
            .windows
            .animation
            .show(ctx, span, cursor, palette, lang)
        {
            self.start_animation(ctx, request);
        }
    }

    fn start_animation(&mut self, ctx: &egui::Context, request: AnimationRequest) {
        let lang = self.settings.lang;
        // The last export's line goes; this one's result takes its place.
        self.exports.dismiss();
        let dir = self.export_dir();
        if let Err(error) = std::fs::create_dir_all(&dir) {
            let text = S::ExportFolderError.fill(lang, &[&dir.display(), &error.kind()]);
            self.exports.report(text, true);
            return;
        }
        let (stamp, _) = utc_stamp(unix_now());
        let extension = match request.format {
            Format::Gif => "gif",
            Format::Apng => "png",
        };
        // A name whose recording (a live run's CSV) is free too.
        let path = unused_path(
            &dir,
            &format!("sockscope-{stamp}-animation"),
            extension,
            |path| path.with_extension("csv").exists(),
        );
        let plan = AnimationPlan {
            path,
            format: request.format,
            from_ns: request.from_ns,
            to_ns: request.to_ns,
            fps: request.fps,
            timeline_only: request.timeline_only,
        };
        if self.playback.is_some() {
            self.begin_drawing(plan, None, None);
            return;
        }
        let csv = plan.path.with_extension("csv");
        let what = self.export_what();
        let read = Arc::new(AtomicU32::new(0));
        let progress = Arc::clone(&read);
        let saved = csv.clone();
        let mut job = Background::default();
        let spawned = job.spawn("sockscope-animation", ctx, move || {
            write_recording(&saved, what, lang)?;
            Recording::open(&saved, &mut |share| {
                progress.store((share * 1e6) as u32, Ordering::Relaxed);
            })
            .map_err(|e| e.to_string())
        });
        match spawned {
            Ok(()) => {
                self.preparing = Some(Preparing {
                    plan,
                    csv,
                    read,
                    job,
                })
            }
            Err(error) => self.exports.report(
                S::AnimFailed.fill(lang, &[&S::ExportNoThread.fill(lang, &[&error])]),
                true,
            ),
        }
    }

    /// Starts drawing `plan` from the recording played back; `live`, the
    /// live run to go back to.
    fn begin_drawing(&mut self, plan: AnimationPlan, live: Option<Run>, csv: Option<PathBuf>) {
        let outcome: CaptureOutcome = Arc::new(Mutex::new(None));
        let resume = if live.is_some() {
            None
        } else {
            self.playback.as_ref().map(|p| (p.cursor_ns, p.playing))
        };
        self.gif = Some(AnimationExport::new(plan, Arc::clone(&outcome), false));
        self.drawing = Some(Drawing {
            outcome,
            live,
            csv,
            resume,
            marked_ns: self.marked_ns,
            follow: self.plot_view.follow,
            titled: None,
        });
    }

    /// Each frame: picks up the saved samples, keeps the live run going
    /// while its frames are drawn, shows the progress in the title, and
    /// once the file is written (or not) returns to what was shown.
    pub(super) fn animation_frame(&mut self, ctx: &egui::Context) {
        if let Some(preparing) = &mut self.preparing
            && let Some(result) = preparing.job.poll()
        {
            let Some(Preparing { plan, csv, .. }) = self.preparing.take() else {
                return;
            };
            match result {
                Ok(recording) => {
                    let recording = Arc::new(recording);
                    let recorded = Run::recorded(
                        recording.config,
                        recording.info.clone(),
                        Arc::clone(&recording.timeline),
                    );
                    let live = std::mem::replace(&mut self.run, recorded);
                    self.playback = Some(Playback::new(recording, Some(plan.from_ns)));
                    self.begin_drawing(plan, Some(live), Some(csv));
                }
                Err(error) => {
                    let lang = self.settings.lang;
                    self.exports
                        .report(S::AnimFailed.fill(lang, &[&error]), true);
                }
            }
        }
        let Some(drawing) = &mut self.drawing else {
            return;
        };
        if let Some(live) = &mut drawing.live {
            live.pump();
        }
        let lang = self.settings.lang;
        let result = drawing
            .outcome
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some(result) = result else {
            if let Some(export) = &self.gif {
                let progress = export.progress();
                if drawing.titled != Some(progress) {
                    let (done, of) = progress;
                    let title = S::AnimDrawing.fill(lang, &[&(done + 1).min(of), &of]);
                    ctx.send_viewport_cmd(egui::ViewportCommand::Title(title));
                    drawing.titled = Some(progress);
                }
            }
            ctx.request_repaint();
            return;
        };
        let frames = self.gif.take().map_or(0, |export| export.progress().1);
        let Some(drawing) = self.drawing.take() else {
            return;
        };
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(crate::gui::TITLE.into()));
        self.marked_ns = drawing.marked_ns;
        self.plot_view.follow = drawing.follow;
        if let Some(live) = drawing.live {
            self.run = live;
            self.playback = None;
        } else if let (Some(playback), Some((cursor, playing))) =
            (&mut self.playback, drawing.resume)
        {
            playback.seek(cursor);
            playback.playing = playing;
        }
        match result {
            Ok(path) => {
                let mut text = S::AnimSaved.fill(lang, &[&path.display(), &frames]);
                if let Some(csv) = drawing.csv {
                    text += &S::AnimSavedSamples.fill(lang, &[&csv.display()]);
                }
                self.exports.report(text, false);
            }
            Err(error) => self
                .exports
                .report(S::AnimFailed.fill(lang, &[&error]), true),
        }
    }

    /// While a live run's samples are saved: the bar that says so.
    pub(super) fn preparing_bar(&self, ui: &mut egui::Ui) {
        let Some(preparing) = &self.preparing else {
            return;
        };
        let read = preparing.read.load(Ordering::Relaxed) as f32 / 1e6;
        let name = preparing.csv.display().to_string();
        egui::Panel::top("animation-preparing").show(ui, |ui| {
            ui.add(
                egui::ProgressBar::new(read)
                    .show_percentage()
                    .text(S::AnimPreparing.fill(self.settings.lang, &[&name])),
            );
        });
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }
}
