//! Pages generated from the whole book rather than written by its author: the claims ledger (every
//! claim with its verdict and a link back) and the data-sources appendix (every figure of `data/`
//! with its source links), drawn by the theme's `ledger.html` (rows by `ledger_row.html`) and
//! `data_sources.html` from serializable views; the ids each page gives links are known from the
//! same data without drawing it ([`ledger_ids`], [`sources_ids`]).

use serde::Serialize;

use crate::html::escape;
use crate::render::typography::smart;
use crate::render::{GeneratedPage, Theme};

use super::ClaimRecord;
use super::data::DataFile;

pub const LEDGER_PATH: &str = "claims.html";
pub const SOURCES_PATH: &str = "sources.html";

/// A data figure's row on the data-sources page: the data file's stem and the row's id
/// (`hardware-h100.hbm.bandwidth`; an entry read whole is the entry's row, `hardware-h100`).
pub fn figure_target(f: &crate::calc::Figure) -> (String, String) {
    let stem = std::path::Path::new(&*f.file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let anchor = match f.path.split_once('.') {
        Some((entry, field)) => figure_anchor(&stem, entry, field),
        None => format!("{stem}-{}", f.path),
    };
    (stem, anchor)
}

/// One data figure behind a claim, as the ledger links it (`ledger_data` macro): `href` to its
/// row on the data-sources page, `at` the file and line it was read at, and `key_html` its name
/// (`file.entry.field`, HTML: free to break after each `.` and `_`).
#[derive(Debug, Serialize)]
struct LedgerDataView {
    href: String,
    at: String,
    key_html: String,
}

/// The data figures a claim's sides were computed from, each once, in order.
fn data_links(c: &ClaimRecord) -> Vec<LedgerDataView> {
    let mut figures: Vec<&crate::calc::Figure> = c.lhs_from.iter().chain(&c.rhs_from).collect();
    figures.sort();
    figures.dedup();
    (figures.into_iter())
        .map(|f| {
            let (stem, anchor) = figure_target(f);
            LedgerDataView {
                href: format!("{SOURCES_PATH}#{anchor}"),
                at: format!("{}:{}", f.file, f.line),
                key_html: format!(
                    "{}.<wbr>{}",
                    escape(&stem),
                    crate::html::breakable_name(&f.path)
                ),
            }
        })
        .collect()
}

/// The id of a claim's row on the ledger: the chapter's page and the claim's id on it
/// (`basics-claim-1` for `basics.html#claim-1`; a page in a folder joins with `-`).
pub fn ledger_anchor(c: &ClaimRecord) -> String {
    let stem = c.page.strip_suffix(".html").unwrap_or(&c.page);
    format!("{}-{}", stem.replace('/', "-"), c.id)
}

/// The ids of the claims ledger, from the claims it lists: its heading's and each row's.
pub fn ledger_ids(claims: &[ClaimRecord]) -> Vec<String> {
    std::iter::once("claims-ledger".to_string())
        .chain(claims.iter().map(ledger_anchor))
        .collect()
}

/// The claims ledger as `ledger.html` draws it (the `ledger` macro, as `l`): the counts, and the
/// claims grouped by chapter, failures first, each row drawn by `ledger_row.html` (HTML).
#[derive(Debug, Serialize)]
struct LedgerView {
    total: usize,
    claims: usize,
    refutes: usize,
    holding: usize,
    failing: usize,
    groups: Vec<LedgerGroup>,
}

/// A run of ledger rows from one chapter (failing or holding), under a heading row naming it.
#[derive(Debug, Serialize)]
struct LedgerGroup {
    page: String,
    chapter: String,
    rows: Vec<String>,
}

/// Ledger rows as drawn by one theme, by the claim's page and id, with the record each was drawn
/// from: under `serve`, a save that changes one claim's value draws that claim's row, not the
/// book's 131 (building, hashing and templating them all cost ~10 ms a save).
#[derive(Default)]
pub struct LedgerRows {
    rows: std::collections::HashMap<(String, String), (ClaimRecord, String)>,
}

/// The claims ledger: the page by the theme's `ledger.html`, one row per claim by its
/// `ledger_row.html`; and the errors of those templates (a book's override that fails is
/// reported, and the built-in template draws instead).
pub fn ledger_with(
    claims: &[ClaimRecord],
    theme: &Theme,
) -> (GeneratedPage, Vec<crate::diagnostic::Diagnostic>) {
    ledger_reusing(claims, theme, &mut LedgerRows::default())
}

/// As [`ledger_with`], taking from `kept` the rows of claims alike but for their place
/// ([`ClaimRecord::alike_but_for_place`]: a row shows no line) and keeping the rows drawn (those
/// drawn without an error) for the next time.
pub fn ledger_reusing(
    claims: &[ClaimRecord],
    theme: &Theme,
    kept: &mut LedgerRows,
) -> (GeneratedPage, Vec<crate::diagnostic::Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut rows = std::collections::HashMap::with_capacity(claims.len());
    let failing = claims.iter().filter(|c| !c.holds).count();
    let refutes = claims
        .iter()
        .filter(|c| c.kind == super::ClaimKind::Refute)
        .count();
    // Grouped by chapter (a heading row per run of claims from one chapter), so the chapter is
    // not repeated on every row and the statements get the width.
    let mut ordered: Vec<&ClaimRecord> = claims.iter().collect();
    ordered.sort_by_key(|c| c.holds);
    let mut groups: Vec<LedgerGroup> = Vec::new();
    let mut group: Option<(bool, &str)> = None;
    for c in ordered {
        if group != Some((c.holds, c.page.as_str())) {
            group = Some((c.holds, c.page.as_str()));
            groups.push(LedgerGroup {
                page: c.page.clone(),
                chapter: c.chapter.clone(),
                rows: Vec::new(),
            });
        }
        let key = (c.page.clone(), c.id.clone());
        let row = match kept.rows.remove(&key) {
            Some((was, row)) if was.alike_but_for_place(c) => row,
            _ => {
                let errors = diagnostics.len();
                let view = ledger_row_view(c);
                let row = draw(theme, "ledger_row.html", "c", &view, &mut diagnostics);
                let row = row.trim().to_string();
                if diagnostics.len() > errors {
                    if let Some(g) = groups.last_mut() {
                        g.rows.push(row);
                    }
                    continue;
                }
                row
            }
        };
        if let Some(g) = groups.last_mut() {
            g.rows.push(row.clone());
        }
        rows.insert(key, (c.clone(), row));
    }
    kept.rows = rows;
    let view = LedgerView {
        total: claims.len(),
        claims: claims.len() - refutes,
        refutes,
        holding: claims.len() - failing,
        failing,
        groups,
    };
    let html = draw(theme, "ledger.html", "l", &view, &mut diagnostics);
    (
        ledger_page(claims, html.trim().to_string() + "\n"),
        diagnostics,
    )
}

/// The ledger as drawn, with its ids: those its claims give it and any its templates add.
fn ledger_page(claims: &[ClaimRecord], html: String) -> GeneratedPage {
    let mut ids = ledger_ids(claims);
    crate::render::markdown::collect_html_ids(&html, &mut ids);
    page("Claims ledger", LEDGER_PATH, html, ids)
}

/// What a ledger row shows, for `ledger_row.html` (as `c`): the claim's verdict and statement
/// (text), a link back to its box (`page`, `id`), the row's own id (`anchor`), both sides, why it
/// could not be evaluated (`cause`), and the data figures behind the sides (`data`, the
/// `ledger_data` macro).
#[derive(Debug, Serialize)]
struct LedgerRowView<'c> {
    holds: bool,
    verdict: &'static str,
    kind: &'static str,
    page: &'c str,
    id: &'c str,
    anchor: String,
    words: String,
    lhs: &'c str,
    op: &'c str,
    rhs: &'c str,
    tolerance: Option<&'c str>,
    cause: Option<String>,
    data: Vec<LedgerDataView>,
}

fn ledger_row_view(c: &ClaimRecord) -> LedgerRowView<'_> {
    LedgerRowView {
        holds: c.holds,
        verdict: c.verdict(),
        kind: c.kind.as_str(),
        page: &c.page,
        id: &c.id,
        anchor: ledger_anchor(c),
        words: smart(&c.words),
        lhs: &c.lhs,
        op: &c.op,
        rhs: &c.rhs,
        tolerance: c.tolerance.as_deref(),
        cause: c.not_evaluated.as_ref().map(|cause| cause.to_string()),
        data: data_links(c),
    }
}

/// `template` drawn by `theme` with `view` as `name`; when a book's override of it fails, the
/// failure is reported and the built-in template draws it.
fn draw(
    theme: &Theme,
    template: &str,
    name: &str,
    view: &impl Serialize,
    diagnostics: &mut Vec<crate::diagnostic::Diagnostic>,
) -> String {
    let mut ctx = tera::Context::new();
    ctx.insert(name, view);
    theme.render(template, &ctx).unwrap_or_else(|d| {
        diagnostics.push(d);
        Theme::builtin()
            .and_then(|t| t.render(template, &ctx).ok())
            .unwrap_or_default()
    })
}

/// A page an entry was read from: its address, and as shown (without the scheme or a trailing
/// `/`).
#[derive(Debug, Serialize)]
struct SourceView {
    href: String,
    shown: String,
}

/// One figure's row on the data-sources page: its id, its key (HTML, free to break after each
/// `.` and `_`) and its value as written.
#[derive(Debug, Serialize)]
struct FigureView {
    anchor: String,
    key_html: String,
    value: String,
}

/// One data file on the data-sources page, for `data_sources.html`.
#[derive(Debug, Serialize)]
struct FileView {
    name: String,
    rel: String,
    entries: Vec<EntryView>,
}

/// One data entry: its anchor, name and id, its figures, the pages it was read from (each once,
/// shown without the scheme) and its notes. Text, but for each figure's `key_html` (free to break
/// after each `.` and `_`).
#[derive(Debug, Serialize)]
struct EntryView {
    anchor: String,
    name: String,
    id: String,
    figures: Vec<FigureView>,
    sources: Vec<SourceView>,
    notes: Vec<String>,
}

/// The data-sources appendix, generated from the loaded data files and drawn by the theme's
/// `data_sources.html` (the `data_sources` macro, with the files as `files`); and the errors of
/// that template.
pub fn sources(
    files: &[DataFile],
    theme: &Theme,
) -> (GeneratedPage, Vec<crate::diagnostic::Diagnostic>) {
    let files = file_views(files);
    let mut diagnostics = Vec::new();
    let html = draw(
        theme,
        "data_sources.html",
        "files",
        &files,
        &mut diagnostics,
    );
    let html = html.trim().to_string() + "\n";
    let mut ids = view_ids(&files);
    crate::render::markdown::collect_html_ids(&html, &mut ids);
    (page("Data sources", SOURCES_PATH, html, ids), diagnostics)
}

/// The ids of the data-sources page, from the data files it lists: its heading, each file's,
/// each entry's and each figure's row (`hardware-h100.hbm.bandwidth`).
pub fn sources_ids(files: &[DataFile]) -> Vec<String> {
    view_ids(&file_views(files))
}

fn view_ids(files: &[FileView]) -> Vec<String> {
    let mut ids = vec!["data-sources".to_string()];
    for file in files {
        ids.push(file.name.clone());
        for e in &file.entries {
            ids.push(e.anchor.clone());
            ids.extend(e.figures.iter().map(|f| f.anchor.clone()));
        }
    }
    ids
}

fn file_views(files: &[DataFile]) -> Vec<FileView> {
    files
        .iter()
        .map(|file| FileView {
            name: file.name.clone(),
            rel: file.rel.display().to_string(),
            entries: file
                .entries
                .iter()
                .map(|e| entry_view(&file.name, e))
                .collect(),
        })
        .collect()
}

fn entry_view(file: &str, e: &super::data::DataEntry) -> EntryView {
    // Each figure is a target of its own (`#hardware-h100.hbm.bandwidth`), so a traced value or a
    // claim links to the line it was read from.
    let figures = (e.figures.iter())
        .map(|(k, v)| FigureView {
            anchor: figure_anchor(file, &e.id, k),
            key_html: crate::html::breakable_name(k),
            value: v.to_string(),
        })
        .collect();
    let mut urls: Vec<&str> = Vec::new();
    for s in &e.sources {
        if !urls.contains(&s.as_str()) {
            urls.push(s);
        }
    }
    let sources = (urls.into_iter())
        .map(|u| {
            let shown = u
                .strip_prefix("https://")
                .or_else(|| u.strip_prefix("http://"))
                .unwrap_or(u);
            SourceView {
                href: u.to_string(),
                shown: shown.trim_end_matches('/').to_string(),
            }
        })
        .collect();
    EntryView {
        anchor: format!("{file}-{}", e.id),
        name: smart(&e.name),
        id: e.id.clone(),
        figures,
        sources,
        notes: e.notes.iter().map(|n| smart(n)).collect(),
    }
}

/// The id of one figure's row on the data-sources page: `hardware-h100.hbm.bandwidth` for the
/// field `hbm.bandwidth` of entry `h100` in `hardware.yaml` (the entry's own id, then the path).
pub fn figure_anchor(file: &str, entry: &str, field: &str) -> String {
    format!("{file}-{entry}.{field}")
}

fn page(title: &str, path: &str, html: String, mut ids: Vec<String>) -> GeneratedPage {
    ids.sort();
    ids.dedup();
    GeneratedPage {
        title: title.to_string(),
        path: path.to_string(),
        html,
        ids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_without_claims_says_so_and_has_no_table() {
        let theme = Theme::builtin().expect("built-in theme");
        let (page, diagnostics) = ledger_with(&[], theme);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert!(
            page.html
                .contains("<strong>0</strong> in all (0 claims, 0 refutes)"),
            "{}",
            page.html
        );
        assert!(
            page.html
                .ends_with("</p>\n<p>This book makes no claims yet.</p>\n"),
            "{}",
            page.html
        );
        assert!(!page.html.contains("<table"), "{}", page.html);
        assert_eq!(page.ids, vec!["claims-ledger"]);
    }

    #[test]
    fn a_kept_row_is_reused_for_a_claim_alike_but_for_its_place_and_redrawn_otherwise() {
        let theme = Theme::builtin().expect("built-in theme");
        let claims = vec![super::super::sample_claim()];
        let mut kept = LedgerRows::default();
        let (first, _) = ledger_reusing(&claims, theme, &mut kept);
        assert_eq!(first.html, ledger_with(&claims, theme).0.html);
        // Mark the kept row, to see whether the next ledger takes it.
        for (_, row) in kept.rows.values_mut() {
            *row = "<tr><td>KEPT</td></tr>".into();
        }
        let moved = vec![ClaimRecord {
            line: 40,
            ..claims[0].clone()
        }];
        let (page, _) = ledger_reusing(&moved, theme, &mut kept);
        assert!(
            page.html.contains("KEPT"),
            "a claim that only moved keeps its row"
        );
        let changed = vec![ClaimRecord {
            lhs: "3".into(),
            lhs_value: 3.0,
            holds: false,
            ..moved[0].clone()
        }];
        let (page, _) = ledger_reusing(&changed, theme, &mut kept);
        assert!(
            !page.html.contains("KEPT"),
            "a changed claim's row is drawn again"
        );
        assert_eq!(page.html, ledger_with(&changed, theme).0.html);
    }
}
