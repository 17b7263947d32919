//! Parser: tokens to statements and expressions.
//!
//! A block is first split into statements ([`split_statements`]): a newline ends a statement
//! unless the line ends with an operator (or `,`, `:`, `=`, a keyword such as `and`), the next
//! line is indented more than the statement's first line, or brackets are open and the next line
//! starts with the closing one. Each statement is then parsed on its own, against the unit
//! registry of the moment (so `unit Mtok = 1e6 token` in one statement makes `5 Mtok` parse in the
//! next), which is also how one bad line never stops the others.
//!
//! Precedence, loosest first: `in unit` / `to N digits`; `if … then … else …`; `or`; `and`;
//! `not`; comparisons (`< <= > >= == != ≈`, not chained, `± tol` after the right side); `..`;
//! `+ -`; `* /`; unary `-`; `^` (right-assoc); postfix call, `.field`, `[index]`. A number followed
//! by a unit name is one quantity literal (`8 TB/s`, `$2.40/Mtok`): the `/` inside a unit must
//! touch both names, so `64 tokens / b` divides by a variable `b` while `1 Gb/s` is a unit.

use super::ast::*;
use super::lexer::{TokKind, Token, lex};
use super::units::{Rat, Registry};
use crate::diagnostic::Code;
use crate::diagnostic::Diagnostic;

/// Deepest expression tree the parser builds (bounds recursion in every later stage).
pub const MAX_DEPTH: u32 = 100;
/// Deepest nesting of parentheses, brackets and prefix operators (bounds the parser's recursion).
pub const MAX_NEST: u32 = 32;

pub const KEYWORDS: &[&str] = &[
    "fn",
    "claim",
    "refute",
    "unit",
    "dimension",
    "if",
    "then",
    "else",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
];

pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

type PResult<T> = Result<T, Diagnostic>;

/// Groups a block's tokens into statements (comments dropped).
pub fn split_statements(src: &str, tokens: &[Token]) -> Vec<Vec<Token>> {
    let toks: Vec<&Token> = tokens
        .iter()
        .filter(|t| t.kind != TokKind::Comment)
        .collect();
    let indent = |t: &Token| {
        let line_start = src[..t.span.start].rfind('\n').map_or(0, |i| i + 1);
        t.span.start - line_start
    };
    let mut out = Vec::new();
    let mut cur: Vec<Token> = Vec::new();
    let mut depth = 0usize;
    let mut stmt_indent = 0;
    for (i, tok) in toks.iter().enumerate() {
        if tok.kind == TokKind::Newline {
            let Some(last) = cur.last() else { continue };
            let next = toks[i + 1..].iter().find(|t| t.kind != TokKind::Newline);
            let Some(next) = next else { continue };
            let continues = ends_with_operator(src, last)
                || indent(next) > stmt_indent
                || (depth > 0
                    && matches!(
                        next.kind,
                        TokKind::RParen | TokKind::RBracket | TokKind::RBrace
                    ));
            if !continues {
                out.push(std::mem::take(&mut cur));
                depth = 0;
            }
            continue;
        }
        if cur.is_empty() {
            stmt_indent = indent(tok);
        }
        match tok.kind {
            TokKind::LParen | TokKind::LBracket | TokKind::LBrace => depth += 1,
            TokKind::RParen | TokKind::RBracket | TokKind::RBrace => {
                depth = depth.saturating_sub(1)
            }
            _ => {}
        }
        cur.push((*tok).clone());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn ends_with_operator(src: &str, t: &Token) -> bool {
    use TokKind::*;
    match &t.kind {
        Plus | Minus | Star | Slash | Caret | LParen | LBracket | LBrace | Comma | Dot | DotDot
        | Colon | Eq | EqEq | Ne | Lt | Le | Gt | Ge | Approx | PlusMinus => true,
        Ident => matches!(
            src.get(t.span.clone()),
            Some("and" | "or" | "not" | "in" | "if" | "then" | "else")
        ),
        _ => false,
    }
}

/// The name a statement defines (`x = …`, `fn f(…)`, `unit u …`), found even when the statement
/// does not parse, so that later uses of the name can be skipped instead of reported again.
pub fn defined_name(src: &str, toks: &[Token]) -> Option<String> {
    let text = |t: &Token| src.get(t.span.clone()).unwrap_or("").to_string();
    match toks {
        [a, b, ..] if a.kind == TokKind::Ident && b.kind == TokKind::Eq => Some(text(a)),
        [a, b, ..]
            if a.kind == TokKind::Ident
                && matches!(text(a).as_str(), "fn" | "unit")
                && b.kind == TokKind::Ident =>
        {
            Some(text(b))
        }
        _ => None,
    }
}

/// Parses one statement's tokens (as produced by [`split_statements`]).
pub fn parse_statement(src: &str, toks: &[Token], reg: &Registry) -> PResult<Stmt> {
    let mut p = Parser::new(src, toks, reg);
    let stmt = p.statement()?;
    p.expect_end()?;
    Ok(stmt)
}

/// Parses a whole text as one expression (inline values, swept expressions, data-file quantities).
pub fn parse_expression(src: &str, reg: &Registry) -> PResult<Expr> {
    let toks: Vec<Token> = lex(src)
        .into_iter()
        .filter(|t| !matches!(t.kind, TokKind::Comment | TokKind::Newline))
        .collect();
    let mut p = Parser::new(src, &toks, reg);
    if toks.is_empty() {
        return Err(
            Diagnostic::error(Code::ParseError, "expected an expression, found nothing")
                .with_span(0..src.len())
                .with_label("empty expression"),
        );
    }
    let e = p.expr()?;
    p.expect_end()?;
    Ok(e)
}

struct Parser<'a> {
    src: &'a str,
    toks: &'a [Token],
    pos: usize,
    reg: &'a Registry,
    nest: u32,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, toks: &'a [Token], reg: &'a Registry) -> Self {
        Parser {
            src,
            toks,
            pos: 0,
            reg,
            nest: 0,
        }
    }

    fn peek(&self) -> Option<&'a Token> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, k: usize) -> Option<&'a Token> {
        self.toks.get(self.pos + k)
    }

    fn peek_kind(&self) -> Option<&'a TokKind> {
        self.peek().map(|t| &t.kind)
    }

    fn text(&self, t: &Token) -> &'a str {
        self.src.get(t.span.clone()).unwrap_or("")
    }

    fn at_kw(&self, kw: &str) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == TokKind::Ident && self.text(t) == kw)
    }

    fn eat(&mut self, kind: &TokKind) -> Option<&'a Token> {
        let t = self.peek()?;
        if &t.kind == kind {
            self.pos += 1;
            Some(t)
        } else {
            None
        }
    }

    fn eat_kw(&mut self, kw: &str) -> Option<&'a Token> {
        if self.at_kw(kw) {
            self.pos += 1;
            self.toks.get(self.pos - 1)
        } else {
            None
        }
    }

    fn end_pos(&self) -> usize {
        self.toks.last().map_or(0, |t| t.span.end)
    }

    fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(0, |t| t.span.end)
    }

    /// "expected X, found Y" at the current token.
    fn unexpected(&self, expected: &str) -> Diagnostic {
        match self.peek() {
            Some(t) => {
                let found = match &t.kind {
                    TokKind::Ident => format!("`{}`", self.text(t)),
                    TokKind::UnterminatedStr => {
                        return Diagnostic::error(
                            Code::UnterminatedString,
                            "this string never ends",
                        )
                        .with_span(t.span.clone())
                        .with_label("missing closing `\"`")
                        .with_help("close the string with `\"` on the same line");
                    }
                    TokKind::Unknown(c) => {
                        let d = Diagnostic::error(
                            Code::ParseError,
                            format!("unexpected character `{c}`"),
                        )
                        .with_span(t.span.clone())
                        .with_label("not part of the calc language");
                        return match super::units::offset_temperature_help("°C") {
                            Some(h) if *c == '°' => d.with_help(h),
                            _ => d,
                        };
                    }
                    k => k.describe(),
                };
                Diagnostic::error(
                    Code::ParseError,
                    format!("expected {expected}, found {found}"),
                )
                .with_span(t.span.clone())
                .with_label(format!("expected {expected}"))
            }
            None => {
                let end = self.end_pos();
                Diagnostic::error(
                    Code::ParseError,
                    format!("expected {expected}, found the end of the statement"),
                )
                .with_span(end..end)
                .with_label(format!("expected {expected} here"))
            }
        }
    }

    fn expect(&mut self, kind: &TokKind, what: &str) -> PResult<&'a Token> {
        match self.eat(kind) {
            Some(t) => Ok(t),
            None => Err(self.unexpected(what)),
        }
    }

    fn expect_end(&self) -> PResult<()> {
        match self.peek() {
            None => Ok(()),
            Some(t) if t.kind == TokKind::Ident && !is_keyword(self.text(t)) => Err(self
                .unexpected("the end of the statement")
                .with_help(format!(
                    "to multiply, write `*`: `… * {}`; to start a new statement, start a new line",
                    self.text(t)
                ))),
            Some(_) => Err(self.unexpected("the end of the statement")),
        }
    }

    fn ident(&mut self, what: &str) -> PResult<(String, Span)> {
        match self.peek() {
            Some(t) if t.kind == TokKind::Ident => {
                let s = self.text(t);
                if is_keyword(s) {
                    return Err(Diagnostic::error(
                        Code::ParseError,
                        format!("`{s}` is a keyword and cannot be used as a name"),
                    )
                    .with_span(t.span.clone())
                    .with_label("keyword"));
                }
                self.pos += 1;
                Ok((s.to_string(), t.span.clone()))
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn mk(&self, kind: ExprKind, span: Span) -> PResult<Expr> {
        let e = Expr::new(kind, span);
        if e.depth > MAX_DEPTH {
            return Err(too_deep(e.span));
        }
        Ok(e)
    }

    fn enter(&mut self) -> PResult<()> {
        self.nest += 1;
        if self.nest > MAX_NEST {
            let span = self
                .peek()
                .map_or(self.end_pos()..self.end_pos(), |t| t.span.clone());
            return Err(too_deep(span));
        }
        Ok(())
    }

    // ---- statements ----

    fn statement(&mut self) -> PResult<Stmt> {
        let start = self.peek().map_or(0, |t| t.span.start);
        let kind = if self.eat_kw("fn").is_some() {
            let (name, name_span) = self.ident("a function name")?;
            self.expect(&TokKind::LParen, "`(` and the parameters")?;
            let mut params: Vec<ParamDecl> = Vec::new();
            while self.eat(&TokKind::RParen).is_none() {
                let (pname, span) = self.ident("a parameter name")?;
                if params.iter().any(|p| p.name == pname) {
                    return Err(Diagnostic::error(
                        Code::DuplicateParameter,
                        format!("parameter `{pname}` appears twice"),
                    )
                    .with_span(span));
                }
                let default = if self.eat(&TokKind::Eq).is_some() {
                    Some(self.expr()?)
                } else {
                    None
                };
                params.push(ParamDecl {
                    name: pname,
                    span,
                    default,
                });
                if self.eat(&TokKind::Comma).is_none() {
                    self.expect(&TokKind::RParen, "`,` or `)`")?;
                    break;
                }
            }
            self.expect(&TokKind::Eq, "`=` and the function's body")?;
            let body = self.expr()?;
            StmtKind::Fn {
                name,
                name_span,
                params,
                body,
            }
        } else if self.at_kw("claim") || self.at_kw("refute") {
            let refute = self.at_kw("refute");
            self.pos += 1;
            let words = match self.peek_kind() {
                Some(TokKind::Str(s)) => {
                    self.pos += 1;
                    s.clone()
                }
                _ => {
                    return Err(self
                        .unexpected("the claim's words in quotes")
                        .with_help("write `claim \"what the book says\": lhs < rhs`"));
                }
            };
            self.expect(&TokKind::Colon, "`:` before the condition")?;
            let cond = self.expr()?;
            StmtKind::Claim {
                refute,
                words,
                cond,
            }
        } else if self.eat_kw("unit").is_some() {
            let (name, name_span) = match self.peek() {
                Some(t) if t.kind == TokKind::Dollar => {
                    self.pos += 1;
                    ("$".to_string(), t.span.clone())
                }
                _ => self.ident("the new unit's name")?,
            };
            let def = if self.eat(&TokKind::Colon).is_some() {
                let (d, span) = self.ident("a dimension name")?;
                UnitDefinition::Base(d, span)
            } else {
                self.expect(
                    &TokKind::Eq,
                    "`=` and the unit's size, or `:` and a dimension",
                )?;
                UnitDefinition::Expr(self.expr()?)
            };
            StmtKind::Unit {
                name,
                name_span,
                def,
            }
        } else if self.eat_kw("dimension").is_some() {
            let (name, name_span) = self.ident("the new dimension's name")?;
            StmtKind::Dimension { name, name_span }
        } else if matches!(self.peek_at(1), Some(t) if t.kind == TokKind::Eq)
            && self.peek_kind() == Some(&TokKind::Ident)
        {
            let (name, name_span) = self.ident("a name")?;
            self.pos += 1;
            let value = self.expr()?;
            StmtKind::Let {
                name,
                name_span,
                value,
            }
        } else {
            StmtKind::Expr(self.expr()?)
        };
        Ok(Stmt {
            kind,
            span: start..self.prev_end().max(start),
        })
    }

    // ---- expressions ----

    pub fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let e = self.convert();
        self.nest -= 1;
        e
    }

    fn convert(&mut self) -> PResult<Expr> {
        let e = self.if_expr()?;
        let start = e.span.start;
        let unit = if self.eat_kw("in").is_some() {
            Some(self.unit_expr()?)
        } else {
            None
        };
        let digits = self.digits()?;
        if unit.is_none() && digits.is_none() {
            return Ok(e);
        }
        let end = self.prev_end();
        self.mk(
            ExprKind::Convert {
                expr: Box::new(e),
                unit,
                digits,
            },
            start..end,
        )
    }

    /// `to N digits`, contextual so that `to` and `digits` stay usable as names.
    fn digits(&mut self) -> PResult<Option<u8>> {
        let is = |p: &Self| {
            p.at_kw("to")
                && matches!(p.peek_at(1), Some(t) if matches!(t.kind, TokKind::Number(_)))
                && matches!(p.peek_at(2), Some(t) if t.kind == TokKind::Ident && p.text(t) == "digits")
        };
        if !is(self) {
            return Ok(None);
        }
        let n_tok = &self.toks[self.pos + 1];
        self.pos += 3;
        match n_tok.kind {
            TokKind::Number(n) if n.fract() == 0.0 && (1.0..=15.0).contains(&n) => {
                Ok(Some(n as u8))
            }
            _ => Err(Diagnostic::error(
                Code::BadDigits,
                "digits must be a whole number from 1 to 15",
            )
            .with_span(n_tok.span.clone())
            .with_label("not between 1 and 15")),
        }
    }

    fn if_expr(&mut self) -> PResult<Expr> {
        if let Some(t) = self.eat_kw("if") {
            self.enter()?;
            let cond = self.or_expr()?;
            if self.eat_kw("then").is_none() {
                return Err(self.unexpected("`then`"));
            }
            let then = self.if_expr()?;
            if self.eat_kw("else").is_none() {
                return Err(self
                    .unexpected("`else`")
                    .with_help("`if` needs both branches: `if c then a else b`"));
            }
            let els = self.if_expr()?;
            self.nest -= 1;
            let span = t.span.start..els.span.end;
            return self.mk(
                ExprKind::If {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    els: Box::new(els),
                },
                span,
            );
        }
        self.or_expr()
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.and_expr()?;
        while self.eat_kw("or").is_some() {
            let rhs = self.and_expr()?;
            let span = lhs.span.start..rhs.span.end;
            lhs = self.mk(ExprKind::Or(Box::new(lhs), Box::new(rhs)), span)?;
        }
        Ok(lhs)
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.not_expr()?;
        while self.eat_kw("and").is_some() {
            let rhs = self.not_expr()?;
            let span = lhs.span.start..rhs.span.end;
            lhs = self.mk(ExprKind::And(Box::new(lhs), Box::new(rhs)), span)?;
        }
        Ok(lhs)
    }

    fn not_expr(&mut self) -> PResult<Expr> {
        if let Some(t) = self.eat_kw("not") {
            self.enter()?;
            let e = self.not_expr()?;
            self.nest -= 1;
            let span = t.span.start..e.span.end;
            return self.mk(ExprKind::Not(Box::new(e)), span);
        }
        self.comparison()
    }

    fn cmp_op(&self) -> Option<CmpOp> {
        Some(match self.peek_kind()? {
            TokKind::Lt => CmpOp::Lt,
            TokKind::Le => CmpOp::Le,
            TokKind::Gt => CmpOp::Gt,
            TokKind::Ge => CmpOp::Ge,
            TokKind::EqEq => CmpOp::Eq,
            TokKind::Ne => CmpOp::Ne,
            TokKind::Approx => CmpOp::Approx,
            _ => return None,
        })
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let lhs = self.range()?;
        let Some(op) = self.cmp_op() else {
            if let Some(t) = self.peek()
                && t.kind == TokKind::PlusMinus
            {
                return Err(self.unexpected("an operator").with_help(
                    "a tolerance `± x` belongs after the right side of `≈`: `a ≈ b ± 10%`",
                ));
            }
            return Ok(lhs);
        };
        let op_span = self.toks[self.pos].span.clone();
        self.pos += 1;
        let rhs = self.range()?;
        let tol = if self.eat(&TokKind::PlusMinus).is_some() {
            Some(Box::new(self.range()?))
        } else {
            None
        };
        if let Some(t) = &tol
            && op != CmpOp::Approx
        {
            return Err(Diagnostic::error(
                Code::ParseError,
                "a tolerance `± …` only goes with `≈`",
            )
            .with_span(t.span.clone())
            .with_secondary(op_span, "this comparison is exact")
            .with_help("write `a ≈ b ± 10%`"));
        }
        if self.cmp_op().is_some() {
            return Err(
                Diagnostic::error(Code::ParseError, "comparisons cannot be chained")
                    .with_span(self.toks[self.pos].span.clone())
                    .with_label("second comparison")
                    .with_help("combine them with `and`: `a < b and b < c`"),
            );
        }
        let end = tol.as_ref().map_or(rhs.span.end, |t| t.span.end);
        let span = lhs.span.start..end;
        self.mk(
            ExprKind::Compare {
                op,
                op_span,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                tol,
            },
            span,
        )
    }

    fn range(&mut self) -> PResult<Expr> {
        let lhs = self.additive()?;
        if self.eat(&TokKind::DotDot).is_some() {
            let rhs = self.additive()?;
            let span = lhs.span.start..rhs.span.end;
            return self.mk(
                ExprKind::Range {
                    start: Box::new(lhs),
                    end: Box::new(rhs),
                },
                span,
            );
        }
        Ok(lhs)
    }

    fn binary(&self, op: BinOp, op_span: Span, lhs: Expr, rhs: Expr) -> PResult<Expr> {
        let span = lhs.span.start..rhs.span.end;
        self.mk(
            ExprKind::Binary {
                op,
                op_span,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span,
        )
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut lhs = self.multiplicative()?;
        loop {
            let op = match self.peek_kind() {
                Some(TokKind::Plus) => BinOp::Add,
                Some(TokKind::Minus) => BinOp::Sub,
                _ => return Ok(lhs),
            };
            let op_span = self.toks[self.pos].span.clone();
            self.pos += 1;
            let rhs = self.multiplicative()?;
            lhs = self.binary(op, op_span, lhs, rhs)?;
        }
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek_kind() {
                Some(TokKind::Star) => BinOp::Mul,
                Some(TokKind::Slash) => BinOp::Div,
                _ => return Ok(lhs),
            };
            let op_span = self.toks[self.pos].span.clone();
            self.pos += 1;
            let rhs = self.unary()?;
            lhs = self.binary(op, op_span, lhs, rhs)?;
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        if let Some(t) = self.eat(&TokKind::Minus) {
            self.enter()?;
            let e = self.unary()?;
            self.nest -= 1;
            let span = t.span.start..e.span.end;
            return self.mk(ExprKind::Neg(Box::new(e)), span);
        }
        if self.eat(&TokKind::Plus).is_some() {
            self.enter()?;
            let e = self.unary();
            self.nest -= 1;
            return e;
        }
        self.power()
    }

    fn power(&mut self) -> PResult<Expr> {
        let base = self.postfix()?;
        if let Some(t) = self.eat(&TokKind::Caret) {
            self.enter()?;
            let exp = self.unary()?;
            self.nest -= 1;
            return self.binary(BinOp::Pow, t.span.clone(), base, exp);
        }
        Ok(base)
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            match self.peek_kind() {
                Some(TokKind::LParen) => {
                    self.pos += 1;
                    let args = self.args()?;
                    let span = e.span.start..self.prev_end();
                    e = self.mk(
                        ExprKind::Call {
                            callee: Box::new(e),
                            args,
                        },
                        span,
                    )?;
                }
                Some(TokKind::Dot) => {
                    self.pos += 1;
                    let (name, name_span) = match self.peek() {
                        Some(t) if t.kind == TokKind::Ident => {
                            self.pos += 1;
                            (self.text(t).to_string(), t.span.clone())
                        }
                        _ => return Err(self.unexpected("a field name after `.`")),
                    };
                    let span = e.span.start..name_span.end;
                    e = self.mk(
                        ExprKind::Field {
                            base: Box::new(e),
                            name,
                            name_span,
                        },
                        span,
                    )?;
                }
                Some(TokKind::LBracket) => {
                    self.pos += 1;
                    let index = self.expr()?;
                    self.expect(&TokKind::RBracket, "`]`")?;
                    let span = e.span.start..self.prev_end();
                    e = self.mk(
                        ExprKind::Index {
                            base: Box::new(e),
                            index: Box::new(index),
                        },
                        span,
                    )?;
                }
                _ => return Ok(e),
            }
        }
    }

    fn args(&mut self) -> PResult<Vec<Arg>> {
        let mut args: Vec<Arg> = Vec::new();
        while self.eat(&TokKind::RParen).is_none() {
            let named = matches!(self.peek(), Some(t) if t.kind == TokKind::Ident && !is_keyword(self.text(t)))
                && matches!(self.peek_at(1), Some(t) if t.kind == TokKind::Eq);
            let arg = if named {
                let (name, span) = self.ident("an argument name")?;
                self.pos += 1;
                Arg {
                    name: Some((name, span)),
                    value: self.expr()?,
                }
            } else {
                let value = self.expr()?;
                if args.iter().any(|a| a.name.is_some()) {
                    return Err(Diagnostic::error(
                        Code::ParseError,
                        "a positional argument cannot follow a named one",
                    )
                    .with_span(value.span.clone())
                    .with_help("put positional arguments first, or name this one too"));
                }
                Arg { name: None, value }
            };
            args.push(arg);
            if self.eat(&TokKind::Comma).is_none() {
                self.expect(&TokKind::RParen, "`,` or `)`")?;
                break;
            }
        }
        Ok(args)
    }

    fn primary(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.primary_inner();
        self.nest -= 1;
        r
    }

    fn primary_inner(&mut self) -> PResult<Expr> {
        let Some(t) = self.peek() else {
            return Err(self.unexpected("an expression"));
        };
        match &t.kind {
            TokKind::Number(v) => {
                self.pos += 1;
                let v = *v;
                let mut terms = Vec::new();
                if let Some(first) = self.unit_name_here()? {
                    terms.push(first);
                    self.unit_suffix(&mut terms)?;
                }
                self.quantity(v, t.span.start, terms)
            }
            TokKind::Dollar => {
                self.pos += 1;
                let dollar = UnitTerm {
                    name: "$".into(),
                    span: t.span.clone(),
                    exp: Rat::ONE,
                };
                if let Some(n) = self.peek()
                    && let TokKind::Number(v) = n.kind
                {
                    self.pos += 1;
                    let mut terms = vec![dollar];
                    self.unit_suffix(&mut terms)?;
                    return self.quantity(v, t.span.start, terms);
                }
                self.quantity(1.0, t.span.start, vec![dollar])
            }
            TokKind::Str(s) => {
                self.pos += 1;
                self.mk(ExprKind::Str(s.clone()), t.span.clone())
            }
            TokKind::Ident => {
                let name = self.text(t);
                match name {
                    "true" | "false" => {
                        self.pos += 1;
                        self.mk(ExprKind::Bool(name == "true"), t.span.clone())
                    }
                    _ if is_keyword(name) => Err(self.unexpected("an expression")),
                    _ => {
                        self.pos += 1;
                        self.mk(ExprKind::Name(name.to_string()), t.span.clone())
                    }
                }
            }
            TokKind::LParen => {
                self.pos += 1;
                let e = self.expr()?;
                if self.eat(&TokKind::RParen).is_none() {
                    return Err(self
                        .unexpected("`)`")
                        .with_secondary(t.span.clone(), "opened here"));
                }
                let span = t.span.start..self.prev_end();
                // Keep the inner node (its depth) but widen the span to the parentheses.
                Ok(Expr { span, ..e })
            }
            TokKind::LBracket => {
                self.pos += 1;
                let mut items = Vec::new();
                while self.eat(&TokKind::RBracket).is_none() {
                    items.push(self.expr()?);
                    if self.eat(&TokKind::Comma).is_none() {
                        if self.eat(&TokKind::RBracket).is_none() {
                            return Err(self
                                .unexpected("`,` or `]`")
                                .with_secondary(t.span.clone(), "list opened here"));
                        }
                        break;
                    }
                }
                let span = t.span.start..self.prev_end();
                self.mk(ExprKind::List(items), span)
            }
            TokKind::LBrace => {
                self.pos += 1;
                let mut fields: Vec<(String, Span, Expr)> = Vec::new();
                while self.eat(&TokKind::RBrace).is_none() {
                    let (name, span) = self.ident("a field name")?;
                    if fields.iter().any(|f| f.0 == name) {
                        return Err(Diagnostic::error(
                            Code::DuplicateField,
                            format!("field `{name}` appears twice"),
                        )
                        .with_span(span));
                    }
                    self.expect(&TokKind::Colon, "`:` after the field name")?;
                    let value = self.expr()?;
                    fields.push((name, span, value));
                    if self.eat(&TokKind::Comma).is_none() {
                        self.expect(&TokKind::RBrace, "`,` or `}`")?;
                        break;
                    }
                }
                let span = t.span.start..self.prev_end();
                self.mk(ExprKind::Record(fields), span)
            }
            _ => Err(self.unexpected("an expression")),
        }
    }

    fn quantity(&self, v: f64, start: usize, terms: Vec<UnitTerm>) -> PResult<Expr> {
        let end = self.prev_end();
        if terms.is_empty() {
            return self.mk(ExprKind::Number(v), start..end);
        }
        let text = unit_text(&terms);
        let uspan = terms[0].span.start..end;
        self.mk(
            ExprKind::Quantity(
                v,
                UnitExpr {
                    terms,
                    span: uspan,
                    text,
                },
            ),
            start..end,
        )
    }

    /// A unit name right after a number (`8 TB`, `10%`); an unknown name there is an unknown unit.
    fn unit_name_here(&mut self) -> PResult<Option<UnitTerm>> {
        let Some(t) = self.peek() else {
            return Ok(None);
        };
        let name = match t.kind {
            TokKind::Percent => "%",
            TokKind::Dollar => "$",
            TokKind::Ident => self.text(t),
            _ => return Ok(None),
        };
        if t.kind == TokKind::Ident && (is_keyword(name) || name == "to") {
            return Ok(None);
        }
        if !self.reg.is_unit(name) {
            if let Some(h) = super::units::offset_temperature_help(name) {
                return Err(unknown_unit(name, t.span.clone(), self.reg).with_help(h));
            }
            return Err(unknown_unit(name, t.span.clone(), self.reg).with_help(
                match self.reg.suggest_unit(name) {
                    Some(s) => format!("did you mean `{s}`? (to multiply by a name, write `*`)"),
                    None => {
                        "to multiply by a name, write `*`; units are declared with `unit`".into()
                    }
                },
            ));
        }
        self.pos += 1;
        Ok(Some(UnitTerm {
            name: name.to_string(),
            span: t.span.clone(),
            exp: Rat::ONE,
        }))
    }

    /// The rest of a unit after its first name: `/s`, `^2`, `*h`, each touching its neighbours.
    fn unit_suffix(&mut self, terms: &mut Vec<UnitTerm>) -> PResult<()> {
        loop {
            let prev = self.prev_end();
            let (Some(op), Some(next)) = (self.peek(), self.peek_at(1)) else {
                return Ok(());
            };
            let touching = op.span.start == prev && next.span.start == op.span.end;
            if !touching {
                return Ok(());
            }
            match op.kind {
                TokKind::Slash | TokKind::Star => {
                    let name = match next.kind {
                        TokKind::Ident => self.text(next),
                        TokKind::Dollar => "$",
                        _ => return Ok(()),
                    };
                    if !self.reg.is_unit(name) {
                        if op.kind == TokKind::Star {
                            return Ok(());
                        }
                        return Err(unknown_unit(name, next.span.clone(), self.reg));
                    }
                    let exp = if op.kind == TokKind::Slash {
                        Rat::int(-1)
                    } else {
                        Rat::ONE
                    };
                    self.pos += 2;
                    terms.push(UnitTerm {
                        name: name.to_string(),
                        span: next.span.clone(),
                        exp,
                    });
                }
                TokKind::Caret => {
                    self.pos += 1;
                    let e = self.small_int()?;
                    if let Some(last) = terms.last_mut() {
                        last.exp = last.exp.checked_mul(Rat::int(e)).unwrap_or(last.exp);
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn small_int(&mut self) -> PResult<i32> {
        let neg = self.eat(&TokKind::Minus).is_some();
        match self.peek() {
            Some(t) if matches!(t.kind, TokKind::Number(n) if n.fract() == 0.0 && n <= 12.0) => {
                self.pos += 1;
                let TokKind::Number(n) = t.kind else {
                    return Ok(1);
                };
                Ok(if neg { -(n as i32) } else { n as i32 })
            }
            _ => Err(self.unexpected("a whole-number exponent from 0 to 12")),
        }
    }

    /// A unit expression after `in`: names joined by `*`, `/`, `·`, with `^n` and parentheses.
    fn unit_expr(&mut self) -> PResult<UnitExpr> {
        let start = self.peek().map_or(self.end_pos(), |t| t.span.start);
        let mut terms = Vec::new();
        self.unit_product(1, &mut terms)?;
        let end = self.prev_end();
        let text = self
            .src
            .get(start..end)
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(UnitExpr {
            terms,
            span: start..end,
            text,
        })
    }

    fn unit_product(&mut self, sign: i32, terms: &mut Vec<UnitTerm>) -> PResult<()> {
        self.enter()?;
        let mut s = sign;
        loop {
            self.unit_factor(s, terms)?;
            match self.peek_kind() {
                Some(TokKind::Star) => s = sign,
                Some(TokKind::Slash) => s = -sign,
                _ => break,
            }
            self.pos += 1;
        }
        self.nest -= 1;
        Ok(())
    }

    fn unit_factor(&mut self, sign: i32, terms: &mut Vec<UnitTerm>) -> PResult<()> {
        let Some(t) = self.peek() else {
            return Err(self.unexpected("a unit"));
        };
        let first = terms.len();
        match t.kind {
            TokKind::LParen => {
                self.pos += 1;
                self.unit_product(sign, terms)?;
                self.expect(&TokKind::RParen, "`)`")?;
            }
            TokKind::Number(1.0) => {
                self.pos += 1;
            }
            TokKind::Ident | TokKind::Dollar | TokKind::Percent => {
                let name = match t.kind {
                    TokKind::Dollar => "$",
                    TokKind::Percent => "%",
                    _ => self.text(t),
                };
                if !self.reg.is_unit(name) {
                    return Err(unknown_unit(name, t.span.clone(), self.reg));
                }
                self.pos += 1;
                terms.push(UnitTerm {
                    name: name.to_string(),
                    span: t.span.clone(),
                    exp: Rat::int(sign),
                });
            }
            _ => return Err(self.unexpected("a unit")),
        }
        if self.eat(&TokKind::Caret).is_some() {
            let e = Rat::int(self.small_int()?);
            for term in &mut terms[first..] {
                term.exp = term.exp.checked_mul(e).unwrap_or(term.exp);
            }
        }
        Ok(())
    }
}

fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::error(Code::TooDeep, "expression is nested too deeply")
        .with_span(span)
        .with_label("nested too deeply here")
        .with_help("split it into named steps")
}

pub fn unknown_unit(name: &str, span: Span, reg: &Registry) -> Diagnostic {
    let d = Diagnostic::error(Code::UnknownUnit, format!("unknown unit `{name}`"))
        .with_span(span)
        .with_label("not a unit");
    if let Some(h) = super::units::offset_temperature_help(name) {
        return d.with_help(h);
    }
    match reg.suggest_unit(name) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help("declare it first: `unit name = <size> <unit>`"),
    }
}

/// The unit as text, rebuilt from its terms: `TB/s`, `$/Mtok`, `kW*h`, `s^2`.
pub fn unit_text(terms: &[UnitTerm]) -> String {
    let mut s = String::new();
    for (i, t) in terms.iter().enumerate() {
        let neg = t.exp.numer() < 0;
        if i > 0 {
            s.push(if neg { '/' } else { '*' });
        } else if neg {
            s.push_str("1/");
        }
        s.push_str(&t.name);
        let e = if neg { t.exp.negated() } else { t.exp };
        if e != Rat::ONE {
            s.push_str(&format!("^{e}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> Registry {
        Registry::prelude()
    }

    fn stmts(src: &str) -> Vec<Result<Stmt, Diagnostic>> {
        let r = reg();
        let toks = lex(src);
        split_statements(src, &toks)
            .iter()
            .map(|t| parse_statement(src, t, &r))
            .collect()
    }

    fn expr(src: &str) -> Expr {
        parse_expression(src, &reg()).unwrap_or_else(|d| panic!("{src}: {d:?}"))
    }

    #[test]
    fn number_with_compound_unit_is_one_literal() {
        let e = expr("8 TB/s");
        let ExprKind::Quantity(v, u) = e.kind else {
            panic!()
        };
        assert_eq!(v, 8.0);
        assert_eq!(u.text, "TB/s");
        let ExprKind::Quantity(v, u) = expr("$2.40/Mtok").kind else {
            panic!()
        };
        assert_eq!((v, u.text.as_str()), (2.4, "$/Mtok"));
        assert!(matches!(expr("10%").kind, ExprKind::Quantity(_, _)));
    }

    #[test]
    fn spaced_slash_divides_instead_of_building_a_unit() {
        let e = expr("64 tokens / b");
        assert!(matches!(e.kind, ExprKind::Binary { op: BinOp::Div, .. }));
        let e = expr("1 / 2 s");
        let ExprKind::Binary { rhs, .. } = e.kind else {
            panic!()
        };
        assert!(matches!(rhs.kind, ExprKind::Quantity(..)));
    }

    #[test]
    fn precedence_puts_in_lowest_and_power_above_minus() {
        let e = expr("a + b in ms");
        assert!(matches!(e.kind, ExprKind::Convert { .. }));
        let e = expr("-2^2");
        assert!(matches!(e.kind, ExprKind::Neg(_)));
        let e = expr("x in ms to 5 digits");
        assert!(matches!(
            e.kind,
            ExprKind::Convert {
                digits: Some(5),
                ..
            }
        ));
        let e = expr("if a < b then 1 else 2");
        assert!(matches!(e.kind, ExprKind::If { .. }));
        let e = expr("a ≈ b ± 10%");
        let ExprKind::Compare { tol: Some(t), .. } = e.kind else {
            panic!()
        };
        assert!(t.is_percentage());
    }

    #[test]
    fn statements_continue_over_indented_lines_and_trailing_operators() {
        let src = "claim \"x\":\n    a ≈ b ± 10%\ny = 1 +\n2\nz = f(1,\n  2)\nw = 3";
        let s = stmts(src);
        assert_eq!(s.len(), 4, "{s:?}");
        assert!(s.iter().all(Result::is_ok), "{s:?}");
        assert!(
            matches!(&s[0].as_ref().unwrap().kind, StmtKind::Claim { words, .. } if words == "x")
        );
    }

    #[test]
    fn a_bad_line_does_not_swallow_the_next() {
        let s = stmts("a = (1\nb = 2\nc = 3 3\nd = 4");
        assert_eq!(s.len(), 4);
        assert!(s[0].is_err() && s[1].is_ok() && s[2].is_err() && s[3].is_ok());
    }

    #[test]
    fn calls_with_named_arguments_and_fn_defaults() {
        let s = stmts("fn f(a, b=2 s) = a * b\nf(1, b=3 s)");
        let StmtKind::Fn { params, .. } = &s[0].as_ref().unwrap().kind else {
            panic!()
        };
        assert!(params[1].default.is_some());
        let StmtKind::Expr(e) = &s[1].as_ref().unwrap().kind else {
            panic!()
        };
        let ExprKind::Call { args, .. } = &e.kind else {
            panic!()
        };
        assert_eq!(args[1].name.as_ref().unwrap().0, "b");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(parse_expression(&src, &reg()).unwrap_err().code, "too-deep");
        let src = vec!["1"; 5000].join("+");
        assert_eq!(parse_expression(&src, &reg()).unwrap_err().code, "too-deep");
        let src = "-".repeat(10_000) + "1";
        assert_eq!(parse_expression(&src, &reg()).unwrap_err().code, "too-deep");
    }

    #[test]
    fn unknown_unit_after_a_number_suggests_one() {
        let d = parse_expression("8 TBs", &reg()).unwrap_err();
        assert_eq!(d.code, "unknown-unit");
        assert_eq!(d.span, Some(2..5));
        let d = parse_expression("x in mss", &reg()).unwrap_err();
        assert_eq!(d.code, "unknown-unit");
        assert!(d.help.unwrap().contains("ms"));
    }
}
