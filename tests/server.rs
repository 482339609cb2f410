//! The thread-per-client server on real loopback sockets. One test on
//! purpose: it counts the process's threads and descriptors, which another
//! test running beside it in this process would disturb.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{DEADLINE, fd_count, thread_names, threads_named, wait_for};
use sockscope::lab::server::{MAX_CLIENTS, Server, ServerError};
use sockscope::lab::{Fault, Rate};

const KIB: u64 = 1024;

/// Pumps the server until `done` holds; panics with `what` if it never does.
fn pump_until(server: &mut Server, what: &str, mut done: impl FnMut(&Server) -> bool) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        server.pump();
        if done(server) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn read_by(server: &Server, number: usize) -> u64 {
    server
        .clients()
        .iter()
        .find(|c| c.number == number)
        .and_then(|c| c.latest())
        .map_or(0, |s| s.read)
}

#[test]
fn every_client_has_its_own_server_thread_and_its_own_throttle() {
    let threads_before = thread_names().len();
    let fds_before = fd_count();
    let config = common::small_paced_config();
    let mut server = Server::start(config, None).unwrap();
    assert!(server.addr().ip().is_loopback());
    // A new thread names itself once it runs: wait for the names.
    wait_for("the accept() thread", || {
        threads_named("sockscope-accept") == 1
    });

    // Something else connecting to the port is not mistaken for a client.
    let stranger = TcpStream::connect(server.addr()).unwrap();
    for expected in 1..=MAX_CLIENTS {
        assert_eq!(server.add_client().unwrap(), expected);
    }
    drop(stranger);
    assert!(matches!(server.add_client(), Err(ServerError::Full)));

    // One server thread per client, all accepted on the one listening port,
    // each from its own client port.
    wait_for("a server thread per client", || {
        threads_named("sockscope-reader") == MAX_CLIENTS
    });
    let mut client_ports: Vec<u16> = server
        .clients()
        .iter()
        .map(|c| {
            assert_eq!(c.session.info().reader_addr, server.addr());
            c.session.info().writer_addr.port()
        })
        .collect();
    client_ports.sort_unstable();
    client_ports.dedup();
    assert_eq!(client_ports.len(), MAX_CLIENTS);

    // Pause client 1's server thread: its buffers fill and its send()
    // blocks, while client 2 goes on being served.
    server.set_read_rate(1, Rate::Paused);
    pump_until(&mut server, "client 1's writer blocked", |s| {
        s.clients()[0]
            .latest()
            .is_some_and(|l| l.reader_paused() && l.writer_blocked() && l.recv_queue > 0)
    });
    let read_1 = read_by(&server, 1);
    let read_2 = read_by(&server, 2);
    pump_until(&mut server, "client 2 read 64 KiB more", |s| {
        read_by(s, 2) > read_2 + 64 * KIB
    });
    assert_eq!(
        read_by(&server, 1),
        read_1,
        "a paused server thread read something"
    );
    let (_, rate_2) = server.clients()[1].rates();
    assert!(rate_2 > 0.0, "client 2's read rate reads {rate_2}");

    // The last client leaves: its server thread reads up to recv() == 0.
    let gone = server.remove_last().unwrap();
    assert_eq!(gone.number, MAX_CLIENTS);
    assert!(gone.report.drained, "{:?}", gone.report);
    assert_eq!(server.clients().len(), MAX_CLIENTS - 1);
    // Numbers are not reused.
    assert_eq!(server.add_client().unwrap(), MAX_CLIENTS + 1);

    // A client whose server thread fails leaves the grid by itself, and
    // says why.
    server.clients()[1]
        .session
        .inject_fault(Fault::ReaderPanics);
    pump_until(&mut server, "client 2 leaving", |s| {
        s.clients().iter().all(|c| c.number != 2)
    });
    let departures = server.departures();
    assert_eq!(departures.len(), 1);
    assert_eq!(departures[0].number, 2);
    assert!(
        departures[0]
            .report
            .errors
            .iter()
            .any(|e| e.to_string().contains("the reader thread panicked")),
        "{:?}",
        departures[0].report
    );

    // A connection from some other program is closed, not kept.
    let mut stranger = TcpStream::connect(server.addr()).unwrap();
    stranger
        .set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let deadline = Instant::now() + DEADLINE;
    loop {
        server.pump();
        let mut byte = [0u8; 1];
        match stranger.read(&mut byte) {
            Ok(0) => break,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            _ => assert!(Instant::now() < deadline, "the stranger was kept"),
        }
    }
    drop(stranger);

    server.set_read_rate(1, Rate::Unlimited);
    for departure in server.shutdown() {
        let report = &departure.report;
        assert!(
            report.integrity_ok() && report.errors.is_empty(),
            "client {}: {report:?}",
            departure.number
        );
        if departure.number == 1 {
            // Resumed for the end: what filled its buffers was read.
            assert!(report.bytes_read > read_1, "{report:?}");
        }
    }

    // Nothing left behind: every thread joined, every socket closed.
    wait_for("the starting thread and descriptor counts", || {
        thread_names().len() == threads_before && fd_count() == fds_before
    });
}
