//! Helpers shared by the integration tests: they wait on the kernel's own
//! numbers with generous deadlines instead of sleeping for tuned times.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use sockscope::lab::{Sample, Session};

/// Generous: a busy 2-core machine may be slow, but a correct lab gets
/// there in well under a second.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Collects samples into `history` until `done(history)` holds; panics with
/// `what` if it never does.
pub fn collect_until(
    session: &Session,
    history: &mut Vec<Sample>,
    what: &str,
    mut done: impl FnMut(&[Sample]) -> bool,
) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if done(history) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        if let Ok(batch) = session.samples().recv_timeout(Duration::from_millis(100)) {
            assert_eq!(batch.session_id, session.id());
            history.extend(batch.samples);
        }
    }
}

/// Drains the channel of a finished session, returning the rest of its samples.
pub fn drain(session: &Session) -> Vec<Sample> {
    session
        .samples()
        .iter()
        .flat_map(|batch| batch.samples)
        .collect()
}

/// The last `n` samples hold the same value of `field` (a plateau).
pub fn level(history: &[Sample], n: usize, field: impl Fn(&Sample) -> u32) -> Option<u32> {
    if history.len() < n {
        return None;
    }
    let tail = &history[history.len() - n..];
    let value = field(&tail[0]);
    tail.iter().all(|s| field(s) == value).then_some(value)
}

/// A kernel limit from /proc/sys/net/core.
pub fn core_sysctl(name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/sys/net/core/{name}"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A loopback port that is free now and that no connection of a parallel
/// test can take before the caller binds it: the kernel hands out
/// ephemeral ports (to `connect()` and to binds of port 0) only from
/// `ip_local_port_range`, so this picks from below it. Each call in a
/// process tries a different one, starting at an offset from the process
/// id, so two tests (or two test binaries) do not pick the same.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768)
        .clamp(2048, 65535);
    // The 8192 ports below the ephemeral range (never the privileged ones).
    let base = low.saturating_sub(8192).max(1024);
    let span = low - base;
    let start = std::process::id() * 97;
    for _ in 0..span {
        let port = (base + (start + NEXT.fetch_add(1, Relaxed)) % span) as u16;
        if std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no free port below the ephemeral range {low}..");
}

/// Connects to a sockscope that is about to listen on `port`.
pub fn connect_when_listening(port: u16) -> std::net::TcpStream {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match std::net::TcpStream::connect((std::net::Ipv4Addr::LOCALHOST, port)) {
            Ok(stream) => return stream,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("sockscope never listened: {e}"),
        }
    }
}

/// The kernel's names of this process's threads (cut to 15 bytes, so
/// "sockscope-reader" reads "sockscope-reade").
pub fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .collect()
}

/// Threads whose kernel name is `name` (or its first 15 bytes).
pub fn threads_named(name: &str) -> usize {
    thread_names()
        .iter()
        .filter(|n| n.as_str() == &name[..name.len().min(15)])
        .count()
}

/// Polls `done` until it holds; panics with `what` (and the threads
/// running) if it never does.
pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for: {what} ({:?})",
            thread_names()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// This process's open file descriptors.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Small buffers and a paced 1 MiB/s writer in 4 KiB calls: the server
/// tests' clients, quick to fill and easy on two cores.
pub fn small_paced_config() -> sockscope::lab::LabConfig {
    use sockscope::lab::{LabConfig, Rate, Size};
    LabConfig {
        sndbuf: Some(Size(16 * 1024)),
        rcvbuf: Some(Size(16 * 1024)),
        write_rate: Rate::BytesPerSec(1 << 20),
        write_chunk: Size(4 * 1024),
        read_rate: Rate::Unlimited,
        read_chunk: Size(4 * 1024),
        sample_hz: 200,
        ..LabConfig::default()
    }
}

/// The sockscope program cargo built for these tests.
pub fn sockscope() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_sockscope"))
}

/// A fresh, empty folder for one test's files.
pub fn scratch(suite: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sockscope-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Panics with the program's stderr unless it exited 0.
pub fn assert_succeeded(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `record` with `args`, writing `run.csv` and `run.json` into `dir`;
/// panics with its stderr unless it exited 0. Returns the CSV's path.
pub fn record_csv_json(dir: &std::path::Path, args: &[&str]) -> std::path::PathBuf {
    let (csv, json) = (dir.join("run.csv"), dir.join("run.json"));
    let out = sockscope()
        .arg("record")
        .args(args)
        .arg("--csv")
        .arg(&csv)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_succeeded(&out);
    csv
}

/// Whether a pixel is the window's alarm red (255, 80, 70 in the dark
/// theme, as the GPU renders it): send() blocked, the link cut.
pub fn is_alarm_red(p: &image::Rgba<u8>) -> bool {
    p[0] > 220 && (60..110).contains(&p[1]) && (50..100).contains(&p[2])
}

/// How many pixels of an animation's frame are the alarm red.
pub fn alarm_red_pixels(frame: &image::Frame) -> usize {
    frame.buffer().pixels().filter(|p| is_alarm_red(p)).count()
}

/// Waits for `child` to exit within `limit`; kills it and fails the test
/// if it is still running then (a hang is a failure, never a stuck suite).
pub fn wait_at_most(
    mut child: std::process::Child,
    limit: Duration,
    what: &str,
) -> std::process::Output {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("poll the child").is_some() {
            return child
                .wait_with_output()
                .expect("collect the child's output");
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let out = child
                .wait_with_output()
                .expect("collect the child's output");
            panic!(
                "{what}: still running after {limit:?}; killed.\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Bytes a process holds in unnamed files (`O_TMPFILE`, or files removed
/// while open): an output being written before it is put in place.
pub fn unnamed_file_bytes(pid: u32) -> u64 {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    fds.filter_map(Result::ok)
        .filter(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|target| {
                let target = target.to_string_lossy();
                target.starts_with('/') && target.ends_with("(deleted)")
            })
        })
        .filter_map(|fd| std::fs::metadata(fd.path()).ok())
        .map(|meta| meta.len())
        .sum()
}

/// Sends `signal` ("-INT", "-TERM") to a process.
pub fn send_signal(pid: u32, signal: &str) {
    let kill = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success(), "kill {signal} {pid}");
}

/// The lines a child writes to its stderr, as they come; the child's
/// stderr must be piped. The whole text is kept for the final message.
pub fn stderr_lines(child: &mut std::process::Child) -> crossbeam_channel::Receiver<String> {
    use std::io::BufRead;
    let stderr = child.stderr.take().expect("stderr piped");
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::Builder::new()
        .name("test-stderr".into())
        .spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
        .expect("spawn the stderr reader");
    rx
}

/// Waits up to `DEADLINE` for a line containing `text`; false if the
/// process closed its stderr or the time ran out first.
pub fn wait_for_line(lines: &crossbeam_channel::Receiver<String>, text: &str) -> bool {
    let deadline = Instant::now() + DEADLINE;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(text) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// The names in `dir`, sorted: what a run left there.
pub fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
