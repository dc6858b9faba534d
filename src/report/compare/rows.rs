//! The figures compared, one row each: per phase and series the dispatch lag, latency and
//! corrected latency percentiles (from merged histograms), the achieved rate and the
//! failure and errored counts; per phase the prober's CPU per probe and memory per worker.

use serde::Serialize;

use super::run_dir::{HIST_METRICS, HistSource, PhaseData, SeriesIn};
use super::sparse::Sparse;
use super::spread::{
    Bootstrap, Estimate, SpreadSource, Stat, count_estimate, histogram_estimates, per_run_estimate, rate_factors,
    seed_of,
};
use super::verdict::{Better, Verdict, beyond, judge, ratio};

/// The percentiles compared per histogram metric (issue: lag p50/p99/p99.9/max, latency
/// p50/p99, corrected latency p99).
pub fn stats_of(metric: &str) -> &'static [(&'static str, Stat)] {
    match metric {
        "dispatch_lag" => &[
            ("p50", Stat::Quantile(0.5)),
            ("p99", Stat::Quantile(0.99)),
            ("p99.9", Stat::Quantile(0.999)),
            ("max", Stat::Max),
        ],
        "latency" => &[("p50", Stat::Quantile(0.5)), ("p99", Stat::Quantile(0.99))],
        _ => &[("p99", Stat::Quantile(0.99))],
    }
}

/// One compared figure.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub phase: String,
    /// `tcp.readiness`, `all` (the phase's series merged) or `prober` (the process).
    pub series: String,
    /// `dispatch_lag`, `latency`, `corrected_latency`, `rate`, `failure`, `errored`,
    /// `cpu_per_probe`, `cpu_per_probe_with_children`, `rss_per_worker`.
    pub metric: String,
    /// `p50`, `p99`, `p99.9`, `max`, or empty for single figures.
    pub stat: String,
    /// `us`, `per_s`, `count` (mean per run), `us_per_probe`, `bytes_per_worker`.
    pub unit: &'static str,
    pub better: Better,
    pub a: Option<Estimate>,
    pub b: Option<Estimate>,
    /// B ÷ A; None when A is 0 and B is not, or a side is missing.
    pub ratio: Option<f64>,
    pub verdict: Verdict,
    /// Worse beyond `--fail-if-worse`.
    pub regression: bool,
}

impl Row {
    pub fn name(&self) -> String {
        if self.stat.is_empty() { self.metric.clone() } else { format!("{} {}", self.metric, self.stat) }
    }
}

/// The phase data of one side for one phase (one entry per run that has the phase).
pub struct SidePhase<'a> {
    pub runs: Vec<&'a PhaseData>,
}

impl SidePhase<'_> {
    /// The series' summary in each run that has it (the total for `all`).
    fn series(&self, tag: &str) -> Vec<(&PhaseData, &SeriesIn)> {
        self.runs
            .iter()
            .filter_map(|p| {
                if tag == "all" {
                    Some((*p, &p.summary.total))
                } else {
                    p.summary.series.iter().find(|s| s.tag() == tag).map(|s| (*p, s))
                }
            })
            .collect()
    }
}

/// What the rows are built with.
#[derive(Debug, Clone, Copy)]
pub struct RowOptions {
    pub min_spread: f64,
    pub resamples: usize,
    pub fail_if_worse_pct: Option<f64>,
}

fn finish(mut r: Row, o: &RowOptions) -> Row {
    r.verdict = match (&r.a, &r.b) {
        (Some(a), Some(b)) => judge(a, b, r.better, o.min_spread),
        _ => Verdict::Missing,
    };
    r.ratio = match (&r.a, &r.b) {
        (Some(a), Some(b)) => ratio(a.value, b.value),
        _ => None,
    };
    r.regression = r.verdict == Verdict::Worse
        && match (o.fail_if_worse_pct, &r.a, &r.b) {
            (Some(p), Some(a), Some(b)) => beyond(a.value, b.value, p),
            _ => false,
        };
    r
}

fn row(phase: &str, series: &str, metric: &str, stat: &str, unit: &'static str, better: Better) -> Row {
    Row {
        phase: phase.into(),
        series: series.into(),
        metric: metric.into(),
        stat: stat.into(),
        unit,
        better,
        a: None,
        b: None,
        ratio: None,
        verdict: Verdict::Missing,
        regression: false,
    }
}

/// One side's percentiles of one histogram metric, in microseconds; None without data.
fn side_percentiles(
    side: &[(&PhaseData, &SeriesIn)],
    tag: &str,
    metric: &str,
    boot: Bootstrap,
) -> Vec<Option<Estimate>> {
    let stats: Vec<Stat> = stats_of(metric).iter().map(|&(_, s)| s).collect();
    let with_hists = side.iter().all(|(p, _)| p.source != HistSource::SummaryOnly);
    if with_hists {
        let runs: Vec<Vec<Sparse>> = side
            .iter()
            .map(|(p, _)| p.hists.get(tag).and_then(|m| m.get(metric)).cloned().unwrap_or_default())
            .collect();
        if runs.iter().all(|r| r.iter().all(Sparse::is_empty)) {
            return vec![None; stats.len()];
        }
        let ns = histogram_estimates(&runs, &stats, boot);
        return ns
            .into_iter()
            .map(|e| Some(Estimate { value: e.value / 1e3, lo: e.lo / 1e3, hi: e.hi / 1e3, source: e.source }))
            .collect();
    }
    // Without histograms percentiles cannot be merged: one run's own figure, or the median
    // of several runs' figures with their range (noted in the output).
    let per: Vec<_> = side.iter().map(|(_, s)| s.percentiles(metric)).filter(|p| p.count > 0).collect();
    if per.is_empty() {
        return vec![None; stats.len()];
    }
    stats_of(metric)
        .iter()
        .map(|&(name, _)| {
            let mut v: Vec<f64> = per
                .iter()
                .map(|p| match name {
                    "p50" => p.p50_us,
                    "p99" => p.p99_us,
                    "p99.9" => p.p99_9_us,
                    _ => p.max_us,
                })
                .collect();
            v.sort_by(f64::total_cmp);
            let median = v[v.len() / 2];
            Some(per_run_estimate(median, &v))
        })
        .collect()
}

fn side_rate(side: &[(&PhaseData, &SeriesIn)], tag: &str, boot: Bootstrap) -> Option<Estimate> {
    if side.is_empty() {
        return None;
    }
    let seconds: f64 = side.iter().map(|(p, _)| p.summary.duration_s).sum();
    let probes: f64 = side.iter().map(|(p, s)| s.rate_per_s * p.summary.duration_s).sum();
    let value = if seconds > 0.0 {
        probes / seconds
    } else {
        side.iter().map(|(_, s)| s.rate_per_s).sum::<f64>() / side.len() as f64
    };
    let per_second: Option<Vec<Vec<(u64, f64)>>> = side.iter().map(|(p, _)| p.seconds.get(tag).cloned()).collect();
    if let Some((lo, hi, source)) = per_second.and_then(|runs| rate_factors(&runs, boot)) {
        return Some(Estimate { value, lo: value * lo, hi: value * hi, source });
    }
    let per_run: Vec<f64> = side.iter().map(|(_, s)| s.rate_per_s).collect();
    Some(per_run_estimate(value, &per_run))
}

/// Every row of one series of one phase.
pub fn series_rows(phase: &str, tag: &str, a: &SidePhase, b: &SidePhase, o: &RowOptions) -> Vec<Row> {
    let (sa, sb) = (a.series(tag), b.series(tag));
    let mut rows = Vec::new();
    for metric in HIST_METRICS {
        let boot = Bootstrap { resamples: o.resamples, seed: seed_of(&format!("{phase}/{tag}/{metric}")) };
        let ea = side_percentiles(&sa, tag, metric, boot);
        let eb = side_percentiles(&sb, tag, metric, boot);
        for (k, &(stat, _)) in stats_of(metric).iter().enumerate() {
            if ea[k].is_none() && eb[k].is_none() {
                continue;
            }
            let mut r = row(phase, tag, metric, stat, "us", Better::Lower);
            r.a = ea[k];
            r.b = eb[k];
            rows.push(finish(r, o));
        }
    }
    let boot = Bootstrap { resamples: o.resamples, seed: seed_of(&format!("{phase}/{tag}/rate")) };
    let mut r = row(phase, tag, "rate", "", "per_s", Better::Higher);
    r.a = side_rate(&sa, tag, boot);
    r.b = side_rate(&sb, tag, boot);
    rows.push(finish(r, o));
    for (metric, get) in
        [("failure", (|s: &SeriesIn| s.counters.failure) as fn(&SeriesIn) -> u64), ("errored", |s| s.counters.errored)]
    {
        let mut r = row(phase, tag, metric, "", "count", Better::Lower);
        let counts = |side: &[(&PhaseData, &SeriesIn)]| -> Option<Estimate> {
            (!side.is_empty()).then(|| count_estimate(&side.iter().map(|(_, s)| get(s)).collect::<Vec<_>>()))
        };
        r.a = counts(&sa);
        r.b = counts(&sb);
        rows.push(finish(r, o));
    }
    rows
}

/// The prober's own cost in one phase: CPU per probe (and with children, when exec probes
/// had any) and resident memory per worker.
pub fn prober_rows(phase: &str, a: &SidePhase, b: &SidePhase, o: &RowOptions) -> Vec<Row> {
    let cpu = |side: &SidePhase, children: bool| -> Option<Estimate> {
        let per: Vec<(f64, f64)> = side
            .runs
            .iter()
            .map(|p| {
                let oh = &p.summary.overhead;
                let v = if children { oh.cpu_us_per_probe_with_children } else { oh.cpu_us_per_probe };
                (v, p.summary.total.counters.probes as f64)
            })
            .collect();
        if per.is_empty() {
            return None;
        }
        // Combined as total CPU ÷ total probes, i.e. weighted by each run's probes.
        let probes: f64 = per.iter().map(|&(_, n)| n).sum();
        let value = if probes > 0.0 {
            per.iter().map(|&(v, n)| v * n).sum::<f64>() / probes
        } else {
            per.iter().map(|&(v, _)| v).sum::<f64>() / per.len() as f64
        };
        Some(per_run_estimate(value, &per.iter().map(|&(v, _)| v).collect::<Vec<_>>()))
    };
    let any_children = a.runs.iter().chain(&b.runs).any(|p| p.summary.overhead.children_cpu_s > 0.0);
    let mut rows = Vec::new();
    let mut r = row(phase, "prober", "cpu_per_probe", "", "us_per_probe", Better::Lower);
    r.a = cpu(a, false);
    r.b = cpu(b, false);
    rows.push(finish(r, o));
    if any_children {
        let mut r = row(phase, "prober", "cpu_per_probe_with_children", "", "us_per_probe", Better::Lower);
        r.a = cpu(a, true);
        r.b = cpu(b, true);
        rows.push(finish(r, o));
    }
    let rss = |side: &SidePhase| -> Option<Estimate> {
        let v: Vec<f64> = side.runs.iter().map(|p| p.summary.overhead.rss_bytes_per_worker).collect();
        (!v.is_empty()).then(|| per_run_estimate(v.iter().sum::<f64>() / v.len() as f64, &v))
    };
    let mut r = row(phase, "prober", "rss_per_worker", "", "bytes_per_worker", Better::Lower);
    r.a = rss(a);
    r.b = rss(b);
    rows.push(finish(r, o));
    rows
}

/// Whether an estimate's interval came only from the minimum spread.
pub fn floor_only(e: &Option<Estimate>) -> bool {
    e.is_some_and(|e| e.source == SpreadSource::None)
}
