//! A chapter's cells, evaluated in document order in one calc scope, and rendered to HTML.
//!
//! [`ChapterNotebook`] is the [`CellHook`] the Markdown stage calls for each fenced block and inline
//! code span: `calc` blocks run in the chapter's scope and render as a calculator pad (each shown
//! value beside its line) with claim boxes; `` `= expr` `` renders the value inline. Errors are
//! located in the chapter file, rendered in place of the output, and collected for the build.

use crate::diagnostic::Code;
use std::collections::HashMap;
use std::path::PathBuf;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use crate::book::Chapter;
use crate::calc::{self, OutputKind, Scope};
use crate::chart::{self, RefKind, RefTarget};
use crate::diagnostic::{self, Diagnostic, Sources};
use crate::html::escape;
use crate::render::markdown::CellHook;

use super::pad;
use super::trace::{self, Trace};
use super::{ClaimKind, ClaimRecord, RootCause};
use std::collections::HashSet;

/// Evaluates one chapter's cells as the Markdown stage meets them.
pub struct ChapterNotebook<'a> {
    pub scope: Scope,
    chapter: &'a Chapter,
    /// The chapter file as written (for line numbers of claims).
    original: &'a str,
    pub claims: Vec<ClaimRecord>,
    pub diagnostics: Vec<Diagnostic>,
    /// Files to write beside the page (each chart's points as CSV), by output path.
    pub files: Vec<(String, Vec<u8>)>,
    blocks: usize,
    figures: usize,
    tables: usize,
    /// Figures and tables of the chapter by author id, numbered before rendering so prose may
    /// refer to one that comes later.
    refs: HashMap<String, RefTarget>,
    /// Names whose definition failed, with the root failure behind each (a name skipped because
    /// of another carries that one's root).
    failed: HashMap<String, RootCause>,
    /// Every data entry as `file.id`: names of these in calc link to the data-sources page.
    data_records: HashSet<String>,
    /// Traced values so far, for unique popover ids.
    traces: usize,
    /// Renders error boxes, indexing the chapter's lines once.
    renderer: diagnostic::Renderer<'a>,
    /// The book's theme: claim boxes are drawn by its `claim.html` (the `claim_box` macro).
    theme: Option<&'a crate::render::Theme>,
}

impl<'a> ChapterNotebook<'a> {
    pub fn new(scope: Scope, chapter: &'a Chapter, sources: &'a Sources) -> Self {
        let original = sources.get(&chapter.source).unwrap_or("");
        ChapterNotebook {
            scope,
            chapter,
            original,
            claims: Vec::new(),
            diagnostics: Vec::new(),
            files: Vec::new(),
            blocks: 0,
            figures: 0,
            tables: 0,
            refs: number_figures(&chapter.text),
            failed: HashMap::new(),
            data_records: HashSet::new(),
            traces: 0,
            renderer: diagnostic::Renderer::new(sources),
            theme: None,
        }
    }

    /// Draws claim boxes with this theme's `claim.html`, so a book's templates can restyle them.
    pub fn with_theme(mut self, theme: &'a crate::render::Theme) -> Self {
        self.theme = Some(theme);
        self
    }

    /// A pad row: the theme's `pad_row.html` when there is a theme (a template error is reported
    /// and the built-in row drawn instead), else the built-in row.
    fn row_html(&mut self, view: &pad::RowView) -> String {
        let Some(theme) = self.theme else {
            return pad::row_html(view);
        };
        let mut ctx = tera::Context::new();
        ctx.insert("r", view);
        match theme.render("pad_row.html", &ctx) {
            Ok(html) => html.trim().to_string() + "\n",
            Err(d) => {
                self.diagnostics.push(d);
                pad::row_html(view)
            }
        }
    }

    /// A record value's field list: the theme's `record.html` when there is a theme (a template
    /// error is reported and the built-in list drawn instead), else the built-in list.
    fn record_html(&mut self, record: &calc::Record) -> String {
        let reg = self.scope.registry();
        let Some(theme) = self.theme else {
            return pad::record_table(record, reg);
        };
        let mut ctx = tera::Context::new();
        ctx.insert("fields", &pad::record_fields(record, reg));
        match theme.render("record.html", &ctx) {
            Ok(html) => html.trim().to_string(),
            Err(d) => {
                self.diagnostics.push(d);
                pad::record_table(record, self.scope.registry())
            }
        }
    }

    /// A claim's box: the theme's `claim.html` when there is a theme (a template error is
    /// reported and the built-in box drawn instead), else the built-in box.
    fn claim_html(&mut self, c: &ClaimRecord, lhs: &str, rhs: &str, root: &str) -> String {
        let Some(theme) = self.theme else {
            return claim_box_with(c, lhs, rhs, root);
        };
        let mut ctx = tera::Context::new();
        ctx.insert(
            "c",
            &serde_json::json!({
                "id": c.id,
                "holds": c.holds,
                "verdict": c.verdict(),
                "kind": c.kind.as_str(),
                "words": crate::render::typography::smart(&c.words),
                "lhs": lhs,
                "op": c.op,
                "rhs": rhs,
                "tolerance": c.tolerance,
                "margin": c.margin,
                "data": claim_data(c, root),
            }),
        );
        match theme.render("claim.html", &ctx) {
            Ok(html) => html.trim().to_string() + "\n",
            Err(d) => {
                self.diagnostics.push(d);
                claim_box_with(c, lhs, rhs, root)
            }
        }
    }

    /// Links names of these data entries (`file.id`) to the data-sources page.
    pub fn with_data_records(mut self, records: HashSet<String>) -> Self {
        self.data_records = records;
        self
    }

    /// From this page to the site root: `""`, or `"../"` per folder.
    fn root(&self) -> String {
        "../".repeat(self.chapter.out_path.matches('/').count())
    }

    /// A page-unique id for the next traced value (chapter-prefixed, so the print page, which
    /// joins every chapter, keeps them unique too).
    fn next_trace_id(&mut self) -> String {
        self.traces += 1;
        format!(
            "v-{}-{}",
            page_stem(&self.chapter.out_path).replace('/', "-"),
            self.traces
        )
    }

    fn run_chart(&mut self, body: &str, offset: usize) -> String {
        self.figures += 1;
        let number = self.figures;
        let result =
            chart::parse_chart(body).and_then(|spec| chart::evaluate_chart(&spec, &self.scope));
        match result {
            Ok(resolved) => {
                let stem = page_stem(&self.chapter.out_path);
                let csv_name = format!("{stem}-fig-{number}.csv");
                let dir = self
                    .chapter
                    .out_path
                    .rsplit_once('/')
                    .map(|(d, _)| format!("{d}/"))
                    .unwrap_or_default();
                self.files.push((
                    format!("{dir}{csv_name}"),
                    chart::csv(&resolved).into_bytes(),
                ));
                chart::render_figure(&resolved, number, &csv_name)
            }
            Err(diags) => self.cell_errors(diags, offset),
        }
    }

    fn run_table(&mut self, body: &str, offset: usize) -> String {
        self.tables += 1;
        let number = self.tables;
        match chart::parse_table(body).and_then(|spec| chart::evaluate_table(&spec, &self.scope)) {
            Ok(table) => match self.theme {
                Some(theme) => {
                    let mut ctx = tera::Context::new();
                    ctx.insert("t", &chart::table::table_view(&table, number));
                    match theme.render("table.html", &ctx) {
                        Ok(html) => html.trim().to_string() + "\n",
                        Err(d) => {
                            self.diagnostics.push(d);
                            chart::render_table(&table, number)
                        }
                    }
                }
                None => chart::render_table(&table, number),
            },
            Err(diags) => self.cell_errors(diags, offset),
        }
    }

    /// Errors of a chart or table cell, shown in its place and collected for the build. A cell
    /// that only uses a name whose definition failed shows why, but adds nothing to the report:
    /// the failed definition is its one root error.
    fn cell_errors(&mut self, diags: Vec<Diagnostic>, offset: usize) -> String {
        let located: Vec<Diagnostic> = diags.into_iter().map(|d| self.locate(d, offset)).collect();
        let html = self.error_box(&located);
        self.diagnostics.extend(
            located
                .into_iter()
                .filter(|d| d.code != Code::DependsOnFailed),
        );
        html
    }

    /// The root failure behind statement `stmt` of a block that failed or was skipped, recorded
    /// for the name it defines; and, for a claim, its record as not evaluated.
    fn account_for_failure(
        &mut self,
        stmt: &calc::StatementOutput,
        output: &calc::BlockOutput,
        offset: usize,
    ) {
        let file_offset = self.chapter.map.to_original(offset + stmt.span.start);
        let (line, column) = diagnostic::line_col(self.original, file_offset);
        let here = |name: Option<String>, message: String| RootCause {
            name,
            file: PathBuf::from(&self.chapter.source),
            line,
            column,
            message,
        };
        let root = match &stmt.kind {
            OutputKind::Skipped { because } => self
                .failed
                .get(because)
                .cloned()
                .unwrap_or_else(|| here(Some(because.clone()), "its definition failed".into())),
            _ => {
                let message = output
                    .diagnostics
                    .iter()
                    .find(|d| {
                        d.is_error()
                            && d.span
                                .as_ref()
                                .is_some_and(|s| stmt.span.contains(&s.start))
                    })
                    .map_or_else(|| "it failed".to_string(), |d| d.message.clone());
                let name = if stmt.unevaluated_claim.is_some() {
                    None
                } else {
                    stmt.defines.clone()
                };
                here(name, message)
            }
        };
        if let Some(name) = &stmt.defines {
            self.failed.insert(name.clone(), root.clone());
        }
        if let Some((kind, words)) = &stmt.unevaluated_claim {
            let kind = match kind {
                calc::ClaimKind::Claim => ClaimKind::Claim,
                calc::ClaimKind::Refute => ClaimKind::Refute,
            };
            let id = format!("claim-{}", self.claims.len() + 1);
            self.claims.push(ClaimRecord::unevaluated(
                id,
                self.chapter,
                line,
                column,
                kind,
                words.clone(),
                root,
            ));
        }
    }

    /// Locates a diagnostic found at `offset` bytes into the expanded chapter text.
    fn locate(&self, diag: Diagnostic, offset: usize) -> Diagnostic {
        crate::render::site::locate(self.chapter, diag.offset(offset))
    }

    /// The diagnostic as the terminal shows it, for the page (no colour).
    fn rendered(&self, diag: &Diagnostic) -> String {
        self.renderer.render(std::slice::from_ref(diag), false)
    }

    fn error_box(&self, diags: &[Diagnostic]) -> String {
        let mut out = String::new();
        for d in diags {
            out.push_str("<div class=\"calc-error\"><pre>");
            out.push_str(&escape(self.rendered(d).trim_end()));
            out.push_str("</pre></div>\n");
        }
        out
    }

    fn run_calc(&mut self, body: &str, offset: usize) -> String {
        self.blocks += 1;
        let output = self.scope.run_block(body);
        let located: Vec<Diagnostic> = output
            .diagnostics
            .iter()
            .map(|d| self.locate(d.clone(), offset))
            .collect();

        // Lines of the block, with the output shown beside each statement's first line.
        let highlighted = calc::highlight_with(body, self.scope.registry());
        let lines: Vec<&str> = highlighted.split('\n').collect();
        let line_count = body.trim_end_matches('\n').split('\n').count();
        let mut plan = PadPlan::new(line_count);
        let PadPlan {
            shown,
            from_at,
            shown_trace,
            error_lines,
            claim_at,
            claim_html,
            stmt_end,
            errors_after,
        } = &mut plan;
        let body_lines = diagnostic::LineIndex::new(body);
        for stmt in &output.statements {
            let first = stmt
                .line
                .saturating_sub(1)
                .min(line_count.saturating_sub(1));
            let last = body_lines
                .line(stmt.span.end.saturating_sub(1).max(stmt.span.start))
                .saturating_sub(1)
                .min(line_count.saturating_sub(1));
            if last > first {
                stmt_end[first] = Some(last);
            }
            match &stmt.kind {
                OutputKind::Value { display, value }
                | OutputKind::Assignment { display, value, .. } => {
                    shown[last] = Some(display.clone());
                    from_at[last] = value.prov().map(from_text).unwrap_or_default();
                    let source = body.get(stmt.span.clone()).unwrap_or("");
                    // The records the statement names, then those it reaches through other
                    // names (its value's provenance).
                    let data = trace::merge_refs(
                        trace::data_refs(source, &self.data_records),
                        value.prov().map(trace::figure_refs).unwrap_or_default(),
                    );
                    shown_trace[last] = Some((value.clone(), data));
                }
                OutputKind::Claim(result) => {
                    let record = self.claim_record(result, stmt, offset);
                    let root = "../".repeat(self.chapter.out_path.matches('/').count());
                    let source = body.get(stmt.span.clone()).unwrap_or("");
                    let (lhs, rhs) = self.claim_sides(&record, source);
                    let html = self.claim_html(&record, &lhs, &rhs, &root);
                    claim_html.push(html);
                    let box_index = claim_html.len() - 1;
                    for slot in &mut claim_at[first..=last.max(first)] {
                        *slot = Some(box_index);
                    }
                    self.claims.push(record);
                }
                OutputKind::Error | OutputKind::Skipped { .. } => {
                    error_lines[first] = matches!(stmt.kind, OutputKind::Error);
                    let before = self.claims.len();
                    self.account_for_failure(stmt, &output, offset);
                    if let Some(record) = self.claims[before..].first().cloned() {
                        let root = "../".repeat(self.chapter.out_path.matches('/').count());
                        let (lhs, rhs) = (escape(&record.lhs), escape(&record.rhs));
                        let html = self.claim_html(&record, &lhs, &rhs, &root);
                        claim_html.push(html);
                        let box_index = claim_html.len() - 1;
                        for slot in &mut claim_at[first..=last.max(first)] {
                            *slot = Some(box_index);
                        }
                    }
                }
                _ => {}
            }
        }
        // A diagnostic's line within the block, to show it right after that line.
        for (raw, located) in output.diagnostics.iter().zip(&located) {
            let line = raw
                .span
                .as_ref()
                .map_or(0, |s| body_lines.line(s.start) - 1)
                .min(line_count.saturating_sub(1));
            if raw.is_error() {
                error_lines[line] = true;
            }
            errors_after[line].push(located.clone());
        }

        let html = self.render_pad(body, &lines, &plan);
        self.diagnostics.extend(located);
        html
    }

    /// The pad of a block from its plan: statements as rows, claims as boxes, errors after the
    /// statement they belong to.
    fn render_pad(&mut self, body: &str, lines: &[&str], plan: &PadPlan) -> String {
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
        let mut html = String::new();
        let mut pad_open = false;
        let mut last_claim = None;
        let mut i = 0;
        while i < line_count {
            if let Some(c) = claim_at[i] {
                if pad_open {
                    html.push_str("</div>\n");
                    pad_open = false;
                }
                if last_claim != Some(c) {
                    html.push_str(&claim_html[c]);
                    last_claim = Some(c);
                }
                if !errors_after[i].is_empty() {
                    html.push_str(&self.error_box(&errors_after[i]));
                }
                i += 1;
                continue;
            }
            if !pad_open {
                html.push_str(&format!(
                    "<div class=\"calc-block\" data-block=\"{}\">\n",
                    self.blocks
                ));
                pad_open = true;
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
                        trace::traced(&label, "calc-value", &trace, self.scope.registry())
                    ))
                }
                (Some(s), None) => Some(format!("= {}", escape(s))),
                _ => None,
            };
            let record = match &shown_trace[last] {
                Some((calc::Value::Record(r), _)) => Some(self.record_html(r)),
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
            let row = self.row_html(&pad::row_view(&row));
            html.push_str(&row);
            let errors: Vec<Diagnostic> = errors_after[i..=last].concat();
            if !errors.is_empty() {
                html.push_str("</div>\n");
                pad_open = false;
                html.push_str(&self.error_box(&errors));
            }
            i = last + 1;
        }
        if pad_open {
            html.push_str("</div>\n");
        }
        html
    }

    /// The ledger's record of a claim that gave a verdict.
    fn claim_record(
        &self,
        result: &calc::ClaimResult,
        stmt: &calc::StatementOutput,
        offset: usize,
    ) -> ClaimRecord {
        let file_offset = self.chapter.map.to_original(offset + stmt.span.start);
        let (line, column) = diagnostic::line_col(self.original, file_offset);
        let kind = match result.kind {
            calc::ClaimKind::Claim => ClaimKind::Claim,
            calc::ClaimKind::Refute => ClaimKind::Refute,
        };
        ClaimRecord {
            id: format!("claim-{}", self.claims.len() + 1),
            chapter: self.chapter.title.clone(),
            page: self.chapter.out_path.clone(),
            file: PathBuf::from(&self.chapter.source),
            line,
            column,
            kind,
            words: result.words.clone(),
            lhs: result.lhs.clone(),
            op: result.op.clone(),
            rhs: result.rhs.clone(),
            tolerance: result.tolerance.clone(),
            lhs_value: result.lhs_si,
            rhs_value: result.rhs_si,
            unit: result.unit.clone(),
            holds: result.holds,
            margin: (!result.margin.is_empty()).then(|| result.margin.clone()),
            not_evaluated: None,
            lhs_from: result.lhs_from.clone(),
            rhs_from: result.rhs_from.clone(),
        }
    }

    /// Both sides of a claim as traced values: the comparison as written, each side in base
    /// units, and the data entries the statement reads.
    fn claim_sides(&mut self, c: &ClaimRecord, source: &str) -> (String, String) {
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
            trace::traced(shown, "claim-value", &trace, self.scope.registry())
        };
        let lhs = side(&c.lhs, c.lhs_value, &c.lhs_from);
        let rhs = side(&c.rhs, c.rhs_value, &c.rhs_from);
        (lhs, rhs)
    }

    fn inline_value(&mut self, expr: &str, offset: usize) -> String {
        let (result, from) = calc::provenance::collect(|| self.scope.eval_inline(expr));
        match result {
            Ok(display) => {
                let value = self.scope.eval_expr(expr).ok();
                let trace = Trace {
                    id: self.next_trace_id(),
                    expr: Some(expr),
                    value: value.as_ref(),
                    data: trace::merge_refs(
                        trace::data_refs(expr, &self.data_records),
                        trace::figure_refs(&from),
                    ),
                    figures: &from,
                    root: &self.root(),
                };
                let traced = trace::traced(&display, "calc-inline", &trace, self.scope.registry());
                match from_text(&from).trim_start() {
                    "" => traced,
                    // The data figures behind the value, for its tooltip.
                    t => format!(
                        "<span class=\"calc-from\" title=\"{}\">{traced}</span>",
                        escape(t)
                    ),
                }
            }
            Err(d) => {
                let located = self.locate(d, offset);
                let title = located.message.clone();
                // A value that only uses a failed name adds nothing to the report: the failed
                // definition is its one root error.
                if located.code != Code::DependsOnFailed {
                    self.diagnostics.push(located);
                }
                format!(
                    "<span class=\"calc-inline calc-inline--error\" title=\"{}\">⚠ {}</span>",
                    escape(&title),
                    escape(expr.trim())
                )
            }
        }
    }
}

impl CellHook for ChapterNotebook<'_> {
    fn fenced(&mut self, lang: &str, info: &str, body: &str, body_offset: usize) -> Option<String> {
        match lang {
            "calc" if is_hidden(info) => {
                let errors_before = self.diagnostics.len();
                let html = self.run_calc(body, body_offset);
                // A folded block opens by itself when it has something to fix.
                let open = if self.diagnostics[errors_before..]
                    .iter()
                    .any(Diagnostic::is_error)
                {
                    " open"
                } else {
                    ""
                };
                Some(format!(
                    "<details class=\"calc-details\"{open}><summary>Show the calculation</summary>\n{html}</details>\n"
                ))
            }
            "calc" => Some(self.run_calc(body, body_offset)),
            "chart" => Some(self.run_chart(body, body_offset)),
            "table" => Some(self.run_table(body, body_offset)),
            _ => None,
        }
    }

    fn text(&mut self, text: &str, offset: usize) -> Option<String> {
        if !text.contains("@fig:") && !text.contains("@tbl:") {
            return None;
        }
        match chart::resolve_refs(text, &self.refs) {
            Ok(html) => Some(html),
            Err(errors) => {
                for (span, message) in errors {
                    let d = Diagnostic::error(Code::UnknownReference, message)
                        .with_span(span)
                        .with_label("no figure or table with this id in the chapter")
                        .with_help("give the chart or table an `id:` and refer to it as `@fig:id` or `@tbl:id`");
                    let located = self.locate(d, offset);
                    self.diagnostics.push(located);
                }
                None
            }
        }
    }

    fn inline_code(&mut self, code: &str, offset: usize) -> Option<String> {
        // `= expr` is an inline value; `=` must be followed by a space so `==` stays code.
        let rest = code.strip_prefix('=')?;
        if !rest.starts_with(char::is_whitespace) {
            return None;
        }
        let lead = code.len() - rest.trim_start().len();
        Some(self.inline_value(rest.trim_start(), offset + lead))
    }
}

/// ` — from data/cars.yaml:3 (hatchback.battery), …` for a tooltip; empty without figures.
fn from_text(figs: &[calc::Figure]) -> String {
    if figs.is_empty() {
        String::new()
    } else {
        format!(" — from {}", super::figures_text(figs))
    }
}

/// The data a claim's sides were computed from, folded under the values: each figure linked to
/// its own row on the data-sources page (`root` leads from the page to the book's root).
fn claim_data(c: &ClaimRecord, root: &str) -> String {
    let mut items = String::new();
    for (side, figs) in [("left", &c.lhs_from), ("right", &c.rhs_from)] {
        for f in figs {
            let stem = std::path::Path::new(&*f.file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (entry, field) = f.path.split_once('.').unwrap_or((&f.path, ""));
            let anchor = match field {
                "" => format!("{stem}-{entry}"),
                field => super::pages::figure_anchor(&stem, entry, field),
            };
            items.push_str(&format!(
                "<li>{side}: <a href=\"{root}{sources}#{anchor}\"><code>{stem}.{path}</code></a> <span class=\"claim-data-at\">{file}:{line}</span></li>",
                sources = super::pages::SOURCES_PATH,
                anchor = escape(&anchor),
                stem = escape(&stem),
                path = escape(&f.path),
                file = escape(&f.file),
                line = f.line,
            ));
        }
    }
    if items.is_empty() {
        return String::new();
    }
    format!(
        "<details class=\"claim-data\"><summary>Computed from data</summary><ul>{items}</ul></details>"
    )
}

/// The box a claim renders as: the words, both sides, the verdict, and the data behind them.
pub fn claim_box(c: &ClaimRecord, root: &str) -> String {
    claim_box_with(c, &escape(&c.lhs), &escape(&c.rhs), root)
}

/// [`claim_box`] with each side given as HTML (a traced value).
pub fn claim_box_with(c: &ClaimRecord, lhs_html: &str, rhs_html: &str, root: &str) -> String {
    let class = if c.holds {
        "claim claim--holds"
    } else {
        "claim claim--fails"
    };
    let verdict = c.verdict();
    let tol = c
        .tolerance
        .as_ref()
        .map(|t| format!(" <span class=\"claim-tol\">± {}</span>", escape(t)))
        .unwrap_or_default();
    let margin = c
        .margin
        .as_ref()
        .map(|m| format!("<div class=\"claim-margin\">{}</div>", escape(m)))
        .unwrap_or_default()
        + &claim_data(c, root);
    format!(
        "<div class=\"{class}\" id=\"{id}\"><div class=\"claim-verdict\">{verdict}</div><div class=\"claim-kind\">{kind}</div><blockquote class=\"claim-words\">{words}</blockquote><div class=\"claim-values\"><span class=\"claim-lhs\">{lhs}</span> <span class=\"claim-op\">{op}</span> <span class=\"claim-rhs\">{rhs}</span>{tol}</div>{margin}</div>\n",
        id = escape(&c.id),
        kind = c.kind.as_str(),
        words = escape(&crate::render::typography::smart(&c.words)),
        lhs = lhs_html,
        op = escape(&c.op),
        rhs = rhs_html,
    )
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

/// ```` ```calc hidden ```` (or `hide`): evaluated as usual, shown folded.
fn is_hidden(info: &str) -> bool {
    info.split(|c: char| c.is_whitespace() || c == ',')
        .skip(1)
        .any(|w| w == "hidden" || w == "hide")
}

/// `part/batch.html` → `batch`.
fn page_stem(out_path: &str) -> &str {
    let file = out_path.rsplit('/').next().unwrap_or(out_path);
    file.strip_suffix(".html").unwrap_or(file)
}

/// Numbers the chapter's charts and tables in order and maps their ids to anchors, so that a
/// reference can precede its figure.
fn number_figures(text: &str) -> HashMap<String, RefTarget> {
    let mut refs = HashMap::new();
    if !text.contains("@fig:") && !text.contains("@tbl:") {
        return refs;
    }
    let (mut figures, mut tables) = (0, 0);
    let mut current: Option<(String, String)> = None;
    for event in Parser::new_ext(text, crate::render::markdown::options()) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let lang = info.split_whitespace().next().unwrap_or("").to_string();
                current = Some((lang, String::new()));
            }
            Event::Text(t) => {
                if let Some((_, body)) = &mut current {
                    body.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                let Some((lang, body)) = current.take() else {
                    continue;
                };
                let (kind, number, id) = match lang.as_str() {
                    "chart" => {
                        figures += 1;
                        let id = chart::parse_chart(&body)
                            .ok()
                            .and_then(|s| s.id.map(|t| t.text))
                            .or_else(|| raw_id(&body));
                        (RefKind::Figure, figures, id)
                    }
                    "table" => {
                        tables += 1;
                        let id = chart::parse_table(&body)
                            .ok()
                            .and_then(|s| s.id.map(|t| t.text))
                            .or_else(|| raw_id(&body));
                        (RefKind::Table, tables, id)
                    }
                    _ => continue,
                };
                if let Some(id) = id {
                    let prefix = if kind == RefKind::Figure {
                        "fig"
                    } else {
                        "tbl"
                    };
                    refs.insert(id.clone(), (kind, number, format!("#{prefix}-{id}")));
                }
            }
            _ => {}
        }
    }
    refs
}

/// The `id:` of a spec that does not parse, so that one error in a chart does not also make every
/// reference to it an error.
fn raw_id(body: &str) -> Option<String> {
    body.lines().find_map(|l| {
        let v = l.strip_prefix("id:")?.trim().trim_matches(['"', '\'']);
        (!v.is_empty()).then(|| v.to_string())
    })
}
