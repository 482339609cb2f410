//! The flags' value parsers: each refuses a bad value in one sentence that
//! names the value and the accepted form (clap adds the flag).

use std::net::SocketAddr;
use std::time::Duration;

use sockscope::gui::{Lang, Panel};
use sockscope::lab::config::{MAX_SAMPLE_HZ, check_chunk, check_sample_hz};
use sockscope::lab::congestion::Congestion;
use sockscope::lab::link::{self, Loss};
use sockscope::lab::probe::TcpState;
use sockscope::lab::units::{self, ParseError};
use sockscope::lab::{Preset, Rate, Size};

pub(super) fn parse_congestion(text: &str) -> Result<Congestion, String> {
    Congestion::parse(text).map_err(|e| e.to_string())
}

pub(super) fn parse_link_rate(text: &str) -> Result<Rate, String> {
    let rate = Rate::parse(text).map_err(|e| e.to_string())?;
    link::check_link_rate(rate).map_err(|e| format!("{e}, e.g. 1M/s"))
}

pub(super) fn parse_delay(text: &str) -> Result<u32, String> {
    let number = text.trim();
    let number = number.strip_suffix("ms").unwrap_or(number).trim();
    match number.parse::<u32>().ok().map(link::check_delay) {
        Some(Ok(ms)) => Ok(ms),
        _ => Err(format!(
            "'{}' is not a delay; use a whole number of milliseconds from 0 to {}, e.g. 50",
            text.escape_debug(),
            link::MAX_DELAY_MS
        )),
    }
}

pub(super) fn parse_loss(text: &str) -> Result<Loss, String> {
    Loss::parse(text).map_err(|e| e.to_string())
}

pub(super) fn parse_mtu(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>().ok().map(link::check_mtu) {
        Some(Ok(mtu)) => Ok(mtu),
        _ => Err(format!(
            "'{}' is not an MTU; use a whole number of bytes from {} to {}, e.g. 1500",
            text.escape_debug(),
            link::MIN_MTU,
            link::MAX_MTU
        )),
    }
}

pub(super) fn parse_panel(text: &str) -> Result<Panel, String> {
    Panel::parse(text).ok_or_else(|| {
        format!(
            "'{}' is not a window; use {}",
            text.escape_debug(),
            Panel::NAMES
        )
    })
}

pub(super) fn parse_preset(text: &str) -> Result<Preset, String> {
    Preset::parse(text).ok_or_else(|| {
        format!(
            "'{}' is not a preset; use one of {}",
            text.escape_debug(),
            Preset::names()
        )
    })
}

pub(super) fn parse_lang(text: &str) -> Result<Lang, String> {
    Lang::parse(text)
        .ok_or_else(|| format!("'{}' is not a language; use en or zh", text.escape_debug()))
}

/// A moment in a recording: seconds from its first sample, 0 or more.
pub(super) fn parse_moment(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|secs| secs.is_finite() && (0.0..=1e9).contains(secs))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            format!(
                "'{}' is not a moment; use seconds from the recording's start, 0 or more, e.g. 0 or 12.5",
                text.escape_debug()
            )
        })
}

pub(super) fn parse_port(text: &str) -> Result<u16, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "'{}' is not a port; use a number from 0 to 65535, e.g. 9090",
            text.escape_debug()
        )
    })
}

pub(super) fn parse_ip(text: &str) -> Result<std::net::IpAddr, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "'{}' is not an IP address; use one such as 127.0.0.1 or ::1",
            text.escape_debug()
        )
    })
}

/// A TCP state as ss and netstat name it, in any case, - or _.
pub(super) fn parse_state(text: &str) -> Result<TcpState, String> {
    TcpState::from_user(text).ok_or_else(|| {
        let names: Vec<String> = TcpState::NAMED.iter().map(|s| s.ss_name()).collect();
        format!(
            "'{}' is not a TCP state; use one of {}",
            text.escape_debug(),
            names.join(", ")
        )
    })
}

pub(super) fn parse_duration(text: &str) -> Result<Duration, ParseError> {
    units::parse_seconds(text)
}

/// A send(data) or recv(bufsize) size: a SIZE up to 1G.
pub(super) fn parse_chunk(text: &str) -> Result<Size, String> {
    let size = Size::parse(text).map_err(|e| e.to_string())?;
    // Size::parse refuses 0; the core's check is then only the ceiling.
    check_chunk(size).map_err(|_| {
        format!("'{text}' is too large; a send() or recv() size goes up to 1G, e.g. 128K")
    })?;
    Ok(size)
}

pub(super) fn parse_sample_hz(text: &str) -> Result<u32, String> {
    let hz = text.trim().parse::<u32>().ok();
    match hz.map(check_sample_hz) {
        Some(Ok(hz)) => Ok(hz),
        _ => Err(format!(
            "'{}' is not a sample rate; use a whole number of samples per second from 1 to {MAX_SAMPLE_HZ}",
            text.escape_debug()
        )),
    }
}

/// `9000`, `:9000`, `127.0.0.1:9000`, `[::1]:9000` or `localhost:9000`.
pub(super) fn parse_endpoint(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let trimmed = text.trim();
    let port_only = trimmed.strip_prefix(':').unwrap_or(trimmed);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)));
    }
    if let Ok(addr) = trimmed.parse::<SocketAddr>() {
        return Ok(addr);
    }
    match trimmed.to_socket_addrs().map(|mut addrs| addrs.next()) {
        Ok(Some(addr)) => Ok(addr),
        _ => Err(format!(
            "'{}' is not an address; use PORT, ADDR:PORT or HOST:PORT, e.g. 9000 or 127.0.0.1:9000",
            text.escape_debug()
        )),
    }
}
