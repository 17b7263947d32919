//! Loading a book from disk: `book.toml`, `SUMMARY.md`, the chapter files (includes expanded) and
//! the static files beside them. This is the only stage that reads the source folder; everything
//! after it works on the [`Book`] in memory.

pub mod config;
pub mod fs;
pub mod html_config;
pub mod include;
pub mod reuse;
pub mod summary;

use crate::diagnostic::Code;
use std::collections::{BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};

use walkdir::WalkDir;

pub use config::Config;
pub use include::SpanMap;
pub use summary::{Link, Summary, SummaryItem};

use crate::diagnostic::{Diagnostic, Sources};

/// A chapter ready for the notebook and render stages.
#[derive(Debug, Clone)]
pub struct Chapter {
    pub title: String,
    /// Section number text ("1.2.") or "" for unnumbered chapters.
    pub number: String,
    /// The chapter file relative to the book root (how diagnostics name it).
    pub source: PathBuf,
    /// The chapter file relative to the source folder.
    pub src_rel: PathBuf,
    /// Output page, relative to the output root, with `/` separators (`part/intro.html`).
    pub out_path: String,
    /// The text after include expansion.
    pub text: String,
    /// Maps offsets in `text` back to the chapter file.
    pub map: SpanMap,
    /// The page's `<title>` when the chapter sets one with `{{#title …}}`.
    pub page_title: Option<String>,
}

/// Everything read from a book folder.
#[derive(Debug, Clone)]
pub struct Book {
    pub root: PathBuf,
    pub config: Config,
    pub summary: Summary,
    /// Chapters with a file, in reading order (drafts excluded).
    pub chapters: Vec<Chapter>,
    /// Non-Markdown files of the source folder (images…), relative to it, copied as they are.
    pub static_files: Vec<PathBuf>,
    /// Texts of every file that a diagnostic may point into.
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
}

impl Book {
    pub fn src_dir(&self) -> PathBuf {
        self.root.join(&self.config.book.src)
    }

    pub fn title(&self) -> String {
        self.config
            .book
            .title
            .clone()
            .or_else(|| self.summary.title.clone().filter(|t| t != "Summary"))
            .unwrap_or_else(|| "Untitled book".into())
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Output page name for a chapter file, as mdBook names it (`README.md` becomes `index.html`).
pub fn page_name(src_rel: &Path) -> String {
    let mut parts: Vec<String> = src_rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.last_mut() {
        let stem = Path::new(last.as_str())
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        *last = if stem.eq_ignore_ascii_case("readme") {
            "index.html".into()
        } else {
            format!("{stem}.html")
        };
    }
    parts.join("/")
}

/// A path from SUMMARY.md or a link must stay inside its folder: relative, no `..` above it.
pub fn is_contained(path: &Path) -> bool {
    let mut depth = 0i32;
    for c in path.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    depth > 0
}

/// Reads a book folder. Problems become diagnostics; an `Err` only when there is no book at all.
pub fn load(root: &Path) -> Result<Book, Diagnostic> {
    load_reusing(root, &mut reuse::ReadCache::default())
}

/// As [`load`], taking the chapters whose files are unchanged from `reused` (and keeping the
/// chapters read now in it), as `serve` does from one rebuild to the next.
pub fn load_reusing(root: &Path, reused: &mut reuse::ReadCache) -> Result<Book, Diagnostic> {
    if !root.is_dir() {
        return Err(
            Diagnostic::error(Code::NoBook, format!("{} is not a folder", root.display()))
                .with_help(
                    "pass the folder that holds book.toml, or run `calcbook init DIR` to start one",
                ),
        );
    }
    let mut sources = Sources::new();
    let mut diagnostics = Vec::new();
    fs::begin(fs::DEFAULT_LIMITS);

    let config_path = root.join(config::FILE_NAME);
    let Some(config) = read_config(root, &mut sources, &mut diagnostics)? else {
        // Without a valid config the source folder is unknown: report and stop here.
        return Ok(Book {
            root: root.to_path_buf(),
            config: Config::default(),
            summary: Summary::default(),
            chapters: Vec::new(),
            static_files: Vec::new(),
            sources,
            diagnostics,
        });
    };

    fs::begin(config.calcbook.limits());
    let outside = folders_outside(root, &config, &sources);
    let src_outside = outside.iter().any(|(key, _)| *key == "src");
    diagnostics.extend(outside.into_iter().map(|(_, d)| d));
    let src_rel = config.book.src.clone();
    let summary_rel = src_rel.join("SUMMARY.md");
    let mut book = Book {
        root: root.to_path_buf(),
        config,
        summary: Summary::default(),
        chapters: Vec::new(),
        static_files: Vec::new(),
        sources,
        diagnostics,
    };
    if src_outside {
        return Ok(book);
    }
    if !root.join(&summary_rel).is_file() && !config_path.is_file() {
        return Err(Diagnostic::error(
            Code::NoBook,
            format!(
                "{} holds no book.toml (and no {}): it is not a book folder",
                root.display(),
                summary_rel.display()
            ),
        )
        .with_help("pass the folder that holds book.toml, or run `calcbook init` to start one"));
    }
    if !root.join(&summary_rel).is_file() {
        book.diagnostics.push(
            Diagnostic::error(
                Code::MissingSummary,
                format!("no {} in the book", summary_rel.display()),
            )
            .with_help("list the chapters in SUMMARY.md, e.g. `- [Introduction](intro.md)`"),
        );
        return Ok(book);
    }
    let summary_text = match read_text(root, &summary_rel, &mut book.sources) {
        Ok(t) => t,
        Err(d) => {
            book.diagnostics.push(d);
            return Ok(book);
        }
    };
    let summary_name = summary_rel.to_string_lossy().into_owned();
    let (summary, diags) = summary::parse(&summary_text, &summary_name);
    book.diagnostics.extend(diags);

    let listed = load_chapters(&mut book, &summary, &summary_rel, reused);
    book.summary = summary;

    find_unlisted_and_static(&mut book, &listed);
    Ok(book)
}

/// Reads and parses `book.toml` (the default config when there is none); `None` when it is
/// invalid, its diagnostic pushed.
fn read_config(
    root: &Path,
    sources: &mut Sources,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Option<Config>, Diagnostic> {
    if !root.join(config::FILE_NAME).is_file() {
        return Ok(Some(Config::default()));
    }
    let text = read_text(root, Path::new(config::FILE_NAME), sources)?;
    match config::parse(&text, config::FILE_NAME) {
        Ok((config, warnings)) => {
            diagnostics.extend(warnings);
            Ok(Some(config))
        }
        Err(diag) => {
            diagnostics.push(diag);
            Ok(None)
        }
    }
}

/// Reads every chapter SUMMARY.md links to (once each, inside the source folder; an unchanged one
/// is taken from `reused`), and returns their paths relative to the source folder.
fn load_chapters(
    book: &mut Book,
    summary: &Summary,
    summary_rel: &Path,
    reused: &mut reuse::ReadCache,
) -> HashSet<PathBuf> {
    let root = book.root.clone();
    let root = root.as_path();
    let src_rel = book.config.book.src.clone();
    let mut listed = HashSet::new();
    reused.begin();
    for link in summary.links() {
        let Some(path) = &link.path else { continue };
        let at_summary = |code, message: String| {
            Diagnostic::error(code, message)
                .with_file(summary_rel)
                .with_span(link.span.clone())
        };
        if !is_contained(path) {
            book.diagnostics.push(
                at_summary(
                    Code::ChapterOutsideSource,
                    format!("chapter `{}` is outside the source folder", path.display()),
                )
                .with_help(
                    "chapter paths are relative to the source folder and cannot climb out of it",
                ),
            );
            continue;
        }
        if !listed.insert(normalize(path)) {
            book.diagnostics.push(at_summary(
                Code::DuplicateChapter,
                format!("`{}` is listed twice in SUMMARY.md", path.display()),
            ));
            continue;
        }
        let source = src_rel.join(path);
        if !root.join(&source).is_file() {
            let diag = at_summary(
                Code::MissingChapter,
                format!("chapter file `{}` does not exist", source.display()),
            )
            .with_label("no such file");
            missing_chapter(book, link, path, source, diag);
            continue;
        }
        let stamp = reuse::ReadCache::stamp(root, &source);
        if let Some((raw, expanded)) = reused.take(root, &source, stamp) {
            book.sources.insert(&source, raw);
            book.chapters.push(chapter_of(link, path, source, expanded));
            continue;
        }
        let raw = match read_text(root, &source, &mut book.sources) {
            Ok(t) => t,
            Err(mut d) => {
                if d.code == Code::UnreadableFile {
                    // A symlink out of the book, a FIFO or an oversized file: point at the link
                    // that names it.
                    d.file = Some(summary_rel.to_path_buf());
                    d.span = Some(link.span.clone());
                }
                book.diagnostics.push(d);
                continue;
            }
        };
        let (files_before, spent_before) = (fs::included_file_count(), fs::include_budget_spent());
        let mut expanded = include::expand_chapter(&raw, root, &source);
        if expanded.diagnostics.is_empty() {
            let spent = fs::include_budget_spent();
            let included = reuse::Included {
                files: (fs::included_files_since(files_before).into_iter())
                    .map(|path| {
                        let stamp = reuse::ReadCache::stamp(root, &path);
                        (path, stamp)
                    })
                    .collect(),
                spent: (spent.0 - spent_before.0, spent.1 - spent_before.1),
            };
            reused.note(&source, stamp, included);
        }
        book.diagnostics.append(&mut expanded.diagnostics);
        book.chapters.push(chapter_of(link, path, source, expanded));
    }
    reused.finish();
    listed
}

/// Everything else in the source folder: unlisted Markdown (a warning) and static files.
fn find_unlisted_and_static(book: &mut Book, listed: &HashSet<PathBuf>) {
    let src_rel = book.config.book.src.clone();
    let src_dir = book.root.join(&src_rel);
    for entry in WalkDir::new(&src_dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .flatten()
    {
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(&src_dir) else {
            continue;
        };
        let rel = rel.to_path_buf();
        if rel.extension().is_some_and(|e| e == "md") {
            // `404.md` is the 404 page, as in mdBook.
            let special = rel == Path::new("SUMMARY.md") || rel == Path::new("404.md");
            if !special && !listed.contains(&rel) {
                book.diagnostics.push(
                    Diagnostic::warning(
                        Code::UnlistedChapter,
                        format!(
                            "{} is not listed in SUMMARY.md",
                            src_rel.join(&rel).display()
                        ),
                    )
                    .with_file(src_rel.join(&rel))
                    .with_help("add it to SUMMARY.md, or it will not be part of the book"),
                );
            }
        } else {
            book.static_files.push(rel);
        }
    }
}

/// A chapter from its link in SUMMARY.md, its file's path and its expanded text.
fn chapter_of(link: &Link, path: &Path, source: PathBuf, expanded: include::Expanded) -> Chapter {
    Chapter {
        title: link.title.clone(),
        number: link.number_text(),
        source,
        src_rel: normalize(path),
        out_path: page_name(&normalize(path)),
        text: expanded.text,
        map: expanded.map,
        page_title: expanded.title,
    }
}

/// A chapter listed in SUMMARY.md whose file is missing. mdBook's `create-missing` (on by default)
/// writes `# Title` into a new file; calcbook never writes into the source folder, so the page is
/// made in memory and the diagnostic is a warning. With `create-missing = false` it is an error.
fn missing_chapter(book: &mut Book, link: &Link, path: &Path, source: PathBuf, diag: Diagnostic) {
    let create = book.config.build.create_missing.unwrap_or(true);
    let mut diag = diag;
    if create {
        diag.severity = crate::diagnostic::Severity::Warning;
        diag = diag.with_note(
            "the page is built with just its title, as mdBook's `create-missing` would; set `[build] create-missing = false` to make this an error",
        );
    }
    if let Some(best) = closest_md_file(&book.src_dir(), path) {
        diag = diag.with_help(format!("did you mean `{best}`?"));
    }
    book.diagnostics.push(diag);
    if create {
        let text = format!("# {}\n", link.title);
        book.sources.insert(&source, text.clone());
        book.chapters.push(Chapter {
            title: link.title.clone(),
            number: link.number_text(),
            source,
            src_rel: normalize(path),
            out_path: page_name(&normalize(path)),
            map: SpanMap::identity(text.len()),
            text,
            page_title: None,
        });
    }
}

fn normalize(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// Reads a UTF-8 text file of the book (through [`fs`], so it stays inside the book) and records
/// it for diagnostics. Invalid UTF-8 is an error at the line of the first bad byte.
fn read_text(root: &Path, rel: &Path, sources: &mut Sources) -> Result<String, Diagnostic> {
    match fs::read_text(root, rel) {
        Ok(text) => {
            sources.insert(rel, text.clone());
            Ok(text)
        }
        Err(fs::ReadError::NotUtf8 { lossy, .. }) => {
            let start = lossy.find('\u{fffd}').unwrap_or(0);
            let end = start + lossy[start..].chars().next().map_or(0, char::len_utf8);
            sources.insert(rel, lossy);
            Err(Diagnostic::error(
                Code::InvalidUtf8,
                format!("{} is not valid UTF-8", rel.display()),
            )
            .with_file(rel)
            .with_span(start..end)
            .with_label("this byte is not UTF-8")
            .with_help("save the file as UTF-8"))
        }
        Err(e) => Err(Diagnostic::error(
            Code::UnreadableFile,
            format!("cannot read {}: {e}", rel.display()),
        )
        .with_file(rel)),
    }
}

/// The folders of book.toml (`src`, `data`, `templates`) that lead outside the book, each with an
/// error at its key.
fn folders_outside(
    root: &Path,
    config: &Config,
    sources: &Sources,
) -> Vec<(&'static str, Diagnostic)> {
    let text = sources.get(Path::new(config::FILE_NAME)).unwrap_or("");
    [
        ("src", &config.book.src),
        ("data", &config.calcbook.data),
        ("templates", &config.calcbook.templates),
    ]
    .into_iter()
    .filter(|(_, rel)| !fs::dir_is_inside(root, rel))
    .map(|(key, rel)| {
        let span = key_span(text, key);
        let mut diag = Diagnostic::error(
            Code::FolderOutsideBook,
            format!(
                "`{key} = \"{}\"` leads outside the book's folder",
                rel.display()
            ),
        )
        .with_file(config::FILE_NAME)
        .with_help("a book reads only files under the folder of its book.toml");
        if !span.is_empty() {
            diag = diag.with_span(span);
        }
        (key, diag)
    })
    .collect()
}

/// The span of `key = ...` at the start of a line of book.toml.
fn key_span(text: &str, key: &str) -> std::ops::Range<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            let start = offset + (line.len() - trimmed.len());
            return start..offset + line.trim_end().len();
        }
        offset += line.len();
    }
    0..0
}

fn closest_md_file(src_dir: &Path, wanted: &Path) -> Option<String> {
    let names: BTreeSet<String> = WalkDir::new(src_dir)
        .max_depth(6)
        .into_iter()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .filter_map(|e| {
            e.path()
                .strip_prefix(src_dir)
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        })
        .collect();
    // Compare without the shared `.md`, which would make every short name look alike.
    let wanted = wanted.to_string_lossy();
    let wanted = wanted.trim_end_matches(".md");
    let stems: Vec<&str> = names.iter().map(|n| n.trim_end_matches(".md")).collect();
    crate::diagnostic::did_you_mean(wanted, stems).map(|s| format!("{s}.md"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names_follow_mdbook() {
        assert_eq!(page_name(Path::new("intro.md")), "intro.html");
        assert_eq!(page_name(Path::new("a/b/c.md")), "a/b/c.html");
        assert_eq!(page_name(Path::new("README.md")), "index.html");
        assert_eq!(page_name(Path::new("guide/README.md")), "guide/index.html");
    }

    #[test]
    fn containment_rejects_escapes() {
        assert!(is_contained(Path::new("a/b.md")));
        assert!(is_contained(Path::new("a/../b.md")));
        assert!(!is_contained(Path::new("../b.md")));
        assert!(!is_contained(Path::new("a/../../b.md")));
        assert!(!is_contained(Path::new("/etc/passwd")));
    }
}
