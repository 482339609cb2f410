//! The desktop entry: an installed sockscope appears in the launcher and
//! opens recordings (`sockscope open %f`), with an icon that is shipped.

use std::collections::HashMap;
use std::path::Path;

fn entry() -> HashMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/desktop/sockscope.desktop");
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("[Desktop Entry]"));
    lines
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (key, value) = line.split_once('=').expect("key=value");
            (key.to_string(), value.to_string())
        })
        .collect()
}

#[test]
fn the_desktop_entry_opens_recordings_with_a_shipped_icon() {
    let entry = entry();
    assert_eq!(entry["Type"], "Application");
    assert_eq!(entry["Exec"], "sockscope open %f");
    assert!(entry["MimeType"].split(';').any(|m| m == "text/csv"));
    assert!(entry["Categories"].split(';').any(|c| c == "Education"));
    // Both languages the window speaks.
    assert!(entry.contains_key("Comment[zh_CN]") && entry.contains_key("Name[zh_CN]"));
    let icon = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/desktop")
        .join(format!("{}.svg", entry["Icon"]));
    let svg = std::fs::read_to_string(&icon).unwrap();
    assert!(svg.starts_with("<svg"), "{}", icon.display());
}

/// The launcher runs `sockscope open` with no file when nothing was
/// chosen: that must open the window, not fail. (Checked without a
/// display: the window's own one sentence, exit 1, not a usage error.)
#[test]
fn open_without_a_file_is_the_window_not_a_usage_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .arg("open")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot open the window"), "{stderr}");
}
