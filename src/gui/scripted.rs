//! `--screenshot FILE --quit-after SECS`: the window draws for a while,
//! writes a PNG of itself, and closes; `gui::run` reads how it went.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, unbounded};
use eframe::egui;

use super::export::save_image;
use super::options::CaptureOutcome;

/// How long the renderer may take to deliver the screenshot.
const DELIVERY_LIMIT: Duration = Duration::from_secs(20);

pub struct ScriptedCapture {
    screenshot: Option<PathBuf>,
    after: Duration,
    started: Instant,
    requested_at: Option<Instant>,
    outcome: CaptureOutcome,
    tx: Sender<Arc<egui::ColorImage>>,
    rx: Receiver<Arc<egui::ColorImage>>,
}

impl ScriptedCapture {
    /// `after` counts from now (the window's start).
    pub fn new(screenshot: Option<PathBuf>, after: Duration, outcome: CaptureOutcome) -> Self {
        let (tx, rx) = unbounded();
        ScriptedCapture {
            screenshot,
            after,
            started: Instant::now(),
            requested_at: None,
            outcome,
            tx,
            rx,
        }
    }

    fn done(&self, ctx: &egui::Context, result: Result<PathBuf, String>) {
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }

    /// Call once a frame: waits, asks for the screenshot, writes it, quits.
    pub fn frame(&mut self, ctx: &egui::Context) {
        if let Ok(image) = self.rx.try_recv()
            && let Some(path) = &self.screenshot
        {
            let result =
                save_image(&image, path, None, crate::i18n::Lang::En).map(|()| path.clone());
            self.done(ctx, result);
            return;
        }
        let elapsed = self.started.elapsed();
        if elapsed < self.after {
            ctx.request_repaint_after(self.after - elapsed);
            return;
        }
        match (&self.screenshot, self.requested_at) {
            (None, _) => self.done(ctx, Ok(PathBuf::new())),
            (Some(_), None) => {
                self.requested_at = Some(Instant::now());
                let (tx, repaint) = (self.tx.clone(), ctx.clone());
                ctx.request_screenshot(move |image| {
                    let _ = tx.send(image);
                    repaint.request_repaint();
                });
            }
            (Some(_), Some(at)) if at.elapsed() > DELIVERY_LIMIT => self.done(
                ctx,
                Err("the renderer never delivered the screenshot (20 s)".into()),
            ),
            _ => ctx.request_repaint_after(Duration::from_millis(50)),
        }
    }
}
