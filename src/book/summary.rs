//! `SUMMARY.md`: the book's chapter order, in mdBook's format.
//!
//! ```markdown
//! # Summary
//! [Preface](preface.md)          <- prefix chapter (unnumbered)
//! # Part title                   <- part heading
//! - [Intro](intro.md)            <- numbered chapter "1."
//!   - [Detail](intro/detail.md)  <- nested "1.1."
//! - [Draft]()                    <- draft: listed, no page
//! ---                            <- separator
//! [Appendix](appendix.md)        <- suffix chapter (unnumbered)
//! ```
//!
//! The parser is line based so that every item keeps its line for diagnostics. Numbering continues
//! across parts, as in mdBook.

use crate::diagnostic::Code;
use std::ops::Range;
use std::path::PathBuf;

use crate::diagnostic::Diagnostic;

/// One entry of the table of contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryItem {
    Chapter(Link),
    PartTitle { title: String, span: Range<usize> },
    Separator,
}

/// A chapter entry: `[title](path)`, with its nested chapters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub title: String,
    /// `None` for a draft chapter (`[Title]()`).
    pub path: Option<PathBuf>,
    /// Section number (`[1, 2]` renders "1.2."); `None` for prefix and suffix chapters.
    pub number: Option<Vec<u32>>,
    pub nested: Vec<SummaryItem>,
    /// Byte span of the link's path (or of the whole link for drafts) in SUMMARY.md.
    pub span: Range<usize>,
}

impl Link {
    pub fn number_text(&self) -> String {
        self.number
            .as_ref()
            .map(|n| n.iter().map(|x| format!("{x}.")).collect())
            .unwrap_or_default()
    }
}

/// The parsed SUMMARY.md.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub title: Option<String>,
    pub items: Vec<SummaryItem>,
}

impl Summary {
    /// Every chapter link in reading order (depth first).
    pub fn links(&self) -> Vec<&Link> {
        fn walk<'a>(items: &'a [SummaryItem], out: &mut Vec<&'a Link>) {
            for item in items {
                if let SummaryItem::Chapter(link) = item {
                    out.push(link);
                    walk(&link.nested, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.items, &mut out);
        out
    }
}

#[derive(PartialEq, Clone, Copy)]
enum Phase {
    Prefix,
    Numbered,
    Suffix,
}

struct ListEntry {
    indent: usize,
    link: Link,
}

/// Parses SUMMARY.md. Problems are collected, not fatal: the summary returned holds every entry
/// that could be read.
pub fn parse(text: &str, file: &str) -> (Summary, Vec<Diagnostic>) {
    let mut summary = Summary::default();
    let mut diags = Vec::new();
    let mut phase = Phase::Prefix;
    let mut pending_list: Vec<ListEntry> = Vec::new();
    let mut in_comment = false;
    let mut seen_content = false;
    let mut top_number = 0u32;
    // A UTF-8 byte order mark is not part of the first line; offsets still count its bytes.
    let (text, mut offset) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, '\u{feff}'.len_utf8()),
        None => (text, 0usize),
    };

    for raw_line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim();
        if in_comment {
            if trimmed.contains("-->") {
                in_comment = false;
            }
            continue;
        }
        if trimmed.starts_with("<!--") {
            in_comment = !trimmed.contains("-->");
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        let indent = line[..lead]
            .chars()
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum::<usize>();
        let content_start = line_start + lead;

        if let Some(rest) = trimmed.strip_prefix('#') {
            flush_list(&mut pending_list, &mut summary.items, &mut top_number);
            let title = rest.trim_start_matches('#').trim().to_string();
            if !seen_content && summary.title.is_none() {
                summary.title = Some(title);
            } else {
                if phase == Phase::Suffix {
                    diags.push(
                        located(
                            file,
                            content_start..line_start + line.len(),
                            Code::PartAfterSuffix,
                        )
                        .with_help("part titles must come before the suffix chapters"),
                    );
                    continue;
                }
                summary.items.push(SummaryItem::PartTitle {
                    title,
                    span: content_start..line_start + line.len(),
                });
                phase = Phase::Numbered;
            }
            seen_content = true;
            continue;
        }
        seen_content = true;
        // A comment opened after an entry (`- [B](b.md) <!-- … `) runs on to its `-->`.
        if let Some(open) = trimmed.rfind("<!--")
            && !trimmed[open..].contains("-->")
        {
            in_comment = true;
        }
        if is_separator(trimmed) {
            flush_list(&mut pending_list, &mut summary.items, &mut top_number);
            summary.items.push(SummaryItem::Separator);
            continue;
        }
        if let Some(after_bullet) = strip_bullet(trimmed) {
            let bullet_len = trimmed.len() - after_bullet.len();
            if phase == Phase::Suffix {
                diags.push(
                    located(
                        file,
                        content_start..line_start + line.len(),
                        Code::NumberedAfterSuffix,
                    )
                    .with_help("suffix chapters (plain links after the list) must come last"),
                );
                continue;
            }
            phase = Phase::Numbered;
            match parse_link(after_bullet, content_start + bullet_len) {
                Ok(link) => pending_list.push(ListEntry { indent, link }),
                Err(span) => diags.push(bad_entry(file, span)),
            }
            continue;
        }
        if trimmed.starts_with('[') {
            flush_list(&mut pending_list, &mut summary.items, &mut top_number);
            if phase == Phase::Numbered {
                phase = Phase::Suffix;
            }
            match parse_link(trimmed, content_start) {
                Ok(link) if link.path.is_none() => diags.push(
                    Diagnostic::error(
                        Code::DraftUnnumbered,
                        "prefix and suffix chapters cannot be drafts",
                    )
                    .with_file(file)
                    .with_span(link.span)
                    .with_help("give the chapter a file, or move it into the numbered list"),
                ),
                Ok(link) => summary.items.push(SummaryItem::Chapter(link)),
                Err(span) => diags.push(bad_entry(file, span)),
            }
            continue;
        }
        diags.push(
            Diagnostic::error(Code::BadSummaryLine, "this line is not a SUMMARY.md entry")
                .with_file(file)
                .with_span(content_start..line_start + line.len())
                .with_label("expected `- [Title](file.md)`, `[Title](file.md)`, `# Part` or `---`"),
        );
    }
    flush_list(&mut pending_list, &mut summary.items, &mut top_number);
    (summary, diags)
}

fn located(file: &str, span: Range<usize>, code: Code) -> Diagnostic {
    let message = match code {
        Code::PartAfterSuffix => "a part title after the suffix chapters",
        _ => "a numbered chapter after the suffix chapters",
    };
    Diagnostic::error(code, message)
        .with_file(file)
        .with_span(span)
}

fn bad_entry(file: &str, span: Range<usize>) -> Diagnostic {
    Diagnostic::error(Code::BadSummaryEntry, "cannot read this SUMMARY.md entry")
        .with_file(file)
        .with_span(span)
        .with_label("expected `[Title](path/to/file.md)`")
}

fn is_separator(line: &str) -> bool {
    let s: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    s.len() >= 3
        && (s.chars().all(|c| c == '-')
            || s.chars().all(|c| c == '*')
            || s.chars().all(|c| c == '_'))
}

fn strip_bullet(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("- ")
        .or_else(|| line.strip_prefix("* "))
        .or_else(|| line.strip_prefix("+ "))?;
    Some(rest.trim_start())
}

/// Parses `[title](path)` starting at byte `at` of the file; on failure returns the span to blame.
fn parse_link(s: &str, at: usize) -> Result<Link, Range<usize>> {
    let whole = at..at + s.len();
    if !s.starts_with('[') {
        return Err(whole);
    }
    // The title may itself contain balanced brackets (`[`a[0]`](x.md)`).
    let mut depth = 0usize;
    let mut close = None;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close.ok_or(whole.clone())?;
    let title = plain_title(&s[1..close]);
    let rest = &s[close + 1..];
    let inner = rest.strip_prefix('(').ok_or(whole.clone())?;
    // The destination ends at its closing parenthesis; words or an HTML comment after the link
    // are ignored, as mdBook ignores them. `<…>` may hold spaces.
    let end = if inner.trim_start().starts_with('<') {
        inner
            .find('>')
            .and_then(|gt| inner[gt..].find(')').map(|p| gt + p))
    } else {
        let mut depth = 0usize;
        inner.char_indices().find_map(|(i, c)| match c {
            '(' => {
                depth += 1;
                None
            }
            ')' if depth == 0 => Some(i),
            ')' => {
                depth -= 1;
                None
            }
            _ => None,
        })
    }
    .ok_or(whole.clone())?;
    let raw_target = inner[..end].trim();
    let target = raw_target
        .strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(raw_target);
    let target_start = at
        + close
        + 2
        + (inner.len() - inner.trim_start().len())
        + usize::from(target.len() != raw_target.len());
    let path = if target.is_empty() {
        None
    } else {
        Some(PathBuf::from(target.replace("%20", " ")))
    };
    let span = if path.is_some() {
        target_start..target_start + target.len()
    } else {
        whole
    };
    Ok(Link {
        title,
        path,
        number: None,
        nested: Vec::new(),
        span,
    })
}

/// A chapter title as mdBook shows it: the text of its Markdown (`` `code` `` and *emphasis*
/// without their markers).
fn plain_title(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser};
    if !markdown.contains(['`', '*', '_', '<', '&', '\\']) {
        return markdown.trim().to_string();
    }
    let mut title = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => title.push_str(&t),
            Event::SoftBreak | Event::HardBreak => title.push(' '),
            _ => {}
        }
    }
    title.trim().to_string()
}

/// Turns the collected list entries (with their indentation) into nested, numbered chapters.
fn flush_list(entries: &mut Vec<ListEntry>, out: &mut Vec<SummaryItem>, top_number: &mut u32) {
    if entries.is_empty() {
        return;
    }
    let drained: Vec<ListEntry> = std::mem::take(entries);
    let mut iter = drained.into_iter().peekable();
    while let Some(entry) = iter.next() {
        *top_number += 1;
        let mut link = entry.link;
        link.number = Some(vec![*top_number]);
        let base = entry.indent;
        build_children(&mut link, base, &mut iter);
        out.push(SummaryItem::Chapter(link));
    }
}

fn build_children(
    parent: &mut Link,
    parent_indent: usize,
    iter: &mut std::iter::Peekable<std::vec::IntoIter<ListEntry>>,
) {
    let prefix = parent.number.clone().unwrap_or_default();
    let mut n = 0;
    while let Some(next) = iter.peek() {
        if next.indent <= parent_indent {
            return;
        }
        let Some(entry) = iter.next() else { return };
        n += 1;
        let mut link = entry.link;
        let mut number = prefix.clone();
        number.push(n);
        link.number = Some(number);
        build_children(&mut link, entry.indent, iter);
        parent.nested.push(SummaryItem::Chapter(link));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles_and_numbers(s: &Summary) -> Vec<(String, String)> {
        s.links()
            .iter()
            .map(|l| (l.title.clone(), l.number_text()))
            .collect()
    }

    #[test]
    fn parses_prefix_numbered_nested_parts_separators_and_suffix() {
        let text = "# Summary\n\n[Preface](preface.md)\n\n# Part One\n\n- [A](a.md)\n  - [A1](a/1.md)\n    - [A1x](a/1x.md)\n  - [A2](a/2.md)\n- [Draft]()\n\n---\n\n# Part Two\n- [B](b.md)\n\n[Appendix](appendix.md)\n";
        let (s, diags) = parse(text, "SUMMARY.md");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(s.title.as_deref(), Some("Summary"));
        assert_eq!(
            titles_and_numbers(&s),
            vec![
                ("Preface".into(), "".into()),
                ("A".into(), "1.".into()),
                ("A1".into(), "1.1.".into()),
                ("A1x".into(), "1.1.1.".into()),
                ("A2".into(), "1.2.".into()),
                ("Draft".into(), "2.".into()),
                ("B".into(), "3.".into()),
                ("Appendix".into(), "".into()),
            ]
        );
        assert!(s.links()[5].path.is_none());
        assert!(
            matches!(s.items[1], SummaryItem::PartTitle { ref title, .. } if title == "Part One")
        );
        assert!(s.items.contains(&SummaryItem::Separator));
    }

    #[test]
    fn link_span_points_at_the_path() {
        let text = "# Summary\n- [A](dir/a.md)\n";
        let (s, _) = parse(text, "SUMMARY.md");
        let span = s.links()[0].span.clone();
        assert_eq!(&text[span], "dir/a.md");
    }

    #[test]
    fn garbage_line_is_an_error_at_its_line() {
        let text = "# Summary\n- [A](a.md)\nhello there\n";
        let (s, diags) = parse(text, "SUMMARY.md");
        assert_eq!(s.links().len(), 1);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line_col(text).unwrap(), (3, 1));
    }

    #[test]
    fn numbered_after_suffix_is_an_error() {
        let text = "- [A](a.md)\n[S](s.md)\n- [B](b.md)\n";
        let (_, diags) = parse(text, "SUMMARY.md");
        assert_eq!(diags[0].code, "numbered-after-suffix");
    }

    #[test]
    fn lines_mdbook_accepts_are_read() {
        let text = "\u{feff}# Summary\n- [A `x`](a.md) (trailing words)\n- [Draft]()<!-- a comment -->\n- [B](b.md) <!-- c\nstill comment -->\n- [S](<with space.md>)\n";
        let (s, diags) = parse(text, "SUMMARY.md");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(s.title.as_deref(), Some("Summary"));
        let links = s.links();
        let got: Vec<_> = links
            .iter()
            .map(|l| {
                (
                    l.title.as_str(),
                    l.path.as_ref().map(|p| p.display().to_string()),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("A x", Some("a.md".into())),
                ("Draft", None),
                ("B", Some("b.md".into())),
                ("S", Some("with space.md".into())),
            ]
        );
        assert_eq!(&text[links[3].span.clone()], "with space.md");
        assert_eq!(&text[links[0].span.clone()], "a.md");
    }

    #[test]
    fn html_comments_are_skipped() {
        let text = "<!-- a\n- [x](x.md)\n-->\n- [A](a.md)\n";
        let (s, diags) = parse(text, "SUMMARY.md");
        assert!(diags.is_empty());
        assert_eq!(s.links().len(), 1);
    }
}
