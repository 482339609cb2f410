//! An output file that is written under a temporary name in the same folder
//! and renamed into place only when complete, so an interrupted or failed
//! run never leaves a half-written file behind.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum OutputPathError {
    #[error("'{0}' is a folder; give a file path such as {0}/run.csv")]
    IsFolder(String),
    #[error("'{0}' exists and is not a regular file; give the path of a new or regular file")]
    NotRegular(String),
    #[error("cannot write '{path}' ({}); give a file path in an existing, writable folder", reason(path, .source))]
    NotWritable {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// The error in words, without the "(os error N)" tail.
fn reason(path: &str, error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => match Path::new(path).parent() {
            Some(folder) if folder.as_os_str().is_empty() || folder.is_dir() => {
                "its folder does not accept new files".into()
            }
            _ => "its folder does not exist".into(),
        },
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::AlreadyExists => "a temporary file of the same name is in the way".into(),
        io::ErrorKind::ReadOnlyFilesystem => "the file system is read-only".into(),
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(cut) => text[..cut].to_string(),
                None => text,
            }
        }
    }
}

#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Checks that `target` can be written by creating its temporary file now,
    /// before any work is done.
    pub fn create(target: &Path) -> Result<Self, OutputPathError> {
        let shown = target.display().to_string();
        // "out/" names a folder even when it does not exist yet.
        if target.is_dir() || shown.ends_with('/') || target.file_name().is_none() {
            return Err(OutputPathError::IsFolder(
                shown.trim_end_matches('/').to_string(),
            ));
        }
        // Renaming over a device, FIFO or symlink would replace it (as root,
        // even /dev/null): only new paths and regular files are accepted.
        if let Ok(meta) = fs::symlink_metadata(target)
            && !meta.file_type().is_file()
        {
            return Err(OutputPathError::NotRegular(shown));
        }
        let not_writable = |source| OutputPathError::NotWritable {
            path: shown.clone(),
            source,
        };
        // A short name beside the target: the rename stays within one file
        // system, and a long target name still leaves room for it.
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let temp = target.with_file_name(format!(
            ".sockscope-{}-{}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Relaxed)
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(not_writable)?;
        Ok(AtomicFile {
            target: target.to_owned(),
            temp,
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.target
    }

    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer
            .as_mut()
            .expect("writer is present until commit")
    }

    /// Flushes and renames the file into place. On failure the temporary
    /// file is removed and the target is left as it was.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        let writer = self.writer.take().expect("commit once");
        let result = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|file| file.sync_all())
            .and_then(|()| fs::rename(&self.temp, &self.target));
        if result.is_err() {
            let _ = fs::remove_file(&self.temp);
        }
        result.map(|()| self.target.clone())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sockscope-atomic-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn appears_only_on_commit() {
        let dir = scratch("commit");
        let target = dir.join("out.csv");
        let mut file = AtomicFile::create(&target).unwrap();
        file.writer().write_all(b"a,b\n").unwrap();
        assert!(!target.exists());
        file.commit().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "a,b\n");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn dropped_leaves_nothing() {
        let dir = scratch("drop");
        let target = dir.join("out.json");
        let mut file = AtomicFile::create(&target).unwrap();
        file.writer().write_all(b"{").unwrap();
        drop(file);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[test]
    fn refuses_trailing_slashes_and_special_files() {
        let dir = scratch("special");
        let slash = format!("{}/new/", dir.display());
        assert!(matches!(
            AtomicFile::create(Path::new(&slash)),
            Err(OutputPathError::IsFolder(_))
        ));
        let link = dir.join("link.csv");
        std::os::unix::fs::symlink(dir.join("real.csv"), &link).unwrap();
        assert!(matches!(
            AtomicFile::create(&link),
            Err(OutputPathError::NotRegular(_))
        ));
        assert!(matches!(
            AtomicFile::create(Path::new("/dev/null")),
            Err(OutputPathError::NotRegular(_))
        ));
        let long = dir.join("x".repeat(250));
        AtomicFile::create(&long).unwrap().commit().unwrap();
        assert!(
            long.exists(),
            "a long name still fits beside its temporary file"
        );
    }

    #[test]
    fn refuses_folders_and_missing_folders() {
        let dir = scratch("refuse");
        assert!(matches!(
            AtomicFile::create(&dir),
            Err(OutputPathError::IsFolder(_))
        ));
        let missing = dir.join("no/such/folder/out.csv");
        assert!(matches!(
            AtomicFile::create(&missing),
            Err(OutputPathError::NotWritable { .. })
        ));
    }
}
