//! `book.toml`: mdBook's configuration format, read strictly.
//!
//! The keys calcbook understands are typed with `deny_unknown_fields`, so a typo is an error at its
//! line with a "did you mean". mdBook's own tables are accepted so a plain mdBook book builds:
//! `[output.html]` is read leniently by [`super::html_config`], `[rust] edition` is used for Rust
//! blocks, and each preprocessor or other output (which calcbook does not run) gets one warning.

use crate::diagnostic::Code;
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::diagnostic::{Diagnostic, did_you_mean};

pub const FILE_NAME: &str = "book.toml";

/// The whole of `book.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default)]
    pub book: BookSection,
    #[serde(default)]
    pub build: BuildSection,
    /// calcbook's own settings.
    #[serde(default)]
    pub calcbook: CalcbookSection,
    /// mdBook renderer settings: accepted for compatibility, not interpreted.
    #[serde(default)]
    pub output: BTreeMap<String, toml::Value>,
    /// mdBook preprocessors: calcbook runs none of them (it has its own notebook stage).
    #[serde(default)]
    pub preprocessor: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub rust: Option<toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BookSection {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default = "default_src")]
    pub src: PathBuf,
    #[serde(default)]
    pub multilingual: bool,
    #[serde(default)]
    pub text_direction: Option<String>,
}

impl Default for BookSection {
    fn default() -> Self {
        BookSection {
            title: None,
            authors: Vec::new(),
            description: None,
            language: default_language(),
            src: default_src(),
            multilingual: false,
            text_direction: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildSection {
    #[serde(default = "default_build_dir")]
    pub build_dir: PathBuf,
    /// A chapter listed in SUMMARY.md without a file: built from its title with a warning
    /// (mdBook creates the file; calcbook never writes into the source folder), or an error when
    /// `false`.
    #[serde(default)]
    pub create_missing: Option<bool>,
    #[serde(default)]
    pub use_default_preprocessors: Option<bool>,
    #[serde(default)]
    pub extra_watch_dirs: Vec<PathBuf>,
}

impl Default for BuildSection {
    fn default() -> Self {
        BuildSection {
            build_dir: default_build_dir(),
            create_missing: None,
            use_default_preprocessors: None,
            extra_watch_dirs: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CalcbookSection {
    /// Folder of YAML data files, each loaded as a record named after the file.
    #[serde(default = "default_data_dir")]
    pub data: PathBuf,
    /// Folder whose files override the built-in templates and assets, file by file.
    #[serde(default = "default_templates_dir")]
    pub templates: PathBuf,
    /// Largest file the book may read, in bytes (see `book::fs`).
    #[serde(default)]
    pub max_file_bytes: Option<u64>,
    /// Total bytes the book's `{{#include}}` directives may read, in bytes.
    #[serde(default)]
    pub max_included_bytes: Option<u64>,
    /// Evaluation steps the whole book may take (see `calc::budget`).
    #[serde(default)]
    pub max_steps: Option<u64>,
    /// Every data entry must name its `source:` (an error); else a missing one is a warning.
    #[serde(default)]
    pub require_sources: bool,
    /// A broken link or anchor inside the book fails `build` too (by default it is a warning in
    /// `build`, as in mdBook, and an error in `check`).
    #[serde(default)]
    pub strict_links: bool,
}

impl CalcbookSection {
    /// The read limits for this book: book.toml's values over the defaults.
    pub fn limits(&self) -> crate::book::fs::Limits {
        let default = crate::book::fs::DEFAULT_LIMITS;
        crate::book::fs::Limits {
            max_file_bytes: self.max_file_bytes.unwrap_or(default.max_file_bytes),
            max_included_bytes: self
                .max_included_bytes
                .unwrap_or(default.max_included_bytes),
            ..default
        }
    }
}

impl Default for CalcbookSection {
    fn default() -> Self {
        CalcbookSection {
            data: default_data_dir(),
            templates: default_templates_dir(),
            max_file_bytes: None,
            max_included_bytes: None,
            max_steps: None,
            require_sources: false,
            strict_links: false,
        }
    }
}

fn default_language() -> String {
    "en".into()
}
fn default_src() -> PathBuf {
    "src".into()
}
fn default_build_dir() -> PathBuf {
    "book".into()
}
fn default_data_dir() -> PathBuf {
    "data".into()
}
fn default_templates_dir() -> PathBuf {
    "templates".into()
}

/// Every valid key per table, for "did you mean" on an unknown one.
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "book",
            "build",
            "calcbook",
            "output",
            "preprocessor",
            "rust",
        ],
    ),
    (
        "book",
        &[
            "title",
            "authors",
            "description",
            "language",
            "src",
            "multilingual",
            "text-direction",
        ],
    ),
    (
        "build",
        &[
            "build-dir",
            "create-missing",
            "use-default-preprocessors",
            "extra-watch-dirs",
        ],
    ),
    (
        "calcbook",
        &[
            "data",
            "templates",
            "max-file-bytes",
            "max-included-bytes",
            "max-steps",
            "strict-links",
        ],
    ),
];

/// Parses `book.toml` text. Errors point at the offending key in `file`.
pub fn parse(text: &str, file: &str) -> Result<(Config, Vec<Diagnostic>), Diagnostic> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let message = e.message().trim().to_string();
        let mut diag = Diagnostic::error(
            Code::BadConfig,
            format!("invalid {file}: {}", first_line(&message)),
        )
        .with_file(file);
        if let Some(span) = e.span() {
            diag = diag.with_span(span);
        }
        if let Some(key) = unknown_field(&message) {
            diag.message = format!("unknown key `{key}` in {file}");
            diag.label = Some("not a key calcbook knows".into());
            let table = table_of(text, diag.span.as_ref().map_or(0, |s| s.start));
            let candidates = KNOWN_KEYS
                .iter()
                .find(|(t, _)| *t == table)
                .map(|(_, keys)| *keys)
                .unwrap_or(&[]);
            match did_you_mean(&key, candidates.iter().copied()) {
                Some(best) => diag = diag.with_help(format!("did you mean `{best}`?")),
                None if !candidates.is_empty() => {
                    diag = diag.with_help(format!("valid keys here: {}", candidates.join(", ")))
                }
                None => {}
            }
        }
        diag
    })?;
    let mut warnings = Vec::new();
    for name in config.preprocessor.keys() {
        // `calcbook` is this tool run by mdBook (`calcbook preprocess`): the same notebook.
        if !matches!(name.as_str(), "index" | "links" | "calcbook") {
            warnings.push(
                Diagnostic::warning(
                    Code::UnsupportedPreprocessor,
                    format!("preprocessor `{name}` is not run by calcbook"),
                )
                .with_file(file)
                .with_span(find_span(text, &format!("preprocessor.{name}")))
                .with_help("calcbook evaluates calc, chart and table blocks itself; other preprocessors are mdBook plugins"),
            );
        }
    }
    for name in config.output.keys().filter(|n| *n != "html") {
        warnings.push(
            Diagnostic::warning(
                Code::UnsupportedOutput,
                format!("output `{name}` is not written by calcbook"),
            )
            .with_file(file)
            .with_span(find_span(text, &format!("output.{name}")))
            .with_help("calcbook writes the HTML book only; other outputs are mdBook renderers"),
        );
    }
    if let Err(message) = super::html_config::HtmlConfig::from_output(&config.output) {
        warnings.push(
            Diagnostic::warning(
                Code::BadHtmlConfig,
                format!("[output.html] cannot be read ({message}); its defaults are used"),
            )
            .with_file(file)
            .with_span(find_span(text, "output.html")),
        );
    }
    Ok((config, warnings))
}

impl Config {
    /// The Markdown options of `[output.html]`, with `[rust] edition` for Rust blocks.
    pub fn markdown_options(&self) -> crate::render::markdown::MarkdownOptions {
        let mut options = self.html().markdown_options();
        options.edition = self
            .rust
            .as_ref()
            .and_then(|r| r.get("edition"))
            .and_then(|e| e.as_str())
            .map(str::to_string);
        options
    }

    /// The `[output.html]` keys calcbook honours (defaults where the table is absent or unreadable;
    /// [`parse`] reports an unreadable one).
    pub fn html(&self) -> super::html_config::HtmlConfig {
        super::html_config::HtmlConfig::from_output(&self.output).unwrap_or_default()
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// The key named in serde's "unknown field `x`, expected …" message.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    Some(rest.split('`').next()?.to_string())
}

/// Name of the `[table]` whose body contains byte `offset` ("" for the top level).
fn table_of(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    before
        .lines()
        .rev()
        .find_map(|line| {
            let line = line.trim();
            line.strip_prefix('[')
                .and_then(|l| l.strip_suffix(']'))
                .map(|t| t.trim().to_string())
        })
        .unwrap_or_default()
}

pub fn find_span(text: &str, needle: &str) -> std::ops::Range<usize> {
    text.find(needle)
        .map_or(0..0, |start| start..start + needle.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mdbook_book_section() {
        let (config, warnings) = parse(
            "[book]\ntitle = \"T\"\nauthors = [\"A\"]\nsrc = \"chapters\"\nlanguage = \"fr\"\n",
            "book.toml",
        )
        .unwrap();
        assert_eq!(config.book.title.as_deref(), Some("T"));
        assert_eq!(config.book.src, PathBuf::from("chapters"));
        assert_eq!(config.book.language, "fr");
        assert!(warnings.is_empty());
    }

    #[test]
    fn defaults_follow_mdbook() {
        let (config, _) = parse("", "book.toml").unwrap();
        assert_eq!(config.book.src, PathBuf::from("src"));
        assert_eq!(config.build.build_dir, PathBuf::from("book"));
        assert_eq!(config.book.language, "en");
    }

    #[test]
    fn unknown_key_is_located_and_gets_a_suggestion() {
        let text = "[book]\ntitle = \"T\"\nautors = [\"A\"]\n";
        let err = parse(text, "book.toml").unwrap_err();
        assert_eq!(err.message, "unknown key `autors` in book.toml");
        assert_eq!(err.help.as_deref(), Some("did you mean `authors`?"));
        assert_eq!(err.line_col(text).unwrap().0, 3);
    }

    #[test]
    fn mdbook_output_tables_are_accepted() {
        let text =
            "[book]\ntitle = \"T\"\n[output.html]\nmathjax-support = true\n[preprocessor.katex]\n";
        let (_, warnings) = parse(text, "book.toml").unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].code, "unsupported-preprocessor");
    }
}
