//! The data catalogue's schema as Rust types: what the loader fills from `data/*.yaml`, and
//! in-code fixtures with the same figures for tests and for chapters until the loader exists.
//!
//! Each YAML file is a map from a snake_case id (`h100`, `deepseek_v3`) to an entry; every entry
//! has `name`, `source` (URLs) and optionally `note`, which [`Sourced`] keeps beside the typed
//! value. Quantities in YAML are strings with units (`8 TB/s`), converted by the calc unit parser
//! into the SI `f64` fields below (bytes, bytes/s, FLOP/s, seconds, USD, USD/s, USD/token).
//! YAML → Rust field mapping:
//! - `hardware.yaml` → [`Chip`]: `flops.{bf16,fp8,int8,fp4}` → `flops`; `hbm.capacity`,
//!   `hbm.bandwidth` → `hbm_capacity`, `hbm_bandwidth`; `scale_up.bandwidth` (bidirectional),
//!   `scale_up.domain` → `scale_up_bandwidth`, `scale_up_domain`; `scale_out.bandwidth` →
//!   `scale_out_bandwidth`; `power`, `price` ($/hour → USD/s), `year`.
//! - `systems.yaml` → [`SystemEntry`] (resolve `chip` against the hardware map with
//!   [`Catalogue::system`]).
//! - `models.yaml` → [`Model`]: `attention.kind` picks the [`Attention`] variant;
//!   `experts.{routed,active,shared,moe_layers,expert_ffn}` → [`Moe`]; `sliding_window.{window,
//!   layers}` → [`SlidingWindow`]; `training_tokens` (tokens) → a count.
//! - `memory.yaml` → [`MemoryTier`] (`cost_per_gb.low` → `cost_per_byte`).
//! - `pricing.yaml` → [`ApiPrice`] ($/Mtok → USD per token).

use std::collections::BTreeMap;

use crate::engine::hardware::{Chip, System};
use crate::engine::memory::MemoryTier;
use crate::engine::model::{Attention, Model, Moe, SlidingWindow};

pub use crate::engine::hardware::PeakFlops;

/// A catalogue value with the provenance every entry carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    /// The typed figures.
    pub value: T,
    /// URLs the figures come from (each starts with `https://`).
    pub source: Vec<String>,
    /// Caveats: uncertain figures, conflicting sources, omitted fields.
    pub note: Option<String>,
}

/// An entry of `systems.yaml`: a chip id and how many of it, plus any system totals a source
/// states (dense FLOP/s; link totals bidirectional).
#[derive(Debug, Clone, PartialEq)]
pub struct SystemEntry {
    /// Display name.
    pub name: String,
    /// Id of the chip in `hardware.yaml`.
    pub chip: String,
    /// Number of chips.
    pub chips: u32,
    /// Chips per scale-up domain.
    pub scale_up_domain: u32,
    /// Stated total HBM capacity in bytes.
    pub hbm_capacity: Option<f64>,
    /// Stated total HBM bandwidth in bytes/s.
    pub hbm_bandwidth: Option<f64>,
    /// Stated total power in watts.
    pub power: Option<f64>,
}

/// A price tier of an API: USD per token.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTier {
    /// Input (cache-miss) tokens.
    pub input: f64,
    /// Cache-hit input tokens.
    pub cached_input: Option<f64>,
    /// Output tokens.
    pub output: f64,
}

/// An entry of `pricing.yaml`: one model's API prices, all in USD per token.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiPrice {
    /// Display name.
    pub name: String,
    /// Anthropic, OpenAI, Google, DeepSeek.
    pub provider: String,
    /// When the prices were read (ISO date or year-month).
    pub date_read: String,
    /// Standard tier.
    pub standard: PriceTier,
    /// Prompt-cache write, 5-minute lifetime.
    pub cache_write_5m: Option<f64>,
    /// Prompt-cache write, 1-hour lifetime.
    pub cache_write_1h: Option<f64>,
    /// Cache storage, USD per token per second.
    pub cache_storage: Option<f64>,
    /// Prompt length (tokens) above which `long_context` applies, and its prices.
    pub long_context: Option<(f64, PriceTier)>,
    /// Fast mode prices and its speed-up in output tokens per second.
    pub fast: Option<(PriceTier, f64)>,
    /// Priority processing prices.
    pub priority: Option<PriceTier>,
    /// Fraction off for batch processing.
    pub batch_discount: Option<f64>,
}

impl ApiPrice {
    /// Batch ratio `B_normal/B_fast = price_ratio · speed_ratio` implied by the fast tier's
    /// output price (see [`crate::engine::decode::batch_ratio_from_price_and_speed`]).
    pub fn fast_mode_batch_ratio(&self) -> Option<f64> {
        self.fast.as_ref().map(|(tier, speed)| {
            crate::engine::decode::batch_ratio_from_price_and_speed(
                tier.output / self.standard.output,
                *speed,
            )
        })
    }
}

/// Everything in `data/`, keyed by entry id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalogue {
    /// `hardware.yaml`.
    pub hardware: BTreeMap<String, Sourced<Chip>>,
    /// `systems.yaml`.
    pub systems: BTreeMap<String, Sourced<SystemEntry>>,
    /// `models.yaml`.
    pub models: BTreeMap<String, Sourced<Model>>,
    /// `memory.yaml`.
    pub memory: BTreeMap<String, Sourced<MemoryTier>>,
    /// `pricing.yaml`.
    pub pricing: BTreeMap<String, Sourced<ApiPrice>>,
}

impl Catalogue {
    /// The system `id` with its chip resolved, or `None` if either id is unknown.
    pub fn system(&self, id: &str) -> Option<System> {
        let entry = &self.systems.get(id)?.value;
        let chip = self.hardware.get(&entry.chip)?.value.clone();
        Some(System {
            name: entry.name.clone(),
            chip,
            chips: entry.chips,
            scale_up_domain: entry.scale_up_domain,
        })
    }
}

/// In-code copies of catalogue entries, with the same figures as `data/*.yaml` (a test checks
/// them against the YAML). Function names are the YAML ids.
pub mod fixtures {
    use super::*;

    const T: f64 = 1e12;
    const GB: f64 = 1e9;
    const GIB: f64 = 1_073_741_824.0;
    const HOUR: f64 = 3_600.0;

    #[allow(clippy::too_many_arguments)]
    fn chip(
        name: &str,
        flops: PeakFlops,
        hbm: (f64, f64),
        scale_up: (f64, u32),
        scale_out: Option<f64>,
        power: Option<f64>,
        price_per_hour: Option<f64>,
        year: Option<u32>,
    ) -> Chip {
        Chip {
            name: name.to_string(),
            flops,
            hbm_capacity: hbm.0,
            hbm_bandwidth: hbm.1,
            scale_up_bandwidth: scale_up.0,
            scale_up_domain: scale_up.1,
            scale_out_bandwidth: scale_out,
            power,
            price: price_per_hour.map(|p| p / HOUR),
            year,
        }
    }

    fn flops(bf16: f64, fp8: Option<f64>, fp4: Option<f64>) -> PeakFlops {
        PeakFlops {
            bf16: bf16 * T,
            fp8: fp8.map(|f| f * T),
            int8: None,
            fp4: fp4.map(|f| f * T),
        }
    }

    /// Network bits per second → bytes per second.
    fn gbit(gbps: f64) -> f64 {
        gbps * 1e9 / 8.0
    }

    /// NVIDIA A100 SXM 80GB.
    pub fn a100() -> Chip {
        let f = flops(312.0, None, None);
        chip(
            "NVIDIA A100 SXM 80GB",
            f,
            (80.0 * GB, 2.04 * T),
            (600.0 * GB, 8),
            None,
            None,
            None,
            None,
        )
    }

    /// NVIDIA H100 SXM5.
    pub fn h100() -> Chip {
        let f = flops(989.0, Some(1979.0), None);
        let out = Some(gbit(400.0));
        chip(
            "NVIDIA H100 SXM5",
            f,
            (80.0 * GB, 3.35 * T),
            (900.0 * GB, 8),
            out,
            Some(700.0),
            Some(2.95),
            Some(2022),
        )
    }

    /// NVIDIA H200 SXM.
    pub fn h200() -> Chip {
        let f = flops(989.0, Some(1979.0), None);
        let out = Some(gbit(400.0));
        chip(
            "NVIDIA H200 SXM",
            f,
            (141.0 * GB, 4.8 * T),
            (900.0 * GB, 8),
            out,
            Some(700.0),
            None,
            Some(2024),
        )
    }

    /// NVIDIA B200 (HGX, 1,000 W).
    pub fn b200() -> Chip {
        let f = flops(2250.0, Some(4500.0), Some(9000.0));
        let out = Some(gbit(400.0));
        chip(
            "NVIDIA B200 (HGX, 1,000 W)",
            f,
            (192.0 * GB, 8.0 * T),
            (1.8 * T, 8),
            out,
            Some(1000.0),
            None,
            Some(2024),
        )
    }

    /// NVIDIA GB200, per GPU in an NVL72 rack.
    pub fn gb200() -> Chip {
        let f = flops(2500.0, Some(5000.0), Some(10000.0));
        let out = Some(gbit(400.0));
        let name = "NVIDIA GB200 (per GPU in an NVL72 rack, 1,200 W)";
        chip(
            name,
            f,
            (186.0 * GB, 8.0 * T),
            (1.8 * T, 72),
            out,
            Some(1200.0),
            Some(4.54),
            Some(2024),
        )
    }

    /// NVIDIA GB300, per GPU in an NVL72 rack.
    pub fn gb300() -> Chip {
        let f = flops(2500.0, Some(5000.0), Some(15000.0));
        let out = Some(gbit(800.0));
        let name = "NVIDIA GB300 (per GPU in an NVL72 rack, Blackwell Ultra)";
        chip(
            name,
            f,
            (288.0 * GB, 8.0 * T),
            (1.8 * T, 72),
            out,
            Some(1400.0),
            None,
            Some(2025),
        )
    }

    /// AMD Instinct MI300X.
    pub fn mi300x() -> Chip {
        let f = flops(1307.4, Some(2614.9), None);
        let out = Some(gbit(400.0));
        chip(
            "AMD Instinct MI300X (OAM)",
            f,
            (192.0 * GB, 5.3 * T),
            (896.0 * GB, 8),
            out,
            Some(750.0),
            Some(1.99),
            Some(2023),
        )
    }

    /// Google TPU v4.
    pub fn tpu_v4() -> Chip {
        let f = flops(275.0, None, None);
        chip(
            "Google TPU v4",
            f,
            (32.0 * GIB, 1.2 * T),
            (270.0 * GB, 4096),
            None,
            None,
            None,
            None,
        )
    }

    /// Google TPU v5e.
    pub fn tpu_v5e() -> Chip {
        let f = flops(197.0, None, None);
        let out = Some(gbit(25.0));
        chip(
            "Google TPU v5e",
            f,
            (16.0 * GB, 819.0 * GB),
            (400.0 * GB, 256),
            out,
            None,
            Some(1.20),
            Some(2023),
        )
    }

    /// Google TPU v5p.
    pub fn tpu_v5p() -> Chip {
        let f = flops(459.0, None, None);
        let out = Some(gbit(50.0));
        chip(
            "Google TPU v5p",
            f,
            (95.0 * GIB, 2765.0 * GB),
            (1200.0 * GB, 8960),
            out,
            None,
            Some(4.20),
            Some(2023),
        )
    }

    /// Google TPU7x (Ironwood).
    pub fn ironwood() -> Chip {
        let f = flops(2307.0, Some(4614.0), None);
        chip(
            "Google TPU7x (Ironwood)",
            f,
            (192.0 * GIB, 7.37 * T),
            (1.2 * T, 9216),
            None,
            None,
            None,
            Some(2025),
        )
    }

    /// GB200 NVL72 rack as a [`System`].
    pub fn gb200_nvl72() -> System {
        System {
            name: "NVIDIA GB200 NVL72 (rack)".to_string(),
            chip: gb200(),
            chips: 72,
            scale_up_domain: 72,
        }
    }

    fn moe(routed: u32, active: u32, shared: u32, moe_layers: u32, expert_ffn: u32) -> Option<Moe> {
        Some(Moe {
            routed,
            active,
            shared,
            moe_layers,
            expert_ffn,
        })
    }

    fn gqa(heads: u32, kv_heads: u32, head_dim: u32) -> Attention {
        Attention::Gqa {
            heads,
            kv_heads,
            head_dim,
        }
    }

    fn mla(heads: u32) -> Attention {
        Attention::Mla {
            heads,
            kv_lora_rank: 512,
            qk_rope_head_dim: 64,
            qk_nope_head_dim: 128,
            v_head_dim: 128,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn model(
        name: &str,
        params: (f64, f64),
        layers: u32,
        hidden: u32,
        attention: Attention,
        moe: Option<Moe>,
        weight_bytes: f64,
        training_tokens: Option<f64>,
    ) -> Model {
        Model {
            name: name.to_string(),
            params_total: params.0,
            params_active: params.1,
            layers,
            hidden,
            attention,
            sliding_window: None,
            moe,
            weight_bytes,
            training_tokens,
        }
    }

    /// DeepSeek-V3 (671B total, 37B active, MLA, 256 routed experts, 8 active).
    pub fn deepseek_v3() -> Model {
        let experts = moe(256, 8, 1, 58, 2048);
        model(
            "DeepSeek-V3",
            (671e9, 37e9),
            61,
            7168,
            mla(128),
            experts,
            1.0,
            Some(14.8e12),
        )
    }

    /// Kimi K2 (1.026T total, 32B active, MLA, 384 routed experts, 8 active).
    pub fn kimi_k2() -> Model {
        let experts = moe(384, 8, 1, 60, 2048);
        model(
            "Kimi K2",
            (1.026e12, 32e9),
            61,
            7168,
            mla(64),
            experts,
            1.0,
            Some(15.5e12),
        )
    }

    /// Qwen3-235B-A22B.
    pub fn qwen3_235b() -> Model {
        let experts = moe(128, 8, 0, 94, 1536);
        model(
            "Qwen3-235B-A22B",
            (235e9, 22e9),
            94,
            4096,
            gqa(64, 4, 128),
            experts,
            2.0,
            Some(36e12),
        )
    }

    /// gpt-oss-120b, with its 18 sliding-window layers. Its MXFP4/BF16 mix has no single sourced
    /// bytes-per-weight; the fixture uses 0.5 (the MoE weights' 4 bits), an approximation.
    pub fn gpt_oss_120b() -> Model {
        let experts = moe(128, 4, 0, 36, 2880);
        let mut m = model(
            "gpt-oss-120b",
            (116.8e9, 5.1e9),
            36,
            2880,
            gqa(64, 8, 64),
            experts,
            0.5,
            None,
        );
        m.sliding_window = Some(SlidingWindow {
            window: 128,
            layers: 18,
        });
        m
    }

    /// Llama 3.1 8B.
    pub fn llama31_8b() -> Model {
        model(
            "Llama 3.1 8B",
            (8e9, 8e9),
            32,
            4096,
            gqa(32, 8, 128),
            None,
            2.0,
            Some(15e12),
        )
    }

    /// Llama 3.1 70B.
    pub fn llama31_70b() -> Model {
        model(
            "Llama 3.1 70B",
            (70e9, 70e9),
            80,
            8192,
            gqa(64, 8, 128),
            None,
            2.0,
            Some(15e12),
        )
    }

    /// Llama 3.1 405B.
    pub fn llama31_405b() -> Model {
        model(
            "Llama 3.1 405B",
            (405e9, 405e9),
            126,
            16384,
            gqa(128, 8, 128),
            None,
            2.0,
            Some(15.6e12),
        )
    }

    /// Mixtral 8x7B.
    pub fn mixtral_8x7b() -> Model {
        let experts = moe(8, 2, 0, 32, 14336);
        model(
            "Mixtral 8x7B",
            (46.7e9, 12.9e9),
            32,
            4096,
            gqa(32, 8, 128),
            experts,
            2.0,
            None,
        )
    }

    /// PaLM 540B as served in Pope et al. 2022 (multiquery attention, 48 heads of 256).
    pub fn palm_540b() -> Model {
        let attention = Attention::Mqa {
            heads: 48,
            head_dim: 256,
        };
        model(
            "PaLM 540B",
            (540e9, 540e9),
            118,
            18432,
            attention,
            None,
            2.0,
            None,
        )
    }

    fn tier(name: &str, capacity: f64, bandwidth: f64, cost_per_gb: Option<f64>) -> MemoryTier {
        MemoryTier {
            name: name.to_string(),
            capacity,
            bandwidth,
            cost_per_byte: cost_per_gb.map(|c| c / GB),
        }
    }

    /// LPDDR5X on one Grace CPU.
    pub fn grace_lpddr5x() -> MemoryTier {
        tier(
            "LPDDR5X on one Grace CPU (GB200 superchip)",
            480.0 * GB,
            512.0 * GB,
            None,
        )
    }

    /// Solidigm D5-P5336 61.44 TB QLC NVMe drive.
    pub fn qlc_d5_p5336() -> MemoryTier {
        tier(
            "NVMe SSD, QLC (Solidigm D5-P5336, 61.44 TB)",
            61.44 * T,
            7.4 * GB,
            None,
        )
    }

    /// Seagate Exos X24 24 TB HDD.
    pub fn hdd_exos_x24() -> MemoryTier {
        tier(
            "HDD, nearline 3.5-inch (Seagate Exos X24, 24 TB)",
            24.0 * T,
            285e6,
            Some(0.014),
        )
    }

    /// Claude Opus 4.6 API prices, including the fast-mode tier.
    pub fn claude_opus_4_6() -> ApiPrice {
        let per_m = |usd: f64| usd / 1e6;
        ApiPrice {
            name: "Claude Opus 4.6".to_string(),
            provider: "Anthropic".to_string(),
            date_read: "2026-04".to_string(),
            standard: PriceTier {
                input: per_m(5.0),
                cached_input: Some(per_m(0.5)),
                output: per_m(25.0),
            },
            cache_write_5m: Some(per_m(6.25)),
            cache_write_1h: Some(per_m(10.0)),
            cache_storage: None,
            long_context: Some((
                200_000.0,
                PriceTier {
                    input: per_m(10.0),
                    cached_input: None,
                    output: per_m(37.5),
                },
            )),
            fast: Some((
                PriceTier {
                    input: per_m(30.0),
                    cached_input: None,
                    output: per_m(150.0),
                },
                2.5,
            )),
            priority: None,
            batch_discount: Some(0.5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testutil::close;

    #[test]
    fn opus_fast_mode_implies_one_fifteenth_of_the_batch() {
        // $150 / $25 = 6x price at 2.5x speed ⇒ 6 × 2.5 = 15 (CLAIMS.md C10).
        let opus = fixtures::claude_opus_4_6();
        close(opus.fast_mode_batch_ratio().unwrap(), 15.0, 1e-12);
        // Cache hits are 0.1x and 5-minute writes 1.25x the base input price.
        let std = &opus.standard;
        close(std.cached_input.unwrap() / std.input, 0.1, 1e-12);
        close(opus.cache_write_5m.unwrap() / std.input, 1.25, 1e-12);
        close(std.output / std.input, 5.0, 1e-12);
    }

    #[test]
    fn a_system_resolves_its_chip() {
        let mut cat = Catalogue::default();
        let sourced = |value| Sourced {
            value,
            source: vec!["https://example.org".to_string()],
            note: None,
        };
        cat.hardware
            .insert("gb200".to_string(), sourced(fixtures::gb200()));
        cat.systems.insert(
            "gb200_nvl72".to_string(),
            Sourced {
                value: SystemEntry {
                    name: "NVIDIA GB200 NVL72 (rack)".to_string(),
                    chip: "gb200".to_string(),
                    chips: 72,
                    scale_up_domain: 72,
                    hbm_capacity: Some(13.4e12),
                    hbm_bandwidth: Some(576e12),
                    power: Some(120e3),
                },
                source: vec![],
                note: None,
            },
        );
        let rack = cat.system("gb200_nvl72").unwrap();
        assert_eq!(rack, fixtures::gb200_nvl72());
        // 72 × 8 TB/s = 576 TB/s; 72 × 186 GB = 13.39 TB ("13.4 TB").
        close(rack.hbm_bandwidth(), 576e12, 1e-12);
        close(rack.hbm_capacity(), 13.392e12, 1e-12);
        close(
            rack.peak_flops(crate::engine::hardware::Precision::Fp4),
            720e15,
            1e-12,
        );
        assert_eq!(rack.domains(), 1);
        assert_eq!(cat.system("nope"), None);
    }
}
