//! A bounded in-memory record of a session: recent samples at full
//! resolution, older ones folded into min/max spans, and the flow-control
//! events derived from them.

use std::collections::VecDeque;
use std::time::Duration;

use super::sample::{Cable, ReaderState, Sample, WriterState};
use crate::i18n::{Lang, S};

/// Full-resolution samples kept: 8.7 minutes at 1 kHz, 44 minutes at the
/// default 200 Hz (about 88 MB of 168-byte samples). One less than a power of two, because the
/// deque's storage grows by doubling and must hold one extra while pushing.
pub const DEFAULT_RECENT_CAPACITY: usize = (1 << 19) - 1;
/// Spans kept before neighbours are merged (halving the resolution again).
pub const DEFAULT_ARCHIVE_CAPACITY: usize = 100_000;
/// Samples folded into one span when they leave the recent window.
const INITIAL_SPAN_LEN: u32 = 32;
const EVENT_CAPACITY: usize = 100_000;
/// Samples (or archived spans) summarised by one block for `thin`: a view
/// skips whole blocks, so drawing costs about columns × BLOCK items plus
/// one per block, bounded by the capacities and not by the run's length.
const BLOCK: usize = 64;

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
    /// The writer thread failed (an error other than the peer leaving, or
    /// a panic); the session ends.
    WriterFailed,
    /// The reader thread failed; the session ends.
    ReaderFailed,
    /// The private link's cable was unplugged.
    CableUnplugged,
    /// The private link's cable was plugged in again.
    CablePlugged,
    /// The writer's retransmission timer ran out: the kernel sent the
    /// oldest unacknowledged segment again and doubled its timeout to `rto`.
    RetransmitTimeout {
        rto: Duration,
    },
    /// An attached connection ended: its program closed its socket, or the
    /// kernel freed it.
    ConnectionClosed,
    /// The private link's delaying thread ended: the queue fails open and
    /// packets cross undelayed.
    DelayStopped,
    /// The delaying thread fell behind for the first time: some packets
    /// crossed undelayed (the queue failed open).
    DelayFellBehind,
}

impl EventKind {
    /// A few words, for a narrow log.
    pub fn short(&self, lang: Lang) -> String {
        match self {
            EventKind::WriterStallStarted => S::EvStallStarted.text(lang).into(),
            EventKind::WriterStallEnded { stalled } => {
                S::EvStallEnded.fill(lang, &[&millis(*stalled, 0)])
            }
            EventKind::WindowClosed => S::EvWindowClosed.text(lang).into(),
            EventKind::WindowReopened => S::EvWindowReopened.text(lang).into(),
            EventKind::ReaderPaused => S::EvReaderPaused.text(lang).into(),
            EventKind::ReaderResumed => S::EvReaderResumed.text(lang).into(),
            EventKind::PeerClosed => S::EvPeerClosed.text(lang).into(),
            EventKind::PeerReset => S::EvPeerReset.text(lang).into(),
            EventKind::WriterPeerGone => S::EvPeerGone.text(lang).into(),
            EventKind::WriterFailed => S::EvWriterFailed.text(lang).into(),
            EventKind::ReaderFailed => S::EvReaderFailed.text(lang).into(),
            EventKind::CableUnplugged => S::EvCableUnplugged.text(lang).into(),
            EventKind::CablePlugged => S::EvCablePlugged.text(lang).into(),
            EventKind::RetransmitTimeout { rto } => {
                S::EvRetransmitTimeout.fill(lang, &[&millis(*rto, 0)])
            }
            EventKind::ConnectionClosed => S::EvConnectionClosed.text(lang).into(),
            EventKind::DelayStopped => S::EvDelayStopped.text(lang).into(),
            EventKind::DelayFellBehind => S::EvDelayFellBehind.text(lang).into(),
        }
    }

    /// One line for a log.
    pub fn describe(&self, lang: Lang) -> String {
        match self {
            EventKind::WriterStallStarted => S::EvLongStallStarted.text(lang).into(),
            EventKind::WriterStallEnded { stalled } => {
                S::EvLongStallEnded.fill(lang, &[&millis(*stalled, 1)])
            }
            EventKind::WindowClosed => S::EvLongWindowClosed.text(lang).into(),
            EventKind::WindowReopened => S::EvLongWindowReopened.text(lang).into(),
            EventKind::ReaderPaused => S::EvLongReaderPaused.text(lang).into(),
            EventKind::ReaderResumed => S::EvLongReaderResumed.text(lang).into(),
            EventKind::PeerClosed => S::EvLongPeerClosed.text(lang).into(),
            EventKind::PeerReset => S::EvLongPeerReset.text(lang).into(),
            EventKind::WriterPeerGone => S::EvLongPeerGone.text(lang).into(),
            EventKind::WriterFailed => S::EvLongWriterFailed.text(lang).into(),
            EventKind::ReaderFailed => S::EvLongReaderFailed.text(lang).into(),
            EventKind::CableUnplugged => S::EvLongCableUnplugged.text(lang).into(),
            EventKind::CablePlugged => S::EvLongCablePlugged.text(lang).into(),
            EventKind::RetransmitTimeout { rto } => {
                S::EvLongRetransmitTimeout.fill(lang, &[&millis(*rto, 0)])
            }
            EventKind::ConnectionClosed => S::EvLongConnectionClosed.text(lang).into(),
            EventKind::DelayStopped => S::DelayStopped.text(lang).into(),
            EventKind::DelayFellBehind => S::DelayFellBehind.text(lang).into(),
        }
    }
}

/// The writer's retransmission timer ran out between two samples: the
/// kernel resent a segment and doubled the timeout (tcp_retransmit_timer's
/// backoff). A timeout that grows with the measured round trip, or a fast
/// retransmit that leaves it alone, is not this.
fn timeout_backoff(before: &Sample, now: &Sample) -> Option<Duration> {
    let (was, is) = (before.sender.rto_us, now.sender.rto_us);
    let resent = now.sender.total_retrans > before.sender.total_retrans;
    (resent && was > 0 && is >= 2 * was).then(|| Duration::from_micros(u64::from(is)))
}

/// A duration in milliseconds with `decimals` places.
fn millis(duration: Duration, decimals: usize) -> String {
    format!("{:.*}", decimals, duration.as_secs_f64() * 1e3)
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

/// A view of `[t_start_ns, t_end_ns)` thinned to equal columns (one per
/// pixel): the extremes of every series survive, so peaks and stalls show
/// at any zoom.
#[derive(Debug, Clone, PartialEq)]
pub struct Thinned {
    pub t_start_ns: u64,
    pub t_end_ns: u64,
    /// One entry per column; None where no sample fell.
    pub columns: Vec<Option<SampleSpan>>,
    /// The last summary before the view, for the first column's rate.
    pub before: Option<SampleSpan>,
    /// Items merged to build it (samples, spans and blocks): the cost.
    pub items_visited: usize,
    /// The newest sample the timeline held when this was built or updated.
    pub newest_ns: Option<u64>,
}

impl Thinned {
    /// Bytes per second read in each column, from the reader's counter at
    /// the end of consecutive non-empty columns.
    pub fn read_rates(&self) -> Vec<Option<f64>> {
        let mut previous = self.before;
        self.columns
            .iter()
            .map(|column| {
                let column = column.as_ref()?;
                let rate = previous.and_then(|p| {
                    let dt = column.t_end_ns.checked_sub(p.t_end_ns)?;
                    (dt > 0).then(|| column.read.saturating_sub(p.read) as f64 * 1e9 / dt as f64)
                });
                previous = Some(*column);
                rate
            })
            .collect()
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
    /// The congestion window in bytes.
    pub cwnd: MinMax,
    /// The slow-start threshold in bytes; 0 while there is none.
    pub ssthresh: MinMax,
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
            cwnd: MinMax::of(sample.cwnd_bytes()),
            ssthresh: MinMax::of(sample.ssthresh_bytes().unwrap_or(0)),
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
    pub fn merge(&mut self, later: &SampleSpan) {
        self.t_end_ns = later.t_end_ns;
        self.count += later.count;
        self.send_queue.merge(later.send_queue);
        self.unsent.merge(later.unsent);
        self.in_flight.merge(later.in_flight);
        self.recv_queue.merge(later.recv_queue);
        self.cwnd.merge(later.cwnd);
        self.ssthresh.merge(later.ssthresh);
        self.written = later.written;
        self.read = later.read;
        self.any_writer_blocked |= later.any_writer_blocked;
        self.any_zero_window |= later.any_zero_window;
    }
}

struct ThinView {
    t_start_ns: u64,
    t_end_ns: u64,
    width_ns: f64,
    columns: Vec<Option<SampleSpan>>,
    before: Option<SampleSpan>,
    items_visited: usize,
}

impl ThinView {
    fn column_of(&self, t_ns: u64) -> Option<usize> {
        if t_ns < self.t_start_ns || t_ns >= self.t_end_ns {
            return None;
        }
        let column = ((t_ns - self.t_start_ns) as f64 / self.width_ns) as usize;
        Some(column.min(self.columns.len() - 1))
    }

    fn add(&mut self, span: SampleSpan) {
        self.items_visited += 1;
        // A span straddling the view's start counts from its end.
        let Some(column) = self
            .column_of(span.t_start_ns)
            .or_else(|| self.column_of(span.t_end_ns))
        else {
            // Zoomed into one archived span: it covers every column.
            if span.t_start_ns < self.t_start_ns && span.t_end_ns >= self.t_end_ns {
                for slot in &mut self.columns {
                    match slot {
                        Some(summary) => summary.merge(&span),
                        None => *slot = Some(span),
                    }
                }
            }
            return;
        };
        match &mut self.columns[column] {
            Some(summary) => summary.merge(&span),
            slot => *slot = Some(span),
        }
    }

    /// Adds items `from..to` in time order, taking a whole block when it
    /// starts at `i` and ends in the same column.
    fn scan(
        &mut self,
        from: usize,
        to: usize,
        item: impl Fn(usize) -> SampleSpan,
        block_at: impl Fn(usize) -> Option<SampleSpan>,
    ) {
        let mut i = from;
        while i < to {
            if let Some(block) = block_at(i)
                && i + BLOCK <= to
                && block.t_start_ns >= self.t_start_ns
                && self.column_of(block.t_start_ns).is_some()
                && self.column_of(block.t_start_ns) == self.column_of(block.t_end_ns)
            {
                self.add(block);
                i += BLOCK;
                continue;
            }
            let span = item(i);
            if span.t_start_ns >= self.t_end_ns {
                break;
            }
            self.add(span);
            i += 1;
        }
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
    /// Summaries of BLOCK consecutive samples, by absolute sample number:
    /// block k covers samples k·BLOCK .. (k+1)·BLOCK. The front block may
    /// cover samples already archived; its extremes are still true.
    recent_blocks: VecDeque<SampleSpan>,
    /// Absolute block number of `recent_blocks[0]`.
    first_recent_block: u64,
    /// Summaries of BLOCK consecutive archived spans.
    archive_blocks: Vec<SampleSpan>,
    events: VecDeque<Event>,
    events_dropped: u64,
    /// The first sample, kept whole: how things stood when recording (or
    /// watching another program's connection) began.
    first: Option<Sample>,
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
            recent_blocks: VecDeque::new(),
            first_recent_block: 0,
            archive_blocks: Vec::new(),
            events: VecDeque::new(),
            events_dropped: 0,
            first: None,
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
        let number = self.total_samples;
        self.total_samples += 1;
        self.first.get_or_insert(sample);
        self.last = Some(sample);
        self.recent.push_back(sample);
        if number.is_multiple_of(BLOCK as u64) {
            if self.recent_blocks.is_empty() {
                self.first_recent_block = number / BLOCK as u64;
            }
            self.recent_blocks.push_back(SampleSpan::of(&sample));
        } else if let Some(block) = self.recent_blocks.back_mut() {
            block.add(&sample);
        }
        while self.recent.len() > self.recent_capacity {
            let old = self.recent.pop_front().expect("len > capacity >= 1");
            self.archive_sample(&old);
            // Drop a block once none of its samples is recent any more.
            let first_recent = self.total_samples - self.recent.len() as u64;
            while (self.first_recent_block + 1) * (BLOCK as u64) <= first_recent {
                self.recent_blocks.pop_front();
                self.first_recent_block += 1;
            }
        }
    }

    fn archive_sample(&mut self, sample: &Sample) {
        match &mut self.filling {
            Some(span) => span.add(sample),
            None => self.filling = Some(SampleSpan::of(sample)),
        }
        if self.filling.is_some_and(|span| span.count >= self.span_len) {
            let span = self.filling.take().expect("checked");
            self.archive.push(span);
            if (self.archive.len() - 1).is_multiple_of(BLOCK) {
                self.archive_blocks.push(span);
            } else if let Some(block) = self.archive_blocks.last_mut() {
                block.merge(&span);
            }
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
        self.archive_blocks = self
            .archive
            .chunks(BLOCK)
            .map(|chunk| {
                let mut block = chunk[0];
                for span in &chunk[1..] {
                    block.merge(span);
                }
                block
            })
            .collect();
    }

    /// Adds recent samples from index `first` on, whole blocks where they
    /// fit in a column.
    fn scan_recent(&self, view: &mut ThinView, first: usize) {
        let base = self.total_samples - self.recent.len() as u64;
        view.scan(
            first,
            self.recent.len(),
            |i| SampleSpan::of(&self.recent[i]),
            |i| {
                let number = base + i as u64;
                if !number.is_multiple_of(BLOCK as u64) {
                    return None;
                }
                let block = (number / BLOCK as u64).checked_sub(self.first_recent_block)?;
                self.recent_blocks.get(block as usize).copied()
            },
        );
    }

    /// Thins `[t_start_ns, t_end_ns)` to `columns` columns of min/max
    /// summaries. The work is about columns × BLOCK plus the number of
    /// blocks in view, whatever the number of samples.
    pub fn thin(&self, t_start_ns: u64, t_end_ns: u64, columns: usize) -> Thinned {
        let columns = columns.max(1);
        let t_end_ns = t_end_ns.max(t_start_ns + 1);
        let mut view = ThinView {
            t_start_ns,
            t_end_ns,
            width_ns: (t_end_ns - t_start_ns) as f64 / columns as f64,
            columns: vec![None; columns],
            before: None,
            items_visited: 0,
        };
        // Archive, then the span filling, then recent: all in time order.
        let first = self.archive.partition_point(|s| s.t_end_ns < t_start_ns);
        if first > 0 {
            view.before = Some(self.archive[first - 1]);
        }
        view.scan(
            first,
            self.archive.len(),
            |i| self.archive[i],
            |i| {
                i.is_multiple_of(BLOCK)
                    .then(|| self.archive_blocks.get(i / BLOCK).copied())?
            },
        );
        if let Some(filling) = self.filling {
            view.add(filling);
        }
        let first = self.recent.partition_point(|s| s.t_ns < t_start_ns);
        if first > 0
            && view
                .before
                .is_none_or(|b| b.t_end_ns < self.recent[first - 1].t_ns)
        {
            view.before = Some(SampleSpan::of(&self.recent[first - 1]));
        }
        self.scan_recent(&mut view, first);
        Thinned {
            t_start_ns,
            t_end_ns,
            columns: view.columns,
            before: view.before,
            items_visited: view.items_visited,
            newest_ns: self.last.map(|s| s.t_ns),
        }
    }

    /// Brings `thinned` up to date with the samples pushed since it was
    /// made: afterwards it equals a fresh `thin` of the same view, at the
    /// cost of the new samples only. A live view that keeps its range (a
    /// paused zoom, the whole run) costs almost nothing per frame.
    pub fn thin_update(&self, thinned: &mut Thinned) {
        let first = match thinned.newest_ns {
            Some(newest) => {
                // Samples newer than `newest` already archived: rebuild.
                if self.recent.front().is_some_and(|s| s.t_ns > newest) {
                    *thinned =
                        self.thin(thinned.t_start_ns, thinned.t_end_ns, thinned.columns.len());
                    return;
                }
                self.recent.partition_point(|s| s.t_ns <= newest)
            }
            None => 0,
        };
        let mut view = ThinView {
            t_start_ns: thinned.t_start_ns,
            t_end_ns: thinned.t_end_ns,
            width_ns: (thinned.t_end_ns - thinned.t_start_ns) as f64 / thinned.columns.len() as f64,
            columns: std::mem::take(&mut thinned.columns),
            before: thinned.before,
            items_visited: 0,
        };
        self.scan_recent(&mut view, first);
        if thinned.before.is_none() && first > 0 && self.recent[first - 1].t_ns < thinned.t_start_ns
        {
            view.before = Some(SampleSpan::of(&self.recent[first - 1]));
        }
        thinned.columns = view.columns;
        thinned.before = view.before;
        thinned.items_visited = view.items_visited;
        thinned.newest_ns = self.last.map(|s| s.t_ns);
    }

    fn derive_events(&mut self, before: &Sample, now: &Sample) {
        let t_ns = now.t_ns;
        let mut events = Vec::new();
        if now.writer_blocked() && !before.writer_blocked() {
            events.push(EventKind::WriterStallStarted);
        }
        // The writer counts a stall when it ends: blocked in both samples
        // with a higher count means one stall ended and the next began.
        let restarted =
            before.writer_blocked() && now.writer_blocked() && now.stall_count > before.stall_count;
        // A closed connection's last sample reads a freed socket: its
        // empty queues end no stall and open no window.
        let closed = now.writer_state == WriterState::Closed;
        if ((before.writer_blocked() && !now.writer_blocked()) || restarted) && !closed {
            // The writer adds each stall's length when it ends; the last one
            // is the difference unless several short ones fell in between.
            let ended = now.stall_count.saturating_sub(before.stall_count).max(1);
            let stalled =
                Duration::from_nanos(now.stall_ns.saturating_sub(before.stall_ns) / ended);
            events.push(EventKind::WriterStallEnded { stalled });
        }
        if restarted {
            events.push(EventKind::WriterStallStarted);
        }
        if now.zero_window && !before.zero_window {
            events.push(EventKind::WindowClosed);
        }
        if before.zero_window && !now.zero_window && !closed {
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
                ReaderState::Failed => events.push(EventKind::ReaderFailed),
                _ => {}
            }
        }
        if now.writer_state == WriterState::PeerGone && before.writer_state != WriterState::PeerGone
        {
            events.push(EventKind::WriterPeerGone);
        }
        if now.writer_state == WriterState::Failed && before.writer_state != WriterState::Failed {
            events.push(EventKind::WriterFailed);
        }
        if now.writer_state == WriterState::Closed && before.writer_state != WriterState::Closed {
            events.push(EventKind::ConnectionClosed);
        }
        match (before.cable, now.cable) {
            (Cable::Plugged, Cable::Unplugged) => events.push(EventKind::CableUnplugged),
            (Cable::Unplugged, Cable::Plugged) => events.push(EventKind::CablePlugged),
            _ => {}
        }
        if now.delay_stopped && !before.delay_stopped {
            events.push(EventKind::DelayStopped);
        }
        if now.delay_totals.undelayed > 0 && before.delay_totals.undelayed == 0 {
            events.push(EventKind::DelayFellBehind);
        }
        if let Some(rto) = timeout_backoff(before, now) {
            events.push(EventKind::RetransmitTimeout { rto });
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

    /// The first sample pushed, however much has been thinned since.
    pub fn first(&self) -> Option<&Sample> {
        self.first.as_ref()
    }

    /// The writer was already blocked at the first sample: its first
    /// stall began before the record did (only another program's
    /// connection, watched from the middle of its life, starts so), and
    /// its length counts from the first sample.
    pub fn stalled_at_start(&self) -> bool {
        self.first.is_some_and(|s| s.writer_blocked())
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
    #[test]
    fn every_event_is_worded_in_both_languages() {
        let kinds = [
            EventKind::WriterStallStarted,
            EventKind::WriterStallEnded {
                stalled: Duration::from_micros(12_345),
            },
            EventKind::WindowClosed,
            EventKind::WindowReopened,
            EventKind::ReaderPaused,
            EventKind::ReaderResumed,
            EventKind::PeerClosed,
            EventKind::PeerReset,
            EventKind::WriterPeerGone,
            EventKind::WriterFailed,
            EventKind::ReaderFailed,
            EventKind::CableUnplugged,
            EventKind::CablePlugged,
            EventKind::RetransmitTimeout {
                rto: Duration::from_millis(408),
            },
        ];
        for kind in kinds {
            for lang in [Lang::En, Lang::Zh] {
                assert!(!kind.short(lang).is_empty());
                assert!(kind.describe(lang).len() > kind.short(lang).len() / 2);
            }
            assert_ne!(kind.describe(Lang::En), kind.describe(Lang::Zh), "{kind:?}");
        }
        let ended = kinds[1];
        assert_eq!(ended.short(Lang::En), "send() resumed (12 ms)");
        assert_eq!(
            ended.describe(Lang::En),
            "writer resumed after a 12.3 ms stall"
        );
    }

    use super::*;

    fn sample(t_ms: u64) -> Sample {
        Sample {
            t_ns: t_ms * 1_000_000,
            ..Sample::default()
        }
    }

    #[test]
    fn an_unplugged_cable_and_each_timeout_are_events_and_rtt_growth_is_not() {
        let with = |t_ms, cable, retrans, rto_ms: u32| {
            let mut s = sample(t_ms);
            s.cable = cable;
            s.sender.total_retrans = retrans;
            s.sender.rto_us = rto_ms * 1000;
            s
        };
        let mut timeline = Timeline::new();
        for s in [
            with(0, Cable::Plugged, 0, 204),
            with(10, Cable::Unplugged, 0, 204),
            with(220, Cable::Unplugged, 1, 408),
            // The timeout grows with a longer round trip, no resend: no event.
            with(230, Cable::Unplugged, 1, 420),
            // A fast retransmit leaves the timeout alone: no event.
            with(240, Cable::Unplugged, 2, 420),
            with(650, Cable::Unplugged, 3, 840),
            with(700, Cable::Plugged, 3, 840),
        ] {
            timeline.push(s);
        }
        let kinds: Vec<EventKind> = timeline.events().iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EventKind::CableUnplugged,
                EventKind::RetransmitTimeout {
                    rto: Duration::from_millis(408)
                },
                EventKind::RetransmitTimeout {
                    rto: Duration::from_millis(840)
                },
                EventKind::CablePlugged,
            ]
        );
        assert_eq!(kinds[1].short(Lang::En), "timeout: sent again, RTO 408 ms");
    }

    #[test]
    fn an_attached_connection_closing_while_stalled_is_one_event() {
        let mut timeline = Timeline::new();
        timeline.push(Sample {
            writer_state: WriterState::Blocked,
            zero_window: true,
            ..sample(0)
        });
        // The freed socket: empty queues, no window, nothing blocked.
        timeline.push(Sample {
            writer_state: WriterState::Closed,
            ..sample(5)
        });
        let kinds: Vec<EventKind> = timeline.events().iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EventKind::WriterStallStarted,
                EventKind::WindowClosed,
                EventKind::ConnectionClosed
            ]
        );
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
    fn a_stall_that_ends_and_restarts_between_samples_shows_both() {
        let mut timeline = Timeline::new();
        let blocked = |t_ms, count, ns| Sample {
            writer_state: WriterState::Blocked,
            stall_count: count,
            stall_ns: ns,
            ..sample(t_ms)
        };
        timeline.push(blocked(0, 0, 0));
        timeline.push(blocked(5, 0, 0));
        timeline.push(blocked(10, 1, 8_000_000));
        let kinds: Vec<_> = timeline
            .events()
            .iter()
            .map(|e| (e.t_ns / 1_000_000, e.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (0, EventKind::WriterStallStarted),
                (
                    10,
                    EventKind::WriterStallEnded {
                        stalled: Duration::from_millis(8)
                    }
                ),
                (10, EventKind::WriterStallStarted),
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

    /// The same view computed the slow way: every sample, in its column.
    fn brute_force(
        samples: &[Sample],
        t0: u64,
        t1: u64,
        columns: usize,
    ) -> Vec<Option<(u32, u32)>> {
        let width = (t1 - t0) as f64 / columns as f64;
        let mut out: Vec<Option<(u32, u32)>> = vec![None; columns];
        for s in samples.iter().filter(|s| s.t_ns >= t0 && s.t_ns < t1) {
            let c = (((s.t_ns - t0) as f64 / width) as usize).min(columns - 1);
            let v = s.recv_queue;
            out[c] = Some(match out[c] {
                Some((lo, hi)) => (lo.min(v), hi.max(v)),
                None => (v, v),
            });
        }
        out
    }

    fn wobbly(n: u64) -> Vec<Sample> {
        (0..n)
            .map(|i| Sample {
                t_ns: i * 1_000_000,
                // A pseudo-random walk with rare spikes.
                recv_queue: ((i.wrapping_mul(2_654_435_761) >> 7) % 5000) as u32
                    + if i % 997 == 0 { 100_000 } else { 0 },
                read: i * 1000,
                zero_window: i % 1500 < 40,
                ..Sample::default()
            })
            .collect()
    }

    #[test]
    fn thinning_keeps_every_columns_extremes_of_recent_samples() {
        let samples = wobbly(20_000);
        let mut timeline = Timeline::new();
        timeline.extend(samples.iter().copied());
        for (t0_ms, t1_ms, columns) in [
            (0, 20_000, 640),
            (1234, 5678, 100),
            (0, 300, 1000),
            (19_990, 25_000, 7),
        ] {
            let (t0, t1) = (t0_ms * 1_000_000, t1_ms * 1_000_000);
            let thinned = timeline.thin(t0, t1, columns);
            let got: Vec<_> = thinned
                .columns
                .iter()
                .map(|c| c.map(|c| (c.recv_queue.min, c.recv_queue.max)))
                .collect();
            assert_eq!(
                got,
                brute_force(&samples, t0, t1, columns),
                "view {t0_ms}..{t1_ms} ms / {columns}"
            );
            let zero_window_columns = thinned
                .columns
                .iter()
                .flatten()
                .filter(|c| c.any_zero_window)
                .count();
            if (t0_ms, t1_ms) == (0, 20_000) {
                assert!(zero_window_columns > 0, "zero-window runs survive thinning");
            }
        }
    }

    #[test]
    fn an_updated_thinning_equals_a_fresh_one() {
        let samples = wobbly(30_000);
        // Nothing is archived here, so the two must match exactly.
        let mut timeline = Timeline::new();
        let (t0, t1) = (0, 40_000 * 1_000_000);
        timeline.extend(samples[..12_000].iter().copied());
        let mut kept = timeline.thin(t0, t1, 300);
        for chunk in samples[12_000..].chunks(777) {
            timeline.extend(chunk.iter().copied());
            timeline.thin_update(&mut kept);
            assert!(
                kept.items_visited <= 777 + 64,
                "only new samples: {}",
                kept.items_visited
            );
            let fresh = timeline.thin(t0, t1, 300);
            let first_difference = kept
                .columns
                .iter()
                .zip(&fresh.columns)
                .position(|(a, b)| a != b);
            assert_eq!(first_difference, None, "columns differ");
        }
    }

    #[test]
    fn thinning_spans_archive_and_recent_and_costs_columns_not_samples() {
        let samples = wobbly(200_000);
        let mut timeline = Timeline::with_capacity(50_000, 1000);
        timeline.extend(samples.iter().copied());
        assert!(!timeline.archive().is_empty());
        let t1 = 200_000 * 1_000_000;
        let thinned = timeline.thin(0, t1, 500);
        // Archived spans keep extremes, at the span's resolution: a peak may
        // land in a neighbouring column, but it is never lost or invented.
        let truth = brute_force(&samples, 0, t1, 500);
        let got: Vec<u32> = thinned
            .columns
            .iter()
            .map(|c| c.expect("every column has data").recv_queue.max)
            .collect();
        let want: Vec<u32> = truth.iter().map(|c| c.unwrap().1).collect();
        for c in 0..500_usize {
            let near = c.saturating_sub(1)..(c + 2).min(500);
            let got_near = got[near.clone()].iter().max().unwrap();
            let want_near = want[near].iter().max().unwrap();
            assert!(*got_near >= want[c], "column {c}: peak {} lost", want[c]);
            assert!(got[c] <= *want_near, "column {c}: {} invented", got[c]);
        }
        // 200 000 samples in view, but blocks keep the work far below that.
        assert!(
            thinned.items_visited < 200_000 / 8,
            "visited {} items",
            thinned.items_visited
        );
        // A steady 1000 B per ms reader: 1 MB/s in every full column.
        let rates = thinned.read_rates();
        let middle = rates[250].expect("rate");
        assert!((middle - 1e6).abs() < 1e4, "rate {middle}");
    }
}
