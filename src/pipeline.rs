//! The pipeline every command runs: load → evaluate → render → (write), in memory, and the caches
//! that let `serve` redo only what an edit touched.
//!
//! [`render_book`] loads the book ([`crate::book`]), evaluates the data prelude once and every
//! chapter's cells on a pool of deep-stack threads ([`crate::notebook`]: each cell evaluates to
//! data, which the theme's templates draw), renders the Markdown and templates the pages
//! ([`crate::render`]). [`evaluate_book`] (`check`) stops before drawing: it evaluates the same
//! cells, collects claims and diagnostics, and checks links against the ids the pages would have,
//! without templating a page. A [`RenderCache`] carries from one render
//! to the next: the prelude under a key of the data files' bytes, each chapter's evaluated Markdown
//! under a key of its text and place in the book, and each templated page under a key of its inputs
//! ([`crate::render::site::PageCache`]). The files go to a [`crate::render::SiteSink`] as they are
//! made: a [`Site`] in memory for `serve` and `check` ([`render_book_cached`]), which `serve` mirrors
//! to disk ([`crate::serve::mirror`]); `build`'s staging folder ([`render_book_into`],
//! [`crate::output::Staging`]), so that a build never holds the whole site.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic, Severity, Sources};
use crate::render::{self, Site, site};
use crate::{book, calc, engine, notebook};

/// A book rendered in memory, with everything found wrong along the way.
pub struct Rendered {
    pub book: book::Book,
    /// The output files; empty when they went to a sink ([`render_book_into`]).
    pub site: Site,
    pub diagnostics: Vec<Diagnostic>,
}

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
    /// Which of the files that hold the whole book (the search index, the print page) to make:
    /// `serve` answers a save without them and makes them in later renders, after the update is
    /// out.
    pub whole_book: render::site::WholeBook,
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

/// How long each stage of a render took, for `CALCBOOK_TIMINGS=1` (serve prints them after every
/// rebuild) and for benchmarks: where a save's milliseconds go.
#[derive(Debug, Default, Clone)]
pub struct Timings {
    pub stages: Vec<(&'static str, std::time::Duration)>,
    last: Option<std::time::Instant>,
    /// Cells taken as drawn by the render before (`serve`), rather than drawn.
    pub cells_reused: usize,
}

impl Timings {
    /// Starts timing from now, forgetting earlier stages.
    pub fn start(&mut self) {
        self.stages.clear();
        self.cells_reused = 0;
        self.last = Some(std::time::Instant::now());
    }

    /// Ends the stage `name` now; the next stage starts here.
    pub fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        if let Some(last) = self.last {
            self.stages.push((name, now - last));
        }
        self.last = Some(now);
    }
}

impl std::fmt::Display for Timings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, took)) in self.stages.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{name} {:.1} ms", took.as_secs_f64() * 1000.0)?;
        }
        if self.cells_reused > 0 {
            write!(f, " ({} cells reused as drawn)", self.cells_reused)?;
        }
        Ok(())
    }
}

/// Whether `CALCBOOK_TIMINGS` asks for the stages of each rebuild.
pub fn timings_wanted() -> bool {
    std::env::var_os("CALCBOOK_TIMINGS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// What one render can hand to the next, so that a rebuild after an edit re-evaluates only what
/// the edit touched (`serve` keeps one across rebuilds). A chapter's output depends only on its
/// text, its place in the book and the prelude (data files and engine), so those form its key.
#[derive(Default)]
pub struct RenderCache {
    prelude: Option<CachedPrelude>,
    chapters: HashMap<PathBuf, (u64, CachedChapter)>,
    pages: site::PageCache,
    /// Chapter files as read, reused while unchanged on disk (only in a cache made with
    /// [`RenderCache::for_rebuilds`]).
    files: book::reuse::ReadCache,
    /// The generated pages, kept while what they are drawn from is unchanged.
    generated: GeneratedCache,
    /// The theme, under a key of the templates folder's files.
    theme: Option<(u64, render::Theme)>,
    /// Each edited chapter's drawn cells, reused by the next render where unchanged (only in a
    /// cache made with [`RenderCache::for_rebuilds`], from its first rebuild on).
    cell_memos: notebook::memo::KeptCells,
    /// The theme keeps the cells' fragments it draws, to draw an unchanged one once (only in a
    /// cache made with [`RenderCache::for_rebuilds`]: a build draws each once anyway).
    remember_fragments: bool,
    /// A render has used this cache.
    rendered_before: bool,
    /// How long the last render's stages took.
    pub timings: Timings,
}

impl RenderCache {
    /// Hands a rendered book back once its caller is done with it: the chapters' texts move into
    /// the cache for the next render to reuse, rather than being read and copied again.
    pub fn recycle(&mut self, book: book::Book) {
        self.files.recycle(book);
    }

    /// A cache for rendering the same book again and again (`serve`): it also keeps the chapter
    /// files read, so that a rebuild reads only the files that changed.
    pub fn for_rebuilds() -> RenderCache {
        RenderCache {
            files: book::reuse::ReadCache::keeping(),
            remember_fragments: true,
            ..RenderCache::default()
        }
    }

    /// The output files the last render templated anew (pages, `toc.js`, `toc.html`, the print
    /// page's frame); every other page came from the cache unchanged.
    pub fn rendered_pages(&self) -> &[String] {
        &self.pages.rendered
    }

    /// Keeps at most about `bytes` of drawn cells across chapters (the default is
    /// [`notebook::memo::DEFAULT_KEPT_BYTES`]).
    pub fn keeping_drawn_cells_within(mut self, bytes: usize) -> RenderCache {
        self.cell_memos = notebook::memo::KeptCells::within(bytes);
        self
    }

    /// The chapter files whose drawn cells are kept for the next render.
    pub fn chapters_with_drawn_cells(&self) -> Vec<&Path> {
        let mut chapters: Vec<&Path> = self.cell_memos.chapters().collect();
        chapters.sort();
        chapters
    }

    /// How many cells the last render reused as drawn by the one before (`serve`, from its first
    /// rebuild on), rather than drew.
    pub fn cells_reused(&self) -> usize {
        self.timings.cells_reused
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
    /// Files beside the page (each chart's points as CSV), shared with every site built from them.
    files: Vec<(String, std::sync::Arc<Vec<u8>>)>,
}

/// As [`render_book_with`], reusing and refreshing `cache`.
pub fn render_book_cached(
    root: &Path,
    options: &RenderOptions,
    cache: &mut RenderCache,
) -> Result<(Rendered, Evaluated), Diagnostic> {
    // Threads with deep stacks for the whole book, rather than one per calc statement; chapters
    // and pages are spread over them.
    let open = |_: &book::Book| render::sink::Collect::default();
    let (mut rendered, evaluated, collected) = match calc::big_stack_pool() {
        Some(pool) => pool.install(|| render_book_inner(root, options, cache, open))?,
        None => calc::with_big_stack(|| render_book_inner(root, options, cache, open))?,
    };
    rendered.site = collected.into_site();
    Ok((rendered, evaluated))
}

/// As [`render_book_with`], handing every output file to a sink as soon as it is made rather than
/// collecting them in memory (`build`: each page goes to disk from the thread that templated it).
/// `open` makes the sink once the book is loaded, since where the files go depends on book.toml;
/// the sink is returned with the book, whose [`Rendered::site`] is then empty.
pub fn render_book_into<S: render::SiteSink + Send>(
    root: &Path,
    options: &RenderOptions,
    open: impl FnOnce(&book::Book) -> S + Send,
) -> Result<(Rendered, Evaluated, S), Diagnostic> {
    let mut cache = RenderCache {
        pages: site::PageCache::one_shot(),
        ..RenderCache::default()
    };
    let rendered = match calc::big_stack_pool() {
        Some(pool) => pool.install(|| render_book_inner(root, options, &mut cache, open)),
        None => calc::with_big_stack(|| render_book_inner(root, options, &mut cache, open)),
    };
    if timings_wanted() {
        eprintln!("render: {}", cache.timings);
    }
    rendered
}

/// Fills `cache.prelude` for the book's data folder, unless it holds the prelude of the same
/// data files: units, data records, engine functions, which every chapter starts from. A new
/// prelude empties the chapter cache (every chapter reads it).
fn refresh_prelude(root: &Path, book: &book::Book, cache: &mut RenderCache) {
    let data_rel = book.config.calcbook.data.clone();
    // A folder outside the book was reported by `book::load`; read nothing from it.
    let data_dir = match book::fs::dir_is_inside(root, &data_rel) {
        true => root.join(&data_rel),
        false => PathBuf::new(),
    };
    let key = data_key(&data_dir) ^ hash_of(&(&data_rel, book.config.calcbook.require_sources));
    if cache.prelude.as_ref().is_some_and(|p| p.key == key) {
        return;
    }
    let mut scope = calc::Scope::new();
    engine::bindings::register(&mut scope);
    let mut texts = Sources::new();
    let options = notebook::data::DataOptions {
        require_sources: book.config.calcbook.require_sources,
    };
    let (mut data, mut diags) =
        notebook::data::load_with(&data_dir, &data_rel, &mut scope, &mut texts, options);
    diags.extend(engine::link::link_records(&mut scope, &mut data, &texts));
    // The texts of the files loaded and of those a diagnostic points into (a file with a YAML
    // syntax error loads nothing but still needs its excerpt).
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
    cache.cell_memos.clear();
}

/// Starts this render's calc step budget: the book's `max-steps`, or the default.
fn begin_step_budget(book: &book::Book) {
    let steps = book.config.calcbook.max_steps;
    let _ = calc::budget::begin(steps.unwrap_or(calc::budget::DEFAULT_BOOK_STEPS));
}

/// The book's templates folder, absolute and as book.toml names it; no folder (the built-in
/// theme) where it is not inside the book.
fn theme_folder(root: &Path, book: &book::Book) -> (PathBuf, PathBuf) {
    let rel = book.config.calcbook.templates.clone();
    match book::fs::dir_is_inside(root, &rel) {
        true => (root.join(&rel), rel),
        false => (PathBuf::new(), rel),
    }
}

/// Fills `slot` with the theme of the templates folder `theme_dir` (`theme_rel` in the book) over
/// the default one, unless it holds that theme already; `parsed_default` is the default theme when
/// it was parsed while the book loaded. Returns what is wrong with a theme that does not load.
fn refresh_theme(
    theme_dir: &Path,
    theme_rel: &Path,
    parsed_default: Option<Result<render::Theme, Vec<Diagnostic>>>,
    slot: &mut Option<(u64, render::Theme)>,
) -> Vec<Diagnostic> {
    let theme_key = tree_key(theme_dir) ^ hash_of(&theme_rel);
    if slot.as_ref().is_some_and(|(k, _)| *k == theme_key) {
        return Vec::new();
    }
    let loaded = match parsed_default {
        Some(Ok(theme)) if !theme_dir.is_dir() => Ok(theme),
        _ => render::Theme::load(theme_dir, theme_rel),
    };
    match loaded {
        Ok(theme) => {
            *slot = Some((theme_key, theme));
            Vec::new()
        }
        Err(diags) => {
            *slot = None;
            diags
        }
    }
}

/// A key over every file under `dir` (names and bytes, symbolic links not followed): the
/// templates folder, whose theme is loaded again only when it changes.
fn tree_key(dir: &Path) -> u64 {
    let mut hasher = DefaultHasher::new();
    let limit = book::fs::limits().max_file_bytes;
    for entry in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        rel.hash(&mut hasher);
        if entry.file_type().is_file()
            && let Ok(bytes) = book::fs::read_bytes(dir, rel, limit)
        {
            text_hash(&bytes).hash(&mut hasher);
        }
    }
    hasher.finish()
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

fn render_book_inner<S: render::SiteSink>(
    root: &Path,
    options: &RenderOptions,
    cache: &mut RenderCache,
    open: impl FnOnce(&book::Book) -> S,
) -> Result<(Rendered, Evaluated, S), Diagnostic> {
    cache.timings.start();
    // Tera's parse of the default theme is a good part of a small book's build: it runs while the
    // book loads, and serves every book without a templates folder of its own.
    let parse_default = cache.theme.is_none();
    let (book, default_theme) = rayon::join(
        || book::load_reusing(root, &mut cache.files),
        || parse_default.then(|| render::Theme::load(Path::new(""), Path::new(""))),
    );
    let mut book = book?;
    let sink = open(&book);
    cache.timings.lap("load");
    let mut diagnostics = book.diagnostics.clone();
    begin_step_budget(&book);

    refresh_prelude(root, &book, cache);
    let Some(cached) = cache.prelude.as_ref() else {
        return Err(Diagnostic::error(
            Code::Internal,
            "the prelude cache is empty after filling it",
        ));
    };
    cache.timings.lap("prelude");
    let prelude = &cached.scope;
    let data = cached.data.clone();
    diagnostics.extend(cached.diagnostics.iter().cloned());
    for (path, text) in &cached.texts {
        book.sources.insert(path, text.clone());
    }

    let (theme_dir, theme_rel) = theme_folder(root, &book);
    diagnostics.extend(refresh_theme(
        &theme_dir,
        &theme_rel,
        default_theme,
        &mut cache.theme,
    ));
    // From the first rebuild on: the first render draws every chapter, and keeping all that would
    // cost serve memory for chapters nobody is editing.
    let remember = cache.remember_fragments && cache.rendered_before;
    if remember && let Some((_, theme)) = &mut cache.theme {
        theme.remember_fragments();
    }
    cache.rendered_before = true;
    let theme = cache.theme.as_ref().map(|(_, theme)| theme);

    let prelude_key = cached.key;
    let markdown_options = book.config.markdown_options();
    cache.timings.lap("theme");
    // A chapter's claim boxes are drawn by the theme: a template edit re-renders them.
    let theme_key = theme.map(|t| t.key);
    let keys = chapter_keys(&book, &(&markdown_options, theme_key));
    cache.timings.lap("keys");
    // Every data entry as `file.id`, so that calc names of them link to the sources page.
    let records: std::collections::HashSet<String> = data
        .iter()
        .flat_map(|f| {
            f.entries
                .iter()
                .map(move |e| format!("{}.{}", f.name, e.id))
        })
        .collect();
    let drawn = remember.then(|| (hash_of(&(prelude_key, theme_key)), &mut cache.cell_memos));
    let inputs = ChapterInputs {
        book: &book,
        prelude,
        records: &records,
        options: &markdown_options,
        theme,
    };
    cache.timings.cells_reused =
        evaluate_stale_chapters(&inputs, &keys, &mut cache.chapters, drawn);
    cache.timings.lap("evaluate");
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
    let generated = match theme {
        Some(theme) => generated_pages(
            &claims,
            &data,
            theme,
            prelude_key,
            &mut cache.generated,
            &mut diagnostics,
        ),
        None => Vec::new(),
    };
    cache.timings.lap("collect");
    if let Some(theme) = theme {
        let assembled = site::assemble_into(
            &book,
            theme,
            &chapters,
            &generated,
            site::AssembleOptions {
                live_reload: options.live_reload,
                whole_book: options.whole_book,
            },
            &mut cache.pages,
            &sink,
        );
        diagnostics.extend(assembled);
        for (path, bytes) in extra_files {
            sink.put(&path, bytes);
        }
    }
    drop(chapters);
    // The assembly's own stages replace one "assemble" lap.
    cache.timings.stages.append(&mut cache.pages.timings.stages);
    cache.timings.last = Some(std::time::Instant::now());
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
            site: Site::default(),
            diagnostics,
        },
        Evaluated { claims, data },
        sink,
    ))
}

/// A book evaluated for `check`: its claims and everything found wrong, with no page drawn.
pub struct Checked {
    pub book: book::Book,
    pub claims: Vec<notebook::ClaimRecord>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Loads and evaluates the book at `root` as [`render_book`] does (the prelude once, every
/// chapter's cells on the pool), without drawing cells, templating pages or making the print page
/// and search index: what `check` needs. The theme is loaded (a template that does not parse is
/// reported) and links are checked as [`site::check_without_pages`] says. A book with templates of
/// its own ([`render::Theme::own_templates`]) is rendered in full instead, since a template can
/// fail on its data only when it draws.
pub fn evaluate_book(root: &Path) -> Result<Checked, Diagnostic> {
    match calc::big_stack_pool() {
        Some(pool) => pool.install(|| evaluate_book_inner(root)),
        None => calc::with_big_stack(|| evaluate_book_inner(root)),
    }
}

fn evaluate_book_inner(root: &Path) -> Result<Checked, Diagnostic> {
    let mut cache = RenderCache::default();
    let mut book = book::load_reusing(root, &mut cache.files)?;
    let mut diagnostics = book.diagnostics.clone();
    begin_step_budget(&book);
    refresh_prelude(root, &book, &mut cache);
    let Some(prelude) = cache.prelude.as_ref() else {
        return Err(Diagnostic::error(
            Code::Internal,
            "the prelude cache is empty after filling it",
        ));
    };
    diagnostics.extend(prelude.diagnostics.iter().cloned());
    for (path, text) in &prelude.texts {
        book.sources.insert(path, text.clone());
    }
    let (theme_dir, theme_rel) = theme_folder(root, &book);
    let theme = render::Theme::load(&theme_dir, &theme_rel)
        .map_err(|diags| diagnostics.extend(diags))
        .ok();
    if theme.as_ref().is_some_and(|t| t.own_templates) {
        // A template of the book's own may fail only when drawn: draw the book in full, reusing
        // the prelude evaluated here.
        let (rendered, evaluated) =
            render_book_cached(root, &RenderOptions::default(), &mut cache)?;
        return Ok(Checked {
            book: rendered.book,
            claims: evaluated.claims,
            diagnostics: rendered.diagnostics,
        });
    }
    let options = book.config.markdown_options();
    let keys = chapter_keys(&book, &options);
    let records = std::collections::HashSet::new();
    let chapters = &mut cache.chapters;
    let inputs = ChapterInputs {
        book: &book,
        prelude: &prelude.scope,
        records: &records,
        options: &options,
        theme: None,
    };
    evaluate_stale_chapters(&inputs, &keys, chapters, None);
    let mut claims = Vec::new();
    let mut rendered = Vec::with_capacity(book.chapters.len());
    for chapter in &book.chapters {
        let Some((_, out)) = chapters.get(&chapter.source) else {
            continue;
        };
        claims.extend(out.claims.iter().cloned());
        diagnostics.extend(out.diagnostics.iter().cloned());
        rendered.push(site::RenderedChapter {
            chapter,
            markdown: std::sync::Arc::clone(&out.markdown),
            key: 0,
        });
    }
    // The generated pages, undrawn: their names and the ids their data gives them, which links
    // may target.
    let generated: Vec<site::GeneratedPage> = [
        (!claims.is_empty()).then(|| {
            (
                notebook::pages::LEDGER_PATH,
                notebook::pages::ledger_ids(&claims),
            )
        }),
        (!prelude.data.is_empty()).then(|| {
            (
                notebook::pages::SOURCES_PATH,
                notebook::pages::sources_ids(&prelude.data),
            )
        }),
    ]
    .into_iter()
    .flatten()
    .map(|(path, ids)| site::GeneratedPage {
        title: String::new(),
        path: path.to_string(),
        html: String::new(),
        ids,
    })
    .collect();
    diagnostics.extend(site::check_without_pages(
        &book,
        theme.as_ref(),
        &rendered,
        &generated,
    ));
    drop(rendered);
    render::theme::attach_sources(&diagnostics, &theme_dir, &theme_rel, &mut book.sources);
    // Reading order, as a render reports.
    diagnostics.sort_by(|a, b| {
        (&a.file, a.span.as_ref().map(|s| s.start))
            .cmp(&(&b.file, b.span.as_ref().map(|s| s.start)))
    });
    diagnostics.dedup();
    Ok(Checked {
        book,
        claims,
        diagnostics,
    })
}

/// A generated page and its template's errors.
type GeneratedWithDiagnostics = (site::GeneratedPage, Vec<Diagnostic>);

/// The generated pages of the last render, each with what it was drawn from.
#[derive(Default)]
struct GeneratedCache {
    /// The data-sources page, under a key of the prelude and theme.
    sources: Option<(u64, GeneratedWithDiagnostics)>,
    /// The claims ledger, under the theme's key and the claims it lists: a save that changes no
    /// claim (most do not) reuses it rather than templating a row per claim of the book.
    ledger: Option<(u64, Vec<notebook::ClaimRecord>, GeneratedWithDiagnostics)>,
    /// The ledger's rows as drawn, under the theme's key.
    ledger_rows: (u64, notebook::pages::LedgerRows),
}

/// The pages made from the whole book: the claims ledger (when there are claims) and the
/// data-sources page (when there is data), each redrawn only when what it shows has changed.
fn generated_pages(
    claims: &[notebook::ClaimRecord],
    data: &[notebook::data::DataFile],
    theme: &render::Theme,
    prelude_key: u64,
    cache: &mut GeneratedCache,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<site::GeneratedPage> {
    let mut generated = Vec::new();
    if !claims.is_empty() {
        let (ledger, diags) = match &cache.ledger {
            Some((key, drawn_from, page))
                if *key == theme.key
                    && drawn_from.len() == claims.len()
                    && drawn_from
                        .iter()
                        .zip(claims)
                        .all(|(a, b)| a.alike_but_for_place(b)) =>
            {
                page.clone()
            }
            _ => {
                if cache.ledger_rows.0 != theme.key {
                    cache.ledger_rows = (theme.key, Default::default());
                }
                notebook::pages::ledger_reusing(claims, theme, &mut cache.ledger_rows.1)
            }
        };
        diagnostics.extend(diags.iter().cloned());
        generated.push(ledger.clone());
        cache.ledger = Some((theme.key, claims.to_vec(), (ledger, diags)));
    }
    if !data.is_empty() {
        let key = hash_of(&(prelude_key, theme.key));
        let (page, diags) = match &cache.sources {
            Some((k, page)) if *k == key => page.clone(),
            _ => notebook::pages::sources(data, theme),
        };
        diagnostics.extend(diags.iter().cloned());
        generated.push(page.clone());
        cache.sources = Some((key, (page, diags)));
    }
    generated
}

/// Codes of the diagnostics about links inside the book that do not land (a page or an anchor).
pub const LINK_CODES: &[Code] = &[Code::BrokenLink, Code::BrokenAnchor];

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
            let original = (original != chapter.text).then(|| text_hash(original.as_bytes()));
            hash_of(&(
                &options,
                text_hash(chapter.text.as_bytes()),
                original,
                &chapter.title,
                &chapter.number,
                &chapter.out_path,
            ))
        })
        .collect()
}

/// What every chapter is evaluated and drawn with.
#[derive(Clone, Copy)]
struct ChapterInputs<'a> {
    book: &'a book::Book,
    prelude: &'a calc::Scope,
    /// Every data entry as `file.id`.
    records: &'a std::collections::HashSet<String>,
    options: &'a render::markdown::MarkdownOptions,
    /// None: the cells are only evaluated (`check`).
    theme: Option<&'a render::Theme>,
}

/// Evaluates and renders, in parallel, the chapters whose key is not the cached one. With `drawn`
/// (a context key and each chapter's memo, under `serve`) a chapter reuses the cells it drew last
/// time that are unchanged; returns how many it reused.
fn evaluate_stale_chapters(
    inputs: &ChapterInputs,
    keys: &[u64],
    cached: &mut HashMap<PathBuf, (u64, CachedChapter)>,
    mut drawn: Option<(u64, &mut notebook::memo::KeptCells)>,
) -> usize {
    use rayon::prelude::*;
    let ChapterInputs {
        book,
        prelude,
        records,
        options,
        theme,
    } = *inputs;
    let options_text = format!("{options:?}");
    let stale: Vec<(&book::Chapter, u64, Option<notebook::memo::CellMemo>)> = book
        .chapters
        .iter()
        .zip(keys.iter().copied())
        .filter(|(c, key)| cached.get(&c.source).is_none_or(|(k, _)| k != key))
        .map(|(chapter, key)| {
            let memo = drawn.as_mut().map(|(context, memos)| {
                let context = hash_of(&(
                    *context,
                    &options_text,
                    &chapter.title,
                    &chapter.number,
                    &chapter.out_path,
                ));
                memos.take(&chapter.source).for_context(context)
            });
            (chapter, key, memo)
        })
        .collect();
    let budget = calc::budget::current();
    let fresh: Vec<(
        PathBuf,
        u64,
        CachedChapter,
        Option<notebook::memo::CellMemo>,
    )> = stale
        .into_par_iter()
        .map(|(chapter, key, memo)| {
            // Every worker counts against this build's one book-wide budget.
            calc::budget::enter(budget.clone());
            let mut nb = notebook::ChapterNotebook::new(prelude.clone(), chapter, &book.sources)
                .with_data_records(records.clone());
            if let Some(theme) = theme {
                nb = nb.with_theme(theme);
            }
            if let Some(memo) = memo {
                nb = nb.with_memo(memo);
            }
            let mut markdown =
                render::markdown::render_with(&chapter.text, &chapter.out_path, &mut nb, options);
            // The ids of claim boxes, figures and tables, which links may target, whether the
            // cells were drawn or only evaluated (`check`).
            markdown.ids.append(&mut nb.anchors);
            let memo = nb.take_memo();
            let out = CachedChapter {
                markdown: std::sync::Arc::new(markdown),
                claims: nb.claims,
                diagnostics: nb.diagnostics,
                files: (nb.files.into_iter())
                    .map(|(path, bytes)| (path, std::sync::Arc::new(bytes)))
                    .collect(),
            };
            (chapter.source.clone(), key, out, memo)
        })
        .collect();
    let mut reused = 0;
    let mut kept = Vec::new();
    for (source, key, out, memo) in fresh {
        if let Some(memo) = memo {
            reused += memo.reused;
            kept.push((source.clone(), memo));
        }
        cached.insert(source, (key, out));
    }
    if let Some((_, memos)) = drawn {
        memos.keep(kept);
    }
    reused
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

/// A hash of a chapter's bytes that tells an edited chapter from the one cached, at several GB/s
/// (SipHash over a 13 MB book cost a save tens of ms). Each 8-byte word goes through a bijection of
/// the state (rotate, xor, multiply by an odd constant), so texts of one length that differ in a
/// single word never collide; the length is mixed in last.
fn text_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut state: u64 = 0;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        state = (state.rotate_left(5) ^ word).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    state = (state.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    (state.rotate_left(5) ^ bytes.len() as u64).wrapping_mul(K)
}

fn hash_of(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::text_hash;

    #[test]
    fn text_hash_tells_apart_edits_of_one_word_and_of_the_length() {
        let text = "# Chapter\n\nSome prose that an author edits, word by word.\n".repeat(3);
        let base = text_hash(text.as_bytes());
        for at in 0..text.len() {
            let mut edited = text.clone().into_bytes();
            edited[at] ^= 1;
            assert_ne!(text_hash(&edited), base, "a change at byte {at}");
        }
        assert_ne!(text_hash(b"abc"), text_hash(b"abc\0"));
        assert_ne!(text_hash(b""), text_hash(b"\0"));
        assert_eq!(text_hash(text.as_bytes()), base);
    }
}
