//! `open FILE --export-gif OUT --from SECS --to SECS`: the recording drawn
//! at a fixed frame rate, one frame for each moment `from + k / fps`, each
//! a screenshot of the window taken once that moment is drawn, so no frame
//! is dropped or doubled however slowly the machine renders. The file is a
//! GIF or, named `.png`/`.apng`, an animated PNG (full colour, where a GIF
//! has 256 colours a frame). It is written frame by frame (never all frames
//! in memory) to an unnamed file in OUT's folder, put in place when whole:
//! a stop, a failure or a kill leaves nothing behind.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, unbounded};
use eframe::egui;
use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, RgbaImage};

use super::options::CaptureOutcome;
use super::playback::Playback;
use crate::export::AtomicFile;

type File = std::io::BufWriter<std::fs::File>;

/// The animation being written, to a temporary name beside its path.
enum Encoder {
    Gif(GifEncoder<File>),
    /// The frames' size, fixed by the first (the header says it).
    Apng(png::Writer<File>, [usize; 2]),
}

/// The file formats an animation is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Gif,
    /// Animated PNG: every frame in full colour.
    Apng,
}

impl Format {
    /// The format a file's name asks for (`.gif`, `.png` or `.apng`).
    pub fn of(path: &std::path::Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "gif" => Some(Format::Gif),
            "png" | "apng" => Some(Format::Apng),
            _ => None,
        }
    }
}

/// The most frames an export may have (a minute at 10 frames a second).
pub const MAX_FRAMES: u64 = 600;
/// Time for the window to settle (fonts, the GPU) before the first frame.
const WARM_UP: Duration = Duration::from_millis(800);
/// How long the renderer may take to deliver one frame.
const DELIVERY_LIMIT: Duration = Duration::from_secs(20);

/// What to export: the span on the recording's clock and the frame rate.
#[derive(Debug, Clone)]
pub struct AnimationPlan {
    pub path: PathBuf,
    pub format: Format,
    pub from_ns: u64,
    pub to_ns: u64,
    pub fps: u32,
    /// The timeline panel alone, not the whole window.
    pub timeline_only: bool,
}

impl AnimationPlan {
    /// The moments drawn, one a frame.
    pub fn frames(&self) -> u64 {
        let span = self.to_ns.saturating_sub(self.from_ns) as u128;
        (span * u128::from(self.fps) / 1_000_000_000) as u64 + 1
    }
}

pub struct AnimationExport {
    plan: AnimationPlan,
    started: Instant,
    /// The frame being drawn, and when its screenshot was asked for.
    next: u64,
    requested_at: Option<Instant>,
    encoder: Option<Encoder>,
    /// The file being written, unnamed until it is whole (the encoder
    /// writes to a second descriptor of it).
    file: Option<AtomicFile>,
    /// Where the timeline panel was last drawn (points), and the scale.
    crop: Option<(egui::Rect, f32)>,
    outcome: CaptureOutcome,
    /// `--export-gif` closes the window when done; in the window, the
    /// outcome is reported and the window goes on.
    then_close: bool,
    tx: Sender<Arc<egui::ColorImage>>,
    rx: Receiver<Arc<egui::ColorImage>>,
}

impl AnimationExport {
    pub fn new(plan: AnimationPlan, outcome: CaptureOutcome, then_close: bool) -> Self {
        let (tx, rx) = unbounded();
        AnimationExport {
            plan,
            started: Instant::now(),
            next: 0,
            requested_at: None,
            encoder: None,
            file: None,
            crop: None,
            outcome,
            then_close,
            tx,
            rx,
        }
    }

    /// Frames written, of how many.
    pub fn progress(&self) -> (u64, u64) {
        (self.next, self.plan.frames())
    }

    pub fn plan(&self) -> &AnimationPlan {
        &self.plan
    }

    /// Stops, leaving nothing written.
    pub fn cancel(&mut self, ctx: &egui::Context, why: String) {
        self.done(ctx, Err(why));
    }

    fn done(&mut self, ctx: &egui::Context, result: Result<PathBuf, String>) {
        if result.is_err() {
            // Nothing half-written stays.
            self.encoder = None;
            self.file = None;
        }
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        if self.then_close {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    /// The moment of frame `k`.
    fn moment(&self, k: u64) -> u64 {
        self.plan.from_ns + (u128::from(k) * 1_000_000_000 / u128::from(self.plan.fps)) as u64
    }

    /// Call at the start of a frame, before the picture is drawn: moves the
    /// cursor to the frame's moment, takes the screenshot of what is drawn
    /// then, and writes each one as it arrives.
    pub fn frame(
        &mut self,
        ctx: &egui::Context,
        playback: &mut Playback,
        timeline: Option<egui::Rect>,
    ) {
        playback.playing = false;
        if self.plan.timeline_only
            && let Some(rect) = timeline
            && self.crop.is_none()
        {
            // Fixed from the first frame, so every frame has one size.
            self.crop = Some((rect, ctx.pixels_per_point()));
        }
        if let Ok(image) = self.rx.try_recv() {
            if let Err(error) = self.write(&image) {
                self.done(ctx, Err(error));
                return;
            }
            self.next += 1;
            self.requested_at = None;
            if self.next >= self.plan.frames() {
                let result = self.finish();
                self.done(ctx, result);
                return;
            }
        }
        if self.started.elapsed() < WARM_UP {
            playback.seek(self.moment(0));
            ctx.request_repaint_after(Duration::from_millis(50));
            return;
        }
        match self.requested_at {
            None => {
                playback.seek(self.moment(self.next));
                self.requested_at = Some(Instant::now());
                let (tx, repaint) = (self.tx.clone(), ctx.clone());
                ctx.request_screenshot(move |image| {
                    let _ = tx.send(image);
                    repaint.request_repaint();
                });
            }
            Some(at) if at.elapsed() > DELIVERY_LIMIT => self.done(
                ctx,
                Err("the renderer never delivered a frame (20 s)".into()),
            ),
            Some(_) => {
                playback.seek(self.moment(self.next));
                ctx.request_repaint_after(Duration::from_millis(20));
            }
        }
    }

    fn write(&mut self, image: &egui::ColorImage) -> Result<(), String> {
        let path = self.plan.path.clone();
        let failed = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
        let region;
        let image = match self.crop {
            Some((rect, ppp)) => {
                let whole = egui::Rect::from_min_size(
                    egui::Pos2::ZERO,
                    egui::vec2(image.size[0] as f32, image.size[1] as f32) / ppp,
                );
                region = image.region(&rect.intersect(whole), Some(ppp));
                &region
            }
            None if self.plan.timeline_only => {
                return Err("the timeline panel was not drawn".into());
            }
            None => image,
        };
        if self.encoder.is_none() {
            let mut whole = AtomicFile::create(&path).map_err(|e| failed(&e))?;
            let file = whole.file_handle().map_err(|e| failed(&e))?;
            self.file = Some(whole);
            let file = std::io::BufWriter::new(file);
            self.encoder = Some(match self.plan.format {
                Format::Gif => {
                    let mut encoder = GifEncoder::new_with_speed(file, 20);
                    encoder
                        .set_repeat(Repeat::Infinite)
                        .map_err(|e| failed(&e))?;
                    Encoder::Gif(encoder)
                }
                Format::Apng => Encoder::Apng(
                    self.apng(file, image.size).map_err(|e| failed(&e))?,
                    image.size,
                ),
            });
        }
        let [width, height] = image.size;
        match self.encoder.as_mut().expect("made above") {
            Encoder::Gif(encoder) => {
                let rgba: Vec<u8> = image.pixels.iter().flat_map(|p| p.to_array()).collect();
                let frame = RgbaImage::from_raw(width as u32, height as u32, rgba)
                    .ok_or_else(|| failed(&"a frame of the wrong size"))?;
                let delay = Delay::from_numer_denom_ms(1000, self.plan.fps);
                encoder
                    .encode_frame(Frame::from_parts(frame, 0, 0, delay))
                    .map_err(|e| failed(&e))
            }
            Encoder::Apng(writer, size) => {
                if *size != image.size {
                    return Err(failed(&format_args!(
                        "a frame of {width}×{height} where the first was {}×{}",
                        size[0], size[1]
                    )));
                }
                // The screenshot is opaque: RGB, a quarter smaller.
                let rgb: Vec<u8> = image
                    .pixels
                    .iter()
                    .flat_map(|p| [p.r(), p.g(), p.b()])
                    .collect();
                writer.write_image_data(&rgb).map_err(|e| failed(&e))
            }
        }
    }

    /// An animated PNG's header: every frame the first one's size, shown
    /// `1/fps` s, the whole animation looping.
    fn apng(&self, file: File, size: [usize; 2]) -> Result<png::Writer<File>, String> {
        let too_big = |what: &str| format!("{what} does not fit an animated PNG");
        let width = u32::try_from(size[0]).map_err(|_| too_big("the width"))?;
        let height = u32::try_from(size[1]).map_err(|_| too_big("the height"))?;
        let frames = u32::try_from(self.plan.frames()).map_err(|_| too_big("the frame count"))?;
        let fps = u16::try_from(self.plan.fps).map_err(|_| too_big("the frame rate"))?;
        let mut encoder = png::Encoder::new(file, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let header = || -> Result<png::Writer<File>, png::EncodingError> {
            encoder.set_animated(frames, 0)?;
            encoder.set_frame_delay(1, fps)?;
            encoder.write_header()
        };
        header().map_err(|e| e.to_string())
    }

    /// Ends the file (its trailer) and moves it into place.
    fn finish(&mut self) -> Result<PathBuf, String> {
        let encoder = self
            .encoder
            .take()
            .ok_or_else(|| "no frame was drawn".to_string())?;
        match encoder {
            // Dropping the encoder writes the GIF's trailer and flushes.
            Encoder::Gif(encoder) => drop(encoder),
            Encoder::Apng(writer, _) => writer
                .finish()
                .map_err(|e| format!("cannot write {}: {e}", self.plan.path.display()))?,
        }
        let path = self.plan.path.clone();
        let file = self
            .file
            .take()
            .ok_or_else(|| "no frame was drawn".to_string())?;
        file.commit()
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// What the window's Animation dialog asks for: a span on the timeline's
/// clock (ns), the frame rate, the file's format and what is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnimationRequest {
    pub from_ns: u64,
    pub to_ns: u64,
    pub fps: u32,
    pub format: Format,
    pub timeline_only: bool,
}

/// The window's Animation dialog (A): which span of the run or the
/// recording to draw, and how.
pub struct AnimationDialog {
    pub open: bool,
    /// Seconds on the timeline's clock; chosen afresh each time the dialog
    /// opens (the ten seconds at the cursor, or the newest ten live, which
    /// move on with the run until the user sets them).
    span: Option<(f64, f64)>,
    edited: bool,
    fps: u32,
    format: Format,
    timeline_only: bool,
}

impl Default for AnimationDialog {
    fn default() -> Self {
        AnimationDialog {
            open: false,
            span: None,
            edited: false,
            fps: 10,
            format: Format::Gif,
            timeline_only: false,
        }
    }
}

/// The span a dialog offers first: ten seconds from the cursor (a
/// recording), or the newest ten (a live run), inside what is kept.
fn first_span(kept: (f64, f64), cursor: Option<f64>) -> (f64, f64) {
    const SECS: f64 = 10.0;
    let (first, last) = kept;
    match cursor {
        Some(at) if at + 1.0 < last => (at, (at + SECS).min(last)),
        _ => ((last - SECS).max(first), last),
    }
}

impl AnimationDialog {
    pub fn toggle(&mut self) {
        self.open = !self.open;
        self.span = None;
        self.edited = false;
    }

    /// Draws the dialog; `kept` is the span (s) whose samples are kept at
    /// full resolution, None with no samples yet; `cursor` the moment a
    /// recording shows. Returns a request when Export is pressed.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        kept: Option<(f64, f64)>,
        cursor: Option<f64>,
        palette: &super::theme::Palette,
        lang: crate::i18n::Lang,
    ) -> Option<AnimationRequest> {
        use crate::i18n::S;
        let mut open = self.open;
        let mut request = None;
        egui::Window::new(S::AnimTitle.text(lang))
            .open(&mut open)
            .constrain_to(super::floating::area(ctx))
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label(S::AnimIntro.text(lang));
                let Some(kept) = kept else {
                    ui.label(
                        egui::RichText::new(S::AnimNoSamples.text(lang)).color(palette.caution),
                    );
                    return;
                };
                if !self.edited && cursor.is_none() {
                    // Live: the newest seconds, as they move on.
                    self.span = None;
                }
                let (mut from, mut to) = *self.span.get_or_insert_with(|| first_span(kept, cursor));
                egui::Grid::new("animation").num_columns(2).show(ui, |ui| {
                    for (label, value) in [(S::AnimFrom, &mut from), (S::AnimTo, &mut to)] {
                        let label = ui.label(label.text(lang));
                        let response = ui
                            .add(
                                egui::DragValue::new(value)
                                    .range(kept.0..=kept.1)
                                    .speed(0.05)
                                    .max_decimals(3)
                                    .suffix(S::SecondsSuffix.text(lang)),
                            )
                            .labelled_by(label.id);
                        self.edited |= response.changed();
                        ui.end_row();
                    }
                    let label = ui.label(S::AnimFps.text(lang));
                    ui.add(
                        egui::DragValue::new(&mut self.fps)
                            .range(1..=50)
                            .suffix(" fps"),
                    )
                    .labelled_by(label.id);
                    ui.end_row();
                    ui.label(S::AnimFormat.text(lang));
                    ui.vertical(|ui| {
                        ui.radio_value(&mut self.format, Format::Gif, S::AnimGif.text(lang));
                        ui.radio_value(&mut self.format, Format::Apng, S::AnimApng.text(lang));
                    });
                    ui.end_row();
                    ui.label(S::AnimOf.text(lang));
                    ui.vertical(|ui| {
                        ui.radio_value(&mut self.timeline_only, false, S::AnimWindow.text(lang));
                        ui.radio_value(&mut self.timeline_only, true, S::AnimTimeline.text(lang));
                    });
                    ui.end_row();
                });
                self.span = Some((from, to));
                let to_ns = |secs: f64| (secs.max(0.0) * 1e9).round() as u64;
                let asked = AnimationRequest {
                    from_ns: to_ns(from),
                    to_ns: to_ns(to),
                    fps: self.fps,
                    format: self.format,
                    timeline_only: self.timeline_only,
                };
                let frames = AnimationPlan {
                    path: PathBuf::new(),
                    format: asked.format,
                    from_ns: asked.from_ns,
                    to_ns: asked.to_ns,
                    fps: asked.fps,
                    timeline_only: asked.timeline_only,
                }
                .frames();
                let problem = if asked.to_ns <= asked.from_ns {
                    Some(S::AnimEmpty.text(lang).to_string())
                } else if frames > MAX_FRAMES {
                    Some(S::AnimTooMany.fill(lang, &[&frames, &MAX_FRAMES]))
                } else {
                    None
                };
                match &problem {
                    Some(problem) => {
                        ui.label(egui::RichText::new(problem).color(palette.alarm));
                    }
                    None => {
                        let shown = frames as f64 / f64::from(self.fps);
                        ui.label(S::AnimFrames.fill(lang, &[&frames, &format!("{shown:.1}")]));
                    }
                }
                if cursor.is_none() {
                    ui.label(
                        egui::RichText::new(S::AnimLive.text(lang))
                            .small()
                            .color(palette.weak_text),
                    );
                }
                if ui
                    .add_enabled(
                        problem.is_none(),
                        egui::Button::new(S::AnimStart.text(lang)),
                    )
                    .clicked()
                {
                    request = Some(asked);
                }
            });
        self.open = open && request.is_none();
        request
    }
}
