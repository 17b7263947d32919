//! The search index of the bundled book: everything a reader looks for is in it (claims and their
//! verdicts, calc results as displayed, data entries by name), and a query finds the variants of
//! its words. `find` follows the search box's rule (calcbook.js `rank`): every query word's stem is
//! a word of the section's heading, page title or text, or the word as typed is inside the text.

use crate::common;

use calcbook::render::search::{stem, tokens};
use std::path::Path;
use std::sync::OnceLock;

/// The bundled book, built once for the tests that read its pages.
pub fn bundled_site() -> &'static Path {
    static SITE: OnceLock<tempfile::TempDir> = OnceLock::new();
    SITE.get_or_init(|| {
        let out = tempfile::tempdir().unwrap();
        let status = common::calcbook()
            .arg("build")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")))
            .arg("-d")
            .arg(out.path())
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        out
    })
    .path()
}

fn index() -> &'static Vec<serde_json::Value> {
    static INDEX: OnceLock<Vec<serde_json::Value>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let js = std::fs::read_to_string(bundled_site().join("searchindex.js")).unwrap();
        let json = &js[js.find('{').unwrap()..=js.rfind('}').unwrap()];
        let doc: serde_json::Value = serde_json::from_str(json).unwrap();
        doc["docs"].as_array().unwrap().clone()
    })
}

fn field<'a>(d: &'a serde_json::Value, name: &str) -> &'a str {
    d[name].as_str().unwrap_or("")
}

/// The sections the search box shows for `query`, as (page, heading, text).
fn find(query: &str) -> Vec<(String, String, String)> {
    let words = tokens(query);
    index()
        .iter()
        .filter(|d| {
            let page = format!(
                " {} ",
                tokens(field(d, "p"))
                    .iter()
                    .map(|t| stem(t))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            words.iter().all(|w| {
                let s = format!(" {} ", stem(w));
                field(d, "hs").contains(&s)
                    || field(d, "bs").contains(&s)
                    || page.contains(&s)
                    || field(d, "b").to_lowercase().contains(w.as_str())
            })
        })
        .map(|d| {
            (
                field(d, "p").into(),
                field(d, "h").into(),
                field(d, "b").into(),
            )
        })
        .collect()
}

#[test]
fn a_claims_words_and_its_verdict_are_found_on_the_chapter_and_the_ledger() {
    let hits = find("doubles the FLOP rate and halves the bytes");
    assert!(
        hits.iter().any(|(p, _, _)| p == "Claims ledger"),
        "{hits:?}"
    );
    assert!(
        hits.iter().any(|(p, _, _)| p != "Claims ledger"),
        "{hits:?}"
    );
    let refuted = find("refuted");
    assert!(
        refuted.iter().any(|(_, _, b)| b.contains("✓ refuted")),
        "{refuted:?}"
    );
}

#[test]
fn a_data_entry_is_found_by_its_name_on_the_data_sources_page() {
    let hits = find("NVIDIA A100 SXM");
    assert!(
        hits.iter()
            .any(|(p, h, _)| p == "Data sources" && h.contains("NVIDIA A100 SXM")),
        "{hits:?}"
    );
}

#[test]
fn a_calc_result_is_found_as_displayed() {
    let hits = find("3.35");
    assert!(
        hits.iter().any(|(_, _, b)| b.contains("3.35 TB/s")),
        "{hits:?}"
    );
    // Figures are referred to as the reader sees them, not as `@fig:…` (except where the
    // reference chapter shows the syntax itself, in code).
    let prose = find("shows both regimes");
    assert!(
        prose
            .iter()
            .any(|(_, _, b)| b.contains("Figure 1 shows both regimes")),
        "{prose:?}"
    );
    assert!(
        index()
            .iter()
            .all(|d| field(d, "p") == "How this book works" || !field(d, "b").contains("@fig:"))
    );
}

#[test]
fn a_stemmed_query_finds_the_variants_of_its_word() {
    let hits = find("batching");
    let literal = hits
        .iter()
        .filter(|(_, h, b)| (h.clone() + b).to_lowercase().contains("batching"))
        .count();
    assert!(hits.len() > literal, "only literal matches: {hits:?}");
    assert!(
        hits.iter()
            .any(|(_, _, b)| b.contains("batches") || b.contains("batched")),
        "{hits:?}"
    );
}
