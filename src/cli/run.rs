//! `sockscope run [LINK FLAGS] -- COMMAND`: anyone's programs on a private
//! link, in the caller's terminal. `--join` runs another command on a link
//! a `sockscope run` already made, as the lesson's client in a second
//! terminal beside its server.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use sockscope::lab::config::DEFAULT_SAMPLE_HZ;
use sockscope::lab::congestion::Congestion;
use sockscope::lab::link::{self, Link, LinkSpec, Loss, guest};
use sockscope::lab::{Rate, rendezvous};
use sockscope::run::link_record::{self, Finished, LinkRecorder, OutDir};

use super::CliError;
use super::parse::{parse_congestion, parse_delay, parse_link_rate, parse_loss, parse_mtu};

#[derive(Args, Debug)]
pub(super) struct RunArgs {
    /// The private link's rate, 8K/s to max (a token bucket at the
    /// bottleneck).
    #[arg(long, value_name = "RATE", value_parser = parse_link_rate, allow_hyphen_values = true)]
    link_rate: Option<Rate>,
    /// Every packet's one-way delay on the private link in ms, 0 to 5000.
    #[arg(long, value_name = "MS", value_parser = parse_delay, allow_hyphen_values = true)]
    link_delay: Option<u32>,
    /// The share of packets the private link drops at random, in percent.
    #[arg(long, value_name = "PERCENT", value_parser = parse_loss, allow_hyphen_values = true)]
    link_loss: Option<Loss>,
    /// The private link's MTU in bytes, 576 to 65536.
    #[arg(long, value_name = "BYTES", value_parser = parse_mtu, allow_hyphen_values = true)]
    mtu: Option<u32>,
    /// The link's default congestion control, for every connection its
    /// programs make (they need not set TCP_CONGESTION).
    #[arg(long, value_name = "NAME", value_parser = parse_congestion)]
    congestion: Option<Congestion>,
    /// A name for this link, for `sockscope run --join NAME` (default:
    /// "link").
    #[arg(long, value_name = "NAME", value_parser = parse_name, conflicts_with = "join")]
    name: Option<String>,
    /// Run the command on the link a running `sockscope run` made (the one
    /// named NAME; default "link") instead of a new one.
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = rendezvous::DEFAULT_NAME, value_parser = parse_name, conflicts_with_all = ["link_rate", "link_delay", "link_loss", "mtu"])]
    join: Option<String>,
    /// Record every TCP connection made on the link into the folder DIR
    /// (made if need be): connection-N.csv and connection-N.json for each,
    /// as `record --attach` writes them, and run.json, the command, its
    /// status, the link and every connection.
    #[arg(long, value_name = "DIR", conflicts_with = "join")]
    out: Option<PathBuf>,
    /// Without the window. The window's view of the link's connections is
    /// not built yet, so every run is headless today, and this says so.
    #[arg(long)]
    no_window: bool,
    /// The command and its arguments, after `--`.
    #[arg(
        value_name = "COMMAND",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<OsString>,
}

/// A link's name: letters, digits, - and _, at most 32.
fn parse_name(text: &str) -> Result<String, String> {
    rendezvous::check_name(text)
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "'{}' is not a link name; use up to 32 letters, digits, - or _, starting with a letter or digit, e.g. lesson",
                text.escape_debug()
            )
        })
}

pub(super) fn run(args: RunArgs) -> Result<ExitCode, CliError> {
    // The terminal's Ctrl-C and Ctrl-\ are the command's, as in a shell;
    // what another process sends sockscope goes on to the command, once
    // it is started (one that comes before is kept for it).
    guest::pass_signals_on();
    let program = link::helper_program().map_err(|e| CliError::Failed(format!("run: {e}")))?;
    let congestion = args.congestion.as_ref().map(ToString::to_string);
    if let Some(name) = &args.join {
        let pid =
            rendezvous::find(name).map_err(|e| CliError::Usage(format!("run --join: {e}")))?;
        return wait(guest::spawn(
            &program,
            pid,
            congestion.as_deref(),
            &args.command,
        ))
        .map(exit_code);
    }
    let spec = LinkSpec {
        mtu: args.mtu.unwrap_or(link::DEFAULT_MTU),
        rate: args.link_rate.unwrap_or(Rate::Unlimited),
        delay_ms: args.link_delay.unwrap_or(0),
        loss: args.link_loss.unwrap_or(Loss::NONE),
    };
    // Checked before anything runs: a folder that cannot take the files
    // is exit 2, and the command never starts.
    let out = args
        .out
        .as_deref()
        .map(OutDir::claim)
        .transpose()
        .map_err(|e| CliError::Usage(format!("run --out: {e}")))?;
    let (sockets, factory) = Link::open_serving(spec)
        .map_err(|e| CliError::of(e.is_bad_input(), format!("run: {e}")))?;
    let name = args.name.as_deref().unwrap_or(rendezvous::DEFAULT_NAME);
    let _listed = rendezvous::Listing::new(name, factory.pid())
        .map_err(|e| CliError::Usage(format!("run --name: {e}")))?;
    eprintln!(
        "sockscope: running {} on the private link '{name}' ({}); it sees only the link's lo (127.0.0.1, ::1). Another terminal joins with: sockscope run --join{} -- COMMAND",
        shown(&args.command),
        describe(sockets.link.spec()),
        if name == rendezvous::DEFAULT_NAME {
            String::new()
        } else {
            format!(" {name}")
        }
    );
    // The link's own pair of sockets is not used here.
    drop((sockets.listener, sockets.client));
    let mut recorder = match out {
        Some(out) => Some(
            LinkRecorder::start(out, &factory, spec, congestion.clone(), DEFAULT_SAMPLE_HZ)
                .map_err(|e| {
                    CliError::Failed(format!("run --out: could not read the link's sockets: {e}"))
                })?,
        ),
        None => None,
    };
    let spawned = guest::spawn(
        &program,
        factory.pid(),
        congestion.as_deref(),
        &args.command,
    );
    let status = match &mut recorder {
        Some(recorder) => wait_while(spawned, || recorder.tick(&factory)),
        None => wait(spawned),
    };
    if let (Some(recorder), Ok(code)) = (recorder, &status) {
        let finished = Finished {
            command: args
                .command
                .iter()
                .map(|arg| arg.to_string_lossy().into_owned())
                .collect(),
            exit_status: *code,
        };
        // Written whole whatever ended the command (Ctrl-C included); the
        // command's status is still sockscope's.
        eprintln!("{}", recorder.finish(&factory, &finished).line());
    }
    drop(sockets.link);
    drop(factory);
    status.map(exit_code)
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(code.clamp(0, 255) as u8)
}

/// Waits for the process that entered the link and gives its status, as a
/// shell would: Ctrl-C went to the command too (same process group), and
/// this process stays to pass the status on.
fn wait(spawned: std::io::Result<std::process::Child>) -> Result<i32, CliError> {
    let mut child = spawned.map_err(|e| CliError::Failed(format!("run: {e}")))?;
    pass_signals_to(&child);
    let status = child
        .wait()
        .map_err(|e| CliError::Failed(format!("run: {e}")))?;
    Ok(shell_status(status))
}

/// Like `wait`, calling `tick` every `link_record::DUMP_EVERY` meanwhile.
fn wait_while(
    spawned: std::io::Result<std::process::Child>,
    mut tick: impl FnMut(),
) -> Result<i32, CliError> {
    let mut child = spawned.map_err(|e| CliError::Failed(format!("run: {e}")))?;
    pass_signals_to(&child);
    loop {
        tick();
        if let Some(status) = child
            .try_wait()
            .map_err(|e| CliError::Failed(format!("run: {e}")))?
        {
            return Ok(shell_status(status));
        }
        std::thread::sleep(link_record::DUMP_EVERY);
    }
}

/// What another process sends sockscope goes on to the command from now
/// on, and one that came while it started goes on now (`run` passes them
/// on from its start: see there).
fn pass_signals_to(child: &std::process::Child) {
    guest::forward_to(child.id());
}

/// 128+N for a signal N, as a shell gives it.
fn shell_status(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => guest::CANNOT_RUN,
    }
}

/// The command as a shell would take it back: arguments with spaces or
/// quotes in single quotes, control characters escaped.
fn shown(command: &[OsString]) -> String {
    command
        .iter()
        .map(|arg| {
            let text = arg.to_string_lossy();
            let plain = !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                text.into_owned()
            } else {
                let quoted: String = text
                    .replace('\'', "'\\''")
                    .chars()
                    .map(|c| {
                        if c.is_control() {
                            c.escape_default().to_string()
                        } else {
                            c.to_string()
                        }
                    })
                    .collect();
                format!("'{quoted}'")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// "1 MiB/s, 50 ms each way, 1% loss, MTU 1500".
fn describe(spec: LinkSpec) -> String {
    let mut parts = vec![match spec.rate {
        Rate::Unlimited => "unshaped".to_string(),
        rate => rate.to_string(),
    }];
    if spec.delay_ms > 0 {
        parts.push(format!("{} ms each way", spec.delay_ms));
    }
    if spec.loss != Loss::NONE {
        parts.push(format!("{}% loss", spec.loss.percent()));
    }
    parts.push(format!("MTU {}", spec.mtu));
    parts.join(", ")
}
