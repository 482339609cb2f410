//! The JSON summary of a recorded run.

use serde::Serialize;

use crate::lab::{BufferSetting, LabConfig, SessionInfo, SessionReport, Timeline, WriterState};

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Bytes asked for with --sndbuf / --rcvbuf; null when unset (autotuning).
    pub requested_sndbuf: Option<u64>,
    /// getsockopt(SO_SNDBUF) after the request: 2 x the clamped request.
    pub effective_sndbuf: u64,
    pub sndbuf_clamped: bool,
    /// SO_SNDBUF at the end of the run (autotuning grows an unset buffer).
    pub final_sndbuf: Option<u64>,
    pub wmem_max: Option<u64>,
    pub requested_rcvbuf: Option<u64>,
    pub effective_rcvbuf: u64,
    pub rcvbuf_clamped: bool,
    pub final_rcvbuf: Option<u64>,
    pub rmem_max: Option<u64>,
    pub write_rate: String,
    pub write_chunk: u64,
    pub read_rate: String,
    pub read_chunk: u64,
    pub duration_s: f64,
    pub elapsed_s: f64,
    pub interrupted: bool,
    pub bytes_written: u64,
    pub bytes_read: u64,
    /// true: every byte written arrived once, in order, unchanged; false:
    /// one did not; null: not known (an outside peer, whose bytes are not
    /// ours to verify, or a run that failed before the reader drained).
    pub integrity_ok: Option<bool>,
    /// Stream offset of the first wrong byte, if any.
    pub first_mismatch_offset: Option<u64>,
    pub stall_count: u64,
    pub stall_ms: f64,
    pub zero_window_ms: f64,
    /// Segments the writer retransmitted (tcpi_total_retrans at the end).
    pub retransmits: u32,
    pub peak_sendq_bytes: u32,
    pub peak_recvq_bytes: u32,
    pub throughput_bytes_per_s: f64,
    pub samples: u64,
    pub sample_hz: u32,
    pub sample_hz_achieved: f64,
    /// The other end is an outside program (`--listen`/`--connect`).
    pub outside_peer: bool,
    /// The private link's settings at the start; null on plain loopback.
    pub link: Option<LinkSummary>,
    /// What set the speed over the run (on a private link; null elsewhere,
    /// and on a link whose run had no round trip to judge by).
    pub speed_limit: Option<SpeedLimitSummary>,
    /// The writer's congestion control (TCP_CONGESTION), as set or the
    /// kernel's default.
    pub congestion_control: String,
    /// The capture of the wire (`record --pcap`); null without one.
    pub capture: Option<CaptureSummary>,
    /// Another program's connection (`record --attach`); null for the
    /// lab's own. Its bytes are not verified, so `integrity_ok` is null.
    pub attached: Option<AttachedSummary>,
    pub writer: String,
    pub reader: String,
    pub errors: Vec<String>,
    /// The drain after the run was cut short (the link delivered nothing,
    /// it took too long, or Ctrl-C): the bytes still on their way were not
    /// read, so `integrity_ok` is null. Null when the reader read to the
    /// writer's end.
    pub drain_cut: Option<DrainCutSummary>,
}

/// Why the drain ended before the reader reached the writer's end.
#[derive(Debug, Clone, Serialize)]
pub struct DrainCutSummary {
    /// "nothing_arrived", "too_long" or "stopped".
    pub why: String,
    /// The same, in words.
    pub reason: String,
    /// How long the drain had run.
    pub after_s: f64,
    /// Bytes written that the reader never got.
    pub unread_bytes: u64,
}

/// What the capture of the wire saw, beside what the writer's kernel
/// counted: the two agree unless frames were lost before the capture point
/// (the bottleneck's drops) or by the capture itself (`dropped`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptureSummary {
    /// Segments captured (the pcap's records: a super-segment lo passed
    /// whole is written as the segments it stands for).
    pub packets: u64,
    /// Frames captured on lo: fewer than `packets` where lo passed
    /// super-segments whole (it keeps its segmentation offload).
    pub frames: u64,
    /// Frames the capture socket dropped for want of room.
    pub dropped: u64,
    /// Segments captured from the writer, and to it.
    pub writer_segments: u64,
    pub reader_segments: u64,
    /// The writer's tcpi_segs_out and tcpi_segs_in at the end.
    pub writer_segs_out: u32,
    pub writer_segs_in: u32,
    /// Why there was no capture, if there was none.
    pub error: Option<String>,
    /// The pcap file written, relative to this summary's folder when it is
    /// in it; null without one. `sockscope open` replays its ladder.
    pub pcap: Option<String>,
    /// When the session's clock (the CSV's t_ms) read 0, in ns since the
    /// Unix epoch on the kernel's realtime clock, as the pcap's timestamps
    /// are; null before any packet was captured.
    pub clock_zero_unix_ns: Option<u64>,
}

impl CaptureSummary {
    /// The capture's counts; the segments by direction are the run's wire
    /// log's, which has parsed every frame already. `pcap` is where its
    /// packets were written, as the summary names it.
    pub fn of(run: &crate::run::Run, info: &SessionInfo, pcap: Option<String>) -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        let (packets, dropped) = run.capture_counts().unwrap_or_default();
        let frames = run.capture_counters().map_or(0, |c| c.frames.load(Relaxed));
        let (writer_segments, reader_segments) = run
            .wire_log()
            .map(crate::lab::wire_log::WireLog::by_side)
            .unwrap_or_default();
        let last = run.timeline().last().map(|s| s.sender).unwrap_or_default();
        CaptureSummary {
            packets,
            frames,
            dropped,
            writer_segments,
            reader_segments,
            writer_segs_out: last.segs_out,
            writer_segs_in: last.segs_in,
            error: match &info.capture {
                crate::lab::CaptureState::Failed(sentence) => Some(sentence.clone()),
                _ => None,
            },
            pcap,
            clock_zero_unix_ns: run.capture_clock_zero().and_then(|t| u64::try_from(t).ok()),
        }
    }
}

/// How a summary at `json` names `other`: its file name when the two share
/// a folder, else its full path (a summary printed to stdout, None, names
/// it in full too), so the summary finds it from wherever it is read.
pub fn path_from_summary(json: Option<&std::path::Path>, other: &std::path::Path) -> String {
    let folder = |p: &std::path::Path| {
        let parent = p.parent().filter(|f| !f.as_os_str().is_empty());
        std::path::absolute(parent.unwrap_or(std::path::Path::new("."))).ok()
    };
    match (json, other.file_name()) {
        (Some(json), Some(name))
            if json != std::path::Path::new("-") && folder(json) == folder(other) =>
        {
            name.to_string_lossy().into_owned()
        }
        _ => std::path::absolute(other)
            .unwrap_or_else(|_| other.to_owned())
            .display()
            .to_string(),
    }
}

/// The connection `record --attach` followed.
#[derive(Debug, Clone, Serialize)]
pub struct AttachedSummary {
    /// The local address named with --attach.
    pub followed: String,
    /// The programs at each end ("python3, pid 4242"); null where this
    /// user may not see them, or (the reader) on another machine.
    pub writer_program: Option<String>,
    pub reader_program: Option<String>,
    /// The connection closed while it was followed.
    pub closed: bool,
    /// The send buffer was already full when watching began: the first of
    /// `stall_count` began before the watch, and `stall_ms` counts it from
    /// the first sample, so it is a lower bound.
    pub stalled_before_watch: bool,
}

/// The link in force at the start.
#[derive(Debug, Clone, Serialize)]
pub struct LinkSummary {
    /// The bottleneck's rate, as the other rates: "max" when unlimited.
    pub rate: String,
    /// The one-way delay asked at the start, in ms; the CSV's
    /// link_delay_ms has it at every sample.
    pub delay_ms: u32,
    /// How this kernel delays: "netem", "queue" (a netfilter queue and
    /// sockscope's delaying thread), or null where it cannot.
    pub delay_method: Option<crate::lab::link::DelayMethod>,
    /// The delaying thread ended during the run (the queue failed open).
    pub delay_stopped: bool,
    /// Packets the delaying thread delayed (a GSO super-packet is one),
    /// and those that crossed undelayed because it fell behind; 0 under
    /// netem.
    pub delay_packets: u64,
    pub delay_undelayed_packets: u64,
    /// The delaying thread's CPU time, in s.
    pub delay_thread_cpu_s: f64,
    pub loss_percent: f64,
    pub mtu: u32,
}

/// What set the speed over the run (`lab::speed::over_run`): the samples
/// while the writer wrote, after the first second of a run longer than
/// two.
#[derive(Debug, Clone, Serialize)]
pub struct SpeedLimitSummary {
    /// "receive_window", "send_buffer", "congestion_window", "link",
    /// "writer" or "reader".
    pub by: crate::lab::speed::Limiter,
    /// What it allows: the window ÷ the round trip, or the link's rate
    /// or an application's pace.
    pub formula_bytes_per_s: f64,
    /// Bytes the reader received a second over the same span.
    pub measured_bytes_per_s: f64,
    /// The window divided by the round trip (the largest the receiver
    /// advertised, the send buffer, or cwnd × MSS); null when the limit
    /// is not a window.
    pub window_bytes: Option<u64>,
    /// The sender's smoothed round trip (tcpi_rtt), the median over the
    /// span.
    pub rtt_ms: f64,
    /// The span judged, in s.
    pub over_s: f64,
    /// The formula and the reason, in words ("receive window 64 KiB ÷
    /// round trip 100 ms = 640 KiB/s"; "The receive buffer, not the link,
    /// sets the speed: ...").
    pub formula: String,
    pub reason: String,
}

impl SpeedLimitSummary {
    /// The verdict over a run on a private link with a rate or a delay;
    /// None off one and on an unshaped one (loopback's speed is the
    /// machine's, over a round trip of microseconds), for another
    /// program's connection or an outside peer, and when no sample had a
    /// round trip.
    pub fn of(config: &LabConfig, info: &SessionInfo, timeline: &Timeline) -> Option<Self> {
        use crate::lab::speed::{Setup, over_run};
        use crate::lab::units::Rate;
        let spec = info.link.filter(|spec| {
            !info.outside
                && info.attached.is_none()
                && (spec.rate != Rate::Unlimited || spec.delay_ms > 0)
        })?;
        let setup = Setup::of(config, info, spec);
        let (limit, span) = over_run(timeline.recent(), &setup)?;
        let lang = crate::i18n::Lang::En;
        Some(SpeedLimitSummary {
            by: limit.limiter,
            formula_bytes_per_s: limit.ceiling(),
            measured_bytes_per_s: limit.measured,
            window_bytes: limit.window(),
            rtt_ms: limit.rtt.as_secs_f64() * 1e3,
            over_s: span.as_secs_f64(),
            formula: crate::speed_words::figures(&limit, lang).0,
            reason: crate::speed_words::why(&limit, &info.congestion, lang),
        })
    }
}

/// What the recorder measured besides the session report.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunFigures {
    pub duration_s: f64,
    pub interrupted: bool,
    pub zero_window_ns: u64,
    /// Why the drain was cut short, and after how long.
    pub drain_cut: Option<(crate::run::DrainCut, std::time::Duration)>,
}

impl Summary {
    pub fn new(
        config: &LabConfig,
        info: &SessionInfo,
        report: &SessionReport,
        timeline: &Timeline,
        run: RunFigures,
    ) -> Self {
        let elapsed_s = report.elapsed.as_secs_f64();
        let samples = timeline.total_samples();
        let sndbuf: &BufferSetting = &info.sndbuf;
        let rcvbuf: &BufferSetting = &info.rcvbuf;
        Summary {
            requested_sndbuf: sndbuf.requested,
            effective_sndbuf: sndbuf.effective,
            sndbuf_clamped: sndbuf.clamped(),
            final_sndbuf: report.final_sndbuf,
            wmem_max: sndbuf.kernel_max,
            requested_rcvbuf: rcvbuf.requested,
            effective_rcvbuf: rcvbuf.effective,
            rcvbuf_clamped: rcvbuf.clamped(),
            final_rcvbuf: report.final_rcvbuf,
            rmem_max: rcvbuf.kernel_max,
            write_rate: config.write_rate.to_string(),
            write_chunk: config.write_chunk.bytes(),
            read_rate: config.read_rate.to_string(),
            read_chunk: config.read_chunk.bytes(),
            duration_s: run.duration_s,
            elapsed_s,
            interrupted: run.interrupted,
            bytes_written: report.bytes_written,
            bytes_read: report.bytes_read,
            integrity_ok: report.integrity(),
            first_mismatch_offset: report.first_mismatch,
            stall_count: report.stall_count,
            stall_ms: report.stall_time.as_secs_f64() * 1e3,
            zero_window_ms: run.zero_window_ns as f64 / 1e6,
            retransmits: timeline.last().map_or(0, |s| s.sender.total_retrans),
            peak_sendq_bytes: timeline.peak_send_queue(),
            peak_recvq_bytes: timeline.peak_recv_queue(),
            throughput_bytes_per_s: if elapsed_s > 0.0 {
                report.bytes_read as f64 / elapsed_s
            } else {
                0.0
            },
            samples,
            sample_hz: config.sample_hz,
            sample_hz_achieved: report.schedule.achieved_hz(),
            outside_peer: info.outside,
            speed_limit: SpeedLimitSummary::of(config, info, timeline),
            congestion_control: info.congestion.clone(),
            link: info.link.map(|spec| LinkSummary {
                rate: spec.rate.to_string(),
                delay_ms: spec.delay_ms,
                delay_method: info.link_lacks.delay_method,
                delay_stopped: timeline.last().is_some_and(|s| s.delay_stopped),
                delay_packets: timeline.last().map_or(0, |s| s.delay_totals.packets),
                delay_undelayed_packets: timeline.last().map_or(0, |s| s.delay_totals.undelayed),
                delay_thread_cpu_s: timeline
                    .last()
                    .map_or(0.0, |s| s.delay_totals.thread_cpu_ns as f64 / 1e9),
                loss_percent: spec.loss.percent(),
                mtu: spec.mtu,
            }),
            capture: None,
            attached: info.attached.as_ref().map(|attached| AttachedSummary {
                followed: attached.followed.to_string(),
                writer_program: attached.writer_owner.clone(),
                reader_program: attached.reader_owner.clone(),
                closed: timeline
                    .last()
                    .is_some_and(|s| s.writer_state == WriterState::Closed),
                stalled_before_watch: timeline.stalled_at_start(),
            }),
            writer: info.writer_addr.to_string(),
            reader: info.reader_addr.to_string(),
            errors: report.errors.iter().map(ToString::to_string).collect(),
            drain_cut: run.drain_cut.map(|(why, after)| DrainCutSummary {
                why: why.key().to_string(),
                reason: why.reason(),
                after_s: after.as_secs_f64(),
                unread_bytes: report.bytes_written.saturating_sub(report.bytes_read),
            }),
        }
    }
}
