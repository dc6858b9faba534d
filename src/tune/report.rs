//! The tuner's answer in the operator's words: a ranked table, the recommendation as a YAML
//! snippet to paste, the current settings' own numbers, JSON, and an HTML page with the
//! trade-off plot (detection time against false restarts).

use std::fmt::Write as _;

use plotters::prelude::*;

use super::grid::Setting;
use super::objective::Verdict;
use super::stats::Estimate;
use super::{Candidate, Outcome};
use crate::report::table::Table;
use crate::spec::{self, ProbeType};

fn secs(e: Option<Estimate>) -> String {
    match e {
        None => "-".to_string(),
        Some(e) if e.value.is_infinite() => "never".to_string(),
        Some(e) => format!("{:.0}s", e.value),
    }
}

fn rate(e: Estimate) -> String {
    if e.value == 0.0 {
        format!("0 (<{})", short(e.high))
    } else {
        format!("{} ({}–{})", short(e.value), short(e.low), short(e.high))
    }
}

fn short(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else if v >= 10.0 {
        format!("{v:.0}")
    } else if v >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.1e}")
    }
}

/// Order: meets everything, then fewest misses, then cheapest.
pub fn ranked(o: &Outcome) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..o.candidates.len()).collect();
    let score = |c: &Candidate| {
        let missed = c.verdicts.iter().filter(|v| **v == Verdict::Missed).count();
        let unresolved = c.verdicts.iter().filter(|v| **v == Verdict::Unresolved).count();
        (missed, unresolved)
    };
    idx.sort_by(|&a, &b| {
        let (ca, cb) = (&o.candidates[a], &o.candidates[b]);
        score(ca).cmp(&score(cb)).then(ca.cpu_percent_per_node.total_cmp(&cb.cpu_percent_per_node))
    });
    idx
}

fn verdict_text(o: &Outcome, c: &Candidate) -> String {
    let names = |want: Verdict| -> Vec<&str> {
        o.objectives.iter().zip(&c.verdicts).filter(|(_, v)| **v == want).map(|(ob, _)| ob.metric.name()).collect()
    };
    let (missed, unresolved) = (names(Verdict::Missed), names(Verdict::Unresolved));
    match (missed.is_empty(), unresolved.is_empty()) {
        (true, true) => "all met".to_string(),
        (true, false) => format!("unresolved: {}", unresolved.join(",")),
        (false, true) => format!("misses {}", missed.join(",")),
        (false, false) => format!("misses {}; unresolved: {}", missed.join(","), unresolved.join(",")),
    }
}

/// The probes of the recommendation, as they go into the container spec.
pub fn yaml_snippet(container: &spec::Container, setting: &Setting) -> String {
    let c = setting.apply(container);
    let mut map = serde_yaml::Mapping::new();
    for t in [ProbeType::Startup, ProbeType::Readiness, ProbeType::Liveness] {
        if let Some(p) = c.probe(t)
            && let Ok(v) = serde_yaml::to_value(p)
        {
            map.insert(serde_yaml::Value::String(t.field().to_string()), v);
        }
    }
    serde_yaml::to_string(&map).unwrap_or_default()
}

/// "your settings restart each pod 3.2 times a day for nothing; …"
pub fn current_sentence(c: &Candidate) -> String {
    let m = &c.metrics;
    let mut parts = Vec::new();
    if m.false_restarts_per_day.value > 0.0 {
        parts.push(format!("restart each pod {} times a day for nothing", short(m.false_restarts_per_day.value)));
    }
    if m.startup_kills_per_day.value > 0.0 {
        parts.push(format!("kill a slow but healthy start {} times a pod-day", short(m.startup_kills_per_day.value)));
    }
    if m.false_restarts == 0 && m.startup_kills == 0 {
        parts.push(format!("never restarted a healthy pod in {:.0} pod-days", m.pod_days));
    }
    if m.never_ready > 0 {
        parts.push(format!("{} pods never became Ready", m.never_ready));
    }
    match m.detect_p99_s {
        Some(e) if e.value.is_infinite() => {
            parts.push(format!("{} of {} hangs were never detected", m.hangs_undetected, m.hangs))
        }
        Some(_) => parts.push(format!("detect a hang in {} (p99 {})", secs(m.detect_p50_s), secs(m.detect_p99_s))),
        None => {}
    }
    if m.false_not_ready_per_day.value > 0.0 {
        parts.push(format!("take a healthy pod out of service {} times a day", short(m.false_not_ready_per_day.value)));
    }
    format!("Your settings ({}) {}.", c.label, parts.join("; "))
}

pub fn text(o: &Outcome, container: &spec::Container, top: usize) -> String {
    let mut out = String::new();
    if let Some(current) = o.candidates.iter().find(|c| c.current) {
        let _ = writeln!(out, "{}\n", current_sentence(current));
    }
    let goals: Vec<&str> = o.objectives.iter().map(|ob| ob.text.as_str()).collect();
    match o.best {
        Some(b) => {
            let c = &o.candidates[b];
            let _ = writeln!(out, "Recommendation ({}), the cheapest setting meeting {}:", c.label, goals.join(", "));
            let _ = writeln!(
                out,
                "  detects a hang in {} (p99 {}), {} false restarts and {} startup kills per pod-day, Ready in {} (p99), {:.0} probes per pod-hour, {:.2}% of a core per node\n",
                secs(c.metrics.detect_p50_s),
                secs(c.metrics.detect_p99_s),
                rate(c.metrics.false_restarts_per_day),
                rate(c.metrics.startup_kills_per_day),
                secs(c.metrics.ready_p99_s),
                c.metrics.probes_per_pod_hour,
                c.cpu_percent_per_node
            );
            for line in yaml_snippet(container, &c.setting).lines() {
                let _ = writeln!(out, "    {line}");
            }
            let _ = writeln!(out);
        }
        None => {
            let _ = writeln!(out, "No setting in the grid meets {}.\n", goals.join(", "));
        }
    }
    let mut t = Table::new(&[
        "RANK",
        "SETTING",
        "DETECT p50/p99",
        "CLOSED FORM",
        "FALSE RESTARTS/day",
        "STARTUP KILLS/day",
        "READY p99",
        "PROBES/h",
        "CPU/node",
        "",
        "OBJECTIVES",
    ])
    .right_align(&[0, 7, 8]);
    for (rank, &i) in ranked(o).iter().enumerate().take(top) {
        let c = &o.candidates[i];
        let closed = match (c.closed_form.detect_s, c.closed_form.false_restarts_per_day) {
            (Some(d), Some(f)) => format!("{:.0}-{:.0}s, {}/d", d.best_s, d.worst_s, short(f)),
            (Some(d), None) => format!("{:.0}-{:.0}s", d.best_s, d.worst_s),
            _ => "-".to_string(),
        };
        let mut mark = String::new();
        if c.current {
            mark.push_str("current ");
        }
        if Some(i) == o.best {
            mark.push_str("best ");
        }
        if c.on_front {
            mark.push_str("front");
        }
        t.row(vec![
            (rank + 1).to_string(),
            c.label.clone(),
            format!("{}/{}", secs(c.metrics.detect_p50_s), secs(c.metrics.detect_p99_s)),
            closed,
            rate(c.metrics.false_restarts_per_day),
            rate(c.metrics.startup_kills_per_day),
            secs(c.metrics.ready_p99_s),
            format!("{:.0}", c.metrics.probes_per_pod_hour),
            format!("{:.2}%", c.cpu_percent_per_node),
            mark.trim().to_string(),
            verdict_text(o, c),
        ]);
    }
    out.push_str(&t.render());
    if o.candidates.len() > top {
        let _ = writeln!(out, "({} more settings in --output json)", o.candidates.len() - top);
    }
    for n in &o.notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}

/// The trade-off plot: each setting a point (p99 detection against false restarts), the
/// Pareto front joined, the current setting and the recommendation marked.
pub fn svg(o: &Outcome) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let x_of =
            |c: &Candidate| (c.metrics.false_restarts_per_day.value + c.metrics.startup_kills_per_day.value).max(1e-4);
        let y_cap = o
            .candidates
            .iter()
            .filter_map(|c| c.metrics.detect_p99_s.map(|e| e.value))
            .filter(|v| v.is_finite())
            .fold(10.0f64, f64::max)
            * 1.15;
        let y_of =
            |c: &Candidate| c.metrics.detect_p99_s.map_or(y_cap, |e| if e.value.is_finite() { e.value } else { y_cap });
        let x_max = o.candidates.iter().map(x_of).fold(1.0f64, f64::max) * 2.0;
        let mut chart = ChartBuilder::on(&root)
            .caption("Hang detection against false restarts, per setting", ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d((1e-4f64..x_max).log_scale(), 0f64..y_cap)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("false restarts + startup kills per pod-day (log; 0 drawn at 1e-4)")
            .y_desc("time to detect a hang, p99 (s)")
            .x_label_formatter(&|v| short(*v))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(o.candidates.iter().map(|c| Circle::new((x_of(c), y_of(c)), 4, BLUE.mix(0.45).filled())))
            .map_err(|e| e.to_string())?
            .label("setting")
            .legend(|(x, y)| Circle::new((x, y), 4, BLUE.mix(0.45).filled()));
        let mut front: Vec<&Candidate> = o.candidates.iter().filter(|c| c.on_front).collect();
        front.sort_by(|a, b| x_of(a).total_cmp(&x_of(b)));
        chart
            .draw_series(LineSeries::new(front.iter().map(|c| (x_of(c), y_of(c))), RED.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label("Pareto front")
            .legend(|(x, y)| PathElement::new(vec![(x - 10, y), (x + 10, y)], RED.stroke_width(2)));
        if let Some(c) = o.candidates.iter().find(|c| c.current) {
            chart
                .draw_series(std::iter::once(TriangleMarker::new((x_of(c), y_of(c)), 9, BLACK.filled())))
                .map_err(|e| e.to_string())?
                .label("current setting")
                .legend(|(x, y)| TriangleMarker::new((x, y), 7, BLACK.filled()));
        }
        if let Some(b) = o.best.map(|b| &o.candidates[b]) {
            chart
                .draw_series(std::iter::once(Circle::new((x_of(b), y_of(b)), 9, GREEN.stroke_width(3))))
                .map_err(|e| e.to_string())?
                .label("recommendation")
                .legend(|(x, y)| Circle::new((x, y), 7, GREEN.stroke_width(3)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A self-contained HTML page: the text answer and the plot, no scripts, nothing fetched.
pub fn html(o: &Outcome, container: &spec::Container, title: &str) -> Result<String, String> {
    let svg = svg(o)?;
    Ok(format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}pre{{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}}</style></head>\n<body><h1>{t}</h1>\n<figure>{svg}<figcaption>Each point is one setting, measured on {pd:.0} pod-days of simulated time (more for settings near an objective's bound). Lower left is better.</figcaption></figure>\n<pre>{text}</pre>\n</body></html>\n",
        t = escape(title),
        pd = o.base_pod_days,
        text = escape(&text(o, container, o.candidates.len())),
    ))
}
