//! The bundled explainer, checked end to end: every claim holds, and changing one figure in a
//! copy's `data/` breaks exactly the claims that depend on it.

use crate::common;

use std::path::Path;

fn copy_book() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in walkdir::WalkDir::new(repo.join("chapters"))
        .into_iter()
        .chain(walkdir::WalkDir::new(repo.join("data")))
        .flatten()
    {
        let rel = entry.path().strip_prefix(repo).unwrap();
        let to = dir.path().join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
    std::fs::copy(repo.join("book.toml"), dir.path().join("book.toml")).unwrap();
    dir
}

fn check(dir: &Path) -> (i32, serde_json::Value) {
    let out = common::calcbook()
        .args(["check", "--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).expect("JSON report");
    (out.status.code().unwrap_or(-1), doc)
}

#[test]
fn the_bundled_book_checks_clean() {
    let dir = copy_book();
    let (code, doc) = check(dir.path());
    assert_eq!(doc["summary"]["errors"], 0, "{:#}", doc["diagnostics"]);
    assert_eq!(doc["summary"]["warnings"], 0, "{:#}", doc["diagnostics"]);
    assert_eq!(doc["summary"]["failing"], 0);
    assert!(doc["summary"]["claims"].as_u64().unwrap() >= 40);
    assert_eq!(code, 0);
}

#[test]
fn changing_h100_bandwidth_breaks_only_claims_about_the_h100() {
    let dir = copy_book();
    let hardware = dir.path().join("data/hardware.yaml");
    let text = std::fs::read_to_string(&hardware).unwrap();
    let changed = text.replace(
        "hbm: {capacity: 80 GB, bandwidth: 3.35 TB/s}",
        "hbm: {capacity: 80 GB, bandwidth: 4 TB/s}",
    );
    assert_ne!(text, changed, "the H100 entry moved; update this test");
    std::fs::write(&hardware, changed).unwrap();
    let (code, doc) = check(dir.path());
    assert_eq!(code, 1);
    let failing: Vec<&serde_json::Value> = doc["claims"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["holds"] == false)
        .collect();
    assert!(!failing.is_empty(), "a claim about the H100 should fail");
    for claim in failing {
        assert!(
            claim["words"].as_str().unwrap().contains("H100"),
            "a claim that is not about the H100 failed: {claim:#}"
        );
    }
}
