//! The window's exports: the timeline panel as a PNG (a screenshot of a
//! frame, cropped to the panel) and the samples as CSV, each written on a
//! thread of its own. Every export is a job with a stage; the status line
//! is built from what the jobs reported, never from its own text.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, unbounded};
use eframe::egui;

use crate::export::pcap::PcapWriter;
use crate::export::png::{unused_path, utc_stamp, write_png};
use crate::export::{AtomicFile, csv::SampleCsv};
use crate::i18n::{Lang, S};
use crate::lab::Sample;
use crate::lab::wire::WirePacket;

/// Where a PNG export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PngStage {
    /// The screenshot is asked for at the end of this frame, which draws
    /// the settings caption, so the crop matches what was drawn.
    Pending,
    /// Asked for; the renderer delivers it some frames later. Until then
    /// every frame draws the caption.
    Capturing,
    /// Being cropped and written on a thread.
    Writing,
}

/// What part of the window a PNG shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crop {
    /// The timeline panel.
    Timeline,
    /// The wire window (the ladder).
    Wire,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Job {
    Png {
        path: PathBuf,
        stage: PngStage,
        crop: Crop,
    },
    /// A file written on a thread of its own (the CSV, the pcap).
    Written,
}

/// What the status line says about exports.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    /// Jobs run; nothing has finished yet.
    Exporting,
    /// What finished, joined; an error stays over a later success.
    Done { text: String, failed: bool },
}

/// A message from a screenshot callback or a writer thread.
enum Delivery {
    Screenshot(u64, egui::Rect, Arc<egui::ColorImage>),
    Finished(u64, Result<String, String>),
}

pub struct Exports {
    jobs: Vec<(u64, Job)>,
    next_id: u64,
    /// File names handed out in this run: a second export in the same
    /// second must not pick the same name, though the PNG is written
    /// frames later.
    reserved: HashSet<PathBuf>,
    status: Option<Status>,
    tx: Sender<Delivery>,
    rx: Receiver<Delivery>,
}

impl Default for Exports {
    fn default() -> Self {
        let (tx, rx) = unbounded();
        Exports {
            jobs: Vec::new(),
            next_id: 1,
            reserved: HashSet::new(),
            status: None,
            tx,
            rx,
        }
    }
}

/// What an export saves.
pub struct ExportWhat {
    /// The samples kept at full resolution, for the CSV.
    pub samples: Vec<Sample>,
    /// Samples kept only as min/max, which the CSV lacks.
    pub older: u64,
    /// With a capture: the packets kept whole (for a pcap) and how many
    /// older ones are not.
    pub packets: Option<(Vec<WirePacket>, u64)>,
    /// The wire window is open: its ladder as a PNG too.
    pub ladder: bool,
    /// The run's settings and figures so far, written as JSON beside the
    /// CSV (as `record --json` writes it), so `sockscope open` reads the
    /// CSV with its buffer sizes and rates.
    pub summary: Option<crate::export::summary::Summary>,
}

impl Exports {
    /// Starts an export into `dir`: the CSV (and any pcap) at once, the
    /// PNGs at the end of the frame.
    pub fn start(&mut self, ctx: &egui::Context, dir: &Path, what: ExportWhat, lang: Lang) {
        let ExportWhat {
            samples,
            older,
            packets,
            ladder,
            mut summary,
        } = what;
        if let Err(error) = std::fs::create_dir_all(dir) {
            let text = S::ExportFolderError.fill(lang, &[&dir.display(), &error.kind()]);
            self.status = Some(Status::Done { text, failed: true });
            return;
        }
        let (stamp, _) = utc_stamp(unix_now());
        let stem = format!("sockscope-{stamp}");
        let taken = |path: &Path| self.reserved.contains(path);
        let png = unused_path(dir, &stem, "png", taken);
        let csv = unused_path(dir, &stem, "csv", taken);
        self.reserved.insert(png.clone());
        self.reserved.insert(csv.clone());
        self.reserved.insert(csv.with_extension("json"));
        self.status = Some(Status::Exporting);
        self.add(Job::Png {
            path: png,
            stage: PngStage::Pending,
            crop: Crop::Timeline,
        });
        if ladder {
            let wire_png = unused_path(
                dir,
                &format!("{stem}-wire"),
                "png",
                taken_now(&self.reserved),
            );
            self.reserved.insert(wire_png.clone());
            self.add(Job::Png {
                path: wire_png,
                stage: PngStage::Pending,
                crop: Crop::Wire,
            });
        }
        // The pcap's name is settled first: the summary names it, so that
        // `sockscope open` replays the ladder beside the samples.
        let pcap = packets.as_ref().map(|_| {
            let pcap = unused_path(dir, &stem, "pcap", taken_now(&self.reserved));
            self.reserved.insert(pcap.clone());
            pcap
        });
        if let (Some(pcap), Some(capture)) =
            (&pcap, summary.as_mut().and_then(|s| s.capture.as_mut()))
        {
            capture.pcap = Some(crate::export::summary::path_from_summary(
                Some(&csv.with_extension("json")),
                pcap,
            ));
        }
        let csv_id = self.add(Job::Written);
        let tx = self.tx.clone();
        let repaint = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("sockscope-export-csv".into())
            .spawn(move || {
                let result = write_csv(&csv, &samples, summary.as_ref(), lang).map(|rows| {
                    let saved = S::SamplesSaved.fill(lang, &[&rows, &csv.display()]);
                    if older > 0 {
                        saved + &S::SamplesPartial.fill(lang, &[&older])
                    } else {
                        saved
                    }
                });
                let _ = tx.send(Delivery::Finished(csv_id, result));
                repaint.request_repaint();
            });
        if let Err(error) = spawned {
            self.finish(csv_id, Err(S::ExportNoThread.fill(lang, &[&error])));
        }
        if let (Some((packets, older)), Some(pcap)) = (packets, pcap) {
            let pcap_id = self.add(Job::Written);
            let tx = self.tx.clone();
            let repaint = ctx.clone();
            let spawned = std::thread::Builder::new()
                .name("sockscope-export-pcap".into())
                .spawn(move || {
                    let result = write_pcap(&pcap, &packets, lang).map(|frames| {
                        let saved = S::PacketsSaved.fill(lang, &[&frames, &pcap.display()]);
                        if older > 0 {
                            saved + &S::PacketsPartial.fill(lang, &[&older])
                        } else {
                            saved
                        }
                    });
                    let _ = tx.send(Delivery::Finished(pcap_id, result));
                    repaint.request_repaint();
                });
            if let Err(error) = spawned {
                self.finish(pcap_id, Err(S::ExportNoThread.fill(lang, &[&error])));
            }
        }
    }

    fn add(&mut self, job: Job) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.jobs.push((id, job));
        id
    }

    /// The settings caption must be drawn: a screenshot is to be taken or
    /// on its way.
    pub fn capturing(&self) -> bool {
        self.jobs.iter().any(|(_, job)| {
            matches!(
                job,
                Job::Png {
                    stage: PngStage::Pending | PngStage::Capturing,
                    ..
                }
            )
        })
    }

    /// Some job is not done: keep repainting until it is.
    pub fn busy(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// Asks the renderer for this frame's pixels, cropped to `panel` (the
    /// timeline panel as laid out in this frame). Call at the end of a
    /// frame.
    pub fn request_screenshots(
        &mut self,
        ctx: &egui::Context,
        panel: Option<egui::Rect>,
        wire: Option<egui::Rect>,
        lang: Lang,
    ) {
        let mut missing = Vec::new();
        for (id, job) in &mut self.jobs {
            let Job::Png { stage, crop, .. } = job else {
                continue;
            };
            if *stage != PngStage::Pending {
                continue;
            }
            let rect = match crop {
                Crop::Timeline => panel,
                Crop::Wire => wire,
            };
            let Some(rect) = rect else {
                missing.push(*id);
                continue;
            };
            *stage = PngStage::Capturing;
            let (id, tx, repaint) = (*id, self.tx.clone(), ctx.clone());
            ctx.request_screenshot(move |image| {
                let _ = tx.send(Delivery::Screenshot(id, rect, image));
                repaint.request_repaint();
            });
        }
        for id in missing {
            self.finish(id, Err(S::ExportOffScreen.text(lang).into()));
        }
    }

    /// Takes screenshots and finished files; call every frame.
    pub fn receive(&mut self, ctx: &egui::Context, lang: Lang) {
        while let Ok(delivery) = self.rx.try_recv() {
            match delivery {
                Delivery::Screenshot(id, rect, image) => self.write_png(ctx, id, rect, image, lang),
                Delivery::Finished(id, result) => self.finish(id, result),
            }
        }
    }

    fn write_png(
        &mut self,
        ctx: &egui::Context,
        id: u64,
        rect: egui::Rect,
        image: Arc<egui::ColorImage>,
        lang: Lang,
    ) {
        let Some((_, Job::Png { path, stage, crop })) =
            self.jobs.iter_mut().find(|(i, _)| *i == id)
        else {
            return;
        };
        let saved = match crop {
            Crop::Timeline => S::TimelineSaved,
            Crop::Wire => S::LadderSaved,
        };
        *stage = PngStage::Writing;
        let png = path.clone();
        let (tx, repaint) = (self.tx.clone(), ctx.clone());
        let ppp = ctx.pixels_per_point();
        let spawned = std::thread::Builder::new()
            .name("sockscope-export-png".into())
            .spawn(move || {
                let result = save_image(&image, &png, Some((rect, ppp)), lang)
                    .map(|()| saved.fill(lang, &[&png.display()]));
                let _ = tx.send(Delivery::Finished(id, result));
                repaint.request_repaint();
            });
        if let Err(error) = spawned {
            self.finish(id, Err(S::ExportNoThread.fill(lang, &[&error])));
        }
    }

    /// A job ended: it leaves the list and its result joins the status.
    fn finish(&mut self, id: u64, result: Result<String, String>) {
        self.jobs.retain(|(i, _)| *i != id);
        let (text, failed) = match result {
            Ok(text) => (text, false),
            Err(text) => (text, true),
        };
        match &mut self.status {
            Some(Status::Done {
                text: shown,
                failed: was_failed,
            }) => {
                // Keep an error visible over a later success.
                if failed || !*was_failed {
                    *shown = format!("{shown}; {text}");
                    *was_failed |= failed;
                }
            }
            slot => {
                *slot = Some(Status::Done {
                    text: capitalise(&text),
                    failed,
                });
            }
        }
    }

    /// The status line and whether it reports a failure.
    /// Puts a result on the status line (an animation drawn in the window).
    pub fn report(&mut self, text: String, failed: bool) {
        self.status = Some(Status::Done { text, failed });
    }

    pub fn message(&self, lang: Lang) -> Option<(String, bool)> {
        match self.status.as_ref()? {
            Status::Exporting => Some((S::Exporting.text(lang).into(), false)),
            Status::Done { text, failed } => Some((text.clone(), *failed)),
        }
    }

    pub fn dismiss(&mut self) {
        self.status = None;
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `$HOME/sockscope-exports`, or the working folder's.
pub fn default_export_dir() -> PathBuf {
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
        .join("sockscope-exports")
}

fn taken_now(reserved: &HashSet<PathBuf>) -> impl Fn(&Path) -> bool + '_ {
    move |path| reserved.contains(path)
}

/// Saves what `what` holds as a recording that `sockscope open` reads:
/// the CSV at `csv`, its summary beside it, and with a capture the pcap
/// the summary names (an animation of a live run is drawn from these).
pub(super) fn write_recording(csv: &Path, what: ExportWhat, lang: Lang) -> Result<u64, String> {
    let ExportWhat {
        samples,
        packets,
        mut summary,
        ..
    } = what;
    if let Some((packets, _)) = packets {
        let pcap = csv.with_extension("pcap");
        if let Some(capture) = summary.as_mut().and_then(|s| s.capture.as_mut()) {
            capture.pcap = Some(crate::export::summary::path_from_summary(
                Some(&csv.with_extension("json")),
                &pcap,
            ));
        }
        write_pcap(&pcap, &packets, lang)?;
    }
    write_csv(csv, &samples, summary.as_ref(), lang)
}

/// Writes the packets as pcap; returns how many.
fn write_pcap(path: &Path, packets: &[WirePacket], lang: Lang) -> Result<u64, String> {
    let failed = |e: &dyn std::fmt::Display| S::ExportCannotWrite.fill(lang, &[&path.display(), e]);
    let mut file = AtomicFile::create(path).map_err(|e| format!("{e}"))?;
    let mut pcap = PcapWriter::new(file.writer()).map_err(|e| failed(&e))?;
    for packet in packets {
        pcap.write(packet).map_err(|e| failed(&e))?;
    }
    let frames = pcap.packets();
    pcap.flush().map_err(|e| failed(&e))?;
    file.commit().map_err(|e| failed(&e))?;
    Ok(frames)
}

/// Writes the samples, and the summary beside them (same name, .json);
/// returns how many rows.
fn write_csv(
    path: &Path,
    samples: &[Sample],
    summary: Option<&crate::export::summary::Summary>,
    lang: Lang,
) -> Result<u64, String> {
    let failed = |e: &dyn std::fmt::Display| S::ExportCannotWrite.fill(lang, &[&path.display(), e]);
    let mut file = AtomicFile::create(path).map_err(|e| format!("{e}"))?;
    let mut csv = SampleCsv::new(file.writer());
    for sample in samples {
        csv.write(sample).map_err(|e| failed(&e))?;
    }
    let rows = csv.rows();
    csv.finish().map_err(|e| failed(&e))?;
    if let Some(summary) = summary {
        let json = path.with_extension("json");
        let failed =
            |e: &dyn std::fmt::Display| S::ExportCannotWrite.fill(lang, &[&json.display(), e]);
        let mut out = AtomicFile::create(&json).map_err(|e| format!("{e}"))?;
        serde_json::to_writer_pretty(out.writer(), summary).map_err(|e| failed(&e))?;
        out.commit().map_err(|e| failed(&e))?;
    }
    file.commit().map_err(|e| failed(&e))?;
    Ok(rows)
}

/// Writes a screenshot (or the `crop` region of it, in points) as PNG.
pub fn save_image(
    image: &egui::ColorImage,
    path: &Path,
    crop: Option<(egui::Rect, f32)>,
    lang: Lang,
) -> Result<(), String> {
    let region;
    let image = match crop {
        Some((rect, ppp)) => {
            // The panel may reach past the window's edge on a small window.
            let whole = egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(image.size[0] as f32, image.size[1] as f32) / ppp,
            );
            let rect = rect.intersect(whole);
            if !rect.is_positive() {
                return Err(S::ExportOffScreen.text(lang).into());
            }
            region = image.region(&rect, Some(ppp));
            &region
        }
        None => image,
    };
    let [width, height] = image.size;
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    write_png(path, width as u32, height as u32, &rgba)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_stays_over_a_later_success_and_jobs_leave_when_done() {
        let mut exports = Exports::default();
        let png = exports.add(Job::Png {
            crop: Crop::Timeline,
            path: PathBuf::from("a.png"),
            stage: PngStage::Pending,
        });
        let csv = exports.add(Job::Written);
        exports.status = Some(Status::Exporting);
        assert!(exports.capturing() && exports.busy());
        assert_eq!(
            exports.message(Lang::Zh),
            Some((S::Exporting.text(Lang::Zh).into(), false))
        );
        exports.finish(csv, Err("cannot write a.csv: disk full".into()));
        // The PNG is still to be taken: the caption stays drawn.
        assert!(exports.capturing() && exports.busy());
        exports.finish(png, Ok("timeline saved to a.png".into()));
        assert!(!exports.busy() && !exports.capturing());
        assert_eq!(
            exports.message(Lang::En),
            Some(("Cannot write a.csv: disk full".into(), true))
        );
    }

    #[test]
    fn successes_are_joined_in_the_order_they_finish() {
        let mut exports = Exports::default();
        let csv = exports.add(Job::Written);
        exports.status = Some(Status::Exporting);
        exports.finish(csv, Ok("10 samples saved to a.csv".into()));
        exports.finish(99, Ok("timeline saved to a.png".into()));
        assert_eq!(
            exports.message(Lang::En),
            Some((
                "10 samples saved to a.csv; timeline saved to a.png".into(),
                false
            ))
        );
    }
}
