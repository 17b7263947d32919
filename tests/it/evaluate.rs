//! `check` evaluates a book without drawing it (`pipeline::evaluate_book`): it must find what a
//! full render finds (claims, diagnostics, broken links and anchors, including anchors that only
//! cells give a page), and books restyle each drawn cell, the data-sources page and the ledger
//! through their own templates (#12 item 3).

use std::path::Path;

use crate::common::TestBook;

/// Claims and diagnostics as `check` reported them before it stopped drawing pages: a full
/// render, with in-book links as errors.
fn by_rendering(
    root: &Path,
) -> (
    Vec<calcbook::notebook::ClaimRecord>,
    Vec<calcbook::Diagnostic>,
) {
    let (mut rendered, evaluated) =
        calcbook::render_book_with(root, &calcbook::RenderOptions::default()).unwrap();
    calcbook::links_as_errors(&mut rendered.diagnostics);
    (evaluated.claims, rendered.diagnostics)
}

fn by_evaluating(
    root: &Path,
) -> (
    Vec<calcbook::notebook::ClaimRecord>,
    Vec<calcbook::Diagnostic>,
) {
    let mut checked = calcbook::evaluate_book(root).unwrap();
    calcbook::links_as_errors(&mut checked.diagnostics);
    (checked.claims, checked.diagnostics)
}

const CHAPTER: &str = r#"# Cells

See @fig:load, @tbl:chips and @fig:nowhere; the [claim](#claim-1), the
[figure](#fig-load), its [phone plot](#fig-load-narrow-title), the [table](#tbl-chips), a
[missing anchor](#fig-gone), [another page](other.md#no-such-heading), [a missing page](gone.md),
[the print page](print.html), [a static page](extra.html) and [the ledger](claims.html).

```calc
t = 80 GB / (3.35 TB/s)
bad = 3 s + 2 GB
claim "Draining takes about 24 ms": t ≈ 24 ms ± 5%
claim "Never evaluated": bad > 1 s
```

Inline: `= t in ms`, and a broken one: `= t + 1 GB`.

```chart
id: load
title: Load
x: {var: n, from: 1, to: 4}
y: {unit: ms}
series:
  - {label: drain, y: "n * t"}
```

```chart
x: {var: n, from: 1
```

```table
id: chips
rows: "[{n: 1}, {n: 2}]"
columns:
  N: row.n
```

```table
rows: nope(
```
"#;

fn fixture() -> TestBook {
    TestBook::new(&[
        (
            "book.toml",
            "[book]\ntitle = \"T\"\n\n[output.html]\nadditional-css = [\"missing.css\"]\n\n[output.html.redirect]\n\"../out.html\" = \"cells.html\"\n",
        ),
        (
            "src/SUMMARY.md",
            "- [Cells](cells.md)\n- [Other](other.md)\n- [Gone]()\n",
        ),
        ("src/cells.md", CHAPTER),
        (
            "src/other.md",
            "# Other\n\n[back](cells.md#cells) and [wrong](cells.md#celss)\n",
        ),
        ("src/extra.html", "<p>static</p>\n"),
        ("data/chips.yaml", "a:\n  name: A\n  broken: [\n"),
    ])
}

#[test]
fn evaluating_a_book_finds_every_claim_error_and_broken_link_a_render_finds() {
    let book = fixture();
    let (claims, diags) = by_evaluating(book.root());
    let (want_claims, want_diags) = by_rendering(book.root());
    // Debug text, as a claim not evaluated holds NaN values.
    assert_eq!(format!("{claims:?}"), format!("{want_claims:?}"));
    assert_eq!(diags, want_diags);
    // The fixture reaches each kind it means to: a broken anchor and page, cell errors, a claim
    // not evaluated, and the anchors only cells give (#claim-1, #fig-load, #fig-load-narrow-title,
    // #tbl-chips) resolve.
    let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    for code in ["broken-anchor", "broken-link", "unknown-reference"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    let anchors: Vec<&str> = diags
        .iter()
        .filter(|d| d.code.as_str() == "broken-anchor")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(anchors.len(), 3, "{anchors:?}");
    for a in anchors {
        assert!(
            ["#fig-gone", "#no-such-heading", "#celss"]
                .iter()
                .any(|x| a.contains(x)),
            "{a}"
        );
    }
    assert_eq!(claims.len(), 2);
    assert!(claims[1].not_evaluated.is_some());
    assert!(diags.len() >= 8, "{diags:#?}");
}

#[test]
fn evaluating_the_bundled_book_finds_what_rendering_it_finds() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (claims, diags) = by_evaluating(repo);
    let (want_claims, want_diags) = by_rendering(repo);
    assert!(claims.len() > 100);
    assert_eq!(format!("{claims:?}"), format!("{want_claims:?}"));
    assert_eq!(diags, want_diags);
}

#[test]
fn check_reports_a_broken_anchor_to_a_figure_and_accepts_one_that_lands() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [C](c.md)\n"),
        (
            "src/c.md",
            "# C\n\n[Good](#fig-f) and [bad](#fig-g).\n\n```chart\nid: f\nx: {var: n, from: 1, to: 3}\nseries:\n  - {label: n, y: n}\n```\n",
        ),
    ]);
    let run = book.run(&["check"]);
    let out = format!("{}{}", run.stdout, run.stderr);
    run.assert_code(1);
    assert!(
        out.contains("`c.html` has no heading or anchor `#fig-g`"),
        "{out}"
    );
    assert!(out.contains("did you mean `#fig-f`?"), "{out}");
    assert!(!out.contains("anchor `#fig-f`"), "{out}");
}

/// A calc block's wrapper, its errors, an inline value and a chart's figure are each drawn by a
/// template of their own, which a book's templates folder replaces.
#[test]
fn a_books_templates_restyle_the_calc_block_errors_inline_values_and_figures() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [C](c.md)\n"),
        (
            "src/c.md",
            "# C\n\nIt is `= 2 * 3`.\n\n```calc hidden\nx = 1 s + 1 GB\ny = 2\n```\n\n```chart\nid: f\ncaption: Lines\nx: {var: n, from: 1, to: 3}\nseries:\n  - {label: n, y: n}\n```\n\n```chart\nx: {var: n, from: 1\n```\n",
        ),
        (
            "templates/calc_block.html",
            "<section class=\"my-pad\" data-n=\"{{ b.block }}\" data-open=\"{{ b.open }}\">{% for p in b.parts %}[{{ p.kind }}]{% if p.kind == \"errors\" %}{% for e in p.errors %}<em>{{ e.code }}: {{ e.message }}</em>{% endfor %}{% endif %}{% endfor %}</section>\n",
        ),
        (
            "templates/error.html",
            "{% for e in errors %}<p class=\"my-error\">{{ e.severity }} {{ e.code }}</p>{% endfor %}\n",
        ),
        (
            "templates/inline.html",
            "<mark class=\"my-inline\">{{ v.value | safe }}</mark>\n",
        ),
        (
            "templates/figure.html",
            "<div class=\"my-figure\" id=\"{{ f.anchor }}\">{{ f.number }} {{ f.caption }} {{ f.plots | length }} {{ f.csv }}</div>\n",
        ),
    ]);
    // The book has errors (shown in place), so it is drawn in memory rather than written.
    let rendered = calcbook::render_book(book.root(), &calcbook::RenderOptions::default()).unwrap();
    assert!(rendered.has_errors());
    let html = rendered.site.get_str("c.html").unwrap();
    assert!(
        html.contains(
            "<section class=\"my-pad\" data-n=\"1\" data-open=\"true\">[pad][errors]<em>"
        ),
        "{html}"
    );
    assert!(!html.contains("calc-details"), "{html}");
    assert!(html.contains("<p class=\"my-error\">error "), "{html}");
    assert!(html.contains("<mark class=\"my-inline\"><button"), "{html}");
    assert!(
        html.contains("<div class=\"my-figure\" id=\"fig-f\">1 Lines 2 c-fig-1.csv</div>"),
        "{html}"
    );
}

/// A book's override that fails when it draws is reported at its file, and the built-in template
/// draws the cell so the page stays whole; `check` draws such a book to find it.
#[test]
fn a_failing_cell_template_is_reported_and_the_built_in_one_draws_the_cell() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [C](c.md)\n"),
        ("src/c.md", "# C\n\nIt is `= 2 * 3`.\n"),
        ("templates/inline.html", "<b>\n{{ v.no_such_field }}</b>\n"),
    ]);
    let rendered = calcbook::render_book(book.root(), &calcbook::RenderOptions::default()).unwrap();
    let failure = rendered
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "template")
        .expect("the template's failure is reported");
    assert_eq!(
        failure.file.as_deref(),
        Some(Path::new("templates/inline.html"))
    );
    assert!(
        failure.message.contains("no_such_field"),
        "{}",
        failure.message
    );
    let html = rendered.site.get_str("c.html").unwrap();
    assert!(html.contains("class=\"calc-inline traced\""), "{html}");
    let run = book.run(&["check"]);
    let out = format!("{}{}", run.stdout, run.stderr);
    run.assert_code(1);
    assert!(out.contains("templates/inline.html:2"), "{out}");
}

/// A traced value's button and card are drawn by `traced.html` (the `traced_value` macro), in pad
/// rows, claim sides and inline values alike.
#[test]
fn a_books_traced_template_restyles_every_traced_value() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [C](c.md)\n"),
        (
            "src/c.md",
            "# C\n\n```calc\nt = 2 s\nclaim \"Two seconds\": t == 2 s\n```\n\nIt is `= t * 3`.\n",
        ),
        (
            "templates/traced.html",
            "<output class=\"mine {{ t.class }}\" data-base=\"{{ t.base }}\" data-expr=\"{{ t.expr }}\">{{ t.shown }}</output>\n",
        ),
    ]);
    book.build().assert_code(0);
    let html = book.page("c.html");
    for needle in [
        "<output class=\"mine calc-value\" data-base=\"2 s\" data-expr=\"\">2 s</output>",
        "<output class=\"mine claim-value\"",
        "<output class=\"mine calc-inline\" data-base=\"6 s\" data-expr=\"t * 3\">6 s</output>",
    ] {
        assert!(html.contains(needle), "{needle} in {html}");
    }
    assert!(!html.contains("trace-card"), "{html}");
}

/// Cells are drawn in place on the pool's deep-stack threads; the template guard still stops a
/// cell template whose macro calls itself forever, as an error rather than an abort.
#[test]
fn a_cell_template_that_recurses_forever_is_an_error_not_an_abort() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [C](c.md)\n"),
        ("src/c.md", "# C\n\nIt is `= 2 * 3`.\n"),
        (
            "templates/inline.html",
            "{% import \"rec.html\" as rec %}{{ rec::down(n=0) }}\n",
        ),
        (
            "templates/rec.html",
            "{% macro down(n) %}\n{{ self::down(n=n + 1) }}\n{% endmacro down %}\n",
        ),
    ]);
    let rendered = calcbook::render_book(book.root(), &calcbook::RenderOptions::default()).unwrap();
    let failure = rendered
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "template")
        .expect("the runaway macro is reported");
    assert!(
        failure.message.contains("nests too deeply"),
        "{}",
        failure.message
    );
    // The built-in template drew the value instead.
    let html = rendered.site.get_str("c.html").unwrap();
    assert!(html.contains("class=\"calc-inline traced\""), "{html}");
}

/// The data-sources page is drawn by `data_sources.html` (the `data_sources` macro); a failing
/// override of the ledger's row is reported and the built-in row drawn.
#[test]
fn a_books_templates_restyle_the_data_sources_page_and_a_failing_ledger_row_falls_back() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [C](c.md)\n"),
        (
            "src/c.md",
            "# C\n\n```calc\nclaim \"Chip A has 80 GB\": chips.a.hbm == 80 GB\n```\n",
        ),
        (
            "data/chips.yaml",
            "a:\n  name: Chip \"A\"\n  hbm: 80 GB\n  source: https://example.com/a/\n  note: Measured.\n",
        ),
        (
            "templates/data_sources.html",
            "{% for file in files %}{% for e in file.entries %}<section id=\"{{ e.anchor }}\">{{ e.name }}{% for f in e.figures %} [{{ f.key_html | safe }}={{ f.value }}]{% endfor %}{% for s in e.sources %} <a href=\"{{ s.href }}\">{{ s.shown }}</a>{% endfor %}{% for n in e.notes %} ({{ n }}){% endfor %}</section>{% endfor %}{% endfor %}\n",
        ),
        (
            "templates/ledger_row.html",
            "<tr>{{ c.no_such_field }}</tr>\n",
        ),
    ]);
    let rendered = calcbook::render_book(book.root(), &calcbook::RenderOptions::default()).unwrap();
    let sources = rendered.site.get_str("sources.html").unwrap();
    assert!(
        sources.contains("<section id=\"chips-a\">Chip “A” [hbm=80 GB] <a href=\"https://example.com/a/\">example.com/a</a> (Measured.)</section>"),
        "{sources}"
    );
    let failure = rendered
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "template")
        .expect("the ledger row's failure is reported");
    assert_eq!(
        failure.file.as_deref(),
        Some(Path::new("templates/ledger_row.html"))
    );
    let ledger = rendered.site.get_str("claims.html").unwrap();
    assert!(ledger.contains("<td class=\"verdict-holds\">"), "{ledger}");
}

/// The ledger page (`ledger.html`), a figure's head (title, legend, y axis title: data in
/// `figure.html`) and the data behind a claim (`claim.html`, `ledger_row.html`) are views a book's
/// templates draw as they like; an id the book's ledger adds is a link target.
#[test]
fn a_books_templates_restyle_the_ledger_page_the_chart_head_and_claim_data() {
    let book = TestBook::new(&[
        (
            "book.toml",
            "[book]\ntitle = \"T\"\n\n[calcbook]\nstrict-links = true\n",
        ),
        ("src/SUMMARY.md", "- [C](c.md)\n"),
        (
            "src/c.md",
            "# C\n\nSee [my ledger](claims.html#my-ledger).\n\n```calc\nclaim \"Chip A has 80 GB\": chips.a.hbm == 80 GB\n```\n\n```chart\ntitle: Growth\nx: {var: n, from: 1, to: 3, label: N}\ny: {label: Load}\nseries:\n  - {label: twice, y: 2 * n}\n  - {label: thrice, y: 3 * n, dash: true}\n```\n",
        ),
        (
            "data/chips.yaml",
            "a:\n  name: Chip A\n  hbm: 80 GB\n  source: https://example.com/a\n",
        ),
        (
            "templates/ledger.html",
            "<section id=\"my-ledger\">{{ l.holding }} of {{ l.total }} hold, {{ l.failing }} fail{% for g in l.groups %}<h2>{{ g.chapter }} ({{ g.page }})</h2><table>{% for r in g.rows %}{{ r | safe }}{% endfor %}</table>{% endfor %}</section>\n",
        ),
        (
            "templates/ledger_row.html",
            "<tr><td>{{ c.words }}</td><td>{% for d in c.data %}[{{ d.href }} {{ d.at }}]{% endfor %}</td></tr>\n",
        ),
        (
            "templates/claim.html",
            "<div id=\"{{ c.id }}\">{% for d in c.data %}<q>{{ d.side }} {{ d.name }} {{ d.href }} {{ d.at }}</q>{% endfor %}</div>\n",
        ),
        (
            "templates/figure.html",
            "<figure id=\"{{ f.anchor }}\"><h3>{{ f.head.title }}</h3>{% for l in f.head.legend %}<i class=\"{{ l.swatch }} c{{ l.colour }}\">{{ l.label }}</i>{% endfor %}<b>{{ f.head.y_title }}</b></figure>\n",
        ),
    ]);
    let rendered = calcbook::render_book(book.root(), &calcbook::RenderOptions::default()).unwrap();
    let errors: Vec<_> = rendered
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let ledger = rendered.site.get_str("claims.html").unwrap();
    assert!(
        ledger.contains("<section id=\"my-ledger\">1 of 1 hold, 0 fail<h2>C (c.html)</h2><table><tr><td>Chip A has 80 GB</td><td>[sources.html#chips-a.hbm data/chips.yaml:3]</td></tr></table></section>"),
        "{ledger}"
    );
    let page = rendered.site.get_str("c.html").unwrap();
    assert!(
        page.contains("<q>left chips.a.hbm sources.html#chips-a.hbm data/chips.yaml:3</q>"),
        "{page}"
    );
    assert!(
        page.contains("<figure id=\"fig-1\"><h3>Growth</h3><i class=\"swatch-line c1\">twice</i><i class=\"swatch-dash c2\">thrice</i><b>Load</b></figure>"),
        "{page}"
    );
}
