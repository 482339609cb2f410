//! Scenarios: a TOML file of timed changes to a lab session, so a lesson or
//! a measurement can be replayed the same way every time.
//!
//! ```toml
//! description = "The reader pauses for two seconds"
//! sndbuf = "32K"          # at start only, like the record flags
//! rcvbuf = "32K"
//! write_rate = "256K"
//!
//! [[step]]
//! at = 1                  # seconds from the start
//! read_rate = "0"         # read_rate, read_chunk, write_rate, write_chunk,
//!                         # link_rate, link_delay (ms), link_loss (%),
//!                         # cable = "unplugged" / "plugged"
//!
//! [[step]]
//! at = 3
//! read_rate = "max"
//! ```
//!
//! Every mistake is reported with the file, the line and what is wrong.

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::config::{Endpoint, LabConfig, MAX_BUFFER, MAX_CHUNK};
use super::link::{LinkSpec, Loss, MAX_DELAY_MS, check_delay, check_link_rate};
use super::units::{Rate, Size};
use crate::input::{InputKind, read_user_text};

/// The scenarios in `scenarios/`, built in so the window offers them from
/// any folder: (name, TOML).
pub const BUILT_IN: [(&str, &str); 6] = [
    (
        "pause-and-resume",
        include_str!("../../scenarios/pause-and-resume.toml"),
    ),
    (
        "slow-reader",
        include_str!("../../scenarios/slow-reader.toml"),
    ),
    (
        "tiny-buffers",
        include_str!("../../scenarios/tiny-buffers.toml"),
    ),
    (
        "big-buffers",
        include_str!("../../scenarios/big-buffers.toml"),
    ),
    (
        "many-small-writes",
        include_str!("../../scenarios/many-small-writes.toml"),
    ),
    (
        "unplug-the-cable",
        include_str!("../../scenarios/unplug-the-cable.toml"),
    ),
];

/// Larger files are refused unread: a scenario is a few dozen lines.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Steps a file may hold.
pub const MAX_STEPS: usize = 10_000;

/// One live change, applied at a step's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    ReadRate(Rate),
    ReadChunk(Size),
    WriteRate(Rate),
    WriteChunk(Size),
    /// The private link's rate.
    LinkRate(Rate),
    /// The private link's one-way delay, in ms.
    LinkDelay(u32),
    /// The share of packets the private link drops.
    LinkLoss(Loss),
    /// The private link's cable: plugged in (true) or unplugged.
    Cable(bool),
}

impl Change {
    /// A change only a private link can take.
    pub fn needs_link(self) -> bool {
        matches!(
            self,
            Change::LinkRate(_) | Change::LinkDelay(_) | Change::LinkLoss(_) | Change::Cable(_)
        )
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::ReadRate(rate) => write!(f, "read_rate = {rate}"),
            Change::ReadChunk(size) => write!(f, "read_chunk = {}", size.bytes()),
            Change::WriteRate(rate) => write!(f, "write_rate = {rate}"),
            Change::WriteChunk(size) => write!(f, "write_chunk = {}", size.bytes()),
            Change::LinkRate(rate) => write!(f, "link_rate = {rate}"),
            Change::LinkDelay(ms) => write!(f, "link_delay = {ms}"),
            Change::LinkLoss(loss) => write!(f, "link_loss = {}", loss.percent()),
            Change::Cable(true) => write!(f, "cable = plugged"),
            Change::Cable(false) => write!(f, "cable = unplugged"),
        }
    }
}

/// Changes as a scenario file writes them: `read_rate = 0 (paused), ...`.
pub fn changes_text(changes: &[Change]) -> String {
    let changes: Vec<String> = changes.iter().map(ToString::to_string).collect();
    changes.join(", ")
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// From the session's start.
    pub at: Duration,
    pub changes: Vec<Change>,
}

/// Settings a scenario starts from; None leaves the caller's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Setup {
    pub sndbuf: Option<Size>,
    pub rcvbuf: Option<Size>,
    pub write_rate: Option<Rate>,
    pub write_chunk: Option<Size>,
    pub read_rate: Option<Rate>,
    pub read_chunk: Option<Size>,
    /// The private link's rate; a scenario that sets it runs on the link,
    /// as one that sets its delay or loss does.
    pub link_rate: Option<Rate>,
    pub link_delay: Option<u32>,
    pub link_loss: Option<Loss>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub description: Option<String>,
    pub setup: Setup,
    /// In time order.
    pub steps: Vec<Step>,
}

/// What is wrong with a scenario file, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ScenarioError {
    pub file: String,
    /// 1-based; None when the file could not be read at all.
    pub line: Option<usize>,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    description: Option<String>,
    sndbuf: Option<Spanned<toml::Value>>,
    rcvbuf: Option<Spanned<toml::Value>>,
    write_rate: Option<Spanned<toml::Value>>,
    write_chunk: Option<Spanned<toml::Value>>,
    read_rate: Option<Spanned<toml::Value>>,
    read_chunk: Option<Spanned<toml::Value>>,
    link_rate: Option<Spanned<toml::Value>>,
    link_delay: Option<Spanned<toml::Value>>,
    link_loss: Option<Spanned<toml::Value>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: Spanned<toml::Value>,
    read_rate: Option<Spanned<toml::Value>>,
    read_chunk: Option<Spanned<toml::Value>>,
    write_rate: Option<Spanned<toml::Value>>,
    write_chunk: Option<Spanned<toml::Value>>,
    link_rate: Option<Spanned<toml::Value>>,
    link_delay: Option<Spanned<toml::Value>>,
    link_loss: Option<Spanned<toml::Value>>,
    cable: Option<Spanned<toml::Value>>,
}

struct Parser<'a> {
    file: &'a str,
    text: &'a str,
}

impl Parser<'_> {
    fn error(&self, span: Option<Range<usize>>, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_string(),
            line: span.map(|span| {
                let start = span.start.min(self.text.len());
                self.text[..start].bytes().filter(|&b| b == b'\n').count() + 1
            }),
            message: message.into(),
        }
    }

    /// A value as the command line would spell it: "64K", "max", 65536.
    fn text_of(&self, key: &str, value: &Spanned<toml::Value>) -> Result<String, ScenarioError> {
        match value.get_ref() {
            toml::Value::String(text) => Ok(text.clone()),
            toml::Value::Integer(n) => Ok(n.to_string()),
            toml::Value::Float(x) => Ok(x.to_string()),
            other => Err(self.error(
                Some(value.span()),
                format!(
                    "{key} is a {}; give a number or a quoted size or rate such as \"64K\"",
                    other.type_str()
                ),
            )),
        }
    }

    fn rate(&self, key: &str, value: &Spanned<toml::Value>) -> Result<Rate, ScenarioError> {
        let text = self.text_of(key, value)?;
        Rate::parse(&text).map_err(|e| self.error(Some(value.span()), format!("{key}: {e}")))
    }

    /// A link rate: a rate of 8K/s or more, or max.
    fn link_rate(&self, value: &Spanned<toml::Value>) -> Result<Rate, ScenarioError> {
        let rate = self.rate("link_rate", value)?;
        check_link_rate(rate).map_err(|e| self.error(Some(value.span()), format!("link_rate: {e}")))
    }

    /// A delay in whole ms, 0 to MAX_DELAY_MS.
    fn link_delay(&self, value: &Spanned<toml::Value>) -> Result<u32, ScenarioError> {
        value
            .get_ref()
            .as_integer()
            .and_then(|ms| u32::try_from(ms).ok())
            .and_then(|ms| check_delay(ms).ok())
            .ok_or_else(|| {
                self.error(
                    Some(value.span()),
                    format!(
                        "link_delay is whole milliseconds from 0 to {MAX_DELAY_MS}, such as link_delay = 50"
                    ),
                )
            })
    }

    /// A loss in percent, 0 to 100.
    fn link_loss(&self, value: &Spanned<toml::Value>) -> Result<Loss, ScenarioError> {
        let text = self.text_of("link_loss", value)?;
        Loss::parse(&text).map_err(|e| self.error(Some(value.span()), format!("link_loss: {e}")))
    }

    /// "plugged" (true) or "unplugged" (false).
    fn cable(&self, value: &Spanned<toml::Value>) -> Result<bool, ScenarioError> {
        match value.get_ref().as_str() {
            Some("plugged") => Ok(true),
            Some("unplugged") => Ok(false),
            _ => Err(self.error(Some(value.span()), "cable is \"plugged\" or \"unplugged\"")),
        }
    }

    fn size(
        &self,
        key: &str,
        value: &Spanned<toml::Value>,
        max: u64,
    ) -> Result<Size, ScenarioError> {
        let text = self.text_of(key, value)?;
        let size = Size::parse(&text)
            .map_err(|e| self.error(Some(value.span()), format!("{key}: {e}")))?;
        if size.bytes() > max {
            return Err(self.error(
                Some(value.span()),
                format!("{key}: '{text}' is too large; at most {max} bytes"),
            ));
        }
        Ok(size)
    }

    fn seconds(&self, value: &Spanned<toml::Value>) -> Result<Duration, ScenarioError> {
        let secs = match value.get_ref() {
            toml::Value::Integer(n) => *n as f64,
            toml::Value::Float(x) => *x,
            _ => f64::NAN,
        };
        if !secs.is_finite() || !(0.0..=86_400.0 * 365.0).contains(&secs) {
            return Err(self.error(
                Some(value.span()),
                "at is seconds from the start: a number from 0, such as at = 2 or at = 0.5",
            ));
        }
        Ok(Duration::from_secs_f64(secs))
    }
}

/// A scenario that changes the link run with an outside peer (`--listen`,
/// `--connect`), whose link sockscope does not own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "it changes the link (link_rate, link_delay, link_loss or cable), which needs sockscope's own pair (--link), not --listen or --connect"
)]
pub struct NeedsOwnPair;

/// Parses a scenario; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let parser = Parser { file, text };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        // toml's own words name the key and the accepted ones.
        let message = e.message().trim_end_matches('\n').replace('\n', " ");
        parser.error(e.span(), message)
    })?;
    let opt_rate = |key: &str, v: &Option<Spanned<toml::Value>>| {
        v.as_ref().map(|v| parser.rate(key, v)).transpose()
    };
    let opt_size = |key: &str, v: &Option<Spanned<toml::Value>>, max: u64| {
        v.as_ref().map(|v| parser.size(key, v, max)).transpose()
    };
    let setup = Setup {
        sndbuf: opt_size("sndbuf", &raw.sndbuf, MAX_BUFFER)?,
        rcvbuf: opt_size("rcvbuf", &raw.rcvbuf, MAX_BUFFER)?,
        write_rate: opt_rate("write_rate", &raw.write_rate)?,
        write_chunk: opt_size("write_chunk", &raw.write_chunk, MAX_CHUNK)?,
        read_rate: opt_rate("read_rate", &raw.read_rate)?,
        read_chunk: opt_size("read_chunk", &raw.read_chunk, MAX_CHUNK)?,
        link_rate: raw
            .link_rate
            .as_ref()
            .map(|v| parser.link_rate(v))
            .transpose()?,
        link_delay: raw
            .link_delay
            .as_ref()
            .map(|v| parser.link_delay(v))
            .transpose()?,
        link_loss: raw
            .link_loss
            .as_ref()
            .map(|v| parser.link_loss(v))
            .transpose()?,
    };
    if raw.step.len() > MAX_STEPS {
        return Err(parser.error(
            None,
            format!(
                "{} steps; a scenario holds at most {MAX_STEPS}",
                raw.step.len()
            ),
        ));
    }
    let mut steps: Vec<Step> = Vec::with_capacity(raw.step.len());
    for spanned in &raw.step {
        let raw_step = spanned.get_ref();
        let at = parser.seconds(&raw_step.at)?;
        if let Some(previous) = steps.last()
            && at < previous.at
        {
            return Err(parser.error(
                Some(raw_step.at.span()),
                format!(
                    "steps go in time order, but at = {} comes after at = {}",
                    at.as_secs_f64(),
                    previous.at.as_secs_f64()
                ),
            ));
        }
        let mut changes = Vec::new();
        if let Some(v) = &raw_step.read_rate {
            changes.push(Change::ReadRate(parser.rate("read_rate", v)?));
        }
        if let Some(v) = &raw_step.read_chunk {
            changes.push(Change::ReadChunk(parser.size(
                "read_chunk",
                v,
                MAX_CHUNK,
            )?));
        }
        if let Some(v) = &raw_step.write_rate {
            changes.push(Change::WriteRate(parser.rate("write_rate", v)?));
        }
        if let Some(v) = &raw_step.write_chunk {
            changes.push(Change::WriteChunk(parser.size(
                "write_chunk",
                v,
                MAX_CHUNK,
            )?));
        }
        if let Some(v) = &raw_step.link_rate {
            changes.push(Change::LinkRate(parser.link_rate(v)?));
        }
        if let Some(v) = &raw_step.link_delay {
            changes.push(Change::LinkDelay(parser.link_delay(v)?));
        }
        if let Some(v) = &raw_step.link_loss {
            changes.push(Change::LinkLoss(parser.link_loss(v)?));
        }
        if let Some(v) = &raw_step.cable {
            changes.push(Change::Cable(parser.cable(v)?));
        }
        if changes.is_empty() {
            return Err(parser.error(
                Some(spanned.span()),
                "this step changes nothing; give at least one of read_rate, read_chunk, write_rate, write_chunk, link_rate, link_delay, link_loss, cable",
            ));
        }
        steps.push(Step { at, changes });
    }
    if setup == Setup::default() && steps.is_empty() {
        return Err(parser.error(
            None,
            "this scenario sets nothing and has no steps; give settings such as sndbuf = \"64K\" or at least one [[step]] with its at",
        ));
    }
    Ok(Scenario {
        description: raw.description,
        setup,
        steps,
    })
}

/// Reads and parses a scenario file: a regular file of at most
/// `MAX_FILE_BYTES` (a FIFO, a device or a folder is refused unread).
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = read_user_text(path, InputKind::Scenario).map_err(|e| ScenarioError {
        file: file.clone(),
        line: None,
        message: e.problem.to_string(),
    })?;
    parse(&text, &file)
}

impl Scenario {
    /// `config` with the scenario's starting settings applied.
    pub fn apply_setup(&self, mut config: LabConfig) -> LabConfig {
        let s = &self.setup;
        config.sndbuf = s.sndbuf.or(config.sndbuf);
        config.rcvbuf = s.rcvbuf.or(config.rcvbuf);
        config.write_rate = s.write_rate.unwrap_or(config.write_rate);
        config.write_chunk = s.write_chunk.unwrap_or(config.write_chunk);
        config.read_rate = s.read_rate.unwrap_or(config.read_rate);
        config.read_chunk = s.read_chunk.unwrap_or(config.read_chunk);
        // Changes to the link need one: the lab's own pair moves onto it.
        if self.needs_link() && config.endpoint == Endpoint::Loopback {
            config.endpoint = Endpoint::Link(LinkSpec::default());
        }
        if let Endpoint::Link(spec) = &mut config.endpoint {
            spec.rate = s.link_rate.unwrap_or(spec.rate);
            spec.delay_ms = s.link_delay.unwrap_or(spec.delay_ms);
            spec.loss = s.link_loss.unwrap_or(spec.loss);
        }
        config
    }

    /// The command line's settings over the file's: the file's starting
    /// settings apply except where the same flag was given (`pick` says
    /// whether the flag of a field, named as the field, was). The link's
    /// rate, delay and loss are picked field by field; the file's link
    /// changes need sockscope's own pair, not an outside peer.
    pub fn under_flags(
        &self,
        config: LabConfig,
        pick: impl Fn(&str) -> bool,
    ) -> Result<LabConfig, NeedsOwnPair> {
        let file = self.apply_setup(config);
        let mut merged = config;
        if !pick("sndbuf") {
            merged.sndbuf = file.sndbuf;
        }
        if !pick("rcvbuf") {
            merged.rcvbuf = file.rcvbuf;
        }
        if !pick("write_chunk") {
            merged.write_chunk = file.write_chunk;
        }
        if !pick("read_chunk") {
            merged.read_chunk = file.read_chunk;
        }
        if !pick("write_rate") {
            merged.write_rate = file.write_rate;
        }
        if !pick("read_rate") {
            merged.read_rate = file.read_rate;
        }
        if self.needs_link() {
            if config.endpoint.is_outside() {
                return Err(NeedsOwnPair);
            }
            merged.endpoint = match (config.endpoint, file.endpoint) {
                (Endpoint::Link(flags), Endpoint::Link(from_file)) => Endpoint::Link(LinkSpec {
                    rate: if pick("link_rate") {
                        flags.rate
                    } else {
                        from_file.rate
                    },
                    delay_ms: if pick("link_delay") {
                        flags.delay_ms
                    } else {
                        from_file.delay_ms
                    },
                    loss: if pick("link_loss") {
                        flags.loss
                    } else {
                        from_file.loss
                    },
                    ..flags
                }),
                (_, from_file) => from_file,
            };
        }
        Ok(merged)
    }

    /// The scenario sets the link's rate or moves its cable, so it runs on
    /// a private link.
    pub fn needs_link(&self) -> bool {
        self.setup.link_rate.is_some()
            || self.setup.link_delay.is_some()
            || self.setup.link_loss.is_some()
            || self
                .steps
                .iter()
                .any(|step| step.changes.iter().any(|c| c.needs_link()))
    }
}

/// Hands out a scenario's steps as their times come.
#[derive(Debug, Clone)]
pub struct StepClock {
    steps: Vec<Step>,
    next: usize,
}

impl StepClock {
    pub fn new(scenario: &Scenario) -> Self {
        StepClock {
            steps: scenario.steps.clone(),
            next: 0,
        }
    }

    /// The steps due by `elapsed` that were not handed out yet.
    pub fn due(&mut self, elapsed: Duration) -> &[Step] {
        let start = self.next;
        while self.next < self.steps.len() && self.steps[self.next].at <= elapsed {
            self.next += 1;
        }
        &self.steps[start..self.next]
    }

    /// When the next step is due, if any is left.
    pub fn next_at(&self) -> Option<Duration> {
        self.steps.get(self.next).map(|s| s.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_scenarios_parse() {
        for (name, text) in BUILT_IN {
            let scenario = parse(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert!(!scenario.steps.is_empty(), "{name}");
        }
    }

    #[test]
    fn flags_given_win_over_the_files_settings_and_the_rest_come_from_it() {
        let text = "sndbuf = \"32K\"\nwrite_rate = \"1M\"\nlink_rate = \"2M\"\nlink_loss = 1\n[[step]]\nat = 1\nread_rate = 0\n";
        let scenario = parse(text, "f.toml").unwrap();
        let flags = LabConfig {
            sndbuf: Some(Size(8192)),
            write_rate: Rate::BytesPerSec(5000),
            endpoint: Endpoint::Link(LinkSpec {
                rate: Rate::BytesPerSec(4096),
                ..LinkSpec::default()
            }),
            ..LabConfig::default()
        };
        let given = ["sndbuf", "link_rate"];
        let merged = scenario
            .under_flags(flags, |name| given.contains(&name))
            .unwrap();
        assert_eq!(merged.sndbuf, Some(Size(8192)), "--sndbuf given");
        assert_eq!(
            merged.write_rate,
            Rate::BytesPerSec(1 << 20),
            "from the file"
        );
        let Endpoint::Link(link) = merged.endpoint else {
            panic!("{:?}", merged.endpoint)
        };
        assert_eq!(link.rate, Rate::BytesPerSec(4096), "--link-rate given");
        assert_eq!(link.loss, Loss::from_percent(1.0).unwrap(), "from the file");
        // Nothing given: the file's settings, its link included.
        let merged = scenario
            .under_flags(LabConfig::default(), |_| false)
            .unwrap();
        assert_eq!(merged.sndbuf, Some(Size(32 * 1024)));
        assert!(
            matches!(merged.endpoint, Endpoint::Link(l) if l.rate == Rate::BytesPerSec(2 << 20))
        );
        // A link change with an outside peer is refused.
        let outside = LabConfig {
            endpoint: Endpoint::Listen("127.0.0.1:9000".parse().unwrap()),
            ..LabConfig::default()
        };
        assert_eq!(scenario.under_flags(outside, |_| false), Err(NeedsOwnPair));
    }

    #[test]
    fn a_scenario_that_does_nothing_is_refused() {
        for text in ["", "\n# nothing yet\n", "description = \"soon\"\n"] {
            let err = parse(text, "empty.toml").unwrap_err().to_string();
            assert!(err.contains("sets nothing and has no steps"), "{err}");
        }
        // Settings alone, or steps alone, are a scenario.
        assert!(parse("sndbuf = \"64K\"\n", "s.toml").is_ok());
        assert!(parse("[[step]]\nat = 1\nread_rate = 0\n", "p.toml").is_ok());
    }

    #[test]
    fn the_documented_example_parses() {
        let text = r#"
description = "pause"
sndbuf = "32K"
write_rate = 262144

[[step]]
at = 1
read_rate = "0"

[[step]]
at = 3.5
read_rate = "max"
read_chunk = "4K"
"#;
        let scenario = parse(text, "pause.toml").unwrap();
        assert_eq!(scenario.setup.sndbuf, Some(Size(32 * 1024)));
        assert_eq!(scenario.setup.write_rate, Some(Rate::BytesPerSec(262_144)));
        assert_eq!(scenario.steps.len(), 2);
        assert_eq!(
            scenario.steps[0].changes,
            vec![Change::ReadRate(Rate::Paused)]
        );
        assert_eq!(scenario.steps[1].at, Duration::from_millis(3500));
        let mut clock = StepClock::new(&scenario);
        assert!(clock.due(Duration::from_millis(999)).is_empty());
        assert_eq!(clock.due(Duration::from_secs(5)).len(), 2);
        assert!(clock.due(Duration::from_secs(9)).is_empty());
        assert_eq!(clock.next_at(), None);
    }

    #[test]
    fn link_changes_move_the_lab_onto_a_private_link() {
        let text = "link_rate = \"1M\"\n[[step]]\nat = 1\ncable = \"unplugged\"\n[[step]]\nat = 2\ncable = \"plugged\"\nlink_rate = \"max\"\n";
        let scenario = parse(text, "cable.toml").unwrap();
        assert!(scenario.needs_link());
        assert_eq!(scenario.steps[0].changes, vec![Change::Cable(false)]);
        assert_eq!(
            scenario.steps[1].changes,
            vec![Change::LinkRate(Rate::Unlimited), Change::Cable(true)]
        );
        let config = scenario.apply_setup(LabConfig::default());
        assert_eq!(
            config.endpoint,
            Endpoint::Link(LinkSpec {
                rate: Rate::BytesPerSec(1 << 20),
                ..LinkSpec::default()
            })
        );
        // A scenario without link keys leaves the machine's loopback.
        let plain = parse("[[step]]\nat = 1\nread_rate = 0\n", "p.toml").unwrap();
        assert!(!plain.needs_link());
        assert_eq!(
            plain.apply_setup(LabConfig::default()).endpoint,
            Endpoint::Loopback
        );
    }

    #[test]
    fn mistakes_name_the_file_and_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("[[step]]\nat = 1\nread_rate = \"fast\"\n", 3, "read_rate"),
            ("[[step]]\nat = -1\nread_rate = \"0\"\n", 2, "seconds"),
            ("[[step]]\nat = 1\nspeed = 3\n", 3, "unknown field"),
            ("[[step]]\nat = 1\n", 1, "changes nothing"),
            (
                "[[step]]\nat = 2\nread_rate = 0\n[[step]]\nat = 1\nread_rate = \"max\"\n",
                5,
                "time order",
            ),
            ("sndbuf = \"2G\"\n", 1, "too large"),
            ("sndbuf = true\n", 1, "boolean"),
            ("[[step]\nat = 1\n", 1, ""),
            ("\n\nread_chunk = \"0\"\n", 3, "read_chunk"),
            ("[[step]]\nread_rate = \"0\"\n", 1, "at"),
            ("link_rate = \"1K\"\n", 1, "8K/s to max"),
            ("[[step]]\nat = 1\ncable = \"cut\"\n", 3, "plugged"),
            ("[[step]]\nat = 1\ncable = false\n", 3, "unplugged"),
        ];
        for (text, line, words) in cases {
            let error = parse(text, "bad.toml").expect_err(text);
            assert_eq!(error.file, "bad.toml");
            assert_eq!(error.line, Some(*line), "{text:?}: {error}");
            assert!(error.message.contains(words), "{text:?}: {error}");
            let shown = error.to_string();
            assert!(shown.starts_with(&format!("bad.toml:{line}: ")), "{shown}");
            assert_eq!(shown.lines().count(), 1, "{shown}");
        }
    }
}
