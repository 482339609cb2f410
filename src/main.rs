//! sockscope: see what send() and recv() really do to a TCP connection's
//! kernel buffers.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use sockscope::gui::{self, GuiOptions, Lang, Panel};
use sockscope::interrupt::Interrupt;
use sockscope::lab::config::{DEFAULT_SAMPLE_HZ, MAX_SAMPLE_HZ, check_chunk, check_sample_hz};
use sockscope::lab::congestion::Congestion;
use sockscope::lab::link::{self, LinkSpec, Loss};
use sockscope::lab::units::{self, ParseError};
use sockscope::lab::{Endpoint, LabConfig, Preset, Rate, Size, scenario};
use sockscope::record::{RecordOptions, exit, record};
use sockscope::run::Target;

const EXIT_CODES: &str = "Exit codes: 0 ok; 1 the run failed; 2 bad input (a flag's value or an \
output path); 3 the reader found a lost or changed byte; 130 stopped by Ctrl-C or SIGTERM (outputs hold the part that ran; a second Ctrl-C quits at once); 101 an internal error (a bug: please report it).";

#[derive(Parser, Debug)]
#[command(
    name = "sockscope",
    version,
    about = "Make a TCP connection's kernel buffers visible: what send() and recv() really do.",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    window: WindowArgs,
}

/// With no subcommand, sockscope opens its window.
#[derive(Args, Debug)]
struct WindowArgs {
    /// Start from a preset: balanced, slow-reader, paused-reader, slow-link (a private link of 256 KiB/s) or long-link (10 MiB/s, 50 ms each way).
    #[arg(long, value_name = "NAME", value_parser = parse_preset)]
    preset: Option<Preset>,
    /// Interface language: en or zh (default: the saved choice, else the system locale).
    #[arg(long, value_name = "LANG", value_parser = parse_lang)]
    lang: Option<Lang>,
    /// Write a PNG of the whole window to FILE after --quit-after seconds (default 3), then exit.
    #[arg(long, value_name = "FILE")]
    screenshot: Option<PathBuf>,
    /// Close the window after SECS seconds (with --screenshot: take it then).
    #[arg(long, value_name = "SECS", value_parser = parse_duration, allow_hyphen_values = true)]
    quit_after: Option<Duration>,
    /// Folder for exports (S / Ctrl+S). Default: ~/sockscope-exports.
    #[arg(long, value_name = "DIR")]
    export_dir: Option<PathBuf>,
    /// Start in projector mode (large text, light high-contrast theme).
    #[arg(long)]
    projector: bool,
    /// Open a window at start: server (thread per client, G), steps (T),
    /// messages (M), info (I), wire (the packets on a private link, W) or
    /// connections (every TCP connection on the machine, N).
    #[arg(long, value_name = "WINDOW", value_parser = parse_panel)]
    open: Option<Panel>,
    #[command(flatten)]
    peer: PeerArgs,
}

/// An outside peer instead of sockscope's own loopback pair; the window
/// and `record` take the same two flags.
#[derive(Args, Debug)]
struct PeerArgs {
    /// Wait for one outside TCP client (nc, socat, the lesson's Python
    /// client) on ADDR:PORT (or just PORT, on 127.0.0.1) and watch that
    /// connection: sockscope's one socket sends with the writer settings
    /// and reads with the reader settings; bytes are not verified.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint, conflicts_with = "connect")]
    listen: Option<SocketAddr>,
    /// Connect to an outside TCP server at ADDR:PORT (or PORT on 127.0.0.1)
    /// and watch that connection, as with --listen.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint)]
    connect: Option<SocketAddr>,
    /// Run sockscope's own writer and reader over a private link (the
    /// loopback of a network namespace of their own, no root needed where
    /// the system allows unprivileged user namespaces), MTU 1500.
    #[arg(long, conflicts_with_all = ["listen", "connect"])]
    link: bool,
    /// The private link's MTU in bytes, 576 to 65536 (implies --link).
    #[arg(long, value_name = "BYTES", value_parser = parse_mtu, allow_hyphen_values = true, conflicts_with_all = ["listen", "connect"])]
    mtu: Option<u32>,
    /// The private link's rate, 8K/s to max (a token bucket at the
    /// bottleneck; implies --link).
    #[arg(long, value_name = "RATE", value_parser = parse_link_rate, allow_hyphen_values = true, conflicts_with_all = ["listen", "connect"])]
    link_rate: Option<Rate>,
    /// Every packet's one-way delay on the private link in ms, 0 to 5000
    /// (netem, where the kernel has it; implies --link).
    #[arg(long, value_name = "MS", value_parser = parse_delay, allow_hyphen_values = true, conflicts_with_all = ["listen", "connect"])]
    link_delay: Option<u32>,
    /// The share of packets the private link drops at random, in percent,
    /// 0 to 100 (nf_tables; implies --link).
    #[arg(long, value_name = "PERCENT", value_parser = parse_loss, allow_hyphen_values = true, conflicts_with_all = ["listen", "connect"])]
    link_loss: Option<Loss>,
    /// Watch another program's TCP connection on this machine instead,
    /// read-only: the one whose local address is ADDR:PORT (or PORT on
    /// 127.0.0.1). `sockscope connections` lists them.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint, conflicts_with_all = ["listen", "connect", "link", "mtu", "link_rate", "link_delay", "link_loss"])]
    attach: Option<SocketAddr>,
    /// With --attach: the connection's peer address, to pick one of
    /// several connections from the same local address.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint, requires = "attach")]
    peer: Option<SocketAddr>,
}

impl PeerArgs {
    fn endpoint(&self) -> Endpoint {
        match (self.listen, self.connect) {
            (Some(addr), _) => Endpoint::Listen(addr),
            (None, Some(addr)) => Endpoint::Connect(addr),
            (None, None)
                if self.link
                    || self.mtu.is_some()
                    || self.link_rate.is_some()
                    || self.link_delay.is_some()
                    || self.link_loss.is_some() =>
            {
                Endpoint::Link(LinkSpec {
                    mtu: self.mtu.unwrap_or(link::DEFAULT_MTU),
                    rate: self.link_rate.unwrap_or(Rate::Unlimited),
                    delay_ms: self.link_delay.unwrap_or(0),
                    loss: self.link_loss.unwrap_or(Loss::NONE),
                })
            }
            (None, None) => Endpoint::Loopback,
        }
    }
}

fn parse_congestion(text: &str) -> Result<Congestion, String> {
    Congestion::parse(text).map_err(|e| e.to_string())
}

fn parse_link_rate(text: &str) -> Result<Rate, String> {
    let rate = Rate::parse(text).map_err(|e| e.to_string())?;
    link::check_link_rate(rate).map_err(|e| format!("{e}, e.g. 1M/s"))
}

fn parse_delay(text: &str) -> Result<u32, String> {
    let number = text.trim();
    let number = number.strip_suffix("ms").unwrap_or(number).trim();
    match number.parse::<u32>().ok().map(link::check_delay) {
        Some(Ok(ms)) => Ok(ms),
        _ => Err(format!(
            "'{}' is not a delay; use a whole number of milliseconds from 0 to {}, e.g. 50",
            text.escape_debug(),
            link::MAX_DELAY_MS
        )),
    }
}

fn parse_loss(text: &str) -> Result<Loss, String> {
    Loss::parse(text).map_err(|e| e.to_string())
}

fn parse_mtu(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>().ok().map(link::check_mtu) {
        Some(Ok(mtu)) => Ok(mtu),
        _ => Err(format!(
            "'{}' is not an MTU; use a whole number of bytes from {} to {}, e.g. 1500",
            text.escape_debug(),
            link::MIN_MTU,
            link::MAX_MTU
        )),
    }
}

fn parse_panel(text: &str) -> Result<Panel, String> {
    Panel::parse(text).ok_or_else(|| {
        format!(
            "'{}' is not a window; use {}",
            text.escape_debug(),
            Panel::NAMES
        )
    })
}

fn parse_preset(text: &str) -> Result<Preset, String> {
    Preset::parse(text).ok_or_else(|| {
        format!(
            "'{}' is not a preset; use one of {}",
            text.escape_debug(),
            Preset::names()
        )
    })
}

fn parse_lang(text: &str) -> Result<Lang, String> {
    Lang::parse(text)
        .ok_or_else(|| format!("'{}' is not a language; use en or zh", text.escape_debug()))
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a real loopback connection headless and record its buffers.
    #[command(after_help = EXIT_CODES)]
    Record(Box<RecordArgs>),
    /// List every TCP connection on this machine (this network namespace)
    /// with its queues and memory, most queued first.
    Connections(ConnectionsArgs),
    /// Play a recorded run back in the window: a CSV from `record --csv`
    /// or the window's export, with the JSON summary beside it (same name,
    /// .json) for the run's settings.
    Open(OpenArgs),
}

#[derive(Args, Debug)]
struct OpenArgs {
    /// The recording (CSV). Without one (a launcher with no file chosen)
    /// the window opens as `sockscope` alone does.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Start at this moment, in seconds from the recording's first sample.
    #[arg(long, value_name = "SECS", value_parser = parse_moment, allow_hyphen_values = true)]
    at: Option<Duration>,
    /// Interface language: en or zh.
    #[arg(long, value_name = "LANG", value_parser = parse_lang)]
    lang: Option<Lang>,
    /// Write a PNG of the whole window to FILE after --quit-after seconds (default 3), then exit.
    #[arg(long, value_name = "FILE")]
    screenshot: Option<PathBuf>,
    /// Close the window after SECS seconds (with --screenshot: take it then).
    #[arg(long, value_name = "SECS", value_parser = parse_duration, allow_hyphen_values = true)]
    quit_after: Option<Duration>,
    /// Start in projector mode (large text, light high-contrast theme).
    #[arg(long)]
    projector: bool,
    /// Open a window at start, as `sockscope --open` does: wire (the
    /// recording's packets, replayed from the pcap its summary names), info…
    #[arg(long, value_name = "WINDOW", value_parser = parse_panel)]
    open: Option<Panel>,
    /// Draw the recording from --from to --to into an animation at --fps
    /// frames a second (one frame a moment, none dropped), then exit: a
    /// GIF (OUT.gif) or an animated PNG in full colour (OUT.png, OUT.apng).
    #[arg(long, visible_alias = "export-apng", value_name = "OUT", requires = "file", conflicts_with_all = ["screenshot", "quit_after", "at"])]
    export_gif: Option<PathBuf>,
    /// With --export-gif: where the animation starts, seconds from the
    /// recording's first sample (default 0).
    #[arg(long, value_name = "SECS", value_parser = parse_moment, allow_hyphen_values = true, requires = "export_gif")]
    from: Option<Duration>,
    /// With --export-gif: where it ends (default: the recording's end).
    #[arg(long, value_name = "SECS", value_parser = parse_moment, allow_hyphen_values = true, requires = "export_gif")]
    to: Option<Duration>,
    /// With --export-gif: frames a second, 1 to 50.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=50), requires = "export_gif")]
    fps: u32,
    /// With --export-gif: what to draw, the whole window (the picture, the
    /// caption and the timeline) or the timeline panel alone.
    #[arg(long, value_name = "PART", default_value = "window", value_parser = ["window", "timeline"], requires = "export_gif")]
    gif_of: String,
}

/// A moment in a recording: seconds from its first sample, 0 or more.
fn parse_moment(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|secs| secs.is_finite() && (0.0..=1e9).contains(secs))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            format!(
                "'{}' is not a moment; use seconds from the recording's start, 0 or more, e.g. 0 or 12.5",
                text.escape_debug()
            )
        })
}

/// The animation's plan, checked: a .gif, .png or .apng in an existing
/// folder, a span inside the recording, at most MAX_FRAMES frames.
fn gif_plan(
    args: &OpenArgs,
    out: &std::path::Path,
    span: (u64, u64),
) -> Result<gui::animation::AnimationPlan, String> {
    let shown = out.display();
    let Some(format) = gui::animation::Format::of(out) else {
        return Err(format!(
            "--export-gif: '{shown}' does not end in .gif, .png or .apng; give a file such as \
             lesson.gif (a GIF) or lesson.png (an animated PNG)"
        ));
    };
    if let Some(folder) = out.parent().filter(|f| !f.as_os_str().is_empty())
        && !folder.is_dir()
    {
        return Err(format!(
            "--export-gif: the folder of '{shown}' does not exist; give a path in an existing folder"
        ));
    }
    let (first, last) = span;
    let length = last - first;
    let from = args.from.map_or(0, |d| d.as_nanos() as u64);
    let to = args.to.map_or(length, |d| d.as_nanos() as u64);
    if from >= to || to > length {
        return Err(format!(
            "--from {:.3} and --to {:.3} must be a span inside the recording, 0 to {:.3} s",
            from as f64 / 1e9,
            to as f64 / 1e9,
            length as f64 / 1e9
        ));
    }
    let plan = gui::animation::AnimationPlan {
        path: out.to_owned(),
        format,
        from_ns: first + from,
        to_ns: first + to,
        fps: args.fps,
        timeline_only: args.gif_of == "timeline",
    };
    if plan.frames() > gui::animation::MAX_FRAMES {
        return Err(format!(
            "--export-gif: {} frames is more than {}; shorten --from..--to or lower --fps",
            plan.frames(),
            gui::animation::MAX_FRAMES
        ));
    }
    Ok(plan)
}

/// Opens a recording (with a progress line on a terminal) and plays it in
/// the window.
fn run_open(args: OpenArgs) -> ExitCode {
    if let Some(path) = &args.screenshot
        && let Err(err) = check_png_target(path)
    {
        eprintln!("sockscope: --screenshot: {err}.");
        return ExitCode::from(exit::USAGE as u8);
    }
    let Some(file) = args.file.clone() else {
        let scripted = args.screenshot.is_some() || args.quit_after.is_some();
        return run_gui(GuiOptions {
            lang: args.lang,
            screenshot: args.screenshot,
            quit_after: args.quit_after,
            projector: args.projector,
            persist: !scripted,
            open: args.open,
            ..GuiOptions::default()
        });
    };
    let terminal = std::io::stderr().is_terminal();
    let name = file.display().to_string();
    let opened = sockscope::export::recording::Recording::open(&file, &mut |share| {
        if terminal {
            eprint!("\rsockscope: reading {name}: {:.0} %", share * 100.0);
        }
    });
    if terminal {
        eprint!("\r\x1b[K");
    }
    let recording = match opened {
        Ok(recording) => recording,
        Err(err) => {
            eprintln!("sockscope: open: {err}.");
            return ExitCode::from(exit::USAGE as u8);
        }
    };
    if let Some(at) = args.at {
        let (first, last) = recording.span();
        let span = Duration::from_nanos(last - first);
        if at > span {
            eprintln!(
                "sockscope: open: --at {:.3} is past the recording's end ({:.3} s); give 0 to {:.3}.",
                at.as_secs_f64(),
                span.as_secs_f64(),
                span.as_secs_f64()
            );
            return ExitCode::from(exit::USAGE as u8);
        }
    }
    let gif = match &args.export_gif {
        Some(out) => match gif_plan(&args, out, recording.span()) {
            Ok(plan) => Some(plan),
            Err(err) => {
                eprintln!("sockscope: open: {err}.");
                return ExitCode::from(exit::USAGE as u8);
            }
        },
        None => None,
    };
    let exporting = gif.is_some();
    let options = GuiOptions {
        lang: args.lang,
        screenshot: args.screenshot,
        quit_after: args.quit_after,
        projector: args.projector,
        persist: false,
        recording: Some(Arc::new(recording)),
        at: args.at,
        open: args.open,
        gif,
        ..GuiOptions::default()
    };
    if !exporting {
        return run_gui(options);
    }
    match gui::run(options) {
        Ok(Some(path)) => {
            println!("animation saved to {}", path.display());
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(err) => gui_failed(&err),
    }
}

/// A window that failed: one sentence, and exit 1 (130 for a signal).
fn gui_failed(err: &gui::GuiError) -> ExitCode {
    eprintln!("sockscope: {err}.");
    let code = match err {
        gui::GuiError::Interrupted => exit::INTERRUPTED,
        _ => exit::FAILED,
    };
    ExitCode::from(code as u8)
}

/// Runs the window; a screenshot's path is printed, a failure is one
/// sentence and exit 1.
fn run_gui(options: GuiOptions) -> ExitCode {
    match gui::run(options) {
        Ok(Some(path)) => {
            println!("screenshot saved to {}", path.display());
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(err) => gui_failed(&err),
    }
}

#[derive(Args, Debug)]
struct ConnectionsArgs {
    /// One JSON array instead of a table.
    #[arg(long)]
    json: bool,
    /// Only connections with this port at either end.
    #[arg(long, value_name = "N", value_parser = parse_port, allow_hyphen_values = true)]
    port: Option<u16>,
    /// Only connections in this state (ss's names: established, listen,
    /// time-wait, close-wait, syn-sent, ...).
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    state: Option<&'static str>,
    /// Only connections with this IP address at either end (IPv4 or IPv6;
    /// an IPv4 address also finds it on dual-stack sockets, ::ffff:...).
    #[arg(long, value_name = "IP", value_parser = parse_ip)]
    address: Option<std::net::IpAddr>,
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "'{}' is not a port; use a number from 0 to 65535, e.g. 9090",
            text.escape_debug()
        )
    })
}

fn parse_ip(text: &str) -> Result<std::net::IpAddr, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "'{}' is not an IP address; use one such as 127.0.0.1 or ::1",
            text.escape_debug()
        )
    })
}

/// A TCP state as ss and netstat name it, in any case, - or _.
fn parse_state(text: &str) -> Result<&'static str, String> {
    let wanted = text.trim().to_ascii_uppercase().replace('-', "_");
    const STATES: [&str; 11] = [
        "ESTABLISHED",
        "SYN_SENT",
        "SYN_RECV",
        "FIN_WAIT1",
        "FIN_WAIT2",
        "TIME_WAIT",
        "CLOSE",
        "CLOSE_WAIT",
        "LAST_ACK",
        "LISTEN",
        "CLOSING",
    ];
    STATES.into_iter().find(|s| *s == wanted).ok_or_else(|| {
        format!(
            "'{}' is not a TCP state; use one of {}",
            text.escape_debug(),
            STATES.join(", ").to_ascii_lowercase().replace('_', "-")
        )
    })
}

fn run_connections(args: ConnectionsArgs) -> ExitCode {
    let all = match sockscope::lab::diag::connections() {
        Ok(all) => all,
        Err(e) => {
            eprintln!(
                "sockscope: connections: the kernel's socket list (sock_diag) could not be read: {e}."
            );
            return ExitCode::from(exit::FAILED as u8);
        }
    };
    let shown: Vec<_> = all
        .into_iter()
        .filter(|c| {
            args.port
                .is_none_or(|p| c.local.port() == p || c.peer.port() == p)
        })
        .filter(|c| args.state.is_none_or(|s| c.state == s))
        .filter(|c| {
            args.address.is_none_or(|ip| {
                let ip = ip.to_canonical();
                c.local.ip().to_canonical() == ip || c.peer.ip().to_canonical() == ip
            })
        })
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&shown).unwrap_or_else(|_| "[]".into())
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "{:<12} {:<47} {:<47} {:>9} {:>9} {:>19} {:>19} {:>10}  OWNER",
        "STATE", "LOCAL", "PEER", "RECV-Q", "SEND-Q", "RMEM/RCVBUF", "WMEM/SNDBUF", "WINDOW"
    );
    for c in &shown {
        let memory = |pick: fn(&sockscope::lab::diag::SocketMemory) -> (u32, u32)| {
            c.memory.map_or_else(String::new, |m| {
                let (used, limit) = pick(&m);
                format!(
                    "{}/{}",
                    units::format_bytes(u64::from(used)),
                    units::format_bytes(u64::from(limit))
                )
            })
        };
        let window = c
            .snd_wnd
            .map_or_else(String::new, |w| units::format_bytes(u64::from(w)));
        let owner = c.owner_text(Lang::En);
        // A listener's queues count connections: the accept queue, and
        // its backlog in brackets.
        let (recv_q, send_q) = if c.tcp_state == sockscope::lab::probe::TcpState::Listen {
            (c.recv_q.to_string(), format!("({})", c.send_q))
        } else {
            (c.recv_q.to_string(), c.send_q.to_string())
        };
        println!(
            "{:<12} {:<47} {:<47} {:>9} {:>9} {:>19} {:>19} {:>10}  {owner}",
            c.state,
            c.local.to_string(),
            c.peer.to_string(),
            recv_q,
            send_q,
            memory(|m| (m.rmem_alloc, m.rcvbuf)),
            memory(|m| (m.wmem_queued, m.sndbuf)),
            window,
        );
    }
    ExitCode::SUCCESS
}

fn parse_duration(text: &str) -> Result<Duration, ParseError> {
    units::parse_seconds(text)
}

/// A send(data) or recv(bufsize) size: a SIZE up to 1G.
fn parse_chunk(text: &str) -> Result<Size, String> {
    let size = Size::parse(text).map_err(|e| e.to_string())?;
    // Size::parse refuses 0; the core's check is then only the ceiling.
    check_chunk(size).map_err(|_| {
        format!("'{text}' is too large; a send() or recv() size goes up to 1G, e.g. 128K")
    })?;
    Ok(size)
}

fn parse_sample_hz(text: &str) -> Result<u32, String> {
    let hz = text.trim().parse::<u32>().ok();
    match hz.map(check_sample_hz) {
        Some(Ok(hz)) => Ok(hz),
        _ => Err(format!(
            "'{}' is not a sample rate; use a whole number of samples per second from 1 to {MAX_SAMPLE_HZ}",
            text.escape_debug()
        )),
    }
}

#[derive(Args, Debug)]
struct RecordArgs {
    /// How long to run, in seconds (e.g. 5 or 2.5).
    #[arg(long, value_name = "SECS", value_parser = parse_duration, allow_hyphen_values = true)]
    duration: Duration,
    /// SO_SNDBUF to request on the writer (bytes, or K/M/G x1024). Unset: kernel autotuning.
    #[arg(
        long,
        value_name = "SIZE",
        allow_hyphen_values = true,
        conflicts_with = "attach"
    )]
    sndbuf: Option<Size>,
    /// SO_RCVBUF to request on the reader (set on the listening socket before listen()).
    #[arg(
        long,
        value_name = "SIZE",
        allow_hyphen_values = true,
        conflicts_with = "attach"
    )]
    rcvbuf: Option<Size>,
    /// Writer rate: bytes per second (K/M/G, optional /s), max for unlimited, 0 to pause.
    #[arg(
        long,
        value_name = "RATE",
        default_value = "max",
        allow_hyphen_values = true,
        conflicts_with = "attach"
    )]
    write_rate: Rate,
    /// Bytes per send(data) call.
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "128K",
        value_parser = parse_chunk,
        allow_hyphen_values = true,
        conflicts_with = "attach"
    )]
    write_chunk: Size,
    /// Reader rate: bytes per second, max for unlimited, 0 for a paused reader.
    #[arg(
        long,
        value_name = "RATE",
        default_value = "max",
        allow_hyphen_values = true,
        conflicts_with = "attach"
    )]
    read_rate: Rate,
    /// recv(bufsize): the most bytes one recv() call takes.
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "128K",
        value_parser = parse_chunk,
        allow_hyphen_values = true,
        conflicts_with = "attach"
    )]
    read_chunk: Size,
    /// Samples per second, 1 to 10000.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SAMPLE_HZ, value_parser = parse_sample_hz, allow_hyphen_values = true)]
    sample_hz: u32,
    /// Let the scheduler place the writer and reader threads (by default each
    /// is kept on its own CPU, so sampling disturbs them less).
    #[arg(long)]
    no_pin: bool,
    /// Write one CSV row per sample to FILE.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Write a JSON summary of the run to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Capture the connection's packets on the private link and write them
    /// to FILE as pcap (Wireshark, tshark); implies --link.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["listen", "connect", "attach"])]
    pcap: Option<PathBuf>,
    /// Capture the wire on the private link and count its segments in the
    /// JSON summary's `capture`, without writing a pcap; implies --link.
    #[arg(long, conflicts_with_all = ["listen", "connect", "attach", "pcap"])]
    capture: bool,
    /// Run the timed steps of a scenario file (TOML; see scenarios/). Its
    /// starting settings apply unless the same flag is given.
    #[arg(long, value_name = "FILE", conflicts_with = "attach")]
    scenario: Option<PathBuf>,
    /// The writer's congestion control (TCP_CONGESTION), one of
    /// /proc/sys/net/ipv4/tcp_available_congestion_control. Default: the
    /// kernel's.
    #[arg(long, value_name = "NAME", value_parser = parse_congestion, conflicts_with = "attach")]
    congestion: Option<Congestion>,
    #[command(flatten)]
    peer: PeerArgs,
}

/// `9000`, `:9000`, `127.0.0.1:9000`, `[::1]:9000` or `localhost:9000`.
fn parse_endpoint(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let trimmed = text.trim();
    let port_only = trimmed.strip_prefix(':').unwrap_or(trimmed);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)));
    }
    if let Ok(addr) = trimmed.parse::<SocketAddr>() {
        return Ok(addr);
    }
    match trimmed.to_socket_addrs().map(|mut addrs| addrs.next()) {
        Ok(Some(addr)) => Ok(addr),
        _ => Err(format!(
            "'{}' is not an address; use PORT, ADDR:PORT or HOST:PORT, e.g. 9000 or 127.0.0.1:9000",
            text.escape_debug()
        )),
    }
}

/// The subcommand a command line names (for the help to point at).
fn subcommand_named(args: &[std::ffi::OsString]) -> &'static str {
    let named = |name: &str| args.iter().skip(1).any(|arg| arg == name);
    ["record", "open", "connections"]
        .into_iter()
        .find(|name| named(name))
        .unwrap_or("")
}

/// Usage errors as one sentence: clap's own wording for unknown flags and
/// the like, and for a bad value the flag, the value and the accepted form;
/// the help it points at is the subcommand's own.
fn usage_error(err: &clap::Error, subcommand: &str) -> String {
    let help = if subcommand.is_empty() {
        "sockscope --help".to_string()
    } else {
        format!("sockscope {subcommand} --help")
    };
    if matches!(
        err.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) && let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg)
    {
        let flag = arg.split_whitespace().next().unwrap_or(arg);
        let value = match err.get(ContextKind::InvalidValue) {
            Some(ContextValue::String(value)) => value.clone(),
            _ => String::new(),
        };
        let reason = std::error::Error::source(err)
            .map(ToString::to_string)
            .or_else(|| value.is_empty().then(|| "a value is required".into()))
            .or_else(|| match err.get(ContextKind::ValidValue) {
                Some(ContextValue::Strings(valid)) => Some(format!(
                    "'{}' is not one of the accepted values; use {}",
                    value.escape_debug(),
                    valid.join(" or ")
                )),
                _ => None,
            })
            .unwrap_or_else(|| format!("'{}' is not accepted; see '{help}'", value.escape_debug()));
        return format!("sockscope: {flag}: {reason}.");
    }
    if err.kind() == ErrorKind::MissingRequiredArgument
        && let Some(ContextValue::Strings(missing)) = err.get(ContextKind::InvalidArg)
    {
        let example = match subcommand {
            "record" => " e.g. 'sockscope record --duration 5';".to_string(),
            _ => String::new(),
        };
        return format!(
            "sockscope: {} is required with the flags given;{example} see '{help}'.",
            missing.join(" and ")
        );
    }
    let rendered = err.render().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or("invalid arguments")
        .trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    format!("sockscope: {first}; see '{help}'.")
}

/// A panic is a bug: it reaches the user as one sentence, not a Rust
/// backtrace. A worker thread's panic ends its session, which reports it
/// (and `record` exits 1); a panic on the main thread exits 101.
fn install_panic_hook() {
    if std::env::var_os("RUST_BACKTRACE").is_some() {
        return; // a developer asked for the details
    }
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed");
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "sockscope: internal error in the {name} thread: {message}{place}; please report it."
        );
    }));
}

fn main() -> ExitCode {
    // The private link's helper: first, while this process has no thread.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|arg| arg == link::HELPER_ARG) {
        return ExitCode::from(link::helper_main(&args[2..]) as u8);
    }
    install_panic_hook();
    // For the test of the hook itself (tests/cli.rs): a bug, on purpose.
    if std::env::var_os("SOCKSCOPE_TEST_PANIC").is_some() {
        panic!("a panic asked for by SOCKSCOPE_TEST_PANIC");
    }
    // The matches are kept to tell a flag given from its default: a
    // scenario's settings give way only to flags on the command line.
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("{}", usage_error(&err, subcommand_named(&args)));
            return ExitCode::from(exit::USAGE as u8);
        }
    };
    match cli.command {
        Some(Command::Record(args)) => {
            let given = matches
                .subcommand_matches("record")
                .cloned()
                .unwrap_or_default();
            run_record(*args, &given)
        }
        Some(Command::Connections(args)) => run_connections(args),
        Some(Command::Open(args)) => run_open(args),
        None => run_window(cli.window),
    }
}

fn run_window(args: WindowArgs) -> ExitCode {
    if let Some(path) = &args.screenshot
        && let Err(err) = check_png_target(path)
    {
        eprintln!("sockscope: --screenshot: {err}.");
        return ExitCode::from(exit::USAGE as u8);
    }
    // Made when the first export is saved; a file in its place would only
    // fail then, in the middle of a class.
    if let Some(dir) = &args.export_dir
        && dir.exists()
        && !dir.is_dir()
    {
        eprintln!(
            "sockscope: --export-dir: '{}' is a file, not a folder; give a folder (one that does not exist yet is made).",
            dir.display()
        );
        return ExitCode::from(exit::USAGE as u8);
    }
    // A scripted capture neither reads nor changes the user's settings, so
    // the same command always draws the same picture.
    let scripted = args.screenshot.is_some() || args.quit_after.is_some();
    let options = GuiOptions {
        preset: args.preset,
        lang: args.lang,
        screenshot: args.screenshot,
        quit_after: args.quit_after,
        export_dir: args.export_dir,
        projector: args.projector,
        persist: !scripted,
        open: args.open,
        endpoint: args.peer.endpoint(),
        ..GuiOptions::default()
    };
    if let Some(addr) = args.peer.listen
        && !addr.ip().is_loopback()
    {
        eprintln!("sockscope: warning: listening on {addr}, which other machines can reach.");
    }
    // The connection to watch is found before the window opens, so a
    // wrong address is one sentence and exit 2, not an empty window.
    let options = match args.peer.attach {
        Some(local) => match Target::find(local, args.peer.peer) {
            Ok(target) => GuiOptions {
                attach: Some(target),
                ..options
            },
            Err(err) => {
                eprintln!("sockscope: --attach: {err}.");
                let code = if err.is_bad_input() {
                    exit::USAGE
                } else {
                    exit::FAILED
                };
                return ExitCode::from(code as u8);
            }
        },
        None => options,
    };
    run_gui(options)
}

/// Checks a --screenshot path before the window opens: a .png file name in
/// an existing folder, not a folder.
fn check_png_target(path: &std::path::Path) -> Result<(), String> {
    let shown = path.display();
    if path.is_dir() {
        return Err(format!(
            "'{shown}' is a folder; give a file such as {shown}/shot.png"
        ));
    }
    if !path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("png"))
    {
        return Err(format!(
            "'{shown}' does not end in .png; give a file such as shot.png"
        ));
    }
    match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() && !folder.is_dir() => Err(format!(
            "the folder of '{shown}' does not exist; give a path in an existing folder"
        )),
        _ => Ok(()),
    }
}

/// The flag's value if it was given on the command line, else the file's.
fn pick<T>(on_command_line: bool, flag: T, from_file: T) -> T {
    if on_command_line { flag } else { from_file }
}

fn run_record(args: RecordArgs, given: &ArgMatches) -> ExitCode {
    let mut config = LabConfig {
        sndbuf: args.sndbuf,
        rcvbuf: args.rcvbuf,
        write_rate: args.write_rate,
        write_chunk: args.write_chunk,
        read_rate: args.read_rate,
        read_chunk: args.read_chunk,
        sample_hz: args.sample_hz,
        pin_workers: !args.no_pin,
        endpoint: match args.peer.endpoint() {
            // The wire is captured on a private link.
            Endpoint::Loopback if args.pcap.is_some() || args.capture => {
                Endpoint::Link(LinkSpec::default())
            }
            endpoint => endpoint,
        },
        congestion: args.congestion,
        capture: args.pcap.is_some() || args.capture,
    };
    let mut buffer_sources = ["--sndbuf".to_string(), "--rcvbuf".to_string()];
    let scenario = match &args.scenario {
        Some(path) => match scenario::load(path) {
            Ok(scenario) => {
                // The file's settings, except where a flag was given.
                let file = scenario.apply_setup(config);
                let flag = |id| given.value_source(id) == Some(ValueSource::CommandLine);
                config.sndbuf = pick(flag("sndbuf"), config.sndbuf, file.sndbuf);
                config.rcvbuf = pick(flag("rcvbuf"), config.rcvbuf, file.rcvbuf);
                let name = path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                if !flag("sndbuf") && scenario.setup.sndbuf.is_some() {
                    buffer_sources[0] = format!("{name}: sndbuf");
                }
                if !flag("rcvbuf") && scenario.setup.rcvbuf.is_some() {
                    buffer_sources[1] = format!("{name}: rcvbuf");
                }
                config.write_chunk =
                    pick(flag("write_chunk"), config.write_chunk, file.write_chunk);
                config.read_chunk = pick(flag("read_chunk"), config.read_chunk, file.read_chunk);
                config.write_rate = pick(flag("write_rate"), config.write_rate, file.write_rate);
                config.read_rate = pick(flag("read_rate"), config.read_rate, file.read_rate);
                if scenario.needs_link() {
                    if config.endpoint.is_outside() {
                        eprintln!(
                            "sockscope: --scenario: {name} changes the link (link_rate, link_delay, link_loss or cable), which needs sockscope's own pair (--link), not --listen or --connect."
                        );
                        return ExitCode::from(exit::USAGE as u8);
                    }
                    // The file's link, with its rate unless --link-rate was given.
                    config.endpoint = match (config.endpoint, file.endpoint) {
                        (Endpoint::Link(flags), Endpoint::Link(from_file)) => {
                            Endpoint::Link(LinkSpec {
                                rate: pick(flag("link_rate"), flags.rate, from_file.rate),
                                delay_ms: pick(
                                    flag("link_delay"),
                                    flags.delay_ms,
                                    from_file.delay_ms,
                                ),
                                loss: pick(flag("link_loss"), flags.loss, from_file.loss),
                                ..flags
                            })
                        }
                        (_, from_file) => from_file,
                    };
                }
                Some(scenario)
            }
            Err(err) => {
                eprintln!("sockscope: --scenario: {err}.");
                return ExitCode::from(exit::USAGE as u8);
            }
        },
        None => None,
    };
    let options = RecordOptions {
        config,
        duration: args.duration,
        csv: args.csv,
        json: args.json,
        pcap: args.pcap,
        progress: std::io::stdout().is_terminal(),
        scenario,
        buffer_sources,
        attach: args.peer.attach.map(|local| (local, args.peer.peer)),
    };
    // Ctrl-C (or SIGTERM, SIGHUP) ends the run the orderly way: a bounded
    // drain, the outputs written whole. A second one cuts the drain short.
    let interrupt = Interrupt::install(|| {});
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    match record(&options, &interrupt, &mut stdout, &mut stderr) {
        Ok(outcome) => ExitCode::from(outcome.exit_code() as u8),
        Err(err) => {
            eprintln!("sockscope: {err}.");
            ExitCode::from(err.exit_code() as u8)
        }
    }
}
