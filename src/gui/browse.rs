//! Browse… beside the Open field: a folder's recordings (CSV files) and
//! subfolders in a window of the app's own, so choosing a recording needs
//! neither a typed path nor a desktop's file dialog (a classroom machine,
//! Xvfb and the tests have none).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use eframe::egui::{self, RichText};

use super::theme::Palette;
use crate::export::png::utc_stamp;
use crate::i18n::{Lang, S};
use crate::lab::units::format_bytes;

/// One row of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Folder(String),
    Recording {
        name: String,
        bytes: u64,
        modified: Option<u64>,
        /// A `.json` summary beside it gives the run's settings.
        summary: bool,
    },
}

/// The folder shown and what it holds, read when the folder is entered
/// (never every frame).
#[derive(Default)]
pub struct BrowseWindow {
    pub open: bool,
    folder: PathBuf,
    entries: Vec<Entry>,
    error: Option<String>,
}

/// Reads `folder`: its subfolders, then its CSV files, each sorted by name
/// (hidden entries left out).
fn list(folder: &Path) -> std::io::Result<Vec<Entry>> {
    let mut folders = Vec::new();
    let mut recordings = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // Follows links: a link to a folder is a folder.
        let Ok(meta) = std::fs::metadata(entry.path()) else {
            continue;
        };
        if meta.is_dir() {
            folders.push(name);
        } else if Path::new(&name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            let summary = entry.path().with_extension("json").is_file();
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map(|d| d.as_secs());
            recordings.push((
                name.clone(),
                Entry::Recording {
                    name,
                    bytes: meta.len(),
                    modified,
                    summary,
                },
            ));
        }
    }
    folders.sort();
    recordings.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(folders
        .into_iter()
        .map(Entry::Folder)
        .chain(recordings.into_iter().map(|(_, entry)| entry))
        .collect())
}

impl BrowseWindow {
    /// Opens (or closes) the window on `folder`.
    pub fn toggle(&mut self, folder: &Path) {
        self.open = !self.open;
        if self.open {
            self.enter(folder.to_path_buf());
        }
    }

    fn enter(&mut self, folder: PathBuf) {
        let folder = std::path::absolute(&folder).unwrap_or(folder);
        match list(&folder) {
            Ok(entries) => {
                self.entries = entries;
                self.error = None;
            }
            Err(error) => {
                self.entries.clear();
                self.error = Some(error.kind().to_string());
            }
        }
        self.folder = folder;
    }

    /// Draws the window; returns the recording picked.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        exports: &Path,
        palette: &Palette,
        lang: Lang,
    ) -> Option<PathBuf> {
        let mut open = self.open;
        let mut picked = None;
        let mut enter = None;
        egui::Window::new(S::BrowseTitle.text(lang))
            .open(&mut open)
            .constrain_to(super::floating::area(ctx))
            .default_width(460.0)
            .show(ctx, |ui| {
                ui.label(RichText::new(self.folder.display().to_string()).strong());
                ui.horizontal(|ui| {
                    if let Some(parent) = self.folder.parent()
                        && ui.button(S::BrowseUp.text(lang)).clicked()
                    {
                        enter = Some(parent.to_path_buf());
                    }
                    if ui.button(S::BrowseExports.text(lang)).clicked() {
                        enter = Some(exports.to_path_buf());
                    }
                    if let Some(home) = std::env::var_os("HOME")
                        && ui.button(S::BrowseHome.text(lang)).clicked()
                    {
                        enter = Some(PathBuf::from(home));
                    }
                });
                ui.separator();
                if let Some(error) = &self.error {
                    ui.label(
                        RichText::new(S::BrowseError.fill(lang, &[&self.folder.display(), error]))
                            .color(palette.alarm),
                    );
                } else if self.entries.is_empty() {
                    ui.label(RichText::new(S::BrowseEmpty.text(lang)).color(palette.weak_text));
                }
                egui::ScrollArea::vertical()
                    .max_height(360.0)
                    .auto_shrink([false, true])
                    .show(ui, |ui| {
                        for entry in &self.entries {
                            match entry {
                                Entry::Folder(name) => {
                                    if ui.button(format!("{name}/")).clicked() {
                                        enter = Some(self.folder.join(name));
                                    }
                                }
                                Entry::Recording {
                                    name,
                                    bytes,
                                    modified,
                                    summary,
                                } => {
                                    ui.horizontal(|ui| {
                                        if ui.button(name).clicked() {
                                            picked = Some(self.folder.join(name));
                                        }
                                        let mut note = format_bytes(*bytes);
                                        if let Some(secs) = modified {
                                            note += " · ";
                                            note += &utc_stamp(*secs).1;
                                        }
                                        if *summary {
                                            note += " · ";
                                            note += S::BrowseSummary.text(lang);
                                        }
                                        ui.label(
                                            RichText::new(note).small().color(palette.weak_text),
                                        );
                                    });
                                }
                            }
                        }
                    });
            });
        if let Some(folder) = enter {
            self.enter(folder);
        }
        self.open = open && picked.is_none();
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_lists_its_subfolders_then_its_csv_files_with_their_summaries() {
        let dir = std::env::temp_dir().join(format!("sockscope-browse-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("lessons")).unwrap();
        std::fs::create_dir_all(dir.join(".hidden")).unwrap();
        std::fs::write(dir.join("b.csv"), "t_ms\n").unwrap();
        std::fs::write(dir.join("a.CSV"), "").unwrap();
        std::fs::write(dir.join("b.json"), "{}").unwrap();
        std::fs::write(dir.join("notes.txt"), "").unwrap();
        let entries = list(&dir).unwrap();
        let shown: Vec<(String, bool)> = entries
            .iter()
            .map(|e| match e {
                Entry::Folder(name) => (format!("{name}/"), false),
                Entry::Recording { name, summary, .. } => (name.clone(), *summary),
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("lessons/".to_string(), false),
                ("a.CSV".to_string(), false),
                ("b.csv".to_string(), true),
            ]
        );
        assert!(matches!(entries[2], Entry::Recording { bytes: 5, .. }));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
