//! One candidate setting, measured: many pods for many hours on the virtual clock, with real
//! incidents injected, and what the operator cares about counted with confidence intervals.

use std::sync::Arc;

use rand::RngExt;
use rand_pcg::Pcg64Mcg;
use serde::Serialize;

use super::app::App;
use super::grid::Setting;
use super::stats::{self, Estimate};
use crate::kubelet::config::{KubeletConfig, SECOND};
use crate::sim::{Incident, IncidentKind, SimOptions, Simulation};
use crate::spec;

/// How much is simulated per candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exposure {
    pub pods: u32,
    pub duration_ns: u64,
    pub seed: u64,
}

impl Exposure {
    pub fn pod_days(&self) -> f64 {
        f64::from(self.pods) * self.duration_ns as f64 / (86_400.0 * SECOND as f64)
    }
}

/// What a setting does, over the exposure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub pod_days: f64,
    /// Time from pod creation to first Ready, seconds.
    pub ready_p50_s: Option<Estimate>,
    pub ready_p99_s: Option<Estimate>,
    /// Pods never Ready during the run.
    pub never_ready: u32,
    /// Hangs injected and how long until a liveness kill, seconds.
    pub hangs: u32,
    pub hangs_undetected: u32,
    pub detect_p50_s: Option<Estimate>,
    pub detect_p99_s: Option<Estimate>,
    /// Restarts while the app was healthy (after it had been Ready), per pod-day.
    pub false_restarts_per_day: Estimate,
    pub false_restarts: u64,
    /// Kills of a start that was slow but healthy (before the instance was Ready), per pod-day.
    pub startup_kills_per_day: Estimate,
    pub startup_kills: u64,
    /// Ready → not Ready while the app was healthy, per pod-day, and the time spent so.
    pub false_not_ready_per_day: Estimate,
    pub false_not_ready_s_per_day: f64,
    pub probes_per_pod_hour: f64,
}

/// Poisson arrivals with the given mean gap over `[start, end)`.
fn arrivals(rng: &mut Pcg64Mcg, mean_ns: f64, start: u64, end: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut t = start as f64;
    loop {
        let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        t += -u.ln() * mean_ns;
        if t >= end as f64 {
            return out;
        }
        out.push(t as u64);
    }
}

/// Hangs that began less than this before the end and were not yet detected are censored
/// (neither detected nor missed).
const CENSOR_NS: u64 = 600 * SECOND;

/// What is being tuned: a pod's container running an app on a kubelet.
#[derive(Clone, Copy)]
pub struct Subject<'a> {
    pub pod: &'a spec::Pod,
    pub container: usize,
    pub app: &'a App,
    pub kubelet: &'a KubeletConfig,
}

/// Simulate `setting` for the subject's container and measure it.
pub fn measure(subject: Subject<'_>, setting: &Setting, exposure: Exposure) -> Metrics {
    let Subject { pod, container, app, kubelet } = subject;
    let mut template = pod.clone();
    template.spec.containers[container] = setting.apply(&template.spec.containers[container]);
    // A ReplicaSet of the pod: names stay unique without a Deployment's hash.
    template.source.kind = "ReplicaSet".to_string();
    template.source.replicas = exposure.pods;
    template.name = pod.name.clone();

    let mut rng = Pcg64Mcg::new(u128::from(exposure.seed) << 32 | 0x7u128);
    let mut incidents = Vec::new();
    // Incidents start after the slowest plausible start, so they hit a running app.
    let first = 10 * 60 * SECOND;
    for p in 0..exposure.pods {
        if let Some(every) = app.incidents.hang_every {
            for at in arrivals(&mut rng, every.as_nanos() as f64, first, exposure.duration_ns) {
                incidents.push(Incident { pod: p, at_ns: at, kind: IncidentKind::Hang });
            }
        }
        if let Some(every) = app.incidents.crash_every {
            for at in arrivals(&mut rng, every.as_nanos() as f64, first, exposure.duration_ns) {
                incidents.push(Incident { pod: p, at_ns: at, kind: IncidentKind::Crash(app.incidents.crash_code) });
            }
        }
    }
    let mut behaviours = app.file.clone();
    behaviours.rules.clear();
    behaviours.actions.clear();
    behaviours.default = app.behaviour.clone();
    let opts = SimOptions {
        duration_ns: exposure.duration_ns,
        seed: exposure.seed,
        kubelet: kubelet.clone(),
        record_probes: false,
        pods_per_node: 110,
        quiet: true,
        incidents,
    };
    let result = match Simulation::new(std::slice::from_ref(&template), behaviours, opts) {
        Ok(sim) => sim.run(),
        Err(_) => return empty(exposure),
    };
    let end = result.end_ns;
    let mut ready: Vec<f64> = Vec::new();
    let mut never_ready = 0;
    let (mut hangs, mut undetected) = (0u32, 0u32);
    let mut detections: Vec<f64> = Vec::new();
    let (mut false_restarts, mut startup_kills, mut false_not_ready) = (0u64, 0u64, 0u64);
    let mut false_not_ready_ns = 0u64;
    let mut probes = 0u64;
    for p in &result.pods {
        let s = &p.stats;
        match s.ready_ns {
            Some(t) => ready.push((t - p.created_ns) as f64 / SECOND as f64),
            None => never_ready += 1,
        }
        for k in &s.kills {
            match (k.incident_since_ns, k.during_startup) {
                (Some(_), _) => {}
                (None, true) => startup_kills += 1,
                (None, false) => false_restarts += 1,
            }
        }
        for &h in &s.hangs {
            let detected = s.kills.iter().find(|k| k.incident_since_ns == Some(h));
            match detected {
                Some(k) => {
                    hangs += 1;
                    detections.push((k.t_ns - h) as f64 / SECOND as f64);
                }
                None if end - h >= CENSOR_NS => {
                    hangs += 1;
                    undetected += 1;
                }
                None => {}
            }
        }
        false_not_ready += u64::from(s.false_not_ready);
        false_not_ready_ns += s.false_not_ready_ns;
        probes += s.probes.iter().sum::<u64>();
    }
    let pod_days = exposure.pod_days();
    // Undetected hangs count as infinitely slow detections in the percentiles.
    let mut detect_all = detections.clone();
    detect_all.extend(std::iter::repeat_n(f64::INFINITY, undetected as usize));
    Metrics {
        pod_days,
        ready_p50_s: stats::quantile(&mut ready.clone(), 0.5),
        ready_p99_s: stats::quantile(&mut ready, 0.99),
        never_ready,
        hangs,
        hangs_undetected: undetected,
        detect_p50_s: stats::quantile(&mut detect_all.clone(), 0.5),
        detect_p99_s: stats::quantile(&mut detect_all, 0.99),
        false_restarts_per_day: stats::poisson_rate(false_restarts, pod_days),
        false_restarts,
        startup_kills_per_day: stats::poisson_rate(startup_kills, pod_days),
        startup_kills,
        false_not_ready_per_day: stats::poisson_rate(false_not_ready, pod_days),
        false_not_ready_s_per_day: false_not_ready_ns as f64 / SECOND as f64 / pod_days.max(f64::MIN_POSITIVE),
        probes_per_pod_hour: probes as f64 / (pod_days * 24.0).max(f64::MIN_POSITIVE),
    }
}

fn empty(exposure: Exposure) -> Metrics {
    let zero = stats::poisson_rate(0, exposure.pod_days());
    Metrics {
        pod_days: exposure.pod_days(),
        ready_p50_s: None,
        ready_p99_s: None,
        never_ready: exposure.pods,
        hangs: 0,
        hangs_undetected: 0,
        detect_p50_s: None,
        detect_p99_s: None,
        false_restarts_per_day: zero,
        false_restarts: 0,
        startup_kills_per_day: zero,
        startup_kills: 0,
        false_not_ready_per_day: zero,
        false_not_ready_s_per_day: 0.0,
        probes_per_pod_hour: 0.0,
    }
}

/// Measure many settings on all cores: each candidate is independent, so the work is split
/// by candidate across threads (the simulator itself stays single-threaded).
pub fn measure_all(
    subject: Subject<'_>,
    settings: &[Setting],
    exposure: Exposure,
    threads: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Vec<Metrics> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let results: Arc<std::sync::Mutex<Vec<Option<Metrics>>>> =
        Arc::new(std::sync::Mutex::new(vec![None; settings.len()]));
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(setting) = settings.get(i) else { break };
                    let m = measure(subject, setting, exposure);
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(m);
                    }
                    progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
                }
            });
        }
    });
    let results = Arc::try_unwrap(results).map(|m| m.into_inner().unwrap_or_default()).unwrap_or_default();
    results.into_iter().map(|m| m.unwrap_or_else(|| empty(exposure))).collect()
}
