//! One shard's scheduling core: its workers' kubelet state, their timers, the concurrency
//! bounds, and the per-probe bookkeeping. Pure logic: time comes from a [`Clock`] and
//! probes leave through a [`Dispatch`], so every timeline here is tested on a virtual
//! clock, and the real-time driver (`hires`) only adds waiting.
//!
//! The kubelet's tick rules it reproduces (pkg/kubelet/prober/worker.go, Go's ticker):
//! - deadlines sit on the worker's grid W + k·period, never "period after the last probe";
//! - single flight: a worker never overlaps itself; a tick that comes while its probe runs
//!   is kept (Go's ticker channel buffers one) and fires when the probe completes — its wait
//!   is the *overrun delay*, recorded apart from the dispatch lag; every further tick in
//!   the meantime is dropped and counted as missed; the grid then continues unchanged.

use std::collections::VecDeque;
use std::sync::Arc;

use super::clock::Clock;
use super::fleet::{Fleet, InitialPhase, initial_offset_ns};
use super::mechanism::{MechanismKind, ProbeTemplate};
use super::wheel::{Wheel, advise_huge_pages};
use crate::kubelet::{CachedResult, ContainerView, PodView, ProbeWorker, Published, RunState, StartupHold, Tick};
use crate::measure::{Metric, Recorder};
use crate::probe::ProbeResult;
use crate::spec::ProbeType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WorkerState {
    /// Linked in the wheel, waiting for its next tick.
    Idle,
    /// Its probe is in flight or waiting for a concurrency slot; not in the wheel.
    Busy,
    /// The kubelet worker exited (or the run ended for it).
    Stopped,
}

/// Per-worker state: the kubelet's worker plus two indices (the wheel node adds the
/// deadline and link). See [`ShardCore::bytes_per_worker_struct`].
#[derive(Debug, Clone)]
struct WorkerSlot {
    kubelet: ProbeWorker,
    template: u32,
    container: u32,
    state: WorkerState,
}

/// A container as its workers see it, with its pod's flags copied in (one lookup per tick).
#[derive(Debug, Clone, Copy)]
struct ContainerSlot {
    view: ContainerView,
    /// Pod number in the plan (gives its address).
    pod_global: u32,
    terminal: bool,
    deleting: bool,
    restart_never: bool,
}

/// A probe handed to a mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeStart {
    /// Local worker index (comes back in the [`Completion`]).
    pub worker: u32,
    /// Pod number in the plan.
    pub pod: u32,
    pub template: u32,
    pub intended_ns: u64,
    pub dispatched_ns: u64,
    /// The worker's next grid point: a completion at or after it has a pending tick to
    /// fire, so the shard must hear of it at once; earlier ones can wait for its next wake.
    pub next_grid_ns: u64,
    /// Fired as the pending tick of an overrun.
    pub overrun: bool,
}

/// A finished probe, as the mechanism reports it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub start: ProbeStart,
    pub started_ns: u64,
    pub finished_ns: u64,
    pub result: ProbeResult,
    pub errored: bool,
    /// The kubelet's output text, kept only for failures, warnings and errors (events).
    pub output: Option<Box<str>>,
}

/// Where probes of real mechanisms go. The completion comes back through
/// [`ShardCore::complete`].
pub trait Dispatch {
    fn start(&mut self, probe: &ProbeStart, template: &Arc<ProbeTemplate>);
}

/// What an event records (rendered into events.jsonl at the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `<Type> probe failed: <output>` (Warning, Unhealthy).
    Failed,
    /// `<Type> probe warning: <output>` (Warning, ProbeWarning).
    Warning,
    /// `<Type> probe errored and resulted in unknown state: <err>` (Warning, Unhealthy).
    Errored,
    /// The results cache published a new value at the threshold.
    Published(CachedResult),
}

impl EventKind {
    /// The event a finished probe emits, if any (a plain success emits none).
    pub fn of(errored: bool, result: ProbeResult) -> Option<EventKind> {
        if errored {
            return Some(EventKind::Errored);
        }
        match result {
            ProbeResult::Warning => Some(EventKind::Warning),
            ProbeResult::Failure | ProbeResult::Unknown => Some(EventKind::Failed),
            ProbeResult::Success => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub t_ns: u64,
    pub pod: u32,
    pub template: u32,
    pub kind: EventKind,
    pub output: Option<Box<str>>,
}

/// Shard settings.
#[derive(Debug, Clone, Copy)]
pub struct ShardConfig {
    pub initial_phase: InitialPhase,
    pub seed: u64,
    /// In-flight bound per mechanism, for this shard.
    pub bounds: [u32; MechanismKind::COUNT],
    /// Events kept per shard; beyond it they are counted, not stored.
    pub max_events: usize,
}

/// Counters that belong to no series.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShardCounters {
    pub wakeups: u64,
    pub events_dropped: u64,
    pub workers_stopped: u64,
}

pub struct ShardCore {
    /// Workers, each a wheel node (deadline, link, state) so firing one touches one line.
    wheel: Wheel<WorkerSlot>,
    containers: Vec<ContainerSlot>,
    /// First container of each local pod, and how many (for pod-level changes).
    pods: Vec<(u32, u32)>,
    templates: Vec<Arc<ProbeTemplate>>,
    /// Copies of the templates' hot fields, so the hot path never touches an `Arc`.
    hot: Vec<HotTemplate>,
    due: Vec<u32>,
    queues: [VecDeque<ProbeStart>; MechanismKind::COUNT],
    in_flight: [u32; MechanismKind::COUNT],
    cfg: ShardConfig,
    /// Ticks intended at or after this are not fired (end of the run).
    stop_ns: u64,
    stopped_early: bool,
    pub rec: Recorder,
    pub events: Vec<EventRecord>,
    pub counters: ShardCounters,
}

/// The template fields every tick reads.
#[derive(Debug, Clone, Copy)]
struct HotTemplate {
    period_ns: u64,
    series: u16,
    kind: MechanismKind,
    probe_type: ProbeType,
}

impl ShardCore {
    /// Build the workers of the pods `pod % shards == shard` (all workers of a pod live in
    /// one shard, since a startup probe gates its container's other workers).
    pub fn new(fleet: &Fleet, shard: usize, shards: usize, cfg: ShardConfig, rec: Recorder) -> Self {
        let shards = shards.max(1) as u32;
        // Size everything first, so the big arrays are allocated once, advised for huge
        // pages before they are touched, and never reallocated.
        let (mut n_workers, mut n_containers, mut n_pods) = (0usize, 0usize, 0usize);
        for g in &fleet.groups {
            let mine = (g.first_pod..g.first_pod + g.replicas).filter(|p| p % shards == shard as u32).count();
            n_pods += mine;
            n_containers += mine * g.containers.len();
            n_workers += mine * g.containers.iter().map(|c| c.templates.len()).sum::<usize>();
        }
        let mut workers = Vec::with_capacity(n_workers);
        let mut containers = Vec::with_capacity(n_containers);
        advise_huge_pages(&mut containers);
        let mut pods = Vec::with_capacity(n_pods);
        let mut offsets = Vec::with_capacity(n_workers);
        for g in &fleet.groups {
            for pod in g.first_pod..g.first_pod + g.replicas {
                if pod % shards != shard as u32 {
                    continue;
                }
                pods.push((containers.len() as u32, g.containers.len() as u32));
                for c in &g.containers {
                    // For this engine every container runs from the start with ID 1 (the
                    // pod lifecycle runs in crate::lifecycle, not in the shards).
                    let container = containers.len() as u32;
                    containers.push(ContainerSlot {
                        view: ContainerView {
                            id: 1,
                            state: RunState::Running { started_at: 0 },
                            started: !c.has_startup,
                        },
                        pod_global: pod,
                        terminal: false,
                        deleting: false,
                        restart_never: g.restart_never,
                    });
                    for &t in &c.templates {
                        let tmpl = &fleet.templates[t as usize];
                        workers.push(WorkerSlot {
                            kubelet: ProbeWorker::new(tmpl.probe_type, &tmpl.probe, StartupHold::default()),
                            template: t,
                            container,
                            state: WorkerState::Idle,
                        });
                        offsets.push(initial_offset_ns(cfg.initial_phase, cfg.seed, pod, t, tmpl.period_ns));
                    }
                }
            }
        }
        // Offsets wait in the deadline fields until `arm` knows the start time.
        let mut wheel = Wheel::new(workers, 0);
        for (w, &off) in offsets.iter().enumerate() {
            wheel.set_deadline(w as u32, off);
        }
        drop(offsets);
        let hot = fleet
            .templates
            .iter()
            .map(|t| HotTemplate { period_ns: t.period_ns, series: t.series, kind: t.kind, probe_type: t.probe_type })
            .collect();
        ShardCore {
            wheel,
            containers,
            pods,
            templates: fleet.templates.clone(),
            hot,
            due: Vec::with_capacity(4096),
            queues: std::array::from_fn(|_| VecDeque::with_capacity(1024)),
            in_flight: [0; MechanismKind::COUNT],
            cfg,
            stop_ns: u64::MAX,
            stopped_early: false,
            rec,
            events: Vec::new(),
            counters: ShardCounters::default(),
        }
    }

    /// Place every worker's grid: first tick at `start_ns` + its initial offset; containers
    /// run from `start_ns`; ticks intended at or after `stop_ns` are not fired; probes
    /// intended before `measure_from_ns` are warm-up.
    pub fn arm(&mut self, start_ns: u64, measure_from_ns: u64, stop_ns: u64) {
        self.wheel.rebase(start_ns);
        for w in 0..self.wheel.workers() as u32 {
            let off = self.wheel.deadline(w);
            self.wheel.schedule(w, start_ns + off);
        }
        for c in &mut self.containers {
            if let RunState::Running { started_at } = &mut c.view.state {
                *started_at = start_ns;
            }
        }
        self.stop_ns = stop_ns;
        self.rec.measure_from_ns = measure_from_ns;
    }

    pub fn worker_count(&self) -> usize {
        self.wheel.workers()
    }

    /// Memory the worker state takes as allocated: wheel nodes (deadline, link, kubelet
    /// worker, indices), slot arrays, containers and pods.
    pub fn state_bytes(&self) -> usize {
        self.wheel.bytes()
            + self.containers.capacity() * std::mem::size_of::<ContainerSlot>()
            + self.pods.capacity() * 8
    }

    /// Size of the fixed per-worker struct: the wheel node holding the worker.
    pub fn bytes_per_worker_struct() -> usize {
        std::mem::size_of::<super::wheel::Node<WorkerSlot>>()
    }

    /// The earliest moment something is due (a tick), if any.
    pub fn next_deadline(&self) -> Option<u64> {
        self.wheel.next_deadline()
    }

    /// Probes waiting for a concurrency slot (their start needs a completion processed
    /// promptly).
    pub fn queued(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }

    /// Probes in flight or queued for a concurrency slot.
    pub fn busy(&self) -> u64 {
        self.in_flight.iter().map(|&n| u64::from(n)).sum::<u64>()
            + self.queues.iter().map(|q| q.len() as u64).sum::<u64>()
    }

    /// Fire every tick that is due now.
    pub fn run_due(&mut self, clock: &impl Clock, disp: &mut impl Dispatch) -> usize {
        self.counters.wakeups += 1;
        let now = clock.now_ns();
        let mut due = std::mem::take(&mut self.due);
        due.clear();
        self.wheel.pop_due(now, &mut due);
        for &w in &due {
            let intended = self.wheel.deadline(w);
            let slot = self.wheel.payload(w);
            if slot.state != WorkerState::Idle || intended >= self.stop_ns {
                // Past the end of the run the worker is simply not relinked.
                continue;
            }
            let period = self.hot[slot.template as usize].period_ns;
            self.fire(w, intended, intended + period, false, now, clock, disp);
        }
        let n = due.len();
        self.due = due;
        n
    }

    /// One tick of worker `w`, intended at `intended`; `next_grid` is its next grid point.
    /// `now` is the dispatch time (read once per wake-up: every probe of a batch is
    /// dispatched within the same few microseconds, and each one's lag is its own).
    #[allow(clippy::too_many_arguments)]
    fn fire(
        &mut self,
        w: u32,
        intended: u64,
        next_grid: u64,
        overrun: bool,
        now: u64,
        clock: &impl Clock,
        disp: &mut impl Dispatch,
    ) {
        let slot = self.wheel.payload(w);
        let (t, c) = (slot.template, slot.container);
        let view = self.pod_view(c);
        let (tick, update) = self.wheel.payload_mut(w).kubelet.tick(&view, now);
        if let Some(u) = update {
            // Initial values and not-running failures: not threshold publications.
            self.apply_publication(w, u, now, false);
        }
        let hot = self.hot[t as usize];
        let series = usize::from(hot.series);
        let measured = self.rec.measured(intended);
        match tick {
            Tick::Skip => {
                if measured {
                    self.rec.counters(series).skipped += 1;
                }
                self.wheel.schedule(w, next_grid);
            }
            Tick::Stop => {
                self.wheel.payload_mut(w).state = WorkerState::Stopped;
                self.counters.workers_stopped += 1;
            }
            Tick::Probe => {
                if measured {
                    let c = self.rec.counters(series);
                    c.dispatched += 1;
                    if overrun {
                        c.overruns += 1;
                    }
                    let metric = if overrun { Metric::OverrunDelay } else { Metric::DispatchLag };
                    self.rec.record(series, metric, now.saturating_sub(intended), now);
                }
                self.wheel.payload_mut(w).state = WorkerState::Busy;
                self.wheel.set_deadline(w, next_grid);
                let start = ProbeStart {
                    worker: w,
                    pod: self.containers[c as usize].pod_global,
                    template: t,
                    intended_ns: intended,
                    dispatched_ns: now,
                    next_grid_ns: next_grid,
                    overrun,
                };
                let k = hot.kind.index();
                if hot.kind == MechanismKind::Noop {
                    // Nothing to run: the probe starts and ends at its dispatch.
                    self.finish(
                        Completion {
                            start,
                            started_ns: now,
                            finished_ns: now,
                            result: ProbeResult::Success,
                            errored: false,
                            output: None,
                        },
                        now,
                        clock,
                        disp,
                    );
                } else if self.in_flight[k] < self.cfg.bounds[k].max(1) {
                    self.in_flight[k] += 1;
                    disp.start(&start, &self.templates[t as usize]);
                } else {
                    if measured {
                        self.rec.counters(series).bound_delayed += 1;
                    }
                    self.queues[k].push_back(start);
                }
            }
        }
    }

    /// A probe of a real mechanism finished.
    pub fn complete(&mut self, c: Completion, clock: &impl Clock, disp: &mut impl Dispatch) {
        let k = self.hot[c.start.template as usize].kind.index();
        self.in_flight[k] = self.in_flight[k].saturating_sub(1);
        let now = clock.now_ns().max(c.finished_ns);
        self.finish(c, now, clock, disp);
        // A slot freed: start the probes the bound held back, oldest first (one clock read
        // for the batch, as `fire` does per wake-up).
        let now = clock.now_ns();
        while self.in_flight[k] < self.cfg.bounds[k].max(1) {
            let Some(q) = self.queues[k].pop_front() else {
                break;
            };
            if self.wheel.payload(q.worker).state != WorkerState::Busy {
                continue;
            }
            if self.rec.measured(q.intended_ns) {
                let series = usize::from(self.hot[q.template as usize].series);
                self.rec.counters(series).bound_wait_ns += now.saturating_sub(q.dispatched_ns);
            }
            self.in_flight[k] += 1;
            disp.start(&q, &self.templates[q.template as usize]);
        }
    }

    /// Record a finished probe, feed the kubelet worker, and schedule its next tick.
    /// `now` is the current time (the pending tick of an overrun fires at it).
    fn finish(&mut self, c: Completion, now: u64, clock: &impl Clock, disp: &mut impl Dispatch) {
        let w = c.start.worker;
        let hot = self.hot[c.start.template as usize];
        let series = usize::from(hot.series);
        let intended = c.start.intended_ns;
        let finished = c.finished_ns;
        if self.rec.measured(intended) {
            self.rec.record_finished(series, intended, c.started_ns, finished, c.errored, c.result);
        }
        let slot = self.wheel.payload_mut(w);
        if slot.state == WorkerState::Busy {
            slot.state = WorkerState::Idle;
        }
        // The kubelet discards an errored result; otherwise it counts toward thresholds.
        let update = if c.errored {
            slot.kubelet.record_errored();
            None
        } else {
            slot.kubelet.record(c.result.counts_as_success())
        };
        if let Some(kind) = EventKind::of(c.errored, c.result) {
            self.event(finished, w, kind, c.output);
        }
        if let Some(u) = update {
            self.apply_publication(w, u, finished, true);
        }
        if self.wheel.payload(w).state != WorkerState::Idle {
            return;
        }
        // Next tick: on the grid, unless ticks passed while the probe ran.
        let next = self.wheel.deadline(w);
        if next >= self.stop_ns {
            return;
        }
        if now >= next {
            // Go's ticker kept the first of those ticks; the rest were dropped.
            let missed = (now - next) / hot.period_ns;
            if self.rec.measured(next) {
                self.rec.counters(series).missed_ticks += missed;
            }
            let after = next + (missed + 1) * hot.period_ns;
            self.fire(w, next, after, true, now, clock, disp);
        } else {
            self.wheel.schedule(w, next);
        }
    }

    fn apply_publication(&mut self, w: u32, u: Published, now: u64, threshold: bool) {
        let slot = self.wheel.payload(w);
        let hot = self.hot[slot.template as usize];
        let c = slot.container as usize;
        // A startup success marks the container started, which lets its liveness and
        // readiness workers probe (kubelet prober_manager isContainerStarted).
        if hot.probe_type == ProbeType::Startup && u.result == CachedResult::Success {
            self.containers[c].view.started = true;
        }
        if threshold {
            let series = usize::from(hot.series);
            if now >= self.rec.measure_from_ns {
                self.rec.counters(series).published += 1;
            }
            self.event(now, w, EventKind::Published(u.result), None);
        }
    }

    fn event(&mut self, t_ns: u64, w: u32, kind: EventKind, output: Option<Box<str>>) {
        if self.events.len() >= self.cfg.max_events {
            self.counters.events_dropped += 1;
            return;
        }
        let slot = self.wheel.payload(w);
        let pod = self.containers[slot.container as usize].pod_global;
        self.events.push(EventRecord { t_ns, pod, template: slot.template, kind, output });
    }

    #[inline]
    fn pod_view(&self, container: u32) -> PodView {
        let c = &self.containers[container as usize];
        PodView { terminal: c.terminal, deleting: c.deleting, restart_never: c.restart_never, container: Some(c.view) }
    }

    /// At the drain deadline: whatever is still in flight or queued is unfinished.
    pub fn abandon_in_flight(&mut self) -> u64 {
        let n = self.busy();
        for q in &mut self.queues {
            q.clear();
        }
        self.in_flight = [0; MechanismKind::COUNT];
        n
    }

    /// Fire nothing intended at or after `now` (an early stop).
    pub fn stop_firing(&mut self, now: u64) {
        self.stop_ns = self.stop_ns.min(now);
        self.stopped_early = true;
    }

    pub fn stopped_early(&self) -> bool {
        self.stopped_early
    }

    pub fn template(&self, t: u32) -> &Arc<ProbeTemplate> {
        &self.templates[t as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::clock::VirtualClock;
    use crate::sched::fleet::GroupInput;
    use crate::sched::mechanism::{Capabilities, capabilities};
    use crate::spec;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000 * MS;

    /// A dispatcher that records starts; the test completes them by hand.
    #[derive(Default)]
    struct Manual {
        started: Vec<ProbeStart>,
    }

    impl Dispatch for Manual {
        fn start(&mut self, p: &ProbeStart, _t: &Arc<ProbeTemplate>) {
            self.started.push(*p);
        }
    }

    /// Every mechanism runs (with targets), so tcp probes go to the dispatcher.
    const ALL: Capabilities = capabilities_all();

    const fn capabilities_all() -> Capabilities {
        Capabilities { mechanisms: [true; MechanismKind::COUNT], targets: true }
    }

    fn fleet(pods: u32, yaml_probe: &str, caps: &Capabilities) -> Fleet {
        let text = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: c\n    image: x\n{yaml_probe}"
        );
        let loaded = spec::load_str("t.yaml", &text).unwrap();
        Fleet::build(&[GroupInput { pod: loaded.pods[0].clone(), replicas: pods, probe_as: None }], caps)
    }

    fn cfg(bound: u32) -> ShardConfig {
        ShardConfig {
            initial_phase: InitialPhase::None,
            seed: 1,
            bounds: [bound; MechanismKind::COUNT],
            max_events: 100,
        }
    }

    const TCP_10S: &str =
        "    livenessProbe:\n      tcpSocket: {port: 80}\n      periodSeconds: 10\n      failureThreshold: 3\n";

    fn armed(mut c: ShardCore, measure_from: u64, stop: u64) -> ShardCore {
        c.arm(1_000 * S, measure_from, stop);
        c
    }

    fn core(pods: u32, bound: u32) -> ShardCore {
        let f = fleet(pods, TCP_10S, &ALL);
        armed(ShardCore::new(&f, 0, 1, cfg(bound), Recorder::new(f.series.len(), 0, S, None)), 0, u64::MAX)
    }

    fn done(p: &ProbeStart, at: u64, ok: bool) -> Completion {
        Completion {
            start: *p,
            started_ns: at,
            finished_ns: at,
            result: if ok { ProbeResult::Success } else { ProbeResult::Failure },
            errored: false,
            output: None,
        }
    }

    #[test]
    fn single_flight_keeps_one_pending_tick_and_drops_the_rest() {
        let t0 = 1_000 * S;
        let clock = VirtualClock::new(t0);
        let mut d = Manual::default();
        let mut c = core(1, 8);
        c.run_due(&clock, &mut d);
        assert_eq!(d.started.len(), 1, "first probe at the worker's start");
        assert_eq!(d.started[0].intended_ns, t0);
        // The probe hangs for 35 s: ticks at 10, 20, 30 s pass while it runs.
        for k in 1..=3 {
            clock.set(t0 + k * 10 * S);
            c.run_due(&clock, &mut d);
            assert_eq!(d.started.len(), 1, "a worker never overlaps itself");
        }
        clock.set(t0 + 35 * S);
        let first = d.started[0];
        c.complete(done(&first, t0 + 35 * S, true), &clock, &mut d);
        // The pending tick (intended 10 s) fires at completion; 20 s and 30 s were dropped.
        assert_eq!(d.started.len(), 2);
        let pending = d.started[1];
        assert!(pending.overrun);
        assert_eq!(pending.intended_ns, t0 + 10 * S);
        assert_eq!(pending.dispatched_ns, t0 + 35 * S);
        let counters = c.rec.series[0].counters;
        assert_eq!(counters.missed_ticks, 2);
        assert_eq!(counters.overruns, 1);
        // The grid continues: next tick at 40 s, not 45 s.
        clock.set(t0 + 36 * S);
        c.complete(done(&pending, t0 + 36 * S, true), &clock, &mut d);
        assert_eq!(c.next_deadline(), Some(t0 + 40 * S));
        clock.set(t0 + 40 * S);
        c.run_due(&clock, &mut d);
        assert_eq!(d.started.len(), 3);
        assert_eq!(d.started[2].intended_ns, t0 + 40 * S);
        assert!(!d.started[2].overrun);
    }

    #[test]
    fn overrun_delay_is_kept_out_of_dispatch_lag() {
        let t0 = 1_000 * S;
        let clock = VirtualClock::new(t0 + 2 * MS); // woke 2 ms late
        let mut d = Manual::default();
        let mut c = core(1, 8);
        c.run_due(&clock, &mut d);
        clock.set(t0 + 10 * S + 3 * MS);
        c.run_due(&clock, &mut d); // tick while busy: pending
        clock.set(t0 + 14 * S);
        let first = d.started[0];
        c.complete(done(&first, t0 + 14 * S, true), &clock, &mut d);
        let m = &c.rec.series[0].metrics;
        let lag = m.get(Metric::DispatchLag);
        let over = m.get(Metric::OverrunDelay);
        assert_eq!(lag.len(), 1, "only the probe fired by its own tick");
        assert!(lag.equivalent(lag.max(), 2 * MS), "{}", lag.max());
        assert_eq!(over.len(), 1);
        assert!(over.equivalent(over.max(), 4 * S), "{}", over.max());
        // Corrected latency of the first probe runs from its intended time.
        let cl = m.get(Metric::CorrectedLatency);
        assert!(cl.equivalent(cl.max(), 14 * S));
    }

    #[test]
    fn the_bound_delays_probes_and_counts_them() {
        let t0 = 1_000 * S;
        let clock = VirtualClock::new(t0);
        let mut d = Manual::default();
        let mut c = core(3, 1);
        c.run_due(&clock, &mut d);
        assert_eq!(d.started.len(), 1, "bound of one");
        assert_eq!(c.busy(), 3);
        clock.set(t0 + 5 * MS);
        let p = d.started[0];
        c.complete(done(&p, t0 + 5 * MS, true), &clock, &mut d);
        assert_eq!(d.started.len(), 2, "the freed slot starts the next one");
        let counters = c.rec.series[0].counters;
        assert_eq!(counters.bound_delayed, 2);
        assert_eq!(counters.bound_wait_ns, 5 * MS);
        // Its dispatch lag stays the scheduler's (0); the wait shows in start lag.
        let p2 = d.started[1];
        assert_eq!(p2.dispatched_ns, t0);
        clock.set(t0 + 6 * MS);
        c.complete(Completion { started_ns: t0 + 5 * MS, ..done(&p2, t0 + 6 * MS, true) }, &clock, &mut d);
        let sl = c.rec.series[0].metrics.get(Metric::StartLag);
        assert!(sl.equivalent(sl.max(), 5 * MS));
    }

    #[test]
    fn failures_reach_the_threshold_and_liveness_holds() {
        let t0 = 1_000 * S;
        let clock = VirtualClock::new(t0);
        let mut d = Manual::default();
        let mut c = core(1, 8);
        for k in 0..5u64 {
            clock.set(t0 + k * 10 * S);
            c.run_due(&clock, &mut d);
            if let Some(p) = d.started.pop() {
                c.complete(done(&p, t0 + k * 10 * S + MS, false), &clock, &mut d);
            }
        }
        let counters = c.rec.series[0].counters;
        assert_eq!(counters.failure, 3, "on hold after the third failure");
        assert_eq!(counters.published, 1);
        assert_eq!(counters.skipped, 2);
        assert!(c.events.iter().any(|e| e.kind == EventKind::Published(CachedResult::Failure)));
    }

    #[test]
    fn startup_gates_liveness_until_it_succeeds() {
        let probes = "    startupProbe:\n      tcpSocket: {port: 80}\n      periodSeconds: 1\n    livenessProbe:\n      tcpSocket: {port: 80}\n      periodSeconds: 1\n";
        let f = fleet(1, probes, &ALL);
        let mut c = armed(ShardCore::new(&f, 0, 1, cfg(8), Recorder::new(f.series.len(), 0, S, None)), 0, u64::MAX);
        let t0 = 1_000 * S;
        let clock = VirtualClock::new(t0);
        let mut d = Manual::default();
        c.run_due(&clock, &mut d);
        assert_eq!(d.started.len(), 1, "only the startup worker probes");
        let s = d.started.pop().unwrap();
        assert_eq!(c.template(s.template).probe_type, ProbeType::Startup);
        c.complete(done(&s, t0 + MS, true), &clock, &mut d);
        clock.set(t0 + S);
        c.run_due(&clock, &mut d);
        assert_eq!(d.started.len(), 1, "startup on hold, liveness probes now");
        assert_eq!(c.template(d.started[0].template).probe_type, ProbeType::Liveness);
    }

    #[test]
    fn noop_completes_inline_and_warm_up_is_not_recorded() {
        let f = fleet(4, TCP_10S, &capabilities(false));
        assert_eq!(f.series[0].mechanism, MechanismKind::Noop, "stand-in");
        let t0 = 1_000 * S;
        let mut c = armed(
            ShardCore::new(
                &f,
                0,
                1,
                ShardConfig { initial_phase: InitialPhase::Uniform, ..cfg(8) },
                Recorder::new(f.series.len(), 0, S, None),
            ),
            t0 + 10 * S,
            u64::MAX,
        );
        let clock = VirtualClock::new(t0);
        let mut d = Manual::default();
        let mut fired = 0;
        while let Some(next) = c.next_deadline() {
            if next >= t0 + 30 * S {
                break;
            }
            clock.set(next);
            fired += c.run_due(&clock, &mut d);
        }
        assert!(d.started.is_empty());
        assert_eq!(fired, 12, "4 workers × 3 periods");
        assert_eq!(c.rec.series[0].counters.probes, 8, "the first period was warm-up");
        assert_eq!(c.rec.series[0].metrics.get(Metric::DispatchLag).max(), 1);
    }

    #[test]
    fn ticks_stop_at_the_end_of_the_run() {
        let t0 = 1_000 * S;
        let f = fleet(1, TCP_10S, &Capabilities::NOOP_ONLY);
        let mut c = armed(ShardCore::new(&f, 0, 1, cfg(8), Recorder::new(1, 0, S, None)), 0, t0 + 15 * S);
        let clock = VirtualClock::new(t0);
        let mut d = Manual::default();
        for k in 0..4 {
            clock.set(t0 + k * 10 * S);
            c.run_due(&clock, &mut d);
        }
        assert_eq!(c.rec.series[0].counters.probes, 2);
    }

    #[test]
    fn worker_state_fits_the_budget() {
        assert!(ShardCore::bytes_per_worker_struct() <= 64, "{}", ShardCore::bytes_per_worker_struct());
    }
}
