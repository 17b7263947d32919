//! Cost of an engine call inside a chart sweep: 100,000 compiled evaluations of
//! `decode(models.deepseek_v3, systems.gb200_nvl72, batch=b, …).step_time` against the bundled
//! `data/*.yaml` (issue #12's target: at least 3x faster than re-decoding the model and chip
//! records at every point).

use std::path::Path;

use calcbook::Sources;
use calcbook::calc::{Dim, Scope};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

/// A scope with the engine and the bundled data, as a chapter's prelude has them.
fn book_scope() -> Scope {
    let mut scope = Scope::new();
    calcbook::engine::bindings::register(&mut scope);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = Sources::new();
    let (mut files, diags) = calcbook::notebook::data::load(
        &root.join("data"),
        Path::new("data"),
        &mut scope,
        &mut sources,
    );
    assert!(diags.is_empty(), "{diags:?}");
    let diags = calcbook::engine::link::link_records(&mut scope, &mut files, &sources);
    assert!(diags.is_empty(), "{diags:?}");
    scope
}

fn sweep(c: &mut Criterion) {
    let scope = book_scope();
    let compiled = scope
        .compile(
            "decode(models.deepseek_v3, systems.gb200_nvl72, batch=b, context=4096).step_time",
            "b",
            &Dim::none(),
        )
        .expect("compiles");
    c.bench_function("100k decode() sweep points", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for i in 0..100_000 {
                acc += compiled.eval(black_box(1.0 + i as f64)).unwrap_or(0.0);
            }
            acc
        })
    });
}

criterion_group!(benches, sweep);
criterion_main!(benches);
