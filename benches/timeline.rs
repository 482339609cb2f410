//! Memory and cost of the timeline over a one-hour run at 1 kHz
//! (3.6 million samples), measured as resident memory of this process.
//! Run: cargo bench --bench timeline

use std::time::Instant;

use sockscope::lab::timeline::Timeline;
use sockscope::lab::{ReaderState, Sample, WriterState};

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    const HZ: u64 = 1000;
    const SECONDS: u64 = 3600;
    let before = rss_mb();
    let mut timeline = Timeline::new();
    let started = Instant::now();
    for i in 0..HZ * SECONDS {
        // A sawtooth of fills and stalls, so events and spans do real work.
        let phase = i % 2000;
        let blocked = phase > 1500;
        timeline.push(Sample {
            t_ns: i * 1_000_000,
            send_queue: (phase * 2048) as u32,
            unsent: (phase * 1024) as u32,
            recv_queue: (phase.min(1000) * 128) as u32,
            written: i * 4096,
            read: i * 4000,
            zero_window: phase > 1200,
            writer_state: if blocked {
                WriterState::Blocked
            } else {
                WriterState::Sending
            },
            reader_state: if phase > 1000 {
                ReaderState::Paused
            } else {
                ReaderState::Reading
            },
            ..Sample::default()
        });
    }
    let took = started.elapsed();
    let after = rss_mb();
    println!(
        "timeline: one hour at 1 kHz = {} samples",
        timeline.total_samples()
    );
    println!(
        "  kept {} at full resolution, {} spans, {} events",
        timeline.recent().len(),
        timeline.archive().len(),
        timeline.events().len()
    );
    println!(
        "  heap held by the timeline: {:.1} MB (capacity-based); resident: {before:.1} MB before, {after:.1} MB after (goal: under 200 MB)",
        timeline.heap_bytes() as f64 / 1e6,
    );
    println!(
        "  push: {:.0} ns per sample ({:.2} s for the hour)",
        took.as_nanos() as f64 / timeline.total_samples() as f64,
        took.as_secs_f64()
    );
}
