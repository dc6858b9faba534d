//! The kubelet's probe worker, one per (pod, container, probe type), as a pure state machine:
//! pkg/kubelet/prober/worker.go (doProbe) and the results manager (results_manager.go).
//!
//! The driver (the simulator or the real-time scheduler) owns time: it calls [`ProbeWorker::tick`]
//! on the worker's grid (worker start + k·period), runs the probe when told to, and hands the
//! outcome back with [`ProbeWorker::record`]. No clock, no I/O here.

use crate::spec::ProbeType;

/// A value in the kubelet's probe results cache (pkg/kubelet/prober/results).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CachedResult {
    Unknown,
    Success,
    Failure,
}

impl CachedResult {
    /// newWorker's initial values: readiness Failure (not ready), liveness Success (alive),
    /// startup Unknown (not started).
    pub fn initial(t: ProbeType) -> Self {
        match t {
            ProbeType::Readiness => CachedResult::Failure,
            ProbeType::Liveness => CachedResult::Success,
            ProbeType::Startup => CachedResult::Unknown,
        }
    }
}

/// What the worker's container looks like at a tick (from the pod status cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerView {
    /// The runtime's container ID for this instance; a new ID per start.
    pub id: u32,
    pub state: RunState,
    /// The container's `started` flag (startup probe succeeded, or none exists).
    pub started: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Running since `started_at` (nanoseconds on the driver's clock).
    Running {
        started_at: u64,
    },
    Waiting,
    Terminated,
}

/// The pod around the worker, at a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodView {
    /// Phase Failed or Succeeded.
    pub terminal: bool,
    /// The pod has a deletion timestamp.
    pub deleting: bool,
    /// restartPolicy Never.
    pub restart_never: bool,
    /// The container's status, if the kubelet has one with a container ID.
    pub container: Option<ContainerView>,
}

/// What a tick decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Nothing to probe this tick; keep ticking.
    Skip,
    /// Run the probe now, then call [`ProbeWorker::record`] (or `record_errored`).
    Probe,
    /// The worker exits (doProbe returned false).
    Stop,
}

/// Which kubelet generation's startup-worker rule to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartupHold {
    /// Since the fix for kubernetes#117153: on hold after *any* startup publication.
    #[default]
    AfterAnyPublication,
    /// Older kubelets: on hold only after a Failure publication.
    AfterFailureOnly,
}

/// One probe worker's state: a few words, so a million of them fit in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeWorker {
    pub probe_type: ProbeType,
    initial_delay_seconds: u32,
    success_threshold: u32,
    failure_threshold: u32,
    startup_hold: StartupHold,
    /// The last counted result (true = success); `None` before the first.
    last_success: Option<bool>,
    /// Length of the current run of identical results.
    result_run: u32,
    on_hold: bool,
    /// The container ID last seen (0 = none yet; IDs start at 1).
    container_id: u32,
    /// The results cache entry for this worker's container.
    cached: Option<CachedResult>,
}

/// A change of the cached result, which the kubelet's results manager sends on its update
/// channel (liveness Failure and every readiness/startup change trigger a pod sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub container_id: u32,
    pub result: CachedResult,
}

impl ProbeWorker {
    /// A worker for a probe whose fields are already defaulted and validated.
    pub fn new(probe_type: ProbeType, probe: &crate::spec::Probe, startup_hold: StartupHold) -> Self {
        let positive = |v: i32| u32::try_from(v).unwrap_or(0).max(1);
        ProbeWorker {
            probe_type,
            initial_delay_seconds: u32::try_from(probe.initial_delay_seconds).unwrap_or(0),
            success_threshold: positive(probe.success_threshold),
            failure_threshold: positive(probe.failure_threshold),
            startup_hold,
            last_success: None,
            result_run: 0,
            on_hold: false,
            container_id: 0,
            cached: None,
        }
    }

    /// The result the kubelet has cached for the current container, if any.
    pub fn cached(&self) -> Option<CachedResult> {
        self.cached
    }

    pub fn container_id(&self) -> u32 {
        self.container_id
    }

    pub fn on_hold(&self) -> bool {
        self.on_hold
    }

    /// Set the cache; returns the update the results manager would send (only on change).
    fn set(&mut self, result: CachedResult) -> Option<Published> {
        if self.cached == Some(result) {
            return None;
        }
        self.cached = Some(result);
        Some(Published { container_id: self.container_id, result })
    }

    /// doProbe's decisions for one tick at `now`, in the kubelet's order. Returns the
    /// decision and any cache update it made (initial value, Failure for a container that
    /// is not running, Success on deletion).
    pub fn tick(&mut self, pod: &PodView, now: u64) -> (Tick, Option<Published>) {
        // 1. (no pod status) — the driver passes a status for every admitted pod.
        // 2. Terminal phase: the worker exits.
        if pod.terminal {
            return (Tick::Stop, None);
        }
        // 3. No container status / no container ID yet: keep going.
        let Some(c) = pod.container else {
            return (Tick::Skip, None);
        };
        let mut update = None;
        // 4. A new container ID: drop the old cached result, store the initial value, clear
        //    the hold. resultRun and lastResult persist (kubelet quirk, see §3).
        if c.id != self.container_id {
            self.container_id = c.id;
            self.cached = None;
            update = self.set(CachedResult::initial(self.probe_type));
            self.on_hold = false;
        }
        // 5. On hold: keep going without probing.
        if self.on_hold {
            return (Tick::Skip, update);
        }
        // 6. Not running: cache Failure; exit only when terminated under restartPolicy Never.
        let started_at = match c.state {
            RunState::Running { started_at } => started_at,
            other => {
                let u = self.set(CachedResult::Failure);
                let stop = other == RunState::Terminated && pod.restart_never;
                return (if stop { Tick::Stop } else { Tick::Skip }, u.or(update));
            }
        };
        // 7. Deletion: liveness and startup cache Success ("quiet shutdown") and exit;
        //    readiness keeps probing through graceful termination.
        if pod.deleting && self.probe_type != ProbeType::Readiness {
            let u = self.set(CachedResult::Success);
            return (Tick::Stop, u.or(update));
        }
        // 8. Initial delay: whole seconds since StartedAt, truncated toward zero.
        let since_start_s = now.saturating_sub(started_at) / 1_000_000_000;
        if since_start_s < u64::from(self.initial_delay_seconds) {
            return (Tick::Skip, update);
        }
        // 9. Startup gating.
        let gated = match self.probe_type {
            ProbeType::Startup => c.started,
            ProbeType::Liveness | ProbeType::Readiness => !c.started,
        };
        if gated {
            return (Tick::Skip, update);
        }
        (Tick::Probe, update)
    }

    /// Count a non-errored result (warning already mapped to success, unknown to failure)
    /// and publish it at the threshold. Returns the cache update, if the value changed.
    pub fn record(&mut self, success: bool) -> Option<Published> {
        if self.last_success == Some(success) {
            self.result_run = self.result_run.saturating_add(1);
        } else {
            self.last_success = Some(success);
            self.result_run = 1;
        }
        let threshold = if success { self.success_threshold } else { self.failure_threshold };
        if self.result_run < threshold {
            return None;
        }
        let update = self.set(if success { CachedResult::Success } else { CachedResult::Failure });
        // Liveness failure: stop probing until a new container ID (hold added for the
        // docker-exec corruption of kubernetes#21751 / PR #22107). Startup: hold after any
        // publication since kubernetes#117153, only after failure before.
        let hold = match self.probe_type {
            ProbeType::Liveness => !success,
            ProbeType::Startup => !success || self.startup_hold == StartupHold::AfterAnyPublication,
            ProbeType::Readiness => false,
        };
        if hold {
            self.on_hold = true;
            self.result_run = 0;
        }
        update
    }

    /// An errored probe (after the prober's retries): thrown away, never counted.
    pub fn record_errored(&mut self) {}
}

/// The random initial sleep of a new worker: uniform in [0, period) only when the kubelet's
/// probe manager started less than one period ago (PR #97126, ~v1.21); otherwise none.
/// `unit` is a uniform draw in [0, 1) supplied by the driver's seeded RNG.
pub fn initial_jitter_ns(period_s: u32, kubelet_uptime_ns: u64, unit: f64) -> u64 {
    let period_ns = u64::from(period_s) * 1_000_000_000;
    if kubelet_uptime_ns < period_ns { (unit.clamp(0.0, 1.0) * period_ns as f64) as u64 % period_ns.max(1) } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Handler, Probe};

    const S: u64 = 1_000_000_000;

    fn probe(failure: i32, success: i32, delay: i32) -> Probe {
        Probe {
            handler: Handler::default(),
            initial_delay_seconds: delay,
            timeout_seconds: 1,
            period_seconds: 10,
            success_threshold: success,
            failure_threshold: failure,
            termination_grace_period_seconds: None,
        }
    }

    fn running(id: u32, started: bool) -> PodView {
        PodView {
            terminal: false,
            deleting: false,
            restart_never: false,
            container: Some(ContainerView { id, state: RunState::Running { started_at: 0 }, started }),
        }
    }

    #[test]
    fn publishes_failure_at_the_nth_consecutive_failure_then_holds() {
        let mut w = ProbeWorker::new(ProbeType::Liveness, &probe(3, 1, 0), StartupHold::default());
        let (t, u) = w.tick(&running(1, true), 0);
        assert_eq!(t, Tick::Probe);
        assert_eq!(u, Some(Published { container_id: 1, result: CachedResult::Success }));
        assert_eq!(w.record(false), None);
        assert_eq!(w.record(false), None);
        assert_eq!(w.record(false), Some(Published { container_id: 1, result: CachedResult::Failure }));
        assert_eq!(w.tick(&running(1, true), 10 * S), (Tick::Skip, None), "on hold");
        // A new container clears the hold and restores the initial value.
        let (t, u) = w.tick(&running(2, true), 20 * S);
        assert_eq!(t, Tick::Probe);
        assert_eq!(u, Some(Published { container_id: 2, result: CachedResult::Success }));
    }

    #[test]
    fn a_success_breaks_the_failure_run() {
        let mut w = ProbeWorker::new(ProbeType::Liveness, &probe(2, 1, 0), StartupHold::default());
        w.tick(&running(1, true), 0);
        assert_eq!(w.record(false), None);
        assert_eq!(w.record(true), None, "success equals the cached initial Success: no update");
        assert_eq!(w.record(false), None);
        assert!(w.record(false).is_some());
    }

    #[test]
    fn readiness_needs_success_threshold_and_starts_not_ready() {
        let mut w = ProbeWorker::new(ProbeType::Readiness, &probe(3, 2, 0), StartupHold::default());
        let (_, u) = w.tick(&running(1, true), 0);
        assert_eq!(u.map(|u| u.result), Some(CachedResult::Failure));
        assert_eq!(w.record(true), None);
        assert_eq!(w.record(true).map(|u| u.result), Some(CachedResult::Success));
        assert!(!w.on_hold(), "readiness never holds");
    }

    #[test]
    fn startup_gates_the_others_and_holds_after_success() {
        let mut s = ProbeWorker::new(ProbeType::Startup, &probe(3, 1, 0), StartupHold::AfterAnyPublication);
        let mut l = ProbeWorker::new(ProbeType::Liveness, &probe(3, 1, 0), StartupHold::default());
        assert_eq!(l.tick(&running(1, false), 0).0, Tick::Skip, "liveness waits for started");
        assert_eq!(s.tick(&running(1, false), 0).0, Tick::Probe);
        assert_eq!(s.record(true).map(|u| u.result), Some(CachedResult::Success));
        assert!(s.on_hold());
        assert_eq!(s.tick(&running(1, true), 10 * S).0, Tick::Skip);
        assert_eq!(l.tick(&running(1, true), 10 * S).0, Tick::Probe);
        let mut old = ProbeWorker::new(ProbeType::Startup, &probe(3, 1, 0), StartupHold::AfterFailureOnly);
        old.tick(&running(1, false), 0);
        old.record(true);
        assert!(!old.on_hold(), "older kubelets only hold after failure");
    }

    #[test]
    fn initial_delay_counts_whole_seconds_since_start() {
        let mut w = ProbeWorker::new(ProbeType::Liveness, &probe(3, 1, 5), StartupHold::default());
        let view = PodView {
            container: Some(ContainerView { id: 1, state: RunState::Running { started_at: S / 2 }, started: true }),
            ..running(1, true)
        };
        // 5.4 s after start truncates to 4 < 5: skipped; 5.5 s is 5: probed.
        assert_eq!(w.tick(&view, S / 2 + 5 * S - S / 10).0, Tick::Skip);
        assert_eq!(w.tick(&view, S / 2 + 5 * S).0, Tick::Probe);
    }

    #[test]
    fn not_running_caches_failure_and_stops_only_for_never() {
        let mut w = ProbeWorker::new(ProbeType::Readiness, &probe(3, 1, 0), StartupHold::default());
        let mut view = running(1, true);
        view.container = Some(ContainerView { id: 1, state: RunState::Terminated, started: false });
        assert_eq!(w.tick(&view, 0).0, Tick::Skip);
        assert_eq!(w.cached(), Some(CachedResult::Failure));
        view.restart_never = true;
        assert_eq!(w.tick(&view, S).0, Tick::Stop);
    }

    #[test]
    fn deletion_stops_liveness_with_success_but_not_readiness() {
        let mut l = ProbeWorker::new(ProbeType::Liveness, &probe(3, 1, 0), StartupHold::default());
        let mut r = ProbeWorker::new(ProbeType::Readiness, &probe(3, 1, 0), StartupHold::default());
        let mut view = running(1, true);
        view.deleting = true;
        assert_eq!(l.tick(&view, 0).0, Tick::Stop);
        assert_eq!(l.cached(), Some(CachedResult::Success));
        assert_eq!(r.tick(&view, 0).0, Tick::Probe);
    }

    #[test]
    fn result_run_persists_across_container_ids() {
        // Readiness with a long success run on the old container marks the new one ready
        // after one success (the kubelet quirk noted in kubelet-semantics.md §3).
        let mut w = ProbeWorker::new(ProbeType::Readiness, &probe(3, 3, 0), StartupHold::default());
        w.tick(&running(1, true), 0);
        for _ in 0..3 {
            w.record(true);
        }
        assert_eq!(w.cached(), Some(CachedResult::Success));
        w.tick(&running(2, true), 10 * S);
        assert_eq!(w.cached(), Some(CachedResult::Failure));
        assert_eq!(w.record(true).map(|u| u.result), Some(CachedResult::Success));
    }

    #[test]
    fn jitter_only_when_the_kubelet_just_started() {
        assert_eq!(initial_jitter_ns(10, 3600 * S, 0.5), 0);
        assert_eq!(initial_jitter_ns(10, 0, 0.5), 5 * S);
        assert!(initial_jitter_ns(10, 0, 0.999_999_999) < 10 * S);
    }

    #[test]
    fn worker_state_is_small() {
        assert!(std::mem::size_of::<ProbeWorker>() <= 32, "{}", std::mem::size_of::<ProbeWorker>());
    }
}
