//! What one probe costs the prober, by mechanism, to price a setting as CPU per node.
//!
//! Preferably the figures this machine measured: the newest `probebench run
//! scenarios/mechanisms.yaml` under `results/baseline/` (each of its phases runs one
//! mechanism alone at 1,000 probes/s; the phase's CPU per probe, exec children included,
//! is that mechanism's price). Without one, a built-in table of round-trip costs from the
//! `probe_mechanisms` bench (docs/tune.md), which leaves out the scheduler and the I/O
//! thread's wake-ups and so prices probes lower.

use std::path::{Path, PathBuf};

/// CPU per probe by mechanism, microseconds, and where the figures came from.
#[derive(Debug, Clone, PartialEq)]
pub struct MechanismCosts {
    pub exec_us: f64,
    pub http_us: f64,
    pub grpc_us: f64,
    pub tcp_us: f64,
    /// `built-in table` or the summary.json the figures were read from.
    pub source: String,
}

impl MechanismCosts {
    pub fn built_in() -> Self {
        MechanismCosts {
            exec_us: 700.0,
            http_us: 70.0,
            grpc_us: 150.0,
            tcp_us: 30.0,
            source: "built-in table (docs/tune.md)".into(),
        }
    }

    pub fn cost_us(&self, mechanism: &str) -> f64 {
        match mechanism {
            "exec" => self.exec_us,
            "http" => self.http_us,
            "grpc" => self.grpc_us,
            "tcp" => self.tcp_us,
            // A mechanism the tuner cannot price: the cheapest known, rather than nothing.
            _ => self.tcp_us,
        }
    }

    /// The newest mechanisms run under `baseline` (a `results/baseline` directory), or
    /// `None` when there is none or it lacks a mechanism (then the built-in table is used
    /// whole, rather than mixing sources).
    pub fn from_baseline(baseline: &Path) -> Option<Self> {
        let summary = newest_mechanisms_summary(baseline)?;
        let text = std::fs::read_to_string(&summary).ok()?;
        Self::from_summary(&text, &summary.display().to_string())
    }

    /// From a mechanisms run's summary.json: each phase named after a mechanism gives that
    /// mechanism's CPU per probe (children included: exec's command is the probe's cost).
    pub fn from_summary(json: &str, source: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        let phase_cost = |name: &str| {
            v["phases"].as_array()?.iter().find(|p| p["name"] == name).and_then(|p| {
                p["overhead"]["cpu_us_per_probe_with_children"].as_f64().filter(|c| c.is_finite() && *c > 0.0)
            })
        };
        Some(MechanismCosts {
            exec_us: phase_cost("exec")?,
            http_us: phase_cost("http")?,
            grpc_us: phase_cost("grpc")?,
            tcp_us: phase_cost("tcp")?,
            source: source.to_string(),
        })
    }
}

/// Run directories are named `<UTC start>-<scenario>`, so the newest `*-mechanisms` sorts last.
fn newest_mechanisms_summary(baseline: &Path) -> Option<PathBuf> {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(baseline)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with("-mechanisms")))
        .filter(|p| p.join("summary.json").is_file())
        .collect();
    runs.sort();
    runs.pop().map(|p| p.join("summary.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(phases: &[(&str, f64)]) -> String {
        let phases: Vec<_> = phases
            .iter()
            .map(|(n, c)| serde_json::json!({"name": n, "overhead": {"cpu_us_per_probe_with_children": c}}))
            .collect();
        serde_json::json!({"phases": phases}).to_string()
    }

    #[test]
    fn a_mechanisms_run_prices_each_mechanism_by_its_own_phase() {
        let s = summary(&[("exec", 830.0), ("tcp", 157.3), ("http", 206.0), ("grpc", 333.1), ("exec-grpc", 2973.5)]);
        let c = MechanismCosts::from_summary(&s, "x/summary.json").unwrap();
        assert_eq!((c.exec_us, c.tcp_us, c.http_us, c.grpc_us), (830.0, 157.3, 206.0, 333.1));
        assert_eq!(c.cost_us("http"), 206.0);
        assert_eq!(c.source, "x/summary.json");
    }

    #[test]
    fn a_run_missing_a_mechanism_is_not_used() {
        assert_eq!(MechanismCosts::from_summary(&summary(&[("exec", 830.0), ("tcp", 157.3)]), "x"), None);
        assert_eq!(MechanismCosts::from_summary("not json", "x"), None);
    }

    #[test]
    fn the_newest_baseline_run_is_found() {
        let dir = std::env::temp_dir().join(format!("pb-tune-costs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (run, http) in [("20261101T000000Z-mechanisms", 100.0), ("20261201T000000Z-mechanisms", 200.0)] {
            std::fs::create_dir_all(dir.join(run)).unwrap();
            let s = summary(&[("exec", 1.0), ("tcp", 2.0), ("http", http), ("grpc", 3.0)]);
            std::fs::write(dir.join(run).join("summary.json"), s).unwrap();
        }
        std::fs::create_dir_all(dir.join("20261231T000000Z-default")).unwrap();
        let c = MechanismCosts::from_baseline(&dir).unwrap();
        assert_eq!(c.http_us, 200.0);
        assert!(c.source.contains("20261201T000000Z-mechanisms"));
        assert_eq!(MechanismCosts::from_baseline(&dir.join("absent")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
