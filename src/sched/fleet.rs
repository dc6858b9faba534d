//! The engine's view of a plan: pod groups (a template × replicas), the probe templates
//! their containers carry, the series they are recorded under, and where each worker's
//! grid starts (the initial-phase model).

use std::sync::Arc;

use serde::Serialize;

use super::mechanism::{Capabilities, MechanismKind, ProbeTemplate, needs_targets};
use crate::kubelet::worker::initial_jitter_ns;
use crate::spec::{Pod, ProbeType};

/// A (mechanism, probe type) pair whose probes are recorded together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct SeriesInfo {
    /// What ran.
    pub mechanism: MechanismKind,
    /// What the manifests declared (differs when a probe ran as a noop stand-in).
    pub declared: MechanismKind,
    pub probe_type: ProbeType,
}

impl SeriesInfo {
    /// `http.liveness`, or `http-as-noop.liveness` for a stand-in.
    pub fn tag(&self) -> String {
        crate::report::summary::series_tag(self.mechanism.as_str(), self.declared.as_str(), self.probe_type.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct ContainerPlan {
    pub name: String,
    /// Indices into [`Fleet::templates`], in the kubelet's worker order.
    pub templates: Vec<u32>,
    /// A startup probe gates liveness and readiness until it succeeds.
    pub has_startup: bool,
}

/// A pod template run `replicas` times; pod numbers `first_pod..first_pod+replicas`.
#[derive(Debug, Clone)]
pub struct PodGroup {
    pub name: String,
    pub first_pod: u32,
    pub replicas: u32,
    pub containers: Vec<ContainerPlan>,
    pub restart_never: bool,
}

impl PodGroup {
    /// The pod's name: the group name for a single pod, `name-i` for replicas.
    pub fn pod_name(&self, pod: u32) -> String {
        if self.replicas == 1 { self.name.clone() } else { format!("{}-{}", self.name, pod - self.first_pod) }
    }
}

/// How a worker's grid is placed after the run starts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum InitialPhase {
    /// The kubelet's rule (PR #97126): a random sleep in [0, period) only when the probe
    /// manager started less than a period ago; `uptime_ns` is how long ago that was.
    Kubelet { uptime_ns: u64 },
    /// Every worker starts at once (the thundering herd).
    None,
    /// Phases spread uniformly over [0, period).
    Uniform,
}

/// Everything the engine runs in one phase.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub templates: Vec<Arc<ProbeTemplate>>,
    pub groups: Vec<PodGroup>,
    pub series: Vec<SeriesInfo>,
    pub pods: u32,
    /// Mechanisms that ran as noop because this build lacks them.
    pub stand_ins: Vec<MechanismKind>,
}

/// One input pod template for [`Fleet::build`].
#[derive(Debug, Clone)]
pub struct GroupInput {
    pub pod: Pod,
    pub replicas: u32,
    /// Run every probe of these pods as this mechanism (the scenarios' `probeAs: noop`).
    pub probe_as: Option<MechanismKind>,
}

const S: u64 = 1_000_000_000;

impl Fleet {
    /// Build the fleet; probes this build or run cannot really execute (see
    /// [`Capabilities`]) run as noop stand-ins, listed in `stand_ins`.
    pub fn build(inputs: &[GroupInput], caps: &Capabilities) -> Fleet {
        let mut fleet =
            Fleet { templates: Vec::new(), groups: Vec::new(), series: Vec::new(), pods: 0, stand_ins: Vec::new() };
        for input in inputs {
            let mut containers = Vec::new();
            for (_, c) in input.pod.spec.probed_containers() {
                let container = Arc::new(c.clone());
                let mut templates = Vec::new();
                for (probe_type, probe) in c.probes() {
                    let Some(action) = probe.handler.action() else {
                        continue;
                    };
                    let declared = MechanismKind::of(action);
                    let wanted = input.probe_as.unwrap_or(declared);
                    let kind = if wanted == MechanismKind::Noop || caps.runs(wanted, needs_targets(action)) {
                        wanted
                    } else {
                        if !fleet.stand_ins.contains(&wanted) {
                            fleet.stand_ins.push(wanted);
                        }
                        MechanismKind::Noop
                    };
                    let info = SeriesInfo {
                        mechanism: kind,
                        declared: if input.probe_as.is_some() { kind } else { declared },
                        probe_type,
                    };
                    let series = match fleet.series.iter().position(|s| *s == info) {
                        Some(i) => i,
                        None => {
                            fleet.series.push(info);
                            fleet.series.len() - 1
                        }
                    };
                    let period_s = u64::try_from(probe.period_seconds).unwrap_or(10).max(1);
                    let timeout_s = u64::try_from(probe.timeout_seconds).unwrap_or(1).max(1);
                    templates.push(fleet.templates.len() as u32);
                    fleet.templates.push(Arc::new(ProbeTemplate {
                        index: fleet.templates.len() as u32,
                        first_pod: fleet.pods,
                        replicas: input.replicas,
                        series: series as u16,
                        kind,
                        declared: info.declared,
                        probe_type,
                        period_ns: period_s * S,
                        timeout_ns: timeout_s * S,
                        probe: probe.clone(),
                        container: Arc::clone(&container),
                    }));
                }
                containers.push(ContainerPlan {
                    name: c.name.clone(),
                    has_startup: c.startup_probe.is_some(),
                    templates,
                });
            }
            fleet.groups.push(PodGroup {
                name: input.pod.name.clone(),
                first_pod: fleet.pods,
                replicas: input.replicas,
                containers,
                restart_never: input.pod.spec.restart_policy == "Never",
            });
            fleet.pods += input.replicas;
        }
        fleet
    }

    /// Probe workers in the fleet.
    pub fn workers(&self) -> u64 {
        self.groups
            .iter()
            .map(|g| u64::from(g.replicas) * g.containers.iter().map(|c| c.templates.len() as u64).sum::<u64>())
            .sum()
    }

    /// Probes per second the fleet's schedule asks for, per mechanism that runs.
    pub fn rate_by_kind(&self) -> [f64; MechanismKind::COUNT] {
        let mut out = [0.0; MechanismKind::COUNT];
        for g in &self.groups {
            for c in &g.containers {
                for &t in &c.templates {
                    let t = &self.templates[t as usize];
                    out[t.kind.index()] += f64::from(g.replicas) * 1e9 / t.period_ns as f64;
                }
            }
        }
        out
    }

    /// Series labels for files and tags.
    pub fn tags(&self) -> Vec<String> {
        self.series.iter().map(SeriesInfo::tag).collect()
    }

    /// The group holding pod `pod`.
    pub fn group_of(&self, pod: u32) -> Option<&PodGroup> {
        self.groups.iter().find(|g| pod >= g.first_pod && pod < g.first_pod + g.replicas)
    }

    /// A copy with every probe run as noop (the calibration floor).
    pub fn as_noop(&self) -> Fleet {
        let mut f = self.clone();
        f.series = self.series.iter().map(|s| SeriesInfo { mechanism: MechanismKind::Noop, ..*s }).collect();
        f.templates = self
            .templates
            .iter()
            .map(|t| {
                let mut t = (**t).clone();
                t.kind = MechanismKind::Noop;
                Arc::new(t)
            })
            .collect();
        f.stand_ins.clear();
        f
    }
}

/// SplitMix64: a fixed, portable mix so a worker's phase depends only on the seed and the
/// worker's identity (not on the shard count or thread timing).
pub fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let mut z = seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.rotate_left(32);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Offset of a worker's first probe from the run's start.
pub fn initial_offset_ns(model: InitialPhase, seed: u64, pod: u32, template: u32, period_ns: u64) -> u64 {
    let unit = (mix(seed, u64::from(pod), u64::from(template)) >> 11) as f64 / (1u64 << 53) as f64;
    match model {
        InitialPhase::None => 0,
        InitialPhase::Uniform => (unit * period_ns as f64) as u64 % period_ns.max(1),
        InitialPhase::Kubelet { uptime_ns } => initial_jitter_ns((period_ns / S).max(1) as u32, uptime_ns, unit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_deterministic_and_inside_the_period() {
        let p = 10 * S;
        for pod in 0..1000 {
            let a = initial_offset_ns(InitialPhase::Uniform, 7, pod, 0, p);
            assert_eq!(a, initial_offset_ns(InitialPhase::Uniform, 7, pod, 0, p));
            assert!(a < p);
        }
        assert_eq!(initial_offset_ns(InitialPhase::None, 7, 3, 0, p), 0);
        assert_eq!(
            initial_offset_ns(InitialPhase::Kubelet { uptime_ns: 3600 * S }, 7, 3, 0, p),
            0,
            "no jitter once the kubelet has been up longer than a period"
        );
        let spread: std::collections::BTreeSet<u64> =
            (0..100).map(|pod| initial_offset_ns(InitialPhase::Kubelet { uptime_ns: 0 }, 7, pod, 0, p) / S).collect();
        assert!(spread.len() >= 8, "spread over the period: {spread:?}");
    }
}
