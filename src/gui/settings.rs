//! What the window keeps between runs of the program (eframe persistence).

use std::path::PathBuf;

use super::i18n::Lang;
use super::plot::PlotSettings;
use crate::lab::{LabConfig, Preset, Rate, Size};

pub const SETTINGS_KEY: &str = "sockscope-settings";

/// What survives a restart of the program (eframe persistence). Every field
/// has a default, and `StoredConfig::to_config` and `PlotSettings::window`
/// replace values a hand-edited or corrupted file could hold.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    pub lab: StoredConfig,
    pub projector: bool,
    pub show_controls: bool,
    pub export_dir: Option<PathBuf>,
    pub plot: PlotSettings,
    /// The reader's rate before Space paused it, as `Rate::parse` text.
    pub resume_read_rate: String,
    /// The interface language; at first the system locale's.
    pub lang: Lang,
}

impl Settings {
    /// What the command line chose wins over what was saved.
    pub fn take_options(&mut self, options: &super::options::GuiOptions) {
        if let Some(preset) = options.preset {
            self.lab = StoredConfig::from(&preset.config());
        }
        if let Some(dir) = &options.export_dir {
            self.export_dir = Some(dir.clone());
        }
        if options.projector {
            self.projector = true;
        }
        if let Some(lang) = options.lang {
            self.lang = lang;
        }
    }

    /// The rate a paused reader resumes to.
    pub fn resume_rate(&self) -> Rate {
        Rate::parse(&self.resume_read_rate)
            .ok()
            .filter(|r| !r.is_paused())
            .unwrap_or(Rate::Unlimited)
    }

    pub fn set_resume_rate(&mut self, rate: Rate) {
        self.resume_read_rate = rate_text(rate);
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lab: StoredConfig::from(&Preset::Balanced.config()),
            projector: false,
            show_controls: true,
            export_dir: None,
            plot: PlotSettings::default(),
            resume_read_rate: "max".into(),
            lang: Lang::from_environment(),
        }
    }
}

/// A `LabConfig` in a form that serializes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct StoredConfig {
    pub sndbuf: Option<u64>,
    pub rcvbuf: Option<u64>,
    pub write_rate: String,
    pub write_chunk: u64,
    pub read_rate: String,
    pub read_chunk: u64,
    pub sample_hz: u32,
}

impl Default for StoredConfig {
    fn default() -> Self {
        StoredConfig::from(&Preset::Balanced.config())
    }
}

fn rate_text(rate: Rate) -> String {
    match rate {
        Rate::Unlimited => "max".into(),
        Rate::Paused => "0".into(),
        Rate::BytesPerSec(n) => n.to_string(),
    }
}

impl From<&LabConfig> for StoredConfig {
    fn from(config: &LabConfig) -> Self {
        StoredConfig {
            sndbuf: config.sndbuf.map(Size::bytes),
            rcvbuf: config.rcvbuf.map(Size::bytes),
            write_rate: rate_text(config.write_rate),
            write_chunk: config.write_chunk.bytes(),
            read_rate: rate_text(config.read_rate),
            read_chunk: config.read_chunk.bytes(),
            sample_hz: config.sample_hz,
        }
    }
}

impl StoredConfig {
    /// The config, with any unusable value replaced by the default's.
    pub fn to_config(&self) -> LabConfig {
        let default = Preset::Balanced.config();
        let chunk = |bytes: u64, fallback: Size| {
            if (1..=crate::lab::MAX_CHUNK).contains(&bytes) {
                Size(bytes)
            } else {
                fallback
            }
        };
        let buffer = |bytes: Option<u64>| bytes.filter(|b| (1..=1 << 30).contains(b)).map(Size);
        LabConfig {
            sndbuf: buffer(self.sndbuf),
            rcvbuf: buffer(self.rcvbuf),
            write_rate: Rate::parse(&self.write_rate).unwrap_or(default.write_rate),
            write_chunk: chunk(self.write_chunk, default.write_chunk),
            read_rate: Rate::parse(&self.read_rate).unwrap_or(default.read_rate),
            read_chunk: chunk(self.read_chunk, default.read_chunk),
            sample_hz: if (1..=crate::lab::sampler::MAX_SAMPLE_HZ).contains(&self.sample_hz) {
                self.sample_hz
            } else {
                default.sample_hz
            },
            ..default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_settings_survive_nonsense() {
        let broken = StoredConfig {
            sndbuf: Some(0),
            rcvbuf: Some(u64::MAX),
            write_rate: "fast".into(),
            write_chunk: 0,
            read_rate: "-3".into(),
            read_chunk: u64::MAX,
            sample_hz: 0,
        };
        let config = broken.to_config();
        let default = Preset::Balanced.config();
        assert_eq!(config.sndbuf, None);
        assert_eq!(config.rcvbuf, None);
        assert_eq!(config.write_rate, default.write_rate);
        assert_eq!(config.read_rate, default.read_rate);
        assert_eq!(config.write_chunk, default.write_chunk);
        assert_eq!(config.read_chunk, default.read_chunk);
        assert_eq!(config.sample_hz, default.sample_hz);
        for preset in Preset::ALL {
            let config = preset.config();
            assert_eq!(StoredConfig::from(&config).to_config(), config);
        }
        // Unknown and missing fields fall back too.
        let parsed: Settings =
            serde_json::from_str(r#"{"projector": true, "nonsense": 3}"#).unwrap();
        assert!(parsed.projector);
        assert_eq!(parsed.lab, StoredConfig::default());
    }
}
