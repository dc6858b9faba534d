//! Reads an `intervals.hlog` (HdrHistogram V2 interval log, values in nanoseconds, tags
//! `<series>.<metric>`) back into per-interval figures and whole-window merged histograms,
//! with the hdrhistogram crate's own log iterator and V2 deserializer.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use thiserror::Error;

/// One interval of one tag: figures in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalStats {
    /// Seconds since the log's base time (the measured window's start).
    pub start_s: f64,
    pub duration_s: f64,
    pub count: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
}

#[derive(Debug, Default)]
pub struct HlogData {
    /// Per tag, intervals in log order.
    pub intervals: BTreeMap<String, Vec<IntervalStats>>,
    /// Per tag, every interval merged (merged, never averaged).
    pub merged: BTreeMap<String, Histogram<u64>>,
}

#[derive(Debug, Error)]
pub enum HlogReadError {
    #[error("interval log entry {entry}: {message}")]
    Entry { entry: usize, message: String },
}

/// Decode every interval line of `bytes`.
pub fn read(bytes: &[u8]) -> Result<HlogData, HlogReadError> {
    let mut out = HlogData::default();
    for line in crate::report::hlog::read_intervals(bytes) {
        let line = line.map_err(|(entry, message)| HlogReadError::Entry { entry, message })?;
        let tag = line.tag.unwrap_or_default();
        let h = line.histogram;
        out.intervals.entry(tag.clone()).or_default().push(IntervalStats {
            start_s: line.start_s,
            duration_s: line.duration_s,
            count: h.len(),
            p50_ns: h.value_at_quantile(0.5),
            p99_ns: h.value_at_quantile(0.99),
            max_ns: h.max(),
        });
        match out.merged.get_mut(&tag) {
            Some(m) => {
                m.add(&h).map_err(|e| HlogReadError::Entry { entry: 0, message: format!("merging {tag}: {e:?}") })?
            }
            None => {
                let mut m = h;
                // Later intervals may reach past this one's range.
                m.auto(true);
                out.merged.insert(tag, m);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::hist::Metric;
    use crate::measure::recorder::IntervalSet;
    use crate::report::hlog::HlogBuffer;

    #[test]
    fn per_interval_figures_and_merged_counts_match_what_was_recorded() {
        let mut log = HlogBuffer::new(Vec::new(), 1_700_000_000.0, &["tcp.readiness".into()]);
        let mut all = crate::measure::hist::new_histogram();
        for i in 0..4u64 {
            let mut s = IntervalSet::new(1);
            s.index = i;
            for v in 0..(50 * (i + 1)) {
                let ns = 10_000 + v * 1_000 * (i + 1);
                s.series[0].record(Metric::DispatchLag, ns);
                all.record(ns).unwrap();
            }
            log.write_interval(&s, i as f64, 1.0);
        }
        let data = read(&log.finish()).unwrap();
        let lag = &data.intervals["tcp.readiness.dispatch_lag"];
        assert_eq!(lag.len(), 4);
        assert_eq!(lag.iter().map(|i| i.count).collect::<Vec<_>>(), vec![50, 100, 150, 200]);
        assert_eq!(lag.iter().map(|i| i.start_s).collect::<Vec<_>>(), vec![0.0, 1.0, 2.0, 3.0]);
        assert!(lag.windows(2).all(|w| w[0].max_ns < w[1].max_ns));
        assert!(lag.iter().all(|i| i.p50_ns <= i.p99_ns && i.p99_ns <= i.max_ns));
        let merged = &data.merged["tcp.readiness.dispatch_lag"];
        assert_eq!(merged.len(), all.len());
        assert_eq!(merged.value_at_quantile(0.99), all.value_at_quantile(0.99));
    }

    #[test]
    fn a_corrupt_payload_is_an_error_naming_the_entry() {
        let text = "#[BaseTime: 0.000 (seconds since epoch)]\nTag=a.b.latency,0.000,1.000,1.000,!!!notbase64\n";
        let e = read(text.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("entry"), "{e}");
    }
}
