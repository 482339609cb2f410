//! Stopping and restarting sessions: threads end, new settings apply, ids
//! keep old and new samples apart. Its own test binary, so the thread count
//! it checks is not disturbed by other tests.

mod common;

use common::collect_until;
use sockscope::lab::{LabConfig, Rate, Session, Size};

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn sessions_stop_and_restart_cleanly_with_new_buffer_sizes() {
    let before = thread_count();
    let mut previous_id = 0;
    for kib in [16u64, 64, 16, 32] {
        let session = Session::start(LabConfig {
            sndbuf: Some(Size(kib * 1024)),
            rcvbuf: Some(Size(kib * 1024)),
            read_rate: Rate::Paused,
            sample_hz: 1000,
            ..LabConfig::default()
        })
        .unwrap();
        assert!(session.id() > previous_id, "every session gets a new id");
        previous_id = session.id();
        assert_eq!(session.info().sndbuf.effective, 2 * kib * 1024);
        let mut history = Vec::new();
        collect_until(&session, &mut history, "the writer blocks", |h| {
            h.last().is_some_and(|s| s.writer_blocked())
        });
        let samples = session.samples().clone();
        let id = session.id();
        session.abort();
        let report = session.join();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        // Aborted with the queues full: nothing was lost, but not everything
        // was read, so integrity is unknown rather than failed.
        assert!(!report.drained);
        assert_eq!(report.integrity(), None);
        // The old session's channel ends, and all it held came from it.
        assert!(samples.iter().all(|batch| batch.session_id == id));
        // A joined thread can linger in /proc for a moment: poll, no sleep.
        let deadline = std::time::Instant::now() + common::DEADLINE;
        while thread_count() != before {
            assert!(
                std::time::Instant::now() < deadline,
                "session threads left running"
            );
            std::thread::yield_now();
        }
    }
}
