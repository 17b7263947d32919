//! A native (engine) function's argument of the wrong dimension, end to end: a calc block and a
//! chart sweep report it with the same located diagnostic (file, line, column, the argument
//! underlined, the parameter's hint), the chart once, before it sweeps anything.

use crate::common::TestBook;

const CHAPTER: &str = r#"# Decode

```calc
d = decode(models.llama31_70b, hardware.h100, context=3 GB)
```

```chart
id: sweep
title: Step time against batch
x: { var: b, from: 1, to: 64, label: Batch, points: 1000 }
y: { unit: ms, label: Step time }
series:
  - { label: step, y: "decode(models.llama31_70b, hardware.h100, batch=b, context=b * 1 GB).step_time" }
```
"#;

fn book() -> TestBook {
    TestBook::new(&[
        ("src/SUMMARY.md", "- [Decode](decode.md)\n"),
        ("src/decode.md", CHAPTER),
        ("data/models.yaml", include_str!("../../data/models.yaml")),
        (
            "data/hardware.yaml",
            include_str!("../../data/hardware.yaml"),
        ),
    ])
}

/// The diagnostics of `check --format json`.
fn diagnostics(book: &TestBook) -> Vec<serde_json::Value> {
    let run = book.run(&["check", "--format", "json"]);
    run.assert_code(1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON report");
    doc["diagnostics"].as_array().expect("diagnostics").clone()
}

#[test]
fn a_wrong_dimension_argument_reads_the_same_in_a_calc_block_and_a_chart() {
    let book = book();
    let diags = diagnostics(&book);
    // One for the block, one for the chart: the sweep failed once, not at each of its points.
    assert_eq!(diags.len(), 2, "{diags:#?}");
    let (block, chart) = (&diags[0], &diags[1]);
    for d in [block, chart] {
        assert_eq!(d["code"], "dimension-mismatch", "{d:#}");
        assert_eq!(
            d["message"],
            "`context` of `decode` must be a plain number or tokens, found bytes"
        );
        assert_eq!(d["file"], "src/decode.md");
        assert_eq!(d["label"], "this is bytes");
        assert_eq!(d["help"], "for example `8192` or `8192 tokens`");
    }
    // Each underlines the argument itself where it is written.
    assert_eq!(block["start"]["line"], 4);
    assert_eq!(block["start"]["column"], 55);
    assert_eq!(chart["start"]["line"], 13);
    assert_eq!(chart["start"]["column"], 83);
    let text = book.run(&["check"]);
    let out = format!("{}{}", text.stdout, text.stderr);
    assert!(out.contains("src/decode.md:4:55"), "{out}");
    assert!(out.contains("src/decode.md:13:83"), "{out}");
    assert!(out.contains("^^^^ this is bytes"), "{out}");
    assert!(out.contains("^^^^^^^^ this is bytes"), "{out}");
}
