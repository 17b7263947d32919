//! The KV cache: bytes per token of context for MHA, GQA, MQA and MLA, the cap that sliding-window
//! layers put on it, and the context at which reading it costs as much time as the matmuls.
//!
//! Sources: FACTS.md §3b (formulas and per-model values); DSV3 §2.1 (MLA caches the latent plus
//! the RoPE key); CLAIMS.md C11 (balance context) and C27 (KV bytes implied by a price step).

use crate::engine::model::Model;

/// KV bytes per token per layer: `cached_values_per_layer · b` (see
/// [`crate::engine::model::Attention::cached_values_per_layer`]).
pub fn kv_bytes_per_token_per_layer(model: &Model, value_bytes: f64) -> f64 {
    f64::from(model.attention.cached_values_per_layer()) * value_bytes
}

/// KV bytes per token of context over all layers, ignoring sliding windows:
/// MHA/GQA/MQA `2·layers·kv_heads·head_dim·b`; MLA `layers·(kv_lora_rank + rope_dim)·b`.
/// DeepSeek-V3 at BF16: 61·(512+64)·2 = 70,272 B; Llama 3.1 70B: 2·80·8·128·2 = 327,680 B
/// (FACTS.md §3b).
pub fn kv_bytes_per_token(model: &Model, value_bytes: f64) -> f64 {
    f64::from(model.layers) * kv_bytes_per_token_per_layer(model, value_bytes)
}

/// KV bytes of one sequence with `context` tokens: global layers grow with the context, sliding
/// layers are capped at their window: `per_layer·(global_layers·L + sliding_layers·min(L, W))`.
/// gpt-oss-120b at 131,072 tokens, BF16: 2,048·(18·131,072 + 18·128) = 4.837e9 B (FACTS.md §3b).
pub fn kv_bytes_per_sequence(model: &Model, context: f64, value_bytes: f64) -> f64 {
    let per_layer = kv_bytes_per_token_per_layer(model, value_bytes);
    let global = f64::from(model.global_layers()) * context;
    let sliding = model.sliding_window.as_ref().map_or(0.0, |w| {
        f64::from(w.layers) * context.min(f64::from(w.window))
    });
    per_layer * (global + sliding)
}

/// Average KV bytes per context token of a `context`-token sequence (sliding windows make it
/// fall with length): `kv_bytes_per_sequence / L`.
pub fn effective_kv_bytes_per_token(model: &Model, context: f64, value_bytes: f64) -> f64 {
    kv_bytes_per_sequence(model, context, value_bytes) / context
}

/// MLA's cache if expanded to full per-head K and V (what it would cost without the latent):
/// `layers·heads·(qk_nope + qk_rope + v_head_dim)·b`. DeepSeek-V3 BF16: 61·128·320·2 = 4,997,120 B
/// (FACTS.md §3b). For other kinds, the ordinary [`kv_bytes_per_token`].
pub fn expanded_kv_bytes_per_token(model: &Model, value_bytes: f64) -> f64 {
    let a = &model.attention;
    match a.kind() {
        crate::engine::model::AttentionKind::Mla => {
            f64::from(model.layers)
                * f64::from(a.heads())
                * f64::from(a.qk_head_dim() + a.v_head_dim())
                * value_bytes
        }
        _ => kv_bytes_per_token(model, value_bytes),
    }
}

/// Context length at which, at large batch, reading one sequence's KV cache takes as long as its
/// matmuls: `L* = 2·N_act·BW / (F·b_kv)` (CLAIMS.md C11). Beyond it decode MFU falls as `L*/L`.
/// DeepSeek-V3 on GB200 at FP8 compute: 2·37e9·8e12/(5e15·70,272) = 1,685 tokens.
pub fn kv_balance_context(params_active: f64, flops: f64, bandwidth: f64, kv_bytes: f64) -> f64 {
    2.0 * params_active * bandwidth / (flops * kv_bytes)
}

/// KV bytes per token that would put the KV/compute balance at `context` tokens:
/// `b_kv = 2·N_act·BW / (F·L)` (CLAIMS.md C27; the talk's MAC form is `N_act/(R_mac·L)`).
/// 100B active on H100 at FP8, L = 200k: 2e11·3.35e12/(1.979e15·2e5) = 1,693 B.
pub fn kv_bytes_at_balance(params_active: f64, flops: f64, bandwidth: f64, context: f64) -> f64 {
    2.0 * params_active * bandwidth / (flops * context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testdata;
    use crate::engine::testutil::close;

    #[test]
    fn deepseek_v3_mla_caches_70272_bytes_per_token_at_bf16() {
        // 61 layers · (512 latent + 64 rope) · 2 B = 70,272 B (FACTS.md §3b; DeepSeek's "70 KB").
        assert_eq!(
            kv_bytes_per_token(&testdata::model("deepseek_v3"), 2.0),
            70_272.0
        );
        // FP8: half, 35,136 B.
        assert_eq!(
            kv_bytes_per_token(&testdata::model("deepseek_v3"), 1.0),
            35_136.0
        );
        // Kimi K2 has the same latent and the same 61 layers.
        assert_eq!(
            kv_bytes_per_token(&testdata::model("kimi_k2"), 2.0),
            70_272.0
        );
    }

    #[test]
    fn deepseek_v3_expanded_cache_would_be_71x_larger() {
        // 61 · 128 heads · (128 nope + 64 rope + 128 v) · 2 B = 4,997,120 B; / 70,272 = 71.1.
        let m = testdata::model("deepseek_v3");
        assert_eq!(expanded_kv_bytes_per_token(&m, 2.0), 4_997_120.0);
        close(
            expanded_kv_bytes_per_token(&m, 2.0) / kv_bytes_per_token(&m, 2.0),
            71.1,
            0.001,
        );
    }

    #[test]
    fn llama_gqa_caches_match_the_fact_sheet() {
        // 8B: 2·32·8·128·2 = 131,072; 70B: 2·80·8·128·2 = 327,680; 405B: 2·126·8·128·2 = 516,096.
        assert_eq!(
            kv_bytes_per_token(&testdata::model("llama31_8b"), 2.0),
            131_072.0
        );
        assert_eq!(
            kv_bytes_per_token(&testdata::model("llama31_70b"), 2.0),
            327_680.0
        );
        assert_eq!(
            kv_bytes_per_token(&testdata::model("llama31_405b"), 2.0),
            516_096.0
        );
        // Qwen3-235B: 2·94·4·128·2 = 192,512; Mixtral 8x7B: 2·32·8·128·2 = 131,072.
        assert_eq!(
            kv_bytes_per_token(&testdata::model("qwen3_235b_a22b"), 2.0),
            192_512.0
        );
        assert_eq!(
            kv_bytes_per_token(&testdata::model("mixtral_8x7b"), 2.0),
            131_072.0
        );
        // Llama 3 70B in int8 (SB applied-inference.md): 2·8·128·80 = 163,840 ≈ "160 kB".
        assert_eq!(
            kv_bytes_per_token(&testdata::model("llama31_70b"), 1.0),
            163_840.0
        );
    }

    #[test]
    fn palm_mqa_keeps_one_kv_head() {
        // PaLM 540B (ESTI): 118 layers · 2 · 1 head · 256 · 2 B = 120,832 B.
        assert_eq!(
            kv_bytes_per_token(&testdata::model("palm_540b"), 2.0),
            120_832.0
        );
    }

    #[test]
    fn sliding_window_caps_gpt_oss_cache() {
        let m = testdata::model("gpt_oss_120b");
        // All 36 layers: 2·36·8·64·2 = 73,728 B/token, as if no window.
        assert_eq!(kv_bytes_per_token(&m, 2.0), 73_728.0);
        // At 131,072 tokens: 18 global · 2,048 B · 131,072 + 18 sliding · 2,048 B · 128
        // = 4,831,838,208 + 4,718,592 = 4,836,556,800 B ("4.8 GB + 4.7 MB", FACTS.md §3b).
        assert_eq!(kv_bytes_per_sequence(&m, 131_072.0, 2.0), 4_836_556_800.0);
        // Below the window every layer grows: 100 tokens · 73,728 B.
        assert_eq!(kv_bytes_per_sequence(&m, 100.0, 2.0), 7_372_800.0);
        // Long contexts approach the global-only 36,864 B/token.
        close(
            effective_kv_bytes_per_token(&m, 131_072.0, 2.0),
            36_900.0,
            0.001,
        );
    }

    #[test]
    fn kv_balance_context_is_a_few_thousand_tokens_for_dense_attention() {
        // CLAIMS.md C11, GB200 at FP8 compute (F = 5e15, BW = 8e12).
        // DeepSeek-V3: 2·37e9·8e12/(5e15·70,272) = 1,685 ("≈1,700").
        close(
            kv_balance_context(37e9, 5e15, 8e12, 70_272.0),
            1_685.0,
            0.001,
        );
        // Llama 3.1 405B: 2·405e9·8e12/(5e15·516,096) = 2,511 ("2,500").
        close(
            kv_balance_context(405e9, 5e15, 8e12, 516_096.0),
            2_511.0,
            0.001,
        );
        // Llama 70B: 2·70e9·8e12/(5e15·327,680) = 683.6 ("680").
        close(
            kv_balance_context(70e9, 5e15, 8e12, 327_680.0),
            683.6,
            0.001,
        );
        // 100B active with 2 KB/token: 2·1e11·8e12/(5e15·2,048) = 156,250.
        close(
            kv_balance_context(1e11, 5e15, 8e12, 2_048.0),
            156_250.0,
            1e-9,
        );
    }

    #[test]
    fn gemini_price_step_implies_about_1_7_kb_per_token() {
        // CLAIMS.md C27: b_kv = 2·N_act·BW/(F·L), N_act = 100B, L = 200k.
        // H100 FP8: 2e11·3.35e12/(1.979e15·2e5) = 1,692.8 B.
        close(
            kv_bytes_at_balance(1e11, 1.979e15, 3.35e12, 2e5),
            1_692.8,
            0.001,
        );
        // GB200 FP4: 2e11·8e12/(1e16·2e5) = 800 B; GB300 FP4: /1.5e16 = 533 B.
        close(kv_bytes_at_balance(1e11, 1e16, 8e12, 2e5), 800.0, 1e-9);
        close(kv_bytes_at_balance(1e11, 1.5e16, 8e12, 2e5), 533.3, 0.001);
        // The talk's MAC form, N_act/(R·L) with R = 300: 1e11/(300·2e5) = 1,667 B.
        close(1e11 / (300.0 * 2e5), 1_666.7, 0.001);
    }
}
