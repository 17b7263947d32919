//! `calcbook init`: writes a small starter book that builds: an introduction, a chapter of
//! calculations with a claim and a chart, and a chapter that reads an example data file.

use crate::diagnostic::Code;
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
- [Using data](data.md)
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

const DATA: &str = r#"# Figures the chapters use. Each entry becomes a record: `appliances.kettle.power`.
# Any fields will do; strings that read as quantities (`2.2 kW`) become quantities.
kettle:
  title: Electric kettle
  power: 2.2 kW
  use_per_day: 10 min
  source: https://example.com/kettle-datasheet
fridge:
  title: Fridge-freezer
  power: 60 W
  use_per_day: 24 hours
  source: https://example.com/fridge-datasheet
"#;

const DATA_CHAPTER: &str = r#"# Using data

The figures in `data/appliances.yaml` are records in every chapter, with their units:

```calc
kettle = appliances.kettle
daily = kettle.power * kettle.use_per_day
daily in Wh
yearly = daily * 365
price = 0.30 $/kWh
yearly * price
claim "The kettle uses less than 200 kWh a year": yearly < 200 kWh
```

@tbl:appliances compares the two, and the *Data sources* page lists where each figure came from.

```table
id: appliances
caption: Energy use per appliance.
rows: [appliances.kettle, appliances.fridge]
columns:
  Appliance: row.title
  Power: row.power
  Per year: "row.power * row.use_per_day * 365 in kWh"
```

Run `calcbook eval --chapter src/data.md 'yearly * price'` to see a value without building.
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
            Code::BookExists,
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
        ("src/data.md", DATA_CHAPTER),
        ("data/appliances.yaml", DATA),
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
                Code::InitFailed,
                format!("cannot write {}: {e}", path.display()),
            ));
        }
        written.push(rel.to_string());
    }
    Ok(written)
}
