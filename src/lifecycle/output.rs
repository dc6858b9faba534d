//! What a live lifecycle leaves behind: the events and watch lines (streamed to `--watch`
//! as they happen, kept up to a cap for `events.jsonl` / `watch.jsonl`), and the pods'
//! figures for the summary and the thresholds.

use std::io::Write;

use serde::Serialize;

use crate::kubelet::duration;
use crate::kubelet::events::Event;
use crate::sim::report::{self, Percentiles};
use crate::sim::{SimResult, Simulation, WatchLine};
use crate::spec::ProbeType;
use crate::thresholds::{ContainerFacts, LifecycleFacts, PodFacts};

/// The lifecycle section of a phase in summary.json (schema in docs/results-schema.md).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LifecycleSummary {
    pub pods: usize,
    pub ready_pods: usize,
    pub never_ready: usize,
    pub restarts: u64,
    pub pods_restarted: usize,
    pub restarts_per_pod_max: u32,
    /// Kills for failed liveness / startup probes.
    pub liveness_kills: u64,
    pub startup_kills: u64,
    /// Seconds from the pod's creation to all containers started / to Ready, over pods.
    pub time_to_started_s: Option<Percentiles>,
    pub time_to_ready_s: Option<Percentiles>,
    /// Seconds each pod spent not Ready after first being Ready, over pods that were Ready.
    pub not_ready_s: Option<Percentiles>,
    pub probe_runs: u64,
    pub probe_failures: u64,
    pub probes_errored: u64,
    pub events_emitted: u64,
    /// Events not kept in events.jsonl beyond the cap (they were still handled).
    pub events_dropped: u64,
    pub watch_lines: u64,
    /// Calls to the targets' admin endpoint that failed (each is a warning in notes).
    pub admin_failures: u64,
}

/// Everything a live lifecycle phase produced besides the probe figures.
#[derive(Debug, Clone, Default)]
pub struct LifecycleOutput {
    pub summary: LifecycleSummary,
    /// events.jsonl and watch.jsonl lines (without trailing newline each).
    pub events: Vec<String>,
    pub watch: Vec<String>,
    pub facts: LifecycleFacts,
    /// The first few admin failures, for the notes.
    pub admin_errors: Vec<String>,
}

/// Collects output as the loop runs.
pub struct LiveLog {
    phase: String,
    max_lines: usize,
    watch_out: Option<Box<dyn Write + Send>>,
    header_printed: bool,
    name_width: usize,
    out: LifecycleOutput,
    new_watch: Vec<WatchLine>,
    new_events: Vec<Event>,
}

impl LiveLog {
    pub fn new(phase: &str, max_lines: usize, watch_out: Option<Box<dyn Write + Send>>) -> Self {
        LiveLog {
            phase: phase.to_string(),
            max_lines,
            watch_out,
            header_printed: false,
            name_width: 4,
            out: LifecycleOutput::default(),
            new_watch: Vec::new(),
            new_events: Vec::new(),
        }
    }

    /// Take the simulation's new watch lines and events; print the watch lines live.
    pub fn take(&mut self, sim: &mut Simulation, _start: u64) {
        sim.take_new_output(&mut self.new_watch, &mut self.new_events);
        let name = |sim: &Simulation, p: u32| sim.pod_instance(p).map_or_else(|| p.to_string(), |i| i.name.clone());
        for w in std::mem::take(&mut self.new_watch) {
            let pod = name(sim, w.pod);
            self.out.summary.watch_lines += 1;
            if let Some(out) = self.watch_out.as_mut() {
                if !self.header_printed {
                    self.name_width = sim.pod_names().map(|(_, n)| n.len()).max().unwrap_or(4).max(4) + 3;
                    let _ = writeln!(
                        out,
                        "{:<nw$}{:<8}{:<21}{:<11}AGE",
                        "NAME",
                        "READY",
                        "STATUS",
                        "RESTARTS",
                        nw = self.name_width
                    );
                    self.header_printed = true;
                }
                let age = duration::human(w.t_ns.saturating_sub(sim.pod_created_ns(w.pod)));
                let _ = writeln!(
                    out,
                    "{:<nw$}{:<8}{:<21}{:<11}{age}",
                    pod,
                    w.ready,
                    w.status,
                    w.restarts,
                    nw = self.name_width
                );
                let _ = out.flush();
            }
            if self.out.watch.len() < self.max_lines {
                self.out.watch.push(report::watch_line(Some(&self.phase), &pod, &w).to_string());
            }
        }
        for e in std::mem::take(&mut self.new_events) {
            self.out.summary.events_emitted += 1;
            if self.out.events.len() < self.max_lines {
                let pod = name(sim, e.pod);
                self.out.events.push(report::event_line(Some(&self.phase), &pod, &e).to_string());
            } else {
                self.out.summary.events_dropped += 1;
            }
        }
    }

    pub fn admin_failed(&mut self, why: String) {
        self.out.summary.admin_failures += 1;
        if self.out.admin_errors.len() < 5 {
            tracing::warn!("targets admin: {why}");
            self.out.admin_errors.push(why);
        }
    }

    /// The pods' figures at the end.
    pub fn finish(mut self, r: &SimResult) -> LifecycleOutput {
        let s = report::summary(r);
        let summary = &mut self.out.summary;
        summary.pods = s.pods;
        summary.ready_pods = s.ready_pods;
        summary.never_ready = s.never_ready;
        summary.restarts = s.restarts;
        summary.pods_restarted = s.pods_restarted;
        summary.restarts_per_pod_max = s.restarts_per_pod_max;
        summary.time_to_started_s = started_percentiles(r);
        summary.time_to_ready_s = ready_percentiles(r);
        summary.not_ready_s = report::percentiles(
            r.pods.iter().filter(|p| p.stats.ready_ns.is_some()).map(|p| p.stats.not_ready_ns).collect(),
        );
        summary.probe_runs = s.probe_runs;
        summary.probe_failures = s.probe_failures;
        summary.probes_errored = s.probes_errored;
        for p in &r.pods {
            for k in &p.stats.kills {
                match k.probe {
                    ProbeType::Liveness => summary.liveness_kills += 1,
                    ProbeType::Startup => summary.startup_kills += 1,
                    ProbeType::Readiness => {}
                }
            }
        }
        self.out.facts = facts(&self.phase, r);
        self.out
    }
}

fn since_created(p: &crate::sim::engine::SimPodOut, t: Option<u64>) -> Option<u64> {
    t.map(|t| t.saturating_sub(p.created_ns))
}

fn started_percentiles(r: &SimResult) -> Option<Percentiles> {
    report::percentiles(r.pods.iter().filter_map(|p| since_created(p, p.stats.started_ns)).collect())
}

fn ready_percentiles(r: &SimResult) -> Option<Percentiles> {
    report::percentiles(r.pods.iter().filter_map(|p| since_created(p, p.stats.ready_ns)).collect())
}

/// Per-pod facts for thresholds (`restarts{pod=web-*} <= 1`, `time_to_ready.p99 < 30s`).
fn facts(phase: &str, r: &SimResult) -> LifecycleFacts {
    let secs = |ns: u64| ns as f64 / 1e9;
    LifecycleFacts {
        pods: r
            .pods
            .iter()
            .map(|p| PodFacts {
                phase: phase.to_string(),
                name: p.name.clone(),
                ready_s: since_created(p, p.stats.ready_ns).map(secs),
                not_ready_s: secs(p.stats.not_ready_ns),
                containers: p
                    .containers
                    .iter()
                    .enumerate()
                    .map(|(i, name)| ContainerFacts {
                        name: name.clone(),
                        restarts: u64::from(p.container_restarts.get(i).copied().unwrap_or(0)),
                        kills: p.stats.kills.iter().filter(|k| usize::from(k.container) == i).count() as u64,
                        // The simulator tracks when all of the pod's containers had started.
                        started_s: since_created(p, p.stats.started_ns).map(secs),
                    })
                    .collect(),
            })
            .collect(),
    }
}
