//! Memory functions: `load_time`, `hold_cost`, `chips_to_hold`, `max_sequences`,
//! `retrieve_cost`, `recompute_cost`.

use crate::calc::{Dim, Scope, Value};
use crate::engine::decode::weight_bytes_per_chip;
use crate::engine::{kv, memory};

use super::args::{
    AUTO, add, bytes_per_value, hw_record, layout, model_record, number, opt, plain, precision,
    price_per_hour, q, q_of, quantity, rate, req, tier_record, tokens,
};

pub(super) fn register(scope: &mut Scope) {
    let model = || req("model", model_record());
    let hw = || req("hw", hw_record());
    let tier = || req("tier", tier_record());
    let stored = || req("bytes", quantity(Dim::information(), "`40 GB`"));
    let own_precision = || opt("precision", precision(), Value::string(""));
    let bytes = Dim::information;
    let per_hour = || rate(Dim::money(), Dim::time());
    add(
        scope,
        "load_time",
        &[stored(), tier()],
        q_of(Dim::time()),
        move |a| {
            let b = a.quantity("bytes", &bytes())?;
            let t = a.tier("tier")?;
            Ok(q(memory::load_time(b, t.bandwidth), Dim::time()))
        },
    );
    add(
        scope,
        "hold_cost",
        &[
            stored(),
            req("duration", quantity(Dim::time(), "`1 hour`")),
            tier(),
            req("price", price_per_hour()),
        ],
        q_of(Dim::money()),
        move |a| {
            let b = a.quantity("bytes", &bytes())?;
            let d = a.quantity("duration", &Dim::time())?;
            let t = a.tier("tier")?;
            let p = a.quantity("price", &per_hour())?;
            Ok(q(memory::hold_cost(b, d, t.capacity, p), Dim::money()))
        },
    );
    add(
        scope,
        "chips_to_hold",
        &[
            model(),
            hw(),
            opt(
                "kv",
                quantity(Dim::information(), "`kv=40 GB`"),
                Value::quantity(0.0, Dim::information()),
            ),
            own_precision(),
        ],
        number(),
        move |a| {
            let m = a.model("model")?;
            let h = a.hw("hw")?;
            let kv = a.quantity("kv", &bytes())?;
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
            model(),
            hw(),
            req("context", tokens()),
            opt("chips", plain(), Value::string(AUTO)),
            own_precision(),
            opt("kv_bytes", bytes_per_value(), Value::number(2.0)),
            opt("layout", layout(), Value::string("sharded")),
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
        &[stored(), tier(), req("price", price_per_hour())],
        q_of(Dim::money()),
        move |a| {
            let b = a.quantity("bytes", &bytes())?;
            let t = a.tier("tier")?;
            let p = a.quantity("price", &per_hour())?;
            Ok(q(memory::retrieve_cost(b, t.bandwidth, p), Dim::money()))
        },
    );
    add(
        scope,
        "recompute_cost",
        &[
            model(),
            hw(),
            req("tokens", tokens()),
            req("mfu", plain()),
            opt("price", price_per_hour(), Value::string(AUTO)),
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
