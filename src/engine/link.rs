//! What the engine adds to a book's data after loading: a `systems` entry whose `chip` names a
//! `hardware` entry gets that chip's record as its `hardware` field, so an engine function can take
//! a system record alone (`decode(models.deepseek_v3, systems.gb200_nvl72)`); then every entry gets
//! its typed engine records attached ([`crate::engine::records::attach_decoded`]), decoded once.
//!
//! The notebook's data loader knows no engine field names; this is where the engine's own
//! conventions about the bundled data's shape live.

use crate::calc::{Scope, Value};
use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Sources};
use crate::notebook::data::{DataFile, Locator};

/// Links every `systems` entry to its chip (a `chip` id that `hardware.yaml` lacks is an error at
/// that id; books without both files are left as they are), then attaches every entry's typed
/// engine records.
pub fn link_records(
    scope: &mut Scope,
    files: &mut [DataFile],
    sources: &Sources,
) -> Vec<Diagnostic> {
    let diags = link_systems(scope, files, sources);
    for file in files.iter_mut() {
        file.value = crate::engine::records::attach_decoded(&file.value);
        scope.set(&file.name, file.value.clone());
    }
    diags
}

fn link_systems(scope: &mut Scope, files: &mut [DataFile], sources: &Sources) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let Some(hardware) = files
        .iter()
        .find(|f| f.name == "hardware")
        .map(|f| f.value.clone())
    else {
        return diags;
    };
    let Some(systems) = files.iter_mut().find(|f| f.name == "systems") else {
        return diags;
    };
    let Value::Record(entries) = &systems.value else {
        return diags;
    };
    let locator = Locator::new(
        sources.get(&systems.rel).unwrap_or(""),
        systems.rel.to_string_lossy().into(),
    );
    let mut linked = Vec::with_capacity(entries.fields.len());
    for (id, entry) in &entries.fields {
        let mut entry = entry.clone();
        if let (Value::Record(fields), Some(chip)) =
            (&entry, entry.field("chip").and_then(Value::as_str))
            && fields.get("hardware").is_none()
        {
            match hardware.field(chip) {
                Some(chip_record) => {
                    let mut record = (**fields).clone();
                    record
                        .fields
                        .push(("hardware".to_string(), chip_record.clone()));
                    entry = Value::Record(std::sync::Arc::new(record));
                }
                None => {
                    let path = [id.clone(), "chip".to_string()];
                    diags.push(
                        Diagnostic::error(
                            Code::UnknownChip,
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
    scope.set("systems", systems.value.clone());
    diags
}
