//! Sizes, rates and durations as a user types them (`--sndbuf 64K`,
//! `--read-rate 1.5M/s`, `--duration 2.5s`, the settings file, scenario
//! values): any text gives a value or an error, never a panic, and an
//! accepted size survives being written out as bytes and read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::lab::units::{Rate, Size, parse_seconds};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(size) = Size::parse(text) {
        assert!(size.bytes() > 0, "{text:?} gave a zero size");
        assert_eq!(
            Size::parse(&size.bytes().to_string()),
            Ok(size),
            "{text:?} does not round-trip"
        );
    }
    if let Ok(rate) = Rate::parse(text) {
        // Every accepted rate has words for the summary and the window.
        assert!(!rate.to_string().is_empty());
    }
    if let Ok(duration) = parse_seconds(text) {
        assert!(duration.as_secs_f64().is_finite());
    }
});
