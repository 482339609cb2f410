//! Every input of the window, key or click, as one type: panels and
//! shortcuts return actions, and `SockscopeApp::act` is the one place that
//! carries them out.

use std::path::PathBuf;

use eframe::egui::{self, Key, Modifiers};

use crate::lab::congestion::Congestion;
use crate::lab::{Preset, Size};
use crate::run::Control;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A live control of the run (rates, call sizes, sample rate).
    Control(Control),
    /// Choose a recording in a folder's listing (Open…).
    BrowseRecordings,
    /// Read this file as a recording and play it back.
    OpenRecording(std::path::PathBuf),
    /// A recording played back: one sample forward (true) or back.
    Step(bool),
    /// A recording played back: show this moment (ns).
    Seek(u64),
    /// Watch another program's connection: its local and peer address.
    Attach(std::net::SocketAddr, std::net::SocketAddr),
    /// Pause the reader, or resume it at its earlier rate.
    TogglePause,
    /// New buffer sizes take a new connection.
    ApplyBuffers {
        sndbuf: Option<Size>,
        rcvbuf: Option<Size>,
    },
    Restart,
    LoadPreset(Preset),
    /// One of `scenario::BUILT_IN`, by name.
    RunScenario(&'static str),
    RunScenarioFile(PathBuf),
    Export,
    SetProjector(bool),
    ToggleInfo,
    ToggleControls,
    ToggleSteps,
    ToggleMessages,
    ToggleServer,
    ToggleWire,
    ToggleConnections,
    /// The Animation dialog: a span drawn frame by frame into a GIF/APNG.
    ToggleAnimation,
    /// Show the buffers at this moment (ns), marked on the wire.
    MarkMoment(i64),
    ToggleFullscreen,
    /// Back to live from a marked moment, else close the floating window
    /// on top, else leave full screen.
    Escape,
    SwitchLanguage,
    /// The timeline follows the newest samples (or stays where it is).
    FollowLive(bool),
    /// Seconds the timeline shows while following (∞: the whole run).
    SetTimelineWindow(f64),
    SetExportDir(PathBuf),
    DismissStatus,
    /// The SO_REUSEADDR experiment in the info panel.
    RunReuseExperiment,
    /// A new connection for the Messages window.
    ConnectMessages,
    /// Run the lab's pair on a private link (true) or on the machine's
    /// loopback: a new connection.
    UseLink(bool),
    /// Unplug the private link's cable, or plug it back in.
    ToggleCable,
    /// The writer's congestion control (a new connection).
    SetCongestion(Congestion),
}

/// The keyboard shortcuts pressed this frame, unless a text field has the
/// keyboard. A held key acts once: its repeats are swallowed (holding S
/// must not export twenty times, nor Space flip the reader on and off).
pub fn shortcuts(ctx: &egui::Context, projector: bool) -> Vec<Action> {
    if ctx.egui_wants_keyboard_input() {
        return Vec::new();
    }
    let take = |modifiers: Modifiers, key: Key| {
        ctx.input_mut(|i| {
            let mut first_press = false;
            i.events.retain(|event| match event {
                egui::Event::Key {
                    key: k,
                    pressed: true,
                    repeat,
                    modifiers: m,
                    ..
                } if *k == key && m.matches_logically(modifiers) => {
                    first_press |= !repeat;
                    false
                }
                _ => true,
            });
            first_press
        })
    };
    let mut actions = Vec::new();
    if take(Modifiers::COMMAND, Key::S) || take(Modifiers::NONE, Key::S) {
        actions.push(Action::Export);
    }
    if take(Modifiers::COMMAND, Key::O) {
        actions.push(Action::BrowseRecordings);
    }
    let keys = [
        (Key::Space, Action::TogglePause),
        (Key::R, Action::Restart),
        (Key::P, Action::SetProjector(!projector)),
        (Key::F11, Action::ToggleFullscreen),
        (Key::L, Action::FollowLive(true)),
        (Key::I, Action::ToggleInfo),
        (Key::T, Action::ToggleSteps),
        (Key::M, Action::ToggleMessages),
        (Key::G, Action::ToggleServer),
        (Key::W, Action::ToggleWire),
        (Key::N, Action::ToggleConnections),
        (Key::A, Action::ToggleAnimation),
        (Key::C, Action::ToggleControls),
        (Key::U, Action::ToggleCable),
        (Key::Escape, Action::Escape),
        (Key::ArrowRight, Action::Step(true)),
        (Key::ArrowLeft, Action::Step(false)),
    ];
    for (key, action) in keys {
        if take(Modifiers::NONE, key) {
            actions.push(action);
        }
    }
    actions
}
