//! Every subcommand against the same hostile inputs and signals, as an
//! adversary would try them: each value flag with values no flag takes,
//! each file argument with things that are not the file it wants, each
//! output with paths that cannot be one, and each long run (record, the
//! window, a playback, an animation export) with SIGINT, SIGTERM and
//! SIGHUP. No hang, no exit but the documented ones (README: 2 for bad
//! input, 130 for a signal), no panic, no file left behind.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::files_in;

/// Far above the second a refusal takes on a loaded machine, or the few a
/// signalled run needs to drain; only a hang reaches it.
const DEADLINE: Duration = Duration::from_secs(30);

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn sockscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sockscope"))
}

/// Runs a command that should end by itself, killing it (and failing the
/// test) if it does not within `DEADLINE`.
fn run_bounded(mut command: Command, what: &str) -> Outcome {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sockscope");
    let out = common::wait_at_most(child, DEADLINE, what);
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Exit 2 with one sentence on stderr, nothing on stdout, no panic.
fn check_refused(out: &Outcome, what: &str, failures: &mut Vec<String>) {
    let lines = out.stderr.trim_end().lines().count();
    let sentence = out.stderr.trim_end();
    if out.code != Some(2)
        || lines != 1
        || !sentence.starts_with("sockscope: ")
        || !sentence.ends_with('.')
        || out.stderr.contains("panicked")
        || !out.stdout.is_empty()
    {
        failures.push(format!(
            "{what}: exit {:?}, stderr {:?}, stdout {:?}",
            out.code, out.stderr, out.stdout
        ));
    }
}

/// Values no flag takes: below any range, past u64, not numbers, empty,
/// absurdly long, other digits.
fn hostile_values() -> Vec<String> {
    vec![
        "-1".into(),
        "99999999999999999999999".into(),
        "1e300".into(),
        "NaN".into(),
        "inf".into(),
        String::new(),
        "7".repeat(5000),
        "١٢".into(),
        "1.5.5".into(),
        "five".into(),
    ]
}

/// A short recording to play back, made once for the suite.
fn recording() -> &'static Path {
    static MADE: OnceLock<PathBuf> = OnceLock::new();
    MADE.get_or_init(|| {
        let dir = common::scratch("robustness", "recording");
        common::record_csv_json(&dir, &["--duration", "1", "--read-rate", "0"])
    })
}

#[test]
fn every_value_flag_refuses_hostile_values_in_one_sentence() {
    let dir = common::scratch("robustness", "values");
    let rec = recording().to_str().unwrap().to_string();
    // Each flag with what its command needs to get as far as reading it.
    let record = |flag: &str| -> Vec<String> {
        let mut args = vec!["record".to_string()];
        if flag != "--duration" {
            args.extend(["--duration".into(), "1".into()]);
        }
        if flag == "--peer" {
            args.extend(["--attach".into(), "127.0.0.1:1".into()]);
        }
        if ["--mtu", "--link-rate", "--link-delay", "--link-loss"].contains(&flag) {
            args.push("--link".into());
        }
        args.push(flag.into());
        args
    };
    let mut cases: Vec<Vec<String>> = [
        "--duration",
        "--sndbuf",
        "--rcvbuf",
        "--write-rate",
        "--write-chunk",
        "--read-rate",
        "--read-chunk",
        "--sample-hz",
        "--congestion",
        "--listen",
        "--connect",
        "--mtu",
        "--link-rate",
        "--link-delay",
        "--link-loss",
        "--attach",
        "--peer",
    ]
    .into_iter()
    .map(record)
    .collect();
    for flag in ["--port", "--state", "--address"] {
        cases.push(vec!["connections".into(), flag.into()]);
    }
    for flag in ["--at", "--lang", "--quit-after", "--open"] {
        cases.push(vec!["open".into(), rec.clone(), flag.into()]);
    }
    for flag in ["--from", "--to", "--fps", "--gif-of"] {
        let gif = dir.join("never.gif").to_str().unwrap().to_string();
        cases.push(vec![
            "open".into(),
            rec.clone(),
            "--export-gif".into(),
            gif,
            flag.into(),
        ]);
    }
    for flag in [
        "--preset",
        "--lang",
        "--quit-after",
        "--open",
        "--listen",
        "--link-rate",
    ] {
        cases.push(vec![flag.into()]);
    }
    // `run`'s flags come before `-- COMMAND`: the value, then the command.
    let mut after: Vec<Vec<String>> = vec![Vec::new(); cases.len()];
    for flag in [
        "--link-rate",
        "--link-delay",
        "--link-loss",
        "--mtu",
        "--congestion",
        // Not --name: "five" and "NaN" are names. --join refuses each:
        // no link has it, or it is no name.
        "--join",
    ] {
        cases.push(vec!["run".into(), flag.into()]);
        after.push(vec!["--".into(), "true".into()]);
    }
    let mut failures = Vec::new();
    for (case, after) in cases.iter().zip(&after) {
        for value in hostile_values() {
            let mut command = sockscope();
            command.current_dir(&dir).args(case).arg(&value).args(after);
            let shown = format!("{} {:.40}", case.join(" "), value);
            check_refused(&run_bounded(command, &shown), &shown, &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} refused badly:\n{}",
        failures.len(),
        cases.len() * hostile_values().len(),
        failures.join("\n")
    );
    assert!(files_in(&dir).is_empty(), "left {:?}", files_in(&dir));
}

/// Things that are not the file a command wants to read.
fn hostile_files(dir: &Path) -> Vec<PathBuf> {
    let fifo = dir.join("pipe.csv");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let folder = dir.join("folder.csv");
    std::fs::create_dir(&folder).unwrap();
    let long_line = dir.join("line.csv");
    std::fs::write(&long_line, "t".repeat(4 << 20)).unwrap();
    let garbage = dir.join("garbage.csv");
    std::fs::write(
        &garbage,
        (0..=255u8).cycle().take(1 << 16).collect::<Vec<_>>(),
    )
    .unwrap();
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let lp = dir.join("loop.csv");
    std::os::unix::fs::symlink(&lp, &lp).unwrap();
    vec![
        fifo,
        folder,
        long_line,
        garbage,
        empty,
        lp,
        dir.join("missing.csv"),
        PathBuf::from("/dev/zero"),
        PathBuf::from("/dev/stdin"),
        PathBuf::from("/proc/self/mem"),
    ]
}

#[test]
fn every_file_argument_refuses_what_is_not_its_file() {
    let dir = common::scratch("robustness", "files");
    let files = hostile_files(&dir);
    let before = files_in(&dir);
    let mut failures = Vec::new();
    for file in &files {
        let file = file.to_str().unwrap();
        for case in [
            vec!["open", file, "--quit-after", "1"],
            vec!["open", file, "--export-gif", "out.gif"],
            vec!["record", "--duration", "1", "--scenario", file],
        ] {
            let mut command = sockscope();
            command.current_dir(&dir).args(&case);
            let shown = case.join(" ");
            check_refused(&run_bounded(command, &shown), &shown, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(files_in(&dir), before, "a refused run left a file");
}

#[test]
fn every_output_refuses_a_path_that_cannot_be_a_file_before_running() {
    let dir = common::scratch("robustness", "outputs");
    let fifo = dir.join("pipe.out");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::fs::create_dir(dir.join("folder")).unwrap();
    let before = files_in(&dir);
    let too_long = format!("{}.csv", "n".repeat(300));
    let outputs = [
        fifo.to_str().unwrap(),
        "folder",
        "folder/",
        "missing/run.out",
        too_long.as_str(),
        "/dev/zero",
        "/dev/full",
        "/proc/self/status",
        "/proc/new.out",
    ];
    let rec = recording().to_str().unwrap();
    let mut failures = Vec::new();
    for out in outputs {
        for case in [
            vec!["record", "--duration", "30", "--csv", out],
            vec!["record", "--duration", "30", "--json", out],
            vec!["record", "--duration", "30", "--pcap", out],
            vec!["open", rec, "--export-gif", out],
            vec!["--quit-after", "30", "--screenshot", out],
            vec!["open", rec, "--quit-after", "30", "--screenshot", out],
        ] {
            let mut command = sockscope();
            command.current_dir(&dir).args(&case);
            let shown = format!("{:.120}", case.join(" "));
            check_refused(&run_bounded(command, &shown), &shown, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(files_in(&dir), before, "a refused run left a file");
}

/// A virtual X display of its own for this suite's windows, so a signal
/// reaches sockscope itself (not xvfb-run).
struct Display {
    server: Child,
    name: String,
}

impl Display {
    fn start() -> Display {
        let mut server = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("this test needs Xvfb (Debian: apt-get install xvfb); .ci/run installs it");
        let mut number = String::new();
        BufReader::new(server.stdout.take().unwrap())
            .read_line(&mut number)
            .unwrap();
        Display {
            server,
            name: format!(":{}", number.trim()),
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Whether a process runs a thread whose name starts with `prefix` (a
/// thread's name is cut to 15 bytes).
fn has_thread(pid: u32, prefix: &str) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks.filter_map(Result::ok).any(|task| {
                std::fs::read_to_string(task.path().join("comm"))
                    .is_ok_and(|comm| comm.starts_with(prefix))
            })
        })
        .unwrap_or(false)
}

/// One long run, how to tell it is under way, and what it may leave.
/// `record`, the window and `open` end with 130 for any of the three
/// signals; `run` passes the signal on to its command and ends with the
/// command's status, 128 + the signal's number.
struct LongRun {
    name: &'static str,
    args: Vec<String>,
    /// The process is doing its work (its lab runs, its output grows, it
    /// waits for its peer).
    ready: fn(&mut Child, &crossbeam_channel::Receiver<String>) -> bool,
    /// Files a signalled run may leave, each whole.
    may_leave: &'static [&'static str],
    window: bool,
    /// Ends with the command's status rather than 130.
    passes_on: bool,
}

fn lab_running(child: &mut Child, _: &crossbeam_channel::Receiver<String>) -> bool {
    has_thread(child.id(), "sockscope-sampl")
}

/// Its Ctrl-C handler is installed (ctrlc's thread is named "ctrl-c").
fn signals_caught(child: &mut Child, _: &crossbeam_channel::Receiver<String>) -> bool {
    has_thread(child.id(), "ctrl-c")
}

fn output_growing(child: &mut Child, _: &crossbeam_channel::Receiver<String>) -> bool {
    common::unnamed_file_bytes(child.id()) > 0
}

fn waiting_for_peer(_: &mut Child, lines: &crossbeam_channel::Receiver<String>) -> bool {
    lines.try_iter().any(|line| line.contains("waiting for"))
}

#[test]
fn every_long_run_ends_on_the_first_signal_with_exit_130_and_no_stray_file() {
    let display = Display::start();
    let rec = recording().to_str().unwrap().to_string();
    let s = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let port = common::free_port().to_string();
    let runs = [
        LongRun {
            name: "record",
            args: s(&[
                "record",
                "--duration",
                "60",
                "--write-rate",
                "1M",
                "--csv",
                "run.csv",
                "--json",
                "run.json",
            ]),
            ready: output_growing,
            may_leave: &["run.csv", "run.json"],
            window: false,
            passes_on: false,
        },
        LongRun {
            name: "record --listen, waiting",
            args: s(&[
                "record",
                "--duration",
                "60",
                "--listen",
                &port,
                "--csv",
                "run.csv",
            ]),
            ready: waiting_for_peer,
            may_leave: &[],
            window: false,
            passes_on: false,
        },
        LongRun {
            name: "the window",
            args: s(&["--preset", "paused-reader"]),
            ready: lab_running,
            may_leave: &[],
            window: true,
            passes_on: false,
        },
        LongRun {
            name: "open, playing back",
            args: s(&["open", &rec]),
            ready: signals_caught,
            may_leave: &[],
            window: true,
            passes_on: false,
        },
        LongRun {
            name: "open --export-gif",
            args: s(&["open", &rec, "--export-gif", "out.gif", "--fps", "50"]),
            ready: output_growing,
            may_leave: &[],
            window: true,
            passes_on: false,
        },
        LongRun {
            name: "run, a command on a link",
            args: s(&[
                "run",
                "--name",
                &format!("robust{}", std::process::id()),
                "--",
                "sh",
                "-c",
                "echo on the link >&2; exec sleep 60",
            ]),
            ready: |_, lines| lines.try_iter().any(|line| line == "on the link"),
            may_leave: &[],
            window: false,
            passes_on: true,
        },
    ];
    let mut failures = Vec::new();
    for (n, run) in runs.iter().enumerate() {
        for signal in ["-INT", "-TERM", "-HUP"] {
            let dir = common::scratch("robustness", &format!("signal{signal}-{n}"));
            let what = format!("{} with {signal}", run.name);
            let mut command = sockscope();
            command
                .current_dir(&dir)
                .args(&run.args)
                // The window's settings go to this run's own folder, never
                // the user's.
                .env("XDG_DATA_HOME", dir.join("data"))
                .env("HOME", dir.join("home"))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            if run.window {
                command
                    .env("DISPLAY", &display.name)
                    .env_remove("WAYLAND_DISPLAY");
            }
            let mut child = command.spawn().unwrap();
            let lines = common::stderr_lines(&mut child);
            let started = Instant::now();
            while !(run.ready)(&mut child, &lines) {
                if started.elapsed() > DEADLINE || child.try_wait().unwrap().is_some() {
                    let _ = child.kill();
                    let out = child.wait_with_output().unwrap();
                    panic!(
                        "{what}: never got under way (exit {:?}); stderr: {:?}",
                        out.status.code(),
                        lines.try_iter().collect::<Vec<_>>()
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            common::send_signal(child.id(), signal);
            let out = common::wait_at_most(child, DEADLINE, &what);
            let stderr: Vec<String> = lines.try_iter().collect();
            let expected = if run.passes_on {
                128 + match signal {
                    "-INT" => 2,
                    "-TERM" => 15,
                    _ => 1,
                }
            } else {
                130
            };
            if out.status.code() != Some(expected) || stderr.iter().any(|l| l.contains("panicked"))
            {
                failures.push(format!(
                    "{what}: exit {:?}, stderr {stderr:?}",
                    out.status.code()
                ));
            }
            let mut left = files_in(&dir);
            left.retain(|name| name != "data" && name != "home");
            let strays: Vec<_> = left
                .iter()
                .filter(|name| !run.may_leave.contains(&name.as_str()))
                .collect();
            if !strays.is_empty() {
                failures.push(format!("{what}: left {strays:?}"));
            }
            for name in &left {
                let mut text = String::new();
                let whole = std::fs::File::open(dir.join(name))
                    .and_then(|mut file| file.read_to_string(&mut text))
                    .is_ok()
                    && match name.rsplit('.').next() {
                        Some("json") => serde_json::from_str::<serde_json::Value>(&text)
                            .is_ok_and(|summary| summary["interrupted"] == true),
                        _ => text.ends_with('\n') && text.lines().count() > 1,
                    };
                if !whole {
                    failures.push(format!("{what}: {name} is not whole"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
