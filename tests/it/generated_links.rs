//! Links from chapters to the pages calcbook generates (the claims ledger, the data-sources page)
//! and to ids the cells' drawing adds: `build` and `check` accept the same targets, known from the
//! data each page is drawn from, and report one that does not exist where it is written.

use crate::common::TestBook;

const DATA: &str = "a:\n  name: Chip A\n  hbm: {capacity: 80 GB, bandwidth: 3.35 TB/s}\n  source: https://example.com/a\n";

const STRICT: &str = "[book]\ntitle = \"T\"\n\n[calcbook]\nstrict-links = true\n";

fn book(links: &str) -> TestBook {
    let chapter = format!(
        "# Drain\n\n```calc\ndrain = chips.a.hbm.capacity / chips.a.hbm.bandwidth\nclaim \"Chip A drains its HBM in about 24 ms\":\n    drain ≈ 24 ms ± 5%\n```\n\n{links}\n"
    );
    TestBook::new(&[
        ("book.toml", STRICT),
        ("src/SUMMARY.md", "- [Drain](drain.md)\n"),
        ("src/drain.md", &chapter),
        ("data/chips.yaml", DATA),
    ])
}

const GOOD: &str = "See [the ledger](claims.html#claims-ledger), [this claim's row](claims.html#drain-claim-1), [the chip](sources.html#chips-a) and [its bandwidth](sources.html#chips-a.hbm.bandwidth).";

#[test]
fn links_to_ledger_rows_and_data_figure_rows_pass_check() {
    let book = book(GOOD);
    book.run(&["check"])
        .assert_code(0)
        .assert_stdout_contains("0 errors, 0 warnings");
}

#[test]
fn links_to_ledger_rows_and_data_figure_rows_pass_a_strict_build_and_land() {
    let book = book(GOOD);
    book.build().assert_code(0);
    let ledger = book.page("claims.html");
    assert!(ledger.contains("<tr id=\"drain-claim-1\""), "{ledger}");
    let sources = book.page("sources.html");
    assert!(
        sources.contains("<tr id=\"chips-a.hbm.bandwidth\">"),
        "{sources}"
    );
}

#[test]
fn a_link_to_a_missing_ledger_row_or_figure_row_is_located_in_check_and_build() {
    let book =
        book("Bad [row](claims.html#drain-claim-9) and [figure](sources.html#chips-a.hbm.speed).");
    // Line 9 of the chapter; the links start at columns 5 and 42.
    for run in [book.run(&["check"]), book.build()] {
        let out = format!("{}{}", run.stdout, run.stderr);
        run.assert_code(1);
        assert!(out.contains("src/drain.md:9:5"), "{out}");
        assert!(
            out.contains("`claims.html` has no heading or anchor `#drain-claim-9`"),
            "{out}"
        );
        assert!(out.contains("did you mean `#drain-claim-1`?"), "{out}");
        assert!(out.contains("src/drain.md:9:42"), "{out}");
        assert!(
            out.contains("`sources.html` has no heading or anchor `#chips-a.hbm.speed`"),
            "{out}"
        );
    }
}

/// An id that only a book's own template draws is a link target: `build` finds it in the drawn
/// cell, and `check`, which draws a book with templates of its own, finds it too.
#[test]
fn an_id_a_books_own_template_adds_is_a_link_target_in_check_and_build() {
    let book = book("[The mark](#my-mark) and [the missing one](#no-mark).");
    book.write(
        "templates/claim.html",
        "{% import \"macros.html\" as m %}<span id=\"my-mark\"></span>{{ m::claim_box(c=c) }}",
    );
    for run in [book.run(&["check"]), book.build()] {
        let out = format!("{}{}", run.stdout, run.stderr);
        run.assert_code(1);
        assert!(out.contains("has no heading or anchor `#no-mark`"), "{out}");
        assert!(!out.contains("anchor `#my-mark`"), "{out}");
    }
}

/// A traced value's card (`#v-drain-B-N`, numbered per cell: in block B, the claim's two sides,
/// then the pad's values; `#v-drain-iN-1` for inline value N) is a target in `check`, which does
/// not draw the cells, as in `build`.
#[test]
fn a_traced_values_card_is_a_link_target_in_check_and_build() {
    let book = TestBook::new(&[
        ("book.toml", STRICT),
        ("src/SUMMARY.md", "- [Drain](drain.md)\n"),
        (
            "src/drain.md",
            "# Drain\n\n```calc\nclaim \"two\": 1 + 1 == 2\nx = 2 s\ny = (x\n  + 1 s)\nbad = x + 1 GB\nz = bad + 1\n```\n\nIt is `= x * 2`.\n\n[Last](#v-drain-i1-1), [the pad's](#v-drain-1-4) and [none](#v-drain-1-5).\n",
        ),
    ]);
    for run in [book.run(&["check"]), book.build()] {
        let out = format!("{}{}", run.stdout, run.stderr);
        run.assert_code(1);
        assert!(
            out.contains("has no heading or anchor `#v-drain-1-5`"),
            "{out}"
        );
        assert!(!out.contains("anchor `#v-drain-i1-1`"), "{out}");
        assert!(!out.contains("anchor `#v-drain-1-4`"), "{out}");
    }
    let rendered = calcbook::render_book(book.root(), &calcbook::RenderOptions::default()).unwrap();
    let page = rendered.site.get_str("drain.html").unwrap();
    assert!(page.contains("id=\"v-drain-i1-1\""), "{page}");
    assert!(page.contains("id=\"v-drain-1-4\""), "{page}");
    assert!(!page.contains("id=\"v-drain-1-5\""), "{page}");
}
