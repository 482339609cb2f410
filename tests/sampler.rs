//! The sampler on real loopback sockets: it keeps the asked rate (loosely:
//! these machines are noisy) while the reader is busy, while it is paused
//! and the sampler thread covers for it, and after a live change of rate.

mod common;

use std::time::Duration;

use common::collect_until;
use sockscope::lab::{LabConfig, Rate, Sample, Session, Size};

const KIB: u64 = 1024;

/// Samples per second over the last `span` of `history`.
fn rate_over(history: &[Sample], span: Duration) -> f64 {
    let newest = history.last().map_or(0, |s| s.t_ns);
    let since = newest.saturating_sub(span.as_nanos() as u64);
    let n = history.iter().filter(|s| s.t_ns > since).count();
    n as f64 / span.as_secs_f64()
}

/// Collects until `span` of samples newer than `after_ns` have arrived.
fn collect_span(session: &Session, history: &mut Vec<Sample>, after_ns: u64, span: Duration) {
    let until = after_ns + span.as_nanos() as u64;
    collect_until(session, history, "a span of samples", |h| {
        h.last().is_some_and(|s| s.t_ns >= until)
    });
}

#[test]
fn the_sampler_keeps_its_rate_busy_paused_and_after_a_live_change() {
    let session = Session::start(LabConfig {
        sndbuf: Some(Size(64 * KIB)),
        rcvbuf: Some(Size(64 * KIB)),
        write_rate: Rate::BytesPerSec(4 << 20),
        write_chunk: Size(4 * KIB),
        read_chunk: Size(4 * KIB),
        sample_hz: 200,
        ..LabConfig::default()
    })
    .unwrap();
    let span = Duration::from_millis(500);
    let mut history = Vec::new();
    // The reader busy: it takes the samples that fall due while it runs.
    collect_span(&session, &mut history, 0, Duration::from_millis(600));
    let busy = rate_over(&history, span);
    assert!(
        busy > 100.0,
        "200 Hz asked, {busy:.0} Hz with a busy reader"
    );
    assert!(busy < 300.0, "200 Hz asked, {busy:.0} Hz: never faster");

    // The reader paused: it sleeps, and the sampler thread takes over.
    session.set_read_rate(Rate::Paused);
    collect_until(&session, &mut history, "the reader paused", |h| {
        h.last().is_some_and(Sample::reader_paused)
    });
    let paused_at = history.last().unwrap().t_ns;
    collect_span(
        &session,
        &mut history,
        paused_at,
        Duration::from_millis(600),
    );
    let paused = rate_over(&history, span);
    assert!(
        paused > 100.0,
        "200 Hz asked, {paused:.0} Hz with the reader paused"
    );

    // A live change of rate: up to 1 kHz, then down to 20 Hz.
    session.set_sample_hz(1000).unwrap();
    let changed_at = history.last().unwrap().t_ns + 50_000_000;
    collect_span(
        &session,
        &mut history,
        changed_at,
        Duration::from_millis(600),
    );
    let fast = rate_over(&history, span);
    assert!(fast > 500.0, "1000 Hz asked, {fast:.0} Hz");
    session.set_sample_hz(20).unwrap();
    let changed_at = history.last().unwrap().t_ns + 100_000_000;
    collect_span(
        &session,
        &mut history,
        changed_at,
        Duration::from_millis(1100),
    );
    let slow = rate_over(&history, Duration::from_secs(1));
    assert!(slow > 10.0 && slow < 30.0, "20 Hz asked, {slow:.0} Hz");
    // Samples stay in time order through every hand-over.
    assert!(history.windows(2).all(|w| w[0].t_ns < w[1].t_ns));
    session.abort();
    drop(session.join());
}

/// Every TCP_INFO value a sample repeats carries its age; none is older
/// than the ration allows (one fresh reading every `hz / BUSY_TCP_INFO_HZ`
/// samples); the window flag is read fresh while the writer waits in
/// poll(); and no sample shows more unsent than queued.
#[test]
fn tcp_info_is_rationed_with_its_age_and_the_queues_stay_consistent() {
    use sockscope::lab::sampler::BUSY_TCP_INFO_HZ;
    let hz = 1000;
    // Unthrottled both ways: the writer is inside send() nearly always.
    let session = Session::start(LabConfig {
        sample_hz: hz,
        ..LabConfig::default()
    })
    .unwrap();
    let mut history = Vec::new();
    collect_span(&session, &mut history, 0, Duration::from_millis(500));
    // Then a paused reader: the writer ends up blocked in poll().
    session.set_read_rate(Rate::Paused);
    collect_until(&session, &mut history, "the writer blocked", |h| {
        h.iter()
            .rev()
            .take(50)
            .filter(|s| s.writer_blocked())
            .count()
            == 50
    });
    session.abort();
    drop(session.join());

    let every = (hz / BUSY_TCP_INFO_HZ) as usize;
    for run in history.windows(every) {
        assert!(run.iter().any(|s| s.sender_info_age_us == 0), "{run:?}");
        assert!(run.iter().any(|s| s.receiver_info_age_us == 0), "{run:?}");
    }
    let repeated = history.iter().filter(|s| s.sender_info_age_us > 0).count();
    assert!(
        repeated > 0,
        "a busy writer's readings are rationed, and say so"
    );
    for s in &history {
        assert!(s.unsent <= s.send_queue, "{s:?}");
    }
    // Blocked in poll() the writer holds no lock and its window is read
    // fresh, but for the moments it retries send() (each pacing tick).
    let stalled = &history[history.len() - 50..];
    let fresh = stalled.iter().filter(|s| s.sender_info_age_us == 0).count();
    assert!(fresh >= 25, "{fresh} of 50 stalled samples read fresh");
}
