//! "How buffers work": the kernel facts behind the numbers on screen, with
//! this machine's own caps. Every line follows
//! ../shared/reference/linux-socket-facts.md.

use eframe::egui::{self, RichText};

use crate::lab::units::format_bytes;
use crate::lab::{BufferSetting, SessionInfo};

fn setting_line(setting: &BufferSetting) -> String {
    let cap = setting.kernel_max.map_or("unknown".into(), format_bytes);
    match setting.requested {
        Some(asked) => format!(
            "{}: asked {} → the kernel stores {} (2 × the request{}; cap {} = {}).",
            setting.kind.option(),
            format_bytes(asked),
            format_bytes(setting.effective),
            if setting.clamped() {
                ", after capping it"
            } else if setting.raised() {
                ", raised to the minimum"
            } else {
                ""
            },
            setting.kind.sysctl(),
            cap
        ),
        None => format!(
            "{}: not set, so the kernel autotunes it; it starts at {} (cap {} = {}).",
            setting.kind.option(),
            format_bytes(setting.effective),
            setting.kind.sysctl(),
            cap
        ),
    }
}

pub fn show(ui: &mut egui::Ui, info: Option<&SessionInfo>) {
    egui::ScrollArea::vertical().max_height(520.0).show(ui, |ui| {
        ui.label(RichText::new("This connection").strong());
        if let Some(info) = info {
            ui.label(setting_line(&info.sndbuf));
            ui.label(setting_line(&info.rcvbuf));
        } else {
            ui.label("No connection yet.");
        }
        ui.add_space(6.0);
        ui.label(RichText::new("Sizes").strong());
        for line in [
            "setsockopt(SO_SNDBUF / SO_RCVBUF, n) caps n at net.core.wmem_max / rmem_max and \
             stores 2 × n; getsockopt returns the doubled value. The extra half pays for the \
             kernel's bookkeeping (sk_buff overhead).",
            "The minimums are not socket(7)'s 2048/256: they derive from TCP_SKB_MIN_TRUESIZE. \
             Ask for 1 byte and read back to see them.",
            "Setting a size switches autotuning off for that socket; left unset, the send buffer \
             grows up to the third value of net.ipv4.tcp_wmem.",
            "Sizes are set before listen() / connect(): the window scale is agreed in the \
             handshake. An accepted socket takes the listener's receive buffer. That is why \
             applying new sizes opens a new connection.",
        ] {
            ui.label(format!("• {line}"));
        }
        ui.add_space(6.0);
        ui.label(RichText::new("What the numbers count").strong());
        for line in [
            "Receive queue = FIONREAD on the reader: bytes received and not yet taken by recv().",
            "Send queue = SIOCOUTQ on the writer: unsent bytes plus bytes sent but not yet \
             acknowledged (tcp(7) calls it \"unsent\", but it counts both). SIOCOUTQNSD counts \
             only the unsent ones; in flight = SIOCOUTQ − SIOCOUTQNSD.",
            "The queues count payload bytes, the buffer sizes count kernel memory: the receive \
             queue never reaches the effective SO_RCVBUF, and the send queue can slightly \
             exceed the effective SO_SNDBUF.",
        ] {
            ui.label(format!("• {line}"));
        }
        ui.add_space(6.0);
        ui.label(RichText::new("Flow control on loopback").strong());
        for line in [
            "Loopback has no real delay: ACKs return at once, so almost nothing is in flight and \
             the send queue stays near zero until the receiver's window closes.",
            "The receiver advertises a window smaller than its buffer, and advertises 0 once its \
             free space falls below a threshold; it reopens in steps as the reader drains.",
            "send() can block a moment before the window reads 0: the last bytes sent already sit \
             in the receive buffer but are not yet acknowledged, so the ACK carrying window 0 \
             arrives a little later.",
            "While the window is 0 the sender probes it. Linux's zero-window probes are \
             zero-length segments with sequence snd_una − 1, not the 1-byte probes of textbooks.",
            "recv() returning 0 bytes means the peer closed its side (FIN received).",
        ] {
            ui.label(format!("• {line}"));
        }
    });
}
