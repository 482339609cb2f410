//! Scenario files (`record --scenario FILE`, the window's scenario field):
//! any text gives a scenario or an error naming the file and a line, never
//! a panic; an accepted scenario's steps are in time order and within the
//! step limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::lab::scenario::{self, MAX_STEPS};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match scenario::parse(&text, "fuzz.toml") {
        Ok(scenario) => {
            assert!(scenario.steps.len() <= MAX_STEPS);
            assert!(scenario.steps.windows(2).all(|w| w[0].at <= w[1].at));
        }
        Err(error) => {
            let message = error.to_string();
            assert!(message.starts_with("fuzz.toml"), "{message}");
            assert!(!message.contains('\n'), "more than one line: {message}");
        }
    }
});
