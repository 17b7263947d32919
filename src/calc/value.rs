//! Runtime values: quantities (an `f64` in base units with its [`Dim`]), booleans, strings, lists,
//! records and functions (user-defined, built in, or native Rust registered by the engine), with
//! the constructors and accessors Rust callers use.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use super::ast::{Expr, Span};
use super::provenance::{Figure, Origin, Prov};
use super::units::{Dim, Registry};

/// How a quantity asked to be shown (`x in ms to 5 digits`): the unit as written and its size.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub unit: Option<(String, f64)>,
    pub digits: Option<u8>,
}

#[derive(Clone)]
pub enum Value {
    /// A number with a dimension, stored in base units (seconds, bytes, FLOP, tokens, dollars,
    /// joules). Dimensionless numbers are quantities with [`Dim::none`].
    Quantity {
        si: f64,
        dim: Dim,
        shown: Option<Arc<Shown>>,
        /// The data figures it was computed from (see [`super::provenance`]).
        prov: Prov,
    },
    Bool(bool),
    Str(Arc<str>),
    List(Arc<Vec<Value>>),
    Record(Arc<Record>),
    Func(Arc<Function>),
}

/// Fields in the order they were written.
#[derive(Clone, Debug, Default)]
pub struct Record {
    pub fields: Vec<(String, Value)>,
    /// Where the record was written, for a data entry (messages point at it).
    pub origin: Option<Arc<Origin>>,
    /// The data figures a computed record (an engine result) was computed from.
    pub prov: Prov,
    /// What a native library decoded from this record once, at load (the engine's typed model
    /// or chip), so that a function called many times does not decode it again.
    pub attached: Option<Attached>,
}

/// A native library's typed form of a record (see [`Value::with_attached`]).
#[derive(Clone)]
pub struct Attached(pub Arc<dyn Any + Send + Sync>);

impl fmt::Debug for Attached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Attached(..)")
    }
}

/// What a native function returns, declared when it is registered, so that a compiler knows the
/// dimension of `f(x).field` without calling `f`.
#[derive(Clone, Debug, PartialEq)]
pub enum Returns {
    Quantity(Dim),
    Bool,
    Str,
    Record(Vec<(String, Returns)>),
}

impl Returns {
    /// The dimension at the end of a path of field names, if it is a quantity or a boolean.
    pub fn dim_at<'a>(&self, mut path: impl Iterator<Item = &'a str>) -> Option<Dim> {
        match (self, path.next()) {
            (Returns::Quantity(d), None) => Some(d.clone()),
            (Returns::Bool, None) => Some(Dim::none()),
            (Returns::Record(fields), Some(name)) => fields
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, r)| r.dim_at(path)),
            _ => None,
        }
    }
}

impl Returns {
    /// What kind of value this declares, in [`Value::kind`]'s words.
    pub fn kind(&self) -> &'static str {
        match self {
            Returns::Quantity(_) => "a quantity",
            Returns::Bool => "a boolean",
            Returns::Str => "a string",
            Returns::Record(_) => "a record",
        }
    }

    /// The declared field `name`, for a record.
    pub fn field(&self, name: &str) -> Option<&Returns> {
        match self {
            Returns::Record(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, r)| r),
            _ => None,
        }
    }

    /// The declared field names, for a record.
    pub fn field_names(&self) -> Vec<&str> {
        match self {
            Returns::Record(fields) => fields.iter().map(|(n, _)| n.as_str()).collect(),
            _ => Vec::new(),
        }
    }
}

impl Record {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(n, _)| n.as_str())
    }
}

/// What a native function's parameter accepts, declared when it is registered (as Numbat declares
/// its foreign functions with dimension types), so that [`super::rules::argument`] checks every
/// argument in one place: at the call in a calc block, and at compile time in a chart sweep.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgType {
    /// Any value: the function checks it itself.
    Any,
    /// A quantity of this dimension; [`Dim::none`] is a plain number.
    Quantity(Dim),
    /// A quantity of any dimension.
    AnyQuantity,
    Bool,
    /// One of these strings (compared trimmed and case-insensitively).
    OneOf(&'static [&'static str]),
    /// A record; the words say which kind (`a model record (like `models.deepseek_v3`)`). Its
    /// fields are the function's to read: a missing one is an error naming the data entry.
    Record(&'static str),
    /// Either of two types (`8192` or `8192 tokens`).
    Either(Box<ArgType>, Box<ArgType>),
}

impl ArgType {
    /// A plain (dimensionless) number.
    pub fn number() -> ArgType {
        ArgType::Quantity(Dim::none())
    }

    /// This type or `other`.
    pub fn or(self, other: ArgType) -> ArgType {
        ArgType::Either(Box::new(self), Box::new(other))
    }
}

/// A parameter of a native function: a name, an optional default, what it accepts and, for
/// messages, an example of a good argument.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub default: Option<Value>,
    pub accepts: ArgType,
    pub hint: Option<String>,
}

impl Param {
    /// A required parameter accepting any value (see [`Param::accepting`]).
    pub fn required(name: &str) -> Param {
        Param {
            name: name.into(),
            default: None,
            accepts: ArgType::Any,
            hint: None,
        }
    }

    /// A parameter with a default, accepting any value (see [`Param::accepting`]). The default is
    /// the function's own and is not checked against the declared type.
    pub fn optional(name: &str, default: Value) -> Param {
        Param {
            name: name.into(),
            default: Some(default),
            accepts: ArgType::Any,
            hint: None,
        }
    }

    /// The parameter, accepting only `accepts`.
    pub fn accepting(mut self, accepts: ArgType) -> Param {
        self.accepts = accepts;
        self
    }

    /// The parameter, with an example of a good argument for messages (`` `2` for BF16 ``).
    pub fn hint(mut self, hint: &str) -> Param {
        self.hint = Some(hint.into());
        self
    }
}

pub type NativeFn = Arc<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Sqrt,
    Log,
    Log2,
    Log10,
    Exp,
    Ceil,
    Floor,
    Round,
    Abs,
    Min,
    Max,
    Sum,
    Mean,
    Len,
    Range,
    Map,
}

impl Builtin {
    pub const ALL: &[(&'static str, Builtin)] = &[
        ("sqrt", Builtin::Sqrt),
        ("log", Builtin::Log),
        ("ln", Builtin::Log),
        ("log2", Builtin::Log2),
        ("log10", Builtin::Log10),
        ("exp", Builtin::Exp),
        ("ceil", Builtin::Ceil),
        ("floor", Builtin::Floor),
        ("round", Builtin::Round),
        ("abs", Builtin::Abs),
        ("min", Builtin::Min),
        ("max", Builtin::Max),
        ("sum", Builtin::Sum),
        ("mean", Builtin::Mean),
        ("len", Builtin::Len),
        ("range", Builtin::Range),
        ("map", Builtin::Map),
    ];

    pub fn by_name(name: &str) -> Option<Builtin> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, b)| *b == self)
            .map_or("?", |(n, _)| n)
    }
}

/// A user function's parameter, its default already evaluated when the function was defined.
#[derive(Clone, Debug)]
pub struct UserParam {
    pub name: String,
    pub default: Option<Value>,
}

#[derive(Clone)]
pub enum Function {
    User {
        name: String,
        params: Vec<UserParam>,
        body: Arc<Expr>,
        /// The source the body's spans point into, and an id telling sources apart.
        source: Arc<str>,
        source_id: u64,
        span: Span,
    },
    Native {
        name: String,
        params: Vec<Param>,
        f: NativeFn,
        /// What it returns, declared when it was registered.
        returns: Arc<Returns>,
    },
    Builtin(Builtin),
}

impl Function {
    pub fn name(&self) -> &str {
        match self {
            Function::User { name, .. } | Function::Native { name, .. } => name,
            Function::Builtin(b) => b.name(),
        }
    }
}

impl Value {
    pub fn number(x: f64) -> Value {
        Value::quantity(x, Dim::none())
    }

    /// A quantity from its value in base units.
    pub fn quantity(si: f64, dim: Dim) -> Value {
        Value::Quantity {
            si,
            dim,
            shown: None,
            prov: None,
        }
    }

    /// A quantity from a value and a unit (`Value::with_unit(8.0, "TB/s", &reg)`).
    pub fn with_unit(x: f64, unit: &str, reg: &Registry) -> Result<Value, String> {
        let (f, d) = reg.parse_unit(unit)?;
        Ok(Value::quantity(x * f, d))
    }

    pub fn string(s: &str) -> Value {
        Value::Str(s.into())
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    pub fn record<S: Into<String>>(fields: impl IntoIterator<Item = (S, Value)>) -> Value {
        Value::Record(Arc::new(Record {
            fields: fields.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            origin: None,
            prov: None,
            attached: None,
        }))
    }

    /// A data entry's record, which knows where it was written.
    pub fn record_at(fields: Vec<(String, Value)>, origin: Origin) -> Value {
        Value::Record(Arc::new(Record {
            fields,
            origin: Some(Arc::new(origin)),
            prov: None,
            attached: None,
        }))
    }

    /// The data figures this value was computed from (its own; a record's fields have theirs).
    pub fn prov(&self) -> Option<&[Figure]> {
        match self {
            Value::Quantity { prov, .. } => prov.as_deref().map(Vec::as_slice),
            Value::Record(r) => r.prov.as_deref().map(Vec::as_slice),
            _ => None,
        }
    }

    /// Where a data record was written.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            Value::Record(r) => r.origin.as_deref(),
            _ => None,
        }
    }

    /// The value stamped with the figures it was computed from. Quantities and computed records
    /// take them; a data record keeps its own (its fields carry theirs); lists stamp their items.
    pub fn with_prov(self, new: Prov) -> Value {
        let Some(new) = new else { return self };
        match self {
            Value::Quantity { si, dim, shown, .. } => Value::Quantity {
                si,
                dim,
                shown,
                prov: Some(new),
            },
            Value::Record(r) if r.origin.is_none() => Value::Record(Arc::new(Record {
                fields: r.fields.clone(),
                origin: None,
                prov: Some(new),
                attached: None,
            })),
            Value::List(items) => Value::list(
                items
                    .iter()
                    .map(|v| v.clone().with_prov(Some(new.clone())))
                    .collect(),
            ),
            v => v,
        }
    }

    /// The record with `typed` attached (other values unchanged).
    pub fn with_attached(self, typed: Arc<dyn Any + Send + Sync>) -> Value {
        match self {
            Value::Record(r) => {
                let mut record = (*r).clone();
                record.attached = Some(Attached(typed));
                Value::Record(Arc::new(record))
            }
            v => v,
        }
    }

    /// What [`Value::with_attached`] attached, if it is a `T`.
    pub fn attached<T: Any>(&self) -> Option<&T> {
        match self {
            Value::Record(r) => r.attached.as_ref()?.0.downcast_ref(),
            _ => None,
        }
    }

    /// A field of a record (`None` for other values or a missing field).
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Record(r) => r.get(name),
            _ => None,
        }
    }

    /// The value in base units, for a quantity.
    pub fn as_si(&self) -> Option<f64> {
        match self {
            Value::Quantity { si, .. } => Some(*si),
            _ => None,
        }
    }

    pub fn dim(&self) -> Option<&Dim> {
        match self {
            Value::Quantity { dim, .. } => Some(dim),
            _ => None,
        }
    }

    /// The value in base units if it has dimension `dim`.
    pub fn as_f64_in(&self, dim: &Dim) -> Option<f64> {
        match self {
            Value::Quantity { si, dim: d, .. } if d == dim => Some(*si),
            _ => None,
        }
    }

    /// A plain (dimensionless) number.
    pub fn as_number(&self) -> Option<f64> {
        self.as_f64_in(&Dim::none())
    }

    /// The value expressed in `unit` (`as_unit("ms", &reg)`), with a readable error otherwise.
    pub fn as_unit(&self, unit: &str, reg: &Registry) -> Result<f64, String> {
        let (f, d) = reg.parse_unit(unit)?;
        match self {
            Value::Quantity { si, dim, .. } if *dim == d => Ok(si / f),
            Value::Quantity { dim, .. } => Err(format!(
                "expected {} (`{unit}`), found {}",
                reg.describe(&d),
                reg.describe(dim)
            )),
            other => Err(format!(
                "expected a quantity in `{unit}`, found {}",
                other.kind()
            )),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// What kind of value this is, for messages ("a record", "a list").
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Quantity { .. } => "a quantity",
            Value::Bool(_) => "a boolean",
            Value::Str(_) => "a string",
            Value::List(_) => "a list",
            Value::Record(_) => "a record",
            Value::Func(_) => "a function",
        }
    }

    /// The same value without any display request (`in ms`) attached.
    pub fn plain(self) -> Value {
        match self {
            Value::Quantity { si, dim, prov, .. } => Value::Quantity {
                si,
                dim,
                shown: None,
                prov,
            },
            v => v,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Quantity { si, dim, .. } => write!(f, "{si} {dim:?}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::List(l) => f.debug_list().entries(l.iter()).finish(),
            Value::Record(r) => f
                .debug_map()
                .entries(r.fields.iter().map(|(k, v)| (k, v)))
                .finish(),
            Value::Func(func) => write!(f, "<fn {}>", func.name()),
        }
    }
}

impl PartialEq for Value {
    /// Structural equality; quantities compare their base-unit value and dimension, functions by
    /// identity.
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Quantity { si: a, dim: da, .. }, Value::Quantity { si: b, dim: db, .. }) => {
                a == b && da == db
            }
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Record(a), Value::Record(b)) => a.fields == b.fields,
            (Value::Func(a), Value::Func(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}
