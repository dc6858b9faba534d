//! `summary.json` as the report reads it back. The writing side (`report::summary`) borrows
//! the engine's types and only serializes; this side only deserializes, and every field has a
//! default, so a summary from another v1 build (fields added, or not yet there) still renders.

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RunSummary {
    pub schema: String,
    pub run_id: String,
    pub scenario: String,
    pub started_at: String,
    pub scheduler: String,
    pub timer: String,
    pub shards: u64,
    pub seed: u64,
    pub phases: Vec<Phase>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Phase {
    pub name: String,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub pods: u64,
    pub workers: u64,
    pub scheduled_rate_per_s: f64,
    pub series: Vec<Series>,
    pub total: Option<Series>,
    pub overhead: Overhead,
    pub calibration: Option<Calibration>,
    pub intervals: Vec<Interval>,
    pub events_dropped: u64,
    pub intervals_dropped: u64,
    pub stand_ins: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Series {
    pub mechanism: String,
    pub declared: String,
    pub probe_type: String,
    pub workers: u64,
    pub rate_per_s: f64,
    pub counters: Counters,
    pub dispatch_lag: Percentiles,
    pub overrun_delay: Percentiles,
    pub start_lag: Percentiles,
    pub latency: Percentiles,
    pub corrected_latency: Percentiles,
}

impl Series {
    /// The series' name in file names and `.hlog` tags: `http.liveness`, or
    /// `http-as-noop.liveness` for a stand-in.
    pub fn tag(&self) -> String {
        crate::report::summary::series_tag(&self.mechanism, &self.declared, &self.probe_type)
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct Counters {
    pub dispatched: u64,
    pub probes: u64,
    pub success: u64,
    pub warning: u64,
    pub failure: u64,
    pub errored: u64,
    pub skipped: u64,
    pub missed_ticks: u64,
    pub overruns: u64,
    pub unfinished: u64,
}

/// Microseconds, from merged HDR histograms.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct Percentiles {
    pub count: u64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p99_9_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Overhead {
    pub window_s: f64,
    pub cpu_us_per_probe: f64,
    pub cpu_us_per_probe_with_children: f64,
    pub cpu_cores: f64,
    pub children_cpu_s: f64,
    pub rss_bytes_per_worker: f64,
    pub state_bytes_per_worker: f64,
    pub peak_rss_bytes: u64,
    pub targets_cpu_us_per_probe: Option<f64>,
    pub noise: Noise,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct Noise {
    pub steal_cores: f64,
    pub other_busy_cores: f64,
    pub machine_busy_cores: f64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Calibration {
    pub duration_s: f64,
    pub probes: u64,
    pub cpu_us_per_probe: f64,
    pub dispatch_lag: Percentiles,
}

/// One second of the measured window.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct Interval {
    pub t_s: f64,
    pub probes: u64,
    pub lag_p99_us: f64,
    pub lag_max_us: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_sparse_summary_and_names_stand_ins_like_the_writer() {
        let s: RunSummary = serde_json::from_str(
            r#"{"schema":"probebench.summary/v1","phases":[{"name":"main","calibration":null,
            "intervals":[{"t_s":0,"probes":7}],
            "series":[{"mechanism":"noop","declared":"http","probe_type":"liveness"},
                      {"mechanism":"tcp","declared":"tcp","probe_type":"readiness"}]}],
            "a_field_from_the_future":1}"#,
        )
        .unwrap();
        let p = &s.phases[0];
        assert!(p.calibration.is_none());
        assert_eq!(p.intervals[0].probes, 7);
        assert_eq!(p.series[0].tag(), "http-as-noop.liveness");
        assert_eq!(p.series[1].tag(), "tcp.readiness");
    }
}
