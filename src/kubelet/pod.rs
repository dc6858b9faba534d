//! One pod as the kubelet manages it: the pod worker's syncs (pkg/kubelet/pod_workers.go,
//! kubelet.go SyncPod / SyncTerminatingPod, kuberuntime_manager.go computePodActions,
//! kuberuntime_container.go startContainer / killContainer, images/image_manager.go), as a
//! pure state machine.
//!
//! The driver (simulator or real-time engine) feeds [`Input`]s with the time they happen and
//! carries out the [`Effect`]s: it starts and stops container instances, pulls images, runs
//! hooks, and calls [`Input::SyncDue`] when a requested sync may start. A sync that has to wait
//! (for a pull, a hook, a container to stop) resumes when the answer arrives, as the real
//! pod worker blocks in SyncPod.

use std::sync::Arc;

use rand::RngExt;
use rand_pcg::Pcg64Mcg;

use super::backoff::BackoffEntry;
use super::config::{KubeletConfig, SECOND};
use super::events::EventType;
use super::messages as msg;
use super::status::{self, ContainerState, ContainerStatus, Phase, Terminated};
use super::worker::{CachedResult, ContainerView, PodView, RunState};
use crate::spec::{self, ProbeType};

/// What happened, for the pod to react to.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The requested sync may start (the driver aligns it to the PLEG relist after the
    /// previous sync's end, as `podCache.GetNewerThan` makes the real pod worker wait).
    SyncDue,
    /// The sandbox requested by [`Effect::CreateSandbox`] is ready.
    SandboxReady,
    PullDone {
        container: usize,
        result: Result<PullInfo, String>,
    },
    /// A container instance ended: by itself (a crash), or after [`Effect::StopContainer`].
    ContainerExited {
        container: usize,
        instance: u32,
        exit_code: i32,
    },
    /// A hook finished; `error` is the handler's failure, `timed_out` a preStop that overran.
    HookDone {
        container: usize,
        instance: u32,
        hook: Hook,
        error: Option<String>,
    },
    /// A probe worker's results-cache update (including the initial values).
    ProbePublished {
        container: usize,
        probe: ProbeType,
        instance: u32,
        result: CachedResult,
    },
    /// The pod was deleted; `grace_s` overrides the pod's terminationGracePeriodSeconds
    /// (`Some(0)` is `--force --grace-period=0`).
    Delete {
        grace_s: Option<i64>,
    },
}

/// Timings of a successful pull, as the Pulled event reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullInfo {
    pub pull_ns: u64,
    /// Including waiting for the node's serial image puller.
    pub total_ns: u64,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Hook {
    PostStart,
    PreStop,
}

/// What the pod asks of the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Event {
        container: Option<usize>,
        kind: EventType,
        reason: &'static str,
        message: String,
    },
    /// Create the probe workers now (probeManager.AddPod, after volumes mount in SyncPod).
    StartWorkers,
    /// Stop liveness and startup workers (StopLivenessAndStartup) or all (RemovePod).
    StopWorkers {
        readiness_too: bool,
    },
    /// Run the readiness worker now (the status manager's manual trigger).
    TriggerReadiness {
        container: usize,
    },
    CreateSandbox,
    Pull {
        container: usize,
        image: String,
    },
    /// Start a new instance (the behaviour's timeline restarts).
    StartContainer {
        container: usize,
        instance: u32,
    },
    RunHook {
        container: usize,
        instance: u32,
        hook: Hook,
        timeout_ns: u64,
    },
    /// CRI StopContainer: SIGTERM, then SIGKILL when `grace_ns` runs out; answer with
    /// [`Input::ContainerExited`].
    StopContainer {
        container: usize,
        instance: u32,
        grace_ns: u64,
    },
    /// Ask for [`Input::SyncDue`] after this delay (the pod worker's work queue).
    Requeue {
        after_ns: u64,
    },
    /// The API status changed (a `kubectl get pods --watch` line).
    StatusChanged,
    /// The pod object is gone from the API.
    Removed,
}

/// The runtime's view of one container (what the CRI reports).
#[derive(Debug, Clone, PartialEq)]
struct Runtime {
    /// The current or last instance (0 = never created).
    instance: u32,
    running_since: Option<u64>,
    /// The newest instance that exited, and the one before it (the API's lastState when the
    /// newest is still shown as terminated).
    last_exit: Option<Terminated>,
    previous_exit: Option<Terminated>,
    restart_count: u32,
    /// postStart is running: the status stays Waiting until it returns.
    in_post_start: bool,
    /// Stop requested for this instance.
    stopping: bool,
}

/// A start failure the kubelet keeps in its reason cache and shows as Waiting.
#[derive(Debug, Clone, PartialEq)]
struct WaitingReason {
    reason: String,
    message: String,
}

#[derive(Debug, Clone, PartialEq)]
struct ContainerState2 {
    name: String,
    runtime: Runtime,
    reason: Option<WaitingReason>,
    crash_backoff: Option<BackoffEntry>,
    /// Results-cache copies for the current instance.
    liveness: Option<CachedResult>,
    readiness: Option<CachedResult>,
    startup: Option<CachedResult>,
    results_instance: u32,
    /// Why the current stop was requested (for the grace period).
    stop_reason: Option<StopReason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    Liveness,
    Startup,
    PostStartFailed,
    Deletion,
}

/// Where a sync is: the steps of SyncPod, resumable after each wait.
#[derive(Debug, Clone, PartialEq)]
enum Sync {
    Idle,
    WaitingSandbox,
    /// Containers being stopped in parallel; then the starts.
    Killing {
        pending: Vec<usize>,
        starts: Vec<usize>,
    },
    /// Starting containers in order; `waiting` is set while a pull or postStart runs.
    Starting {
        queue: Vec<usize>,
        waiting: Option<(usize, Wait)>,
    },
    /// SyncTerminatingPod: stopping everything.
    Terminating {
        pending: Vec<usize>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Wait {
    Pull {
        requested_at: u64,
    },
    PostStart,
    /// The failed postStart's kill.
    PostStartKill,
}

#[derive(Debug, Clone, PartialEq)]
struct ImageBackoff {
    image: String,
    entry: Option<BackoffEntry>,
    last_error: Option<String>,
}

/// One pod in the kubelet.
#[derive(Debug, Clone)]
pub struct PodKubelet {
    pub index: u32,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub spec: Arc<spec::Pod>,
    cfg: Arc<KubeletConfig>,
    rng: Pcg64Mcg,
    containers: Vec<ContainerState2>,
    sync: Sync,
    sync_error: bool,
    backoff_expiry: Option<u64>,
    phase_at_sync_start: Phase,
    pending_sync: bool,
    sandbox_ready: bool,
    workers_started: bool,
    deletion: Option<u64>,
    deletion_grace_s: Option<i64>,
    terminated: bool,
    removed: bool,
    images: Vec<ImageBackoff>,
    /// preStop hooks under way: (container, started at, grace period).
    pre_stop_started: Vec<(usize, u64, u64)>,
    /// The API status as last generated (what probe workers and kubectl see).
    pub status: Vec<ContainerStatus>,
    pub phase: Phase,
    /// Set by the driver: the node already has these images (IfNotPresent skips the pull).
    pub images_present: Vec<String>,
}

fn jitter(rng: &mut Pcg64Mcg, d: u64, factor: f64) -> u64 {
    // wait.Jitter: d + U[0,1) · factor · d
    d + (rng.random::<f64>() * factor * d as f64) as u64
}

impl PodKubelet {
    pub fn new(
        index: u32,
        name: String,
        uid: String,
        spec: Arc<spec::Pod>,
        cfg: Arc<KubeletConfig>,
        seed: u64,
    ) -> Self {
        let containers = spec
            .spec
            .containers
            .iter()
            .map(|c| ContainerState2 {
                name: c.name.clone(),
                runtime: Runtime {
                    instance: 0,
                    running_since: None,
                    last_exit: None,
                    previous_exit: None,
                    restart_count: 0,
                    in_post_start: false,
                    stopping: false,
                },
                reason: None,
                crash_backoff: None,
                liveness: None,
                readiness: None,
                startup: None,
                results_instance: 0,
                stop_reason: None,
            })
            .collect::<Vec<_>>();
        let status = containers.iter().map(|c| ContainerStatus::waiting(&c.name, "ContainerCreating")).collect();
        PodKubelet {
            index,
            namespace: spec.namespace.clone(),
            name,
            uid,
            spec,
            cfg,
            rng: Pcg64Mcg::new(u128::from(seed) | 1),
            containers,
            sync: Sync::Idle,
            sync_error: false,
            backoff_expiry: None,
            phase_at_sync_start: Phase::Pending,
            pending_sync: false,
            sandbox_ready: false,
            workers_started: false,
            deletion: None,
            deletion_grace_s: None,
            terminated: false,
            removed: false,
            images: Vec::new(),
            pre_stop_started: Vec::new(),
            status,
            phase: Phase::Pending,
            images_present: Vec::new(),
        }
    }

    fn formatted(&self) -> String {
        msg::format_pod(&self.name, &self.namespace, &self.uid)
    }

    fn container_spec(&self, i: usize) -> &spec::Container {
        &self.spec.spec.containers[i]
    }

    pub fn container_name(&self, i: usize) -> &str {
        &self.containers[i].name
    }

    pub fn container_count(&self) -> usize {
        self.containers.len()
    }

    pub fn is_deleting(&self) -> bool {
        self.deletion.is_some()
    }

    pub fn is_removed(&self) -> bool {
        self.removed
    }

    /// Whether the pod is Ready: every container ready.
    pub fn ready(&self) -> bool {
        !self.status.is_empty() && self.status.iter().all(|s| s.ready)
    }

    /// The current instance of a container as the runtime knows it (0 = none).
    pub fn instance(&self, container: usize) -> u32 {
        self.containers[container].runtime.instance
    }

    pub fn restart_count(&self, container: usize) -> u32 {
        self.containers[container].runtime.restart_count
    }

    /// What a probe worker of `container` sees at a tick: the status manager's copy.
    pub fn worker_view(&self, container: usize) -> PodView {
        let s = &self.status[container];
        let view = match &s.state {
            ContainerState::Running { started_at_ns } => Some(ContainerView {
                id: s.instance,
                state: RunState::Running { started_at: *started_at_ns },
                started: s.started,
            }),
            ContainerState::Terminated(t) => {
                Some(ContainerView { id: t.instance, state: RunState::Terminated, started: false })
            }
            ContainerState::Waiting { .. } => s.last_terminated.as_ref().map(|t| ContainerView {
                id: t.instance,
                state: RunState::Waiting,
                started: false,
            }),
        };
        PodView {
            terminal: self.phase.is_terminal(),
            deleting: self.deletion.is_some(),
            restart_never: self.spec.spec.restart_policy == "Never",
            container: view,
        }
    }

    fn emit(
        &self,
        out: &mut Vec<Effect>,
        container: Option<usize>,
        kind: EventType,
        reason: &'static str,
        message: String,
    ) {
        out.push(Effect::Event { container, kind, reason, message });
    }

    /// React to one input at `now`.
    pub fn handle(&mut self, input: Input, now: u64, out: &mut Vec<Effect>) {
        if self.removed {
            return;
        }
        match input {
            Input::SyncDue => {
                if self.sync == Sync::Idle {
                    self.begin_sync(now, out);
                } else {
                    self.pending_sync = true;
                }
            }
            Input::SandboxReady => {
                self.sandbox_ready = true;
                // PLEG reports the new sandbox at its next relist: another sync follows
                // this one (which is what shows ErrImagePull ~1-2 s after a failed pull).
                self.pending_sync = true;
                if self.sync == Sync::WaitingSandbox {
                    self.compute_actions(now, out);
                }
            }
            Input::PullDone { container, result } => self.pull_done(container, result, now, out),
            Input::ContainerExited { container, instance, exit_code } => {
                self.container_exited(container, instance, exit_code, now, out)
            }
            Input::HookDone { container, instance, hook, error } => {
                self.hook_done(container, instance, hook, error, now, out)
            }
            Input::ProbePublished { container, probe, instance, result } => {
                self.probe_published(container, probe, instance, result, now, out)
            }
            Input::Delete { grace_s } => self.delete(grace_s, now, out),
        }
    }

    /// A sync is wanted: now if idle (the driver aligns it), else right after the running one.
    fn request_sync(&mut self, out: &mut Vec<Effect>) {
        if self.sync == Sync::Idle {
            out.push(Effect::Requeue { after_ns: 0 });
        } else {
            self.pending_sync = true;
        }
    }

    // ----- status -------------------------------------------------------------------------

    /// generateAPIPodStatus: container statuses from the runtime, the reason cache and the
    /// probe results; the phase; and the readiness manual trigger.
    fn generate_status(&mut self, now: u64, out: &mut Vec<Effect>) {
        let mut statuses = Vec::with_capacity(self.containers.len());
        for (i, c) in self.containers.iter().enumerate() {
            let rt = &c.runtime;
            let has_startup = self.container_spec(i).startup_probe.is_some();
            let has_readiness = self.container_spec(i).readiness_probe.is_some();
            let state = match (rt.running_since, &c.reason) {
                (Some(t), _) if !rt.in_post_start => ContainerState::Running { started_at_ns: t },
                (_, Some(r)) if rt.running_since.is_none() || rt.in_post_start => {
                    ContainerState::Waiting { reason: r.reason.clone(), message: r.message.clone() }
                }
                (None, None) => match &rt.last_exit {
                    Some(t) => ContainerState::Terminated(t.clone()),
                    None => ContainerState::Waiting { reason: "ContainerCreating".into(), message: String::new() },
                },
                _ => ContainerState::Waiting { reason: "ContainerCreating".into(), message: String::new() },
            };
            let running = matches!(state, ContainerState::Running { .. });
            let current_results = c.results_instance == rt.instance;
            // isContainerStarted: not running → false; a startup result → == Success; a startup
            // probe without a result → false; no startup probe → true.
            let started =
                running && if has_startup { current_results && c.startup == Some(CachedResult::Success) } else { true };
            let ready = started && (!has_readiness || (current_results && c.readiness == Some(CachedResult::Success)));
            if started && has_readiness && !ready && self.workers_started && self.deletion.is_none() {
                out.push(Effect::TriggerReadiness { container: i });
            }
            let (last_terminated, instance) = match &state {
                ContainerState::Terminated(t) => (rt.previous_exit.clone(), t.instance),
                ContainerState::Running { .. } => (rt.last_exit.clone(), rt.instance),
                ContainerState::Waiting { .. } => {
                    (rt.last_exit.clone(), rt.last_exit.as_ref().map_or(0, |t| t.instance))
                }
            };
            statuses.push(ContainerStatus {
                name: c.name.clone(),
                state,
                last_terminated,
                ready,
                started,
                restart_count: rt.restart_count,
                instance,
            });
        }
        let phase = if self.phase.is_terminal() {
            self.phase
        } else {
            status::phase(&statuses, &self.spec.spec.restart_policy, self.terminated)
        };
        let changed = statuses != self.status || phase != self.phase;
        self.status = statuses;
        self.phase = phase;
        let _ = now;
        if changed {
            out.push(Effect::StatusChanged);
        }
    }

    // ----- syncs --------------------------------------------------------------------------

    fn begin_sync(&mut self, now: u64, out: &mut Vec<Effect>) {
        self.sync_error = false;
        self.backoff_expiry = None;
        self.phase_at_sync_start = self.phase;
        self.generate_status(now, out);
        if self.deletion.is_some() {
            self.begin_terminating(now, out);
            return;
        }
        if self.phase.is_terminal() {
            // Nothing to run any more; the workers see the terminal phase and exit.
            self.end_sync(now, out);
            return;
        }
        if !self.workers_started {
            self.workers_started = true;
            out.push(Effect::StartWorkers);
        }
        if !self.sandbox_ready {
            self.sync = Sync::WaitingSandbox;
            out.push(Effect::CreateSandbox);
            return;
        }
        self.compute_actions(now, out);
    }

    /// computePodActions: containers to kill (failed liveness/startup) and to start.
    fn compute_actions(&mut self, now: u64, out: &mut Vec<Effect>) {
        let policy = self.spec.spec.restart_policy.clone();
        let mut kills = Vec::new();
        let mut starts = Vec::new();
        for i in 0..self.containers.len() {
            let c = &self.containers[i];
            let rt = &c.runtime;
            let current = c.results_instance == rt.instance;
            if rt.running_since.is_some() {
                let failed = if current && c.liveness == Some(CachedResult::Failure) {
                    Some(ProbeType::Liveness)
                } else if current && c.startup == Some(CachedResult::Failure) {
                    Some(ProbeType::Startup)
                } else {
                    None
                };
                if let Some(probe) = failed {
                    let restart = policy != "Never";
                    let message = msg::killing_for_probe(&c.name, probe, restart);
                    kills.push((i, probe, message));
                    if restart {
                        starts.push(i);
                    }
                }
            } else if rt.stopping {
                // A stop is already under way (deletion or an earlier sync).
            } else {
                let should_start = match &rt.last_exit {
                    None => true,
                    Some(t) => match policy.as_str() {
                        "Always" => true,
                        "OnFailure" => t.exit_code != 0,
                        _ => false,
                    },
                };
                if should_start {
                    starts.push(i);
                }
            }
        }
        let mut pending = Vec::new();
        for (i, probe, message) in kills {
            self.emit(out, Some(i), EventType::Normal, "Killing", message);
            let reason = if probe == ProbeType::Startup { StopReason::Startup } else { StopReason::Liveness };
            self.stop_container(i, reason, now, out);
            pending.push(i);
        }
        if pending.is_empty() {
            self.sync = Sync::Starting { queue: starts, waiting: None };
            self.continue_starts(now, out);
        } else {
            self.sync = Sync::Killing { pending, starts };
        }
    }

    /// setTerminationGracePeriod: deletion grace wins, then the probe's own for a probe kill,
    /// then the pod's; never below 2 s (minimumGracePeriodInSeconds).
    fn grace_ns(&self, i: usize, reason: StopReason) -> u64 {
        let spec = self.container_spec(i);
        let pod_grace = self.spec.spec.termination_grace_period_seconds.unwrap_or(30);
        let probe_grace = match reason {
            StopReason::Liveness => spec.liveness_probe.as_ref().and_then(|p| p.termination_grace_period_seconds),
            StopReason::Startup => spec.startup_probe.as_ref().and_then(|p| p.termination_grace_period_seconds),
            _ => None,
        };
        let grace = self.deletion_grace_s.or(probe_grace).unwrap_or(pod_grace);
        (grace.max(0) as u64) * SECOND
    }

    /// killContainer: preStop (inside the grace period), then StopContainer with what is left.
    fn stop_container(&mut self, i: usize, reason: StopReason, now: u64, out: &mut Vec<Effect>) {
        let grace = self.grace_ns(i, reason);
        let instance = self.containers[i].runtime.instance;
        self.containers[i].runtime.stopping = true;
        self.containers[i].stop_reason = Some(reason);
        let has_pre_stop = self.container_spec(i).lifecycle.as_ref().is_some_and(|l| l.pre_stop.is_some());
        let _ = now;
        if has_pre_stop {
            out.push(Effect::RunHook { container: i, instance, hook: Hook::PreStop, timeout_ns: grace });
            // The stop itself follows in hook_done, with the grace that is left.
            self.pre_stop_started.push((i, now, grace));
        } else {
            out.push(Effect::StopContainer { container: i, instance, grace_ns: grace.max(2 * SECOND) });
        }
    }

    fn continue_starts(&mut self, now: u64, out: &mut Vec<Effect>) {
        loop {
            let Sync::Starting { queue, waiting } = &mut self.sync else {
                return;
            };
            if waiting.is_some() {
                return;
            }
            if queue.is_empty() {
                self.end_sync(now, out);
                return;
            }
            let i = queue.remove(0);
            self.start_container(i, now, out);
        }
    }

    /// startContainer's first half: back-off, then the image. Leaves `waiting` set when a
    /// pull has to finish first.
    fn start_container(&mut self, i: usize, now: u64, out: &mut Vec<Effect>) {
        // doBackOff compares with the newest *exited* instance in the status read at the start
        // of this sync — a container killed in this same sync was still running then.
        let exited_at_sync_start = match &self.status[i].state {
            ContainerState::Terminated(t) => Some(t.finished_at_ns),
            _ => self.status[i].last_terminated.as_ref().map(|t| t.finished_at_ns),
        };
        if let Some(finished) = exited_at_sync_start {
            let policy = self.cfg.crash_loop_backoff();
            let entry = self.containers[i].crash_backoff;
            if policy.in_backoff_since(entry.as_ref(), finished, now) {
                let name = self.containers[i].name.clone();
                let pod = self.formatted();
                let window = entry.map_or(0, |e| e.window_ns);
                self.emit(out, Some(i), EventType::Warning, "BackOff", msg::back_off_restarting(&name, &pod));
                self.containers[i].reason = Some(WaitingReason {
                    reason: "CrashLoopBackOff".into(),
                    message: msg::crash_loop_waiting(window, &name, &pod),
                });
                self.sync_error = true;
                let expiry = policy.expiry(entry.as_ref(), finished);
                self.backoff_expiry = Some(self.backoff_expiry.map_or(expiry, |e: u64| e.min(expiry)));
                return;
            }
            policy.next(&mut self.containers[i].crash_backoff, finished, now);
        }
        self.ensure_image(i, now, out);
    }

    fn image_entry(&mut self, image: &str) -> &mut ImageBackoff {
        if let Some(pos) = self.images.iter().position(|b| b.image == image) {
            return &mut self.images[pos];
        }
        self.images.push(ImageBackoff { image: image.to_string(), entry: None, last_error: None });
        let last = self.images.len() - 1;
        &mut self.images[last]
    }

    /// EnsureImageExists (images/image_manager.go).
    fn ensure_image(&mut self, i: usize, now: u64, out: &mut Vec<Effect>) {
        let spec = self.container_spec(i);
        let image = spec.image.clone();
        let policy = spec.image_pull_policy.clone();
        let present = self.images_present.contains(&image);
        if policy == "Never" && !present {
            self.emit(out, Some(i), EventType::Warning, "ErrImageNeverPull", msg::never_pull(&image));
            self.fail_start(i, "ErrImageNeverPull", msg::never_pull(&image), out);
            return;
        }
        if present && policy != "Always" {
            let m = msg::already_present(&self.cfg, &image);
            self.emit(out, Some(i), EventType::Normal, "Pulled", m);
            self.create_and_start(i, now, out);
            return;
        }
        let backoff = self.cfg.image_pull_backoff();
        let entry = self.image_entry(&image).entry;
        if backoff.in_backoff_since_update(entry.as_ref(), now) {
            let previous = self.image_entry(&image).last_error.clone();
            self.emit(out, Some(i), EventType::Normal, "BackOff", msg::back_off_pulling(&image));
            let waiting = msg::image_pull_backoff_waiting(&self.cfg, &image, previous.as_deref());
            self.fail_start(i, "ImagePullBackOff", waiting, out);
            return;
        }
        self.emit(out, Some(i), EventType::Normal, "Pulling", msg::pulling(&image));
        if let Sync::Starting { waiting, .. } = &mut self.sync {
            *waiting = Some((i, Wait::Pull { requested_at: now }));
        }
        out.push(Effect::Pull { container: i, image });
    }

    /// A start that failed: `Error: <reason>`, the reason cache, and an errored sync.
    fn fail_start(&mut self, i: usize, reason: &str, message: String, out: &mut Vec<Effect>) {
        self.emit(out, Some(i), EventType::Warning, "Failed", msg::error_event(reason));
        self.containers[i].reason = Some(WaitingReason { reason: reason.to_string(), message });
        self.sync_error = true;
    }

    fn pull_done(&mut self, i: usize, result: Result<PullInfo, String>, now: u64, out: &mut Vec<Effect>) {
        let Sync::Starting { waiting: Some((wi, Wait::Pull { .. })), .. } = &self.sync else {
            return;
        };
        if *wi != i {
            return;
        }
        if let Sync::Starting { waiting, .. } = &mut self.sync {
            *waiting = None;
        }
        let image = self.container_spec(i).image.clone();
        match result {
            Ok(info) => {
                let m = msg::pulled(&self.cfg, &image, info.pull_ns, info.total_ns, info.size_bytes);
                self.emit(out, Some(i), EventType::Normal, "Pulled", m);
                if !self.images_present.contains(&image) {
                    self.images_present.push(image);
                }
                self.create_and_start(i, now, out);
            }
            Err(error) => {
                self.emit(out, Some(i), EventType::Warning, "Failed", msg::failed_to_pull(&image, &error));
                let policy = self.cfg.image_pull_backoff();
                let entry = self.image_entry(&image);
                policy.next(&mut entry.entry, now, now);
                entry.last_error = Some(error.clone());
                self.fail_start(i, "ErrImagePull", error, out);
            }
        }
        self.continue_starts(now, out);
    }

    /// startContainer's second half: Created, Started, then postStart.
    fn create_and_start(&mut self, i: usize, now: u64, out: &mut Vec<Effect>) {
        let name = self.containers[i].name.clone();
        let m = msg::created(&self.cfg, &name);
        self.emit(out, Some(i), EventType::Normal, "Created", m);
        let c = &mut self.containers[i];
        if c.runtime.instance > 0 {
            c.runtime.restart_count += 1;
        }
        c.runtime.instance += 1;
        c.runtime.running_since = Some(now);
        c.runtime.stopping = false;
        c.stop_reason = None;
        c.reason = None;
        let instance = c.runtime.instance;
        out.push(Effect::StartContainer { container: i, instance });
        self.emit(out, Some(i), EventType::Normal, "Started", msg::started(&name));
        // PLEG will report ContainerStarted at its next relist: another sync follows.
        self.pending_sync = true;
        if self.container_spec(i).lifecycle.as_ref().is_some_and(|l| l.post_start.is_some()) {
            self.containers[i].runtime.in_post_start = true;
            if let Sync::Starting { waiting, .. } = &mut self.sync {
                *waiting = Some((i, Wait::PostStart));
            }
            // postStart has no timeout of its own; the driver bounds it by the behaviour.
            out.push(Effect::RunHook { container: i, instance, hook: Hook::PostStart, timeout_ns: u64::MAX });
        }
    }

    fn hook_done(
        &mut self,
        i: usize,
        instance: u32,
        hook: Hook,
        error: Option<String>,
        now: u64,
        out: &mut Vec<Effect>,
    ) {
        if self.containers[i].runtime.instance != instance {
            return;
        }
        match hook {
            Hook::PreStop => {
                let Some(pos) = self.pre_stop_started.iter().position(|(c, _, _)| *c == i) else {
                    return;
                };
                let (_, started, grace) = self.pre_stop_started.remove(pos);
                if error.is_some() {
                    self.emit(
                        out,
                        Some(i),
                        EventType::Warning,
                        "FailedPreStopHook",
                        msg::PRE_STOP_HOOK_FAILED.to_string(),
                    );
                }
                // The hook's time comes out of the grace period; at least 2 s remain.
                let left = grace.saturating_sub(now.saturating_sub(started)).max(2 * SECOND);
                out.push(Effect::StopContainer { container: i, instance, grace_ns: left });
            }
            Hook::PostStart => {
                self.containers[i].runtime.in_post_start = false;
                let Sync::Starting { waiting, .. } = &mut self.sync else {
                    return;
                };
                if !matches!(waiting, Some((w, Wait::PostStart)) if *w == i) {
                    return;
                }
                *waiting = None;
                if let Some(e) = error {
                    self.emit(
                        out,
                        Some(i),
                        EventType::Warning,
                        "FailedPostStartHook",
                        msg::POST_START_HOOK_FAILED.to_string(),
                    );
                    self.emit(out, Some(i), EventType::Normal, "Killing", "FailedPostStartHook".to_string());
                    let kind = match self.container_spec(i).lifecycle.as_ref().and_then(|l| l.post_start.as_ref()) {
                        Some(h) if h.exec.is_some() => "exec",
                        _ => "http",
                    };
                    let message = msg::post_start_error_message(kind, &self.containers[i].name.clone(), &self.name, &e);
                    self.containers[i].reason = Some(WaitingReason { reason: "PostStartHookError".into(), message });
                    self.sync_error = true;
                    if let Sync::Starting { waiting, .. } = &mut self.sync {
                        *waiting = Some((i, Wait::PostStartKill));
                    }
                    self.stop_container(i, StopReason::PostStartFailed, now, out);
                    return;
                }
                self.continue_starts(now, out);
            }
        }
    }

    fn container_exited(&mut self, i: usize, instance: u32, exit_code: i32, now: u64, out: &mut Vec<Effect>) {
        let c = &mut self.containers[i];
        if c.runtime.instance != instance || c.runtime.running_since.is_none() {
            return;
        }
        let started = c.runtime.running_since.take().unwrap_or(now);
        c.runtime.in_post_start = false;
        c.runtime.stopping = false;
        c.runtime.previous_exit = c.runtime.last_exit.take();
        c.runtime.last_exit = Some(Terminated {
            exit_code,
            reason: Terminated::reason_for(exit_code).to_string(),
            started_at_ns: started,
            finished_at_ns: now,
            instance,
        });
        // Resume a sync that was waiting for this container to stop.
        match &mut self.sync {
            Sync::Killing { pending, .. } | Sync::Terminating { pending } => {
                pending.retain(|&p| p != i);
                if pending.is_empty() {
                    match std::mem::replace(&mut self.sync, Sync::Idle) {
                        Sync::Killing { starts, .. } => {
                            self.sync = Sync::Starting { queue: starts, waiting: None };
                            self.continue_starts(now, out);
                        }
                        _ => self.finish_terminating(now, out),
                    }
                }
            }
            Sync::Starting { waiting, .. } => {
                if matches!(waiting, Some((w, Wait::PostStartKill | Wait::PostStart)) if *w == i) {
                    *waiting = None;
                    self.continue_starts(now, out);
                }
            }
            _ => {}
        }
        // PLEG: a ContainerDied event makes the pod worth a sync.
        self.request_sync(out);
    }

    fn probe_published(
        &mut self,
        i: usize,
        probe: ProbeType,
        instance: u32,
        result: CachedResult,
        now: u64,
        out: &mut Vec<Effect>,
    ) {
        let c = &mut self.containers[i];
        if c.results_instance != instance {
            c.results_instance = instance;
            c.liveness = None;
            c.readiness = None;
            c.startup = None;
        }
        let slot = match probe {
            ProbeType::Liveness => &mut c.liveness,
            ProbeType::Readiness => &mut c.readiness,
            ProbeType::Startup => &mut c.startup,
        };
        let changed = *slot != Some(result);
        *slot = Some(result);
        if !changed {
            return;
        }
        // The status manager applies readiness and startup at once (SetContainerReadiness /
        // SetContainerStartup), and the sync loop syncs the pod on liveness failures and on
        // every readiness or startup change.
        if matches!(probe, ProbeType::Readiness | ProbeType::Startup) {
            self.refresh_flags(now, out);
        }
        let worth_sync = match probe {
            ProbeType::Liveness => result == CachedResult::Failure,
            _ => true,
        };
        if worth_sync {
            self.request_sync(out);
        }
    }

    /// The status manager's immediate readiness/started update between syncs.
    fn refresh_flags(&mut self, _now: u64, out: &mut Vec<Effect>) {
        let mut changed = false;
        for (i, c) in self.containers.iter().enumerate() {
            let s = &mut self.status[i];
            if !matches!(s.state, ContainerState::Running { .. }) || c.results_instance != c.runtime.instance {
                continue;
            }
            let spec = &self.spec.spec.containers[i];
            let started = if spec.startup_probe.is_some() { c.startup == Some(CachedResult::Success) } else { true };
            let ready = started && (spec.readiness_probe.is_none() || c.readiness == Some(CachedResult::Success));
            if s.started != started || s.ready != ready {
                s.started = started;
                s.ready = ready;
                changed = true;
            }
        }
        if changed {
            out.push(Effect::StatusChanged);
        }
    }

    fn end_sync(&mut self, now: u64, out: &mut Vec<Effect>) {
        self.sync = Sync::Idle;
        // completeWork: a phase transition re-queues at once; success after syncFrequency
        // (jittered by 0.5); an error after 10 s (jittered), or — v1.35 — at the crash-loop
        // window's expiry, clamped to [0, syncFrequency].
        let resync = self.cfg.sync_frequency_ns;
        let after = if self.phase != self.phase_at_sync_start {
            0
        } else if !self.sync_error {
            jitter(&mut self.rng, resync, 0.5)
        } else {
            let base = match (self.cfg.requeue_at_backoff_expiry(), self.backoff_expiry) {
                (true, Some(expiry)) => expiry.saturating_sub(now).min(resync),
                _ => 10 * SECOND,
            };
            jitter(&mut self.rng, base, 0.5)
        };
        out.push(Effect::Requeue { after_ns: after });
        if self.pending_sync {
            self.pending_sync = false;
            out.push(Effect::Requeue { after_ns: 0 });
        }
    }

    // ----- deletion -----------------------------------------------------------------------

    fn delete(&mut self, grace_s: Option<i64>, now: u64, out: &mut Vec<Effect>) {
        if self.deletion.is_some() {
            return;
        }
        self.deletion = Some(now);
        self.deletion_grace_s = Some(grace_s.unwrap_or(self.spec.spec.termination_grace_period_seconds.unwrap_or(30)));
        out.push(Effect::StatusChanged);
        // A running sync is cancelled (UpdatePod cancels its context) and the terminating
        // sync starts.
        self.pre_stop_started.clear();
        self.sync = Sync::Idle;
        self.begin_terminating(now, out);
    }

    /// SyncTerminatingPod: stop liveness and startup, stop every container in parallel.
    fn begin_terminating(&mut self, now: u64, out: &mut Vec<Effect>) {
        out.push(Effect::StopWorkers { readiness_too: false });
        let mut pending = Vec::new();
        for i in 0..self.containers.len() {
            if self.containers[i].runtime.running_since.is_some() {
                let name = self.containers[i].name.clone();
                self.emit(out, Some(i), EventType::Normal, "Killing", msg::stopping(&name));
                self.stop_container(i, StopReason::Deletion, now, out);
                pending.push(i);
            }
        }
        if pending.is_empty() {
            self.finish_terminating(now, out);
        } else {
            self.sync = Sync::Terminating { pending };
        }
    }

    /// All containers stopped: the pod is terminal (Succeeded if every container exited 0,
    /// else Failed — PR #115331), then removed from the API.
    fn finish_terminating(&mut self, now: u64, out: &mut Vec<Effect>) {
        self.sync = Sync::Idle;
        out.push(Effect::StopWorkers { readiness_too: true });
        self.terminated = true;
        self.generate_status(now, out);
        let all_ok = self.containers.iter().all(|c| c.runtime.last_exit.as_ref().is_none_or(|t| t.exit_code == 0));
        self.phase = if all_ok { Phase::Succeeded } else { Phase::Failed };
        out.push(Effect::StatusChanged);
        self.removed = true;
        out.push(Effect::Removed);
    }
}
