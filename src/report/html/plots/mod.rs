//! The report's plots, one module each; every one returns a [`Figure`](super::figure::Figure)
//! with its title, axis labels (with units), legend and caption, or `None` when the run has
//! nothing to draw for it.

pub mod outcomes;
pub mod over_time;
pub mod percentiles;
pub mod throughput;
pub mod timeline;

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// A linear f64 axis whose ticks are exactly the given points (category centres, pod rows).
/// plotters' own `with_key_points` on an f64 range loses the label formatter, so this is the
/// small axis type that keeps both.
pub struct FixedTicks {
    pub range: Range<f64>,
    pub ticks: Vec<f64>,
}

impl Ranged for FixedTicks {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let t = if span > 0.0 { (v - self.range.start) / span } else { 0.0 };
        limit.0 + (f64::from(limit.1 - limit.0) * t).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Only bold points: no light grid between categories.
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// Ticks for a log axis over `[lo, hi]`: 1-2-5 in each decade, thinned to powers of ten when
/// that is more than `most`, thickened with 3 and 7 when fewer than 4, so labels never crowd
/// or vanish.
pub fn log_ticks(lo: f64, hi: f64, most: usize) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    let within = |steps: &[f64]| -> Vec<f64> {
        let mut out = Vec::new();
        let mut decade = 10f64.powf(lo.log10().floor());
        while decade <= hi {
            for m in steps {
                // Rounded so 3 × 0.1 prints as 0.3.
                let v = (m * decade * 1e9).round() / 1e9;
                if v >= lo && v <= hi {
                    out.push(v);
                }
            }
            decade *= 10.0;
        }
        out
    };
    let ticks = within(&[1.0, 2.0, 5.0]);
    if ticks.len() > most {
        within(&[1.0])
    } else if ticks.len() < 4 {
        within(&[1.0, 2.0, 3.0, 5.0, 7.0])
    } else {
        ticks
    }
}

/// First letter upper case, for titles made from a metric's name.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().collect::<String>() + c.as_str())
}

/// A log axis range around `[lo, hi]` (both > 0 expected): a little room either side, and
/// never empty (a flat series still gets a decade).
pub fn log_range(lo: f64, hi: f64) -> (f64, f64) {
    let lo = if lo.is_finite() && lo > 0.0 { lo } else { 1.0 };
    let hi = if hi.is_finite() && hi > lo { hi } else { lo * 10.0 };
    (lo / 1.5, hi * 1.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_ticks_map_linearly_and_tick_only_where_asked() {
        let axis = FixedTicks { range: 0.0..4.0, ticks: vec![0.5, 1.5] };
        assert_eq!(axis.map(&0.0, (100, 500)), 100);
        assert_eq!(axis.map(&1.0, (100, 500)), 200);
        assert_eq!(axis.map(&4.0, (100, 500)), 500);
        assert_eq!(axis.key_points(plotters::coord::ranged1d::BoldPoints(10)), vec![0.5, 1.5]);
    }

    #[test]
    fn log_ticks_are_few_and_round() {
        assert_eq!(log_ticks(0.05, 2.0, 9), vec![0.05, 0.1, 0.2, 0.5, 1.0, 2.0]);
        assert_eq!(log_ticks(0.05, 2.0, 5), vec![0.1, 1.0]);
        assert_eq!(log_ticks(1e-3, 1e3, 9), vec![1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(log_ticks(1.1, 4.0, 9), vec![2.0, 3.0]);
        assert!(log_ticks(0.0, 1.0, 9).is_empty());
        for (lo, hi) in [(0.013, 1.9), (60.0, 12_000.0), (0.8, 7.0), (3e-6, 2.0)] {
            let t = log_ticks(lo, hi, 9);
            assert!((2..=9).contains(&t.len()), "{lo}..{hi}: {t:?}");
            assert!(t.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn log_ranges_pad_and_never_collapse() {
        assert_eq!(log_range(10.0, 100.0), (10.0 / 1.5, 150.0));
        assert_eq!(log_range(5.0, 5.0), (5.0 / 1.5, 75.0));
        assert_eq!(log_range(0.0, f64::INFINITY), (1.0 / 1.5, 15.0));
    }
}
