//! The run controller that `record` and the window share, on real loopback
//! sockets: start, controls, scenario, restart, cancel, drain and report.

mod common;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use common::DEADLINE;
use sockscope::lab::scenario;
use sockscope::lab::{Endpoint, EventKind, LabConfig, Rate, Size};
use sockscope::run::{Control, Notice, Phase, Run, RunError, ScenarioNote};

const KIB: u64 = 1024;

fn small_config() -> LabConfig {
    LabConfig {
        sndbuf: Some(Size(16 * KIB)),
        rcvbuf: Some(Size(16 * KIB)),
        write_rate: Rate::BytesPerSec(512 * KIB),
        write_chunk: Size(4 * KIB),
        read_rate: Rate::Unlimited,
        read_chunk: Size(4 * KIB),
        sample_hz: 500,
        ..LabConfig::default()
    }
}

/// Pumps until `done` holds, collecting every notice; panics with `what`
/// if it never does.
fn pump_until(run: &mut Run, what: &str, mut done: impl FnMut(&Run) -> bool) -> Vec<Notice> {
    let deadline = Instant::now() + DEADLINE;
    let mut notices = Vec::new();
    loop {
        notices.extend(run.pump().notices);
        if done(run) {
            return notices;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for: {what} ({:?}, {:?})",
            run.phase(),
            run.error()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_run_connects_samples_finishes_and_reports_every_byte() {
    let mut run = Run::new(small_config(), None);
    assert_eq!(run.phase(), Phase::Idle);
    run.start(small_config());
    assert_eq!(run.phase(), Phase::Connecting);
    pump_until(&mut run, "samples", |r| r.timeline().total_samples() > 50);
    assert_eq!(run.phase(), Phase::Running);
    let info = run.info().expect("connected").clone();
    assert_eq!(run.session_id(), Some(info.id));
    run.finish();
    assert_eq!(run.phase(), Phase::Finishing);
    pump_until(&mut run, "the drain", |r| r.phase() == Phase::Ended);
    let report = run.report().expect("a report");
    assert_eq!(report.integrity(), Some(true), "{report:?}");
    assert!(report.bytes_read > 0);
    // The figures cover every sample the timeline took.
    let figures = run.figures();
    let last = run.timeline().last().expect("samples");
    assert_eq!(figures.last_sample_ns, last.t_ns);
    assert!(figures.first_sample_ns < figures.last_sample_ns);
    assert_eq!(last.read, report.bytes_read);
}

#[test]
fn controls_given_while_connecting_reach_the_session() {
    let config = LabConfig {
        read_rate: Rate::BytesPerSec(64 * KIB),
        ..small_config()
    };
    let mut run = Run::new(config, None);
    run.start(config);
    // Before the connection exists: the controller keeps it for the
    // session it is making.
    run.toggle_reader_pause();
    assert!(run.config().read_rate.is_paused());
    assert!(run.is_connecting());
    pump_until(&mut run, "a paused reader with a full receive queue", |r| {
        r.timeline()
            .last()
            .is_some_and(|s| s.reader_paused() && s.recv_queue > 0)
    });
    // Resuming goes back to the rate before the pause, not to "max".
    run.toggle_reader_pause();
    assert_eq!(run.config().read_rate, Rate::BytesPerSec(64 * KIB));
    assert_eq!(run.resume_read_rate(), Rate::BytesPerSec(64 * KIB));
    pump_until(&mut run, "the reader resumed", |r| {
        r.timeline()
            .events()
            .iter()
            .any(|e| e.kind == EventKind::ReaderResumed)
    });
}

#[test]
fn a_scenario_plays_its_steps_on_the_sessions_clock_and_says_so() {
    let text = r#"
write_rate = "256K"
[[step]]
at = 0.2
read_rate = "0"
[[step]]
at = 0.4
read_rate = "max"
"#;
    let scenario = scenario::parse(text, "pause.toml").unwrap();
    let mut run = Run::new(small_config(), None);
    run.start_scenario("pause", &scenario);
    assert_eq!(run.config().write_rate, Rate::BytesPerSec(256 * KIB));
    assert_eq!(
        run.scenario_note(),
        Some(&ScenarioNote::Started("pause".into()))
    );
    let notices = pump_until(&mut run, "both steps", |r| r.next_step_at().is_none());
    let steps: Vec<(Duration, Option<Duration>)> = notices
        .iter()
        .filter_map(|n| match n {
            Notice::ScenarioStep(ScenarioNote::Step { at, next, .. }) => Some((*at, *next)),
            _ => None,
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            (Duration::from_millis(200), Some(Duration::from_millis(400))),
            (Duration::from_millis(400), None)
        ]
    );
    // Applied no earlier than due: the pause shows in samples taken after
    // the step's time on the session's clock.
    pump_until(&mut run, "the pause in the samples", |r| {
        r.timeline()
            .events()
            .iter()
            .any(|e| e.kind == EventKind::ReaderPaused)
    });
    let paused_at = run
        .timeline()
        .events()
        .iter()
        .find(|e| e.kind == EventKind::ReaderPaused)
        .unwrap()
        .t_ns;
    assert!(paused_at >= 200_000_000, "paused at {paused_at} ns");
    assert_eq!(run.config().read_rate, Rate::Unlimited);
}

#[test]
fn a_restart_starts_an_empty_record_and_never_mixes_sessions() {
    let mut run = Run::new(small_config(), None);
    run.start(small_config());
    // Long enough that the first session's samples are far from zero on
    // its clock: any of them mixed into the new record would show.
    pump_until(&mut run, "a second of samples", |r| {
        r.timeline().last().is_some_and(|s| s.t_ns > 1_500_000_000)
    });
    let first = run.session_id().unwrap();
    let config = LabConfig {
        rcvbuf: Some(Size(32 * KIB)),
        ..small_config()
    };
    run.start(config);
    assert_eq!(run.timeline().total_samples(), 0);
    assert!(run.info().is_none());
    pump_until(&mut run, "the new session's samples", |r| {
        r.timeline().total_samples() > 20
    });
    let second = run.info().unwrap();
    assert_ne!(second.id, first);
    assert_eq!(second.rcvbuf.requested, Some(32 * KIB));
    // Every sample is the new session's: its clock started at zero, and
    // the record runs forward from there.
    let recent = run.timeline().recent();
    assert!(recent.front().unwrap().t_ns < 1_000_000_000);
    assert!(
        recent
            .iter()
            .zip(recent.iter().skip(1))
            .all(|(a, b)| a.t_ns <= b.t_ns)
    );
}

#[test]
fn a_wait_for_an_outside_client_can_be_cancelled_and_frees_its_port() {
    // The probe below binds the port for a moment, which can make
    // sockscope's own bind fail: then the start fails, and another port is
    // tried.
    let (mut run, addr) = (0..5)
        .find_map(|_| {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, common::free_port()));
            let config = LabConfig {
                endpoint: Endpoint::Listen(addr),
                ..small_config()
            };
            let mut run = Run::new(config, None);
            run.start(config);
            // It listens: a client could connect now.
            let deadline = Instant::now() + DEADLINE;
            while TcpListener::bind(addr).is_ok() {
                run.pump();
                if run.error().is_some() {
                    return None;
                }
                assert!(Instant::now() < deadline, "never listened on {addr}");
                std::thread::sleep(Duration::from_millis(10));
            }
            Some((run, addr))
        })
        .expect("a free port in five tries");
    run.cancel();
    assert_eq!(run.phase(), Phase::Idle);
    assert!(!run.is_connecting());
    // Within its 100 ms poll the waiting thread closes the listener.
    let deadline = Instant::now() + DEADLINE;
    while TcpListener::bind(addr).is_err() {
        assert!(Instant::now() < deadline, "{addr} stayed taken");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(run.error().is_none());
}

#[test]
fn a_bad_setting_is_a_start_error_not_a_panic() {
    let config = LabConfig {
        sample_hz: 0,
        ..small_config()
    };
    let mut run = Run::new(config, None);
    run.start(config);
    pump_until(&mut run, "the start's error", |r| r.error().is_some());
    assert!(matches!(run.error(), Some(RunError::Start(_))));
    assert_eq!(run.phase(), Phase::Idle);
}

#[test]
fn a_recorded_run_neither_starts_nor_takes_controls() {
    let mut live = Run::new(small_config(), None);
    live.start(small_config());
    pump_until(&mut live, "samples", |r| r.timeline().total_samples() > 10);
    let info = live.info().unwrap().clone();
    let timeline = live.timeline().clone();
    drop(live);
    let mut run = Run::recorded(small_config(), info, std::sync::Arc::new(timeline.clone()));
    assert_eq!(run.phase(), Phase::Recorded);
    run.start(small_config());
    run.control(Control::ReadRate(Rate::Paused));
    assert_eq!(run.phase(), Phase::Recorded);
    assert_eq!(run.config().read_rate, Rate::Unlimited);
    assert_eq!(run.pump().samples, 0);
    assert_eq!(run.timeline().total_samples(), timeline.total_samples());
}

/// A source that is not the lab's: the samples of an earlier real run,
/// handed out a few at a time, as a recording played back would be.
struct Replay {
    info: sockscope::lab::SessionInfo,
    samples: std::collections::VecDeque<sockscope::lab::Sample>,
    report: sockscope::lab::SessionReport,
    finished: std::sync::atomic::AtomicBool,
}

impl sockscope::run::SampleSource for Replay {
    fn info(&self) -> &sockscope::lab::SessionInfo {
        &self.info
    }
    fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.samples.front().map_or(0, |s| s.t_ns))
    }
    fn poll(&mut self, out: &mut Vec<sockscope::lab::Sample>) -> sockscope::run::Feed {
        let finished = self.finished.load(std::sync::atomic::Ordering::Relaxed);
        let n = if finished { self.samples.len() } else { 7 };
        out.extend(self.samples.drain(..n.min(self.samples.len())));
        if self.samples.is_empty() {
            sockscope::run::Feed::Ended
        } else {
            sockscope::run::Feed::Open
        }
    }
    fn control(&self, _: Control) -> Result<(), sockscope::lab::LabError> {
        Ok(())
    }
    fn finish(&self) {
        self.finished
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    fn abort(&self) {}
    fn join(self: Box<Self>) -> sockscope::lab::SessionReport {
        self.report
    }
}

#[test]
fn any_source_is_pumped_into_the_same_timeline_events_and_report() {
    // A real paused-reader run: its stall and zero-window events.
    let config = LabConfig {
        read_rate: Rate::Paused,
        ..small_config()
    };
    let mut live = Run::new(config, None);
    live.start(config);
    pump_until(&mut live, "a blocked writer", |r| {
        r.timeline().last().is_some_and(|s| s.writer_blocked())
    });
    live.finish();
    pump_until(&mut live, "the end", |r| r.phase() == Phase::Ended);
    let info = live.info().unwrap().clone();
    let report = live.report().unwrap().clone();
    let samples: Vec<_> = live.timeline().recent().iter().copied().collect();
    let live_events: Vec<_> = live.timeline().events().iter().copied().collect();
    let live_figures = live.figures();
    drop(live);

    let mut run = Run::new(small_config(), None);
    run.watch(Box::new(Replay {
        info: info.clone(),
        samples: samples.iter().copied().collect(),
        report: report.clone(),
        finished: false.into(),
    }));
    assert_eq!(run.phase(), Phase::Running);
    assert_eq!(run.info(), Some(&info));
    let pumped = run.pump();
    assert_eq!(pumped.samples, 7.min(samples.len()));
    let mut notices = pumped.notices;
    run.finish();
    notices.extend(pump_until(&mut run, "the replay's end", |r| {
        r.phase() == Phase::Ended
    }));
    assert_eq!(run.timeline().total_samples(), samples.len() as u64);
    let events: Vec<_> = run.timeline().events().iter().copied().collect();
    assert_eq!(events, live_events);
    let noticed: Vec<_> = notices
        .iter()
        .filter_map(|n| match n {
            Notice::Event(e) => Some(*e),
            Notice::ScenarioStep(_) => None,
        })
        .collect();
    assert_eq!(noticed, live_events, "every event noticed once, in order");
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::WriterStallStarted)
    );
    assert_eq!(run.report(), Some(&report));
    assert_eq!(run.figures(), live_figures);
}
