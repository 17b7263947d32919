//! A chapter's cells, evaluated in document order in one calc scope, and rendered to HTML.
//!
//! [`ChapterNotebook`] is the [`CellHook`] the Markdown stage calls for each fenced block and inline
//! code span: `calc` blocks run in the chapter's scope and render as a calculator pad (each shown
//! value beside its line) with claim boxes; `` `= expr` `` renders the value inline. Errors are
//! located in the chapter file, rendered in place of the output, and collected for the build.

use std::collections::HashMap;
use std::path::PathBuf;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use crate::book::Chapter;
use crate::calc::{self, OutputKind, Scope};
use crate::chart::{self, RefKind, RefTarget};
use crate::diagnostic::{self, Diagnostic, Sources};
use crate::render::markdown::{CellHook, escape};

use super::{ClaimKind, ClaimRecord};

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
    /// Renders error boxes, indexing the chapter's lines once.
    renderer: diagnostic::Renderer<'a>,
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
            renderer: diagnostic::Renderer::new(sources),
        }
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
            Ok(table) => chart::render_table(&table, number),
            Err(diags) => self.cell_errors(diags, offset),
        }
    }

    /// Errors of a chart or table cell, shown in its place and collected for the build.
    fn cell_errors(&mut self, diags: Vec<Diagnostic>, offset: usize) -> String {
        let located: Vec<Diagnostic> = diags.into_iter().map(|d| self.locate(d, offset)).collect();
        let html = self.error_box(&located);
        self.diagnostics.extend(located);
        html
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
        let mut shown: Vec<Option<String>> = vec![None; line_count];
        let mut error_lines: Vec<bool> = vec![false; line_count];
        // Statements that are claims render as boxes; their lines leave the pad.
        let mut claim_at: Vec<Option<usize>> = vec![None; line_count];
        let mut claim_html: Vec<String> = Vec::new();
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
            match &stmt.kind {
                OutputKind::Value { display, .. } => shown[last] = Some(display.clone()),
                OutputKind::Assignment { display, .. } => shown[last] = Some(display.clone()),
                OutputKind::Claim(result) => {
                    let index = self.claims.len() + 1;
                    let id = format!("claim-{index}");
                    let file_offset = self.chapter.map.to_original(offset + stmt.span.start);
                    let (line, column) = diagnostic::line_col(self.original, file_offset);
                    let kind = match result.kind {
                        calc::ClaimKind::Claim => ClaimKind::Claim,
                        calc::ClaimKind::Refute => ClaimKind::Refute,
                    };
                    let record = ClaimRecord {
                        id: id.clone(),
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
                    };
                    claim_html.push(claim_box(&record));
                    let box_index = claim_html.len() - 1;
                    for slot in &mut claim_at[first..=last.max(first)] {
                        *slot = Some(box_index);
                    }
                    self.claims.push(record);
                }
                OutputKind::Error | OutputKind::Skipped { .. } => {
                    error_lines[first] = matches!(stmt.kind, OutputKind::Error);
                }
                _ => {}
            }
        }
        // A diagnostic's line within the block, to show it right after that line.
        let mut errors_after: Vec<Vec<Diagnostic>> = vec![Vec::new(); line_count];
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

        let mut html = String::new();
        let mut pad_open = false;
        let mut last_claim = None;
        for i in 0..line_count {
            if let Some(c) = claim_at[i] {
                if pad_open {
                    html.push_str("</div>\n");
                    pad_open = false;
                }
                if last_claim != Some(c) {
                    html.push_str(&claim_html[c]);
                    last_claim = Some(c);
                }
            } else {
                if !pad_open {
                    html.push_str(&format!(
                        "<div class=\"calc-block\" data-block=\"{}\">\n",
                        self.blocks
                    ));
                    pad_open = true;
                }
                let class = if error_lines[i] {
                    "calc-line calc-line--error"
                } else {
                    "calc-line"
                };
                let src = lines.get(i).copied().unwrap_or("");
                let out = shown[i]
                    .as_ref()
                    .map(|s| format!("= {}", escape(s)))
                    .unwrap_or_default();
                html.push_str(&format!(
                    "<div class=\"{class}\"><code class=\"calc-src\">{}</code><span class=\"calc-out\">{out}</span></div>\n",
                    if src.is_empty() { " " } else { src }
                ));
            }
            if !errors_after[i].is_empty() {
                if pad_open {
                    html.push_str("</div>\n");
                    pad_open = false;
                }
                html.push_str(&self.error_box(&errors_after[i]));
            }
        }
        if pad_open {
            html.push_str("</div>\n");
        }
        self.diagnostics.extend(located);
        html
    }

    fn inline_value(&mut self, expr: &str, offset: usize) -> String {
        match self.scope.eval_inline(expr) {
            Ok(display) => format!(
                "<span class=\"calc-inline\" title=\"{}\">{}</span>",
                escape(expr.trim()),
                escape(&display)
            ),
            Err(d) => {
                let located = self.locate(d, offset);
                let title = located.message.clone();
                self.diagnostics.push(located);
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
                    let d = Diagnostic::error("unknown-reference", message)
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

/// The box a claim renders as: the words, both sides, the verdict.
pub fn claim_box(c: &ClaimRecord) -> String {
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
        .unwrap_or_default();
    format!(
        "<div class=\"{class}\" id=\"{id}\"><div class=\"claim-verdict\">{verdict}</div><div class=\"claim-kind\">{kind}</div><blockquote class=\"claim-words\">{words}</blockquote><div class=\"claim-values\"><span class=\"claim-lhs\">{lhs}</span> <span class=\"claim-op\">{op}</span> <span class=\"claim-rhs\">{rhs}</span>{tol}</div>{margin}</div>\n",
        id = escape(&c.id),
        kind = c.kind.as_str(),
        words = escape(&c.words),
        lhs = escape(&c.lhs),
        op = escape(&c.op),
        rhs = escape(&c.rhs),
    )
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
