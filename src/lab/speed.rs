//! What sets a connection's speed now: the bandwidth-delay product read
//! backwards. A sender may have at most one window of bytes unacknowledged,
//! and an ACK comes back a round trip later, so a window allows at most
//! `window ÷ RTT` bytes a second, whichever window is the smallest: the
//! receiver's advertised window, the send buffer (which keeps every byte
//! until its ACK), or the congestion window. The link's rate and the
//! applications' own pace are ceilings too.
//!
//! This module only reads samples and settings and returns a typed value
//! (`SpeedLimit`); the window and any other frontend put it into words.

use std::time::Duration;

use super::buffers::BufferSetting;
use super::config::LabConfig;
use super::link::LinkSpec;
use super::sample::{Sample, WriterState};
use super::session::SessionInfo;
use super::units::Rate;

/// The span a speed is judged over: a few round trips even on a long link
/// (100 ms), short enough to follow a slider.
pub const SPEED_WINDOW: Duration = Duration::from_secs(1);

/// Measured at this share of the link's rate or more, the link is full:
/// it sets the speed, whatever the windows would allow. (A token bucket
/// counts headers too, so the bytes read stay a few percent under it.)
const LINK_FULL: f64 = 0.85;

/// Ceilings within this factor of the lowest count as equally low; the
/// first of them in `Limiter::ORDER` is named. When the link is full, its
/// queue lengthens the round trip until `window ÷ RTT` equals its rate, and
/// a congestion window that grew only as far as it was used equals the
/// receive window: the tie goes to the cause, not to its echo.
const TIE: f64 = 1.1;

/// What holds the speed down (in JSON: `receive_window`, `link`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limiter {
    /// The writing application's own pace (a rate set on the writer).
    Writer,
    /// The reading application: its pace, or no recv() calls at all.
    Reader,
    /// The link's rate (the bottleneck of the private link).
    Link,
    /// The receiver's advertised window ÷ RTT.
    ReceiveWindow,
    /// The send buffer ÷ RTT: it keeps every byte until its ACK.
    SendBuffer,
    /// The congestion window (segments × MSS) ÷ RTT.
    CongestionWindow,
}

impl Limiter {
    /// The order ties are broken in.
    pub const ORDER: [Limiter; 6] = [
        Limiter::Writer,
        Limiter::Reader,
        Limiter::Link,
        Limiter::ReceiveWindow,
        Limiter::SendBuffer,
        Limiter::CongestionWindow,
    ];
}

/// What each part would allow, in bytes a second; None where it sets no
/// ceiling (an unlimited writer, no link) or is not known (a kernel that
/// does not report it).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ceilings {
    pub writer: Option<f64>,
    pub reader: Option<f64>,
    pub link: Option<f64>,
    pub receive_window: Option<f64>,
    pub send_buffer: Option<f64>,
    pub congestion_window: Option<f64>,
}

impl Ceilings {
    pub fn of(&self, limiter: Limiter) -> Option<f64> {
        match limiter {
            Limiter::Writer => self.writer,
            Limiter::Reader => self.reader,
            Limiter::Link => self.link,
            Limiter::ReceiveWindow => self.receive_window,
            Limiter::SendBuffer => self.send_buffer,
            Limiter::CongestionWindow => self.congestion_window,
        }
    }
}

/// The decision table: the link when the bytes read reach it, else the
/// lowest ceiling (ties in `Limiter::ORDER`). None when no part sets a
/// ceiling.
pub fn decide(ceilings: &Ceilings, measured: f64) -> Option<Limiter> {
    if ceilings
        .link
        .is_some_and(|link| measured >= LINK_FULL * link)
    {
        return Some(Limiter::Link);
    }
    let lowest = Limiter::ORDER
        .iter()
        .filter_map(|l| ceilings.of(*l))
        .fold(f64::INFINITY, f64::min);
    Limiter::ORDER
        .into_iter()
        .find(|l| ceilings.of(*l).is_some_and(|c| c <= lowest * TIE))
}

/// The settings the samples do not carry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setup {
    /// The link's rate; None off a link or unlimited.
    pub link_rate: Option<u64>,
    pub write_rate: Rate,
    pub read_rate: Rate,
    pub sndbuf: BufferSetting,
    pub rcvbuf: BufferSetting,
}

impl Setup {
    /// A run's setup: its applications' rates, its buffers, and the rate
    /// of the link it runs on.
    pub fn of(config: &LabConfig, info: &SessionInfo, link: LinkSpec) -> Setup {
        Setup {
            link_rate: match link.rate {
                Rate::BytesPerSec(n) => Some(n),
                _ => None,
            },
            write_rate: config.write_rate,
            read_rate: config.read_rate,
            sndbuf: info.sndbuf,
            rcvbuf: info.rcvbuf,
        }
    }
}

/// What sets the speed over the last `SPEED_WINDOW`, with the figures a
/// caption shows beside each other.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeedLimit {
    pub limiter: Limiter,
    /// tcpi_rtt, the sender's smoothed round trip (median over the span).
    pub rtt: Duration,
    /// The largest window the receiver advertised over the span (bytes):
    /// what it offers while its reader keeps up.
    pub receive_window: u64,
    /// The send buffer's size now (sk_sndbuf, or the size at the start).
    pub send_buffer: u64,
    pub cwnd_segments: u32,
    pub mss: u32,
    pub ceilings: Ceilings,
    /// Bytes the reader received, per second over the span.
    pub measured: f64,
    /// The buffers are left to autotuning (SO_RCVBUF / SO_SNDBUF unset).
    pub rcvbuf_autotuned: bool,
    pub sndbuf_autotuned: bool,
}

impl SpeedLimit {
    /// The window the formula divides by the round trip, for a limiter
    /// that is a window.
    pub fn window(&self) -> Option<u64> {
        match self.limiter {
            Limiter::ReceiveWindow => Some(self.receive_window),
            Limiter::SendBuffer => Some(self.send_buffer),
            Limiter::CongestionWindow => Some(u64::from(self.cwnd_segments) * u64::from(self.mss)),
            _ => None,
        }
    }

    /// The limiter's ceiling: the formula's figure.
    pub fn ceiling(&self) -> f64 {
        self.ceilings.of(self.limiter).unwrap_or(self.measured)
    }

    /// The next lowest fixed ceiling: how far lifting the limiter would go,
    /// and what would hold the speed then. None when nothing else sets
    /// one. The congestion window and an autotuned buffer are not fixed:
    /// they grow with what the connection gets through, so they are never
    /// named as the next limit.
    pub fn next(&self) -> Option<(Limiter, f64)> {
        let own = self.ceiling();
        let grows = |l: Limiter| match l {
            Limiter::CongestionWindow => true,
            Limiter::ReceiveWindow => self.rcvbuf_autotuned,
            Limiter::SendBuffer => self.sndbuf_autotuned,
            _ => false,
        };
        Limiter::ORDER
            .into_iter()
            .filter(|l| *l != self.limiter && !grows(*l))
            .filter_map(|l| self.ceilings.of(l).map(|c| (l, c)))
            .filter(|(_, c)| *c > own)
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// What sets the speed, from the `samples` (oldest first) within
/// `window` of the newest. None until two samples span some time, or
/// while the sender has no round-trip estimate yet.
pub fn analyse<'a, I>(samples: I, window: Duration, setup: &Setup) -> Option<SpeedLimit>
where
    I: IntoIterator<Item = &'a Sample>,
    I::IntoIter: DoubleEndedIterator,
{
    let mut newest_first = samples.into_iter().rev();
    let newest = newest_first.next()?;
    let since = newest
        .t_ns
        .saturating_sub(window.as_nanos().try_into().unwrap_or(u64::MAX));
    let mut span: Vec<&Sample> = newest_first.take_while(|s| s.t_ns >= since).collect();
    let oldest = *span.last()?;
    if newest.t_ns <= oldest.t_ns {
        return None;
    }
    span.push(newest);
    let mut rtts: Vec<u32> = span
        .iter()
        .map(|s| s.sender.rtt_us)
        .filter(|r| *r > 0)
        .collect();
    if rtts.is_empty() {
        return None;
    }
    rtts.sort_unstable();
    let rtt_us = rtts[rtts.len() / 2];
    let rtt = f64::from(rtt_us) / 1e6;
    // The window as the sender sees it (tcpi_snd_wnd); the receiver's own
    // figure on kernels that do not report it, its autotuning estimate
    // last.
    let largest = |f: fn(&Sample) -> u32| span.iter().map(|s| f(s)).max().unwrap_or(0);
    let receive_window = [
        largest(|s| s.sender.snd_wnd),
        largest(|s| s.receiver.rcv_wnd),
        largest(|s| s.receiver.rcv_space),
    ]
    .into_iter()
    .find(|w| *w > 0)
    .map_or(0, u64::from);
    let send_buffer = match newest.sender_memory.sndbuf {
        0 => setup.sndbuf.effective,
        now => u64::from(now),
    };
    let (cwnd_segments, mss) = (newest.sender.snd_cwnd, newest.sender.snd_mss);
    let per_rtt = |bytes: u64| (bytes > 0).then(|| bytes as f64 / rtt);
    let pace = |rate: Rate| match rate {
        Rate::Unlimited => None,
        Rate::Paused => Some(0.0),
        Rate::BytesPerSec(n) => Some(n as f64),
    };
    let ceilings = Ceilings {
        writer: pace(setup.write_rate),
        reader: pace(setup.read_rate),
        link: setup.link_rate.map(|r| r as f64),
        receive_window: per_rtt(receive_window),
        send_buffer: per_rtt(send_buffer),
        congestion_window: per_rtt(u64::from(cwnd_segments) * u64::from(mss)),
    };
    let secs = (newest.t_ns - oldest.t_ns) as f64 / 1e9;
    let measured = newest.read.saturating_sub(oldest.read) as f64 / secs;
    Some(SpeedLimit {
        limiter: decide(&ceilings, measured)?,
        rtt: Duration::from_micros(u64::from(rtt_us)),
        receive_window,
        send_buffer,
        cwnd_segments,
        mss,
        ceilings,
        measured,
        rcvbuf_autotuned: setup.rcvbuf.requested.is_none(),
        sndbuf_autotuned: setup.sndbuf.requested.is_none(),
    })
}

/// A run's first stretch is slow start and the handshake: a run longer
/// than twice this is judged without it.
pub const RUN_START_SKIPPED: Duration = Duration::from_secs(1);

/// What set the speed over a whole run (`record`'s verdict): the samples
/// while the writer wrote (its drain, when only the reader still reads, is
/// left out), without the first `RUN_START_SKIPPED` when the run is longer
/// than twice that. Returns the verdict and the span it was judged over.
pub fn over_run<'a, I>(samples: I, setup: &Setup) -> Option<(SpeedLimit, Duration)>
where
    I: IntoIterator<Item = &'a Sample>,
{
    let writing: Vec<&Sample> = samples
        .into_iter()
        .take_while(|s| {
            !matches!(
                s.writer_state,
                WriterState::Finished
                    | WriterState::PeerGone
                    | WriterState::Failed
                    | WriterState::Closed
            )
        })
        .collect();
    let (first, last) = (writing.first()?.t_ns, writing.last()?.t_ns);
    let skipped = u64::try_from(RUN_START_SKIPPED.as_nanos()).unwrap_or(u64::MAX);
    let from = if last.saturating_sub(first) > 2 * skipped {
        first + skipped
    } else {
        first
    };
    let span = Duration::from_nanos(last - from);
    let judged = writing.into_iter().filter(|s| s.t_ns >= from);
    // A little over the span: `analyse` keeps the samples within it of
    // the newest, the first included.
    analyse(
        judged.collect::<Vec<_>>(),
        span + Duration::from_nanos(1),
        setup,
    )
    .map(|limit| (limit, span))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::BufferKind;

    const KIB: f64 = 1024.0;
    const MIB: f64 = 1024.0 * 1024.0;

    /// The long link's lesson: 10 MiB/s, 100 ms round trip, the receive
    /// window 64 KiB (640 KiB/s), a 256 KiB send buffer (2.5 MiB/s), the
    /// congestion window grown to the receive window's size.
    fn long_link() -> Ceilings {
        Ceilings {
            writer: None,
            reader: None,
            link: Some(10.0 * MIB),
            receive_window: Some(640.0 * KIB),
            send_buffer: Some(2560.0 * KIB),
            congestion_window: Some(650.0 * KIB),
        }
    }

    #[test]
    fn the_decision_table() {
        let base = long_link();
        let rows: [(&str, Ceilings, f64, Option<Limiter>); 12] = [
            (
                "a 64 KiB window on a 100 ms round trip",
                base,
                610.0 * KIB,
                Some(Limiter::ReceiveWindow),
            ),
            (
                "the bytes read reach the link's rate: the link is full",
                Ceilings {
                    receive_window: Some(9.9 * MIB),
                    ..base
                },
                9.6 * MIB,
                Some(Limiter::Link),
            ),
            (
                "the link is full even where the windows, over a round trip \
                 lengthened by its queue, tie with it",
                Ceilings {
                    receive_window: Some(10.2 * MIB),
                    send_buffer: Some(10.1 * MIB),
                    congestion_window: Some(10.3 * MIB),
                    ..base
                },
                9.7 * MIB,
                Some(Limiter::Link),
            ),
            (
                "a big receive buffer and a small send buffer",
                Ceilings {
                    receive_window: Some(5.0 * MIB),
                    send_buffer: Some(1.25 * MIB),
                    congestion_window: Some(6.0 * MIB),
                    ..base
                },
                1.2 * MIB,
                Some(Limiter::SendBuffer),
            ),
            (
                "slow start: the congestion window is far below the others",
                Ceilings {
                    congestion_window: Some(140.0 * KIB),
                    ..base
                },
                120.0 * KIB,
                Some(Limiter::CongestionWindow),
            ),
            (
                "a congestion window just under the receive window is its echo",
                Ceilings {
                    congestion_window: Some(600.0 * KIB),
                    ..base
                },
                590.0 * KIB,
                Some(Limiter::ReceiveWindow),
            ),
            (
                "a writer paced under every window",
                Ceilings {
                    writer: Some(256.0 * KIB),
                    ..base
                },
                255.0 * KIB,
                Some(Limiter::Writer),
            ),
            (
                "a writer paced above the receive window's ceiling",
                Ceilings {
                    writer: Some(4.0 * MIB),
                    ..base
                },
                610.0 * KIB,
                Some(Limiter::ReceiveWindow),
            ),
            (
                "a reader that makes no recv() calls",
                Ceilings {
                    reader: Some(0.0),
                    ..base
                },
                0.0,
                Some(Limiter::Reader),
            ),
            (
                "a slow reader",
                Ceilings {
                    reader: Some(48.0 * KIB),
                    ..base
                },
                48.0 * KIB,
                Some(Limiter::Reader),
            ),
            (
                "no link (loopback): the windows alone",
                Ceilings { link: None, ..base },
                610.0 * KIB,
                Some(Limiter::ReceiveWindow),
            ),
            (
                "nothing known sets a ceiling",
                Ceilings::default(),
                1.0 * MIB,
                None,
            ),
        ];
        for (why, ceilings, measured, expected) in rows {
            assert_eq!(decide(&ceilings, measured), expected, "{why}");
        }
    }

    fn setup(rcvbuf: Option<u64>) -> Setup {
        let buffer = |kind, requested: Option<u64>| BufferSetting {
            kind,
            requested,
            effective: requested.map_or(131_072, |r| 2 * r),
            kernel_max: None,
            origin_known: true,
        };
        Setup {
            link_rate: Some(10 << 20),
            write_rate: Rate::Unlimited,
            read_rate: Rate::Unlimited,
            sndbuf: buffer(BufferKind::Send, None),
            rcvbuf: buffer(BufferKind::Receive, rcvbuf),
        }
    }

    /// A second at 100 Hz of a flow held by a 64 KiB window over a 100 ms
    /// round trip: ~640 KiB/s read.
    fn window_limited() -> Vec<Sample> {
        (0..=100u64)
            .map(|i| {
                let mut s = Sample {
                    t_ns: i * 10_000_000,
                    read: i * 6_400,
                    ..Sample::default()
                };
                s.sender.rtt_us = 100_000 + (i % 3) as u32 * 400;
                s.sender.snd_wnd = if i % 10 == 0 { 60_000 } else { 65_536 };
                s.sender.snd_cwnd = 80;
                s.sender.snd_mss = 1448;
                s.sender_memory.sndbuf = 1 << 20;
                s
            })
            .collect()
    }

    #[test]
    fn the_receive_window_over_the_round_trip_from_samples() {
        let samples = window_limited();
        let limit = analyse(&samples, SPEED_WINDOW, &setup(Some(32 * 1024))).unwrap();
        assert_eq!(limit.limiter, Limiter::ReceiveWindow);
        assert_eq!(limit.receive_window, 65_536, "the largest advertised");
        assert_eq!(limit.rtt, Duration::from_micros(100_400), "the median");
        assert_eq!(limit.window(), Some(65_536));
        assert!((limit.ceiling() - 65_536.0 / 0.1004).abs() < 1.0);
        assert!(
            (limit.measured - 640_000.0).abs() < 1.0,
            "{}",
            limit.measured
        );
        assert!(!limit.rcvbuf_autotuned && limit.sndbuf_autotuned);
        // Lifted, the window gives way to the link: the congestion window
        // (80 × 1448 B) is lower but grows, as does the autotuned send
        // buffer.
        let (next, ceiling) = limit.next().unwrap();
        assert_eq!(next, Limiter::Link);
        assert_eq!(ceiling, 10.0 * MIB);
    }

    #[test]
    fn only_the_span_counts_and_nothing_is_said_without_a_round_trip() {
        let mut samples = window_limited();
        let later: Vec<Sample> = window_limited()
            .iter()
            .map(|s| Sample {
                t_ns: s.t_ns + 500_000_000,
                ..*s
            })
            .collect();
        // An old window, out of the span, must not count.
        samples[10].sender.snd_wnd = 4 << 20;
        let mut both = samples[..50].to_vec();
        both.extend(later);
        let limit = analyse(&both, SPEED_WINDOW, &setup(None)).unwrap();
        assert_eq!(limit.receive_window, 65_536);
        assert!(limit.rcvbuf_autotuned);
        // No RTT yet (before the handshake's ACK): nothing to say.
        let mut fresh = window_limited();
        for s in &mut fresh {
            s.sender.rtt_us = 0;
        }
        assert_eq!(analyse(&fresh, SPEED_WINDOW, &setup(None)), None);
        // One sample spans no time.
        assert_eq!(analyse(&samples[..1], SPEED_WINDOW, &setup(None)), None);
        assert_eq!(analyse(&[], SPEED_WINDOW, &setup(None)), None);
    }

    #[test]
    fn a_run_is_judged_while_its_writer_wrote_after_its_first_second() {
        // 3 s of writing, the first second slow (slow start), then a drain
        // that reads the rest in a burst after the writer finished.
        let template = window_limited()[1];
        let samples: Vec<Sample> = (0..=400u64)
            .map(|i| {
                let mut s = template;
                s.t_ns = i * 10_000_000;
                s.read = match i {
                    0..=100 => i * 1_000,
                    _ => 100_000 + (i.min(300) - 100) * 6_400,
                };
                if i > 300 {
                    s.writer_state = WriterState::Finished;
                    s.read += (i - 300) * 50_000;
                }
                s
            })
            .collect();
        let (limit, span) = over_run(&samples, &setup(Some(32 * 1024))).unwrap();
        assert_eq!(span, Duration::from_secs(2), "from 1 s to the writer's end");
        assert!(
            (limit.measured - 640_000.0).abs() < 1.0,
            "{}",
            limit.measured
        );
        assert_eq!(limit.limiter, Limiter::ReceiveWindow);
        // A short run keeps its first second.
        let (_, span) = over_run(&samples[..150], &setup(None)).unwrap();
        assert_eq!(span, Duration::from_millis(1_490));
        assert_eq!(over_run(&[], &setup(None)), None);
    }

    #[test]
    fn the_send_buffer_at_its_size_now_or_at_the_start() {
        let mut samples = window_limited();
        for s in &mut samples {
            s.sender.snd_wnd = 4 << 20;
            s.sender.snd_cwnd = 4000;
            s.sender_memory.sndbuf = 0; // no SO_MEMINFO: the size at the start
            s.read = s.t_ns / 10_000_000 * 13_000;
        }
        let limit = analyse(&samples, SPEED_WINDOW, &setup(None)).unwrap();
        assert_eq!(limit.send_buffer, 131_072);
        assert_eq!(limit.limiter, Limiter::SendBuffer);
        assert_eq!(limit.next().map(|n| n.0), Some(Limiter::Link));
    }
}
