//! Writing a rendered site to disk, atomically and never destructively.
//!
//! The site is written into a fresh staging folder beside the destination ([`Staging`], which
//! `build` hands each file to as soon as it is rendered), then swapped in with one atomic step (Linux: `renameat2(RENAME_EXCHANGE)`; elsewhere two renames, with recovery at the
//! next build if a kill falls between them), so a failed or interrupted build never leaves a
//! half-written book or none at all: a staging folder that is not committed is removed. What
//! killed builds left beside the destination is removed by the next build.
//!
//! Nothing that calcbook did not write is ever replaced: the destination may not be or contain the
//! book's folders, nor lie inside its source, data or templates folders, nor be a file; and an
//! existing folder is replaced only if it holds calcbook's [`MARKER`] file (or is empty).

use std::collections::HashSet;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::render::{Site, SiteSink};

/// The file calcbook writes into every output folder; a folder without it is not replaced.
pub const MARKER: &str = ".calcbook-output";

const MARKER_TEXT: &str = "This folder is written by calcbook; the next build replaces it whole.\n";

/// Why the site could not be written.
#[derive(Debug)]
pub enum WriteError {
    /// The destination would overwrite the book itself (`--dest-dir .`).
    UnsafeDestination(PathBuf),
    /// The destination lies inside the book's source, data or templates folder.
    InsideSources(PathBuf),
    /// The destination exists and is not a folder (`--dest-dir book.toml`).
    NotAFolder(PathBuf),
    /// The destination is a folder calcbook did not write.
    NotOurs(PathBuf),
    /// A site path that would land outside the output folder (a bug upstream if it happens).
    PathEscapes(String),
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::UnsafeDestination(p) => write!(
                f,
                "refusing to write the book into {}: it holds the book's sources",
                p.display()
            ),
            WriteError::InsideSources(p) => write!(
                f,
                "refusing to write the book into {}: it is inside the book's source, data or templates folder",
                p.display()
            ),
            WriteError::NotAFolder(p) => write!(
                f,
                "refusing to write the book into {}: it is a file, not a folder",
                p.display()
            ),
            WriteError::NotOurs(p) => write!(
                f,
                "refusing to replace {}: it is not empty and calcbook did not write it (no {MARKER} file); \
                 move it away or choose another --dest-dir / [build] build-dir",
                p.display()
            ),
            WriteError::PathEscapes(p) => write!(f, "output path `{p}` leaves the output folder"),
            WriteError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for WriteError {}

/// A relative, `/`-separated path with no `..`, root or prefix components.
pub fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Checks that `dest` may receive the book and returns it as an absolute path. `protected` are the
/// book's own folders, its root first, then its source, data and templates folders: the
/// destination may be none of them nor contain any, and may not lie inside any but the root.
pub fn check_destination(dest: &Path, protected: &[PathBuf]) -> Result<PathBuf, WriteError> {
    let dest = absolute(dest);
    let protected: Vec<PathBuf> = protected.iter().map(|p| absolute(p)).collect();
    if protected.iter().any(|p| p.starts_with(&dest)) {
        return Err(WriteError::UnsafeDestination(dest));
    }
    let root = protected.first();
    if protected
        .iter()
        .any(|p| Some(p) != root && dest.starts_with(p))
    {
        return Err(WriteError::InsideSources(dest));
    }
    match std::fs::symlink_metadata(&dest) {
        Err(_) => Ok(dest),
        Ok(m) if !m.is_dir() => Err(WriteError::NotAFolder(dest)),
        Ok(_) if written_by_calcbook(&dest) => Ok(dest),
        Ok(_) => Err(WriteError::NotOurs(dest)),
    }
}

/// Whether the folder `dir` may be replaced: it holds the marker, is empty, or is the output of a
/// calcbook from before the marker (its stylesheet and start page, and nothing else at the top
/// beyond what calcbook writes there).
fn written_by_calcbook(dir: &Path) -> bool {
    if dir.join(MARKER).is_file() {
        return true;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.is_empty()
        || (dir.join("assets/calcbook.css").is_file()
            && dir.join("index.html").is_file()
            && dir.join("searchindex.js").is_file())
}

/// Writes `site` to `dest`, replacing what was there only once the new book is complete.
/// `protected` are the book's own folders, as [`check_destination`] takes them.
pub fn write_site(site: &Site, dest: &Path, protected: &[PathBuf]) -> Result<(), WriteError> {
    if let Some(path) = site.files.keys().find(|p| !is_safe_relative(p)) {
        return Err(WriteError::PathEscapes(path.clone()));
    }
    let staging = Staging::begin(dest, protected)?;
    for (path, bytes) in &site.files {
        staging.put(path, Arc::clone(bytes));
    }
    staging.commit()
}

/// A new book being written beside its destination, file by file and from any thread, then
/// swapped in whole by [`Staging::commit`]. Dropped without a commit (the book had errors, the
/// build failed or panicked), it is removed and the destination is left as it was.
pub struct Staging {
    dest: PathBuf,
    /// The folder being written: `.NAME.calcbook-new-PID` beside the destination.
    dir: PathBuf,
    /// Where the fallback swap parks the previous book: `.NAME.calcbook-old-PID`.
    old: PathBuf,
    /// Folders made so far, so that a page in a known folder costs no `mkdir`.
    folders: Mutex<HashSet<PathBuf>>,
    /// The first write that failed; the others are not attempted and the commit fails with it.
    failed: Mutex<Option<WriteError>>,
    committed: bool,
}

impl Staging {
    /// Checks that `dest` may receive the book (`protected` are the book's own folders, as
    /// [`check_destination`] takes them) and makes the empty staging folder beside it.
    pub fn begin(dest: &Path, protected: &[PathBuf]) -> Result<Staging, WriteError> {
        let parent_of = |dest: &Path| {
            dest.parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."))
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "book".into());
        // A kill between the two renames of the fallback swap leaves no destination but the old
        // book beside it: put it back before anything is checked.
        recover_leftovers(&parent_of(&absolute(dest)), &name, &absolute(dest));
        let dest = check_destination(dest, protected)?;
        let parent = parent_of(&dest);
        std::fs::create_dir_all(&parent).map_err(|e| WriteError::Io(parent.clone(), e))?;
        let pid = std::process::id();
        let dir = parent.join(format!(".{name}.calcbook-new-{pid}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).map_err(|e| WriteError::Io(dir.clone(), e))?;
        Ok(Staging {
            old: parent.join(format!(".{name}.calcbook-old-{pid}")),
            folders: Mutex::new(HashSet::from([dir.clone()])),
            dir,
            dest,
            failed: Mutex::default(),
            committed: false,
        })
    }

    /// The folder the book is being written into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one file into the staging folder; a failure is kept for [`Staging::commit`].
    fn write(&self, path: &str, bytes: &[u8]) -> Result<(), WriteError> {
        if !is_safe_relative(path) {
            return Err(WriteError::PathEscapes(path.to_string()));
        }
        let full = self.dir.join(path);
        if let Some(parent) = full.parent() {
            let known = |folders: &Mutex<HashSet<PathBuf>>| {
                let folders = folders.lock().unwrap_or_else(PoisonError::into_inner);
                folders.contains(parent)
            };
            if !known(&self.folders) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| WriteError::Io(parent.to_path_buf(), e))?;
                let mut folders = self.folders.lock().unwrap_or_else(PoisonError::into_inner);
                folders.insert(parent.to_path_buf());
            }
        }
        std::fs::write(&full, bytes).map_err(|e| WriteError::Io(full, e))
    }

    /// Swaps the new book in, if every file was written; otherwise removes it and says why.
    pub fn commit(mut self) -> Result<(), WriteError> {
        let failed = self
            .failed
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = failed.take() {
            return Err(e);
        }
        write_marker(&self.dir)?;
        swap_in(&self.dir, &self.dest, &self.old)?;
        self.committed = true;
        Ok(())
    }
}

impl SiteSink for Staging {
    fn put(&self, path: &str, bytes: Arc<Vec<u8>>) {
        let failed = || self.failed.lock().unwrap_or_else(PoisonError::into_inner);
        if failed().is_some() {
            return;
        }
        if let Err(e) = self.write(path, &bytes) {
            failed().get_or_insert(e);
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Marks `dir` as calcbook's output.
pub fn write_marker(dir: &Path) -> Result<(), WriteError> {
    let marker = dir.join(MARKER);
    std::fs::write(&marker, MARKER_TEXT).map_err(|e| WriteError::Io(marker, e))
}

fn swap_in(new: &Path, dest: &Path, old: &Path) -> Result<(), WriteError> {
    fault_point("before-swap");
    if !dest.exists() {
        return std::fs::rename(new, dest).map_err(|e| WriteError::Io(dest.to_path_buf(), e));
    }
    if !forced_fallback() && exchange(new, dest).is_ok() {
        // `new` now holds the previous book.
        fault_point("after-swap");
        let _ = std::fs::remove_dir_all(new);
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(old);
    std::fs::rename(dest, old).map_err(|e| WriteError::Io(dest.to_path_buf(), e))?;
    fault_point("mid-swap");
    if let Err(e) = std::fs::rename(new, dest) {
        // Put the previous book back rather than leave nothing.
        let _ = std::fs::rename(old, dest);
        return Err(WriteError::Io(dest.to_path_buf(), e));
    }
    let _ = std::fs::remove_dir_all(old);
    Ok(())
}

/// Swaps two paths in one step (both must exist).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both pointers are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Removes what builds killed before they finished left beside `dest` (`.NAME.calcbook-new-PID`,
/// `.NAME.calcbook-old-PID` of processes that are gone); an old book whose replacement never
/// arrived goes back to `dest` first.
fn recover_leftovers(parent: &Path, name: &str, dest: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let prefix = format!(".{name}.calcbook-");
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let Some((kind, pid)) = rest.split_once('-') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        let path = entry.path();
        if kind == "old" && !dest.exists() && std::fs::rename(&path, dest).is_ok() {
            continue;
        }
        if kind == "old" || kind == "new" {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    // Without a cheap check, assume another build may still be running: leave its folders.
    true
}

/// Fault injection for tests of killed builds: in debug builds, `CALCBOOK_FAULT=POINT` aborts
/// the process at that point of the swap (`before-swap`, `after-swap`, `mid-swap`), as a kill
/// would.
fn fault_point(point: &str) {
    if cfg!(debug_assertions)
        && std::env::var("CALCBOOK_FAULT").is_ok_and(|v| v.split(',').any(|p| p == point))
    {
        std::process::abort();
    }
}

/// In debug builds, `CALCBOOK_FAULT=fallback` takes the two-rename path even where the atomic
/// exchange works, so that its recovery can be tested on Linux.
fn forced_fallback() -> bool {
    cfg!(debug_assertions)
        && std::env::var("CALCBOOK_FAULT").is_ok_and(|v| v.split(',').any(|p| p == "fallback"))
}

/// An absolute, lexically normalised path (the destination may not exist yet, so no canonicalize
/// for it; the existing prefix is canonicalized to see through symbolic links).
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    // Resolve symlinks in the longest existing prefix.
    let mut existing = out.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return out,
        }
    }
    let mut resolved = existing.canonicalize().unwrap_or(existing);
    for name in rest.into_iter().rev() {
        resolved.push(name);
    }
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_paths() {
        assert!(is_safe_relative("a/b.html"));
        assert!(!is_safe_relative("../x"));
        assert!(!is_safe_relative("/etc/x"));
        assert!(!is_safe_relative("a/../../x"));
        assert!(!is_safe_relative(""));
    }

    #[test]
    fn replaces_previous_output_whole() {
        let dir = tempfile::tempdir().unwrap();
        let book = dir.path().join("bk");
        std::fs::create_dir(&book).unwrap();
        let dest = dir.path().join("out");
        let mut site = Site::default();
        site.add("a.html", "one");
        site.add("sub/b.html", "two");
        write_site(&site, &dest, std::slice::from_ref(&book)).unwrap();
        let mut site2 = Site::default();
        site2.add("c.html", "three");
        write_site(&site2, &dest, std::slice::from_ref(&book)).unwrap();
        assert!(!dest.join("a.html").exists());
        assert_eq!(
            std::fs::read_to_string(dest.join("c.html")).unwrap(),
            "three"
        );
        // No temporary folders are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("calcbook"))
            .collect();
        assert!(leftovers.is_empty());
    }

    /// A book already built at `out` (its `a.html` says "old"), and a staging folder begun over it.
    fn staging_over_an_old_book() -> (tempfile::TempDir, PathBuf, Staging) {
        let dir = tempfile::tempdir().unwrap();
        let book = dir.path().join("bk");
        let dest = dir.path().join("out");
        let mut site = Site::default();
        site.add("a.html", "old");
        write_site(&site, &dest, std::slice::from_ref(&book)).unwrap();
        let staging = Staging::begin(&dest, std::slice::from_ref(&book)).unwrap();
        (dir, dest, staging)
    }

    /// Every entry beside `dest` whose name says calcbook made it (staging or parked folders).
    fn leftovers(parent: &Path) -> Vec<String> {
        std::fs::read_dir(parent)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains("calcbook-"))
            .collect()
    }

    #[test]
    fn staging_dropped_without_a_commit_is_removed_and_the_old_book_kept() {
        let (dir, dest, staging) = staging_over_an_old_book();
        staging.put("a.html", Arc::new(b"new".to_vec()));
        staging.put("sub/b.html", Arc::new(b"new".to_vec()));
        assert!(staging.dir().join("sub/b.html").is_file());
        drop(staging);
        assert_eq!(std::fs::read_to_string(dest.join("a.html")).unwrap(), "old");
        assert!(!dest.join("sub").exists());
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_failed_write_fails_the_commit_and_keeps_the_old_book() {
        let (dir, dest, staging) = staging_over_an_old_book();
        staging.put("a.html", Arc::new(b"new".to_vec()));
        staging.put("../escape.html", Arc::new(b"x".to_vec()));
        staging.put("c.html", Arc::new(b"new".to_vec()));
        assert!(
            matches!(staging.commit(), Err(WriteError::PathEscapes(p)) if p == "../escape.html")
        );
        assert_eq!(std::fs::read_to_string(dest.join("a.html")).unwrap(), "old");
        assert!(!dir.path().join("escape.html").exists());
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn refuses_to_overwrite_the_book() {
        let dir = tempfile::tempdir().unwrap();
        let site = Site::default();
        assert!(matches!(
            write_site(&site, dir.path(), &[dir.path().join("sub")]),
            Err(WriteError::UnsafeDestination(_))
        ));
        assert!(matches!(
            write_site(&site, &dir.path().join("src"), &[dir.path().join("src")]),
            Err(WriteError::UnsafeDestination(_))
        ));
    }
}
