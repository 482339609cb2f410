//! `sockscope record`: a run headless, its outputs written whole.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args};

use sockscope::interrupt::Interrupt;
use sockscope::lab::config::DEFAULT_SAMPLE_HZ;
use sockscope::lab::congestion::Congestion;
use sockscope::lab::link::LinkSpec;
use sockscope::lab::{Endpoint, LabConfig, Rate, Size, scenario};
use sockscope::record::{RecordOptions, record};

use super::CliError;
use super::parse::{parse_chunk, parse_congestion, parse_duration, parse_sample_hz};
use super::window::PeerArgs;

#[derive(Args, Debug)]
pub(super) struct RecordArgs {
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

pub(super) fn run(args: RecordArgs, given: &ArgMatches) -> Result<ExitCode, CliError> {
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
        Some(path) => {
            let scenario = scenario::load(path)
                .map_err(|err| CliError::Usage(format!("--scenario: {err}")))?;
            let name = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let flag = |id: &str| given.value_source(id) == Some(ValueSource::CommandLine);
            config = scenario
                .under_flags(config, flag)
                .map_err(|err| CliError::Usage(format!("--scenario: {name}: {err}")))?;
            // Where the buffer sizes come from, for the notes on them.
            if !flag("sndbuf") && scenario.setup.sndbuf.is_some() {
                buffer_sources[0] = format!("{name}: sndbuf");
            }
            if !flag("rcvbuf") && scenario.setup.rcvbuf.is_some() {
                buffer_sources[1] = format!("{name}: rcvbuf");
            }
            Some(scenario)
        }
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
    let outcome = record(&options, &interrupt, &mut stdout, &mut stderr)?;
    Ok(ExitCode::from(outcome.exit_code() as u8))
}
