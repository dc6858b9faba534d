//! `probebench run`'s text summary on stdout: one table per phase, a row per mechanism and
//! probe type, and the prober's overhead beside the noop calibration floor.

use std::fmt::Write as _;

use super::summary::{PhaseSummary, SeriesSummary, Summary};
use super::table::Table;

/// A duration in microseconds, printed with a unit that keeps 2–3 significant digits.
pub fn fmt_us(us: f64) -> String {
    if us <= 0.0 {
        "0".into()
    } else if us < 10.0 {
        format!("{us:.1}µs")
    } else if us < 1_000.0 {
        format!("{us:.0}µs")
    } else if us < 10_000.0 {
        format!("{:.2}ms", us / 1e3)
    } else if us < 1_000_000.0 {
        format!("{:.0}ms", us / 1e3)
    } else {
        format!("{:.2}s", us / 1e6)
    }
}

fn fmt_bytes(b: f64) -> String {
    if b < 10_000.0 {
        format!("{b:.0}")
    } else if b < 10_000_000.0 {
        format!("{:.0}k", b / 1e3)
    } else {
        format!("{:.0}M", b / 1e6)
    }
}

fn row(s: &SeriesSummary, cpu: Option<f64>, bytes: Option<f64>) -> Vec<String> {
    let c = &s.counters;
    let mech = if s.mechanism == s.declared || s.mechanism == "all" {
        s.mechanism.clone()
    } else {
        format!("{} (as {})", s.declared, s.mechanism)
    };
    vec![
        mech,
        s.probe_type.clone(),
        c.probes.to_string(),
        if c.warning > 0 { format!("{} ({})", c.success, c.warning) } else { c.success.to_string() },
        c.failure.to_string(),
        c.errored.to_string(),
        format!("{:.0}", s.rate_per_s),
        fmt_us(s.dispatch_lag.p50_us),
        fmt_us(s.dispatch_lag.p99_us),
        fmt_us(s.dispatch_lag.p99_9_us),
        fmt_us(s.dispatch_lag.max_us),
        fmt_us(s.latency.p50_us),
        fmt_us(s.latency.p99_us),
        fmt_us(s.latency.max_us),
        cpu.map_or("-".into(), |v| format!("{v:.2}")),
        bytes.map_or("-".into(), fmt_bytes),
        c.missed_ticks.to_string(),
        c.overruns.to_string(),
    ]
}

pub fn render_phase(p: &PhaseSummary, multi: bool) -> String {
    let mut out = String::new();
    if multi {
        let _ = writeln!(out, "phase {}:", p.name);
    }
    let mut t = Table::new(&[
        "MECHANISM",
        "TYPE",
        "PROBES",
        "SUCCESS (WARN)",
        "FAILURE",
        "ERRORED",
        "RATE/S",
        "LAG P50",
        "P99",
        "P99.9",
        "MAX",
        "LATENCY P50",
        "P99",
        "MAX",
        "CPU µs/PROBE",
        "BYTES/WORKER",
        "MISSED",
        "OVERRUNS",
    ])
    .right_align(&[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    let o = &p.overhead;
    let single = p.series.len() == 1;
    for s in &p.series {
        // CPU and memory are the process's, so a row gets them only when it is the only one.
        let (cpu, bytes) =
            if single { (Some(o.cpu_us_per_probe_with_children), Some(o.rss_bytes_per_worker)) } else { (None, None) };
        t.row(row(s, cpu, bytes));
    }
    if !single {
        t.row(row(&p.total, Some(o.cpu_us_per_probe_with_children), Some(o.rss_bytes_per_worker)));
    }
    out.push_str(&t.render());
    let kinds: Vec<String> = o
        .cpu_us_per_probe_by_thread_kind
        .iter()
        .filter(|(_, v)| **v > 0.0)
        .map(|(k, v)| format!("{k} {v:.2}"))
        .collect();
    let _ = writeln!(
        out,
        "prober: {} workers, {:.0} probes/s scheduled; CPU {:.2} µs/probe ({:.2} with children; {:.2} cores; per thread kind µs/probe: {}); RSS {} B/worker (state {} B/worker), peak {} MB; fds peak {}, TIME_WAIT {} at end, children peak {}",
        p.workers,
        p.scheduled_rate_per_s,
        o.cpu_us_per_probe,
        o.cpu_us_per_probe_with_children,
        o.cpu_cores,
        if kinds.is_empty() { "-".into() } else { kinds.join(", ") },
        fmt_bytes(o.rss_bytes_per_worker),
        fmt_bytes(o.state_bytes_per_worker),
        o.peak_rss_bytes / 1_000_000,
        o.peaks.fds,
        o.time_wait_end,
        o.peaks.children,
    );
    if let Some(c) = &p.calibration {
        let _ = writeln!(
            out,
            "noop floor (calibration {:.0}s, same workers): CPU {:.2} µs/probe, dispatch lag p50 {} p99 {}",
            c.duration_s,
            c.cpu_us_per_probe,
            fmt_us(c.dispatch_lag.p50_us),
            fmt_us(c.dispatch_lag.p99_us),
        );
    }
    if let Some(t) = o.targets_cpu_us_per_probe {
        let _ = writeln!(out, "targets (own process): CPU {t:.2} µs/probe");
    }
    let _ = writeln!(
        out,
        "machine noise: {:.2} cores used by other processes, {:.2} cores stolen",
        o.noise.other_busy_cores, o.noise.steal_cores
    );
    if !p.stand_ins.is_empty() {
        let _ = writeln!(
            out,
            "note: {} probes to pod addresses ran as noop stand-ins: this build cannot start the sample targets (`probebench targets serve`)",
            p.stand_ins.join(", ")
        );
    }
    out
}

/// The pods' lifecycle in a few lines (as `simulate` sums it up).
fn render_lifecycle(l: &crate::lifecycle::LifecycleSummary) -> String {
    let mut out = String::new();
    let pct = |p: &Option<crate::sim::report::Percentiles>| match p {
        Some(p) => format!("p50 {:.1}s  p90 {:.1}s  p99 {:.1}s  max {:.1}s", p.p50, p.p90, p.p99, p.max),
        None => "never".to_string(),
    };
    let _ = writeln!(out, "lifecycle: {}/{} pods ready at the end", l.ready_pods, l.pods);
    let _ = writeln!(out, "  time to Started       {}", pct(&l.time_to_started_s));
    let _ = writeln!(out, "  time to Ready         {}  (never Ready: {})", pct(&l.time_to_ready_s), l.never_ready);
    let _ = writeln!(out, "  time not Ready        {}", pct(&l.not_ready_s));
    let _ = writeln!(
        out,
        "  restarts              {} in total, {} pods restarted, at most {} per pod ({} liveness, {} startup kills)",
        l.restarts, l.pods_restarted, l.restarts_per_pod_max, l.liveness_kills, l.startup_kills
    );
    let _ = writeln!(
        out,
        "  probes                {} runs, {} failed, {} errored (never counted)",
        l.probe_runs, l.probe_failures, l.probes_errored
    );
    let _ = writeln!(out, "  events                {} emitted ({} not kept)", l.events_emitted, l.events_dropped);
    out
}

pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    let multi = s.phases.len() > 1;
    for p in &s.phases {
        out.push_str(&render_phase(p, multi));
        if let Some(l) = &p.lifecycle {
            out.push_str(&render_lifecycle(l));
        }
        if multi {
            out.push('\n');
        }
    }
    for n in &s.notes {
        let _ = writeln!(out, "note: {n}");
    }
    if let Some(d) = &s.results_dir {
        let _ = writeln!(out, "results: {d}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_their_unit() {
        assert_eq!(fmt_us(0.0), "0");
        assert_eq!(fmt_us(3.25), "3.2µs");
        assert_eq!(fmt_us(125.0), "125µs");
        assert_eq!(fmt_us(2_100.0), "2.10ms");
        assert_eq!(fmt_us(58_000.0), "58ms");
        assert_eq!(fmt_us(3_500_000.0), "3.50s");
    }
}
