//! The `.hlog` interval log: one V2-compressed histogram per series, metric and second,
//! tagged `mechanism.probeType.metric` (e.g. `http.liveness.dispatch_lag`), written with the
//! hdrhistogram crate's own interval-log writer so its reader (and the Java
//! HistogramLogProcessor) read it back. Values are nanoseconds; the per-line max is in
//! nanoseconds too (no MaxValueDivisor).

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};

use crate::measure::hist::Metric;
use crate::measure::recorder::IntervalSet;

/// An interval log written as the run goes: each second's histograms leave memory as soon
/// as the interval closes, so a long run's memory does not grow with its length. Over a
/// file (`std::io::BufWriter<File>`) every interval is flushed, so an interrupted run's log
/// holds every second written; over a `Vec<u8>` it is built in memory (tests, calibration).
pub struct HlogWriter<W: Write> {
    out: W,
    serializer: V2DeflateSerializer,
    /// `series.metric` tags, by series index then metric index.
    tags: Vec<[String; 5]>,
    /// Lines that failed to serialize (never expected; counted rather than aborting).
    pub errors: u64,
}

/// The in-memory form.
pub type HlogBuffer = HlogWriter<Vec<u8>>;

impl<W: Write> HlogWriter<W> {
    /// Start a log whose interval timestamps count seconds from `base_unix_s`.
    pub fn new(mut out: W, base_unix_s: f64, series_tags: &[String]) -> Self {
        let mut serializer = V2DeflateSerializer::new();
        let base = UNIX_EPOCH + Duration::from_secs_f64(base_unix_s.max(0.0));
        let mut errors = 0;
        let header = IntervalLogWriterBuilder::new()
            .add_comment("probebench interval log: one histogram per series, metric and interval")
            .add_comment("values in nanoseconds; tags are mechanism.probeType.metric")
            .with_start_time(base)
            .with_base_time(base)
            .begin_log_with(&mut out, &mut serializer)
            .map(|_| ());
        if header.is_err() || out.flush().is_err() {
            errors += 1;
        }
        let tags = series_tags.iter().map(|s| Metric::ALL.map(|m| format!("{s}.{}", m.as_str()))).collect();
        HlogWriter { out, serializer, tags, errors }
    }

    /// Append one interval: every non-empty histogram of every series.
    pub fn write_interval(&mut self, set: &IntervalSet, start_s: f64, duration_s: f64) {
        let Ok(mut w) = IntervalLogWriterBuilder::new().begin_log_with(&mut self.out, &mut self.serializer) else {
            self.errors += 1;
            return;
        };
        for (series, metrics) in set.series.iter().enumerate() {
            let Some(tags) = self.tags.get(series) else {
                continue;
            };
            for m in Metric::ALL {
                let h = metrics.get(m);
                if h.is_empty() {
                    continue;
                }
                let tag = Tag::new(&tags[m.index()]);
                if w.write_histogram(
                    h,
                    Duration::from_secs_f64(start_s.max(0.0)),
                    Duration::from_secs_f64(duration_s.max(0.0)),
                    tag,
                )
                .is_err()
                {
                    self.errors += 1;
                }
            }
        }
        drop(w);
        if self.out.flush().is_err() {
            self.errors += 1;
        }
    }

    pub fn finish(self) -> W {
        self.out
    }
}

/// Seconds since the epoch, for BaseTime.
/// One decoded interval line of an interval log.
pub struct HlogInterval {
    pub tag: Option<String>,
    /// Seconds since the log's base time (the measured window's start).
    pub start_s: f64,
    pub duration_s: f64,
    pub histogram: Histogram<u64>,
}

/// Every interval line of an interval log, in order, decoded with the hdrhistogram crate's
/// own log iterator and V2 deserializer (the crate keeps its base64 step private). An error
/// carries the 1-based entry number and what went wrong; comment and header lines are skipped.
pub fn read_intervals(bytes: &[u8]) -> impl Iterator<Item = Result<HlogInterval, (usize, String)>> + '_ {
    let mut de = Deserializer::new();
    IntervalLogIterator::new(bytes).enumerate().filter_map(move |(i, entry)| {
        let entry = match entry {
            Ok(LogEntry::Interval(line)) => line,
            Ok(_) => return None,
            Err(e) => return Some(Err((i + 1, format!("unreadable entry: {e:?}")))),
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(entry.encoded_histogram())
            .map_err(|e| (i + 1, format!("histogram is not base64: {e}")))
            .and_then(|raw| {
                de.deserialize(&mut raw.as_slice()).map_err(|e| (i + 1, format!("histogram does not decode: {e:?}")))
            });
        Some(decoded.map(|histogram| HlogInterval {
            tag: entry.tag().map(|t| t.as_str().to_string()),
            start_s: entry.start_timestamp().as_secs_f64(),
            duration_s: entry.duration().as_secs_f64(),
            histogram,
        }))
    })
}

pub fn unix_now_s() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    #[test]
    fn read_back_by_the_hdrhistogram_crate_to_the_same_counts() {
        let mut log = HlogBuffer::new(Vec::new(), 1_700_000_000.0, &["http.liveness".into(), "noop.readiness".into()]);
        let mut sets = Vec::new();
        for i in 0..3u64 {
            let mut s = IntervalSet::new(2);
            s.index = i;
            for v in 0..(100 * (i + 1)) {
                s.series[0].record(Metric::DispatchLag, 1_000 + v * 37);
                s.series[0].record(Metric::Latency, 250_000 + v);
            }
            s.series[1].record(Metric::DispatchLag, 42_000 * (i + 1));
            log.write_interval(&s, i as f64, 1.0);
            sets.push(s);
        }
        assert_eq!(log.errors, 0);
        let bytes = log.finish();
        let mut de = Deserializer::new();
        let mut seen = 0;
        for entry in IntervalLogIterator::new(&bytes) {
            let LogEntry::Interval(h) = entry.unwrap() else {
                continue;
            };
            let tag = h.tag().unwrap();
            let (series, metric) = tag
                .as_str()
                .split_once('.')
                .map(|(m, rest)| {
                    let (ty, metric) = rest.split_once('.').unwrap();
                    (format!("{m}.{ty}"), metric.to_string())
                })
                .unwrap();
            let idx = h.start_timestamp().as_secs() as usize;
            let b64 = h.encoded_histogram();
            let raw = base64_decode(b64);
            let back: Histogram<u64> = de.deserialize(&mut raw.as_slice()).unwrap();
            let s = if series == "http.liveness" { 0 } else { 1 };
            let m = Metric::ALL.into_iter().find(|m| m.as_str() == metric).unwrap();
            let orig = sets[idx].series[s].get(m);
            assert_eq!(back.len(), orig.len(), "{tag:?} interval {idx}");
            assert_eq!(back.max(), orig.max());
            assert_eq!(back.value_at_quantile(0.5), orig.value_at_quantile(0.5));
            seen += 1;
        }
        assert_eq!(seen, 3 * 3, "2 metrics of series 0 and 1 of series 1, per interval");
    }

    /// Minimal standard base64 decoder for the test (the crate keeps its own private).
    fn base64_decode(s: &str) -> Vec<u8> {
        let val = |c: u8| -> u32 {
            match c {
                b'A'..=b'Z' => (c - b'A') as u32,
                b'a'..=b'z' => (c - b'a' + 26) as u32,
                b'0'..=b'9' => (c - b'0' + 52) as u32,
                b'+' => 62,
                b'/' => 63,
                _ => 0,
            }
        };
        let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
        let mut out = Vec::new();
        for chunk in bytes.chunks(4) {
            let mut n = 0u32;
            for (i, &c) in chunk.iter().enumerate() {
                n |= val(c) << (18 - 6 * i);
            }
            out.push((n >> 16) as u8);
            if chunk.len() > 2 {
                out.push((n >> 8) as u8);
            }
            if chunk.len() > 3 {
                out.push(n as u8);
            }
        }
        out
    }
}
