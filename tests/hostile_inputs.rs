//! Files that are not what a user should have named: a FIFO, a device, a
//! folder, a line without end, numbers no column holds. `open FILE` and
//! `record --scenario FILE` refuse each in one sentence with exit 2, at
//! once, without eating memory, and leave no file behind.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sockscope::export::csv::to_csv_bytes;
use sockscope::lab::{Sample, WriterState};

/// Far above the second a refusal takes on a loaded machine; only a hang
/// reaches it.
const DEADLINE: Duration = Duration::from_secs(20);
/// Far above what a refusal needs (the program's own few MiB): only a
/// reader that keeps what it reads reaches it.
const MEMORY_CAP_BYTES: u64 = 1 << 30;

struct Outcome {
    code: Option<i32>,
    stderr: String,
    stdout: String,
}

/// Runs `command`, killing it (and failing) if it is still running after
/// `DEADLINE` or holds more than `MEMORY_CAP_BYTES`.
fn run_bounded(mut command: Command) -> Outcome {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sockscope");
    let drain = |name: &str, mut pipe: Box<dyn Read + Send>| {
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
            .unwrap()
    };
    let stdout = drain("test-stdout", Box::new(child.stdout.take().unwrap()));
    let stderr = drain("test-stderr", Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let resident = resident_bytes(child.id());
        if started.elapsed() > DEADLINE || resident > MEMORY_CAP_BYTES {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{command:?} still ran after {:.1} s holding {} MiB: it should have refused its input at once",
                started.elapsed().as_secs_f64(),
                resident >> 20
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        code: status.code(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// A process's resident memory, from /proc; 0 once it is gone.
fn resident_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Exit 2, one line on stderr holding `says`, no panic, nothing on stdout.
fn assert_refused(out: &Outcome, says: &str) {
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert_eq!(
        out.stderr.trim_end().lines().count(),
        1,
        "one line: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(says),
        "{} should say {says}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", out.stdout);
}

use common::files_in;

/// coreutils' mkfifo: nix's needs its "fs" feature, which nothing else here does.
fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {path:?}");
}

/// `sockscope open FILE` in `dir`, the window told to quit after 2 s (it
/// should never open).
fn open(dir: &Path, file: &Path, extra: &[&str]) -> Outcome {
    let mut command = common::sockscope();
    command
        .current_dir(dir)
        .arg("open")
        .arg(file)
        .args(["--quit-after", "2"])
        .args(extra);
    run_bounded(command)
}

/// A small recording, as `record --csv` writes it.
fn recording_text() -> String {
    let samples: Vec<Sample> = (0..20u64)
        .map(|i| Sample {
            t_ns: i * 5_000_000,
            send_queue: (i * 1000) as u32,
            recv_queue: (i * 500) as u32,
            written: i * 4096,
            read: i * 2048,
            writer_state: WriterState::Sending,
            ..Sample::default()
        })
        .collect();
    String::from_utf8(to_csv_bytes(&samples).unwrap()).unwrap()
}

/// The recording with data row `row`'s `column` set to `value`.
fn with_field(row: usize, column: &str, value: &str) -> String {
    let text = recording_text();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let at = lines[0].split(',').position(|c| c == column).unwrap();
    let mut fields: Vec<&str> = lines[row + 1].split(',').collect();
    fields[at] = value;
    lines[row + 1] = fields.join(",");
    lines.join("\n") + "\n"
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("hostile", name)
}

#[test]
fn open_refuses_a_fifo_at_once() {
    let dir = scratch("fifo");
    let csv = dir.join("run.csv");
    mkfifo(&csv);
    let out = open(&dir, &csv, &[]);
    assert_refused(
        &out,
        "run.csv: it is a FIFO (named pipe), not a regular file; give a recording (the CSV file `record --csv` writes).",
    );
    assert_eq!(files_in(&dir), ["run.csv"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn open_refuses_a_device_and_a_folder_unread() {
    let dir = scratch("device");
    let out = open(&dir, Path::new("/dev/zero"), &[]);
    assert_refused(
        &out,
        "/dev/zero: it is a character device, not a regular file; give a recording",
    );
    let folder = dir.join("run.csv");
    std::fs::create_dir(&folder).unwrap();
    let out = open(&dir, &folder, &[]);
    assert_refused(&out, "run.csv: it is a folder, not a regular file");
    assert_eq!(files_in(&dir), ["run.csv"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn open_refuses_a_summary_or_a_capture_that_is_a_fifo() {
    let dir = scratch("beside");
    let csv = dir.join("run.csv");
    std::fs::write(&csv, recording_text()).unwrap();
    // The summary names a capture that is a FIFO.
    std::fs::write(
        dir.join("run.json"),
        r#"{"capture": {"pcap": "run.pcap", "clock_zero_unix_ns": 1}}"#,
    )
    .unwrap();
    mkfifo(&dir.join("run.pcap"));
    let out = open(&dir, &csv, &[]);
    assert_refused(
        &out,
        "run.pcap: it is a FIFO (named pipe), not a regular file; give a capture (the pcap file `record --pcap` writes).",
    );
    // Its capture named as a device.
    std::fs::write(
        dir.join("run.json"),
        r#"{"capture": {"pcap": "/dev/zero", "clock_zero_unix_ns": 1}}"#,
    )
    .unwrap();
    let out = open(&dir, &csv, &[]);
    assert_refused(&out, "/dev/zero: it is a character device");
    // The summary itself a FIFO.
    std::fs::remove_file(dir.join("run.json")).unwrap();
    mkfifo(&dir.join("run.json"));
    let out = open(&dir, &csv, &[]);
    assert_refused(
        &out,
        "run.json: it is a FIFO (named pipe), not a regular file; give a summary",
    );
    assert_eq!(files_in(&dir), ["run.csv", "run.json", "run.pcap"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn open_refuses_values_no_column_holds() {
    let dir = scratch("values");
    let csv = dir.join("run.csv");
    let cases = [
        (
            "sendq_bytes",
            "99999999999999999999999",
            "line 4: sendq_bytes is '99999999999999999999999', not a whole number from 0 to 4294967295.",
        ),
        (
            "sendq_bytes",
            "5000000000",
            "line 4: sendq_bytes is '5000000000', not a whole number from 0 to 4294967295.",
        ),
        (
            "t_ms",
            "1e300",
            "line 4: t_ms is '1e300', not a time from 0 to 1000000000000 ms.",
        ),
    ];
    for (column, value, says) in cases {
        std::fs::write(&csv, with_field(2, column, value)).unwrap();
        let out = open(&dir, &csv, &[]);
        assert_refused(&out, says);
    }
    std::fs::write(&csv, recording_text()).unwrap();
    for (summary, says) in [
        (
            r#"{"effective_sndbuf": "lots"}"#,
            r#"effective_sndbuf is "lots", not a whole number from 0 to 2147483647."#,
        ),
        (
            r#"{"effective_sndbuf": -5}"#,
            "effective_sndbuf is -5, not a whole number from 0 to 2147483647.",
        ),
    ] {
        std::fs::write(dir.join("run.json"), summary).unwrap();
        let out = open(&dir, &csv, &[]);
        assert_refused(&out, says);
    }
    assert_eq!(files_in(&dir), ["run.csv", "run.json"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn open_refuses_a_line_without_end_before_holding_it() {
    let dir = scratch("line");
    let csv = dir.join("run.csv");
    // 64 MiB of one line: read whole, it would be 64 MiB held.
    let mut text = recording_text();
    text.push_str(&"9".repeat(64 << 20));
    std::fs::write(&csv, text).unwrap();
    let out = open(&dir, &csv, &[]);
    assert_refused(
        &out,
        "run.csv, line 22: the line is longer than the 64 KiB a line may be.",
    );
    assert_eq!(files_in(&dir), ["run.csv"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn open_reads_a_recording_saved_with_a_byte_order_mark() {
    let dir = scratch("bom");
    let csv = dir.join("run.csv");
    std::fs::write(&csv, format!("\u{feff}{}", recording_text())).unwrap();
    // --at past the end is refused only once the recording has been read
    // (and before any window opens).
    let out = open(&dir, &csv, &["--at", "999"]);
    assert_refused(&out, "--at 999.000 is past the recording's end (0.095 s)");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn record_refuses_a_scenario_that_is_no_regular_file_or_too_long_a_line() {
    let dir = scratch("scenario");
    let fifo = dir.join("pipe.toml");
    mkfifo(&fifo);
    let folder = dir.join("folder.toml");
    std::fs::create_dir(&folder).unwrap();
    let long = dir.join("long.toml");
    std::fs::write(
        &long,
        format!("description = \"{}\"\n", "x".repeat(100 << 10)),
    )
    .unwrap();
    let huge = dir.join("huge.toml");
    std::fs::write(&huge, "sndbuf = 99999999999999999999999\n").unwrap();
    let cases: [(&Path, &str); 5] = [
        (
            &fifo,
            "pipe.toml: it is a FIFO (named pipe), not a regular file; give a scenario (a TOML file, see scenarios/).",
        ),
        (
            Path::new("/dev/zero"),
            "/dev/zero: it is a character device, not a regular file; give a scenario",
        ),
        (&folder, "folder.toml: it is a folder, not a regular file"),
        (
            &long,
            "long.toml: line 1 is longer than the 64 KiB a line of a scenario file may be.",
        ),
        (&huge, "huge.toml:1: "),
    ];
    let out_csv = dir.join("out.csv");
    for (scenario, says) in cases {
        let mut command = common::sockscope();
        command
            .current_dir(&dir)
            .args(["record", "--duration", "1", "--scenario"])
            .arg(scenario)
            .arg("--csv")
            .arg(&out_csv);
        let out = run_bounded(command);
        assert_refused(&out, says);
        assert!(out.stderr.starts_with("sockscope: --scenario: "));
        assert_eq!(
            files_in(&dir),
            ["folder.toml", "huge.toml", "long.toml", "pipe.toml"],
            "{scenario:?}: no file may be left"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
