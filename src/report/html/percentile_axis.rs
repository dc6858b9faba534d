//! The HdrHistogram plotter's percentile axis: x = 1/(1−p) on a log scale, so 90%, 99%,
//! 99.9%, 99.99% are evenly spaced and the tail gets as much room as the body.

/// Position of percentile `p` (a fraction) on the axis. p = 1 has no finite position; it is
/// clamped just below.
pub fn position(p: f64) -> f64 {
    1.0 / (1.0 - p.clamp(0.0, 1.0 - 1e-12))
}

/// The percentile at axis position `x`, as a label: `0%`, `50%`, `90%`, `99.9%`.
pub fn label(x: f64) -> String {
    let pct = (1.0 - 1.0 / x.max(1.0)) * 100.0;
    let s = format!("{pct:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// Where the axis ends: the next power of ten at or past the furthest point, at least 100
/// (99%), at most 10^7 (99.99999%).
pub fn axis_end(furthest: f64) -> f64 {
    let exp = furthest.max(1.0).log10().ceil().clamp(2.0, 7.0);
    10f64.powf(exp)
}

/// Labelled ticks up to `end`: 0%, 50%, then 90%, 99%, 99.9% … (each nine one decade on).
pub fn ticks(end: f64) -> Vec<f64> {
    let mut out = vec![1.0, 2.0];
    let mut x = 10.0;
    while x <= end * (1.0 + 1e-9) {
        out.push(x);
        x *= 10.0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_are_decades_apart() {
        assert_eq!(position(0.0), 1.0);
        assert!((position(0.5) - 2.0).abs() < 1e-9);
        assert!((position(0.9) - 10.0).abs() < 1e-9);
        assert!((position(0.999) - 1000.0).abs() < 1e-6);
        assert!(position(1.0).is_finite() && position(1.0) > 1e11);
    }

    #[test]
    fn labels_read_as_percentiles() {
        let labels: Vec<String> = ticks(10_000.0).into_iter().map(label).collect();
        assert_eq!(labels, vec!["0%", "50%", "90%", "99%", "99.9%", "99.99%"]);
        assert_eq!(label(position(0.99999)), "99.999%");
    }

    #[test]
    fn axis_ends_at_a_decade_past_the_data() {
        assert_eq!(axis_end(1.0), 100.0);
        assert_eq!(axis_end(150.0), 1000.0);
        assert_eq!(axis_end(1000.0), 1000.0);
        assert_eq!(axis_end(5e9), 1e7);
    }
}
