//! Mixture-of-experts and batching functions: `sparsity`, `optimal_batch`,
//! `optimal_batch_with_kv`, `per_expert_batch`, `expected_experts`, `busiest_experts`,
//! `tokens_per_expert`, `fast_mode`, `price_ratio`.

use crate::calc::{Returns, Scope, Value};
use crate::engine::records::describe;
use crate::engine::{decode, kv, moe};

use super::args::{
    Args, add, any_quantity, bytes_per_value, hw_record, model_record, number, opt, plain,
    precision, pricing_record, record, req, tokens,
};

pub(super) fn register(scope: &mut Scope) {
    let model = || req("model", model_record());
    let hw = || req("hw", hw_record());
    let own_precision = || opt("precision", precision(), Value::string(""));
    add(scope, "sparsity", &[model()], number(), |a| {
        Ok(Value::number(a.model("model")?.model.sparsity()))
    });
    add(
        scope,
        "optimal_batch",
        &[model(), hw(), own_precision()],
        number(),
        |a| {
            let m = a.model("model")?;
            let h = a.hw("hw")?;
            let r = super::ratio(&m, &h, a.precision("precision")?)?;
            Ok(Value::number(moe::optimal_batch(r, m.model.sparsity())))
        },
    );
    add(
        scope,
        "optimal_batch_with_kv",
        &[
            model(),
            hw(),
            req("context", tokens()),
            own_precision(),
            opt("kv_bytes", bytes_per_value(), Value::number(2.0)),
        ],
        record(&[("exists", Returns::Bool), ("batch", number())]),
        optimal_batch_with_kv_fn,
    );
    add(
        scope,
        "per_expert_batch",
        &[model(), hw(), own_precision()],
        number(),
        |a| {
            let m = a.model("model")?;
            let h = a.hw("hw")?;
            let r = super::ratio(&m, &h, a.precision("precision")?)?;
            let e = m.moe()?;
            Ok(Value::number(moe::per_expert_optimal_batch(
                r,
                f64::from(e.routed),
                f64::from(e.active),
            )))
        },
    );
    add(
        scope,
        "expected_experts",
        &[
            req("experts", plain()),
            req("active", plain()),
            req("batch", plain()),
        ],
        number(),
        |a| {
            let (e, k) = experts_and_active(a)?;
            let b = a.count("batch")?;
            Ok(Value::number(moe::expected_distinct_experts(e, k, b)))
        },
    );
    add(
        scope,
        "busiest_experts",
        &[model(), req("batch", plain()), req("chips", plain())],
        number(),
        |a| {
            let m = a.model("model")?;
            let e = m.moe()?;
            let b = a.count("batch")?;
            let chips = a.count("chips")?;
            if chips < 1.0 || chips.fract() != 0.0 || chips > f64::from(u32::MAX) {
                return Err(format!("`chips` must be a whole number ≥ 1, found {chips}"));
            }
            Ok(Value::number(moe::expected_busiest_experts(
                e.routed,
                f64::from(e.active),
                b,
                chips as u32,
            )))
        },
    );
    add(
        scope,
        "tokens_per_expert",
        &[model(), req("batch", plain())],
        number(),
        |a| {
            let m = a.model("model")?;
            let b = a.count("batch")?;
            let e = m.moe()?;
            Ok(Value::number(moe::tokens_per_expert(
                b,
                f64::from(e.routed),
                f64::from(e.active),
            )))
        },
    );
    add(
        scope,
        "fast_mode",
        &[req("price", pricing_record())],
        record(&[
            ("price_ratio", number()),
            ("speed_up", number()),
            ("batch_ratio", number()),
            ("normal_kv_over_weights", number()),
            ("fast_kv_over_weights", number()),
        ]),
        fast_mode_fn,
    );
    add(
        scope,
        "price_ratio",
        &[req("a", any_quantity()), req("b", any_quantity())],
        number(),
        |a| {
            let (x, y) = (a.value("a")?, a.value("b")?);
            let (Some(xs), Some(ys)) = (x.as_si(), y.as_si()) else {
                return Err(format!(
                    "`a` and `b` must be quantities, found {} and {}",
                    describe(x),
                    describe(y)
                ));
            };
            if x.dim() != y.dim() {
                return Err(format!(
                    "`a` and `b` must have the same dimension, found {} and {}",
                    describe(x),
                    describe(y)
                ));
            }
            Ok(Value::number(xs / ys))
        },
    );
}

/// `experts` and `active` of `expected_experts`: `0 ≤ active ≤ experts`, `experts > 0`.
fn experts_and_active(a: &Args) -> Result<(f64, f64), String> {
    let e = a.count("experts")?;
    let k = a.count("active")?;
    if e <= 0.0 || k < 0.0 || k > e {
        return Err(format!(
            "`active` must be between 0 and `experts` ({e}), found {k}"
        ));
    }
    Ok((e, k))
}

/// `optimal_batch_with_kv(model, hw, context, precision, kv_bytes)`.
fn optimal_batch_with_kv_fn(a: &Args) -> Result<Value, String> {
    let m = a.model("model")?;
    let h = a.hw("hw")?;
    let context = a.tokens("context")?;
    let (compute, wb) = super::serving_precision(&m, a.precision("precision")?)?;
    let b = a.bytes_per_value("kv_bytes")?;
    let found = moe::optimal_batch_with_kv(
        m.model.params_total,
        m.model.params_active,
        wb,
        h.chip.flops.at(compute),
        h.chip.hbm_bandwidth,
        kv::kv_bytes_per_sequence(&m.model, context, b),
    );
    Ok(match found {
        Some(batch) => Value::record([
            ("exists", Value::Bool(true)),
            ("batch", Value::number(batch)),
        ]),
        None => Value::record([("exists", Value::Bool(false))]),
    })
}

/// `fast_mode(price)` for a `pricing.yaml` entry with a `fast` tier.
fn fast_mode_fn(a: &Args) -> Result<Value, String> {
    let p = a.pricing("price")?;
    let (fast, speed) = p.fast()?;
    let price_ratio = fast / p.output;
    let mut fields = vec![
        ("price_ratio", Value::number(price_ratio)),
        ("speed_up", Value::number(speed)),
        (
            "batch_ratio",
            Value::number(decode::batch_ratio_from_price_and_speed(price_ratio, speed)),
        ),
    ];
    if let Some((x, y)) = decode::fast_mode_memory_bound(price_ratio, speed) {
        fields.push(("normal_kv_over_weights", Value::number(x)));
        fields.push(("fast_kv_over_weights", Value::number(y)));
    }
    Ok(Value::record(fields))
}
