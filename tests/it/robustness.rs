//! Nothing an author writes may panic the loaders: SUMMARY.md, book.toml, Markdown (with cells),
//! include directives and data files get arbitrary text here. `PROPTEST_CASES` raises the count.

use std::path::Path;

use calcbook::book::{config, include, summary};
use calcbook::render::markdown::{self, NoCells};
use proptest::prelude::*;

/// Text built from the characters and fragments these formats care about.
fn author_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "[",
        "]",
        "(",
        ")",
        "- ",
        "* ",
        "  ",
        "\t",
        "\n",
        "#",
        "# ",
        "---",
        "<!--",
        "-->",
        "`",
        "```calc\n",
        "```chart\n",
        "```\n",
        "$",
        "$$",
        "\\",
        "{{#include ",
        "}}",
        ":",
        "a.md",
        "../",
        "x",
        "é",
        "🦀",
        "=",
        "= ",
        "@fig:",
        "@tbl:",
        "{",
        "}",
        "\"",
        "key = ",
        "[book]",
        "title",
        "|",
        "---|",
        "~~",
        "[^1]",
        "**",
        "\r\n",
        "ANCHOR: a",
        "1",
        "e9",
        "TB/s",
    ]);
    prop::collection::vec(pieces, 0..80).prop_map(|v| v.concat())
}

/// YAML-ish chart and table specs.
fn chart_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "title: t\n",
        "kind: line\n",
        "kind: bar\n",
        "kind: stacked\n",
        "kind: scatter\n",
        "x: { var: b, from: 1, to: 100, scale: log }\n",
        "x: { var: b, from: 0, to: 1e300 }\n",
        "y: { unit: ms, scale: log }\n",
        "y: { unit: B }\n",
        "series:\n",
        "  - { label: a, y: \"b * 1 ms\" }\n",
        "  - { label: z, y: \"1 / (b - 1)\" }\n",
        "  - { y: \"b\" }\n",
        "marks:\n",
        "  - { x: 10, label: m }\n",
        "  - { band: { x: [1, 2] } }\n",
        "categories: [a, b]\n",
        "rows: \"[1, 2]\"\n",
        "columns:\n",
        "  A: row\n",
        "  B: row * 2 s\n",
        "points: 100000\n",
        "id: x\n",
        ":",
        "{",
        "- ",
        "\n",
        "  ",
        "\"",
        "[",
        "]",
        "nan",
        "-1",
    ]);
    prop::collection::vec(pieces, 0..30).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn summary_parser_never_panics(text in author_text()) {
        let (s, diags) = summary::parse(&text, "SUMMARY.md");
        // Every diagnostic's span lies inside the text.
        for d in diags {
            if let Some(span) = d.span {
                prop_assert!(span.end <= text.len() && span.start <= span.end);
            }
        }
        for link in s.links() {
            prop_assert!(link.span.end <= text.len());
        }
    }

    #[test]
    fn config_parser_never_panics(text in author_text()) {
        let _ = config::parse(&text, "book.toml");
    }

    #[test]
    fn markdown_never_panics(text in author_text()) {
        let out = markdown::render(&text, "a/b.html", &mut NoCells);
        for link in out.links {
            prop_assert!(link.span.end <= text.len());
        }
    }

    #[test]
    fn chart_and_table_specs_never_panic(text in chart_text()) {
        let scope = calcbook::calc::Scope::new();
        if let Ok(spec) = calcbook::chart::parse_chart(&text) {
            let _ = calcbook::chart::evaluate_chart(&spec, &scope);
        }
        if let Ok(spec) = calcbook::chart::parse_table(&text) {
            let _ = calcbook::chart::evaluate_table(&spec, &scope);
        }
    }

    #[test]
    fn include_expansion_never_panics(text in author_text()) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.md"), "{{#include a.md}}").unwrap();
        let (out, map, _) = include::expand(&text, dir.path(), Path::new("ch.md"));
        let mapped = map.to_original(out.len());
        prop_assert!(mapped <= text.len());
    }
}
