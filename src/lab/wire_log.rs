//! The wire's segments as a ladder diagram reads them: each one named
//! (handshake, data, retransmission, ACK, duplicate ACK, window update,
//! zero window, zero-window probe, FIN, RST) with its sequence numbers
//! relative to its side's first (as Wireshark shows them) and its window
//! in bytes, kept in a bounded log.

use std::collections::VecDeque;

use super::wire::{Segment, TcpFlags, WirePacket};

/// Segments kept: at a classroom rate hours, at full speed about a
/// minute (each entry is 32 bytes).
pub const DEFAULT_CAPACITY: usize = 1 << 20;

/// What a segment is, as a ladder diagram labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    Syn,
    SynAck,
    /// Bytes not sent before.
    Data,
    /// Bytes sent again.
    Retransmission,
    /// A zero-length segment below what was sent: "is the window still 0?"
    ZeroWindowProbe,
    Ack,
    /// The same ACK again, window unchanged: a segment went missing.
    DupAck,
    /// The same ACK with another window: the reader made room.
    WindowUpdate,
    /// A window of 0: stop sending.
    ZeroWindow,
    Fin,
    Rst,
}

/// One segment on the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireEntry {
    /// On the session's clock; negative for the handshake.
    pub t_ns: i64,
    pub from_writer: bool,
    pub kind: SegmentKind,
    /// Relative to the sender's initial sequence number.
    pub seq: u32,
    /// Relative to the peer's initial sequence number (0 without ACK).
    pub ack: u32,
    pub len: u32,
    /// The advertised window in bytes (the field scaled by the sender's
    /// window scale).
    pub window: u32,
}

impl SegmentKind {
    pub const ALL: [SegmentKind; 11] = [
        SegmentKind::Syn,
        SegmentKind::SynAck,
        SegmentKind::Data,
        SegmentKind::Retransmission,
        SegmentKind::ZeroWindowProbe,
        SegmentKind::Ack,
        SegmentKind::DupAck,
        SegmentKind::WindowUpdate,
        SegmentKind::ZeroWindow,
        SegmentKind::Fin,
        SegmentKind::Rst,
    ];
}

impl WireEntry {
    /// The sequence number just past this segment's bytes.
    pub fn seq_end(&self) -> u32 {
        self.seq.wrapping_add(self.len)
    }
}

/// What the log knows of one side of the connection.
#[derive(Debug, Clone, Copy, Default)]
struct Side {
    isn: Option<u32>,
    window_scale: Option<u8>,
    /// Past the highest byte this side sent (relative).
    sent_end: u32,
    /// This side's last ACK and window.
    last_ack: Option<(u32, u32)>,
}

/// The session's segments in time order, oldest dropped past capacity.
#[derive(Debug, Clone)]
pub struct WireLog {
    writer_port: u16,
    sides: [Side; 2],
    entries: VecDeque<WireEntry>,
    capacity: usize,
    /// Segments seen in all, kept or not, and of them the writer's.
    total: u64,
    from_writer: u64,
}

impl WireLog {
    /// The log of the connection whose writer uses `writer_port`.
    pub fn new(writer_port: u16) -> Self {
        WireLog::with_capacity(writer_port, DEFAULT_CAPACITY)
    }

    pub fn with_capacity(writer_port: u16, capacity: usize) -> Self {
        WireLog {
            writer_port,
            sides: [Side::default(); 2],
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            total: 0,
            from_writer: 0,
        }
    }

    pub fn writer_port(&self) -> u16 {
        self.writer_port
    }

    /// Takes a captured frame: its segment, or each segment a
    /// super-segment stands for.
    pub fn push(&mut self, packet: &WirePacket) {
        for segment in packet.segment_headers() {
            self.push_segment(&segment);
        }
    }

    pub fn push_segment(&mut self, s: &Segment) {
        let from_writer = s.src_port == self.writer_port;
        if !from_writer && s.dst_port != self.writer_port {
            return; // another connection's
        }
        let (me, peer) = if from_writer { (0, 1) } else { (1, 0) };
        let syn = s.flags.has(TcpFlags::SYN);
        if syn {
            self.sides[me].isn = Some(s.seq);
            self.sides[me].window_scale = s.window_scale;
        }
        let side = self.sides[me];
        let seq = s.seq.wrapping_sub(side.isn.unwrap_or(s.seq));
        let has_ack = s.flags.has(TcpFlags::ACK);
        let ack = match (has_ack, self.sides[peer].isn) {
            (true, Some(isn)) => s.ack.wrapping_sub(isn),
            _ => 0,
        };
        // Windows in SYNs are never scaled; after them, only if both sides
        // offered a scale.
        let scale = match (syn, side.window_scale, self.sides[peer].window_scale) {
            (false, Some(mine), Some(_)) => mine.min(14),
            _ => 0,
        };
        let window = u32::from(s.window) << scale;
        // SYN and FIN take one sequence number each.
        let len = s.payload_len;
        let end = seq
            .wrapping_add(len)
            .wrapping_add(u32::from(syn) + u32::from(s.flags.has(TcpFlags::FIN)));
        let below_sent = (seq as i32).wrapping_sub(side.sent_end as i32) < 0;
        let kind = if s.flags.has(TcpFlags::RST) {
            SegmentKind::Rst
        } else if syn && has_ack {
            SegmentKind::SynAck
        } else if syn {
            SegmentKind::Syn
        } else if s.flags.has(TcpFlags::FIN) {
            SegmentKind::Fin
        } else if len > 0 && below_sent {
            SegmentKind::Retransmission
        } else if len > 0 {
            SegmentKind::Data
        } else if below_sent {
            SegmentKind::ZeroWindowProbe
        } else if window == 0 {
            SegmentKind::ZeroWindow
        } else {
            match side.last_ack {
                Some((last_ack, last_window)) if last_ack == ack && has_ack => {
                    if last_window != window {
                        SegmentKind::WindowUpdate
                    } else if self.sides[peer].sent_end != ack {
                        // Bytes outstanding, and the same ACK again.
                        SegmentKind::DupAck
                    } else {
                        SegmentKind::Ack
                    }
                }
                _ => SegmentKind::Ack,
            }
        };
        let side = &mut self.sides[me];
        if (end as i32).wrapping_sub(side.sent_end as i32) > 0 || syn {
            side.sent_end = end;
        }
        if has_ack {
            side.last_ack = Some((ack, window));
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(WireEntry {
            t_ns: s.t_ns,
            from_writer,
            kind,
            seq,
            ack,
            len,
            window,
        });
        self.total += 1;
        self.from_writer += u64::from(from_writer);
    }

    /// Segments seen from the writer and to it, kept or not.
    pub fn by_side(&self) -> (u64, u64) {
        (self.from_writer, self.total - self.from_writer)
    }

    pub fn entries(&self) -> &VecDeque<WireEntry> {
        &self.entries
    }

    /// The kept entries from `t0_ns` (inclusive) to `t1_ns` (exclusive),
    /// as a range of indices into `entries()`.
    pub fn range(&self, t0_ns: i64, t1_ns: i64) -> std::ops::Range<usize> {
        let start = self.entries.partition_point(|e| e.t_ns < t0_ns);
        let end = self.entries.partition_point(|e| e.t_ns < t1_ns);
        start..end.max(start)
    }

    /// Segments seen in all, kept or not.
    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn first_t_ns(&self) -> Option<i64> {
        self.entries.front().map(|e| e.t_ns)
    }

    pub fn last_t_ns(&self) -> Option<i64> {
        self.entries.back().map(|e| e.t_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: u16 = 40000;
    const R: u16 = 5201;

    fn seg(
        t: i64,
        from_writer: bool,
        flags: u8,
        seq: u32,
        ack: u32,
        len: u32,
        window: u16,
    ) -> Segment {
        let (src_port, dst_port) = if from_writer { (W, R) } else { (R, W) };
        Segment {
            t_ns: t,
            src_port,
            dst_port,
            seq,
            ack,
            flags: TcpFlags(flags),
            window,
            window_scale: (flags & TcpFlags::SYN != 0).then_some(7),
            payload_len: len,
        }
    }

    const A: u8 = TcpFlags::ACK;

    /// A handshake with writer ISN 1000 and reader ISN 5000, scale 7.
    fn shaken() -> WireLog {
        let mut log = WireLog::new(W);
        log.push_segment(&seg(0, true, TcpFlags::SYN, 1000, 0, 0, 64240));
        log.push_segment(&seg(1, false, TcpFlags::SYN | A, 5000, 1001, 0, 65160));
        log.push_segment(&seg(2, true, A, 1001, 5001, 0, 502));
        log
    }

    fn kinds(log: &WireLog) -> Vec<SegmentKind> {
        log.entries().iter().map(|e| e.kind).collect()
    }

    #[test]
    fn the_handshake_reads_syn_syn_ack_ack_with_relative_numbers() {
        let log = shaken();
        use SegmentKind::*;
        assert_eq!(kinds(&log), [Syn, SynAck, Ack]);
        let ack = log.entries()[2];
        assert_eq!((ack.seq, ack.ack), (1, 1));
        // After the handshake the window is scaled: 502 << 7.
        assert_eq!(ack.window, 502 << 7);
        // The SYN's window is never scaled.
        assert_eq!(log.entries()[0].window, 64240);
    }

    #[test]
    fn data_acks_retransmissions_and_duplicate_acks_are_told_apart() {
        use SegmentKind::*;
        let mut log = shaken();
        log.push_segment(&seg(10, true, A, 1001, 5001, 1448, 502));
        log.push_segment(&seg(11, true, A, 2449, 5001, 1448, 502));
        log.push_segment(&seg(12, false, A, 5001, 2449, 0, 500));
        // The second segment was lost: the reader repeats its ACK.
        log.push_segment(&seg(13, true, A, 3897, 5001, 1448, 502));
        log.push_segment(&seg(14, false, A, 5001, 2449, 0, 500));
        log.push_segment(&seg(15, true, A, 2449, 5001, 1448, 502));
        log.push_segment(&seg(16, false, A, 5001, 5345, 0, 500));
        assert_eq!(
            kinds(&log)[3..],
            [Data, Data, Ack, Data, DupAck, Retransmission, Ack]
        );
        let data = log.entries()[4];
        assert_eq!((data.seq, data.len, data.seq_end()), (1449, 1448, 2897));
    }

    #[test]
    fn a_closed_window_its_probes_and_its_reopening_are_named() {
        use SegmentKind::*;
        let mut log = shaken();
        log.push_segment(&seg(10, true, A, 1001, 5001, 1448, 502));
        log.push_segment(&seg(11, false, A, 5001, 2449, 0, 0));
        // Linux probes with the last byte acknowledged: seq snd_una - 1.
        log.push_segment(&seg(12, true, A, 2448, 5001, 0, 502));
        log.push_segment(&seg(13, false, A, 5001, 2449, 0, 0));
        log.push_segment(&seg(14, false, A, 5001, 2449, 0, 300));
        assert_eq!(
            kinds(&log)[3..],
            [Data, ZeroWindow, ZeroWindowProbe, ZeroWindow, WindowUpdate]
        );
        assert_eq!(log.entries()[7].window, 300 << 7);
    }

    #[test]
    fn the_log_keeps_its_newest_and_finds_a_time_range() {
        let mut log = WireLog::with_capacity(W, 4);
        for t in 0..10 {
            log.push_segment(&seg(t * 10, true, A, 1001 + t as u32, 5001, 1, 502));
        }
        assert_eq!(log.total(), 10);
        assert_eq!(log.by_side(), (10, 0));
        assert_eq!(log.entries().len(), 4);
        assert_eq!(log.first_t_ns(), Some(60));
        assert_eq!(log.range(65, 90), 1..3);
        assert_eq!(log.range(0, 1000), 0..4);
        assert!(log.range(200, 300).is_empty());
    }

    #[test]
    fn another_connections_segments_are_not_logged() {
        let mut log = shaken();
        let mut other = seg(20, true, A, 1, 1, 10, 10);
        other.src_port = 1234;
        other.dst_port = 80;
        log.push_segment(&other);
        assert_eq!(log.total(), 3);
    }
}
