//! Drawing a [`ResolvedChart`] as inline SVG with plotters, and the view of the `<figure>` around
//! it ([`FigureView`]) that the theme's `figure.html` draws.
//!
//! The layout (margins, plot, bars, where each label goes) is [`super::layout`]'s, computed from
//! estimated text widths; this module draws it with plotters' SVG backend. Every
//! colour is drawn as a *sentinel* RGB value that the post-processing pass rewrites into a
//! `style="stroke: var(--chart-1)"` declaration, so charts follow the theme's `--chart-*` custom
//! properties (and dark mode) instead of baking colours in. The root `<svg>` gets a `viewBox`,
//! `width="100%"`, `role="img"` and `aria-labelledby` pointing at a `<title>` and a `<desc>` that
//! summarises the chart in words.

use std::fmt::Write as _;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::layout::{
    self, AXIS_PX, CategoryLabels, Frame, LEGEND_PX, Layout, MARK_PX, PAD, ROTATE_DEG, TICK_PX,
    TITLE_PX, axis_titles, display_unit, legend_items,
};
use super::scale::short;
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

/// Renders the chart as a standalone `<svg>` element. `anchor` (the figure's HTML id) prefixes the
/// ids of its `<title>` and `<desc>`.
pub fn render_svg(chart: &ResolvedChart, anchor: &str) -> String {
    render_svg_framed(chart, anchor, &Frame::standalone(chart))
}

/// [`render_svg`] at the size and with the labels of `frame`: lays the chart out
/// ([`layout::layout`]), then draws the layout.
pub fn render_svg_framed(chart: &ResolvedChart, anchor: &str, frame: &Frame) -> String {
    let l = layout::layout(chart, frame);
    let mut svg = String::new();
    let mut rotated_svg = String::new();
    // plotters draws on whole pixels, which makes gentle slopes step visibly; each line's
    // pixel points are swapped afterwards for the same points at a tenth of a unit.
    let mut precise_lines: Vec<(String, String)> = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (l.w as u32, l.h as u32)).into_drawing_area();
        draw_grid(&root, chart, &l);
        draw_bands(&root, chart, &l);
        draw_series(&root, chart, &l, &mut precise_lines);
        draw_axes(&root, &l, &mut rotated_svg);
        draw_axis_titles(&root, &l);
        draw_marks(&root, chart, &l);
        draw_legend(&root, chart, &l);
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
    finish(&svg, chart, anchor, l.w, l.h)
}

type Root<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn path(root: &Root, points: Vec<(i32, i32)>, style: ShapeStyle) {
    let _ = root.draw(&PathElement::new(points, style));
}

fn text(root: &Root, s: &str, pos: (i32, i32), style: TextStyle<'static>) {
    let _ = root.draw(&Text::new(s.to_string(), pos, style));
}

/// Minor grid lines, then the tick lines.
fn draw_grid(root: &Root, chart: &ResolvedChart, l: &Layout) {
    let p = l.plot;
    let minor = ShapeStyle {
        color: GRID.mix(0.55),
        filled: false,
        stroke_width: 1,
    };
    for t in &l.axes.y.minor {
        let y = l.py(Side::Left, *t);
        path(root, vec![(p.x0, y), (p.x1, y)], minor);
    }
    if !chart.kind.is_categorical() {
        for t in &l.axes.x.minor {
            let x = l.px(*t);
            path(root, vec![(x, p.y0), (x, p.y1)], minor);
        }
        for t in &l.axes.x.ticks {
            let x = l.px(*t);
            path(root, vec![(x, p.y0), (x, p.y1)], line_style(GRID, 1));
        }
    }
    for t in &l.axes.y.ticks {
        let y = l.py(Side::Left, *t);
        path(root, vec![(p.x0, y), (p.x1, y)], line_style(GRID, 1));
    }
}

/// Bands sit under the data.
fn draw_bands(root: &Root, chart: &ResolvedChart, l: &Layout) {
    for m in &chart.marks {
        if let Mark::Band {
            along,
            from,
            to,
            axis,
            ..
        } = m
        {
            let (a, b) = layout::band_corners(l, *along, *from, *to, *axis);
            let _ = root.draw(&Rectangle::new([a, b], BAND.mix(0.08).filled()));
        }
    }
}

fn draw_series(
    root: &Root,
    chart: &ResolvedChart,
    l: &Layout,
    precise_lines: &mut Vec<(String, String)>,
) {
    match chart.kind {
        ChartKind::Line => {
            for (i, s) in chart.series.iter().enumerate() {
                draw_line_series(root, l, i, s, precise_lines);
            }
        }
        ChartKind::Scatter => {
            for (i, s) in chart.series.iter().enumerate() {
                for p in s.points.iter().filter(|p| l.visible(s.axis, p.x, p.y)) {
                    let c = (l.px(p.x), l.py(s.axis, p.y));
                    let _ = root.draw(&Circle::new(c, 6, series_color(i, false).filled()));
                    let _ = root.draw(&Circle::new(c, 6, line_style(BG, 1)));
                }
            }
        }
        ChartKind::Bar | ChartKind::Stacked => {
            for b in &l.bars {
                let _ = root.draw(&Rectangle::new(
                    [(b.a.0 + 1, b.a.1), b.b],
                    series_color(b.series, false).filled(),
                ));
            }
        }
    }
}

/// One line series: runs of visible points (a log axis cannot show zero), dots when few.
fn draw_line_series(
    root: &Root,
    l: &Layout,
    i: usize,
    s: &super::Series,
    precise_lines: &mut Vec<(String, String)>,
) {
    let color = series_color(i, s.dash);
    let mut runs: Vec<Vec<&crate::chart::Point>> = vec![Vec::new()];
    for p in &s.points {
        if l.visible(s.axis, p.x, p.y) {
            if let Some(run) = runs.last_mut() {
                run.push(p);
            }
        } else if runs.last().is_some_and(|r| !r.is_empty()) {
            runs.push(Vec::new());
        }
    }
    for run in runs.into_iter().filter(|r| !r.is_empty()) {
        let mut coarse: Vec<(i32, i32)> =
            run.iter().map(|p| (l.px(p.x), l.py(s.axis, p.y))).collect();
        coarse.dedup();
        let coarse_text = coarse.iter().fold(String::new(), |mut t, (x, y)| {
            let _ = write!(t, "{x},{y} ");
            t
        });
        let mut fine_text = String::new();
        let mut last = String::new();
        for p in &run {
            let (fx, fy) = l.fine(s.axis, p.x, p.y);
            let point = format!("{fx:.1},{fy:.1} ");
            if point != last {
                fine_text.push_str(&point);
                last = point;
            }
        }
        precise_lines.push((coarse_text, fine_text));
        path(root, coarse, line_style(color, 3));
    }
    if s.points.len() <= 16 {
        for p in s.points.iter().filter(|p| l.visible(s.axis, p.x, p.y)) {
            let _ = root.draw(&Circle::new(
                (l.px(p.x), l.py(s.axis, p.y)),
                4,
                series_color(i, false).filled(),
            ));
        }
    }
}

/// Axis lines, ticks and their labels, category labels (rotated ones written as SVG text into
/// `rotated_svg`: plotters rotates text by quarter turns only).
fn draw_axes(root: &Root, l: &Layout, rotated_svg: &mut String) {
    let p = l.plot;
    let fg = line_style(FG, 1);
    path(root, vec![(p.x0, p.y0), (p.x1, p.y0)], fg);
    path(root, vec![(p.x0, p.y0), (p.x0, p.y1)], fg);
    if l.axes.y2.is_some() {
        path(root, vec![(p.x1, p.y0), (p.x1, p.y1)], fg);
    }
    let tick_style = |h, v| font(TICK_PX, &FG, h, v);
    for t in &l.axes.y.ticks {
        let y = l.py(Side::Left, *t);
        path(root, vec![(p.x0 - 5, y), (p.x0, y)], fg);
        text(
            root,
            &l.axes.y.label(*t),
            (p.x0 - 9, y),
            tick_style(HPos::Right, VPos::Center),
        );
    }
    if let Some(y2) = &l.axes.y2 {
        for t in &y2.ticks {
            let y = l.py(Side::Right, *t);
            path(root, vec![(p.x1, y), (p.x1 + 5, y)], fg);
            text(
                root,
                &y2.label(*t),
                (p.x1 + 9, y),
                tick_style(HPos::Left, VPos::Center),
            );
        }
    }
    match &l.cat_labels {
        Some(CategoryLabels::Wrapped(cat_lines)) => {
            for (i, lines) in cat_lines.iter().enumerate() {
                let x = l.px(i as f64);
                for (k, line) in lines.iter().enumerate() {
                    let at = (x, p.y0 + 9 + k as i32 * 18);
                    text(root, line, at, tick_style(HPos::Center, VPos::Top));
                }
            }
        }
        Some(CategoryLabels::Rotated(labels)) => {
            for (i, label) in labels.iter().enumerate() {
                let (x, y) = (l.px(i as f64) + 4, p.y0 + 10);
                let _ = write!(
                    rotated_svg,
                    "<text x=\"{x}\" y=\"{y}\" dy=\"0.5ex\" text-anchor=\"end\" \
                     font-size=\"{TICK_PX}\" transform=\"rotate(-{ROTATE_DEG}, {x}, {y})\" \
                     fill=\"#020000\">\n{}\n</text>\n",
                    escape(label)
                );
                let x = l.px(i as f64);
                path(root, vec![(x, p.y0), (x, p.y0 + 5)], fg);
            }
        }
        None => {
            for (x, label) in &l.x_labels {
                text(
                    root,
                    label,
                    (*x, p.y0 + 9),
                    tick_style(HPos::Center, VPos::Top),
                );
            }
            for t in &l.axes.x.ticks {
                let x = l.px(*t);
                path(root, vec![(x, p.y0), (x, p.y0 + 5)], fg);
            }
        }
    }
}

fn draw_axis_titles(root: &Root, l: &Layout) {
    let p = l.plot;
    let axis_font = |h, v| font(AXIS_PX, &FG, h, v);
    if let Some(t) = &l.x_title {
        text(
            root,
            t,
            ((p.x0 + p.x1) / 2, l.h - PAD),
            axis_font(HPos::Center, VPos::Bottom),
        );
    }
    if let Some(t) = &l.y_title {
        // beside its tick labels, even where rotated category labels widened the margin
        let style = axis_font(HPos::Center, VPos::Top).transform(FontTransform::Rotate270);
        text(root, t, (p.x0 - l.y_title_gap, (p.y0 + p.y1) / 2), style);
    }
    if let Some(t) = &l.y2_title {
        let style = axis_font(HPos::Center, VPos::Top).transform(FontTransform::Rotate90);
        text(root, t, (l.w - PAD, (p.y0 + p.y1) / 2), style);
    }
}

/// Mark lines and points over the data, then every placed label, with its leader line when it
/// had to move away from what it names.
fn draw_marks(root: &Root, chart: &ResolvedChart, l: &Layout) {
    let p = l.plot;
    for m in &chart.marks {
        match m {
            Mark::XLine { x, .. } if l.axes.x.contains(*x) => {
                let x = l.px(*x);
                path(root, vec![(x, p.y0), (x, p.y1)], line_style(MARK_LINE, 2));
            }
            Mark::YLine { y, axis, .. } if l.axes.side(*axis).contains(*y) => {
                let y = l.py(*axis, *y);
                path(root, vec![(p.x0, y), (p.x1, y)], line_style(MARK_LINE, 2));
            }
            Mark::Point { x, y, axis, .. } if l.visible(*axis, *x, *y) => {
                let c = (l.px(*x), l.py(*axis, *y));
                let _ = root.draw(&Circle::new(c, 6, FG.filled()));
                let _ = root.draw(&Circle::new(c, 6, line_style(BG, 2)));
            }
            _ => {}
        }
    }
    for label in &l.labels {
        if let Some((from, to)) = label.placed.leader {
            path(root, vec![from, to], line_style(MUTED_TEXT, 1));
        }
        let (x, y, hp, vp) = label.placed.at;
        let color = if label.muted { &MUTED_TEXT } else { &HALO_TEXT };
        text(root, &label.text, (x, y), font(MARK_PX, color, hp, vp));
    }
}

fn draw_legend(root: &Root, chart: &ResolvedChart, l: &Layout) {
    for e in &l.legend {
        let (x, cy) = (e.x, e.cy);
        let s = &chart.series[e.series];
        match chart.kind {
            ChartKind::Line => path(
                root,
                vec![(x + 2, cy), (x + 26, cy)],
                line_style(series_color(e.series, s.dash), 3),
            ),
            ChartKind::Scatter => {
                let _ = root.draw(&Circle::new(
                    (x + 14, cy),
                    6,
                    series_color(e.series, false).filled(),
                ));
            }
            _ => {
                let _ = root.draw(&Rectangle::new(
                    [(x + 6, cy - 8), (x + 22, cy + 8)],
                    series_color(e.series, false).filled(),
                ));
            }
        }
        text(
            root,
            &e.label,
            (x + 32, cy),
            font(LEGEND_PX, &FG, HPos::Left, VPos::Center),
        );
    }
    if let Some((t, y)) = &l.title {
        text(
            root,
            t,
            (PAD, *y),
            bold(TITLE_PX, &FG, HPos::Left, VPos::Top),
        );
    }
}

/// Rewrites plotters' output: theme colours, accessible root element, compact attributes.
fn finish(svg: &str, chart: &ResolvedChart, anchor: &str, w: i32, h: i32) -> String {
    let mut out = String::with_capacity(svg.len() + 1024);
    let title = smart(chart.title.as_deref().unwrap_or("Chart"));
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

/// The figure around a chart, as the theme's `figure.html` (the `chart_figure` macro) draws it:
/// the title, legend and y axis titles as data, drawn as HTML that wraps with the page (`head`,
/// the `chart_head` macro); the SVG twice,
/// a desktop and a phone rendering of which CSS shows one (`.chart-wide`, `.chart-narrow`), so a
/// phone gets a drawing laid out for its width instead of a shrunken or sideways-scrolling one;
/// the x axis title; a caption `Figure {number}: …` only when one is written, and a link to the
/// chart's data as CSV.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FigureView {
    /// The figure's id (`fig-…`).
    pub anchor: String,
    pub number: usize,
    /// Title, legend and y axes' titles, above the plots (the `chart_head` macro).
    pub head: HeadView,
    pub plots: Vec<PlotView>,
    /// Text (the template escapes it).
    pub x_title: Option<String>,
    /// Text (the template escapes it).
    pub caption: Option<String>,
    pub csv: String,
}

/// One rendering of a chart: its CSS class and its SVG.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlotView {
    pub class: &'static str,
    pub svg: String,
}

/// The ids of a figure's two SVG renderings, desktop then phone: each names its `<title>` and
/// `<desc>` (`{id}-title`, `{id}-desc`).
fn plot_ids(anchor: &str) -> [String; 2] {
    [anchor.to_string(), format!("{anchor}-narrow")]
}

/// The ids a chart's figure gives the page, known without drawing it: the figure's and each
/// rendering's title and description.
pub fn figure_ids(chart: &ResolvedChart, number: usize) -> Vec<String> {
    let anchor = chart.anchor(number);
    let mut ids = vec![anchor.clone()];
    for plot in plot_ids(&anchor) {
        ids.push(format!("{plot}-title"));
        ids.push(format!("{plot}-desc"));
    }
    ids
}

/// The chart's figure as a [`FigureView`]: the SVG drawn for both frames.
pub fn figure_view(chart: &ResolvedChart, number: usize, csv_href: &str) -> FigureView {
    let anchor = chart.anchor(number);
    let [wide_id, narrow_id] = plot_ids(&anchor);
    let plots = [
        ("chart-wide", Frame::wide(chart), wide_id),
        ("chart-narrow", Frame::narrow(chart), narrow_id),
    ]
    .into_iter()
    .map(|(class, frame, id)| PlotView {
        class,
        svg: render_svg_framed(chart, &id, &frame),
    })
    .collect();
    FigureView {
        head: figure_head(chart),
        plots,
        x_title: axis_titles(chart).0.map(|x| smart(&x)),
        caption: (chart.caption.as_deref())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(smart),
        csv: csv_href.to_string(),
        number,
        anchor,
    }
}

/// The whole figure (`<figure class="chart" id="fig-…">`, see [`FigureView`]) drawn by the
/// built-in `figure.html`, for a chart shown outside a book's theme (tests, benchmarks).
pub fn render_figure(chart: &ResolvedChart, number: usize, csv_href: &str) -> String {
    let mut ctx = tera::Context::new();
    ctx.insert("f", &figure_view(chart, number, csv_href));
    crate::render::Theme::builtin()
        .and_then(|theme| theme.render("figure.html", &ctx).ok())
        .map(|html| html.trim().to_string() + "\n")
        .unwrap_or_default()
}

/// Bars on a log axis say where they start: `log scale, bars from 10`.
fn log_bars_note(chart: &ResolvedChart) -> Option<String> {
    if !chart.kind.is_categorical() || chart.y.scale != Scale::Log {
        return None;
    }
    let y = layout::fit_axes(chart).y;
    Some(format!("(log scale; bars start at {})", y.label(y.lo)))
}

/// What a figure shows above its plot, for the `chart_head` macro: its title, its legend (a
/// swatch per series, drawn as the series is: a line, a dashed line, a dot or a block) and the y
/// axes' titles. Text; the template escapes it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HeadView {
    pub title: Option<String>,
    pub legend: Vec<LegendItem>,
    pub y_title: Option<String>,
    /// Where bars on a log axis start, beside the y axis' title.
    pub y_note: Option<String>,
    pub y2_title: Option<String>,
}

/// One series in a figure's legend: `swatch` (`swatch-line`, `swatch-dash`, `swatch-dot` or
/// `swatch-block`), its colour (`--chart-1` to `--chart-8`) and its label.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LegendItem {
    pub swatch: &'static str,
    pub colour: usize,
    pub label: String,
}

fn figure_head(chart: &ResolvedChart) -> HeadView {
    let title = (chart.title.as_deref())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(smart);
    let legend = (legend_items(chart).into_iter())
        .map(|(i, label)| LegendItem {
            swatch: match chart.kind {
                ChartKind::Line if chart.series[i].dash => "swatch-dash",
                ChartKind::Line => "swatch-line",
                ChartKind::Scatter => "swatch-dot",
                _ => "swatch-block",
            },
            colour: i % 8 + 1,
            label: smart(&label),
        })
        .collect();
    let (_, y, y2) = axis_titles(chart);
    HeadView {
        title,
        legend,
        y_note: y.as_ref().and_then(|_| log_bars_note(chart)),
        y_title: y.map(|y| smart(&y)),
        y2_title: y2.map(|y2| smart(&y2)),
    }
}
