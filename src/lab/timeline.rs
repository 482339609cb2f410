//! A bounded in-memory record of a session: recent samples at full
//! resolution, older ones folded into min/max spans, and the flow-control
//! events derived from them.

use std::collections::VecDeque;
use std::time::Duration;

use super::sample::{ReaderState, Sample, WriterState};

/// Full-resolution samples kept: 8.7 minutes at 1 kHz, 44 minutes at the
/// default 200 Hz (about 67 MB). One less than a power of two, because the
/// deque's storage grows by doubling and must hold one extra while pushing.
pub const DEFAULT_RECENT_CAPACITY: usize = (1 << 19) - 1;
/// Spans kept before neighbours are merged (halving the resolution again).
pub const DEFAULT_ARCHIVE_CAPACITY: usize = 100_000;
/// Samples folded into one span when they leave the recent window.
const INITIAL_SPAN_LEN: u32 = 32;
const EVENT_CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// send() would block: the send buffer is full.
    WriterStallStarted,
    /// send() accepts bytes again, after `stalled`.
    WriterStallEnded {
        stalled: Duration,
    },
    /// The reader advertises a zero window.
    WindowClosed,
    /// The window is open again.
    WindowReopened,
    ReaderPaused,
    ReaderResumed,
    /// The reader's recv() returned 0: the writer closed its side.
    PeerClosed,
    /// The connection was reset.
    PeerReset,
    /// The writer's send() failed: the peer is gone.
    WriterPeerGone,
}

impl EventKind {
    /// One line for a log.
    pub fn describe(&self) -> String {
        match self {
            EventKind::WriterStallStarted => {
                "writer stalled: send() would block, the send buffer is full".into()
            }
            EventKind::WriterStallEnded { stalled } => {
                format!(
                    "writer resumed after a {:.1} ms stall",
                    stalled.as_secs_f64() * 1e3
                )
            }
            EventKind::WindowClosed => {
                "window = 0: the reader advertises no room, the writer may send no data".into()
            }
            EventKind::WindowReopened => "window open again: the reader made room".into(),
            EventKind::ReaderPaused => "reader paused: no more recv() calls".into(),
            EventKind::ReaderResumed => "reader resumed recv()".into(),
            EventKind::PeerClosed => "peer closed: recv() returned 0 bytes".into(),
            EventKind::PeerReset => "peer reset the connection (ECONNRESET)".into(),
            EventKind::WriterPeerGone => "send() failed: the peer is gone".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Time of the first sample that showed it, ns since the session start.
    pub t_ns: u64,
    pub kind: EventKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MinMax {
    pub min: u32,
    pub max: u32,
}

impl MinMax {
    fn of(value: u32) -> Self {
        MinMax {
            min: value,
            max: value,
        }
    }

    fn merge(&mut self, other: MinMax) {
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }
}

/// Consecutive samples folded into one: the extremes survive, so a peak or
/// a stall never disappears from a zoomed-out view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleSpan {
    pub t_start_ns: u64,
    pub t_end_ns: u64,
    pub count: u32,
    pub send_queue: MinMax,
    pub unsent: MinMax,
    pub in_flight: MinMax,
    pub recv_queue: MinMax,
    /// Counters at the span's last sample.
    pub written: u64,
    pub read: u64,
    pub any_writer_blocked: bool,
    pub any_zero_window: bool,
}

impl SampleSpan {
    fn of(sample: &Sample) -> Self {
        SampleSpan {
            t_start_ns: sample.t_ns,
            t_end_ns: sample.t_ns,
            count: 1,
            send_queue: MinMax::of(sample.send_queue),
            unsent: MinMax::of(sample.unsent),
            in_flight: MinMax::of(sample.in_flight()),
            recv_queue: MinMax::of(sample.recv_queue),
            written: sample.written,
            read: sample.read,
            any_writer_blocked: sample.writer_blocked(),
            any_zero_window: sample.zero_window,
        }
    }

    fn add(&mut self, sample: &Sample) {
        self.merge(&SampleSpan::of(sample));
    }

    /// Appends a later span.
    fn merge(&mut self, later: &SampleSpan) {
        self.t_end_ns = later.t_end_ns;
        self.count += later.count;
        self.send_queue.merge(later.send_queue);
        self.unsent.merge(later.unsent);
        self.in_flight.merge(later.in_flight);
        self.recv_queue.merge(later.recv_queue);
        self.written = later.written;
        self.read = later.read;
        self.any_writer_blocked |= later.any_writer_blocked;
        self.any_zero_window |= later.any_zero_window;
    }
}

#[derive(Debug, Clone)]
pub struct Timeline {
    recent: VecDeque<Sample>,
    recent_capacity: usize,
    archive: Vec<SampleSpan>,
    archive_capacity: usize,
    /// Samples per archived span; doubles each time the archive is halved.
    span_len: u32,
    /// The span being filled from samples leaving the recent window.
    filling: Option<SampleSpan>,
    events: VecDeque<Event>,
    events_dropped: u64,
    last: Option<Sample>,
    total_samples: u64,
    peak_send_queue: u32,
    peak_recv_queue: u32,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline::with_capacity(DEFAULT_RECENT_CAPACITY, DEFAULT_ARCHIVE_CAPACITY)
    }
}

impl Timeline {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(recent_capacity: usize, archive_capacity: usize) -> Self {
        Timeline {
            recent: VecDeque::new(),
            recent_capacity: recent_capacity.max(1),
            archive: Vec::new(),
            archive_capacity: archive_capacity.max(2),
            span_len: INITIAL_SPAN_LEN,
            filling: None,
            events: VecDeque::new(),
            events_dropped: 0,
            last: None,
            total_samples: 0,
            peak_send_queue: 0,
            peak_recv_queue: 0,
        }
    }

    pub fn extend(&mut self, samples: impl IntoIterator<Item = Sample>) {
        for sample in samples {
            self.push(sample);
        }
    }

    pub fn push(&mut self, sample: Sample) {
        if let Some(previous) = self.last {
            self.derive_events(&previous, &sample);
        } else {
            self.derive_events(&Sample::default(), &sample);
        }
        self.peak_send_queue = self.peak_send_queue.max(sample.send_queue);
        self.peak_recv_queue = self.peak_recv_queue.max(sample.recv_queue);
        self.total_samples += 1;
        self.last = Some(sample);
        self.recent.push_back(sample);
        while self.recent.len() > self.recent_capacity {
            let old = self.recent.pop_front().expect("len > capacity >= 1");
            self.archive_sample(&old);
        }
    }

    fn archive_sample(&mut self, sample: &Sample) {
        match &mut self.filling {
            Some(span) => span.add(sample),
            None => self.filling = Some(SampleSpan::of(sample)),
        }
        if self.filling.is_some_and(|span| span.count >= self.span_len) {
            self.archive.push(self.filling.take().expect("checked"));
            if self.archive.len() > self.archive_capacity {
                self.halve_archive();
            }
        }
    }

    fn halve_archive(&mut self) {
        let merged = self
            .archive
            .chunks(2)
            .map(|pair| {
                let mut span = pair[0];
                if let Some(second) = pair.get(1) {
                    span.merge(second);
                }
                span
            })
            .collect();
        self.archive = merged;
        self.span_len = self.span_len.saturating_mul(2);
    }

    fn derive_events(&mut self, before: &Sample, now: &Sample) {
        let t_ns = now.t_ns;
        let mut events = Vec::new();
        if now.writer_blocked() && !before.writer_blocked() {
            events.push(EventKind::WriterStallStarted);
        }
        if before.writer_blocked() && !now.writer_blocked() {
            // The writer adds each stall's length when it ends; the last one
            // is the difference unless several short ones fell in between.
            let ended = now.stall_count.saturating_sub(before.stall_count).max(1);
            let stalled =
                Duration::from_nanos(now.stall_ns.saturating_sub(before.stall_ns) / ended);
            events.push(EventKind::WriterStallEnded { stalled });
        }
        if now.zero_window && !before.zero_window {
            events.push(EventKind::WindowClosed);
        }
        if before.zero_window && !now.zero_window {
            events.push(EventKind::WindowReopened);
        }
        if now.reader_paused() && !before.reader_paused() {
            events.push(EventKind::ReaderPaused);
        }
        if before.reader_paused() && !now.reader_paused() {
            events.push(EventKind::ReaderResumed);
        }
        if now.reader_state != before.reader_state {
            match now.reader_state {
                ReaderState::PeerClosed => events.push(EventKind::PeerClosed),
                ReaderState::PeerReset => events.push(EventKind::PeerReset),
                _ => {}
            }
        }
        if now.writer_state == WriterState::PeerGone && before.writer_state != WriterState::PeerGone
        {
            events.push(EventKind::WriterPeerGone);
        }
        for kind in events {
            if self.events.len() >= EVENT_CAPACITY {
                self.events.pop_front();
                self.events_dropped += 1;
            }
            self.events.push_back(Event { t_ns, kind });
        }
    }

    /// Samples at full resolution, oldest first.
    pub fn recent(&self) -> &VecDeque<Sample> {
        &self.recent
    }

    /// Older samples at lower resolution, oldest first; all of them are
    /// older than `recent()`, except the span still filling, which is
    /// `filling()`.
    pub fn archive(&self) -> &[SampleSpan] {
        &self.archive
    }

    pub fn filling(&self) -> Option<&SampleSpan> {
        self.filling.as_ref()
    }

    pub fn events(&self) -> &VecDeque<Event> {
        &self.events
    }

    /// Events pushed out of the bounded log.
    pub fn events_dropped(&self) -> u64 {
        self.events_dropped
    }

    pub fn last(&self) -> Option<&Sample> {
        self.last.as_ref()
    }

    pub fn total_samples(&self) -> u64 {
        self.total_samples
    }

    pub fn peak_send_queue(&self) -> u32 {
        self.peak_send_queue
    }

    pub fn peak_recv_queue(&self) -> u32 {
        self.peak_recv_queue
    }

    /// Heap memory the timeline holds, from its containers' capacities.
    pub fn heap_bytes(&self) -> usize {
        self.recent.capacity() * size_of::<Sample>()
            + self.archive.capacity() * size_of::<SampleSpan>()
            + self.events.capacity() * size_of::<Event>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t_ms: u64) -> Sample {
        Sample {
            t_ns: t_ms * 1_000_000,
            ..Sample::default()
        }
    }

    #[test]
    fn derives_the_flow_control_story() {
        let mut timeline = Timeline::new();
        let mut s = sample(0);
        timeline.push(s);
        s = Sample {
            reader_state: ReaderState::Paused,
            ..sample(1)
        };
        timeline.push(s);
        s = Sample {
            zero_window: true,
            ..s
        };
        s.t_ns = 2_000_000;
        timeline.push(s);
        s = Sample {
            writer_state: WriterState::Blocked,
            ..s
        };
        s.t_ns = 3_000_000;
        timeline.push(s);
        s = Sample {
            writer_state: WriterState::Sending,
            reader_state: ReaderState::Reading,
            zero_window: false,
            stall_count: 1,
            stall_ns: 5_000_000,
            ..sample(8)
        };
        timeline.push(s);
        s = Sample {
            reader_state: ReaderState::PeerClosed,
            ..s
        };
        s.t_ns = 9_000_000;
        timeline.push(s);
        let kinds: Vec<_> = timeline
            .events()
            .iter()
            .map(|e| (e.t_ns / 1_000_000, e.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (1, EventKind::ReaderPaused),
                (2, EventKind::WindowClosed),
                (3, EventKind::WriterStallStarted),
                (
                    8,
                    EventKind::WriterStallEnded {
                        stalled: Duration::from_millis(5)
                    }
                ),
                (8, EventKind::WindowReopened),
                (8, EventKind::ReaderResumed),
                (9, EventKind::PeerClosed),
            ]
        );
    }

    #[test]
    fn old_samples_fold_into_spans_that_keep_the_peaks() {
        let mut timeline = Timeline::with_capacity(100, 1000);
        for i in 0..1000u64 {
            let mut s = sample(i);
            s.send_queue = if i == 37 { 999_999 } else { i as u32 };
            s.written = i;
            timeline.push(s);
        }
        assert_eq!(timeline.recent().len(), 100);
        assert_eq!(timeline.recent().front().unwrap().t_ns, 900 * 1_000_000);
        let archived: u32 = timeline.archive().iter().map(|s| s.count).sum::<u32>()
            + timeline.filling().map_or(0, |s| s.count);
        assert_eq!(archived, 900);
        let first = timeline.archive()[0];
        assert_eq!(first.count, INITIAL_SPAN_LEN);
        assert_eq!(first.send_queue, MinMax { min: 0, max: 31 });
        assert_eq!(
            timeline.archive()[1].send_queue,
            MinMax {
                min: 32,
                max: 999_999
            }
        );
        assert_eq!(first.written, u64::from(INITIAL_SPAN_LEN) - 1);
        assert_eq!(timeline.peak_send_queue(), 999_999);
        assert_eq!(timeline.total_samples(), 1000);
    }

    #[test]
    fn archive_stays_bounded_by_halving() {
        let mut timeline = Timeline::with_capacity(10, 8);
        for i in 0..100_000u64 {
            timeline.push(sample(i));
        }
        assert!(timeline.archive().len() <= 8);
        let covered: u64 = timeline
            .archive()
            .iter()
            .map(|s| u64::from(s.count))
            .sum::<u64>()
            + timeline.filling().map_or(0, |s| u64::from(s.count))
            + timeline.recent().len() as u64;
        assert_eq!(covered, 100_000, "no sample may be lost from the coverage");
        let times: Vec<_> = timeline.archive().iter().map(|s| s.t_start_ns).collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]), "spans stay in order");
    }

    #[test]
    fn one_hour_at_1khz_stays_under_200_mb() {
        let mut timeline = Timeline::new();
        for i in 0..3_600_000u64 {
            timeline.push(Sample {
                t_ns: i * 1_000_000,
                zero_window: i % 1000 < 500,
                ..Sample::default()
            });
        }
        let mb = timeline.heap_bytes() as f64 / 1e6;
        assert!(mb < 200.0, "timeline holds {mb:.0} MB");
        assert_eq!(timeline.total_samples(), 3_600_000);
    }
}
