//! What changed between two builds of a site, in the terms a page needs to update itself.

use std::collections::BTreeMap;

use serde::Serialize;

use super::splice::{Splice, splice};
use crate::render::Site;

/// How a page changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageChange {
    /// Only its `<main>` and `<title>` differ: it can be swapped in place.
    Content,
    /// Something around the content differs (`<head>`, the page's frame): reload it.
    Layout,
}

/// The difference between two builds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Changed or new HTML pages.
    pub pages: BTreeMap<String, PageChange>,
    /// Changed or new files that are not pages (assets, the search index, images).
    pub files: Vec<String>,
    /// Files of the old build that the new one no longer has.
    pub removed: Vec<String>,
    /// A stylesheet or script changed (other than the search index): every page must reload.
    pub reload: bool,
    /// For pages whose content alone changed, the new content (the inside of `<main>`, as a
    /// splice, or whole where there is none) and `<title>` (as HTML), so an open page can swap
    /// them in without fetching itself; the whole is left out for a page over
    /// [`PAGE_INLINE_LIMIT`], and both past [`INLINE_LIMIT`] bytes in all (a data edit that
    /// changes every page) and for a page over [`SPLICE_LIMIT`], whose open pages fetch
    /// themselves.
    pub contents: BTreeMap<String, PageContent>,
}

/// A page's content and title as the update event carries them: the whole of `<main>`, and the few
/// nodes of it that changed ([`Splice`]) where the old and new content can be compared node by
/// node, which a page applies without parsing the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageContent {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub splice: Option<Splice>,
}

/// The most content an update event carries (its pages' `<main>`s together)…
pub const INLINE_LIMIT: usize = 2 << 20;
/// …and of one page's whole content: a larger page takes only the splice…
pub const PAGE_INLINE_LIMIT: usize = 512 << 10;
/// …up to this size (cutting a page into nodes costs a few ms a MB); past it (the print page),
/// an open page fetches itself.
pub const SPLICE_LIMIT: usize = 2 << 20;

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty() && self.files.is_empty() && self.removed.is_empty()
    }

    /// Every changed, new or removed path.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.pages
            .keys()
            .chain(&self.files)
            .chain(&self.removed)
            .map(String::as_str)
    }
}

/// Compares two builds file by file.
pub fn diff(old: &Site, new: &Site) -> Changes {
    let mut changes = Changes::default();
    for (path, bytes) in &new.files {
        let before = old.files.get(path);
        if before == Some(bytes) {
            continue;
        }
        if path.ends_with(".html") {
            let kind = match before {
                Some(before) if same_frame(before, bytes) => PageChange::Content,
                _ => PageChange::Layout,
            };
            changes.pages.insert(path.clone(), kind);
        } else {
            // The search index changes with any text; pages read it on demand.
            if (path.ends_with(".css") || path.ends_with(".js")) && path != "searchindex.js" {
                changes.reload = true;
            }
            changes.files.push(path.clone());
        }
    }
    for path in old.files.keys() {
        if !new.files.contains_key(path) {
            changes.removed.push(path.clone());
        }
    }
    let mut size = 0;
    for (path, kind) in &changes.pages {
        let Some(bytes) = new.files.get(path).filter(|_| *kind == PageChange::Content) else {
            continue;
        };
        // Measured before anything is copied: the print page (the whole book) never is.
        let Some((title, main)) = content_spans(bytes) else {
            continue;
        };
        if main.len() > SPLICE_LIMIT {
            continue;
        }
        // calcbook writes its pages as UTF-8; a page that is not (a book's own HTML file)
        // is fetched by whoever shows it.
        fn as_str(bytes: &[u8], range: std::ops::Range<usize>) -> Option<&str> {
            std::str::from_utf8(&bytes[range]).ok()
        }
        let (Some(new_main), Some(title)) = (as_str(bytes, main), as_str(bytes, title)) else {
            continue;
        };
        let old_main = (old.files.get(path)).and_then(|b| as_str(b, content_spans(b)?.1));
        let splice = old_main.and_then(|old_main| splice(old_main, new_main));
        // The whole content comes only where there is no splice and it is not large. With a
        // splice, a page whose DOM a script has changed where the splice lands cannot take it and
        // fetches itself: carrying the whole as well would make every save send, and every open
        // page parse, ~400 KB of JSON for a chapter like the bundled book's largest.
        let main = (splice.is_none() && new_main.len() <= PAGE_INLINE_LIMIT).then_some(new_main);
        size += main.map_or(0, str::len) + splice.as_ref().map_or(0, |s| s.html.len());
        if size > INLINE_LIMIT || (main.is_none() && splice.is_none()) {
            continue;
        }
        changes.contents.insert(
            path.clone(),
            PageContent {
                title: title.to_string(),
                main: main.map(str::to_string),
                splice,
            },
        );
    }
    changes
}

/// Where a page's title (as HTML) and the inside of its `<main …>…</main>` are.
fn content_spans(page: &[u8]) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let start = find(page, b"<title>")? + b"<title>".len();
    let title = start..start + find(&page[start..], b"</title>")?;
    let open = find(page, b"<main")?;
    let inner = open + find(&page[open..], b">")? + 1;
    let close = rfind(page, b"</main>")?;
    (inner <= close).then_some((title, inner..close))
}

/// Whether two pages differ only inside `<main …>…</main>` and `<title>…</title>`.
fn same_frame(a: &[u8], b: &[u8]) -> bool {
    match (frame(a), frame(b)) {
        (Some(fa), Some(fb)) => fa == fb,
        _ => false,
    }
}

/// A page with its title and main content cut out.
fn frame(page: &[u8]) -> Option<[&[u8]; 3]> {
    let (head, rest) = cut(page, b"<title>", b"</title>")?;
    // A page has one <main>, which ends near the page's end: look for its close from there.
    let start = find(rest, b"<main")?;
    let end = rfind(rest, b"</main>")?;
    if end < start {
        return None;
    }
    Some([head, &rest[..start], &rest[end + b"</main>".len()..]])
}

/// Splits `text` around the first `open … close` span: what precedes it and what follows it.
fn cut<'a>(text: &'a [u8], open: &[u8], close: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let start = find(text, open)?;
    let end = start + find(&text[start..], close)? + close.len();
    Some((&text[..start], &text[end..]))
}

/// memchr's SIMD search: a naive scan of the print page (the whole book) cost tens of ms a save.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(title: &str, toc: &str, body: &str) -> String {
        format!(
            "<html><head><title>{title}</title></head><body><nav>{toc}</nav><main id=\"content\">{body}</main></body></html>"
        )
    }

    #[test]
    fn a_body_edit_is_a_content_change() {
        let mut old = Site::default();
        old.add("a.html", page("A", "toc", "one"));
        old.add("b.html", page("B", "toc", "two"));
        let mut new = old.clone();
        new.add("a.html", page("A!", "toc", "one, edited"));
        let changes = diff(&old, &new);
        assert_eq!(
            changes.pages.into_iter().collect::<Vec<_>>(),
            vec![("a.html".to_string(), PageChange::Content)]
        );
        assert!(!changes.reload);
        // The event carries the nodes that changed, so the page need not fetch itself.
        assert_eq!(
            changes.contents["a.html"],
            PageContent {
                title: "A!".into(),
                main: None,
                splice: Some(Splice {
                    path: vec![],
                    count: 1,
                    start: 0,
                    end: 0,
                    html: "one, edited".into()
                })
            }
        );
        // Content the splice cannot follow comes whole…
        new.add("a.html", page("A!", "toc", "<p>one, <b>edited</p>"));
        let changes = diff(&old, &new);
        assert_eq!(changes.contents["a.html"].splice, None);
        assert_eq!(
            changes.contents["a.html"].main.as_deref(),
            Some("<p>one, <b>edited</p>")
        );
        // …unless the page is too large to carry whole: then it is fetched by whoever shows it…
        let big = format!("{}<b>", "<p>x</p>".repeat(PAGE_INLINE_LIMIT / 8 + 1));
        old.add("b.html", page("B", "toc", "<p>x</p>"));
        new.add("b.html", page("B", "toc", &big));
        assert!(!diff(&old, &new).contents.contains_key("b.html"));
        // …and a large page with a splice carries the splice…
        let big = "<p>x</p>".repeat(PAGE_INLINE_LIMIT / 8 + 1);
        old.add("b.html", page("B", "toc", &big));
        new.add("b.html", page("B", "toc", &format!("{big}<p>y</p>")));
        let changes = diff(&old, &new);
        assert_eq!(changes.pages["b.html"], PageChange::Content);
        assert_eq!(changes.contents["b.html"].main, None);
        let splice = changes.contents["b.html"].splice.as_ref();
        assert_eq!(splice.map(|s| s.html.as_str()), Some("<p>y</p>"));
        assert!(changes.contents.contains_key("a.html"));
        // …but a page too large to cut into nodes (the print page) is fetched by whoever shows it.
        let huge = "<p>x</p>".repeat(SPLICE_LIMIT / 8 + 1);
        old.add("b.html", page("B", "toc", &huge));
        new.add("b.html", page("B", "toc", &format!("{huge}<p>y</p>")));
        assert!(!diff(&old, &new).contents.contains_key("b.html"));
    }

    #[test]
    fn a_sidebar_edit_is_a_layout_change() {
        let mut old = Site::default();
        old.add("a.html", page("A", "toc", "one"));
        let mut new = Site::default();
        new.add("a.html", page("A", "toc2", "one"));
        new.add("c.html", page("C", "toc2", "three"));
        let changes = diff(&old, &new);
        assert_eq!(changes.pages["a.html"], PageChange::Layout);
        assert_eq!(changes.pages["c.html"], PageChange::Layout);
    }

    #[test]
    fn removed_files_and_asset_changes() {
        let mut old = Site::default();
        old.add("gone.html", "x");
        old.add("assets/calcbook.css", "a{}");
        old.add("searchindex.js", "1");
        let mut new = Site::default();
        new.add("assets/calcbook.css", "a{}");
        new.add("searchindex.js", "2");
        let changes = diff(&old, &new);
        assert_eq!(changes.removed, vec!["gone.html"]);
        assert!(!changes.reload, "the search index alone needs no reload");
        new.add("assets/calcbook.css", "b{}");
        assert!(diff(&old, &new).reload);
        assert!(diff(&new, &new).is_empty());
    }
}
