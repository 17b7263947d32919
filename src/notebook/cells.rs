//! A chapter's cells, evaluated in document order in one calc scope; each cell's result is data
//! ([`CellResult`]) that the theme's templates draw (`cells/paint.rs`).
//!
//! [`ChapterNotebook`] is the [`CellHook`] the Markdown stage calls for each fenced block, inline
//! code span and prose text, in document order. Evaluation runs `calc` blocks in the chapter's
//! scope (values, claims, errors located in the chapter file), `chart` and `table` cells to their
//! points and rows (with each chart's CSV file), and `` `= expr` `` to a value. With a theme
//! ([`ChapterNotebook::with_theme`]) each result is then drawn at once by `paint` through its
//! template and replaces the cell in the page (in the same walk of the Markdown, not a second
//! one: a block is highlighted and its values traced against the scope as that block left it);
//! without one (`check`) the cells are only
//! evaluated: the page keeps them as code, and their results stay as data. Either way the claims,
//! diagnostics and the ids the cells give the page, which links may target, are collected: as
//! drawn (every id in the cell's HTML), or without a theme [`CellResult::anchors`] and the ids
//! of the traced values' cards the drawing would number.

use crate::diagnostic::Code;
use std::collections::HashMap;
use std::path::PathBuf;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use crate::book::Chapter;
use crate::calc::{self, OutputKind, Scope};
use crate::chart::{self, RefKind, RefTarget};
use crate::diagnostic::{self, Diagnostic, Sources};
use crate::render::markdown::CellHook;

use super::memo::{self, CellMemo};
use super::{ClaimKind, ClaimRecord, RootCause};
use std::collections::HashSet;

mod paint;

pub use paint::{ErrorView, InlineView};

/// What one cell evaluated to, in document order: data for a template to draw.
pub enum CellResult {
    Calc(CalcCell),
    Chart(ChartCell),
    Table(TableCell),
    Inline(InlineCell),
}

/// A `calc` block: its statements' outputs, its diagnostics, and the claims it makes.
pub struct CalcCell {
    pub body: String,
    /// Where the body starts in the (expanded) chapter text.
    pub offset: usize,
    /// ```` ```calc hidden ````: drawn folded.
    pub hidden: bool,
    /// The block's number in the chapter, from 1.
    pub block: usize,
    pub output: calc::BlockOutput,
    /// `output.diagnostics`, located in the chapter file (same order).
    pub located: Vec<Diagnostic>,
    /// The ledger's record of each statement that is a claim (evaluated or not), by statement.
    pub claims: Vec<Option<ClaimRecord>>,
}

/// A `chart` cell: its points, or the errors that stopped it.
pub struct ChartCell {
    /// The figure's number in the chapter, from 1.
    pub number: usize,
    /// The evaluated chart (boxed: it is the largest result) and the name of its CSV file beside
    /// the page.
    pub result: Result<(Box<chart::ResolvedChart>, String), Vec<Diagnostic>>,
}

/// A `table` cell: its rows, or the errors that stopped it.
pub struct TableCell {
    /// The table's number in the chapter, from 1.
    pub number: usize,
    pub result: Result<chart::ResolvedTable, Vec<Diagnostic>>,
}

/// An inline value `` `= expr` ``.
pub struct InlineCell {
    pub expr: String,
    pub result: Result<InlineValue, Diagnostic>,
}

/// An inline value that evaluated: as shown, as a value, and the data figures behind it.
pub struct InlineValue {
    pub display: String,
    pub value: Option<calc::Value>,
    pub from: Vec<calc::Figure>,
}

impl CellResult {
    /// Evaluated without a diagnostic or a failed or skipped statement: what it shows depends on
    /// nothing but its source and the scope (see [`super::memo`]).
    pub fn is_clean(&self) -> bool {
        match self {
            CellResult::Calc(c) => {
                c.located.is_empty()
                    && c.output.diagnostics.is_empty()
                    && (c.output.statements.iter())
                        .all(|s| !matches!(s.kind, OutputKind::Error | OutputKind::Skipped { .. }))
            }
            CellResult::Chart(c) => c.result.is_ok(),
            CellResult::Table(t) => t.result.is_ok(),
            CellResult::Inline(i) => i.result.is_ok(),
        }
    }

    /// The ids the cell's drawing gives the page (claim boxes, figures, tables), so that links to
    /// them can be checked without drawing it (`check`). The ids of its traced values' cards are
    /// numbered per cell from [`CellResult::traced_values`].
    pub fn anchors(&self) -> Vec<String> {
        match self {
            CellResult::Calc(c) => c.claims.iter().flatten().map(|r| r.id.clone()).collect(),
            CellResult::Chart(ChartCell {
                number,
                result: Ok((chart, _)),
            }) => chart::figure_ids(chart, *number),
            CellResult::Table(TableCell {
                number,
                result: Ok(table),
            }) => vec![table.anchor(*number)],
            _ => Vec::new(),
        }
    }
}

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
    /// The cells' results in document order, when they are not drawn (no theme).
    pub results: Vec<CellResult>,
    /// The ids the cells give the page, for links: those of the drawn HTML, or when the cells are
    /// only evaluated [`CellResult::anchors`].
    pub anchors: Vec<String>,
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
    /// Inline values so far.
    inlines: usize,
    /// The cell being drawn's part of its traced values' popover ids (its block's number, or
    /// `i` and its inline value's number), and how many it has numbered. Ids are numbered per
    /// cell, not per chapter, so a statement added to one block leaves the ids of the cells after
    /// it (links to them, and their drawings) as they were.
    trace_cell: String,
    traces: usize,
    /// Renders error boxes, indexing the chapter's lines once.
    renderer: diagnostic::Renderer<'a>,
    /// The book's theme, whose templates draw each cell; none: the cells are only evaluated.
    theme: Option<&'a crate::render::Theme>,
    /// Under `serve`: the cells drawn by the last render of this chapter, reused where unchanged.
    memo: Option<MemoRun>,
}

/// A render's use of a chapter's [`CellMemo`].
struct MemoRun {
    /// The cells drawn last time, taken as they are reused.
    old: CellMemo,
    /// The cells drawn or reused this time.
    new: CellMemo,
    /// What the chapter's calc statements so far defined.
    definitions: memo::Definitions,
    /// The key of the cell being evaluated.
    pending: Option<u128>,
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
            results: Vec::new(),
            anchors: Vec::new(),
            blocks: 0,
            figures: 0,
            tables: 0,
            refs: number_figures(&chapter.text),
            failed: HashMap::new(),
            data_records: HashSet::new(),
            inlines: 0,
            trace_cell: String::new(),
            traces: 0,
            renderer: diagnostic::Renderer::new(sources),
            theme: None,
            memo: None,
        }
    }

    /// Reuses the cells of `memo` (the last render's, see [`super::memo`]) that are unchanged,
    /// and keeps this render's drawn cells for [`ChapterNotebook::take_memo`].
    pub fn with_memo(mut self, memo: CellMemo) -> Self {
        self.memo = Some(MemoRun {
            new: memo.successor(),
            old: memo,
            definitions: memo::Definitions::default(),
            pending: None,
        });
        self
    }

    /// The cells this render drew or reused, for the next render of the chapter.
    pub fn take_memo(&mut self) -> Option<CellMemo> {
        self.memo.take().map(|run| run.new)
    }

    /// Keys the cell about to be evaluated (`kind` `info` over `body`, at `offset` in the expanded
    /// chapter), from what its drawing depends on (see [`super::memo`]).
    fn key_cell(&mut self, kind: &str, info: &str, body: &str, offset: usize) {
        if self.memo.is_none() {
            return;
        }
        let counters = (
            self.blocks,
            self.figures,
            self.tables,
            self.claims.len(),
            self.inlines,
        );
        let start = self.chapter.map.to_original(offset);
        let end = self.chapter.map.to_original(offset + body.len());
        let written = self.original.get(start..end.max(start)).unwrap_or("");
        let Some(run) = &mut self.memo else {
            return;
        };
        let mut key = memo::Key::default();
        let reads = run.definitions.reads(body);
        key.add(&(kind, info, body, written, counters, reads));
        run.pending = Some(key.finish());
    }

    /// Records what a calc block's statements defined, for the keys of the cells after it.
    fn note_definitions(&mut self, cell: &CalcCell) {
        let Some(run) = &mut self.memo else {
            return;
        };
        for stmt in &cell.output.statements {
            let text = cell.body.get(stmt.span.clone()).unwrap_or("");
            run.definitions.record(text, stmt.defines.as_deref());
        }
    }

    /// The drawing of `cell` kept under the pending key, if the cell evaluated cleanly.
    fn reuse_drawn(&mut self, cell: &CellResult) -> (Option<u128>, Option<String>) {
        let Some(run) = &mut self.memo else {
            return (None, None);
        };
        let Some(key) = run.pending.take().filter(|_| cell.is_clean()) else {
            return (None, None);
        };
        let Some(drawn) = run.old.take(key) else {
            return (Some(key), None);
        };
        self.anchors.extend(drawn.anchors.iter().cloned());
        let html = drawn.html.to_string();
        run.new.put(key, drawn);
        run.new.reused += 1;
        (Some(key), Some(html))
    }

    /// Draws each cell with this theme's templates (`calc_block.html`, `claim.html`, …), so a
    /// book's templates can restyle them.
    pub fn with_theme(mut self, theme: &'a crate::render::Theme) -> Self {
        self.theme = Some(theme);
        self
    }

    /// Links names of these data entries (`file.id`) to the data-sources page.
    pub fn with_data_records(mut self, records: HashSet<String>) -> Self {
        self.data_records = records;
        self
    }

    /// A cell's result drawn by the theme, or kept as data when there is none.
    fn finish(&mut self, cell: CellResult) -> Option<String> {
        self.trace_cell = match &cell {
            CellResult::Inline(_) => format!("i{}", self.inlines),
            _ => self.blocks.to_string(),
        };
        self.traces = 0;
        match self.theme {
            Some(theme) => {
                let (key, reused) = self.reuse_drawn(&cell);
                if reused.is_some() {
                    return reused;
                }
                let (diagnostics, anchors) = (self.diagnostics.len(), self.anchors.len());
                let html = self.paint(theme, &cell);
                // `check` numbers trace ids without drawing (below): a drawing that numbered
                // otherwise would make check accept links that the page does not hold.
                if self.traces != cell.traced_values() {
                    self.diagnostics.push(Diagnostic::warning(
                        Code::Internal,
                        format!(
                            "internal: a cell drew {} traced values where {} were counted;                              links to them may be checked wrongly",
                            self.traces,
                            cell.traced_values()
                        ),
                    ));
                }
                // The ids as drawn: with trace cards' and those a book's own templates add.
                crate::render::markdown::collect_html_ids(&html, &mut self.anchors);
                // A drawing that reported a problem (a book's template that failed) is not kept.
                if let (Some(key), Some(run)) = (key, &mut self.memo)
                    && self.diagnostics.len() == diagnostics
                {
                    let drawn = memo::DrawnCell {
                        html: html.as_str().into(),
                        anchors: self.anchors[anchors..].into(),
                    };
                    run.new.put(key, drawn);
                }
                Some(html)
            }
            None => {
                self.anchors.extend(cell.anchors());
                // The ids the drawing would number for the cell's traced values.
                for _ in 0..cell.traced_values() {
                    let id = self.next_trace_id();
                    self.anchors.push(id);
                }
                self.results.push(cell);
                None
            }
        }
    }

    fn evaluate_chart(&mut self, body: &str, offset: usize) -> ChartCell {
        self.figures += 1;
        let number = self.figures;
        let result =
            chart::parse_chart(body).and_then(|spec| chart::evaluate_chart(&spec, &self.scope));
        let result = match result {
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
                Ok((Box::new(resolved), csv_name))
            }
            Err(diags) => Err(self.cell_errors(diags, offset)),
        };
        ChartCell { number, result }
    }

    fn evaluate_table(&mut self, body: &str, offset: usize) -> TableCell {
        self.tables += 1;
        let number = self.tables;
        let result =
            chart::parse_table(body).and_then(|spec| chart::evaluate_table(&spec, &self.scope));
        TableCell {
            number,
            result: result.map_err(|diags| self.cell_errors(diags, offset)),
        }
    }

    /// Errors of a chart or table cell, located and collected for the build (they are shown in
    /// the cell's place). A cell that only uses a name whose definition failed shows why, but adds
    /// nothing to the report: the failed definition is its one root error.
    fn cell_errors(&mut self, diags: Vec<Diagnostic>, offset: usize) -> Vec<Diagnostic> {
        let located: Vec<Diagnostic> = diags.into_iter().map(|d| self.locate(d, offset)).collect();
        self.diagnostics.extend(
            located
                .iter()
                .filter(|d| d.code != Code::DependsOnFailed)
                .cloned(),
        );
        located
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

    /// Runs a calc block in the chapter's scope: each statement's output, the claims it makes
    /// (recorded for the ledger) and its diagnostics (collected for the build).
    fn evaluate_calc(&mut self, body: &str, offset: usize, hidden: bool) -> CalcCell {
        self.blocks += 1;
        let output = self.scope.run_block(body);
        let located: Vec<Diagnostic> = output
            .diagnostics
            .iter()
            .map(|d| self.locate(d.clone(), offset))
            .collect();
        let mut claims = Vec::with_capacity(output.statements.len());
        for stmt in &output.statements {
            let record = match &stmt.kind {
                OutputKind::Claim(result) => {
                    let record = self.claim_record(result, stmt, offset);
                    self.claims.push(record.clone());
                    Some(record)
                }
                OutputKind::Error | OutputKind::Skipped { .. } => {
                    let before = self.claims.len();
                    self.account_for_failure(stmt, &output, offset);
                    self.claims[before..].first().cloned()
                }
                _ => None,
            };
            claims.push(record);
        }
        self.diagnostics.extend(located.iter().cloned());
        CalcCell {
            body: body.to_string(),
            offset,
            hidden,
            block: self.blocks,
            output,
            located,
            claims,
        }
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

    fn evaluate_inline(&mut self, expr: &str, offset: usize) -> InlineCell {
        let (result, from) = calc::provenance::collect(|| self.scope.eval_inline(expr));
        let result = match result {
            Ok(display) => Ok(InlineValue {
                display,
                value: self.scope.eval_expr(expr).ok(),
                from,
            }),
            Err(d) => {
                let located = self.locate(d, offset);
                // A value that only uses a failed name adds nothing to the report: the failed
                // definition is its one root error.
                if located.code != Code::DependsOnFailed {
                    self.diagnostics.push(located.clone());
                }
                Err(located)
            }
        };
        InlineCell {
            expr: expr.to_string(),
            result,
        }
    }
}

impl CellHook for ChapterNotebook<'_> {
    fn fenced(&mut self, lang: &str, info: &str, body: &str, body_offset: usize) -> Option<String> {
        if matches!(lang, "calc" | "chart" | "table") {
            self.key_cell(lang, info, body, body_offset);
        }
        let cell = match lang {
            "calc" => {
                let cell = self.evaluate_calc(body, body_offset, is_hidden(info));
                self.note_definitions(&cell);
                CellResult::Calc(cell)
            }
            "chart" => CellResult::Chart(self.evaluate_chart(body, body_offset)),
            "table" => CellResult::Table(self.evaluate_table(body, body_offset)),
            _ => return None,
        };
        self.finish(cell)
    }

    fn text(&mut self, text: &str, offset: usize) -> Option<String> {
        if !text.contains("@fig:") && !text.contains("@tbl:") {
            return None;
        }
        match chart::resolve_refs(text, &self.refs) {
            // The links are drawn only on a page that draws its cells.
            Ok(html) => self.theme.map(|_| html),
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
        self.inlines += 1;
        self.key_cell("inline", "", rest.trim_start(), offset + lead);
        let cell = self.evaluate_inline(rest.trim_start(), offset + lead);
        self.finish(CellResult::Inline(cell))
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
