//! The five timing histograms kept per series (mechanism × probe type), in nanoseconds from
//! one monotonic clock, 3 significant digits (DESIGN.md "units").

use hdrhistogram::Histogram;

/// Highest value tracked: one hour. Larger values (a schedule lost for an hour) are clamped
/// to it rather than resizing the histogram on the hot path; the exact maximum is kept aside.
pub const HIGHEST_NS: u64 = 3_600_000_000_000;
/// 3 significant digits, as DESIGN.md asks.
pub const SIGFIG: u8 = 3;

/// One of the per-probe timings (DESIGN.md "Definitions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Actual dispatch − intended time, for probes fired by their own tick.
    DispatchLag,
    /// Dispatch − intended time of a tick that waited for the worker's previous probe
    /// (the kubelet's one pending tick); kept out of the dispatch lag.
    OverrunDelay,
    /// Start of the probe's own work − intended time (includes any concurrency-bound wait).
    StartLag,
    /// Finish − start (service time).
    Latency,
    /// Finish − intended (what a user waited; free of coordinated omission).
    CorrectedLatency,
}

impl Metric {
    pub const ALL: [Metric; 5] =
        [Metric::DispatchLag, Metric::OverrunDelay, Metric::StartLag, Metric::Latency, Metric::CorrectedLatency];

    /// snake_case name used in file names, JSON keys and `.hlog` tags.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::DispatchLag => "dispatch_lag",
            Metric::OverrunDelay => "overrun_delay",
            Metric::StartLag => "start_lag",
            Metric::Latency => "latency",
            Metric::CorrectedLatency => "corrected_latency",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A histogram with the project's bounds. Creation allocates (once, at setup); recording
/// never does, because auto-resize is off and values are clamped.
pub fn new_histogram() -> Histogram<u64> {
    // Constant bounds that hdrhistogram accepts (low 1, high ≥ 2·low, sigfig ≤ 5): this
    // cannot fail, and it is neither input nor I/O.
    Histogram::new_with_bounds(1, HIGHEST_NS, SIGFIG).expect("constant histogram bounds are valid")
}

/// The five histograms of one series.
#[derive(Debug, Clone)]
pub struct MetricSet {
    pub hists: [Histogram<u64>; 5],
}

impl Default for MetricSet {
    fn default() -> Self {
        MetricSet { hists: std::array::from_fn(|_| new_histogram()) }
    }
}

impl MetricSet {
    /// Record one value (nanoseconds); saturates at [`HIGHEST_NS`]. Allocation-free.
    #[inline]
    pub fn record(&mut self, m: Metric, ns: u64) {
        self.hists[m.index()].saturating_record(ns.max(1));
    }

    pub fn get(&self, m: Metric) -> &Histogram<u64> {
        &self.hists[m.index()]
    }

    /// Merge another set (same bounds, so addition cannot fail).
    pub fn add(&mut self, other: &MetricSet) {
        for (a, b) in self.hists.iter_mut().zip(other.hists.iter()) {
            let _ = a.add(b);
        }
    }

    pub fn reset(&mut self) {
        // hdrhistogram's reset zeroes the whole counts array (270 KB at our bounds), which
        // makes every page of it resident; an empty histogram has nothing to clear, so its
        // untouched pages stay unallocated (most sets have empty overrun-delay histograms).
        for h in self.hists.iter_mut().filter(|h| !h.is_empty()) {
            h.reset();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.hists.iter().all(|h| h.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_clamp_instead_of_failing() {
        let mut s = MetricSet::default();
        s.record(Metric::Latency, HIGHEST_NS * 10);
        s.record(Metric::Latency, 0);
        let h = s.get(Metric::Latency);
        assert_eq!(h.len(), 2);
        assert!(h.max() >= HIGHEST_NS);
        assert_eq!(h.min(), 1);
    }

    #[test]
    fn sets_merge() {
        let mut a = MetricSet::default();
        let mut b = MetricSet::default();
        a.record(Metric::DispatchLag, 1_000);
        b.record(Metric::DispatchLag, 2_000);
        b.record(Metric::OverrunDelay, 5_000);
        a.add(&b);
        assert_eq!(a.get(Metric::DispatchLag).len(), 2);
        assert_eq!(a.get(Metric::OverrunDelay).len(), 1);
        a.reset();
        assert!(a.is_empty());
    }
}
