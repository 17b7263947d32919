//! mdBook's `{{#include file}}` directives, expanded at load time.
//!
//! Supported forms: `{{#include path}}`, `{{#include path:anchor}}` (the lines between
//! `ANCHOR: anchor` and `ANCHOR_END: anchor`), and line ranges `path:10`, `path:10:20`, `path::20`,
//! `path:10:`. Other `{{#…}}` directives are left as text with a warning. Expansion records a
//! [`SpanMap`] so that a diagnostic found later in the expanded text still points at the right place
//! in the chapter file (inside an included piece, at the directive that included it).

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// Nested includes deeper than this are an error (a file including itself would never end).
const MAX_DEPTH: usize = 10;

/// Maps byte offsets in an expanded chapter back to offsets in the chapter file as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanMap {
    /// (start in expanded text, start in original text, length, is verbatim). A verbatim piece maps
    /// byte for byte; an included piece maps every byte to the directive's start.
    pieces: Vec<(usize, usize, usize, bool)>,
}

impl SpanMap {
    pub fn identity(len: usize) -> Self {
        SpanMap {
            pieces: vec![(0, 0, len, true)],
        }
    }

    pub fn to_original(&self, offset: usize) -> usize {
        let idx = self
            .pieces
            .partition_point(|&(start, _, _, _)| start <= offset)
            .saturating_sub(1);
        match self.pieces.get(idx) {
            Some(&(start, orig, len, true)) => orig + (offset - start).min(len),
            Some(&(_, orig, _, false)) => orig,
            None => offset,
        }
    }

    pub fn span_to_original(&self, span: &Range<usize>) -> Range<usize> {
        let start = self.to_original(span.start);
        let end = self.to_original(span.end).max(start);
        start..end
    }

    /// Maps a diagnostic's spans from expanded to original coordinates.
    pub fn map_diagnostic(&self, mut diag: Diagnostic) -> Diagnostic {
        if let Some(span) = &diag.span {
            let mapped = self.span_to_original(span);
            diag.span = Some(if mapped.is_empty() && !span.is_empty() {
                // The span lay inside an included piece: underline the directive itself.
                mapped.start..mapped.start + 2
            } else {
                mapped
            });
        }
        for label in &mut diag.secondary {
            label.span = self.span_to_original(&label.span);
        }
        diag
    }
}

/// Expands include directives in `text`, the contents of `file` (a path relative to the book
/// root; `root` resolves it on disk).
pub fn expand(text: &str, root: &Path, file: &Path) -> (String, SpanMap, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut map = SpanMap::default();
    let mut verbatim_from = 0;
    let mut search_from = 0;
    while let Some(found) = text[search_from..].find("{{#") {
        let start = search_from + found;
        let Some(close) = text[start..].find("}}") else {
            break;
        };
        let end = start + close + 2;
        // A backslash before the braces escapes the directive, as in mdBook.
        if start > 0 && text.as_bytes()[start - 1] == b'\\' {
            push_verbatim(&mut out, &mut map, text, verbatim_from, start - 1);
            verbatim_from = start;
            search_from = end;
            continue;
        }
        let inner = text[start + 3..end - 2].trim();
        let (name, arg) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
        if name != "include" {
            diags.push(
                Diagnostic::warning(
                    "unsupported-directive",
                    format!("`{{{{#{name}}}}}` is not supported by calcbook; left as text"),
                )
                .with_file(file)
                .with_span(start..end)
                .with_help("calcbook supports `{{#include file}}` and `{{#include file:anchor}}`"),
            );
            search_from = end;
            continue;
        }
        push_verbatim(&mut out, &mut map, text, verbatim_from, start);
        match resolve(arg.trim(), root, file, 0) {
            Ok(piece) => {
                map.pieces.push((out.len(), start, piece.len(), false));
                out.push_str(&piece);
            }
            Err(message) => diags.push(
                Diagnostic::error("bad-include", message)
                    .with_file(file)
                    .with_span(start..end)
                    .with_label("in this include"),
            ),
        }
        verbatim_from = end;
        search_from = end;
    }
    push_verbatim(&mut out, &mut map, text, verbatim_from, text.len());
    (out, map, diags)
}

/// Maps `expanded`, the chapter `original` after some other tool expanded its `{{#…}}`
/// directives (mdBook's `links` preprocessor, whose output differs from [`expand`]'s in details
/// such as trailing newlines), back to `original`: the text between directives must appear in
/// `expanded` in order, and what stands between those pieces maps to its directive. `None` when
/// the texts do not line up (another tool rewrote the chapter).
pub fn align(original: &str, expanded: &str) -> Option<SpanMap> {
    let mut map = SpanMap::default();
    let (mut from, mut at) = (0, 0);
    let mut search_from = 0;
    let mut directive_at: Option<usize> = None;
    loop {
        let next = original[search_from..].find("{{#").map(|i| search_from + i);
        let directive = next.and_then(|start| {
            let end = start + original[start..].find("}}")? + 2;
            Some((start, end))
        });
        let verbatim_to = directive.map_or(original.len(), |(start, _)| start);
        let piece = &original[from..verbatim_to];
        // The first piece starts the text and the last one ends it; between them, the first
        // place the piece occurs after the previous one.
        let found = if directive_at.is_none() {
            expanded.starts_with(piece).then_some(0)
        } else if directive.is_none() {
            expanded[at..]
                .ends_with(piece)
                .then(|| expanded.len() - piece.len())
        } else {
            expanded[at..].find(piece).map(|i| at + i)
        }?;
        if let Some(start) = directive_at {
            map.pieces.push((at, start, found - at, false));
        }
        if !piece.is_empty() {
            map.pieces.push((found, from, piece.len(), true));
        }
        at = found + piece.len();
        let Some((start, end)) = directive else {
            break;
        };
        directive_at = Some(start);
        from = end;
        search_from = end;
    }
    (at == expanded.len()).then_some(map)
}

fn push_verbatim(out: &mut String, map: &mut SpanMap, text: &str, from: usize, to: usize) {
    if from < to {
        map.pieces.push((out.len(), from, to - from, true));
        out.push_str(&text[from..to]);
    }
}

/// Reads the piece named by an include argument (`path[:anchor|:range]`), expanding nested
/// includes in it.
fn resolve(arg: &str, root: &Path, including: &Path, depth: usize) -> Result<String, String> {
    if depth >= MAX_DEPTH {
        return Err(format!(
            "includes nested deeper than {MAX_DEPTH} levels (does a file include itself?)"
        ));
    }
    if arg.is_empty() {
        return Err("`{{#include}}` needs a file name".into());
    }
    let (path_part, selector) = match arg.split_once(':') {
        Some((p, s)) => (p, Some(s)),
        None => (arg, None),
    };
    let rel: PathBuf = including.parent().unwrap_or(Path::new("")).join(path_part);
    // Through `fs`: the file must stay inside the book, be a regular file and fit the budget.
    let text = super::fs::read_included(root, &rel)
        .map_err(|e| format!("cannot include `{path_part}`: {e} ({})", rel.display()))?;
    let selected = select(&text, selector).map_err(|e| format!("cannot include `{arg}`: {e}"))?;
    // Nested includes resolve relative to the included file.
    let mut result = String::with_capacity(selected.len());
    let mut rest = selected.as_str();
    while let Some(found) = rest.find("{{#include") {
        let Some(close) = rest[found..].find("}}") else {
            break;
        };
        result.push_str(&rest[..found]);
        let inner_arg = rest[found + "{{#include".len()..found + close].trim();
        result.push_str(&resolve(inner_arg, root, &rel, depth + 1)?);
        rest = &rest[found + close + 2..];
    }
    result.push_str(rest);
    Ok(result)
}

fn is_anchor_line(line: &str) -> bool {
    line.contains("ANCHOR:") || line.contains("ANCHOR_END:")
}

fn select(text: &str, selector: Option<&str>) -> Result<String, String> {
    let lines: Vec<&str> = text.lines().collect();
    let keep = |ls: &[&str]| {
        let mut s = ls
            .iter()
            .filter(|l| !is_anchor_line(l))
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        if !s.is_empty() {
            s.push('\n');
        }
        s
    };
    let Some(sel) = selector.map(str::trim) else {
        return Ok(keep(&lines));
    };
    let parse_line = |s: &str| -> Result<Option<usize>, String> {
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse::<usize>()
                .map(Some)
                .map_err(|_| format!("`{s}` is not a line number"))
        }
    };
    let first = sel.split(':').next().unwrap_or("");
    if !first.is_empty() && !first.chars().all(|c| c.is_ascii_digit()) {
        // An anchor name.
        let start = lines
            .iter()
            .position(|l| anchor_name(l, "ANCHOR:") == Some(sel))
            .ok_or_else(|| format!("no `ANCHOR: {sel}` in the file"))?;
        let end = lines[start + 1..]
            .iter()
            .position(|l| anchor_name(l, "ANCHOR_END:") == Some(sel))
            .map(|p| p + start + 1)
            .ok_or_else(|| format!("no `ANCHOR_END: {sel}` after `ANCHOR: {sel}`"))?;
        return Ok(keep(&lines[start + 1..end]));
    }
    let mut parts = sel.splitn(2, ':');
    let from = parse_line(parts.next().unwrap_or(""))?;
    let to = match parts.next() {
        Some(t) => parse_line(t)?,
        None => from,
    };
    let from = from.unwrap_or(1).max(1);
    let to = to.unwrap_or(lines.len()).min(lines.len());
    if from > to {
        return Ok(String::new());
    }
    Ok(keep(&lines[from - 1..to]))
}

fn anchor_name<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let after = line.split(marker).nth(1)?;
    after.split_whitespace().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_maps_text_expanded_elsewhere_back_to_the_file() {
        let original = "a\n{{#include x.md}}\nbc\n{{#include y.md}}\nend\n";
        // As mdBook expands it: each included file without its trailing newline.
        let expanded = "a\nX1\nX2\nbc\nYY\nend\n";
        let map = align(original, expanded).expect("the pieces line up");
        assert_eq!(
            map.to_original(expanded.find("bc").unwrap()),
            original.find("bc").unwrap()
        );
        assert_eq!(map.to_original(expanded.find("X2").unwrap()), 2);
        assert_eq!(
            map.to_original(expanded.find("YY").unwrap()),
            original.find("{{#include y").unwrap()
        );
        assert_eq!(
            map.to_original(expanded.find("end").unwrap()),
            original.find("end").unwrap()
        );
        assert!(align(original, "something else entirely").is_none());
    }

    fn book_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn includes_whole_file_anchor_and_line_range() {
        let dir = book_with(&[(
            "src/code.rs",
            "a\n// ANCHOR: mid\nb\nc\n// ANCHOR_END: mid\nd\n",
        )]);
        let (out, _, diags) = expand(
            "x {{#include code.rs:mid}} y",
            dir.path(),
            Path::new("src/ch.md"),
        );
        assert!(diags.is_empty());
        assert_eq!(out, "x b\nc\n y");
        let (out, _, _) = expand("{{#include code.rs}}", dir.path(), Path::new("src/ch.md"));
        assert_eq!(out, "a\nb\nc\nd\n");
        let (out, _, _) = expand(
            "{{#include code.rs:1:1}}",
            dir.path(),
            Path::new("src/ch.md"),
        );
        assert_eq!(out, "a\n");
    }

    #[test]
    fn missing_include_is_an_error_at_the_directive() {
        let dir = book_with(&[]);
        let text = "line one\n{{#include nope.md}}\n";
        let (_, _, diags) = expand(text, dir.path(), Path::new("src/ch.md"));
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.contains("nope.md"), "{}", diags[0].message);
        assert_eq!(diags[0].line_col(text).unwrap().0, 2);
    }

    #[test]
    fn self_include_stops_at_the_depth_limit() {
        let dir = book_with(&[("src/a.md", "{{#include a.md}}")]);
        let (_, _, diags) = expand("{{#include a.md}}", dir.path(), Path::new("src/ch.md"));
        assert!(diags[0].message.contains("nested deeper"));
    }

    #[test]
    fn offsets_after_an_include_map_back_to_the_file() {
        let dir = book_with(&[("src/i.md", "INCLUDED TEXT\n")]);
        let text = "ab{{#include i.md}}cd";
        let (out, map, _) = expand(text, dir.path(), Path::new("src/ch.md"));
        let c_expanded = out.find("cd").unwrap();
        assert_eq!(map.to_original(c_expanded), text.find("cd").unwrap());
        assert_eq!(map.to_original(out.find("TEXT").unwrap()), 2);
    }

    #[test]
    fn other_directives_warn_and_stay() {
        let dir = book_with(&[]);
        let (out, _, diags) = expand("{{#playground x.rs}}", dir.path(), Path::new("src/ch.md"));
        assert_eq!(out, "{{#playground x.rs}}");
        assert_eq!(diags[0].code, "unsupported-directive");
    }
}
