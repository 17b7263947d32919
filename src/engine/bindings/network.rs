//! Network functions: `all_to_all_bytes_per_token`, `all_to_all_time`, `fraction_leaving`,
//! `pipeline_ratio`, `min_layers_per_stage`.

use crate::calc::{Dim, Scope, Value};
use crate::engine::network as net;

use super::args::{
    add, bytes_per_value, hw_record, model_record, number, opt, plain, q, q_of, rate, req,
};

pub(super) fn register(scope: &mut Scope) {
    let model = || req("model", model_record());
    let hw = || req("hw", hw_record());
    let activation_bytes = || opt("activation_bytes", bytes_per_value(), Value::number(2.0));
    add(
        scope,
        "all_to_all_bytes_per_token",
        &[model(), activation_bytes()],
        q_of(rate(Dim::information(), Dim::token())),
        |a| {
            let m = a.model("model")?;
            let b = a.bytes_per_value("activation_bytes")?;
            let e = m.moe()?;
            Ok(q(
                net::all_to_all_bytes_per_token(
                    f64::from(e.active),
                    f64::from(m.model.hidden),
                    b,
                    f64::from(e.moe_layers),
                ),
                rate(Dim::information(), Dim::token()),
            ))
        },
    );
    add(
        scope,
        "all_to_all_time",
        &[
            model(),
            hw(),
            req("batch", plain()),
            req("chips", plain()),
            activation_bytes(),
        ],
        q_of(Dim::time()),
        |a| {
            let m = a.model("model")?;
            let h = a.hw("hw")?;
            let batch = a.count("batch")?;
            let chips = a.chips("chips", &h)?;
            let b = a.bytes_per_value("activation_bytes")?;
            let e = m.moe()?;
            if chips == 1 {
                return Ok(q(0.0, Dim::time()));
            }
            h.check_all_to_all(chips)?;
            let per_token = net::all_to_all_bytes_per_token(
                f64::from(e.active),
                f64::from(m.model.hidden),
                b,
                f64::from(e.moe_layers),
            );
            let traffic = net::all_to_all_traffic(
                batch / f64::from(chips) * per_token,
                chips,
                h.chip.scale_up_domain,
            );
            let time = net::all_to_all_time(
                traffic,
                h.scale_up_per_direction()?,
                h.chip.scale_out_bandwidth,
            );
            Ok(q(time, Dim::time()))
        },
    );
    add(
        scope,
        "fraction_leaving",
        &[req("domains", plain())],
        number(),
        |a| {
            let d = a.count("domains")?;
            Ok(Value::number(net::fraction_leaving_domain(d)))
        },
    );
    add(
        scope,
        "pipeline_ratio",
        &[
            model(),
            hw(),
            opt("layers_per_stage", plain(), Value::number(1.0)),
        ],
        number(),
        |a| {
            let m = a.model("model")?;
            let h = a.hw("hw")?;
            let l = a.count("layers_per_stage")?;
            Ok(Value::number(net::pipeline_comm_ratio(
                f64::from(m.moe()?.active),
                l,
                h.scale_up_per_direction()?,
                h.scale_out()?,
            )))
        },
    );
    add(
        scope,
        "min_layers_per_stage",
        &[model(), hw()],
        number(),
        |a| {
            let m = a.model("model")?;
            let h = a.hw("hw")?;
            Ok(Value::number(f64::from(net::min_layers_per_stage(
                f64::from(m.moe()?.active),
                h.scale_up_per_direction()?,
                h.scale_out()?,
            ))))
        },
    );
}
