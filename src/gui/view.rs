//! The lesson's picture: writer application → send(data) → send buffer
//! (kernel) → loopback → receive buffer (kernel) → recv(bufsize) → reader
//! application, with the state of each part and a caption that says, in
//! plain words, what the kernel is doing.

use std::net::SocketAddr;

use eframe::egui::{self, Align2, Color32, FontId, Pos2, Rect, Stroke, pos2, vec2};

use super::anim::{Eased, Flow};
use super::theme::Palette;
use super::vessel::{self, Slots, VesselLook};
use crate::i18n::{Lang, S};
use crate::lab::link::{self, DelayMethod, LinkSpec, Loss};
use crate::lab::probe::TcpState;
use crate::lab::units::format_bytes;
use crate::lab::{
    BufferKind, BufferSetting, Cable, Endpoint, LabConfig, Rate, ReaderState, Sample, SessionInfo,
    WindowRoom, WriterState,
};

/// Everything the picture shows, read from the newest sample.
#[derive(Debug, Clone, Copy)]
pub struct Now<'a> {
    pub sample: Sample,
    pub info: Option<&'a SessionInfo>,
    pub config: &'a LabConfig,
    /// When the current writer stall began (ns since the session start).
    pub stall_started_ns: Option<u64>,
    /// The first sample's time, when the writer was already blocked in it:
    /// watching another program's connection began in the middle of a
    /// stall (`Timeline::stalled_at_start`).
    pub stalled_at_start_ns: Option<u64>,
    /// Measured over the last half second, bytes per second.
    pub write_rate: f64,
    pub read_rate: f64,
    /// A live run with no connection to draw (waiting, connecting, or
    /// its start failed): `sample` is then an empty default, not a
    /// measurement, and nothing may be drawn as sending or reading.
    pub no_connection: Option<&'a NoConnection>,
}

/// Why a live run has no connection to draw: between its start and its
/// connection, or after its start failed. A value the picture and the
/// caption put into words (STYLE 14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoConnection {
    /// `--listen`: waiting on this address for one outside client.
    WaitingForPeer(SocketAddr),
    /// Connecting: to an outside server (`--connect`), or sockscope's
    /// own pair.
    Connecting(Endpoint),
    /// The start failed: where it was to connect, and why.
    Failed(Endpoint, StartFailure),
}

/// Why a start failed, in the kernel's terms, which the window words in
/// either language; what it cannot name it gives as the error's own text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartFailure {
    /// ECONNREFUSED: nothing listens there (the peer's kernel sent RST).
    Refused,
    /// ETIMEDOUT: no answer to the SYNs.
    TimedOut,
    /// EHOSTUNREACH / ENETUNREACH.
    Unreachable,
    /// EADDRINUSE: another socket holds the address.
    AddressInUse,
    /// EADDRNOTAVAIL: not an address of this machine.
    AddressNotAvailable,
    Other(String),
}

impl StartFailure {
    /// The reason of a failed start.
    pub fn of(error: &crate::run::RunError) -> Self {
        use crate::lab::LabError;
        use crate::run::RunError;
        use std::io::ErrorKind;
        match error {
            RunError::Start(LabError::Socket { source, .. }) => match source.kind() {
                ErrorKind::ConnectionRefused => StartFailure::Refused,
                ErrorKind::TimedOut => StartFailure::TimedOut,
                ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                    StartFailure::Unreachable
                }
                ErrorKind::AddrInUse => StartFailure::AddressInUse,
                ErrorKind::AddrNotAvailable => StartFailure::AddressNotAvailable,
                _ => StartFailure::Other(error.to_string()),
            },
            _ => StartFailure::Other(error.to_string()),
        }
    }

    fn text(&self, lang: Lang) -> String {
        match self {
            StartFailure::Refused => S::WhyRefused.text(lang).into(),
            StartFailure::TimedOut => S::WhyTimedOut.text(lang).into(),
            StartFailure::Unreachable => S::WhyUnreachable.text(lang).into(),
            StartFailure::AddressInUse => S::WhyAddressInUse.text(lang).into(),
            StartFailure::AddressNotAvailable => S::WhyAddressNotAvailable.text(lang).into(),
            StartFailure::Other(text) => text.clone(),
        }
    }
}

impl NoConnection {
    /// The caption: what the run waits for, or why it has no connection.
    fn caption(&self, lang: Lang) -> (String, Severity) {
        match self {
            NoConnection::WaitingForPeer(addr) => (
                S::CapNoPeerYet.fill(lang, &[addr, &addr.ip(), &addr.port()]),
                Severity::Info,
            ),
            NoConnection::Connecting(Endpoint::Connect(addr)) => {
                (S::CapConnectingTo.fill(lang, &[addr]), Severity::Info)
            }
            NoConnection::Connecting(_) => (S::CapConnectingOwn.text(lang).into(), Severity::Info),
            NoConnection::Failed(endpoint, why) => {
                let why = why.text(lang);
                let text = match endpoint {
                    Endpoint::Connect(addr) => S::CapConnectFailed.fill(lang, &[addr, &why]),
                    Endpoint::Listen(addr) => S::CapListenFailed.fill(lang, &[addr, &why]),
                    Endpoint::Loopback | Endpoint::Link(_) => {
                        S::CapOwnStartFailed.fill(lang, &[&why])
                    }
                };
                (text, Severity::Alarm)
            }
        }
    }

    fn failed(&self) -> bool {
        matches!(self, NoConnection::Failed(..))
    }

    /// What each application box, each vessel and the link say: "no
    /// connection yet", or "no connection" after a failed start.
    fn state_text(&self, lang: Lang) -> &'static str {
        if self.failed() {
            S::NoConnection.text(lang)
        } else {
            S::NoConnectionYet.text(lang)
        }
    }

    fn color(&self, palette: &Palette) -> Color32 {
        if self.failed() {
            palette.alarm
        } else {
            palette.weak_text
        }
    }
}

impl Now<'_> {
    /// The send buffer's size now: the limit this sample read (sk_sndbuf),
    /// which autotuning grows from the size at the start while SO_SNDBUF
    /// is unset; the size at the start where the sample has none (no
    /// SO_MEMINFO, Linux < 4.12, or a recording without the column).
    pub fn send_capacity(&self) -> u64 {
        now_or_start(
            self.sample.sender_memory.sndbuf,
            self.info.map(|i| &i.sndbuf),
        )
    }

    /// The receive buffer's size now (sk_rcvbuf), as `send_capacity`.
    pub fn recv_capacity(&self) -> u64 {
        now_or_start(
            self.sample.receiver_memory.rcvbuf,
            self.info.map(|i| &i.rcvbuf),
        )
    }

    /// The running stall began before the first sample: its length is
    /// only known to be at least `stalled_for_secs`.
    pub fn stall_began_before_watch(&self) -> bool {
        self.stalled_at_start_ns.is_some() && self.stall_started_ns == self.stalled_at_start_ns
    }

    /// " (for 1.5 s)" after "blocked", or " (for at least 1.5 s: ...)"
    /// when the stall began before watching did; empty when not blocked.
    fn blocked_for(&self, lang: Lang) -> String {
        let Some(secs) = self.stalled_for_secs() else {
            return String::new();
        };
        let secs = format!("{secs:.1}");
        if self.stall_began_before_watch() {
            S::CapBlockedForAtLeast.fill(lang, &[&secs])
        } else {
            S::CapBlockedFor.fill(lang, &[&secs])
        }
    }

    /// How long send() has been blocked, if it is.
    pub fn stalled_for_secs(&self) -> Option<f64> {
        let start = self.stall_started_ns?;
        self.sample
            .writer_blocked()
            .then(|| self.sample.t_ns.saturating_sub(start) as f64 / 1e9)
    }
}

/// A buffer's limit as a sample read it, or its size at the start when the
/// sample has none.
fn now_or_start(now: u32, setting: Option<&BufferSetting>) -> u64 {
    match now {
        0 => setting.map_or(0, |s| s.effective),
        bytes => u64::from(bytes),
    }
}

/// The eased levels and wave phases of both vessels.
#[derive(Debug, Default, Clone, Copy)]
pub struct VesselMotion {
    send_in_flight: Eased,
    send_total: Eased,
    received: Eased,
    send_flow: Flow,
    recv_flow: Flow,
}

impl VesselMotion {
    /// Steps the animation; true while it still moves.
    fn step(&mut self, now: &Now, dt: f32) -> (VesselLevels, bool) {
        self.follow(
            &now.sample,
            (now.send_capacity(), now.recv_capacity()),
            (now.write_rate, now.read_rate),
            dt,
        )
    }

    /// Steps the animation toward `sample`'s queues in buffers of
    /// `(send, receive)` capacity, the waves moving at `(write, read)`
    /// bytes per second; true while it still moves.
    pub(super) fn follow(
        &mut self,
        sample: &Sample,
        (send_capacity, recv_capacity): (u64, u64),
        (write_rate, read_rate): (f64, f64),
        dt: f32,
    ) -> (VesselLevels, bool) {
        let frac = |bytes: u64, capacity: u64| {
            if capacity == 0 {
                0.0
            } else {
                (bytes as f64 / capacity as f64).min(1.0) as f32
            }
        };
        let targets = [
            frac(u64::from(sample.in_flight()), send_capacity),
            frac(u64::from(sample.send_queue), send_capacity),
            frac(u64::from(sample.recv_queue), recv_capacity),
        ];
        let levels = VesselLevels {
            send_in_flight: self.send_in_flight.step(targets[0], dt),
            send_total: self.send_total.step(targets[1], dt),
            received: self.received.step(targets[2], dt),
            send_phase: self
                .send_flow
                .step(rate_fraction(write_rate, send_capacity), dt),
            recv_phase: self
                .recv_flow
                .step(rate_fraction(read_rate, recv_capacity), dt),
        };
        let moving = self.send_in_flight.is_moving(targets[0])
            || self.send_total.is_moving(targets[1])
            || self.received.is_moving(targets[2]);
        (levels, moving)
    }
}

fn rate_fraction(rate: f64, capacity: u64) -> f32 {
    if capacity == 0 {
        0.0
    } else {
        (rate / capacity as f64) as f32
    }
}

/// The vessels' levels (fractions of the capacity) and wave phases to draw.
#[derive(Debug, Clone, Copy)]
pub(super) struct VesselLevels {
    send_in_flight: f32,
    send_total: f32,
    received: f32,
    send_phase: f32,
    recv_phase: f32,
}

impl VesselLevels {
    /// How the send and the receive buffer look: the send buffer glows
    /// while send() is blocked, the receive buffer while the window is 0.
    pub(super) fn looks(&self, sample: &Sample, palette: &Palette) -> (VesselLook, VesselLook) {
        (
            VesselLook::send_buffer(
                self.send_in_flight,
                self.send_total,
                self.send_phase,
                sample.writer_blocked(),
                palette,
            ),
            VesselLook::receive_buffer(self.received, self.recv_phase, sample.zero_window, palette),
        )
    }
}

/// What is happening, in one or two sentences a class can read aloud.
/// Careful with the facts (../shared/reference/linux-socket-facts.md):
/// send() can block a moment before the window reads 0, because bytes the
/// receiver already holds are not yet ACKed; so "blocked" alone never
/// claims the window is 0.
pub fn caption(now: &Now, lang: Lang) -> (String, Severity) {
    if let Some(none) = now.no_connection {
        return none.caption(lang);
    }
    if now.info.is_some_and(|i| i.attached.is_some()) {
        return attached_caption(now, lang);
    }
    if now.info.is_some_and(|i| i.outside) {
        return outside_caption(now, lang);
    }
    let s = &now.sample;
    let reader_paused = s.reader_paused();
    match (s.writer_state, s.reader_state) {
        (_, ReaderState::PeerClosed) => {
            return (S::CapPeerClosed.text(lang).into(), Severity::Info);
        }
        (_, ReaderState::PeerReset) | (WriterState::PeerGone, _) => {
            return (S::CapReset.text(lang).into(), Severity::Alarm);
        }
        _ => {}
    }
    if s.cable == Cable::Unplugged {
        let rto = format!("{:.0}", f64::from(s.sender.rto_us) / 1e3);
        return (S::CapUnplugged.fill(lang, &[&rto]), Severity::Alarm);
    }
    let room = s.window_room();
    let window_reason = window_reason(s, room, lang);
    if s.writer_blocked() {
        let why = if s.zero_window {
            S::CapBecauseZero.fill(lang, &[&window_reason])
        } else if now.config.write_chunk.bytes() > now.send_capacity() {
            S::CapChunkTooBig.text(lang).to_string()
        } else if room.is_some_and(|room| room.closing()) {
            S::CapClosing.text(lang).to_string()
        } else {
            S::CapWriterFaster.text(lang).to_string()
                + &in_flight_tail(s, lang)
                + &loss_tail(now, lang)
        };
        let timer = now.blocked_for(lang);
        return (S::CapBlocked.fill(lang, &[&timer, &why]), Severity::Alarm);
    }
    if s.zero_window {
        return (
            S::CapZeroWindow.fill(lang, &[&window_reason]),
            Severity::Caution,
        );
    }
    if reader_paused {
        return (S::CapReaderPaused.text(lang).into(), Severity::Caution);
    }
    if s.writer_state == WriterState::Paused {
        return (S::CapWriterPaused.text(lang).into(), Severity::Info);
    }
    let link = match now.config.endpoint {
        Endpoint::Link(spec) => Some(spec),
        _ => None,
    };
    if let Some(spec) = link
        && spec.loss != Loss::NONE
        && s.sender.total_retrans > 0
    {
        let text = S::CapLossy.fill(lang, &[&spec.loss, &s.sender.total_retrans]);
        return (text, Severity::Caution);
    }
    let recv_fill = f64::from(s.recv_queue) / now.recv_capacity().max(1) as f64;
    if recv_fill > 0.25 && now.recv_capacity() > 0 {
        return (S::CapFilling.text(lang).into(), Severity::Caution);
    }
    if in_flight_notable(s) {
        let text =
            S::CapInFlight.fill(lang, &[&format_bytes(u64::from(s.in_flight())), &rtt_ms(s)]);
        return (text, Severity::Info);
    }
    let normal = if link.is_some() {
        S::CapNormalLink
    } else {
        S::CapNormal
    };
    (normal.text(lang).into(), Severity::Ok)
}

/// At least a full segment sent and not yet acknowledged: on loopback an
/// ACK comes back within microseconds and this is rare; on a slow or
/// distant link it is the normal state.
fn in_flight_notable(s: &Sample) -> bool {
    s.sender.snd_mss > 0 && s.in_flight() >= s.sender.snd_mss
}

fn rtt_ms(s: &Sample) -> String {
    format!("{:.1}", f64::from(s.sender.rtt_us) / 1e3)
}

/// " 25 KiB of it is in flight: ..." after "the writer is faster", when
/// bytes wait for their ACK.
fn in_flight_tail(s: &Sample, lang: Lang) -> String {
    if !in_flight_notable(s) {
        return String::new();
    }
    S::CapInFlightTail.fill(lang, &[&format_bytes(u64::from(s.in_flight())), &rtt_ms(s)])
}

/// " The link drops 2% of the packets: 17 segments resent so far." on a
/// lossy link once something was resent.
fn loss_tail(now: &Now, lang: Lang) -> String {
    match now.config.endpoint {
        Endpoint::Link(spec) if spec.loss != Loss::NONE && now.sample.sender.total_retrans > 0 => {
            S::CapLossTail.fill(lang, &[&spec.loss, &now.sample.sender.total_retrans])
        }
        _ => String::new(),
    }
}

/// Why the window is 0, by the kernel's own rule and numbers: while less
/// than half the buffer is free, __tcp_select_window() offers 0 until the
/// free space reaches one segment (rcv_mss) or 1/16 of the buffer
/// (silly-window-syndrome avoidance; loopback's segments are big),
/// however much or little waits in the queue. A paused reader simply
/// filled it; a reader that has made that room gets the window back with
/// its next ACK.
fn window_reason(s: &Sample, room: Option<WindowRoom>, lang: Lang) -> String {
    if s.reader_paused() {
        return S::CapWindowPaused.text(lang).to_string();
    }
    let bytes = |n: u32| format_bytes(u64::from(n));
    match room {
        Some(room) if room.too_little() => S::CapWindowDraining.fill(
            lang,
            &[
                &bytes(s.receiver.rcv_mss),
                &bytes(room.free),
                &bytes(room.buffer),
                &bytes(s.recv_queue),
            ],
        ),
        Some(room) => S::CapWindowReopening.fill(lang, &[&bytes(room.free), &bytes(room.needed)]),
        // Nothing queued, or no SO_MEMINFO (Linux < 4.12): the rule alone.
        None if s.receiver.rcv_mss > 0 => {
            S::CapWindowSegment.fill(lang, &[&bytes(s.receiver.rcv_mss)])
        }
        None => S::CapWindowSlow.text(lang).to_string(),
    }
}

/// The caption with an outside peer: the send side and the receive side
/// are two separate streams, so a full receive buffer here has nothing to
/// do with a closed window there.
fn outside_caption(now: &Now, lang: Lang) -> (String, Severity) {
    let s = &now.sample;
    match (s.writer_state, s.reader_state) {
        (_, ReaderState::PeerClosed) => {
            return (S::CapOutPeerClosed.text(lang).into(), Severity::Info);
        }
        // The peer leaving is not a failure, however its kernel ended it.
        (_, ReaderState::PeerReset) | (WriterState::PeerGone, _) => {
            return (S::CapOutPeerReset.text(lang).into(), Severity::Info);
        }
        _ => {}
    }
    if s.writer_blocked() {
        let timer = now.blocked_for(lang);
        let zero = if s.zero_window {
            S::CapOutZeroWindowTail.text(lang)
        } else {
            ""
        };
        return (
            S::CapOutBlocked.fill(lang, &[&timer, &zero]),
            Severity::Alarm,
        );
    }
    if s.zero_window {
        return (S::CapOutZeroWindow.text(lang).into(), Severity::Caution);
    }
    if s.reader_paused() {
        return (S::CapOutReaderPaused.text(lang).into(), Severity::Caution);
    }
    if s.writer_state == WriterState::Paused {
        return (S::CapOutWriterPaused.text(lang).into(), Severity::Info);
    }
    (S::CapOutNormal.text(lang).into(), Severity::Ok)
}

/// The caption for another program's connection. Its programs' calls are
/// not visible, only what its kernel holds: a full send buffer is when a
/// send() would block, a zero window the receiver's full buffer. The
/// memory figures say why a receive queue at a few percent can close the
/// window: each segment's memory counts, not its payload.
fn attached_caption(now: &Now, lang: Lang) -> (String, Severity) {
    let s = &now.sample;
    let bytes = |n: u32| format_bytes(u64::from(n));
    if s.writer_state == WriterState::Closed {
        return (S::CapAttClosed.text(lang).into(), Severity::Info);
    }
    if fin_received(s) {
        return (S::CapAttFin.text(lang).into(), Severity::Info);
    }
    let remote = now.info.is_some_and(|i| i.outside);
    let memory = s.receiver_memory;
    let receiver_full = S::CapAttReceiverFull.fill(
        lang,
        &[
            &bytes(s.recv_queue),
            &bytes(memory.rmem_alloc),
            &bytes(memory.rcvbuf),
        ],
    );
    if s.writer_blocked() {
        let timer = now.blocked_for(lang);
        let why = if s.zero_window && !remote {
            S::CapAttBecause.fill(lang, &[&receiver_full])
        } else if s.zero_window {
            S::CapOutZeroWindowTail.text(lang).to_string()
        } else {
            String::new()
        };
        let text = S::CapAttSendFull.fill(
            lang,
            &[
                &timer,
                &bytes(s.sender_memory.wmem_queued),
                &bytes(s.sender_memory.sndbuf),
                &why,
            ],
        );
        return (text, Severity::Alarm);
    }
    if s.zero_window {
        let text = if remote {
            S::CapAttRemoteZero.text(lang).to_string()
        } else {
            S::CapAttZeroWindow.fill(lang, &[&receiver_full])
        };
        return (text, Severity::Caution);
    }
    if remote {
        return (S::CapAttRemote.text(lang).into(), Severity::Ok);
    }
    (S::CapAttNormal.text(lang).into(), Severity::Ok)
}

/// The receiving socket has the sender's FIN: it is past ESTABLISHED on
/// the passive side, or both closed at once.
fn fin_received(s: &Sample) -> bool {
    matches!(
        s.receiver.state,
        TcpState::CloseWait | TcpState::LastAck | TcpState::Closing | TcpState::TimeWait
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Ok,
    Info,
    Caution,
    Alarm,
}

impl Severity {
    pub fn color(self, palette: &Palette) -> Color32 {
        match self {
            Severity::Ok => palette.ok,
            Severity::Info => palette.text,
            Severity::Caution => palette.caution,
            Severity::Alarm => palette.alarm,
        }
    }
}

fn rate_text(rate: f64) -> String {
    format!("{}/s", format_bytes(rate.max(0.0) as u64))
}

fn setting_text(rate: Rate, lang: Lang) -> String {
    match rate {
        Rate::Unlimited => S::RateUnlimited.text(lang).into(),
        Rate::Paused => S::RatePaused.text(lang).into(),
        Rate::BytesPerSec(n) => S::RateLimit.fill(lang, &[&format_bytes(n)]),
    }
}

/// Where the picture's parts go, and the painter and fonts to draw them
/// with.
struct Canvas<'a> {
    painter: egui::Painter,
    palette: &'a Palette,
    lang: Lang,
    rect: Rect,
    big: FontId,
    medium: FontId,
    small: FontId,
    box_h: f32,
    call_h: f32,
    title_h: f32,
    vessel_top: f32,
    vessel_bottom: f32,
    writer_rect: Rect,
    reader_rect: Rect,
    send_rect: Rect,
    recv_rect: Rect,
}

impl<'a> Canvas<'a> {
    /// Columns: writer side, the link, reader side; the applications'
    /// boxes on top, the calls, then the kernel's buffers.
    fn new(painter: egui::Painter, rect: Rect, palette: &'a Palette, lang: Lang) -> Self {
        let scale = palette.scale;
        let width = rect.width();
        let side = 0.02 * width;
        let column = 0.38 * width;
        let left = rect.left() + side;
        let right = rect.right() - side - column;
        let box_h = 62.0 * scale;
        let call_h = 30.0 * scale;
        let title_h = 4.0;
        let foot_h = 22.0 * scale;
        let box_top = rect.top();
        let vessel_top = box_top + box_h + call_h + title_h;
        let vessel_bottom = (rect.bottom() - foot_h).max(vessel_top + 60.0);
        Canvas {
            painter,
            palette,
            lang,
            rect,
            big: FontId::proportional(22.0 * scale),
            medium: FontId::proportional(15.0 * scale),
            small: FontId::proportional(12.5 * scale),
            box_h,
            call_h,
            title_h,
            vessel_top,
            vessel_bottom,
            writer_rect: Rect::from_min_size(pos2(left, box_top), vec2(column, box_h)),
            reader_rect: Rect::from_min_size(pos2(right, box_top), vec2(column, box_h)),
            send_rect: Rect::from_min_max(
                pos2(left, vessel_top),
                pos2(left + column, vessel_bottom),
            ),
            recv_rect: Rect::from_min_max(
                pos2(right, vessel_top),
                pos2(right + column, vessel_bottom),
            ),
        }
    }
}

/// Draws the lesson's picture into the top of `ui`: the two applications
/// in user space above, their kernel buffers below, loopback between the
/// buffers. Returns true while the picture is still moving.
pub fn pipeline(
    ui: &mut egui::Ui,
    now: &Now,
    motion: &mut VesselMotion,
    palette: &Palette,
    slots: &mut Slots,
    height: f32,
    lang: Lang,
) -> bool {
    let dt = ui.input(|i| i.stable_dt).min(0.1);
    let (levels, moving) = motion.step(now, dt);
    let width = ui.available_width();
    let (rect, _) = ui.allocate_exact_size(vec2(width, height), egui::Sense::hover());
    let canvas = Canvas::new(ui.painter_at(rect), rect, palette, lang);
    kernel_boundary(&canvas);
    let colors = applications(&canvas, now);
    calls(&canvas, now, colors);
    buffers(&canvas, ui, now, &levels, slots);
    link(&canvas, ui, now);
    moving || now.sample.writer_blocked()
}

/// User space above, kernel below: the line the system calls cross.
fn kernel_boundary(c: &Canvas) {
    let palette = c.palette;
    let boundary_y = c.rect.top() + c.box_h + c.call_h * 0.5;
    c.painter.line_segment(
        [
            pos2(c.rect.left(), boundary_y),
            pos2(c.rect.right(), boundary_y),
        ],
        Stroke::new(1.0, palette.weak_text.gamma_multiply(0.5)),
    );
    c.painter.text(
        pos2(c.rect.left() + 2.0, boundary_y - 3.0),
        Align2::LEFT_BOTTOM,
        S::UserSpace.text(c.lang),
        c.small.clone(),
        palette.weak_text,
    );
    c.painter.text(
        pos2(c.rect.left() + 2.0, boundary_y + 3.0),
        Align2::LEFT_TOP,
        S::Kernel.text(c.lang),
        c.small.clone(),
        palette.weak_text,
    );
}

/// The writing and the reading application, each in a box with what it
/// is doing; returns their colours (writer, reader).
fn applications(c: &Canvas, now: &Now) -> (Color32, Color32) {
    let (palette, lang) = (c.palette, c.lang);
    let s = &now.sample;
    let outside = now.info.is_some_and(|i| i.outside);
    let writer_color = match s.writer_state {
        WriterState::Blocked => palette.alarm,
        WriterState::Paused => palette.paused,
        WriterState::Sending => palette.ok,
        _ => palette.weak_text,
    };
    let reader_color = match s.reader_state {
        ReaderState::Paused | ReaderState::NotReading => palette.paused,
        ReaderState::Reading | ReaderState::Draining => palette.ok,
        ReaderState::PeerReset | ReaderState::Failed => palette.alarm,
        _ => palette.weak_text,
    };
    let (writer_color, reader_color) = match now.no_connection {
        Some(none) => (none.color(palette), none.color(palette)),
        None => (writer_color, reader_color),
    };
    let attached = now.info.and_then(|i| i.attached.as_ref());
    let writer_state = writer_state_text(now, lang);
    let reader_state = reader_state_text(now, lang);
    let (writer_title, reader_title, writer_detail, reader_detail) = match attached {
        // Another program's: its programs by name, and nothing to set.
        Some(attached) => {
            let program = |owner: &Option<String>, fallback: S| {
                owner
                    .as_ref()
                    .map_or_else(|| fallback.text(lang).to_string(), |o| o.clone())
            };
            let info = now.info.expect("attached comes with info");
            // The addresses are in the top bar; the boxes name programs.
            let writer = program(&attached.writer_owner, S::AttNotYours);
            let reader = if outside {
                S::AttRemoteEnd.fill(lang, &[&info.reader_addr])
            } else {
                program(&attached.reader_owner, S::AttNotYours)
            };
            let watched = S::AttWatched.text(lang).to_string();
            (writer, reader, attached_writer_detail(now, lang), watched)
        }
        None if outside => (
            S::OutsideWriterApp.text(lang).to_string(),
            S::OutsideReaderApp.text(lang).to_string(),
            writer_detail(now, lang),
            setting_text(now.config.read_rate, lang),
        ),
        None => (
            S::WriterApp.text(lang).to_string(),
            S::ReaderApp.text(lang).to_string(),
            writer_detail(now, lang),
            setting_text(now.config.read_rate, lang),
        ),
    };
    app_box(
        &c.painter,
        c.writer_rect,
        &writer_title,
        &writer_state,
        &writer_detail,
        writer_color,
        palette,
    );
    app_box(
        &c.painter,
        c.reader_rect,
        &reader_title,
        &reader_state,
        &reader_detail,
        reader_color,
        palette,
    );
    (writer_color, reader_color)
}

/// What the writing application is doing, in the writer's box.
fn writer_state_text(now: &Now, lang: Lang) -> String {
    if let Some(none) = now.no_connection {
        return none.state_text(lang).into();
    }
    let attached = now.info.and_then(|i| i.attached.as_ref());
    match now.sample.writer_state {
        WriterState::Blocked if attached.is_some() => S::AttSendBufferFull.text(lang).into(),
        WriterState::Blocked => now.stalled_for_secs().map_or_else(
            || S::WriterBlocked.text(lang).to_string(),
            |secs| S::WriterBlockedFor.fill(lang, &[&format!("{secs:.1}")]),
        ),
        WriterState::Finished if attached.is_some() => S::AttFinSent.text(lang).into(),
        WriterState::Closed => S::AttClosedState.text(lang).into(),
        WriterState::Sending => S::WriterSending.fill(lang, &[&rate_text(now.write_rate)]),
        WriterState::Paused => S::WriterPaused.text(lang).into(),
        WriterState::Finished => S::WriterFinished.text(lang).into(),
        WriterState::PeerGone => S::WriterPeerGone.text(lang).into(),
        WriterState::Failed => S::Failed.text(lang).into(),
    }
}

/// What the reading application is doing, in the reader's box.
fn reader_state_text(now: &Now, lang: Lang) -> String {
    if let Some(none) = now.no_connection {
        return none.state_text(lang).into();
    }
    let s = &now.sample;
    let attached = now.info.is_some_and(|i| i.attached.is_some());
    match s.reader_state {
        _ if attached && fin_received(s) => S::AttFinReceived.text(lang).into(),
        ReaderState::Reading => S::ReaderReading.fill(lang, &[&rate_text(now.read_rate)]),
        ReaderState::Paused => S::ReaderPaused.text(lang).into(),
        ReaderState::Draining => S::ReaderDraining.fill(lang, &[&rate_text(now.read_rate)]),
        ReaderState::PeerClosed => S::ReaderEof.text(lang).into(),
        ReaderState::PeerReset => S::ReaderReset.text(lang).into(),
        ReaderState::Stopped => S::Stopped.text(lang).into(),
        ReaderState::Failed => S::Failed.text(lang).into(),
        ReaderState::NotReading => S::AttNotReading.text(lang).into(),
    }
}

/// Under an attached sender: how often its buffer was full, a running
/// stall included, and whether the first began before watching did.
fn attached_writer_detail(now: &Now, lang: Lang) -> String {
    let detail = if now.stalled_at_start_ns.is_some() {
        S::AttWriterDetailBefore
    } else {
        S::AttWriterDetail
    };
    detail.fill(
        lang,
        &[&crate::i18n::times(now.sample.stalls_so_far(), lang)],
    )
}

/// The calls: send() goes down into the kernel, recv() comes up.
fn calls(c: &Canvas, now: &Now, (writer_color, reader_color): (Color32, Color32)) {
    let palette = c.palette;
    let call_top = c.rect.top() + c.box_h + 2.0;
    let call_bottom = c.vessel_top - c.title_h - 2.0;
    let send_x = c.writer_rect.center().x;
    let recv_x = c.reader_rect.center().x;
    arrow(
        &c.painter,
        pos2(send_x, call_top),
        pos2(send_x, call_bottom),
        writer_color,
        palette,
    );
    arrow(
        &c.painter,
        pos2(recv_x, call_bottom),
        pos2(recv_x, call_top),
        reader_color,
        palette,
    );
    let call_y = (call_top + call_bottom) / 2.0;
    // Another program's calls and their sizes are not visible.
    let attached = now.info.is_some_and(|i| i.attached.is_some());
    let (send_call, recv_call) = if attached {
        ("send()".to_string(), "recv()".to_string())
    } else {
        (
            S::SendCall.fill(c.lang, &[&format_bytes(now.config.write_chunk.bytes())]),
            format!("recv({})", format_bytes(now.config.read_chunk.bytes())),
        )
    };
    c.painter.text(
        pos2(send_x + 12.0, call_y),
        Align2::LEFT_CENTER,
        send_call,
        c.small.clone(),
        palette.text,
    );
    c.painter.text(
        pos2(recv_x + 12.0, call_y),
        Align2::LEFT_CENTER,
        recv_call,
        c.small.clone(),
        palette.text,
    );
}

/// The two kernel buffers, their numbers, and under them the parts and
/// the sizes.
fn buffers(c: &Canvas, ui: &egui::Ui, now: &Now, levels: &VesselLevels, slots: &mut Slots) {
    let (palette, lang) = (c.palette, c.lang);
    let s = &now.sample;
    let (send_look, recv_look) = levels.looks(s, palette);
    vessel::paint(ui, c.send_rect, &send_look, slots);
    vessel::paint(ui, c.recv_rect, &recv_look, slots);
    let send_memory = Memory {
        used: s.sender_memory.wmem_queued,
        limit: s.sender_memory.sndbuf,
        drops: 0,
    };
    let recv_memory = Memory {
        used: s.receiver_memory.rmem_alloc,
        limit: s.receiver_memory.rcvbuf,
        drops: s.receiver_memory.drops,
    };
    fill_numbers(
        lang,
        &c.painter,
        c.send_rect,
        S::SendBuffer.text(lang),
        vessel_numbers(now, BufferKind::Send, lang),
        send_memory,
        c,
    );
    fill_numbers(
        lang,
        &c.painter,
        c.recv_rect,
        S::RecvBuffer.text(lang),
        vessel_numbers(now, BufferKind::Receive, lang),
        recv_memory,
        c,
    );
    memory_gauge(c, c.send_rect, Side::Left, send_memory);
    memory_gauge(c, c.recv_rect, Side::Right, recv_memory);
    if now.no_connection.is_some() {
        return;
    }
    let foot = |r: Rect| pos2(r.center().x, c.vessel_bottom + 2.0);
    legend_line(
        &c.painter,
        foot(c.send_rect),
        &[
            (
                palette.in_flight,
                S::InFlightBytes.fill(lang, &[&format_bytes(u64::from(s.in_flight()))]),
            ),
            (
                palette.unsent,
                S::UnsentBytes.fill(lang, &[&format_bytes(u64::from(s.unsent))]),
            ),
        ],
        &c.small,
        palette,
    );
    legend_line(
        &c.painter,
        foot(c.recv_rect),
        &[(
            palette.received,
            S::WaitingForRecv.fill(lang, &[&format_bytes(u64::from(s.recv_queue))]),
        )],
        &c.small,
        palette,
    );
}

/// The link between the buffers: loopback, and the receiver's advertised
/// window (cut while it is 0). With an outside peer the bytes sent go to
/// the peer, and the bytes received come from it: two links through a
/// peer box.
fn link(c: &Canvas, ui: &egui::Ui, now: &Now) {
    let (palette, lang) = (c.palette, c.lang);
    let s = &now.sample;
    let outside = now.info.is_some_and(|i| i.outside);
    let scale = palette.scale;
    let mid_y = (c.vessel_top + c.vessel_bottom) / 2.0;
    let link_left = pos2(c.send_rect.right() - 4.0, mid_y);
    let link_right = pos2(c.recv_rect.left() + 4.0, mid_y);
    let link_x = (link_left.x + link_right.x) / 2.0;
    let peer_rect = Rect::from_center_size(
        pos2(link_x, mid_y),
        vec2((link_right.x - link_left.x) * 0.5, 56.0 * scale),
    );
    let (gate_left, gate_right) = if outside {
        (link_left, peer_rect.left_center())
    } else {
        (link_left, link_right)
    };
    let gate_x = (gate_left.x + gate_right.x) / 2.0;
    let unplugged = s.cable == Cable::Unplugged;
    let (link_color, link_text) = if let Some(none) = now.no_connection {
        (none.color(palette), none.state_text(lang).to_string())
    } else if unplugged {
        (palette.alarm, S::CableUnplugged.text(lang).to_string())
    } else if s.zero_window {
        (palette.alarm, S::WindowZero.text(lang).to_string())
    } else {
        (
            palette.ok,
            S::WindowBytes.fill(lang, &[&format_bytes(u64::from(s.sender.snd_wnd))]),
        )
    };
    let thickness = 8.0 * scale;
    // The bottleneck's queue on a shaped link: its left edge and its words.
    let mut queue: Option<(f32, Vec<String>)> = None;
    if unplugged {
        // The cable pulled apart: two loose ends with a wide gap.
        let gap = 28.0 * scale;
        for (from, to) in [
            (gate_left, pos2(gate_x - gap, mid_y + 10.0 * scale)),
            (gate_right, pos2(gate_x + gap, mid_y - 10.0 * scale)),
        ] {
            c.painter
                .line_segment([from, to], Stroke::new(thickness, link_color));
            c.painter.circle_filled(to, thickness * 0.9, link_color);
        }
    } else if s.zero_window {
        // A closed gate: the pipe is cut in the middle.
        let gap = 10.0 * scale;
        c.painter.line_segment(
            [gate_left, pos2(gate_x - gap, mid_y)],
            Stroke::new(thickness, link_color),
        );
        c.painter.line_segment(
            [pos2(gate_x + gap, mid_y), gate_right],
            Stroke::new(thickness, link_color),
        );
        let bar = 22.0 * scale;
        for dx in [-gap / 2.0, gap / 2.0] {
            c.painter.line_segment(
                [
                    pos2(gate_x + dx, mid_y - bar),
                    pos2(gate_x + dx, mid_y + bar),
                ],
                Stroke::new(4.0 * scale, link_color),
            );
        }
    } else if now.no_connection.is_some() {
        // No connection: a thin line, no arrow, nothing flows.
        c.painter.line_segment(
            [gate_left, gate_right],
            Stroke::new(2.0 * scale, link_color.gamma_multiply(0.6)),
        );
    } else {
        arrow(
            &c.painter,
            gate_left,
            gate_right,
            link_color.gamma_multiply(0.8),
            palette,
        );
        c.painter.line_segment(
            [gate_left, gate_right],
            Stroke::new(thickness, link_color.gamma_multiply(0.8)),
        );
        if let Endpoint::Link(spec) = now.config.endpoint {
            queue = link_traffic(c, now, spec, gate_left, gate_right);
        }
    }
    if outside {
        arrow(
            &c.painter,
            peer_rect.right_center(),
            link_right,
            palette.received,
            palette,
        );
        c.painter.rect(
            peer_rect,
            egui::CornerRadius::same(8),
            palette.glass,
            Stroke::new(2.0 * scale, palette.edge),
            egui::StrokeKind::Inside,
        );
        let peer = now
            .info
            .map_or_else(String::new, |i| i.reader_addr.to_string());
        let peer_galley = c.painter.layout(
            S::OutsidePeer.fill(lang, &[&peer]),
            c.small.clone(),
            palette.text,
            peer_rect.width() - 8.0,
        );
        c.painter.galley(
            peer_rect.center() - peer_galley.size() / 2.0,
            peer_galley,
            palette.text,
        );
    } else {
        // The link as it is now: the config follows live changes.
        let label = match now.config.endpoint {
            Endpoint::Listen(addr) => vec![S::LinkListening.fill(lang, &[&addr])],
            Endpoint::Connect(addr) => vec![S::LinkServer.fill(lang, &[&addr])],
            Endpoint::Link(spec) => link_label(spec, lang),
            _ => vec![S::Loopback.text(lang).to_string()],
        };
        link_words(
            c,
            ui,
            &label,
            queue.as_ref(),
            link_x,
            mid_y,
            link_right.x - link_left.x - 8.0,
        );
    }
    let link_width = if outside {
        (gate_right.x - gate_left.x) * 2.0
    } else {
        link_right.x - link_left.x
    };
    let link_galley = c
        .painter
        .layout(link_text, c.medium.clone(), link_color, link_width);
    let link_top = if outside {
        peer_rect.bottom() + 4.0
    } else {
        mid_y + 26.0 * scale
    };
    let link_height = link_galley.size().y;
    c.painter.galley(
        pos2(gate_x - link_galley.size().x / 2.0, link_top),
        link_galley,
        link_color,
    );
    if s.sender.probes > 0 {
        let probes = c.painter.layout(
            S::Probes.fill(lang, &[&s.sender.probes]),
            c.small.clone(),
            palette.weak_text,
            link_right.x - link_left.x,
        );
        c.painter.galley(
            pos2(gate_x - probes.size().x / 2.0, link_top + link_height + 4.0),
            probes,
            palette.weak_text,
        );
    }
}

/// The private link's settings in force, a piece each: "private link",
/// "256 KiB/s", "50 ms each way", "2% loss", "MTU 1500", leaving out a
/// delay or loss of 0.
fn link_label(spec: LinkSpec, lang: Lang) -> Vec<String> {
    let mut pieces = vec![
        S::PrivateLinkName.text(lang).to_string(),
        setting_text(spec.rate, lang),
    ];
    if spec.delay_ms > 0 {
        pieces.push(S::LinkDelayEachWay.fill(lang, &[&spec.delay_ms]));
    }
    if spec.loss != Loss::NONE {
        pieces.push(S::LinkLossShort.fill(lang, &[&spec.loss]));
    }
    pieces.push(S::LinkMtu.fill(lang, &[&spec.mtu]));
    pieces
}

/// The words over the link, stacked upwards from it so they never cover
/// each other: the bottleneck's queue (left-aligned over it) nearest the
/// link, the link's label centred above. Each is packed into lines no
/// wider than the gap between the vessels, breaking between pieces, and
/// the type shrinks until both fit between the link and the vessels' top
/// (a projector's gap is narrow and short, and Chinese lines are tall).
fn link_words(
    c: &Canvas,
    ui: &egui::Ui,
    label: &[String],
    queue: Option<&(f32, Vec<String>)>,
    center_x: f32,
    mid_y: f32,
    width: f32,
) {
    let palette = c.palette;
    let scale = palette.scale;
    let width = width.max(40.0);
    let bottom = if queue.is_some() {
        mid_y - 11.0 * scale
    } else {
        mid_y - 26.0 * scale
    };
    let room = (bottom - c.vessel_top).max(0.0);
    let color = palette.weak_text;
    let lay = |pieces: &[String], size: f32| {
        let font = FontId::proportional(size);
        c.painter
            .layout(pack_pieces(c, pieces, &font, width), font, color, width)
    };
    let mut size = c.small.size;
    let (label_galley, queue_galley) = loop {
        let label_galley = lay(label, size);
        let queue_galley = queue.map(|(_, pieces)| lay(pieces, size));
        let height = label_galley.size().y + queue_galley.as_ref().map_or(0.0, |g| g.size().y);
        if height <= room || size <= MIN_LINK_TEXT {
            break (label_galley, queue_galley);
        }
        size -= 0.5;
    };
    let mut top = bottom;
    if let (Some((left, pieces)), Some(galley)) = (queue, queue_galley) {
        top -= galley.size().y;
        // Kept inside the gap: a long line moves left, not into the vessel.
        let x = left.min(center_x + width / 2.0 - galley.size().x);
        let rect = Rect::from_min_size(pos2(x, top), galley.size());
        c.painter.galley(pos2(x, top), galley, color);
        // Painted words are pixels only: a screen reader (and a test) reads
        // them from this node.
        readable(ui, rect, "link-queue", pieces.join(" · "));
    }
    top -= label_galley.size().y;
    let origin = pos2(center_x - label_galley.size().x / 2.0, top);
    let rect = Rect::from_min_size(origin, label_galley.size());
    c.painter.galley(origin, label_galley, color);
    readable(ui, rect, "link-label", label.join(" · "));
}

/// An accessible label over painted words.
fn readable(ui: &egui::Ui, rect: Rect, id: &str, text: String) {
    ui.interact(rect, ui.scope_id().with(id), egui::Sense::hover())
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &text));
}

/// The smallest type the link's words shrink to (points).
const MIN_LINK_TEXT: f32 = 9.0;

/// `pieces` joined with " · " into lines no wider than `width`: a line
/// breaks between pieces, never inside one (unless it alone is wider).
fn pack_pieces(c: &Canvas, pieces: &[String], font: &FontId, width: f32) -> String {
    let fits = |text: &str| {
        c.painter
            .layout_no_wrap(text.to_string(), font.clone(), Color32::WHITE)
            .size()
            .x
            <= width
    };
    let mut lines: Vec<String> = Vec::new();
    for piece in pieces {
        if let Some(line) = lines.last_mut() {
            let joined = format!("{line} · {piece}");
            if fits(&joined) {
                *line = joined;
                continue;
            }
        }
        lines.push(piece.clone());
    }
    lines.join("\n")
}

/// On a private link: the segments travelling on it (one mark for each
/// full segment in flight, up to a dozen, moving with the sample clock so
/// a recorded timeline draws the same picture), and the queue at the
/// bottleneck where they wait for the link, with what it dropped. Under
/// the queue's delay, the packets it holds on their way are hollow marks
/// under the line, counted in words.
fn link_traffic(
    c: &Canvas,
    now: &Now,
    spec: LinkSpec,
    from: Pos2,
    to: Pos2,
) -> Option<(f32, Vec<String>)> {
    let (palette, lang) = (c.palette, c.lang);
    let s = &now.sample;
    let scale = palette.scale;
    let length = to.x - from.x;
    // The queue sits where the link begins: bytes leave it at the link's
    // rate.
    let queue_rect = Rect::from_min_size(
        pos2(from.x + 6.0 * scale, from.y - 9.0 * scale),
        vec2((length * 0.28).max(24.0), 18.0 * scale),
    );
    let segments = s
        .in_flight()
        .checked_div(s.sender.snd_mss)
        .unwrap_or(0)
        .min(MAX_SEGMENTS_DRAWN);
    let lane_from = queue_rect.right() + 6.0 * scale;
    let lane = (to.x - 12.0 * scale - lane_from).max(1.0);
    // Two lane lengths a second at most; the phase comes from the sample.
    let phase = (s.t_ns % 2_000_000_000) as f32 / 2e9;
    let size = vec2(10.0 * scale, 10.0 * scale);
    for i in 0..segments {
        let along = (phase + i as f32 / segments as f32).fract();
        let center = pos2(lane_from + along * lane, from.y);
        c.painter.rect(
            Rect::from_center_size(center, size),
            egui::CornerRadius::same(2),
            palette.in_flight,
            Stroke::new(1.0, palette.text.gamma_multiply(0.6)),
            egui::StrokeKind::Inside,
        );
    }
    // Only netem's delay queues at the bottleneck; the queue's delay holds
    // its packets in sockscope's delaying thread.
    let method = now.info.and_then(|info| info.link_lacks.delay_method);
    let limit = link::queue_limit_with(spec, method).max(1);
    let queued = u64::from(s.bottleneck.backlog_bytes);
    let shaped = spec.rate != Rate::Unlimited || spec.delay_ms > 0;
    if !shaped {
        return None;
    }
    c.painter.rect(
        queue_rect,
        egui::CornerRadius::same(3),
        palette.glass,
        Stroke::new(1.5 * scale, palette.edge),
        egui::StrokeKind::Inside,
    );
    let full = (queued as f32 / limit as f32).clamp(0.0, 1.0);
    let mut level = queue_rect.shrink(2.0);
    level.set_width(level.width() * full);
    c.painter
        .rect_filled(level, egui::CornerRadius::same(2), palette.in_flight);
    let delay_ms = match s.link_delay_ms {
        0 => spec.delay_ms,
        now => now,
    };
    let queued_words = if method == Some(DelayMethod::Netem) && delay_ms > 0 {
        // netem holds the delayed packets in the bottleneck's own queue.
        S::BottleneckQueueDelayed.fill(lang, &[&format_bytes(queued)])
    } else {
        S::BottleneckQueue.fill(lang, &[&format_bytes(queued)])
    };
    let mut words = vec![queued_words];
    if s.bottleneck.drops > 0 {
        words.push(S::BottleneckDrops.fill(lang, &[&s.bottleneck.drops]));
    }
    if method == Some(DelayMethod::Queue) && delay_ms > 0 && !s.delay_stopped {
        // The queue's delay holds packets past the bottleneck, on their
        // way: hollow marks under the line, beside the filled marks of the
        // bytes in flight (which count them too, and the bytes still in
        // the queue or unacknowledged at the reader). Data and ACKs alike,
        // a GSO super-packet as one. The delay itself is in the label.
        let held = s.delay_held_packets;
        let drawn = held.min(MAX_SEGMENTS_DRAWN);
        let size = vec2(8.0 * scale, 8.0 * scale);
        let y = from.y + 13.0 * scale;
        for i in 0..drawn {
            let along = (phase + 0.5 / drawn as f32 + i as f32 / drawn as f32).fract();
            c.painter.rect_stroke(
                Rect::from_center_size(pos2(lane_from + along * lane, y), size),
                egui::CornerRadius::same(2),
                Stroke::new(1.5 * scale, palette.in_flight),
                egui::StrokeKind::Inside,
            );
        }
        words.push(S::DelayHeldPackets.fill(lang, &[&held]));
    }
    Some((queue_rect.left(), words))
}

/// More marks than this would blur into a bar at projector size.
const MAX_SEGMENTS_DRAWN: u32 = 12;

/// The writer's pace and its stalls so far, a running one included.
fn writer_detail(now: &Now, lang: Lang) -> String {
    S::WriterDetail.fill(
        lang,
        &[
            &setting_text(now.config.write_rate, lang),
            &now.sample.stalls_so_far(),
        ],
    )
}

fn app_box(
    painter: &egui::Painter,
    rect: Rect,
    title: &str,
    state: &str,
    detail: &str,
    color: Color32,
    palette: &Palette,
) {
    let scale = palette.scale;
    painter.rect(
        rect,
        egui::CornerRadius::same(8),
        palette.glass.gamma_multiply(0.6),
        Stroke::new(3.0 * scale.max(1.0), color),
        egui::StrokeKind::Inside,
    );
    let inner = rect.width() - 16.0;
    let title = painter.layout_no_wrap(
        title.to_string(),
        FontId::proportional(14.0 * scale),
        palette.text,
    );
    // Shrink the state until it fits one line.
    let mut size = 19.0 * scale;
    let mut state_galley =
        painter.layout_no_wrap(state.to_string(), FontId::proportional(size), color);
    while state_galley.size().x > inner && size > 10.0 {
        size -= 1.0;
        state_galley = painter.layout_no_wrap(state.to_string(), FontId::proportional(size), color);
    }
    let detail = painter.layout_no_wrap(
        detail.to_string(),
        FontId::proportional(12.0 * scale),
        palette.weak_text,
    );
    let total = title.size().y + state_galley.size().y + detail.size().y + 4.0;
    let mut y = rect.center().y - total / 2.0;
    for (galley, color) in [
        (title, palette.text),
        (state_galley, color),
        (detail, palette.weak_text),
    ] {
        let size = galley.size();
        painter.galley(pos2(rect.center().x - size.x / 2.0, y), galley, color);
        y += size.y + 2.0;
    }
}

fn arrow(painter: &egui::Painter, from: Pos2, to: Pos2, color: Color32, palette: &Palette) {
    let stroke = Stroke::new(palette.line_width + 1.5, color);
    painter.line_segment([from, to], stroke);
    let head = 9.0 * palette.scale;
    // The head points along the arrow, whichever way it goes.
    let along = (to - from).normalized();
    let across = along.rot90();
    painter.add(egui::Shape::convex_polygon(
        vec![
            to,
            to - along * head - across * head * 0.6,
            to - along * head + across * head * 0.6,
        ],
        color,
        Stroke::NONE,
    ));
}

#[allow(clippy::too_many_arguments)]
/// A socket's memory (SO_MEMINFO, or sock_diag's SKMEMINFO): what its
/// queue takes, each segment's overhead included, against the limit.
#[derive(Debug, Clone, Copy)]
struct Memory {
    used: u32,
    limit: u32,
    /// Packets the socket dropped (sk_drops; the receive side).
    drops: u32,
}

impl Memory {
    fn known(&self) -> bool {
        self.limit > 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

/// A narrow gauge beside a vessel, on its outer side: the kernel memory
/// its queue takes against the limit. Beside the payload's level it shows
/// why the queue never reaches SO_RCVBUF: the overhead counts too.
fn memory_gauge(c: &Canvas, vessel: Rect, side: Side, memory: Memory) {
    if !memory.known() {
        return;
    }
    let palette = c.palette;
    let scale = palette.scale;
    let width = 7.0 * scale;
    let gap = 3.0 * scale;
    let x = match side {
        Side::Left => vessel.left() - gap - width,
        Side::Right => vessel.right() + gap,
    };
    let frame = Rect::from_min_max(
        pos2(x, vessel.top() + 8.0 * scale),
        pos2(x + width, vessel.bottom() - 8.0 * scale),
    );
    let fraction = (f64::from(memory.used) / f64::from(memory.limit)).clamp(0.0, 1.0) as f32;
    let fill = Rect::from_min_max(
        pos2(frame.left(), frame.bottom() - frame.height() * fraction),
        frame.max,
    );
    c.painter
        .rect_filled(frame, egui::CornerRadius::same(2), palette.glass);
    c.painter
        .rect_filled(fill, egui::CornerRadius::same(2), palette.memory);
    c.painter.rect_stroke(
        frame,
        egui::CornerRadius::same(2),
        Stroke::new(1.0, palette.edge),
        egui::StrokeKind::Inside,
    );
}

/// The two big lines over a vessel: what its queue holds and its share of
/// the buffer ("697.1 KiB · 103%"), then the buffer's size and how it was
/// set ("of 676 KiB (autotuned; 67.5 KiB at the start)"). The share is of
/// the size now, as the memory line's is: an unset buffer grows (to
/// `tcp_wmem[2]`, 4 MiB here), and against its starting size a send queue
/// reads ten times "full".
pub fn vessel_numbers(now: &Now, kind: BufferKind, lang: Lang) -> (String, String) {
    // No connection, no socket to measure: not "0 B of 0 B".
    if let Some(none) = now.no_connection {
        return (
            none.state_text(lang).into(),
            S::VesselNothingToMeasure.text(lang).into(),
        );
    }
    let (bytes, capacity, setting) = match kind {
        BufferKind::Send => (
            now.sample.send_queue,
            now.send_capacity(),
            now.info.map(|i| &i.sndbuf),
        ),
        BufferKind::Receive => (
            now.sample.recv_queue,
            now.recv_capacity(),
            now.info.map(|i| &i.rcvbuf),
        ),
    };
    let percent = if capacity > 0 {
        format!("{:.0}%", f64::from(bytes) * 100.0 / capacity as f64)
    } else {
        "–".into()
    };
    // An attached connection's size at the start is only where watching
    // began, not where the buffer started; nor is it known whether its
    // program set the size.
    let attached = now.info.is_some_and(|i| i.attached.is_some());
    let how = match setting {
        Some(setting) if !setting.origin_known => String::new(),
        Some(BufferSetting {
            requested: Some(asked),
            ..
        }) => S::Asked.fill(lang, &[&format_bytes(*asked)]),
        Some(start) if !attached && start.effective > 0 && start.effective != capacity => {
            S::AutotunedFrom.fill(lang, &[&format_bytes(start.effective)])
        }
        Some(_) => S::Autotuned.text(lang).into(),
        None => String::new(),
    };
    (
        format!("{} · {percent}", format_bytes(u64::from(bytes))),
        S::OfCapacity.fill(lang, &[&format_bytes(capacity), &how]),
    )
}

/// Draws a vessel's title and its plate of numbers; returns the plate.
fn fill_numbers(
    lang: Lang,
    painter: &egui::Painter,
    rect: Rect,
    title: &str,
    (fill, size): (String, String),
    memory: Memory,
    c: &Canvas,
) -> Rect {
    let (big, medium, palette) = (&c.big, &c.medium, c.palette);
    let title_font = FontId::proportional(medium.size);
    let title = painter.layout_no_wrap(title.to_string(), title_font, palette.text);
    let title_pos = pos2(rect.center().x - title.size().x / 2.0, rect.top() + 16.0);
    let title_plate = Rect::from_min_size(title_pos, title.size()).expand2(vec2(6.0, 1.0));
    painter.rect_filled(
        title_plate,
        egui::CornerRadius::same(4),
        palette.panel.gamma_multiply(0.78),
    );
    painter.galley(title_pos, title, palette.text);
    let mut lines = vec![
        (fill, big.clone(), palette.text),
        (size, medium.clone(), palette.text),
    ];
    if memory.known() {
        let percent = f64::from(memory.used) * 100.0 / f64::from(memory.limit);
        let mut line = S::MemoryLine.fill(
            lang,
            &[
                &format_bytes(u64::from(memory.used)),
                &format!("{percent:.0}"),
            ],
        );
        if memory.drops > 0 {
            line += &S::MemoryDrops.fill(lang, &[&memory.drops]);
        }
        lines.push((line, c.small.clone(), palette.memory));
    }
    // Every line wraps within the vessel: a projector's are narrow, and
    // Chinese at 1024x768 ("容量 256 KiB（请求 128 KiB）", "· 56 dropped")
    // ran past the plate and the vessel's walls.
    let wrap = (rect.width() - 2.0 * PLATE_PAD - 8.0).max(40.0);
    let galleys: Vec<_> = lines
        .into_iter()
        .map(|(text, font, color)| painter.layout(text, font, color, wrap))
        .collect();
    let sizes: Vec<egui::Vec2> = galleys.iter().map(|g| g.size()).collect();
    let (plate, at) = plate_layout(rect, title_plate.bottom(), &sizes);
    // A plate behind the numbers keeps them readable over any fill.
    painter.rect_filled(
        plate,
        egui::CornerRadius::same(6),
        palette.panel.gamma_multiply(0.78),
    );
    for (galley, line) in galleys.into_iter().zip(at) {
        painter.galley(line.min, galley, palette.text);
    }
    plate
}

/// The room between a plate's edge and its text.
const PLATE_PAD: f32 = 8.0;

/// The plate over a vessel and each of its lines (their `sizes`, already
/// wrapped to the vessel), centred in the vessel below its title.
pub fn plate_layout(vessel: Rect, title_bottom: f32, sizes: &[egui::Vec2]) -> (Rect, Vec<Rect>) {
    let height: f32 = sizes.iter().map(|s| s.y).sum();
    let width = sizes.iter().map(|s| s.x).fold(0.0, f32::max);
    let centre = pos2(vessel.center().x, (title_bottom + vessel.bottom()) / 2.0);
    let plate = Rect::from_center_size(centre, vec2(width + 2.0 * PLATE_PAD, height + PLATE_PAD));
    let mut y = centre.y - height / 2.0;
    let lines = sizes
        .iter()
        .map(|size| {
            let line = Rect::from_min_size(pos2(centre.x - size.x / 2.0, y), *size);
            y += size.y;
            line
        })
        .collect();
    (plate, lines)
}

fn legend_line(
    painter: &egui::Painter,
    top_centre: Pos2,
    items: &[(Color32, String)],
    font: &FontId,
    palette: &Palette,
) {
    let galleys: Vec<_> = items
        .iter()
        .map(|(_, text)| painter.layout_no_wrap(text.clone(), font.clone(), palette.text))
        .collect();
    let swatch = font.size * 0.8;
    let gap = 12.0;
    let total: f32 = galleys
        .iter()
        .map(|g| g.size().x + swatch + 4.0)
        .sum::<f32>()
        + gap * (galleys.len().saturating_sub(1)) as f32;
    let mut x = top_centre.x - total / 2.0;
    for ((color, _), galley) in items.iter().zip(galleys) {
        let y = top_centre.y + (galley.size().y - swatch) / 2.0;
        painter.rect_filled(
            Rect::from_min_size(pos2(x, y), vec2(swatch, swatch)),
            2,
            *color,
        );
        x += swatch + 4.0;
        let w = galley.size().x;
        painter.galley(pos2(x, top_centre.y), galley, palette.text);
        x += w + gap;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{BufferKind, BufferSetting, ReceiverMemory};

    /// A moment of the run with an all-zero sample, to set fields on.
    fn idle<'a>(info: &'a SessionInfo, config: &'a LabConfig) -> Now<'a> {
        Now {
            sample: Sample::default(),
            info: Some(info),
            config,
            stall_started_ns: None,
            stalled_at_start_ns: None,
            write_rate: 0.0,
            read_rate: 0.0,
            no_connection: None,
        }
    }

    /// Issue 29, item 12: in projector mode at 1024x768, in Chinese, the
    /// receive buffer's plate ran past its walls ("容量 256 KiB（请求 128
    /// KiB）" and "· 56 dropped" on one line each). Laid out with the
    /// window's own fonts, the plate stays inside the vessel.
    #[test]
    fn a_vessels_plate_stays_inside_it_in_projector_chinese_at_1024() {
        let ctx = egui::Context::default();
        crate::gui::app::install_fonts(&ctx);
        let mut info = info();
        info.rcvbuf.requested = Some(128 * 1024);
        info.rcvbuf.effective = 256 * 1024;
        let config = LabConfig::default();
        let mut now = idle(&info, &config);
        now.sample.recv_queue = 254 * 1024;
        for lang in [Lang::Zh, Lang::En] {
            let mut plates = Vec::new();
            for _ in 0..2 {
                // Fonts are ready from the second pass.
                plates.clear();
                let _ = ctx.run_ui(egui::RawInput::default(), |ui| {
                    let palette = Palette::new(true);
                    // The central panel's width at 1024 with the controls.
                    let rect = Rect::from_min_size(pos2(280.0, 80.0), vec2(735.0, 340.0));
                    let painter = egui::Painter::new(
                        ui.ctx().clone(),
                        egui::LayerId::background(),
                        Rect::EVERYTHING,
                    );
                    let c = Canvas::new(painter.clone(), rect, &palette, lang);
                    let memory = Memory {
                        used: 270 * 1024,
                        limit: 256 * 1024,
                        drops: 56,
                    };
                    let plate = fill_numbers(
                        lang,
                        &painter,
                        c.recv_rect,
                        S::RecvBuffer.text(lang),
                        vessel_numbers(&now, BufferKind::Receive, lang),
                        memory,
                        &c,
                    );
                    plates.push((plate, c.recv_rect));
                });
            }
            let (plate, vessel) = plates[0];
            assert!(
                plate.left() >= vessel.left() && plate.right() <= vessel.right(),
                "{lang:?}: plate {plate:?} in vessel {vessel:?}"
            );
            assert!(
                plate.top() >= vessel.top() && plate.bottom() <= vessel.bottom(),
                "{lang:?}: plate {plate:?} in vessel {vessel:?}"
            );
        }
    }

    #[test]
    fn a_plates_lines_lie_inside_it() {
        let vessel = Rect::from_min_size(pos2(0.0, 0.0), vec2(280.0, 200.0));
        let sizes = [vec2(200.0, 28.0), vec2(264.0, 40.0), vec2(150.0, 18.0)];
        let (plate, lines) = plate_layout(vessel, 30.0, &sizes);
        for line in lines {
            assert!(plate.contains_rect(line), "{line:?} in {plate:?}");
        }
    }

    fn info() -> SessionInfo {
        let setting = |kind| BufferSetting {
            kind,
            requested: Some(32 * 1024),
            effective: 64 * 1024,
            kernel_max: Some(4 << 20),
            origin_known: true,
        };
        SessionInfo {
            id: 1,
            writer_addr: "127.0.0.1:1".parse().unwrap(),
            reader_addr: "127.0.0.1:2".parse().unwrap(),
            sndbuf: setting(BufferKind::Send),
            rcvbuf: setting(BufferKind::Receive),
            outside: false,
            link: None,
            link_lacks: Default::default(),
            congestion: "cubic".into(),
            capture: Default::default(),
            attached: None,
        }
    }

    /// `--listen` waiting for its client and `--connect` refused: an empty
    /// default sample must not read as a writer "sending 0 B/s", a reader
    /// "reading 0 B/s" and "0 B of 0 B" buffers under a green caption.
    #[test]
    fn no_connection_is_said_as_none_and_why_not_drawn_as_sending_and_reading() {
        use crate::lab::LabError;
        use crate::run::RunError;
        let config = LabConfig::default();
        let none = |no_connection| Now {
            sample: Sample::default(),
            info: None,
            config: &config,
            stall_started_ns: None,
            stalled_at_start_ns: None,
            write_rate: 0.0,
            read_rate: 0.0,
            no_connection,
        };
        let waiting = NoConnection::WaitingForPeer("127.0.0.1:9123".parse().unwrap());
        let now = none(Some(&waiting));
        let (text, severity) = caption(&now, Lang::En);
        assert!(
            text.starts_with("No connection yet: sockscope listens on 127.0.0.1:9123"),
            "{text}"
        );
        assert!(text.contains("nc 127.0.0.1 9123"), "{text}");
        assert_eq!(severity, Severity::Info);
        for lang in [Lang::En, Lang::Zh] {
            let yet = S::NoConnectionYet.text(lang);
            assert_eq!(writer_state_text(&now, lang), yet);
            assert_eq!(reader_state_text(&now, lang), yet);
            assert_eq!(vessel_numbers(&now, BufferKind::Send, lang).0, yet);
            assert_eq!(vessel_numbers(&now, BufferKind::Receive, lang).0, yet);
            assert!(caption(&now, lang).0.contains("9123"));
        }
        // A real refusal: a connect() to a loopback port nothing holds.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let source = std::net::TcpStream::connect(port).unwrap_err();
        let error = RunError::Start(LabError::Socket {
            step: "connect",
            source,
        });
        let refused = NoConnection::Failed(Endpoint::Connect(port), StartFailure::of(&error));
        assert_eq!(
            refused,
            NoConnection::Failed(Endpoint::Connect(port), StartFailure::Refused)
        );
        let now = none(Some(&refused));
        let (text, severity) = caption(&now, Lang::En);
        assert_eq!(
            text,
            format!(
                "No connection: connecting to {port} failed: nothing listens on that port \
                 (connection refused). Nothing is sent or read; R tries again."
            )
        );
        assert_eq!(severity, Severity::Alarm);
        assert!(caption(&now, Lang::Zh).0.contains("连接被拒绝"));
        assert_eq!(writer_state_text(&now, Lang::En), "no connection");
        assert_eq!(reader_state_text(&now, Lang::Zh), "没有连接");
        // A connection drawn as ever once there is one.
        let now = none(None);
        assert_eq!(caption(&now, Lang::En).1, Severity::Ok);
        assert!(writer_state_text(&now, Lang::En).starts_with("sending"));
    }

    #[test]
    fn the_stall_count_beside_a_running_stall_includes_it() {
        let info = info();
        let config = crate::lab::Preset::PausedReader.config();
        let mut now = Now {
            stall_started_ns: Some(0),
            ..idle(&info, &config)
        };
        // The first stall runs: the writer has not counted it yet.
        now.sample.writer_state = WriterState::Blocked;
        now.sample.stall_count = 0;
        assert!(writer_detail(&now, Lang::En).ends_with("send() stalls: 1"));
        // It ended: counted once, not twice.
        now.sample.writer_state = WriterState::Sending;
        now.sample.stall_count = 1;
        assert!(writer_detail(&now, Lang::En).ends_with("send() stalls: 1"));
        now.sample.writer_state = WriterState::Blocked;
        assert!(writer_detail(&now, Lang::Zh).ends_with("2"));
    }

    #[test]
    fn a_lossy_link_names_its_loss_and_the_segments_resent() {
        let info = info();
        let plain = crate::lab::Preset::Balanced.config();
        assert!(
            caption(&idle(&info, &plain), Lang::En)
                .0
                .contains("over loopback")
        );
        let config = LabConfig {
            endpoint: Endpoint::Link(LinkSpec {
                loss: Loss::from_percent(2.0).unwrap(),
                ..LinkSpec::default()
            }),
            ..plain
        };
        let mut now = idle(&info, &config);
        // Nothing resent yet: the flow as on any link, not "loopback".
        let (text, severity) = caption(&now, Lang::En);
        assert_eq!(severity, Severity::Ok);
        assert!(text.contains("over the link"), "{text}");
        now.sample.sender.total_retrans = 17;
        let (text, severity) = caption(&now, Lang::En);
        assert_eq!(severity, Severity::Caution);
        assert!(text.contains("drops 2% of the packets"), "{text}");
        assert!(text.contains("17 resent so far"), "{text}");
        assert!(caption(&now, Lang::Zh).0.contains("17"));
        // A writer faster than the lossy link: blocked, and the loss named.
        now.sample.writer_state = WriterState::Blocked;
        let text = caption(&now, Lang::En).0;
        assert!(text.contains("faster than the kernel"), "{text}");
        assert!(
            text.contains("drops 2% of the packets: 17 segments resent"),
            "{text}"
        );
    }

    /// Another program's socket, or a recording without its summary: how
    /// the buffer was set is not known, so the vessel claims neither
    /// "asked" nor "autotuned" (both used to say "(autotuned)").
    #[test]
    fn a_buffer_set_who_knows_how_claims_neither_asked_nor_autotuned() {
        let unknown = SessionInfo {
            sndbuf: BufferSetting {
                kind: BufferKind::Send,
                requested: None,
                effective: 69_120,
                kernel_max: None,
                origin_known: false,
            },
            ..info()
        };
        let config = LabConfig::default();
        let mut now = idle(&unknown, &config);
        now.sample.send_queue = 10_000;
        for lang in [Lang::En, Lang::Zh] {
            let (_, size) = vessel_numbers(&now, BufferKind::Send, lang);
            assert_eq!(size, S::OfCapacity.fill(lang, &[&"67.5 KiB", &""]));
        }
        let known = SessionInfo {
            sndbuf: BufferSetting {
                origin_known: true,
                ..unknown.sndbuf
            },
            ..info()
        };
        let now = idle(&known, &config);
        let (_, size) = vessel_numbers(&now, BufferKind::Send, Lang::En);
        assert_eq!(size, "of 67.5 KiB (autotuned)");
    }

    /// Issue 29, item 2: SO_SNDBUF unset on a private link, the reader
    /// paused. The send buffer had grown from 67.5 KiB to 676 KiB and held
    /// 697.1 KiB: the vessel read "1033% of 67.5 KiB" beside a memory line
    /// at 103%, and a recording blamed one send() larger than the buffer.
    #[test]
    fn an_autotuned_send_buffer_is_measured_against_its_size_now() {
        let autotuned = SessionInfo {
            sndbuf: BufferSetting {
                kind: BufferKind::Send,
                requested: None,
                effective: 69_120,
                kernel_max: Some(4 << 20),
                origin_known: true,
            },
            ..info()
        };
        // `record`'s own call size: 128 KiB, more than the buffer at the
        // start, less than the buffer now.
        let config = LabConfig::default();
        let mut now = idle(&autotuned, &config);
        now.sample.send_queue = 713_830;
        now.sample.unsent = 713_830;
        now.sample.sender_memory = crate::lab::SenderMemory {
            wmem_queued: 713_216,
            sndbuf: 692_224,
        };
        assert_eq!(now.send_capacity(), 692_224);
        let (fill, size) = vessel_numbers(&now, BufferKind::Send, Lang::En);
        assert_eq!(fill, "697.1 KiB · 103%");
        assert_eq!(size, "of 676 KiB (autotuned; 67.5 KiB at the start)");
        let (fill, size) = vessel_numbers(&now, BufferKind::Send, Lang::Zh);
        assert_eq!(fill, "697.1 KiB · 103%");
        assert!(
            size.contains("676 KiB") && size.contains("67.5 KiB"),
            "{size}"
        );
        // Blocked with the window open: the call is smaller than the
        // buffer now, so the caption does not blame its size.
        now.sample.writer_state = WriterState::Blocked;
        let text = caption(&now, Lang::En).0;
        assert!(
            !text.contains("larger than the whole send buffer"),
            "{text}"
        );
        assert!(text.contains("faster than the kernel"), "{text}");
        // A buffer that really is smaller than one call: said.
        now.sample.sender_memory.sndbuf = 65_536;
        let text = caption(&now, Lang::En).0;
        assert!(text.contains("larger than the whole send buffer"), "{text}");
        // A set buffer names what was asked, and a sample without the
        // size now (Linux < 4.12, an older recording) falls back to the
        // size at the start.
        let set = info();
        let mut old = idle(&set, &config);
        old.sample.send_queue = 60_000;
        let (fill, size) = vessel_numbers(&old, BufferKind::Send, Lang::En);
        assert_eq!(fill, "58.6 KiB · 92%");
        assert_eq!(size, "of 64 KiB (asked 32 KiB)");
        // The receive buffer, autotuned the same way, by its size now.
        now.sample.recv_queue = 100_000;
        now.sample.receiver_memory.rcvbuf = 400_000;
        assert_eq!(
            vessel_numbers(&now, BufferKind::Receive, Lang::En).0,
            "97.7 KiB · 25%"
        );
    }

    #[test]
    fn the_link_label_names_only_the_shaping_in_force() {
        let plain = link_label(LinkSpec::default(), Lang::En).join(" · ");
        assert!(!plain.contains("ms") && !plain.contains("loss"), "{plain}");
        let shaped = link_label(
            LinkSpec {
                rate: Rate::BytesPerSec(256 * 1024),
                delay_ms: 50,
                loss: Loss::from_percent(0.5).unwrap(),
                mtu: 1500,
            },
            Lang::En,
        )
        .join(" · ");
        assert!(shaped.contains("256 KiB/s"), "{shaped}");
        assert!(shaped.contains("50 ms each way"), "{shaped}");
        assert!(shaped.contains("0.5% loss"), "{shaped}");
        assert!(shaped.contains("MTU 1500"), "{shaped}");
    }

    #[test]
    fn bytes_in_flight_are_named_once_a_segment_waits_for_its_ack() {
        let info = info();
        let config = crate::lab::Preset::Balanced.config();
        let mut now = idle(&info, &config);
        now.sample.sender.snd_mss = 1448;
        now.sample.sender.rtt_us = 225_000;
        now.sample.send_queue = 30_000;
        now.sample.unsent = 29_000;
        // Less than a segment in flight: nothing to say.
        assert_eq!(caption(&now, Lang::En).1, Severity::Ok);
        now.sample.unsent = 4_000;
        let (text, severity) = caption(&now, Lang::En);
        assert_eq!(severity, Severity::Info);
        assert!(
            text.contains("Sent but not yet acknowledged: 25.4 KiB is in flight"),
            "{text}"
        );
        assert!(text.contains("round trip 225.0 ms"), "{text}");
        assert!(caption(&now, Lang::Zh).0.contains("25.4 KiB"));
        // A writer faster than the link: blocked, and why the bytes wait.
        now.sample.writer_state = WriterState::Blocked;
        let text = caption(&now, Lang::En).0;
        assert!(
            text.contains("faster than the kernel sends them on"),
            "{text}"
        );
        assert!(text.contains("25.4 KiB of it is in flight"), "{text}");
    }

    #[test]
    fn captions_name_the_cause_without_overclaiming() {
        let info = info();
        let config = crate::lab::Preset::Balanced.config();
        let mut now = idle(&info, &config);
        assert_eq!(caption(&now, Lang::En).1, Severity::Ok);
        now.sample.reader_state = ReaderState::Paused;
        assert!(caption(&now, Lang::En).0.contains("recv()"));
        // Blocked, window not (yet) 0: must not say the window is 0.
        now.sample.writer_state = WriterState::Blocked;
        now.sample.t_ns = 2_500_000_000;
        now.stall_started_ns = Some(1_000_000_000);
        let (text, severity) = caption(&now, Lang::En);
        assert_eq!(severity, Severity::Alarm);
        assert!(text.contains("send() is blocked (for 1.5 s)"), "{text}");
        assert!(!text.contains("window is 0"), "{text}");
        now.sample.zero_window = true;
        now.sample.recv_queue = 60_000;
        assert!(
            caption(&now, Lang::En)
                .0
                .contains("window is 0: its receive buffer is full")
        );
        // The reader reads again, the window still reads 0: the kernel's
        // rule decides, from its own numbers (SO_MEMINFO). 128 KiB of
        // buffer, 117 KiB of it taken: 11 KiB free, less than one 48 KiB
        // segment's worth (at a quarter payload share, more than half the
        // buffer, so the window waits for half of it, 64 KiB).
        now.sample.reader_state = ReaderState::Reading;
        now.sample.recv_queue = 30_000;
        now.sample.receiver.rcv_mss = 49_152;
        let nearly_full = ReceiverMemory {
            rmem_alloc: 120_000,
            rcvbuf: 131_072,
            backlog: 0,
            drops: 0,
        };
        now.sample.receiver_memory = nearly_full;
        let text = caption(&now, Lang::En).0;
        assert!(
            text.contains("worth one segment (48 KiB, tcpi_rcv_mss"),
            "{text}"
        );
        assert!(
            text.contains("10.8 KiB of the buffer's 128 KiB is free"),
            "{text}"
        );
        assert!(text.contains("29.3 KiB waits to be read"), "{text}");
        // The same state in Chinese names the same numbers.
        let zh = caption(&now, Lang::Zh).0;
        assert!(
            zh.contains("48 KiB") && zh.contains("10.8 KiB") && zh.contains("窗口为 0"),
            "{zh}"
        );
        // Enough room made, the zero still on the writer's side: the next
        // ACK reopens it; no claim that Linux keeps it closed.
        now.sample.recv_queue = 4_096;
        now.sample.receiver_memory.rmem_alloc = 8_192;
        let text = caption(&now, Lang::En).0;
        assert!(text.contains("(120 KiB free, 64 KiB needed)"), "{text}");
        assert!(!text.contains("keeps it at 0"), "{text}");
        // No SO_MEMINFO (Linux < 4.12): the rule, without numbers it lacks.
        now.sample.receiver_memory = ReceiverMemory::default();
        let text = caption(&now, Lang::En).0;
        assert!(text.contains("one segment (48 KiB here"), "{text}");
        // Blocked with the window open: "closing" only when the kernel's
        // free space is under half the buffer, not by a line of our own.
        now.sample.zero_window = false;
        now.sample.recv_queue = 30_000;
        now.sample.receiver_memory = nearly_full;
        let text = caption(&now, Lang::En).0;
        assert!(
            text.contains("less than half of the receive buffer is free"),
            "{text}"
        );
        now.sample.receiver_memory.rmem_alloc = 40_000;
        now.sample.recv_queue = 10_000;
        let text = caption(&now, Lang::En).0;
        assert!(!text.contains("window is closing"), "{text}");
    }

    #[test]
    fn an_attached_connections_captions_come_from_its_kernel_not_from_sockscope() {
        let info = SessionInfo {
            attached: Some(crate::lab::Attached {
                followed: "127.0.0.1:1".parse().unwrap(),
                writer_owner: Some("python3, pid 7".into()),
                reader_owner: None,
            }),
            ..info()
        };
        let config = crate::lab::Preset::Balanced.config();
        let mut now = idle(&info, &config);
        now.sample.zero_window = true;
        now.sample.recv_queue = 4_000;
        now.sample.receiver_memory = ReceiverMemory {
            rmem_alloc: 50_000,
            rcvbuf: 65_536,
            backlog: 0,
            drops: 0,
        };
        let (text, severity) = caption(&now, Lang::En);
        // The zero window, explained by memory, not by a pause we never made.
        assert!(text.starts_with("Zero window"), "{text}");
        assert!(
            text.contains("3.9 KiB of data take 48.8 KiB of kernel memory of 64 KiB"),
            "{text}"
        );
        assert!(!text.contains("sockscope"), "{text}");
        assert_eq!(severity, Severity::Caution);
        // A full send buffer: a send() would block, with its memory.
        now.sample.writer_state = WriterState::Blocked;
        now.sample.sender_memory = crate::lab::SenderMemory {
            wmem_queued: 70_000,
            sndbuf: 65_536,
        };
        let (text, severity) = caption(&now, Lang::En);
        assert!(text.starts_with("The send buffer is full"), "{text}");
        assert!(
            text.contains("68.4 KiB of kernel memory of 64 KiB"),
            "{text}"
        );
        assert!(text.contains("because the receiving program"), "{text}");
        assert_eq!(severity, Severity::Alarm);
        // The close.
        now.sample.writer_state = WriterState::Closed;
        assert!(caption(&now, Lang::Zh).0.starts_with("连接已关闭"));
    }

    /// Issue 29, item 5: watching began with the sender's buffer full and
    /// the receiver's queue full and still.
    #[test]
    fn a_stall_running_when_watching_began_is_counted_and_marked_and_the_still_reader_is_not_reading()
     {
        let info = SessionInfo {
            attached: Some(crate::lab::Attached {
                followed: "127.0.0.1:1".parse().unwrap(),
                writer_owner: Some("python3, pid 7".into()),
                reader_owner: Some("python3, pid 7".into()),
            }),
            ..info()
        };
        let config = crate::lab::Preset::Balanced.config();
        let mut now = Now {
            stall_started_ns: Some(1_000_000),
            stalled_at_start_ns: Some(1_000_000),
            ..idle(&info, &config)
        };
        now.sample.t_ns = 3_001_000_000;
        now.sample.writer_state = WriterState::Blocked;
        now.sample.reader_state = ReaderState::NotReading;
        now.sample.zero_window = true;
        let detail = attached_writer_detail(&now, Lang::En);
        assert!(
            detail.contains("full once, the first before watching"),
            "{detail}"
        );
        assert!(attached_writer_detail(&now, Lang::Zh).contains("早于观察开始"));
        let text = caption(&now, Lang::En).0;
        assert!(
            text.contains("(for at least 3.0 s: it was full when watching began)"),
            "{text}"
        );
        let reader = reader_state_text(&now, Lang::En);
        assert!(reader.starts_with("NOT READING"), "{reader}");
        assert!(!reader_state_text(&now, Lang::Zh).contains("正在读取"));
        // A later stall, begun while watched: its length is known.
        now.stall_started_ns = Some(2_000_000_000);
        now.sample.stall_count = 1;
        let text = caption(&now, Lang::En).0;
        assert!(text.contains("(for 1.0 s)"), "{text}");
        assert!(attached_writer_detail(&now, Lang::En).contains("full 2 times, the first"));
        // Watched from the start: no mark, and a reading reader reads.
        now.stalled_at_start_ns = None;
        now.sample.reader_state = ReaderState::Reading;
        assert!(!attached_writer_detail(&now, Lang::En).contains("before watching"));
        assert!(reader_state_text(&now, Lang::En).starts_with("reading"));
    }
}
