//! The hardware/model engine: roofline physics of serving and training language models.
//!
//! Plain functions over typed records, all quantities `f64` in SI base units (seconds, bytes,
//! FLOP, FLOP/s, bytes/s, tokens, USD, watts; prices per second or per token). Each public
//! function's doc states its formula and where the idea comes from (CLAIMS.md sections, papers),
//! and is tested against a value worked out by hand from public figures.
//!
//! One file per topic:
//! - [`hardware`]: chips and systems; [`model`]: model architectures;
//! - [`roofline`]: ridge point, the talk's ratio R, compute/memory time;
//! - [`decode`]: a decode step (times, speed, cost, MFU), fast mode, attention FLOPs;
//! - [`prefill`]: processing a prompt;
//! - [`kv`]: KV-cache bytes; [`moe`]: sparsity, optimal batch, distinct experts;
//! - [`network`]: all-to-all and pipeline traffic over scale-up and scale-out links;
//! - [`memory`]: capacity, drain time, memory tiers for cached prefixes;
//! - [`training`]: 6·N·D, Chinchilla, over-training;
//! - [`records`]: the engine's schema, typed records decoded from `data/*.yaml` once at load;
//! - [`link`]: links `systems` entries to their chips after the data is loaded, and attaches
//!   each entry's typed records;
//! - [`bindings`]: the engine's functions as calc sees them, one file per area.

pub mod bindings;
pub mod decode;
pub mod hardware;
pub mod kv;
pub mod link;
pub mod memory;
pub mod model;
pub mod moe;
pub mod network;
pub mod prefill;
pub mod records;
pub mod roofline;
pub mod training;

#[cfg(test)]
mod data_tests;
#[cfg(test)]
pub(crate) mod testdata;

pub use decode::{Decode, DecodeConfig, decode, decode_on_system};
pub use hardware::{Chip, PeakFlops, Precision, System};
pub use model::{Attention, Model, Moe};
pub use prefill::{Prefill, PrefillConfig, prefill};
pub use roofline::Bound;

#[cfg(test)]
pub(crate) mod testutil {
    /// Asserts `actual` is within relative tolerance `tol` of `expected`.
    #[track_caller]
    pub fn close(actual: f64, expected: f64, tol: f64) {
        let err = ((actual - expected) / expected).abs();
        assert!(
            err < tol,
            "expected {expected} ± {:.3}%, got {actual} (off by {:.4}%)",
            tol * 100.0,
            err * 100.0
        );
    }
}
