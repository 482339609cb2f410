//! `sockscope` alone: the window, live; and the two flags every live
//! command shares (an outside peer, a private link).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use sockscope::gui::{self, GuiOptions, Lang, Panel};
use sockscope::lab::link::{self, LinkSpec, Loss};
use sockscope::lab::{Endpoint, Preset, Rate};
use sockscope::run::Target;

use super::CliError;
use super::parse::{
    parse_delay, parse_duration, parse_endpoint, parse_lang, parse_link_rate, parse_loss,
    parse_mtu, parse_panel, parse_preset,
};

/// With no subcommand, sockscope opens its window.
#[derive(Args, Debug)]
pub(super) struct WindowArgs {
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
pub(super) struct PeerArgs {
    /// Wait for one outside TCP client (nc, socat, the lesson's Python
    /// client) on ADDR:PORT (or just PORT, on 127.0.0.1) and watch that
    /// connection: sockscope's one socket sends with the writer settings
    /// and reads with the reader settings; bytes are not verified.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint, conflicts_with = "connect")]
    pub(super) listen: Option<SocketAddr>,
    /// Connect to an outside TCP server at ADDR:PORT (or PORT on 127.0.0.1)
    /// and watch that connection, as with --listen.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint)]
    pub(super) connect: Option<SocketAddr>,
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
    /// (netem where the kernel has it, else a netfilter queue and a
    /// delaying thread of sockscope's; implies --link).
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
    pub(super) attach: Option<SocketAddr>,
    /// With --attach: the connection's peer address, to pick one of
    /// several connections from the same local address.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint, requires = "attach")]
    pub(super) peer: Option<SocketAddr>,
}

impl PeerArgs {
    pub(super) fn endpoint(&self) -> Endpoint {
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

pub(super) fn run(args: WindowArgs) -> Result<ExitCode, CliError> {
    if let Some(path) = &args.screenshot {
        check_png_target(path)?;
    }
    // Made when the first export is saved; a file in its place would only
    // fail then, in the middle of a class.
    if let Some(dir) = &args.export_dir
        && dir.exists()
        && !dir.is_dir()
    {
        return Err(CliError::Usage(format!(
            "--export-dir: '{}' is a file, not a folder; give a folder (one that does not exist yet is made)",
            dir.display()
        )));
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
                return Err(CliError::of(err.is_bad_input(), format!("--attach: {err}")));
            }
        },
        None => options,
    };
    run_gui(options)
}

/// Checks a --screenshot path before the window opens: a .png file name in
/// an existing folder, not a folder.
pub(super) fn check_png_target(path: &std::path::Path) -> Result<(), CliError> {
    let shown = path.display();
    let refuse = |why: String| Err(CliError::Usage(format!("--screenshot: {why}")));
    if path.is_dir() {
        return refuse(format!(
            "'{shown}' is a folder; give a file such as {shown}/shot.png"
        ));
    }
    if !path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("png"))
    {
        return refuse(format!(
            "'{shown}' does not end in .png; give a file such as shot.png"
        ));
    }
    match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() && !folder.is_dir() => refuse(format!(
            "the folder of '{shown}' does not exist; give a path in an existing folder"
        )),
        _ => Ok(()),
    }
}

/// Runs the window; a screenshot's path is printed, a failure is one
/// sentence and exit 1.
pub(super) fn run_gui(options: GuiOptions) -> Result<ExitCode, CliError> {
    if let Some(path) = gui::run(options)? {
        println!("screenshot saved to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
