//! Per-probe recording: cumulative histograms and counters per series, plus the current
//! 1-second interval, shipped to the collector when the interval ends.
//!
//! One `Recorder` per producer thread (a scheduler shard, or a lane of the naive
//! scheduler), so recording takes no lock. Recording allocates nothing: histograms are
//! pre-sized, and interval sets are recycled through a return channel.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError};

use serde::Serialize;

use super::hist::{Metric, MetricSet};
use crate::probe::ProbeResult;

/// What happened to a series' probes and ticks. Counts are of probes whose intended time
/// fell inside the measured window (after warm-up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Ticks on which the kubelet worker decided to probe (grid and pending ticks).
    pub dispatched: u64,
    /// Probes that finished (success + failure + errored).
    pub probes: u64,
    /// Counted as success by the kubelet (warnings included).
    pub success: u64,
    /// The subset of `success` that were warnings (ProbeWarning).
    pub warning: u64,
    pub failure: u64,
    /// The kubelet's "errored and resulted in unknown state": never counted toward thresholds.
    pub errored: u64,
    /// Ticks on which the worker did not probe (initial delay, startup gating, on hold).
    pub skipped: u64,
    /// Ticks dropped because the worker was still busy and one tick was already pending.
    pub missed_ticks: u64,
    /// Pending ticks fired at the completion of an overrunning probe.
    pub overruns: u64,
    /// Probes that waited for the mechanism's concurrency bound before starting.
    pub bound_delayed: u64,
    /// Total time those probes waited, nanoseconds.
    pub bound_wait_ns: u64,
    /// Result changes the kubelet's results cache published (threshold reached).
    pub published: u64,
    /// Probes still in flight when the run's drain deadline passed.
    pub unfinished: u64,
}

impl Counters {
    pub fn add(&mut self, o: &Counters) {
        self.dispatched += o.dispatched;
        self.probes += o.probes;
        self.success += o.success;
        self.warning += o.warning;
        self.failure += o.failure;
        self.errored += o.errored;
        self.skipped += o.skipped;
        self.missed_ticks += o.missed_ticks;
        self.overruns += o.overruns;
        self.bound_delayed += o.bound_delayed;
        self.bound_wait_ns += o.bound_wait_ns;
        self.published += o.published;
        self.unfinished += o.unfinished;
    }
}

/// Cumulative figures of one series.
#[derive(Debug, Clone, Default)]
pub struct SeriesStats {
    pub metrics: MetricSet,
    pub counters: Counters,
}

impl SeriesStats {
    pub fn add(&mut self, o: &SeriesStats) {
        self.metrics.add(&o.metrics);
        self.counters.add(&o.counters);
    }
}

/// One interval's histograms for every series.
#[derive(Debug, Clone)]
pub struct IntervalSet {
    /// Which producer recorded it (so the emptied set goes back to it).
    pub producer: usize,
    /// Interval number since the measured window began (0 = first second).
    pub index: u64,
    pub series: Vec<MetricSet>,
    /// Finished probes per series in this interval by outcome: success (warnings
    /// excluded), warning, failure, errored — what live metrics count.
    pub results: Vec<[u64; 4]>,
}

impl IntervalSet {
    pub fn new(series: usize) -> Self {
        IntervalSet {
            producer: 0,
            index: 0,
            series: (0..series).map(|_| MetricSet::default()).collect(),
            results: vec![[0; 4]; series],
        }
    }

    pub fn add(&mut self, o: &IntervalSet) {
        for (a, b) in self.series.iter_mut().zip(o.series.iter()) {
            a.add(b);
        }
        for (a, b) in self.results.iter_mut().zip(o.results.iter()) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    pub fn reset(&mut self) {
        for s in &mut self.series {
            s.reset();
        }
        self.results.iter_mut().for_each(|r| *r = [0; 4]);
    }

    pub fn is_empty(&self) -> bool {
        self.series.iter().all(MetricSet::is_empty)
    }

    /// Probes that finished in this interval, over every series and outcome.
    pub fn finished(&self) -> u64 {
        self.results.iter().flatten().sum()
    }
}

/// A producer's end of the interval pipeline: full sets go out, emptied sets come back.
#[derive(Debug)]
pub struct IntervalLink {
    pub producer: usize,
    pub out: SyncSender<Box<IntervalSet>>,
    pub recycled: Receiver<Box<IntervalSet>>,
}

/// A producer's recording state.
#[derive(Debug)]
pub struct Recorder {
    pub series: Vec<SeriesStats>,
    /// Probes whose intended time is before this are warm-up: not recorded.
    pub measure_from_ns: u64,
    interval_ns: u64,
    interval: Option<Box<IntervalSet>>,
    link: Option<IntervalLink>,
    /// Interval sets that could not be shipped (collector behind): their data is still in
    /// the cumulative histograms, only missing from `.hlog`.
    pub intervals_dropped: u64,
}

impl Recorder {
    /// `link: None` keeps only cumulative figures (tests, calibration).
    pub fn new(series: usize, measure_from_ns: u64, interval_ns: u64, link: Option<IntervalLink>) -> Self {
        let interval = link.as_ref().map(|l| {
            let mut s = Box::new(IntervalSet::new(series));
            s.producer = l.producer;
            s
        });
        Recorder {
            series: (0..series).map(|_| SeriesStats::default()).collect(),
            measure_from_ns,
            interval_ns: interval_ns.max(1),
            interval,
            link,
            intervals_dropped: 0,
        }
    }

    /// Whether a probe with this intended time is measured (not warm-up).
    #[inline]
    pub fn measured(&self, intended_ns: u64) -> bool {
        intended_ns >= self.measure_from_ns
    }

    #[inline]
    pub fn counters(&mut self, series: usize) -> &mut Counters {
        &mut self.series[series].counters
    }

    /// Record a timing at time `now_ns` (which decides the interval). Allocation-free.
    /// With intervals on, the value goes into the interval only and the interval is added
    /// to the cumulative histograms when it closes: one histogram write per value, not two.
    #[inline]
    pub fn record(&mut self, series: usize, metric: Metric, value_ns: u64, now_ns: u64) {
        if self.interval.is_some() {
            self.roll(now_ns);
            if let Some(iv) = self.interval.as_mut() {
                iv.series[series].record(metric, value_ns);
                return;
            }
        }
        self.series[series].metrics.record(metric, value_ns);
    }

    /// A measured probe that finished: its start lag, latency and corrected latency (all
    /// against `intended_ns`, the worker's grid time) and its outcome counted — the one
    /// bookkeeping every producer (shard, naive lane, lifecycle loop) does per probe.
    #[inline]
    pub fn record_finished(
        &mut self,
        series: usize,
        intended_ns: u64,
        started_ns: u64,
        finished_ns: u64,
        errored: bool,
        result: ProbeResult,
    ) {
        self.record(series, Metric::StartLag, started_ns.saturating_sub(intended_ns), finished_ns);
        self.record(series, Metric::Latency, finished_ns.saturating_sub(started_ns), finished_ns);
        self.record(series, Metric::CorrectedLatency, finished_ns.saturating_sub(intended_ns), finished_ns);
        self.count_finished(series, finished_ns, errored, result);
    }

    /// Count a measured probe that finished at `now_ns`: the run's counters by outcome, and
    /// the current interval's (probes/s and live metrics per interval). An errored probe
    /// counts as errored whatever its result (the kubelet discards it).
    #[inline]
    pub fn count_finished(&mut self, series: usize, now_ns: u64, errored: bool, result: ProbeResult) {
        let class = if errored {
            3
        } else {
            match result {
                ProbeResult::Warning => 1,
                r if r.counts_as_success() => 0,
                _ => 2,
            }
        };
        if self.interval.is_some() {
            self.roll(now_ns);
            if let Some(iv) = self.interval.as_mut() {
                iv.results[series][class] += 1;
            }
        }
        let c = &mut self.series[series].counters;
        c.probes += 1;
        match class {
            0 => c.success += 1,
            1 => {
                c.success += 1;
                c.warning += 1;
            }
            2 => c.failure += 1,
            _ => c.errored += 1,
        }
    }

    fn index_at(&self, now_ns: u64) -> u64 {
        now_ns.saturating_sub(self.measure_from_ns) / self.interval_ns
    }

    /// Ship the current interval if `now_ns` is past its end. Called on every record and by
    /// idle producers once per wake-up, so intervals leave within a second of closing.
    pub fn roll(&mut self, now_ns: u64) {
        let idx = self.index_at(now_ns);
        let Some(cur) = self.interval.as_ref() else {
            return;
        };
        // A value from an interval already shipped (a completion handled late) goes into
        // the current one rather than reopening the past.
        if idx <= cur.index || now_ns < self.measure_from_ns {
            return;
        }
        self.ship(idx);
    }

    fn ship(&mut self, next_index: u64) {
        let (Some(link), Some(cur)) = (self.link.as_ref(), self.interval.as_mut()) else {
            return;
        };
        if cur.is_empty() && cur.finished() == 0 {
            cur.index = next_index;
            return;
        }
        // The collector folds shipped sets into the cumulative figures and empties them
        // before sending them back, so the shard never pays for adding or clearing
        // histograms (a few hundred µs per second that would land on due probes).
        let fresh = match link.recycled.try_recv() {
            Ok(s) => s,
            // Steady state recycles; a new set is only made while the pipeline fills.
            Err(_) => Box::new(IntervalSet::new(cur.series.len())),
        };
        let producer = link.producer;
        let mut full = std::mem::replace(cur, fresh);
        cur.index = next_index;
        cur.producer = producer;
        match link.out.try_send(full) {
            Ok(()) => {}
            Err(TrySendError::Full(s)) | Err(TrySendError::Disconnected(s)) => {
                // Not shipped: keep its values in this producer's cumulative figures.
                full = s;
                for (cum, iv) in self.series.iter_mut().zip(full.series.iter()) {
                    cum.metrics.add(iv);
                }
                self.intervals_dropped += 1;
            }
        }
    }

    /// Ship whatever the current interval holds (end of run).
    pub fn flush(&mut self) {
        let next = self.interval.as_ref().map_or(0, |c| c.index + 1);
        self.ship(next);
        self.link = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    #[test]
    fn intervals_ship_when_time_crosses_a_boundary_and_recycle() {
        let (tx, rx) = sync_channel(4);
        let (rtx, rrx) = sync_channel(4);
        let mut r = Recorder::new(1, 1_000, 1_000_000_000, Some(IntervalLink { producer: 0, out: tx, recycled: rrx }));
        r.record(0, Metric::Latency, 5, 1_000);
        r.count_finished(0, 1_000, false, crate::probe::ProbeResult::Success);
        assert!(rx.try_recv().is_err(), "interval 0 still open");
        r.record(0, Metric::Latency, 7, 1_000_001_000);
        let mut first = rx.try_recv().unwrap();
        assert_eq!(first.index, 0);
        assert_eq!(first.series[0].get(Metric::Latency).len(), 1);
        assert_eq!(first.results[0].iter().sum::<u64>(), 1);
        first.reset();
        rtx.send(first).unwrap();
        r.flush();
        let second = rx.try_recv().unwrap();
        assert_eq!(second.index, 1);
        assert_eq!(second.series[0].get(Metric::Latency).len(), 1);
        assert_eq!(r.series[0].metrics.get(Metric::Latency).len(), 0, "shipped values are the collector's to add up");
    }

    #[test]
    fn warm_up_is_not_measured() {
        let r = Recorder::new(1, 500, 1_000, None);
        assert!(!r.measured(499));
        assert!(r.measured(500));
    }
}
