//! The private link on real namespaces (this machine allows unprivileged
//! user namespaces): the lab's pair on a namespace's own loopback, its
//! MTU, its cable, and a helper that leaves nothing behind.

mod common;

use common::{DEADLINE, collect_until, drain, sockscope};
use sockscope::lab::link::{self, LinkSpec};
use sockscope::lab::{Endpoint, LabConfig, Rate, Session, Size};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

fn scratch(name: &str) -> std::path::PathBuf {
    common::scratch("link", name)
}

fn use_sockscope_as_helper() {
    link::set_helper_program(env!("CARGO_BIN_EXE_sockscope"));
}

#[test]
fn record_on_a_link_verifies_every_byte_with_the_links_mtu() {
    let (csv, summary) = record("mtu", "1", &["--link", "--write-rate", "20M"]);
    assert_eq!(summary["integrity_ok"], true, "{summary}");
    assert!(summary["bytes_read"].as_u64().unwrap() > 0);
    assert_eq!(summary["link"]["mtu"], 1500, "{summary}");
    // Unshaped, the link's speed is the machine's: no verdict on it.
    assert!(summary["speed_limit"].is_null(), "{summary}");
    assert!(summary["retransmits"].is_u64());
    // The segments are the link's (MTU 1500 less the IP and TCP headers),
    // not the machine's loopback ones (MTU 65536).
    let mss = *column(&csv, "snd_mss_bytes").last().unwrap();
    assert!((1000.0..=1460.0).contains(&mss), "snd_mss {mss}");
    let header = csv.lines().next().unwrap();
    for name in ["total_retrans", "rto_us", "snd_ssthresh_segments"] {
        assert!(header.split(',').any(|c| c == name), "no {name} column");
    }
}

#[test]
fn plain_loopback_has_no_link_in_the_summary() {
    let (_, summary) = record("plain", "0.2", &[]);
    assert!(summary["link"].is_null(), "{summary}");
    // Loopback's speed is the machine's: no verdict on it.
    assert!(summary["speed_limit"].is_null(), "{summary}");
}

#[test]
fn a_bad_mtu_is_one_sentence_and_exit_2() {
    for bad in ["100", "70000", "fast"] {
        let out = sockscope()
            .args(["record", "--duration", "1", "--mtu", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--mtu {bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("is not an MTU") && stderr.contains("576 to 65536"),
            "{stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

/// Unplugged, the writer's kernel retransmits on timeout and doubles the
/// timeout each time; plugged in again, every byte still arrives.
#[test]
fn an_unplugged_cable_doubles_the_retransmission_timeout_and_loses_nothing() {
    use_sockscope_as_helper();
    let session = Session::start(LabConfig {
        sndbuf: Some(Size(64 * KIB)),
        write_rate: Rate::BytesPerSec(256 * KIB),
        write_chunk: Size(4 * KIB),
        sample_hz: 200,
        endpoint: Endpoint::Link(LinkSpec::default()),
        ..LabConfig::default()
    })
    .unwrap();
    assert_eq!(session.info().link, Some(LinkSpec::default()));
    let mut history = Vec::new();
    collect_until(&session, &mut history, "bytes flow", |h| {
        h.last().is_some_and(|s| s.read > 64 * KIB)
    });
    let before = *history.last().unwrap();
    session.set_cable(false).unwrap();
    // Three timeouts in a row: the RTO has doubled twice.
    collect_until(&session, &mut history, "the RTO doubles twice", |h| {
        h.last()
            .is_some_and(|s| s.sender.rto_us >= 4 * before.sender.rto_us.max(200_000))
    });
    let unplugged = history.last().copied().unwrap();
    assert!(
        unplugged.sender.total_retrans >= before.sender.total_retrans + 2,
        "{before:?} -> {unplugged:?}"
    );
    // Each new RTO is twice the one before (the kernel's own doubling).
    let mut rtos: Vec<u32> = history
        .iter()
        .filter(|s| s.t_ns >= before.t_ns)
        .map(|s| s.sender.rto_us)
        .collect();
    rtos.dedup();
    let doublings = rtos.windows(2).filter(|w| w[1] == 2 * w[0]).count();
    assert!(doublings >= 2, "RTOs seen: {rtos:?}");
    assert!(unplugged.read <= unplugged.written);

    session.set_cable(true).unwrap();
    let stuck_at = unplugged.read;
    collect_until(&session, &mut history, "bytes flow again", |h| {
        h.last().is_some_and(|s| s.read > stuck_at + 16 * KIB)
    });
    session.finish();
    drain(&session);
    let report = session.join();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.integrity(), Some(true), "{report:?}");
    assert_eq!(report.bytes_read, report.bytes_written);
}

/// The helper exits once it has handed over the sockets, and a closed link
/// frees its namespace: after many links, no child process and no
/// descriptor is left.
#[test]
fn links_leave_no_process_and_no_descriptor_behind() {
    use_sockscope_as_helper();
    let fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    // Helpers among this process's children (other tests here run
    // sockscope as a child too).
    let helpers = || {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .flat_map(|task| {
                let path = task.unwrap().path().join("children");
                let pids = std::fs::read_to_string(path).unwrap_or_default();
                pids.split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|pid| {
                // A helper, running or exited and never reaped (a zombie
                // has no command line left).
                let helper = std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains(link::HELPER_ARG));
                let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|stat| stat.rsplit(") ").next().is_some_and(|s| s.starts_with('Z')));
                helper || zombie
            })
            .count()
    };
    let open_before = fds();
    let started = std::time::Instant::now();
    for _ in 0..100 {
        let made = link::Link::open(LinkSpec::default()).unwrap();
        assert!(made.link.cable_plugged().unwrap());
        drop(made);
        assert!(started.elapsed() < DEADLINE, "100 links took too long");
    }
    // A helper that stays to make sockets (step mode) goes with its
    // factory.
    for _ in 0..10 {
        let (made, factory) = link::Link::open_serving(LinkSpec::default()).unwrap();
        let socket = factory.tcp().unwrap();
        drop((socket, factory, made));
    }
    // A test running beside this one may be starting a link of its own
    // right now: wait for none to be left, within the deadline.
    while helpers() > 0 {
        assert!(started.elapsed() < DEADLINE, "a helper process is left");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Other tests run in parallel threads of this process and open their
    // own descriptors; the links' would be hundreds.
    let open_after = fds();
    assert!(
        open_after < open_before + 30,
        "descriptors: {open_before} before, {open_after} after"
    );
}

/// Reads a CSV file's column as numbers.
fn column(text: &str, name: &str) -> Vec<f64> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|c| *c == name).unwrap();
    lines
        .map(|line| line.split(',').nth(at).unwrap().parse().unwrap_or(f64::NAN))
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Records `secs` seconds with `args`; returns the CSV text and the summary.
fn record(name: &str, secs: &str, args: &[&str]) -> (String, serde_json::Value) {
    let dir = scratch(name);
    let csv = common::record_csv_json(&dir, &[&["--duration", secs], args].concat());
    let json = std::fs::read_to_string(csv.with_extension("json")).unwrap();
    let summary = serde_json::from_str(&json).unwrap();
    (std::fs::read_to_string(&csv).unwrap(), summary)
}

#[test]
fn a_slow_link_holds_bytes_in_flight_with_an_rtt_far_above_the_unshaped_one() {
    let common = ["--sndbuf", "128K", "--write-chunk", "16K"];
    let (slow_csv, slow) = record(
        "slow",
        "2",
        &[&common[..], &["--link-rate", "256K"]].concat(),
    );
    let (fast_csv, fast) = record("fast", "1", &[&common[..], &["--link"]].concat());
    assert_eq!(slow["link"]["rate"], "256 KiB/s", "{slow}");
    assert_eq!(fast["link"]["rate"], "max", "{fast}");
    assert_eq!(slow["integrity_ok"], true);
    // The bottleneck sets the pace: about 256 KiB/s, far below unshaped.
    let slow_rate = slow["throughput_bytes_per_s"].as_f64().unwrap();
    assert!(
        (100.0 * 1024.0..300.0 * 1024.0).contains(&slow_rate),
        "{slow_rate} B/s on a 256 KiB/s link"
    );
    assert!(fast["throughput_bytes_per_s"].as_f64().unwrap() > 10.0 * slow_rate);
    // Sent, not yet acknowledged: bytes wait in flight for their ACK, and
    // the round trip grows with the queue at the bottleneck.
    let slow_flight = median(column(&slow_csv, "inflight_bytes"));
    assert!(
        slow_flight >= 8.0 * 1024.0,
        "median in flight {slow_flight} B"
    );
    // They wait in the bottleneck's queue (TBF's backlog, read from the
    // kernel); an unshaped link has no queue.
    let slow_queue = column(&slow_csv, "link_queue_bytes");
    assert!(
        slow_queue.iter().any(|&q| q >= 4.0 * 1024.0),
        "the bottleneck's queue never held 4 KiB"
    );
    assert!(
        column(&fast_csv, "link_queue_bytes")
            .iter()
            .all(|&q| q == 0.0)
    );
    let slow_rtt = median(column(&slow_csv, "rtt_us"));
    let fast_rtt = median(column(&fast_csv, "rtt_us"));
    assert!(
        slow_rtt > 10.0 * fast_rtt.max(100.0),
        "RTT {slow_rtt} µs on the slow link, {fast_rtt} µs unshaped"
    );
}

#[test]
fn the_link_rate_changes_live_without_reconnecting() {
    use_sockscope_as_helper();
    let session = Session::start(LabConfig {
        sndbuf: Some(Size(128 * KIB)),
        write_chunk: Size(16 * KIB),
        sample_hz: 100,
        endpoint: Endpoint::Link(LinkSpec::default()),
        ..LabConfig::default()
    })
    .unwrap();
    let mut history = Vec::new();
    collect_until(&session, &mut history, "bytes flow", |h| {
        h.last().is_some_and(|s| s.read > 1 << 20)
    });
    session.set_link_rate(Rate::BytesPerSec(128 * KIB)).unwrap();
    assert_eq!(
        session.link_spec().map(|spec| spec.rate),
        Some(Rate::BytesPerSec(128 * KIB))
    );
    // The switch from unshaped to 128 KiB/s finds megabytes in flight:
    // the new bottleneck drops most of them and TCP recovers on timeouts,
    // which back off (1 s, 2 s, ...) and can stall for seconds. After that
    // the pace is the link's: over the last two of six seconds, at most
    // 256 KiB and a margin, far from unshaped; and the connection lives on:
    // bytes arrive over the last four.
    let changed_at = history.last().unwrap().t_ns;
    collect_until(&session, &mut history, "six seconds at the new rate", |h| {
        h.last().unwrap().t_ns > changed_at + 6_000_000_000
    });
    let end = *history.last().unwrap();
    let read_since = |secs: u64| {
        let before = history
            .iter()
            .rev()
            .find(|s| s.t_ns + secs * 1_000_000_000 <= end.t_ns)
            .unwrap();
        end.read - before.read
    };
    let in_two_seconds = read_since(2);
    assert!(
        in_two_seconds < 512 * KIB,
        "{in_two_seconds} bytes in the last two seconds"
    );
    assert!(
        read_since(4) > 0,
        "nothing arrived in the last four seconds"
    );
    assert!(session.set_link_rate(Rate::BytesPerSec(KIB)).is_err());
    session.finish();
    drain(&session);
    assert_eq!(session.join().integrity(), Some(true));
}

#[test]
fn the_unplug_the_cable_scenario_doubles_the_timeout_and_loses_nothing() {
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/unplug-the-cable.toml"
    );
    let (csv, summary) = record("cable", "4.5", &["--scenario", scenario]);
    assert_eq!(summary["integrity_ok"], true, "{summary}");
    assert_eq!(summary["link"]["rate"], "1 MiB/s");
    assert!(summary["retransmits"].as_u64().unwrap() >= 3, "{summary}");
    // Unplugged from 1 s to 2.5 s: the timeouts seen there double.
    let t = column(&csv, "t_ms");
    let rto = column(&csv, "rto_us");
    let mut unplugged: Vec<f64> = t
        .iter()
        .zip(&rto)
        .filter(|(t, _)| (1000.0..2500.0).contains(*t))
        .map(|(_, rto)| *rto)
        .collect();
    unplugged.dedup();
    let doublings = unplugged.windows(2).filter(|w| w[1] == 2.0 * w[0]).count();
    assert!(doublings >= 2, "RTOs while unplugged: {unplugged:?}");
}

#[test]
fn bad_link_settings_are_one_sentence_and_exit_2() {
    let out = sockscope()
        .args(["record", "--duration", "1", "--link-rate", "1K"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("a link rate is 8K/s to max"), "{stderr}");
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/unplug-the-cable.toml"
    );
    let out = sockscope()
        .args([
            "record",
            "--duration",
            "1",
            "--connect",
            "127.0.0.1:9",
            "--scenario",
            scenario,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs sockscope's own pair"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn a_chosen_congestion_control_is_used_and_reported() {
    let default = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_congestion_control").unwrap();
    let (_, summary) = record("cc-default", "0.3", &["--link"]);
    assert_eq!(summary["congestion_control"], default.trim(), "{summary}");
    // On a link of its own an unprivileged user may pick any the kernel
    // offers; reno is always built in.
    let (_, summary) = record("cc-reno", "0.3", &["--link", "--congestion", "reno"]);
    assert_eq!(summary["congestion_control"], "reno", "{summary}");
    assert_eq!(summary["integrity_ok"], true);
    let out = sockscope()
        .args(["record", "--duration", "1", "--congestion", "warp-drive"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'warp-drive' is not a congestion control this kernel offers"),
        "{stderr}"
    );
}

/// Loss: the writer's kernel finds the dropped segments missing from the
/// ACKs and sends them again; the reader still gets every byte in order.
/// Loss set live by a scenario step starts the retransmissions then.
#[test]
fn loss_on_the_link_makes_the_writer_retransmit_and_loses_nothing() {
    let dir = scratch("loss-scenario");
    let scenario = dir.join("loss.toml");
    std::fs::write(
        &scenario,
        "write_rate = \"2M\"\nlink_loss = 0\n[[step]]\nat = 1\nlink_loss = 5\n",
    )
    .unwrap();
    let (csv, summary) = record(
        "loss",
        "3",
        &[
            "--scenario",
            scenario.to_str().unwrap(),
            "--sample-hz",
            "100",
            // Small send() calls make small frames: lo keeps segmentation
            // offload, and 128 KiB calls at 2 MiB/s pass as a few dozen
            // 64 KiB super-segments, too few for 5 % of them to be sure.
            "--write-chunk",
            "4K",
        ],
    );
    assert_eq!(summary["integrity_ok"], true, "{summary}");
    assert_eq!(summary["link"]["loss_percent"], 0.0, "{summary}");
    let t = column(&csv, "t_ms");
    let retrans = column(&csv, "total_retrans");
    let at = |ms: f64| {
        t.iter()
            .zip(&retrans)
            .take_while(|(t, _)| **t <= ms)
            .last()
            .map_or(0.0, |(_, r)| *r)
    };
    let before = at(900.0);
    let after = *retrans.last().unwrap() - at(1100.0);
    // About 2 MiB/s for 1.9 s in 1448-byte segments is some 2,700 of them;
    // 5 % lost is some 140 resent. A busy machine makes a few spurious
    // ones without loss (lo's backlog overflows while its softirq waits),
    // so the test is the jump, far from both ends.
    assert!(
        (20.0..=1000.0).contains(&after),
        "{after} retransmissions at 5 % loss"
    );
    assert!(
        after >= 3.0 * (before + 1.0) * 1.9 / 0.9,
        "{after} retransmissions in 1.9 s at 5 % loss, {before} in 0.9 s before"
    );
    assert_eq!(
        summary["retransmits"].as_f64().unwrap(),
        *retrans.last().unwrap()
    );
}

#[test]
fn the_link_loss_flag_is_reported_and_checked() {
    let (_, summary) = record("loss-flag", "0.5", &["--link-loss", "2.5"]);
    assert_eq!(summary["link"]["loss_percent"], 2.5, "{summary}");
    assert_eq!(summary["link"]["delay_ms"], 0, "{summary}");
    for bad in ["101", "-1", "lots"] {
        let out = sockscope()
            .args(["record", "--duration", "1", "--link-loss", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--link-loss {bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("a percentage from 0 to 100"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

/// Delay needs netem. Where the kernel has it, every packet waits the
/// delay on its way, so the round trip is at least twice it; where it has
/// not (this machine's kernel), the flag is refused in one sentence, exit
/// 2, with nothing written.
#[test]
fn a_link_delay_is_applied_with_netem_or_the_queue_and_refused_in_one_sentence_without() {
    let dir = scratch("delay");
    let csv = dir.join("run.csv");
    let out = sockscope()
        .args(["record", "--duration", "1", "--link-delay", "40", "--csv"])
        .arg(&csv)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {
            let rtt = median(column(&std::fs::read_to_string(&csv).unwrap(), "rtt_us"));
            assert!(rtt >= 80_000.0, "RTT {rtt} µs with 40 ms each way");
        }
        Some(2) => {
            assert_eq!(
                stderr.trim(),
                format!("sockscope: {}.", link::NO_NETEM),
                "{stderr}"
            );
            assert!(!csv.exists(), "a refused run wrote its CSV");
        }
        other => panic!("exit {other:?}: {stderr}"),
    }
    for bad in ["-5", "6000", "soon"] {
        let out = sockscope()
            .args(["record", "--duration", "1", "--link-delay", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--link-delay {bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is not a delay"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

/// Runs `record` for a delayed link; None (and a note) where this kernel
/// can delay neither with netem nor with a netfilter queue, after checking
/// that it says so in today's one sentence.
fn record_delayed(name: &str, secs: &str, args: &[&str]) -> Option<(String, serde_json::Value)> {
    record_delayed_told(name, secs, args).map(|(csv, summary, _)| (csv, summary))
}

/// `record_delayed`, with what the run printed (its report) too.
fn record_delayed_told(
    name: &str,
    secs: &str,
    args: &[&str],
) -> Option<(String, serde_json::Value, String)> {
    let dir = scratch(name);
    let (csv, json) = (dir.join("run.csv"), dir.join("run.json"));
    let out = sockscope()
        .args(["record", "--duration", secs])
        .args(args)
        .arg("--csv")
        .arg(&csv)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(2) && stderr.contains(link::NO_NETEM) {
        eprintln!("skipped: {}", link::NO_NETEM);
        return None;
    }
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(summary["integrity_ok"], true, "{summary}");
    let method = summary["link"]["delay_method"].as_str().unwrap_or("");
    assert!(["netem", "queue"].contains(&method), "{summary}");
    Some((
        std::fs::read_to_string(&csv).unwrap(),
        summary,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

/// The second half of a run's rows: past the handshake and slow start.
fn steady(csv: &str) -> String {
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    std::iter::once(header)
        .chain(rows[rows.len() / 2..].iter().copied())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Bytes a second read over the rows of `csv`.
fn read_rate(csv: &str) -> f64 {
    let (t, read) = (column(csv, "t_ms"), column(csv, "read_bytes"));
    (read[read.len() - 1] - read[0]) / ((t[t.len() - 1] - t[0]) / 1e3)
}

/// 50 ms each way at a classroom pace (the writer below the link, so no
/// queue adds to it): the kernel's own smoothed RTT is 100 to 105 ms, and
/// every sample says the delay in force.
#[test]
fn a_50_ms_delay_each_way_makes_a_round_trip_of_100_to_105_ms() {
    let Some((csv, summary)) = record_delayed(
        "delay-rtt",
        "3",
        &["--link-delay", "50", "--write-rate", "256K"],
    ) else {
        return;
    };
    assert_eq!(summary["link"]["delay_ms"], 50, "{summary}");
    assert_eq!(summary["link"]["delay_stopped"], false, "{summary}");
    assert!(column(&csv, "link_delay_ms").iter().all(|&d| d == 50.0));
    let rtt = median(column(&steady(&csv), "rtt_us"));
    assert!(
        (100_000.0..=105_000.0).contains(&rtt),
        "median tcpi_rtt {rtt} µs with 50 ms each way"
    );
}

/// The lesson of the bandwidth-delay product: on a long link the receive
/// window, not the link, sets the speed (throughput ≈ window ÷ RTT), and
/// a bigger SO_RCVBUF goes faster.
#[test]
fn on_a_long_link_the_receive_buffer_sets_the_speed() {
    let run = |rcvbuf: &str| {
        let (csv, _) = record_delayed(
            &format!("delay-rcvbuf-{rcvbuf}"),
            "5",
            &["--link-delay", "50", "--rcvbuf", rcvbuf],
        )?;
        let csv = steady(&csv);
        let measured = read_rate(&csv);
        // The window the writer sees advertised, over the round trip.
        let window = median(column(&csv, "snd_wnd_bytes"));
        let rtt_s = median(column(&csv, "rtt_us")) / 1e6;
        let formula = window / rtt_s;
        assert!(
            (measured / formula - 1.0).abs() <= 0.25,
            "--rcvbuf {rcvbuf}: {measured:.0} B/s measured, window {window} B ÷ RTT \
             {rtt_s} s = {formula:.0} B/s"
        );
        Some(measured)
    };
    let Some(small) = run("64K") else { return };
    let big = run("1M").unwrap();
    assert!(
        big >= 4.0 * small,
        "{big:.0} B/s with --rcvbuf 1M, {small:.0} B/s with 64K"
    );
}

/// `record` says what set the speed over the run, in its report and its
/// JSON: on a long link with a small SO_RCVBUF the receive window (its
/// formula, window ÷ round trip, near the measured speed), and with a big
/// one on a slow link the link's rate.
#[test]
fn record_says_what_set_the_speed() {
    let Some((_, summary, told)) = record_delayed_told(
        "speed-rwnd",
        "4",
        &["--link-delay", "50", "--rcvbuf", "64K"],
    ) else {
        return;
    };
    let speed = &summary["speed_limit"];
    assert_eq!(speed["by"], "receive_window", "{summary}");
    let (formula, measured) = (
        speed["formula_bytes_per_s"].as_f64().unwrap(),
        speed["measured_bytes_per_s"].as_f64().unwrap(),
    );
    let (window, rtt_ms) = (
        speed["window_bytes"].as_f64().unwrap(),
        speed["rtt_ms"].as_f64().unwrap(),
    );
    assert!(
        (formula - window / (rtt_ms / 1e3)).abs() < 1.0,
        "the formula is the window ÷ the round trip: {speed}"
    );
    assert!((100.0..=110.0).contains(&rtt_ms), "{speed}");
    assert!((measured / formula - 1.0).abs() <= 0.25, "{speed}");
    let line = told
        .lines()
        .find(|l| l.trim_start().starts_with("speed: "))
        .unwrap_or_else(|| panic!("no speed line in:\n{told}"));
    assert!(
        line.contains("speed: receive window ")
            && line.contains(" ÷ round trip ")
            && line.contains("(measured ")
            && line.contains("The receive buffer, not the link, sets the speed"),
        "{line}"
    );

    let (_, summary, told) = record_delayed_told(
        "speed-link",
        "4",
        &[
            "--link-delay",
            "50",
            "--link-rate",
            "256K",
            "--rcvbuf",
            "4M",
        ],
    )
    .unwrap();
    let speed = &summary["speed_limit"];
    assert_eq!(speed["by"], "link", "{summary}");
    assert_eq!(speed["formula_bytes_per_s"], 262_144.0, "{speed}");
    assert!(speed["window_bytes"].is_null(), "{speed}");
    assert!(
        told.contains("  speed: link rate 256 KiB/s (measured ")
            && told.contains("The link's rate sets the speed"),
        "{told}"
    );
}

/// Live changes of the delay, in the session the window drives: each
/// reaches the samples, and nothing is lost or resent. (Reordering itself
/// is the tshark test's below: a deliberately reordering thread passed
/// this one, since TCP absorbs small reorderings without resending, and
/// failed that one.) Only shorter delays could reorder, so the steps only
/// shorten it: a
/// sudden longer one makes the writer's tail-loss probe fire before the
/// ACK can come back, a spurious resend of TCP's own (tshark shows it
/// undone by a D-SACK), which is not a reordering.
/// At a classroom pace: at hundreds of MiB/s the bursts the queue lets go
/// at once can overflow the reading socket's backlog (rcv_drops), a loss
/// that is not a reordering.
#[test]
fn live_delay_changes_reach_the_samples_and_resend_nothing() {
    use_sockscope_as_helper();
    let session = Session::start(LabConfig {
        write_rate: Rate::BytesPerSec(8 * MIB),
        sample_hz: 100,
        endpoint: Endpoint::Link(LinkSpec {
            delay_ms: 120,
            ..LinkSpec::default()
        }),
        ..LabConfig::default()
    });
    let session = match session {
        Err(e) if e.to_string().contains(link::NO_NETEM) => return,
        made => made.unwrap(),
    };
    let mut history = Vec::new();
    for delay in [60, 20, 5, 1, 0] {
        let from = history
            .last()
            .map_or(0, |s: &sockscope::lab::Sample| s.read);
        collect_until(&session, &mut history, "bytes flow", |h| {
            h.last().is_some_and(|s| s.read > from + 2 * MIB)
        });
        session.set_link_delay(delay).unwrap();
        collect_until(&session, &mut history, "the new delay in force", |h| {
            h.last().is_some_and(|s| s.link_delay_ms == delay)
        });
    }
    session.finish();
    history.extend(drain(&session));
    let report = session.join();
    assert_eq!(report.integrity(), Some(true), "{report:?}");
    let last = history.last().unwrap();
    assert_eq!(last.receiver_memory.drops, 0, "the reading socket dropped");
    assert_eq!(
        last.sender.total_retrans, 0,
        "segments resent after live delay changes"
    );
}

/// If the delaying thread ends, the queue fails open: traffic goes on
/// undelayed, the samples say so (and the timeline's event in the same
/// sentence record prints), and every byte still arrives.
#[test]
fn a_stopped_delaying_thread_fails_open_and_loses_nothing() {
    use_sockscope_as_helper();
    let session = Session::start(LabConfig {
        write_rate: Rate::BytesPerSec(4 * MIB),
        sample_hz: 100,
        endpoint: Endpoint::Link(LinkSpec {
            delay_ms: 50,
            ..LinkSpec::default()
        }),
        ..LabConfig::default()
    });
    let session = match session {
        Err(e) if e.to_string().contains(link::NO_NETEM) => return,
        made => made.unwrap(),
    };
    if session.link_delay_method() != Some(link::DelayMethod::Queue) {
        eprintln!("skipped: this kernel delays with netem, no thread to stop");
        return;
    }
    let mut history = Vec::new();
    collect_until(&session, &mut history, "bytes flow, delayed", |h| {
        h.last()
            .is_some_and(|s| s.read > MIB && s.sender.rtt_us >= 100_000 && !s.delay_stopped)
    });
    assert!(history.iter().any(|s| s.delay_held_packets > 0));
    session.stop_link_delaying_thread().unwrap();
    let stopped_at = history.last().unwrap().read;
    collect_until(&session, &mut history, "bytes flow on, undelayed", |h| {
        h.last().is_some_and(|s| {
            s.delay_stopped && s.read > stopped_at + 4 * MIB && s.sender.rtt_us < 20_000
        })
    });
    let last = *history.last().unwrap();
    assert_eq!((last.delay_held_packets, last.link_delay_ms), (0, 0));
    // Asked again, the delay says it has stopped rather than pretend.
    let again = session.set_link_delay(20).unwrap_err().to_string();
    assert!(again.contains(link::DELAY_STOPPED), "{again}");
    session.finish();
    history.extend(drain(&session));
    let report = session.join();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.integrity(), Some(true), "{report:?}");
    assert_eq!(report.bytes_read, report.bytes_written);
    let mut timeline = sockscope::lab::Timeline::new();
    for sample in &history {
        timeline.push(*sample);
    }
    let stops: Vec<_> = timeline
        .events()
        .iter()
        .filter(|e| e.kind == sockscope::lab::EventKind::DelayStopped)
        .collect();
    assert_eq!(stops.len(), 1, "{:?}", timeline.events());
    assert_eq!(
        stops[0].kind.describe(sockscope::i18n::Lang::En),
        link::DELAY_STOPPED
    );
}

/// tshark as the oracle, at MTU 1500: a scenario that shortens the delay
/// live, captured, shows the reader never acknowledging out of order (no
/// duplicate ACK, no SACK block) and the writer never resending. The
/// capture sees each frame as it enters lo, before the delay; the reader's
/// ACKs are what tell how the segments came out of it.
#[test]
fn tshark_finds_nothing_reordered_when_the_delay_shortens_live() {
    let dir = scratch("delay-tshark");
    let scenario = dir.join("shorter.toml");
    std::fs::write(
        &scenario,
        "write_rate = \"8M\"\nlink_delay = 80\n\
         [[step]]\nat = 0.8\nlink_delay = 30\n\
         [[step]]\nat = 1.4\nlink_delay = 5\n\
         [[step]]\nat = 2\nlink_delay = 0\n",
    )
    .unwrap();
    let pcap = dir.join("run.pcap");
    let Some((csv, summary)) = record_delayed(
        "delay-tshark-run",
        "2.5",
        &[
            "--scenario",
            scenario.to_str().unwrap(),
            "--pcap",
            pcap.to_str().unwrap(),
        ],
    ) else {
        return;
    };
    let delays = column(&csv, "link_delay_ms");
    for step in [80.0, 30.0, 5.0, 0.0] {
        assert!(delays.contains(&step), "no sample at {step} ms");
    }
    assert_eq!(summary["capture"]["dropped"], 0, "{summary}");
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args([
            "-Y",
            "tcp.analysis.duplicate_ack or tcp.options.sack_le or tcp.analysis.retransmission",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "_ws.expert.message",
        ])
        .output()
        .expect("tshark runs");
    assert!(out.status.success(), "{out:?}");
    let flagged = String::from_utf8_lossy(&out.stdout);
    assert!(flagged.trim().is_empty(), "frames flagged:\n{flagged}");
    assert_eq!(summary["retransmits"], 0, "{summary}");
}
