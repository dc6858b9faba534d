//! What `probebench simulate` prints: the `kubectl get pods --watch` lines, each pod's
//! `kubectl describe` Events table, and a summary — or the same as JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::engine::{SimPodOut, SimResult};
use crate::kubelet::config::SECOND;
use crate::kubelet::duration;
use crate::kubelet::events::StoredEvent;
use crate::report::table::Table;

/// Times in JSON: seconds with millisecond precision.
fn secs(t_ns: u64) -> f64 {
    (t_ns / 1_000_000) as f64 / 1000.0
}

/// One event as emitted (before the correlator), as a line of `events.jsonl`: the shape of
/// `simulate --output json`'s events, for a single occurrence. `run` with the lifecycle and
/// `simulate --events FILE` both write these, so their timelines compare line by line.
pub fn event_line(phase: Option<&str>, pod: &str, e: &crate::kubelet::events::Event) -> serde_json::Value {
    let t = secs(e.t_ns);
    let one = JsonEvent {
        t_s: t,
        pod: pod.to_string(),
        container: e.container.clone(),
        kind: e.kind.as_str(),
        reason: e.reason,
        from: e.from,
        message: e.message.clone(),
        count: 1,
        first_s: t,
        last_s: t,
    };
    let mut v = serde_json::to_value(one).unwrap_or_default();
    if let (Some(phase), Some(m)) = (phase, v.as_object_mut()) {
        m.insert("phase".into(), phase.into());
    }
    v
}

/// One `kubectl get pods --watch` line as a line of `watch.jsonl`.
pub fn watch_line(phase: Option<&str>, pod: &str, w: &super::engine::WatchLine) -> serde_json::Value {
    let mut v = serde_json::json!({
        "t_s": secs(w.t_ns),
        "pod": pod,
        "ready": w.ready,
        "status": w.status,
        "restarts": w.restarts,
    });
    if let (Some(phase), Some(m)) = (phase, v.as_object_mut()) {
        m.insert("phase".into(), phase.into());
    }
    v
}

#[derive(Serialize)]
pub struct JsonPod {
    pub name: String,
    pub namespace: String,
    pub phase: &'static str,
    pub ready: bool,
    pub restarts: u32,
    pub started_s: Option<f64>,
    pub ready_s: Option<f64>,
    pub not_ready_s: f64,
    pub deleted: bool,
    pub probes: ProbeCounts,
}

#[derive(Serialize)]
pub struct ProbeCounts {
    pub startup: u64,
    pub readiness: u64,
    pub liveness: u64,
    pub failed: u64,
    pub errored: u64,
    pub warnings: u64,
}

#[derive(Serialize)]
pub struct JsonWatch {
    pub t_s: f64,
    pub name: String,
    pub ready: String,
    pub status: String,
    pub restarts: String,
}

#[derive(Serialize)]
pub struct JsonEvent {
    pub t_s: f64,
    pub pod: String,
    pub container: Option<String>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub reason: &'static str,
    pub from: &'static str,
    pub message: String,
    pub count: u32,
    pub first_s: f64,
    pub last_s: f64,
}

#[derive(Serialize)]
pub struct JsonProbe {
    pub t_s: f64,
    pub pod: String,
    pub container: String,
    pub probe: &'static str,
    pub result: &'static str,
    pub errored: bool,
    pub counted: bool,
    pub latency_ms: f64,
}

#[derive(Serialize)]
pub struct JsonResult {
    pub duration_s: f64,
    pub pods: Vec<JsonPod>,
    pub watch: Vec<JsonWatch>,
    pub events: Vec<JsonEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes: Option<Vec<JsonProbe>>,
    pub summary: Summary,
}

/// The fleet's aggregates.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Summary {
    pub pods: usize,
    pub ready_pods: usize,
    pub restarts: u64,
    pub restarts_per_pod_max: u32,
    pub pods_restarted: usize,
    pub time_to_ready_s: Option<Percentiles>,
    pub time_to_started_s: Option<Percentiles>,
    pub never_ready: usize,
    pub probe_runs: u64,
    pub probes_per_s: f64,
    pub probe_failures: u64,
    pub probes_errored: u64,
    pub events_emitted: usize,
    pub events_dropped_by_spam_filter: u64,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

pub fn percentiles(mut v: Vec<u64>) -> Option<Percentiles> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let at = |q: f64| {
        let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
        secs(v[i])
    };
    Some(Percentiles { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: secs(v[v.len() - 1]) })
}

pub fn summary(r: &SimResult) -> Summary {
    let ready: Vec<u64> = r.pods.iter().filter_map(|p| p.stats.ready_ns).collect();
    let started: Vec<u64> = r.pods.iter().filter_map(|p| p.stats.started_ns).collect();
    Summary {
        pods: r.pods.len(),
        ready_pods: r.pods.iter().filter(|p| p.ready).count(),
        restarts: r.pods.iter().map(|p| u64::from(p.restarts)).sum(),
        restarts_per_pod_max: r.pods.iter().map(|p| p.restarts).max().unwrap_or(0),
        pods_restarted: r.pods.iter().filter(|p| p.restarts > 0).count(),
        never_ready: r.pods.len() - ready.len(),
        time_to_ready_s: percentiles(ready),
        time_to_started_s: percentiles(started),
        probe_runs: r.probe_runs,
        probes_per_s: if r.end_ns == 0 { 0.0 } else { r.probe_runs as f64 / (r.end_ns as f64 / SECOND as f64) },
        probe_failures: r.pods.iter().map(|p| p.stats.failures.iter().sum::<u64>()).sum(),
        probes_errored: r.pods.iter().map(|p| p.stats.errored.iter().sum::<u64>()).sum(),
        events_emitted: r.events.emitted.len(),
        events_dropped_by_spam_filter: r.events.dropped,
    }
}

fn pod_json(p: &SimPodOut) -> JsonPod {
    let s = &p.stats;
    JsonPod {
        name: p.name.clone(),
        namespace: p.namespace.clone(),
        phase: p.phase.as_str(),
        ready: p.ready,
        restarts: p.restarts,
        started_s: s.started_ns.map(secs),
        ready_s: s.ready_ns.map(secs),
        not_ready_s: secs(s.not_ready_ns),
        deleted: p.removed,
        probes: ProbeCounts {
            startup: s.probes[0],
            readiness: s.probes[1],
            liveness: s.probes[2],
            failed: s.failures.iter().sum(),
            errored: s.errored.iter().sum(),
            warnings: s.warnings.iter().sum(),
        },
    }
}

/// Stored events in `kubectl describe` order: events.k8s.io events (no lastTimestamp) first,
/// then by last time seen.
fn sorted_events(r: &SimResult) -> Vec<&StoredEvent> {
    let mut v: Vec<&StoredEvent> = r.events.stored.iter().collect();
    v.sort_by_key(|e| (!e.series, if e.series { 0 } else { e.last_ns }));
    v
}

pub fn json(r: &SimResult, with_probes: bool) -> JsonResult {
    let name = |p: u32| r.pods[p as usize].name.clone();
    JsonResult {
        duration_s: secs(r.end_ns),
        pods: r.pods.iter().map(pod_json).collect(),
        watch: r
            .watch
            .iter()
            .map(|w| JsonWatch {
                t_s: secs(w.t_ns),
                name: name(w.pod),
                ready: w.ready.clone(),
                status: w.status.clone(),
                restarts: w.restarts.clone(),
            })
            .collect(),
        events: sorted_events(r)
            .into_iter()
            .map(|e| JsonEvent {
                t_s: secs(e.last_ns),
                pod: name(e.pod),
                container: e.container.clone(),
                kind: e.kind.as_str(),
                reason: e.reason,
                from: e.from,
                message: e.message.clone(),
                count: e.count,
                first_s: secs(e.first_ns),
                last_s: secs(e.last_ns),
            })
            .collect(),
        probes: with_probes.then(|| {
            r.probes
                .iter()
                .map(|p| JsonProbe {
                    t_s: secs(p.t_ns),
                    pod: name(p.pod),
                    container: r.pods[p.pod as usize].containers.get(p.container as usize).cloned().unwrap_or_default(),
                    probe: p.probe.as_str(),
                    result: p.result.as_str(),
                    errored: p.errored,
                    counted: p.counted,
                    latency_ms: p.latency_ns as f64 / 1e6,
                })
                .collect()
        }),
        summary: summary(r),
    }
}

/// How many pods get their watch lines and event tables in text output; fleets are
/// summarised.
pub const DETAILED_PODS: usize = 10;

/// The watch lines as `kubectl get pods --watch` prints them (AGE frozen at each line).
pub fn watch_text(r: &SimResult, created_ns: &[u64]) -> String {
    let mut t = Table::new(&["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    for w in r.watch.iter().filter(|w| (w.pod as usize) < DETAILED_PODS) {
        let age = w.t_ns.saturating_sub(created_ns.get(w.pod as usize).copied().unwrap_or(0));
        t.row(vec![
            r.pods[w.pod as usize].name.clone(),
            w.ready.clone(),
            w.status.clone(),
            w.restarts.clone(),
            duration::human(age),
        ]);
    }
    t.render()
}

/// One pod's `kubectl describe` Events section.
pub fn events_text(r: &SimResult, pod: u32) -> String {
    let now = r.end_ns;
    let events: Vec<&StoredEvent> = sorted_events(r).into_iter().filter(|e| e.pod == pod).collect();
    let mut out = String::new();
    if events.is_empty() {
        out.push_str("Events:  <none>\n");
        return out;
    }
    let mut t = Table::new(&["Type", "Reason", "Age", "From", "Message"]);
    t.row(vec!["----".into(), "------".into(), "----".into(), "----".into(), "-------".into()]);
    for e in events {
        let first = duration::human(now.saturating_sub(e.first_ns));
        let age = if e.count > 1 {
            format!("{} (x{} over {first})", duration::human(now.saturating_sub(e.last_ns)), e.count)
        } else {
            first
        };
        t.row(vec![e.kind.as_str().into(), e.reason.into(), age, e.from.into(), e.message.trim().to_string()]);
    }
    out.push_str("Events:\n");
    for line in t.render().lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// The per-pod summary table.
pub fn pods_text(r: &SimResult) -> String {
    let mut t = Table::new(&[
        "POD",
        "PHASE",
        "READY",
        "RESTARTS",
        "STARTED",
        "READY AT",
        "NOT READY",
        "PROBES S/R/L",
        "FAILED",
        "ERRORED",
    ])
    .right_align(&[3, 4, 5, 6, 8, 9]);
    let at = |v: Option<u64>| v.map_or("-".to_string(), |t| format!("{:.1}s", t as f64 / SECOND as f64));
    for p in r.pods.iter().take(DETAILED_PODS) {
        let s = &p.stats;
        t.row(vec![
            p.name.clone(),
            if p.removed { "Deleted".to_string() } else { p.phase.as_str().to_string() },
            if p.ready { "yes" } else { "no" }.to_string(),
            p.restarts.to_string(),
            at(s.started_ns),
            at(s.ready_ns),
            format!("{:.1}s", s.not_ready_ns as f64 / SECOND as f64),
            format!("{}/{}/{}", s.probes[0], s.probes[1], s.probes[2]),
            s.failures.iter().sum::<u64>().to_string(),
            s.errored.iter().sum::<u64>().to_string(),
        ]);
    }
    t.render()
}

pub fn summary_text(s: &Summary, duration_ns: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Simulated {} of {} pods:", duration::go(duration_ns), s.pods);
    let _ = writeln!(out, "  ready at the end      {}/{}", s.ready_pods, s.pods);
    match &s.time_to_ready_s {
        Some(p) => {
            let _ = writeln!(
                out,
                "  time to Ready         p50 {:.1}s  p90 {:.1}s  p99 {:.1}s  max {:.1}s  (never Ready: {})",
                p.p50, p.p90, p.p99, p.max, s.never_ready
            );
        }
        None => {
            let _ = writeln!(out, "  time to Ready         never (no pod became Ready)");
        }
    }
    if let Some(p) = &s.time_to_started_s {
        let _ = writeln!(
            out,
            "  time to Started       p50 {:.1}s  p90 {:.1}s  p99 {:.1}s  max {:.1}s",
            p.p50, p.p90, p.p99, p.max
        );
    }
    let _ = writeln!(
        out,
        "  restarts              {} in total, {} pods restarted, at most {} per pod",
        s.restarts, s.pods_restarted, s.restarts_per_pod_max
    );
    let _ = writeln!(
        out,
        "  probes                {} runs ({:.2}/s of virtual time), {} failed, {} errored (never counted)",
        s.probe_runs, s.probes_per_s, s.probe_failures, s.probes_errored
    );
    let _ = writeln!(
        out,
        "  events                {} emitted, {} dropped by the event spam filter",
        s.events_emitted, s.events_dropped_by_spam_filter
    );
    out
}
