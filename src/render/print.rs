//! A page's content as it goes into the print page, which joins every page into one document:
//! ids get the page's prefix (`batch--claim-1`), so `claim-1` or `summary` of two chapters no
//! longer collide; links to a page of the book, or to a place in one, point inside the print page
//! (as mdBook 0.5's print page does); folded calculations (`<details>`) are printed open.

use std::collections::HashSet;

/// The print page's id for `id` on page `path`: `batch--summary`.
pub fn print_id(path: &str, id: &str) -> String {
    format!("{}--{id}", page_key(path))
}

/// The print page's id of a page's start (its `<section>`): `page-batch`.
pub fn page_anchor(path: &str) -> String {
    format!("page-{}", page_key(path))
}

fn page_key(path: &str) -> String {
    path.trim_end_matches(".html")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// `content` of the page at `path`, rewritten for the print page; `pages` are the paths of every
/// page the print page holds (links to others stay as they are).
pub fn for_print(path: &str, content: &str, pages: &HashSet<&str>) -> String {
    let mut out = String::with_capacity(content.len() + content.len() / 20);
    let mut rest = content;
    while let Some(at) = memchr::memchr(b'<', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = memchr::memchr(b'>', rest.as_bytes()).map_or(rest.len(), |e| e + 1);
        let tag = &rest[..end];
        rest = &rest[end..];
        // Most tags (`<p>`, `<em>`, `<span class=…>`) have nothing to rewrite: copy them as they are.
        if tag.starts_with("</") || tag.starts_with("<!") || !rewritable(tag) {
            out.push_str(tag);
            continue;
        }
        let mut tag = rewrite_attr(tag, " id=\"", |id| Some(print_id(path, id)));
        tag = rewrite_attr(&tag, " popovertarget=\"", |id| Some(print_id(path, id)));
        tag = rewrite_attr(&tag, " aria-labelledby=\"", |ids| {
            Some(
                ids.split(' ')
                    .map(|id| print_id(path, id))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        });
        tag = rewrite_attr(&tag, " href=\"", |href| link_in_print(path, href, pages));
        if tag.starts_with("<details") && !tag.contains(" open") {
            tag = tag.replacen("<details", "<details open", 1);
        }
        out.push_str(&tag);
    }
    out.push_str(rest);
    out
}

/// Whether `tag` has an attribute [`for_print`] rewrites, or is a `<details>` to open.
fn rewritable(tag: &str) -> bool {
    tag.starts_with("<details")
        || memchr::memchr(b'=', tag.as_bytes()).is_some_and(|_| {
            [
                " id=\"",
                " popovertarget=\"",
                " aria-labelledby=\"",
                " href=\"",
            ]
            .iter()
            .any(|attr| tag.contains(attr))
        })
}

/// Replaces the value of the attribute that starts with `prefix` (` id="`) when `with` gives one.
fn rewrite_attr(tag: &str, prefix: &str, with: impl Fn(&str) -> Option<String>) -> String {
    let Some(start) = tag.find(prefix).map(|s| s + prefix.len()) else {
        return tag.to_string();
    };
    let Some(len) = tag[start..].find('"') else {
        return tag.to_string();
    };
    match with(&tag[start..start + len]) {
        Some(value) => format!("{}{value}{}", &tag[..start], &tag[start + len..]),
        None => tag.to_string(),
    }
}

/// `#x` on this page, `other.html#x` or `other.html` of the book → the place in the print page.
fn link_in_print(path: &str, href: &str, pages: &HashSet<&str>) -> Option<String> {
    if let Some(id) = href.strip_prefix('#') {
        return Some(format!("#{}", print_id(path, id)));
    }
    if href.contains("://") || href.starts_with("mailto:") {
        return None;
    }
    let (file, id) = href
        .split_once('#')
        .map_or((href, None), |(f, i)| (f, Some(i)));
    // Resolve `../x.html` against the linking page's folder.
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    for seg in file.split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    let target = parts.join("/");
    if !pages.contains(&target.as_str()) {
        return None;
    }
    Some(match id {
        Some(id) => format!("#{}", print_id(&target, id)),
        None => format!("#{}", page_anchor(&target)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_links_stay_inside_the_print_page() {
        let pages = HashSet::from(["index.html", "batch.html", "part/deep.html"]);
        let html = "<h2 id=\"summary\"><a class=\"header\" href=\"#summary\">S</a></h2>\
                    <p><a href=\"index.html#start\">a</a> <a href=\"part/deep.html\">b</a> \
                    <a href=\"https://example.com/x.html\">c</a> <a href=\"sources.html#x\">d</a></p>\
                    <details class=\"calc-details\"><summary>Show</summary></details>\
                    <button popovertarget=\"v-1\">1</button><span id=\"v-1\" popover>x</span>\
                    <svg aria-labelledby=\"f-title f-desc\">";
        let out = for_print("batch.html", html, &pages);
        assert!(
            out.contains("<h2 id=\"batch--summary\"><a class=\"header\" href=\"#batch--summary\">")
        );
        assert!(out.contains("href=\"#index--start\""));
        assert!(out.contains("href=\"#page-part-deep\""));
        assert!(out.contains("href=\"https://example.com/x.html\""));
        // A page the print page does not hold keeps its link.
        assert!(out.contains("href=\"sources.html#x\""));
        assert!(out.contains("<details open class=\"calc-details\">"));
        assert!(out.contains("popovertarget=\"batch--v-1\"") && out.contains("id=\"batch--v-1\""));
        assert!(out.contains("aria-labelledby=\"batch--f-title batch--f-desc\""));
        assert_eq!(
            for_print("part/deep.html", "<a href=\"../batch.html#x\">", &pages),
            "<a href=\"#batch--x\">"
        );
    }
}
