//! Sizes and rates as users type them (`64K`, `1M/s`, `max`, `0`) and as the
//! tool prints them back.

use std::fmt;

use thiserror::Error;

/// What went wrong parsing a size, rate or duration. Each message is the
/// second half of a sentence that the caller starts with the flag's name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error(
        "'{0}' is not a size; use a whole number of bytes, optionally with K, M or G (x1024), e.g. 65536 or 64K"
    )]
    Size(String),
    #[error("'{0}' is too small; a size must be at least 1 byte, e.g. 64K")]
    ZeroSize(String),
    #[error("'{0}' is negative; a size must be at least 1 byte, e.g. 64K")]
    NegativeSize(String),
    #[error("'{0}' is too large; sizes go up to 1024G")]
    HugeSize(String),
    #[error(
        "'{0}' is not a rate; use bytes per second like 1M or 512K/s (K, M, G are x1024), 0 to pause, or max for unlimited"
    )]
    Rate(String),
    #[error("'{0}' is negative; use bytes per second like 1M/s, 0 to pause, or max for unlimited")]
    NegativeRate(String),
    #[error("'{0}' is below 1 byte per second; use 0 to pause, or a rate like 1K/s")]
    TinyRate(String),
    #[error("'{0}' is not a duration; use seconds from 0.001 up, e.g. 5 or 2.5")]
    Duration(String),
}

const KIB: u64 = 1024;

/// The user's text as shown in an error: control characters escaped, so a
/// message stays one line and cannot drive the terminal.
fn shown(text: &str) -> String {
    text.escape_debug().to_string()
}
const MAX_SIZE: u64 = 1024 * KIB * KIB * KIB; // 1 TiB: far above any buffer cap

/// A byte count given with an optional binary suffix (K, M, G = x1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Size(pub u64);

impl Size {
    pub const fn bytes(self) -> u64 {
        self.0
    }

    /// Parses `65536`, `64K`, `64k`, `64KiB`, `1.5M`, `1G`. Zero and negative
    /// sizes are refused: every size sockscope asks for is a real buffer or a
    /// real send()/recv() length.
    ///
    /// ```
    /// use sockscope::lab::Size;
    /// assert_eq!(Size::parse("64K"), Ok(Size(65536)));
    /// assert!(Size::parse("0").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let trimmed = text.trim();
        if trimmed.starts_with('-') {
            return Err(ParseError::NegativeSize(shown(text)));
        }
        let bytes = parse_scaled(trimmed).ok_or_else(|| ParseError::Size(shown(text)))?;
        if bytes > MAX_SIZE as f64 {
            return Err(ParseError::HugeSize(shown(text)));
        }
        let bytes = bytes.floor() as u64;
        if bytes == 0 {
            return Err(ParseError::ZeroSize(shown(text)));
        }
        Ok(Size(bytes))
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_bytes(self.0))
    }
}

impl std::str::FromStr for Size {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Size::parse(s)
    }
}

/// How fast a writer sends or a reader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rate {
    /// As fast as the kernel allows ("max").
    Unlimited,
    /// Rate 0: the application makes no send()/recv() calls at all.
    Paused,
    BytesPerSec(u64),
}

impl Rate {
    /// Parses `max`, `0`, `1048576`, `1M`, `512K/s`, `2.5M/s`.
    ///
    /// ```
    /// use sockscope::lab::Rate;
    /// assert_eq!(Rate::parse("512K/s"), Ok(Rate::BytesPerSec(512 * 1024)));
    /// assert_eq!(Rate::parse("0"), Ok(Rate::Paused));
    /// assert_eq!(Rate::parse("max"), Ok(Rate::Unlimited));
    /// ```
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("max") {
            return Ok(Rate::Unlimited);
        }
        if trimmed.starts_with('-') {
            return Err(ParseError::NegativeRate(shown(text)));
        }
        let number = trimmed
            .strip_suffix("/s")
            .or_else(|| trimmed.strip_suffix("/S"))
            .unwrap_or(trimmed);
        let per_sec = parse_scaled(number).ok_or_else(|| ParseError::Rate(shown(text)))?;
        if per_sec > MAX_SIZE as f64 {
            return Err(ParseError::Rate(shown(text)));
        }
        // Only a literal zero pauses; a rate that rounds to 0 B/s is a typo.
        match per_sec.floor() as u64 {
            0 if per_sec == 0.0 => Ok(Rate::Paused),
            0 => Err(ParseError::TinyRate(shown(text))),
            n => Ok(Rate::BytesPerSec(n)),
        }
    }

    pub fn is_paused(self) -> bool {
        self == Rate::Paused
    }

    /// The rate in KiB/s, as a slider shows it: 0 when paused, None when
    /// unlimited.
    pub fn kib_per_sec(self) -> Option<f64> {
        match self {
            Rate::Unlimited => None,
            Rate::Paused => Some(0.0),
            Rate::BytesPerSec(n) => Some(n as f64 / KIB as f64),
        }
    }

    /// A slider's KiB/s as a rate: 0 (or less) pauses; anything else is
    /// whole bytes per second, at least 1. The inverse of `kib_per_sec`.
    pub fn from_kib_per_sec(kib: f64) -> Rate {
        if kib > 0.0 {
            Rate::BytesPerSec((kib * KIB as f64).round().max(1.0) as u64)
        } else {
            Rate::Paused
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::Unlimited => f.write_str("max"),
            Rate::Paused => f.write_str("0 (paused)"),
            Rate::BytesPerSec(n) => write!(f, "{}/s", format_bytes(*n)),
        }
    }
}

impl std::str::FromStr for Rate {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rate::parse(s)
    }
}

/// Stored as a number of bytes; a stored text such as "64K" loads too.
impl serde::Serialize for Size {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Size {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of bytes, or a size such as \"64K\"")
            }
            fn visit_u64<E: serde::de::Error>(self, bytes: u64) -> Result<Size, E> {
                Ok(Size(bytes))
            }
            fn visit_i64<E: serde::de::Error>(self, bytes: i64) -> Result<Size, E> {
                u64::try_from(bytes)
                    .map(Size)
                    .map_err(|_| E::custom(ParseError::NegativeSize(bytes.to_string())))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Size, E> {
                Size::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Stored as its text: "max", "0" (paused) or bytes per second ("65536"),
/// the form a window's settings have always used. Anything `Rate::parse`
/// reads loads too ("1M/s"), and so does a plain number of bytes per
/// second (0 pauses).
impl serde::Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Rate::Unlimited => serializer.serialize_str("max"),
            Rate::Paused => serializer.serialize_str("0"),
            Rate::BytesPerSec(n) => serializer.collect_str(n),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"max\", \"0\" or a rate such as \"1M/s\" or 65536")
            }
            fn visit_u64<E: serde::de::Error>(self, per_sec: u64) -> Result<Rate, E> {
                match per_sec {
                    0 => Ok(Rate::Paused),
                    n if n > MAX_SIZE => Err(E::custom(ParseError::Rate(n.to_string()))),
                    n => Ok(Rate::BytesPerSec(n)),
                }
            }
            fn visit_i64<E: serde::de::Error>(self, per_sec: i64) -> Result<Rate, E> {
                u64::try_from(per_sec)
                    .map_err(|_| E::custom(ParseError::NegativeRate(per_sec.to_string())))
                    .and_then(|n| self.visit_u64(n))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Rate, E> {
                Rate::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Seconds, as a positive finite number with an optional `s`.
pub fn parse_seconds(text: &str) -> Result<std::time::Duration, ParseError> {
    let trimmed = text.trim();
    let number = trimmed.strip_suffix('s').unwrap_or(trimmed);
    match number.parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.001..=1e9).contains(&secs) => {
            Ok(std::time::Duration::from_secs_f64(secs))
        }
        _ => Err(ParseError::Duration(shown(text))),
    }
}

/// `123`, `64K`, `1.5m`, `4MiB`, `2gb` → bytes; None when it is not of that form.
fn parse_scaled(text: &str) -> Option<f64> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(split);
    if digits.is_empty() || digits.starts_with('.') || digits.ends_with('.') {
        return None;
    }
    let value: f64 = digits.parse().ok()?;
    let suffix = suffix.trim().to_ascii_lowercase();
    let unit = match suffix.as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => KIB,
        "m" | "mb" | "mib" => KIB * KIB,
        "g" | "gb" | "gib" => KIB * KIB * KIB,
        _ => return None,
    };
    // A fraction of a byte is not a size: "1.5" alone is refused, "1.5K" is fine.
    if unit == 1 && digits.contains('.') {
        return None;
    }
    Some(value * unit as f64)
}

/// Binary units with up to one decimal, exact bytes below 1 KiB:
/// `512 B`, `64 KiB`, `1.5 MiB`, `4 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < KIB {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / KIB as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if (value - value.round()).abs() < 0.05 {
        format!("{:.0} {}", value.round(), UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accepted() {
        let cases = [
            ("1", 1),
            ("65536", 65536),
            ("64K", 65536),
            ("64k", 65536),
            ("64KiB", 65536),
            ("64kb", 65536),
            ("1M", 1 << 20),
            ("1.5M", 3 << 19),
            ("2G", 2 << 30),
            (" 16K ", 16384),
        ];
        for (text, bytes) in cases {
            assert_eq!(Size::parse(text), Ok(Size(bytes)), "{text}");
        }
    }

    #[test]
    fn sizes_refused() {
        let cases = [
            ("", ParseError::Size(String::new())),
            ("0", ParseError::ZeroSize("0".into())),
            ("0K", ParseError::ZeroSize("0K".into())),
            ("-5", ParseError::NegativeSize("-5".into())),
            ("-64K", ParseError::NegativeSize("-64K".into())),
            ("64X", ParseError::Size("64X".into())),
            ("K", ParseError::Size("K".into())),
            ("1.5", ParseError::Size("1.5".into())),
            ("abc", ParseError::Size("abc".into())),
            ("1.2.3K", ParseError::Size("1.2.3K".into())),
            ("2000G", ParseError::HugeSize("2000G".into())),
            ("max", ParseError::Size("max".into())),
            ("1\n2", ParseError::Size("1\\n2".into())),
        ];
        for (text, err) in cases {
            assert_eq!(Size::parse(text), Err(err), "{text:?}");
        }
    }

    #[test]
    fn rates_accepted() {
        let cases = [
            ("max", Rate::Unlimited),
            ("MAX", Rate::Unlimited),
            ("0", Rate::Paused),
            ("0/s", Rate::Paused),
            ("1M", Rate::BytesPerSec(1 << 20)),
            ("1M/s", Rate::BytesPerSec(1 << 20)),
            ("512K/s", Rate::BytesPerSec(512 << 10)),
            ("2.5M/s", Rate::BytesPerSec(5 << 19)),
            ("1000", Rate::BytesPerSec(1000)),
        ];
        for (text, rate) in cases {
            assert_eq!(Rate::parse(text), Ok(rate), "{text}");
        }
    }

    #[test]
    fn rates_refused() {
        for text in [
            "fast",
            "unlimited",
            "1M/min",
            "",
            "/s",
            "1X/s",
            "-1M",
            "0.0001K",
        ] {
            assert!(Rate::parse(text).is_err(), "{text:?} should be refused");
        }
        assert_eq!(
            Rate::parse("-1M"),
            Err(ParseError::NegativeRate("-1M".into()))
        );
    }

    #[test]
    fn a_slider_in_kib_per_sec_maps_to_rates_and_back() {
        for rate in [
            Rate::Paused,
            Rate::BytesPerSec(1),
            Rate::BytesPerSec(1500),
            Rate::BytesPerSec(32 * 1024),
            Rate::BytesPerSec(200_000 * 1024),
        ] {
            let kib = rate.kib_per_sec().unwrap();
            assert_eq!(Rate::from_kib_per_sec(kib), rate, "{kib}");
        }
        assert_eq!(Rate::Unlimited.kib_per_sec(), None);
        assert_eq!(Rate::from_kib_per_sec(-3.0), Rate::Paused);
        assert_eq!(Rate::from_kib_per_sec(0.0001), Rate::BytesPerSec(1));
        assert_eq!(Rate::from_kib_per_sec(64.0), Rate::BytesPerSec(65536));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_seconds("5").unwrap().as_millis(), 5000);
        assert_eq!(parse_seconds("2.5s").unwrap().as_millis(), 2500);
        for text in ["0", "-1", "abc", "inf", "NaN", "", "1e-300", "0.0001"] {
            assert!(parse_seconds(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn sizes_and_rates_are_stored_readably() {
        let rates = [
            (Rate::Unlimited, r#""max""#),
            (Rate::Paused, r#""0""#),
            (Rate::BytesPerSec(65536), r#""65536""#),
        ];
        for (rate, json) in rates {
            assert_eq!(serde_json::to_string(&rate).unwrap(), json);
            assert_eq!(serde_json::from_str::<Rate>(json).unwrap(), rate);
        }
        assert_eq!(serde_json::to_string(&Size(4096)).unwrap(), "4096");
        // What a person might type into a settings file loads too.
        let read = |json: &str| serde_json::from_str::<Rate>(json);
        assert_eq!(read(r#""1M/s""#).unwrap(), Rate::BytesPerSec(1 << 20));
        assert_eq!(read("0").unwrap(), Rate::Paused);
        assert_eq!(read("1000").unwrap(), Rate::BytesPerSec(1000));
        assert!(read(r#""fast""#).is_err());
        assert!(read("-1").is_err());
        assert_eq!(
            serde_json::from_str::<Size>(r#""64K""#).unwrap(),
            Size(65536)
        );
        assert_eq!(serde_json::from_str::<Size>("65536").unwrap(), Size(65536));
        assert!(serde_json::from_str::<Size>("-1").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(65536), "64 KiB");
        assert_eq!(format_bytes(3 << 19), "1.5 MiB");
        assert_eq!(format_bytes(4 << 30), "4 GiB");
        assert_eq!(Rate::BytesPerSec(1 << 20).to_string(), "1 MiB/s");
    }
}
