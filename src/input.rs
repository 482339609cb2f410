//! Files a user names: a recording, the summary and the capture beside it,
//! a scenario. Each is read only if it is a regular file, and only so far.
//!
//! A FIFO blocks `open()` until a writer comes and a device such as
//! /dev/zero never ends, so a file is opened with O_NONBLOCK (which a FIFO
//! honours at once and a regular file ignores), its type is read from the
//! opened descriptor (fstat: nothing can be swapped in between a check and
//! the open), and every read goes through a cap: a size for the whole file
//! and a length for a line.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use thiserror::Error;

use crate::lab::units::format_bytes;

/// The longest line a text file may have. A recording's row is a few
/// hundred bytes and its header under 1 KiB; a scenario's lines are short.
pub const MAX_LINE_BYTES: usize = 64 << 10;

/// What a file is read as, which sets its cap and the form an error names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// The CSV `record --csv` (or the window's export) writes.
    Recording,
    /// The JSON summary beside a recording.
    Summary,
    /// The pcap a summary names.
    Capture,
    /// A scenario file (TOML).
    Scenario,
}

impl InputKind {
    /// The largest file of this kind read; larger ones are refused unread.
    pub const fn max_bytes(self) -> u64 {
        match self {
            // An hour at 1 kHz is about 600 MB (`cargo bench --bench
            // recording`); samples go into the bounded timeline.
            InputKind::Recording => 4 << 30,
            // A summary is a few KiB; its error list is short.
            InputKind::Summary => 1 << 20,
            // Its segments go into a bounded log, so only the time to read
            // it grows: headers only, an hour of a fast run fits.
            InputKind::Capture => 16 << 30,
            // At most `MAX_STEPS` (10 000) steps of a line or three each.
            InputKind::Scenario => crate::lab::scenario::MAX_FILE_BYTES,
        }
    }

    /// The form accepted, for an error.
    fn accepted(self) -> &'static str {
        match self {
            InputKind::Recording => "a recording (the CSV file `record --csv` writes)",
            InputKind::Summary => "a summary (the JSON file `record --json` writes)",
            InputKind::Capture => "a capture (the pcap file `record --pcap` writes)",
            InputKind::Scenario => "a scenario (a TOML file, see scenarios/)",
        }
    }

    /// What to do with a file over the cap.
    fn too_big_hint(self) -> &'static str {
        match self {
            InputKind::Recording => "; cut it with head -n, keeping the first line",
            _ => "",
        }
    }
}

impl fmt::Display for InputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputKind::Recording => "a recording",
            InputKind::Summary => "a summary",
            InputKind::Capture => "a capture",
            InputKind::Scenario => "a scenario file",
        })
    }
}

/// Why a file a user named was not read: one sentence naming the file.
#[derive(Debug, Error)]
#[error("{path}: {problem}")]
pub struct InputFileError {
    pub path: String,
    pub problem: InputProblem,
}

/// What is wrong with the file.
#[derive(Debug, Error)]
pub enum InputProblem {
    /// It is not there, or may not be read.
    #[error("cannot read it ({0})")]
    Unreadable(io::ErrorKind),
    #[error("it is {found}, not a regular file; give {}", kind.accepted())]
    NotAFile {
        found: &'static str,
        kind: InputKind,
    },
    #[error("it is {}, over the {} {kind} may be{}", sizes(*size, kind.max_bytes()).0, sizes(*size, kind.max_bytes()).1, kind.too_big_hint())]
    TooBig { size: u64, kind: InputKind },
    #[error("line {line} is longer than the {} a line of {kind} may be", format_bytes(MAX_LINE_BYTES as u64))]
    LineTooLong { line: u64, kind: InputKind },
    #[error("it is not UTF-8 text; give {}", kind.accepted())]
    NotText { kind: InputKind },
}

/// A size and its cap as an error shows them: in bytes where the rounded
/// figures would read the same ("4 GiB, over the 4 GiB").
fn sizes(size: u64, cap: u64) -> (String, String) {
    let (shown, cap_shown) = (format_bytes(size), format_bytes(cap));
    if shown == cap_shown {
        (format!("{size} bytes"), format!("{cap} bytes"))
    } else {
        (shown, cap_shown)
    }
}

impl InputFileError {
    fn new(path: &Path, problem: InputProblem) -> Self {
        InputFileError {
            path: path.display().to_string(),
            problem,
        }
    }

    /// The file is not there (or may not be read), as opposed to being
    /// something other than the file asked for.
    pub fn is_unreadable(&self) -> bool {
        matches!(self.problem, InputProblem::Unreadable(_))
    }
}

/// A regular file opened for reading, that reads no further than its
/// kind's cap.
#[derive(Debug)]
pub struct InputFile {
    file: io::Take<File>,
    size: u64,
}

impl InputFile {
    /// Opens `path` without blocking and refuses anything but a regular
    /// file of at most `kind.max_bytes()`.
    pub fn open(path: &Path, kind: InputKind) -> Result<InputFile, InputFileError> {
        let unreadable =
            |e: io::Error| InputFileError::new(path, InputProblem::Unreadable(e.kind()));
        let file = OpenOptions::new()
            .read(true)
            // A FIFO's open returns at once instead of waiting for a writer;
            // a terminal never becomes the controlling one. Both "have no
            // effect for regular files" (open(2)), so they stay on the
            // descriptor of a file that is read.
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(unreadable)?;
        // fstat of the opened descriptor, not stat of the path.
        let metadata = file.metadata().map_err(unreadable)?;
        let file_type = metadata.file_type();
        if !file_type.is_file() {
            let found = if file_type.is_dir() {
                "a folder"
            } else if file_type.is_fifo() {
                "a FIFO (named pipe)"
            } else if file_type.is_char_device() {
                "a character device"
            } else if file_type.is_block_device() {
                "a block device"
            } else if file_type.is_socket() {
                "a socket"
            } else {
                "something else"
            };
            return Err(InputFileError::new(
                path,
                InputProblem::NotAFile { found, kind },
            ));
        }
        let size = metadata.len();
        if size > kind.max_bytes() {
            return Err(InputFileError::new(
                path,
                InputProblem::TooBig { size, kind },
            ));
        }
        Ok(InputFile {
            // A file that grows while it is read still stops at the cap.
            file: file.take(kind.max_bytes()),
            size,
        })
    }

    /// Its size when it was opened.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The open file itself (for a seek), still capped.
    pub fn into_inner(self) -> io::Take<File> {
        self.file
    }
}

impl Read for InputFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

/// The whole of `path`, a regular file of at most `kind.max_bytes()`.
pub fn read_user_file(path: &Path, kind: InputKind) -> Result<Vec<u8>, InputFileError> {
    let file = InputFile::open(path, kind)?;
    let mut bytes = Vec::with_capacity(file.size() as usize);
    // One byte past the cap tells a file that grew since the fstat.
    file.into_inner()
        .into_inner()
        .take(kind.max_bytes() + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| InputFileError::new(path, InputProblem::Unreadable(e.kind())))?;
    if bytes.len() as u64 > kind.max_bytes() {
        return Err(InputFileError::new(
            path,
            InputProblem::TooBig {
                size: bytes.len() as u64,
                kind,
            },
        ));
    }
    Ok(bytes)
}

/// `path` as UTF-8 text, without the byte order mark editors on Windows
/// put first; no line longer than `MAX_LINE_BYTES`.
pub fn read_user_text(path: &Path, kind: InputKind) -> Result<String, InputFileError> {
    let bytes = read_user_file(path, kind)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| InputFileError::new(path, InputProblem::NotText { kind }))?;
    if let Some(at) = text
        .split_inclusive('\n')
        .position(|line| line.len() > MAX_LINE_BYTES)
    {
        return Err(InputFileError::new(
            path,
            InputProblem::LineTooLong {
                line: at as u64 + 1,
                kind,
            },
        ));
    }
    Ok(without_bom(&text).to_owned())
}

/// `text` without a UTF-8 byte order mark at its start.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Reads one line, its '\n' included, into `line` (cleared first), but
/// no more than `MAX_LINE_BYTES` + 1 bytes: a longer line leaves `line`
/// longer than `MAX_LINE_BYTES` and without its end. Returns the bytes
/// read, 0 at the end of the file.
pub fn read_line_capped(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<usize> {
    line.clear();
    reader
        .by_ref()
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sockscope-input-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn problem(path: &Path, kind: InputKind) -> String {
        let error = read_user_file(path, kind).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
        message
    }

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = scratch("fifo");
        let fifo = dir.join("pipe.csv");
        // coreutils' mkfifo: nix's needs its "fs" feature, unused elsewhere.
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Without O_NONBLOCK this open would wait for a writer for ever.
        let message = problem(&fifo, InputKind::Recording);
        assert!(
            message.ends_with(
                "is a FIFO (named pipe), not a regular file; give a recording (the CSV file `record --csv` writes)"
            ),
            "{message}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn devices_and_folders_are_refused_unread() {
        let message = problem(Path::new("/dev/zero"), InputKind::Scenario);
        assert!(
            message.contains("is a character device, not a regular file; give a scenario"),
            "{message}"
        );
        let dir = scratch("folder");
        let message = problem(&dir, InputKind::Summary);
        assert!(
            message.contains("is a folder, not a regular file"),
            "{message}"
        );
        let message = problem(&dir.join("gone.toml"), InputKind::Scenario);
        assert!(
            message.ends_with("cannot read it (entity not found)"),
            "{message}"
        );
        assert!(
            read_user_file(&dir.join("gone"), InputKind::Scenario)
                .unwrap_err()
                .is_unreadable()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_over_its_cap_is_refused_before_it_is_read() {
        let dir = scratch("big");
        let path = dir.join("big.json");
        // Sparse: no disk is used.
        let file = File::create(&path).unwrap();
        file.set_len(2 << 20).unwrap();
        let message = problem(&path, InputKind::Summary);
        assert!(
            message.ends_with(": it is 2 MiB, over the 1 MiB a summary may be"),
            "{message}"
        );
        // One byte over reads in bytes, not as "1 MiB, over the 1 MiB".
        file.set_len(InputKind::Summary.max_bytes() + 1).unwrap();
        let message = problem(&path, InputKind::Summary);
        assert!(
            message.ends_with(": it is 1048577 bytes, over the 1048576 bytes a summary may be"),
            "{message}"
        );
        // The cap itself is read.
        file.set_len(InputKind::Summary.max_bytes()).unwrap();
        assert_eq!(
            read_user_file(&path, InputKind::Summary).unwrap().len() as u64,
            InputKind::Summary.max_bytes()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn text_loses_its_byte_order_mark_and_keeps_its_lines_short() {
        let dir = scratch("text");
        let path = dir.join("a.toml");
        std::fs::write(&path, "\u{feff}at = 1\n").unwrap();
        assert_eq!(
            read_user_text(&path, InputKind::Scenario).unwrap(),
            "at = 1\n"
        );
        std::fs::write(&path, format!("a = 1\n# {}\n", "x".repeat(MAX_LINE_BYTES))).unwrap();
        let error = read_user_text(&path, InputKind::Scenario)
            .unwrap_err()
            .to_string();
        assert!(
            error.ends_with("line 2 is longer than the 64 KiB a line of a scenario file may be"),
            "{error}"
        );
        std::fs::write(&path, b"a = \xff\n").unwrap();
        let error = read_user_text(&path, InputKind::Scenario)
            .unwrap_err()
            .to_string();
        assert!(error.contains("it is not UTF-8 text"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_capped_line_stops_one_byte_past_the_cap() {
        let long = "y".repeat(MAX_LINE_BYTES * 3);
        let text = format!("short\n{long}\n");
        let mut reader = io::BufReader::new(text.as_bytes());
        let mut line = Vec::new();
        assert_eq!(read_line_capped(&mut reader, &mut line).unwrap(), 6);
        assert_eq!(line, b"short\n");
        let read = read_line_capped(&mut reader, &mut line).unwrap();
        assert_eq!(read, MAX_LINE_BYTES + 1);
        assert!(!line.ends_with(b"\n"));
    }
}
