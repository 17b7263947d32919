//! The engine as calc sees it: calc source run through a prelude built the way a book builds it
//! (`Scope::new()`, the engine's bindings, then the repository's `data/`), checked against figures
//! worked out by hand from public sources (CLAIMS.md, FACTS.md, the engine's own unit tests).
//! Every expected value has its arithmetic in a comment.

use calcbook::calc::{OutputKind, Scope, Value};

fn prelude() -> Scope {
    crate::common::repo_prelude()
}

#[track_caller]
fn eval(scope: &Scope, src: &str) -> Value {
    scope
        .eval_expr(src)
        .unwrap_or_else(|d| panic!("`{src}` failed: {}", d.message))
}

/// The value of `src` expressed in `unit` (which also checks its dimension).
#[track_caller]
fn val(scope: &Scope, src: &str, unit: &str) -> f64 {
    eval(scope, src)
        .as_unit(unit, scope.registry())
        .unwrap_or_else(|e| panic!("`{src}` in {unit}: {e}"))
}

/// A plain number.
#[track_caller]
fn num(scope: &Scope, src: &str) -> f64 {
    let v = eval(scope, src);
    v.as_number()
        .unwrap_or_else(|| panic!("`{src}` is not a plain number: {v:?}"))
}

#[track_caller]
fn text(scope: &Scope, src: &str) -> String {
    let v = eval(scope, src);
    v.as_str()
        .unwrap_or_else(|| panic!("`{src}` is not a string: {v:?}"))
        .to_string()
}

/// The error message of a failing expression.
#[track_caller]
fn error(scope: &Scope, src: &str) -> String {
    match scope.eval_expr(src) {
        Ok(v) => panic!("`{src}` should fail but gave {v:?}"),
        Err(d) => d.message,
    }
}

#[track_caller]
fn close(actual: f64, expected: f64, tol: f64) {
    let err = ((actual - expected) / expected).abs();
    assert!(
        err < tol,
        "expected {expected} ± {:.3}%, got {actual} (off by {:.4}%)",
        tol * 100.0,
        err * 100.0
    );
}

#[test]
fn ridge_points_and_the_talks_ratio() {
    let s = prelude();
    // H100 BF16: 989e12 FLOP/s / 3.35e12 B/s = 295.2 FLOP/B (SB gpus.md).
    close(val(&s, "ridge(hardware.h100)", "FLOP/B"), 295.22, 1e-3);
    // At FP8: 1979e12 / 3.35e12 = 590.7.
    close(
        val(&s, "ridge(hardware.h100, \"fp8\")", "FLOP/B"),
        590.75,
        1e-3,
    );
    // TPU v5e: 197e12 / 819e9 = 240.5 (SB roofline.md: 1.97e14/8.2e11 = 240).
    close(val(&s, "ridge(hardware.tpu_v5e)", "FLOP/B"), 240.54, 1e-3);
    // B200 FP8: R = 4.5e15 · 1 B / (2 · 8e12 B/s) = 281.25 (CLAIMS.md C3).
    close(
        num(&s, "hardware_ratio(hardware.b200, \"fp8\")"),
        281.25,
        1e-9,
    );
    // H100 BF16: 989e12 · 2 / (2 · 3.35e12) = 295.2; GB300 FP4: 15e15 · 0.5 / 16e12 = 468.75.
    close(num(&s, "hardware_ratio(hardware.h100)"), 295.22, 1e-3);
    close(
        num(&s, "hardware_ratio(hardware.gb300, \"fp4\")"),
        468.75,
        1e-9,
    );
    // A chip without FP8 computes FP8 at BF16: A100 312e12 · 1 / (2 · 2.04e12) = 76.5.
    close(
        num(&s, "hardware_ratio(hardware.a100, \"fp8\")"),
        76.47,
        1e-3,
    );
    // A system is its chip: GB200 NVL72 at FP8 = 5e15/8e12 = 625 FLOP/B.
    close(
        val(&s, "ridge(systems.gb200_nvl72, \"fp8\")", "FLOP/B"),
        625.0,
        1e-9,
    );
}

#[test]
fn kv_cache_bytes_per_token_and_per_sequence() {
    let s = prelude();
    // DeepSeek-V3 MLA: 61 layers · (512 latent + 64 rope) · 2 B = 70,272 B/token (FACTS.md §3b).
    assert_eq!(
        val(&s, "kv_bytes_per_token(models.deepseek_v3)", "B/token"),
        70_272.0
    );
    // At FP8: 61 · 576 · 1 = 35,136.
    assert_eq!(
        val(&s, "kv_bytes_per_token(models.deepseek_v3, 1)", "B/token"),
        35_136.0
    );
    // Llama 3.1 70B GQA: 2 (K,V) · 80 layers · 8 KV heads · 128 · 2 B = 327,680.
    assert_eq!(
        val(&s, "kv_bytes_per_token(models.llama31_70b)", "B/token"),
        327_680.0
    );
    // Llama 3.1 405B: 2 · 126 · 8 · 128 · 2 = 516,096.
    assert_eq!(
        val(&s, "kv_bytes_per_token(models.llama31_405b)", "B/token"),
        516_096.0
    );
    // PaLM 540B MQA: 2 · 118 · 1 · 256 · 2 = 120,832.
    assert_eq!(
        val(&s, "kv_bytes_per_token(models.palm_540b)", "B/token"),
        120_832.0
    );
    // gpt-oss-120b at 131,072 tokens: 2,048 B per layer-token (2·8·64·2);
    // 18 global layers · 131,072 + 18 sliding layers · 128 (window) =
    // 4,831,838,208 + 4,718,592 = 4,836,556,800 B.
    assert_eq!(
        val(
            &s,
            "kv_bytes_per_sequence(models.gpt_oss_120b, 131072 tokens)",
            "B"
        ),
        4_836_556_800.0
    );
    // DeepSeek at 8,192 tokens: 8,192 · 70,272 = 575,668,224 B.
    assert_eq!(
        val(&s, "kv_bytes_per_sequence(models.deepseek_v3, 8192)", "B"),
        575_668_224.0
    );
    // Context at which KV reads equal the matmuls (CLAIMS.md C11), GB200 at FP8 compute:
    // DeepSeek-V3 2·37e9·8e12/(5e15·70,272) = 1,685 tokens; Llama 405B served at FP8
    // 2·405e9·8e12/(5e15·516,096) = 2,511.
    close(
        val(
            &s,
            "kv_balance_context(models.deepseek_v3, hardware.gb200)",
            "tokens",
        ),
        1_685.0,
        1e-3,
    );
    close(
        val(
            &s,
            "kv_balance_context(models.llama31_405b, hardware.gb200, \"fp8\")",
            "tokens",
        ),
        2_511.0,
        1e-3,
    );
    // Attention FLOPs equal weight FLOPs at 2·37e9 / (61·2·128·(192+128)) = 14,808 tokens (C28).
    close(
        val(&s, "attention_crossover(models.deepseek_v3)", "tokens"),
        14_808.0,
        1e-3,
    );
}

#[test]
fn deepseek_decode_on_64_gb200_matches_the_engine() {
    let s = prelude();
    // CLAIMS.md C1: reading every weight, 671e9 B / (64 · 8e12 B/s) = 671e9/512e12 = 1.3105 ms.
    close(
        val(
            &s,
            "decode(models.deepseek_v3, hardware.gb200, batch=1, chips=64, precision=\"fp8\", \
             all_experts=true).weight_time",
            "ms",
        ),
        1.3105,
        1e-3,
    );
    close(
        val(
            &s,
            "weight_floor(models.deepseek_v3, hardware.gb200, chips=64)",
            "ms",
        ),
        1.3105,
        1e-3,
    );
    // By default only the experts the batch touches are read. At B = 1: 8 of 256 per layer.
    // Non-expert weights 671e9 − 58·256·3·7,168·2,048 = 17.09e9 B over 512e12 B/s = 33.4 µs;
    // the 8 touched experts (44.04 MB each) sit on 4 of the 64 GPUs each, and the busiest GPU is
    // expected to hold 1.3101 of them (1 − P(no GPU holds two or more), summed over counts):
    // 1.3101 · 58 · 44.04e6 / 8e12 = 418.3 µs; weight time 451.7 µs.
    let one = "decode(models.deepseek_v3, hardware.gb200, batch=1, chips=64, precision=\"fp8\")";
    close(val(&s, &format!("{one}.weight_time"), "µs"), 451.7, 1e-3);
    close(num(&s, &format!("{one}.distinct_experts")), 8.0, 1e-9);
    close(num(&s, &format!("{one}.busiest_experts")), 1.3101, 1e-3);
    // At B = 8 the busiest GPU holds 3.06 touched experts (the average is 0.90): 1.011 ms
    // (issue #14, error 4).
    let eight = "decode(models.deepseek_v3, hardware.gb200, batch=8, chips=64)";
    close(num(&s, &format!("{eight}.busiest_experts")), 3.0634, 1e-3);
    close(val(&s, &format!("{eight}.weight_time"), "ms"), 1.0115, 1e-3);
    // DeepSeek's layout (attention and shared expert on every GPU): each of 64 GB200s reads the
    // 17.09 GB of non-expert weights plus 4 experts · 58 layers · 44.04 MB = 27.31 GB: 3.41 ms.
    close(
        val(
            &s,
            "weight_floor(models.deepseek_v3, hardware.gb200, chips=64, layout=\"dp_ep\")",
            "ms",
        ),
        3.414,
        1e-3,
    );
    close(
        val(
            &s,
            "decode(models.deepseek_v3, hardware.gb200, batch=4096, chips=64, \
             layout=\"dp_ep\").weight_time",
            "ms",
        ),
        3.414,
        1e-3,
    );

    // B = 2,100 at 8,192 tokens of context (CLAIMS.md C2, C10), priced at the talk's $2/hour:
    let d = "decode(models.deepseek_v3, hardware.gb200, batch=2100, context=8192, chips=64, \
             precision=\"fp8\", price=2 $/hour)";
    // KV: 2,100 · 575.67e6 B / 512e12 B/s = 2.3612 ms.
    close(val(&s, &format!("{d}.kv_time"), "ms"), 2.3612, 1e-3);
    // Compute: 2 · 2,100 · 37e9 / (64 · 5e15) = 0.4856 ms.
    close(val(&s, &format!("{d}.compute_time"), "ms"), 0.4856, 1e-3);
    // All 256 experts are touched, so weights take the full 1.3105 ms; step = 1.3105 + 2.3612
    // = 3.6717 ms, KV-bound.
    close(val(&s, &format!("{d}.weight_time"), "ms"), 1.3105, 1e-3);
    close(val(&s, &format!("{d}.step_time"), "ms"), 3.6717, 1e-3);
    assert_eq!(text(&s, &format!("{d}.bound")), "kv");
    close(num(&s, &format!("{d}.distinct_experts")), 256.0, 1e-9);
    // 1/3.6717 ms = 272.4 tok/s per user; 2,100/3.6717 ms = 571,940 tok/s per replica.
    close(
        val(&s, &format!("{d}.tokens_per_s_user"), "tokens/s"),
        272.4,
        1e-3,
    );
    close(
        val(&s, &format!("{d}.tokens_per_s_replica"), "tokens/s"),
        571_940.0,
        1e-3,
    );
    // Cost: 3.6717 ms · 64 GPUs · (2/3600) $/s / 2,100 = 6.216e-8 $/token = $0.0622/Mtok.
    close(
        val(&s, &format!("{d}.cost_per_token"), "$/Mtok"),
        0.06216,
        1e-3,
    );
    // MFU = 0.4856 / 3.6717 = 13.2%.
    close(num(&s, &format!("{d}.mfu")), 0.1323, 1e-3);
    // All-to-all: 2,100/64 tokens · 58 layers · 229,376 B · 63/64 over 900 GB/s = 0.4775 ms.
    close(val(&s, &format!("{d}.comm_time"), "ms"), 0.4775, 1e-3);
    // FLOPs 2 · 2,100 · 37e9 = 1.554e14; KV bytes 2,100 · 575,668,224 = 1.2089e12 B.
    close(val(&s, &format!("{d}.flops"), "FLOP"), 1.554e14, 1e-9);
    close(val(&s, &format!("{d}.kv_bytes"), "B"), 1.2089e12, 1e-3);
    // Serial communication adds 0.4775 ms to 3.6717 ms = 4.1492 ms.
    close(
        val(
            &s,
            &format!("{}, overlap=false).step_time", &d[..d.len() - 1]),
            "ms",
        ),
        4.1492,
        1e-3,
    );
    // Without `price=` the GB200 record's own 4.54 $/hour applies: 0.06216 · 4.54/2 = 0.1411.
    close(
        val(
            &s,
            "decode(models.deepseek_v3, hardware.gb200, batch=2100, context=8192, chips=64)\
             .cost_per_token",
            "$/Mtok",
        ),
        0.06216 * 4.54 / 2.0,
        1e-3,
    );
}

#[test]
fn decode_on_a_system_uses_all_its_chips() {
    let s = prelude();
    // 72 GB200 in one NVL72, B = 2,000, 8,192 tokens: every expert is touched, and 256 experts
    // over 72 GPUs put 4 on the busiest: non-expert weights 17.09e9/576e12 = 0.0297 ms plus
    // 4 · 58 · 44.04e6 / 8e12 = 1.2771 ms = 1.3068 ms (not the even 671e9/576e12 = 1.1649 ms);
    // KV 2,000 · 575.67e6 / 576e12 = 1.9988 ms; step 3.3057 ms; 2,000/3.3057 ms = 605,018 tok/s.
    let d = "decode(models.deepseek_v3, systems.gb200_nvl72, batch=2000, context=8192)";
    close(val(&s, &format!("{d}.weight_time"), "ms"), 1.3068, 1e-3);
    close(val(&s, &format!("{d}.kv_time"), "ms"), 1.9988, 1e-3);
    close(val(&s, &format!("{d}.step_time"), "ms"), 3.3057, 1e-3);
    close(
        val(&s, &format!("{d}.tokens_per_s_replica"), "tokens/s"),
        605_018.0,
        1e-3,
    );
    // Two racks (144 chips): half of the all-to-all leaves the rack over 50 GB/s NICs:
    // 2,100/144 · 13,303,808 B = 194.0 MB per GPU; half of it over 50 GB/s = 1.94 ms.
    close(
        val(
            &s,
            "decode(models.deepseek_v3, systems.gb200_nvl72, batch=2100, context=8192, \
             chips=144).comm_time",
            "ms",
        ),
        1.940,
        1e-3,
    );
}

#[test]
fn dense_decode_and_prefill() {
    let s = prelude();
    // PaLM 540B with int8 weights on 64 TPU v4, batch 64, 2,048 tokens (CLAIMS.md P1): weights
    // 540e9 B / (64 · 1.2e12 B/s) = 7.03 ms, far below ESTI's measured 28.5 ms per step.
    let d = "decode(models.palm_540b, hardware.tpu_v4, batch=64, context=2048, chips=64, \
             precision=\"int8\")";
    close(val(&s, &format!("{d}.weight_time"), "ms"), 7.031, 1e-3);
    assert!(val(&s, &format!("{d}.step_time"), "ms") < 28.5 / 3.0);
    // Dense: no experts, no all-to-all.
    assert_eq!(num(&s, &format!("{d}.distinct_experts")), 0.0);
    assert_eq!(val(&s, &format!("{d}.comm_time"), "s"), 0.0);

    // Llama 3.1 70B BF16 on 8 H100, one 8,192-token prompt: compute 2·70e9·8,192/(8·989e12)
    // = 1.1469e15/7.912e15 = 144.96 ms; weights 140e9/26.8e12 = 5.22 ms ⇒ compute-bound.
    let p = "prefill(models.llama31_70b, hardware.h100, 8192, chips=8, price=2 $/hour)";
    close(val(&s, &format!("{p}.compute_time"), "ms"), 144.96, 1e-3);
    close(val(&s, &format!("{p}.step_time"), "ms"), 144.96, 1e-3);
    close(
        val(&s, &format!("{p}.memory_time"), "ms"),
        5.224 + 0.1002,
        1e-3,
    );
    assert_eq!(text(&s, &format!("{p}.bound")), "compute");
    // 0.14496 s · 8 GPUs · (2/3600) $/s / 8,192 tokens = 7.864e-8 $ per prompt token;
    // 8,192 / 0.14496 s = 56,512 tokens/s.
    close(
        val(&s, &format!("{p}.cost_per_token"), "$/token"),
        7.864e-8,
        1e-3,
    );
    close(
        val(&s, &format!("{p}.tokens_per_s"), "tokens/s"),
        56_512.0,
        1e-3,
    );
    // At the H100 record's 2.95 $/hour: 7.864e-8 · 2.95/2 = 1.160e-7 $.
    close(
        val(
            &s,
            "prefill(models.llama31_70b, hardware.h100, 8192, chips=8).cost_per_token",
            "$/token",
        ),
        7.864e-8 * 2.95 / 2.0,
        1e-3,
    );
    // 100 tokens: compute 1.4e13/7.912e15 = 1.77 ms < weights 5.22 ms.
    assert_eq!(
        text(
            &s,
            "prefill(models.llama31_70b, hardware.h100, 100, chips=8).bound"
        ),
        "weights"
    );
}

#[test]
fn optimal_batch_is_r_times_sparsity() {
    let s = prelude();
    // The talk: R ≈ 300 and "32 of 256 experts" ⇒ S = 8 ⇒ 300 · 8 = 2,400 (CLAIMS.md C4).
    assert_eq!(num(&s, "300 * 256/32"), 2_400.0);
    // DeepSeek-V3's real sparsity: 671/37 = 18.135 ⇒ 300 · 18.135 = 5,440.5.
    close(num(&s, "sparsity(models.deepseek_v3)"), 18.135, 1e-3);
    close(num(&s, "300 * sparsity(models.deepseek_v3)"), 5_440.5, 1e-3);
    // With the hardware's own R: H100 BF16 295.22 · 18.135 = 5,354; GB200 FP4 312.5 · 18.135
    // = 5,667; GB200 at DeepSeek's own FP8: 5e15 · 1 / (2 · 8e12) = 312.5 ⇒ 5,667 too.
    close(
        num(
            &s,
            "optimal_batch(models.deepseek_v3, hardware.h100, \"bf16\")",
        ),
        5_354.0,
        1e-3,
    );
    close(
        num(
            &s,
            "optimal_batch(models.deepseek_v3, hardware.gb200, \"fp4\")",
        ),
        5_667.2,
        1e-3,
    );
    close(
        num(&s, "optimal_batch(models.deepseek_v3, hardware.gb200)"),
        5_667.2,
        1e-3,
    );
    // GB300 FP4 with the talk's wrong sparsity 8: 468.75 · 8 = 3,750 (the summary's figure).
    close(
        num(&s, "hardware_ratio(hardware.gb300, \"fp4\") * 8"),
        3_750.0,
        1e-9,
    );
    // With KV at 1,000 tokens (CLAIMS.md C5), GB200 FP8: headroom 2·37e9·8e12/5e15 = 118.4e6 B,
    // minus 1,000 · 70,272 = 70.272e6 ⇒ B* = 671e9 / 48.128e6 = 13,942.
    let kv = "optimal_batch_with_kv(models.deepseek_v3, hardware.gb200, 1000)";
    assert_eq!(eval(&s, &format!("{kv}.exists")), Value::Bool(true));
    close(num(&s, &format!("{kv}.batch")), 13_942.0, 1e-3);
    // At 8,192 tokens, 575.7e6 B > 118.4e6 B: no batch is compute-bound.
    assert_eq!(
        eval(
            &s,
            "optimal_batch_with_kv(models.deepseek_v3, hardware.gb200, 8192).exists"
        ),
        Value::Bool(false)
    );
    // Per expert: R·E/k = 312.5 · 256/8 = 10,000 (the talk's R = 300 gives 9,600).
    close(
        num(&s, "per_expert_batch(models.deepseek_v3, hardware.gb200)"),
        10_000.0,
        1e-9,
    );
    // Distinct experts: 256 · (1 − (1 − 8/256)^32) = 256 · (1 − 0.3621) = 163.3.
    close(num(&s, "expected_experts(256, 8, 32)"), 163.3, 1e-3);
    // Fast mode (CLAIMS.md C10): $150/$25 = 6x the price for 2.5x the speed ⇒ 1/15 of the
    // batch; memory-bound operating points y = 1.5/12.5 = 0.12, x = 15 · 0.12 = 1.8.
    let f = "fast_mode(pricing.claude_opus_4_6)";
    close(num(&s, &format!("{f}.price_ratio")), 6.0, 1e-12);
    close(num(&s, &format!("{f}.batch_ratio")), 15.0, 1e-12);
    close(num(&s, &format!("{f}.normal_kv_over_weights")), 1.8, 1e-12);
    close(num(&s, &format!("{f}.fast_kv_over_weights")), 0.12, 1e-12);
    // price_ratio: Gemini's >200K output step, $18 / $12 = 1.5.
    close(
        num(
            &s,
            "price_ratio(pricing.gemini_3_1_pro.long_context.output, pricing.gemini_3_1_pro.output)",
        ),
        1.5,
        1e-12,
    );
}

#[test]
fn networks_and_pipelines() {
    let s = prelude();
    // DeepSeek all-to-all per token: 2 · 8 experts · 7,168 · 1 B · 58 MoE layers = 6,651,904 B
    // with FP8 activations; with BF16 ones (the default, as `decode` and `all_to_all_time` count
    // them) 13,303,808 B.
    assert_eq!(
        val(
            &s,
            "all_to_all_bytes_per_token(models.deepseek_v3, activation_bytes=1)",
            "B/token"
        ),
        6_651_904.0
    );
    assert_eq!(
        val(
            &s,
            "all_to_all_bytes_per_token(models.deepseek_v3)",
            "B/token"
        ),
        13_303_808.0
    );
    // Two racks: (2−1)/2 of the traffic leaves.
    assert_eq!(num(&s, "fraction_leaving(2)"), 0.5);
    assert_eq!(num(&s, "fraction_leaving(1)"), 0.0);
    // NVLink per direction over the NIC: GB200 900/50 = 18; H100 450/50 = 9; GB300 900/100 = 9.
    close(num(&s, "scale_ratio(hardware.gb200)"), 18.0, 1e-12);
    close(num(&s, "scale_ratio(hardware.h100)"), 9.0, 1e-12);
    close(num(&s, "scale_ratio(hardware.gb300)"), 9.0, 1e-12);
    // Pipeline condition (CLAIMS.md C17): 2·8·1 / 18 = 0.889 on GB200; two layers per stage.
    close(
        num(&s, "pipeline_ratio(models.deepseek_v3, hardware.gb200)"),
        0.8889,
        1e-3,
    );
    close(
        num(&s, "pipeline_ratio(models.deepseek_v3, hardware.gb200, 2)"),
        1.7778,
        1e-3,
    );
    assert_eq!(
        num(
            &s,
            "min_layers_per_stage(models.deepseek_v3, hardware.gb200)"
        ),
        2.0
    );
    // The all-to-all `decode` reports as comm_time, on its own. 64 GB200 in one rack, B = 2,100,
    // BF16 activations: 2,100/64 tokens · 13,303,808 B · 63/64 over 900 GB/s = 0.4775 ms.
    close(
        val(
            &s,
            "all_to_all_time(models.deepseek_v3, hardware.gb200, 2100, 64)",
            "ms",
        ),
        0.4775,
        1e-3,
    );
    // Two racks (144): (144−72)/144 = half of 2,100/144 · 13,303,808 B = 194.0 MB leaves over
    // 50 GB/s: 1.94 ms.
    close(
        val(
            &s,
            "all_to_all_time(models.deepseek_v3, systems.gb200_nvl72, 2100, 144)",
            "ms",
        ),
        1.940,
        1e-3,
    );
    // DeepSeek's production batch (DS6): 12,700 · 8 / 256 = 396.9 tokens per expert.
    close(
        num(&s, "tokens_per_expert(models.deepseek_v3, 12700)"),
        396.9,
        1e-3,
    );
}

#[test]
fn drain_load_and_hold() {
    let s = prelude();
    // H100: 80e9 B / 3.35e12 B/s = 23.88 ms (CLAIMS.md C7).
    close(val(&s, "drain_time(hardware.h100)", "ms"), 23.88, 1e-3);
    // Per chip of a system: GB200 186e9 / 8e12 = 23.25 ms.
    close(
        val(&s, "drain_time(systems.gb200_nvl72)", "ms"),
        23.25,
        1e-9,
    );
    // Seagate Exos X24: 24e12 B / 285e6 B/s = 84,211 s = 23.39 h (CLAIMS.md C32).
    close(
        val(&s, "drain_time(memory.hdd_exos_x24)", "hour"),
        23.39,
        1e-3,
    );
    // Grace LPDDR5X: 480e9 / 512e9 = 0.9375 s.
    close(
        val(&s, "drain_time(memory.grace_lpddr5x)", "s"),
        0.9375,
        1e-9,
    );
    // 1 GB from the HDD: 1e9 / 285e6 = 3.509 s; from an H100's HBM: 1e9/3.35e12 = 0.2985 ms.
    close(
        val(&s, "load_time(1 GB, memory.hdd_exos_x24)", "s"),
        3.509,
        1e-3,
    );
    close(
        val(&s, "load_time(1 GB, hardware.h100)", "ms"),
        0.2985,
        1e-3,
    );
    // Holding 1 GB for an hour on a 24 TB drive rented at 0.036 $/hour (1e-5 $/s):
    // 1e9/24e12 · 3,600 s · 1e-5 $/s = 1.5e-6 $.
    close(
        val(
            &s,
            "hold_cost(1 GB, 1 hour, memory.hdd_exos_x24, 0.036 $/hour)",
            "$",
        ),
        1.5e-6,
        1e-9,
    );
    // DeepSeek-V3 FP8 on 80 GB H100s: 671e9/80e9 = 8.39 ⇒ 9 chips; with 100 GB of KV 771/80
    // = 9.64 ⇒ 10; served at BF16 1,342/80 = 16.8 ⇒ 17.
    assert_eq!(
        num(&s, "chips_to_hold(models.deepseek_v3, hardware.h100)"),
        9.0
    );
    assert_eq!(
        num(
            &s,
            "chips_to_hold(models.deepseek_v3, hardware.h100, kv=100 GB)"
        ),
        10.0
    );
    assert_eq!(
        num(
            &s,
            "chips_to_hold(models.deepseek_v3, hardware.h100, precision=\"bf16\")"
        ),
        17.0
    );
    // KV room beside DeepSeek-V3 on 64 GB200 (CLAIMS.md C7): 64 · 186e9 − 671e9 = 11.233e12 B;
    // / (8,192 · 70,272 = 575.67e6 B) = 19,513 sequences.
    close(
        num(
            &s,
            "max_sequences(models.deepseek_v3, hardware.gb200, 8192, chips=64)",
        ),
        19_513.0,
        1e-3,
    );
    // DeepSeek's layout puts a full copy of the 17.09 GB of non-expert weights on every GPU, plus
    // 4 · 58 · 44.04 MB of experts: 27.31 GB per GPU; 64 · (186e9 − 27.31e9) = 10.156e12 B of KV
    // room = 17,643 sequences.
    close(
        num(
            &s,
            "max_sequences(models.deepseek_v3, hardware.gb200, 8192, chips=64, layout=\"dp_ep\")",
        ),
        17_643.0,
        1e-3,
    );
    // A B200 can allocate 180 of its 192 GB (`hbm.usable`): Llama 3.1 70B in BF16 on 8 of them
    // leaves 8 · 180e9 − 2 · 70.6e9 B for KV caches, not 8 · 192e9 − ….
    close(
        num(
            &s,
            "max_sequences(models.llama31_70b, hardware.b200, 8192, chips=8, precision=\"bf16\")",
        ),
        num(
            &s,
            "(8 * 180 GB - 2 B * models.llama31_70b.params_total) / \
             kv_bytes_per_sequence(models.llama31_70b, 8192)",
        ),
        1e-12,
    );
    // 671 GB of FP8 weights and 770 GB of KV over 180 GB usable per B200: 8.01 ⇒ 9 chips (the
    // 192 GB on the label would give 7.5 ⇒ 8).
    assert_eq!(
        num(
            &s,
            "chips_to_hold(models.deepseek_v3, hardware.b200, kv=770 GB)"
        ),
        9.0
    );
    // Reading 1 GB back from the drive at 0.036 $/hour: 1e9/285e6 s · 1e-5 $/s = 3.509e-5 $.
    close(
        val(
            &s,
            "retrieve_cost(1 GB, memory.hdd_exos_x24, 0.036 $/hour)",
            "$",
        ),
        3.509e-5,
        1e-3,
    );
    // Recomputing 100k tokens of DeepSeek-V3 (37B active) on one H100 at FP8, 50% MFU,
    // $2/hour: 1e5 · 7.4e10 / (1.979e15 · 0.5) = 7.479 s · (2/3600) $/s = 4.155e-3 $.
    close(
        val(
            &s,
            "recompute_cost(models.deepseek_v3, hardware.h100, 1e5, 0.5, price=2 $/hour)",
            "$",
        ),
        4.155e-3,
        1e-3,
    );
}

#[test]
fn training_compute_and_mfu() {
    let s = prelude();
    // DeepSeek-V3: 6 · 37e9 · 14.8e12 = 3.2856e24 FLOP.
    close(
        val(
            &s,
            "training_flops(models.deepseek_v3.params_active, models.deepseek_v3.training_tokens)",
            "FLOP",
        ),
        3.2856e24,
        1e-9,
    );
    // 2 · 37e9 = 74e9 FLOP per token; Chinchilla 20 · 70e9 = 1.4e12 tokens.
    assert_eq!(val(&s, "inference_flops(37e9)", "FLOP/token"), 74e9);
    assert_eq!(val(&s, "chinchilla_tokens(70e9)", "tokens"), 1.4e12);
    // Over-training: DeepSeek-V3 14.8e12 / (20 · 37e9) = 20.0; Llama 3.1 8B 15e12/(20·8e9) = 93.75.
    close(num(&s, "overtraining(models.deepseek_v3)"), 20.0, 1e-9);
    close(num(&s, "overtraining(models.llama31_8b)"), 93.75, 1e-9);

    // Pope et al. 2022 (ESTI) Table 2, PaLM 540B on 64 TPU v4 at 275e12 FLOP/s: the
    // denominator is 64 · 275e12 = 1.76e16 FLOP/s.
    let n = "models.palm_540b.params_total";
    let peak = "hardware.tpu_v4.flops.bf16";
    // Low-latency prefill, 1 × 2,048 tokens in 0.29 s: 2·540e9·2,048 = 2.2118e15 FLOP /
    // (0.29 · 1.76e16) = 43.3%.
    close(
        num(&s, &format!("mfu(2*{n}*2048 FLOP, 0.29 s, 64, {peak})")),
        0.4333,
        1e-3,
    );
    // Low-latency decode, 64 × 64 tokens in 1.82 s: 4.4237e15 / 3.2032e16 = 13.8% (table: 14%).
    close(
        num(&s, &format!("mfu(2*{n}*64*64 FLOP, 1.82 s, 64, {peak})")),
        0.1381,
        1e-3,
    );
    // High-throughput prefill, 512 × 2,048 tokens in 85.2 s: 1.1325e18 / 1.4995e18 = 75.5%.
    close(
        num(&s, &format!("mfu(2*{n}*512*2048 FLOP, 85.2 s, 64, {peak})")),
        0.7552,
        1e-3,
    );
    // High-throughput decode, 512 × 64 tokens in 6.0 s: 3.5390e16 / 1.056e17 = 33.5%.
    close(
        num(&s, &format!("mfu(2*{n}*512*64 FLOP, 6 s, 64, {peak})")),
        0.3351,
        1e-3,
    );
    // The same through inference_flops (FLOP/token × tokens).
    close(
        num(
            &s,
            &format!("mfu(inference_flops({n}) * 2048 tokens, 0.29 s, 64, {peak})"),
        ),
        0.4333,
        1e-3,
    );
    // Units that do not cancel are an error, not a number.
    let e = error(&s, &format!("mfu(2*{n}*2048, 0.29 s, 64, {peak})"));
    assert!(e.contains("plain number"), "{e}");
}

#[test]
fn claims_and_units_in_a_block() {
    let mut s = prelude();
    let out = s.run_block(
        "unit Mtok = 1e6 token\n\
         d = decode(models.deepseek_v3, hardware.gb200, batch=2100, context=8192, chips=64, price=2 $/hour)\n\
         cost = d.cost_per_token in $/Mtok\n\
         claim \"the H100 ridge is about 295 FLOP/B\": ridge(hardware.h100) ≈ 295 FLOP/B ± 1%\n\
         claim \"an HBM drains in about 24 ms\": drain_time(hardware.h100) ≈ 23.9 ms ± 1%\n\
         refute \"a disk drains in an hour\": drain_time(memory.hdd_exos_x24) ≈ 1 hour ± 50%\n\
         claim \"DeepSeek costs under a dime per Mtok at B=2100\": d.cost_per_token < 0.1 $/Mtok\n\
         claim \"Gemini's cache storage\": pricing.gemini_3_1_pro.cache_storage ≈ 4.5 $/Mtok/hour\n",
    );
    assert!(!out.has_errors(), "{:#?}", out.diagnostics);
    let claims: Vec<_> = out.claims().collect();
    assert_eq!(claims.len(), 5);
    for c in &claims {
        assert!(c.holds, "{c:#?}");
    }
    // `unit Mtok` redefines the prefixed built-in without a clash, and `in $/Mtok` shows money
    // per million tokens: $0.0622/Mtok.
    let shown = out
        .statements
        .iter()
        .find_map(|st| match &st.kind {
            OutputKind::Assignment { name, display, .. } if name == "cost" => Some(display.clone()),
            _ => None,
        })
        .expect("cost is shown");
    assert!(
        shown.contains("0.0622") && shown.contains("/Mtok"),
        "{shown}"
    );
    // `$/Mtok` needs no declaration: `M` + `tok`.
    close(val(&prelude(), "5 $/Mtok", "$/token"), 5e-6, 1e-12);
}

#[test]
fn wrong_arguments_are_clear_errors() {
    let s = prelude();
    // A string where a model record is expected.
    let e = error(&s, "decode(\"deepseek_v3\", hardware.h100)");
    assert!(
        e.contains("`model` of `decode` must be a model record")
            && e.contains("found the string \"deepseek_v3\""),
        "{e}"
    );
    // A model where hardware is expected.
    let e = error(&s, "ridge(models.deepseek_v3)");
    assert!(
        e.contains("hardware or system record") && e.contains("DeepSeek-V3"),
        "{e}"
    );
    // A record missing a field the engine needs: the message names the entry and the field.
    let e = error(
        &s,
        "decode({name: \"Toy\", params_total: 1e9, params_active: 1e9, hidden: 2048, \
         weight_bytes: 2, attention: {kind: \"GQA\", heads: 16, kv_heads: 4, head_dim: 128}}, \
         hardware.h100)",
    );
    assert!(e.contains("\"Toy\"") && e.contains("`layers`"), "{e}");
    let e = error(
        &s,
        "ridge({name: \"Half chip\", flops: {bf16: 1 PFLOP/s}, hbm: {capacity: 80 GB}})",
    );
    assert!(
        e.contains("\"Half chip\"") && e.contains("`hbm.bandwidth`"),
        "{e}"
    );
    // A field of the wrong dimension.
    let e = error(
        &s,
        "ridge({name: \"Odd\", flops: {bf16: 1 PFLOP/s}, hbm: {capacity: 80 GB, bandwidth: 3 TB}})",
    );
    assert!(e.contains("`hbm.bandwidth`") && e.contains("TB/s"), "{e}");
    // gpt-oss has no single bytes-per-weight figure: say so, and suggest a precision.
    let e = error(&s, "decode(models.gpt_oss_120b, hardware.h100)");
    assert!(
        e.contains("`weight_bytes`") && e.contains("precision"),
        "{e}"
    );
    assert!(
        val(
            &s,
            "decode(models.gpt_oss_120b, hardware.h100, precision=\"fp4\").step_time",
            "s"
        ) > 0.0
    );
    // A dense model has no experts.
    let e = error(&s, "per_expert_batch(models.llama31_70b, hardware.h100)");
    assert!(e.contains("dense") && e.contains("`experts`"), "{e}");
    // Bad precisions, batches and chip counts.
    let e = error(&s, "ridge(hardware.h100, \"fp6\")");
    assert!(
        e.contains("`precision` of `ridge` must be one of") && e.contains("\"fp6\""),
        "{e}"
    );
    let e = error(&s, "decode(models.llama31_70b, hardware.h100, batch=0)");
    assert!(e.contains("`batch` must be positive"), "{e}");
    let e = error(&s, "decode(models.llama31_70b, hardware.h100, chips=1.5)");
    assert!(e.contains("`chips` must be a whole number"), "{e}");
    let e = error(&s, "decode(models.llama31_70b, hardware.h100, batch=8 GB)");
    assert!(
        e.contains("`batch` of `decode` must be a plain number, found bytes"),
        "{e}"
    );
    let e = error(&s, "drain_time(pricing.gpt_5)");
    assert!(e.contains("memory, hardware or system record"), "{e}");
    // An MoE across more chips than a scale-up domain needs a scale-out link.
    let e = error(
        &s,
        "decode(models.deepseek_v3, hardware.ironwood, chips=10000)",
    );
    assert!(e.contains("`scale_out.bandwidth`"), "{e}");
    // The error names the function.
    assert!(e.starts_with("decode:"), "{e}");
}

#[test]
fn engine_calls_can_be_swept_for_charts() {
    let s = prelude();
    // A chart sweeps the batch: the compiled expression calls `decode` at each point.
    let c = s
        .compile(
            "decode(models.deepseek_v3, hardware.gb200, batch=b, context=8192, chips=64).step_time",
            "b",
            &calcbook::calc::Dim::none(),
        )
        .unwrap_or_else(|d| panic!("{}", d.message));
    // B = 2,100: 1.3105 ms + 2,100 · 1.1244 µs = 3.6717 ms (as above).
    close(c.eval(2_100.0).unwrap(), 3.6717e-3, 1e-3);
    // B = 20,000: 1.3105 ms + 22.488 ms = 23.80 ms (CLAIMS.md C10, slow mode).
    close(c.eval(20_000.0).unwrap(), 23.80e-3, 2e-3);
    // Sweeping the context in tokens: KV per sequence at 8,192 tokens = 575,668,224 B.
    let c = s
        .compile(
            "kv_bytes_per_sequence(models.deepseek_v3, l)",
            "l",
            &calcbook::calc::Dim::token(),
        )
        .unwrap_or_else(|d| panic!("{}", d.message));
    assert_eq!(c.eval(8_192.0).unwrap(), 575_668_224.0);
}

/// Every engine function declares what it returns when registered (so a chart sweep need not
/// call it to learn its dimension), and a call returns exactly that; every parameter declares
/// what it accepts.
#[test]
fn every_engine_function_declares_its_arguments_and_returns_what_it_declares() {
    use calcbook::calc::value::Function;
    use calcbook::calc::{ArgType, Returns};
    let s = prelude();
    let calls = [
        "decode(models.deepseek_v3, hardware.gb200, batch=8, chips=64)",
        "prefill(models.llama31_70b, hardware.h100, 8192, chips=8)",
        "weight_floor(models.deepseek_v3, hardware.gb200, chips=64, layout=\"dp_ep\")",
        "ridge(hardware.h100)",
        "hardware_ratio(hardware.h100)",
        "scale_ratio(hardware.gb200)",
        "drain_time(memory.hdd_exos_x24)",
        "kv_bytes_per_token(models.deepseek_v3)",
        "kv_bytes_per_sequence(models.deepseek_v3, 8192)",
        "kv_balance_context(models.deepseek_v3, hardware.gb200)",
        "attention_crossover(models.deepseek_v3)",
        "sparsity(models.deepseek_v3)",
        "optimal_batch(models.deepseek_v3, hardware.gb200)",
        "optimal_batch_with_kv(models.deepseek_v3, hardware.gb200, 1000)",
        "per_expert_batch(models.deepseek_v3, hardware.gb200)",
        "expected_experts(256, 8, 32)",
        "busiest_experts(models.deepseek_v3, 8, 64)",
        "tokens_per_expert(models.deepseek_v3, 12700)",
        "fast_mode(pricing.claude_opus_4_6)",
        "price_ratio(2 $/hour, 1 $/hour)",
        "all_to_all_bytes_per_token(models.deepseek_v3)",
        "all_to_all_time(models.deepseek_v3, hardware.gb200, 2100, 64)",
        "fraction_leaving(2)",
        "pipeline_ratio(models.deepseek_v3, hardware.gb200)",
        "min_layers_per_stage(models.deepseek_v3, hardware.gb200)",
        "load_time(1 GB, memory.hdd_exos_x24)",
        "hold_cost(1 GB, 1 hour, memory.hdd_exos_x24, 1 $/hour)",
        "chips_to_hold(models.deepseek_v3, hardware.h100)",
        "max_sequences(models.deepseek_v3, hardware.gb200, 8192, chips=64)",
        "retrieve_cost(1 GB, memory.hdd_exos_x24, 1 $/hour)",
        "recompute_cost(models.deepseek_v3, hardware.h100, 1e5, 0.5)",
        "training_flops(models.deepseek_v3, 14.8e12)",
        "inference_flops(37e9)",
        "chinchilla_tokens(70e9)",
        "overtraining(models.llama31_8b)",
        "mfu(1e15 FLOP, 1 s, 1, hardware.h100.flops.bf16)",
    ];
    fn check(at: &str, v: &Value, r: &Returns) {
        match (r, v) {
            (Returns::Quantity(d), Value::Quantity { dim, .. }) => assert_eq!(dim, d, "{at}"),
            (Returns::Bool, Value::Bool(_)) | (Returns::Str, Value::Str(_)) => {}
            (Returns::Record(fields), Value::Record(rec)) => {
                for (name, value) in &rec.fields {
                    let declared = fields.iter().find(|(n, _)| n == name);
                    let (_, field) = declared.unwrap_or_else(|| panic!("{at}.{name} undeclared"));
                    check(&format!("{at}.{name}"), value, field);
                }
            }
            _ => panic!("{at}: {v:?} is not the declared {r:?}"),
        }
    }
    let bare = Scope::new();
    let mut covered: Vec<&str> = Vec::new();
    for call in calls {
        let name = call.split('(').next().unwrap();
        let Some(Value::Func(f)) = s.get(name) else {
            panic!("{name} is not registered")
        };
        let Function::Native {
            returns: r, params, ..
        } = &**f
        else {
            panic!("{name} is not a native function")
        };
        check(name, &eval(&s, call), r);
        // Every argument's type is declared too, checked before the call.
        for p in params {
            assert_ne!(
                p.accepts,
                ArgType::Any,
                "{name}'s `{}` declares no type",
                p.name
            );
        }
        covered.push(name);
    }
    for name in s.names() {
        let engine = bare.get(name).is_none() && matches!(s.get(name), Some(Value::Func(_)));
        assert!(
            !engine || covered.contains(&name),
            "{name} is not checked here"
        );
    }
}
