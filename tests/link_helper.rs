//! A link whose helper cannot do its work ends the start with one sentence,
//! and nothing is left running. (Its own test binary: the helper program is
//! set once per process.)

mod app;

use egui_kittest::kittest::Queryable;
use sockscope::lab::link::{self, LinkSpec};
use sockscope::lab::{Endpoint, LabConfig, LabError, Session};

#[test]
fn a_helper_that_hands_over_nothing_is_one_sentence() {
    // `true` exits at once without a word, as a helper that failed would.
    link::set_helper_program("true");
    let started = Session::start(LabConfig {
        endpoint: Endpoint::Link(LinkSpec::default()),
        ..LabConfig::default()
    });
    let Err(error) = started else {
        panic!("a link without a helper started");
    };
    assert!(matches!(error, LabError::Link(_)), "{error:?}");
    let sentence = error.to_string();
    assert_eq!(
        sentence,
        "the link helper did not hand over its sockets: it exited without an answer"
    );
}

/// The window on a system that refuses the link (here: a helper that
/// hands over nothing) goes on on the machine's loopback and says why.
#[test]
fn the_window_without_a_link_runs_on_loopback_and_says_why() {
    link::set_helper_program("true");
    let mut harness = app::live_app_sized(
        sockscope::lab::Preset::SlowLink,
        None,
        eframe::egui::vec2(1280.0, 1400.0),
    );
    app::step_until(&mut harness, "bytes on the machine's loopback", |h| {
        h.state().config().endpoint == Endpoint::Loopback
            && h.state().timeline().last().is_some_and(|s| s.read > 0)
    });
    assert!(
        harness
            .query_by_label_contains("No private link, so this connection runs on the machine's loopback: the link helper did not hand over its sockets")
            .is_some()
    );
}
