//! How an engine function is registered and reads its arguments. Each parameter declares what it
//! accepts ([`req`], [`opt`] with [`model_record`], [`tokens`], [`bytes_per_value`], …): calc
//! checks every argument against it before the call, in one rule
//! ([`crate::calc::rules::argument`]), so a calc block and a chart give the same located error and
//! a chart sweep fails once, before sweeping. The body then reads its arguments by name
//! (`a.model("model")`, `a.count("batch")`), never by position, and checks only their values
//! (positive, not negative, a whole number of chips); its result's dimensions are declared too,
//! so the chart compiler never calls it to learn them.

use std::sync::Arc;

use crate::calc::{ArgType, Dim, Param, Returns, Scope, Value};
use crate::engine::decode::HOUR;
use crate::engine::hardware::Precision;
use crate::engine::records::{
    self, HwRecord, ModelRecord, PricingRecord, TierRecord, describe, per,
};

/// Default of parameters whose default depends on another argument (`chips`, `price`).
pub(super) const AUTO: &str = "";

/// The talk's rental price, used when neither `price=` nor the hardware record gives one.
const TALK_PRICE_PER_HOUR: f64 = 2.0;

/// What a parameter accepts, and an example of a good argument for messages.
pub(super) type Accepts = (ArgType, Option<&'static str>);

/// A required parameter.
pub(super) fn req(name: &str, (accepts, hint): Accepts) -> Param {
    with_hint(Param::required(name).accepting(accepts), hint)
}

/// A parameter with a default (the function's own, not checked against `accepts`: `chips` and
/// `price` default to [`AUTO`]).
pub(super) fn opt(name: &str, (accepts, hint): Accepts, default: Value) -> Param {
    with_hint(Param::optional(name, default).accepting(accepts), hint)
}

fn with_hint(p: Param, hint: Option<&str>) -> Param {
    match hint {
        Some(h) => p.hint(h),
        None => p,
    }
}

/// A `models.yaml` entry.
pub(super) fn model_record() -> Accepts {
    (
        ArgType::Record("a model record (like `models.deepseek_v3`)"),
        None,
    )
}

/// A `hardware.yaml` chip or a `systems.yaml` system.
pub(super) fn hw_record() -> Accepts {
    (
        ArgType::Record(
            "a hardware or system record (like `hardware.h100` or `systems.gb200_nvl72`)",
        ),
        None,
    )
}

/// Something that holds bytes: a `memory.yaml` tier, or a chip's or system's HBM.
pub(super) fn tier_record() -> Accepts {
    (
        ArgType::Record(
            "a memory, hardware or system record (like `memory.hdd_exos_x24` or `hardware.h100`)",
        ),
        None,
    )
}

/// A `pricing.yaml` entry.
pub(super) fn pricing_record() -> Accepts {
    (
        ArgType::Record("a pricing record (like `pricing.claude_opus_4_6`)"),
        None,
    )
}

/// A plain (dimensionless) number: a batch, a count of chips or experts, a ratio.
pub(super) fn plain() -> Accepts {
    (ArgType::number(), None)
}

/// A token count: a plain number or a quantity in tokens.
pub(super) fn tokens() -> Accepts {
    (
        ArgType::number().or(ArgType::Quantity(Dim::token())),
        Some("`8192` or `8192 tokens`"),
    )
}

/// Bytes per stored value: a plain number or a quantity in bytes.
pub(super) fn bytes_per_value() -> Accepts {
    (
        ArgType::number().or(ArgType::Quantity(Dim::information())),
        Some("`2` for BF16, `1` for FP8"),
    )
}

/// A number format; `""` is the model's own (or BF16 for a hardware-only function).
pub(super) fn precision() -> Accepts {
    (
        ArgType::OneOf(&["bf16", "fp16", "fp8", "int8", "fp4", ""]),
        Some("`precision=\"fp8\"`"),
    )
}

/// How weights are laid out over the chips.
pub(super) fn layout() -> Accepts {
    (
        ArgType::OneOf(&["sharded", "dp_ep"]),
        Some(
            "`layout=\"sharded\"` (every weight spread over the chips) or `layout=\"dp_ep\"` \
             (attention and shared experts on every chip, routed experts spread)",
        ),
    )
}

pub(super) fn flag() -> Accepts {
    (ArgType::Bool, Some("`true` or `false`"))
}

/// A quantity of `dim`, with an example written in a unit of it.
pub(super) fn quantity(dim: Dim, example: &'static str) -> Accepts {
    (ArgType::Quantity(dim), Some(example))
}

/// A quantity of any dimension (the function relates the dimensions of several arguments).
pub(super) fn any_quantity() -> Accepts {
    (ArgType::AnyQuantity, None)
}

/// A parameter count: a plain number or a model record (its active parameters).
pub(super) fn params_or_model() -> Accepts {
    (
        ArgType::number().or(model_record().0),
        Some("`70e9` or `models.llama31_70b`"),
    )
}

/// A price per chip and time.
pub(super) fn price_per_hour() -> Accepts {
    quantity(per(Dim::money(), Dim::time()), "`2 $/hour`")
}

/// Registers `name` with its parameters and declared result, its body reading arguments by name.
pub(super) fn add(
    scope: &mut Scope,
    name: &str,
    params: &[Param],
    returns: Returns,
    f: impl Fn(&Args) -> Result<Value, String> + Send + Sync + 'static,
) {
    let names: Arc<[String]> = params.iter().map(|p| p.name.clone()).collect();
    scope.register_native(
        name,
        params,
        returns,
        Arc::new(move |values: &[Value]| {
            f(&Args {
                names: &names,
                values,
            })
        }),
    );
}

/// A declared result: a quantity of `dim`.
pub(super) fn q_of(dim: Dim) -> Returns {
    Returns::Quantity(dim)
}

/// A declared result: a plain number.
pub(super) fn number() -> Returns {
    Returns::Quantity(Dim::none())
}

/// A declared result: a record of these fields.
pub(super) fn record(fields: &[(&str, Returns)]) -> Returns {
    Returns::Record(
        fields
            .iter()
            .map(|(n, r)| ((*n).to_string(), r.clone()))
            .collect(),
    )
}

/// A quantity result.
pub(super) fn q(si: f64, dim: Dim) -> Value {
    Value::quantity(si, dim)
}

/// A rate: `a` per `b`.
pub(super) fn rate(a: Dim, b: Dim) -> Dim {
    per(a, b)
}

/// The arguments of one call, bound to the function's parameters (defaults filled in).
pub(super) struct Args<'a> {
    names: &'a [String],
    values: &'a [Value],
}

impl<'a> Args<'a> {
    /// The argument bound to parameter `name`.
    pub(super) fn value(&self, name: &str) -> Result<&'a Value, String> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| format!("internal: no argument `{name}`"))
    }

    pub(super) fn model(&self, name: &str) -> Result<Arc<ModelRecord>, String> {
        records::model(self.value(name)?, name)
    }

    pub(super) fn hw(&self, name: &str) -> Result<Arc<HwRecord>, String> {
        records::hw(self.value(name)?, name)
    }

    pub(super) fn tier(&self, name: &str) -> Result<Arc<TierRecord>, String> {
        records::tier(self.value(name)?, name)
    }

    pub(super) fn pricing(&self, name: &str) -> Result<Arc<PricingRecord>, String> {
        records::pricing(self.value(name)?, name)
    }

    /// A plain (dimensionless) number.
    pub(super) fn count(&self, name: &str) -> Result<f64, String> {
        let v = self.value(name)?;
        v.as_number().ok_or_else(|| undeclared(name, v))
    }

    /// A plain number above zero.
    pub(super) fn positive(&self, name: &str) -> Result<f64, String> {
        positive(self.count(name)?, name)
    }

    /// A token count ([`tokens`]), not negative.
    pub(super) fn tokens(&self, name: &str) -> Result<f64, String> {
        let v = self.value(name)?;
        let x = v
            .as_number()
            .or_else(|| v.as_f64_in(&Dim::token()))
            .ok_or_else(|| undeclared(name, v))?;
        if x < 0.0 {
            return Err(format!("`{name}` must not be negative, found {x}"));
        }
        Ok(x)
    }

    /// A token count above zero.
    pub(super) fn positive_tokens(&self, name: &str) -> Result<f64, String> {
        positive(self.tokens(name)?, name)
    }

    /// Bytes per stored value ([`bytes_per_value`]), positive.
    pub(super) fn bytes_per_value(&self, name: &str) -> Result<f64, String> {
        let v = self.value(name)?;
        let x = v
            .as_number()
            .or_else(|| v.as_f64_in(&Dim::information()))
            .ok_or_else(|| undeclared(name, v))?;
        positive(x, name)
    }

    /// A quantity of dimension `dim`, in base units.
    pub(super) fn quantity(&self, name: &str, dim: &Dim) -> Result<f64, String> {
        let v = self.value(name)?;
        v.as_f64_in(dim).ok_or_else(|| undeclared(name, v))
    }

    /// A quantity of any dimension: its value in base units and its dimension.
    pub(super) fn any_quantity(&self, name: &str) -> Result<(f64, Dim), String> {
        match self.value(name)? {
            Value::Quantity { si, dim, .. } => Ok((*si, dim.clone())),
            v => Err(undeclared(name, v)),
        }
    }

    pub(super) fn boolean(&self, name: &str) -> Result<bool, String> {
        let v = self.value(name)?;
        v.as_bool().ok_or_else(|| undeclared(name, v))
    }

    /// A precision string ([`precision`]); `""` gives `None` (the caller's default).
    pub(super) fn precision(&self, name: &str) -> Result<Option<Precision>, String> {
        let v = self.value(name)?;
        let s = v
            .as_str()
            .map(str::trim)
            .ok_or_else(|| undeclared(name, v))?;
        let is = |name: &str| s.eq_ignore_ascii_case(name);
        if s.is_empty() {
            Ok(None)
        } else if is("bf16") || is("fp16") {
            Ok(Some(Precision::Bf16))
        } else if is("fp8") {
            Ok(Some(Precision::Fp8))
        } else if is("int8") {
            Ok(Some(Precision::Int8))
        } else if is("fp4") {
            Ok(Some(Precision::Fp4))
        } else {
            Err(undeclared(name, v))
        }
    }

    /// The `chips` argument: a whole number ≥ 1, or (`AUTO`) a system's count, else 1.
    pub(super) fn chips(&self, name: &str, h: &HwRecord) -> Result<u32, String> {
        if self.value(name)?.as_str() == Some(AUTO) {
            return Ok(h.chips.unwrap_or(1));
        }
        let n = self.count(name)?;
        if n < 1.0 || n.fract() != 0.0 || n > f64::from(u32::MAX) {
            return Err(format!("`{name}` must be a whole number ≥ 1, found {n}"));
        }
        Ok(n as u32)
    }

    /// The `price` argument in $/s: as given, or the record's price, or the talk's $2/hour.
    pub(super) fn price(&self, name: &str, h: &HwRecord) -> Result<f64, String> {
        if self.value(name)?.as_str() == Some(AUTO) {
            return Ok(h.chip.price.unwrap_or(TALK_PRICE_PER_HOUR / HOUR));
        }
        self.quantity(name, &per(Dim::money(), Dim::time()))
    }

    /// How weights are laid out over the chips: `"sharded"` or `"dp_ep"`.
    pub(super) fn layout(&self, name: &str) -> Result<crate::engine::decode::Layout, String> {
        use crate::engine::decode::Layout;
        let v = self.value(name)?;
        match v.as_str().map(str::trim) {
            Some(s) if s.eq_ignore_ascii_case("sharded") => Ok(Layout::Sharded),
            Some(s) if s.eq_ignore_ascii_case("dp_ep") => Ok(Layout::DataParallelAttention),
            _ => Err(undeclared(name, v)),
        }
    }
}

/// An argument its parameter's declaration should have refused: calc checks every argument
/// before the call, so only a Rust caller that skips the check sees this.
fn undeclared(name: &str, v: &Value) -> String {
    format!(
        "`{name}` is not what the parameter declares: found {}",
        describe(v)
    )
}

pub(super) fn positive(x: f64, name: &str) -> Result<f64, String> {
    if x > 0.0 {
        Ok(x)
    } else {
        Err(format!("`{name}` must be positive, found {x}"))
    }
}
