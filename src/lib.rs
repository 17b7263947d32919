//! calcbook: an mdBook-style generator for literate notebooks.
//!
//! Data flows one way: load → parse → evaluate → render → write.
//! - [`book`] loads `book.toml`, `SUMMARY.md` and the chapter files.
//! - [`calc`] is the unit-aware calculation language (no I/O).
//! - [`engine`] is the hardware/model physics the calc language calls.
//! - [`render`] turns chapters into HTML pages with Tera, in memory.
//! - [`output`] writes the rendered site atomically.
//! - [`diagnostic`] is the one error type every stage reports with.
//! - [`preprocess`] runs the notebook stage inside mdBook, as its preprocessor.

pub mod book;
pub mod calc;
pub mod chart;
pub mod check;
pub mod diagnostic;
pub mod engine;
pub mod explore;
pub mod html;
pub mod init;
pub mod notebook;
pub mod output;
pub mod preprocess;
pub mod render;
pub mod serve;

use crate::diagnostic::Code;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

pub use diagnostic::{Diagnostic, Severity, Sources};

use render::site;

/// A book rendered in memory, with everything found wrong along the way.
pub struct Rendered {
    pub book: book::Book,
    pub site: Site,
    pub diagnostics: Vec<Diagnostic>,
}

pub use render::Site;

impl Rendered {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn sources(&self) -> &Sources {
        &self.book.sources
    }
}

/// Options that change how a book is rendered.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Include the live-reload client script (used by `serve`).
    pub live_reload: bool,
}

/// Everything evaluated in a book besides its pages: the claims and the data files.
#[derive(Default)]
pub struct Evaluated {
    pub claims: Vec<notebook::ClaimRecord>,
    pub data: Vec<notebook::data::DataFile>,
}

/// Loads, evaluates and renders the book at `root` entirely in memory.
pub fn render_book(root: &Path, options: &RenderOptions) -> Result<Rendered, Diagnostic> {
    render_book_with(root, options).map(|(rendered, _)| rendered)
}

/// As [`render_book`], also returning the claims and data the book evaluated.
pub fn render_book_with(
    root: &Path,
    options: &RenderOptions,
) -> Result<(Rendered, Evaluated), Diagnostic> {
    render_book_cached(root, options, &mut RenderCache::default())
}

/// What one render can hand to the next, so that a rebuild after an edit re-evaluates only what
/// the edit touched (`serve` keeps one across rebuilds). A chapter's output depends only on its
/// text, its place in the book and the prelude (data files and engine), so those form its key.
#[derive(Default)]
pub struct RenderCache {
    prelude: Option<CachedPrelude>,
    chapters: HashMap<PathBuf, (u64, CachedChapter)>,
    pages: site::PageCache,
}

impl RenderCache {
    /// The output files the last render templated anew (pages, `toc.js`, `toc.html`, the print
    /// page's frame); every other page came from the cache unchanged.
    pub fn rendered_pages(&self) -> &[String] {
        &self.pages.rendered
    }
}

struct CachedPrelude {
    key: u64,
    scope: calc::Scope,
    data: Vec<notebook::data::DataFile>,
    diagnostics: Vec<Diagnostic>,
    texts: Vec<(PathBuf, String)>,
}

#[derive(Clone)]
struct CachedChapter {
    markdown: std::sync::Arc<render::markdown::RenderedMarkdown>,
    claims: Vec<notebook::ClaimRecord>,
    diagnostics: Vec<Diagnostic>,
    files: Vec<(String, Vec<u8>)>,
}

/// As [`render_book_with`], reusing and refreshing `cache`.
pub fn render_book_cached(
    root: &Path,
    options: &RenderOptions,
    cache: &mut RenderCache,
) -> Result<(Rendered, Evaluated), Diagnostic> {
    // Threads with deep stacks for the whole book, rather than one per calc statement; chapters
    // and pages are spread over them.
    match calc::big_stack_pool() {
        Some(pool) => pool.install(|| render_book_inner(root, options, cache)),
        None => calc::with_big_stack(|| render_book_inner(root, options, cache)),
    }
}

/// A key over the data folder's YAML files (names and bytes), read without parsing them.
fn data_key(dir: &Path) -> u64 {
    let mut hasher = DefaultHasher::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut names: Vec<std::ffi::OsString> = entries.flatten().map(|e| e.file_name()).collect();
        names.sort();
        for name in names {
            name.hash(&mut hasher);
            // Regular files only, within the size limit: a FIFO here must not hang the build.
            let limit = book::fs::limits().max_file_bytes;
            if let Ok(bytes) = book::fs::read_bytes(dir, Path::new(&name), limit) {
                bytes.hash(&mut hasher);
            }
        }
    }
    hasher.finish()
}

fn render_book_inner(
    root: &Path,
    options: &RenderOptions,
    cache: &mut RenderCache,
) -> Result<(Rendered, Evaluated), Diagnostic> {
    let mut book = book::load(root)?;
    let mut diagnostics = book.diagnostics.clone();
    let _ = calc::budget::begin(
        book.config
            .calcbook
            .max_steps
            .unwrap_or(calc::budget::DEFAULT_BOOK_STEPS),
    );

    // The prelude every chapter starts from: units, data records, engine functions.
    let data_rel = book.config.calcbook.data.clone();
    // A folder outside the book was reported by `book::load`; read nothing from it.
    let data_dir = match book::fs::dir_is_inside(root, &data_rel) {
        true => root.join(&data_rel),
        false => PathBuf::new(),
    };
    let key = data_key(&data_dir) ^ hash_of(&(&data_rel, book.config.calcbook.require_sources));
    if cache.prelude.as_ref().is_none_or(|p| p.key != key) {
        let mut scope = calc::Scope::new();
        engine::bindings::register(&mut scope);
        let mut texts = Sources::new();
        let options = notebook::data::DataOptions {
            require_sources: book.config.calcbook.require_sources,
        };
        let (mut data, mut diags) =
            notebook::data::load_with(&data_dir, &data_rel, &mut scope, &mut texts, options);
        diags.extend(engine::link::link_records(&mut scope, &mut data, &texts));
        // The texts of the files loaded and of those a diagnostic points into (a file with a
        // YAML syntax error loads nothing but still needs its excerpt).
        let texts = data
            .iter()
            .map(|f| &f.rel)
            .chain(diags.iter().filter_map(|d| d.file.as_ref()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter_map(|rel| texts.get(rel).map(|t| (rel.clone(), t.to_string())))
            .collect();
        cache.prelude = Some(CachedPrelude {
            key,
            scope,
            data,
            diagnostics: diags,
            texts,
        });
        cache.chapters.clear();
    }
    let Some(cached) = cache.prelude.as_ref() else {
        return Err(Diagnostic::error(
            Code::Internal,
            "the prelude cache is empty after filling it",
        ));
    };
    let prelude = &cached.scope;
    let data = cached.data.clone();
    diagnostics.extend(cached.diagnostics.iter().cloned());
    for (path, text) in &cached.texts {
        book.sources.insert(path, text.clone());
    }

    let theme_rel = book.config.calcbook.templates.clone();
    let theme_dir = match book::fs::dir_is_inside(root, &theme_rel) {
        true => root.join(&theme_rel),
        false => PathBuf::new(),
    };
    let theme = match render::Theme::load(&theme_dir, &theme_rel) {
        Ok(theme) => Some(theme),
        Err(diags) => {
            diagnostics.extend(diags);
            None
        }
    };

    let prelude_key = cached.key;
    let markdown_options = book.config.markdown_options();
    // A chapter's claim boxes are drawn by the theme: a template edit re-renders them.
    let theme_key = theme.as_ref().map(|t| t.key);
    let keys = chapter_keys(&book, &(&markdown_options, theme_key));
    // Every data entry as `file.id`, so that calc names of them link to the sources page.
    let records: std::collections::HashSet<String> = data
        .iter()
        .flat_map(|f| {
            f.entries
                .iter()
                .map(move |e| format!("{}.{}", f.name, e.id))
        })
        .collect();
    evaluate_stale_chapters(
        &book,
        &keys,
        prelude,
        &records,
        &markdown_options,
        theme.as_ref(),
        &mut cache.chapters,
    );
    let mut claims = Vec::new();
    let mut extra_files = Vec::new();
    let mut chapters = Vec::with_capacity(book.chapters.len());
    for (chapter, key) in book.chapters.iter().zip(&keys) {
        let Some((_, out)) = cache.chapters.get(&chapter.source) else {
            continue;
        };
        claims.extend(out.claims.iter().cloned());
        diagnostics.extend(out.diagnostics.iter().cloned());
        extra_files.extend(out.files.iter().cloned());
        chapters.push(site::RenderedChapter {
            chapter,
            markdown: std::sync::Arc::clone(&out.markdown),
            key: hash_of(&(key, prelude_key)),
        });
    }
    let seen: std::collections::HashSet<&PathBuf> =
        book.chapters.iter().map(|c| &c.source).collect();
    cache.chapters.retain(|k, _| seen.contains(k));
    let mut generated = Vec::new();
    if !claims.is_empty() {
        let (ledger, ledger_diags) = notebook::pages::ledger_with(&claims, theme.as_ref());
        diagnostics.extend(ledger_diags);
        generated.push(ledger);
    }
    if !data.is_empty() {
        generated.push(notebook::pages::sources(&data));
    }
    let site = match &theme {
        Some(theme) => {
            let (mut site, diags) = site::assemble_cached(
                &book,
                theme,
                &chapters,
                &generated,
                options.live_reload,
                &mut cache.pages,
            );
            diagnostics.extend(diags);
            for (path, bytes) in extra_files {
                site.add(path, bytes);
            }
            site
        }
        None => Site::default(),
    };
    drop(chapters);
    render::theme::attach_sources(&diagnostics, &theme_dir, &theme_rel, &mut book.sources);
    // Reading order: by file, then position, so a report reads top to bottom.
    diagnostics.sort_by(|a, b| {
        (&a.file, a.span.as_ref().map(|s| s.start))
            .cmp(&(&b.file, b.span.as_ref().map(|s| s.start)))
    });
    diagnostics.dedup();
    Ok((
        Rendered {
            book,
            site,
            diagnostics,
        },
        Evaluated { claims, data },
    ))
}

/// Codes of the diagnostics about links inside the book that do not land (a page or an anchor).
pub const LINK_CODES: &[diagnostic::Code] =
    &[diagnostic::Code::BrokenLink, diagnostic::Code::BrokenAnchor];

/// Turns broken in-book links from warnings into errors: what `check` always does, and `build`
/// does when book.toml sets `[calcbook] strict-links = true`.
pub fn links_as_errors(diagnostics: &mut [Diagnostic]) {
    for d in diagnostics {
        if LINK_CODES.contains(&d.code) {
            d.severity = Severity::Error;
        }
    }
}

/// A key per chapter over what its evaluated, rendered Markdown depends on besides the prelude:
/// its text, its place in the book.
fn chapter_keys(book: &book::Book, options: &impl std::fmt::Debug) -> Vec<u64> {
    let options = format!("{options:?}");
    book.chapters
        .iter()
        .map(|chapter| {
            // The file as written matters apart from the expanded text only when an include
            // made them differ; comparing is much cheaper than hashing the book twice.
            let original = book.sources.get(&chapter.source).unwrap_or("");
            let original = (original != chapter.text).then_some(original);
            hash_of(&(
                &options,
                &chapter.text,
                original,
                &chapter.title,
                &chapter.number,
                &chapter.out_path,
            ))
        })
        .collect()
}

/// Evaluates and renders, in parallel, the chapters whose key is not the cached one.
fn evaluate_stale_chapters(
    book: &book::Book,
    keys: &[u64],
    prelude: &calc::Scope,
    records: &std::collections::HashSet<String>,
    options: &render::markdown::MarkdownOptions,
    theme: Option<&render::Theme>,
    cached: &mut HashMap<PathBuf, (u64, CachedChapter)>,
) {
    use rayon::prelude::*;
    let stale: Vec<(&book::Chapter, u64)> = book
        .chapters
        .iter()
        .zip(keys.iter().copied())
        .filter(|(c, key)| cached.get(&c.source).is_none_or(|(k, _)| k != key))
        .collect();
    let budget = calc::budget::current();
    let fresh: Vec<(PathBuf, u64, CachedChapter)> = stale
        .par_iter()
        .map(|&(chapter, key)| {
            // Every worker counts against this build's one book-wide budget.
            calc::budget::enter(budget.clone());
            let mut nb = notebook::ChapterNotebook::new(prelude.clone(), chapter, &book.sources)
                .with_data_records(records.clone());
            if let Some(theme) = theme {
                nb = nb.with_theme(theme);
            }
            let markdown =
                render::markdown::render_with(&chapter.text, &chapter.out_path, &mut nb, options);
            let out = CachedChapter {
                markdown: std::sync::Arc::new(markdown),
                claims: nb.claims,
                diagnostics: nb.diagnostics,
                files: nb.files,
            };
            (chapter.source.clone(), key, out)
        })
        .collect();
    for (source, key, out) in fresh {
        cached.insert(source, (key, out));
    }
}

/// Where a book's output goes: `dest` if given, else the book's `build-dir`.
pub fn destination(root: &Path, book: &book::Book, dest: Option<&Path>) -> PathBuf {
    match dest {
        Some(d) => d.to_path_buf(),
        None => root.join(&book.config.build.build_dir),
    }
}

/// The book's own folders, which no output may overwrite.
pub fn protected_paths(book: &book::Book) -> Vec<PathBuf> {
    let root = &book.root;
    vec![
        root.to_path_buf(),
        root.join(&book.config.book.src),
        root.join(&book.config.calcbook.data),
        root.join(&book.config.calcbook.templates),
    ]
}

fn hash_of(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Test support shared by modules that generate parts of the bundled book.
#[cfg(test)]
pub(crate) mod test_support {
    /// The section of *How this book works* between `<!-- NAME:begin -->` and `<!-- NAME:end -->`
    /// is `generated`; with `CALCBOOK_BLESS` set, the chapter is rewritten to hold it instead.
    #[track_caller]
    pub fn assert_book_section(name: &str, generated: &str) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/chapters/how-it-works.md");
        let text = std::fs::read_to_string(path).expect("the chapter");
        let (begin, end) = (
            format!("<!-- {name}:begin -->\n"),
            format!("<!-- {name}:end -->"),
        );
        let start = text.find(&begin).expect("the begin marker") + begin.len();
        let stop = text.find(&end).expect("the end marker");
        if std::env::var_os("CALCBOOK_BLESS").is_some() {
            let updated = format!("{}{generated}{}", &text[..start], &text[stop..]);
            std::fs::write(path, updated).expect("writing the chapter");
            return;
        }
        assert_eq!(
            &text[start..stop],
            generated,
            "run `CALCBOOK_BLESS=1 cargo test --lib` to regenerate the {name} section"
        );
    }
}
