//! Scenario files: the shipped ones parse, `record --scenario` applies the
//! steps to a real session on time, and a bad file is refused with its
//! name, line and the mistake.

use std::path::{Path, PathBuf};
use std::process::Command;

use sockscope::lab::scenario;

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sockscope-scenario-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_shipped_scenario_parses_and_says_what_it_shows() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let scenario = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!scenario.steps.is_empty(), "{}", path.display());
        assert!(scenario.description.is_some(), "{}", path.display());
        names.push(path.file_stem().unwrap().to_string_lossy().into_owned());
    }
    names.sort();
    assert_eq!(
        names,
        [
            "big-buffers",
            "many-small-writes",
            "pause-and-resume",
            "slow-reader",
            "tiny-buffers",
            "unplug-the-cable"
        ]
    );
}

#[test]
fn record_runs_the_steps_on_time_and_flags_win_over_the_file() {
    let dir = scratch("run");
    let file = dir.join("pause.toml");
    std::fs::write(
        &file,
        "sndbuf = \"32K\"\nrcvbuf = \"32K\"\nwrite_rate = \"2M\"\nwrite_chunk = \"4K\"\n\
         [[step]]\nat = 0.2\nread_rate = \"0\"\n[[step]]\nat = 1.2\nread_rate = \"max\"\n",
    )
    .unwrap();
    let json = dir.join("run.json");
    let csv = dir.join("run.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(["record", "--duration", "2", "--rcvbuf", "64K", "--scenario"])
        .arg(&file)
        .arg("--json")
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("scenario at 0.200 s: read_rate = 0 (paused)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("scenario at 1.200 s: read_rate = max"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // The file's sndbuf, the flag's rcvbuf.
    assert_eq!(summary["requested_sndbuf"], 32 * 1024);
    assert_eq!(summary["requested_rcvbuf"], 64 * 1024);
    assert_eq!(summary["write_chunk"], 4096);
    // A second of paused reader at 2 MiB/s fills both buffers: send() stalled.
    assert!(summary["stall_count"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(summary["integrity_ok"], true);
    // On time in the samples, not just in the printed line (which names
    // the step's scheduled time however late it ran): the reader is first
    // seen paused after 0.2 s and running again after 1.2 s, each before
    // the next step was due.
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<(f64, bool)> = text
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (cells[0].parse().unwrap(), cells[9] == "1")
        })
        .collect();
    let paused_at = rows
        .iter()
        .find(|(_, paused)| *paused)
        .expect("a paused row")
        .0;
    assert!(
        (200.0..1200.0).contains(&paused_at),
        "paused at {paused_at} ms"
    );
    let resumed_at = rows
        .iter()
        .find(|(t, paused)| *t > paused_at && !paused)
        .expect("a resumed row")
        .0;
    assert!(resumed_at >= 1200.0, "resumed at {resumed_at} ms");
    assert!(
        rows.iter()
            .all(|(t, paused)| !paused || (200.0..resumed_at).contains(t))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_scenario_exits_2_naming_file_and_line_and_writes_nothing() {
    let dir = scratch("bad");
    let cases: &[(&str, &str)] = &[
        ("[[step]]\nat = 1\nread_rate = \"fast\"\n", ":3: read_rate"),
        ("[[step]]\nat = 1\nspeed = 2\n", ":3: unknown field"),
        ("[[step]\n", ":1: "),
        (
            "[[step]]\nat = 3\nread_rate = 0\n[[step]]\nat = 1\nread_rate = 0\n",
            ":5: steps go in time order",
        ),
    ];
    for (text, wanted) in cases {
        let file = dir.join("bad.toml");
        std::fs::write(&file, text).unwrap();
        let csv = dir.join("out.csv");
        let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
            .args(["record", "--duration", "1", "--scenario"])
            .arg(&file)
            .arg("--csv")
            .arg(&csv)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("bad.toml{wanted}")),
            "{text:?}: {stderr}"
        );
        assert!(!csv.exists(), "nothing written for {text:?}");
    }
    let missing = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args([
            "record",
            "--duration",
            "1",
            "--scenario",
            "/no/such/file.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("/no/such/file.toml: cannot read it")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_step_at_zero_runs_and_is_reported() {
    let dir = std::env::temp_dir().join(format!("sockscope-scenario-zero-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("zero.toml");
    std::fs::write(&file, "[[step]]\nat = 0\nread_rate = \"0\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(["record", "--duration", "0.5", "--scenario"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("scenario at 0.000 s: read_rate = 0 (paused)"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
