//! PNG files from RGBA pixels, written whole or not at all.

use std::path::{Path, PathBuf};

use image::ImageEncoder;
use image::codecs::png::PngEncoder;

use super::{AtomicFile, OutputPathError};

#[derive(Debug, thiserror::Error)]
pub enum PngError {
    #[error(transparent)]
    Path(#[from] OutputPathError),
    #[error("cannot write the PNG '{path}': {reason}")]
    Write { path: String, reason: String },
    #[error("the image is {width}×{height} but {bytes} bytes of pixels arrived")]
    Size {
        width: u32,
        height: u32,
        bytes: usize,
    },
}

/// Writes `rgba` (row-major, 4 bytes a pixel) as a PNG at `target`.
pub fn write_png(target: &Path, width: u32, height: u32, rgba: &[u8]) -> Result<PathBuf, PngError> {
    if rgba.len() != width as usize * height as usize * 4 || width == 0 || height == 0 {
        return Err(PngError::Size {
            width,
            height,
            bytes: rgba.len(),
        });
    }
    let write_error = |reason: String| PngError::Write {
        path: target.display().to_string(),
        reason,
    };
    let mut file = AtomicFile::create(target)?;
    PngEncoder::new(file.writer())
        .write_image(rgba, width, height, image::ExtendedColorType::Rgba8)
        .map_err(|e| write_error(e.to_string()))?;
    file.commit().map_err(|e| write_error(e.to_string()))
}

/// `folder/stem.ext`, or `folder/stem-2.ext`, `-3`… if that exists or
/// `taken` says it is promised to a write still under way: an export never
/// replaces a file.
pub fn unused_path(folder: &Path, stem: &str, ext: &str, taken: impl Fn(&Path) -> bool) -> PathBuf {
    let mut path = folder.join(format!("{stem}.{ext}"));
    let mut n = 2;
    while path.exists() || taken(&path) {
        path = folder.join(format!("{stem}-{n}.{ext}"));
        n += 1;
    }
    path
}

/// UTC civil time from a Unix time, for file names and captions:
/// ("20261125-190211", "2026-11-25 19:02:11 UTC").
pub fn utc_stamp(unix_secs: u64) -> (String, String) {
    let days = (unix_secs / 86_400) as i64;
    let secs = unix_secs % 86_400;
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}{month:02}{day:02}-{h:02}{m:02}{s:02}"),
        format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02} UTC"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(utc_stamp(0).1, "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_stamp(951_782_400).1, "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_stamp(1_795_633_331).0, "20261125-190211");
    }

    #[test]
    fn png_round_trips_and_never_overwrites() {
        let dir = std::env::temp_dir().join(format!("sockscope-png-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = unused_path(&dir, "shot", "png", |_| false);
        let pixels: Vec<u8> = (0..4 * 3 * 2).map(|i| i as u8 * 10).collect();
        write_png(&first, 3, 2, &pixels).unwrap();
        let second = unused_path(&dir, "shot", "png", |_| false);
        assert_ne!(first, second);
        let third = unused_path(&dir, "shot", "png", |p| p == second);
        assert!(third != first && third != second);
        let decoded = image::open(&first).unwrap().to_rgba8();
        assert_eq!(decoded.dimensions(), (3, 2));
        assert_eq!(decoded.as_raw(), &pixels);
        assert!(matches!(
            write_png(&second, 3, 3, &pixels),
            Err(PngError::Size { .. })
        ));
        assert!(!second.exists(), "nothing half-written");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
