//! The real window, as a user starts it: `sockscope --screenshot` under a
//! virtual X display (xvfb-run, Debian package xvfb, which .ci/run
//! installs), rendered by wgpu through eframe. Checks that the scripted
//! capture works end to end and that the picture shows what the kernel did.

mod common;

use std::process::Command;

/// `xvfb-run` with a display of the window's size. Each test starts its
/// search for a free display number at its own (`first`): tests run in
/// parallel, and two xvfb-run started at once may both find the same
/// number free.
fn xvfb_run(first: u32) -> Command {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("xvfb-run"))
        .find(|path| path.is_file());
    let path = found
        .expect("this test needs xvfb-run (Debian: apt-get install xvfb); .ci/run installs it");
    let mut command = Command::new(path);
    command.args([
        "-n",
        &first.to_string(),
        "-a",
        "-s",
        "-screen 0 1280x800x24",
    ]);
    command
}

#[test]
fn scripted_capture_of_a_paused_reader_shows_the_alarm() {
    let dir = std::env::temp_dir().join(format!("sockscope-window-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let shot = dir.join("paused.png");
    let out = xvfb_run(110)
        .arg(env!("CARGO_BIN_EXE_sockscope"))
        .args([
            "--preset",
            "paused-reader",
            "--quit-after",
            "3",
            "--screenshot",
        ])
        .arg(&shot)
        .output()
        .expect("run xvfb-run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("screenshot saved to"), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let image = image::open(&shot).expect("a PNG").to_rgba8();
    assert_eq!(image.dimensions(), (1280, 800));
    // A paused reader blocks the writer within a second: the writer's box,
    // the cut link and the send buffer's glow are drawn in the alarm red
    // (255, 80, 70 in the dark theme).
    let red = image.pixels().filter(|p| common::is_alarm_red(p)).count();
    assert!(
        red > 2_000,
        "only {red} alarm-red pixels: is send() shown blocked?"
    );
    // Not the cut link alone: the applications' row (above the kernel
    // line, where the link is not) has the writer's box in red.
    let top_red = image
        .enumerate_pixels()
        .filter(|(_, y, p)| *y < 100 && common::is_alarm_red(p))
        .count();
    assert!(
        top_red > 300,
        "only {top_red} alarm-red pixels in the writer's box: is send() shown blocked?"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_a_usable_graphics_adapter_the_window_exits_1_with_one_sentence() {
    use std::time::{Duration, Instant};
    // A display, but a Vulkan loader that finds no driver: wgpu has no
    // adapter at all.
    let mut child = xvfb_run(120)
        .arg(env!("CARGO_BIN_EXE_sockscope"))
        .args(["--quit-after", "2"])
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("WGPU_BACKEND", "vulkan")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run xvfb-run");
    // Never a hang: it must end on its own well within the deadline.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the window hung without a graphics adapter");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(status.code(), Some(1), "{status:?}\n{stdout}\n{stderr}");
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("sockscope:"))
        .collect();
    assert_eq!(ours.len(), 1, "{stderr}");
    assert!(ours[0].contains("no usable graphics adapter"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Records a paused reader (2 s, 32 KiB buffers) and draws 0 to 1.5 s of
/// it at 4 frames a second into `name` (`open FILE --export-gif`); the
/// scratch folder and the animation's path.
fn export_paused_reader(name: &str, display: u32) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("sockscope-window-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let animation = dir.join(name);
    let csv = common::record_csv_json(
        &dir,
        &[
            "--duration",
            "2",
            "--read-rate",
            "0",
            "--sndbuf",
            "32K",
            "--rcvbuf",
            "32K",
            "--write-rate",
            "256K",
            "--write-chunk",
            "4K",
        ],
    );
    let out = xvfb_run(display)
        .arg(env!("CARGO_BIN_EXE_sockscope"))
        .arg("open")
        .arg(&csv)
        .args(["--from", "0", "--to", "1.5", "--fps", "4", "--export-gif"])
        .arg(&animation)
        .output()
        .expect("run xvfb-run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("animation saved to"), "{stdout}");
    (dir, animation)
}

/// The paused reader's animation: 7 frames, each 250 ms, the window's
/// size, and the picture moves with the recording (no send() blocked at
/// its start, the alarm red once the writer blocked).
fn assert_paused_reader_frames(frames: &[image::Frame]) {
    let red = common::alarm_red_pixels;
    assert_eq!(frames.len(), 7);
    for frame in frames {
        assert_eq!(frame.buffer().dimensions(), (1280, 800));
        assert_eq!(frame.delay().numer_denom_ms(), (250, 1));
    }
    let (first, last) = (red(&frames[0]), red(&frames[6]));
    assert!(
        last > 2_000 && last > 4 * first.max(1),
        "red pixels: {first} at 0 s, {last} at 1.5 s"
    );
}

/// `open FILE --export-gif OUT.gif`: the paused reader as a GIF, frame by
/// frame.
#[test]
fn a_recording_exports_as_an_animated_gif_frame_by_frame() {
    use image::AnimationDecoder;
    let (dir, gif) = export_paused_reader("run.gif", 130);
    let decoder = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(
        std::fs::File::open(&gif).unwrap(),
    ))
    .unwrap();
    assert_paused_reader_frames(&decoder.into_frames().collect_frames().unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `open FILE --export-gif OUT.png`: the same frames as an animated PNG,
/// in full colour (a GIF frame has at most 256 colours; the window's
/// smoothed text and curves have more).
#[test]
fn a_recording_exports_as_an_animated_png_in_full_colour() {
    use image::AnimationDecoder;
    let (dir, png) = export_paused_reader("run.png", 140);
    let decoder = image::codecs::png::PngDecoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).unwrap(),
    ))
    .unwrap();
    assert!(decoder.is_apng().unwrap(), "not an animated PNG");
    let frames = decoder
        .apng()
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_paused_reader_frames(&frames);
    let colours: std::collections::HashSet<[u8; 4]> =
        frames[6].buffer().pixels().map(|p| p.0).collect();
    assert!(colours.len() > 256, "{} colours", colours.len());
    assert_eq!(
        common::files_in(&dir),
        ["run.csv", "run.json", "run.png"],
        "nothing unfinished left"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
