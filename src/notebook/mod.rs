//! The notebook stage: a chapter's cells (calc blocks, inline values, charts, tables) evaluated in
//! order in one scope per chapter, and the claims they make.

use crate::diagnostic::Code;
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
    /// Set when the claim gave no verdict: the failure it could not get past. Such a claim does
    /// not hold (it counts as a failure) and is reported like one.
    pub not_evaluated: Option<RootCause>,
    /// The data figures each side was computed from.
    pub lhs_from: Vec<crate::calc::Figure>,
    pub rhs_from: Vec<crate::calc::Figure>,
}

/// The failed definition (or statement) behind a claim that was not evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct RootCause {
    /// The name whose definition failed (`None` when the claim itself failed).
    pub name: Option<String>,
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// The root error's message.
    pub message: String,
}

impl std::fmt::Display for RootCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = format!("{}:{}:{}", self.file.display(), self.line, self.column);
        match &self.name {
            Some(n) => write!(
                f,
                "not evaluated: it depends on `{n}`, whose definition failed at {at}: {}",
                self.message
            ),
            None => write!(f, "not evaluated: it failed at {at}: {}", self.message),
        }
    }
}

impl ClaimRecord {
    /// Whether the two are alike in all but where the claim stands in its chapter file (its line
    /// and column), which the ledger does not show: lines added above a chapter's claims leave
    /// the ledger as drawn. (A claim not evaluated shows where its root failure is: that is
    /// compared.)
    pub fn alike_but_for_place(&self, other: &ClaimRecord) -> bool {
        let ClaimRecord {
            id,
            chapter,
            page,
            file,
            line: _,
            column: _,
            kind,
            words,
            lhs,
            op,
            rhs,
            tolerance,
            lhs_value,
            rhs_value,
            unit,
            holds,
            margin,
            not_evaluated,
            lhs_from,
            rhs_from,
        } = self;
        (id, chapter, page, file, kind, words)
            == (
                &other.id,
                &other.chapter,
                &other.page,
                &other.file,
                &other.kind,
                &other.words,
            )
            && (lhs, op, rhs, tolerance, lhs_value, rhs_value, unit)
                == (
                    &other.lhs,
                    &other.op,
                    &other.rhs,
                    &other.tolerance,
                    &other.lhs_value,
                    &other.rhs_value,
                    &other.unit,
                )
            && (holds, margin, not_evaluated, lhs_from, rhs_from)
                == (
                    &other.holds,
                    &other.margin,
                    &other.not_evaluated,
                    &other.lhs_from,
                    &other.rhs_from,
                )
    }

    /// The verdict in words. A refute that holds means the quoted statement is false, so it
    /// says "refuted" rather than "holds", which readers took for agreement with the statement.
    pub fn verdict(&self) -> &'static str {
        if self.not_evaluated.is_some() {
            return "✗ not evaluated";
        }
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
            Code::ClaimFails,
            format!("{} fails: \"{}\"", self.kind.as_str(), self.words),
        )
        .with_file(&self.file)
        .with_span(start..start + self.kind.as_str().len())
        .with_label(format!("{} {} {}{tolerance}", self.lhs, self.op, self.rhs))
        .with_help("`calcbook check` fails while any claim fails");
        if let Some(m) = &self.margin {
            d = d.with_note(m.clone());
        }
        for (side, figs) in [("left", &self.lhs_from), ("right", &self.rhs_from)] {
            if !figs.is_empty() {
                d = d.with_note(format!("{side} side from {}", figures_text(figs)));
            }
        }
        d
    }

    /// A claim that gave no verdict because of `cause`.
    #[allow(clippy::too_many_arguments)]
    pub fn unevaluated(
        id: String,
        chapter: &crate::book::Chapter,
        line: usize,
        column: usize,
        kind: ClaimKind,
        words: String,
        cause: RootCause,
    ) -> ClaimRecord {
        ClaimRecord {
            id,
            chapter: chapter.title.clone(),
            page: chapter.out_path.clone(),
            file: PathBuf::from(&chapter.source),
            line,
            column,
            kind,
            words,
            lhs: "not evaluated".into(),
            op: String::new(),
            rhs: String::new(),
            tolerance: None,
            lhs_value: f64::NAN,
            rhs_value: f64::NAN,
            unit: String::new(),
            holds: false,
            margin: Some(cause.to_string()),
            not_evaluated: Some(cause),
            lhs_from: Vec::new(),
            rhs_from: Vec::new(),
        }
    }
}

/// `data/cars.yaml:4 (hatchback.battery), data/cars.yaml:5 (hatchback.consumption)`.
pub fn figures_text(figs: &[crate::calc::Figure]) -> String {
    const MAX: usize = 8;
    let mut parts: Vec<String> = figs.iter().take(MAX).map(ToString::to_string).collect();
    if figs.len() > MAX {
        parts.push(format!("and {} more", figs.len() - MAX));
    }
    parts.join(", ")
}

pub mod cells;
pub mod data;
pub mod memo;
pub mod pad;
pub mod pages;
pub mod trace;

pub use cells::{CellResult, ChapterNotebook};

/// A claim that holds, `claim-1` of `basics.html`, for tests.
#[cfg(test)]
pub(crate) fn sample_claim() -> ClaimRecord {
    ClaimRecord {
        id: "claim-1".into(),
        chapter: "Basics".into(),
        page: "basics.html".into(),
        file: PathBuf::from("src/basics.md"),
        line: 10,
        column: 1,
        kind: ClaimKind::Claim,
        words: "x is about 2".into(),
        lhs: "2".into(),
        op: "≈".into(),
        rhs: "2".into(),
        tolerance: None,
        lhs_value: 2.0,
        rhs_value: 2.0,
        unit: String::new(),
        holds: true,
        margin: None,
        not_evaluated: None,
        lhs_from: Vec::new(),
        rhs_from: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_moved_down_the_file_are_alike_but_other_changes_are_not() {
        let a = sample_claim();
        let moved = ClaimRecord {
            line: 14,
            column: 3,
            ..sample_claim()
        };
        assert!(a.alike_but_for_place(&moved));
        let changed = ClaimRecord {
            lhs_value: 3.0,
            ..moved.clone()
        };
        assert!(!a.alike_but_for_place(&changed));
        let failing = ClaimRecord {
            holds: false,
            ..moved.clone()
        };
        assert!(!a.alike_but_for_place(&failing));
        let cause = |line| RootCause {
            name: Some("x".into()),
            file: PathBuf::from("src/basics.md"),
            line,
            column: 1,
            message: "it failed".into(),
        };
        let not_evaluated = |line| ClaimRecord {
            not_evaluated: Some(cause(line)),
            ..sample_claim()
        };
        // The ledger shows where a claim's root failure is.
        assert!(!not_evaluated(3).alike_but_for_place(&not_evaluated(4)));
    }
}
