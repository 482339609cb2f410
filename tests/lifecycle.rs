//! Step mode's calls on real sockets: the lesson's order, accept() waiting
//! for a client, TCP states from TCP_INFO, and recv() returning 0 after
//! the client's close().

use std::time::{Duration, Instant};

use sockscope::lab::lifecycle::{Call, Lifecycle, Outcome};
use sockscope::lab::probe::TcpState;

/// Retries the waiting call until it completes.
fn complete(steps: &mut Lifecycle) -> (Call, Outcome) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(done) = steps.poll_waiting().pop() {
            return done;
        }
        assert!(
            Instant::now() < deadline,
            "the waiting call never completed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_lessons_call_sequence_on_real_sockets() {
    let mut steps = Lifecycle::new(0);
    assert!(
        !steps.enabled(Call::ServerAccept),
        "accept() needs listen() first"
    );
    assert!(
        !steps.enabled(Call::ClientConnect),
        "connect() needs socket() first"
    );
    for call in [
        Call::ServerSocket,
        Call::ServerReuse,
        Call::ServerBind,
        Call::ServerListen,
    ] {
        assert!(steps.enabled(call), "{call:?}");
        assert_eq!(steps.call(call, b""), Outcome::Done, "{call:?}");
    }
    assert_eq!(steps.server_view().state, Some(TcpState::Listen));
    // No client yet: accept() would block, and says so.
    assert_eq!(steps.call(Call::ServerAccept, b""), Outcome::Waiting);
    assert_eq!(steps.waiting(), [Some(Call::ServerAccept), None]);
    // The server waits in accept(), the client can still act.
    assert_eq!(steps.call(Call::ClientSocket, b""), Outcome::Done);
    assert_eq!(steps.call(Call::ClientConnect, b""), Outcome::Done);
    let (call, accepted) = complete(&mut steps);
    assert_eq!(call, Call::ServerAccept);
    assert!(matches!(accepted, Outcome::Accepted(_)), "{accepted:?}");
    assert_eq!(steps.server_view().state, Some(TcpState::Established));
    assert_eq!(steps.client_view().state, Some(TcpState::Established));
    assert_eq!(steps.server_view().peer, steps.client_view().local);
    // The server's recv() waits for data; the client's send() ends the wait.
    assert_eq!(steps.call(Call::ServerRecv, b""), Outcome::Waiting);
    assert!(steps.enabled(Call::ClientSend) && !steps.enabled(Call::ServerSend));
    assert_eq!(
        steps.call(Call::ClientSend, "你好".as_bytes()),
        Outcome::Sent(6)
    );
    let received = complete(&mut steps).1;
    assert_eq!(received, Outcome::Received("你好".as_bytes().to_vec()));
    // The client closes: the server's recv() returns 0, its socket is in
    // CLOSE_WAIT until it closes too.
    assert_eq!(steps.call(Call::ClientClose, b""), Outcome::Done);
    let closed = match steps.call(Call::ServerRecv, b"") {
        Outcome::Waiting => complete(&mut steps).1,
        other => other,
    };
    assert_eq!(closed, Outcome::PeerClosed);
    assert_eq!(steps.server_view().state, Some(TcpState::CloseWait));
    // The closed client is still in the kernel's table, half-closed: its
    // FIN sent (FIN_WAIT1), then acknowledged (FIN_WAIT2).
    let client = steps.client_view().state;
    assert!(
        matches!(client, Some(TcpState::FinWait1 | TcpState::FinWait2)),
        "{client:?}"
    );
    assert_eq!(steps.call(Call::ServerClose, b""), Outcome::Done);
    // Once the server closes too, the client's side waits in TIME_WAIT.
    let deadline = Instant::now() + Duration::from_secs(30);
    while steps.client_view().state != Some(TcpState::TimeWait) {
        assert!(Instant::now() < deadline, "{:?}", steps.client_view());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!steps.enabled(Call::ServerRecv));
}

/// Waits until `done` holds of the steps, polling their waiting calls.
fn until(steps: &mut Lifecycle, what: &str, mut done: impl FnMut(&mut Lifecycle) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(steps) {
        let _ = steps.poll_waiting();
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// On a private link the same calls are made in the link's namespace and
/// their packets are on the wire: connect()'s handshake, then close()'s
/// FINs, with the client left in TIME_WAIT as its namespace lists it.
#[test]
fn on_a_private_link_the_calls_show_their_packets_down_to_time_wait() {
    use sockscope::lab::wire_log::SegmentKind;
    sockscope::lab::link::set_helper_program(env!("CARGO_BIN_EXE_sockscope"));
    let mut steps = Lifecycle::on_link().expect("a private link");
    assert!(steps.on_a_link());
    for call in [
        Call::ServerSocket,
        Call::ServerReuse,
        Call::ServerBind,
        Call::ServerListen,
        Call::ClientSocket,
        Call::ClientConnect,
    ] {
        assert_eq!(steps.call(call, b""), Outcome::Done, "{call:?}");
    }
    // The link's own address space: the machine's /proc/net/tcp has no such
    // listener, the namespace's has.
    let kinds = |steps: &mut Lifecycle| -> Vec<SegmentKind> {
        steps
            .wire()
            .map(|log| log.entries().iter().map(|e| e.kind).collect())
            .unwrap_or_default()
    };
    until(&mut steps, "the handshake on the wire", |s| {
        kinds(s).len() >= 3
    });
    assert_eq!(
        kinds(&mut steps)[..3],
        [SegmentKind::Syn, SegmentKind::SynAck, SegmentKind::Ack]
    );
    assert_eq!(
        steps.call(Call::ServerAccept, b""),
        Outcome::Accepted(steps.client_view().local.unwrap())
    );
    assert_eq!(
        steps.call(Call::ClientSend, "你好".as_bytes()),
        Outcome::Sent(6)
    );
    // The server reads them (a close() with unread bytes would reset the
    // connection instead of ending it with a FIN).
    if steps.call(Call::ServerRecv, b"") == Outcome::Waiting {
        complete(&mut steps);
    }
    // The client closes first: its FIN, the server's ACK; then the
    // server's close and FIN; the client waits in TIME_WAIT.
    assert_eq!(steps.call(Call::ClientClose, b""), Outcome::Done);
    assert_eq!(steps.call(Call::ServerClose, b""), Outcome::Done);
    until(&mut steps, "both FINs on the wire", |s| {
        let log = s.wire().unwrap();
        let fins = |writer| {
            log.entries()
                .iter()
                .any(|e| e.kind == SegmentKind::Fin && e.from_writer == writer)
        };
        fins(true) && fins(false)
    });
    until(&mut steps, "the client in TIME_WAIT", |s| {
        s.client_view().state == Some(TcpState::TimeWait)
    });
    let data: u32 = steps
        .wire()
        .unwrap()
        .entries()
        .iter()
        .filter(|e| e.from_writer && e.kind == SegmentKind::Data)
        .map(|e| e.len)
        .sum();
    assert_eq!(data, 6, "the six bytes of 你好 on the wire");
}
