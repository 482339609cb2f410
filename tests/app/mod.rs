//! Driving the real window through egui_kittest with the wgpu renderer
//! (Mesa's software Vulkan in CI), for the test binaries that do.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;

use sockscope::gui::{GuiOptions, Lang, SockscopeApp};
use sockscope::lab::Preset;

pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn live_app(preset: Preset, export_dir: Option<PathBuf>) -> Harness<'static, SockscopeApp> {
    live_app_sized(preset, export_dir, egui::vec2(1280.0, 800.0))
}

/// Tall enough for the whole controls panel when a test needs its bottom.
pub fn live_app_sized(
    preset: Preset,
    export_dir: Option<PathBuf>,
    size: egui::Vec2,
) -> Harness<'static, SockscopeApp> {
    let options = GuiOptions {
        preset: Some(preset),
        export_dir,
        lang: Some(Lang::En),
        ..GuiOptions::default()
    };
    Harness::builder()
        .with_size(size)
        .wgpu()
        .build_eframe(move |cc| SockscopeApp::new(cc, &options))
}

/// Steps frames (letting the lab's threads run between them) until `done`.
pub fn step_until(
    harness: &mut Harness<'static, SockscopeApp>,
    what: &str,
    mut done: impl FnMut(&mut Harness<'static, SockscopeApp>) -> bool,
) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        harness.step();
        if done(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
