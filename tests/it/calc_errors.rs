//! One small calc source per error case under `tests/it/calc_errors/`, each run as a block in a
//! fresh scope with its diagnostics rendered as the terminal shows them and snapshot with insta
//! (`insta::glob!` runs every case and reports every failing one, not just the first).

use calcbook::calc::Scope;
use calcbook::diagnostic::{Sources, render};

#[test]
fn every_error_case_renders_as_its_snapshot() {
    insta::glob!("calc_errors/*.calc", |path| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let src = std::fs::read_to_string(path).unwrap();
        let mut scope = Scope::new();
        // Small enough that the step-limit case stops at once.
        scope.step_limit = 100_000;
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
            insta::assert_snapshot!(rendered);
        });
    });
}
