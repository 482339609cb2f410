//! The command line: the arguments of each subcommand in its own file
//! (`window`, `record`, `open`, `connections`), their value parsers
//! (`parse`), and one error type whose exit codes are decided here alone.

mod connections;
mod open;
mod parse;
mod record;
mod run;
mod window;

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use sockscope::gui;
use sockscope::lab::link;
use sockscope::record::{RecordError, exit};

const EXIT_CODES: &str = "Exit codes: 0 ok; 1 the run failed; 2 bad input (a flag's value or an \
output path); 3 the reader found a lost or changed byte; 130 stopped by Ctrl-C, SIGTERM or SIGHUP (outputs hold the part that ran; a second one cuts the final drain short, a third quits at once); 101 an internal error (a bug: please report it).";

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
    window: window::WindowArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a real loopback connection headless and record its buffers.
    #[command(after_help = EXIT_CODES)]
    Record(Box<record::RecordArgs>),
    /// List every TCP connection on this machine (this network namespace)
    /// with its queues and memory, most queued first.
    Connections(connections::ConnectionsArgs),
    /// Play a recorded run back in the window: a CSV from `record --csv`
    /// or the window's export, with the JSON summary beside it (same name,
    /// .json) for the run's settings.
    Open(open::OpenArgs),
    /// Run a command (a server, a client, a shell) on a private link of its
    /// own, in this terminal; `--join` runs another beside it.
    #[command(
        after_help = RUN_EXIT_CODES,
        override_usage = "sockscope run [LINK FLAGS] [--name NAME | --join [NAME]] [--out DIR] -- COMMAND [ARG...]"
    )]
    Run(run::RunArgs),
}

const RUN_EXIT_CODES: &str = "Exit codes: the command's own status (128+N when signal N ended it); 127 the command was not found; 126 it could not be run; 2 bad input (a flag's value, --join with no link of that name); 1 the private link could not be made.";

/// The subcommand a command line names (for the help to point at).
fn subcommand_named(args: &[std::ffi::OsString]) -> &'static str {
    let named = |name: &str| args.iter().skip(1).any(|arg| arg == name);
    ["record", "open", "connections", "run"]
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
        return format!("{flag}: {reason}");
    }
    if err.kind() == ErrorKind::MissingRequiredArgument
        && let Some(ContextValue::Strings(missing)) = err.get(ContextKind::InvalidArg)
    {
        let example = match subcommand {
            "record" => " e.g. 'sockscope record --duration 5';".to_string(),
            "run" => " e.g. 'sockscope run -- python3 server.py';".to_string(),
            _ => String::new(),
        };
        return format!(
            "{} is required with the flags given;{example} see '{help}'",
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
    format!("{first}; see '{help}'")
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

pub(super) fn main() -> ExitCode {
    // The private link's helper: first, while this process has no thread.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|arg| arg == link::HELPER_ARG) {
        return ExitCode::from(link::helper_main(&args[2..]) as u8);
    }
    // A command entering a link (`sockscope run`): also before any thread.
    if args.get(1).is_some_and(|arg| arg == link::guest::ENTER_ARG) {
        return ExitCode::from(link::guest::enter_main(&args[2..]).clamp(0, 255) as u8);
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
        Err(err) => return CliError::Usage(usage_error(&err, subcommand_named(&args))).report(),
    };
    let done = match cli.command {
        Some(Command::Record(args)) => {
            let given = matches
                .subcommand_matches("record")
                .cloned()
                .unwrap_or_default();
            record::run(*args, &given)
        }
        Some(Command::Connections(args)) => connections::run(&args),
        Some(Command::Open(args)) => open::run(args),
        Some(Command::Run(args)) => run::run(args),
        None => window::run(cli.window),
    };
    done.unwrap_or_else(|error| error.report())
}

/// Why a command ends other than well: one sentence, printed as
/// "sockscope: SENTENCE.", and its exit code, decided here alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CliError {
    /// Bad input: a flag's value, a file, an output path, an address no
    /// connection uses (exit 2).
    Usage(String),
    /// The run, the window or the kernel failed (exit 1).
    Failed(String),
    /// Stopped by Ctrl-C, SIGTERM or SIGHUP (exit 130).
    Interrupted(String),
}

impl CliError {
    pub(crate) fn code(&self) -> i32 {
        match self {
            CliError::Usage(_) => exit::USAGE,
            CliError::Failed(_) => exit::FAILED,
            CliError::Interrupted(_) => exit::INTERRUPTED,
        }
    }

    fn sentence(&self) -> &str {
        match self {
            CliError::Usage(s) | CliError::Failed(s) | CliError::Interrupted(s) => s,
        }
    }

    /// Says it on stderr; the exit code to end with.
    fn report(&self) -> ExitCode {
        eprintln!("sockscope: {}.", self.sentence());
        ExitCode::from(self.code() as u8)
    }

    /// Bad input or a failure, as `bad_input` says.
    fn of(bad_input: bool, sentence: String) -> Self {
        if bad_input {
            CliError::Usage(sentence)
        } else {
            CliError::Failed(sentence)
        }
    }
}

impl From<RecordError> for CliError {
    fn from(error: RecordError) -> Self {
        use sockscope::lab::LabError;
        let sentence = error.to_string();
        match error {
            RecordError::Output { .. } | RecordError::SameOutput(_) => CliError::Usage(sentence),
            RecordError::Lab(LabError::SampleRate(_) | LabError::ChunkTooLarge(_)) => {
                CliError::Usage(sentence)
            }
            // A delay the kernel cannot apply is a bad value, like an MTU
            // out of range.
            RecordError::Lab(LabError::Link(link)) => CliError::of(link.is_bad_input(), sentence),
            RecordError::Attach(error) => CliError::of(error.is_bad_input(), sentence),
            RecordError::Interrupted => CliError::Interrupted(sentence),
            RecordError::Lab(_) | RecordError::Run(_) | RecordError::Write { .. } => {
                CliError::Failed(sentence)
            }
        }
    }
}

impl From<gui::GuiError> for CliError {
    fn from(error: gui::GuiError) -> Self {
        match error {
            gui::GuiError::Interrupted => CliError::Interrupted(error.to_string()),
            _ => CliError::Failed(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_error_has_its_documented_exit_code() {
        let same = CliError::from(RecordError::SameOutput("a.csv".into()));
        assert_eq!(same.code(), 2);
        assert!(same.sentence().contains("a.csv"), "{same:?}");
        assert_eq!(CliError::from(RecordError::Interrupted).code(), 130);
        let write = RecordError::Write {
            path: "a.csv".into(),
            source: std::io::Error::from(std::io::ErrorKind::StorageFull),
        };
        assert_eq!(CliError::from(write).code(), 1);
        let gone = sockscope::lab::LabError::ReadOnly;
        assert_eq!(CliError::from(RecordError::Lab(gone)).code(), 1);
        assert_eq!(CliError::from(gui::GuiError::Interrupted).code(), 130);
    }

    #[test]
    fn a_bad_value_is_one_sentence_naming_the_flag_and_the_accepted_form() {
        let err = Cli::command()
            .try_get_matches_from(["sockscope", "connections", "--port", "abc"])
            .unwrap_err();
        let sentence = usage_error(&err, "connections");
        assert_eq!(
            sentence,
            "--port: 'abc' is not a port; use a number from 0 to 65535, e.g. 9090"
        );
        let err = Cli::command()
            .try_get_matches_from(["sockscope", "connections", "--state", "x"])
            .unwrap_err();
        assert!(usage_error(&err, "connections").contains("time-wait"));
    }
}
