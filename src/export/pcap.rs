//! The wire as a pcap file (the classic format, nanosecond timestamps),
//! which Wireshark, tshark and tcpdump open: one Ethernet frame a record,
//! cut to its headers as captured. Read back (`read`) to replay a recorded
//! run's ladder.

use std::io::{self, Read, Write};

use crate::lab::wire::{SNAPLEN, WirePacket};

/// The classic pcap magic number for nanosecond timestamps.
const MAGIC_NS: u32 = 0xa1b2_3c4d;
/// The classic magic number for microsecond timestamps (tcpdump's).
const MAGIC_US: u32 = 0xa1b2_c3d4;
/// LINKTYPE_ETHERNET: loopback's frames carry an Ethernet header.
const LINKTYPE_ETHERNET: u32 = 1;
/// The largest record a reader accepts (tcpdump's largest snapshot).
const MAX_RECORD: u32 = 262_144;

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

/// Reads a classic pcap file of Ethernet frames (nanosecond or
/// microsecond timestamps, either byte order), handing each frame to
/// `each` with its time on a session's clock: the kernel's time less
/// `clock_zero_unix_ns`, the moment that clock read 0. Returns how many
/// records there were, or one sentence on what is wrong, naming the record.
pub fn read(
    input: impl Read,
    clock_zero_unix_ns: i128,
    mut each: impl FnMut(WirePacket),
) -> Result<u64, String> {
    let mut input = io::BufReader::with_capacity(1 << 20, input);
    let mut header = [0u8; 24];
    if !fill(&mut input, &mut header)? {
        return Err("it is empty, not a pcap file".into());
    }
    let magic = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes"));
    let (little, nanos) = match magic {
        MAGIC_NS => (true, true),
        MAGIC_US => (true, false),
        _ if magic.swap_bytes() == MAGIC_NS => (false, true),
        _ if magic.swap_bytes() == MAGIC_US => (false, false),
        _ => {
            return Err(
                "it is not a classic pcap file (its first 4 bytes are no pcap magic number; \
                 pcapng is not read)"
                    .into(),
            );
        }
    };
    let word = |b: &[u8]| {
        let b: [u8; 4] = b.try_into().expect("4 bytes");
        if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let link_type = word(&header[20..24]) & 0x0fff_ffff;
    if link_type != LINKTYPE_ETHERNET {
        return Err(format!(
            "its link type is {link_type}, not Ethernet (1), which sockscope writes"
        ));
    }
    let mut records = 0u64;
    let mut record = [0u8; 16];
    let mut bytes = Vec::new();
    loop {
        let number = records + 1;
        let cut = || format!("record {number} stops short: the file was cut off");
        match fill(&mut input, &mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(records),
            Err(_) => return Err(cut()),
        }
        let (secs, fraction) = (word(&record[0..4]), word(&record[4..8]));
        let (kept, wire_len) = (word(&record[8..12]), word(&record[12..16]));
        let limit = if nanos { 1_000_000_000 } else { 1_000_000 };
        if fraction >= limit {
            return Err(format!(
                "record {number}'s time has {fraction} in its fraction of a second, over {}",
                limit - 1
            ));
        }
        if kept > MAX_RECORD {
            return Err(format!(
                "record {number} says it holds {kept} bytes, over the {MAX_RECORD} a record may"
            ));
        }
        bytes.resize(kept as usize, 0);
        if !matches!(fill(&mut input, &mut bytes), Ok(true)) && kept > 0 {
            return Err(cut());
        }
        let unix_ns =
            u64::from(secs) * 1_000_000_000 + u64::from(fraction) * (1_000_000_000 / limit) as u64;
        each(WirePacket {
            t_ns: (i128::from(unix_ns) - clock_zero_unix_ns) as i64,
            unix_ns,
            wire_len: wire_len.max(kept),
            bytes: bytes.clone(),
            gso_size: 0,
        });
        records += 1;
    }
}

/// Fills `buf` whole: true; at the end of the input before any byte:
/// false; part way: an error.
fn fill(input: &mut impl Read, buf: &mut [u8]) -> Result<bool, String> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err("cut off".into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(true)
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

    fn frame(t: u64) -> WirePacket {
        WirePacket {
            t_ns: 0,
            unix_ns: t,
            wire_len: 1514,
            bytes: vec![9; 54],
            gso_size: 0,
        }
    }

    #[test]
    fn what_is_written_reads_back_on_the_sessions_clock() {
        let mut out = Vec::new();
        let mut pcap = PcapWriter::new(&mut out).unwrap();
        pcap.write(&frame(1_700_000_000_000_000_500)).unwrap();
        pcap.write(&frame(1_700_000_001_000_000_000)).unwrap();
        let mut read_back = Vec::new();
        let zero = 1_700_000_000_000_000_000;
        let records = read(&out[..], zero, |p| read_back.push(p)).unwrap();
        assert_eq!(records, 2);
        assert_eq!(read_back[0].t_ns, 500);
        assert_eq!(read_back[1].t_ns, 1_000_000_000);
        assert_eq!(read_back[1].bytes, vec![9; 54]);
        assert_eq!(read_back[1].wire_len, 1514);
    }

    #[test]
    fn a_cut_file_names_the_record_that_stops_short() {
        let mut out = Vec::new();
        let mut pcap = PcapWriter::new(&mut out).unwrap();
        pcap.write(&frame(5)).unwrap();
        pcap.write(&frame(6)).unwrap();
        out.truncate(out.len() - 10);
        let error = read(&out[..], 0, |_| {}).unwrap_err();
        assert_eq!(error, "record 2 stops short: the file was cut off");
        let error = read(&b"not a pcap at all, just some text"[..], 0, |_| {}).unwrap_err();
        assert!(error.contains("no pcap magic number"), "{error}");
    }

    #[test]
    fn microsecond_big_endian_files_read_too() {
        let mut file = Vec::new();
        for word in [MAGIC_US, 0x0002_0004, 0, 0, 65_535, LINKTYPE_ETHERNET] {
            file.extend_from_slice(&word.to_be_bytes());
        }
        for word in [10u32, 250_000, 4, 60] {
            file.extend_from_slice(&word.to_be_bytes());
        }
        file.extend_from_slice(&[1, 2, 3, 4]);
        let mut got = Vec::new();
        assert_eq!(read(&file[..], 0, |p| got.push(p)).unwrap(), 1);
        assert_eq!(got[0].unix_ns, 10_250_000_000);
        assert_eq!(got[0].bytes, vec![1, 2, 3, 4]);
        assert_eq!(got[0].wire_len, 60);
    }
}
