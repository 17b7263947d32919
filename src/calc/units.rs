//! Dimensions and units as data.
//!
//! A [`Dim`] is a canonical product of base dimensions raised to rational exponents (Numbat's
//! `registry.rs`/`product.rs` are the model): `bytes/time` is `[(information, 1), (time, -1)]`.
//! The [`Registry`] owns the base dimensions (the seven SI ones, information, FLOP, token and money,
//! plus any a book declares with `dimension`) and every unit: a name, a factor to the base units
//! of its dimension (second, metre, kilogram, ampere, kelvin, mole, candela, byte, FLOP, token,
//! dollar) and which prefixes it takes. Every quantity is stored in those base units ("SI" in the
//! rest of the code). The prelude's units are one table, [`prelude_units`], from which the book's
//! unit reference is generated ([`reference_markdown`]), so the two cannot drift.
//!
//! Temperatures: `K` (kelvin) is a unit like any other, so `300 K - 280 K` is a difference of
//! 20 K. Degrees Celsius and Fahrenheit have an offset, which multiplication cannot express, so they
//! are no units: `celsius(20)` is the temperature 293.15 K and `in_celsius(t)` a kelvin temperature
//! as a plain number of degrees Celsius (likewise `fahrenheit`, `in_fahrenheit`). `20 °C` is an
//! error rather than a silently wrong 20 K.

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
    pub fn length() -> Dim {
        Dim::base(LENGTH)
    }
    pub fn mass() -> Dim {
        Dim::base(MASS)
    }
    /// Energy is derived: kg·m²/s², so `N·m` is `J`.
    pub fn energy() -> Dim {
        Dim(vec![
            (TIME, Rat::int(-2)),
            (LENGTH, Rat::int(2)),
            (MASS, Rat::ONE),
        ])
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
pub const LENGTH: BaseId = 5;
pub const MASS: BaseId = 6;
pub const CURRENT: BaseId = 7;
pub const TEMPERATURE: BaseId = 8;
pub const AMOUNT: BaseId = 9;
pub const LUMINOUS_INTENSITY: BaseId = 10;

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

    /// The units every book starts with: [`prelude_units`].
    pub fn prelude() -> Registry {
        let mut r = Registry {
            bases: Vec::new(),
            units: HashMap::new(),
        };
        for (name, word, unit) in PRELUDE_DIMENSIONS {
            r.bases.push(BaseDim {
                name: (*name).into(),
                word: (*word).into(),
                unit: Some((*unit).into()),
            });
        }
        for spec in prelude_units() {
            for n in &spec.names {
                r.insert_unit(n, spec.factor, spec.dim.clone(), spec.prefixes);
            }
        }
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
            (Dim::energy(), "energy"),
            (d(Dim::energy(), Dim::length()), "force"),
            (d(Dim::length(), Dim::time()), "speed"),
            (d(Dim::money(), Dim::energy()), "price of energy"),
            (
                d(Dim::energy(), Dim::length())
                    .div(&Dim::length().pow(Rat::int(2)).unwrap_or_default())
                    .unwrap_or_default(),
                "pressure",
            ),
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

/// The prelude's base dimensions: language name, word in messages, base unit.
pub const PRELUDE_DIMENSIONS: &[(&str, &str, &str)] = &[
    ("time", "time", "s"),
    ("information", "bytes", "B"),
    ("flop", "FLOP", "FLOP"),
    ("token", "tokens", "token"),
    ("money", "money", "$"),
    ("length", "length", "m"),
    ("mass", "mass", "kg"),
    ("current", "current", "A"),
    ("temperature", "temperature", "K"),
    ("amount", "amount of substance", "mol"),
    ("luminous_intensity", "luminous intensity", "cd"),
];

/// One row of the prelude's unit table: every name of one unit, its size in base units, its
/// dimension, which prefixes it takes, and the group it is listed under in the reference.
#[derive(Clone, Debug)]
pub struct UnitSpec {
    pub group: &'static str,
    pub names: Vec<&'static str>,
    pub factor: f64,
    pub dim: Dim,
    pub prefixes: Prefixes,
    /// What it is, for the reference (`1 h = 3600 s`).
    pub note: &'static str,
}

/// The prelude's units, in the order the reference lists them.
///
/// Names that would read as something else are left out on purpose: `in` (inch) is the conversion
/// keyword, `t` (tonne) and `l` (litre) are common variable names, `T` is not tera on its own, and
/// `°C`/`°F` are offsets, not factors (see the module doc).
#[rustfmt::skip]
pub fn prelude_units() -> Vec<UnitSpec> {
    use Prefixes::*;
    let d = |a: &Dim, b: &Dim| a.div(b).unwrap_or_default();
    let m = |a: &Dim, b: &Dim| a.mul(b).unwrap_or_default();
    let (t, len, mass) = (Dim::time(), Dim::length(), Dim::mass());
    let cur = Dim::base(CURRENT);
    let one = Dim::none();
    let energy = Dim::energy();
    let power = d(&energy, &t);
    let force = d(&energy, &len);
    let area = m(&len, &len);
    let volume = m(&area, &len);
    let charge = m(&cur, &t);
    let volt = d(&power, &cur);
    let pi = std::f64::consts::PI;
    let u = |group, names: &[&'static str], factor, dim: &Dim, prefixes, note| UnitSpec {
        group,
        names: names.to_vec(),
        factor,
        dim: dim.clone(),
        prefixes,
        note,
    };
    vec![
        u("SI base", &["s", "sec", "second", "seconds"], 1.0, &t, Metric, "second"),
        u("SI base", &["m", "metre", "metres", "meter", "meters"], 1.0, &len, Metric, "metre"),
        u("SI base", &["g", "gram", "grams"], 1e-3, &mass, Metric, "gram (1 kg = 1000 g)"),
        u("SI base", &["A", "ampere", "amperes", "amp", "amps"], 1.0, &cur, Metric, "ampere"),
        u("SI base", &["K", "kelvin", "kelvins"], 1.0, &Dim::base(TEMPERATURE), Metric, "kelvin; `celsius(20)`, `fahrenheit(68)` for offset scales"),
        u("SI base", &["mol", "mole", "moles"], 1.0, &Dim::base(AMOUNT), Metric, "mole"),
        u("SI base", &["cd", "candela", "candelas"], 1.0, &Dim::base(LUMINOUS_INTENSITY), Metric, "candela"),
        u("SI derived", &["N", "newton", "newtons"], 1.0, &force, Metric, "kg·m/s²"),
        u("SI derived", &["J", "joule", "joules"], 1.0, &energy, Metric, "N·m"),
        u("SI derived", &["W", "watt", "watts"], 1.0, &power, Metric, "J/s"),
        u("SI derived", &["Pa", "pascal", "pascals"], 1.0, &d(&force, &area), Metric, "N/m²"),
        u("SI derived", &["Hz", "hertz"], 1.0, &t.inv(), Metric, "1/s"),
        u("SI derived", &["V", "volt", "volts"], 1.0, &volt, Metric, "W/A"),
        u("SI derived", &["C", "coulomb", "coulombs"], 1.0, &charge, Metric, "A·s"),
        u("SI derived", &["Ω", "ohm", "ohms"], 1.0, &d(&volt, &cur), Metric, "V/A"),
        u("SI derived", &["L", "litre", "litres", "liter", "liters"], 1e-3, &volume, Metric, "1 L = 0.001 m³"),
        u("time", &["min", "minute", "minutes"], 60.0, &t, None, "60 s"),
        u("time", &["h", "hour", "hours"], 3600.0, &t, None, "60 min"),
        u("time", &["day", "days"], 86400.0, &t, None, "24 h"),
        u("time", &["week", "weeks"], 604_800.0, &t, None, "7 days"),
        u("time", &["month", "months"], 2_629_800.0, &t, None, "year/12"),
        u("time", &["year", "years", "yr"], 31_557_600.0, &t, None, "365.25 days (Julian year)"),
        u("length", &["cm"], 0.01, &len, None, "centimetre"),
        u("length", &["inch", "inches"], 0.0254, &len, None, "25.4 mm (`in` is the conversion keyword)"),
        u("length", &["ft", "foot", "feet"], 0.3048, &len, None, "12 inch"),
        u("length", &["yd", "yard", "yards"], 0.9144, &len, None, "3 ft"),
        u("length", &["mi", "mile", "miles"], 1609.344, &len, None, "1760 yd"),
        u("length", &["kph"], 1.0 / 3.6, &d(&len, &t), None, "km/h (which also works as written)"),
        u("length", &["mph"], 1609.344 / 3600.0, &d(&len, &t), None, "miles per hour"),
        u("mass", &["tonne", "tonnes"], 1000.0, &mass, None, "1000 kg (`t` is left free for variables)"),
        u("mass", &["lb", "lbs", "pound", "pounds"], 0.453_592_37, &mass, None, "international pound"),
        u("mass", &["oz", "ounce", "ounces"], 0.028_349_523_125, &mass, None, "lb/16"),
        u("energy and power", &["Wh"], 3600.0, &energy, Metric, "W·h; `kWh`, `MWh`"),
        u("energy and power", &["cal", "calorie", "calories"], 4.184, &energy, Metric, "thermochemical calorie; `kcal`"),
        u("energy and power", &["eV", "electronvolt", "electronvolts"], 1.602_176_634e-19, &energy, Metric, "electronvolt"),
        u("energy and power", &["Ah"], 3600.0, &charge, Metric, "ampere-hour; `mAh`"),
        u("pressure", &["bar", "bars"], 1e5, &d(&force, &area), Metric, "100 kPa"),
        u("pressure", &["atm"], 101_325.0, &d(&force, &area), None, "standard atmosphere"),
        u("pressure", &["psi"], 6_894.757_293_168, &d(&force, &area), None, "pound-force per square inch"),
        u("angle", &["rad", "radian", "radians"], 1.0, &one, Metric, "dimensionless"),
        u("angle", &["deg", "degree", "degrees"], pi / 180.0, &one, None, "π/180 rad"),
        u("angle", &["turn", "turns"], 2.0 * pi, &one, None, "2π rad"),
        u("angle", &["arcmin"], pi / 10_800.0, &one, None, "1/60 deg"),
        u("angle", &["arcsec"], pi / 648_000.0, &one, None, "1/60 arcmin"),
        u("information", &["B", "byte", "bytes"], 1.0, &Dim::information(), MetricAndBinary, "8 bits; `kB`, `GB`, `GiB`, `TB/s`"),
        u("information", &["b", "bit", "bits"], 0.125, &Dim::information(), MetricAndBinary, "`Gb/s` for links"),
        u("computing", &["FLOP", "FLOPs", "flop", "flops"], 1.0, &Dim::flop(), Metric, "one floating-point operation; `TFLOP/s`"),
        u("computing", &["token", "tokens", "tok"], 1.0, &Dim::token(), Metric, "one token of text; `Mtok`"),
        u("money", &["$", "USD"], 1.0, &Dim::money(), None, "US dollar; `$/kWh`, `$2.40/Mtok`"),
        u("ratios", &["%", "percent"], 0.01, &one, None, "1/100"),
        u("ratios", &["ppm"], 1e-6, &one, None, "parts per million"),
    ]
}

/// Help for a unit name that means a temperature on an offset scale (`degC`, `°F`): those are no
/// units, since `20 °C` is not 20 times anything.
pub fn offset_temperature_help(name: &str) -> Option<&'static str> {
    let n = name.trim_start_matches('°').to_ascii_lowercase();
    matches!(
        n.as_str(),
        "c" | "f"
            | "degc"
            | "degf"
            | "celsius"
            | "fahrenheit"
            | "degree_celsius"
            | "degree_fahrenheit"
    )
    .then_some(
        "°C and °F are offset scales, not units: write `celsius(20)` for a temperature (293.15 K), \
         `in_celsius(t)` to read one, or `20 K` for a difference of 20 degrees",
    )
}

/// The prelude's units as a Markdown table (the book's unit reference is this text, checked by a
/// test so the two cannot drift).
pub fn reference_markdown() -> String {
    let reg = Registry::shared_prelude();
    let mut out =
        String::from("| group | names | size | dimension | prefixes |\n|---|---|---|---|---|\n");
    for spec in prelude_units() {
        let names: Vec<String> = spec.names.iter().map(|n| format!("`{n}`")).collect();
        let prefixes = match spec.prefixes {
            Prefixes::None => "",
            Prefixes::Metric => "metric",
            Prefixes::MetricAndBinary => "metric, binary",
        };
        let dim = if spec.dim.is_dimensionless() {
            "none".to_string()
        } else {
            reg.base_unit_string(&spec.dim)
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            spec.group,
            names.join(" "),
            spec.note,
            dim,
            prefixes
        ));
    }
    out
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
#[cfg(test)]
mod reference_tests {
    use super::*;

    /// The unit table in the book's *How this book works* chapter is the one the code reads.
    /// `CALCBOOK_BLESS=1 cargo test --lib unit_reference` rewrites the chapter's table.
    #[test]
    fn the_unit_reference_in_the_book_matches_the_prelude() {
        crate::test_support::assert_book_section("units", &reference_markdown());
    }

    #[test]
    fn every_prelude_unit_name_resolves_to_its_row() {
        let r = Registry::prelude();
        for spec in prelude_units() {
            for n in &spec.names {
                let (f, d) = r.lookup(n).unwrap_or_else(|| panic!("`{n}` is not a unit"));
                assert_eq!((f, &d), (spec.factor, &spec.dim), "`{n}`");
            }
        }
        // Energy is derived, so newton-metres are joules and volts times amperes are watts.
        assert_eq!(r.parse_unit("N*m").unwrap(), r.parse_unit("J").unwrap());
        assert_eq!(r.parse_unit("V*A").unwrap().1, r.parse_unit("W").unwrap().1);
        assert_eq!(r.lookup("kWh").map(|x| x.0), Some(3.6e6));
        assert_eq!(r.lookup("kg").map(|x| x.0), Some(1.0));
        assert_eq!(r.lookup("mm").map(|x| x.0), Some(1e-3));
        // Clashes resolve as before: `min` is a minute, `ms` a millisecond, `mph` not milli-ph.
        assert_eq!(r.lookup("min").map(|x| x.0), Some(60.0));
        assert_eq!(r.lookup("ms").map(|x| x.1), Some(Dim::time()));
        assert_eq!(r.lookup("h").map(|x| x.0), Some(3600.0));
        assert!(r.lookup("in").is_none(), "`in` is the conversion keyword");
        assert!(r.lookup("t").is_none() && r.lookup("T").is_none());
    }

    #[test]
    fn offset_temperatures_are_no_units() {
        let r = Registry::prelude();
        for n in ["degC", "degF", "celsius", "°C"] {
            assert!(r.lookup(n).is_none(), "{n}");
            assert!(offset_temperature_help(n).is_some(), "{n}");
        }
    }
}
