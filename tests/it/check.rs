//! End-to-end tests of `calcbook check`: exit codes, every report format, and that a change to one
//! figure in `data/` fails exactly the claims that depend on it.

use crate::{common, json_schema};

use common::TestBook;

const DATA: &str = "a:\n  name: Chip A\n  hbm: {capacity: 80 GB, bandwidth: 3.35 TB/s}\n  source: https://example.com/a\nb:\n  name: Chip B\n  hbm: {capacity: 192 GB, bandwidth: 8 TB/s}\n  source: https://example.com/b\n";

const CHAPTER: &str = r#"# Drain

```calc
drain_a = chips.a.hbm.capacity / chips.a.hbm.bandwidth
drain_b = chips.b.hbm.capacity / chips.b.hbm.bandwidth
```

```calc
claim "Chip A drains its HBM in about 24 ms":
    drain_a ≈ 24 ms ± 5%
claim "Chip B drains its HBM in about 24 ms":
    drain_b ≈ 24 ms ± 5%
refute "Chip B drains in under 10 ms":
    drain_b < 10 ms
```
"#;

fn book() -> TestBook {
    TestBook::new(&[
        ("src/SUMMARY.md", "- [Drain](drain.md)\n"),
        ("src/drain.md", CHAPTER),
        ("data/chips.yaml", DATA),
    ])
}

#[test]
fn a_book_whose_claims_hold_passes_and_writes_nothing() {
    let book = book();
    let run = book.run(&["check"]);
    run.assert_code(0)
        .assert_stdout_contains("check ok: 3 claims (3 hold, 0 fail), 0 errors, 0 warnings");
    assert!(!book.root().join("book").exists(), "check writes nothing");
}

/// Doubling chip A's bandwidth halves its drain time: the claim about A fails, B's claims hold.
fn break_chip_a(book: &TestBook) {
    book.write("data/chips.yaml", &DATA.replace("3.35 TB/s", "6.7 TB/s"));
}

#[test]
fn changing_one_figure_fails_exactly_the_dependent_claim_in_text() {
    let book = book();
    break_chip_a(&book);
    let run = book.run(&["check"]);
    run.assert_code(1)
        .assert_stdout_contains("check FAILED: 3 claims (2 hold, 1 fails)");
    let fail_line = run
        .stdout
        .lines()
        .find(|l| l.contains("FAIL"))
        .expect("a failing row");
    assert!(fail_line.contains("src/drain.md:9"), "{fail_line}");
    assert!(fail_line.contains("Chip A drains"), "{fail_line}");
    // 80 GB / 6.7 TB/s = 11.9 ms against 24 ms.
    assert!(fail_line.contains("11.9 ms ≈ 24 ms"), "{fail_line}");
    assert_eq!(run.stdout.matches("FAIL ").count(), 1);
}

#[test]
fn json_report_validates_against_its_schema() {
    let book = book();
    break_chip_a(&book);
    let run = book.run(&["check", "--format", "json"]);
    run.assert_code(1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    let errors = json_schema::violations(&json_schema::check_report_schema(), &doc);
    assert!(errors.is_empty(), "{errors:?}");
    let claims = doc["claims"].as_array().unwrap();
    let failing: Vec<_> = claims.iter().filter(|c| c["holds"] == false).collect();
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0]["file"], "src/drain.md");
    assert_eq!(failing[0]["line"], 9);
    assert_eq!(doc["summary"]["failing"], 1);
    assert_eq!(doc["ok"], false);
}

#[test]
fn junit_report_parses_with_one_case_per_claim() {
    let book = book();
    break_chip_a(&book);
    let run = book.run(&["check", "--format", "junit"]);
    run.assert_code(1);
    let doc = roxmltree::Document::parse(&run.stdout).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("failures"), Some("1"));
    let suite = root
        .children()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("name"), Some("Drain"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 3);
    let failed: Vec<_> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attribute("line"), Some("9"));
    assert_eq!(failed[0].attribute("file"), Some("src/drain.md"));
}

#[test]
fn github_report_annotates_the_failing_claim() {
    let book = book();
    break_chip_a(&book);
    let run = book.run(&["check", "--format", "github"]);
    run.assert_code(1);
    let annotations: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(annotations.len(), 1, "{}", run.stdout);
    assert!(
        annotations[0].starts_with("::error file=src/drain.md,line=9,col=1,"),
        "{}",
        annotations[0]
    );
    assert!(run.stdout.contains("check FAILED"));
}

#[test]
fn errors_fail_check_in_every_format_with_their_location() {
    let book = book();
    book.write(
        "src/drain.md",
        &format!("{CHAPTER}\n```calc\nbad = 1 s + 1 B\n```\n"),
    );
    for format in ["text", "json", "junit", "github"] {
        let run = book.run(&["check", "--format", format]);
        run.assert_code(1);
        assert!(
            run.stdout.contains("drain.md") && run.stdout.contains("18"),
            "{format}: {}",
            run.stdout
        );
    }
}

#[test]
fn warnings_pass_unless_denied() {
    let book = book();
    book.write("src/orphan.md", "# Not listed\n");
    book.run(&["check"])
        .assert_code(0)
        .assert_stdout_contains("1 warning");
    book.run(&["check", "--deny-warnings"])
        .assert_code(1)
        .assert_stdout_contains("warnings denied");
}

#[test]
fn bad_usage_exits_2() {
    let book = book();
    book.run(&["check", "--format", "yaml"]).assert_code(2);
}

/// A diagnostic's code reaches `check --json` as its stable kebab-case name (the codes are a
/// typed enum inside, #12), with the schema unchanged.
#[test]
fn json_report_names_each_diagnostic_by_its_kebab_case_code() {
    let book = book();
    book.write(
        "src/drain.md",
        &format!("{CHAPTER}\n```calc\nt = drain_a + 1 GB\nu = drian_b\n```\n"),
    );
    let run = book.run(&["check", "--format", "json"]);
    run.assert_code(1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    let errors = json_schema::violations(&json_schema::check_report_schema(), &doc);
    assert!(errors.is_empty(), "{errors:?}");
    let codes: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["dimension-mismatch", "unknown-name"]);
}
