//! Where a running `sockscope run` lists its link, so that `sockscope run
//! --join` in another terminal finds it: a file per link name in a folder
//! only its user may enter (`$XDG_RUNTIME_DIR/sockscope`, or
//! `/tmp/sockscope-UID`), holding the process whose namespaces are the
//! link's. A listing is believed only if that process is alive, is the
//! same user's and still holds a network namespace: another user's link,
//! or one that ended without removing its file (`kill -9`), is not found.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The name of a link run without `--name`.
pub const DEFAULT_NAME: &str = "link";

#[derive(Debug, thiserror::Error)]
pub enum RendezvousError {
    #[error(
        "no sockscope run named '{0}' is running for this user; start one first with: sockscope run -- COMMAND"
    )]
    NotRunning(String),
    #[error("a link named '{0}' is already running (process {1}); give another --name")]
    Taken(String, u32),
    #[error("the folder {0} is not this user's alone, so links are not listed there; remove it")]
    Unsafe(PathBuf),
    #[error("could not list the link in {0}: {1}")]
    Io(PathBuf, #[source] io::Error),
}

/// A link name: 1 to 32 letters, digits, - or _, starting with a letter
/// or digit (so it never reads as a flag).
pub fn check_name(text: &str) -> Option<&str> {
    let ok = text
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && text.len() <= 32
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(text)
}

fn uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// The folder of this user's listings, made private if missing; refused
/// if someone else could write there.
fn folder() -> Result<PathBuf, RendezvousError> {
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|dir| {
            std::fs::metadata(dir).is_ok_and(|meta| meta.is_dir() && meta.uid() == uid())
        });
    let dir = match runtime {
        Some(runtime) => runtime.join("sockscope"),
        None => std::env::temp_dir().join(format!("sockscope-{}", uid())),
    };
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(RendezvousError::Io(dir, e)),
    }
    let meta = std::fs::symlink_metadata(&dir).map_err(|e| RendezvousError::Io(dir.clone(), e))?;
    if !meta.is_dir() || meta.uid() != uid() || meta.permissions().mode() & 0o077 != 0 {
        return Err(RendezvousError::Unsafe(dir));
    }
    Ok(dir)
}

fn listing(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.pid"))
}

/// The process a listing names, if it is alive, this user's, and in a
/// network namespace of its own (not this process's).
fn live(file: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(file).ok()?.trim().parse().ok()?;
    let proc = PathBuf::from(format!("/proc/{pid}"));
    if std::fs::metadata(&proc).ok()?.uid() != uid() {
        return None;
    }
    let theirs = std::fs::metadata(proc.join("ns/net")).ok()?.ino();
    let ours = std::fs::metadata("/proc/self/ns/net").ok()?.ino();
    (theirs != ours).then_some(pid)
}

/// The process of the running link `name`.
pub fn find(name: &str) -> Result<u32, RendezvousError> {
    let dir = folder()?;
    live(&listing(&dir, name)).ok_or_else(|| RendezvousError::NotRunning(name.to_string()))
}

/// A link listed under its name while this lives.
#[derive(Debug)]
pub struct Listing {
    file: PathBuf,
}

impl Listing {
    pub fn new(name: &str, pid: u32) -> Result<Listing, RendezvousError> {
        let dir = folder()?;
        let file = listing(&dir, name);
        if let Some(running) = live(&file) {
            return Err(RendezvousError::Taken(name.to_string(), running));
        }
        // Written whole under another name, then renamed over a stale one.
        let part = dir.join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&part, format!("{pid}\n"))
            .and_then(|()| std::fs::rename(&part, &file))
            .map_err(|e| RendezvousError::Io(file.clone(), e))?;
        Ok(Listing { file })
    }
}

impl Drop for Listing {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_name_is_short_and_plain() {
        assert_eq!(check_name("lesson-1_b"), Some("lesson-1_b"));
        for bad in ["", "a/b", "..", "x y", "-1", "_a", &"n".repeat(33), "名字"] {
            assert_eq!(check_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_listing_of_a_process_in_this_namespace_is_not_a_link() {
        let dir = std::env::temp_dir().join(format!("sockscope-rv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("x.pid");
        // This process shares the machine's namespace: not a link.
        std::fs::write(&file, format!("{}\n", std::process::id())).unwrap();
        assert_eq!(live(&file), None);
        // A process that is gone.
        std::fs::write(&file, "4194304\n").unwrap();
        assert_eq!(live(&file), None);
        std::fs::write(&file, "nonsense").unwrap();
        assert_eq!(live(&file), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
