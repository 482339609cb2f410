//! `sockscope run -- COMMAND`: anyone's programs on a private link, as a
//! user runs them in two terminals. Real namespaces, real processes, the
//! lesson's kind of Python server and client; every wait is bounded.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(60);

fn run(args: &[&str]) -> Command {
    let mut command = common::sockscope();
    command.arg("run").args(args);
    command
}

/// The exit code of `sockscope run ARGS`, its stderr.
fn status_of(args: &[&str]) -> (Option<i32>, String) {
    let child = run(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = common::wait_at_most(child, DEADLINE, &format!("run {args:?}"));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A name of this test's own, so parallel tests never share a link.
fn name(test: &str) -> String {
    format!("t{}-{test}", std::process::id())
}

#[test]
fn the_commands_status_is_sockscopes_as_a_shell_gives_it() {
    let n = name("status");
    let named = |extra: &[&'static str]| {
        let mut args = vec!["--name", n.as_str(), "--"];
        args.extend_from_slice(extra);
        status_of(&args)
    };
    assert_eq!(named(&["sh", "-c", "exit 7"]).0, Some(7));
    assert_eq!(named(&["true"]).0, Some(0));
    let (code, stderr) = named(&["no-such-command-here"]);
    assert_eq!(code, Some(127), "{stderr}");
    assert!(stderr.contains("command not found"), "{stderr}");
    // A file without the execute bit.
    let dir = common::scratch("run", "status");
    let plain = dir.join("notes.txt");
    std::fs::write(&plain, "not a program\n").unwrap();
    let plain: &'static str = Box::leak(plain.to_str().unwrap().to_string().into_boxed_str());
    let (code, stderr) = named(&[plain]);
    assert_eq!(code, Some(126), "{stderr}");
    assert!(stderr.contains("cannot be run"), "{stderr}");
    // A signal N ends it: 128 + N.
    assert_eq!(named(&["sh", "-c", "kill -TERM $$"]).0, Some(143));
    // Bad flags: 2, before anything starts.
    let (code, stderr) = status_of(&["--link-rate", "fast", "--", "true"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.starts_with("sockscope: --link-rate:"), "{stderr}");
    let (code, stderr) = status_of(&["--name", "a/b", "--", "true"]);
    assert_eq!(code, Some(2), "{stderr}");
    let (code, stderr) = status_of(&[]);
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn join_with_no_link_of_that_name_is_one_sentence_and_exit_2() {
    let n = name("nobody");
    let (code, stderr) = status_of(&["--join", &n, "--", "true"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no sockscope run named"), "{stderr}");
}

/// Starts `sockscope run` of a Python program that prints lines, and
/// returns it with its stdout's lines.
fn start(args: &[&str]) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut child = run(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("test-stdout".into())
        .spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
        .unwrap();
    (child, rx)
}

fn line(lines: &std::sync::mpsc::Receiver<String>, what: &str) -> String {
    lines
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("no line: {what}"))
}

const SERVER: &str = r#"
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(5)
print("listening", flush=True)
c, _ = s.accept()
got, began = 0, None
while True:
    data = c.recv(65536)
    if not data:
        break
    if began is None:
        began = time.monotonic()
    got += len(data)
print("received", got, time.monotonic() - began, flush=True)
"#;

const CLIENT: &str = r#"
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"x" * 300000)
c.close()
print("sent", 300000, flush=True)
"#;

/// The lesson's server in one terminal, its client in another: the
/// client's bytes cross the link's bottleneck (100 KiB/s here, so 300 000
/// bytes take about 2.9 s), all of them arrive, and the machine's own
/// loopback does not reach the server.
#[test]
fn the_lessons_server_and_a_joined_client_talk_over_the_shaped_link() {
    let n = name("lesson");
    // A port free on the machine's loopback: the server takes it on the
    // link's.
    let port = common::free_port().to_string();
    let (mut server, server_lines) = start(&[
        "--name",
        &n,
        "--link-rate",
        "100K",
        "--",
        "python3",
        "-c",
        SERVER,
        &port,
    ]);
    assert_eq!(line(&server_lines, "the server listens"), "listening");
    // The server is on the link's own lo, not the machine's.
    let outside = std::net::TcpStream::connect(format!("127.0.0.1:{port}"));
    assert!(
        outside.is_err(),
        "the machine's loopback reached the link's server"
    );
    let (client, client_lines) = start(&["--join", &n, "--", "python3", "-c", CLIENT, &port]);
    assert_eq!(line(&client_lines, "the client sent"), "sent 300000");
    let out = common::wait_at_most(client, DEADLINE, "the joined client");
    assert_eq!(out.status.code(), Some(0));
    let received = line(&server_lines, "the server received");
    let mut words = received.split_whitespace().skip(1);
    let bytes: u64 = words.next().unwrap().parse().unwrap();
    let secs: f64 = words.next().unwrap().parse().unwrap();
    assert_eq!(bytes, 300_000, "every byte arrived");
    // A token bucket of 100 KiB/s lets a burst through at once, then the
    // rate: far more than the 0.1 s the machine's loopback would take.
    assert!(
        secs > 1.5,
        "300 000 bytes in {secs} s: was the link shaped?"
    );
    let _ = server.wait();
    // The link is gone with its run: joining it now is refused.
    let (code, _) = status_of(&["--join", &n, "--", "true"]);
    assert_eq!(code, Some(2));
}

/// Whether any process's command line holds `marker`.
fn running(marker: &str) -> bool {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .any(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(marker))
        })
}

fn wait_gone(marker: &str) {
    let start = Instant::now();
    while running(marker) {
        assert!(
            start.elapsed() < DEADLINE,
            "a process holding {marker} is still running"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the command leaves running on the link ends with it; and `kill
/// -9` of sockscope ends the command and everything it started.
#[test]
fn nothing_is_left_running_when_the_command_ends_or_sockscope_is_killed() {
    let n = name("leftovers");
    // `sleep` with a unique length, to find it in /proc.
    let left = format!("{}.5", 9000 + std::process::id() % 1000);
    let script = format!("sleep {left} & echo started; exit 0");
    let (code, stderr) = status_of(&["--name", &n, "--", "sh", "-c", &script]);
    assert_eq!(code, Some(0), "{stderr}");
    wait_gone(&format!("sleep {left}"));

    let held = format!("{}.25", 9000 + std::process::id() % 1000);
    let script = format!("sleep {held} & sleep {held}");
    let (mut child, _) = start(&["--name", &n, "--", "sh", "-c", &script]);
    let started = Instant::now();
    while !running(&format!("sleep {held}")) {
        assert!(started.elapsed() < DEADLINE, "the command never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    common::send_signal(child.id(), "-KILL");
    let _ = child.wait();
    wait_gone(&format!("sleep {held}"));
}

/// Ctrl-C is the command's, as in a shell: the terminal sends SIGINT to
/// the whole foreground group; the command ends by it and sockscope, which
/// stays, ends with its status (130).
#[test]
fn ctrl_c_reaches_the_command_and_sockscope_passes_its_status_on() {
    use std::os::unix::process::CommandExt;
    let n = name("ctrl-c");
    let mut child = run(&["--name", &n, "--", "sh", "-c", "echo ready; exec sleep 60"])
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");
    // The whole group, as the terminal's Ctrl-C does.
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = common::wait_at_most(child, DEADLINE, "run after Ctrl-C");
    assert_eq!(out.status.code(), Some(130));
}

#[test]
fn a_second_run_under_a_name_in_use_is_refused() {
    let n = name("taken");
    let (mut first, lines) = start(&["--name", &n, "--", "sh", "-c", "echo up; exec sleep 60"]);
    assert_eq!(line(&lines, "the first run"), "up");
    let (code, stderr) = status_of(&["--name", &n, "--", "true"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("already running"), "{stderr}");
    let _ = first.kill();
    let _ = first.wait();
}

/// A signal sent to sockscope alone (`kill PID`, a service manager) goes
/// on to the command, as a shell passes it to its foreground job: a
/// command that catches SIGTERM decides its own status, and sockscope ends
/// with it.
#[test]
fn a_signal_sent_to_sockscope_goes_on_to_the_command() {
    let n = name("forward");
    let catcher = r#"
import signal, sys, time
def bye(signal_number, frame):
    print("caught", signal_number, flush=True)
    sys.exit(5)
signal.signal(signal.SIGTERM, bye)
signal.signal(signal.SIGHUP, bye)
print("ready", flush=True)
time.sleep(60)
"#;
    for signal in ["-TERM", "-HUP"] {
        let (child, lines) = start(&["--name", &n, "--", "python3", "-c", catcher]);
        assert_eq!(line(&lines, "the catcher starts"), "ready");
        common::send_signal(child.id(), signal);
        assert!(line(&lines, "the catcher's word").starts_with("caught"));
        let out = common::wait_at_most(child, DEADLINE, "run after a signal");
        assert_eq!(out.status.code(), Some(5), "{signal}");
    }
}

/// Where the system refuses unprivileged user namespaces, one sentence
/// names the setting and how to allow it, and the command never runs
/// (never off the link). Made here inside a user namespace whose limit
/// for nested ones is set to 0.
#[test]
fn refused_namespaces_name_the_setting_and_the_command_never_runs() {
    let dir = common::scratch("run", "refused");
    let marker = dir.join("ran");
    let script = format!(
        "echo 0 > /proc/sys/user/max_user_namespaces && exec '{}' run -- touch '{}'",
        env!("CARGO_BIN_EXE_sockscope"),
        marker.display()
    );
    let child = Command::new("unshare")
        .args(["-Ur", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare (util-linux)");
    let out = common::wait_at_most(child, DEADLINE, "run with namespaces refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("user.max_user_namespaces = 0")
            && stderr.contains("sysctl user.max_user_namespaces="),
        "{stderr}"
    );
    assert!(!marker.exists(), "the command ran off the link");
}

/// The lesson's server, told how many bytes to take and to answer with:
/// it reads them, answers, waits for the client's end and says what it
/// counted.
const COUNTING_SERVER: &str = r#"
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9090))
s.listen(5)
print("listening", flush=True)
c, _ = s.accept()
want, got = int(sys.argv[1]), 0
while got < want:
    data = c.recv(65536)
    if not data:
        break
    got += len(data)
reply = b"y" * int(sys.argv[2])
c.sendall(reply)
while c.recv(65536):
    pass
c.close()
print("server received", got, "sent", len(reply), flush=True)
"#;

/// Its client: connects once the server listens (a refused connect is
/// tried again, for at most 30 s), sends, takes the answer, closes.
const COUNTING_CLIENT: &str = r#"
import socket, sys, time
deadline = time.monotonic() + 30
while True:
    try:
        c = socket.create_connection(("127.0.0.1", 9090))
        break
    except ConnectionRefusedError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.01)
c.sendall(b"x" * int(sys.argv[1]))
want, got = int(sys.argv[2]), 0
while got < want:
    data = c.recv(65536)
    if not data:
        break
    got += len(data)
c.close()
print("client sent", sys.argv[1], "received", got, flush=True)
"#;

/// `run --out DIR -- COMMAND` with a command that ends on its own: its
/// exit code, stdout and stderr.
fn run_out(args: &[&str]) -> (Option<i32>, String, String) {
    let child = run(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = common::wait_at_most(child, DEADLINE, &format!("run {args:?}"));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A server and its client in one `sockscope run --out`: their connection
/// is recorded with the bytes each program counted, each way, run.json
/// has the command's status, and the CSV plays back as `open` reads it.
#[test]
fn out_records_each_connection_with_the_bytes_the_programs_counted() {
    let dir = common::scratch("run", "out");
    std::fs::write(dir.join("server.py"), COUNTING_SERVER).unwrap();
    std::fs::write(dir.join("client.py"), COUNTING_CLIENT).unwrap();
    let out = dir.join("recorded");
    let (sent, answered) = (300_000u64, 5_000u64);
    // The link's delay keeps each end's last counts in view for a
    // round trip while the connection closes.
    let script = format!(
        "python3 '{}' {sent} {answered} & python3 '{}' {sent} {answered}; wait; exit 3",
        dir.join("server.py").display(),
        dir.join("client.py").display()
    );
    let (code, stdout, stderr) = run_out(&[
        "--name",
        &name("out"),
        "--link-rate",
        "200K",
        "--link-delay",
        "50",
        "--out",
        out.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        &script,
    ]);
    assert_eq!(code, Some(3), "the command's status: {stderr}");
    assert!(
        stdout.contains(&format!("client sent {sent} received {answered}"))
            && stdout.contains(&format!("server received {sent} sent {answered}")),
        "{stdout}"
    );
    assert!(
        stderr.trim_end().ends_with(&format!(
            "wrote run.json and connection-1.csv, .json in {}",
            out.display()
        )),
        "{stderr}"
    );

    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["exit_status"], 3);
    assert_eq!(run["command"][0], "sh");
    assert_eq!(run["link"]["delay_ms"], 50);
    let connections = run["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 1, "{run:#}");
    let connection = &connections[0];
    assert_eq!(connection["bytes_client_to_server"], sent, "{run:#}");
    assert_eq!(connection["bytes_server_to_client"], answered, "{run:#}");
    assert_eq!(connection["server"]["address"], "127.0.0.1:9090");
    assert_eq!(connection["client"]["program"], "python3", "{run:#}");
    assert_eq!(connection["server"]["program"], "python3", "{run:#}");
    assert_eq!(connection["csv"], "connection-1.csv");

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("connection-1.json")).unwrap())
            .unwrap();
    assert_eq!(summary["bytes_written"], sent, "{summary:#}");
    assert_eq!(summary["bytes_read"], sent, "{summary:#}");
    assert_eq!(summary["reader"], "127.0.0.1:9090");
    assert_eq!(summary["outside_peer"], false);

    // What `sockscope open DIR/connection-1.csv` reads.
    let recording =
        sockscope::export::recording::Recording::open(&out.join("connection-1.csv"), &mut |_| {})
            .unwrap();
    assert!(recording.has_summary);
    assert!(recording.rows > 10, "{} rows", recording.rows);
    assert_eq!(recording.timeline.last().unwrap().written, sent);
    assert_eq!(
        recording.info.link.map(|link| link.delay_ms),
        Some(50),
        "the link's settings come from the JSON beside it"
    );
    // Nothing else: no temporary file left behind.
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["connection-1.csv", "connection-1.json", "run.json"]);
}

/// A folder that cannot take the files is one sentence and exit 2, and
/// the command never runs.
#[test]
fn a_bad_out_is_exit_2_and_the_command_never_runs() {
    let dir = common::scratch("run", "bad-out");
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let marker = dir.join("ran");
    let touch = format!("touch '{}'", marker.display());
    for out in [file.clone(), file.join("inside")] {
        let (code, _, stderr) = run_out(&[
            "--name",
            &name("bad-out"),
            "--out",
            out.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            &touch,
        ]);
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("sockscope: run --out: "), "{stderr}");
        assert!(!stderr.contains("os error"), "{stderr}");
        assert!(!marker.exists(), "the command ran");
    }
}

/// Ctrl-C ends the command, and the run's files are still written whole,
/// with the status it ended with (sockscope's too).
#[test]
fn ctrl_c_with_out_still_writes_the_run_whole() {
    use std::os::unix::process::CommandExt;
    let out = common::scratch("run", "ctrl-c-out").join("recorded");
    let mut child = run(&[
        "--name",
        &name("ctrl-c-out"),
        "--out",
        out.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "echo ready; exec sleep 60",
    ])
    .process_group(0)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let done = common::wait_at_most(child, DEADLINE, "run --out after Ctrl-C");
    assert_eq!(done.status.code(), Some(130));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["exit_status"], 130);
    assert_eq!(run["connections"].as_array().unwrap().len(), 0);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "only run.json");
}

/// The lesson's way: the server in one terminal with `--out`, the client
/// in another with `--join`. The run that made the link records every
/// connection on it, the joined command's too.
#[test]
fn out_records_a_joined_clients_connection() {
    let dir = common::scratch("run", "out-join");
    let server = dir.join("server.py");
    let client = dir.join("client.py");
    std::fs::write(&server, COUNTING_SERVER).unwrap();
    std::fs::write(&client, COUNTING_CLIENT).unwrap();
    let out = dir.join("recorded");
    let n = name("out-join");
    let (sent, answered) = ("120000", "777");
    let (first, server_lines) = start(&[
        "--name",
        &n,
        "--link-delay",
        "50",
        "--out",
        out.to_str().unwrap(),
        "--",
        "python3",
        server.to_str().unwrap(),
        sent,
        answered,
    ]);
    // A failed assertion ends the server's run too, and with it the link.
    let mut reap = KillOnDrop(Some(first.id()));
    assert_eq!(line(&server_lines, "the server listens"), "listening");
    let (joined, client_lines) = start(&[
        "--join",
        &n,
        "--",
        "python3",
        client.to_str().unwrap(),
        sent,
        answered,
    ]);
    assert_eq!(
        line(&client_lines, "the client's count"),
        format!("client sent {sent} received {answered}")
    );
    assert_eq!(
        line(&server_lines, "the server's count"),
        format!("server received {sent} sent {answered}")
    );
    assert_eq!(
        common::wait_at_most(joined, DEADLINE, "the joined client")
            .status
            .code(),
        Some(0)
    );
    let done = common::wait_at_most(first, DEADLINE, "the server's run");
    reap.0 = None;
    assert_eq!(done.status.code(), Some(0));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let connections = run["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 1, "{run:#}");
    assert_eq!(
        connections[0]["bytes_client_to_server"].to_string(),
        sent,
        "{run:#}"
    );
    assert_eq!(
        connections[0]["bytes_server_to_client"].to_string(),
        answered,
        "{run:#}"
    );
    assert!(out.join("connection-1.csv").is_file());
    // --out belongs to the run that makes the link.
    let (code, stderr) = status_of(&["--join", &n, "--out", out.to_str().unwrap(), "--", "true"]);
    assert_eq!(code, Some(2), "{stderr}");
}

/// Kills the process it holds (its sockscope, and so everything on its
/// link) unless told it ended: a test that fails leaves nothing running.
struct KillOnDrop(Option<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            // No assertion here: this may run while a test's panic unwinds.
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}
