//! Check dimensions once, then evaluate on plain numbers: compiles an expression with one free
//! (swept) variable into a tree of `f64` operations, for charts that evaluate it thousands of
//! times.
//!
//! Everything that does not depend on the variable is evaluated once, at compile time, with the
//! ordinary evaluator (records, data, constants). User functions are inlined with their
//! parameters bound to lazily computed slots; every dimension is checked while compiling, so
//! [`Compiled::eval`] only does arithmetic. Native (engine) functions whose arguments depend on
//! the variable are called at each evaluation with [`Value`]s; the dimension of what they return
//! is the one they declared when registered (the engine's functions all do), else it is learnt by
//! calling them once at compile time (with the variable at 1 base unit, or a few other probes if
//! that fails); it is checked on every later call.
//!
//! Errors found at evaluation time (division by zero, a domain error, overflow) are reported with
//! a span: the fast path evaluates without checks and, if the result is not finite, evaluation
//! is repeated in a strict mode that finds the offending operation.

use std::cell::Cell;
use std::ops::Range;
use std::sync::Arc;

use super::ast::*;
use super::eval::{
    self, ArgVal, EResult, Env, Evaluator, Fail, apply_math, bind, compare_f64,
    conversion_mismatch, dim_mismatch, division_by_zero, overflow, pow_dim, resolve_unit,
    type_mismatch,
};
use super::parser::parse_expression;
use super::scope::{Scope, fail_to_diag, next_source_id, with_big_stack};
use super::units::Dim;
use super::value::{Builtin, Function, NativeFn, Returns, Value};
use crate::diagnostic::Diagnostic;

/// How deeply user functions may be inlined into one compiled expression.
const MAX_INLINE: usize = 24;
/// Most operations one compiled expression may have.
const MAX_NODES: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Clone)]
enum Node {
    Const(f64),
    Var,
    /// A function argument, computed on first use.
    Slot(u32),
    Bin(Op, Box<(Node, Node)>, u32),
    PowI(Box<Node>, i32, u32),
    Neg(Box<Node>),
    Math(Builtin, Box<Node>, u32),
    MinMax(bool, Vec<Node>),
    Sum(Vec<Node>),
    Cmp(CmpOp, Box<(Node, Node)>, Option<(Box<Node>, bool)>),
    And(Box<(Node, Node)>),
    Or(Box<(Node, Node)>),
    Not(Box<Node>),
    If(Box<(Node, Node, Node)>),
    Native(Box<NativeCall>),
}

#[derive(Clone)]
enum NArg {
    Const(Value),
    Num(Node, Dim),
}

#[derive(Clone)]
struct NativeCall {
    name: String,
    f: NativeFn,
    /// What the function declared it returns, if it did.
    returns: Option<Arc<Returns>>,
    args: Vec<NArg>,
    path: Vec<(String, Span)>,
    /// The dimension of the result at the end of `path`.
    dim: Dim,
    span: Span,
}

/// Shared by the compiler (for probes) and the compiled expression.
#[derive(Clone, Default)]
struct Prog {
    inits: Vec<Node>,
    spans: Vec<Span>,
    scope_reg: Option<Arc<super::units::Registry>>,
}

/// A compiled expression: dimension-checked, evaluated on `f64`s in base units.
#[derive(Clone)]
pub struct Compiled {
    root: Node,
    prog: Prog,
    dim: Dim,
    is_bool: bool,
    unit: Option<(String, f64)>,
    digits: Option<u8>,
    span: Span,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("dim", &self.dim)
            .field("unit", &self.unit)
            .finish_non_exhaustive()
    }
}

type R = Result<f64, Box<Diagnostic>>;

impl Compiled {
    /// The value for `x` (in base units of the variable's dimension), in base units of
    /// [`Compiled::dim`]; booleans are 1.0 and 0.0.
    pub fn eval(&self, x: f64) -> Result<f64, Diagnostic> {
        let n = self.prog.inits.len();
        // Function arguments live in slots: on the stack for the usual handful.
        if n <= 16 {
            let mut buf = [None; 16];
            self.eval_with(x, &mut buf[..n])
        } else {
            self.eval_with(x, &mut vec![None; n])
        }
    }

    fn eval_with(&self, x: f64, slots: &mut [Option<f64>]) -> Result<f64, Diagnostic> {
        match run::<false>(&self.prog, &self.root, x, slots) {
            Ok(v) if v.is_finite() => Ok(v),
            _ => {
                // Not finite, or an error: the strict path finds and reports the operation.
                slots.iter_mut().for_each(|s| *s = None);
                match run::<true>(&self.prog, &self.root, x, slots) {
                    Err(d) => Err(*d),
                    Ok(v) if v.is_finite() => Ok(v),
                    Ok(v) => Err(overflow(self.span.clone(), v)),
                }
            }
        }
    }

    /// The result's dimension.
    pub fn dim(&self) -> &Dim {
        &self.dim
    }

    pub fn is_bool(&self) -> bool {
        self.is_bool
    }

    /// The unit asked for with `in` (as written, and base units per one of it).
    pub fn unit(&self) -> Option<(&str, f64)> {
        self.unit.as_ref().map(|(t, f)| (t.as_str(), *f))
    }

    /// Digits asked for with `to N digits`.
    pub fn digits(&self) -> Option<u8> {
        self.digits
    }

    /// A result of [`Compiled::eval`] formatted as the expression asks (or the default display).
    pub fn format(&self, si: f64) -> String {
        let reg = self
            .prog
            .scope_reg
            .clone()
            .unwrap_or_else(|| Arc::new(super::units::Registry::shared_prelude().clone()));
        if self.is_bool {
            return (si != 0.0).to_string();
        }
        let shown = super::value::Shown {
            unit: self.unit.clone(),
            digits: self.digits,
        };
        super::format::format_quantity(si, &self.dim, Some(&shown), &reg)
    }
}

fn bin_f(op: Op, a: f64, b: f64) -> f64 {
    match op {
        Op::Add => a + b,
        Op::Sub => a - b,
        Op::Mul => a * b,
        Op::Div => a / b,
        Op::Pow => a.powf(b),
    }
}

fn run<const STRICT: bool>(p: &Prog, n: &Node, x: f64, slots: &mut [Option<f64>]) -> R {
    let span = |i: u32| p.spans.get(i as usize).cloned().unwrap_or(0..0);
    let check = |v: f64, i: u32| -> R {
        if STRICT && !v.is_finite() {
            Err(Box::new(overflow(span(i), v)))
        } else {
            Ok(v)
        }
    };
    Ok(match n {
        Node::Const(c) => *c,
        Node::Var => x,
        Node::Slot(i) => {
            let i = *i as usize;
            match slots.get(i).copied().flatten() {
                Some(v) => v,
                None => {
                    let init = p
                        .inits
                        .get(i)
                        .ok_or_else(|| Box::new(Diagnostic::error("internal", "missing slot")))?;
                    let v = run::<STRICT>(p, init, x, slots)?;
                    if let Some(s) = slots.get_mut(i) {
                        *s = Some(v);
                    }
                    v
                }
            }
        }
        Node::Bin(op, ab, s) => {
            let a = run::<STRICT>(p, &ab.0, x, slots)?;
            let b = run::<STRICT>(p, &ab.1, x, slots)?;
            if *op == Op::Div && b == 0.0 {
                let sp = span(*s);
                return Err(Box::new(division_by_zero(&sp, &sp)));
            }
            check(bin_f(*op, a, b), *s)?
        }
        Node::PowI(a, k, s) => check(run::<STRICT>(p, a, x, slots)?.powi(*k), *s)?,
        Node::Neg(a) => -run::<STRICT>(p, a, x, slots)?,
        Node::Math(b, a, s) => {
            let v = run::<STRICT>(p, a, x, slots)?;
            if STRICT {
                let (r, _) = apply_math(
                    *b,
                    v,
                    &Dim::none(),
                    super::units::Registry::shared_prelude(),
                    &span(*s),
                )
                .map_err(Box::new)?;
                check(r, *s)?
            } else {
                math_f(*b, v)
            }
        }
        Node::MinMax(is_max, xs) => {
            let mut best = f64::NAN;
            for (k, e) in xs.iter().enumerate() {
                let v = run::<STRICT>(p, e, x, slots)?;
                if k == 0 || (if *is_max { v > best } else { v < best }) || v.is_nan() {
                    best = v;
                }
            }
            best
        }
        Node::Sum(xs) => {
            let mut t = 0.0;
            for e in xs {
                t += run::<STRICT>(p, e, x, slots)?;
            }
            t
        }
        Node::Cmp(op, ab, tol) => {
            let a = run::<STRICT>(p, &ab.0, x, slots)?;
            let b = run::<STRICT>(p, &ab.1, x, slots)?;
            let t = match tol {
                Some((t, rel)) => Some((run::<STRICT>(p, t, x, slots)?, *rel)),
                None => None,
            };
            f64::from(u8::from(compare_f64(*op, a, b, t)))
        }
        Node::And(ab) => {
            if run::<STRICT>(p, &ab.0, x, slots)? != 0.0 {
                run::<STRICT>(p, &ab.1, x, slots)?
            } else {
                0.0
            }
        }
        Node::Or(ab) => {
            if run::<STRICT>(p, &ab.0, x, slots)? != 0.0 {
                1.0
            } else {
                run::<STRICT>(p, &ab.1, x, slots)?
            }
        }
        Node::Not(a) => f64::from(u8::from(run::<STRICT>(p, a, x, slots)? == 0.0)),
        Node::If(c) => {
            if run::<STRICT>(p, &c.0, x, slots)? != 0.0 {
                run::<STRICT>(p, &c.1, x, slots)?
            } else {
                run::<STRICT>(p, &c.2, x, slots)?
            }
        }
        Node::Native(call) => run_native::<STRICT>(p, call, x, slots)?,
    })
}

fn math_f(b: Builtin, v: f64) -> f64 {
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

fn call_native<const STRICT: bool>(
    p: &Prog,
    call: &NativeCall,
    x: f64,
    slots: &mut [Option<f64>],
) -> Result<Value, Box<Diagnostic>> {
    let mut args = Vec::with_capacity(call.args.len());
    for a in &call.args {
        args.push(match a {
            NArg::Const(v) => v.clone(),
            NArg::Num(n, d) => Value::quantity(run::<STRICT>(p, n, x, slots)?, d.clone()),
        });
    }
    let mut v = (call.f)(&args).map_err(|m| {
        Box::new(
            Diagnostic::error("native-error", format!("{}: {m}", call.name))
                .with_span(call.span.clone())
                .with_label(format!("in this call of `{}`", call.name)),
        )
    })?;
    for (name, span) in &call.path {
        let reg = super::units::Registry::shared_prelude();
        v = match eval::field(reg, &v, name, span, &call.span) {
            Ok(v) => v,
            Err(Fail::Diag(d)) => return Err(d),
            Err(Fail::Poisoned(_)) => {
                return Err(Box::new(Diagnostic::error("internal", "poisoned")));
            }
        };
    }
    Ok(v)
}

fn run_native<const STRICT: bool>(
    p: &Prog,
    call: &NativeCall,
    x: f64,
    slots: &mut [Option<f64>],
) -> R {
    let v = call_native::<STRICT>(p, call, x, slots)?;
    match v {
        Value::Quantity { si, dim, .. } if dim == call.dim => Ok(si),
        Value::Bool(b) if call.dim == Dim::none() => Ok(f64::from(u8::from(b))),
        other => Err(Box::new(
            Diagnostic::error(
                "native-error",
                format!(
                    "`{}` returned {} of another dimension than at the first call",
                    call.name,
                    other.kind()
                ),
            )
            .with_span(call.span.clone()),
        )),
    }
}

/// A compile-time value: known now, or a node to compute per evaluation.
#[derive(Clone)]
enum CV {
    Const(Value),
    Num(Node, Dim),
    Bool(Node),
    /// A native call (and fields read from its result), dimension not yet known.
    Dyn(NativeCall),
    List(Vec<(CV, Span)>),
}

struct Frame<'a> {
    locals: &'a [(String, CV)],
    sees_var: bool,
    depth: usize,
    source_id: u64,
}

struct Compiler<'s> {
    scope: &'s Scope,
    ev: Evaluator<'s>,
    var: String,
    var_dim: Dim,
    prog: Prog,
    nodes: usize,
}

impl Scope {
    /// Compiles `src` with `var` free, of dimension `var_dim`: dimensions are checked once here.
    pub fn compile(&self, src: &str, var: &str, var_dim: &Dim) -> Result<Compiled, Diagnostic> {
        with_big_stack(|| {
            let e = parse_expression(src, self.registry())?;
            let steps = Cell::new(0);
            let mut c = Compiler {
                scope: self,
                ev: Evaluator::new(self, &steps),
                var: var.to_string(),
                var_dim: var_dim.clone(),
                prog: Prog {
                    scope_reg: Some(Arc::new(self.registry().clone())),
                    ..Prog::default()
                },
                nodes: 0,
            };
            let frame = Frame {
                locals: &[],
                sees_var: true,
                depth: 0,
                source_id: next_source_id(),
            };
            let (inner, unit, digits) = match &e.kind {
                ExprKind::Convert { expr, unit, digits } => (&**expr, unit.as_ref(), *digits),
                _ => (&e, None, None),
            };
            let cv = c
                .expr(inner, &frame)
                .map_err(|f| fail_to_diag(f, &e.span))?;
            let (root, dim, is_bool) = match cv {
                CV::Bool(n) => (n, Dim::none(), true),
                CV::Const(Value::Bool(b)) => {
                    (Node::Const(f64::from(u8::from(b))), Dim::none(), true)
                }
                other => {
                    let (n, d) = c
                        .num(other, &inner.span)
                        .map_err(|f| fail_to_diag(f, &e.span))?;
                    (n, d, false)
                }
            };
            let unit = match unit {
                Some(u) => {
                    let (f, d) = resolve_unit(self.registry(), u)?;
                    if d != dim {
                        let reg = self.registry();
                        return Err(conversion_mismatch(reg, &dim, u, &d).with_secondary(
                            inner.span.clone(),
                            format!("this is {}", reg.describe(&dim)),
                        ));
                    }
                    Some((u.text.clone(), f))
                }
                None => None,
            };
            if node_depth(&root, &c.prog) > 2_000 {
                return Err(Diagnostic::error(
                    "too-complex",
                    "this expression is too deep to compile",
                )
                .with_span(e.span.clone()));
            }
            Ok(Compiled {
                root,
                prog: c.prog,
                dim,
                is_bool,
                unit,
                digits,
                span: e.span.clone(),
            })
        })
    }
}

/// Height of the node tree (slots counted through their initialisers), without recursion.
fn node_depth(root: &Node, prog: &Prog) -> usize {
    let mut max = 0;
    let mut stack = vec![(root, 1usize)];
    let mut visited = 0usize;
    while let Some((n, d)) = stack.pop() {
        visited += 1;
        if visited > 4 * MAX_NODES {
            return usize::MAX;
        }
        max = max.max(d);
        let mut push = |c| stack.push((c, d + 1));
        match n {
            Node::Const(_) | Node::Var => {}
            Node::Slot(i) => {
                if let Some(init) = prog.inits.get(*i as usize) {
                    push(init)
                }
            }
            Node::Bin(_, ab, _) | Node::Cmp(_, ab, None) | Node::And(ab) | Node::Or(ab) => {
                push(&ab.0);
                push(&ab.1);
            }
            Node::Cmp(_, ab, Some((t, _))) => {
                push(&ab.0);
                push(&ab.1);
                push(t);
            }
            Node::PowI(a, ..) | Node::Neg(a) | Node::Math(_, a, _) | Node::Not(a) => push(a),
            Node::MinMax(_, xs) | Node::Sum(xs) => xs.iter().for_each(push),
            Node::If(c) => {
                push(&c.0);
                push(&c.1);
                push(&c.2);
            }
            Node::Native(call) => {
                for a in &call.args {
                    if let NArg::Num(n, _) = a {
                        push(n)
                    }
                }
            }
        }
    }
    max
}

impl Compiler<'_> {
    fn tick(&mut self, span: &Span) -> EResult<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Diagnostic::error(
                "too-complex",
                "this expression is too large to compile",
            )
            .with_span(span.clone())
            .with_help("is a function calling itself?")
            .into());
        }
        Ok(())
    }

    fn span_id(&mut self, s: &Span) -> u32 {
        self.prog.spans.push(s.clone());
        (self.prog.spans.len() - 1) as u32
    }

    fn is_dynamic(&self, name: &str, f: &Frame) -> bool {
        match f.locals.iter().rev().find(|(n, _)| n == name) {
            Some((_, cv)) => !matches!(cv, CV::Const(_)),
            None => f.sees_var && name == self.var,
        }
    }

    fn expr(&mut self, e: &Expr, f: &Frame) -> EResult<CV> {
        self.tick(&e.span)?;
        if !e.mentions(&|n| self.is_dynamic(n, f)) {
            let locals: Vec<(String, Value)> = f
                .locals
                .iter()
                .filter_map(|(n, cv)| match cv {
                    CV::Const(v) => Some((n.clone(), v.clone())),
                    _ => None,
                })
                .collect();
            let env = Env {
                locals: &locals,
                depth: f.depth,
                source_id: f.source_id,
            };
            return Ok(CV::Const(self.ev.eval(e, env)?));
        }
        let reg = self.scope.registry();
        match &e.kind {
            ExprKind::Name(n) => match f.locals.iter().rev().find(|(m, _)| m == n) {
                Some((_, cv)) => Ok(cv.clone()),
                None => Ok(CV::Num(Node::Var, self.var_dim.clone())),
            },
            ExprKind::Neg(a) => {
                let (n, d) = self.num_of(a, f)?;
                Ok(CV::Num(Node::Neg(Box::new(n)), d))
            }
            ExprKind::Not(a) => Ok(CV::Bool(Node::Not(Box::new(self.boolean(a, f)?)))),
            ExprKind::And(a, b) => Ok(CV::Bool(Node::And(Box::new((
                self.boolean(a, f)?,
                self.boolean(b, f)?,
            ))))),
            ExprKind::Or(a, b) => Ok(CV::Bool(Node::Or(Box::new((
                self.boolean(a, f)?,
                self.boolean(b, f)?,
            ))))),
            ExprKind::If { cond, then, els } => match self.expr(cond, f)? {
                CV::Const(Value::Bool(b)) => self.expr(if b { then } else { els }, f),
                CV::Bool(c) => {
                    let t = self.expr(then, f)?;
                    let el = self.expr(els, f)?;
                    if let (
                        CV::Bool(_) | CV::Const(Value::Bool(_)),
                        CV::Bool(_) | CV::Const(Value::Bool(_)),
                    ) = (&t, &el)
                    {
                        let t = self.bool_node(t, &then.span)?;
                        let el = self.bool_node(el, &els.span)?;
                        return Ok(CV::Bool(Node::If(Box::new((c, t, el)))));
                    }
                    let (tn, td) = self.num(t, &then.span)?;
                    let (en, ed) = self.num(el, &els.span)?;
                    if td != ed {
                        return Err(Diagnostic::error(
                            "dimension-mismatch",
                            format!(
                                "the branches of `if` are {} and {}",
                                reg.describe(&td),
                                reg.describe(&ed)
                            ),
                        )
                        .with_span(e.span.clone())
                        .with_secondary(then.span.clone(), format!("this is {}", reg.describe(&td)))
                        .with_secondary(els.span.clone(), format!("this is {}", reg.describe(&ed)))
                        .with_help("both branches must have the same dimension")
                        .into());
                    }
                    Ok(CV::Num(Node::If(Box::new((c, tn, en))), td))
                }
                CV::Const(v) => Err(type_mismatch(cond.span.clone(), "a boolean", &v).into()),
                _ => Err(not_sweepable(&cond.span, "a boolean condition")),
            },
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => {
                let (a, da) = self.num_of(lhs, f)?;
                let (b, db) = self.num_of(rhs, f)?;
                let sid = self.span_id(op_span);
                let (op, dim) = match op {
                    BinOp::Add | BinOp::Sub => {
                        if da != db {
                            let verb = if *op == BinOp::Add { "add" } else { "subtract" };
                            return Err(dim_mismatch(
                                reg,
                                verb,
                                op_span.clone(),
                                lhs.span.clone(),
                                &da,
                                rhs.span.clone(),
                                &db,
                            )
                            .into());
                        }
                        (if *op == BinOp::Add { Op::Add } else { Op::Sub }, da)
                    }
                    BinOp::Mul => (Op::Mul, da.mul(&db).ok_or_else(|| too_big(op_span))?),
                    BinOp::Div => {
                        if let Node::Const(0.0) = b {
                            return Err(division_by_zero(op_span, &rhs.span).into());
                        }
                        (Op::Div, da.div(&db).ok_or_else(|| too_big(op_span))?)
                    }
                    BinOp::Pow => {
                        if !db.is_dimensionless() {
                            return Err(Diagnostic::error(
                                "dimension-mismatch",
                                format!(
                                    "an exponent must be a plain number, not {}",
                                    reg.describe(&db)
                                ),
                            )
                            .with_span(rhs.span.clone())
                            .into());
                        }
                        match b {
                            Node::Const(k) => {
                                let d = pow_dim(&da, k, rhs.span.clone())?;
                                if k.fract() == 0.0 && k.abs() <= 64.0 {
                                    return Ok(CV::Num(Node::PowI(Box::new(a), k as i32, sid), d));
                                }
                                return Ok(CV::Num(
                                    Node::Bin(Op::Pow, Box::new((a, Node::Const(k))), sid),
                                    d,
                                ));
                            }
                            _ if da.is_dimensionless() => (Op::Pow, Dim::none()),
                            _ => {
                                return Err(Diagnostic::error(
                                    "bad-exponent",
                                    "a quantity with a unit cannot be raised to a varying power",
                                )
                                .with_span(rhs.span.clone())
                                .with_label("depends on the swept variable")
                                .into());
                            }
                        }
                    }
                };
                Ok(CV::Num(Node::Bin(op, Box::new((a, b)), sid), dim))
            }
            ExprKind::Compare {
                op,
                op_span,
                lhs,
                rhs,
                tol,
            } => {
                let (a, da) = self.num_of(lhs, f)?;
                let (b, db) = self.num_of(rhs, f)?;
                if da != db {
                    return Err(dim_mismatch(
                        reg,
                        "compare",
                        op_span.clone(),
                        lhs.span.clone(),
                        &da,
                        rhs.span.clone(),
                        &db,
                    )
                    .into());
                }
                let t = match tol {
                    Some(t) => {
                        let rel = t.is_percentage();
                        let (tn, td) = self.num_of(t, f)?;
                        if !rel && td != da {
                            return Err(Diagnostic::error(
                                "dimension-mismatch",
                                format!(
                                    "the tolerance is {}, but the sides are {}",
                                    reg.describe(&td),
                                    reg.describe(&da)
                                ),
                            )
                            .with_span(t.span.clone())
                            .into());
                        }
                        Some((Box::new(tn), rel))
                    }
                    None => None,
                };
                Ok(CV::Bool(Node::Cmp(*op, Box::new((a, b)), t)))
            }
            ExprKind::Call { callee, args } => self.call(e, callee, args, f),
            ExprKind::Field {
                base,
                name,
                name_span,
            } => match self.expr(base, f)? {
                CV::Dyn(mut call) => {
                    call.path.push((name.clone(), name_span.clone()));
                    Ok(CV::Dyn(call))
                }
                CV::Const(v) => Ok(CV::Const(eval::field(
                    reg, &v, name, name_span, &base.span,
                )?)),
                _ => Err(Diagnostic::error(
                    "type-mismatch",
                    format!("`.{name}` reads a field of a record, but this is a number"),
                )
                .with_span(base.span.clone())
                .into()),
            },
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push((self.expr(it, f)?, it.span.clone()));
                }
                Ok(CV::List(out))
            }
            ExprKind::Convert { expr, unit, .. } => {
                let (n, d) = self.num_of(expr, f)?;
                if let Some(u) = unit {
                    let (_, ud) = resolve_unit(reg, u)?;
                    if ud != d {
                        return Err(conversion_mismatch(reg, &d, u, &ud).into());
                    }
                }
                Ok(CV::Num(n, d))
            }
            _ => Err(not_sweepable(&e.span, "a number")),
        }
    }

    fn num_of(&mut self, e: &Expr, f: &Frame) -> EResult<(Node, Dim)> {
        let cv = self.expr(e, f)?;
        self.num(cv, &e.span)
    }

    fn boolean(&mut self, e: &Expr, f: &Frame) -> EResult<Node> {
        let cv = self.expr(e, f)?;
        self.bool_node(cv, &e.span)
    }

    fn bool_node(&mut self, cv: CV, span: &Span) -> EResult<Node> {
        match cv {
            CV::Bool(n) => Ok(n),
            CV::Const(Value::Bool(b)) => Ok(Node::Const(f64::from(u8::from(b)))),
            CV::Const(v) => Err(type_mismatch(span.clone(), "a boolean", &v).into()),
            _ => Err(
                Diagnostic::error("type-mismatch", "expected a boolean, found a number")
                    .with_span(span.clone())
                    .into(),
            ),
        }
    }

    /// A numeric node and its dimension.
    fn num(&mut self, cv: CV, span: &Span) -> EResult<(Node, Dim)> {
        match cv {
            CV::Num(n, d) => Ok((n, d)),
            CV::Const(Value::Quantity { si, dim, .. }) => Ok((Node::Const(si), dim)),
            CV::Const(v) => Err(type_mismatch(span.clone(), "a quantity", &v).into()),
            CV::Bool(_) => Err(Diagnostic::error(
                "type-mismatch",
                "expected a quantity, found a boolean",
            )
            .with_span(span.clone())
            .into()),
            CV::List(_) => Err(not_sweepable(span, "a number, not a list")),
            CV::Dyn(mut call) => {
                let declared = call
                    .returns
                    .as_ref()
                    .and_then(|r| r.dim_at(call.path.iter().map(|(name, _)| name.as_str())));
                let dim = match declared {
                    Some(dim) => dim,
                    None => self.probe(&call)?,
                };
                call.dim = dim.clone();
                Ok((Node::Native(Box::new(call)), dim))
            }
        }
    }

    /// Learns the dimension a native call returns by calling it.
    fn probe(&mut self, call: &NativeCall) -> EResult<Dim> {
        let mut first_err = None;
        for x in [1.0, 1e3, 1e-3, 1e6, 0.5, 64.0] {
            let mut slots = vec![None; self.prog.inits.len()];
            match call_native::<true>(&self.prog, call, x, &mut slots) {
                Ok(Value::Quantity { dim, .. }) => return Ok(dim),
                Ok(Value::Bool(_)) => return Ok(Dim::none()),
                Ok(v) => {
                    return Err(type_mismatch(call.span.clone(), "a quantity", &v)
                        .with_note("a swept expression must end in a number")
                        .into());
                }
                Err(d) => {
                    first_err.get_or_insert(d);
                }
            }
        }
        Err(Fail::Diag(first_err.unwrap_or_else(|| {
            Box::new(Diagnostic::error("native-error", "call failed").with_span(call.span.clone()))
        })))
    }

    fn call(&mut self, e: &Expr, callee: &Expr, args: &[Arg], f: &Frame) -> EResult<CV> {
        if callee.mentions(&|n| self.is_dynamic(n, f)) {
            return Err(not_sweepable(&callee.span, "a function name"));
        }
        let func = match self.expr(callee, f)? {
            CV::Const(Value::Func(func)) => func,
            CV::Const(v) => {
                return Err(Diagnostic::error(
                    "not-a-function",
                    format!("this is {}, not a function", v.kind()),
                )
                .with_span(callee.span.clone())
                .into());
            }
            _ => return Err(not_sweepable(&callee.span, "a function name")),
        };
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(ArgVal {
                name: a.name.clone(),
                value: self.expr(&a.value, f)?,
                span: a.value.span.clone(),
            });
        }
        let reg = self.scope.registry();
        match &*func {
            Function::User {
                name,
                params,
                body,
                source,
                source_id,
                ..
            } => {
                let defaults: Vec<Option<CV>> = params
                    .iter()
                    .map(|p| p.default.clone().map(CV::Const))
                    .collect();
                let spec: Vec<(&str, Option<&CV>)> = params
                    .iter()
                    .zip(&defaults)
                    .map(|(p, d)| (p.name.as_str(), d.as_ref()))
                    .collect();
                let bound = bind(name, &spec, vals, &e.span)?;
                if f.depth + 1 > MAX_INLINE {
                    return Err(Diagnostic::error(
                        "recursion-limit",
                        format!("calls nested more than {MAX_INLINE} deep cannot be compiled"),
                    )
                    .with_span(e.span.clone())
                    .with_label(format!("calling `{name}`"))
                    .with_help("a swept expression cannot use a function that calls itself with the swept variable")
                    .into());
                }
                let mut locals = Vec::with_capacity(params.len());
                for (p, cv) in params.iter().zip(bound) {
                    let cv = match cv {
                        CV::Num(n, d)
                            if !matches!(n, Node::Var | Node::Const(_) | Node::Slot(_)) =>
                        {
                            self.prog.inits.push(n);
                            CV::Num(Node::Slot((self.prog.inits.len() - 1) as u32), d)
                        }
                        CV::Bool(n) if !matches!(n, Node::Var | Node::Const(_) | Node::Slot(_)) => {
                            self.prog.inits.push(n);
                            CV::Bool(Node::Slot((self.prog.inits.len() - 1) as u32))
                        }
                        other => other,
                    };
                    locals.push((p.name.clone(), cv));
                }
                let inner = Frame {
                    locals: &locals,
                    sees_var: false,
                    depth: f.depth + 1,
                    source_id: *source_id,
                };
                match self.expr(body, &inner) {
                    Err(Fail::Diag(d)) if *source_id != f.source_id => Err(Fail::Diag(Box::new(
                        eval::repoint(*d, name, source, &e.span),
                    ))),
                    r => r,
                }
            }
            Function::Native {
                name,
                params,
                f: nf,
                returns,
            } => {
                let defaults: Vec<Option<CV>> = params
                    .iter()
                    .map(|p| p.default.clone().map(CV::Const))
                    .collect();
                let spec: Vec<(&str, Option<&CV>)> = params
                    .iter()
                    .zip(&defaults)
                    .map(|(p, d)| (p.name.as_str(), d.as_ref()))
                    .collect();
                let spans: Vec<Span> = vals.iter().map(|a| a.span.clone()).collect();
                let bound = bind(name, &spec, vals, &e.span)?;
                let mut nargs = Vec::with_capacity(bound.len());
                for (i, cv) in bound.into_iter().enumerate() {
                    let span = spans.get(i).cloned().unwrap_or(e.span.clone());
                    nargs.push(match cv {
                        CV::Const(v) => NArg::Const(v),
                        other => {
                            let (n, d) = self.num(other, &span)?;
                            NArg::Num(n, d)
                        }
                    });
                }
                Ok(CV::Dyn(NativeCall {
                    name: name.clone(),
                    f: nf.clone(),
                    returns: returns.clone(),
                    args: nargs,
                    path: Vec::new(),
                    dim: Dim::none(),
                    span: e.span.clone(),
                }))
            }
            Function::Builtin(b) => self.builtin(*b, vals, e, reg),
        }
    }

    fn builtin(
        &mut self,
        b: Builtin,
        mut vals: Vec<ArgVal<CV>>,
        e: &Expr,
        reg: &super::units::Registry,
    ) -> EResult<CV> {
        let span = &e.span;
        match b {
            Builtin::Min | Builtin::Max | Builtin::Sum | Builtin::Mean => {
                let items: Vec<(CV, Span)> = if vals.len() == 1 {
                    match vals.pop().map(|a| (a.value, a.span)) {
                        Some((CV::List(items), _)) => items,
                        Some((CV::Const(Value::List(l)), s)) => l
                            .iter()
                            .map(|v| (CV::Const(v.clone()), s.clone()))
                            .collect(),
                        Some(other) if matches!(b, Builtin::Min | Builtin::Max) => vec![other],
                        _ => return Err(not_sweepable(span, "a list")),
                    }
                } else if matches!(b, Builtin::Min | Builtin::Max) {
                    vals.into_iter().map(|a| (a.value, a.span)).collect()
                } else {
                    return Err(Diagnostic::error(
                        "wrong-argument-count",
                        format!("`{}` takes one list", b.name()),
                    )
                    .with_span(span.clone())
                    .into());
                };
                let mut nodes = Vec::with_capacity(items.len());
                let mut dim: Option<(Dim, Span)> = None;
                for (cv, s) in items {
                    let (n, d) = self.num(cv, &s)?;
                    if let Some((d0, s0)) = &dim
                        && *d0 != d
                    {
                        return Err(dim_mismatch(
                            reg,
                            &format!("combine in `{}`", b.name()),
                            span.clone(),
                            s0.clone(),
                            d0,
                            s,
                            &d,
                        )
                        .into());
                    }
                    dim.get_or_insert((d, s));
                    nodes.push(n);
                }
                let Some((d, _)) = dim else {
                    return Err(Diagnostic::error("missing-argument", "an empty list")
                        .with_span(span.clone())
                        .into());
                };
                let count = nodes.len() as f64;
                Ok(CV::Num(
                    match b {
                        Builtin::Min => Node::MinMax(false, nodes),
                        Builtin::Max => Node::MinMax(true, nodes),
                        Builtin::Sum => Node::Sum(nodes),
                        _ => {
                            let sid = self.span_id(span);
                            Node::Bin(
                                Op::Div,
                                Box::new((Node::Sum(nodes), Node::Const(count))),
                                sid,
                            )
                        }
                    },
                    d,
                ))
            }
            Builtin::Sqrt
            | Builtin::Log
            | Builtin::Log2
            | Builtin::Log10
            | Builtin::Exp
            | Builtin::Ceil
            | Builtin::Floor
            | Builtin::Round
            | Builtin::Abs => {
                let arg_span = vals.first().map_or(span.clone(), |a| a.span.clone());
                let mut v = bind::<CV>(b.name(), &[("x", None)], vals, span)?;
                let cv = v.pop().ok_or_else(|| not_sweepable(span, "an argument"))?;
                let (n, d) = self.num(cv, &arg_span)?;
                // The dimension rule is the evaluator's: probe it with a harmless value.
                let (_, rd) = apply_math(b, 1.0, &d, reg, &arg_span)?;
                let sid = self.span_id(&arg_span);
                Ok(CV::Num(Node::Math(b, Box::new(n), sid), rd))
            }
            _ => Err(not_sweepable(
                span,
                "a number (lists, ranges and `map` cannot be swept)",
            )),
        }
    }
}

fn not_sweepable(span: &Range<usize>, what: &str) -> Fail {
    Diagnostic::error(
        "not-sweepable",
        format!("this part of a swept expression must be {what}"),
    )
    .with_span(span.clone())
    .with_label("depends on the swept variable")
    .into()
}

fn too_big(span: &Span) -> Fail {
    Diagnostic::error("overflow", "a dimension's exponent grew too large")
        .with_span(span.clone())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calc::value::Param;

    fn scope(src: &str) -> Scope {
        let mut s = Scope::new();
        let out = s.run_block(src);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        s
    }

    #[test]
    fn compiled_matches_the_evaluator() {
        let s = scope(
            "fn step(b, flops=989 TFLOP/s, bw=3.35 TB/s) = max(2 * 70e9 FLOP/token * b / flops, 140 GB / bw)\n\
             fn cost(b) = $2.00/hour * step(b) / b",
        );
        let c = s
            .compile("cost(batch) in $/Mtok", "batch", &Dim::token())
            .unwrap();
        assert_eq!(c.unit(), Some(("$/Mtok", 1e-6)));
        for b in [1.0, 64.0, 4096.0] {
            let x = c.eval(b).unwrap();
            let v = s
                .eval_expr_with(
                    "cost(batch)",
                    &[("batch".into(), Value::quantity(b, Dim::token()))],
                )
                .unwrap();
            assert!((x - v.as_si().unwrap()).abs() <= 1e-12 * x.abs());
            assert_eq!(c.dim(), v.dim().unwrap());
        }
    }

    #[test]
    fn dimension_errors_are_found_at_compile_time() {
        let s = scope("bw = 8 TB/s");
        let d = s.compile("bw + t", "t", &Dim::time()).unwrap_err();
        assert_eq!(d.code, "dimension-mismatch");
        assert_eq!(d.span, Some(3..4));
        let d = s.compile("t in GB", "t", &Dim::time()).unwrap_err();
        assert_eq!(d.code, "dimension-mismatch");
    }

    #[test]
    fn runtime_errors_have_spans() {
        let s = scope("fn inv(x) = 1 / x");
        let c = s.compile("inv(t - 1)", "t", &Dim::none()).unwrap();
        assert_eq!(c.eval(3.0).unwrap(), 0.5);
        let d = c.eval(1.0).unwrap_err();
        assert_eq!(d.code, "division-by-zero");
        let c = s.compile("exp(t)", "t", &Dim::none()).unwrap();
        assert_eq!(c.eval(1e6).unwrap_err().code, "overflow");
        let c = s
            .compile("if t > 0 then inv(t) else 0", "t", &Dim::none())
            .unwrap();
        assert_eq!(c.eval(0.0).unwrap(), 0.0);
    }

    #[test]
    fn native_calls_learn_their_dimension() {
        let mut s = Scope::new();
        s.register_native(
            "decode",
            &[
                Param::required("batch"),
                Param::optional("scale", Value::number(2.0)),
            ],
            Arc::new(|args: &[Value]| {
                let b = args[0].as_si().ok_or_else(|| "batch".to_string())?;
                let k = args[1].as_number().ok_or_else(|| "scale".to_string())?;
                Ok(Value::record([
                    ("time", Value::quantity(b * k * 1e-3, Dim::time())),
                    ("name", Value::string("x")),
                ]))
            }),
        );
        let c = s
            .compile("decode(batch, scale=3).time in ms", "batch", &Dim::token())
            .unwrap();
        assert_eq!(c.dim(), &Dim::time());
        assert!((c.eval(2.0).unwrap() - 6e-3).abs() < 1e-15);
        assert_eq!(c.format(6e-3), "6 ms");
        let d = s
            .compile("decode(batch).nope", "batch", &Dim::token())
            .unwrap_err();
        assert_eq!(d.code, "unknown-field");
    }

    /// A native function that declares what it returns is not called while compiling: the
    /// compiler reads the dimension of `f(x).field` from the declaration.
    #[test]
    fn declared_native_results_are_not_probed() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let mut s = Scope::new();
        s.register_native_returning(
            "step",
            &[Param::required("batch")],
            Returns::Record(vec![("time".into(), Returns::Quantity(Dim::time()))]),
            Arc::new(move |args: &[Value]| {
                counted.fetch_add(1, Ordering::SeqCst);
                let b = args[0].as_si().ok_or_else(|| "batch".to_string())?;
                Ok(Value::record([(
                    "time",
                    Value::quantity(b * 1e-3, Dim::time()),
                )]))
            }),
        );
        let c = s
            .compile("step(batch).time", "batch", &Dim::none())
            .unwrap();
        assert_eq!(c.dim(), &Dim::time());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "compiling called the function"
        );
        assert!((c.eval(4.0).unwrap() - 4e-3).abs() < 1e-15);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
