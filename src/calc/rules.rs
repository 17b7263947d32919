//! The language's dimension rules, written once: pure functions of dimensions (and the spans to
//! point at) that return the result's dimension or a complete [`Diagnostic`].
//!
//! Both the evaluator ([`super::eval`], which knows every value) and the sweep compiler
//! ([`super::compile`], which knows only dimensions until it runs) call these, so an ill-typed
//! expression gets the same code and message in a calc block, an inline value and a chart: the
//! property test `the_dimension_checker_agrees_with_evaluation` compares them. The rules cover
//! arithmetic and powers, comparisons and their tolerances, conversion with `in`, the math
//! functions, the aggregates (`min`, `max`, `sum`, `mean`), the branches of `if`, how arguments
//! are bound to a function's parameters, what a native function's argument must be (its declared
//! [`ArgType`], [`argument`]) and which fields a record has.

use super::ast::{BinOp, Span, UnitExpr};
use super::format;
use super::units::{Dim, Rat, Registry};
use super::value::{ArgType, Builtin, Param, Value};
use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, did_you_mean};

/// The error for `lhs op rhs` with different dimensions: caret under the operator, each side
/// labelled with its dimension in words. `verb` completes "cannot {verb} {lhs} and {rhs}".
fn dim_mismatch(
    reg: &Registry,
    verb: &str,
    op_span: Span,
    lhs: (Span, &Dim),
    rhs: (Span, &Dim),
) -> Diagnostic {
    let message = format!(
        "cannot {verb} {} and {}",
        reg.describe(lhs.1),
        reg.describe(rhs.1)
    );
    mismatch(reg, message, op_span, lhs, rhs)
        .with_help("both sides must have the same dimension; check the units, or convert one side")
}

/// A dimension-mismatch `message` with the caret at `span` and each side labelled.
fn mismatch(
    reg: &Registry,
    message: String,
    span: Span,
    (lhs_span, ld): (Span, &Dim),
    (rhs_span, rd): (Span, &Dim),
) -> Diagnostic {
    let d = Diagnostic::error(Code::DimensionMismatch, message)
        .with_span(span)
        .with_label(format!("{} vs {}", short(reg, ld), short(reg, rd)));
    // The items of a list value have no spans of their own: both would underline the list.
    if lhs_span == rhs_span {
        return d;
    }
    d.with_secondary(lhs_span, format!("this is {}", reg.describe(ld)))
        .with_secondary(rhs_span, format!("this is {}", reg.describe(rd)))
}

fn short(reg: &Registry, d: &Dim) -> String {
    if d.is_dimensionless() {
        "a plain number".into()
    } else {
        reg.base_unit_string(d)
    }
}

/// The dimension of `lhs op rhs`. `exponent` is the right side's value when it is known (always
/// in the evaluator; in the compiler when it does not depend on the swept variable): a quantity
/// with a unit can only be raised to a known, simple power.
pub fn arithmetic(
    reg: &Registry,
    op: BinOp,
    op_span: &Span,
    (lhs_span, ld): (&Span, &Dim),
    (rhs_span, rd): (&Span, &Dim),
    exponent: Option<f64>,
) -> Result<Dim, Diagnostic> {
    match op {
        BinOp::Add | BinOp::Sub => {
            if ld != rd {
                let verb = if op == BinOp::Add { "add" } else { "subtract" };
                return Err(dim_mismatch(
                    reg,
                    verb,
                    op_span.clone(),
                    (lhs_span.clone(), ld),
                    (rhs_span.clone(), rd),
                ));
            }
            Ok(ld.clone())
        }
        BinOp::Mul => ld.mul(rd).ok_or_else(|| exponent_overflow(op_span.clone())),
        BinOp::Div => ld.div(rd).ok_or_else(|| exponent_overflow(op_span.clone())),
        BinOp::Pow => {
            if !rd.is_dimensionless() {
                return Err(Diagnostic::error(
                    Code::DimensionMismatch,
                    format!(
                        "an exponent must be a plain number, not {}",
                        reg.describe(rd)
                    ),
                )
                .with_span(rhs_span.clone())
                .with_label("has a unit"));
            }
            match exponent {
                Some(k) => pow_dim(ld, k, rhs_span.clone()),
                None if ld.is_dimensionless() => Ok(Dim::none()),
                None => Err(Diagnostic::error(
                    Code::BadExponent,
                    "a quantity with a unit cannot be raised to a varying power",
                )
                .with_span(rhs_span.clone())
                .with_label("depends on the swept variable")),
            }
        }
    }
}

/// The dimension of `base ^ exponent`.
fn pow_dim(base: &Dim, exp: f64, span: Span) -> Result<Dim, Diagnostic> {
    if base.is_dimensionless() {
        return Ok(Dim::none());
    }
    let r = Rat::from_f64(exp).ok_or_else(|| {
        Diagnostic::error(
            Code::BadExponent,
            "a quantity with a unit can only be raised to a simple fraction",
        )
        .with_span(span.clone())
        .with_label(format!("exponent {exp}"))
        .with_help("use a whole number or a fraction such as 1/2")
    })?;
    base.pow(r).ok_or_else(|| exponent_overflow(span))
}

fn exponent_overflow(span: Span) -> Diagnostic {
    Diagnostic::error(Code::Overflow, "a dimension's exponent grew too large")
        .with_span(span)
        .with_label("here")
}

/// Both sides of a comparison must have one dimension.
pub fn compare(
    reg: &Registry,
    op_span: &Span,
    (lhs_span, ld): (&Span, &Dim),
    (rhs_span, rd): (&Span, &Dim),
) -> Result<(), Diagnostic> {
    if ld == rd {
        return Ok(());
    }
    Err(dim_mismatch(
        reg,
        "compare",
        op_span.clone(),
        (lhs_span.clone(), ld),
        (rhs_span.clone(), rd),
    ))
}

/// A tolerance (`± t`) is relative when written as a percentage, else in the sides' dimension.
pub fn tolerance(
    reg: &Registry,
    tol_span: &Span,
    tol_dim: &Dim,
    sides: &Dim,
    relative: bool,
) -> Result<(), Diagnostic> {
    if relative || tol_dim == sides {
        return Ok(());
    }
    Err(Diagnostic::error(
        Code::DimensionMismatch,
        format!(
            "the tolerance is {}, but the sides are {}",
            reg.describe(tol_dim),
            reg.describe(sides)
        ),
    )
    .with_span(tol_span.clone())
    .with_label("tolerance")
    .with_help("write it as a percentage (`± 10%`) or in the sides' unit"))
}

/// A negative tolerance would make `≈` never hold, whatever the sides: a typo.
pub fn negative_tolerance(tol_span: &Span) -> Diagnostic {
    Diagnostic::error(Code::BadTolerance, "a tolerance cannot be negative")
        .with_span(tol_span.clone())
        .with_label("negative tolerance")
        .with_help("write it as a size: `a ≈ b ± 5%`")
}

/// `x in unit` needs `unit` to measure what `x` measures: the caret under the unit, the value
/// labelled. `magnitude` (base units), when known, picks the suggested unit's size.
pub fn convert(
    reg: &Registry,
    (value_span, from): (&Span, &Dim),
    (unit, to): (&UnitExpr, &Dim),
    magnitude: Option<f64>,
) -> Result<(), Diagnostic> {
    if from == to {
        return Ok(());
    }
    Err(Diagnostic::error(
        Code::DimensionMismatch,
        format!(
            "cannot convert {} to `{}`, which is {}",
            reg.describe(from),
            unit.text,
            reg.describe(to)
        ),
    )
    .with_span(unit.span.clone())
    .with_label(format!("this is {}", reg.describe(to)))
    .with_secondary(
        value_span.clone(),
        format!("this is {}", reg.describe(from)),
    )
    .with_help(format!(
        "a unit for {} would be `{}`",
        reg.describe(from),
        format::choose(from, reg, magnitude.unwrap_or(1.0), 3).unit_text()
    )))
}

/// Factor and dimension of a unit written in the source.
pub fn resolve_unit(reg: &Registry, u: &UnitExpr) -> Result<(f64, Dim), Diagnostic> {
    let mut factor = 1.0;
    let mut dim = Dim::none();
    for t in &u.terms {
        let Some((f, d)) = reg.lookup(&t.name) else {
            return Err(super::parser::unknown_unit(&t.name, t.span.clone(), reg));
        };
        factor *= f.powf(t.exp.to_f64());
        dim = d
            .pow(t.exp)
            .and_then(|d| dim.mul(&d))
            .ok_or_else(|| exponent_overflow(t.span.clone()))?;
    }
    Ok((factor, dim))
}

/// The dimension a math builtin (`sqrt`, `log`, `abs`, `round`…) returns for an argument of
/// `dim`: `sqrt` halves it, `abs` keeps it, the rest need a plain number. `magnitude`, when known,
/// sizes the unit suggested in the help.
pub fn math(
    b: Builtin,
    dim: &Dim,
    reg: &Registry,
    arg_span: &Span,
    magnitude: Option<f64>,
) -> Result<Dim, Diagnostic> {
    match b {
        Builtin::Sqrt => {
            let half = Rat::new(1, 2).unwrap_or(Rat::ONE);
            dim.pow(half)
                .ok_or_else(|| exponent_overflow(arg_span.clone()))
        }
        Builtin::Abs => Ok(dim.clone()),
        _ if !dim.is_dimensionless() => Err(Diagnostic::error(
            Code::DimensionMismatch,
            format!(
                "`{}` needs a plain number, found {}",
                b.name(),
                reg.describe(dim)
            ),
        )
        .with_span(arg_span.clone())
        .with_label(format!("this is {}", reg.describe(dim)))
        .with_help(format!(
            "divide by a unit first, e.g. `{}(x / (1 {}))`",
            b.name(),
            format::choose(dim, reg, magnitude.unwrap_or(1.0), 3).unit_text()
        ))),
        Builtin::Log
        | Builtin::Log2
        | Builtin::Log10
        | Builtin::Exp
        | Builtin::Ceil
        | Builtin::Floor
        | Builtin::Round => Ok(Dim::none()),
        _ => Ok(dim.clone()),
    }
}

/// The values of an aggregate (`min`, `max`, `sum`, `mean`) must share one dimension: checked
/// item by item against the first.
pub fn aggregate(
    reg: &Registry,
    b: Builtin,
    call_span: &Span,
    (first_span, first): (&Span, &Dim),
    (item_span, item): (&Span, &Dim),
) -> Result<(), Diagnostic> {
    if first == item {
        return Ok(());
    }
    let message = format!(
        "cannot combine {} and {} in `{}`",
        reg.describe(first),
        reg.describe(item),
        b.name()
    );
    Err(mismatch(
        reg,
        message,
        call_span.clone(),
        (first_span.clone(), first),
        (item_span.clone(), item),
    )
    .with_help(format!(
        "every value of `{}` must have the same dimension",
        b.name()
    )))
}

/// The two branches of an `if` whose condition is only known later must have one dimension.
pub fn branches(
    reg: &Registry,
    if_span: &Span,
    (then_span, td): (&Span, &Dim),
    (else_span, ed): (&Span, &Dim),
) -> Result<(), Diagnostic> {
    if td == ed {
        return Ok(());
    }
    Err(Diagnostic::error(
        Code::DimensionMismatch,
        format!(
            "the branches of `if` are {} and {}",
            reg.describe(td),
            reg.describe(ed)
        ),
    )
    .with_span(if_span.clone())
    .with_secondary(then_span.clone(), format!("this is {}", reg.describe(td)))
    .with_secondary(else_span.clone(), format!("this is {}", reg.describe(ed)))
    .with_help("both branches must have the same dimension"))
}

pub fn overflow(span: Span, x: f64) -> Diagnostic {
    let what = if x.is_nan() {
        "the result is not a number (NaN)"
    } else {
        "the result overflows to infinity"
    };
    Diagnostic::error(Code::Overflow, what.to_string())
        .with_span(span)
        .with_label("here")
}

pub fn division_by_zero(op_span: &Span, rhs_span: &Span) -> Diagnostic {
    Diagnostic::error(Code::DivisionByZero, "division by zero")
        .with_span(op_span.clone())
        .with_label("dividing here")
        .with_secondary(rhs_span.clone(), "this is zero")
}

/// A value of the wrong kind (`kind` as [`Value::kind`] words it: "a quantity", "a list").
pub fn wrong_kind(span: Span, expected: &str, kind: &str) -> Diagnostic {
    Diagnostic::error(
        Code::TypeMismatch,
        format!("expected {expected}, found {kind}"),
    )
    .with_span(span)
    .with_label(format!("this is {kind}"))
}

pub fn type_mismatch(span: Span, expected: &str, v: &Value) -> Diagnostic {
    wrong_kind(span, expected, v.kind())
}

/// A condition (`if`, `and`, `not`) that is not a boolean.
pub fn expected_boolean(span: Span, kind: &str) -> Diagnostic {
    wrong_kind(span, "a boolean (true or false)", kind)
        .with_help("compare quantities with `<`, `>`, `==` to get a boolean")
}

/// `.name` on something that is not a record.
pub fn not_a_record(base_span: Span, name: &str, kind: &str) -> Diagnostic {
    wrong_kind(base_span, "a record", kind)
        .with_help(format!("`.{name}` reads a field of a record"))
}

/// What is known of an argument when it is checked against its parameter: its value (always in
/// the evaluator; in the compiler when it does not depend on the swept variable), or, for one
/// computed at each point of a sweep, only its kind and dimension.
#[derive(Clone, Copy, Debug)]
pub enum Found<'a> {
    Value(&'a Value),
    Quantity(&'a Dim),
    Bool,
    List,
}

impl Found<'_> {
    /// The argument in words, for messages: its dimension for a quantity.
    fn describe(&self, reg: &Registry) -> String {
        match self {
            Found::Value(Value::Quantity { dim, .. }) => short_dim(reg, dim),
            Found::Quantity(dim) => short_dim(reg, dim),
            Found::Value(Value::Str(s)) => format!("the string {:?}", &**s),
            Found::Value(Value::Record(r)) => match r.get("name").and_then(Value::as_str) {
                Some(name) => format!("the record {name:?}"),
                None => "a record".into(),
            },
            Found::Value(v) => v.kind().into(),
            Found::Bool => "a boolean".into(),
            Found::List => "a list".into(),
        }
    }

    fn dim(&self) -> Option<&Dim> {
        match self {
            Found::Value(v) => v.dim(),
            Found::Quantity(d) => Some(d),
            _ => None,
        }
    }
}

/// A dimension in words, a dimensionless one as "a plain number".
fn short_dim(reg: &Registry, d: &Dim) -> String {
    if d.is_dimensionless() {
        "a plain number".into()
    } else {
        reg.describe(d)
    }
}

/// Whether an argument of what `found` says fits `accepts`.
fn fits(accepts: &ArgType, found: &Found) -> bool {
    match accepts {
        ArgType::Any => true,
        ArgType::Quantity(d) => found.dim() == Some(d),
        ArgType::AnyQuantity => found.dim().is_some(),
        ArgType::Bool => matches!(found, Found::Bool | Found::Value(Value::Bool(_))),
        ArgType::OneOf(set) => match found {
            Found::Value(Value::Str(s)) => set.iter().any(|c| c.eq_ignore_ascii_case(s.trim())),
            _ => false,
        },
        ArgType::Record(_) => matches!(found, Found::Value(Value::Record(_))),
        ArgType::Either(a, b) => fits(a, found) || fits(b, found),
    }
}

/// A declared type in words (`a plain number or tokens`), for messages and the engine reference.
pub fn describe_type(reg: &Registry, t: &ArgType) -> String {
    match t {
        ArgType::Any => "any value".into(),
        ArgType::Quantity(d) => short_dim(reg, d),
        ArgType::AnyQuantity => "a quantity".into(),
        ArgType::Bool => "true or false".into(),
        ArgType::OneOf(set) => {
            let quoted: Vec<String> = set.iter().map(|s| format!("{s:?}")).collect();
            format!("one of {}", quoted.join(", "))
        }
        ArgType::Record(words) => (*words).to_string(),
        ArgType::Either(a, b) => format!("{} or {}", describe_type(reg, a), describe_type(reg, b)),
    }
}

/// An argument given to parameter `param` of native function `fname` must be what the parameter
/// declares: a quantity of its dimension, a boolean, one of its strings, a record. The error
/// underlines the argument, names the function, the parameter, the expected and the found
/// dimension or type, and gives the parameter's example where it has one. The code is
/// `dimension-mismatch` for a quantity of the wrong dimension, else `type-mismatch`.
pub fn argument(
    reg: &Registry,
    fname: &str,
    param: &Param,
    found: Found,
    arg_span: &Span,
) -> Result<(), Diagnostic> {
    if fits(&param.accepts, &found) {
        return Ok(());
    }
    let expected = describe_type(reg, &param.accepts);
    let what = found.describe(reg);
    let wants_quantity = |t: &ArgType| matches!(t, ArgType::Quantity(_) | ArgType::AnyQuantity);
    let wants_only_quantities = match &param.accepts {
        ArgType::Either(a, b) => wants_quantity(a) && wants_quantity(b),
        t => wants_quantity(t),
    };
    let code = if wants_only_quantities && found.dim().is_some() {
        Code::DimensionMismatch
    } else {
        Code::TypeMismatch
    };
    let d = Diagnostic::error(
        code,
        format!(
            "`{}` of `{fname}` must be {expected}, found {what}",
            param.name
        ),
    )
    .with_span(arg_span.clone())
    .with_label(format!("this is {what}"));
    Err(match &param.hint {
        Some(hint) => d.with_help(format!("for example {hint}")),
        None if code == Code::DimensionMismatch => d.with_help(format!(
            "check the units: `{}` takes {expected}",
            param.name
        )),
        None => d,
    })
}

/// `.name` on a record without that field (`names` are the fields it has): the field
/// underlined, the record labelled, and the nearest name or the list of fields in the help.
pub fn unknown_field(name: &str, names: &[&str], name_span: &Span, base_span: &Span) -> Diagnostic {
    let d = Diagnostic::error(Code::UnknownField, format!("no field `{name}`"))
        .with_span(name_span.clone())
        .with_label("unknown field")
        .with_secondary(base_span.clone(), "this record");
    let list = if names.len() > 12 {
        format!("{}, …", names[..12].join(", "))
    } else {
        names.join(", ")
    };
    match did_you_mean(name, names.iter().copied()) {
        Some(s) => d.with_help(format!("did you mean `{s}`? fields: {list}")),
        None if names.is_empty() => d.with_help("the record has no fields"),
        None => d.with_help(format!("fields: {list}")),
    }
}

/// An evaluated argument (a [`Value`], or a compiled one in [`super::compile`]).
#[derive(Clone, Debug)]
pub struct ArgVal<T = Value> {
    pub name: Option<(String, Span)>,
    pub value: T,
    pub span: Span,
}

/// A function's parameters as [`bind`] takes them: names, and defaults turned into `T` by
/// `default` (the evaluator keeps the [`Value`]; the compiler wraps it as a constant).
pub fn param_spec<'p, T>(
    params: impl IntoIterator<Item = (&'p str, Option<&'p Value>)>,
    default: impl Fn(&Value) -> T,
) -> Vec<(&'p str, Option<T>)> {
    params
        .into_iter()
        .map(|(n, d)| (n, d.map(&default)))
        .collect()
}

/// Matches arguments to parameters: positional first, then named; fills defaults.
pub fn bind<T: Clone>(
    fname: &str,
    params: &[(&str, Option<T>)],
    args: Vec<ArgVal<T>>,
    call: &Span,
) -> Result<Vec<T>, Diagnostic> {
    let bound = bind_given(fname, params, args, call)?;
    Ok(bound.into_iter().map(|(v, _)| v).collect())
}

/// As [`bind`], each value with the span of the argument it came from (`None` for a default), so
/// that an argument can be checked against its parameter ([`argument`]) where it was written.
pub fn bind_given<T: Clone>(
    fname: &str,
    params: &[(&str, Option<T>)],
    args: Vec<ArgVal<T>>,
    call: &Span,
) -> Result<Vec<(T, Option<Span>)>, Diagnostic> {
    let signature = || {
        let ps: Vec<String> = params
            .iter()
            .map(|(n, d)| {
                if d.is_some() {
                    format!("{n}=…")
                } else {
                    n.to_string()
                }
            })
            .collect();
        format!("{fname}({})", ps.join(", "))
    };
    let mut slots: Vec<Option<(T, Option<Span>)>> = vec![None; params.len()];
    let mut positional = 0;
    let given = args.len();
    for a in args {
        let i = match a.name {
            None => {
                if positional >= params.len() {
                    return Err(Diagnostic::error(
                        Code::WrongArgumentCount,
                        format!(
                            "`{fname}` takes {} argument{}, but {given} were given",
                            params.len(),
                            if params.len() == 1 { "" } else { "s" }
                        ),
                    )
                    .with_span(a.span)
                    .with_label("extra argument")
                    .with_help(format!("the signature is {}", signature())));
                }
                positional += 1;
                positional - 1
            }
            Some((n, nspan)) => {
                let Some(i) = params.iter().position(|(p, _)| *p == n) else {
                    let d = Diagnostic::error(
                        Code::UnknownArgument,
                        format!("`{fname}` has no parameter `{n}`"),
                    )
                    .with_span(nspan)
                    .with_label("unknown parameter");
                    return Err(match did_you_mean(&n, params.iter().map(|(p, _)| *p)) {
                        Some(s) => d.with_help(format!(
                            "did you mean `{s}`? the signature is {}",
                            signature()
                        )),
                        None => d.with_help(format!("the signature is {}", signature())),
                    });
                };
                if slots[i].is_some() {
                    return Err(Diagnostic::error(
                        Code::DuplicateArgument,
                        format!("argument `{n}` is given twice"),
                    )
                    .with_span(nspan)
                    .with_label("given again here"));
                }
                i
            }
        };
        slots[i] = Some((a.value, Some(a.span)));
    }
    let mut out = Vec::with_capacity(params.len());
    for ((pname, default), slot) in params.iter().zip(slots) {
        match slot.or_else(|| default.clone().map(|d| (d, None))) {
            Some(v) => out.push(v),
            None => {
                return Err(Diagnostic::error(
                    Code::MissingArgument,
                    format!("missing argument `{pname}` for `{fname}`"),
                )
                .with_span(call.clone())
                .with_label(format!("`{pname}` not given"))
                .with_help(format!("the signature is {}", signature())));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time_and_bytes() -> (Registry, Dim, Dim) {
        (Registry::prelude(), Dim::time(), Dim::information())
    }

    #[test]
    fn adding_different_dimensions_points_at_the_operator_and_labels_both_sides() {
        let (reg, t, b) = time_and_bytes();
        let d = arithmetic(
            &reg,
            BinOp::Add,
            &(4..5),
            (&(0..3), &t),
            (&(6..9), &b),
            None,
        )
        .unwrap_err();
        assert_eq!(d.code, "dimension-mismatch");
        assert_eq!(d.span, Some(4..5));
        assert_eq!(d.secondary.len(), 2);
        assert!(d.message.starts_with("cannot add time"), "{}", d.message);
    }

    #[test]
    fn a_varying_power_is_allowed_only_on_plain_numbers() {
        let (reg, t, _) = time_and_bytes();
        let none = Dim::none();
        let plain = arithmetic(
            &reg,
            BinOp::Pow,
            &(1..2),
            (&(0..1), &none),
            (&(2..3), &none),
            None,
        );
        assert_eq!(plain.unwrap(), Dim::none());
        let d = arithmetic(
            &reg,
            BinOp::Pow,
            &(1..2),
            (&(0..1), &t),
            (&(2..3), &none),
            None,
        )
        .unwrap_err();
        assert_eq!(d.code, "bad-exponent");
        let squared = arithmetic(
            &reg,
            BinOp::Pow,
            &(1..2),
            (&(0..1), &t),
            (&(2..3), &none),
            Some(2.0),
        );
        assert_eq!(squared.unwrap(), t.mul(&t).unwrap());
    }

    #[test]
    fn a_conversion_to_another_dimension_underlines_the_unit_and_suggests_one() {
        let (reg, t, _) = time_and_bytes();
        let unit = super::super::parser::parse_expression("1 in GB", &reg).unwrap();
        let super::super::ast::ExprKind::Convert { unit: Some(u), .. } = unit.kind else {
            panic!("not a conversion");
        };
        let (_, to) = resolve_unit(&reg, &u).unwrap();
        let d = convert(&reg, (&(0..1), &t), (&u, &to), Some(0.003)).unwrap_err();
        assert_eq!(d.span, Some(u.span.clone()));
        assert_eq!(d.secondary[0].span, 0..1);
        assert_eq!(d.help.as_deref(), Some("a unit for time would be `ms`"));
    }

    #[test]
    fn aggregates_and_math_keep_or_refuse_dimensions() {
        let (reg, t, b) = time_and_bytes();
        let d = aggregate(&reg, Builtin::Max, &(0..10), (&(4..5), &t), (&(7..8), &b)).unwrap_err();
        assert!(
            d.message.starts_with("cannot combine time and ") && d.message.ends_with(" in `max`"),
            "{}",
            d.message
        );
        assert_eq!(math(Builtin::Abs, &t, &reg, &(0..1), None).unwrap(), t);
        assert_eq!(
            math(Builtin::Log, &t, &reg, &(0..1), None)
                .unwrap_err()
                .code,
            "dimension-mismatch"
        );
    }

    fn tokens_param() -> Param {
        Param::required("context")
            .accepting(ArgType::number().or(ArgType::Quantity(Dim::token())))
            .hint("`8192` or `8192 tokens`")
    }

    #[test]
    fn an_argument_of_the_wrong_dimension_names_the_function_parameter_and_both_dimensions() {
        let reg = Registry::prelude();
        let p = Param::required("batch").accepting(ArgType::number());
        let gb = Value::quantity(3e9, Dim::information());
        let d = argument(&reg, "decode", &p, Found::Value(&gb), &(20..24)).unwrap_err();
        assert_eq!(d.code, "dimension-mismatch");
        assert_eq!(
            d.message,
            "`batch` of `decode` must be a plain number, found bytes"
        );
        assert_eq!(d.span, Some(20..24));
        assert_eq!(d.label.as_deref(), Some("this is bytes"));
        assert_eq!(
            d.help.as_deref(),
            Some("check the units: `batch` takes a plain number")
        );
        // Known only by its dimension (a swept argument in a chart): the same diagnostic.
        let swept = argument(
            &reg,
            "decode",
            &p,
            Found::Quantity(&Dim::information()),
            &(20..24),
        )
        .unwrap_err();
        assert_eq!(
            (swept.code, &swept.message, &swept.label, &swept.help),
            (d.code, &d.message, &d.label, &d.help)
        );
        let plain = Value::number(8.0);
        assert!(argument(&reg, "decode", &p, Found::Value(&plain), &(0..1)).is_ok());
    }

    #[test]
    fn either_type_accepts_both_and_its_example_is_the_help() {
        let reg = Registry::prelude();
        let p = tokens_param();
        for ok in [Value::number(8192.0), Value::quantity(8192.0, Dim::token())] {
            assert!(argument(&reg, "f", &p, Found::Value(&ok), &(0..1)).is_ok());
        }
        let d = argument(&reg, "f", &p, Found::Quantity(&Dim::time()), &(0..1)).unwrap_err();
        assert_eq!(d.code, "dimension-mismatch");
        assert_eq!(
            d.message,
            "`context` of `f` must be a plain number or tokens, found time"
        );
        assert_eq!(
            d.help.as_deref(),
            Some("for example `8192` or `8192 tokens`")
        );
        // A boolean where a number is expected is a type error, not a dimension one.
        let d = argument(&reg, "f", &p, Found::Bool, &(0..1)).unwrap_err();
        assert_eq!(d.code, "type-mismatch");
        assert_eq!(d.label.as_deref(), Some("this is a boolean"));
    }

    #[test]
    fn strings_records_and_booleans_are_checked_by_kind() {
        let reg = Registry::prelude();
        let layout = Param::required("layout").accepting(ArgType::OneOf(&["sharded", "dp_ep"]));
        let fine = Value::string(" DP_EP ");
        assert!(argument(&reg, "f", &layout, Found::Value(&fine), &(0..1)).is_ok());
        let typo = Value::string("shard");
        let d = argument(&reg, "f", &layout, Found::Value(&typo), &(3..9)).unwrap_err();
        assert_eq!(d.code, "type-mismatch");
        assert_eq!(
            d.message,
            "`layout` of `f` must be one of \"sharded\", \"dp_ep\", found the string \"shard\""
        );
        let model = Param::required("model").accepting(ArgType::Record("a model record"));
        let named = Value::record([("name", Value::string("Toy"))]);
        assert!(argument(&reg, "f", &model, Found::Value(&named), &(0..1)).is_ok());
        let d = argument(&reg, "f", &model, Found::List, &(0..1)).unwrap_err();
        assert_eq!(
            d.message,
            "`model` of `f` must be a model record, found a list"
        );
        let flag = Param::required("overlap").accepting(ArgType::Bool);
        assert!(argument(&reg, "f", &flag, Found::Bool, &(0..1)).is_ok());
        let d = argument(&reg, "f", &flag, Found::Value(&named), &(0..1)).unwrap_err();
        assert_eq!(
            d.message,
            "`overlap` of `f` must be true or false, found the record \"Toy\""
        );
        // A parameter that declares nothing takes anything.
        let any = Param::required("x");
        assert!(argument(&reg, "f", &any, Found::List, &(0..1)).is_ok());
    }
}
