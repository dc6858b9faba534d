//! `probebench tune`: recommend probe settings for an app from a simulated fleet.
//!
//! For each candidate setting (a grid around the manifest's own), the simulator runs many
//! pods for many hours of virtual time with the app's behaviour and injected real
//! incidents, and counts what an operator cares about: time to Ready, time to detect a
//! hang, restarts and not-Ready spells that happen while the app is healthy, and the probes
//! it costs. The result is the cheapest setting meeting every objective, the Pareto front
//! of the rest, and the current setting's own numbers.

pub mod app;
pub mod closed_form;
pub mod costs;
pub mod grid;
pub mod measure;
pub mod objective;
pub mod report;
pub mod stats;

use serde::Serialize;

use crate::kubelet::config::KubeletConfig;
use crate::spec::{self, Action};
use app::App;
use grid::{Grid, Setting};
use measure::{Exposure, Metrics};
use objective::{Objective, Verdict};

/// What the tuner was asked.
#[derive(Debug, Clone)]
pub struct Request {
    pub pod: spec::Pod,
    pub container: usize,
    pub app: App,
    pub grid: Grid,
    pub objectives: Vec<Objective>,
    pub exposure: Exposure,
    pub kubelet: KubeletConfig,
    pub threads: usize,
    /// Extra rounds of 4× exposure for candidates whose verdicts are unresolved.
    pub max_extensions: u32,
    pub pods_per_node: u32,
    /// What a probe costs, by mechanism (measured baseline or built-in table).
    pub costs: costs::MechanismCosts,
}

/// One measured setting.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub setting: Setting,
    pub label: String,
    pub metrics: Metrics,
    pub verdicts: Vec<Verdict>,
    pub meets_all: bool,
    /// Prober CPU per node (pods_per_node pods), in percent of one core.
    pub cpu_percent_per_node: f64,
    pub on_front: bool,
    pub current: bool,
    pub closed_form: ClosedForm,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClosedForm {
    /// Liveness detection window, seconds (best, worst).
    pub detect_s: Option<closed_form::Detection>,
    /// False restarts per pod-day if slow answers are independent (None where they are not).
    pub false_restarts_per_day: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub candidates: Vec<Candidate>,
    /// Index of the recommendation, if any setting meets (or may meet) every objective.
    pub best: Option<usize>,
    pub objectives: Vec<Objective>,
    pub notes: Vec<String>,
    pub base_pod_days: f64,
}

fn mechanism_of(c: &spec::Container, t: spec::ProbeType) -> &'static str {
    c.probe(t)
        .and_then(|p| p.handler.action())
        .or_else(|| c.liveness_probe.as_ref().and_then(|p| p.handler.action()))
        .map_or("tcp", |a: Action<'_>| a.mechanism())
}

fn cpu_percent(req: &Request, setting: &Setting, m: &Metrics) -> f64 {
    let c = &req.pod.spec.containers[req.container];
    // Weight by each probe's share of runs at its period (an approximation: probes that
    // stop — startup after success — run less).
    let mut weights = 0.0;
    let mut cost = 0.0;
    for t in spec::ProbeType::ALL {
        if let Some(s) = setting.get(t) {
            let rate = 1.0 / f64::from(s.period_seconds.max(1));
            let w = if t == spec::ProbeType::Startup { rate * 0.01 } else { rate };
            weights += w;
            cost += w * req.costs.cost_us(mechanism_of(c, t));
        }
    }
    let per_probe_us = if weights > 0.0 { cost / weights } else { 0.0 };
    let probes_per_s_per_node = m.probes_per_pod_hour / 3600.0 * f64::from(req.pods_per_node);
    probes_per_s_per_node * per_probe_us / 10_000.0
}

fn build(req: &Request, setting: Setting, metrics: Metrics, current: bool) -> Candidate {
    let verdicts: Vec<Verdict> = req.objectives.iter().map(|o| objective::judge(o, &metrics)).collect();
    let closed_form = ClosedForm {
        detect_s: setting.liveness.as_ref().map(closed_form::detection),
        false_restarts_per_day: setting
            .liveness
            .as_ref()
            .and_then(|l| closed_form::false_restarts_per_day(req.app.behaviour.spec(), l)),
    };
    Candidate {
        label: setting.label(),
        cpu_percent_per_node: cpu_percent(req, &setting, &metrics),
        meets_all: verdicts.iter().all(|v| *v == Verdict::Met),
        verdicts,
        metrics,
        setting,
        on_front: false,
        current,
        closed_form,
    }
}

/// Run the whole tuning: measure, extend the exposure where verdicts are unresolved, rank.
pub fn run(req: &Request, progress: &(dyn Fn(&str, usize, usize) + Sync)) -> Outcome {
    let container = &req.pod.spec.containers[req.container];
    let current = Setting::of(container);
    let settings = req.grid.candidates(&current);
    let total = settings.len();
    let subject = measure::Subject { pod: &req.pod, container: req.container, app: &req.app, kubelet: &req.kubelet };
    let metrics =
        measure::measure_all(subject, &settings, req.exposure, req.threads, &|done| progress("measuring", done, total));
    let mut candidates: Vec<Candidate> =
        settings.into_iter().zip(metrics).enumerate().map(|(i, (s, m))| build(req, s, m, i == 0)).collect();
    let mut notes = Vec::new();

    // Candidates that miss nothing but cannot be told apart from a bound yet get more
    // exposure: 4× per round, with fresh seeds.
    let mut exposure = req.exposure;
    for round in 1..=req.max_extensions {
        let unresolved: Vec<usize> = (0..candidates.len())
            .filter(|&i| {
                let v = &candidates[i].verdicts;
                !v.contains(&Verdict::Missed) && v.contains(&Verdict::Unresolved)
            })
            .collect();
        if unresolved.is_empty() {
            break;
        }
        exposure =
            Exposure { pods: exposure.pods * 4, seed: exposure.seed.wrapping_add(u64::from(round) * 7919), ..exposure };
        let settings: Vec<Setting> = unresolved.iter().map(|&i| candidates[i].setting.clone()).collect();
        let n = settings.len();
        let more =
            measure::measure_all(subject, &settings, exposure, req.threads, &|done| progress("extending", done, n));
        notes.push(format!(
            "{n} setting(s) could not be told apart from an objective's bound with {:.0} pod-days; re-measured with {:.0} pod-days",
            exposure.pod_days() / 4.0,
            exposure.pod_days()
        ));
        for (&i, m) in unresolved.iter().zip(more) {
            let current = candidates[i].current;
            candidates[i] = build(req, candidates[i].setting.clone(), m, current);
        }
    }
    for c in candidates.iter().filter(|c| c.verdicts.contains(&Verdict::Unresolved)) {
        let which: Vec<&str> = req
            .objectives
            .iter()
            .zip(&c.verdicts)
            .filter(|(_, v)| **v == Verdict::Unresolved)
            .map(|(o, _)| o.text.as_str())
            .collect();
        if c.verdicts.iter().all(|v| *v != Verdict::Missed) {
            notes.push(format!(
                "{}: {} is rarer than {:.0} pod-days of simulation can resolve (the closed form, where it holds, is shown beside it)",
                c.label,
                which.join(", "),
                c.metrics.pod_days
            ));
        }
    }

    let all: Vec<Metrics> = candidates.iter().map(|c| c.metrics.clone()).collect();
    for i in objective::pareto_front(&all) {
        candidates[i].on_front = true;
    }
    let cheapest = |pred: &dyn Fn(&Candidate) -> bool| {
        candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| pred(c))
            .min_by(|a, b| a.1.cpu_percent_per_node.total_cmp(&b.1.cpu_percent_per_node))
            .map(|(i, _)| i)
    };
    let best = cheapest(&|c| c.meets_all).or_else(|| {
        let b = cheapest(&|c| !c.verdicts.contains(&Verdict::Missed));
        if b.is_some() {
            notes.push("no setting meets every objective with certainty; the recommendation meets them at the measured rates, but some could not be resolved".to_string());
        }
        b
    });
    if best.is_none() {
        notes.push(
            "no setting in the grid meets every objective; widen the grid with --sweep or relax an objective"
                .to_string(),
        );
    }
    let c = &req.costs;
    notes.push(format!(
        "CPU per node prices a probe at exec {:.0}, httpGet {:.0}, grpc {:.0}, tcpSocket {:.0} µs of prober CPU ({})",
        c.exec_us, c.http_us, c.grpc_us, c.tcp_us, c.source
    ));
    Outcome { candidates, best, objectives: req.objectives.clone(), notes, base_pod_days: req.exposure.pod_days() }
}
