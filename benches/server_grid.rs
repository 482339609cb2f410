//! The server window's frame times while its grid grows from 1 to 8
//! clients and shrinks back to 1, as figures (no pass/fail). The goal: no
//! frame over 50 ms, i.e. the UI thread never waits for a connect(), an
//! accept() or a thread to end.
//!
//! The real app (`--open server`) over a synthetic main timeline (so no
//! main session competes for the CPU), driven through egui_kittest by the
//! buttons' labels. Buttons are clicked through AccessKit, so every
//! `harness.step()` is exactly one frame; frames are 16 ms apart, as at
//! 60 Hz. Two figures per frame: the wall time of `harness.step()` (the
//! egui pass and the app, without rendering) and `SockscopeApp::frame_cpu`
//! (the wall time of the app's `ui`, where the server window runs).
//!
//! Run: `cargo bench --bench server_grid`.

mod common;

use common::percentile;

use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use sockscope::gui::{GuiOptions, Lang, Panel, SockscopeApp, synthetic};
use sockscope::lab::Preset;

const DEADLINE: Duration = Duration::from_secs(30);
const FRAME: Duration = Duration::from_micros(16_667);
/// Frames drawn after each change has shown, before the next click.
const SETTLE_FRAMES: usize = 10;

#[derive(Default)]
struct Figures {
    /// Wall time of harness.step(), ms.
    step: Vec<f64>,
    /// SockscopeApp::frame_cpu, ms.
    app: Vec<f64>,
}

impl Figures {
    fn frame(&mut self, harness: &mut Harness<'static, SockscopeApp>) {
        std::thread::sleep(FRAME);
        let start = Instant::now();
        harness.step();
        self.step.push(start.elapsed().as_secs_f64() * 1e3);
        self.app.push(harness.state().frame_cpu.as_secs_f64() * 1e3);
    }

    /// Draws frames until a label containing `text` shows, then a few more.
    fn until(&mut self, harness: &mut Harness<'static, SockscopeApp>, text: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            self.frame(harness);
            if harness.query_by_label_contains(text).is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "timed out waiting for: {text}");
        }
        for _ in 0..SETTLE_FRAMES {
            self.frame(harness);
        }
    }

    fn extend(&mut self, other: &Figures) {
        self.step.extend(&other.step);
        self.app.extend(&other.app);
    }
}

fn report(label: &str, figures: &Figures) {
    println!(
        "  {label:<34} {:>4} frames   step median {:6.2} ms, worst {:7.2} ms   app median {:6.2} ms, worst {:7.2} ms",
        figures.step.len(),
        percentile(&figures.step, 0.5),
        percentile(&figures.step, 1.0),
        percentile(&figures.app, 0.5),
        percentile(&figures.app, 1.0),
    );
}

fn click(harness: &mut Harness<'static, SockscopeApp>, label: &str) {
    harness.get_by_label(label).click_accesskit();
}

/// Clicks "+ client" or "− client" until the grid goes from `from` to
/// `to` clients, drawing frames until each change shows.
fn clients(
    harness: &mut Harness<'static, SockscopeApp>,
    figures: &mut Figures,
    from: usize,
    to: usize,
) {
    let mut count = from;
    while count != to {
        if to > count {
            click(harness, "+ client: connect()");
            count += 1;
        } else {
            click(harness, "− client: close()");
            count -= 1;
        }
        figures.until(harness, &format!("{count} of 8 clients"));
    }
}

fn main() {
    let options = GuiOptions {
        preset: Some(Preset::PausedReader),
        lang: Some(Lang::En),
        open: Some(Panel::Server),
        fixed: Some((
            Box::new(synthetic::info()),
            Box::new(synthetic::timeline(6.0, 200)),
        )),
        ..GuiOptions::default()
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| SockscopeApp::new(cc, &options));

    // Opening the window starts the server with its first three clients
    // (the first frame runs as the harness is built).
    let mut open = Figures::default();
    open.until(&mut harness, "3 of 8 clients");
    let mut up = Figures::default();
    let mut down = Figures::default();
    clients(&mut harness, &mut down, 3, 1);
    clients(&mut harness, &mut up, 1, 8);
    // Closing the window with eight clients stops them all.
    let mut close = Figures::default();
    harness.key_press(egui::Key::G);
    for _ in 0..SETTLE_FRAMES {
        close.frame(&mut harness);
    }
    // Opening it again starts a new server with three clients.
    harness.key_press(egui::Key::G);
    open.until(&mut harness, "3 of 8 clients");
    clients(&mut harness, &mut up, 3, 8);
    clients(&mut harness, &mut down, 8, 1);
    harness.key_press(egui::Key::G);
    for _ in 0..SETTLE_FRAMES {
        close.frame(&mut harness);
    }

    println!(
        "server window, 1280x800, frames 16 ms apart; step = wall time of harness.step() \
         (one frame, no rendering), app = SockscopeApp::frame_cpu"
    );
    report("open the window (server + 3)", &open);
    report("+ client, 1 -> 8", &up);
    report("- client, 8 -> 1", &down);
    report("close the window (8, then 1)", &close);
    let mut all = Figures::default();
    for part in [&open, &up, &down, &close] {
        all.extend(part);
    }
    report("all frames", &all);
}
