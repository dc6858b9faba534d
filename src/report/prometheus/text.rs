//! The Prometheus text exposition format 0.0.4: `# HELP`, `# TYPE`, one line per sample,
//! label values escaped (`\\`, `\"`, `\n`), histograms as cumulative `_bucket{le}` lines
//! plus `_sum` and `_count`. Families and series come in a fixed order (registration
//! order), so two renders of the same state are identical.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::histogram::Snapshot;
use super::registry::{Registry, lock, read};

/// The Content-Type of this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `\` → `\\`, `"` → `\"`, newline → `\n` (label values).
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A float as Prometheus reads it (`+Inf`, `-Inf`, `NaN`; Rust's shortest round-trip
/// decimal otherwise, which never uses an exponent).
pub fn float(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_label(v))).collect();
    format!("{{{}}}", inner.join(","))
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, pairs: &[(&str, &str)], s: &Snapshot) {
    for &(bound, count) in &s.buckets {
        let le = float(bound);
        let mut with_le = pairs.to_vec();
        with_le.push(("le", &le));
        let _ = writeln!(out, "{name}_bucket{} {count}", labels(&with_le));
    }
    let _ = writeln!(out, "{name}_sum{} {}", labels(pairs), float(s.sum_seconds));
    let _ = writeln!(out, "{name}_count{} {}", labels(pairs), s.count);
}

/// Render every family.
pub fn render(r: &Registry) -> String {
    let mut out = String::new();
    {
        let probes = read(&r.probes);
        // Kubelet families: series appear once they have a value, as client_golang's
        // `With(labels)` creates them on first use.
        header(
            &mut out,
            "prober_probe_total",
            "counter",
            "Cumulative number of a liveness, readiness or startup probe for a container by result.",
        );
        for p in probes.iter() {
            let l = &p.labels;
            for (result, n) in [("successful", &p.successful), ("failed", &p.failed), ("unknown", &p.unknown)] {
                let n = n.load(Ordering::Relaxed);
                if n == 0 {
                    continue;
                }
                let pairs = [
                    ("probe_type", l.probe_type.event_word()),
                    ("result", result),
                    ("container", &l.container),
                    ("pod", &l.pod),
                    ("namespace", &l.namespace),
                    ("pod_uid", &l.pod_uid),
                ];
                let _ = writeln!(out, "prober_probe_total{} {n}", labels(&pairs));
            }
        }
        header(&mut out, "prober_probe_duration_seconds", "histogram", "Duration in seconds for a probe response.");
        for p in probes.iter() {
            let s = p.duration.snapshot();
            if s.count == 0 {
                continue;
            }
            let l = &p.labels;
            let pairs = [
                ("probe_type", l.probe_type.event_word()),
                ("container", l.container.as_str()),
                ("pod", l.pod.as_str()),
                ("namespace", l.namespace.as_str()),
            ];
            histogram(&mut out, "prober_probe_duration_seconds", &pairs, &s);
        }
        header(
            &mut out,
            "probebench_probe_errored_total",
            "counter",
            "Probes whose prober returned an error; the kubelet discards these, so they are not in prober_probe_total.",
        );
        for p in probes.iter() {
            let n = p.errored.load(Ordering::Relaxed);
            if n == 0 {
                continue;
            }
            let l = &p.labels;
            let pairs = [
                ("probe_type", l.probe_type.event_word()),
                ("container", l.container.as_str()),
                ("pod", l.pod.as_str()),
                ("namespace", l.namespace.as_str()),
                ("pod_uid", l.pod_uid.as_str()),
            ];
            let _ = writeln!(out, "probebench_probe_errored_total{} {n}", labels(&pairs));
        }
    }
    {
        let series = read(&r.series);
        header(
            &mut out,
            "probebench_probes_total",
            "counter",
            "Finished probes by mechanism, probe type and result (success excludes warnings).",
        );
        for s in series.iter() {
            for (result, n) in ["success", "warning", "failure", "errored"].into_iter().zip(s.results.iter()) {
                let pairs =
                    [("mechanism", s.mechanism.as_str()), ("probe_type", s.probe_type.as_str()), ("result", result)];
                let _ = writeln!(out, "probebench_probes_total{} {}", labels(&pairs), n.load(Ordering::Relaxed));
            }
        }
        header(
            &mut out,
            "probebench_dispatch_lag_seconds",
            "histogram",
            "Actual dispatch minus intended time of probes fired by their own tick.",
        );
        for s in series.iter() {
            let pairs = [("mechanism", s.mechanism.as_str()), ("probe_type", s.probe_type.as_str())];
            histogram(&mut out, "probebench_dispatch_lag_seconds", &pairs, &s.dispatch_lag.snapshot());
        }
        header(&mut out, "probebench_probe_latency_seconds", "histogram", "Probe finish minus start (service time).");
        for s in series.iter() {
            let pairs = [("mechanism", s.mechanism.as_str()), ("probe_type", s.probe_type.as_str())];
            histogram(&mut out, "probebench_probe_latency_seconds", &pairs, &s.latency.snapshot());
        }
    }
    header(
        &mut out,
        "probebench_probe_cpu_seconds_total",
        "counter",
        "Prober CPU time (user+sys) attributed to each mechanism.",
    );
    for (mechanism, secs) in lock(&r.cpu_seconds).iter() {
        let _ =
            writeln!(out, "probebench_probe_cpu_seconds_total{} {}", labels(&[("mechanism", mechanism)]), float(*secs));
    }
    header(&mut out, "probebench_probes_in_flight", "gauge", "Probes started and not yet finished.");
    let _ = writeln!(out, "probebench_probes_in_flight {}", r.in_flight.load(Ordering::Relaxed));
    header(&mut out, "probebench_run_info", "gauge", "The run: scenario, scheduler and the phase now running.");
    let info = lock(&r.info).clone();
    let pairs =
        [("scenario", info.scenario.as_str()), ("scheduler", info.scheduler.as_str()), ("phase", info.phase.as_str())];
    let _ = writeln!(out, "probebench_run_info{} 1", labels(&pairs));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_floats() {
        assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
        assert_eq!(float(f64::INFINITY), "+Inf");
        assert_eq!(float(0.005), "0.005");
        assert_eq!(float(0.00001), "0.00001");
        assert_eq!(float(10.0), "10");
        assert_eq!(labels(&[]), "");
        assert_eq!(labels(&[("a", "1"), ("b", "\"")]), r#"{a="1",b="\""}"#);
    }
}
