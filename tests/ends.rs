//! Every run ends: by its duration plus a bounded drain whatever the link
//! does, at the first Ctrl-C, and with its outputs whole even when the
//! bytes still on their way can never arrive. Real binary, real private
//! link, real signals; each wait is bounded, so a hang fails the test.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sockscope::run::{DRAIN_LIMIT, DRAIN_QUIET};

/// A run's duration, its drain limit and the link's start, with room for
/// a busy machine: past this, the run hangs.
fn bound(duration_s: u64) -> Duration {
    Duration::from_secs(duration_s) + DRAIN_LIMIT + Duration::from_secs(30)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

use common::files_in;

/// `record` of the shipped scenario that unplugs the cable at 1 s and
/// plugs it back at 2.5 s, for `duration` seconds: shorter than 2.5 s, the
/// run ends with the cable out.
fn unplugged_run(dir: &Path, duration: &str) -> Child {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/unplug-the-cable.toml");
    common::sockscope()
        .args(["record", "--duration", duration, "--scenario"])
        .arg(&scenario)
        .arg("--csv")
        .arg(dir.join("uc.csv"))
        .arg("--json")
        .arg(dir.join("uc.json"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_run_that_ends_with_the_cable_unplugged_ends_after_a_bounded_drain() {
    let dir = common::scratch("ends", "unplugged");
    let child = unplugged_run(&dir, "2");
    let out = common::wait_at_most(child, bound(2), "record ending with the cable out");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let summary = json(&dir.join("uc.json"));
    let cut = &summary["drain_cut"];
    assert_eq!(cut["why"], "nothing_arrived", "{summary}");
    let after = cut["after_s"].as_f64().unwrap();
    assert!(
        after >= DRAIN_QUIET.as_secs_f64() && after < DRAIN_LIMIT.as_secs_f64(),
        "cut after {after} s"
    );
    let unread = cut["unread_bytes"].as_u64().unwrap();
    assert!(unread > 0, "bytes were stuck on the unplugged link");
    assert_eq!(
        unread,
        summary["bytes_written"].as_u64().unwrap() - summary["bytes_read"].as_u64().unwrap()
    );
    assert_eq!(summary["integrity_ok"], Value::Null, "not read to the end");
    assert_eq!(summary["interrupted"], false);
    assert!(
        stdout.contains("not verified: the drain was cut short"),
        "{stdout}"
    );
    assert!(
        stderr.contains("reading what is still on its way"),
        "the wait was told: {stderr}"
    );
    // The CSV holds the part that ran: a row per sample.
    let rows = std::fs::read_to_string(dir.join("uc.csv"))
        .unwrap()
        .lines()
        .count() as u64
        - 1;
    assert_eq!(rows, summary["samples"].as_u64().unwrap());
    assert_eq!(files_in(&dir), ["uc.csv", "uc.json"]);
}

#[test]
fn ctrl_c_during_a_stuck_drain_ends_it_at_once_with_whole_outputs() {
    let dir = common::scratch("ends", "drain-ctrl-c");
    let mut child = unplugged_run(&dir, "1.5");
    let lines = common::stderr_lines(&mut child);
    // The drain tells when it waits for bytes the link does not deliver.
    assert!(
        common::wait_for_line(&lines, "reading what is still on its way"),
        "the drain was never told"
    );
    common::send_signal(child.id(), "-INT");
    let out = common::wait_at_most(child, bound(2), "record after Ctrl-C in the drain");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    let summary = json(&dir.join("uc.json"));
    assert_eq!(summary["drain_cut"]["why"], "stopped", "{summary}");
    assert!(
        summary["drain_cut"]["after_s"].as_f64().unwrap() < DRAIN_QUIET.as_secs_f64(),
        "Ctrl-C cut it before the drain's own bound: {summary}"
    );
    assert_eq!(summary["interrupted"], true);
    assert_eq!(files_in(&dir), ["uc.csv", "uc.json"]);
}

/// The first Ctrl-C ends a run whose link delivers nothing; the drain it
/// starts is bounded, and a second one cuts it at once. No file is left
/// half-written, nor a temporary one.
#[test]
fn two_ctrl_c_on_an_unplugged_link_write_whole_outputs_and_exit_130() {
    let dir = common::scratch("ends", "two-ctrl-c");
    let mut child = unplugged_run(&dir, "60");
    let lines = common::stderr_lines(&mut child);
    assert!(
        common::wait_for_line(&lines, "on a private link"),
        "the link was never made"
    );
    // Running: samples have reached the CSV, unnamed until it is complete.
    common::wait_for("the first rows", || {
        common::unnamed_file_bytes(child.id()) > 0
    });
    common::send_signal(child.id(), "-INT");
    common::send_signal(child.id(), "-INT");
    let out = common::wait_at_most(child, bound(1), "record after two Ctrl-C");
    assert_eq!(out.status.code(), Some(130));
    let summary = json(&dir.join("uc.json"));
    assert_eq!(summary["interrupted"], true);
    assert_eq!(files_in(&dir), ["uc.csv", "uc.json"]);
}

#[test]
fn an_output_that_cannot_be_written_is_refused_before_the_run() {
    let dir = common::scratch("ends", "long-name");
    let long = dir.join(format!("{}.csv", "x".repeat(300)));
    let started = std::time::Instant::now();
    let out = common::sockscope()
        .args(["record", "--duration", "30", "--csv"])
        .arg(&long)
        .arg("--json")
        .arg(dir.join("ok.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "refused before the 30 s run"
    );
    assert!(
        stderr.starts_with("sockscope: --csv: cannot write"),
        "{stderr}"
    );
    assert!(stderr.contains("longer than the 255 bytes"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(files_in(&dir).is_empty(), "nothing written");
}

/// An output whose folder goes away during the run cannot be put in place;
/// the others still are, and the run says which one failed (exit 1).
#[test]
fn each_output_is_written_on_its_own() {
    let dir = common::scratch("ends", "independent");
    let doomed = dir.join("doomed");
    std::fs::create_dir(&doomed).unwrap();
    let child = common::sockscope()
        .args(["record", "--duration", "60", "--write-rate", "1M"])
        .arg("--csv")
        .arg(doomed.join("run.csv"))
        .arg("--json")
        .arg(dir.join("run.json"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_for("the first rows", || {
        common::unnamed_file_bytes(child.id()) > 0
    });
    // Empty: the CSV being written has no name yet.
    std::fs::remove_dir(&doomed).unwrap();
    common::send_signal(child.id(), "-INT");
    let out = common::wait_at_most(child, bound(1), "record whose folder went away");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("error: writing") && stdout.contains("run.csv failed"),
        "{stdout}"
    );
    let summary = json(&dir.join("run.json"));
    assert_eq!(summary["interrupted"], true);
    assert!(stdout.contains("wrote"), "{stdout}");
}

/// The signal test in tests/cli.rs covers a drain that completes; this
/// one runs the same on loopback to check the first Ctrl-C is honoured
/// when SIGINT was ignored by the parent shell (a background job).
#[test]
fn ctrl_c_works_when_the_shell_started_it_with_sigint_ignored() {
    let dir = common::scratch("ends", "ignored-sigint");
    let csv = dir.join("run.csv");
    // `sh -c 'cmd &'` starts cmd with SIGINT ignored, as a script's
    // background job; `trap '' INT` does the same for a foreground one.
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' INT; exec '{}' record --duration 60 --write-rate 1M --csv '{}'",
            env!("CARGO_BIN_EXE_sockscope"),
            csv.display()
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_for("the first rows", || {
        common::unnamed_file_bytes(child.id()) > 0
    });
    common::send_signal(child.id(), "-INT");
    let out = common::wait_at_most(child, bound(1), "record with SIGINT ignored");
    assert_eq!(out.status.code(), Some(130));
    assert!(csv.exists());
}

/// A third Ctrl-C quits at once, whatever is going on; an output is then
/// either whole in place or not there at all, never half-written.
#[test]
fn a_third_ctrl_c_quits_at_once_leaving_no_half_written_file() {
    let dir = common::scratch("ends", "three-ctrl-c");
    let mut child = unplugged_run(&dir, "60");
    let lines = common::stderr_lines(&mut child);
    assert!(
        common::wait_for_line(&lines, "on a private link"),
        "the link was never made"
    );
    common::wait_for("the first rows", || {
        common::unnamed_file_bytes(child.id()) > 0
    });
    for _ in 0..3 {
        common::send_signal(child.id(), "-INT");
    }
    let out = common::wait_at_most(child, bound(1), "record after three Ctrl-C");
    assert_eq!(out.status.code(), Some(130));
    for name in files_in(&dir) {
        match name.as_str() {
            "uc.json" => assert_eq!(json(&dir.join(&name))["interrupted"], true),
            "uc.csv" => {
                let text = std::fs::read_to_string(dir.join(&name)).unwrap();
                assert!(
                    text.ends_with('\n') && text.lines().count() > 1,
                    "{text:.200}"
                );
            }
            other => panic!("left {other}"),
        }
    }
}

/// Outputs are unnamed files until complete: `kill -9` mid-run, which no
/// program can catch, leaves nothing in the folder.
#[test]
fn kill_9_mid_run_leaves_no_file_behind() {
    let dir = common::scratch("ends", "kill-9");
    let child = common::sockscope()
        .args(["record", "--duration", "60", "--write-rate", "1M"])
        .arg("--csv")
        .arg(dir.join("run.csv"))
        .arg("--json")
        .arg(dir.join("run.json"))
        .arg("--pcap")
        .arg(dir.join("run.pcap"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_for("the first rows", || {
        common::unnamed_file_bytes(child.id()) > 0
    });
    common::send_signal(child.id(), "-KILL");
    let out = common::wait_at_most(child, bound(1), "record after kill -9");
    assert_eq!(out.status.code(), None, "killed by a signal");
    assert_eq!(files_in(&dir), Vec::<String>::new());
}
