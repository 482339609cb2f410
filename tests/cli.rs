//! `sockscope record` as a user runs it: real binary, real sockets, real
//! files; bad input gets exit 2, one sentence, and no file.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::core_sysctl;
use serde_json::Value;

fn sockscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(args)
        .output()
        .expect("run sockscope")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sockscope-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

use common::files_in;

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn record_with_a_paused_reader_writes_csv_and_json() {
    let dir = scratch("record");
    let csv = dir.join("run.csv");
    let summary = dir.join("run.json");
    let out = sockscope(&[
        "record",
        "--duration",
        "1",
        "--read-rate",
        "0",
        "--sndbuf",
        "16K",
        "--rcvbuf",
        "16K",
        "--write-rate",
        "4M/s",
        "--write-chunk",
        "4K",
        "--sample-hz",
        "500",
        "--csv",
        csv.to_str().unwrap(),
        "--json",
        summary.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("every byte verified"), "{stdout}");
    assert!(
        !stdout.contains('\r'),
        "no progress line when stdout is not a terminal"
    );

    let s = json(&summary);
    for key in [
        "requested_sndbuf",
        "effective_sndbuf",
        "requested_rcvbuf",
        "effective_rcvbuf",
        "bytes_written",
        "bytes_read",
        "integrity_ok",
        "stall_count",
        "stall_ms",
        "peak_sendq_bytes",
        "peak_recvq_bytes",
        "throughput_bytes_per_s",
        "samples",
        "sample_hz_achieved",
    ] {
        assert!(s.get(key).is_some(), "JSON summary lacks {key}");
    }
    assert_eq!(s["requested_sndbuf"], 16384);
    assert_eq!(s["effective_sndbuf"], 32768);
    assert_eq!(s["integrity_ok"], true);
    assert_eq!(
        s["bytes_read"], s["bytes_written"],
        "the reader drained everything at the end"
    );
    assert!(s["bytes_written"].as_u64().unwrap() > 0);
    assert!(
        s["stall_count"].as_u64().unwrap() >= 1,
        "a paused reader must block the writer"
    );
    assert!(s["peak_recvq_bytes"].as_u64().unwrap() > 0);
    assert!(s["peak_sendq_bytes"].as_u64().unwrap() > 0);

    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with(
        "t_ms,sendq_bytes,unsent_bytes,inflight_bytes,recvq_bytes,written_bytes,read_bytes,writer_blocked,zero_window"
    ));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows.len() as u64,
        s["samples"].as_u64().unwrap(),
        "one row per sample"
    );
    assert!(
        rows.iter().any(|r| r[7] == "1"),
        "some sample shows the writer blocked"
    );
    assert!(
        rows.iter().any(|r| r[8] == "1"),
        "some sample shows a zero window"
    );
    let times: Vec<f64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "timestamps are monotonic"
    );
    let last = rows.last().unwrap();
    assert_eq!(
        last[6],
        s["bytes_read"].to_string(),
        "the last row holds the final count"
    );
    assert_eq!(
        files_in(&dir),
        ["run.csv", "run.json"],
        "no temporary files left"
    );
}

#[test]
fn bad_input_exits_2_with_one_sentence_and_no_file() {
    let dir = scratch("bad");
    let csv = dir.join("out.csv");
    let csv = csv.to_str().unwrap();
    let missing = dir.join("no/such/folder/out.json");
    let folder = dir.to_str().unwrap();
    let same_csv = format!("{}/sub/../out.csv", dir.display());
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let slash = format!("{}/new/", dir.display());
    let cases: &[(&[&str], &str)] = &[
        (&["--sndbuf", "0"], "--sndbuf"),
        (&["--sndbuf", "-5"], "--sndbuf"),
        (&["--rcvbuf", "12X"], "--rcvbuf"),
        (&["--write-chunk", "0"], "--write-chunk"),
        (&["--read-chunk", "-1K"], "--read-chunk"),
        (&["--write-chunk", "2G"], "--write-chunk"),
        (&["--read-rate", "fast"], "--read-rate"),
        (&["--write-rate", "-1M"], "--write-rate"),
        (&["--sample-hz", "0"], "--sample-hz"),
        (&["--sample-hz", "10001"], "--sample-hz"),
        (&["--sample-hz", "abc"], "--sample-hz"),
        (&["--duration", "0"], "--duration"),
        (&["--duration", "-3"], "--duration"),
        (&["--duration", "1e-300"], "--duration"),
        (&["--sndbuf", "1\n2"], "--sndbuf"),
        (&["--write-rate", "0.0001K"], "--write-rate"),
        (&["--json", missing.to_str().unwrap()], "--json"),
        (&["--json", folder], "--json"),
        (&["--json", csv], "same file"),
        (&["--json", &same_csv], "same file"),
        (&["--json", "/dev/null"], "not a regular file"),
        (&["--json", &slash], "folder"),
        (&["--bogus"], "--bogus"),
    ];
    for (extra, names) in cases {
        let mut args = vec!["record", "--duration", "1", "--csv", csv];
        // A later --duration overrides nothing in clap: drop the default one.
        if extra.contains(&"--duration") {
            args.drain(1..3);
        }
        args.extend_from_slice(extra);
        let out = sockscope(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{extra:?}: one line, got {stderr}"
        );
        assert!(
            stderr.contains(names),
            "{extra:?}: {stderr} should name {names}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(out.stdout.is_empty(), "{extra:?}: nothing on stdout");
        assert_eq!(files_in(&dir), ["sub"], "{extra:?}: no file may be created");
    }
}

#[test]
fn accepted_forms_are_named_in_the_error() {
    let out = sockscope(&["record", "--duration", "1", "--sndbuf", "lots"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'lots'") && stderr.contains("64K"),
        "{stderr}"
    );
    let out = sockscope(&["record", "--duration", "1", "--read-rate", "fast"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("max") && stderr.contains("0 to pause"),
        "{stderr}"
    );
}

#[test]
fn a_size_above_the_cap_runs_and_says_it_was_clamped() {
    let wmem_max = core_sysctl("wmem_max");
    let dir = scratch("clamp");
    let summary = dir.join("s.json");
    let request = (wmem_max * 2).to_string();
    let out = sockscope(&[
        "record",
        "--duration",
        "0.3",
        "--sndbuf",
        &request,
        "--json",
        summary.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("clamped") && stderr.contains("net.core.wmem_max"),
        "{stderr}"
    );
    let s = json(&summary);
    assert_eq!(s["sndbuf_clamped"], true);
    assert_eq!(s["rcvbuf_clamped"], false);
    assert_eq!(s["effective_sndbuf"].as_u64().unwrap(), 2 * wmem_max);
    assert_eq!(s["integrity_ok"], true);
}

#[test]
fn help_documents_the_exit_codes() {
    let out = sockscope(&["record", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Exit codes") && help.contains("--sample-hz"),
        "{help}"
    );
}

#[test]
fn window_flags_are_checked_before_a_window_opens() {
    let dir = scratch("window");
    let folder = dir.to_str().unwrap().to_string();
    let missing = dir.join("no/such/shot.png");
    let cases: &[(&[&str], &str)] = &[
        (&["--preset", "fast"], "slow-reader"),
        (&["--lang", "fr"], "en or zh"),
        (&["--quit-after", "0"], "--quit-after"),
        (&["--quit-after", "soon"], "--quit-after"),
        (&["--screenshot", "shot.txt"], ".png"),
        (&["--screenshot", &folder], "folder"),
        (
            &["--screenshot", missing.to_str().unwrap()],
            "does not exist",
        ),
    ];
    for (args, names) in cases {
        // DISPLAY unset: had the flags passed, the window would fail with 1.
        let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
            .args(*args)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .output()
            .expect("run sockscope");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains(names),
            "{args:?}: {stderr} should name {names}"
        );
        assert!(files_in(&dir).is_empty(), "{args:?}: no file");
    }
}

#[test]
fn without_a_display_the_window_fails_with_one_sentence() {
    let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(["--quit-after", "1"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("run sockscope");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot open the window"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_file_named_twice_is_replaced_and_the_summary_says_so() {
    let dir = scratch("replace");
    let json = dir.join("run.json");
    let json_arg = json.to_str().unwrap();
    let first = sockscope(&["record", "--duration", "0.2", "--json", json_arg]);
    assert_eq!(first.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(!stdout.contains("replaced"), "{stdout}");
    let second = sockscope(&["record", "--duration", "0.2", "--json", json_arg]);
    assert_eq!(second.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains(&format!(
            "wrote {} (it replaced the file that was there)",
            json.display()
        )),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_sample_of_a_busy_run_is_a_csv_row_from_the_first_one_on() {
    // Unthrottled: batches are waiting by the time the connection is
    // handed over; none may skip the CSV.
    let dir = scratch("busy");
    for round in 0..3 {
        let csv = dir.join(format!("run-{round}.csv"));
        let json = dir.join(format!("run-{round}.json"));
        let out = sockscope(&[
            "record",
            "--duration",
            "0.3",
            "--sample-hz",
            "1000",
            "--csv",
            csv.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let summary: Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(
            rows.len() as u64,
            summary["samples"].as_u64().unwrap(),
            "round {round}"
        );
        // The run's time counts from the session's start: it lasts what
        // was asked, give or take the drain.
        let elapsed = summary["elapsed_s"].as_f64().unwrap();
        assert!(elapsed >= 0.3, "round {round}: {elapsed}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Ctrl-C (SIGINT) and SIGTERM mid-run: the run drains, the outputs are
/// written whole with the part that ran, and the exit code is 130.
#[test]
fn ctrl_c_or_sigterm_mid_run_drains_writes_whole_outputs_and_exits_130() {
    for signal in ["-INT", "-TERM"] {
        let dir = scratch(&format!("signal{signal}"));
        let csv = dir.join("run.csv");
        let json = dir.join("run.json");
        let child = Command::new(env!("CARGO_BIN_EXE_sockscope"))
            .args([
                "record",
                "--duration",
                "60",
                "--write-rate",
                "1M",
                "--write-chunk",
                "4K",
            ])
            .arg("--csv")
            .arg(&csv)
            .arg("--json")
            .arg(&json)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Running: rows have reached the CSV, unnamed until it is whole.
        common::wait_for("the first rows", || {
            common::unnamed_file_bytes(child.id()) > 0
        });
        let kill = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(130), "{signal}: {stdout}");
        assert!(stdout.contains("interrupted after"), "{stdout}");
        let summary: Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(summary["interrupted"], true);
        assert_eq!(summary["integrity_ok"], true, "drained and verified");
        let rows = std::fs::read_to_string(&csv).unwrap().lines().count() as u64 - 1;
        assert_eq!(rows, summary["samples"].as_u64().unwrap());
        assert_eq!(
            files_in(&dir),
            ["run.csv", "run.json"],
            "no temporary file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A panic is a bug, and reaches the user as one line and exit 101, not a
/// backtrace (unless RUST_BACKTRACE asks for one).
#[test]
fn a_panic_is_one_line_naming_the_thread_and_exits_101() {
    let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(["record", "--duration", "1"])
        .env("SOCKSCOPE_TEST_PANIC", "1")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("sockscope: internal error in the main thread: a panic asked for")
            && stderr.trim_end().ends_with("please report it."),
        "{stderr}"
    );
}

/// `open FILE`: a damaged or cut-off recording, or a moment past its end,
/// is one sentence and exit 2, before any window opens.
#[test]
fn open_refuses_a_damaged_recording_in_one_sentence() {
    let dir = common::scratch("cli", "open");
    let csv = dir.join("run.csv");
    let out = common::sockscope()
        .args(["record", "--duration", "0.3", "--csv"])
        .arg(&csv)
        .output()
        .unwrap();
    common::assert_succeeded(&out);
    let text = std::fs::read_to_string(&csv).unwrap();
    let open = |extra: &[&str]| {
        let out = common::sockscope()
            .arg("open")
            .arg(&csv)
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = open(&["--at", "999"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("past the recording's end"), "{stderr}");
    // An animation outside the recording, or not a .gif or .png, before
    // any window.
    let gif = dir.join("a.gif");
    let gif = gif.to_str().unwrap();
    let (code, stderr) = open(&["--export-gif", gif, "--to", "999"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("must be a span inside the recording"),
        "{stderr}"
    );
    let (code, stderr) = open(&["--export-gif", "a.mp4"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("does not end in .gif, .png or .apng"),
        "{stderr}"
    );
    assert!(!dir.join("a.gif").exists());
    // Cut off mid-row.
    std::fs::write(&csv, &text[..text.len() - 5]).unwrap();
    let (code, stderr) = open(&[]);
    assert_eq!(code, Some(2));
    let rows = text.lines().count();
    assert!(
        stderr.contains(&format!("line {rows}: the line stops short")),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    // A number that is not one: the first row's t_ms (which is not always
    // under a millisecond: the first sample can come late on a busy machine).
    let (header, rows) = text.split_once('\n').unwrap();
    let (_, after_t) = rows.split_once(',').unwrap();
    std::fs::write(&csv, format!("{header}\nabc,{after_t}")).unwrap();
    let (code, stderr) = open(&[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("line 2: t_ms is 'abc"), "{stderr}");
}

/// Each bad value or missing flag is one sentence naming the flag, the
/// value and the accepted form, pointing at the help of the subcommand
/// that was run (negative numbers reach the flag's own check).
#[test]
fn every_bad_value_names_its_flag_the_value_and_the_accepted_form() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["record", "--duration", "1", "--mtu", "-1"],
            &["--mtu", "-1"],
        ),
        (
            &["record", "--duration", "1", "--link-rate", "-1"],
            &["--link-rate", "-1"],
        ),
        (
            &["record", "--duration", "1", "--link-loss", "0.001"],
            &["--link-loss", "steps of 0.01", "'0.001'"],
        ),
        (
            &["record", "--duration", "1", "--capture", "--pcap", "x.pcap"],
            &["--capture", "--pcap", "'sockscope record --help'"],
        ),
        (
            &["open", "x.csv", "--at", "-1"],
            &["--at", "'-1' is not a moment"],
        ),
        (
            &["open", "x.csv", "--export-gif", "a.gif", "--from", "-1"],
            &["--from", "'-1' is not a moment"],
        ),
        (
            &["open", "x.csv", "--quit-after", "-1"],
            &["--quit-after", "-1"],
        ),
        (
            &["connections", "--port", "-1"],
            &["--port", "'-1' is not a port"],
        ),
        (
            &["connections", "--port", "abc"],
            &["--port", "'abc' is not a port", "0 to 65535"],
        ),
        (
            &["open", "x.csv", "--export-gif", "a.gif", "--gif-of", "foo"],
            &["--gif-of", "'foo'", "window or timeline"],
        ),
        (
            &["record", "--duration", "1", "--peer", "127.0.0.1:1"],
            &["--attach", "'sockscope record --help'"],
        ),
        (
            &["open", "x.csv", "--from", "1"],
            &["--export-gif", "'sockscope open --help'"],
        ),
        (
            &["--export-dir", "/etc/passwd"],
            &["--export-dir", "'/etc/passwd' is a file, not a folder"],
        ),
    ];
    for (args, wanted) in cases {
        let out = sockscope(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("sockscope: "), "{args:?}: {stderr}");
        for part in *wanted {
            assert!(
                stderr.contains(part),
                "{args:?} should say {part}: {stderr}"
            );
        }
        if args[0] != "record" {
            assert!(!stderr.contains("sockscope record"), "{args:?}: {stderr}");
        }
    }
}

/// The sampler takes its samples on a clock and one more when the workers
/// end, so the last holds the final counters. That extra one is not on
/// the clock: counting it made a one-second 1 Hz run report "2.0 Hz
/// (asked 1 Hz)". A 1.5 s run at 1 Hz has samples at 0 and 1 s on the
/// clock and the extra one at 1.5 s, half a period before the next tick:
/// the rate is the clock's samples over their span, read from the CSV.
#[test]
fn achieved_sample_rate_counts_only_the_samples_on_the_clock() {
    let dir = scratch("achieved");
    let csv = common::record_csv_json(
        &dir,
        &[
            "--duration",
            "1.5",
            "--sample-hz",
            "1",
            "--write-rate",
            "1M/s",
        ],
    );
    let summary = json(&csv.with_extension("json"));
    let achieved = summary["sample_hz_achieved"].as_f64().unwrap();
    let t_ms: Vec<f64> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|row| row.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(summary["samples"].as_u64(), Some(t_ms.len() as u64));
    assert!(t_ms.len() >= 3, "{t_ms:?}");
    // All but the last row are on the clock.
    let on_clock = &t_ms[..t_ms.len() - 1];
    let span_s = (on_clock[on_clock.len() - 1] - on_clock[0]) / 1e3;
    let expected = (on_clock.len() - 1) as f64 / span_s;
    assert!(
        (achieved - expected).abs() < expected * 1e-3,
        "{achieved} Hz achieved, {expected} Hz from the rows on the clock {t_ms:?}"
    );
}

/// A send() of a chunk larger than the send buffer copies only what the
/// buffer has room for, so the writer holds only that much of the chunk
/// (and the reader only what the receive queue can hold): `--write-chunk
/// 1G` took 1 GB of memory and a second of filling before its first call.
/// Every byte is still verified.
#[test]
fn a_huge_chunk_is_held_only_as_far_as_one_call_can_move() {
    let dir = scratch("huge-chunk");
    let json_path = dir.join("run.json");
    let child = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args([
            "record",
            "--duration",
            "1",
            "--write-chunk",
            "1G",
            "--read-chunk",
            "1G",
            "--json",
        ])
        .arg(&json_path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = child.wait_with_output().unwrap().status;
    assert!(status.success());
    // The peak of the children this test process has waited for: the
    // other tests' runs take tens of MiB, this one took over 1 GiB before.
    let usage =
        nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
    let summary = json(&json_path);
    assert_eq!(summary["write_chunk"].as_u64(), Some(1 << 30));
    assert_eq!(summary["read_chunk"].as_u64(), Some(1 << 30));
    assert_eq!(summary["integrity_ok"], true);
    assert!(summary["bytes_read"].as_u64().unwrap() > 0);
    let peak_mib = usage.max_rss() / 1024;
    assert!(
        peak_mib < 256,
        "a 1 GiB chunk took {peak_mib} MiB of memory"
    );
}
