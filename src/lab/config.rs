//! What a session starts from, the limits every frontend keeps to, and the
//! checks of them, in one place: the CLI, scenario files, the window's
//! stored settings and the lab itself all ask here.

use std::io;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::congestion::Congestion;
use super::link::{LinkError, LinkSpec};
use super::units::{Rate, Size};

/// The sample rate a session starts with unless told otherwise.
pub const DEFAULT_SAMPLE_HZ: u32 = 200;

/// The highest sample rate: 100 µs between samples, already more than the
/// three ioctls and two TCP_INFO calls of a sample leave room for.
pub const MAX_SAMPLE_HZ: u32 = 10_000;

/// The largest send(data) or recv(bufsize) the lab accepts. 1 GiB is far
/// beyond any useful call; refusing more keeps a typo from allocating the
/// machine's memory.
pub const MAX_CHUNK: u64 = 1 << 30;

/// Of a send(data) or recv(bufsize) larger than this, the lab holds in
/// memory only what one call can move: a non-blocking send() copies at
/// most the send buffer's room and a recv() returns at most what the
/// receive queue holds, so a call given the buffer's size (and at least
/// this much) does what the whole chunk's call would. `--write-chunk 1G`
/// took 1 GB of memory before.
pub const HELD_AT_MOST: usize = 8 << 20;

/// The largest SO_SNDBUF / SO_RCVBUF a setting or a scenario may request.
/// The kernel caps a request at net.core.wmem_max / rmem_max anyway; 1 GiB
/// is far above any real cap.
pub const MAX_BUFFER: u64 = 1 << 30;

/// Everything a session starts from. Buffer sizes apply at start only: the
/// window scale is agreed in the handshake.
///
/// Stored as is (serde): a stored config missing fields loads with the
/// defaults' values for them; `sanitized` replaces values out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LabConfig {
    /// SO_SNDBUF to request on the writer socket; None = kernel autotuning.
    pub sndbuf: Option<Size>,
    /// SO_RCVBUF to request on the listening (and so the reader) socket.
    pub rcvbuf: Option<Size>,
    pub write_rate: Rate,
    /// Bytes per send(data) call.
    pub write_chunk: Size,
    pub read_rate: Rate,
    /// recv(bufsize).
    pub read_chunk: Size,
    pub sample_hz: u32,
    /// Keep the writer and the reader each on its own CPU (when the process
    /// may use two or more): unpinned, the scheduler moves them about
    /// whenever the sampler wakes.
    pub pin_workers: bool,
    /// Where the connection comes from: sockscope's own loopback pair, or
    /// one socket to an outside peer.
    pub endpoint: Endpoint,
    /// The sender's congestion control (TCP_CONGESTION); None leaves the
    /// kernel's default.
    pub congestion: Option<Congestion>,
    /// Capture the connection's packets on the wire (a private link only).
    pub capture: bool,
}

/// The connection a session watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Endpoint {
    /// A writer and a reader of sockscope's own, on loopback; the reader
    /// verifies every byte.
    #[default]
    Loopback,
    /// Wait for one outside client on this address; the accepted socket
    /// both sends (writer settings) and receives (reader settings).
    Listen(SocketAddr),
    /// Connect to an outside server; the one socket sends and receives.
    Connect(SocketAddr),
    /// sockscope's own pair, over the loopback of a private network
    /// namespace: a link that can be shaped and unplugged.
    Link(LinkSpec),
}

impl Endpoint {
    /// An outside program is at the other end: its bytes are not ours to
    /// verify, and it need not ever close.
    pub fn is_outside(self) -> bool {
        matches!(self, Endpoint::Listen(_) | Endpoint::Connect(_))
    }
}

impl Default for LabConfig {
    fn default() -> Self {
        LabConfig {
            sndbuf: None,
            rcvbuf: None,
            write_rate: Rate::Unlimited,
            write_chunk: Size(128 * 1024),
            read_rate: Rate::Unlimited,
            read_chunk: Size(128 * 1024),
            sample_hz: DEFAULT_SAMPLE_HZ,
            pin_workers: true,
            endpoint: Endpoint::Loopback,
            congestion: None,
            capture: false,
        }
    }
}

/// Why a lab session could not start, or a setting was refused.
#[derive(Debug, Error)]
pub enum LabError {
    #[error("could not {step}: {source}")]
    Socket {
        step: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("could not start the {0} thread: {1}")]
    Thread(&'static str, #[source] io::Error),
    #[error("the sample rate must be 1 to {MAX_SAMPLE_HZ} Hz, not {0}")]
    SampleRate(u32),
    #[error("a send() or recv() size is 1 byte to 1G, not {0}")]
    ChunkTooLarge(Size),
    #[error("a requested SO_SNDBUF or SO_RCVBUF is 1 byte to 1G, not {0}")]
    BufferTooLarge(Size),
    #[error("the wait for a client was cancelled")]
    Cancelled,
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("another program's connection is only watched: sockscope changes nothing of it")]
    ReadOnly,
}

/// A send(data) or recv(bufsize) size: 1 byte to `MAX_CHUNK`. Returns it
/// as the length of the buffer it sizes.
pub fn check_chunk(size: Size) -> Result<usize, LabError> {
    if size.bytes() == 0 || size.bytes() > MAX_CHUNK {
        return Err(LabError::ChunkTooLarge(size));
    }
    Ok(size.bytes() as usize)
}

/// A sample rate: 1 to `MAX_SAMPLE_HZ` samples a second.
pub fn check_sample_hz(hz: u32) -> Result<u32, LabError> {
    if !(1..=MAX_SAMPLE_HZ).contains(&hz) {
        return Err(LabError::SampleRate(hz));
    }
    Ok(hz)
}

/// A requested SO_SNDBUF or SO_RCVBUF: 1 byte to `MAX_BUFFER`.
pub fn check_buffer(size: Size) -> Result<Size, LabError> {
    if size.bytes() == 0 || size.bytes() > MAX_BUFFER {
        return Err(LabError::BufferTooLarge(size));
    }
    Ok(size)
}

impl LabConfig {
    /// What starting a session needs: the sample rate and both call sizes
    /// in range. Buffer requests are not refused here (the kernel caps them,
    /// and `record --sndbuf 2G` asks for the cap); settings and scenario
    /// files keep them within `MAX_BUFFER` with `check_buffer`.
    pub fn check(&self) -> Result<(), LabError> {
        self.call_sizes().map(drop)
    }

    /// `check`, returning the send(data) and recv(bufsize) lengths.
    pub(crate) fn call_sizes(&self) -> Result<(usize, usize), LabError> {
        check_sample_hz(self.sample_hz)?;
        Ok((
            check_chunk(self.write_chunk)?,
            check_chunk(self.read_chunk)?,
        ))
    }

    /// This config with every value out of range replaced by the default
    /// config's (see `sanitized_against`).
    pub fn sanitized(self) -> LabConfig {
        self.sanitized_against(&LabConfig::default())
    }

    /// This config with every value out of range replaced: a call size or
    /// a sample rate by `fallback`'s, a buffer request by none (kernel
    /// autotuning, as a window's settings have always done). Rates and the
    /// endpoint have no range.
    pub fn sanitized_against(self, fallback: &LabConfig) -> LabConfig {
        let chunk = |size: Size, fallback: Size| check_chunk(size).map_or(fallback, |_| size);
        LabConfig {
            sndbuf: self.sndbuf.and_then(|size| check_buffer(size).ok()),
            rcvbuf: self.rcvbuf.and_then(|size| check_buffer(size).ok()),
            write_chunk: chunk(self.write_chunk, fallback.write_chunk),
            read_chunk: chunk(self.read_chunk, fallback.read_chunk),
            sample_hz: check_sample_hz(self.sample_hz).unwrap_or(fallback.sample_hz),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked_at_their_edges() {
        assert_eq!(check_chunk(Size(1)).unwrap(), 1);
        assert_eq!(check_chunk(Size(MAX_CHUNK)).unwrap(), MAX_CHUNK as usize);
        assert!(matches!(
            check_chunk(Size(0)),
            Err(LabError::ChunkTooLarge(Size(0)))
        ));
        assert!(check_chunk(Size(MAX_CHUNK + 1)).is_err());
        assert_eq!(check_sample_hz(1).unwrap(), 1);
        assert_eq!(check_sample_hz(MAX_SAMPLE_HZ).unwrap(), MAX_SAMPLE_HZ);
        assert!(matches!(check_sample_hz(0), Err(LabError::SampleRate(0))));
        assert!(check_sample_hz(MAX_SAMPLE_HZ + 1).is_err());
        assert!(check_buffer(Size(MAX_BUFFER)).is_ok());
        assert!(check_buffer(Size(0)).is_err());
        assert!(matches!(
            check_buffer(Size(MAX_BUFFER + 1)),
            Err(LabError::BufferTooLarge(_))
        ));
    }

    #[test]
    fn check_refuses_what_a_session_cannot_start_with() {
        assert!(LabConfig::default().check().is_ok());
        let bad_hz = LabConfig {
            sample_hz: 0,
            ..LabConfig::default()
        };
        assert!(matches!(bad_hz.check(), Err(LabError::SampleRate(0))));
        let bad_chunk = LabConfig {
            read_chunk: Size(MAX_CHUNK + 1),
            ..LabConfig::default()
        };
        assert!(matches!(bad_chunk.check(), Err(LabError::ChunkTooLarge(_))));
        // The kernel caps a buffer request: starting does not refuse one.
        let huge_buffer = LabConfig {
            sndbuf: Some(Size(2 * MAX_BUFFER)),
            ..LabConfig::default()
        };
        assert!(huge_buffer.check().is_ok());
    }

    #[test]
    fn sanitized_replaces_only_what_is_out_of_range() {
        let fallback = LabConfig {
            write_chunk: Size(4096),
            read_chunk: Size(2048),
            sample_hz: 100,
            ..LabConfig::default()
        };
        let broken = LabConfig {
            sndbuf: Some(Size(0)),
            rcvbuf: Some(Size(MAX_BUFFER + 1)),
            write_rate: Rate::Paused,
            write_chunk: Size(0),
            read_rate: Rate::BytesPerSec(1000),
            read_chunk: Size(MAX_CHUNK + 1),
            sample_hz: MAX_SAMPLE_HZ + 1,
            pin_workers: false,
            endpoint: Endpoint::Loopback,
            congestion: None,
            capture: false,
        };
        assert_eq!(
            broken.sanitized_against(&fallback),
            LabConfig {
                sndbuf: None,
                rcvbuf: None,
                write_chunk: Size(4096),
                read_chunk: Size(2048),
                sample_hz: 100,
                ..broken
            }
        );
        let fine = LabConfig {
            sndbuf: Some(Size(32 * 1024)),
            rcvbuf: Some(Size(MAX_BUFFER)),
            sample_hz: MAX_SAMPLE_HZ,
            ..LabConfig::default()
        };
        assert_eq!(fine.sanitized(), fine);
    }

    #[test]
    fn a_stored_config_round_trips_and_missing_fields_take_the_defaults() {
        let config = LabConfig {
            sndbuf: Some(Size(65536)),
            rcvbuf: None,
            write_rate: Rate::BytesPerSec(1 << 20),
            read_rate: Rate::Paused,
            endpoint: Endpoint::Listen("127.0.0.1:9000".parse().unwrap()),
            ..LabConfig::default()
        };
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<LabConfig>(&json).unwrap(), config);
        let toml = toml::to_string(&config).unwrap();
        assert_eq!(toml::from_str::<LabConfig>(&toml).unwrap(), config);

        let partial: LabConfig =
            serde_json::from_str(r#"{"read_rate": "512K/s", "sndbuf": 32768}"#).unwrap();
        assert_eq!(
            partial,
            LabConfig {
                read_rate: Rate::BytesPerSec(512 * 1024),
                sndbuf: Some(Size(32768)),
                ..LabConfig::default()
            }
        );
        // Out of range loads, and `sanitized` puts it right.
        let odd: LabConfig = serde_json::from_str(r#"{"sample_hz": 0}"#).unwrap();
        assert_eq!(odd.sanitized(), LabConfig::default());
    }
}
