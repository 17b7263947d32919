//! Glue between chart/table specs and the calc language: evaluates a spec's expressions in a
//! chapter's [`Scope`] into a [`ResolvedChart`] or [`ResolvedTable`].
//!
//! Each axis has a dimension and a display unit. The unit comes from the spec (`unit: ms`) or,
//! failing that, is chosen by calc's display rules from the first value seen. Every value drawn on
//! an axis must have the axis' dimension (a plain number counts as already being in the display
//! unit when the axis names one, so `from: 1` on a `tokens` axis is 1 token). A swept series is
//! compiled once with [`Scope::compile`] (dimensions checked once) and evaluated on plain `f64`s.
//!
//! Errors are [`Diagnostic`]s with spans in the spec's YAML text: calc's own spans (relative to an
//! expression) are shifted to where the expression sits.

use crate::diagnostic::Code;
use std::ops::Range;

use super::spec::{
    AxisSpec, BandSpec, Categories, ChartSpec, Expr, Exprs, MarkKind, SeriesSpec, TableSpec,
};
use super::table::{Cell, Column, ResolvedTable, Row};
use super::{Axis, BandAxis, ChartKind, Mark, Point, ResolvedChart, Scale, Series, Side};
use crate::calc::format::{Choice, choose, format_quantity, plain_number};
use crate::calc::value::Shown;
use crate::calc::{Dim, Scope, Value};
use crate::diagnostic::Diagnostic;

/// Moves a calc diagnostic (spans relative to `e.src`) to where `e` sits in the YAML.
fn place(d: Diagnostic, e: &Expr) -> Diagnostic {
    if e.span.len() == e.src.len() {
        d.offset(e.span.start)
    } else {
        // The expression was not found verbatim (an escaped string): point at its key.
        let mut d = d;
        d.span = Some(e.span.clone());
        d.secondary.clear();
        d
    }
}

/// An axis being resolved: its dimension once known, and how values are shown on it.
struct AxisCtx {
    name: &'static str,
    dim: Option<Dim>,
    /// Base units per display unit.
    factor: f64,
    unit: Option<String>,
    unit_span: Option<Range<usize>>,
    /// Whether the author named the unit (plain numbers are then in that unit).
    named: bool,
    scale: Scale,
}

impl AxisCtx {
    fn new(
        name: &'static str,
        spec: &AxisSpec,
        scope: &Scope,
        diags: &mut Vec<Diagnostic>,
    ) -> Self {
        let mut ctx = AxisCtx {
            name,
            dim: None,
            factor: 1.0,
            unit: None,
            unit_span: None,
            named: false,
            scale: spec.scale,
        };
        if let Some(u) = &spec.unit {
            match scope.registry().parse_unit(&u.text) {
                Ok((factor, dim)) => {
                    ctx.dim = Some(dim);
                    ctx.factor = factor;
                    ctx.unit = Some(u.text.clone());
                    ctx.unit_span = Some(u.span.clone());
                    ctx.named = true;
                }
                Err(msg) => {
                    let mut d =
                        Diagnostic::error(Code::UnknownUnit, format!("bad axis unit: {msg}"))
                            .with_span(u.span.clone());
                    if let Some(s) = scope.registry().suggest_unit(&u.text) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    diags.push(d);
                }
            }
        }
        ctx
    }

    /// Adopts `dim` (with a display unit fitting `magnitude`) if the axis has none yet.
    fn adopt(&mut self, dim: &Dim, magnitude: f64, scope: &Scope) {
        if self.dim.is_some() {
            return;
        }
        let choice: Choice = choose(dim, scope.registry(), magnitude, 3);
        self.factor = choice.factor;
        let text = choice.unit_text();
        self.unit = (!text.is_empty()).then_some(text);
        self.dim = Some(dim.clone());
    }

    /// Converts a value of dimension `dim` (base units) to display units, or explains why not.
    fn convert(
        &mut self,
        si: f64,
        dim: &Dim,
        what: &str,
        span: &Range<usize>,
        scope: &Scope,
    ) -> Result<f64, Diagnostic> {
        self.adopt(dim, si, scope);
        let axis_dim = self.dim.clone().unwrap_or_default();
        if *dim == axis_dim {
            return Ok(si / self.factor);
        }
        if dim.is_dimensionless() && self.named {
            return Ok(si);
        }
        Err(self.mismatch(dim, what, span, scope))
    }

    fn mismatch(&self, dim: &Dim, what: &str, span: &Range<usize>, scope: &Scope) -> Diagnostic {
        let reg = scope.registry();
        let axis_dim = self.dim.clone().unwrap_or_default();
        let unit = self.unit.clone().unwrap_or_default();
        let mut d = Diagnostic::error(
            Code::ChartUnitMismatch,
            format!(
                "{what} is {}, but the {} is in `{unit}`, which is {}",
                reg.describe(dim),
                self.name,
                reg.describe(&axis_dim)
            ),
        )
        .with_span(span.clone())
        .with_label(format!("this is {}", reg.describe(dim)));
        if let Some(us) = &self.unit_span {
            d = d.with_secondary(
                us.clone(),
                format!("the {} is {}", self.name, reg.describe(&axis_dim)),
            );
        }
        d.with_help(format!(
            "give the {} a unit of {}, or plot a different quantity",
            self.name,
            reg.describe(dim)
        ))
    }

    /// A value drawn on this axis: must be positive on a log axis.
    fn check_log(&self, v: f64, what: &str, span: &Range<usize>) -> Result<f64, Diagnostic> {
        if self.scale == Scale::Log && v <= 0.0 {
            return Err(Diagnostic::error(
                Code::ChartLogNonpositive,
                format!(
                    "{what} is {} {}, which a log-scale {} cannot show",
                    plain_number(v, 3),
                    self.unit.clone().unwrap_or_default(),
                    self.name
                )
                .replace("  ", " "),
            )
            .with_span(span.clone())
            .with_help("use `scale: linear`, or start the range above zero"));
        }
        Ok(v)
    }

    fn resolved(&self, spec: &AxisSpec) -> Axis {
        Axis {
            label: spec.label.clone(),
            unit: self.unit.clone(),
            scale: self.scale,
            min: None,
            max: None,
        }
    }

    /// Evaluates one expression to a display value on this axis.
    fn value(
        &mut self,
        e: &Expr,
        what: &str,
        scope: &Scope,
        locals: &[(String, Value)],
    ) -> Result<f64, Diagnostic> {
        let v = scope
            .eval_expr_with(&e.src, locals)
            .map_err(|d| place(d, e))?;
        let (si, dim) = quantity(&v, e)?;
        // An axis without a named unit takes the one its first value was written in
        // (`from: 0.2 $/kWh`, `from: x in km/h`), rather than one chosen by the display rules.
        if self.dim.is_none()
            && !dim.is_dimensionless()
            && let Some((text, factor)) = written_unit(&e.src, &v, scope)
        {
            self.dim = Some(dim.clone());
            self.factor = factor;
            self.unit = Some(text);
        }
        let x = self.convert(si, &dim, what, &e.span, scope)?;
        self.check_log(x, what, &e.span)
    }
}

/// The unit a value was written in: `in km/h` on it, or the unit of a literal `0.2 $/kWh`
/// (`$0.20/kWh`), with its size in base units.
fn written_unit(src: &str, v: &Value, scope: &Scope) -> Option<(String, f64)> {
    if let Value::Quantity {
        shown: Some(shown), ..
    } = v
        && let Some((text, factor)) = &shown.unit
    {
        return Some((text.clone(), *factor));
    }
    let src = src.trim();
    let (dollar, rest) = match src.strip_prefix('$') {
        Some(r) => (true, r),
        None => (false, src),
    };
    let number_end = rest
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit()
                || c == '.'
                || c == '_'
                || (i == 0 && matches!(c, '-' | '+'))
                || ((c == 'e' || c == 'E')
                    && rest[i + 1..].starts_with(|n: char| n.is_ascii_digit() || n == '-')))
        })
        .map_or(rest.len(), |(i, _)| i);
    if number_end == 0 {
        return None;
    }
    let unit = rest[number_end..].trim();
    let text = match (dollar, unit) {
        (true, "") => "$".to_string(),
        (true, u) if u.starts_with('/') => format!("${u}"),
        (true, _) => return None,
        (false, "") => return None,
        (false, u) => u.to_string(),
    };
    let (factor, _) = scope.registry().parse_unit(&text).ok()?;
    Some((text, factor))
}

fn quantity(v: &Value, e: &Expr) -> Result<(f64, Dim), Diagnostic> {
    match v {
        Value::Quantity { si, dim, .. } => {
            if si.is_finite() {
                Ok((*si, dim.clone()))
            } else {
                Err(Diagnostic::error(
                    Code::ChartNotFinite,
                    format!("`{}` is not a finite number ({si})", e.src),
                )
                .with_span(e.span.clone()))
            }
        }
        other => Err(Diagnostic::error(
            Code::SpecBadValue,
            format!("expected a number, but `{}` is a {}", e.src, other.kind()),
        )
        .with_span(e.span.clone())),
    }
}

/// A list from `Exprs`: one expression that evaluates to a list, or a literal list.
fn list(exprs: &Exprs, scope: &Scope) -> Result<Vec<(Value, Expr)>, Diagnostic> {
    match exprs {
        Exprs::One(e) => {
            let v = scope.eval_expr(&e.src).map_err(|d| place(d, e))?;
            match v.as_list() {
                Some(items) => Ok(items.iter().map(|i| (i.clone(), e.clone())).collect()),
                None => Err(Diagnostic::error(
                    Code::SpecBadValue,
                    format!("expected a list, but `{}` is a {}", e.src, v.kind()),
                )
                .with_span(e.span.clone())
                .with_help("write a list such as `[hardware.h100, hardware.b200]`")),
            }
        }
        Exprs::List(items, _) => items
            .iter()
            .map(|e| {
                scope
                    .eval_expr(&e.src)
                    .map(|v| (v, e.clone()))
                    .map_err(|d| place(d, e))
            })
            .collect(),
    }
}

fn row_local(row: &Value) -> Vec<(String, Value)> {
    vec![("row".to_string(), row.clone())]
}

fn label_of(v: &Value, scope: &Scope) -> String {
    match v.as_str() {
        Some(s) => s.to_string(),
        None => scope.format(v),
    }
}

/// Evaluates a chart spec in `scope`.
pub fn evaluate_chart(spec: &ChartSpec, scope: &Scope) -> Result<ResolvedChart, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut x = AxisCtx::new("x axis", &spec.x, scope, &mut diags);
    let mut y = AxisCtx::new("y axis", &spec.y, scope, &mut diags);
    let mut y2 = spec
        .y2
        .as_ref()
        .map(|a| AxisCtx::new("right y axis", a, scope, &mut diags));
    if !diags.is_empty() {
        return Err(diags);
    }
    let mut chart = ResolvedChart {
        id: spec.id.as_ref().map(|t| t.text.clone()),
        title: spec.title.clone(),
        caption: spec.caption.clone(),
        kind: spec.kind,
        width: spec.width.unwrap_or(super::DEFAULT_WIDTH),
        height: spec.height.unwrap_or(super::DEFAULT_HEIGHT),
        ..ResolvedChart::default()
    };

    match spec.kind {
        ChartKind::Line => line(spec, scope, &mut x, &mut y, &mut y2, &mut chart, &mut diags),
        ChartKind::Bar | ChartKind::Stacked => {
            bars(spec, scope, &mut y, &mut y2, &mut chart, &mut diags)
        }
        ChartKind::Scatter => scatter(spec, scope, &mut x, &mut y, &mut y2, &mut chart, &mut diags),
    }

    for m in &spec.marks {
        match mark(m, scope, &mut x, &mut y, &mut y2) {
            Ok(mk) => chart.marks.push(mk),
            Err(d) => diags.push(d),
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    chart.x = x.resolved(&spec.x);
    if spec.kind == ChartKind::Line && spec.x.var.is_some() {
        // A sweep fixes the x range to exactly what was asked for.
        let xs = chart.series.first().map(|s| &s.points);
        if let Some(pts) = xs.filter(|p| !p.is_empty()) {
            chart.x.min = Some(pts[0].x);
            chart.x.max = Some(pts[pts.len() - 1].x);
        }
    }
    if chart.x.label.is_none() && !spec.kind.is_categorical() {
        chart.x.label = spec.x.var.as_ref().map(|v| v.text.clone());
    }
    if spec.kind.is_categorical() {
        chart.x.label = spec.x.label.clone();
        chart.x.unit = None;
    }
    chart.y = y.resolved(&spec.y);
    chart.y2 = match (&y2, &spec.y2) {
        (Some(c), Some(s)) => Some(c.resolved(s)),
        _ => None,
    };
    Ok(chart)
}

fn side_axis<'a>(side: Side, y: &'a mut AxisCtx, y2: &'a mut Option<AxisCtx>) -> &'a mut AxisCtx {
    match (side, y2) {
        (Side::Right, Some(a)) => a,
        _ => y,
    }
}

fn line(
    spec: &ChartSpec,
    scope: &Scope,
    x: &mut AxisCtx,
    y: &mut AxisCtx,
    y2: &mut Option<AxisCtx>,
    chart: &mut ResolvedChart,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(var) = &spec.x.var else {
        // Explicit x and y lists per series.
        for s in &spec.series {
            match explicit_series(s, scope, x, side_axis(s.axis, y, y2)) {
                Ok(series) => chart.series.push(series),
                Err(d) => diags.push(d),
            }
        }
        return;
    };
    let (Some(from), Some(to)) = (&spec.x.from, &spec.x.to) else {
        return; // reported by the parser
    };
    let ends = (|| {
        let a = x.value(from, "the sweep's start", scope, &[])?;
        let b = x.value(to, "the sweep's end", scope, &[])?;
        Ok::<_, Diagnostic>((a, b))
    })();
    let (a, b) = match ends {
        Ok(ends) => ends,
        Err(d) => {
            diags.push(d);
            return;
        }
    };
    let n = spec.points();
    let xs: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1).max(1) as f64;
            match (i, x.scale) {
                // The ends exactly as written, not rounded through a logarithm.
                (0, _) => a,
                (i, _) if i == n - 1 => b,
                (_, Scale::Log) => (a.ln() + t * (b.ln() - a.ln())).exp(),
                (_, Scale::Linear) => a + t * (b - a),
            }
        })
        .collect();
    let var_dim = x.dim.clone().unwrap_or_default();
    for s in &spec.series {
        let Some(Exprs::One(e)) = &s.y else {
            diags.push(
                Diagnostic::error(
                    Code::SpecBadValue,
                    "a swept series' `y` is one expression over the sweep variable",
                )
                .with_span(s.span.clone()),
            );
            continue;
        };
        let compiled = match scope.compile(&e.src, &var.text, &var_dim) {
            Ok(c) => c,
            Err(d) => {
                diags.push(place(d, e));
                continue;
            }
        };
        let axis = side_axis(s.axis, y, y2);
        let what = format!("series `{}`", s.label);
        // The dimension is known once compiled; plain numbers on a named axis are in its unit.
        let dim = compiled.dim().clone();
        let probe_si = compiled.eval(xs[0] * x.factor).unwrap_or(1.0);
        axis.adopt(&dim, probe_si, scope);
        let factor = if axis_is(axis, &dim) {
            axis.factor
        } else if dim.is_dimensionless() && axis.named {
            1.0
        } else {
            diags.push(axis.mismatch(&dim, &what, &e.span, scope));
            continue;
        };
        let mut points = Vec::with_capacity(xs.len());
        let mut failed = None;
        for &xv in &xs {
            let at = || {
                format!(
                    "{} = {}",
                    var.text,
                    x.unit.as_ref().map_or(plain_number(xv, 3), |u| format!(
                        "{} {u}",
                        plain_number(xv, 3)
                    ))
                )
            };
            match compiled.eval(xv * x.factor) {
                Ok(v) => {
                    let yv = v / factor;
                    if axis.scale == Scale::Log && yv <= 0.0 {
                        failed = Some(
                            Diagnostic::error(
                                Code::ChartLogNonpositive,
                                format!(
                                    "{what} is {} at {}, which a log-scale {} cannot show",
                                    plain_number(yv, 3),
                                    at(),
                                    axis.name
                                ),
                            )
                            .with_span(e.span.clone())
                            .with_help(
                                "use `scale: linear`, or sweep a range where it is positive",
                            ),
                        );
                        break;
                    }
                    points.push(Point::new(xv, yv));
                }
                Err(d) => {
                    failed = Some(
                        Diagnostic::error(
                            Code::ChartNotFinite,
                            format!("{what} has no finite value at {}: {}", at(), d.message),
                        )
                        .with_span(e.span.clone())
                        .with_label(d.label.clone().unwrap_or_else(|| "evaluated here".into())),
                    );
                    break;
                }
            }
        }
        match failed {
            Some(d) => diags.push(d),
            None => chart.series.push(Series {
                label: s.label.clone(),
                axis: s.axis,
                dash: s.dash,
                points,
            }),
        }
    }
}

fn axis_is(axis: &AxisCtx, dim: &Dim) -> bool {
    axis.dim.as_ref() == Some(dim)
}

fn explicit_series(
    s: &SeriesSpec,
    scope: &Scope,
    x: &mut AxisCtx,
    y: &mut AxisCtx,
) -> Result<Series, Diagnostic> {
    let (Some(xe), Some(ye)) = (&s.x, &s.y) else {
        return Err(
            Diagnostic::error(Code::SpecMissingKey, "a series needs `x` and `y`")
                .with_span(s.span.clone()),
        );
    };
    let xs = list(xe, scope)?;
    let ys = list(ye, scope)?;
    if xs.len() != ys.len() {
        return Err(Diagnostic::error(
            Code::SpecBadValue,
            format!(
                "series `{}` has {} x values but {} y values",
                s.label,
                xs.len(),
                ys.len()
            ),
        )
        .with_span(s.span.clone()));
    }
    let what = format!("series `{}`", s.label);
    let mut points = Vec::new();
    for ((xv, xe), (yv, ye)) in xs.iter().zip(&ys) {
        let (xsi, xd) = quantity(xv, xe)?;
        let (ysi, yd) = quantity(yv, ye)?;
        let px = x.convert(xsi, &xd, &format!("{what}'s x"), &xe.span, scope)?;
        let py = y.convert(ysi, &yd, &what, &ye.span, scope)?;
        x.check_log(px, &format!("{what}'s x"), &xe.span)?;
        y.check_log(py, &what, &ye.span)?;
        points.push(Point::new(px, py));
    }
    Ok(Series {
        label: s.label.clone(),
        axis: s.axis,
        dash: s.dash,
        points,
    })
}

fn bars(
    spec: &ChartSpec,
    scope: &Scope,
    y: &mut AxisCtx,
    y2: &mut Option<AxisCtx>,
    chart: &mut ResolvedChart,
    diags: &mut Vec<Diagnostic>,
) {
    // Categories, and the rows behind them when given.
    let mut rows: Option<Vec<Value>> = None;
    let cats: Result<Vec<String>, Diagnostic> = match (&spec.categories, &spec.rows) {
        (Some(Categories::Labels(l)), _) => Ok(l.iter().map(|t| t.text.clone()).collect()),
        (Some(Categories::Expr(e)), _) => list(&Exprs::One(e.clone()), scope)
            .map(|items| items.iter().map(|(v, _)| label_of(v, scope)).collect()),
        (None, Some(r)) => (|| {
            let items: Vec<Value> = list(r, scope)?.into_iter().map(|(v, _)| v).collect();
            let cat = spec.category.as_ref().ok_or_else(|| {
                Diagnostic::error(Code::SpecMissingKey, "missing `category`").with_span(r.span())
            })?;
            let names = items
                .iter()
                .map(|row| {
                    scope
                        .eval_expr_with(&cat.src, &row_local(row))
                        .map(|v| label_of(&v, scope))
                        .map_err(|d| place(d, cat))
                })
                .collect::<Result<Vec<_>, _>>()?;
            rows = Some(items);
            Ok(names)
        })(),
        (None, None) => return,
    };
    let cats = match cats {
        Ok(c) => c,
        Err(d) => {
            diags.push(d);
            return;
        }
    };
    for s in &spec.series {
        let Some(ye) = &s.y else { continue };
        let axis = side_axis(s.axis, y, y2);
        let what = format!("series `{}`", s.label);
        let values: Result<Vec<f64>, Diagnostic> = match (&rows, ye) {
            (Some(rows), Exprs::One(e)) => rows
                .iter()
                .map(|row| axis.value(e, &what, scope, &row_local(row)))
                .collect(),
            (_, exprs) => list(exprs, scope).and_then(|items| {
                items
                    .iter()
                    .map(|(v, e)| {
                        let (si, d) = quantity(v, e)?;
                        let x = axis.convert(si, &d, &what, &e.span, scope)?;
                        axis.check_log(x, &what, &e.span)
                    })
                    .collect()
            }),
        };
        match values {
            Ok(v) if v.len() != cats.len() => diags.push(
                Diagnostic::error(
                    Code::SpecBadValue,
                    format!(
                        "{what} has {} values for {} categories",
                        v.len(),
                        cats.len()
                    ),
                )
                .with_span(ye.span()),
            ),
            Ok(v) => chart.series.push(Series {
                label: s.label.clone(),
                axis: s.axis,
                dash: s.dash,
                points: v
                    .into_iter()
                    .enumerate()
                    .map(|(i, y)| Point::new(i as f64, y))
                    .collect(),
            }),
            Err(d) => diags.push(d),
        }
    }
    chart.categories = cats;
}

fn scatter(
    spec: &ChartSpec,
    scope: &Scope,
    x: &mut AxisCtx,
    y: &mut AxisCtx,
    y2: &mut Option<AxisCtx>,
    chart: &mut ResolvedChart,
    diags: &mut Vec<Diagnostic>,
) {
    for s in &spec.series {
        let (Some(pe), Some(Exprs::One(xe)), Some(Exprs::One(ye))) = (&s.points, &s.x, &s.y) else {
            continue;
        };
        let axis = side_axis(s.axis, y, y2);
        let what = format!("series `{}`", s.label);
        let result = (|| {
            let rows = list(pe, scope)?;
            let mut points = Vec::new();
            for (row, _) in &rows {
                let locals = row_local(row);
                let px = x.value(xe, &format!("{what}'s x"), scope, &locals)?;
                let py = axis.value(ye, &what, scope, &locals)?;
                let label = match &s.name {
                    Some(n) => Some(
                        scope
                            .eval_expr_with(&n.src, &locals)
                            .map(|v| label_of(&v, scope))
                            .map_err(|d| place(d, n))?,
                    ),
                    None => None,
                };
                points.push(Point {
                    x: px,
                    y: py,
                    label,
                });
            }
            Ok::<_, Diagnostic>(points)
        })();
        match result {
            Ok(points) => chart.series.push(Series {
                label: s.label.clone(),
                axis: s.axis,
                dash: false,
                points,
            }),
            Err(d) => diags.push(d),
        }
    }
}

fn mark(
    m: &super::spec::MarkSpec,
    scope: &Scope,
    x: &mut AxisCtx,
    y: &mut AxisCtx,
    y2: &mut Option<AxisCtx>,
) -> Result<Mark, Diagnostic> {
    let label = m.label.clone();
    let axis = m.axis;
    Ok(match &m.kind {
        MarkKind::XLine(e) => Mark::XLine {
            x: x.value(e, "the mark", scope, &[])?,
            label,
        },
        MarkKind::YLine(e) => Mark::YLine {
            y: side_axis(axis, y, y2).value(e, "the mark", scope, &[])?,
            axis,
            label,
        },
        MarkKind::Point(a, b) => Mark::Point {
            x: x.value(a, "the point's x", scope, &[])?,
            y: side_axis(axis, y, y2).value(b, "the point's y", scope, &[])?,
            axis,
            label,
        },
        MarkKind::Note(text, a, b) => Mark::Note {
            x: x.value(a, "the note's x", scope, &[])?,
            y: side_axis(axis, y, y2).value(b, "the note's y", scope, &[])?,
            axis,
            text: text.clone(),
        },
        MarkKind::Band(BandSpec::X(a, b)) => Mark::Band {
            along: BandAxis::X,
            from: x.value(a, "the band's start", scope, &[])?,
            to: x.value(b, "the band's end", scope, &[])?,
            axis,
            label,
        },
        MarkKind::Band(BandSpec::Y(a, b)) => {
            let ax = side_axis(axis, y, y2);
            Mark::Band {
                along: BandAxis::Y,
                from: ax.value(a, "the band's start", scope, &[])?,
                to: ax.value(b, "the band's end", scope, &[])?,
                axis,
                label,
            }
        }
    })
}

/// Evaluates a table spec in `scope`.
pub fn evaluate_table(spec: &TableSpec, scope: &Scope) -> Result<ResolvedTable, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let Some(rows_spec) = &spec.rows else {
        return Err(vec![
            Diagnostic::error(Code::SpecMissingKey, "missing `rows` in table").with_span(0..0),
        ]);
    };
    let rows = match list(rows_spec, scope) {
        Ok(r) => r,
        Err(d) => return Err(vec![d]),
    };
    let reg = scope.registry();
    // Column units, parsed once.
    let mut units: Vec<Option<(String, f64, Dim)>> = Vec::new();
    for c in &spec.columns {
        units.push(match &c.unit {
            Some(u) => match reg.parse_unit(&u.text) {
                Ok((f, d)) => Some((u.text.clone(), f, d)),
                Err(msg) => {
                    diags.push(
                        Diagnostic::error(Code::UnknownUnit, format!("bad column unit: {msg}"))
                            .with_span(u.span.clone()),
                    );
                    None
                }
            },
            None => None,
        });
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let mut table = ResolvedTable {
        id: spec.id.as_ref().map(|t| t.text.clone()),
        caption: spec.caption.clone(),
        columns: spec
            .columns
            .iter()
            .zip(&units)
            .map(|(c, u)| Column {
                name: c.name.clone(),
                unit: u.as_ref().map(|u| u.0.clone()),
                numeric: false,
            })
            .collect(),
        rows: Vec::new(),
    };
    let mut numeric = vec![true; spec.columns.len()];
    for (row, _) in &rows {
        let locals = row_local(row);
        let mut cells = Vec::new();
        for (i, (c, unit)) in spec.columns.iter().zip(&units).enumerate() {
            let v = match scope.eval_expr_with(&c.expr.src, &locals) {
                Ok(v) => v,
                Err(d) => {
                    diags.push(place(d, &c.expr));
                    cells.push(Cell::default());
                    continue;
                }
            };
            let cell = match (&v, unit) {
                (Value::Quantity { si, dim, .. }, Some((text, factor, udim))) => {
                    if dim == udim || dim.is_dimensionless() {
                        let shown = if dim == udim { si / factor } else { *si };
                        Cell::number(plain_number(shown, c.digits.unwrap_or(3)), shown)
                    } else {
                        diags.push(
                            Diagnostic::error(
                                Code::ChartUnitMismatch,
                                format!(
                                    "column `{}` is {}, but its unit `{text}` is {}",
                                    c.name,
                                    reg.describe(dim),
                                    reg.describe(udim)
                                ),
                            )
                            .with_span(c.expr.span.clone())
                            .with_secondary(
                                c.unit.as_ref().map_or(0..0, |u| u.span.clone()),
                                format!("this is {}", reg.describe(udim)),
                            ),
                        );
                        Cell::default()
                    }
                }
                (Value::Quantity { si, dim, shown, .. }, None) => {
                    let text = match c.digits {
                        Some(d) => {
                            let shown = Shown {
                                unit: shown.as_ref().and_then(|s| s.unit.clone()),
                                digits: Some(d),
                            };
                            format_quantity(*si, dim, Some(&shown), reg)
                        }
                        None => scope.format(&v),
                    };
                    Cell::number(text, *si)
                }
                _ => {
                    numeric[i] = false;
                    Cell::text(label_of(&v, scope))
                }
            };
            cells.push(cell);
        }
        let highlight = match &spec.highlight {
            Some(h) => match scope.eval_expr_with(&h.src, &locals) {
                Ok(Value::Bool(b)) => b,
                Ok(other) => {
                    diags.push(
                        Diagnostic::error(
                            Code::SpecBadValue,
                            format!("`highlight` must be true or false, not a {}", other.kind()),
                        )
                        .with_span(h.span.clone()),
                    );
                    false
                }
                Err(d) => {
                    diags.push(place(d, h));
                    false
                }
            },
            None => false,
        };
        if !diags.is_empty() {
            // One bad cell usually means the same error on every row: report the first row's.
            return Err(dedup(diags));
        }
        table.rows.push(Row { cells, highlight });
    }
    for (c, n) in table.columns.iter_mut().zip(numeric) {
        c.numeric = n && !rows.is_empty();
    }
    if let Some((col, desc)) = spec.sort {
        table.sort_by(col, desc);
    }
    Ok(table)
}

fn dedup(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.dedup();
    diags
}
