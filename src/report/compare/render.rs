//! The comparison as an aligned table on stdout (JSON is the [`Comparison`] serialized).

use std::fmt::Write as _;

use super::rows::{Row, floor_only};
use super::spread::Estimate;
use super::verdict::{Verdict, widened};
use super::{Comparison, RunInfo};
use crate::report::run_table::fmt_us;
use crate::report::table::Table;

fn fmt_value(unit: &str, v: f64) -> String {
    match unit {
        "us" if v > 0.0 && v < 1.0 => format!("{:.0}ns", v * 1e3),
        "us" => fmt_us(v),
        "per_s" if v < 100.0 => format!("{v:.1}/s"),
        "per_s" => format!("{v:.0}/s"),
        "count" if v.fract() == 0.0 => format!("{v:.0}"),
        "count" => format!("{v:.1}"),
        "us_per_probe" => format!("{v:.2}µs"),
        "bytes_per_worker" => format!("{v:.0}B"),
        _ => format!("{v}"),
    }
}

/// The interval the verdict used (after the minimum spread).
fn fmt_range(unit: &str, e: &Option<Estimate>, min_spread: f64) -> String {
    match e {
        Some(e) => {
            let (lo, hi) = widened(e, min_spread);
            format!("{}–{}", fmt_value(unit, lo.max(0.0)), fmt_value(unit, hi))
        }
        None => "-".into(),
    }
}

fn fmt_ratio(r: &Row) -> String {
    match (r.ratio, &r.a, &r.b) {
        (Some(x), _, _) if x >= 10.0 => format!("{x:.1}"),
        (Some(x), _, _) => format!("{x:.2}"),
        (None, Some(_), Some(_)) => "∞".into(),
        _ => "-".into(),
    }
}

fn side_line(name: &str, runs: &[RunInfo]) -> String {
    let ids: Vec<&str> =
        runs.iter().map(|r| if r.run_id.is_empty() { r.dir.as_str() } else { r.run_id.as_str() }).collect();
    let mut sched: Vec<String> = Vec::new();
    for r in runs {
        let s = if r.scheduler == "hires" && !r.timer.is_empty() {
            format!("{}, {}", r.scheduler, r.timer)
        } else {
            r.scheduler.clone()
        };
        if !sched.contains(&s) {
            sched.push(s);
        }
    }
    let n = if runs.len() == 1 { "1 run".to_string() } else { format!("{} runs", runs.len()) };
    format!("{name}: {} ({}; {n})", ids.join(", "), sched.join(" / "))
}

pub fn text(c: &Comparison) -> String {
    let min_spread = c.options.min_spread_pct / 100.0;
    let mut out = String::new();
    let _ = writeln!(out, "{}", side_line("A", &c.a));
    let _ = writeln!(out, "{}", side_line("B", &c.b));
    let _ = writeln!(out);
    let multi_phase = c.rows.iter().any(|r| r.phase != c.rows[0].phase);
    let mut header = vec!["SERIES", "METRIC", "A", "A SPREAD", "B", "B SPREAD", "B/A", "VERDICT"];
    if multi_phase {
        header.insert(0, "PHASE");
    }
    let off = usize::from(multi_phase);
    let mut t = Table::new(&header).right_align(&[2 + off, 3 + off, 4 + off, 5 + off, 6 + off]);
    let mut starred = false;
    for r in &c.rows {
        let star = floor_only(&r.a) || floor_only(&r.b);
        starred |= star && r.verdict != Verdict::Missing;
        let mut verdict = r.verdict.as_str().to_string();
        if r.regression {
            verdict.push('!');
        }
        if star && r.verdict != Verdict::Missing {
            verdict.push('*');
        }
        let mut cells = vec![
            r.series.clone(),
            r.name(),
            r.a.map_or("-".into(), |e| fmt_value(r.unit, e.value)),
            fmt_range(r.unit, &r.a, min_spread),
            r.b.map_or("-".into(), |e| fmt_value(r.unit, e.value)),
            fmt_range(r.unit, &r.b, min_spread),
            fmt_ratio(r),
            verdict,
        ];
        if multi_phase {
            cells.insert(0, r.phase.clone());
        }
        t.row(cells);
    }
    out.push_str(&t.render());
    let _ = writeln!(out);
    if !c.only_in_a.is_empty() {
        let _ = writeln!(out, "only in A: {}", c.only_in_a.join(", "));
    }
    if !c.only_in_b.is_empty() {
        let _ = writeln!(out, "only in B: {}", c.only_in_b.join(", "));
    }
    for n in &c.notes {
        let _ = writeln!(out, "note: {n}");
    }
    let _ = writeln!(
        out,
        "verdicts: {} better, {} same, {} worse{} — \"same\" = B inside the combined spread (each side's 95% interval, at least ±{}%)",
        c.count(Verdict::Better),
        c.count(Verdict::Same),
        c.count(Verdict::Worse),
        match c.count(Verdict::Missing) {
            0 => String::new(),
            n => format!(", {n} n/a"),
        },
        c.options.min_spread_pct
    );
    if starred {
        let _ = writeln!(
            out,
            "*: a side has one figure from one run and no interval of its own; only the ±{}% minimum spread was applied (give repeated runs with -a/-b)",
            c.options.min_spread_pct
        );
    }
    if let Some(p) = c.options.fail_if_worse_pct {
        if c.regressions.is_empty() {
            let _ = writeln!(out, "no figure worse by more than {p}%");
        } else {
            let _ = writeln!(out, "worse by more than {p}% (!): {}", c.regressions.join(", "));
        }
    }
    out
}
