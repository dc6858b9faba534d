//! Scenario files -> one validated, expanded [`Plan`], in two stages (DESIGN.md): serde
//! parses the raw structs (unknown fields are errors), then one validation pass turns them
//! into a typed plan and reports *every* error with its field path. Paths inside a scenario
//! (manifests) are relative to the scenario file.
//!
//! ```yaml
//! kind: Scenario
//! name: my-run
//! duration: 30s            # measured time, after warm-up
//! warmup: 3s
//! calibration: 2s          # noop floor measured before the run (0s: none)
//! seed: 1
//! scheduler: hires         # hires | naive
//! timer: timerfd           # timerfd | park
//! timerSlack: 1ns          # PR_SET_TIMERSLACK for the shard threads (0s: kernel default)
//! shards: 0                # 0: one per core
//! ioThreads: 0             # 0: one per core
//! initialPhase: kubelet    # kubelet | none | uniform
//! kubeletUptime: 0s        # kubelet model: how long ago the kubelet started
//! concurrency: {exec: 32, tcp: 1024, http: 1024, grpc: 256}
//! drain: 5s                # how long in-flight probes may finish after the end
//! outputs: {dir: results, hgrm: true, hlog: true, events: true}
//! lifecycle: false         # true: pods are created, started, restarted in real time
//! allowExec: false         # exec probes run their commands on this machine
//! kubeletVersion: "1.35"   # lifecycle: the kubelet whose behaviour to follow
//! crashLoop: default       # lifecycle: default | reduced | max=30s
//! thresholds:              # pass/fail (docs/thresholds.md); exit 1 when one fails
//! - dispatch_lag.p99 < 2ms
//! pods:
//! - manifest: ../targets/pods/myweb-startup.yaml
//!   replicas: 100          # overrides the manifest's replicas
//!   behaviour: healthy     # handed to the targets (their vocabulary)
//! - name: web
//!   replicas: 2000
//!   probeAs: noop          # run these pods' probes as noop (the scheduler alone)
//!   template: {metadata: {...}, spec: {containers: [...]}}
//! phases:                  # optional: run one after another, each with its own pods
//! - name: tcp
//!   duration: 20s
//!   pods: [...]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_yaml::{Mapping, Value};

use crate::sched::engine::SchedulerKind;
use crate::sched::fleet::{GroupInput, InitialPhase};
use crate::sched::mechanism::MechanismKind;
use crate::sched::timer::TimerBackend;
use crate::spec;

/// The built-in default scenario, compiled in so an installed `probebench run` needs no files.
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.yaml");

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawScenario {
    api_version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    description: Option<String>,
    duration: Option<String>,
    warmup: Option<String>,
    calibration: Option<String>,
    seed: Option<u64>,
    scheduler: Option<String>,
    timer: Option<String>,
    timer_slack: Option<String>,
    timer_coalesce: Option<String>,
    shards: Option<u32>,
    io_threads: Option<u32>,
    initial_phase: Option<String>,
    kubelet_uptime: Option<String>,
    concurrency: Option<BTreeMap<String, u32>>,
    drain: Option<String>,
    outputs: Option<RawOutputs>,
    lifecycle: Option<bool>,
    allow_exec: Option<bool>,
    kubelet_version: Option<String>,
    crash_loop: Option<String>,
    thresholds: Option<Vec<String>>,
    pods: Option<Vec<RawPods>>,
    phases: Option<Vec<RawPhase>>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawOutputs {
    dir: Option<String>,
    hgrm: Option<bool>,
    hlog: Option<bool>,
    events: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPods {
    name: Option<String>,
    manifest: Option<String>,
    template: Option<Value>,
    replicas: Option<i64>,
    behaviour: Option<Value>,
    probe_as: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPhase {
    name: Option<String>,
    duration: Option<String>,
    warmup: Option<String>,
    initial_phase: Option<String>,
    kubelet_uptime: Option<String>,
    pods: Option<Vec<RawPods>>,
}

/// How a hires shard spaces its wake-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coalesce {
    /// [`crate::sched::hires::auto_coalesce_ns`] from the phase's rate per shard.
    Auto,
    /// A fixed minimum gap, nanoseconds (0: wake for every deadline).
    Fixed(u64),
}

/// One group of pods in a phase.
#[derive(Debug, Clone)]
pub struct PodsPlan {
    pub input: GroupInput,
    /// Behaviour for the targets, as written (the targets' vocabulary); `None`: healthy.
    pub behaviour: Option<Value>,
    /// Where the pods came from (manifest path or `pods[i].template`).
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct PhasePlan {
    pub name: String,
    pub duration_ns: u64,
    pub warmup_ns: u64,
    /// Overrides the scenario's initial-phase model for this phase.
    pub initial_phase: Option<InitialPhase>,
    pub pods: Vec<PodsPlan>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outputs {
    pub dir: PathBuf,
    pub hgrm: bool,
    pub hlog: bool,
    pub events: bool,
}

/// A validated scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub description: String,
    /// The scenario file, or `built-in default`.
    pub source: String,
    pub seed: u64,
    pub scheduler: SchedulerKind,
    pub timer: TimerBackend,
    pub timer_slack_ns: u64,
    /// Minimum gap between a shard's wake-ups (`timerCoalesce`: auto or a duration).
    pub coalesce: Coalesce,
    /// 0: one per core.
    pub shards: usize,
    pub io_threads: usize,
    pub initial_phase: InitialPhase,
    pub bounds: [u32; MechanismKind::COUNT],
    pub calibration_ns: u64,
    pub drain_ns: u64,
    pub outputs: Outputs,
    pub phases: Vec<PhasePlan>,
    /// Drive the pod lifecycle (kubelet pod workers, restarts, back-off) in real time
    /// against the targets, rather than probing containers that always run.
    pub lifecycle: bool,
    /// Exec probes run their commands on this machine: only when allowed.
    pub allow_exec: bool,
    pub kubelet_version: crate::kubelet::config::Version,
    pub crash_loop: crate::kubelet::config::CrashLoopProfile,
    /// Pass/fail conditions (docs/thresholds.md), validated.
    pub thresholds: Vec<String>,
}

/// One problem with a scenario, with its field path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {path}{sep}{message}", sep = if .path.is_empty() { "" } else { ": " })]
pub struct ScenarioError {
    pub file: String,
    pub path: String,
    pub message: String,
}

/// Default in-flight bounds: exec is expensive (a fork per probe, ~1.4k/s per core here),
/// sockets are cheap but each holds an fd.
pub const DEFAULT_BOUNDS: [u32; MechanismKind::COUNT] = [u32::MAX, 32, 1024, 1024, 256];

const S: u64 = 1_000_000_000;

/// Load a scenario file, or a plain manifest (its pods then run with the defaults and the
/// default behaviour: every declared port served, healthy).
pub fn load_file(path: &str) -> Result<Plan, Vec<ScenarioError>> {
    let text = spec::yaml::read_text(path)
        .map_err(|e| vec![ScenarioError { file: path.to_string(), path: String::new(), message: e.to_string() }])?;
    let base = Path::new(path).parent().map(Path::to_path_buf).unwrap_or_default();
    if is_scenario(&text) { load_str(path, &text, &base) } else { from_manifest(path) }
}

/// The built-in default scenario.
pub fn default_plan() -> Result<Plan, Vec<ScenarioError>> {
    load_str("built-in default", DEFAULT_SCENARIO, Path::new("."))
}

/// Whether YAML text is a scenario (`kind: Scenario`) rather than a Kubernetes manifest.
pub fn is_scenario(text: &str) -> bool {
    serde_yaml::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("kind").and_then(Value::as_str).map(|k| k == "Scenario"))
        .unwrap_or(false)
}

fn from_manifest(path: &str) -> Result<Plan, Vec<ScenarioError>> {
    let mut plan = load_str(path, "kind: Scenario\npods: []\n", Path::new("."))?;
    let loaded = spec::load_file(path).map_err(|errs| {
        errs.into_iter()
            .map(|e| ScenarioError { file: path.to_string(), path: String::new(), message: e.to_string() })
            .collect::<Vec<_>>()
    })?;
    plan.name = Path::new(path).file_stem().map_or("manifest".into(), |s| s.to_string_lossy().into_owned());
    plan.description = format!("the pods of {path}, their lifecycle driven in real time");
    // A manifest's pods live as on a node: created, pulled, started, probed, restarted. Like
    // `simulate`, the kubelet has been up for long (new workers start probing at once).
    plan.lifecycle = true;
    plan.initial_phase = InitialPhase::Kubelet { uptime_ns: 24 * 3600 * S };
    plan.phases[0].pods = loaded
        .pods
        .into_iter()
        .map(|p| PodsPlan {
            input: GroupInput { replicas: p.source.replicas, pod: p, probe_as: None },
            behaviour: None,
            source: path.to_string(),
        })
        .collect();
    Ok(plan)
}

/// Parse and validate scenario text; `base` resolves relative manifest paths.
pub fn load_str(file: &str, text: &str, base: &Path) -> Result<Plan, Vec<ScenarioError>> {
    let raw: RawScenario = serde_yaml::from_str(text).map_err(|e| {
        vec![ScenarioError {
            file: file.to_string(),
            path: String::new(),
            message: format!("not a valid scenario: {e}"),
        }]
    })?;
    let mut v = Validator { file: file.to_string(), base: base.to_path_buf(), errors: Vec::new() };
    let plan = v.plan(raw);
    if v.errors.is_empty() { Ok(plan) } else { Err(v.errors) }
}

struct Validator {
    file: String,
    base: PathBuf,
    errors: Vec<ScenarioError>,
}

impl Validator {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ScenarioError { file: self.file.clone(), path: path.into(), message: message.into() });
    }

    fn duration(&mut self, path: &str, v: Option<&str>, default_ns: u64) -> u64 {
        let Some(s) = v else { return default_ns };
        match humantime::parse_duration(s.trim()) {
            Ok(d) => u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Err(e) => {
                self.err(path, format!("Invalid value: {s:?}: {e} (durations read like 500ms, 30s, 10m)"));
                default_ns
            }
        }
    }

    fn plan(&mut self, raw: RawScenario) -> Plan {
        if let Some(k) = raw.kind.as_deref()
            && k != "Scenario"
        {
            self.err("kind", format!("Unsupported value: {k:?}: supported values: \"Scenario\""));
        }
        if let Some(a) = raw.api_version.as_deref()
            && a != "probebench/v1"
        {
            self.err("apiVersion", format!("Unsupported value: {a:?}: supported values: \"probebench/v1\""));
        }
        let duration_ns = self.duration("duration", raw.duration.as_deref(), 30 * S);
        if duration_ns == 0 {
            self.err("duration", "Invalid value: must be greater than 0");
        }
        let warmup_ns = self.duration("warmup", raw.warmup.as_deref(), 3 * S);
        let calibration_ns = self.duration("calibration", raw.calibration.as_deref(), 2 * S);
        let drain_ns = self.duration("drain", raw.drain.as_deref(), 5 * S);
        let timer_slack_ns = self.duration("timerSlack", raw.timer_slack.as_deref(), 1);
        let coalesce = match raw.timer_coalesce.as_deref() {
            None | Some("auto") => Coalesce::Auto,
            Some(d) => Coalesce::Fixed(self.duration("timerCoalesce", Some(d), 0)),
        };
        let scheduler = match raw.scheduler.as_deref() {
            None | Some("hires") => SchedulerKind::Hires,
            Some("naive") => SchedulerKind::Naive,
            Some(o) => {
                self.err("scheduler", format!("Unsupported value: {o:?}: supported values: \"hires\", \"naive\""));
                SchedulerKind::Hires
            }
        };
        let timer = match raw.timer.as_deref() {
            None => TimerBackend::default(),
            Some(t) => TimerBackend::parse(t).unwrap_or_else(|| {
                self.err("timer", format!("Unsupported value: {t:?}: supported values: \"timerfd\", \"park\""));
                TimerBackend::default()
            }),
        };
        let initial_phase = self
            .initial_phase("", raw.initial_phase.as_deref(), raw.kubelet_uptime.as_deref())
            .unwrap_or(InitialPhase::Kubelet { uptime_ns: 0 });
        let mut bounds = DEFAULT_BOUNDS;
        for (k, &n) in raw.concurrency.iter().flatten() {
            let path = format!("concurrency.{k}");
            match MechanismKind::parse(k) {
                Some(MechanismKind::Noop) | None => {
                    self.err(path, "Unsupported value: supported keys: \"exec\", \"tcp\", \"http\", \"grpc\"")
                }
                Some(m) if n == 0 => {
                    let _ = m;
                    self.err(path, "Invalid value: 0: must be at least 1")
                }
                Some(m) => bounds[m.index()] = n,
            }
        }
        let outputs = raw.outputs.unwrap_or_default();
        let outputs = Outputs {
            dir: PathBuf::from(outputs.dir.unwrap_or_else(|| "results".into())),
            hgrm: outputs.hgrm.unwrap_or(true),
            hlog: outputs.hlog.unwrap_or(true),
            events: outputs.events.unwrap_or(true),
        };
        let mut phases = Vec::new();
        match (raw.phases, raw.pods) {
            (Some(_), Some(_)) => self.err("phases", "Forbidden: give either pods or phases, not both"),
            (Some(ps), None) => {
                if ps.is_empty() {
                    self.err("phases", "Required value: at least one phase");
                }
                for (i, p) in ps.into_iter().enumerate() {
                    let path = format!("phases[{i}]");
                    let d = self.duration(&format!("{path}.duration"), p.duration.as_deref(), duration_ns);
                    let w = self.duration(&format!("{path}.warmup"), p.warmup.as_deref(), warmup_ns);
                    let pods = self.pods(&format!("{path}.pods"), p.pods.unwrap_or_default());
                    let ip = self.initial_phase(
                        &format!("{path}."),
                        p.initial_phase.as_deref(),
                        p.kubelet_uptime.as_deref(),
                    );
                    phases.push(PhasePlan {
                        name: p.name.unwrap_or_else(|| format!("phase-{i}")),
                        duration_ns: d,
                        warmup_ns: w,
                        initial_phase: ip,
                        pods,
                    });
                }
            }
            (None, pods) => {
                let pods = self.pods("pods", pods.unwrap_or_default());
                phases.push(PhasePlan { name: "main".into(), duration_ns, warmup_ns, initial_phase: None, pods });
            }
        }
        let kubelet_version = match raw.kubelet_version.as_deref() {
            None => crate::kubelet::config::Version::NEWEST,
            Some(v) => crate::kubelet::config::Version::parse_supported(v).unwrap_or_else(|e| {
                self.err("kubeletVersion", format!("Invalid value: {v:?}: {e}"));
                crate::kubelet::config::Version::NEWEST
            }),
        };
        let crash_loop = match raw.crash_loop.as_deref() {
            None => crate::kubelet::config::CrashLoopProfile::Default,
            Some(c) => crate::kubelet::config::CrashLoopProfile::parse(c).unwrap_or_else(|e| {
                self.err("crashLoop", format!("Invalid value: {c:?}: {e}"));
                crate::kubelet::config::CrashLoopProfile::Default
            }),
        };
        let thresholds = raw.thresholds.unwrap_or_default();
        let catalogue = crate::thresholds::Catalogue::with_phases(phases.iter().map(|p| p.name.clone()));
        for (i, t) in thresholds.iter().enumerate() {
            if let Err(e) = crate::thresholds::parse_and_validate(t, &catalogue) {
                self.err(format!("thresholds[{i}]"), format!("Invalid value: {t:?}: {e}"));
            }
        }
        Plan {
            lifecycle: raw.lifecycle.unwrap_or(false),
            allow_exec: raw.allow_exec.unwrap_or(false),
            kubelet_version,
            crash_loop,
            thresholds,
            name: raw.name.unwrap_or_else(|| "scenario".into()),
            description: raw.description.unwrap_or_default(),
            source: self.file.clone(),
            seed: raw.seed.unwrap_or(1),
            scheduler,
            timer,
            timer_slack_ns,
            coalesce,
            shards: raw.shards.unwrap_or(0) as usize,
            io_threads: raw.io_threads.unwrap_or(0) as usize,
            initial_phase,
            bounds,
            calibration_ns,
            drain_ns,
            outputs,
            phases,
        }
    }

    /// `initialPhase` (+ `kubeletUptime`) at `prefix`; `None` when neither is given.
    fn initial_phase(&mut self, prefix: &str, model: Option<&str>, uptime: Option<&str>) -> Option<InitialPhase> {
        let uptime_ns = self.duration(&format!("{prefix}kubeletUptime"), uptime, 0);
        match model {
            None if uptime.is_none() => None,
            None | Some("kubelet") => Some(InitialPhase::Kubelet { uptime_ns }),
            Some("none") => Some(InitialPhase::None),
            Some("uniform") => Some(InitialPhase::Uniform),
            Some(o) => {
                self.err(
                    format!("{prefix}initialPhase"),
                    format!("Unsupported value: {o:?}: supported values: \"kubelet\", \"none\", \"uniform\""),
                );
                None
            }
        }
    }

    fn pods(&mut self, path: &str, raw: Vec<RawPods>) -> Vec<PodsPlan> {
        let mut out = Vec::new();
        for (i, p) in raw.into_iter().enumerate() {
            let path = format!("{path}[{i}]");
            // As many as the pod address range holds (PROBEBENCH_POD_NET may shorten it).
            let max_pods = probebench_targets::max_pods();
            let replicas = match p.replicas {
                None => None,
                Some(r) if (1..=i64::from(max_pods)).contains(&r) => Some(r as u32),
                Some(r) => {
                    self.err(
                        format!("{path}.replicas"),
                        format!("Invalid value: {r}: must be between 1 and {max_pods}"),
                    );
                    None
                }
            };
            let probe_as = match p.probe_as.as_deref() {
                None => None,
                Some("noop") => Some(MechanismKind::Noop),
                Some(o) => {
                    self.err(
                        format!("{path}.probeAs"),
                        format!("Unsupported value: {o:?}: supported values: \"noop\""),
                    );
                    None
                }
            };
            let pods = match (&p.manifest, &p.template) {
                (Some(_), Some(_)) => {
                    self.err(path.clone(), "Forbidden: give either manifest or template, not both");
                    continue;
                }
                (None, None) => {
                    self.err(path.clone(), "Required value: manifest or template");
                    continue;
                }
                (Some(m), None) => {
                    let full = self.base.join(m);
                    let shown = full.to_string_lossy().into_owned();
                    match spec::load_file(&shown) {
                        Ok(l) => l.pods,
                        Err(errs) => {
                            for e in errs {
                                self.err(format!("{path}.manifest"), e.to_string());
                            }
                            continue;
                        }
                    }
                }
                (None, Some(t)) => match self.template(&path, p.name.as_deref(), i, t) {
                    Some(pod) => vec![pod],
                    None => continue,
                },
            };
            let source = p.manifest.clone().unwrap_or_else(|| format!("{path}.template"));
            let behaviour = self.behaviour(&path, p.behaviour.as_ref());
            for pod in pods {
                out.push(PodsPlan {
                    input: GroupInput { replicas: replicas.unwrap_or(pod.source.replicas).max(1), pod, probe_as },
                    behaviour: behaviour.clone(),
                    source: source.clone(),
                });
            }
        }
        out
    }

    /// A group's behaviour, checked now (in the targets' vocabulary) so a mistake is a
    /// scenario error with its path rather than a targets process that fails to start.
    /// `healthy` names the built-in default, which needs no annotation at all.
    fn behaviour(&mut self, path: &str, b: Option<&Value>) -> Option<Value> {
        let b = b?;
        if let Some(name) = b.as_str() {
            if name != "healthy" {
                self.err(
                    format!("{path}.behaviour"),
                    format!("unknown behaviour {name:?}: write `healthy` or a behaviour mapping (docs/behaviours.md)"),
                );
            }
            return None;
        }
        let text = serde_yaml::to_string(b).unwrap_or_default();
        if let Err(e) = probebench_targets::parse_behaviour(&text) {
            self.err(format!("{path}.behaviour"), e.to_string());
            return None;
        }
        Some(b.clone())
    }

    /// An inline pod template, validated as the API server would a Pod.
    fn template(&mut self, path: &str, name: Option<&str>, i: usize, t: &Value) -> Option<spec::Pod> {
        let Value::Mapping(m) = t else {
            self.err(format!("{path}.template"), "Invalid value: must be a pod template (metadata, spec)");
            return None;
        };
        let mut doc = Mapping::new();
        doc.insert("apiVersion".into(), "v1".into());
        doc.insert("kind".into(), "Pod".into());
        let mut meta = match m.get("metadata") {
            Some(Value::Mapping(meta)) => meta.clone(),
            _ => Mapping::new(),
        };
        if !meta.contains_key("name") {
            meta.insert("name".into(), name.map_or_else(|| format!("pods-{i}"), str::to_string).into());
        }
        doc.insert("metadata".into(), Value::Mapping(meta));
        for (k, v) in m {
            if k.as_str() != Some("metadata") {
                doc.insert(k.clone(), v.clone());
            }
        }
        let text = serde_yaml::to_string(&Value::Mapping(doc)).unwrap_or_default();
        match spec::load_str(&format!("{path}.template"), &text) {
            Ok(l) => l.pods.into_iter().next(),
            Err(errs) => {
                for e in errs {
                    self.errors.push(ScenarioError {
                        file: self.file.clone(),
                        path: String::new(),
                        message: e.to_string(),
                    });
                }
                None
            }
        }
    }
}

impl Plan {
    /// Total pods across phases (the largest phase, since phases run one after another).
    pub fn max_pods(&self) -> u64 {
        self.phases.iter().map(|p| p.pods.iter().map(|g| u64::from(g.input.replicas)).sum::<u64>()).max().unwrap_or(0)
    }

    /// The scenario as resolved (after defaults and command-line overrides), for metadata.
    pub fn resolved(&self) -> serde_json::Value {
        let phases: Vec<serde_json::Value> = self
            .phases
            .iter()
            .map(|p| {
                serde_json::json!({
                    "name": p.name,
                    "duration_s": p.duration_ns as f64 / 1e9,
                    "warmup_s": p.warmup_ns as f64 / 1e9,
                    "initial_phase": p.initial_phase,
                    "pods": p.pods.iter().map(|g| serde_json::json!({
                        "source": g.source,
                        "name": g.input.pod.name,
                        "replicas": g.input.replicas,
                        "probe_as": g.input.probe_as.map(MechanismKind::as_str),
                        "behaviour": g.behaviour.as_ref().map(|b| serde_json::to_value(b).unwrap_or_default()),
                        "spec": g.input.pod.spec,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let bounds: BTreeMap<&str, u32> = MechanismKind::ALL
            .iter()
            .filter(|k| **k != MechanismKind::Noop)
            .map(|k| (k.as_str(), self.bounds[k.index()]))
            .collect();
        serde_json::json!({
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "seed": self.seed,
            "scheduler": self.scheduler,
            "timer": self.timer,
            "timer_slack_ns": self.timer_slack_ns,
            "timer_coalesce": match self.coalesce {
                Coalesce::Auto => serde_json::json!("auto"),
                Coalesce::Fixed(ns) => serde_json::json!(ns),
            },
            "shards": self.shards,
            "io_threads": self.io_threads,
            "initial_phase": self.initial_phase,
            "lifecycle": self.lifecycle,
            "allow_exec": self.allow_exec,
            "kubelet_version": self.kubelet_version.to_string(),
            "crash_loop": format!("{:?}", self.crash_loop),
            "thresholds": self.thresholds,
            "concurrency": bounds,
            "calibration_s": self.calibration_ns as f64 / 1e9,
            "drain_s": self.drain_ns as f64 / 1e9,
            "outputs": self.outputs,
            "phases": phases,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_scenario_is_valid() {
        let plan = default_plan().unwrap();
        assert_eq!(plan.phases.len(), 1);
        assert!(plan.max_pods() >= 1000, "a few thousand pods");
        let kinds: std::collections::BTreeSet<MechanismKind> = plan.phases[0]
            .pods
            .iter()
            .flat_map(|g| g.input.pod.spec.containers.iter())
            .flat_map(|c| c.probes().filter_map(|(_, p)| p.handler.action().map(MechanismKind::of)))
            .collect();
        assert_eq!(kinds.len(), 4, "exec, tcp, http and grpc: {kinds:?}");
    }

    #[test]
    fn every_error_is_reported_with_its_path() {
        let text = "kind: Scenario\nduration: 3 parsecs\nscheduler: fast\nconcurrency: {exec: 0, udp: 4}\npods:\n- replicas: 0\n  template: {spec: {containers: [{name: c, image: x}]}}\n- name: nothing\n";
        let errs = load_str("s.yaml", text, Path::new(".")).unwrap_err();
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        let has = |p: &str| text.iter().any(|t| t.starts_with(&format!("s.yaml: {p}: ")));
        assert!(has("duration"), "{text:#?}");
        assert!(has("scheduler"), "{text:#?}");
        assert!(has("concurrency.exec"), "{text:#?}");
        assert!(has("concurrency.udp"), "{text:#?}");
        assert!(has("pods[0].replicas"), "{text:#?}");
        assert!(has("pods[1]"), "{text:#?}");
        assert_eq!(errs.len(), 6, "{text:#?}");
    }

    #[test]
    fn unknown_fields_fail_the_parse_stage() {
        let errs = load_str("s.yaml", "kind: Scenario\ndurration: 3s\n", Path::new(".")).unwrap_err();
        assert!(errs[0].message.contains("durration"), "{:?}", errs[0]);
    }

    #[test]
    fn template_errors_carry_the_pod_path() {
        let text = "kind: Scenario\npods:\n- template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        livenessProbe: {tcpSocket: {port: 80}, periodSeconds: -1}\n";
        let errs = load_str("s.yaml", text, Path::new(".")).unwrap_err();
        let t = errs[0].to_string();
        assert!(t.contains("pods[0].template"), "{t}");
        assert!(t.contains("periodSeconds"), "{t}");
    }

    #[test]
    fn group_behaviours_are_checked_at_load_with_their_path() {
        let pods = |b: &str| {
            format!(
                "kind: Scenario\npods:\n- name: w\n  behaviour: {b}\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        livenessProbe: {{tcpSocket: {{port: 80}}}}\n"
            )
        };
        // `healthy` names the default: no annotation needed.
        let plan = load_str("s.yaml", &pods("healthy"), Path::new(".")).unwrap();
        assert!(plan.phases[0].pods[0].behaviour.is_none());
        let errs = load_str("s.yaml", &pods("sickly"), Path::new(".")).unwrap_err();
        let t = errs[0].to_string();
        assert!(t.contains("pods[0].behaviour") && t.contains("sickly"), "{t}");
        // A mapping is checked in the targets' vocabulary.
        let errs = load_str("s.yaml", &pods("{phases: [{respond: {status: 99999}}]}"), Path::new(".")).unwrap_err();
        assert!(errs[0].to_string().contains("pods[0].behaviour"), "{:?}", errs);
        let plan = load_str("s.yaml", &pods("{phases: [{respond: {status: 503}}]}"), Path::new(".")).unwrap();
        assert!(plan.phases[0].pods[0].behaviour.is_some());
    }

    #[test]
    fn manifests_resolve_relative_to_the_scenario() {
        let dir = std::env::temp_dir().join(format!("pb-scn-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(
            dir.join("sub/pod.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 7\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: x, readinessProbe: {tcpSocket: {port: 80}}}]\n",
        )
        .unwrap();
        std::fs::write(dir.join("s.yaml"), "kind: Scenario\npods:\n- manifest: sub/pod.yaml\n").unwrap();
        let plan = load_file(dir.join("s.yaml").to_str().unwrap()).unwrap();
        assert_eq!(plan.phases[0].pods[0].input.replicas, 7);
        // A plain manifest runs with the defaults.
        let plan = load_file(dir.join("sub/pod.yaml").to_str().unwrap()).unwrap();
        assert_eq!(plan.phases[0].pods.len(), 1);
        assert_eq!(plan.name, "pod");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
