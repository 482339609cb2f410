//! The wire: `record --pcap` captures the lab connection's packets on its
//! private link, and tshark (an oracle no one here wrote) reads them back.

mod common;

use std::path::Path;
use std::process::Command;

use common::sockscope;
use sockscope::lab::{CaptureState, Endpoint, LabConfig, Session};

fn scratch(name: &str) -> std::path::PathBuf {
    common::scratch("wire", name)
}

/// One row of tshark's fields for each frame.
#[derive(Debug)]
struct Frame {
    src_port: u16,
    syn: bool,
    ack: bool,
    fin: bool,
    rst: bool,
    len: u64,
    window: u64,
    retransmission: bool,
    zero_window: bool,
    /// Relative sequence number of the first payload byte.
    seq: u64,
}

/// The payload bytes `frames` carry, each stream position once however
/// often it was sent: what the sender wrote, with or without tshark's
/// guesses at which copies were resends.
fn distinct_payload(frames: &[&Frame]) -> u64 {
    let mut ranges: Vec<(u64, u64)> = frames
        .iter()
        .filter(|f| f.len > 0)
        .map(|f| (f.seq, f.seq + f.len))
        .collect();
    ranges.sort_unstable();
    let (mut total, mut covered_to) = (0, 0);
    for (start, end) in ranges {
        let start = start.max(covered_to);
        if end > start {
            total += end - start;
            covered_to = end;
        }
    }
    total
}

fn tshark(pcap: &Path) -> Vec<Frame> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-T", "fields", "-E", "separator=,"])
        .args([
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.flags.syn",
            "-e",
            "tcp.flags.ack",
        ])
        .args([
            "-e",
            "tcp.flags.fin",
            "-e",
            "tcp.flags.reset",
            "-e",
            "tcp.len",
        ])
        .args(["-e", "tcp.window_size_value"])
        .args(["-e", "tcp.analysis.retransmission"])
        .args(["-e", "tcp.analysis.fast_retransmission"])
        .args(["-e", "tcp.analysis.zero_window"])
        // A resend the receiver's D-SACK showed needless (a tail-loss
        // probe, say) is flagged as spurious, not as a retransmission.
        .args(["-e", "tcp.analysis.spurious_retransmission"])
        .args(["-e", "tcp.seq"])
        .output()
        .expect("tshark runs (Debian: apt-get install tshark)");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flag = |s: &str| s == "1" || s == "True";
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            Frame {
                src_port: f[0].parse().unwrap(),
                syn: flag(f[1]),
                ack: flag(f[2]),
                fin: flag(f[3]),
                rst: flag(f[4]),
                len: f[5].parse().unwrap(),
                window: f[6].parse().unwrap(),
                // tshark prints a present analysis flag as 1.
                retransmission: !f[7].is_empty()
                    || !f[8].is_empty()
                    || f.get(10).is_some_and(|spurious| !spurious.is_empty()),
                seq: f.get(11).and_then(|seq| seq.parse().ok()).unwrap_or(0),
                zero_window: !f[9].is_empty(),
            }
        })
        .collect()
}

/// `record --pcap --json` with `args`, into `dir`: the pcap's path, the
/// summary, and the writer's port from it.
fn record_with_pcap(dir: &Path, args: &[&str]) -> (std::path::PathBuf, serde_json::Value, u16) {
    let (pcap, json) = (dir.join("run.pcap"), dir.join("run.json"));
    let out = sockscope()
        .arg("record")
        .args(args)
        .arg("--pcap")
        .arg(&pcap)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    common::assert_succeeded(&out);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let writer_port = summary["writer"]
        .as_str()
        .and_then(|w| w.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no writer address: {summary}"));
    (pcap, summary, writer_port)
}

/// The pause-and-resume scenario, recorded with its packets: the reader
/// stops reading for three seconds, the window closes, and reopens.
#[test]
fn a_paused_reader_run_on_the_wire_reads_back_in_tshark() {
    let dir = scratch("paused");
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/pause-and-resume.toml"
    );
    let (pcap, summary, writer_port) =
        record_with_pcap(&dir, &["--duration", "5", "--scenario", scenario]);
    assert_eq!(summary["integrity_ok"], true, "{summary}");
    let frames = tshark(&pcap);
    let capture = &summary["capture"];
    // Every frame the capture counted is in the file, none lost on the way.
    assert_eq!(capture["packets"].as_u64().unwrap(), frames.len() as u64);
    assert_eq!(capture["dropped"], 0, "{capture}");

    // The handshake comes first, with its flags.
    let [syn, syn_ack, ack] = &frames[..3] else {
        panic!("fewer than three frames");
    };
    assert!(
        syn.syn && !syn.ack && syn.src_port == writer_port,
        "{syn:?}"
    );
    assert!(syn_ack.syn && syn_ack.ack && syn_ack.src_port != writer_port);
    assert!(
        !ack.syn && ack.ack && ack.src_port == writer_port,
        "{ack:?}"
    );
    assert!(frames.iter().all(|f| !f.rst), "a reset on the wire");

    // The writer's payload, each byte once, is what it wrote; every segment
    // of it is one the kernel counted.
    let (writer, reader): (Vec<&Frame>, Vec<&Frame>) =
        frames.iter().partition(|f| f.src_port == writer_port);
    let sent: u64 = writer
        .iter()
        .filter(|f| !f.retransmission)
        .map(|f| f.len)
        .sum();
    assert_eq!(sent, summary["bytes_written"].as_u64().unwrap());
    // Every writer segment the kernel sent is on the wire, but for any lost
    // before the capture point (lo's backlog overflowing on a busy
    // machine), which the kernel then sent again.
    let kernel_sent = capture["writer_segs_out"].as_u64().unwrap();
    let captured = writer.len() as u64;
    assert!(captured <= kernel_sent, "{capture}");
    assert!(
        kernel_sent - captured <= summary["retransmits"].as_u64().unwrap(),
        "{capture} {summary}"
    );
    assert!(writer.iter().any(|f| f.fin), "the writer's FIN");
    assert!(
        writer.iter().all(|f| f.len <= 1448),
        "a segment over the MTU"
    );

    // The reader closed its window while paused: the wire has its zero
    // window, and the writer saw it.
    assert!(
        summary["zero_window_ms"].as_f64().unwrap() > 0.0,
        "{summary}"
    );
    let zero: Vec<&&Frame> = reader.iter().filter(|f| f.zero_window).collect();
    assert!(!zero.is_empty(), "no zero window on the wire");
    assert!(zero.iter().all(|f| f.window == 0 && f.ack));
}

#[test]
fn an_unwritable_pcap_path_is_one_sentence_exit_2_and_nothing_runs() {
    let dir = scratch("unwritable");
    let json = dir.join("run.json");
    let out = sockscope()
        .args([
            "record",
            "--duration",
            "1",
            "--pcap",
            "/nonexistent-folder/run.pcap",
        ])
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--pcap"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!json.exists(), "a refused run wrote its summary");
    let out = sockscope()
        .args([
            "record",
            "--duration",
            "1",
            "--pcap",
            "x.pcap",
            "--connect",
            "9",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A capture needs the private link: asked for on the machine's loopback
/// it is one sentence, and the session runs without it.
#[test]
fn a_capture_without_a_link_is_one_sentence_and_the_session_runs() {
    let session = Session::start(LabConfig {
        capture: true,
        endpoint: Endpoint::Loopback,
        ..LabConfig::default()
    })
    .unwrap();
    let CaptureState::Failed(sentence) = &session.info().capture else {
        panic!("a capture on loopback: {:?}", session.info().capture);
    };
    assert!(sentence.contains("private link"), "{sentence}");
    let mut history = Vec::new();
    common::collect_until(&session, &mut history, "bytes flow", |h| {
        h.last().is_some_and(|s| s.read > 0)
    });
    assert!(session.packets().try_recv().is_err());
    session.finish();
    common::drain(&session);
    assert_eq!(session.join().integrity(), Some(true));
}

/// lo keeps its segmentation offload, so a fast writer's segments reach the
/// capture as super-segments of up to 64 KiB; each is cut into the
/// segments the kernel counts, as for a wire: every one within the MTU,
/// the payload adding up to what was written, and as many as tcpi_segs_out.
#[test]
fn super_segments_are_cut_into_the_segments_the_kernel_counts() {
    let dir = common::scratch("wire", "super");
    let (pcap, summary, writer_port) = record_with_pcap(
        &dir,
        &[
            "--duration",
            "1",
            "--write-rate",
            "8M",
            "--write-chunk",
            "256K",
        ],
    );
    let capture = &summary["capture"];
    let (segments, frames) = (
        capture["packets"].as_u64().unwrap(),
        capture["frames"].as_u64().unwrap(),
    );
    assert!(frames < segments, "no super-segment came: {capture}");
    let records = tshark(&pcap);
    assert_eq!(records.len() as u64, segments);
    let writer: Vec<&Frame> = records
        .iter()
        .filter(|f| f.src_port == writer_port)
        .collect();
    assert!(
        writer.iter().all(|f| f.len <= 1500 - 40),
        "a segment over the MTU"
    );
    // Each stream position once: on a busy machine tshark's guess at
    // which copy is a resend can miss one (two segments counted twice here
    // once), so the bytes are counted by their sequence numbers.
    assert_eq!(
        distinct_payload(&writer),
        summary["bytes_written"].as_u64().unwrap()
    );
    // As many as the kernel counted, but for any lost before the capture
    // point on a busy machine, which it then sent again.
    let (captured, kernel_sent) = (
        capture["writer_segments"].as_u64().unwrap(),
        capture["writer_segs_out"].as_u64().unwrap(),
    );
    assert!(captured <= kernel_sent, "{capture}");
    assert!(
        kernel_sent - captured <= summary["retransmits"].as_u64().unwrap(),
        "{capture}"
    );
}

/// `sockscope open` replays a recording's capture: the summary names the
/// pcap and when the samples' clock read 0, and the packets fall in place
/// beside the samples. Every byte the reader had read by a sample had
/// crossed the wire before it, and every byte acknowledged had been
/// written (but for the chunk a blocked send() was copying: `written`
/// counts calls that returned): a capture's clock shifted 4 ms early or
/// 3 ms late breaks one (tried by shifting it).
#[test]
fn a_recordings_packets_replay_on_its_samples_clock() {
    let dir = scratch("replay");
    let csv = dir.join("run.csv");
    let (pcap, summary, writer_port) = record_with_pcap(
        &dir,
        &[
            "--duration",
            "2",
            "--write-rate",
            "512K",
            "--write-chunk",
            "1K",
            "--read-rate",
            "256K",
            "--sample-hz",
            "200",
            "--csv",
            csv.to_str().unwrap(),
        ],
    );
    let capture = &summary["capture"];
    assert_eq!(capture["pcap"], "run.pcap", "{capture}");
    assert!(capture["clock_zero_unix_ns"].as_u64().unwrap() > 0);

    let recording = sockscope::export::recording::Recording::open(&csv, &mut |_| {}).unwrap();
    let wire = match &recording.wire {
        Some(Ok(wire)) => wire,
        other => panic!("no capture replayed: {other:?}"),
    };
    assert_eq!(wire.path, pcap);
    assert_eq!(wire.records, capture["packets"].as_u64().unwrap());
    assert_eq!(wire.log.writer_port(), writer_port);
    let entries: Vec<_> = wire.log.entries().iter().copied().collect();
    // The handshake before the first sample, on the samples' clock.
    assert_eq!(entries[0].kind, sockscope::lab::wire_log::SegmentKind::Syn);
    assert!(entries[0].t_ns < recording.span().0 as i64);

    let (first, _) = recording.span();
    let samples = recording.samples_near(first).unwrap();
    assert!(samples.len() > 300, "{} samples", samples.len());
    let slack = 1_000_000i64;
    let written_total = summary["bytes_written"].as_u64().unwrap();
    let mut checked = (0, 0);
    for sample in &samples {
        let t = sample.t_ns as i64;
        // Relative sequence numbers: the first byte is 1 (the SYN took 0).
        let on_wire = entries
            .iter()
            .filter(|e| e.from_writer && e.t_ns <= t + slack)
            .map(|e| u64::from(e.seq_end().saturating_sub(1)))
            .max()
            .unwrap_or(0);
        assert!(
            on_wire >= sample.read,
            "at {t} ns the reader had read {} bytes, but only {on_wire} had crossed the wire",
            sample.read
        );
        checked.0 += 1;
    }
    for ack in entries.iter().filter(|e| !e.from_writer && e.ack > 1) {
        // The first sample a millisecond after the ACK: the same slack as
        // above, given the same way round (to the clock, not against it).
        // Taken before the ACK, a sample may miss a burst the writer sent
        // to catch up with its pace (11 KiB at 30.3 ms, 13 KiB acknowledged
        // at 31.0 ms, seen once in CI).
        let Some(after) = samples.iter().find(|s| s.t_ns as i64 >= ack.t_ns + slack) else {
            continue;
        };
        let acked = u64::from(ack.ack - 1).min(written_total);
        assert!(
            acked <= after.written + 1024,
            "an ACK at {} ns acknowledged {acked} bytes, but by {} ns only {} were written \
             (and a send() of 1 KiB was under way)",
            ack.t_ns,
            after.t_ns,
            after.written
        );
        checked.1 += 1;
    }
    assert!(checked.1 > 50, "{checked:?} checks");

    // A capture cut off is a damaged recording: one sentence naming the
    // record, exit 2, nothing opened.
    let bytes = std::fs::read(&pcap).unwrap();
    std::fs::write(&pcap, &bytes[..bytes.len() - 10]).unwrap();
    let out = sockscope().arg("open").arg(&csv).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "its capture, {}, is damaged: record {} stops short",
            pcap.display(),
            wire.records
        )),
        "{stderr}"
    );
    // A capture gone: the samples open, and the window says why there are
    // no packets.
    std::fs::remove_file(&pcap).unwrap();
    let recording = sockscope::export::recording::Recording::open(&csv, &mut |_| {}).unwrap();
    assert!(
        matches!(
            &recording.wire,
            Some(Err(sockscope::export::recording::NoReplay::Unreadable { pcap: p, .. })) if *p == pcap
        ),
        "{:?}",
        recording.wire
    );
}
