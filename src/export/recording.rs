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

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use serde_json::Value;
use thiserror::Error;

use super::csv::HEADER_PREFIX;
use crate::input::{
    InputFile, InputFileError, InputKind, InputProblem, MAX_LINE_BYTES, read_line_capped,
    read_user_text, without_bom,
};
use crate::lab::probe::TcpState;
use crate::lab::sample::{Bottleneck, ReceiverInfo, ReceiverMemory, SenderInfo, SenderMemory};
use crate::lab::units::format_bytes;
use crate::lab::wire_log::WireLog;
use crate::lab::{
    Attached, BufferKind, BufferSetting, Cable, Endpoint, LabConfig, Rate, ReaderState, Sample,
    SessionInfo, Size, Timeline, WriterState,
};

/// The largest recording opened: an hour at 1 kHz is about 600 MB.
pub const MAX_RECORDING_BYTES: u64 = InputKind::Recording.max_bytes();
/// The latest a sample may be, in ms from the first: `record --duration`
/// takes at most 1e9 s, and the ns clock holds it with room to spare.
pub const MAX_T_MS: f64 = 1e12;
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
    /// The recording, its summary or its capture is not a regular file, is
    /// too big, or has a line too long.
    #[error(transparent)]
    Input(#[from] InputFileError),
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
        let file = InputFile::open(path, InputKind::Recording)?;
        let size = file.size();
        let Beside {
            mut info,
            config,
            has_summary,
            capture,
        } = summary_beside(path)?;
        // The capture is opened now, so one that cannot be read (a FIFO,
        // say) is refused before the samples are.
        let capture = match capture {
            None => None,
            Some(Err(why)) => Some(Err(why)),
            Some(Ok((pcap, clock_zero))) => match InputFile::open(&pcap, InputKind::Capture) {
                Ok(file) => Some(Ok((pcap, clock_zero, file))),
                // A pcap that is gone leaves the samples playing.
                Err(InputFileError {
                    problem: InputProblem::Unreadable(kind),
                    ..
                }) => Some(Err(NoReplay::Unreadable {
                    pcap,
                    error: kind.to_string(),
                })),
                Err(error) => return Err(error.into()),
            },
        };
        // The pcap's share of the progress bar, by its size.
        let pcap_size = match &capture {
            Some(Ok((_, _, file))) => file.size(),
            _ => 0,
        };
        let csv_share = size as f32 / (size + pcap_size).max(1) as f32;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut line = Vec::new();
        let header_len = read_line_capped(&mut reader, &mut line).map_err(io_error)?;
        // Read no further into a line than this: a file of one endless
        // line is refused, not held.
        let too_long = |line: u64| RecordingError::Damaged {
            path: shown.clone(),
            line,
            what: format!(
                "the line is longer than the {} a line may be",
                format_bytes(MAX_LINE_BYTES as u64)
            ),
        };
        if header_len > MAX_LINE_BYTES {
            return Err(too_long(1));
        }
        // Spreadsheets on Windows save a byte order mark first.
        let header = std::str::from_utf8(&line).map(without_bom).unwrap_or("");
        if !header.starts_with(HEADER_PREFIX) {
            return Err(RecordingError::NotARecording { path: shown });
        }
        let columns = Columns::of(header.trim_end());
        let mut timeline = Timeline::new();
        let mut index = Vec::new();
        let mut offset = header_len as u64;
        let mut rows = 0u64;
        let mut last_t: Option<u64> = None;
        loop {
            let read = read_line_capped(&mut reader, &mut line).map_err(io_error)?;
            if read == 0 {
                break;
            }
            let number = rows + 2;
            if read > MAX_LINE_BYTES {
                return Err(too_long(number));
            }
            let damaged = |what: String| RecordingError::Damaged {
                path: shown.clone(),
                line: number,
                what,
            };
            if !line.ends_with(b"\n") {
                return Err(damaged(
                    "the line stops short (no line end): the file was cut off".into(),
                ));
            }
            let text =
                std::str::from_utf8(&line).map_err(|_| damaged("it is not UTF-8 text".into()))?;
            let sample = columns.parse(text.trim_end()).map_err(damaged)?;
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
            // No summary: the buffers' sizes at the start are the first
            // the rows give (sk_sndbuf, sk_rcvbuf), so the picture, the
            // plot and the info panel have sizes, not "of 0 B".
            if !has_summary {
                for (setting, now) in [
                    (&mut info.sndbuf, sample.sender_memory.sndbuf),
                    (&mut info.rcvbuf, sample.receiver_memory.rcvbuf),
                ] {
                    if setting.effective == 0 {
                        setting.effective = u64::from(now);
                    }
                }
            }
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
            Some(Ok((pcap, clock_zero, file))) => Some(read_capture(
                &pcap,
                file,
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
        // The file may have been swapped for a FIFO since it was opened.
        let mut file = InputFile::open(&self.path, InputKind::Recording)
            .map_err(io::Error::other)?
            .into_inner()
            .into_inner();
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

/// Reads the pcap `record --pcap` wrote, opened as `file`, into the
/// ladder's log; Err when it is damaged (nothing is opened).
fn read_capture(
    pcap: &Path,
    file: InputFile,
    clock_zero_unix_ns: u64,
    writer_port: u16,
    recording: &str,
    progress: &mut dyn FnMut(f32),
) -> Result<Result<RecordedWire, NoReplay>, RecordingError> {
    let size = file.size().max(1);
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
const NAMES: [&str; 38] = [
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
    "link_delay_ms",
    "delay_held_packets",
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
        // A value outside what its column holds is a damaged file, never
        // clamped: a queue of 5 000 000 000 bytes is not 4 GiB.
        let millis = |i: usize| -> Result<f64, String> {
            match field(i) {
                None | Some("") => Ok(0.0),
                Some(text) => match text.parse::<f64>() {
                    Ok(n) if (0.0..=MAX_T_MS).contains(&n) => Ok(n),
                    Ok(_) => Err(format!(
                        "{} is '{text}', not a time from 0 to {MAX_T_MS} ms",
                        NAMES[i]
                    )),
                    Err(_) => Err(format!("{} is '{text}', not a number", NAMES[i])),
                },
            }
        };
        let whole = |i: usize, max: u64| -> Result<u64, String> {
            match field(i) {
                None | Some("") => Ok(0),
                Some(text) => text
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n <= max)
                    .ok_or_else(|| {
                        format!(
                            "{} is '{text}', not a whole number from 0 to {max}",
                            NAMES[i]
                        )
                    }),
            }
        };
        // The sample keeps these as u32, as the kernel reports them.
        let u32_of = |i: usize| whole(i, u32::MAX.into()).map(|n| n as u32);
        let u64_of = |i: usize| whole(i, u64::MAX);
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
            t_ns: (millis(0)? * 1e6).round() as u64,
            send_queue,
            unsent: u32_of(2)?.min(send_queue),
            recv_queue: u32_of(3)?,
            written: u64_of(4)?,
            read: u64_of(5)?,
            writer_state,
            reader_state,
            zero_window,
            stall_count: u64_of(9)?,
            stall_ns: (millis(10)? * 1e6).round() as u64,
            sender: SenderInfo {
                state: tcp_state(19)?,
                probes: whole(13, u8::MAX.into())? as u8,
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
            // Absent before issue 23: no delay known, none held.
            link_delay_ms: whole(36, crate::lab::link::MAX_DELAY_MS.into())? as u32,
            delay_held_packets: u32_of(37)?,
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
/// (and false) if there is none. A key absent or null is not known; a key
/// present must hold its type and range, or the summary is damaged.
fn summary_beside(path: &Path) -> Result<Beside, RecordingError> {
    let json = path.with_extension("json");
    let config = LabConfig::default();
    let unknown = |kind| BufferSetting {
        kind,
        requested: None,
        effective: 0,
        kernel_max: None,
        origin_known: false,
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
    let no_summary = |info| Beside {
        info,
        config,
        has_summary: false,
        capture: None,
    };
    if json == path {
        return Ok(no_summary(info));
    }
    let text = match read_user_text(&json, InputKind::Summary) {
        Ok(text) => text,
        Err(InputFileError {
            problem: InputProblem::Unreadable(io::ErrorKind::NotFound),
            ..
        }) => return Ok(no_summary(info)),
        Err(error) => return Err(error.into()),
    };
    let bad = |what: String| RecordingError::BadSummary {
        path: path.display().to_string(),
        summary: json.display().to_string(),
        what,
    };
    let summary: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if !summary.is_object() {
        return Err(bad(format!(
            "it is {}, not an object of named values",
            shown(&summary)
        )));
    }
    let whole = |key: &str, range| whole_in(&summary, key, range).map_err(bad);
    // The kernel keeps a socket's buffer sizes and their caps in an int.
    let kernel_int = 0..=i32::MAX as u64;
    let setting = |kind, requested: &str, effective: &str, max: &str| {
        Ok::<_, RecordingError>(BufferSetting {
            kind,
            requested: whole(requested, 1..=crate::lab::MAX_BUFFER)?,
            effective: whole(effective, kernel_int.clone())?.unwrap_or(0),
            kernel_max: whole(max, kernel_int.clone())?,
            origin_known: true,
        })
    };
    info.sndbuf = setting(
        BufferKind::Send,
        "requested_sndbuf",
        "effective_sndbuf",
        "wmem_max",
    )?;
    info.rcvbuf = setting(
        BufferKind::Receive,
        "requested_rcvbuf",
        "effective_rcvbuf",
        "rmem_max",
    )?;
    let address = |value: &Value, key: &str| -> Result<Option<SocketAddr>, RecordingError> {
        text_in(value, key)
            .map_err(bad)?
            .map(|text| {
                text.parse().map_err(|_| {
                    bad(format!(
                        "{key} is '{text}', not an address such as 127.0.0.1:5000"
                    ))
                })
            })
            .transpose()
    };
    info.writer_addr = address(&summary, "writer")?.unwrap_or(info.writer_addr);
    info.reader_addr = address(&summary, "reader")?.unwrap_or(info.reader_addr);
    info.outside = flag_in(&summary, "outside_peer")
        .map_err(bad)?
        .unwrap_or(false);
    info.congestion = text_in(&summary, "congestion_control")
        .map_err(bad)?
        .unwrap_or("")
        .to_string();
    let rate = |value: &Value, key: &str| -> Result<Rate, RecordingError> {
        match text_in(value, key).map_err(bad)? {
            None => Ok(Rate::Unlimited),
            Some(text) => {
                summary_rate(text).ok_or_else(|| bad(format!("{key} is '{text}', not a rate")))
            }
        }
    };
    let link = &summary["link"];
    let endpoint = if link.is_null() {
        Endpoint::Loopback
    } else if link.is_object() {
        let in_link = |what: String| bad(format!("link.{what}"));
        let delay_ms = whole_in(
            link,
            "delay_ms",
            0..=u64::from(crate::lab::link::MAX_DELAY_MS),
        )
        .map_err(in_link)?;
        let mtu = whole_in(
            link,
            "mtu",
            u64::from(crate::lab::link::MIN_MTU)..=u64::from(crate::lab::link::MAX_MTU),
        )
        .map_err(in_link)?;
        let loss = match &link["loss_percent"] {
            Value::Null => crate::lab::link::Loss::NONE,
            value => value
                .as_f64()
                .and_then(crate::lab::link::Loss::from_percent)
                .ok_or_else(|| {
                    in_link(format!(
                        "loss_percent is {}, not a percentage from 0 to 100",
                        shown(value)
                    ))
                })?,
        };
        let spec = crate::lab::link::LinkSpec {
            rate: rate(link, "rate")
                .map_err(|_| bad(format!("link.rate is {}, not a rate", shown(&link["rate"]))))?,
            // Both fit a u32: their ranges are far below.
            delay_ms: delay_ms.unwrap_or(0) as u32,
            loss,
            mtu: mtu.map_or(crate::lab::link::DEFAULT_MTU, |m| m as u32),
        };
        info.link = Some(spec);
        info.link_lacks.delay_method = match &link["delay_method"] {
            Value::Null => None,
            value => Some(
                serde_json::from_value::<crate::lab::link::DelayMethod>(value.clone()).map_err(
                    |_| {
                        in_link(format!(
                            "delay_method is {}, not \"netem\" or \"queue\"",
                            shown(value)
                        ))
                    },
                )?,
            ),
        };
        Endpoint::Link(spec)
    } else {
        return Err(bad(format!(
            "link is {}, not an object or null",
            shown(link)
        )));
    };
    match &summary["attached"] {
        Value::Null => {}
        attached @ Value::Object(_) => {
            info.attached = Some(Attached {
                followed: address(attached, "followed")?.unwrap_or(info.writer_addr),
                writer_owner: text_in(attached, "writer_program")
                    .map_err(bad)?
                    .map(String::from),
                reader_owner: text_in(attached, "reader_program")
                    .map_err(bad)?
                    .map(String::from),
            });
        }
        other => {
            return Err(bad(format!(
                "attached is {}, not an object or null",
                shown(other)
            )));
        }
    }
    let chunk = |key: &str, default: Size| {
        Ok::<_, RecordingError>(whole(key, 1..=crate::lab::MAX_CHUNK)?.map_or(default, Size))
    };
    let config = LabConfig {
        sndbuf: info.sndbuf.requested.map(Size),
        rcvbuf: info.rcvbuf.requested.map(Size),
        write_rate: rate(&summary, "write_rate")?,
        write_chunk: chunk("write_chunk", config.write_chunk)?,
        read_rate: rate(&summary, "read_rate")?,
        read_chunk: chunk("read_chunk", config.read_chunk)?,
        // In range, so it fits a u32.
        sample_hz: whole("sample_hz", 1..=u64::from(crate::lab::MAX_SAMPLE_HZ))?
            .map_or(config.sample_hz, |hz| hz as u32),
        endpoint,
        ..config
    };
    let capture = match &summary["capture"] {
        Value::Null => None,
        capture @ Value::Object(_) => {
            let clock_zero = whole_in(capture, "clock_zero_unix_ns", 0..=u64::MAX)
                .map_err(|what| bad(format!("capture.{what}")))?;
            text_in(capture, "pcap")
                .map_err(|what| bad(format!("capture.{what}")))?
                .map(|name| {
                    // A name alone is in the summary's folder.
                    let pcap = json
                        .parent()
                        .unwrap_or(Path::new("."))
                        .join(Path::new(name));
                    match clock_zero {
                        Some(zero) => Ok((pcap, zero)),
                        None => Err(NoReplay::NoClock { pcap }),
                    }
                })
        }
        other => {
            return Err(bad(format!(
                "capture is {}, not an object or null",
                shown(other)
            )));
        }
    };
    Ok(Beside {
        info,
        config,
        has_summary: true,
        capture,
    })
}

/// A summary's value as an error quotes it: its JSON, cut short.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text,
    }
}

/// `object[key]` as a whole number in `range`; None when absent or null.
fn whole_in(object: &Value, key: &str, range: RangeInclusive<u64>) -> Result<Option<u64>, String> {
    match &object[key] {
        Value::Null => Ok(None),
        value => value
            .as_u64()
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "{key} is {}, not a whole number from {} to {}",
                    shown(value),
                    range.start(),
                    range.end()
                )
            }),
    }
}

/// `object[key]` as text; None when absent or null.
fn text_in<'a>(object: &'a Value, key: &str) -> Result<Option<&'a str>, String> {
    match &object[key] {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text)),
        value => Err(format!("{key} is {}, not text", shown(value))),
    }
}

/// `object[key]` as true or false; None when absent or null.
fn flag_in(object: &Value, key: &str) -> Result<Option<bool>, String> {
    match &object[key] {
        Value::Null => Ok(None),
        Value::Bool(flag) => Ok(Some(*flag)),
        value => Err(format!("{key} is {}, not true or false", shown(value))),
    }
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
    use std::fs::File;

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

    /// `record --csv` without `--json`, opened: the rows' sndbuf_now_bytes
    /// and rcvbuf_now_bytes give the buffers' sizes (they were "of 0 B",
    /// with the queues drawn in empty vessels), the first row's being the
    /// size at the start; a row without them then falls back to it.
    #[test]
    fn a_recording_without_its_summary_takes_the_buffer_sizes_from_its_rows() {
        let dir = scratch("no-summary");
        let path = dir.join("run.csv");
        let mut written = samples();
        // Autotuning grows the send buffer after the first row.
        for s in written.iter_mut().skip(1) {
            s.sender_memory.sndbuf = 4 << 20;
        }
        write(&path, &written);
        assert!(!path.with_extension("json").exists());
        let recording = Recording::open(&path, &mut |_| {}).unwrap();
        assert!(!recording.has_summary);
        assert_eq!(recording.info.sndbuf.effective, 65536);
        assert_eq!(recording.info.rcvbuf.effective, 65536);
        let last = recording.timeline.last().unwrap();
        assert_eq!(last.sender_memory.sndbuf, 4 << 20, "each row keeps its own");
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

    /// `path` with `column` of data row `row` (0 = the first) set to `value`.
    fn set_field(path: &Path, row: usize, column: &str, value: &str) {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let at = lines[0].split(',').position(|c| c == column).unwrap();
        let mut fields: Vec<&str> = lines[row + 1].split(',').collect();
        fields[at] = value;
        lines[row + 1] = fields.join(",");
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }

    #[test]
    fn a_value_outside_its_columns_range_is_damage_not_a_clamp() {
        let dir = scratch("range");
        let path = dir.join("run.csv");
        let cases = [
            (
                "sendq_bytes",
                "99999999999999999999999",
                "not a whole number from 0 to 4294967295",
            ),
            (
                "sendq_bytes",
                "5000000000",
                "not a whole number from 0 to 4294967295",
            ),
            (
                "recvq_bytes",
                "-1",
                "not a whole number from 0 to 4294967295",
            ),
            (
                "snd_wnd_bytes",
                "1.5",
                "not a whole number from 0 to 4294967295",
            ),
            (
                "zero_window_probes",
                "256",
                "not a whole number from 0 to 255",
            ),
            (
                "written_bytes",
                "18446744073709551616",
                "not a whole number from 0 to 18446744073709551615",
            ),
            ("t_ms", "1e300", "not a time from 0 to 1000000000000 ms"),
            ("t_ms", "-0.5", "not a time from 0 to 1000000000000 ms"),
            ("t_ms", "NaN", "not a time from 0 to 1000000000000 ms"),
            ("stall_ms", "inf", "not a time from 0 to 1000000000000 ms"),
            ("link_delay_ms", "5001", "not a whole number from 0 to 5000"),
            (
                "delay_held_packets",
                "-3",
                "not a whole number from 0 to 4294967295",
            ),
        ];
        for (column, value, accepted) in cases {
            write(&path, &samples()[..5]);
            set_field(&path, 2, column, value);
            let error = Recording::open(&path, &mut |_| {}).unwrap_err().to_string();
            assert!(
                error.contains(&format!("line 4: {column} is '{value}', {accepted}")),
                "{column} = {value}: {error}"
            );
            assert!(!error.contains('\n'), "{error}");
        }
        // The largest each column holds is read as it is.
        write(&path, &samples()[..5]);
        set_field(&path, 4, "sendq_bytes", "4294967295");
        set_field(&path, 4, "written_bytes", "18446744073709551615");
        set_field(&path, 4, "t_ms", "1000000000000");
        let recording = Recording::open(&path, &mut |_| {}).unwrap();
        let last = recording.timeline.last().unwrap();
        assert_eq!(last.send_queue, u32::MAX);
        assert_eq!(last.written, u64::MAX);
        assert_eq!(last.t_ns, 1_000_000_000_000_000_000);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The delay's columns (issue 23) read back; a file from before them
    /// opens as one without a delay.
    #[test]
    fn the_delay_columns_read_back_and_older_files_open_without_them() {
        let dir = scratch("delay-columns");
        let path = dir.join("run.csv");
        let mut rows = samples()[..5].to_vec();
        for row in &mut rows {
            row.link_delay_ms = 50;
            row.delay_held_packets = 17;
        }
        write(&path, &rows);
        let recording = Recording::open(&path, &mut |_| {}).unwrap();
        let last = recording.timeline.last().unwrap();
        assert_eq!((last.link_delay_ms, last.delay_held_packets), (50, 17));
        // Cut the two columns off, as a file written before them.
        let text = std::fs::read_to_string(&path).unwrap();
        let old: String = text
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split(',').collect();
                fields[..fields.len() - 2].join(",") + "\n"
            })
            .collect();
        assert!(!old.contains("link_delay_ms"));
        std::fs::write(&path, old).unwrap();
        let recording = Recording::open(&path, &mut |_| {}).unwrap();
        let last = recording.timeline.last().unwrap();
        assert_eq!((last.link_delay_ms, last.delay_held_packets), (0, 0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_byte_order_mark_before_the_header_is_read_past() {
        let dir = scratch("bom");
        let path = dir.join("run.csv");
        let written = samples();
        write(&path, &written[..100]);
        let mut bytes = "\u{feff}".as_bytes().to_vec();
        bytes.extend(std::fs::read(&path).unwrap());
        std::fs::write(&path, bytes).unwrap();
        let recording = Recording::open(&path, &mut |_| {}).unwrap();
        assert_eq!(recording.rows, 100);
        // The index counts the mark's bytes: rows read again are whole.
        assert_eq!(recording.samples_near(0).unwrap()[..], written[..100]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_line_over_the_cap_is_refused_without_reading_it_whole() {
        let dir = scratch("long");
        let path = dir.join("run.csv");
        write(&path, &samples()[..5]);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&"7".repeat(MAX_LINE_BYTES * 4));
        text.push('\n');
        std::fs::write(&path, &text).unwrap();
        let error = Recording::open(&path, &mut |_| {}).unwrap_err().to_string();
        assert!(
            error.ends_with(", line 7: the line is longer than the 64 KiB a line may be"),
            "{error}"
        );
        // A header as long.
        std::fs::write(
            &path,
            format!("{HEADER_PREFIX}{}\n", ",x".repeat(MAX_LINE_BYTES)),
        )
        .unwrap();
        let error = Recording::open(&path, &mut |_| {}).unwrap_err().to_string();
        assert!(
            error.contains(", line 1: the line is longer than"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_summary_value_of_the_wrong_type_or_range_is_refused() {
        let dir = scratch("summary");
        let path = dir.join("run.csv");
        let json = dir.join("run.json");
        write(&path, &samples()[..5]);
        std::fs::write(
            &json,
            r#"{"effective_sndbuf": 4608, "sample_hz": 1000, "outside_peer": false,
                "link": {"rate": "256.0 KiB/s", "delay_ms": 20, "delay_method": "queue",
                         "loss_percent": 1.5, "mtu": 1500}}"#,
        )
        .unwrap();
        let recording = Recording::open(&path, &mut |_| {}).unwrap();
        assert_eq!(
            recording.info.link_lacks.delay_method,
            Some(crate::lab::link::DelayMethod::Queue)
        );
        assert!(recording.has_summary);
        assert_eq!(recording.info.sndbuf.effective, 4608);
        assert_eq!(recording.config.sample_hz, 1000);
        assert_eq!(recording.info.link.unwrap().delay_ms, 20);
        let cases = [
            (
                r#"{"effective_sndbuf": "lots"}"#,
                r#"effective_sndbuf is "lots", not a whole number from 0 to 2147483647"#,
            ),
            (
                r#"{"effective_sndbuf": -5}"#,
                "effective_sndbuf is -5, not a whole number from 0 to 2147483647",
            ),
            (
                r#"{"effective_rcvbuf": 1e30}"#,
                "effective_rcvbuf is 1e+30, not a whole number from 0 to 2147483647",
            ),
            (
                r#"{"requested_sndbuf": 0}"#,
                "requested_sndbuf is 0, not a whole number from 1 to 1073741824",
            ),
            (
                r#"{"sample_hz": 4294967297}"#,
                "sample_hz is 4294967297, not a whole number from 1 to 10000",
            ),
            (
                r#"{"read_chunk": 0}"#,
                "read_chunk is 0, not a whole number from 1 to 1073741824",
            ),
            (
                r#"{"outside_peer": "yes"}"#,
                r#"outside_peer is "yes", not true or false"#,
            ),
            (
                r#"{"writer": "here"}"#,
                "writer is 'here', not an address such as 127.0.0.1:5000",
            ),
            (r#"{"write_rate": 5}"#, "write_rate is 5, not text"),
            (
                r#"{"link": {"mtu": 10}}"#,
                "link.mtu is 10, not a whole number from 576 to 65536",
            ),
            (
                r#"{"link": {"delay_ms": 4294967296}}"#,
                "link.delay_ms is 4294967296, not a whole number from 0 to 5000",
            ),
            (
                r#"{"link": {"delay_method": "carrier pigeon"}}"#,
                "link.delay_method is \"carrier pigeon\", not \"netem\" or \"queue\"",
            ),
            (
                r#"{"link": {"loss_percent": 250}}"#,
                "link.loss_percent is 250, not a percentage from 0 to 100",
            ),
            (r#"{"link": 7}"#, "link is 7, not an object or null"),
            (
                r#"{"capture": {"pcap": "run.pcap", "clock_zero_unix_ns": -1}}"#,
                "capture.clock_zero_unix_ns is -1, not a whole number from 0 to 18446744073709551615",
            ),
            (r#"[1, 2]"#, "it is [1,2], not an object of named values"),
        ];
        for (text, what) in cases {
            std::fs::write(&json, text).unwrap();
            let error = Recording::open(&path, &mut |_| {}).unwrap_err().to_string();
            assert!(
                error.contains("the summary beside it") && error.ends_with(what),
                "{text}: {error}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
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
            error.contains("is 4294967297 bytes, over the 4294967296 bytes a recording may be"),
            "{error}"
        );
    }
}
