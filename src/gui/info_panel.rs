//! "How buffers work": the kernel facts behind the numbers on screen, with
//! this machine's own caps. Every line follows
//! ../shared/reference/linux-socket-facts.md.

use eframe::egui::{self, RichText};

use crate::lab::units::format_bytes;
use crate::lab::{BufferSetting, SessionInfo};

fn setting_line(setting: &BufferSetting) -> String {
    let cap = setting.kernel_max.map_or("unknown".into(), format_bytes);
    let option = setting.kind.option();
    let effective = format_bytes(setting.effective);
    // Autotuning's ceiling is the third value of tcp_wmem / tcp_rmem, not
    // the setsockopt cap.
    let autotune_max = match setting.kind {
        crate::lab::BufferKind::Send => "net.ipv4.tcp_wmem",
        crate::lab::BufferKind::Receive => "net.ipv4.tcp_rmem",
    };
    match setting.requested {
        Some(asked) if setting.raised() => format!(
            "{option}: asked {} → the kernel stores {effective}: its minimum, which is more than 2 × the request.",
            format_bytes(asked)
        ),
        Some(asked) if setting.clamped() => format!(
            "{option}: asked {} → capped at {} = {cap}, then doubled: the kernel stores {effective}.",
            format_bytes(asked),
            setting.kind.sysctl()
        ),
        Some(asked) => format!(
            "{option}: asked {} → the kernel stores {effective} (2 × the request; the cap {} is {cap}).",
            format_bytes(asked),
            setting.kind.sysctl()
        ),
        None => format!(
            "{option}: not set, so the kernel autotunes it, starting at {effective} and growing up to \
             the third value of {autotune_max}."
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
            "Measured here: send() can block a moment before the window reads 0. The last bytes \
             sent already sit in the receive buffer but are not yet acknowledged; the ACK that \
             carries window 0 came about 20 ms later.",
            "A closed window stays closed until the receiver has room for one whole segment \
             (tcpi_rcv_mss; on loopback segments are large) or a sixteenth of its buffer: \
             silly-window-syndrome avoidance, __tcp_select_window() in net/ipv4/tcp_output.c.",
            "While the window is 0 the sender probes it. Linux's zero-window probes are \
             zero-length segments with sequence snd_una − 1, not the 1-byte probes of textbooks.",
            "recv() returning 0 bytes means the peer closed its side (FIN received).",
        ] {
            ui.label(format!("• {line}"));
        }
    });
}
