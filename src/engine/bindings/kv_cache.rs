//! KV-cache functions: `kv_bytes_per_token`, `kv_bytes_per_sequence`, `kv_balance_context`,
//! `attention_crossover`.

use crate::calc::{Dim, Param, Scope, Value};
use crate::engine::{decode, kv};

use super::args::{add, q, q_of, rate};

pub(super) fn register(scope: &mut Scope) {
    let req = Param::required;
    let kv_bytes = || Param::optional("kv_bytes", Value::number(2.0));
    add(
        scope,
        "kv_bytes_per_token",
        &[req("model"), kv_bytes()],
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
        &[req("model"), req("context"), kv_bytes()],
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
            req("model"),
            req("hw"),
            Param::optional("precision", Value::string("")),
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
        &[req("model")],
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
