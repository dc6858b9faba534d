//! `probebench compare`: two sides (A, the baseline, and B), each one or more run
//! directories, compared figure by figure with a verdict that accounts for noise
//! (docs/compare.md). Reading runs is [`run_dir`], intervals are [`spread`], verdicts are
//! [`verdict`], the figures are [`rows`], output is [`render`].

pub mod render;
pub mod rows;
pub mod run_dir;
pub mod sparse;
pub mod spread;
pub mod verdict;

use serde::Serialize;

use rows::{Row, RowOptions, SidePhase, prober_rows, series_rows};
use run_dir::{HistSource, RunData};
use verdict::Verdict;

pub const SCHEMA: &str = "probebench.compare/v1";

/// A difference in the machine's load (other processes' busy plus stolen cores) between the
/// sides worth a note: a quarter of a core moves tail latencies on a 2-core VM.
pub const NOISE_NOTE_CORES: f64 = 0.25;

/// How figures are judged.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Options {
    /// Each side's interval is at least ± this share of its value (percent).
    pub min_spread_pct: f64,
    /// Bootstrap replicates per figure.
    pub resamples: usize,
    /// A worse figure that moved more than this (percent) is a regression (exit 1).
    pub fail_if_worse_pct: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options { min_spread_pct: 5.0, resamples: 1000, fail_if_worse_pct: None }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub dir: String,
    pub run_id: String,
    pub scenario: String,
    pub scheduler: String,
    pub timer: String,
    /// `interval_log` (per-second histograms), `hgrm` (whole-run histograms) or
    /// `summary_only`, per phase.
    pub histograms: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub schema: &'static str,
    pub a: Vec<RunInfo>,
    pub b: Vec<RunInfo>,
    pub options: Options,
    pub rows: Vec<Row>,
    /// Phases and series (`phase/series`) found on one side only.
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
    pub notes: Vec<String>,
    /// Rows that are worse beyond `--fail-if-worse` (names as `phase/series metric stat`).
    pub regressions: Vec<String>,
}

impl Comparison {
    pub fn count(&self, v: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == v).count()
    }
}

fn run_info(r: &RunData) -> RunInfo {
    RunInfo {
        dir: r.dir.display().to_string(),
        run_id: r.summary.run_id.clone(),
        scenario: r.summary.scenario.clone(),
        scheduler: r.summary.scheduler.clone(),
        timer: r.summary.timer.clone(),
        histograms: r
            .phases
            .iter()
            .map(|p| {
                match p.source {
                    HistSource::IntervalLog => "interval_log",
                    HistSource::Hgrm => "hgrm",
                    HistSource::SummaryOnly => "summary_only",
                }
                .to_string()
            })
            .collect(),
    }
}

/// Names in first-seen order over both sides.
fn union(lists: impl IntoIterator<Item = Vec<String>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lists {
        for x in l {
            if !out.contains(&x) {
                out.push(x);
            }
        }
    }
    out
}

fn side_phase<'a>(runs: &'a [RunData], name: &str) -> SidePhase<'a> {
    SidePhase { runs: runs.iter().filter_map(|r| r.phases.iter().find(|p| p.summary.name == name)).collect() }
}

fn distinct(runs: &[RunData], f: impl Fn(&RunData) -> String) -> Vec<String> {
    union(runs.iter().map(|r| vec![f(r)]))
}

/// Compare side B against side A. Both sides are non-empty (the command checks).
pub fn compare(a: &[RunData], b: &[RunData], opts: Options) -> Comparison {
    let ro = RowOptions {
        min_spread: opts.min_spread_pct / 100.0,
        resamples: opts.resamples,
        fail_if_worse_pct: opts.fail_if_worse_pct,
    };
    let mut notes = Vec::new();
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    for (what, f) in [
        ("scenario", (|r: &RunData| r.summary.scenario.clone()) as fn(&RunData) -> String),
        ("scheduler", |r| r.summary.scheduler.clone()),
    ] {
        let (da, db) = (distinct(a, f), distinct(b, f));
        if da != db {
            notes.push(format!("{what}: A {} vs B {}", da.join(", "), db.join(", ")));
        }
    }
    let phase_names =
        |runs: &[RunData]| union(runs.iter().map(|r| r.phases.iter().map(|p| p.summary.name.clone()).collect()));
    let (pa, pb) = (phase_names(a), phase_names(b));
    let mut rows = Vec::new();
    for phase in union([pa.clone(), pb.clone()]) {
        let (in_a, in_b) = (pa.contains(&phase), pb.contains(&phase));
        if !in_b {
            only_a.push(format!("phase {phase}"));
            continue;
        }
        if !in_a {
            only_b.push(format!("phase {phase}"));
            continue;
        }
        let (sa, sb) = (side_phase(a, &phase), side_phase(b, &phase));
        for (side, name, runs) in [(&sa, "A", a), (&sb, "B", b)] {
            if side.runs.len() < runs.len() {
                notes.push(format!("phase {phase}: in {} of side {name}'s {} runs", side.runs.len(), runs.len()));
            }
            if side.runs.iter().any(|p| p.source == HistSource::SummaryOnly) {
                notes.push(format!(
                    "phase {phase}, side {name}: a run has no histogram files, so its percentiles are the summary's (several runs: their median, not a merge)"
                ));
            } else if side.runs.iter().any(|p| p.source == HistSource::Hgrm) {
                notes.push(format!(
                    "phase {phase}, side {name}: no intervals.hlog, so whole-run .hgrm histograms: no per-second spread"
                ));
            }
        }
        // On a shared machine the neighbours explain many differences: say when they differ.
        let noise = |s: &SidePhase| {
            let n = s.runs.iter().map(|p| p.summary.overhead.noise);
            n.map(|x| x.other_busy_cores + x.steal_cores).sum::<f64>() / s.runs.len().max(1) as f64
        };
        let (na, nb) = (noise(&sa), noise(&sb));
        if (na - nb).abs() >= NOISE_NOTE_CORES {
            notes.push(format!(
                "phase {phase}: other processes used {na:.2} cores during A, {nb:.2} during B (mean per run): some differences may be the machine's, not the prober's"
            ));
        }
        let rates =
            |s: &SidePhase| union(s.runs.iter().map(|p| vec![format!("{:.0}", p.summary.scheduled_rate_per_s)]));
        if rates(&sa) != rates(&sb) {
            notes.push(format!(
                "phase {phase}: scheduled rates differ (A {}/s, B {}/s): rates and counts do not compare, per-probe figures do",
                rates(&sa).join(", "),
                rates(&sb).join(", ")
            ));
        }
        let tags =
            |s: &SidePhase| union(s.runs.iter().map(|p| p.summary.series.iter().map(run_dir::SeriesIn::tag).collect()));
        let (ta, tb) = (tags(&sa), tags(&sb));
        for tag in union([ta.clone(), tb.clone()]) {
            match (ta.contains(&tag), tb.contains(&tag)) {
                (true, false) => only_a.push(format!("series {phase}/{tag}")),
                (false, true) => only_b.push(format!("series {phase}/{tag}")),
                _ => rows.extend(series_rows(&phase, &tag, &sa, &sb, &ro)),
            }
        }
        rows.extend(series_rows(&phase, "all", &sa, &sb, &ro));
        rows.extend(prober_rows(&phase, &sa, &sb, &ro));
    }
    let regressions =
        rows.iter().filter(|r| r.regression).map(|r| format!("{}/{} {}", r.phase, r.series, r.name())).collect();
    Comparison {
        schema: SCHEMA,
        a: a.iter().map(run_info).collect(),
        b: b.iter().map(run_info).collect(),
        options: opts,
        rows,
        only_in_a: only_a,
        only_in_b: only_b,
        notes,
        regressions,
    }
}
