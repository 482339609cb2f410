//! The windows that float over the main view (Info, Messages, Step mode,
//! Server, Wire, Connections, Animation, Open…): where they may go, and
//! which one is on top, the one Esc closes.

use eframe::egui;

use crate::i18n::{Lang, S};

/// One floating window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Floating {
    Info,
    Messages,
    Steps,
    Server,
    Wire,
    Connections,
    Animation,
    Browse,
}

impl Floating {
    pub const ALL: [Floating; 8] = [
        Floating::Info,
        Floating::Messages,
        Floating::Steps,
        Floating::Server,
        Floating::Wire,
        Floating::Connections,
        Floating::Animation,
        Floating::Browse,
    ];

    /// Its title, which egui derives the window's id from.
    pub fn title(self) -> S {
        match self {
            Floating::Info => S::InfoTitle,
            Floating::Messages => S::MsgTitle,
            Floating::Steps => S::StepsTitle,
            Floating::Server => S::SrvTitle,
            Floating::Wire => S::WireTitle,
            Floating::Connections => S::ConnTitle,
            Floating::Animation => S::AnimTitle,
            Floating::Browse => S::BrowseTitle,
        }
    }

    /// The layer egui paints the window on: `egui::Window::new(title)`
    /// takes its id from the title's text.
    pub fn layer(self, lang: Lang) -> egui::LayerId {
        let title: Option<std::borrow::Cow<'_, str>> = Some(self.title().text(lang).into());
        egui::LayerId::new(egui::Order::Middle, egui::Id::unique(title))
    }
}

fn area_key() -> egui::Id {
    egui::Id::unique("sockscope-floating-area")
}

/// Remembers the room under the top bar (and above the status line) for
/// this frame's windows.
pub fn set_area(ctx: &egui::Context, area: egui::Rect) {
    ctx.data_mut(|d| d.insert_temp(area_key(), area));
}

/// The room a floating window may take: under the top bar, so none covers
/// its buttons (the whole window before the top bar is laid out).
pub fn area(ctx: &egui::Context) -> egui::Rect {
    ctx.data(|d| d.get_temp(area_key()))
        .unwrap_or_else(|| ctx.content_rect())
}

/// Moves every floating window whose title bar went above `area` back
/// under its top: a window built without `constrain_to(area)` (or dragged
/// up this frame) is put back before the next.
pub fn keep_below_top(ctx: &egui::Context, area: egui::Rect) {
    let layers: Vec<egui::LayerId> = ctx.memory(|m| {
        m.layer_ids()
            .filter(|l| l.order == egui::Order::Middle && m.areas().is_visible(l))
            .collect()
    });
    for layer in layers {
        let Some(mut state) = egui::AreaState::load(ctx, layer.id) else {
            continue;
        };
        let top_left = state.left_top_pos();
        if state.pivot_pos.is_some() && top_left.y < area.top() {
            state.set_left_top_pos(egui::pos2(top_left.x, area.top()));
            ctx.memory_mut(|m| m.areas_mut().set_state(layer, state));
        }
    }
}

/// Of the windows open, the one painted on top (the one last opened or
/// last clicked); `open` says which are open.
pub fn topmost(
    ctx: &egui::Context,
    lang: Lang,
    open: impl Fn(Floating) -> bool,
) -> Option<Floating> {
    let open: Vec<(Floating, egui::LayerId)> = Floating::ALL
        .into_iter()
        .filter(|w| open(*w))
        .map(|w| (w, w.layer(lang)))
        .collect();
    let order: Vec<egui::LayerId> = ctx.memory(|m| m.layer_ids().collect());
    open.iter()
        .max_by_key(|(_, layer)| order.iter().position(|l| l == layer))
        .map(|(w, _)| *w)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layer named here is the one egui gives a window of that title,
    /// in both languages (egui derives it from the title's text).
    #[test]
    fn a_windows_layer_is_the_one_egui_paints_it_on() {
        let ctx = egui::Context::default();
        for lang in [Lang::En, Lang::Zh] {
            let mut shown = None;
            let _ = ctx.run_ui(egui::RawInput::default(), |ui| {
                shown = egui::Window::new(S::WireTitle.text(lang))
                    .show(ui.ctx(), |ui| ui.label("x"))
                    .map(|r| r.response.layer_id);
            });
            assert_eq!(shown, Some(Floating::Wire.layer(lang)), "{lang:?}");
        }
    }
}
