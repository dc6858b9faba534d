//! One phase of a run, end to end: the collector thread, the chosen scheduler, and the
//! overhead samples taken around the measured window.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use std::time::Duration;

use serde::Serialize;

use super::clock::mono_now_ns;
use super::fleet::{Fleet, InitialPhase};
use super::hires::{self, HiresConfig};
use super::mechanism::{MechanismKind, Prober};
use super::naive;
use super::shard::{EventRecord, ShardConfig, ShardCore};
use super::timer::{TimerBackend, TimerError};
use crate::measure::SeriesStats;
use crate::measure::collector::{self, Collected, CollectorConfig, IntervalSummary};
use crate::measure::overhead::{self, MachineCpu, Noise, ProcessCpu};
use crate::measure::recorder::IntervalLink;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Timer(#[from] TimerError),
    #[error("cannot start the I/O runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot start a scheduler thread: {0}")]
    Thread(std::io::Error),
    #[error("a scheduler thread died")]
    ShardDied,
    #[error(transparent)]
    Lifecycle(#[from] crate::lifecycle::LifecycleError),
}

/// The run's timeline on the monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start_ns: u64,
    /// End of warm-up: probes intended from here on are measured.
    pub measure_from_ns: u64,
    /// No tick intended at or after this fires.
    pub stop_ns: u64,
    /// Probes still in flight at this moment are abandoned and counted as unfinished.
    pub drain_deadline_ns: u64,
    pub interval_ns: u64,
}

/// Which scheduler runs the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SchedulerKind {
    /// Sharded timing wheels on precise timers (this engine).
    #[default]
    Hires,
    /// One tokio task per worker with `interval` (the kubelet's goroutine + ticker way).
    Naive,
}

impl SchedulerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SchedulerKind::Hires => "hires",
            SchedulerKind::Naive => "naive",
        }
    }
}

/// Engine settings for one phase.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub scheduler: SchedulerKind,
    pub timer: TimerBackend,
    pub timer_slack_ns: u64,
    /// Minimum gap between a shard's timer wake-ups (0: wake for every deadline).
    pub coalesce_ns: u64,
    pub shards: usize,
    pub io_threads: usize,
    pub bounds: [u32; MechanismKind::COUNT],
    pub initial_phase: InitialPhase,
    pub seed: u64,
    pub warmup_ns: u64,
    pub duration_ns: u64,
    /// How long in-flight probes may finish after the end.
    pub drain_ns: u64,
    pub max_events: usize,
    /// Sample fds/RSS/children once a second.
    pub sample: bool,
    /// Where the interval log goes (default: nowhere).
    pub hlog: crate::measure::collector::HlogOutput,
    /// Sees each finished interval (live metrics).
    pub tap: Option<crate::measure::collector::IntervalTap>,
}

/// What one producer (a shard, or a lane of the naive scheduler) hands back.
pub struct ProducerOutput {
    pub series: Vec<SeriesStats>,
    pub events: Vec<EventRecord>,
    pub events_dropped: u64,
    pub wakeups: u64,
    pub intervals_dropped: u64,
    /// CPU of the shard thread over the measured window (hires only): shard threads may
    /// exit before the end sample, so they measure themselves.
    pub thread_cpu_ns: Option<u64>,
}

impl ProducerOutput {
    pub fn from_shard(core: ShardCore, unfinished: u64, thread_cpu_ns: u64) -> Self {
        let mut series = core.rec.series;
        if let Some(s) = series.first_mut() {
            // Unfinished probes are not attributable to a series cheaply at the deadline;
            // they are reported on the first series and in the phase total.
            s.counters.unfinished += unfinished;
        }
        ProducerOutput {
            series,
            events: core.events,
            events_dropped: core.counters.events_dropped,
            wakeups: core.counters.wakeups,
            intervals_dropped: core.rec.intervals_dropped,
            thread_cpu_ns: Some(thread_cpu_ns),
        }
    }
}

/// The prober's cost over the measured window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overhead {
    pub window_s: f64,
    pub cpu: ProcessCpu,
    /// On-CPU nanoseconds per thread kind (timer_dispatch, probe_io, ...).
    pub cpu_by_thread_kind_ns: BTreeMap<String, u64>,
    pub rss_before_workers_bytes: u64,
    pub rss_after_workers_bytes: u64,
    pub rss_end_bytes: u64,
    pub peak_rss_bytes: u64,
    /// Size of the worker state as allocated (worker slots, wheel, containers, pods).
    pub worker_state_bytes: u64,
    pub peaks: collector::Peaks,
    pub time_wait_end: u64,
    pub targets_cpu_ns: Option<u64>,
    pub noise: Noise,
}

/// Everything one phase produced.
pub struct PhaseOutput {
    pub series: Vec<SeriesStats>,
    pub events: Vec<EventRecord>,
    pub events_dropped: u64,
    pub wakeups: u64,
    pub intervals_dropped: u64,
    pub collected: Collected,
    pub overhead: Overhead,
    pub workers: u64,
    pub window: Window,
    /// The pods' lifecycle (lifecycle runs only).
    pub lifecycle: Option<crate::lifecycle::LifecycleOutput>,
}

/// Run one fleet under `cfg`. `targets_pid` (if targets run in another process) is
/// sampled for its CPU; `on_interval` sees every finished 1-second interval. With
/// `lifecycle`, the pods' lifecycle runs live (`crate::lifecycle`) instead of the probe
/// scheduler: one producer, the same recording, the same figures.
pub fn run_phase(
    fleet: &Fleet,
    cfg: &EngineConfig,
    prober: Arc<dyn Prober>,
    targets_pid: Option<u32>,
    on_interval: Box<dyn FnMut(&IntervalSummary) + Send>,
    lifecycle: Option<crate::lifecycle::LifecycleSetup>,
) -> Result<PhaseOutput, EngineError> {
    let producers = match (&lifecycle, cfg.scheduler) {
        (Some(_), _) => 1,
        (None, SchedulerKind::Hires) => cfg.shards.max(1),
        (None, SchedulerKind::Naive) => naive::lanes(cfg.shards),
    };
    let interval_ns = 1_000_000_000;
    // Interval pipeline: producers → collector, and emptied sets back.
    let (out_tx, out_rx) = sync_channel(producers * 8);
    let mut links = Vec::new();
    let mut recycle = Vec::new();
    for p in 0..producers {
        let (rtx, rrx) = sync_channel(4);
        recycle.push(rtx);
        links.push(IntervalLink { producer: p, out: out_tx.clone(), recycled: rrx });
    }
    drop(out_tx);
    // The collector needs the window's start, known only once workers are built: it waits
    // for it on a channel.
    let (win_tx, win_rx) = sync_channel::<Window>(1);
    let tags = fleet.tags();
    let sample = cfg.sample;
    let hlog = cfg.hlog.clone();
    let tap = cfg.tap.clone();
    let collector = std::thread::Builder::new()
        .name("pb-collect".into())
        .spawn(move || {
            let Ok(w) = win_rx.recv() else {
                return Collected::default();
            };
            let base_unix_s =
                crate::report::hlog::unix_now_s() + (w.measure_from_ns as f64 - mono_now_ns() as f64) / 1e9;
            collector::run(
                CollectorConfig {
                    tags,
                    interval_ns: w.interval_ns,
                    measure_from_ns: w.measure_from_ns,
                    base_unix_s,
                    grace_ns: 1_500_000_000,
                    recycle,
                    now_ns: mono_now_ns,
                    sample,
                    hlog,
                    tap,
                },
                out_rx,
                on_interval,
            )
        })
        .map_err(EngineError::Thread)?;

    let rss_before = overhead::rss_bytes();
    let mut overhead_out = Overhead { rss_before_workers_bytes: rss_before, ..Overhead::default() };
    let workers = fleet.workers();
    let mut win_tx = Some(win_tx);
    let mut sampler = None;
    let mut make_window = |state_bytes: u64| {
        overhead_out.rss_after_workers_bytes = overhead::rss_bytes();
        overhead_out.worker_state_bytes = state_bytes;
        // Start shortly after setup so every worker is armed (hires) or spawned (naive:
        // ~1 µs a task) before its first tick.
        let per_worker_ns = match cfg.scheduler {
            SchedulerKind::Hires => 100,
            SchedulerKind::Naive => 2_000,
        };
        let start_ns = mono_now_ns() + 50_000_000 + workers * per_worker_ns;
        let w = Window {
            start_ns,
            measure_from_ns: start_ns + cfg.warmup_ns,
            stop_ns: start_ns + cfg.warmup_ns + cfg.duration_ns,
            drain_deadline_ns: start_ns + cfg.warmup_ns + cfg.duration_ns + cfg.drain_ns,
            interval_ns,
        };
        if let Some(tx) = win_tx.take() {
            let _ = tx.send(w);
        }
        // Sample CPU at the edges of the measured window from a helper thread, so the
        // figures cover exactly the measured probes' time.
        sampler = spawn_sampler(w, targets_pid);
        w
    };
    let shard_cfg = ShardConfig {
        initial_phase: cfg.initial_phase,
        seed: cfg.seed,
        bounds: cfg.bounds,
        max_events: cfg.max_events,
    };
    let mut lifecycle_out = None;
    let (outputs, window) = match (lifecycle, cfg.scheduler) {
        (Some(setup), _) => {
            let link = links.pop();
            let rec = crate::measure::Recorder::new(fleet.series.len(), u64::MAX, 1_000_000_000, link);
            let w = make_window(0);
            let mut rec = rec;
            rec.measure_from_ns = w.measure_from_ns;
            match crate::lifecycle::run(setup, rec, w) {
                Ok((out, life)) => {
                    lifecycle_out = Some(life);
                    (Ok(vec![out]), Some(w))
                }
                Err(e) => (Err(EngineError::from(e)), Some(w)),
            }
        }
        (None, SchedulerKind::Hires) => {
            let hcfg = HiresConfig {
                shards: cfg.shards.max(1),
                timer: cfg.timer,
                timer_slack_ns: cfg.timer_slack_ns,
                coalesce_ns: cfg.coalesce_ns,
                io_threads: cfg.io_threads,
                bounds: cfg.bounds,
            };
            let mut window = None;
            let outs = hires::run(fleet, &hcfg, shard_cfg, prober, links, |built| {
                let bytes = built.iter().map(|b| b.state_bytes as u64).sum();
                let w = make_window(bytes);
                window = Some(w);
                w
            });
            (outs, window)
        }
        (None, SchedulerKind::Naive) => {
            let mut window = None;
            let outs = naive::run(fleet, cfg, prober, links, |_| {
                let w = make_window(0);
                window = Some(w);
                w
            });
            (outs, window)
        }
    };
    drop(win_tx);
    let outputs = match outputs {
        Ok(o) => o,
        Err(e) => {
            let _ = collector.join();
            return Err(e);
        }
    };
    let mut window =
        window.unwrap_or(Window { start_ns: 0, measure_from_ns: 0, stop_ns: 0, drain_deadline_ns: 0, interval_ns });
    // Stopped early: the measured window ended when the stop was asked for.
    if let Some(t) = super::stop::requested_at() {
        window.stop_ns = window.stop_ns.min(t.max(window.measure_from_ns));
    }
    let samples = sampler.and_then(|h| h.join().ok());
    let collected = collector.join().unwrap_or_default();
    let mut series: Vec<SeriesStats> = (0..fleet.series.len()).map(|_| SeriesStats::default()).collect();
    let mut events = Vec::new();
    let (mut events_dropped, mut wakeups, mut intervals_dropped) = (0, 0, 0);
    let mut shard_cpu: Option<u64> = None;
    for o in outputs {
        if let Some(c) = o.thread_cpu_ns {
            *shard_cpu.get_or_insert(0) += c;
        }
        for (a, b) in series.iter_mut().zip(o.series.iter()) {
            a.add(b);
        }
        events.extend(o.events);
        events_dropped += o.events_dropped;
        wakeups += o.wakeups;
        intervals_dropped += o.intervals_dropped;
    }
    events.sort_by_key(|e| e.t_ns);
    // Shipped intervals were added up by the collector; producers kept the rest.
    for (s, cum) in series.iter_mut().zip(collected.cumulative.iter()) {
        s.metrics.add(cum);
    }
    if let Some((a, b)) = samples {
        let wall = b.t_ns.saturating_sub(a.t_ns);
        overhead_out.window_s = wall as f64 / 1e9;
        overhead_out.cpu = b.cpu.since(&a.cpu);
        overhead_out.cpu_by_thread_kind_ns = overhead::kind_delta(&b.threads, &a.threads);
        if let Some(c) = shard_cpu {
            overhead_out.cpu_by_thread_kind_ns.insert("timer_dispatch".into(), c);
        }
        overhead_out.targets_cpu_ns = match (a.targets_cpu, b.targets_cpu) {
            (Some(x), Some(y)) => Some(y.saturating_sub(x)),
            _ => None,
        };
        overhead_out.noise = overhead::noise(
            &a.machine,
            &b.machine,
            wall,
            overhead_out.cpu.own_ns() + overhead_out.cpu.children_ns(),
            overhead_out.targets_cpu_ns.unwrap_or(0),
        );
        overhead_out.rss_end_bytes = b.rss;
        overhead_out.time_wait_end = b.time_wait;
    }
    overhead_out.peak_rss_bytes = overhead::peak_rss_bytes();
    overhead_out.peaks = collected.peaks;
    Ok(PhaseOutput {
        series,
        events,
        events_dropped,
        wakeups,
        intervals_dropped,
        collected,
        overhead: overhead_out,
        workers,
        window,
        lifecycle: lifecycle_out,
    })
}

/// One overhead sample.
#[derive(Debug, Clone)]
struct Sample {
    t_ns: u64,
    cpu: ProcessCpu,
    threads: BTreeMap<&'static str, u64>,
    machine: MachineCpu,
    targets_cpu: Option<u64>,
    rss: u64,
    time_wait: u64,
}

fn sample(targets_pid: Option<u32>, full: bool) -> Sample {
    Sample {
        t_ns: mono_now_ns(),
        cpu: ProcessCpu::now(),
        threads: overhead::thread_cpu_by_kind(),
        machine: MachineCpu::now(),
        targets_cpu: targets_pid.and_then(overhead::process_cpu_ns),
        rss: overhead::rss_bytes(),
        time_wait: if full { overhead::time_wait_to_pods() } else { 0 },
    }
}

fn spawn_sampler(w: Window, targets_pid: Option<u32>) -> Option<std::thread::JoinHandle<(Sample, Sample)>> {
    std::thread::Builder::new()
        .name("pb-sample".into())
        .spawn(move || {
            sleep_until(w.measure_from_ns, false);
            let a = sample(targets_pid, false);
            sleep_until(w.stop_ns, true);
            let b = sample(targets_pid, true);
            (a, b)
        })
        .ok()
}

/// Sleep until `t_ns`; with `stoppable`, return early once a stop is asked for (the
/// window then ends there).
fn sleep_until(t_ns: u64, stoppable: bool) {
    loop {
        let now = mono_now_ns();
        if now >= t_ns || (stoppable && super::stop::requested()) {
            return;
        }
        std::thread::sleep(Duration::from_nanos((t_ns - now).min(50_000_000)));
    }
}
