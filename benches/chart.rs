//! Rendering cost of a large chart: 10 series × 1,000 points on log axes, as SVG and as CSV,
//! and the same sweep evaluated from a spec through calc.

use calcbook::calc::Scope;
use calcbook::chart::eval::evaluate_chart;
use calcbook::chart::*;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn big_chart() -> ResolvedChart {
    let series = (0..10)
        .map(|s| Series {
            label: format!("series {s}"),
            dash: s % 2 == 1,
            points: (0..1000)
                .map(|i| {
                    let x = 10f64.powf(i as f64 / 999.0 * 5.0);
                    Point::new(x, (s as f64 + 1.0) * x.sqrt() + 1.0)
                })
                .collect(),
            ..Series::default()
        })
        .collect();
    ResolvedChart {
        title: Some("Ten series".into()),
        x: Axis {
            label: Some("Batch size".into()),
            unit: Some("tokens".into()),
            scale: Scale::Log,
            ..Axis::default()
        },
        y: Axis {
            label: Some("Step time".into()),
            unit: Some("ms".into()),
            scale: Scale::Log,
            ..Axis::default()
        },
        series,
        marks: vec![Mark::XLine {
            x: 300.0,
            label: Some("ridge".into()),
        }],
        ..ResolvedChart::default()
    }
}

fn bench(c: &mut Criterion) {
    let chart = big_chart();
    c.bench_function("render_figure 10x1000", |b| {
        b.iter(|| render_figure(black_box(&chart), 1, "fig-1.csv"))
    });
    c.bench_function("csv 10x1000", |b| b.iter(|| csv(black_box(&chart))));

    let mut scope = Scope::new();
    scope.run_block("w = 671 GB\nbw = 512 TB/s\nfn t(b, k) = w / bw + k * b * 573 kB/token / bw\n");
    let mut yaml = String::from(
        "x: { var: b, from: 1, to: 100000, scale: log, unit: tokens, points: 1000 }\ny: { unit: ms, scale: log }\nseries:\n",
    );
    for k in 1..=10 {
        yaml.push_str(&format!("  - {{ label: k{k}, y: \"t(b, {k})\" }}\n"));
    }
    let spec = parse_chart(&yaml).unwrap();
    c.bench_function("evaluate_chart 10x1000 (calc sweep)", |b| {
        b.iter(|| evaluate_chart(black_box(&spec), &scope).unwrap())
    });
    c.bench_function("parse+evaluate+render 10x1000", |b| {
        b.iter(|| {
            let spec = parse_chart(black_box(&yaml)).unwrap();
            render_figure(&evaluate_chart(&spec, &scope).unwrap(), 1, "f.csv")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
