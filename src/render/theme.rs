//! The theme: Tera templates and static assets, built in and overridable file by file.
//!
//! The repository's `templates/` folder is the default theme; its files are embedded in the binary
//! so a book needs no templates of its own. A book's own templates folder (`templates/` unless
//! `[calcbook] templates` says otherwise) replaces any of them by name, and may add files: every
//! file under its `assets/` is copied to the output.

use crate::diagnostic::Code;
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
    ("claim.html", include_bytes!("../../templates/claim.html")),
    ("record.html", include_bytes!("../../templates/record.html")),
    (
        "pad_row.html",
        include_bytes!("../../templates/pad_row.html"),
    ),
    ("ledger.html", include_bytes!("../../templates/ledger.html")),
    (
        "ledger_row.html",
        include_bytes!("../../templates/ledger_row.html"),
    ),
    ("table.html", include_bytes!("../../templates/table.html")),
    (
        "calc_block.html",
        include_bytes!("../../templates/calc_block.html"),
    ),
    ("error.html", include_bytes!("../../templates/error.html")),
    ("figure.html", include_bytes!("../../templates/figure.html")),
    ("inline.html", include_bytes!("../../templates/inline.html")),
    ("traced.html", include_bytes!("../../templates/traced.html")),
    (
        "data_sources.html",
        include_bytes!("../../templates/data_sources.html"),
    ),
    (
        "contents.html",
        include_bytes!("../../templates/contents.html"),
    ),
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
    /// Output path (`assets/calcbook-3f2a9c1e.css`) → bytes.
    pub assets: BTreeMap<String, Vec<u8>>,
    /// Template name → text as written, to locate errors.
    texts: BTreeMap<String, String>,
    /// The templates folder relative to the book root, for diagnostics.
    folder: PathBuf,
    /// The default theme's stylesheet and scripts by name (`calcbook.css`) → their fingerprinted
    /// output paths (`assets/calcbook-3f2a9c1e.css`), which templates reach as `assets["calcbook.css"]`.
    /// A name that changes with the bytes means a redeployed book is never styled or scripted by a
    /// stale copy from a browser's cache.
    pub asset_paths: BTreeMap<String, String>,
    /// Changes whenever any template or asset does: a page rendered with an equal key and equal
    /// inputs is the same page.
    pub key: u64,
    /// The book's templates folder holds a template that is not the built-in one: only drawing
    /// the pages tests it.
    pub own_templates: bool,
    /// Cells' fragments as drawn, by template and view, where `serve` asked for it
    /// ([`Theme::remember_fragments`]).
    fragments: Option<FragmentMemo>,
}

/// Fragments drawn by [`Theme::draw`], under a 128-bit hash of the template, the view's name and
/// the view as JSON. Drawing is a pure function of those (the theme is fixed for the memo's life),
/// so a save that leaves most of a chapter's ~400 cells, rows and traced values as they were
/// (nearly every save) draws only the changed ones: templating them cost ~8 ms of the 25 ms a
/// save to the bundled book's largest chapter took to evaluate.
#[derive(Default)]
struct FragmentMemo {
    /// The fragments, and their bytes in all.
    drawn: std::sync::Mutex<(std::collections::HashMap<u128, std::sync::Arc<str>>, usize)>,
    seeds: (std::hash::RandomState, std::hash::RandomState),
}

/// Past this many bytes of fragments the memo starts again, so that serve's memory stays near a
/// build's (the chapter being edited draws a few hundred KB; whole cells that did not change are
/// kept apart, by `notebook::memo`, so this holds the parts of the cells that did).
const MAX_FRAGMENT_BYTES: usize = 512 << 10;

impl FragmentMemo {
    /// The view's key: its JSON streamed into two hashers, built neither as a value nor as text.
    fn key(&self, template: &str, name: &str, view: &impl serde::Serialize) -> Option<u128> {
        use std::hash::{BuildHasher, Hash, Hasher};
        struct Both<H>(H, H);
        impl<H: Hasher> std::io::Write for Both<H> {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.write(bytes);
                self.1.write(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut both = Both(self.seeds.0.build_hasher(), self.seeds.1.build_hasher());
        (template, name).hash(&mut both.0);
        (template, name).hash(&mut both.1);
        serde_json::to_writer(&mut both, view).ok()?;
        Some(((both.0.finish() as u128) << 64) | both.1.finish() as u128)
    }

    fn get(&self, key: u128) -> Option<std::sync::Arc<str>> {
        let drawn = (self.drawn.lock()).unwrap_or_else(std::sync::PoisonError::into_inner);
        drawn.0.get(&key).cloned()
    }

    fn put(&self, key: u128, html: &str) {
        let mut drawn = (self.drawn.lock()).unwrap_or_else(std::sync::PoisonError::into_inner);
        let (fragments, bytes) = &mut *drawn;
        if *bytes + html.len() > MAX_FRAGMENT_BYTES {
            fragments.clear();
            *bytes = 0;
        }
        *bytes += html.len();
        fragments.insert(key, html.into());
    }
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
        let mut own_templates = false;
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
                        // A template the same as the built-in one is not the book's own.
                        own_templates |= name.ends_with(".html")
                            && files.get(&name).is_none_or(|built_in| *built_in != bytes);
                        files.insert(name, bytes);
                    }
                    Err(e) => diags.push(
                        Diagnostic::error(
                            Code::UnreadableFile,
                            format!("cannot read template: {e}"),
                        )
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
        let mut asset_paths = BTreeMap::new();
        let mut key = Fnv::default();
        for (name, bytes) in files {
            key.write(name.as_bytes());
            key.write(&bytes);
            if let Some(fingerprinted) = fingerprinted_name(&name, &bytes) {
                asset_paths.insert(name["assets/".len()..].to_string(), fingerprinted.clone());
                assets.insert(fingerprinted, bytes);
            } else if name.starts_with("assets/") {
                assets.insert(name, bytes);
            } else if name.ends_with(".html") {
                let Ok(text) = String::from_utf8(bytes) else {
                    diags.push(
                        Diagnostic::error(Code::InvalidUtf8, "template is not valid UTF-8")
                            .with_file(override_rel.join(&name)),
                    );
                    continue;
                };
                let text = crate::book::fs::normalize_newlines(text);
                match super::template_guard::instrument(&text) {
                    Ok(guarded) => templates.push((name.clone(), guarded)),
                    Err(span) => diags.push(
                        Diagnostic::error(
                            Code::Template,
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
            asset_paths,
            key: key.0,
            own_templates,
            fragments: None,
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

    /// The default theme alone, loaded once: it draws a standalone figure or table, and a cell
    /// whose template a book overrides with one that fails (the failure is reported).
    pub fn builtin() -> Option<&'static Theme> {
        static BUILTIN: std::sync::OnceLock<Option<Theme>> = std::sync::OnceLock::new();
        BUILTIN
            .get_or_init(|| Theme::load(Path::new(""), Path::new("templates")).ok())
            .as_ref()
    }

    /// Renders `template` under the guard's limits (see `template_guard`); an error is located
    /// in the template it concerns.
    /// From now on, [`Theme::draw`] keeps what it draws and draws an equal view once (`serve`,
    /// which draws a chapter again at every save).
    pub fn remember_fragments(&mut self) {
        self.fragments.get_or_insert_with(FragmentMemo::default);
    }

    /// `template` drawn with `view` as `name`: a cell's fragment. Failures are not kept.
    pub fn draw(
        &self,
        template: &str,
        name: &str,
        view: &impl serde::Serialize,
    ) -> Result<String, Diagnostic> {
        let key = (self.fragments.as_ref())
            .and_then(|memo| Some((memo, memo.key(template, name, view)?)));
        if let Some((memo, key)) = key
            && let Some(html) = memo.get(key)
        {
            return Ok(html.to_string());
        }
        let mut ctx = tera::Context::new();
        ctx.insert(name, view);
        let html = self.render(template, &ctx)?;
        if let Some((memo, key)) = key {
            memo.put(key, &html);
        }
        Ok(html)
    }

    pub fn render(&self, template: &str, ctx: &tera::Context) -> Result<String, Diagnostic> {
        super::template_guard::render(&self.tera, template, ctx).map_err(|e| self.error(&e))
    }

    fn error(&self, e: &tera::Error) -> Diagnostic {
        let (name, span, message) = super::template_guard::locate(e, &self.texts);
        let mut diag = Diagnostic::error(Code::Template, message)
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
        .filter(|d| d.code == Code::Template && d.span.is_some())
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

/// `assets/calcbook.css` → `assets/calcbook-3f2a9c1e.css` for the default theme's stylesheets
/// and scripts (whoever overrides them); a book's own extra assets keep their names, since its
/// templates name them.
fn fingerprinted_name(name: &str, bytes: &[u8]) -> Option<String> {
    let is_default = DEFAULT_FILES.iter().any(|(n, _)| *n == name);
    let (stem, ext) = name.rsplit_once('.')?;
    if !is_default || !name.starts_with("assets/") || !matches!(ext, "css" | "js") {
        return None;
    }
    let mut hash = Fnv::default();
    hash.write(bytes);
    Some(format!(
        "{stem}-{:08x}.{ext}",
        hash.0 as u32 ^ (hash.0 >> 32) as u32
    ))
}

/// FNV-1a: a fingerprint that, unlike std's hasher, is the same on every Rust release.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn escape_html(input: &str) -> String {
    super::markdown::escape(input)
}

#[cfg(test)]
mod fragment_tests {
    use super::*;

    fn errors(text: &str) -> serde_json::Value {
        serde_json::json!([{ "text": text }])
    }

    #[test]
    fn a_remembered_fragment_is_drawn_once_and_reads_as_drawn() {
        let plain = Theme::load(Path::new(""), Path::new("")).unwrap();
        let mut memo = Theme::load(Path::new(""), Path::new("")).unwrap();
        memo.remember_fragments();
        let first = memo.draw("error.html", "errors", &errors("a < b")).unwrap();
        assert!(first.contains("a &lt; b"), "{first}");
        assert_eq!(
            first,
            plain
                .draw("error.html", "errors", &errors("a < b"))
                .unwrap()
        );
        let count = |t: &Theme| {
            t.fragments
                .as_ref()
                .map(|m| m.drawn.lock().unwrap().0.len())
        };
        assert_eq!(count(&memo), Some(1));
        assert_eq!(
            memo.draw("error.html", "errors", &errors("a < b")).unwrap(),
            first
        );
        assert_eq!(count(&memo), Some(1));
        // Another view, or the same view under another name, is drawn anew.
        let other = memo.draw("error.html", "errors", &errors("c")).unwrap();
        assert!(other.contains('c') && !other.contains("a &lt; b"));
        assert_eq!(count(&memo), Some(2));
        assert_eq!(count(&plain), None);
    }
}
