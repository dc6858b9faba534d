//! A histogram reduced to its non-empty buckets: `(highest equivalent value, count)` pairs in
//! ascending order. Every histogram a run writes has the same bounds and precision, so the
//! bucket values line up across seconds, series and runs, and merging is a sorted merge.
//! Quantiles are read exactly as `hdrhistogram::Histogram::value_at_quantile` reads them, so
//! a sparse merge of a run's seconds gives the numbers `run` printed from its own merge.

use hdrhistogram::Histogram;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sparse {
    /// `(bucket's highest equivalent value, count)`, values strictly ascending, counts > 0.
    pub buckets: Vec<(u64, u64)>,
}

impl Sparse {
    pub fn of(h: &Histogram<u64>) -> Self {
        Sparse { buckets: h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect() }
    }

    /// From `(value, count)` pairs in any order (duplicates are added up, zero counts dropped).
    pub fn from_pairs(mut pairs: Vec<(u64, u64)>) -> Self {
        pairs.sort_unstable_by_key(|&(v, _)| v);
        let mut buckets: Vec<(u64, u64)> = Vec::with_capacity(pairs.len());
        for (v, c) in pairs {
            if c == 0 {
                continue;
            }
            match buckets.last_mut() {
                Some((last, n)) if *last == v => *n += c,
                _ => buckets.push((v, c)),
            }
        }
        Sparse { buckets }
    }

    pub fn total(&self) -> u64 {
        self.buckets.iter().map(|&(_, c)| c).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    pub fn max(&self) -> u64 {
        self.buckets.last().map_or(0, |&(v, _)| v)
    }

    /// Add `other` into `self` (sorted merge).
    pub fn merge(&mut self, other: &Sparse) {
        if other.is_empty() {
            return;
        }
        let mut out = Vec::with_capacity(self.buckets.len() + other.buckets.len());
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.buckets, &other.buckets);
        while i < a.len() || j < b.len() {
            match (a.get(i), b.get(j)) {
                (Some(&(va, ca)), Some(&(vb, cb))) if va == vb => {
                    out.push((va, ca + cb));
                    i += 1;
                    j += 1;
                }
                (Some(&x), Some(&(vb, _))) if x.0 < vb => {
                    out.push(x);
                    i += 1;
                }
                (Some(_), Some(&y)) | (None, Some(&y)) => {
                    out.push(y);
                    j += 1;
                }
                (Some(&x), None) => {
                    out.push(x);
                    i += 1;
                }
                (None, None) => break,
            }
        }
        self.buckets = out;
    }

    /// The value at `q` (0 < q ≤ 1), as `Histogram::value_at_quantile` computes it (0 when
    /// empty). At q = 0 hdrhistogram returns the bucket's lowest value; compare never asks.
    pub fn quantile(&self, q: f64) -> u64 {
        let target = count_at_quantile(q, self.total());
        let mut cum = 0;
        for &(v, c) in &self.buckets {
            cum += c;
            if cum >= target {
                return v;
            }
        }
        0
    }
}

/// The rank a quantile asks for, with hdrhistogram's rounding: `ceil(q · total)`, at least 1.
pub fn count_at_quantile(q: f64, total: u64) -> u64 {
    let q = q.min(1.0);
    ((q * total as f64).ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::hist::new_histogram;
    use rand::RngExt;
    use rand_pcg::Pcg64Mcg;

    #[test]
    fn quantiles_match_the_hdrhistogram_crate_on_random_data() {
        let mut rng = Pcg64Mcg::new(7);
        for round in 0..20 {
            let mut h = new_histogram();
            let n = 1 + round * 137;
            for _ in 0..n {
                // Log-spread values from 1 µs to ~10 s, as lags and latencies are.
                let exp = rng.random_range(3.0..10.0f64);
                h.record(10f64.powf(exp) as u64).unwrap();
            }
            let s = Sparse::of(&h);
            assert_eq!(s.total(), h.len());
            for q in [0.001, 0.5, 0.9, 0.99, 0.999, 1.0] {
                assert_eq!(s.quantile(q), h.value_at_quantile(q), "q {q}, n {n}");
            }
            assert_eq!(s.max(), h.max());
        }
    }

    #[test]
    fn merging_sparse_equals_merging_histograms() {
        let mut a = new_histogram();
        let mut b = new_histogram();
        for v in 1..2000u64 {
            a.record(v * 977).unwrap();
            if v % 3 == 0 {
                b.record(v * 1311).unwrap();
            }
        }
        let mut s = Sparse::of(&a);
        s.merge(&Sparse::of(&b));
        a.add(&b).unwrap();
        assert_eq!(s, Sparse::of(&a));
    }

    #[test]
    fn from_pairs_adds_duplicates_and_drops_zeros() {
        let s = Sparse::from_pairs(vec![(5, 1), (3, 2), (5, 4), (9, 0)]);
        assert_eq!(s.buckets, vec![(3, 2), (5, 5)]);
        assert_eq!(s.quantile(0.5), 5);
        assert_eq!(Sparse::default().quantile(0.5), 0);
    }
}
