//! Recordings (`sockscope open FILE`): any header line and row give a
//! sample or one sentence on what is wrong, never a panic; a sample never
//! shows more unsent bytes than queued, and holds the very values its row
//! wrote: a value its column cannot hold is refused, never clamped. The
//! whole file goes through the reader too (from a file in memory-backed
//! /dev/shm): opened, with its samples in time order and in range, or one
//! sentence.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::export::csv::HEADER_PREFIX;
use sockscope::export::recording::{MAX_T_MS, Recording, parse_row};
use sockscope::lab::Sample;

/// The latest a sample may be, in ns.
const MAX_T_NS: u64 = (MAX_T_MS * 1e6) as u64;

/// Columns whose text is a whole number the sample keeps as it is.
const WHOLE: [(&str, fn(&Sample) -> u64); 7] = [
    ("sendq_bytes", |s| u64::from(s.send_queue)),
    ("recvq_bytes", |s| u64::from(s.recv_queue)),
    ("written_bytes", |s| s.written),
    ("read_bytes", |s| s.read),
    ("stall_count", |s| s.stall_count),
    ("snd_wnd_bytes", |s| u64::from(s.sender.snd_wnd)),
    ("zero_window_probes", |s| u64::from(s.sender.probes)),
];

fn assert_in_range(sample: &Sample) {
    assert!(sample.t_ns <= MAX_T_NS, "t_ns {} past the bound", sample.t_ns);
    assert!(sample.stall_ns <= MAX_T_NS);
    assert!(sample.unsent <= sample.send_queue);
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (header, rows) = text.split_once('\n').unwrap_or((&text, ""));
    // Half the inputs get a real header, so the rows are what is tested.
    let header = if data.first().is_some_and(|b| b % 2 == 0) {
        format!("{HEADER_PREFIX}{header}")
    } else {
        header.to_string()
    };
    let names: Vec<&str> = header.split(',').collect();
    for row in rows.lines() {
        match parse_row(&header, row) {
            Ok(sample) => {
                assert_in_range(&sample);
                let fields: Vec<&str> = row.split(',').collect();
                for (name, value) in WHOLE {
                    let Some(at) = names.iter().position(|n| *n == name) else {
                        continue;
                    };
                    match fields[at] {
                        "" => assert_eq!(value(&sample), 0, "{name} empty"),
                        text => assert_eq!(
                            text.parse::<u64>().ok(),
                            Some(value(&sample)),
                            "{name} is '{text}' in the row"
                        ),
                    }
                }
            }
            Err(error) => assert!(!error.contains('\n'), "more than one line: {error}"),
        }
    }
    let file = std::path::PathBuf::from(format!(
        "/dev/shm/sockscope-fuzz-{}.csv",
        std::process::id()
    ));
    let mut whole = header.into_bytes();
    whole.push(b'\n');
    whole.extend_from_slice(rows.as_bytes());
    std::fs::write(&file, &whole).expect("/dev/shm is writable");
    match Recording::open(&file, &mut |_| {}) {
        Ok(recording) => {
            let (first, last) = recording.span();
            assert!(first <= last);
            assert!(last <= MAX_T_NS);
            assert!(recording.rows > 0);
            let near = recording.samples_near(first).expect("the file is there");
            assert!(near.windows(2).all(|w| w[0].t_ns <= w[1].t_ns));
            near.iter().for_each(assert_in_range);
        }
        Err(error) => {
            let error = error.to_string();
            assert!(!error.contains('\n'), "more than one line: {error}");
        }
    }
});
