//! A synthetic timeline with the shape of a real paused-reader lesson, for
//! GUI snapshots and frame-time benchmarks, which must not depend on the
//! machine's timing. It is never shown as if it were measured: the window
//! only takes it through `GuiOptions::fixed`, which nothing in the CLI sets.

use crate::lab::probe::TcpState;
use crate::lab::{
    BufferKind, BufferSetting, ReaderState, Sample, SessionInfo, Timeline, WriterState,
};

/// One cycle: 3 s balanced, 4 s with the reader paused, 5 s resumed.
const CYCLE_SECS: f64 = 12.0;
const SNDBUF: u64 = 64 * 1024;
const RCVBUF: u64 = 64 * 1024;
const RATE: f64 = 256.0 * 1024.0;

pub fn info() -> SessionInfo {
    let setting = |kind| BufferSetting {
        kind,
        requested: Some(32 * 1024),
        effective: if kind == BufferKind::Send {
            SNDBUF
        } else {
            RCVBUF
        },
        kernel_max: Some(4 << 20),
        origin_known: true,
    };
    SessionInfo {
        id: 1,
        writer_addr: "127.0.0.1:40000".parse().expect("literal address"),
        reader_addr: "127.0.0.1:40001".parse().expect("literal address"),
        sndbuf: setting(BufferKind::Send),
        rcvbuf: setting(BufferKind::Receive),
        outside: false,
        link: None,
        link_lacks: Default::default(),
        congestion: "cubic".into(),
        capture: Default::default(),
        attached: None,
    }
}

/// The sample at `t` seconds.
pub fn sample_at(t: f64) -> Sample {
    let cycle = (t / CYCLE_SECS).floor();
    let phase = t - cycle * CYCLE_SECS;
    // Bytes per cycle: 12 s of writing minus the blocked time (~3.6 s).
    let per_cycle = RATE * 8.4;
    let base = cycle * per_cycle;
    // A small wobble so lines are not ruler-straight.
    let wobble = ((t * 37.0).sin() * 0.5 + 0.5) * 1500.0;
    let recv_full = 56.0 * 1024.0;
    let send_full = 72.0 * 1024.0;
    let mut s = Sample {
        t_ns: (t * 1e9) as u64,
        ..Sample::default()
    };
    s.sender.state = TcpState::Established;
    s.receiver.state = TcpState::Established;
    s.receiver.rcv_mss = 48 * 1024;
    s.stall_count = cycle as u64;
    s.stall_ns = (cycle * 3.6e9) as u64;
    let (send_queue, recv_queue, written, read);
    if phase < 3.0 {
        send_queue = wobble * 0.3;
        recv_queue = wobble;
        written = base + phase * RATE;
        read = written - recv_queue;
        s.sender.snd_wnd = 50 * 1024;
    } else if phase < 7.0 {
        s.reader_state = ReaderState::Paused;
        let p = phase - 3.0;
        let written_paused = p.min(0.5) * RATE;
        written = base + 3.0 * RATE + written_paused;
        read = base + 3.0 * RATE;
        recv_queue = (written - read).min(recv_full);
        send_queue = (written - read - recv_queue).min(send_full);
        s.zero_window = recv_queue >= recv_full - 1.0;
        if send_queue >= send_full - 1.0 {
            s.writer_state = WriterState::Blocked;
        }
        s.sender.snd_wnd = if s.zero_window {
            0
        } else {
            (recv_full - recv_queue) as u32
        };
        s.sender.probes = u8::from(s.zero_window && p > 1.0);
    } else {
        let p = phase - 7.0;
        let backlog = (send_full + recv_full - p * 4.0 * RATE).max(0.0);
        recv_queue = backlog.min(recv_full).max(wobble);
        send_queue = (backlog - recv_queue).max(0.0);
        written = base + 3.5 * RATE + p * RATE;
        read = written - send_queue - recv_queue;
        s.sender.snd_wnd = (recv_full - recv_queue) as u32;
    }
    s.send_queue = send_queue as u32;
    s.unsent = send_queue as u32;
    s.recv_queue = recv_queue as u32;
    s.written = written as u64;
    s.read = read.max(0.0) as u64;
    s
}

/// `secs` of the story at `hz` samples a second.
pub fn timeline(secs: f64, hz: u32) -> Timeline {
    let mut timeline = Timeline::new();
    let n = (secs * f64::from(hz)) as u64;
    timeline.extend((0..=n).map(|i| sample_at(i as f64 / f64::from(hz))));
    timeline
}

/// The long link's lesson (`long-link`: 10 MiB/s, 50 ms each way), as a
/// run on a kernel that can delay would record it: a 64 KiB SO_RCVBUF
/// (128 KiB effective) whose advertised window of 64 KiB over a round
/// trip of ~100 ms holds the speed near 640 KiB/s, the send buffer
/// autotuned to 1 MiB and full (the writer is unlimited), the congestion
/// window (bbr) above the receive window, no queue at the bottleneck.
pub fn long_link_info() -> SessionInfo {
    use crate::lab::link::LinkSpec;
    let mut info = info();
    info.sndbuf.requested = None;
    info.sndbuf.effective = 87_040;
    info.rcvbuf.requested = Some(LONG_RCVBUF);
    info.rcvbuf.effective = 2 * LONG_RCVBUF;
    info.link = Some(LinkSpec {
        rate: crate::lab::Rate::BytesPerSec(crate::lab::preset::LONG_LINK_RATE),
        delay_ms: crate::lab::preset::LONG_LINK_DELAY_MS,
        ..LinkSpec::default()
    });
    info.congestion = "bbr".into();
    // This kernel's way: a netfilter queue and sockscope's delaying thread.
    info.link_lacks.delay_method = Some(crate::lab::link::DelayMethod::Queue);
    info
}

const LONG_RCVBUF: u64 = 64 * 1024;
const LONG_SNDBUF_NOW: u32 = 1 << 20;
const LONG_WINDOW: u32 = 64 * 1024;
const LONG_MSS: u32 = 1448;

/// The long link's sample at `t` seconds (see `long_link_info`).
pub fn long_link_sample_at(t: f64) -> Sample {
    let mut s = Sample {
        t_ns: (t * 1e9) as u64,
        ..Sample::default()
    };
    // A round trip of 100 ms and a little: the 50 ms each way, and the
    // machine's own time.
    let rtt_us = 100_400.0 + (t * 23.0).sin() * 300.0;
    // One window a round trip: the receiver's window bounds what may be
    // unacknowledged, so the reader gets about window ÷ RTT; a little
    // less, as the window reopens only once the reader took the bytes.
    let rate = f64::from(LONG_WINDOW) / (rtt_us / 1e6) * 0.96;
    let wobble = (t * 31.0).sin() * 0.5 + 0.5;
    s.sender.state = TcpState::Established;
    s.receiver.state = TcpState::Established;
    s.sender.rtt_us = rtt_us as u32;
    s.sender.snd_mss = LONG_MSS;
    s.receiver.rcv_mss = LONG_MSS;
    s.sender.snd_cwnd = 180;
    s.sender.snd_ssthresh = 120;
    s.sender.snd_wnd = LONG_WINDOW - (wobble * 4.0 * f64::from(LONG_MSS)) as u32;
    s.receiver.rcv_wnd = s.sender.snd_wnd;
    s.receiver.rcv_space = LONG_WINDOW;
    s.sender_memory.sndbuf = LONG_SNDBUF_NOW;
    s.receiver_memory.rcvbuf = 2 * LONG_RCVBUF as u32;
    s.cable = crate::lab::Cable::Plugged;
    let read = t * rate;
    let in_flight = f64::from(LONG_WINDOW) * (0.9 + 0.1 * wobble);
    let send_queue = f64::from(LONG_SNDBUF_NOW) * 0.97 + wobble * 8_000.0;
    s.read = read as u64;
    s.recv_queue = (wobble * 3.0 * f64::from(LONG_MSS)) as u32;
    s.written = (read + f64::from(s.recv_queue) + send_queue) as u64;
    s.send_queue = send_queue as u32;
    s.unsent = (send_queue - in_flight) as u32;
    s.sender.notsent_bytes = s.unsent;
    // On their way, held by the delay: the data sent in the last 50 ms
    // (half the bytes in flight) in GSO super-packets of about 4 segments,
    // and the ACKs coming back.
    s.link_delay_ms = crate::lab::preset::LONG_LINK_DELAY_MS;
    s.delay_held_packets = (in_flight / 2.0 / f64::from(4 * LONG_MSS)) as u32 + 5;
    // Memory with the kernel's overhead: a little more than the payload
    // in the send queue, about twice it per small segment received.
    s.sender_memory.wmem_queued = s.send_queue + s.send_queue / 32;
    s.receiver_memory.rmem_alloc = 2 * s.recv_queue;
    // The unlimited writer waits for room in its full send buffer: each
    // ACK frees some, the writer fills it and blocks again, ten times a
    // round trip.
    let tick = (t / 0.01).floor();
    if tick % 10.0 != 0.0 {
        s.writer_state = WriterState::Blocked;
    }
    // Stalls count once they end: one a tenth of a second, 90 ms each.
    let ended = (tick / 10.0).floor();
    s.stall_count = ended as u64;
    s.stall_ns = (ended * 0.09e9) as u64;
    s
}

/// `secs` of the long link at `hz` samples a second.
pub fn long_link_timeline(secs: f64, hz: u32) -> Timeline {
    let mut timeline = Timeline::new();
    let n = (secs * f64::from(hz)) as u64;
    timeline.extend((0..=n).map(|i| long_link_sample_at(i as f64 / f64::from(hz))));
    timeline
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::EventKind;

    #[test]
    fn the_story_stalls_closes_and_reopens() {
        let timeline = timeline(12.0, 200);
        let kinds: Vec<_> = timeline.events().iter().map(|e| e.kind).collect();
        for wanted in [
            EventKind::ReaderPaused,
            EventKind::WindowClosed,
            EventKind::WriterStallStarted,
            EventKind::ReaderResumed,
            EventKind::WindowReopened,
        ] {
            assert!(kinds.contains(&wanted), "{wanted:?} missing from {kinds:?}");
        }
        let blocked = sample_at(6.0);
        assert!(blocked.writer_blocked() && blocked.zero_window);
        assert!(blocked.read <= blocked.written);
    }

    /// The long link's synthetic run is what the lesson says: the receive
    /// window ÷ the round trip sets the speed, and the speed is near it.
    #[test]
    fn the_long_link_is_held_by_its_receive_window() {
        use crate::lab::speed::{Limiter, SPEED_WINDOW, Setup, analyse};
        let timeline = long_link_timeline(4.0, 200);
        let info = long_link_info();
        let setup = Setup {
            link_rate: Some(crate::lab::preset::LONG_LINK_RATE),
            write_rate: crate::lab::Rate::Unlimited,
            read_rate: crate::lab::Rate::Unlimited,
            sndbuf: info.sndbuf,
            rcvbuf: info.rcvbuf,
        };
        let limit = analyse(timeline.recent(), SPEED_WINDOW, &setup).unwrap();
        assert_eq!(limit.limiter, Limiter::ReceiveWindow);
        let rtt_ms = limit.rtt.as_secs_f64() * 1e3;
        assert!((100.0..101.0).contains(&rtt_ms), "{rtt_ms}");
        let share = limit.measured / limit.ceiling();
        assert!((0.9..1.0).contains(&share), "{share}");
    }
}
