//! The wire window's frame cost, as figures (no pass/fail): CPU time of one
//! frame of the ladder diagram (the egui pass plus tessellation) for a
//! minute and for an hour of packets at about 1,000 a second, following
//! live (50 ms shown) and zoomed out to a minute. The log keeps its newest
//! million segments; the ladder draws at most one arrow a pixel row, so
//! the goal is hour/minute within 1.5×.
//!
//! Run: `cargo bench --bench ladder`.

mod common;

use common::percentile;

use std::time::Instant;

use eframe::egui;

use sockscope::gui::Lang;
use sockscope::gui::theme::Palette;
use sockscope::gui::wire::{WireShown, WireWindow};
use sockscope::lab::wire::{Segment, TcpFlags};
use sockscope::lab::wire_log::WireLog;

const FRAMES: usize = 120;
const WRITER: u16 = 40000;
const READER: u16 = 5201;

/// A connection of `secs` seconds: two 1448-byte segments every 2 ms and
/// one ACK for them, with a handshake first.
fn log(secs: f64) -> WireLog {
    let mut log = WireLog::new(WRITER);
    let segment = |t_ns: i64, from_writer: bool, flags: u8, seq: u32, ack: u32, len: u32| {
        let (src_port, dst_port) = if from_writer {
            (WRITER, READER)
        } else {
            (READER, WRITER)
        };
        Segment {
            t_ns,
            src_port,
            dst_port,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: 502,
            window_scale: (flags & TcpFlags::SYN != 0).then_some(7),
            payload_len: len,
        }
    };
    log.push_segment(&segment(0, true, TcpFlags::SYN, 0, 0, 0));
    log.push_segment(&segment(1, false, TcpFlags::SYN | TcpFlags::ACK, 0, 1, 0));
    log.push_segment(&segment(2, true, TcpFlags::ACK, 1, 1, 0));
    let mut seq = 1u32;
    let mut t = 1_000_000i64;
    while (t as f64) < secs * 1e9 {
        for _ in 0..2 {
            log.push_segment(&segment(t, true, TcpFlags::ACK, seq, 1, 1448));
            seq = seq.wrapping_add(1448);
            t += 100_000;
        }
        log.push_segment(&segment(t, false, TcpFlags::ACK, 1, seq, 0));
        t += 1_800_000;
    }
    log
}

/// Median and worst frame CPU time in ms.
fn frame_time(log: &WireLog, span_s: f64) -> (f64, f64) {
    let ctx = egui::Context::default();
    let palette = Palette::new(false);
    let mut window = WireWindow {
        open: true,
        span_s,
        ..WireWindow::default()
    };
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1920.0, 1080.0),
        )),
        ..Default::default()
    };
    let shown = WireShown {
        log: Some(log),
        info: None,
        last: None,
        counts: Some((log.total(), 0)),
        marked_ns: None,
        replay: None,
    };
    let mut times = Vec::with_capacity(FRAMES);
    for frame in 0..FRAMES + 10 {
        let start = Instant::now();
        let output = ctx.run_ui(input(), |ui| {
            let _ = window.show(ui.ctx(), &shown, &palette, Lang::En);
        });
        let _ = ctx.tessellate(output.shapes, output.pixels_per_point);
        if frame >= 10 {
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    (percentile(&times, 0.5), percentile(&times, 1.0))
}

fn main() {
    let minute = log(60.0);
    let hour = log(3600.0);
    println!(
        "ladder: a minute is {} segments ({} kept), an hour {} ({} kept)",
        minute.total(),
        minute.entries().len(),
        hour.total(),
        hour.entries().len()
    );
    for (what, span) in [
        ("following live, 50 ms shown", 0.05),
        ("zoomed out, 60 s shown", 60.0),
    ] {
        let (m_median, m_worst) = frame_time(&minute, span);
        let (h_median, h_worst) = frame_time(&hour, span);
        println!("{what}:");
        println!("  a minute of packets: median {m_median:.2} ms, worst {m_worst:.2} ms");
        println!("  an hour of packets:  median {h_median:.2} ms, worst {h_worst:.2} ms");
        println!(
            "  hour / minute: {:.2} (goal: within 1.5)",
            h_median / m_median
        );
    }
}
