//! The smallest run of nodes that turns a page's old `<main>` into its new one, so an open page
//! parses and inserts only what changed: a save that edits one paragraph of a 400 KB chapter sends
//! and parses that paragraph, not the chapter (parsing the whole `<main>` cost a browser 35 ms).
//!
//! Both versions are cut into nodes (elements with their subtrees, text runs, comments) by a small
//! tokenizer that knows what calcbook writes: void elements, `/>`, raw-text elements, quoted
//! attributes. Where the only differing node on both sides is one element with the same start
//! tag, the splice descends into it, as `live.js`'s own patch does. Anything the tokenizer does
//! not follow (an unclosed or mismatched tag in an author's raw HTML) gives no splice, and the
//! page falls back to the whole content. The browser checks each level's node count and tag before
//! applying one, so a page whose DOM a script has changed, or that the HTML parser reads otherwise,
//! falls back too.

use std::ops::Range;

use serde::Serialize;

/// One level the splice descends through: the child at `index` of a parent with `count` nodes,
/// an element named `tag` (lower case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub index: usize,
    pub count: usize,
    pub tag: String,
}

/// Replace, in the element reached by `path`, which holds `count` nodes, those after the first
/// `start` and before the last `end` with the nodes of `html`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Splice {
    pub path: Vec<Step>,
    pub count: usize,
    pub start: usize,
    pub end: usize,
    pub html: String,
}

/// A node of an HTML fragment, by byte range; an element also has its name and its start tag's
/// and content's ranges.
#[derive(Debug, Clone)]
struct Node {
    range: Range<usize>,
    element: Option<Element>,
}

#[derive(Debug, Clone)]
struct Element {
    /// The name as written (`foreignObject`); compared without case.
    name: Range<usize>,
    start_tag: Range<usize>,
    inner: Range<usize>,
}

impl Element {
    fn name<'a>(&self, html: &'a str) -> &'a str {
        &html[self.name.clone()]
    }

    /// Whether it is one of `names` (lower case).
    fn is_one_of(&self, html: &str, names: &[&str]) -> bool {
        let name = self.name(html);
        names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }
}

/// Elements that have no content and no end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];
/// Elements whose content is text up to their end tag.
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "title"];
/// Elements whose children the browser parses in another namespace: a splice replaces them
/// whole, as a fragment of their children would be parsed as HTML.
const FOREIGN: &[&str] = &["svg", "math"];
/// How deep a splice descends: past this, the differing element is replaced whole.
const MAX_DEPTH: usize = 32;

/// The splice from `old` to `new` (the insides of `<main>`), or `None` where either is HTML the
/// tokenizer does not follow.
pub fn splice(old: &str, new: &str) -> Option<Splice> {
    let (mut old_range, mut new_range) = (0..old.len(), 0..new.len());
    let mut path = Vec::new();
    loop {
        let old_nodes = nodes(old, old_range.clone())?;
        let new_nodes = nodes(new, new_range.clone())?;
        let start = old_nodes
            .iter()
            .zip(&new_nodes)
            .take_while(|(a, b)| text_of(old, a) == text_of(new, b))
            .count();
        let end = old_nodes[start..]
            .iter()
            .rev()
            .zip(new_nodes[start..].iter().rev())
            .take_while(|(a, b)| text_of(old, a) == text_of(new, b))
            .count();
        let (old_run, new_run) = (
            &old_nodes[start..old_nodes.len() - end],
            &new_nodes[start..new_nodes.len() - end],
        );
        if let ([a], [b]) = (old_run, new_run)
            && let (Some(ea), Some(eb)) = (&a.element, &b.element)
            && old[ea.start_tag.clone()] == new[eb.start_tag.clone()]
            && !ea.is_one_of(old, FOREIGN)
            && !ea.is_one_of(old, RAW_TEXT)
            && path.len() < MAX_DEPTH
        {
            path.push(Step {
                index: start,
                count: old_nodes.len(),
                tag: ea.name(old).to_ascii_lowercase(),
            });
            old_range = ea.inner.clone();
            new_range = eb.inner.clone();
            continue;
        }
        let from = new_run.first().map_or(
            new_nodes
                .get(start)
                .map_or(new_range.end, |n| n.range.start),
            |n| n.range.start,
        );
        let to = new_run.last().map_or(from, |n| n.range.end);
        return Some(Splice {
            path,
            count: old_nodes.len(),
            start,
            end,
            html: new[from..to].to_string(),
        });
    }
}

fn text_of<'a>(html: &'a str, node: &Node) -> &'a str {
    &html[node.range.clone()]
}

/// The nodes of `html[range]`, one level deep.
fn nodes(html: &str, range: Range<usize>) -> Option<Vec<Node>> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    let mut at = range.start;
    while at < range.end {
        let node = match tag_at(bytes, at, range.end)? {
            Some(Tag::Open { name, end, closed }) => {
                let element = element(html, at, name, end, closed, range.end)?;
                Node {
                    range: at..element.1,
                    element: Some(element.0),
                }
            }
            Some(Tag::Other { end }) => Node {
                range: at..end,
                element: None,
            },
            Some(Tag::Close { .. }) => return None,
            None => {
                let end = next_tag(bytes, at + 1, range.end);
                Node {
                    range: at..end,
                    element: None,
                }
            }
        };
        at = node.range.end;
        out.push(node);
    }
    Some(out)
}

/// An element whose start tag spans `start..tag_end`, and where it ends.
fn element(
    html: &str,
    start: usize,
    name: Range<usize>,
    tag_end: usize,
    closed: bool,
    limit: usize,
) -> Option<(Element, usize)> {
    let bytes = html.as_bytes();
    let mut this = Element {
        name,
        start_tag: start..tag_end,
        inner: tag_end..tag_end,
    };
    if closed || this.is_one_of(html, VOID) {
        return Some((this, tag_end));
    }
    let own_name = &bytes[this.name.clone()];
    let inner_end = if this.is_one_of(html, RAW_TEXT) {
        // `</name`, without case.
        let mut at = tag_end;
        loop {
            let i = at + memchr::memmem::find(&bytes[at..limit], b"</")?;
            let after = &bytes[i + 2..limit];
            if after.len() >= own_name.len()
                && after[..own_name.len()].eq_ignore_ascii_case(own_name)
            {
                break i;
            }
            at = i + 2;
        }
    } else {
        // The children, skipped: the element ends at the close tag that matches its own.
        let mut at = tag_end;
        loop {
            match tag_at(bytes, at, limit)? {
                Some(Tag::Close { name: n, .. })
                    if bytes[n.clone()].eq_ignore_ascii_case(own_name) =>
                {
                    break at;
                }
                Some(Tag::Close { .. }) => return None,
                Some(Tag::Open { name, end, closed }) => {
                    at = element(html, at, name, end, closed, limit)?.1;
                }
                Some(Tag::Other { end }) => at = end,
                None => at = next_tag(bytes, at + 1, limit),
            }
            if at >= limit {
                return None;
            }
        }
    };
    let Some(Tag::Close { end, .. }) = tag_at(bytes, inner_end, limit)? else {
        return None;
    };
    this.inner = tag_end..inner_end;
    Some((this, end))
}

enum Tag {
    /// A start tag: where its name is, the byte after its `>`, whether it ends `/>`.
    Open {
        name: Range<usize>,
        end: usize,
        closed: bool,
    },
    Close {
        name: Range<usize>,
        end: usize,
    },
    /// A comment, a doctype or a processing instruction.
    Other {
        end: usize,
    },
}

/// The tag at `at`, `Ok(None)` if text starts there; `None` (the outer option) for a tag that
/// does not end before `limit`.
fn tag_at(bytes: &[u8], at: usize, limit: usize) -> Option<Option<Tag>> {
    let rest = &bytes[at..limit];
    if rest.first() != Some(&b'<') {
        return Some(None);
    }
    if rest.starts_with(b"<!--") {
        let end = at + 4 + memchr::memmem::find(&rest[4..], b"-->")? + 3;
        return Some(Some(Tag::Other { end }));
    }
    match rest.get(1) {
        Some(b'!' | b'?') => {
            let end = at + memchr::memchr(b'>', rest)? + 1;
            Some(Some(Tag::Other { end }))
        }
        Some(b'/') if rest.get(2).is_some_and(u8::is_ascii_alphabetic) => {
            let name = at + 2..at + 2 + tag_name_len(&rest[2..]);
            let end = at + memchr::memchr(b'>', rest)? + 1;
            Some(Some(Tag::Close { name, end }))
        }
        Some(c) if c.is_ascii_alphabetic() => {
            let name = at + 1..at + 1 + tag_name_len(&rest[1..]);
            let len = start_tag_len(rest)?;
            let closed = rest[..len].ends_with(b"/>");
            Some(Some(Tag::Open {
                name,
                end: at + len,
                closed,
            }))
        }
        _ => Some(None),
    }
}

fn tag_name_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))
        .unwrap_or(bytes.len())
}

/// The length of the start tag that begins `tag`, its quoted attribute values skipped (a chart's
/// path data is long: they are jumped over, not walked).
fn start_tag_len(tag: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        at += memchr::memchr3(b'>', b'"', b'\'', &tag[at..])?;
        match tag[at] {
            b'>' => return Some(at + 1),
            quote => at += 1 + memchr::memchr(quote, &tag[at + 1..])? + 1,
        }
    }
}

/// Where the text that starts at `from` ends: at the next `<` that opens a tag or comment.
fn next_tag(bytes: &[u8], from: usize, limit: usize) -> usize {
    let mut at = from;
    while at < limit {
        match memchr::memchr(b'<', &bytes[at..limit]) {
            None => return limit,
            Some(i) => {
                let next = bytes.get(at + i + 1).copied().unwrap_or(b' ');
                if next.is_ascii_alphabetic() || matches!(next, b'/' | b'!' | b'?') {
                    return at + i;
                }
                at += i + 1;
            }
        }
    }
    limit
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a splice to `old` as the browser would, on text: for tests.
    fn apply(old: &str, s: &Splice) -> String {
        let mut range = 0..old.len();
        for step in &s.path {
            let n = nodes(old, range.clone()).unwrap();
            assert_eq!(n.len(), step.count);
            let e = n[step.index].element.clone().unwrap();
            assert_eq!(e.name(old).to_ascii_lowercase(), step.tag);
            range = e.inner;
        }
        let n = nodes(old, range.clone()).unwrap();
        assert_eq!(n.len(), s.count);
        let from = n.get(s.start).map_or(range.end, |x| x.range.start);
        let to = if s.end == 0 {
            range.end
        } else {
            n[s.count - s.end].range.start
        };
        format!("{}{}{}", &old[..from], s.html, &old[to..])
    }

    #[test]
    fn an_edited_paragraph_is_the_whole_splice_deep_in_the_article() {
        let old = "\n<article class=\"chapter\">\n<h1 id=\"a\">A</h1>\n<p>one</p>\n<p>two</p>\n<svg><path d=\"M0\"/></svg>\n</article>\n";
        let new = old.replace("<p>two</p>", "<p>two, edited</p>");
        let s = splice(old, &new).unwrap();
        assert_eq!(s.html, "two, edited");
        assert_eq!(
            s.path.iter().map(|p| p.tag.as_str()).collect::<Vec<_>>(),
            ["article", "p"]
        );
        assert_eq!(apply(old, &s), new);
    }

    #[test]
    fn an_appended_block_is_inserted_before_the_unchanged_end() {
        let old =
            "<article><p>one</p>\n<hr>\n<img src=\"a.png\" alt=\"x > y\"></article>\n<nav>n</nav>";
        let new = old.replace(
            "<img src=\"a.png\" alt=\"x > y\">",
            "<img src=\"a.png\" alt=\"x > y\">\n<p>marker</p>",
        );
        let s = splice(old, &new).unwrap();
        assert_eq!(s.path[0].tag, "article");
        assert_eq!(apply(old, &s), new);
        assert!(s.html.contains("marker") && !s.html.contains("one"));
    }

    #[test]
    fn a_change_inside_an_svg_replaces_the_svg_whole() {
        let old = "<div class=\"fig\"><svg viewBox=\"0 0 1 1\"><g><path d=\"M0\"/></g></svg></div>";
        let new = old.replace("M0", "M1");
        let s = splice(old, &new).unwrap();
        assert!(s.html.starts_with("<svg"), "{s:?}");
        assert_eq!(apply(old, &s), new);
    }

    #[test]
    fn raw_text_comments_and_stray_angle_brackets_are_followed() {
        let old = "<p>a < b</p><!-- <p> --><script>if (a</b) {}</script><pre>x</pre>";
        let new = old.replace("x</pre>", "y</pre>");
        let s = splice(old, &new).unwrap();
        assert_eq!(apply(old, &s), new);
        assert_eq!(s.html, "y");
    }

    #[test]
    fn unbalanced_html_gives_no_splice() {
        assert!(splice("<div><p>a</div>", "<div><p>b</div>").is_none());
        assert!(splice("<div>a", "<div>b").is_none());
        assert!(splice("</p>a", "</p>b").is_none());
    }

    #[test]
    fn identical_content_is_an_empty_splice() {
        let s = splice("<p>a</p>", "<p>a</p>").unwrap();
        assert_eq!((s.start, s.end, s.html.as_str()), (1, 0, ""));
    }
}
