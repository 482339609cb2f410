//! The window's frame cost and latency, as figures (no pass/fail).
//!
//! 1. CPU time of one frame (the egui pass with sockscope's drawing and the
//!    timeline's thinning, plus tessellation) at 1920×1080, for a one-minute
//!    and a one-hour timeline sampled at 1 kHz, both following live (last
//!    20 s) and showing the whole run. The synthetic timeline keeps the runs
//!    comparable; the goal is hour/minute within 1.5× and under 8 ms.
//! 2. Sample-to-screen latency of the live app (default 200 Hz sampling):
//!    how old the newest sample is when a frame draws it, frames at 60 Hz.
//!
//! Run: `cargo bench --bench frame`.

mod common;

use common::percentile;

use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;

use sockscope::gui::{GuiOptions, SockscopeApp, synthetic};
use sockscope::lab::Preset;

const FRAMES: usize = 120;

/// Median, p90 and worst frame CPU time in ms for a timeline of `secs`
/// that keeps growing at 1 kHz while frames are drawn at 60 Hz (17 samples
/// a frame).
fn frame_time(secs: f64, window_secs: f64) -> (f64, f64, f64, u64) {
    let timeline = synthetic::timeline(secs, 1000);
    let samples = timeline.total_samples();
    let options = GuiOptions {
        preset: Some(Preset::PausedReader),
        fixed: Some((Box::new(synthetic::info()), Box::new(timeline))),
        ..GuiOptions::default()
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1920.0, 1080.0))
        .build_eframe(move |cc| SockscopeApp::new(cc, &options));
    harness.state_mut().set_timeline_window(window_secs);
    harness.run_steps(10);
    let mut times = Vec::with_capacity(FRAMES);
    let mut t = secs;
    for _ in 0..FRAMES {
        let new: Vec<_> = (0..17)
            .map(|_| {
                t += 0.001;
                synthetic::sample_at(t)
            })
            .collect();
        let start = Instant::now();
        // Counted in the frame: the live app pumps the channel per frame.
        harness.state_mut().push_fixed_samples(new);
        harness.step();
        let shapes = harness.output().shapes.clone();
        let ppp = harness.output().pixels_per_point;
        let primitives = harness.ctx.tessellate(shapes, ppp);
        std::hint::black_box(primitives);
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    (
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        percentile(&times, 1.0),
        samples,
    )
}

fn main() {
    println!(
        "frame CPU time at 1920x1080 (egui pass + tessellation), timeline growing at 1 kHz, median / p90 of {FRAMES} frames"
    );
    for (label, window) in [
        ("follow live, last 20 s", 20.0),
        ("whole run", f64::INFINITY),
    ] {
        let (minute, minute_p90, minute_max, minute_samples) = frame_time(60.0, window);
        let (hour, hour_p90, hour_max, hour_samples) = frame_time(3600.0, window);
        println!(
            "  {label:<24} 1 min ({minute_samples} samples): {minute:5.2} ms (p90 {minute_p90:5.2}, max {minute_max:5.2})   \
             1 h ({hour_samples} samples): {hour:5.2} ms (p90 {hour_p90:5.2}, max {hour_max:5.2})   hour/minute {:.2}x",
            hour / minute
        );
    }

    // The frame on which the whole-run range steps (every 1/16 of the run)
    // thins from scratch: that thinning alone, at 1850 columns.
    for secs in [60.0, 3600.0] {
        let timeline = synthetic::timeline(secs, 1000);
        let times: Vec<f64> = (0..20)
            .map(|_| {
                let start = Instant::now();
                let thinned = timeline.thin(0, (secs * 1e9) as u64, 1850);
                std::hint::black_box(thinned);
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        println!(
            "  whole-run thinning from scratch, {secs:>4} s at 1 kHz: {:.2} ms median",
            percentile(&times, 0.5)
        );
    }

    // Latency: a real session, frames stepped at 60 Hz.
    let options = GuiOptions {
        preset: Some(Preset::Balanced),
        ..GuiOptions::default()
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| SockscopeApp::new(cc, &options));
    harness.state_mut().set_timeline_window(20.0);
    let frame = Duration::from_micros(16_667);
    let mut next = Instant::now();
    let mut lags = Vec::new();
    for i in 0..630 {
        next += frame;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        harness.step();
        if i < 30 {
            continue; // let the session settle
        }
        if let Some(lag) = harness.state().sample_lag {
            lags.push(lag.as_secs_f64() * 1e3);
        }
    }
    let p50 = percentile(&lags, 0.5);
    let p95 = percentile(&lags, 0.95);
    let max = percentile(&lags, 1.0);
    println!(
        "sample-to-screen latency (live, 200 Hz sampling, 16 ms batches, frames at 60 Hz, {} frames): \
         p50 {p50:.1} ms, p95 {p95:.1} ms, max {max:.1} ms = {:.2} / {:.2} / {:.2} frames",
        lags.len(),
        p50 / 16.667,
        p95 / 16.667,
        max / 16.667
    );
}
