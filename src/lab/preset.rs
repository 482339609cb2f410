//! Named starting points for a lesson: each shows one part of the story
//! within seconds on loopback.

use super::config::{Endpoint, LabConfig};
use super::link::LinkSpec;
use super::units::{Rate, Size};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// The reader keeps up: both buffers stay nearly empty.
    Balanced,
    /// The reader is much slower than the writer: the buffers fill and the
    /// writer stalls again and again.
    SlowReader,
    /// The reader makes no recv() calls at all: the receive buffer fills,
    /// the window closes, the send buffer fills, send() blocks.
    PausedReader,
    /// A private link of 256 KiB/s between a fast writer and reader: bytes
    /// sent but not yet acknowledged fill the send buffer at once.
    SlowLink,
    /// A long private link: 10 MiB/s and 50 ms each way (a round trip of
    /// 100 ms), with a 64 KiB SO_RCVBUF: the receive window ÷ the round
    /// trip, not the link, sets the speed (the bandwidth-delay product).
    LongLink,
}

impl Preset {
    pub const ALL: [Preset; 5] = [
        Preset::Balanced,
        Preset::SlowReader,
        Preset::PausedReader,
        Preset::SlowLink,
        Preset::LongLink,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Balanced => "balanced",
            Preset::SlowReader => "slow-reader",
            Preset::PausedReader => "paused-reader",
            Preset::SlowLink => "slow-link",
            Preset::LongLink => "long-link",
        }
    }

    pub fn parse(text: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == text.trim())
    }

    /// The accepted names, for an error message.
    pub fn names() -> String {
        Preset::ALL.map(Preset::name).join(", ")
    }

    /// Small buffers (32 KiB requested, 64 KiB effective) fill visibly; a
    /// paced writer at 256 KiB/s fills them in well under a second.
    pub fn config(self) -> LabConfig {
        let base = LabConfig {
            sndbuf: Some(Size(32 * 1024)),
            rcvbuf: Some(Size(32 * 1024)),
            write_rate: Rate::BytesPerSec(256 * 1024),
            write_chunk: Size(4 * 1024),
            read_rate: Rate::Unlimited,
            read_chunk: Size(4 * 1024),
            ..LabConfig::default()
        };
        match self {
            Preset::Balanced => base,
            Preset::SlowReader => LabConfig {
                read_rate: Rate::BytesPerSec(48 * 1024),
                ..base
            },
            Preset::PausedReader => LabConfig {
                read_rate: Rate::Paused,
                ..base
            },
            Preset::SlowLink => LabConfig {
                sndbuf: Some(Size(128 * 1024)),
                rcvbuf: Some(Size(128 * 1024)),
                write_rate: Rate::Unlimited,
                write_chunk: Size(16 * 1024),
                endpoint: Endpoint::Link(LinkSpec {
                    rate: Rate::BytesPerSec(256 * 1024),
                    ..LinkSpec::default()
                }),
                ..base
            },
            // The send buffer autotunes (up to tcp_wmem's 4 MiB), so only
            // the receive buffer holds the speed down: 64 KiB asked, 128
            // KiB effective, of which the window is a share.
            Preset::LongLink => LabConfig {
                sndbuf: None,
                rcvbuf: Some(Size(64 * 1024)),
                write_rate: Rate::Unlimited,
                write_chunk: Size(64 * 1024),
                read_chunk: Size(64 * 1024),
                endpoint: Endpoint::Link(LinkSpec {
                    rate: Rate::BytesPerSec(LONG_LINK_RATE),
                    delay_ms: LONG_LINK_DELAY_MS,
                    ..LinkSpec::default()
                }),
                ..base
            },
        }
    }
}

/// The long link's rate: 10 MiB/s.
pub const LONG_LINK_RATE: u64 = 10 * 1024 * 1024;
/// The long link's delay each way: a round trip of 100 ms.
pub const LONG_LINK_DELAY_MS: u32 = 50;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_readers_differ() {
        for preset in Preset::ALL {
            assert_eq!(Preset::parse(preset.name()), Some(preset));
        }
        assert_eq!(Preset::parse("fast"), None);
        let rates: Vec<_> = Preset::ALL[..3]
            .iter()
            .map(|p| p.config().read_rate)
            .collect();
        assert!(rates[0] != rates[1] && rates[1] != rates[2] && rates[0] != rates[2]);
        // Only the slow and the long link leave the machine's loopback,
        // and only the long one has a delay.
        for preset in Preset::ALL {
            let link = match preset.config().endpoint {
                Endpoint::Link(spec) => Some(spec),
                _ => None,
            };
            let on_link = matches!(preset, Preset::SlowLink | Preset::LongLink);
            assert_eq!(link.is_some(), on_link, "{preset:?}");
            assert_eq!(
                link.is_some_and(|l| l.delay_ms > 0),
                preset == Preset::LongLink,
                "{preset:?}"
            );
        }
    }
}
