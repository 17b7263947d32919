//! Writing a rendered [`Site`] to disk, atomically.
//!
//! The site is written into a fresh temporary folder beside the destination, then swapped in with
//! renames, so a failed or interrupted build never leaves a half-written book: the destination holds
//! either the previous book or the new one. Every output path is checked to stay inside the output
//! folder. The destination may not be (or contain) the book's own folder.

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::render::Site;

/// Why the site could not be written.
#[derive(Debug)]
pub enum WriteError {
    /// The destination would overwrite the book itself (`--dest-dir .`).
    UnsafeDestination(PathBuf),
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

/// Writes `site` to `dest`, replacing what was there only once the new book is complete.
/// `protected` are the book's own folders (its root, sources, data, templates): the destination may
/// be none of them nor contain any.
pub fn write_site(site: &Site, dest: &Path, protected: &[PathBuf]) -> Result<(), WriteError> {
    let dest = absolute(dest);
    if protected.iter().any(|p| absolute(p).starts_with(&dest)) {
        return Err(WriteError::UnsafeDestination(dest));
    }
    for path in site.files.keys() {
        if !is_safe_relative(path) {
            return Err(WriteError::PathEscapes(path.clone()));
        }
    }
    let parent = dest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "book".into());
    std::fs::create_dir_all(&parent).map_err(|e| WriteError::Io(parent.clone(), e))?;
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.calcbook-new-{pid}"));
    let old = parent.join(format!(".{name}.calcbook-old-{pid}"));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = write_tree(site, &tmp).and_then(|()| swap_in(&tmp, &dest, &old));
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn write_tree(site: &Site, dir: &Path) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir).map_err(|e| WriteError::Io(dir.to_path_buf(), e))?;
    for (path, bytes) in &site.files {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| WriteError::Io(parent.to_path_buf(), e))?;
        }
        std::fs::write(&full, bytes.as_slice()).map_err(|e| WriteError::Io(full.clone(), e))?;
    }
    Ok(())
}

fn swap_in(new: &Path, dest: &Path, old: &Path) -> Result<(), WriteError> {
    if dest.exists() {
        let _ = std::fs::remove_dir_all(old);
        std::fs::rename(dest, old).map_err(|e| WriteError::Io(dest.to_path_buf(), e))?;
        if let Err(e) = std::fs::rename(new, dest) {
            // Put the previous book back rather than leave nothing.
            let _ = std::fs::rename(old, dest);
            return Err(WriteError::Io(dest.to_path_buf(), e));
        }
        let _ = std::fs::remove_dir_all(old);
    } else {
        std::fs::rename(new, dest).map_err(|e| WriteError::Io(dest.to_path_buf(), e))?;
    }
    Ok(())
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
