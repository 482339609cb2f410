//! `sockscope connections`: every TCP socket on the machine, from the
//! kernel's sock_diag, checked against a connection this test opens.

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

fn connections(args: &[&str]) -> serde_json::Value {
    let out = common::sockscope()
        .arg("connections")
        .args(args)
        .output()
        .unwrap();
    common::assert_succeeded(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A reader that never reads: the bytes wait in its receive queue and, past
/// its window, in the writer's send queue. The table lists both ends, with
/// this process as their owner, and the queues hold every byte written.
#[test]
fn the_table_finds_a_connection_this_test_opened_with_its_queues() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (server, _) = listener.accept().unwrap();
    client.set_nonblocking(true).unwrap();
    let chunk = [7u8; 16 * 1024];
    let mut written = 0u64;
    // Write until the kernel takes no more: both queues full.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match client.write(&chunk) {
            Ok(n) => written += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
        assert!(Instant::now() < deadline);
    }
    let client_addr = client.local_addr().unwrap().to_string();
    let server_addr = server.local_addr().unwrap().to_string();
    let port_text = port.to_string();
    // Bytes still move from the send queue to the receive queue for a
    // moment (the window opens as the buffer autotunes): read until the two
    // add up to what was written.
    let (reader, writer) = loop {
        let table = connections(&["--json", "--port", &port_text]);
        let find = |local: &str| {
            table
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["local"] == local && c["state"] == "ESTABLISHED")
                .cloned()
        };
        if let (Some(reader), Some(writer)) = (find(&server_addr), find(&client_addr)) {
            let queued = reader["recv_q"].as_u64().unwrap() + writer["send_q"].as_u64().unwrap();
            if queued == written {
                break (reader, writer);
            }
        }
        assert!(
            Instant::now() < deadline,
            "the queues never held {written} bytes"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(reader["peer"], client_addr.as_str());
    assert!(reader["recv_q"].as_u64().unwrap() > 0);
    // The unread bytes take memory in the receive buffer, overhead and all.
    let memory = &reader["memory"];
    assert!(memory["rmem_alloc"].as_u64().unwrap() >= reader["recv_q"].as_u64().unwrap());
    assert!(memory["rcvbuf"].as_u64().unwrap() > 0);
    for end in [&reader, &writer] {
        assert_eq!(end["owner"]["pid"], std::process::id(), "{end}");
    }
    // The listener is there too, with its backlog as its send queue.
    let listening = connections(&["--json", "--port", &port_text, "--state", "listen"]);
    let listening = listening.as_array().unwrap();
    assert_eq!(listening.len(), 1, "{listening:?}");
    assert_eq!(listening[0]["send_q"], 128);
    // ss (an oracle no one here wrote) agrees on the reader's queue when
    // the queues have settled.
    let ss = Command::new("ss")
        .args(["-tnH", "state", "established", "src", &server_addr])
        .output()
        .expect("ss runs (Debian: iproute2)");
    let line = String::from_utf8_lossy(&ss.stdout);
    let recv_q: u64 = line.split_whitespace().next().unwrap().parse().unwrap();
    assert_eq!(recv_q, reader["recv_q"].as_u64().unwrap(), "ss: {line}");
    drop((client, server));
}

#[test]
fn a_bad_state_is_one_sentence_and_exit_2() {
    let out = common::sockscope()
        .args(["connections", "--state", "sleepy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not a TCP state"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

/// --address keeps the connections with that IP at either end.
#[test]
fn the_address_filter_keeps_only_that_ip_and_a_bad_one_is_exit_2() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    let rows = |address: &str| {
        connections(&["--json", "--port", &port, "--address", address])
            .as_array()
            .unwrap()
            .len()
    };
    // The listener and both ends of the connection.
    assert_eq!(rows("127.0.0.1"), 3);
    assert_eq!(rows("10.255.255.1"), 0);
    let out = common::sockscope()
        .args(["connections", "--address", "localhost:80"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not an IP address"), "{stderr}");
    drop((client, server));
}
