//! Watching a book's files and turning bursts of file-system events into single rebuilds.
//!
//! Folders are watched, not files: an editor that saves by writing a temporary file and renaming it
//! over the chapter replaces the file (and its inode), which a watch on the file would lose. The
//! book root is watched on its own (not recursively: it may hold `target/` or `.git/`), for
//! `book.toml` and for the source, data and templates folders appearing; those three are watched
//! recursively.
//!
//! Events that cannot change the book are dropped: `Access` (on Linux, reading a file reports
//! `Access(Open)`, so a watcher that reacted to it would rebuild forever on its own reads, which is
//! how mdBook's native watcher loops), anything under the output folder, hidden files and editors'
//! swap, backup and temporary files (`.x.swp`, `x~`, `.#x`, `#x#`, Vim's `4913` probe, JetBrains'
//! `x___jb_tmp___`, Kate's `x.kate-swp`). A temporary file under another name that is renamed over a
//! chapter starts a rebuild with it, but the log names only the chapter.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, MetadataKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

/// What the rebuild loop waits for.
pub enum Message {
    Fs(notify::Result<notify::Event>),
    /// Ctrl-C.
    Stop,
}

/// The folders and files of a book that a change may concern, as absolute paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub root: PathBuf,
    /// Watched recursively: the source folder, data and templates.
    pub folders: Vec<PathBuf>,
    /// Ignored entirely: the output folder.
    pub output: PathBuf,
}

impl Scope {
    /// Whether a change to `path` may change the book.
    pub fn concerns(&self, path: &Path) -> bool {
        if path.starts_with(&self.output) {
            return false;
        }
        let Ok(rel) = path.strip_prefix(&self.root) else {
            return false;
        };
        let mut names = rel.iter();
        let Some(first) = names.next() else {
            // The root itself (deleted, or re-created).
            return true;
        };
        if rel.iter().any(is_ignored_name) {
            return false;
        }
        if names.next().is_none() && (first == "book.toml" || self.is_folder(path)) {
            return true;
        }
        self.folders.iter().any(|f| path.starts_with(f))
    }

    fn is_folder(&self, path: &Path) -> bool {
        self.folders.iter().any(|f| f == path)
    }
}

/// Editor droppings and hidden files.
pub fn is_ignored_name(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.')
        || name.ends_with('~')
        || (name.starts_with('#') && name.ends_with('#'))
        || name == "4913"
        || [
            ".swp",
            ".swx",
            ".swo",
            ".tmp",
            ".bak",
            ".kate-swp",
            ".crswap",
            "___jb_tmp___",
            "___jb_old___",
        ]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Whether an event may change the book.
pub fn is_relevant(event: &notify::Event, scope: &Scope) -> bool {
    if event.need_rescan() {
        return true;
    }
    match event.kind {
        // A close after writing ends a save (see [`next_burst`]); every other access is a read,
        // the watcher's own among them.
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => {}
        EventKind::Access(_) => return false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => return false,
        _ => {}
    }
    event.paths.iter().any(|p| scope.concerns(p))
}

/// The watcher and the set of folders it watches, kept in step with the book's configuration.
pub struct Watch {
    watcher: RecommendedWatcher,
    watched: BTreeMap<PathBuf, RecursiveMode>,
}

impl Watch {
    pub fn new(tx: Sender<Message>) -> notify::Result<Watch> {
        let watcher = notify::recommended_watcher(move |res| {
            let _ = tx.send(Message::Fs(res));
        })?;
        Ok(Watch {
            watcher,
            watched: BTreeMap::new(),
        })
    }

    /// Watches the scope's folders that exist and stops watching those that left it. A folder that
    /// does not exist yet is picked up when the root reports it created.
    pub fn follow(&mut self, scope: &Scope) {
        let mut wanted = BTreeMap::new();
        wanted.insert(scope.root.clone(), RecursiveMode::NonRecursive);
        for f in &scope.folders {
            if f.is_dir() && !f.starts_with(&scope.output) {
                wanted.insert(f.clone(), RecursiveMode::Recursive);
            }
        }
        let stale: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|(p, m)| wanted.get(*p) != Some(*m) || !p.is_dir())
            .map(|(p, _)| p.clone())
            .collect();
        for p in stale {
            let _ = self.watcher.unwatch(&p);
            self.watched.remove(&p);
        }
        for (p, mode) in wanted {
            if !self.watched.contains_key(&p) && self.watcher.watch(&p, mode).is_ok() {
                self.watched.insert(p, mode);
            }
        }
    }

    /// Forgets a watched folder that was removed (its watch died with it), so that [`follow`]
    /// watches it again once it is back.
    ///
    /// [`follow`]: Watch::follow
    pub fn forget_removed(&mut self, event: &notify::Event) {
        if matches!(
            event.kind,
            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
        ) {
            for p in &event.paths {
                if self.watched.contains_key(p) && !p.is_dir() {
                    self.watched.remove(p);
                }
            }
        }
    }
}

/// What one burst of events amounted to.
#[derive(Debug, Default)]
pub struct Burst {
    /// The relevant paths that changed, in order, without repeats.
    pub paths: Vec<PathBuf>,
    pub stop: bool,
    /// When the burst's first relevant event arrived.
    pub first: Option<Instant>,
}

/// How long a burst waits for more events once every file written in it was closed (or renamed
/// into place): long enough for the rest of the same save (an editor removing its backup, `sed -i`
/// renaming its temporary file), short enough not to count.
pub const SETTLE: Duration = Duration::from_millis(2);

/// Whether an event ends a write: the writer closed the file, or renamed a finished file into
/// place, or removed it.
fn completes_write(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Modify(ModifyKind::Name(_))
            | EventKind::Remove(_)
    )
}

/// Whether an event starts or continues a write that a close will end.
fn opens_write(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any)
            | EventKind::Create(CreateKind::File)
    )
}

/// Waits for the next relevant event, then keeps collecting until the save is over, so that a
/// save that truncates then writes, or a `git checkout` of many files, becomes one rebuild. A save
/// is over [`SETTLE`] after every file written in it was closed or renamed into place (inotify
/// reports closes, so a save is picked up within a few ms); a write with no close seen (other
/// platforms, a writer that keeps the file open) ends after `quiet` without events; a burst that
/// keeps going is cut after `longest`. `on_event` sees every event (to follow removed folders).
pub fn next_burst(
    rx: &Receiver<Message>,
    scope: &Scope,
    quiet: Duration,
    longest: Duration,
    mut on_event: impl FnMut(&notify::Event),
) -> Burst {
    let mut burst = Burst::default();
    let mut last = Instant::now();
    // Files written in this burst and not yet closed.
    let mut open: Vec<PathBuf> = Vec::new();
    loop {
        let msg = match burst.first {
            None => match rx.recv() {
                Ok(m) => m,
                Err(_) => {
                    burst.stop = true;
                    return burst;
                }
            },
            Some(first) => {
                let now = Instant::now();
                let gap = if open.is_empty() { SETTLE } else { quiet };
                let wait = gap
                    .saturating_sub(now - last)
                    .min(longest.saturating_sub(now - first));
                if wait.is_zero() {
                    return burst;
                }
                match rx.recv_timeout(wait) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => return burst,
                    Err(RecvTimeoutError::Disconnected) => {
                        burst.stop = true;
                        return burst;
                    }
                }
            }
        };
        match msg {
            Message::Stop => {
                burst.stop = true;
                return burst;
            }
            Message::Fs(Err(_)) => {
                // The watcher lost track (e.g. an overflowing queue): rebuild to be safe.
                burst.first.get_or_insert_with(Instant::now);
                last = Instant::now();
            }
            Message::Fs(Ok(event)) => {
                on_event(&event);
                let closes = completes_write(&event.kind);
                if closes {
                    open.retain(|p| !event.paths.contains(p));
                }
                // A close matters only to a burst under way; on its own it changed nothing.
                if !is_relevant(&event, scope)
                    || (closes
                        && burst.first.is_none()
                        && matches!(event.kind, EventKind::Access(_)))
                {
                    continue;
                }
                for p in &event.paths {
                    if !scope.concerns(p) {
                        continue;
                    }
                    if opens_write(&event.kind) && !open.contains(p) {
                        open.push(p.clone());
                    }
                    if !burst.paths.contains(p) {
                        burst.paths.push(p.clone());
                    }
                }
                burst.first.get_or_insert_with(Instant::now);
                last = Instant::now();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, RenameMode};

    fn scope() -> Scope {
        Scope {
            root: "/b".into(),
            folders: vec!["/b/src".into(), "/b/data".into(), "/b/templates".into()],
            output: "/b/book".into(),
        }
    }

    fn event(kind: EventKind, path: &str) -> notify::Event {
        notify::Event::new(kind).add_path(path.into())
    }

    #[test]
    fn chapter_saves_are_relevant() {
        let s = scope();
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        assert!(is_relevant(&event(write, "/b/src/ch1.md"), &s));
        assert!(is_relevant(&event(write, "/b/book.toml"), &s));
        assert!(is_relevant(&event(write, "/b/data/gpu.yaml"), &s));
        let renamed = EventKind::Modify(ModifyKind::Name(RenameMode::To));
        assert!(is_relevant(&event(renamed, "/b/src/ch1.md"), &s));
        let created = EventKind::Create(CreateKind::Folder);
        assert!(is_relevant(&event(created, "/b/data"), &s));
    }

    #[test]
    fn own_reads_output_and_editor_files_are_not() {
        let s = scope();
        let open = EventKind::Access(AccessKind::Open(AccessMode::Any));
        assert!(!is_relevant(&event(open, "/b/src/ch1.md"), &s));
        let close = EventKind::Access(AccessKind::Close(AccessMode::Read));
        assert!(!is_relevant(&event(close, "/b/src/ch1.md"), &s));
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        for p in [
            "/b/book/ch1.html",
            "/b/src/.ch1.md.swp",
            "/b/src/ch1.md~",
            "/b/src/.#ch1.md",
            "/b/src/#ch1.md#",
            "/b/src/4913",
            "/b/target/debug/x",
            "/b/.book.calcbook-new-1",
            "/b/README.md",
            "/elsewhere/x.md",
        ] {
            assert!(!is_relevant(&event(write, p), &s), "{p}");
        }
    }

    /// Runs `next_burst` with an hour-long quiet period on `events`, and returns its burst if it
    /// ended (within a generous deadline) without waiting for that quiet.
    fn burst_without_quiet(events: Vec<notify::Event>) -> Option<Burst> {
        let (tx, rx) = std::sync::mpsc::channel();
        for e in events {
            tx.send(Message::Fs(Ok(e))).unwrap();
        }
        let hour = Duration::from_secs(3600);
        let handle = std::thread::spawn(move || next_burst(&rx, &scope(), hour, hour, |_| {}));
        let deadline = Instant::now() + Duration::from_secs(30);
        while !handle.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        // The sender stays alive until here: a closed channel would end the burst by itself.
        let finished = handle.is_finished().then(|| handle.join().unwrap());
        drop(tx);
        finished
    }

    #[test]
    fn a_save_ends_its_burst_once_the_file_is_closed_or_renamed_into_place() {
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        let close = EventKind::Access(AccessKind::Close(AccessMode::Write));
        let burst = burst_without_quiet(vec![
            event(write, "/b/src/a.md"),
            event(write, "/b/src/a.md"),
            event(close, "/b/src/a.md"),
        ])
        .expect("the burst waited for quiet after the file was closed");
        assert_eq!(burst.paths, vec![PathBuf::from("/b/src/a.md")]);

        let renamed = EventKind::Modify(ModifyKind::Name(RenameMode::Both));
        let rename = notify::Event::new(renamed)
            .add_path("/b/src/.a.md.tmp".into())
            .add_path("/b/src/a.md".into());
        let burst = burst_without_quiet(vec![
            event(EventKind::Create(CreateKind::File), "/b/src/.a.md.tmp"),
            event(write, "/b/src/.a.md.tmp"),
            event(close, "/b/src/.a.md.tmp"),
            rename,
        ])
        .expect("the burst waited for quiet after the rename");
        // The temporary file is never named.
        assert_eq!(burst.paths, vec![PathBuf::from("/b/src/a.md")]);
    }

    #[test]
    fn bursts_collapse_into_one() {
        let (tx, rx) = std::sync::mpsc::channel();
        let s = scope();
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        tx.send(Message::Fs(Ok(event(write, "/b/src/a.md"))))
            .unwrap();
        tx.send(Message::Fs(Ok(event(write, "/b/src/a.md"))))
            .unwrap();
        tx.send(Message::Fs(Ok(event(write, "/b/src/b.md"))))
            .unwrap();
        let burst = next_burst(
            &rx,
            &s,
            Duration::from_millis(5),
            Duration::from_secs(1),
            |_| {},
        );
        assert_eq!(
            burst.paths,
            vec![PathBuf::from("/b/src/a.md"), PathBuf::from("/b/src/b.md")]
        );
        tx.send(Message::Stop).unwrap();
        assert!(next_burst(&rx, &s, Duration::ZERO, Duration::ZERO, |_| {}).stop);
    }
}
