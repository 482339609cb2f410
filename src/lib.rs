//! sockscope: makes a TCP connection's kernel buffers visible.
//!
//! `lab` is the core (real sockets, probe, sampler, timeline) with no GUI
//! dependency; `export` writes what it records; `record` is the headless
//! frontend.

#![deny(unsafe_code)]

pub mod export;
#[cfg(feature = "gui")]
pub mod gui;
pub mod i18n;
pub mod input;
pub mod interrupt;
pub mod lab;
pub mod record;
pub mod run;
pub mod speed_words;
