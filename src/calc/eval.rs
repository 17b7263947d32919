//! The tree-walking evaluator: expressions to [`Value`]s, checking dimensions as it goes (by the
//! rules in [`super::rules`], shared with the sweep compiler), with a step budget and a call-depth
//! limit so no input can hang or overflow the stack.
//!
//! Errors are [`Diagnostic`]s with spans in the source being evaluated. An error inside a user
//! function defined in another source (an earlier block) is re-pointed at the call, with the
//! function's own line quoted in a note.

use crate::diagnostic::Code;
use std::cell::Cell;
use std::sync::Arc;

use super::ast::*;
use super::format;
use super::provenance;
use super::rules::{
    self, ArgVal, bind, division_by_zero, not_a_record, overflow, param_spec, resolve_unit,
    type_mismatch,
};
use super::scope::Scope;
use super::units::{Dim, Registry};
use super::value::{Builtin, Function, Shown, Value};
use crate::diagnostic::Diagnostic;

/// Deepest chain of user function calls.
pub const MAX_CALL_DEPTH: usize = 256;
/// Most elements a range may produce.
pub const MAX_RANGE: usize = 100_000;
const MAX_STRING: usize = 1 << 20;

/// Why an evaluation stopped.
#[derive(Debug)]
pub enum Fail {
    Diag(Box<Diagnostic>),
    /// It used a name whose definition failed: skipped without a further error.
    Poisoned(String),
}

impl From<Diagnostic> for Fail {
    fn from(d: Diagnostic) -> Fail {
        Fail::Diag(Box::new(d))
    }
}

pub type EResult<T> = Result<T, Fail>;

fn err<T>(d: Diagnostic) -> EResult<T> {
    Err(Fail::Diag(Box::new(d)))
}

/// Local bindings (function parameters, the swept variable) and where we are.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub locals: &'a [(String, Value)],
    pub depth: usize,
    pub source_id: u64,
}

pub struct Evaluator<'s> {
    pub scope: &'s Scope,
    steps: &'s Cell<u64>,
    limit: u64,
}

/// `a op b` on plain numbers, shared with the compiled path.
pub fn compare_f64(op: CmpOp, a: f64, b: f64, tol: Option<(f64, bool)>) -> bool {
    match op {
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Approx => {
            let (t, relative) = tol.unwrap_or((DEFAULT_TOLERANCE, true));
            let allowed = if relative { t.abs() * b.abs() } else { t.abs() };
            (a - b).abs() <= allowed * (1.0 + 1e-12)
        }
    }
}

/// A comparison's outcome, its two sides, and its tolerance (value, relative?).
pub type Comparison = (bool, Value, Value, Option<(f64, bool)>);

/// `≈` without `± …` allows 5%.
pub const DEFAULT_TOLERANCE: f64 = 0.05;

impl<'s> Evaluator<'s> {
    /// An evaluator counting its steps in `steps` (shared by the statements of one block).
    pub fn new(scope: &'s Scope, steps: &'s Cell<u64>) -> Self {
        Evaluator {
            scope,
            steps,
            limit: super::budget::statement_limit(scope.step_limit),
        }
    }

    pub fn reg(&self) -> &'s Registry {
        self.scope.registry()
    }

    fn tick(&self, span: &Span) -> EResult<()> {
        if let Err(limit) = super::budget::tick() {
            return err(Diagnostic::error(
                Code::StepLimit,
                format!(
                    "the book's evaluation budget of {} steps is spent",
                    format::plain_number(limit as f64, 3)
                ),
            )
            .with_span(span.clone())
            .with_label("stopped here")
            .with_help(
                "raise `max-steps` under [calcbook] in book.toml, or make the book evaluate less",
            ));
        }
        let n = self.steps.get() + 1;
        self.steps.set(n);
        if n > self.limit {
            return err(Diagnostic::error(
                Code::StepLimit,
                format!(
                    "evaluation took more than {} steps",
                    format::plain_number(self.limit as f64, 3)
                ),
            )
            .with_span(span.clone())
            .with_label("stopped here")
            .with_help("is a function calling itself without end, or a range too large?"));
        }
        Ok(())
    }

    fn num(&self, si: f64, dim: Dim, span: &Span) -> EResult<Value> {
        if !si.is_finite() {
            return err(overflow(span.clone(), si));
        }
        Ok(Value::quantity(si, dim))
    }

    pub fn eval(&self, e: &Expr, env: Env) -> EResult<Value> {
        self.tick(&e.span)?;
        let span = &e.span;
        match &e.kind {
            ExprKind::Number(x) => self.num(*x, Dim::none(), span),
            ExprKind::Quantity(x, u) => {
                let (f, d) = resolve_unit(self.reg(), u)?;
                self.num(x * f, d, span)
            }
            ExprKind::Str(s) => Ok(Value::string(s)),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Name(n) => self.lookup(n, span, env),
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(self.eval(it, env)?.plain());
                }
                Ok(Value::list(out))
            }
            ExprKind::Record(fields) => {
                let mut out = Vec::with_capacity(fields.len());
                for (name, _, it) in fields {
                    out.push((name.clone(), self.eval(it, env)?));
                }
                Ok(Value::record(out))
            }
            ExprKind::Neg(inner) => match self.eval(inner, env)? {
                Value::Quantity { si, dim, .. } => Ok(Value::quantity(-si, dim)),
                v => err(type_mismatch(
                    inner.span.clone(),
                    "a quantity to negate",
                    &v,
                )),
            },
            ExprKind::Not(inner) => {
                let b = self.boolean(inner, env)?;
                Ok(Value::Bool(!b))
            }
            ExprKind::And(a, b) => Ok(Value::Bool(self.boolean(a, env)? && self.boolean(b, env)?)),
            ExprKind::Or(a, b) => Ok(Value::Bool(self.boolean(a, env)? || self.boolean(b, env)?)),
            ExprKind::If { cond, then, els } => {
                if self.boolean(cond, env)? {
                    self.eval(then, env)
                } else {
                    self.eval(els, env)
                }
            }
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => {
                let a = self.eval(lhs, env)?;
                let b = self.eval(rhs, env)?;
                self.binary(*op, op_span, (&a, &lhs.span), (&b, &rhs.span))
            }
            ExprKind::Compare { .. } => {
                let (holds, ..) = self.compare(e, env)?;
                Ok(Value::Bool(holds))
            }
            ExprKind::Range { start, end } => {
                let a = self.eval(start, env)?;
                let b = self.eval(end, env)?;
                let (Some(a), Some(b)) = (a.as_number(), b.as_number()) else {
                    return err(Diagnostic::error(
                        Code::TypeMismatch,
                        "`a..b` needs two plain numbers",
                    )
                    .with_span(span.clone())
                    .with_help("for quantities, use range(start, end, step)"));
                };
                self.range(a, b, 1.0, Dim::none(), span)
            }
            ExprKind::Call { callee, args } => {
                let f = self.eval(callee, env)?;
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(ArgVal {
                        name: a.name.clone(),
                        value: self.eval(&a.value, env)?.plain(),
                        span: a.value.span.clone(),
                    });
                }
                match f {
                    Value::Func(func) => self.call(&func, vals, span, env),
                    v => err(Diagnostic::error(
                        Code::NotAFunction,
                        format!("this is {}, not a function", v.kind()),
                    )
                    .with_span(callee.span.clone())
                    .with_label("called here")),
                }
            }
            ExprKind::Field {
                base,
                name,
                name_span,
            } => {
                let v = self.eval(base, env)?;
                field(self.reg(), &v, name, name_span, &base.span)
            }
            ExprKind::Index { base, index } => {
                let v = self.eval(base, env)?;
                let i = self.eval(index, env)?;
                let Value::List(items) = &v else {
                    return err(type_mismatch(base.span.clone(), "a list to index", &v));
                };
                let n = i
                    .as_number()
                    .filter(|n| n.fract() == 0.0)
                    .ok_or_else(|| type_mismatch(index.span.clone(), "a whole number", &i))?;
                let len = items.len() as f64;
                let k = if n < 0.0 { n + len } else { n };
                if k < 0.0 || k >= len {
                    return err(Diagnostic::error(
                        Code::IndexOutOfRange,
                        format!("index {n} is outside a list of {} items", items.len()),
                    )
                    .with_span(index.span.clone())
                    .with_label("out of range")
                    .with_help("indices start at 0; negative ones count from the end"));
                }
                Ok(items[k as usize].clone())
            }
            ExprKind::Convert { expr, unit, digits } => {
                let v = self.eval(expr, env)?;
                let target = match unit {
                    Some(u) => {
                        let (f, d) = resolve_unit(self.reg(), u)?;
                        Some((u, f, d))
                    }
                    None => None,
                };
                self.convert(v, &target, *digits, &expr.span)
            }
        }
    }

    fn convert(
        &self,
        v: Value,
        target: &Option<(&UnitExpr, f64, Dim)>,
        digits: Option<u8>,
        span: &Span,
    ) -> EResult<Value> {
        match v {
            Value::Quantity { si, dim, prov, .. } => {
                let unit = match target {
                    Some((u, f, d)) => {
                        rules::convert(self.reg(), (span, &dim), (u, d), Some(si))?;
                        Some((u.text.clone(), *f))
                    }
                    None => None,
                };
                Ok(Value::Quantity {
                    si,
                    dim,
                    shown: Some(Arc::new(Shown { unit, digits })),
                    prov,
                })
            }
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items.iter() {
                    out.push(self.convert(it.clone(), target, digits, span)?);
                }
                Ok(Value::list(out))
            }
            v => err(type_mismatch(span.clone(), "a quantity to convert", &v)),
        }
    }

    fn boolean(&self, e: &Expr, env: Env) -> EResult<bool> {
        match self.eval(e, env)? {
            Value::Bool(b) => Ok(b),
            v => err(rules::expected_boolean(e.span.clone(), v.kind())),
        }
    }

    fn lookup(&self, name: &str, span: &Span, env: Env) -> EResult<Value> {
        if let Some((_, v)) = env.locals.iter().rev().find(|(n, _)| n == name) {
            return Ok(v.clone());
        }
        if self.scope.is_poisoned(name) {
            return Err(Fail::Poisoned(name.to_string()));
        }
        if let Some(v) = self.scope.get(name) {
            provenance::note(v);
            return Ok(v.clone());
        }
        if let Some(b) = Builtin::by_name(name) {
            return Ok(Value::Func(Arc::new(Function::Builtin(b))));
        }
        if let Some((f, d)) = self.reg().lookup(name) {
            return Ok(Value::quantity(f, d));
        }
        let candidates: Vec<&str> = env
            .locals
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(self.scope.names())
            .chain(Builtin::ALL.iter().map(|(n, _)| *n))
            .chain(self.reg().unit_names())
            .collect();
        let d = Diagnostic::error(Code::UnknownName, format!("unknown name `{name}`"))
            .with_span(span.clone())
            .with_label("not defined");
        err(match crate::diagnostic::suggest_name(name, &candidates) {
            Some(help) => d.with_help(help),
            None => d.with_help("define it above this line: `name = …`"),
        })
    }

    /// `a op b` on values (arithmetic only).
    pub fn binary(
        &self,
        op: BinOp,
        op_span: &Span,
        (a, aspan): (&Value, &Span),
        (b, bspan): (&Value, &Span),
    ) -> EResult<Value> {
        match (a, b) {
            (Value::Quantity { si: x, dim: dx, .. }, Value::Quantity { si: y, dim: dy, .. }) => {
                let exponent = (op == BinOp::Pow).then_some(*y);
                let dim =
                    rules::arithmetic(self.reg(), op, op_span, (aspan, dx), (bspan, dy), exponent)?;
                let si = match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul => x * y,
                    BinOp::Div if *y == 0.0 => return err(division_by_zero(op_span, bspan)),
                    BinOp::Div => x / y,
                    BinOp::Pow => x.powf(*y),
                };
                self.num(si, dim, op_span)
            }
            (Value::Str(x), Value::Str(y)) if op == BinOp::Add => {
                if x.len() + y.len() > MAX_STRING {
                    return err(Diagnostic::error(Code::Overflow, "string too long")
                        .with_span(op_span.clone()));
                }
                Ok(Value::Str(format!("{x}{y}").into()))
            }
            (Value::Quantity { .. }, other) => err(type_mismatch(
                bspan.clone(),
                &format!("a quantity after `{}`", op.symbol()),
                other,
            )),
            (other, _) => err(type_mismatch(
                aspan.clone(),
                &format!("a quantity before `{}`", op.symbol()),
                other,
            )),
        }
    }

    /// Evaluates a comparison: whether it holds, and both sides and the tolerance.
    pub fn compare(&self, e: &Expr, env: Env) -> EResult<Comparison> {
        let ExprKind::Compare {
            op,
            op_span,
            lhs,
            rhs,
            tol,
        } = &e.kind
        else {
            return err(
                Diagnostic::error(Code::ClaimNotComparison, "expected a comparison")
                    .with_span(e.span.clone()),
            );
        };
        // Each side is stamped with the data figures it read, for the claim's report.
        let (a, figs) = provenance::collect(|| self.eval(lhs, env));
        let a = a?.with_prov(provenance::to_prov(figs));
        let (b, figs) = provenance::collect(|| self.eval(rhs, env));
        let b = b?.with_prov(provenance::to_prov(figs));
        let reg = self.reg();
        match (&a, &b) {
            (Value::Quantity { si: x, dim: dx, .. }, Value::Quantity { si: y, dim: dy, .. }) => {
                rules::compare(reg, op_span, (&lhs.span, dx), (&rhs.span, dy))?;
                let t = match tol {
                    Some(t) => Some(self.tolerance(t, dx, env)?),
                    None => None,
                };
                Ok((compare_f64(*op, *x, *y, t), a.clone(), b.clone(), t))
            }
            _ if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
                let same = a == b;
                Ok((same == (*op == CmpOp::Eq), a.clone(), b.clone(), None))
            }
            _ => err(Diagnostic::error(
                Code::TypeMismatch,
                format!(
                    "cannot order {} and {} with `{}`",
                    a.kind(),
                    b.kind(),
                    op.symbol()
                ),
            )
            .with_span(op_span.clone())
            .with_secondary(lhs.span.clone(), format!("this is {}", a.kind()))
            .with_secondary(rhs.span.clone(), format!("this is {}", b.kind()))),
        }
    }

    /// A tolerance: relative when written as a percentage, else in the compared dimension.
    pub fn tolerance(&self, t: &Expr, dim: &Dim, env: Env) -> EResult<(f64, bool)> {
        let v = self.eval(t, env)?;
        let relative = t.is_percentage();
        match &v {
            Value::Quantity { si, .. } if si.is_nan() || *si < 0.0 => {
                err(rules::negative_tolerance(&t.span))
            }
            Value::Quantity { si, dim: d, .. } => {
                rules::tolerance(self.reg(), &t.span, d, dim, relative)?;
                Ok((*si, relative))
            }
            other => err(type_mismatch(t.span.clone(), "a quantity", other)),
        }
    }

    fn range(&self, a: f64, b: f64, step: f64, dim: Dim, span: &Span) -> EResult<Value> {
        if step == 0.0 || !step.is_finite() {
            return err(
                Diagnostic::error(Code::BadRange, "a range's step cannot be zero")
                    .with_span(span.clone()),
            );
        }
        let count = ((b - a) / step + 1e-9).floor() + 1.0;
        if count > MAX_RANGE as f64 || count.is_nan() {
            return err(Diagnostic::error(
                Code::RangeTooLarge,
                format!(
                    "this range has more than {} elements",
                    format::plain_number(MAX_RANGE as f64, 3)
                ),
            )
            .with_span(span.clone())
            .with_label("too many elements")
            .with_help("use a larger step"));
        }
        let count = count.max(0.0) as usize;
        let mut out = Vec::with_capacity(count);
        for k in 0..count {
            self.tick(span)?;
            out.push(Value::quantity(a + step * k as f64, dim.clone()));
        }
        Ok(Value::list(out))
    }

    /// Calls a function with evaluated arguments.
    pub fn call(&self, f: &Function, args: Vec<ArgVal>, span: &Span, env: Env) -> EResult<Value> {
        match f {
            Function::User {
                name,
                params,
                body,
                source,
                source_id,
                ..
            } => {
                let spec = param_spec(
                    params.iter().map(|p| (p.name.as_str(), p.default.as_ref())),
                    Value::clone,
                );
                let vals = bind(name, &spec, args, span)?;
                if env.depth + 1 > MAX_CALL_DEPTH {
                    return err(Diagnostic::error(
                        Code::RecursionLimit,
                        format!("calls nested more than {MAX_CALL_DEPTH} deep"),
                    )
                    .with_span(span.clone())
                    .with_label(format!("calling `{name}`"))
                    .with_help("does the function call itself without an end?"));
                }
                let locals: Vec<(String, Value)> =
                    params.iter().map(|p| p.name.clone()).zip(vals).collect();
                let inner = Env {
                    locals: &locals,
                    depth: env.depth + 1,
                    source_id: *source_id,
                };
                match self.eval(body, inner) {
                    Err(Fail::Diag(d)) if *source_id != env.source_id => {
                        Err(Fail::Diag(Box::new(repoint(*d, name, source, span))))
                    }
                    r => r,
                }
            }
            Function::Native {
                name, params, f, ..
            } => {
                let spec = param_spec(
                    params.iter().map(|p| (p.name.as_str(), p.default.as_ref())),
                    Value::clone,
                );
                let bound = rules::bind_given(name, &spec, args, span)?;
                for (param, (v, given)) in params.iter().zip(&bound) {
                    if let Some(arg_span) = given {
                        let found = rules::Found::Value(v);
                        rules::argument(self.scope.registry(), name, param, found, arg_span)?;
                    }
                }
                let vals: Vec<Value> = bound.into_iter().map(|(v, _)| v).collect();
                provenance::blame(None);
                match f(&vals) {
                    Ok(Value::Quantity { si, .. }) if !si.is_finite() => {
                        err(overflow(span.clone(), si).with_note(format!("returned by `{name}`")))
                    }
                    Ok(v) => Ok(v),
                    Err(msg) => {
                        let mut d = Diagnostic::error(Code::NativeError, format!("{name}: {msg}"))
                            .with_span(span.clone())
                            .with_label(format!("in this call of `{name}`"));
                        if let Some(origin) = provenance::take_blame() {
                            d = d.with_note(format!(
                                "{origin}: the data entry `{}` is written here",
                                origin.id
                            ));
                        }
                        err(d)
                    }
                }
            }
            Function::Builtin(b) => self.builtin(*b, args, span, env),
        }
    }

    fn builtin(&self, b: Builtin, args: Vec<ArgVal>, span: &Span, env: Env) -> EResult<Value> {
        match b {
            Builtin::Sqrt
            | Builtin::Log
            | Builtin::Log2
            | Builtin::Log10
            | Builtin::Exp
            | Builtin::Ceil
            | Builtin::Floor
            | Builtin::Round
            | Builtin::Abs => self.math(b, args, span),
            Builtin::Min | Builtin::Max => self.min_max(b, args, span),
            Builtin::Sum | Builtin::Mean | Builtin::Len => self.aggregate(b, args, span),
            Builtin::Range => self.range_call(args, span),
            Builtin::Map => self.map(args, span, env),
        }
    }

    /// `sqrt(x)`, `log(x)`, `round(x)`…: one quantity in, one out.
    fn math(&self, b: Builtin, args: Vec<ArgVal>, span: &Span) -> EResult<Value> {
        let arg_span = args.first().map_or(span.clone(), |a| a.span.clone());
        let mut v = bind::<Value>(b.name(), &[("x", None)], args, span)?;
        let v = v.pop().unwrap_or(Value::number(0.0));
        let Value::Quantity { si, dim, .. } = &v else {
            return err(type_mismatch(arg_span, "a quantity", &v));
        };
        let (r, d) = apply_math(b, *si, dim, self.reg(), &arg_span)?;
        self.num(r, d, span)
    }

    /// `min`/`max` of several arguments, or of one list.
    fn min_max(&self, b: Builtin, args: Vec<ArgVal>, span: &Span) -> EResult<Value> {
        let name = b.name();
        let items: Vec<(Value, Span)> = match args.as_slice() {
            [
                ArgVal {
                    name: None,
                    value: Value::List(l),
                    span: s,
                },
            ] => l.iter().map(|v| (v.clone(), s.clone())).collect(),
            _ => {
                if let Some(a) = args.iter().find(|a| a.name.is_some()) {
                    return err(Diagnostic::error(
                        Code::UnknownArgument,
                        format!("`{name}` takes no named arguments"),
                    )
                    .with_span(a.span.clone()));
                }
                args.into_iter().map(|a| (a.value, a.span)).collect()
            }
        };
        let mut best: Option<(f64, Dim, Span)> = None;
        for (v, s) in items {
            let Value::Quantity { si, dim, .. } = &v else {
                return err(type_mismatch(s, "a quantity", &v));
            };
            match &best {
                None => best = Some((*si, dim.clone(), s)),
                Some((b0, d0, s0)) => {
                    rules::aggregate(self.reg(), b, span, (s0, d0), (&s, dim))?;
                    let better = if b == Builtin::Min { si < b0 } else { si > b0 };
                    if better || si.is_nan() {
                        best = Some((*si, dim.clone(), s));
                    }
                }
            }
        }
        match best {
            Some((x, d, _)) => Ok(Value::quantity(x, d)),
            None => err(Diagnostic::error(
                Code::MissingArgument,
                format!("`{name}` needs at least one value"),
            )
            .with_span(span.clone())),
        }
    }

    /// `sum`, `mean` and `len` of one list.
    fn aggregate(&self, b: Builtin, args: Vec<ArgVal>, span: &Span) -> EResult<Value> {
        let list_span = args.first().map_or(span.clone(), |a| a.span.clone());
        let mut v = bind::<Value>(b.name(), &[("list", None)], args, span)?;
        let list = v.pop().unwrap_or(Value::number(0.0));
        if b == Builtin::Len {
            return Ok(Value::number(match &list {
                Value::List(l) => l.len() as f64,
                Value::Str(s) => s.chars().count() as f64,
                Value::Record(r) => r.fields.len() as f64,
                other => return err(type_mismatch(span.clone(), "a list", other)),
            }));
        }
        let Value::List(items) = &list else {
            return err(type_mismatch(span.clone(), "a list", &list));
        };
        let mut total: Option<(f64, Dim)> = None;
        for it in items.iter() {
            self.tick(span)?;
            let Value::Quantity { si, dim, .. } = it else {
                return err(type_mismatch(span.clone(), "a list of quantities", it));
            };
            total = Some(match total {
                None => (*si, dim.clone()),
                Some((t, d)) => {
                    // A list value has no spans of its own items: point at the list.
                    rules::aggregate(self.reg(), b, span, (&list_span, &d), (&list_span, dim))?;
                    (t + si, d)
                }
            });
        }
        let (t, d) = total.unwrap_or((0.0, Dim::none()));
        let t = if b == Builtin::Mean {
            if items.is_empty() {
                return err(
                    Diagnostic::error(Code::DivisionByZero, "the mean of an empty list")
                        .with_span(span.clone()),
                );
            }
            t / items.len() as f64
        } else {
            t
        };
        self.num(t, d, span)
    }

    /// `range(start, end, step=1)` over quantities of one dimension.
    fn range_call(&self, args: Vec<ArgVal>, span: &Span) -> EResult<Value> {
        let v = bind(
            "range",
            &[
                ("start", None),
                ("end", None),
                ("step", Some(Value::number(1.0))),
            ],
            args,
            span,
        )?;
        let (
            Value::Quantity { si: a, dim: da, .. },
            Value::Quantity { si: e, dim: de, .. },
            Value::Quantity { si: s, dim: ds, .. },
        ) = (&v[0], &v[1], &v[2])
        else {
            return err(
                Diagnostic::error(Code::TypeMismatch, "range needs quantities")
                    .with_span(span.clone()),
            );
        };
        if da != de || (da != ds && !(ds.is_dimensionless() && *s == 1.0 && da.is_dimensionless()))
        {
            return err(Diagnostic::error(
                Code::DimensionMismatch,
                "range's start, end and step must have the same dimension",
            )
            .with_span(span.clone()));
        }
        self.range(*a, *e, *s, da.clone(), span)
    }

    /// `map(list, f)` (either order).
    fn map(&self, args: Vec<ArgVal>, span: &Span, env: Env) -> EResult<Value> {
        let v = bind::<Value>("map", &[("list", None), ("f", None)], args, span)?;
        let (list, f) = match (&v[0], &v[1]) {
            (Value::List(l), Value::Func(f)) | (Value::Func(f), Value::List(l)) => {
                (l.clone(), f.clone())
            }
            _ => {
                return err(Diagnostic::error(
                    Code::TypeMismatch,
                    "`map` takes a list and a function: map(xs, f)",
                )
                .with_span(span.clone()));
            }
        };
        let mut out = Vec::with_capacity(list.len());
        for it in list.iter() {
            let arg = ArgVal {
                name: None,
                value: it.clone(),
                span: span.clone(),
            };
            out.push(self.call(&f, vec![arg], span, env)?.plain());
        }
        Ok(Value::list(out))
    }
}

/// The math builtins on a base-unit value: the dimension by [`rules::math`], the value by
/// [`math_value`].
fn apply_math(
    b: Builtin,
    si: f64,
    dim: &Dim,
    reg: &Registry,
    arg_span: &Span,
) -> Result<(f64, Dim), Diagnostic> {
    let d = rules::math(b, dim, reg, arg_span, Some(si))?;
    Ok((math_value(b, si, arg_span)?, d))
}

/// A math builtin on a number, refusing arguments outside its domain (shared with the compiled
/// path, which checks dimensions once beforehand).
pub fn math_value(b: Builtin, x: f64, arg_span: &Span) -> Result<f64, Diagnostic> {
    let domain = |what: &str| {
        Diagnostic::error(Code::DomainError, format!("`{}` of {what}", b.name()))
            .with_span(arg_span.clone())
            .with_label(what.to_string())
    };
    match b {
        Builtin::Sqrt if x < 0.0 => Err(domain("a negative number")),
        Builtin::Log | Builtin::Log2 | Builtin::Log10 if x <= 0.0 => {
            Err(domain("a number that is not positive"))
        }
        _ => Ok(math_f(b, x)),
    }
}

/// A math builtin on a number, unchecked (NaN for what is not one).
pub fn math_f(b: Builtin, v: f64) -> f64 {
    match b {
        Builtin::Sqrt => v.sqrt(),
        Builtin::Log => v.ln(),
        Builtin::Log2 => v.log2(),
        Builtin::Log10 => v.log10(),
        Builtin::Exp => v.exp(),
        Builtin::Ceil => v.ceil(),
        Builtin::Floor => v.floor(),
        Builtin::Round => v.round(),
        Builtin::Abs => v.abs(),
        _ => f64::NAN,
    }
}

/// An error raised inside a function body from another source, re-pointed at the call.
pub(crate) fn repoint(d: Diagnostic, name: &str, source: &str, call: &Span) -> Diagnostic {
    let line = d
        .span
        .as_ref()
        .and_then(|s| {
            let start = source[..s.start.min(source.len())]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let end = source[s.start.min(source.len())..]
                .find('\n')
                .map_or(source.len(), |i| s.start.min(source.len()) + i);
            source.get(start..end)
        })
        .map(|l| l.trim().to_string());
    let mut out = Diagnostic {
        span: Some(call.clone()),
        label: Some(format!("inside this call of `{name}`")),
        secondary: Vec::new(),
        ..d
    };
    if let Some(l) = line {
        out = out.with_note(format!("while running `{name}`, at: {l}"));
    }
    out
}

/// `value.name`, with the existing fields listed when it is missing.
pub fn field(
    _reg: &Registry,
    v: &Value,
    name: &str,
    name_span: &Span,
    base_span: &Span,
) -> EResult<Value> {
    match v {
        Value::Record(r) => match r.get(name) {
            Some(x) => {
                if let Some(figs) = &r.prov {
                    provenance::note_figures(figs);
                }
                provenance::note(x);
                Ok(x.clone())
            }
            None => {
                let names: Vec<&str> = r.names().collect();
                let mut d = rules::unknown_field(name, &names, name_span, base_span);
                if let Some(origin) = &r.origin {
                    d = d.with_note(format!(
                        "{origin}: the data entry `{}` is written here",
                        origin.id
                    ));
                }
                err(d)
            }
        },
        other => err(not_a_record(base_span.clone(), name, other.kind())),
    }
}
