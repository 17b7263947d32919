//! Memory capacity and memory tiers: how many chips it takes to hold weights plus KV cache, how
//! long a tier takes to read end to end (its drain time), what it costs to hold a cached prefix
//! in a tier against recomputing it, and how long loading it back takes.
//!
//! Sources: CLAIMS.md C7 (drain time ≈ step time), C15 (capacity per domain), C18 (pipelining
//! cuts weight but not KV memory per chip), C31–C32 (cache hold vs recompute, tier by drain
//! time); FACTS.md §2 (tier figures).

/// One level of the memory hierarchy, per device (one GPU's HBM, one Grace's LPDDR5X, one drive).
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryTier {
    /// Display name.
    pub name: String,
    /// Capacity per device in bytes.
    pub capacity: f64,
    /// Read bandwidth per device in bytes/s.
    pub bandwidth: f64,
    /// Purchase cost in USD per byte, where public.
    pub cost_per_byte: Option<f64>,
}

impl MemoryTier {
    /// This tier's drain time, [`drain_time`].
    pub fn drain_time(&self) -> f64 {
        drain_time(self.capacity, self.bandwidth)
    }
}

/// Drain time: seconds to read a whole device once, `capacity / bandwidth` (CLAIMS.md C7, C32).
/// H100: 80e9 / 3.35e12 = 23.9 ms; Seagate Exos X24: 24e12 / 285e6 = 84,211 s = 23.4 h.
pub fn drain_time(capacity: f64, bandwidth: f64) -> f64 {
    capacity / bandwidth
}

/// Time to load `bytes` from a tier at `bandwidth`: `bytes / bandwidth`.
pub fn load_time(bytes: f64, bandwidth: f64) -> f64 {
    bytes / bandwidth
}

/// Chips needed to hold `weight_bytes + kv_bytes` with `capacity_per_chip` each, rounded up
/// (activations and fragmentation ignored). DeepSeek-V3 FP8 (671 GB) on 80 GB H100s: 9.
pub fn chips_to_hold(weight_bytes: f64, kv_bytes: f64, capacity_per_chip: f64) -> u32 {
    ((weight_bytes + kv_bytes) / capacity_per_chip).ceil() as u32
}

/// Sequences whose KV cache fits beside the weights: `(capacity − weights) / kv_per_sequence`,
/// or 0 if the weights alone do not fit (CLAIMS.md C7: 64 GB200 hold 11.2 TB of KV beside
/// DeepSeek-V3 ⇒ 19,500 sequences at 8k context).
pub fn max_sequences_in_memory(capacity: f64, weight_bytes: f64, kv_per_sequence: f64) -> f64 {
    ((capacity - weight_bytes) / kv_per_sequence).max(0.0)
}

/// Memory per chip with expert parallelism `ep` and `pp` pipeline stages, when each stage runs
/// a micro-batch of `micro_batch` sequences and `pp` micro-batches are in flight (CLAIMS.md C18):
/// weights `N_tot·b_w/(ep·pp)`, KV `pp·b·L·b_kv/(ep·pp) = b·L·b_kv/ep` — the stage count cancels
/// out of the KV term. Returns `(weight_bytes, kv_bytes)` per chip.
pub fn pipeline_memory_per_chip(
    weight_bytes_total: f64,
    micro_batch: f64,
    kv_per_sequence: f64,
    ep: f64,
    pp: f64,
) -> (f64, f64) {
    let weights = weight_bytes_total / (ep * pp);
    let kv = pp * micro_batch * kv_per_sequence / (ep * pp);
    (weights, kv)
}

/// Cost of holding `bytes` in a tier for `duration` seconds, charging the device's price in
/// proportion to the capacity used: `bytes/capacity · duration · price_per_s` (CLAIMS.md C31).
pub fn hold_cost(bytes: f64, duration: f64, capacity: f64, price_per_s: f64) -> f64 {
    bytes / capacity * duration * price_per_s
}

/// Cost of reading `bytes` back from a tier, charging the device's price for the fraction of its
/// bandwidth-time used: `bytes/bandwidth · price_per_s` (CLAIMS.md C31).
pub fn retrieve_cost(bytes: f64, bandwidth: f64, price_per_s: f64) -> f64 {
    bytes / bandwidth * price_per_s
}

/// Cost of recomputing a prefix of `tokens` tokens (a prefill) instead of keeping its KV:
/// `tokens · 2·N_act / (F·MFU) · price_per_s` for one chip at peak `flops` (CLAIMS.md C31).
pub fn recompute_cost(
    tokens: f64,
    params_active: f64,
    flops: f64,
    mfu: f64,
    price_per_s: f64,
) -> f64 {
    tokens * 2.0 * params_active / (flops * mfu) * price_per_s
}

/// Hold time at which a tier's holding cost equals its retrieval cost — its drain time, the
/// talk's rule for matching a cache duration to a tier (CLAIMS.md C32): `T·b/C = b/BW` ⇔ `T = C/BW`.
pub fn balanced_hold_time(tier: &MemoryTier) -> f64 {
    tier.drain_time()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testdata;
    use crate::engine::testutil::close;

    #[test]
    fn hbm_drains_in_about_20_ms() {
        // CLAIMS.md §1.3 and C7. H100: 80e9/3.35e12 = 23.88 ms.
        close(testdata::chip("h100").drain_time(), 23.88e-3, 0.001);
        // B200: 192e9/8e12 = 24 ms; GB300: 288e9/8e12 = 36 ms; TPU v5e 16e9/8.19e11 = 19.5 ms.
        close(testdata::chip("b200").drain_time(), 24e-3, 1e-9);
        close(testdata::chip("gb300").drain_time(), 36e-3, 1e-9);
        close(testdata::chip("tpu_v5e").drain_time(), 19.5e-3, 0.002);
        // The talk's Rubin: 288 GB / 20 TB/s = 14.4 ms.
        close(drain_time(288e9, 20e12), 14.4e-3, 1e-9);
    }

    #[test]
    fn slower_tiers_drain_in_seconds_to_a_day() {
        // CLAIMS.md C32. Grace LPDDR5X: 480e9/512e9 = 0.94 s.
        close(testdata::tier("grace_lpddr5x").drain_time(), 0.9375, 1e-9);
        // Solidigm D5-P5336 61.44 TB at 7.4 GB/s: 8,303 s = 2.31 h.
        close(
            testdata::tier("nvme_qlc_solidigm_d5_p5336").drain_time() / 3600.0,
            2.306,
            0.001,
        );
        // Seagate Exos X24 24 TB at 285 MB/s: 84,211 s = 23.39 h (the talk's "≈1 hour" is 23x short).
        close(
            testdata::tier("hdd_exos_x24").drain_time() / 3600.0,
            23.39,
            0.001,
        );
        assert_eq!(
            balanced_hold_time(&testdata::tier("hdd_exos_x24")),
            24e12 / 285e6
        );
    }

    #[test]
    fn deepseek_fits_on_nine_h100s_and_a_1tb_model_not_on_eight() {
        // 671e9 B / 80e9 B = 8.39 ⇒ 9 chips (weights only).
        assert_eq!(chips_to_hold(671e9, 0.0, 80e9), 9);
        // CLAIMS.md C1: 1 TB of weights does not fit 8 × 80 GB = 640 GB.
        assert!(chips_to_hold(1e12, 0.0, 80e9) > 8);
    }

    #[test]
    fn a_gb200_rack_slice_holds_about_19500_deepseek_sequences_at_8k() {
        // CLAIMS.md C7: 64 · 186e9 = 11.904e12 B; − 671e9 = 11.233e12 B of KV room;
        // 8,192 · 70,272 = 575.67e6 B per sequence ⇒ 19,513 sequences.
        let room = 64.0 * 186e9;
        close(
            max_sequences_in_memory(room, 671e9, 8_192.0 * 70_272.0),
            19_513.0,
            0.001,
        );
        // At DeepSeek's mean 4,989-token context: 350.59e6 B ⇒ 32,040 ("≈32,000").
        close(
            max_sequences_in_memory(room, 671e9, 4_989.0 * 70_272.0),
            32_040.0,
            0.001,
        );
        assert_eq!(max_sequences_in_memory(100e9, 671e9, 1e6), 0.0);
    }

    #[test]
    fn pipelining_cuts_weights_per_chip_but_not_kv() {
        // CLAIMS.md C18: DeepSeek-V3 FP8, EP 64, micro-batch 2,400 sequences, 8k context, 70,272 B.
        // Weights 671e9/64 = 10.48 GB (P=1), 5.24 GB (P=2), 2.62 GB (P=4);
        // KV 2,400·8,192·70,272/64 = 21.59 GB in every case.
        let kv_seq = 8_192.0 * 70_272.0;
        for (pp, w) in [(1.0, 10.484e9), (2.0, 5.242e9), (4.0, 2.621e9)] {
            let (weights, kv) = pipeline_memory_per_chip(671e9, 2_400.0, kv_seq, 64.0, pp);
            close(weights, w, 0.001);
            close(kv, 21.587e9, 0.001);
        }
    }

    #[test]
    fn holding_costs_scale_with_time_and_retrieval_with_bytes() {
        // Holding 1 GB for an hour on a 24 TB drive priced at 1e-5 $/s: 1e9/24e12 · 3600 · 1e-5
        // = 1.5e-6 $; reading it back: 1e9/285e6 · 1e-5 = 3.5e-5 $.
        close(hold_cost(1e9, 3600.0, 24e12, 1e-5), 1.5e-6, 1e-9);
        close(retrieve_cost(1e9, 285e6, 1e-5), 3.509e-5, 0.001);
        // At the drain time the two are equal.
        let t = drain_time(24e12, 285e6);
        close(
            hold_cost(1e9, t, 24e12, 1e-5),
            retrieve_cost(1e9, 285e6, 1e-5),
            1e-12,
        );
        close(load_time(1e9, 285e6), 3.509, 0.001);
    }

    #[test]
    fn recomputing_a_prefix_costs_its_prefill_flops() {
        // 100k tokens of a 37B-active model on one H100 at FP8, 50% MFU, $2/hour:
        // 1e5 · 7.4e10 / (1.979e15 · 0.5) = 7.479 s; · 2/3600 $/s = 4.155e-3 $.
        close(
            recompute_cost(1e5, 37e9, 1.979e15, 0.5, 2.0 / 3600.0),
            4.155e-3,
            0.001,
        );
    }
}
