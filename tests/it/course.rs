//! The bundled book as a course: its hand-drawn diagrams follow the reader's colour theme and are
//! inlined into the page, and every numbered chapter ends with worked problems whose answers are
//! folded calculations.

use crate::common;

use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn diagrams() -> Vec<(PathBuf, String)> {
    let dir = repo().join("chapters/diagrams");
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    found.sort();
    found
}

/// A colour written as a literal (`#fff`, `black`, `rgb(…)`) does not change with the theme; the
/// diagrams must draw with `currentColor` and the theme's CSS variables only.
fn literal_colours(svg: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for attr in ["fill", "stroke", "stop-color", "color"] {
        for quote in ['"', '\''] {
            let needle = format!("{attr}={quote}");
            let mut rest = svg;
            while let Some(i) = rest.find(&needle) {
                rest = &rest[i + needle.len()..];
                let value: String = rest.chars().take_while(|c| *c != quote).collect();
                let ok = value == "none"
                    || value == "currentColor"
                    || value == "inherit"
                    || value.starts_with("url(#")
                    || value.starts_with("var(--");
                if !ok {
                    bad.push(format!("{attr}={value}"));
                }
            }
        }
    }
    for (i, _) in svg.match_indices('#') {
        let hex: String = svg[i + 1..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        let after = svg[i + 1 + hex.len()..].chars().next();
        let in_url = svg[..i].ends_with("url(");
        if !in_url && (hex.len() == 3 || hex.len() == 6) && after != Some('-') {
            bad.push(format!("#{hex}"));
        }
    }
    bad
}

#[test]
fn diagrams_use_only_theme_colours_and_are_labelled() {
    let found = diagrams();
    assert!(
        found.len() >= 3,
        "expected the book's diagrams, found {}",
        found.len()
    );
    for (path, svg) in &found {
        let name = path.display();
        assert_eq!(
            literal_colours(svg),
            Vec::<String>::new(),
            "{name} has fixed colours"
        );
        assert!(
            svg.contains("currentColor"),
            "{name} never uses currentColor"
        );
        assert!(
            svg.contains("<title") && svg.contains("<desc"),
            "{name} needs a title and a description"
        );
        // The print page renames every id per chapter but not `url(#id)` references, so a diagram
        // draws its arrowheads and fills itself instead of pointing at markers or patterns.
        assert!(
            !svg.contains("url(#"),
            "{name} refers to an id with url(#…)"
        );
        // A blank line would end the Markdown HTML block the diagram is included into.
        assert!(!svg.contains("\n\n"), "{name} has a blank line");
        let view_box = svg
            .split("viewBox=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let width: f64 = view_box.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert!(
            width <= 400.0,
            "{name} is drawn {width} units wide: too small to read at 390 px"
        );
    }
}

#[test]
fn a_literal_colour_is_caught() {
    let bad = literal_colours(
        r##"<rect fill="#1d2126" style="stroke:var(--fg)"/><path stroke="black"/>"##,
    );
    assert_eq!(bad, ["fill=#1d2126", "stroke=black", "#1d2126"]);
    assert!(literal_colours(r##"<rect fill="url(#dg-hatch)" stroke="currentColor"/>"##).is_empty());
}

#[test]
fn every_numbered_chapter_ends_with_folded_problems() {
    let summary = std::fs::read_to_string(repo().join("chapters/SUMMARY.md")).unwrap();
    let chapters: Vec<&str> = summary
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("- ["))
        .filter_map(|l| l.split("](").nth(1)?.strip_suffix(')'))
        .collect();
    assert!(chapters.len() >= 8, "{chapters:?}");
    for chapter in chapters.iter().copied().chain(["basics.md"]) {
        let text = std::fs::read_to_string(repo().join("chapters").join(chapter)).unwrap();
        let problems = text
            .split("\n## Problems\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{chapter} has no Problems section"));
        assert!(
            !problems.contains("\n## "),
            "{chapter}: Problems is not the last section"
        );
        let answers = problems
            .matches("<details class=\"calc-details problem\">")
            .count();
        assert!(answers >= 2, "{chapter} has {answers} folded answers");
        assert_eq!(
            problems.matches("```calc").count(),
            answers,
            "{chapter}: every answer is computed in one calc block"
        );
    }
}

#[test]
fn the_first_chapter_inlines_its_diagrams_into_the_page() {
    let out = tempfile::tempdir().unwrap();
    let status = common::calcbook()
        .arg("build")
        .arg(repo())
        .arg("-d")
        .arg(out.path().join("book"))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let page = std::fs::read_to_string(out.path().join("book/basics.html")).unwrap();
    // Inlined, not <img>: only an inline SVG inherits the page's colours.
    assert_eq!(page.matches("<svg class=\"diagram-svg\"").count(), 3);
    assert!(!page.contains("{{#include"));
}
