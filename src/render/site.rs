//! The whole site in memory: every page, the print page, the 404 page, the search index, the theme's
//! assets and the book's static files, as (output path → bytes). Writing it to disk is a separate
//! step ([`crate::output`]), so `check` can render without writing and `serve` can compare.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::html_options;
use super::markdown::{self, CellHook, PageLink, RenderedMarkdown, escape};
use super::theme::Theme;
use crate::book::html_config::HtmlConfig;
use crate::book::{Book, Chapter, SummaryItem};
use crate::diagnostic::Diagnostic;

/// Output files by path relative to the output root (`/`-separated, never escaping it).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Site {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Site {
    pub fn add(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), bytes.into());
    }

    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.files
            .get(path)
            .and_then(|b| std::str::from_utf8(b).ok())
    }
}

/// A page produced by a later stage rather than a chapter file (the claims ledger, the data
/// appendix). It is listed at the end of the table of contents.
#[derive(Debug, Clone)]
pub struct GeneratedPage {
    pub title: String,
    pub path: String,
    pub html: String,
}

/// A chapter after Markdown and cells were rendered.
pub struct RenderedChapter<'a> {
    pub chapter: &'a Chapter,
    pub markdown: RenderedMarkdown,
}

#[derive(Debug, Clone, Serialize)]
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

#[derive(Serialize)]
struct NavLink<'a> {
    title: &'a str,
    href: &'a str,
}

#[derive(Serialize)]
struct SearchDoc<'a> {
    t: String,
    u: String,
    b: &'a str,
}

/// Renders every chapter's Markdown with the cell hook the caller provides per chapter.
pub fn render_chapters<'a>(
    book: &'a Book,
    mut hook_for: impl FnMut(&Chapter) -> Box<dyn CellHook + 'a>,
) -> Vec<RenderedChapter<'a>> {
    book.chapters
        .iter()
        .map(|chapter| {
            let mut hook = hook_for(chapter);
            let markdown = markdown::render(&chapter.text, &chapter.out_path, hook.as_mut());
            RenderedChapter { chapter, markdown }
        })
        .collect()
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

/// Builds the site from rendered chapters. Returns the site and every diagnostic (chapter ones
/// located in their files, broken links, template errors).
pub fn assemble(
    book: &Book,
    theme: &Theme,
    chapters: &[RenderedChapter],
    generated: &[GeneratedPage],
    live_reload: bool,
) -> (Site, Vec<Diagnostic>) {
    let mut site = Site::default();
    let mut diags: Vec<Diagnostic> = Vec::new();
    for rc in chapters {
        for d in &rc.markdown.diagnostics {
            diags.push(locate(rc.chapter, d.clone()));
        }
    }

    let book_ctx = serde_json::json!({
        "title": book.title(),
        "description": book.config.book.description.clone().unwrap_or_default(),
        "language": book.config.book.language,
        "authors": book.config.book.authors,
    });
    let base_toc = build_toc(&book.summary.items, generated);

    // Reading order for previous/next: chapters, then generated pages.
    let order: Vec<(String, String)> = chapters
        .iter()
        .map(|rc| (rc.chapter.title.clone(), rc.chapter.out_path.clone()))
        .chain(generated.iter().map(|g| (g.title.clone(), g.path.clone())))
        .collect();

    let html_config = book.config.html();
    let pages = chapters
        .iter()
        .map(|rc| {
            (
                // `{{#title …}}` sets the page's <title>; the table of contents keeps SUMMARY's.
                rc.chapter
                    .page_title
                    .as_deref()
                    .unwrap_or(rc.chapter.title.as_str()),
                rc.chapter.out_path.as_str(),
                rc.markdown.html.as_str(),
                Some(source_url(&rc.chapter.source)),
            )
        })
        .chain(
            generated
                .iter()
                .map(|g| (g.title.as_str(), g.path.as_str(), g.html.as_str(), None)),
        );
    let mut first_page = None;
    for (i, (title, path, content, source)) in pages.enumerate() {
        let prev = i.checked_sub(1).and_then(|j| order.get(j));
        let next = order.get(i + 1);
        let ctx = page_context(
            &book_ctx,
            &base_toc,
            title,
            path,
            content,
            prev,
            next,
            live_reload,
        );
        match theme.render("page.html", &ctx) {
            Ok(html) => {
                let root = "../".repeat(path.matches('/').count());
                let html = html_options::apply(&html, &root, source.as_deref(), &html_config);
                site.add(path, html);
            }
            Err(d) => {
                diags.push(d);
                break;
            }
        }
        if i == 0 {
            first_page = Some((title, content, source, next));
        }
    }

    // index.html: as mdBook, a copy of the first chapter rendered at the root when no chapter is
    // README.md.
    if !site.files.contains_key("index.html")
        && let Some((title, content, source, next)) = first_page
    {
        let ctx = page_context(
            &book_ctx,
            &base_toc,
            title,
            "index.html",
            content,
            None,
            next,
            live_reload,
        );
        match theme.render("page.html", &ctx) {
            Ok(html) => {
                let html = html_options::apply(&html, "", source.as_deref(), &html_config);
                site.add("index.html", html);
            }
            Err(d) => diags.push(d),
        }
    }

    // Print page: every chapter in order.
    // The generated pages (claims ledger, data sources) print after the chapters.
    let print_chapters = print_chapters(chapters, generated);
    let mut ctx = page_context(
        &book_ctx,
        &base_toc,
        "Print",
        "print.html",
        "",
        None,
        None,
        live_reload,
    );
    ctx.insert("chapters", &print_chapters);
    match theme.render("print.html", &ctx) {
        Ok(html) => site.add(
            "print.html",
            html_options::apply(&html, "", None, &html_config),
        ),
        Err(d) => diags.push(d),
    }

    match not_found_page(book, theme, &book_ctx, &base_toc, live_reload, &mut diags) {
        Ok(html) => site.add("404.html", html),
        Err(d) => diags.push(d),
    }

    if html_config.search.enable {
        site.add("searchindex.js", search_index(chapters, generated));
    }
    for (path, bytes) in &theme.assets {
        site.add(path.clone(), bytes.clone());
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
                Diagnostic::error("unreadable-file", format!("cannot read: {e}"))
                    .with_file(book.config.book.src.join(rel)),
            ),
        }
    }

    write_redirects(&mut site, &html_config, &mut diags);
    copy_additional_files(book, &html_config, &mut site, &mut diags);
    diags.extend(check_links(chapters, generated, &site));
    (site, diags)
}

/// `additional-css` and `additional-js` files, relative to the book root, are copied to the same
/// place in the output (unless the source folder already put them there).
fn copy_additional_files(
    book: &Book,
    html: &HtmlConfig,
    site: &mut Site,
    diags: &mut Vec<Diagnostic>,
) {
    for rel in html.additional_css.iter().chain(&html.additional_js) {
        let out = source_url(rel);
        if site.files.contains_key(&out) {
            continue;
        }
        if !crate::book::is_contained(rel) {
            diags.push(
                Diagnostic::warning(
                    "bad-additional-file",
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
                    "bad-additional-file",
                    format!("cannot read `{out}` named in [output.html]: {e}"),
                )
                .with_file(crate::book::config::FILE_NAME),
            ),
        }
    }
}

/// The print page's chapters in reading order, each chapter's ids made unique on the page.
fn print_chapters(
    chapters: &[RenderedChapter],
    generated: &[GeneratedPage],
) -> Vec<serde_json::Value> {
    let mut print_ids = HashSet::new();
    let print_html: Vec<String> = chapters
        .iter()
        .map(|rc| unique_print_ids(&rc.markdown.html, &rc.markdown.ids, &mut print_ids))
        .collect();
    chapters
        .iter()
        .zip(&print_html)
        .map(|(rc, html)| (&rc.chapter.title, &rc.chapter.out_path, html))
        .chain(generated.iter().map(|g| (&g.title, &g.path, &g.html)))
        .map(|(title, path, content)| {
            serde_json::json!({ "title": title, "path": path, "content": content })
        })
        .collect()
}

/// A chapter's HTML for the print page, where every chapter shares one page: an id an earlier
/// chapter already used gets mdBook's next free suffix (`-1`, `-2`…), and the chapter's own links
/// to it follow.
fn unique_print_ids(html: &str, ids: &[String], used: &mut HashSet<String>) -> String {
    let mine: HashSet<&String> = ids.iter().collect();
    let mut out = html.to_string();
    let mut added: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for id in ids.iter().filter(|id| seen.insert(*id)) {
        if !used.contains(id) {
            added.push(id.clone());
            continue;
        }
        let Some(new) = (1..)
            .map(|n| format!("{id}-{n}"))
            .find(|c| !used.contains(c) && !mine.contains(c) && !added.contains(c))
        else {
            continue;
        };
        out = out
            .replace(
                &format!("id=\"{}\"", escape(id)),
                &format!("id=\"{}\"", escape(&new)),
            )
            .replace(
                &format!("href=\"#{}\"", escape(id)),
                &format!("href=\"#{}\"", escape(&new)),
            );
        added.push(new);
    }
    used.extend(added);
    out
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
    book_ctx: &serde_json::Value,
    base_toc: &[TocItem],
    live_reload: bool,
    diags: &mut Vec<Diagnostic>,
) -> Result<String, Diagnostic> {
    let site_root = site_url(book);
    let mut ctx = page_context(
        book_ctx,
        base_toc,
        "Page not found",
        "404.html",
        "",
        None,
        None,
        live_reload,
    );
    ctx.insert("root", &site_root);
    if let Some(content) = not_found_content(book, diags) {
        ctx.insert(
            "page",
            &serde_json::json!({ "title": "Page not found", "path": "404.html", "content": content }),
        );
    }
    let html = theme.render("404.html", &ctx)?;
    Ok(html_options::apply(
        &html,
        &site_root,
        None,
        &book.config.html(),
    ))
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
fn write_redirects(site: &mut Site, html: &HtmlConfig, diags: &mut Vec<Diagnostic>) {
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
        if site.files.contains_key(&path) {
            continue;
        }
        if !crate::output::is_safe_relative(&path) {
            diags.push(
                Diagnostic::warning(
                    "bad-redirect",
                    format!("redirect from `{path}` leaves the output folder; not written"),
                )
                .with_file(crate::book::config::FILE_NAME),
            );
            continue;
        }
        let Some(target) = target else {
            diags.push(
                Diagnostic::warning(
                    "bad-redirect",
                    format!("redirects from `{path}#…` need one from `{path}` itself; not written"),
                )
                .with_file(crate::book::config::FILE_NAME),
            );
            continue;
        };
        site.add(path, html_options::redirect_page(&target, &fragments));
    }
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

#[allow(clippy::too_many_arguments)]
fn page_context(
    book: &serde_json::Value,
    base_toc: &[TocItem],
    title: &str,
    path: &str,
    content: &str,
    prev: Option<&(String, String)>,
    next: Option<&(String, String)>,
    live_reload: bool,
) -> tera::Context {
    let mut toc = base_toc.to_vec();
    mark_active(&mut toc, path);
    let depth = path.matches('/').count();
    fn nav(p: Option<&(String, String)>) -> Option<NavLink<'_>> {
        p.map(|(t, h)| NavLink {
            title: t.as_str(),
            href: h.as_str(),
        })
    }
    let mut ctx = tera::Context::new();
    ctx.insert("book", book);
    ctx.insert(
        "page",
        &serde_json::json!({ "title": title, "path": path, "content": content }),
    );
    ctx.insert("root", &"../".repeat(depth));
    ctx.insert("toc", &toc);
    ctx.insert("prev", &nav(prev));
    ctx.insert("next", &nav(next));
    ctx.insert("live_reload", &live_reload);
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

/// Marks the item for `path` active and its ancestors expanded; returns whether it was found.
fn mark_active(items: &mut [TocItem], path: &str) -> bool {
    let mut found = false;
    for item in items {
        let here = item.kind == "chapter" && !item.href.is_empty() && item.href == path;
        let below = mark_active(&mut item.children, path);
        item.active = here;
        item.expanded = item.expanded || here || below;
        found |= here || below;
    }
    found
}

fn search_index(chapters: &[RenderedChapter], generated: &[GeneratedPage]) -> String {
    let mut docs = Vec::new();
    for rc in chapters {
        for s in &rc.markdown.sections {
            let t = if s.heading.is_empty() || s.heading == rc.chapter.title {
                rc.chapter.title.clone()
            } else {
                format!("{} — {}", rc.chapter.title, s.heading)
            };
            let u = match &s.anchor {
                Some(a) => format!("{}#{a}", rc.chapter.out_path),
                None => rc.chapter.out_path.clone(),
            };
            docs.push(SearchDoc { t, u, b: &s.text });
        }
    }
    for g in generated {
        docs.push(SearchDoc {
            t: g.title.clone(),
            u: g.path.clone(),
            b: "",
        });
    }
    let json = serde_json::to_string(&serde_json::json!({ "docs": docs })).unwrap_or_default();
    format!("window.calcbookSearchIndex = {json};\n")
}

/// Every recorded link must reach a page of the site, and its anchor an id on that page. A broken
/// one is a warning here, as mdBook builds such a book; `check` and `strict-links` make it an error
/// ([`crate::links_as_errors`]).
fn check_links(
    chapters: &[RenderedChapter],
    generated: &[GeneratedPage],
    site: &Site,
) -> Vec<Diagnostic> {
    let mut ids: HashMap<&str, HashSet<&str>> = HashMap::new();
    for rc in chapters {
        ids.insert(
            rc.chapter.out_path.as_str(),
            rc.markdown.ids.iter().map(String::as_str).collect(),
        );
    }
    for g in generated {
        ids.entry(g.path.as_str()).or_default();
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
    site: &Site,
) -> Option<Diagnostic> {
    let Some(page_ids) = ids.get(link.page.as_str()) else {
        if link
            .written
            .split('#')
            .next()
            .is_some_and(|p| p.ends_with(".html"))
            && site.files.contains_key(&link.page)
        {
            return None;
        }
        let mut diag = Diagnostic::warning(
            "broken-link",
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
        "broken-anchor",
        format!("`{}` has no heading or anchor `#{anchor}`", link.page),
    )
    .with_span(link.span.clone())
    .with_label("no such anchor");
    if let Some(best) = crate::diagnostic::did_you_mean(anchor, page_ids.iter().copied()) {
        diag = diag.with_help(format!("did you mean `#{best}`?"));
    }
    Some(diag)
}
