//! Output into a closed pipe (`calcbook check | head -1`): the command ends quietly, as other
//! command-line tools do, instead of panicking in `println!`.

use std::io::Read;
use std::process::Stdio;

use crate::common::{TestBook, calcbook};

/// Runs calcbook with `args` after closing the reading end of its standard output; returns its
/// exit code (none when a signal ended it) and what it wrote to standard error.
fn into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let mut child = calcbook()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start calcbook");
    // Nobody will read what it prints.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    (status.code(), stderr)
}

fn claims_book() -> TestBook {
    let mut chapter = String::from("# Claims\n\n```calc\nx = 2 m\n");
    for i in 0..200 {
        chapter.push_str(&format!("claim \"Claim {i} holds\":\n    x > 1 m\n"));
    }
    chapter.push_str("```\n");
    TestBook::new(&[
        ("src/SUMMARY.md", "- [Claims](claims.md)\n"),
        ("src/claims.md", &chapter),
    ])
}

#[test]
fn check_eval_and_completions_into_a_closed_pipe_exit_without_a_panic() {
    let book = claims_book();
    let root = book.root().to_str().unwrap();
    for args in [
        vec!["check", root],
        vec!["check", root, "--format", "json"],
        vec!["eval", root, "2 m + 3 m"],
        vec!["completions", "bash"],
    ] {
        let (code, stderr) = into_closed_pipe(&args);
        assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
        assert_ne!(code, Some(101), "{args:?} failed like a panic:\n{stderr}");
    }
}
