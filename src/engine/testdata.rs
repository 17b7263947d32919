//! The bundled `data/*.yaml`, loaded as a book loads it (the notebook's data loader, then the
//! engine's linking and decoding), for the engine's unit tests: a test of the engine's arithmetic
//! reads its chips and models from the same figures the book uses, not from copies.

use std::path::Path;
use std::sync::OnceLock;

use crate::calc::{Scope, Value};
use crate::diagnostic::Sources;
use crate::engine::hardware::{Chip, System};
use crate::engine::memory::MemoryTier;
use crate::engine::model::Model;
use crate::engine::records;

/// The data files' records (`hardware`, `models`, …), loaded once per test binary.
fn files() -> &'static Vec<(String, Value)> {
    static FILES: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut scope = Scope::new();
        let mut sources = Sources::new();
        let (mut files, diags) = crate::notebook::data::load(
            &root.join("data"),
            Path::new("data"),
            &mut scope,
            &mut sources,
        );
        assert!(diags.is_empty(), "data/ loads with diagnostics: {diags:?}");
        let diags = crate::engine::link::link_records(&mut scope, &mut files, &sources);
        assert!(diags.is_empty(), "data/ links with diagnostics: {diags:?}");
        files.into_iter().map(|f| (f.name, f.value)).collect()
    })
}

/// The entry `id` of `data/<file>.yaml`.
#[track_caller]
pub fn entry(file: &str, id: &str) -> &'static Value {
    files()
        .iter()
        .find(|(name, _)| name == file)
        .and_then(|(_, v)| v.field(id))
        .unwrap_or_else(|| panic!("data/{file}.yaml has no entry `{id}`"))
}

/// Every entry of `data/<file>.yaml`.
pub fn entries(file: &str) -> Vec<(&'static str, &'static Value)> {
    match files().iter().find(|(name, _)| name == file) {
        Some((_, Value::Record(r))) => r.fields.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        _ => Vec::new(),
    }
}

/// `models.<id>` as the engine's model.
#[track_caller]
pub fn model(id: &str) -> Model {
    let v = entry("models", id);
    records::model(v, id)
        .unwrap_or_else(|e| panic!("{e}"))
        .model
        .clone()
}

/// `hardware.<id>` as the engine's chip.
#[track_caller]
pub fn chip(id: &str) -> Chip {
    let v = entry("hardware", id);
    records::hw(v, id)
        .unwrap_or_else(|e| panic!("{e}"))
        .chip
        .clone()
}

/// `systems.<id>` as the engine's system.
#[track_caller]
pub fn system(id: &str) -> System {
    let v = entry("systems", id);
    let h = records::hw(v, id).unwrap_or_else(|e| panic!("{e}"));
    let name = v.field("name").and_then(Value::as_str).unwrap_or(id);
    System {
        name: name.to_string(),
        chip: h.chip.clone(),
        chips: h.chips.unwrap_or(1),
        scale_up_domain: h.chip.scale_up_domain,
    }
}

/// `memory.<id>` as the engine's memory tier.
#[track_caller]
pub fn tier(id: &str) -> MemoryTier {
    let v = entry("memory", id);
    let t = records::tier(v, id).unwrap_or_else(|e| panic!("{e}"));
    MemoryTier {
        name: id.to_string(),
        capacity: t.capacity,
        bandwidth: t.bandwidth,
        cost_per_byte: None,
    }
}
