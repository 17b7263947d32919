//! `data/*.yaml` through the notebook's loader (`notebook::data::load`): the repository's files
//! load cleanly, every entry is sourced, every quantity has the dimension its field name implies,
//! and mistakes in a data file are errors at the right line.

use std::path::Path;

use calcbook::Sources;
use calcbook::calc::{Dim, Scope, Value};
use calcbook::diagnostic::Diagnostic;
use calcbook::notebook::data::{self, DataFile};

fn load(dir: &Path) -> (Scope, Vec<DataFile>, Vec<Diagnostic>, Sources) {
    let mut scope = Scope::new();
    calcbook::engine::bindings::register(&mut scope);
    let mut sources = Sources::new();
    let (mut files, mut diags) = data::load(dir, Path::new("data"), &mut scope, &mut sources);
    // The engine links systems to their chips, as a book's build does.
    diags.extend(calcbook::engine::link::link_records(
        &mut scope, &mut files, &sources,
    ));
    (scope, files, diags, sources)
}

fn repo_data() -> (Scope, Vec<DataFile>, Vec<Diagnostic>, Sources) {
    load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data"))
}

#[test]
fn the_repository_data_loads_without_diagnostics() {
    let (scope, files, diags, _) = repo_data();
    assert!(diags.is_empty(), "{diags:#?}");
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "deployments",
            "hardware",
            "measurements",
            "memory",
            "models",
            "pricing",
            "systems",
            "talk"
        ],
        "one record per file, in file-name order"
    );
    for f in &files {
        assert!(!f.entries.is_empty(), "{} has no entries", f.name);
        assert!(scope.get(&f.name).is_some(), "{} is not in scope", f.name);
    }
    // Spot checks of the conversion: `3.35 TB/s` → 3.35e12 B/s; `400 Gb/s` → 50e9 B/s;
    // `2.95 $/hour` → 2.95/3600 $/s; `14.8e12 tokens` → 14.8e12 tokens; `4.50 $/Mtok/hour`.
    let v = |src: &str, unit: &str| {
        scope
            .eval_expr(src)
            .unwrap_or_else(|d| panic!("{src}: {}", d.message))
            .as_unit(unit, scope.registry())
            .unwrap_or_else(|e| panic!("{src}: {e}"))
    };
    assert_eq!(v("hardware.h100.hbm.bandwidth", "B/s"), 3.35e12);
    assert_eq!(v("hardware.h100.scale_out.bandwidth", "B/s"), 50e9);
    assert!((v("hardware.h100.price", "$/s") - 2.95 / 3600.0).abs() < 1e-15);
    assert_eq!(v("models.deepseek_v3.training_tokens", "tokens"), 14.8e12);
    let params = scope.eval_expr("models.deepseek_v3.params_total").unwrap();
    assert_eq!(params.as_number(), Some(671e9));
    assert!((v("pricing.gemini_3_1_pro.cache_storage", "$/Mtok/hour") - 4.5).abs() < 1e-12);
    assert!((v("memory.hdd_exos_x24.cost_per_gb.low", "$/GB") - 0.014).abs() < 1e-15);
    assert_eq!(v("hardware.tpu_v4.hbm.capacity", "GiB"), 32.0);
}

#[test]
fn every_entry_has_https_sources() {
    let (_, files, _, _) = repo_data();
    for f in &files {
        for e in &f.entries {
            assert!(!e.sources.is_empty(), "{}.{} has no source", f.name, e.id);
            for url in &e.sources {
                assert!(
                    url.starts_with("https://") && !url.contains(' '),
                    "{}.{}: source {url:?} is not an https:// URL",
                    f.name,
                    e.id
                );
            }
            assert_ne!(e.name, e.id, "{}.{} has no display name", f.name, e.id);
        }
    }
}

/// The unit a field's quantity must be measured in, by its name and its parent's name; `"1"`
/// for plain counts and ratios. `None`: an unclassified field (the test fails on it, so a new
/// field must be added here with its dimension).
fn unit_for(parent: &str, key: &str) -> Option<&'static str> {
    Some(match (parent, key) {
        ("flops", _) => "FLOP/s",
        ("cost_per_gb", _) => "$/GB",
        // measurements.yaml and talk.yaml: ranges and tables named by what they measure.
        ("user_rate", _) => "tokens/s",
        ("nvlink" | "rdma", _) => "B/s",
        ("low_latency_dispatch" | "low_latency_combine", _) => "s",
        ("earlier", _) => "tokens",
        (
            "low_latency_prefill"
            | "low_latency_decode"
            | "high_throughput_prefill"
            | "high_throughput_decode",
            "batch" | "tokens" | "mfu",
        ) => "1",
        ("batch_margin", "low" | "high") => "1",
        (
            _,
            "gpus_per_node"
            | "nodes_peak"
            | "nodes_mean"
            | "decode_nodes"
            | "prefill_nodes"
            | "gpus"
            | "pipeline_stages"
            | "expert_parallel"
            | "batch_sequences"
            | "batch"
            | "params"
            | "price_rise_to_2026"
            | "dies_per_chip"
            | "hardware_ratio"
            | "frontier_params_active"
            | "chinchilla_tokens_per_param"
            | "rl_flops_per_param"
            | "decode_relative_mfu"
            | "bandwidth_gap",
        ) => "1",
        ("rubin", "hbm") => "B",
        (_, "time" | "decode_step_int8" | "decode_step_bf16" | "train_interval" | "lifetime") => {
            "s"
        }
        (_, "mha_kv_cache" | "hbm") => "B",
        (_, "prefill_rate" | "decode_rate" | "world_rate" | "model_rate") => "tokens/s",
        (
            _,
            "input_tokens" | "cache_hit_tokens" | "output_tokens" | "mean_context" | "tokens"
            | "tokens_per_month" | "sequence_length" | "context_month",
        ) => "tokens",
        (_, "daily_cost" | "daily_revenue_r1_prices") => "$",
        (_, "pretraining_gpu_hours" | "total_gpu_hours") => "s",
        (_, "gpu_price") => "$/hour",
        (
            _,
            "bandwidth"
            | "bandwidth_per_direction"
            | "write_bandwidth"
            | "gpu_link_per_direction"
            | "per_stack_bandwidth"
            | "channel_bandwidth"
            | "scale_up_bandwidth"
            | "scale_out_bandwidth",
        ) => "B/s",
        (_, "capacity" | "usable") => "B",
        (_, "power") => "W",
        (_, "price") => "$/hour",
        (_, "input" | "output" | "cached_input" | "cache_write_5m" | "cache_write_1h") => "$/Mtok",
        (_, "cache_storage") => "$/Mtok/hour",
        (_, "training_tokens" | "max_context" | "threshold") => "tokens",
        (
            _,
            "year" | "params_total" | "params_active" | "layers" | "hidden" | "heads" | "kv_heads"
            | "head_dim" | "kv_lora_rank" | "q_lora_rank" | "qk_rope_head_dim" | "qk_nope_head_dim"
            | "v_head_dim" | "window" | "routed" | "active" | "shared" | "expert_ffn"
            | "moe_layers" | "dense_layers" | "dense_ffn" | "vocab" | "weight_bytes" | "domain"
            | "chips" | "cpus" | "scale_up_domain" | "speed_up" | "batch_discount",
        ) => "1",
        (_, "nodes" | "redundant_experts") => "1",
        (_, "routed_experts_per_gpu" | "shared_experts_per_gpu") => "1",
        // `sliding_window.layers` is covered by "layers" above.
        _ => return None,
    })
}

fn check_dims(scope: &Scope, at: &str, parent: &str, v: &Value, problems: &mut Vec<String>) {
    match v {
        Value::Record(r) => {
            for (k, child) in &r.fields {
                // A system's linked chip record is checked under hardware.
                if k == "hardware" {
                    continue;
                }
                let key = k.rsplit('.').next().unwrap_or(k);
                check_dims(scope, &format!("{at}.{k}"), key, child, problems);
            }
        }
        Value::List(items) => {
            for item in items.iter() {
                check_dims(scope, at, parent, item, problems);
            }
        }
        Value::Quantity { dim, .. } => {
            let grandparent = at.rsplit('.').nth(1).unwrap_or("");
            match unit_for(grandparent, parent) {
                None => problems.push(format!("{at}: unclassified quantity field `{parent}`")),
                Some(unit) => {
                    let want: Dim = if unit == "1" {
                        Dim::none()
                    } else {
                        scope.registry().parse_unit(unit).expect("a unit").1
                    };
                    if *dim != want {
                        problems.push(format!(
                            "{at}: expected {}, found {}",
                            scope.registry().describe(&want),
                            scope.registry().describe(dim)
                        ));
                    }
                }
            }
        }
        _ => {}
    }
}

#[test]
fn every_quantity_has_the_dimension_its_field_name_implies() {
    let (scope, files, _, _) = repo_data();
    let mut problems = Vec::new();
    for f in &files {
        check_dims(&scope, &f.name, "", &f.value, &mut problems);
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn systems_are_linked_to_their_chip_records() {
    let (scope, files, _, _) = repo_data();
    let systems = files.iter().find(|f| f.name == "systems").unwrap();
    let hardware = scope.get("hardware").unwrap();
    for e in &systems.entries {
        let entry = scope.get("systems").unwrap().field(&e.id).unwrap();
        let chip = entry.field("chip").and_then(Value::as_str).unwrap();
        assert_eq!(
            entry.field("hardware"),
            hardware.field(chip),
            "systems.{} is not linked to hardware.{chip}",
            e.id
        );
    }
    // The scope and the returned file agree.
    assert_eq!(scope.get("systems"), Some(&systems.value));
}

const BAD_HARDWARE: &str = "\
good:
  name: Good chip
  flops: {bf16: 1 PFLOP/s}
  hbm: {capacity: 80 GB, bandwidth: 8 TB/s}
  source: https://example.com/good
wrong_dimension:
  name: Wrong dimension
  flops: {bf16: 1 PFLOP/s}
  hbm:
    capacity: 80 GB
    bandwidth: 8 TB
  source: https://example.com/a
bad_unit:
  name: Bad unit
  flops: {bf16: 1 PFLOP/s}
  hbm:
    capacity: 80 GX
    bandwidth: 8 TB/s
  source: https://example.com/b
unsourced:
  name: No source
  flops: {bf16: 1 PFLOP/s}
  hbm: {capacity: 80 GB, bandwidth: 8 TB/s}
  links: 18 links of 50 GB/s
  lanes: 4 * 8 GB/s
";

const BAD_SYSTEMS: &str = "\
pair:
  name: Two good chips
  chip: good
  chips: 2
  scale_up_domain: 2
  source: https://example.com/pair
ghost:
  name: A chip nobody has
  chip: h999
  chips: 8
  source: https://example.com/ghost
";

#[test]
fn mistakes_in_a_data_file_are_errors_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hardware.yaml"), BAD_HARDWARE).unwrap();
    std::fs::write(dir.path().join("systems.yaml"), BAD_SYSTEMS).unwrap();
    let (scope, files, diags, sources) = load(dir.path());
    assert_eq!(files.len(), 2);
    let at = |code: &str| -> (String, usize, String) {
        let d = diags
            .iter()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("no `{code}` in {diags:#?}"));
        assert!(d.is_error(), "{d:#?}");
        let file = d.file.clone().expect("a file");
        let text = sources.get(&file).expect("the file's text is kept");
        let (line, _) = d.line_col(text).expect("a span");
        let span = d.span.clone().unwrap();
        (file.display().to_string(), line, text[span].to_string())
    };
    // `bandwidth: 8 TB` is bytes, not bytes per second: the loader knows no engine fields, so
    // the engine says so where it reads the record, naming the field and the figure's line (11).
    let e = scope
        .eval_expr("drain_time(hardware.wrong_dimension)")
        .unwrap_err();
    assert!(e.message.contains("hbm.bandwidth"), "{}", e.message);
    assert!(
        e.notes
            .iter()
            .any(|n| n.starts_with("data/hardware.yaml:11:")),
        "{:#?}",
        e.notes
    );
    // `capacity: 80 GX` has an unknown unit: line 17.
    let (file, line, under) = at("bad-quantity");
    assert_eq!(
        (file.as_str(), line, under.as_str()),
        ("data/hardware.yaml", 17, "80 GX")
    );
    let d = diags.iter().find(|d| d.code == "bad-quantity").unwrap();
    assert!(d.message.contains("GX"), "{}", d.message);
    // The entry without `source:` is reported at its id, line 20.
    let (file, line, under) = at("missing-source");
    assert_eq!(
        (file.as_str(), line, under.as_str()),
        ("data/hardware.yaml", 20, "unsourced")
    );
    // A system naming a chip hardware.yaml lacks: line 9 of systems.yaml, at the id.
    let (file, line, under) = at("unknown-chip");
    assert_eq!(
        (file.as_str(), line, under.as_str()),
        ("data/systems.yaml", 9, "h999")
    );
    // Nothing else is wrong: prose that starts with a number stays text, and a quantity of more
    // than two words is still read as one.
    assert_eq!(diags.len(), 3, "{diags:#?}");
    let links = scope.eval_expr("hardware.unsourced.links").unwrap();
    assert!(
        matches!(links, Value::Str(ref s) if &**s == "18 links of 50 GB/s"),
        "{links:?}"
    );
    let lanes = scope.eval_expr("hardware.unsourced.lanes").unwrap();
    assert_eq!(lanes.as_unit("GB/s", scope.registry()).unwrap(), 32.0);

    // The good entries still work, and the linked system computes like its chip:
    // ridge 1e15/8e12 = 125 FLOP/B; drain 80e9/8e12 = 10 ms.
    let ridge = scope.eval_expr("ridge(systems.pair)").unwrap();
    assert_eq!(ridge.as_unit("FLOP/B", scope.registry()).unwrap(), 125.0);
    let drain = scope.eval_expr("drain_time(hardware.good)").unwrap();
    assert_eq!(drain.as_unit("ms", scope.registry()).unwrap(), 10.0);
    // The unlinked system says why it cannot be used.
    let e = scope.eval_expr("ridge(systems.ghost)").unwrap_err();
    assert!(e.message.contains("h999"), "{}", e.message);
}

/// The loader knows no engine fields; the engine says which field of which record it lacks where
/// it reads the record, names a near miss, and points at the data entry's line.
#[test]
fn an_engine_function_names_the_missing_field_and_the_entry_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hardware.yaml"),
        "ok:\n  name: Fine\n  flops: {bf16: 1 PFLOP/s}\n  hbm: {capacity: 80 GB, bandwidth: 8 TB/s}\n  source: https://example.com/ok\nrenamed:\n  name: Renamed\n  flops: {bf16: 1 PFLOP/s}\n  hbm: {capacity: 80 GB, bandwith: 8 TB/s}\n  source: https://example.com/r\n",
    )
    .unwrap();
    let (scope, _, diags, _) = load(dir.path());
    assert!(diags.is_empty(), "{diags:#?}");
    let e = scope.eval_expr("drain_time(hardware.renamed)").unwrap_err();
    assert!(e.message.contains("`hbm.bandwidth`"), "{}", e.message);
    assert!(
        e.message.contains("it has `bandwith`: a misspelling?"),
        "{}",
        e.message
    );
    assert!(
        e.notes
            .iter()
            .any(|n| n.starts_with("data/hardware.yaml:6: the data entry `renamed`")),
        "{:#?}",
        e.notes
    );
    assert!(scope.eval_expr("drain_time(hardware.ok)").is_ok());
}
