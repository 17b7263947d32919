//! The engine as seen from calc: native functions registered in every chapter's prelude, which
//! take data records (`hardware.h100`, `models.deepseek_v3`, `systems.gb200_nvl72`,
//! `memory.hdd_exos_x24`, `pricing.claude_opus_4_6`) as the engine's typed records
//! ([`crate::engine::records`], decoded once at load) and return records of quantities. Each
//! function is registered with its parameters, what each accepts (checked by calc before the
//! call, [`args::req`]; read by name in the body, [`args::Args`]) and the dimensions of what it
//! returns, one file per engine area.
//!
//! # Conventions
//!
//! - **Records in.** `model` is a `models.yaml` entry; `hw` is a `hardware.yaml` entry (one chip)
//!   or a `systems.yaml` entry (the loader links its `chip` id to the chip's record as the
//!   `hardware` field; the system's `chips` and `scale_up_domain` then apply). A field the engine
//!   needs that the record lacks is an error naming the entry and the field
//!   (`model "Foo" has no field `layers``); a field of the wrong dimension likewise.
//! - **Quantities out.** Times in seconds, bytes in B, rates in token/s, money in $, compute in
//!   FLOP; display them with `in` (`decode(…).step_time in ms`, `x.cost_per_token in $/Mtok`).
//!   Batches, chip counts, ratios and MFU are plain numbers.
//! - **Precision** is a string: `"bf16"` (or `"fp16"`), `"fp8"`, `"int8"`, `"fp4"`. For a
//!   model-and-hardware function it is the precision the model is *served* at: bytes per weight
//!   (2, 1, 1, 0.5) and the chip's peak FLOP/s at that format (a chip without a native rate for
//!   a narrow format computes at the next wider one it has; INT8 weights compute at BF16 on a
//!   chip with neither INT8 nor FP8 figures). The empty string `""` means the model's own
//!   `weight_bytes` with the matching compute precision (DeepSeek-V3: FP8; Llama: BF16). For a
//!   hardware-only function `""` means BF16.
//! - **Bytes per value** have one name and one default everywhere: `kv_bytes=2` for a cached KV
//!   value, `activation_bytes=2` for an activation sent between chips (BF16; `1` for FP8); a
//!   plain number or a quantity in bytes.
//! - **Context and token counts** may be plain numbers or quantities in tokens (`8192 tokens`).
//! - **Prices** are per chip and time (`2 $/hour`). Where a function takes `price`, it defaults
//!   to the hardware record's `price` if it has one, else the talk's 2 $/hour.
//! - **chips** defaults to a system's chip count, or 1 for a single chip.
//! - **Times** of a forward pass are `step_time` (`decode`, `prefill`), with their parts named
//!   `*_time`; a parameter count `params` may be a plain number or a model record (its active
//!   parameters).
//! - **layout** is how the weights sit on the chips: `"sharded"` (the default: every weight spread
//!   over all chips, so each reads `1/chips` of them) or `"dp_ep"` (DeepSeek's serving layout:
//!   attention and the shared expert replicated data-parallel on every chip, routed experts spread
//!   expert-parallel, so each chip reads all non-expert weights and its own experts).
//! - **Capacity** is the HBM software can use: a chip's `hbm.usable` where the record states it,
//!   else `hbm.capacity`.
//!
//! # Functions
//!
//! Serving:
//! - `decode(model, hw, batch=1, context=0, chips, precision="", kv_bytes=2, price,
//!   overlap=true, all_experts=false, attention_flops=false, layout="sharded")` →
//!   `{compute_time, weight_time, kv_time, comm_time, memory_time, step_time, tokens_per_s_user,
//!   tokens_per_s_replica, cost_per_token, mfu, distinct_experts, busiest_experts, flops,
//!   weight_bytes, kv_bytes, bound}`: one decode step of `batch` sequences at `context` tokens
//!   each on `chips` chips ([`decode::decode`]). `bound` is `"compute"`, `"weights"`, `"kv"` or
//!   `"communication"`. The routed experts read are those the batch is expected to touch, timed
//!   on the chip expected to hold the most of them (`busiest_experts` per MoE layer; of
//!   `distinct_experts` in all); `all_experts=true` reads every weight each step instead (the
//!   talk's `N_tot·b_w/BW` floor); `overlap=false` adds the all-to-all to the step instead of
//!   hiding it; `attention_flops=true` counts attention-score FLOPs. The expert counts are 0 for
//!   a dense model.
//! - `prefill(model, hw, tokens, chips, precision="", batch=1, kv_bytes=2, price,
//!   attention_flops=false)` → `{step_time, compute_time, weight_time, kv_time, memory_time, flops,
//!   cost_per_token, tokens_per_s, bound}`: `batch` prompts of `tokens` tokens in one pass
//!   ([`prefill::prefill`]); `cost_per_token` is per prompt token.
//! - `weight_floor(model, hw, chips, precision="", layout="sharded")` → s: the weights one chip
//!   holds over its bandwidth, no step that reads every weight is faster: `N_tot·b_w/(chips·BW)`
//!   sharded; with `layout="dp_ep"` the non-expert weights plus `⌈E/chips⌉`
//!   experts per MoE layer, over `BW`.
//!
//! Hardware:
//! - `ridge(hw, precision="bf16")` → FLOP/B: `F/BW`.
//! - `hardware_ratio(hw, precision="bf16")` → number: the talk's `R = F·b_w/(2·BW)`.
//! - `scale_ratio(hw)` → number: scale-up bandwidth per direction over scale-out bandwidth.
//! - `drain_time(x)` → s: a chip's (or system's per-chip) HBM capacity/bandwidth, or a memory
//!   tier's capacity/bandwidth.
//!
//! KV cache:
//! - `kv_bytes_per_token(model, kv_bytes=2)` → B/token (all layers, windows ignored).
//! - `kv_bytes_per_sequence(model, context, kv_bytes=2)` → B (sliding-window layers capped).
//! - `kv_balance_context(model, hw, precision="", kv_bytes=2)` → tokens:
//!   `L* = 2·N_act·BW/(F·b_kv)`, past which KV reads outlast the matmuls at any batch.
//! - `attention_crossover(model)` → tokens: context at which attention-score FLOPs equal the
//!   weight FLOPs per token.
//!
//! Mixture of experts and batching:
//! - `sparsity(model)` → number: `N_tot/N_act`.
//! - `optimal_batch(model, hw, precision="")` → number: `R·S`, the batch at which weight reads
//!   take as long as compute (KV ignored).
//! - `optimal_batch_with_kv(model, hw, context, precision="", kv_bytes=2)` → `{exists, batch}`:
//!   the same balance with the KV read; `exists` is false (and `batch` absent) when past the
//!   balance context no batch is compute-bound.
//! - `per_expert_batch(model, hw, precision="")` → number: `R·E/k`.
//! - `expected_experts(experts, active, batch)` → number: `E·(1−(1−k/E)^b)`.
//! - `busiest_experts(model, batch, chips)` → number: the expected touched routed experts per MoE
//!   layer on the busiest of `chips` chips (a balls-into-bins maximum; what `decode` times the
//!   expert reads with).
//! - `tokens_per_expert(model, batch)` → number: `b·k/E`, tokens each routed expert sees.
//! - `fast_mode(price)` → `{price_ratio, speed_up, batch_ratio, normal_kv_over_weights,
//!   fast_kv_over_weights}` for a `pricing.yaml` entry with a `fast` tier: the batch ratio
//!   `price × speed` and the memory-bound operating points.
//! - `price_ratio(a, b)` → number: `a/b` for two prices (or any two quantities) of one dimension.
//!
//! Network:
//! - `all_to_all_bytes_per_token(model, activation_bytes=2)` → B/token: `2·k·d·b_a` per MoE
//!   layer, all MoE layers.
//! - `all_to_all_time(model, hw, batch, chips, activation_bytes=2)` → s: one decode step's expert-parallel
//!   dispatch and combine for `batch` tokens spread over `chips` chips, scale-up and scale-out
//!   links in parallel (what `decode` reports as `comm_time`).
//! - `fraction_leaving(domains)` → number: `(R−1)/R`.
//! - `pipeline_ratio(model, hw, layers_per_stage=1)` → number: `2·k·L_stage·W_out/W_up`.
//! - `min_layers_per_stage(model, hw)` → number: `ceil(W_up/(2·k·W_out))`.
//!
//! Memory:
//! - `load_time(bytes, tier)` → s: `bytes/bandwidth` of a tier (or a chip's HBM).
//! - `hold_cost(bytes, duration, tier, price)` → $: `bytes/capacity · duration · price`.
//! - `chips_to_hold(model, hw, kv=0 B, precision="")` → number: chips whose usable HBM holds
//!   the weights plus `kv` bytes.
//! - `max_sequences(model, hw, context, chips, precision="", kv_bytes=2, layout="sharded")` →
//!   number: sequences of `context` tokens whose KV fits in the chips' usable HBM beside the
//!   weights as the layout places them (0 if the weights alone do not fit).
//! - `retrieve_cost(bytes, tier, price)` → $: `bytes/bandwidth · price`, the device time spent
//!   reading a cached prefix back.
//! - `recompute_cost(model, hw, tokens, mfu, price, precision="")` → $: recomputing a prefix of
//!   `tokens` tokens on one chip instead, `tokens·2·N_act/(F·mfu) · price` (`price` defaults as
//!   in `decode`).
//!
//! Training and utilisation:
//! - `training_flops(params, tokens)` → FLOP: `6·N·D` (`params` a number or a model record).
//! - `inference_flops(params)` → FLOP/token: `2·N`.
//! - `chinchilla_tokens(params)` → tokens: `20·N`.
//! - `overtraining(model)` → number: `training_tokens/(20·N_act)`.
//! - `mfu(flops, time, chips, peak)` → number: `flops/(time·chips·peak)`; the units must cancel.

mod args;
mod experts;
mod hardware;
mod kv_cache;
mod memory;
mod network;
mod serving;
mod training;

use crate::calc::{ArgType, Registry, Scope, Value};
use crate::engine::hardware::Precision;
use crate::engine::records::{HwRecord, ModelRecord};
use crate::engine::roofline;

use args::AUTO;

/// Registers the engine's functions in `scope`, area by area.
pub fn register(scope: &mut Scope) {
    serving::register(scope);
    hardware::register(scope);
    kv_cache::register(scope);
    experts::register(scope);
    network::register(scope);
    memory::register(scope);
    training::register(scope);
}

/// Compute precision and bytes per weight for serving `m` at `p` (`None`: the model's own).
fn serving_precision(m: &ModelRecord, p: Option<Precision>) -> Result<(Precision, f64), String> {
    match p {
        Some(p) => Ok((p, p.bytes())),
        None => {
            let wb = m.weight_bytes.ok_or_else(|| {
                format!(
                    "{}; pass a precision such as precision=\"fp8\"",
                    m.missing("weight_bytes")
                )
            })?;
            Ok((Precision::from_bytes(wb).unwrap_or(Precision::Bf16), wb))
        }
    }
}

/// The talk's R for `m` served at `p` on `h`: `F·b_w/(2·BW)`.
fn ratio(m: &ModelRecord, h: &HwRecord, p: Option<Precision>) -> Result<f64, String> {
    let (compute, wb) = serving_precision(m, p)?;
    Ok(roofline::hardware_ratio(
        h.chip.flops.at(compute),
        h.chip.hbm_bandwidth,
        wb,
    ))
}

/// The reference of every engine function as a Markdown table: its arguments with their
/// defaults (from the registered parameters) and what it returns (from this module's
/// documentation, which a test keeps complete). The book's *How this book works* prints it, and a
/// test keeps the two equal.
pub fn reference_markdown() -> String {
    let mut scope = Scope::with_registry(Registry::prelude());
    register(&mut scope);
    let doc: String = include_str!("bindings.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for item in doc.split("- `").skip(1) {
        let Some((name, _)) = item.split_once('(') else {
            continue;
        };
        let Some(Value::Func(f)) = scope.get(name) else {
            continue;
        };
        let crate::calc::value::Function::Native { params, .. } = &**f else {
            continue;
        };
        let args: Vec<String> = params
            .iter()
            .map(|p| {
                let named = match &p.default {
                    None => format!("`{}`", p.name),
                    Some(Value::Str(d)) if &**d == AUTO => {
                        format!("`{}` (from the record)", p.name)
                    }
                    Some(Value::Str(d)) => format!("`{}={:?}`", p.name, &**d),
                    Some(d) => format!("`{}={}`", p.name, scope.format(d)),
                };
                format!("{named}: {}", argument_type_words(&scope, &p.accepts))
            })
            .collect();
        // The bullet's text after `→`, up to the next heading-like line (`Hardware:`).
        let returns = item
            .split_once('→')
            .map(|(_, r)| r)
            .unwrap_or("")
            .split(" # ")
            .next()
            .unwrap_or("");
        let returns = strip_rustdoc_links(&strip_trailing_heading(returns)).replace('|', "\\|");
        rows.push((
            name.to_string(),
            args.join(", "),
            returns.trim().to_string(),
        ));
    }
    let mut out = String::from("| function | arguments | returns |\n|---|---|---|\n");
    for (name, args, returns) in rows {
        out.push_str(&format!("| `{name}` | {args} | {returns} |\n"));
    }
    out
}

/// A parameter's declared type, short, for the reference table: `number or tokens`, `model
/// record`, a string parameter's choices (`"sharded"` or `"dp_ep"`).
fn argument_type_words(scope: &Scope, accepts: &ArgType) -> String {
    match accepts {
        ArgType::Record(words) => words.split(" (like").next().unwrap_or(words).to_string(),
        ArgType::OneOf(choices) => {
            let quoted: Vec<String> = choices
                .iter()
                .filter(|c| !c.is_empty())
                .map(|c| format!("`{c:?}`"))
                .collect();
            match quoted.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                _ => quoted.concat(),
            }
        }
        ArgType::Either(a, b) => format!(
            "{} or {}",
            argument_type_words(scope, a),
            argument_type_words(scope, b)
        ),
        other => crate::calc::rules::describe_type(scope.registry(), other),
    }
    .trim_start_matches("a ")
    .trim_start_matches("an ")
    .replace("plain number", "number")
}

/// Drops rustdoc's intra-doc links (` ([`decode::decode`])`), which mean nothing in the book.
fn strip_rustdoc_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(" ([`") {
        let Some(len) = rest[start..].find("`])") else {
            break;
        };
        out.push_str(&rest[..start]);
        rest = &rest[start + len + 3..];
    }
    out.push_str(rest);
    out
}

/// Drops a group heading (`Hardware:`, `Memory:`) that the joined doc text carries after a bullet.
fn strip_trailing_heading(text: &str) -> String {
    let mut t = text.trim_end().to_string();
    for heading in [
        "Serving:",
        "Hardware:",
        "KV cache:",
        "Mixture of experts and batching:",
        "Network:",
        "Memory:",
        "Training and utilisation:",
    ] {
        if let Some(stripped) = t.strip_suffix(heading) {
            t = stripped.trim_end().to_string();
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine reference in the book's *How this book works* is generated from the registered
    /// functions and this module's documentation. `CALCBOOK_BLESS=1 cargo test --lib
    /// engine_reference` rewrites it.
    #[test]
    fn the_engine_reference_in_the_book_matches_the_code() {
        let table = reference_markdown();
        assert!(
            table.contains("| `decode` | `model`: model record, `hw`: hardware or system record, `batch=1`: number"),
            "{table}"
        );
        crate::test_support::assert_book_section("engine", &table);
    }

    /// Every function `register` adds is listed in this module's documentation (the author
    /// reference), and every listed function is registered.
    #[test]
    fn every_registered_function_is_documented() {
        // The engine's own names: those a bare scope (the calc prelude) lacks.
        let prelude = Scope::new();
        let mut scope = Scope::with_registry(Registry::prelude());
        register(&mut scope);
        assert!(prelude.names().all(|n| scope.get(n).is_none()));
        let doc: String = include_str!("bindings.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut names: Vec<&str> = scope.names().collect();
        names.sort_unstable();
        for name in &names {
            assert!(
                doc.contains(&format!("`{name}(")),
                "`{name}` is registered but not documented in the module doc"
            );
        }
        let listed = doc
            .split("- `")
            .skip(1)
            .filter_map(|item| item.split_once('(').map(|(name, _)| name))
            .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        for name in listed {
            assert!(
                names.contains(&name),
                "`{name}` is documented but not registered"
            );
        }
    }
}
