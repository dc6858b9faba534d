//! The page: one self-contained HTML document (inline CSS and SVG, no script, nothing
//! fetched), readable top to bottom: what ran, the figures, the plots, what happened, how.

use std::fmt::Write as _;

use super::escape::html;
use super::figure::Figure;
use super::load::{DISPATCH_LAG, LATENCY, RunData};
use super::plots::{outcomes, over_time, percentiles, throughput, timeline};
use super::series_ref::series_refs;
use super::{ReportError, tables};

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;margin:24px auto;max-width:1140px;padding:0 16px;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.sub{color:#555;margin-top:0}
table{border-collapse:collapse;margin:.6em 0;font-size:12.5px}
th,td{border:1px solid #ddd;padding:3px 5px}div.wide{overflow-x:auto}th{background:#f3f3f3;font-weight:600}
table.num td{text-align:right;font-variant-numeric:tabular-nums}td.l,th.l{text-align:left}td.r{text-align:right}
tr.total td{font-weight:600;background:#fafafa}.bad{color:#b00020;font-weight:600}td.msg{max-width:520px;word-break:break-word}
figure.plot{margin:1.4em 0;padding:0}figure.plot svg{max-width:100%;height:auto;display:block;border:1px solid #eee}
figcaption{font-size:13px;color:#444;margin-top:.4em;max-width:1100px}
details{margin:.6em 0}summary{cursor:pointer;font-weight:600}pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:12px}
ul.notes li{margin:.2em 0}
";

fn push_figure(out: &mut String, fig: Result<Option<Figure>, super::figure::PlotError>) -> Result<(), ReportError> {
    match fig {
        Ok(Some(f)) => out.push_str(&f.to_html()),
        Ok(None) => {}
        Err(e) => return Err(ReportError::Plot(e.0)),
    }
    Ok(())
}

pub fn render(run: &RunData) -> Result<String, ReportError> {
    let s = &run.summary;
    let title = if s.run_id.is_empty() { format!("probebench run: {}", s.scenario) } else { s.run_id.clone() };
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>probebench report: {t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>probebench report: {t}</h1>\n",
        t = html(&title)
    );
    let phases: Vec<String> = s.phases.iter().map(|p| p.name.clone()).collect();
    let _ = writeln!(
        out,
        "<p class=\"sub\">Scenario <b>{}</b>, started {}; scheduler {}, timer {}, {} shards, seed {}; {} phase{}: {}.</p>",
        html(&s.scenario),
        html(&s.started_at),
        html(&s.scheduler),
        html(&s.timer),
        s.shards,
        s.seed,
        phases.len(),
        if phases.len() == 1 { "" } else { "s" },
        html(&phases.join(", ")),
    );
    if let Some(meta) = &run.metadata {
        out.push_str(&tables::metadata(meta));
    }

    let mut notes: Vec<String> = s.notes.clone();
    for p in &s.phases {
        if !p.stand_ins.is_empty() {
            notes.push(format!(
                "phase {}: {} ran as no-op stand-ins (no sample targets for them in this build)",
                p.name,
                p.stand_ins.join(", ")
            ));
        }
        if p.events_dropped > 0 {
            notes.push(format!("phase {}: {} events dropped (over the per-phase limit)", p.name, p.events_dropped));
        }
        if p.intervals_dropped > 0 {
            notes.push(format!("phase {}: {} intervals dropped from intervals.hlog", p.name, p.intervals_dropped));
        }
    }
    if !notes.is_empty() {
        out.push_str("<h2>Notes</h2>\n<ul class=\"notes\">\n");
        for n in &notes {
            let _ = writeln!(out, "<li>{}</li>", html(n));
        }
        out.push_str("</ul>\n");
    }
    if !run.problems.is_empty() {
        out.push_str("<h2>Problems reading the run</h2>\n<ul class=\"notes\">\n");
        for p in &run.problems {
            let _ = writeln!(out, "<li class=\"bad\">{}</li>", html(p));
        }
        out.push_str("</ul>\n");
    }

    out.push_str("<h2>Results</h2>\n");
    out.push_str(
        "<p>Per series (mechanism × probe type), over the measured window. Percentiles are from merged HDR histograms \
         (3 significant digits), never averaged. Dispatch lag: actual dispatch − intended time; latency: finish − start.</p>\n",
    );
    out.push_str(&tables::results(run));
    out.push_str("<h2>Prober overhead</h2>\n");
    out.push_str(
        "<p>The prober process alone (targets run in another process). The noop floor is the same workers firing no-op \
         probes in a calibration just before the phase: the difference is what the mechanism itself costs.</p>\n",
    );
    out.push_str(&tables::overhead(run));

    let refs = series_refs(run);
    out.push_str("<h2>Distributions</h2>\n");
    push_figure(&mut out, percentiles::figure(run, &refs, DISPATCH_LAG))?;
    push_figure(&mut out, percentiles::figure(run, &refs, LATENCY))?;
    out.push_str("<h2>Over time</h2>\n");
    push_figure(&mut out, over_time::figure(run, &refs, DISPATCH_LAG))?;
    push_figure(&mut out, over_time::figure(run, &refs, LATENCY))?;
    push_figure(&mut out, throughput::figure(run))?;
    out.push_str("<h2>Probe results</h2>\n");
    push_figure(&mut out, outcomes::figure(&refs))?;

    if run.has_watch() {
        out.push_str("<h2>Pod lifecycle</h2>\n");
        for (phase, files) in run.phase_pairs() {
            push_figure(&mut out, timeline::figure(phase, &files.watch, run.multi_phase()))?;
        }
    }
    if let Some(e) = &run.events {
        out.push_str("<h2>Events</h2>\n<p>From events.jsonl, counted by phase, type and reason.</p>\n");
        out.push_str(&tables::events(e));
    }
    let _ = writeln!(
        out,
        "<p class=\"sub\">Written by probebench {} from {}. Files and fields: docs/results-schema.md; plots: docs/report.md.</p>",
        env!("CARGO_PKG_VERSION"),
        html(&run.dir.display().to_string())
    );
    out.push_str("</body></html>\n");
    Ok(out)
}
