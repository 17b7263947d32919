//! The calc language: lexer, parser, units, values and evaluator. Takes text and a scope, returns
//! values and diagnostics; does no I/O.
//!
//! The pipeline, one file per stage: [`lexer`] → [`parser`] (→ [`ast`]) → [`eval`] (values, with
//! [`units`] for dimensions and [`value`] for what is computed) → [`format`] (display).
//! [`scope`] runs a notebook block's statements and claims; [`compile`] checks an expression's
//! dimensions once and turns it into a closure over plain `f64`s for charts that evaluate it many
//! times; [`highlight`] colours source for HTML.
//!
//! See `docs/calc.md`-style reference in the module docs of [`scope`] and [`parser`] and the
//! summary in [`syntax`].

pub mod ast;
pub mod compile;
pub mod eval;
pub mod format;
pub mod highlight;
pub mod lexer;
pub mod parser;
pub mod scope;
pub mod syntax;
pub mod units;
pub mod value;

pub use compile::Compiled;
pub use format::{format_value, plain_number};
pub use highlight::{highlight_html, highlight_with};
pub use scope::{
    BlockOutput, ClaimKind, ClaimResult, OutputKind, Scope, StatementOutput, parse_quantity,
};
pub use units::{Dim, Rat, Registry};
pub use value::{NativeFn, Param, Record, Value};
