//! Hardware functions: `ridge`, `hardware_ratio`, `scale_ratio`, `drain_time`.

use crate::calc::{Dim, Param, Scope, Value};
use crate::engine::hardware::Precision;
use crate::engine::{memory, network};

use super::args::{add, number, q, q_of, rate};

pub(super) fn register(scope: &mut Scope) {
    let req = Param::required;
    let bf16 = || Param::optional("precision", Value::string("bf16"));
    add(
        scope,
        "ridge",
        &[req("hw"), bf16()],
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
    add(
        scope,
        "hardware_ratio",
        &[req("hw"), bf16()],
        number(),
        |a| {
            let h = a.hw("hw")?;
            let p = a.precision("precision")?.unwrap_or(Precision::Bf16);
            Ok(Value::number(h.chip.hardware_ratio(p)))
        },
    );
    add(scope, "scale_ratio", &[req("hw")], number(), |a| {
        let h = a.hw("hw")?;
        Ok(Value::number(network::scale_up_to_out_ratio(
            h.scale_up_per_direction()?,
            h.scale_out()?,
        )))
    });
    add(scope, "drain_time", &[req("x")], q_of(Dim::time()), |a| {
        let t = a.tier("x")?;
        Ok(q(memory::drain_time(t.capacity, t.bandwidth), Dim::time()))
    });
}
