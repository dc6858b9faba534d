//! The high-resolution scheduler: one OS thread per shard sleeping on a precise timer
//! (see `timer`), firing due ticks itself; noop probes complete inline, real mechanisms go
//! to a tokio runtime ("pb-io" threads) as one task per probe in flight, and come back on
//! a bounded channel that wakes the shard.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use super::clock::{Clock, MonoClock, mono_now_ns};
use super::engine::{EngineError, ProducerOutput, Window};
use super::fleet::Fleet;
use super::mechanism::{MechanismKind, ProbeTemplate, Prober, guarded_probe};
use super::shard::{Completion, Dispatch, ProbeStart, ShardConfig, ShardCore};
use super::timer::{ShardTimer, ShardWaker, TimerBackend};
use crate::measure::Recorder;
use crate::measure::overhead::thread_cpu_ns;
use crate::measure::recorder::IntervalLink;
use crate::probe::ProbeResult;

#[derive(Debug, Clone, Copy)]
pub struct HiresConfig {
    pub shards: usize,
    pub timer: TimerBackend,
    /// PR_SET_TIMERSLACK for shard threads, ns (0 leaves the kernel default of 50 µs).
    pub timer_slack_ns: u64,
    /// Minimum gap between timer wake-ups; deadlines closer than this to the last wake
    /// wait for the next one (their lag shows it).
    pub coalesce_ns: u64,
    pub io_threads: usize,
    /// Global in-flight bound per mechanism (split evenly over the shards).
    pub bounds: [u32; MechanismKind::COUNT],
}

/// The default number of shards: one per 200,000 probes/s, at most one per core.
///
/// Why not always one per core: a shard's work per probe is ~0.3 µs (benches/sched_shard.rs),
/// so one shard fires 200k probes/s with 60% of a core, while every extra shard multiplies
/// the timer wake-ups, and a wake-up is the expensive part here (16–45 µs of CPU on this VM).
/// Measured with 1M workers at 100k/s and 500 µs coalescing: 1 shard 0.93 µs/probe, 2 shards
/// 1.9 µs/probe (docs/performance-notes.md). Sharding is there for rates beyond one core.
pub fn auto_shards(rate_per_s: f64, cores: usize) -> usize {
    ((rate_per_s / 200_000.0).ceil() as usize).clamp(1, cores.max(1))
}

/// The default gap between a shard's wake-ups, from the probes per second it fires.
///
/// Why: on this VM one timer wake-up costs the shard thread ~16 µs of CPU on a quiet
/// machine and ~45 µs under load (syscalls, the context switch, a cold cache), against
/// ~0.3 µs of work per probe (benches/sched_shard.rs). Waking for every deadline is kept up
/// to 12,000 probes/s per shard (≤ 20% of a core, for the lowest lag); beyond that the shard
/// waits until 32 probes are due, but never longer than 500 µs, which bounds the added lag
/// well under the 1 ms budget. Measured: 1M workers at 100k/s, 1 shard: 7.2 µs/probe
/// without coalescing, 0.93 µs/probe with 500 µs (docs/performance-notes.md).
/// With real mechanisms (`real`) the threshold is 2,000 probes/s: a probe's own latency is
/// then hundreds of µs, and each dispatch wake-up also wakes an I/O thread, so batching
/// saves twice.
pub fn auto_coalesce_ns(rate_per_s: f64, shards: usize, real: bool) -> u64 {
    let per_shard = rate_per_s / shards.max(1) as f64;
    let threshold = if real { 2_000.0 } else { 12_000.0 };
    if per_shard <= threshold { 0 } else { ((32.0 / per_shard * 1e9) as u64).min(500_000) }
}

/// Hands probes of real mechanisms to the I/O runtime.
struct IoDispatch {
    handle: Option<tokio::runtime::Handle>,
    prober: Arc<dyn Prober>,
    done: SyncSender<Completion>,
    waker: Arc<ShardWaker>,
    /// Set by the shard while probes wait for a concurrency slot.
    queued: Arc<AtomicBool>,
    /// The stop time: completions after it always wake the shard (it is draining).
    stop_ns: u64,
}

impl Dispatch for IoDispatch {
    fn start(&mut self, p: &ProbeStart, template: &Arc<ProbeTemplate>) {
        let start = *p;
        let done = self.done.clone();
        let waker = Arc::clone(&self.waker);
        let queued = Arc::clone(&self.queued);
        let stop_ns = self.stop_ns;
        let Some(handle) = &self.handle else {
            let now = mono_now_ns();
            let _ = done.try_send(errored(start, now, "no I/O runtime"));
            return;
        };
        let fut = guarded_probe(self.prober.as_ref(), template, p.pod);
        handle.spawn(async move {
            let started = mono_now_ns();
            let outcome = fut.await;
            let finished = mono_now_ns();
            let keep_output = outcome.errored || outcome.result != ProbeResult::Success;
            let c = Completion {
                start,
                started_ns: started,
                finished_ns: finished,
                result: outcome.result,
                errored: outcome.errored,
                output: keep_output.then(|| outcome.output.into_boxed_str()),
            };
            // Capacity ≥ the shard's in-flight bound, so this never finds the channel full.
            let _ = done.try_send(c);
            // Wake the shard only when it has something to do now: a pending tick (the
            // probe overran its period), probes waiting for this slot, or the drain at the
            // end. Otherwise the completion waits for the shard's next wake: a wake-up costs
            // the shard 16–45 µs of CPU on this VM, more than the probe's bookkeeping.
            if finished >= start.next_grid_ns || finished >= stop_ns || queued.load(Ordering::Relaxed) {
                waker.wake();
            }
        });
    }
}

fn errored(start: ProbeStart, now: u64, why: &str) -> Completion {
    Completion {
        start,
        started_ns: now,
        finished_ns: now,
        result: ProbeResult::Unknown,
        errored: true,
        output: Some(why.into()),
    }
}

/// What the engine learns when a shard has built its workers.
pub struct Built {
    pub state_bytes: usize,
    pub workers: usize,
}

/// Run the fleet. `setup` is called once every shard has built its workers (RSS can be
/// read then) and returns the run's window; the shards then arm and run it.
pub fn run(
    fleet: &Fleet,
    cfg: &HiresConfig,
    shard_cfg: ShardConfig,
    prober: Arc<dyn Prober>,
    links: Vec<IntervalLink>,
    setup: impl FnOnce(&[Built]) -> Window,
) -> Result<Vec<ProducerOutput>, EngineError> {
    let shards = cfg.shards.max(1);
    let needs_io = fleet.templates.iter().any(|t| t.kind != MechanismKind::Noop);
    let runtime = if needs_io {
        Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(cfg.io_threads.max(1))
                .thread_name("pb-io")
                .enable_all()
                .build()
                .map_err(EngineError::Runtime)?,
        )
    } else {
        None
    };
    let mut bounds = cfg.bounds;
    for b in &mut bounds {
        *b = (*b).div_ceil(shards as u32).max(1);
    }
    let shard_cfg = ShardConfig { bounds, ..shard_cfg };
    let fleet = Arc::new(fleet.clone());
    let built_barrier = Arc::new(Barrier::new(shards + 1));
    let mut window_txs = Vec::new();
    let mut built_rxs = Vec::new();
    let mut handles = Vec::new();
    let mut links = links.into_iter();
    for i in 0..shards {
        let (window_tx, window_rx) = sync_channel::<Window>(1);
        let (built_tx, built_rx) = sync_channel::<Result<Built, EngineError>>(1);
        window_txs.push(window_tx);
        built_rxs.push(built_rx);
        let fleet = Arc::clone(&fleet);
        let barrier = Arc::clone(&built_barrier);
        let link = links.next();
        let prober = Arc::clone(&prober);
        let handle = runtime.as_ref().map(|r| r.handle().clone());
        let cfg = *cfg;
        let series = fleet.series.len();
        let h = std::thread::Builder::new()
            .name(format!("pb-shard-{i}"))
            .spawn(move || {
                let rec = Recorder::new(series, u64::MAX, 1_000_000_000, link);
                let core = ShardCore::new(&fleet, i, shards, shard_cfg, rec);
                drop(fleet);
                let timer = ShardTimer::new(cfg.timer);
                let (core, timer) = match timer {
                    Ok(t) => {
                        let _ =
                            built_tx.send(Ok(Built { state_bytes: core.state_bytes(), workers: core.worker_count() }));
                        (core, t)
                    }
                    Err(e) => {
                        let _ = built_tx.send(Err(EngineError::Timer(e)));
                        barrier.wait();
                        return None;
                    }
                };
                barrier.wait();
                let window = window_rx.recv().ok()?;
                // Room for every probe that can be in flight (noop never leaves the shard).
                let cap = MechanismKind::ALL
                    .iter()
                    .filter(|k| **k != MechanismKind::Noop)
                    .map(|k| shard_cfg.bounds[k.index()] as usize)
                    .sum::<usize>()
                    + 16;
                let (done_tx, done_rx) = sync_channel(cap);
                Some(shard_loop(core, timer, window, cfg, handle, prober, done_tx, done_rx))
            })
            .map_err(EngineError::Thread)?;
        handles.push(h);
    }
    let mut built = Vec::new();
    let mut first_err = None;
    for rx in &built_rxs {
        match rx.recv() {
            Ok(Ok(b)) => built.push(b),
            Ok(Err(e)) => first_err = first_err.or(Some(e)),
            Err(_) => first_err = first_err.or(Some(EngineError::ShardDied)),
        }
    }
    built_barrier.wait();
    if let Some(e) = first_err {
        drop(window_txs);
        for h in handles {
            let _ = h.join();
        }
        return Err(e);
    }
    let window = setup(&built);
    for tx in &window_txs {
        let _ = tx.send(window);
    }
    let mut out = Vec::new();
    for h in handles {
        match h.join() {
            Ok(Some(o)) => out.push(o),
            _ => return Err(EngineError::ShardDied),
        }
    }
    if let Some(rt) = runtime {
        rt.shutdown_timeout(Duration::from_secs(1));
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn shard_loop(
    mut core: ShardCore,
    mut timer: ShardTimer,
    window: Window,
    cfg: HiresConfig,
    handle: Option<tokio::runtime::Handle>,
    prober: Arc<dyn Prober>,
    done_tx: SyncSender<Completion>,
    done_rx: Receiver<Completion>,
) -> ProducerOutput {
    timer.bind_thread(cfg.timer_slack_ns);
    core.arm(window.start_ns, window.measure_from_ns, window.stop_ns);
    let clock = MonoClock;
    let queued = Arc::new(AtomicBool::new(false));
    let mut io = IoDispatch {
        handle,
        prober,
        done: done_tx,
        waker: timer.waker(),
        queued: Arc::clone(&queued),
        stop_ns: window.stop_ns,
    };
    let interval = window.interval_ns.max(1);
    // This thread's CPU over the measured window, read at the window's edges.
    let mut cpu_from: Option<u64> = None;
    let mut cpu_to: Option<u64> = None;
    let mut last_wake = 0u64;
    loop {
        while let Ok(c) = done_rx.try_recv() {
            core.complete(c, &clock, &mut io);
        }
        core.run_due(&clock, &mut io);
        queued.store(core.queued() > 0, Ordering::Relaxed);
        let now = clock.now_ns();
        core.rec.roll(now);
        if cpu_from.is_none() && now >= window.measure_from_ns {
            cpu_from = Some(thread_cpu_ns());
        }
        // A stop request (a signal, --abort-on-lag) ends the run here: nothing more fires.
        if super::stop::requested() && !core.stopped_early() {
            core.stop_firing(now);
            io.stop_ns = io.stop_ns.min(now);
        }
        let stopping = now >= window.stop_ns || core.stopped_early();
        if stopping && cpu_to.is_none() {
            cpu_to = Some(thread_cpu_ns());
        }
        if stopping && (core.busy() == 0 || now >= window.drain_deadline_ns) {
            break;
        }
        let mut wake = if stopping {
            window.drain_deadline_ns.min(now + 50_000_000)
        } else {
            // Coalescing: never wake sooner than `coalesce_ns` after the last timer wake.
            let due = core.next_deadline().unwrap_or(u64::MAX);
            due.max(last_wake.saturating_add(cfg.coalesce_ns)).min(window.stop_ns)
        };
        // Wake at each interval boundary so a quiet shard still ships its interval.
        if now < window.measure_from_ns {
            wake = wake.min(window.measure_from_ns);
        } else {
            let next_boundary = window.measure_from_ns + ((now - window.measure_from_ns) / interval + 1) * interval;
            wake = wake.min(next_boundary);
        }
        if wake <= now {
            continue;
        }
        timer.prepare_park();
        match done_rx.try_recv() {
            Ok(c) => {
                timer.cancel_park();
                core.complete(c, &clock, &mut io);
            }
            Err(_) => {
                timer.wait_until(wake);
                last_wake = clock.now_ns();
            }
        }
    }
    let unfinished = core.abandon_in_flight();
    core.rec.flush();
    let cpu = cpu_to.unwrap_or_else(thread_cpu_ns).saturating_sub(cpu_from.unwrap_or(0));
    ProducerOutput::from_shard(core, unfinished, cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_coalescing_only_binds_at_high_rates() {
        assert_eq!(auto_coalesce_ns(10_000.0, 1, false), 0);
        assert_eq!(auto_coalesce_ns(100_000.0, 2, false), 500_000);
        // 20k/s on one shard: wait for 32 probes, 1.6 ms, capped at 500 µs.
        assert_eq!(auto_coalesce_ns(20_000.0, 1, false), 500_000);
        // Real mechanisms batch from 2,000/s.
        assert_eq!(auto_coalesce_ns(1_000.0, 1, true), 0);
        assert_eq!(auto_coalesce_ns(5_000.0, 1, true), 500_000);
        assert_eq!(auto_shards(10_000.0, 2), 1);
        assert_eq!(auto_shards(100_000.0, 2), 1);
        assert_eq!(auto_shards(300_000.0, 2), 2);
        assert_eq!(auto_shards(900_000.0, 2), 2);
        // 100k/s on one shard: 32 probes take 320 µs.
        assert_eq!(auto_coalesce_ns(100_000.0, 1, false), 320_000);
    }
}
