//! Property tests of the calc language: unit conversions round-trip, and the compile-time
//! dimension checker agrees with evaluation, native functions with declared argument types
//! included. `PROPTEST_CASES` raises the case count.

use std::sync::Arc;

use calcbook::calc::{ArgType, Dim, Param, Registry, Returns, Scope, Value, parse_quantity};
use calcbook::diagnostic::Code;
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

const GROUPS: &[&[&str]] = &[
    &[
        "s", "ms", "us", "µs", "ns", "min", "hour", "h", "day", "week", "year",
    ],
    &[
        "B", "kB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "bit", "b", "Gb", "byte",
    ],
    &["B/s", "GB/s", "TB/s", "Gb/s", "MiB/s", "B/ms"],
    &["FLOP/s", "TFLOP/s", "PFLOP/s", "GFLOPs/ms"],
    &["$/Mtok", "$/token", "$/ktok", "USD/Mtok"],
    &["J", "kJ", "Wh", "kWh", "W*h", "kW*s"],
    &["$/hour", "$/s", "$/day", "USD/min"],
];

fn unit_pair() -> impl Strategy<Value = (&'static str, &'static str)> {
    (0..GROUPS.len()).prop_flat_map(|g| {
        let units = GROUPS[g];
        (0..units.len(), 0..units.len()).prop_map(move |(a, b)| (units[a], units[b]))
    })
}

/// Expressions over a swept `x` (a time) mixing dimensions, so some are ill-typed: arithmetic,
/// powers, user functions with defaults, aggregates, conversions and calls of a native function
/// whose parameters declare their types (some arguments of the wrong dimension or string).
fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_string()),
        Just("2 s".to_string()),
        Just("3 ms".to_string()),
        Just("5".to_string()),
        Just("1.5".to_string()),
        Just("8 TB/s".to_string()),
        Just("4 GB".to_string()),
        Just("$2/hour".to_string()),
        Just("7 tokens".to_string()),
        Just("k".to_string()),
    ];
    leaf.prop_recursive(5, 40, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} - {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} * {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} / {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("max({a}, {b})")),
            inner.clone().prop_map(|a| format!("abs({a})")),
            inner.clone().prop_map(|a| format!("sqrt(abs({a}))")),
            inner.clone().prop_map(|a| format!("({a})^2")),
            inner.clone().prop_map(|a| format!("twice({a})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("scale({a}, by={b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("sum([{a}, {b}])")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("min([{a}, {b}])")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("mean([{a}, {b}])")),
            inner.clone().prop_map(|a| format!("step({a}).time")),
            inner
                .clone()
                .prop_map(|a| format!("step(2, context={a}).time")),
            inner
                .clone()
                .prop_map(|a| format!("step({a}, mode=\"exact\").share")),
            inner
                .clone()
                .prop_map(|a| format!("step({a}, mode=\"slow\").time")),
            inner
                .clone()
                .prop_map(|a| format!("step(1, context={a}).tim")),
            inner.clone().prop_map(|a| format!("({a} in ms)")),
            inner.prop_map(|a| format!("({a} in GB/s)")),
        ]
    })
}

/// `step(batch, context=0, mode="fast")` → `{time, share}`: a native function declaring a
/// plain-number `batch`, a token-count `context` and a `mode` from a set; a negative batch is a
/// value error raised by the function itself.
fn register_step(s: &mut Scope) {
    s.register_native(
        "step",
        &[
            Param::required("batch").accepting(ArgType::number()),
            Param::optional("context", Value::number(0.0))
                .accepting(ArgType::number().or(ArgType::Quantity(Dim::token())))
                .hint("`8192` or `8192 tokens`"),
            Param::optional("mode", Value::string("fast"))
                .accepting(ArgType::OneOf(&["fast", "exact"])),
        ],
        Returns::Record(vec![
            ("time".into(), Returns::Quantity(Dim::time())),
            ("share".into(), Returns::Quantity(Dim::none())),
        ]),
        Arc::new(|args: &[Value]| {
            let batch = args[0].as_si().unwrap_or(f64::NAN);
            let context = args[1].as_si().unwrap_or(f64::NAN);
            if batch < 0.0 {
                return Err(format!("`batch` must not be negative, found {batch}"));
            }
            Ok(Value::record([
                (
                    "time",
                    Value::quantity(batch * 1e-3 + context * 1e-6, Dim::time()),
                ),
                ("share", Value::number(batch / (batch + 1.0))),
            ]))
        }),
    );
}

fn scope() -> Scope {
    let mut s = Scope::new();
    register_step(&mut s);
    let out = s.run_block("k = 3 s\nfn twice(v) = 2 * v\nfn scale(v, by=2) = v * by");
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    s
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn unit_conversions_round_trip((from, to) in unit_pair(), x in 1e-6f64..1e9) {
        let reg = Registry::prelude();
        let q = parse_quantity(&format!("{x:e} {from}"), &reg).unwrap();
        let y = q.as_unit(to, &reg).unwrap();
        let back = Value::with_unit(y, to, &reg).unwrap().as_unit(from, &reg).unwrap();
        prop_assert!((back - x).abs() <= 1e-12 * x.abs(), "{x} {from} -> {y} {to} -> {back}");
        // The same through the language's `in`.
        let s = Scope::new();
        let v = s.eval_expr(&format!("{x:e} {from} in {to}")).unwrap();
        prop_assert!((v.as_si().unwrap() - q.as_si().unwrap()).abs() <= 1e-12 * q.as_si().unwrap().abs());
    }

    #[test]
    fn the_dimension_checker_agrees_with_evaluation(src in expr(), x in 0.001f64..100.0) {
        let s = scope();
        let compiled = s.compile(&src, "x", &Dim::time());
        let evaluated = s.eval_expr_with(&src, &[("x".into(), Value::quantity(x, Dim::time()))]);
        match compiled {
            Ok(c) => match c.eval(x) {
                Ok(v) => {
                    let e = evaluated.map_err(|d| TestCaseError::fail(format!("{src}: compiled {v} but evaluator said {d:?}")))?;
                    prop_assert_eq!(e.dim().unwrap(), c.dim(), "{}", src);
                    let ev = e.as_si().unwrap();
                    prop_assert!((ev - v).abs() <= 1e-9 * v.abs().max(1e-300), "{}: {} vs {}", src, ev, v);
                }
                // Both evaluate left to right and stop at the first failing operation: the same
                // error, worded the same.
                Err(d) => {
                    let e = evaluated.err().ok_or_else(|| TestCaseError::fail(format!("{src}: compiled failed with {d:?} but it evaluated")))?;
                    prop_assert_eq!((e.code, &e.message, &e.span), (d.code, &d.message, &d.span), "{}", src);
                }
            },
            Err(d) => {
                // Parts that do not depend on `x` are evaluated while compiling, so a native
                // function's own error can come from the checker too.
                prop_assert!(matches!(d.code, Code::DimensionMismatch | Code::TypeMismatch | Code::UnknownField | Code::DivisionByZero | Code::Overflow | Code::DomainError | Code::NativeError), "{}: {:?}", src, d);
                let e = evaluated.err().ok_or_else(|| TestCaseError::fail(format!("{src}: checker said {d:?} but it evaluated")))?;
                // The checker finds a dimension, argument-type or field error before running
                // anything; the evaluator may first meet a value error (a division by zero, a
                // native function refusing a negative batch) to the left of it. Otherwise the two
                // report the same rule with the same words, at the same place.
                let met_a_value_error_first = matches!(d.code, Code::DimensionMismatch | Code::TypeMismatch | Code::UnknownField)
                    && matches!(e.code, Code::DivisionByZero | Code::Overflow | Code::DomainError | Code::NativeError);
                if !met_a_value_error_first {
                    prop_assert_eq!((e.code, &e.message, &e.span), (d.code, &d.message, &d.span), "{}", src);
                }
            }
        }
    }

    #[test]
    fn a_conversion_error_reads_the_same_in_a_block_and_a_chart(unit in prop::sample::select(vec!["GB", "TB/s", "tokens", "$"])) {
        let s = scope();
        let src = format!("x * 2 in {unit}");
        let compiled = s.compile(&src, "x", &Dim::time()).unwrap_err();
        let evaluated = s
            .eval_expr_with(&src, &[("x".into(), Value::quantity(1.0, Dim::time()))])
            .unwrap_err();
        prop_assert_eq!(compiled.code, "dimension-mismatch");
        prop_assert_eq!(&compiled.message, &evaluated.message);
        prop_assert_eq!(&compiled.span, &evaluated.span);
        prop_assert_eq!(&compiled.label, &evaluated.label);
        prop_assert_eq!(&compiled.secondary, &evaluated.secondary);
        // Nested inside a larger swept expression, the same complete diagnostic.
        let nested = s.compile(&format!("({src}) * 1"), "x", &Dim::time()).unwrap_err();
        prop_assert_eq!(&nested.message, &evaluated.message);
        prop_assert_eq!(nested.secondary.len(), 1);
        prop_assert!(nested.help.is_some());
    }

    #[test]
    fn a_wrong_native_argument_reads_the_same_in_a_block_and_a_chart(
        call in prop::sample::select(vec![
            "step(x).time",
            "step(2, context=x * 1 GB/s).time",
            "step(2, mode=\"slow\").time + x",
            "step(x / (1 s), context=x).share",
        ]),
        x in 0.001f64..100.0,
    ) {
        let s = scope();
        let compiled = s.compile(call, "x", &Dim::time()).unwrap_err();
        let evaluated = s
            .eval_expr_with(call, &[("x".into(), Value::quantity(x, Dim::time()))])
            .unwrap_err();
        prop_assert!(matches!(compiled.code, Code::DimensionMismatch | Code::TypeMismatch));
        prop_assert!(compiled.message.contains("of `step` must be"), "{}", compiled.message);
        prop_assert_eq!(compiled.code, evaluated.code);
        prop_assert_eq!(&compiled.message, &evaluated.message);
        prop_assert_eq!(&compiled.span, &evaluated.span);
        prop_assert_eq!(&compiled.label, &evaluated.label);
        prop_assert_eq!(&compiled.help, &evaluated.help);
    }
}
