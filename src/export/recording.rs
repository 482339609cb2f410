//! Reading a recorded run back: the CSV `record --csv` (or the window's
//! export) wrote, one row a sample, and the JSON summary beside it, which
//! carries the run's settings (buffer sizes, rates, the link, who was
//! watched). Every row is checked; a damaged file is one sentence naming
//! its line and what is wrong, and nothing is opened half.
//!
//! Memory stays bounded like the live timeline's: the samples go into a
//! `Timeline` (the newest at full resolution, older ones thinned), and an
//! index of where every `INDEX_EVERY`-th row starts lets any moment's exact
//! samples be read again from the file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::csv::HEADER_PREFIX;
use crate::lab::probe::TcpState;
use crate::lab::sample::{Bottleneck, ReceiverInfo, ReceiverMemory, SenderInfo, SenderMemory};
use crate::lab::units::format_bytes;
use crate::lab::wire_log::WireLog;
use crate::lab::{
    Attached, BufferKind, BufferSetting, Cable, Endpoint, LabConfig, Rate, ReaderState, Sample,
    SessionInfo, Size, Timeline, WriterState,
};

/// The largest recording opened: an hour at 1 kHz is about 1.2 GB.
pub const MAX_RECORDING_BYTES: u64 = 4 << 30;
/// Every how many rows the index remembers where a row starts.
pub const INDEX_EVERY: usize = 1024;

/// Why a recording could not be opened.
#[derive(Debug, Error)]
pub enum RecordingError {
    #[error("could not read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} is {size}, over the {limit} a recording may be; cut it with head -n, keeping the first line"
    )]
    TooBig {
        path: String,
        size: String,
        limit: String,
    },
    #[error(
        "{path} is not a sockscope recording: its first line must start with the columns {HEADER_PREFIX}"
    )]
    NotARecording { path: String },
    #[error("{path}, line {line}: {what}")]
    Damaged {
        path: String,
        line: u64,
        what: String,
    },
    #[error("{path}: its capture, {pcap}, is damaged: {what}")]
    DamagedCapture {
        path: String,
        pcap: String,
        what: String,
    },
    #[error("{path} has its column names but no sample")]
    Empty { path: String },
    #[error(
        "{path}: the summary beside it, {summary}, is not the JSON `record --json` writes: {what}"
    )]
    BadSummary {
        path: String,
        summary: String,
        what: String,
    },
}

/// A recorded run, ready to be played back.
pub struct Recording {
    pub path: PathBuf,
    /// The run's settings, from the summary beside the file (or the
    /// defaults, which the window then says).
    pub info: SessionInfo,
    pub config: LabConfig,
    /// Whether a summary was found beside the file.
    pub has_summary: bool,
    pub timeline: std::sync::Arc<Timeline>,
    pub rows: u64,
    /// The run's packets, when the summary names a pcap (`record --pcap`,
    /// or the window's export on a private link): the ladder replayed, or
    /// why it cannot be.
    pub wire: Option<Result<RecordedWire, NoReplay>>,
    columns: Columns,
    /// (time of the row, byte offset of its line), every INDEX_EVERY rows.
    index: Vec<(u64, u64)>,
}

/// Why a recording's capture cannot be replayed (the samples still play).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoReplay {
    /// The pcap the summary names could not be opened.
    Unreadable { pcap: PathBuf, error: String },
    /// The summary does not say when the samples' clock read 0.
    NoClock { pcap: PathBuf },
}

/// A recording's capture, read back from its pcap.
#[derive(Debug)]
pub struct RecordedWire {
    pub path: PathBuf,
    /// Its segments as the ladder reads them, on the samples' clock.
    pub log: WireLog,
    /// The pcap's records.
    pub records: u64,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl Recording {
    /// Reads `path` (and `path` with `.json` in place of its extension, if
    /// there), telling `progress` the share read so far, 0 to 1.
    pub fn open(path: &Path, progress: &mut dyn FnMut(f32)) -> Result<Recording, RecordingError> {
        let shown = path.display().to_string();
        let io_error = |source| RecordingError::Io {
            path: shown.clone(),
            source,
        };
        let file = File::open(path).map_err(io_error)?;
        let size = file.metadata().map_err(io_error)?.len();
        if size > MAX_RECORDING_BYTES {
            return Err(RecordingError::TooBig {
                path: shown,
                size: format_bytes(size),
                limit: format_bytes(MAX_RECORDING_BYTES),
            });
        }
        let Beside {
            info,
            config,
            has_summary,
            capture,
        } = summary_beside(path)?;
        // The pcap's share of the progress bar, by its size.
        let pcap_size = match &capture {
            Some(Ok((pcap, _))) => std::fs::metadata(pcap).map_or(0, |m| m.len()),
            _ => 0,
        };
        let csv_share = size as f32 / (size + pcap_size).max(1) as f32;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut line = String::new();
        let header_len = reader.read_line(&mut line).map_err(io_error)?;
        if !line.starts_with(HEADER_PREFIX) {
            return Err(RecordingError::NotARecording { path: shown });
        }
        let columns = Columns::of(line.trim_end());
        let mut timeline = Timeline::new();
        let mut index = Vec::new();
        let mut offset = header_len as u64;
        let mut rows = 0u64;
        let mut last_t: Option<u64> = None;
        loop {
            line.clear();
            let read = reader.read_line(&mut line).map_err(io_error)?;
            if read == 0 {
                break;
            }
            let number = rows + 2;
            let damaged = |what: String| RecordingError::Damaged {
                path: shown.clone(),
                line: number,
                what,
            };
            if !line.ends_with('\n') {
                return Err(damaged(
                    "the line stops short (no line end): the file was cut off".into(),
                ));
            }
            let sample = columns.parse(line.trim_end()).map_err(damaged)?;
            if last_t.is_some_and(|t| sample.t_ns < t) {
                return Err(damaged(format!(
                    "t_ms {:.3} goes back in time",
                    sample.t_ns as f64 / 1e6
                )));
            }
            if rows.is_multiple_of(INDEX_EVERY as u64) {
                index.push((sample.t_ns, offset));
            }
            last_t = Some(sample.t_ns);
            timeline.push(sample);
            offset += read as u64;
            rows += 1;
            if rows.is_multiple_of(65_536) {
                progress(offset as f32 / size.max(1) as f32 * csv_share);
            }
        }
        if rows == 0 {
            return Err(RecordingError::Empty { path: shown });
        }
        let wire = match capture {
            None => None,
            Some(Err(why)) => Some(Err(why)),
            Some(Ok((pcap, clock_zero))) => Some(read_capture(
                &pcap,
                clock_zero,
                info.writer_addr.port(),
                &shown,
                &mut |share| progress(csv_share + share * (1.0 - csv_share)),
            )?),
        };
        progress(1.0);
        Ok(Recording {
            path: path.to_owned(),
            info,
            config,
            has_summary,
            timeline: std::sync::Arc::new(timeline),
            rows,
            wire,
            columns,
            index,
        })
    }

    /// The samples at full resolution around `t_ns`: the indexed stretch
    /// of rows that holds it, read again from the file.
    pub fn samples_near(&self, t_ns: u64) -> io::Result<Vec<Sample>> {
        let at = self.index.partition_point(|(t, _)| *t <= t_ns).max(1) - 1;
        let Some(&(_, offset)) = self.index.get(at) else {
            return Ok(Vec::new());
        };
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(offset))?;
        let reader = BufReader::new(file.take(1 << 22));
        let mut samples = Vec::with_capacity(INDEX_EVERY + 1);
        // One row past the stretch, so its last moment has a successor.
        for line in reader.lines().take(INDEX_EVERY + 1) {
            let line = line?;
            match self.columns.parse(&line) {
                Ok(sample) => samples.push(sample),
                Err(_) => break,
            }
        }
        Ok(samples)
    }

    /// The recorded span, first sample to last, ns.
    pub fn span(&self) -> (u64, u64) {
        let first = self.index.first().map_or(0, |(t, _)| *t);
        let last = self.timeline.last().map_or(first, |s| s.t_ns);
        (first, last)
    }
}

/// Reads the pcap `record --pcap` wrote into the ladder's log: Ok(Err)
/// when the file cannot be opened (the samples play without it), Err when
/// it is damaged (nothing is opened).
fn read_capture(
    pcap: &Path,
    clock_zero_unix_ns: u64,
    writer_port: u16,
    recording: &str,
    progress: &mut dyn FnMut(f32),
) -> Result<Result<RecordedWire, NoReplay>, RecordingError> {
    let file = match File::open(pcap) {
        Ok(file) => file,
        Err(e) => {
            return Ok(Err(NoReplay::Unreadable {
                pcap: pcap.to_owned(),
                error: e.kind().to_string(),
            }));
        }
    };
    let size = file.metadata().map_or(0, |m| m.len()).max(1);
    let mut log = WireLog::new(writer_port);
    let mut bytes_read = 0u64;
    let records = super::pcap::read(file, i128::from(clock_zero_unix_ns), |packet| {
        bytes_read += 16 + packet.bytes.len() as u64;
        log.push(&packet);
        if log.total().is_multiple_of(65_536) {
            progress(bytes_read as f32 / size as f32);
        }
    })
    .map_err(|what| RecordingError::DamagedCapture {
        path: recording.to_owned(),
        pcap: pcap.display().to_string(),
        what,
    })?;
    Ok(Ok(RecordedWire {
        path: pcap.to_owned(),
        log,
        records,
    }))
}

/// One row read against a header line, as `Recording::open` reads it: the
/// sample, or one sentence on what is wrong (the fuzz target's entry).
pub fn parse_row(header: &str, row: &str) -> Result<Sample, String> {
    if !header.starts_with(HEADER_PREFIX) {
        return Err("the first line is not a sockscope recording's".into());
    }
    Columns::of(header).parse(row)
}

/// Where each column is in this file's rows. Only the first nine are
/// required (the stable interface); the others are read where present.
#[derive(Debug, Clone, Default)]
struct Columns {
    positions: Vec<Option<usize>>,
    count: usize,
}

/// The columns read back, in this order (see `Columns::parse`).
const NAMES: [&str; 36] = [
    "t_ms",
    "sendq_bytes",
    "unsent_bytes",
    "recvq_bytes",
    "written_bytes",
    "read_bytes",
    "zero_window",
    "writer_state",
    "reader_state",
    "stall_count",
    "stall_ms",
    "snd_wnd_bytes",
    "rcv_wnd_bytes",
    "zero_window_probes",
    "snd_cwnd_segments",
    "snd_mss_bytes",
    "rtt_us",
    "notsent_bytes",
    "rcv_space_bytes",
    "writer_tcp_state",
    "reader_tcp_state",
    "rcv_mss_bytes",
    "rmem_alloc_bytes",
    "rcvbuf_now_bytes",
    "rcv_backlog_bytes",
    "total_retrans",
    "rto_us",
    "snd_ssthresh_segments",
    "cable",
    "link_queue_bytes",
    "link_drops",
    "rcv_drops",
    "wmem_queued_bytes",
    "sndbuf_now_bytes",
    "writer_blocked",
    "reader_paused",
];

impl Columns {
    fn of(header: &str) -> Columns {
        let names: Vec<&str> = header.split(',').collect();
        Columns {
            positions: NAMES
                .iter()
                .map(|name| names.iter().position(|n| n == name))
                .collect(),
            count: names.len(),
        }
    }

    /// One row as a sample, or what is wrong with it.
    fn parse(&self, line: &str) -> Result<Sample, String> {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != self.count {
            return Err(format!(
                "{} columns where the first line names {}",
                fields.len(),
                self.count
            ));
        }
        let field = |i: usize| self.positions[i].map(|p| fields[p]);
        let number = |i: usize| -> Result<f64, String> {
            match field(i) {
                None | Some("") => Ok(0.0),
                Some(text) => text
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && *n >= 0.0)
                    .ok_or_else(|| format!("{} is '{text}', not a number", NAMES[i])),
            }
        };
        let u32_of = |i: usize| number(i).map(|n| n.min(f64::from(u32::MAX)) as u32);
        let u64_of = |i: usize| number(i).map(|n| n as u64);
        let word = |i: usize| field(i).unwrap_or("");
        let writer_state = match field(7) {
            Some(name) => WriterState::from_name(name)
                .ok_or_else(|| format!("writer_state is '{name}', not a writer state"))?,
            // Older files: only writer_blocked.
            None if word(34) == "1" => WriterState::Blocked,
            None => WriterState::Sending,
        };
        let reader_state = match field(8) {
            Some(name) => ReaderState::from_name(name)
                .ok_or_else(|| format!("reader_state is '{name}', not a reader state"))?,
            None if word(35) == "1" => ReaderState::Paused,
            None => ReaderState::Reading,
        };
        let tcp_state = |i: usize| -> Result<TcpState, String> {
            match field(i) {
                None | Some("") => Ok(TcpState::Unknown),
                Some(name) => TcpState::from_name(name)
                    .ok_or_else(|| format!("{} is '{name}', not a TCP state", NAMES[i])),
            }
        };
        let cable = match word(28) {
            "" => Cable::NoLink,
            "plugged" => Cable::Plugged,
            "unplugged" => Cable::Unplugged,
            other => return Err(format!("cable is '{other}', not plugged or unplugged")),
        };
        let zero_window = match word(6) {
            "0" => false,
            "1" => true,
            other => return Err(format!("zero_window is '{other}', not 0 or 1")),
        };
        let send_queue = u32_of(1)?;
        Ok(Sample {
            t_ns: (number(0)? * 1e6).round() as u64,
            send_queue,
            unsent: u32_of(2)?.min(send_queue),
            recv_queue: u32_of(3)?,
            written: u64_of(4)?,
            read: u64_of(5)?,
            writer_state,
            reader_state,
            zero_window,
            stall_count: u64_of(9)?,
            stall_ns: (number(10)? * 1e6).round() as u64,
            sender: SenderInfo {
                state: tcp_state(19)?,
                probes: u32_of(13)?.min(255) as u8,
                snd_wnd: u32_of(11)?,
                snd_cwnd: u32_of(14)?,
                snd_mss: u32_of(15)?,
                rtt_us: u32_of(16)?,
                notsent_bytes: u32_of(17)?,
                total_retrans: u32_of(25)?,
                rto_us: u32_of(26)?,
                snd_ssthresh: u32_of(27)?,
                ..SenderInfo::default()
            },
            receiver: ReceiverInfo {
                state: tcp_state(20)?,
                rcv_space: u32_of(18)?,
                rcv_mss: u32_of(21)?,
                rcv_wnd: u32_of(12)?,
            },
            receiver_memory: ReceiverMemory {
                rmem_alloc: u32_of(22)?,
                rcvbuf: u32_of(23)?,
                backlog: u32_of(24)?,
                drops: u32_of(31)?,
            },
            sender_memory: SenderMemory {
                wmem_queued: u32_of(32)?,
                sndbuf: u32_of(33)?,
            },
            cable,
            bottleneck: Bottleneck {
                backlog_bytes: u32_of(29)?,
                drops: u32_of(30)?,
            },
            ..Sample::default()
        })
    }
}

/// What the JSON summary beside a CSV says of its run.
struct Beside {
    info: SessionInfo,
    config: LabConfig,
    /// Whether there was a summary.
    has_summary: bool,
    /// The pcap it names and when the samples' clock read 0 on the pcap's
    /// clock, or why the capture cannot be replayed.
    capture: Option<Result<(PathBuf, u64), NoReplay>>,
}

/// The run's settings from the JSON summary beside the CSV; the defaults
/// (and false) if there is none.
fn summary_beside(path: &Path) -> Result<Beside, RecordingError> {
    let json = path.with_extension("json");
    let config = LabConfig::default();
    let unknown = |kind| BufferSetting {
        kind,
        requested: None,
        effective: 0,
        kernel_max: None,
    };
    let mut info = SessionInfo {
        id: crate::lab::next_session_id(),
        writer_addr: "0.0.0.0:0".parse().expect("an address"),
        reader_addr: "0.0.0.0:0".parse().expect("an address"),
        sndbuf: unknown(BufferKind::Send),
        rcvbuf: unknown(BufferKind::Receive),
        outside: false,
        link: None,
        link_lacks: Default::default(),
        congestion: String::new(),
        capture: Default::default(),
        attached: None,
    };
    if json == path || !json.is_file() {
        return Ok(Beside {
            info,
            config,
            has_summary: false,
            capture: None,
        });
    }
    let bad = |what: String| RecordingError::BadSummary {
        path: path.display().to_string(),
        summary: json.display().to_string(),
        what,
    };
    let text = std::fs::read_to_string(&json).map_err(|e| bad(e.to_string()))?;
    let summary: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let bytes = |key: &str| summary[key].as_u64();
    let setting = |kind, requested: &str, effective: &str, max: &str| BufferSetting {
        kind,
        requested: bytes(requested),
        effective: bytes(effective).unwrap_or(0),
        kernel_max: bytes(max),
    };
    info.sndbuf = setting(
        BufferKind::Send,
        "requested_sndbuf",
        "effective_sndbuf",
        "wmem_max",
    );
    info.rcvbuf = setting(
        BufferKind::Receive,
        "requested_rcvbuf",
        "effective_rcvbuf",
        "rmem_max",
    );
    let address = |key: &str| summary[key].as_str().and_then(|a| a.parse().ok());
    info.writer_addr = address("writer").unwrap_or(info.writer_addr);
    info.reader_addr = address("reader").unwrap_or(info.reader_addr);
    info.outside = summary["outside_peer"].as_bool().unwrap_or(false);
    info.congestion = summary["congestion_control"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let rate = |key: &str| -> Result<Rate, RecordingError> {
        match summary[key].as_str() {
            None => Ok(Rate::Unlimited),
            Some(text) => {
                summary_rate(text).ok_or_else(|| bad(format!("{key} is '{text}', not a rate")))
            }
        }
    };
    let link = &summary["link"];
    let endpoint = if link.is_object() {
        let spec = crate::lab::link::LinkSpec {
            rate: match link["rate"].as_str() {
                Some(text) => summary_rate(text)
                    .ok_or_else(|| bad(format!("link.rate is '{text}', not a rate")))?,
                None => Rate::Unlimited,
            },
            delay_ms: link["delay_ms"].as_u64().unwrap_or(0) as u32,
            loss: crate::lab::link::Loss::from_percent(
                link["loss_percent"].as_f64().unwrap_or(0.0),
            )
            .unwrap_or(crate::lab::link::Loss::NONE),
            mtu: link["mtu"]
                .as_u64()
                .map_or(crate::lab::link::DEFAULT_MTU, |m| m as u32),
        };
        info.link = Some(spec);
        Endpoint::Link(spec)
    } else {
        Endpoint::Loopback
    };
    if let Some(attached) = summary["attached"].as_object() {
        info.attached = Some(Attached {
            followed: attached["followed"]
                .as_str()
                .and_then(|a| a.parse().ok())
                .unwrap_or(info.writer_addr),
            writer_owner: attached["writer_program"].as_str().map(String::from),
            reader_owner: attached["reader_program"].as_str().map(String::from),
        });
    }
    let config = LabConfig {
        sndbuf: info.sndbuf.requested.map(Size),
        rcvbuf: info.rcvbuf.requested.map(Size),
        write_rate: rate("write_rate")?,
        write_chunk: bytes("write_chunk").map_or(config.write_chunk, Size),
        read_rate: rate("read_rate")?,
        read_chunk: bytes("read_chunk").map_or(config.read_chunk, Size),
        sample_hz: bytes("sample_hz").map_or(config.sample_hz, |hz| hz as u32),
        endpoint,
        ..config
    };
    let capture = summary["capture"]["pcap"].as_str().map(|name| {
        // A name alone is in the summary's folder.
        let pcap = json
            .parent()
            .unwrap_or(Path::new("."))
            .join(Path::new(name));
        match summary["capture"]["clock_zero_unix_ns"].as_u64() {
            Some(zero) => Ok((pcap, zero)),
            None => Err(NoReplay::NoClock { pcap }),
        }
    });
    Ok(Beside {
        info,
        config,
        has_summary: true,
        capture,
    })
}

/// A rate as the summary writes it (`Rate`'s Display): "max", "0 (paused)"
/// or "256 KiB/s" (a bytes figure to one decimal); also what the flags take.
fn summary_rate(text: &str) -> Option<Rate> {
    match text {
        "max" => return Some(Rate::Unlimited),
        "0 (paused)" => return Some(Rate::Paused),
        _ => {}
    }
    if let Ok(rate) = text.parse() {
        return Some(rate);
    }
    let (number, unit) = text.strip_suffix("/s")?.split_once(' ')?;
    let scale = match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number.parse::<f64>().ok()? * scale;
    (bytes >= 1.0).then(|| Rate::BytesPerSec(bytes.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::csv::SampleCsv;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sockscope-recording-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn samples() -> Vec<Sample> {
        (0..3000u64)
            .map(|i| Sample {
                t_ns: i * 1_000_000,
                send_queue: (i * 7 % 65_536) as u32,
                unsent: (i % 100) as u32,
                recv_queue: (i * 13 % 65_536) as u32,
                written: i * 4096,
                read: i * 4000,
                writer_state: if i % 10 == 0 {
                    WriterState::Blocked
                } else {
                    WriterState::Sending
                },
                reader_state: ReaderState::Paused,
                zero_window: i % 3 == 0,
                stall_count: i / 10,
                stall_ns: i * 1000,
                sender: SenderInfo {
                    state: TcpState::Established,
                    snd_wnd: 1000,
                    snd_cwnd: 10,
                    snd_mss: 1448,
                    total_retrans: (i / 100) as u32,
                    ..SenderInfo::default()
                },
                receiver_memory: ReceiverMemory {
                    rmem_alloc: 5000,
                    rcvbuf: 65536,
                    backlog: 0,
                    drops: 2,
                },
                sender_memory: SenderMemory {
                    wmem_queued: 7000,
                    sndbuf: 65536,
                },
                cable: Cable::Plugged,
                ..Sample::default()
            })
            .collect()
    }

    fn write(path: &Path, samples: &[Sample]) {
        let mut csv = SampleCsv::new(File::create(path).unwrap());
        for s in samples {
            csv.write(s).unwrap();
        }
        csv.finish().unwrap();
    }

    #[test]
    fn a_recording_reads_back_as_the_samples_it_was_written_from() {
        let dir = scratch("roundtrip");
        let path = dir.join("run.csv");
        let written = samples();
        write(&path, &written);
        let recording = Recording::open(&path, &mut |_| {}).unwrap();
        assert_eq!(recording.rows, written.len() as u64);
        assert!(!recording.has_summary);
        assert_eq!(recording.span(), (0, 2_999_000_000));
        // Every sample comes back whole from the file, in any stretch.
        for t in [0, 1_500_000_000, 2_999_000_000] {
            let near = recording.samples_near(t).unwrap();
            let first = (near[0].t_ns / 1_000_000) as usize;
            assert_eq!(near[..], written[first..first + near.len()], "at {t}");
            assert!(near.iter().any(|s| s.t_ns == t));
        }
        assert_eq!(recording.timeline.last(), written.last());
    }

    #[test]
    fn a_damaged_row_is_one_sentence_naming_its_line() {
        let dir = scratch("damaged");
        let path = dir.join("run.csv");
        write(&path, &samples()[..10]);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[4] = lines[4].replacen(",", ",x", 2);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let error = Recording::open(&path, &mut |_| {}).unwrap_err().to_string();
        assert!(error.contains("line 5: "), "{error}");
        assert!(!error.contains('\n'), "{error}");
        // Cut off in the middle of a row.
        std::fs::write(&path, &text[..text.len() - 7]).unwrap();
        let error = Recording::open(&path, &mut |_| {}).unwrap_err().to_string();
        assert!(error.contains("line 11: the line stops short"), "{error}");
        // Not a recording at all.
        std::fs::write(&path, "name,age\nx,1\n").unwrap();
        let error = Recording::open(&path, &mut |_| {}).unwrap_err().to_string();
        assert!(error.contains("is not a sockscope recording"), "{error}");
        // Time running backwards.
        let mut rows = samples()[..5].to_vec();
        rows[3].t_ns = 0;
        write(&path, &rows);
        let error = Recording::open(&path, &mut |_| {}).unwrap_err().to_string();
        assert!(
            error.contains("line 5: t_ms 0.000 goes back in time"),
            "{error}"
        );
    }

    #[test]
    fn the_summarys_rates_read_back() {
        for rate in [
            Rate::Unlimited,
            Rate::Paused,
            Rate::BytesPerSec(256 * 1024),
            Rate::BytesPerSec(3 << 20),
        ] {
            assert_eq!(summary_rate(&rate.to_string()), Some(rate), "{rate}");
        }
        assert_eq!(summary_rate("fast"), None);
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_read() {
        let dir = scratch("big");
        let path = dir.join("big.csv");
        let file = File::create(&path).unwrap();
        // Sparse: no disk is used.
        file.set_len(MAX_RECORDING_BYTES + 1).unwrap();
        let error = Recording::open(&path, &mut |_| {}).unwrap_err().to_string();
        assert!(
            error.contains("over the 4 GiB a recording may be"),
            "{error}"
        );
    }
}
