//! Accelerator chips and the systems built from them: what the roofline needs to know about the
//! hardware (peak dense FLOP/s per precision, HBM capacity and bandwidth, scale-up and scale-out
//! links, power and rental price).
//!
//! Conventions (the same as `data/hardware.yaml`, see `data/README.md`):
//! - every FLOP/s figure is **dense** peak matmul throughput (vendors' headline tensor figures
//!   often assume 2:4 sparsity; those are halved in the data);
//! - `scale_up_bandwidth` is the **bidirectional aggregate** per chip, as vendors quote it (H100
//!   NVLink "900 GB/s" = 450 GB/s each way); [`Chip::scale_up_per_direction`] gives the one-way
//!   figure that all-to-all arithmetic uses;
//! - `scale_out_bandwidth` is the chip's NIC bandwidth in **one direction** (400 Gb/s = 50 GB/s);
//! - all quantities are SI base units: bytes, seconds, FLOP, USD (prices are USD per second).

/// Number formats for weights, KV cache and matmul inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// 4-bit floats (NVFP4, MXFP4): half a byte per value.
    Fp4,
    /// 8-bit floats (e4m3/e5m2): one byte per value.
    Fp8,
    /// 8-bit integers: one byte per value (ESTI's int8 weights, computed at bf16).
    Int8,
    /// bfloat16 / fp16: two bytes per value.
    Bf16,
}

impl Precision {
    /// Bytes per stored value: FP4 0.5, FP8/INT8 1, BF16 2 (CLAIMS.md §1.1 `b_w`).
    pub fn bytes(self) -> f64 {
        match self {
            Precision::Fp4 => 0.5,
            Precision::Fp8 | Precision::Int8 => 1.0,
            Precision::Bf16 => 2.0,
        }
    }

    /// The precision whose width is `bytes` (0.5 → FP4, 1 → FP8, 2 → BF16), if any.
    pub fn from_bytes(bytes: f64) -> Option<Precision> {
        if bytes == 0.5 {
            Some(Precision::Fp4)
        } else if bytes == 1.0 {
            Some(Precision::Fp8)
        } else if bytes == 2.0 {
            Some(Precision::Bf16)
        } else {
            None
        }
    }
}

/// Peak dense matmul throughput of one chip per input precision, in FLOP/s (1 MAC = 2 FLOP).
#[derive(Debug, Clone, PartialEq)]
pub struct PeakFlops {
    /// BF16/FP16 dense FLOP/s (every accelerator here has it).
    pub bf16: f64,
    /// FP8 dense FLOP/s, where the chip has an FP8 speed-up.
    pub fp8: Option<f64>,
    /// INT8 dense OP/s, where published separately from FP8.
    pub int8: Option<f64>,
    /// FP4 dense FLOP/s, where the chip has an FP4 speed-up.
    pub fp4: Option<f64>,
}

impl PeakFlops {
    /// Peak FLOP/s at a precision. A chip without a native rate for a narrow format computes it
    /// at the next wider format it has (FP4 → FP8 → BF16; INT8 → FP8 → BF16), which is what
    /// weight-only quantisation does on such hardware (e.g. FP4 weights on an H100 run at FP8).
    pub fn at(&self, precision: Precision) -> f64 {
        match precision {
            Precision::Bf16 => self.bf16,
            Precision::Fp8 => self.fp8.unwrap_or(self.bf16),
            Precision::Int8 => self.int8.or(self.fp8).unwrap_or(self.bf16),
            Precision::Fp4 => self.fp4.or(self.fp8).unwrap_or(self.bf16),
        }
    }
}

/// One accelerator (one GPU, or one TPU chip).
#[derive(Debug, Clone, PartialEq)]
pub struct Chip {
    /// Display name, e.g. "NVIDIA H100 SXM5".
    pub name: String,
    /// Dense peak FLOP/s per precision.
    pub flops: PeakFlops,
    /// HBM capacity in bytes.
    pub hbm_capacity: f64,
    /// HBM bandwidth in bytes/s.
    pub hbm_bandwidth: f64,
    /// Scale-up link bandwidth per chip in bytes/s, bidirectional aggregate (NVLink, ICI, IF).
    pub scale_up_bandwidth: f64,
    /// Chips in one scale-up domain (8 for HGX, 72 for NVL72, a whole pod for TPUs).
    pub scale_up_domain: u32,
    /// Scale-out NIC bandwidth per chip in bytes/s, one direction; `None` where unpublished.
    pub scale_out_bandwidth: Option<f64>,
    /// Board power (TDP) in watts, where published.
    pub power: Option<f64>,
    /// A public rental price in USD per chip-second, where one is in the facts.
    pub price: Option<f64>,
    /// Year of launch, where sourced.
    pub year: Option<u32>,
}

impl Chip {
    /// One-way scale-up bandwidth in bytes/s: the vendor's bidirectional figure / 2
    /// (H100: 900 GB/s / 2 = 450 GB/s; SB gpus.md "450GB/s of full-duplex bandwidth").
    pub fn scale_up_per_direction(&self) -> f64 {
        self.scale_up_bandwidth / 2.0
    }

    /// Ridge point F/BW in FLOP per byte of HBM traffic (see [`crate::engine::roofline::ridge_point`]).
    pub fn ridge_point(&self, precision: Precision) -> f64 {
        crate::engine::roofline::ridge_point(self.flops.at(precision), self.hbm_bandwidth)
    }

    /// The talk's dimensionless ratio R = F·b_w/(2·BW) with compute and weights at the same
    /// precision (see [`crate::engine::roofline::hardware_ratio`]).
    pub fn hardware_ratio(&self, precision: Precision) -> f64 {
        crate::engine::roofline::hardware_ratio(
            self.flops.at(precision),
            self.hbm_bandwidth,
            precision.bytes(),
        )
    }

    /// Time to read the whole HBM once, capacity/bandwidth (see [`crate::engine::memory::drain_time`]).
    pub fn drain_time(&self) -> f64 {
        crate::engine::memory::drain_time(self.hbm_capacity, self.hbm_bandwidth)
    }
}

/// A serving or training system: `chips` copies of one chip, grouped into scale-up domains.
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    /// Display name, e.g. "NVIDIA GB200 NVL72".
    pub name: String,
    /// The chip it is built from.
    pub chip: Chip,
    /// Number of chips.
    pub chips: u32,
    /// Chips per scale-up domain (the all-to-all fabric).
    pub scale_up_domain: u32,
}

impl System {
    /// Aggregate dense FLOP/s: chips × per-chip peak.
    pub fn peak_flops(&self, precision: Precision) -> f64 {
        f64::from(self.chips) * self.chip.flops.at(precision)
    }

    /// Aggregate HBM bandwidth in bytes/s: chips × per-chip bandwidth (GB200 NVL72: 72 × 8 TB/s = 576 TB/s).
    pub fn hbm_bandwidth(&self) -> f64 {
        f64::from(self.chips) * self.chip.hbm_bandwidth
    }

    /// Aggregate HBM capacity in bytes: chips × per-chip capacity.
    pub fn hbm_capacity(&self) -> f64 {
        f64::from(self.chips) * self.chip.hbm_capacity
    }

    /// Number of scale-up domains the system spans, rounded up.
    pub fn domains(&self) -> u32 {
        self.chips.div_ceil(self.scale_up_domain.max(1))
    }
}
