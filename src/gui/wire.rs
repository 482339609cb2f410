//! The wire window (W): the connection's real packets on its private link,
//! as a ladder diagram (time downward, writer left, reader right) and as a
//! sequence graph (tcptrace's: bytes sent, acknowledged, and the window's
//! right edge over time). Clicking a packet marks its moment, and the
//! buffers show that moment.

use eframe::egui::{
    self, Align2, Color32, FontId, Pos2, Rect, RichText, Sense, Stroke, pos2, vec2,
};
use egui_plot::{Line, Plot, PlotPoints, Points};

use super::theme::Palette;
use crate::export::recording::{NoReplay, RecordedWire};
use crate::i18n::{Lang, S};
use crate::lab::units::format_bytes;
use crate::lab::wire_log::{SegmentKind, WireEntry, WireLog};
use crate::lab::{CaptureState, Sample, SessionInfo};

/// Seconds shown top to bottom: from 1 ms to a minute.
const MIN_SPAN: f64 = 0.001;
const MAX_SPAN: f64 = 60.0;
/// Rows closer than this get no label.
const LABEL_ROW: f32 = 15.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireTab {
    Ladder,
    Sequence,
}

/// What the window keeps between frames.
#[derive(Debug, Clone)]
pub struct WireWindow {
    pub open: bool,
    /// The newest packets at the bottom, moving with the run.
    pub follow: bool,
    /// Seconds shown top to bottom.
    pub span_s: f64,
    /// The top of the view, in session seconds, when not following.
    pub top_s: f64,
    pub tab: WireTab,
}

impl Default for WireWindow {
    fn default() -> Self {
        WireWindow {
            open: false,
            follow: true,
            span_s: 0.05,
            top_s: 0.0,
            tab: WireTab::Ladder,
        }
    }
}

/// What the run shows the window.
pub struct WireShown<'a> {
    pub log: Option<&'a WireLog>,
    pub info: Option<&'a SessionInfo>,
    pub last: Option<&'a Sample>,
    /// Frames captured and dropped by the capture.
    pub counts: Option<(u64, u64)>,
    /// The moment marked, ns on the session's clock.
    pub marked_ns: Option<i64>,
    /// A recording played back: its packets up to the cursor, as the run
    /// saw them then.
    pub replay: Option<Replay<'a>>,
}

/// What a recording's playback shows the window.
pub struct Replay<'a> {
    /// The cursor, ns on the session's clock: later packets have not
    /// happened yet.
    pub now_ns: i64,
    /// The pcap replayed, or why there is none.
    pub wire: Option<&'a Result<RecordedWire, NoReplay>>,
}

/// The color and legend name of each kind.
fn look(kind: SegmentKind, palette: &Palette) -> Color32 {
    match kind {
        SegmentKind::Data => palette.in_flight,
        SegmentKind::Retransmission => palette.alarm,
        SegmentKind::Ack => palette.received,
        SegmentKind::DupAck => palette.caution,
        SegmentKind::WindowUpdate => palette.ok,
        SegmentKind::ZeroWindow => palette.alarm,
        SegmentKind::ZeroWindowProbe => palette.paused,
        SegmentKind::Syn | SegmentKind::SynAck | SegmentKind::Fin => palette.unsent,
        SegmentKind::Rst => palette.alarm,
    }
}

/// The label a segment gets on the ladder.
pub fn label(entry: &WireEntry, lang: Lang) -> String {
    let window = || format_bytes(u64::from(entry.window));
    match entry.kind {
        SegmentKind::Syn => S::KindSyn.text(lang).into(),
        SegmentKind::SynAck => S::KindSynAck.text(lang).into(),
        SegmentKind::Data => S::KindData.fill(lang, &[&entry.seq, &entry.len]),
        SegmentKind::Retransmission => S::KindRetransmission.fill(lang, &[&entry.seq, &entry.len]),
        SegmentKind::Ack => S::KindAck.fill(lang, &[&entry.ack, &window()]),
        SegmentKind::DupAck => S::KindDupAck.fill(lang, &[&entry.ack]),
        SegmentKind::WindowUpdate => S::KindWindowUpdate.fill(lang, &[&window()]),
        SegmentKind::ZeroWindow => S::KindZeroWindow.fill(lang, &[&entry.ack]),
        SegmentKind::ZeroWindowProbe => S::KindProbe.text(lang).into(),
        SegmentKind::Fin => S::KindFin.text(lang).into(),
        SegmentKind::Rst => S::KindRst.text(lang).into(),
    }
}

impl WireWindow {
    /// Draws the window; returns a moment the user marked (ns), if any,
    /// and where the window is.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        shown: &WireShown<'_>,
        palette: &Palette,
        lang: Lang,
    ) -> (Option<i64>, Option<egui::Rect>) {
        let mut marked = None;
        let mut open = self.open;
        let response = egui::Window::new(S::WireTitle.text(lang))
            .open(&mut open)
            .constrain_to(super::floating::area(ctx))
            .default_pos(ctx.content_rect().right_top() + vec2(-600.0, 40.0))
            .default_size(vec2(560.0, 620.0))
            .show(ctx, |ui| {
                marked = self.contents(ui, shown, palette, lang);
            });
        self.open = open;
        (marked, response.map(|r| r.response.rect))
    }

    fn contents(
        &mut self,
        ui: &mut egui::Ui,
        shown: &WireShown<'_>,
        palette: &Palette,
        lang: Lang,
    ) -> Option<i64> {
        if let Some(replay) = &shown.replay {
            return self.replayed(ui, replay, shown.marked_ns, palette, lang);
        }
        let Some(log) = shown.log else {
            // On a link whose capture failed, the system's reason; anywhere
            // else, where the wire is captured.
            let why = match shown.info {
                Some(info) if info.link.is_some() => match &info.capture {
                    CaptureState::Failed(sentence) => sentence.clone(),
                    _ => S::WireNeedsLink.text(lang).into(),
                },
                _ => S::WireNeedsLink.text(lang).into(),
            };
            ui.label(why);
            return None;
        };
        let (captured, dropped) = shown.counts.unwrap_or_default();
        let (sent, received) = log.by_side();
        let last = shown.last.copied().unwrap_or_default();
        let kernel = last.sender;
        let mut counts = S::WireCounts.fill(
            lang,
            &[
                &captured,
                &dropped,
                &sent,
                &kernel.segs_out,
                &received,
                &kernel.segs_in,
            ],
        );
        if last.bottleneck.drops > 0 {
            counts += &S::WireBottleneckDrops.fill(lang, &[&last.bottleneck.drops]);
        }
        ui.label(RichText::new(counts).small());
        let newest = log.last_t_ns().unwrap_or(0);
        self.views(ui, log, (newest, false), shown.marked_ns, palette, lang)
    }

    /// A recording's packets up to its cursor; its pcap's name, or why
    /// there are none.
    fn replayed(
        &mut self,
        ui: &mut egui::Ui,
        replay: &Replay<'_>,
        marked_ns: Option<i64>,
        palette: &Palette,
        lang: Lang,
    ) -> Option<i64> {
        let wire = match replay.wire {
            None => {
                ui.label(S::WireNoReplay.text(lang));
                return None;
            }
            Some(Err(NoReplay::Unreadable { pcap, error })) => {
                ui.label(S::WireReplayUnreadable.fill(lang, &[&pcap.display(), error]));
                return None;
            }
            Some(Err(NoReplay::NoClock { pcap })) => {
                ui.label(S::WireReplayNoClock.fill(lang, &[&pcap.display()]));
                return None;
            }
            Some(Ok(wire)) => wire,
        };
        let log = &wire.log;
        let so_far = log.range(i64::MIN, replay.now_ns.saturating_add(1)).end;
        let name = wire
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        ui.label(
            RichText::new(S::WireReplayed.fill(lang, &[&name, &so_far, &log.entries().len()]))
                .small(),
        );
        self.views(ui, log, (replay.now_ns, true), marked_ns, palette, lang)
    }

    /// The tabs, the span and the ladder or the sequence graph, of the
    /// packets up to `now_ns` (the newest, live; a recording's cursor when
    /// `replaying`).
    fn views(
        &mut self,
        ui: &mut egui::Ui,
        log: &WireLog,
        (now_ns, replaying): (i64, bool),
        marked_ns: Option<i64>,
        palette: &Palette,
        lang: Lang,
    ) -> Option<i64> {
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(&mut self.tab, WireTab::Ladder, S::WireLadder.text(lang));
            ui.selectable_value(&mut self.tab, WireTab::Sequence, S::WireSequence.text(lang));
            ui.separator();
            let follow = if replaying {
                S::WireFollowCursor
            } else {
                S::WireFollow
            };
            ui.toggle_value(&mut self.follow, follow.text(lang));
            ui.label(S::WireSpan.text(lang));
            let slider = egui::Slider::new(&mut self.span_s, MIN_SPAN..=MAX_SPAN)
                .logarithmic(true)
                .suffix(S::SecondsSuffix.text(lang))
                .max_decimals(3)
                .text("");
            let response = ui.add(slider);
            response.widget_info(|| {
                egui::WidgetInfo::labeled(
                    egui::Role::Slider,
                    true,
                    format!("{} ({})", S::WireSpan.text(lang), S::SecondsUnit.text(lang)),
                )
            });
        });
        let newest = now_ns as f64 / 1e9;
        if self.follow {
            // The newest packet near the bottom, its label in view.
            self.top_s = newest - self.span_s * 0.9;
        }
        match self.tab {
            WireTab::Ladder => {
                legend(ui, palette, lang);
                ui.label(RichText::new(S::WireClickHint.text(lang)).small().weak());
                self.ladder(ui, log, now_ns, marked_ns, palette, lang)
            }
            WireTab::Sequence => {
                sequence_graph(
                    ui,
                    log,
                    (self.top_s, (self.top_s + self.span_s).min(newest + 1e-9)),
                    palette,
                    lang,
                );
                None
            }
        }
    }

    /// The ladder: returns the moment clicked.
    fn ladder(
        &mut self,
        ui: &mut egui::Ui,
        log: &WireLog,
        now_ns: i64,
        marked_ns: Option<i64>,
        palette: &Palette,
        lang: Lang,
    ) -> Option<i64> {
        let size = vec2(ui.available_width(), ui.available_height().max(220.0));
        let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        response.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Canvas, true, S::WireLadderArea.text(lang))
        });
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, palette.glass.gamma_multiply(0.5));
        let margin = 70.0;
        let writer_x = rect.left() + margin + 30.0;
        let reader_x = rect.right() - 30.0;
        let font = FontId::proportional(12.0 * palette.scale.min(1.15));
        // The thinning, from the view before this frame's drag or zoom:
        // the head needs to know whether it has a note to hold.
        let (t0, span) = (self.top_s, self.span_s);
        let in_view = log
            .range(
                (t0 * 1e9) as i64,
                (((t0 + span) * 1e9) as i64).min(now_ns.saturating_add(1)),
            )
            .len();
        let rows = (rect.height() - 22.0).max(1.0) as usize;
        let stride = in_view.div_ceil(rows).max(1);
        let names = [
            painter.layout_no_wrap(
                S::WireWriterSide.text(lang).into(),
                font.clone(),
                palette.text,
            ),
            painter.layout_no_wrap(
                S::WireReaderSide.text(lang).into(),
                font.clone(),
                palette.text,
            ),
        ];
        let note = (stride > 1).then(|| {
            painter.layout(
                S::WireThinned.fill(lang, &[&in_view, &stride]),
                FontId::proportional(11.0),
                palette.weak_text,
                rect.width() - 8.0,
            )
        });
        let head_layout = ladder_head(
            rect,
            [writer_x, reader_x],
            [names[0].size(), names[1].size()],
            note.as_ref().map(|g| g.size()),
        );
        let head = head_layout.height;
        let body = Rect::from_min_max(pos2(rect.left(), rect.top() + head), rect.max);
        let y_of = |t_s: f64| body.top() + ((t_s - t0) / span) as f32 * body.height();
        let t_of = |y: f32| t0 + f64::from((y - body.top()) / body.height()) * span;
        // Drag scrolls, the wheel zooms around the pointer.
        if response.dragged() {
            self.follow = false;
            self.top_s -= f64::from(response.drag_delta().y / body.height()) * span;
        }
        if response.hovered() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0 {
                let at = response.hover_pos().map_or(t0 + span / 2.0, |p| t_of(p.y));
                let factor = (-f64::from(scroll) / 200.0).exp();
                let new_span = (span * factor).clamp(MIN_SPAN, MAX_SPAN);
                self.top_s = at - (at - t0) * new_span / span;
                self.span_s = new_span;
                self.follow = false;
            }
        }
        let [writer_name, reader_name] = names;
        for (x, name, at) in [
            (writer_x, writer_name, head_layout.writer),
            (reader_x, reader_name, head_layout.reader),
        ] {
            painter.galley(at.min, name, palette.text);
            painter.line_segment(
                [pos2(x, body.top()), pos2(x, body.bottom())],
                Stroke::new(2.0, palette.edge),
            );
        }
        time_ticks(&painter, body, (t0, span), &font, palette, lang);
        // Nothing after now (a recording's cursor) is drawn.
        let range = log.range(
            (t0 * 1e9) as i64,
            (((t0 + span) * 1e9) as i64).min(now_ns.saturating_add(1)),
        );
        let entries = log.entries();
        let count = range.len();
        // At most one arrow per pixel row: thinned like the timeline.
        let rows = body.height().max(1.0) as usize;
        let stride = count.div_ceil(rows).max(1);
        let slant = 5.0;
        let row_gap = body.height() / (count.div_ceil(stride).max(1) as f32);
        let mut nearest: Option<(f32, i64)> = None;
        let mut last_label_y = f32::NEG_INFINITY;
        let pointer = response.interact_pointer_pos();
        for index in range.clone().step_by(stride) {
            let entry = &entries[index];
            let y = y_of(entry.t_ns as f64 / 1e9);
            let (from, to) = if entry.from_writer {
                (writer_x, reader_x)
            } else {
                (reader_x, writer_x)
            };
            let color = look(entry.kind, palette);
            arrow(&painter, pos2(from, y), pos2(to, y + slant), color);
            // Packets a hair apart (a burst of ACKs) share one label's room.
            if row_gap >= LABEL_ROW && y - last_label_y >= LABEL_ROW {
                last_label_y = y;
                painter.text(
                    pos2((writer_x + reader_x) / 2.0, y - 1.0),
                    Align2::CENTER_BOTTOM,
                    label(entry, lang),
                    font.clone(),
                    color,
                );
            }
            if let Some(p) = pointer {
                let distance = (p.y - y).abs();
                if nearest.is_none_or(|(d, _)| distance < d) {
                    nearest = Some((distance, entry.t_ns));
                }
            }
        }
        // Laid out again with this frame's figures (a drag or zoom moved
        // the view), right-aligned where the head left room for it.
        if let (true, Some(at)) = (stride > 1, head_layout.note) {
            let note = painter.layout(
                S::WireThinned.fill(lang, &[&count, &stride]),
                FontId::proportional(11.0),
                palette.weak_text,
                rect.width() - 8.0,
            );
            painter.galley(
                pos2(
                    (at.right() - note.size().x).max(rect.left() + 4.0),
                    at.top(),
                ),
                note,
                palette.weak_text,
            );
        }
        if let Some(t) = marked_ns {
            let y = y_of(t as f64 / 1e9);
            if body.y_range().contains(y) {
                painter.line_segment(
                    [pos2(body.left(), y), pos2(body.right(), y)],
                    Stroke::new(2.0, palette.caution),
                );
            }
        }
        if response.clicked() {
            // The packet nearest the click, else the clicked moment.
            return match (nearest, pointer) {
                (Some((d, t)), _) if d <= 8.0 => Some(t),
                (_, Some(p)) => Some((t_of(p.y) * 1e9) as i64),
                _ => None,
            };
        }
        None
    }
}

/// Where the ladder's head puts its words.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LadderHead {
    pub writer: Rect,
    pub reader: Rect,
    /// "N packets in view: one arrow in M is drawn", when thinned.
    pub note: Option<Rect>,
    /// The head's height: the arrows start below it.
    pub height: f32,
}

/// The ladder's head in `rect`: each side's name centred over its line
/// (`xs`), and the thinning note on a row of its own under them. At the
/// top right it sat on the reader's name.
pub fn ladder_head(
    rect: Rect,
    xs: [f32; 2],
    names: [egui::Vec2; 2],
    note: Option<egui::Vec2>,
) -> LadderHead {
    let top = rect.top() + 4.0;
    let name_rect = |x: f32, size: egui::Vec2| {
        // Kept inside the ladder however narrow it is.
        let left = (x - size.x / 2.0).clamp(
            rect.left() + 2.0,
            (rect.right() - 2.0 - size.x).max(rect.left() + 2.0),
        );
        Rect::from_min_size(pos2(left, top), size)
    };
    let writer = name_rect(xs[0], names[0]);
    let reader = name_rect(xs[1], names[1]);
    let names_bottom = writer.bottom().max(reader.bottom());
    let note = note.map(|size| {
        Rect::from_min_size(
            pos2(
                (rect.right() - 4.0 - size.x).max(rect.left() + 4.0),
                names_bottom + 2.0,
            ),
            size,
        )
    });
    let bottom = note.map_or(names_bottom, |n| n.bottom());
    LadderHead {
        writer,
        reader,
        note,
        height: (bottom - rect.top() + 4.0).max(22.0),
    }
}

/// A short log, one row a packet in order, each with its time from the
/// first: step mode's few packets, whose times are microseconds or seconds
/// apart.
pub fn packet_rows(ui: &mut egui::Ui, log: &WireLog, palette: &Palette, lang: Lang) {
    let entries = log.entries();
    let Some(first) = entries.front().map(|e| e.t_ns) else {
        return;
    };
    let row = 20.0;
    // The newest 40: step mode's connections are short.
    let shown: Vec<&WireEntry> = entries.iter().rev().take(40).rev().collect();
    let width = ui.available_width().max(300.0);
    let (rect, _) = ui.allocate_exact_size(
        vec2(width, row * (shown.len() as f32 + 1.0)),
        Sense::hover(),
    );
    let painter = ui.painter_at(rect);
    let font = FontId::proportional(12.0);
    let writer_x = rect.left() + 110.0;
    let reader_x = rect.right() - 20.0;
    for (x, name) in [
        (writer_x, S::StepsClient.text(lang)),
        (reader_x, S::StepsServer.text(lang)),
    ] {
        painter.text(
            pos2(x, rect.top()),
            Align2::CENTER_TOP,
            name,
            font.clone(),
            palette.text,
        );
        painter.line_segment(
            [pos2(x, rect.top() + row), pos2(x, rect.bottom())],
            Stroke::new(1.5, palette.edge),
        );
    }
    for (i, entry) in shown.iter().enumerate() {
        let y = rect.top() + row * (i as f32 + 1.5);
        let (from, to) = if entry.from_writer {
            (writer_x, reader_x)
        } else {
            (reader_x, writer_x)
        };
        let color = look(entry.kind, palette);
        arrow(&painter, pos2(from, y), pos2(to, y + 3.0), color);
        painter.text(
            pos2((writer_x + reader_x) / 2.0, y - 1.0),
            Align2::CENTER_BOTTOM,
            label(entry, lang),
            font.clone(),
            color,
        );
        let ms = (entry.t_ns - first) as f64 / 1e6;
        painter.text(
            pos2(rect.left() + 2.0, y),
            Align2::LEFT_CENTER,
            format!("+{}", S::Millis.fill(lang, &[&format!("{ms:.3}")])),
            font.clone(),
            palette.weak_text,
        );
    }
}

fn arrow(painter: &egui::Painter, from: Pos2, to: Pos2, color: Color32) {
    painter.line_segment([from, to], Stroke::new(1.5, color));
    let along = (to - from).normalized();
    let side = vec2(-along.y, along.x);
    let head = 7.0;
    painter.add(egui::Shape::convex_polygon(
        vec![
            to,
            to - along * head + side * head * 0.45,
            to - along * head - side * head * 0.45,
        ],
        color,
        Stroke::NONE,
    ));
}

/// Time labels down the left edge, at round steps.
fn time_ticks(
    painter: &egui::Painter,
    body: Rect,
    (t0, span): (f64, f64),
    font: &FontId,
    palette: &Palette,
    lang: Lang,
) {
    let target = span / (body.height() / 60.0).max(1.0) as f64;
    let step = [
        1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
    ]
    .into_iter()
    .find(|s| *s >= target)
    .unwrap_or(10.0);
    let decimals = (-step.log10()).ceil().max(0.0) as usize;
    let mut t = (t0 / step).ceil() * step;
    while t < t0 + span {
        let y = body.top() + ((t - t0) / span) as f32 * body.height();
        painter.text(
            pos2(body.left() + 4.0, y),
            Align2::LEFT_CENTER,
            S::Seconds.fill(lang, &[&format!("{t:.decimals$}")]),
            font.clone(),
            palette.weak_text,
        );
        painter.line_segment(
            [pos2(body.left() + 62.0, y), pos2(body.right(), y)],
            Stroke::new(0.5, palette.weak_text.gamma_multiply(0.3)),
        );
        t += step;
    }
}

fn legend(ui: &mut egui::Ui, palette: &Palette, lang: Lang) {
    let items = [
        (SegmentKind::Data, S::LegendData),
        (SegmentKind::Retransmission, S::LegendRetransmission),
        (SegmentKind::Ack, S::LegendAck),
        (SegmentKind::DupAck, S::LegendDupAck),
        (SegmentKind::WindowUpdate, S::LegendWindowUpdate),
        (SegmentKind::ZeroWindow, S::LegendZeroWindowSeg),
        (SegmentKind::ZeroWindowProbe, S::LegendProbe),
        (SegmentKind::Syn, S::LegendControl),
    ];
    ui.horizontal_wrapped(|ui| {
        for (kind, name) in items {
            let (rect, _) = ui.allocate_exact_size(vec2(16.0, 10.0), Sense::hover());
            ui.painter().line_segment(
                [rect.left_center(), rect.right_center()],
                Stroke::new(3.0, look(kind, palette)),
            );
            ui.label(RichText::new(name.text(lang)).small());
        }
    });
}

/// tcptrace's sequence graph over `range` (seconds): each data segment a
/// mark at its last byte, the ACK line below and the window's right edge
/// above; retransmissions stand out.
fn sequence_graph(
    ui: &mut egui::Ui,
    log: &WireLog,
    range: (f64, f64),
    palette: &Palette,
    lang: Lang,
) {
    let indices = log.range((range.0 * 1e9) as i64, (range.1 * 1e9) as i64);
    let entries = log.entries();
    let stride = indices.len().div_ceil(4000).max(1);
    let (mut sent, mut resent, mut acked, mut edge) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for index in indices.step_by(stride) {
        let e = &entries[index];
        let t = e.t_ns as f64 / 1e9;
        match (e.from_writer, e.kind) {
            (true, SegmentKind::Data) => sent.push([t, f64::from(e.seq_end())]),
            (true, SegmentKind::Retransmission) => resent.push([t, f64::from(e.seq_end())]),
            (false, SegmentKind::Syn | SegmentKind::SynAck) => {}
            (false, _) => {
                acked.push([t, f64::from(e.ack)]);
                edge.push([t, f64::from(e.ack) + f64::from(e.window)]);
            }
            _ => {}
        }
    }
    Plot::new("wire-sequence")
        .y_axis_label(S::SeqAxis.text(lang))
        .y_axis_formatter(|mark, _| format_bytes(mark.value.max(0.0) as u64))
        .x_axis_formatter(move |mark, _| S::Seconds.fill(lang, &[&format!("{:.3}", mark.value)]))
        .legend(egui_plot::Legend::default())
        .show(ui, |plot_ui| {
            plot_ui.points(
                Points::new(S::SeqSent.text(lang), PlotPoints::from(sent))
                    .color(palette.in_flight)
                    .radius(2.0),
            );
            plot_ui.points(
                Points::new(S::SeqRetransmitted.text(lang), PlotPoints::from(resent))
                    .color(palette.alarm)
                    .radius(3.5),
            );
            plot_ui.line(
                Line::new(S::SeqAcked.text(lang), PlotPoints::from(acked))
                    .color(palette.received)
                    .width(palette.line_width),
            );
            plot_ui.line(
                Line::new(S::SeqWindow.text(lang), PlotPoints::from(edge))
                    .color(palette.caution)
                    .width(palette.line_width),
            );
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_label_in_both_languages() {
        for kind in SegmentKind::ALL {
            let entry = WireEntry {
                t_ns: 0,
                from_writer: true,
                kind,
                seq: 1449,
                ack: 2897,
                len: 1448,
                window: 65536,
            };
            for lang in [Lang::En, Lang::Zh] {
                assert!(!label(&entry, lang).is_empty(), "{kind:?}");
            }
        }
        let data = WireEntry {
            t_ns: 0,
            from_writer: true,
            kind: SegmentKind::Data,
            seq: 1449,
            ack: 0,
            len: 1448,
            window: 0,
        };
        assert_eq!(label(&data, Lang::En), "seq 1449 · 1448 B");
    }
}

#[cfg(test)]
mod head_tests {
    use super::*;

    /// Issue 29, item 12: "N packets in view" sat on the reader's name.
    /// Whatever the width and the words, the three never overlap, stay in
    /// the ladder, and the arrows start below them.
    #[test]
    fn the_thinning_note_never_covers_a_sides_name() {
        for width in [260.0, 400.0, 560.0, 900.0] {
            let rect = Rect::from_min_size(pos2(10.0, 50.0), vec2(width, 400.0));
            let xs = [rect.left() + 100.0, rect.right() - 30.0];
            // English and Chinese names; a long note, as at 11 px.
            for names in [
                [vec2(38.0, 15.0), vec2(40.0, 15.0)],
                [vec2(36.0, 17.0), vec2(36.0, 17.0)],
            ] {
                let note = vec2((width - 8.0).min(300.0), 14.0);
                let head = ladder_head(rect, xs, names, Some(note));
                let note = head.note.expect("room for the note");
                for name in [head.writer, head.reader] {
                    assert!(!name.intersects(note), "{width}: {name:?} and {note:?}");
                    assert!(rect.contains_rect(name), "{width}: {name:?}");
                }
                assert!(!head.writer.intersects(head.reader), "{width}");
                assert!(rect.contains_rect(note), "{width}: {note:?}");
                assert!(rect.top() + head.height >= note.bottom());
                let plain = ladder_head(rect, xs, names, None);
                assert!(plain.note.is_none() && plain.height >= 22.0);
            }
        }
    }
}
