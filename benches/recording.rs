//! Opening and scrubbing an hour-long recording at 1 kHz (3.6 million
//! rows, the CSV `record --csv` writes): the time to open it, the memory it
//! takes (resident, this process), and what one scrub step costs (a seek
//! to a moment far from the last: the stretch of rows around it read back
//! from the file, then the sample at the cursor). A frame at 60 Hz has
//! 16.7 ms. Then the window's frames over it (the real app, driven
//! through egui_kittest, no rendering): frames paused at one moment, frames
//! while the position slider is dragged across the hour (each frame a new
//! moment far from the last), and frames while it plays, each figure the
//! wall time of one `harness.step()` and `SockscopeApp::frame_cpu`.
//! Prints figures; asserts nothing about speed.
//! Run: cargo bench --bench recording   (ROWS=3600000 by default)

mod common;

use common::percentile;

use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::{By, Queryable};

use sockscope::export::csv::SampleCsv;
use sockscope::export::recording::Recording;
use sockscope::gui::{GuiOptions, Lang, SockscopeApp};
use sockscope::lab::{ReaderState, Sample, WriterState};

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn sample(i: u64) -> Sample {
    // A sawtooth of fills and stalls, as the timeline benchmark uses.
    let phase = i % 2000;
    Sample {
        t_ns: i * 1_000_000,
        send_queue: (phase * 2048) as u32,
        unsent: (phase * 1024) as u32,
        recv_queue: (phase.min(1000) * 128) as u32,
        written: i * 4096,
        read: i * 4000,
        zero_window: phase > 1200,
        writer_state: if phase > 1500 {
            WriterState::Blocked
        } else {
            WriterState::Sending
        },
        reader_state: ReaderState::Reading,
        stall_count: i / 2000,
        ..Sample::default()
    }
}

fn main() {
    let rows: u64 = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3_600_000);
    let path = std::env::temp_dir().join(format!("sockscope-bench-{}.csv", std::process::id()));
    let started = Instant::now();
    {
        let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut csv = SampleCsv::new(file);
        for i in 0..rows {
            csv.write(&sample(i)).unwrap();
        }
        csv.finish().unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "recording: {rows} rows, {:.0} MB, written in {:.1} s",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let before = rss_mb();
    let started = Instant::now();
    let mut updates = 0;
    let recording = Recording::open(&path, &mut |_| updates += 1).unwrap();
    let open = started.elapsed();
    let after = rss_mb();
    println!(
        "open: {:.2} s ({:.0} rows/s, {updates} progress updates); memory {:.1} MB ({:.1} before, {:.1} after)",
        open.as_secs_f64(),
        rows as f64 / open.as_secs_f64(),
        after - before,
        before,
        after
    );
    // Scrubbing: jumps across the whole hour, each far from the last.
    let (first, last) = recording.span();
    let seeks = 300u64;
    let mut worst = 0.0f64;
    let started = Instant::now();
    for k in 0..seeks {
        let t = first + (last - first) / seeks * ((k * 131) % seeks);
        let one = Instant::now();
        let stretch = recording.samples_near(t).unwrap();
        let shown = stretch.iter().rev().find(|s| s.t_ns <= t).unwrap();
        assert_eq!(shown.t_ns, t - t % 1_000_000);
        worst = worst.max(one.elapsed().as_secs_f64());
    }
    let mean = started.elapsed().as_secs_f64() / seeks as f64;
    println!(
        "scrub: {seeks} seeks across the hour, mean {:.2} ms, worst {:.2} ms a seek (a 60 Hz frame has 16.7 ms)",
        mean * 1e3,
        worst * 1e3
    );
    frames(Arc::new(recording));
    let _ = std::fs::remove_file(&path);
}

/// Frame times (ms) of `harness.step()` and of the app's own frame.
#[derive(Default)]
struct Frames {
    step: Vec<f64>,
    app: Vec<f64>,
}

impl Frames {
    fn frame(&mut self, harness: &mut Harness<'static, SockscopeApp>) {
        // Frames 16 ms apart, as at 60 Hz.
        std::thread::sleep(Duration::from_micros(16_667));
        let start = Instant::now();
        harness.step();
        self.step.push(start.elapsed().as_secs_f64() * 1e3);
        self.app.push(harness.state().frame_cpu.as_secs_f64() * 1e3);
    }

    fn report(&self, label: &str) {
        println!(
            "  {label:<38} {:>4} frames   step median {:6.2} ms, p99 {:6.2} ms, worst {:6.2} ms   app median {:6.2} ms, worst {:6.2} ms",
            self.step.len(),
            percentile(&self.step, 0.5),
            percentile(&self.step, 0.99),
            percentile(&self.step, 1.0),
            percentile(&self.app, 0.5),
            percentile(&self.app, 1.0),
        );
    }
}

/// The window over the recording: paused, scrubbed, playing.
fn frames(recording: Arc<Recording>) {
    let (first, last) = recording.span();
    let span = (last - first) as f64 / 1e9;
    let options = GuiOptions {
        lang: Some(Lang::En),
        recording: Some(Arc::clone(&recording)),
        at: Some(Duration::from_secs(1)),
        ..GuiOptions::default()
    };
    let before = rss_mb();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| SockscopeApp::new(cc, &options));
    for _ in 0..20 {
        harness.step();
    }
    let mut paused = Frames::default();
    for _ in 0..120 {
        paused.frame(&mut harness);
    }
    // Scrubbing: the slider held and dragged across the whole hour, back
    // and forth, a long jump every frame.
    let slider = harness
        .get(
            By::new()
                .label(&format!("of {span:.1} s"))
                .role(egui::accesskit::Role::Slider),
        )
        .rect();
    let (left, right, y) = (slider.left() + 2.0, slider.right() - 2.0, slider.center().y);
    harness.drag_at(egui::pos2(left, y));
    harness.step();
    let mut scrub = Frames::default();
    let mut moved = 0;
    let positions = 300;
    for k in 0..positions {
        let share = ((k * 131) % positions) as f32 / positions as f32;
        harness.hover_at(egui::pos2(left + (right - left) * share, y));
        let cursor = harness.state().playback_state().map(|p| p.0);
        scrub.frame(&mut harness);
        if harness.state().playback_state().map(|p| p.0) != cursor {
            moved += 1;
        }
    }
    harness.drop_at(egui::pos2(right, y));
    harness.step();
    // Playing at 1x from where the scrub let go.
    harness.key_press(egui::Key::Space);
    let mut playing = Frames::default();
    for _ in 0..120 {
        playing.frame(&mut harness);
    }
    let playing_now = harness.state().playback_state().is_some_and(|p| p.1);
    println!(
        "window, 1280x800, frames 16 ms apart, no rendering; step = wall time of harness.step(), \
         app = SockscopeApp::frame_cpu; window's memory {:.1} MB",
        rss_mb() - before
    );
    paused.report("paused at one moment");
    scrub.report(&format!("scrubbing ({moved} of {positions} moved)"));
    playing.report(&format!("playing at 1x (still playing: {playing_now})"));
}
