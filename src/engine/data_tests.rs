//! Checks on `data/*.yaml` that need no unit parser: every entry is sourced with `https://` URLs,
//! every quantity uses an allowed unit spelling, and the in-code fixtures carry the same figures
//! as the YAML (converted here by a minimal test-only reader; the calc unit parser does the real
//! conversion at load).

use std::path::PathBuf;

use serde_yaml::Value;

use crate::engine::catalogue::fixtures;
use crate::engine::hardware::Chip;
use crate::engine::memory::MemoryTier;
use crate::engine::model::{Attention, Model};

/// Unit spellings a quantity string may use, with their factor to SI base units
/// (bytes, seconds, FLOP, USD, tokens; bits are converted to bytes).
const UNITS: &[(&str, f64)] = &[
    ("GFLOP/s", 1e9),
    ("TFLOP/s", 1e12),
    ("PFLOP/s", 1e15),
    ("MB", 1e6),
    ("GB", 1e9),
    ("TB", 1e12),
    ("GiB", 1_073_741_824.0),
    ("MB/s", 1e6),
    ("GB/s", 1e9),
    ("TB/s", 1e12),
    ("Gb/s", 1e9 / 8.0),
    ("W", 1.0),
    ("kW", 1e3),
    ("$/hour", 1.0 / 3600.0),
    ("$/Mtok", 1e-6),
    ("$/Mtok/hour", 1e-6 / 3600.0),
    ("$/GB", 1e-9),
    ("ms", 1e-3),
    ("s", 1.0),
    ("min", 60.0),
    ("hour", 3600.0),
    ("day", 86_400.0),
    ("tokens", 1.0),
];

/// Keys whose string values are prose or identifiers, never quantities.
fn is_text_key(key: &str) -> bool {
    matches!(key, "name" | "note" | "date_read" | "topology") || key.ends_with("_note")
}

/// Keys that hold source URLs.
fn is_source_key(key: &str) -> bool {
    key == "source" || key.ends_with("_source")
}

/// Parses `"<number> <unit>"` into SI base units, or `None` if it is not one.
fn quantity(s: &str) -> Option<f64> {
    let (number, unit) = s.split_once(' ')?;
    let value: f64 = number.parse().ok()?;
    let factor = UNITS.iter().find(|(u, _)| *u == unit)?.1;
    Some(value * factor)
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn load(file: &str) -> Value {
    let path = data_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const FILES: &[&str] = &[
    "hardware.yaml",
    "systems.yaml",
    "models.yaml",
    "memory.yaml",
    "pricing.yaml",
];

fn entries(file: &str) -> Vec<(String, Value)> {
    let Value::Mapping(map) = load(file) else {
        panic!("{file}: the top level must be a map of entries")
    };
    map.into_iter()
        .map(|(k, v)| (k.as_str().expect("entry ids are strings").to_string(), v))
        .collect()
}

fn check_sources(at: &str, value: &Value, problems: &mut Vec<String>) {
    let urls: Vec<&Value> = match value {
        Value::String(_) => vec![value],
        Value::Sequence(items) => items.iter().collect(),
        _ => vec![],
    };
    if urls.is_empty() {
        problems.push(format!(
            "{at}: source must be a URL or a non-empty list of URLs"
        ));
    }
    for url in urls {
        match url.as_str() {
            Some(u) if u.starts_with("https://") && !u.contains(' ') => {}
            _ => problems.push(format!("{at}: source {url:?} is not an https:// URL")),
        }
    }
}

/// Walks a value, checking quantity strings and nested sources.
fn check_value(at: &str, key: &str, value: &Value, problems: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                let k = k.as_str().unwrap_or("?");
                let here = format!("{at}.{k}");
                if is_source_key(k) {
                    check_sources(&here, v, problems);
                } else {
                    check_value(&here, k, v, problems);
                }
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                check_value(&format!("{at}[{i}]"), key, v, problems);
            }
        }
        Value::String(s) if key == "date_read" => {
            let ok = (s.len() == 7 || s.len() == 10)
                && s.chars().enumerate().all(|(i, c)| {
                    if i == 4 || i == 7 {
                        c == '-'
                    } else {
                        c.is_ascii_digit()
                    }
                });
            if !ok {
                problems.push(format!(
                    "{at}: date_read {s:?} is not YYYY-MM or YYYY-MM-DD"
                ));
            }
        }
        Value::String(s) if !is_text_key(key) => {
            let starts_like_a_number = s
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | '$'));
            if starts_like_a_number && quantity(s).is_none() {
                problems.push(format!(
                    "{at}: {s:?} is not `<number> <unit>` with an allowed unit"
                ));
            }
            if s.trim().is_empty() {
                problems.push(format!("{at}: empty string"));
            }
        }
        _ => {}
    }
}

#[test]
fn every_data_entry_is_sourced_and_uses_allowed_units() {
    let mut problems = Vec::new();
    for file in FILES {
        let list = entries(file);
        assert!(!list.is_empty(), "{file} has no entries");
        for (id, entry) in list {
            let at = format!("{file}:{id}");
            let is_snake = id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !is_snake {
                problems.push(format!("{at}: id is not snake_case"));
            }
            let Value::Mapping(map) = &entry else {
                problems.push(format!("{at}: an entry must be a map"));
                continue;
            };
            match map.get("name").and_then(Value::as_str) {
                Some(n) if !n.trim().is_empty() => {}
                _ => problems.push(format!("{at}: missing a non-empty `name`")),
            }
            if map.get("source").is_none() {
                problems.push(format!("{at}: missing `source`"));
            }
            check_value(&at, "", &entry, &mut problems);
        }
    }
    assert!(
        problems.is_empty(),
        "data problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_unit_check_rejects_misspelt_units() {
    assert_eq!(quantity("8 TB/s"), Some(8e12));
    assert_eq!(quantity("400 Gb/s"), Some(50e9));
    assert_eq!(quantity("2.95 $/hour"), Some(2.95 / 3600.0));
    assert_eq!(quantity("14.8e12 tokens"), Some(14.8e12));
    for bad in ["8 TB/S", "8TB/s", "8 TBps", "eight TB/s", "8 TB/s "] {
        assert_eq!(quantity(bad), None, "{bad}");
    }
    let mut problems = Vec::new();
    let yaml: Value = serde_yaml::from_str("x: {bandwidth: 8 tb/s, name: 8 of them}").unwrap();
    check_value("t", "", &yaml, &mut problems);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let yaml: Value = serde_yaml::from_str("x: {source: [http://a.b]}").unwrap();
    check_value("t", "", &yaml, &mut problems);
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[test]
fn systems_name_chips_that_exist() {
    let chips: Vec<String> = entries("hardware.yaml")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for (id, system) in entries("systems.yaml") {
        let chip = system["chip"].as_str().unwrap_or_default();
        assert!(
            chips.iter().any(|c| c == chip),
            "systems.yaml:{id}: unknown chip {chip:?}"
        );
    }
}

#[test]
fn model_layer_counts_add_up() {
    for (id, m) in entries("models.yaml") {
        let kind = m["attention"]["kind"].as_str().unwrap_or_default();
        assert!(
            ["MHA", "GQA", "MQA", "MLA"].contains(&kind),
            "models.yaml:{id}: kind {kind:?}"
        );
        if let Value::Mapping(_) = &m["experts"] {
            let layers = m["layers"].as_u64().unwrap();
            let moe = m["experts"]["moe_layers"].as_u64().unwrap();
            let dense = m["experts"]["dense_layers"].as_u64().unwrap();
            assert_eq!(moe + dense, layers, "models.yaml:{id}: MoE + dense layers");
        }
        let total = m["params_total"].as_f64().unwrap();
        let active = m["params_active"].as_f64().unwrap();
        assert!(active <= total, "models.yaml:{id}: active > total");
    }
}

// ---- fixtures agree with the YAML ----

fn entry(file: &str, id: &str) -> Value {
    entries(file)
        .into_iter()
        .find(|(k, _)| k == id)
        .unwrap_or_else(|| panic!("{file}: no entry {id}"))
        .1
}

#[track_caller]
fn same_q(field: &str, yaml: &Value, fixture: Option<f64>) {
    let from_yaml = yaml
        .as_str()
        .map(|s| quantity(s).unwrap_or_else(|| panic!("{field}: {s}")));
    match (from_yaml, fixture) {
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= 1e-9 * b.abs(),
            "{field}: yaml {a} vs fixture {b}"
        ),
        (None, None) => {}
        (a, b) => panic!("{field}: yaml {a:?} vs fixture {b:?}"),
    }
}

#[track_caller]
fn same_n(field: &str, yaml: &Value, fixture: Option<f64>) {
    assert_eq!(yaml.as_f64(), fixture, "{field}");
}

fn check_chip(id: &str, chip: &Chip) {
    let y = entry("hardware.yaml", id);
    assert_eq!(y["name"].as_str(), Some(chip.name.as_str()), "{id}.name");
    same_q(
        &format!("{id}.flops.bf16"),
        &y["flops"]["bf16"],
        Some(chip.flops.bf16),
    );
    same_q(
        &format!("{id}.flops.fp8"),
        &y["flops"]["fp8"],
        chip.flops.fp8,
    );
    same_q(
        &format!("{id}.flops.fp4"),
        &y["flops"]["fp4"],
        chip.flops.fp4,
    );
    same_q(
        &format!("{id}.hbm.capacity"),
        &y["hbm"]["capacity"],
        Some(chip.hbm_capacity),
    );
    same_q(
        &format!("{id}.hbm.bandwidth"),
        &y["hbm"]["bandwidth"],
        Some(chip.hbm_bandwidth),
    );
    same_q(
        &format!("{id}.scale_up.bandwidth"),
        &y["scale_up"]["bandwidth"],
        Some(chip.scale_up_bandwidth),
    );
    same_n(
        &format!("{id}.scale_up.domain"),
        &y["scale_up"]["domain"],
        Some(f64::from(chip.scale_up_domain)),
    );
    same_q(
        &format!("{id}.scale_out.bandwidth"),
        &y["scale_out"]["bandwidth"],
        chip.scale_out_bandwidth,
    );
    same_q(&format!("{id}.power"), &y["power"], chip.power);
    same_q(&format!("{id}.price"), &y["price"], chip.price);
    same_n(&format!("{id}.year"), &y["year"], chip.year.map(f64::from));
    if let Some(per_dir) = y["scale_up"]["bandwidth_per_direction"].as_str() {
        assert_eq!(
            quantity(per_dir),
            Some(chip.scale_up_per_direction()),
            "{id}: per direction"
        );
    }
}

#[test]
fn chip_fixtures_match_hardware_yaml() {
    check_chip("a100", &fixtures::a100());
    check_chip("h100", &fixtures::h100());
    check_chip("h200", &fixtures::h200());
    check_chip("b200", &fixtures::b200());
    check_chip("gb200", &fixtures::gb200());
    check_chip("gb300", &fixtures::gb300());
    check_chip("mi300x", &fixtures::mi300x());
    check_chip("tpu_v4", &fixtures::tpu_v4());
    check_chip("tpu_v5e", &fixtures::tpu_v5e());
    check_chip("tpu_v5p", &fixtures::tpu_v5p());
    check_chip("ironwood", &fixtures::ironwood());
}

fn check_model(id: &str, m: &Model) {
    let y = entry("models.yaml", id);
    assert_eq!(y["name"].as_str(), Some(m.name.as_str()), "{id}.name");
    same_n(
        &format!("{id}.params_total"),
        &y["params_total"],
        Some(m.params_total),
    );
    same_n(
        &format!("{id}.params_active"),
        &y["params_active"],
        Some(m.params_active),
    );
    same_n(
        &format!("{id}.layers"),
        &y["layers"],
        Some(f64::from(m.layers)),
    );
    same_n(
        &format!("{id}.hidden"),
        &y["hidden"],
        Some(f64::from(m.hidden)),
    );
    if y["weight_bytes"] != Value::Null {
        same_n(
            &format!("{id}.weight_bytes"),
            &y["weight_bytes"],
            Some(m.weight_bytes),
        );
    }
    same_q(
        &format!("{id}.training_tokens"),
        &y["training_tokens"],
        m.training_tokens,
    );
    let a = &y["attention"];
    let n = |v: u32| Some(f64::from(v));
    same_n(&format!("{id}.heads"), &a["heads"], n(m.attention.heads()));
    match m.attention {
        Attention::Gqa {
            kv_heads, head_dim, ..
        } => {
            assert_eq!(a["kind"].as_str(), Some("GQA"));
            same_n(&format!("{id}.kv_heads"), &a["kv_heads"], n(kv_heads));
            same_n(&format!("{id}.head_dim"), &a["head_dim"], n(head_dim));
        }
        Attention::Mha { head_dim, .. } | Attention::Mqa { head_dim, .. } => {
            assert_eq!(
                a["kind"].as_str().map(|k| k == "MHA" || k == "MQA"),
                Some(true)
            );
            same_n(&format!("{id}.head_dim"), &a["head_dim"], n(head_dim));
        }
        Attention::Mla {
            kv_lora_rank,
            qk_rope_head_dim,
            qk_nope_head_dim,
            v_head_dim,
            ..
        } => {
            assert_eq!(a["kind"].as_str(), Some("MLA"));
            same_n(
                &format!("{id}.kv_lora_rank"),
                &a["kv_lora_rank"],
                n(kv_lora_rank),
            );
            same_n(
                &format!("{id}.qk_rope_head_dim"),
                &a["qk_rope_head_dim"],
                n(qk_rope_head_dim),
            );
            same_n(
                &format!("{id}.qk_nope_head_dim"),
                &a["qk_nope_head_dim"],
                n(qk_nope_head_dim),
            );
            same_n(&format!("{id}.v_head_dim"), &a["v_head_dim"], n(v_head_dim));
        }
    }
    match &m.moe {
        Some(moe) => {
            let e = &y["experts"];
            same_n(&format!("{id}.routed"), &e["routed"], n(moe.routed));
            same_n(&format!("{id}.active"), &e["active"], n(moe.active));
            same_n(&format!("{id}.shared"), &e["shared"], n(moe.shared));
            same_n(
                &format!("{id}.moe_layers"),
                &e["moe_layers"],
                n(moe.moe_layers),
            );
            same_n(
                &format!("{id}.expert_ffn"),
                &e["expert_ffn"],
                n(moe.expert_ffn),
            );
        }
        None => assert_eq!(y["experts"], Value::Null, "{id}: experts"),
    }
    match &m.sliding_window {
        Some(w) => {
            same_n(
                &format!("{id}.window"),
                &y["sliding_window"]["window"],
                n(w.window),
            );
            same_n(
                &format!("{id}.window layers"),
                &y["sliding_window"]["layers"],
                n(w.layers),
            );
        }
        None => assert_eq!(y["sliding_window"], Value::Null, "{id}: sliding_window"),
    }
}

#[test]
fn model_fixtures_match_models_yaml() {
    check_model("deepseek_v3", &fixtures::deepseek_v3());
    check_model("kimi_k2", &fixtures::kimi_k2());
    check_model("qwen3_235b_a22b", &fixtures::qwen3_235b());
    check_model("gpt_oss_120b", &fixtures::gpt_oss_120b());
    check_model("llama31_8b", &fixtures::llama31_8b());
    check_model("llama31_70b", &fixtures::llama31_70b());
    check_model("llama31_405b", &fixtures::llama31_405b());
    check_model("mixtral_8x7b", &fixtures::mixtral_8x7b());
    check_model("palm_540b", &fixtures::palm_540b());
}

fn check_tier(id: &str, t: &MemoryTier) {
    let y = entry("memory.yaml", id);
    assert_eq!(y["name"].as_str(), Some(t.name.as_str()), "{id}.name");
    same_q(&format!("{id}.capacity"), &y["capacity"], Some(t.capacity));
    same_q(
        &format!("{id}.bandwidth"),
        &y["bandwidth"],
        Some(t.bandwidth),
    );
    same_q(
        &format!("{id}.cost_per_gb.low"),
        &y["cost_per_gb"]["low"],
        t.cost_per_byte,
    );
}

#[test]
fn memory_fixtures_match_memory_yaml() {
    check_tier("grace_lpddr5x", &fixtures::grace_lpddr5x());
    check_tier("nvme_qlc_solidigm_d5_p5336", &fixtures::qlc_d5_p5336());
    check_tier("hdd_exos_x24", &fixtures::hdd_exos_x24());
}

#[test]
fn opus_fixture_matches_pricing_yaml() {
    let y = entry("pricing.yaml", "claude_opus_4_6");
    let p = fixtures::claude_opus_4_6();
    assert_eq!(y["name"].as_str(), Some(p.name.as_str()));
    assert_eq!(y["date_read"].as_str(), Some(p.date_read.as_str()));
    same_q("input", &y["input"], Some(p.standard.input));
    same_q("output", &y["output"], Some(p.standard.output));
    same_q("cached_input", &y["cached_input"], p.standard.cached_input);
    same_q("cache_write_5m", &y["cache_write_5m"], p.cache_write_5m);
    same_q("cache_write_1h", &y["cache_write_1h"], p.cache_write_1h);
    let (fast, speed) = p.fast.as_ref().unwrap();
    same_q("fast.input", &y["fast"]["input"], Some(fast.input));
    same_q("fast.output", &y["fast"]["output"], Some(fast.output));
    same_n("fast.speed_up", &y["fast"]["speed_up"], Some(*speed));
    let (threshold, long) = p.long_context.as_ref().unwrap();
    same_q(
        "long.threshold",
        &y["long_context"]["threshold"],
        Some(*threshold),
    );
    same_q("long.input", &y["long_context"]["input"], Some(long.input));
    same_q(
        "long.output",
        &y["long_context"]["output"],
        Some(long.output),
    );
}

#[test]
fn yaml_system_totals_agree_with_per_chip_figures() {
    // GB200 NVL72: 72 × 8 TB/s = 576 TB/s; 72 × 10 PF FP4 = 720 PF; 72 × 186 GB = 13.39 TB ≈ 13.4.
    let rack = entry("systems.yaml", "gb200_nvl72");
    let chip = fixtures::gb200();
    let t = &rack["totals"];
    let bw = quantity(t["hbm"]["bandwidth"].as_str().unwrap()).unwrap();
    assert_eq!(bw, 72.0 * chip.hbm_bandwidth);
    let fp4 = quantity(t["flops"]["fp4"].as_str().unwrap()).unwrap();
    assert_eq!(fp4, 72.0 * chip.flops.fp4.unwrap());
    let cap = quantity(t["hbm"]["capacity"].as_str().unwrap()).unwrap();
    assert!((cap - 72.0 * chip.hbm_capacity).abs() / cap < 0.005);
    // Ironwood pod: 9,216 × 4,614 TF = 42.52 EF ≈ 42,500 PF.
    let pod = entry("systems.yaml", "ironwood_pod");
    let fp8 = quantity(pod["totals"]["flops"]["fp8"].as_str().unwrap()).unwrap();
    let ironwood = fixtures::ironwood();
    assert!((fp8 - 9_216.0 * ironwood.flops.fp8.unwrap()).abs() / fp8 < 0.001);
}
