//! Hardware functions: `ridge`, `hardware_ratio`, `scale_ratio`, `drain_time`.

use crate::calc::{Dim, Scope, Value};
use crate::engine::hardware::Precision;
use crate::engine::{memory, network};

use super::args::{add, hw_record, number, opt, precision, q, q_of, rate, req, tier_record};

pub(super) fn register(scope: &mut Scope) {
    let hw = || req("hw", hw_record());
    let bf16 = || opt("precision", precision(), Value::string("bf16"));
    add(
        scope,
        "ridge",
        &[hw(), bf16()],
        q_of(rate(Dim::flop(), Dim::information())),
        |a| {
            let h = a.hw("hw")?;
            let p = a.precision("precision")?.unwrap_or(Precision::Bf16);
            Ok(q(
                h.chip.ridge_point(p),
                rate(Dim::flop(), Dim::information()),
            ))
        },
    );
    add(scope, "hardware_ratio", &[hw(), bf16()], number(), |a| {
        let h = a.hw("hw")?;
        let p = a.precision("precision")?.unwrap_or(Precision::Bf16);
        Ok(Value::number(h.chip.hardware_ratio(p)))
    });
    add(scope, "scale_ratio", &[hw()], number(), |a| {
        let h = a.hw("hw")?;
        Ok(Value::number(network::scale_up_to_out_ratio(
            h.scale_up_per_direction()?,
            h.scale_out()?,
        )))
    });
    add(
        scope,
        "drain_time",
        &[req("x", tier_record())],
        q_of(Dim::time()),
        |a| {
            let t = a.tier("x")?;
            Ok(q(memory::drain_time(t.capacity, t.bandwidth), Dim::time()))
        },
    );
}
