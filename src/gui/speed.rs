//! What sets the speed on a link with a delay, in words under the caption:
//! the formula's figure (a window ÷ the round trip, or the link's rate) and
//! the measured speed side by side, then why, and what would go faster.
//! The decision is the lab's (`lab::speed`); this only words and draws it.

use eframe::egui::{self, RichText};

use crate::i18n::{Lang, S};
use crate::lab::speed::SpeedLimit;
use crate::speed_words::{figures, why};

use super::theme::Palette;

/// What the window says about the speed.
#[derive(Debug, Clone, PartialEq)]
pub enum SpeedShown {
    /// The link has a delay: what sets the speed over it.
    Limit {
        limit: SpeedLimit,
        /// The writer's congestion control (`bbr`, `cubic`).
        congestion: String,
    },
    /// The link was asked for a delay the kernel could not give (the
    /// sentence says why): it is not shown as if it had one.
    NoDelay { why: String, delay_ms: u32 },
}

/// Draws it under the caption.
pub fn show(ui: &mut egui::Ui, shown: &SpeedShown, palette: &Palette, lang: Lang) {
    // A size under the caption's: the timeline below needs the room too.
    let size = 14.0 * palette.scale;
    match shown {
        SpeedShown::Limit { limit, congestion } => {
            let (formula, measured, link) = figures(limit, lang);
            // The figures side by side; the link's rate is in its label
            // over the link already, so it goes only where room is left.
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(formula).size(size).strong())
                    .on_hover_text(S::SpeedWindowHover.text(lang));
                ui.label(
                    RichText::new(measured)
                        .size(size)
                        .strong()
                        .color(palette.ok),
                );
                if let Some(link) = link {
                    let width = ui
                        .painter()
                        .layout_no_wrap(
                            link.clone(),
                            egui::FontId::proportional(size),
                            palette.text,
                        )
                        .size()
                        .x;
                    if width < ui.available_size_before_wrap().x {
                        ui.label(RichText::new(link).size(size).color(palette.weak_text));
                    }
                }
            });
            ui.label(RichText::new(why(limit, congestion, lang)).size(size));
        }
        SpeedShown::NoDelay { why, delay_ms } => {
            ui.label(
                RichText::new(S::SpeedNoDelay.fill(lang, &[why, delay_ms]))
                    .size(size)
                    .color(palette.caution),
            );
        }
    }
}
