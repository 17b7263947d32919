//! Fuzzing in the test suite: token soup and mutated valid programs go through every entry point
//! of the calc language (blocks, inline values, compiled sweeps, data quantities, highlighting);
//! nothing may panic and everything must terminate. 256 cases by default; `PROPTEST_CASES` raises
//! it for long runs (`PROPTEST_CASES=1000000 cargo test --release --test calc_fuzz`).

use std::sync::Arc;

use calcbook::calc::{ArgType, Dim, Param, Returns, Scope, Value, highlight_html, parse_quantity};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

const TOKENS: &[&str] = &[
    "x",
    "y",
    "=",
    "1",
    "2.5",
    "0",
    "8",
    "1e308",
    "1e-320",
    "TB/s",
    "s",
    "ms",
    "µs",
    "GiB",
    "Mtok",
    "$",
    "%",
    "10%",
    "+",
    "-",
    "*",
    "/",
    "^",
    "**",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    "..",
    ":",
    "fn",
    "f",
    "g",
    "claim",
    "\"w\"",
    "refute",
    "unit",
    "dimension",
    "if",
    "then",
    "else",
    "and",
    "or",
    "not",
    "in",
    "≈",
    "~=",
    "±",
    "+/-",
    "<",
    "<=",
    "==",
    "!=",
    ">=",
    "#c",
    "\n",
    "\n  ",
    "\n\n",
    "f(x)",
    "g(x, b=2)",
    "max",
    "min",
    "sum",
    "len",
    "range",
    "map",
    "sqrt",
    "log",
    "true",
    "false",
    "to 3 digits",
    "\"",
    "@",
    "é",
    "\t",
    "hw",
    "hw.flops",
    "decode",
    "decode(x)",
    "decode(x, batch=4).time",
    "1..3",
    "[1, 2]",
    "xs[0]",
    "zz",
];

const CORPUS: &[&str] = &[
    "bw = 8 TB/s\nt = 80 GB / bw\nt in ms\nclaim \"fast\": t < 20 ms",
    "fn cost(tokens, price=$2/Mtok) = tokens * price\ncost(1e6 tokens)\ncost(3 Mtok, price=$1/Mtok) in $",
    "ridge = hw.flops / hw.bw\nclaim \"ridge\":\n    ridge ≈ 300 FLOP/B ± 10%\nrefute \"tiny\": ridge < 1 FLOP/B",
    "dimension eur\nunit EUR: eur\nunit kEUR = 1000 EUR\nx = 3 kEUR\nx in EUR to 4 digits",
    "fn fact(n) = if n <= 1 then 1 else n * fact(n - 1)\nfact(20)\nxs = range(1, 10)\nsum(xs) + len(xs)",
    "r = {a: 1 s, b: [1, 2, 3]}\nr.b[2] * r.a\nmap(r.b, sqrt)\nmax(r.b) * 1 token in tokens",
    "d = decode(64 tokens, batch=8)\nd.time in us\nclaim \"d\": d.time ~= 1 ms +/- 5%",
];

fn scope() -> Scope {
    let mut s = Scope::new();
    s.step_limit = 200_000;
    s.set(
        "hw",
        Value::record([
            (
                "flops",
                Value::quantity(2.25e15, Dim::flop().div(&Dim::time()).unwrap()),
            ),
            (
                "bw",
                Value::quantity(8e12, Dim::information().div(&Dim::time()).unwrap()),
            ),
        ]),
    );
    s.register_native(
        "decode",
        &[
            Param::required("x"),
            Param::optional("batch", Value::number(1.0)).accepting(ArgType::number()),
        ],
        Returns::Record(vec![("time".into(), Returns::Quantity(Dim::time()))]),
        Arc::new(|args: &[Value]| {
            let b = args[1].as_number().ok_or("batch must be a number")?;
            if b <= 0.0 {
                return Err("batch must be positive".to_string());
            }
            Ok(Value::record([(
                "time",
                Value::quantity(args[0].as_si().unwrap_or(1.0) * 1e-6 / b, Dim::time()),
            )]))
        }),
    );
    s
}

/// Runs one input through every entry point.
fn exercise(src: &str) {
    let mut s = scope();
    let _ = s.run_block(src);
    let _ = s.run_block(src);
    let _ = s.eval_inline(src);
    let _ = highlight_html(src);
    let _ = parse_quantity(src, s.registry());
    let _ = s.clone().run_block_atomic(src);
    for dim in [Dim::time(), Dim::none()] {
        if let Ok(c) = s.compile(src, "x", &dim) {
            for x in [0.0, 1.0, -3.5, 1e300, f64::NAN] {
                let _ = c.eval(x);
            }
            let _ = c.format(1.0);
        }
    }
}

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec((0..TOKENS.len(), prop::bool::ANY), 0..40).prop_map(|toks| {
        let mut s = String::new();
        for (i, spaced) in toks {
            s.push_str(TOKENS[i]);
            if spaced {
                s.push(' ');
            }
        }
        s
    })
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0usize..12).prop_map(|(p, n)| Edit::Delete(p, n)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(p, t)| Edit::Insert(p, t)),
        (any::<usize>(), 0usize..30).prop_map(|(p, n)| Edit::Duplicate(p, n)),
    ]
}

fn boundary(s: &str, p: usize) -> usize {
    let mut p = if s.is_empty() { 0 } else { p % (s.len() + 1) };
    while !s.is_char_boundary(p) {
        p -= 1;
    }
    p
}

fn mutated() -> impl Strategy<Value = String> {
    (0..CORPUS.len(), prop::collection::vec(edit(), 1..6)).prop_map(|(i, edits)| {
        let mut s = CORPUS[i].to_string();
        for e in edits {
            match e {
                Edit::Delete(p, n) => {
                    let a = boundary(&s, p);
                    let b = boundary(&s, (a + n).min(s.len()));
                    if b > a {
                        s.replace_range(a..b, "");
                    }
                }
                Edit::Insert(p, t) => {
                    let a = boundary(&s, p);
                    s.insert_str(a, TOKENS[t]);
                }
                Edit::Duplicate(p, n) => {
                    let a = boundary(&s, p);
                    let b = boundary(&s, (a + n).min(s.len()));
                    let piece = s[a..b].to_string();
                    s.insert_str(b, &piece);
                }
            }
        }
        s
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn token_soup_never_panics(src in soup()) {
        exercise(&src);
    }

    #[test]
    fn mutated_programs_never_panic(src in mutated()) {
        exercise(&src);
    }

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,60}") {
        exercise(&src);
    }
}

#[test]
fn the_corpus_itself_runs_cleanly() {
    for src in CORPUS {
        let mut s = scope();
        let out = s.run_block(src);
        assert!(out.diagnostics.is_empty(), "{src}: {:?}", out.diagnostics);
    }
}

#[test]
fn pathological_inputs_terminate() {
    let cases = [
        "(".repeat(100_000),
        "-".repeat(100_000) + "1",
        vec!["1"; 50_000].join("+"),
        "[".repeat(50_000),
        "fn f(x) = f(x) + f(x)\nf(1)".to_string(),
        "fn f(x) = g(x)\nfn g(x) = f(x)".to_string(),
        "xs = range(1, 100000)\nys = map(xs, sqrt)\nsum(ys)".to_string(),
        "x = \"a\"\nfn d(s, n) = if n < 1 then s else d(s + s, n - 1)\nd(x, 40)".to_string(),
        "fn p(x) = x * x\nfn q(x) = p(p(p(p(p(p(p(p(x))))))))\nq(q(q(q(2 s))))".to_string(),
        "1 s ^ 1e9".to_string(),
        "fn e(x) = x * x\ne(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(e(2 s))))))))))))))))))))))))))))))))".to_string(),
    ];
    for src in &cases {
        exercise(src);
    }
    // The same recursion swept: inlining stops at its limit.
    let mut s = scope();
    s.run_block("fn f(x) = if x < 1 then x else f(x / 2) + f(x / 3)");
    assert!(s.compile("f(x)", "x", &Dim::none()).is_err());
}
