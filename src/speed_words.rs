//! What sets the speed, in words: the formula's figure (a window ÷ the
//! round trip, or the link's rate), the measured speed, then why, and what
//! would go faster. The decision is the lab's (`lab::speed`); the window
//! draws these words under its caption and `record` prints them, so both
//! say the same thing.

use crate::i18n::{Lang, S};
use crate::lab::speed::{Limiter, SpeedLimit};
use crate::lab::units::format_bytes;

/// A speed in bytes a second, as "640 KiB/s".
pub fn rate(bytes_per_sec: f64) -> String {
    format!("{}/s", format_bytes(bytes_per_sec.max(0.0).round() as u64))
}

/// The figures side by side: "receive window 64 KiB ÷ round trip 100 ms
/// = 640 KiB/s", "measured 612 KiB/s", and the link's rate when it is not
/// the limit.
pub fn figures(limit: &SpeedLimit, lang: Lang) -> (String, String, Option<String>) {
    let ceiling = rate(limit.ceiling());
    let formula = match (limit.limiter, limit.window()) {
        (Limiter::Link, _) => S::SpeedLinkRate.fill(lang, &[&ceiling]),
        (Limiter::Writer, _) => S::SpeedWriterPace.fill(lang, &[&ceiling]),
        (Limiter::Reader, _) => S::SpeedReaderPace.fill(lang, &[&ceiling]),
        (window_kind, Some(window)) => {
            let name = match window_kind {
                Limiter::SendBuffer => S::SpeedNameSndbuf,
                Limiter::CongestionWindow => S::SpeedNameCwnd,
                _ => S::SpeedNameRwnd,
            };
            let rtt = S::Millis.fill(lang, &[&format!("{:.0}", limit.rtt.as_secs_f64() * 1e3)]);
            S::SpeedFormula.fill(
                lang,
                &[&name.text(lang), &format_bytes(window), &rtt, &ceiling],
            )
        }
        (_, None) => ceiling,
    };
    let measured = measured(limit.measured, lang);
    let link = limit
        .ceilings
        .link
        .filter(|_| limit.limiter != Limiter::Link)
        .map(|link| S::SpeedLinkRate.fill(lang, &[&rate(link)]));
    (formula, measured, link)
}

/// "measured 612 KiB/s".
pub fn measured(bytes_per_sec: f64, lang: Lang) -> String {
    S::SpeedMeasured.fill(lang, &[&rate(bytes_per_sec)])
}

/// Why, and what would go faster (as far as the next limit).
pub fn why(limit: &SpeedLimit, congestion: &str, lang: Lang) -> String {
    let up_to = || match limit.next() {
        Some((next, ceiling)) => {
            let key = match next {
                Limiter::Link => S::SpeedNextLink,
                Limiter::ReceiveWindow => S::SpeedNextRwnd,
                Limiter::SendBuffer => S::SpeedNextSndbuf,
                Limiter::CongestionWindow => S::SpeedNextCwnd,
                Limiter::Writer => S::SpeedNextWriter,
                Limiter::Reader => S::SpeedNextReader,
            };
            S::SpeedUpTo.fill(lang, &[&key.fill(lang, &[&rate(ceiling)])])
        }
        None => S::SpeedEnd.text(lang).to_string(),
    };
    match limit.limiter {
        Limiter::ReceiveWindow if limit.rcvbuf_autotuned => {
            S::SpeedWhyRwnd.text(lang).to_string() + S::SpeedRcvbufAutotuned.text(lang)
        }
        Limiter::ReceiveWindow => {
            S::SpeedWhyRwnd.text(lang).to_string() + S::SpeedMoreRcvbuf.text(lang) + &up_to()
        }
        Limiter::SendBuffer if limit.sndbuf_autotuned => {
            S::SpeedWhySndbuf.text(lang).to_string() + S::SpeedSndbufAutotuned.text(lang)
        }
        Limiter::SendBuffer => {
            S::SpeedWhySndbuf.text(lang).to_string() + S::SpeedMoreSndbuf.text(lang) + &up_to()
        }
        Limiter::CongestionWindow => {
            S::SpeedWhyCwnd.fill(lang, &[&limit.cwnd_segments, &limit.mss, &congestion])
        }
        Limiter::Link => S::SpeedWhyLink.text(lang).to_string(),
        Limiter::Writer => S::SpeedWhyWriter.text(lang).to_string(),
        Limiter::Reader => S::SpeedWhyReader.text(lang).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::speed::Ceilings;
    use std::time::Duration;

    /// The example: 64 KiB ÷ 100 ms = 640 KiB/s on a 10 MiB/s link.
    fn lesson() -> SpeedLimit {
        let rtt = 0.1;
        SpeedLimit {
            limiter: Limiter::ReceiveWindow,
            rtt: Duration::from_millis(100),
            receive_window: 65_536,
            send_buffer: 4 << 20,
            cwnd_segments: 90,
            mss: 1448,
            ceilings: Ceilings {
                writer: None,
                reader: None,
                link: Some(10.0 * 1048576.0),
                receive_window: Some(65_536.0 / rtt),
                send_buffer: Some(f64::from(4u32 << 20) / rtt),
                congestion_window: Some(90.0 * 1448.0 / rtt),
            },
            measured: 612.0 * 1024.0,
            rcvbuf_autotuned: false,
            sndbuf_autotuned: true,
        }
    }

    #[test]
    fn the_receive_windows_lesson_in_both_languages() {
        let limit = lesson();
        let (formula, measured, link) = figures(&limit, Lang::En);
        assert_eq!(
            formula,
            "receive window 64 KiB ÷ round trip 100 ms = 640 KiB/s"
        );
        assert_eq!(measured, "measured 612 KiB/s");
        assert_eq!(link.as_deref(), Some("link rate 10 MiB/s"));
        let text = why(&limit, "bbr", Lang::En);
        assert!(
            text.starts_with("The receive buffer, not the link"),
            "{text}"
        );
        // Lifted, the window gives way to the link (the congestion window
        // and the autotuned send buffer grow).
        assert!(
            text.ends_with("a bigger SO_RCVBUF would go faster, up to the link's 10 MiB/s."),
            "{text}"
        );
        let (formula, measured, _) = figures(&limit, Lang::Zh);
        assert_eq!(formula, "接收窗口 64 KiB ÷ 往返时间 100 毫秒 = 640 KiB/s");
        assert_eq!(measured, "实测 612 KiB/s");
        let text = why(&limit, "bbr", Lang::Zh);
        assert!(
            text.ends_with("更大的 SO_RCVBUF 会更快，最多到链路的 10 MiB/s。"),
            "{text}"
        );
    }

    #[test]
    fn each_limit_says_what_would_help_and_autotuning_is_not_told_to_grow() {
        let mut limit = lesson();
        limit.rcvbuf_autotuned = true;
        let text = why(&limit, "bbr", Lang::En);
        assert!(text.contains("net.ipv4.tcp_rmem") && !text.contains("bigger SO_RCVBUF"));
        limit.limiter = Limiter::CongestionWindow;
        let text = why(&limit, "cubic", Lang::En);
        assert!(
            text.contains("90 segments × 1448 B") && text.contains("cubic"),
            "{text}"
        );
        assert!(
            figures(&limit, Lang::En)
                .0
                .starts_with("congestion window 127.3 KiB ÷")
        );
        limit.limiter = Limiter::Link;
        let (formula, _, link) = figures(&limit, Lang::En);
        assert_eq!((formula.as_str(), link), ("link rate 10 MiB/s", None));
        assert!(why(&limit, "bbr", Lang::Zh).starts_with("决定速度的是链路的速率"));
    }
}
