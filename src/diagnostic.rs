//! The one user-facing error type, used by every stage of the pipeline.
//!
//! A [`Diagnostic`] carries a severity, a stable code, a message, the file it concerns (relative to the
//! book root), a byte span in that file, an optional help line and notes. Stages that work on a piece
//! of a file (a calc block inside a chapter) produce spans relative to that piece and shift them with
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
    /// Stable, kebab-case identifier of the kind of problem (`unknown-name`, `missing-chapter`).
    pub code: &'static str,
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
    pub fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
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

    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
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
        .with_code(diag.code)
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
        let diag = Diagnostic::error("dimension-mismatch", "cannot add bandwidth and time")
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
