//! A chart's data as CSV, the file behind the figure's "data (CSV)" link.
//!
//! Line charts whose series share their x values (sweeps) become one row per x with a column per
//! series; bar and stacked charts one row per category; anything else (scatter charts, series
//! with different x values) the long form `series,x,y[,label]`. Headers carry the display units
//! (`Batch size (tokens)`), numbers are written in full precision.

use std::fmt::Write as _;

use super::{ChartKind, ResolvedChart, Side};

/// The chart's points as CSV text (RFC 4180 quoting, `\n` line ends).
pub fn csv(chart: &ResolvedChart) -> String {
    let mut out = String::new();
    let y_title = |side: Side, label: &str| {
        let axis = match (side, &chart.y2) {
            (Side::Right, Some(a)) => a,
            _ => &chart.y,
        };
        match &axis.unit {
            Some(u) if !u.is_empty() => format!("{label} ({u})"),
            _ => label.to_string(),
        }
    };
    let x_title = chart.x.title().unwrap_or_else(|| {
        if chart.kind.is_categorical() {
            "category"
        } else {
            "x"
        }
        .into()
    });

    if chart.kind.is_categorical() {
        row(
            &mut out,
            std::iter::once(x_title).chain(chart.series.iter().map(|s| y_title(s.axis, &s.label))),
        );
        for (c, name) in chart.categories.iter().enumerate() {
            let cells = chart.series.iter().map(|s| {
                s.points
                    .iter()
                    .find(|p| p.x as usize == c)
                    .map(|p| num(p.y))
                    .unwrap_or_default()
            });
            row(&mut out, std::iter::once(name.clone()).chain(cells));
        }
        return out;
    }

    let shared_x = chart.kind == ChartKind::Line
        && chart.series.windows(2).all(|w| {
            w[0].points.len() == w[1].points.len()
                && w[0]
                    .points
                    .iter()
                    .zip(&w[1].points)
                    .all(|(a, b)| a.x == b.x)
        });
    if shared_x && !chart.series.is_empty() {
        row(
            &mut out,
            std::iter::once(x_title).chain(chart.series.iter().map(|s| y_title(s.axis, &s.label))),
        );
        for (i, p) in chart.series[0].points.iter().enumerate() {
            let cells = chart.series.iter().map(|s| num(s.points[i].y));
            row(&mut out, std::iter::once(num(p.x)).chain(cells));
        }
        return out;
    }

    let labelled = chart
        .series
        .iter()
        .any(|s| s.points.iter().any(|p| p.label.is_some()));
    let mut header = vec!["series".to_string(), x_title];
    let y = match &chart.y.unit {
        Some(u) if !u.is_empty() => format!("{} ({u})", chart.y.label.as_deref().unwrap_or("y")),
        _ => chart.y.label.clone().unwrap_or_else(|| "y".into()),
    };
    header.push(y);
    if labelled {
        header.push("label".into());
    }
    row(&mut out, header);
    for s in &chart.series {
        for p in &s.points {
            let mut cells = vec![s.label.clone(), num(p.x), num(p.y)];
            if labelled {
                cells.push(p.label.clone().unwrap_or_default());
            }
            row(&mut out, cells);
        }
    }
    out
}

fn num(v: f64) -> String {
    format!("{v}")
}

fn row(out: &mut String, cells: impl IntoIterator<Item = String>) {
    let mut first = true;
    for cell in cells {
        if !first {
            out.push(',');
        }
        first = false;
        if cell.contains([',', '"', '\n', '\r']) {
            let _ = write!(out, "\"{}\"", cell.replace('"', "\"\""));
        } else {
            out.push_str(&cell);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::super::{Axis, Point, Series};
    use super::*;

    #[test]
    fn sweeps_share_the_x_column() {
        let chart = ResolvedChart {
            x: Axis {
                label: Some("Batch size".into()),
                unit: Some("tokens".into()),
                ..Axis::default()
            },
            y: Axis {
                unit: Some("ms".into()),
                ..Axis::default()
            },
            series: vec![
                Series {
                    label: "compute".into(),
                    points: vec![Point::new(1.0, 0.5), Point::new(2.0, 1.0)],
                    ..Series::default()
                },
                Series {
                    label: "memory, total".into(),
                    points: vec![Point::new(1.0, 2.0), Point::new(2.0, 2.0)],
                    ..Series::default()
                },
            ],
            ..ResolvedChart::default()
        };
        assert_eq!(
            csv(&chart),
            "Batch size (tokens),compute (ms),\"memory, total (ms)\"\n1,0.5,2\n2,1,2\n"
        );
    }
}
