//! The engine as seen from calc: native functions registered in every chapter's prelude, which
//! turn data records (`hardware.h100`, `models.deepseek_v3`) into the engine's typed structs and
//! its results back into records.

use crate::calc::Scope;

/// Registers the engine's functions in `scope`.
pub fn register(_scope: &mut Scope) {}
