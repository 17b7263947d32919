//! The bundled book's hand formulas against the engine's functions. These were claims in the
//! chapters ("the engine's weight_floor agrees with the hand formula"): they check the engine's
//! arithmetic, not a statement from the talk or a source, so they live here, where a change to
//! either side fails a test instead of a claim no data figure could move. Each case evaluates the
//! chapter's own formula and the engine call in one scope with the repository's data.

use calcbook::calc::Scope;

fn prelude() -> Scope {
    crate::common::repo_prelude()
}

/// `engine / hand` as a plain number, both evaluated in the same scope.
#[track_caller]
fn ratio(scope: &Scope, engine: &str, hand: &str) -> f64 {
    let src = format!("({engine}) / ({hand})");
    let v = scope
        .eval_expr(&src)
        .unwrap_or_else(|d| panic!("`{src}` failed: {}", d.message));
    v.as_number()
        .unwrap_or_else(|| panic!("`{src}` is not a plain number: {v:?}"))
}

#[track_caller]
fn agrees(scope: &Scope, engine: &str, hand: &str, tol: f64) {
    let r = ratio(scope, engine, hand);
    assert!(
        (r - 1.0).abs() < tol,
        "{engine} / {hand} = {r}, expected 1 ± {tol}"
    );
}

#[test]
fn weight_floor_is_all_weights_over_the_domains_bandwidth() {
    let s = prelude();
    // batch.md: N_tot · b_w / (64 · BW) for DeepSeek-V3 on 64 GB200s (671 GB / 512 TB/s = 1.31 ms).
    agrees(
        &s,
        "weight_floor(models.deepseek_v3, hardware.gb200, chips=64)",
        "models.deepseek_v3.params_total * models.deepseek_v3.weight_bytes * 1 B / (64 * hardware.gb200.hbm.bandwidth)",
        0.01,
    );
    // pope2022.md: PaLM 540B in int8 on 64 TPU v4 chips (540 GB / 76.8 TB/s = 7.0 ms).
    agrees(
        &s,
        "weight_floor(models.palm_540b, hardware.tpu_v4, chips=64, precision=\"int8\")",
        "models.palm_540b.params_total * 1 B / (64 * hardware.tpu_v4.hbm.bandwidth)",
        0.01,
    );
}

#[test]
fn optimal_batch_balances_compute_with_weight_reads() {
    let s = prelude();
    // batch.md: B* = t_weights / t_compute(1) = (N_tot · b_w / BW) / (2 · N_act / F), FP8 on GB200.
    agrees(
        &s,
        "optimal_batch(models.deepseek_v3, hardware.gb200, \"fp8\")",
        "(models.deepseek_v3.params_total * 1 B / hardware.gb200.hbm.bandwidth) / \
         (2 FLOP * models.deepseek_v3.params_active / hardware.gb200.flops.fp8)",
        0.005,
    );
    // batch.md: the per-expert count R · E / k with R at FP8 on a GB200.
    agrees(
        &s,
        "per_expert_batch(models.deepseek_v3, hardware.gb200, \"fp8\")",
        "hardware.gb200.flops.fp8 * 1 B / (2 FLOP * hardware.gb200.hbm.bandwidth) * \
         models.deepseek_v3.experts.routed / models.deepseek_v3.experts.active",
        0.005,
    );
}

#[test]
fn a_kv_term_raises_the_balance_batch() {
    // batch.md showed this as a claim; it holds for any positive KV size, so it is a property of
    // the engine's formula: at 1k tokens of context the balance batch exceeds the weights-only one.
    let s = prelude();
    let r = ratio(
        &s,
        "optimal_batch_with_kv(models.deepseek_v3, hardware.gb200, 1000 tokens, \"fp8\").batch",
        "optimal_batch(models.deepseek_v3, hardware.gb200, \"fp8\")",
    );
    assert!(r > 1.0, "KV reads should raise B*, got ratio {r}");
}

#[test]
fn kv_balance_context_is_active_flops_over_ridge_times_kv() {
    let s = prelude();
    // memory-wall.md: L* = 2 · N_act / (ridge_fp8 · kv), Llama 3.1 405B on a GB200 (≈ 2,500 tokens).
    agrees(
        &s,
        "kv_balance_context(models.llama31_405b, hardware.gb200, \"fp8\")",
        "2 FLOP * models.llama31_405b.params_active / \
         (hardware.gb200.flops.fp8 / hardware.gb200.hbm.bandwidth * kv_bytes_per_token(models.llama31_405b))",
        0.01,
    );
}

#[test]
fn all_to_all_moves_two_k_d_bytes_per_moe_layer() {
    let s = prelude();
    // racks.md: dispatch + combine, k experts, d activations at one byte, every MoE layer.
    agrees(
        &s,
        "all_to_all_bytes_per_token(models.deepseek_v3, activation_bytes=1)",
        "2 * models.deepseek_v3.experts.active * models.deepseek_v3.hidden * 1 B * \
         models.deepseek_v3.experts.moe_layers / token",
        0.005,
    );
}

#[test]
fn holding_in_hbm_costs_the_share_of_capacity_times_the_rental_price() {
    let s = prelude();
    // pricing.md: kv · (T / capacity) · price for HBM (the fetch term is zero where the KV lives).
    agrees(
        &s,
        "hold_cost(kv_bytes_per_token(models.deepseek_v3) * 1 token, 5 min, hardware.gb200, hardware.gb200.price)",
        "kv_bytes_per_token(models.deepseek_v3) * 1 token * 5 min / hardware.gb200.hbm.capacity * hardware.gb200.price",
        0.005,
    );
}

#[test]
fn equal_costs_minimise_a_over_x_plus_b_x_but_not_other_exponents() {
    // training.md: the talk's heuristic, checked numerically 10% either side of the optimum.
    let total = |x: f64| 1.0 / x + 4.0 * x;
    let x_eq = (1.0_f64 / 4.0).sqrt();
    assert!(total(x_eq) < total(1.1 * x_eq).min(total(x_eq / 1.1)));
    // a/x + b·x² is minimised at (a/2b)^(1/3), where the two costs differ by a factor of 2.
    let total2 = |x: f64| 1.0 / x + 4.0 * x * x;
    let x_min2 = (1.0_f64 / 8.0).powf(1.0 / 3.0);
    assert!(total2(x_min2) < total2(1.1 * x_min2).min(total2(x_min2 / 1.1)));
    let cost_ratio = (1.0 / x_min2) / (4.0 * x_min2 * x_min2);
    assert!((cost_ratio - 2.0).abs() < 1e-9, "got {cost_ratio}");
}

#[test]
fn decode_at_the_fast_and_normal_batches_follows_the_two_term_model() {
    // batch.md solves the normal and fast batches from Anthropic's two ratios with the two-term
    // step `t = W + c·b` (weight floor plus a KV read per 8k-token sequence): speed-up 2.5 at a
    // batch ratio of 6 × 2.5 = 15 gives `b_normal = 1.8 · W / c`. The chapter showed the engine
    // landing on the ratios again as claims; that checks only the engine against the model.
    let s = prelude();
    let w = "weight_floor(models.deepseek_v3, hardware.gb200, chips=64)";
    let c = "kv_bytes_per_sequence(models.deepseek_v3, 8192 tokens) / \
             (64 * hardware.gb200.hbm.bandwidth)";
    let b_normal = format!("(1.8 * {w} / ({c}))");
    let b_fast = format!("({b_normal} / 15)");
    let dec = |b: &str| {
        format!(
            "decode(models.deepseek_v3, hardware.gb200, batch={b}, context=8192 tokens, chips=64)"
        )
    };
    let speed_up = format!("{}.step_time / {}.step_time", dec(&b_normal), dec(&b_fast));
    agrees(&s, &speed_up, "2.5", 0.05);
    let price = format!(
        "{}.cost_per_token / {}.cost_per_token",
        dec(&b_fast),
        dec(&b_normal)
    );
    agrees(&s, &price, "6", 0.05);
}
