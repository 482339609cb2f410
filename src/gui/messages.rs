//! The Messages window: type text, pick UTF-8 or GBK, see the bytes, and
//! make each send() and recv() by hand on a real loopback connection.
//! Both sockets are non-blocking, so no button can freeze the window.

use eframe::egui::{self, RichText};

use crate::i18n::{Lang, S};
use crate::lab::messages::{Encoding, MessagePair, Received, hex};
use crate::lab::units::format_bytes;

/// Received bytes as text; a character that recv() split in two shows as
/// '?' (the hex beside it has the exact bytes).
fn shown(encoding: Encoding, bytes: &[u8]) -> String {
    encoding.decode(bytes).replace('\u{FFFD}', "?")
}

pub struct MessagesWindow {
    pub open: bool,
    pub text: String,
    pub encoding: Encoding,
    pub bufsize: usize,
    /// None while connecting (or if connecting failed: see `log`).
    pub pair: Option<MessagePair>,
    pub connecting: bool,
    /// What each call did, newest last.
    pub log: Vec<String>,
}

impl Default for MessagesWindow {
    fn default() -> Self {
        MessagesWindow {
            open: false,
            text: "你好".into(),
            encoding: Encoding::Utf8,
            bufsize: 4,
            pair: None,
            connecting: false,
            log: Vec::new(),
        }
    }
}

/// What the window asks the app for.
pub enum MessagesAction {
    /// Open a new connection (on a background thread).
    Connect,
}

impl MessagesWindow {
    pub fn show(&mut self, ctx: &egui::Context, lang: Lang) -> Option<MessagesAction> {
        let mut action = None;
        let mut open = self.open;
        egui::Window::new(S::MsgTitle.text(lang))
            .open(&mut open)
            .constrain_to(super::floating::area(ctx))
            .default_width(520.0)
            .show(ctx, |ui| {
                ui.label(S::MsgIntro.text(lang));
                ui.horizontal(|ui| {
                    let field = ui.text_edit_singleline(&mut self.text);
                    field.widget_info(|| {
                        egui::WidgetInfo::labeled(
                            egui::Role::TextInput,
                            true,
                            S::MsgText.text(lang),
                        )
                    });
                    ui.radio_value(&mut self.encoding, Encoding::Utf8, "UTF-8");
                    ui.radio_value(&mut self.encoding, Encoding::Gbk, "GBK");
                });
                let bytes = self.encoding.encode(&self.text);
                ui.label(
                    RichText::new(
                        S::MsgBytes
                            .fill(lang, &[&bytes.len(), &self.encoding.name(), &hex(&bytes)]),
                    )
                    .monospace(),
                );
                ui.separator();
                match &mut self.pair {
                    None => {
                        if self.connecting {
                            ui.label(S::MsgConnecting.text(lang));
                        } else if ui.button(S::MsgNew.text(lang)).clicked() {
                            action = Some(MessagesAction::Connect);
                        }
                    }
                    Some(pair) => {
                        ui.horizontal_wrapped(|ui| {
                            let closed = pair.client_closed();
                            if ui
                                .add_enabled(!closed, egui::Button::new(S::MsgSend.text(lang)))
                                .clicked()
                            {
                                let line = match pair.send(&bytes) {
                                    Ok(n) => S::MsgSent.fill(lang, &[&n, &hex(&bytes[..n])]),
                                    Err(e) => S::MsgError.fill(lang, &[&e]),
                                };
                                self.log.push(line);
                            }
                            let size =
                                ui.add(egui::DragValue::new(&mut self.bufsize).range(1..=65536));
                            size.widget_info(|| {
                                egui::WidgetInfo::labeled(
                                    egui::Role::SpinButton,
                                    true,
                                    S::MsgRecvSize.text(lang),
                                )
                            });
                            if ui.button(S::MsgRecv.text(lang)).clicked() {
                                let line = match pair.recv(self.bufsize) {
                                    Ok(Received::Bytes(got)) => S::MsgGot.fill(
                                        lang,
                                        &[
                                            &self.bufsize,
                                            &got.len(),
                                            &hex(&got),
                                            &shown(self.encoding, &got),
                                        ],
                                    ),
                                    Ok(Received::WouldBlock) => S::MsgWouldBlock.text(lang).into(),
                                    Ok(Received::PeerClosed) => S::MsgPeerClosed.text(lang).into(),
                                    Err(e) => S::MsgError.fill(lang, &[&e]),
                                };
                                self.log.push(line);
                            }
                            if ui
                                .add_enabled(!closed, egui::Button::new(S::MsgClose.text(lang)))
                                .clicked()
                            {
                                pair.close_client();
                            }
                            if ui.button(S::MsgNew.text(lang)).clicked() {
                                action = Some(MessagesAction::Connect);
                            }
                        });
                        let (send_queue, recv_queue) = pair.queues();
                        ui.label(S::MsgQueues.fill(
                            lang,
                            &[
                                &format_bytes(u64::from(send_queue)),
                                &format_bytes(u64::from(recv_queue)),
                            ],
                        ));
                    }
                }
                egui::ScrollArea::vertical()
                    .max_height(200.0)
                    .stick_to_bottom(true)
                    .show(ui, |ui| {
                        for line in &self.log {
                            ui.label(RichText::new(line).monospace());
                        }
                    });
            });
        self.open = open;
        action
    }
}
