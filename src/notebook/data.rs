//! `data/*.yaml`: sourced figures loaded into every chapter's scope.
//!
//! Each file becomes a record named after the file (`data/hardware.yaml` → `hardware`), each entry a
//! record (`hardware.h100`). Strings that look like quantities (`8 TB/s`, `$2.00/hour`) are read with
//! the calc unit parser, so a typo in a unit is an error at its file and line. Every entry must name
//! its `source:`; fields whose name says what they measure (`bandwidth`, `capacity`, `flops`, …) must
//! have that dimension; the fields the engine needs must be present.

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

/// Keys whose values are always text, never quantities.
fn is_text_key(key: &str) -> bool {
    matches!(
        key,
        "name"
            | "source"
            | "note"
            | "kind"
            | "provider"
            | "date_read"
            | "weight_precision"
            | "topology"
            | "chip"
            | "url"
            | "model"
            | "year"
    ) || key.ends_with("_source")
        || key.ends_with("_note")
}

/// The unit a field must be measured in, by its name (and its parent's), if the name says.
fn expected_unit(path: &[String]) -> Option<&'static str> {
    let last = path.last()?.as_str();
    let parent = path.len().checked_sub(2).map(|i| path[i].as_str());
    match (parent, last) {
        (Some("flops"), _) => Some("FLOP/s"),
        (
            _,
            "bandwidth" | "bandwidth_per_direction" | "write_bandwidth" | "gpu_link_per_direction",
        ) => Some("B/s"),
        (_, "scale_up_bandwidth" | "scale_out_bandwidth") => Some("B/s"),
        (_, "capacity" | "usable") => Some("B"),
        (_, "power") => Some("W"),
        (_, "price") => Some("$/hour"),
        (_, "input" | "output" | "cached_input" | "cache_write_5m" | "cache_write_1h") => {
            Some("$/token")
        }
        (_, "training_tokens" | "max_context" | "threshold") => Some("token"),
        _ => None,
    }
}

/// Fields each file's entries must have (dotted paths), so the engine can use them.
fn required_fields(file: &str) -> &'static [&'static str] {
    match file {
        "hardware" => &["name", "flops.bf16", "hbm.capacity", "hbm.bandwidth"],
        "models" => &[
            "name",
            "params_total",
            "params_active",
            "layers",
            "hidden",
            "attention.kind",
        ],
        "memory" => &["name", "capacity", "bandwidth"],
        "systems" => &["name", "chip", "chips"],
        "pricing" => &["name", "input", "output"],
        _ => &["name"],
    }
}

/// Loads every `*.yaml` file of `dir` (relative path `rel` for diagnostics) into `scope`.
pub fn load(
    dir: &Path,
    rel: &Path,
    scope: &mut Scope,
    sources: &mut Sources,
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
                        "invalid-utf8",
                        format!("{} is not valid UTF-8", file_rel.display()),
                    )
                    .with_file(&file_rel),
                );
                continue;
            }
            Err(e) => {
                diags.push(
                    Diagnostic::error(
                        "unreadable-file",
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
                    "bad-data-name",
                    format!("data file name `{stem}` is not a calc name"),
                )
                .with_file(&file_rel)
                .with_help("name data files with letters, digits and `_`, e.g. `hardware.yaml`"),
            );
            continue;
        }
        let (file, file_diags) = load_text(&stem, &file_rel, &text, scope);
        diags.extend(file_diags);
        if let Some(file) = file {
            scope.set(&file.name, file.value.clone());
            files.push(file);
        }
    }
    if let Some(systems) = link_systems(&mut files, sources, &mut diags) {
        scope.set("systems", systems);
    }
    (files, diags)
}

/// Gives every `systems` entry whose `chip` names a `hardware` entry a `hardware` field holding
/// that chip's record, so an engine function can take a system record alone
/// (`decode(models.deepseek_v3, systems.gb200_nvl72)`). A `chip` id that `hardware.yaml` lacks is
/// an error. Returns the new `systems` value, if there is a file to link.
fn link_systems(
    files: &mut [DataFile],
    sources: &Sources,
    diags: &mut Vec<Diagnostic>,
) -> Option<Value> {
    let hardware = files.iter().find(|f| f.name == "hardware")?.value.clone();
    let systems = files.iter_mut().find(|f| f.name == "systems")?;
    let Value::Record(entries) = &systems.value else {
        return None;
    };
    let text = sources.get(&systems.rel).unwrap_or("");
    let locator = Locator::new(text);
    let mut linked = Vec::with_capacity(entries.fields.len());
    for (id, entry) in &entries.fields {
        let mut entry = entry.clone();
        if let (Value::Record(fields), Some(chip)) =
            (&entry, entry.field("chip").and_then(Value::as_str))
            && fields.get("hardware").is_none()
        {
            match hardware.field(chip) {
                Some(chip_record) => {
                    let mut fields = fields.fields.clone();
                    fields.push(("hardware".to_string(), chip_record.clone()));
                    entry = Value::record(fields);
                }
                None => {
                    let path = [id.clone(), "chip".to_string()];
                    diags.push(
                        Diagnostic::error(
                            "unknown-chip",
                            format!("system `{id}` names chip `{chip}`, which hardware.yaml lacks"),
                        )
                        .with_file(&systems.rel)
                        .with_span(locator.value_span(&path, chip))
                        .with_label("not a hardware.yaml id")
                        .with_help(
                            "`chip:` must be the id of an entry in hardware.yaml, e.g. `h100`",
                        ),
                    );
                }
            }
        }
        linked.push((id.clone(), entry));
    }
    systems.value = Value::record(linked);
    Some(systems.value.clone())
}

/// Reads one data file's text.
pub fn load_text(
    stem: &str,
    rel: &Path,
    text: &str,
    scope: &Scope,
) -> (Option<DataFile>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let yaml: serde_yaml::Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let mut d = Diagnostic::error("bad-yaml", format!("invalid YAML: {e}")).with_file(rel);
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
                    "bad-data",
                    "a data file must be a map of entries (`id: {…}`)",
                )
                .with_file(rel)
                .with_span(0..text.len().min(1)),
            ],
        );
    };
    let locator = Locator::new(text);
    let mut entries = Vec::new();
    let mut fields = Vec::new();
    for (key, value) in &map {
        let Some(id) = key.as_str() else {
            diags.push(
                Diagnostic::error("bad-data", "entry ids must be names")
                    .with_file(rel)
                    .with_span(0..1),
            );
            continue;
        };
        let path = vec![id.to_string()];
        let entry_span = locator.span(&path);
        let serde_yaml::Value::Mapping(_) = value else {
            diags.push(
                Diagnostic::error("bad-data", format!("entry `{id}` must be a map of fields"))
                    .with_file(rel)
                    .with_span(entry_span),
            );
            continue;
        };
        let mut summary = DataEntry {
            id: id.to_string(),
            name: id.to_string(),
            figures: Vec::new(),
            sources: Vec::new(),
            notes: Vec::new(),
        };
        let converted = convert(value, &path, scope, &locator, rel, &mut diags, &mut summary);
        if summary.sources.is_empty() {
            diags.push(
                Diagnostic::error("missing-source", format!("entry `{id}` has no `source:`"))
                    .with_file(rel)
                    .with_span(entry_span.clone())
                    .with_help("every figure needs the URL it was read from: `source: https://…`"),
            );
        }
        for required in required_fields(stem) {
            let mut v = Some(&converted);
            for part in required.split('.') {
                v = v.and_then(|x| x.field(part));
            }
            if v.is_none() {
                diags.push(
                    Diagnostic::error(
                        "missing-field",
                        format!("entry `{id}` lacks `{required}`, which the engine needs"),
                    )
                    .with_file(rel)
                    .with_span(entry_span.clone())
                    .with_help("if the figure is unknown, say so in `note:` and leave the entry out of the chapters that need it"),
                );
            }
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
            Value::record(fields)
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
            Value::number(x)
        }
        Y::String(s) => {
            if key == "source" || key.ends_with("_source") {
                summary.sources.push(s.clone());
            } else if key == "note" || key.ends_with("_note") {
                summary.notes.push(s.clone());
            } else if key == "name" && path.len() == 2 {
                summary.name = s.clone();
            }
            let looks_numeric = s
                .trim_start()
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | '$'));
            if is_text_key(key) || !looks_numeric {
                return Value::string(s);
            }
            match scope.parse_quantity(s) {
                Ok(q) => {
                    if let Some(unit) = expected_unit(path) {
                        check_dimension(&q, unit, scope, path, locator, rel, diags, s);
                    }
                    summary.figures.push((dotted(), s.clone()));
                    q
                }
                Err(d) => {
                    let span = locator.value_span(path, s);
                    diags.push(
                        Diagnostic::error(
                            "bad-quantity",
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

#[allow(clippy::too_many_arguments)]
fn check_dimension(
    q: &Value,
    unit: &str,
    scope: &Scope,
    path: &[String],
    locator: &Locator,
    rel: &Path,
    diags: &mut Vec<Diagnostic>,
    written: &str,
) {
    let Ok(reference) = scope.parse_quantity(&format!("1 {unit}")) else {
        return;
    };
    let (Some(have), Some(want)) = (q.dim(), reference.dim()) else {
        return;
    };
    // Network links are quoted in bits per second; bits and bytes share a dimension.
    if have != want {
        diags.push(
            Diagnostic::error(
                "wrong-dimension",
                format!(
                    "`{}` should be measured like {unit}, but `{written}` is not",
                    path[1..].join(".")
                ),
            )
            .with_file(rel)
            .with_span(locator.value_span(path, written))
            .with_label(format!("expected a quantity like {unit}")),
        );
    }
}

/// Finds where a key path's value sits in the YAML text, for diagnostics (serde_yaml values carry
/// no positions).
struct Locator<'a> {
    text: &'a str,
    /// Where each top-level key starts, so that finding an entry of a 100,000-entry file does
    /// not scan the file from its start (which made loading quadratic).
    tops: std::collections::HashMap<&'a str, usize>,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str) -> Self {
        let mut tops = std::collections::HashMap::new();
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
        }
        Locator { text, tops }
    }

    /// Span of the last key of `path`, searching each key after the previous one.
    fn span(&self, path: &[String]) -> std::ops::Range<usize> {
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
    fn value_span(&self, path: &[String], value: &str) -> std::ops::Range<usize> {
        let key = self.span(path);
        match self.text[key.end..].find(value) {
            Some(i) if !self.text[key.end..key.end + i].contains('\n') => {
                key.end + i..key.end + i + value.len()
            }
            _ => key,
        }
    }
}
