//! Duration distributions (startup time, latency, pull time, hook time) and sampling.
//!
//! Sampling uses only the instance's own PCG stream, so a seed repeats everywhere. The
//! log-normal one uses `ln`/`exp`, whose last bit may differ between C libraries; that
//! can move a sample by a nanosecond across platforms, never on one machine.

use std::time::Duration;

use rand::RngExt;
use rand_distr::{Distribution as _, LogNormal};
use rand_pcg::Pcg64Mcg;

/// The standard normal quantile at 0.99: turns (p50, p99) into a log-normal sigma.
const Z_99: f64 = 2.326_347_874_040_840_8;

/// Samples are capped here so a wild log-normal tail never overflows a deadline.
const MAX_SAMPLE: Duration = Duration::from_secs(24 * 3600);

/// A distribution of durations.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    /// Always this value; draws nothing from the stream.
    Fixed(Duration),
    /// Uniform between `min` and `max` inclusive (nanosecond resolution).
    Uniform {
        /// Smallest value.
        min: Duration,
        /// Largest value.
        max: Duration,
    },
    /// Log-normal with the given median and 99th percentile (`p99 >= p50 > 0`): the
    /// usual shape of service latency, a long right tail.
    LogNormal {
        /// Median.
        p50: Duration,
        /// 99th percentile.
        p99: Duration,
    },
}

impl Distribution {
    /// Zero, always.
    pub const ZERO: Distribution = Distribution::Fixed(Duration::ZERO);

    /// One sample.
    pub fn sample(&self, rng: &mut Pcg64Mcg) -> Duration {
        match *self {
            Distribution::Fixed(d) => d,
            Distribution::Uniform { min, max } => {
                let lo = nanos(min);
                let hi = nanos(max).max(lo);
                Duration::from_nanos(rng.random_range(lo..=hi))
            }
            Distribution::LogNormal { p50, p99 } => {
                let (mu, sigma) = lognormal_params(p50, p99);
                match LogNormal::new(mu, sigma) {
                    Ok(d) => from_secs_capped(d.sample(rng)),
                    // Unreachable for validated input (sigma >= 0, finite); fall back to
                    // the median rather than fail at run time.
                    Err(_) => p50,
                }
            }
        }
    }

    /// The probability that a sample exceeds `x` (exact, no sampling): lets docs and
    /// tests state what fraction of probes a timeout will cut.
    pub fn exceedance(&self, x: Duration) -> f64 {
        match *self {
            Distribution::Fixed(d) => {
                if d > x {
                    1.0
                } else {
                    0.0
                }
            }
            Distribution::Uniform { min, max } => {
                if x < min {
                    1.0
                } else if x >= max {
                    0.0
                } else {
                    let span = (max - min).as_secs_f64();
                    (max - x).as_secs_f64() / span
                }
            }
            Distribution::LogNormal { p50, p99 } => {
                let (mu, sigma) = lognormal_params(p50, p99);
                if x.is_zero() {
                    return 1.0;
                }
                if sigma == 0.0 {
                    return if p50 > x { 1.0 } else { 0.0 };
                }
                let z = (x.as_secs_f64().ln() - mu) / sigma;
                0.5 * erfc(z / std::f64::consts::SQRT_2)
            }
        }
    }

    /// The largest value a sample can take, if bounded.
    pub fn max(&self) -> Option<Duration> {
        match *self {
            Distribution::Fixed(d) => Some(d),
            Distribution::Uniform { max, .. } => Some(max),
            Distribution::LogNormal { .. } => None,
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn from_secs_capped(s: f64) -> Duration {
    if !s.is_finite() || s < 0.0 {
        return MAX_SAMPLE;
    }
    Duration::try_from_secs_f64(s).unwrap_or(MAX_SAMPLE).min(MAX_SAMPLE)
}

/// (mu, sigma) of ln X for a log-normal X with the given median and 99th percentile.
fn lognormal_params(p50: Duration, p99: Duration) -> (f64, f64) {
    let m = p50.as_secs_f64().max(1e-9);
    let q = p99.as_secs_f64().max(m);
    (m.ln(), (q / m).ln() / Z_99)
}

/// Complementary error function (Numerical Recipes' erfcc, relative error < 1.2e-7),
/// enough for stating tail fractions.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: u128) -> Pcg64Mcg {
        Pcg64Mcg::new(seed)
    }

    fn percentile(sorted: &[Duration], p: f64) -> Duration {
        let i = ((sorted.len() as f64) * p).ceil() as usize - 1;
        sorted[i]
    }

    #[test]
    fn fixed_draws_nothing() {
        let mut a = rng(1);
        let mut b = rng(1);
        assert_eq!(Distribution::Fixed(Duration::from_millis(5)).sample(&mut a), Duration::from_millis(5));
        // The stream did not move.
        assert_eq!(a.random::<u64>(), b.random::<u64>());
    }

    #[test]
    fn uniform_stays_in_bounds_and_covers_them() {
        let d = Distribution::Uniform { min: Duration::from_millis(10), max: Duration::from_millis(20) };
        let mut r = rng(42);
        let samples: Vec<Duration> = (0..20_000).map(|_| d.sample(&mut r)).collect();
        assert!(samples.iter().all(|s| *s >= Duration::from_millis(10)));
        assert!(samples.iter().all(|s| *s <= Duration::from_millis(20)));
        let below_15 = samples.iter().filter(|s| **s < Duration::from_millis(15)).count();
        // Binomial(20000, 0.5): sd ~ 71; 5 sd tolerance.
        assert!((9_650..=10_350).contains(&below_15), "{below_15}");
    }

    #[test]
    fn lognormal_hits_its_percentiles() {
        let d = Distribution::LogNormal { p50: Duration::from_millis(100), p99: Duration::from_millis(800) };
        let mut r = rng(7);
        let mut samples: Vec<Duration> = (0..20_000).map(|_| d.sample(&mut r)).collect();
        samples.sort();
        let p50 = percentile(&samples, 0.50).as_secs_f64();
        let p99 = percentile(&samples, 0.99).as_secs_f64();
        assert!((0.095..=0.105).contains(&p50), "p50 {p50}");
        assert!((0.70..=0.92).contains(&p99), "p99 {p99}");
        // The exact tail beyond 1 s agrees with the sampled one.
        let over = samples.iter().filter(|s| s.as_secs_f64() > 1.0).count() as f64 / 20_000.0;
        let exact = d.exceedance(Duration::from_secs(1));
        assert!((0.003..0.008).contains(&exact), "exact {exact}");
        assert!((over - exact).abs() < 0.0025, "sampled {over} exact {exact}");
    }

    #[test]
    fn same_seed_same_samples() {
        let d = Distribution::LogNormal { p50: Duration::from_millis(3), p99: Duration::from_millis(90) };
        let a: Vec<Duration> = {
            let mut r = rng(99);
            (0..100).map(|_| d.sample(&mut r)).collect()
        };
        let b: Vec<Duration> = {
            let mut r = rng(99);
            (0..100).map(|_| d.sample(&mut r)).collect()
        };
        assert_eq!(a, b);
    }

    #[test]
    fn erfc_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-6);
        assert!((erfc(1.0) - 0.157_299_2).abs() < 1e-6);
        assert!((erfc(-1.0) - 1.842_700_8).abs() < 1e-6);
    }
}
