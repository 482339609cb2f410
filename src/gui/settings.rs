//! What the window keeps between runs of the program (eframe persistence).
//! The lab's settings are stored as the core's `LabConfig`, once; what a
//! hand-edited or damaged file holds is repaired field by field with the
//! core's own limits (sniffnet's `#[serde(default)]` and sanitize pass).

use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::plot::PlotSettings;
use crate::i18n::Lang;
use crate::lab::{LabConfig, Preset, Rate};

pub const SETTINGS_KEY: &str = "sockscope-settings";

/// What survives a restart of the program. Every field has a default; a
/// value that cannot be used is replaced (`PlotSettings::window` checks the
/// plot's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The lab's settings as the controls last left them. The endpoint is
    /// not kept: it comes from the command line every time.
    #[serde(serialize_with = "store_config", deserialize_with = "load_config")]
    pub lab: LabConfig,
    pub projector: bool,
    pub show_controls: bool,
    pub export_dir: Option<PathBuf>,
    pub plot: PlotSettings,
    /// The reader's rate before Space paused it.
    #[serde(deserialize_with = "load_resume_rate")]
    pub resume_read_rate: Rate,
    /// The interface language; at first the system locale's.
    pub lang: Lang,
}

/// The settings before and after the command line's flags. A flag is for
/// its run only: a setting the window leaves as a flag set it is saved as
/// it was before, so after `sockscope --preset slow-reader` a plain
/// `sockscope` starts from the settings the user last chose, not the
/// preset's.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagsApplied {
    before: Settings,
    after: Settings,
}

/// Whether two configs make the same choices the settings keep (the
/// endpoint, pinning and the window's capture come from elsewhere).
fn same_choices(a: &LabConfig, b: &LabConfig) -> bool {
    let choices = |c: &LabConfig| LabConfig {
        endpoint: crate::lab::Endpoint::Loopback,
        pin_workers: false,
        capture: false,
        ..*c
    };
    choices(a) == choices(b)
}

impl Settings {
    /// What the command line chose wins over what was saved, for this run.
    pub fn take_options(&mut self, options: &super::options::GuiOptions) -> FlagsApplied {
        let before = self.clone();
        if let Some(preset) = options.preset {
            self.lab = preset.config();
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
        FlagsApplied {
            before,
            after: self.clone(),
        }
    }

    /// What to save: each setting the window changed, and each one it
    /// left as the flags set it as it was before them.
    pub fn to_store(&self, flags: &FlagsApplied) -> Settings {
        let (before, after) = (&flags.before, &flags.after);
        let mut kept = self.clone();
        if same_choices(&self.lab, &after.lab) {
            kept.lab = before.lab;
            if self.resume_read_rate == after.resume_read_rate {
                kept.resume_read_rate = before.resume_read_rate;
            }
        }
        if self.projector == after.projector {
            kept.projector = before.projector;
        }
        if self.export_dir == after.export_dir {
            kept.export_dir.clone_from(&before.export_dir);
        }
        if self.lang == after.lang {
            kept.lang = before.lang;
        }
        kept
    }

    /// Keeps the lab's settings and the rate a paused reader resumes to.
    pub fn remember(&mut self, config: &LabConfig, resume_read_rate: Rate) {
        self.lab = *config;
        self.resume_read_rate = resume_read_rate;
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lab: Preset::Balanced.config(),
            projector: false,
            show_controls: true,
            export_dir: None,
            plot: PlotSettings::default(),
            resume_read_rate: Rate::Unlimited,
            lang: Lang::from_environment(),
        }
    }
}

/// Stored without the endpoint and the CPU pinning, which the command
/// line decides.
fn store_config<S: Serializer>(config: &LabConfig, serializer: S) -> Result<S::Ok, S::Error> {
    let mut value = serde_json::to_value(config).map_err(serde::ser::Error::custom)?;
    if let Value::Object(fields) = &mut value {
        fields.remove("endpoint");
        fields.remove("pin_workers");
    }
    value.serialize(serializer)
}

fn load_config<'de, D: Deserializer<'de>>(deserializer: D) -> Result<LabConfig, D::Error> {
    Ok(repaired_config(Value::deserialize(deserializer)?))
}

/// The stored config, each field that cannot be read (a rate "fast") or is
/// out of the core's limits replaced by the default's, the rest kept.
pub fn repaired_config(stored: Value) -> LabConfig {
    let default = Preset::Balanced.config();
    let Ok(Value::Object(mut kept)) = serde_json::to_value(default) else {
        return default;
    };
    if let Value::Object(fields) = stored {
        for (key, value) in fields {
            if !kept.contains_key(&key) || key == "endpoint" {
                continue;
            }
            let mut trial = kept.clone();
            trial.insert(key, value);
            if serde_json::from_value::<LabConfig>(Value::Object(trial.clone())).is_ok() {
                kept = trial;
            }
        }
    }
    serde_json::from_value::<LabConfig>(Value::Object(kept))
        .unwrap_or(default)
        .sanitized_against(&default)
}

fn load_resume_rate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Rate, D::Error> {
    let stored = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value::<Rate>(stored)
        .ok()
        .filter(|rate| !rate.is_paused())
        .unwrap_or(Rate::Unlimited))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Endpoint, Size};

    #[test]
    fn flags_are_for_their_run_and_what_the_window_changes_is_kept() {
        let chosen = Settings {
            lab: LabConfig {
                sndbuf: Some(Size(96 * 1024)),
                ..Preset::Balanced.config()
            },
            lang: Lang::En,
            ..Settings::default()
        };
        let options = crate::gui::options::GuiOptions {
            preset: Some(Preset::SlowReader),
            projector: true,
            lang: Some(Lang::Zh),
            ..Default::default()
        };
        let mut settings = chosen.clone();
        let flags = settings.take_options(&options);
        assert_eq!(settings.lab, Preset::SlowReader.config());
        assert!(settings.projector);
        // The run goes on as the flags said (the window remembers its
        // config with the capture on): the user's own settings are saved.
        settings.remember(
            &LabConfig {
                capture: true,
                ..Preset::SlowReader.config()
            },
            settings.resume_read_rate,
        );
        assert_eq!(settings.to_store(&flags), chosen);
        // What the window changed is kept, and only that.
        let changed = LabConfig {
            read_rate: Rate::Paused,
            ..Preset::SlowReader.config()
        };
        settings.remember(&changed, Rate::BytesPerSec(4096));
        settings.projector = false;
        let stored = settings.to_store(&flags);
        assert_eq!(stored.lab, changed);
        assert_eq!(stored.resume_read_rate, Rate::BytesPerSec(4096));
        assert!(!stored.projector);
        assert_eq!(
            stored.lang,
            Lang::En,
            "the language was left as --lang set it"
        );
    }

    #[test]
    fn stored_settings_survive_nonsense() {
        let broken = serde_json::json!({
            "sndbuf": 0,
            "rcvbuf": u64::MAX,
            "write_rate": "fast",
            "write_chunk": 0,
            "read_rate": "-3",
            "read_chunk": u64::MAX,
            "sample_hz": 0,
        });
        let config = repaired_config(broken);
        let default = Preset::Balanced.config();
        assert_eq!(config.sndbuf, None);
        assert_eq!(config.rcvbuf, None);
        assert_eq!(config.write_rate, default.write_rate);
        assert_eq!(config.read_rate, default.read_rate);
        assert_eq!(config.write_chunk, default.write_chunk);
        assert_eq!(config.read_chunk, default.read_chunk);
        assert_eq!(config.sample_hz, default.sample_hz);
        // Every preset's settings come back, but the endpoint: a private
        // link, like an outside peer, is chosen per run and never stored.
        for preset in Preset::ALL {
            let config = preset.config();
            let stored = serde_json::to_value(config).unwrap();
            assert_eq!(
                repaired_config(stored),
                LabConfig {
                    endpoint: Endpoint::Loopback,
                    ..config
                }
            );
        }
        // Unknown and missing fields fall back too.
        let parsed: Settings =
            serde_json::from_str(r#"{"projector": true, "nonsense": 3}"#).unwrap();
        assert!(parsed.projector);
        assert_eq!(parsed.lab, Settings::default().lab);
    }

    #[test]
    fn settings_round_trip_through_eframes_ron_without_the_endpoint() {
        let mut settings = Settings {
            projector: true,
            resume_read_rate: Rate::BytesPerSec(65536),
            ..Settings::default()
        };
        let listen = Endpoint::Listen("127.0.0.1:9000".parse().unwrap());
        settings.remember(
            &LabConfig {
                sndbuf: Some(Size(32 * 1024)),
                read_rate: Rate::Paused,
                endpoint: listen,
                ..Preset::SlowReader.config()
            },
            Rate::BytesPerSec(65536),
        );
        let text = ron::ser::to_string(&settings).unwrap();
        assert!(!text.contains("9000"), "{text}");
        let back: Settings = ron::from_str(&text).unwrap();
        assert_eq!(back.lab.endpoint, Endpoint::Loopback);
        assert_eq!(
            back.lab,
            LabConfig {
                endpoint: Endpoint::Loopback,
                ..settings.lab
            }
        );
        assert_eq!(back.resume_read_rate, Rate::BytesPerSec(65536));
        assert!(back.projector);
    }

    #[test]
    fn settings_written_by_earlier_versions_load() {
        // What sockscope 0.1 wrote: rates as text, sizes as numbers, a
        // paused rate to resume to as text.
        let old = r#"(lab:(sndbuf:Some(32768),rcvbuf:None,write_rate:"262144",write_chunk:4096,read_rate:"0",read_chunk:4096,sample_hz:200),projector:true,show_controls:false,export_dir:None,plot:(window_secs:20.0),resume_read_rate:"65536",lang:Zh)"#;
        let settings: Settings = ron::from_str(old).unwrap();
        assert_eq!(settings.lab.sndbuf, Some(Size(32768)));
        assert_eq!(settings.lab.rcvbuf, None);
        assert_eq!(settings.lab.write_rate, Rate::BytesPerSec(262144));
        assert_eq!(settings.lab.read_rate, Rate::Paused);
        assert_eq!(settings.lab.write_chunk, Size(4096));
        assert_eq!(settings.resume_read_rate, Rate::BytesPerSec(65536));
        assert!(settings.projector && !settings.show_controls);
        assert_eq!(settings.lang, Lang::Zh);
    }
}
