//! The calc language: lexer, parser, units, values and evaluator. Takes text and a scope, returns
//! values and diagnostics; does no I/O.
//!
//! The pipeline, one file per stage: [`lexer`] → [`parser`] (→ [`ast`]) → [`eval`] (values, with
//! [`units`] for dimensions and [`value`] for what is computed) → [`format`] (display).
//! [`scope`] runs a notebook block's statements and claims; [`compile`] checks an expression's
//! dimensions once and turns it into a closure over plain `f64`s for charts that evaluate it many
//! times; both follow the dimension rules written once in [`rules`], so they report the same
//! errors; [`highlight`] colours source for HTML.
//!
//! The language reference for authors is [`syntax`]. A usage sketch for the layers above:
//!
//! ```
//! use calcbook::calc::{Dim, OutputKind, Scope, Value};
//! let mut scope = Scope::new();
//! scope.set("gpu", Value::record([("bw", scope.parse_quantity("8 TB/s").unwrap())]));
//! let out = scope.run_block("t = 80 GB / gpu.bw\nclaim \"fast\": t < 20 ms");
//! assert!(out.diagnostics.is_empty());
//! assert!(matches!(&out.statements[0].kind, OutputKind::Assignment { display, .. } if display == "10 ms"));
//! assert!(out.claims().all(|c| c.holds));
//! assert_eq!(scope.eval_inline("t in us").unwrap(), "10,000 us");
//! let sweep = scope.compile("80 GB / gpu.bw * b in ms", "b", &Dim::none()).unwrap();
//! assert_eq!(sweep.eval(2.0).unwrap(), 0.02);
//! ```

// `Diagnostic` is the project's one error type and the API's contract (`Result<_, Diagnostic>`);
// it is large, but errors are rare and the hot path (compiled sweeps) boxes them internally.
#![allow(clippy::result_large_err)]

pub mod ast;
pub mod budget;
pub mod compile;
pub mod eval;
pub mod format;
pub mod highlight;
pub mod lexer;
pub mod parser;
pub mod provenance;
pub mod rules;
pub mod scope;
pub mod syntax;
pub mod units;
pub mod value;

pub use compile::Compiled;
pub use format::{format_value, plain_number};
pub use highlight::{highlight_html, highlight_with};
pub use provenance::{Figure, Origin, Prov};
pub use scope::{
    BlockOutput, ClaimKind, ClaimResult, OutputKind, Scope, StatementOutput, big_stack_pool,
    parse_quantity, with_big_stack,
};
pub use units::{Dim, Rat, Registry};
pub use value::{ArgType, NativeFn, Param, Record, Returns, Value};
