//! The reader's verdict, followed end to end through a real corruption of
//! the stream: a relay the test controls sits between the writer's socket
//! and the reader's, and changes or drops one byte. The reader must name
//! the first wrong byte, the summary must say integrity_ok false with its
//! offset, and record's exit code must be 3.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::thread::JoinHandle;

use sockscope::export::summary::{RunFigures, Summary};
use sockscope::lab::{LabConfig, Rate, Session, Size, Timeline};
use sockscope::record::{RecordOutcome, exit, human_summary};

const KIB: u64 = 1024;
/// Where the relay damages the stream.
const OFFSET: u64 = 100_000;

#[derive(Clone, Copy)]
enum Damage {
    /// The byte at OFFSET arrives with its bits flipped.
    Change,
    /// The byte at OFFSET never arrives.
    Drop,
}

/// writer → relay → reader, the relay forwarding every byte but one.
fn relayed_pair(damage: Damage) -> (TcpStream, TcpStream, JoinHandle<u64>) {
    let front = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let back = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let writer = TcpStream::connect(front.local_addr().unwrap()).unwrap();
    let (mut from_writer, _) = front.accept().unwrap();
    let mut to_reader = TcpStream::connect(back.local_addr().unwrap()).unwrap();
    let (reader, _) = back.accept().unwrap();
    let relay = std::thread::Builder::new()
        .name("relay".into())
        .spawn(move || {
            let mut position = 0u64;
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let n = match from_writer.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let chunk = &mut buf[..n];
                let range = position..position + n as u64;
                let mut out: Vec<u8> = chunk.to_vec();
                if range.contains(&OFFSET) {
                    let at = (OFFSET - position) as usize;
                    match damage {
                        Damage::Change => out[at] ^= 0xFF,
                        Damage::Drop => {
                            out.remove(at);
                        }
                    }
                }
                position += n as u64;
                if to_reader.write_all(&out).is_err() {
                    break;
                }
            }
            // The writer's EOF goes on to the reader.
            let _ = to_reader.shutdown(Shutdown::Write);
            position
        })
        .unwrap();
    (writer, reader, relay)
}

fn run_damaged(damage: Damage) {
    let config = LabConfig {
        write_rate: Rate::BytesPerSec(2 << 20),
        write_chunk: Size(4 * KIB),
        read_chunk: Size(4 * KIB),
        sample_hz: 200,
        ..LabConfig::default()
    };
    let (writer, reader, relay) = relayed_pair(damage);
    let session = Session::start_on_pair(config, writer, reader).unwrap();
    let info = session.info().clone();
    let mut timeline = Timeline::new();
    // Past the damage, then the orderly end: the reader drains to EOF.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while timeline.last().is_none_or(|s| s.read < 2 * OFFSET) {
        assert!(
            std::time::Instant::now() < deadline,
            "the bytes never got past the relay"
        );
        if let Ok(batch) = session
            .samples()
            .recv_timeout(std::time::Duration::from_millis(100))
        {
            timeline.extend(batch.samples);
        }
    }
    session.finish();
    for batch in session.samples().iter() {
        timeline.extend(batch.samples);
    }
    let report = session.join();
    let relayed = relay.join().unwrap();
    assert_eq!(
        relayed, report.bytes_written,
        "the relay saw every byte sent"
    );
    assert!(report.drained, "{report:?}");
    assert_eq!(report.first_mismatch, Some(OFFSET), "{report:?}");
    assert_eq!(report.integrity(), Some(false));

    let summary = Summary::new(&config, &info, &report, &timeline, RunFigures::default());
    assert_eq!(summary.integrity_ok, Some(false));
    assert_eq!(summary.first_mismatch_offset, Some(OFFSET));
    let outcome = RecordOutcome {
        summary,
        written_files: Vec::new(),
        replaced_files: Vec::new(),
        write_errors: Vec::new(),
    };
    assert_eq!(outcome.exit_code(), exit::INTEGRITY);
    let text = human_summary(&outcome, &info.sndbuf, &info.rcvbuf);
    assert!(
        text.contains(&format!(
            "INTEGRITY FAILED: first wrong byte at stream offset {OFFSET}"
        )),
        "{text}"
    );
}

#[test]
fn a_changed_byte_is_named_by_its_offset_and_fails_the_run_with_exit_3() {
    run_damaged(Damage::Change);
}

#[test]
fn a_lost_byte_is_named_by_its_offset_and_fails_the_run_with_exit_3() {
    run_damaged(Damage::Drop);
}
