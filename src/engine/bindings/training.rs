//! Training and utilisation functions: `training_flops`, `inference_flops`, `chinchilla_tokens`,
//! `overtraining`, `mfu`.

use crate::calc::{Dim, Registry, Scope, Value};
use crate::engine::{decode, training};

use super::args::{
    Args, add, any_quantity, model_record, number, params_or_model, q, q_of, rate, req, tokens,
};

pub(super) fn register(scope: &mut Scope) {
    let params_ = || req("params", params_or_model());
    add(
        scope,
        "training_flops",
        &[params_(), req("tokens", tokens())],
        q_of(Dim::flop()),
        |a| {
            let n = params(a)?;
            let d = a.tokens("tokens")?;
            Ok(q(training::training_flops(n, d), Dim::flop()))
        },
    );
    add(
        scope,
        "inference_flops",
        &[params_()],
        q_of(rate(Dim::flop(), Dim::token())),
        |a| {
            Ok(q(
                training::inference_flops_per_token(params(a)?),
                rate(Dim::flop(), Dim::token()),
            ))
        },
    );
    add(
        scope,
        "chinchilla_tokens",
        &[params_()],
        q_of(Dim::token()),
        |a| Ok(q(training::chinchilla_tokens(params(a)?), Dim::token())),
    );
    add(
        scope,
        "overtraining",
        &[req("model", model_record())],
        number(),
        |a| {
            let m = a.model("model")?;
            let d = m
                .model
                .training_tokens
                .ok_or_else(|| m.missing("training_tokens"))?;
            Ok(Value::number(training::overtraining_factor(
                d,
                m.model.params_active,
            )))
        },
    );
    add(
        scope,
        "mfu",
        &[
            req("flops", any_quantity()),
            req("time", any_quantity()),
            req("chips", any_quantity()),
            req("peak", any_quantity()),
        ],
        number(),
        mfu_fn,
    );
}

/// The `params` argument: a plain number, or a model record (its active parameters, those a
/// token's FLOPs are counted on).
fn params(a: &Args) -> Result<f64, String> {
    if matches!(a.value("params")?, Value::Record(_)) {
        return Ok(a.model("params")?.model.params_active);
    }
    a.count("params")
}

/// `mfu(flops, time, chips, peak)`: `flops/(time·chips·peak)`, whose units must cancel.
fn mfu_fn(a: &Args) -> Result<Value, String> {
    let (flops, flops_dim) = a.any_quantity("flops")?;
    let (time, time_dim) = a.any_quantity("time")?;
    let (chips, chips_dim) = a.any_quantity("chips")?;
    let (peak, peak_dim) = a.any_quantity("peak")?;
    let denominator = time_dim
        .mul(&chips_dim)
        .and_then(|d| d.mul(&peak_dim))
        .unwrap_or_default();
    let ratio = flops_dim.div(&denominator).unwrap_or_default();
    if !ratio.is_dimensionless() {
        return Err(format!(
            "flops/(time·chips·peak) must be a plain number, but its units leave {}; \
             pass FLOP, s, a count and FLOP/s (e.g. `mfu(2*540e9*2048 FLOP, 0.29 s, 64, \
             hardware.tpu_v4.flops.bf16)`)",
            Registry::shared_prelude().describe(&ratio)
        ));
    }
    Ok(Value::number(decode::mfu(flops, time, chips, peak)))
}
