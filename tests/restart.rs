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
        session.abort();
        let report = session.join();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        // The old session's channel ends; nothing more can arrive on it.
        while samples.recv().is_ok() {}
        assert!(samples.recv().is_err());
        assert_eq!(thread_count(), before, "all session threads joined");
    }
}
