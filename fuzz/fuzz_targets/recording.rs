//! Recordings (`sockscope open FILE`): any header line and row give a
//! sample or one sentence on what is wrong, never a panic; a sample never
//! shows more unsent bytes than queued.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::export::csv::HEADER_PREFIX;
use sockscope::export::recording::parse_row;

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
});
