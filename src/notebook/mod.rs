//! The notebook stage: a chapter's cells (calc blocks, inline values, charts, tables) evaluated in
//! order in one scope per chapter, and the claims they make.

use std::path::PathBuf;

/// Whether a claim asserts its condition or refutes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    Claim,
    Refute,
}

impl ClaimKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimKind::Claim => "claim",
            ClaimKind::Refute => "refute",
        }
    }
}

/// One verified claim of the book, located and with both sides' values.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRecord {
    /// Anchor of the claim's box on its page (`claim-3`).
    pub id: String,
    pub chapter: String,
    pub page: String,
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub kind: ClaimKind,
    /// The statement the claim tests, as quoted in the source.
    pub words: String,
    pub lhs: String,
    pub op: String,
    pub rhs: String,
    pub tolerance: Option<String>,
    /// Both sides as numbers in `unit` (the unit they are displayed in).
    pub lhs_value: f64,
    pub rhs_value: f64,
    pub unit: String,
    pub holds: bool,
    /// For a failing claim, by how much it failed.
    pub margin: Option<String>,
}

pub mod cells;
pub mod data;
pub mod pages;

pub use cells::ChapterNotebook;
