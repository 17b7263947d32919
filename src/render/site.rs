//! The whole site: every page, the print page, the 404 page, the search index, the theme's assets
//! and the book's static files, as (output path → bytes), each handed to a [`SiteSink`] as soon as
//! it is made: a [`Site`] in memory (so `check` can render without writing and `serve` can
//! compare) or `build`'s staging folder ([`crate::output::Staging`]), pages from the threads that
//! template them.
//!
//! Pages do not carry the table of contents: it is rendered once into `toc.js`, which every page
//! loads to fill its sidebar, and into `toc.html` for readers without JavaScript (mdBook 0.5's
//! design), so a page's weight does not grow with the book. A [`PageCache`] keeps each page under
//! a key of its inputs, so a rebuild templates only the pages an edit touched.

use crate::diagnostic::Code;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use super::html_options;
use super::markdown::{self, PageLink, RenderedMarkdown};
use super::part::{Part, splice};
use super::sink::{SiteSink, Tracked};
use super::theme::Theme;
use crate::book::html_config::HtmlConfig;
use crate::book::{Book, Chapter, SummaryItem};
use crate::diagnostic::Diagnostic;

/// Output files by path relative to the output root (`/`-separated, never escaping it). Each
/// file's bytes are shared: a rebuild hands unchanged pages over from the [`PageCache`] without
/// copying them, and comparing two builds finds them equal by pointer.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Site {
    pub files: BTreeMap<String, Arc<Vec<u8>>>,
}

impl Site {
    pub fn add(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), Arc::new(bytes.into()));
    }

    /// Adds a file whose bytes another build or cache also holds.
    pub fn add_shared(&mut self, path: impl Into<String>, bytes: Arc<Vec<u8>>) {
        self.files.insert(path.into(), bytes);
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|b| b.as_slice())
    }

    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(|b| std::str::from_utf8(b).ok())
    }
}

/// A page produced by a later stage rather than a chapter file (the claims ledger, the data
/// appendix). It is listed at the end of the table of contents.
#[derive(Debug, Clone)]
pub struct GeneratedPage {
    pub title: String,
    pub path: String,
    pub html: String,
    /// The ids the page defines, which links from chapters may target; known without drawing it,
    /// so `check` sees the same targets as `build`.
    pub ids: Vec<String>,
}

/// A chapter after Markdown and cells were rendered.
pub struct RenderedChapter<'a> {
    pub chapter: &'a Chapter,
    pub markdown: Arc<RenderedMarkdown>,
    /// Changes whenever the rendered Markdown may have (a key over the chapter's inputs).
    pub key: u64,
}

#[derive(Debug, Clone, Serialize, Hash)]
struct TocItem {
    kind: &'static str,
    title: String,
    number: String,
    href: String,
    active: bool,
    expanded: bool,
    draft: bool,
    children: Vec<TocItem>,
}

impl TocItem {
    fn new(kind: &'static str, title: &str, href: String) -> TocItem {
        TocItem {
            kind,
            title: title.to_string(),
            number: String::new(),
            href,
            active: false,
            expanded: false,
            draft: false,
            children: Vec::new(),
        }
    }

    fn separator() -> TocItem {
        TocItem::new("separator", "", String::new())
    }
}

#[derive(Serialize, Clone, Copy)]
struct NavLink<'a> {
    title: &'a str,
    href: &'a str,
}

/// Maps a diagnostic found in a chapter's expanded text to the chapter file.
pub fn locate(chapter: &Chapter, diag: Diagnostic) -> Diagnostic {
    let diag = chapter.map.map_diagnostic(diag);
    if diag.file.is_none() {
        diag.with_file(&chapter.source)
    } else {
        diag
    }
}

/// What assembling keeps from one render to the next (`serve` keeps one): each page's HTML and
/// search entries under a key of everything it was made from, the print page's frame and the
/// contents files. An edit to one chapter then templates that one page; a title change, the
/// contents and the neighbours whose previous/next links name it.
#[derive(Default)]
pub struct PageCache {
    pages: HashMap<String, CachedPage>,
    contents: Option<(u64, Vec<u8>, Vec<u8>)>,
    print: Option<(u64, Option<Vec<String>>)>,
    not_found: Option<(u64, Arc<Vec<u8>>)>,
    /// The output paths the last [`assemble_cached`] templated anew (the rest came from here).
    pub rendered: Vec<String>,
    /// How long the last assembly's stages took.
    pub timings: crate::pipeline::Timings,
    /// The cache serves one assembly only (`build`): a page goes to the sink and is not kept,
    /// so that the book is never held whole.
    one_shot: bool,
    /// The last search index and print page made, which the pages' [`Part::In`] shares point into.
    last_search: Option<Arc<Vec<u8>>>,
    last_print: Option<Arc<Vec<u8>>>,
}

impl PageCache {
    /// A cache for a single assembly, which keeps no page once it is handed over.
    pub fn one_shot() -> PageCache {
        PageCache {
            one_shot: true,
            ..PageCache::default()
        }
    }
}

struct CachedPage {
    key: u64,
    /// The page; not kept by a [`PageCache::one_shot`] cache (but for the first page, which
    /// `index.html` may copy).
    html: Option<Arc<Vec<u8>>>,
    /// The page's entries of the search index, as JSON objects joined by commas.
    search: Part,
    /// The page's content as the print page shows it ([`super::print::for_print`]), under a key of
    /// the book's page paths (links to other pages point inside the print page); made when the
    /// print page is, so that a `serve` rebuild that leaves it for later does not pay for it.
    printed: Option<(u64, Part)>,
}

/// One page to template: a chapter's or a generated one's.
#[derive(Clone, Copy)]
struct PageInput<'a> {
    /// The title in the table of contents and previous/next links.
    title: &'a str,
    /// The page's own <title> (`{{#title}}`), usually `title`.
    page_title: &'a str,
    /// The chapter file as a URL path, for `edit-url-template`.
    source: Option<&'a String>,
    path: &'a str,
    content: &'a str,
    /// Changes whenever `content` does (a chapter's source key, a generated page's hash).
    content_key: u64,
    /// The chapter's number in the sidebar (`2.1.`), empty for unnumbered pages.
    number: &'a str,
}

/// Builds the site from rendered chapters. Returns the site and every diagnostic (chapter ones
/// located in their files, broken links, template errors).
pub fn assemble(
    book: &Book,
    theme: &Theme,
    chapters: &[RenderedChapter],
    generated: &[GeneratedPage],
    live_reload: bool,
) -> (Site, Vec<Diagnostic>) {
    let mut cache = PageCache::default();
    let options = AssembleOptions {
        live_reload,
        whole_book: WholeBook::Both,
    };
    assemble_cached(book, theme, chapters, generated, options, &mut cache)
}

/// How [`assemble_cached`] assembles.
#[derive(Debug, Clone, Copy)]
pub struct AssembleOptions {
    /// Pages load the live-reload client (`serve`).
    pub live_reload: bool,
    /// Which of the files that hold the whole book to make.
    pub whole_book: WholeBook,
}

/// Which of the files that hold the whole book (the search index, the print page) a render
/// makes. `serve` answers a save with neither, then makes each in a render of its own after the
/// update is out: the old and new copies of one file (15 MB each for a 13 MB book) are held
/// together, not those of both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WholeBook {
    #[default]
    Both,
    SearchIndex,
    PrintPage,
    Neither,
}

impl WholeBook {
    pub fn makes_search_index(self) -> bool {
        matches!(self, WholeBook::Both | WholeBook::SearchIndex)
    }

    pub fn makes_print_page(self) -> bool {
        matches!(self, WholeBook::Both | WholeBook::PrintPage)
    }
}

/// As [`assemble`], templating only the pages whose inputs changed since `cache` was filled.
pub fn assemble_cached(
    book: &Book,
    theme: &Theme,
    chapters: &[RenderedChapter],
    generated: &[GeneratedPage],
    options: AssembleOptions,
    cache: &mut PageCache,
) -> (Site, Vec<Diagnostic>) {
    let collect = super::sink::Collect::default();
    let diags = assemble_into(book, theme, chapters, generated, options, cache, &collect);
    (collect.into_site(), diags)
}

/// As [`assemble_cached`], handing every file to `sink` as soon as it is made (pages from the
/// threads that template them) rather than collecting the site.
pub fn assemble_into(
    book: &Book,
    theme: &Theme,
    chapters: &[RenderedChapter],
    generated: &[GeneratedPage],
    options: AssembleOptions,
    cache: &mut PageCache,
    sink: &dyn SiteSink,
) -> Vec<Diagnostic> {
    let AssembleOptions {
        live_reload,
        whole_book,
    } = options;
    let site = Tracked::new(sink);
    let mut diags: Vec<Diagnostic> = Vec::new();
    for rc in chapters {
        for d in &rc.markdown.diagnostics {
            diags.push(locate(rc.chapter, d.clone()));
        }
    }
    cache.rendered.clear();
    cache.timings.start();

    let book_ctx = serde_json::json!({
        "title": book.title(),
        "description": book.config.book.description.clone().unwrap_or_default(),
        "language": book.config.book.language,
        "authors": book.config.book.authors,
    });
    let html_config = book.config.html();
    let frame = Frame {
        book: &book_ctx,
        assets: &theme.asset_paths,
        live_reload,
        html: &html_config,
        key: hash_of(&(
            book_ctx.to_string(),
            theme.key,
            live_reload,
            format!("{html_config:?}"),
        )),
    };
    let sources: Vec<String> = chapters
        .iter()
        .map(|rc| source_url(&rc.chapter.source))
        .collect();
    let inputs: Vec<PageInput> = chapters
        .iter()
        .zip(&sources)
        .map(|(rc, source)| PageInput {
            title: &rc.chapter.title,
            // `{{#title …}}` sets the page's <title>; the table of contents keeps SUMMARY's.
            page_title: rc
                .chapter
                .page_title
                .as_deref()
                .unwrap_or(&rc.chapter.title),
            source: Some(source),
            path: &rc.chapter.out_path,
            content: &rc.markdown.html,
            content_key: rc.key,
            number: &rc.chapter.number,
        })
        .chain(generated.iter().map(|g| PageInput {
            title: &g.title,
            page_title: &g.title,
            source: None,
            path: &g.path,
            content: &g.html,
            content_key: hash_of(&g.html),
            number: "",
        }))
        .collect();
    if let Some(d) = template_pages(theme, &frame, &inputs, cache, &site) {
        diags.push(d);
    }
    cache.timings.lap("pages");
    if let Some(d) = add_index(&site, theme, &frame, &inputs, cache) {
        diags.push(d);
    }
    let base_toc = build_toc(&book.summary.items, generated);
    match contents_files(theme, &frame, &base_toc, cache) {
        Ok((js, page)) => {
            site.add("toc.js", js);
            site.add("toc.html", page);
        }
        Err(d) => diags.push(d),
    }
    cache.timings.lap("contents");
    add_whole_book_files(&site, theme, &frame, &inputs, cache, whole_book, &mut diags);

    match not_found_page(book, theme, &frame, &mut diags, cache) {
        Ok(html) => site.add_shared("404.html", html),
        Err(d) => diags.push(d),
    }

    for (path, bytes) in &theme.assets {
        site.add(path.as_str(), bytes.as_slice());
    }
    for rel in &book.static_files {
        let out = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        match crate::book::fs::read_bytes(
            &book.root,
            &book.config.book.src.join(rel),
            crate::book::fs::limits().max_file_bytes,
        ) {
            Ok(bytes) => site.add(out, bytes),
            Err(e) => diags.push(
                Diagnostic::error(Code::UnreadableFile, format!("cannot read: {e}"))
                    .with_file(book.config.book.src.join(rel)),
            ),
        }
    }

    write_redirects(&site, &html_config, &mut diags);
    copy_additional_files(book, &html_config, &site, &mut diags);
    cache.timings.lap("files");
    diags.extend(check_links(chapters, generated, &site));
    cache.timings.lap("links");
    diags
}

/// What [`assemble`] reports about a book, found without templating a page (`check`): the
/// chapters' Markdown diagnostics, `src/404.md`'s, unreadable static files, bad redirects and
/// additional files, and every in-book link checked against the pages' ids and the files the site
/// would hold. Errors that only drawing shows (a template of the book's that parses but fails on
/// its data) are left to `build`.
pub fn check_without_pages(
    book: &Book,
    theme: Option<&Theme>,
    chapters: &[RenderedChapter],
    generated: &[GeneratedPage],
) -> Vec<Diagnostic> {
    let mut diags: Vec<Diagnostic> = Vec::new();
    for rc in chapters {
        for d in &rc.markdown.diagnostics {
            diags.push(locate(rc.chapter, d.clone()));
        }
    }
    // The files a build writes besides the pages, by name: links check only that they exist.
    let site = Tracked::new(&super::sink::Discard);
    let pages = chapters.iter().map(|rc| rc.chapter.out_path.as_str());
    for path in pages.chain(generated.iter().map(|g| g.path.as_str())) {
        site.add(path, Vec::new());
    }
    if !chapters.is_empty() || !generated.is_empty() {
        site.add("index.html", Vec::new());
    }
    for name in ["toc.js", "toc.html", "print.html", "404.html"] {
        site.add(name, Vec::new());
    }
    if book.config.html().search.enable {
        site.add("searchindex.js", Vec::new());
    }
    for path in theme.iter().flat_map(|t| t.assets.keys()) {
        site.add(path.as_str(), Vec::new());
    }
    not_found_content(book, &mut diags);
    for rel in &book.static_files {
        let limit = crate::book::fs::limits().max_file_bytes;
        let src = book.config.book.src.join(rel);
        match crate::book::fs::read_bytes(&book.root, &src, limit) {
            Ok(_) => site.add(source_url(rel), Vec::new()),
            Err(e) => diags.push(
                Diagnostic::error(Code::UnreadableFile, format!("cannot read: {e}")).with_file(src),
            ),
        }
    }
    let html_config = book.config.html();
    write_redirects(&site, &html_config, &mut diags);
    copy_additional_files(book, &html_config, &site, &mut diags);
    diags.extend(check_links(chapters, generated, &site));
    diags
}

/// `additional-css` and `additional-js` files, relative to the book root, are copied to the same
/// place in the output (unless the source folder already put them there).
fn copy_additional_files(
    book: &Book,
    html: &HtmlConfig,
    site: &Tracked,
    diags: &mut Vec<Diagnostic>,
) {
    for rel in html.additional_css.iter().chain(&html.additional_js) {
        let out = source_url(rel);
        if site.contains(&out) {
            continue;
        }
        if !crate::book::is_contained(rel) {
            diags.push(
                Diagnostic::warning(
                    Code::BadAdditionalFile,
                    format!("`{out}` is outside the book; not copied"),
                )
                .with_file(crate::book::config::FILE_NAME),
            );
            continue;
        }
        match std::fs::read(book.root.join(rel)) {
            Ok(bytes) => site.add(out, bytes),
            Err(e) => diags.push(
                Diagnostic::warning(
                    Code::BadAdditionalFile,
                    format!("cannot read `{out}` named in [output.html]: {e}"),
                )
                .with_file(crate::book::config::FILE_NAME),
            ),
        }
    }
}

/// A chapter file as a URL path (`src/part/a.md`), for `edit-url-template`.
fn source_url(source: &std::path::Path) -> String {
    source
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The 404 page, served at any depth, so its links start at the site root; `src/404.md` is its
/// content when the book has one.
fn not_found_page(
    book: &Book,
    theme: &Theme,
    frame: &Frame,
    diags: &mut Vec<Diagnostic>,
    cache: &mut PageCache,
) -> Result<Arc<Vec<u8>>, Diagnostic> {
    let site_root = site_url(book);
    let content = not_found_content(book, diags);
    let key = hash_of(&(frame.key, &site_root, &content));
    if let Some((k, page)) = &cache.not_found
        && *k == key
    {
        return Ok(Arc::clone(page));
    }
    let mut ctx = page_context(frame, "Page not found", "404.html", "", None, None);
    ctx.insert("root", &site_root);
    if let Some(content) = content {
        ctx.insert(
            "page",
            &serde_json::json!({ "title": "Page not found", "path": "404.html", "content": content }),
        );
    }
    let html = theme.render("404.html", &ctx)?;
    let page = html_options::apply(html, &site_root, None, frame.html);
    let page = Arc::new(page.into_bytes());
    cache.not_found = Some((key, Arc::clone(&page)));
    Ok(page)
}

/// `src/404.md`, rendered, for the 404 page (mdBook's default name for it).
fn not_found_content(book: &Book, diags: &mut Vec<Diagnostic>) -> Option<String> {
    let rel = book.config.book.src.join("404.md");
    let text = std::fs::read_to_string(book.root.join(&rel)).ok()?;
    let options = book.config.markdown_options();
    let rendered = markdown::render_with(&text, "404.html", &mut markdown::NoCells, &options);
    diags.extend(
        rendered
            .diagnostics
            .into_iter()
            .map(|d| d.with_file(rel.clone())),
    );
    Some(rendered.html)
}

/// `[output.html.redirect]`: a page at each old path sends readers to the new one. Entries with a
/// `#fragment` map that fragment of the old page; a page the book itself writes is never replaced.
fn write_redirects(site: &Tracked, html: &HtmlConfig, diags: &mut Vec<Diagnostic>) {
    // Old page → (where it went, its fragments' new places).
    type Moved = (Option<String>, Vec<(String, String)>);
    let mut pages: BTreeMap<String, Moved> = BTreeMap::new();
    for (old, new) in &html.redirect {
        // Paths are relative to the output root, however they are written (`/a.html`, `./a.html`).
        let mut old = old.trim_start_matches('/');
        while let Some(rest) = old.strip_prefix("./") {
            old = rest.trim_start_matches('/');
        }
        let (path, fragment) = match old.split_once('#') {
            Some((p, f)) => (p, Some(format!("#{f}"))),
            None => (old, None),
        };
        let entry = pages.entry(path.to_string()).or_default();
        match fragment {
            Some(f) => entry.1.push((f, new.clone())),
            None => entry.0 = Some(new.clone()),
        }
    }
    for (path, (target, fragments)) in pages {
        if site.contains(&path) {
            continue;
        }
        if !crate::output::is_safe_relative(&path) {
            diags.push(
                Diagnostic::warning(
                    Code::BadRedirect,
                    format!("redirect from `{path}` leaves the output folder; not written"),
                )
                .with_file(crate::book::config::FILE_NAME),
            );
            continue;
        }
        let Some(target) = target else {
            diags.push(
                Diagnostic::warning(
                    Code::BadRedirect,
                    format!("redirects from `{path}#…` need one from `{path}` itself; not written"),
                )
                .with_file(crate::book::config::FILE_NAME),
            );
            continue;
        };
        site.add(path, html_options::redirect_page(&target, &fragments));
    }
}

/// What every page's template gets besides the page itself.
struct Frame<'a> {
    book: &'a serde_json::Value,
    assets: &'a BTreeMap<String, String>,
    live_reload: bool,
    /// `[output.html]` options applied to every page after templating.
    html: &'a HtmlConfig,
    /// Changes whenever any of the above or the theme does.
    key: u64,
}

/// Templates the pages whose key changed, in parallel, into `cache`, handing each to `site` as
/// soon as it is made, then hands over the unchanged pages from `cache`; forgets pages that went.
/// Returns the first template error.
fn template_pages(
    theme: &Theme,
    frame: &Frame,
    inputs: &[PageInput],
    cache: &mut PageCache,
    site: &Tracked,
) -> Option<Diagnostic> {
    use rayon::prelude::*;
    // Reading order for previous/next: chapters, then generated pages.
    let nav = |j: Option<usize>| j.and_then(|j| inputs.get(j)).map(|p| (p.title, p.path));
    let keyed: Vec<(usize, u64)> = (0..inputs.len())
        .map(|i| {
            let p = &inputs[i];
            let around = (nav(i.checked_sub(1)), nav(Some(i + 1)));
            let key = hash_of(&(frame.key, p.content_key, p.title, p.path, around));
            (i, key)
        })
        .collect();
    let stale: Vec<(usize, u64)> = keyed
        .into_iter()
        .filter(|(i, key)| {
            cache
                .pages
                .get(inputs[*i].path)
                .is_none_or(|c| c.key != *key)
        })
        .collect();
    let one_shot = cache.one_shot;
    let fresh: Vec<Result<(usize, CachedPage), Diagnostic>> = stale
        .par_iter()
        .map(|&(i, key)| {
            let p = &inputs[i];
            let link = |j: Option<usize>| {
                j.and_then(|j| inputs.get(j)).map(|q| NavLink {
                    title: q.title,
                    href: q.path,
                })
            };
            let mut ctx = page_context(frame, p.page_title, p.path, p.content, None, None);
            ctx.insert("prev", &link(i.checked_sub(1)));
            ctx.insert("next", &link(Some(i + 1)));
            let html = theme.render("page.html", &ctx)?;
            let root = "../".repeat(p.path.matches('/').count());
            let html = html_options::apply(html, &root, p.source.map(String::as_str), frame.html);
            let search = super::search::entries(p.title, p.path, p.content);
            let mut html = html.into_bytes();
            if !one_shot {
                // Kept until the page changes: not with the slack of the buffer Tera grew it in.
                html.shrink_to_fit();
            }
            let html = Arc::new(html);
            site.add_shared(p.path, Arc::clone(&html));
            Ok((
                i,
                CachedPage {
                    key,
                    html: (!one_shot || i == 0).then_some(html),
                    search: Part::Own(search),
                    printed: None,
                },
            ))
        })
        .collect();
    let fresh_count = fresh.len();
    let mut first_error = None;
    for result in fresh {
        match result {
            Ok((i, page)) => {
                cache.rendered.push(inputs[i].path.to_string());
                cache.pages.insert(inputs[i].path.to_string(), page);
            }
            Err(d) => {
                first_error.get_or_insert(d);
            }
        }
    }
    // The pages templated before and unchanged since.
    if fresh_count < inputs.len() {
        let fresh: HashSet<&str> = cache.rendered.iter().map(String::as_str).collect();
        for input in inputs.iter().filter(|p| !fresh.contains(p.path)) {
            if let Some(html) = cache.pages.get(input.path).and_then(|p| p.html.clone()) {
                site.add_shared(input.path, html);
            }
        }
    }
    let live: HashSet<&str> = inputs.iter().map(|p| p.path).collect();
    cache.pages.retain(|path, _| live.contains(path.as_str()));
    first_error
}

/// The files that hold the whole book, the search index and the print page (those `make` names),
/// spliced from the pages' cached parts.
fn add_whole_book_files(
    site: &Tracked,
    theme: &Theme,
    frame: &Frame,
    inputs: &[PageInput],
    cache: &mut PageCache,
    make: WholeBook,
    diags: &mut Vec<Diagnostic>,
) {
    if frame.html.search.enable && make.makes_search_index() {
        site.add_shared("searchindex.js", search_index(inputs, cache));
        cache.timings.lap("search");
    }
    // On the print page every chapter shares one page: `print::for_print` gives each id its
    // page's prefix and points links between chapters inside the page.
    if make.makes_print_page() {
        match print_page(theme, frame, inputs, cache) {
            Ok(html) => site.add_shared("print.html", html),
            Err(d) => diags.push(d),
        }
        cache.timings.lap("print");
    }
}

/// `searchindex.js`: every page's entries, in reading order, written once in place (the index
/// holds the whole book's text). Each page's entries then point into it ([`Part`]).
fn search_index(inputs: &[PageInput], cache: &mut PageCache) -> Arc<Vec<u8>> {
    let last = cache.last_search.take();
    let pages: Vec<(&str, &[u8])> = inputs
        .iter()
        .filter_map(|input| Some((input.path, cache.pages.get(input.path)?)))
        .map(|(path, page)| (path, page.search.bytes(last.as_deref().map(Vec::as_slice))))
        .filter(|(_, entries)| !entries.is_empty())
        .collect();
    let entries: Vec<&[u8]> = pages.iter().map(|(_, e)| *e).collect();
    let (index, ranges) = splice(
        b"window.calcbookSearchIndex = {\"docs\":[",
        &entries,
        b",",
        b"]};\n",
    );
    let paths: Vec<String> = pages.iter().map(|(path, _)| path.to_string()).collect();
    let index = Arc::new(index);
    if !cache.one_shot {
        for (path, range) in paths.into_iter().zip(ranges) {
            if let Some(page) = cache.pages.get_mut(&path) {
                page.search = Part::In(range);
            }
        }
        cache.last_search = Some(Arc::clone(&index));
    }
    index
}

/// index.html: mdBook serves the first chapter there when no chapter is README.md.
fn add_index(
    site: &Tracked,
    theme: &Theme,
    frame: &Frame,
    inputs: &[PageInput],
    cache: &PageCache,
) -> Option<Diagnostic> {
    if site.contains("index.html") {
        return None;
    }
    let first = inputs.first()?;
    if !first.path.contains('/') {
        if let Some(bytes) = cache.pages.get(first.path).and_then(|p| p.html.clone()) {
            site.add_shared("index.html", bytes);
        }
        return None;
    }
    // As mdBook: the first chapter rendered again at the root, not a redirect.
    let next = inputs.get(1).map(|q| NavLink {
        title: q.title,
        href: q.path,
    });
    let mut ctx = page_context(
        frame,
        first.page_title,
        "index.html",
        first.content,
        None,
        None,
    );
    ctx.insert("next", &next);
    match theme.render("page.html", &ctx) {
        Ok(html) => {
            let html = html_options::apply(html, "", first.source.map(String::as_str), frame.html);
            site.add("index.html", html);
            None
        }
        Err(d) => Some(d),
    }
}

/// toc.js (the sidebar of every page) and toc.html (the contents page for readers without
/// JavaScript), from one rendering of the contents template.
fn contents_files(
    theme: &Theme,
    frame: &Frame,
    toc: &[TocItem],
    cache: &mut PageCache,
) -> Result<(Vec<u8>, Vec<u8>), Diagnostic> {
    let key = hash_of(&(frame.key, toc));
    if let Some((k, js, page)) = &cache.contents
        && *k == key
    {
        return Ok((js.clone(), page.clone()));
    }
    let mut ctx = tera::Context::new();
    ctx.insert("toc", toc);
    let list = theme.render("contents.html", &ctx)?;
    let list = list.trim();
    // `</` inside a script's string would end the script; JSON may write `<\/` for it.
    let json = serde_json::to_string(list)
        .unwrap_or_default()
        .replace("</", "<\\/");
    let js = TOC_JS.replace("__CALCBOOK_TOC__", &json).into_bytes();
    let content =
        format!("<div class=\"page-contents\"><h1 id=\"contents\">Contents</h1>\n{list}\n</div>");
    let ctx = page_context(frame, "Contents", "toc.html", &content, None, None);
    let page = theme.render("page.html", &ctx)?.into_bytes();
    cache.rendered.push("toc.js".into());
    cache.rendered.push("toc.html".into());
    cache.contents = Some((key, js.clone(), page.clone()));
    Ok((js, page))
}

/// The script that fills the sidebar; `__CALCBOOK_TOC__` becomes the contents as a JSON string.
const TOC_JS: &str = include_str!("toc.js");

/// The print page: every page in reading order. The template is applied to placeholders and
/// kept; each build splices the pages' current content into it, so an edit costs a copy of the
/// book, not a template run over it.
fn print_page(
    theme: &Theme,
    frame: &Frame,
    inputs: &[PageInput],
    cache: &mut PageCache,
) -> Result<Arc<Vec<u8>>, Diagnostic> {
    let outline: Vec<(&str, &str, &str)> =
        inputs.iter().map(|p| (p.title, p.path, p.number)).collect();
    let key = hash_of(&(frame.key, &outline));
    let marker = |i: usize| format!("\u{1}calcbook-print-{i}\u{1}");
    if cache.print.as_ref().is_none_or(|(k, _)| *k != key) {
        let placeholders: Vec<String> = (0..inputs.len()).map(marker).collect();
        // The page-level options go into the frame, around the pages' content rather than into it
        // (a chapter's own `</article>` is not the page's), and cost no pass over the book.
        let html = render_print(theme, frame, inputs, |i| &placeholders[i])?;
        let html = html_options::apply(html, "", None, frame.html);
        // A theme's print template that does not show each content once, in order, is run in full.
        let mut pieces = Vec::with_capacity(inputs.len() + 1);
        let mut rest = html.as_str();
        for placeholder in &placeholders {
            match rest.split_once(placeholder.as_str()) {
                Some((before, after)) => {
                    pieces.push(before.to_string());
                    rest = after;
                }
                None => break,
            }
        }
        pieces.push(rest.to_string());
        let spliceable = pieces.len() == inputs.len() + 1 && !rest.contains("\u{1}calcbook-print-");
        cache.print = Some((key, spliceable.then_some(pieces)));
        cache.rendered.push("print.html".into());
    }
    refresh_printed(inputs, &mut cache.pages);
    let last = cache.last_print.take();
    let last_bytes = last.as_deref().map(Vec::as_slice);
    let printed: Vec<&[u8]> = inputs
        .iter()
        .map(|p| {
            let printed = cache.pages.get(p.path).and_then(|c| c.printed.as_ref());
            printed.map_or(&b""[..], |(_, part)| part.bytes(last_bytes))
        })
        .collect();
    let Some(pieces) = cache.print.as_ref().and_then(|(_, p)| p.as_ref()) else {
        let text = |i: usize| std::str::from_utf8(printed[i]).unwrap_or_default();
        let html = render_print(theme, frame, inputs, text)
            .map(|html| Arc::new(html_options::apply(html, "", None, frame.html).into_bytes()));
        drop(printed);
        cache.last_print = last;
        return html;
    };
    // The frame's pieces and the pages' contents in turn: a piece before each content, one after.
    let mut out = Vec::with_capacity(
        pieces.iter().map(String::len).sum::<usize>()
            + printed.iter().map(|p| p.len()).sum::<usize>(),
    );
    let mut ranges = Vec::with_capacity(printed.len());
    for (i, piece) in pieces.iter().enumerate() {
        out.extend_from_slice(piece.as_bytes());
        if let Some(p) = printed.get(i) {
            let start = out.len();
            out.extend_from_slice(p);
            ranges.push(start..out.len());
        }
    }
    drop(printed);
    let out = Arc::new(out);
    if !cache.one_shot {
        for (input, range) in inputs.iter().zip(ranges) {
            if let Some((_, part)) = cache
                .pages
                .get_mut(input.path)
                .and_then(|c| c.printed.as_mut())
            {
                *part = Part::In(range);
            }
        }
        cache.last_print = Some(Arc::clone(&out));
    }
    Ok(out)
}

/// Every page's content as the print page shows it: ids made unique across pages, links kept
/// inside the print page, calculations unfolded. Made anew only for pages templated since the last
/// print page, or for all when a page came or went.
fn refresh_printed(inputs: &[PageInput], pages: &mut HashMap<String, CachedPage>) {
    use rayon::prelude::*;
    let paths: Vec<&str> = inputs.iter().map(|p| p.path).collect();
    let paths_key = hash_of(&paths);
    let paths: HashSet<&str> = paths.into_iter().collect();
    let stale: Vec<&PageInput> = inputs
        .iter()
        .filter(|p| {
            let printed = pages.get(p.path).and_then(|c| c.printed.as_ref());
            printed.is_none_or(|(k, _)| *k != paths_key)
        })
        .collect();
    let fresh: Vec<(&str, String)> = stale
        .par_iter()
        .map(|p| (p.path, super::print::for_print(p.path, p.content, &paths)))
        .collect();
    for (path, printed) in fresh {
        if let Some(page) = pages.get_mut(path) {
            page.printed = Some((paths_key, Part::Own(printed)));
        }
    }
}

fn render_print<'a>(
    theme: &Theme,
    frame: &Frame,
    inputs: &'a [PageInput],
    content: impl Fn(usize) -> &'a str,
) -> Result<String, Diagnostic> {
    let chapters: Vec<_> = inputs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            serde_json::json!({
                "title": p.title,
                "path": p.path,
                "number": p.number,
                "anchor": super::print::page_anchor(p.path),
                "content": content(i),
            })
        })
        .collect();
    let mut ctx = page_context(frame, "Print", "print.html", "", None, None);
    ctx.insert("chapters", &chapters);
    theme.render("print.html", &ctx)
}

fn site_url(book: &Book) -> String {
    let url = book
        .config
        .output
        .get("html")
        .and_then(|h| h.get("site-url"))
        .and_then(|v| v.as_str())
        .unwrap_or("/");
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

fn page_context(
    frame: &Frame,
    title: &str,
    path: &str,
    content: &str,
    prev: Option<NavLink>,
    next: Option<NavLink>,
) -> tera::Context {
    let depth = path.matches('/').count();
    let mut ctx = tera::Context::new();
    ctx.insert("book", frame.book);
    ctx.insert(
        "page",
        &serde_json::json!({ "title": title, "path": path, "content": content }),
    );
    ctx.insert("root", &"../".repeat(depth));
    ctx.insert("assets", frame.assets);
    ctx.insert("prev", &prev);
    ctx.insert("next", &next);
    ctx.insert("live_reload", &frame.live_reload);
    ctx
}

fn build_toc(items: &[SummaryItem], generated: &[GeneratedPage]) -> Vec<TocItem> {
    fn chapter_items(items: &[SummaryItem]) -> Vec<TocItem> {
        items
            .iter()
            .filter_map(|item| match item {
                SummaryItem::Chapter(link) => {
                    let href = link.path.as_deref().map(crate::book::page_name);
                    Some(TocItem {
                        number: link.number_text(),
                        draft: href.is_none(),
                        children: chapter_items(&link.nested),
                        ..TocItem::new("chapter", &link.title, href.unwrap_or_default())
                    })
                }
                SummaryItem::Separator => Some(TocItem::separator()),
                SummaryItem::PartTitle { .. } => None,
            })
            .collect()
    }
    // A part title groups the chapters that follow it, up to the next part.
    let mut out: Vec<TocItem> = Vec::new();
    let mut current_part: Option<TocItem> = None;
    for item in items {
        match item {
            SummaryItem::PartTitle { title, .. } => {
                if let Some(part) = current_part.take() {
                    out.push(part);
                }
                current_part = Some(TocItem {
                    expanded: true,
                    ..TocItem::new("part", title, String::new())
                });
            }
            other => {
                let converted = chapter_items(std::slice::from_ref(other));
                match &mut current_part {
                    // Unnumbered suffix chapters end the part.
                    Some(_) if matches!(other, SummaryItem::Chapter(l) if l.number.is_none()) => {
                        out.push(current_part.take().expect("checked above"));
                        out.extend(converted);
                    }
                    Some(part) => part.children.extend(converted),
                    None => out.extend(converted),
                }
            }
        }
    }
    if let Some(part) = current_part {
        out.push(part);
    }
    if !generated.is_empty() {
        out.push(TocItem::separator());
        for g in generated {
            out.push(TocItem::new("chapter", &g.title, g.path.clone()));
        }
    }
    out
}

fn hash_of(value: &impl std::hash::Hash) -> u64 {
    use std::hash::{DefaultHasher, Hasher};
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Every recorded link must reach a page of the site, and its anchor an id on that page. A broken
/// one is a warning here, as mdBook builds such a book; `check` and `strict-links` make it an error
/// ([`crate::links_as_errors`]).
fn check_links(
    chapters: &[RenderedChapter],
    generated: &[GeneratedPage],
    site: &Tracked,
) -> Vec<Diagnostic> {
    let mut ids: HashMap<&str, HashSet<&str>> = HashMap::new();
    for rc in chapters {
        ids.insert(
            rc.chapter.out_path.as_str(),
            rc.markdown.ids.iter().map(String::as_str).collect(),
        );
    }
    for g in generated {
        (ids.entry(g.path.as_str()).or_default()).extend(g.ids.iter().map(String::as_str));
    }
    let mut diags = Vec::new();
    for rc in chapters {
        for link in &rc.markdown.links {
            if let Some(d) = check_link(link, &ids, site) {
                diags.push(locate(rc.chapter, d));
            }
        }
    }
    diags
}

fn check_link(
    link: &PageLink,
    ids: &HashMap<&str, HashSet<&str>>,
    site: &Tracked,
) -> Option<Diagnostic> {
    let Some(page_ids) = ids.get(link.page.as_str()) else {
        if link
            .written
            .split('#')
            .next()
            .is_some_and(|p| p.ends_with(".html"))
            && site.contains(&link.page)
        {
            return None;
        }
        let mut diag = Diagnostic::warning(
            Code::BrokenLink,
            format!(
                "link to a chapter that is not in the book: `{}`",
                link.written
            ),
        )
        .with_span(link.span.clone())
        .with_label("no such chapter");
        let stems: Vec<&str> = ids.keys().map(|k| k.trim_end_matches(".html")).collect();
        if let Some(best) =
            crate::diagnostic::did_you_mean(link.page.trim_end_matches(".html"), stems)
        {
            diag = diag.with_help(format!("did you mean `{best}.md`?"));
        }
        return Some(diag);
    };
    let anchor = link.anchor.as_deref()?;
    if anchor.is_empty() || page_ids.contains(anchor) {
        return None;
    }
    let mut diag = Diagnostic::warning(
        Code::BrokenAnchor,
        format!("`{}` has no heading or anchor `#{anchor}`", link.page),
    )
    .with_span(link.span.clone())
    .with_label("no such anchor");
    if let Some(best) = crate::diagnostic::did_you_mean(anchor, page_ids.iter().copied()) {
        diag = diag.with_help(format!("did you mean `#{best}`?"));
    }
    Some(diag)
}
