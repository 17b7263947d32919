//! Hand-built resolved charts and tables shared by the chart tests and the demo page.
#![allow(dead_code)]

use calcbook::chart::table::{Cell, Column, Row};
use calcbook::chart::*;

fn axis(label: &str, unit: &str, scale: Scale) -> Axis {
    Axis {
        label: Some(label.into()),
        unit: Some(unit.into()),
        scale,
        ..Axis::default()
    }
}

/// Decode step time of a 671B-parameter MoE on 64 GPUs, log–log, with every kind of mark.
pub fn line_log_marks() -> ResolvedChart {
    let xs: Vec<f64> = (0..200)
        .map(|i| 10f64.powf(i as f64 / 199.0 * 65536f64.log10()))
        .collect();
    let compute = |b: f64| b * 2.3125e-4;
    let memory = |b: f64| 1.31 + b * 1.12e-4;
    let cost = |b: f64| compute(b).max(memory(b)) * 1e-3 * 64.0 * (2.0 / 3600.0) / b * 1e6;
    let series = |label: &str, f: &dyn Fn(f64) -> f64, axis: Side, dash: bool| Series {
        label: label.into(),
        axis,
        dash,
        points: xs.iter().map(|&b| Point::new(b, f(b))).collect(),
    };
    ResolvedChart {
        id: Some("step-time".into()),
        title: Some("Decode step time vs batch size".into()),
        caption: Some("Compute grows with batch; the weight read is a floor.".into()),
        kind: ChartKind::Line,
        x: Axis {
            min: Some(1.0),
            max: Some(65536.0),
            ..axis("Batch size", "tokens", Scale::Log)
        },
        y: axis("Step time", "ms", Scale::Log),
        y2: Some(axis("Cost", "$/Mtok", Scale::Log)),
        series: vec![
            series("compute", &compute, Side::Left, false),
            series("memory", &memory, Side::Left, false),
            series("cost per token", &cost, Side::Right, true),
        ],
        marks: vec![
            Mark::Band {
                along: BandAxis::X,
                from: 1.0,
                to: 5664.0,
                axis: Side::Left,
                label: Some("memory-bound".into()),
            },
            Mark::XLine {
                x: 2400.0,
                label: Some("300 × sparsity".into()),
            },
            Mark::YLine {
                y: 20.0,
                axis: Side::Left,
                label: Some("train departs".into()),
            },
            Mark::Point {
                x: 5664.0,
                y: 1.31 + 5664.0 * 1.12e-4,
                axis: Side::Left,
                label: Some("balance".into()),
            },
            Mark::Note {
                x: 3.0,
                y: 0.02,
                axis: Side::Left,
                text: "weights read once per step".into(),
            },
        ],
        ..ResolvedChart::default()
    }
}

/// Step time split into its parts at four batch sizes.
pub fn stacked() -> ResolvedChart {
    let cats = ["B = 64", "B = 512", "B = 2,048", "B = 8,192 (long context)"];
    let parts: [(&str, [f64; 4]); 4] = [
        ("compute", [0.015, 0.12, 0.47, 1.9]),
        ("weights", [1.31, 1.31, 1.31, 1.31]),
        ("KV cache", [0.07, 0.57, 2.3, 9.2]),
        ("communication", [0.2, 0.35, 0.8, 2.1]),
    ];
    ResolvedChart {
        id: Some("step-split".into()),
        title: Some("Where a decode step's time goes".into()),
        caption: Some("KV reads overtake the weight read as the batch grows.".into()),
        kind: ChartKind::Stacked,
        x: Axis {
            label: Some("Batch size".into()),
            ..Axis::default()
        },
        y: axis("Step time", "ms", Scale::Linear),
        categories: cats.iter().map(|c| c.to_string()).collect(),
        series: parts
            .iter()
            .map(|(label, v)| Series {
                label: label.to_string(),
                points: v
                    .iter()
                    .enumerate()
                    .map(|(i, y)| Point::new(i as f64, *y))
                    .collect(),
                ..Series::default()
            })
            .collect(),
        marks: vec![Mark::YLine {
            y: 10.0,
            axis: Side::Left,
            label: Some("10 ms budget".into()),
        }],
        ..ResolvedChart::default()
    }
}

/// API prices side by side.
pub fn grouped() -> ResolvedChart {
    let cats = ["Opus 4.6", "Gemini 3.1 Pro", "GPT-5"];
    let parts: [(&str, [f64; 3]); 3] = [
        ("input", [5.0, 2.0, 1.25]),
        ("output", [25.0, 12.0, 10.0]),
        ("cache hit", [0.5, 0.2, 0.125]),
    ];
    ResolvedChart {
        id: Some("prices".into()),
        title: Some("API prices by token type".into()),
        caption: None,
        kind: ChartKind::Bar,
        y: axis("Price", "$/Mtok", Scale::Linear),
        categories: cats.iter().map(|c| c.to_string()).collect(),
        series: parts
            .iter()
            .map(|(label, v)| Series {
                label: label.to_string(),
                points: v
                    .iter()
                    .enumerate()
                    .map(|(i, y)| Point::new(i as f64, *y))
                    .collect(),
                ..Series::default()
            })
            .collect(),
        ..ResolvedChart::default()
    }
}

/// Chips by compute and bandwidth.
pub fn scatter() -> ResolvedChart {
    let gpus = [
        ("A100", 2.04, 312.0),
        ("H100", 3.35, 989.0),
        ("H200", 4.8, 989.0),
        ("B200", 8.0, 2250.0),
        ("GB300", 8.0, 5000.0),
        ("Rubin", 22.0, 17500.0),
    ];
    let tpus = [
        ("TPU v4", 1.2, 275.0),
        ("TPU v5e", 0.82, 197.0),
        ("TPU v5p", 2.8, 459.0),
        ("Ironwood", 7.37, 4614.0),
    ];
    let series = |label: &str, rows: &[(&str, f64, f64)]| Series {
        label: label.into(),
        points: rows
            .iter()
            .map(|(n, x, y)| Point::labelled(*x, *y, *n))
            .collect(),
        ..Series::default()
    };
    ResolvedChart {
        id: Some("chips".into()),
        title: Some("Compute against memory bandwidth".into()),
        caption: Some("Dense FLOP/s at each chip's headline precision.".into()),
        kind: ChartKind::Scatter,
        x: axis("HBM bandwidth", "TB/s", Scale::Log),
        y: axis("Dense compute", "TFLOP/s", Scale::Log),
        series: vec![series("NVIDIA", &gpus), series("Google TPU", &tpus)],
        ..ResolvedChart::default()
    }
}

/// A hardware table with one highlighted row.
pub fn chips_table() -> ResolvedTable {
    let rows = [
        ("H100", 989.0, 3.35, 80.0, false),
        ("H200", 989.0, 4.8, 141.0, false),
        ("B200", 2250.0, 8.0, 192.0, true),
        ("TPU v5e", 197.0, 0.82, 16.0, false),
    ];
    let mut t = ResolvedTable {
        id: Some("chips".into()),
        caption: Some("Accelerators at BF16; the ridge is FLOP per byte of HBM traffic.".into()),
        columns: vec![
            Column {
                name: "Chip".into(),
                ..Column::default()
            },
            Column {
                name: "BF16".into(),
                numeric: true,
                ..Column::default()
            },
            Column {
                name: "HBM bandwidth".into(),
                numeric: true,
                ..Column::default()
            },
            Column {
                name: "HBM".into(),
                numeric: true,
                ..Column::default()
            },
            Column {
                name: "Ridge".into(),
                unit: Some("FLOP/B".into()),
                numeric: true,
            },
            Column {
                name: "Drain time".into(),
                numeric: true,
                ..Column::default()
            },
        ],
        rows: rows
            .iter()
            .map(|(n, f, bw, cap, hl)| Row {
                cells: vec![
                    Cell::text(*n),
                    Cell::number(format!("{f} TFLOP/s"), *f),
                    Cell::number(format!("{bw} TB/s"), *bw),
                    Cell::number(format!("{cap} GB"), *cap),
                    Cell::number(format!("{:.0}", f / bw), f / bw),
                    Cell::number(format!("{:.1} ms", cap / bw), cap / bw),
                ],
                highlight: *hl,
            })
            .collect(),
    };
    t.sort_by(4, true);
    t
}
