//! What the command line chose for the window, and how a scripted capture
//! reports back.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::i18n::Lang;
use crate::lab::sampler::Waker;
use crate::lab::{Endpoint, Preset, SessionInfo, Timeline};

/// How the scripted capture ended; read by `run` after the window closed.
pub type CaptureOutcome = Arc<Mutex<Option<Result<PathBuf, String>>>>;

/// A waker that repaints the window whenever the sampler sends a batch.
pub fn repaint_waker(ctx: &eframe::egui::Context) -> Waker {
    let ctx = ctx.clone();
    Arc::new(move || ctx.request_repaint())
}

/// The windows `--open` can show at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Server,
    Steps,
    Messages,
    Info,
    Wire,
    Connections,
    Animation,
}

impl Panel {
    pub const NAMES: &str = "server, steps, messages, info, wire, connections or animation";

    pub fn parse(text: &str) -> Option<Panel> {
        match text.trim() {
            "server" => Some(Panel::Server),
            "steps" => Some(Panel::Steps),
            "messages" => Some(Panel::Messages),
            "info" => Some(Panel::Info),
            "wire" => Some(Panel::Wire),
            "connections" => Some(Panel::Connections),
            "animation" => Some(Panel::Animation),
            _ => None,
        }
    }
}

/// Chosen on the command line.
#[derive(Clone, Default)]
pub struct GuiOptions {
    pub preset: Option<Preset>,
    /// Interface language, if chosen on the command line (else the saved
    /// choice, else the system locale's).
    pub lang: Option<Lang>,
    /// Write a PNG of the whole window here after `quit_after`, then quit.
    pub screenshot: Option<PathBuf>,
    pub quit_after: Option<Duration>,
    pub export_dir: Option<PathBuf>,
    pub projector: bool,
    /// Loopback, or an outside peer (--listen / --connect).
    pub endpoint: Endpoint,
    /// Another program's connection to watch instead of the lab's own
    /// (--attach), found before the window opened.
    pub attach: Option<crate::run::Target>,
    /// A recorded run to play back instead of starting one (`open FILE`),
    /// and the moment to start at.
    pub recording: Option<std::sync::Arc<crate::export::recording::Recording>>,
    pub at: Option<Duration>,
    /// With a recording: draw this span frame by frame into a GIF, then
    /// close (`--export-gif`).
    pub gif: Option<super::animation::AnimationPlan>,
    /// A window to open at start (--open).
    pub open: Option<Panel>,
    /// Read and write the settings file.
    pub persist: bool,
    /// Show this timeline instead of starting a session (tests, benchmarks).
    pub fixed: Option<(Box<SessionInfo>, Box<Timeline>)>,
    pub outcome: CaptureOutcome,
}
