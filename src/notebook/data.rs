//! `data/*.yaml`: sourced figures loaded into every chapter's scope.
//!
//! Each file becomes a record named after the file (`data/hardware.yaml` → `hardware`), each entry a
//! record (`hardware.h100`) with whatever fields it has. Strings that read as quantities (`8 TB/s`,
//! `$2.00/hour`, `13.5 kWh`) become quantities, read with the calc unit parser, so a typo in a unit
//! is an error at its file and line; dates (`2026-04`), prose and bibliographic keys (`name`,
//! `source`, `note`, `url`, `*_source`, `*_note`) stay text. Every entry should name its `source:`
//! (an error when the book sets `require-sources`, else a warning); a `source:` at the top of the
//! file covers every entry, and an entry may be a bare figure (`g: 9.81 m/s^2`).
//!
//! This module knows no field names of any engine: a function that reads a record checks the
//! fields it needs where it reads them. To let it point at the data, each record knows where it was
//! written ([`crate::calc::Origin`]) and each figure carries its file and line
//! ([`crate::calc::provenance`]).

use crate::diagnostic::Code;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::calc::{Scope, Value};
use crate::diagnostic::{Diagnostic, Sources};

/// One loaded data file.
#[derive(Clone)]
pub struct DataFile {
    /// The record's name in calc (the file stem).
    pub name: String,
    /// Path relative to the book root.
    pub rel: PathBuf,
    pub value: Value,
    pub entries: Vec<DataEntry>,
}

/// One entry, summarised for the generated data-sources appendix.
#[derive(Clone, Debug)]
pub struct DataEntry {
    pub id: String,
    pub name: String,
    /// (`flops.bf16`, `989 TFLOP/s`) as written in the file.
    pub figures: Vec<(String, String)>,
    pub sources: Vec<String>,
    pub notes: Vec<String>,
}

/// Keys whose values are always text, never quantities: bibliographic fields every subject has.
fn is_text_key(key: &str) -> bool {
    matches!(
        key,
        "name" | "title" | "source" | "sources" | "note" | "notes" | "url" | "description"
    ) || key.ends_with("_source")
        || key.ends_with("_note")
        || key.ends_with("_url")
        || key.starts_with("date")
        || key.ends_with("_date")
}

/// `2026-04`, `2025-12-09`: a date, which would otherwise read as a subtraction.
fn looks_like_date(s: &str) -> bool {
    let parts: Vec<&str> = s.trim().split('-').collect();
    (2..=3).contains(&parts.len())
        && parts[0].len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// How a book wants its data files held.
#[derive(Clone, Copy, Debug)]
pub struct DataOptions {
    /// An entry without `source:` is an error (else a warning).
    pub require_sources: bool,
}

impl Default for DataOptions {
    fn default() -> Self {
        DataOptions {
            require_sources: true,
        }
    }
}

/// Loads every `*.yaml` file of `dir` (relative path `rel` for diagnostics) into `scope`, every
/// entry required to name its `source:`.
pub fn load(
    dir: &Path,
    rel: &Path,
    scope: &mut Scope,
    sources: &mut Sources,
) -> (Vec<DataFile>, Vec<Diagnostic>) {
    load_with(dir, rel, scope, sources, DataOptions::default())
}

/// As [`load`], with the book's options.
pub fn load_with(
    dir: &Path,
    rel: &Path,
    scope: &mut Scope,
    sources: &mut Sources,
    options: DataOptions,
) -> (Vec<DataFile>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    if !dir.is_dir() {
        return (files, diags);
    }
    for entry in WalkDir::new(dir)
        .max_depth(1)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        let path = entry.path();
        let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if !entry.file_type().is_file() || !is_yaml {
            continue;
        }
        let Some(stem) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        let file_rel = rel.join(entry.file_name());
        // Through `book::fs`: inside the book, a regular file, within the size limit.
        let text = match crate::book::fs::read_text(dir, Path::new(entry.file_name())) {
            Ok(t) => t,
            Err(crate::book::fs::ReadError::NotUtf8 { .. }) => {
                diags.push(
                    Diagnostic::error(
                        Code::InvalidUtf8,
                        format!("{} is not valid UTF-8", file_rel.display()),
                    )
                    .with_file(&file_rel),
                );
                continue;
            }
            Err(e) => {
                diags.push(
                    Diagnostic::error(
                        Code::UnreadableFile,
                        format!("cannot read {}: {e}", file_rel.display()),
                    )
                    .with_file(&file_rel),
                );
                continue;
            }
        };
        sources.insert(&file_rel, text.clone());
        let ident_ok = stem
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident_ok {
            diags.push(
                Diagnostic::error(
                    Code::BadDataName,
                    format!("data file name `{stem}` is not a calc name"),
                )
                .with_file(&file_rel)
                .with_help("name data files with letters, digits and `_`, e.g. `hardware.yaml`"),
            );
            continue;
        }
        let (file, file_diags) = load_text_with(&stem, &file_rel, &text, scope, options);
        diags.extend(file_diags);
        if let Some(file) = file {
            scope.set(&file.name, file.value.clone());
            files.push(file);
        }
    }
    (files, diags)
}

/// Reads one data file's text (sources required).
pub fn load_text(
    stem: &str,
    rel: &Path,
    text: &str,
    scope: &Scope,
) -> (Option<DataFile>, Vec<Diagnostic>) {
    load_text_with(stem, rel, text, scope, DataOptions::default())
}

/// Reads one data file's text.
pub fn load_text_with(
    stem: &str,
    rel: &Path,
    text: &str,
    scope: &Scope,
    options: DataOptions,
) -> (Option<DataFile>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let yaml: serde_yaml::Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let mut d =
                Diagnostic::error(Code::BadYaml, format!("invalid YAML: {e}")).with_file(rel);
            if let Some(loc) = e.location() {
                // From line and column: the parser's index counts characters, not bytes.
                let line_at = crate::diagnostic::line_start(text, loc.line());
                let at = text[line_at..]
                    .char_indices()
                    .take_while(|(_, c)| *c != '\n')
                    .nth(loc.column().saturating_sub(1))
                    .map_or_else(
                        || {
                            text[line_at..]
                                .find('\n')
                                .map_or(text.len(), |i| line_at + i)
                        },
                        |(i, _)| line_at + i,
                    );
                let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                d = d.with_span(at..end).with_label("here");
            }
            return (None, vec![d]);
        }
    };
    let serde_yaml::Value::Mapping(map) = yaml else {
        return (
            None,
            vec![
                Diagnostic::error(
                    Code::BadData,
                    "a data file must be a map of entries (`id: {…}`)",
                )
                .with_file(rel)
                .with_span(0..text.len().min(1)),
            ],
        );
    };
    let locator = Locator::new(text, rel.to_string_lossy().replace('\\', "/").into());
    // A top-level `source:` (one URL or a list) covers every entry that names none.
    let file_sources: Vec<String> = ["source", "sources"]
        .iter()
        .filter_map(|k| map.get(*k))
        .flat_map(|v| match v {
            serde_yaml::Value::String(s) => vec![s.clone()],
            serde_yaml::Value::Sequence(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let mut entries = Vec::new();
    let mut fields = Vec::new();
    for (key, value) in &map {
        let Some(id) = key.as_str() else {
            diags.push(
                Diagnostic::error(Code::BadData, "entry ids must be names")
                    .with_file(rel)
                    .with_span(0..1),
            );
            continue;
        };
        let path = vec![id.to_string()];
        let entry_span = locator.span(&path);
        // The file's own `source:` and `note:` are fields of the file's record, not entries.
        if is_text_key(id) {
            if let Some(text) = value.as_str() {
                fields.push((id.to_string(), Value::string(text)));
            }
            continue;
        }
        let mut summary = DataEntry {
            id: id.to_string(),
            name: id.to_string(),
            figures: Vec::new(),
            sources: Vec::new(),
            notes: Vec::new(),
        };
        let converted = convert(value, &path, scope, &locator, rel, &mut diags, &mut summary);
        // A bare figure (`g: 9.81 m/s^2`) is an entry of one figure.
        if !matches!(value, serde_yaml::Value::Mapping(_)) && converted.dim().is_some() {
            let written = match value {
                serde_yaml::Value::String(t) => t.clone(),
                serde_yaml::Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            summary.figures.push((id.to_string(), written));
        }
        if summary.sources.is_empty() {
            summary.sources.clone_from(&file_sources);
        }
        if summary.sources.is_empty() {
            let d = if options.require_sources {
                Diagnostic::error(
                    Code::MissingSource,
                    format!("entry `{id}` has no `source:`"),
                )
            } else {
                Diagnostic::warning(
                    Code::MissingSource,
                    format!("entry `{id}` has no `source:`"),
                )
            };
            diags.push(d.with_file(rel).with_span(entry_span.clone()).with_help(
                "name where the figures were read: `source: https://…` in the entry, \
                         or once at the top of the file for all of them",
            ));
        }
        fields.push((id.to_string(), converted));
        entries.push(summary);
    }
    let file = DataFile {
        name: stem.to_string(),
        rel: rel.to_path_buf(),
        value: Value::record(fields),
        entries,
    };
    (Some(file), diags)
}

fn convert(
    value: &serde_yaml::Value,
    path: &[String],
    scope: &Scope,
    locator: &Locator,
    rel: &Path,
    diags: &mut Vec<Diagnostic>,
    summary: &mut DataEntry,
) -> Value {
    use serde_yaml::Value as Y;
    let key = path.last().map(String::as_str).unwrap_or("");
    let dotted = || path[1..].join(".");
    match value {
        Y::Mapping(map) => {
            let mut fields = Vec::new();
            for (k, v) in map {
                let Some(k) = k.as_str() else { continue };
                let mut child = path.to_vec();
                child.push(k.to_string());
                fields.push((
                    k.to_string(),
                    convert(v, &child, scope, locator, rel, diags, summary),
                ));
            }
            Value::record_at(fields, locator.origin(path))
        }
        Y::Sequence(items) => {
            let list: Vec<Value> = items
                .iter()
                .map(|v| convert(v, path, scope, locator, rel, diags, summary))
                .collect();
            if key == "source" || key.ends_with("_source") {
                summary
                    .sources
                    .extend(items.iter().filter_map(|v| v.as_str().map(str::to_string)));
            }
            Value::list(list)
        }
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if path.len() > 1 {
                summary.figures.push((dotted(), n.to_string()));
            }
            Value::number(x).with_prov(locator.figure(path, &n.to_string()))
        }
        Y::String(s) => {
            if key == "source" || key.ends_with("_source") {
                summary.sources.push(s.clone());
            } else if key == "note" || key.ends_with("_note") {
                summary.notes.push(s.clone());
            } else if path.len() == 2
                && (key == "name" || (key == "title" && summary.name == summary.id))
            {
                summary.name = s.clone();
            }
            let looks_numeric = s
                .trim_start()
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | '$'));
            if is_text_key(key) || !looks_numeric || looks_like_date(s) {
                return Value::string(s);
            }
            // Prose that happens to start with a number (`16x16 2D torus`) stays text; a number
            // and a unit-like word (`8 TB/q`, `80 GX`) is a typo to report.
            let parsed = match s.split_whitespace().count() > 2 {
                true => scope.try_quantity(s).ok_or(None),
                false => scope.parse_quantity(s).map_err(Some),
            };
            match parsed {
                Ok(q) => {
                    summary.figures.push((dotted(), s.clone()));
                    q.with_prov(locator.figure(path, s))
                }
                Err(None) => Value::string(s),
                Err(Some(d)) => {
                    let span = locator.value_span(path, s);
                    diags.push(
                        Diagnostic::error(
                            Code::BadQuantity,
                            format!("cannot read `{s}` as a quantity: {}", d.message),
                        )
                        .with_file(rel)
                        .with_span(span)
                        .with_help(
                            d.help.unwrap_or_else(|| {
                                "write a number and a unit, e.g. `8 TB/s`".into()
                            }),
                        ),
                    );
                    Value::string(s)
                }
            }
        }
        Y::Null | Y::Tagged(_) => Value::string(""),
    }
}

/// Finds where a key path's value sits in the YAML text, for diagnostics (serde_yaml values carry
/// no positions).
pub struct Locator<'a> {
    pub text: &'a str,
    /// The file, relative to the book root, as figures name it.
    pub file: std::sync::Arc<str>,
    /// Where each top-level key starts, so that finding an entry of a 100,000-entry file does
    /// not scan the file from its start (which made loading quadratic).
    tops: std::collections::HashMap<&'a str, usize>,
    /// Byte offset of each line's start, for line numbers in O(log n).
    line_starts: Vec<usize>,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str, file: std::sync::Arc<str>) -> Self {
        let mut tops = std::collections::HashMap::new();
        let mut line_starts = vec![0];
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let starts_key = line
                .chars()
                .next()
                .is_some_and(|c| !matches!(c, ' ' | '\t' | '#' | '-' | '\n' | '\r'));
            if starts_key && let Some(colon) = line.find(':') {
                let key = line[..colon].trim_end();
                tops.entry(key).or_insert(offset);
            }
            offset += line.len();
            line_starts.push(offset);
        }
        Locator {
            text,
            file,
            tops,
            line_starts,
        }
    }

    /// 1-based line of a byte offset.
    fn line_of(&self, at: usize) -> u32 {
        let at = at.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= at);
        u32::try_from(line.max(1)).unwrap_or(u32::MAX)
    }

    /// Where the record at `path` (an entry id, or a nested key) was written.
    fn origin(&self, path: &[String]) -> crate::calc::Origin {
        crate::calc::Origin {
            file: self.file.clone(),
            line: self.line_of(self.span(path).start),
            id: path.join("."),
        }
    }

    /// The figure `written` at `path`, as a value's provenance.
    fn figure(&self, path: &[String], written: &str) -> crate::calc::Prov {
        let at = self.value_span(path, written).start;
        crate::calc::provenance::to_prov(vec![crate::calc::Figure {
            file: self.file.clone(),
            line: self.line_of(at),
            path: path.join(".").into(),
        }])
    }

    /// Span of the last key of `path`, searching each key after the previous one.
    pub fn span(&self, path: &[String]) -> std::ops::Range<usize> {
        let mut from = 0;
        let mut found = 0..0;
        let mut keys = path.iter();
        if let Some(first) = path.first()
            && let Some(&at) = self.tops.get(first.as_str())
        {
            found = at..at + first.len();
            from = found.end;
            keys.next();
        }
        for key in keys {
            let mut search = from;
            loop {
                let Some(i) = self.text[search..].find(key.as_str()) else {
                    return found;
                };
                let at = search + i;
                let end = at + key.len();
                let before_ok = at == 0
                    || matches!(
                        self.text.as_bytes()[at - 1],
                        b' ' | b'\n' | b'{' | b',' | b'\t'
                    );
                let after_ok = self.text[end..].trim_start_matches(' ').starts_with(':');
                if before_ok && after_ok {
                    found = at..end;
                    from = end;
                    break;
                }
                // Past this match, and at least one character on (an empty key matches
                // everywhere: stepping by its length never moved and never ended).
                search = self.text[at..]
                    .chars()
                    .next()
                    .map_or(self.text.len(), |c| end.max(at + c.len_utf8()));
                if search >= self.text.len() {
                    return found;
                }
            }
        }
        found
    }

    /// Span of `value` written after the key path, or of the key if not found.
    pub fn value_span(&self, path: &[String], value: &str) -> std::ops::Range<usize> {
        let key = self.span(path);
        match self.text[key.end..].find(value) {
            Some(i) if !self.text[key.end..key.end + i].contains('\n') => {
                key.end + i..key.end + i + value.len()
            }
            _ => key,
        }
    }
}
