//! Prefill: processing a prompt of L tokens for B sequences in one pass, which writes their KV
//! cache and yields the first output token. Its roofline time (the time to first token on an
//! idle replica) and cost per prompt token.
//!
//! Model (CLAIMS.md C30–C31; ESTI §3): compute `2·N_act` FLOPs per prompt token (plus, if asked,
//! causal attention `Σ_{i<L} i · attention_flops_per_context_token ≈ L²/2 ·` per sequence);
//! memory: the weights once (all experts the B·L tokens touch) plus writing `B·kv_seq(L)` bytes
//! of KV. With thousands of tokens per weight read, prefill is compute-bound — the reason input
//! tokens are priced below output tokens.

use crate::engine::decode::{TALK_PRICE_PER_CHIP_S, attention_flops_per_context_token};
use crate::engine::hardware::{Chip, Precision};
use crate::engine::kv::kv_bytes_per_sequence;
use crate::engine::model::Model;
use crate::engine::moe::expected_distinct_experts;
use crate::engine::roofline::Bound;

/// The operating point of a prefill.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefillConfig {
    /// Prompts processed together, B.
    pub batch: f64,
    /// Tokens per prompt, L.
    pub prompt_len: f64,
    /// Chips in the replica.
    pub chips: u32,
    /// Precision of the matmuls.
    pub compute: Precision,
    /// Bytes per weight.
    pub weight_bytes: f64,
    /// Bytes per cached KV value.
    pub kv_bytes: f64,
    /// Rental price in USD per chip-second.
    pub price: f64,
    /// Count causal attention-score FLOPs as compute.
    pub attention_flops: bool,
}

impl PrefillConfig {
    /// One prompt of `prompt_len` tokens at the model's native precision, BF16 KV, the talk's
    /// $2/chip-hour, attention FLOPs ignored (as in [`crate::engine::decode::DecodeConfig::new`]).
    pub fn new(model: &Model, prompt_len: f64, chips: u32) -> PrefillConfig {
        PrefillConfig {
            batch: 1.0,
            prompt_len,
            chips,
            compute: Precision::from_bytes(model.weight_bytes).unwrap_or(Precision::Bf16),
            weight_bytes: model.weight_bytes,
            kv_bytes: 2.0,
            price: TALK_PRICE_PER_CHIP_S,
            attention_flops: false,
        }
    }
}

/// The result of [`prefill`].
#[derive(Debug, Clone, PartialEq)]
pub struct Prefill {
    /// FLOPs of the pass.
    pub flops: f64,
    /// Matmul time.
    pub compute_time: f64,
    /// Weight-read time (each touched weight once).
    pub weight_time: f64,
    /// KV-cache write time.
    pub kv_time: f64,
    /// `weight_time + kv_time`.
    pub memory_time: f64,
    /// `max(compute, memory)`: the time to first token with no queueing.
    pub time: f64,
    /// Prompt tokens per second of the replica, `B·L / time`.
    pub tokens_per_s: f64,
    /// USD per prompt token, `time · n · price / (B·L)`.
    pub cost_per_token: f64,
    /// Which term sets the time.
    pub bound: Bound,
}

/// The prefill roofline for `model` on `cfg.chips` copies of `chip` (see the module doc).
pub fn prefill(model: &Model, chip: &Chip, cfg: &PrefillConfig) -> Prefill {
    let n = f64::from(cfg.chips.max(1));
    let tokens = cfg.batch * cfg.prompt_len;
    let mut flops = 2.0 * model.params_active * tokens;
    if cfg.attention_flops {
        // Token i attends to i earlier positions: Σ i = L(L−1)/2 per sequence.
        let pairs = cfg.prompt_len * (cfg.prompt_len - 1.0) / 2.0;
        flops += cfg.batch * pairs * attention_flops_per_context_token(model);
    }
    let compute_time = flops / (n * chip.flops.at(cfg.compute));

    let weight_params = match &model.moe {
        Some(moe) => {
            let distinct =
                expected_distinct_experts(f64::from(moe.routed), f64::from(moe.active), tokens);
            model.always_read_params()
                + f64::from(moe.moe_layers) * distinct * moe.params_per_expert(model.hidden)
        }
        None => model.params_total,
    };
    let bw = n * chip.hbm_bandwidth;
    let weight_time = weight_params * cfg.weight_bytes / bw;
    let kv_time = cfg.batch * kv_bytes_per_sequence(model, cfg.prompt_len, cfg.kv_bytes) / bw;
    let memory_time = weight_time + kv_time;
    let time = compute_time.max(memory_time);
    let bound = if compute_time >= memory_time {
        Bound::Compute
    } else if weight_time >= kv_time {
        Bound::WeightRead
    } else {
        Bound::KvRead
    };
    Prefill {
        flops,
        compute_time,
        weight_time,
        kv_time,
        memory_time,
        time,
        tokens_per_s: tokens / time,
        cost_per_token: time * n * cfg.price / tokens,
        bound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testdata;
    use crate::engine::testutil::close;

    #[test]
    fn a_long_prompt_is_compute_bound() {
        // Llama 3.1 70B BF16 on 8 H100, one 8,192-token prompt:
        // compute 2·70e9·8,192 / (8·989e12) = 1.1469e15 / 7.912e15 = 145.0 ms;
        // weights 140e9 / 26.8e12 = 5.22 ms; KV 8,192·327,680 / 26.8e12 = 0.10 ms.
        let m = testdata::model("llama31_70b");
        let p = prefill(
            &m,
            &testdata::chip("h100"),
            &PrefillConfig::new(&m, 8_192.0, 8),
        );
        close(p.compute_time, 0.14496, 1e-3);
        close(p.weight_time, 5.224e-3, 1e-3);
        close(p.kv_time, 0.1002e-3, 1e-3);
        assert_eq!(p.bound, Bound::Compute);
        // Cost per prompt token at $2/GPU-hour: 0.14496 s · 8 · 5.556e-4 $/s / 8,192 = 7.86e-8 $.
        close(p.cost_per_token, 7.864e-8, 1e-3);
        close(p.tokens_per_s, 56_512.0, 1e-3);
    }

    #[test]
    fn a_short_prompt_is_weight_bound() {
        // 100 tokens: compute 1.4e13/7.912e15 = 1.77 ms < weights 5.22 ms.
        let m = testdata::model("llama31_70b");
        let p = prefill(
            &m,
            &testdata::chip("h100"),
            &PrefillConfig::new(&m, 100.0, 8),
        );
        assert_eq!(p.bound, Bound::WeightRead);
        close(p.time, p.memory_time, 1e-12);
    }

    #[test]
    fn causal_attention_adds_l_squared_over_two() {
        // DeepSeek-V3, 8,192 tokens: pairs = 8,192·8,191/2 = 33,550,336;
        // · 4,997,120 = 1.6765e14 FLOP of attention vs 2·37e9·8,192 = 6.062e14 of weights.
        let m = testdata::model("deepseek_v3");
        let mut cfg = PrefillConfig::new(&m, 8_192.0, 64);
        cfg.attention_flops = true;
        let p = prefill(&m, &testdata::chip("gb200"), &cfg);
        close(p.flops, 6.0621e14 + 1.6765e14, 1e-3);
        // 8,192 tokens touch all 256 experts, so every weight is read once: 671e9/512e12 = 1.31 ms.
        close(p.weight_time, 1.3105e-3, 1e-3);
    }
}
