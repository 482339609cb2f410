//! Requested versus effective socket buffer sizes, and the kernel's caps.
//!
//! setsockopt(SO_SNDBUF/SO_RCVBUF, n) clamps n to net.core.wmem_max /
//! rmem_max and stores 2 x n (the extra half pays for sk_buff overhead);
//! getsockopt returns the doubled value (socket(7), net/core/sock.c).

use std::io;

use serde::Serialize;

use super::units::{Size, format_bytes};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BufferKind {
    Send,
    Receive,
}

impl BufferKind {
    pub fn option(self) -> &'static str {
        match self {
            BufferKind::Send => "SO_SNDBUF",
            BufferKind::Receive => "SO_RCVBUF",
        }
    }

    pub fn sysctl(self) -> &'static str {
        match self {
            BufferKind::Send => "net.core.wmem_max",
            BufferKind::Receive => "net.core.rmem_max",
        }
    }

    /// The cap setsockopt() clamps a request to, read from /proc; None
    /// where /proc is not readable.
    pub fn kernel_max(self) -> Option<u64> {
        let path = format!("/proc/sys/{}", self.sysctl().replace('.', "/"));
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    }
}

/// One buffer as asked for and as the kernel set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferSetting {
    pub kind: BufferKind,
    /// None: not set, the kernel autotunes this buffer.
    pub requested: Option<u64>,
    /// What getsockopt() returns: twice the (clamped) request.
    pub effective: u64,
    pub kernel_max: Option<u64>,
    /// Whether the lab knows how the buffer was set: false for another
    /// program's socket (`--attach`; whether it called setsockopt() is not
    /// visible from outside) and for a recording without its summary.
    /// Then neither "asked for" nor "autotuned" is claimed.
    pub origin_known: bool,
}

impl BufferSetting {
    pub fn read(
        kind: BufferKind,
        requested: Option<Size>,
        effective: io::Result<usize>,
    ) -> io::Result<Self> {
        Ok(BufferSetting {
            kind,
            requested: requested.map(Size::bytes),
            effective: effective? as u64,
            kernel_max: kind.kernel_max(),
            origin_known: true,
        })
    }

    /// The request was above the sysctl cap, so the kernel used the cap.
    pub fn clamped(&self) -> bool {
        matches!((self.requested, self.kernel_max), (Some(r), Some(max)) if r > max)
    }

    /// The request was below the kernel's minimum, so the kernel raised it.
    pub fn raised(&self) -> bool {
        matches!(self.requested, Some(r) if !self.clamped() && self.effective > r.saturating_mul(2))
    }

    /// One sentence for stderr when the kernel did not give what was asked.
    pub fn adjustment_note(&self, flag: &str) -> Option<String> {
        let requested = self.requested?;
        if self.clamped() {
            let max = self.kernel_max?;
            Some(format!(
                "{flag} {} is above {} ({}), so the kernel clamped it to {} and set {} = {} (2 x {}).",
                format_bytes(requested),
                self.kind.sysctl(),
                format_bytes(max),
                format_bytes(max),
                self.kind.option(),
                format_bytes(self.effective),
                format_bytes(max),
            ))
        } else if self.raised() {
            Some(format!(
                "{flag} {} is below the kernel's minimum, so it set {} = {}.",
                format_bytes(requested),
                self.kind.option(),
                format_bytes(self.effective),
            ))
        } else {
            None
        }
    }
}
