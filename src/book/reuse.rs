//! Chapter files that an earlier load read, handed to the next load (`serve` keeps one across
//! rebuilds): a chapter whose file is unchanged on disk is not opened, read, checked and expanded
//! again, so a save costs one `stat` per other chapter rather than reading the whole book.
//!
//! "Unchanged" is the file's identity and stamps as `stat` reports them (device, inode, size,
//! modification and status-change times): any write, truncation, rename over it or change of what a
//! link points to changes one of them. A chapter's `{{#include}}`d files are stamped too (after
//! they were read: one written since is too recent to keep, see [`RACY`]), and the chapter is
//! reused only while every one of them is unchanged, so an included file's edit is never missed
//! (the Rust book includes a listing in most chapters: reading them all again cost a save 40 ms).
//! Only chapters whose expansion reported nothing are kept, so every diagnostic is reported by
//! the load that finds it.

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
    /// The files its expansion included (relative to the book root) and their stamps.
    includes: Vec<(PathBuf, Stamp)>,
    /// The include budget its expansion spent: (bytes, includes).
    spent: (u64, u64),
    texts: Option<Texts>,
}

/// What a chapter's expansion read besides the chapter: the files, with their stamps taken after
/// reading, and the include budget spent.
pub(super) struct Included {
    pub files: Vec<(PathBuf, Option<Stamp>)>,
    pub spent: (u64, u64),
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
    /// How many chapters the last load took from the cache rather than read.
    reused: usize,
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

    /// The chapter `source` as an earlier load read and expanded it, if its file still has `stamp`,
    /// every file it included is unchanged under `root`, and the book it went into was handed
    /// back. Its texts move to the caller; its includes count against this load's budget.
    pub(super) fn take(
        &mut self,
        root: &Path,
        source: &Path,
        stamp: Option<Stamp>,
    ) -> Option<(String, Expanded)> {
        let entry = self.chapters.get_mut(source)?;
        if stamp != Some(entry.stamp)
            || (entry.includes.iter()).any(|(path, was)| Stamp::of(&root.join(path)) != Some(*was))
        {
            return None;
        }
        let texts = entry.texts.take()?;
        super::fs::spend_include_budget(entry.spent.0, entry.spent.1);
        self.used.push(source.to_path_buf());
        self.reused += 1;
        Some((texts.raw, texts.expanded))
    }

    /// Notes a chapter just read, under the stamp its file had before it was read (a write during
    /// the read shows as a change next time), with what its expansion `included`; its texts come
    /// back with the book. Only a chapter whose expansion reported nothing is given here.
    pub(super) fn note(&mut self, source: &Path, stamp: Option<Stamp>, included: Included) {
        if !self.keeping {
            return;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let settled = |stamp: Option<Stamp>| {
            stamp.filter(|s| {
                let modified = std::time::Duration::new(
                    s.modified.0.max(0) as u64,
                    s.modified.1.clamp(0, 999_999_999) as u32,
                );
                now.saturating_sub(modified) >= RACY
            })
        };
        let includes: Option<Vec<(PathBuf, Stamp)>> = (included.files.into_iter())
            .map(|(path, stamp)| Some((path, settled(stamp)?)))
            .collect();
        let (Some(stamp), Some(includes)) = (settled(stamp), includes) else {
            self.chapters.remove(source);
            return;
        };
        self.used.push(source.to_path_buf());
        let entry = Entry {
            stamp,
            includes,
            spent: included.spent,
            texts: None,
        };
        self.chapters.insert(source.to_path_buf(), entry);
    }

    /// How many chapters the last load took from the cache rather than read.
    pub fn reused(&self) -> usize {
        self.reused
    }

    /// Starts a load.
    pub(super) fn begin(&mut self) {
        self.reused = 0;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write_aged(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        let then = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        file.set_modified(then).unwrap();
    }

    fn text_of(book: &crate::book::Book, source: &str) -> String {
        let chapter = book.chapters.iter().find(|c| c.source == Path::new(source));
        chapter.expect("the chapter").text.clone()
    }

    #[test]
    fn a_chapter_with_includes_is_reused_until_an_included_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_aged(root, "book.toml", "[book]\ntitle = \"T\"\n");
        write_aged(root, "src/SUMMARY.md", "- [A](a.md)\n- [B](b.md)\n");
        write_aged(root, "src/a.md", "# A\n\nPlain.\n");
        write_aged(root, "src/b.md", "# B\n\n{{#include part.txt}}\n");
        write_aged(root, "src/part.txt", "{{#include inner.txt}}, first.\n");
        write_aged(root, "src/inner.txt", "Nested");
        let mut cache = ReadCache::keeping();
        let book = crate::book::load_reusing(root, &mut cache).unwrap();
        assert_eq!(cache.reused(), 0);
        assert!(text_of(&book, "src/b.md").contains("Nested, first."));
        cache.recycle(book);
        let book = crate::book::load_reusing(root, &mut cache).unwrap();
        assert_eq!(cache.reused(), 2, "both chapters are taken from the cache");
        assert!(text_of(&book, "src/b.md").contains("Nested, first."));
        // The budget counts the reused chapter's includes (two files) as if read.
        assert_eq!(crate::book::fs::include_budget_spent().1, 2);
        cache.recycle(book);
        // A nested include changes: the chapter that includes it is read again.
        write_aged(root, "src/inner.txt", "Changed");
        let book = crate::book::load_reusing(root, &mut cache).unwrap();
        assert_eq!(cache.reused(), 1);
        assert!(text_of(&book, "src/b.md").contains("Changed, first."));
        cache.recycle(book);
        // An included file removed: read again, and reported.
        std::fs::remove_file(root.join("src/part.txt")).unwrap();
        let book = crate::book::load_reusing(root, &mut cache).unwrap();
        assert_eq!(cache.reused(), 1);
        assert!(
            !book.diagnostics.is_empty(),
            "a missing include is reported"
        );
    }
}
