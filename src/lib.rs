//! calcbook: an mdBook-style generator for literate notebooks.
//!
//! Data flows one way: load → parse → evaluate → render → write.
//! - [`book`] loads `book.toml`, `SUMMARY.md` and the chapter files.
//! - [`calc`] is the unit-aware calculation language (no I/O).
//! - [`engine`] is the hardware/model physics the calc language calls.
//! - [`render`] turns chapters into HTML pages with Tera, in memory.
//! - [`output`] writes the rendered site atomically.
//! - [`diagnostic`] is the one error type every stage reports with.

pub mod book;
pub mod calc;
pub mod diagnostic;
pub mod engine;
pub mod init;
pub mod output;
pub mod render;
pub mod serve;

use std::path::{Path, PathBuf};

pub use diagnostic::{Diagnostic, Severity, Sources};

use render::markdown::{CellHook, NoCells};
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

/// Loads and renders the book at `root` entirely in memory.
pub fn render_book(root: &Path, options: &RenderOptions) -> Result<Rendered, Diagnostic> {
    let book = book::load(root)?;
    let mut diagnostics = book.diagnostics.clone();
    let theme_rel = book.config.calcbook.templates.clone();
    let theme = match render::Theme::load(&root.join(&theme_rel), &theme_rel) {
        Ok(theme) => Some(theme),
        Err(diags) => {
            diagnostics.extend(diags);
            None
        }
    };
    let chapters = site::render_chapters(&book, |_| -> Box<dyn CellHook> { Box::new(NoCells) });
    let site = match &theme {
        Some(theme) => {
            let (site, diags) = site::assemble(&book, theme, &chapters, &[], options.live_reload);
            diagnostics.extend(diags);
            site
        }
        None => Site::default(),
    };
    drop(chapters);
    // Reading order: by file, then position, so a report reads top to bottom.
    diagnostics.sort_by(|a, b| {
        (&a.file, a.span.as_ref().map(|s| s.start))
            .cmp(&(&b.file, b.span.as_ref().map(|s| s.start)))
    });
    diagnostics.dedup();
    Ok(Rendered {
        book,
        site,
        diagnostics,
    })
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
