//! "How buffers work": the kernel facts behind the numbers on screen, with
//! this machine's own caps. Every line follows
//! ../shared/reference/linux-socket-facts.md.

use eframe::egui::{self, RichText};

use crate::i18n::{Lang, S};
use crate::lab::reuseaddr::ReuseTrial;
use crate::lab::units::format_bytes;
use crate::lab::{BufferSetting, SessionInfo};

fn setting_line(setting: &BufferSetting, lang: Lang) -> String {
    let cap = setting.kernel_max.map_or("?".into(), format_bytes);
    let option = setting.kind.option();
    let effective = format_bytes(setting.effective);
    // Autotuning's ceiling is the third value of tcp_wmem / tcp_rmem, not
    // the setsockopt cap.
    let autotune_max = match setting.kind {
        crate::lab::BufferKind::Send => "net.ipv4.tcp_wmem",
        crate::lab::BufferKind::Receive => "net.ipv4.tcp_rmem",
    };
    let sysctl = setting.kind.sysctl();
    match setting.requested {
        Some(asked) if setting.raised() => {
            S::InfoRaised.fill(lang, &[&option, &format_bytes(asked), &effective])
        }
        Some(asked) if setting.clamped() => S::InfoClamped.fill(
            lang,
            &[&option, &format_bytes(asked), &sysctl, &cap, &effective],
        ),
        Some(asked) => S::InfoDoubled.fill(
            lang,
            &[&option, &format_bytes(asked), &effective, &sysctl, &cap],
        ),
        None => S::InfoAutotuned.fill(lang, &[&option, &effective, &autotune_max]),
    }
}

/// The SO_REUSEADDR experiment's state in the panel.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ReuseState {
    #[default]
    NotRun,
    Running,
    Done(Result<Vec<ReuseTrial>, String>),
}

/// Shows the panel; returns true when the experiment should start.
pub fn show(ui: &mut egui::Ui, info: Option<&SessionInfo>, reuse: &ReuseState, lang: Lang) -> bool {
    let mut run = false;
    egui::ScrollArea::vertical()
        .max_height(520.0)
        .show(ui, |ui| {
            ui.label(RichText::new(S::InfoConnection.text(lang)).strong());
            if let Some(info) = info {
                ui.label(setting_line(&info.sndbuf, lang));
                ui.label(setting_line(&info.rcvbuf, lang));
            } else {
                ui.label(S::InfoNoConnection.text(lang));
            }
            let sections = [
                (
                    S::InfoSizes,
                    &[S::InfoSize1, S::InfoSize2, S::InfoSize3, S::InfoSize4][..],
                ),
                (
                    S::InfoCounts,
                    &[S::InfoCount1, S::InfoCount2, S::InfoCount3][..],
                ),
                (
                    S::InfoFlow,
                    &[
                        S::InfoFlow1,
                        S::InfoFlow2,
                        S::InfoFlow3,
                        S::InfoFlow4,
                        S::InfoFlow5,
                        S::InfoFlow6,
                    ][..],
                ),
            ];
            for (heading, lines) in sections {
                ui.add_space(6.0);
                ui.label(RichText::new(heading.text(lang)).strong());
                for line in lines {
                    ui.label(format!("• {}", line.text(lang)));
                }
            }
            ui.add_space(6.0);
            ui.label(RichText::new(S::ReuseTitle.text(lang)).strong());
            ui.label(S::ReuseIntro.text(lang));
            let running = *reuse == ReuseState::Running;
            if ui
                .add_enabled(!running, egui::Button::new(S::ReuseRun.text(lang)))
                .clicked()
            {
                run = true;
            }
            match reuse {
                ReuseState::NotRun => {}
                ReuseState::Running => {
                    ui.label(S::ReuseRunning.text(lang));
                }
                ReuseState::Done(Err(error)) => {
                    ui.label(S::ReuseError.fill(lang, &[error]));
                }
                ReuseState::Done(Ok(trials)) => {
                    let with =
                        |on: bool| if on { S::ReuseWith } else { S::ReuseWithout }.text(lang);
                    for trial in trials {
                        let outcome = match &trial.bind_error {
                            None => S::ReuseOk.text(lang).to_string(),
                            Some(error) => S::ReuseFailed.fill(lang, &[error]),
                        };
                        let line = S::ReuseRow.fill(
                            lang,
                            &[
                                &with(trial.old_reuse),
                                &with(trial.new_reuse),
                                &trial.port,
                                &outcome,
                            ],
                        );
                        ui.label(RichText::new(line).monospace());
                    }
                    ui.label(S::ReuseConclusion.text(lang));
                }
            }
        });
    run
}
