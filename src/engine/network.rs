//! Moving activations between chips: the expert-parallel all-to-all (dispatch and combine) over
//! scale-up and scale-out links, the share of traffic that leaves a scale-up domain, and the
//! cost of a pipeline hop between domains.
//!
//! Sources: CLAIMS.md C12–C13 (EP all-to-all, (R−1)/R off-rack), C17 (pipeline condition
//! `2·k·L_stage ≥ W_up/W_out`), C19 (hop payload); SB gpus.md (450 GB/s NVLink vs 50 GB/s IB per
//! H100; GB200 4·18·400 Gb/s per 72 GPUs = 50 GB/s per GPU); DEEPEP (measured latencies).

/// All-to-all bytes one token sends per forward pass under expert parallelism:
/// `2 (dispatch + combine) · k · d · b_a` per MoE layer, times `moe_layers` (CLAIMS.md C17).
/// DeepSeek-V3, BF16 activations, one layer: 2·8·7,168·2 = 229,376 B.
pub fn all_to_all_bytes_per_token(
    active_experts: f64,
    hidden: f64,
    activation_bytes: f64,
    moe_layers: f64,
) -> f64 {
    2.0 * active_experts * hidden * activation_bytes * moe_layers
}

/// Fraction of uniformly routed traffic that leaves its scale-up domain when the expert layer
/// spans `domains` equal domains: `(R−1)/R` (CLAIMS.md C13: two racks ⇒ half).
pub fn fraction_leaving_domain(domains: f64) -> f64 {
    if domains <= 1.0 {
        0.0
    } else {
        (domains - 1.0) / domains
    }
}

/// Scale-up to scale-out bandwidth ratio per chip, both one-way: `W_up / W_out`
/// (CLAIMS.md C13: H100 450/50 = 9; GB200 900/50 = 18; GB300 900/100 = 9).
pub fn scale_up_to_out_ratio(scale_up_per_direction: f64, scale_out: f64) -> f64 {
    scale_up_per_direction / scale_out
}

/// The bytes one chip sends in an EP all-to-all, split by the link they cross.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AllToAllTraffic {
    /// Bytes to other chips of the same scale-up domain.
    pub scale_up_bytes: f64,
    /// Bytes to chips in other domains.
    pub scale_out_bytes: f64,
}

/// Per-chip egress of an expert-parallel all-to-all over `chips` chips grouped into domains of
/// `domain` chips, when the chip's share of the batch sends `bytes_per_chip` in total (its tokens'
/// dispatch plus the combine it returns). Destinations are uniform over all chips: a share
/// `(D−1)/n` stays in the domain off-chip, `(n−D)/n` leaves it, `1/n` stays on the chip
/// (for `n = R·D` the leaving share is `(R−1)/R`, as [`fraction_leaving_domain`]).
pub fn all_to_all_traffic(bytes_per_chip: f64, chips: u32, domain: u32) -> AllToAllTraffic {
    let n = f64::from(chips.max(1));
    let d = f64::from(domain.clamp(1, chips.max(1)));
    AllToAllTraffic {
        scale_up_bytes: bytes_per_chip * (d - 1.0) / n,
        scale_out_bytes: bytes_per_chip * (n - d) / n,
    }
}

/// Time of an all-to-all whose per-chip traffic is `traffic`, with both link kinds running in
/// parallel: `max(up_bytes / W_up, out_bytes / W_out)` (CLAIMS.md C13), bandwidths one-way per
/// chip. Traffic that must leave the domain with no scale-out link (`None`) takes forever.
pub fn all_to_all_time(
    traffic: AllToAllTraffic,
    scale_up_per_direction: f64,
    scale_out: Option<f64>,
) -> f64 {
    let up = traffic.scale_up_bytes / scale_up_per_direction;
    let out = match scale_out {
        _ if traffic.scale_out_bytes == 0.0 => 0.0,
        Some(w) => traffic.scale_out_bytes / w,
        None => f64::INFINITY,
    };
    up.max(out)
}

/// Ratio of scale-up all-to-all time to the pipeline hand-off time for one stage of `L_stage`
/// MoE layers: `2·k·L_stage · W_out/W_up` (CLAIMS.md C17). At ≥ 1 the slow inter-rack hop hides
/// behind the in-rack all-to-all. DeepSeek (k = 8), 1 layer per stage, W_up/W_out = 8: 2.
pub fn pipeline_comm_ratio(
    active_experts: f64,
    layers_per_stage: f64,
    scale_up_per_direction: f64,
    scale_out: f64,
) -> f64 {
    2.0 * active_experts * layers_per_stage * scale_out / scale_up_per_direction
}

/// Fewest MoE layers per pipeline stage that satisfy `2·k·L_stage ≥ W_up/W_out` (CLAIMS.md C17):
/// `ceil(W_up / (2·k·W_out))`. GB200 (ratio 18), k = 8: 2.
pub fn min_layers_per_stage(
    active_experts: f64,
    scale_up_per_direction: f64,
    scale_out: f64,
) -> u32 {
    (scale_up_per_direction / (2.0 * active_experts * scale_out)).ceil() as u32
}

/// Bytes handed from one pipeline stage to the next per decode step: `B·d·b_a` (one activation
/// vector per sequence; CLAIMS.md C19). B = 2,400, d = 7,168, BF16: 34.4 MB.
pub fn pipeline_hop_bytes(batch: f64, hidden: f64, activation_bytes: f64) -> f64 {
    batch * hidden * activation_bytes
}

/// Time of a pipeline hop when `chips` chips each send their share over their own scale-out
/// link: `latency + bytes/(chips·W_out)`. CLAIMS.md C19: 34.4 MB over 64 × 50 GB/s = 10.8 µs
/// plus latency (unsourced; DEEPEP's measured all-to-all is 77–370 µs).
pub fn pipeline_hop_time(bytes: f64, chips: f64, scale_out: f64, latency: f64) -> f64 {
    latency + bytes / (chips * scale_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testdata;
    use crate::engine::testutil::close;

    #[test]
    fn gb200_scale_up_is_18x_its_nic_and_h100_9x() {
        // GB200: NVLink 1.8 TB/s bidirectional = 900 GB/s each way; one 400 Gb/s NIC = 50 GB/s.
        // 900/50 = 18 (CLAIMS.md C13).
        let gb200 = testdata::chip("gb200");
        let ratio = scale_up_to_out_ratio(
            gb200.scale_up_per_direction(),
            gb200.scale_out_bandwidth.unwrap(),
        );
        close(ratio, 18.0, 1e-9);
        // H100: 900/2 = 450 GB/s vs 50 GB/s = 9; GB300: 900 vs 800 Gb/s = 100 GB/s ⇒ 9.
        let h100 = testdata::chip("h100");
        close(
            scale_up_to_out_ratio(
                h100.scale_up_per_direction(),
                h100.scale_out_bandwidth.unwrap(),
            ),
            9.0,
            1e-9,
        );
        let gb300 = testdata::chip("gb300");
        close(
            scale_up_to_out_ratio(
                gb300.scale_up_per_direction(),
                gb300.scale_out_bandwidth.unwrap(),
            ),
            9.0,
            1e-9,
        );
    }

    #[test]
    fn two_racks_send_half_the_tokens_off_rack() {
        assert_eq!(fraction_leaving_domain(1.0), 0.0);
        assert_eq!(fraction_leaving_domain(2.0), 0.5);
        close(fraction_leaving_domain(4.0), 0.75, 1e-12);
        // 144 chips in two 72-chip domains: (144−72)/144 = 1/2 of the bytes leave; 71/144 stay in.
        let t = all_to_all_traffic(1.0, 144, 72);
        close(t.scale_out_bytes, 0.5, 1e-12);
        close(t.scale_up_bytes, 71.0 / 144.0, 1e-12);
    }

    #[test]
    fn off_rack_traffic_dominates_a_two_rack_all_to_all() {
        // 1 GB per chip over 144 GB200s: up 0.493 GB / 900 GB/s = 0.55 ms; out 0.5 GB / 50 GB/s
        // = 10 ms. The slow link sets the time.
        let gb200 = testdata::chip("gb200");
        let t = all_to_all_traffic(1e9, 144, 72);
        let time = all_to_all_time(t, gb200.scale_up_per_direction(), gb200.scale_out_bandwidth);
        close(time, 0.5e9 / 50e9, 1e-9);
        // Inside one rack nothing leaves: 64 chips, (64−1)/64 of 1 GB over 900 GB/s = 1.09 ms.
        let t = all_to_all_traffic(1e9, 64, 72);
        assert_eq!(t.scale_out_bytes, 0.0);
        let time = all_to_all_time(t, gb200.scale_up_per_direction(), None);
        close(time, 63.0 / 64.0 * 1e9 / 900e9, 1e-9);
    }

    #[test]
    fn deepseek_all_to_all_bytes_per_token() {
        // Per MoE layer: 2 · 8 · 7,168 · 2 B = 229,376 B; 58 layers: 13,303,808 B.
        assert_eq!(
            all_to_all_bytes_per_token(8.0, 7_168.0, 2.0, 1.0),
            229_376.0
        );
        assert_eq!(
            all_to_all_bytes_per_token(8.0, 7_168.0, 2.0, 58.0),
            13_303_808.0
        );
    }

    #[test]
    fn pipeline_hides_the_slow_link_when_2k_layers_exceeds_the_ratio() {
        // CLAIMS.md C17: k = 8, 1 layer/stage, ratio 8: 2·8·1/8 = 2 ≥ 1.
        close(pipeline_comm_ratio(8.0, 1.0, 400e9, 50e9), 2.0, 1e-12);
        // GB200 ratio 18: 16/18 = 0.89 (marginal); two layers per stage suffice.
        close(pipeline_comm_ratio(8.0, 1.0, 900e9, 50e9), 0.889, 0.001);
        assert_eq!(min_layers_per_stage(8.0, 900e9, 50e9), 2);
        assert_eq!(min_layers_per_stage(8.0, 400e9, 50e9), 1);
    }

    #[test]
    fn a_pipeline_hop_moves_tens_of_megabytes_in_microseconds() {
        // CLAIMS.md C19: 2,400 · 7,168 · 2 B = 34,406,400 B; over 64 GPUs at 50 GB/s = 10.75 µs.
        let bytes = pipeline_hop_bytes(2_400.0, 7_168.0, 2.0);
        assert_eq!(bytes, 34_406_400.0);
        close(pipeline_hop_time(bytes, 64.0, 50e9, 0.0), 10.75e-6, 1e-3);
    }
}
