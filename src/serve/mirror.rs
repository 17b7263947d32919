//! Keeps the output folder equal to the site being served, touching only what changed.
//!
//! `build` replaces the whole output folder at once; `serve` rewrites it after every save, so it
//! writes only the files whose bytes changed (each through a temporary file and a rename, so a
//! reader never sees half a page) and deletes the ones the new build no longer has. Unchanged files
//! keep their modification time, which keeps other tools watching the folder quiet.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::output::{MARKER, WriteError, is_safe_relative};
use crate::render::Site;

/// What a mirror pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub written: usize,
    pub removed: usize,
}

/// Refuses a destination that `build` would refuse (see [`crate::output::check_destination`]).
pub fn check_destination(dest: &Path, protected: &[PathBuf]) -> Result<(), WriteError> {
    crate::output::check_destination(dest, protected).map(drop)
}

/// Brings `dest` from `old` (what it holds now; `None` when unknown, and then the disk is compared)
/// to `new`.
pub fn sync(dest: &Path, old: Option<&Site>, new: &Site) -> Result<Stats, WriteError> {
    for path in new.files.keys() {
        if !is_safe_relative(path) {
            return Err(WriteError::PathEscapes(path.clone()));
        }
    }
    std::fs::create_dir_all(dest).map_err(|e| WriteError::Io(dest.to_path_buf(), e))?;
    if !dest.join(MARKER).is_file() {
        crate::output::write_marker(dest)?;
    }
    let mut stats = Stats::default();
    for (path, bytes) in &new.files {
        let unchanged = match old {
            Some(old) => old.files.get(path) == Some(bytes),
            None => std::fs::read(dest.join(path)).is_ok_and(|b| b == **bytes),
        };
        if !unchanged {
            write_file(dest, path, bytes)?;
            stats.written += 1;
        }
    }
    let stale: Vec<String> = match old {
        Some(old) => old
            .files
            .keys()
            .filter(|p| !new.files.contains_key(*p))
            .cloned()
            .collect(),
        None => files_on_disk(dest)
            .into_iter()
            .filter(|p| p != MARKER && !new.files.contains_key(p))
            .collect(),
    };
    for path in stale {
        if !is_safe_relative(&path) {
            continue;
        }
        let full = dest.join(&path);
        match std::fs::remove_file(&full) {
            Ok(()) => stats.removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(WriteError::Io(full, e)),
        }
        prune_empty_parents(dest, &full);
    }
    Ok(stats)
}

/// Writes one file under `dest` through a temporary sibling and a rename. Refuses to go through a
/// symbolic link inside the output folder, which could lead out of it.
fn write_file(dest: &Path, rel: &str, bytes: &[u8]) -> Result<(), WriteError> {
    let full = dest.join(rel);
    let mut dir = dest.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len() - 1] {
        dir.push(part);
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(WriteError::PathEscapes(rel.to_string()));
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                // A file where a folder must go (the previous build had `x`, this one `x/y`).
                std::fs::remove_file(&dir).map_err(|e| WriteError::Io(dir.clone(), e))?;
                std::fs::create_dir(&dir).map_err(|e| WriteError::Io(dir.clone(), e))?;
            }
            Err(_) => std::fs::create_dir(&dir).map_err(|e| WriteError::Io(dir.clone(), e))?,
        }
    }
    if std::fs::symlink_metadata(&full).is_ok_and(|m| m.is_dir()) {
        std::fs::remove_dir_all(&full).map_err(|e| WriteError::Io(full.clone(), e))?;
    }
    let name = parts[parts.len() - 1];
    let tmp = dir.join(format!(".{name}.calcbook-tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| WriteError::Io(tmp.clone(), e))?;
    std::fs::rename(&tmp, &full).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        WriteError::Io(full.clone(), e)
    })
}

/// Every file under `dest`, as `/`-separated relative paths (symbolic links not followed).
fn files_on_disk(dest: &Path) -> BTreeSet<String> {
    WalkDir::new(dest)
        .follow_links(false)
        .into_iter()
        .flatten()
        .filter(|e| !e.file_type().is_dir())
        .filter_map(|e| {
            let rel = e.path().strip_prefix(dest).ok()?;
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_str().map(str::to_string))
                .collect::<Option<_>>()?;
            Some(parts.join("/"))
        })
        .collect()
}

fn prune_empty_parents(dest: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == dest || !d.starts_with(dest) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mtime(p: &Path) -> std::time::SystemTime {
        std::fs::metadata(p).unwrap().modified().unwrap()
    }

    #[test]
    fn writes_only_what_changed_and_removes_what_went() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        let mut one = Site::default();
        one.add("a.html", "a");
        one.add("sub/b.html", "b");
        one.add("sub/deep/c.html", "c");
        assert_eq!(
            sync(&dest, None, &one).unwrap(),
            Stats {
                written: 3,
                removed: 0
            }
        );
        let a_time = mtime(&dest.join("a.html"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut two = one.clone();
        two.add("sub/b.html", "b2");
        two.files.remove("sub/deep/c.html");
        assert_eq!(
            sync(&dest, Some(&one), &two).unwrap(),
            Stats {
                written: 1,
                removed: 1
            }
        );
        assert_eq!(
            std::fs::read_to_string(dest.join("sub/b.html")).unwrap(),
            "b2"
        );
        assert_eq!(mtime(&dest.join("a.html")), a_time, "a.html was rewritten");
        assert!(!dest.join("sub/deep").exists(), "empty folder left behind");
        // Against the disk: a stray file goes, equal files stay.
        std::fs::write(dest.join("stray.html"), "x").unwrap();
        assert_eq!(
            sync(&dest, None, &two).unwrap(),
            Stats {
                written: 0,
                removed: 1
            }
        );
        // No temporary files are left; the marker stays.
        assert_eq!(files_on_disk(&dest).len(), 3);
        assert!(dest.join(MARKER).is_file());
    }

    #[test]
    fn refuses_the_book_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_destination(dir.path(), &[dir.path().join("src")]).is_err());
        assert!(check_destination(&dir.path().join("book"), &[dir.path().join("src")]).is_ok());
    }
}
