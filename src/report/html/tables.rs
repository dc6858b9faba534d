//! The report's HTML tables: per-series results, the prober's overhead per phase, events by
//! reason, and the run's metadata.

use std::fmt::Write as _;

use super::escape::html;
use super::events::EventSummary;
use super::load::RunData;
use super::summary_model::{Percentiles, Series};
use super::units;
use crate::report::run_table::fmt_us;

fn bytes(b: f64) -> String {
    if b < 10_000.0 {
        format!("{b:.0} B")
    } else if b < 10_000_000.0 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{:.0} MB", b / 1e6)
    }
}

fn pct_cells(p: &Percentiles) -> String {
    if p.count == 0 {
        return "<td>-</td><td>-</td><td>-</td><td>-</td>".into();
    }
    [p.p50_us, p.p99_us, p.p99_9_us, p.max_us].iter().map(|&v| format!("<td>{}</td>", fmt_us(v))).collect()
}

fn series_row(phase: Option<&str>, name: &str, s: &Series, class: &str) -> String {
    let c = &s.counters;
    let mut row = format!("<tr class=\"{class}\">");
    if let Some(p) = phase {
        let _ = write!(row, "<td class=\"l\">{}</td>", html(p));
    }
    let warn = if c.warning > 0 { format!(" ({})", units::count(c.warning)) } else { String::new() };
    let _ = writeln!(
        row,
        "<td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{warn}</td><td{}>{}</td><td{}>{}</td><td>{} / {}</td>{}{}</tr>",
        html(name),
        units::count(s.workers),
        if s.rate_per_s >= 100.0 { format!("{:.0}", s.rate_per_s) } else { format!("{:.1}", s.rate_per_s) },
        units::count(c.probes),
        units::count(c.success),
        if c.failure > 0 { " class=\"bad\"" } else { "" },
        units::count(c.failure),
        if c.errored > 0 { " class=\"bad\"" } else { "" },
        units::count(c.errored),
        units::count(c.missed_ticks),
        units::count(c.overruns),
        pct_cells(&s.dispatch_lag),
        pct_cells(&s.latency),
    );
    row
}

/// One table for every phase's series, a total row under phases with several series.
pub fn results(run: &RunData) -> String {
    let multi = run.multi_phase();
    let mut out = String::from("<div class=\"wide\"><table class=\"num\">\n<thead><tr>");
    let lead = if multi { "<th rowspan=\"2\">phase</th>" } else { "" };
    let _ = write!(
        out,
        "{lead}<th rowspan=\"2\">series</th><th rowspan=\"2\">workers</th><th rowspan=\"2\">rate /s</th><th rowspan=\"2\">probes</th><th rowspan=\"2\">success (warn)</th><th rowspan=\"2\">failure</th><th rowspan=\"2\">errored</th><th rowspan=\"2\">missed ticks / overruns</th><th colspan=\"4\">dispatch lag</th><th colspan=\"4\">latency</th></tr>\n<tr><th>p50</th><th>p99</th><th>p99.9</th><th>max</th><th>p50</th><th>p99</th><th>p99.9</th><th>max</th></tr></thead>\n<tbody>\n"
    );
    for phase in &run.summary.phases {
        let p = multi.then_some(phase.name.as_str());
        for s in &phase.series {
            let name = if s.mechanism != s.declared && !s.declared.is_empty() {
                format!("{} (ran as {})", s.tag(), s.mechanism)
            } else {
                s.tag()
            };
            out.push_str(&series_row(p, &name, s, ""));
        }
        if phase.series.len() > 1
            && let Some(t) = &phase.total
        {
            out.push_str(&series_row(p, "all series", t, "total"));
        }
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// The prober's own cost, one row per phase, beside its noop floor.
pub fn overhead(run: &RunData) -> String {
    let mut out = String::from(
        "<div class=\"wide\"><table class=\"num\">\n<thead><tr><th>phase</th><th>pods</th><th>workers</th><th>scheduled /s</th><th>CPU µs/probe</th><th>with children</th><th>noop floor µs/probe</th><th>noop lag p50 / p99</th><th>targets µs/probe</th><th>cores used</th><th>RSS per worker</th><th>state per worker</th><th>peak RSS</th><th>other load / steal (cores)</th></tr></thead>\n<tbody>\n",
    );
    for p in &run.summary.phases {
        let o = &p.overhead;
        let (floor, floor_lag) = match &p.calibration {
            Some(c) => (
                format!("{:.1}", c.cpu_us_per_probe),
                format!("{} / {}", fmt_us(c.dispatch_lag.p50_us), fmt_us(c.dispatch_lag.p99_us)),
            ),
            None => ("-".into(), "-".into()),
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{:.1}</td><td>{:.1}</td><td>{floor}</td><td>{floor_lag}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2} / {:.2}</td></tr>",
            html(&p.name),
            units::count(p.pods),
            units::count(p.workers),
            p.scheduled_rate_per_s,
            o.cpu_us_per_probe,
            o.cpu_us_per_probe_with_children,
            o.targets_cpu_us_per_probe.map_or_else(|| "-".into(), |t| format!("{t:.1}")),
            o.cpu_cores,
            bytes(o.rss_bytes_per_worker),
            bytes(o.state_bytes_per_worker),
            bytes(o.peak_rss_bytes as f64),
            o.noise.other_busy_cores,
            o.noise.steal_cores,
        );
    }
    out.push_str("</tbody></table></div>\n");
    out
}

pub fn events(e: &EventSummary) -> String {
    if e.groups.is_empty() {
        return "<p>No events were recorded.</p>\n".into();
    }
    let mut out = String::from(
        "<table>\n<thead><tr><th>phase</th><th>type</th><th>reason</th><th>count</th><th>first message</th></tr></thead>\n<tbody>\n",
    );
    for g in &e.groups {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td{}>{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"msg\">{}</td></tr>",
            html(&g.phase),
            if g.kind == "Warning" { " class=\"bad\"" } else { "" },
            html(&g.kind),
            html(&g.reason),
            units::count(g.count),
            html(&g.example),
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A value of metadata.json in a cell: strings as they are, the command line joined, the
/// rest as compact JSON.
fn meta_value(key: &str, v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => html(s),
        serde_json::Value::Array(a) if key == "command" => {
            let words: Vec<String> = a
                .iter()
                .map(|w| {
                    let s = w.as_str().map_or_else(|| w.to_string(), str::to_string);
                    if s.is_empty() || s.contains(char::is_whitespace) { format!("'{s}'") } else { s }
                })
                .collect();
            format!("<code>{}</code>", html(&words.join(" ")))
        }
        serde_json::Value::Null => "-".into(),
        other => format!("<code>{}</code>", html(&other.to_string())),
    }
}

/// The machine and command, collapsed under a one-line summary; the scenario as resolved in
/// its own fold.
pub fn metadata(meta: &serde_json::Value) -> String {
    let get = |k: &str| meta.get(k).and_then(|v| v.as_str().map(str::to_string).or_else(|| Some(v.to_string())));
    let headline: Vec<String> = [
        get("cpu_model"),
        meta.get("cores").map(|c| format!("{c} cores")),
        get("kernel").map(|k| format!("kernel {k}")),
        get("commit").map(|c| format!("commit {c}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut out = format!(
        "<details class=\"meta\"><summary>Machine and command: {}</summary>\n<table>\n<tbody>\n",
        html(&headline.join(", "))
    );
    if let Some(obj) = meta.as_object() {
        for (k, v) in obj.iter().filter(|(k, _)| k.as_str() != "scenario") {
            let _ = writeln!(out, "<tr><th class=\"l\">{}</th><td class=\"l\">{}</td></tr>", html(k), meta_value(k, v));
        }
    }
    out.push_str("</tbody></table>\n");
    if let Some(s) = meta.get("scenario") {
        let pretty = serde_json::to_string_pretty(s).unwrap_or_default();
        let _ =
            write!(out, "<details><summary>Scenario as resolved</summary>\n<pre>{}</pre>\n</details>\n", html(&pretty));
    }
    out.push_str("</details>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_folded_with_a_headline_and_escaped() {
        let meta = serde_json::json!({
            "cpu_model": "AMD <EPYC>", "cores": 2, "kernel": "6.1", "commit": "abc123",
            "command": ["probebench", "run", "my file.yaml"],
            "scenario": {"name": "x<y"}
        });
        let h = metadata(&meta);
        assert!(h.starts_with("<details class=\"meta\"><summary>Machine and command: AMD &lt;EPYC&gt;, 2 cores, kernel 6.1, commit abc123</summary>"), "{h}");
        assert!(h.contains("<code>probebench run &#39;my file.yaml&#39;</code>"), "{h}");
        assert!(h.contains("<summary>Scenario as resolved</summary>"));
        assert!(h.contains("x&lt;y"));
        assert!(!h.contains("x<y"));
    }
}
