//! End-to-end tests of the notebook stage: calc blocks, inline values and claims in built pages.

use crate::common;

use common::TestBook;

const CHAPTER: &str = r#"# Weights

```calc
bandwidth = 3.35 TB/s
weights = 140 GB
read_time = weights / bandwidth
read_time in ms
```

Reading every weight once takes `= read_time in ms`, and the pair `== not a value` stays code.

```calc
claim "Reading 140 GB at 3.35 TB/s takes about 42 ms":
    read_time ≈ 42 ms ± 5%
refute "It takes under a millisecond":
    read_time < 1 ms
```
"#;

fn book_with(chapter: &str) -> TestBook {
    TestBook::new(&[
        ("src/SUMMARY.md", "- [Weights](w.md)\n"),
        ("src/w.md", chapter),
    ])
}

#[test]
fn calc_values_render_beside_their_lines() {
    let book = book_with(CHAPTER);
    book.build().assert_code(0);
    let html = book.page("w.html");
    // 140e9 B / 3.35e12 B/s = 0.04179 s = 41.8 ms (3 significant digits).
    // Each value is a button opening its trace (src/notebook/trace.rs).
    assert!(
        html.contains(
            "<span class=\"calc-out\">= <button type=\"button\" class=\"calc-value traced\""
        ),
        "{html}"
    );
    assert!(html.contains("\">41.8 ms</button>"), "{html}");
    assert!(html.contains("\">3.35 TB/s</button>"));
    assert!(html.contains("class=\"calc-block\""));
}

#[test]
fn inline_values_render_in_prose() {
    let book = book_with(CHAPTER);
    book.build().assert_code(0);
    let html = book.page("w.html");
    // A button (click, tap or keyboard) opening a card with the expression and the value in base
    // units: 140e9 B / 3.35e12 B/s = 0.04179 s.
    let at = html
        .find("class=\"calc-inline traced\"")
        .expect("a traced inline value");
    let inline = &html[at..];
    assert!(inline.contains(">41.8 ms</button>"), "{inline}");
    assert!(inline.contains("<code>read_time in ms</code>"), "{inline}");
    assert!(inline.contains("0.04179 s"), "{inline}");
    assert!(html.contains("<code>== not a value</code>"));
}

#[test]
fn claims_render_as_boxes_and_fill_the_ledger() {
    let book = book_with(CHAPTER);
    book.build().assert_code(0);
    let html = book.page("w.html");
    assert!(html.contains("<div class=\"claim claim--holds\" id=\"claim-1\">"));
    // Each side opens its trace: the comparison as written and the side in base units.
    let lhs = &html[html.find("<span class=\"claim-lhs\">").unwrap()..];
    assert!(lhs.contains(">41.8 ms</button>"), "{lhs}");
    assert!(lhs.contains("<code>read_time ≈ 42 ms ± 5%</code>"), "{lhs}");
    assert!(lhs.contains("0.04179 s"), "{lhs}");
    assert!(
        html.contains("<div class=\"claim claim--holds\" id=\"claim-2\">"),
        "a false refuted statement holds"
    );
    let ledger = book.page("claims.html");
    assert!(ledger.contains("href=\"w.html#claim-1\""));
    assert!(ledger.contains("Reading 140 GB at 3.35 TB/s takes about 42 ms"));
    assert!(ledger.contains("✓ holds"));
    // Grouped under a heading row per chapter; each side of a comparison stays whole.
    assert!(ledger.contains(
        "<tr class=\"ledger-chapter\"><th colspan=\"3\" scope=\"colgroup\"><a href=\"w.html\">Weights</a></th></tr>"
    ));
    assert!(ledger.contains("<span class=\"ledger-side\">41.8 ms</span>"));
    // The ledger is listed in the sidebar, and printed after the chapters.
    assert!(book.page("toc.js").contains("claims.html"));
    let print = book.page("print.html");
    assert!(
        print.find("id=\"claims--claims-ledger\"").unwrap()
            > print.find("Reading every weight").unwrap()
    );
}

#[test]
fn a_failing_claim_is_rendered_and_warned_at_its_line_but_check_fails() {
    let book =
        book_with("# W\n\n```calc\nx = 10 ms\nclaim \"x is about 20 ms\": x ≈ 20 ms ± 10%\n```\n");
    book.build()
        .assert_code(0)
        .assert_stderr_contains("warning[claim-fails]: claim fails: \"x is about 20 ms\"")
        .assert_stderr_contains("src/w.md:5:1");
    assert!(book.page("w.html").contains("claim claim--fails"));
    book.run(&["check"]).assert_code(1);
}

#[test]
fn every_calc_error_is_located_and_later_lines_still_run() {
    let chapter = "# W\n\n```calc\na = 8 TB/s + 3 s\nb = undefined_name * 2\nc = 2 GB\nc in ms\nd = a * 2\n```\n\nValue `= c in MB` and `= nope`.\n";
    let book = book_with(chapter);
    let run = book.build();
    run.assert_code(1)
        // The caret sits under the `+` that adds bandwidth to time.
        .assert_stderr_contains("src/w.md:4:12")
        .assert_stderr_contains("src/w.md:5:5")
        .assert_stderr_contains("src/w.md:7:6")
        .assert_stderr_contains("src/w.md:11:26");
    // `d` depends on the failed `a`: skipped without a cascading error.
    assert!(!run.stderr.contains("src/w.md:8:"), "{}", run.stderr);
    // Nothing was written, but check shows the same errors.
    let check = book.run(&["check", "."]);
    check.assert_code(1).assert_stdout_contains("src/w.md:5:5");
}

#[test]
fn errors_show_in_place_of_output_when_served() {
    // The page itself carries the error (used by `serve`, which renders failed builds too).
    let book = book_with("# W\n\n```calc\nx = 1 s + 1 B\n```\n");
    let rendered = calcbook::render_book(book.root(), &calcbook::RenderOptions::default()).unwrap();
    let html = rendered.site.get_str("w.html").unwrap();
    assert!(html.contains("calc-line--error"));
    assert!(html.contains("<div class=\"calc-error\"><pre>"));
    assert!(html.contains("src/w.md:4:"), "{html}");
}

#[test]
fn each_chapter_has_its_own_scope() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n- [B](b.md)\n"),
        ("src/a.md", "```calc\nshared = 1 s\n```\n"),
        ("src/b.md", "```calc\nshared\n```\n"),
    ]);
    book.build()
        .assert_code(1)
        .assert_stderr_contains("src/b.md:2:1");
}

#[test]
fn data_files_become_records_with_sources_page() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n"),
        (
            "data/chips.yaml",
            "x1:\n  name: Chip X1\n  hbm: {capacity: 80 GB, bandwidth: 3.35 TB/s}\n  source: https://example.com/x1\n  hbm_source: [https://example.com/x1, https://example.com/x1-hbm]\n",
        ),
        (
            "src/a.md",
            "# A\n\n```calc\nchips.x1.hbm.capacity / chips.x1.hbm.bandwidth in ms\n```\n",
        ),
    ]);
    book.build().assert_code(0);
    // 80e9 / 3.35e12 = 0.02388 s.
    assert!(
        book.page("a.html").contains(">23.9 ms</button>"),
        "{}",
        book.page("a.html")
    );
    // The record's name in the calc line links to its entry on the sources page.
    assert!(
        book.page("a.html")
            .contains("<a class=\"data-ref\" href=\"sources.html#chips-x1\"")
    );
    let sources = book.page("sources.html");
    assert!(sources.contains("id=\"chips-x1\""));
    assert!(sources.contains("Chip X1"));
    assert!(sources.contains("https://example.com/x1"));
    // Each page once, shown without its scheme.
    assert_eq!(
        sources.matches("href=\"https://example.com/x1\"").count(),
        1
    );
    assert!(
        sources.contains("<li><a href=\"https://example.com/x1-hbm\">example.com/x1-hbm</a></li>")
    );
}

#[test]
fn bad_data_is_an_error_at_its_file_and_line() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n"),
        ("src/a.md", "# A\n"),
        (
            "data/chips.yaml",
            "x1:\n  name: Chip X1\n  hbm:\n    capacity: 80 GX\n    bandwidth: 3 TB\n  source: https://example.com\nx2:\n  name: No source\n",
        ),
    ]);
    // The unit typo is an error at its line; `3 TB` for a bandwidth is no concern of the loader
    // (it knows no engine fields); an unsourced entry is a warning in a book that does not set
    // `require-sources`.
    book.build()
        .assert_code(1)
        .assert_stderr_contains("data/chips.yaml:4:15")
        .assert_stderr_contains("warning[missing-source]: entry `x2` has no `source:`");
}

const CHART_CHAPTER: &str = r#"# Charts

As @fig:step shows, and @tbl:chips lists.

```calc
fn step(b) = max(b * 2 ms / 1000, 1 ms)
```

```chart
id: step
title: Step time vs batch
x: { var: b, from: 1, to: 10000, scale: log, label: Batch }
y: { unit: ms, scale: log, label: Step time }
series:
  - { label: step, y: "step(b)" }
```

```table
id: chips
rows: "[{name: \"A\", bw: 3 TB/s}, {name: \"B\", bw: 8 TB/s}]"
columns:
  Chip: row.name
  Bandwidth: row.bw
```
"#;

#[test]
fn charts_tables_and_cross_references_render_with_csv_beside_the_page() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [Charts](part/c.md)\n"),
        ("src/part/c.md", CHART_CHAPTER),
    ]);
    book.build().assert_code(0);
    let html = book.page("part/c.html");
    assert!(
        html.contains("<a class=\"xref\" href=\"#fig-step\">Figure 1</a>"),
        "{html}"
    );
    assert!(html.contains("<a class=\"xref\" href=\"#tbl-chips\">Table 1</a>"));
    assert!(html.contains("<figure class=\"chart\" id=\"fig-step\""));
    assert!(html.contains("role=\"img\""));
    assert!(html.contains("href=\"c-fig-1.csv\""));
    assert!(html.contains("8 TB/s"));
    let csv = book.page("part/c-fig-1.csv");
    assert!(csv.starts_with("Batch,step (ms)\n1,1\n"), "{csv}");
    // step(10000) = 10000 · 2 ms / 1000 = 20 ms: the last point of the sweep.
    assert!(csv.trim_end().ends_with(",20"), "{csv}");
}

#[test]
fn a_broken_chart_is_an_error_at_its_line_and_unknown_references_are_errors() {
    let chapter = CHART_CHAPTER
        .replace(
            "scale: log, label: Step time",
            "scale: log, lable: Step time",
        )
        .replace("@tbl:chips lists", "@tbl:chip lists");
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [Charts](c.md)\n"),
        ("src/c.md", &chapter),
    ]);
    let run = book.build();
    assert!(
        !run.stderr.contains("`@fig:step`"),
        "no cascade: {}",
        run.stderr
    );
    run.assert_code(1)
        .assert_stderr_contains("src/c.md:3:25")
        .assert_stderr_contains("did you mean `@tbl:chips`?")
        .assert_stderr_contains("src/c.md:13:28")
        .assert_stderr_contains("lable");
}

#[test]
fn a_cached_rebuild_equals_a_fresh_one_after_chapter_and_data_edits() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n- [B](b.md)\n"),
        ("src/a.md", "# A\n\n```calc\nchips.x.bw * 2\n```\n"),
        (
            "src/b.md",
            "# B\n\n```calc\nclaim \"x is fast\": chips.x.bw > 1 TB/s\n```\n",
        ),
        (
            "data/chips.yaml",
            "x:\n  name: X\n  bw: 3 TB/s\n  source: https://example.com\n",
        ),
    ]);
    let options = calcbook::RenderOptions::default();
    let mut cache = calcbook::RenderCache::default();
    let fresh = |book: &TestBook| calcbook::render_book(book.root(), &options).unwrap().site;
    let cached = |book: &TestBook, cache: &mut calcbook::RenderCache| {
        calcbook::render_book_cached(book.root(), &options, cache)
            .unwrap()
            .0
            .site
    };
    assert_eq!(cached(&book, &mut cache), fresh(&book));
    book.write("src/a.md", "# A\n\n```calc\nchips.x.bw * 3\n```\n");
    let after_edit = cached(&book, &mut cache);
    assert!(
        after_edit
            .get_str("a.html")
            .unwrap()
            .contains(">9 TB/s</button>")
    );
    assert_eq!(after_edit, fresh(&book));
    // A data change reaches the chapters that did not change.
    book.write(
        "data/chips.yaml",
        "x:\n  name: X\n  bw: 0.5 TB/s\n  source: https://example.com\n",
    );
    let after_data = cached(&book, &mut cache);
    assert!(
        after_data
            .get_str("b.html")
            .unwrap()
            .contains("claim--fails")
    );
    assert_eq!(after_data, fresh(&book));
}

#[test]
fn hidden_calc_blocks_fold_and_open_on_error() {
    let book = book_with("# W\n\n```calc hidden\nx = 2 s\n```\n\nIt is `= x`.\n");
    book.build().assert_code(0);
    let html = book.page("w.html");
    assert!(
        html.contains("<details class=\"calc-details\"><summary>Show the calculation</summary>"),
        "{html}"
    );
    assert!(html.contains(">2 s</button>"));
    let broken = book_with("# W\n\n```calc hidden\nx = 2 s + 1 B\n```\n");
    broken.build().assert_code(1);
    let rendered =
        calcbook::render_book(broken.root(), &calcbook::RenderOptions::default()).unwrap();
    assert!(
        rendered
            .site
            .get_str("w.html")
            .unwrap()
            .contains("<details class=\"calc-details\" open>")
    );
}

#[test]
fn claim_words_get_curly_quotes_like_the_prose() {
    let book = book_with(
        "# W\n\n```calc\nx = 3 hours\nx\nclaim \"The talk's 'few hours' -- about 3\": x ≈ 3 hour\n```\n",
    );
    book.build().assert_code(0);
    let html = book.page("w.html");
    assert!(html.contains("The talk’s ‘few hours’ – about 3"), "{html}");
    assert!(
        book.page("claims.html")
            .contains("The talk’s ‘few hours’ – about 3")
    );
    // A unit written as a word reads in the plural.
    assert!(html.contains(">3 hours</button>"), "{html}");
}

/// The calculator pad (src/notebook/pad.rs): a statement written over several lines stays one row
/// with one value after its last line; a trailing comment becomes a note; a record value is an
/// aligned field list (issue #15).
#[test]
fn continuation_lines_stay_one_row_and_a_record_lists_its_fields() {
    let book = book_with(
        "# Pad\n\n```calc\nkv = 80 * (512 +\n          64) * 2 B   # per token\nr = {time: 2 ms, size: 3 GB, name: \"x\"}\n```\n",
    );
    book.build().assert_code(0);
    let html = book.page("w.html");
    let row_start = html
        .find("<div class=\"calc-line\"><code class=\"calc-src\"")
        .unwrap();
    let row = &html[row_start..html[row_start..].find("</div>\n").unwrap() + row_start];
    // Both lines of `kv` in one source block, the note apart, one value: 80 × 576 × 2 B = 92.2 kB.
    assert_eq!(row.matches("<span class=\"calc-row\">").count(), 2, "{row}");
    assert!(
        row.contains("<span class=\"calc-note\"><span class=\"cb-com\"># per token</span></span>"),
        "{row}"
    );
    assert!(row.contains(">92.2 kB</button>"), "{row}");
    // The note's column as written (22), less the gap before it.
    assert!(row.contains("style=\"--note-col:20ch\""), "{row}");
    assert_eq!(
        html.matches("class=\"calc-out\"").count(),
        2,
        "one value per statement"
    );
    // The record: one table row per field, name, value and unit apart.
    assert!(html.contains("<th scope=\"row\">time</th><td class=\"calc-record-value\">2</td><td class=\"calc-record-unit\">ms</td>"), "{html}");
    assert!(html.contains("<th scope=\"row\">size</th><td class=\"calc-record-value\">3</td><td class=\"calc-record-unit\">GB</td>"));
    assert!(html.contains(">{3 fields}</button>"));
}

/// A value computed from a variable that read a data record (not naming the record itself)
/// still opens to that record's entry on the sources page: traces follow provenance (#15).
#[test]
fn a_value_traces_data_records_it_reaches_through_other_names() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n"),
        (
            "data/chips.yaml",
            "x1:\n  name: Chip X1\n  hbm: {capacity: 80 GB, bandwidth: 3.35 TB/s}\n  source: https://example.com/x1\n",
        ),
        (
            "src/a.md",
            "# A\n\n```calc\ncap = chips.x1.hbm.capacity\nhalf = cap / 2\n```\n\nHalf is `= half`.\n",
        ),
    ]);
    book.build().assert_code(0);
    let page = book.page("a.html");
    // The `half` line names no record; its card and the inline value's still link to it.
    let half_line = &page[page.find("<span class=\"cb-name\">half</span>").unwrap()..];
    let card = &half_line[..half_line.find("</div>").unwrap()];
    assert!(
        card.contains("<a class=\"data-ref\" href=\"sources.html#chips-x1\">chips.x1</a>"),
        "{card}"
    );
    let prose = &page[page.find("Half is").unwrap()..];
    assert!(prose.contains("href=\"sources.html#chips-x1\""), "{prose}");
}

/// Claim boxes are drawn by the theme's `claim.html` (the `claim_box` macro), so a book's own
/// templates folder restyles them (#12 item 3).
#[test]
fn a_books_claim_template_restyles_its_claim_boxes() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [Weights](w.md)\n"),
        ("src/w.md", CHAPTER),
        (
            "templates/claim.html",
            "<aside class=\"my-claim\" id=\"{{ c.id }}\">{{ c.verdict }}: {{ c.words }} ({{ c.lhs | safe }} {{ c.op }} {{ c.rhs | safe }})</aside>\n",
        ),
    ]);
    book.build().assert_code(0);
    let html = book.page("w.html");
    assert!(
        html.contains("<aside class=\"my-claim\" id=\"claim-1\">✓ holds: Reading 140 GB at 3.35 TB/s takes about 42 ms ("),
        "{html}"
    );
    assert!(!html.contains("class=\"claim claim--holds\""));
    // The traced sides stay buttons that open their cards.
    let aside = &html[html.find("<aside").unwrap()..html.find("</aside>").unwrap()];
    assert!(aside.contains("class=\"claim-value traced\""), "{aside}");
}

/// A record value's field list is drawn by the theme's `record.html` (the `record_fields` macro).
#[test]
fn a_books_record_template_restyles_record_fields() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [W](w.md)\n"),
        (
            "src/w.md",
            "# W\n\n```calc\nr = {time: 2 ms, name: \"x<y\"}\n```\n",
        ),
        (
            "templates/record.html",
            "<dl class=\"mine\">{% for f in fields %}<dt>{{ f.name }}</dt><dd>{{ f.value }}|{{ f.unit }}|{{ f.text }}</dd>{% endfor %}</dl>\n",
        ),
    ]);
    book.build().assert_code(0);
    let html = book.page("w.html");
    assert!(
        html.contains("<dl class=\"mine\"><dt>time</dt><dd>2|ms|false</dd><dt>name</dt><dd>x&lt;y||true</dd></dl>"),
        "{html}"
    );
}

/// A pad row is drawn by the theme's `pad_row.html` (the `pad_row` macro).
#[test]
fn a_books_pad_row_template_restyles_calc_lines() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [W](w.md)\n"),
        ("src/w.md", "# W\n\n```calc\nx = 2 *\n    3   # six\n```\n"),
        (
            "templates/pad_row.html",
            "<p class=\"mine\">{{ r.lines | length }} lines, note at {{ r.note_col }}: {{ r.out | safe }}</p>\n",
        ),
    ]);
    book.build().assert_code(0);
    let html = book.page("w.html");
    assert!(
        html.contains("<p class=\"mine\">2 lines, note at 6: = <button"),
        "{html}"
    );
}

/// A ledger row is drawn by the theme's `ledger_row.html` (the `ledger_row` macro).
#[test]
fn a_books_ledger_row_template_restyles_the_ledger() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [Weights](w.md)\n"),
        ("src/w.md", CHAPTER),
        (
            "templates/ledger_row.html",
            "<tr class=\"mine\"><td>{{ c.kind }} {{ c.verdict }}: {{ c.lhs }} {{ c.op }} {{ c.rhs }}</td></tr>\n",
        ),
    ]);
    book.build().assert_code(0);
    let ledger = book.page("claims.html");
    assert!(
        ledger.contains("<tr class=\"mine\"><td>refute ✓ refuted: 41.8 ms &lt; 1 ms</td></tr>"),
        "{ledger}"
    );
}

/// A `table` cell is drawn by the theme's `table.html` (the `data_table` macro).
#[test]
fn a_books_table_template_restyles_table_cells() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [W](w.md)\n"),
        (
            "src/w.md",
            "# W\n\n```calc\nr1 = {n: 1}\nr2 = {n: 2}\n```\n\n```table\ncaption: 'Two \"rows\"'\nrows: [r1, r2]\ncolumns:\n  N: row.n\n```\n",
        ),
        (
            "templates/table.html",
            "<ol class=\"mine\" data-caption=\"{{ t.caption }}\">{% for r in t.rows %}<li>{{ r.cells.0.text }}</li>{% endfor %}</ol>\n",
        ),
    ]);
    book.build().assert_code(0);
    let html = book.page("w.html");
    assert!(
        html.contains("<ol class=\"mine\" data-caption=\"Two “rows”\"><li>1</li><li>2</li></ol>"),
        "{html}"
    );
}
