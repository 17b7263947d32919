//! `calcbook init`: writes a small starter book that builds.

use std::path::Path;

use crate::diagnostic::Diagnostic;

const BOOK_TOML: &str = r#"[book]
title = "My calcbook"
authors = []
description = "A literate notebook"
language = "en"
src = "src"
"#;

const SUMMARY: &str = r#"# Summary

[Introduction](intro.md)

- [A first calculation](first.md)
"#;

const INTRO: &str = r#"# Introduction

This book was started with `calcbook init`. Edit the Markdown files in `src/`, list new chapters
in `src/SUMMARY.md`, and run `calcbook serve` to see the result update as you type.

Continue with [a first calculation](first.md#a-first-calculation).
"#;

const FIRST: &str = r#"# A first calculation

Fenced `calc` blocks are evaluated when the book is built; values carry units.

```calc
bandwidth = 3.35 TB/s
weights = 140 GB
read_time = weights / bandwidth
read_time in ms
```

Reading every weight once takes `= read_time in ms`.

```calc
claim "Reading 140 GB at 3.35 TB/s takes about 42 ms":
    read_time ≈ 42 ms ± 5%
```

@fig:read-time shows how the read time grows with the size of the weights.

```chart
id: read-time
title: Time to read the weights once
caption: At 3.35 TB/s, every 10 GB of weights costs about 3 ms per step.
x: { var: size, from: 1 GB, to: 1 TB, scale: log, unit: GB, label: Weights }
y: { unit: ms, scale: log, label: Read time }
series:
  - { label: read time, y: size / bandwidth }
marks:
  - { x: weights, label: "140 GB" }
```
"#;

/// Creates a starter book in `dir` (which may exist but must not already hold a book).
pub fn init(dir: &Path) -> Result<Vec<String>, Diagnostic> {
    init_with(dir, None, false)
}

/// As [`init`], with mdBook's `--title` and `--ignore git` (a `.gitignore` holding `book`).
pub fn init_with(
    dir: &Path,
    title: Option<&str>,
    ignore_git: bool,
) -> Result<Vec<String>, Diagnostic> {
    if dir.join("book.toml").exists() {
        return Err(Diagnostic::error(
            "book-exists",
            format!("{} already holds a book.toml", dir.display()),
        )
        .with_help("choose an empty folder, or edit the existing book"));
    }
    let book_toml = match title {
        Some(t) => BOOK_TOML.replace(
            "title = \"My calcbook\"",
            &format!("title = {}", toml::Value::String(t.to_string())),
        ),
        None => BOOK_TOML.to_string(),
    };
    let mut files = vec![
        ("book.toml", book_toml.as_str()),
        ("src/SUMMARY.md", SUMMARY),
        ("src/intro.md", INTRO),
        ("src/first.md", FIRST),
    ];
    if ignore_git {
        files.push((".gitignore", "book\n"));
    }
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(rel);
        if path.exists() {
            continue;
        }
        let result = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        if let Err(e) = result {
            return Err(Diagnostic::error(
                "init-failed",
                format!("cannot write {}: {e}", path.display()),
            ));
        }
        written.push(rel.to_string());
    }
    Ok(written)
}
