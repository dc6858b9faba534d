//! The collector thread: merges the producers' 1-second interval sets, writes each
//! finished interval to the `.hlog` buffer (one tagged histogram per series and metric),
//! samples the process's fds, memory and children once a second, and reports each interval
//! to a callback (the progress bar and the per-interval summary).

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use serde::Serialize;

use super::hist::Metric;
use super::overhead;
use super::recorder::IntervalSet;
use crate::report::hlog::HlogWriter;

/// What the collector learns about one finished interval.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct IntervalSummary {
    /// Seconds since the measured window began.
    pub t_s: u64,
    pub probes: u64,
    /// Dispatch lag p99 over all series, microseconds (merged histograms, never averaged).
    pub lag_p99_us: f64,
    pub lag_max_us: f64,
}

/// Peak resource use seen by the 1 Hz sampler.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Peaks {
    pub fds: u64,
    pub rss_bytes: u64,
    pub children: u64,
}

/// What the collector hands back when every producer has gone.
#[derive(Debug, Default)]
pub struct Collected {
    /// The interval log, when it was kept in memory (`HlogOutput::Memory`).
    pub hlog: Vec<u8>,
    /// The file the interval log was streamed to (`HlogOutput::File`).
    pub hlog_file: Option<std::path::PathBuf>,
    /// Interval-log lines that could not be written (a full disk, say).
    pub hlog_errors: u64,
    /// Every shipped set added up, by series: the cumulative histograms of the run (plus
    /// whatever producers could not ship, which they keep).
    pub cumulative: Vec<crate::measure::MetricSet>,
    pub intervals: Vec<IntervalSummary>,
    pub peaks: Peaks,
    /// Interval sets that arrived after their interval had been written (their data is in
    /// the cumulative figures).
    pub late_sets: u64,
}

pub struct CollectorConfig {
    /// Series tags (`http.liveness`), by series index.
    pub tags: Vec<String>,
    pub interval_ns: u64,
    /// Monotonic time at which the measured window begins (interval 0).
    pub measure_from_ns: u64,
    /// Wall-clock seconds since the epoch of that moment (the log's BaseTime).
    pub base_unix_s: f64,
    /// How long after an interval ends its sets are waited for before it is written.
    pub grace_ns: u64,
    /// Emptied sets go back to their producer by index.
    pub recycle: Vec<SyncSender<Box<IntervalSet>>>,
    pub now_ns: fn() -> u64,
    /// Sample fds/RSS/children once a second (off in tests).
    pub sample: bool,
    /// Where the interval log goes.
    pub hlog: HlogOutput,
    /// Sees each interval's merged set as it is written (live metrics).
    pub tap: Option<IntervalTap>,
}

/// Where the collector writes the interval log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HlogOutput {
    /// Nobody will read it (no results directory, calibration): not built at all, so
    /// nothing grows with the run's length.
    #[default]
    Off,
    /// Built in memory and handed back in [`Collected::hlog`] (tests).
    Memory,
    /// Streamed to this file as the run goes, flushed each interval: memory stays flat
    /// however long the run, and an interrupted run keeps every second written.
    File(std::path::PathBuf),
}

/// A reader of each finished interval (e.g. the Prometheus feeder), shared so the engine's
/// configuration stays cheap to clone.
#[derive(Clone)]
pub struct IntervalTap(pub std::sync::Arc<dyn Fn(&IntervalSet) + Send + Sync>);

impl std::fmt::Debug for IntervalTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntervalTap")
    }
}

/// Run until every sender of `rx` is gone. `on_interval` sees each written interval.
pub fn run(
    cfg: CollectorConfig,
    rx: Receiver<Box<IntervalSet>>,
    mut on_interval: impl FnMut(&IntervalSummary),
) -> Collected {
    let (sink, hlog_file) = match &cfg.hlog {
        HlogOutput::Off => (HlogSink::Off, None),
        HlogOutput::Memory => (HlogSink::Memory(Vec::new()), None),
        HlogOutput::File(p) => match std::fs::File::create(p) {
            Ok(f) => (HlogSink::File(std::io::BufWriter::new(f)), Some(p.clone())),
            // Unwritable: keep it in memory rather than lose it; results.rs writes it whole.
            Err(_) => (HlogSink::Memory(Vec::new()), None),
        },
    };
    let mut log = HlogWriter::new(sink, cfg.base_unix_s, &cfg.tags);
    let mut open: BTreeMap<u64, Box<IntervalSet>> = BTreeMap::new();
    let mut written_up_to: Option<u64> = None;
    let mut out =
        Collected { cumulative: (0..cfg.tags.len()).map(|_| Default::default()).collect(), ..Collected::default() };
    let mut next_sample = 0u64;
    let mut lag = super::hist::new_histogram();
    loop {
        let msg = rx.recv_timeout(Duration::from_millis(100));
        let done = matches!(msg, Err(RecvTimeoutError::Disconnected));
        if let Ok(set) = msg {
            for (cum, s) in out.cumulative.iter_mut().zip(set.series.iter()) {
                cum.add(s);
            }
            if written_up_to.is_some_and(|w| set.index <= w) {
                out.late_sets += 1;
                recycle(&cfg, set);
            } else if let Some(acc) = open.get_mut(&set.index) {
                acc.add(&set);
                recycle(&cfg, set);
            } else {
                open.insert(set.index, set);
            }
        }
        let now = (cfg.now_ns)();
        if cfg.sample && now >= next_sample {
            next_sample = now + 1_000_000_000;
            out.peaks.fds = out.peaks.fds.max(overhead::fd_count());
            out.peaks.rss_bytes = out.peaks.rss_bytes.max(overhead::rss_bytes());
            out.peaks.children = out.peaks.children.max(overhead::child_count());
        }
        // Write every interval whose grace has passed (all of them at the end).
        while let Some((&idx, _)) = open.first_key_value() {
            let end = cfg.measure_from_ns + (idx + 1) * cfg.interval_ns;
            if !done && now < end + cfg.grace_ns {
                break;
            }
            let Some((_, set)) = open.pop_first() else {
                break;
            };
            let start_s = idx as f64 * cfg.interval_ns as f64 / 1e9;
            log.write_interval(&set, start_s, cfg.interval_ns as f64 / 1e9);
            if let Some(tap) = &cfg.tap {
                (tap.0)(&set);
            }
            lag.reset();
            for s in &set.series {
                let _ = lag.add(s.get(Metric::DispatchLag));
            }
            let summary = IntervalSummary {
                t_s: idx * cfg.interval_ns / 1_000_000_000,
                probes: set.finished(),
                lag_p99_us: lag.value_at_quantile(0.99) as f64 / 1e3,
                lag_max_us: lag.max() as f64 / 1e3,
            };
            on_interval(&summary);
            out.intervals.push(summary);
            written_up_to = Some(idx);
            recycle(&cfg, set);
        }
        if done {
            break;
        }
    }
    out.hlog_errors = log.errors;
    match log.finish() {
        HlogSink::Off => {}
        HlogSink::Memory(buf) => out.hlog = buf,
        HlogSink::File(mut f) => {
            if std::io::Write::flush(&mut f).is_err() {
                out.hlog_errors += 1;
            }
            out.hlog_file = hlog_file;
        }
    }
    out
}

/// Where the interval log goes.
enum HlogSink {
    Off,
    Memory(Vec<u8>),
    File(std::io::BufWriter<std::fs::File>),
}

impl std::io::Write for HlogSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self {
            HlogSink::Off => Ok(b.len()),
            HlogSink::Memory(v) => v.write(b),
            HlogSink::File(f) => f.write(b),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            HlogSink::Off | HlogSink::Memory(_) => Ok(()),
            HlogSink::File(f) => f.flush(),
        }
    }
}

fn recycle(cfg: &CollectorConfig, mut set: Box<IntervalSet>) {
    if let Some(tx) = cfg.recycle.get(set.producer) {
        // Emptied here, off the producer's thread.
        set.reset();
        // A full or closed recycle channel just means the set is freed here.
        let _ = tx.try_send(set);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::recorder::{IntervalLink, Recorder};
    use std::sync::mpsc::sync_channel;

    fn zero() -> u64 {
        0
    }

    #[test]
    fn merges_producers_and_writes_each_interval_once() {
        let (tx, rx) = sync_channel(16);
        let (r0tx, r0rx) = sync_channel(4);
        let (r1tx, r1rx) = sync_channel(4);
        let mut a = Recorder::new(1, 0, 1_000, Some(IntervalLink { producer: 0, out: tx.clone(), recycled: r0rx }));
        let mut b = Recorder::new(1, 0, 1_000, Some(IntervalLink { producer: 1, out: tx, recycled: r1rx }));
        a.record(0, Metric::DispatchLag, 10_000, 10);
        a.count_finished(0, 10, false, crate::probe::ProbeResult::Success);
        b.record(0, Metric::DispatchLag, 20_000, 20);
        b.count_finished(0, 20, false, crate::probe::ProbeResult::Success);
        b.record(0, Metric::DispatchLag, 30_000, 1_500);
        b.count_finished(0, 1_500, false, crate::probe::ProbeResult::Success);
        a.flush();
        b.flush();
        drop((a, b));
        let got = run(
            CollectorConfig {
                tags: vec!["noop.liveness".into()],
                interval_ns: 1_000,
                measure_from_ns: 0,
                base_unix_s: 0.0,
                grace_ns: 0,
                recycle: vec![r0tx, r1tx],
                now_ns: zero,
                sample: false,
                hlog: HlogOutput::Memory,
                tap: None,
            },
            rx,
            |_| {},
        );
        assert_eq!(got.intervals.len(), 2);
        assert_eq!(got.intervals[0].probes, 2);
        assert_eq!(got.intervals[1].probes, 1);
        assert!(got.intervals[0].lag_p99_us >= 19.9);
        assert!(!got.hlog.is_empty());
        assert_eq!(got.cumulative[0].get(Metric::DispatchLag).len(), 3);
    }
}
