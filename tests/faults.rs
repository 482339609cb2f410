//! Faults, on real sockets: a worker thread that fails, a peer that resets
//! the connection, a port already in use, ioctls on sockets that cannot
//! answer them. Each reaches the user as an event or one sentence, and
//! nothing hangs.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{DEADLINE, collect_until, connect_when_listening, free_port};
use sockscope::export::summary::{RunFigures, Summary};
use sockscope::lab::probe::{self, TcpState};
use sockscope::lab::{EventKind, Fault, LabConfig, Rate, Session, SessionReport, Size, Timeline};
use sockscope::record::{RecordOutcome, human_summary};

const KIB: u64 = 1024;

fn paced() -> LabConfig {
    LabConfig {
        sndbuf: Some(Size(32 * KIB)),
        rcvbuf: Some(Size(32 * KIB)),
        write_rate: Rate::BytesPerSec(1 << 20),
        write_chunk: Size(4 * KIB),
        sample_hz: 500,
        ..LabConfig::default()
    }
}

/// Takes samples until the session's channel closes: it ended by itself.
fn until_it_ends(session: &Session, timeline: &mut Timeline) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        assert!(
            Instant::now() < deadline,
            "the session did not end by itself"
        );
        match session.samples().recv_timeout(Duration::from_millis(100)) {
            Ok(batch) => timeline.extend(batch.samples),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn has_event(timeline: &Timeline, kind: EventKind) -> bool {
    timeline.events().iter().any(|e| e.kind == kind)
}

/// Runs a paced session until bytes move, makes one worker fail, and
/// waits for the session to end by itself: the failure must show as
/// `event` and as an error naming `panicked`.
fn fail_while_running(fault: Fault, event: EventKind, panicked: &str) -> SessionReport {
    let session = Session::start(paced()).unwrap();
    let mut history = Vec::new();
    collect_until(&session, &mut history, "bytes moving", |h| {
        h.last().is_some_and(|s| s.read > 64 * KIB)
    });
    session.inject_fault(fault);
    let mut timeline = Timeline::new();
    timeline.extend(history);
    until_it_ends(&session, &mut timeline);
    assert!(has_event(&timeline, event));
    let report = session.join();
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.to_string().contains(panicked)),
        "{report:?}"
    );
    report
}

#[test]
fn a_failing_writer_ends_the_session_and_every_byte_it_sent_is_checked() {
    let report = fail_while_running(
        Fault::WriterPanics,
        EventKind::WriterFailed,
        "the writer thread panicked",
    );
    // The stream was ended for it, so the reader read up to EOF.
    assert!(report.drained, "{report:?}");
    assert_eq!(report.integrity(), Some(true), "{report:?}");
}

#[test]
fn a_failing_reader_ends_the_session() {
    let report = fail_while_running(
        Fault::ReaderPanics,
        EventKind::ReaderFailed,
        "the reader thread panicked",
    );
    // Not read to the end: nothing is claimed either way.
    assert_eq!(report.integrity(), None, "{report:?}");
}

#[test]
fn a_failed_run_reads_as_not_verified_never_as_an_integrity_failure() {
    let session = Session::start(paced()).unwrap();
    let info = session.info().clone();
    let mut history = Vec::new();
    collect_until(&session, &mut history, "bytes moving", |h| {
        h.last().is_some_and(|s| s.read > 64 * KIB)
    });
    session.inject_fault(Fault::ReaderPanics);
    let mut timeline = Timeline::new();
    timeline.extend(history);
    until_it_ends(&session, &mut timeline);
    let report = session.join();
    let summary = Summary::new(&paced(), &info, &report, &timeline, RunFigures::default());
    // The JSON: unknown is null, not false.
    assert_eq!(summary.integrity_ok, None);
    assert!(!summary.outside_peer);
    let outcome = RecordOutcome {
        summary,
        written_files: Vec::new(),
        replaced_files: Vec::new(),
        write_errors: Vec::new(),
    };
    let text = human_summary(&outcome, &info.sndbuf, &info.rcvbuf);
    assert!(text.contains("not verified: the run failed"), "{text}");
    assert!(!text.contains("INTEGRITY FAILED"), "{text}");
    assert!(text.contains("writer 127.0.0.1"), "{text}");
    // A failed run exits 1, not 3 (the code for a wrong byte).
    assert_eq!(outcome.exit_code(), sockscope::record::exit::FAILED);
}

fn sockscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sockscope"))
}

#[test]
fn record_reports_a_peer_reset_as_it_happens_and_still_sums_up() {
    let port = free_port();
    let record = std::thread::Builder::new()
        .name("record".into())
        .spawn(move || {
            sockscope()
                .args(["record", "--duration", "3", "--write-rate", "0"])
                .args(["--listen", &port.to_string()])
                .output()
                .unwrap()
        })
        .unwrap();
    let mut client = connect_when_listening(port);
    client.write_all(&[1u8; 5000]).unwrap();
    // SO_LINGER 0: close() sends RST instead of FIN.
    socket2::SockRef::from(&client)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(client);
    let out = record.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("peer reset the connection (ECONNRESET)"),
        "{stdout}"
    );
    // The summary still comes.
    assert!(stdout.contains("not verified: an outside peer"), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_port_in_use_is_one_sentence_and_exit_1_with_no_file_written() {
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("sockscope-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("run.csv");
    let out = sockscope()
        .args(["record", "--duration", "1", "--listen", &port.to_string()])
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.contains("waiting for one client"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("Address already in use"), "{stderr}");
    assert!(!csv.exists(), "a failed run left a file behind");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
    drop(taken);
}

#[test]
fn ioctls_on_a_listening_socket_fail_cleanly_and_a_reset_socket_still_answers() {
    // A listening socket has no queues: the kernel says EINVAL.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let error = probe::recv_queue(&listener).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::EINVAL));
    assert!(probe::send_queue(&listener).is_err());
    assert_eq!(probe::tcp_info(&listener).unwrap().state, TcpState::Listen);

    // A socket whose peer reset it is closed, but its descriptor is still
    // open: the ioctls answer 0 and TCP_INFO says CLOSE.
    let mut ours = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (peer, _) = listener.accept().unwrap();
    socket2::SockRef::from(&peer)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(peer);
    let mut byte = [0u8; 1];
    let read = ours.read(&mut byte);
    assert!(
        read.as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "{read:?}"
    );
    assert_eq!(probe::recv_queue(&ours).unwrap(), 0);
    assert_eq!(probe::send_queue(&ours).unwrap(), 0);
    assert_eq!(probe::tcp_info(&ours).unwrap().state, TcpState::Close);
}
