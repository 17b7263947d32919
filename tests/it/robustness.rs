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

// ---- Whole books: book.toml, SUMMARY.md, a chapter, data YAML and a template together ----

fn toml_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "[book]\n",
        "[build]\n",
        "[calcbook]\n",
        "[output.html]\n",
        "[preprocessor.x]\n",
        "title = \"T\"\n",
        "src = \"src\"\n",
        "src = \"..\"\n",
        "src = \"/\"\n",
        "data = \"data\"\n",
        "data = \"../..\"\n",
        "templates = \"templates\"\n",
        "templates = \"/usr\"\n",
        "max-file-bytes = 10\n",
        "max-file-bytes = 0\n",
        "max-steps = 1000\n",
        "max-included-bytes = 0\n",
        "build-dir = \"..\"\n",
        "language = \"fr\"\n",
        "authors = [\"a\"]\n",
        "=",
        "\"",
        "[",
        "]",
        "\n",
        "x",
        "\u{feff}",
        "\r",
        "-1",
        "1e999",
    ]);
    prop::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

fn yaml_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a:\n",
        "b:\n",
        "  name: A\n",
        "  v: 3 s\n",
        "  v: [1 s, 2 s]\n",
        "  hbm: {capacity: 80 GB, bandwidth: 3 TB/s}\n",
        "  source: s\n",
        "&x ",
        "*x",
        "<<: *x\n",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ": ",
        "\n",
        "  ",
        "\"",
        "'",
        "!!binary ",
        "1e999",
        "~",
        "? ",
        "|\n",
        "%YAML 1.2\n",
        "---\n",
        "...\n",
        "\r",
        "\u{feff}",
        "é",
    ]);
    prop::collection::vec(pieces, 0..30).prop_map(|v| v.concat())
}

fn template_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "{{ ",
        " }}",
        "{% ",
        " %}",
        "{%- ",
        " -%}",
        "{% for i in range(end=10) %}",
        "{% for i in range(end=100000) %}",
        "{% endfor %}",
        "{% macro m(n) %}",
        "{% endmacro %}",
        "{{ self::m(n=1) }}",
        "{% import \"macros.html\" as mm %}",
        "{% if x %}",
        "{% else %}",
        "{% endif %}",
        "{% include \"404.html\" %}",
        "{% extends \"page.html\" %}",
        "{% block b %}",
        "{% endblock %}",
        "{% raw %}",
        "{% endraw %}",
        "{# ",
        " #}",
        "get_env(name=\"HOME\")",
        "range(end=1000000000)",
        "book_title",
        "(",
        ")",
        "[",
        "]",
        " | safe",
        " | upper",
        "\n",
        "x",
        "\"",
        "{% set x = 1 %}",
        "\r",
    ]);
    prop::collection::vec(pieces, 0..25).prop_map(|v| v.concat())
}

fn chapter_text() -> impl Strategy<Value = String> {
    let calc = prop::sample::select(vec![
        "```calc\n",
        "```\n",
        "x = 2 s\n",
        "claim \"w <&>\": x > 1 s\n",
        "claim \"t\": 1 ≈ 1 ± -5%\n",
        "fn f(n) = f(n + 1)\n",
        "f(1)\n",
        "sum(map(1..100000, fn_sq))\n",
        "a.v\n",
        "[[[[1]]]]\n",
        "`= x`",
        "{{#include SUMMARY.md}}\n",
        "{{#include /etc/hostname}}\n",
        "\r",
        "\u{feff}",
    ]);
    (author_text(), prop::collection::vec(calc, 0..12))
        .prop_map(|(text, calc)| format!("{}{text}", calc.concat()))
}

#[derive(Debug, Clone)]
struct FuzzBook {
    toml: String,
    summary: String,
    chapter: String,
    yaml: String,
    template: String,
}

fn fuzz_book() -> impl Strategy<Value = FuzzBook> {
    (
        toml_text(),
        author_text(),
        chapter_text(),
        yaml_text(),
        template_text(),
    )
        .prop_map(|(toml, summary, chapter, yaml, template)| FuzzBook {
            toml,
            // Half the time a SUMMARY that lists the chapter, so that it is rendered.
            summary: if summary.len() % 2 == 0 {
                format!("# Summary\n\n- [One](one.md)\n{summary}")
            } else {
                summary
            },
            chapter,
            yaml,
            template,
        })
}

/// Writes the book and renders it in memory: it may have errors, but every span must lie inside
/// its file and nothing may panic.
fn render_fuzz_book(book: &FuzzBook) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("book.toml", &book.toml);
    write("src/SUMMARY.md", &book.summary);
    write("src/one.md", &book.chapter);
    write("src/a.md", "{{#include a.md}}");
    write("data/a.yaml", &book.yaml);
    write("templates/404.html", &book.template);
    if let Ok(rendered) = calcbook::render_book(root, &calcbook::RenderOptions::default()) {
        for d in &rendered.diagnostics {
            prop_assert!(
                !d.message.contains("panicked"),
                "a stage panicked: {}",
                d.message
            );
            if let (Some(file), Some(span)) = (&d.file, &d.span)
                && let Some(text) = rendered.sources().get(file)
            {
                prop_assert!(
                    span.start <= span.end && span.end <= text.len(),
                    "span {span:?} outside {} ({} bytes): {}",
                    file.display(),
                    text.len(),
                    d.message
                );
            }
        }
        let _ = calcbook::diagnostic::render(&rendered.diagnostics, rendered.sources(), false);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(32),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn whole_books_never_panic(book in fuzz_book()) {
        render_fuzz_book(&book)?;
    }
}

/// The long run (not in CI): `CALCBOOK_FUZZ_SECONDS=600 cargo test --release --test it
/// robustness::long_fuzz -- --nocapture` renders random books for that long and reports how many
/// it tried and every input that panicked or broke a span (and those slower than 5 s);
/// `CALCBOOK_FUZZ_CURRENT=FILE` keeps the case in progress in FILE.
#[test]
fn long_fuzz_of_whole_books() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let Some(seconds) = std::env::var("CALCBOOK_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return;
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let mut runner = TestRunner::default();
    let strategy = fuzz_book();
    let (mut cases, mut failures) = (0u64, Vec::new());
    // The case in progress is kept in this file, so that a hang can be read back.
    let current = std::env::var("CALCBOOK_FUZZ_CURRENT").ok();
    while std::time::Instant::now() < deadline {
        let book = strategy.new_tree(&mut runner).unwrap().current();
        if let Some(path) = &current {
            let _ = std::fs::write(path, format!("{book:#?}"));
        }
        let started = std::time::Instant::now();
        let outcome = std::panic::catch_unwind(|| render_fuzz_book(&book));
        if started.elapsed() > std::time::Duration::from_secs(5) {
            eprintln!("SLOW {:?}: {book:?}", started.elapsed());
        }
        cases += 1;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{e}: {book:?}")),
            Err(_) => failures.push(format!("panic: {book:?}")),
        }
    }
    eprintln!(
        "long fuzz: {cases} books in {seconds} s, {} failures",
        failures.len()
    );
    for f in &failures {
        eprintln!("FAILURE {f}");
    }
    assert!(failures.is_empty());
}
