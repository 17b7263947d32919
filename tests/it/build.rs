//! End-to-end tests of `calcbook build` on small books: the HTML it writes and its exit codes.

use crate::common;

use common::TestBook;

const NESTED_SUMMARY: &str = "# Summary\n\n[Preface](preface.md)\n\n# Basics\n\n- [One](one.md)\n  - [One A](one/a.md)\n    - [Deep](one/deep.md)\n- [Draft]()\n\n---\n\n# More\n\n- [Two](two.md)\n\n[Appendix](appendix.md)\n";

fn nested_book() -> TestBook {
    TestBook::new(&[
        ("src/SUMMARY.md", NESTED_SUMMARY),
        ("src/preface.md", "# Preface\n\nWelcome.\n"),
        ("src/one.md", "# One\n\n## Section Alpha\n\nText one.\n"),
        (
            "src/one/a.md",
            "# One A\n\n[back to one](../one.md#section-alpha)\n",
        ),
        ("src/one/deep.md", "# Deep\n"),
        ("src/two.md", "# Two\n\nSee [deep](one/deep.md).\n"),
        ("src/appendix.md", "# Appendix\n"),
        (
            "src/img/logo.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        ),
    ])
}

#[test]
fn nested_summary_builds_every_page_in_order() {
    let book = nested_book();
    book.build().assert_code(0);
    for page in [
        "index.html",
        "preface.html",
        "one.html",
        "one/a.html",
        "one/deep.html",
        "two.html",
        "appendix.html",
        "print.html",
        "404.html",
        "searchindex.js",
        "toc.js",
        "toc.html",
        "img/logo.svg",
    ] {
        assert!(book.out(page).is_file(), "missing {page}");
    }
    let css = book.asset("calcbook.css");
    // The contents (the sidebar's script and the contents page) list chapters in SUMMARY order
    // with their numbers.
    for contents in [book.page("toc.html"), book.page("toc.js")] {
        let order: Vec<usize> = [
            ">Preface<",
            ">1.<",
            ">1.1.<",
            ">1.1.1.<",
            ">2.<",
            ">3.<",
            ">Appendix<",
        ]
        .iter()
        .map(|t| {
            contents
                .find(t)
                .unwrap_or_else(|| panic!("{t} not in contents"))
        })
        .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "contents order {order:?}"
        );
    }
    let html = book.page("one/a.html");
    // Nested pages link to assets and chapters relative to the root.
    assert!(html.contains(&format!("href=\"../{css}\"")));
    assert!(html.contains("src=\"../toc.js\""));
    assert!(html.contains("href=\"../one.html#section-alpha\""));
    // Previous and next follow reading order: One → One A → Deep.
    assert!(html.contains("href=\"../one.html\"") && html.contains("href=\"../one/deep.html\""));
    // The first chapter doubles as index.html, as in mdBook.
    let article = |page: &str| {
        let start = page.find("<article").expect("article");
        page[start..page.find("</article>").expect("end")].to_string()
    };
    assert_eq!(
        article(&book.page("index.html")),
        article(&book.page("preface.html"))
    );
}

#[test]
fn draft_chapters_are_listed_but_have_no_page() {
    let book = nested_book();
    book.build().assert_code(0);
    assert!(!book.out("Draft.html").exists());
    let toc = book.page("toc.js");
    assert!(toc.contains("Draft"), "draft should be in the sidebar");
    assert!(toc.contains("is-draft"));
}

#[test]
fn pages_name_themselves_for_the_sidebar_script_to_mark_them() {
    // toc.js marks the link whose root-relative href equals the page's `data-path` (the browser
    // test checks the marking itself).
    let book = nested_book();
    book.build().assert_code(0);
    assert!(book.page("two.html").contains("data-path=\"two.html\""));
    assert!(book.page("one/a.html").contains("data-path=\"one/a.html\""));
    let toc = book.page("toc.js");
    assert!(toc.contains("href=\\\"two.html\\\""), "{toc}");
    assert!(toc.contains("href=\\\"one/a.html\\\""), "{toc}");
    assert!(
        !toc.contains("</"),
        "a closing tag would end the script early"
    );
}

#[test]
fn print_page_holds_every_chapter() {
    let book = nested_book();
    book.build().assert_code(0);
    let print = book.page("print.html");
    for text in ["Welcome.", "Text one.", "Deep", "Appendix"] {
        assert!(print.contains(text), "print page lacks {text}");
    }
}

#[test]
fn search_index_has_sections_with_anchors() {
    let book = nested_book();
    book.build().assert_code(0);
    let index = book.page("searchindex.js");
    assert!(index.starts_with("window.calcbookSearchIndex = "));
    assert!(
        index.contains("\"u\":\"one.html#section-alpha\""),
        "{index}"
    );
    assert!(index.contains("Text one."));
}

#[test]
fn broken_link_is_a_check_error_at_its_line() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n- [B](b.md)\n"),
        (
            "src/a.md",
            "# A\n\nfine [b](b.md#b)\n\nbad [x](nope.md)\n\nbad anchor [y](b.md#nothing)\n",
        ),
        ("src/b.md", "# B\n"),
    ]);
    book.run(&["check"])
        .assert_code(1)
        .assert_stdout_contains("src/a.md:5:5")
        .assert_stdout_contains("not in the book: `nope.md`")
        .assert_stdout_contains("src/a.md:7:12")
        .assert_stdout_contains("has no heading or anchor `#nothing`");
}

#[test]
fn missing_chapter_is_an_error_at_its_summary_line_without_create_missing() {
    let book = TestBook::new(&[
        (
            "book.toml",
            "[book]\ntitle = \"T\"\n\n[build]\ncreate-missing = false\n",
        ),
        (
            "src/SUMMARY.md",
            "# Summary\n\n- [A](a.md)\n- [Gone](gone.md)\n",
        ),
        ("src/a.md", "# A\n"),
    ]);
    book.build()
        .assert_code(1)
        .assert_stderr_contains("src/SUMMARY.md:4:10")
        .assert_stderr_contains("chapter file `src/gone.md` does not exist");
    assert!(
        !book.out("index.html").exists(),
        "a failed build writes nothing"
    );
}

#[test]
fn unknown_config_key_names_it_and_suggests() {
    let book = TestBook::new(&[
        ("book.toml", "[book]\ntitle = \"T\"\nauthor = [\"me\"]\n"),
        ("src/SUMMARY.md", "- [A](a.md)\n"),
        ("src/a.md", "# A\n"),
    ]);
    book.build()
        .assert_code(1)
        .assert_stderr_contains("book.toml:3:1")
        .assert_stderr_contains("unknown key `author`")
        .assert_stderr_contains("did you mean `authors`?");
}

#[test]
fn invalid_utf8_chapter_is_an_error_at_its_line() {
    let book = TestBook::new(&[("src/SUMMARY.md", "- [A](a.md)\n")]);
    book.write_bytes("src/a.md", b"# A\n\nfine\nbad \xff byte\n");
    book.build()
        .assert_code(1)
        .assert_stderr_contains("src/a.md:4:5")
        .assert_stderr_contains("not valid UTF-8");
}

#[test]
fn include_of_missing_file_is_an_error_at_the_directive() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n"),
        (
            "src/a.md",
            "# A\n\n{{#include snippet.rs}}\n\n{{#include missing.rs}}\n",
        ),
        ("src/snippet.rs", "fn included() {}\n"),
    ]);
    book.build()
        .assert_code(1)
        .assert_stderr_contains("src/a.md:5:1")
        .assert_stderr_contains("cannot include `missing.rs`: no such file");
}

#[test]
fn includes_are_expanded() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n"),
        (
            "src/a.md",
            "# A\n\n```rust\n{{#include code/x.rs:body}}\n```\n",
        ),
        (
            "src/code/x.rs",
            "fn skip() {}\n// ANCHOR: body\nfn kept() {}\n// ANCHOR_END: body\n",
        ),
    ]);
    book.build().assert_code(0);
    let html = book.page("a.html");
    assert!(html.contains("fn kept() {}"));
    assert!(!html.contains("fn skip"));
    assert!(!html.contains("ANCHOR"));
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let book = TestBook::new(&[
        (
            "book.toml",
            "[book]\ntitle = \"T\"\n\n[build]\ncreate-missing = false\n",
        ),
        ("src/SUMMARY.md", "- [A](a.md)\n- [B](b.md)\n- [C](c.md)\n"),
        ("src/a.md", "{{#include x.rs}}\n"),
        ("src/b.md", "{{#include y.rs}}\n"),
    ]);
    let run = book.build();
    run.assert_code(1)
        .assert_stderr_contains("src/a.md:1:1")
        .assert_stderr_contains("src/b.md:1:1")
        .assert_stderr_contains("src/SUMMARY.md:3:7")
        .assert_stderr_contains("3 errors");
}

#[test]
fn failed_build_leaves_previous_output_intact() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n"),
        ("src/a.md", "# A\n\nfirst version\n"),
    ]);
    book.build().assert_code(0);
    let before = book.page("a.html");
    book.write(
        "src/a.md",
        "# A\n\nsecond version {{#include nowhere.rs}}\n",
    );
    book.build().assert_code(1);
    assert_eq!(book.page("a.html"), before);
    assert!(book.page("a.html").contains("first version"));
    // And no temporary folder is left beside it.
    let stray: Vec<_> = std::fs::read_dir(book.root())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("calcbook-"))
        .collect();
    assert!(stray.is_empty());
}

#[test]
fn unlisted_markdown_is_a_warning_only() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n"),
        ("src/a.md", "# A\n"),
        ("src/orphan.md", "# Orphan\n"),
    ]);
    book.build()
        .assert_code(0)
        .assert_stderr_contains("warning[unlisted-chapter]")
        .assert_stderr_contains("src/orphan.md is not listed in SUMMARY.md");
}

#[test]
fn plain_mdbook_book_builds_with_mdbook_page_names() {
    let book = TestBook::new(&[
        (
            "book.toml",
            "[book]\ntitle = \"Plain\"\nauthors = [\"A\"]\nlanguage = \"en\"\nsrc = \"src\"\n\n[output.html]\ndefault-theme = \"light\"\n",
        ),
        (
            "src/SUMMARY.md",
            "# Summary\n\n[Intro](README.md)\n\n- [Guide](guide/README.md)\n  - [Install](guide/install.md)\n",
        ),
        (
            "src/README.md",
            "# Intro\n\nSee the [guide](guide/README.md).\n",
        ),
        ("src/guide/README.md", "# Guide\n"),
        (
            "src/guide/install.md",
            "# Install\n\n{{#playground x.rs}}\n",
        ),
        ("src/guide/x.rs", "fn main() {}\n"),
    ]);
    book.build().assert_code(0);
    assert!(book.page("guide/install.html").contains("fn main() {}"));
    assert!(
        book.page("index.html")
            .contains("href=\"guide/index.html\"")
    );
    assert!(book.out("guide/index.html").is_file());
    assert!(book.out("guide/install.html").is_file());
}

#[test]
fn book_templates_override_defaults_file_by_file() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n"),
        ("src/a.md", "# A\n"),
        ("templates/404.html", "custom not found {{ book.title }}"),
        ("templates/assets/extra.css", "body{}"),
    ]);
    book.build().assert_code(0);
    assert_eq!(book.page("404.html"), "custom not found Test");
    assert!(book.out("assets/extra.css").is_file());
    assert!(
        book.page("a.html").contains("assets/calcbook-"),
        "page.html stays the default"
    );
}

#[test]
fn dest_dir_cannot_be_the_book_itself() {
    let book = TestBook::new(&[("src/SUMMARY.md", "- [A](a.md)\n"), ("src/a.md", "# A\n")]);
    let run = book.run(&["build", ".", "--dest-dir", "."]);
    run.assert_code(1)
        .assert_stderr_contains("refusing to write");
    assert!(book.root().join("src/a.md").is_file());
}

#[test]
fn summary_path_outside_source_is_rejected() {
    let book = TestBook::new(&[("src/SUMMARY.md", "- [Escape](../../etc/passwd.md)\n")]);
    book.build()
        .assert_code(1)
        .assert_stderr_contains("outside the source folder");
}

#[test]
fn output_has_no_external_resources() {
    let book = nested_book();
    book.build().assert_code(0);
    for page in ["one.html", "print.html", "404.html"] {
        let html = book.page(page);
        for attr in [
            "src=\"http",
            "href=\"http",
            "src=\"//",
            "href=\"//",
            "@import",
        ] {
            assert!(
                !html.contains(attr),
                "{page} loads an external resource ({attr})"
            );
        }
    }
    assert!(!book.page(&book.asset("calcbook.css")).contains("url(http"));
}

#[test]
fn init_writes_a_book_that_builds() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new");
    let run: common::Run = common::calcbook()
        .args(["init"])
        .arg(&target)
        .output()
        .unwrap()
        .into();
    run.assert_code(0);
    let run: common::Run = common::calcbook()
        .arg("build")
        .arg(&target)
        .output()
        .unwrap()
        .into();
    run.assert_code(0);
    assert!(target.join("book/index.html").is_file());
    // The example data file is read by its chapter: 2.2 kW × 10 min = 367 Wh a day, 134 kWh a
    // year, under the chapter's claim of 200 kWh.
    let page = std::fs::read_to_string(target.join("book/data.html")).unwrap();
    assert!(page.contains("367 Wh"), "{page}");
    assert!(
        page.contains("Fridge-freezer"),
        "the table lists both appliances"
    );
    let sources = std::fs::read_to_string(target.join("book/sources.html")).unwrap();
    assert!(sources.contains("example.com/kettle-datasheet"));
    let run: common::Run = common::calcbook()
        .arg("check")
        .arg(&target)
        .output()
        .unwrap()
        .into();
    run.assert_code(0)
        .assert_stdout_contains("check ok: 2 claims (2 hold, 0 fail), 0 errors, 0 warnings");
    // A second init refuses to overwrite.
    let run: common::Run = common::calcbook()
        .args(["init"])
        .arg(&target)
        .output()
        .unwrap()
        .into();
    run.assert_code(1)
        .assert_stderr_contains("already holds a book.toml");
}

#[test]
fn bad_usage_exits_2() {
    let run: common::Run = common::calcbook()
        .arg("frobnicate")
        .output()
        .unwrap()
        .into();
    run.assert_code(2);
    let run: common::Run = common::calcbook().arg("--version").output().unwrap().into();
    run.assert_code(0).assert_stdout_contains("calcbook ");
}
