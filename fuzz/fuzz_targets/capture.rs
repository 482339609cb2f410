//! Captures (`sockscope open` replays the pcap a recording's summary
//! names): any bytes give the frames of a pcap file or one sentence on
//! what is wrong, never a panic; every frame read goes through the
//! ladder's log as a replayed one does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::export::pcap;
use sockscope::lab::wire_log::WireLog;

fuzz_target!(|data: &[u8]| {
    // The writer's port from the input, so some frames are its.
    let port = data.get(40..42).map_or(0, |p| u16::from_be_bytes([p[0], p[1]]));
    let mut log = WireLog::with_capacity(port, 4096);
    let mut frames = 0u64;
    let read = pcap::read(data, 1_700_000_000_000_000_000, |packet| {
        frames += 1;
        log.push(&packet);
    });
    match read {
        Ok(records) => assert_eq!(records, frames),
        Err(error) => assert!(!error.contains('\n'), "more than one line: {error}"),
    }
});
