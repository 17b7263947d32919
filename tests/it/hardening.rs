//! Hostile books (issue #16): each test builds the hostile input in a temporary folder and checks
//! that calcbook neither reads outside the book, nor hangs, nor destroys what it did not write.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{self, Run, TestBook};

const SUMMARY: &str = "# Summary\n\n- [One](one.md)\n";

/// Runs calcbook with `args` in `dir`, killing it (and failing) if it has not ended in 60 s: a
/// hang must fail the test, not block the suite.
fn run_bounded(dir: &Path, args: &[&str]) -> Run {
    let mut child = common::calcbook()
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run calcbook");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output").into();
        }
        if started.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            panic!("calcbook {args:?} did not finish: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `check` on the book, with its report (stdout) and errors (stderr) together in `stderr`.
fn check(book: &TestBook) -> Run {
    let mut run = run_bounded(book.root(), &["check"]);
    run.stderr = format!("{}{}", run.stdout, run.stderr);
    run
}

/// A folder beside the book holding a secret file; returns (folder, secret path).
fn outside_secret() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-OUTSIDE\n").unwrap();
    (dir, secret)
}

#[test]
fn include_of_an_absolute_path_outside_the_book_is_a_located_error() {
    let (_outside, secret) = outside_secret();
    let book = TestBook::new(&[
        ("src/SUMMARY.md", SUMMARY),
        (
            "src/one.md",
            &format!("# One\n\n{{{{#include {}}}}}\n", secret.display()),
        ),
    ]);
    let run = book.build();
    run.assert_code(1)
        .assert_stderr_contains("outside the book")
        .assert_stderr_contains("one.md:3");
    assert!(!run.stdout.contains("TOP-SECRET") && !run.stderr.contains("TOP-SECRET"));
}

#[test]
fn include_climbing_out_with_dotdot_is_refused() {
    let (outside, _) = outside_secret();
    let book = TestBook::new(&[("src/SUMMARY.md", SUMMARY)]);
    // Enough `..` to reach the filesystem root, then down to the secret.
    let climb = "../".repeat(book.root().components().count() + 2);
    let target = format!("{climb}{}", outside.path().join("secret.txt").display());
    book.write(
        "src/one.md",
        &format!("# One\n\n{{{{#include {target}:1:2}}}}\n"),
    );
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("outside the book");
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_book_are_refused_for_chapters_and_included_folders() {
    let (outside, secret) = outside_secret();
    let book = TestBook::new(&[
        (
            "src/SUMMARY.md",
            "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n",
        ),
        ("src/two.md", "# Two\n\n{{#include linked/secret.txt}}\n"),
    ]);
    std::os::unix::fs::symlink(&secret, book.root().join("src/one.md")).unwrap();
    std::os::unix::fs::symlink(outside.path(), book.root().join("src/linked")).unwrap();
    let run = book.build();
    run.assert_code(1)
        .assert_stderr_contains("SUMMARY.md:3")
        .assert_stderr_contains("two.md:3");
    assert!(!book.out("one.html").exists());
}

#[cfg(unix)]
#[test]
fn a_symlink_to_a_file_inside_the_book_is_still_read() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", SUMMARY),
        ("shared/text.md", "# One\n\nSHARED-TEXT\n"),
    ]);
    std::os::unix::fs::symlink(
        book.root().join("shared/text.md"),
        book.root().join("src/one.md"),
    )
    .unwrap();
    book.build().assert_code(0);
    assert!(book.page("one.html").contains("SHARED-TEXT"));
}

#[test]
fn folders_of_book_toml_outside_the_book_are_errors_at_their_key() {
    let (outside, _) = outside_secret();
    for (key, table) in [
        ("src", "book"),
        ("data", "calcbook"),
        ("templates", "calcbook"),
    ] {
        let book = TestBook::new(&[
            (
                "book.toml",
                &format!("[{table}]\n{key} = \"{}\"\n", outside.path().display()),
            ),
            ("src/SUMMARY.md", SUMMARY),
            ("src/one.md", "# One\n"),
        ]);
        check(&book)
            .assert_code(1)
            .assert_stderr_contains("leads outside the book")
            .assert_stderr_contains("book.toml:2");
    }
    let book = TestBook::new(&[
        ("book.toml", "[book]\nsrc = \"..\"\n"),
        ("src/SUMMARY.md", SUMMARY),
    ]);
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("book.toml:2");
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

#[cfg(unix)]
#[test]
fn a_fifo_is_an_error_never_a_hang() {
    let book = TestBook::new(&[
        (
            "src/SUMMARY.md",
            "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n",
        ),
        ("src/one.md", "# One\n\n{{#include pipe.md}}\n"),
    ]);
    mkfifo(&book.root().join("src/pipe.md"));
    mkfifo(&book.root().join("src/two.md"));
    std::fs::create_dir_all(book.root().join("data")).unwrap();
    mkfifo(&book.root().join("data/hw.yaml"));
    let run = check(&book);
    run.assert_code(1)
        .assert_stderr_contains("FIFO")
        .assert_stderr_contains("one.md:3");
}

#[cfg(unix)]
#[test]
fn a_device_is_not_read() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", SUMMARY),
        ("src/one.md", "# One\n\n{{#include /dev/zero}}\n"),
    ]);
    std::fs::create_dir_all(book.root().join("data")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", book.root().join("data/zero.yaml")).unwrap();
    check(&book).assert_code(1);
}

#[test]
fn a_file_over_the_size_limit_is_a_clear_error() {
    let book = TestBook::new(&[
        (
            "book.toml",
            "[book]\ntitle = \"T\"\n[calcbook]\nmax-file-bytes = 1000\n",
        ),
        ("src/SUMMARY.md", SUMMARY),
    ]);
    book.write("src/one.md", &format!("# One\n\n{}\n", "x".repeat(2000)));
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("larger than 1000 bytes")
        .assert_stderr_contains("max-file-bytes");
}

#[test]
fn included_bytes_are_bounded_for_the_whole_book() {
    let book = TestBook::new(&[
        (
            "book.toml",
            "[book]\ntitle = \"T\"\n[calcbook]\nmax-included-bytes = 5000\n",
        ),
        ("src/SUMMARY.md", SUMMARY),
    ]);
    book.write("src/piece.md", &format!("{}\n", "y".repeat(999)));
    book.write("src/one.md", &"{{#include piece.md}}\n".repeat(20));
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("more than 5000 bytes");
}

#[test]
fn include_fan_out_stops_at_the_include_count() {
    // Ten levels of ten includes each would be 10^10 reads; the budget stops it early.
    let mut files = vec![("src/SUMMARY.md".to_string(), SUMMARY.to_string())];
    files.push(("src/one.md".into(), "{{#include f0.md}}\n".repeat(10)));
    for level in 0..9 {
        files.push((
            format!("src/f{level}.md"),
            format!("{{{{#include f{}.md}}}}\n", level + 1).repeat(10),
        ));
    }
    files.push(("src/f9.md".into(), "leaf\n".into()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let book = TestBook::new(&refs);
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("more than 10000 includes");
}

// ---- Output is never destructive ----

fn simple_book() -> TestBook {
    TestBook::new(&[
        ("src/SUMMARY.md", SUMMARY),
        ("src/one.md", "# One\n\nFIRST\n"),
    ])
}

/// Names of the folders a build left beside the output (`.book.calcbook-new-PID`, …).
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".calcbook-"))
        .collect()
}

#[test]
fn a_victim_folder_beside_the_book_survives_build_dir_and_dest_dir() {
    let parent = tempfile::tempdir().unwrap();
    let victim = parent.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("precious.txt"), "keep me").unwrap();
    let book = simple_book();
    book.write(
        "book.toml",
        &format!("[build]\nbuild-dir = \"{}\"\n", victim.display()),
    );
    let run = book.build();
    run.assert_code(1)
        .assert_stderr_contains("calcbook did not write it");
    let dotdot = format!(
        "{}{}",
        "../".repeat(book.root().components().count()),
        victim.display()
    );
    book.write("book.toml", &format!("[build]\nbuild-dir = \"{dotdot}\"\n"));
    book.build().assert_code(1);
    book.write("book.toml", "[book]\ntitle = \"T\"\n");
    book.run(&["build", ".", "--dest-dir", victim.to_str().unwrap()])
        .assert_code(1);
    assert_eq!(
        std::fs::read_to_string(victim.join("precious.txt")).unwrap(),
        "keep me"
    );
    // A folder calcbook wrote is replaced on the next build.
    let out = parent.path().join("out");
    book.run(&["build", ".", "--dest-dir", out.to_str().unwrap()])
        .assert_code(0);
    book.run(&["build", ".", "--dest-dir", out.to_str().unwrap()])
        .assert_code(0);
    assert!(out.join(".calcbook-output").is_file());
}

#[test]
fn a_file_of_the_book_or_a_source_folder_is_never_a_destination() {
    let book = simple_book();
    for dest in ["book.toml", "src/one.md", "src", "src/out", "."] {
        book.run(&["build", ".", "--dest-dir", dest]).assert_code(1);
    }
    assert_eq!(
        std::fs::read_to_string(book.root().join("src/one.md")).unwrap(),
        "# One\n\nFIRST\n"
    );
    assert!(book.root().join("book.toml").is_file());
    assert!(!book.root().join("src/out").exists());
}

/// Builds once, edits the chapter, then builds with `CALCBOOK_FAULT=fault` (the debug build
/// aborts at that point of the swap, as a kill would). Returns the book.
fn killed_build(fault: &str) -> TestBook {
    let book = simple_book();
    book.build().assert_code(0);
    book.write("src/one.md", "# One\n\nSECOND\n");
    let status = common::calcbook()
        .arg("build")
        .arg(book.root())
        .env("CALCBOOK_FAULT", fault)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(
        !status.success(),
        "the fault {fault} did not stop the build"
    );
    book
}

#[test]
fn a_build_killed_before_the_swap_leaves_the_previous_book_and_the_next_build_cleans_up() {
    let book = killed_build("before-swap");
    assert!(book.page("one.html").contains("FIRST"));
    assert!(
        !leftovers(book.root()).is_empty(),
        "the killed build left nothing to clean"
    );
    book.build().assert_code(0);
    assert!(book.page("one.html").contains("SECOND"));
    assert_eq!(leftovers(book.root()), Vec::<String>::new());
}

#[test]
fn a_build_killed_after_the_swap_leaves_the_new_book() {
    let book = killed_build("after-swap");
    assert!(book.page("one.html").contains("SECOND"));
    book.build().assert_code(0);
    assert_eq!(leftovers(book.root()), Vec::<String>::new());
}

#[test]
fn a_build_killed_between_the_fallback_renames_is_recovered_by_the_next_build() {
    let book = killed_build("fallback,mid-swap");
    // The kill fell between the two renames: no book, the previous one beside it.
    assert!(!book.out("one.html").exists());
    assert!(leftovers(book.root()).iter().any(|n| n.contains("-old-")));
    book.build().assert_code(0);
    assert!(book.page("one.html").contains("SECOND"));
    assert_eq!(leftovers(book.root()), Vec::<String>::new());
}

// ---- Templates cannot reach the environment and cannot crash the build ----

/// A book whose `templates/404.html` is `template` (plus other template files).
fn book_with_404(template: &str, more: &[(&str, &str)]) -> TestBook {
    let book = simple_book();
    book.write("templates/404.html", template);
    for (name, text) in more {
        book.write(name, text);
    }
    book
}

#[test]
fn get_env_in_a_template_is_an_error_and_the_secret_is_not_written() {
    let book = book_with_404("<p>{{ get_env(name=\"CALCBOOK_TEST_SECRET\") }}</p>\n", &[]);
    let run: Run = common::calcbook()
        .arg("build")
        .arg(book.root())
        .env("CALCBOOK_TEST_SECRET", "hunter2-secret")
        .output()
        .unwrap()
        .into();
    run.assert_code(1)
        .assert_stderr_contains("cannot read the environment");
    assert!(!run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"));
    assert!(!book.out("404.html").exists());
}

#[test]
fn a_macro_that_calls_itself_forever_is_an_error_not_an_abort() {
    let book = book_with_404(
        "{% import \"rec.html\" as rec %}\n<p>{{ rec::down(n=0) }}</p>\n",
        &[(
            "templates/rec.html",
            "{% macro down(n) %}\n{{ self::down(n=n + 1) }}\n{% endmacro down %}\n",
        )],
    );
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("macro `down` nests too deeply")
        .assert_stderr_contains("templates/rec.html:1");
}

#[test]
fn a_template_that_includes_itself_is_an_error_not_an_abort() {
    let book = book_with_404("<p>{% include \"404.html\" %}</p>\n", &[]);
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("nest too deeply");
}

#[test]
fn a_huge_range_or_nested_loops_are_errors_not_aborts() {
    let book = book_with_404(
        "{% for i in range(end=2000000000) %}{{ i }}{% endfor %}\n",
        &[],
    );
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("limited to 100000");
    let book = book_with_404(
        "{% for i in range(end=100000) %}{% for j in range(end=100000) %}{% endfor %}{% endfor %}\n",
        &[],
    );
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("loop iterations and macro calls");
}

#[test]
fn a_bad_template_is_an_error_at_its_file_and_line() {
    let book = book_with_404("<html>\n<body>\n{{ oops + }}\n</body>\n", &[]);
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("templates/404.html:3");
    let book = book_with_404("<html>\n\n<p>{{ no_such_variable }}</p>\n", &[]);
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("templates/404.html:3")
        .assert_stderr_contains("no_such_variable");
}

#[test]
fn the_default_theme_with_its_recursive_sidebar_macro_still_renders() {
    let book = TestBook::new(&[
        (
            "src/SUMMARY.md",
            "# Summary\n\n- [A](a.md)\n  - [B](b.md)\n    - [C](c.md)\n",
        ),
        ("src/a.md", "# A\n"),
        ("src/b.md", "# B\n"),
        ("src/c.md", "# C\n"),
    ]);
    book.build().assert_code(0);
    assert!(book.page("a.html").contains("c.html"));
}

// ---- Line endings and byte-order marks ----

const CHAPTER_LF: &str = "# One\n\nSome text.\n\n```calc\nx = 2 s\nclaim \"two is more than three\": x > 3 s\n```\n\nValue: `= x`.\n";

fn with_endings(text: &str, ending: &str, bom: bool) -> String {
    let body = text.replace('\n', ending);
    if bom { format!("\u{feff}{body}") } else { body }
}

#[test]
fn a_cr_only_chapter_with_a_false_claim_fails_check() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", SUMMARY),
        ("src/one.md", &with_endings(CHAPTER_LF, "\r", false)),
    ]);
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("two is more than three");
}

#[test]
fn cr_crlf_and_lf_with_or_without_bom_give_the_same_book() {
    let mut pages = Vec::new();
    for (ending, bom) in [
        ("\n", false),
        ("\r\n", false),
        ("\r", false),
        ("\r\n", true),
        ("\r", true),
    ] {
        let book = TestBook::new(&[
            (
                "book.toml",
                &with_endings("[book]\ntitle = \"T\"\n", ending, bom),
            ),
            ("src/SUMMARY.md", &with_endings(SUMMARY, ending, bom)),
            ("src/one.md", &with_endings(CHAPTER_LF, ending, bom)),
        ]);
        book.build().assert_code(0);
        pages.push((ending, bom, book.page("one.html")));
    }
    for (ending, bom, page) in &pages[1..] {
        assert_eq!(page, &pages[0].2, "ending {ending:?} bom {bom} differs");
    }
}

// ---- Every report format is valid under any input ----

#[test]
fn every_check_format_parses_when_claims_hold_markup_and_escapes() {
    let chapter = "# One\n\n```calc\nclaim \"x < 1 & \\\"q\\\" 'r' 100% :: a,b\\nnext > 2\": 1.32 < 1\nrefute \"<b>&amp;</b>\": 2 > 1\n```\n";
    let book = TestBook::new(&[("src/SUMMARY.md", SUMMARY), ("src/one.md", chapter)]);
    let words = "x < 1 & \"q\" 'r' 100% :: a,b\nnext > 2";
    let junit = book.run(&["check", "--format", "junit"]);
    junit.assert_code(1);
    let doc = roxmltree::Document::parse(&junit.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}", junit.stdout));
    let names: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    assert!(
        names.contains(&format!("claim {words}").as_str()),
        "{names:?}"
    );
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    assert_eq!(failures, 2);

    let json = book.run(&["check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["claims"][0]["words"], words);

    let github = book.run(&["check", "--format", "github"]);
    let annotations: Vec<&str> = github
        .stdout
        .lines()
        .filter(|l| l.starts_with("::"))
        .collect();
    assert_eq!(annotations.len(), 2, "{}", github.stdout);
    for line in annotations {
        let (_, data) = line[2..].split_once("::").unwrap();
        let data = data
            .replace("%0A", "\n")
            .replace("%0D", "\r")
            .replace("%25", "%");
        assert!(
            data.contains("100%") || data.contains("<b>&amp;</b>"),
            "{data}"
        );
    }
    // Nothing but annotations and the total line.
    assert_eq!(github.stdout.lines().count(), 3, "{}", github.stdout);
}

// ---- Located errors ----

#[test]
fn a_yaml_syntax_error_in_data_is_located_with_its_excerpt() {
    let book = simple_book();
    book.write("data/facts.yaml", "a:\n  v: [1, 2\nb: 3\n");
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("data/facts.yaml:3:")
        .assert_stderr_contains("3 │ b: 3");
}

#[test]
fn a_negative_tolerance_is_an_error_at_the_tolerance() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", SUMMARY),
        (
            "src/one.md",
            "# One\n\n```calc\nclaim \"close\": 1 s ≈ 1 s ± -5%\n```\n",
        ),
    ]);
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("a tolerance cannot be negative")
        .assert_stderr_contains("one.md:4:28");
}

// ---- Budgets ----

/// A function that takes about 10^10 steps, far past one statement's limit.
const RUNAWAY: &str = "fn sq(x) = x * x\nfn row(i) = sum(map(1..100000, sq))\n";

#[test]
fn a_runaway_statement_fails_at_its_call_and_later_statements_still_run() {
    let chapter = format!(
        "# One\n\n```calc\n{RUNAWAY}```\n\nText.\n\n```calc\ny = 2 s\nhuge = sum(map(1..100000, row))\nz = y * 2\nclaim \"z is four seconds\": z ≈ 4 s\n```\n"
    );
    // A small book budget (each statement gets half of it) so the runaway stops quickly.
    let book = TestBook::new(&[
        (
            "book.toml",
            "[book]\ntitle = \"T\"\n[calcbook]\nmax-steps = 400000\n",
        ),
        ("src/SUMMARY.md", SUMMARY),
        ("src/one.md", &chapter),
    ]);
    let run = check(&book);
    run.assert_code(1)
        .assert_stderr_contains("1 claim (1 holds, 0 fail), 1 error")
        .assert_stderr_contains("evaluation took more than 200,000 steps");
    // At the calling statement (line 12), not inside `row` in the first block.
    run.assert_stderr_contains("one.md:12:1");
    assert_eq!(
        run.stderr.matches("error[step-limit]").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn the_step_budget_is_for_the_whole_book_not_per_statement() {
    // Each statement takes ~30,000 steps, well under its own limit (half the budget); together
    // they pass the book's budget of 200,000, and so do those of the second chapter.
    let block: String = (0..10)
        .map(|i| format!("s{i} = sum(map(1..5000, sq))\n"))
        .collect();
    let chapter = |title: &str| format!("# {title}\n\n```calc\nfn sq(x) = x * x\n{block}```\n");
    let book = TestBook::new(&[
        (
            "book.toml",
            "[book]\ntitle = \"T\"\n[calcbook]\nmax-steps = 200000\n",
        ),
        (
            "src/SUMMARY.md",
            "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n",
        ),
        ("src/one.md", &chapter("One")),
        ("src/two.md", &chapter("Two")),
    ]);
    let run = check(&book);
    run.assert_code(1)
        .assert_stderr_contains("evaluation budget of");
    let spent = run.stderr.matches("error[step-limit]").count();
    // Some statements ran before the budget was spent, and every one after it failed.
    assert!(
        (1..20).contains(&spent),
        "{spent} step-limit errors\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("two.md"),
        "the second chapter shares the budget"
    );
}

// ---- Linear work: counts and limits (the times are in bench/hostile.py) ----

#[test]
fn twenty_thousand_statements_all_evaluate() {
    let body: String = (0..20_000).map(|i| format!("x{i} = {i} s\n")).collect();
    let book = TestBook::new(&[
        ("src/SUMMARY.md", SUMMARY),
        (
            "src/one.md",
            &format!("# One\n\n```calc\n{body}claim \"last\": x19999 ≈ 19999 s\n```\n"),
        ),
    ]);
    check(&book)
        .assert_code(0)
        .assert_stderr_contains("1 claim (1 holds");
}

#[test]
fn lists_nested_ten_thousand_deep_stop_with_a_clean_error() {
    let nested = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let book = TestBook::new(&[
        ("src/SUMMARY.md", SUMMARY),
        (
            "src/one.md",
            &format!("# One\n\n```calc\nx = {nested}\n```\n"),
        ),
    ]);
    let run = check(&book);
    run.assert_code(1).assert_stderr_contains("one.md:4");
}

#[test]
fn a_hundred_thousand_data_entries_all_load() {
    let entries: String = (0..100_000)
        .map(|i| format!("e{i}:\n  name: E{i}\n  v: {i} s\n  source: test\n"))
        .collect();
    let book = TestBook::new(&[
        ("src/SUMMARY.md", SUMMARY),
        (
            "src/one.md",
            "# One\n\n```calc\nclaim \"the last entry loaded\": facts.e99999.v ≈ 99999 s\n```\n",
        ),
        ("data/facts.yaml", &entries),
    ]);
    check(&book)
        .assert_code(0)
        .assert_stderr_contains("1 claim (1 holds");
}

#[test]
fn a_fifty_megabyte_chapter_stops_with_a_clean_error_at_the_default_limit() {
    let book = simple_book();
    let line = "Prose with *emphasis* and `code`.\n\n";
    book.write("src/one.md", &line.repeat(50_000_000 / line.len()));
    check(&book)
        .assert_code(1)
        .assert_stderr_contains("larger than 33554432 bytes");
}

#[test]
fn a_data_entry_with_an_empty_key_does_not_hang_the_locator() {
    // Found by the whole-book fuzzer: `!!binary : ` is a mapping with an empty key.
    let book = simple_book();
    book.write("data/a.yaml", "!!binary : ");
    // `check` returns (its helper kills a hang), and the odd entry is reported at its line.
    let run = check(&book);
    assert!(run.stderr.contains("data/a.yaml:1:"), "{}", run.stderr);
}
