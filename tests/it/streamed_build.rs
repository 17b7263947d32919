//! `build` hands every file to its staging folder as soon as it is rendered (pages from the threads
//! that template them) instead of holding the whole site: what lands on disk must be exactly the
//! site the in-memory path renders, and a book with errors must still leave the previous output
//! untouched and no staging folder behind.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{TestBook, calcbook};

/// Every file under `dir` (path relative to it, `/`-separated → bytes).
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap();
            let rel = rel.to_string_lossy().replace('\\', "/");
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Builds `root` into a fresh folder and checks the files written against the site rendered in
/// memory: the same paths (besides the output marker) with the same bytes.
#[track_caller]
fn assert_build_writes_the_in_memory_site(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("site");
    let run = calcbook()
        .arg("build")
        .arg(root)
        .arg("-d")
        .arg(&dest)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut written = tree(&dest);
    assert!(written.remove(calcbook::output::MARKER).is_some());
    let rendered = calcbook::render_book(root, &calcbook::RenderOptions::default()).unwrap();
    let in_memory: BTreeMap<String, Vec<u8>> = (rendered.site.files.iter())
        .map(|(path, bytes)| (path.clone(), bytes.to_vec()))
        .collect();
    assert_eq!(
        written.keys().collect::<Vec<_>>(),
        in_memory.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &in_memory {
        assert!(
            written[path] == *bytes,
            "{path} differs from the in-memory site"
        );
    }
    written
}

/// Chapters at the top and in a folder, a chart (its CSV beside the page), a claim (the ledger),
/// a data file (the sources page), a static file, a redirect and an additional stylesheet.
fn varied_book() -> TestBook {
    TestBook::new(&[
        (
            "book.toml",
            "[book]\ntitle = \"Varied\"\n\n[output.html]\nadditional-css = [\"theme/extra.css\"]\n\n\
             [output.html.redirect]\n\"/old.html\" = \"part/deep.html\"\n",
        ),
        (
            "src/SUMMARY.md",
            "- [Start](start.md)\n- [Part](part/README.md)\n  - [Deep](part/deep.md)\n",
        ),
        (
            "src/start.md",
            "# Start\n\n```calc\nrate = 3 km/h\ntrip = 6 km / rate\nclaim \"The trip takes two hours\": trip ≈ 2 h ± 1%\n```\n\n\
             The trip takes `= trip`. See [deep](part/deep.md#below).\n",
        ),
        (
            "src/part/README.md",
            "# Part\n\n```chart\nid: line\ntitle: A line\nx: {var: t, from: 1, to: 4, points: 4}\n\
             y: {unit: m}\nseries:\n  - {label: up, y: \"t * 1 m\"}\n```\n",
        ),
        ("src/part/deep.md", "# Deep\n\n## Below\n\nText.\n"),
        (
            "src/images/dot.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
        ),
        ("theme/extra.css", "body {}\n"),
        (
            "data/walk.yaml",
            "pace:\n  value: 5 km/h\n  source: a walk measured for this test\n",
        ),
    ])
}

#[test]
fn build_writes_exactly_the_site_rendered_in_memory() {
    let book = varied_book();
    let written = assert_build_writes_the_in_memory_site(book.root());
    for kind in [
        "index.html",
        "part/index.html",
        "part/index-fig-1.csv",
        "claims.html",
        "sources.html",
        "images/dot.svg",
        "old.html",
        "theme/extra.css",
        "print.html",
        "searchindex.js",
        "toc.js",
    ] {
        assert!(written.contains_key(kind), "{kind} was not written");
    }
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/mdbook_fixture");
    let written = assert_build_writes_the_in_memory_site(&fixture);
    assert!(written.contains_key("moved/old.html"));
}

#[test]
fn an_error_found_while_pages_are_written_leaves_every_old_file_and_no_staging_folder() {
    let mut files = vec![("src/SUMMARY.md".to_string(), String::new())];
    for i in 1..=24 {
        files[0].1.push_str(&format!("- [Chapter {i}](c{i}.md)\n"));
        files.push((
            format!("src/c{i}.md"),
            format!("# Chapter {i}\n\nText {i}.\n"),
        ));
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let book = TestBook::new(&files);
    book.build().assert_code(0);
    let before = tree(&book.root().join("book"));
    assert!(before.contains_key("c24.html"));
    // Chapter 20 fails to evaluate: the other pages are rendered (and were written to the staging
    // folder) before the build knows it has an error.
    book.write("src/c1.md", "# Chapter 1\n\nEdited text.\n");
    book.write(
        "src/c20.md",
        "# Chapter 20\n\n```calc\nx = 8 km + 3 s\n```\n",
    );
    book.build()
        .assert_code(1)
        .assert_stderr_contains("src/c20.md")
        .assert_stderr_contains("the previous output was left as it was");
    assert!(
        tree(&book.root().join("book")) == before,
        "the old book changed"
    );
    let stray: Vec<_> = std::fs::read_dir(book.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("calcbook-"))
        .collect();
    assert!(stray.is_empty(), "left behind: {stray:?}");
    // Fixed, the next build replaces the book whole.
    book.write("src/c20.md", "# Chapter 20\n\nFixed.\n");
    book.build().assert_code(0);
    assert!(book.page("c1.html").contains("Edited text."));
    assert!(book.page("c20.html").contains("Fixed."));
}
