//! KV-cache functions: `kv_bytes_per_token`, `kv_bytes_per_sequence`, `kv_balance_context`,
//! `attention_crossover`.

use crate::calc::{Dim, Scope, Value};
use crate::engine::{decode, kv};

use super::args::{
    add, bytes_per_value, hw_record, model_record, opt, precision, q, q_of, rate, req, tokens,
};

pub(super) fn register(scope: &mut Scope) {
    let model = || req("model", model_record());
    let kv_bytes = || opt("kv_bytes", bytes_per_value(), Value::number(2.0));
    add(
        scope,
        "kv_bytes_per_token",
        &[model(), kv_bytes()],
        q_of(rate(Dim::information(), Dim::token())),
        |a| {
            let m = a.model("model")?;
            let b = a.bytes_per_value("kv_bytes")?;
            Ok(q(
                kv::kv_bytes_per_token(&m.model, b),
                rate(Dim::information(), Dim::token()),
            ))
        },
    );
    add(
        scope,
        "kv_bytes_per_sequence",
        &[model(), req("context", tokens()), kv_bytes()],
        q_of(Dim::information()),
        |a| {
            let m = a.model("model")?;
            let l = a.tokens("context")?;
            let b = a.bytes_per_value("kv_bytes")?;
            Ok(q(
                kv::kv_bytes_per_sequence(&m.model, l, b),
                Dim::information(),
            ))
        },
    );
    add(
        scope,
        "kv_balance_context",
        &[
            model(),
            req("hw", hw_record()),
            opt("precision", precision(), Value::string("")),
            kv_bytes(),
        ],
        q_of(Dim::token()),
        |a| {
            let m = a.model("model")?;
            let h = a.hw("hw")?;
            let (compute, _) = super::serving_precision(&m, a.precision("precision")?)?;
            let b = a.bytes_per_value("kv_bytes")?;
            let l = kv::kv_balance_context(
                m.model.params_active,
                h.chip.flops.at(compute),
                h.chip.hbm_bandwidth,
                kv::kv_bytes_per_token(&m.model, b),
            );
            Ok(q(l, Dim::token()))
        },
    );
    add(
        scope,
        "attention_crossover",
        &[model()],
        q_of(Dim::token()),
        |a| {
            let m = a.model("model")?;
            Ok(q(
                decode::attention_crossover_context(&m.model),
                Dim::token(),
            ))
        },
    );
}
