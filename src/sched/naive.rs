//! The task-per-worker scheduler (`--scheduler naive`): what the kubelet does with one
//! goroutine and a ticker per worker, done with one tokio task and `interval` per worker.
//! Kept so one command compares it with the sharded engine: tokio's timer rounds every
//! deadline up to its 1 ms tick, and every idle worker is a task (~700 bytes).
//!
//! Same kubelet state machine, same recording: `MissedTickBehavior::Skip` returns a late
//! tick once with its original deadline, then realigns to the grid — Go's one buffered
//! tick; a tick returned while its deadline is before the previous probe's end is the
//! overrun's pending tick, and the grid points skipped are the missed ticks.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::MissedTickBehavior;

use super::clock::{InstantMap, mono_now_ns};
use super::engine::{EngineConfig, EngineError, ProducerOutput, Window};
use super::fleet::{Fleet, initial_offset_ns};
use super::mechanism::{MechanismKind, ProbeTemplate, Prober, guarded_probe};
use super::shard::{EventKind, EventRecord};
use crate::kubelet::{ContainerView, PodView, ProbeWorker, RunState, StartupHold, Tick};
use crate::measure::recorder::IntervalLink;
use crate::measure::{Metric, Recorder};
use crate::probe::Outcome;
use crate::spec::ProbeType;

/// Recording lanes: tasks record into `lane = worker % lanes` under a mutex (uncontended
/// most of the time), so no per-task histograms are needed.
pub fn lanes(threads: usize) -> usize {
    threads.max(1) * 4
}

struct Lane {
    rec: Recorder,
    events: Vec<EventRecord>,
    events_dropped: u64,
    max_events: usize,
}

struct Shared {
    lanes: Vec<Mutex<Lane>>,
    alive: AtomicUsize,
    map: InstantMap,
    /// Set once every task is spawned (so memory per task can be read first).
    window: OnceLock<Window>,
    go: Notify,
    prober: Arc<dyn Prober>,
}

/// Build one task per worker on a multi-thread runtime ("pb-naive" threads), run the
/// window, and return one output per lane.
pub fn run(
    fleet: &Fleet,
    cfg: &EngineConfig,
    prober: Arc<dyn Prober>,
    links: Vec<IntervalLink>,
    setup: impl FnOnce(&[()]) -> Window,
) -> Result<Vec<ProducerOutput>, EngineError> {
    let threads = cfg.shards.max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("pb-naive")
        .enable_all()
        .build()
        .map_err(EngineError::Runtime)?;
    let series = fleet.series.len();
    let lanes: Vec<Mutex<Lane>> = links
        .into_iter()
        .map(|l| {
            Mutex::new(Lane {
                rec: Recorder::new(series, u64::MAX, 1_000_000_000, Some(l)),
                events: Vec::new(),
                events_dropped: 0,
                max_events: cfg.max_events / lanes(threads).max(1),
            })
        })
        .collect();
    let shared = Arc::new(Shared {
        lanes,
        alive: AtomicUsize::new(0),
        map: InstantMap::new(),
        window: OnceLock::new(),
        go: Notify::new(),
        prober,
    });
    let mut index = 0u64;
    {
        let _guard = rt.enter();
        for g in &fleet.groups {
            for pod in g.first_pod..g.first_pod + g.replicas {
                for c in &g.containers {
                    // Startup gating across a container's workers: a shared flag, set by
                    // the startup worker's success.
                    let started = Arc::new(AtomicBool::new(!c.has_startup));
                    for &t in &c.templates {
                        let tmpl = Arc::clone(&fleet.templates[t as usize]);
                        let offset = initial_offset_ns(cfg.initial_phase, cfg.seed, pod, t, tmpl.period_ns);
                        shared.alive.fetch_add(1, Ordering::SeqCst);
                        tokio::spawn(worker_task(
                            Arc::clone(&shared),
                            tmpl,
                            t,
                            pod,
                            (index % shared.lanes.len() as u64) as usize,
                            offset,
                            Arc::clone(&started),
                            g.restart_never,
                        ));
                        index += 1;
                    }
                }
            }
        }
    }
    // Every task exists now (parked until the start): the setup hook reads memory, then
    // the window is published and the tasks released.
    let window = setup(&[]);
    for l in &shared.lanes {
        if let Ok(mut l) = l.lock() {
            l.rec.measure_from_ns = window.measure_from_ns;
        }
    }
    let _ = shared.window.set(window);
    shared.go.notify_waiters();
    // Wait for the tasks to see the end, then for in-flight probes up to the drain deadline.
    rt.block_on(async {
        loop {
            let now = mono_now_ns();
            // After an early stop, tasks asleep until their next tick are not waited for
            // longer than the drain.
            let stop_drained = super::stop::requested_at()
                .is_some_and(|t| now >= t + window.drain_deadline_ns.saturating_sub(window.stop_ns));
            if shared.alive.load(Ordering::SeqCst) == 0 || now >= window.drain_deadline_ns || stop_drained {
                break;
            }
            // Wake idle lanes so their intervals ship even without probes.
            tokio::time::sleep(Duration::from_millis(100)).await;
            for l in &shared.lanes {
                if let Ok(mut l) = l.lock() {
                    l.rec.roll(mono_now_ns());
                }
            }
        }
    });
    let unfinished = shared.alive.load(Ordering::SeqCst) as u64;
    rt.shutdown_timeout(Duration::from_secs(1));
    let shared = Arc::try_unwrap(shared).map_err(|_| EngineError::ShardDied)?;
    let mut out = Vec::new();
    for (i, l) in shared.lanes.into_iter().enumerate() {
        let Ok(mut l) = l.into_inner() else {
            return Err(EngineError::ShardDied);
        };
        l.rec.flush();
        if i == 0
            && let Some(s) = l.rec.series.first_mut()
        {
            s.counters.unfinished += unfinished;
        }
        out.push(ProducerOutput {
            series: l.rec.series,
            events: l.events,
            events_dropped: l.events_dropped,
            wakeups: 0,
            intervals_dropped: l.rec.intervals_dropped,
            thread_cpu_ns: None,
        });
    }
    Ok(out)
}

/// Decrements the live-task count however the task ends (also when the runtime drops it).
struct AliveGuard(Arc<Shared>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

#[allow(clippy::too_many_arguments)]
async fn worker_task(
    shared: Arc<Shared>,
    tmpl: Arc<ProbeTemplate>,
    template: u32,
    pod: u32,
    lane: usize,
    offset_ns: u64,
    started: Arc<AtomicBool>,
    restart_never: bool,
) {
    let guard = AliveGuard(Arc::clone(&shared));
    // Wait for the start (the Notified future is registered before the check: no lost wake).
    let w = loop {
        let go = shared.go.notified();
        if let Some(w) = shared.window.get() {
            break *w;
        }
        go.await;
    };
    let period = tmpl.period_ns;
    let first = shared.map.to_instant(w.start_ns + offset_ns);
    let mut iv = tokio::time::interval_at(first.into(), Duration::from_nanos(period));
    iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut kubelet = ProbeWorker::new(tmpl.probe_type, &tmpl.probe, StartupHold::default());
    let series = usize::from(tmpl.series);
    let mut last_finish = 0u64;
    let mut prev_intended: Option<u64> = None;
    loop {
        let tick = iv.tick().await;
        let intended = shared.map.to_ns(tick.into_std());
        if intended >= w.stop_ns || super::stop::requested() {
            break;
        }
        let now = mono_now_ns();
        let overrun = intended < last_finish;
        let missed = prev_intended.map_or(0, |p| (intended.saturating_sub(p) / period).saturating_sub(1));
        prev_intended = Some(intended);
        let view = PodView {
            terminal: false,
            deleting: false,
            restart_never,
            container: Some(ContainerView {
                id: 1,
                state: RunState::Running { started_at: w.start_ns },
                started: started.load(Ordering::Relaxed),
            }),
        };
        let (decision, _) = kubelet.tick(&view, now);
        let measured = intended >= w.measure_from_ns;
        match decision {
            Tick::Stop => break,
            Tick::Skip => {
                if measured && let Ok(mut l) = shared.lanes[lane].lock() {
                    l.rec.counters(series).skipped += 1;
                    l.rec.counters(series).missed_ticks += missed;
                }
                continue;
            }
            Tick::Probe => {}
        }
        if measured && let Ok(mut l) = shared.lanes[lane].lock() {
            let c = l.rec.counters(series);
            c.dispatched += 1;
            c.missed_ticks += missed;
            if overrun {
                c.overruns += 1;
            }
            let m = if overrun { Metric::OverrunDelay } else { Metric::DispatchLag };
            l.rec.record(series, m, now - intended.min(now), now);
        }
        let (started_ns, outcome) = if tmpl.kind == MechanismKind::Noop {
            (now, Outcome::success(""))
        } else {
            let s = mono_now_ns();
            (s, guarded_probe(shared.prober.as_ref(), &tmpl, pod).await)
        };
        let finished = if tmpl.kind == MechanismKind::Noop { now } else { mono_now_ns() };
        last_finish = finished;
        let update = if outcome.errored {
            kubelet.record_errored();
            None
        } else {
            kubelet.record(outcome.result.counts_as_success())
        };
        if let Some(u) = update
            && tmpl.probe_type == ProbeType::Startup
            && u.result == crate::kubelet::CachedResult::Success
        {
            started.store(true, Ordering::Relaxed);
        }
        if let Ok(mut l) = shared.lanes[lane].lock() {
            if measured {
                l.rec.record_finished(series, intended, started_ns, finished, outcome.errored, outcome.result);
                if update.is_some() {
                    l.rec.counters(series).published += 1;
                }
            }
            let kind = EventKind::of(outcome.errored, outcome.result);
            let mut push = |kind, output: Option<Box<str>>| {
                if l.events.len() < l.max_events {
                    l.events.push(EventRecord { t_ns: finished, pod, template, kind, output });
                } else {
                    l.events_dropped += 1;
                }
            };
            if let Some(k) = kind {
                push(k, Some(outcome.output.into_boxed_str()));
            }
            if let Some(u) = update {
                push(EventKind::Published(u.result), None);
            }
        }
    }
    drop(guard);
}
