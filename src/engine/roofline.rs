//! The roofline: a step takes the longer of its compute time and its memory time, and the ridge
//! point F/BW says how many FLOPs a byte of traffic must feed to keep the chip busy.
//!
//! Sources: Williams, Waterman & Patterson 2009 (the roofline model); SB roofline.md (TPU v5e:
//! 1.97e14 / 8.2e11 = 240 FLOP/byte); CLAIMS.md §1.2 and C3 (the talk's dimensionless R ≈ 300).

/// Ridge point (critical arithmetic intensity) `F/BW` in FLOP per byte: below it a kernel is
/// memory-bound. H100 BF16: 989e12 / 3.35e12 = 295 (SB gpus.md); TPU v5e: 1.97e14 / 8.2e11 = 240
/// (SB roofline.md).
pub fn ridge_point(flops: f64, bandwidth: f64) -> f64 {
    flops / bandwidth
}

/// The talk's dimensionless hardware ratio `R = F·b_w / (2·BW)`: multiply-accumulates per second
/// times bytes per weight, over bytes per second (CLAIMS.md §1.1, C3). It is the batch at which
/// reading a weight once takes as long as using it in `B` multiply-accumulates. B200 at FP8:
/// 4.5e15 · 1 / (2 · 8e12) = 281.
pub fn hardware_ratio(flops: f64, bandwidth: f64, weight_bytes: f64) -> f64 {
    flops * weight_bytes / (2.0 * bandwidth)
}

/// Arithmetic intensity of an operation, FLOPs / bytes moved.
pub fn arithmetic_intensity(flops: f64, bytes: f64) -> f64 {
    flops / bytes
}

/// Time to do `flops` FLOPs at a peak rate of `rate` FLOP/s: `flops / rate`.
pub fn compute_time(flops: f64, rate: f64) -> f64 {
    flops / rate
}

/// Time to move `bytes` over `bandwidth` bytes/s: `bytes / bandwidth`.
pub fn memory_time(bytes: f64, bandwidth: f64) -> f64 {
    bytes / bandwidth
}

/// Roofline step time with perfect overlap, `max(t_compute, t_memory)` (CLAIMS.md §1.2): a lower
/// bound on the real step.
pub fn step_time(compute: f64, memory: f64) -> f64 {
    compute.max(memory)
}

/// What limits a step: the term that sets the roofline time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound {
    /// Matmul FLOPs.
    Compute,
    /// Reading weights from HBM.
    WeightRead,
    /// Reading (or writing) the KV cache.
    KvRead,
    /// Moving activations between chips (all-to-all).
    Communication,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::hardware::Precision;
    use crate::engine::testdata;
    use crate::engine::testutil::close;

    #[test]
    fn h100_bf16_ridge_is_295_flop_per_byte() {
        // 989e12 FLOP/s / 3.35e12 B/s = 295.2 (SB gpus.md Q3: "990e12 / 3.35e12 = 295").
        close(ridge_point(989e12, 3.35e12), 295.2, 0.001);
        close(
            testdata::chip("h100").ridge_point(Precision::Bf16),
            295.2,
            0.001,
        );
    }

    #[test]
    fn b200_fp8_ridge_is_562_and_talk_ratio_281() {
        // 4.5e15 / 8e12 = 562.5 FLOP/B; R = 4.5e15 · 1 B / (2 · 8e12) = 281.25.
        let b200 = testdata::chip("b200");
        close(b200.ridge_point(Precision::Fp8), 562.5, 1e-9);
        close(b200.hardware_ratio(Precision::Fp8), 281.25, 1e-9);
        // At FP4: 9e15 · 0.5 / 16e12 = 281.25 again (compute and weights scale together).
        close(b200.hardware_ratio(Precision::Fp4), 281.25, 1e-9);
    }

    #[test]
    fn tpu_v5e_ridge_is_240() {
        // 1.97e14 / 8.2e11 = 240.2 (SB roofline.md); the Google doc's 819 GB/s gives 240.5.
        close(ridge_point(1.97e14, 8.2e11), 240.2, 0.001);
        close(
            testdata::chip("tpu_v5e").ridge_point(Precision::Bf16),
            240.0,
            0.005,
        );
    }

    #[test]
    fn talk_ratio_is_near_300_from_h100_to_ironwood_but_not_a100_or_gb300_fp4() {
        // CLAIMS.md C3, table §1.3: R = F·b_w/(2·BW) at matched precision.
        // A100 BF16: 312e12·2/(2·2.04e12) = 152.9 — half the "≈300".
        close(
            testdata::chip("a100").hardware_ratio(Precision::Bf16),
            152.9,
            0.001,
        );
        // H100 BF16: 989e12·2/(2·3.35e12) = 295.2.
        close(
            testdata::chip("h100").hardware_ratio(Precision::Bf16),
            295.2,
            0.001,
        );
        // GB200 FP4: 10e15·0.5/(2·8e12) = 312.5.
        close(
            testdata::chip("gb200").hardware_ratio(Precision::Fp4),
            312.5,
            1e-9,
        );
        // GB300 FP4: 15e15·0.5/(2·8e12) = 468.75 (the source of the summary's "3,750" = 8 × 468.75).
        close(
            testdata::chip("gb300").hardware_ratio(Precision::Fp4),
            468.75,
            1e-9,
        );
        // Ironwood FP8: 4.614e15·1/(2·7.37e12) = 313.0.
        close(
            testdata::chip("ironwood").hardware_ratio(Precision::Fp8),
            313.0,
            0.001,
        );
    }

    #[test]
    fn step_is_the_slower_of_compute_and_memory() {
        assert_eq!(step_time(1.0, 2.0), 2.0);
        assert_eq!(step_time(3.0, 2.0), 3.0);
        close(compute_time(2e15, 1e15), 2.0, 1e-12);
        close(memory_time(8e12, 8e12), 1.0, 1e-12);
        close(arithmetic_intensity(600.0, 2.0), 300.0, 1e-12);
    }
}
