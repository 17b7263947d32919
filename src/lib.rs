//! calcbook: an mdBook-style generator for literate notebooks.
//!
//! This file is the crate's table of contents. Data flows one way: load → parse → evaluate →
//! render → write, driven by [`pipeline`] (which also keeps the caches `serve` rebuilds with).
//! - [`book`] loads `book.toml`, `SUMMARY.md` and the chapter files.
//! - [`calc`] is the unit-aware calculation language (no I/O).
//! - [`engine`] is the hardware/model physics the calc language calls.
//! - [`notebook`] evaluates a chapter's cells to values, claims and charts, which the theme's
//!   templates draw; `check` stops after evaluating ([`evaluate_book`]).
//! - [`render`] turns chapters into HTML pages with Tera, handing each file to a sink as it is made.
//! - [`output`] writes the site into a staging folder as it is rendered and swaps it in atomically.
//! - [`serve`] previews a book with live reload; [`check`] is the CI gate; [`explore`] is `eval`.
//! - [`chart`] parses and draws charts; [`init`] writes a starter book.
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
pub mod pipeline;
pub mod preprocess;
pub mod render;
pub mod serve;

pub use diagnostic::{Diagnostic, Severity, Sources};
pub use pipeline::{
    Checked, Evaluated, LINK_CODES, RenderCache, RenderOptions, Rendered, destination,
    evaluate_book, links_as_errors, protected_paths, render_book, render_book_cached,
    render_book_into, render_book_with,
};
pub use render::Site;
pub use render::site::WholeBook;

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
