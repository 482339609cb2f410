//! `sockscope record`: the headless frontend. Runs one lab session for a
//! fixed time, streams every sample to CSV, and ends with a JSON summary and
//! a short report on stdout.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use crossbeam_channel::TryRecvError;
use thiserror::Error;

use crate::export::csv::SampleCsv;
use crate::export::summary::{RunFigures, Summary};
use crate::export::{AtomicFile, OutputPathError};
use crate::lab::scenario::{Change, Scenario, StepClock};
use crate::lab::units::format_bytes;
use crate::lab::{
    BufferSetting, Endpoint, EventKind, LabConfig, LabError, Sample, Session, Timeline,
};

/// Exit codes, as documented in README and `--help`.
pub mod exit {
    pub const OK: i32 = 0;
    /// The run could not be done (a socket or file error while running).
    pub const FAILED: i32 = 1;
    /// Bad input: a flag's value, or an output path that cannot be written.
    pub const USAGE: i32 = 2;
    /// The reader found a lost, duplicated, reordered or changed byte.
    pub const INTEGRITY: i32 = 3;
    /// Stopped early by Ctrl-C; outputs hold the part that ran.
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub config: LabConfig,
    pub duration: Duration,
    pub csv: Option<PathBuf>,
    pub json: Option<PathBuf>,
    /// Redraw a progress line (stdout is a terminal).
    pub progress: bool,
    /// Timed changes to apply while the run lasts.
    pub scenario: Option<Scenario>,
    /// Where each buffer size came from, for the note when the kernel
    /// adjusts it: "--sndbuf", or "pause.toml: sndbuf".
    pub buffer_sources: [String; 2],
}

#[derive(Debug, Error)]
pub enum RecordError {
    #[error("--{flag}: {source}")]
    Output {
        flag: &'static str,
        #[source]
        source: OutputPathError,
    },
    #[error("--csv and --json name the same file '{0}'; give each its own path")]
    SameOutput(String),
    #[error("{0}")]
    Lab(#[from] LabError),
    #[error("writing {path} failed: {source}")]
    Write {
        path: String,
        #[source]
        source: io::Error,
    },
}

impl RecordError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RecordError::Output { .. } | RecordError::SameOutput(_) => exit::USAGE,
            RecordError::Lab(LabError::SampleRate(_) | LabError::ChunkTooLarge(_)) => exit::USAGE,
            RecordError::Lab(_) | RecordError::Write { .. } => exit::FAILED,
        }
    }
}

/// What a finished recording produced.
#[derive(Debug, Clone)]
pub struct RecordOutcome {
    pub summary: Summary,
    pub written_files: Vec<PathBuf>,
    /// Of those, the ones that replaced a file already there (the summary
    /// says so: a file named on the command line is replaced, never
    /// silently).
    pub replaced_files: Vec<PathBuf>,
}

impl RecordOutcome {
    pub fn exit_code(&self) -> i32 {
        // An error explains lost bytes (a reset, say) better than exit 3.
        if !self.summary.errors.is_empty() {
            exit::FAILED
        } else if self.summary.integrity_ok == Some(false) {
            exit::INTEGRITY
        } else if self.summary.interrupted {
            exit::INTERRUPTED
        } else {
            exit::OK
        }
    }
}

fn write_error(path: &std::path::Path) -> impl FnOnce(io::Error) -> RecordError + '_ {
    move |source| RecordError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// Whether two output paths name the same file (`a.csv`, `./a.csv` and
/// `sub/../a.csv` do): same file name in the same real folder.
fn same_path(a: &std::path::Path, b: &std::path::Path) -> bool {
    let folder = |p: &std::path::Path| {
        let parent = p.parent().filter(|f| !f.as_os_str().is_empty());
        std::fs::canonicalize(parent.unwrap_or(std::path::Path::new("."))).ok()
    };
    a == b || (a.file_name() == b.file_name() && folder(a).is_some() && folder(a) == folder(b))
}

/// Runs a recording. `interrupt` ends it early (Ctrl-C); `notes` receives
/// the stderr lines about clamped buffers; `stdout` gets progress and the
/// summary.
pub fn record(
    options: &RecordOptions,
    interrupt: &Arc<AtomicBool>,
    stdout: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<RecordOutcome, RecordError> {
    if let (Some(csv), Some(json)) = (&options.csv, &options.json)
        && same_path(csv, json)
    {
        return Err(RecordError::SameOutput(csv.display().to_string()));
    }
    let replaced_files: Vec<PathBuf> = [&options.csv, &options.json]
        .into_iter()
        .flatten()
        .filter(|path| path.is_file())
        .cloned()
        .collect();
    // Claim the output files before anything runs: a bad path fails at once.
    let mut csv_file = options
        .csv
        .as_deref()
        .map(AtomicFile::create)
        .transpose()
        .map_err(|source| RecordError::Output {
            flag: "csv",
            source,
        })?;
    let json_file = options
        .json
        .as_deref()
        .map(AtomicFile::create)
        .transpose()
        .map_err(|source| RecordError::Output {
            flag: "json",
            source,
        })?;

    let config = options.config;
    match config.endpoint {
        Endpoint::Listen(addr) => {
            if !addr.ip().is_loopback() {
                let _ = writeln!(
                    notes,
                    "sockscope: warning: listening on {addr}, which other machines can reach."
                );
            }
            let _ = writeln!(
                notes,
                "sockscope: waiting for one client on {addr} (e.g. 'nc {} {}')...",
                addr.ip(),
                addr.port()
            );
        }
        Endpoint::Connect(addr) => {
            let _ = writeln!(notes, "sockscope: connecting to {addr}...");
        }
        Endpoint::Loopback => {}
    }
    let session = Session::start(config)?;
    let info = session.info().clone();
    let [sndbuf_source, rcvbuf_source] = &options.buffer_sources;
    for (setting, flag) in [(&info.sndbuf, sndbuf_source), (&info.rcvbuf, rcvbuf_source)] {
        if let Some(note) = setting.adjustment_note(flag) {
            let _ = writeln!(notes, "sockscope: {note}");
        }
    }

    let mut steps = options.scenario.as_ref().map(StepClock::new);
    let late = options.scenario.as_ref().map_or(0, |scenario| {
        scenario
            .steps
            .iter()
            .filter(|step| step.at > options.duration)
            .count()
    });
    if late > 0 {
        let _ = writeln!(
            notes,
            "sockscope: {late} scenario step(s) come after the {:.3} s the recording lasts and will not run.",
            options.duration.as_secs_f64()
        );
    }
    let mut csv = csv_file.as_mut().map(|file| SampleCsv::new(file.writer()));
    let mut timeline = Timeline::new();
    let mut figures = RunFigures {
        duration_s: options.duration.as_secs_f64(),
        ..RunFigures::default()
    };
    let started = Instant::now();
    let deadline = started + options.duration;
    let mut finishing = false;
    let mut last_progress = started;
    let mut previous: Option<Sample> = None;
    let mut csv_error = None;
    let mut events_shown: u64 = 0;
    loop {
        // Poll the channel a few times a second rather than wake for every
        // batch: a headless run needs no frame-rate latency, and every
        // wake-up costs the transfer being measured.
        let mut ended = false;
        loop {
            match session.samples().try_recv() {
                Ok(batch) => {
                    for sample in batch.samples {
                        if let Some(prev) = previous {
                            if prev.zero_window {
                                figures.zero_window_ns += sample.t_ns.saturating_sub(prev.t_ns);
                            }
                        } else {
                            figures.first_sample_ns = sample.t_ns;
                        }
                        figures.last_sample_ns = sample.t_ns;
                        if let Some(csv) = csv.as_mut()
                            && csv_error.is_none()
                            && let Err(e) = csv.write(&sample)
                        {
                            csv_error = Some(io::Error::other(e));
                        }
                        timeline.push(sample);
                        previous = Some(sample);
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    ended = true;
                    break;
                }
            }
        }
        // Say at once when a worker fails, and (with an outside peer) when
        // the peer closes or resets.
        // Counted over the whole run: the log drops its oldest events
        // once full, so its length alone stops growing.
        let events = timeline.events();
        let total = timeline.events_dropped() + events.len() as u64;
        let new = (total - events_shown.min(total)).min(events.len() as u64) as usize;
        for event in events.iter().skip(events.len() - new) {
            let who = match event.kind {
                EventKind::PeerClosed | EventKind::PeerReset | EventKind::WriterPeerGone
                    if config.endpoint.is_outside() =>
                {
                    "peer"
                }
                EventKind::WriterFailed | EventKind::ReaderFailed => "failure",
                _ => continue,
            };
            let _ = writeln!(
                stdout,
                "{}{who} at {:.3} s: {}",
                if options.progress { "\r\x1b[K" } else { "" },
                event.t_ns as f64 / 1e9,
                event.kind.describe()
            );
        }
        events_shown = total;
        if ended {
            break;
        }
        if let Some(clock) = steps.as_mut()
            && !finishing
        {
            let elapsed = session.elapsed();
            for step in clock.due(elapsed) {
                for change in &step.changes {
                    apply_change(&session, *change)?;
                }
                let changes: Vec<String> = step.changes.iter().map(ToString::to_string).collect();
                let _ = writeln!(
                    stdout,
                    "{}scenario at {:.3} s: {}",
                    if options.progress { "\r\x1b[K" } else { "" },
                    step.at.as_secs_f64(),
                    changes.join(", ")
                );
            }
        }
        let now = Instant::now();
        if !finishing && (now >= deadline || interrupt.load(Relaxed) || csv_error.is_some()) {
            figures.interrupted = now < deadline && interrupt.load(Relaxed);
            session.finish();
            finishing = true;
        }
        if options.progress && now.duration_since(last_progress) >= Duration::from_millis(250) {
            last_progress = now;
            let _ = write!(
                stdout,
                "\r\x1b[K{}",
                progress_line(&timeline, now - started, options.duration, finishing)
            );
            let _ = stdout.flush();
        }
        let pause = if finishing {
            Duration::from_millis(5)
        } else {
            // Wake for the deadline or the next scenario step, whichever
            // is first.
            let to_step = steps
                .as_ref()
                .and_then(StepClock::next_at)
                .map_or(Duration::MAX, |at| at.saturating_sub(session.elapsed()));
            deadline
                .saturating_duration_since(Instant::now())
                .min(to_step)
                .clamp(Duration::from_millis(1), Duration::from_millis(50))
        };
        std::thread::sleep(pause);
    }
    if options.progress {
        let _ = write!(stdout, "\r\x1b[K");
    }
    let report = session.join();
    let summary = Summary::new(&config, &info, &report, &timeline, figures);

    let csv_flushed = csv.map(SampleCsv::finish).transpose().map(drop);
    let mut written_files = Vec::new();
    if let Some(file) = csv_file {
        let path = file.path().to_owned();
        csv_error
            .map_or(csv_flushed, Err)
            .map_err(write_error(&path))?;
        written_files.push(file.commit().map_err(write_error(&path))?);
    }
    if let Some(mut file) = json_file {
        let path = file.path().to_owned();
        serde_json::to_writer_pretty(file.writer(), &summary)
            .map_err(io::Error::other)
            .and_then(|()| writeln!(file.writer()))
            .map_err(write_error(&path))?;
        written_files.push(file.commit().map_err(write_error(&path))?);
    }
    let outcome = RecordOutcome {
        summary,
        written_files,
        replaced_files,
    };
    let _ = stdout.write_all(human_summary(&outcome, &info.sndbuf, &info.rcvbuf).as_bytes());
    let _ = stdout.flush();
    Ok(outcome)
}

/// One line that fits an 80-column terminal: time, totals, queues, flags.
fn apply_change(session: &Session, change: Change) -> Result<(), RecordError> {
    match change {
        Change::ReadRate(rate) => session.set_read_rate(rate),
        Change::WriteRate(rate) => session.set_write_rate(rate),
        Change::ReadChunk(size) => session.set_read_chunk(size)?,
        Change::WriteChunk(size) => session.set_write_chunk(size)?,
    }
    Ok(())
}

fn progress_line(
    timeline: &Timeline,
    elapsed: Duration,
    duration: Duration,
    finishing: bool,
) -> String {
    let Some(s) = timeline.last() else {
        return "connecting…".into();
    };
    let mut flags = String::new();
    for (on, flag) in [
        (s.writer_blocked(), " BLOCKED"),
        (s.zero_window, " WIN=0"),
        (s.reader_paused(), " PAUSED"),
        (finishing, " draining"),
    ] {
        if on {
            flags.push_str(flag);
        }
    }
    format!(
        "{:.1}/{:.1}s sent {} read {} sendq {} recvq {}{}",
        elapsed.as_secs_f64().min(duration.as_secs_f64()),
        duration.as_secs_f64(),
        format_bytes(s.written),
        format_bytes(s.read),
        format_bytes(s.send_queue.into()),
        format_bytes(s.recv_queue.into()),
        flags
    )
}

fn describe_buffer(setting: &BufferSetting, at_end: Option<u64>) -> String {
    let requested = match setting.requested {
        None => "unset (autotuned)".to_string(),
        Some(bytes) => format!("requested {}", format_bytes(bytes)),
    };
    let mut text = format!(
        "{} {requested}, effective {}",
        setting.kind.option(),
        format_bytes(setting.effective)
    );
    if setting.clamped() {
        text.push_str(&format!(" (clamped by {})", setting.kind.sysctl()));
    }
    if let Some(end) = at_end.filter(|&end| end != setting.effective) {
        text.push_str(&format!(" at the start, {} at the end", format_bytes(end)));
    }
    text
}

/// The short report printed at the end of a run.
pub fn human_summary(
    outcome: &RecordOutcome,
    sndbuf: &BufferSetting,
    rcvbuf: &BufferSetting,
) -> String {
    let s = &outcome.summary;
    let mut out = String::new();
    let run = if s.interrupted {
        "interrupted after"
    } else {
        "recorded"
    };
    let ends = if s.integrity_ok.is_none() {
        format!("local {} <-> peer {}", s.writer, s.reader)
    } else {
        format!("writer {} -> reader {}", s.writer, s.reader)
    };
    out.push_str(&format!("sockscope: {run} {:.1} s, {ends}\n", s.elapsed_s));
    out.push_str(&format!(
        "  {}\n  {}\n",
        describe_buffer(sndbuf, s.final_sndbuf),
        describe_buffer(rcvbuf, s.final_rcvbuf)
    ));
    let integrity = if s.integrity_ok.is_none() {
        "not verified: an outside peer".to_string()
    } else if s.integrity_ok == Some(true) {
        "every byte verified".to_string()
    } else {
        match s.first_mismatch_offset {
            Some(offset) => format!("INTEGRITY FAILED: first wrong byte at stream offset {offset}"),
            None => "INTEGRITY FAILED: bytes read differ from bytes written".to_string(),
        }
    };
    out.push_str(&format!(
        "  written {}, read {} ({integrity}), {}/s\n",
        format_bytes(s.bytes_written),
        format_bytes(s.bytes_read),
        format_bytes(s.throughput_bytes_per_s as u64)
    ));
    out.push_str(&format!(
        "  writer stalls {} ({:.1} ms blocked), zero window {:.1} ms\n",
        s.stall_count, s.stall_ms, s.zero_window_ms
    ));
    out.push_str(&format!(
        "  peak send queue {}, peak receive queue {}\n",
        format_bytes(s.peak_sendq_bytes.into()),
        format_bytes(s.peak_recvq_bytes.into())
    ));
    out.push_str(&format!(
        "  {} samples at {:.1} Hz (asked {} Hz)\n",
        s.samples, s.sample_hz_achieved, s.sample_hz
    ));
    for error in &s.errors {
        out.push_str(&format!("  error: {error}\n"));
    }
    for path in &outcome.written_files {
        let replaced = if outcome.replaced_files.contains(path) {
            " (it replaced the file that was there)"
        } else {
            ""
        };
        out.push_str(&format!("  wrote {}{replaced}\n", path.display()));
    }
    out
}
