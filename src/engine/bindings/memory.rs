//! Memory functions: `load_time`, `hold_cost`, `chips_to_hold`, `max_sequences`,
//! `retrieve_cost`, `recompute_cost`.

use crate::calc::{Dim, Param, Scope, Value};
use crate::engine::decode::weight_bytes_per_chip;
use crate::engine::{kv, memory};

use super::args::{AUTO, add, number, q, q_of, rate};

pub(super) fn register(scope: &mut Scope) {
    let req = Param::required;
    let own_precision = || Param::optional("precision", Value::string(""));
    let bytes = Dim::information;
    let per_hour = || rate(Dim::money(), Dim::time());
    add(
        scope,
        "load_time",
        &[req("bytes"), req("tier")],
        q_of(Dim::time()),
        move |a| {
            let b = a.quantity("bytes", &bytes(), "B")?;
            let t = a.tier("tier")?;
            Ok(q(memory::load_time(b, t.bandwidth), Dim::time()))
        },
    );
    add(
        scope,
        "hold_cost",
        &[req("bytes"), req("duration"), req("tier"), req("price")],
        q_of(Dim::money()),
        move |a| {
            let b = a.quantity("bytes", &bytes(), "B")?;
            let d = a.quantity("duration", &Dim::time(), "hour")?;
            let t = a.tier("tier")?;
            let p = a.quantity("price", &per_hour(), "$/hour")?;
            Ok(q(memory::hold_cost(b, d, t.capacity, p), Dim::money()))
        },
    );
    add(
        scope,
        "chips_to_hold",
        &[
            req("model"),
            req("hw"),
            Param::optional("kv", Value::quantity(0.0, Dim::information())),
            own_precision(),
        ],
        number(),
        move |a| {
            let m = a.model("model")?;
            let h = a.hw("hw")?;
            let kv = a.quantity("kv", &bytes(), "B")?;
            let (_, wb) = super::serving_precision(&m, a.precision("precision")?)?;
            Ok(Value::number(f64::from(memory::chips_to_hold(
                m.model.params_total * wb,
                kv,
                h.usable_hbm(),
            ))))
        },
    );
    add(
        scope,
        "max_sequences",
        &[
            req("model"),
            req("hw"),
            req("context"),
            Param::optional("chips", Value::string(AUTO)),
            own_precision(),
            Param::optional("kv_bytes", Value::number(2.0)),
            Param::optional("layout", Value::string("sharded")),
        ],
        number(),
        |a| {
            let m = a.model("model")?;
            let h = a.hw("hw")?;
            let context = a.positive_tokens("context")?;
            let chips = a.chips("chips", &h)?;
            let (_, wb) = super::serving_precision(&m, a.precision("precision")?)?;
            let b = a.bytes_per_value("kv_bytes")?;
            // Each chip holds its layout's share of the weights; the rest of its usable HBM
            // holds KV caches.
            let weights = weight_bytes_per_chip(&m.model, wb, chips, a.layout("layout")?);
            let n = f64::from(chips);
            Ok(Value::number(memory::max_sequences_in_memory(
                n * h.usable_hbm(),
                n * weights,
                kv::kv_bytes_per_sequence(&m.model, context, b),
            )))
        },
    );
    add(
        scope,
        "retrieve_cost",
        &[req("bytes"), req("tier"), req("price")],
        q_of(Dim::money()),
        move |a| {
            let b = a.quantity("bytes", &bytes(), "B")?;
            let t = a.tier("tier")?;
            let p = a.quantity("price", &per_hour(), "$/hour")?;
            Ok(q(memory::retrieve_cost(b, t.bandwidth, p), Dim::money()))
        },
    );
    add(
        scope,
        "recompute_cost",
        &[
            req("model"),
            req("hw"),
            req("tokens"),
            req("mfu"),
            Param::optional("price", Value::string(AUTO)),
            own_precision(),
        ],
        q_of(Dim::money()),
        |a| {
            let m = a.model("model")?;
            let h = a.hw("hw")?;
            let t = a.tokens("tokens")?;
            let u = a.positive("mfu")?;
            let price = a.price("price", &h)?;
            let (compute, _) = super::serving_precision(&m, a.precision("precision")?)?;
            Ok(q(
                memory::recompute_cost(
                    t,
                    m.model.params_active,
                    h.chip.flops.at(compute),
                    u,
                    price,
                ),
                Dim::money(),
            ))
        },
    );
}
