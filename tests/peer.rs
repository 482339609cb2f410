//! `record --listen` and `--connect` with a real outside peer: a plain
//! TcpStream / TcpListener in the test plays nc or the lesson's Python
//! script. The one local socket sends and receives; nothing is verified;
//! the peer closing is reported as it happens and the run still ends with
//! its summary.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::process::Command;

use common::{connect_when_listening, free_port};
use std::time::Duration;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sockscope-peer-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `sockscope record --duration 2 --listen PORT --json SUMMARY ARGS…` on a
/// thread of its own; join it for the output once the client is done.
fn record_listening(
    port: u16,
    summary: &std::path::Path,
    args: &[&str],
) -> std::thread::JoinHandle<std::process::Output> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockscope"));
    command
        .args(["record", "--duration", "2", "--listen", &port.to_string()])
        .args(args)
        .arg("--json")
        .arg(summary);
    std::thread::Builder::new()
        .name("record".into())
        .spawn(move || command.output().unwrap())
        .unwrap()
}

#[test]
fn listen_records_an_outside_client_and_reports_its_close() {
    let dir = scratch("listen");
    let summary = dir.join("run.json");
    let port = free_port();
    let record = record_listening(
        port,
        &summary,
        &["--write-rate", "64K", "--write-chunk", "1K"],
    );
    // The outside client: connect once sockscope listens, send 你好 a
    // hundred times (6 bytes in UTF-8 each), read a little, close.
    let mut client = connect_when_listening(port);
    let message = "你好".repeat(100);
    client.write_all(message.as_bytes()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut first = [0u8; 1024];
    let got = client.read(&mut first).unwrap();
    assert!(got > 0, "sockscope's writer sends to the client");
    // FIN first, so sockscope's recv() sees the end of the stream before
    // the reset that closing with unread bytes sends.
    client.shutdown(std::net::Shutdown::Write).unwrap();
    drop(client);
    let out = record.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!("waiting for one client on 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(
        stdout.contains("peer closed: recv() returned 0 bytes"),
        "{stdout}"
    );
    assert!(stdout.contains("not verified: an outside peer"), "{stdout}");
    let summary = json(&summary);
    assert_eq!(summary["integrity_ok"], serde_json::Value::Null);
    assert_eq!(summary["bytes_read"], 600);
    assert!(summary["bytes_written"].as_u64().unwrap() >= got as u64);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The README's promise: the peer's close ends a `--listen` run with its
/// summary, long before its duration.
#[test]
fn a_peer_closing_ends_a_listen_run_before_its_duration() {
    let dir = scratch("peer-ends");
    let summary = dir.join("run.json");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(["record", "--duration", "120", "--listen", &port.to_string()])
        .args(["--write-rate", "0", "--json"])
        .arg(&summary)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut client = connect_when_listening(port);
    client.write_all(b"hello").unwrap();
    drop(client);
    let out = common::wait_at_most(
        child,
        Duration::from_secs(60),
        "a --listen run whose peer closed",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("peer at"), "{stdout}");
    let summary = json(&summary);
    assert_eq!(summary["bytes_read"], 5);
    assert_eq!(summary["interrupted"], false);
    assert!(
        summary["elapsed_s"].as_f64().unwrap() < 60.0,
        "ended by the close, not by its 120 s: {summary}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn connect_records_an_outside_server_and_write_rate_0_sends_nothing() {
    let dir = scratch("connect");
    let summary = dir.join("run.json");
    let server = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = server.local_addr().unwrap().port();
    let peer = std::thread::Builder::new()
        .name("outside-server".into())
        .spawn(move || {
            let (mut stream, _) = server.accept().unwrap();
            stream.write_all(&[7u8; 5000]).unwrap();
            // Anything sockscope sends would arrive here; it sends nothing.
            stream
                .set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let mut buf = [0u8; 64];
            let received = stream.read(&mut buf).unwrap_or(0);
            drop(stream);
            received
        })
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args([
            "record",
            "--duration",
            "2",
            "--write-rate",
            "0",
            "--connect",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--json")
        .arg(&summary)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(peer.join().unwrap(), 0, "--write-rate 0 sends nothing");
    assert!(stdout.contains("peer closed"), "{stdout}");
    let summary = json(&summary);
    assert_eq!(summary["integrity_ok"], serde_json::Value::Null);
    assert_eq!(summary["bytes_read"], 5000);
    assert_eq!(summary["bytes_written"], 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_peer_address_exits_2_and_a_refused_connect_exits_1() {
    let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(["record", "--duration", "1", "--connect", "no such host"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--connect") && stderr.contains("ADDR:PORT"),
        "{stderr}"
    );
    // Nobody listens on a port just freed: connect() is refused.
    let port = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(["record", "--duration", "1", "--connect", &port.to_string()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("connect"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn ctrl_c_while_waiting_for_a_client_stops_the_wait_exits_130_and_writes_nothing() {
    let dir = scratch("interrupt");
    let summary = dir.join("run.json");
    // The probe below binds the port for a moment, which can make
    // sockscope's own bind fail: then it says so and exits, and another
    // port is tried.
    let child = (0..5)
        .find_map(|_| {
            let port = free_port();
            let mut child = Command::new(env!("CARGO_BIN_EXE_sockscope"))
                .args(["record", "--duration", "5", "--listen", &port.to_string()])
                .arg("--json")
                .arg(&summary)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            // Wait until it listens (the port is taken), without connecting.
            let deadline = std::time::Instant::now() + common::DEADLINE;
            while TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
                if child.try_wait().unwrap().is_some() {
                    return None;
                }
                assert!(std::time::Instant::now() < deadline, "never listened");
                std::thread::sleep(Duration::from_millis(20));
            }
            Some(child)
        })
        .expect("a free port in five tries");
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("Ctrl-C"), "{stderr}");
    assert_eq!(stderr.matches("sockscope: ").count(), 2, "{stderr}");
    assert!(!summary.exists(), "no half-written summary");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The lesson's one-shot server, call for call: accept(), recv(1024),
/// send() a reply, close(). sockscope sends more than 1024 bytes, so the
/// server closes with bytes unread and its kernel answers with RST.
fn lesson_server() -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::Builder::new()
        .name("lesson-server".into())
        .spawn(move || {
            let (mut client, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = client.read(&mut buf);
            let _ = client.write_all("问题正在处理中...".as_bytes());
            drop(client);
        })
        .unwrap();
    (port, server)
}

#[test]
fn the_lessons_one_shot_server_resetting_is_the_peer_leaving_not_a_failure() {
    // The reset reaches the writer's send() or the reader's recv() first,
    // by a race: every order must read the same.
    for round in 0..5 {
        let (port, server) = lesson_server();
        let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
            .args(["record", "--duration", "2", "--connect", &port.to_string()])
            .output()
            .unwrap();
        server.join().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}: {stdout}{stderr}"
        );
        assert!(!stdout.contains("error:"), "round {round}: {stdout}");
        let peer_lines: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("peer at"))
            .collect();
        assert_eq!(
            peer_lines.len(),
            1,
            "round {round}: one line says it: {stdout}"
        );
        assert!(
            peer_lines[0].contains("RST") || peer_lines[0].contains("recv() returned 0"),
            "round {round}: {stdout}"
        );
        assert!(stdout.contains("not verified: an outside peer"), "{stdout}");
    }
}

#[test]
fn a_lesson_client_that_closes_with_bytes_unread_is_the_peer_leaving_too() {
    for round in 0..3 {
        let dir = scratch(&format!("lesson-client-{round}"));
        let summary = dir.join("run.json");
        let port = free_port();
        let record = record_listening(port, &summary, &[]);
        // The lesson's client: connect, send, recv(1024), close.
        let mut client = connect_when_listening(port);
        client.write_all("你好".as_bytes()).unwrap();
        let mut buf = [0u8; 1024];
        let _ = client.read(&mut buf);
        drop(client);
        let out = record.join().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}: {stdout}{stderr}"
        );
        assert_eq!(
            stdout.lines().filter(|l| l.starts_with("peer at")).count(),
            1,
            "round {round}: {stdout}"
        );
        assert_eq!(json(&summary)["errors"], serde_json::json!([]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
