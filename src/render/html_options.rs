//! mdBook's `[output.html]` options that change every page: extra style sheets and scripts, a
//! link to the book's repository, "edit this page" links, the first-visit colour theme, and search
//! turned off. They are applied to each rendered page rather than written into the templates, so
//! a book's own templates get them too.

use crate::book::html_config::HtmlConfig;
use crate::render::markdown::escape;

/// Applies the page-level options to one rendered page. `root` is the page's way back to the
/// output root (`../`…); `source` is the chapter file relative to the book root, for
/// `edit-url-template` (none for pages that are not chapters). A book that sets none of them gets
/// its page back as it was, unsearched and uncopied.
pub fn apply(page: String, root: &str, source: Option<&str>, html: &HtmlConfig) -> String {
    let mut head = String::new();
    if let Some(theme) = &html.default_theme {
        // mdBook's light themes are `light` and `rust`; the others (`coal`, `navy`, `ayu`) are dark.
        let setting = if matches!(theme.as_str(), "light" | "rust") {
            "light"
        } else {
            "dark"
        };
        head.push_str(&format!(
            "<script>try {{ if (!localStorage.getItem(\"calcbook-theme\")) localStorage.setItem(\"calcbook-theme\", \"{setting}\"); }} catch (e) {{}}</script>\n"
        ));
    }
    let mut tail_of_head = String::new();
    for css in &html.additional_css {
        tail_of_head.push_str(&format!(
            "<link rel=\"stylesheet\" href=\"{root}{}\">\n",
            escape(&url_path(css))
        ));
    }
    if !html.search.enable {
        tail_of_head.push_str(
            "<style>#search-toggle, [data-open-search] { display: none !important; }</style>\n",
        );
        // The keyboard shortcuts must not open a search that has no index.
        head.push_str(
            "<script>document.documentElement.setAttribute(\"data-search-disabled\", \"\");</script>\n",
        );
    }
    let mut scripts = String::new();
    for js in &html.additional_js {
        scripts.push_str(&format!(
            "<script src=\"{root}{}\"></script>\n",
            escape(&url_path(js))
        ));
    }
    let mut links = String::new();
    if let Some(url) = &html.git_repository_url {
        links.push_str(&format!(
            "<a class=\"git-repository\" href=\"{}\" title=\"Git repository\" aria-label=\"Git repository\">Repository</a>\n",
            escape(url)
        ));
    }
    let mut edit = String::new();
    if let (Some(template), Some(source)) = (&html.edit_url_template, source) {
        edit = format!(
            "<p class=\"edit-page\"><a href=\"{}\" title=\"Suggest an edit\" aria-label=\"Suggest an edit\">Edit this page</a></p>\n",
            escape(&template.replace("{path}", source))
        );
    }
    let mut out = page;
    insert_after(&mut out, "<head>", &head);
    insert_before(&mut out, "</head>", &tail_of_head);
    insert_before(&mut out, "</header>", &links);
    insert_before(&mut out, "</article>", &edit);
    insert_before_last(&mut out, "</body>", &scripts);
    out
}

fn url_path(path: &std::path::Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn insert_after(page: &mut String, marker: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(i) = page.find(marker) {
        page.insert_str(i + marker.len(), &format!("\n{text}"));
    }
}

fn insert_before(page: &mut String, marker: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(i) = page.find(marker) {
        page.insert_str(i, text);
    }
}

fn insert_before_last(page: &mut String, marker: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(i) = page.rfind(marker) {
        page.insert_str(i, text);
    }
}

/// The page mdBook writes at an old path of `[output.html.redirect]`: it sends the reader to
/// `url` at once, keeping the `#fragment` (or mapping it through `fragments`, old → new).
pub fn redirect_page(url: &str, fragments: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = fragments
        .iter()
        .map(|(old, new)| (old.clone(), serde_json::Value::String(new.clone())))
        .collect();
    let map = serde_json::Value::Object(map)
        .to_string()
        .replace("</", "<\\/");
    let target = serde_json::Value::String(url.to_string())
        .to_string()
        .replace("</", "<\\/");
    let href = escape(url);
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Redirecting…</title>\n<meta http-equiv=\"refresh\" content=\"0; URL={href}\">\n<link rel=\"canonical\" href=\"{href}\">\n</head>\n<body>\n<p>This page moved to <a href=\"{href}\">{href}</a>.</p>\n<script>\n(function () {{\n  var hash = window.location.hash;\n  if (!hash) return;\n  var moved = {map};\n  var to = new URL(moved[hash] || {target}, window.location.href);\n  if (!moved[hash]) to.hash = hash;\n  window.location.replace(to.href);\n}})();\n</script>\n</body>\n</html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_land_in_the_page() {
        let html = HtmlConfig {
            additional_css: vec!["theme/x.css".into()],
            additional_js: vec!["y.js".into()],
            git_repository_url: Some("https://git.example/book".into()),
            edit_url_template: Some("https://git.example/edit/{path}".into()),
            default_theme: Some("navy".into()),
            ..HtmlConfig::default()
        };
        let page = "<html><head><title>t</title></head><body><header>h</header><article>a</article></body></html>";
        let out = apply(page.to_string(), "../", Some("src/a.md"), &html);
        assert!(out.contains("<link rel=\"stylesheet\" href=\"../theme/x.css\">\n</head>"));
        assert!(out.contains("<script src=\"../y.js\"></script>\n</body>"));
        assert!(out.contains("href=\"https://git.example/book\""));
        assert!(out.contains("href=\"https://git.example/edit/src/a.md\""));
        assert!(out.contains("setItem(\"calcbook-theme\", \"dark\")"));
    }

    #[test]
    fn redirect_keeps_the_fragment_or_maps_it() {
        let page = redirect_page("new.html", &[("#old".into(), "new.html#fresh".into())]);
        assert!(page.contains("URL=new.html"));
        assert!(page.contains("{\"#old\":\"new.html#fresh\"}"));
    }
}
