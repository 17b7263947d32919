//! calcbook: an mdBook-style generator for literate notebooks.
//!
//! Data flows one way: load → parse → evaluate → render → write.
//! - [`book`] loads `book.toml`, `SUMMARY.md` and the chapter files.
//! - [`calc`] is the unit-aware calculation language (no I/O).
//! - [`engine`] is the hardware/model physics the calc language calls.
//! - [`render`] turns evaluated chapters into HTML pages with Tera.
//! - [`diagnostic`] is the one error type every stage reports with.

pub mod book;
pub mod calc;
pub mod diagnostic;
pub mod engine;
pub mod render;

pub use diagnostic::{Diagnostic, Severity, Sources};
