//! The step-mode window: the lesson's server and client call sequences as
//! buttons enabled in a valid order, each making the real call, with the
//! line of code beside it (the lesson's Python, or Rust) and each socket's
//! TCP state and addresses after it.

use std::collections::HashMap;

use eframe::egui::{self, RichText};

use std::time::Duration;

use super::background::Background;
use super::theme::Palette;
use super::wire;
use crate::i18n::{Lang, S};
use crate::lab::backlog::{self, BacklogTrial};
use crate::lab::lifecycle::{Call, Lifecycle, Outcome, SocketView};
use crate::lab::probe::TcpState;

pub struct StepsWindow {
    pub open: bool,
    steps: Lifecycle,
    /// What each call did last.
    results: HashMap<Call, Outcome>,
    data: String,
    python: bool,
    /// Why the calls could not move onto a private link.
    link_error: Option<String>,
    /// The accept-queue experiment: running, and its last outcome.
    backlog_job: Background<Result<BacklogTrial, String>>,
    backlog_running: bool,
    backlog: Option<Result<BacklogTrial, String>>,
}

/// listen(2) and five clients: three fit the queue, two wait.
const BACKLOG: u32 = 2;
const BACKLOG_CLIENTS: usize = 5;
/// Long enough for each waiting client to send its SYN again (after 1 s).
const BACKLOG_WAIT: Duration = Duration::from_millis(1500);

impl Default for StepsWindow {
    fn default() -> Self {
        StepsWindow {
            open: false,
            // Port 0: the kernel picks a free one, so bind() never collides
            // with another program on a student's laptop.
            steps: Lifecycle::new(0),
            results: HashMap::new(),
            data: "hello 你好".into(),
            python: true,
            link_error: None,
            backlog_job: Background::default(),
            backlog_running: false,
            backlog: None,
        }
    }
}

fn outcome_text(outcome: &Outcome, lang: Lang) -> String {
    match outcome {
        Outcome::Done => S::StepsDone.text(lang).into(),
        Outcome::Accepted(addr) => S::StepsAccepted.fill(lang, &[addr]),
        Outcome::Sent(n) => S::StepsSent.fill(lang, &[n]),
        Outcome::Received(bytes) => S::StepsReceived.fill(
            lang,
            &[
                &bytes.len(),
                &String::from_utf8_lossy(bytes).replace('\u{FFFD}', "?"),
            ],
        ),
        Outcome::PeerClosed => S::MsgPeerClosed.text(lang).into(),
        Outcome::Waiting => S::StepsWaiting.text(lang).into(),
        Outcome::Failed(error) => S::MsgError.fill(lang, &[error]),
    }
}

fn state_text(view: &SocketView, lang: Lang) -> String {
    let addr =
        |a: Option<std::net::SocketAddr>| a.map_or_else(|| "–".to_string(), |a| a.to_string());
    match view.state {
        None => S::StepsNoSocket.text(lang).into(),
        Some(state) => {
            S::StepsState.fill(lang, &[&state.name(), &addr(view.local), &addr(view.peer)])
        }
    }
}

impl StepsWindow {
    /// True while a call waits: the app keeps repainting to retry it.
    pub fn show(&mut self, ctx: &egui::Context, palette: &Palette, lang: Lang) -> bool {
        for (call, outcome) in self.steps.poll_waiting() {
            self.results.insert(call, outcome);
        }
        let mut open = self.open;
        egui::Window::new(S::StepsTitle.text(lang))
            .open(&mut open)
            .constrain_to(super::floating::area(ctx))
            .default_width(900.0)
            .show(ctx, |ui| {
                ui.label(S::StepsIntro.text(lang));
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.python, true, S::StepsPython.text(lang));
                    ui.selectable_value(&mut self.python, false, S::StepsRust.text(lang));
                    ui.separator();
                    let field =
                        ui.add(egui::TextEdit::singleline(&mut self.data).desired_width(180.0));
                    field.widget_info(|| {
                        egui::WidgetInfo::labeled(
                            egui::Role::TextInput,
                            true,
                            S::StepsData.text(lang),
                        )
                    });
                    let on_link = self.steps.on_a_link();
                    let mut wanted = on_link;
                    ui.checkbox(&mut wanted, S::StepsOnLink.text(lang))
                        .on_hover_text(S::StepsOnLinkHover.text(lang));
                    if ui.button(S::StepsNew.text(lang)).clicked() || wanted != on_link {
                        self.restart(wanted);
                    }
                });
                if let Some(error) = &self.link_error {
                    ui.label(RichText::new(error).color(palette.alarm));
                }
                ui.columns(2, |columns| {
                    for (ui, (title, calls, view)) in columns.iter_mut().zip([
                        (S::StepsServer, &Call::SERVER[..], self.steps.server_view()),
                        (S::StepsClient, &Call::CLIENT[..], self.steps.client_view()),
                    ]) {
                        ui.heading(title.text(lang));
                        ui.label(RichText::new(state_text(&view, lang)).strong());
                        for &call in calls {
                            ui.horizontal_wrapped(|ui| {
                                let side = if call.is_server() { "server" } else { "client" };
                                let button =
                                    egui::Button::new(RichText::new(call.label()).monospace());
                                let response = ui.add_enabled(self.steps.enabled(call), button);
                                response.widget_info(|| {
                                    egui::WidgetInfo::labeled(
                                        egui::Role::Button,
                                        self.steps.enabled(call),
                                        format!("{side} {}", call.label()),
                                    )
                                });
                                if response.clicked() {
                                    let outcome = self.steps.call(call, self.data.as_bytes());
                                    self.results.insert(call, outcome);
                                }
                                let (python, rust) = call.code();
                                let code = if self.python { python } else { rust };
                                ui.label(
                                    RichText::new(code)
                                        .monospace()
                                        .small()
                                        .color(palette.weak_text),
                                );
                            });
                            if let Some(outcome) = self.results.get(&call) {
                                let color = match outcome {
                                    Outcome::Failed(_) => palette.alarm,
                                    Outcome::Waiting => palette.caution,
                                    _ => palette.ok,
                                };
                                ui.label(
                                    RichText::new(format!("  → {}", outcome_text(outcome, lang)))
                                        .color(color),
                                );
                            }
                        }
                    }
                });
                ui.separator();
                self.backlog_section(ui, palette, lang);
                if self.steps.on_a_link() {
                    ui.separator();
                    ui.label(RichText::new(S::StepsWire.text(lang)).strong());
                    match self.steps.wire() {
                        Some(log) => wire::packet_rows(ui, log, palette, lang),
                        None => {
                            ui.label(S::StepsWireEmpty.text(lang));
                        }
                    }
                }
            });
        self.open = open;
        // On a link, packets keep coming (the FIN's ACK, a retransmission):
        // repaint while the window is open there.
        self.steps.waiting().iter().any(Option::is_some) || (self.open && self.steps.on_a_link())
    }

    /// The accept queue, for real: listen(2), five clients, no accept().
    fn backlog_section(&mut self, ui: &mut egui::Ui, palette: &Palette, lang: Lang) {
        if let Some(result) = self.backlog_job.poll() {
            self.backlog_running = false;
            self.backlog = Some(result);
        }
        ui.label(RichText::new(S::BacklogTitle.text(lang)).strong());
        ui.label(RichText::new(S::BacklogIntro.text(lang)).small());
        let run = ui.add_enabled(
            !self.backlog_running,
            egui::Button::new(S::BacklogRun.fill(lang, &[&BACKLOG, &BACKLOG_CLIENTS])),
        );
        if run.clicked() {
            let spawned = self.backlog_job.spawn("sockscope-backlog", ui.ctx(), || {
                backlog::run(BACKLOG, BACKLOG_CLIENTS, BACKLOG_WAIT)
            });
            match spawned {
                Ok(()) => self.backlog_running = true,
                Err(e) => self.backlog = Some(Err(e.to_string())),
            }
        }
        if self.backlog_running {
            ui.label(S::BacklogRunning.text(lang));
        }
        match &self.backlog {
            Some(Ok(trial)) => {
                ui.label(
                    S::BacklogQueue
                        .fill(lang, &[&trial.backlog, &trial.queued, &trial.max_backlog]),
                );
                for client in &trial.clients {
                    let (text, color) = if client.state == TcpState::Established {
                        (
                            S::BacklogQueued.fill(lang, &[&client.port, &client.state.name()]),
                            palette.ok,
                        )
                    } else {
                        (
                            S::BacklogRefused.fill(
                                lang,
                                &[
                                    &client.port,
                                    &client.state.name(),
                                    &crate::i18n::times(u64::from(client.syns), lang),
                                ],
                            ),
                            palette.alarm,
                        )
                    };
                    ui.label(RichText::new(text).color(color));
                }
            }
            Some(Err(error)) => {
                ui.label(RichText::new(error).color(palette.alarm));
            }
            None => {}
        }
    }

    /// The kinds of the packets step mode's sockets exchanged so far (on a
    /// private link), for tests.
    pub fn packet_kinds(&mut self) -> Vec<crate::lab::wire_log::SegmentKind> {
        self.steps
            .wire()
            .map(|log| log.entries().iter().map(|e| e.kind).collect())
            .unwrap_or_default()
    }

    /// A fresh pair of sockets, on a private link or the machine's loopback.
    fn restart(&mut self, on_link: bool) {
        self.results.clear();
        self.link_error = None;
        self.steps = if on_link {
            match Lifecycle::on_link() {
                Ok(steps) => steps,
                Err(error) => {
                    self.link_error = Some(error.to_string());
                    Lifecycle::new(0)
                }
            }
        } else {
            Lifecycle::new(0)
        };
    }
}
