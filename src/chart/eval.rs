//! Glue between chart/table specs and the calc language: evaluates a spec's expressions in a
//! chapter's scope into a [`super::ResolvedChart`] / [`super::table::ResolvedTable`].
//!
//! TODO(calc): waiting for the calc API (branch `calc`).
