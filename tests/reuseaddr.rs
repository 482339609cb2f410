//! The lesson's SO_REUSEADDR case on real sockets: while the old
//! connection waits in TIME_WAIT, rebinding its port fails with the real
//! "Address already in use" unless both servers set SO_REUSEADDR.

use sockscope::lab::reuseaddr;

#[test]
fn rebinding_a_port_in_time_wait_needs_so_reuseaddr_on_both_servers() {
    let trials = reuseaddr::all_trials().expect("set up the connections");
    for trial in &trials {
        assert!(
            trial.time_wait_seen,
            "{trial:?}: the old side must be in TIME_WAIT"
        );
        let both = trial.old_reuse && trial.new_reuse;
        if both {
            assert_eq!(trial.bind_error, None, "{trial:?}");
        } else {
            assert!(trial.addr_in_use, "{trial:?}");
            let message = trial.bind_error.as_deref().unwrap_or_default();
            assert!(message.contains("Address already in use"), "{message}");
        }
    }
    assert_eq!(trials.len(), 4);
}
