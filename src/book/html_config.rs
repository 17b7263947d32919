//! mdBook's `[output.html]` table, read leniently: the keys calcbook honours are typed here; any
//! other key is mdBook's business and is ignored (a book written for mdBook must build unchanged).
//! Key names and defaults follow mdBook 0.5's `HtmlConfig` (`crates/mdbook-core/src/config.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// The `[output.html]` keys calcbook acts on.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct HtmlConfig {
    /// Renders `$…$` and `$$…$$` math (to MathML, at build time).
    pub mathjax_support: bool,
    pub smart_punctuation: bool,
    pub definition_lists: bool,
    pub admonitions: bool,
    /// Style sheets (paths relative to the book root) linked from every page after the theme's.
    pub additional_css: Vec<PathBuf>,
    /// Scripts (paths relative to the book root) loaded by every page after the theme's.
    pub additional_js: Vec<PathBuf>,
    /// Old path (`/old/page.html`) → new URL: a page that sends readers on is written at the old path.
    pub redirect: BTreeMap<String, String>,
    pub search: SearchConfig,
    pub playground: PlaygroundConfig,
    pub code: CodeConfig,
    /// Shown as a link to the book's repository in the menu bar.
    pub git_repository_url: Option<String>,
    /// `https://…/edit/main/{path}`: each chapter gets an "edit this page" link, `{path}` being the
    /// chapter's file relative to the book root.
    pub edit_url_template: Option<String>,
    /// The theme a first-time reader sees (`light`, `navy`, `ayu`, `coal`, `rust`).
    pub default_theme: Option<String>,
    pub preferred_dark_theme: Option<String>,
    /// Where the book is served from (`/book/`): links on the 404 page start there.
    pub site_url: Option<String>,
}

impl Default for HtmlConfig {
    fn default() -> Self {
        HtmlConfig {
            mathjax_support: false,
            smart_punctuation: true,
            definition_lists: true,
            admonitions: true,
            additional_css: Vec::new(),
            additional_js: Vec::new(),
            redirect: BTreeMap::new(),
            search: SearchConfig::default(),
            playground: PlaygroundConfig::default(),
            code: CodeConfig::default(),
            git_repository_url: None,
            edit_url_template: None,
            default_theme: None,
            preferred_dark_theme: None,
            site_url: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct SearchConfig {
    /// `false` leaves the search box and index out.
    pub enable: bool,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig { enable: true }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct PlaygroundConfig {
    pub runnable: bool,
}

impl Default for PlaygroundConfig {
    fn default() -> Self {
        PlaygroundConfig { runnable: true }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct CodeConfig {
    /// Language → the prefix that hides a line of it (`python = "~"`).
    pub hidelines: BTreeMap<String, String>,
}

impl HtmlConfig {
    /// Reads `[output.html]` from the raw table; a value of the wrong type falls back to the
    /// defaults and is reported as the error text.
    pub fn from_output(output: &BTreeMap<String, toml::Value>) -> Result<HtmlConfig, String> {
        match output.get("html") {
            None => Ok(HtmlConfig::default()),
            Some(value) => value
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| e.message().trim().to_string()),
        }
    }

    /// The Markdown features this configuration turns on.
    pub fn markdown_options(&self) -> crate::render::markdown::MarkdownOptions {
        crate::render::markdown::MarkdownOptions {
            math: self.mathjax_support,
            smart_punctuation: self.smart_punctuation,
            definition_lists: self.definition_lists,
            admonitions: self.admonitions,
            runnable: self.playground.runnable,
            edition: None,
            hidelines: self.code.hidelines.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> HtmlConfig {
        let (config, _) = super::super::config::parse(text, "book.toml").unwrap();
        config.html()
    }

    #[test]
    fn defaults_follow_mdbook() {
        let c = read("");
        assert!(!c.mathjax_support);
        assert!(c.admonitions && c.definition_lists && c.search.enable);
    }

    #[test]
    fn keys_are_read_and_unknown_ones_ignored() {
        let c = read(
            "[output.html]\nmathjax-support = true\nadditional-css = [\"x.css\"]\nsite-url = \"/b/\"\ncurly-quotes = true\n[output.html.search]\nenable = false\n[output.html.redirect]\n\"/old.html\" = \"new.html\"\n",
        );
        assert!(c.mathjax_support);
        assert_eq!(c.additional_css, vec![PathBuf::from("x.css")]);
        assert_eq!(c.site_url.as_deref(), Some("/b/"));
        assert!(!c.search.enable);
        assert_eq!(c.redirect["/old.html"], "new.html");
    }
}
