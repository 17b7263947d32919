//! Rewrites a chapter's Markdown in place: each cell a [`CellHook`] renders (a `calc`, `chart` or
//! `table` block, an inline `` `= expr` ``, prose with `@fig:`/`@tbl:` references) is replaced by
//! its HTML, and everything else is left byte for byte as written, for mdBook to render.
//!
//! The HTML must survive a second Markdown pass, so it is shaped for one:
//! - a block becomes one HTML block: no blank line inside it (a blank line would end the block and
//!   turn the rest into Markdown), each line carrying the block's container prefix (`> `, list
//!   indentation), and a blank line after it so that following prose is Markdown again;
//! - an inline cell becomes inline HTML whose text has every character that Markdown would read as
//!   syntax (`*`, `_`, `|`, …) written as a character reference.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use crate::render::markdown::CellHook;

/// The extensions mdBook 0.5 parses chapters with (`mdbook-markdown`'s defaults), so that blocks
/// are found where mdBook will find them.
pub fn mdbook_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_DEFINITION_LIST
        | Options::ENABLE_GFM
}

/// `text` with every cell that `hook` renders replaced by its HTML.
pub fn splice(text: &str, hook: &mut dyn CellHook) -> String {
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut iter = Parser::new_ext(text, mdbook_options()).into_offset_iter();
    while let Some((event, range)) = iter.next() {
        match event {
            // As in `calcbook build`, headings hold no cells; mdBook renders them itself.
            Event::Start(Tag::Heading { .. }) => {
                for (ev, _) in iter.by_ref() {
                    if matches!(ev, Event::End(TagEnd::Heading(_))) {
                        break;
                    }
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
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
                let CodeBlockKind::Fenced(info) = kind else {
                    continue;
                };
                let lang = info
                    .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
                    .next()
                    .unwrap_or("");
                let body_offset = body_start.unwrap_or(range.start);
                if let Some(html) = hook.fenced(lang, &info, &body, body_offset) {
                    edits.push((range.clone(), block_html(text, range, &html)));
                }
            }
            Event::Code(code) => {
                let inner = range.start + content_offset(&text[range.clone()], &code);
                if let Some(html) = hook.inline_code(&code, inner) {
                    edits.push((range, inline_html(&html)));
                }
            }
            Event::Text(t) => {
                if let Some(html) = hook.text(&t, range.start) {
                    edits.push((range, inline_html(&html)));
                }
            }
            _ => {}
        }
    }
    apply(text, edits)
}

fn apply(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len() * 2);
    let mut at = 0;
    for (range, html) in edits {
        if range.start < at {
            continue; // nested in an edit already made (cannot happen with the walk above)
        }
        out.push_str(&text[at..range.start]);
        out.push_str(&html);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Byte offset of an inline code span's content within its source (after the backticks and the
/// one space CommonMark strips).
fn content_offset(source: &str, code: &str) -> usize {
    let ticks = source.chars().take_while(|&c| c == '`').count();
    source[ticks..].find(code).map_or(ticks, |i| ticks + i)
}

/// A block's HTML shaped as one Markdown HTML block standing where the fenced block stood.
fn block_html(text: &str, range: Range<usize>, html: &str) -> String {
    // The container prefix of the fence's line (`> `, `- `, indentation): `>` markers stay, the
    // rest becomes spaces, so that every line of the HTML stays inside the same container.
    let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let prefix: String = text[line_start..range.start]
        .chars()
        .map(|c| if c == '>' { '>' } else { ' ' })
        .collect();
    let mut out = String::with_capacity(html.len() + 16);
    let mut first = true;
    for line in html.lines() {
        if !first {
            out.push('\n');
            out.push_str(&prefix);
        }
        first = false;
        // An empty line would end the HTML block; an empty comment keeps it (and a `<pre>`'s
        // blank line still shows, as the comment renders as nothing).
        if line.trim().is_empty() {
            out.push_str("<!-- -->");
        } else {
            out.push_str(line);
        }
    }
    // A blank line (in the same container) after the block, so that what follows is Markdown
    // again. The block's range may or may not include its last line break.
    let rest = &text[range.end..];
    if text[..range.end].ends_with('\n') {
        out.push('\n');
        out.push_str(prefix.trim_end());
        out.push('\n');
    } else if rest.starts_with('\n') || rest.starts_with("\r\n") {
        out.push('\n');
        out.push_str(prefix.trim_end());
    }
    out
}

/// Inline HTML whose text Markdown leaves as it is: outside tags, characters that are Markdown
/// syntax become character references; `|` does everywhere (a table row splits on it even inside
/// a tag); line breaks become spaces.
pub fn inline_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 16);
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ => {}
        }
        match c {
            '|' => out.push_str("&#124;"),
            '\n' | '\r' => out.push(' '),
            '*' | '_' | '`' | '[' | ']' | '\\' | '~' | '$' | '!' | '^' if !in_tag => {
                out.push_str(&format!("&#{};", c as u32));
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::markdown::NoCells;

    /// Renders every `demo` block as a two-line div and `= x` as a span.
    struct Demo;
    impl CellHook for Demo {
        fn fenced(&mut self, lang: &str, _: &str, body: &str, _: usize) -> Option<String> {
            (lang == "demo").then(|| format!("<div class=\"d\">\n\n{}</div>\n", body.trim()))
        }
        fn inline_code(&mut self, code: &str, _: usize) -> Option<String> {
            code.strip_prefix("= ")
                .map(|v| format!("<span title=\"a|b\">{v}*2_</span>"))
        }
    }

    #[test]
    fn text_without_cells_is_left_byte_for_byte() {
        let text = "# T\n\nSome *prose*, `code` and\n\n```rust\nfn main() {}\n```\n";
        assert_eq!(splice(text, &mut NoCells), text);
    }

    #[test]
    fn a_block_becomes_one_html_block_followed_by_a_blank_line() {
        let out = splice("```demo\nx\n```\nafter\n", &mut Demo);
        assert_eq!(out, "<div class=\"d\">\n<!-- -->\nx</div>\n\nafter\n");
    }

    #[test]
    fn a_block_in_a_quote_keeps_its_quote_markers() {
        let out = splice("> ```demo\n> x\n> ```\n", &mut Demo);
        assert_eq!(out, "> <div class=\"d\">\n> <!-- -->\n> x</div>\n>\n");
    }

    #[test]
    fn inline_html_escapes_markdown_syntax_in_text_but_not_in_tags() {
        let out = splice("| a |\n|---|\n| `= 3` |\n", &mut Demo);
        assert_eq!(
            out,
            "| a |\n|---|\n| <span title=\"a&#124;b\">3&#42;2&#95;</span> |\n"
        );
    }

    #[test]
    fn cells_in_headings_are_not_evaluated() {
        let text = "# Value `= 1`\n";
        assert_eq!(splice(text, &mut Demo), text);
    }
}
