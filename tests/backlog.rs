//! The accept queue on a private link: listen(2), five clients, no
//! accept(). The kernel queues three finished handshakes (one more than
//! the backlog) and leaves the other clients' SYNs unanswered; they send
//! them again.

use std::time::Duration;

use sockscope::lab::backlog;
use sockscope::lab::probe::TcpState;

#[test]
fn a_full_accept_queue_leaves_the_next_clients_syns_unanswered() {
    sockscope::lab::link::set_helper_program(env!("CARGO_BIN_EXE_sockscope"));
    // SYNs are sent again after 1 s, then 2 s more: 1.5 s sees two.
    let trial = backlog::run(2, 5, Duration::from_millis(1500)).unwrap();
    assert_eq!(trial.max_backlog, 2, "{trial:?}");
    assert_eq!(trial.queued, 3, "{trial:?}");
    let (queued, waiting): (Vec<_>, Vec<_>) = trial
        .clients
        .iter()
        .partition(|c| c.state == TcpState::Established);
    assert_eq!(queued.len(), 3, "{trial:?}");
    for client in &queued {
        assert_eq!((client.syns, client.syn_acks), (1, 1), "{client:?}");
    }
    for client in &waiting {
        assert_eq!(client.state, TcpState::SynSent, "{client:?}");
        assert_eq!(client.syn_acks, 0, "{client:?}");
        assert!(client.syns >= 2, "sent again: {client:?}");
    }
}
