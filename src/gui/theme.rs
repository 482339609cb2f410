//! The two looks: a dark one for a laptop, and projector mode, a light,
//! high-contrast theme with large text and thick lines that survives a
//! washed-out classroom projector at 1024×768.

use eframe::egui::{self, Color32, FontId, Stroke, TextStyle};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Palette {
    pub projector: bool,
    pub text: Color32,
    pub weak_text: Color32,
    pub panel: Color32,
    /// Sent but not yet acknowledged (in flight).
    pub in_flight: Color32,
    /// Written by send() but not yet sent.
    pub unsent: Color32,
    /// Received, waiting for recv().
    pub received: Color32,
    pub glass: Color32,
    pub edge: Color32,
    /// Blocked writer, closed window, full buffer.
    pub alarm: Color32,
    /// Zero window shading and caution.
    pub caution: Color32,
    pub ok: Color32,
    /// The congestion window and slow-start threshold in the timeline.
    pub cwnd: Color32,
    pub paused: Color32,
    /// A socket's kernel memory (its queue with each segment's overhead).
    pub memory: Color32,
    /// Plot and diagram line width, points.
    pub line_width: f32,
    /// Multiplier for the big numbers over the vessels.
    pub scale: f32,
}

impl Palette {
    pub fn new(projector: bool) -> Self {
        if projector {
            Palette {
                projector,
                text: Color32::BLACK,
                weak_text: Color32::from_gray(40),
                panel: Color32::WHITE,
                in_flight: Color32::from_rgb(0, 90, 200),
                unsent: Color32::from_rgb(110, 40, 170),
                received: Color32::from_rgb(0, 125, 60),
                glass: Color32::from_gray(236),
                edge: Color32::BLACK,
                alarm: Color32::from_rgb(200, 0, 0),
                caution: Color32::from_rgb(215, 120, 0),
                ok: Color32::from_rgb(0, 120, 40),
                cwnd: Color32::from_rgb(180, 60, 120),
                paused: Color32::from_rgb(150, 100, 0),
                memory: Color32::from_rgb(130, 85, 20),
                line_width: 3.0,
                scale: 1.3,
            }
        } else {
            Palette {
                projector,
                text: Color32::from_gray(235),
                weak_text: Color32::from_gray(170),
                panel: Color32::from_gray(27),
                in_flight: Color32::from_rgb(80, 170, 255),
                unsent: Color32::from_rgb(175, 120, 255),
                received: Color32::from_rgb(70, 205, 120),
                glass: Color32::from_gray(45),
                edge: Color32::from_gray(200),
                alarm: Color32::from_rgb(255, 80, 70),
                caution: Color32::from_rgb(255, 170, 40),
                ok: Color32::from_rgb(90, 210, 120),
                cwnd: Color32::from_rgb(255, 120, 190),
                paused: Color32::from_rgb(240, 200, 60),
                memory: Color32::from_rgb(215, 170, 100),
                line_width: 1.8,
                scale: 1.0,
            }
        }
    }
}

/// Black or white, whichever reads better on `fill` (the larger WCAG
/// contrast ratio): text on a coloured button.
pub fn text_on(fill: Color32) -> Color32 {
    if contrast(Color32::BLACK, fill) >= contrast(Color32::WHITE, fill) {
        Color32::BLACK
    } else {
        Color32::WHITE
    }
}

/// WCAG's contrast ratio of two colours, 1 (none) to 21 (black on white).
pub fn contrast(a: Color32, b: Color32) -> f32 {
    let luminance = |c: Color32| {
        let channel = |v: u8| {
            let v = f32::from(v) / 255.0;
            if v <= 0.039_28 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(c.r()) + 0.7152 * channel(c.g()) + 0.0722 * channel(c.b())
    };
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Applies the look to the whole context.
pub fn apply(ctx: &egui::Context, projector: bool) {
    let palette = Palette::new(projector);
    let theme = if projector {
        egui::Theme::Light
    } else {
        egui::Theme::Dark
    };
    ctx.set_theme(theme);
    let mut style = (*ctx.style_of(theme)).clone();
    let mut visuals = if projector {
        egui::Visuals::light()
    } else {
        egui::Visuals::dark()
    };
    if projector {
        visuals.override_text_color = Some(palette.text);
        visuals.panel_fill = palette.panel;
        visuals.window_fill = palette.panel;
        visuals.extreme_bg_color = Color32::WHITE;
        let thick = Stroke::new(2.0, Color32::BLACK);
        visuals.widgets.noninteractive.bg_stroke = Stroke::new(1.5, Color32::from_gray(60));
        visuals.widgets.inactive.bg_stroke = thick;
        visuals.widgets.hovered.bg_stroke = Stroke::new(3.0, Color32::BLACK);
        visuals.widgets.active.bg_stroke = Stroke::new(3.0, Color32::BLACK);
        visuals.widgets.inactive.fg_stroke = Stroke::new(2.0, Color32::BLACK);
        visuals.selection.bg_fill = Color32::from_rgb(0, 90, 200);
        visuals.selection.stroke = Stroke::new(2.0, Color32::WHITE);
    }
    style.visuals = visuals;
    let (body, heading, small, mono) = if projector {
        (19.0, 26.0, 15.0, 17.0)
    } else {
        (14.0, 20.0, 11.5, 13.0)
    };
    style.text_styles = [
        (TextStyle::Heading, FontId::proportional(heading)),
        (TextStyle::Body, FontId::proportional(body)),
        (TextStyle::Button, FontId::proportional(body)),
        (TextStyle::Small, FontId::proportional(small)),
        (TextStyle::Monospace, FontId::monospace(mono)),
    ]
    .into();
    style.spacing.slider_width = if projector { 150.0 } else { 140.0 };
    style.spacing.interact_size.y = if projector { 26.0 } else { 20.0 };
    ctx.set_style_of(theme, style);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_on_the_paused_colour_reads_in_both_looks() {
        for projector in [false, true] {
            let paused = Palette::new(projector).paused;
            let ratio = contrast(text_on(paused), paused);
            // WCAG AA for large text is 3, for body text 4.5.
            assert!(ratio >= 4.5, "projector {projector}: {ratio:.1}");
        }
        assert!((contrast(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 0.01);
        assert_eq!(text_on(Color32::from_rgb(240, 200, 60)), Color32::BLACK);
    }
}
