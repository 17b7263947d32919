//! Reads that stay inside the book.
//!
//! Every file calcbook reads for a book (book.toml, SUMMARY.md, chapters, includes, data files,
//! templates, static files) goes through [`read_bytes`] or [`read_text`], which:
//! - resolve the path through symbolic links and refuse one that lands outside the folder of
//!   book.toml (an absolute include, `../../etc/passwd`, a symlinked chapter or folder);
//! - read only regular files: a FIFO, a device (`/dev/zero`) or a folder is an error, never a hang
//!   (the file is opened non-blocking and checked before a byte is read);
//! - stop at a size limit per file ([`Limits::max_file_bytes`]), and count the bytes and number of
//!   includes against per-build totals, so a fan-out of includes cannot read gigabytes;
//! - give text with one kind of line ending: a leading BOM is dropped and CRLF or a lone CR become
//!   LF, so a file saved on any system gives the same book.
//!
//! The include budget lives in a thread-local set by [`begin`] at the start of each load: the
//! include expander reads through [`read_included`] without carrying the budget in its signature.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Size limits for one build of a book (book.toml `[calcbook] max-file-bytes`,
/// `max-included-bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Total bytes all `{{#include}}` directives of the book may read.
    pub max_included_bytes: u64,
    /// Number of include directives the book may expand, nested ones included.
    pub max_includes: u64,
}

pub const DEFAULT_LIMITS: Limits = Limits {
    max_file_bytes: 32 << 20,
    max_included_bytes: 64 << 20,
    max_includes: 10_000,
};

impl Default for Limits {
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}

thread_local! {
    static LIMITS: Cell<Limits> = const { Cell::new(DEFAULT_LIMITS) };
    /// (bytes included so far, includes expanded so far) in the current build.
    static INCLUDED: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    /// The files included so far in the current build, relative to the book root, in order.
    static INCLUDED_FILES: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
}

/// Starts a build: sets the limits and empties the include budget.
pub fn begin(limits: Limits) {
    LIMITS.with(|l| l.set(limits));
    INCLUDED.with(|c| c.set((0, 0)));
    INCLUDED_FILES.with(|f| f.borrow_mut().clear());
}

/// The include budget spent so far in the current build: (bytes, includes).
pub fn include_budget_spent() -> (u64, u64) {
    INCLUDED.with(Cell::get)
}

/// Counts against the current build's include budget the includes of a chapter that an earlier
/// load expanded and this one reuses without reading them again.
pub fn spend_include_budget(bytes: u64, includes: u64) {
    INCLUDED.with(|c| {
        let (b, n) = c.get();
        c.set((b + bytes, n + includes));
    });
}

/// How many files have been included so far in the current build.
pub fn included_file_count() -> usize {
    INCLUDED_FILES.with(|f| f.borrow().len())
}

/// The files included since [`included_file_count`] was `mark`, relative to the book root.
pub fn included_files_since(mark: usize) -> Vec<PathBuf> {
    INCLUDED_FILES.with(|f| {
        f.borrow()
            .get(mark..)
            .map(<[PathBuf]>::to_vec)
            .unwrap_or_default()
    })
}

/// The limits of the current build.
pub fn limits() -> Limits {
    LIMITS.with(Cell::get)
}

/// Why a file of the book could not be read.
#[derive(Debug)]
pub enum ReadError {
    NotFound,
    /// The path, once symbolic links are followed, is outside the book's folder.
    Outside,
    /// Not a regular file (a folder, FIFO, socket or device).
    NotAFile(&'static str),
    TooLarge {
        limit: u64,
    },
    /// The build's include budget is spent.
    IncludeBudget(String),
    NotUtf8 {
        valid_up_to: usize,
        lossy: String,
    },
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => write!(f, "no such file"),
            ReadError::Outside => write!(
                f,
                "it leads outside the book's folder (the folder of book.toml)"
            ),
            ReadError::NotAFile(kind) => write!(f, "it is {kind}, not a regular file"),
            ReadError::TooLarge { limit } => write!(
                f,
                "it is larger than {limit} bytes (raise `max-file-bytes` under [calcbook] in book.toml)"
            ),
            ReadError::IncludeBudget(what) => write!(f, "{what}"),
            ReadError::NotUtf8 { .. } => write!(f, "it is not valid UTF-8"),
            ReadError::Io(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                write!(f, "permission denied")
            }
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// `root/rel` resolved through symbolic links, if it exists and lies inside `root`.
pub fn resolve(root: &Path, rel: &Path) -> Result<PathBuf, ReadError> {
    let root = root.canonicalize().map_err(ReadError::Io)?;
    let full = root.join(rel).canonicalize().map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => ReadError::NotFound,
        _ => ReadError::Io(e),
    })?;
    if full.starts_with(&root) {
        Ok(full)
    } else {
        Err(ReadError::Outside)
    }
}

/// Whether the folder `rel` (which need not exist) stays inside `root` once links are followed.
pub fn dir_is_inside(root: &Path, rel: &Path) -> bool {
    match resolve(root, rel) {
        Ok(_) => true,
        Err(ReadError::NotFound) => {
            // A missing folder is harmless unless its path climbs out lexically.
            crate::book::is_contained(rel) || rel.as_os_str().is_empty() || rel == Path::new(".")
        }
        Err(_) => false,
    }
}

/// The bytes of the regular file `root/rel`, which must stay inside `root`, up to `limit` bytes.
pub fn read_bytes(root: &Path, rel: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let path = resolve(root, rel)?;
    let file = open_regular(&path)?;
    let len = file.metadata().map_err(ReadError::Io)?.len();
    if len > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // `take` guards against a file that grows while it is read.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// As [`read_bytes`] with the build's per-file limit, as text with normalized line endings.
pub fn read_text(root: &Path, rel: &Path) -> Result<String, ReadError> {
    let bytes = read_bytes(root, rel, limits().max_file_bytes)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(normalize_newlines(text)),
        Err(e) => {
            let valid_up_to = e.utf8_error().valid_up_to();
            let lossy = normalize_newlines(String::from_utf8_lossy(e.as_bytes()).into_owned());
            Err(ReadError::NotUtf8 { valid_up_to, lossy })
        }
    }
}

/// Reads a file for an `{{#include}}`, counting it against the build's include budget.
pub fn read_included(root: &Path, rel: &Path) -> Result<String, ReadError> {
    let limits = limits();
    let (bytes_so_far, count) = INCLUDED.with(Cell::get);
    if count >= limits.max_includes {
        return Err(ReadError::IncludeBudget(format!(
            "the book expands more than {} includes (nested ones counted)",
            limits.max_includes
        )));
    }
    let left = limits.max_included_bytes.saturating_sub(bytes_so_far);
    let text = read_text(root, rel).map_err(|e| match e {
        ReadError::TooLarge { .. } if left < limits.max_file_bytes => budget_spent(limits),
        e => e,
    })?;
    let total = bytes_so_far + text.len() as u64;
    INCLUDED.with(|c| c.set((total, count + 1)));
    INCLUDED_FILES.with(|f| f.borrow_mut().push(rel.to_path_buf()));
    if total > limits.max_included_bytes {
        return Err(budget_spent(limits));
    }
    Ok(text)
}

fn budget_spent(limits: Limits) -> ReadError {
    ReadError::IncludeBudget(format!(
        "the book's includes add up to more than {} bytes (raise `max-included-bytes` under [calcbook] in book.toml)",
        limits.max_included_bytes
    ))
}

/// Opens `path` without blocking (a FIFO with no writer would wait forever) and checks that it
/// is a regular file before anything is read.
fn open_regular(path: &Path) -> Result<std::fs::File, ReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    {
        let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
        if !meta.is_file() {
            return Err(ReadError::NotAFile(kind_of(&meta)));
        }
    }
    let file = options.open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile(kind_of(&meta)));
    }
    Ok(file)
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

/// Drops a leading byte-order mark and turns CRLF and lone CR into LF.
pub fn normalize_newlines(text: String) -> String {
    let stripped = text.strip_prefix('\u{feff}');
    if stripped.is_none() && !text.contains('\r') {
        return text;
    }
    let body = stripped.unwrap_or(&text);
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_and_bom_normalize_to_lf() {
        assert_eq!(normalize_newlines("a\r\nb\rc\n".into()), "a\nb\nc\n");
        assert_eq!(normalize_newlines("\u{feff}x\r".into()), "x\n");
        assert_eq!(normalize_newlines("plain\n".into()), "plain\n");
    }

    #[test]
    fn reads_stay_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let book = dir.path().join("book");
        std::fs::create_dir(&book).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "s").unwrap();
        std::fs::write(book.join("ok.md"), "ok").unwrap();
        assert_eq!(read_text(&book, Path::new("ok.md")).unwrap(), "ok");
        assert!(matches!(
            read_text(&book, Path::new("../secret.txt")),
            Err(ReadError::Outside)
        ));
        let abs = dir.path().join("secret.txt");
        assert!(matches!(read_text(&book, &abs), Err(ReadError::Outside)));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.txt"), book.join("l.md")).unwrap();
            assert!(matches!(
                read_text(&book, Path::new("l.md")),
                Err(ReadError::Outside)
            ));
        }
    }

    #[test]
    fn size_limit_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big"), vec![b'a'; 100]).unwrap();
        assert!(matches!(
            read_bytes(dir.path(), Path::new("big"), 99),
            Err(ReadError::TooLarge { limit: 99 })
        ));
        assert_eq!(
            read_bytes(dir.path(), Path::new("big"), 100).unwrap().len(),
            100
        );
    }
}
