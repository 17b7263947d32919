//! Dimensions and units as data.
//!
//! A [`Dim`] is a canonical product of base dimensions raised to rational exponents (Numbat's
//! `registry.rs`/`product.rs` are the model): `bytes/time` is `[(information, 1), (time, -1)]`.
//! The [`Registry`] owns the base dimensions (the prelude's time, information, FLOP, token, money
//! and energy, plus any a book declares with `dimension`) and every unit: a name, a factor to the
//! base units of its dimension (second, byte, FLOP, token, dollar, joule) and which prefixes it
//! takes. Every quantity is stored in those base units ("SI" in the rest of the code).

use std::collections::HashMap;
use std::fmt;

/// A small exact rational used for dimension exponents (`sqrt` halves them).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Rat {
    n: i32,
    d: i32,
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a.max(1)
}

impl Rat {
    pub const ZERO: Rat = Rat { n: 0, d: 1 };
    pub const ONE: Rat = Rat { n: 1, d: 1 };

    /// `n/d` in lowest terms; `None` when it does not fit (or `d` is zero).
    pub fn new(n: i64, d: i64) -> Option<Rat> {
        if d == 0 {
            return None;
        }
        let g = gcd(n, d);
        let (mut n, mut d) = (n / g, d / g);
        if d < 0 {
            n = n.checked_neg()?;
            d = d.checked_neg()?;
        }
        Some(Rat {
            n: i32::try_from(n).ok()?,
            d: i32::try_from(d).ok()?,
        })
    }

    pub fn int(n: i32) -> Rat {
        Rat { n, d: 1 }
    }

    pub fn numer(self) -> i32 {
        self.n
    }

    pub fn denom(self) -> i32 {
        self.d
    }

    pub fn is_zero(self) -> bool {
        self.n == 0
    }

    pub fn to_f64(self) -> f64 {
        f64::from(self.n) / f64::from(self.d)
    }

    pub fn checked_add(self, o: Rat) -> Option<Rat> {
        let n = i64::from(self.n) * i64::from(o.d) + i64::from(o.n) * i64::from(self.d);
        Rat::new(n, i64::from(self.d) * i64::from(o.d))
    }

    pub fn checked_mul(self, o: Rat) -> Option<Rat> {
        Rat::new(
            i64::from(self.n) * i64::from(o.n),
            i64::from(self.d) * i64::from(o.d),
        )
    }

    pub fn negated(self) -> Rat {
        // i32::MIN never occurs: `new` bounds both parts, and negating MIN would leave the range.
        Rat {
            n: self.n.saturating_neg(),
            d: self.d,
        }
    }

    /// The rational closest to `x` with a denominator up to 12, if `x` is (nearly) one.
    pub fn from_f64(x: f64) -> Option<Rat> {
        if !x.is_finite() || x.abs() > 1e6 {
            return None;
        }
        for d in 1..=12i64 {
            let n = (x * d as f64).round();
            if (n / d as f64 - x).abs() < 1e-9 {
                return Rat::new(n as i64, d);
            }
        }
        None
    }
}

impl fmt::Display for Rat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.d == 1 {
            write!(f, "{}", self.n)
        } else {
            write!(f, "{}/{}", self.n, self.d)
        }
    }
}

/// Identifies a base dimension in a [`Registry`].
pub type BaseId = u16;

/// A product of base dimensions with non-zero rational exponents, sorted by base id.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, PartialOrd, Ord)]
pub struct Dim(Vec<(BaseId, Rat)>);

impl Dim {
    pub fn none() -> Dim {
        Dim(Vec::new())
    }

    pub fn base(id: BaseId) -> Dim {
        Dim(vec![(id, Rat::ONE)])
    }

    pub fn time() -> Dim {
        Dim::base(TIME)
    }
    pub fn information() -> Dim {
        Dim::base(INFORMATION)
    }
    pub fn flop() -> Dim {
        Dim::base(FLOP)
    }
    pub fn token() -> Dim {
        Dim::base(TOKEN)
    }
    pub fn money() -> Dim {
        Dim::base(MONEY)
    }
    pub fn energy() -> Dim {
        Dim::base(ENERGY)
    }

    pub fn is_dimensionless(&self) -> bool {
        self.0.is_empty()
    }

    pub fn factors(&self) -> &[(BaseId, Rat)] {
        &self.0
    }

    /// The product `self * other`; `None` if an exponent overflows.
    pub fn mul(&self, other: &Dim) -> Option<Dim> {
        let mut out: Vec<(BaseId, Rat)> = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() || j < other.0.len() {
            let a = self.0.get(i);
            let b = other.0.get(j);
            match (a, b) {
                (Some(&(ia, ea)), Some(&(ib, eb))) if ia == ib => {
                    let e = ea.checked_add(eb)?;
                    if !e.is_zero() {
                        out.push((ia, e));
                    }
                    i += 1;
                    j += 1;
                }
                (Some(&(ia, ea)), Some(&(ib, _))) if ia < ib => {
                    out.push((ia, ea));
                    i += 1;
                }
                (Some(_), Some(&(ib, eb))) => {
                    out.push((ib, eb));
                    j += 1;
                }
                (Some(&a), None) => {
                    out.push(a);
                    i += 1;
                }
                (None, Some(&b)) => {
                    out.push(b);
                    j += 1;
                }
                (None, None) => break,
            }
        }
        Some(Dim(out))
    }

    pub fn inv(&self) -> Dim {
        Dim(self.0.iter().map(|&(b, e)| (b, e.negated())).collect())
    }

    pub fn div(&self, other: &Dim) -> Option<Dim> {
        self.mul(&other.inv())
    }

    pub fn pow(&self, p: Rat) -> Option<Dim> {
        let mut out = Vec::with_capacity(self.0.len());
        for &(b, e) in &self.0 {
            let e = e.checked_mul(p)?;
            if !e.is_zero() {
                out.push((b, e));
            }
        }
        Some(Dim(out))
    }
}

pub const TIME: BaseId = 0;
pub const INFORMATION: BaseId = 1;
pub const FLOP: BaseId = 2;
pub const TOKEN: BaseId = 3;
pub const MONEY: BaseId = 4;
pub const ENERGY: BaseId = 5;

/// Which prefixes a unit accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefixes {
    None,
    /// k M G T P E and m µ n p.
    Metric,
    /// Metric ones and Ki Mi Gi Ti Pi Ei.
    MetricAndBinary,
}

/// The metric prefixes, large to small, with their factors.
pub const METRIC_PREFIXES: &[(&str, f64)] = &[
    ("E", 1e18),
    ("P", 1e15),
    ("T", 1e12),
    ("G", 1e9),
    ("M", 1e6),
    ("k", 1e3),
    ("m", 1e-3),
    ("u", 1e-6),
    ("µ", 1e-6),
    ("μ", 1e-6),
    ("n", 1e-9),
    ("p", 1e-12),
];

pub const BINARY_PREFIXES: &[(&str, f64)] = &[
    ("Ki", 1024.0),
    ("Mi", 1_048_576.0),
    ("Gi", 1_073_741_824.0),
    ("Ti", 1_099_511_627_776.0),
    ("Pi", 1_125_899_906_842_624.0),
    ("Ei", 1_152_921_504_606_846_976.0),
];

/// A base dimension: its name in the language (`time`), the words used in messages (`time`,
/// `bytes`) and the unit its quantities are stored in.
#[derive(Clone, Debug)]
pub struct BaseDim {
    pub name: String,
    pub word: String,
    pub unit: Option<String>,
}

/// One named unit.
#[derive(Clone, Debug)]
pub struct UnitDef {
    pub name: String,
    /// Base units per one of this unit (1 kB = 1000, 1 hour = 3600).
    pub factor: f64,
    pub dim: Dim,
    pub prefixes: Prefixes,
}

/// The base dimensions and units known to a scope.
#[derive(Clone, Debug)]
pub struct Registry {
    bases: Vec<BaseDim>,
    units: HashMap<String, UnitDef>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::prelude()
    }
}

impl Registry {
    /// The built-in registry, built once and shared: for paths that only need the prelude's units
    /// and run per point of a sweep, where building it afresh would dominate.
    pub fn shared_prelude() -> &'static Registry {
        static PRELUDE: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
        PRELUDE.get_or_init(Registry::prelude)
    }

    /// The units every book starts with.
    pub fn prelude() -> Registry {
        let mut r = Registry {
            bases: Vec::new(),
            units: HashMap::new(),
        };
        for (name, word, unit) in [
            ("time", "time", "s"),
            ("information", "bytes", "B"),
            ("flop", "FLOP", "FLOP"),
            ("token", "tokens", "token"),
            ("money", "money", "$"),
            ("energy", "energy", "J"),
        ] {
            r.bases.push(BaseDim {
                name: name.into(),
                word: word.into(),
                unit: Some(unit.into()),
            });
        }
        use Prefixes::*;
        let t = Dim::time();
        let i = Dim::information();
        let e = Dim::energy();
        let defs: &[(&[&str], f64, &Dim, Prefixes)] = &[
            (&["s", "sec", "second", "seconds"], 1.0, &t, Metric),
            (&["min", "minute", "minutes"], 60.0, &t, None),
            (&["h", "hour", "hours"], 3600.0, &t, None),
            (&["day", "days"], 86400.0, &t, None),
            (&["week", "weeks"], 604_800.0, &t, None),
            (&["month", "months"], 2_629_800.0, &t, None),
            (&["year", "years", "yr"], 31_557_600.0, &t, None),
            (&["B", "byte", "bytes"], 1.0, &i, MetricAndBinary),
            (&["b", "bit", "bits"], 0.125, &i, MetricAndBinary),
            (
                &["FLOP", "FLOPs", "flop", "flops"],
                1.0,
                &Dim::flop(),
                Metric,
            ),
            (&["token", "tokens", "tok"], 1.0, &Dim::token(), Metric),
            (&["$", "USD"], 1.0, &Dim::money(), None),
            (&["%", "percent"], 0.01, &Dim::none(), None),
            (&["J", "joule", "joules"], 1.0, &e, Metric),
            (&["Wh"], 3600.0, &e, Metric),
        ];
        for (names, factor, dim, prefixes) in defs {
            for n in *names {
                r.insert_unit(n, *factor, (*dim).clone(), *prefixes);
            }
        }
        let power = e.div(&t).unwrap_or_default();
        r.insert_unit("W", 1.0, power.clone(), Metric);
        r.insert_unit("watt", 1.0, power, None);
        r
    }

    fn insert_unit(&mut self, name: &str, factor: f64, dim: Dim, prefixes: Prefixes) {
        self.units.insert(
            name.to_string(),
            UnitDef {
                name: name.to_string(),
                factor,
                dim,
                prefixes,
            },
        );
    }

    pub fn bases(&self) -> &[BaseDim] {
        &self.bases
    }

    /// Declares a new base dimension (`dimension currency_eur`).
    pub fn declare_dimension(&mut self, name: &str) -> Result<Dim, String> {
        if self.bases.iter().any(|b| b.name == name) {
            return Err(format!("dimension `{name}` is already declared"));
        }
        if self.bases.len() >= 1000 {
            return Err("too many dimensions".into());
        }
        self.bases.push(BaseDim {
            name: name.into(),
            word: name.into(),
            unit: None,
        });
        Ok(Dim::base((self.bases.len() - 1) as BaseId))
    }

    /// Declares a unit; the first unit declared for a book-declared base dimension with factor 1
    /// becomes the unit its quantities are displayed in.
    pub fn declare_unit(&mut self, name: &str, factor: f64, dim: Dim) -> Result<(), String> {
        if self.units.contains_key(name) {
            return Err(format!("unit `{name}` is already defined"));
        }
        if !factor.is_finite() || factor <= 0.0 {
            return Err(format!("unit `{name}` must be a positive finite multiple"));
        }
        if let [(b, e)] = dim.factors()
            && *e == Rat::ONE
            && factor == 1.0
            && let Some(base) = self.bases.get_mut(*b as usize)
            && base.unit.is_none()
        {
            base.unit = Some(name.to_string());
        }
        self.insert_unit(name, factor, dim, Prefixes::None);
        Ok(())
    }

    /// A base dimension by its language name (`time`, `information`, or a declared one).
    pub fn dimension(&self, name: &str) -> Option<Dim> {
        self.bases
            .iter()
            .position(|b| b.name == name)
            .map(|i| Dim::base(i as BaseId))
    }

    pub fn dimension_names(&self) -> impl Iterator<Item = &str> {
        self.bases.iter().map(|b| b.name.as_str())
    }

    /// Factor and dimension of a unit name, prefixed or not (`TB`, `GiB`, `ms`, `Mtok`).
    pub fn lookup(&self, name: &str) -> Option<(f64, Dim)> {
        if let Some(u) = self.units.get(name) {
            return Some((u.factor, u.dim.clone()));
        }
        for (p, f) in BINARY_PREFIXES {
            if let Some(rest) = name.strip_prefix(p)
                && let Some(u) = self.units.get(rest)
                && u.prefixes == Prefixes::MetricAndBinary
            {
                return Some((u.factor * f, u.dim.clone()));
            }
        }
        for (p, f) in METRIC_PREFIXES {
            if let Some(rest) = name.strip_prefix(p)
                && let Some(u) = self.units.get(rest)
                && u.prefixes != Prefixes::None
            {
                return Some((u.factor * f, u.dim.clone()));
            }
        }
        None
    }

    pub fn is_unit(&self, name: &str) -> bool {
        self.lookup(name).is_some()
    }

    /// Names of the unprefixed units (for "did you mean").
    pub fn unit_names(&self) -> impl Iterator<Item = &str> {
        self.units.keys().map(String::as_str)
    }

    /// The known unit (prefixed forms included) closest to a misspelt `name`.
    pub fn suggest_unit(&self, name: &str) -> Option<String> {
        let mut cands: Vec<String> = Vec::new();
        for u in self.units.values() {
            cands.push(u.name.clone());
            if u.prefixes != Prefixes::None {
                for (p, _) in METRIC_PREFIXES.iter().filter(|(p, _)| p.is_ascii()) {
                    cands.push(format!("{p}{}", u.name));
                }
            }
            if u.prefixes == Prefixes::MetricAndBinary {
                for (p, _) in BINARY_PREFIXES {
                    cands.push(format!("{p}{}", u.name));
                }
            }
        }
        cands.sort();
        crate::diagnostic::did_you_mean(name, cands.iter().map(String::as_str)).map(str::to_string)
    }

    /// Parses a unit expression such as `TB/s`, `$/Mtok`, `kW*h`, `B/token`: factor and dimension.
    pub fn parse_unit(&self, text: &str) -> Result<(f64, Dim), String> {
        let mut factor = 1.0;
        let mut dim = Dim::none();
        let mut sign = 1;
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err("empty unit".into());
        }
        loop {
            let end = rest.find(['/', '*', '·', ' ', '^']).unwrap_or(rest.len());
            let name = &rest[..end];
            let (f, d) = self
                .lookup(name)
                .ok_or_else(|| format!("unknown unit `{name}`"))?;
            rest = rest[end..].trim_start();
            let mut exp = 1i32;
            if let Some(r) = rest.strip_prefix('^') {
                let r = r.trim_start();
                let len = r
                    .char_indices()
                    .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
                    .map_or(r.len(), |(i, _)| i);
                exp = r[..len].parse().map_err(|_| "bad exponent".to_string())?;
                rest = r[len..].trim_start();
            }
            let exp = exp * sign;
            factor *= f.powi(exp);
            dim = dim
                .mul(&d.pow(Rat::int(exp)).ok_or("exponent too large")?)
                .ok_or("exponent too large")?;
            if rest.is_empty() {
                break;
            }
            if let Some(r) = rest.strip_prefix('/') {
                sign = -1;
                rest = r.trim_start();
            } else if let Some(r) = rest.strip_prefix('*').or_else(|| rest.strip_prefix('·')) {
                sign = 1;
                rest = r.trim_start();
            } else {
                return Err(format!("unexpected `{rest}` in unit"));
            }
        }
        Ok((factor, dim))
    }

    /// Human words for a dimension, as used in error messages: `bytes/time (bandwidth)`.
    pub fn describe(&self, dim: &Dim) -> String {
        if dim.is_dimensionless() {
            return "a plain number (dimensionless)".into();
        }
        let words = self.product_string(dim, |b| {
            self.bases
                .get(b as usize)
                .map_or("?".to_string(), |b| b.word.clone())
        });
        match self.nickname(dim) {
            Some(n) => format!("{words} ({n})"),
            None => words,
        }
    }

    fn nickname(&self, dim: &Dim) -> Option<&'static str> {
        let d = |a: Dim, b: Dim| a.div(&b).unwrap_or_default();
        let table = [
            (d(Dim::information(), Dim::time()), "bandwidth"),
            (d(Dim::flop(), Dim::time()), "compute rate"),
            (d(Dim::flop(), Dim::information()), "arithmetic intensity"),
            (d(Dim::energy(), Dim::time()), "power"),
            (d(Dim::money(), Dim::time()), "cost rate"),
            (d(Dim::money(), Dim::token()), "price per token"),
            (d(Dim::token(), Dim::time()), "token rate"),
            (d(Dim::information(), Dim::token()), "bytes per token"),
            (Dim::time(), "duration"),
        ];
        table
            .into_iter()
            .find(|(t, _)| t == dim)
            .map(|(_, n)| n)
            .filter(|n| *n != "duration")
    }

    /// The dimension written in base units: `B/s`, `FLOP/B`, `$·s`.
    pub fn base_unit_string(&self, dim: &Dim) -> String {
        self.product_string(dim, |b| {
            self.bases.get(b as usize).map_or("?".to_string(), |b| {
                b.unit.clone().unwrap_or(b.name.clone())
            })
        })
    }

    fn product_string(&self, dim: &Dim, name: impl Fn(BaseId) -> String) -> String {
        let term = |b: BaseId, e: Rat| {
            if e == Rat::ONE {
                name(b)
            } else if e.denom() == 1 {
                format!("{}^{}", name(b), e.numer())
            } else {
                format!("{}^({e})", name(b))
            }
        };
        let num: Vec<String> = dim
            .factors()
            .iter()
            .filter(|(_, e)| e.numer() > 0)
            .map(|&(b, e)| term(b, e))
            .collect();
        let den: Vec<String> = dim
            .factors()
            .iter()
            .filter(|(_, e)| e.numer() < 0)
            .map(|&(b, e)| term(b, e.negated()))
            .collect();
        let mut s = if num.is_empty() {
            "1".to_string()
        } else {
            num.join("·")
        };
        match den.len() {
            0 => {}
            1 => s = format!("{s}/{}", den[0]),
            _ => s = format!("{s}/({})", den.join("·")),
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_units_resolve_with_their_factor() {
        let r = Registry::prelude();
        assert_eq!(r.lookup("TB"), Some((1e12, Dim::information())));
        assert_eq!(r.lookup("Gb"), Some((1e9 / 8.0, Dim::information())));
        assert_eq!(r.lookup("GiB").map(|x| x.0), Some(1_073_741_824.0));
        assert_eq!(r.lookup("ms").map(|x| x.0), Some(1e-3));
        assert_eq!(r.lookup("µs").map(|x| x.0), Some(1e-6));
        assert_eq!(r.lookup("min").map(|x| x.0), Some(60.0));
        assert_eq!(r.lookup("Mtok").map(|x| x.0), Some(1e6));
        assert_eq!(r.lookup("kWh").map(|x| x.0), Some(3.6e6));
        assert!(r.lookup("Khour").is_none());
        assert!(r.lookup("GiFLOP").is_none());
    }

    #[test]
    fn compound_units_parse_to_products() {
        let r = Registry::prelude();
        let (f, d) = r.parse_unit("TB/s").unwrap();
        assert_eq!(f, 1e12);
        assert_eq!(d, Dim::information().div(&Dim::time()).unwrap());
        assert_eq!(r.describe(&d), "bytes/time (bandwidth)");
        assert_eq!(r.base_unit_string(&d), "B/s");
        let (f, _) = r.parse_unit("$/Mtok").unwrap();
        assert!((f - 1e-6).abs() < 1e-20);
        let (f, d) = r.parse_unit("kW*h").unwrap();
        assert_eq!(f, 3.6e6);
        assert_eq!(d, Dim::energy());
        assert!(r.parse_unit("TB/q").is_err());
    }

    #[test]
    fn dimension_algebra_cancels_and_keeps_rationals() {
        let t = Dim::time();
        assert!(t.div(&t).unwrap().is_dimensionless());
        let half = t.pow(Rat::new(1, 2).unwrap()).unwrap();
        assert_eq!(half.mul(&half).unwrap(), t);
        assert_eq!(Rat::from_f64(0.5), Rat::new(1, 2));
        assert_eq!(Rat::from_f64(0.123456), None);
        let big = Dim(vec![(0, Rat::int(i32::MAX / 2 + 1))]);
        assert!(big.mul(&big).is_none());
    }

    #[test]
    fn declared_dimensions_get_their_first_unit() {
        let mut r = Registry::prelude();
        let eur = r.declare_dimension("currency_eur").unwrap();
        r.declare_unit("EUR", 1.0, eur.clone()).unwrap();
        assert_eq!(r.base_unit_string(&eur), "EUR");
        assert!(r.declare_dimension("currency_eur").is_err());
        assert!(r.declare_unit("EUR", 1.0, eur).is_err());
    }
}
