//! Axis arithmetic: picking a range that holds the data, tick positions at readable values
//! (1-2-5 steps on linear axes, decades or 1-2-5 per decade on log axes), tick labels with SI-style
//! suffixes (`1k`, `65.5k`, `2M`), and [`AxisScale`], the plotters coordinate that maps values to
//! pixels linearly or logarithmically.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged};

use super::Scale;

/// A resolved axis: its ends, scale and ticks. Implements plotters' [`Ranged`].
#[derive(Debug, Clone, PartialEq)]
pub struct AxisScale {
    pub lo: f64,
    pub hi: f64,
    pub scale: Scale,
    /// Labelled ticks (grid lines).
    pub ticks: Vec<f64>,
    /// Unlabelled minor ticks (log axes: 2..9 × each decade when there is room).
    pub minor: Vec<f64>,
}

impl AxisScale {
    /// An axis over `[lo, hi]` exactly (as given by the author), with ticks inside it.
    pub fn fixed(lo: f64, hi: f64, scale: Scale) -> Self {
        let (lo, hi) = ordered(lo, hi, scale);
        let (ticks, minor) = ticks(lo, hi, scale);
        AxisScale {
            lo,
            hi,
            scale,
            ticks,
            minor,
        }
    }

    /// An axis that holds `[lo, hi]`, widened to round tick values.
    pub fn nice(lo: f64, hi: f64, scale: Scale) -> Self {
        let (lo, hi) = ordered(lo, hi, scale);
        let (lo, hi) = match scale {
            Scale::Log => {
                let (a, b) = (lo.log10(), hi.log10());
                if b - a < 3.0 {
                    // Up to three decades: whole decades would waste up to half the axis;
                    // widen to 1-2-5 values instead.
                    (step_below(lo), step_above(hi))
                } else {
                    (10f64.powf(a.floor()), 10f64.powf(b.ceil()))
                }
            }
            Scale::Linear => {
                let step = nice_step((hi - lo) / 5.0);
                ((lo / step).floor() * step, (hi / step).ceil() * step)
            }
        };
        Self::fixed(lo, hi, scale)
    }

    /// Position of `v` along the axis as a fraction of its length (0 at `lo`, 1 at `hi`).
    pub fn fraction(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => (v - self.lo) / (self.hi - self.lo),
            Scale::Log => (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10()),
        }
    }

    /// Whether `v` lies on the axis (with a little tolerance for rounding).
    pub fn contains(&self, v: f64) -> bool {
        let f = self.fraction(v);
        f.is_finite() && (-1e-9..=1.0 + 1e-9).contains(&f)
    }

    /// The label of tick `v`.
    pub fn label(&self, v: f64) -> String {
        // A log axis reaching below 10⁻⁴ labels its fractions as powers of ten throughout
        // (`10⁻⁶`, `10⁻³`, `0.1` would mix two notations on one axis).
        if self.scale == Scale::Log
            && v.abs() < 1.0
            && self.ticks.first().is_some_and(|t| t.abs() < 1e-4)
        {
            return power_label(v);
        }
        let step = match self.scale {
            Scale::Log => v.abs(),
            Scale::Linear => {
                if self.ticks.len() >= 2 {
                    (self.ticks[1] - self.ticks[0]).abs()
                } else {
                    v.abs()
                }
            }
        };
        tick_label(v, step)
    }
}

impl Ranged for AxisScale {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let f = self.fraction(*value);
        let f = if f.is_finite() {
            f.clamp(-1.0, 2.0)
        } else {
            0.0
        };
        (limit.0 as f64 + f * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

fn ordered(lo: f64, hi: f64, scale: Scale) -> (f64, f64) {
    let (mut lo, mut hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if scale == Scale::Log {
        if lo.is_nan() || lo <= 0.0 {
            lo = if hi > 0.0 { hi / 10.0 } else { 1.0 };
        }
        if hi.is_nan() || hi <= 0.0 {
            hi = lo * 10.0;
        }
    }
    if !lo.is_finite() || !hi.is_finite() {
        return if scale == Scale::Log {
            (1.0, 10.0)
        } else {
            (0.0, 1.0)
        };
    }
    if hi == lo {
        match scale {
            Scale::Log => (lo / 2.0, hi * 2.0),
            Scale::Linear if lo == 0.0 => (0.0, 1.0),
            Scale::Linear => {
                let d = lo.abs() / 2.0;
                (lo - d, hi + d)
            }
        }
    } else {
        (lo, hi)
    }
}

/// The 1-2-5 × 10^k value nearest above `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if raw.is_nan() || raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let n = if f <= 1.0 + 1e-9 {
        1.0
    } else if f <= 2.0 + 1e-9 {
        2.0
    } else if f <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    n * mag
}

/// The largest 1-2-5 value ≤ v (v > 0).
fn step_below(v: f64) -> f64 {
    let mag = 10f64.powf(v.log10().floor());
    let f = v / mag;
    let n = [5.0, 2.0, 1.0]
        .into_iter()
        .find(|n| *n <= f * (1.0 + 1e-9))
        .unwrap_or(1.0);
    n * mag
}

/// The smallest 1-2-5 value ≥ v (v > 0).
fn step_above(v: f64) -> f64 {
    let mag = 10f64.powf(v.log10().floor());
    let f = v / mag;
    let n = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|n| *n >= f * (1.0 - 1e-9))
        .unwrap_or(10.0);
    n * mag
}

/// Labelled and minor ticks inside `[lo, hi]`.
pub fn ticks(lo: f64, hi: f64, scale: Scale) -> (Vec<f64>, Vec<f64>) {
    let eps = (hi - lo).abs() * 1e-9;
    match scale {
        Scale::Linear => {
            let step = nice_step((hi - lo) / 6.0);
            let first = (lo / step).ceil() as i64;
            let last = ((hi + eps) / step).floor() as i64;
            let ticks = (first..=last)
                .map(|i| clean(i as f64 * step))
                .collect::<Vec<_>>();
            (ticks, Vec::new())
        }
        Scale::Log => {
            let (a, b) = (lo.log10(), hi.log10());
            let d0 = (a - 1e-9).floor() as i32;
            let d1 = (b + 1e-9).ceil() as i32;
            let decades = b - a;
            let inside = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
            let mut major = Vec::new();
            let mut minor = Vec::new();
            let every = if decades > 8.0 {
                (decades / 6.0).ceil() as i32
            } else {
                1
            };
            for d in d0..=d1 {
                let p = 10f64.powi(d);
                if d.rem_euclid(every) == 0 && inside(p) {
                    major.push(clean(p));
                }
                for m in 2..=9 {
                    let v = clean(p * m as f64);
                    if !inside(v) {
                        continue;
                    }
                    if decades <= 2.3 && matches!(m, 2 | 5) {
                        major.push(v);
                    } else if decades <= 4.0 {
                        minor.push(v);
                    }
                }
            }
            if major.len() < 3 && decades <= 3.5 {
                // Only one or two decades labelled (100, 1k on an axis from 20 to 5k): label
                // the 2s and 5s too, so both ends of the axis can be read.
                let (promoted, rest): (Vec<f64>, Vec<f64>) = minor.iter().partition(|v| {
                    let m = *v / 10f64.powf(v.log10().floor());
                    (m - 2.0).abs() < 1e-6 || (m - 5.0).abs() < 1e-6
                });
                major.extend(promoted);
                minor = rest;
            }
            major.sort_by(f64::total_cmp);
            if major.len() < 2 {
                // Less than a decade without 1-2-5 values inside: fall back to linear ticks.
                return ticks(lo, hi, Scale::Linear);
            }
            (major, minor)
        }
    }
}

/// Rounds away binary noise (`0.30000000000000004` → `0.3`).
fn clean(v: f64) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    let digits = 12 - v.abs().log10().floor() as i32;
    if (0..=300).contains(&digits) {
        let f = 10f64.powi(digits);
        (v * f).round() / f
    } else {
        v
    }
}

/// A tick label: `0.5`, `20`, `1k`, `2.5k`, `10M`; `step` is the spacing of neighbouring ticks and
/// decides how many decimals show.
pub fn tick_label(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    const SUFFIX: [(f64, &str); 5] = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    for (f, s) in SUFFIX {
        if a >= f {
            return format!("{}{s}", trim_number(v / f, step / f));
        }
    }
    if a < 1e-4 {
        return power_label(v);
    }
    trim_number(v, step)
}

/// `v` as a power of ten with superscript exponent: `10⁻⁶`, `2.5×10⁻⁷`.
pub fn power_label(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mut e = v.abs().log10().floor() as i32;
    let mut m = (v / 10f64.powi(e) * 100.0).round() / 100.0;
    if m.abs() >= 10.0 {
        m /= 10.0;
        e += 1;
    }
    let exp: String = e
        .to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            d => ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'][d as usize - '0' as usize],
        })
        .collect();
    match trim_number(m, 0.01).as_str() {
        "1" => format!("10{exp}"),
        "-1" => format!("−10{exp}"),
        mant => format!("{}×10{exp}", mant.replace('-', "−")),
    }
}

fn trim_number(v: f64, step: f64) -> String {
    let decimals = if step > 0.0 && step.is_finite() {
        (-(step.log10() - 1e-9).floor()).max(0.0) as usize
    } else {
        0
    };
    let s = format!("{:.*}", decimals.min(12), v);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A value with three significant digits and an SI-style suffix (`65.5k`, `1.31`, `0.0042`), for
/// text summaries.
pub fn short(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e15 {
        (v / 1e15, "P")
    } else if a >= 1e12 {
        (v / 1e12, "T")
    } else if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    if scaled.abs() < 1e-3 {
        return format!("{:.2e}", v);
    }
    let mag = scaled.abs().log10().floor() as i32;
    let decimals = (2 - mag).max(0) as usize;
    let s = format!("{:.*}", decimals, scaled);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_decades() {
        let (t, minor) = ticks(1.0, 65536.0, Scale::Log);
        assert_eq!(t, vec![1.0, 10.0, 100.0, 1000.0, 10000.0]);
        assert!(minor.is_empty());
        let (_, minor) = ticks(1.0, 1000.0, Scale::Log);
        assert!(minor.contains(&20.0));
    }

    #[test]
    fn narrow_log_ticks_use_1_2_5() {
        let (t, _) = ticks(1.0, 10.0, Scale::Log);
        assert_eq!(t, vec![1.0, 2.0, 5.0, 10.0]);
    }

    #[test]
    fn wide_log_ticks_skip_decades() {
        let (t, _) = ticks(1e-3, 1e9, Scale::Log);
        assert!(t.len() <= 7, "{t:?}");
    }

    #[test]
    fn linear_ticks_are_nice() {
        let (t, _) = ticks(0.0, 8.0, Scale::Linear);
        assert_eq!(t, vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        let (t, _) = ticks(0.0, 0.3, Scale::Linear);
        assert_eq!(t, vec![0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]);
    }

    #[test]
    fn nice_ranges_round_out() {
        let a = AxisScale::nice(0.013, 87.0, Scale::Log);
        assert_eq!((a.lo, a.hi), (0.01, 100.0));
        let a = AxisScale::nice(0.0, 7.3, Scale::Linear);
        assert_eq!((a.lo, a.hi), (0.0, 8.0));
        let a = AxisScale::nice(3.0, 7.0, Scale::Log);
        assert_eq!((a.lo, a.hi), (2.0, 10.0));
        let a = AxisScale::nice(0.82, 22.0, Scale::Log);
        assert_eq!((a.lo, a.hi), (0.5, 50.0));
        assert_eq!(a.ticks, vec![0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]);
    }

    #[test]
    fn labels_read_well() {
        assert_eq!(tick_label(1000.0, 1000.0), "1k");
        assert_eq!(tick_label(2500.0, 500.0), "2.5k");
        assert_eq!(tick_label(0.05, 0.05), "0.05");
        assert_eq!(tick_label(20.0, 10.0), "20");
        assert_eq!(tick_label(1e6, 1e6), "1M");
        assert_eq!(short(65536.0), "65.5k");
        assert_eq!(short(1.3125), "1.31");
        assert_eq!(short(2400.0), "2400");
        assert_eq!(tick_label(1.0000000000000001e-11, 1e-11), "10⁻¹¹");
        assert_eq!(power_label(2.5e-7), "2.5×10⁻⁷");
        assert_eq!(power_label(9.999e-6), "10⁻⁵");
    }

    #[test]
    fn tiny_log_axes_label_in_powers_of_ten() {
        let a = AxisScale::nice(3e-11, 4e-4, Scale::Log);
        let labels: Vec<String> = a.ticks.iter().map(|t| a.label(*t)).collect();
        assert_eq!(labels.first().map(String::as_str), Some("10⁻¹¹"));
        assert_eq!(labels.last().map(String::as_str), Some("10⁻³"));
        // Axes that stay above 10⁻⁴ keep decimals.
        let a = AxisScale::nice(0.013, 87.0, Scale::Log);
        assert_eq!(a.label(0.01), "0.01");
    }
}
