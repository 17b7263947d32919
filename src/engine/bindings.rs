//! The engine as seen from calc: native functions registered in every chapter's prelude, which
//! turn data records (`hardware.h100`, `models.deepseek_v3`, `systems.gb200_nvl72`,
//! `memory.hdd_exos_x24`, `pricing.claude_opus_4_6`) into the engine's typed structs and its
//! results back into records of quantities.
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
//! - **KV bytes** (`kv_bytes=`, `bytes=`) are bytes per cached value: `2` (BF16) or `1` (FP8); a
//!   plain number or a quantity in bytes.
//! - **Context and token counts** may be plain numbers or quantities in tokens (`8192 tokens`).
//! - **Prices** are per chip and time (`2 $/hour`). Where a function takes `price`, it defaults
//!   to the hardware record's `price` if it has one, else the talk's 2 $/hour.
//! - **chips** defaults to a system's chip count, or 1 for a single chip.
//!
//! # Functions
//!
//! Serving:
//! - `decode(model, hw, batch=1, context=0, chips, precision="", kv_bytes=2, price,
//!   overlap=true, all_experts=false, attention_flops=false)` → `{compute_time, weight_time,
//!   kv_time, comm_time, memory_time, step_time, tokens_per_s_user, tokens_per_s_replica,
//!   cost_per_token, mfu, distinct_experts, flops, weight_bytes, kv_bytes, bound}`: one decode
//!   step of `batch` sequences at `context` tokens each on `chips` chips ([`decode::decode`]).
//!   `bound` is `"compute"`, `"weights"`, `"kv"` or `"communication"`. `all_experts=true` reads
//!   every weight each step (the talk's `N_tot·b_w/BW` floor) instead of the experts the batch
//!   is expected to touch; `overlap=false` adds the all-to-all to the step instead of hiding it;
//!   `attention_flops=true` counts attention-score FLOPs. `distinct_experts` is 0 for a dense
//!   model.
//! - `prefill(model, hw, tokens, chips, precision="", batch=1, kv_bytes=2, price,
//!   attention_flops=false)` → `{time, compute_time, weight_time, kv_time, memory_time, flops,
//!   cost_per_token, tokens_per_s, bound}`: `batch` prompts of `tokens` tokens in one pass
//!   ([`prefill::prefill`]); `cost_per_token` is per prompt token.
//! - `weight_floor(model, hw, chips, precision="")` → s: `N_tot·b_w/(chips·BW)`, no step that
//!   reads every weight is faster (CLAIMS.md C1).
//!
//! Hardware:
//! - `ridge(hw, precision="bf16")` → FLOP/B: `F/BW`.
//! - `hardware_ratio(hw, precision="bf16")` → number: the talk's `R = F·b_w/(2·BW)`.
//! - `scale_ratio(hw)` → number: scale-up bandwidth per direction over scale-out bandwidth.
//! - `drain_time(x)` → s: a chip's (or system's per-chip) HBM capacity/bandwidth, or a memory
//!   tier's capacity/bandwidth.
//!
//! KV cache:
//! - `kv_bytes_per_token(model, bytes=2)` → B/token (all layers, windows ignored).
//! - `kv_bytes_per_sequence(model, context, bytes=2)` → B (sliding-window layers capped).
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
//! - `expected_experts(experts, active, batch)` → number: `E·(1−(1−k/E)^B)`.
//! - `tokens_per_expert(model, batch)` → number: `B·k/E`, tokens each routed expert sees.
//! - `fast_mode(price)` → `{price_ratio, speed_up, batch_ratio, normal_kv_over_weights,
//!   fast_kv_over_weights}` for a `pricing.yaml` entry with a `fast` tier: the batch ratio
//!   `price × speed` and the memory-bound operating points (CLAIMS.md C10).
//! - `price_ratio(a, b)` → number: `a/b` for two prices (or any two quantities) of one dimension.
//!
//! Network:
//! - `all_to_all_bytes_per_token(model, bytes=1)` → B/token: `2·k·d·b_a` per MoE layer, all MoE
//!   layers.
//! - `all_to_all_time(model, hw, batch, chips, bytes=2)` → s: one decode step's expert-parallel
//!   dispatch and combine for `batch` tokens spread over `chips` chips, scale-up and scale-out
//!   links in parallel (what `decode` reports as `comm_time`).
//! - `fraction_leaving(domains)` → number: `(R−1)/R`.
//! - `pipeline_ratio(model, hw, layers_per_stage=1)` → number: `2·k·L_stage·W_out/W_up`.
//! - `min_layers_per_stage(model, hw)` → number: `ceil(W_up/(2·k·W_out))`.
//!
//! Memory:
//! - `load_time(bytes, tier)` → s: `bytes/bandwidth` of a tier (or a chip's HBM).
//! - `hold_cost(bytes, duration, tier, price)` → $: `bytes/capacity · duration · price`.
//! - `chips_to_hold(model, hw, kv=0 B, precision="")` → number: chips whose HBM holds the
//!   weights plus `kv` bytes.
//! - `max_sequences(model, hw, context, chips, precision="", kv_bytes=2)` → number: sequences
//!   of `context` tokens whose KV fits in the chips' HBM beside the weights (0 if the weights
//!   alone do not fit).
//! - `retrieve_cost(bytes, tier, price)` → $: `bytes/bandwidth · price`, the device time spent
//!   reading a cached prefix back.
//! - `recompute_cost(model, hw, tokens, mfu, price, precision="")` → $: recomputing a prefix of
//!   `tokens` tokens on one chip instead, `tokens·2·N_act/(F·mfu) · price` (`price` defaults as
//!   in `decode`).
//!
//! Training and utilisation:
//! - `training_flops(params, tokens)` → FLOP: `6·N·D`.
//! - `inference_flops(params)` → FLOP/token: `2·N`.
//! - `chinchilla_tokens(params)` → tokens: `20·N`.
//! - `overtraining(model)` → number: `training_tokens/(20·N_act)`.
//! - `mfu(flops, time, chips, peak)` → number: `flops/(time·chips·peak)`; the units must cancel.

use std::sync::Arc;

use crate::calc::provenance;
use crate::calc::{Dim, Origin, Param, Registry, Scope, Value};
use crate::engine::decode::{self, DecodeConfig, ExpertReads, HOUR, Overlap};
use crate::engine::hardware::{Chip, PeakFlops, Precision};
use crate::engine::model::{Attention, Model, Moe, SlidingWindow};
use crate::engine::prefill::{self, PrefillConfig};
use crate::engine::roofline::Bound;
use crate::engine::{kv, memory, moe, network, roofline, training};

/// Default of parameters whose default depends on another argument (`chips`, `price`).
const AUTO: &str = "";

/// The talk's rental price, used when neither `price=` nor the hardware record gives one.
const TALK_PRICE_PER_HOUR: f64 = 2.0;

/// Registers the engine's functions in `scope`.
pub fn register(scope: &mut Scope) {
    let req = Param::required;
    let opt = Param::optional;
    let auto = || Value::string(AUTO);
    let s = Value::string;
    let n = Value::number;
    let yes = Value::Bool(true);
    let no = Value::Bool(false);

    add(
        scope,
        "decode",
        &[
            req("model"),
            req("hw"),
            opt("batch", n(1.0)),
            opt("context", n(0.0)),
            opt("chips", auto()),
            opt("precision", s("")),
            opt("kv_bytes", n(2.0)),
            opt("price", auto()),
            opt("overlap", yes),
            opt("all_experts", no.clone()),
            opt("attention_flops", no.clone()),
        ],
        decode_fn,
    );
    add(
        scope,
        "prefill",
        &[
            req("model"),
            req("hw"),
            req("tokens"),
            opt("chips", auto()),
            opt("precision", s("")),
            opt("batch", n(1.0)),
            opt("kv_bytes", n(2.0)),
            opt("price", auto()),
            opt("attention_flops", no),
        ],
        prefill_fn,
    );
    add(
        scope,
        "weight_floor",
        &[
            req("model"),
            req("hw"),
            opt("chips", auto()),
            opt("precision", s("")),
        ],
        weight_floor_fn,
    );

    add(
        scope,
        "ridge",
        &[req("hw"), opt("precision", s("bf16"))],
        |a| {
            let h = hw(&a[0], "hw")?;
            let p = precision(&a[1], "precision")?.unwrap_or(Precision::Bf16);
            Ok(q(
                h.chip.ridge_point(p),
                per(Dim::flop(), Dim::information()),
            ))
        },
    );
    add(
        scope,
        "hardware_ratio",
        &[req("hw"), opt("precision", s("bf16"))],
        |a| {
            let h = hw(&a[0], "hw")?;
            let p = precision(&a[1], "precision")?.unwrap_or(Precision::Bf16);
            Ok(Value::number(h.chip.hardware_ratio(p)))
        },
    );
    add(scope, "scale_ratio", &[req("hw")], |a| {
        let h = hw(&a[0], "hw")?;
        Ok(Value::number(network::scale_up_to_out_ratio(
            h.scale_up_per_direction()?,
            h.scale_out()?,
        )))
    });
    add(scope, "drain_time", &[req("x")], |a| {
        let t = tier(&a[0], "x")?;
        Ok(q(memory::drain_time(t.capacity, t.bandwidth), Dim::time()))
    });

    add(
        scope,
        "kv_bytes_per_token",
        &[req("model"), opt("bytes", n(2.0))],
        |a| {
            let m = model(&a[0], "model")?;
            let b = bytes_per_value(&a[1], "bytes")?;
            Ok(q(
                kv::kv_bytes_per_token(&m.model, b),
                per(Dim::information(), Dim::token()),
            ))
        },
    );
    add(
        scope,
        "kv_bytes_per_sequence",
        &[req("model"), req("context"), opt("bytes", n(2.0))],
        |a| {
            let m = model(&a[0], "model")?;
            let l = tokens(&a[1], "context")?;
            let b = bytes_per_value(&a[2], "bytes")?;
            Ok(q(
                kv::kv_bytes_per_sequence(&m.model, l, b),
                Dim::information(),
            ))
        },
    );
    add(
        scope,
        "kv_balance_context",
        &[
            req("model"),
            req("hw"),
            opt("precision", s("")),
            opt("kv_bytes", n(2.0)),
        ],
        |a| {
            let m = model(&a[0], "model")?;
            let h = hw(&a[1], "hw")?;
            let (compute, _) = m.serving(precision(&a[2], "precision")?)?;
            let b = bytes_per_value(&a[3], "kv_bytes")?;
            let l = kv::kv_balance_context(
                m.model.params_active,
                h.chip.flops.at(compute),
                h.chip.hbm_bandwidth,
                kv::kv_bytes_per_token(&m.model, b),
            );
            Ok(q(l, Dim::token()))
        },
    );
    add(scope, "attention_crossover", &[req("model")], |a| {
        let m = model(&a[0], "model")?;
        Ok(q(
            decode::attention_crossover_context(&m.model),
            Dim::token(),
        ))
    });

    add(scope, "sparsity", &[req("model")], |a| {
        Ok(Value::number(model(&a[0], "model")?.model.sparsity()))
    });
    add(
        scope,
        "optimal_batch",
        &[req("model"), req("hw"), opt("precision", s(""))],
        |a| {
            let m = model(&a[0], "model")?;
            let h = hw(&a[1], "hw")?;
            let r = m.ratio(&h, precision(&a[2], "precision")?)?;
            Ok(Value::number(moe::optimal_batch(r, m.model.sparsity())))
        },
    );
    add(
        scope,
        "optimal_batch_with_kv",
        &[
            req("model"),
            req("hw"),
            req("context"),
            opt("precision", s("")),
            opt("kv_bytes", n(2.0)),
        ],
        optimal_batch_with_kv_fn,
    );
    add(
        scope,
        "per_expert_batch",
        &[req("model"), req("hw"), opt("precision", s(""))],
        |a| {
            let m = model(&a[0], "model")?;
            let h = hw(&a[1], "hw")?;
            let r = m.ratio(&h, precision(&a[2], "precision")?)?;
            let e = m.moe()?;
            Ok(Value::number(moe::per_expert_optimal_batch(
                r,
                f64::from(e.routed),
                f64::from(e.active),
            )))
        },
    );
    add(
        scope,
        "expected_experts",
        &[req("experts"), req("active"), req("batch")],
        |a| {
            let e = count(&a[0], "experts")?;
            let k = count(&a[1], "active")?;
            let b = count(&a[2], "batch")?;
            if e <= 0.0 || k < 0.0 || k > e {
                return Err(format!(
                    "`active` must be between 0 and `experts` ({e}), found {k}"
                ));
            }
            Ok(Value::number(moe::expected_distinct_experts(e, k, b)))
        },
    );
    add(
        scope,
        "tokens_per_expert",
        &[req("model"), req("batch")],
        |a| {
            let m = model(&a[0], "model")?;
            let b = count(&a[1], "batch")?;
            let e = m.moe()?;
            Ok(Value::number(moe::tokens_per_expert(
                b,
                f64::from(e.routed),
                f64::from(e.active),
            )))
        },
    );
    add(scope, "fast_mode", &[req("price")], fast_mode_fn);
    add(scope, "price_ratio", &[req("a"), req("b")], |a| {
        let (Some(x), Some(y)) = (a[0].as_si(), a[1].as_si()) else {
            return Err(format!(
                "`a` and `b` must be quantities, found {} and {}",
                describe(&a[0]),
                describe(&a[1])
            ));
        };
        if a[0].dim() != a[1].dim() {
            return Err(format!(
                "`a` and `b` must have the same dimension, found {} and {}",
                describe(&a[0]),
                describe(&a[1])
            ));
        }
        Ok(Value::number(x / y))
    });

    add(
        scope,
        "all_to_all_bytes_per_token",
        &[req("model"), opt("bytes", n(1.0))],
        |a| {
            let m = model(&a[0], "model")?;
            let b = bytes_per_value(&a[1], "bytes")?;
            let e = m.moe()?;
            Ok(q(
                network::all_to_all_bytes_per_token(
                    f64::from(e.active),
                    f64::from(m.model.hidden),
                    b,
                    f64::from(e.moe_layers),
                ),
                per(Dim::information(), Dim::token()),
            ))
        },
    );
    add(
        scope,
        "all_to_all_time",
        &[
            req("model"),
            req("hw"),
            req("batch"),
            req("chips"),
            opt("bytes", n(2.0)),
        ],
        |a| {
            let m = model(&a[0], "model")?;
            let h = hw(&a[1], "hw")?;
            let batch = count(&a[2], "batch")?;
            let chips = h.chips(&a[3])?;
            let b = bytes_per_value(&a[4], "bytes")?;
            let e = m.moe()?;
            if chips > 1 {
                h.check_all_to_all(chips)?;
            }
            let per_token = network::all_to_all_bytes_per_token(
                f64::from(e.active),
                f64::from(m.model.hidden),
                b,
                f64::from(e.moe_layers),
            );
            let traffic = network::all_to_all_traffic(
                batch / f64::from(chips) * per_token,
                chips,
                h.chip.scale_up_domain,
            );
            let time = if chips > 1 {
                network::all_to_all_time(
                    traffic,
                    h.scale_up_per_direction()?,
                    h.chip.scale_out_bandwidth,
                )
            } else {
                0.0
            };
            Ok(q(time, Dim::time()))
        },
    );
    add(scope, "fraction_leaving", &[req("domains")], |a| {
        let d = count(&a[0], "domains")?;
        Ok(Value::number(network::fraction_leaving_domain(d)))
    });
    add(
        scope,
        "pipeline_ratio",
        &[req("model"), req("hw"), opt("layers_per_stage", n(1.0))],
        |a| {
            let m = model(&a[0], "model")?;
            let h = hw(&a[1], "hw")?;
            let l = count(&a[2], "layers_per_stage")?;
            Ok(Value::number(network::pipeline_comm_ratio(
                f64::from(m.moe()?.active),
                l,
                h.scale_up_per_direction()?,
                h.scale_out()?,
            )))
        },
    );
    add(
        scope,
        "min_layers_per_stage",
        &[req("model"), req("hw")],
        |a| {
            let m = model(&a[0], "model")?;
            let h = hw(&a[1], "hw")?;
            Ok(Value::number(f64::from(network::min_layers_per_stage(
                f64::from(m.moe()?.active),
                h.scale_up_per_direction()?,
                h.scale_out()?,
            ))))
        },
    );

    add(scope, "load_time", &[req("bytes"), req("tier")], |a| {
        let b = quantity(&a[0], "bytes", &Dim::information(), "B")?;
        let t = tier(&a[1], "tier")?;
        Ok(q(memory::load_time(b, t.bandwidth), Dim::time()))
    });
    add(
        scope,
        "hold_cost",
        &[req("bytes"), req("duration"), req("tier"), req("price")],
        |a| {
            let b = quantity(&a[0], "bytes", &Dim::information(), "B")?;
            let d = quantity(&a[1], "duration", &Dim::time(), "hour")?;
            let t = tier(&a[2], "tier")?;
            let p = quantity(&a[3], "price", &per(Dim::money(), Dim::time()), "$/hour")?;
            Ok(q(memory::hold_cost(b, d, t.capacity, p), Dim::money()))
        },
    );
    add(
        scope,
        "chips_to_hold",
        &[
            req("model"),
            req("hw"),
            opt("kv", Value::quantity(0.0, Dim::information())),
            opt("precision", s("")),
        ],
        |a| {
            let m = model(&a[0], "model")?;
            let h = hw(&a[1], "hw")?;
            let kv = quantity(&a[2], "kv", &Dim::information(), "B")?;
            let (_, wb) = m.serving(precision(&a[3], "precision")?)?;
            Ok(Value::number(f64::from(memory::chips_to_hold(
                m.model.params_total * wb,
                kv,
                h.chip.hbm_capacity,
            ))))
        },
    );

    add(
        scope,
        "max_sequences",
        &[
            req("model"),
            req("hw"),
            req("context"),
            opt("chips", auto()),
            opt("precision", s("")),
            opt("kv_bytes", n(2.0)),
        ],
        |a| {
            let m = model(&a[0], "model")?;
            let h = hw(&a[1], "hw")?;
            let context = positive(tokens(&a[2], "context")?, "context")?;
            let chips = h.chips(&a[3])?;
            let (_, wb) = m.serving(precision(&a[4], "precision")?)?;
            let b = bytes_per_value(&a[5], "kv_bytes")?;
            Ok(Value::number(memory::max_sequences_in_memory(
                f64::from(chips) * h.chip.hbm_capacity,
                m.model.params_total * wb,
                kv::kv_bytes_per_sequence(&m.model, context, b),
            )))
        },
    );
    add(
        scope,
        "retrieve_cost",
        &[req("bytes"), req("tier"), req("price")],
        |a| {
            let b = quantity(&a[0], "bytes", &Dim::information(), "B")?;
            let t = tier(&a[1], "tier")?;
            let p = quantity(&a[2], "price", &per(Dim::money(), Dim::time()), "$/hour")?;
            Ok(q(memory::retrieve_cost(b, t.bandwidth, p), Dim::money()))
        },
    );
    add(
        scope,
        "recompute_cost",
        &[
            req("model"),
            req("hw"),
            req("tokens"),
            req("mfu"),
            opt("price", auto()),
            opt("precision", s("")),
        ],
        |a| {
            let m = model(&a[0], "model")?;
            let h = hw(&a[1], "hw")?;
            let t = tokens(&a[2], "tokens")?;
            let u = positive(count(&a[3], "mfu")?, "mfu")?;
            let price = h.price(&a[4])?;
            let (compute, _) = m.serving(precision(&a[5], "precision")?)?;
            Ok(q(
                memory::recompute_cost(
                    t,
                    m.model.params_active,
                    h.chip.flops.at(compute),
                    u,
                    price,
                ),
                Dim::money(),
            ))
        },
    );
    add(
        scope,
        "training_flops",
        &[req("params"), req("tokens")],
        |a| {
            let n = count(&a[0], "params")?;
            let d = tokens(&a[1], "tokens")?;
            Ok(q(training::training_flops(n, d), Dim::flop()))
        },
    );
    add(scope, "inference_flops", &[req("params")], |a| {
        let n = count(&a[0], "params")?;
        Ok(q(
            training::inference_flops_per_token(n),
            per(Dim::flop(), Dim::token()),
        ))
    });
    add(scope, "chinchilla_tokens", &[req("params")], |a| {
        let n = count(&a[0], "params")?;
        Ok(q(training::chinchilla_tokens(n), Dim::token()))
    });
    add(scope, "overtraining", &[req("model")], |a| {
        let m = model(&a[0], "model")?;
        let d = m
            .model
            .training_tokens
            .ok_or_else(|| m.entry.missing("training_tokens"))?;
        Ok(Value::number(training::overtraining_factor(
            d,
            m.model.params_active,
        )))
    });
    add(
        scope,
        "mfu",
        &[req("flops"), req("time"), req("chips"), req("peak")],
        mfu_fn,
    );
}

fn add(
    scope: &mut Scope,
    name: &str,
    params: &[Param],
    f: impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
) {
    scope.register_native(name, params, Arc::new(f));
}

// ---------------------------------------------------------------------------------------------
// The functions too long to write inline.

/// `decode(model, hw, batch, context, chips, precision, kv_bytes, price, overlap, all_experts,
/// attention_flops)`.
fn decode_fn(a: &[Value]) -> Result<Value, String> {
    let m = model(&a[0], "model")?;
    let h = hw(&a[1], "hw")?;
    let batch = positive(count(&a[2], "batch")?, "batch")?;
    let context = tokens(&a[3], "context")?;
    let chips = h.chips(&a[4])?;
    let (compute, weight_bytes) = m.serving(precision(&a[5], "precision")?)?;
    let kv_bytes = bytes_per_value(&a[6], "kv_bytes")?;
    let price = h.price(&a[7])?;
    let overlap = boolean(&a[8], "overlap")?;
    let all_experts = boolean(&a[9], "all_experts")?;
    let attention_flops = boolean(&a[10], "attention_flops")?;
    if m.model.moe.is_some() && chips > 1 {
        h.check_all_to_all(chips)?;
    }
    let mut cfg = DecodeConfig::new(&m.model, batch, context, chips);
    cfg.compute = compute;
    cfg.weight_bytes = weight_bytes;
    cfg.kv_bytes = kv_bytes;
    cfg.price = price;
    cfg.overlap = if overlap {
        Overlap::Overlapped
    } else {
        Overlap::Serial
    };
    cfg.expert_reads = if all_experts {
        ExpertReads::All
    } else {
        ExpertReads::ExpectedDistinct
    };
    cfg.attention_flops = attention_flops;
    let d = decode::decode(&m.model, &h.chip, &cfg);
    let t = Dim::time;
    let token_rate = per(Dim::token(), Dim::time());
    Ok(Value::record([
        ("compute_time", q(d.compute_time, t())),
        ("weight_time", q(d.weight_time, t())),
        ("kv_time", q(d.kv_time, t())),
        ("comm_time", q(d.comm_time, t())),
        ("memory_time", q(d.memory_time, t())),
        ("step_time", q(d.step_time, t())),
        (
            "tokens_per_s_user",
            q(d.tokens_per_s_user, token_rate.clone()),
        ),
        (
            "tokens_per_s_replica",
            q(d.tokens_per_s_replica, token_rate),
        ),
        (
            "cost_per_token",
            q(d.cost_per_token, per(Dim::money(), Dim::token())),
        ),
        ("mfu", Value::number(d.mfu)),
        (
            "distinct_experts",
            Value::number(d.distinct_experts.unwrap_or(0.0)),
        ),
        ("flops", q(d.flops, Dim::flop())),
        ("weight_bytes", q(d.weight_bytes, Dim::information())),
        ("kv_bytes", q(d.kv_bytes, Dim::information())),
        ("bound", Value::string(bound(d.bound))),
    ]))
}

/// `prefill(model, hw, tokens, chips, precision, batch, kv_bytes, price, attention_flops)`.
fn prefill_fn(a: &[Value]) -> Result<Value, String> {
    let m = model(&a[0], "model")?;
    let h = hw(&a[1], "hw")?;
    let len = positive(tokens(&a[2], "tokens")?, "tokens")?;
    let chips = h.chips(&a[3])?;
    let (compute, weight_bytes) = m.serving(precision(&a[4], "precision")?)?;
    let batch = positive(count(&a[5], "batch")?, "batch")?;
    let kv_bytes = bytes_per_value(&a[6], "kv_bytes")?;
    let price = h.price(&a[7])?;
    let mut cfg = PrefillConfig::new(&m.model, len, chips);
    cfg.batch = batch;
    cfg.compute = compute;
    cfg.weight_bytes = weight_bytes;
    cfg.kv_bytes = kv_bytes;
    cfg.price = price;
    cfg.attention_flops = boolean(&a[8], "attention_flops")?;
    let p = prefill::prefill(&m.model, &h.chip, &cfg);
    let t = Dim::time;
    Ok(Value::record([
        ("time", q(p.time, t())),
        ("compute_time", q(p.compute_time, t())),
        ("weight_time", q(p.weight_time, t())),
        ("kv_time", q(p.kv_time, t())),
        ("memory_time", q(p.memory_time, t())),
        ("flops", q(p.flops, Dim::flop())),
        (
            "cost_per_token",
            q(p.cost_per_token, per(Dim::money(), Dim::token())),
        ),
        (
            "tokens_per_s",
            q(p.tokens_per_s, per(Dim::token(), Dim::time())),
        ),
        ("bound", Value::string(bound(p.bound))),
    ]))
}

/// `weight_floor(model, hw, chips, precision)`.
fn weight_floor_fn(a: &[Value]) -> Result<Value, String> {
    let m = model(&a[0], "model")?;
    let h = hw(&a[1], "hw")?;
    let chips = h.chips(&a[2])?;
    let (_, wb) = m.serving(precision(&a[3], "precision")?)?;
    Ok(q(
        decode::weight_read_floor(
            m.model.params_total,
            wb,
            f64::from(chips) * h.chip.hbm_bandwidth,
        ),
        Dim::time(),
    ))
}

/// `optimal_batch_with_kv(model, hw, context, precision, kv_bytes)`.
fn optimal_batch_with_kv_fn(a: &[Value]) -> Result<Value, String> {
    let m = model(&a[0], "model")?;
    let h = hw(&a[1], "hw")?;
    let context = tokens(&a[2], "context")?;
    let (compute, wb) = m.serving(precision(&a[3], "precision")?)?;
    let b = bytes_per_value(&a[4], "kv_bytes")?;
    let found = moe::optimal_batch_with_kv(
        m.model.params_total,
        m.model.params_active,
        wb,
        h.chip.flops.at(compute),
        h.chip.hbm_bandwidth,
        kv::kv_bytes_per_sequence(&m.model, context, b),
    );
    Ok(match found {
        Some(batch) => Value::record([
            ("exists", Value::Bool(true)),
            ("batch", Value::number(batch)),
        ]),
        None => Value::record([("exists", Value::Bool(false))]),
    })
}

/// `fast_mode(price)` for a `pricing.yaml` entry with a `fast` tier.
fn fast_mode_fn(a: &[Value]) -> Result<Value, String> {
    let e = Entry::new(
        &a[0],
        "price",
        "pricing",
        "a pricing record (like `pricing.claude_opus_4_6`)",
    )?;
    let per_token = per(Dim::money(), Dim::token());
    let normal = e.quantity("output", &per_token, "$/Mtok")?;
    let fast = e.quantity("fast.output", &per_token, "$/Mtok")?;
    let speed = e.number("fast.speed_up")?;
    let price_ratio = fast / normal;
    let mut fields = vec![
        ("price_ratio", Value::number(price_ratio)),
        ("speed_up", Value::number(speed)),
        (
            "batch_ratio",
            Value::number(decode::batch_ratio_from_price_and_speed(price_ratio, speed)),
        ),
    ];
    if let Some((x, y)) = decode::fast_mode_memory_bound(price_ratio, speed) {
        fields.push(("normal_kv_over_weights", Value::number(x)));
        fields.push(("fast_kv_over_weights", Value::number(y)));
    }
    Ok(Value::record(fields))
}

/// `mfu(flops, time, chips, peak)`: `flops/(time·chips·peak)`, whose units must cancel.
fn mfu_fn(a: &[Value]) -> Result<Value, String> {
    let names = ["flops", "time", "chips", "peak"];
    let mut si = [0.0; 4];
    let mut dims = Vec::with_capacity(4);
    for (i, v) in a.iter().take(4).enumerate() {
        let Value::Quantity { si: x, dim, .. } = v else {
            return Err(format!(
                "`{}` must be a quantity, found {}",
                names[i],
                describe(v)
            ));
        };
        si[i] = *x;
        dims.push(dim.clone());
    }
    let denominator = dims[1]
        .mul(&dims[2])
        .and_then(|d| d.mul(&dims[3]))
        .unwrap_or_default();
    let ratio = dims[0].div(&denominator).unwrap_or_default();
    if !ratio.is_dimensionless() {
        let reg = Registry::prelude();
        return Err(format!(
            "flops/(time·chips·peak) must be a plain number, but its units leave {}; \
             pass FLOP, s, a count and FLOP/s (e.g. `mfu(2*540e9*2048 FLOP, 0.29 s, 64, \
             hardware.tpu_v4.flops.bf16)`)",
            reg.describe(&ratio)
        ));
    }
    Ok(Value::number(decode::mfu(si[0], si[1], si[2], si[3])))
}

fn bound(b: Bound) -> &'static str {
    match b {
        Bound::Compute => "compute",
        Bound::WeightRead => "weights",
        Bound::KvRead => "kv",
        Bound::Communication => "communication",
    }
}

// ---------------------------------------------------------------------------------------------
// Dimensions and arguments.

fn per(a: Dim, b: Dim) -> Dim {
    a.div(&b).unwrap_or_default()
}

fn q(si: f64, dim: Dim) -> Value {
    Value::quantity(si, dim)
}

/// A value in words for messages: `the string "h100"`, `a quantity in B/s`.
fn describe(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("the string {:?}", &**s),
        Value::Quantity { dim, .. } if dim.is_dimensionless() => "a plain number".into(),
        Value::Quantity { dim, .. } => {
            format!(
                "a quantity in {}",
                Registry::prelude().base_unit_string(dim)
            )
        }
        Value::Record(r) => match r.get("name").and_then(Value::as_str) {
            Some(name) => format!("the record {name:?}"),
            None => "a record".into(),
        },
        other => other.kind().into(),
    }
}

/// A plain (dimensionless) number argument.
fn count(v: &Value, param: &str) -> Result<f64, String> {
    v.as_number()
        .ok_or_else(|| format!("`{param}` must be a plain number, found {}", describe(v)))
}

fn positive(x: f64, param: &str) -> Result<f64, String> {
    if x > 0.0 {
        Ok(x)
    } else {
        Err(format!("`{param}` must be positive, found {x}"))
    }
}

/// A token count: a plain number or a quantity in tokens, not negative.
fn tokens(v: &Value, param: &str) -> Result<f64, String> {
    let x = v
        .as_number()
        .or_else(|| v.as_f64_in(&Dim::token()))
        .ok_or_else(|| {
            format!(
                "`{param}` must be a number of tokens (`8192` or `8192 tokens`), found {}",
                describe(v)
            )
        })?;
    if x < 0.0 {
        return Err(format!("`{param}` must not be negative, found {x}"));
    }
    Ok(x)
}

/// Bytes per stored value: a plain number (`2`) or a quantity in bytes (`2 B`), positive.
fn bytes_per_value(v: &Value, param: &str) -> Result<f64, String> {
    let x = v
        .as_number()
        .or_else(|| v.as_f64_in(&Dim::information()))
        .ok_or_else(|| {
            format!(
                "`{param}` must be bytes per value (`2` for BF16, `1` for FP8), found {}",
                describe(v)
            )
        })?;
    positive(x, param)
}

/// A quantity of dimension `dim` (named by an example unit in messages).
fn quantity(v: &Value, param: &str, dim: &Dim, unit: &str) -> Result<f64, String> {
    v.as_f64_in(dim).ok_or_else(|| {
        format!(
            "`{param}` must be a quantity like `{unit}`, found {}",
            describe(v)
        )
    })
}

fn boolean(v: &Value, param: &str) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| format!("`{param}` must be true or false, found {}", describe(v)))
}

/// A precision string; `""` gives `None` (the caller's default).
fn precision(v: &Value, param: &str) -> Result<Option<Precision>, String> {
    let s = v.as_str().ok_or_else(|| {
        format!(
            "`{param}` must be a string such as \"bf16\", \"fp8\" or \"fp4\", found {}",
            describe(v)
        )
    })?;
    match s.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "bf16" | "fp16" => Ok(Some(Precision::Bf16)),
        "fp8" => Ok(Some(Precision::Fp8)),
        "int8" => Ok(Some(Precision::Int8)),
        "fp4" => Ok(Some(Precision::Fp4)),
        other => Err(format!(
            "unknown precision {other:?}; use \"bf16\", \"fp8\", \"int8\" or \"fp4\""
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Records.

/// A data record being read, with what it is and its display name for messages.
struct Entry<'a> {
    value: &'a Value,
    /// "model", "hardware", "system", "memory tier", "pricing".
    kind: &'static str,
    name: String,
}

impl<'a> Entry<'a> {
    /// `v` if it is a record; else an error saying `param` needs `expected`.
    fn new(
        v: &'a Value,
        param: &str,
        kind: &'static str,
        expected: &str,
    ) -> Result<Entry<'a>, String> {
        if !matches!(v, Value::Record(_)) {
            return Err(format!(
                "`{param}` must be {expected}, found {}",
                describe(v)
            ));
        }
        let name = v
            .field("name")
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)")
            .to_string();
        Ok(Entry {
            value: v,
            kind,
            name,
        })
    }

    /// The value at a dotted path (`hbm.bandwidth`); the figure it came from is noted as read.
    fn get(&self, path: &str) -> Option<&'a Value> {
        let v = path
            .split('.')
            .try_fold(self.value, |v, part| v.field(part))?;
        provenance::note(v);
        Some(v)
    }

    fn has(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// A field the engine needs is absent: names the field, the record and the fields it has,
    /// and blames the data entry so the diagnostic points at it.
    fn missing(&self, path: &str) -> String {
        provenance::blame(self.value.origin());
        let parts: Vec<&str> = path.split('.').collect();
        let (last, parents) = parts.split_last().unwrap_or((&"", &[]));
        let parent = parents.iter().try_fold(self.value, |v, p| v.field(p));
        let have: Vec<&str> = match parent {
            Some(Value::Record(r)) => r.names().collect(),
            _ => Vec::new(),
        };
        let hint = match crate::diagnostic::did_you_mean(last, have.iter().copied()) {
            Some(s) => format!(" (it has `{s}`: a misspelling?)"),
            None if have.is_empty() => String::new(),
            None => format!(" (it has {})", have.join(", ")),
        };
        format!(
            "{} {:?} has no field `{path}`, which this function needs{hint}",
            self.kind, self.name
        )
    }

    /// A field of the wrong kind or dimension: blames the figure itself (its line), else the
    /// entry.
    fn wrong(&self, path: &str, expected: &str, found: &Value) -> String {
        let figure = found.prov().and_then(|f| f.first()).map(|f| Origin {
            file: f.file.clone(),
            line: f.line,
            id: f.path.to_string(),
        });
        provenance::blame(figure.as_ref().or(self.value.origin()));
        format!(
            "{} {:?}: `{path}` must be {expected}, found {}",
            self.kind,
            self.name,
            describe(found)
        )
    }

    fn number_opt(&self, path: &str) -> Result<Option<f64>, String> {
        match self.get(path) {
            None => Ok(None),
            Some(v) => v
                .as_number()
                .map(Some)
                .ok_or_else(|| self.wrong(path, "a plain number", v)),
        }
    }

    fn number(&self, path: &str) -> Result<f64, String> {
        self.number_opt(path)?.ok_or_else(|| self.missing(path))
    }

    /// A whole, non-negative count (layers, heads, experts).
    fn int_opt(&self, path: &str) -> Result<Option<u32>, String> {
        match self.number_opt(path)? {
            None => Ok(None),
            Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX) => {
                Ok(Some(x as u32))
            }
            Some(x) => Err(format!(
                "{} {:?}: `{path}` must be a whole number, found {x}",
                self.kind, self.name
            )),
        }
    }

    fn int(&self, path: &str) -> Result<u32, String> {
        self.int_opt(path)?.ok_or_else(|| self.missing(path))
    }

    fn quantity_opt(&self, path: &str, dim: &Dim, unit: &str) -> Result<Option<f64>, String> {
        match self.get(path) {
            None => Ok(None),
            Some(v) => v
                .as_f64_in(dim)
                .map(Some)
                .ok_or_else(|| self.wrong(path, &format!("a quantity like `{unit}`"), v)),
        }
    }

    fn quantity(&self, path: &str, dim: &Dim, unit: &str) -> Result<f64, String> {
        self.quantity_opt(path, dim, unit)?
            .ok_or_else(|| self.missing(path))
    }

    /// A token count: a quantity in tokens or a plain number.
    fn tokens_opt(&self, path: &str) -> Result<Option<f64>, String> {
        match self.get(path) {
            None => Ok(None),
            Some(v) => v
                .as_f64_in(&Dim::token())
                .or_else(|| v.as_number())
                .map(Some)
                .ok_or_else(|| self.wrong(path, "a number of tokens", v)),
        }
    }

    fn text(&self, path: &str) -> Result<&'a str, String> {
        let v = self.get(path).ok_or_else(|| self.missing(path))?;
        v.as_str().ok_or_else(|| self.wrong(path, "a string", v))
    }
}

/// A model record as the engine's [`Model`], with its native bytes per weight if known.
struct ModelArg<'a> {
    entry: Entry<'a>,
    model: Model,
    weight_bytes: Option<f64>,
}

fn model<'a>(v: &'a Value, param: &str) -> Result<ModelArg<'a>, String> {
    let e = Entry::new(
        v,
        param,
        "model",
        "a model record (like `models.deepseek_v3`)",
    )?;
    if !e.has("params_total") && !e.has("layers") {
        return Err(format!(
            "`{param}` must be a model record (like `models.deepseek_v3`), found {}, which has \
             no `params_total` or `layers`",
            describe(v)
        ));
    }
    let kind = e.text("attention.kind")?;
    let heads = || e.int("attention.heads");
    let head_dim = || e.int("attention.head_dim");
    let attention = match kind.to_ascii_uppercase().as_str() {
        "MHA" => Attention::Mha {
            heads: heads()?,
            head_dim: head_dim()?,
        },
        "GQA" => Attention::Gqa {
            heads: heads()?,
            kv_heads: e.int("attention.kv_heads")?,
            head_dim: head_dim()?,
        },
        "MQA" => Attention::Mqa {
            heads: heads()?,
            head_dim: head_dim()?,
        },
        "MLA" => Attention::Mla {
            heads: heads()?,
            kv_lora_rank: e.int("attention.kv_lora_rank")?,
            qk_rope_head_dim: e.int("attention.qk_rope_head_dim")?,
            qk_nope_head_dim: e.int("attention.qk_nope_head_dim")?,
            v_head_dim: e.int("attention.v_head_dim")?,
        },
        other => {
            return Err(format!(
                "model {:?}: `attention.kind` must be MHA, GQA, MQA or MLA, found {other:?}",
                e.name
            ));
        }
    };
    let layers = e.int("layers")?;
    let sliding_window = match e.get("sliding_window") {
        None => None,
        Some(_) => Some(SlidingWindow {
            window: e.int("sliding_window.window")?,
            layers: e.int("sliding_window.layers")?,
        }),
    };
    if let Some(w) = &sliding_window
        && w.layers > layers
    {
        return Err(format!(
            "model {:?}: `sliding_window.layers` ({}) exceeds `layers` ({layers})",
            e.name, w.layers
        ));
    }
    let moe = match e.get("experts") {
        None => None,
        Some(_) => Some(Moe {
            routed: e.int("experts.routed")?,
            active: e.int("experts.active")?,
            shared: e.int_opt("experts.shared")?.unwrap_or(0),
            moe_layers: e.int("experts.moe_layers")?,
            expert_ffn: e.int("experts.expert_ffn")?,
        }),
    };
    let weight_bytes = e.number_opt("weight_bytes")?;
    let model = Model {
        name: e.name.clone(),
        params_total: e.number("params_total")?,
        params_active: e.number("params_active")?,
        layers,
        hidden: e.int("hidden")?,
        attention,
        sliding_window,
        moe,
        weight_bytes: weight_bytes.unwrap_or(f64::NAN),
        training_tokens: e.tokens_opt("training_tokens")?,
    };
    Ok(ModelArg {
        entry: e,
        model,
        weight_bytes,
    })
}

impl ModelArg<'_> {
    /// Compute precision and bytes per weight for serving at `p` (`None`: the model's own).
    fn serving(&self, p: Option<Precision>) -> Result<(Precision, f64), String> {
        match p {
            Some(p) => Ok((p, p.bytes())),
            None => {
                let wb = self.weight_bytes.ok_or_else(|| {
                    format!(
                        "{}; pass a precision such as precision=\"fp8\"",
                        self.entry.missing("weight_bytes")
                    )
                })?;
                Ok((Precision::from_bytes(wb).unwrap_or(Precision::Bf16), wb))
            }
        }
    }

    /// The talk's R for this model served at `p` on `h`: `F·b_w/(2·BW)`.
    fn ratio(&self, h: &Hw, p: Option<Precision>) -> Result<f64, String> {
        let (compute, wb) = self.serving(p)?;
        Ok(roofline::hardware_ratio(
            h.chip.flops.at(compute),
            h.chip.hbm_bandwidth,
            wb,
        ))
    }

    fn moe(&self) -> Result<&Moe, String> {
        self.model
            .moe
            .as_ref()
            .ok_or_else(|| format!("model {:?} is dense: it has no `experts`", self.entry.name))
    }
}

/// A hardware or system record as a [`Chip`], with what the chip record left out.
struct Hw<'a> {
    entry: Entry<'a>,
    chip: Chip,
    /// A system's chip count.
    chips: Option<u32>,
    has_scale_up: bool,
    has_domain: bool,
    /// `scale_up.bandwidth_per_direction` where the record states it.
    per_direction: Option<f64>,
}

fn hw<'a>(v: &'a Value, param: &str) -> Result<Hw<'a>, String> {
    let expected = "a hardware or system record (like `hardware.h100` or `systems.gb200_nvl72`)";
    let e = Entry::new(v, param, "hardware", expected)?;
    if let Some(Value::Str(chip_id)) = v.field("chip") {
        let sys = Entry {
            kind: "system",
            ..e
        };
        let Some(chip_record) = v.field("hardware") else {
            return Err(format!(
                "system {:?} names chip {:?} but has no `hardware` record linked to it (the data \
                 loader links it from hardware.yaml); pass `hardware.{chip_id}` instead",
                sys.name, &**chip_id
            ));
        };
        let mut h = hw(chip_record, param)?;
        h.chips = Some(sys.int("chips")?);
        if let Some(domain) = sys.int_opt("scale_up_domain")? {
            h.chip.scale_up_domain = domain;
            h.has_domain = true;
        }
        h.entry = sys;
        return Ok(h);
    }
    if !e.has("hbm") && !e.has("flops") {
        return Err(format!(
            "`{param}` must be {expected}, found {}, which has no `flops` or `hbm`",
            describe(v)
        ));
    }
    let flop_rate = per(Dim::flop(), Dim::time());
    let bandwidth = per(Dim::information(), Dim::time());
    let flops = PeakFlops {
        bf16: e.quantity("flops.bf16", &flop_rate, "TFLOP/s")?,
        fp8: e.quantity_opt("flops.fp8", &flop_rate, "TFLOP/s")?,
        int8: e.quantity_opt("flops.int8", &flop_rate, "TFLOP/s")?,
        fp4: e.quantity_opt("flops.fp4", &flop_rate, "TFLOP/s")?,
    };
    let up = e.quantity_opt("scale_up.bandwidth", &bandwidth, "GB/s")?;
    let per_direction = e.quantity_opt("scale_up.bandwidth_per_direction", &bandwidth, "GB/s")?;
    let domain = e.int_opt("scale_up.domain")?;
    let power = per(Dim::energy(), Dim::time());
    let chip = Chip {
        name: e.name.clone(),
        flops,
        hbm_capacity: e.quantity("hbm.capacity", &Dim::information(), "GB")?,
        hbm_bandwidth: e.quantity("hbm.bandwidth", &bandwidth, "TB/s")?,
        // The engine halves the bidirectional figure; a stated one-way figure takes precedence.
        scale_up_bandwidth: per_direction.map(|p| 2.0 * p).or(up).unwrap_or(f64::NAN),
        scale_up_domain: domain.unwrap_or(1).max(1),
        scale_out_bandwidth: e.quantity_opt("scale_out.bandwidth", &bandwidth, "Gb/s")?,
        power: e.quantity_opt("power", &power, "W")?,
        price: e.quantity_opt("price", &per(Dim::money(), Dim::time()), "$/hour")?,
        year: e.int_opt("year")?,
    };
    Ok(Hw {
        has_scale_up: up.is_some() || per_direction.is_some(),
        has_domain: domain.is_some(),
        per_direction,
        chips: None,
        chip,
        entry: e,
    })
}

impl Hw<'_> {
    /// The `chips` argument: a whole number ≥ 1, or (`AUTO`) a system's count, else 1.
    fn chips(&self, v: &Value) -> Result<u32, String> {
        if v.as_str() == Some(AUTO) {
            return Ok(self.chips.unwrap_or(1));
        }
        let n = count(v, "chips")?;
        if n < 1.0 || n.fract() != 0.0 || n > f64::from(u32::MAX) {
            return Err(format!("`chips` must be a whole number ≥ 1, found {n}"));
        }
        Ok(n as u32)
    }

    /// The `price` argument in $/s: as given, or the record's price, or the talk's $2/hour.
    fn price(&self, v: &Value) -> Result<f64, String> {
        if v.as_str() == Some(AUTO) {
            return Ok(self.chip.price.unwrap_or(TALK_PRICE_PER_HOUR / HOUR));
        }
        quantity(v, "price", &per(Dim::money(), Dim::time()), "$/hour")
    }

    fn scale_up_per_direction(&self) -> Result<f64, String> {
        if !self.has_scale_up {
            return Err(self.chip_missing("scale_up.bandwidth"));
        }
        Ok(self
            .per_direction
            .unwrap_or_else(|| self.chip.scale_up_per_direction()))
    }

    fn scale_out(&self) -> Result<f64, String> {
        self.chip
            .scale_out_bandwidth
            .ok_or_else(|| self.chip_missing("scale_out.bandwidth"))
    }

    /// The links an all-to-all over `chips` chips crosses must be known.
    fn check_all_to_all(&self, chips: u32) -> Result<(), String> {
        self.scale_up_per_direction()?;
        if !self.has_domain {
            return Err(self.chip_missing("scale_up.domain"));
        }
        if chips > self.chip.scale_up_domain && self.chip.scale_out_bandwidth.is_none() {
            return Err(format!(
                "{} chips span more than one scale-up domain of {}, but {}",
                chips,
                self.chip.scale_up_domain,
                self.chip_missing("scale_out.bandwidth")
            ));
        }
        Ok(())
    }

    fn chip_missing(&self, path: &str) -> String {
        if self.entry.kind == "system" {
            format!(
                "system {:?}: its chip {:?} has no field `{path}`",
                self.entry.name, self.chip.name
            )
        } else {
            self.entry.missing(path)
        }
    }
}

/// Capacity and bandwidth of one device: a memory tier, or a chip's (system's per-chip) HBM.
struct Tier {
    capacity: f64,
    bandwidth: f64,
}

fn tier(v: &Value, param: &str) -> Result<Tier, String> {
    let expected =
        "a memory, hardware or system record (like `memory.hdd_exos_x24` or `hardware.h100`)";
    let e = Entry::new(v, param, "memory tier", expected)?;
    if e.has("hbm") || e.has("chip") {
        let h = hw(v, param)?;
        return Ok(Tier {
            capacity: h.chip.hbm_capacity,
            bandwidth: h.chip.hbm_bandwidth,
        });
    }
    if !e.has("capacity") && !e.has("bandwidth") {
        return Err(format!(
            "`{param}` must be {expected}, found {}, which has no `capacity` or `bandwidth`",
            describe(v)
        ));
    }
    Ok(Tier {
        capacity: e.quantity("capacity", &Dim::information(), "TB")?,
        bandwidth: e.quantity("bandwidth", &per(Dim::information(), Dim::time()), "GB/s")?,
    })
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
            .map(|p| match &p.default {
                None => format!("`{}`", p.name),
                Some(Value::Str(d)) if &**d == AUTO => format!("`{}` (from the record)", p.name),
                Some(Value::Str(d)) => format!("`{}={:?}`", p.name, &**d),
                Some(d) => format!("`{}={}`", p.name, scope.format(d)),
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
            table.contains("| `decode` | `model`, `hw`, `batch=1`"),
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
