//! calcbook's integration tests, in one binary (as mdBook and ripgrep do): each module builds small
//! books or runs a stage of the pipeline from the outside, through the library or the real binary.

mod chart_fixtures;
mod common;
mod json_schema;

mod any_subject;
mod book_formulas;
mod broken_pipe;
mod build;
mod bundled_book;
mod calc_errors;
mod calc_fuzz;
mod calc_props;
mod chart_eval;
mod chart_svg;
mod check;
mod course;
mod data;
mod engine_calc;
mod evaluate;
mod generated_links;
mod hardening;
mod incremental;
mod mdbook_compat;
mod native_arguments;
mod notebook;
mod preprocess;
mod print_page;
mod robustness;
mod search_index;
mod serve;
mod streamed_build;
mod traced_values;
