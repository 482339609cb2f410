//! The server window: the lesson's thread-per-client server running for
//! real (`lab::server`), every connection's send and receive buffer side by
//! side in a grid, each server thread with its own throttle.
//!
//! The server lives on its owner thread (`lab::server_owner`): the window
//! sends commands and draws the newest snapshot, so no frame waits for a
//! connect(), an accept() or a thread to end.

use std::collections::HashMap;

use eframe::egui::{self, Align2, Color32, FontId, Rect, RichText, pos2, vec2};

use super::repaint_waker;
use super::theme::Palette;
use super::vessel::{self, Slots};
use super::view::VesselMotion;
use crate::i18n::{Lang, S};
use crate::lab::server::{Departure, MAX_CLIENTS};
use crate::lab::server_owner::{ClientView, ServerCommand, ServerEvent, ServerHandle};
use crate::lab::units::format_bytes;
use crate::lab::{LabConfig, Rate, Sample, Size};

const KIB: u64 = 1024;

/// Every client's settings: a paced writer slow enough that eight of them
/// and their server threads leave a 2-core laptop room to draw, and small
/// buffers that fill within a second when a server thread falls behind.
pub fn class_config() -> LabConfig {
    LabConfig {
        sndbuf: Some(Size(32 * KIB)),
        rcvbuf: Some(Size(32 * KIB)),
        write_rate: Rate::BytesPerSec(128 * KIB),
        write_chunk: Size(4 * KIB),
        read_rate: Rate::Unlimited,
        read_chunk: Size(4 * KIB),
        sample_hz: 100,
        ..LabConfig::default()
    }
}

/// The clients a new server starts with, and their read rates: two served
/// at full speed and one slower than its writer, so the first picture
/// already shows that each connection has buffers of its own.
const FIRST_CLIENTS: [Rate; 3] = [
    Rate::Unlimited,
    Rate::Unlimited,
    Rate::BytesPerSec(32 * KIB),
];

/// What the throttle of one server thread is set to.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Throttle {
    /// The slider's value, kept while paused or unlimited.
    kib_per_sec: f64,
    paused: bool,
    unlimited: bool,
}

/// Where the slider of a paused or unlimited server thread starts.
const DEFAULT_KIB_PER_SEC: f64 = 64.0;

impl Throttle {
    fn from_rate(rate: Rate) -> Self {
        Throttle {
            kib_per_sec: rate
                .kib_per_sec()
                .filter(|kib| *kib > 0.0)
                .unwrap_or(DEFAULT_KIB_PER_SEC),
            paused: rate.is_paused(),
            unlimited: rate == Rate::Unlimited,
        }
    }

    fn rate(self) -> Rate {
        if self.paused {
            Rate::Paused
        } else if self.unlimited {
            Rate::Unlimited
        } else {
            Rate::from_kib_per_sec(self.kib_per_sec.max(1.0))
        }
    }
}

/// One grid cell's animation and throttle.
#[derive(Debug, Clone, Copy)]
struct Cell {
    motion: VesselMotion,
    throttle: Throttle,
}

impl Cell {
    fn new(rate: Rate) -> Self {
        Cell {
            motion: VesselMotion::default(),
            throttle: Throttle::from_rate(rate),
        }
    }
}

#[derive(Default)]
pub struct ServerWindow {
    pub open: bool,
    server: Option<ServerHandle>,
    error: Option<String>,
    cells: HashMap<usize, Cell>,
    /// What happened, newest last.
    log: Vec<String>,
    last_time: Option<f64>,
}

impl ServerWindow {
    /// Starts the server's owner thread and asks for the first clients;
    /// returns at once.
    fn start(&mut self, ctx: &egui::Context, lang: Lang) {
        self.cells.clear();
        self.log.clear();
        match ServerHandle::start(class_config(), Some(repaint_waker(ctx))) {
            Ok(mut server) => {
                for read_rate in FIRST_CLIENTS {
                    server.send(ServerCommand::AddClient { read_rate });
                }
                self.server = Some(server);
                self.error = None;
            }
            Err(error) => self.error = Some(S::SrvFailed.fill(lang, &[&error])),
        }
    }

    /// Takes what the owner thread sent: events go to the log, and the
    /// cells follow the newest snapshot's clients.
    fn update(&mut self, lang: Lang) {
        let Some(server) = &mut self.server else {
            return;
        };
        let events = server.update();
        if let Some(snapshot) = server.snapshot() {
            let clients = &snapshot.clients;
            self.cells
                .retain(|number, _| clients.iter().any(|c| c.number == *number));
            for client in clients {
                self.cells
                    .entry(client.number)
                    .or_insert_with(|| Cell::new(client.read_limit));
            }
        }
        for event in events {
            match event {
                ServerEvent::StartFailed(error) => {
                    self.error = Some(S::SrvFailed.fill(lang, &[&error]));
                    self.server = None;
                }
                ServerEvent::Accepted { number, from } => {
                    self.log
                        .push(S::SrvAccepted.fill(lang, &[&number, &from, &number]));
                }
                ServerEvent::AddFailed(error) => {
                    self.log.push(S::SrvAddFailed.fill(lang, &[&error]));
                }
                ServerEvent::Left(departure) => self.log.push(departure_line(&departure, lang)),
                ServerEvent::LeaveFailed { number, error } => {
                    self.log
                        .push(S::SrvLeftBadly.fill(lang, &[&number, &error]));
                }
            }
        }
    }

    /// Stops the server and every client (closing the window does this).
    /// Returns at once: the owner thread shuts them down by itself.
    pub fn stop(&mut self) {
        self.server = None;
        self.error = None;
        self.cells.clear();
        self.last_time = None;
    }

    /// Shows the window; true while something in it moves.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        palette: &Palette,
        slots: &mut Slots,
        lang: Lang,
    ) -> bool {
        if self.server.is_none() && self.error.is_none() {
            self.start(ctx, lang);
        }
        self.update(lang);
        let now = ctx.input(|i| i.time);
        let dt = self.last_time.map_or(0.0, |t| (now - t) as f32);
        self.last_time = Some(now);

        let mut open = self.open;
        let mut animating = false;
        let content = ctx.content_rect();
        egui::Window::new(S::SrvTitle.text(lang))
            .open(&mut open)
            .constrain_to(super::floating::area(ctx))
            .default_size(vec2(
                (content.width() - 40.0).min(980.0),
                (content.height() - 80.0).min(680.0),
            ))
            .default_pos(content.left_top() + vec2(20.0, 50.0))
            .show(ctx, |ui| {
                if let Some(error) = &self.error {
                    ui.label(RichText::new(error).color(palette.alarm).strong());
                    return;
                }
                animating = self.contents(ui, palette, slots, dt, lang);
            });
        if !open {
            self.stop();
        }
        self.open = open;
        animating
    }

    fn contents(
        &mut self,
        ui: &mut egui::Ui,
        palette: &Palette,
        slots: &mut Slots,
        dt: f32,
        lang: Lang,
    ) -> bool {
        let Some(server) = &self.server else {
            return false;
        };
        let Some(snapshot) = server.snapshot() else {
            ui.label(S::SrvStarting.text(lang));
            return false;
        };
        let config = snapshot.config;
        ui.label(S::SrvIntro.fill(lang, &[&snapshot.addr]));
        let size = |s: Option<Size>| {
            s.map_or_else(
                || S::SrvUnset.text(lang).into(),
                |s| format_bytes(s.bytes()),
            )
        };
        ui.label(
            RichText::new(S::SrvEach.fill(
                lang,
                &[
                    &config.write_rate,
                    &format_bytes(config.write_chunk.bytes()),
                    &size(config.sndbuf),
                    &size(config.rcvbuf),
                ],
            ))
            .small()
            .color(palette.weak_text),
        );
        let clients = &snapshot.clients;
        let count = clients.len();
        let mut commands = Vec::new();
        ui.horizontal(|ui| {
            // Clients asked for but not yet accepted count too.
            let room = count + server.pending_adds() < MAX_CLIENTS;
            if ui
                .add_enabled(room, egui::Button::new(S::SrvAdd.text(lang)))
                .clicked()
            {
                commands.push(ServerCommand::AddClient {
                    read_rate: Rate::Unlimited,
                });
            }
            if ui
                .add_enabled(count > 0, egui::Button::new(S::SrvRemove.text(lang)))
                .clicked()
            {
                commands.push(ServerCommand::RemoveLast);
            }
            ui.label(S::SrvCount.fill(lang, &[&count, &MAX_CLIENTS]));
        });
        ui.separator();

        let mut animating = false;
        let available = ui.available_width();
        // At most four across, and no emptier than the clients need.
        let columns = ((available / 215.0).floor() as usize)
            .clamp(1, 4)
            .min(count.max(1));
        let spacing = ui.spacing().item_spacing;
        let cell_width = (available - spacing.x * columns as f32) / columns as f32;
        // Three log lines; two when the grid needs the room.
        let log_height = if count > 4 { 48.0 } else { 70.0 };
        let grid_height = ui.available_height() - log_height - 2.0 * spacing.y - 8.0;
        let rows = count.div_ceil(columns).max(1);
        let cell_height = ((grid_height / rows as f32) - 12.0 - 2.0 * spacing.y).max(170.0);
        egui::ScrollArea::vertical()
            .max_height(grid_height)
            .auto_shrink([false, true])
            .show(ui, |ui| {
                for row in clients.chunks(columns) {
                    ui.horizontal_top(|ui| {
                        for client in row {
                            let Some(cell) = self.cells.get_mut(&client.number) else {
                                continue;
                            };
                            ui.allocate_ui_with_layout(
                                vec2(cell_width, cell_height),
                                egui::Layout::top_down(egui::Align::Min),
                                |ui| {
                                    ui.set_min_size(vec2(cell_width, cell_height));
                                    let (moving, throttle) =
                                        client_cell(ui, client, cell, palette, slots, dt, lang);
                                    animating |= moving;
                                    if let Some(rate) = throttle {
                                        commands.push(ServerCommand::SetReadRate {
                                            number: client.number,
                                            rate,
                                        });
                                    }
                                },
                            );
                        }
                    });
                    ui.add_space(6.0);
                }
            });
        ui.separator();
        egui::ScrollArea::vertical()
            .id_salt("server-log")
            .max_height(log_height)
            .stick_to_bottom(true)
            .show(ui, |ui| {
                for line in &self.log {
                    ui.label(RichText::new(line).small().monospace());
                }
            });

        if let Some(server) = &mut self.server {
            for command in commands {
                server.send(command);
            }
        }
        animating
    }
}

/// The log line for a client that left.
fn departure_line(departure: &Departure, lang: Lang) -> String {
    let report = &departure.report;
    if report.integrity_ok() && report.errors.is_empty() {
        return S::SrvLeft.fill(lang, &[&departure.number, &format_bytes(report.bytes_read)]);
    }
    let why = report.errors_text().unwrap_or_else(|| {
        S::SrvBytesRead.fill(lang, &[&report.bytes_read, &report.bytes_written])
    });
    S::SrvLeftBadly.fill(lang, &[&departure.number, &why])
}

/// One connection: its two buffers, what its writer and server thread are
/// doing, and the server thread's throttle. Returns whether it still moves
/// and a new read rate if the throttle changed.
fn client_cell(
    ui: &mut egui::Ui,
    client: &ClientView,
    cell: &mut Cell,
    palette: &Palette,
    slots: &mut Slots,
    dt: f32,
    lang: Lang,
) -> (bool, Option<Rate>) {
    let info = &client.info;
    let sample = client.latest.unwrap_or_default();
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(S::SrvClient.fill(lang, &[&client.number]))
                .strong()
                .size(16.0 * palette.scale),
        );
        ui.add(
            egui::Label::new(
                RichText::new(S::SrvFrom.fill(lang, &[&info.writer_addr.port(), &client.number]))
                    .small()
                    .color(palette.weak_text),
            )
            .truncate(),
        );
    });

    // The two buffers, side by side, over the status line and the throttle.
    let controls_height = 58.0 * palette.scale;
    let vessel_height = (ui.available_height() - controls_height).max(90.0);
    let (rect, _) = ui.allocate_exact_size(
        vec2(ui.available_width(), vessel_height),
        egui::Sense::hover(),
    );
    let (levels, moving) = cell.motion.follow(
        &sample,
        (info.sndbuf.effective, info.rcvbuf.effective),
        (client.write_rate, client.read_rate),
        dt,
    );
    let half = rect.width() / 2.0;
    let label_height = 18.0 * palette.scale;
    let send_rect = Rect::from_min_size(rect.min, vec2(half, rect.height() - label_height));
    let recv_rect = send_rect.translate(vec2(half, 0.0));
    let (send_look, recv_look) = levels.looks(&sample, palette);
    vessel::paint(ui, send_rect, &send_look, slots);
    vessel::paint(ui, recv_rect, &recv_look, slots);
    buffer_numbers(
        ui,
        send_rect,
        S::SrvSendBuf.text(lang),
        (sample.send_queue, info.sndbuf.effective),
        palette,
        lang,
    );
    buffer_numbers(
        ui,
        recv_rect,
        S::SrvRecvBuf.text(lang),
        (sample.recv_queue, info.rcvbuf.effective),
        palette,
        lang,
    );
    status_line(ui, &sample, client.read_rate, palette, lang);
    let throttle = throttle_line(ui, client.number, &mut cell.throttle, palette, lang);
    (moving, throttle)
}

/// The name under a vessel, and its `(bytes, capacity)` over it on a plate
/// that keeps them readable over any fill.
fn buffer_numbers(
    ui: &egui::Ui,
    vessel: Rect,
    title: &str,
    (bytes, capacity): (u32, u64),
    palette: &Palette,
    lang: Lang,
) {
    let painter = ui.painter();
    let font = FontId::proportional(13.0 * palette.scale);
    painter.text(
        pos2(vessel.center().x, vessel.bottom() + 2.0),
        Align2::CENTER_TOP,
        title,
        font.clone(),
        palette.text,
    );
    let galley = painter.layout_no_wrap(
        S::SrvFill.fill(
            lang,
            &[&format_bytes(u64::from(bytes)), &format_bytes(capacity)],
        ),
        font,
        palette.text,
    );
    let plate = Rect::from_center_size(vessel.center(), galley.size() + vec2(8.0, 2.0));
    painter.rect_filled(
        plate,
        egui::CornerRadius::same(4),
        palette.panel.gamma_multiply(0.8),
    );
    painter.galley(plate.min + vec2(4.0, 1.0), galley, palette.text);
}

/// What is happening, in one line, and how often send() blocked.
fn status_line(ui: &mut egui::Ui, sample: &Sample, read_rate: f64, palette: &Palette, lang: Lang) {
    let (state, color) = if sample.writer_blocked() {
        (S::SrvBlocked.text(lang).to_string(), palette.alarm)
    } else if sample.zero_window {
        (S::SrvZeroWindow.text(lang).to_string(), palette.caution)
    } else if sample.reader_paused() {
        (S::SrvPaused.text(lang).to_string(), palette.paused)
    } else {
        (
            S::SrvFlowing.fill(lang, &[&format_bytes(read_rate as u64)]),
            palette.ok,
        )
    };
    ui.horizontal(|ui| {
        ui.label(RichText::new(state).color(color).strong());
        ui.add(
            egui::Label::new(
                RichText::new(
                    S::SrvStalls.fill(lang, &[&crate::i18n::times(sample.stalls_so_far(), lang)]),
                )
                .small()
                .color(palette.weak_text),
            )
            .truncate(),
        );
    });
}

/// The throttle of server thread `number`, on one line: pause, max, and
/// the rate. Returns the new read rate if it changed.
fn throttle_line(
    ui: &mut egui::Ui,
    number: usize,
    throttle: &mut Throttle,
    palette: &Palette,
    lang: Lang,
) -> Option<Rate> {
    let before = *throttle;
    let label = S::SrvReadRate.fill(lang, &[&number]);
    ui.horizontal(|ui| {
        let pause = if throttle.paused {
            S::SrvResume
        } else {
            S::SrvPause
        };
        let fill = if throttle.paused {
            palette.paused
        } else {
            Color32::TRANSPARENT
        };
        if ui
            .add(egui::Button::new(pause.text(lang)).fill(fill))
            .clicked()
        {
            throttle.paused = !throttle.paused;
        }
        ui.toggle_value(&mut throttle.unlimited, S::SrvMax.text(lang));
        // What is left, less the number box beside the slider.
        ui.spacing_mut().slider_width = (ui.available_width() - 80.0 * palette.scale).max(30.0);
        let slider = egui::Slider::new(&mut throttle.kib_per_sec, 1.0..=1024.0)
            .logarithmic(true)
            .max_decimals(0)
            .suffix(S::SrvKibPerSec.text(lang))
            .text("");
        let response = ui.add_enabled(!throttle.unlimited, slider);
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Slider, true, label.clone()));
        if response.changed() {
            throttle.paused = false;
        }
    });
    (*throttle != before).then(|| throttle.rate())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_keeps_its_rate_across_pause_and_max() {
        let mut throttle = Throttle::from_rate(Rate::BytesPerSec(32 * KIB));
        assert_eq!(throttle.rate(), Rate::BytesPerSec(32 * KIB));
        throttle.paused = true;
        assert_eq!(throttle.rate(), Rate::Paused);
        throttle.paused = false;
        throttle.unlimited = true;
        assert_eq!(throttle.rate(), Rate::Unlimited);
        throttle.unlimited = false;
        assert_eq!(throttle.rate(), Rate::BytesPerSec(32 * KIB));
    }

    #[test]
    fn first_clients_show_a_difference() {
        assert!(FIRST_CLIENTS.len() <= MAX_CLIENTS);
        assert!(FIRST_CLIENTS.contains(&Rate::Unlimited));
        // One server thread reads slower than its client writes.
        let Rate::BytesPerSec(write) = class_config().write_rate else {
            panic!("the class writer is paced");
        };
        assert!(
            FIRST_CLIENTS
                .iter()
                .any(|r| matches!(r, Rate::BytesPerSec(n) if *n < write))
        );
    }
}
