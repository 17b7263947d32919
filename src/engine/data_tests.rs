//! The bundled `data/*.yaml` against the engine's schema: every entry the engine reads decodes
//! into its typed record (through the notebook's loader and the calc unit parser, as a book loads
//! it), its sources are `https://` URLs, and the figures that must agree with each other do.

use std::path::Path;
use std::sync::Arc;

use crate::calc::{Scope, Value};
use crate::diagnostic::Sources;
use crate::engine::records::{self, Decoded};
use crate::engine::testdata::{chip, entries, entry};

/// Decodes an entry as one kind of engine record.
type Decoder = fn(&Value, &str) -> Result<(), String>;

/// Each data file and the kind of engine record its entries must decode as.
#[test]
fn every_bundled_entry_decodes_into_its_typed_record_at_load() {
    let kinds: [(&str, Decoder); 5] = [
        // An announced part with no compute figures yet (Rubin) is, to the engine, its memory.
        ("hardware", |v, p| match v.field("flops") {
            Some(_) => records::hw(v, p).map(drop),
            None => records::tier(v, p).map(drop),
        }),
        // A system of such a part (Rubin Ultra) is read by the chapters field by field.
        ("systems", |v, p| {
            match v.field("hardware").and_then(|h| h.field("flops")) {
                Some(_) => records::hw(v, p).map(drop),
                None => Ok(()),
            }
        }),
        ("models", |v, p| records::model(v, p).map(drop)),
        ("memory", |v, p| records::tier(v, p).map(drop)),
        ("pricing", |v, p| records::pricing(v, p).map(drop)),
    ];
    for (file, decode) in kinds {
        let list = entries(file);
        assert!(!list.is_empty(), "data/{file}.yaml has no entries");
        for (id, v) in list {
            if !matches!(v, Value::Record(_)) {
                continue; // the file's own `source:` or `note:`
            }
            decode(v, id).unwrap_or_else(|e| panic!("data/{file}.yaml {id}: {e}"));
            let compute_less_system =
                file == "systems" && v.field("hardware").and_then(|h| h.field("flops")).is_none();
            assert!(
                compute_less_system || v.attached::<Decoded>().is_some(),
                "data/{file}.yaml {id} was not decoded at load"
            );
        }
    }
}

/// A record decoded at load is taken as it is at every call, not decoded again.
#[test]
fn a_loaded_record_is_not_decoded_again_at_each_call() {
    let v = entry("models", "deepseek_v3");
    let a = records::model(v, "model").unwrap();
    let b = records::model(v, "model").unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    // The same record built in calc (no attachment) decodes to the same model.
    let Value::Record(r) = v else { unreachable!() };
    let mut bare = (**r).clone();
    bare.attached = None;
    let fresh = records::model(&Value::Record(Arc::new(bare)), "model").unwrap();
    assert!(!Arc::ptr_eq(&a, &fresh));
    assert_eq!(a.model, fresh.model);
}

#[test]
fn every_source_is_an_https_url() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (files, diags) = crate::notebook::data::load(
        &root.join("data"),
        Path::new("data"),
        &mut Scope::new(),
        &mut Sources::new(),
    );
    assert!(diags.is_empty(), "{diags:?}");
    for file in files {
        for e in file.entries {
            assert!(
                !e.sources.is_empty(),
                "{}: {} has no source",
                file.name,
                e.id
            );
            for s in &e.sources {
                assert!(
                    s.starts_with("https://"),
                    "{}: {}: source {s:?} is not an https:// URL",
                    file.name,
                    e.id
                );
            }
        }
    }
}

#[test]
fn model_layer_counts_add_up() {
    for (id, m) in entries("models") {
        let n = |path: &str| {
            path.split('.')
                .try_fold(m, |v, p| v.field(p))
                .and_then(Value::as_number)
        };
        if m.field("experts").is_some() {
            let (moe, dense) = (n("experts.moe_layers"), n("experts.dense_layers"));
            assert_eq!(
                moe.zip(dense).map(|(a, b)| a + b),
                n("layers"),
                "models.yaml {id}: MoE + dense layers"
            );
        }
        let (total, active) = (n("params_total").unwrap(), n("params_active").unwrap());
        assert!(active <= total, "models.yaml {id}: active > total");
    }
}

/// A quantity at a dotted path of a record, in base units.
fn si(v: &Value, path: &str) -> f64 {
    path.split('.')
        .try_fold(v, |v, p| v.field(p))
        .and_then(Value::as_si)
        .unwrap_or_else(|| panic!("no quantity at `{path}`"))
}

#[test]
fn system_totals_agree_with_per_chip_figures() {
    // GB200 NVL72: 72 × 8 TB/s = 576 TB/s; 72 × 10 PF FP4 = 720 PF; 72 × 186 GB = 13.39 TB ≈ 13.4.
    let rack = entry("systems", "gb200_nvl72");
    let gb200 = chip("gb200");
    assert_eq!(si(rack, "totals.hbm.bandwidth"), 72.0 * gb200.hbm_bandwidth);
    assert_eq!(
        si(rack, "totals.flops.fp4"),
        72.0 * gb200.flops.fp4.unwrap()
    );
    let cap = si(rack, "totals.hbm.capacity");
    assert!((cap - 72.0 * gb200.hbm_capacity).abs() / cap < 0.005);
    // Ironwood pod: 9,216 × 4,614 TF = 42.52 EF ≈ 42,500 PF.
    let fp8 = si(entry("systems", "ironwood_pod"), "totals.flops.fp8");
    assert!((fp8 - 9_216.0 * chip("ironwood").flops.fp8.unwrap()).abs() / fp8 < 0.001);
}

#[test]
fn opus_fast_mode_implies_one_fifteenth_of_the_batch() {
    // CLAIMS.md C10: 6x the price for 2.5x the speed ⇒ price ratio × speed ratio = 15.
    let p = records::pricing(entry("pricing", "claude_opus_4_6"), "price").unwrap();
    let (fast, speed) = p.fast().unwrap();
    let ratio = fast / p.output * speed;
    assert!((ratio - 15.0).abs() < 1e-9, "{ratio}");
}
