//! One decode step: B sequences each get one new token from a model spread over n chips. The
//! step's compute, weight-read, KV-read and all-to-all times, and what follows from them: speed
//! per user, throughput per replica, cost per token and MFU. Also the price/speed identity of
//! "fast mode", the MFU of a measured run, and where attention FLOPs start to matter.
//!
//! Model (CLAIMS.md §1.2, C1–C2, C10; SB inference.md):
//! - compute `2·B·N_act / (n·F)` (attention FLOPs added only when asked);
//! - weights: routed experts are read only if some sequence in the batch picked them, so each MoE
//!   layer reads `E·(1−(1−k/E)^B)` experts' bytes, plus every non-expert weight. The routed
//!   experts are spread over the n chips, and the step waits for the chip with the most touched
//!   experts: its expected count ([`expected_busiest_experts`]) sets the expert read time, not
//!   the average. The non-expert weights (attention, dense layers, shared experts) are either
//!   sharded over the chips ([`Layout::Sharded`], each chip reads `1/n` of them) or replicated on
//!   every chip ([`Layout::DataParallelAttention`], DeepSeek's serving layout, each chip reads all
//!   of them for its own share of the batch);
//! - KV: `B · kv_bytes_per_sequence(L) / (n·BW)`;
//! - communication: the expert-parallel all-to-all (dispatch + combine) over scale-up and
//!   scale-out links ([`crate::engine::network`]); tensor-parallel traffic of dense layers is not
//!   modelled;
//! - step: `max(compute, weights + KV)` plus communication: overlapped (the default, the
//!   roofline lower bound, as DeepSeek's dual micro-batch overlap aims for) it enters the `max`;
//!   serial it is added.

use crate::engine::hardware::{Chip, Precision, System};
use crate::engine::kv::kv_bytes_per_sequence;
use crate::engine::model::Model;
use crate::engine::moe::{expected_busiest_experts, expected_distinct_experts};
use crate::engine::network::{all_to_all_bytes_per_token, all_to_all_time, all_to_all_traffic};
use crate::engine::roofline::Bound;

/// Seconds in an hour, for prices quoted per hour.
pub const HOUR: f64 = 3_600.0;

/// The talk's rental price, "$2/hour per GPU or something like that" [00:12], in USD per second.
pub const TALK_PRICE_PER_CHIP_S: f64 = 2.0 / HOUR;

/// How many routed experts a step reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpertReads {
    /// Only the experts some sequence in the batch was routed to, in expectation
    /// ([`expected_distinct_experts`]). The default.
    ExpectedDistinct,
    /// Every weight, every step: the talk's `N_tot·b_w/BW` floor (CLAIMS.md C1).
    All,
}

/// How a model's weights are laid out over the chips of a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Every weight is spread evenly over the chips (tensor- and expert-parallel): each chip holds
    /// and reads `1/n` of the non-expert weights. The default, and the talk's `N_tot·b_w/BW` floor.
    Sharded,
    /// DeepSeek's serving layout: attention and the shared experts data-parallel (a full copy on
    /// every chip, each chip running its own share of the batch), the routed experts
    /// expert-parallel (`E/n` per chip). DeepSeek-V3's decode runs "Routed Expert EP144,
    /// MLA/Shared Expert DP144" (DeepSeek, "Day 6: DeepSeek-V3/R1 inference system overview",
    /// 2025). Each chip then reads all the non-expert weights every step.
    DataParallelAttention,
}

/// Bytes of weights one chip holds (and reads when every expert is read) when `model` at
/// `weight_bytes` per weight is laid out over `chips` chips: sharded, `N_tot·b_w/n`; data-parallel
/// attention, the non-expert weights plus `⌈E/n⌉` experts per MoE layer (a dense model: all of
/// it). DeepSeek-V3 FP8 on 64 chips: 10.5 GB sharded; 17.1 GB + 4·58·44.0 MB = 27.3 GB with DP
/// attention.
pub fn weight_bytes_per_chip(model: &Model, weight_bytes: f64, chips: u32, layout: Layout) -> f64 {
    let n = chips.max(1);
    match (layout, &model.moe) {
        (Layout::Sharded, _) => model.params_total * weight_bytes / f64::from(n),
        (Layout::DataParallelAttention, None) => model.params_total * weight_bytes,
        (Layout::DataParallelAttention, Some(moe)) => {
            let per_chip = f64::from(moe.routed.div_ceil(n));
            (model.always_read_params()
                + f64::from(moe.moe_layers) * per_chip * moe.params_per_expert(model.hidden))
                * weight_bytes
        }
    }
}

/// Whether communication overlaps compute and memory traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// `step = max(compute, memory, comm)`: the roofline lower bound. The default.
    Overlapped,
    /// `step = max(compute, memory) + comm`.
    Serial,
}

/// The operating point of a decode step.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeConfig {
    /// Sequences in the batch, B.
    pub batch: f64,
    /// Context length per sequence in tokens, L.
    pub context: f64,
    /// Chips in the replica, n (the model's weights and the batch's KV are spread over them).
    pub chips: u32,
    /// Precision of the matmuls (selects the chip's peak FLOP/s).
    pub compute: Precision,
    /// Bytes per weight, b_w.
    pub weight_bytes: f64,
    /// Bytes per cached KV value (2 = BF16, 1 = FP8).
    pub kv_bytes: f64,
    /// Bytes per activation value sent in the all-to-all (2 = BF16).
    pub activation_bytes: f64,
    /// Rental price in USD per chip-second.
    pub price: f64,
    /// Which routed experts are read.
    pub expert_reads: ExpertReads,
    /// Whether communication overlaps.
    pub overlap: Overlap,
    /// Count attention-score FLOPs (`B·L·attention_flops_per_context_token`) as compute.
    pub attention_flops: bool,
    /// How the weights are laid out over the chips.
    pub layout: Layout,
}

impl DecodeConfig {
    /// A config for `model` at its native weight precision, computing at that precision
    /// (BF16 if it has none of its own), BF16 KV cache and activations, the talk's $2/chip-hour,
    /// expected-distinct expert reads, overlapped communication, attention FLOPs ignored.
    pub fn new(model: &Model, batch: f64, context: f64, chips: u32) -> DecodeConfig {
        DecodeConfig {
            batch,
            context,
            chips,
            compute: Precision::from_bytes(model.weight_bytes).unwrap_or(Precision::Bf16),
            weight_bytes: model.weight_bytes,
            kv_bytes: 2.0,
            activation_bytes: 2.0,
            price: TALK_PRICE_PER_CHIP_S,
            expert_reads: ExpertReads::ExpectedDistinct,
            overlap: Overlap::Overlapped,
            attention_flops: false,
            layout: Layout::Sharded,
        }
    }
}

/// The result of [`decode`]: times in seconds, bytes, FLOP, USD.
#[derive(Debug, Clone, PartialEq)]
pub struct Decode {
    /// Matmul time, `FLOPs / (n·F)`.
    pub compute_time: f64,
    /// Weight-read time.
    pub weight_time: f64,
    /// KV-cache read time, `B·kv_seq(L) / (n·BW)`.
    pub kv_time: f64,
    /// All-to-all time.
    pub comm_time: f64,
    /// `weight_time + kv_time` (one HBM, read sequentially).
    pub memory_time: f64,
    /// The step: see the module doc for how the terms combine.
    pub step_time: f64,
    /// Tokens per second each sequence sees, `1/step`.
    pub tokens_per_s_user: f64,
    /// Tokens per second of the replica, `B/step`.
    pub tokens_per_s_replica: f64,
    /// USD per generated token, `step · n · price / B`.
    pub cost_per_token: f64,
    /// Model FLOPs utilisation, `2·B·N_act / (step · n · F)`.
    pub mfu: f64,
    /// Expected distinct routed experts read per MoE layer (`None` for dense models).
    pub distinct_experts: Option<f64>,
    /// Expected touched routed experts per MoE layer on the busiest chip, which sets the expert
    /// read time (`None` for dense models).
    pub busiest_experts: Option<f64>,
    /// FLOPs of the step.
    pub flops: f64,
    /// Weight bytes read.
    pub weight_bytes: f64,
    /// KV bytes read.
    pub kv_bytes: f64,
    /// Which term sets the step.
    pub bound: Bound,
}

/// Attention-score FLOPs per new token per token of context (QKᵀ and AV, all heads and layers):
/// `layers · 2 · heads · (d_qk + d_v)` (CLAIMS.md C28). DeepSeek-V3 (non-absorbed MLA):
/// 61·2·128·(192+128) = 4,997,120; Llama 3.1 405B: 126·2·128·256 = 8,257,536.
pub fn attention_flops_per_context_token(model: &Model) -> f64 {
    let a = &model.attention;
    f64::from(model.layers)
        * 2.0
        * f64::from(a.heads())
        * f64::from(a.qk_head_dim() + a.v_head_dim())
}

/// Context at which attention-score FLOPs equal weight FLOPs per token:
/// `L_eq = 2·N_act / attention_flops_per_context_token` (CLAIMS.md C28). DeepSeek-V3 ≈ 14,800;
/// Llama 3.1 405B ≈ 98,000.
pub fn attention_crossover_context(model: &Model) -> f64 {
    2.0 * model.params_active / attention_flops_per_context_token(model)
}

/// The decode roofline for `model` on `cfg.chips` copies of `chip` (see the module doc).
pub fn decode(model: &Model, chip: &Chip, cfg: &DecodeConfig) -> Decode {
    let n = f64::from(cfg.chips.max(1));
    let b = cfg.batch;
    let peak = chip.flops.at(cfg.compute);
    let bw = chip.hbm_bandwidth;

    let mut flops = 2.0 * b * model.params_active;
    if cfg.attention_flops {
        flops += b * cfg.context * attention_flops_per_context_token(model);
    }
    let compute_time = flops / (n * peak);

    let reads = weight_reads(model, cfg, n, bw);
    let (weight_bytes, weight_time) = (reads.bytes, reads.time);
    let (distinct_experts, busiest_experts) = (reads.distinct, reads.busiest);

    let kv_bytes = b * kv_bytes_per_sequence(model, cfg.context, cfg.kv_bytes);
    let kv_time = kv_bytes / (n * bw);
    let memory_time = weight_time + kv_time;

    let comm_time = match &model.moe {
        Some(moe) if cfg.chips > 1 => {
            let per_token = all_to_all_bytes_per_token(
                f64::from(moe.active),
                f64::from(model.hidden),
                cfg.activation_bytes,
                f64::from(moe.moe_layers),
            );
            let traffic = all_to_all_traffic(b / n * per_token, cfg.chips, chip.scale_up_domain);
            all_to_all_time(
                traffic,
                chip.scale_up_per_direction(),
                chip.scale_out_bandwidth,
            )
        }
        _ => 0.0,
    };

    let roofline = compute_time.max(memory_time);
    let step_time = match cfg.overlap {
        Overlap::Overlapped => roofline.max(comm_time),
        Overlap::Serial => roofline + comm_time,
    };
    let bound = if cfg.overlap == Overlap::Overlapped && comm_time > roofline {
        Bound::Communication
    } else if compute_time >= memory_time {
        Bound::Compute
    } else if weight_time >= kv_time {
        Bound::WeightRead
    } else {
        Bound::KvRead
    };

    Decode {
        compute_time,
        weight_time,
        kv_time,
        comm_time,
        memory_time,
        step_time,
        tokens_per_s_user: 1.0 / step_time,
        tokens_per_s_replica: b / step_time,
        cost_per_token: step_time * n * cfg.price / b,
        mfu: mfu(2.0 * b * model.params_active, step_time, n, peak),
        distinct_experts,
        busiest_experts,
        flops,
        weight_bytes,
        kv_bytes,
        bound,
    }
}

/// What a decode step reads of the weights.
struct WeightReads {
    /// Bytes read over all chips.
    bytes: f64,
    /// Time the slowest chip takes to read its part.
    time: f64,
    distinct: Option<f64>,
    busiest: Option<f64>,
}

/// The weight reads of a step (see the module doc): the non-expert weights as the layout puts
/// them, and the routed experts the batch touches, timed on the busiest chip.
fn weight_reads(model: &Model, cfg: &DecodeConfig, n: f64, bw: f64) -> WeightReads {
    let replicated = cfg.layout == Layout::DataParallelAttention;
    match &model.moe {
        Some(moe) if cfg.expert_reads == ExpertReads::ExpectedDistinct => {
            let per_expert = moe.params_per_expert(model.hidden) * cfg.weight_bytes;
            let distinct =
                expected_distinct_experts(f64::from(moe.routed), f64::from(moe.active), cfg.batch);
            let busiest =
                expected_busiest_experts(moe.routed, f64::from(moe.active), cfg.batch, cfg.chips);
            let layers = f64::from(moe.moe_layers);
            let always = model.always_read_params() * cfg.weight_bytes;
            // Sharded, each chip reads 1/n of the non-expert weights; replicated, all of them.
            let (always_bytes, always_per_chip) = if replicated {
                (n * always, always)
            } else {
                (always, always / n)
            };
            WeightReads {
                bytes: always_bytes + layers * distinct * per_expert,
                time: (always_per_chip + layers * busiest * per_expert) / bw,
                distinct: Some(distinct),
                busiest: Some(busiest),
            }
        }
        moe => {
            let per_chip = weight_bytes_per_chip(model, cfg.weight_bytes, cfg.chips, cfg.layout);
            let bytes = if replicated {
                n * per_chip
            } else {
                model.params_total * cfg.weight_bytes
            };
            let experts = moe.as_ref().map(|m| f64::from(m.routed));
            let busiest = moe
                .as_ref()
                .map(|m| f64::from(m.routed.div_ceil(cfg.chips.max(1))));
            WeightReads {
                bytes,
                time: per_chip / bw,
                distinct: experts,
                busiest,
            }
        }
    }
}

/// [`decode`] on a whole [`System`] with [`DecodeConfig::new`]'s defaults: the replica is all of
/// the system's chips, and its scale-up domain is the system's.
pub fn decode_on_system(model: &Model, system: &System, batch: f64, context: f64) -> Decode {
    let mut chip = system.chip.clone();
    chip.scale_up_domain = system.scale_up_domain;
    decode(
        model,
        &chip,
        &DecodeConfig::new(model, batch, context, system.chips),
    )
}

/// Model FLOPs utilisation: useful FLOPs over what the chips could have done,
/// `model_flops / (time · chips · peak)` (ESTI §4; Chowdhery et al. 2022). PaLM 540B low-latency
/// prefill (ESTI Table 2): 2·540e9·2,048 / (0.29 s · 64 · 275e12) = 43%.
pub fn mfu(model_flops: f64, time: f64, chips: f64, peak: f64) -> f64 {
    model_flops / (time * chips * peak)
}

/// The weight-read floor of a decode step, `N_tot·b_w / BW_total` (CLAIMS.md C1): no step that
/// reads every weight can be faster. DeepSeek-V3 FP8 on 64 GB200: 671e9 / 512e12 = 1.31 ms.
pub fn weight_read_floor(params_total: f64, weight_bytes: f64, bandwidth_total: f64) -> f64 {
    params_total * weight_bytes / bandwidth_total
}

/// Batch ratio implied by a premium tier on the same hardware: cost per token ∝ `t/B` and speed
/// ∝ `1/t`, so `price_ratio × speed_ratio = B_normal / B_fast` (CLAIMS.md C10: Anthropic's fast
/// mode, 6x price for up to 2.5x speed ⇒ 1/15 of the batch).
pub fn batch_ratio_from_price_and_speed(price_ratio: f64, speed_ratio: f64) -> f64 {
    price_ratio * speed_ratio
}

/// Operating points of a normal and a fast tier when the step is memory-bound,
/// `t = W + k·B` (W the weight read, k the KV read per sequence): returns
/// `(x, y) = (B_normal·k/W, B_fast·k/W)` solving `(1+x)/(1+y) = speed_ratio` and
/// `x/y = price_ratio·speed_ratio` (CLAIMS.md C10: 6x and 2.5x ⇒ x = 1.8, y = 0.12).
/// `None` when no such point exists (`price_ratio ≤ 1` or `speed_ratio ≤ 1`).
pub fn fast_mode_memory_bound(price_ratio: f64, speed_ratio: f64) -> Option<(f64, f64)> {
    if price_ratio <= 1.0 || speed_ratio <= 1.0 {
        return None;
    }
    let q = price_ratio * speed_ratio;
    let y = (speed_ratio - 1.0) / (q - speed_ratio);
    Some((q * y, y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testdata;
    use crate::engine::testutil::close;

    /// DeepSeek-V3 FP8 on 64 GB200 GPUs at FP8 compute, BF16 KV, 8k context (CLAIMS.md C2, C10).
    fn deepseek_on_64_gb200(batch: f64, reads: ExpertReads) -> Decode {
        let m = testdata::model("deepseek_v3");
        let mut cfg = DecodeConfig::new(&m, batch, 8_192.0, 64);
        cfg.expert_reads = reads;
        decode(&m, &testdata::chip("gb200"), &cfg)
    }

    #[test]
    fn deepseek_weight_floor_on_64_gb200_is_1_31_ms() {
        // CLAIMS.md C1: 671e9 B / (64 · 8e12 B/s) = 671e9 / 512e12 = 1.3105 ms.
        close(weight_read_floor(671e9, 1.0, 64.0 * 8e12), 1.3105e-3, 1e-3);
        // decode() reading every weight gives the same weight time.
        close(
            deepseek_on_64_gb200(1.0, ExpertReads::All).weight_time,
            1.3105e-3,
            1e-3,
        );
        // 1 TB on 8 H100 (26.8 TB/s): 37.3 ms; on an NVL72 (576 TB/s): 1.74 ms.
        close(weight_read_floor(1e12, 1.0, 8.0 * 3.35e12), 37.31e-3, 1e-3);
        close(weight_read_floor(1e12, 1.0, 72.0 * 8e12), 1.736e-3, 1e-3);
    }

    #[test]
    fn at_b_2100_deepseek_is_memory_bound_at_3_7_ms_and_272_tokens_per_s() {
        // KV per sequence 8,192 · 70,272 = 575.67e6 B; /512e12 = 1.1244 µs per sequence.
        // memory = 1.3105 ms + 2,100 · 1.1244 µs = 1.3105 + 2.3612 = 3.6717 ms;
        // compute = 2 · 2,100 · 37e9 / (64 · 5e15) = 0.4856 ms ⇒ memory-bound.
        let d = deepseek_on_64_gb200(2_100.0, ExpertReads::ExpectedDistinct);
        close(d.kv_time, 2.3612e-3, 1e-3);
        close(d.compute_time, 0.4856e-3, 1e-3);
        close(d.step_time, 3.6717e-3, 1e-3);
        assert_eq!(d.bound, Bound::KvRead);
        // All 256 experts are touched: 256·(1 − (248/256)^2100) = 256.
        close(d.distinct_experts.unwrap(), 256.0, 1e-9);
        // 1/3.6717 ms = 272 tok/s per user (CLAIMS.md C10); B/t = 571,940 tok/s per replica.
        close(d.tokens_per_s_user, 272.4, 1e-3);
        close(d.tokens_per_s_replica, 571_940.0, 1e-3);
        // GPU-time per token: 3.6717 ms · 64 / 2,100 = 111.9 µs; at $2/h: 6.2e-8 $ = $0.062/Mtok.
        close(
            d.cost_per_token,
            3.6717e-3 * 64.0 * (2.0 / 3600.0) / 2_100.0,
            1e-3,
        );
        close(d.cost_per_token * 1e6, 0.06216, 1e-3);
        // MFU = compute/step = 0.4856/3.6717 = 13.2%.
        close(d.mfu, 0.1323, 1e-3);
        // Communication: 2,100/64 tokens · 58 · 229,376 B · 63/64 over 900 GB/s = 0.477 ms, hidden.
        close(d.comm_time, 0.4775e-3, 1e-3);
    }

    #[test]
    fn unbatched_deepseek_costs_750x_if_all_weights_are_read() {
        // CLAIMS.md C2: t/B at B = 1 is 1.3105 ms + 1.12 µs = 1.3117 ms; at B = 2,100 it is
        // 3.6717 ms / 2,100 = 1.7484 µs; ratio 750.
        let one = deepseek_on_64_gb200(1.0, ExpertReads::All);
        let many = deepseek_on_64_gb200(2_100.0, ExpertReads::All);
        close(one.cost_per_token / many.cost_per_token, 750.2, 1e-3);
    }

    #[test]
    fn unbatched_moe_reads_only_the_touched_experts() {
        // At B = 1 only 8 of 256 experts per layer are read. Non-expert weights:
        // 671e9 − 58·256·3·7,168·2,048 = 671e9 − 653.91e9 = 17.09e9 B, spread: /512e12 = 33.4 µs.
        // The 8 touched experts (44.04 MB each) fall on 64 GPUs holding 4 each; the busiest GPU
        // is expected to hold 1.3101 of them: 1.3101 · 58 · 44.04e6 / 8e12 = 418.3 µs.
        // weights = 451.7 µs; + KV 1.12 µs = 452.8 µs.
        let d = deepseek_on_64_gb200(1.0, ExpertReads::ExpectedDistinct);
        close(d.distinct_experts.unwrap(), 8.0, 1e-9);
        close(d.busiest_experts.unwrap(), 1.3101, 1e-3);
        close(d.weight_time, 451.7e-6, 1e-3);
        close(d.step_time, 452.8e-6, 1e-3);
        // So unbatched costs 452.8e-6 / 1.7484e-6 = 259x, not 750x, with expert parallelism.
        let many = deepseek_on_64_gb200(2_100.0, ExpertReads::ExpectedDistinct);
        close(d.cost_per_token / many.cost_per_token, 259.0, 2e-3);
    }

    #[test]
    fn slow_mode_saves_a_third_for_a_sixfold_slowdown() {
        // CLAIMS.md C10: B = 20,000: memory 1.3105 + 22.488 = 23.80 ms; GPU-time/token
        // 23.80 ms · 64 / 20,000 = 76.2 µs vs 111.9 µs at B = 2,100 (−32%); 42 tok/s per user.
        let slow = deepseek_on_64_gb200(20_000.0, ExpertReads::ExpectedDistinct);
        let normal = deepseek_on_64_gb200(2_100.0, ExpertReads::ExpectedDistinct);
        close(slow.step_time * 64.0 / 20_000.0, 76.2e-6, 2e-3);
        close(slow.tokens_per_s_user, 42.0, 2e-3);
        close(
            1.0 - slow.cost_per_token / normal.cost_per_token,
            0.319,
            0.01,
        );
    }

    #[test]
    fn fast_mode_runs_one_fifteenth_of_the_batch() {
        // CLAIMS.md C10: 6 × 2.5 = 15.
        assert_eq!(batch_ratio_from_price_and_speed(6.0, 2.5), 15.0);
        // Memory-bound reading: y = (2.5 − 1)/(15 − 2.5) = 0.12; x = 15 · 0.12 = 1.8.
        let (x, y) = fast_mode_memory_bound(6.0, 2.5).unwrap();
        close(x, 1.8, 1e-12);
        close(y, 0.12, 1e-12);
        // DeepSeek-V3 on 64 GB200: W = 1.3105 ms, k = 1.1244 µs ⇒ B_normal = 1.8·W/k = 2,098,
        // B_fast = 140 ("≈2,100 and ≈140").
        let w = 671e9 / 512e12;
        let k = 8_192.0 * 70_272.0 / 512e12;
        close(x * w / k, 2_098.0, 1e-3);
        close(y * w / k, 139.9, 1e-3);
        assert_eq!(fast_mode_memory_bound(1.0, 2.5), None);
    }

    #[test]
    fn pope_table_2_mfu_is_reproduced_from_its_batches_and_latencies() {
        // ESTI Table 2, PaLM 540B on 64 TPU v4 (275e12 bf16 FLOP/s each). Model FLOPs are
        // 2·N·tokens with N = 540e9; the denominator is 64 · 275e12 = 1.76e16 FLOP/s.
        let n = testdata::model("palm_540b").params_total;
        let peak = testdata::chip("tpu_v4").flops.bf16;
        // Low-latency prefill: batch 1 × 2,048 tokens in 0.29 s:
        // 2·540e9·2,048 = 2.2118e15 / (0.29 · 1.76e16 = 5.104e15) = 43.3%.
        close(mfu(2.0 * n * 2_048.0, 0.29, 64.0, peak), 0.4333, 1e-3);
        // Low-latency decode: batch 64 × 64 generated tokens = 4,096 tokens in 1.82 s:
        // 4.4237e15 / 3.2032e16 = 13.8% (table: 14%).
        close(mfu(2.0 * n * 64.0 * 64.0, 1.82, 64.0, peak), 0.1381, 1e-3);
        // High-throughput prefill: batch 512 × 2,048 = 1,048,576 tokens in 85.2 s:
        // 1.1325e18 / 1.4995e18 = 75.5% (table: 76%).
        close(
            mfu(2.0 * n * 512.0 * 2_048.0, 85.2, 64.0, peak),
            0.7552,
            1e-3,
        );
        // High-throughput decode: batch 512 × 64 = 32,768 tokens in 6.0 s:
        // 3.5390e16 / 1.056e17 = 33.5% (table: 33%).
        close(mfu(2.0 * n * 512.0 * 64.0, 6.0, 64.0, peak), 0.3351, 1e-3);
    }

    #[test]
    fn palm_weight_floor_is_far_below_the_measured_29_ms() {
        // CLAIMS.md P1: 540e9 int8 bytes / (64 · 1.2e12) = 7.03 ms vs 28.5 ms measured at batch 64.
        let palm = testdata::model("palm_540b");
        let v4 = testdata::chip("tpu_v4");
        let mut cfg = DecodeConfig::new(&palm, 64.0, 2_048.0, 64);
        cfg.weight_bytes = 1.0;
        cfg.compute = Precision::Bf16;
        let d = decode(&palm, &v4, &cfg);
        close(d.weight_time, 7.03e-3, 1e-3);
        assert!(d.step_time < 28.5e-3 / 3.0);
        // Dense: no experts, no all-to-all.
        assert_eq!(d.distinct_experts, None);
        assert_eq!(d.comm_time, 0.0);
    }

    #[test]
    fn serial_communication_adds_to_the_step() {
        let m = testdata::model("deepseek_v3");
        let mut cfg = DecodeConfig::new(&m, 2_100.0, 8_192.0, 64);
        cfg.overlap = Overlap::Serial;
        let d = decode(&m, &testdata::chip("gb200"), &cfg);
        close(d.step_time, d.memory_time + d.comm_time, 1e-12);
        // Across two racks (144 GPUs), half of the all-to-all crosses 50 GB/s NICs:
        // 2,100/144 · 13,303,808 B = 194.0 MB per GPU; half over 50 GB/s = 1.94 ms.
        let mut cfg = DecodeConfig::new(&m, 2_100.0, 8_192.0, 144);
        cfg.overlap = Overlap::Overlapped;
        let d = decode(&m, &testdata::chip("gb200"), &cfg);
        close(d.comm_time, 1.940e-3, 1e-3);
    }

    #[test]
    fn deepseek_on_a_whole_nvl72_rack() {
        // 72 GB200, every expert touched: 256 experts over 72 GPUs put ⌈256/72⌉ = 4 on the
        // busiest, so weights take 17.09e9/576e12 + 4 · 58 · 44.04e6 / 8e12 = 0.0297 + 1.2771
        // = 1.3068 ms (not the even 671e9/576e12 = 1.1649 ms); KV 2,000 · 575.67e6 / 576e12
        // = 1.9988 ms; step 3.3057 ms ⇒ 605,018 tok/s per rack.
        let m = testdata::model("deepseek_v3");
        let d = decode_on_system(&m, &testdata::system("gb200_nvl72"), 2_000.0, 8_192.0);
        close(d.weight_time, 1.3068e-3, 1e-3);
        close(d.kv_time, 1.9988e-3, 1e-3);
        close(d.step_time, 3.3057e-3, 1e-3);
        close(d.tokens_per_s_replica, 605_018.0, 1e-3);
    }

    #[test]
    fn replica_throughput_is_batch_over_step() {
        // CLAIMS.md C8: 2,000 sequences per 1/64 s step = 128,000 tok/s; / 72 GPUs = 1,778.
        let per_replica = 2_000.0 / (1.0 / 64.0);
        assert_eq!(per_replica, 128_000.0);
        close(per_replica / 72.0, 1_778.0, 1e-3);
    }

    #[test]
    fn attention_flops_catch_up_with_weight_flops_at_5k_to_100k_tokens() {
        // CLAIMS.md C28. DeepSeek-V3: 61·2·128·320 = 4,997,120 FLOP per context token;
        // L_eq = 74e9 / 4,997,120 = 14,808.
        let ds = testdata::model("deepseek_v3");
        assert_eq!(attention_flops_per_context_token(&ds), 4_997_120.0);
        close(attention_crossover_context(&ds), 14_808.0, 1e-3);
        // Llama 3.1 405B: 126·2·128·256 = 8,257,536; L_eq = 810e9 / 8,257,536 = 98,092.
        let ll = testdata::model("llama31_405b");
        assert_eq!(attention_flops_per_context_token(&ll), 8_257_536.0);
        close(attention_crossover_context(&ll), 98_092.0, 1e-3);
        // Counting them adds B·L·4.997e6 FLOP: at L = 8,192 compute grows by 41e9/74e9 = 55%.
        let mut cfg = DecodeConfig::new(&ds, 2_100.0, 8_192.0, 64);
        cfg.attention_flops = true;
        let with = decode(&ds, &testdata::chip("gb200"), &cfg);
        close(with.compute_time / 0.4856e-3, 1.553, 1e-3);
    }

    #[test]
    fn deepseeks_own_layout_reads_the_replicated_weights_on_every_gpu() {
        // Attention and the shared expert on every GPU (issue #14, error 3): each of 64 GB200s
        // holds 17.09e9 B of non-expert weights plus 4 experts · 58 layers · 44.04e6 B = 27.31e9 B,
        // and reads it in 3.414 ms, against 1.3105 ms when every weight is sharded.
        let m = testdata::model("deepseek_v3");
        let dp = weight_bytes_per_chip(&m, 1.0, 64, Layout::DataParallelAttention);
        close(dp, 27.309e9, 1e-3);
        close(dp / 8e12, 3.414e-3, 1e-3);
        close(
            weight_bytes_per_chip(&m, 1.0, 64, Layout::Sharded),
            671e9 / 64.0,
            1e-12,
        );
        // A large batch touches every expert: decode's weight time is that floor.
        let mut cfg = DecodeConfig::new(&m, 4_096.0, 0.0, 64);
        cfg.layout = Layout::DataParallelAttention;
        let d = decode(&m, &testdata::chip("gb200"), &cfg);
        close(d.weight_time, 3.414e-3, 1e-3);
        // Each GPU reads its own copy: 64 · 17.09e9 + 58 · 256 · 44.04e6 B in all.
        close(d.weight_bytes, 64.0 * 17.09e9 + 653.91e9, 1e-3);
        // A dense model is copied whole onto every GPU.
        let llama = testdata::model("llama31_70b");
        assert_eq!(
            weight_bytes_per_chip(&llama, 2.0, 8, Layout::DataParallelAttention),
            2.0 * llama.params_total
        );
    }
}
