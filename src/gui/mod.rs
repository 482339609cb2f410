//! The window: a thin frontend over the lab. It drains the sampler's
//! channel each frame and sends controls; it never blocks on a socket or on
//! a lock a worker holds.

pub mod action;
mod anim;
pub mod animation;
pub mod app;
mod background;
mod browse;
mod connections;
mod controls;
mod export;
mod floating;
mod info_panel;
pub mod messages;
mod options;
mod playback;
pub mod plot;
mod scripted;
pub mod server;
pub mod settings;
pub mod speed;
pub mod steps;
pub mod synthetic;
pub mod theme;
mod vessel;
pub mod view;
pub mod wire;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub use crate::i18n::{self, Lang};
pub use app::SockscopeApp;
pub use options::{CaptureOutcome, GuiOptions, Panel, repaint_waker};
pub use settings::Settings;

/// Names the settings folder (~/.local/share/sockscope) and the window.
const APP_ID: &str = "sockscope";
/// The window's title (an animation being drawn shows its progress there).
pub const TITLE: &str = "sockscope — TCP send/receive buffers";

#[derive(Debug, thiserror::Error)]
pub enum GuiError {
    #[error("cannot open the window: {0}")]
    Window(String),
    #[error("the screenshot was not written: {0}")]
    Capture(String),
    /// Ctrl-C, SIGTERM or SIGHUP closed the window (exit 130); an export
    /// in progress was dropped, leaving nothing.
    #[error("stopped by a signal (Ctrl-C); nothing unfinished was written")]
    Interrupted,
}

/// eframe's error, as a sentence a user can act on.
fn explain(error: &str) -> String {
    let lower = error.to_lowercase();
    if lower.contains("wayland_display") || lower.contains("display is set") {
        "no display was found (DISPLAY and WAYLAND_DISPLAY are unset); run it on a desktop, \
         or record headless with 'sockscope record --duration 5'"
            .into()
    } else if lower.contains("adapter") || lower.contains("wgpu") || lower.contains("vulkan") {
        "no usable graphics adapter (wgpu found no Vulkan, Metal, DX12 or GL device); install \
         your GPU's drivers or Mesa's (Debian: mesa-vulkan-drivers), or record headless with \
         'sockscope record --duration 5'"
            .into()
    } else {
        // Drop source locations such as " at /path/to/file.rs:765:".
        let mut text = error.to_string();
        while let Some(at) = text.find(" at /") {
            let rest = &text[at + 4..];
            let end = rest.find(": ").map_or(rest.len(), |i| i + 2);
            text.replace_range(at..at + 4 + end, ": ");
        }
        text.trim_end_matches('.').to_string()
    }
}

/// The largest settings file sockscope lets eframe read. What it writes is
/// a few KiB; anything far larger is damaged or not its own.
pub const MAX_SETTINGS_BYTES: u64 = 1 << 20;

/// eframe reads the settings file (`app.ron` in `dir`) whole at start. One
/// over `MAX_SETTINGS_BYTES` is renamed aside, never deleted, so the window
/// starts with the defaults; returns the sentence that says so.
pub fn set_aside_oversized_settings(dir: &std::path::Path) -> Option<String> {
    let file = dir.join("app.ron");
    let size = std::fs::metadata(&file).ok()?.len();
    if size <= MAX_SETTINGS_BYTES {
        return None;
    }
    let aside = crate::export::png::unused_path(dir, "app.ron", "too-large", |_| false);
    Some(match std::fs::rename(&file, &aside) {
        Ok(()) => format!(
            "the settings file {} is {size} bytes, more than the {MAX_SETTINGS_BYTES} it may be; \
             it was moved to {} and the defaults are used",
            file.display(),
            aside.display()
        ),
        Err(error) => format!(
            "the settings file {} is {size} bytes, more than the {MAX_SETTINGS_BYTES} it may be, \
             and could not be moved aside ({error}); delete it to keep your settings from now on",
            file.display()
        ),
    })
}

/// Opens the window and runs until it is closed (or the scripted capture
/// is done).
pub fn run(mut options: GuiOptions) -> Result<Option<PathBuf>, GuiError> {
    if options.persist
        && let Some(dir) = eframe::storage_dir(APP_ID)
        && let Some(note) = set_aside_oversized_settings(&dir)
    {
        eprintln!("sockscope: {note}.");
    }
    let outcome: CaptureOutcome = Arc::new(Mutex::new(None));
    options.outcome = Arc::clone(&outcome);
    let scripted = options.screenshot.is_some() || options.quit_after.is_some();
    let native = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title(TITLE)
            .with_app_id(APP_ID)
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 560.0]),
        renderer: eframe::Renderer::Wgpu,
        persist_window: !scripted,
        ..Default::default()
    };
    // Ctrl-C closes the window as its close button does (the settings are
    // saved, an export in progress is dropped), then exits 130.
    let window: Arc<Mutex<Option<eframe::egui::Context>>> = Arc::default();
    let interrupt = crate::interrupt::Interrupt::install({
        let window = Arc::clone(&window);
        move || {
            if let Some(ctx) = &*window.lock().unwrap_or_else(|e| e.into_inner()) {
                ctx.send_viewport_cmd(eframe::egui::ViewportCommand::Close);
                ctx.request_repaint();
            }
        }
    });
    let early = interrupt.clone();
    eframe::run_native(
        "sockscope",
        native,
        Box::new(move |cc| {
            *window.lock().unwrap_or_else(|e| e.into_inner()) = Some(cc.egui_ctx.clone());
            // A signal while the window was being made.
            if early.raised() {
                cc.egui_ctx
                    .send_viewport_cmd(eframe::egui::ViewportCommand::Close);
            }
            Ok(Box::new(SockscopeApp::new(cc, &options)))
        }),
    )
    .map_err(|e| GuiError::Window(explain(&e.to_string())))?;
    if interrupt.raised() {
        return Err(GuiError::Interrupted);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_settings_file_is_moved_aside_and_a_normal_one_kept() {
        let dir = std::env::temp_dir().join(format!("sockscope-settings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("app.ron"), "(settings: \"small\")").unwrap();
        assert_eq!(set_aside_oversized_settings(&dir), None);
        assert!(dir.join("app.ron").exists());

        let big = vec![b' '; MAX_SETTINGS_BYTES as usize + 1];
        std::fs::write(dir.join("app.ron"), &big).unwrap();
        let note = set_aside_oversized_settings(&dir).expect("a note");
        assert!(note.contains("moved to"), "{note}");
        assert!(!dir.join("app.ron").exists());
        let aside = dir.join("app.ron.too-large");
        assert_eq!(std::fs::metadata(&aside).unwrap().len(), big.len() as u64);
        // A second one never overwrites the first.
        std::fs::write(dir.join("app.ron"), &big).unwrap();
        set_aside_oversized_settings(&dir).expect("a note");
        assert!(dir.join("app.ron-2.too-large").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
