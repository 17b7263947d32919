//! Chapter files that an earlier load read, handed to the next load (`serve` keeps one across
//! rebuilds): a chapter whose file is unchanged on disk is not opened, read, checked and expanded
//! again, so a save costs one `stat` per other chapter rather than reading the whole book.
//!
//! "Unchanged" is the file's identity and stamps as `stat` reports them (device, inode, size,
//! modification and status-change times): any write, truncation, rename over it or change of what a
//! link points to changes one of them. Only chapters whose expansion read no other file and reported
//! nothing are kept, so an `{{#include}}`d file's edit is never missed and every diagnostic is
//! reported by the load that finds it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::include::Expanded;

/// What identifies one version of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    device: u64,
    inode: u64,
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Stamp {
    /// The stamp of the file at `path` (links followed), if it is a regular file.
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(Stamp {
                device: meta.dev(),
                inode: meta.ino(),
                len: meta.len(),
                modified: (meta.mtime(), meta.mtime_nsec()),
                changed: (meta.ctime(), meta.ctime_nsec()),
            })
        }
        #[cfg(not(unix))]
        {
            let since = |t: std::io::Result<std::time::SystemTime>| {
                t.ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or((0, 0), |d| {
                        (d.as_secs() as i64, i64::from(d.subsec_nanos()))
                    })
            };
            Some(Stamp {
                device: 0,
                inode: 0,
                len: meta.len(),
                modified: since(meta.modified()),
                changed: since(meta.created()),
            })
        }
    }
}

/// A chapter as the last load read it: its file's stamp then and, once the book was handed back
/// ([`ReadCache::recycle`]), its texts, moved rather than copied.
struct Entry {
    stamp: Stamp,
    texts: Option<Texts>,
}

struct Texts {
    /// The file as written.
    raw: String,
    expanded: Expanded,
}

/// Chapter files kept from earlier loads, by path relative to the book root. The default one keeps
/// nothing (a single build has no use for it); [`ReadCache::keeping`] does.
#[derive(Default)]
pub struct ReadCache {
    keeping: bool,
    chapters: HashMap<PathBuf, Entry>,
    /// The chapters the load under way used, so that files gone from the book are forgotten.
    used: Vec<PathBuf>,
}

/// A file modified this recently may be written again within the same tick of the file system's
/// clock without its stamp changing (as Git's "racy" entries): it is read again next time.
const RACY: std::time::Duration = std::time::Duration::from_millis(100);

impl ReadCache {
    /// A cache that keeps the chapters read, for the loads that follow.
    pub fn keeping() -> ReadCache {
        ReadCache {
            keeping: true,
            ..ReadCache::default()
        }
    }

    /// The stamp of the chapter file `source`, taken before it is read.
    pub(super) fn stamp(root: &Path, source: &Path) -> Option<Stamp> {
        Stamp::of(&root.join(source))
    }

    /// The chapter `source` as an earlier load read and expanded it, if its file still has `stamp`
    /// and the book it went into was handed back. Its texts move to the caller.
    pub(super) fn take(
        &mut self,
        source: &Path,
        stamp: Option<Stamp>,
    ) -> Option<(String, Expanded)> {
        let entry = self.chapters.get_mut(source)?;
        if stamp != Some(entry.stamp) {
            return None;
        }
        let texts = entry.texts.take()?;
        self.used.push(source.to_path_buf());
        Some((texts.raw, texts.expanded))
    }

    /// Notes a chapter just read, under the stamp its file had before it was read (a write during
    /// the read shows as a change next time); its texts come back with the book. Only a chapter
    /// whose expansion read no other file and reported nothing is given here.
    pub(super) fn note(&mut self, source: &Path, stamp: Option<Stamp>) {
        if !self.keeping {
            return;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let settled = stamp.is_some_and(|s| {
            let modified = std::time::Duration::new(
                s.modified.0.max(0) as u64,
                s.modified.1.clamp(0, 999_999_999) as u32,
            );
            now.saturating_sub(modified) >= RACY
        });
        let Some(stamp) = stamp.filter(|_| settled) else {
            self.chapters.remove(source);
            return;
        };
        self.used.push(source.to_path_buf());
        self.chapters
            .insert(source.to_path_buf(), Entry { stamp, texts: None });
    }

    /// Ends a load: chapters it did not use are forgotten.
    pub(super) fn finish(&mut self) {
        let used: std::collections::HashSet<PathBuf> = self.used.drain(..).collect();
        self.chapters.retain(|path, _| used.contains(path));
    }

    /// Takes back the texts of the chapters this cache noted or handed out, from the book that was
    /// loaded with it, once the book is done with.
    pub fn recycle(&mut self, mut book: super::Book) {
        for chapter in book.chapters {
            let Some(entry) = self.chapters.get_mut(&chapter.source) else {
                continue;
            };
            let Some(raw) = book.sources.take(&chapter.source) else {
                continue;
            };
            entry.texts = Some(Texts {
                raw,
                expanded: Expanded {
                    text: chapter.text,
                    map: chapter.map,
                    diagnostics: Vec::new(),
                    title: chapter.page_title,
                },
            });
        }
    }
}
