//! `sockscope open FILE`: a recording played back in the window, or drawn
//! into an animation.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use sockscope::gui::{self, GuiOptions, Lang, Panel};

use super::CliError;
use super::parse::{parse_duration, parse_lang, parse_moment, parse_panel};
use super::window::{check_png_target, run_gui};

#[derive(Args, Debug)]
pub(super) struct OpenArgs {
    /// The recording (CSV). Without one (a launcher with no file chosen)
    /// the window opens as `sockscope` alone does.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Start at this moment, in seconds from the recording's first sample.
    #[arg(long, value_name = "SECS", value_parser = parse_moment, allow_hyphen_values = true)]
    at: Option<Duration>,
    /// Interface language: en or zh.
    #[arg(long, value_name = "LANG", value_parser = parse_lang)]
    lang: Option<Lang>,
    /// Write a PNG of the whole window to FILE after --quit-after seconds (default 3), then exit.
    #[arg(long, value_name = "FILE")]
    screenshot: Option<PathBuf>,
    /// Close the window after SECS seconds (with --screenshot: take it then).
    #[arg(long, value_name = "SECS", value_parser = parse_duration, allow_hyphen_values = true)]
    quit_after: Option<Duration>,
    /// Start in projector mode (large text, light high-contrast theme).
    #[arg(long)]
    projector: bool,
    /// Open a window at start, as `sockscope --open` does: wire (the
    /// recording's packets, replayed from the pcap its summary names), info…
    #[arg(long, value_name = "WINDOW", value_parser = parse_panel)]
    open: Option<Panel>,
    /// Draw the recording from --from to --to into an animation at --fps
    /// frames a second (one frame a moment, none dropped), then exit: a
    /// GIF (OUT.gif) or an animated PNG in full colour (OUT.png, OUT.apng).
    #[arg(long, visible_alias = "export-apng", value_name = "OUT", requires = "file", conflicts_with_all = ["screenshot", "quit_after", "at"])]
    export_gif: Option<PathBuf>,
    /// With --export-gif: where the animation starts, seconds from the
    /// recording's first sample (default 0).
    #[arg(long, value_name = "SECS", value_parser = parse_moment, allow_hyphen_values = true, requires = "export_gif")]
    from: Option<Duration>,
    /// With --export-gif: where it ends (default: the recording's end).
    #[arg(long, value_name = "SECS", value_parser = parse_moment, allow_hyphen_values = true, requires = "export_gif")]
    to: Option<Duration>,
    /// With --export-gif: frames a second, 1 to 50.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=50), requires = "export_gif")]
    fps: u32,
    /// With --export-gif: what to draw, the whole window (the picture, the
    /// caption and the timeline) or the timeline panel alone.
    #[arg(long, value_name = "PART", default_value = "window", value_parser = ["window", "timeline"], requires = "export_gif")]
    gif_of: String,
}

/// The animation's plan, checked: a .gif, .png or .apng in an existing
/// folder, a span inside the recording, at most MAX_FRAMES frames.
fn gif_plan(
    args: &OpenArgs,
    out: &std::path::Path,
    span: (u64, u64),
) -> Result<gui::animation::AnimationPlan, String> {
    let shown = out.display();
    let Some(format) = gui::animation::Format::of(out) else {
        return Err(format!(
            "--export-gif: '{shown}' does not end in .gif, .png or .apng; give a file such as \
             lesson.gif (a GIF) or lesson.png (an animated PNG)"
        ));
    };
    if let Some(folder) = out.parent().filter(|f| !f.as_os_str().is_empty())
        && !folder.is_dir()
    {
        return Err(format!(
            "--export-gif: the folder of '{shown}' does not exist; give a path in an existing folder"
        ));
    }
    let (first, last) = span;
    let length = last - first;
    let from = args.from.map_or(0, |d| d.as_nanos() as u64);
    let to = args.to.map_or(length, |d| d.as_nanos() as u64);
    if from >= to || to > length {
        return Err(format!(
            "--from {:.3} and --to {:.3} must be a span inside the recording, 0 to {:.3} s",
            from as f64 / 1e9,
            to as f64 / 1e9,
            length as f64 / 1e9
        ));
    }
    let plan = gui::animation::AnimationPlan {
        path: out.to_owned(),
        format,
        from_ns: first + from,
        to_ns: first + to,
        fps: args.fps,
        timeline_only: args.gif_of == "timeline",
    };
    if plan.frames() > gui::animation::MAX_FRAMES {
        return Err(format!(
            "--export-gif: {} frames is more than {}; shorten --from..--to or lower --fps",
            plan.frames(),
            gui::animation::MAX_FRAMES
        ));
    }
    Ok(plan)
}

/// Opens a recording (with a progress line on a terminal) and plays it in
/// the window.
pub(super) fn run(args: OpenArgs) -> Result<ExitCode, CliError> {
    if let Some(path) = &args.screenshot {
        check_png_target(path)?;
    }
    let Some(file) = args.file.clone() else {
        let scripted = args.screenshot.is_some() || args.quit_after.is_some();
        return run_gui(GuiOptions {
            lang: args.lang,
            screenshot: args.screenshot,
            quit_after: args.quit_after,
            projector: args.projector,
            persist: !scripted,
            open: args.open,
            ..GuiOptions::default()
        });
    };
    let terminal = std::io::stderr().is_terminal();
    let name = file.display().to_string();
    let opened = sockscope::export::recording::Recording::open(&file, &mut |share| {
        if terminal {
            eprint!("\rsockscope: reading {name}: {:.0} %", share * 100.0);
        }
    });
    if terminal {
        eprint!("\r\x1b[K");
    }
    let recording = opened.map_err(|err| CliError::Usage(format!("open: {err}")))?;
    if let Some(at) = args.at {
        let (first, last) = recording.span();
        let span = Duration::from_nanos(last - first);
        if at > span {
            return Err(CliError::Usage(format!(
                "open: --at {:.3} is past the recording's end ({:.3} s); give 0 to {:.3}",
                at.as_secs_f64(),
                span.as_secs_f64(),
                span.as_secs_f64()
            )));
        }
    }
    let gif = match &args.export_gif {
        Some(out) => Some(
            gif_plan(&args, out, recording.span())
                .map_err(|err| CliError::Usage(format!("open: {err}")))?,
        ),
        None => None,
    };
    let exporting = gif.is_some();
    let options = GuiOptions {
        lang: args.lang,
        screenshot: args.screenshot,
        quit_after: args.quit_after,
        projector: args.projector,
        persist: false,
        recording: Some(Arc::new(recording)),
        at: args.at,
        open: args.open,
        gif,
        ..GuiOptions::default()
    };
    if !exporting {
        return run_gui(options);
    }
    if let Some(path) = gui::run(options)? {
        println!("animation saved to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
