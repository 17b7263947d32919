//! Drawing a chapter's evaluated cells ([`super::CellResult`]) through the theme's templates:
//! a calc block by `calc_block.html` (its rows by `pad_row.html`, records by `record.html`, claim
//! boxes by `claim.html`, errors by the `error_box` macro), a chart's figure around its SVG by
//! `figure.html`, a table by `table.html`, an inline value by `inline.html` and a chart's or
//! table's errors by `error.html`. Each template gets a serializable view; values are traced
//! ([`super::trace`]) here, so the ids of their cards follow document order.
//!
//! A book's override of a template that fails to draw is reported, and the built-in template
//! draws the cell instead.
//!
//! Some HTML is still made here, as a highlighter's output is (mdBook's too): a calc block's
//! source lines, syntax-highlighted with their data names linked, and a row's `= value` around
//! its traced button. Everything else reaches the templates as data (the claim's data list as
//! `c.data`, the `claim_data` macro), or as HTML one template drew for another (rows, boxes).

use serde::Serialize;

use crate::calc::{self, OutputKind};
use crate::diagnostic::{self, Diagnostic};
use crate::html::escape;
use crate::render::Theme;

use super::super::pad;
use super::super::trace::{self, Trace};
use super::{CalcCell, CellResult, ChapterNotebook, ChartCell, ClaimRecord, InlineCell, TableCell};
use super::{from_text, page_stem};

/// A diagnostic shown in place of a cell's output (`error.html`, the `error_box` macro).
#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    /// `error` or `warning`.
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    /// The diagnostic as the terminal shows it (no colour): location, excerpt, labels, help.
    pub text: String,
}

/// An inline value as `inline.html` draws it.
#[derive(Debug, Clone, Serialize)]
pub struct InlineView {
    /// The value evaluated; else `error` says why.
    pub ok: bool,
    /// The expression as written.
    pub expr: String,
    /// The value as a traced button with its card (HTML); empty on error.
    pub value: String,
    /// The data figures behind the value, for a tooltip (`— from data/x.yaml:3 (…)`); may be empty.
    pub from: String,
    pub error: String,
}

/// A calc block as `calc_block.html` draws it: runs of pad rows, claim boxes and errors.
#[derive(Debug, Clone, Serialize)]
struct CalcBlockView {
    block: usize,
    hidden: bool,
    /// A folded block opens by itself when it has something to fix.
    open: bool,
    parts: Vec<PadPart>,
}

/// One piece of a calc block, in order.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum PadPart {
    /// Rows of the pad (each drawn by `pad_row.html`, HTML).
    Pad { rows: Vec<String> },
    /// A claim's box (drawn by `claim.html`, HTML).
    Claim { html: String },
    /// Diagnostics shown after the statement they belong to.
    Errors { errors: Vec<ErrorView> },
}

impl ChapterNotebook<'_> {
    /// A cell's result as HTML, drawn by `theme`'s templates.
    pub(super) fn paint(&mut self, theme: &Theme, cell: &CellResult) -> String {
        match cell {
            CellResult::Calc(c) => self.paint_calc(theme, c),
            CellResult::Chart(c) => self.paint_chart(theme, c),
            CellResult::Table(t) => self.paint_table(theme, t),
            CellResult::Inline(i) => self.paint_inline(theme, i),
        }
    }

    /// `template` drawn with `view` as `name`. When a book's override of it fails, the failure is
    /// reported and the built-in template draws it.
    fn draw(&mut self, theme: &Theme, template: &str, name: &str, view: &impl Serialize) -> String {
        match theme.draw(template, name, view) {
            Ok(html) => html,
            Err(d) => {
                self.diagnostics.push(d);
                Theme::builtin()
                    .and_then(|t| t.draw(template, name, view).ok())
                    .unwrap_or_default()
            }
        }
    }

    /// From this page to the site root: `""`, or `"../"` per folder.
    fn root(&self) -> String {
        "../".repeat(self.chapter.out_path.matches('/').count())
    }

    /// A page-unique id for the cell's next traced value: `v-basics-3-2` for the second of block
    /// 3, `v-basics-i4-1` for inline value 4 (chapter-prefixed, so the print page, which joins
    /// every chapter, keeps them unique too).
    pub(super) fn next_trace_id(&mut self) -> String {
        self.traces += 1;
        format!(
            "v-{}-{}-{}",
            page_stem(&self.chapter.out_path).replace('/', "-"),
            self.trace_cell,
            self.traces
        )
    }

    fn paint_chart(&mut self, theme: &Theme, cell: &ChartCell) -> String {
        match &cell.result {
            Ok((chart, csv_name)) => {
                let view = crate::chart::figure_view(chart, cell.number, csv_name);
                self.draw(theme, "figure.html", "f", &view)
                    .trim()
                    .to_string()
                    + "\n"
            }
            Err(diags) => self.error_box(theme, diags),
        }
    }

    fn paint_table(&mut self, theme: &Theme, cell: &TableCell) -> String {
        match &cell.result {
            Ok(table) => {
                let view = crate::chart::table::table_view(table, cell.number);
                self.draw(theme, "table.html", "t", &view)
                    .trim()
                    .to_string()
                    + "\n"
            }
            Err(diags) => self.error_box(theme, diags),
        }
    }

    fn paint_inline(&mut self, theme: &Theme, cell: &InlineCell) -> String {
        let expr = cell.expr.as_str();
        let view = match &cell.result {
            Ok(v) => {
                let trace = Trace {
                    id: self.next_trace_id(),
                    expr: Some(expr),
                    value: v.value.as_ref(),
                    data: trace::merge_refs(
                        trace::data_refs(expr, &self.data_records),
                        trace::figure_refs(&v.from),
                    ),
                    figures: &v.from,
                    root: &self.root(),
                };
                InlineView {
                    ok: true,
                    expr: expr.trim().to_string(),
                    value: self.traced(theme, &v.display, "calc-inline", &trace),
                    from: from_text(&v.from).trim_start().to_string(),
                    error: String::new(),
                }
            }
            Err(d) => InlineView {
                ok: false,
                expr: expr.trim().to_string(),
                value: String::new(),
                from: String::new(),
                error: d.message.clone(),
            },
        };
        self.draw(theme, "inline.html", "v", &view)
            .trim()
            .to_string()
    }

    /// `shown` as a button opening its trace card, drawn by `traced.html`.
    fn traced(&mut self, theme: &Theme, shown: &str, class: &str, trace: &Trace) -> String {
        let view = trace::trace_view(shown, class, trace, self.scope.registry());
        self.draw(theme, "traced.html", "t", &view)
            .trim()
            .to_string()
    }

    /// The diagnostics as the reader sees them in a cell's place (`error.html`).
    fn error_box(&mut self, theme: &Theme, diags: &[Diagnostic]) -> String {
        if diags.is_empty() {
            return String::new();
        }
        let views = self.error_views(diags);
        self.draw(theme, "error.html", "errors", &views)
            .trim()
            .to_string()
            + "\n"
    }

    fn error_views(&self, diags: &[Diagnostic]) -> Vec<ErrorView> {
        diags
            .iter()
            .map(|d| ErrorView {
                severity: if d.is_error() { "error" } else { "warning" },
                code: d.code.as_str(),
                message: d.message.clone(),
                text: self
                    .renderer
                    .render(std::slice::from_ref(d), false)
                    .trim_end()
                    .to_string(),
            })
            .collect()
    }

    /// A pad row, drawn by `pad_row.html`.
    fn row_html(&mut self, theme: &Theme, view: &pad::RowView) -> String {
        self.draw(theme, "pad_row.html", "r", view)
            .trim()
            .to_string()
            + "\n"
    }

    /// A record value's field list, drawn by `record.html`.
    fn record_html(&mut self, theme: &Theme, record: &calc::Record) -> String {
        let fields = pad::record_fields(record, self.scope.registry());
        self.draw(theme, "record.html", "fields", &fields)
            .trim()
            .to_string()
    }

    /// A claim's box, drawn by `claim.html`.
    fn claim_html(
        &mut self,
        theme: &Theme,
        c: &ClaimRecord,
        lhs: &str,
        rhs: &str,
        root: &str,
    ) -> String {
        let view = ClaimView {
            id: &c.id,
            holds: c.holds,
            verdict: c.verdict(),
            kind: c.kind.as_str(),
            words: crate::render::typography::smart(&c.words),
            lhs,
            op: &c.op,
            rhs,
            tolerance: c.tolerance.as_deref(),
            margin: c.margin.as_deref(),
            data: claim_data(c, root),
        };
        self.draw(theme, "claim.html", "c", &view)
            .trim()
            .to_string()
            + "\n"
    }

    /// A calc block drawn: each statement's row with its value, claims as boxes, errors after the
    /// statement they belong to, the whole by `calc_block.html`.
    fn paint_calc(&mut self, theme: &Theme, cell: &CalcCell) -> String {
        let body = cell.body.as_str();
        let output = &cell.output;
        // Lines of the block, with the output shown beside each statement's first line.
        let highlighted = calc::highlight_with(body, self.scope.registry());
        let lines: Vec<&str> = highlighted.split('\n').collect();
        let line_count = body.trim_end_matches('\n').split('\n').count();
        let mut plan = PadPlan::new(line_count);
        let body_lines = diagnostic::LineIndex::new(body);
        let root = self.root();
        for (stmt, record) in output.statements.iter().zip(&cell.claims) {
            let (first, last) = statement_lines(stmt, &body_lines, line_count);
            if last > first {
                plan.stmt_end[first] = Some(last);
            }
            let source = body.get(stmt.span.clone()).unwrap_or("");
            match &stmt.kind {
                OutputKind::Value { display, value }
                | OutputKind::Assignment { display, value, .. } => {
                    plan.shown[last] = Some(display.clone());
                    plan.from_at[last] = value.prov().map(from_text).unwrap_or_default();
                    // The records the statement names, then those it reaches through other
                    // names (its value's provenance).
                    let data = trace::merge_refs(
                        trace::data_refs(source, &self.data_records),
                        value.prov().map(trace::figure_refs).unwrap_or_default(),
                    );
                    plan.shown_trace[last] = Some((value.clone(), data));
                }
                OutputKind::Claim(_) => {
                    if let Some(record) = record {
                        let (lhs, rhs) = self.claim_sides(theme, record, source);
                        let html = self.claim_html(theme, record, &lhs, &rhs, &root);
                        plan.add_claim(html, first, last);
                    }
                }
                OutputKind::Error | OutputKind::Skipped { .. } => {
                    plan.error_lines[first] = matches!(stmt.kind, OutputKind::Error);
                    if let Some(record) = record {
                        let (lhs, rhs) = (escape(&record.lhs), escape(&record.rhs));
                        let html = self.claim_html(theme, record, &lhs, &rhs, &root);
                        plan.add_claim(html, first, last);
                    }
                }
                _ => {}
            }
        }
        // A diagnostic's line within the block, to show it right after that line.
        for (raw, located) in output.diagnostics.iter().zip(&cell.located) {
            let line = raw
                .span
                .as_ref()
                .map_or(0, |s| body_lines.line(s.start) - 1)
                .min(line_count.saturating_sub(1));
            if raw.is_error() {
                plan.error_lines[line] = true;
            }
            plan.errors_after[line].push(located.clone());
        }
        let view = CalcBlockView {
            block: cell.block,
            hidden: cell.hidden,
            open: cell.hidden && cell.located.iter().any(Diagnostic::is_error),
            parts: self.pad_parts(theme, body, &lines, &plan),
        };
        self.draw(theme, "calc_block.html", "b", &view)
            .trim()
            .to_string()
            + "\n"
    }

    /// The pieces of a block from its plan: runs of statement rows, claims as boxes, errors after
    /// the statement they belong to.
    fn pad_parts(
        &mut self,
        theme: &Theme,
        body: &str,
        lines: &[&str],
        plan: &PadPlan,
    ) -> Vec<PadPart> {
        let PadPlan {
            shown,
            from_at,
            shown_trace,
            error_lines,
            claim_at,
            claim_html,
            stmt_end,
            errors_after,
        } = plan;
        let line_count = shown.len();
        let root = self.root();
        let raw_lines: Vec<&str> = body.split('\n').collect();
        // Each line's source, highlighted, with its data entries linked.
        let src_lines: Vec<String> = (0..line_count)
            .map(|i| {
                let raw_line = raw_lines.get(i).copied().unwrap_or("");
                let line_refs = trace::data_refs(raw_line, &self.data_records);
                trace::link_data_names(lines.get(i).copied().unwrap_or(""), &line_refs, &root)
            })
            .collect();
        let mut parts = Vec::new();
        // The rows of the pad being filled, if one is open.
        let mut rows: Option<Vec<String>> = None;
        let close = |rows: &mut Option<Vec<String>>, parts: &mut Vec<PadPart>| {
            if let Some(rows) = rows.take() {
                parts.push(PadPart::Pad { rows });
            }
        };
        let mut last_claim = None;
        let mut i = 0;
        while i < line_count {
            if let Some(c) = claim_at[i] {
                close(&mut rows, &mut parts);
                if last_claim != Some(c) {
                    parts.push(PadPart::Claim {
                        html: claim_html[c].clone(),
                    });
                    last_claim = Some(c);
                }
                if !errors_after[i].is_empty() {
                    parts.push(PadPart::Errors {
                        errors: self.error_views(&errors_after[i]),
                    });
                }
                i += 1;
                continue;
            }
            // A statement's lines stay together in one row, its value after the last.
            let last = stmt_end[i].unwrap_or(i).max(i);
            let out = match (&shown[last], &shown_trace[last]) {
                (Some(s), Some((value, data))) => {
                    let trace = Trace {
                        id: self.next_trace_id(),
                        expr: None,
                        value: Some(value),
                        data: data.clone(),
                        figures: &[],
                        root: &root,
                    };
                    let label = match value {
                        calc::Value::Record(r) => format!("{{{} fields}}", r.fields.len()),
                        _ => s.clone(),
                    };
                    Some(format!(
                        "= {}",
                        self.traced(theme, &label, "calc-value", &trace)
                    ))
                }
                (Some(s), None) => Some(format!("= {}", escape(s))),
                _ => None,
            };
            let record = match &shown_trace[last] {
                Some((calc::Value::Record(r), _)) => Some(self.record_html(theme, r)),
                _ => None,
            };
            let row = pad::PadRow {
                lines: &src_lines[i..=last],
                raw: &raw_lines[i..=last.min(raw_lines.len().saturating_sub(1))],
                error: error_lines[i..=last].iter().any(|e| *e),
                out,
                from: from_at[last].clone(),
                record,
            };
            let row = self.row_html(theme, &pad::row_view(&row));
            rows.get_or_insert_with(Vec::new).push(row);
            let errors: Vec<Diagnostic> = errors_after[i..=last].concat();
            if !errors.is_empty() {
                close(&mut rows, &mut parts);
                parts.push(PadPart::Errors {
                    errors: self.error_views(&errors),
                });
            }
            i = last + 1;
        }
        close(&mut rows, &mut parts);
        parts
    }

    /// Both sides of a claim as traced values: the comparison as written, each side in base
    /// units, and the data entries the statement reads.
    fn claim_sides(&mut self, theme: &Theme, c: &ClaimRecord, source: &str) -> (String, String) {
        // `claim "words": lhs op rhs`: the comparison is what follows the quoted words.
        let comparison = source
            .find(&c.words)
            .map(|at| &source[at + c.words.len()..])
            .map(|rest| rest.trim_start_matches(['"', '”', '\'']).trim_start())
            .and_then(|rest| rest.strip_prefix(':'))
            .unwrap_or(source)
            .trim();
        let data = trace::merge_refs(
            trace::data_refs(source, &self.data_records),
            trace::figure_refs(&[c.lhs_from.as_slice(), c.rhs_from.as_slice()].concat()),
        );
        let dim = self
            .scope
            .registry()
            .parse_unit(&c.unit)
            .ok()
            .map(|(_, d)| d);
        let root = self.root();
        let mut side = |shown: &str, si: f64, figures: &[calc::Figure]| {
            let value = dim
                .clone()
                .filter(|_| si.is_finite())
                .map(|d| calc::Value::quantity(si, d));
            let trace = Trace {
                id: self.next_trace_id(),
                expr: Some(comparison),
                value: value.as_ref(),
                data: data.clone(),
                figures,
                root: &root,
            };
            self.traced(theme, shown, "claim-value", &trace)
        };
        let lhs = side(&c.lhs, c.lhs_value, &c.lhs_from);
        let rhs = side(&c.rhs, c.rhs_value, &c.rhs_from);
        (lhs, rhs)
    }
}

/// A claim's box as `claim.html` draws it (as `c`): its id, verdict and statement (text), both
/// sides as traced values (HTML), the tolerance, by how much a failing claim failed (`margin`),
/// and the data behind the sides (`data`, the `claim_data` macro).
#[derive(Debug, Clone, Serialize)]
struct ClaimView<'c> {
    id: &'c str,
    holds: bool,
    verdict: &'static str,
    kind: &'static str,
    words: String,
    lhs: &'c str,
    op: &'c str,
    rhs: &'c str,
    tolerance: Option<&'c str>,
    margin: Option<&'c str>,
    data: Vec<ClaimDataView>,
}

/// One data figure behind a claim's side, for the `claim_data` macro: the side (`left` or
/// `right`), `href` to its row on the data-sources page, its name (`file.entry.field`) and `at`,
/// the file and line it was read at.
#[derive(Debug, Clone, Serialize)]
struct ClaimDataView {
    side: &'static str,
    href: String,
    name: String,
    at: String,
}

/// The first and last line (from 0) of a block's statement among the block's `line_count` lines.
fn statement_lines(
    stmt: &calc::StatementOutput,
    body_lines: &diagnostic::LineIndex,
    line_count: usize,
) -> (usize, usize) {
    let first = stmt
        .line
        .saturating_sub(1)
        .min(line_count.saturating_sub(1));
    let last = body_lines
        .line(stmt.span.end.saturating_sub(1).max(stmt.span.start))
        .saturating_sub(1)
        .min(line_count.saturating_sub(1));
    (first, last)
}

impl CellResult {
    /// How many traced values the cell's drawing shows (each a card with an id, `v-…`), so that
    /// `check` knows those ids without drawing. It follows [`ChapterNotebook::paint_calc`]: both
    /// sides of each evaluated claim, then a value per pad row whose statement shows one (a
    /// debug build checks the two agree on every cell it draws).
    pub fn traced_values(&self) -> usize {
        match self {
            CellResult::Calc(cell) => cell.traced_values(),
            CellResult::Inline(InlineCell { result: Ok(_), .. }) => 1,
            _ => 0,
        }
    }
}

impl CalcCell {
    fn traced_values(&self) -> usize {
        let body = self.body.as_str();
        let line_count = body.trim_end_matches('\n').split('\n').count();
        let body_lines = diagnostic::LineIndex::new(body);
        let mut shown = vec![false; line_count];
        let mut in_claim = vec![false; line_count];
        let mut stmt_end = vec![None; line_count];
        let mut claim_sides = 0;
        for (stmt, record) in self.output.statements.iter().zip(&self.claims) {
            let (first, last) = statement_lines(stmt, &body_lines, line_count);
            if last > first {
                stmt_end[first] = Some(last);
            }
            match (&stmt.kind, record) {
                (OutputKind::Value { .. } | OutputKind::Assignment { .. }, _) => shown[last] = true,
                (OutputKind::Claim(_), Some(_)) => claim_sides += 2,
                _ => {}
            }
            let boxed = matches!(
                stmt.kind,
                OutputKind::Claim(_) | OutputKind::Error | OutputKind::Skipped { .. }
            );
            if boxed && record.is_some() {
                in_claim[first..=last.max(first)].fill(true);
            }
        }
        // The pad's rows, as `pad_parts` walks them.
        let mut rows_shown = 0;
        let mut i = 0;
        while i < line_count {
            if in_claim[i] {
                i += 1;
                continue;
            }
            let last = stmt_end[i].unwrap_or(i).max(i);
            rows_shown += usize::from(shown[last]);
            i = last + 1;
        }
        claim_sides + rows_shown
    }
}

/// The data a claim's sides were computed from, folded under the values: each figure linked to
/// its own row on the data-sources page (`root` leads from the page to the book's root).
fn claim_data(c: &ClaimRecord, root: &str) -> Vec<ClaimDataView> {
    let mut items = Vec::new();
    for (side, figs) in [("left", &c.lhs_from), ("right", &c.rhs_from)] {
        for f in figs {
            let (stem, anchor) = super::super::pages::figure_target(f);
            items.push(ClaimDataView {
                side,
                href: format!("{root}{}#{anchor}", super::super::pages::SOURCES_PATH),
                name: format!("{stem}.{}", f.path),
                at: format!("{}:{}", f.file, f.line),
            });
        }
    }
    items
}

/// What a calc block shows on each of its lines, gathered from its statements before the pad
/// is drawn.
struct PadPlan {
    shown: Vec<Option<String>>,
    /// The data figures behind each shown value, for its hover title.
    from_at: Vec<String>,
    shown_trace: Vec<Option<(calc::Value, Vec<trace::DataRef>)>>,
    error_lines: Vec<bool>,
    /// Statements that are claims render as boxes; their lines leave the pad.
    claim_at: Vec<Option<usize>>,
    claim_html: Vec<String>,
    /// The last line of the statement that starts on each line.
    stmt_end: Vec<Option<usize>>,
    /// Diagnostics to show right after each line.
    errors_after: Vec<Vec<Diagnostic>>,
}

impl PadPlan {
    /// A claim's box, standing for the lines `first..=last` of its statement.
    fn add_claim(&mut self, html: String, first: usize, last: usize) {
        self.claim_html.push(html);
        let index = self.claim_html.len() - 1;
        for slot in &mut self.claim_at[first..=last.max(first)] {
            *slot = Some(index);
        }
    }

    fn new(line_count: usize) -> Self {
        PadPlan {
            shown: vec![None; line_count],
            from_at: vec![String::new(); line_count],
            shown_trace: vec![None; line_count],
            error_lines: vec![false; line_count],
            claim_at: vec![None; line_count],
            claim_html: Vec::new(),
            stmt_end: vec![None; line_count],
            errors_after: vec![Vec::new(); line_count],
        }
    }
}
