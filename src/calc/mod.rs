//! The calc language: lexer, parser, units, values and evaluator. Takes text and a scope, returns
//! values and diagnostics; does no I/O.
