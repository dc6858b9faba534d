//! How far a side's figure could move if the same runs were repeated: an interval around
//! each value. docs/compare.md explains the choice; in short:
//!
//! - **Percentiles** (from histograms): a bootstrap over time blocks. A run's per-second
//!   histograms (from `intervals.hlog`) are resampled with replacement, merged, and the
//!   percentile read from the merge; the central 95 % of 1,000 such replicates is the
//!   interval. Seconds are the blocks because a VM's noise comes in bursts that last about
//!   that long, so probes within a second are not independent but seconds mostly are
//!   (longer runs are cut into at most 120 blocks of whole seconds). With several runs per
//!   side the bootstrap is hierarchical: runs are drawn with replacement first, then each
//!   drawn run's blocks, so run-to-run differences widen the interval as they should.
//! - **Rates**: the same bootstrap over the blocks' probe counts.
//! - **Per-run figures** (CPU per probe, RSS per worker): one number per run, so only
//!   repeated runs show their spread: the interval is the runs' minimum to maximum. A
//!   single run has no interval (the verdict's minimum spread still applies).
//! - **Counts** (failures, errored): Poisson, 95 % through the square-root transform,
//!   widened to the runs' minimum and maximum when there are several.
//!
//! Percentiles are always read from merged histograms, never averaged.

use rand::RngExt;
use rand_pcg::Pcg64Mcg;
use serde::Serialize;

use super::sparse::{Sparse, count_at_quantile};

/// Longer runs are cut into at most this many blocks of consecutive seconds.
pub const MAX_BLOCKS_PER_RUN: usize = 120;
/// Two-sided coverage of the intervals.
pub const CONFIDENCE: f64 = 0.95;

/// Where an interval came from (reported beside each figure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpreadSource {
    /// Bootstrap over one run's seconds.
    BootstrapSeconds,
    /// Hierarchical bootstrap: runs, then each run's seconds.
    BootstrapRunsAndSeconds,
    /// Minimum to maximum of several runs' figures.
    RunsMinMax,
    /// Poisson counting error (and the runs' range, with several).
    Poisson,
    /// Nothing to estimate it from (one run, one number): only the minimum spread.
    None,
}

/// A side's figure and its interval (`lo ≤ value ≤ hi`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
    pub source: SpreadSource,
}

impl Estimate {
    pub fn exact(value: f64) -> Self {
        Estimate { value, lo: value, hi: value, source: SpreadSource::None }
    }
}

/// What to read from a histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    Quantile(f64),
    Max,
}

/// Bootstrap settings: replicate count and a seed, so the same comparison prints the same
/// intervals every time.
#[derive(Debug, Clone, Copy)]
pub struct Bootstrap {
    pub resamples: usize,
    pub seed: u64,
}

/// Consecutive seconds merged into at most [`MAX_BLOCKS_PER_RUN`] blocks.
fn blocks_of(seconds: &[Sparse]) -> Vec<Sparse> {
    let per = seconds.len().div_ceil(MAX_BLOCKS_PER_RUN).max(1);
    seconds
        .chunks(per)
        .map(|c| {
            let mut s = Sparse::default();
            for x in c {
                s.merge(x);
            }
            s
        })
        .collect()
}

/// Draw one replicate's weights: how often each block (flattened over runs) is taken.
fn draw(rng: &mut Pcg64Mcg, blocks_per_run: &[usize], offsets: &[usize], w: &mut [u32]) {
    w.fill(0);
    let runs = blocks_per_run.len();
    for _ in 0..runs {
        let r = if runs > 1 { rng.random_range(0..runs) } else { 0 };
        let n = blocks_per_run[r];
        for _ in 0..n {
            w[offsets[r] + rng.random_range(0..n)] += 1;
        }
    }
}

/// The replicate values' central [`CONFIDENCE`] range.
fn percentile_interval(mut values: Vec<f64>) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let tail = (1.0 - CONFIDENCE) / 2.0;
    let lo = ((tail * n as f64).floor() as usize).min(n - 1);
    let hi = (((1.0 - tail) * n as f64).ceil() as usize).saturating_sub(1).min(n - 1);
    (values[lo], values[hi])
}

/// Blocks laid out for fast weighted quantiles: every block's cumulative counts over one
/// shared grid of bucket values, so a weighted merge's cumulative count at a grid point is a
/// weighted sum, and a quantile is a binary search over the grid.
struct Prepared {
    grid: Vec<u64>,
    cum: Vec<Vec<u64>>,
    totals: Vec<u64>,
    maxes: Vec<u64>,
}

impl Prepared {
    fn new(blocks: &[Sparse]) -> Self {
        let mut grid: Vec<u64> = blocks.iter().flat_map(|b| b.buckets.iter().map(|&(v, _)| v)).collect();
        grid.sort_unstable();
        grid.dedup();
        let cum = blocks
            .iter()
            .map(|b| {
                let mut out = Vec::with_capacity(grid.len());
                let mut it = b.buckets.iter().peekable();
                let mut acc = 0;
                for &g in &grid {
                    while let Some(&&(v, c)) = it.peek() {
                        if v > g {
                            break;
                        }
                        acc += c;
                        it.next();
                    }
                    out.push(acc);
                }
                out
            })
            .collect();
        Prepared {
            grid,
            cum,
            totals: blocks.iter().map(Sparse::total).collect(),
            maxes: blocks.iter().map(Sparse::max).collect(),
        }
    }

    fn eval(&self, w: &[u32], stat: Stat) -> u64 {
        let active: Vec<(usize, u64)> =
            w.iter().enumerate().filter(|&(_, &k)| k > 0).map(|(i, &k)| (i, u64::from(k))).collect();
        match stat {
            Stat::Max => active.iter().map(|&(i, _)| self.maxes[i]).max().unwrap_or(0),
            Stat::Quantile(q) => {
                let total: u64 = active.iter().map(|&(i, k)| k * self.totals[i]).sum();
                if total == 0 || self.grid.is_empty() {
                    return 0;
                }
                let target = count_at_quantile(q, total);
                let cum_at = |j: usize| -> u64 { active.iter().map(|&(i, k)| k * self.cum[i][j]).sum() };
                // Smallest grid index whose cumulative count reaches the target.
                let (mut lo, mut hi) = (0usize, self.grid.len() - 1);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if cum_at(mid) >= target {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                self.grid[lo]
            }
        }
    }
}

/// Figures read from one side's histograms: `runs[r]` are run r's per-second (or, for a run
/// without an interval log, whole-run) histograms. Values are the histograms' unit.
pub fn histogram_estimates(runs: &[Vec<Sparse>], stats: &[Stat], boot: Bootstrap) -> Vec<Estimate> {
    let per_run: Vec<Vec<Sparse>> = runs.iter().map(|r| blocks_of(r)).filter(|b| !b.is_empty()).collect();
    let blocks_per_run: Vec<usize> = per_run.iter().map(Vec::len).collect();
    let mut offsets = Vec::with_capacity(per_run.len());
    let mut acc = 0;
    for n in &blocks_per_run {
        offsets.push(acc);
        acc += n;
    }
    let flat: Vec<Sparse> = per_run.into_iter().flatten().collect();
    let prepared = Prepared::new(&flat);
    let all = vec![1u32; flat.len()];
    let points: Vec<f64> = stats.iter().map(|&s| prepared.eval(&all, s) as f64).collect();
    let source = match (blocks_per_run.len(), flat.len()) {
        (0, _) => SpreadSource::None,
        (1, 1) => SpreadSource::None,
        (1, _) => SpreadSource::BootstrapSeconds,
        _ => SpreadSource::BootstrapRunsAndSeconds,
    };
    if source == SpreadSource::None || boot.resamples == 0 {
        return points.into_iter().map(Estimate::exact).collect();
    }
    let mut rng = Pcg64Mcg::new(u128::from(boot.seed) << 64 | 0xb007);
    let mut w = vec![0u32; flat.len()];
    let mut reps: Vec<Vec<f64>> = vec![Vec::with_capacity(boot.resamples); stats.len()];
    for _ in 0..boot.resamples {
        draw(&mut rng, &blocks_per_run, &offsets, &mut w);
        for (k, &s) in stats.iter().enumerate() {
            reps[k].push(prepared.eval(&w, s) as f64);
        }
    }
    points
        .into_iter()
        .zip(reps)
        .map(|(value, r)| {
            let (lo, hi) = percentile_interval(r);
            Estimate { value, lo: lo.min(value), hi: hi.max(value), source }
        })
        .collect()
}

/// A rate's interval from per-block `(probes, seconds)`, as factors of the point rate
/// (`lo ≤ 1 ≤ hi`), so it can be laid around the rate the summary reports. `None` when
/// there is nothing to resample.
pub fn rate_factors(runs: &[Vec<(u64, f64)>], boot: Bootstrap) -> Option<(f64, f64, SpreadSource)> {
    let per_run: Vec<Vec<(u64, f64)>> = runs
        .iter()
        .map(|r| {
            let per = r.len().div_ceil(MAX_BLOCKS_PER_RUN).max(1);
            r.chunks(per).map(|c| c.iter().fold((0, 0.0), |(n, s), &(k, t)| (n + k, s + t))).collect::<Vec<_>>()
        })
        .filter(|b: &Vec<(u64, f64)>| !b.is_empty())
        .collect();
    let blocks_per_run: Vec<usize> = per_run.iter().map(Vec::len).collect();
    let flat: Vec<(u64, f64)> = per_run.into_iter().flatten().collect();
    if flat.len() < 2 || boot.resamples == 0 {
        return None;
    }
    let mut offsets = Vec::new();
    let mut acc = 0;
    for n in &blocks_per_run {
        offsets.push(acc);
        acc += n;
    }
    let rate = |w: &[u32]| {
        let (n, s) = flat
            .iter()
            .zip(w)
            .fold((0.0, 0.0), |(n, s), (&(k, t), &wi)| (n + f64::from(wi) * k as f64, s + f64::from(wi) * t));
        if s > 0.0 { n / s } else { 0.0 }
    };
    let point = rate(&vec![1; flat.len()]);
    if point <= 0.0 {
        return None;
    }
    let mut rng = Pcg64Mcg::new(u128::from(boot.seed) << 64 | 0x7a7e);
    let mut w = vec![0u32; flat.len()];
    let reps: Vec<f64> = (0..boot.resamples)
        .map(|_| {
            draw(&mut rng, &blocks_per_run, &offsets, &mut w);
            rate(&w)
        })
        .collect();
    let (lo, hi) = percentile_interval(reps);
    let source =
        if blocks_per_run.len() > 1 { SpreadSource::BootstrapRunsAndSeconds } else { SpreadSource::BootstrapSeconds };
    Some(((lo / point).min(1.0), (hi / point).max(1.0), source))
}

/// A figure measured once per run (CPU per probe, RSS per worker): `value` is the side's
/// combined figure, `per_run` the runs' own; the interval is their range.
pub fn per_run_estimate(value: f64, per_run: &[f64]) -> Estimate {
    if per_run.len() < 2 {
        return Estimate::exact(value);
    }
    let lo = per_run.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = per_run.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Estimate { value, lo: lo.min(value), hi: hi.max(value), source: SpreadSource::RunsMinMax }
}

/// Events counted per run (failures, errored): the mean per run with a Poisson interval
/// (95 %, square-root transform: √n ± 0.98, upper end from n + 1 so zero is not certain),
/// widened to the runs' range.
pub fn count_estimate(per_run: &[u64]) -> Estimate {
    let k = per_run.len().max(1) as f64;
    let n: u64 = per_run.iter().sum();
    let half = 1.96 / 2.0;
    let lo_total = (((n as f64).sqrt() - half).max(0.0)).powi(2);
    let hi_total = ((n as f64 + 1.0).sqrt() + half).powi(2);
    let value = n as f64 / k;
    let mut lo = (lo_total / k).min(value);
    let mut hi = (hi_total / k).max(value);
    if per_run.len() > 1 {
        lo = lo.min(per_run.iter().copied().min().unwrap_or(0) as f64);
        hi = hi.max(per_run.iter().copied().max().unwrap_or(0) as f64);
    }
    Estimate { value, lo, hi, source: SpreadSource::Poisson }
}

/// A stable seed from a row's name, so both sides and every invocation draw alike.
pub fn seed_of(key: &str) -> u64 {
    // FNV-1a: tiny, stable across platforms and versions (std's hasher is neither).
    key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::hist::new_histogram;

    fn second(values: impl IntoIterator<Item = u64>) -> Sparse {
        let mut h = new_histogram();
        for v in values {
            h.record(v).unwrap();
        }
        Sparse::of(&h)
    }

    const BOOT: Bootstrap = Bootstrap { resamples: 400, seed: 1 };
    const P99: [Stat; 3] = [Stat::Quantile(0.5), Stat::Quantile(0.99), Stat::Max];

    #[test]
    fn point_values_are_the_merged_histograms_percentiles() {
        let seconds: Vec<Sparse> = (0..10u64).map(|s| second((1..=100).map(|v| v * 1000 + s * 7))).collect();
        let mut merged = Sparse::default();
        for s in &seconds {
            merged.merge(s);
        }
        let e = histogram_estimates(&[seconds], &P99, BOOT);
        assert_eq!(e[0].value, merged.quantile(0.5) as f64);
        assert_eq!(e[1].value, merged.quantile(0.99) as f64);
        assert_eq!(e[2].value, merged.max() as f64);
        for x in &e {
            assert!(x.lo <= x.value && x.value <= x.hi, "{x:?}");
            assert_eq!(x.source, SpreadSource::BootstrapSeconds);
        }
    }

    #[test]
    fn steady_seconds_give_a_narrow_interval_and_bursty_ones_a_wide_one() {
        let steady: Vec<Sparse> = (0..20).map(|_| second((1..=1000).map(|v| 50_000 + v))).collect();
        // Same body, but every fourth second a burst pushes its top 5 % to 5 ms.
        let bursty: Vec<Sparse> = (0..20u64)
            .map(|s| second((1..=1000).map(move |v| if s % 4 == 0 && v > 950 { 5_000_000 } else { 50_000 + v })))
            .collect();
        let a = histogram_estimates(&[steady], &P99, BOOT)[1];
        let b = histogram_estimates(&[bursty], &P99, BOOT)[1];
        assert!((a.hi - a.lo) / a.value < 0.01, "{a:?}");
        assert!(b.hi / b.lo > 10.0, "bursts should make p99 uncertain: {b:?}");
    }

    #[test]
    fn repeated_runs_that_disagree_widen_the_interval() {
        let run = |base: u64| -> Vec<Sparse> { (0..5).map(|_| second((1..=500).map(|v| base + v))).collect() };
        let one = histogram_estimates(&[run(100_000)], &P99, BOOT)[0];
        let three = histogram_estimates(&[run(100_000), run(150_000), run(200_000)], &P99, BOOT)[0];
        assert_eq!(three.source, SpreadSource::BootstrapRunsAndSeconds);
        assert!(three.hi - three.lo > 10.0 * (one.hi - one.lo).max(1.0), "{one:?} {three:?}");
    }

    #[test]
    fn the_same_input_gives_the_same_interval() {
        let seconds: Vec<Sparse> = (0..8u64).map(|s| second((1..=200).map(|v| v * (900 + s * 50)))).collect();
        let a = histogram_estimates(std::slice::from_ref(&seconds), &P99, BOOT);
        let b = histogram_estimates(&[seconds], &P99, BOOT);
        assert_eq!(a, b);
    }

    #[test]
    fn one_whole_run_histogram_has_no_spread() {
        let e = histogram_estimates(&[vec![second([1000, 2000])]], &P99, BOOT);
        assert!(e.iter().all(|x| x.source == SpreadSource::None && x.lo == x.value && x.hi == x.value));
    }

    #[test]
    fn long_runs_are_cut_into_bounded_blocks() {
        let seconds: Vec<Sparse> = (0..1000u64).map(|s| second([1000 + s])).collect();
        let blocks = blocks_of(&seconds);
        // ceil(1000 / 120) = 9 seconds per block, 112 blocks, every probe kept.
        assert_eq!(blocks.len(), 112);
        assert_eq!(blocks.iter().map(Sparse::total).sum::<u64>(), 1000);
        assert_eq!(blocks_of(&seconds[..50]).len(), 50, "short runs keep one-second blocks");
    }

    #[test]
    fn rate_factors_bracket_one_and_follow_the_counts() {
        let steady = vec![(1000u64, 1.0); 10];
        let (lo, hi, _) = rate_factors(&[steady], BOOT).unwrap();
        assert_eq!((lo, hi), (1.0, 1.0));
        let uneven: Vec<(u64, f64)> = (0..10).map(|i| (if i % 2 == 0 { 500 } else { 1500 }, 1.0)).collect();
        let (lo, hi, _) = rate_factors(&[uneven], BOOT).unwrap();
        assert!(lo < 0.9 && hi > 1.1, "{lo} {hi}");
        assert!(rate_factors(&[vec![(5, 1.0)]], BOOT).is_none());
    }

    #[test]
    fn counts_use_poisson_and_zero_is_not_certain() {
        let zero = count_estimate(&[0]);
        assert_eq!((zero.value, zero.lo), (0.0, 0.0));
        assert!(zero.hi > 3.0 && zero.hi < 4.5, "{zero:?}");
        let ten = count_estimate(&[10]);
        // The exact 95 % Poisson interval for 10 events is 4.8–18.4.
        assert!((ten.lo - 4.8).abs() < 0.3 && (ten.hi - 18.4).abs() < 0.6, "{ten:?}");
        let runs = count_estimate(&[0, 30]);
        assert_eq!(runs.value, 15.0);
        assert!(runs.lo <= 0.0 + 1e-9 && runs.hi >= 30.0, "{runs:?}");
    }

    #[test]
    fn per_run_figures_use_the_range_of_runs() {
        assert_eq!(per_run_estimate(5.0, &[5.0]).source, SpreadSource::None);
        let e = per_run_estimate(5.0, &[4.0, 5.5, 6.0]);
        assert_eq!((e.lo, e.hi, e.source), (4.0, 6.0, SpreadSource::RunsMinMax));
    }
}
