//! A link whose helper cannot do its work ends the start with one sentence,
//! and nothing is left running. (Its own test binary: the helper program is
//! set once per process.)

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
