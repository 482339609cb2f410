//! The congestion control a connection's sender uses (TCP_CONGESTION): a
//! name from what the kernel offers
//! (`/proc/sys/net/ipv4/tcp_available_congestion_control`).

#![allow(unsafe_code)]

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kernel's limit on a congestion control's name (TCP_CA_NAME_MAX),
/// its terminating NUL included.
const NAME_MAX: usize = 16;

/// A congestion control's name, kept inline so a config stays `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Congestion {
    len: u8,
    name: [u8; NAME_MAX - 1],
}

/// Why a congestion control cannot be used, in one sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CongestionError {
    #[error("'{name}' is not a congestion control this kernel offers; use one of: {offered}")]
    NotOffered { name: String, offered: String },
}

impl Congestion {
    /// `name` if the kernel offers it.
    pub fn parse(name: &str) -> Result<Congestion, CongestionError> {
        let name = name.trim();
        let offered = available();
        let fits = !name.is_empty() && name.len() < NAME_MAX && name.is_ascii();
        if !fits || !offered.iter().any(|o| o == name) {
            return Err(CongestionError::NotOffered {
                name: name.escape_debug().to_string(),
                offered: offered.join(", "),
            });
        }
        Ok(Congestion::of(name))
    }

    fn of(name: &str) -> Congestion {
        let mut bytes = [0u8; NAME_MAX - 1];
        let len = name.len().min(bytes.len());
        bytes[..len].copy_from_slice(&name.as_bytes()[..len]);
        Congestion {
            len: len as u8,
            name: bytes,
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.name[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Display for Congestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Congestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Congestion({:?})", self.as_str())
    }
}

impl Serialize for Congestion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Congestion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Congestion::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// The congestion controls this kernel offers.
pub fn available() -> Vec<String> {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_available_congestion_control")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// setsockopt(TCP_CONGESTION). Outside a namespace of its own an
/// unprivileged process may only pick from
/// `tcp_allowed_congestion_control` (EPERM otherwise).
pub fn set(fd: impl AsFd, congestion: Congestion) -> io::Result<()> {
    let name = congestion.as_str().as_bytes();
    // SAFETY: `name` is valid for its length during the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_fd().as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            name.as_ptr().cast(),
            name.len() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// getsockopt(TCP_CONGESTION): the congestion control the socket uses.
pub fn get(fd: impl AsFd) -> io::Result<String> {
    let mut name = [0u8; NAME_MAX];
    let mut len = name.len() as libc::socklen_t;
    // SAFETY: `name` is valid for `len` bytes; the kernel writes at most
    // that many and stores the count in `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_fd().as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            name.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let text = &name[..(len as usize).min(name.len())];
    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    Ok(String::from_utf8_lossy(&text[..end]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_kernel_offers_parses() {
        let offered = available();
        assert!(!offered.is_empty(), "the kernel offers none");
        let first = Congestion::parse(&offered[0]).unwrap();
        assert_eq!(first.as_str(), offered[0]);
        let error = Congestion::parse("warp-drive").unwrap_err().to_string();
        assert!(
            error.contains("'warp-drive' is not a congestion control"),
            "{error}"
        );
        assert!(error.contains(&offered[0]), "{error}");
        assert!(Congestion::parse("").is_err());
        assert!(Congestion::parse(&"x".repeat(40)).is_err());
    }

    #[test]
    fn a_socket_reads_back_the_congestion_control_set_on_it() {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let reno = Congestion::parse("reno").expect("reno is always built in");
        set(&socket, reno).unwrap();
        assert_eq!(get(&socket).unwrap(), "reno");
    }
}
