//! The one user-facing error type, used by every stage of the pipeline.
//!
//! A [`Diagnostic`] carries a severity, a stable [`Code`] (an enum, printed and serialized as its
//! kebab-case name), a message, the file it concerns (relative to the book root), a byte span in
//! that file, an optional help line and notes. Stages that work on a piece of a file (a calc block
//! inside a chapter) produce spans relative to that piece and shift them with
//! [`Diagnostic::offset`] once they know where the piece sits. Rendering (caret excerpts in the
//! terminal) lives here too, on top of `codespan-reporting`, so no stage formats errors by hand.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;

/// How bad a diagnostic is. Errors fail a build; warnings fail only `check --deny-warnings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// The kind of a problem, one variant per code; serialized (JSON, JUnit, GitHub annotations) and
/// printed as its stable kebab-case name (`Code::UnknownName` is `unknown-name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    AmbiguousUnit,
    BadAdditionalFile,
    BadConfig,
    BadData,
    BadDataName,
    BadDigits,
    BadDimension,
    BadExponent,
    BadHtmlConfig,
    BadInclude,
    BadMath,
    BadPreprocessorInput,
    BadQuantity,
    BadRange,
    BadRedirect,
    BadSummaryEntry,
    BadSummaryLine,
    BadTolerance,
    BadUnit,
    BadYaml,
    BookExists,
    BrokenAnchor,
    BrokenLink,
    ChapterOutsideSource,
    ChartLogNonpositive,
    ChartNotFinite,
    ChartSweepTooLarge,
    ChartUnitMismatch,
    ChartUnknownKind,
    ClaimFails,
    ClaimNotComparison,
    DependsOnFailed,
    DimensionMismatch,
    DivisionByZero,
    DomainError,
    DraftUnnumbered,
    DuplicateArgument,
    DuplicateChapter,
    DuplicateField,
    DuplicateParameter,
    FolderOutsideBook,
    IncludeAnchor,
    IndexOutOfRange,
    InitFailed,
    Internal,
    InvalidUtf8,
    MdbookVersion,
    MissingArgument,
    MissingChapter,
    MissingSource,
    MissingSummary,
    NativeError,
    NoBook,
    NotAFunction,
    NotSweepable,
    NumberedAfterSuffix,
    Overflow,
    ParseError,
    PartAfterSuffix,
    RangeTooLarge,
    RecursionLimit,
    SpecBadValue,
    SpecMissingKey,
    SpecUnknownColumn,
    SpecUnknownKey,
    SpecYaml,
    StepLimit,
    Template,
    TooComplex,
    TooDeep,
    TypeMismatch,
    UnknownArgument,
    UnknownChapter,
    UnknownChip,
    UnknownDimension,
    UnknownField,
    UnknownName,
    UnknownReference,
    UnknownUnit,
    UnlistedChapter,
    UnreadableFile,
    UnsupportedDirective,
    UnsupportedOutput,
    UnsupportedPreprocessor,
    UnterminatedString,
    WrongArgumentCount,
}

impl Code {
    /// Every code, in the order of their names.
    pub const ALL: &[Code] = &[
        Code::AmbiguousUnit,
        Code::BadAdditionalFile,
        Code::BadConfig,
        Code::BadData,
        Code::BadDataName,
        Code::BadDigits,
        Code::BadDimension,
        Code::BadExponent,
        Code::BadHtmlConfig,
        Code::BadInclude,
        Code::BadMath,
        Code::BadPreprocessorInput,
        Code::BadQuantity,
        Code::BadRange,
        Code::BadRedirect,
        Code::BadSummaryEntry,
        Code::BadSummaryLine,
        Code::BadTolerance,
        Code::BadUnit,
        Code::BadYaml,
        Code::BookExists,
        Code::BrokenAnchor,
        Code::BrokenLink,
        Code::ChapterOutsideSource,
        Code::ChartLogNonpositive,
        Code::ChartNotFinite,
        Code::ChartSweepTooLarge,
        Code::ChartUnitMismatch,
        Code::ChartUnknownKind,
        Code::ClaimFails,
        Code::ClaimNotComparison,
        Code::DependsOnFailed,
        Code::DimensionMismatch,
        Code::DivisionByZero,
        Code::DomainError,
        Code::DraftUnnumbered,
        Code::DuplicateArgument,
        Code::DuplicateChapter,
        Code::DuplicateField,
        Code::DuplicateParameter,
        Code::FolderOutsideBook,
        Code::IncludeAnchor,
        Code::IndexOutOfRange,
        Code::InitFailed,
        Code::Internal,
        Code::InvalidUtf8,
        Code::MdbookVersion,
        Code::MissingArgument,
        Code::MissingChapter,
        Code::MissingSource,
        Code::MissingSummary,
        Code::NativeError,
        Code::NoBook,
        Code::NotAFunction,
        Code::NotSweepable,
        Code::NumberedAfterSuffix,
        Code::Overflow,
        Code::ParseError,
        Code::PartAfterSuffix,
        Code::RangeTooLarge,
        Code::RecursionLimit,
        Code::SpecBadValue,
        Code::SpecMissingKey,
        Code::SpecUnknownColumn,
        Code::SpecUnknownKey,
        Code::SpecYaml,
        Code::StepLimit,
        Code::Template,
        Code::TooComplex,
        Code::TooDeep,
        Code::TypeMismatch,
        Code::UnknownArgument,
        Code::UnknownChapter,
        Code::UnknownChip,
        Code::UnknownDimension,
        Code::UnknownField,
        Code::UnknownName,
        Code::UnknownReference,
        Code::UnknownUnit,
        Code::UnlistedChapter,
        Code::UnreadableFile,
        Code::UnsupportedDirective,
        Code::UnsupportedOutput,
        Code::UnsupportedPreprocessor,
        Code::UnterminatedString,
        Code::WrongArgumentCount,
    ];

    /// The stable name, as `check --json` and the terminal show it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::AmbiguousUnit => "ambiguous-unit",
            Code::BadAdditionalFile => "bad-additional-file",
            Code::BadConfig => "bad-config",
            Code::BadData => "bad-data",
            Code::BadDataName => "bad-data-name",
            Code::BadDigits => "bad-digits",
            Code::BadDimension => "bad-dimension",
            Code::BadExponent => "bad-exponent",
            Code::BadHtmlConfig => "bad-html-config",
            Code::BadInclude => "bad-include",
            Code::BadMath => "bad-math",
            Code::BadPreprocessorInput => "bad-preprocessor-input",
            Code::BadQuantity => "bad-quantity",
            Code::BadRange => "bad-range",
            Code::BadRedirect => "bad-redirect",
            Code::BadSummaryEntry => "bad-summary-entry",
            Code::BadSummaryLine => "bad-summary-line",
            Code::BadTolerance => "bad-tolerance",
            Code::BadUnit => "bad-unit",
            Code::BadYaml => "bad-yaml",
            Code::BookExists => "book-exists",
            Code::BrokenAnchor => "broken-anchor",
            Code::BrokenLink => "broken-link",
            Code::ChapterOutsideSource => "chapter-outside-source",
            Code::ChartLogNonpositive => "chart-log-nonpositive",
            Code::ChartNotFinite => "chart-not-finite",
            Code::ChartSweepTooLarge => "chart-sweep-too-large",
            Code::ChartUnitMismatch => "chart-unit-mismatch",
            Code::ChartUnknownKind => "chart-unknown-kind",
            Code::ClaimFails => "claim-fails",
            Code::ClaimNotComparison => "claim-not-comparison",
            Code::DependsOnFailed => "depends-on-failed",
            Code::DimensionMismatch => "dimension-mismatch",
            Code::DivisionByZero => "division-by-zero",
            Code::DomainError => "domain-error",
            Code::DraftUnnumbered => "draft-unnumbered",
            Code::DuplicateArgument => "duplicate-argument",
            Code::DuplicateChapter => "duplicate-chapter",
            Code::DuplicateField => "duplicate-field",
            Code::DuplicateParameter => "duplicate-parameter",
            Code::FolderOutsideBook => "folder-outside-book",
            Code::IncludeAnchor => "include-anchor",
            Code::IndexOutOfRange => "index-out-of-range",
            Code::InitFailed => "init-failed",
            Code::Internal => "internal",
            Code::InvalidUtf8 => "invalid-utf8",
            Code::MdbookVersion => "mdbook-version",
            Code::MissingArgument => "missing-argument",
            Code::MissingChapter => "missing-chapter",
            Code::MissingSource => "missing-source",
            Code::MissingSummary => "missing-summary",
            Code::NativeError => "native-error",
            Code::NoBook => "no-book",
            Code::NotAFunction => "not-a-function",
            Code::NotSweepable => "not-sweepable",
            Code::NumberedAfterSuffix => "numbered-after-suffix",
            Code::Overflow => "overflow",
            Code::ParseError => "parse-error",
            Code::PartAfterSuffix => "part-after-suffix",
            Code::RangeTooLarge => "range-too-large",
            Code::RecursionLimit => "recursion-limit",
            Code::SpecBadValue => "spec-bad-value",
            Code::SpecMissingKey => "spec-missing-key",
            Code::SpecUnknownColumn => "spec-unknown-column",
            Code::SpecUnknownKey => "spec-unknown-key",
            Code::SpecYaml => "spec-yaml",
            Code::StepLimit => "step-limit",
            Code::Template => "template",
            Code::TooComplex => "too-complex",
            Code::TooDeep => "too-deep",
            Code::TypeMismatch => "type-mismatch",
            Code::UnknownArgument => "unknown-argument",
            Code::UnknownChapter => "unknown-chapter",
            Code::UnknownChip => "unknown-chip",
            Code::UnknownDimension => "unknown-dimension",
            Code::UnknownField => "unknown-field",
            Code::UnknownName => "unknown-name",
            Code::UnknownReference => "unknown-reference",
            Code::UnknownUnit => "unknown-unit",
            Code::UnlistedChapter => "unlisted-chapter",
            Code::UnreadableFile => "unreadable-file",
            Code::UnsupportedDirective => "unsupported-directive",
            Code::UnsupportedOutput => "unsupported-output",
            Code::UnsupportedPreprocessor => "unsupported-preprocessor",
            Code::UnterminatedString => "unterminated-string",
            Code::WrongArgumentCount => "wrong-argument-count",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Lets tests compare with the stable name: `d.code == "unknown-name"`.
impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// A secondary underline with its own message (e.g. "this side is bytes").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Range<usize>,
    pub message: String,
}

/// One problem found in a book, with everything needed to point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The kind of problem, printed as a stable kebab-case name (`unknown-name`).
    pub code: Code,
    pub message: String,
    /// Path relative to the book root; `None` for problems not tied to a file.
    pub file: Option<PathBuf>,
    /// Byte range in the file's text that the primary caret underlines.
    pub span: Option<Range<usize>>,
    /// Text printed beside the primary caret.
    pub label: Option<String>,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            file: None,
            span: None,
            label: None,
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    pub fn with_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn with_span(mut self, span: Range<usize>) -> Self {
        self.span = Some(span);
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_secondary(mut self, span: Range<usize>, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Shifts every span by `by` bytes: used when a piece of a file (a fenced block) was analysed on
    /// its own and its position in the file is known only afterwards.
    pub fn offset(mut self, by: usize) -> Self {
        if let Some(span) = &mut self.span {
            *span = span.start + by..span.end + by;
        }
        for label in &mut self.secondary {
            label.span = label.span.start + by..label.span.end + by;
        }
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column of the primary span in `text`, if the diagnostic has one.
    pub fn line_col(&self, text: &str) -> Option<(usize, usize)> {
        self.span.as_ref().map(|s| line_col(text, s.start))
    }
}

impl fmt::Display for Diagnostic {
    /// A one-line form (`file: message`) for places without the source text at hand.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.file {
            Some(file) => write!(
                f,
                "{sev}[{}]: {}: {}",
                self.code,
                file.display(),
                self.message
            ),
            None => write!(f, "{sev}[{}]: {}", self.code, self.message),
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Line numbers of many offsets in one text, each in O(log n) (calling [`line_col`] once per
/// statement of a 20,000-line block would be quadratic).
pub struct LineIndex {
    /// Byte offset where each line starts.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The 1-based line of byte `offset`, as [`line_col`] gives it.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

/// Byte offset of the start of 1-based `line` in `text` (the end of the text past the last line).
pub fn line_start(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 2)
        .map_or(text.len(), |(i, _)| i + 1)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The texts of the files that diagnostics point into, keyed by their book-relative path.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: BTreeMap<PathBuf, String>,
}

impl Sources {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) {
        self.files.insert(path.into(), text.into());
    }

    pub fn get(&self, path: &Path) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    /// Takes a file's text out (a book being recycled hands its chapters' texts back).
    pub fn take(&mut self, path: &Path) -> Option<String> {
        self.files.remove(path)
    }

    /// `file:line:col` of a diagnostic, as far as it is known.
    pub fn location(&self, diag: &Diagnostic) -> Option<String> {
        let file = diag.file.as_ref()?;
        match (self.get(file), &diag.span) {
            (Some(text), Some(span)) => {
                let (line, col) = line_col(text, span.start);
                Some(format!("{}:{line}:{col}", file.display()))
            }
            _ => Some(file.display().to_string()),
        }
    }
}

/// Renders diagnostics the way a compiler does: header, `--> file:line:col`, the source line with the
/// offending text underlined, then help and notes.
pub fn render(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    Renderer::new(sources).render(diags, color)
}

/// Renders many diagnostics against the same sources, indexing each file's lines once, on first
/// use (a chapter with thousands of errors re-indexed its whole text for every one of them).
pub struct Renderer<'a> {
    sources: &'a Sources,
    files: std::cell::RefCell<IndexedFiles<'a>>,
}

/// The files indexed so far, and each one's id by path.
type IndexedFiles<'a> = (SimpleFiles<String, &'a str>, BTreeMap<PathBuf, usize>);

impl<'a> Renderer<'a> {
    pub fn new(sources: &'a Sources) -> Self {
        Renderer {
            sources,
            files: std::cell::RefCell::new((SimpleFiles::new(), BTreeMap::new())),
        }
    }

    pub fn render(&self, diags: &[Diagnostic], color: bool) -> String {
        let mut files = self.files.borrow_mut();
        for path in diags.iter().filter_map(|d| d.file.as_ref()) {
            if !files.1.contains_key(path)
                && let Some((key, text)) = self.sources.files.get_key_value(path)
            {
                let id = files.0.add(key.display().to_string(), text.as_str());
                files.1.insert(key.clone(), id);
            }
        }
        let (files, ids) = &*files;
        let config = term::Config::default();
        let mut out = Vec::new();
        for diag in diags {
            let cs_diag = to_codespan(diag, ids, self.sources);
            if color {
                let mut writer = term::termcolor::Ansi::new(&mut out);
                let _ = term::emit_to_write_style(&mut writer, &config, files, &cs_diag);
            } else {
                let mut writer = term::termcolor::NoColor::new(&mut out);
                let _ = term::emit_to_write_style(&mut writer, &config, files, &cs_diag);
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn to_codespan(
    diag: &Diagnostic,
    ids: &BTreeMap<PathBuf, usize>,
    sources: &Sources,
) -> cs::Diagnostic<usize> {
    let severity = match diag.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let mut out = cs::Diagnostic::new(severity)
        .with_code(diag.code.as_str())
        .with_message(&diag.message);
    let mut notes = Vec::new();
    match diag
        .file
        .as_ref()
        .and_then(|f| ids.get(f).map(|id| (f, *id)))
    {
        Some((path, id)) => {
            let len = sources.get(path).map_or(0, str::len);
            let clamp = |r: &Range<usize>| r.start.min(len)..r.end.min(len).max(r.start.min(len));
            let mut labels = Vec::new();
            match &diag.span {
                Some(span) => labels.push(
                    cs::Label::primary(id, clamp(span))
                        .with_message(diag.label.clone().unwrap_or_default()),
                ),
                None => labels.push(cs::Label::primary(id, 0..0)),
            }
            for l in &diag.secondary {
                labels.push(cs::Label::secondary(id, clamp(&l.span)).with_message(&l.message));
            }
            out = out.with_labels(labels);
        }
        None => {
            if let Some(file) = &diag.file {
                notes.push(format!("in {}", file.display()));
            }
        }
    }
    if let Some(help) = &diag.help {
        notes.push(format!("help: {help}"));
    }
    notes.extend(diag.notes.iter().map(|n| format!("note: {n}")));
    out.with_notes(notes)
}

/// Suggests the candidate closest to `wanted` by edit distance, if any is close enough to be a
/// plausible typo.
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for cand in candidates {
        // Similarity in [0, 1]; 0.7 accepts one typo in a five-letter word, not a different word.
        let score = strsim::normalized_damerau_levenshtein(wanted, cand);
        // Short names: one slip (`mss` for `ms`) is still a typo, a different letter is not.
        let one_slip = strsim::damerau_levenshtein(wanted, cand) == 1
            && wanted.chars().count().min(cand.chars().count()) >= 2;
        if (score >= 0.7 || one_slip) && best.is_none_or(|(_, s)| score > s) {
            best = Some((cand, score));
        }
    }
    best.map(|(c, _)| c)
}

/// Names that share a word with `wanted` (`chinchilla` → `chinchilla_tokens`, `kv_bytes` →
/// `kv_bytes_per_token`), for when no name is close enough to be a typo: at most three, shortest
/// first.
pub fn sharing_a_word<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let words: Vec<String> = wanted
        .split('_')
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_ascii_lowercase)
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    let mut found: Vec<&str> = candidates
        .into_iter()
        .filter(|c| *c != wanted)
        .filter(|c| {
            let lower = c.to_ascii_lowercase();
            words
                .iter()
                .any(|w| lower.split('_').any(|cw| cw == w) || lower.starts_with(w.as_str()))
        })
        .collect();
    found.sort_by_key(|c| (c.len(), *c));
    found.dedup();
    found.truncate(3);
    found
}

/// "did you mean `x`?" for a typo, else the names sharing a word, else `None`.
pub fn suggest_name(wanted: &str, candidates: &[&str]) -> Option<String> {
    if let Some(s) = did_you_mean(wanted, candidates.iter().copied()) {
        return Some(format!("did you mean `{s}`?"));
    }
    let shared = sharing_a_word(wanted, candidates.iter().copied());
    match shared.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        many => Some(format!(
            "similar names: {}",
            many.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_word_suggests_a_longer_name() {
        let names = [
            "chinchilla_tokens",
            "training_flops",
            "decode",
            "kv_bytes_per_token",
        ];
        assert_eq!(
            suggest_name("chinchilla", &names).as_deref(),
            Some("did you mean `chinchilla_tokens`?")
        );
        assert_eq!(
            suggest_name("decod", &names).as_deref(),
            Some("did you mean `decode`?")
        );
        assert_eq!(suggest_name("zzz", &names), None);
    }

    #[test]
    fn every_code_has_a_distinct_kebab_case_name() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let name = code.as_str();
            assert!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !name.starts_with('-')
                    && !name.ends_with('-'),
                "{name}"
            );
            assert!(seen.insert(name), "{name} twice");
            assert_eq!(code.to_string(), name);
            assert_eq!(serde_json::to_string(code).unwrap(), format!("\"{name}\""));
        }
    }

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let text = "ab\nμx = 1\n";
        // 'x' sits after a two-byte 'μ' on line 2.
        assert_eq!(line_col(text, 5), (2, 2));
        assert_eq!(line_col(text, 0), (1, 1));
    }

    #[test]
    fn line_start_finds_each_line() {
        let text = "a\nbc\nd";
        assert_eq!(line_start(text, 1), 0);
        assert_eq!(line_start(text, 2), 2);
        assert_eq!(line_start(text, 3), 5);
        assert_eq!(line_start(text, 9), text.len());
    }

    #[test]
    fn rendered_diagnostic_names_file_line_and_underlines_the_span() {
        let mut sources = Sources::new();
        sources.insert("ch1.md", "x = 8 TB/s + 3 s\n");
        let diag = Diagnostic::error(Code::DimensionMismatch, "cannot add bandwidth and time")
            .with_file("ch1.md")
            .with_span(11..12)
            .with_label("bytes/time + time")
            .with_help("convert one side");
        let text = render(&[diag], &sources, false);
        assert!(text.contains("ch1.md:1:12"), "{text}");
        assert!(text.contains("^ bytes/time + time"), "{text}");
        assert!(text.contains("help: convert one side"), "{text}");
    }

    #[test]
    fn did_you_mean_picks_the_closest_plausible_name() {
        let names = ["title", "authors", "description", "language", "src"];
        assert_eq!(did_you_mean("titel", names), Some("title"));
        assert_eq!(did_you_mean("author", names), Some("authors"));
        assert_eq!(did_you_mean("zzzzzz", names), None);
    }
}
