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
}
