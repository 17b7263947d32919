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

impl ClaimRecord {
    /// The verdict in words. A refute that holds means the quoted statement is false, so it
    /// says "refuted" rather than "holds", which readers took for agreement with the statement.
    pub fn verdict(&self) -> &'static str {
        match (self.kind, self.holds) {
            (ClaimKind::Claim, true) => "✓ holds",
            (ClaimKind::Claim, false) => "✗ fails",
            (ClaimKind::Refute, true) => "✓ refuted",
            (ClaimKind::Refute, false) => "✗ not refuted",
        }
    }

    /// A warning pointing at the claim, for `build` (which renders a failing claim rather than
    /// refusing the book; `check` is the gate).
    pub fn as_warning(
        &self,
        sources: &crate::diagnostic::Sources,
    ) -> crate::diagnostic::Diagnostic {
        let start = sources.get(&self.file).map_or(0, |t| {
            crate::diagnostic::line_start(t, self.line) + self.column - 1
        });
        let tolerance = self
            .tolerance
            .as_ref()
            .map(|t| format!(" ± {t}"))
            .unwrap_or_default();
        let mut d = crate::diagnostic::Diagnostic::warning(
            "claim-fails",
            format!("{} fails: \"{}\"", self.kind.as_str(), self.words),
        )
        .with_file(&self.file)
        .with_span(start..start + self.kind.as_str().len())
        .with_label(format!("{} {} {}{tolerance}", self.lhs, self.op, self.rhs))
        .with_help("`calcbook check` fails while any claim fails");
        if let Some(m) = &self.margin {
            d = d.with_note(m.clone());
        }
        d
    }
}

pub mod cells;
pub mod data;
pub mod pages;
pub mod trace;

pub use cells::ChapterNotebook;
