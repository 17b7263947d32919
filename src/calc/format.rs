//! Display of values: picks a readable unit per dimension (a table of preferred display units:
//! `B` with a metric prefix for bytes, `FLOP/s`, `$/Mtok` for prices per token, minutes and hours
//! for long times…) and renders 3 significant digits unless asked otherwise.
//!
//! Plain numbers get thousands separators (`2,400`) and words past a million (`671 billion`);
//! money shows cents when at least a dollar (`$2.40`, `$1,234.50`) and 3 significant digits below
//! (`$0.0014`). A unit the user converted to with `in` is shown as written.

use super::units::{self, Dim, Registry};
use super::value::{Function, Shown, Value};

/// How to show quantities of one dimension: `factor` base units per displayed unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub factor: f64,
    pub style: Style,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Style {
    /// A plain number, words past a million.
    Plain,
    /// A plain number followed by a word (`tokens`), words past a million.
    Count(String),
    /// A number and a unit symbol (`1.31 ms`; `%` is written without the space).
    Unit(String),
    /// `$` before the number and a per-unit after it (`$2.40/Mtok`).
    Money(String),
}

impl Choice {
    /// The unit as text (`ms`, `$/Mtok`, `tokens`, empty for plain numbers).
    pub fn unit_text(&self) -> String {
        match &self.style {
            Style::Plain => String::new(),
            Style::Count(w) | Style::Unit(w) => w.clone(),
            Style::Money(per) => format!("${per}"),
        }
    }

    /// The choice for a unit the user wrote (`in ms`, `in $/Mtok`).
    pub fn from_unit(text: &str, factor: f64) -> Choice {
        let style = if text == "$" || text.starts_with("$/") {
            Style::Money(text[1..].to_string())
        } else {
            Style::Unit(text.to_string())
        };
        Choice { factor, style }
    }
}

const DEFAULT_DIGITS: u8 = 3;

const PREFIXES: &[(&str, f64)] = &[
    ("p", 1e-12),
    ("n", 1e-9),
    ("µ", 1e-6),
    ("m", 1e-3),
    ("", 1.0),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("P", 1e15),
    ("E", 1e18),
];

enum Rule {
    Plain,
    Time,
    /// `unit` with a metric prefix, then `per` (whose size in base units is `per_size`).
    Prefixed {
        unit: &'static str,
        per: &'static str,
        per_size: f64,
        small: bool,
    },
    Count(&'static str),
    /// A unit without prefixes (`FLOP/B`).
    Fixed(&'static str),
    Money(&'static str, f64),
    /// Grams below a kilogram, kilograms below ten tonnes, tonnes above.
    Mass,
    /// Joules below a kilowatt-hour, then `Wh` with a metric prefix (`13.5 kWh`).
    Energy,
}

fn rule_for(dim: &Dim) -> Option<Rule> {
    use Rule::*;
    let over = |a: Dim, b: Dim| a.div(&b).unwrap_or_default();
    let (t, i, f, k, m, e) = (
        Dim::time(),
        Dim::information(),
        Dim::flop(),
        Dim::token(),
        Dim::money(),
        Dim::energy(),
    );
    let (len, mass, cur) = (Dim::length(), Dim::mass(), Dim::base(units::CURRENT));
    let area = len.pow(super::units::Rat::int(2)).unwrap_or_default();
    let volume = len.pow(super::units::Rat::int(3)).unwrap_or_default();
    let force = over(e.clone(), len.clone());
    let power = over(e.clone(), t.clone());
    let charge = cur.mul(&t).unwrap_or_default();
    let pre = |unit, per, per_size, small| Prefixed {
        unit,
        per,
        per_size,
        small,
    };
    let table: Vec<(Dim, Rule)> = vec![
        (Dim::none(), Plain),
        (t.clone(), Time),
        (i.clone(), pre("B", "", 1.0, false)),
        (over(i.clone(), t.clone()), pre("B", "/s", 1.0, false)),
        (over(i.clone(), k.clone()), pre("B", "/token", 1.0, false)),
        (f.clone(), pre("FLOP", "", 1.0, false)),
        (over(f.clone(), t.clone()), pre("FLOP", "/s", 1.0, false)),
        (over(f.clone(), i.clone()), Fixed("FLOP/B")),
        (
            over(f.clone(), k.clone()),
            pre("FLOP", "/token", 1.0, false),
        ),
        (e.clone(), Energy),
        (over(e.clone(), t.clone()), pre("W", "", 1.0, true)),
        (over(e.clone(), k.clone()), pre("J", "/token", 1.0, true)),
        (over(e.clone(), f.clone()), pre("J", "/FLOP", 1.0, true)),
        (over(t.clone(), k.clone()), pre("s", "/token", 1.0, true)),
        (k.clone(), Count("tokens")),
        (over(k.clone(), t.clone()), Count("tokens/s")),
        (m.clone(), Money("", 1.0)),
        (over(m.clone(), k.clone()), Money("/Mtok", 1e6)),
        (over(m.clone(), t.clone()), Money("/hour", 3600.0)),
        (over(m.clone(), i.clone()), Money("/GB", 1e9)),
        (over(m.clone(), e.clone()), Money("/kWh", 3.6e6)),
        (over(m.clone(), f.clone()), Money("/PFLOP", 1e15)),
        (len.clone(), pre("m", "", 1.0, true)),
        (over(len.clone(), t.clone()), pre("m", "/s", 1.0, true)),
        (mass.clone(), Mass),
        (
            over(e.clone(), mass.clone()),
            pre("Wh", "/kg", 1.0 / 3600.0, true),
        ),
        (over(e.clone(), len.clone()), pre("N", "", 1.0, true)),
        (Dim::base(units::CURRENT), pre("A", "", 1.0, true)),
        (Dim::base(units::TEMPERATURE), Fixed("K")),
        (Dim::base(units::AMOUNT), pre("mol", "", 1.0, true)),
        (area.clone(), Fixed("m^2")),
        (volume.clone(), pre("L", "", 1e3, true)),
        (over(force.clone(), area.clone()), pre("Pa", "", 1.0, true)),
        (over(power.clone(), cur.clone()), pre("V", "", 1.0, true)),
        (charge.clone(), pre("C", "", 1.0, true)),
        (over(m.clone(), len.clone()), Money("/km", 1e3)),
        (over(m.clone(), mass.clone()), Money("/kg", 1.0)),
    ];
    table.into_iter().find(|(d, _)| d == dim).map(|(_, r)| r)
}

/// The display unit for a quantity of `dim` whose size is around `magnitude` (base units).
pub fn choose(dim: &Dim, reg: &Registry, magnitude: f64, digits: u8) -> Choice {
    let mag = if magnitude.is_finite() {
        magnitude.abs()
    } else {
        0.0
    };
    match rule_for(dim) {
        Some(Rule::Plain) => Choice {
            factor: 1.0,
            style: Style::Plain,
        },
        Some(Rule::Count(w)) => Choice {
            factor: 1.0,
            style: Style::Count(w.into()),
        },
        Some(Rule::Fixed(u)) => Choice {
            factor: 1.0,
            style: Style::Unit(u.into()),
        },
        Some(Rule::Money(per, size)) => Choice {
            factor: 1.0 / size,
            style: Style::Money(per.into()),
        },
        Some(Rule::Energy) => {
            let (unit, size) = if mag >= 3.6e6 {
                ("Wh", 3600.0)
            } else {
                ("J", 1.0)
            };
            let (p, f) = prefix_for(mag / size, true, digits);
            Choice {
                factor: f * size,
                style: Style::Unit(format!("{p}{unit}")),
            }
        }
        Some(Rule::Mass) => {
            let (unit, factor) = if mag != 0.0 && mag < 1.0 {
                let (p, f) = prefix_for(mag * 1e3, true, digits);
                (format!("{p}g"), f / 1e3)
            } else if mag < 1e4 {
                ("kg".to_string(), 1.0)
            } else {
                ("tonne".to_string(), 1e3)
            };
            Choice {
                factor,
                style: Style::Unit(unit),
            }
        }
        Some(Rule::Time) => {
            let (unit, factor) = if mag == 0.0 || (1.0..120.0).contains(&mag) {
                ("s".to_string(), 1.0)
            } else if mag < 1.0 {
                let (p, f) = prefix_for(mag, true, digits);
                (format!("{p}s"), f)
            } else if mag < 7200.0 {
                ("min".into(), 60.0)
            } else if mag < 172_800.0 {
                ("hour".into(), 3600.0)
            } else if mag < 2.0 * 31_557_600.0 {
                ("day".into(), 86400.0)
            } else {
                ("year".into(), 31_557_600.0)
            };
            Choice {
                factor,
                style: Style::Unit(unit),
            }
        }
        Some(Rule::Prefixed {
            unit,
            per,
            per_size,
            small,
        }) => {
            let (p, f) = prefix_for(mag * per_size, small, digits);
            Choice {
                factor: f / per_size,
                style: Style::Unit(format!("{p}{unit}{per}")),
            }
        }
        None => {
            let unit = reg.base_unit_string(dim);
            let unit = unit.strip_prefix('1').map_or(unit.clone(), str::to_string);
            Choice {
                factor: 1.0,
                style: Style::Unit(unit),
            }
        }
    }
}

/// The metric prefix that puts `mag` in [1, 1000) once rounded to `digits`.
fn prefix_for(mag: f64, small: bool, digits: u8) -> (&'static str, f64) {
    let candidates: Vec<(&str, f64)> = PREFIXES
        .iter()
        .copied()
        .filter(|(_, f)| small || *f >= 1.0)
        .collect();
    let mut best = candidates.first().copied().unwrap_or(("", 1.0));
    if mag == 0.0 {
        return ("", 1.0);
    }
    for &(p, f) in &candidates {
        if round_sig(mag / f, digits) >= 1.0 {
            best = (p, f);
        }
    }
    // Beyond the largest prefix (`3,290,000 EFLOP`), the bare unit in scientific notation
    // (`3.29e24 FLOP`) reads better.
    if round_sig(mag / best.1, digits) >= 1000.0 {
        return ("", 1.0);
    }
    best
}

/// `x` rounded to `digits` significant digits.
pub fn round_sig(x: f64, digits: u8) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let d = usize::from(digits.clamp(1, 17)) - 1;
    format!("{x:.d$e}").parse().unwrap_or(x)
}

fn group_thousands(int_part: &str) -> String {
    let bytes: Vec<char> = int_part.chars().collect();
    let mut out = String::new();
    for (i, c) in bytes.iter().enumerate() {
        if i > 0 && (bytes.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(*c);
    }
    out
}

/// `r` (already rounded) in positional notation with `digits` significant digits, trailing zeros
/// trimmed, at least `min_decimals` decimals, thousands grouped.
fn positional(r: f64, digits: u8, min_decimals: usize) -> String {
    let a = r.abs();
    let mag = if a == 0.0 {
        0
    } else {
        a.log10().floor() as i32
    };
    let decimals = (i32::from(digits) - 1 - mag).max(0) as usize;
    let mut s = format!("{a:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut frac = frac.to_string();
    while frac.len() < min_decimals {
        frac.push('0');
    }
    let mut out = String::new();
    if r < 0.0 {
        out.push('-');
    }
    out.push_str(&group_thousands(int));
    if !frac.is_empty() {
        out.push('.');
        out.push_str(&frac);
    }
    out
}

fn scientific(x: f64, digits: u8) -> String {
    let d = usize::from(digits.clamp(1, 17)) - 1;
    let s = format!("{x:.d$e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let m = if m.contains('.') {
                m.trim_end_matches('0').trim_end_matches('.')
            } else {
                m
            };
            format!("{m}e{e}")
        }
        None => s,
    }
}

fn non_finite(x: f64) -> Option<String> {
    if x.is_nan() {
        Some("NaN".into())
    } else if x.is_infinite() {
        Some(if x > 0.0 { "∞" } else { "-∞" }.into())
    } else {
        None
    }
}

/// A number next to a unit: positional with separators, scientific when very large or small.
pub fn unit_number(x: f64, digits: u8) -> String {
    if let Some(s) = non_finite(x) {
        return s;
    }
    let r = round_sig(x, digits);
    let a = r.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-4..1e9).contains(&a) {
        scientific(r, digits)
    } else {
        positional(r, digits, 0)
    }
}

/// A plain number: `2,400`, `0.5`, `671 billion`, `1.2e-7`.
pub fn plain_number(x: f64, digits: u8) -> String {
    if let Some(s) = non_finite(x) {
        return s;
    }
    let r = round_sig(x, digits);
    let a = r.abs();
    for (scale, word) in [(1e12, "trillion"), (1e9, "billion"), (1e6, "million")] {
        if (scale..scale * 1000.0).contains(&a) {
            return format!(
                "{} {word}",
                positional(round_sig(r / scale, digits), digits, 0)
            );
        }
    }
    unit_number(x, digits)
}

/// Money in one format: three significant digits with thousands separators, cents between a
/// dollar and a hundred (`$2.40`, `$22.50`), whole dollars from a hundred (`$291`, `$22,500`),
/// three digits below a dollar (`$0.225`), a power of ten when tiny (`$3.06 × 10⁻¹⁰`), words
/// from a million (`$2.5 billion`).
fn money(v: f64, digits: Option<u8>) -> String {
    if let Some(s) = non_finite(v) {
        return format!("${s}");
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    let r = round_sig(a, DEFAULT_DIGITS);
    let body = match digits {
        Some(d) => unit_number(a, d),
        None if r >= 1e6 => plain_number(a, DEFAULT_DIGITS),
        None if r >= 100.0 => positional(r, DEFAULT_DIGITS, 0),
        None if r >= 1.0 => format!("{r:.2}"),
        None if a == 0.0 => "0".into(),
        None if a < 1e-4 => times_ten(a, DEFAULT_DIGITS),
        None => positional(r, DEFAULT_DIGITS, 2),
    };
    format!("{sign}${body}")
}

/// `x` as a mantissa times a power of ten, with a superscript exponent: `3.06 × 10⁻¹⁰`.
fn times_ten(x: f64, digits: u8) -> String {
    let s = scientific(x, digits);
    let Some((m, e)) = s.split_once('e') else {
        return s;
    };
    let sup: String = e
        .trim_start_matches('+')
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            d => "⁰¹²³⁴⁵⁶⁷⁸⁹"
                .chars()
                .nth(d.to_digit(10).unwrap_or(0) as usize)
                .unwrap_or(d),
        })
        .collect();
    format!("{m} × 10{sup}")
}

/// A base-unit value in a chosen unit.
pub fn render(si: f64, choice: &Choice, digits: Option<u8>) -> String {
    let v = si / choice.factor;
    let d = digits.unwrap_or(DEFAULT_DIGITS);
    // Whole numbers (counts, batch sizes) are shown exactly unless digits were asked for.
    let whole = |v: f64| {
        if digits.is_none() && v.fract() == 0.0 && v.abs() < 1e6 {
            positional(v, 17, 0)
        } else {
            plain_number(v, d)
        }
    };
    match &choice.style {
        Style::Plain => whole(v),
        Style::Count(w) => format!("{} {w}", whole(v)),
        Style::Unit(u) if u == "%" => format!("{}%", unit_number(v, d)),
        Style::Unit(u) => {
            let n = unit_number(v, d);
            let u = plural(u, &n);
            format!("{n} {u}")
        }
        Style::Money(per) => format!("{}{per}", money(v, digits)),
    }
}

/// A unit written as an English word (`in hour`) reads in the plural beside any number but 1:
/// `3 hours`, `1 hour`, `0.5 hours`.
pub(crate) fn plural<'a>(unit: &'a str, number: &str) -> std::borrow::Cow<'a, str> {
    const WORDS: [&str; 9] = [
        "second", "minute", "hour", "day", "week", "month", "year", "token", "sequence",
    ];
    if number != "1" && WORDS.contains(&unit) {
        format!("{unit}s").into()
    } else {
        unit.into()
    }
}

/// The choice for one quantity: its requested unit, else the table's.
pub fn choice_for(si: f64, dim: &Dim, shown: Option<&Shown>, reg: &Registry) -> Choice {
    let digits = shown.and_then(|s| s.digits).unwrap_or(DEFAULT_DIGITS);
    match shown.and_then(|s| s.unit.as_ref()) {
        Some((text, factor)) => Choice::from_unit(text, *factor),
        None => choose(dim, reg, si, digits),
    }
}

pub fn format_quantity(si: f64, dim: &Dim, shown: Option<&Shown>, reg: &Registry) -> String {
    let choice = choice_for(si, dim, shown, reg);
    render(si, &choice, shown.and_then(|s| s.digits))
}

/// Any value as shown beside a calc line or in prose.
pub fn format_value(v: &Value, reg: &Registry) -> String {
    format_inner(v, reg, false)
}

fn format_inner(v: &Value, reg: &Registry, nested: bool) -> String {
    const MAX_ITEMS: usize = 20;
    match v {
        Value::Quantity { si, dim, shown, .. } => format_quantity(*si, dim, shown.as_deref(), reg),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) if nested => format!("{s:?}"),
        Value::Str(s) => s.to_string(),
        Value::List(items) => {
            let mut parts: Vec<String> = items
                .iter()
                .take(MAX_ITEMS)
                .map(|x| format_inner(x, reg, true))
                .collect();
            if items.len() > MAX_ITEMS {
                parts.push(format!("… {} more", items.len() - MAX_ITEMS));
            }
            format!("[{}]", parts.join(", "))
        }
        Value::Record(r) => {
            let mut parts: Vec<String> = r
                .fields
                .iter()
                .take(MAX_ITEMS)
                .map(|(k, x)| format!("{k}: {}", format_inner(x, reg, true)))
                .collect();
            if r.fields.len() > MAX_ITEMS {
                parts.push(format!("… {} more", r.fields.len() - MAX_ITEMS));
            }
            format!("{{{}}}", parts.join(", "))
        }
        Value::Func(f) => match &**f {
            Function::User { name, params, .. } => {
                let ps: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                format!("fn {name}({})", ps.join(", "))
            }
            Function::Native { name, params, .. } => {
                let ps: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                format!("fn {name}({})", ps.join(", "))
            }
            Function::Builtin(b) => format!("builtin {}", b.name()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(x: f64, unit: &str) -> String {
        let reg = Registry::prelude();
        let (f, d) = reg.parse_unit(unit).unwrap();
        format_quantity(x * f, &d, None, &reg)
    }

    #[test]
    fn preferred_units_per_dimension() {
        assert_eq!(show(281.25, "FLOP/B"), "281 FLOP/B");
        assert_eq!(show(1.3125, "ms"), "1.31 ms");
        assert_eq!(show(2.4, "$/Mtok"), "$2.40/Mtok");
        assert_eq!(show(2.0, "$/hour"), "$2.00/hour");
        assert_eq!(show(8.0, "TB/s"), "8 TB/s");
        assert_eq!(show(989.0, "TFLOP/s"), "989 TFLOP/s");
        assert_eq!(show(80.0, "GB"), "80 GB");
        assert_eq!(show(70_312.5, "B/token"), "70.3 kB/token");
        assert_eq!(show(700.0, "W"), "700 W");
        assert_eq!(show(1.2, "kW"), "1.2 kW");
        assert_eq!(show(2.3, "hour"), "2.3 hours");
        assert_eq!(show(3.0, "hour"), "3 hours");
        assert_eq!(show(90.0, "s"), "90 s");
        assert_eq!(show(5.0, "min"), "5 min");
        assert_eq!(show(250.0, "ns"), "250 ns");
        assert_eq!(show(2400.0, "tokens"), "2,400 tokens");
        assert_eq!(show(1520.0, "tokens/s"), "1,520 tokens/s");
    }

    #[test]
    fn beyond_the_largest_prefix_is_scientific() {
        // 6 · 37e9 · 14.8e12 = 3.2856e24 FLOP: past E (1e18), so no prefix.
        assert_eq!(show(3.2856e24, "FLOP"), "3.29e24 FLOP");
    }

    #[test]
    fn rounding_up_moves_to_the_next_prefix() {
        assert_eq!(show(999.7, "GB"), "1 TB");
        assert_eq!(show(0.9999, "s"), "1 s");
    }

    #[test]
    fn plain_numbers_are_grouped_and_worded() {
        assert_eq!(plain_number(2400.0, 3), "2,400");
        assert_eq!(plain_number(5437.0, 3), "5,440");
        let plain = Choice {
            factor: 1.0,
            style: Style::Plain,
        };
        assert_eq!(render(1024.0, &plain, None), "1,024");
        assert_eq!(render(1024.5, &plain, None), "1,020");
        assert_eq!(render(1024.0, &plain, Some(2)), "1,000");
        assert_eq!(plain_number(32.0, 3), "32");
        assert_eq!(plain_number(0.5, 3), "0.5");
        assert_eq!(plain_number(-1234.0, 3), "-1,230");
        assert_eq!(plain_number(671e9, 3), "671 billion");
        assert_eq!(plain_number(1.234e6, 3), "1.23 million");
        assert_eq!(plain_number(1.2e-7, 3), "1.2e-7");
        assert_eq!(plain_number(3e20, 3), "3e20");
        assert_eq!(plain_number(0.0, 3), "0");
        assert_eq!(plain_number(123_456.0, 5), "123,460");
    }

    #[test]
    fn money_has_one_format_of_three_significant_digits() {
        let c = Choice::from_unit("$", 1.0);
        assert_eq!(render(2.4, &c, None), "$2.40");
        let hours = Choice::from_unit("hour", 3600.0);
        assert_eq!(render(3.0 * 3600.0, &hours, None), "3 hours");
        assert_eq!(render(3600.0, &hours, None), "1 hour");
        assert_eq!(render(1800.0, &hours, None), "0.5 hours");
        assert_eq!(render(1234.5, &c, None), "$1,230");
        assert_eq!(render(22_500.0, &c, None), "$22,500");
        assert_eq!(render(290.56, &c, None), "$291");
        assert_eq!(render(22.5, &c, None), "$22.50");
        assert_eq!(render(0.225, &c, None), "$0.225");
        assert_eq!(render(3.06e-10, &c, None), "$3.06 × 10⁻¹⁰");
        assert_eq!(render(0.0014, &c, None), "$0.0014");
        assert_eq!(render(0.5, &c, None), "$0.50");
        assert_eq!(render(0.1234, &c, None), "$0.123");
        assert_eq!(render(-3.0, &c, None), "-$3.00");
        assert_eq!(render(2.5e9, &c, None), "$2.5 billion");
    }

    #[test]
    fn requested_units_are_kept_verbatim() {
        let c = Choice::from_unit("ms", 1e-3);
        assert_eq!(render(1.23456, &c, Some(5)), "1,234.6 ms");
        let c = Choice::from_unit("%", 0.01);
        assert_eq!(render(0.125, &c, None), "12.5%");
        let c = Choice::from_unit("$/Mtok", 1e-6);
        assert_eq!(render(2.4e-6, &c, None), "$2.40/Mtok");
    }
}
