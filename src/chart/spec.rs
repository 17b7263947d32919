//! Chart and table specs: the YAML inside ```` ```chart ```` and ```` ```table ```` blocks, parsed
//! into typed specs whose values are calc expressions with byte spans into the YAML text.
//!
//! The YAML is read with `serde_yaml` into a generic value and converted by hand, so that every
//! problem is reported at once with a span: unknown keys (with a did-you-mean), missing keys,
//! values of the wrong shape, unknown chart kinds, sweeps past [`MAX_POINTS`] or
//! [`MAX_TOTAL_POINTS`]. `serde_yaml` keeps no positions for values, so spans are recovered by
//! walking the text alongside the parsed value in document order (see [`Locator`]): exact for
//! plain and simply quoted scalars, the key's span otherwise. Spans are relative to the YAML text;
//! the caller shifts them with [`Diagnostic::offset`].

use crate::diagnostic::Code;
use std::ops::Range;

use serde_yaml::Value;

use super::{ChartKind, Scale, Side};
use crate::diagnostic::{Diagnostic, did_you_mean};

/// Most points one swept series may have.
pub const MAX_POINTS: usize = 10_000;
/// Most points a whole chart may have (series × points).
pub const MAX_TOTAL_POINTS: usize = 100_000;
/// Points of a sweep when the spec does not say.
pub const DEFAULT_POINTS: usize = 200;

/// A calc expression and where it is in the YAML text.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub src: String,
    pub span: Range<usize>,
}

/// Plain text (a label, a unit, an id) and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub text: String,
    pub span: Range<usize>,
}

/// A list: one calc expression that evaluates to a list, or a literal YAML list of expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum Exprs {
    One(Expr),
    List(Vec<Expr>, Range<usize>),
}

impl Exprs {
    pub fn span(&self) -> Range<usize> {
        match self {
            Exprs::One(e) => e.span.clone(),
            Exprs::List(_, s) => s.clone(),
        }
    }
}

/// Category names: an expression giving a list of strings, or literal labels.
#[derive(Debug, Clone, PartialEq)]
pub enum Categories {
    Expr(Expr),
    Labels(Vec<Text>),
}

/// One axis. `var`, `from`, `to` and `points` describe the sweep of a line chart's x axis.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AxisSpec {
    pub var: Option<Text>,
    pub from: Option<Expr>,
    pub to: Option<Expr>,
    pub scale: Scale,
    /// Display unit (`ms`, `$/Mtok`, `tokens`).
    pub unit: Option<Text>,
    pub label: Option<String>,
    pub points: Option<(usize, Range<usize>)>,
    /// Span of the axis' key in the spec.
    pub span: Range<usize>,
}

/// One series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSpec {
    pub label: String,
    /// The y value: an expression over the sweep variable (line), over `row` (bar with `rows:`,
    /// scatter), or a list (bar with `categories:`).
    pub y: Option<Exprs>,
    /// Explicit x values (line charts without a sweep; scatter points over `row`).
    pub x: Option<Exprs>,
    /// Scatter: the rows the points come from.
    pub points: Option<Exprs>,
    /// Scatter: a label per point, over `row`.
    pub name: Option<Expr>,
    pub axis: Side,
    pub dash: bool,
    /// Span of the series item.
    pub span: Range<usize>,
}

/// Where a band lies.
#[derive(Debug, Clone, PartialEq)]
pub enum BandSpec {
    X(Expr, Expr),
    Y(Expr, Expr),
}

/// One annotation.
#[derive(Debug, Clone, PartialEq)]
pub enum MarkKind {
    XLine(Expr),
    YLine(Expr),
    Point(Expr, Expr),
    Band(BandSpec),
    Note(String, Expr, Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MarkSpec {
    pub kind: MarkKind,
    pub label: Option<String>,
    pub axis: Side,
    pub span: Range<usize>,
}

/// A parsed ```` ```chart ```` block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChartSpec {
    pub id: Option<Text>,
    pub title: Option<String>,
    pub caption: Option<String>,
    pub kind: ChartKind,
    pub x: AxisSpec,
    pub y: AxisSpec,
    pub y2: Option<AxisSpec>,
    pub categories: Option<Categories>,
    pub rows: Option<Exprs>,
    pub category: Option<Expr>,
    pub series: Vec<SeriesSpec>,
    pub marks: Vec<MarkSpec>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

impl ChartSpec {
    /// Points per swept series.
    pub fn points(&self) -> usize {
        self.x.points.as_ref().map_or(DEFAULT_POINTS, |p| p.0)
    }
}

/// One table column: heading, expression over `row`, optional display unit and digits.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub name: String,
    pub name_span: Range<usize>,
    pub expr: Expr,
    pub unit: Option<Text>,
    pub digits: Option<u8>,
}

/// A parsed ```` ```table ```` block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableSpec {
    pub id: Option<Text>,
    pub caption: Option<String>,
    pub rows: Option<Exprs>,
    pub columns: Vec<ColumnSpec>,
    /// Column index and descending flag.
    pub sort: Option<(usize, bool)>,
    pub highlight: Option<Expr>,
}

const CHART_KEYS: &[&str] = &[
    "id",
    "title",
    "caption",
    "kind",
    "x",
    "y",
    "y2",
    "series",
    "marks",
    "categories",
    "rows",
    "category",
    "width",
    "height",
];
const X_KEYS: &[&str] = &["var", "from", "to", "scale", "unit", "label", "points"];
const Y_KEYS: &[&str] = &["from", "to", "scale", "unit", "label"];
const SERIES_KEYS: &[&str] = &["label", "y", "x", "points", "name", "axis", "dash"];
const MARK_KEYS: &[&str] = &["x", "y", "point", "band", "note", "at", "label", "axis"];
const TABLE_KEYS: &[&str] = &["id", "caption", "rows", "columns", "sort", "highlight"];
const COLUMN_KEYS: &[&str] = &["expr", "unit", "digits"];
const SORT_KEYS: &[&str] = &["by", "desc"];

/// Parses the YAML of a chart block.
pub fn parse_chart(yaml: &str) -> Result<ChartSpec, Vec<Diagnostic>> {
    let root = load(yaml)?;
    let mut p = Locator::new(yaml);
    let mut spec = ChartSpec::default();
    let mut spans = ChartSpans::default();
    for (k, v) in root.iter() {
        let (key, ks) = p.key(k);
        p.chart_key(&mut spec, &mut spans, &key, ks, v);
    }
    let first_line = 0..yaml.find('\n').unwrap_or(yaml.len());
    let series_span = spans.series.unwrap_or(first_line.clone());

    // What each kind needs.
    if spec.series.is_empty() {
        p.diags.push(
            Diagnostic::error(Code::SpecMissingKey, "a chart needs at least one series")
                .with_span(series_span.clone())
                .with_help("add `series:` with items like `- { label: compute, y: expr }`"),
        );
    }
    match spec.kind {
        ChartKind::Line => p.check_line(&spec, &series_span),
        ChartKind::Bar | ChartKind::Stacked => p.check_bars(&spec, &spans.kind, &first_line),
        ChartKind::Scatter => p.check_scatter(&spec),
    }
    for s in &spec.series {
        if s.axis == Side::Right && spec.y2.is_none() {
            p.diags.push(
                Diagnostic::error(
                    Code::SpecMissingKey,
                    "a series on the right axis needs a `y2:` axis",
                )
                .with_span(s.span.clone())
                .with_help("add `y2: { unit: ..., label: ... }`"),
            );
        }
    }
    p.finish(spec)
}

/// Where a chart's `kind:` and `series:` were written, for errors about what they lack.
#[derive(Default)]
struct ChartSpans {
    kind: Range<usize>,
    series: Option<Range<usize>>,
}

/// The chart-level keys and the checks of what each kind needs.
impl Locator<'_> {
    fn chart_key(
        &mut self,
        spec: &mut ChartSpec,
        spans: &mut ChartSpans,
        key: &str,
        ks: Range<usize>,
        v: &Value,
    ) {
        match key {
            "id" => spec.id = self.text(v, &ks),
            "title" => spec.title = self.text(v, &ks).map(|t| t.text),
            "caption" => spec.caption = self.text(v, &ks).map(|t| t.text),
            "kind" => {
                spans.kind = ks.clone();
                if let Some(t) = self.text(v, &ks) {
                    spans.kind = t.span.clone();
                    if let Some(kind) = self.chart_kind(t) {
                        spec.kind = kind;
                    }
                }
            }
            "x" => spec.x = self.axis(v, ks, X_KEYS, "x axis"),
            "y" => spec.y = self.axis(v, ks, Y_KEYS, "y axis"),
            "y2" => spec.y2 = Some(self.axis(v, ks, Y_KEYS, "y2 axis")),
            "categories" => {
                spec.categories = match v {
                    Value::Sequence(items) => {
                        let labels = items.iter().filter_map(|i| self.text(i, &ks)).collect();
                        Some(Categories::Labels(labels))
                    }
                    _ => self.expr(v, &ks).map(Categories::Expr),
                }
            }
            "rows" => spec.rows = self.exprs(v, &ks),
            "category" => spec.category = self.expr(v, &ks),
            "series" => {
                spans.series = Some(ks.clone());
                match v {
                    Value::Sequence(items) => {
                        for item in items {
                            if let Some(s) = self.series(item, &ks) {
                                spec.series.push(s);
                            }
                        }
                    }
                    _ => self.bad(v, &ks, "`series` must be a list of series"),
                }
            }
            "marks" => match v {
                Value::Sequence(items) => {
                    for item in items {
                        if let Some(m) = self.mark(item, &ks) {
                            spec.marks.push(m);
                        }
                    }
                }
                _ => self.bad(v, &ks, "`marks` must be a list of marks"),
            },
            "width" | "height" => {
                if let Some((n, span)) = self.count(v, &ks) {
                    if !(200..=4000).contains(&n) {
                        self.diags.push(
                            Diagnostic::error(
                                Code::SpecBadValue,
                                format!("`{key}` must be between 200 and 4000"),
                            )
                            .with_span(span),
                        );
                    } else if key == "width" {
                        spec.width = Some(n as u32);
                    } else {
                        spec.height = Some(n as u32);
                    }
                }
            }
            other => self.unknown(other, ks, v, CHART_KEYS, "chart"),
        }
    }

    fn chart_kind(&mut self, t: Text) -> Option<ChartKind> {
        let kind = ChartKind::parse(&t.text);
        if kind.is_none() {
            let mut d = Diagnostic::error(
                Code::ChartUnknownKind,
                format!("unknown chart kind `{}`", t.text),
            )
            .with_span(t.span)
            .with_label("not a chart kind")
            .with_note(format!("kinds: {}", ChartKind::NAMES.join(", ")));
            if let Some(s) = did_you_mean(&t.text, ChartKind::NAMES) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            self.diags.push(d);
        }
        kind
    }

    /// A line chart: a sweep with both ends, or x values on every series; not too many points.
    fn check_line(&mut self, spec: &ChartSpec, series_span: &Range<usize>) {
        let sweep = spec.x.var.is_some();
        if sweep {
            for (name, have) in [("from", spec.x.from.is_some()), ("to", spec.x.to.is_some())] {
                if !have {
                    self.diags.push(
                        Diagnostic::error(
                            Code::SpecMissingKey,
                            format!("the x axis sweeps `var` but has no `{name}`"),
                        )
                        .with_span(spec.x.span.clone())
                        .with_help("write `x: { var: batch, from: 1, to: 1000 }`"),
                    );
                }
            }
        }
        for s in &spec.series {
            if s.y.is_none() {
                self.missing("y", "series", s.span.clone());
            }
            if !sweep && s.x.is_none() {
                self.diags.push(
                    Diagnostic::error(
                        Code::SpecMissingKey,
                        "a line series needs x values: a sweep on the x axis or its own `x:`",
                    )
                    .with_span(s.span.clone())
                    .with_help("write `x: { var: batch, from: 1, to: 1000 }` on the chart"),
                );
            }
        }
        if sweep {
            let points = spec.points();
            let total = points.saturating_mul(spec.series.len());
            if total > MAX_TOTAL_POINTS && points <= MAX_POINTS {
                self.diags.push(
                    Diagnostic::error(
                        Code::ChartSweepTooLarge,
                        format!(
                            "{} series × {points} points is {total} evaluations, more than \
                             the limit of {MAX_TOTAL_POINTS}",
                            spec.series.len()
                        ),
                    )
                    .with_span(series_span.clone())
                    .with_help("lower `points:` on the x axis or split the chart"),
                );
            }
        }
    }

    /// A bar or stacked chart: categories (or rows with a category), a `y` per series, and a
    /// linear axis when stacked.
    fn check_bars(
        &mut self,
        spec: &ChartSpec,
        kind_span: &Range<usize>,
        first_line: &Range<usize>,
    ) {
        if spec.categories.is_none() && spec.rows.is_none() {
            self.diags.push(
                Diagnostic::error(
                    Code::SpecMissingKey,
                    format!(
                        "a {} chart needs `categories:` or `rows:`",
                        spec.kind.name()
                    ),
                )
                .with_span(kind_span.clone())
                .with_help("write `categories: [a, b]` or `rows: expr` with `category: row.name`"),
            );
        }
        if spec.rows.is_some() && spec.category.is_none() {
            self.missing("category", "chart with `rows:`", first_line.clone());
        }
        for s in &spec.series {
            if s.y.is_none() {
                self.missing("y", "series", s.span.clone());
            }
        }
        if spec.kind == ChartKind::Stacked && spec.y.scale == Scale::Log {
            self.diags.push(
                Diagnostic::error(
                    Code::SpecBadValue,
                    "a stacked chart needs a linear y axis: stacked lengths mean nothing on a log scale",
                )
                .with_span(spec.y.span.clone()),
            );
        }
    }

    /// A scatter chart: every series has its points and their x and y.
    fn check_scatter(&mut self, spec: &ChartSpec) {
        for s in &spec.series {
            for (key, have) in [
                ("points", s.points.is_some()),
                ("x", s.x.is_some()),
                ("y", s.y.is_some()),
            ] {
                if !have {
                    self.missing(key, "scatter series", s.span.clone());
                }
            }
        }
    }
}

/// Parses the YAML of a table block.
pub fn parse_table(yaml: &str) -> Result<TableSpec, Vec<Diagnostic>> {
    let root = load(yaml)?;
    let mut p = Locator::new(yaml);
    let mut spec = TableSpec::default();
    let mut sort: Option<(Text, bool)> = None;
    let mut columns_span = None;
    for (k, v) in root.iter() {
        let (key, ks) = p.key(k);
        match key.as_str() {
            "id" => spec.id = p.text(v, &ks),
            "caption" => spec.caption = p.text(v, &ks).map(|t| t.text),
            "rows" => spec.rows = p.exprs(v, &ks),
            "highlight" => spec.highlight = p.expr(v, &ks),
            "columns" => {
                columns_span = Some(ks.clone());
                match v {
                    Value::Mapping(map) => {
                        for (ck, cv) in map {
                            let (name, name_span) = p.key(ck);
                            if let Some(c) = p.column(name, name_span, cv) {
                                spec.columns.push(c);
                            }
                        }
                    }
                    _ => p.bad(v, &ks, "`columns` must map column names to expressions"),
                }
            }
            "sort" => match v {
                Value::Mapping(map) => {
                    let (mut by, mut desc) = (None, false);
                    for (sk, sv) in map {
                        let (skey, sks) = p.key(sk);
                        match skey.as_str() {
                            "by" => by = p.text(sv, &sks),
                            "desc" => desc = p.flag(sv, &sks),
                            other => p.unknown(other, sks, sv, SORT_KEYS, "sort"),
                        }
                    }
                    match by {
                        Some(b) => sort = Some((b, desc)),
                        None => p.missing("by", "sort", ks),
                    }
                }
                _ => {
                    if let Some(b) = p.text(v, &ks) {
                        sort = Some((b, false));
                    }
                }
            },
            other => p.unknown(other, ks, v, TABLE_KEYS, "table"),
        }
    }
    let first_line = 0..yaml.find('\n').unwrap_or(yaml.len());
    if spec.rows.is_none() {
        p.missing("rows", "table", first_line.clone());
    }
    if spec.columns.is_empty() {
        p.diags.push(
            Diagnostic::error(Code::SpecMissingKey, "a table needs at least one column")
                .with_span(columns_span.unwrap_or(first_line))
                .with_help("write `columns:` with lines like `Chip: row.name`"),
        );
    }
    if let Some((by, desc)) = sort {
        match spec.columns.iter().position(|c| c.name == by.text) {
            Some(i) => spec.sort = Some((i, desc)),
            None => {
                let mut d = Diagnostic::error(
                    Code::SpecUnknownColumn,
                    format!("cannot sort by `{}`: no such column", by.text),
                )
                .with_span(by.span);
                if let Some(s) =
                    did_you_mean(&by.text, spec.columns.iter().map(|c| c.name.as_str()))
                {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                p.diags.push(d);
            }
        }
    }
    p.finish(spec)
}

/// Reads the YAML into a mapping, or reports why it is not one.
fn load(yaml: &str) -> Result<serde_yaml::Mapping, Vec<Diagnostic>> {
    match serde_yaml::from_str::<Value>(yaml) {
        Ok(Value::Mapping(m)) => Ok(m),
        Ok(Value::Null) => Err(vec![
            Diagnostic::error(Code::SpecMissingKey, "the block is empty")
                .with_span(0..0)
                .with_help("a spec is YAML keys such as `title:` and `series:`"),
        ]),
        Ok(_) => Err(vec![
            Diagnostic::error(Code::SpecYaml, "a spec must be YAML keys and values")
                .with_span(0..yaml.len().min(yaml.find('\n').unwrap_or(yaml.len()))),
        ]),
        Err(e) => {
            let msg = e.to_string();
            // serde_yaml appends " at line L column C"; the span says that better.
            let msg = match msg.find(" at line ") {
                Some(i) => msg[..i].to_string(),
                None => msg,
            };
            let span = match e.location() {
                Some(loc) => {
                    let start = loc.index().min(yaml.len());
                    let end = yaml[start..]
                        .char_indices()
                        .nth(1)
                        .map_or(yaml.len(), |(i, _)| start + i);
                    start..end
                }
                None => 0..0,
            };
            Err(vec![
                Diagnostic::error(Code::SpecYaml, format!("bad YAML: {msg}"))
                    .with_span(span)
                    .with_label("here"),
            ])
        }
    }
}

/// Walks the YAML text alongside the parsed value, in document order, to find where keys and
/// scalars are. `cursor` only moves forward, so each search starts after the previous find.
struct Locator<'a> {
    text: &'a str,
    cursor: usize,
    diags: Vec<Diagnostic>,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str) -> Self {
        Locator {
            text,
            cursor: 0,
            diags: Vec::new(),
        }
    }

    fn finish<T>(self, spec: T) -> Result<T, Vec<Diagnostic>> {
        if self.diags.is_empty() {
            Ok(spec)
        } else {
            Err(self.diags)
        }
    }

    /// Whether byte `pos` is inside a `# comment`.
    fn in_comment(&self, pos: usize) -> bool {
        let line_start = self.text[..pos].rfind('\n').map_or(0, |i| i + 1);
        let before = &self.text[line_start..pos];
        let mut prev = ' ';
        let mut quote: Option<char> = None;
        for c in before.chars() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c == '#' && prev.is_whitespace() => return true,
                None => {}
            }
            prev = c;
        }
        false
    }

    /// Finds a mapping key at or after the cursor and moves past its colon.
    fn key(&mut self, k: &Value) -> (String, Range<usize>) {
        let key = match k {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => String::new(),
        };
        let bytes = self.text.as_bytes();
        let mut from = self.cursor;
        while !key.is_empty() {
            let Some(rel) = self.text.get(from..).and_then(|t| t.find(&key)) else {
                break;
            };
            let start = from + rel;
            let end = start + key.len();
            from = start + 1;
            let before_ok = start == 0
                || matches!(
                    bytes[start - 1],
                    b' ' | b'\t' | b'\n' | b'\r' | b'{' | b',' | b'"' | b'\''
                );
            let mut j = end;
            while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b' ' | b'\t') {
                j += 1;
            }
            if before_ok && j < bytes.len() && bytes[j] == b':' && !self.in_comment(start) {
                self.cursor = j + 1;
                self.follow_alias();
                return (key, start..end);
            }
        }
        // Not followed by a colon (a key made of an unquoted expression's tail): point at the
        // text itself if it is there.
        if let Some(rel) = self.text.get(self.cursor..).and_then(|t| t.find(&key))
            && !key.is_empty()
        {
            let start = self.cursor + rel;
            let end = start + key.len();
            self.cursor = end;
            return (key, start..end);
        }
        (key, self.cursor..self.cursor)
    }

    /// When the value at the cursor is a YAML alias (`x: *base`), moves the cursor to the
    /// anchored value (`&base`, always earlier in the text), so that its keys and scalars are
    /// found where they are written rather than somewhere after the alias.
    fn follow_alias(&mut self) {
        let rest = &self.text[self.cursor..];
        let Some(alias) = rest.trim_start_matches([' ', '\t']).strip_prefix('*') else {
            return;
        };
        let name_len = alias
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}'))
            .unwrap_or(alias.len());
        let name = &alias[..name_len];
        if name.is_empty() {
            return;
        }
        let anchor = format!("&{name}");
        if let Some(at) = self.text[..self.cursor].rfind(&anchor) {
            self.cursor = at + anchor.len();
        }
    }

    /// Finds a scalar at or after the cursor; falls back to `fallback` when it cannot.
    fn scalar(&mut self, v: &Value, fallback: &Range<usize>) -> (String, Range<usize>) {
        match v {
            Value::String(s) => {
                let first_line = s.lines().next().unwrap_or("");
                let mut from = self.cursor;
                while !first_line.is_empty() {
                    let Some(rel) = self.text.get(from..).and_then(|t| t.find(first_line)) else {
                        break;
                    };
                    let start = from + rel;
                    if self.in_comment(start) {
                        from = start + 1;
                        continue;
                    }
                    let end = start + first_line.len();
                    self.cursor = end;
                    let span = if first_line.len() == s.len() {
                        start..end
                    } else {
                        fallback.clone()
                    };
                    return (s.clone(), span);
                }
                (s.clone(), fallback.clone())
            }
            Value::Number(_) | Value::Bool(_) | Value::Null => {
                // The raw token: numbers keep the author's spelling (`1e3`, `65536`).
                let bytes = self.text.as_bytes();
                let mut i = self.cursor;
                loop {
                    while i < bytes.len()
                        && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'[' | b',' | b':')
                    {
                        i += 1;
                    }
                    if i < bytes.len() && bytes[i] == b'#' {
                        while i < bytes.len() && bytes[i] != b'\n' {
                            i += 1;
                        }
                        continue;
                    }
                    if i + 1 < bytes.len()
                        && bytes[i] == b'-'
                        && matches!(bytes[i + 1], b' ' | b'\n')
                    {
                        i += 1;
                        continue;
                    }
                    break;
                }
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b',' | b']' | b'}' | b'\n' | b'#') {
                    i += 1;
                }
                let raw = self.text[start..i].trim_end();
                let end = start + raw.len();
                let fallback_text = match v {
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => String::new(),
                };
                if raw.is_empty() && !matches!(v, Value::Null) {
                    return (fallback_text, fallback.clone());
                }
                self.cursor = end;
                let text = if matches!(v, Value::Null) {
                    String::new()
                } else {
                    raw.to_string()
                };
                (text, start..end)
            }
            _ => {
                self.skip(v);
                (String::new(), fallback.clone())
            }
        }
    }

    /// Moves the cursor past a value without using it.
    fn skip(&mut self, v: &Value) {
        match v {
            Value::Mapping(m) => {
                for (k, v) in m {
                    self.key(k);
                    self.skip(v);
                }
            }
            Value::Sequence(items) => items.iter().for_each(|i| self.skip(i)),
            Value::Tagged(t) => self.skip(&t.value),
            scalar => {
                let here = self.cursor..self.cursor;
                self.scalar(scalar, &here);
            }
        }
    }

    fn bad(&mut self, v: &Value, key_span: &Range<usize>, msg: &str) {
        self.skip(v);
        self.diags.push(
            Diagnostic::error(Code::SpecBadValue, msg.to_string()).with_span(key_span.clone()),
        );
    }

    fn missing(&mut self, key: &str, what: &str, span: Range<usize>) {
        self.diags.push(
            Diagnostic::error(Code::SpecMissingKey, format!("missing `{key}` in {what}"))
                .with_span(span)
                .with_label(format!("this {what} has no `{key}`")),
        );
    }

    fn unknown(&mut self, key: &str, span: Range<usize>, v: &Value, allowed: &[&str], what: &str) {
        self.skip(v);
        let mut d = Diagnostic::error(
            Code::SpecUnknownKey,
            format!("unknown key `{key}` in {what}"),
        )
        .with_span(span)
        .with_label(format!("not a {what} key"));
        let depth = |open: char, close: char| {
            key.chars().filter(|c| *c == close).count() > key.chars().filter(|c| *c == open).count()
        };
        if depth('(', ')') || depth('[', ']') {
            // `{ y: f(a, b) }`: in a flow mapping the comma ended the value, and the rest of
            // the expression was read as a key.
            d = d.with_help(
                "quote expressions that contain commas inside `{ … }`: write `y: \"f(a, b)\"`",
            );
        } else if let Some(s) = did_you_mean(key, allowed.iter().copied()) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        d = d.with_note(format!("{what} keys: {}", allowed.join(", ")));
        self.diags.push(d);
    }

    /// A plain-text scalar.
    fn text(&mut self, v: &Value, key_span: &Range<usize>) -> Option<Text> {
        match v {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                let (text, span) = self.scalar(v, key_span);
                Some(Text { text, span })
            }
            _ => {
                self.bad(v, key_span, "expected text here");
                None
            }
        }
    }

    /// A calc expression: a string or a number.
    fn expr(&mut self, v: &Value, key_span: &Range<usize>) -> Option<Expr> {
        match v {
            Value::String(_) | Value::Number(_) => {
                let (src, span) = self.scalar(v, key_span);
                Some(Expr { src, span })
            }
            _ => {
                self.bad(
                    v,
                    key_span,
                    "expected a calc expression here (a string or number)",
                );
                None
            }
        }
    }

    fn exprs(&mut self, v: &Value, key_span: &Range<usize>) -> Option<Exprs> {
        match v {
            Value::Sequence(items) => {
                let start = self.cursor;
                let list: Vec<Expr> = items
                    .iter()
                    .filter_map(|i| self.expr(i, key_span))
                    .collect();
                let span = match (list.first(), list.last()) {
                    (Some(a), Some(b)) => a.span.start..b.span.end,
                    _ => start..start,
                };
                Some(Exprs::List(list, span))
            }
            _ => self.expr(v, key_span).map(Exprs::One),
        }
    }

    fn flag(&mut self, v: &Value, key_span: &Range<usize>) -> bool {
        match v {
            Value::Bool(b) => {
                self.scalar(v, key_span);
                *b
            }
            _ => {
                self.bad(v, key_span, "expected `true` or `false`");
                false
            }
        }
    }

    fn count(&mut self, v: &Value, key_span: &Range<usize>) -> Option<(usize, Range<usize>)> {
        match v.as_u64() {
            Some(n) => {
                let (_, span) = self.scalar(v, key_span);
                Some((usize::try_from(n).unwrap_or(usize::MAX), span))
            }
            None => {
                self.bad(v, key_span, "expected a whole number");
                None
            }
        }
    }

    fn side(&mut self, v: &Value, key_span: &Range<usize>) -> Side {
        let Some(t) = self.text(v, key_span) else {
            return Side::Left;
        };
        match t.text.as_str() {
            "left" => Side::Left,
            "right" => Side::Right,
            other => {
                self.diags.push(
                    Diagnostic::error(
                        Code::SpecBadValue,
                        format!("`axis` is `left` or `right`, not `{other}`"),
                    )
                    .with_span(t.span),
                );
                Side::Left
            }
        }
    }

    fn axis(&mut self, v: &Value, span: Range<usize>, keys: &[&str], what: &str) -> AxisSpec {
        let mut axis = AxisSpec {
            span: span.clone(),
            ..AxisSpec::default()
        };
        let Value::Mapping(map) = v else {
            self.bad(
                v,
                &span,
                &format!("the {what} must be keys such as `unit:` and `label:`"),
            );
            return axis;
        };
        for (k, v) in map {
            let (key, ks) = self.key(k);
            if !keys.contains(&key.as_str()) {
                self.unknown(&key, ks, v, keys, what);
                continue;
            }
            match key.as_str() {
                "var" => axis.var = self.text(v, &ks),
                "from" => axis.from = self.expr(v, &ks),
                "to" => axis.to = self.expr(v, &ks),
                "unit" => axis.unit = self.text(v, &ks),
                "label" => axis.label = self.text(v, &ks).map(|t| t.text),
                "scale" => {
                    if let Some(t) = self.text(v, &ks) {
                        match t.text.as_str() {
                            "linear" => axis.scale = Scale::Linear,
                            "log" => axis.scale = Scale::Log,
                            other => {
                                let mut d = Diagnostic::error(
                                    Code::SpecBadValue,
                                    format!("unknown scale `{other}`"),
                                )
                                .with_span(t.span)
                                .with_note("scales: linear, log");
                                if let Some(s) = did_you_mean(other, ["linear", "log"]) {
                                    d = d.with_help(format!("did you mean `{s}`?"));
                                }
                                self.diags.push(d);
                            }
                        }
                    }
                }
                "points" => {
                    if let Some((n, span)) = self.count(v, &ks) {
                        if n > MAX_POINTS {
                            self.diags.push(
                                Diagnostic::error(
                                    Code::ChartSweepTooLarge,
                                    format!("{n} points is more than the limit of {MAX_POINTS}"),
                                )
                                .with_span(span.clone())
                                .with_help("a few hundred points draw a smooth curve"),
                            );
                        } else if n < 2 {
                            self.diags.push(
                                Diagnostic::error(
                                    Code::SpecBadValue,
                                    "a sweep needs at least 2 points",
                                )
                                .with_span(span.clone()),
                            );
                        }
                        axis.points = Some((n, span));
                    }
                }
                _ => unreachable!("checked against the key list"),
            }
        }
        axis
    }

    fn series(&mut self, item: &Value, list_span: &Range<usize>) -> Option<SeriesSpec> {
        let Value::Mapping(map) = item else {
            self.bad(
                item,
                list_span,
                "each series must be keys such as `label:` and `y:`",
            );
            return None;
        };
        let start = self.cursor;
        let mut s = SeriesSpec {
            label: String::new(),
            y: None,
            x: None,
            points: None,
            name: None,
            axis: Side::Left,
            dash: false,
            span: 0..0,
        };
        let mut first_key = None;
        for (k, v) in map {
            let (key, ks) = self.key(k);
            first_key.get_or_insert(ks.clone());
            match key.as_str() {
                "label" => s.label = self.text(v, &ks).map(|t| t.text).unwrap_or_default(),
                "y" => s.y = self.exprs(v, &ks),
                "x" => s.x = self.exprs(v, &ks),
                "points" => s.points = self.exprs(v, &ks),
                "name" => s.name = self.expr(v, &ks),
                "axis" => s.axis = self.side(v, &ks),
                "dash" => s.dash = self.flag(v, &ks),
                other => self.unknown(other, ks, v, SERIES_KEYS, "series"),
            }
        }
        let begin = first_key.map_or(start, |k| k.start);
        s.span = begin..self.cursor.max(begin);
        Some(s)
    }

    fn mark(&mut self, item: &Value, list_span: &Range<usize>) -> Option<MarkSpec> {
        let Value::Mapping(map) = item else {
            self.bad(
                item,
                list_span,
                "each mark must be keys such as `x:` and `label:`",
            );
            return None;
        };
        let start = self.cursor;
        let (mut x, mut y, mut point, mut band, mut note, mut at) =
            (None, None, None, None, None, None);
        let (mut label, mut axis) = (None, Side::Left);
        let mut first_key = None;
        for (k, v) in map {
            let (key, ks) = self.key(k);
            first_key.get_or_insert(ks.clone());
            match key.as_str() {
                "x" => x = self.expr(v, &ks),
                "y" => y = self.expr(v, &ks),
                "point" => point = self.pair(v, &ks, "point"),
                "at" => at = self.pair(v, &ks, "at"),
                "note" => note = self.text(v, &ks),
                "label" => label = self.text(v, &ks).map(|t| t.text),
                "axis" => axis = self.side(v, &ks),
                "band" => match v {
                    Value::Mapping(bm) => {
                        for (bk, bv) in bm {
                            let (bkey, bks) = self.key(bk);
                            match bkey.as_str() {
                                "x" => {
                                    band = self
                                        .pair(bv, &bks, "band x")
                                        .map(|(a, b)| BandSpec::X(a, b))
                                }
                                "y" => {
                                    band = self
                                        .pair(bv, &bks, "band y")
                                        .map(|(a, b)| BandSpec::Y(a, b))
                                }
                                other => self.unknown(other, bks, bv, &["x", "y"], "band"),
                            }
                        }
                    }
                    _ => self.bad(
                        v,
                        &ks,
                        "`band` is `{ x: [from, to] }` or `{ y: [from, to] }`",
                    ),
                },
                other => self.unknown(other, ks, v, MARK_KEYS, "mark"),
            }
        }
        let begin = first_key.map_or(start, |k| k.start);
        let span = begin..self.cursor.max(begin);
        let kind = if let Some(b) = band {
            MarkKind::Band(b)
        } else if let Some((a, b)) = point {
            MarkKind::Point(a, b)
        } else if let Some(n) = note {
            match at {
                Some((a, b)) => MarkKind::Note(n.text, a, b),
                None => {
                    self.missing("at", "note", span);
                    return None;
                }
            }
        } else if let Some(x) = x {
            MarkKind::XLine(x)
        } else if let Some(y) = y {
            MarkKind::YLine(y)
        } else {
            self.diags.push(
                Diagnostic::error(
                    Code::SpecMissingKey,
                    "a mark needs one of `x`, `y`, `point`, `band` or `note`",
                )
                .with_span(span),
            );
            return None;
        };
        Some(MarkSpec {
            kind,
            label,
            axis,
            span,
        })
    }

    /// `[a, b]`: two expressions.
    fn pair(&mut self, v: &Value, ks: &Range<usize>, what: &str) -> Option<(Expr, Expr)> {
        match v {
            Value::Sequence(items) if items.len() == 2 => {
                let a = self.expr(&items[0], ks)?;
                let b = self.expr(&items[1], ks)?;
                Some((a, b))
            }
            _ => {
                self.bad(v, ks, &format!("`{what}` must be a pair `[a, b]`"));
                None
            }
        }
    }

    fn column(&mut self, name: String, name_span: Range<usize>, v: &Value) -> Option<ColumnSpec> {
        match v {
            Value::Mapping(map) => {
                let (mut expr, mut unit, mut digits) = (None, None, None);
                for (k, v) in map {
                    let (key, ks) = self.key(k);
                    match key.as_str() {
                        "expr" => expr = self.expr(v, &ks),
                        "unit" => unit = self.text(v, &ks),
                        "digits" => {
                            if let Some((n, span)) = self.count(v, &ks) {
                                if (1..=15).contains(&n) {
                                    digits = Some(n as u8);
                                } else {
                                    self.diags.push(
                                        Diagnostic::error(
                                            Code::SpecBadValue,
                                            "`digits` must be between 1 and 15",
                                        )
                                        .with_span(span),
                                    );
                                }
                            }
                        }
                        other => self.unknown(other, ks, v, COLUMN_KEYS, "column"),
                    }
                }
                match expr {
                    Some(expr) => Some(ColumnSpec {
                        name,
                        name_span,
                        expr,
                        unit,
                        digits,
                    }),
                    None => {
                        self.missing("expr", "column", name_span);
                        None
                    }
                }
            }
            _ => self.expr(v, &name_span).map(|expr| ColumnSpec {
                name,
                name_span,
                expr,
                unit: None,
                digits: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP: &str = r#"id: step-time
title: Decode step time vs batch size
kind: line
x: { var: batch, from: 1, to: 65536, scale: log, unit: tokens, label: Batch size, points: 200 }
y: { unit: ms, scale: log, label: Step time }
series:
  - { label: compute, y: "decode(m, hw, batch=batch).compute_time" }
  - label: memory
    y: decode(m, hw, batch=batch).memory_time   # comment
    dash: true
marks:
  - { x: batch_needed, label: "300 × sparsity" }
  - { point: [batch_needed, "1.31 ms"], label: balance }
  - { band: { x: [1, batch_needed] }, label: memory-bound }
  - { note: "annotation text", at: [100, "2 ms"] }
"#;

    fn at<'a>(text: &'a str, span: &Range<usize>) -> &'a str {
        &text[span.clone()]
    }

    #[test]
    fn parses_a_line_chart_with_spans() {
        let spec = parse_chart(STEP).unwrap();
        assert_eq!(spec.kind, ChartKind::Line);
        assert_eq!(spec.x.scale, Scale::Log);
        assert_eq!(spec.points(), 200);
        let from = spec.x.from.as_ref().unwrap();
        assert_eq!((from.src.as_str(), at(STEP, &from.span)), ("1", "1"));
        let to = spec.x.to.as_ref().unwrap();
        assert_eq!(at(STEP, &to.span), "65536");
        let Some(Exprs::One(y)) = &spec.series[1].y else {
            panic!()
        };
        assert_eq!(at(STEP, &y.span), "decode(m, hw, batch=batch).memory_time");
        assert!(spec.series[1].dash);
        assert_eq!(spec.marks.len(), 4);
        let MarkKind::Point(_, b) = &spec.marks[1].kind else {
            panic!()
        };
        assert_eq!(at(STEP, &b.span), "1.31 ms");
        let MarkKind::Band(BandSpec::X(a, b)) = &spec.marks[2].kind else {
            panic!()
        };
        assert_eq!((a.src.as_str(), b.src.as_str()), ("1", "batch_needed"));
    }

    #[test]
    fn parses_a_table() {
        let yaml = "rows: [hardware.h100, hardware.b200]\ncolumns:\n  Chip: row.name\n  Ridge: { expr: row.flops / row.bw, unit: FLOP/B, digits: 3 }\nsort: { by: Ridge, desc: true }\nhighlight: row.name == \"B200\"\n";
        let spec = parse_table(yaml).unwrap();
        assert_eq!(spec.columns.len(), 2);
        assert_eq!(spec.columns[1].digits, Some(3));
        assert_eq!(at(yaml, &spec.columns[1].expr.span), "row.flops / row.bw");
        assert_eq!(spec.sort, Some((1, true)));
        let Some(Exprs::List(rows, _)) = &spec.rows else {
            panic!()
        };
        assert_eq!(at(yaml, &rows[1].span), "hardware.b200");
    }

    #[test]
    fn keys_under_an_alias_are_found_at_the_anchor() {
        let yaml = "title: t\nbase: &b { var: b, from: 1, to: 100, bogus: 1 }\nx: *b\ny: { unit: ms }\nseries:\n  - { label: a, y: \"b * 1 ms\" }\n";
        let diags = parse_chart(yaml).unwrap_err();
        let bogus = diags
            .iter()
            .find(|d| d.message.contains("`bogus`"))
            .expect("bogus is reported");
        let span = bogus.span.clone().unwrap();
        assert_eq!(&yaml[span], "bogus");
    }
}
