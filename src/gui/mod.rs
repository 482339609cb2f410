//! The window: a thin frontend over the lab. It drains the sampler's
//! channel each frame and sends controls; it never blocks on a socket or on
//! a lock a worker holds.

mod anim;
pub mod app;
mod controls;
mod info_panel;
pub mod live;
pub mod plot;
pub mod theme;
mod vessel;
pub mod view;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use app::{CaptureOutcome, Settings, SockscopeApp};

use crate::lab::{Preset, SessionInfo, Timeline};

/// Chosen on the command line.
#[derive(Clone, Default)]
pub struct GuiOptions {
    pub preset: Option<Preset>,
    /// Interface language; Chinese falls back to English until the strings
    /// are translated.
    pub lang: Lang,
    /// Write a PNG of the whole window here after `quit_after`, then quit.
    pub screenshot: Option<PathBuf>,
    pub quit_after: Option<Duration>,
    pub export_dir: Option<PathBuf>,
    pub projector: bool,
    /// Read and write the settings file.
    pub persist: bool,
    /// Show this timeline instead of starting a session (tests, benchmarks).
    pub fixed: Option<(Box<SessionInfo>, Box<Timeline>)>,
    pub outcome: CaptureOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GuiError {
    #[error("cannot open the window: {0}")]
    Window(String),
    #[error("the screenshot was not written: {0}")]
    Capture(String),
}

/// Opens the window and runs until it is closed (or the scripted capture
/// is done).
pub fn run(mut options: GuiOptions) -> Result<Option<PathBuf>, GuiError> {
    let outcome: CaptureOutcome = Arc::new(Mutex::new(None));
    options.outcome = Arc::clone(&outcome);
    let scripted = options.screenshot.is_some() || options.quit_after.is_some();
    let native = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("sockscope — TCP send/receive buffers")
            .with_app_id("sockscope")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 560.0]),
        renderer: eframe::Renderer::Wgpu,
        persist_window: !scripted,
        ..Default::default()
    };
    eframe::run_native(
        "sockscope",
        native,
        Box::new(move |cc| Ok(Box::new(SockscopeApp::new(cc, &options)))),
    )
    .map_err(|e| GuiError::Window(e.to_string()))?;
    let result = outcome.lock().unwrap_or_else(|e| e.into_inner()).take();
    match result {
        Some(Ok(path)) => Ok(Some(path).filter(|p| !p.as_os_str().is_empty())),
        Some(Err(reason)) => Err(GuiError::Capture(reason)),
        None if scripted => Err(GuiError::Capture(
            "the window closed before the capture was taken".into(),
        )),
        None => Ok(None),
    }
}
