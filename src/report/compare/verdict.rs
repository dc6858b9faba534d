//! The verdict on one figure: better, worse or the same, from both sides' intervals.
//!
//! Each side's interval is first widened to at least ± the minimum spread (a share of its
//! value): histograms keep 3 significant digits, and a figure measured once (one run's CPU
//! per probe) has no interval of its own. Then a difference is "same" when it lies inside
//! the combined spread, i.e. when the intervals overlap: B above A is "same" while B's lower
//! end is at or below A's upper end, and the other way round. Overlapping 95 % intervals is
//! a conservative test (it calls a real but small change "same" more often than a 5 % test
//! would), which is the right side to err on for a regression gate on a shared machine.
//! Outside it, the direction decides: for most figures lower is better (lag, latency, CPU,
//! memory, failures); for the achieved probe rate higher is better.

use serde::Serialize;

use super::spread::Estimate;

/// Which way is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Lower,
    Higher,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Better,
    Worse,
    Same,
    /// One side has no such figure (e.g. no latency histogram).
    Missing,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Same => "same",
            Verdict::Missing => "n/a",
        }
    }
}

/// A side's interval after the minimum spread (`min_spread` a fraction, 0.05 = 5 %).
pub fn widened(e: &Estimate, min_spread: f64) -> (f64, f64) {
    let pad = e.value.abs() * min_spread;
    (e.lo.min(e.value - pad), e.hi.max(e.value + pad))
}

/// B ÷ A, or None when A is zero (then B is either also zero or infinitely larger).
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    if a == 0.0 { if b == 0.0 { Some(1.0) } else { None } } else { Some(b / a) }
}

/// The verdict on B against A.
pub fn judge(a: &Estimate, b: &Estimate, better: Better, min_spread: f64) -> Verdict {
    if a.value.is_nan() || b.value.is_nan() {
        return Verdict::Missing;
    }
    let (a_lo, a_hi) = widened(a, min_spread);
    let (b_lo, b_hi) = widened(b, min_spread);
    let higher = if b.value > a.value && b_lo > a_hi {
        true
    } else if b.value < a.value && b_hi < a_lo {
        false
    } else {
        return Verdict::Same;
    };
    match (higher, better) {
        (true, Better::Higher) | (false, Better::Lower) => Verdict::Better,
        _ => Verdict::Worse,
    }
}

/// Whether a worse figure moved by more than `pct` percent (an infinite ratio always has).
pub fn beyond(a: f64, b: f64, pct: f64) -> bool {
    match ratio(a, b) {
        Some(r) => (r - 1.0).abs() * 100.0 > pct,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::compare::spread::SpreadSource;

    fn est(value: f64, lo: f64, hi: f64) -> Estimate {
        Estimate { value, lo, hi, source: SpreadSource::BootstrapSeconds }
    }

    #[test]
    fn a_difference_inside_the_combined_spread_is_the_same() {
        // 100 (90–110) against 115 (105–125): the intervals overlap.
        let a = est(100.0, 90.0, 110.0);
        let b = est(115.0, 105.0, 125.0);
        assert_eq!(judge(&a, &b, Better::Lower, 0.0), Verdict::Same);
        assert_eq!(judge(&b, &a, Better::Lower, 0.0), Verdict::Same);
        assert_eq!(judge(&a, &b, Better::Higher, 0.0), Verdict::Same);
        assert_eq!(judge(&a, &a, Better::Lower, 0.0), Verdict::Same);
    }

    #[test]
    fn beyond_the_spread_the_direction_decides() {
        let a = est(100.0, 95.0, 105.0);
        let b = est(130.0, 120.0, 140.0);
        // Higher lag, latency, CPU, memory, failures: worse. Higher rate: better.
        assert_eq!(judge(&a, &b, Better::Lower, 0.0), Verdict::Worse);
        assert_eq!(judge(&a, &b, Better::Higher, 0.0), Verdict::Better);
        assert_eq!(judge(&b, &a, Better::Lower, 0.0), Verdict::Better);
        assert_eq!(judge(&b, &a, Better::Higher, 0.0), Verdict::Worse);
    }

    #[test]
    fn the_minimum_spread_covers_figures_without_an_interval() {
        // One run each: CPU 10.0 vs 10.4 µs/probe is within a 5 % floor, 10.0 vs 11.5 is not.
        let a = Estimate::exact(10.0);
        assert_eq!(judge(&a, &Estimate::exact(10.4), Better::Lower, 0.05), Verdict::Same);
        assert_eq!(judge(&a, &Estimate::exact(11.5), Better::Lower, 0.05), Verdict::Worse);
        assert_eq!(judge(&a, &Estimate::exact(11.5), Better::Lower, 0.10), Verdict::Same);
    }

    #[test]
    fn the_interval_decides_not_only_the_values() {
        // Same values, one pair with tight intervals and one with wide ones.
        let tight = (est(100.0, 99.0, 101.0), est(110.0, 109.0, 111.0));
        let wide = (est(100.0, 60.0, 160.0), est(110.0, 70.0, 170.0));
        assert_eq!(judge(&tight.0, &tight.1, Better::Lower, 0.0), Verdict::Worse);
        assert_eq!(judge(&wide.0, &wide.1, Better::Lower, 0.0), Verdict::Same);
    }

    #[test]
    fn zeros_and_missing_values() {
        let zero = Estimate::exact(0.0);
        assert_eq!(judge(&zero, &zero, Better::Lower, 0.05), Verdict::Same);
        assert_eq!(judge(&zero, &est(3.0, 2.0, 4.0), Better::Lower, 0.05), Verdict::Worse);
        assert_eq!(judge(&Estimate::exact(f64::NAN), &zero, Better::Lower, 0.05), Verdict::Missing);
        assert_eq!(ratio(0.0, 0.0), Some(1.0));
        assert_eq!(ratio(0.0, 2.0), None);
        assert_eq!(ratio(4.0, 2.0), Some(0.5));
    }

    #[test]
    fn beyond_a_percentage() {
        assert!(!beyond(100.0, 109.0, 10.0));
        assert!(beyond(100.0, 111.0, 10.0));
        assert!(beyond(100.0, 80.0, 10.0), "a drop counts too (for higher-is-better figures)");
        assert!(beyond(0.0, 1.0, 1000.0));
    }
}
