//! A Prometheus histogram safe to update and render from different threads: one atomic
//! count per bucket, so an update is two relaxed atomic adds and never blocks a reader.
//!
//! Counts are kept per bucket (not cumulative) and cumulated when rendered; `_count` is
//! the sum of the same bucket reads, so it always equals the `+Inf` bucket. `_sum` is a
//! separate atomic and may lag a concurrent update by one observation.

use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;

/// The kubelet's buckets for `prober_probe_duration_seconds`: ProberDuration sets none, so
/// client_golang's DefBuckets apply (.005 … 10 s) — pkg/kubelet/prober/prober_manager.go.
pub const KUBELET_DURATION_BOUNDS_NS: &[u64] = &[
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// Scheduling lag and probe latency: 10 µs … 10 s in 1-2.5-5 steps (19 buckets), fine
/// enough at the bottom for a timer's microseconds and wide enough for a lost second.
pub const LAG_BOUNDS_NS: &[u64] = &[
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// What a render sees: cumulative counts per bound (the last is `+Inf`).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// (upper bound in seconds, cumulative count); the last bound is `f64::INFINITY`.
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

/// A histogram with fixed bounds (nanoseconds, ascending).
#[derive(Debug)]
pub struct AtomicHistogram {
    bounds_ns: &'static [u64],
    /// One per bound plus the overflow (`+Inf`) bucket.
    counts: Box<[AtomicU64]>,
    sum_ns: AtomicU64,
}

impl AtomicHistogram {
    pub fn new(bounds_ns: &'static [u64]) -> Self {
        AtomicHistogram {
            bounds_ns,
            counts: (0..=bounds_ns.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_ns: AtomicU64::new(0),
        }
    }

    /// The bucket of a value: the first bound ≥ it (Prometheus buckets are `le`).
    fn bucket(&self, ns: u64) -> usize {
        self.bounds_ns.partition_point(|&b| b < ns)
    }

    /// One observation, nanoseconds.
    pub fn observe_ns(&self, ns: u64) {
        self.counts[self.bucket(ns)].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Add every value of an HDR histogram of nanoseconds (e.g. one collector interval).
    ///
    /// HDR keeps values in bins of 0.1% width (3 significant digits); a bin is counted in
    /// the first bucket whose bound is at or above the bin's lowest value, so a value
    /// recorded exactly at a bound lands in that bound's bucket, as one observation would.
    /// Only a value within HDR's resolution above a bound can be counted one bucket low.
    /// The sum uses each bin's median value, as HDR's own mean does.
    pub fn merge_hdr(&self, h: &Histogram<u64>) {
        let mut sum: u128 = 0;
        for iv in h.iter_recorded() {
            let v = iv.value_iterated_to();
            let n = iv.count_at_value();
            self.counts[self.bucket(h.lowest_equivalent(v))].fetch_add(n, Ordering::Relaxed);
            sum += u128::from(h.median_equivalent(v)) * u128::from(n);
        }
        self.sum_ns.fetch_add(u64::try_from(sum).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut cumulative = 0u64;
        let mut buckets = Vec::with_capacity(self.counts.len());
        for (i, c) in self.counts.iter().enumerate() {
            cumulative += c.load(Ordering::Relaxed);
            let bound = self.bounds_ns.get(i).map_or(f64::INFINITY, |&b| b as f64 / 1e9);
            buckets.push((bound, cumulative));
        }
        Snapshot { buckets, count: cumulative, sum_seconds: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::hist::new_histogram;

    #[test]
    fn observations_land_in_le_buckets() {
        let h = AtomicHistogram::new(KUBELET_DURATION_BOUNDS_NS);
        h.observe_ns(5_000_000); // exactly 5 ms: le="0.005"
        h.observe_ns(5_000_001);
        h.observe_ns(20_000_000_000); // over every bound: +Inf only
        let s = h.snapshot();
        assert_eq!(s.buckets[0], (0.005, 1));
        assert_eq!(s.buckets[1], (0.01, 2));
        assert_eq!(s.buckets[10], (10.0, 2));
        assert_eq!(s.buckets[11], (f64::INFINITY, 3));
        assert_eq!(s.count, 3);
        assert!((s.sum_seconds - 20.010000001).abs() < 1e-9);
    }

    #[test]
    fn merging_hdr_matches_observing_each_value() {
        // Values at bounds, between bounds, below the first and above the last.
        let values: Vec<u64> =
            vec![1, 9_000, 10_000, 10_001 * 3, 250_000, 999_999, 7_000_000, 3_000_000_000, 60_000_000_000]
                .into_iter()
                .chain((1..2000u64).map(|i| i * 7_919))
                .collect();
        let one = AtomicHistogram::new(LAG_BOUNDS_NS);
        let mut hdr = new_histogram();
        for &v in &values {
            one.observe_ns(v);
            hdr.record(v).unwrap();
        }
        let merged = AtomicHistogram::new(LAG_BOUNDS_NS);
        merged.merge_hdr(&hdr);
        let (a, b) = (one.snapshot(), merged.snapshot());
        // Allow only values within HDR resolution (0.1%) above a bound to differ.
        let near_bound = |v: u64| LAG_BOUNDS_NS.iter().any(|&b| v > b && (v - b) as f64 <= b as f64 * 0.001);
        let slack = values.iter().filter(|&&v| near_bound(v)).count() as u64;
        for (x, y) in a.buckets.iter().zip(b.buckets.iter()) {
            assert_eq!(x.0, y.0);
            assert!(x.1.abs_diff(y.1) <= slack, "bucket le={}: observed {} merged {}", x.0, x.1, y.1);
        }
        assert_eq!(a.count, b.count);
        let rel = (a.sum_seconds - b.sum_seconds).abs() / a.sum_seconds;
        assert!(rel < 0.001, "sums within HDR precision: {} vs {}", a.sum_seconds, b.sum_seconds);
        // Merging twice doubles every count (counters only grow).
        merged.merge_hdr(&hdr);
        assert_eq!(merged.snapshot().count, 2 * a.count);
    }
}
