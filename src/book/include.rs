//! mdBook's `{{#…}}` directives, expanded at load time as mdBook 0.5's `links` preprocessor
//! expands them.
//!
//! Supported forms: `{{#include path}}`, `{{#include path:anchor}}` (the lines after
//! `ANCHOR: anchor` up to `ANCHOR_END: anchor` or the end of the file), line ranges `path:10`,
//! `path:10:20`, `path::20`, `path:10:`, the same for `{{#rustdoc_include}}` (the other lines
//! hidden with `# `), `{{#playground path attrs}}` and `{{#title …}}`. Expansion records a
//! [`SpanMap`] so that a diagnostic found later in the expanded text still points at the right place
//! in the chapter file (inside an included piece, at the directive that included it).

use crate::diagnostic::Code;
use std::ops::Range;
use std::path::Path;

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

/// A chapter after its directives were expanded.
#[derive(Debug, Clone, Default)]
pub struct Expanded {
    pub text: String,
    pub map: SpanMap,
    pub diagnostics: Vec<Diagnostic>,
    /// The page title set by `{{#title …}}`, if any.
    pub title: Option<String>,
}

/// Expands the directives in `text`, the contents of `file` (a path relative to the book root;
/// `root` resolves it on disk).
pub fn expand(text: &str, root: &Path, file: &Path) -> (String, SpanMap, Vec<Diagnostic>) {
    let e = expand_chapter(text, root, file);
    (e.text, e.map, e.diagnostics)
}

/// mdBook's `links` preprocessor: `{{#include}}`, `{{#rustdoc_include}}`, `{{#playground}}` and
/// `{{#title}}`, with `\{{#…}}` escaping a directive. An included piece's lines after the first
/// are prefixed with what precedes the directive on its line (so an include indented in a list or
/// quoted stays there) and its last newline is dropped, as in mdBook. A directive that cannot be
/// expanded stays as text: an error in prose, silently inside code (a book about mdBook writes
/// directives in its examples).
pub fn expand_chapter(text: &str, root: &Path, file: &Path) -> Expanded {
    let mut expanded = Expanded::default();
    let mut out = String::with_capacity(text.len());
    let mut map = SpanMap::default();
    let base = file.parent().unwrap_or(Path::new("")).to_path_buf();
    let code = code_regions(text);
    let mut verbatim_from = 0;
    for directive in find_directives(text) {
        let in_code = code.iter().any(|r| r.contains(&directive.start));
        push_verbatim(&mut out, &mut map, text, verbatim_from, directive.start);
        verbatim_from = directive.start;
        let Directive { start, end, .. } = directive;
        let result = match &directive.kind {
            Kind::Escaped => {
                // Drop the backslash, keep the rest as written.
                verbatim_from = start + 1;
                continue;
            }
            Kind::Unknown(name) => {
                if !in_code {
                    expanded.diagnostics.push(
                        Diagnostic::warning(
                            Code::UnsupportedDirective,
                            format!("`{{{{#{name} …}}}}` is not a directive calcbook knows; left as text"),
                        )
                        .with_file(file)
                        .with_span(start..end)
                        .with_help("calcbook expands include, rustdoc_include, playground and title, as mdBook does"),
                    );
                }
                continue;
            }
            kind => {
                let mut nested_errors = Vec::new();
                render(
                    kind,
                    root,
                    &base,
                    0,
                    &mut expanded.title,
                    &mut nested_errors,
                )
                .map(|(piece, warnings)| {
                    for w in warnings {
                        expanded.diagnostics.push(
                            Diagnostic::warning(Code::IncludeAnchor, w)
                                .with_file(file)
                                .with_span(start..end),
                        );
                    }
                    (piece, nested_errors)
                })
            }
        };
        let (piece, nested_errors) = match result {
            Ok(ok) => ok,
            Err(message) => (None, vec![message]),
        };
        if !in_code {
            for message in nested_errors {
                expanded.diagnostics.push(
                    Diagnostic::error(Code::BadInclude, message)
                        .with_file(file)
                        .with_span(start..end)
                        .with_label("in this directive"),
                );
            }
        }
        let Some(piece) = piece else {
            // Not expanded: the directive stays as written.
            continue;
        };
        let prefix = out.rsplit('\n').next().unwrap_or("").to_string();
        let piece = piece
            .lines()
            .collect::<Vec<_>>()
            .join(&format!("\n{prefix}"));
        map.pieces.push((out.len(), start, piece.len(), false));
        out.push_str(&piece);
        verbatim_from = end;
    }
    push_verbatim(&mut out, &mut map, text, verbatim_from, text.len());
    expanded.text = out;
    expanded.map = map;
    expanded
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

/// Byte ranges of code (fenced or indented blocks, inline code spans) in a chapter.
fn code_regions(text: &str) -> Vec<Range<usize>> {
    use pulldown_cmark::{Event, Parser, Tag};
    if !text.contains("{{") {
        return Vec::new();
    }
    Parser::new_ext(text, crate::render::markdown::options())
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::CodeBlock(_)) | Event::Code(_) => Some(range),
            _ => None,
        })
        .collect()
}

/// What a directive asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `\{{#…}}`: written to be shown, not expanded.
    Escaped,
    Include(String),
    RustdocInclude(String),
    /// The file, then the attributes for the code fence (`editable`, `ignore`…).
    Playground(String, Vec<String>),
    Title(String),
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Directive {
    start: usize,
    end: usize,
    kind: Kind,
}

/// Finds directives as mdBook's pattern does: `{{`, optional spaces, `#name`, at least one space,
/// arguments without `}`, then `}}`. A `\` before `{{#` escapes everything up to the line's last
/// `}}`.
fn find_directives(text: &str) -> Vec<Directive> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("{{") {
        let start = from + i;
        from = start + 2;
        if start > 0 && text.as_bytes()[start - 1] == b'\\' && text[start + 2..].starts_with('#') {
            let line_end = text[start..].find('\n').map_or(text.len(), |n| start + n);
            if let Some(close) = text[start..line_end].rfind("}}") {
                found.push(Directive {
                    start: start - 1,
                    end: start + close + 2,
                    kind: Kind::Escaped,
                });
                from = start + close + 2;
            }
            continue;
        }
        let after = &text[start + 2..];
        let body = after.trim_start();
        let Some(body) = body.strip_prefix('#') else {
            continue;
        };
        let name_len = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        let (name, rest) = body.split_at(name_len);
        if name.is_empty() || !rest.starts_with(char::is_whitespace) {
            continue;
        }
        let Some(close) = rest.find('}') else {
            continue;
        };
        let args = &rest[..close];
        if !rest[close..].starts_with("}}") || args.trim().is_empty() {
            continue;
        }
        let end = text.len() - rest.len() + close + 2;
        let mut words = args.split_whitespace().map(str::to_string);
        let first = words.next().unwrap_or_default();
        let kind = match name {
            "include" => Kind::Include(first),
            "rustdoc_include" => Kind::RustdocInclude(first),
            "playground" | "playpen" => Kind::Playground(first, words.collect()),
            "title" => Kind::Title(args.trim().to_string()),
            other => Kind::Unknown(other.to_string()),
        };
        found.push(Directive { start, end, kind });
        from = end;
    }
    found
}

/// The text a directive stands for (`None`: leave it as written) and warnings about it. Nested
/// directives in an included file are expanded relative to that file; their failures are pushed to
/// `errors` and leave them as written, as mdBook does.
fn render(
    kind: &Kind,
    root: &Path,
    base: &Path,
    depth: usize,
    title: &mut Option<String>,
    errors: &mut Vec<String>,
) -> Result<(Option<String>, Vec<String>), String> {
    if depth >= MAX_DEPTH {
        return Err(format!(
            "includes nested deeper than {MAX_DEPTH} levels (does a file include itself?)"
        ));
    }
    let mut warnings = Vec::new();
    let (spec, rustdoc) = match kind {
        Kind::Title(t) => {
            *title = Some(t.clone());
            return Ok((Some(String::new()), warnings));
        }
        Kind::Escaped | Kind::Unknown(_) => return Ok((None, warnings)),
        Kind::Include(spec) => (spec, false),
        Kind::RustdocInclude(spec) => (spec, true),
        Kind::Playground(path, attrs) => {
            let rel = base.join(path);
            let mut contents = read_included(root, &rel, path)?;
            if !contents.ends_with('\n') {
                contents.push('\n');
            }
            let fence = if attrs.is_empty() {
                "rust".to_string()
            } else {
                format!("rust,{}", attrs.join(","))
            };
            let nested = expand_nested(&contents, root, &rel, depth, title, errors);
            return Ok((Some(format!("```{fence}\n{nested}```\n")), warnings));
        }
    };
    let (path, selector) = match spec.split_once(':') {
        Some((p, s)) => (p, Some(s)),
        None => (spec.as_str(), None),
    };
    let rel = base.join(path);
    let contents = read_included(root, &rel, path)?;
    let piece = match (parse_selector(selector), rustdoc) {
        (Selector::Lines(from, to), false) => take_lines(&contents, from, to),
        (Selector::Lines(from, to), true) => rustdoc_lines(&contents, from, to),
        (Selector::Anchor(name), rustdoc) => {
            if !contents
                .lines()
                .any(|l| anchor_name(l, "ANCHOR:") == Some(name.as_str()))
            {
                warnings.push(format!(
                    "no `ANCHOR: {name}` in `{path}`: nothing is included, as in mdBook"
                ));
            }
            if rustdoc {
                rustdoc_anchored(&contents, &name)
            } else {
                take_anchored(&contents, &name)
            }
        }
    };
    let nested = expand_nested(&piece, root, &rel, depth, title, errors);
    Ok((Some(nested), warnings))
}

/// Expands directives inside an included piece (`file` is the included file, relative to root).
fn expand_nested(
    text: &str,
    root: &Path,
    file: &Path,
    depth: usize,
    title: &mut Option<String>,
    errors: &mut Vec<String>,
) -> String {
    let base = file.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for d in find_directives(text) {
        out.push_str(&text[from..d.start]);
        from = d.start;
        if d.kind == Kind::Escaped {
            from = d.start + 1;
            continue;
        }
        match render(&d.kind, root, &base, depth + 1, title, errors) {
            Ok((Some(piece), _)) => {
                let prefix = out.rsplit('\n').next().unwrap_or("").to_string();
                let piece = piece
                    .lines()
                    .collect::<Vec<_>>()
                    .join(&format!("\n{prefix}"));
                out.push_str(&piece);
                from = d.end;
            }
            Ok((None, _)) => {}
            Err(message) => errors.push(message),
        }
    }
    out.push_str(&text[from..]);
    out
}

/// Reads an included file (`rel`, relative to the book root; `written` is how the directive
/// names it) through `fs`: the file must stay inside the book, be a regular file and fit the
/// include budget.
fn read_included(root: &Path, rel: &Path, written: &str) -> Result<String, String> {
    super::fs::read_included(root, rel)
        .map_err(|e| format!("cannot include `{written}`: {e} ({})", rel.display()))
}

/// `path:10:20` (lines 10 to 20), `path:10` (line 10), `path:10:` / `path::20` (open ranges) or
/// `path:name` (an anchor), read as mdBook reads them: 0-based start, exclusive end.
#[derive(Debug, PartialEq, Eq)]
enum Selector {
    Lines(usize, Option<usize>),
    Anchor(String),
}

fn parse_selector(selector: Option<&str>) -> Selector {
    let mut parts = selector.unwrap_or("").splitn(3, ':');
    let first = parts.next().unwrap_or("");
    let start = match first.parse::<usize>() {
        Ok(n) => Some(n.saturating_sub(1)),
        Err(_) if first.is_empty() => None,
        Err(_) => return Selector::Anchor(first.to_string()),
    };
    let end = parts.next().map(str::parse::<usize>);
    match (start, end) {
        (Some(s), Some(Ok(e))) => Selector::Lines(s, Some(e)),
        (Some(s), Some(Err(_))) => Selector::Lines(s, None),
        (Some(s), None) => Selector::Lines(s, Some(s + 1)),
        (None, Some(Ok(e))) => Selector::Lines(0, Some(e)),
        (None, _) => Selector::Lines(0, None),
    }
}

/// Lines `from..to` (0-based, `to` exclusive), `ANCHOR` lines kept, joined without a final newline.
fn take_lines(text: &str, from: usize, to: Option<usize>) -> String {
    let lines = text.lines().skip(from);
    let taken: Vec<&str> = match to {
        Some(to) => lines.take(to.saturating_sub(from)).collect(),
        None => lines.collect(),
    };
    taken.join("\n")
}

/// The lines after `ANCHOR: name` up to `ANCHOR_END: name` (or the end of the file), without any
/// anchor lines.
fn take_anchored(text: &str, name: &str) -> String {
    let mut kept = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if inside {
            match anchor_name(line, "ANCHOR_END:") {
                Some(end) if end == name => break,
                Some(_) => {}
                None if anchor_name(line, "ANCHOR:").is_none() => kept.push(line),
                None => {}
            }
        } else if anchor_name(line, "ANCHOR:") == Some(name) {
            inside = true;
        }
    }
    kept.join("\n")
}

/// `{{#rustdoc_include file:from:to}}`: every line, those outside the range hidden with `# `.
fn rustdoc_lines(text: &str, from: usize, to: Option<usize>) -> String {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            if i >= from && to.is_none_or(|to| i < to) {
                line.to_string()
            } else {
                format!("# {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `{{#rustdoc_include file:name}}`: every line, those outside the anchor hidden with `# `, anchor
/// lines dropped.
fn rustdoc_anchored(text: &str, name: &str) -> String {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if inside {
            match anchor_name(line, "ANCHOR_END:") {
                Some(end) if end == name => inside = false,
                Some(_) => {}
                None if anchor_name(line, "ANCHOR:").is_none() => out.push(line.to_string()),
                None => {}
            }
        } else if let Some(start) = anchor_name(line, "ANCHOR:") {
            inside = start == name;
        } else if anchor_name(line, "ANCHOR_END:").is_none() {
            out.push(format!("# {line}"));
        }
    }
    out.join("\n")
}

/// The name after `marker` (`ANCHOR:` or `ANCHOR_END:`), made of word characters and `-`.
fn anchor_name<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let after = line.split(marker).nth(1)?.trim_start();
    let len = after
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(after.len());
    (len > 0).then(|| &after[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn includes_follow_mdbook_lines_anchors_and_prefixes() {
        let dir = book_with(&[(
            "src/code.rs",
            "a\n// ANCHOR: mid\nb\nc\n// ANCHOR_END: mid\nd\n// ANCHOR: tail\ne\n",
        )]);
        let run = |text: &str| expand(text, dir.path(), Path::new("src/ch.md")).0;
        // Lines after the first carry what precedes the directive on its line; no final newline.
        assert_eq!(run("x {{#include code.rs:mid}} y"), "x b\nx c y");
        // A whole file and line ranges keep the ANCHOR lines.
        assert_eq!(
            run("{{#include code.rs}}"),
            "a\n// ANCHOR: mid\nb\nc\n// ANCHOR_END: mid\nd\n// ANCHOR: tail\ne"
        );
        assert_eq!(run("{{#include code.rs:2:3}}"), "// ANCHOR: mid\nb");
        assert_eq!(run("{{#include code.rs:1}}"), "a");
        assert_eq!(run("{{#include code.rs:7:}}"), "// ANCHOR: tail\ne");
        assert_eq!(run("{{#include code.rs::1}}"), "a");
        // An anchor without ANCHOR_END runs to the end of the file.
        assert_eq!(run("{{#include code.rs:tail}}"), "e");
        // Hidden lines for rustdoc_include.
        assert_eq!(
            run("{{#rustdoc_include code.rs:mid}}"),
            "# a\nb\nc\n# d\n# e"
        );
        assert_eq!(
            run("{{#rustdoc_include code.rs:1:1}}"),
            "a\n# // ANCHOR: mid\n# b\n# c\n# // ANCHOR_END: mid\n# d\n# // ANCHOR: tail\n# e"
        );
    }

    #[test]
    fn missing_anchor_includes_nothing_with_a_warning() {
        let dir = book_with(&[("src/code.rs", "a\n")]);
        let (out, _, diags) = expand(
            "[{{#include code.rs:nope}}]",
            dir.path(),
            Path::new("src/ch.md"),
        );
        assert_eq!(out, "[]");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, "include-anchor");
        assert!(!diags[0].is_error());
    }

    #[test]
    fn playground_title_and_escapes() {
        let dir = book_with(&[("src/p.rs", "fn main() {}")]);
        let e = expand_chapter(
            "{{#title Custom}}{{#playground p.rs editable}}\n\\{{#include x.rs}}",
            dir.path(),
            Path::new("src/ch.md"),
        );
        assert_eq!(e.title.as_deref(), Some("Custom"));
        assert_eq!(
            e.text,
            "```rust,editable\nfn main() {}\n```\n{{#include x.rs}}"
        );
        assert!(e.diagnostics.is_empty(), "{:?}", e.diagnostics);
    }

    #[test]
    fn failed_directive_inside_code_is_literal_and_silent() {
        let dir = book_with(&[]);
        let text = "`{{#include gone.rs}}`\n\n```md\n{{#include gone.rs}}\n{{#unknown x}}\n```\n";
        let (out, _, diags) = expand(text, dir.path(), Path::new("src/ch.md"));
        assert_eq!(out, text);
        assert!(diags.is_empty(), "{diags:?}");
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
    fn unknown_directives_warn_and_stay() {
        let dir = book_with(&[]);
        let (out, _, diags) = expand("{{#frobnicate x.rs}}", dir.path(), Path::new("src/ch.md"));
        assert_eq!(out, "{{#frobnicate x.rs}}");
        assert_eq!(diags[0].code, "unsupported-directive");
    }

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
}
