//! Traceable numbers: a shown value (an inline value, a calc result, a claim's side) is a button
//! that opens a card with the expression it came from, the value in base units, and the data
//! entries the expression reads, each linking to its entry on the data-sources page.
//!
//! The card is a native popover (`<button popovertarget>` and `<span popover>`): it opens by click,
//! tap or keyboard and closes with Escape or a click elsewhere, with no script and nothing shown
//! only on hover. A data figure's file and line (its provenance) can join the card through
//! [`Trace::data`], one entry per record the expression names. The button and card are drawn by
//! the theme's `traced.html` from a [`TraceView`].

use std::collections::HashSet;

use crate::calc::{Registry, Value, format};
use crate::html::escape;

/// A data entry an expression names: `hardware.h100`, on the sources page at `#hardware-h100`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRef {
    pub file: String,
    pub id: String,
}

impl DataRef {
    pub fn name(&self) -> String {
        format!("{}.{}", self.file, self.id)
    }

    pub fn anchor(&self) -> String {
        format!("{}-{}", self.file, self.id)
    }
}

/// The data entries `expr` names, in order of first mention: every `file.id` path whose
/// `file.id` is in `records`.
pub fn data_refs(expr: &str, records: &HashSet<String>) -> Vec<DataRef> {
    let mut out: Vec<DataRef> = Vec::new();
    let bytes = expr.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        if !is_ident(bytes[i]) || (i > 0 && (is_ident(bytes[i - 1]) || bytes[i - 1] == b'.')) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_ident(bytes[i]) {
            i += 1;
        }
        if i + 1 < bytes.len() && bytes[i] == b'.' && is_ident(bytes[i + 1]) {
            let file = &expr[start..i];
            let id_start = i + 1;
            let mut j = id_start;
            while j < bytes.len() && is_ident(bytes[j]) {
                j += 1;
            }
            let id = &expr[id_start..j];
            if records.contains(&format!("{file}.{id}")) {
                let r = DataRef {
                    file: file.to_string(),
                    id: id.to_string(),
                };
                if !out.contains(&r) {
                    out.push(r);
                }
            }
            i = j;
        }
    }
    out
}

/// The data entries behind computed figures (a value's provenance), in order of first mention:
/// the records an expression reaches indirectly, through a variable or a function that read them.
pub fn figure_refs(figs: &[crate::calc::Figure]) -> Vec<DataRef> {
    let mut out: Vec<DataRef> = Vec::new();
    for f in figs {
        let file = std::path::Path::new(&*f.file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let id = f.path.split('.').next().unwrap_or("").to_string();
        let r = DataRef { file, id };
        if !r.id.is_empty() && !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// `named` followed by those of `more` it lacks.
pub fn merge_refs(mut named: Vec<DataRef>, more: Vec<DataRef>) -> Vec<DataRef> {
    for r in more {
        if !named.contains(&r) {
            named.push(r);
        }
    }
    named
}

/// What a value's card shows.
pub struct Trace<'a> {
    /// Unique on the page: the popover's id.
    pub id: String,
    /// The expression as written (`None` where it is already beside the value, in a calc pad).
    pub expr: Option<&'a str>,
    pub value: Option<&'a Value>,
    pub data: Vec<DataRef>,
    /// The data figures the value was computed from, each linked to its own row on the
    /// data-sources page (empty where they are not known, as in a pad row).
    pub figures: &'a [crate::calc::Figure],
    /// From the page to the site root (`""` or `"../"`…), for the sources page link.
    pub root: &'a str,
}

/// The value in base units: `8.19e-4 $/s`, or `None` for a plain number, text or a record.
pub fn base_units(value: &Value, registry: &Registry) -> Option<String> {
    let (si, dim) = (value.as_si()?, value.dim()?);
    if dim.is_dimensionless() {
        return None;
    }
    let number = format::unit_number(si, 4);
    let unit = registry.base_unit_string(dim);
    // `1,685 tokens`, `1 token`, as every other shown value.
    let unit = format::plural(&unit, &number);
    Some(format!("{number} {unit}"))
}

/// A traced value as the theme's `traced.html` (the `traced_value` macro) draws it: the shown
/// value as a button, and its card: the expression, the value in base units, the data entries
/// named and the data figures read (each linked to the data-sources page). All text; the template
/// escapes it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TraceView {
    /// The card's id, unique on the page.
    pub id: String,
    /// The button's class besides `traced` (`calc-inline`, `calc-value`, `claim-value`).
    pub class: String,
    pub shown: String,
    pub expr: Option<String>,
    pub base: Option<String>,
    pub data: Vec<TraceLink>,
    pub figures: Vec<TraceLink>,
}

/// A link on a trace card: `name` to `href`, and (for a figure) the file and line it was read at.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TraceLink {
    pub href: String,
    pub name: String,
    pub at: Option<String>,
}

/// `shown` as a button opening its trace card, as a [`TraceView`].
pub fn trace_view(shown: &str, class: &str, trace: &Trace, registry: &Registry) -> TraceView {
    let sources = super::pages::SOURCES_PATH;
    let data = (trace.data.iter())
        .map(|d| TraceLink {
            href: format!("{}{sources}#{}", trace.root, d.anchor()),
            name: d.name(),
            at: None,
        })
        .collect();
    let mut seen: Vec<&crate::calc::Figure> = Vec::new();
    let figures = (trace.figures.iter())
        .filter(|f| {
            let fresh = !seen.contains(f);
            seen.push(f);
            fresh
        })
        .map(|f| {
            let stem = std::path::Path::new(&*f.file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let anchor = match f.path.split_once('.') {
                Some((entry, field)) => super::pages::figure_anchor(&stem, entry, field),
                None => format!("{stem}-{}", f.path),
            };
            TraceLink {
                href: format!("{}{sources}#{anchor}", trace.root),
                name: format!("{stem}.{}", f.path),
                at: Some(format!("{}:{}", f.file, f.line)),
            }
        })
        .collect();
    TraceView {
        id: trace.id.clone(),
        class: class.to_string(),
        shown: shown.to_string(),
        expr: trace.expr.map(|e| e.trim().to_string()),
        base: trace.value.and_then(|v| base_units(v, registry)),
        data,
        figures,
    }
}

/// Links each data entry's name in a highlighted calc line (`hardware` `.` `h100` as separate
/// tokens) to its entry on the sources page.
pub fn link_data_names(highlighted: &str, refs: &[DataRef], root: &str) -> String {
    let mut out = highlighted.to_string();
    for r in refs {
        let tokens = format!(
            "<span class=\"cb-name\">{}</span><span class=\"cb-op\">.</span><span class=\"cb-name\">{}</span>",
            escape(&r.file),
            escape(&r.id)
        );
        let linked = format!(
            "<a class=\"data-ref\" href=\"{}sources.html#{}\" title=\"{} on the data sources page\">{tokens}</a>",
            escape(root),
            escape(&r.anchor()),
            escape(&r.name())
        );
        out = out.replace(&tokens, &linked);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> HashSet<String> {
        ["hardware.h100", "models.deepseek_v3"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn data_refs_are_the_records_an_expression_names() {
        let refs = data_refs(
            "gpus * hardware.h100.flops.fp8 / models.deepseek_v3.params + hardware.h100.price + x.hardware.h100 + hardware.b200.flops",
            &records(),
        );
        let names: Vec<String> = refs.iter().map(DataRef::name).collect();
        assert_eq!(names, ["hardware.h100", "models.deepseek_v3"]);
        assert_eq!(refs[0].anchor(), "hardware-h100");
    }

    #[test]
    fn figures_name_the_records_they_came_from_once_each() {
        let fig = |file: &str, path: &str| crate::calc::Figure {
            file: file.into(),
            line: 3,
            path: path.into(),
        };
        let refs = figure_refs(&[
            fig("data/hardware.yaml", "h100.flops.fp8"),
            fig("data/hardware.yaml", "h100.price"),
            fig("data/models.yaml", "llama.params"),
        ]);
        let names: Vec<String> = refs.iter().map(DataRef::name).collect();
        assert_eq!(names, ["hardware.h100", "models.llama"]);
        let merged = merge_refs(data_refs("hardware.h100.price", &records()), refs);
        assert_eq!(merged.len(), 2);
    }

    #[test]
    fn data_names_in_a_highlighted_line_link_to_the_sources_page() {
        let line = "<span class=\"cb-name\">hardware</span><span class=\"cb-op\">.</span><span class=\"cb-name\">h100</span><span class=\"cb-op\">.</span><span class=\"cb-name\">price</span>";
        let refs = data_refs("hardware.h100.price", &records());
        let html = link_data_names(line, &refs, "../");
        assert!(html.starts_with("<a class=\"data-ref\" href=\"../sources.html#hardware-h100\""));
        assert!(html.ends_with("<span class=\"cb-name\">price</span>"));
    }
}
