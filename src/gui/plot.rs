//! The timeline: send queue, in flight, receive queue and the reader's
//! throughput over time, with writer stalls and zero-window intervals
//! shaded. Whatever the zoom, the visible range is thinned to one min/max
//! column per pixel (`Timeline::thin`), so a frame costs about the same for
//! a minute of samples as for an hour.

use eframe::egui::{self, Color32, Vec2b};
use egui_plot::{GridInput, GridMark, HLine, Line, LineStyle, Plot, PlotBounds, PlotPoints, Span};

use super::theme::Palette;
use crate::i18n::{Lang, S};
use crate::lab::units::format_bytes;
use crate::lab::{SessionInfo, Thinned, Timeline};

/// What the user chose for the timeline; persisted.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PlotSettings {
    /// Seconds shown while following live.
    pub window_secs: f64,
}

impl Default for PlotSettings {
    fn default() -> Self {
        PlotSettings { window_secs: 20.0 }
    }
}

impl PlotSettings {
    /// The window to follow, repaired if a settings file held nonsense
    /// (negative, zero, NaN): then the default.
    pub fn window(&self) -> f64 {
        if self.window_secs == f64::INFINITY
            || (self.window_secs.is_finite() && self.window_secs >= 1.0)
        {
            self.window_secs
        } else {
            PlotSettings::default().window_secs
        }
    }
}

/// The timeline's windows, seconds: 10 s, 20 s, 1 min, 5 min and all.
pub const WINDOWS: [f64; 5] = [10.0, 20.0, 60.0, 300.0, f64::INFINITY];

/// A window's button, in the window's language: "1 min", "1 分钟".
pub fn window_label(secs: f64, lang: Lang) -> String {
    if !secs.is_finite() {
        S::All.text(lang).into()
    } else if secs >= 60.0 {
        S::Minutes.fill(lang, &[&(secs / 60.0).round()])
    } else {
        S::Seconds.fill(lang, &[&secs.round()])
    }
}

/// A time axis mark, whole seconds: "10 s", "10 秒".
fn seconds_mark(value: f64, lang: Lang) -> String {
    S::Seconds.fill(lang, &[&format!("{value:.0}")])
}

/// Per-frame state of the timeline view.
#[derive(Debug, Clone)]
pub struct PlotView {
    /// Scroll with the newest sample; off once the user pans or zooms.
    pub follow: bool,
    /// The last thinning, brought up to date while the view keeps its range
    /// (a paused zoom, or the whole run between range steps).
    cache: Option<(Option<u64>, Thinned)>,
}

impl Default for PlotView {
    fn default() -> Self {
        PlotView {
            follow: true,
            cache: None,
        }
    }
}

impl PlotView {
    fn thinned(
        &mut self,
        timeline: &Timeline,
        session: Option<u64>,
        (start, end): (f64, f64),
        columns: usize,
    ) -> &Thinned {
        let start_ns = (start.max(0.0) * 1e9) as u64;
        let end_ns = ((end.max(0.0) * 1e9) as u64).max(start_ns.saturating_add(1));
        let reusable = self.cache.as_ref().is_some_and(|(id, cached)| {
            *id == session
                && cached.t_start_ns == start_ns
                && cached.t_end_ns == end_ns
                && cached.columns.len() == columns
                && cached.newest_ns <= timeline.last().map(|s| s.t_ns)
        });
        match &mut self.cache {
            Some((_, cached)) if reusable => timeline.thin_update(cached),
            slot => *slot = Some((session, timeline.thin(start_ns, end_ns, columns))),
        }
        &self.cache.as_ref().expect("just filled").1
    }
}

/// Merges every `k` neighbouring columns (for the throughput, which needs a
/// few samples per point).
fn coarsen(thinned: &Thinned, k: usize) -> Thinned {
    let k = k.max(1);
    let columns = thinned
        .columns
        .chunks(k)
        .map(|group| {
            group
                .iter()
                .flatten()
                .fold(None, |merged: Option<crate::lab::SampleSpan>, span| {
                    Some(match merged {
                        Some(mut m) => {
                            m.merge(span);
                            m
                        }
                        None => *span,
                    })
                })
        })
        .collect::<Vec<_>>();
    let width = (thinned.t_end_ns - thinned.t_start_ns) as f64 / thinned.columns.len() as f64;
    Thinned {
        t_start_ns: thinned.t_start_ns,
        t_end_ns: thinned.t_start_ns + (width * (columns.len() * k) as f64) as u64,
        columns,
        before: thinned.before,
        items_visited: 0,
        newest_ns: thinned.newest_ns,
    }
}

/// Line points for one series: each column contributes its minimum and its
/// maximum, so the stroke covers every value the column held.
pub fn min_max_points(
    thinned: &Thinned,
    pick: impl Fn(&crate::lab::SampleSpan) -> (u32, u32),
) -> Vec<[f64; 2]> {
    let width = (thinned.t_end_ns - thinned.t_start_ns) as f64 / thinned.columns.len() as f64;
    let mut points = Vec::with_capacity(thinned.columns.len() * 2);
    for (c, column) in thinned.columns.iter().enumerate() {
        let Some(column) = column else { continue };
        let x = (thinned.t_start_ns as f64 + (c as f64 + 0.5) * width) / 1e9;
        let (min, max) = pick(column);
        points.push([x, f64::from(min)]);
        if max != min {
            points.push([x, f64::from(max)]);
        }
    }
    points
}

/// Runs of columns where `flag` holds, as time ranges in seconds.
pub fn flagged_ranges(
    thinned: &Thinned,
    flag: impl Fn(&crate::lab::SampleSpan) -> bool,
) -> Vec<(f64, f64)> {
    let width = (thinned.t_end_ns - thinned.t_start_ns) as f64 / thinned.columns.len() as f64;
    let x = |c: usize| (thinned.t_start_ns as f64 + c as f64 * width) / 1e9;
    let mut ranges = Vec::new();
    let mut start = None;
    for (c, column) in thinned.columns.iter().enumerate() {
        let on = column.as_ref().is_some_and(&flag);
        match (on, start) {
            (true, None) => start = Some(c),
            (false, Some(s)) => {
                ranges.push((x(s), x(c)));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        ranges.push((x(s), x(thinned.columns.len())));
    }
    ranges
}

/// The time range to show while following, in seconds: the last
/// `window_secs` up to the newest sample, or up to `now` (a recording's
/// cursor) when given. The whole run (an endless window) ends at the next
/// step of a coarse grid (at most 1/16 of the range ahead), so the range
/// stays put for many frames and its thinning is only brought up to date.
fn follow_range(timeline: &Timeline, window_secs: f64, now: Option<f64>) -> (f64, f64) {
    let newest = timeline.last().map_or(0.0, |s| s.t_secs());
    let newest = match now {
        Some(now) if window_secs.is_finite() => now,
        _ => newest,
    };
    if window_secs.is_finite() {
        let end = newest.max(window_secs);
        (end - window_secs, end)
    } else {
        let end = newest.max(1.0);
        let step = (end / 16.0).log2().floor().exp2();
        (0.0, (end / step).floor() * step + step)
    }
}

/// Draws both plots (buffers above, throughput below) into `ui`.
pub fn show(
    ui: &mut egui::Ui,
    timeline: &Timeline,
    info: Option<&SessionInfo>,
    settings: &PlotSettings,
    view: &mut PlotView,
    (palette, lang): (&Palette, Lang),
    moments: Moments,
) -> Option<f64> {
    let Moments { marked_s, now_s } = moments;
    let total_height = ui.available_height();
    // Too little room for two plots (a projector at 1024x768): buffers only.
    let show_rate = total_height >= 180.0;
    let rate_height = if show_rate {
        (total_height * 0.3).clamp(60.0, 160.0)
    } else {
        0.0
    };
    let group = egui::Id::unique("timeline-x");
    let shown = Shown {
        timeline,
        info,
        palette,
        lang,
        group,
        marked_s,
        now_s,
    };
    let height = (total_height - rate_height - 8.0).max(60.0);
    let mut clicked = None;
    let (mut interacted, shown_range) =
        buffers_plot(ui, &shown, settings, view, height, &mut clicked);
    if show_rate {
        ui.add_space(4.0);
        // The reader's rate from the same thinning, 4 columns a point.
        let coarse = view.cache.as_ref().map(|(_, thinned)| coarsen(thinned, 4));
        interacted |= throughput_plot(
            ui,
            &shown,
            coarse.as_ref(),
            shown_range,
            rate_height,
            &mut clicked,
        );
    }
    if interacted {
        view.follow = false;
    }
    clicked
}

/// The moment (s) under a click on the plot, not a drag: the moment the
/// buffers should show.
fn clicked_at(plot_ui: &egui_plot::PlotUi<'_>) -> Option<f64> {
    if !plot_ui.response().clicked() {
        return None;
    }
    plot_ui
        .pointer_coordinate()
        .map(|point| point.x)
        .filter(|x| x.is_finite() && *x >= 0.0)
}

/// What both plots show, and the id that links their x axes.
struct Shown<'a> {
    timeline: &'a Timeline,
    info: Option<&'a SessionInfo>,
    palette: &'a Palette,
    lang: Lang,
    group: egui::Id,
    /// A moment marked on the wire, in seconds: a line across the plots.
    marked_s: Option<f64>,
    /// A recording's cursor (s): following ends there, not at its end.
    now_s: Option<f64>,
}

/// The moments the timeline marks and follows (seconds).
#[derive(Debug, Clone, Copy, Default)]
pub struct Moments {
    /// A line across the plots: a moment marked, or a recording's cursor.
    pub marked_s: Option<f64>,
    /// A recording's cursor: following shows the window up to it, as a
    /// live run shows the window up to now.
    pub now_s: Option<f64>,
}

/// The user panned or zoomed this plot.
fn interacted_with(plot_ui: &egui_plot::PlotUi<'_>, scroll_counts: bool) -> bool {
    let response = plot_ui.response();
    response.dragged()
        || (scroll_counts
            && response.hovered()
            && plot_ui
                .ctx()
                .input(|i| i.smooth_scroll_delta != egui::Vec2::ZERO || i.zoom_delta() != 1.0))
}

/// The queues over time, with stalls and zero-window time shaded; returns
/// whether the user moved the view, and the time range shown (seconds).
fn buffers_plot(
    ui: &mut egui::Ui,
    shown: &Shown<'_>,
    settings: &PlotSettings,
    view: &mut PlotView,
    height: f32,
    clicked: &mut Option<f64>,
) -> (bool, (f64, f64)) {
    let Shown {
        timeline,
        info,
        palette,
        lang,
        group,
        marked_s,
        now_s,
    } = *shown;
    let capacity = info.map_or(0, |i| i.sndbuf.effective.max(i.rcvbuf.effective)) as f64;
    let peak = f64::from(timeline.peak_send_queue().max(timeline.peak_recv_queue()));
    let y_max = capacity.max(peak).max(1024.0) * 1.08;
    let (live_start, live_end) = follow_range(timeline, settings.window(), now_s);
    let mut interacted = false;
    let mut shown_range = (live_start, live_end);
    Plot::new("buffers")
        .height(height)
        .link_axis(group, Vec2b::new(true, false))
        .link_cursor(group, Vec2b::new(true, false))
        .y_axis_label(S::AxisBytes.text(lang))
        .y_grid_spacer(binary_marks)
        .y_axis_formatter(|mark, _| format_bytes(mark.value.max(0.0) as u64))
        .x_axis_formatter(move |mark, _| seconds_mark(mark.value, lang))
        .allow_double_click_reset(false)
        .show(ui, |plot_ui| {
            if view.follow {
                plot_ui.set_plot_bounds(PlotBounds::from_min_max(
                    [live_start, 0.0],
                    [live_end, y_max],
                ));
            } else {
                let bounds = plot_ui.plot_bounds();
                plot_ui.set_plot_bounds_y(0.0..=y_max.max(bounds.max()[1]));
            }
            // plot_bounds() is the last frame's until this one is drawn:
            // while following, the range set above is the one shown.
            if !view.follow {
                let bounds = plot_ui.plot_bounds();
                shown_range = (bounds.min()[0].max(0.0), bounds.max()[0].max(0.0));
            }
            // One column per physical pixel.
            let ppp = plot_ui.ctx().pixels_per_point();
            let width_px = plot_ui.transform().frame().width() * ppp;
            let columns = if width_px.is_finite() {
                width_px.round().clamp(1.0, 16_384.0) as usize
            } else {
                1
            };
            let thinned = view.thinned(timeline, info.map(|i| i.id), shown_range, columns);
            buffer_series(plot_ui, thinned, info, palette, lang);
            veil_after(plot_ui, now_s, shown_range);
            if let Some(t) = marked_s {
                plot_ui.vline(
                    egui_plot::VLine::new("", t)
                        .color(palette.caution)
                        .width(2.0),
                );
            }
            interacted = interacted_with(plot_ui, true);
            *clicked = clicked.or(clicked_at(plot_ui));
        });
    (interacted, shown_range)
}

/// A recording played back: what comes after the cursor is veiled (drawn
/// over with the plot's background, two thirds opaque), so the run so far
/// reads as it did live while the rest of the recording stays in view.
fn veil_after(plot_ui: &mut egui_plot::PlotUi<'_>, now_s: Option<f64>, shown: (f64, f64)) {
    let Some(now) = now_s.filter(|now| *now < shown.1) else {
        return;
    };
    let ctx = plot_ui.ctx();
    let background = ctx.style_of(ctx.theme()).visuals.extreme_bg_color;
    let veil = Color32::from_rgba_unmultiplied(background.r(), background.g(), background.b(), 170);
    plot_ui.span(
        Span::new("", now.max(shown.0)..=shown.1)
            .fill(veil)
            .border_width(0.0),
    );
}

/// The shading, the effective sizes and the three queue lines.
fn buffer_series(
    plot_ui: &mut egui_plot::PlotUi<'_>,
    thinned: &Thinned,
    info: Option<&SessionInfo>,
    palette: &Palette,
    lang: Lang,
) {
    for (start, end) in flagged_ranges(thinned, |c| c.any_zero_window) {
        plot_ui.span(
            Span::new("", start..=end)
                .fill(palette.caution.gamma_multiply(0.22))
                .border_width(0.0),
        );
    }
    for (start, end) in flagged_ranges(thinned, |c| c.any_writer_blocked) {
        plot_ui.span(
            Span::new("", start..=end)
                .fill(palette.alarm.gamma_multiply(0.22))
                .border_width(0.0),
        );
    }
    if let Some(info) = info {
        // The effective sizes: what the kernel stores after doubling.
        for (setting, color, style) in [
            (&info.sndbuf, palette.unsent, LineStyle::dashed_loose()),
            (&info.rcvbuf, palette.received, LineStyle::dashed_dense()),
        ] {
            plot_ui.hline(
                HLine::new(
                    format!(
                        "{} {}",
                        setting.kind.option(),
                        format_bytes(setting.effective)
                    ),
                    setting.effective as f64,
                )
                .color(color.gamma_multiply(0.7))
                .style(style)
                .width(1.0),
            );
        }
    }
    type Pick = fn(&crate::lab::SampleSpan) -> (u32, u32);
    let series: [(&str, Color32, Pick); 3] = [
        (S::SeriesSendQueue.text(lang), palette.unsent, |c| {
            (c.send_queue.min, c.send_queue.max)
        }),
        (S::SeriesInFlight.text(lang), palette.in_flight, |c| {
            (c.in_flight.min, c.in_flight.max)
        }),
        (S::SeriesRecvQueue.text(lang), palette.received, |c| {
            (c.recv_queue.min, c.recv_queue.max)
        }),
    ];
    for (name, color, pick) in series {
        plot_ui.line(
            Line::new(name, PlotPoints::from(min_max_points(thinned, pick)))
                .color(color)
                .width(palette.line_width),
        );
    }
    if info.is_some_and(|i| i.link.is_some()) {
        congestion_series(plot_ui, thinned, palette, lang);
    }
}

/// On a private link, where segments wait for their ACKs: the congestion
/// window (what the writer may have in flight) and, once a loss has set
/// one, the slow-start threshold, so slow start and its cut show.
fn congestion_series(
    plot_ui: &mut egui_plot::PlotUi<'_>,
    thinned: &Thinned,
    palette: &Palette,
    lang: Lang,
) {
    let cwnd = min_max_points(thinned, |c| (c.cwnd.min, c.cwnd.max));
    plot_ui.line(
        Line::new(S::SeriesCwnd.text(lang), PlotPoints::from(cwnd))
            .color(palette.cwnd)
            .style(LineStyle::dashed_dense())
            .width(palette.line_width),
    );
    // Columns without a threshold (0) draw nothing rather than a drop to 0.
    let ssthresh: Vec<[f64; 2]> = min_max_points(thinned, |c| (c.ssthresh.min, c.ssthresh.max))
        .into_iter()
        .filter(|p| p[1] > 0.0)
        .collect();
    if !ssthresh.is_empty() {
        plot_ui.line(
            Line::new(S::SeriesSsthresh.text(lang), PlotPoints::from(ssthresh))
                .color(palette.cwnd.gamma_multiply(0.7))
                .style(LineStyle::dotted_dense())
                .width(palette.line_width),
        );
    }
}

/// The reader's throughput under the buffers; returns whether the user
/// dragged it.
fn throughput_plot(
    ui: &mut egui::Ui,
    shown: &Shown<'_>,
    coarse: Option<&Thinned>,
    shown_range: (f64, f64),
    height: f32,
    clicked: &mut Option<f64>,
) -> bool {
    let (palette, lang) = (shown.palette, shown.lang);
    let mut interacted = false;
    Plot::new("throughput")
        .height(height)
        .link_axis(shown.group, Vec2b::new(true, false))
        .link_cursor(shown.group, Vec2b::new(true, false))
        .y_axis_label(S::AxisReadRate.text(lang))
        .y_grid_spacer(binary_marks)
        .y_axis_formatter(|mark, _| format!("{}/s", format_bytes(mark.value.max(0.0) as u64)))
        .x_axis_formatter(move |mark, _| seconds_mark(mark.value, lang))
        .allow_double_click_reset(false)
        .show(ui, |plot_ui| {
            let Some(thinned) = coarse else { return };
            let rates = thinned.read_rates();
            let width = (thinned.t_end_ns - thinned.t_start_ns) as f64 / rates.len() as f64;
            let points: Vec<[f64; 2]> = rates
                .iter()
                .enumerate()
                .filter_map(|(c, rate)| {
                    let x = (thinned.t_start_ns as f64 + (c as f64 + 1.0) * width) / 1e9;
                    rate.map(|r| [x.min(shown_range.1), r])
                })
                .collect();
            let top = points.iter().map(|p| p[1]).fold(1024.0, f64::max) * 1.15;
            plot_ui.set_plot_bounds_y(0.0..=top);
            plot_ui.line(
                Line::new(S::SeriesThroughput.text(lang), PlotPoints::from(points))
                    .color(palette.ok)
                    .width(palette.line_width),
            );
            veil_after(plot_ui, shown.now_s, shown_range);
            interacted = interacted_with(plot_ui, false);
            *clicked = clicked.or(clicked_at(plot_ui));
        });
    interacted
}

/// Grid lines at binary byte steps (1 KiB, 2 KiB, … 64 KiB, 128 KiB…), so
/// the axis reads 16 KiB, 32 KiB, 48 KiB instead of 19.5 KiB, 39.1 KiB.
pub fn binary_marks(input: GridInput) -> Vec<GridMark> {
    let (low, high) = input.bounds;
    let span = (high - low).max(1.0);
    // About five labelled lines, at a power of two, and no closer than
    // egui_plot's own minimum spacing allows (small plots get fewer).
    let mut step = 1.0_f64;
    while span / step > 6.0 || step < input.base_step_size * 4.0 {
        step *= 2.0;
    }
    let mut marks = Vec::new();
    for (step, limit) in [(step, 40), (step / 4.0, 200)] {
        if step < 1.0 {
            continue;
        }
        let mut value = (low / step).ceil() * step;
        let mut n = 0;
        while value <= high && n < limit {
            marks.push(GridMark {
                value,
                step_size: step,
            });
            value += step;
            n += 1;
        }
    }
    marks
}

/// The legend, as a row above the plots so it never hides data.
/// On a private link it names the congestion window and threshold too.
/// Watching another program's connection, the red band is its send buffer
/// too full to write into (its send() calls are not visible).
pub fn legend(ui: &mut egui::Ui, palette: &Palette, lang: Lang, link: bool, attached: bool) {
    let blocked = if attached {
        S::EvAttFull
    } else {
        S::LegendBlocked
    };
    let mut items: Vec<(Color32, &str, bool)> = vec![
        (palette.unsent, S::LegendSendQueue.text(lang), false),
        (palette.in_flight, S::LegendInFlight.text(lang), false),
        (palette.received, S::LegendRecvQueue.text(lang), false),
        (palette.alarm, blocked.text(lang), true),
        (palette.caution, S::LegendZeroWindow.text(lang), true),
    ];
    if link {
        items.push((palette.cwnd, S::LegendCwnd.text(lang), false));
    }
    ui.horizontal_wrapped(|ui| {
        for (color, label, shaded) in items {
            let size = egui::vec2(18.0, 12.0) * palette.scale;
            let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
            if shaded {
                ui.painter()
                    .rect_filled(rect, 2, color.gamma_multiply(0.35));
            } else {
                ui.painter().line_segment(
                    [rect.left_center(), rect.right_center()],
                    egui::Stroke::new(palette.line_width + 1.0, color),
                );
            }
            ui.label(egui::RichText::new(label).small());
            ui.add_space(6.0);
        }
    })
    .response
    .on_hover_text(S::LegendHover.text(lang));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Sample;

    /// Issue 29, item 12: the Chinese window showed "1 min / 5 min" and
    /// "10 s" beside its Chinese words.
    #[test]
    fn the_timelines_windows_and_marks_are_in_the_windows_language() {
        let zh: Vec<String> = WINDOWS.iter().map(|s| window_label(*s, Lang::Zh)).collect();
        assert_eq!(zh, ["10 秒", "20 秒", "1 分钟", "5 分钟", "全部"]);
        let en: Vec<String> = WINDOWS.iter().map(|s| window_label(*s, Lang::En)).collect();
        assert_eq!(en, ["10 s", "20 s", "1 min", "5 min", "all"]);
        assert_eq!(seconds_mark(10.0, Lang::Zh), "10 秒");
        assert_eq!(seconds_mark(10.0, Lang::En), "10 s");
    }

    #[test]
    fn byte_axes_step_in_powers_of_two() {
        let marks = binary_marks(GridInput {
            bounds: (0.0, 70_000.0),
            base_step_size: 1.0,
        });
        let major: Vec<f64> = marks
            .iter()
            .filter(|m| m.step_size == 16_384.0)
            .map(|m| m.value)
            .collect();
        assert_eq!(major, vec![0.0, 16_384.0, 32_768.0, 49_152.0, 65_536.0]);
    }

    #[test]
    fn shading_follows_the_flagged_columns() {
        let mut timeline = Timeline::new();
        for ms in 0..1000u64 {
            timeline.push(Sample {
                t_ns: ms * 1_000_000,
                zero_window: (200..400).contains(&ms),
                recv_queue: ms as u32,
                ..Sample::default()
            });
        }
        let thinned = timeline.thin(0, 1_000_000_000, 100);
        let ranges = flagged_ranges(&thinned, |c| c.any_zero_window);
        assert_eq!(ranges.len(), 1);
        let (start, end) = ranges[0];
        assert!(
            (start - 0.2).abs() < 0.011 && (end - 0.4).abs() < 0.011,
            "{start}..{end}"
        );
        let points = min_max_points(&thinned, |c| (c.recv_queue.min, c.recv_queue.max));
        // Two points (min and max) per column that saw a change.
        assert_eq!(points.len(), 200);
        assert_eq!(points.last().unwrap()[1], 999.0);
    }

    #[test]
    fn following_a_recording_ends_at_its_cursor_not_at_its_end() {
        let mut timeline = Timeline::new();
        for s in 0..=60u64 {
            timeline.push(Sample {
                t_ns: s * 1_000_000_000,
                ..Sample::default()
            });
        }
        // Live: the last 20 s up to the newest sample.
        assert_eq!(follow_range(&timeline, 20.0, None), (40.0, 60.0));
        // A recording at 30 s: the 20 s up to the cursor, as live was then;
        // near its start, its first 20 s.
        assert_eq!(follow_range(&timeline, 20.0, Some(30.0)), (10.0, 30.0));
        assert_eq!(follow_range(&timeline, 20.0, Some(5.0)), (0.0, 20.0));
        // The whole run stays the whole run, the cursor moving across it.
        let (start, end) = follow_range(&timeline, f64::INFINITY, Some(30.0));
        assert_eq!(start, 0.0);
        assert!(end >= 60.0, "{end}");
    }
}
