//! What a run leaves in its directory: the histograms, the interval log, events, watch
//! lines, metadata and the summary (docs/results-schema.md), each file written whole.

use std::path::Path;

use super::super::CommandError;
use crate::measure::hist::Metric;
use crate::probe::{Outcome, kubelet_event};
use crate::report::hgrm;
use crate::report::results_dir::write_whole;
use crate::report::summary::Summary;
use crate::scenario::Plan;
use crate::sched::engine::PhaseOutput;
use crate::sched::fleet::Fleet;
use crate::sched::shard::EventKind;

fn events_jsonl(phase: &str, fleet: &Fleet, out: &PhaseOutput) -> String {
    let mut s = String::new();
    for e in &out.events {
        let t = &fleet.templates[e.template as usize];
        let output = e.output.as_deref().unwrap_or("");
        // Probe events in the kubelet's words, from the one place that words them.
        let probe_event = |o: Outcome| kubelet_event(t.probe_type, &o).map(|p| (p.event_type, p.reason, p.message));
        let worded = match e.kind {
            EventKind::Failed => probe_event(Outcome::failure(output)),
            EventKind::Warning => probe_event(Outcome::warning(output)),
            EventKind::Errored => probe_event(Outcome::errored(output)),
            EventKind::Published(r) => Some((
                "Normal",
                "ProbeResultChanged",
                format!(
                    "{} result is now {}",
                    t.probe_type.event_word(),
                    serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
                ),
            )),
        };
        let Some((ty, reason, message)) = worded else {
            continue;
        };
        let pod = fleet.group_of(e.pod).map_or_else(|| e.pod.to_string(), |g| g.pod_name(e.pod));
        let line = serde_json::json!({
            "phase": phase,
            "t_s": e.t_ns.saturating_sub(out.window.start_ns) as f64 / 1e9,
            "pod": pod,
            "container": t.container.name,
            "probe_type": t.probe_type.as_str(),
            "mechanism": t.kind.as_str(),
            "type": ty,
            "reason": reason,
            "message": message,
        });
        s.push_str(&line.to_string());
        s.push('\n');
    }
    s
}

fn read_first_line(path: &str, prefix: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().and_then(|t| {
        t.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.split_once(':').map(|(_, v)| v.trim().to_string()))
    })
}

fn git_commit() -> String {
    std::env::var("PROBEBENCH_COMMIT").ok().unwrap_or_else(|| {
        std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into())
    })
}

/// The machine's description for metadata.json.
pub fn metadata(plan: &Plan, summary: &Summary) -> serde_json::Value {
    serde_json::json!({
        "schema": "probebench.metadata/v1",
        "run_id": summary.run_id,
        "started_at": summary.started_at,
        "command": std::env::args().collect::<Vec<_>>(),
        "probebench_version": env!("CARGO_PKG_VERSION"),
        "commit": git_commit(),
        "cpu_model": read_first_line("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into()),
        "cores": super::cores(),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default(),
        "clocksource": std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource").map(|s| s.trim().to_string()).unwrap_or_default(),
        "timer_backend": plan.timer.as_str(),
        "timer_slack_ns": plan.timer_slack_ns,
        "scheduler": plan.scheduler.as_str(),
        "allocator": "system (glibc malloc)",
        "limits": summary.limits,
        "noise": summary.phases.iter().map(|p| serde_json::json!({"phase": p.name, "noise": p.overhead.noise})).collect::<Vec<_>>(),
        "scenario": plan.resolved(),
    })
}

pub fn write_results(
    dir: &Path,
    plan: &Plan,
    summary: &Summary,
    outputs: &[(String, &Fleet, PhaseOutput)],
) -> Result<(), CommandError> {
    let multi = outputs.len() > 1;
    let mut events = String::new();
    let mut watch = String::new();
    for (name, fleet, o) in outputs {
        let prefix = if multi { format!("{name}.") } else { String::new() };
        if plan.outputs.hgrm {
            for (i, s) in o.series.iter().enumerate() {
                let tag = fleet.series.get(i).map_or_else(|| format!("series{i}"), |s| s.tag());
                for m in Metric::ALL {
                    let h = s.metrics.get(m);
                    if h.is_empty() {
                        continue;
                    }
                    write_whole(
                        dir,
                        &format!("{prefix}{tag}.{}.hgrm", m.as_str()),
                        hgrm::render(h, 1000.0).as_bytes(),
                    )?;
                }
            }
        }
        if plan.outputs.hlog {
            let name = format!("{prefix}intervals.hlog");
            match &o.collected.hlog_file {
                Some(streamed) => std::fs::rename(streamed, dir.join(&name))?,
                None => write_whole(dir, &name, &o.collected.hlog)?,
            }
        }
        if plan.outputs.events {
            match &o.lifecycle {
                // Lifecycle runs: every kubelet event, in the simulator's shape.
                Some(l) => {
                    for line in &l.events {
                        events.push_str(line);
                        events.push('\n');
                    }
                    for line in &l.watch {
                        watch.push_str(line);
                        watch.push('\n');
                    }
                }
                None => events.push_str(&events_jsonl(name, fleet, o)),
            }
        }
    }
    if plan.outputs.events {
        write_whole(dir, "events.jsonl", events.as_bytes())?;
        if !watch.is_empty() {
            write_whole(dir, "watch.jsonl", watch.as_bytes())?;
        }
    }
    write_whole(
        dir,
        "metadata.json",
        serde_json::to_string_pretty(&metadata(plan, summary)).map_err(std::io::Error::other)?.as_bytes(),
    )?;
    write_whole(dir, "summary.json", serde_json::to_string_pretty(summary).map_err(std::io::Error::other)?.as_bytes())?;
    Ok(())
}
