//! Resolved tables and their view for the theme's `table.html` (the `data_table` macro), which
//! draws `<figure class="table">` around a `<table class="data-table">` with a numbered caption. Numeric cells are right-aligned (`td.num`); rows the spec's
//! `highlight:` selects get `tr.highlight`. Sorting works on resolved cells so evaluation stays
//! independent of presentation.

use std::cmp::Ordering;

/// One column: its heading and whether its cells are numbers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Column {
    pub name: String,
    /// Display unit of the column, when the spec gave one (shown in the heading).
    pub unit: Option<String>,
    /// Right-align the column.
    pub numeric: bool,
}

/// One cell: formatted text, and the number behind it for sorting.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cell {
    pub text: String,
    /// The value in the column's display unit; `None` for text cells.
    pub value: Option<f64>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            value: None,
        }
    }

    pub fn number(text: impl Into<String>, value: f64) -> Self {
        Cell {
            text: text.into(),
            value: Some(value),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    pub cells: Vec<Cell>,
    pub highlight: bool,
}

/// A table with every cell evaluated and formatted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResolvedTable {
    /// Author id: the figure's anchor is `tbl-{id}`.
    pub id: Option<String>,
    pub caption: Option<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

impl ResolvedTable {
    /// The HTML id of the table figure: `tbl-{id}`, or `tbl-{number}` without an author id.
    pub fn anchor(&self, number: usize) -> String {
        match &self.id {
            Some(id) => format!("tbl-{id}"),
            None => format!("tbl-{number}"),
        }
    }

    /// Sorts rows by column `col` (numbers by value, before text; text alphabetically), stable.
    pub fn sort_by(&mut self, col: usize, desc: bool) {
        self.rows.sort_by(|a, b| {
            let ord = compare(a.cells.get(col), b.cells.get(col));
            if desc { ord.reverse() } else { ord }
        });
    }
}

fn compare(a: Option<&Cell>, b: Option<&Cell>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => match (a.value, b.value) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.text.cmp(&b.text),
        },
        (a, b) => a.is_some().cmp(&b.is_some()).reverse(),
    }
}

/// What the table shows, for the theme's `table.html` (the `data_table` macro): `{anchor,
/// number, caption, columns: [{heading, numeric}], rows: [{highlight, cells: [{text, numeric}]}]}`,
/// all text (the template escapes it).
pub fn table_view(table: &ResolvedTable, number: usize) -> serde_json::Value {
    let columns: Vec<serde_json::Value> = table
        .columns
        .iter()
        .map(|c| {
            let heading = match &c.unit {
                Some(u) if !u.is_empty() => format!("{} ({u})", c.name),
                _ => c.name.clone(),
            };
            serde_json::json!({"heading": heading, "numeric": c.numeric})
        })
        .collect();
    let rows: Vec<serde_json::Value> = table
        .rows
        .iter()
        .map(|r| {
            let cells: Vec<serde_json::Value> = r
                .cells
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    let numeric =
                        cell.value.is_some() || table.columns.get(i).is_some_and(|c| c.numeric);
                    serde_json::json!({"text": cell.text, "numeric": numeric})
                })
                .collect();
            serde_json::json!({"highlight": r.highlight, "cells": cells})
        })
        .collect();
    let caption = table
        .caption
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(crate::render::typography::smart);
    serde_json::json!({
        "anchor": table.anchor(number),
        "number": number,
        "caption": caption,
        "columns": columns,
        "rows": rows,
    })
}

/// The table as HTML, numbered `Table {number}`, drawn by the built-in `table.html`: a table
/// shown outside a book's theme (tests).
pub fn render_table(table: &ResolvedTable, number: usize) -> String {
    let mut ctx = tera::Context::new();
    ctx.insert("t", &table_view(table, number));
    crate::render::Theme::builtin()
        .and_then(|theme| theme.render("table.html", &ctx).ok())
        .map(|html| html.trim().to_string() + "\n")
        .unwrap_or_default()
}
