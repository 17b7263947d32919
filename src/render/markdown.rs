//! Markdown to HTML for one chapter, with pulldown-cmark, as mdBook 0.5 renders it.
//!
//! On top of CommonMark (tables, footnotes, strikethrough, task lists, heading attributes, smart
//! punctuation, definition lists, GitHub-style admonitions; math when book.toml turns it on) this
//! stage, following mdBook 0.5's renderer (`crates/mdbook-html/src/html/tree.rs`):
//! - gives every heading and definition-list term mdBook's id and a permalink anchor;
//! - numbers footnotes by first reference with mdBook's ids (`fr-NAME-N`, `footnote-NAME`) and
//!   gathers their definitions at the end of the page;
//! - renders Rust blocks with their info-string attributes as classes, `# ` lines hidden in
//!   `<span class="boring">` and a hidden `fn main` where the playground needs one;
//! - renders `$…$` and `$$…$$` to MathML at build time (when on);
//! - rewrites links as mdBook does (`other.md#x` → `other.html#x`) and records those that land
//!   inside the book, so the site stage can check them once every page's ids are known (ids
//!   written in HTML count too);
//! - hands fenced blocks and inline code to a [`CellHook`] (the notebook's calc, chart and table
//!   cells), which may replace them with its own HTML;

use crate::diagnostic::Code;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use pulldown_cmark::{
    BlockQuoteKind, CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd,
};

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

#[derive(Debug, Clone, Default)]
pub struct RenderedMarkdown {
    pub html: String,
    /// Every id on the page that a link may target.
    pub ids: Vec<String>,
    /// Headings as (level, id, text), for an in-page outline.
    pub headings: Vec<(u8, String, String)>,
    pub links: Vec<PageLink>,
    pub diagnostics: Vec<Diagnostic>,
}

/// What book.toml turns on or off in the Markdown, as mdBook 0.5's `[output.html]` keys do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// `$…$` and `$$…$$` rendered to MathML. Off unless `mathjax-support = true`, as mdBook renders
    /// math only where a book asks for it (`$HOME … $PATH` in prose stays text).
    pub math: bool,
    pub smart_punctuation: bool,
    pub definition_lists: bool,
    /// GitHub-style `> [!NOTE]` blocks.
    pub admonitions: bool,
    /// Rust blocks are playground blocks (`[output.html.playground] runnable`, on by default).
    pub runnable: bool,
    /// `[rust] edition`: playground blocks without an `editionYYYY` attribute get this one.
    pub edition: Option<String>,
    /// `[output.html.code.hidelines]`: language → prefix that hides a line, as `# ` does in Rust.
    pub hidelines: std::collections::BTreeMap<String, String>,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            math: false,
            smart_punctuation: true,
            definition_lists: true,
            admonitions: true,
            runnable: true,
            edition: None,
            hidelines: std::collections::BTreeMap::new(),
        }
    }
}

/// The parser options calcbook has always used (math on), for scanners that only look for cells.
pub fn options() -> Options {
    options_for(&MarkdownOptions {
        math: true,
        ..MarkdownOptions::default()
    })
}

/// pulldown-cmark options for `o`, as mdBook's `new_cmark_parser` sets them, plus math.
pub fn options_for(o: &MarkdownOptions) -> Options {
    let mut opts = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES;
    if o.smart_punctuation {
        opts |= Options::ENABLE_SMART_PUNCTUATION;
    }
    if o.definition_lists {
        opts |= Options::ENABLE_DEFINITION_LIST;
    }
    if o.admonitions {
        opts |= Options::ENABLE_GFM;
    }
    if o.math {
        opts |= Options::ENABLE_MATH;
    }
    opts
}

/// mdBook 0.5's id rule: lowercase, keep alphanumerics, `_` and `-`, whitespace becomes `-`, and
/// `section` when nothing is left.
pub fn slugify(text: &str) -> String {
    let id: String = text
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c)
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect();
    if id.is_empty() { "section".into() } else { id }
}

/// Renders one chapter with math on (calcbook's notebooks use it). `page` is the chapter's
/// output path (to resolve relative links).
pub fn render(text: &str, page: &str, hook: &mut dyn CellHook) -> RenderedMarkdown {
    let options = MarkdownOptions {
        math: true,
        ..MarkdownOptions::default()
    };
    render_with(text, page, hook, &options)
}

/// Renders one chapter with the options book.toml asks for.
pub fn render_with(
    text: &str,
    page: &str,
    hook: &mut dyn CellHook,
    options: &MarkdownOptions,
) -> RenderedMarkdown {
    let mut renderer = Renderer {
        text,
        page,
        hook,
        options: options.clone(),
        out: RenderedMarkdown::default(),
        events: Vec::new(),
        used_ids: HashSet::new(),
        footnote_numbers: HashMap::new(),
        footnote_defs: Vec::new(),
        footnote_stack: Vec::new(),
    };
    let mut iter = Parser::new_ext(text, options_for(options)).into_offset_iter();
    while let Some((event, range)) = iter.next() {
        renderer.event(event, range, &mut iter);
    }
    renderer.finish()
}

/// One chapter being rendered: the events to serialise and everything collected on the way.
struct Renderer<'a, 'h> {
    text: &'a str,
    page: &'a str,
    hook: &'h mut dyn CellHook,
    options: MarkdownOptions,
    out: RenderedMarkdown,
    events: Vec<Event<'a>>,
    /// Generated heading and term ids so far (mdBook's `unique_id` set).
    used_ids: HashSet<String>,
    /// Footnote name → (number shown, references so far), numbered by first reference.
    footnote_numbers: HashMap<String, (usize, usize)>,
    /// Footnote definitions in document order: (name, inner HTML).
    footnote_defs: Vec<(String, String)>,
    /// While a definition is read: its name and the enclosing flow's events.
    footnote_stack: Vec<(String, Vec<Event<'a>>)>,
}

/// The heading or term text an id is made from, with its inner HTML.
struct Anchored<'a> {
    inner: Vec<Event<'a>>,
    id_text: String,
    plain: String,
}

impl<'a> Renderer<'a, '_> {
    fn event(
        &mut self,
        event: Event<'a>,
        range: Range<usize>,
        iter: &mut impl Iterator<Item = (Event<'a>, Range<usize>)>,
    ) {
        match event {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                let body = self.anchored(iter, |e| matches!(e, TagEnd::Heading(_)));
                let mut extra = String::new();
                if !classes.is_empty() {
                    let classes: Vec<String> = classes.iter().map(|c| escape(c)).collect();
                    extra.push_str(&format!(" class=\"{}\"", classes.join(" ")));
                }
                for (name, value) in &attrs {
                    let value = value.as_deref().unwrap_or("");
                    extra.push_str(&format!(" {}=\"{}\"", escape(name), escape(value)));
                }
                let n = heading_number(level);
                let id = self.emit_anchored(&format!("h{n}"), &extra, id.as_deref(), body.0);
                self.out.headings.push((n, id, body.1));
            }
            Event::Start(Tag::DefinitionListTitle) => {
                let body = self.anchored(iter, |e| matches!(e, TagEnd::DefinitionListTitle));
                self.emit_anchored("dt", "", None, body.0);
            }
            Event::Start(Tag::CodeBlock(kind)) => self.code_block(kind, range, iter),
            Event::Start(Tag::BlockQuote(Some(kind))) => {
                self.events.push(Event::Html(admonition_open(kind).into()));
            }
            Event::Code(code) => {
                let inner_offset = range.start + content_offset(&self.text[range.clone()], &code);
                match self.hook.inline_code(&code, inner_offset) {
                    Some(html) => self.events.push(Event::InlineHtml(html.into())),
                    None => self.events.push(Event::Code(code)),
                }
            }
            Event::InlineMath(m) => {
                let html = math(&m, false, range, &mut self.out);
                self.events.push(Event::InlineHtml(html.into()));
            }
            Event::DisplayMath(m) => {
                let html = math(&m, true, range, &mut self.out);
                self.events.push(Event::Html(html.into()));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest = rewrite_link(&dest_url, self.page, range, &mut self.out.links);
                self.events.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                }));
            }
            Event::FootnoteReference(name) => {
                let (html, _) = self.footnote_reference(&name);
                self.events.push(Event::InlineHtml(html.into()));
            }
            Event::Start(Tag::FootnoteDefinition(name)) => {
                let outer = std::mem::take(&mut self.events);
                self.footnote_stack.push((name.to_string(), outer));
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                if let Some((name, outer)) = self.footnote_stack.pop() {
                    let inner = std::mem::replace(&mut self.events, outer);
                    let mut html = String::new();
                    pulldown_cmark::html::push_html(&mut html, inner.into_iter());
                    if !self.footnote_defs.iter().any(|(n, _)| *n == name) {
                        self.footnote_defs.push((name, html));
                    }
                }
            }
            Event::Text(t) => match self.hook.text(&t, range.start) {
                Some(html) => self.events.push(Event::InlineHtml(html.into())),
                None => self.events.push(Event::Text(t)),
            },
            Event::Html(ref h) | Event::InlineHtml(ref h) => {
                collect_html_ids(h, &mut self.out.ids);
                self.events.push(event);
            }
            other => self.events.push(other),
        }
    }

    /// Reads a heading's or term's inline content up to its end. The id text is what mdBook's
    /// `text_in_node` sees: every text node (code, link text, footnote numbers, a line break as
    /// `\n`) but not an image's alt text.
    fn anchored(
        &mut self,
        iter: &mut impl Iterator<Item = (Event<'a>, Range<usize>)>,
        is_end: fn(&TagEnd) -> bool,
    ) -> (Anchored<'a>, String) {
        let mut body = Anchored {
            inner: Vec::new(),
            id_text: String::new(),
            plain: String::new(),
        };
        let mut in_image = 0usize;
        for (ev, r) in iter.by_ref() {
            let ev = match ev {
                Event::End(ref e) if is_end(e) => break,
                Event::Text(t) => {
                    if in_image == 0 {
                        body.id_text.push_str(&t);
                    }
                    body.plain.push_str(&t);
                    Event::Text(t)
                }
                Event::Code(c) => {
                    body.id_text.push_str(&c);
                    body.plain.push_str(&c);
                    Event::Code(c)
                }
                Event::InlineMath(m) => {
                    body.id_text.push_str(&m);
                    body.plain.push_str(&m);
                    Event::InlineHtml(math(&m, false, r, &mut self.out).into())
                }
                Event::SoftBreak => {
                    body.id_text.push('\n');
                    body.plain.push(' ');
                    Event::SoftBreak
                }
                Event::FootnoteReference(name) => {
                    let (html, n) = self.footnote_reference(&name);
                    body.id_text.push_str(&n.to_string());
                    Event::InlineHtml(html.into())
                }
                Event::Start(Tag::Image { .. }) => {
                    in_image += 1;
                    ev
                }
                Event::End(TagEnd::Image) => {
                    in_image = in_image.saturating_sub(1);
                    ev
                }
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => Event::Start(Tag::Link {
                    link_type,
                    dest_url: rewrite_link(&dest_url, self.page, r, &mut self.out.links),
                    title,
                    id,
                }),
                Event::InlineHtml(h) => {
                    collect_html_ids(&h, &mut self.out.ids);
                    Event::InlineHtml(h)
                }
                other => other,
            };
            body.inner.push(ev);
        }
        let plain = body.plain.clone();
        (body, plain)
    }

    /// Emits `<tag id><a class="header" href="#id">…</a></tag>` as mdBook does for headings and
    /// definition-list terms; returns the id. A written `{#id}` is kept as it is.
    fn emit_anchored(
        &mut self,
        tag: &str,
        extra_attrs: &str,
        explicit: Option<&str>,
        body: Anchored<'a>,
    ) -> String {
        let id = match explicit {
            Some(id) => id.to_string(),
            None => unique_id(&slugify(&body.id_text), &mut self.used_ids),
        };
        let mut inner_html = String::new();
        pulldown_cmark::html::push_html(&mut inner_html, body.inner.into_iter());
        let id_attr = escape(&id);
        self.events.push(Event::Html(
            format!(
                "<{tag} id=\"{id_attr}\"{extra_attrs}><a class=\"header\" href=\"#{id_attr}\">{inner_html}</a></{tag}>\n"
            )
            .into(),
        ));
        self.out.ids.push(id.clone());
        id
    }

    fn code_block(
        &mut self,
        kind: CodeBlockKind<'a>,
        range: Range<usize>,
        iter: &mut impl Iterator<Item = (Event<'a>, Range<usize>)>,
    ) {
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
            self.hook.fenced(&lang, &info, &body, body_offset)
        } else {
            None
        };
        let html = match replaced {
            Some(html) => html,
            None => fenced_code_html(&info, &body, &self.options),
        };
        self.events.push(Event::Html(html.into()));
    }

    /// mdBook's footnote reference: `<sup id="fr-NAME-N"><a href="#footnote-NAME">n</a></sup>`.
    fn footnote_reference(&mut self, name: &str) -> (String, usize) {
        let next = self.footnote_numbers.len() + 1;
        let entry = self
            .footnote_numbers
            .entry(name.to_string())
            .or_insert((next, 0));
        entry.1 += 1;
        let (number, count) = *entry;
        let id = format!("fr-{name}-{count}");
        let html = format!(
            "<sup class=\"footnote-reference\" id=\"{}\"><a href=\"#footnote-{}\">{number}</a></sup>",
            escape(&id),
            escape(name)
        );
        self.out.ids.push(id);
        (html, number)
    }

    /// mdBook moves the referenced footnote definitions to the end of the chapter, in the order of
    /// their numbers, each with a link back to every reference.
    fn footnote_section(&mut self) -> String {
        if self.footnote_defs.is_empty() {
            return String::new();
        }
        let mut defs: Vec<(String, String)> = std::mem::take(&mut self.footnote_defs)
            .into_iter()
            .filter(|(name, _)| self.footnote_numbers.contains_key(name))
            .collect();
        defs.sort_by_key(|(name, _)| self.footnote_numbers[name].0);
        let mut html = String::from("<hr>\n<ol class=\"footnote-definition\">");
        for (name, mut inner) in defs {
            let count = self.footnote_numbers[&name].1;
            let mut back = String::new();
            for usage in 1..=count {
                let nth = if usage == 1 {
                    String::new()
                } else {
                    usage.to_string()
                };
                back.push_str(&format!(
                    " <a href=\"#fr-{}-{usage}\">↩{nth}</a>",
                    escape(&name)
                ));
            }
            match inner.strip_suffix("</p>\n") {
                Some(head) => inner = format!("{head}{back}</p>\n"),
                None => inner.push_str(&back),
            }
            let id = format!("footnote-{name}");
            html.push_str(&format!("<li id=\"{}\">{inner}</li>\n", escape(&id)));
            self.out.ids.push(id);
        }
        html.push_str("</ol>\n");
        html
    }

    fn finish(mut self) -> RenderedMarkdown {
        // A definition left open (never at the end of a well-formed parse) still renders.
        while let Some((name, outer)) = self.footnote_stack.pop() {
            let inner = std::mem::replace(&mut self.events, outer);
            let mut html = String::new();
            pulldown_cmark::html::push_html(&mut html, inner.into_iter());
            self.footnote_defs.push((name, html));
        }
        let footnotes = self.footnote_section();
        let mut out = self.out;
        pulldown_cmark::html::push_html(&mut out.html, self.events.into_iter());
        out.html.push_str(&footnotes);
        // Kept for the rest of the build (and across saves under serve): no spare capacity.
        out.html.shrink_to_fit();
        out
    }
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

/// mdBook's `unique_id`: the first free of `id`, `id-1`, `id-2`…
fn unique_id(id: &str, used: &mut HashSet<String>) -> String {
    if used.insert(id.to_string()) {
        return id.to_string();
    }
    (1..)
        .map(|n| format!("{id}-{n}"))
        .find(|candidate| used.insert(candidate.clone()))
        .unwrap_or_default()
}

/// The opening of a GitHub-style admonition as mdBook 0.5 writes it (its class names, so a theme
/// written for mdBook styles it); the title is plain text here.
fn admonition_open(kind: BlockQuoteKind) -> String {
    let (class, title) = match kind {
        BlockQuoteKind::Note => ("note", "Note"),
        BlockQuoteKind::Tip => ("tip", "Tip"),
        BlockQuoteKind::Important => ("important", "Important"),
        BlockQuoteKind::Warning => ("warning", "Warning"),
        BlockQuoteKind::Caution => ("caution", "Caution"),
    };
    format!(
        "<blockquote class=\"blockquote-tag blockquote-tag-{class}\">\n<p class=\"blockquote-tag-title\">{title}</p>\n"
    )
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

/// A fenced block as mdBook 0.5 renders it: the first word of the info string is the language,
/// the others (`ignore`, `no_run`, `should_panic`, `editable`, `edition2021`…) become classes. A
/// Rust block that runs in the playground gets `<pre class="playground">`, the book's edition and,
/// lacking `fn main`, a hidden one around it; its `# ` lines are hidden in `<span class="boring">`
/// (a button shows them) and `##` stands for a literal `#`. Other languages hide lines that start
/// with their `hidelines` prefix.
pub fn fenced_code_html(info: &str, body: &str, options: &MarkdownOptions) -> String {
    let words: Vec<&str> = info
        .split([' ', '\t', ','])
        .filter(|w| !w.is_empty())
        .collect();
    let Some((lang, rest)) = words.split_first() else {
        return code_block_html("", body);
    };
    let mut class = format!("language-{lang}");
    for w in rest {
        class.push(' ');
        class.push_str(w);
    }
    if *lang != "rust" {
        let prefix = rest
            .iter()
            .find_map(|w| w.strip_prefix("hidelines="))
            .or_else(|| options.hidelines.get(*lang).map(String::as_str));
        let code = match prefix {
            Some(prefix) if !prefix.is_empty() => hide_prefixed_lines(body, prefix),
            _ => escape(body),
        };
        return format!(
            "<pre><code class=\"{}\">{code}</code></pre>\n",
            escape(&class)
        );
    }
    let has = |c: &str| rest.contains(&c);
    let playground =
        (options.runnable && !has("ignore") && !has("noplayground") && !has("noplaypen"))
            || has("mdbook-runnable");
    if playground
        && !rest.iter().any(|w| w.starts_with("edition"))
        && let Some(edition) = &options.edition
    {
        class.push_str(&format!(" edition{edition}"));
    }
    let wrapped = if playground {
        wrap_in_hidden_main(body)
    } else {
        None
    };
    let code = wrapped.as_deref().unwrap_or(body);
    let pre = if playground {
        "<pre class=\"playground\">"
    } else {
        "<pre>"
    };
    format!(
        "{pre}<code class=\"{}\">{}</code></pre>\n",
        escape(&class),
        hide_rust_lines(code)
    )
}

/// Hides the lines that start (after indentation) with `prefix`, without the prefix; every line
/// keeps its newline, as in mdBook.
fn hide_prefixed_lines(code: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(code.len() + 32);
    for line in code.lines() {
        let rest = line.trim_start();
        match rest.strip_prefix(prefix) {
            Some(after) => {
                out.push_str("<span class=\"boring\">");
                escape_into(&line[..line.len() - rest.len()], &mut out);
                escape_into(after, &mut out);
                out.push_str("\n</span>");
            }
            None => {
                escape_into(line, &mut out);
                out.push('\n');
            }
        }
    }
    out
}

/// Rust code without `fn main` gets one, hidden, as rustdoc and mdBook do; leading inner
/// attributes (`#![…]`) stay above it.
fn wrap_in_hidden_main(code: &str) -> Option<String> {
    if code.contains("fn main") || code.contains("quick_main!") {
        return None;
    }
    let mut split = 0;
    let mut saw_attribute = false;
    for line in code.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with("#![") {
            saw_attribute = true;
        } else if !t.trim().is_empty() {
            break;
        }
        split += line.len();
    }
    if !saw_attribute {
        split = 0;
    }
    let (attrs, body) = code.split_at(split);
    let newline = if body.is_empty() || body.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    Some(format!(
        "# #![allow(unused)]\n{attrs}# fn main() {{\n{body}{newline}# }}"
    ))
}

/// Escapes Rust code for HTML, hiding `# ` lines in `<span class="boring">` and turning `##` into
/// `#`; the block's last newline is dropped, as mdBook drops it.
fn hide_rust_lines(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + 32);
    let mut lines = code.lines().peekable();
    while let Some(line) = lines.next() {
        let newline = if lines.peek().is_some() { "\n" } else { "" };
        let rest = line.trim_start();
        let indent = &line[..line.len() - rest.len()];
        match rest.strip_prefix('#') {
            Some(after) if after.starts_with('#') => {
                escape_into(indent, &mut out);
                escape_into(after, &mut out);
                out.push_str(newline);
            }
            Some(after) if after.is_empty() || after.starts_with(' ') => {
                out.push_str("<span class=\"boring\">");
                escape_into(indent, &mut out);
                escape_into(after.strip_prefix(' ').unwrap_or(after), &mut out);
                out.push_str(newline);
                out.push_str("</span>");
            }
            _ => {
                escape_into(line, &mut out);
                out.push_str(newline);
            }
        }
    }
    out
}

fn math(src: &str, display: bool, span: Range<usize>, out: &mut RenderedMarkdown) -> String {
    use pulldown_latex::{Parser as TexParser, RenderConfig, Storage, config::DisplayMode};
    let storage = Storage::new();
    let events: Vec<_> = TexParser::new(src, &storage).collect();
    if let Some(Err(e)) = events.iter().find(|e| e.is_err()) {
        out.diagnostics.push(
            Diagnostic::error(Code::BadMath, format!("cannot read this math: {e}"))
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

/// Every id an HTML fragment defines, wherever HTML defines one: `id` on any tag (either quote or
/// none) and `name` on `<a>`.
pub(crate) fn collect_html_ids(html: &str, ids: &mut Vec<String>) {
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        if name_len == 0 {
            continue;
        }
        let is_a = rest[..name_len].eq_ignore_ascii_case("a");
        rest = &rest[name_len..];
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
            if rest.is_empty() || rest.starts_with('>') {
                break;
            }
            let attr_len = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '=' | '>' | '/'))
                .unwrap_or(rest.len());
            let attr = &rest[..attr_len];
            rest = rest[attr_len..].trim_start();
            let mut value = "";
            if let Some(after) = rest.strip_prefix('=') {
                let after = after.trim_start();
                let (v, remaining) = match after.chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        let body = &after[1..];
                        let end = body.find(q).unwrap_or(body.len());
                        (&body[..end], body.get(end + 1..).unwrap_or(""))
                    }
                    _ => {
                        let end = after
                            .find(|c: char| c.is_whitespace() || c == '>')
                            .unwrap_or(after.len());
                        (&after[..end], &after[end..])
                    }
                };
                value = v;
                rest = remaining;
            }
            if attr_len == 0 {
                // Not an attribute (a stray `=`): skip a character to make progress.
                rest = rest.get(1..).unwrap_or("");
                continue;
            }
            let defines =
                attr.eq_ignore_ascii_case("id") || (is_a && attr.eq_ignore_ascii_case("name"));
            if defines && !value.is_empty() {
                ids.push(value.to_string());
            }
        }
    }
}

// Escaping lives in the leaf module `crate::html`; re-exported here for the renderers.
pub use crate::html::{escape, escape_into};

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
        let r = md("```toml\nx = \"<u8>\"\n```\n");
        assert!(
            r.html
                .contains("<code class=\"language-toml\">x = &quot;&lt;u8&gt;&quot;"),
            "{}",
            r.html
        );
    }

    #[test]
    fn rust_blocks_hide_hash_lines_and_unescape_double_hash() {
        let r = md(
            "```rust,ignore\n# use std::fmt;\nfn main() {\n    ## not hidden\n    #[derive(Debug)]\n    let v: Vec<u8> = vec![];\n#\n}\n```\n",
        );
        assert!(
            r.html.contains("<pre><code class=\"language-rust ignore\"><span class=\"boring\">use std::fmt;\n</span>fn main() {\n    # not hidden\n    #[derive(Debug)]\n    let v: Vec&lt;u8&gt; = vec![];\n<span class=\"boring\">\n</span>}</code></pre>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn runnable_rust_without_main_gets_a_hidden_one() {
        let r = md("```rust\nlet x = 1;\n```\n");
        assert!(
            r.html.contains("<pre class=\"playground\"><code class=\"language-rust\"><span class=\"boring\">#![allow(unused)]\n</span><span class=\"boring\">fn main() {\n</span>let x = 1;\n<span class=\"boring\">}</span></code></pre>"),
            "{}",
            r.html
        );
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
