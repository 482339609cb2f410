//! The teacher's controls. Each has an accessible label and a number that
//! can be typed; they return actions and never touch the lab themselves.

use eframe::egui::{self, RichText};

use super::action::Action;
use super::theme::Palette;
use crate::i18n::{Lang, S};
use crate::lab::congestion::Congestion;
use crate::lab::link::{Loss, MAX_DELAY_MS, MIN_LINK_RATE};
use crate::lab::sampler::MAX_SAMPLE_HZ;
use crate::lab::scenario::BUILT_IN;
use crate::lab::units::format_bytes;
use crate::lab::{Cable, Endpoint, LabConfig, Preset, Rate, SessionInfo, Size};
use crate::run::Control;

/// What the panel edits between frames.
#[derive(Debug, Clone)]
pub struct Edits {
    pub pending: PendingBuffers,
    pub scenario: ScenarioPanel,
}

/// The scenario part of the panel: what is typed, and what happened.
#[derive(Debug, Clone, Default)]
pub struct ScenarioPanel {
    pub path: String,
    /// The last file's error, one sentence.
    pub error: Option<String>,
}

/// Buffer sizes being edited; they apply only on "Apply".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PendingBuffers {
    pub sndbuf: Option<Size>,
    pub rcvbuf: Option<Size>,
}

impl PendingBuffers {
    /// The sizes `config` asks for.
    pub fn of(config: &LabConfig) -> Self {
        PendingBuffers {
            sndbuf: config.sndbuf,
            rcvbuf: config.rcvbuf,
        }
    }
}

const KIB: f64 = 1024.0;

/// A rate control: a log slider in KiB/s with a typed value, a "no limit"
/// box, and (for the reader) a big Pause button elsewhere.
fn rate_control(ui: &mut egui::Ui, label: &str, rate: Rate, id: &str, lang: Lang) -> Option<Rate> {
    let mut changed = None;
    let unlimited = rate == Rate::Unlimited;
    let mut kib = rate.kib_per_sec().unwrap_or_else(|| {
        ui.ctx()
            .data(|d| d.get_temp::<f64>(egui::Id::unique((id, "last"))))
            .unwrap_or(1024.0)
    });
    ui.label(RichText::new(label).strong());
    ui.horizontal(|ui| {
        let slider = egui::Slider::new(&mut kib, 0.0..=200_000.0)
            .logarithmic(true)
            .smallest_positive(1.0)
            .suffix(" KiB/s")
            .max_decimals(0)
            .text("")
            .custom_formatter(|v, _| format!("{v:.0}"));
        let response = ui
            .add_enabled(!unlimited, slider)
            .on_hover_text(S::ZeroPauses.text(lang));
        response.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Slider, true, format!("{label} (KiB/s)"))
        });
        if response.changed() {
            ui.ctx()
                .data_mut(|d| d.insert_temp(egui::Id::unique((id, "last")), kib.max(1.0)));
            changed = Some(Rate::from_kib_per_sec(kib));
        }
    });
    let mut no_limit = unlimited;
    if ui
        .checkbox(&mut no_limit, S::NoLimit.fill(lang, &[&label]))
        .changed()
    {
        changed = Some(if no_limit {
            Rate::Unlimited
        } else {
            Rate::from_kib_per_sec(kib.max(1.0))
        });
    }
    changed
}

/// A size control in bytes on a log slider (1 B to `max`).
fn size_control(ui: &mut egui::Ui, label: &str, size: Size, max: f64) -> Option<Size> {
    let mut bytes = size.bytes() as f64;
    ui.label(RichText::new(label).strong());
    let response = ui.add(
        egui::Slider::new(&mut bytes, 1.0..=max)
            .logarithmic(true)
            .max_decimals(0)
            .suffix(" B")
            .text(""),
    );
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Slider, true, format!("{label} (bytes)"))
    });
    let response = response.on_hover_text(format_bytes(bytes as u64));
    response
        .changed()
        .then(|| Size(bytes.round().clamp(1.0, max) as u64))
}

/// A requested buffer size in KiB, or unset (kernel autotuning).
fn buffer_request(ui: &mut egui::Ui, label: &str, size: &mut Option<Size>, lang: Lang) {
    ui.label(RichText::new(label).strong());
    let mut autotune = size.is_none();
    let mut kib = size.map_or(64.0, |s| s.bytes() as f64 / KIB);
    ui.horizontal(|ui| {
        let response = ui.add_enabled(
            !autotune,
            egui::Slider::new(&mut kib, 1.0..=8192.0)
                .logarithmic(true)
                .max_decimals(0)
                .suffix(" KiB")
                .text(""),
        );
        response.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Slider, true, format!("{label} request (KiB)"))
        });
        if response.changed() {
            *size = Some(Size((kib.round().max(1.0) * KIB) as u64));
        }
    });
    if ui
        .checkbox(&mut autotune, S::Unset.fill(lang, &[&label]))
        .changed()
    {
        *size = if autotune {
            None
        } else {
            Some(Size((kib.round().max(1.0) * KIB) as u64))
        };
    }
}

/// The whole panel. `pending` holds buffer sizes not yet applied.
/// What the controls panel shows of the run: its settings, its connection,
/// the scenario playing and the link's cable.
pub struct Shown<'a> {
    pub config: &'a LabConfig,
    pub info: Option<&'a SessionInfo>,
    pub scenario_note: Option<&'a str>,
    pub cable: Cable,
    /// Why the private link or one of its settings could not be had.
    pub link_refused: Option<String>,
}

pub fn panel(
    ui: &mut egui::Ui,
    shown: Shown<'_>,
    edits: &mut Edits,
    palette: &Palette,
    lang: Lang,
) -> Vec<Action> {
    let Shown {
        config,
        info,
        scenario_note,
        cable,
        ..
    } = shown;
    let Edits { pending, scenario } = edits;
    let mut actions = Vec::new();
    if let Some(attached) = info.and_then(|i| i.attached.as_ref()) {
        attached_section(ui, attached, palette, lang, &mut actions);
        ui.separator();
        sampling_section(ui, config, lang, &mut actions);
        return actions;
    }
    reader_section(ui, config, palette, lang, &mut actions);
    ui.separator();
    writer_section(ui, config, lang, &mut actions);
    ui.separator();
    buffers_section(ui, config, info, pending, palette, lang, &mut actions);
    ui.separator();
    link_section(ui, config, info, cable, lang, &mut actions);
    if let Some(sentence) = &shown.link_refused {
        ui.label(RichText::new(sentence).small().color(palette.caution));
    }
    ui.separator();
    sampling_section(ui, config, lang, &mut actions);
    ui.separator();
    ui.horizontal_wrapped(|ui| {
        if ui.button(S::Restart.text(lang)).clicked() {
            actions.push(Action::Restart);
        }
        egui::ComboBox::from_label(S::Preset.text(lang))
            .selected_text(S::Load.text(lang))
            .show_ui(ui, |ui| {
                for preset in Preset::ALL {
                    if ui.selectable_label(false, preset.name()).clicked() {
                        actions.push(Action::LoadPreset(preset));
                    }
                }
            });
    });
    ui.separator();
    scenario_section(ui, scenario, scenario_note, palette, lang, &mut actions);
    actions
}

/// The largest send() or recv() size the sliders offer (1 MiB); a larger
/// one can still be set from a scenario or the command line.
const SLIDER_MAX_CHUNK: f64 = 1_048_576.0;

/// The big Pause button, the reader's rate and recv(bufsize).
fn reader_section(
    ui: &mut egui::Ui,
    config: &LabConfig,
    palette: &Palette,
    lang: Lang,
    actions: &mut Vec<Action>,
) {
    ui.heading(S::Reader.text(lang));
    let paused = config.read_rate.is_paused();
    let pause_text = if paused {
        S::ResumeReaderKey.text(lang)
    } else {
        S::PauseReaderKey.text(lang)
    };
    let mut text = RichText::new(pause_text).size(18.0 * palette.scale);
    let fill = if paused {
        // The paused colour is a bright yellow in the dark look: the
        // theme's white text on it was unreadable.
        text = text.color(super::theme::text_on(palette.paused));
        palette.paused
    } else {
        palette.glass
    };
    let button = egui::Button::new(text)
        .fill(fill)
        .min_size(egui::vec2(ui.available_width(), 36.0 * palette.scale));
    if ui.add(button).clicked() {
        actions.push(Action::TogglePause);
    }
    if let Some(rate) = rate_control(ui, S::ReaderRate.text(lang), config.read_rate, "read", lang) {
        actions.push(Action::Control(Control::ReadRate(rate)));
    }
    if let Some(size) = size_control(
        ui,
        S::RecvSize.text(lang),
        config.read_chunk,
        SLIDER_MAX_CHUNK,
    ) {
        actions.push(Action::Control(Control::ReadChunk(size)));
    }
}

/// The writer's rate and send(data) size.
fn writer_section(ui: &mut egui::Ui, config: &LabConfig, lang: Lang, actions: &mut Vec<Action>) {
    ui.heading(S::Writer.text(lang));
    if let Some(rate) = rate_control(
        ui,
        S::WriterRate.text(lang),
        config.write_rate,
        "write",
        lang,
    ) {
        actions.push(Action::Control(Control::WriteRate(rate)));
    }
    if let Some(size) = size_control(
        ui,
        S::SendSize.text(lang),
        config.write_chunk,
        SLIDER_MAX_CHUNK,
    ) {
        actions.push(Action::Control(Control::WriteChunk(size)));
    }
}

/// Another program's connection: nothing of it is ours to set, so the
/// panel says so, and offers the way back to the lab's own pair.
fn attached_section(
    ui: &mut egui::Ui,
    attached: &crate::lab::Attached,
    palette: &Palette,
    lang: Lang,
    actions: &mut Vec<Action>,
) {
    ui.heading(S::AttHeading.fill(lang, &[&attached.followed]));
    ui.label(RichText::new(S::AttReadOnlyNote.text(lang)).color(palette.caution));
    if ui.button(S::AttBackToLab.text(lang)).clicked() {
        actions.push(Action::Restart);
    }
}

/// The private link: on or off (a new connection), its rate at the
/// bottleneck and its cable, live.
fn link_section(
    ui: &mut egui::Ui,
    config: &LabConfig,
    info: Option<&SessionInfo>,
    cable: Cable,
    lang: Lang,
    actions: &mut Vec<Action>,
) {
    let running_congestion = info.map_or("", |info| info.congestion.as_str());
    ui.heading(S::LinkHeading.text(lang));
    if config.endpoint.is_outside() {
        ui.label(S::LinkNotWithPeer.text(lang));
        return;
    }
    let spec = match config.endpoint {
        Endpoint::Link(spec) => Some(spec),
        _ => None,
    };
    congestion_choice(ui, running_congestion, lang, actions);
    let mut on = spec.is_some();
    if ui
        .checkbox(&mut on, S::UseLink.text(lang))
        .on_hover_text(S::UseLinkHint.text(lang))
        .changed()
    {
        actions.push(Action::UseLink(on));
    }
    let Some(spec) = spec else {
        return;
    };
    if let Some(rate) = rate_control(ui, S::LinkRate.text(lang), spec.rate, "link", lang) {
        // The slider reaches 0; a link is never slower than its minimum.
        let rate = match rate {
            Rate::Unlimited => Rate::Unlimited,
            other => {
                let bytes = other.kib_per_sec().unwrap_or(0.0) * KIB;
                Rate::BytesPerSec((bytes as u64).max(MIN_LINK_RATE))
            }
        };
        actions.push(Action::Control(Control::LinkRate(rate)));
    }
    let lacks = info.map(|info| &info.link_lacks);
    let no_delay = lacks.is_some_and(|l| l.delay.is_some());
    if let Some(ms) = link_slider(
        ui,
        S::LinkDelay.text(lang),
        f64::from(spec.delay_ms),
        0.0..=f64::from(MAX_DELAY_MS),
        (S::MillisSuffix.text(lang), 0),
        !no_delay,
    ) {
        actions.push(Action::Control(Control::LinkDelay(ms.round() as u32)));
    }
    if no_delay {
        ui.label(RichText::new(S::NoNetem.text(lang)).small().weak());
    }
    let no_loss = lacks.is_some_and(|l| l.loss.is_some());
    if let Some(percent) = link_slider(
        ui,
        S::LinkLoss.text(lang),
        spec.loss.percent(),
        0.0..=100.0,
        (" %", 2),
        !no_loss,
    ) && let Some(loss) = Loss::from_percent(percent)
    {
        actions.push(Action::Control(Control::LinkLoss(loss)));
    }
    if no_loss {
        ui.label(RichText::new(S::NoNfTables.text(lang)).small().weak());
    }
    let text = if cable == Cable::Unplugged {
        S::PlugCable.text(lang)
    } else {
        S::UnplugCable.text(lang)
    };
    if ui.button(text).clicked() {
        actions.push(Action::ToggleCable);
    }
}

/// A link setting: a log slider with a typed value, disabled where the
/// kernel cannot apply it. `unit` is the suffix and the decimals shown.
fn link_slider(
    ui: &mut egui::Ui,
    label: &str,
    value: f64,
    range: std::ops::RangeInclusive<f64>,
    unit: (&str, usize),
    enabled: bool,
) -> Option<f64> {
    let mut value = value;
    ui.label(RichText::new(label).strong());
    let slider = egui::Slider::new(&mut value, range)
        .logarithmic(true)
        .smallest_positive(10f64.powi(-(unit.1 as i32)).max(0.01))
        .max_decimals(unit.1)
        .suffix(unit.0)
        .text("");
    let response = ui.add_enabled(enabled, slider);
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Slider,
            enabled,
            format!("{label} ({})", unit.0.trim()),
        )
    });
    response.changed().then_some(value)
}

/// The writer's congestion control: the one running, and the others the
/// kernel offers (choosing one makes a new connection).
fn congestion_choice(ui: &mut egui::Ui, running: &str, lang: Lang, actions: &mut Vec<Action>) {
    egui::ComboBox::from_label(S::CongestionControl.text(lang))
        .selected_text(running)
        .show_ui(ui, |ui| {
            for name in crate::lab::congestion::available() {
                if ui.selectable_label(name == running, &name).clicked()
                    && name != running
                    && let Ok(congestion) = Congestion::parse(&name)
                {
                    actions.push(Action::SetCongestion(congestion));
                }
            }
        });
}

/// SO_SNDBUF and SO_RCVBUF as asked and as the kernel set them; new sizes
/// apply with a new connection.
fn buffers_section(
    ui: &mut egui::Ui,
    config: &LabConfig,
    info: Option<&SessionInfo>,
    pending: &mut PendingBuffers,
    palette: &Palette,
    lang: Lang,
    actions: &mut Vec<Action>,
) {
    ui.heading(S::KernelBuffers.text(lang));
    buffer_request(ui, "SO_SNDBUF", &mut pending.sndbuf, lang);
    buffer_request(ui, "SO_RCVBUF", &mut pending.rcvbuf, lang);
    if let Some(info) = info {
        for setting in [&info.sndbuf, &info.rcvbuf] {
            ui.label(RichText::new(setting_text(setting, lang)).small());
        }
    }
    let changed = pending.sndbuf != config.sndbuf || pending.rcvbuf != config.rcvbuf;
    let apply = ui
        .add_enabled(changed, egui::Button::new(S::ApplySizes.text(lang)))
        .on_hover_text(S::ApplyHover.text(lang));
    if apply.clicked() {
        actions.push(Action::ApplyBuffers {
            sndbuf: pending.sndbuf,
            rcvbuf: pending.rcvbuf,
        });
    }
    ui.label(
        RichText::new(S::ApplyNote.text(lang))
            .small()
            .color(palette.weak_text),
    );
}

/// "SO_RCVBUF: asked 32 KiB, got 64 KiB (doubled)", or autotuned.
fn setting_text(setting: &crate::lab::BufferSetting, lang: Lang) -> String {
    match setting.requested {
        Some(asked) => {
            let how = if setting.clamped() {
                S::SizeCapped
            } else if setting.raised() {
                S::SizeRaised
            } else {
                S::SizeDoubled
            };
            S::SizeAsked.fill(
                lang,
                &[
                    &setting.kind.option(),
                    &format_bytes(asked),
                    &format_bytes(setting.effective),
                    &how.text(lang),
                ],
            )
        }
        None => S::SizeAutotuned.fill(
            lang,
            &[&setting.kind.option(), &format_bytes(setting.effective)],
        ),
    }
}

/// Samples per second, 1 to the sampler's limit.
fn sampling_section(ui: &mut egui::Ui, config: &LabConfig, lang: Lang, actions: &mut Vec<Action>) {
    ui.heading(S::Sampling.text(lang));
    let max = f64::from(MAX_SAMPLE_HZ);
    let mut hz = f64::from(config.sample_hz);
    let response = ui.add(
        egui::Slider::new(&mut hz, 1.0..=max)
            .logarithmic(true)
            .max_decimals(0)
            .suffix(" Hz")
            .text(""),
    );
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Slider, true, S::SampleRate.text(lang))
    });
    if response.changed() {
        actions.push(Action::Control(Control::SampleHz(
            hz.round().clamp(1.0, max) as u32,
        )));
    }
}

/// A built-in scenario, or a file's, and what the playing one did last.
fn scenario_section(
    ui: &mut egui::Ui,
    scenario: &mut ScenarioPanel,
    scenario_note: Option<&str>,
    palette: &Palette,
    lang: Lang,
    actions: &mut Vec<Action>,
) {
    ui.heading(S::Scenario.text(lang));
    egui::ComboBox::from_label(S::PlayScenario.text(lang))
        .selected_text(S::Choose.text(lang))
        .show_ui(ui, |ui| {
            for (name, _) in BUILT_IN {
                if ui.selectable_label(false, name).clicked() {
                    actions.push(Action::RunScenario(name));
                }
            }
        });
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(&mut scenario.path)
                .hint_text("scenario.toml")
                .desired_width(150.0),
        );
        field.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::TextInput, true, S::ScenarioFile.text(lang))
        });
        let run = ui.add_enabled(
            !scenario.path.trim().is_empty(),
            egui::Button::new(S::PlayFile.text(lang)),
        );
        if run.clicked() || (field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))) {
            actions.push(Action::RunScenarioFile(scenario.path.trim().into()));
        }
    });
    if let Some(error) = &scenario.error {
        ui.label(RichText::new(error).small().color(palette.alarm));
    } else if let Some(note) = scenario_note {
        ui.label(RichText::new(note).small());
    }
}
