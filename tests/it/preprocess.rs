//! `calcbook preprocess`, mdBook 0.5's preprocessor protocol, end to end: JSON requests in the
//! format mdBook writes (captured from mdBook 0.5.4 into `tests/fixtures/mdbook-book/request.json`)
//! through the real binary, and, where `mdbook` is installed, a real `mdbook build`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mdbook_preprocessor::book::{Book, Chapter};
use serde_json::Value;

use crate::common::{self, Run, TestBook};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mdbook-book")
}

/// The captured request, with its root pointed at `root`.
fn request_for(root: &Path) -> Value {
    let text = std::fs::read_to_string(fixture_dir().join("request.json")).unwrap();
    let mut request: Value = serde_json::from_str(&text).unwrap();
    request[0]["root"] = Value::String(root.to_string_lossy().into_owned());
    request
}

/// The request with chapter `index`'s content replaced (as mdBook would send an edited file).
fn with_content(mut request: Value, index: usize, content: &str) -> Value {
    request[1]["items"][index]["Chapter"]["content"] = Value::String(content.into());
    request
}

fn preprocess(request: &Value) -> Run {
    let mut child = common::calcbook()
        .arg("preprocess")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run calcbook preprocess");
    let input = serde_json::to_vec(request).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    child.wait_with_output().unwrap().into()
}

fn chapter<'a>(book: &'a Book, name: &str) -> &'a Chapter {
    book.chapters()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no chapter {name}"))
}

/// The fixture book copied into a temporary folder, with `files` written over its own.
fn fixture_copy(files: &[(&str, &str)]) -> TestBook {
    let mut all: Vec<(String, String)> = Vec::new();
    for rel in [
        "book.toml",
        "src/SUMMARY.md",
        "src/panels.md",
        "src/battery.md",
        "data/shed.yaml",
    ] {
        let text = std::fs::read_to_string(fixture_dir().join(rel)).unwrap();
        all.push((rel.into(), text));
    }
    for (rel, text) in files {
        all.retain(|(r, _)| r != rel);
        all.push((rel.to_string(), text.to_string()));
    }
    let refs: Vec<(&str, &str)> = all.iter().map(|(r, t)| (r.as_str(), t.as_str())).collect();
    TestBook::new(&refs)
}

#[test]
fn supports_answers_yes_for_html_only() {
    common::calcbook()
        .args(["preprocess", "supports", "html"])
        .status()
        .map(|s| assert_eq!(s.code(), Some(0)))
        .unwrap();
    for renderer in ["markdown", "epub", "pdf"] {
        let status = common::calcbook()
            .args(["preprocess", "supports", renderer])
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(1), "{renderer}");
    }
}

#[test]
fn protocol_round_trip_renders_every_cell_of_both_chapters() {
    let run = preprocess(&request_for(&fixture_dir()));
    run.assert_code(0);
    let book: Book = serde_json::from_str(&run.stdout).expect("stdout is mdBook's Book JSON");
    assert_eq!(book.chapters().count(), 2);

    let panels = chapter(&book, "Panels");
    let html = &panels.content;
    // The prose stays Markdown for mdBook; the cells became HTML.
    assert!(html.starts_with("# Panels\n\nThe shed's panel is rated in watts.\n"));
    assert!(!html.contains("```"), "a fenced cell is left:\n{html}");
    assert!(html.contains("<div class=\"calc-block\" data-block=\"1\">"));
    assert!(html.contains(
        "<span class=\"calc-out\" title=\"— from data/shed.yaml:4 (panel.power)\">= <button"
    ));
    assert!(html.contains("<div class=\"claim claim--holds\" id=\"claim-1\">"));
    assert!(html.contains("traced\" popovertarget=\"v-panels-1-3\">400 W</button>"));
    assert!(html.contains("<span class=\"calc-from\" title=\"— from data/shed.yaml:4 (panel.power)\"><button type=\"button\" class=\"calc-inline traced\" popovertarget=\"v-panels-i1-1\">2 kWh</button>"));
    assert!(html.contains("<span class=\"trace-label\">Expression</span> <code>daily</code>"));
    assert!(html.contains("<a class=\"xref\" href=\"#fig-yield\">Figure 1</a>"));
    assert!(html.contains("<figure class=\"chart\" id=\"fig-yield\">"));
    assert!(html.contains("<svg"));
    // The chart's points travel in the page: a preprocessor cannot add files to the output.
    assert!(html.contains("href=\"data:text/csv;charset=utf-8,hours%20of%20sun"));
    assert!(html.contains("download=\"panels-fig-1.csv\""));
    assert_eq!(
        html.matches("<style>").count(),
        1,
        "one stylesheet per chapter"
    );

    let battery = chapter(&book, "Battery");
    let html = &battery.content;
    assert!(html.contains("<details class=\"calc-details\"><summary>"));
    assert!(
        html.contains(
            "<span class=\"calc-from\" title=\"— from data/shed.yaml:8 (battery.stored)\"><button type=\"button\" class=\"calc-inline traced\""
        )
    );
    assert!(html.contains("<figure class=\"table\" id=\"tbl-runtime\">"));
    assert!(html.contains("<td class=\"num\">40 hours</td>"));
    assert!(html.contains("<a class=\"xref\" href=\"#tbl-runtime\">Table 1</a> lists"));
    assert!(html.contains("claim claim--holds"));
    // No blank line inside a cell's HTML, or mdBook would read the rest of it as Markdown.
    let cells = html.split("<style>").next().unwrap();
    for block in cells.split("\n\n") {
        if block.starts_with("<figure") {
            assert!(block.trim_end().ends_with("</figure>"), "{block}");
        }
    }

    // Everything mdBook needs besides the content is returned as it came.
    assert_eq!(battery.path.as_deref(), Some(Path::new("battery.md")));
    assert_eq!(
        battery.number.as_ref().map(|n| n.to_string()),
        Some("2.".into())
    );
}

#[test]
fn evaluation_error_fails_with_the_same_located_diagnostic_as_build() {
    let bad = "# Panels\n\n```calc\nx = 8 TB/s + 3 s\n```\n";
    let book = fixture_copy(&[("src/panels.md", bad)]);
    let run = preprocess(&with_content(request_for(book.root()), 0, bad));
    run.assert_code(1);
    assert!(run.stdout.is_empty(), "no book is written on error");
    run.assert_stderr_contains("src/panels.md:4:");
    let diagnostics = run
        .stderr
        .split("\nerror: calcbook found errors")
        .next()
        .unwrap();
    assert!(diagnostics.starts_with("error["), "{}", run.stderr);

    let build = book.build();
    build.assert_code(1);
    assert!(
        build.stderr.contains(diagnostics),
        "build reports it differently:\n--- preprocess\n{diagnostics}\n--- build\n{}",
        build.stderr
    );
}

#[test]
fn failing_claim_renders_the_red_box_and_warns_without_failing() {
    let text = "# Panels\n\n```calc\nclaim \"Two is more than three\": 2 > 3\n```\n";
    let book = fixture_copy(&[("src/panels.md", text)]);
    let run = preprocess(&with_content(request_for(book.root()), 0, text));
    run.assert_code(0)
        .assert_stderr_contains("warning[claim-fails]")
        .assert_stderr_contains("src/panels.md:4:1");
    let out: Book = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        chapter(&out, "Panels")
            .content
            .contains("claim claim--fails")
    );
}

/// The preprocessor's prelude is `build`'s: a `systems` entry reaches its chip's record.
#[test]
fn a_system_entry_is_linked_to_its_chip_as_in_build() {
    let hardware =
        "chip_x:\n  name: Chip X\n  hbm: {bandwidth: 2 TB/s}\n  source: https://example.org/x\n";
    let systems =
        "rack_x:\n  name: Rack X\n  chip: chip_x\n  chips: 4\n  source: https://example.org/rack\n";
    let text = "# Panels\n\n```calc\nclaim \"The rack's chips read fast\": systems.rack_x.hardware.hbm.bandwidth > 1 TB/s\n```\n";
    let book = fixture_copy(&[
        ("src/panels.md", text),
        ("data/hardware.yaml", hardware),
        ("data/systems.yaml", systems),
    ]);
    let run = preprocess(&with_content(request_for(book.root()), 0, text));
    run.assert_code(0);
    let out: Book = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        chapter(&out, "Panels")
            .content
            .contains("claim claim--holds"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_gates_the_mdbook_book_and_accepts_its_preprocessor_section() {
    let run: Run = common::calcbook()
        .arg("check")
        .arg(fixture_dir())
        .output()
        .unwrap()
        .into();
    run.assert_code(0)
        .assert_stdout_contains("2 claims (2 hold, 0 fail), 0 errors, 0 warnings");
}

/// `mdbook --version` when it is mdBook 0.5, else why the test is skipped.
fn mdbook_05() -> Result<(), String> {
    match Command::new("mdbook").arg("--version").output() {
        Ok(o) if String::from_utf8_lossy(&o.stdout).starts_with("mdbook v0.5") => Ok(()),
        Ok(o) => Err(format!(
            "mdbook on PATH is {}, not 0.5",
            String::from_utf8_lossy(&o.stdout).trim()
        )),
        Err(_) => Err("no `mdbook` on PATH".into()),
    }
}

/// Runs the real `mdbook build` on `book`, with this build's calcbook first on the PATH.
fn mdbook_build(book: &TestBook) -> Run {
    let bin = Path::new(env!("CARGO_BIN_EXE_calcbook")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    Command::new("mdbook")
        .arg("build")
        .current_dir(book.root())
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .expect("run mdbook")
        .into()
}

#[test]
fn real_mdbook_builds_the_fixture_book_with_calcbook_cells() {
    if let Err(why) = mdbook_05() {
        eprintln!("SKIPPED real_mdbook_builds_the_fixture_book_with_calcbook_cells: {why}");
        return;
    }
    let book = fixture_copy(&[]);
    mdbook_build(&book).assert_code(0);
    let panels = book.page("panels.html");
    // mdBook's own page around calcbook's cells.
    assert!(panels.contains("<main>") && panels.contains("Solar shed"));
    assert!(panels.contains("<div class=\"calc-block\" data-block=\"1\">"));
    assert!(panels.contains("claim claim--holds"));
    assert!(panels.contains("<span class=\"calc-from\" title=\"— from data/shed.yaml:4 (panel.power)\"><button type=\"button\" class=\"calc-inline traced\" popovertarget=\"v-panels-i1-1\">2 kWh</button>"));
    assert!(panels.contains("<figure class=\"chart\" id=\"fig-yield\">"));
    assert!(panels.contains("<style>"));
    // The prose around the cells is still Markdown, rendered by mdBook.
    assert!(panels.contains("<h1 id=\"panels\">"));
    assert!(panels.contains("<p>So a sunny day yields <span class=\"calc-from\""));
    let battery = book.page("battery.html");
    assert!(battery.contains("<td class=\"num\">40 hours</td>"));
    assert!(battery.contains("<details class=\"calc-details\">"));
    assert!(!battery.contains("```"));
}

#[test]
fn real_mdbook_build_fails_at_a_calc_error_and_says_where() {
    if let Err(why) = mdbook_05() {
        eprintln!("SKIPPED real_mdbook_build_fails_at_a_calc_error_and_says_where: {why}");
        return;
    }
    let book = fixture_copy(&[(
        "src/battery.md",
        "# Battery\n\n```calc\nload = 150 W + 2 s\n```\n",
    )]);
    let run = mdbook_build(&book);
    assert_ne!(run.code, 0, "mdbook build succeeded:\n{}", run.stderr);
    run.assert_stderr_contains("src/battery.md:4:");
    run.assert_stderr_contains("preprocessor exited unsuccessfully");
    assert!(!book.out("battery.html").exists());
}

#[test]
fn real_mdbook_error_in_an_included_file_points_at_the_include() {
    if let Err(why) = mdbook_05() {
        eprintln!("SKIPPED real_mdbook_error_in_an_included_file_points_at_the_include: {why}");
        return;
    }
    // `after = ["links"]` (the fixture's book.toml): mdBook expands the include before calcbook
    // sees the chapter, and drops the included file's last newline as it does.
    let book = fixture_copy(&[
        (
            "src/battery.md",
            "# Battery\n\nIntro.\n\n{{#include parts/load.md}}\n\nAfter.\n",
        ),
        ("src/parts/load.md", "```calc\nload = 150 W + 1 s\n```\n"),
    ]);
    let run = mdbook_build(&book);
    assert_ne!(run.code, 0, "mdbook build succeeded:\n{}", run.stderr);
    run.assert_stderr_contains("src/battery.md:5:1")
        .assert_stderr_contains("{{#include parts/load.md}}");
}
