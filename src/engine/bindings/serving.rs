//! Serving functions: `decode`, `prefill`, `weight_floor`.

use crate::calc::{Dim, Param, Returns, Scope, Value};
use crate::engine::decode::{self, DecodeConfig, ExpertReads, Overlap};
use crate::engine::prefill::{self, PrefillConfig};
use crate::engine::roofline::Bound;

use super::args::{AUTO, Args, add, number, q, q_of, rate, record};

pub(super) fn register(scope: &mut Scope) {
    let req = Param::required;
    let opt = Param::optional;
    let auto = || Value::string(AUTO);
    let s = Value::string;
    let n = Value::number;
    add(
        scope,
        "decode",
        &[
            req("model"),
            req("hw"),
            opt("batch", n(1.0)),
            opt("context", n(0.0)),
            opt("chips", auto()),
            opt("precision", s("")),
            opt("kv_bytes", n(2.0)),
            opt("price", auto()),
            opt("overlap", Value::Bool(true)),
            opt("all_experts", Value::Bool(false)),
            opt("attention_flops", Value::Bool(false)),
            opt("layout", s("sharded")),
        ],
        decode_returns(),
        decode_fn,
    );
    add(
        scope,
        "prefill",
        &[
            req("model"),
            req("hw"),
            req("tokens"),
            opt("chips", auto()),
            opt("precision", s("")),
            opt("batch", n(1.0)),
            opt("kv_bytes", n(2.0)),
            opt("price", auto()),
            opt("attention_flops", Value::Bool(false)),
        ],
        prefill_returns(),
        prefill_fn,
    );
    add(
        scope,
        "weight_floor",
        &[
            req("model"),
            req("hw"),
            opt("chips", auto()),
            opt("precision", s("")),
            opt("layout", s("sharded")),
        ],
        q_of(Dim::time()),
        weight_floor_fn,
    );
}

fn decode_returns() -> Returns {
    let t = || q_of(Dim::time());
    let token_rate = || q_of(rate(Dim::token(), Dim::time()));
    record(&[
        ("compute_time", t()),
        ("weight_time", t()),
        ("kv_time", t()),
        ("comm_time", t()),
        ("memory_time", t()),
        ("step_time", t()),
        ("tokens_per_s_user", token_rate()),
        ("tokens_per_s_replica", token_rate()),
        ("cost_per_token", q_of(rate(Dim::money(), Dim::token()))),
        ("mfu", number()),
        ("distinct_experts", number()),
        ("busiest_experts", number()),
        ("flops", q_of(Dim::flop())),
        ("weight_bytes", q_of(Dim::information())),
        ("kv_bytes", q_of(Dim::information())),
        ("bound", Returns::Str),
    ])
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
    let d = decode::decode(&m.model, &h.chip, &cfg);
    let t = Dim::time;
    let token_rate = || rate(Dim::token(), Dim::time());
    Ok(Value::record([
        ("compute_time", q(d.compute_time, t())),
        ("weight_time", q(d.weight_time, t())),
        ("kv_time", q(d.kv_time, t())),
        ("comm_time", q(d.comm_time, t())),
        ("memory_time", q(d.memory_time, t())),
        ("step_time", q(d.step_time, t())),
        ("tokens_per_s_user", q(d.tokens_per_s_user, token_rate())),
        (
            "tokens_per_s_replica",
            q(d.tokens_per_s_replica, token_rate()),
        ),
        (
            "cost_per_token",
            q(d.cost_per_token, rate(Dim::money(), Dim::token())),
        ),
        ("mfu", Value::number(d.mfu)),
        (
            "distinct_experts",
            Value::number(d.distinct_experts.unwrap_or(0.0)),
        ),
        (
            "busiest_experts",
            Value::number(d.busiest_experts.unwrap_or(0.0)),
        ),
        ("flops", q(d.flops, Dim::flop())),
        ("weight_bytes", q(d.weight_bytes, Dim::information())),
        ("kv_bytes", q(d.kv_bytes, Dim::information())),
        ("bound", Value::string(bound(d.bound))),
    ]))
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
