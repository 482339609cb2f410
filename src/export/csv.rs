//! One CSV row per sample. The first nine columns are the stable interface
//! scripts rely on; more may follow.

use std::io::Write;

use serde::Serialize;

use crate::lab::Sample;

/// The header's fixed start.
pub const HEADER_PREFIX: &str = "t_ms,sendq_bytes,unsent_bytes,inflight_bytes,recvq_bytes,written_bytes,read_bytes,writer_blocked,zero_window";

#[derive(Serialize)]
struct Row {
    t_ms: f64,
    sendq_bytes: u32,
    unsent_bytes: u32,
    inflight_bytes: u32,
    recvq_bytes: u32,
    written_bytes: u64,
    read_bytes: u64,
    writer_blocked: u8,
    zero_window: u8,
    reader_paused: u8,
    writer_state: &'static str,
    reader_state: &'static str,
    stall_count: u64,
    stall_ms: f64,
    snd_wnd_bytes: u32,
    rcv_wnd_bytes: u32,
    zero_window_probes: u8,
    snd_cwnd_segments: u32,
    snd_mss_bytes: u32,
    rtt_us: u32,
    notsent_bytes: u32,
    rcv_space_bytes: u32,
    busy_us: u64,
    rwnd_limited_us: u64,
    sndbuf_limited_us: u64,
    writer_tcp_state: &'static str,
    reader_tcp_state: &'static str,
    rcv_mss_bytes: u32,
    writer_info_age_ms: f64,
    reader_info_age_ms: f64,
    rmem_alloc_bytes: u32,
    rcvbuf_now_bytes: u32,
    rcv_backlog_bytes: u32,
    rcv_free_bytes: Option<u32>,
    rcv_needed_bytes: Option<u32>,
    total_retrans: u32,
    rto_us: u32,
    snd_ssthresh_segments: u32,
    cable: &'static str,
    link_queue_bytes: u32,
    link_drops: u32,
    rcv_drops: u32,
    wmem_queued_bytes: u32,
    sndbuf_now_bytes: u32,
    link_delay_ms: u32,
    delay_held_packets: u32,
}

impl From<&Sample> for Row {
    fn from(s: &Sample) -> Self {
        let room = s.window_room();
        Row {
            // Microsecond resolution is plenty for a millisecond column.
            t_ms: (s.t_ns / 1_000) as f64 / 1e3,
            sendq_bytes: s.send_queue,
            unsent_bytes: s.unsent,
            inflight_bytes: s.in_flight(),
            recvq_bytes: s.recv_queue,
            written_bytes: s.written,
            read_bytes: s.read,
            writer_blocked: u8::from(s.writer_blocked()),
            zero_window: u8::from(s.zero_window),
            reader_paused: u8::from(s.reader_paused()),
            writer_state: s.writer_state.name(),
            reader_state: s.reader_state.name(),
            stall_count: s.stall_count,
            stall_ms: (s.stall_ns / 1_000) as f64 / 1e3,
            snd_wnd_bytes: s.sender.snd_wnd,
            rcv_wnd_bytes: s.receiver.rcv_wnd,
            zero_window_probes: s.sender.probes,
            snd_cwnd_segments: s.sender.snd_cwnd,
            snd_mss_bytes: s.sender.snd_mss,
            rtt_us: s.sender.rtt_us,
            notsent_bytes: s.sender.notsent_bytes,
            rcv_space_bytes: s.receiver.rcv_space,
            busy_us: s.sender.busy_us,
            rwnd_limited_us: s.sender.rwnd_limited_us,
            sndbuf_limited_us: s.sender.sndbuf_limited_us,
            writer_tcp_state: s.sender.state.name(),
            reader_tcp_state: s.receiver.state.name(),
            rcv_mss_bytes: s.receiver.rcv_mss,
            writer_info_age_ms: f64::from(s.sender_info_age_us) / 1e3,
            reader_info_age_ms: f64::from(s.receiver_info_age_us) / 1e3,
            rmem_alloc_bytes: s.receiver_memory.rmem_alloc,
            rcvbuf_now_bytes: s.receiver_memory.rcvbuf,
            rcv_backlog_bytes: s.receiver_memory.backlog,
            rcv_free_bytes: room.map(|r| r.free),
            rcv_needed_bytes: room.map(|r| r.needed),
            total_retrans: s.sender.total_retrans,
            rto_us: s.sender.rto_us,
            snd_ssthresh_segments: s.sender.snd_ssthresh,
            cable: s.cable.name(),
            link_queue_bytes: s.bottleneck.backlog_bytes,
            link_drops: s.bottleneck.drops,
            rcv_drops: s.receiver_memory.drops,
            wmem_queued_bytes: s.sender_memory.wmem_queued,
            sndbuf_now_bytes: s.sender_memory.sndbuf,
            link_delay_ms: s.link_delay_ms,
            delay_held_packets: s.delay_held_packets,
        }
    }
}

/// Streams samples as CSV rows, header first.
pub struct SampleCsv<W: Write> {
    inner: csv::Writer<W>,
    rows: u64,
}

impl<W: Write> SampleCsv<W> {
    pub fn new(out: W) -> Self {
        SampleCsv {
            inner: csv::Writer::from_writer(out),
            rows: 0,
        }
    }

    pub fn write(&mut self, sample: &Sample) -> csv::Result<()> {
        self.inner.serialize(Row::from(sample))?;
        self.rows += 1;
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn finish(self) -> std::io::Result<W> {
        self.inner.into_inner().map_err(|e| e.into_error())
    }
}

/// All samples as CSV bytes (the GUI's export uses this).
pub fn to_csv_bytes<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> csv::Result<Vec<u8>> {
    let mut csv = SampleCsv::new(Vec::new());
    for sample in samples {
        csv.write(sample)?;
    }
    Ok(csv.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::WriterState;

    #[test]
    fn header_and_rows() {
        let samples = [
            Sample {
                t_ns: 1_500_000,
                send_queue: 100,
                unsent: 40,
                recv_queue: 7,
                written: 1000,
                read: 900,
                writer_state: WriterState::Blocked,
                zero_window: true,
                ..Sample::default()
            },
            Sample::default(),
        ];
        let text = String::from_utf8(to_csv_bytes(&samples).unwrap()).unwrap();
        let mut lines = text.lines();
        assert!(lines.next().unwrap().starts_with(HEADER_PREFIX));
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("1.5,100,40,60,7,1000,900,1,1,0,blocked,")
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("0.0,0,0,0,0,0,0,0,0,0,sending,")
        );
        assert_eq!(lines.next(), None);
    }
}
