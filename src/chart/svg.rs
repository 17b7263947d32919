//! Drawing a [`ResolvedChart`] as inline SVG with plotters, and wrapping it in a `<figure>`.
//!
//! Layout (title, legend row above the plot, axis titles, tick labels, category labels) is computed
//! here from estimated text widths; plotters' SVG backend draws the shapes and the series. Every
//! colour is drawn as a *sentinel* RGB value that the post-processing pass rewrites into a
//! `style="stroke: var(--chart-1)"` declaration, so charts follow the theme's `--chart-*` custom
//! properties (and dark mode) instead of baking colours in. The root `<svg>` gets a `viewBox`,
//! `width="100%"`, `role="img"` and `aria-labelledby` pointing at a `<title>` and a `<desc>` that
//! summarises the chart in words.

use std::fmt::Write as _;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::scale::{AxisScale, short};
use super::{BandAxis, ChartKind, Mark, ResolvedChart, Scale, Side, escape};
use crate::render::typography::smart;

// Sentinel colours: (1, dashed, n) is series n; (2, 0, k) are the fixed roles below.
const FG: RGBColor = RGBColor(2, 0, 0);
const GRID: RGBColor = RGBColor(2, 0, 1);
const MARK_LINE: RGBColor = RGBColor(2, 0, 2);
const HALO_TEXT: RGBColor = RGBColor(2, 0, 3);
const BAND: RGBColor = RGBColor(2, 0, 4);
const BG: RGBColor = RGBColor(2, 0, 5);
const MUTED_TEXT: RGBColor = RGBColor(2, 0, 6);

fn series_color(index: usize, dash: bool) -> RGBColor {
    RGBColor(1, dash as u8, (index % 8 + 1) as u8)
}

/// The CSS declaration (and class) that replaces a sentinel colour in attribute `attr`.
fn sentinel_style(attr: &str, hex: &str) -> Option<(String, Option<String>)> {
    let b = u32::from_str_radix(hex, 16).ok()?;
    let (r, g, b) = ((b >> 16) as u8, (b >> 8) as u8, b as u8);
    match (r, g, b) {
        (1, dash, n @ 1..=8) => {
            let mut decl = format!("{attr}:var(--chart-{n})");
            if attr == "stroke" {
                decl.push_str(";stroke-linejoin:round;stroke-linecap:round");
                if dash == 1 {
                    decl.push_str(";stroke-dasharray:8 5");
                }
            }
            Some((decl, Some(format!("series-{n}"))))
        }
        (2, 0, 0) => Some((format!("{attr}:var(--chart-fg)"), None)),
        (2, 0, 1) => Some((format!("{attr}:var(--chart-grid)"), None)),
        (2, 0, 2) => Some((
            format!("{attr}:var(--chart-fg);stroke-dasharray:5 4"),
            Some("mark".into()),
        )),
        (2, 0, 3) => Some((
            format!(
                "{attr}:var(--chart-fg);stroke:var(--bg,#fff);stroke-width:4px;\
                 stroke-linejoin:round;paint-order:stroke"
            ),
            Some("mark-label".into()),
        )),
        (2, 0, 4) => Some((format!("{attr}:var(--chart-fg)"), Some("band".into()))),
        (2, 0, 5) => Some((format!("{attr}:var(--bg,#fff)"), None)),
        (2, 0, 6) => Some((format!("{attr}:var(--chart-fg);fill-opacity:0.78"), None)),
        _ => None,
    }
}

// Font sizes in SVG user units (the SVG is `width` units wide, 720 by default).
const TITLE_PX: f64 = 18.0;
const LEGEND_PX: f64 = 15.0;
const TICK_PX: f64 = 14.0;
const AXIS_PX: f64 = 15.0;
const MARK_PX: f64 = 13.5;
const PAD: i32 = 10;

/// Estimated width of `text` at `px` (system sans-serif averages just under 0.6 em a character).
fn text_w(text: &str, px: f64) -> i32 {
    (text.chars().count() as f64 * px * 0.57).ceil() as i32
}

fn font(px: f64, color: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    // plotters' SVG backend writes `size / 1.24` as the font size.
    ("sans-serif", px * 1.24)
        .into_font()
        .color(color)
        .pos(Pos::new(h, v))
}

fn bold(px: f64, color: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    FontDesc::new(FontFamily::SansSerif, px * 1.24, FontStyle::Bold)
        .color(color)
        .pos(Pos::new(h, v))
}

fn line_style(color: RGBColor, width: u32) -> ShapeStyle {
    ShapeStyle {
        color: color.to_rgba(),
        filled: false,
        stroke_width: width,
    }
}

/// The axes of a chart, fitted to its data and marks.
struct Axes {
    x: AxisScale,
    y: AxisScale,
    y2: Option<AxisScale>,
}

impl Axes {
    /// The y axis a series or mark on `side` is plotted against (the left one if there is no
    /// right axis).
    fn side(&self, side: Side) -> &AxisScale {
        match (side, &self.y2) {
            (Side::Right, Some(y2)) => y2,
            _ => &self.y,
        }
    }
}

fn fit_axes(chart: &ResolvedChart) -> Axes {
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

fn fit_side(chart: &ResolvedChart, side: Side, axis: &super::Axis) -> AxisScale {
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
    // Bars on a log axis grow from its lower end: keep that end below the smallest bar, or a
    // bar whose value happens to be a round number (50 GB/s) would have no height at all.
    if chart.kind.is_categorical() && axis.scale == Scale::Log {
        let smallest = ys
            .iter()
            .copied()
            .filter(|v| v.is_finite() && *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        if smallest.is_finite() {
            ys.push(smallest * 0.6);
        }
    }
    let zero = chart.kind != ChartKind::Scatter;
    fit(&ys, axis, zero)
}

/// An axis holding `values` (non-positive ones dropped on log axes), honouring fixed ends.
fn fit(values: &[f64], axis: &super::Axis, include_zero: bool) -> AxisScale {
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
fn wrap(label: &str, max_chars: usize) -> Vec<String> {
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
fn wrap_fits(label: &str, max_chars: usize) -> Option<Vec<String>> {
    let lines = wrap(label, max_chars);
    (lines.len() <= 3 && lines.iter().all(|l| l.chars().count() <= max_chars)).then_some(lines)
}

/// `label` without its parenthesised qualifiers: `NVIDIA GB200 (per GPU in an NVL72 rack)` →
/// `NVIDIA GB200`.
fn strip_parens(label: &str) -> String {
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
fn ellipsize(label: &str, max: usize) -> String {
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
enum CategoryLabels {
    /// Horizontal, each wrapped into up to three lines that fit its slot.
    Wrapped(Vec<Vec<String>>),
    /// Too long for their slots: one line each, shortened, rotated by [`ROTATE_DEG`].
    Rotated(Vec<String>),
}

const ROTATE_DEG: f64 = 40.0;
const ROTATED_MAX_CHARS: usize = 24;

/// Labels that fit a slot `slot` units wide: as written, else without parenthesised
/// qualifiers (when that keeps them distinct), else rotated.
fn category_labels(categories: &[String], slot: f64) -> CategoryLabels {
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
fn display_unit(unit: &str) -> String {
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
fn axis_titles(chart: &ResolvedChart) -> (Option<String>, Option<String>, Option<String>) {
    let x = if chart.kind.is_categorical() {
        chart.x.label.clone().or_else(|| axis_title(&chart.x))
    } else {
        axis_title(&chart.x)
    };
    let y2 = chart.y2.as_ref().and_then(axis_title);
    (x, axis_title(&chart.y), y2)
}

fn axis_title(axis: &super::Axis) -> Option<String> {
    let mut shown = axis.clone();
    shown.unit = axis.unit.as_deref().map(display_unit);
    shown.title()
}

/// An anchor for a label: a point and which side of the text sits on it.
type Anchor = (i32, i32, HPos, VPos);

/// Boxes already taken by labels and points, so later labels can avoid them.
#[derive(Default)]
struct Taken {
    boxes: Vec<(i32, i32, i32, i32)>,
    /// The region labels must stay inside (x0, y0, x1, y1).
    bounds: (i32, i32, i32, i32),
}

fn label_box(a: &Anchor, w: i32, h: i32) -> (i32, i32, i32, i32) {
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

    /// Picks the first candidate whose box (`w` × `h`) fits inside the bounds and overlaps nothing
    /// taken; failing that, the first that fits; failing that, the first. Takes its box.
    fn choose(&mut self, cands: &[Anchor], w: i32, h: i32) -> Anchor {
        let pick = cands
            .iter()
            .find(|a| {
                let b = label_box(a, w, h);
                self.inside(b) && !self.clashes(b)
            })
            .or_else(|| cands.iter().find(|a| self.inside(label_box(a, w, h))))
            .unwrap_or(&cands[0]);
        self.boxes.push(label_box(pick, w, h));
        *pick
    }
}

/// Renders the chart as a standalone `<svg>` element. `anchor` (the figure's HTML id) prefixes the
/// ids of its `<title>` and `<desc>`.
pub fn render_svg(chart: &ResolvedChart, anchor: &str) -> String {
    render_svg_framed(chart, anchor, &Frame::standalone(chart))
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
fn legend_items(chart: &ResolvedChart) -> Vec<(usize, String)> {
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

/// [`render_svg`] at the size and with the labels of `frame`.
pub fn render_svg_framed(chart: &ResolvedChart, anchor: &str, frame: &Frame) -> String {
    let (w, h) = (frame.width.max(200) as i32, frame.height.max(150) as i32);
    let axes = fit_axes(chart);
    let categorical = chart.kind.is_categorical();
    let inside = frame.text_inside;

    // ---- layout -------------------------------------------------------------------------
    let mut top = PAD;
    let title_y = top;
    let title = chart.title.as_ref().filter(|_| inside);
    if title.is_some() {
        top += 30;
    }
    let legend_items = if inside {
        legend_items(chart)
    } else {
        Vec::new()
    };
    let mut legend: Vec<(usize, String, i32, i32)> = Vec::new(); // (series, label, x, row)
    {
        let (mut x, mut row) = (PAD, 0);
        for (i, label) in &legend_items {
            let item_w = 30 + text_w(label, LEGEND_PX) + 22;
            if x + item_w > w - PAD && x > PAD {
                x = PAD;
                row += 1;
            }
            legend.push((*i, label.clone(), x, row));
            x += item_w;
        }
    }
    let legend_y = top;
    if let Some(rows) = legend.iter().map(|l| l.3).max() {
        top += (rows + 1) * 24 + 2;
    }
    top += 10; // room for the top tick label

    let (x_title, y_title, y2_title) = if inside {
        axis_titles(chart)
    } else {
        (None, None, None)
    };
    let tick_w = |a: &AxisScale| {
        a.ticks
            .iter()
            .map(|t| text_w(&a.label(*t), TICK_PX))
            .max()
            .unwrap_or(0)
    };
    let y_title_gap = 26 + tick_w(&axes.y) + 12;
    let left = PAD + if y_title.is_some() { 26 } else { 0 } + tick_w(&axes.y) + 12;
    let right = match &axes.y2 {
        Some(a) => w - (PAD + if y2_title.is_some() { 26 } else { 0 } + tick_w(a) + 12),
        None => {
            let last = if categorical {
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
    let cat_labels = categorical
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
    let mut bottom = h - PAD;
    if x_title.is_some() {
        bottom -= 26;
    }
    bottom -= label_h;
    let bottom = bottom.max(top + 50);
    let mut rotated_svg = String::new();
    // plotters draws on whole pixels, which makes gentle slopes step visibly; each line's
    // pixel points are swapped afterwards for the same points at a tenth of a unit.
    let mut precise_lines: Vec<(String, String)> = Vec::new();

    // ---- drawing ------------------------------------------------------------------------
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w as u32, h as u32)).into_drawing_area();
        let area = root.margin(top, h - bottom, left, w - right);
        let ctx = ChartBuilder::on(&area).build_cartesian_2d(axes.x.clone(), axes.y.clone());
        let Ok(ctx) = ctx else {
            return String::new();
        };
        let ctx2 = axes.y2.as_ref().and_then(|y2| {
            ChartBuilder::on(&area)
                .build_cartesian_2d(axes.x.clone(), y2.clone())
                .ok()
        });
        let px = |x: f64| ctx.backend_coord(&(x, axes.y.lo)).0;
        let py = |side: Side, y: f64| match (side, &ctx2) {
            (Side::Right, Some(c2)) => c2.backend_coord(&(axes.x.lo, y)).1,
            _ => ctx.backend_coord(&(axes.x.lo, y)).1,
        };
        let (x0, x1) = (px(axes.x.lo), px(axes.x.hi));
        let (y0, y1) = (py(Side::Left, axes.y.lo), py(Side::Left, axes.y.hi)); // y0 is the bottom
        let draw = |e: PathElement<(i32, i32)>| {
            let _ = root.draw(&e);
        };
        let text = |s: &str, pos: (i32, i32), style: TextStyle<'static>| {
            let _ = root.draw(&Text::new(s.to_string(), pos, style));
        };

        // Grid: minor lines, then tick lines.
        let minor_grid = GRID.mix(0.55);
        for t in &axes.y.minor {
            let y = py(Side::Left, *t);
            let _ = root.draw(&PathElement::new(
                vec![(x0, y), (x1, y)],
                ShapeStyle {
                    color: minor_grid,
                    filled: false,
                    stroke_width: 1,
                },
            ));
        }
        if !categorical {
            for t in &axes.x.minor {
                let x = px(*t);
                let _ = root.draw(&PathElement::new(
                    vec![(x, y0), (x, y1)],
                    ShapeStyle {
                        color: minor_grid,
                        filled: false,
                        stroke_width: 1,
                    },
                ));
            }
            for t in &axes.x.ticks {
                let x = px(*t);
                draw(PathElement::new(
                    vec![(x, y0), (x, y1)],
                    line_style(GRID, 1),
                ));
            }
        }
        for t in &axes.y.ticks {
            let y = py(Side::Left, *t);
            draw(PathElement::new(
                vec![(x0, y), (x1, y)],
                line_style(GRID, 1),
            ));
        }

        // Bands sit under the data.
        let mut taken = Taken {
            boxes: Vec::new(),
            bounds: (x0, y1, x1, y0),
        };
        // Points claim their place before any label is put down.
        if chart.kind == ChartKind::Scatter {
            for s in &chart.series {
                let ys = axes.side(s.axis);
                for p in s
                    .points
                    .iter()
                    .filter(|p| axes.x.contains(p.x) && ys.contains(p.y))
                {
                    taken.point((px(p.x), py(s.axis, p.y)), 7);
                }
            }
        }
        // So do the lines of a line chart, traced every few units, so that a mark's label
        // does not sit on a series (the HBM marks of the memory-wall chapter's Figure 3).
        if chart.kind == ChartKind::Line {
            for s in &chart.series {
                let ys = axes.side(s.axis);
                let pts: Vec<(i32, i32)> = s
                    .points
                    .iter()
                    .filter(|p| axes.x.contains(p.x) && ys.contains(p.y))
                    .map(|p| (px(p.x), py(s.axis, p.y)))
                    .collect();
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
        }
        for m in &chart.marks {
            match m {
                Mark::Point { x, y, axis, .. } => taken.point((px(*x), py(*axis, *y)), 7),
                // Mark lines too: one mark's label should not straddle another's line. A label
                // sits 6 units off its own line, clear of this 2-unit strip.
                Mark::XLine { x, .. } if axes.x.contains(*x) => {
                    let x = px(*x);
                    taken.boxes.push((x - 2, y1, x + 2, y0));
                }
                Mark::YLine { y, axis, .. } => {
                    let ys = axes.side(*axis);
                    if ys.contains(*y) {
                        let y = py(*axis, *y);
                        taken.boxes.push((x0, y - 2, x1, y + 2));
                    }
                }
                _ => {}
            }
        }
        for m in &chart.marks {
            if let Mark::Band {
                along,
                from,
                to,
                axis,
                label,
            } = m
            {
                let (a, b) = match along {
                    BandAxis::X => ((px(*from), y1), (px(*to), y0)),
                    BandAxis::Y => ((x0, py(*axis, *to)), (x1, py(*axis, *from))),
                };
                let (a, b) = (
                    (a.0.clamp(x0, x1), a.1.clamp(y1, y0)),
                    (b.0.clamp(x0, x1), b.1.clamp(y1, y0)),
                );
                let _ = root.draw(&Rectangle::new([a, b], BAND.mix(0.08).filled()));
                if let Some(l) = label {
                    let (lx, ly) = (a.0.min(b.0) + 6, a.1.min(b.1) + 5);
                    let tw = text_w(l, MARK_PX);
                    let cands = [
                        (lx, ly, HPos::Left, VPos::Top),
                        (lx, ly + 20, HPos::Left, VPos::Top),
                        (lx, ly + 40, HPos::Left, VPos::Top),
                    ];
                    let (x, y, hp, vp) = taken.choose(&cands, tw, 18);
                    text(l, (x, y), font(MARK_PX, &MUTED_TEXT, hp, vp));
                }
            }
        }

        // Series.
        match chart.kind {
            ChartKind::Line => {
                for (i, s) in chart.series.iter().enumerate() {
                    let color = series_color(i, s.dash);
                    let ys = axes.side(s.axis);
                    // The axis ends in pixels, to place points between them exactly.
                    let (ya, yb) = (py(s.axis, ys.lo) as f64, py(s.axis, ys.hi) as f64);
                    let fine = |p: &crate::chart::Point| {
                        (
                            x0 as f64 + axes.x.fraction(p.x) * (x1 - x0) as f64,
                            ya + ys.fraction(p.y) * (yb - ya),
                        )
                    };
                    // Split at points a log axis cannot show.
                    let mut runs: Vec<Vec<&crate::chart::Point>> = vec![Vec::new()];
                    for p in &s.points {
                        let visible = axes.x.contains(p.x) && ys.contains(p.y);
                        if visible {
                            if let Some(run) = runs.last_mut() {
                                run.push(p);
                            }
                        } else if runs.last().is_some_and(|r| !r.is_empty()) {
                            runs.push(Vec::new());
                        }
                    }
                    for run in runs.into_iter().filter(|r| !r.is_empty()) {
                        let mut coarse: Vec<(i32, i32)> =
                            run.iter().map(|p| (px(p.x), py(s.axis, p.y))).collect();
                        coarse.dedup();
                        let coarse_text = coarse.iter().fold(String::new(), |mut t, (x, y)| {
                            let _ = write!(t, "{x},{y} ");
                            t
                        });
                        let mut fine_text = String::new();
                        let mut last = String::new();
                        for p in &run {
                            let (fx, fy) = fine(p);
                            let point = format!("{fx:.1},{fy:.1} ");
                            if point != last {
                                fine_text.push_str(&point);
                                last = point;
                            }
                        }
                        precise_lines.push((coarse_text, fine_text));
                        let _ = root.draw(&PathElement::new(coarse, line_style(color, 3)));
                    }
                    if s.points.len() <= 16 {
                        for p in &s.points {
                            if axes.x.contains(p.x) && ys.contains(p.y) {
                                let _ = root.draw(&Circle::new(
                                    (px(p.x), py(s.axis, p.y)),
                                    4,
                                    series_color(i, false).filled(),
                                ));
                            }
                        }
                    }
                }
            }
            ChartKind::Scatter => {
                for (i, s) in chart.series.iter().enumerate() {
                    for p in &s.points {
                        let ys = axes.side(s.axis);
                        if !(axes.x.contains(p.x) && ys.contains(p.y)) {
                            continue;
                        }
                        let c = (px(p.x), py(s.axis, p.y));
                        let _ = root.draw(&Circle::new(c, 6, series_color(i, false).filled()));
                        let _ = root.draw(&Circle::new(c, 6, line_style(BG, 1)));
                        if let Some(l) = &p.label {
                            let tw = text_w(l, MARK_PX);
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
                            let (x, y, hp, vp) = taken.choose(&cands, tw, 16);
                            text(l, (x, y), font(MARK_PX, &HALO_TEXT, hp, vp));
                        }
                    }
                }
            }
            ChartKind::Bar | ChartKind::Stacked => {
                let n = chart.series.len().max(1) as f64;
                let stacked = chart.kind == ChartKind::Stacked;
                let mut pos = vec![0.0; chart.categories.len()];
                let mut neg = vec![0.0; chart.categories.len()];
                for (i, s) in chart.series.iter().enumerate() {
                    let ys = axes.side(s.axis);
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
                        let a = (px(xa), py(s.axis, yb));
                        let b = (px(xb), py(s.axis, ya));
                        // A 1-unit gap between stacked segments keeps them apart in both themes.
                        let b = if stacked && b.1 - a.1 > 2 {
                            (b.0 - 1, b.1 - 1)
                        } else {
                            (b.0 - 1, b.1)
                        };
                        let _ = root.draw(&Rectangle::new(
                            [(a.0 + 1, a.1), b],
                            series_color(i, false).filled(),
                        ));
                        taken.boxes.push((a.0, a.1, b.0, b.1));
                    }
                }
            }
        }

        // Axis lines and ticks.
        draw(PathElement::new(
            vec![(x0, y0), (x1, y0)],
            line_style(FG, 1),
        ));
        draw(PathElement::new(
            vec![(x0, y0), (x0, y1)],
            line_style(FG, 1),
        ));
        if axes.y2.is_some() {
            draw(PathElement::new(
                vec![(x1, y0), (x1, y1)],
                line_style(FG, 1),
            ));
        }
        let tick_style = |h, v| font(TICK_PX, &FG, h, v);
        for t in &axes.y.ticks {
            let y = py(Side::Left, *t);
            draw(PathElement::new(
                vec![(x0 - 5, y), (x0, y)],
                line_style(FG, 1),
            ));
            text(
                &axes.y.label(*t),
                (x0 - 9, y),
                tick_style(HPos::Right, VPos::Center),
            );
        }
        if let Some(y2) = &axes.y2 {
            for t in &y2.ticks {
                let y = py(Side::Right, *t);
                draw(PathElement::new(
                    vec![(x1, y), (x1 + 5, y)],
                    line_style(FG, 1),
                ));
                text(
                    &y2.label(*t),
                    (x1 + 9, y),
                    tick_style(HPos::Left, VPos::Center),
                );
            }
        }
        if let Some(labels) = &cat_labels {
            match labels {
                CategoryLabels::Wrapped(cat_lines) => {
                    for (i, lines) in cat_lines.iter().enumerate() {
                        let x = px(i as f64);
                        for (k, l) in lines.iter().enumerate() {
                            text(
                                l,
                                (x, y0 + 9 + k as i32 * 18),
                                tick_style(HPos::Center, VPos::Top),
                            );
                        }
                    }
                }
                CategoryLabels::Rotated(labels) => {
                    // plotters rotates text by quarter turns only: write these directly.
                    for (i, l) in labels.iter().enumerate() {
                        let (x, y) = (px(i as f64) + 4, y0 + 10);
                        let _ = write!(
                            rotated_svg,
                            "<text x=\"{x}\" y=\"{y}\" dy=\"0.5ex\" text-anchor=\"end\" \
                             font-size=\"{TICK_PX}\" transform=\"rotate(-{ROTATE_DEG}, {x}, {y})\" \
                             fill=\"#020000\">\n{}\n</text>\n",
                            escape(l)
                        );
                        draw(PathElement::new(
                            vec![(px(i as f64), y0), (px(i as f64), y0 + 5)],
                            line_style(FG, 1),
                        ));
                    }
                }
            }
        } else {
            // Drop every other label while neighbours would overlap.
            let labels: Vec<(i32, String)> = axes
                .x
                .ticks
                .iter()
                .map(|t| (px(*t), axes.x.label(*t)))
                .collect();
            let mut every = 1;
            while every < labels.len() {
                let kept: Vec<&(i32, String)> = labels.iter().step_by(every).collect();
                let clash = kept.windows(2).any(|p| {
                    (p[1].0 - p[0].0).abs()
                        < (text_w(&p[0].1, TICK_PX) + text_w(&p[1].1, TICK_PX)) / 2 + 10
                });
                if !clash {
                    break;
                }
                every += 1;
            }
            for (x, l) in labels.iter().step_by(every) {
                text(l, (*x, y0 + 9), tick_style(HPos::Center, VPos::Top));
            }
            for (x, _) in &labels {
                draw(PathElement::new(
                    vec![(*x, y0), (*x, y0 + 5)],
                    line_style(FG, 1),
                ));
            }
        }

        // Axis titles.
        let axis_font = |h, v| font(AXIS_PX, &FG, h, v);
        if let Some(t) = &x_title {
            text(
                t,
                ((x0 + x1) / 2, h - PAD),
                axis_font(HPos::Center, VPos::Bottom),
            );
        }
        if let Some(t) = &y_title {
            text(
                t,
                // beside its tick labels, even where rotated category labels widened the margin
                (x0 - y_title_gap, (y0 + y1) / 2),
                axis_font(HPos::Center, VPos::Top).transform(FontTransform::Rotate270),
            );
        }
        if let Some(t) = &y2_title {
            text(
                t,
                (w - PAD, (y0 + y1) / 2),
                axis_font(HPos::Center, VPos::Top).transform(FontTransform::Rotate90),
            );
        }

        // Marks over the data.
        for m in &chart.marks {
            match m {
                Mark::XLine { x, label } => {
                    if !axes.x.contains(*x) {
                        continue;
                    }
                    let x = px(*x);
                    draw(PathElement::new(
                        vec![(x, y0), (x, y1)],
                        line_style(MARK_LINE, 2),
                    ));
                    if let Some(l) = label {
                        let tw = text_w(l, MARK_PX);
                        let mut cands = Vec::new();
                        for k in 0..4 {
                            let y = y1 + 4 + k * 20;
                            cands.push((x + 6, y, HPos::Left, VPos::Top));
                            cands.push((x - 6, y, HPos::Right, VPos::Top));
                        }
                        let (x, y, hp, vp) = taken.choose(&cands, tw, 18);
                        text(l, (x, y), font(MARK_PX, &HALO_TEXT, hp, vp));
                    }
                }
                Mark::YLine { y, axis, label } => {
                    let ys = axes.side(*axis);
                    if !ys.contains(*y) {
                        continue;
                    }
                    let y = py(*axis, *y);
                    draw(PathElement::new(
                        vec![(x0, y), (x1, y)],
                        line_style(MARK_LINE, 2),
                    ));
                    if let Some(l) = label {
                        let tw = text_w(l, MARK_PX);
                        let cands = [
                            (x1 - 6, y - 3, HPos::Right, VPos::Bottom),
                            (x1 - 6, y + 3, HPos::Right, VPos::Top),
                            (x0 + 6, y - 3, HPos::Left, VPos::Bottom),
                            (x0 + 6, y + 3, HPos::Left, VPos::Top),
                        ];
                        let (x, y, hp, vp) = taken.choose(&cands, tw, 18);
                        text(l, (x, y), font(MARK_PX, &HALO_TEXT, hp, vp));
                    }
                }
                Mark::Point { x, y, axis, label } => {
                    let ys = axes.side(*axis);
                    if !(axes.x.contains(*x) && ys.contains(*y)) {
                        continue;
                    }
                    let c = (px(*x), py(*axis, *y));
                    let _ = root.draw(&Circle::new(c, 6, FG.filled()));
                    let _ = root.draw(&Circle::new(c, 6, line_style(BG, 2)));
                    if let Some(l) = label {
                        let tw = text_w(l, MARK_PX);
                        let cands = [
                            (c.0 - 9, c.1 - 7, HPos::Right, VPos::Bottom),
                            (c.0 + 9, c.1 + 7, HPos::Left, VPos::Top),
                            (c.0 + 9, c.1 - 7, HPos::Left, VPos::Bottom),
                            (c.0 - 9, c.1 + 7, HPos::Right, VPos::Top),
                        ];
                        let (x, y, hp, vp) = taken.choose(&cands, tw, 18);
                        text(l, (x, y), font(MARK_PX, &HALO_TEXT, hp, vp));
                    }
                }
                Mark::Note {
                    x,
                    y,
                    axis,
                    text: t,
                } => {
                    let ys = axes.side(*axis);
                    if !(axes.x.contains(*x) && ys.contains(*y)) {
                        continue;
                    }
                    let c = (px(*x), py(*axis, *y));
                    let tw = text_w(t, MARK_PX);
                    let cands = [
                        (c.0, c.1, HPos::Left, VPos::Center),
                        (c.0, c.1, HPos::Right, VPos::Center),
                        (c.0, c.1 - 18, HPos::Left, VPos::Center),
                        (c.0, c.1 + 18, HPos::Left, VPos::Center),
                    ];
                    let (x, y, hp, vp) = taken.choose(&cands, tw, 18);
                    text(t, (x, y), font(MARK_PX, &HALO_TEXT, hp, vp));
                }
                Mark::Band { .. } => {}
            }
        }

        // Legend and title.
        for (i, label, x, row) in &legend {
            let cy = legend_y + row * 24 + 11;
            let s = &chart.series[*i];
            match chart.kind {
                ChartKind::Line => draw(PathElement::new(
                    vec![(x + 2, cy), (x + 26, cy)],
                    line_style(series_color(*i, s.dash), 3),
                )),
                ChartKind::Scatter => {
                    let _ = root.draw(&Circle::new(
                        (x + 14, cy),
                        6,
                        series_color(*i, false).filled(),
                    ));
                }
                _ => {
                    let _ = root.draw(&Rectangle::new(
                        [(x + 6, cy - 8), (x + 22, cy + 8)],
                        series_color(*i, false).filled(),
                    ));
                }
            }
            text(
                label,
                (x + 32, cy),
                font(LEGEND_PX, &FG, HPos::Left, VPos::Center),
            );
        }
        if let Some(t) = title {
            text(
                t,
                (PAD, title_y),
                bold(TITLE_PX, &FG, HPos::Left, VPos::Top),
            );
        }
        let _ = root.present();
    }
    for (coarse, fine) in precise_lines {
        let coarse = format!("points=\"{coarse}\"");
        if let Some(at) = svg.find(&coarse) {
            svg.replace_range(at..at + coarse.len(), &format!("points=\"{fine}\""));
        }
    }
    if !rotated_svg.is_empty() {
        svg.push('\n');
        svg.push_str(&rotated_svg);
    }
    finish(&svg, chart, anchor, w, h)
}

/// Rewrites plotters' output: theme colours, accessible root element, compact attributes.
fn finish(svg: &str, chart: &ResolvedChart, anchor: &str, w: i32, h: i32) -> String {
    let mut out = String::with_capacity(svg.len() + 1024);
    let title = chart.title.clone().unwrap_or_else(|| "Chart".into());
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" \
         preserveAspectRatio=\"xMidYMid meet\" role=\"img\" \
         aria-labelledby=\"{a}-title {a}-desc\" class=\"chart-{k}\" \
         style=\"font-family:inherit\">\n<title id=\"{a}-title\">{t}</title>\n\
         <desc id=\"{a}-desc\">{d}</desc>\n",
        a = escape(anchor),
        k = chart.kind.name(),
        t = escape(&title),
        d = escape(&describe(chart)),
    );
    for line in svg.lines() {
        if line.starts_with("<svg") || line.starts_with("</svg") {
            continue;
        }
        if line.starts_with('<') && !line.starts_with("</") {
            rewrite_tag(line, &mut out);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out.push_str("</svg>");
    out
}

fn rewrite_tag(line: &str, out: &mut String) {
    let mut tag = line.to_string();
    let mut decls: Vec<String> = Vec::new();
    let mut classes: Vec<String> = Vec::new();
    for attr in ["fill", "stroke"] {
        let pat = format!(" {attr}=\"#");
        if let Some(i) = tag.find(&pat) {
            let start = i + pat.len();
            if let Some(hex) = tag.get(start..start + 6)
                && let Some((decl, class)) = sentinel_style(attr, hex)
            {
                decls.push(decl);
                classes.extend(class);
                tag.replace_range(i..start + 7, "");
            }
        }
    }
    for noise in [
        " opacity=\"1\"",
        " font-family=\"sans-serif\"",
        " stroke=\"none\"",
    ] {
        tag = tag.replace(noise, "");
    }
    // `size / 1.24` leaves binary noise (14.000000000000002): round font sizes.
    if let Some(i) = tag.find(" font-size=\"") {
        let start = i + " font-size=\"".len();
        if let Some(len) = tag[start..].find('"')
            && let Ok(v) = tag[start..start + len].parse::<f64>()
        {
            let r = format!("{}", (v * 10.0).round() / 10.0);
            tag.replace_range(start..start + len, &r);
        }
    }
    classes.dedup();
    let mut extra = String::new();
    if !classes.is_empty() {
        let _ = write!(extra, " class=\"{}\"", classes.join(" "));
    }
    if !decls.is_empty() {
        let _ = write!(extra, " style=\"{}\"", decls.join(";"));
    }
    let close = if tag.ends_with("/>") {
        tag.len() - 2
    } else {
        tag.len() - 1
    };
    tag.insert_str(close, &extra);
    out.push_str(&tag);
}

/// A text summary of the chart for screen readers (`<desc>`).
pub fn describe(chart: &ResolvedChart) -> String {
    let mut d = String::new();
    let kind = match chart.kind {
        ChartKind::Line => "Line chart",
        ChartKind::Bar => "Bar chart",
        ChartKind::Stacked => "Stacked bar chart",
        ChartKind::Scatter => "Scatter chart",
    };
    let names: Vec<&str> = chart.series.iter().map(|s| s.label.as_str()).collect();
    let _ = write!(d, "{kind} of {}", list(&names));
    let unit = |a: &super::Axis| {
        a.unit
            .as_deref()
            .map(|u| format!(" {}", display_unit(u)))
            .unwrap_or_default()
    };
    let axis_text = |a: &super::Axis| {
        let mut t = a.label.clone().unwrap_or_else(|| "value".into());
        if a.scale == Scale::Log {
            t.push_str(", log scale");
        }
        t
    };
    if chart.kind.is_categorical() {
        let cats: Vec<&str> = chart.categories.iter().map(String::as_str).collect();
        let _ = write!(d, " for {}", list(&cats));
    } else {
        let xs: Vec<f64> = chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.x))
            .collect();
        if let (Some(lo), Some(hi)) = (min(&xs), max(&xs)) {
            let _ = write!(
                d,
                " against {} from {} to {}{}",
                axis_text(&chart.x),
                short(lo),
                short(hi),
                unit(&chart.x)
            );
        }
    }
    d.push_str(". ");
    for s in &chart.series {
        let ys: Vec<f64> = s.points.iter().map(|p| p.y).collect();
        let axis = match (s.axis, &chart.y2) {
            (Side::Right, Some(a)) => a,
            _ => &chart.y,
        };
        if let (Some(lo), Some(hi)) = (min(&ys), max(&ys)) {
            let _ = write!(
                d,
                "{}: {} from {} to {}{}. ",
                s.label,
                axis_text(axis),
                short(lo),
                short(hi),
                unit(axis)
            );
        }
    }
    for m in &chart.marks {
        let side_unit = |side: &Side| match (side, &chart.y2) {
            (Side::Right, Some(a)) => unit(a),
            _ => unit(&chart.y),
        };
        let label = |l: &Option<String>| l.as_ref().map(|l| format!(" ({l})")).unwrap_or_default();
        let _ = match m {
            Mark::XLine { x, label: l } => write!(
                d,
                "Vertical line at {}{}{}. ",
                short(*x),
                unit(&chart.x),
                label(l)
            ),
            Mark::YLine { y, axis, label: l } => write!(
                d,
                "Horizontal line at {}{}{}. ",
                short(*y),
                side_unit(axis),
                label(l)
            ),
            Mark::Point {
                x,
                y,
                axis,
                label: l,
            } => write!(
                d,
                "Point at {}{}, {}{}{}. ",
                short(*x),
                unit(&chart.x),
                short(*y),
                side_unit(axis),
                label(l)
            ),
            Mark::Band {
                along,
                from,
                to,
                axis,
                label: l,
            } => {
                let u = match along {
                    BandAxis::X => unit(&chart.x),
                    BandAxis::Y => side_unit(axis),
                };
                write!(
                    d,
                    "Shaded band from {} to {}{u}{}. ",
                    short(*from),
                    short(*to),
                    label(l)
                )
            }
            Mark::Note { text, .. } => write!(d, "Note: {text}. "),
        };
    }
    d.trim_end().to_string()
}

fn min(v: &[f64]) -> Option<f64> {
    v.iter().copied().filter(|v| v.is_finite()).reduce(f64::min)
}

fn max(v: &[f64]) -> Option<f64> {
    v.iter().copied().filter(|v| v.is_finite()).reduce(f64::max)
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The whole figure: `<figure class="chart" id="fig-…">`; the title, legend and axis titles as
/// HTML that wraps with the page; the SVG twice, a desktop and a phone rendering of which CSS shows
/// one (`.chart-wide`, `.chart-narrow`), so a phone gets a drawing laid out for its width instead
/// of a shrunken or sideways-scrolling one; a caption `Figure {number}: …` only when one is
/// written, and a link to the chart's data as CSV.
pub fn render_figure(chart: &ResolvedChart, number: usize, csv_href: &str) -> String {
    let anchor = chart.anchor(number);
    let mut out = String::new();
    let _ = writeln!(out, "<figure class=\"chart\" id=\"{}\">", escape(&anchor));
    out.push_str(&figure_head(chart));
    for (class, frame, id) in [
        ("chart-wide", Frame::wide(chart), anchor.clone()),
        (
            "chart-narrow",
            Frame::narrow(chart),
            format!("{anchor}-narrow"),
        ),
    ] {
        let _ = write!(
            out,
            "<div class=\"chart-plot {class}\">\n{}\n</div>\n",
            render_svg_framed(chart, &id, &frame)
        );
    }
    if let (Some(x), _, _) = axis_titles(chart) {
        let _ = writeln!(
            out,
            "<p class=\"chart-x-title\">{} →</p>",
            escape(&smart(&x))
        );
    }
    out.push_str("<figcaption>");
    match chart
        .caption
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(c) => {
            let _ = write!(
                out,
                "<span class=\"figure-number\">Figure {number}:</span> {}",
                escape(&smart(c))
            );
        }
        None => {
            let _ = write!(out, "<span class=\"figure-number\">Figure {number}</span>");
        }
    }
    let _ = write!(
        out,
        " <a class=\"chart-csv\" href=\"{}\" download>data (CSV)</a></figcaption>\n</figure>\n",
        escape(csv_href)
    );
    out
}

/// The HTML above a figure's plot: its title, its legend (a swatch per series, drawn as the
/// series is: a line, a dashed line, a dot or a block) and the y axes' titles.
fn figure_head(chart: &ResolvedChart) -> String {
    let mut out = String::new();
    if let Some(t) = chart
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let _ = writeln!(out, "<p class=\"chart-title\">{}</p>", escape(&smart(t)));
    }
    let legend = legend_items(chart);
    if !legend.is_empty() {
        out.push_str("<ul class=\"chart-legend\">");
        for (i, label) in legend {
            let swatch = match chart.kind {
                ChartKind::Line if chart.series[i].dash => "swatch-dash",
                ChartKind::Line => "swatch-line",
                ChartKind::Scatter => "swatch-dot",
                _ => "swatch-block",
            };
            let _ = write!(
                out,
                "<li><span class=\"swatch {swatch}\" style=\"--swatch:var(--chart-{})\" \
                 aria-hidden=\"true\"></span>{}</li>",
                i % 8 + 1,
                escape(&smart(&label))
            );
        }
        out.push_str("</ul>\n");
    }
    let (_, y, y2) = axis_titles(chart);
    if y.is_some() || y2.is_some() {
        out.push_str("<p class=\"chart-y-titles\">");
        if let Some(y) = y {
            let _ = write!(
                out,
                "<span class=\"chart-y-title\">↑ {}</span>",
                escape(&smart(&y))
            );
        }
        if let Some(y2) = y2 {
            let _ = write!(
                out,
                "<span class=\"chart-y2-title\">{} ↑</span>",
                escape(&smart(&y2))
            );
        }
        out.push_str("</p>\n");
    }
    out
}
