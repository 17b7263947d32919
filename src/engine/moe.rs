//! Mixture-of-experts arithmetic: sparsity, the batch that balances weight reads against
//! compute (the talk's "300 × sparsity"), its per-expert variant, how KV traffic moves it, and how
//! many distinct experts a batch touches.
//!
//! Sources: CLAIMS.md C4 (B* = R·S, DeepSeek numbers), C5 (with KV), SB gpus.md (per-expert
//! factor E/k); the distinct-expert expectation is the standard occupancy formula.

/// Sparsity `S = N_tot / N_act` (CLAIMS.md §1.1; the talk's "sparsity" for the ratio ≥ 1).
/// DeepSeek-V3: 671/37 = 18.1.
pub fn sparsity(params_total: f64, params_active: f64) -> f64 {
    params_total / params_active
}

/// Batch (sequences) at which weight-read time equals compute time, KV ignored:
/// `N_tot·b_w/BW = 2·B·N_act/F` ⇒ `B* = R·S` with `R = F·b_w/(2·BW)` (CLAIMS.md C4).
/// The talk: 300 × 8 = 2,400; with DeepSeek-V3's real S = 671/37: 300 × 18.1 = 5,440.
pub fn optimal_batch(hardware_ratio: f64, sparsity: f64) -> f64 {
    hardware_ratio * sparsity
}

/// The same balance with the KV-cache read included:
/// `2·B·N_act/F = (N_tot·b_w + B·L·b_kv)/BW` ⇒ `B* = N_tot·b_w / (2·N_act·BW/F − L·b_kv)`
/// (CLAIMS.md C5). `None` when `L·b_kv ≥ 2·N_act·BW/F`: past the balance context the step is
/// memory-bound at every batch. `flops` and `bandwidth` may be per chip or per system (only
/// their ratio matters).
pub fn optimal_batch_with_kv(
    params_total: f64,
    params_active: f64,
    weight_bytes: f64,
    flops: f64,
    bandwidth: f64,
    kv_bytes_per_sequence: f64,
) -> Option<f64> {
    let headroom = 2.0 * params_active * bandwidth / flops - kv_bytes_per_sequence;
    (headroom > 0.0).then(|| params_total * weight_bytes / headroom)
}

/// Per-expert view of the balance: each routed expert sees `B·k/E` tokens, and each expert's
/// weights must be used by at least R of them, so `B ≥ R·E/k` (CLAIMS.md C4; SB gpus.md's E/k).
/// DeepSeek-V3 at R = 300: 300 · 256/8 = 9,600.
pub fn per_expert_optimal_batch(hardware_ratio: f64, routed: f64, active: f64) -> f64 {
    hardware_ratio * routed / active
}

/// Tokens routed to each expert on average when `batch` tokens each pick `k` of `E` experts:
/// `B·k/E` (DS6 decode: 12,700 · 8 / 256 = 397).
pub fn tokens_per_expert(batch: f64, routed: f64, active: f64) -> f64 {
    batch * active / routed
}

/// Expected number of distinct experts touched in one MoE layer when `batch` tokens each pick
/// `k` of `E` experts: `E·(1 − (1 − k/E)^B)` (each expert is missed by one token with
/// probability 1 − k/E, independently across tokens — uniform routing assumed).
/// DeepSeek-V3: B = 1 → 8; B = 32 → 163; B ≥ ~200 → all 256.
pub fn expected_distinct_experts(routed: f64, active: f64, batch: f64) -> f64 {
    if batch <= 0.0 {
        return 0.0;
    }
    routed * (1.0 - (1.0 - active / routed).powf(batch))
}

/// Expected number of touched routed experts on the **busiest** of `chips` chips, when the `E`
/// experts of a layer are spread as evenly as possible over the chips (`⌈E/n⌉` on `E mod n` of
/// them, `⌊E/n⌋` on the rest) and `batch` tokens each pick `k` of them. The chip with the most
/// touched experts reads longest, so it sets the step, not the average `distinct/n`.
///
/// A balls-into-bins maximum, computed under a documented approximation: each expert is touched
/// independently with probability `p = 1 − (1 − k/E)^B`, so a chip holding `m` experts has
/// `Binomial(m, p)` touched ones, and the chips are independent; then
/// `E[max] = Σ_{j≥1} P(max ≥ j) = Σ_{j=1}^{⌈E/n⌉} (1 − F_hi(j−1)^r · F_lo(j−1)^(n−r))`.
/// (The true counts are slightly negatively correlated: a token's `k` picks are distinct; a
/// Monte Carlo test bounds the error at about 1% for DeepSeek-V3's shapes.) On one chip it is the
/// mean, `E·p`. DeepSeek-V3 on 64 chips: B = 1 → 1.31, B = 8 → 3.06 (of 4 per chip, where the
/// average is 0.90), B ≥ 32 → 4.
pub fn expected_busiest_experts(routed: u32, active: f64, batch: f64, chips: u32) -> f64 {
    let e = f64::from(routed);
    if batch <= 0.0 || routed == 0 {
        return 0.0;
    }
    let p = 1.0 - (1.0 - active / e).powf(batch);
    let n = chips.max(1);
    if n == 1 {
        return e * p;
    }
    if p >= 1.0 {
        return f64::from(routed.div_ceil(n));
    }
    let (lo, hi) = (routed / n, routed.div_ceil(n));
    let with_hi = routed - lo * n;
    // P(max ≥ j) = 1 − P(X_hi ≤ j−1)^r · P(X_lo ≤ j−1)^(n−r), the CDFs summed term by term.
    let (mut cdf_hi, mut cdf_lo) = (BinomialCdf::new(hi, p), BinomialCdf::new(lo, p));
    (1..=hi)
        .map(|_| {
            let (a, b) = (cdf_hi.next(), cdf_lo.next());
            1.0 - a.powi(with_hi as i32) * b.powi((n - with_hi) as i32)
        })
        .sum()
}

/// `P(X ≤ 0), P(X ≤ 1), …` for `X ~ Binomial(m, p)` (1 past `m`), from log-space terms so that a
/// large `m` does not underflow.
struct BinomialCdf {
    m: u32,
    i: u32,
    ln_p: f64,
    ln_q: f64,
    ln_choose: f64,
    acc: f64,
}

impl BinomialCdf {
    fn new(m: u32, p: f64) -> BinomialCdf {
        BinomialCdf {
            m,
            i: 0,
            ln_p: p.ln(),
            ln_q: (1.0 - p).ln(),
            ln_choose: 0.0,
            acc: 0.0,
        }
    }

    fn next(&mut self) -> f64 {
        let i = self.i;
        if i > self.m {
            return 1.0;
        }
        if i > 0 {
            self.ln_choose += (f64::from(self.m - i + 1) / f64::from(i)).ln();
        }
        self.acc +=
            (self.ln_choose + f64::from(i) * self.ln_p + f64::from(self.m - i) * self.ln_q).exp();
        self.i += 1;
        self.acc.min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::hardware::Precision;
    use crate::engine::kv::kv_bytes_per_token;
    use crate::engine::testdata;
    use crate::engine::testutil::close;

    #[test]
    fn talk_optimal_batch_is_300_times_8() {
        // CLAIMS.md C4: the talk's "32 of 256 experts" ⇒ S = 8 ⇒ 300 · 8 = 2,400 (Flashcard 8).
        assert_eq!(optimal_batch(300.0, 256.0 / 32.0), 2_400.0);
    }

    #[test]
    fn deepseek_v3_real_sparsity_needs_5440() {
        // S = 671/37 = 18.135; 300 · 18.135 = 5,440.5 (CLAIMS.md C4).
        let m = testdata::model("deepseek_v3");
        close(m.sparsity(), 18.135, 0.001);
        close(optimal_batch(300.0, m.sparsity()), 5_440.5, 0.001);
        // H100/H800 at R = 295.2: 5,354 ("5,350"); GB200 FP4 at R = 312.5: 5,667.
        let r_h100 = testdata::chip("h100").hardware_ratio(Precision::Bf16);
        close(optimal_batch(r_h100, m.sparsity()), 5_354.0, 0.001);
        let r_gb200 = testdata::chip("gb200").hardware_ratio(Precision::Fp4);
        close(optimal_batch(r_gb200, m.sparsity()), 5_667.2, 0.001);
    }

    #[test]
    fn summary_3750_is_gb300_fp4_times_the_talks_wrong_sparsity() {
        // CLAIMS.md C4: 15e15·0.5/(2·8e12) = 468.75; × 8 = 3,750.
        let r = testdata::chip("gb300").hardware_ratio(Precision::Fp4);
        close(optimal_batch(r, 8.0), 3_750.0, 1e-9);
    }

    #[test]
    fn per_expert_view_needs_9600_for_deepseek() {
        // 300 · 256 / 8 = 9,600 (CLAIMS.md C4).
        assert_eq!(per_expert_optimal_batch(300.0, 256.0, 8.0), 9_600.0);
        // DS6 production: ~12,700 sequences per EP144 unit ⇒ 12,700·8/256 = 396.9 tokens/expert.
        close(tokens_per_expert(12_700.0, 256.0, 8.0), 396.9, 0.001);
    }

    #[test]
    fn kv_traffic_raises_the_optimal_batch_or_removes_it() {
        let m = testdata::model("deepseek_v3");
        let b_kv = kv_bytes_per_token(&m, 2.0);
        // GB200 at FP8 compute: 2·N_act·BW/F = 2·37e9·8e12/5e15 = 118.4e6 B of headroom.
        // L = 1,000: 1,000·70,272 = 70.272e6; B* = 671e9 / (118.4e6 − 70.272e6) = 13,942.
        let b = optimal_batch_with_kv(671e9, 37e9, 1.0, 5e15, 8e12, 1_000.0 * b_kv).unwrap();
        close(b, 13_942.0, 0.001);
        // Without KV it is R·S = 312.5 · 18.135 = 5,667 (FP8 compute, FP8 weights: R = 312.5).
        let b0 = optimal_batch_with_kv(671e9, 37e9, 1.0, 5e15, 8e12, 0.0).unwrap();
        close(b0, 312.5 * 671.0 / 37.0, 1e-9);
        // L = 8,192: 575.7e6 > 118.4e6 ⇒ never compute-bound.
        assert_eq!(
            optimal_batch_with_kv(671e9, 37e9, 1.0, 5e15, 8e12, 8_192.0 * b_kv),
            None
        );
    }

    /// The busiest chip's expected count, checked against a Monte Carlo simulation of the routing
    /// itself (each token picks `k` distinct experts; experts sit on chips round-robin).
    #[test]
    fn the_busiest_chip_formula_matches_a_simulated_routing() {
        // A small deterministic generator (xorshift), so the test needs no crate and never flakes.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |bound: u32| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % u64::from(bound)) as u32
        };
        for (e, k, b, n) in [
            (256u32, 8usize, 8, 64u32),
            (256, 8, 1, 64),
            (256, 8, 32, 72),
            (64, 6, 4, 16),
        ] {
            let trials = 4_000;
            let mut total = 0u64;
            for _ in 0..trials {
                let mut touched = vec![false; e as usize];
                for _ in 0..b {
                    // `k` distinct experts per token: redraw one this token already picked.
                    let mut picks: Vec<usize> = Vec::with_capacity(k);
                    while picks.len() < k {
                        let x = next(e) as usize;
                        if !picks.contains(&x) {
                            picks.push(x);
                        }
                    }
                    for x in picks {
                        touched[x] = true;
                    }
                }
                let mut per_chip = vec![0u32; n as usize];
                for (x, t) in touched.iter().enumerate() {
                    per_chip[x % n as usize] += u32::from(*t);
                }
                total += u64::from(per_chip.into_iter().max().unwrap_or(0));
            }
            let simulated = total as f64 / f64::from(trials);
            let formula = expected_busiest_experts(e, k as f64, f64::from(b), n);
            close(formula, simulated, 0.03);
        }
    }

    #[test]
    fn the_busiest_chip_holds_more_than_the_average() {
        // DeepSeek-V3 at batch 8 on 64 chips: 57.4 touched experts, 0.90 per chip on average, but
        // the busiest chip typically has 3 (issue #14, error 4).
        let avg = expected_distinct_experts(256.0, 8.0, 8.0) / 64.0;
        close(avg, 0.897, 0.002);
        close(expected_busiest_experts(256, 8.0, 8.0, 64), 3.06, 0.01);
        // Every expert touched: the busiest chip holds ⌈E/n⌉.
        assert_eq!(expected_busiest_experts(256, 8.0, 1e6, 72), 4.0);
        // One chip: the mean.
        close(
            expected_busiest_experts(256, 8.0, 32.0, 1),
            expected_distinct_experts(256.0, 8.0, 32.0),
            1e-12,
        );
        assert_eq!(expected_busiest_experts(256, 8.0, 0.0, 64), 0.0);
    }

    #[test]
    fn a_batch_of_a_few_hundred_touches_every_expert() {
        // B = 1: 256·(1 − 248/256) = 8 experts.
        close(expected_distinct_experts(256.0, 8.0, 1.0), 8.0, 1e-12);
        // B = 32: 256·(1 − 0.96875^32) = 256·(1 − 0.3621) = 163.3.
        close(expected_distinct_experts(256.0, 8.0, 32.0), 163.3, 0.001);
        // B = 300: 0.96875^300 = e^(−9.52) = 7.3e-5 ⇒ 255.98 of 256 (CLAIMS.md C4: "≈ 1 for B ≳ 100").
        close(expected_distinct_experts(256.0, 8.0, 300.0), 256.0, 1e-4);
        assert_eq!(expected_distinct_experts(256.0, 8.0, 0.0), 0.0);
    }
}
