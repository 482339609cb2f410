//! The wire as a pcap file (the classic format, nanosecond timestamps),
//! which Wireshark, tshark and tcpdump open: one Ethernet frame a record,
//! cut to its headers as captured.

use std::io::{self, Write};

use crate::lab::wire::{SNAPLEN, WirePacket};

/// The classic pcap magic number for nanosecond timestamps.
const MAGIC_NS: u32 = 0xa1b2_3c4d;
/// LINKTYPE_ETHERNET: loopback's frames carry an Ethernet header.
const LINKTYPE_ETHERNET: u32 = 1;

/// Streams packets to a pcap file, header first.
pub struct PcapWriter<W: Write> {
    inner: W,
    packets: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header.
    pub fn new(mut inner: W) -> io::Result<Self> {
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&MAGIC_NS.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes()); // GMT
        header.extend_from_slice(&0u32.to_le_bytes()); // accuracy
        header.extend_from_slice(&SNAPLEN.to_le_bytes());
        header.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        inner.write_all(&header)?;
        Ok(PcapWriter { inner, packets: 0 })
    }

    /// Writes a frame; a super-segment as the segments it stands for (see
    /// `WirePacket::segments`), as they would cross a wire.
    pub fn write(&mut self, packet: &WirePacket) -> io::Result<()> {
        let secs = (packet.unix_ns / 1_000_000_000) as u32;
        let nanos = (packet.unix_ns % 1_000_000_000) as u32;
        let mut result = Ok(());
        packet.each_segment(|bytes, wire_len| {
            if result.is_err() {
                return;
            }
            let mut record = [0u8; 16];
            record[0..4].copy_from_slice(&secs.to_le_bytes());
            record[4..8].copy_from_slice(&nanos.to_le_bytes());
            record[8..12].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
            record[12..16].copy_from_slice(&wire_len.max(bytes.len() as u32).to_le_bytes());
            result = self
                .inner
                .write_all(&record)
                .and_then(|()| self.inner.write_all(bytes));
            self.packets += 1;
        });
        result
    }

    pub fn packets(&self) -> u64 {
        self.packets
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_holds_the_cut_frame_and_its_full_length() {
        let mut out = Vec::new();
        let mut pcap = PcapWriter::new(&mut out).unwrap();
        pcap.write(&WirePacket {
            t_ns: 0,
            unix_ns: 1_700_000_000_123_456_789,
            wire_len: 1514,
            bytes: vec![7; 66],
            gso_size: 0,
        })
        .unwrap();
        assert_eq!(pcap.packets(), 1);
        assert_eq!(out.len(), 24 + 16 + 66);
        assert_eq!(out[..4], MAGIC_NS.to_le_bytes());
        let word = |i: usize| u32::from_le_bytes(out[i..i + 4].try_into().unwrap());
        assert_eq!(word(16), SNAPLEN);
        assert_eq!(word(20), LINKTYPE_ETHERNET);
        assert_eq!(word(24), 1_700_000_000);
        assert_eq!(word(28), 123_456_789);
        assert_eq!((word(32), word(36)), (66, 1514));
    }
}
