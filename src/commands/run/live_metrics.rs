//! Feeding `--metrics` while a run goes: the per-mechanism families from each finished
//! 1-second interval (the same merged histograms the interval log gets, so the live
//! figures and the summary come from one source), and the in-flight gauge from the prober.

use std::sync::{Arc, Mutex};

use crate::measure::collector::IntervalTap;
use crate::measure::hist::Metric;
use crate::measure::overhead::ProcessCpu;
use crate::measure::recorder::IntervalSet;
use crate::report::prometheus::{Registry, ResultCounts, SeriesHistogram};
use crate::sched::fleet::SeriesInfo;
use crate::sched::mechanism::{MechanismKind, ProbeFuture, ProbeTemplate, Prober};

/// A tap that adds each interval to `probebench_probes_total`, the dispatch-lag and latency
/// histograms, and `probebench_probe_cpu_seconds_total`.
///
/// CPU per mechanism is an attribution, not a measurement: the process's CPU over the
/// interval is split across mechanisms by their share of the interval's probes, and the
/// CPU of waited-for children (exec commands) goes to exec alone. Counting starts at the
/// end of the first interval, so the set-up before the window (building workers, starting
/// runtimes) is not charged to probes. The end-of-run summary has the measured split by
/// thread kind.
pub fn interval_tap(registry: Arc<Registry>, series: &[SeriesInfo]) -> IntervalTap {
    let keys: Vec<_> =
        series.iter().map(|s| (registry.register_series(s.mechanism.as_str(), s.probe_type), s.mechanism)).collect();
    let last_cpu: Mutex<Option<ProcessCpu>> = Mutex::new(None);
    IntervalTap(Arc::new(move |set: &IntervalSet| {
        let mut probes_by_kind = [0u64; MechanismKind::COUNT];
        for (i, (key, kind)) in keys.iter().enumerate() {
            let (Some(m), Some(r)) = (set.series.get(i), set.results.get(i)) else {
                continue;
            };
            registry.merge_series(*key, SeriesHistogram::DispatchLag, m.get(Metric::DispatchLag));
            registry.merge_series(*key, SeriesHistogram::Latency, m.get(Metric::Latency));
            registry.add_results(*key, ResultCounts { success: r[0], warning: r[1], failure: r[2], errored: r[3] });
            probes_by_kind[kind.index()] += r.iter().sum::<u64>();
        }
        let now = ProcessCpu::now();
        let used = match last_cpu.lock() {
            Ok(mut last) => match last.replace(now) {
                Some(before) => now.since(&before),
                None => return,
            },
            Err(_) => return,
        };
        let total: u64 = probes_by_kind.iter().sum();
        if total == 0 {
            return;
        }
        for kind in MechanismKind::ALL {
            let n = probes_by_kind[kind.index()];
            if n == 0 {
                continue;
            }
            let mut ns = used.own_ns() as f64 * n as f64 / total as f64;
            if kind == MechanismKind::Exec {
                ns += used.children_ns() as f64;
            }
            registry.add_cpu_seconds(kind.as_str(), ns / 1e9);
        }
    }))
}

/// A prober that keeps `probebench_probes_in_flight` current around another.
pub struct CountingProber {
    pub inner: Arc<dyn Prober>,
    pub registry: Arc<Registry>,
}

impl Prober for CountingProber {
    fn supports(&self, kind: MechanismKind) -> bool {
        self.inner.supports(kind)
    }

    fn probe(&self, template: &Arc<ProbeTemplate>, pod: u32) -> ProbeFuture {
        let guard = InFlight::new(Arc::clone(&self.registry));
        let fut = self.inner.probe(template, pod);
        Box::pin(async move {
            let out = fut.await;
            drop(guard);
            out
        })
    }
}

/// One probe counted in flight until dropped (also when its future is dropped unfinished).
struct InFlight(Arc<Registry>);

impl InFlight {
    fn new(r: Arc<Registry>) -> Self {
        r.add_in_flight(1);
        InFlight(r)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.add_in_flight(-1);
    }
}
