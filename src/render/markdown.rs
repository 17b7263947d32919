//! Markdown to HTML for one chapter, with pulldown-cmark.
//!
//! On top of CommonMark (tables, footnotes, strikethrough, task lists, heading attributes, smart
//! punctuation, math) this stage:
//! - gives every heading a unique id and a permalink anchor;
//! - renders `$…$` and `$$…$$` to MathML at build time;
//! - rewrites links to other chapters (`other.md#x` → `other.html#x`) and records them, so the site
//!   stage can check them once every page's anchors are known;
//! - hands fenced blocks and inline code to a [`CellHook`] (the notebook's calc, chart and table
//!   cells), which may replace them with its own HTML;
//! - collects plain text per section for the search index.

use std::collections::HashMap;
use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::diagnostic::Diagnostic;

/// Lets a later stage replace fenced blocks and inline code with rendered cells.
pub trait CellHook {
    /// `lang` is the first word of the info string; `body` the block's text, which starts at byte
    /// `body_offset` of the chapter. `None` keeps the block as ordinary code.
    fn fenced(&mut self, lang: &str, info: &str, body: &str, body_offset: usize) -> Option<String>;
    /// `code` is the text between the backticks, starting at byte `offset`.
    fn inline_code(&mut self, code: &str, offset: usize) -> Option<String>;
    /// Prose text (outside code), for cross-references such as `@fig:id`; returns replacement HTML.
    fn text(&mut self, _text: &str, _offset: usize) -> Option<String> {
        None
    }
}

/// A hook that renders everything as plain Markdown.
pub struct NoCells;

impl CellHook for NoCells {
    fn fenced(&mut self, _: &str, _: &str, _: &str, _: usize) -> Option<String> {
        None
    }
    fn inline_code(&mut self, _: &str, _: usize) -> Option<String> {
        None
    }
}

/// A link to a page of the book, to be checked once all pages are rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLink {
    /// Target page relative to the output root (`part/b.html`); the page itself for `#x` links.
    pub page: String,
    pub anchor: Option<String>,
    /// The link's span in the (expanded) chapter text.
    pub span: Range<usize>,
    /// The link as written.
    pub written: String,
}

/// One searchable section: a heading and the text under it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub anchor: Option<String>,
    pub heading: String,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct RenderedMarkdown {
    pub html: String,
    /// Every id on the page that a link may target.
    pub ids: Vec<String>,
    /// Headings as (level, id, text), for an in-page outline.
    pub headings: Vec<(u8, String, String)>,
    pub links: Vec<PageLink>,
    pub sections: Vec<Section>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_MATH
}

/// mdBook's id rule: lowercase alphanumerics, `-` and `_` kept, whitespace becomes `-`.
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            out.extend(c.to_lowercase());
        } else if c.is_whitespace() {
            out.push('-');
        }
    }
    out
}

/// Renders one chapter. `page` is the chapter's output path (to resolve relative links).
pub fn render(text: &str, page: &str, hook: &mut dyn CellHook) -> RenderedMarkdown {
    let mut out = RenderedMarkdown::default();
    let mut id_counts: HashMap<String, usize> = HashMap::new();
    let mut events: Vec<Event> = Vec::new();
    let mut section = Section::default();
    let parser = Parser::new_ext(text, options()).into_offset_iter();
    let mut iter = parser.peekable();

    while let Some((event, range)) = iter.next() {
        match event {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs: _,
            }) => {
                // Buffer the heading's inline content to know its text before emitting it.
                let mut inner = Vec::new();
                let mut plain = String::new();
                for (ev, r) in iter.by_ref() {
                    match ev {
                        Event::End(TagEnd::Heading(_)) => break,
                        Event::Text(ref t) | Event::Code(ref t) => plain.push_str(t),
                        Event::InlineMath(ref t) => plain.push_str(t),
                        _ => {}
                    }
                    let ev = match ev {
                        Event::InlineMath(m) => Event::Html(math(&m, false, r, &mut out).into()),
                        other => other,
                    };
                    inner.push(ev);
                }
                let base = id.map(|i| i.to_string()).unwrap_or_else(|| slugify(&plain));
                let base = if base.is_empty() {
                    "section".to_string()
                } else {
                    base
                };
                let unique = unique_id(&base, &mut id_counts);
                let mut inner_html = String::new();
                pulldown_cmark::html::push_html(&mut inner_html, inner.into_iter());
                let n = heading_number(level);
                let class_attr = if classes.is_empty() {
                    String::new()
                } else {
                    format!(
                        " class=\"{}\"",
                        classes
                            .iter()
                            .map(|c| escape(c))
                            .collect::<Vec<_>>()
                            .join(" ")
                    )
                };
                events.push(Event::Html(
                    format!(
                        "<h{n} id=\"{id}\"{class_attr}><a class=\"header\" href=\"#{id}\">{inner_html}</a></h{n}>\n",
                        id = escape(&unique)
                    )
                    .into(),
                ));
                out.ids.push(unique.clone());
                out.headings.push((n, unique.clone(), plain.clone()));
                if !section.text.trim().is_empty() || section.anchor.is_some() {
                    out.sections.push(std::mem::take(&mut section));
                }
                section = Section {
                    anchor: Some(unique),
                    heading: plain,
                    text: String::new(),
                };
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match &kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                let mut body = String::new();
                let mut body_start = None;
                for (ev, r) in iter.by_ref() {
                    match ev {
                        Event::End(TagEnd::CodeBlock) => break,
                        Event::Text(t) => {
                            body_start.get_or_insert(r.start);
                            body.push_str(&t);
                        }
                        _ => {}
                    }
                }
                let body_offset = body_start.unwrap_or(range.start);
                let lang = info
                    .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
                    .next()
                    .unwrap_or("")
                    .to_string();
                let replaced = if matches!(kind, CodeBlockKind::Fenced(_)) {
                    hook.fenced(&lang, &info, &body, body_offset)
                } else {
                    None
                };
                match replaced {
                    Some(html) => events.push(Event::Html(html.into())),
                    None => {
                        section.text.push_str(&body);
                        section.text.push('\n');
                        events.push(Event::Html(code_block_html(&lang, &body).into()));
                    }
                }
            }
            Event::Code(code) => {
                let inner_offset = range.start + content_offset(&text[range.clone()], &code);
                match hook.inline_code(&code, inner_offset) {
                    Some(html) => {
                        section.text.push_str(&strip_tags(&html));
                        events.push(Event::InlineHtml(html.into()));
                    }
                    None => {
                        section.text.push_str(&code);
                        events.push(Event::Code(code));
                    }
                }
            }
            Event::InlineMath(m) => {
                section.text.push_str(&m);
                events.push(Event::InlineHtml(math(&m, false, range, &mut out).into()));
            }
            Event::DisplayMath(m) => {
                section.text.push_str(&m);
                events.push(Event::Html(math(&m, true, range, &mut out).into()));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest = rewrite_link(&dest_url, page, range.clone(), &mut out.links);
                events.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::FootnoteDefinition(ref name)) => {
                out.ids.push(format!("footnote-{name}"));
                events.push(event);
            }
            Event::Text(t) => {
                section.text.push_str(&t);
                match hook.text(&t, range.start) {
                    Some(html) => events.push(Event::InlineHtml(html.into())),
                    None => events.push(Event::Text(t)),
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                section.text.push(' ');
                events.push(event);
            }
            Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell) => {
                section.text.push(' ');
                events.push(event);
            }
            Event::Html(ref h) | Event::InlineHtml(ref h) => {
                collect_html_ids(h, &mut out.ids);
                events.push(event);
            }
            other => events.push(other),
        }
    }
    if !section.text.trim().is_empty() || section.anchor.is_some() {
        out.sections.push(section);
    }
    for s in &mut out.sections {
        s.text = collapse_whitespace(&s.text);
    }
    pulldown_cmark::html::push_html(&mut out.html, events.into_iter());
    out
}

fn heading_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

fn unique_id(base: &str, counts: &mut HashMap<String, usize>) -> String {
    let n = counts.entry(base.to_string()).or_insert(0);
    let id = if *n == 0 {
        base.to_string()
    } else {
        format!("{base}-{n}")
    };
    *n += 1;
    id
}

/// Byte offset of an inline code span's content within its source (after the backticks and the
/// one space CommonMark strips).
fn content_offset(source: &str, code: &str) -> usize {
    let ticks = source.chars().take_while(|&c| c == '`').count();
    source[ticks..].find(code).map_or(ticks, |i| ticks + i)
}

/// An ordinary code block; highlighting happens in the browser (highlight.js).
pub fn code_block_html(lang: &str, body: &str) -> String {
    if lang.is_empty() {
        format!("<pre><code>{}</code></pre>\n", escape(body))
    } else {
        format!(
            "<pre><code class=\"language-{}\">{}</code></pre>\n",
            escape(lang),
            escape(body)
        )
    }
}

fn math(src: &str, display: bool, span: Range<usize>, out: &mut RenderedMarkdown) -> String {
    use pulldown_latex::{Parser as TexParser, RenderConfig, Storage, config::DisplayMode};
    let storage = Storage::new();
    let events: Vec<_> = TexParser::new(src, &storage).collect();
    if let Some(Err(e)) = events.iter().find(|e| e.is_err()) {
        out.diagnostics.push(
            Diagnostic::error("bad-math", format!("cannot read this math: {e}"))
                .with_span(span)
                .with_help("math uses LaTeX syntax, e.g. `$t = \\max(t_c, t_m)$`"),
        );
        return format!("<code class=\"math-error\">{}</code>", escape(src));
    }
    let config = RenderConfig {
        display_mode: if display {
            DisplayMode::Block
        } else {
            DisplayMode::Inline
        },
        ..RenderConfig::default()
    };
    let mut html = String::new();
    let storage = Storage::new();
    if pulldown_latex::push_mathml(&mut html, TexParser::new(src, &storage), config).is_err() {
        return format!("<code>{}</code>", escape(src));
    }
    html
}

/// Rewrites a link as mdBook does (`x.md#a` → `x.html#a` for any link without a scheme) and
/// records those that land inside the book, so the site stage can check them. Links that leave the
/// book (`../std/index.html`, another site) pass through unchecked, as in mdBook.
fn rewrite_link<'a>(
    dest: &CowStr<'a>,
    page: &str,
    span: Range<usize>,
    links: &mut Vec<PageLink>,
) -> CowStr<'a> {
    let d = dest.as_ref();
    if d.is_empty() || has_scheme(d) {
        return dest.clone();
    }
    let (path, anchor) = match d.split_once('#') {
        Some((p, a)) => (p, Some(a.to_string())),
        None => (d, None),
    };
    if path.is_empty() {
        links.push(PageLink {
            page: page.to_string(),
            anchor,
            span,
            written: d.to_string(),
        });
        return dest.clone();
    }
    let is_md = path.ends_with(".md");
    // A `README.md` link becomes `index.html`, the page calcbook writes for it; keep the folder.
    let written_html = if is_md {
        let file_start = path.rfind('/').map_or(0, |i| i + 1);
        let dir = &path[..file_start];
        let file = crate::book::page_name(std::path::Path::new(&path[file_start..]));
        format!("{dir}{file}")
    } else {
        path.to_string()
    };
    let checked = is_md || path.ends_with(".html");
    if checked
        && !path.starts_with('/')
        && let Some(target) = resolve_inside(page, &written_html)
    {
        links.push(PageLink {
            page: target,
            anchor: anchor.clone(),
            span,
            written: d.to_string(),
        });
    }
    if !is_md {
        return dest.clone();
    }
    match anchor {
        Some(a) => format!("{written_html}#{a}").into(),
        None => written_html.into(),
    }
}

/// `scheme:` as mdBook's `fix_link` recognises it (`https:`, `mailto:`, `data:`…).
fn has_scheme(link: &str) -> bool {
    let mut chars = link.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_lowercase()) {
        return false;
    }
    for c in chars {
        match c {
            ':' => return true,
            c if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '.' | '-') => {}
            _ => return false,
        }
    }
    false
}

/// Resolves `target` relative to the folder of `page` (both `/`-separated, relative to the root).
pub fn resolve_relative(page: &str, target: &str) -> String {
    let mut parts: Vec<&str> = page.split('/').collect();
    parts.pop();
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// As [`resolve_relative`], but `None` when the target climbs above the output root: such a link
/// leaves the book (mdBook books link to sibling books this way) and is not checked.
pub fn resolve_inside(page: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = page.split('/').collect();
    parts.pop();
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

fn collect_html_ids(html: &str, ids: &mut Vec<String>) {
    let mut rest = html;
    while let Some(i) = rest.find(" id=\"") {
        let after = &rest[i + 5..];
        if let Some(end) = after.find('"') {
            ids.push(after[..end].to_string());
            rest = &after[end..];
        } else {
            break;
        }
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// HTML-escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(s, &mut out);
    out
}

/// [`escape`], appending to `out`.
pub fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(text: &str) -> RenderedMarkdown {
        render(text, "ch.html", &mut NoCells)
    }

    #[test]
    fn headings_get_unique_ids_and_permalinks() {
        let r = md("# Hello, World!\n\n## Hello, World!\n\n## Custom {#mine}\n");
        assert!(r.html.contains("<h1 id=\"hello-world\"><a class=\"header\" href=\"#hello-world\">Hello, World!</a></h1>"), "{}", r.html);
        assert!(r.html.contains("id=\"hello-world-1\""));
        assert!(r.html.contains("id=\"mine\""));
        assert_eq!(r.ids, vec!["hello-world", "hello-world-1", "mine"]);
    }

    #[test]
    fn chapter_links_are_rewritten_and_recorded() {
        let r = render(
            "[a](other.md#x) [b](sub/README.md) [c](https://e.x/a.md) [d](#top)",
            "dir/ch.html",
            &mut NoCells,
        );
        assert!(r.html.contains("href=\"other.html#x\""), "{}", r.html);
        assert!(r.html.contains("href=\"sub/index.html\""));
        assert!(r.html.contains("href=\"https://e.x/a.md\""));
        let pages: Vec<_> = r
            .links
            .iter()
            .map(|l| (l.page.as_str(), l.anchor.as_deref()))
            .collect();
        assert_eq!(
            pages,
            vec![
                ("dir/other.html", Some("x")),
                ("dir/sub/index.html", None),
                ("dir/ch.html", Some("top"))
            ]
        );
    }

    #[test]
    fn math_becomes_mathml() {
        let r = md("Inline $x^2$ and\n\n$$\\frac{a}{b}$$\n");
        assert!(r.html.contains("<math"), "{}", r.html);
        assert!(r.html.contains("display=\"block\""), "{}", r.html);
        assert!(r.html.contains("<msup>"), "{}", r.html);
    }

    #[test]
    fn bad_math_is_a_located_error() {
        let text = "ok\n\n$\\frac{a}{b}\\notacommand$\n";
        let r = md(text);
        assert_eq!(r.diagnostics.len(), 1);
        assert_eq!(r.diagnostics[0].line_col(text).unwrap().0, 3);
    }

    #[test]
    fn gfm_extensions_render() {
        let r = md(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~x~~\n\n- [x] done\n\nfoot[^1]\n\n[^1]: note\n\n\"quoted\"\n",
        );
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("<del>x</del>"));
        assert!(r.html.contains("type=\"checkbox\""));
        assert!(r.html.contains("footnote-definition"));
        assert!(r.html.contains("“quoted”"));
    }

    #[test]
    fn code_blocks_keep_language_class_and_escape() {
        let r = md("```rust\nfn a() -> Vec<u8> {}\n```\n");
        assert!(
            r.html
                .contains("<code class=\"language-rust\">fn a() -&gt; Vec&lt;u8&gt; {}"),
            "{}",
            r.html
        );
    }

    #[test]
    fn sections_collect_search_text() {
        let r = md("intro text\n\n## Part A\n\nalpha *beta*\n\n## Part B\n\ngamma\n");
        assert_eq!(r.sections.len(), 3);
        assert_eq!(r.sections[1].heading, "Part A");
        assert_eq!(r.sections[1].text, "alpha beta");
        assert_eq!(r.sections[2].anchor.as_deref(), Some("part-b"));
    }

    struct Upper;
    impl CellHook for Upper {
        fn fenced(&mut self, lang: &str, _: &str, body: &str, off: usize) -> Option<String> {
            (lang == "calc").then(|| format!("<div>{}@{off}</div>", body.trim().to_uppercase()))
        }
        fn inline_code(&mut self, code: &str, off: usize) -> Option<String> {
            code.strip_prefix("= ").map(|c| format!("<b>{c}@{off}</b>"))
        }
    }

    #[test]
    fn hook_replaces_cells_with_offsets() {
        let text = "a `= x` b\n\n```calc\ny = 1\n```\n";
        let r = render(text, "c.html", &mut Upper);
        assert!(r.html.contains("<b>x@3</b>"), "{}", r.html);
        let off = text.find("y = 1").unwrap();
        assert!(
            r.html.contains(&format!("<div>Y = 1@{off}</div>")),
            "{}",
            r.html
        );
    }
}
