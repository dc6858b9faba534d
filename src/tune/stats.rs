//! Confidence intervals for what the tuner measures: rates of rare events (Poisson counts
//! over an exposure) and percentiles of samples.

use serde::Serialize;

/// A value with its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Estimate {
    pub fn exact(value: f64) -> Self {
        Estimate { value, low: value, high: value }
    }
}

/// The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    const A: [f64; 6] = [
        -39.69683028665376,
        220.9460984245205,
        -275.9285104469687,
        138.357751867269,
        -30.66479806614716,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
    const C: [f64; 6] = [
        -0.007784894002430293,
        -0.3223964580411365,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
    let low = 0.02425;
    if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

/// The chi-square quantile by the Wilson–Hilferty approximation (good to a few percent for
/// the degrees of freedom used here, exact enough for an interval's edge).
fn chi2_quantile(p: f64, dof: f64) -> f64 {
    if dof <= 0.0 {
        return 0.0;
    }
    let z = normal_quantile(p);
    let a = 2.0 / (9.0 * dof);
    (dof * (1.0 - a + z * a.sqrt()).powi(3)).max(0.0)
}

/// A Poisson rate: `count` events over `exposure` units, with Garwood's exact-style 95 %
/// interval. With no events the upper bound is ≈ 3.69 / exposure.
pub fn poisson_rate(count: u64, exposure: f64) -> Estimate {
    if exposure <= 0.0 {
        return Estimate { value: f64::NAN, low: 0.0, high: f64::INFINITY };
    }
    let k = count as f64;
    let low = if count == 0 { 0.0 } else { chi2_quantile(0.025, 2.0 * k) / 2.0 };
    let high = if count == 0 { -(0.025f64).ln() } else { chi2_quantile(0.975, 2.0 * k + 2.0) / 2.0 };
    Estimate { value: k / exposure, low: low / exposure, high: high / exposure }
}

/// The q-quantile of `samples` with a distribution-free 95 % interval from the order
/// statistics (normal approximation to the binomial ranks).
pub fn quantile(samples: &mut [f64], q: f64) -> Option<Estimate> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let n = samples.len() as f64;
    let at = |rank: f64| samples[(rank.ceil() as usize).clamp(1, samples.len()) - 1];
    let spread = 1.96 * (n * q * (1.0 - q)).sqrt();
    Some(Estimate { value: at(n * q), low: at(n * q - spread), high: at(n * q + spread + 1.0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles() {
        assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-5);
        assert!((normal_quantile(0.5)).abs() < 1e-9);
        assert!((normal_quantile(0.001) + 3.090232).abs() < 1e-5);
    }

    #[test]
    fn poisson_intervals_cover_known_values() {
        // Garwood's interval for 10 events: [4.795, 18.39].
        let e = poisson_rate(10, 1.0);
        assert!((e.low - 4.795).abs() < 0.1, "{e:?}");
        assert!((e.high - 18.39).abs() < 0.2, "{e:?}");
        let z = poisson_rate(0, 100.0);
        assert_eq!(z.value, 0.0);
        assert!((z.high - 0.0369).abs() < 0.001);
    }

    #[test]
    fn quantile_interval_brackets_the_value() {
        let mut v: Vec<f64> = (1..=1000).map(f64::from).collect();
        let e = quantile(&mut v, 0.5).unwrap();
        assert_eq!(e.value, 500.0);
        assert!(e.low < 500.0 && e.high > 500.0 && e.high - e.low < 80.0, "{e:?}");
    }
}
