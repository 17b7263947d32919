//! Check dimensions once, then evaluate on plain numbers: compiles an expression with one free
//! (swept) variable into a tree of `f64` operations, for charts that evaluate it thousands of
//! times.
//!
//! Everything that does not depend on the variable is evaluated once, at compile time, with the
//! ordinary evaluator (records, data, constants). User functions are inlined with their
//! parameters bound to lazily computed slots; every dimension is checked while compiling, by the
//! evaluator's rules ([`super::rules`]), so a chart reports an ill-typed expression with the same
//! diagnostic as a calc block, and [`Compiled::eval`] only does arithmetic. Native (engine)
//! functions whose arguments depend on the variable are called at each evaluation with
//! [`Value`]s; they are never called while compiling. Their arguments are checked once, here,
//! against the types their parameters declare ([`rules::argument`], from each argument's value
//! or dimension), and what they return (and the fields read from it) is the one they declared
//! when registered; a value of another dimension at some point is an error there.
//!
//! Errors found at evaluation time (division by zero, a domain error, overflow) are reported with
//! a span: the fast path evaluates without checks and, if the result is not finite, evaluation
//! is repeated in a strict mode that finds the offending operation.

use crate::diagnostic::Code;
use std::cell::Cell;
use std::ops::Range;
use std::sync::Arc;

use super::ast::*;
use super::eval::{self, EResult, Env, Evaluator, Fail, compare_f64, math_f, math_value};
use super::parser::parse_expression;
use super::rules::{
    self, ArgVal, bind, division_by_zero, overflow, param_spec, resolve_unit, type_mismatch,
};
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
    /// A comparison; its tolerance, whether relative, and the tolerance's span.
    Cmp(CmpOp, Box<(Node, Node)>, Option<(Box<Node>, bool, u32)>),
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
    Bool(Node),
}

#[derive(Clone)]
struct NativeCall {
    name: String,
    f: NativeFn,
    /// What the function declared it returns.
    returns: Arc<Returns>,
    args: Vec<NArg>,
    /// Fields read from the result: each name, its span and the span of what it is read from.
    path: Vec<(String, Span, Span)>,
    /// The dimension of the result at the end of `path`.
    dim: Dim,
    span: Span,
}

/// The program's slots and spans, shared by the compiler and the compiled expression.
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
                    let init = p.inits.get(i).ok_or_else(|| {
                        Box::new(Diagnostic::error(Code::Internal, "missing slot"))
                    })?;
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
                check(math_value(*b, v, &span(*s)).map_err(Box::new)?, *s)?
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
                Some((t, rel, s)) => {
                    let t = run::<STRICT>(p, t, x, slots)?;
                    // As the evaluator: a negative tolerance is a typo, whatever the sides.
                    if t.is_nan() || t < 0.0 {
                        return Err(Box::new(rules::negative_tolerance(&span(*s))));
                    }
                    Some((t, *rel))
                }
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
            NArg::Bool(n) => Value::Bool(run::<STRICT>(p, n, x, slots)? != 0.0),
        });
    }
    let mut v = (call.f)(&args).map_err(|m| {
        Box::new(
            Diagnostic::error(Code::NativeError, format!("{}: {m}", call.name))
                .with_span(call.span.clone())
                .with_label(format!("in this call of `{}`", call.name)),
        )
    })?;
    for (name, span, base_span) in &call.path {
        let reg = super::units::Registry::shared_prelude();
        v = match eval::field(reg, &v, name, span, base_span) {
            Ok(v) => v,
            Err(Fail::Diag(d)) => return Err(d),
            Err(Fail::Poisoned(_)) => {
                return Err(Box::new(Diagnostic::error(Code::Internal, "poisoned")));
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
                Code::NativeError,
                format!(
                    "`{}` returned {} of another dimension than it declares",
                    call.name,
                    other.kind()
                ),
            )
            .with_span(call.span.clone()),
        )),
    }
}

/// The dimension of a native call's result at the end of its field path, from what the function
/// declares it returns: a missing field is the evaluator's error ([`rules::unknown_field`]), and
/// a path that ends in anything but a quantity or a boolean cannot be swept.
fn declared_dim(call: &NativeCall) -> EResult<Dim> {
    let mut at: &Returns = &call.returns;
    for (name, span, base_span) in &call.path {
        at = match at {
            Returns::Record(_) => at
                .field(name)
                .ok_or_else(|| rules::unknown_field(name, &at.field_names(), span, base_span))?,
            other => return Err(rules::not_a_record(base_span.clone(), name, other.kind()).into()),
        };
    }
    match at {
        Returns::Quantity(dim) => Ok(dim.clone()),
        Returns::Bool => Ok(Dim::none()),
        other => Err(
            rules::wrong_kind(call.span.clone(), "a quantity", other.kind())
                .with_note("a swept expression must end in a number")
                .into(),
        ),
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
                    rules::convert(self.registry(), (&inner.span, &dim), (u, &d), None)?;
                    Some((u.text.clone(), f))
                }
                None => None,
            };
            if node_depth(&root, &c.prog) > 2_000 {
                return Err(Diagnostic::error(
                    Code::TooComplex,
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
            Node::Cmp(_, ab, Some((t, ..))) => {
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
                    if let NArg::Num(n, _) | NArg::Bool(n) = a {
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
                Code::TooComplex,
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

    /// Compiles one expression: evaluated now when it does not depend on the swept variable,
    /// else turned into a node, construct by construct.
    fn expr(&mut self, e: &Expr, f: &Frame) -> EResult<CV> {
        self.tick(&e.span)?;
        if !e.mentions(&|n| self.is_dynamic(n, f)) {
            return self.constant(e, f);
        }
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
            ExprKind::If { cond, then, els } => self.if_expr(e, (cond, then, els), f),
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => self.binary(*op, op_span, lhs, rhs, f),
            ExprKind::Compare {
                op,
                op_span,
                lhs,
                rhs,
                tol,
            } => self.compare(*op, op_span, (lhs, rhs), tol.as_deref(), f),
            ExprKind::Call { callee, args } => self.call(e, callee, args, f),
            ExprKind::Field {
                base,
                name,
                name_span,
            } => self.field(base, name, name_span, f),
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
                    let (_, ud) = resolve_unit(self.scope.registry(), u)?;
                    rules::convert(self.scope.registry(), (&expr.span, &d), (u, &ud), None)?;
                }
                Ok(CV::Num(n, d))
            }
            _ => Err(not_sweepable(&e.span, "a number")),
        }
    }

    /// An expression that does not depend on the swept variable: evaluated once, now.
    fn constant(&mut self, e: &Expr, f: &Frame) -> EResult<CV> {
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
        Ok(CV::Const(self.ev.eval(e, env)?))
    }

    /// `if c then a else b` with a varying condition: both branches compiled, of one dimension.
    fn if_expr(
        &mut self,
        e: &Expr,
        (cond, then, els): (&Expr, &Expr, &Expr),
        f: &Frame,
    ) -> EResult<CV> {
        let c = match self.expr(cond, f)? {
            CV::Const(Value::Bool(b)) => return self.expr(if b { then } else { els }, f),
            CV::Bool(c) => c,
            CV::Const(v) => return Err(rules::expected_boolean(cond.span.clone(), v.kind()).into()),
            _ => return Err(not_sweepable(&cond.span, "a boolean condition")),
        };
        let t = self.expr(then, f)?;
        let el = self.expr(els, f)?;
        if let (CV::Bool(_) | CV::Const(Value::Bool(_)), CV::Bool(_) | CV::Const(Value::Bool(_))) =
            (&t, &el)
        {
            let t = self.bool_node(t, &then.span)?;
            let el = self.bool_node(el, &els.span)?;
            return Ok(CV::Bool(Node::If(Box::new((c, t, el)))));
        }
        let (tn, td) = self.num(t, &then.span)?;
        let (en, ed) = self.num(el, &els.span)?;
        rules::branches(
            self.scope.registry(),
            &e.span,
            (&then.span, &td),
            (&els.span, &ed),
        )?;
        Ok(CV::Num(Node::If(Box::new((c, tn, en))), td))
    }

    /// `lhs op rhs`, its dimension by [`rules::arithmetic`].
    fn binary(
        &mut self,
        op: BinOp,
        op_span: &Span,
        lhs: &Expr,
        rhs: &Expr,
        f: &Frame,
    ) -> EResult<CV> {
        let (a, da) = self.num_of(lhs, f)?;
        let (b, db) = self.num_of(rhs, f)?;
        let exponent = match b {
            Node::Const(k) if op == BinOp::Pow => Some(k),
            _ => None,
        };
        let dim = rules::arithmetic(
            self.scope.registry(),
            op,
            op_span,
            (&lhs.span, &da),
            (&rhs.span, &db),
            exponent,
        )?;
        let sid = self.span_id(op_span);
        let op = match op {
            BinOp::Add => Op::Add,
            BinOp::Sub => Op::Sub,
            BinOp::Mul => Op::Mul,
            BinOp::Div => {
                if let Node::Const(0.0) = b {
                    return Err(division_by_zero(op_span, &rhs.span).into());
                }
                Op::Div
            }
            BinOp::Pow => match exponent {
                Some(k) if k.fract() == 0.0 && k.abs() <= 64.0 => {
                    return Ok(CV::Num(Node::PowI(Box::new(a), k as i32, sid), dim));
                }
                _ => Op::Pow,
            },
        };
        Ok(CV::Num(Node::Bin(op, Box::new((a, b)), sid), dim))
    }

    /// `lhs op rhs [± tol]`, dimensions by [`rules::compare`] and [`rules::tolerance`].
    fn compare(
        &mut self,
        op: CmpOp,
        op_span: &Span,
        (lhs, rhs): (&Expr, &Expr),
        tol: Option<&Expr>,
        f: &Frame,
    ) -> EResult<CV> {
        let reg = self.scope.registry();
        let (a, da) = self.num_of(lhs, f)?;
        let (b, db) = self.num_of(rhs, f)?;
        rules::compare(reg, op_span, (&lhs.span, &da), (&rhs.span, &db))?;
        let t = match tol {
            Some(t) => {
                let relative = t.is_percentage();
                let (tn, td) = self.num_of(t, f)?;
                rules::tolerance(reg, &t.span, &td, &da, relative)?;
                Some((Box::new(tn), relative, self.span_id(&t.span)))
            }
            None => None,
        };
        Ok(CV::Bool(Node::Cmp(op, Box::new((a, b)), t)))
    }

    /// `base.name`: read now from a known record, or from a native call's result at each point.
    fn field(&mut self, base: &Expr, name: &str, name_span: &Span, f: &Frame) -> EResult<CV> {
        match self.expr(base, f)? {
            CV::Dyn(mut call) => {
                call.path
                    .push((name.to_string(), name_span.clone(), base.span.clone()));
                Ok(CV::Dyn(call))
            }
            CV::Const(v) => Ok(CV::Const(eval::field(
                self.scope.registry(),
                &v,
                name,
                name_span,
                &base.span,
            )?)),
            CV::Bool(_) => Err(rules::not_a_record(base.span.clone(), name, "a boolean").into()),
            CV::List(_) => Err(rules::not_a_record(base.span.clone(), name, "a list").into()),
            CV::Num(..) => Err(rules::not_a_record(base.span.clone(), name, "a quantity").into()),
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
            CV::Const(v) => Err(rules::expected_boolean(span.clone(), v.kind()).into()),
            _ => Err(rules::expected_boolean(span.clone(), "a quantity").into()),
        }
    }

    /// A numeric node and its dimension.
    fn num(&mut self, cv: CV, span: &Span) -> EResult<(Node, Dim)> {
        match cv {
            CV::Num(n, d) => Ok((n, d)),
            CV::Const(Value::Quantity { si, dim, .. }) => Ok((Node::Const(si), dim)),
            CV::Const(v) => Err(type_mismatch(span.clone(), "a quantity", &v).into()),
            CV::Bool(_) => Err(rules::wrong_kind(span.clone(), "a quantity", "a boolean").into()),
            CV::List(_) => Err(not_sweepable(span, "a number, not a list")),
            CV::Dyn(mut call) => {
                let dim = declared_dim(&call)?;
                call.dim = dim.clone();
                Ok((Node::Native(Box::new(call)), dim))
            }
        }
    }

    fn call(&mut self, e: &Expr, callee: &Expr, args: &[Arg], f: &Frame) -> EResult<CV> {
        if callee.mentions(&|n| self.is_dynamic(n, f)) {
            return Err(not_sweepable(&callee.span, "a function name"));
        }
        let func = match self.expr(callee, f)? {
            CV::Const(Value::Func(func)) => func,
            CV::Const(v) => {
                return Err(Diagnostic::error(
                    Code::NotAFunction,
                    format!("this is {}, not a function", v.kind()),
                )
                .with_span(callee.span.clone())
                .with_label("called here")
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
        match &*func {
            Function::User { .. } => self.call_user(&func, vals, e, f),
            Function::Native {
                name,
                params,
                f: nf,
                returns,
            } => self.native_node(name, params, nf, returns, vals, e),
            Function::Builtin(b) => self.builtin(*b, vals, e),
        }
    }

    /// A user function, inlined: its parameters become slots computed on first use.
    fn call_user(
        &mut self,
        func: &Function,
        vals: Vec<ArgVal<CV>>,
        e: &Expr,
        f: &Frame,
    ) -> EResult<CV> {
        let Function::User {
            name,
            params,
            body,
            source,
            source_id,
            ..
        } = func
        else {
            return Err(Diagnostic::error(Code::Internal, "not a user function").into());
        };
        let spec = param_spec(
            params.iter().map(|p| (p.name.as_str(), p.default.as_ref())),
            |v| CV::Const(v.clone()),
        );
        let bound = bind(name, &spec, vals, &e.span)?;
        if f.depth + 1 > MAX_INLINE {
            return Err(Diagnostic::error(
                Code::RecursionLimit,
                format!("calls nested more than {MAX_INLINE} deep cannot be compiled"),
            )
            .with_span(e.span.clone())
            .with_label(format!("calling `{name}`"))
            .with_help(
                "a swept expression cannot use a function that calls itself with the swept variable",
            )
            .into());
        }
        let mut locals = Vec::with_capacity(params.len());
        for (p, cv) in params.iter().zip(bound) {
            locals.push((p.name.clone(), self.slot(cv)));
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

    /// An argument bound to a parameter: computed once into a slot unless it is trivial.
    fn slot(&mut self, cv: CV) -> CV {
        let trivial = |n: &Node| matches!(n, Node::Var | Node::Const(_) | Node::Slot(_));
        match cv {
            CV::Num(n, d) if !trivial(&n) => {
                self.prog.inits.push(n);
                CV::Num(Node::Slot((self.prog.inits.len() - 1) as u32), d)
            }
            CV::Bool(n) if !trivial(&n) => {
                self.prog.inits.push(n);
                CV::Bool(Node::Slot((self.prog.inits.len() - 1) as u32))
            }
            other => other,
        }
    }

    /// A native (engine) function: its arguments checked now against the types its parameters
    /// declare, by the evaluator's rule; called at each point with the arguments' values.
    fn native_node(
        &mut self,
        name: &str,
        params: &[super::value::Param],
        nf: &NativeFn,
        returns: &Arc<Returns>,
        vals: Vec<ArgVal<CV>>,
        e: &Expr,
    ) -> EResult<CV> {
        let spec = param_spec(
            params.iter().map(|p| (p.name.as_str(), p.default.as_ref())),
            |v| CV::Const(v.clone()),
        );
        let bound = rules::bind_given(name, &spec, vals, &e.span)?;
        let mut nargs = Vec::with_capacity(bound.len());
        for (param, (cv, given)) in params.iter().zip(bound) {
            let span = given.clone().unwrap_or_else(|| e.span.clone());
            let narg = match cv {
                CV::Const(v) => NArg::Const(v),
                CV::Bool(n) => NArg::Bool(n),
                CV::List(_) if given.is_some() => {
                    let reg = self.scope.registry();
                    rules::argument(reg, name, param, rules::Found::List, &span)?;
                    return Err(not_sweepable(&span, "a number, not a list"));
                }
                other => {
                    let (n, d) = self.num(other, &span)?;
                    NArg::Num(n, d)
                }
            };
            if given.is_some() {
                let found = match &narg {
                    NArg::Const(v) => rules::Found::Value(v),
                    NArg::Num(_, d) => rules::Found::Quantity(d),
                    NArg::Bool(_) => rules::Found::Bool,
                };
                rules::argument(self.scope.registry(), name, param, found, &span)?;
            }
            nargs.push(narg);
        }
        Ok(CV::Dyn(NativeCall {
            name: name.to_string(),
            f: nf.clone(),
            returns: returns.clone(),
            args: nargs,
            path: Vec::new(),
            dim: Dim::none(),
            span: e.span.clone(),
        }))
    }

    fn builtin(&mut self, b: Builtin, vals: Vec<ArgVal<CV>>, e: &Expr) -> EResult<CV> {
        match b {
            Builtin::Min | Builtin::Max | Builtin::Sum | Builtin::Mean => {
                self.aggregate(b, vals, &e.span)
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
                let span = &e.span;
                let arg_span = vals.first().map_or(span.clone(), |a| a.span.clone());
                let mut v = bind::<CV>(b.name(), &[("x", None)], vals, span)?;
                let cv = v.pop().ok_or_else(|| not_sweepable(span, "an argument"))?;
                let (n, d) = self.num(cv, &arg_span)?;
                let rd = rules::math(b, &d, self.scope.registry(), &arg_span, None)?;
                let sid = self.span_id(&arg_span);
                Ok(CV::Num(Node::Math(b, Box::new(n), sid), rd))
            }
            _ => Err(not_sweepable(
                &e.span,
                "a number (lists, ranges and `map` cannot be swept)",
            )),
        }
    }

    /// `min`, `max`, `sum`, `mean` of arguments or of one list, of one dimension
    /// ([`rules::aggregate`]).
    fn aggregate(&mut self, b: Builtin, mut vals: Vec<ArgVal<CV>>, span: &Span) -> EResult<CV> {
        let min_max = matches!(b, Builtin::Min | Builtin::Max);
        let items: Vec<(CV, Span)> = if vals.len() == 1 {
            match vals.pop().map(|a| (a.value, a.span)) {
                Some((CV::List(items), _)) => items,
                Some((CV::Const(Value::List(l)), s)) => l
                    .iter()
                    .map(|v| (CV::Const(v.clone()), s.clone()))
                    .collect(),
                Some(other) if min_max => vec![other],
                _ => return Err(not_sweepable(span, "a list")),
            }
        } else if min_max {
            vals.into_iter().map(|a| (a.value, a.span)).collect()
        } else {
            return Err(Diagnostic::error(
                Code::WrongArgumentCount,
                format!("`{}` takes one list", b.name()),
            )
            .with_span(span.clone())
            .into());
        };
        let mut nodes = Vec::with_capacity(items.len());
        let mut dim: Option<(Dim, Span)> = None;
        for (cv, s) in items {
            let (n, d) = self.num(cv, &s)?;
            if let Some((d0, s0)) = &dim {
                rules::aggregate(self.scope.registry(), b, span, (s0, d0), (&s, &d))?;
            }
            dim.get_or_insert((d, s));
            nodes.push(n);
        }
        let Some((d, _)) = dim else {
            return Err(Diagnostic::error(Code::MissingArgument, "an empty list")
                .with_span(span.clone())
                .into());
        };
        let count = nodes.len() as f64;
        let node = match b {
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
        };
        Ok(CV::Num(node, d))
    }
}

fn not_sweepable(span: &Range<usize>, what: &str) -> Fail {
    Diagnostic::error(
        Code::NotSweepable,
        format!("this part of a swept expression must be {what}"),
    )
    .with_span(span.clone())
    .with_label("depends on the swept variable")
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calc::value::{ArgType, Param};

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
        // A tolerance that turns negative at some points fails there, as in a calc block.
        let c = s.compile("t ≈ 2 ± (t - 1)", "t", &Dim::none()).unwrap();
        assert_eq!(c.eval(3.0).unwrap(), 1.0);
        let d = c.eval(0.5).unwrap_err();
        let e = s
            .eval_expr_with("t ≈ 2 ± (t - 1)", &[("t".into(), Value::number(0.5))])
            .unwrap_err();
        assert_eq!((d.code, &d.message, &d.span), (e.code, &e.message, &e.span));
        assert_eq!(d.span, Some(11..18));
        let c = s.compile("exp(t)", "t", &Dim::none()).unwrap();
        assert_eq!(c.eval(1e6).unwrap_err().code, "overflow");
        let c = s
            .compile("if t > 0 then inv(t) else 0", "t", &Dim::none())
            .unwrap();
        assert_eq!(c.eval(0.0).unwrap(), 0.0);
    }

    /// A `decode` stand-in declaring a token-count `batch`, a plain-number `scale` and a record
    /// result; it counts its calls.
    fn scope_with_counted_native() -> (Scope, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let mut s = Scope::new();
        s.register_native(
            "decode",
            &[
                Param::required("batch").accepting(ArgType::Quantity(Dim::token())),
                Param::optional("scale", Value::number(2.0)).accepting(ArgType::number()),
            ],
            Returns::Record(vec![
                ("time".into(), Returns::Quantity(Dim::time())),
                ("name".into(), Returns::Str),
            ]),
            Arc::new(move |args: &[Value]| {
                counted.fetch_add(1, Ordering::SeqCst);
                let b = args[0].as_si().ok_or_else(|| "batch".to_string())?;
                let k = args[1].as_number().ok_or_else(|| "scale".to_string())?;
                Ok(Value::record([
                    ("time", Value::quantity(b * k * 1e-3, Dim::time())),
                    ("name", Value::string("x")),
                ]))
            }),
        );
        (s, calls)
    }

    /// What a native call returns, and the fields read from it, are known from its declaration:
    /// compiling never calls it, and a missing field or a string at the end of the path is the
    /// evaluator's error.
    #[test]
    fn native_results_are_read_from_their_declaration_not_probed() {
        use std::sync::atomic::Ordering;
        let (s, calls) = scope_with_counted_native();
        let c = s
            .compile("decode(batch, scale=3).time in ms", "batch", &Dim::token())
            .unwrap();
        assert_eq!(c.dim(), &Dim::time());
        assert_eq!(calls.load(Ordering::SeqCst), 0, "compiling called it");
        assert!((c.eval(2.0).unwrap() - 6e-3).abs() < 1e-15);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(c.format(6e-3), "6 ms");
        let x = [("batch".to_string(), Value::quantity(2.0, Dim::token()))];
        let d = s
            .compile("decode(batch).tme", "batch", &Dim::token())
            .unwrap_err();
        let e = s.eval_expr_with("decode(batch).tme", &x).unwrap_err();
        assert_eq!(d.code, "unknown-field");
        assert_eq!(
            (&d.message, &d.span, &d.help),
            (&e.message, &e.span, &e.help)
        );
        assert_eq!(
            d.help.as_deref(),
            Some("did you mean `time`? fields: time, name")
        );
        let d = s
            .compile("decode(batch).name", "batch", &Dim::token())
            .unwrap_err();
        assert_eq!(d.code, "type-mismatch");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "only the evaluator called it"
        );
    }

    /// A swept argument of the wrong dimension fails once, at compile time, with the diagnostic
    /// the evaluator gives at the call, before the function is ever called.
    #[test]
    fn a_wrong_dimension_argument_fails_at_compile_time_as_at_the_call() {
        use std::sync::atomic::Ordering;
        let (s, calls) = scope_with_counted_native();
        for (src, var, dim) in [
            ("decode(t).time", "t", Dim::time()),
            ("decode(4 tokens, scale=t).time", "t", Dim::time()),
            ("decode(batch=b, scale=\"x\").time", "b", Dim::token()),
        ] {
            let d = s.compile(src, var, &dim).unwrap_err();
            let e = s
                .eval_expr_with(src, &[(var.to_string(), Value::quantity(1.0, dim.clone()))])
                .unwrap_err();
            assert_eq!(
                (d.code, &d.message, &d.span, &d.label, &d.help),
                (e.code, &e.message, &e.span, &e.label, &e.help),
                "{src}"
            );
        }
        assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing called it");
        let d = s.compile("decode(t).time", "t", &Dim::time()).unwrap_err();
        assert_eq!(d.code, "dimension-mismatch");
        assert_eq!(d.message, "`batch` of `decode` must be tokens, found time");
        assert_eq!(d.span, Some(7..8));
    }

    /// A native function that returns something other than it declares is an error at the point
    /// where it does, not a wrong number.
    #[test]
    fn a_native_result_that_breaks_its_declaration_is_an_error() {
        let mut s = Scope::new();
        s.register_native(
            "liar",
            &[Param::required("x").accepting(ArgType::number())],
            Returns::Quantity(Dim::time()),
            Arc::new(|args: &[Value]| {
                let x = args[0].as_number().unwrap_or(0.0);
                let dim = if x > 1.0 {
                    Dim::information()
                } else {
                    Dim::time()
                };
                Ok(Value::quantity(x, dim))
            }),
        );
        let c = s.compile("liar(n)", "n", &Dim::none()).unwrap();
        assert_eq!(c.eval(0.5).unwrap(), 0.5);
        let d = c.eval(2.0).unwrap_err();
        assert_eq!(d.code, "native-error");
        assert_eq!(
            d.message,
            "`liar` returned a quantity of another dimension than it declares"
        );
        assert_eq!(d.span, Some(0..7));
    }
}
