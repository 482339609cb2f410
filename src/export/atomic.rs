//! An output file that is written as an unnamed file in the target's folder
//! and put in place only when complete, so an interrupted, failed or killed
//! run never leaves a half-written file behind, nor a temporary one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter};
use std::os::unix::fs::OpenOptionsExt;
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
    match error.raw_os_error() {
        Some(libc::ENAMETOOLONG) => {
            return format!("its name is longer than the {NAME_MAX} bytes a file name may have");
        }
        Some(libc::EPERM) => return "the system does not permit it".into(),
        _ => {}
    }
    if error
        .get_ref()
        .is_some_and(|inner| inner.is::<ForeignFileInStickyFolder>())
    {
        return "another user's file in a sticky folder such as /tmp, which only its owner may replace".into();
    }
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

/// Where the bytes wait until the file is complete.
#[derive(Debug)]
enum Temp {
    /// An unnamed file in the target's folder (`O_TMPFILE`): nothing is
    /// left behind however the process ends, even by `kill -9`.
    Unnamed,
    /// A named temporary file beside the target, where the file system has
    /// no unnamed ones; removed on drop.
    Named(PathBuf),
}

#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: Temp,
    writer: Option<BufWriter<File>>,
}

/// The longest file name Linux file systems take (NAME_MAX).
const NAME_MAX: usize = 255;

/// A short name beside the target: the rename stays within one file
/// system, and a long target name still leaves room for it.
fn temp_name(target: &Path) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    target.with_file_name(format!(
        ".sockscope-{}-{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Relaxed)
    ))
}

/// Why a rename onto `target` would fail when the run is over, found now:
/// a name too long for the file system, or another user's file in a
/// sticky folder such as /tmp (only its owner may replace it).
#[derive(Debug, thiserror::Error)]
#[error("another user's file in a sticky folder")]
struct ForeignFileInStickyFolder;

fn replace_refused(target: &Path, folder: &Path) -> Option<io::Error> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let name = target.file_name()?;
    if name.as_bytes().len() > NAME_MAX {
        return Some(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    let existing = fs::symlink_metadata(target).ok()?;
    let dir = fs::metadata(folder).ok()?;
    let me = nix::unistd::geteuid().as_raw();
    let sticky = dir.mode() & libc::S_ISVTX != 0;
    (sticky && me != 0 && existing.uid() != me && dir.uid() != me)
        .then(|| io::Error::new(io::ErrorKind::PermissionDenied, ForeignFileInStickyFolder))
}

impl AtomicFile {
    /// Checks that `target` can be written, and makes its temporary file
    /// now, before any work is done.
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
        let folder = match target.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder.to_owned(),
            _ => PathBuf::from("."),
        };
        if let Some(refused) = replace_refused(target, &folder) {
            return Err(not_writable(refused));
        }
        let unnamed = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_TMPFILE)
            .mode(0o666)
            .open(&folder);
        let (file, temp) = match unnamed {
            Ok(file) => (file, Temp::Unnamed),
            // A file system without unnamed files (some network and FUSE
            // ones), or a kernel before 3.11: a named one instead.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR)) => {
                let temp = temp_name(target);
                let file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&temp)
                    .map_err(not_writable)?;
                (file, Temp::Named(temp))
            }
            Err(e) => return Err(not_writable(e)),
        };
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

    /// A second descriptor of the file, for a writer that must own one (an
    /// encoder); write through one or the other, not both.
    pub fn file_handle(&mut self) -> io::Result<File> {
        self.writer().get_ref().try_clone()
    }

    /// Flushes and puts the file in place. On failure nothing is left and
    /// the target is as it was.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        let writer = self.writer.take().expect("commit once");
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        match &self.temp {
            Temp::Named(temp) => {
                let renamed = fs::rename(temp, &self.target);
                if renamed.is_err() {
                    let _ = fs::remove_file(temp);
                }
                renamed?;
            }
            Temp::Unnamed => {
                // An unnamed file can only be linked to a new name, so it
                // gets a short one first and is renamed over the target
                // (which may exist): the target is never half-written.
                let temp = temp_name(&self.target);
                link_unnamed(&file, &temp)?;
                let renamed = fs::rename(&temp, &self.target);
                if renamed.is_err() {
                    let _ = fs::remove_file(&temp);
                }
                renamed?;
            }
        }
        Ok(self.target.clone())
    }
}

/// Gives an unnamed file a name: through /proc (any user), or by its
/// descriptor where /proc is missing (needs CAP_DAC_READ_SEARCH).
fn link_unnamed(file: &File, name: &Path) -> io::Result<()> {
    use nix::fcntl::{AT_FDCWD, AtFlags};
    use std::os::fd::AsRawFd;
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    nix::unistd::linkat(
        AT_FDCWD,
        proc_path.as_str(),
        AT_FDCWD,
        name,
        AtFlags::AT_SYMLINK_FOLLOW,
    )
    .or_else(|_| nix::unistd::linkat(file, "", AT_FDCWD, name, AtFlags::AT_EMPTY_PATH))
    .map_err(io::Error::from)
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // An unnamed file goes with its descriptor.
        if self.writer.take().is_some()
            && let Temp::Named(temp) = &self.temp
        {
            let _ = fs::remove_file(temp);
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
    fn a_killed_writer_leaves_no_file_behind() {
        let dir = scratch("killed");
        let target = dir.join("out.csv");
        let mut file = AtomicFile::create(&target).unwrap();
        file.writer().write_all(&[b'x'; 100_000]).unwrap();
        file.writer().flush().unwrap();
        // What `kill -9` does: no destructor runs. (The descriptor leaks
        // until this test process ends; the unnamed file goes with it.)
        std::mem::forget(file);
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            0,
            "the bytes written live in an unnamed file until commit"
        );
    }

    #[test]
    fn replaces_an_existing_file_whole() {
        let dir = scratch("replace");
        let target = dir.join("out.json");
        fs::write(&target, "old").unwrap();
        let mut file = AtomicFile::create(&target).unwrap();
        file.writer().write_all(b"new").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "old");
        file.commit().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn refuses_a_name_too_long_before_anything_is_written() {
        let dir = scratch("long");
        let long = dir.join(format!("{}.csv", "x".repeat(300)));
        let refused = AtomicFile::create(&long).unwrap_err();
        assert!(
            refused.to_string().contains("longer than the 255 bytes"),
            "{refused}"
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
