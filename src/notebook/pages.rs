//! Pages generated from the whole book rather than written by its author: the claims ledger (every
//! claim with its verdict and a link back) and the data-sources appendix (every figure of `data/`
//! with its source links).

use crate::html::escape;
use crate::render::GeneratedPage;
use crate::render::typography::smart;

use super::ClaimRecord;
use super::data::DataFile;

pub const LEDGER_PATH: &str = "claims.html";
pub const SOURCES_PATH: &str = "sources.html";

/// The data entries a claim's sides were computed from, linked to the data-sources page.
fn data_links(c: &ClaimRecord) -> String {
    let mut figures: Vec<&crate::calc::Figure> = c.lhs_from.iter().chain(&c.rhs_from).collect();
    if figures.is_empty() {
        return String::new();
    }
    figures.sort();
    figures.dedup();
    let links: Vec<String> = figures
        .iter()
        .map(|f| {
            let stem = std::path::Path::new(&*f.file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let anchor = match f.path.split_once('.') {
                Some((entry, field)) => figure_anchor(&stem, entry, field),
                None => format!("{stem}-{}", f.path),
            };
            format!(
                "<a href=\"{SOURCES_PATH}#{}\" title=\"{}:{}\"><code>{stem}.<wbr>{}</code></a>",
                escape(&anchor),
                escape(&f.file),
                f.line,
                crate::html::breakable_name(&f.path)
            )
        })
        .collect();
    format!("<div class=\"ledger-data\">from {}</div>", links.join(", "))
}

/// The claims ledger: one row per claim, failures first.
pub fn ledger(claims: &[ClaimRecord]) -> GeneratedPage {
    ledger_with(claims, None).0
}

/// [`ledger`] with each row drawn by the theme's `ledger_row.html` (the `ledger_row` macro), and
/// the errors of that template (each such row drawn built in instead).
pub fn ledger_with(
    claims: &[ClaimRecord],
    theme: Option<&crate::render::Theme>,
) -> (GeneratedPage, Vec<crate::diagnostic::Diagnostic>) {
    let mut diagnostics = Vec::new();
    let failing = claims.iter().filter(|c| !c.holds).count();
    let refutes = claims
        .iter()
        .filter(|c| c.kind == super::ClaimKind::Refute)
        .count();
    let mut html = String::from(
        "<h1 id=\"claims-ledger\"><a class=\"header\" href=\"#claims-ledger\">Claims ledger</a></h1>\n",
    );
    html.push_str(&format!(
        "<p>Every claim of the book, checked when the book was built: <strong>{}</strong> in all ({} claims, {} refutes), <strong>{}</strong> holding, <strong>{}</strong> failing. A <em>refute</em> quotes a statement the book’s numbers contradict: it shows “✓ refuted” while they do.</p>\n",
        claims.len(),
        claims.len() - refutes,
        refutes,
        claims.len() - failing,
        failing
    ));
    if claims.is_empty() {
        html.push_str("<p>This book makes no claims yet.</p>\n");
        return (page("Claims ledger", LEDGER_PATH, html), diagnostics);
    }
    // Grouped by chapter (a heading row per run of claims from one chapter), so the chapter is
    // not repeated on every row and the statements get the width.
    html.push_str("<div class=\"table-wrap\"><table class=\"ledger\">\n<thead><tr><th scope=\"col\">Verdict</th><th scope=\"col\">Statement</th><th scope=\"col\">Values</th></tr></thead>\n");
    let mut ordered: Vec<&ClaimRecord> = claims.iter().collect();
    ordered.sort_by_key(|c| c.holds);
    let mut group: Option<(bool, &str)> = None;
    for c in ordered {
        if group != Some((c.holds, c.page.as_str())) {
            if group.is_some() {
                html.push_str("</tbody>\n");
            }
            group = Some((c.holds, c.page.as_str()));
            html.push_str(&format!(
                "<tbody><tr class=\"ledger-chapter\"><th colspan=\"3\" scope=\"colgroup\"><a href=\"{page}\">{chapter}</a></th></tr>\n",
                page = escape(&c.page),
                chapter = escape(&c.chapter),
            ));
        }
        match theme.map(|t| t.render("ledger_row.html", &ledger_row_context(c))) {
            Some(Ok(row)) => {
                html.push_str(row.trim());
                html.push('\n');
            }
            Some(Err(d)) => {
                diagnostics.push(d);
                html.push_str(&ledger_row(c));
            }
            None => html.push_str(&ledger_row(c)),
        }
    }
    html.push_str("</tbody></table></div>\n");
    (page("Claims ledger", LEDGER_PATH, html), diagnostics)
}

/// What a ledger row shows, for `ledger_row.html`: `data` (the links to the data behind the
/// sides) is HTML already.
fn ledger_row_context(c: &ClaimRecord) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert(
        "c",
        &serde_json::json!({
            "holds": c.holds,
            "verdict": c.verdict(),
            "kind": c.kind.as_str(),
            "page": c.page,
            "id": c.id,
            "words": smart(&c.words),
            "lhs": c.lhs,
            "op": c.op,
            "rhs": c.rhs,
            "tolerance": c.tolerance,
            "cause": c.not_evaluated.as_ref().map(|cause| cause.to_string()),
            "data": data_links(c),
        }),
    );
    ctx
}

/// A ledger row without a theme: what `ledger_row.html` draws.
fn ledger_row(c: &ClaimRecord) -> String {
    let class = if c.holds {
        "verdict-holds"
    } else {
        "verdict-fails"
    };
    let verdict = c.verdict();
    // Each side stays on one line; the operator and tolerance may wrap between them.
    let mut values = format!(
        "<span class=\"ledger-side\">{}</span> {} <span class=\"ledger-side\">{}</span>",
        escape(&c.lhs),
        escape(&c.op),
        escape(&c.rhs)
    );
    if let Some(t) = &c.tolerance {
        values.push_str(&format!(
            " <span class=\"ledger-tol\">± {}</span>",
            escape(t)
        ));
    }
    if let Some(cause) = &c.not_evaluated {
        values = format!(
            "<span class=\"ledger-cause\">{}</span>",
            escape(&cause.to_string())
        );
    }
    values.push_str(&data_links(c));
    let kind = if c.kind == super::ClaimKind::Refute {
        "<span class=\"claim-kind\">refute</span> "
    } else {
        ""
    };
    format!(
        "<tr class=\"{row}\"><td class=\"{class}\">{verdict}</td><td class=\"ledger-words\">{kind}<a href=\"{page}#{id}\">{words}</a></td><td class=\"ledger-values\">{values}</td></tr>\n",
        row = if c.holds { "" } else { "fails" },
        page = escape(&c.page),
        id = escape(&c.id),
        words = escape(&smart(&c.words)),
    )
}

/// The data-sources appendix, generated from the loaded data files.
pub fn sources(files: &[DataFile]) -> GeneratedPage {
    let mut html = String::from(
        "<h1 id=\"data-sources\"><a class=\"header\" href=\"#data-sources\">Data sources</a></h1>\n<p>Every figure the book computes with comes from the files in <code>data/</code>. Each entry lists the figures as written and the pages they were read from; notes say where a figure is uncertain or sources disagree.</p>\n",
    );
    for file in files {
        html.push_str(&format!(
            "<h2 id=\"{n}\"><a class=\"header\" href=\"#{n}\"><code>{n}</code> ({f})</a></h2>\n",
            n = escape(&file.name),
            f = escape(&file.rel.display().to_string())
        ));
        for e in &file.entries {
            let anchor = format!("{}-{}", file.name, e.id);
            html.push_str(&format!(
                "<h3 id=\"{a}\"><a class=\"header\" href=\"#{a}\">{name}</a> <code>{file}.{id}</code></h3>\n",
                a = escape(&anchor),
                name = escape(&smart(&e.name)),
                file = escape(&file.name),
                id = escape(&e.id)
            ));
            if !e.figures.is_empty() {
                html.push_str("<div class=\"table-wrap\"><table class=\"data-table\"><tbody>\n");
                for (k, v) in &e.figures {
                    // Each figure is a target of its own (`#hardware-h100.hbm.bandwidth`), so a
                    // traced value or a claim links to the line it was read from.
                    html.push_str(&format!(
                        "<tr id=\"{}\"><td><code>{}</code></td><td class=\"num\">{}</td></tr>\n",
                        escape(&figure_anchor(&file.name, &e.id, k)),
                        crate::html::breakable_name(k),
                        escape(v)
                    ));
                }
                html.push_str("</tbody></table></div>\n");
            }
            // Each page once (figures often share one), one per line, without the scheme.
            let mut urls: Vec<&str> = Vec::new();
            for s in &e.sources {
                if !urls.contains(&s.as_str()) {
                    urls.push(s);
                }
            }
            if !urls.is_empty() {
                html.push_str("<div class=\"data-sources\"><span class=\"data-sources-label\">Sources</span><ul>\n");
                for u in urls {
                    let shown = u
                        .strip_prefix("https://")
                        .or_else(|| u.strip_prefix("http://"))
                        .unwrap_or(u);
                    html.push_str(&format!(
                        "<li><a href=\"{}\">{}</a></li>\n",
                        escape(u),
                        escape(shown.trim_end_matches('/'))
                    ));
                }
                html.push_str("</ul></div>\n");
            }
            for n in &e.notes {
                html.push_str(&format!(
                    "<p class=\"data-note\"><em>Note:</em> {}</p>\n",
                    escape(&smart(n))
                ));
            }
        }
    }
    page("Data sources", SOURCES_PATH, html)
}

/// The id of one figure's row on the data-sources page: `hardware-h100.hbm.bandwidth` for the
/// field `hbm.bandwidth` of entry `h100` in `hardware.yaml` (the entry's own id, then the path).
pub fn figure_anchor(file: &str, entry: &str, field: &str) -> String {
    format!("{file}-{entry}.{field}")
}

fn page(title: &str, path: &str, html: String) -> GeneratedPage {
    GeneratedPage {
        title: title.to_string(),
        path: path.to_string(),
        html,
    }
}
