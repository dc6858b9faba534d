//! The pod lifecycle figures thresholds can check (`restarts`, `kills`, `time_to_ready`,
//! `time_to_started`, `not_ready_time`): the facts the run's lifecycle driver fills in, and
//! the statistics over pods or containers.
//!
//! Times are seconds from the pod's start (when the run created it). A pod that never
//! became Ready (or a container that never started) has `None`, which counts as infinitely
//! late: `time_to_ready < 30s` fails for it and the report says "never".

use serde::Serialize;

use super::catalogue::{Label, LifecycleMetric, Selector, Stat};

/// Per-pod facts of one run (all phases).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LifecycleFacts {
    pub pods: Vec<PodFacts>,
}

/// One pod's lifecycle.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PodFacts {
    /// The scenario phase the pod ran in.
    pub phase: String,
    /// The pod's name (as in events and `prober_probe_total{pod=...}`).
    pub name: String,
    /// Seconds from the pod's start until its Ready condition first became true.
    pub ready_s: Option<f64>,
    /// Seconds the pod spent not Ready after first becoming Ready (until the run ended).
    pub not_ready_s: f64,
    pub containers: Vec<ContainerFacts>,
}

/// One container's lifecycle.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ContainerFacts {
    pub name: String,
    /// restartCount at the end of the run.
    pub restarts: u64,
    /// Kills for a failed liveness or startup probe.
    pub kills: u64,
    /// Seconds from the pod's start until the container was first `started` (its startup
    /// probe passed, or it ran without one).
    pub started_s: Option<f64>,
}

/// The values one lifecycle threshold looks at: one per selected pod or container, in base
/// units (counts, or nanoseconds with `INFINITY` for "never").
pub fn values(facts: &LifecycleFacts, metric: LifecycleMetric, selector: &Selector) -> Vec<f64> {
    let secs = |s: Option<f64>| s.map_or(f64::INFINITY, |s| s * 1e9);
    let mut out = Vec::new();
    for pod in
        facts.pods.iter().filter(|p| selector.accepts(Label::Phase, &p.phase) && selector.accepts(Label::Pod, &p.name))
    {
        match metric {
            LifecycleMetric::TimeToReady => out.push(secs(pod.ready_s)),
            LifecycleMetric::NotReadyTime => out.push(pod.not_ready_s * 1e9),
            LifecycleMetric::Restarts | LifecycleMetric::Kills | LifecycleMetric::TimeToStarted => {
                for c in pod.containers.iter().filter(|c| selector.accepts(Label::Container, &c.name)) {
                    out.push(match metric {
                        LifecycleMetric::Restarts => c.restarts as f64,
                        LifecycleMetric::Kills => c.kills as f64,
                        _ => secs(c.started_s),
                    });
                }
            }
        }
    }
    out
}

/// A statistic over pod (or container) values. Percentiles use the nearest-rank method
/// (the smallest value with at least q of the values at or below it), so `p50` of four pods
/// is the second one, and an infinite "never" stays infinite instead of being interpolated.
pub fn stat(values: &[f64], stat: Stat) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(match stat {
        Stat::Max => v[n - 1],
        Stat::Min => v[0],
        Stat::Sum => v.iter().sum(),
        Stat::Mean => v.iter().sum::<f64>() / n as f64,
        q => {
            let q = q.quantile().unwrap_or(1.0);
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
            v[rank - 1]
        }
    })
}

#[cfg(test)]
mod tests {
    use probebench_targets::behaviour::Glob;

    use super::*;

    fn facts() -> LifecycleFacts {
        let pod = |phase: &str, name: &str, ready: Option<f64>, restarts: u64| PodFacts {
            phase: phase.into(),
            name: name.into(),
            ready_s: ready,
            not_ready_s: 0.5,
            containers: vec![
                ContainerFacts { name: "app".into(), restarts, kills: restarts, started_s: ready.map(|r| r / 2.0) },
                ContainerFacts { name: "sidecar".into(), restarts: 0, kills: 0, started_s: Some(0.1) },
            ],
        };
        LifecycleFacts {
            pods: vec![
                pod("main", "web-0", Some(4.0), 0),
                pod("main", "web-1", Some(6.0), 2),
                pod("main", "db-0", None, 5),
                pod("other", "web-9", Some(1.0), 9),
            ],
        }
    }

    fn sel(m: &[(Label, &str)]) -> Selector {
        Selector { matchers: m.iter().map(|(l, g)| (*l, Glob::new(*g))).collect() }
    }

    #[test]
    fn selects_pods_and_containers_by_glob_and_phase() {
        let f = facts();
        let v = values(&f, LifecycleMetric::Restarts, &sel(&[(Label::Pod, "web-*"), (Label::Phase, "main")]));
        assert_eq!(v, vec![0.0, 0.0, 2.0, 0.0], "app and sidecar of web-0 and web-1");
        let v = values(&f, LifecycleMetric::Restarts, &sel(&[(Label::Container, "app")]));
        assert_eq!(v, vec![0.0, 2.0, 5.0, 9.0]);
        let v = values(&f, LifecycleMetric::TimeToReady, &sel(&[(Label::Phase, "main")]));
        assert_eq!(v, vec![4e9, 6e9, f64::INFINITY], "never Ready is infinitely late");
        assert!(values(&f, LifecycleMetric::Kills, &sel(&[(Label::Pod, "cache-*")])).is_empty());
    }

    #[test]
    fn statistics_over_pods() {
        let v = [3.0, 1.0, 4.0, 2.0];
        assert_eq!(stat(&v, Stat::Max), Some(4.0));
        assert_eq!(stat(&v, Stat::Min), Some(1.0));
        assert_eq!(stat(&v, Stat::Sum), Some(10.0));
        assert_eq!(stat(&v, Stat::Mean), Some(2.5));
        assert_eq!(stat(&v, Stat::P50), Some(2.0), "nearest rank: the 2nd of 4");
        assert_eq!(stat(&v, Stat::P90), Some(4.0));
        assert_eq!(stat(&[], Stat::Max), None);
        let with_never = [1e9, f64::INFINITY, 2e9];
        assert_eq!(stat(&with_never, Stat::P50), Some(2e9));
        assert_eq!(stat(&with_never, Stat::Max), Some(f64::INFINITY));
    }
}
