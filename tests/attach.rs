//! `record --attach`: another program's connection, read through
//! sock_diag. The programs here are the lesson's: two Python sockets whose
//! reader stops reading, and plain std sockets for the address checks.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

/// The Python pair (tests/python/stalled_pair.py), its stdin to step it
/// and its stdout lines.
struct PythonPair {
    child: Child,
    stdin: ChildStdin,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl PythonPair {
    fn start() -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/stalled_pair.py");
        let mut child = Command::new("python3")
            .arg("-u")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        PythonPair {
            child,
            stdin,
            lines,
        }
    }

    /// The next line the script prints, split into words.
    fn said(&mut self, first: &str) -> Vec<String> {
        let line = self.lines.next().expect("the script prints").unwrap();
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        assert_eq!(words.first().map(String::as_str), Some(first), "{line}");
        words
    }

    fn next_step(&mut self) {
        writeln!(self.stdin).unwrap();
    }
}

impl Drop for PythonPair {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ss`'s (Recv-Q, Send-Q) of the established socket whose local address
/// is `local`.
fn ss_queues(local: &str) -> (u64, u64) {
    let out = Command::new("ss")
        .args(["-tnH", "state", "established", "src", local])
        .output()
        .expect("ss runs (Debian: iproute2)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    let recv_q = words.next().unwrap_or_else(|| panic!("ss: {text}"));
    let send_q = words.next().unwrap();
    (recv_q.parse().unwrap(), send_q.parse().unwrap())
}

/// The CSV's rows as column name -> value.
fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            header
                .iter()
                .cloned()
                .zip(row.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn number(row: &HashMap<String, String>, column: &str) -> u64 {
    row[column]
        .parse::<f64>()
        .unwrap_or_else(|_| panic!("{column}: {}", row[column])) as u64
}

#[test]
fn attached_to_a_stalled_python_pair_the_queues_equal_ss_the_window_closes_and_the_close_ends_the_record()
 {
    let dir = common::scratch("attach", "python");
    let (csv, json) = (dir.join("run.csv"), dir.join("run.json"));
    let mut pair = PythonPair::start();
    let ready = pair.said("ready");
    let (client, server) = (
        format!("127.0.0.1:{}", ready[1]),
        format!("127.0.0.1:{}", ready[2]),
    );
    let mut record = common::sockscope()
        // The peer too: another program may hold a connection from the
        // same ephemeral port towards a different peer.
        .args([
            "record",
            "--attach",
            &client,
            "--peer",
            &server,
            "--duration",
            "120",
        ])
        .args(["--sample-hz", "1000"])
        .arg("--csv")
        .arg(&csv)
        .arg("--json")
        .arg(&json)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It names the connection once it follows it.
    let mut notes = BufReader::new(record.stderr.take().unwrap()).lines();
    let watching = notes.next().unwrap().unwrap();
    assert!(
        watching.contains(&format!("sender {client}")) && watching.contains(&server),
        "{watching}"
    );
    assert!(watching.contains("python3"), "the owner: {watching}");
    // The client sends until its kernel takes no more: the plateau.
    pair.next_step();
    let sent: u64 = pair.said("full")[1].parse().unwrap();
    let (_, ss_send_q) = ss_queues(&client);
    let (ss_recv_q, _) = ss_queues(&server);
    assert!(ss_recv_q > 0 && ss_send_q > 0, "{ss_recv_q} {ss_send_q}");
    // Both programs close their sockets: the record ends by itself.
    pair.next_step();
    pair.said("closed");
    let out = record.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("connection closed"), "{stdout}");

    let rows = rows(&csv);
    let last = rows.last().unwrap();
    assert_eq!(last["writer_state"], "closed", "the last row is the close");
    // The plateau: the last row before the client's close() queued its
    // FIN (a row can fall between that and its socket being let go).
    let open: Vec<_> = rows
        .iter()
        .filter(|r| r["writer_state"] != "closed" && r["writer_state"] != "finished")
        .collect();
    let plateau = open.last().unwrap();
    // The queues are the kernel's, as ss reads them, to the byte.
    assert_eq!(number(plateau, "sendq_bytes"), ss_send_q);
    assert_eq!(number(plateau, "recvq_bytes"), ss_recv_q);
    // Every byte the client's send() calls handed over is counted, and
    // the server's program read none.
    assert_eq!(number(plateau, "written_bytes"), sent);
    assert_eq!(number(plateau, "read_bytes"), 0);
    // The window closed, and the kernel memory explains why so early.
    assert_eq!(plateau["zero_window"], "1");
    // The client stopped when select() said its socket was not writable:
    // the kernel's rule that the row's writer_blocked applies.
    assert_eq!(plateau["writer_blocked"], "1");
    assert_eq!(number(plateau, "snd_wnd_bytes"), 0);
    assert!(
        number(plateau, "rmem_alloc_bytes") > number(plateau, "recvq_bytes"),
        "memory counts each segment's overhead"
    );
    assert!(number(plateau, "wmem_queued_bytes") >= number(plateau, "sendq_bytes"));

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(summary["integrity_ok"], serde_json::Value::Null);
    assert_eq!(summary["attached"]["followed"], client.as_str());
    assert_eq!(summary["attached"]["closed"], true);
    assert!(summary["zero_window_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(summary["bytes_written"], sent);
    // Watched from before the buffer filled: the close ended the stall.
    assert!(summary["stall_count"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(summary["attached"]["stalled_before_watch"], false);
}

/// Issue 29, item 5: watching begins after the client's send buffer filled.
/// The stall in progress is one stall, begun before the watch, counted
/// from the first sample to the last; and the server, whose full queue
/// never moves, is not drawn as reading.
#[test]
fn a_sender_blocked_before_watching_begins_is_a_stall_and_its_silent_reader_is_not_reading() {
    let dir = common::scratch("attach", "blocked-before");
    let (csv, json) = (dir.join("run.csv"), dir.join("run.json"));
    let mut pair = PythonPair::start();
    let ready = pair.said("ready");
    let (client, server) = (
        format!("127.0.0.1:{}", ready[1]),
        format!("127.0.0.1:{}", ready[2]),
    );
    pair.next_step();
    pair.said("full");
    // Watched for a while, the buffer full throughout: the record ends by
    // its duration, in the middle of the stall.
    let out = common::sockscope()
        .args([
            "record",
            "--attach",
            &client,
            "--peer",
            &server,
            "--duration",
            "2",
        ])
        .args(["--sample-hz", "1000"])
        .arg("--csv")
        .arg(&csv)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    common::assert_succeeded(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    pair.next_step();
    pair.said("closed");

    let rows = rows(&csv);
    assert!(
        rows.iter().all(|r| r["writer_blocked"] == "1"),
        "the buffer stays full"
    );
    let (first, last) = (&rows[0], rows.last().unwrap());
    let watched_ms = number(last, "t_ms") - number(first, "t_ms");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(summary["stall_count"], 1, "{summary}");
    let stall_ms = summary["stall_ms"].as_f64().unwrap();
    // From the first sample to the last: all that was seen of it.
    assert!(
        stall_ms > 0.0 && stall_ms + 1.0 >= watched_ms as f64,
        "{stall_ms} ms of {watched_ms} ms watched"
    );
    assert_eq!(summary["attached"]["stalled_before_watch"], true);
    assert_eq!(summary["attached"]["closed"], false);
    assert!(stdout.contains("writer stalls 1 ("), "{stdout}");
    // The server's queue is full and still: once it has stood still for
    // the span the read rate is measured over (500 ms), it is not reading.
    assert_eq!(number(last, "read_bytes"), 0);
    assert_eq!(last["zero_window"], "1");
    for row in rows.iter().filter(|r| number(r, "t_ms") >= 600) {
        assert_eq!(row["reader_state"], "not reading", "at {} ms", row["t_ms"]);
    }
    assert_eq!(last["reader_paused"], "0", "not the lab's pause");
}

#[test]
fn an_address_no_connection_uses_is_one_sentence_and_exit_2() {
    let dir = common::scratch("attach", "unused");
    let csv = dir.join("run.csv");
    // A port with nothing on it: bound and dropped.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = common::sockscope()
        .args(["record", "--duration", "1", "--attach"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "no TCP connection on this machine has the local address 127.0.0.1:{port}"
        )),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!csv.exists(), "nothing is written");
    // The window refuses it the same way, before it opens.
    let out = common::sockscope()
        .args(["--attach", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn several_connections_from_one_address_are_listed_and_peer_picks_one() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = listener.local_addr().unwrap();
    let clients: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(server).unwrap())
        .collect();
    let accepted: Vec<TcpStream> = (0..2).map(|_| listener.accept().unwrap().0).collect();
    // The two accepted sockets share the server's address.
    let out = common::sockscope()
        .args(["record", "--duration", "1", "--attach", &server.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 connections have the local address"),
        "{stderr}"
    );
    for client in &clients {
        let peer = client.local_addr().unwrap();
        assert!(stderr.contains(&format!("--peer {peer}")), "{stderr}");
    }
    // --peer picks one; it is followed until the time is up.
    let peer = clients[1].local_addr().unwrap();
    let out = common::sockscope()
        .args([
            "record",
            "--duration",
            "0.3",
            "--attach",
            &server.to_string(),
        ])
        .args(["--peer", &peer.to_string()])
        .output()
        .unwrap();
    common::assert_succeeded(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("another program's connection"), "{stdout}");
    // A peer that is not one of them is its own sentence.
    let out = common::sockscope()
        .args(["record", "--duration", "1", "--attach", &server.to_string()])
        .args(["--peer", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    drop((clients, accepted));
}

#[test]
fn attach_refuses_the_lab_settings_it_cannot_apply() {
    let out = common::sockscope()
        .args([
            "record",
            "--duration",
            "1",
            "--attach",
            "9",
            "--read-rate",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--attach"), "{stderr}");
}

const SERVER_SENDS: &str = r#"
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
c = socket.create_connection(s.getsockname())
a, _ = s.accept()
print("ready", s.getsockname()[1], flush=True)
sys.stdin.readline()
a.sendall(b"z" * 1000)
print("sent", flush=True)
sys.stdin.readline()
a.close()
c.close()
"#;

/// The end that sends may be the one a server accepted: an accepted
/// socket's kernel count starts after its SYN, a connecting one's holds
/// it. Watched from the server's side, 1000 bytes sent read 999 before.
#[test]
fn bytes_written_by_an_accepted_socket_are_counted_exactly() {
    let dir = common::scratch("attach", "accepted-sends");
    let json = dir.join("run.json");
    let mut python = Command::new("python3")
        .args(["-c", SERVER_SENDS])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut stdin = python.stdin.take().unwrap();
    let mut lines = BufReader::new(python.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    let port = ready.split_whitespace().nth(1).unwrap().to_string();
    let mut record = common::sockscope()
        .args([
            "record",
            "--attach",
            &format!("127.0.0.1:{port}"),
            "--duration",
            "3",
        ])
        .arg("--json")
        .arg(&json)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut notes = BufReader::new(record.stderr.take().unwrap()).lines();
    let watching = notes.next().unwrap().unwrap();
    assert!(watching.contains("watching"), "{watching}");
    writeln!(stdin, "send").unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), "sent");
    // The record ends by its duration, the bytes long acknowledged (the
    // client never reads: they wait in its receive queue); then the pair
    // closes.
    let out = common::wait_at_most(
        record,
        std::time::Duration::from_secs(60),
        "record for its duration",
    );
    assert_eq!(out.status.code(), Some(0));
    writeln!(stdin, "close").unwrap();
    let _ = python.wait();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(summary["bytes_written"], 1000, "{summary}");
}
