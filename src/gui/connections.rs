//! The connections window (N): every TCP socket on the machine, refreshed
//! once a second on a thread of its own (one sock_diag dump, owners from a
//! cache), most queued first, filtered by port and state.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eframe::egui::{self, RichText};

use super::background::Background;
use super::theme::Palette;
use crate::i18n::{Lang, S};
use crate::lab::diag::{self, Connection, OwnerCache};
use crate::lab::probe::TcpState;
use crate::lab::units::format_bytes;

const REFRESH: Duration = Duration::from_secs(1);
/// Rows drawn; the rest are counted.
const MAX_ROWS: usize = 200;

#[derive(Default)]
pub struct ConnectionsWindow {
    pub open: bool,
    port: String,
    address: String,
    state: Option<TcpState>,
    rows: Vec<Connection>,
    error: Option<String>,
    refreshed: Option<Instant>,
    job: Background<Result<Vec<Connection>, String>>,
    running: bool,
    owners: Arc<Mutex<OwnerCache>>,
    /// A row picked to watch: its local and peer address.
    picked: Option<(SocketAddr, SocketAddr)>,
    /// Why the last row picked could not be watched.
    pub attach_error: Option<String>,
}

impl ConnectionsWindow {
    /// The rows of the last refresh (tests).
    pub fn rows(&self) -> &[Connection] {
        &self.rows
    }

    /// The row picked to watch since the last call, as (local, peer).
    pub fn take_picked(&mut self) -> Option<(SocketAddr, SocketAddr)> {
        self.picked.take()
    }

    /// Draws the window; returns whether it waits for a refresh (the app
    /// repaints then).
    pub fn show(&mut self, ctx: &egui::Context, palette: &Palette, lang: Lang) -> bool {
        if let Some(result) = self.job.poll() {
            self.running = false;
            match result {
                Ok(rows) => {
                    self.rows = rows;
                    self.error = None;
                }
                Err(error) => self.error = Some(error),
            }
        }
        if !self.running && self.refreshed.is_none_or(|t| t.elapsed() >= REFRESH) {
            self.refresh(ctx);
        }
        let mut open = self.open;
        egui::Window::new(S::ConnTitle.text(lang))
            .open(&mut open)
            .default_size(egui::vec2(900.0, 420.0))
            .show(ctx, |ui| self.contents(ui, palette, lang));
        self.open = open;
        // Repaint for the next refresh.
        ctx.request_repaint_after(REFRESH);
        self.running
    }

    fn refresh(&mut self, ctx: &egui::Context) {
        self.refreshed = Some(Instant::now());
        let owners = Arc::clone(&self.owners);
        let spawned = self.job.spawn("sockscope-connections", ctx, move || {
            let mut rows = diag::dump_all().map_err(|e| e.to_string())?;
            let mut cache = owners.lock().unwrap_or_else(|p| p.into_inner());
            cache.fill(&mut rows);
            cache.keep_only(&rows);
            Ok(rows)
        });
        match spawned {
            Ok(()) => self.running = true,
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    fn contents(&mut self, ui: &mut egui::Ui, palette: &Palette, lang: Lang) {
        ui.label(RichText::new(S::ConnIntro.text(lang)).small());
        ui.horizontal(|ui| {
            ui.label(S::ConnPort.text(lang));
            let field = ui.add(egui::TextEdit::singleline(&mut self.port).desired_width(70.0));
            field.widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::TextInput, true, S::ConnPortField.text(lang))
            });
            ui.label(S::ConnAddress.text(lang));
            let field = ui.add(egui::TextEdit::singleline(&mut self.address).desired_width(130.0));
            field.widget_info(|| {
                egui::WidgetInfo::labeled(
                    egui::Role::TextInput,
                    true,
                    S::ConnAddressField.text(lang),
                )
            });
            egui::ComboBox::from_label(S::ConnState.text(lang))
                .selected_text(
                    self.state
                        .map_or(S::ConnAnyState.text(lang), TcpState::name),
                )
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.state, None, S::ConnAnyState.text(lang));
                    for state in TcpState::NAMED {
                        ui.selectable_value(&mut self.state, Some(state), state.name());
                    }
                });
        });
        if let Some(error) = &self.error {
            ui.label(RichText::new(S::ConnError.fill(lang, &[error])).color(palette.alarm));
        }
        if let Some(error) = &self.attach_error {
            ui.label(RichText::new(S::AttachFailed.fill(lang, &[error])).color(palette.alarm));
        }
        let port: Option<u16> = self.port.trim().parse().ok();
        let shown: Vec<&Connection> = self
            .rows
            .iter()
            .filter(|c| port.is_none_or(|p| c.local.port() == p || c.peer.port() == p))
            .filter(|c| self.state.is_none_or(|s| c.tcp_state == s))
            .filter(|c| {
                let wanted = self.address.trim();
                wanted.is_empty()
                    || c.local.ip().to_string().contains(wanted)
                    || c.peer.ip().to_string().contains(wanted)
            })
            .collect();
        ui.label(S::ConnCount.fill(lang, &[&shown.len(), &self.rows.len()]));
        // Both ways: the table can be wider than the screen (projector
        // mode, Chinese).
        egui::ScrollArea::both().show(ui, |ui| {
            egui::Grid::new("connections")
                .striped(true)
                .num_columns(10)
                .show(ui, |ui| {
                    for head in [
                        S::ConnHeadWatch,
                        S::ConnHeadState,
                        S::ConnHeadLocal,
                        S::ConnHeadPeer,
                        S::ConnHeadRecvQ,
                        S::ConnHeadSendQ,
                        S::ConnHeadMemory,
                        S::ConnHeadSendMemory,
                        S::ConnHeadWindow,
                        S::ConnHeadOwner,
                    ] {
                        ui.label(RichText::new(head.text(lang)).strong());
                    }
                    ui.end_row();
                    for c in shown.iter().take(MAX_ROWS) {
                        // A connection a program holds can be watched;
                        // a listener or a socket closing on its own not.
                        // The button comes first, where the other
                        // columns' words cannot push it: after nine
                        // columns ("N waiting for accept()", "no program
                        // (the kernel finishes it)", longer in Chinese)
                        // it lay past the window's clip on the frame a
                        // filter changed the rows (the window grows to
                        // its contents a frame later), and a click there
                        // missed it.
                        if c.tcp_state != TcpState::Listen && !c.orphaned() {
                            let watch = ui
                                .button(S::ConnWatch.text(lang))
                                .on_hover_text(S::ConnWatchHint.fill(lang, &[&c.local]));
                            if watch.clicked() {
                                self.picked = Some((c.local, c.peer));
                            }
                        } else {
                            ui.label("");
                        }
                        ui.label(c.state);
                        ui.label(c.local.to_string());
                        ui.label(c.peer.to_string());
                        let [recv_q, send_q] = c.queue_columns(lang);
                        ui.label(recv_q);
                        ui.label(send_q);
                        let memory = |used: fn(&diag::SocketMemory) -> (u32, u32)| {
                            c.memory.map_or_else(String::new, |m| {
                                let (used, limit) = used(&m);
                                format!(
                                    "{} / {}",
                                    format_bytes(u64::from(used)),
                                    format_bytes(u64::from(limit))
                                )
                            })
                        };
                        ui.label(memory(|m| (m.rmem_alloc, m.rcvbuf)));
                        ui.label(memory(|m| (m.wmem_queued, m.sndbuf)));
                        ui.label(
                            c.snd_wnd
                                .map_or_else(String::new, |w| format_bytes(u64::from(w))),
                        );
                        ui.label(c.owner_text(lang));
                        ui.end_row();
                    }
                });
            if shown.len() > MAX_ROWS {
                ui.label(S::ConnMore.fill(lang, &[&(shown.len() - MAX_ROWS)]));
            }
        });
    }
}
