//! One small calc source per error case under `tests/calc_errors/`, each run as a block in a fresh
//! scope with its diagnostics rendered as the terminal shows them and snapshot with insta.

use calcbook::calc::Scope;
use calcbook::diagnostic::{Sources, render};

#[test]
fn every_error_case_renders_as_its_snapshot() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/calc_errors");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/calc_errors exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "calc"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    for path in cases {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let src = std::fs::read_to_string(&path).unwrap();
        let mut scope = Scope::new();
        let out = scope.run_block(&src);
        assert!(!out.diagnostics.is_empty(), "{name} produced no diagnostic");
        let diags: Vec<_> = out
            .diagnostics
            .into_iter()
            .map(|d| d.with_file(&name))
            .collect();
        let mut sources = Sources::new();
        sources.insert(&name, src.as_str());
        let rendered = render(&diags, &sources, false);
        insta::with_settings!({
            snapshot_path => "calc_errors/snapshots",
            prepend_module_to_snapshot => false,
            description => src.as_str(),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name.trim_end_matches(".calc"), rendered);
        });
    }
}
