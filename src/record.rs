//! `sockscope record`: the headless frontend. Runs one lab session for a
//! fixed time, streams every sample to CSV, and ends with a JSON summary and
//! a short report on stdout.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::export::csv::SampleCsv;
use crate::export::pcap::PcapWriter;
use crate::export::summary::{CaptureSummary, RunFigures, Summary};
use crate::export::{AtomicFile, OutputPathError};
use crate::i18n::Lang;
use crate::interrupt::Interrupt;
use crate::lab::link::{LinkError, LinkLacks, Loss};
use crate::lab::scenario::{Change, Scenario, changes_text};
use crate::lab::units::format_bytes;
use crate::lab::wire::WirePacket;
use crate::lab::{
    BufferSetting, CaptureState, Endpoint, EventKind, LabConfig, LabError, SessionInfo, Timeline,
};
use crate::run::{
    AttachError, AttachSource, DRAIN_LIMIT, Notice, Phase, Run, RunError, ScenarioNote, Target,
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
    /// Where to write the wire's packets (pcap); the config then captures.
    pub pcap: Option<PathBuf>,
    /// Redraw a progress line (stdout is a terminal).
    pub progress: bool,
    /// Timed changes to apply while the run lasts.
    pub scenario: Option<Scenario>,
    /// Where each buffer size came from, for the note when the kernel
    /// adjusts it: "--sndbuf", or "pause.toml: sndbuf".
    pub buffer_sources: [String; 2],
    /// Follow another program's connection (its local address, and its
    /// peer's to pick one of several) instead of running the lab's own.
    pub attach: Option<(SocketAddr, Option<SocketAddr>)>,
}

#[derive(Debug, Error)]
pub enum RecordError {
    #[error("--{flag}: {source}")]
    Output {
        flag: &'static str,
        #[source]
        source: OutputPathError,
    },
    #[error("two of --csv, --json and --pcap name the same file '{0}'; give each its own path")]
    SameOutput(String),
    #[error("{0}")]
    Lab(#[from] LabError),
    #[error("{0}")]
    Run(RunError),
    #[error("--attach: {0}")]
    Attach(#[from] AttachError),
    #[error("stopped by Ctrl-C before the connection was made; nothing was written")]
    Interrupted,
    #[error("writing {path} failed: {source}")]
    Write {
        path: String,
        #[source]
        source: io::Error,
    },
}

impl From<RunError> for RecordError {
    fn from(error: RunError) -> Self {
        match error {
            RunError::Start(error) | RunError::Control(error) => RecordError::Lab(error),
            other => RecordError::Run(other),
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
    /// Outputs that could not be written, in words (the others were).
    pub write_errors: Vec<String>,
}

impl RecordOutcome {
    pub fn exit_code(&self) -> i32 {
        // An error explains lost bytes (a reset, say) better than exit 3.
        if !self.summary.errors.is_empty() || !self.write_errors.is_empty() {
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

/// Whether two output paths name the same file (`a.csv`, `./a.csv` and
/// `sub/../a.csv` do): same file name in the same real folder.
fn same_path(a: &std::path::Path, b: &std::path::Path) -> bool {
    let folder = |p: &std::path::Path| {
        let parent = p.parent().filter(|f| !f.as_os_str().is_empty());
        std::fs::canonicalize(parent.unwrap_or(std::path::Path::new("."))).ok()
    };
    a == b || (a.file_name() == b.file_name() && folder(a).is_some() && folder(a) == folder(b))
}

/// Runs a recording. `interrupt` ends it early (Ctrl-C), and cuts the
/// drain short when it comes during one; `notes` receives the stderr lines
/// about clamped buffers; `stdout` gets progress and the summary.
pub fn record(
    options: &RecordOptions,
    interrupt: &Interrupt,
    stdout: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<RecordOutcome, RecordError> {
    let Outputs {
        mut csv_file,
        json_file,
        mut pcap_file,
        replaced_files,
    } = Outputs::claim(options)?;
    let config = options.config;
    let mut run = Run::new(config, None);
    let info = if let Some((local, peer)) = options.attach {
        let target = Target::find(local, peer)?;
        run.watch(Box::new(AttachSource::start(
            target,
            config.sample_hz,
            None,
        )?));
        let info = run.info().cloned().expect("a watched source has its info");
        announce_attached(&info, notes);
        info
    } else {
        // A link is named once it is made, with what it could apply.
        if !matches!(config.endpoint, Endpoint::Link(_)) {
            announce(config.endpoint, notes);
        }
        run.start(config);
        if let Some(scenario) = &options.scenario {
            run.play_steps("scenario", scenario);
        }
        wait_until_connected(&mut run, interrupt)?
    };
    if let Some(scenario) = &options.scenario {
        scenario_fits(scenario, &info.link_lacks)?;
    }
    if let Some(spec) = info.link {
        announce(Endpoint::Link(spec), notes);
    }
    say_adjustments(options, &info, notes);

    if let CaptureState::Failed(sentence) = &info.capture {
        let _ = writeln!(notes, "sockscope: {sentence}.");
    }
    let mut csv = csv_file.as_mut().map(|file| SampleCsv::new(file.writer()));
    let mut csv_error = None;
    let mut wire = pcap_file.as_mut().map(WireOut::new);
    // The run's time counts from the session's start, as its samples do.
    let started = Instant::now()
        .checked_sub(run.elapsed().unwrap_or_default())
        .unwrap_or_else(Instant::now);
    let deadline = started + options.duration;
    let mut interrupted = false;
    // Signals already counted when the drain began: one more cuts it.
    let mut signals_at_finish = 0;
    // Set at the first look after the run began to finish.
    let mut drain_began: Option<Instant> = None;
    let mut drain_told = false;
    let mut last_progress = started;
    let line_start = if options.progress { "\r\x1b[K" } else { "" };
    let mut teller = Teller {
        endpoint: config.endpoint,
        peer_left: false,
    };
    loop {
        // Poll a few times a second rather than wake for every batch: a
        // headless run needs no frame-rate latency, and every wake-up costs
        // the transfer being measured.
        let pumped = run.pump_with(|sample| {
            if let Some(csv) = csv.as_mut()
                && csv_error.is_none()
                && let Err(e) = csv.write(sample)
            {
                csv_error = Some(io::Error::other(e));
            }
        });
        if let Some(wire) = wire.as_mut() {
            wire.write(run.fresh_packets());
        }
        for notice in &pumped.notices {
            if let Some(line) = teller.line(notice) {
                let _ = writeln!(stdout, "{line_start}{line}");
            }
        }
        if let Some(error) = run.take_error() {
            return Err(error.into());
        }
        if run.phase() == Phase::Ended {
            break;
        }
        let now = Instant::now();
        let signals = interrupt.count();
        // An outside peer that closed or reset has nothing more to show:
        // the run ends there, as when its time is up.
        if run.phase() == Phase::Running
            && (now >= deadline || signals > 0 || csv_error.is_some() || teller.peer_left)
        {
            interrupted = now < deadline && signals > 0;
            signals_at_finish = signals;
            run.finish();
        } else if run.phase() == Phase::Finishing && signals > signals_at_finish {
            interrupted = true;
            run.stop_now();
        }
        let finishing = run.phase() == Phase::Finishing;
        let drain_age = if finishing {
            now.duration_since(*drain_began.get_or_insert(now))
        } else {
            Duration::ZERO
        };
        if !drain_told && drain_age >= DRAIN_TOLD_AFTER {
            // A drain this long has bytes stuck on the way: say what it
            // waits for, and how to stop it.
            drain_told = true;
            let unread = run
                .timeline()
                .last()
                .map_or(0, |s| s.written.saturating_sub(s.read));
            let _ = writeln!(
                notes,
                "{line_start}sockscope: reading what is still on its way ({} unread); at most {} s more, Ctrl-C stops now.",
                format_bytes(unread),
                DRAIN_LIMIT.saturating_sub(drain_age).as_secs_f64().ceil()
            );
        }
        if options.progress && now.duration_since(last_progress) >= Duration::from_millis(250) {
            last_progress = now;
            let _ = write!(
                stdout,
                "\r\x1b[K{}",
                progress_line(run.timeline(), now - started, options.duration, finishing)
            );
            let _ = stdout.flush();
        }
        std::thread::sleep(pause(&run, deadline));
    }
    if options.progress {
        let _ = write!(stdout, "\r\x1b[K");
    }
    let Some(report) = run.report() else {
        unreachable!("an ended run has its report");
    };
    let figures = run.figures();
    let mut summary = Summary::new(
        &config,
        &info,
        report,
        run.timeline(),
        RunFigures {
            duration_s: options.duration.as_secs_f64(),
            interrupted,
            zero_window_ns: figures.zero_window_ns,
            drain_cut: run.drain_cut(),
        },
    );

    // The pump that saw the session end brought the capture's last packets.
    if config.capture {
        let pcap = options
            .pcap
            .as_deref()
            .map(|pcap| crate::export::summary::path_from_summary(options.json.as_deref(), pcap));
        summary.capture = Some(CaptureSummary::of(&run, &info, pcap));
    }
    let wire_done = wire.map(WireOut::finish);
    let csv_flushed = csv.map(SampleCsv::finish).transpose().map(drop);
    let csv_done = csv_error.map_or(csv_flushed, Err);
    // Each output on its own: one that fails takes no other with it.
    let mut commits = Commits::default();
    if let Some(file) = csv_file {
        commits.commit(file, csv_done);
    }
    if let Some(mut file) = json_file {
        let written = serde_json::to_writer_pretty(file.writer(), &summary)
            .map_err(io::Error::other)
            .and_then(|()| writeln!(file.writer()));
        commits.commit(file, written);
    }
    if let (Some(file), Some(done)) = (pcap_file, wire_done) {
        commits.commit(file, done);
    }
    let outcome = RecordOutcome {
        summary,
        written_files: commits.written,
        replaced_files,
        write_errors: commits.failed,
    };
    let _ = stdout.write_all(human_summary(&outcome, &info.sndbuf, &info.rcvbuf).as_bytes());
    let _ = stdout.flush();
    Ok(outcome)
}

/// The output files, claimed before anything runs so a bad path fails at
/// once, and which of them replace a file already there.
struct Outputs {
    csv_file: Option<AtomicFile>,
    json_file: Option<AtomicFile>,
    pcap_file: Option<AtomicFile>,
    replaced_files: Vec<PathBuf>,
}

impl Outputs {
    fn claim(options: &RecordOptions) -> Result<Outputs, RecordError> {
        let outputs = [&options.csv, &options.json, &options.pcap];
        let named: Vec<&PathBuf> = outputs.into_iter().flatten().collect();
        for (i, a) in named.iter().enumerate() {
            if let Some(b) = named[i + 1..].iter().find(|b| same_path(a, b)) {
                return Err(RecordError::SameOutput(b.display().to_string()));
            }
        }
        let replaced_files = outputs
            .into_iter()
            .flatten()
            .filter(|path| path.is_file())
            .cloned()
            .collect();
        let claim = |path: &Option<PathBuf>, flag| {
            path.as_deref()
                .map(AtomicFile::create)
                .transpose()
                .map_err(|source| RecordError::Output { flag, source })
        };
        Ok(Outputs {
            csv_file: claim(&options.csv, "csv")?,
            json_file: claim(&options.json, "json")?,
            pcap_file: claim(&options.pcap, "pcap")?,
            replaced_files,
        })
    }
}

/// The wire's packets on their way to the pcap file.
struct WireOut<'a> {
    pcap: Result<PcapWriter<&'a mut std::io::BufWriter<std::fs::File>>, io::Error>,
}

impl<'a> WireOut<'a> {
    fn new(file: &'a mut AtomicFile) -> Self {
        WireOut {
            pcap: PcapWriter::new(file.writer()),
        }
    }

    /// Writes the packets a pump brought.
    fn write(&mut self, packets: &[WirePacket]) {
        for packet in packets {
            if let Ok(pcap) = &mut self.pcap
                && let Err(e) = pcap.write(packet)
            {
                self.pcap = Err(e);
            }
        }
    }

    fn finish(self) -> io::Result<()> {
        self.pcap.and_then(|mut pcap| pcap.flush())
    }
}

/// The outputs made whole, and the ones that could not be.
#[derive(Default)]
struct Commits {
    written: Vec<PathBuf>,
    failed: Vec<String>,
}

impl Commits {
    /// Puts `file` in place if everything was `written` to it.
    fn commit(&mut self, file: AtomicFile, written: io::Result<()>) {
        let path = file.path().to_owned();
        match written.and_then(|()| file.commit()) {
            Ok(path) => self.written.push(path),
            Err(source) => self.failed.push(
                RecordError::Write {
                    path: path.display().to_string(),
                    source,
                }
                .to_string(),
            ),
        }
    }
}

/// Notes on stderr: a buffer size the kernel changed, and scenario steps
/// that come too late to run.
fn say_adjustments(options: &RecordOptions, info: &SessionInfo, notes: &mut dyn Write) {
    let [sndbuf_source, rcvbuf_source] = &options.buffer_sources;
    for (setting, flag) in [(&info.sndbuf, sndbuf_source), (&info.rcvbuf, rcvbuf_source)] {
        if let Some(note) = setting.adjustment_note(flag) {
            let _ = writeln!(notes, "sockscope: {note}");
        }
    }
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
}

/// Names the connection being followed, and which end is which, on stderr.
fn announce_attached(info: &SessionInfo, notes: &mut dyn Write) {
    let Some(attached) = &info.attached else {
        return;
    };
    let program = |owner: &Option<String>| {
        owner
            .as_ref()
            .map_or_else(String::new, |o| format!(" ({o})"))
    };
    let ends = if info.outside {
        format!(
            "{}{} <-> {} on another machine",
            info.writer_addr,
            program(&attached.writer_owner),
            info.reader_addr
        )
    } else {
        format!(
            "sender {}{} -> receiver {}{}",
            info.writer_addr,
            program(&attached.writer_owner),
            info.reader_addr,
            program(&attached.reader_owner)
        )
    };
    let _ = writeln!(
        notes,
        "sockscope: watching {ends}, read-only, until it closes or the time is up."
    );
}

/// Says where the connection will come from, on stderr.
fn announce(endpoint: Endpoint, notes: &mut dyn Write) {
    match endpoint {
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
        Endpoint::Link(spec) => {
            let mut shaping = String::new();
            if spec.rate != crate::lab::Rate::Unlimited {
                shaping += &format!(", {}", spec.rate);
            }
            if spec.delay_ms > 0 {
                shaping += &format!(", {} ms delay", spec.delay_ms);
            }
            if spec.loss != Loss::NONE {
                shaping += &format!(", {} loss", spec.loss);
            }
            let _ = writeln!(
                notes,
                "sockscope: on a private link (a network namespace of its own, MTU {}{shaping}).",
                spec.mtu
            );
        }
        Endpoint::Loopback => {}
    }
}

/// A drain longer than this is told on stderr.
const DRAIN_TOLD_AFTER: Duration = Duration::from_millis(500);

/// How often a start in progress is looked at.
const CONNECT_POLL: Duration = Duration::from_millis(10);

/// Waits for the run's connection; Ctrl-C stops a wait for an outside peer.
/// Refuses, before a sample is kept, a scenario whose steps change what
/// this kernel cannot (a delay without netem): exit 2, as for the flag.
fn scenario_fits(scenario: &Scenario, lacks: &LinkLacks) -> Result<(), RecordError> {
    let wants = |pick: fn(&Change) -> bool| {
        scenario
            .steps
            .iter()
            .flat_map(|step| &step.changes)
            .any(pick)
    };
    let delay = wants(|c| matches!(c, Change::LinkDelay(ms) if *ms > 0));
    let loss = wants(|c| matches!(c, Change::LinkLoss(loss) if *loss != Loss::NONE));
    let lacking = [(delay, &lacks.delay), (loss, &lacks.loss)]
        .into_iter()
        .find_map(|(wanted, sentence)| sentence.as_ref().filter(|_| wanted));
    match lacking {
        Some(sentence) => Err(RecordError::Lab(LabError::Link(LinkError::Unavailable(
            format!("--scenario: {sentence}"),
        )))),
        None => Ok(()),
    }
}

fn wait_until_connected(run: &mut Run, interrupt: &Interrupt) -> Result<SessionInfo, RecordError> {
    loop {
        // Only the start: its samples wait in their channel for the loop
        // that streams every one of them to the CSV.
        if let Some(info) = run.poll_start() {
            return Ok(info.clone());
        }
        if let Some(error) = run.take_error() {
            return Err(error.into());
        }
        if interrupt.raised() {
            run.cancel();
            return Err(RecordError::Interrupted);
        }
        std::thread::sleep(CONNECT_POLL);
    }
}

/// Sleeps until the deadline or the next scenario step, whichever is
/// first; briefly while draining.
fn pause(run: &Run, deadline: Instant) -> Duration {
    if run.phase() != Phase::Running {
        return Duration::from_millis(5);
    }
    let to_step = run
        .next_step_at()
        .zip(run.elapsed())
        .map_or(Duration::MAX, |(at, elapsed)| at.saturating_sub(elapsed));
    deadline
        .saturating_duration_since(Instant::now())
        .min(to_step)
        .clamp(Duration::from_millis(1), Duration::from_millis(50))
}

/// The log lines `record` prints as the run goes: a scenario step, a
/// failed worker, and (with an outside peer) the peer leaving, once: its
/// close or reset can show on both the reader's and the writer's side, and
/// the first says what happened.
struct Teller {
    endpoint: Endpoint,
    peer_left: bool,
}

impl Teller {
    fn line(&mut self, notice: &Notice) -> Option<String> {
        match notice {
            Notice::ScenarioStep(ScenarioNote::Step { at, changes, .. }) => Some(format!(
                "scenario at {:.3} s: {}",
                at.as_secs_f64(),
                changes_text(changes)
            )),
            Notice::ScenarioStep(ScenarioNote::Started(_)) => None,
            Notice::Event(event) => {
                let who = match event.kind {
                    EventKind::PeerClosed | EventKind::PeerReset | EventKind::WriterPeerGone
                        if self.endpoint.is_outside() =>
                    {
                        if std::mem::replace(&mut self.peer_left, true) {
                            return None;
                        }
                        "peer"
                    }
                    EventKind::WriterFailed | EventKind::ReaderFailed => "failure",
                    EventKind::ConnectionClosed => "closed",
                    EventKind::DelayStopped | EventKind::DelayFellBehind => "link",
                    _ => return None,
                };
                Some(format!(
                    "{who} at {:.3} s: {}",
                    event.t_ns as f64 / 1e9,
                    event.kind.describe(Lang::En)
                ))
            }
        }
    }
}

/// One line that fits an 80-column terminal: time, totals, queues, flags.
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
        // Another program's socket: whether it set the size is not
        // visible from outside.
        None if !setting.origin_known => "(set by its program or autotuned)".to_string(),
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
    let ends = if let Some(attached) = &s.attached {
        let closed = if attached.closed {
            ", until it closed"
        } else {
            ""
        };
        format!(
            "another program's connection {} -> {}{closed}",
            s.writer, s.reader
        )
    } else if s.outside_peer {
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
    let integrity = if s.attached.is_some() {
        "not verified: another program's bytes".to_string()
    } else if s.outside_peer {
        "not verified: an outside peer".to_string()
    } else if let Some(cut) = &s.drain_cut {
        format!(
            "{} not verified: the drain was cut short after {:.1} s, {}",
            format_bytes(cut.unread_bytes),
            cut.after_s,
            cut.reason
        )
    } else if s.integrity_ok.is_none() {
        "not verified: the run failed".to_string()
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
    if let Some(speed) = &s.speed_limit {
        out.push_str(&format!(
            "  speed: {} ({}). {}\n",
            speed.formula,
            crate::speed_words::measured(speed.measured_bytes_per_s, Lang::En),
            speed.reason
        ));
    }
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
    for error in s.errors.iter().chain(&outcome.write_errors) {
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
