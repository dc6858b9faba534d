//! The virtual-time engine: a discrete-event simulation of a node's kubelet (and the bits of
//! scheduler and controllers a pod's life touches) over the pure core in `kubelet/`, with
//! the shared behaviour models standing in for containers. Single-threaded and
//! deterministic: the same input and seed give the same output, byte for byte.

use std::sync::Arc;
use std::time::Duration;

use probebench_targets::behaviour::{ActionKind, ImagePull, PhaseView};
use probebench_targets::{Behaviour, BehaviourFile, Instance};
use rand::RngExt;
use rand_pcg::Pcg64Mcg;

use super::judge::{self, SimAction, Target};
use super::queue::Queue;
use crate::fleet::{self, PodInstance};
use crate::kubelet::config::{KubeletConfig, SECOND};
use crate::kubelet::events::{Event, EventLog, EventType};
use crate::kubelet::messages;
use crate::kubelet::pod::{Effect, Hook, Input, PodKubelet, PullInfo};
use crate::kubelet::status::{self, Phase};
use crate::kubelet::worker::{PodView, ProbeWorker, Tick, initial_jitter_ns};
use crate::probe::outcome::ProbeResult;
use crate::probe::{event as probe_event, resolve};
use crate::spec::{self, Action, ProbeType};

/// How long a pod waits between creation and the kubelet's first sync: the scheduler's
/// binding and the kubelet's watch (tens of milliseconds on an idle cluster).
const ADMISSION_DELAY_NS: u64 = 80_000_000;

/// Settings of one simulation.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub duration_ns: u64,
    pub seed: u64,
    pub kubelet: KubeletConfig,
    /// Keep every probe run (JSON `probes`; large for fleets).
    pub record_probes: bool,
    /// Pods per node: each node has its own kubelet timing grids and its own serial image
    /// puller (the default `serializeImagePulls: true`).
    pub pods_per_node: u32,
    /// Keep no event log and no watch lines (the tuner's sweeps only need the statistics).
    pub quiet: bool,
    /// Real incidents to inject (hangs and crashes), for detection measurements.
    pub incidents: Vec<Incident>,
}

/// A real failure of the app, injected at a time: what probes exist to detect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Incident {
    pub pod: u32,
    pub at_ns: u64,
    pub kind: IncidentKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentKind {
    /// The running instance stops answering (accepted connections are never served); a
    /// restart brings the app back.
    Hang,
    /// The app exits with this code.
    Crash(i32),
}

/// A container kill for a failed liveness or startup probe.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Kill {
    pub t_ns: u64,
    /// The container killed (its index in the pod).
    pub container: u16,
    pub probe: ProbeType,
    /// When the incident being detected began; None: the app was healthy (a false restart).
    pub incident_since_ns: Option<u64>,
    /// The app was still starting (not yet serving): a slow but healthy start cut short.
    pub during_startup: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            duration_ns: 600 * SECOND,
            seed: 1,
            kubelet: KubeletConfig::default(),
            record_probes: false,
            pods_per_node: 110,
            quiet: false,
            incidents: Vec::new(),
        }
    }
}

/// One `kubectl get pods --watch` line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WatchLine {
    pub t_ns: u64,
    pub pod: u32,
    pub ready: String,
    pub status: String,
    pub restarts: String,
}

/// One probe run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProbeRecord {
    pub t_ns: u64,
    pub pod: u32,
    pub container: u16,
    pub probe: ProbeType,
    pub result: ProbeResult,
    pub errored: bool,
    /// Counted toward thresholds (not errored).
    pub counted: bool,
    pub latency_ns: u64,
}

/// Per-pod facts for the summary.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PodStats {
    /// When every container was first started (running, startup probe passed).
    pub started_ns: Option<u64>,
    /// When the pod was first Ready.
    pub ready_ns: Option<u64>,
    /// Time spent not Ready after first being Ready.
    pub not_ready_ns: u64,
    /// Probe runs per type: startup, readiness, liveness.
    pub probes: [u64; 3],
    pub failures: [u64; 3],
    pub errored: [u64; 3],
    pub warnings: [u64; 3],
    /// Ticks a busy worker dropped (a probe still running at its next tick).
    pub missed_ticks: u64,
    /// Kills for failed liveness or startup probes.
    pub kills: Vec<Kill>,
    /// When injected hangs took effect (a hang needs a running container).
    pub hangs: Vec<u64>,
    /// Times the pod went from Ready to not Ready while the app was healthy, and how long
    /// that lasted in total.
    pub false_not_ready: u32,
    pub false_not_ready_ns: u64,
    #[serde(skip)]
    not_ready_since: Option<u64>,
    #[serde(skip)]
    false_not_ready_since: Option<u64>,
}

/// Everything a simulation produced.
#[derive(Debug, Clone)]
pub struct SimResult {
    pub end_ns: u64,
    pub pods: Vec<SimPodOut>,
    pub watch: Vec<WatchLine>,
    pub events: EventLog,
    pub probes: Vec<ProbeRecord>,
    /// Probe runs in total (including those not recorded).
    pub probe_runs: u64,
    /// Events processed by the engine (a measure of work).
    pub sim_events: u64,
}

/// A pod's final state.
#[derive(Debug, Clone)]
pub struct SimPodOut {
    pub index: u32,
    pub name: String,
    pub namespace: String,
    pub node: u32,
    pub containers: Vec<String>,
    pub phase: Phase,
    pub ready: bool,
    pub restarts: u32,
    /// restartCount per container.
    pub container_restarts: Vec<u32>,
    pub removed: bool,
    pub scheduled: bool,
    pub created_ns: u64,
    pub stats: PodStats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ev {
    Create(u32),
    Requeue(u32, u32),
    SyncDue(u32),
    Sandbox(u32),
    Pull(u32, u16),
    Exit(u32, u16, u32, i32),
    HookDone(u32, u16, u32, Hook, bool),
    Tick(u32, u32),
    ProbeDone(u32, u32),
    Action(u32),
    Mount(u32, u32),
    SchedulerRetry(u32),
    Incident(u32),
}

struct SimContainer {
    behaviour: Behaviour,
    seed: u64,
    declared: Vec<u16>,
    app: Option<Instance>,
    started_at: u64,
    instance: u32,
    /// An injected hang in the running instance, since when.
    incident_since: Option<u64>,
    pulls: u32,
    pending_pull: Option<Result<PullInfo, String>>,
}

struct SimPod {
    kubelet: PodKubelet,
    inst: PodInstance,
    node: u32,
    /// The pod's containers in the simulation's flat array (hot data stays together).
    first_container: u32,
    container_count: u32,
    workers: Vec<u32>,
    scheduled: bool,
    admitted: bool,
    last_sync_end: u64,
    sync_due_at: Option<u64>,
    requeue_gen: u32,
    last_line: Option<(String, String, String)>,
    stats: PodStats,
    mount_error: Option<String>,
    replaced: bool,
    created_ns: u64,
}

struct SimWorker {
    pod: u32,
    container: u16,
    probe_type: ProbeType,
    worker: ProbeWorker,
    action: SimAction,
    period_ns: u64,
    timeout_ns: u64,
    /// Grid anchor: ticks fire at anchor + k·period.
    anchor: u64,
    generation: u32,
    in_flight: bool,
    pending_tick: bool,
    stopped: bool,
    started_at: u64,
    /// When the kept (pending) tick was due.
    pending_since: u64,
    result: Option<crate::probe::Outcome>,
    /// The status manager's view of the container, refreshed whenever the pod changes.
    view: PodView,
    /// The container in the flat array, and the pod's IP: what a probe run needs, at hand.
    global_container: u32,
    ip: std::net::Ipv4Addr,
    counts: WorkerCounts,
}

/// What one worker ran, summed into [`PodStats`] at the end.
#[derive(Debug, Clone, Copy, Default)]
struct WorkerCounts {
    probes: u64,
    failures: u64,
    errored: u64,
    warnings: u64,
    missed_ticks: u64,
}

struct Node {
    relist_offset: u64,
    ticker_offset: u64,
    puller_free_at: u64,
    /// Images the node has pulled (and when they arrived).
    images: Vec<(String, u64)>,
}

/// What the simulation asks of the real world when it runs live (`probebench run` with the
/// pod lifecycle): the same kubelet core, but probes and containers are real. Virtual runs
/// never produce these.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveCall {
    /// Run worker `worker`'s probe for real; answer with [`Simulation::probe_finished`].
    Probe {
        worker: u32,
        generation: u32,
        pod: u32,
        container: u16,
        probe: ProbeType,
        /// When the tick that fired it was due (the worker's grid point), and whether it
        /// fired late because the previous probe overran (the kubelet's pending tick).
        intended_ns: u64,
        overrun: bool,
        /// The exec session ID the simulator drew for this probe: containerd names it in
        /// its "failed to start exec" error, which the live run reproduces.
        exec_id: Option<String>,
    },
    /// Start a new instance of the container in the targets.
    Start { pod: u32, container: u16, instance: u32 },
    /// Stop the instance (SIGTERM, SIGKILL after the grace); the exit comes back through
    /// [`Simulation::container_exited`].
    Stop { pod: u32, container: u16, instance: u32, grace_ns: u64 },
}

/// The simulation itself.
pub struct Simulation {
    opts: SimOptions,
    cfg: Arc<KubeletConfig>,
    behaviours: BehaviourFile,
    queue: Queue<Ev>,
    pods: Vec<SimPod>,
    containers: Vec<SimContainer>,
    workers: Vec<SimWorker>,
    nodes: Vec<Node>,
    rng: Pcg64Mcg,
    events: EventLog,
    watch: Vec<WatchLine>,
    probes: Vec<ProbeRecord>,
    probe_runs: u64,
    sim_events: u64,
    node_schedulable: bool,
    effects: Vec<Effect>,
    now: u64,
    /// When the event being handled was due (a tick's grid point).
    event_t: u64,
    /// Live mode: probes and containers are real, asked for through `calls`.
    live: bool,
    calls: Vec<LiveCall>,
    /// Watch lines and emitted events already handed out by the live driver.
    watch_taken: usize,
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `docker.io/library/httpd:latest` for `httpd`: how containerd names what it pulls.
pub fn normalized_image(image: &str) -> String {
    let (name, tag) = match image.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
        Some((n, t)) => (n.to_string(), format!(":{t}")),
        None if image.contains('@') => (image.to_string(), String::new()),
        None => (image.to_string(), ":latest".to_string()),
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry = name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let full = if has_registry {
        name
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    format!("{full}{tag}")
}

/// A plausible, stable image size for the Pulled event.
fn image_size(image: &str) -> u64 {
    let h = image.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    20_000_000 + h % 180_000_000
}

impl Simulation {
    /// A simulation of `pods` (already loaded and validated) with their behaviours.
    pub fn new(
        pods: &[spec::Pod],
        behaviours: BehaviourFile,
        opts: SimOptions,
    ) -> Result<Simulation, fleet::FleetError> {
        let fleet = fleet::expand(pods, opts.seed)?;
        let mut rng = Pcg64Mcg::new(u128::from(opts.seed) << 64 | 0x51u128);
        let node_count = (fleet.len() as u32).div_ceil(opts.pods_per_node.max(1)).max(1);
        let nodes = (0..node_count)
            .map(|_| Node {
                relist_offset: rng.random_range(0..SECOND),
                ticker_offset: rng.random_range(0..SECOND),
                puller_free_at: 0,
                images: Vec::new(),
            })
            .collect();
        let cfg = Arc::new(opts.kubelet.clone());
        let mut sim = Simulation {
            opts,
            cfg,
            behaviours,
            queue: Queue::default(),
            pods: Vec::with_capacity(fleet.len()),
            containers: Vec::new(),
            workers: Vec::new(),
            nodes,
            rng,
            events: EventLog::default(),
            watch: Vec::new(),
            probes: Vec::new(),
            probe_runs: 0,
            sim_events: 0,
            node_schedulable: true,
            effects: Vec::new(),
            now: 0,
            event_t: 0,
            live: false,
            calls: Vec::new(),
            watch_taken: 0,
        };
        for p in fleet {
            sim.add_pod(p, 0);
        }
        for (i, a) in sim.behaviours.actions.clone().iter().enumerate() {
            sim.queue.push(ns(a.at), Ev::Action(i as u32));
        }
        for (i, inc) in sim.opts.incidents.iter().enumerate() {
            sim.queue.push(inc.at_ns, Ev::Incident(i as u32));
        }
        Ok(sim)
    }

    fn container(&self, p: u32, c: usize) -> &SimContainer {
        &self.containers[self.pods[p as usize].first_container as usize + c]
    }

    fn container_mut(&mut self, p: u32, c: usize) -> &mut SimContainer {
        let i = self.pods[p as usize].first_container as usize + c;
        &mut self.containers[i]
    }

    fn pod_containers(&self, p: u32) -> &[SimContainer] {
        let pod = &self.pods[p as usize];
        let first = pod.first_container as usize;
        &self.containers[first..first + pod.container_count as usize]
    }

    fn add_pod(&mut self, inst: PodInstance, at: u64) -> u32 {
        let index = self.pods.len() as u32;
        let node = index / self.opts.pods_per_node.max(1);
        let node = node.min(self.nodes.len() as u32 - 1);
        let seed = self.behaviours.seed
            ^ self.opts.seed.rotate_left(17)
            ^ u64::from(index).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let kubelet = PodKubelet::new(
            index,
            inst.name.clone(),
            inst.uid.clone(),
            Arc::clone(&inst.template),
            Arc::clone(&self.cfg),
            seed,
        );
        let mut mount_error = None;
        let first_container = self.containers.len() as u32;
        let new_containers: Vec<SimContainer> = inst
            .template
            .spec
            .containers
            .iter()
            .map(|c| {
                let behaviour = fleet::behaviour_for(&self.behaviours, &inst, &c.name);
                if mount_error.is_none() {
                    mount_error = behaviour.pod_conditions().mount_error.clone();
                }
                SimContainer {
                    seed: fleet::behaviour_seed(&self.behaviours, self.opts.seed, &inst.name, &c.name),
                    behaviour,
                    declared: c.ports.iter().filter_map(|p| u16::try_from(p.container_port).ok()).collect(),
                    app: None,
                    started_at: 0,
                    instance: 0,
                    incident_since: None,
                    pulls: 0,
                    pending_pull: None,
                }
            })
            .collect();
        let container_count = new_containers.len() as u32;
        self.containers.extend(new_containers);
        self.pods.push(SimPod {
            kubelet,
            inst,
            node,
            first_container,
            container_count,
            workers: Vec::new(),
            scheduled: false,
            admitted: false,
            last_sync_end: 0,
            sync_due_at: None,
            requeue_gen: 0,
            last_line: None,
            stats: PodStats::default(),
            mount_error,
            replaced: false,
            created_ns: at,
        });
        self.queue.push(at, Ev::Create(index));
        index
    }

    /// Run to the end and collect the results.
    pub fn run(mut self) -> SimResult {
        let end = self.opts.duration_ns;
        while let Some(t) = self.queue.peek_time() {
            if t > end {
                break;
            }
            let Some((t, ev)) = self.queue.pop() else { break };
            self.now = t;
            self.event_t = t;
            self.sim_events += 1;
            self.dispatch(ev);
        }
        self.now = end;
        self.finish()
    }

    /// A simulation that runs live: the driver (`crate::lifecycle`) feeds it the real
    /// time, carries out its [`LiveCall`]s and reports probe results and container exits.
    pub fn new_live(
        pods: &[spec::Pod],
        behaviours: BehaviourFile,
        opts: SimOptions,
    ) -> Result<Simulation, fleet::FleetError> {
        let mut sim = Simulation::new(pods, behaviours, opts)?;
        sim.live = true;
        Ok(sim)
    }

    /// When the next event is due (live mode: the driver sleeps until then).
    pub fn next_due(&mut self) -> Option<u64> {
        self.queue.peek_time()
    }

    /// Handle every event due at or before `now` (the real time): each is handled at `now`,
    /// so effects carry real times; `event_t` keeps when it was due.
    pub fn run_due(&mut self, now: u64) -> usize {
        let mut n = 0;
        while let Some(t) = self.queue.peek_time() {
            if t > now {
                break;
            }
            let Some((t, ev)) = self.queue.pop() else { break };
            self.now = now.max(t);
            self.event_t = t;
            self.sim_events += 1;
            self.dispatch(ev);
            n += 1;
        }
        n
    }

    /// What the simulation asked of the real world since the last call.
    pub fn take_calls(&mut self, into: &mut Vec<LiveCall>) {
        into.append(&mut self.calls);
    }

    /// A real probe of `worker` finished at `now` with `outcome` (ignored if the worker was
    /// restarted or stopped meanwhile: its generation moved on).
    pub fn probe_finished(&mut self, worker: u32, generation: u32, outcome: crate::probe::Outcome, now: u64) {
        let Some(wk) = self.workers.get_mut(worker as usize) else { return };
        if wk.generation != generation || !wk.in_flight {
            return;
        }
        wk.result = Some(outcome);
        self.now = now.max(self.now);
        self.event_t = self.now;
        self.probe_done(worker);
    }

    /// A real container instance ended at `now` (by itself, or after a [`LiveCall::Stop`]).
    pub fn container_exited(&mut self, pod: u32, container: u16, instance: u32, exit_code: i32, now: u64) {
        if pod as usize >= self.pods.len() || container as u32 >= self.pods[pod as usize].container_count {
            return;
        }
        self.now = now.max(self.now);
        self.event_t = self.now;
        self.exit(pod, container, instance, exit_code);
    }

    /// When the pod was created (its AGE counts from there).
    pub fn pod_created_ns(&self, pod: u32) -> u64 {
        self.pods.get(pod as usize).map_or(0, |p| p.created_ns)
    }

    /// Pod names by index (live mode maps the targets' names back to pods).
    pub fn pod_names(&self) -> impl Iterator<Item = (u32, &str)> {
        self.pods.iter().enumerate().map(|(i, p)| (i as u32, p.inst.name.as_str()))
    }

    /// The pod, its container names and its IP (live mode resolves probes with them).
    pub fn pod_instance(&self, pod: u32) -> Option<&PodInstance> {
        self.pods.get(pod as usize).map(|p| &p.inst)
    }

    /// Watch lines and events produced since the last call (live mode streams them; the
    /// emitted events are moved out, so a long run does not keep them all).
    pub fn take_new_output(&mut self, watch: &mut Vec<WatchLine>, events: &mut Vec<Event>) {
        watch.extend_from_slice(&self.watch[self.watch_taken..]);
        self.watch_taken = self.watch.len();
        events.append(&mut self.events.emitted);
    }

    /// End a live run at `now` and collect what a virtual run collects.
    pub fn finish_live(mut self, now: u64) -> SimResult {
        self.now = now.max(self.now);
        self.finish()
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Create(p) => self.create(p),
            Ev::Requeue(p, generation) => {
                if self.pods[p as usize].requeue_gen == generation {
                    self.sync_at_relist(p, true);
                }
            }
            Ev::SyncDue(p) => {
                let pod = &mut self.pods[p as usize];
                if pod.sync_due_at == Some(self.event_t) {
                    pod.sync_due_at = None;
                    // The image manager asks the node's runtime what it has.
                    let node = &self.nodes[pod.node as usize];
                    if pod.kubelet.images_present.len() != node.images.len() {
                        pod.kubelet.images_present = node.images.iter().map(|(i, _)| i.clone()).collect();
                    }
                    self.input(p, Input::SyncDue);
                }
            }
            Ev::Sandbox(p) => self.input(p, Input::SandboxReady),
            Ev::Pull(p, c) => {
                if let Some(result) = self.container_mut(p, c as usize).pending_pull.take() {
                    self.input(p, Input::PullDone { container: c as usize, result });
                }
            }
            Ev::Exit(p, c, instance, code) => self.exit(p, c, instance, code),
            Ev::HookDone(p, c, instance, hook, failed) => {
                let error = failed.then(|| "command terminated with non-zero exit code".to_string());
                self.input(p, Input::HookDone { container: c as usize, instance, hook, error });
            }
            Ev::Tick(w, generation) => {
                if self.workers[w as usize].generation == generation {
                    self.tick(w);
                }
            }
            Ev::ProbeDone(w, generation) => {
                if self.workers[w as usize].generation == generation {
                    self.probe_done(w);
                }
            }
            Ev::Action(i) => self.action(i as usize),
            Ev::Mount(p, attempt) => self.mount_failed(p, attempt),
            Ev::SchedulerRetry(p) => self.schedule(p),
            Ev::Incident(i) => self.incident(i as usize),
        }
    }

    // ----- scheduler ----------------------------------------------------------------------

    fn create(&mut self, p: u32) {
        let unschedulable =
            !self.node_schedulable || self.pod_containers(p).iter().any(|c| c.behaviour.pod_conditions().unschedulable);
        self.line(p);
        if unschedulable {
            self.schedule(p);
            return;
        }
        self.bind(p);
    }

    fn schedule(&mut self, p: u32) {
        let unschedulable =
            !self.node_schedulable || self.pod_containers(p).iter().any(|c| c.behaviour.pod_conditions().unschedulable);
        if !unschedulable {
            self.bind(p);
            return;
        }
        let e = self.event(
            p,
            None,
            EventType::Warning,
            "FailedScheduling",
            "default-scheduler",
            messages::failed_scheduling_unschedulable().to_string(),
        );
        self.events.emit_series(e);
        // An unschedulable pod is retried on cluster events or after 5 minutes in the
        // unschedulable queue (DefaultPodMaxInUnschedulablePodsDuration).
        self.queue.push(self.now + 300 * SECOND, Ev::SchedulerRetry(p));
    }

    fn bind(&mut self, p: u32) {
        let pod = &mut self.pods[p as usize];
        if pod.scheduled {
            return;
        }
        pod.scheduled = true;
        let node = format!("{}{}", self.cfg.node_name.trim_end_matches(char::is_numeric), pod.node + 1);
        let node = if self.nodes.len() == 1 { self.cfg.node_name.clone() } else { node };
        let text = messages::scheduled(&pod.inst.namespace, &pod.inst.name, &node);
        let e = self.event(p, None, EventType::Normal, "Scheduled", "default-scheduler", text);
        self.events.emit_series(e);
        self.line(p);
        if let Some(_msg) = self.pods[p as usize].mount_error.clone() {
            // The volume manager keeps failing; the first sync never gets past
            // WaitForAttachAndMount, so no sandbox, no workers, no containers.
            self.queue.push(self.now + ADMISSION_DELAY_NS, Ev::Mount(p, 0));
            return;
        }
        self.pods[p as usize].admitted = true;
        let at = self.now + ADMISSION_DELAY_NS;
        self.pods[p as usize].last_sync_end = at;
        self.pods[p as usize].sync_due_at = Some(at);
        self.queue.push(at, Ev::SyncDue(p));
    }

    fn mount_failed(&mut self, p: u32, attempt: u32) {
        let Some(message) = self.pods[p as usize].mount_error.clone() else {
            return;
        };
        if self.pods[p as usize].kubelet.is_deleting() {
            return;
        }
        let e = self.event(p, None, EventType::Warning, "FailedMount", "kubelet", message);
        self.events.emit(e);
        // goroutinemap's exponential back-off: 500 ms doubling to 2 min 2 s.
        let delay = (500_000_000u64 << attempt.min(20)).min(122 * SECOND);
        self.queue.push(self.now + delay, Ev::Mount(p, attempt + 1));
    }

    fn event(
        &self,
        p: u32,
        container: Option<usize>,
        kind: EventType,
        reason: &'static str,
        from: &'static str,
        message: String,
    ) -> Event {
        let container = container.map(|c| self.pods[p as usize].kubelet.container_name(c).to_string());
        Event { t_ns: self.now, pod: p, container, kind, reason, from, message }
    }

    // ----- the pod worker -----------------------------------------------------------------

    fn input(&mut self, p: u32, input: Input) {
        let mut effects = std::mem::take(&mut self.effects);
        effects.clear();
        self.pods[p as usize].kubelet.handle(input, self.now, &mut effects);
        for e in effects.drain(..) {
            self.effect(p, e);
        }
        self.effects = effects;
        self.update_stats(p);
        self.refresh_views(p);
    }

    /// Copy the pod's status into its workers: a tick then reads only its worker, which
    /// keeps the hot loop inside one contiguous array (the status changes far less often
    /// than workers tick).
    fn refresh_views(&mut self, p: u32) {
        let pod = &self.pods[p as usize];
        for &w in &pod.workers {
            let wk = &mut self.workers[w as usize];
            wk.view = pod.kubelet.worker_view(wk.container as usize);
        }
    }

    /// Schedule the pod's next sync: the first PLEG relist after `now` and after the end of
    /// the previous sync (the pod worker waits for a newer pod cache); work-queue items are
    /// first picked up by the 1 s sync ticker.
    fn sync_at_relist(&mut self, p: u32, via_ticker: bool) {
        let pod = &self.pods[p as usize];
        if !pod.admitted || pod.kubelet.is_removed() {
            return;
        }
        let node = &self.nodes[pod.node as usize];
        let next_grid = |t: u64, offset: u64| -> u64 {
            if t <= offset {
                return offset;
            }
            offset + (t - offset).div_ceil(SECOND) * SECOND
        };
        let mut t = self.now;
        if via_ticker {
            t = next_grid(t, node.ticker_offset);
        }
        let t = next_grid(t.max(pod.last_sync_end + 1), node.relist_offset);
        let pod = &mut self.pods[p as usize];
        if pod.sync_due_at.is_some_and(|d| d <= t) {
            return;
        }
        pod.sync_due_at = Some(t);
        self.queue.push(t, Ev::SyncDue(p));
    }

    fn effect(&mut self, p: u32, e: Effect) {
        let now = self.now;
        match e {
            Effect::Event { container, kind, reason, message } => {
                if reason == "Killing"
                    && let Some(c) = container
                {
                    self.record_kill(p, c, &message);
                }
                if !self.opts.quiet {
                    let ev = self.event(p, container, kind, reason, "kubelet", message);
                    self.events.emit(ev);
                }
            }
            Effect::StartWorkers => self.start_workers(p),
            Effect::StopWorkers { readiness_too } => {
                for &w in &self.pods[p as usize].workers {
                    let w = &mut self.workers[w as usize];
                    if readiness_too || w.probe_type != ProbeType::Readiness {
                        w.stopped = true;
                        w.generation += 1;
                    }
                }
            }
            Effect::TriggerReadiness { container } => {
                let found = self.pods[p as usize].workers.iter().copied().find(|&w| {
                    self.workers[w as usize].container == container as u16
                        && self.workers[w as usize].probe_type == ProbeType::Readiness
                });
                if let Some(w) = found {
                    let wk = &mut self.workers[w as usize];
                    if wk.stopped {
                        return;
                    }
                    if wk.in_flight {
                        wk.pending_tick = true;
                    } else {
                        // The manual run resets the ticker: the next periodic run is one
                        // period after it (worker.go @61ecc560).
                        wk.anchor = now;
                        wk.generation += 1;
                        let generation = wk.generation;
                        self.queue.push(now, Ev::Tick(w, generation));
                    }
                }
            }
            Effect::CreateSandbox => {
                let delay = self.rng.random_range(300_000_000..800_000_000u64);
                self.queue.push(now + delay, Ev::Sandbox(p));
            }
            Effect::Pull { container, image } => self.pull(p, container, &image),
            Effect::StartContainer { container, instance } => self.start_container(p, container, instance),
            Effect::RunHook { container, instance, hook, timeout_ns } => {
                let app = self.container(p, container).app.as_ref();
                let outcome = app.and_then(|a| if hook == Hook::PostStart { a.post_start() } else { a.pre_stop() });
                let (took, failed) = outcome.map_or((0, false), |o| (ns(o.duration), o.exit != 0));
                let (took, failed) = if took > timeout_ns { (timeout_ns, false) } else { (took, failed) };
                self.queue.push(now + took, Ev::HookDone(p, container as u16, instance, hook, failed));
            }
            Effect::StopContainer { container, instance, grace_ns } => {
                let live = self.live;
                let c = self.container_mut(p, container);
                if c.instance != instance {
                    return;
                }
                if live {
                    // The targets run the instance: they deliver SIGTERM, apply the app's
                    // reaction and the grace, and report the exit.
                    if let Some(app) = &mut c.app {
                        app.sigterm(Duration::from_nanos(now.saturating_sub(c.started_at)));
                    }
                    self.calls.push(LiveCall::Stop { pod: p, container: container as u16, instance, grace_ns });
                    return;
                }
                if let Some(app) = &mut c.app {
                    let since = Duration::from_nanos(now.saturating_sub(c.started_at));
                    app.sigterm(since);
                    let (after, code) = app.on_sigterm().outcome(Duration::from_nanos(grace_ns));
                    // SIGTERM ending the app's default handler exits 143 unless the
                    // behaviour gives its own code.
                    self.queue.push(now + ns(after), Ev::Exit(p, container as u16, instance, code));
                }
            }
            Effect::Requeue { after_ns } => {
                let pod = &mut self.pods[p as usize];
                pod.last_sync_end = now;
                if after_ns == 0 {
                    self.sync_at_relist(p, false);
                } else {
                    pod.requeue_gen += 1;
                    let generation = pod.requeue_gen;
                    self.queue.push(now + after_ns, Ev::Requeue(p, generation));
                }
            }
            Effect::StatusChanged => self.line(p),
            Effect::Removed => {
                self.line_force(p);
                for &w in &self.pods[p as usize].workers.clone() {
                    self.workers[w as usize].stopped = true;
                }
                self.replace(p);
            }
        }
    }

    fn start_workers(&mut self, p: u32) {
        let now = self.now;
        let pod = &self.pods[p as usize];
        let template = Arc::clone(&pod.inst.template);
        let ip = pod.inst.ip;
        for (ci, c) in template.spec.containers.iter().enumerate() {
            for (t, probe) in c.probes() {
                let action = sim_action(probe, c);
                let period_ns = u64::try_from(probe.period_seconds).unwrap_or(10).max(1) * SECOND;
                let jitter = initial_jitter_ns(
                    period_ns.div_ceil(SECOND) as u32,
                    self.cfg.uptime_ns.saturating_add(now),
                    self.rng.random(),
                );
                let w = self.workers.len() as u32;
                self.workers.push(SimWorker {
                    pod: p,
                    container: ci as u16,
                    probe_type: t,
                    worker: ProbeWorker::new(t, probe, self.cfg.startup_hold()),
                    action,
                    period_ns,
                    timeout_ns: u64::try_from(probe.timeout_seconds).unwrap_or(1).max(1) * SECOND,
                    anchor: now + jitter,
                    generation: 0,
                    in_flight: false,
                    pending_tick: false,
                    stopped: false,
                    started_at: 0,
                    pending_since: 0,
                    result: None,
                    view: self.pods[p as usize].kubelet.worker_view(ci),
                    global_container: self.pods[p as usize].first_container + ci as u32,
                    ip,
                    counts: WorkerCounts::default(),
                });
                self.pods[p as usize].workers.push(w);
                self.queue.push(now + jitter, Ev::Tick(w, 0));
            }
        }
    }

    fn pull(&mut self, p: u32, container: usize, image: &str) {
        let now = self.now;
        let pod = &self.pods[p as usize];
        let node = &mut self.nodes[pod.node as usize];
        let c = &mut self.containers[(pod.first_container as usize) + container];
        let attempt = c.pulls;
        c.pulls += 1;
        // The node's image puller is serial (serializeImagePulls: true): a pull waits for
        // the ones before it.
        let start = now.max(node.puller_free_at);
        let result = match c.behaviour.image_pull(c.seed, attempt, &normalized_image(image)) {
            ImagePull::Pulled { after } => {
                // An image another pull brought meanwhile only needs its manifest resolved.
                let present = node.images.iter().any(|(i, at)| i == image && *at <= start);
                let after = if present { after / 10 } else { after };
                let done = start + ns(after);
                node.puller_free_at = done;
                if !node.images.iter().any(|(i, _)| i == image) {
                    node.images.push((image.to_string(), done));
                }
                (done, Ok(PullInfo { pull_ns: ns(after), total_ns: done - now, size_bytes: image_size(image) }))
            }
            ImagePull::Failed { after, message } => {
                let done = start + ns(after);
                node.puller_free_at = done;
                (done, Err(message))
            }
        };
        c.pending_pull = Some(result.1);
        self.queue.push(result.0, Ev::Pull(p, container as u16));
    }

    /// Record a probe kill, classified by what the app was doing.
    fn record_kill(&mut self, p: u32, c: usize, message: &str) {
        let probe = if message.contains("failed liveness probe") {
            ProbeType::Liveness
        } else if message.contains("failed startup probe") {
            ProbeType::Startup
        } else {
            return;
        };
        let now = self.now;
        let sc = self.container(p, c);
        // A start cut short: the app itself was still starting (not yet serving) when killed.
        let starting = sc.app.as_ref().is_some_and(|a| {
            matches!(a.phase_at(Duration::from_nanos(now.saturating_sub(sc.started_at))), PhaseView::Starting)
        });
        let kill = Kill {
            t_ns: now,
            container: c as u16,
            probe,
            incident_since_ns: sc.incident_since,
            during_startup: starting,
        };
        self.pods[p as usize].stats.kills.push(kill);
    }

    fn incident(&mut self, i: usize) {
        let Some(inc) = self.opts.incidents.get(i).copied() else { return };
        let now = self.now;
        let Some(c) = (0..self.pods.get(inc.pod as usize).map_or(0, |p| p.container_count as usize))
            .find(|&c| self.container(inc.pod, c).app.is_some())
        else {
            return;
        };
        match inc.kind {
            IncidentKind::Hang => {
                let hang = hang_behaviour();
                let sc = self.container_mut(inc.pod, c);
                if sc.incident_since.is_none() {
                    let since = Duration::from_nanos(now.saturating_sub(sc.started_at));
                    sc.app = Some(hang.instance_from(sc.seed, sc.instance.saturating_sub(1), since));
                    sc.incident_since = Some(now);
                    self.pods[inc.pod as usize].stats.hangs.push(now);
                }
            }
            IncidentKind::Crash(code) => {
                let instance = self.container(inc.pod, c).instance;
                self.queue.push(now, Ev::Exit(inc.pod, c as u16, instance, code));
            }
        }
    }

    fn start_container(&mut self, p: u32, container: usize, instance: u32) {
        let now = self.now;
        let c = self.container_mut(p, container);
        c.incident_since = None;
        let app = c.behaviour.instance(c.seed, instance.saturating_sub(1));
        c.started_at = now;
        c.instance = instance;
        let exit = app.exit();
        c.app = Some(app);
        if self.live {
            // The real instance exits by itself in the targets; they report it.
            self.calls.push(LiveCall::Start { pod: p, container: container as u16, instance });
            return;
        }
        if let Some((after, code)) = exit {
            self.queue.push(now + ns(after), Ev::Exit(p, container as u16, instance, code));
        }
    }

    fn exit(&mut self, p: u32, c: u16, instance: u32, code: i32) {
        let sc = self.container_mut(p, c as usize);
        if sc.instance != instance || sc.app.is_none() {
            return;
        }
        sc.app = None;
        self.input(p, Input::ContainerExited { container: c as usize, instance, exit_code: code });
    }

    // ----- probe workers ------------------------------------------------------------------

    fn schedule_next_tick(&mut self, w: u32) {
        let wk = &self.workers[w as usize];
        if wk.stopped {
            return;
        }
        let k = (self.now.saturating_sub(wk.anchor)) / wk.period_ns + 1;
        let next = wk.anchor + k * wk.period_ns;
        let generation = wk.generation;
        self.queue.push(next, Ev::Tick(w, generation));
    }

    fn tick(&mut self, w: u32) {
        if self.workers[w as usize].stopped {
            return;
        }
        self.schedule_next_tick(w);
        if self.workers[w as usize].in_flight {
            // The kubelet's ticker holds one pending tick; further ones are dropped.
            let wk = &mut self.workers[w as usize];
            if wk.pending_tick {
                wk.counts.missed_ticks += 1;
            } else {
                wk.pending_since = self.event_t;
            }
            wk.pending_tick = true;
            return;
        }
        self.do_probe(w, None);
    }

    /// `pending_since`: the kept tick of an overrun being fired at completion, and when it
    /// was due.
    fn do_probe(&mut self, w: u32, pending_since: Option<u64>) {
        let (p, c) = (self.workers[w as usize].pod, self.workers[w as usize].container);
        let view = self.workers[w as usize].view;
        let (decision, published) = self.workers[w as usize].worker.tick(&view, self.now);
        if let Some(u) = published {
            let t = self.workers[w as usize].probe_type;
            self.input(
                p,
                Input::ProbePublished { container: c as usize, probe: t, instance: u.container_id, result: u.result },
            );
        }
        match decision {
            Tick::Stop => {
                let wk = &mut self.workers[w as usize];
                wk.stopped = true;
                wk.generation += 1;
            }
            Tick::Skip => {}
            Tick::Probe => self.run_probe(w, pending_since),
        }
    }

    fn run_probe(&mut self, w32: u32, pending_since: Option<u64>) {
        let w = w32 as usize;
        let now = self.now;
        let wk = &self.workers[w];
        let sc = &mut self.containers[wk.global_container as usize];
        let running = sc.app.as_mut().map(|a| (a, Duration::from_nanos(now.saturating_sub(sc.started_at))));
        let mut target = Target {
            ip: wk.ip,
            running,
            declared: &sc.declared,
            timeout_ns: self.workers[w].timeout_ns,
            cfg: &self.cfg,
        };
        let rng = &mut self.rng;
        let mut last_exec_id = None;
        let mut exec_id = || {
            let a: u128 = rng.random();
            let b: u128 = rng.random();
            let id = format!("{a:032x}{b:032x}");
            last_exec_id = Some(id.clone());
            id
        };
        // prober.go runProbeWithRetries: an errored run is retried, up to 3 attempts.
        let action = &self.workers[w].action;
        let mut judged = judge::judge(action, &mut target, &mut exec_id);
        let mut took = judged.took_ns;
        for _ in 1..crate::probe::MAX_PROBE_RETRIES {
            if !judged.outcome.errored {
                break;
            }
            judged = judge::judge(action, &mut target, &mut exec_id);
            took += judged.took_ns;
        }
        self.probe_runs += 1;
        let exec_without_container = matches!(self.workers[w].action, SimAction::Exec { .. })
            && target_is_down(&self.containers, &self.workers[w]);
        let wk = &mut self.workers[w];
        wk.in_flight = true;
        wk.started_at = now;
        if self.live && !exec_without_container {
            // The model's verdict was drawn only to keep the random streams in step with a
            // virtual run; the real probe decides. (An exec into a container that is not
            // running is refused by the runtime without running anything: the model's
            // CONTAINER_EXITED error stands for it.)
            self.calls.push(LiveCall::Probe {
                worker: w32,
                generation: wk.generation,
                pod: wk.pod,
                container: wk.container,
                probe: wk.probe_type,
                intended_ns: pending_since.unwrap_or(self.event_t),
                overrun: pending_since.is_some(),
                exec_id: last_exec_id,
            });
            return;
        }
        wk.result = Some(judged.outcome);
        if took == 0 {
            self.probe_done(w32);
        } else {
            let generation = wk.generation;
            self.queue.push(now + took, Ev::ProbeDone(w32, generation));
        }
    }

    fn probe_done(&mut self, w: u32) {
        let now = self.now;
        let wk = &mut self.workers[w as usize];
        wk.in_flight = false;
        let Some(outcome) = wk.result.take() else { return };
        let (p, c, t) = (wk.pod, wk.container, wk.probe_type);
        let latency = now - wk.started_at;
        // Counted on the worker (already in cache); summed per pod at the end.
        let counts = &mut wk.counts;
        counts.probes += 1;
        if outcome.errored {
            counts.errored += 1;
        } else if !outcome.result.counts_as_success() {
            counts.failures += 1;
        } else if outcome.result == ProbeResult::Warning {
            counts.warnings += 1;
        }
        if self.opts.record_probes {
            self.probes.push(ProbeRecord {
                t_ns: wk.started_at,
                pod: p,
                container: c,
                probe: t,
                result: outcome.result,
                errored: outcome.errored,
                counted: !outcome.errored,
                latency_ns: latency,
            });
        }
        // The prober's events: Unhealthy for failures and errors, ProbeWarning for warnings.
        if !self.opts.quiet
            && let Some(ev) = probe_event::kubelet_event(t, &outcome)
        {
            let kind = if ev.event_type == "Normal" { EventType::Normal } else { EventType::Warning };
            let e = self.event(p, Some(c as usize), kind, ev.reason, "kubelet", ev.message);
            self.events.emit(e);
        }
        let published = {
            let wk = &mut self.workers[w as usize];
            if outcome.errored {
                wk.worker.record_errored();
                None
            } else {
                wk.worker.record(outcome.result.counts_as_success())
            }
        };
        if let Some(u) = published {
            self.input(
                p,
                Input::ProbePublished { container: c as usize, probe: t, instance: u.container_id, result: u.result },
            );
        }
        let wk = &mut self.workers[w as usize];
        if wk.pending_tick && !wk.stopped {
            wk.pending_tick = false;
            let since = wk.pending_since;
            self.do_probe(w, Some(since));
        }
    }

    // ----- scheduled actions --------------------------------------------------------------

    fn action(&mut self, i: usize) {
        let Some(a) = self.behaviours.actions.get(i).cloned() else {
            return;
        };
        match a.kind {
            ActionKind::Delete { pods, force, grace } => {
                let targets: Vec<u32> = (0..self.pods.len() as u32)
                    .filter(|&p| {
                        pods.matches(&self.pods[p as usize].inst.name) && !self.pods[p as usize].kubelet.is_deleting()
                    })
                    .collect();
                for p in targets {
                    let grace_s = if force { Some(0) } else { grace.map(|g| g.as_secs() as i64) };
                    self.delete(p, grace_s);
                }
            }
            ActionKind::Node { schedulable } => {
                self.node_schedulable = schedulable;
                if schedulable {
                    // A node update is a cluster event: pending pods are retried at once.
                    for p in 0..self.pods.len() as u32 {
                        if !self.pods[p as usize].scheduled && !self.pods[p as usize].kubelet.is_removed() {
                            self.schedule(p);
                        }
                    }
                }
            }
            ActionKind::SetBehaviour { pod, container, behaviour } => {
                let now = self.now;
                for sp in &self.pods {
                    if !pod.matches(&sp.inst.name) {
                        continue;
                    }
                    for (ci, c) in sp.inst.template.spec.containers.iter().enumerate() {
                        if container.matches(&c.name) {
                            let sc = &mut self.containers[sp.first_container as usize + ci];
                            sc.behaviour = behaviour.clone();
                            if sc.app.is_some() {
                                let since = Duration::from_nanos(now.saturating_sub(sc.started_at));
                                sc.app = Some(behaviour.instance_from(sc.seed, sc.instance.saturating_sub(1), since));
                            }
                        }
                    }
                }
            }
        }
    }

    fn delete(&mut self, p: u32, grace_s: Option<i64>) {
        let pod = &self.pods[p as usize];
        if !pod.scheduled || !pod.admitted {
            // Never reached a kubelet: the API server removes it at once.
            let pod = &mut self.pods[p as usize];
            pod.kubelet.handle(Input::Delete { grace_s: Some(0) }, self.now, &mut Vec::new());
            self.refresh_views(p);
            self.line_force(p);
            self.replace(p);
            return;
        }
        self.input(p, Input::Delete { grace_s });
        // The ReplicaSet controller does not wait for the old pod to go: it replaces a
        // terminating pod at once. A StatefulSet recreates the same name after removal.
        let kind = self.pods[p as usize].inst.template.source.kind.clone();
        if matches!(kind.as_str(), "Deployment" | "ReplicaSet" | "DaemonSet") {
            self.replace(p);
        }
    }

    /// The controller's replacement for a deleted workload pod.
    fn replace(&mut self, p: u32) {
        let old = &self.pods[p as usize];
        if old.replaced || old.inst.template.source.kind == "Pod" || old.inst.template.source.kind.ends_with("Job") {
            return;
        }
        if old.inst.template.source.kind == "StatefulSet" && !old.kubelet.is_removed() {
            return;
        }
        let template = Arc::clone(&old.inst.template);
        let name = match template.source.kind.as_str() {
            "StatefulSet" => old.inst.name.clone(),
            _ => {
                let (prefix, _) = old.inst.name.rsplit_once('-').unwrap_or((&old.inst.name, ""));
                let suffix: String =
                    (0..5).map(|_| char::from(b"bcdfghjklmnpqrstvwxz2456789"[self.rng.random_range(0..27)])).collect();
                format!("{prefix}-{suffix}")
            }
        };
        self.pods[p as usize].replaced = true;
        let index = self.pods.len() as u32;
        let Ok(ip) = probebench_targets::pod_ip(index) else {
            return;
        };
        let inst = PodInstance {
            index,
            name,
            namespace: template.namespace.clone(),
            uid: fleet::uid(&mut self.rng),
            ip,
            template,
        };
        self.add_pod(inst, self.now + 20_000_000);
    }

    // ----- output -------------------------------------------------------------------------

    fn update_stats(&mut self, p: u32) {
        let now = self.now;
        let pod = &mut self.pods[p as usize];
        let all_started = !pod.kubelet.status.is_empty() && pod.kubelet.status.iter().all(|s| s.started);
        if all_started && pod.stats.started_ns.is_none() {
            pod.stats.started_ns = Some(now);
        }
        let ready = pod.kubelet.ready();
        let first = pod.first_container as usize;
        let containers = &self.containers[first..first + pod.container_count as usize];
        let incident = containers.iter().any(|c| c.incident_since.is_some());
        if ready {
            if pod.stats.ready_ns.is_none() {
                pod.stats.ready_ns = Some(now);
            }
            if let Some(since) = pod.stats.not_ready_since.take() {
                pod.stats.not_ready_ns += now - since;
            }
            if let Some(since) = pod.stats.false_not_ready_since.take() {
                pod.stats.false_not_ready_ns += now - since;
            }
        } else if pod.stats.ready_ns.is_some() && pod.stats.not_ready_since.is_none() {
            pod.stats.not_ready_since = Some(now);
            if !incident {
                pod.stats.false_not_ready += 1;
                pod.stats.false_not_ready_since = Some(now);
            }
        }
    }

    fn kubectl_line(&self, p: u32) -> (String, String, String) {
        let pod = &self.pods[p as usize];
        if !pod.scheduled || pod.kubelet.status.is_empty() {
            let n = pod.inst.template.spec.containers.len();
            let status = if pod.kubelet.is_deleting() { "Terminating" } else { "Pending" };
            return (format!("0/{n}"), status.to_string(), "0".to_string());
        }
        let line = status::kubectl_line(
            pod.kubelet.phase,
            &pod.kubelet.status,
            pod.kubelet.ready(),
            pod.kubelet.is_deleting(),
            self.now,
        );
        (line.ready, line.status, line.restarts)
    }

    /// A watch line when the printed columns change.
    fn line(&mut self, p: u32) {
        if self.opts.quiet {
            return;
        }
        let cols = self.kubectl_line(p);
        if self.pods[p as usize].last_line.as_ref() == Some(&cols) {
            return;
        }
        self.push_line(p, cols);
    }

    /// A watch line even if nothing changed (the DELETED event repeats the last row).
    fn line_force(&mut self, p: u32) {
        if self.opts.quiet {
            return;
        }
        let cols = self.kubectl_line(p);
        self.push_line(p, cols);
    }

    fn push_line(&mut self, p: u32, cols: (String, String, String)) {
        self.pods[p as usize].last_line = Some(cols.clone());
        let (ready, status, restarts) = cols;
        self.watch.push(WatchLine { t_ns: self.now, pod: p, ready, status, restarts });
    }

    fn finish(mut self) -> SimResult {
        let end = self.now;
        let mut pods = Vec::with_capacity(self.pods.len());
        for (i, pod) in self.pods.iter_mut().enumerate() {
            if let Some(since) = pod.stats.not_ready_since.take() {
                pod.stats.not_ready_ns += end - since;
            }
            if let Some(since) = pod.stats.false_not_ready_since.take() {
                pod.stats.false_not_ready_ns += end - since;
            }
            for &w in &pod.workers {
                let wk = &self.workers[w as usize];
                let ti = wk.probe_type as usize;
                pod.stats.probes[ti] += wk.counts.probes;
                pod.stats.failures[ti] += wk.counts.failures;
                pod.stats.errored[ti] += wk.counts.errored;
                pod.stats.warnings[ti] += wk.counts.warnings;
                pod.stats.missed_ticks += wk.counts.missed_ticks;
            }
            pods.push(SimPodOut {
                index: i as u32,
                name: pod.inst.name.clone(),
                namespace: pod.inst.namespace.clone(),
                node: pod.node,
                containers: pod.inst.template.spec.containers.iter().map(|c| c.name.clone()).collect(),
                phase: pod.kubelet.phase,
                ready: pod.kubelet.ready(),
                restarts: (0..pod.kubelet.container_count()).map(|c| pod.kubelet.restart_count(c)).sum(),
                container_restarts: (0..pod.kubelet.container_count()).map(|c| pod.kubelet.restart_count(c)).collect(),
                removed: pod.kubelet.is_removed(),
                scheduled: pod.scheduled,
                created_ns: pod.created_ns,
                stats: pod.stats.clone(),
            });
        }
        self.events.flush_series(end);
        SimResult {
            end_ns: end,
            pods,
            watch: self.watch,
            events: self.events,
            probes: self.probes,
            probe_runs: self.probe_runs,
            sim_events: self.sim_events,
        }
    }
}

/// Whether no instance of the worker's container runs (an exec has nothing to run in).
fn target_is_down(containers: &[SimContainer], w: &SimWorker) -> bool {
    containers.get(w.global_container as usize).is_none_or(|c| c.app.is_none())
}

/// What an injected hang does: every request is accepted and never answered.
fn hang_behaviour() -> Behaviour {
    use probebench_targets::behaviour::{Phase, Response, Spec};
    let mut spec = Spec::default_healthy();
    spec.phases = vec![Phase {
        name: Some("hang".to_string()),
        duration: None,
        respond: Response::Hang,
        ports: Default::default(),
        paths: Default::default(),
        latency: None,
        flap: None,
    }];
    Behaviour::from_spec(spec)
}

pub use crate::fleet::BEHAVIOUR_ANNOTATION;

/// Resolve a probe for the simulator: the target port (named ports through the container's
/// declared ports, as the kubelet does), path and headers, or the kubelet's resolution error.
fn sim_action(probe: &spec::Probe, c: &spec::Container) -> SimAction {
    match probe.handler.action() {
        Some(Action::Exec(e)) => SimAction::Exec { argv: crate::probe::expand::expand_command(&e.command, &c.env) },
        Some(Action::HttpGet(h)) => match resolve::resolve_port(&h.port, c) {
            Ok(port) => SimAction::http(
                h.scheme == "HTTPS",
                port,
                h.path.clone(),
                h.http_headers.iter().find(|x| x.name.eq_ignore_ascii_case("host")).map(|x| x.value.clone()),
            ),
            Err(e) => SimAction::Errored(e),
        },
        Some(Action::TcpSocket(t)) => match resolve::resolve_port(&t.port, c) {
            Ok(port) => SimAction::Tcp { port },
            Err(e) => SimAction::Errored(e),
        },
        Some(Action::Grpc(g)) => {
            SimAction::Grpc { port: u16::try_from(g.port).unwrap_or(0), service: g.service.clone().unwrap_or_default() }
        }
        None => SimAction::Errored("no handler".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_named_as_containerd_pulls_them() {
        assert_eq!(normalized_image("httpd"), "docker.io/library/httpd:latest");
        assert_eq!(normalized_image("nginx:1.27"), "docker.io/library/nginx:1.27");
        assert_eq!(normalized_image("team/app:v1"), "docker.io/team/app:v1");
        assert_eq!(normalized_image("registry.example.com:5000/app"), "registry.example.com:5000/app:latest");
    }
}
