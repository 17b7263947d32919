//! The layout of a chart, pure geometry with no drawing: the axes fitted to the data, the frame's
//! margins (title, legend, axis titles, tick and category labels), the plot rectangle and the map
//! from data to it, the bars, and where every label goes. Labels are placed against everything
//! already on the plot (series traced as points, bars, mark lines, other labels): each tries its
//! preferred spots, then the free spot nearest its anchor, reached by a leader line. Nothing here
//! writes SVG; [`super::svg`] draws a [`Layout`].

use plotters::style::text_anchor::{HPos, VPos};

use super::scale::AxisScale;
use super::{BandAxis, ChartKind, Mark, ResolvedChart, Scale, Side};

// Font sizes in SVG user units (the SVG is `width` units wide, 720 by default).
pub(crate) const TITLE_PX: f64 = 18.0;
pub(crate) const LEGEND_PX: f64 = 15.0;
pub(crate) const TICK_PX: f64 = 14.0;
pub(crate) const AXIS_PX: f64 = 15.0;
pub(crate) const MARK_PX: f64 = 13.5;
pub(crate) const PAD: i32 = 10;

/// Estimated width of `text` at `px` (system sans-serif averages just under 0.6 em a character).
pub(crate) fn text_w(text: &str, px: f64) -> i32 {
    (text.chars().count() as f64 * px * 0.57).ceil() as i32
}

/// The axes of a chart, fitted to its data and marks.
pub(crate) struct Axes {
    pub(crate) x: AxisScale,
    pub(crate) y: AxisScale,
    pub(crate) y2: Option<AxisScale>,
}

impl Axes {
    /// The y axis a series or mark on `side` is plotted against (the left one if there is no
    /// right axis).
    pub(crate) fn side(&self, side: Side) -> &AxisScale {
        match (side, &self.y2) {
            (Side::Right, Some(y2)) => y2,
            _ => &self.y,
        }
    }
}

pub(crate) fn fit_axes(chart: &ResolvedChart) -> Axes {
    let x = if chart.kind.is_categorical() {
        let n = chart.categories.len().max(1);
        AxisScale {
            lo: -0.5,
            hi: n as f64 - 0.5,
            scale: Scale::Linear,
            ticks: (0..n).map(|i| i as f64).collect(),
            minor: Vec::new(),
        }
    } else {
        let mut xs: Vec<f64> = chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.x))
            .collect();
        for m in &chart.marks {
            match m {
                Mark::XLine { x, .. } | Mark::Point { x, .. } | Mark::Note { x, .. } => xs.push(*x),
                Mark::Band {
                    along: BandAxis::X,
                    from,
                    to,
                    ..
                } => xs.extend([*from, *to]),
                _ => {}
            }
        }
        fit(&xs, &chart.x, false)
    };
    let y = fit_side(chart, Side::Left, &chart.y);
    let y2 = chart.y2.as_ref().map(|a| fit_side(chart, Side::Right, a));
    Axes { x, y, y2 }
}

pub(crate) fn fit_side(chart: &ResolvedChart, side: Side, axis: &super::Axis) -> AxisScale {
    let mut ys = Vec::new();
    let series = chart.series.iter().filter(|s| s.axis == side);
    match chart.kind {
        ChartKind::Stacked => {
            for c in 0..chart.categories.len() {
                let (mut pos, mut neg) = (0.0, 0.0);
                for s in chart.series.iter().filter(|s| s.axis == side) {
                    for p in s.points.iter().filter(|p| p.x as usize == c) {
                        if p.y >= 0.0 { pos += p.y } else { neg += p.y }
                    }
                }
                ys.extend([pos, neg]);
            }
        }
        _ => ys.extend(series.flat_map(|s| s.points.iter().map(|p| p.y))),
    }
    for m in &chart.marks {
        match m {
            Mark::YLine { y, axis, .. }
            | Mark::Point { y, axis, .. }
            | Mark::Note { y, axis, .. }
                if *axis == side =>
            {
                ys.push(*y)
            }
            Mark::Band {
                along: BandAxis::Y,
                from,
                to,
                axis,
                ..
            } if *axis == side => ys.extend([*from, *to]),
            _ => {}
        }
    }
    // Bars on a log axis grow from its lower end, so their heights depend on where it starts:
    // start at the decade below the smallest bar (a round number the figure's head names), never
    // at the smallest bar itself, or that bar would have no height at all.
    if chart.kind.is_categorical() && axis.scale == Scale::Log {
        // The bars' own values: a mark line below them (`Chinchilla-optimal` at 1) is no bar.
        let smallest = chart
            .series
            .iter()
            .filter(|s| s.axis == side)
            .flat_map(|s| s.points.iter().map(|p| p.y))
            .filter(|v| v.is_finite() && *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        if smallest.is_finite() {
            ys.push(bar_floor(smallest));
        }
    }
    let zero = chart.kind != ChartKind::Scatter;
    fit(&ys, axis, zero)
}

/// The decade below `smallest` (a positive bar): 70 → 10, 1.9 → 1, 100 → 10.
pub(crate) fn bar_floor(smallest: f64) -> f64 {
    let decade = 10f64.powf(smallest.log10().floor());
    if decade >= smallest * 0.999 {
        decade / 10.0
    } else {
        decade
    }
}

/// An axis holding `values` (non-positive ones dropped on log axes), honouring fixed ends.
pub(crate) fn fit(values: &[f64], axis: &super::Axis, include_zero: bool) -> AxisScale {
    let ok = |v: &&f64| v.is_finite() && (axis.scale == Scale::Linear || **v > 0.0);
    let lo = values
        .iter()
        .filter(ok)
        .copied()
        .fold(f64::INFINITY, f64::min);
    let hi = values
        .iter()
        .filter(ok)
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut lo, mut hi) = if lo.is_finite() {
        (lo, hi)
    } else if axis.scale == Scale::Log {
        (1.0, 10.0)
    } else {
        (0.0, 1.0)
    };
    if include_zero && axis.scale == Scale::Linear {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    match (axis.min, axis.max) {
        (Some(a), Some(b)) => AxisScale::fixed(a, b, axis.scale),
        (a, b) => {
            let fixed_lo = a.is_some();
            let fixed_hi = b.is_some();
            if axis.scale == Scale::Linear && hi > lo {
                // A little headroom so the largest value does not sit on the frame.
                if hi > 0.0 {
                    hi += (hi - lo) * 0.03;
                }
                if lo < 0.0 {
                    lo -= (hi - lo) * 0.03;
                }
            }
            lo = a.unwrap_or(lo);
            hi = b.unwrap_or(hi);
            let nice = AxisScale::nice(lo, hi, axis.scale);
            AxisScale::fixed(
                if fixed_lo { lo } else { nice.lo },
                if fixed_hi { hi } else { nice.hi },
                axis.scale,
            )
        }
    }
}

/// Greedy word wrap of a category label into lines of at most `max_chars`, at most three lines.
pub(crate) fn wrap(label: &str, max_chars: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in label.split_whitespace() {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= max_chars => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    if lines.len() > 3 {
        let rest = lines.split_off(2).join(" ");
        lines.push(rest);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// `label` wrapped into lines of at most `max_chars`, if it fits in three lines with no word
/// longer than a line.
pub(crate) fn wrap_fits(label: &str, max_chars: usize) -> Option<Vec<String>> {
    let lines = wrap(label, max_chars);
    (lines.len() <= 3 && lines.iter().all(|l| l.chars().count() <= max_chars)).then_some(lines)
}

/// `label` without its parenthesised qualifiers: `NVIDIA GB200 (per GPU in an NVL72 rack)` →
/// `NVIDIA GB200`.
pub(crate) fn strip_parens(label: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in label.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches([',', ';', ':'])
        .to_string()
}

/// At most `max` characters of `label`, cut at a word with an ellipsis when longer.
pub(crate) fn ellipsize(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        return label.to_string();
    }
    let cut: String = label.chars().take(max - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut[..i].to_string(),
        _ => cut,
    };
    format!("{}…", cut.trim_end_matches([' ', ',', ';', ':', '-']))
}

/// How category labels are set under a bar chart.
pub(crate) enum CategoryLabels {
    /// Horizontal, each wrapped into up to three lines that fit its slot.
    Wrapped(Vec<Vec<String>>),
    /// Too long for their slots: one line each, shortened, rotated by [`ROTATE_DEG`].
    Rotated(Vec<String>),
}

pub(crate) const ROTATE_DEG: f64 = 40.0;
pub(crate) const ROTATED_MAX_CHARS: usize = 24;

/// Labels that fit a slot `slot` units wide: as written, else without parenthesised
/// qualifiers (when that keeps them distinct), else rotated.
pub(crate) fn category_labels(categories: &[String], slot: f64) -> CategoryLabels {
    let max_chars = ((slot * 0.94) / (TICK_PX * 0.57)).floor().max(4.0) as usize;
    let fitted = |labels: &[String]| -> Option<Vec<Vec<String>>> {
        labels.iter().map(|c| wrap_fits(c, max_chars)).collect()
    };
    if let Some(lines) = fitted(categories) {
        return CategoryLabels::Wrapped(lines);
    }
    let stripped: Vec<String> = categories
        .iter()
        .map(|c| match strip_parens(c) {
            s if s.is_empty() => c.clone(),
            s => s,
        })
        .collect();
    let distinct = {
        let mut seen = stripped.clone();
        seen.sort();
        seen.dedup();
        seen.len() == stripped.len()
    };
    let short = if distinct {
        stripped
    } else {
        categories.to_vec()
    };
    if let Some(lines) = fitted(&short) {
        return CategoryLabels::Wrapped(lines);
    }
    CategoryLabels::Rotated(
        short
            .iter()
            .map(|c| ellipsize(c, ROTATED_MAX_CHARS))
            .collect(),
    )
}

/// A unit as the reader sees it: the ASCII `us` of chart specs becomes `µs`, as calc output
/// writes it (`Time (µs)`, not `Time (us)`).
pub(crate) fn display_unit(unit: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(if word == "us" { "µs" } else { word });
        word.clear();
    };
    for c in unit.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// [`super::Axis::title`] with the unit as displayed.
/// The titles of the x, left y and right y axes.
pub(crate) fn axis_titles(
    chart: &ResolvedChart,
) -> (Option<String>, Option<String>, Option<String>) {
    let x = if chart.kind.is_categorical() {
        chart.x.label.clone().or_else(|| axis_title(&chart.x))
    } else {
        axis_title(&chart.x)
    };
    let y2 = chart.y2.as_ref().and_then(axis_title);
    (x, axis_title(&chart.y), y2)
}

pub(crate) fn axis_title(axis: &super::Axis) -> Option<String> {
    let mut shown = axis.clone();
    shown.unit = axis.unit.as_deref().map(display_unit);
    shown.title()
}

/// An anchor for a label: a point and which side of the text sits on it.
pub(crate) type Anchor = (i32, i32, HPos, VPos);

/// Boxes already taken by labels and points, so later labels can avoid them.
#[derive(Default)]
pub(crate) struct Taken {
    pub(crate) boxes: Vec<(i32, i32, i32, i32)>,
    /// The region labels must stay inside (x0, y0, x1, y1).
    pub(crate) bounds: (i32, i32, i32, i32),
}

pub(crate) fn label_box(a: &Anchor, w: i32, h: i32) -> (i32, i32, i32, i32) {
    let x0 = match a.2 {
        HPos::Left => a.0,
        HPos::Right => a.0 - w,
        HPos::Center => a.0 - w / 2,
    };
    let y0 = match a.3 {
        VPos::Top => a.1,
        VPos::Bottom => a.1 - h,
        VPos::Center => a.1 - h / 2,
    };
    (x0, y0, x0 + w, y0 + h)
}

impl Taken {
    fn clashes(&self, b: (i32, i32, i32, i32)) -> bool {
        self.boxes
            .iter()
            .any(|t| b.0 < t.2 && t.0 < b.2 && b.1 < t.3 && t.1 < b.3)
    }

    fn inside(&self, b: (i32, i32, i32, i32)) -> bool {
        b.0 >= self.bounds.0 && b.2 <= self.bounds.2 && b.1 >= self.bounds.1 && b.3 <= self.bounds.3
    }

    /// Marks a point's disc as taken.
    fn point(&mut self, c: (i32, i32), r: i32) {
        self.boxes.push((c.0 - r, c.1 - r, c.0 + r, c.1 + r));
    }

    /// Places a `w` × `h` label: at the first candidate whose box fits inside the bounds and
    /// overlaps nothing taken; failing that, at the free spot nearest `target` (what the label
    /// names), with a leader line back to it when it lands away from it; failing that, at the
    /// first candidate that fits. Takes the box.
    pub(crate) fn place(&mut self, cands: &[Anchor], w: i32, h: i32, target: Target) -> Placed {
        if let Some(a) = cands.iter().find(|a| {
            let b = label_box(a, w, h);
            self.inside(b) && !self.clashes(b)
        }) {
            self.boxes.push(label_box(a, w, h));
            return Placed {
                at: *a,
                leader: None,
            };
        }
        if let Some((b, leader)) = self.nearest_free(w, h, target) {
            self.boxes.push(b);
            return Placed {
                at: (b.0, b.1, HPos::Left, VPos::Top),
                leader,
            };
        }
        let pick = cands
            .iter()
            .find(|a| self.inside(label_box(a, w, h)))
            .unwrap_or(&cands[0]);
        self.boxes.push(label_box(pick, w, h));
        Placed {
            at: *pick,
            leader: None,
        }
    }

    /// The free box nearest `target` on a grid over the bounds, and its leader line (when it is
    /// more than a few units away): the nearest whose leader crosses nothing, else the nearest.
    #[allow(clippy::type_complexity)]
    fn nearest_free(
        &self,
        w: i32,
        h: i32,
        target: Target,
    ) -> Option<((i32, i32, i32, i32), Option<((i32, i32), (i32, i32))>)> {
        const STEP: usize = 6;
        let (bx0, by0, bx1, by1) = self.bounds;
        let mut spots: Vec<(i64, (i32, i32, i32, i32))> = Vec::new();
        for y in (by0 + 2..=by1 - h - 2).step_by(STEP) {
            for x in (bx0 + 2..=bx1 - w - 2).step_by(STEP) {
                let b = (x, y, x + w, y + h);
                let (from, end) = target.leader_from(b, b.0 + w / 2, b.1 + h / 2);
                let (dx, dy) = ((end.0 - from.0) as i64, (end.1 - from.1) as i64);
                spots.push((dx * dx + dy * dy, b));
            }
        }
        spots.sort_by_key(|(d, b)| (*d, b.1, b.0));
        // A spot with a 3-unit margin, so a label does not touch what it avoids.
        let free: Vec<(i32, i32, i32, i32)> = spots
            .into_iter()
            .map(|(_, b)| b)
            .filter(|b| !self.clashes((b.0 - 3, b.1 - 3, b.2 + 3, b.3 + 3)))
            .take(40)
            .collect();
        let leader = |b: (i32, i32, i32, i32), at: (i32, i32)| {
            let (from, end) = target.leader_from(b, at.0, at.1);
            ((end.0 - from.0).abs() + (end.1 - from.1).abs() > 6).then_some((from, end))
        };
        let centre = |b: (i32, i32, i32, i32)| ((b.0 + b.2) / 2, (b.1 + b.3) / 2);
        for b in &free {
            // Try the leader from anywhere along the box's edge facing the target.
            let (cx, cy) = centre(*b);
            let mut tries: Vec<(i32, i32)> = Vec::new();
            for k in (0..=((b.2 - b.0).max(b.3 - b.1) / 2)).step_by(4) {
                for sgn in [1, -1] {
                    tries.push((cx + sgn * k, cy + sgn * k));
                }
            }
            for at in tries {
                let (at_x, at_y) = (at.0.clamp(b.0 + 2, b.2 - 2), at.1.clamp(b.1 + 2, b.3 - 2));
                match leader(*b, (at_x, at_y)) {
                    None => return Some((*b, None)),
                    Some(seg) if !self.crosses(seg, target) => return Some((*b, Some(seg))),
                    _ => {}
                }
            }
        }
        free.first().map(|b| (*b, leader(*b, centre(*b))))
    }

    /// Whether a leader segment crosses something taken, other than the line it leads to.
    fn crosses(&self, (a, b): ((i32, i32), (i32, i32)), target: Target) -> bool {
        let steps = ((b.0 - a.0).abs().max((b.1 - a.1).abs()) / 3).max(1);
        (1..steps).any(|k| {
            let p = (a.0 + (b.0 - a.0) * k / steps, a.1 + (b.1 - a.1) * k / steps);
            let near_target = match target {
                Target::Point(x, y) => (p.0 - x).abs() <= 8 && (p.1 - y).abs() <= 8,
                Target::Across(y) => (p.1 - y).abs() <= 3,
                Target::Along(x) => (p.0 - x).abs() <= 3,
            };
            !near_target && self.clashes((p.0 - 1, p.1 - 1, p.0 + 1, p.1 + 1))
        })
    }
}

/// What a label names, for a leader line drawn to it: a point, or a horizontal or vertical line.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    Point(i32, i32),
    /// A horizontal line at this y.
    Across(i32),
    /// A vertical line at this x.
    Along(i32),
}

impl Target {
    /// A leader line from box `b` to the target, leaving the box at `(x, y)` (a point on or in
    /// the box): straight down or up to a horizontal line, sideways to a vertical one, directly
    /// to a point; it starts at the box's edge.
    fn leader_from(self, b: (i32, i32, i32, i32), x: i32, y: i32) -> ((i32, i32), (i32, i32)) {
        let end = match self {
            Target::Point(px, py) => (px, py),
            Target::Across(ly) => (x, ly),
            Target::Along(lx) => (lx, y),
        };
        let from = (end.0.clamp(b.0, b.2), end.1.clamp(b.1, b.3));
        let from = match self {
            Target::Point(..) => from,
            Target::Across(_) => (x, from.1),
            Target::Along(_) => (from.0, y),
        };
        (from, end)
    }
}

/// Where a label went, and the leader line from it to what it names when it had to move away.
#[derive(Clone, Copy)]
pub(crate) struct Placed {
    pub(crate) at: Anchor,
    pub(crate) leader: Option<((i32, i32), (i32, i32))>,
}

/// The size of one rendering of a chart, and whether its title, legend and axis titles are drawn
/// inside the SVG (a standalone image) or left to the HTML around it ([`render_figure`]), where
/// they wrap with the page instead of shrinking with the drawing.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub text_inside: bool,
}

/// Width in user units of the phone rendering: at a 320 px screen the chart column is about
/// 270 px, so the smallest text (mark labels, 13.5 units) still renders above 9 px.
pub const NARROW_WIDTH: u32 = 380;

impl Frame {
    /// The chart's own size with every label drawn inside: what [`render_svg`] draws.
    pub fn standalone(chart: &ResolvedChart) -> Frame {
        Frame {
            width: chart.width,
            height: chart.height,
            text_inside: true,
        }
    }

    /// The desktop rendering inside a figure: the chart's size, labels in HTML.
    pub fn wide(chart: &ResolvedChart) -> Frame {
        Frame {
            text_inside: false,
            ..Frame::standalone(chart)
        }
    }

    /// The phone rendering inside a figure: at most [`NARROW_WIDTH`] units wide and a little
    /// squarer than the desktop one, labels in HTML.
    pub fn narrow(chart: &ResolvedChart) -> Frame {
        let width = chart.width.min(NARROW_WIDTH);
        let height = (chart.height as f64
            * (0.55 + 0.45 * width as f64 / chart.width.max(1) as f64))
            .round() as u32;
        Frame {
            width,
            height: height.max(240),
            text_inside: false,
        }
    }
}

/// The legend's entries: every series when there are several or a right axis, none otherwise.
pub(crate) fn legend_items(chart: &ResolvedChart) -> Vec<(usize, String)> {
    let has_right = chart.y2.is_some();
    chart
        .series
        .iter()
        .enumerate()
        .filter(|_| chart.series.len() > 1 || has_right)
        .map(|(i, s)| {
            let label = if has_right && s.axis == Side::Right {
                format!("{} (right axis)", s.label)
            } else {
                s.label.clone()
            };
            (i, label)
        })
        .collect()
}

/// The plot rectangle: `x0` (left) to `x1` (right), `y1` (top) to `y0` (bottom).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Plot {
    pub(crate) x0: i32,
    pub(crate) x1: i32,
    pub(crate) y0: i32,
    pub(crate) y1: i32,
}

/// A legend entry drawn inside the SVG: the series, its label, where it starts, its middle line.
pub(crate) struct LegendEntry {
    pub(crate) series: usize,
    pub(crate) label: String,
    pub(crate) x: i32,
    pub(crate) cy: i32,
}

/// A bar (or a stacked segment) of series `series`, from corner `a` (top left) to `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bar {
    pub(crate) series: usize,
    pub(crate) a: (i32, i32),
    pub(crate) b: (i32, i32),
}

/// A label on the plot: a mark's, a band's or a scatter point's.
#[derive(Clone)]
pub(crate) struct Label {
    pub(crate) text: String,
    pub(crate) placed: Placed,
    /// A band's label, drawn quieter than a mark's.
    pub(crate) muted: bool,
}

/// Everything a chart's drawing needs, in SVG units.
pub(crate) struct Layout {
    pub(crate) w: i32,
    pub(crate) h: i32,
    pub(crate) axes: Axes,
    pub(crate) plot: Plot,
    /// The title and its top, when drawn inside the SVG.
    pub(crate) title: Option<(String, i32)>,
    pub(crate) legend: Vec<LegendEntry>,
    pub(crate) x_title: Option<String>,
    pub(crate) y_title: Option<String>,
    pub(crate) y2_title: Option<String>,
    /// Distance of the y title from the plot's left edge.
    pub(crate) y_title_gap: i32,
    pub(crate) cat_labels: Option<CategoryLabels>,
    /// The x tick labels kept (every other one dropped while neighbours would overlap).
    pub(crate) x_labels: Vec<(i32, String)>,
    pub(crate) bars: Vec<Bar>,
    pub(crate) labels: Vec<Label>,
}

impl Layout {
    pub(crate) fn px(&self, x: f64) -> i32 {
        self.plot.x0
            + (self.axes.x.fraction(x) * (self.plot.x1 - self.plot.x0) as f64).round() as i32
    }

    pub(crate) fn py(&self, side: Side, y: f64) -> i32 {
        let a = self.axes.side(side);
        self.plot.y0 + (a.fraction(y) * (self.plot.y1 - self.plot.y0) as f64).round() as i32
    }

    /// `px`/`py` to a tenth of a unit, for smooth lines.
    pub(crate) fn fine(&self, side: Side, x: f64, y: f64) -> (f64, f64) {
        let a = self.axes.side(side);
        (
            self.plot.x0 as f64 + self.axes.x.fraction(x) * (self.plot.x1 - self.plot.x0) as f64,
            self.plot.y0 as f64 + a.fraction(y) * (self.plot.y1 - self.plot.y0) as f64,
        )
    }

    pub(crate) fn visible(&self, side: Side, x: f64, y: f64) -> bool {
        self.axes.x.contains(x) && self.axes.side(side).contains(y)
    }
}

/// The margins around the plot, and what sits in them.
struct Margins {
    top: i32,
    left: i32,
    right: i32,
    bottom: i32,
    h: i32,
    title_y: i32,
    legend: Vec<LegendEntry>,
    titles: (Option<String>, Option<String>, Option<String>),
    y_title_gap: i32,
    cat_labels: Option<CategoryLabels>,
}

fn tick_w(a: &AxisScale) -> i32 {
    a.ticks
        .iter()
        .map(|t| text_w(&a.label(*t), TICK_PX))
        .max()
        .unwrap_or(0)
}

/// The rows above the plot: the title, then the legend wrapped into rows. Returns the entries
/// and the top of the plot.
fn head_rows(chart: &ResolvedChart, w: i32, inside: bool) -> (i32, Vec<LegendEntry>, i32) {
    let mut top = PAD;
    let title_y = top;
    if inside && chart.title.is_some() {
        top += 30;
    }
    let items = if inside {
        legend_items(chart)
    } else {
        Vec::new()
    };
    let mut legend = Vec::new();
    let (mut x, mut row) = (PAD, 0);
    for (i, label) in items {
        let item_w = 30 + text_w(&label, LEGEND_PX) + 22;
        if x + item_w > w - PAD && x > PAD {
            x = PAD;
            row += 1;
        }
        legend.push(LegendEntry {
            series: i,
            label,
            x,
            cy: top + row * 24 + 11,
        });
        x += item_w;
    }
    if !legend.is_empty() {
        top += (row + 1) * 24 + 2;
    }
    (title_y, legend, top + 10) // room for the top tick label
}

fn margins(chart: &ResolvedChart, axes: &Axes, w: i32, h: i32, inside: bool) -> Margins {
    let (title_y, legend, top) = head_rows(chart, w, inside);
    let titles = if inside {
        axis_titles(chart)
    } else {
        (None, None, None)
    };
    let y_title_gap = 26 + tick_w(&axes.y) + 12;
    let left = PAD + if titles.1.is_some() { 26 } else { 0 } + tick_w(&axes.y) + 12;
    let right = match &axes.y2 {
        Some(a) => w - (PAD + if titles.2.is_some() { 26 } else { 0 } + tick_w(a) + 12),
        None => {
            let last = if chart.kind.is_categorical() {
                0
            } else {
                axes.x
                    .ticks
                    .last()
                    .map(|t| text_w(&axes.x.label(*t), TICK_PX) / 2)
                    .unwrap_or(0)
            };
            w - PAD - last.max(8)
        }
    };
    let slots = chart.categories.len().max(1) as f64;
    let cat_labels = chart
        .kind
        .is_categorical()
        .then(|| category_labels(&chart.categories, (right - left).max(50) as f64 / slots));
    // Room under the plot for the category or tick labels; rotated labels also need room on
    // the left for the first one, and the chart grows taller rather than squeeze its plot.
    let (sin, cos) = ROTATE_DEG.to_radians().sin_cos();
    let (label_h, left, h) = match &cat_labels {
        Some(CategoryLabels::Rotated(labels)) => {
            let widest = labels.iter().map(|l| text_w(l, TICK_PX)).max().unwrap_or(0);
            let drop = (sin * widest as f64 + cos * TICK_PX).ceil() as i32 + 14;
            // Label i ends under slot i and reaches left by cos × its width; any of them (not
            // only the first) may reach furthest. Widths are estimates: leave a tenth spare.
            let slot = (right - left).max(50) as f64 / slots;
            let reach = labels
                .iter()
                .enumerate()
                .map(|(i, l)| cos * text_w(l, TICK_PX) as f64 * 1.1 - slot * (i as f64 + 0.5))
                .fold(0.0, f64::max);
            let left = left.max(reach.ceil() as i32 + PAD);
            (drop, left, h + (drop - 30).max(0))
        }
        Some(CategoryLabels::Wrapped(lines)) => {
            let n = lines.iter().map(Vec::len).max().unwrap_or(1) as i32;
            (12 + n * 18, left, h)
        }
        None => (30, left, h),
    };
    let bottom = h - PAD - if titles.0.is_some() { 26 } else { 0 } - label_h;
    Margins {
        top,
        left,
        right,
        bottom: bottom.max(top + 50),
        h,
        title_y,
        legend,
        titles,
        y_title_gap,
        cat_labels,
    }
}

/// Lays out `chart` in `frame`: margins, plot, bars and every label's place.
pub(crate) fn layout(chart: &ResolvedChart, frame: &Frame) -> Layout {
    let (w, h) = (frame.width.max(200) as i32, frame.height.max(150) as i32);
    let axes = fit_axes(chart);
    let m = margins(chart, &axes, w, h, frame.text_inside);
    let (x_title, y_title, y2_title) = m.titles;
    let mut out = Layout {
        w,
        h: m.h,
        axes,
        // The last pixel inside the margins, as plotters maps its ranges.
        plot: Plot {
            x0: m.left,
            x1: m.right - 1,
            y0: m.bottom - 1,
            y1: m.top,
        },
        title: chart
            .title
            .clone()
            .filter(|_| frame.text_inside)
            .map(|t| (t, m.title_y)),
        legend: m.legend,
        x_title,
        y_title,
        y2_title,
        y_title_gap: m.y_title_gap,
        cat_labels: m.cat_labels,
        x_labels: Vec::new(),
        bars: Vec::new(),
        labels: Vec::new(),
    };
    if out.cat_labels.is_none() {
        out.x_labels = x_tick_labels(&out);
    }
    out.bars = bars(chart, &out);
    let mut taken = occupied(chart, &out);
    out.labels = place_labels(chart, &out, &mut taken);
    out
}

/// The x tick labels to show: every one, else every other (or third…) while neighbours would
/// overlap.
fn x_tick_labels(l: &Layout) -> Vec<(i32, String)> {
    let labels: Vec<(i32, String)> = l
        .axes
        .x
        .ticks
        .iter()
        .map(|t| (l.px(*t), l.axes.x.label(*t)))
        .collect();
    let mut every = 1;
    while every < labels.len() {
        let kept: Vec<&(i32, String)> = labels.iter().step_by(every).collect();
        let clash = kept.windows(2).any(|p| {
            (p[1].0 - p[0].0).abs() < (text_w(&p[0].1, TICK_PX) + text_w(&p[1].1, TICK_PX)) / 2 + 10
        });
        if !clash {
            break;
        }
        every += 1;
    }
    labels.into_iter().step_by(every).collect()
}

/// The bars of a bar or stacked chart; bars on a log axis grow from its lower end.
fn bars(chart: &ResolvedChart, l: &Layout) -> Vec<Bar> {
    if !chart.kind.is_categorical() {
        return Vec::new();
    }
    let n = chart.series.len().max(1) as f64;
    let stacked = chart.kind == ChartKind::Stacked;
    let mut pos = vec![0.0; chart.categories.len()];
    let mut neg = vec![0.0; chart.categories.len()];
    let mut out = Vec::new();
    for (i, s) in chart.series.iter().enumerate() {
        let ys = l.axes.side(s.axis);
        let base = if ys.scale == Scale::Log { ys.lo } else { 0.0 };
        for p in &s.points {
            let c = p.x.round();
            if c < 0.0 || c as usize >= chart.categories.len() {
                continue;
            }
            let ci = c as usize;
            let (xa, xb, ya, yb) = if stacked {
                let acc = if p.y >= 0.0 {
                    &mut pos[ci]
                } else {
                    &mut neg[ci]
                };
                let from = *acc;
                *acc += p.y;
                (c - 0.36, c + 0.36, from, *acc)
            } else {
                let bw = 0.8 / n;
                let xa = c - 0.4 + i as f64 * bw;
                (xa, xa + bw, base, p.y)
            };
            if ys.scale == Scale::Log && yb <= 0.0 && !stacked {
                continue;
            }
            let (ya, yb) = (ya.clamp(ys.lo, ys.hi), yb.clamp(ys.lo, ys.hi));
            let a = (l.px(xa), l.py(s.axis, yb));
            let b = (l.px(xb), l.py(s.axis, ya));
            // A 1-unit gap between stacked segments keeps them apart in both themes.
            let b = if stacked && b.1 - a.1 > 2 {
                (b.0 - 1, b.1 - 1)
            } else {
                (b.0 - 1, b.1)
            };
            out.push(Bar { series: i, a, b });
        }
    }
    out
}

/// What labels must avoid: scatter points, the lines of a line chart (traced every few units),
/// bars, and mark points and lines.
fn occupied(chart: &ResolvedChart, l: &Layout) -> Taken {
    let p = l.plot;
    let mut taken = Taken {
        boxes: Vec::new(),
        bounds: (p.x0, p.y1, p.x1, p.y0),
    };
    for s in &chart.series {
        let pts: Vec<(i32, i32)> = s
            .points
            .iter()
            .filter(|pt| l.visible(s.axis, pt.x, pt.y))
            .map(|pt| (l.px(pt.x), l.py(s.axis, pt.y)))
            .collect();
        match chart.kind {
            ChartKind::Scatter => pts.iter().for_each(|c| taken.point(*c, 7)),
            ChartKind::Line => {
                for pair in pts.windows(2) {
                    let (a, b) = (pair[0], pair[1]);
                    let len = ((b.0 - a.0) as f64).hypot((b.1 - a.1) as f64);
                    let steps = (len / 4.0).ceil().max(1.0) as i32;
                    for k in 0..steps {
                        let t = k as f64 / steps as f64;
                        let c = (
                            a.0 + ((b.0 - a.0) as f64 * t).round() as i32,
                            a.1 + ((b.1 - a.1) as f64 * t).round() as i32,
                        );
                        taken.point(c, 3);
                    }
                }
                if let Some(last) = pts.last() {
                    taken.point(*last, 3);
                }
            }
            _ => {}
        }
    }
    for b in &l.bars {
        taken.boxes.push((b.a.0, b.a.1, b.b.0, b.b.1));
    }
    for m in &chart.marks {
        match m {
            Mark::Point { x, y, axis, .. } => taken.point((l.px(*x), l.py(*axis, *y)), 7),
            // One mark's label should not straddle another's line. A label sits 6 units off its
            // own line, clear of this 2-unit strip.
            Mark::XLine { x, .. } if l.axes.x.contains(*x) => {
                let x = l.px(*x);
                taken.boxes.push((x - 2, p.y1, x + 2, p.y0));
            }
            Mark::YLine { y, axis, .. } if l.axes.side(*axis).contains(*y) => {
                let y = l.py(*axis, *y);
                taken.boxes.push((p.x0, y - 2, p.x1, y + 2));
            }
            _ => {}
        }
    }
    taken
}

/// Places every label on the plot: band labels, scatter point labels, then the marks'.
fn place_labels(chart: &ResolvedChart, l: &Layout, taken: &mut Taken) -> Vec<Label> {
    let p = l.plot;
    let mut out = Vec::new();
    let mut put = |text: &str, cands: &[Anchor], h: i32, target: Target, muted: bool| {
        let placed = taken.place(cands, text_w(text, MARK_PX), h, target);
        out.push(Label {
            text: text.to_string(),
            placed,
            muted,
        });
    };
    for m in &chart.marks {
        if let Mark::Band {
            along,
            from,
            to,
            axis,
            label: Some(text),
        } = m
        {
            let (a, b) = band_corners(l, *along, *from, *to, *axis);
            let (lx, ly) = (a.0.min(b.0) + 6, a.1.min(b.1) + 5);
            let cands = [0, 20, 40].map(|dy| (lx, ly + dy, HPos::Left, VPos::Top));
            put(text, &cands, 18, Target::Point(lx, ly), true);
        }
    }
    if chart.kind == ChartKind::Scatter {
        for s in &chart.series {
            for pt in s.points.iter().filter(|pt| l.visible(s.axis, pt.x, pt.y)) {
                let Some(text) = &pt.label else { continue };
                let c = (l.px(pt.x), l.py(s.axis, pt.y));
                let cands = [
                    (c.0 + 10, c.1, HPos::Left, VPos::Center),
                    (c.0 - 10, c.1, HPos::Right, VPos::Center),
                    (c.0, c.1 - 9, HPos::Center, VPos::Bottom),
                    (c.0, c.1 + 9, HPos::Center, VPos::Top),
                    (c.0 + 8, c.1 - 8, HPos::Left, VPos::Bottom),
                    (c.0 + 8, c.1 + 8, HPos::Left, VPos::Top),
                    (c.0 - 8, c.1 - 8, HPos::Right, VPos::Bottom),
                    (c.0 - 8, c.1 + 8, HPos::Right, VPos::Top),
                ];
                put(text, &cands, 16, Target::Point(c.0, c.1), false);
            }
        }
    }
    for m in &chart.marks {
        match m {
            Mark::XLine {
                x,
                label: Some(text),
            } if l.axes.x.contains(*x) => {
                let x = l.px(*x);
                let mut cands = Vec::new();
                for k in 0..4 {
                    let y = p.y1 + 4 + k * 20;
                    cands.push((x + 6, y, HPos::Left, VPos::Top));
                    cands.push((x - 6, y, HPos::Right, VPos::Top));
                }
                put(text, &cands, 18, Target::Along(x), false);
            }
            Mark::YLine {
                y,
                axis,
                label: Some(text),
            } if l.axes.side(*axis).contains(*y) => {
                let y = l.py(*axis, *y);
                let cands = [
                    (p.x1 - 6, y - 4, HPos::Right, VPos::Bottom),
                    (p.x1 - 6, y + 4, HPos::Right, VPos::Top),
                    (p.x0 + 6, y - 4, HPos::Left, VPos::Bottom),
                    (p.x0 + 6, y + 4, HPos::Left, VPos::Top),
                ];
                put(text, &cands, 18, Target::Across(y), false);
            }
            Mark::Point {
                x,
                y,
                axis,
                label: Some(text),
            } if l.visible(*axis, *x, *y) => {
                let c = (l.px(*x), l.py(*axis, *y));
                let cands = [
                    (c.0 - 9, c.1 - 7, HPos::Right, VPos::Bottom),
                    (c.0 + 9, c.1 + 7, HPos::Left, VPos::Top),
                    (c.0 + 9, c.1 - 7, HPos::Left, VPos::Bottom),
                    (c.0 - 9, c.1 + 7, HPos::Right, VPos::Top),
                ];
                put(text, &cands, 18, Target::Point(c.0, c.1), false);
            }
            Mark::Note { x, y, axis, text } if l.visible(*axis, *x, *y) => {
                let c = (l.px(*x), l.py(*axis, *y));
                let cands = [
                    (c.0, c.1, HPos::Left, VPos::Center),
                    (c.0, c.1, HPos::Right, VPos::Center),
                    (c.0, c.1 - 18, HPos::Left, VPos::Center),
                    (c.0, c.1 + 18, HPos::Left, VPos::Center),
                ];
                put(text, &cands, 18, Target::Point(c.0, c.1), false);
            }
            _ => {}
        }
    }
    out
}

/// A band's corners on the plot, clamped to it.
pub(crate) fn band_corners(
    l: &Layout,
    along: BandAxis,
    from: f64,
    to: f64,
    axis: Side,
) -> ((i32, i32), (i32, i32)) {
    let p = l.plot;
    let (a, b) = match along {
        BandAxis::X => ((l.px(from), p.y1), (l.px(to), p.y0)),
        BandAxis::Y => ((p.x0, l.py(axis, to)), (p.x1, l.py(axis, from))),
    };
    (
        (a.0.clamp(p.x0, p.x1), a.1.clamp(p.y1, p.y0)),
        (b.0.clamp(p.x0, p.x1), b.1.clamp(p.y1, p.y0)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{Axis, Point, Series};

    fn bars_chart(values: &[f64], line_at: f64, label: &str) -> ResolvedChart {
        ResolvedChart {
            kind: ChartKind::Bar,
            y: Axis {
                scale: Scale::Log,
                ..Axis::default()
            },
            categories: (0..values.len()).map(|i| format!("c{i}")).collect(),
            series: vec![Series {
                label: "s".into(),
                axis: Side::Left,
                dash: false,
                points: values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Point::new(i as f64, *v))
                    .collect(),
            }],
            marks: vec![Mark::YLine {
                y: line_at,
                axis: Side::Left,
                label: Some(label.into()),
            }],
            ..ResolvedChart::default()
        }
    }

    fn label_box_of(l: &Label) -> (i32, i32, i32, i32) {
        label_box(&l.placed.at, text_w(&l.text, MARK_PX), 18)
    }

    fn overlaps(a: (i32, i32, i32, i32), b: (i32, i32, i32, i32)) -> bool {
        a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
    }

    #[test]
    fn log_bars_start_at_the_decade_below_the_smallest() {
        assert_eq!(bar_floor(70.0), 10.0);
        assert_eq!(bar_floor(1.9), 1.0);
        assert_eq!(bar_floor(100.0), 10.0);
        let chart = bars_chart(&[70.0, 500.0, 130.0], 3000.0, "x");
        let l = layout(&chart, &Frame::wide(&chart));
        assert_eq!(l.axes.y.lo, 10.0);
        // A mark line at a round number below the bars does not push the floor down a decade.
        let chart = bars_chart(&[1.9, 90.0], 1.0, "optimal");
        let l = layout(&chart, &Frame::wide(&chart));
        assert_eq!(l.axes.y.lo, 1.0);
    }

    #[test]
    fn a_line_label_with_no_room_beside_its_line_moves_clear_of_the_bars_with_a_leader() {
        // Every bar rises above the line, so no spot beside the line is free.
        let chart = bars_chart(
            &[130.0, 330.0, 520.0, 130.0, 190.0, 120.0, 70.0, 70.0],
            37.0,
            "a long label naming the line",
        );
        let l = layout(&chart, &Frame::wide(&chart));
        let label = &l.labels[0];
        let b = label_box_of(label);
        for bar in &l.bars {
            assert!(
                !overlaps(b, (bar.a.0, bar.a.1, bar.b.0, bar.b.1)),
                "label {b:?} on bar {bar:?}"
            );
        }
        let (from, to) = label.placed.leader.expect("a leader line back to the line");
        assert_eq!(to.1, l.py(Side::Left, 37.0), "the leader ends on the line");
        assert_eq!(from.0, to.0, "it drops straight down");
        // It runs between the bars, not across one.
        for bar in &l.bars {
            let inside_x = from.0 > bar.a.0 && from.0 < bar.b.0;
            assert!(!inside_x || to.1 < bar.a.1, "leader crosses bar {bar:?}");
        }
    }

    #[test]
    fn line_marks_labels_avoid_each_other_and_the_series() {
        let chart = ResolvedChart {
            kind: ChartKind::Line,
            series: vec![Series {
                label: "s".into(),
                axis: Side::Left,
                dash: false,
                points: (0..=50)
                    .map(|i| Point::new(i as f64, (i * i) as f64))
                    .collect(),
            }],
            marks: vec![
                Mark::XLine {
                    x: 40.0,
                    label: Some("first mark here".into()),
                },
                Mark::XLine {
                    x: 44.0,
                    label: Some("second mark here".into()),
                },
                Mark::YLine {
                    y: 2000.0,
                    axis: Side::Left,
                    label: Some("a level".into()),
                },
            ],
            ..ResolvedChart::default()
        };
        for frame in [Frame::wide(&chart), Frame::narrow(&chart)] {
            let l = layout(&chart, &frame);
            assert_eq!(l.labels.len(), 3);
            let boxes: Vec<_> = l.labels.iter().map(label_box_of).collect();
            for (i, a) in boxes.iter().enumerate() {
                for b in &boxes[i + 1..] {
                    assert!(!overlaps(*a, *b), "{a:?} overlaps {b:?}");
                }
                // No point of the series lies inside a label.
                for p in &chart.series[0].points {
                    let (x, y) = (l.px(p.x), l.py(Side::Left, p.y));
                    assert!(
                        !overlaps(*a, (x - 1, y - 1, x + 1, y + 1)),
                        "series at {x},{y} under {a:?}"
                    );
                }
            }
        }
    }
}
