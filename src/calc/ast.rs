//! The syntax tree the parser builds: statements and expressions, each with the byte span of the
//! source it came from (relative to the text given to the parser).

use std::ops::Range;

use super::units::Rat;

pub type Span = Range<usize>;

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Height of the tree below this node; bounded by the parser so evaluation cannot overflow the
    /// stack.
    pub depth: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    Approx,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Approx => "≈",
        }
    }
}

/// One factor of a unit expression: a unit name with an exponent (`s` in `TB/s` has -1).
#[derive(Clone, Debug, PartialEq)]
pub struct UnitTerm {
    pub name: String,
    pub span: Span,
    pub exp: Rat,
}

/// A unit written in the source (`TB/s`, `$/Mtok`), as a flat product of terms.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitExpr {
    pub terms: Vec<UnitTerm>,
    pub span: Span,
    /// The unit as written (whitespace collapsed), shown verbatim after `in`.
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<(String, Span)>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Number(f64),
    /// A number literal with a unit: `8 TB/s`, `$2.40/Mtok`, `10%`.
    Quantity(f64, UnitExpr),
    Str(String),
    Bool(bool),
    Name(String),
    List(Vec<Expr>),
    Record(Vec<(String, Span, Expr)>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary {
        op: BinOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Compare {
        op: CmpOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        /// `± tol`; relative when written as a percentage.
        tol: Option<Box<Expr>>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    Field {
        base: Box<Expr>,
        name: String,
        name_span: Span,
    },
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Range {
        start: Box<Expr>,
        end: Box<Expr>,
    },
    /// `expr in unit to N digits` (either part optional, at least one present).
    Convert {
        expr: Box<Expr>,
        unit: Option<UnitExpr>,
        digits: Option<u8>,
    },
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        let depth = 1 + children(&kind).map(|c| c.depth).max().unwrap_or(0);
        Expr { kind, span, depth }
    }

    /// Whether any `Name` in the tree is one of `names`.
    pub fn mentions(&self, names: &dyn Fn(&str) -> bool) -> bool {
        if let ExprKind::Name(n) = &self.kind
            && names(n)
        {
            return true;
        }
        children(&self.kind).any(|c| c.mentions(names))
    }

    /// Whether the tolerance of a comparison is written as a percentage (`± 10%`).
    pub fn is_percentage(&self) -> bool {
        match &self.kind {
            ExprKind::Quantity(_, u) => u.text == "%",
            ExprKind::Neg(e) => e.is_percentage(),
            _ => false,
        }
    }
}

/// The direct sub-expressions of a node.
pub fn children(kind: &ExprKind) -> Box<dyn Iterator<Item = &Expr> + '_> {
    use ExprKind::*;
    match kind {
        Number(_) | Quantity(..) | Str(_) | Bool(_) | Name(_) => Box::new(std::iter::empty()),
        List(xs) => Box::new(xs.iter()),
        Record(fs) => Box::new(fs.iter().map(|f| &f.2)),
        Neg(e) | Not(e) => Box::new(std::iter::once(&**e)),
        Binary { lhs, rhs, .. } | And(lhs, rhs) | Or(lhs, rhs) => {
            Box::new([&**lhs, &**rhs].into_iter())
        }
        Range { start, end } => Box::new([&**start, &**end].into_iter()),
        Compare { lhs, rhs, tol, .. } => {
            Box::new([&**lhs, &**rhs].into_iter().chain(tol.as_deref()))
        }
        If { cond, then, els } => Box::new([&**cond, &**then, &**els].into_iter()),
        Call { callee, args } => {
            Box::new(std::iter::once(&**callee).chain(args.iter().map(|a| &a.value)))
        }
        Field { base, .. } => Box::new(std::iter::once(&**base)),
        Index { base, index } => Box::new([&**base, &**index].into_iter()),
        Convert { expr, .. } => Box::new(std::iter::once(&**expr)),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    pub name: String,
    pub span: Span,
    pub default: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum UnitDefinition {
    /// `unit Mtok = 1e6 token`
    Expr(Expr),
    /// `unit EUR: currency_eur` (the base unit of a declared dimension)
    Base(String, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Let {
        name: String,
        name_span: Span,
        value: Expr,
    },
    Fn {
        name: String,
        name_span: Span,
        params: Vec<ParamDecl>,
        body: Expr,
    },
    Expr(Expr),
    Claim {
        refute: bool,
        words: String,
        cond: Expr,
    },
    Unit {
        name: String,
        name_span: Span,
        def: UnitDefinition,
    },
    Dimension {
        name: String,
        name_span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}
