//! `summary.json`: the versioned result of a run (docs/results-schema.md). Built from the
//! engine's phase outputs; every unit is in the field name (`_us`, `_s`, `_bytes`).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::measure::collector::{IntervalSummary, Peaks};
use crate::measure::hist::{Metric, new_histogram};
use crate::measure::overhead::Noise;
use crate::measure::{Counters, SeriesStats};
use crate::sched::engine::PhaseOutput;
use crate::sched::fleet::{Fleet, SeriesInfo};
use crate::sched::limits::{MachineLimits, Needs};

/// Bump on any incompatible change; additions keep the version.
pub const SCHEMA: &str = "probebench.summary/v1";

/// Percentiles of one timing histogram, microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Percentiles {
    pub count: u64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p99_9_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        let us = |ns: u64| ns as f64 / 1e3;
        Percentiles {
            count: h.len(),
            p50_us: us(h.value_at_quantile(0.5)),
            p90_us: us(h.value_at_quantile(0.9)),
            p99_us: us(h.value_at_quantile(0.99)),
            p99_9_us: us(h.value_at_quantile(0.999)),
            max_us: us(h.max()),
            mean_us: h.mean() / 1e3,
        }
    }
}

/// One (mechanism, probe type) series of a phase.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesSummary {
    /// What ran (`noop` for a stand-in).
    pub mechanism: String,
    /// What the manifests declared.
    pub declared: String,
    pub probe_type: String,
    pub workers: u64,
    pub counters: Counters,
    pub rate_per_s: f64,
    pub dispatch_lag: Percentiles,
    pub overrun_delay: Percentiles,
    pub start_lag: Percentiles,
    pub latency: Percentiles,
    pub corrected_latency: Percentiles,
}

/// The prober's own cost over the measured window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OverheadSummary {
    pub window_s: f64,
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
    /// CPU of reaped child processes (exec probes).
    pub children_cpu_s: f64,
    /// Prober process CPU (user+sys) per finished probe, children excluded.
    pub cpu_us_per_probe: f64,
    /// The same with the children's CPU added (the cost of an exec probe).
    pub cpu_us_per_probe_with_children: f64,
    /// Cores' worth of CPU the prober used.
    pub cpu_cores: f64,
    /// On-CPU microseconds per probe by thread kind (timer_dispatch = shard threads,
    /// probe_io = I/O runtime, naive_task_per_worker = the naive scheduler's runtime).
    pub cpu_us_per_probe_by_thread_kind: BTreeMap<String, f64>,
    /// Resident memory added by building the workers, divided by their number.
    pub rss_bytes_per_worker: f64,
    /// Allocated size of the worker state (slots, wheel, containers, pods) per worker.
    pub state_bytes_per_worker: f64,
    pub rss_before_workers_bytes: u64,
    pub rss_after_workers_bytes: u64,
    pub rss_end_bytes: u64,
    pub peak_rss_bytes: u64,
    pub peaks: Peaks,
    pub time_wait_end: u64,
    /// The targets process's CPU per probe (another process; never in the figures above).
    pub targets_cpu_us_per_probe: Option<f64>,
    pub noise: Noise,
}

/// The noop floor measured just before a phase with the same fleet.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationSummary {
    pub duration_s: f64,
    pub probes: u64,
    pub cpu_us_per_probe: f64,
    pub dispatch_lag: Percentiles,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseSummary {
    pub name: String,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub pods: u64,
    pub workers: u64,
    /// Probes per second the schedule asks for.
    pub scheduled_rate_per_s: f64,
    pub series: Vec<SeriesSummary>,
    /// All series merged (histograms merged, never averaged).
    pub total: SeriesSummary,
    pub overhead: OverheadSummary,
    pub calibration: Option<CalibrationSummary>,
    pub intervals: Vec<IntervalSummary>,
    pub wakeups: u64,
    pub events_dropped: u64,
    pub intervals_dropped: u64,
    pub late_interval_sets: u64,
    /// Mechanisms that ran as noop stand-ins because this build lacks them.
    pub stand_ins: Vec<String>,
    /// The pods' lifecycle (lifecycle runs only).
    pub lifecycle: Option<crate::lifecycle::LifecycleSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub schema: &'static str,
    pub run_id: String,
    pub scenario: String,
    pub started_at: String,
    pub scheduler: String,
    pub timer: String,
    pub shards: usize,
    pub seed: u64,
    pub limits: MachineLimits,
    pub needs: Needs,
    pub phases: Vec<PhaseSummary>,
    pub notes: Vec<String>,
    /// Relative path of the run directory (None when nothing was written).
    pub results_dir: Option<String>,
    /// The run was stopped before its end (`interrupted`, `lag`): its figures cover the
    /// time it ran.
    pub partial: Option<String>,
    /// The checks of the machine against the plan, made before anything started.
    pub preflight: Option<crate::sched::preflight::Preflight>,
    /// Each threshold with its measured value and verdict.
    pub thresholds: Vec<crate::thresholds::Evaluation>,
    /// What `run` exits with (0 passed, 1 a threshold failed, 3 schedule not held, 130
    /// interrupted).
    pub exit_code: i32,
}

/// A series' name in file names and `.hlog` tags: `http.liveness`, or
/// `http-as-noop.liveness` when a probe declared as `declared` ran as `mechanism` (a
/// stand-in). The writer (`SeriesInfo::tag`) and the readers (report, compare) share it.
pub fn series_tag(mechanism: &str, declared: &str, probe_type: &str) -> String {
    if declared.is_empty() || declared == mechanism {
        format!("{mechanism}.{probe_type}")
    } else {
        format!("{declared}-as-{mechanism}.{probe_type}")
    }
}

fn series_summary(info: Option<&SeriesInfo>, stats: &SeriesStats, workers: u64, window_s: f64) -> SeriesSummary {
    let m = &stats.metrics;
    SeriesSummary {
        mechanism: info.map_or("all".into(), |i| i.mechanism.as_str().into()),
        declared: info.map_or("all".into(), |i| i.declared.as_str().into()),
        probe_type: info.map_or("all".into(), |i| i.probe_type.as_str().into()),
        workers,
        counters: stats.counters,
        rate_per_s: if window_s > 0.0 { stats.counters.probes as f64 / window_s } else { 0.0 },
        dispatch_lag: Percentiles::of(m.get(Metric::DispatchLag)),
        overrun_delay: Percentiles::of(m.get(Metric::OverrunDelay)),
        start_lag: Percentiles::of(m.get(Metric::StartLag)),
        latency: Percentiles::of(m.get(Metric::Latency)),
        corrected_latency: Percentiles::of(m.get(Metric::CorrectedLatency)),
    }
}

/// Workers per series.
fn workers_per_series(fleet: &Fleet) -> Vec<u64> {
    let mut out = vec![0u64; fleet.series.len()];
    for g in &fleet.groups {
        for c in &g.containers {
            for &t in &c.templates {
                out[usize::from(fleet.templates[t as usize].series)] += u64::from(g.replicas);
            }
        }
    }
    out
}

/// Summarise one phase.
pub fn phase_summary(
    name: &str,
    fleet: &Fleet,
    out: &PhaseOutput,
    duration_ns: u64,
    warmup_ns: u64,
    calibration: Option<CalibrationSummary>,
) -> PhaseSummary {
    let window_s = duration_ns as f64 / 1e9;
    let per_series = workers_per_series(fleet);
    let series: Vec<SeriesSummary> = out
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| series_summary(fleet.series.get(i), s, per_series[i], window_s))
        .collect();
    let mut total = SeriesStats::default();
    for s in &out.series {
        total.add(s);
    }
    let total = series_summary(None, &total, out.workers, window_s);
    let probes = total.counters.probes.max(1) as f64;
    let o = &out.overhead;
    let us = |ns: u64| ns as f64 / 1e3;
    let workers = out.workers.max(1) as f64;
    let overhead = OverheadSummary {
        window_s: o.window_s,
        cpu_user_s: o.cpu.user_ns as f64 / 1e9,
        cpu_sys_s: o.cpu.sys_ns as f64 / 1e9,
        children_cpu_s: o.cpu.children_ns() as f64 / 1e9,
        cpu_us_per_probe: us(o.cpu.own_ns()) / probes,
        cpu_us_per_probe_with_children: us(o.cpu.own_ns() + o.cpu.children_ns()) / probes,
        cpu_cores: if o.window_s > 0.0 { o.cpu.own_ns() as f64 / 1e9 / o.window_s } else { 0.0 },
        cpu_us_per_probe_by_thread_kind: o
            .cpu_by_thread_kind_ns
            .iter()
            .map(|(k, &v)| (k.clone(), us(v) / probes))
            .collect(),
        rss_bytes_per_worker: o.rss_after_workers_bytes.saturating_sub(o.rss_before_workers_bytes) as f64 / workers,
        state_bytes_per_worker: o.worker_state_bytes as f64 / workers,
        rss_before_workers_bytes: o.rss_before_workers_bytes,
        rss_after_workers_bytes: o.rss_after_workers_bytes,
        rss_end_bytes: o.rss_end_bytes,
        peak_rss_bytes: o.peak_rss_bytes,
        peaks: o.peaks,
        time_wait_end: o.time_wait_end,
        targets_cpu_us_per_probe: o.targets_cpu_ns.map(|n| us(n) / probes),
        noise: o.noise,
    };
    PhaseSummary {
        name: name.to_string(),
        duration_s: window_s,
        warmup_s: warmup_ns as f64 / 1e9,
        pods: u64::from(fleet.pods),
        workers: out.workers,
        scheduled_rate_per_s: fleet.rate_by_kind().iter().sum(),
        series,
        total,
        overhead,
        calibration,
        intervals: out.collected.intervals.clone(),
        wakeups: out.wakeups,
        events_dropped: out.events_dropped,
        intervals_dropped: out.intervals_dropped,
        late_interval_sets: out.collected.late_sets,
        stand_ins: fleet.stand_ins.iter().map(|k| k.as_str().to_string()).collect(),
        lifecycle: out.lifecycle.as_ref().map(|l| l.summary.clone()),
    }
}

/// The calibration figures from a noop run of the same fleet.
pub fn calibration_summary(out: &PhaseOutput, duration_ns: u64) -> CalibrationSummary {
    let mut lag = new_histogram();
    let mut probes = 0;
    for s in &out.series {
        let _ = lag.add(s.metrics.get(Metric::DispatchLag));
        probes += s.counters.probes;
    }
    CalibrationSummary {
        duration_s: duration_ns as f64 / 1e9,
        probes,
        cpu_us_per_probe: out.overhead.cpu.own_ns() as f64 / 1e3 / probes.max(1) as f64,
        dispatch_lag: Percentiles::of(&lag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_in_microseconds() {
        let mut h = new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        let p = Percentiles::of(&h);
        assert_eq!(p.count, 1000);
        assert!((p.p50_us - 500.0).abs() < 1.0, "{p:?}");
        assert!((p.p99_us - 990.0).abs() < 1.0, "{p:?}");
        assert!((p.max_us - 1000.0).abs() < 1.0, "{p:?}");
        assert_eq!(Percentiles::of(&new_histogram()), Percentiles::default());
    }
}
