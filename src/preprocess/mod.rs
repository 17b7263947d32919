//! `calcbook preprocess`: calcbook as an mdBook 0.5 preprocessor, so that an existing mdBook book
//! gains calc blocks, claims, charts and tables while keeping its own theme and plugins.
//!
//! The protocol is mdBook's (its `mdbook-preprocessor` crate supplies the types): mdBook runs
//! `calcbook preprocess supports <renderer>` (exit 0 for `html`), then `calcbook preprocess` with
//! `[context, book]` as JSON on standard input, and reads the book back as JSON on standard output.
//!
//! Each chapter is evaluated exactly as `calcbook build` evaluates it (the notebook stage,
//! [`ChapterNotebook`], in one scope per chapter over the prelude of engine functions and the
//! book's `data/` folder), but instead of rendering the page, [`splice`] replaces each cell in the
//! chapter's Markdown by its HTML and leaves the rest for mdBook. A chapter with cells also gets
//! calcbook's styles, written for mdBook's themes, as one `<style>` element at its end, so nothing
//! has to be registered in `book.toml`. A chart's points travel inside the page as a `data:` link,
//! since a preprocessor cannot add files to mdBook's output.
//!
//! Diagnostics are located in the chapter files as `build` locates them: the text mdBook passes
//! is lined up with the file on disk (whose `{{#include}}`s mdBook may have expanded); a chapter
//! that another preprocessor already rewrote is reported against the text as received.

pub mod splice;

use crate::diagnostic::Code;
use std::io::Read;
use std::path::Path;

use mdbook_preprocessor::PreprocessorContext;
use mdbook_preprocessor::book::{Book, BookItem, Chapter as MdChapter};

use crate::book::{Chapter, SpanMap, config, include};
use crate::diagnostic::{Diagnostic, Sources};
use crate::notebook::{ChapterNotebook, ClaimRecord};
use crate::render::markdown::CellHook;
use crate::{calc, engine, notebook};

pub use splice::splice;

/// calcbook's styles for pads, claim boxes, charts and tables under mdBook's themes.
pub const STYLE: &str = include_str!("mdbook.css");

/// The mdBook release line whose protocol this implements.
const MDBOOK_LINE: &str = "0.5.";

/// Whether `calcbook preprocess` can serve mdBook's `renderer`: only `html` shows its output.
pub fn supports(renderer: &str) -> bool {
    renderer == "html"
}

/// A book after preprocessing, with what was found along the way.
pub struct Preprocessed {
    pub book: Book,
    pub claims: Vec<ClaimRecord>,
    /// Errors and warnings, in reading order; failing claims are warnings here, as in `build`.
    pub diagnostics: Vec<Diagnostic>,
    /// The texts the diagnostics point into.
    pub sources: Sources,
}

impl Preprocessed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads mdBook's `[context, book]` JSON and preprocesses the book. `Err` only when the input is
/// not mdBook's protocol at all.
pub fn run_json(input: impl Read) -> Result<Preprocessed, Diagnostic> {
    let (ctx, book) = mdbook_preprocessor::parse_input(input).map_err(|e| {
        Diagnostic::error(
            Code::BadPreprocessorInput,
            format!("standard input is not an mdBook preprocessor request: {e:#}"),
        )
        .with_help("`calcbook preprocess` is run by mdBook; add it to book.toml as `[preprocessor.calcbook]`")
    })?;
    Ok(preprocess(&ctx, book))
}

/// Evaluates and renders every chapter's cells against the book at `ctx.root`.
pub fn preprocess(ctx: &PreprocessorContext, book: Book) -> Preprocessed {
    // The context holds a `RefCell`, so only what is needed crosses to the evaluation thread.
    let (root, src_rel) = (ctx.root.clone(), ctx.config.book.src.clone());
    let mut version_warning = None;
    if !ctx.mdbook_version.starts_with(MDBOOK_LINE) {
        version_warning = Some(Diagnostic::warning(
            Code::MdbookVersion,
            format!(
                "calcbook speaks mdBook {MDBOOK_LINE}x's preprocessor protocol; this is mdBook {}",
                ctx.mdbook_version
            ),
        ));
    }
    let mut out = calc::with_big_stack(move || preprocess_inner(&root, &src_rel, book));
    out.diagnostics.extend(version_warning);
    out
}

fn preprocess_inner(root: &Path, src_rel: &Path, mut book: Book) -> Preprocessed {
    let mut sources = Sources::new();
    let mut diagnostics = Vec::new();
    let data_rel = match calcbook_section(root, &mut sources) {
        Ok(section) => section.data,
        Err(d) => {
            return Preprocessed {
                book,
                claims: Vec::new(),
                diagnostics: vec![d],
                sources,
            };
        }
    };

    // The prelude every chapter starts from, as in `calcbook build`: engine functions and data.
    let mut prelude = calc::Scope::new();
    engine::bindings::register(&mut prelude);
    let (mut data, data_diags) =
        notebook::data::load(&root.join(&data_rel), &data_rel, &mut prelude, &mut sources);
    diagnostics.extend(data_diags);
    // Systems get their chip records and entries their typed engine form, as in `build`.
    diagnostics.extend(engine::link::link_records(
        &mut prelude,
        &mut data,
        &sources,
    ));

    // Cells are drawn by the default theme's templates, as in `calcbook build`.
    let theme = crate::render::Theme::builtin();
    let mut claims = Vec::new();
    for_each_chapter(&mut book.items, &mut |md| {
        let Some(path) = md.source_path.clone().or_else(|| md.path.clone()) else {
            return; // a draft chapter has no page
        };
        let chapter = chapter_for(root, src_rel, md, &path, &mut sources);
        let mut notebook = ChapterNotebook::new(prelude.clone(), &chapter, &sources);
        if let Some(theme) = theme {
            notebook = notebook.with_theme(theme);
        }
        let mut cells = MdbookCells { notebook };
        let mut content = splice(&md.content, &mut cells);
        let notebook = cells.notebook;
        if content != md.content {
            content.push_str("\n\n<style>\n");
            content.push_str(STYLE);
            content.push_str("</style>\n");
        }
        diagnostics.extend(notebook.diagnostics);
        for claim in &notebook.claims {
            if !claim.holds {
                diagnostics.push(claim.as_warning(&sources));
            }
        }
        claims.extend(notebook.claims);
        md.content = content;
    });
    diagnostics.sort_by(|a, b| {
        (&a.file, a.span.as_ref().map(|s| s.start))
            .cmp(&(&b.file, b.span.as_ref().map(|s| s.start)))
    });
    diagnostics.dedup();
    Preprocessed {
        book,
        claims,
        diagnostics,
        sources,
    }
}

/// The `[calcbook]` table of the book's `book.toml`, read as `calcbook check` reads it (so a
/// mistake in it is the same located error in both).
fn calcbook_section(
    root: &Path,
    sources: &mut Sources,
) -> Result<config::CalcbookSection, Diagnostic> {
    let Ok(text) = std::fs::read_to_string(root.join(config::FILE_NAME)) else {
        return Ok(config::CalcbookSection::default());
    };
    sources.insert(config::FILE_NAME, text.clone());
    // Warnings about mdBook's own tables concern `calcbook build`, not a book mdBook builds.
    config::parse(&text, config::FILE_NAME).map(|(config, _)| config.calcbook)
}

/// Chapters in reading order (a chapter before its sub-chapters), drafts included.
fn for_each_chapter(items: &mut [BookItem], f: &mut dyn FnMut(&mut MdChapter)) {
    for item in items {
        if let BookItem::Chapter(ch) = item {
            f(ch);
            for_each_chapter(&mut ch.sub_items, f);
        }
    }
}

/// The notebook's view of an mdBook chapter, its text registered for diagnostics.
fn chapter_for(
    root: &Path,
    src_rel: &Path,
    md: &MdChapter,
    path: &Path,
    sources: &mut Sources,
) -> Chapter {
    let source = src_rel.join(path);
    let map = source_map(root, &source, &md.content, sources);
    Chapter {
        title: md.name.clone(),
        number: md
            .number
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        src_rel: path.to_path_buf(),
        out_path: crate::book::page_name(md.path.as_deref().unwrap_or(path)),
        source,
        text: md.content.clone(),
        map,
        // mdBook's own `links` preprocessor has already applied `{{#title}}`.
        page_title: None,
    }
}

/// Maps offsets in the text mdBook passed back to the chapter file, registering the text that
/// diagnostics will quote under the file's name.
fn source_map(root: &Path, source: &Path, content: &str, sources: &mut Sources) -> SpanMap {
    let identity = SpanMap::identity(content.len());
    let Ok(original) = std::fs::read_to_string(root.join(source)) else {
        sources.insert(source, content);
        return identity;
    };
    if original == content {
        sources.insert(source, original);
        return identity;
    }
    // mdBook's `links` preprocessor ran first: line the text up with the file's directives.
    match include::align(&original, content) {
        Some(map) => {
            sources.insert(source, original);
            map
        }
        None => {
            sources.insert(source, content);
            identity
        }
    }
}

/// The notebook's cells as mdBook needs them: a chart's CSV link points at its data inline.
struct MdbookCells<'a> {
    notebook: ChapterNotebook<'a>,
}

impl CellHook for MdbookCells<'_> {
    fn fenced(&mut self, lang: &str, info: &str, body: &str, body_offset: usize) -> Option<String> {
        let files_before = self.notebook.files.len();
        let html = self.notebook.fenced(lang, info, body, body_offset)?;
        Some(match self.notebook.files.get(files_before) {
            Some((path, bytes)) => inline_csv_link(&html, path, bytes),
            None => html,
        })
    }

    fn inline_code(&mut self, code: &str, offset: usize) -> Option<String> {
        self.notebook.inline_code(code, offset)
    }

    fn text(&mut self, text: &str, offset: usize) -> Option<String> {
        self.notebook.text(text, offset)
    }
}

/// Points a figure's `href="name.csv" download` link at a `data:` URL holding the CSV itself.
fn inline_csv_link(html: &str, path: &str, csv: &[u8]) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let written = format!(
        "href=\"{}\" download",
        crate::render::markdown::escape(name)
    );
    let inline = format!(
        "href=\"data:text/csv;charset=utf-8,{}\" download=\"{}\"",
        percent_encode(csv),
        crate::render::markdown::escape(name)
    );
    html.replacen(&written, &inline, 1)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_html_renderer_is_supported() {
        assert!(supports("html"));
        assert!(!supports("markdown"));
        assert!(!supports("epub"));
    }

    #[test]
    fn csv_link_becomes_a_data_url_named_for_download() {
        let html = "<a class=\"chart-csv\" href=\"p-fig-1.csv\" download>data (CSV)</a>";
        let out = inline_csv_link(html, "dir/p-fig-1.csv", b"x,y\n1,2 ms\n");
        assert_eq!(
            out,
            "<a class=\"chart-csv\" href=\"data:text/csv;charset=utf-8,x%2Cy%0A1%2C2%20ms%0A\" download=\"p-fig-1.csv\">data (CSV)</a>"
        );
    }

    #[test]
    fn stylesheet_follows_mdbook_theme_variables() {
        assert!(STYLE.contains("var(--bg)") && STYLE.contains("var(--fg)"));
        // It is inlined in a `<style>` element, which its text must not close.
        assert!(!STYLE.contains("</style"));
    }
}
