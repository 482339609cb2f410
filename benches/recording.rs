//! Opening and scrubbing an hour-long recording at 1 kHz (3.6 million
//! rows, the CSV `record --csv` writes): the time to open it, the memory it
//! takes (resident, this process), and what one scrub step costs (a seek
//! to a moment far from the last: the stretch of rows around it read back
//! from the file, then the sample at the cursor). A frame at 60 Hz has
//! 16.7 ms. Prints figures; asserts nothing about speed.
//! Run: cargo bench --bench recording   (ROWS=3600000 by default)

use std::time::Instant;

use sockscope::export::csv::SampleCsv;
use sockscope::export::recording::Recording;
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
    let _ = std::fs::remove_file(&path);
}
