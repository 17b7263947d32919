//! Guards the speed of compiled sweeps: 100,000 evaluations of an expression of about twenty
//! operations with user function calls and unit conversions (target: under 20 ms in release).

use calcbook::calc::{Dim, Scope};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn sweep(c: &mut Criterion) {
    let mut scope = Scope::new();
    let out = scope.run_block(
        "fn step_time(b, flops=989 TFLOP/s, bw=3.35 TB/s, weights=140 GB, kv=320 kB/token, ctx=4096) =\n\
         \x20   max(2 * 70e9 FLOP/token * b / flops, (weights + b * kv * ctx) / bw)\n\
         fn cost(b, price=$2.00/hour) = price * step_time(b) / b\n",
    );
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let compiled = scope
        .compile(
            "cost(batch) * 1.1 + $0.10/Mtok * (1 - 1 / sqrt(batch / (1 token))) in $/Mtok",
            "batch",
            &Dim::token(),
        )
        .expect("compiles");
    c.bench_function("100k compiled evaluations", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for i in 0..100_000 {
                acc += compiled.eval(black_box(1.0 + i as f64)).unwrap_or(0.0);
            }
            acc
        })
    });
    c.bench_function("compile", |b| {
        b.iter(|| {
            scope
                .compile(black_box("cost(batch) in $/Mtok"), "batch", &Dim::token())
                .is_ok()
        })
    });
    c.bench_function("run a 10-line block", |b| {
        b.iter(|| {
            let mut s = scope.clone();
            s.run_block(black_box(
                "a = 8 TB/s\nb = 80 GB / a\nc = b in ms\nd = cost(64 tokens)\ne = d in $/Mtok\n\
                 claim \"x\": b < 20 ms\nf = [1, 2, 3]\ng = sum(f)\nh = max(f) * 2\ni = step_time(1 token)",
            ))
            .statements
            .len()
        })
    });
}

criterion_group!(benches, sweep);
criterion_main!(benches);
