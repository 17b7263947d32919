//! The theme: Tera templates and static assets, built in and overridable file by file.
//!
//! The repository's `templates/` folder is the default theme; its files are embedded in the binary
//! so a book needs no templates of its own. A book's own templates folder (`templates/` unless
//! `[calcbook] templates` says otherwise) replaces any of them by name, and may add files: every
//! file under its `assets/` is copied to the output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::diagnostic::Diagnostic;

/// The default theme files, as (path under `templates/`, contents).
pub const DEFAULT_FILES: &[(&str, &[u8])] = &[
    ("page.html", include_bytes!("../../templates/page.html")),
    ("print.html", include_bytes!("../../templates/print.html")),
    ("404.html", include_bytes!("../../templates/404.html")),
    ("macros.html", include_bytes!("../../templates/macros.html")),
    (
        "assets/calcbook.css",
        include_bytes!("../../templates/assets/calcbook.css"),
    ),
    (
        "assets/calcbook.js",
        include_bytes!("../../templates/assets/calcbook.js"),
    ),
    (
        "assets/highlight.min.js",
        include_bytes!("../../templates/assets/highlight.min.js"),
    ),
    (
        "assets/highlight.LICENSE.txt",
        include_bytes!("../../templates/assets/highlight.LICENSE.txt"),
    ),
];

/// The theme of one book: compiled templates plus the asset files to copy.
pub struct Theme {
    pub tera: tera::Tera,
    /// Output path (`assets/x.css`) → bytes.
    pub assets: BTreeMap<String, Vec<u8>>,
    /// Template name → text as written, to locate errors.
    texts: BTreeMap<String, String>,
    /// The templates folder relative to the book root, for diagnostics.
    folder: PathBuf,
}

impl Theme {
    /// Loads the default theme with the overrides found in `override_dir` (if it exists).
    /// `override_rel` names that folder in diagnostics.
    pub fn load(override_dir: &Path, override_rel: &Path) -> Result<Theme, Vec<Diagnostic>> {
        let mut files: BTreeMap<String, Vec<u8>> = DEFAULT_FILES
            .iter()
            .map(|(name, bytes)| (name.to_string(), bytes.to_vec()))
            .collect();
        let mut diags = Vec::new();
        if override_dir.is_dir() {
            for entry in WalkDir::new(override_dir)
                .sort_by_file_name()
                .into_iter()
                .flatten()
            {
                if !entry.file_type().is_file() {
                    continue;
                }
                let Ok(rel) = entry.path().strip_prefix(override_dir) else {
                    continue;
                };
                let name = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                // Through `book::fs`: inside the templates folder (no symlink out), a regular
                // file, within the size limit.
                let limit = crate::book::fs::limits().max_file_bytes;
                match crate::book::fs::read_bytes(override_dir, rel, limit) {
                    Ok(bytes) => {
                        files.insert(name, bytes);
                    }
                    Err(e) => diags.push(
                        Diagnostic::error("unreadable-file", format!("cannot read template: {e}"))
                            .with_file(override_rel.join(rel)),
                    ),
                }
            }
        }
        let mut tera = tera::Tera::default();
        // No `get_env`, a bounded `range`, and the recursion/loop guard.
        super::template_guard::sandbox(&mut tera);
        tera.autoescape_on(vec![".html"]);
        // Tera's default escaper also escapes `/`, which is valid but turns every relative link
        // into `..&#x2F;x.html`; `&<>"'` is all HTML needs.
        tera.set_escape_fn(escape_html);
        let mut templates = Vec::new();
        let mut texts = BTreeMap::new();
        let mut assets = BTreeMap::new();
        for (name, bytes) in files {
            if name.starts_with("assets/") {
                assets.insert(name, bytes);
            } else if name.ends_with(".html") {
                let Ok(text) = String::from_utf8(bytes) else {
                    diags.push(
                        Diagnostic::error("invalid-utf8", "template is not valid UTF-8")
                            .with_file(override_rel.join(&name)),
                    );
                    continue;
                };
                let text = crate::book::fs::normalize_newlines(text);
                match super::template_guard::instrument(&text) {
                    Ok(guarded) => templates.push((name.clone(), guarded)),
                    Err(span) => diags.push(
                        Diagnostic::error(
                            "template",
                            format!(
                                "brackets in this tag nest deeper than {}",
                                super::template_guard::MAX_NESTING
                            ),
                        )
                        .with_file(override_rel.join(&name))
                        .with_span(span),
                    ),
                }
                texts.insert(name, text);
            }
        }
        let theme = Theme {
            tera: tera::Tera::default(),
            assets,
            texts,
            folder: override_rel.to_path_buf(),
        };
        if diags.is_empty()
            && let Err(e) = tera.add_raw_templates(templates)
        {
            diags.push(theme.error(&e));
        }
        if diags.is_empty() {
            Ok(Theme { tera, ..theme })
        } else {
            Err(diags)
        }
    }

    /// Renders `template` under the guard's limits (see `template_guard`); an error is located
    /// in the template it concerns.
    pub fn render(&self, template: &str, ctx: &tera::Context) -> Result<String, Diagnostic> {
        super::template_guard::render(&self.tera, template, ctx).map_err(|e| self.error(&e))
    }

    fn error(&self, e: &tera::Error) -> Diagnostic {
        let (name, span, message) = super::template_guard::locate(e, &self.texts);
        let mut diag = Diagnostic::error("template", message)
            .with_help("the default templates are in calcbook's repository under templates/");
        diag.file = Some(match &name {
            Some(name) => self.folder.join(name),
            None => self.folder.clone(),
        });
        diag.span = span;
        diag
    }
}

/// Adds to `sources` the text of each template that a diagnostic in `diags` points into, so that
/// the report shows the line. A template the book does not override is the built-in one.
pub fn attach_sources(
    diags: &[Diagnostic],
    override_dir: &Path,
    override_rel: &Path,
    sources: &mut crate::diagnostic::Sources,
) {
    for diag in diags
        .iter()
        .filter(|d| d.code == "template" && d.span.is_some())
    {
        let Some(file) = &diag.file else { continue };
        let Ok(name) = file.strip_prefix(override_rel) else {
            continue;
        };
        if sources.get(file).is_some() {
            continue;
        }
        let text = crate::book::fs::read_text(override_dir, name)
            .ok()
            .or_else(|| {
                let wanted = name.to_string_lossy().replace('\\', "/");
                DEFAULT_FILES
                    .iter()
                    .find(|(n, _)| *n == wanted)
                    .map(|(_, b)| {
                        crate::book::fs::normalize_newlines(String::from_utf8_lossy(b).into_owned())
                    })
            });
        if let Some(text) = text {
            sources.insert(file, text);
        }
    }
}

fn escape_html(input: &str) -> String {
    super::markdown::escape(input)
}
