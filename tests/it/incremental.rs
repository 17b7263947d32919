//! Rebuilds in proportion to the change (issue #11): a render that reuses a `RenderCache` templates
//! only the pages an edit touched, the contents live in one file (`toc.js`, with `toc.html` for
//! readers without JavaScript) rather than in every page, and pages stay small as the book grows.

use std::path::Path;

use crate::common::TestBook;

use calcbook::{RenderCache, RenderOptions, render_book_cached};

fn summary(titles: &[&str]) -> String {
    let mut s = String::from("# Summary\n\n");
    for (i, t) in titles.iter().enumerate() {
        s.push_str(&format!("- [{t}](c{i}.md)\n"));
    }
    s
}

fn five_chapter_book() -> TestBook {
    let titles = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"];
    let mut files: Vec<(String, String)> = vec![("src/SUMMARY.md".into(), summary(&titles))];
    for (i, t) in titles.iter().enumerate() {
        files.push((
            format!("src/c{i}.md"),
            format!("# {t}\n\nText of {t}.\n\n## A section of {t}\n\n```calc\nx = {i} GB\n```\n"),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    TestBook::new(&refs)
}

fn render(book: &TestBook, cache: &mut RenderCache) -> calcbook::Rendered {
    let (rendered, _) =
        render_book_cached(book.root(), &RenderOptions::default(), cache).expect("renders");
    assert!(!rendered.has_errors(), "{:?}", rendered.diagnostics);
    rendered
}

fn sorted(pages: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = pages.iter().map(String::as_str).collect();
    v.sort();
    v
}

#[test]
fn saving_one_chapter_templates_only_its_page() {
    let book = five_chapter_book();
    let mut cache = RenderCache::default();
    render(&book, &mut cache);
    assert!(
        cache.rendered_pages().len() >= 8,
        "the first render templates everything"
    );

    book.write(
        "src/c2.md",
        "# Gamma\n\nEdited text.\n\n```calc\nx = 9 GB\n```\n",
    );
    let site = render(&book, &mut cache).site;
    assert_eq!(sorted(cache.rendered_pages()), vec!["c2.html"]);
    assert!(site.get_str("c2.html").unwrap().contains("Edited text."));
    // The print page and the search index follow the edit without a template run over the book.
    assert!(site.get_str("print.html").unwrap().contains("Edited text."));
    assert!(
        site.get_str("searchindex.js")
            .unwrap()
            .contains("Edited text.")
    );
    assert!(
        !site
            .get_str("searchindex.js")
            .unwrap()
            .contains("Text of Gamma.")
    );

    // A save without a change templates nothing.
    render(&book, &mut cache);
    assert_eq!(cache.rendered_pages(), &[] as &[String]);
}

#[test]
fn renaming_a_chapter_rewrites_the_contents_not_every_page() {
    let book = five_chapter_book();
    let mut cache = RenderCache::default();
    render(&book, &mut cache);
    book.write(
        "src/SUMMARY.md",
        &summary(&["Alpha", "Beta", "Gamma renamed", "Delta", "Epsilon"]),
    );
    let site = render(&book, &mut cache).site;
    // The page itself (its title), its neighbours (their previous/next links name it), the
    // contents files and the print page's outline; Alpha and Epsilon stay as they were.
    assert_eq!(
        sorted(cache.rendered_pages()),
        vec![
            "c1.html",
            "c2.html",
            "c3.html",
            "print.html",
            "toc.html",
            "toc.js"
        ]
    );
    let toc = site.get_str("toc.js").unwrap();
    assert!(toc.contains("Gamma renamed"), "{toc}");
    let contents = site.get_str("toc.html").unwrap();
    for (i, title) in ["Alpha", "Beta", "Gamma renamed", "Delta", "Epsilon"]
        .iter()
        .enumerate()
    {
        assert!(toc.contains(&format!("href=\\\"c{i}.html\\\"")), "{toc}");
        assert!(
            contents.contains(&format!("href=\"c{i}.html\"")),
            "{contents}"
        );
        assert!(contents.contains(title));
    }
    assert!(!site.get_str("c0.html").unwrap().contains("Gamma"));
}

#[test]
fn a_page_carries_no_contents_and_links_to_the_contents_page() {
    let book = five_chapter_book();
    let mut cache = RenderCache::default();
    let site = render(&book, &mut cache).site;
    let page = site.get_str("c0.html").unwrap();
    // Readers without JavaScript follow this link; toc.js replaces it with the list.
    assert!(page.contains("<a href=\"toc.html\">"), "{page}");
    assert!(page.contains("<script src=\"toc.js\"></script>"));
    // No other chapter's title is in the page, except its next neighbour's.
    for other in ["Gamma", "Delta", "Epsilon"] {
        assert!(!page.contains(other), "{other} in c0.html");
    }
}

#[test]
fn the_theme_s_stylesheet_and_scripts_have_fingerprinted_names() {
    let book = five_chapter_book();
    let mut cache = RenderCache::default();
    let site = render(&book, &mut cache).site;
    let names: Vec<&str> = site
        .files
        .keys()
        .map(String::as_str)
        .filter(|p| p.starts_with("assets/"))
        .collect();
    assert!(!names.contains(&"assets/calcbook.css"), "{names:?}");
    let css = names
        .iter()
        .find(|n| n.starts_with("assets/calcbook-") && n.ends_with(".css"))
        .expect("a fingerprinted stylesheet");
    assert!(site.get_str("c0.html").unwrap().contains(css));
    // A changed stylesheet gets a new name.
    book.write("templates/assets/calcbook.css", "body { color: red }");
    let site = render(&book, &mut cache).site;
    assert!(!site.files.contains_key(*css));
    assert!(site.files.keys().any(|n| n.starts_with("assets/calcbook-")
        && n.ends_with(".css")
        && site.get_str(n) == Some("body { color: red }")));
}

/// Sets a file's modification time `secs` seconds back, as a file saved a while ago has.
fn age(book: &TestBook, rel: &str, secs: u64) {
    let file = std::fs::File::options()
        .write(true)
        .open(book.root().join(rel))
        .unwrap();
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(secs);
    file.set_modified(then).unwrap();
}

#[test]
fn a_rebuild_reads_again_a_chapter_whose_file_changed_even_with_the_same_size_and_time() {
    let book = five_chapter_book();
    for i in 0..5 {
        age(&book, &format!("src/c{i}.md"), 60);
    }
    let mut cache = RenderCache::for_rebuilds();
    let first = render(&book, &mut cache);
    cache.recycle(first.book);
    // The same length and modification time, other bytes: the file's change time gives it away.
    let before = std::fs::read_to_string(book.root().join("src/c1.md")).unwrap();
    let after = before.replace("Text of Beta.", "Text of BETA.");
    assert_eq!(before.len(), after.len());
    book.write("src/c1.md", &after);
    age(&book, "src/c1.md", 60);
    let second = render(&book, &mut cache);
    assert!(
        second
            .site
            .get_str("c1.html")
            .unwrap()
            .contains("Text of BETA.")
    );
    assert_eq!(sorted(cache.rendered_pages()), vec!["c1.html"]);
    // The other chapters came from the cache, unchanged.
    cache.recycle(second.book);
    let third = render(&book, &mut cache);
    assert_eq!(cache.rendered_pages(), &[] as &[String]);
    for (i, title) in [(0, "Alpha"), (2, "Gamma"), (3, "Delta"), (4, "Epsilon")] {
        let page = third.site.get_str(&format!("c{i}.html")).unwrap();
        assert!(page.contains(&format!("Text of {title}.")), "c{i}.html");
    }
    assert!(
        third
            .site
            .get_str("c1.html")
            .unwrap()
            .contains("Text of BETA.")
    );
}

#[test]
fn a_rebuild_sees_an_edit_to_an_included_file_of_an_unchanged_chapter() {
    let book = five_chapter_book();
    book.write("src/c3.md", "# Delta\n\n{{#include part.txt}}\n");
    book.write("src/part.txt", "Included, first.\n");
    for rel in ["src/c3.md", "src/part.txt"] {
        age(&book, rel, 60);
    }
    let mut cache = RenderCache::for_rebuilds();
    let site = render(&book, &mut cache).site;
    assert!(
        site.get_str("c3.html")
            .unwrap()
            .contains("Included, first.")
    );
    book.write("src/part.txt", "Included, second.\n");
    let site = render(&book, &mut cache).site;
    assert!(
        site.get_str("c3.html")
            .unwrap()
            .contains("Included, second.")
    );
}

/// The search index and the print page are spliced from each page's share, which after a build
/// points into the files just made: after saves of every kind (with `serve`'s first pass, which
/// leaves the whole-book files for a second), they must still be byte for byte a fresh build's.
#[test]
fn spliced_whole_book_files_stay_those_of_a_fresh_build_across_saves() {
    let book = five_chapter_book();
    let mut cache = RenderCache::default();
    render(&book, &mut cache);
    let first_pass = RenderOptions {
        whole_book: calcbook::WholeBook::Neither,
        ..RenderOptions::default()
    };
    let edits: [(&str, &str); 4] = [
        (
            "src/c2.md",
            "# Gamma\n\nEdited text, longer than it was before.\n",
        ),
        ("src/c0.md", "# Alpha\n\nA.\n"),
        (
            "src/c4.md",
            "# Epsilon\n\nThe last chapter, now with a [link](c1.md).\n",
        ),
        (
            "src/SUMMARY.md",
            "# Summary\n\n- [Alpha](c0.md)\n- [Gamma](c2.md)\n- [Delta](c3.md)\n- [Epsilon](c4.md)\n",
        ),
    ];
    for (path, text) in edits {
        book.write(path, text);
        render_book_cached(book.root(), &first_pass, &mut cache).expect("renders");
        let spliced = render(&book, &mut cache).site;
        let fresh = calcbook::render_book(book.root(), &RenderOptions::default()).unwrap();
        for file in ["searchindex.js", "print.html"] {
            assert!(
                spliced.get(file) == fresh.site.get(file),
                "{file} after saving {path} differs from a fresh build's"
            );
        }
        assert_eq!(spliced.files.len(), fresh.site.files.len());
    }
}

/// A chapter of every kind of cell, for the cell memo: blocks whose names later blocks use, traced
/// values, a claim, a chart, a table and inline values.
const CELLS: &str = "# Cells\n\nSome prose with `= 2 * 3` in it.\n\n```calc\nbw = 4 TB/s\nsize = 80 GB\n```\n\n\
Reading takes `= size / bw in ms`.\n\n```calc\nt = size / bw\nclaim \"reading takes about 20 ms\": t ≈ 20 ms ± 10%\n```\n\n\
```chart\nid: read\ntitle: Read time\nx: { var: gb, from: 1, to: 100, label: Size }\ny: { unit: ms, label: Time }\n\
series:\n  - { label: read, y: \"gb * 1 GB / bw\" }\n```\n\n\
```table\nid: sizes\nrows: \"[{n: 1}, {n: 2}]\"\ncolumns:\n  N: row.n\n```\n\n\
```calc\ntwice = 2 * t\n```\n\nThe end.\n";

/// Under `serve`, a save draws only the cells it changed and takes the others as drawn last time
/// (and the ledger, where its claims only moved): after every kind of edit (prose appended, lines inserted above the cells, a value that later
/// cells use changed, an inline value edited, a chart added before the others, a block broken and
/// fixed), each page must be byte for byte a fresh build's, and unchanged cells must be reused.
#[test]
fn cells_reused_from_the_last_render_draw_what_a_fresh_build_draws() {
    let chart2: &'static str = "```chart\ntitle: Another\nx: { var: n, from: 1, to: 4, label: N }\n\
                  y: { unit: ms, label: T }\nseries:\n  - { label: t, y: \"n * t\" }\n```\n\n";
    let edits: Vec<Edit> = vec![
        // The first rebuild keeps what it draws; from the second on, cells are reused.
        (
            "prose appended",
            Box::new(|t| format!("{t}\nA new line.\n")),
            false,
        ),
        (
            "prose edited",
            Box::new(|t| t.replace("A new line.", "A line, edited.")),
            true,
        ),
        (
            "lines inserted at the top",
            Box::new(|t| t.replacen("\n\n", "\n\nNew.\n\nLines.\n\n", 1)),
            true,
        ),
        (
            "a used value changed",
            Box::new(|t| t.replace("bw = 4 TB/s", "bw = 2 TB/s")),
            true,
        ),
        (
            "an inline value edited",
            Box::new(|t| t.replace("`= 2 * 3`", "`= 2 * 4`")),
            true,
        ),
        (
            "a chart added first",
            Box::new(move |t| {
                t.replace("```chart\nid: read", &format!("{chart2}```chart\nid: read"))
            }),
            true,
        ),
        (
            "a block broken",
            Box::new(|t| t.replace("twice = 2 * t", "twice = 2 * ")),
            true,
        ),
        (
            "the block fixed",
            Box::new(|t| t.replace("twice = 2 * ", "twice = 3 * t")),
            true,
        ),
        (
            "the first block indented in a list",
            Box::new(|t| {
                t.replace(
                    "```calc\nbw = 2 TB/s\nsize = 80 GB\n```",
                    "- item\n\n  ```calc\n  bw = 2 TB/s\n  size = 80 GB\n  ```",
                )
            }),
            false,
        ),
    ];
    rebuilds_draw_what_fresh_builds_draw(CELLS, edits);
}

/// An edit to a chapter, applied to the text the one before left: what it is, the edit, and
/// whether some cell must be reused after it.
type Edit = (&'static str, Box<dyn Fn(&str) -> String>, bool);

/// Renders a book of one chapter, `text`, then applies each edit and renders again with the same
/// `serve` cache: the chapter's page and the ledger must be a fresh build's, and cells must be
/// reused where the edit says.
fn rebuilds_draw_what_fresh_builds_draw(text: &str, edits: Vec<Edit>) {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "# Summary\n\n- [Cells](cells.md)\n"),
        ("src/cells.md", text),
    ]);
    let mut cache = RenderCache::for_rebuilds();
    render(&book, &mut cache);
    let mut text = text.to_string();
    for (what, edit, some_reused) in edits {
        let edited = edit(&text);
        assert_ne!(edited, text, "{what} changes nothing");
        text = edited;
        book.write("src/cells.md", &text);
        let (rendered, _) =
            render_book_cached(book.root(), &RenderOptions::default(), &mut cache).unwrap();
        let fresh = calcbook::render_book(book.root(), &RenderOptions::default()).unwrap();
        for page in ["cells.html", "claims.html"] {
            assert!(
                rendered.site.get_str(page) == fresh.site.get_str(page),
                "after {what}, {page} differs from a fresh build's"
            );
        }
        assert_eq!(
            rendered.diagnostics.len(),
            fresh.diagnostics.len(),
            "{what}"
        );
        if some_reused {
            assert!(cache.cells_reused() > 0, "after {what}, no cell was reused");
        }
        cache.recycle(rendered.book);
    }
}

/// A chapter whose cells read each other's names through a function, a unit declaration and a
/// name defined twice, for the cell memo's keys.
const DEPENDENT: &str = "# Dependent\n\n```calc\nrate = 2 GB/s\nfn time(size) = size / rate\nunit widget = 3 kg\n```\n\n\
Four widgets weigh `= 4 widget in kg`; a gigabyte takes `= time(1 GB)`.\n\n\
```calc\na = time(10 GB)\nb = 7 s\n```\n\n```calc\nc = b * 2\nclaim \"a is about 5 s\": a ≈ 5 s ± 1%\n```\n\n\
```chart\ntitle: Time\nx: { var: n, from: 1, to: 10, label: GB }\ny: { unit: s, label: Time }\n\
series:\n  - { label: t, y: \"time(n * 1 GB)\" }\n```\n\nSeven seconds doubled: `= c`.\n";

/// An edit to one block redraws the cells that read what it defines (through a function called
/// later, a unit, a name defined again) and reuses the others; every page stays a fresh build's.
#[test]
fn an_edit_to_one_block_redraws_what_reads_it_and_stays_a_fresh_builds_page() {
    let edits: Vec<Edit> = vec![
        (
            "prose appended",
            Box::new(|t| format!("{t}\nMore.\n")),
            false,
        ),
        (
            "prose edited",
            Box::new(|t| t.replace("More.", "Even more.")),
            true,
        ),
        (
            // Traced values are numbered per cell: the cells after the block keep their ids.
            "a statement added to the first block",
            Box::new(|t| t.replace("rate = 2 GB/s\n", "rate = 2 GB/s\nspare = 1 s\n")),
            true,
        ),
        (
            "the rate a function reads changed",
            Box::new(|t| t.replace("rate = 2 GB/s", "rate = 4 GB/s")),
            true,
        ),
        (
            "a name used by a later block changed",
            Box::new(|t| t.replace("b = 7 s", "b = 8 s")),
            true,
        ),
        (
            "the function's body changed",
            Box::new(|t| t.replace("size / rate", "size / rate + 1 s")),
            true,
        ),
        (
            // A declaration changes how all later text reads: nothing after it is reused.
            "a unit redeclared",
            Box::new(|t| t.replace("widget = 3 kg", "widget = 5 kg")),
            false,
        ),
        (
            "the rate defined again before the chart",
            Box::new(|t| t.replace("```chart", "```calc\nrate = 1 GB/s\n```\n\n```chart")),
            true,
        ),
        (
            "the later definition changed",
            Box::new(|t| t.replace("rate = 1 GB/s", "rate = 8 GB/s")),
            true,
        ),
        (
            "a block broken",
            Box::new(|t| t.replace("c = b * 2", "c = b * ")),
            true,
        ),
        (
            "the block fixed",
            Box::new(|t| t.replace("c = b * ", "c = b * 3")),
            true,
        ),
    ];
    rebuilds_draw_what_fresh_builds_draw(DEPENDENT, edits);
}

/// The chapters evaluated most recently keep their drawn cells, within a byte budget: an author
/// moving between two chapters keeps both, and past the budget the chapter saved longest ago
/// gives its cells up (the latest save's are always kept).
#[test]
fn recently_edited_chapters_keep_their_drawn_cells_within_a_budget() {
    let cells = "# C\n\n```calc\nx = 2 s\n```\n\nIt is `= x`.\n";
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [A](a.md)\n- [B](b.md)\n"),
        ("src/a.md", cells),
        ("src/b.md", cells),
    ]);
    let mut edits = 0;
    let mut save = |cache: &mut RenderCache, rel: &str| {
        edits += 1;
        book.write(rel, &format!("{cells}\nEdit {edits}.\n"));
        let rendered = render(&book, cache);
        cache.recycle(rendered.book);
        cache.cells_reused()
    };
    let mut cache = RenderCache::for_rebuilds();
    save(&mut cache, "src/a.md");
    assert_eq!(
        save(&mut cache, "src/a.md"),
        0,
        "the first rebuild keeps what it draws"
    );
    assert_eq!(
        save(&mut cache, "src/a.md"),
        2,
        "a.md's block and inline value"
    );
    assert_eq!(save(&mut cache, "src/b.md"), 0, "b.md had kept nothing");
    assert_eq!(
        save(&mut cache, "src/a.md"),
        2,
        "a.md kept its cells while b.md was saved"
    );
    assert_eq!(save(&mut cache, "src/b.md"), 2);
    assert_eq!(
        cache.chapters_with_drawn_cells(),
        [Path::new("src/a.md"), Path::new("src/b.md")]
    );
    // A budget too small for two chapters keeps the latest save's alone.
    let mut cache = RenderCache::for_rebuilds().keeping_drawn_cells_within(1);
    save(&mut cache, "src/a.md");
    save(&mut cache, "src/a.md");
    assert_eq!(save(&mut cache, "src/a.md"), 2);
    assert_eq!(save(&mut cache, "src/b.md"), 0);
    assert_eq!(cache.chapters_with_drawn_cells(), [Path::new("src/b.md")]);
    assert_eq!(
        save(&mut cache, "src/a.md"),
        0,
        "saving b.md dropped a.md's cells"
    );
}
