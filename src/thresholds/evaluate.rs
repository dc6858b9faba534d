//! Evaluating valid thresholds against a finished run: pick the series (or pods) the
//! selector matches, compute the value — merging histograms, never averaging percentiles —
//! and compare. A threshold with nothing to measure fails as "no data": a threshold only
//! passes on evidence.

use hdrhistogram::Histogram;
use serde::Serialize;

use super::catalogue::{Label, LifecycleMetric, Quantity, Source, Stat, ValidThreshold};
use super::lifecycle::{self, LifecycleFacts};
use crate::measure::SeriesStats;
use crate::measure::hist::{Metric, new_histogram};
use crate::report::summary::{Percentiles, Summary};

/// The run's per-series histograms, so a selector matching several series can be
/// evaluated on their merged histogram (the summary keeps only percentiles per series).
pub trait HistogramSource {
    /// The histogram (nanoseconds) of `metric` in series `series` of phase `phase`: the same
    /// indices as `summary.phases[phase].series[series]`.
    fn histogram(&self, phase: usize, series: usize, metric: Metric) -> Option<&Histogram<u64>>;
}

/// The engine's per-series figures of each phase, in the summary's phase order:
/// `PhaseSeries(outputs.iter().map(|o| o.series.as_slice()).collect())`.
#[derive(Debug, Clone, Default)]
pub struct PhaseSeries<'a>(pub Vec<&'a [SeriesStats]>);

impl HistogramSource for PhaseSeries<'_> {
    fn histogram(&self, phase: usize, series: usize, metric: Metric) -> Option<&Histogram<u64>> {
        self.0.get(phase).and_then(|p| p.get(series)).map(|s| s.metrics.get(metric))
    }
}

/// What thresholds are evaluated against.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub summary: &'a Summary,
    /// Needed only when a histogram threshold selects several series that are not one
    /// phase's total; without it such a threshold fails as "no data".
    pub histograms: Option<&'a dyn HistogramSource>,
    /// Needed by the lifecycle metrics (restarts, time_to_ready ...).
    pub lifecycle: Option<&'a LifecycleFacts>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// Nothing to measure: counts as a failure.
    NoData,
}

/// One threshold's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// The threshold as written.
    pub threshold: String,
    pub verdict: Verdict,
    /// The measured value in base units (nanoseconds for durations); `None` without data.
    /// Infinite for "never" (a pod never Ready); serialised as null then.
    pub measured: Option<f64>,
    /// The measured value for people: `2.41ms`, `0`, `912.3/s`, `never`.
    pub measured_text: Option<String>,
    /// Why it failed (or had no data).
    pub reason: Option<String>,
}

impl Evaluation {
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }
}

/// Whether every threshold passed (an empty list passes).
pub fn all_passed(evaluations: &[Evaluation]) -> bool {
    evaluations.iter().all(Evaluation::passed)
}

/// A computed value, or why there is none.
type Measured = Result<(f64, Option<String>), String>;

/// Evaluate every threshold.
pub fn evaluate(thresholds: &[ValidThreshold], inputs: &Inputs<'_>) -> Vec<Evaluation> {
    thresholds.iter().map(|t| evaluate_one(t, inputs)).collect()
}

fn evaluate_one(t: &ValidThreshold, inputs: &Inputs<'_>) -> Evaluation {
    let measured = match t.metric.source {
        Source::Histogram(m) => histogram_value(t, m, inputs),
        Source::Counter(f) => {
            let refs = matching_series(t, inputs.summary);
            if refs.is_empty() {
                Err(no_probes(t))
            } else {
                let sum: u64 = refs.iter().map(|&(p, s)| f.get(&inputs.summary.phases[p].series[s].counters)).sum();
                Ok((sum as f64, None))
            }
        }
        Source::Rate => rate_value(t, inputs.summary),
        Source::CpuPerProbe => cpu_value(t, inputs.summary),
        Source::Lifecycle(m) => lifecycle_value(t, m, inputs.lifecycle),
    };
    match measured {
        Err(reason) => Evaluation {
            threshold: t.text.clone(),
            verdict: Verdict::NoData,
            measured: None,
            measured_text: None,
            reason: Some(reason),
        },
        Ok((value, note)) => {
            let pass = t.op.holds(value, t.limit);
            let text = format_value(t.metric.quantity, value);
            let reason = (!pass).then(|| {
                let mut r = format!("measured {text}, needs {} {}", t.op, format_value(t.metric.quantity, t.limit));
                if let Some(n) = &note {
                    r.push_str(&format!(" ({n})"));
                }
                r
            });
            Evaluation {
                threshold: t.text.clone(),
                verdict: if pass { Verdict::Pass } else { Verdict::Fail },
                measured: Some(value),
                measured_text: Some(text),
                reason,
            }
        }
    }
}

fn no_probes(t: &ValidThreshold) -> String {
    format!("no probes matched `{}`", t.subject())
}

/// (phase index, series index) of every series the selector accepts.
fn matching_series(t: &ValidThreshold, summary: &Summary) -> Vec<(usize, usize)> {
    let sel = &t.selector;
    let mut out = Vec::new();
    for (p, phase) in summary.phases.iter().enumerate() {
        if !sel.accepts(Label::Phase, &phase.name) {
            continue;
        }
        for (s, series) in phase.series.iter().enumerate() {
            if sel.accepts(Label::Mechanism, &series.mechanism) && sel.accepts(Label::ProbeType, &series.probe_type) {
                out.push((p, s));
            }
        }
    }
    out
}

fn from_percentiles(p: &Percentiles, stat: Stat) -> Option<f64> {
    if p.count == 0 {
        return None;
    }
    let us = match stat {
        Stat::P50 => p.p50_us,
        Stat::P90 => p.p90_us,
        Stat::P99 => p.p99_us,
        Stat::P99_9 => p.p99_9_us,
        Stat::Max => p.max_us,
        Stat::Mean => p.mean_us,
        Stat::Min | Stat::Sum => return None,
    };
    Some(us * 1e3)
}

fn from_histogram(h: &Histogram<u64>, stat: Stat) -> Option<f64> {
    if h.is_empty() {
        return None;
    }
    Some(match stat {
        Stat::Max => h.max() as f64,
        Stat::Min => h.min() as f64,
        Stat::Mean => h.mean(),
        Stat::Sum => return None,
        q => h.value_at_quantile(q.quantile().unwrap_or(1.0)) as f64,
    })
}

fn percentiles_of(summary: &Summary, phase: usize, series: Option<usize>, m: Metric) -> &Percentiles {
    let p = &summary.phases[phase];
    let s = series.map_or(&p.total, |s| &p.series[s]);
    match m {
        Metric::DispatchLag => &s.dispatch_lag,
        Metric::OverrunDelay => &s.overrun_delay,
        Metric::StartLag => &s.start_lag,
        Metric::Latency => &s.latency,
        Metric::CorrectedLatency => &s.corrected_latency,
    }
}

fn histogram_value(t: &ValidThreshold, m: Metric, inputs: &Inputs<'_>) -> Measured {
    let summary = inputs.summary;
    let refs = matching_series(t, summary);
    let stat = t.stat.unwrap_or(Stat::Max);
    let none_recorded = || format!("no `{}` values recorded for `{}`", m.as_str(), t.subject());
    let Some(&(first_phase, first_series)) = refs.first() else {
        return Err(no_probes(t));
    };
    // The summary's percentiles are exact for one series, or for all series of one phase
    // (its `total`, computed from the merged histogram): use them when they fit.
    let one_phase = refs.iter().all(|&(p, _)| p == first_phase);
    let summary_figures = if refs.len() == 1 {
        Some(percentiles_of(summary, first_phase, Some(first_series), m))
    } else if one_phase && refs.len() == summary.phases[first_phase].series.len() {
        Some(percentiles_of(summary, first_phase, None, m))
    } else {
        None
    };
    if let Some(p) = summary_figures {
        return from_percentiles(p, stat).map(|v| (v, None)).ok_or_else(none_recorded);
    }
    let Some(source) = inputs.histograms else {
        return Err(format!(
            "`{}` selects {} series; merging them needs the run's histograms, which were not given",
            t.subject(),
            refs.len()
        ));
    };
    let mut merged = new_histogram();
    for &(p, s) in &refs {
        if let Some(h) = source.histogram(p, s, m) {
            // Same bounds everywhere (measure::hist), so adding cannot fail; a foreign
            // histogram that does not fit is skipped rather than guessed at.
            let _ = merged.add(h);
        }
    }
    from_histogram(&merged, stat).map(|v| (v, None)).ok_or_else(none_recorded)
}

fn rate_value(t: &ValidThreshold, summary: &Summary) -> Measured {
    let refs = matching_series(t, summary);
    if refs.is_empty() {
        return Err(no_probes(t));
    }
    let probes: u64 = refs.iter().map(|&(p, s)| summary.phases[p].series[s].counters.probes).sum();
    let mut phases: Vec<usize> = refs.iter().map(|&(p, _)| p).collect();
    phases.dedup();
    let seconds: f64 = phases.iter().map(|&p| summary.phases[p].duration_s).sum();
    if seconds <= 0.0 {
        return Err(format!("`{}`: the measured window is empty", t.subject()));
    }
    Ok((probes as f64 / seconds, None))
}

fn cpu_value(t: &ValidThreshold, summary: &Summary) -> Measured {
    let phases: Vec<_> = summary.phases.iter().filter(|p| t.selector.accepts(Label::Phase, &p.name)).collect();
    if phases.is_empty() {
        return Err(format!("no phase matched `{}`", t.subject()));
    }
    // Weighted by probes: Σ CPU / Σ probes, not a mean of per-phase ratios.
    let probes: u64 = phases.iter().map(|p| p.total.counters.probes).sum();
    if probes == 0 {
        return Err(format!("no probes finished in `{}`", t.subject()));
    }
    let cpu_us: f64 = phases.iter().map(|p| p.overhead.cpu_us_per_probe * p.total.counters.probes as f64).sum();
    Ok((cpu_us * 1e3 / probes as f64, None))
}

fn lifecycle_value(t: &ValidThreshold, m: LifecycleMetric, facts: Option<&LifecycleFacts>) -> Measured {
    let Some(facts) = facts else {
        return Err(format!("`{}` needs pod lifecycle facts, which this run did not record", t.subject()));
    };
    let values = lifecycle::values(facts, m, &t.selector);
    let per_pod = matches!(m, LifecycleMetric::TimeToReady | LifecycleMetric::NotReadyTime);
    let what = if per_pod { "pods" } else { "containers" };
    let stat = t.stat.unwrap_or(Stat::Max);
    let Some(v) = lifecycle::stat(&values, stat) else {
        return Err(format!("no {what} matched `{}`", t.subject()));
    };
    let never = values.iter().filter(|v| v.is_infinite()).count();
    let note = (never > 0).then(|| {
        let event = if per_pod { "never became Ready" } else { "never started" };
        format!("{never} of {} {what} {event}", values.len())
    });
    Ok((v, note))
}

/// A value for people, in the metric's quantity.
pub fn format_value(q: Quantity, v: f64) -> String {
    if v.is_infinite() {
        return "never".into();
    }
    match q {
        Quantity::Duration => format_ns(v),
        Quantity::Count => {
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                trim(format!("{v:.2}"))
            }
        }
        Quantity::Rate => format!("{}/s", trim(format!("{v:.1}"))),
    }
}

/// Nanoseconds in the largest unit that keeps the number ≥ 1, three significant digits.
pub fn format_ns(ns: f64) -> String {
    let (x, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let digits = if x >= 100.0 {
        0
    } else if x >= 10.0 {
        1
    } else {
        2
    };
    format!("{}{unit}", trim(format!("{x:.digits$}")))
}

fn trim(s: String) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_well() {
        assert_eq!(format_ns(2_000_000.0), "2ms");
        assert_eq!(format_ns(2_410_000.0), "2.41ms");
        assert_eq!(format_ns(850_000.0), "850µs");
        assert_eq!(format_ns(12_345.0), "12.3µs");
        assert_eq!(format_ns(999.0), "999ns");
        assert_eq!(format_ns(30e9), "30s");
        assert_eq!(format_value(Quantity::Count, 0.0), "0");
        assert_eq!(format_value(Quantity::Count, 1.5), "1.5");
        assert_eq!(format_value(Quantity::Rate, 912.34), "912.3/s");
        assert_eq!(format_value(Quantity::Duration, f64::INFINITY), "never");
    }
}
