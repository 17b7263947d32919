//! Chart and table specs evaluated against a calc scope: the happy path end to end, and every
//! error an author can make, each checked for its code, message and span in the YAML.

use calcbook::Diagnostic;
use calcbook::calc::Scope;
use calcbook::chart::eval::{evaluate_chart, evaluate_table};
use calcbook::chart::*;

fn scope() -> Scope {
    let mut s = Scope::new();
    let out = s.run_block(
        "weights = 671 GB\n\
         bw = 512 TB/s\n\
         flops = 640 PFLOP/s\n\
         per_token = 74 GFLOP/token\n\
         batch_needed = 5664 tokens\n\
         fn compute_time(b) = per_token * b / flops\n\
         fn memory_time(b) = weights / bw + b * 573 kB/token / bw\n\
         h100 = {name: \"H100\", flops: 989 TFLOP/s, bw: 3.35 TB/s}\n\
         b200 = {name: \"B200\", flops: 2250 TFLOP/s, bw: 8 TB/s}\n\
         chips = [h100, b200]\n",
    );
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    s
}

fn chart(yaml: &str) -> Result<ResolvedChart, Vec<Diagnostic>> {
    let spec = parse_chart(yaml)?;
    evaluate_chart(&spec, &scope())
}

/// The one diagnostic of a failing spec, and the YAML text its span covers.
fn one_error(yaml: &str) -> (Diagnostic, String) {
    let diags = chart(yaml).expect_err("the spec should fail");
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let d = diags.into_iter().next().unwrap();
    let span = d.span.clone().expect("a span");
    let text = yaml[span].to_string();
    (d, text)
}

const STEP: &str = r#"id: step-time
title: Decode step time vs batch size
caption: Compute grows with batch; the weight read is a floor.
x: { var: batch, from: 1, to: 65536, scale: log, unit: tokens, label: Batch size, points: 100 }
y: { unit: ms, scale: log, label: Step time }
series:
  - { label: compute, y: compute_time(batch) }
  - { label: memory,  y: memory_time(batch), dash: true }
marks:
  - { x: batch_needed, label: balance }
  - { y: "20 ms", label: train departs }
  - { band: { x: [1, batch_needed] }, label: memory-bound }
"#;

#[test]
fn line_chart_end_to_end() {
    let c = chart(STEP).unwrap();
    assert_eq!(c.series.len(), 2);
    assert_eq!(c.series[0].points.len(), 100);
    assert_eq!(c.x.unit.as_deref(), Some("tokens"));
    assert_eq!(c.y.unit.as_deref(), Some("ms"));
    assert_eq!((c.x.min, c.x.max), (Some(1.0), Some(65536.0)));
    // memory_time(1 token) = 671 GB / 512 TB/s + 573 kB / 512 TB/s ≈ 1.3106 ms.
    let m0 = c.series[1].points[0].y;
    assert!((m0 - 1.3106).abs() < 1e-3, "{m0}");
    // compute_time(65536 tokens) = 74e9 * 65536 / 640e15 s ≈ 7.58 ms.
    let c1 = c.series[0].points.last().unwrap().y;
    assert!((c1 - 7.578).abs() < 1e-2, "{c1}");
    assert_eq!(
        c.marks[0],
        Mark::XLine {
            x: 5664.0,
            label: Some("balance".into())
        }
    );
    assert!(matches!(c.marks[1], Mark::YLine { y, .. } if (y - 20.0).abs() < 1e-9));
    let html = render_figure(&c, 1, "ch-fig-1.csv");
    assert!(html.contains("Step time (ms)"));
    assert!(html.contains("Batch size (tokens)"));
}

#[test]
fn axis_unit_is_chosen_when_not_given() {
    let c = chart(
        "x: { var: b, from: 1 token, to: 100 tokens }\nseries:\n  - { label: t, y: memory_time(b) }\n",
    )
    .unwrap();
    assert_eq!(c.y.unit.as_deref(), Some("ms"));
    assert!((c.series[0].points[0].y - 1.31).abs() < 0.01);
}

#[test]
fn bar_chart_over_rows_and_scatter() {
    let c = chart(
        "kind: bar\nrows: chips\ncategory: row.name\ny: { unit: TFLOP/s }\nseries:\n  - { label: dense, y: row.flops }\n",
    )
    .unwrap();
    assert_eq!(c.categories, vec!["H100", "B200"]);
    assert_eq!(c.series[0].points[1].y, 2250.0);

    let c = chart(
        "kind: stacked\ncategories: [a, b]\ny: { unit: ms }\nseries:\n  - { label: one, y: [1 ms, 2 ms] }\n  - { label: two, y: \"[3 ms, 500 us]\" }\n",
    )
    .unwrap();
    assert_eq!(c.series[1].points[1].y, 0.5);

    let c = chart(
        "kind: scatter\nx: { unit: TB/s, scale: log }\ny: { unit: TFLOP/s, scale: log }\nseries:\n  - { label: GPUs, points: chips, x: row.bw, y: row.flops, name: row.name }\n",
    )
    .unwrap();
    assert_eq!(c.series[0].points[0], Point::labelled(3.35, 989.0, "H100"));
}

#[test]
fn table_end_to_end() {
    let yaml = "id: chips\ncaption: Two chips.\nrows: chips\ncolumns:\n  Chip: row.name\n  Bandwidth: row.bw\n  Ridge: { expr: row.flops / row.bw, unit: FLOP/B, digits: 3 }\nsort: { by: Ridge, desc: true }\nhighlight: row.name == \"B200\"\n";
    let spec = parse_table(yaml).unwrap();
    let t = evaluate_table(&spec, &scope()).unwrap();
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0].cells[0].text, "H100"); // ridge 295 > 281
    assert_eq!(t.rows[0].cells[1].text, "3.35 TB/s");
    assert_eq!(t.rows[0].cells[2].text, "295");
    assert!(t.rows[1].highlight && !t.rows[0].highlight);
    let html = render_table(&t, 2);
    assert!(
        html.contains("<th scope=\"col\" class=\"num\">Ridge (FLOP/B)</th>"),
        "{html}"
    );
    assert!(
        html.contains("<tr class=\"highlight\"><td>B200</td>"),
        "{html}"
    );
    assert!(html.contains("Table 2:"));
}

#[test]
fn unknown_key_suggests_the_right_one() {
    let (d, at) = one_error("titel: x\nseries:\n  - { label: a, y: 1 ms, x: [1] }\n");
    assert_eq!(d.code, "spec-unknown-key");
    assert_eq!(d.message, "unknown key `titel` in chart");
    assert_eq!(d.help.as_deref(), Some("did you mean `title`?"));
    assert_eq!(at, "titel");
    // Nested keys too, at their own position.
    let yaml = "x: { var: b, from: 1, to: 2, scael: log }\nseries:\n  - { label: a, y: b }\n";
    let (d, at) = one_error(yaml);
    assert_eq!(d.message, "unknown key `scael` in x axis");
    assert_eq!(d.help.as_deref(), Some("did you mean `scale`?"));
    assert_eq!((at.as_str(), d.span.unwrap().start), ("scael", 29));
}

#[test]
fn unknown_kind() {
    let (d, at) =
        one_error("kind: lines\nx: { var: b, from: 1, to: 2 }\nseries:\n  - { label: a, y: b }\n");
    assert_eq!(d.code, "chart-unknown-kind");
    assert_eq!(d.message, "unknown chart kind `lines`");
    assert_eq!(d.help.as_deref(), Some("did you mean `line`?"));
    assert_eq!(at, "lines");
}

#[test]
fn series_unit_must_agree_with_its_axis() {
    let yaml = "x: { var: b, from: 1, to: 10, unit: tokens }\ny: { unit: ms }\nseries:\n  - { label: bytes, y: b * 573 kB/token }\n";
    let (d, at) = one_error(yaml);
    assert_eq!(d.code, "chart-unit-mismatch");
    assert_eq!(
        d.message,
        "series `bytes` is bytes, but the y axis is in `ms`, which is time"
    );
    assert_eq!(at, "b * 573 kB/token");
    assert_eq!(&yaml[d.secondary[0].span.clone()], "ms");
}

#[test]
fn log_axis_rejects_non_positive_values() {
    let yaml = "x: { var: b, from: 0, to: 10, scale: log, unit: tokens }\nseries:\n  - { label: a, y: b * 1 ms/token }\n";
    let (d, at) = one_error(yaml);
    assert_eq!(d.code, "chart-log-nonpositive");
    assert_eq!(
        d.message,
        "the sweep's start is 0 tokens, which a log-scale x axis cannot show"
    );
    assert_eq!(at, "0");
    let yaml = "x: { var: b, from: 1, to: 10, unit: tokens }\ny: { scale: log, unit: ms }\nseries:\n  - { label: a, y: (b - 1 token) * 1 ms/token }\n";
    let (d, at) = one_error(yaml);
    assert_eq!(d.code, "chart-log-nonpositive");
    assert_eq!(
        d.message,
        "series `a` is 0 at b = 1 tokens, which a log-scale y axis cannot show"
    );
    assert_eq!(at, "(b - 1 token) * 1 ms/token");
}

#[test]
fn nan_points_say_where() {
    let yaml = "x: { var: b, from: 1, to: 9, unit: tokens, points: 9 }\ny: { unit: ms }\nseries:\n  - { label: a, y: 1 ms / (b - 5 tokens) * 1 token }\n";
    let (d, at) = one_error(yaml);
    assert_eq!(d.code, "chart-not-finite");
    assert!(
        d.message
            .starts_with("series `a` has no finite value at b = 5 tokens: "),
        "{}",
        d.message
    );
    assert_eq!(at, "1 ms / (b - 5 tokens) * 1 token");
}

#[test]
fn sweeps_have_limits() {
    let yaml = "x: { var: b, from: 1, to: 2, points: 20000 }\nseries:\n  - { label: a, y: b }\n";
    let (d, at) = one_error(yaml);
    assert_eq!(d.code, "chart-sweep-too-large");
    assert_eq!(d.message, "20000 points is more than the limit of 10000");
    assert_eq!(at, "20000");
    let mut yaml = "x: { var: b, from: 1, to: 2, points: 6000 }\nseries:\n".to_string();
    for i in 0..20 {
        yaml.push_str(&format!("  - {{ label: s{i}, y: b }}\n"));
    }
    let (d, at) = one_error(&yaml);
    assert_eq!(d.code, "chart-sweep-too-large");
    assert_eq!(
        d.message,
        "20 series × 6000 points is 120000 evaluations, more than the limit of 100000"
    );
    assert_eq!(at, "series");
}

#[test]
fn bad_yaml_points_at_the_problem() {
    let yaml = "title: ok\nseries: [ { label: a, y: 1 }\nkind: line\n";
    let (d, _) = one_error(yaml);
    assert_eq!(d.code, "spec-yaml");
    assert!(d.message.starts_with("bad YAML: "), "{}", d.message);
    let (line, _) = d.line_col(yaml).unwrap();
    assert!(line >= 2, "line {line}");
}

#[test]
fn missing_series_and_calc_errors_are_placed() {
    let (d, _) = one_error("title: nothing\n");
    assert_eq!(d.code, "spec-missing-key");
    assert_eq!(d.message, "a chart needs at least one series");
    // A calc error inside an expression points into the YAML, at the bad name.
    let yaml = "x: { var: b, from: 1, to: 2 }\nseries:\n  - { label: a, y: memroy_time(b) }\n";
    let (d, at) = one_error(yaml);
    assert_eq!(at, "memroy_time");
    assert!(d.help.unwrap_or_default().contains("memory_time"));
}

#[test]
fn table_sort_column_must_exist() {
    let diags =
        parse_table("rows: chips\ncolumns:\n  Chip: row.name\nsort: { by: Chp }\n").unwrap_err();
    assert_eq!(diags[0].code, "spec-unknown-column");
    assert_eq!(diags[0].message, "cannot sort by `Chp`: no such column");
    assert_eq!(diags[0].help.as_deref(), Some("did you mean `Chip`?"));
}

#[test]
fn unquoted_commas_in_flow_mappings_get_a_hint() {
    let yaml = "x: { var: b, from: 1, to: 2 }\nseries:\n  - { label: a, y: max(b, 1) }\n";
    let diags = parse_chart(yaml).unwrap_err();
    assert_eq!(diags[0].code, "spec-unknown-key");
    assert_eq!(diags[0].message, "unknown key `1)` in series");
    assert_eq!(&yaml[diags[0].span.clone().unwrap()], "1)");
    assert!(
        diags[0]
            .help
            .as_deref()
            .unwrap()
            .contains("quote expressions")
    );
}

/// `x in GB` for a time: a chart series reports the same complete diagnostic as a calc block
/// (caret under the unit, the value labelled, a unit suggested), at the top of the expression
/// and nested inside it (#12: the chart once gave only a secondary label, or a bare message).
#[test]
fn a_conversion_to_another_dimension_in_a_series_is_a_complete_diagnostic() {
    let block = scope()
        .eval_expr("compute_time(64 tokens) in GB")
        .unwrap_err();
    for y in [
        "compute_time(batch) in GB",
        "(compute_time(batch) in GB) * 2",
    ] {
        let yaml = format!(
            "x: {{ var: batch, from: 1, to: 100, unit: tokens }}\nseries:\n  - {{ label: t, y: \"{y}\" }}\n"
        );
        let (d, text) = one_error(&yaml);
        assert_eq!(d.code, "dimension-mismatch");
        assert_eq!(d.message, block.message, "{y}");
        assert_eq!(text, "GB", "the caret is under the unit in {y}");
        assert_eq!(d.label, block.label, "{y}");
        assert_eq!(d.secondary.len(), 1, "{y}: {d:?}");
        assert!(
            d.help
                .as_deref()
                .is_some_and(|h| h.starts_with("a unit for time would be")),
            "{y}: {d:?}"
        );
    }
}
