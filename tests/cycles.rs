//! Hundreds of start/stop cycles leave the process as they found it: the
//! same open descriptors (/proc/self/fd) and threads (/proc/self/task).
//! One test in its own binary, so no other test's threads or sockets are
//! counted.

mod common;

use std::time::{Duration, Instant};

use common::DEADLINE;
use sockscope::lab::server::Server;
use sockscope::lab::{LabConfig, Rate, Session, Size};
use sockscope::run::Run;

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

fn counts() -> (usize, usize) {
    (count("/proc/self/fd"), count("/proc/self/task"))
}

/// Joined threads and closed sockets can take a moment to leave /proc:
/// poll with a deadline rather than sleep.
fn settles_back_to(start: (usize, usize), what: &str) {
    let deadline = Instant::now() + DEADLINE;
    while counts() != start {
        assert!(
            Instant::now() < deadline,
            "after {what}: (descriptors, threads) {start:?} -> {:?}",
            counts()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

const SESSION_CYCLES: usize = 500;

#[test]
fn start_stop_cycles_leak_no_descriptors_and_no_threads() {
    let config = LabConfig {
        sndbuf: Some(Size(16 * 1024)),
        rcvbuf: Some(Size(16 * 1024)),
        write_rate: Rate::BytesPerSec(4 << 20),
        write_chunk: Size(4096),
        sample_hz: 1000,
        ..LabConfig::default()
    };
    let start = counts();
    let started = Instant::now();
    for cycle in 0..SESSION_CYCLES {
        let session = Session::start(config).unwrap();
        // Running for real: at least one batch of samples arrives.
        let batch = session
            .samples()
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|e| panic!("cycle {cycle}: no samples: {e}"));
        assert_eq!(batch.session_id, session.id());
        // Half end the orderly way (drain, verify), half are aborted.
        if cycle % 2 == 0 {
            let report = session.join();
            assert!(report.integrity_ok(), "cycle {cycle}: {report:?}");
        } else {
            session.abort();
            let report = session.join();
            assert!(report.errors.is_empty(), "cycle {cycle}: {report:?}");
        }
    }
    let sessions = started.elapsed();
    settles_back_to(start, "500 sessions");

    // The window's restarts: the old session retires on a thread of its
    // own while the new one connects on another.
    let started = Instant::now();
    let mut lab = Run::new(config, None);
    for _ in 0..100 {
        lab.start(config);
        let deadline = Instant::now() + DEADLINE;
        while lab.pump().samples == 0 {
            assert!(Instant::now() < deadline, "{:?}", lab.error());
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    drop(lab);
    let restarts = started.elapsed();
    settles_back_to(start, "100 window restarts");

    // The thread-per-client server with three clients, 50 times.
    let started = Instant::now();
    for _ in 0..50 {
        let mut server = Server::start(config, None).unwrap();
        for _ in 0..3 {
            server.add_client().unwrap();
        }
        for departure in server.shutdown() {
            assert!(departure.report.integrity_ok(), "{:?}", departure.report);
        }
    }
    let servers = started.elapsed();
    settles_back_to(start, "50 servers");
    println!(
        "cycles: {SESSION_CYCLES} sessions in {:.2} s, 100 window restarts in {:.2} s, \
         50 servers of 3 clients in {:.2} s; descriptors and threads back to {start:?}",
        sessions.as_secs_f64(),
        restarts.as_secs_f64(),
        servers.as_secs_f64()
    );
}
