//! A chapter's scope and the statement runner: names, units, poisoned names, and the block API the
//! notebook layer calls ([`Scope::run_block`]), inline values ([`Scope::eval_inline`]), claims and
//! data-file quantities ([`parse_quantity`]).
//!
//! A statement that fails reports a diagnostic and *poisons* the name it defines; later
//! statements that use a poisoned name are skipped without a further error, so one mistake gives
//! one message. Defining the name again successfully clears the poison.

use crate::diagnostic::Code;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::ast::*;
use super::eval::{EResult, Env, Evaluator, Fail};
use super::format::{self, Choice};
use super::lexer::lex;
use super::parser::{self, defined_name, parse_statement, split_statements};
use super::provenance::{self, Figure};
use super::units::Registry;
use super::value::{ArgType, Builtin, Function, NativeFn, Param, Returns, UserParam, Value};
use crate::diagnostic::{Diagnostic, did_you_mean};

/// Steps one block (or one inline value, or one compile) may take.
pub const DEFAULT_STEP_LIMIT: u64 = 10_000_000;

static NEXT_SOURCE: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_source_id() -> u64 {
    NEXT_SOURCE.fetch_add(1, Ordering::Relaxed)
}

thread_local! {
    /// Set on threads started by [`with_big_stack`], so nested calls run in place.
    static ON_BIG_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Threads with stacks as large as [`with_big_stack`]'s, one per core, for evaluating and rendering
/// a book's chapters in parallel; `None` if they cannot be started.
pub fn big_stack_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("calcbook-{i}"))
            .stack_size(256 << 20)
            .start_handler(|_| ON_BIG_STACK.with(|b| b.set(true)))
            .build()
            .ok()
    })
    .as_ref()
}

/// Runs `f` on a thread with a large stack (deep but bounded recursion in user functions), falling
/// back to the current thread if one cannot be started. On a thread that already has one, `f` runs
/// in place: starting a thread (and mapping its 256 MB stack) per statement cost more than the
/// evaluation itself, so callers that evaluate a lot (a whole book) enter once.
pub fn with_big_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if ON_BIG_STACK.with(|b| b.get()) {
        return f();
    }
    let f = move || {
        ON_BIG_STACK.with(|b| b.set(true));
        f()
    };
    let cell = std::sync::Mutex::new(Some(f));
    let out = std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn_scoped(s, || {
                let g = cell.lock().ok()?.take()?;
                Some(g())
            });
        match handle {
            Ok(h) => match h.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            },
            Err(_) => None,
        }
    });
    match out {
        Some(r) => r,
        None => {
            let g = cell
                .lock()
                .ok()
                .and_then(|mut c| c.take())
                .expect("the closure runs exactly once");
            g()
        }
    }
}

/// Names, units and poisoned names of one chapter.
#[derive(Clone)]
pub struct Scope {
    registry: Registry,
    globals: HashMap<String, Value>,
    poisoned: HashSet<String>,
    pub step_limit: u64,
}

impl Default for Scope {
    fn default() -> Self {
        Scope::new()
    }
}

/// Whether a claim was stated (`claim`) or denied (`refute`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimKind {
    Claim,
    Refute,
}

/// The verdict of one `claim`/`refute`, with both sides shown in one unit.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ClaimResult {
    pub kind: ClaimKind,
    pub words: String,
    /// The whole statement, relative to the block.
    pub span: Range<usize>,
    pub lhs: String,
    pub rhs: String,
    /// Both sides in base units (NaN for non-quantities).
    pub lhs_si: f64,
    pub rhs_si: f64,
    /// The unit both sides are shown in (`ms`, `$/Mtok`; empty for plain numbers).
    pub unit: String,
    /// The operator as written in canonical form (`<`, `≈`).
    pub op: String,
    /// `± 10%` as written, if any (`≈` without one uses 5%).
    pub tolerance: Option<String>,
    /// Whether the claim holds: the condition is true for `claim`, false for `refute`.
    pub holds: bool,
    /// How far the sides are apart, in words (`12.7% apart, 2.67% beyond the ± 10% tolerance`).
    pub margin: String,
    /// The data figures each side was computed from.
    pub lhs_from: Vec<Figure>,
    pub rhs_from: Vec<Figure>,
}

/// What one statement produced.
#[derive(Clone, Debug)]
pub enum OutputKind {
    /// A bare expression: its value, shown beside the line.
    Value {
        display: String,
        value: Value,
    },
    /// `name = expr`: the value bound, shown beside the line too.
    Assignment {
        name: String,
        display: String,
        value: Value,
    },
    Function {
        name: String,
        signature: String,
    },
    /// `unit …` or `dimension …`.
    Declaration {
        name: String,
    },
    Claim(ClaimResult),
    /// Failed; its diagnostic is in [`BlockOutput::diagnostics`].
    Error,
    /// Not run because it uses `because`, whose definition failed.
    Skipped {
        because: String,
    },
}

#[derive(Clone, Debug)]
pub struct StatementOutput {
    /// Byte range of the statement in the block.
    pub span: Range<usize>,
    /// 1-based line of its start in the block.
    pub line: usize,
    pub kind: OutputKind,
    /// For a claim that gave no verdict (it failed, or was skipped because a name it uses
    /// failed): its kind and words, so that it can still be reported as not evaluated.
    pub unevaluated_claim: Option<(ClaimKind, String)>,
    /// The name the statement defines, if any (a failed one is poisoned).
    pub defines: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct BlockOutput {
    pub statements: Vec<StatementOutput>,
    /// Spans relative to the block.
    pub diagnostics: Vec<Diagnostic>,
}

impl BlockOutput {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn claims(&self) -> impl Iterator<Item = &ClaimResult> {
        self.statements.iter().filter_map(|s| match &s.kind {
            OutputKind::Claim(c) => Some(c),
            _ => None,
        })
    }
}

impl Scope {
    /// An empty scope over the prelude's units.
    pub fn new() -> Scope {
        let mut scope = Scope::with_registry(Registry::shared_prelude().clone());
        scope.register_temperature_functions();
        scope
    }

    /// `celsius(20)` → 293.15 K, `fahrenheit(68)` → 293.15 K, and back with `in_celsius(t)`,
    /// `in_fahrenheit(t)`: offset scales are functions, never units, so no arithmetic on them can
    /// silently treat 20 °C as 20 K.
    fn register_temperature_functions(&mut self) {
        let kelvin = super::units::Dim::base(super::units::TEMPERATURE);
        let scales: [(&str, &str, f64, f64); 2] = [
            ("celsius", "in_celsius", 1.0, 273.15),
            ("fahrenheit", "in_fahrenheit", 5.0 / 9.0, 459.67 * 5.0 / 9.0),
        ];
        for (to, from, scale, offset) in scales {
            let k = kelvin.clone();
            self.register_native(
                to,
                &[Param::required("degrees").accepting(ArgType::number())],
                Returns::Quantity(kelvin.clone()),
                Arc::new(move |a: &[Value]| {
                    // Declared a plain number, so checked before the call.
                    let x = a[0].as_number().ok_or("`degrees` is not a number")?;
                    let t = x * scale + offset;
                    if t < 0.0 {
                        return Err(format!("{x} degrees is below absolute zero"));
                    }
                    Ok(Value::quantity(t, k.clone()))
                }),
            );
            let k = kelvin.clone();
            self.register_native(
                from,
                &[Param::required("temperature")
                    .accepting(ArgType::Quantity(kelvin.clone()))
                    .hint("`celsius(20)` or `293 K`")],
                Returns::Quantity(super::units::Dim::none()),
                Arc::new(move |a: &[Value]| {
                    let t = a[0].as_f64_in(&k).ok_or("`temperature` is not one")?;
                    Ok(Value::number((t - offset) / scale))
                }),
            );
        }
    }

    /// An empty scope over the given units.
    pub fn with_registry(registry: Registry) -> Scope {
        Scope {
            registry,
            globals: HashMap::new(),
            poisoned: HashSet::new(),
            step_limit: DEFAULT_STEP_LIMIT,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.globals.get(name)
    }

    /// Binds a name (data records, engine constants); clears any poison on it.
    pub fn set(&mut self, name: &str, value: Value) {
        self.poisoned.remove(name);
        self.globals.insert(name.to_string(), value);
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.globals.keys().map(String::as_str)
    }

    pub fn is_poisoned(&self, name: &str) -> bool {
        self.poisoned.contains(name)
    }

    fn poison(&mut self, name: &str) {
        self.poisoned.insert(name.to_string());
    }

    /// Makes a Rust function callable from calc with positional and named arguments. Each
    /// parameter declares what it accepts ([`Param::accepting`]), checked before `f` is called,
    /// and `returns` declares what it returns, so that a chart sweep knows the dimension of
    /// `f(x).field` without calling `f`.
    pub fn register_native(&mut self, name: &str, params: &[Param], returns: Returns, f: NativeFn) {
        let func = Function::Native {
            name: name.to_string(),
            params: params.to_vec(),
            f,
            returns: Arc::new(returns),
        };
        self.set(name, Value::Func(Arc::new(func)));
    }

    /// A value as shown to readers.
    pub fn format(&self, v: &Value) -> String {
        format::format_value(v, &self.registry)
    }

    /// Runs one fenced block's statements in order. Statements that succeed bind their names even
    /// if others fail; see [`Scope::run_block_atomic`] for all-or-nothing.
    pub fn run_block(&mut self, src: &str) -> BlockOutput {
        with_big_stack(|| self.run_block_here(src))
    }

    /// Runs a block and keeps its effects only if it produced no error.
    pub fn run_block_atomic(&mut self, src: &str) -> BlockOutput {
        let mut trial = self.clone();
        let out = trial.run_block(src);
        if !out.has_errors() {
            *self = trial;
        }
        out
    }

    fn run_block_here(&mut self, src: &str) -> BlockOutput {
        let tokens = lex(src);
        let source: Arc<str> = src.into();
        let source_id = next_source_id();
        let mut out = BlockOutput::default();
        let lines = crate::diagnostic::LineIndex::new(src);
        for toks in split_statements(src, &tokens) {
            // Each statement has its own step limit: one that runs away does not starve the
            // statements after it (the book's budget bounds them all together).
            let steps = std::cell::Cell::new(0);
            let (Some(first), Some(last)) = (toks.first(), toks.last()) else {
                continue;
            };
            let span = first.span.start..last.span.end;
            let line = lines.line(span.start);
            let parsed = parse_statement(src, &toks, &self.registry);
            let unevaluated_claim = claim_words(src, &toks);
            let defines = defined_name(src, &toks);
            let kind = match parsed {
                Err(d) => {
                    out.diagnostics.push(self.name_not_unit(d, src));
                    if let Some(n) = defined_name(src, &toks) {
                        self.poison(&n);
                    }
                    OutputKind::Error
                }
                Ok(stmt) => {
                    match self.exec(&stmt, &source, source_id, &steps) {
                        Ok(k) => k,
                        Err((fail, name)) => {
                            if let Some(n) = &name {
                                self.poison(n);
                            }
                            match fail {
                                Fail::Diag(mut d) => {
                                    if d.code == Code::StepLimit {
                                        // The step that ran out may lie in a function defined
                                        // elsewhere: report the statement that called it.
                                        d.span = Some(span.clone());
                                        d.label = Some("this statement ran out of steps".into());
                                    }
                                    out.diagnostics.push(*d);
                                    OutputKind::Error
                                }
                                Fail::Poisoned(because) => OutputKind::Skipped { because },
                            }
                        }
                    }
                }
            };
            let unevaluated_claim =
                unevaluated_claim.filter(|_| !matches!(kind, OutputKind::Claim(_)));
            out.statements.push(StatementOutput {
                span,
                line,
                kind,
                unevaluated_claim,
                defines,
            });
        }
        out
    }

    /// `2 n` where `n` is a defined name: say so instead of suggesting a unit.
    fn name_not_unit(&self, d: Diagnostic, src: &str) -> Diagnostic {
        let name = d.span.clone().and_then(|s| src.get(s));
        match name {
            Some(n) if d.code == Code::UnknownUnit && self.globals.contains_key(n) => Diagnostic {
                message: format!("`{n}` is a name, not a unit"),
                label: Some("a number followed by a name".into()),
                help: Some(format!("to multiply, write `* {n}`")),
                ..d
            },
            _ => d,
        }
    }

    fn exec(
        &mut self,
        stmt: &Stmt,
        source: &Arc<str>,
        source_id: u64,
        steps: &std::cell::Cell<u64>,
    ) -> Result<OutputKind, (Fail, Option<String>)> {
        let env = Env {
            locals: &[],
            depth: 0,
            source_id,
        };
        let defined = match &stmt.kind {
            StmtKind::Let { name, .. }
            | StmtKind::Fn { name, .. }
            | StmtKind::Unit { name, .. } => Some(name.clone()),
            _ => None,
        };
        let with_name = |f: Fail| (f, defined.clone());
        self.check_statement_units(stmt).map_err(with_name)?;
        match &stmt.kind {
            StmtKind::Let { name, value, .. } => {
                let (v, figs) = provenance::collect(|| {
                    let ev = Evaluator::new(self, steps);
                    ev.eval(value, env)
                });
                let v = v.map_err(with_name)?.with_prov(provenance::to_prov(figs));
                let display = self.format(&v);
                self.set(name, v.clone());
                Ok(OutputKind::Assignment {
                    name: name.clone(),
                    display,
                    value: v,
                })
            }
            StmtKind::Expr(e) => {
                let ev = Evaluator::new(self, steps);
                let v = ev.eval(e, env).map_err(with_name)?;
                Ok(OutputKind::Value {
                    display: self.format(&v),
                    value: v,
                })
            }
            StmtKind::Fn {
                name, params, body, ..
            } => {
                let ev = Evaluator::new(self, steps);
                let mut ps = Vec::with_capacity(params.len());
                for p in params {
                    let default = match &p.default {
                        Some(d) => Some(ev.eval(d, env).map_err(with_name)?.plain()),
                        None => None,
                    };
                    ps.push(UserParam {
                        name: p.name.clone(),
                        default,
                    });
                }
                self.define_function(name, ps, body, source, source_id, &stmt.span)
                    .map_err(with_name)
            }
            StmtKind::Claim {
                refute,
                words,
                cond,
            } => {
                let ev = Evaluator::new(self, steps);
                let r =
                    claim(&ev, *refute, words, cond, &stmt.span, source, env).map_err(with_name)?;
                Ok(OutputKind::Claim(r))
            }
            StmtKind::Unit {
                name,
                name_span,
                def,
            } => self
                .declare_unit(name, name_span, def, steps, env)
                .map_err(with_name),
            StmtKind::Dimension { name, name_span } => {
                self.registry.declare_dimension(name).map_err(|m| {
                    (
                        Fail::Diag(Box::new(
                            Diagnostic::error(Code::BadDimension, m).with_span(name_span.clone()),
                        )),
                        None,
                    )
                })?;
                Ok(OutputKind::Declaration { name: name.clone() })
            }
        }
    }

    /// `fn name(params) = body`: the parameters' defaults already evaluated.
    fn define_function(
        &mut self,
        name: &str,
        params: Vec<UserParam>,
        body: &Expr,
        source: &Arc<str>,
        source_id: u64,
        span: &Span,
    ) -> Result<OutputKind, Fail> {
        self.check_names(body, name, &params)?;
        let signature = format!(
            "{name}({})",
            params
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let f = Function::User {
            name: name.to_string(),
            params,
            body: Arc::new(body.clone()),
            source: source.clone(),
            source_id,
            span: span.clone(),
        };
        self.set(name, Value::Func(Arc::new(f)));
        Ok(OutputKind::Function {
            name: name.to_string(),
            signature,
        })
    }

    /// `unit name = quantity` or `unit name: dimension`.
    fn declare_unit(
        &mut self,
        name: &str,
        name_span: &Span,
        def: &UnitDefinition,
        steps: &std::cell::Cell<u64>,
        env: Env,
    ) -> Result<OutputKind, Fail> {
        let (factor, dim) = match def {
            UnitDefinition::Expr(e) => {
                let ev = Evaluator::new(self, steps);
                match ev.eval(e, env)? {
                    Value::Quantity { si, dim, .. } if si > 0.0 => (si, dim),
                    v => {
                        return Err(Diagnostic::error(
                            Code::BadUnit,
                            "a unit must be a positive quantity",
                        )
                        .with_span(e.span.clone())
                        .with_label(format!("this is {}", self.format(&v)))
                        .with_help("write e.g. `unit Mtok = 1e6 token`")
                        .into());
                    }
                }
            }
            UnitDefinition::Base(d, span) => match self.registry.dimension(d) {
                Some(dim) => (1.0, dim),
                None => return Err(self.unknown_dimension(d, span).into()),
            },
        };
        self.registry.declare_unit(name, factor, dim).map_err(|m| {
            Fail::from(Diagnostic::error(Code::BadUnit, m).with_span(name_span.clone()))
        })?;
        Ok(OutputKind::Declaration {
            name: name.to_string(),
        })
    }

    fn unknown_dimension(&self, d: &str, span: &Span) -> Diagnostic {
        let diag = Diagnostic::error(Code::UnknownDimension, format!("unknown dimension `{d}`"))
            .with_span(span.clone())
            .with_label("not a dimension");
        match did_you_mean(d, self.registry.dimension_names()) {
            Some(s) => diag.with_help(format!(
                "declare it first: `dimension {d}` (or did you mean `{s}`?)"
            )),
            None => diag.with_help(format!("declare it first: `dimension {d}`")),
        }
    }

    /// [`Scope::check_unit_names`] over a statement's expressions (a function's parameters count
    /// as names).
    fn check_statement_units(&self, stmt: &Stmt) -> EResult<()> {
        match &stmt.kind {
            StmtKind::Let { value: e, .. }
            | StmtKind::Expr(e)
            | StmtKind::Claim { cond: e, .. } => self.check_unit_names(e, &[]),
            StmtKind::Fn { params, body, .. } => {
                let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                self.check_unit_names(body, &names)
            }
            _ => Ok(()),
        }
    }

    /// A number followed by a unit whose name is also a defined name (`N = 10` then `3 N`) reads
    /// as the unit (3 newtons) where the author may have meant the name: an error rather than a
    /// silent guess.
    fn check_unit_names(&self, e: &Expr, params: &[&str]) -> EResult<()> {
        if let ExprKind::Quantity(_, unit) = &e.kind {
            for term in &unit.terms {
                let shadowed = params.contains(&term.name.as_str())
                    || self.globals.contains_key(&term.name)
                    || self.poisoned.contains(&term.name);
                if shadowed {
                    return Err(Fail::Diag(Box::new(
                        Diagnostic::error(
                            Code::AmbiguousUnit,
                            format!("`{}` is both a unit and a defined name", term.name),
                        )
                        .with_span(term.span.clone())
                        .with_label("read as the unit")
                        .with_help(format!(
                            "to multiply by the name, write `* {}`; for the unit, rename the name",
                            term.name
                        )),
                    )));
                }
            }
        }
        for c in children(&e.kind) {
            self.check_unit_names(c, params)?;
        }
        Ok(())
    }

    /// Every name a function body uses must exist when it is defined (a typo is reported at the
    /// definition, not at some later call).
    fn check_names(&self, body: &Expr, fname: &str, params: &[UserParam]) -> EResult<()> {
        let mut names = Vec::new();
        collect_names(body, &mut names);
        for (n, span) in names {
            let known = n == fname
                || params.iter().any(|p| p.name == n)
                || self.globals.contains_key(&n)
                || Builtin::by_name(&n).is_some()
                || self.registry.is_unit(&n);
            if known {
                continue;
            }
            if self.is_poisoned(&n) {
                return Err(Fail::Poisoned(n));
            }
            let candidates: Vec<&str> = params
                .iter()
                .map(|p| p.name.as_str())
                .chain(self.names())
                .chain(Builtin::ALL.iter().map(|(n, _)| *n))
                .collect();
            let d = Diagnostic::error(Code::UnknownName, format!("unknown name `{n}`"))
                .with_span(span)
                .with_label("not a parameter or a defined name");
            return Err(Fail::Diag(Box::new(
                match crate::diagnostic::suggest_name(&n, &candidates) {
                    Some(help) => d.with_help(help),
                    None => d.with_help("add it as a parameter, or define it above the function"),
                },
            )));
        }
        Ok(())
    }

    /// Evaluates the text of an inline value (`` `= expr in unit` `` in prose, the part after `=`)
    /// and returns it formatted. A name whose definition failed gives a warning coded
    /// `depends-on-failed` (the error itself was reported where the name was defined).
    pub fn eval_inline(&self, src: &str) -> Result<String, Diagnostic> {
        let v = self.eval_expr(src)?;
        Ok(self.format(&v))
    }

    /// Evaluates one expression against the scope (chart marks, table cells, inline values).
    pub fn eval_expr(&self, src: &str) -> Result<Value, Diagnostic> {
        with_big_stack(|| {
            let e = parser::parse_expression(src, &self.registry)?;
            let steps = std::cell::Cell::new(0);
            let ev = Evaluator::new(self, &steps);
            let env = Env {
                locals: &[],
                depth: 0,
                source_id: next_source_id(),
            };
            ev.eval(&e, env).map_err(|f| fail_to_diag(f, &e.span))
        })
    }

    /// Evaluates an expression with extra local bindings (a table's `row`, a chart's variable).
    pub fn eval_expr_with(
        &self,
        src: &str,
        locals: &[(String, Value)],
    ) -> Result<Value, Diagnostic> {
        with_big_stack(|| {
            let e = parser::parse_expression(src, &self.registry)?;
            let steps = std::cell::Cell::new(0);
            let ev = Evaluator::new(self, &steps);
            let env = Env {
                locals,
                depth: 0,
                source_id: next_source_id(),
            };
            ev.eval(&e, env).map_err(|f| fail_to_diag(f, &e.span))
        })
    }

    /// Parses a quantity written in a data file (`8 TB/s`, `$2.00/hour`, `0.5`) with this
    /// scope's units.
    pub fn parse_quantity(&self, text: &str) -> Result<Value, Diagnostic> {
        // This scope's registry as it is: a clone per quantity made 100,000 data entries slow.
        parse_quantity_in(text, self, true)
    }

    /// As [`Scope::parse_quantity`] for text that may well not be a quantity (prose that starts
    /// with a number): without looking for a unit to suggest, which costs more than the parse.
    pub fn try_quantity(&self, text: &str) -> Option<Value> {
        parse_quantity_in(text, self, false).ok()
    }
}

/// The kind and words of a statement that starts `claim "…"` or `refute "…"`, read from its
/// tokens so that even a claim that does not parse is known as one.
fn claim_words(src: &str, toks: &[super::lexer::Token]) -> Option<(ClaimKind, String)> {
    let first = toks.first()?;
    let kind = match src.get(first.span.clone())? {
        "claim" => ClaimKind::Claim,
        "refute" => ClaimKind::Refute,
        _ => return None,
    };
    match &toks.get(1)?.kind {
        super::lexer::TokKind::Str(words) => Some((kind, words.clone())),
        _ => Some((kind, String::new())),
    }
}

pub(crate) fn fail_to_diag(f: Fail, span: &Span) -> Diagnostic {
    match f {
        Fail::Diag(mut d) if d.code == Code::StepLimit => {
            // Report the expression that ran out, not a step inside a function it called.
            d.span = Some(span.clone());
            d.label = Some("this ran out of steps".into());
            *d
        }
        Fail::Diag(d) => *d,
        Fail::Poisoned(n) => Diagnostic::warning(
            Code::DependsOnFailed,
            format!("`{n}` has no value because its definition failed"),
        )
        .with_span(span.clone())
        .with_help("fix the error where it is defined"),
    }
}

fn collect_names(e: &Expr, out: &mut Vec<(String, Span)>) {
    if let ExprKind::Name(n) = &e.kind {
        out.push((n.clone(), e.span.clone()));
    }
    for c in children(&e.kind) {
        collect_names(c, out);
    }
}

/// Parses a quantity from a data file: a constant expression of numbers and units. Spans are
/// relative to `text`.
pub fn parse_quantity(text: &str, reg: &Registry) -> Result<Value, Diagnostic> {
    parse_quantity_in(text, &Scope::with_registry(reg.clone()), true)
}

/// As [`parse_quantity`], with the units of `scope` (its names are never looked up); `suggest`:
/// an unknown unit's error suggests a known one.
fn parse_quantity_in(text: &str, scope: &Scope, suggest: bool) -> Result<Value, Diagnostic> {
    let reg = &scope.registry;
    let e = parser::parse_expression(text, reg)?;
    if let Some((n, span)) = first_name(&e) {
        return Err(
            Diagnostic::error(Code::UnknownUnit, format!("`{n}` is not a unit"))
                .with_span(span)
                .with_label("not a unit")
                .with_help(match reg.suggest_unit(&n).filter(|_| suggest) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "a quantity is a number and a unit, such as `8 TB/s`".into(),
                }),
        );
    }
    // Only literals and arithmetic remain (no names), so nothing can hang.
    let steps = std::cell::Cell::new(0);
    let ev = Evaluator::new(scope, &steps);
    let env = Env {
        locals: &[],
        depth: 0,
        source_id: 0,
    };
    ev.eval(&e, env)
        .map(Value::plain)
        .map_err(|f| fail_to_diag(f, &e.span))
}

fn first_name(e: &Expr) -> Option<(String, Span)> {
    match &e.kind {
        ExprKind::Name(n) => Some((n.clone(), e.span.clone())),
        ExprKind::Call { callee, .. } => first_name(callee),
        _ => children(&e.kind).find_map(first_name),
    }
}

/// Evaluates a claim's comparison and describes the verdict.
fn claim(
    ev: &Evaluator,
    refute: bool,
    words: &str,
    cond: &Expr,
    stmt_span: &Span,
    source: &str,
    env: Env,
) -> EResult<ClaimResult> {
    let ExprKind::Compare {
        op, lhs, rhs, tol, ..
    } = &cond.kind
    else {
        return Err(Fail::Diag(Box::new(
            Diagnostic::error(
                Code::ClaimNotComparison,
                "a claim's condition must be a comparison",
            )
            .with_span(cond.span.clone())
            .with_label("not a comparison")
            .with_help("state it as `lhs < rhs`, `lhs >= rhs` or `lhs ≈ rhs ± 10%`"),
        )));
    };
    let (cond_holds, a, b, t) = ev.compare(cond, env)?;
    let holds = cond_holds != refute;
    let reg = ev.reg();
    let tolerance = tol
        .as_ref()
        .map(|t| source.get(t.span.clone()).unwrap_or("").trim().to_string());
    let kind = if refute {
        ClaimKind::Refute
    } else {
        ClaimKind::Claim
    };
    let (lhs_si, rhs_si, lhs, rhs, unit, margin) = match (&a, &b) {
        (
            Value::Quantity {
                si: x,
                dim,
                shown: sa,
                ..
            },
            Value::Quantity {
                si: y, shown: sb, ..
            },
        ) => {
            let shown = sb.as_deref().or(sa.as_deref());
            let reference = if *y != 0.0 { *y } else { *x };
            let digits = shown.and_then(|s| s.digits);
            // A side written in percent (`x < 1%`) shows both sides in percent, as the calc
            // line `x in %` above it does: `0.339% < 1%`, not `0.00339 < 0.01`.
            let in_percent = dim.is_dimensionless()
                && [lhs, rhs]
                    .iter()
                    .any(|e| source.get(e.span.clone()).is_some_and(|t| t.contains('%')));
            let choice = match shown.and_then(|s| s.unit.as_ref()) {
                Some((text, f)) => Choice::from_unit(text, *f),
                None if in_percent => Choice::from_unit("%", 0.01),
                None => format::choose(dim, reg, reference, digits.unwrap_or(3)),
            };
            let mut l = format::render(*x, &choice, digits);
            let mut r = format::render(*y, &choice, digits);
            // Two different sides shown alike would hide why a tight claim failed: add digits
            // to both until they differ.
            let mut more = digits.unwrap_or(3);
            while !holds && l == r && x != y && more < 9 {
                more += 1;
                l = format::render(*x, &choice, Some(more));
                r = format::render(*y, &choice, Some(more));
            }
            let margin = margin_text(*op, *x, *y, t, &choice);
            (*x, *y, l, r, choice.unit_text(), margin)
        }
        _ => (
            f64::NAN,
            f64::NAN,
            ev.scope.format(&a),
            ev.scope.format(&b),
            String::new(),
            if a == b {
                "equal".to_string()
            } else {
                "different".to_string()
            },
        ),
    };
    Ok(ClaimResult {
        kind,
        words: words.to_string(),
        span: stmt_span.clone(),
        lhs,
        rhs,
        lhs_si,
        rhs_si,
        unit,
        op: op.symbol().to_string(),
        tolerance,
        holds,
        margin,
        lhs_from: a.prov().map(<[Figure]>::to_vec).unwrap_or_default(),
        rhs_from: b.prov().map(<[Figure]>::to_vec).unwrap_or_default(),
    })
}

fn pct(x: f64) -> String {
    format!("{}%", format::unit_number(x * 100.0, 3))
}

/// How far `x` is from `y`, in words, for the claim box and `check`'s report.
fn margin_text(op: CmpOp, x: f64, y: f64, tol: Option<(f64, bool)>, choice: &Choice) -> String {
    let diff = format::render((x - y).abs(), choice, None);
    if op == CmpOp::Approx {
        let (t, relative) = tol.unwrap_or((super::eval::DEFAULT_TOLERANCE, true));
        if relative {
            if y == 0.0 {
                return format!("{diff} apart (a relative tolerance of zero)");
            }
            let dev = (x - y).abs() / y.abs();
            // Differences at the level of floating-point rounding are no difference.
            if dev < 1e-9 {
                return "equal".into();
            }
            return if dev <= t.abs() * (1.0 + 1e-12) {
                format!("{} apart, within ± {}", pct(dev), pct(t.abs()))
            } else {
                format!(
                    "{} apart, {} beyond the ± {} tolerance",
                    pct(dev),
                    pct(dev - t.abs()),
                    pct(t.abs())
                )
            };
        }
        let tol_text = format::render(t.abs(), choice, None);
        return if (x - y).abs() <= t.abs() {
            format!("{diff} apart, within ± {tol_text}")
        } else {
            format!(
                "{diff} apart, {} beyond the ± {tol_text} tolerance",
                format::render((x - y).abs() - t.abs(), choice, None)
            )
        };
    }
    if x == y {
        return "equal".into();
    }
    let ratio = if y != 0.0 { x / y } else { f64::NAN };
    let rel = if ratio.is_finite() && ratio > 0.0 {
        if (0.5..=2.0).contains(&ratio) {
            let r = ratio - 1.0;
            format!(
                "the left side is {} {} the right",
                pct(r.abs()),
                if r < 0.0 { "below" } else { "above" }
            )
        } else {
            format!(
                "the left side is {}× the right",
                format::plain_number(ratio, 3)
            )
        }
    } else {
        format!(
            "the left side is {} the right",
            if x < y { "below" } else { "above" }
        )
    };
    format!("{rel} (difference {diff})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calc::units::Dim;

    fn run(src: &str) -> (Scope, BlockOutput) {
        let mut s = Scope::new();
        let out = s.run_block(src);
        (s, out)
    }

    /// Display strings of the statements that show a value.
    fn shown(out: &BlockOutput) -> Vec<String> {
        out.statements
            .iter()
            .filter_map(|s| match &s.kind {
                OutputKind::Value { display, .. } | OutputKind::Assignment { display, .. } => {
                    Some(display.clone())
                }
                _ => None,
            })
            .collect()
    }

    #[track_caller]
    fn expect(src: &str, display: &str) {
        let (_, out) = run(src);
        assert!(out.diagnostics.is_empty(), "{src}: {:?}", out.diagnostics);
        assert_eq!(
            shown(&out).last().map(String::as_str),
            Some(display),
            "{src}"
        );
    }

    #[track_caller]
    fn fails(src: &str, code: &str) -> Diagnostic {
        let (_, out) = run(src);
        let d = out
            .diagnostics
            .first()
            .unwrap_or_else(|| panic!("{src}: no error, shown {:?}", shown(&out)))
            .clone();
        assert_eq!(d.code, code, "{src}: {d:?}");
        d
    }

    #[test]
    fn the_design_example_block_runs() {
        let mut s = Scope::new();
        let gpu = Value::record([
            ("name", Value::string("B200")),
            (
                "flops",
                Value::record([("bf16", s.parse_quantity("2250 TFLOP/s").unwrap())]),
            ),
            (
                "hbm",
                Value::record([("bandwidth", s.parse_quantity("8 TB/s").unwrap())]),
            ),
        ]);
        s.set("hardware", Value::record([("b200", gpu)]));
        let out = s.run_block(
            "gpu = hardware.b200\n\
             ridge = gpu.flops.bf16 / gpu.hbm.bandwidth      # ≈ 281 FLOP/B\n\
             sparsity = 256 / 8\n\
             batch_needed = ridge * sparsity\n\
             claim \"Batch size needs to be bigger than approximately 300 times sparsity\":\n    \
                 ridge ≈ 300 FLOP/B ± 10%\n",
        );
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let shown = shown(&out);
        assert_eq!(shown[1..], ["281 FLOP/B", "32", "9,000 FLOP/B"]);
        let c = out.claims().next().unwrap();
        assert!(c.holds);
        assert_eq!(
            (c.lhs.as_str(), c.rhs.as_str(), c.unit.as_str()),
            ("281 FLOP/B", "300 FLOP/B", "FLOP/B")
        );
        assert_eq!(c.tolerance.as_deref(), Some("10%"));
        assert_eq!(c.margin, "6.25% apart, within ± 10%");
        assert_eq!(out.statements[4].line, 5);
    }

    #[test]
    fn arithmetic_units_and_conversions() {
        expect("8 TB/s * 1 ms", "8 GB");
        expect("x = 80 GB / (3.35 TB/s)\nx", "23.9 ms");
        expect("80 GB / (3.35 TB/s) in µs", "23,900 µs");
        expect("1 GiB in MB to 4 digits", "1,074 MB");
        expect("1 Gb/s in MB/s", "125 MB/s");
        expect("$2.40/Mtok * 1e9 tokens", "$2,400");
        expect("2.40 $/hour * 10 min", "$0.40");
        expect("700 W * 1 hour in kWh", "0.7 kWh");
        expect("10% * 50", "5");
        expect("1 / 2 s", "0.5 /s");
        expect("sqrt(4 s^2)", "2 s");
        expect("2^10", "1,024");
        expect("-2^2", "-4");
        expect("1 hour + 30 min", "90 min");
        expect("3 days", "3 days");
        expect("3 days in day", "3 days");
        expect("1 day in day", "1 day");
        expect("max(1 ms, 2 s, 30 us)", "2 s");
        expect("min([3, 1, 2])", "1");
        expect("sum(1..4)", "10");
        expect("len([1, 2, 3])", "3");
        expect("ceil(2.1)", "3");
        expect("log2(1024)", "10");
        expect("[1 s, 2 ms][1]", "2 ms");
        expect("if 2 > 1 then \"yes\" else \"no\"", "yes");
        expect("not (1 < 2) or 3 >= 3 and true", "true");
        expect("{a: 1 s, b: [1, 2]}.a", "1 s");
        expect("fn sq(x) = x * x\nmap([1, 2, 3], sq)", "[1, 4, 9]");
        expect("range(1 s, 3 s, 1 s)", "[1 s, 2 s, 3 s]");
        expect("x = 2 ms\nx in s", "0.002 s");
        expect("\"a\" + \"b\"", "ab");
    }

    #[test]
    fn functions_take_positional_named_and_default_arguments() {
        let src = "fn cost(tokens, price=$2/Mtok, discount=0%) = tokens * price * (1 - discount)\n";
        expect(&format!("{src}cost(1e6 tokens)"), "$2.00");
        expect(&format!("{src}cost(1e6 tokens, discount=50%)"), "$1.00");
        expect(&format!("{src}cost(1e6 tokens, $3/Mtok)"), "$3.00");
        let d = fails(
            &format!("{src}cost(1e6 tokens, discout=5%)"),
            "unknown-argument",
        );
        assert!(d.help.unwrap().contains("did you mean `discount`"));
        fails(&format!("{src}cost()"), "missing-argument");
        fails(&format!("{src}cost(1, 2, 3, 4)"), "wrong-argument-count");
        fails(
            &format!("{src}cost(1, price=1, price=2)"),
            "duplicate-argument",
        );
        fails("fn f(x) = x + y", "unknown-name");
        fails("fn f(n) = f(n + 1)\nf(1)", "recursion-limit");
        // A small step limit, so the runaway stops at once.
        let mut small = Scope::new();
        small.step_limit = 10_000;
        let out = small.run_block("fn f(n) = if n < 1 then 1 else f(n - 1) + f(n - 1)\nf(60)");
        assert_eq!(
            out.diagnostics[0].code, "step-limit",
            "{:?}",
            out.diagnostics
        );
        assert!(out.diagnostics[0].message.contains("10,000 steps"));
        expect(
            "fn fact(n) = if n <= 1 then 1 else n * fact(n - 1)\nfact(10)",
            "3.63 million",
        );
    }

    #[test]
    fn mismatched_dimensions_point_at_the_operator_and_name_both_sides() {
        let d = fails("x = 8 TB/s + 3 s", "dimension-mismatch");
        assert_eq!(d.span, Some(11..12));
        assert_eq!(d.message, "cannot add bytes/time (bandwidth) and time");
        assert_eq!(d.secondary[0].span, 4..10);
        assert_eq!(d.secondary[0].message, "this is bytes/time (bandwidth)");
        assert_eq!(d.secondary[1].span, 13..16);
        let d = fails("8 TB/s in s", "dimension-mismatch");
        assert_eq!(d.span, Some(10..11));
        fails("8 TB/s < 3 s", "dimension-mismatch");
        fails("log(3 s)", "dimension-mismatch");
    }

    #[test]
    fn runtime_errors_are_reported_with_codes() {
        fails("1 / 0", "division-by-zero");
        fails("10^400", "overflow");
        fails("x = {a: 1}\nx.b", "unknown-field");
        fails("[1, 2][5]", "index-out-of-range");
        fails("1..1e9", "range-too-large");
        fails("3 s and true", "type-mismatch");
        fails("batchsize = 3\nbatch_size", "unknown-name");
        fails("8 TBs", "unknown-unit");
        fails("8 TB in bytess", "unknown-unit");
        fails("unit EUR: currency", "unknown-dimension");
        fails("(1 s)^x", "unknown-name");
        fails("sqrt(-1)", "domain-error");
        fails("claim \"x\": 1 + 1", "claim-not-comparison");
        let d = fails("batch = 3\nbatchh + 1", "unknown-name");
        assert_eq!(d.help.as_deref(), Some("did you mean `batch`?"));
    }

    #[test]
    fn a_failed_definition_skips_its_users_silently() {
        let (s, out) =
            run("a = 1 / 0\nb = a + 1\nc = 2\nd = b * c\nfn f(x) = a * x\ne = 1 +* 2\nf2 = e");
        assert_eq!(out.diagnostics.len(), 2, "{:?}", out.diagnostics);
        let kinds: Vec<&OutputKind> = out.statements.iter().map(|s| &s.kind).collect();
        assert!(matches!(kinds[0], OutputKind::Error));
        assert!(matches!(kinds[1], OutputKind::Skipped { because } if because == "a"));
        assert!(matches!(kinds[2], OutputKind::Assignment { .. }));
        assert!(matches!(kinds[3], OutputKind::Skipped { because } if because == "b"));
        assert!(matches!(kinds[4], OutputKind::Skipped { .. }));
        assert!(matches!(kinds[5], OutputKind::Error));
        assert!(matches!(kinds[6], OutputKind::Skipped { because } if because == "e"));
        assert!(s.is_poisoned("d") && s.get("c").is_some());
        let d = s.eval_inline("b").unwrap_err();
        assert_eq!(d.code, "depends-on-failed");
    }

    #[test]
    fn a_side_written_in_percent_shows_both_sides_in_percent() {
        // Issue #15: the calc line shows `0.339%`, so the claim must not say `0.00339 < 0.01`.
        let (_, out) =
            run("u = 0.00339\nclaim \"busy under 1%\": u < 1%\nclaim \"tol\": u ≈ 0.0034 ± 5%");
        let c: Vec<&ClaimResult> = out.claims().collect();
        assert_eq!((c[0].lhs.as_str(), c[0].rhs.as_str()), ("0.339%", "1%"));
        // A percent tolerance alone does not turn the sides into percent.
        assert_eq!(c[1].lhs, "0.00339");
    }

    #[test]
    fn claims_and_refutations_record_verdict_and_margin() {
        let (_, out) = run("t = 1.31 ms\n\
             claim \"fast\": t < 2 ms\n\
             claim \"very fast\": t < 1 ms\n\
             refute \"slow\": t > 1 s\n\
             claim \"about\": t ≈ 1.5 ms ± 10%\n\
             claim \"abs\": t ~= 1.3 ms ± 0.05 ms\n\
             claim \"price\": $2.40/Mtok == 2.4e-6 $/token");
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let c: Vec<&ClaimResult> = out.claims().collect();
        assert!(c[0].holds && !c[1].holds && c[2].holds && !c[3].holds && c[4].holds && c[5].holds);
        assert_eq!(
            c[0].margin,
            "the left side is 34.5% below the right (difference 0.69 ms)"
        );
        assert_eq!((c[1].lhs.as_str(), c[1].rhs.as_str()), ("1.31 ms", "1 ms"));
        assert_eq!(
            c[1].margin,
            "the left side is 31% above the right (difference 0.31 ms)"
        );
        assert_eq!(c[2].kind, ClaimKind::Refute);
        assert_eq!(
            c[2].margin,
            "the left side is 0.00131× the right (difference 0.999 s)"
        );
        assert_eq!(c[3].margin, "12.7% apart, 2.67% beyond the ± 10% tolerance");
        assert_eq!(c[4].margin, "0.01 ms apart, within ± 0.05 ms");
        assert_eq!(c[5].rhs, "$2.40/Mtok");
        assert!((c[1].lhs_si - 1.31e-3).abs() < 1e-15);
    }

    #[test]
    fn books_declare_units_and_dimensions() {
        expect(
            "unit Mtok2 = 1e6 token\n3 Mtok2 in tokens",
            "3,000,000 tokens",
        );
        expect(
            "dimension currency_eur\nunit EUR: currency_eur\nx = 3 EUR\nx * 2",
            "6 EUR",
        );
        expect(
            "dimension req\nunit request: req\n100 request / 1 s",
            "100 request/s",
        );
        fails("unit s = 2 s", "bad-unit");
        fails("unit bad = -1 s", "bad-unit");
    }

    #[test]
    fn inline_values_and_data_quantities() {
        let (s, _) = run("x = 80 GB / (3.35 TB/s)");
        assert_eq!(s.eval_inline("x").unwrap(), "23.9 ms");
        assert_eq!(s.eval_inline(" x in us to 2 digits").unwrap(), "24,000 us");
        assert_eq!(s.eval_inline("y").unwrap_err().code, "unknown-name");
        let reg = Registry::prelude();
        let q = parse_quantity("1.8 TB/s", &reg).unwrap();
        assert_eq!(q.as_unit("GB/s", &reg).unwrap(), 1800.0);
        let q = parse_quantity("$2.00/hour", &reg).unwrap();
        assert_eq!(q.dim(), Some(&Dim::money().div(&Dim::time()).unwrap()));
        assert_eq!(parse_quantity("0.5", &reg).unwrap().as_number(), Some(0.5));
        let d = parse_quantity("8 TB/sec2", &reg).unwrap_err();
        assert_eq!((d.code.as_str(), d.span), ("unknown-unit", Some(5..9)));
        assert_eq!(
            parse_quantity("8 x", &reg).unwrap_err().code,
            "unknown-unit"
        );
        assert_eq!(
            parse_quantity("foo", &reg).unwrap_err().code,
            "unknown-unit"
        );
    }

    #[test]
    fn atomic_blocks_change_nothing_on_failure() {
        let mut s = Scope::new();
        let out = s.run_block_atomic("a = 1\nb = 1 / 0");
        assert!(out.has_errors());
        assert!(s.get("a").is_none() && !s.is_poisoned("b"));
        let out = s.run_block_atomic("a = 1");
        assert!(!out.has_errors() && s.get("a").is_some());
    }

    #[test]
    fn errors_inside_functions_from_earlier_blocks_point_at_the_call() {
        let mut s = Scope::new();
        s.run_block("fn per(x) = x / (1 s - 1 s)");
        let out = s.run_block("y = 2\nz = per(y)");
        let d = &out.diagnostics[0];
        assert_eq!(d.code, "division-by-zero");
        assert_eq!(d.span, Some(10..16));
        assert!(d.notes[0].contains("fn per(x) = x / (1 s - 1 s)"), "{d:?}");
    }

    #[test]
    fn a_number_before_a_name_that_is_also_a_unit_is_ambiguous() {
        let mut s = Scope::new();
        let out = s.run_block("N = 10\nx = 3 N\ny = 3 * N\nfn f(L) = 2 L");
        let codes: Vec<&str> = out.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["ambiguous-unit", "ambiguous-unit"]);
        assert_eq!(s.get("y").and_then(Value::as_number), Some(30.0));
        // Where no name shadows it, the unit is the unit.
        let out = Scope::new().run_block("f = 3 N * 2 m in J");
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    }

    #[test]
    fn a_tight_claim_shows_both_sides_with_the_digits_that_tell_them_apart() {
        let mut s = Scope::new();
        let out = s.run_block("claim \"tight\": 1.0004 s ≈ 1.0 s ± 0.01%");
        let c = out.claims().next().expect("a claim");
        assert!(!c.holds);
        assert_eq!((c.lhs.as_str(), c.rhs.as_str()), ("1.0004 s", "1 s"));
    }

    #[test]
    fn claim_sides_carry_the_figures_they_read() {
        use super::super::provenance::{Figure, to_prov};
        let mut s = Scope::new();
        let fig = Figure {
            file: "data/x.yaml".into(),
            line: 4,
            path: "a.bw".into(),
        };
        let bw = s
            .parse_quantity("8 TB/s")
            .unwrap()
            .with_prov(to_prov(vec![fig.clone()]));
        s.set("x", Value::record([("bw", bw)]));
        let out = with_big_stack(|| s.run_block("t = 80 GB / x.bw\nclaim \"fast\": t < 20 ms"));
        let c = out.claims().next().expect("a claim");
        assert_eq!(c.lhs_from, vec![fig]);
        assert!(c.rhs_from.is_empty());
    }
}
