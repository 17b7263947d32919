//! Serving functions: `decode`, `prefill`, `weight_floor`.

use std::cell::RefCell;
use std::sync::Arc;

use crate::calc::{Dim, Record, Returns, Scope, Value};
use crate::engine::decode::{self, Decode, DecodeConfig, ExpertReads, Overlap};
use crate::engine::prefill::{self, PrefillConfig};
use crate::engine::roofline::Bound;

use super::args::{
    AUTO, Args, add, bytes_per_value, flag, hw_record, layout, model_record, opt, plain, precision,
    price_per_hour, q, q_of, rate, record, req, tokens,
};

pub(super) fn register(scope: &mut Scope) {
    let auto = || Value::string(AUTO);
    let s = Value::string;
    let n = Value::number;
    let no = || Value::Bool(false);
    add(
        scope,
        "decode",
        &[
            req("model", model_record()),
            req("hw", hw_record()),
            opt("batch", plain(), n(1.0)),
            opt("context", tokens(), n(0.0)),
            opt("chips", plain(), auto()),
            opt("precision", precision(), s("")),
            opt("kv_bytes", bytes_per_value(), n(2.0)),
            opt("price", price_per_hour(), auto()),
            opt("overlap", flag(), Value::Bool(true)),
            opt("all_experts", flag(), no()),
            opt("attention_flops", flag(), no()),
            opt("layout", layout(), s("sharded")),
        ],
        decode_returns(),
        decode_fn,
    );
    add(
        scope,
        "prefill",
        &[
            req("model", model_record()),
            req("hw", hw_record()),
            req("tokens", tokens()),
            opt("chips", plain(), auto()),
            opt("precision", precision(), s("")),
            opt("batch", plain(), n(1.0)),
            opt("kv_bytes", bytes_per_value(), n(2.0)),
            opt("price", price_per_hour(), auto()),
            opt("attention_flops", flag(), no()),
        ],
        prefill_returns(),
        prefill_fn,
    );
    add(
        scope,
        "weight_floor",
        &[
            req("model", model_record()),
            req("hw", hw_record()),
            opt("chips", plain(), auto()),
            opt("precision", precision(), s("")),
            opt("layout", layout(), s("sharded")),
        ],
        q_of(Dim::time()),
        weight_floor_fn,
    );
}

/// What `decode` returns: the fields of [`decode_quantities`], then `bound`.
fn decode_returns() -> Returns {
    let zero = Decode {
        compute_time: 0.0,
        weight_time: 0.0,
        kv_time: 0.0,
        comm_time: 0.0,
        memory_time: 0.0,
        step_time: 0.0,
        tokens_per_s_user: 0.0,
        tokens_per_s_replica: 0.0,
        cost_per_token: 0.0,
        mfu: 0.0,
        distinct_experts: None,
        busiest_experts: None,
        flops: 0.0,
        weight_bytes: 0.0,
        kv_bytes: 0.0,
        bound: Bound::Compute,
    };
    let mut fields: Vec<(String, Returns)> = decode_quantities(&zero)
        .iter()
        .map(|(name, _, dim)| ((*name).to_string(), q_of(dim())))
        .collect();
    fields.push(("bound".into(), Returns::Str));
    Returns::Record(fields)
}

/// `decode(model, hw, batch, context, chips, precision, kv_bytes, price, overlap, all_experts,
/// attention_flops, layout)`.
fn decode_fn(a: &Args) -> Result<Value, String> {
    let m = a.model("model")?;
    let h = a.hw("hw")?;
    let batch = a.positive("batch")?;
    let context = a.tokens("context")?;
    let chips = a.chips("chips", &h)?;
    let (compute, weight_bytes) = super::serving_precision(&m, a.precision("precision")?)?;
    if m.model.moe.is_some() && chips > 1 {
        h.check_all_to_all(chips)?;
    }
    let mut cfg = DecodeConfig::new(&m.model, batch, context, chips);
    cfg.compute = compute;
    cfg.weight_bytes = weight_bytes;
    cfg.kv_bytes = a.bytes_per_value("kv_bytes")?;
    cfg.price = a.price("price", &h)?;
    cfg.overlap = if a.boolean("overlap")? {
        Overlap::Overlapped
    } else {
        Overlap::Serial
    };
    cfg.expert_reads = if a.boolean("all_experts")? {
        ExpertReads::All
    } else {
        ExpertReads::ExpectedDistinct
    };
    cfg.attention_flops = a.boolean("attention_flops")?;
    cfg.layout = a.layout("layout")?;
    Ok(decode_value(&decode::decode(&m.model, &h.chip, &cfg)))
}

/// A dimension, named by a function so that a table of them is a constant.
type DimOf = fn() -> Dim;

fn token_rate() -> Dim {
    rate(Dim::token(), Dim::time())
}

fn money_per_token() -> Dim {
    rate(Dim::money(), Dim::token())
}

/// The quantities of a `decode` result, in the record's order (`bound` follows them).
fn decode_quantities(d: &Decode) -> [(&'static str, f64, DimOf); 15] {
    [
        ("compute_time", d.compute_time, Dim::time),
        ("weight_time", d.weight_time, Dim::time),
        ("kv_time", d.kv_time, Dim::time),
        ("comm_time", d.comm_time, Dim::time),
        ("memory_time", d.memory_time, Dim::time),
        ("step_time", d.step_time, Dim::time),
        ("tokens_per_s_user", d.tokens_per_s_user, token_rate),
        ("tokens_per_s_replica", d.tokens_per_s_replica, token_rate),
        ("cost_per_token", d.cost_per_token, money_per_token),
        ("mfu", d.mfu, Dim::none),
        (
            "distinct_experts",
            d.distinct_experts.unwrap_or(0.0),
            Dim::none,
        ),
        (
            "busiest_experts",
            d.busiest_experts.unwrap_or(0.0),
            Dim::none,
        ),
        ("flops", d.flops, Dim::flop),
        ("weight_bytes", d.weight_bytes, Dim::information),
        ("kv_bytes", d.kv_bytes, Dim::information),
    ]
}

thread_local! {
    /// The last `decode` record this thread returned. A chart sweep reads one field of it and
    /// drops it at each of thousands of points; when nothing else holds it, the next call
    /// overwrites its numbers in place instead of allocating sixteen fields again.
    static LAST_DECODE: RefCell<Option<Arc<Record>>> = const { RefCell::new(None) };
}

/// A `decode` result as a record (see [`LAST_DECODE`] for why it may be one already built).
fn decode_value(d: &Decode) -> Value {
    let quantities = decode_quantities(d);
    let bound_name = bound(d.bound);
    LAST_DECODE.with(|cell| {
        let mut last = cell.borrow_mut();
        if let Some(arc) = last.as_mut()
            && let Some(record) = Arc::get_mut(arc)
        {
            for ((_, si, _), (_, field)) in quantities.iter().zip(record.fields.iter_mut()) {
                if let Value::Quantity { si: old, .. } = field {
                    *old = *si;
                }
            }
            if let Some((_, b)) = record.fields.last_mut()
                && b.as_str() != Some(bound_name)
            {
                *b = Value::string(bound_name);
            }
            return Value::Record(arc.clone());
        }
        let fresh = Value::record(
            quantities
                .iter()
                .map(|(name, si, dim)| (*name, q(*si, dim())))
                .chain([("bound", Value::string(bound_name))]),
        );
        if let Value::Record(r) = &fresh {
            *last = Some(r.clone());
        }
        fresh
    })
}

fn prefill_returns() -> Returns {
    let t = || q_of(Dim::time());
    record(&[
        ("step_time", t()),
        ("compute_time", t()),
        ("weight_time", t()),
        ("kv_time", t()),
        ("memory_time", t()),
        ("flops", q_of(Dim::flop())),
        ("cost_per_token", q_of(rate(Dim::money(), Dim::token()))),
        ("tokens_per_s", q_of(rate(Dim::token(), Dim::time()))),
        ("bound", Returns::Str),
    ])
}

/// `prefill(model, hw, tokens, chips, precision, batch, kv_bytes, price, attention_flops)`.
fn prefill_fn(a: &Args) -> Result<Value, String> {
    let m = a.model("model")?;
    let h = a.hw("hw")?;
    let len = a.positive_tokens("tokens")?;
    let chips = a.chips("chips", &h)?;
    let (compute, weight_bytes) = super::serving_precision(&m, a.precision("precision")?)?;
    let mut cfg = PrefillConfig::new(&m.model, len, chips);
    cfg.batch = a.positive("batch")?;
    cfg.compute = compute;
    cfg.weight_bytes = weight_bytes;
    cfg.kv_bytes = a.bytes_per_value("kv_bytes")?;
    cfg.price = a.price("price", &h)?;
    cfg.attention_flops = a.boolean("attention_flops")?;
    let p = prefill::prefill(&m.model, &h.chip, &cfg);
    let t = Dim::time;
    Ok(Value::record([
        ("step_time", q(p.time, t())),
        ("compute_time", q(p.compute_time, t())),
        ("weight_time", q(p.weight_time, t())),
        ("kv_time", q(p.kv_time, t())),
        ("memory_time", q(p.memory_time, t())),
        ("flops", q(p.flops, Dim::flop())),
        (
            "cost_per_token",
            q(p.cost_per_token, rate(Dim::money(), Dim::token())),
        ),
        (
            "tokens_per_s",
            q(p.tokens_per_s, rate(Dim::token(), Dim::time())),
        ),
        ("bound", Value::string(bound(p.bound))),
    ]))
}

/// `weight_floor(model, hw, chips, precision, layout)`: one chip's weights over its bandwidth.
fn weight_floor_fn(a: &Args) -> Result<Value, String> {
    let m = a.model("model")?;
    let h = a.hw("hw")?;
    let chips = a.chips("chips", &h)?;
    let (_, wb) = super::serving_precision(&m, a.precision("precision")?)?;
    let per_chip = decode::weight_bytes_per_chip(&m.model, wb, chips, a.layout("layout")?);
    Ok(q(per_chip / h.chip.hbm_bandwidth, Dim::time()))
}

fn bound(b: Bound) -> &'static str {
    match b {
        Bound::Compute => "compute",
        Bound::WeightRead => "weights",
        Bound::KvRead => "kv",
        Bound::Communication => "communication",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testdata;

    fn deepseek(batch: f64) -> Decode {
        let m = testdata::model("deepseek_v3");
        decode::decode(
            &m,
            &testdata::chip("gb200"),
            &DecodeConfig::new(&m, batch, 8192.0, 64),
        )
    }

    /// The record `decode` returns has exactly the fields, and dimensions, it declares.
    #[test]
    fn decode_returns_what_it_declares() {
        let Returns::Record(declared) = decode_returns() else {
            panic!("decode declares a record")
        };
        let Value::Record(record) = decode_value(&deepseek(8.0)) else {
            panic!("decode returns a record")
        };
        let names: Vec<&str> = record.names().collect();
        let declared_names: Vec<&str> = declared.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, declared_names);
        for (name, returns) in &declared {
            let field = record.get(name).unwrap();
            match returns {
                Returns::Quantity(dim) => assert_eq!(field.dim(), Some(dim), "{name}"),
                Returns::Str => assert!(field.as_str().is_some(), "{name}"),
                other => panic!("{name}: unexpected {other:?}"),
            }
        }
    }

    /// A record a caller still holds is never overwritten by the next call; one nobody holds is
    /// refilled with the new call's numbers.
    #[test]
    fn a_held_decode_record_keeps_its_values() {
        let held = decode_value(&deepseek(1.0));
        let step = |v: &Value| v.field("step_time").and_then(Value::as_si).unwrap();
        let first = step(&held);
        for b in [8.0, 64.0, 4096.0] {
            let v = decode_value(&deepseek(b));
            assert_eq!(step(&v), deepseek(b).step_time);
        }
        assert_eq!(step(&held), first);
        drop(held);
        // Nothing holds the last record now: it is refilled, and carries the new numbers.
        let again = decode_value(&deepseek(4096.0));
        assert_eq!(step(&again), deepseek(4096.0).step_time);
        assert_eq!(again.field("bound").and_then(Value::as_str), Some("kv"));
        drop(again);
        let small = decode_value(&deepseek(1.0));
        assert_eq!(step(&small), first);
    }
}
