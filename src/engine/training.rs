//! Training compute against inference compute: 6·N·D to train, 2·N per generated token, the
//! Chinchilla ratio of about 20 tokens per parameter, the over-training factor, and the token
//! volume at which lifetime inference compute equals pre-training compute.
//!
//! Sources: Kaplan et al. 2020 and SB transformers.md (6·N·D = 2 forward + 4 backward FLOPs per
//! parameter per token); Hoffmann et al. 2022 (Chinchilla: 70B on 1.4T tokens, ≈20 tokens per
//! parameter); CLAIMS.md C24–C26 (the talk's equalisation argument and its numbers).

/// Chinchilla's compute-optimal tokens per parameter (70B params on 1.4T tokens).
pub const CHINCHILLA_TOKENS_PER_PARAM: f64 = 20.0;

/// Seconds in a day.
pub const DAY: f64 = 86_400.0;

/// Training FLOPs `6·N·D` for `params` (active) parameters on `tokens` tokens.
/// DeepSeek-V3: 6 · 37e9 · 14.8e12 = 3.29e24 FLOP.
pub fn training_flops(params: f64, tokens: f64) -> f64 {
    6.0 * params * tokens
}

/// Inference FLOPs per token `2·N` (one multiply-accumulate per active parameter).
pub fn inference_flops_per_token(params: f64) -> f64 {
    2.0 * params
}

/// Chinchilla-optimal training tokens, `20·N`. 100B active ⇒ 2e12 tokens (CLAIMS.md C26).
pub fn chinchilla_tokens(params: f64) -> f64 {
    CHINCHILLA_TOKENS_PER_PARAM * params
}

/// Over-training factor `D / (20·N)` (CLAIMS.md C26: 259T / 2T = 130x).
pub fn overtraining_factor(tokens: f64, params: f64) -> f64 {
    tokens / chinchilla_tokens(params)
}

/// Tokens served at `tokens_per_s` for `duration` seconds (CLAIMS.md C25:
/// 5e8 tok/s · 60 days = 2.59e15).
pub fn tokens_served(tokens_per_s: f64, duration: f64) -> f64 {
    tokens_per_s * duration
}

/// Tokens of a second phase (inference, RL) whose compute equals pre-training on `pretrain_tokens`
/// tokens: `flops_per_param_token · N · D_x / rel_mfu = 6 · N · D_pt` ⇒
/// `D_x = 6 · D_pt · rel_mfu / flops_per_param_token` (CLAIMS.md C24). Inference
/// (2 FLOP/param/token) at one third of pre-training's MFU: `D_inf = D_pt`; RL at 3 and 1/3:
/// `D_RL = 0.67·D_pt`.
pub fn equal_compute_tokens(pretrain_tokens: f64, flops_per_param_token: f64, rel_mfu: f64) -> f64 {
    6.0 * pretrain_tokens * rel_mfu / flops_per_param_token
}

/// Wall-clock training time: `flops / (chips · peak · mfu)`.
pub fn training_time(flops: f64, chips: f64, peak: f64, mfu: f64) -> f64 {
    flops / (chips * peak * mfu)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testdata;
    use crate::engine::testutil::close;

    #[test]
    fn chinchilla_is_20_tokens_per_parameter() {
        // 70e9 · 20 = 1.4e12 (Hoffmann et al. 2022).
        assert_eq!(chinchilla_tokens(70e9), 1.4e12);
        assert_eq!(chinchilla_tokens(100e9), 2e12);
    }

    #[test]
    fn training_and_inference_flops() {
        // DeepSeek-V3: 6 · 37e9 · 14.8e12 = 3.2856e24.
        let m = testdata::model("deepseek_v3");
        close(
            training_flops(m.params_active, m.training_tokens.unwrap()),
            3.2856e24,
            1e-9,
        );
        assert_eq!(inference_flops_per_token(37e9), 74e9);
    }

    #[test]
    fn inference_volume_implies_about_100x_overtraining() {
        // CLAIMS.md C25: 5e8 tok/s · 60 · 86,400 s = 2.592e15; per model 5e7 tok/s ⇒ 2.592e14.
        close(tokens_served(5e8, 60.0 * DAY), 2.592e15, 1e-9);
        let per_model = tokens_served(5e7, 60.0 * DAY);
        close(per_model, 2.592e14, 1e-9);
        // C26: 2.592e14 / (20 · 1e11) = 129.6 ("130x"); the 150T rumour: 75x.
        close(overtraining_factor(per_model, 1e11), 129.6, 1e-9);
        close(overtraining_factor(150e12, 1e11), 75.0, 1e-9);
        // DeepSeek-V3: 14.8e12 / (20·37e9) = 20x per active parameter.
        close(overtraining_factor(14.8e12, 37e9), 20.0, 1e-9);
        // Google's 1.3e15 tokens/month = 1.3e15 / (30 · 86,400) = 5.02e8 tok/s (GTOK).
        close(1.3e15 / (30.0 * DAY), 5.015e8, 0.001);
    }

    #[test]
    fn equal_compute_sets_inference_tokens_equal_to_pretraining() {
        // CLAIMS.md C24: inference at 2 FLOP/param/token and 1/3 relative MFU: 6·(1/3)/2 = 1.0.
        close(equal_compute_tokens(1.0, 2.0, 1.0 / 3.0), 1.0, 1e-12);
        // RL at 3 FLOP/param/token and 1/3: 6·(1/3)/3 = 0.667 ⇒ D_pt = 1.5·D_RL.
        close(equal_compute_tokens(1.0, 3.0, 1.0 / 3.0), 0.6667, 0.001);
        // With 0.3 relative MFU: 0.6 and 0.9.
        close(equal_compute_tokens(1.0, 3.0, 0.3), 0.6, 1e-12);
        close(equal_compute_tokens(1.0, 2.0, 0.3), 0.9, 1e-12);
    }

    #[test]
    fn training_time_divides_flops_by_delivered_rate() {
        // 3.2856e24 FLOP on 2,048 chips at 989e12 with 40% MFU: 4.055e6 s = 46.9 days.
        let t = training_time(3.2856e24, 2_048.0, 989e12, 0.4);
        close(t / DAY, 46.94, 0.001);
    }
}
