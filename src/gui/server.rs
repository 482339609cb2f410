//! The server window: the lesson's thread-per-client server running for
//! real (`lab::server`), every connection's send and receive buffer side by
//! side in a grid, each server thread with its own throttle.

use std::collections::HashMap;

use crossbeam_channel::{Receiver, Sender, unbounded};
use eframe::egui::{self, Align2, Color32, FontId, Rect, RichText, pos2, vec2};

use super::anim::{Eased, Flow};
use super::i18n::{Lang, S};
use super::repaint_waker;
use super::theme::Palette;
use super::vessel::{self, Slots, VesselLook};
use crate::lab::server::{Client, Departure, MAX_CLIENTS, Server};
use crate::lab::units::format_bytes;
use crate::lab::{LabConfig, Rate, Size};

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

impl Throttle {
    fn from_rate(rate: Rate) -> Self {
        match rate {
            Rate::Unlimited => Throttle {
                kib_per_sec: 64.0,
                paused: false,
                unlimited: true,
            },
            Rate::Paused => Throttle {
                kib_per_sec: 64.0,
                paused: true,
                unlimited: false,
            },
            Rate::BytesPerSec(n) => Throttle {
                kib_per_sec: n as f64 / KIB as f64,
                paused: false,
                unlimited: false,
            },
        }
    }

    fn rate(self) -> Rate {
        if self.paused {
            Rate::Paused
        } else if self.unlimited {
            Rate::Unlimited
        } else {
            Rate::BytesPerSec((self.kib_per_sec.max(1.0) * KIB as f64) as u64)
        }
    }
}

/// One grid cell's animation and throttle.
#[derive(Debug, Clone, Copy)]
struct Cell {
    send_in_flight: Eased,
    send_total: Eased,
    received: Eased,
    send_flow: Flow,
    recv_flow: Flow,
    throttle: Throttle,
}

impl Cell {
    fn new(rate: Rate) -> Self {
        Cell {
            send_in_flight: Eased::default(),
            send_total: Eased::default(),
            received: Eased::default(),
            send_flow: Flow::default(),
            recv_flow: Flow::default(),
            throttle: Throttle::from_rate(rate),
        }
    }
}

pub struct ServerWindow {
    pub open: bool,
    server: Option<Server>,
    error: Option<String>,
    cells: HashMap<usize, Cell>,
    /// What happened, newest last.
    log: Vec<String>,
    /// Clients leave on a thread of their own (their server thread first
    /// reads what is left); how it went comes back here.
    departures: (Sender<Departure>, Receiver<Departure>),
    last_time: Option<f64>,
}

impl Default for ServerWindow {
    fn default() -> Self {
        ServerWindow {
            open: false,
            server: None,
            error: None,
            cells: HashMap::new(),
            log: Vec::new(),
            departures: unbounded(),
            last_time: None,
        }
    }
}

impl ServerWindow {
    /// Starts the server with its first clients.
    fn start(&mut self, ctx: &egui::Context, lang: Lang) {
        self.cells.clear();
        self.log.clear();
        match Server::start(class_config(), Some(repaint_waker(ctx))) {
            Ok(server) => {
                self.server = Some(server);
                self.error = None;
                for rate in FIRST_CLIENTS {
                    self.add_client(rate, lang);
                }
            }
            Err(error) => self.error = Some(S::SrvFailed.fill(lang, &[&error])),
        }
    }

    fn add_client(&mut self, rate: Rate, lang: Lang) {
        let Some(server) = &mut self.server else {
            return;
        };
        match server.add_client() {
            Ok(number) => {
                server.set_read_rate(number, rate);
                self.cells.insert(number, Cell::new(rate));
                if let Some(client) = server.clients().iter().find(|c| c.number == number) {
                    self.log.push(S::SrvAccepted.fill(
                        lang,
                        &[&number, &client.session.info().writer_addr, &number],
                    ));
                }
            }
            Err(error) => self.log.push(S::SrvAddFailed.fill(lang, &[&error])),
        }
    }

    /// The newest client closes; its server thread drains and ends on a
    /// thread of its own, so the window never waits for it.
    fn remove_last(&mut self, lang: Lang) {
        let Some(server) = &mut self.server else {
            return;
        };
        let Some(number) = server.clients().last().map(|c| c.number) else {
            return;
        };
        let Some(client) = server.take_client(number) else {
            return;
        };
        self.cells.remove(&number);
        let out = self.departures.0.clone();
        let spawned = std::thread::Builder::new()
            .name("sockscope-leave".into())
            .spawn(move || {
                let _ = out.send(client.leave());
            });
        if let Err(error) = spawned {
            self.log
                .push(S::SrvLeftBadly.fill(lang, &[&number, &error]));
        }
    }

    fn receive_departures(&mut self, lang: Lang) {
        for departure in self.departures.1.try_iter() {
            let report = &departure.report;
            let line = if report.integrity_ok() && report.errors.is_empty() {
                S::SrvLeft.fill(lang, &[&departure.number, &format_bytes(report.bytes_read)])
            } else {
                let why = if report.errors.is_empty() {
                    format!(
                        "{} of {} bytes read",
                        report.bytes_read, report.bytes_written
                    )
                } else {
                    report
                        .errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                S::SrvLeftBadly.fill(lang, &[&departure.number, &why])
            };
            self.log.push(line);
        }
    }

    /// Stops the server and every client (closing the window does this).
    pub fn stop(&mut self) {
        self.server = None;
        self.error = None;
        // A client still leaving reports into the old channel, not into the
        // next server's log.
        self.departures = unbounded();
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
        if let Some(server) = &mut self.server {
            server.pump();
            // Clients whose session ended by itself (a failed worker).
            for departure in server.departures() {
                self.cells.remove(&departure.number);
                let _ = self.departures.0.send(departure);
            }
        }
        self.receive_departures(lang);
        let now = ctx.input(|i| i.time);
        let dt = self.last_time.map_or(0.0, |t| (now - t) as f32);
        self.last_time = Some(now);

        let mut open = self.open;
        let mut animating = false;
        let content = ctx.content_rect();
        egui::Window::new(S::SrvTitle.text(lang))
            .open(&mut open)
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
            ui.label(S::SrvStarting.text(lang));
            return false;
        };
        let config = *server.config();
        ui.label(S::SrvIntro.fill(lang, &[&server.addr()]));
        let size = |s: Option<Size>| s.map_or_else(|| "–".into(), |s| format_bytes(s.bytes()));
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
        let count = server.clients().len();
        let mut add = false;
        let mut remove = false;
        ui.horizontal(|ui| {
            add = ui
                .add_enabled(count < MAX_CLIENTS, egui::Button::new(S::SrvAdd.text(lang)))
                .clicked();
            remove = ui
                .add_enabled(count > 0, egui::Button::new(S::SrvRemove.text(lang)))
                .clicked();
            ui.label(S::SrvCount.fill(lang, &[&count, &MAX_CLIENTS]));
        });
        ui.separator();

        let mut animating = false;
        let mut throttles = Vec::new();
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
                for row in server.clients().chunks(columns) {
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
                                    if let Some(throttle) = throttle {
                                        throttles.push((client.number, throttle));
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

        for (number, rate) in throttles {
            if let Some(server) = &mut self.server {
                server.set_read_rate(number, rate);
            }
        }
        if add {
            self.add_client(Rate::Unlimited, lang);
        }
        if remove {
            self.remove_last(lang);
        }
        animating
    }
}

/// One connection: its two buffers, what its writer and server thread are
/// doing, and the server thread's throttle. Returns whether it still moves
/// and a new read rate if the throttle changed.
fn client_cell(
    ui: &mut egui::Ui,
    client: &Client,
    cell: &mut Cell,
    palette: &Palette,
    slots: &mut Slots,
    dt: f32,
    lang: Lang,
) -> (bool, Option<Rate>) {
    let info = client.session.info();
    let sample = client.latest().copied().unwrap_or_default();
    let send_capacity = info.sndbuf.effective.max(1) as f32;
    let recv_capacity = info.rcvbuf.effective.max(1) as f32;
    let (write_rate, read_rate) = client.rates();

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
    let half = rect.width() / 2.0;
    let label_height = 18.0 * palette.scale;
    let send_rect = Rect::from_min_size(rect.min, vec2(half, rect.height() - label_height));
    let recv_rect = send_rect.translate(vec2(half, 0.0));
    let targets = [
        sample.in_flight() as f32 / send_capacity,
        sample.send_queue as f32 / send_capacity,
        sample.recv_queue as f32 / recv_capacity,
    ];
    let levels = [
        cell.send_in_flight.step(targets[0].min(1.0), dt),
        cell.send_total.step(targets[1].min(1.0), dt),
        cell.received.step(targets[2].min(1.0), dt),
    ];
    let moving = cell.send_in_flight.is_moving(targets[0].min(1.0))
        || cell.send_total.is_moving(targets[1].min(1.0))
        || cell.received.is_moving(targets[2].min(1.0));
    let send_phase = cell.send_flow.step(write_rate as f32 / send_capacity, dt);
    let recv_phase = cell.recv_flow.step(read_rate as f32 / recv_capacity, dt);
    let send_look = VesselLook::send_buffer(
        levels[0],
        levels[1],
        send_phase,
        sample.writer_blocked(),
        palette,
    );
    let recv_look = VesselLook::receive_buffer(levels[2], recv_phase, sample.zero_window, palette);
    vessel::paint(ui, send_rect, &send_look, slots);
    vessel::paint(ui, recv_rect, &recv_look, slots);
    // The name under each vessel, the bytes over it on a plate that keeps
    // them readable over any fill.
    let painter = ui.painter();
    let font = FontId::proportional(13.0 * palette.scale);
    let numbers = |r: Rect, title: &str, bytes: u32, capacity: u64| {
        painter.text(
            pos2(r.center().x, r.bottom() + 2.0),
            Align2::CENTER_TOP,
            title,
            font.clone(),
            palette.text,
        );
        let galley = painter.layout_no_wrap(
            format!(
                "{} / {}",
                format_bytes(u64::from(bytes)),
                format_bytes(capacity)
            ),
            font.clone(),
            palette.text,
        );
        let plate = Rect::from_center_size(r.center(), galley.size() + vec2(8.0, 2.0));
        painter.rect_filled(
            plate,
            egui::CornerRadius::same(4),
            palette.panel.gamma_multiply(0.8),
        );
        painter.galley(plate.min + vec2(4.0, 1.0), galley, palette.text);
    };
    numbers(
        send_rect,
        S::SrvSendBuf.text(lang),
        sample.send_queue,
        info.sndbuf.effective,
    );
    numbers(
        recv_rect,
        S::SrvRecvBuf.text(lang),
        sample.recv_queue,
        info.rcvbuf.effective,
    );

    // What is happening, in one line.
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
                RichText::new(S::SrvStalls.fill(lang, &[&sample.stall_count]))
                    .small()
                    .color(palette.weak_text),
            )
            .truncate(),
        );
    });

    // The throttle, on one line: pause, max, and the rate.
    let before = cell.throttle;
    let label = S::SrvReadRate.fill(lang, &[&client.number]);
    ui.horizontal(|ui| {
        let pause = if cell.throttle.paused {
            S::SrvResume
        } else {
            S::SrvPause
        };
        let fill = if cell.throttle.paused {
            palette.paused
        } else {
            Color32::TRANSPARENT
        };
        if ui
            .add(egui::Button::new(pause.text(lang)).fill(fill))
            .clicked()
        {
            cell.throttle.paused = !cell.throttle.paused;
        }
        ui.toggle_value(&mut cell.throttle.unlimited, S::SrvMax.text(lang));
        // What is left, less the number box beside the slider.
        ui.spacing_mut().slider_width = (ui.available_width() - 80.0 * palette.scale).max(30.0);
        let slider = egui::Slider::new(&mut cell.throttle.kib_per_sec, 1.0..=1024.0)
            .logarithmic(true)
            .max_decimals(0)
            .suffix(" KiB/s")
            .text("");
        let response = ui.add_enabled(!cell.throttle.unlimited, slider);
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Slider, true, label.clone()));
        if response.changed() {
            cell.throttle.paused = false;
        }
    });
    let changed = cell.throttle != before;
    (moving, changed.then(|| cell.throttle.rate()))
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
