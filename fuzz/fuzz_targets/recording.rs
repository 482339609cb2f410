//! Recordings (`sockscope open FILE`): any header line and row give a
//! sample or one sentence on what is wrong, never a panic; a sample never
//! shows more unsent bytes than queued. The whole file goes through the
//! reader too (from a file in memory-backed /dev/shm): opened, with its
//! samples in time order, or one sentence.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::export::csv::HEADER_PREFIX;
use sockscope::export::recording::{Recording, parse_row};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (header, rows) = text.split_once('\n').unwrap_or((&text, ""));
    // Half the inputs get a real header, so the rows are what is tested.
    let header = if data.first().is_some_and(|b| b % 2 == 0) {
        format!("{HEADER_PREFIX}{header}")
    } else {
        header.to_string()
    };
    for row in rows.lines() {
        match parse_row(&header, row) {
            Ok(sample) => assert!(sample.unsent <= sample.send_queue),
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
            assert!(recording.rows > 0);
            let near = recording.samples_near(first).expect("the file is there");
            assert!(near.windows(2).all(|w| w[0].t_ns <= w[1].t_ns));
        }
        Err(error) => {
            let error = error.to_string();
            assert!(!error.contains('\n'), "more than one line: {error}");
        }
    }
});
