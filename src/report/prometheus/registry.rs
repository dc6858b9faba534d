//! The live metrics of a run: label sets interned once, updated by key through atomics,
//! rendered on demand in the Prometheus text format (see [`super::text`]).
//!
//! Threads: any number of updaters (the collector once a second, the lifecycle driver per
//! probe) and the HTTP server rendering. Registering takes a lock; an update takes a
//! shared read lock and does atomic adds; nothing is held across a render's formatting
//! except the read locks of the series lists.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use hdrhistogram::Histogram;

use super::histogram::{AtomicHistogram, KUBELET_DURATION_BOUNDS_NS, LAG_BOUNDS_NS};
use crate::spec::ProbeType;

/// The kubelet's labels of one probe worker (pod, container, probe type).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProbeLabels {
    pub probe_type: ProbeType,
    pub container: String,
    pub pod: String,
    pub namespace: String,
    pub pod_uid: String,
}

/// A probe's result as the kubelet's `prober_probe_total` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResult {
    /// Success and warning (the kubelet maps a warning to success).
    Successful,
    Failed,
    /// The kubelet's results.Unknown without an error (its prober maps those to Failure,
    /// so this stays 0 in practice; kept because the label value exists).
    Unknown,
    /// The prober returned an error: the kubelet throws the result away (worker.go "Prober
    /// error, throw away the result") — not in `prober_probe_total`, only in
    /// `probebench_probe_errored_total`.
    Errored,
}

/// Handle of a registered [`ProbeLabels`] set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProbeKey(u32);

/// Handle of a registered (mechanism, probe type) series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeriesKey(u32);

/// The histograms kept per (mechanism, probe type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesHistogram {
    /// `probebench_dispatch_lag_seconds`
    DispatchLag,
    /// `probebench_probe_latency_seconds`
    Latency,
}

/// Result counts of a (mechanism, probe type) series, in probebench's own words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResultCounts {
    /// Successes, warnings excluded (unlike the summary's `success`, which includes them).
    pub success: u64,
    pub warning: u64,
    pub failure: u64,
    pub errored: u64,
}

#[derive(Debug)]
pub(super) struct ProbeSeries {
    pub labels: ProbeLabels,
    pub successful: AtomicU64,
    pub failed: AtomicU64,
    pub unknown: AtomicU64,
    pub errored: AtomicU64,
    pub duration: AtomicHistogram,
}

#[derive(Debug)]
pub(super) struct MechanismSeries {
    pub mechanism: String,
    pub probe_type: ProbeType,
    pub dispatch_lag: AtomicHistogram,
    pub latency: AtomicHistogram,
    /// success, warning, failure, errored
    pub results: [AtomicU64; 4],
}

/// `probebench_run_info` labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunInfo {
    pub scenario: String,
    pub scheduler: String,
    pub phase: String,
}

/// The registry. Share it as `Arc<Registry>` between updaters and the server.
#[derive(Debug, Default)]
pub struct Registry {
    pub(super) probes: RwLock<Vec<ProbeSeries>>,
    probe_keys: Mutex<HashMap<ProbeLabels, ProbeKey>>,
    pub(super) series: RwLock<Vec<MechanismSeries>>,
    series_keys: Mutex<HashMap<(String, ProbeType), SeriesKey>>,
    /// mechanism → CPU seconds (f64), sorted for a stable exposition.
    pub(super) cpu_seconds: Mutex<BTreeMap<String, f64>>,
    pub(super) in_flight: AtomicU64,
    pub(super) info: Mutex<RunInfo>,
}

/// Lock helpers: a panic elsewhere must not take the metrics down with it, and the data
/// behind the lock (counters) stays meaningful after one.
pub(super) fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}
fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}
pub(super) fn lock<T>(l: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    l.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Registry {
    pub fn new(info: RunInfo) -> Self {
        Registry { info: Mutex::new(info), ..Registry::default() }
    }

    /// Intern a probe worker's labels (the same labels give the same key).
    pub fn register_probe(&self, labels: ProbeLabels) -> ProbeKey {
        let mut keys = lock(&self.probe_keys);
        if let Some(&k) = keys.get(&labels) {
            return k;
        }
        let mut list = write(&self.probes);
        let key = ProbeKey(list.len() as u32);
        list.push(ProbeSeries {
            labels: labels.clone(),
            successful: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            unknown: AtomicU64::new(0),
            errored: AtomicU64::new(0),
            duration: AtomicHistogram::new(KUBELET_DURATION_BOUNDS_NS),
        });
        keys.insert(labels, key);
        key
    }

    /// One probe of a worker, as the kubelet's worker.go counts it: `prober_probe_total`
    /// by result, and `prober_probe_duration_seconds` for successful and unknown results
    /// only (a failed probe's duration is not observed; an errored one is not counted).
    pub fn record_probe(&self, key: ProbeKey, result: ProbeResult, duration_ns: u64) {
        let list = read(&self.probes);
        let Some(s) = list.get(key.0 as usize) else {
            return;
        };
        match result {
            ProbeResult::Successful => {
                s.successful.fetch_add(1, Ordering::Relaxed);
                s.duration.observe_ns(duration_ns);
            }
            ProbeResult::Failed => {
                s.failed.fetch_add(1, Ordering::Relaxed);
            }
            ProbeResult::Unknown => {
                s.unknown.fetch_add(1, Ordering::Relaxed);
                s.duration.observe_ns(duration_ns);
            }
            ProbeResult::Errored => {
                s.errored.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Intern a (mechanism, probe type) series: `mechanism` as the summary names it
    /// (`http`, or `noop` for a stand-in).
    pub fn register_series(&self, mechanism: &str, probe_type: ProbeType) -> SeriesKey {
        let mut keys = lock(&self.series_keys);
        if let Some(&k) = keys.get(&(mechanism.to_string(), probe_type)) {
            return k;
        }
        let mut list = write(&self.series);
        let key = SeriesKey(list.len() as u32);
        list.push(MechanismSeries {
            mechanism: mechanism.to_string(),
            probe_type,
            dispatch_lag: AtomicHistogram::new(LAG_BOUNDS_NS),
            latency: AtomicHistogram::new(LAG_BOUNDS_NS),
            results: std::array::from_fn(|_| AtomicU64::new(0)),
        });
        keys.insert((mechanism.to_string(), probe_type), key);
        key
    }

    fn with_series(&self, key: SeriesKey, f: impl FnOnce(&MechanismSeries)) {
        if let Some(s) = read(&self.series).get(key.0 as usize) {
            f(s);
        }
    }

    /// One value (nanoseconds).
    pub fn observe_series(&self, key: SeriesKey, which: SeriesHistogram, ns: u64) {
        self.with_series(key, |s| match which {
            SeriesHistogram::DispatchLag => s.dispatch_lag.observe_ns(ns),
            SeriesHistogram::Latency => s.latency.observe_ns(ns),
        });
    }

    /// Add an HDR histogram of nanoseconds (e.g. the collector's 1-second interval).
    pub fn merge_series(&self, key: SeriesKey, which: SeriesHistogram, h: &Histogram<u64>) {
        self.with_series(key, |s| match which {
            SeriesHistogram::DispatchLag => s.dispatch_lag.merge_hdr(h),
            SeriesHistogram::Latency => s.latency.merge_hdr(h),
        });
    }

    /// Add result counts (deltas) to `probebench_probes_total`.
    pub fn add_results(&self, key: SeriesKey, counts: ResultCounts) {
        self.with_series(key, |s| {
            for (slot, n) in s.results.iter().zip([counts.success, counts.warning, counts.failure, counts.errored]) {
                slot.fetch_add(n, Ordering::Relaxed);
            }
        });
    }

    /// Add prober CPU seconds attributed to a mechanism (`probebench_probe_cpu_seconds_total`).
    /// Negative or non-finite amounts are ignored: a counter never goes down.
    pub fn add_cpu_seconds(&self, mechanism: &str, seconds: f64) {
        if seconds.is_finite() && seconds > 0.0 {
            *lock(&self.cpu_seconds).entry(mechanism.to_string()).or_default() += seconds;
        }
    }

    /// `probebench_probes_in_flight`: +1 when a probe starts, −1 when it ends.
    pub fn add_in_flight(&self, delta: i64) {
        if delta >= 0 {
            self.in_flight.fetch_add(delta.unsigned_abs(), Ordering::Relaxed);
        } else {
            // Never below zero, even if an end were counted before its start.
            let _ = self
                .in_flight
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| Some(v.saturating_sub(delta.unsigned_abs())));
        }
    }

    /// The phase now running (`probebench_run_info{phase}`).
    pub fn set_phase(&self, phase: &str) {
        lock(&self.info).phase = phase.to_string();
    }

    /// The exposition (text format 0.0.4).
    pub fn render(&self) -> String {
        super::text::render(self)
    }
}
