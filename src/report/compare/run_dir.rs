//! Reading a run directory back (docs/results-schema.md): the figures of `summary.json`,
//! and per series and metric the histograms to merge — per second from the phase's
//! interval log, or (for a run written without one) the whole run from its `.hgrm` files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::sparse::Sparse;

/// The summary schema this reader understands (additions within v1 are ignored).
pub use crate::report::summary::SCHEMA as SUMMARY_SCHEMA;

/// The histogram metrics compare reads (the others are in the files but not compared).
pub const HIST_METRICS: [&str; 3] = ["dispatch_lag", "latency", "corrected_latency"];

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}: no such run directory")]
    Missing(PathBuf),
    #[error("{0}: not a run directory (no summary.json; give the directory `probebench run` printed as `results:`)")]
    NoSummary(PathBuf),
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a probebench summary: {source}")]
    BadSummary { path: PathBuf, source: serde_json::Error },
    #[error("{path}: schema {found:?}, this probebench reads {SUMMARY_SCHEMA:?}")]
    Schema { path: PathBuf, found: String },
    #[error("{path}: line {line}: {what}")]
    BadHistogram { path: PathBuf, line: usize, what: String },
}

/// One timing histogram's percentiles as `summary.json` has them (microseconds).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct PercentilesIn {
    pub count: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p99_9_us: f64,
    pub max_us: f64,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct CountersIn {
    pub probes: u64,
    pub failure: u64,
    pub errored: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SeriesIn {
    pub mechanism: String,
    pub declared: String,
    pub probe_type: String,
    #[serde(default)]
    pub counters: CountersIn,
    #[serde(default)]
    pub rate_per_s: f64,
    #[serde(default)]
    pub dispatch_lag: PercentilesIn,
    #[serde(default)]
    pub latency: PercentilesIn,
    #[serde(default)]
    pub corrected_latency: PercentilesIn,
}

impl SeriesIn {
    /// The series' name in file names and `.hlog` tags: `http.liveness`, or
    /// `http-as-noop.liveness` for a stand-in; `all` for a phase's total.
    pub fn tag(&self) -> String {
        if self.mechanism == "all" {
            return "all".into();
        }
        crate::report::summary::series_tag(&self.mechanism, &self.declared, &self.probe_type)
    }

    pub fn percentiles(&self, metric: &str) -> PercentilesIn {
        match metric {
            "dispatch_lag" => self.dispatch_lag,
            "latency" => self.latency,
            _ => self.corrected_latency,
        }
    }
}

/// The machine's load from other processes while the phase ran (cores).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct NoiseIn {
    pub other_busy_cores: f64,
    pub steal_cores: f64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OverheadIn {
    pub noise: NoiseIn,
    pub children_cpu_s: f64,
    pub cpu_us_per_probe: f64,
    pub cpu_us_per_probe_with_children: f64,
    pub rss_bytes_per_worker: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PhaseIn {
    pub name: String,
    #[serde(default)]
    pub duration_s: f64,
    #[serde(default)]
    pub workers: u64,
    #[serde(default)]
    pub scheduled_rate_per_s: f64,
    pub series: Vec<SeriesIn>,
    pub total: SeriesIn,
    #[serde(default)]
    pub overhead: OverheadIn,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SummaryIn {
    pub schema: String,
    #[serde(default)]
    pub run_id: String,
    #[serde(default)]
    pub scenario: String,
    #[serde(default)]
    pub scheduler: String,
    #[serde(default)]
    pub timer: String,
    pub phases: Vec<PhaseIn>,
}

/// Where a phase's histograms came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistSource {
    /// `intervals.hlog`: one histogram per second.
    IntervalLog,
    /// `.hgrm` files: one histogram for the whole run (no per-second spread).
    Hgrm,
    /// Neither: only the summary's percentiles.
    SummaryOnly,
}

/// Per series tag (and `all`), per metric: histograms in time order.
pub type SeriesHists = BTreeMap<String, BTreeMap<String, Vec<Sparse>>>;

#[derive(Debug, Clone)]
pub struct PhaseData {
    pub summary: PhaseIn,
    pub source: HistSource,
    pub hists: SeriesHists,
    /// Per second: `(probes finished, seconds)` per series tag (and `all`), from the
    /// latency histograms' counts; empty without an interval log.
    pub seconds: BTreeMap<String, Vec<(u64, f64)>>,
}

#[derive(Debug, Clone)]
pub struct RunData {
    pub dir: PathBuf,
    pub summary: SummaryIn,
    pub phases: Vec<PhaseData>,
}

impl RunData {
    pub fn label(&self) -> String {
        if self.summary.run_id.is_empty() { self.dir.display().to_string() } else { self.summary.run_id.clone() }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|source| LoadError::Read { path: path.to_path_buf(), source })
}

/// Load a run directory.
pub fn load(dir: &Path) -> Result<RunData, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::Missing(dir.to_path_buf()));
    }
    let path = dir.join("summary.json");
    if !path.is_file() {
        return Err(LoadError::NoSummary(dir.to_path_buf()));
    }
    let bytes = read(&path)?;
    // Check the schema first, so a v2 file says so rather than failing on a field.
    let schema = serde_json::from_slice::<serde_json::Value>(&bytes)
        .map_err(|source| LoadError::BadSummary { path: path.clone(), source })?
        .get("schema")
        .and_then(|s| s.as_str().map(str::to_string))
        .unwrap_or_default();
    if schema != SUMMARY_SCHEMA {
        return Err(LoadError::Schema { path, found: schema });
    }
    let summary: SummaryIn =
        serde_json::from_slice(&bytes).map_err(|source| LoadError::BadSummary { path: path.clone(), source })?;
    let multi = summary.phases.len() > 1;
    let mut phases = Vec::with_capacity(summary.phases.len());
    for p in &summary.phases {
        let prefix = if multi { format!("{}.", p.name) } else { String::new() };
        phases.push(load_phase(dir, &prefix, p)?);
    }
    Ok(RunData { dir: dir.to_path_buf(), summary, phases })
}

fn load_phase(dir: &Path, prefix: &str, p: &PhaseIn) -> Result<PhaseData, LoadError> {
    let tags: Vec<String> = p.series.iter().map(SeriesIn::tag).collect();
    let hlog = dir.join(format!("{prefix}intervals.hlog"));
    let (source, mut hists, seconds) = if hlog.is_file() {
        let per_second = read_interval_log(&hlog)?;
        let (hists, seconds) = by_series(&per_second, window_seconds(p.duration_s));
        (HistSource::IntervalLog, hists, seconds)
    } else {
        let mut hists = SeriesHists::new();
        for tag in &tags {
            for m in HIST_METRICS {
                let f = dir.join(format!("{prefix}{tag}.{m}.hgrm"));
                if f.is_file() {
                    hists.entry(tag.clone()).or_default().insert(m.to_string(), vec![read_hgrm(&f)?]);
                }
            }
        }
        let source = if hists.is_empty() { HistSource::SummaryOnly } else { HistSource::Hgrm };
        (source, hists, BTreeMap::new())
    };
    add_total(&mut hists);
    Ok(PhaseData { summary: p.clone(), source, hists, seconds })
}

/// The `all` series: every series' histograms merged, position by position (seconds).
fn add_total(hists: &mut SeriesHists) {
    let mut total: BTreeMap<String, Vec<Sparse>> = BTreeMap::new();
    for metrics in hists.values() {
        for (m, blocks) in metrics {
            let t = total.entry(m.clone()).or_default();
            if t.len() < blocks.len() {
                t.resize(blocks.len(), Sparse::default());
            }
            for (i, b) in blocks.iter().enumerate() {
                t[i].merge(b);
            }
        }
    }
    if !total.is_empty() {
        hists.insert("all".into(), total);
    }
}

/// (tag, interval start second) → histogram, from an interval log.
type PerSecond = BTreeMap<(String, u64), Sparse>;

/// Decode every interval of a `.hlog` with the hdrhistogram crate's own reader.
pub fn read_interval_log(path: &Path) -> Result<PerSecond, LoadError> {
    let bytes = read(path)?;
    let mut out = PerSecond::new();
    for line in crate::report::hlog::read_intervals(&bytes) {
        let line = line.map_err(|(line, what)| LoadError::BadHistogram { path: path.to_path_buf(), line, what })?;
        let Some(tag) = line.tag else {
            continue;
        };
        // Interval starts are whole seconds from the measured window's start.
        let second = line.start_s.round() as u64;
        out.entry((tag, second)).or_default().merge(&Sparse::of(&line.histogram));
    }
    Ok(out)
}

/// Whole seconds in a measured window (at least one).
fn window_seconds(duration_s: f64) -> Option<usize> {
    (duration_s.is_finite() && duration_s >= 1.0).then(|| duration_s.round() as usize)
}

/// Split `series.metric` tags and lay each series' seconds out in order (missing seconds
/// are empty histograms, so positions line up across series for the total). Intervals past
/// the window's last second — the few probes that finish after it — join that last second:
/// as blocks of their own they would count as a whole second of a handful of probes.
fn by_series(per_second: &PerSecond, window: Option<usize>) -> (SeriesHists, BTreeMap<String, Vec<(u64, f64)>>) {
    let last = per_second.keys().map(|(_, s)| *s).max();
    let mut hists = SeriesHists::new();
    let Some(last) = last else {
        return (hists, BTreeMap::new());
    };
    let seen = usize::try_from(last + 1).unwrap_or(usize::MAX).min(1 << 20);
    let n = window.map_or(seen, |w| w.clamp(1, seen));
    for ((tag, second), h) in per_second {
        let Some((series, metric)) = tag.rsplit_once('.') else {
            continue;
        };
        let v = hists
            .entry(series.to_string())
            .or_default()
            .entry(metric.to_string())
            .or_insert_with(|| vec![Sparse::default(); n]);
        let at = usize::try_from(*second).unwrap_or(usize::MAX).min(n - 1);
        if let Some(slot) = v.get_mut(at) {
            slot.merge(h);
        }
    }
    // Probes finished per second: the latency histogram counts every finished probe.
    let mut seconds: BTreeMap<String, Vec<(u64, f64)>> = BTreeMap::new();
    let mut all = vec![(0u64, 1.0f64); n];
    for (series, metrics) in &hists {
        if let Some(lat) = metrics.get("latency") {
            let per: Vec<(u64, f64)> = lat.iter().map(|s| (s.total(), 1.0)).collect();
            for (i, &(k, _)) in per.iter().enumerate() {
                all[i].0 += k;
            }
            seconds.insert(series.clone(), per);
        }
    }
    if !seconds.is_empty() {
        seconds.insert("all".into(), all);
    }
    // Only the compared metrics are kept.
    for metrics in hists.values_mut() {
        metrics.retain(|m, _| HIST_METRICS.contains(&m.as_str()));
    }
    (hists, seconds)
}

/// A whole-run histogram from a `.hgrm` percentile distribution: each line's value (µs,
/// printed to the nanosecond) gets the count added since the line before. The values are
/// the distribution's tick points, so percentiles read back to within a tick.
pub fn read_hgrm(path: &Path) -> Result<Sparse, LoadError> {
    let bytes = read(path)?;
    let bad = |line: usize, what: String| LoadError::BadHistogram { path: path.to_path_buf(), line, what };
    let hgrm =
        crate::report::hgrm_parse::parse(&String::from_utf8_lossy(&bytes)).map_err(|e| bad(e.line, e.message))?;
    let mut pairs = Vec::with_capacity(hgrm.rows.len());
    let mut before = 0u64;
    for (row, &line) in hgrm.rows.iter().zip(&hgrm.row_lines) {
        if row.total_count < before {
            return Err(bad(line, "total count goes down".into()));
        }
        pairs.push(((row.value * 1e3).round() as u64, row.total_count - before));
        before = row.total_count;
    }
    Ok(Sparse::from_pairs(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::hist::{Metric, new_histogram};
    use crate::measure::recorder::IntervalSet;
    use crate::report::hgrm;
    use crate::report::hlog::HlogBuffer;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pb-compare-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn an_interval_log_reads_back_per_series_and_second() {
        let mut log = HlogBuffer::new(Vec::new(), 1_700_000_000.0, &["http.liveness".into(), "noop.readiness".into()]);
        for i in 0..3u64 {
            let mut s = IntervalSet::new(2);
            s.index = i;
            for v in 0..(10 * (i + 1)) {
                s.series[0].record(Metric::DispatchLag, 1_000 + v);
                s.series[0].record(Metric::Latency, 200_000);
            }
            s.series[1].record(Metric::Latency, 5_000);
            log.write_interval(&s, i as f64, 1.0);
        }
        let d = temp_dir("hlog");
        std::fs::write(d.join("intervals.hlog"), log.finish()).unwrap();
        let per = read_interval_log(&d.join("intervals.hlog")).unwrap();
        let (hists, seconds) = by_series(&per, Some(3));
        let lag = &hists["http.liveness"]["dispatch_lag"];
        assert_eq!(lag.iter().map(Sparse::total).collect::<Vec<_>>(), vec![10, 20, 30]);
        assert_eq!(seconds["http.liveness"].iter().map(|x| x.0).collect::<Vec<_>>(), vec![10, 20, 30]);
        assert_eq!(seconds["all"].iter().map(|x| x.0).collect::<Vec<_>>(), vec![11, 21, 31]);
        assert!(!hists["noop.readiness"].contains_key("dispatch_lag"));
        let mut h = hists.clone();
        add_total(&mut h);
        assert_eq!(h["all"]["latency"].iter().map(Sparse::total).collect::<Vec<_>>(), vec![11, 21, 31]);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn intervals_past_the_window_join_its_last_second() {
        let mut per = PerSecond::new();
        for (second, n) in [(0u64, 100u64), (1, 100), (2, 3)] {
            let mut h = new_histogram();
            for v in 0..n {
                h.record(1000 + v).unwrap();
            }
            per.insert(("noop.liveness.latency".into(), second), Sparse::of(&h));
        }
        let (_, seconds) = by_series(&per, Some(2));
        assert_eq!(seconds["noop.liveness"], vec![(100, 1.0), (103, 1.0)]);
        let (_, seconds) = by_series(&per, None);
        assert_eq!(seconds["noop.liveness"].len(), 3);
    }

    #[test]
    fn an_hgrm_reads_back_to_its_percentiles() {
        let mut h = new_histogram();
        for v in 1..=10_000u64 {
            h.record(v * v).unwrap();
        }
        let d = temp_dir("hgrm");
        let f = d.join("x.hgrm");
        std::fs::write(&f, hgrm::render(&h, 1000.0)).unwrap();
        let s = read_hgrm(&f).unwrap();
        assert_eq!(s.total(), h.len());
        assert_eq!(s.max(), h.max());
        for q in [0.5, 0.9, 0.99, 0.999] {
            // The .hgrm's ticks are finer than these quantiles: read back within 0.2 %.
            let (a, b) = (s.quantile(q) as f64, h.value_at_quantile(q) as f64);
            assert!((a - b).abs() / b < 0.002, "q {q}: {a} vs {b}");
        }
        std::fs::write(&f, "garbage line here\n").unwrap();
        assert!(matches!(read_hgrm(&f), Err(LoadError::BadHistogram { line: 1, .. })));
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn bad_directories_say_what_is_wrong() {
        let d = temp_dir("bad");
        assert!(matches!(load(&d.join("nope")), Err(LoadError::Missing(_))));
        assert!(matches!(load(&d), Err(LoadError::NoSummary(_))));
        std::fs::write(d.join("summary.json"), "{not json").unwrap();
        assert!(matches!(load(&d), Err(LoadError::BadSummary { .. })));
        std::fs::write(d.join("summary.json"), r#"{"schema":"probebench.summary/v9","phases":[]}"#).unwrap();
        let e = load(&d).unwrap_err();
        assert!(e.to_string().contains("probebench.summary/v9"), "{e}");
        std::fs::remove_dir_all(d).unwrap();
    }
}
