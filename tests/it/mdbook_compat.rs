//! mdBook books build unchanged and render as mdBook 0.5 renders them (issue #17). Each test
//! builds a small fixture book, written for the purpose, exercising one construct; the expected
//! HTML fragments follow mdBook 0.5's renderer (`crates/mdbook-html/src/html/tree.rs`), its
//! summary parser and its `links` preprocessor.

use crate::common::TestBook;

fn two_chapters(a: &str) -> TestBook {
    TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n- [B](b/b.md)\n"),
        ("src/a.md", a),
        ("src/b/b.md", "# B\n\n## Known heading\n"),
    ])
}

#[test]
fn links_leaving_the_book_pass_through_with_md_turned_to_html() {
    let book = two_chapters(
        "# A\n\n[std](../std/index.html) [ref](../../reference/items.md#x) [abs](/x.md) [web](https://e.x/a.md)\n",
    );
    book.build().assert_code(0);
    let html = book.page("a.html");
    assert!(html.contains("href=\"../std/index.html\""), "{html}");
    assert!(
        html.contains("href=\"../../reference/items.html#x\""),
        "{html}"
    );
    assert!(html.contains("href=\"/x.html\""), "{html}");
    assert!(html.contains("href=\"https://e.x/a.md\""), "{html}");
    book.run(&["check"]).assert_code(0);
}

#[test]
fn broken_in_book_link_warns_in_build_and_fails_check() {
    let book = two_chapters(
        "# A\n\nok [b](b/b.md#known-heading)\n\nbad [x](nope.md)\n\nbad anchor [y](b/b.md#nothing)\n",
    );
    book.build()
        .assert_code(0)
        .assert_stderr_contains("warning[broken-link]")
        .assert_stderr_contains("src/a.md:5:5")
        .assert_stderr_contains("warning[broken-anchor]")
        .assert_stderr_contains("src/a.md:7:12");
    assert!(
        book.page("a.html")
            .contains("href=\"b/b.html#known-heading\"")
    );
    book.run(&["check"])
        .assert_code(1)
        .assert_stdout_contains("error[broken-link]")
        .assert_stdout_contains("error[broken-anchor]");
}

#[test]
fn strict_links_setting_makes_build_fail_on_a_broken_link() {
    let book = two_chapters("# A\n\n[x](nope.md)\n");
    book.write(
        "book.toml",
        "[book]\ntitle = \"T\"\n\n[calcbook]\nstrict-links = true\n",
    );
    book.build()
        .assert_code(1)
        .assert_stderr_contains("error[broken-link]");
}
