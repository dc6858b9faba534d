//! `probebench run [FILE]`: fire the scenario's probes on their schedules — or, with the
//! pod lifecycle, run the pods as a kubelet would — against the sample targets; measure how
//! late each probe started, how long it took and what the prober cost; check thresholds;
//! print the summary and keep everything in `results/<run-id>/`.

mod live_metrics;
mod policy;
mod progress;
mod results;
mod targets_manifest;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::{CommandError, CommandResult};
use crate::cli::OutputFormat;
use crate::kubelet::config::{CrashLoopProfile, KubeletConfig, Version};
use crate::lifecycle::{Admin, LifecycleSetup};
use crate::measure::collector::HlogOutput;
use crate::measure::collector::IntervalSummary;
use crate::report::prometheus::{self, Registry, RunInfo};
use crate::report::results_dir::{self, write_whole};
use crate::report::run_table;
use crate::report::summary::{self, PhaseSummary, Summary};
use crate::scenario::{self, Plan};
use crate::sched::engine::{EngineConfig, SchedulerKind, run_phase};
use crate::sched::fleet::{Fleet, GroupInput, InitialPhase};
use crate::sched::limits::{MachineLimits, Needs};
use crate::sched::mechanism::{KubeletProber, MechanismKind, Prober, capabilities};
use crate::sched::preflight::{self, Demand, SystemFacts};
use crate::sched::stop::{self, StopReason};
use crate::sched::targets::{self, TargetsOptions};
use crate::sched::timer::TimerBackend;
use crate::thresholds::{self, Catalogue, PhaseSeries};
use progress::Progress;

/// Whether this binary has `probebench targets serve` (wired by the main binary): the
/// sample targets run in their own process, started by re-running this executable.
fn targets_command_available() -> bool {
    use clap::CommandFactory;
    crate::cli::Cli::command().find_subcommand("targets").is_some_and(|t| t.find_subcommand("serve").is_some())
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (durations read like 500ms, 30s, 10m)"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

const AFTER_HELP: &str = "Examples:
  probebench run                                        # the built-in default scenario
  probebench run targets/pods/myweb-liveness-err.yaml --for 90s --watch
                                                        # a manifest's pods, lifecycle live
  probebench run scenarios/scheduler-100k.yaml --for 20s --scheduler naive
  probebench run --threshold 'dispatch_lag.p99 < 2ms' --threshold 'errored == 0'
  probebench run --metrics 127.0.0.1:9464 --for 10m     # Prometheus /metrics while running
  probebench run --output json | jq .phases[0].total.dispatch_lag

A plain manifest runs with the pod lifecycle (created, pulled, started, probed, restarted
after failed liveness probes, as `simulate` shows); a scenario probes containers that always
run unless it says `lifecycle: true`. Exec probes run their command on this machine: only
with --allow-exec. Thresholds: docs/thresholds.md.

Results go to results/<run-id>/: summary.json, one .hgrm per histogram, intervals.hlog,
events.jsonl, watch.jsonl (lifecycle), metadata.json, report.html (--report).

Exit status: 0 ran and every threshold passed; 1 a threshold failed; 2 invalid input or
refused to start (every refusal says why); 3 the schedule was not held (a phase's dispatch
lag p99 over --max-lag, more missed ticks than --max-missed, or stopped by --abort-on-lag);
130 interrupted (Ctrl-C or SIGTERM: partial results written; a second Ctrl-C exits at once).";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct RunArgs {
    /// A scenario (kind: Scenario), or a plain pod/workload manifest whose pods then run
    /// with their lifecycle and the default behaviour (every declared port served,
    /// healthy) unless annotated. Default: the built-in scenario.
    #[arg(value_name = "FILE")]
    pub file: Option<String>,
    /// Measured duration of each phase (after warm-up), e.g. 30s, 2m.
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Warm-up before measuring.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub warmup: Option<Duration>,
    /// The noop calibration run before each phase (0s: none).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub calibration: Option<Duration>,
    /// Directory under which the run directory is created.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// hires: sharded timing wheels on precise timers; naive: one tokio task per worker.
    #[arg(long, value_enum)]
    pub scheduler: Option<SchedulerKind>,
    /// Timer backend of the hires shards.
    #[arg(long, value_enum)]
    pub timer: Option<TimerBackend>,
    /// Minimum gap between a shard's timer wake-ups (hires), e.g. 200us: fewer wake-ups
    /// (CPU) for a little lag; 0s wakes for every deadline. Default: auto (0 up to 5,000
    /// probes/s per shard, then up to 500us).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub coalesce: Option<Duration>,
    /// Shards (hires) or runtime threads (naive); default one per core.
    #[arg(long)]
    pub shards: Option<usize>,
    /// Seed for initial phases, pod names and UIDs, and behaviour draws.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Drive the pods' lifecycle in real time (default: on for a plain manifest; for a
    /// scenario, its `lifecycle:`).
    #[arg(long, value_enum)]
    pub lifecycle: Option<OnOff>,
    /// Print `kubectl get pods --watch` lines as they happen (lifecycle runs; on stderr
    /// with --output json).
    #[arg(long)]
    pub watch: bool,
    /// Behaviour file for the targets and the lifecycle (as `simulate --behaviour`).
    #[arg(long, value_name = "FILE")]
    pub behaviour: Option<String>,
    /// The kubelet version whose behaviour to follow (lifecycle runs), 1.20 … 1.35.
    #[arg(long, value_parser = Version::parse_supported)]
    pub kubelet_version: Option<Version>,
    /// Crash-loop back-off (lifecycle runs): default, reduced or max=DURATION.
    #[arg(long, value_parser = CrashLoopProfile::parse)]
    pub crash_loop: Option<CrashLoopProfile>,
    /// Let exec probes run their commands on this machine (they are listed first).
    #[arg(long)]
    pub allow_exec: bool,
    /// Probe addresses outside loopback (httpGet/tcpSocket `host:`).
    #[arg(long)]
    pub allow_remote: bool,
    /// Serve Prometheus metrics at http://ADDR/metrics while running (port 0: a free port,
    /// printed). Loopback only unless --allow-remote.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// A pass/fail condition, e.g. 'dispatch_lag.p99 < 2ms' (repeatable; added to the
    /// scenario's `thresholds:`). Grammar: docs/thresholds.md.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// The schedule is not held (exit 3) when a phase's dispatch lag p99 exceeds this.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1s")]
    pub max_lag: Duration,
    /// The schedule is not held (exit 3) when more ticks than this were missed.
    #[arg(long, value_name = "N")]
    pub max_missed: Option<u64>,
    /// Stop as soon as a 1-second interval's dispatch lag p99 exceeds --max-lag (exit 3).
    #[arg(long)]
    pub abort_on_lag: bool,
    /// Write report.html into the run directory at the end.
    #[arg(long)]
    pub report: bool,
    /// Result format on stdout.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: OutputFormat,
    /// Write no results directory.
    #[arg(long)]
    pub no_results: bool,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn apply_overrides(plan: &mut Plan, a: &RunArgs) {
    for p in &mut plan.phases {
        if let Some(d) = a.duration {
            p.duration_ns = d.as_nanos() as u64;
        }
        if let Some(w) = a.warmup {
            p.warmup_ns = w.as_nanos() as u64;
        }
    }
    if let Some(c) = a.calibration {
        plan.calibration_ns = c.as_nanos() as u64;
    }
    if let Some(o) = &a.out {
        plan.outputs.dir = o.clone();
    }
    if let Some(s) = a.scheduler {
        plan.scheduler = s;
    }
    if let Some(t) = a.timer {
        plan.timer = t;
    }
    if let Some(c) = a.coalesce {
        plan.coalesce = scenario::Coalesce::Fixed(c.as_nanos() as u64);
    }
    if let Some(n) = a.shards {
        plan.shards = n;
    }
    if let Some(s) = a.seed {
        plan.seed = s;
    }
    if plan.io_threads == 0 {
        plan.io_threads = cores();
    }
    if let Some(l) = a.lifecycle {
        plan.lifecycle = l == OnOff::On;
    }
    if a.allow_exec {
        plan.allow_exec = true;
    }
    if let Some(v) = a.kubelet_version {
        plan.kubelet_version = v;
    }
    if let Some(c) = a.crash_loop {
        plan.crash_loop = c;
    }
    plan.thresholds.extend(a.thresholds.iter().cloned());
}

fn inputs(p: &scenario::PhasePlan) -> Vec<GroupInput> {
    p.pods.iter().map(|g| g.input.clone()).collect()
}

fn engine_config(plan: &Plan, phase: &scenario::PhasePlan, fleet_rate: f64, real: bool) -> EngineConfig {
    EngineConfig {
        scheduler: plan.scheduler,
        timer: plan.timer,
        timer_slack_ns: plan.timer_slack_ns,
        coalesce_ns: match plan.coalesce {
            scenario::Coalesce::Fixed(ns) => ns,
            scenario::Coalesce::Auto => crate::sched::hires::auto_coalesce_ns(fleet_rate, plan.shards, real),
        },
        shards: plan.shards,
        io_threads: plan.io_threads,
        bounds: plan.bounds,
        initial_phase: phase.initial_phase.unwrap_or(plan.initial_phase),
        seed: plan.seed,
        warmup_ns: phase.warmup_ns,
        duration_ns: phase.duration_ns,
        drain_ns: plan.drain_ns,
        max_events: 100_000,
        sample: true,
        hlog: HlogOutput::Off,
        tap: None,
    }
}

fn invalid(msg: impl Into<String>) -> CommandError {
    CommandError::Invalid(msg.into())
}

/// The summary's `needs` from the preflight's demand (kept for schema v1 readers).
fn needs_of(d: &Demand) -> Needs {
    let rate = d.busiest_destination_conn_per_s.ceil() as u64;
    Needs {
        prober_fds: d.prober_fds,
        targets_fds: d.targets_fds,
        busiest_destination_conn_per_s: rate,
        busiest_destination_ports: rate * 60,
    }
}

/// The kubelet the lifecycle follows.
fn kubelet_config(plan: &Plan, phase: &scenario::PhasePlan) -> KubeletConfig {
    let mut k = KubeletConfig::for_version(plan.kubelet_version);
    k.crash_loop = plan.crash_loop;
    // Other models have no kubelet restart: the version's default (a long uptime) stands.
    if let InitialPhase::Kubelet { uptime_ns } = phase.initial_phase.unwrap_or(plan.initial_phase) {
        k.uptime_ns = uptime_ns;
    }
    k
}

pub fn run(args: &RunArgs, out: &mut dyn Write) -> CommandResult {
    let mut plan = match &args.file {
        Some(f) => scenario::load_file(f),
        None => scenario::default_plan(),
    }
    .map_err(|errs| invalid(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")))?;
    apply_overrides(&mut plan, args);
    // Thresholds are checked before anything starts: a typo must not cost a long run.
    let catalogue = Catalogue::with_phases(plan.phases.iter().map(|p| p.name.clone()));
    let valid_thresholds = thresholds::validate_all(&plan.thresholds, &catalogue)
        .map_err(|errs| invalid(errs.iter().map(|e| format!("threshold: {e}")).collect::<Vec<_>>().join("\n")))?;
    if plan.lifecycle
        && let Some(g) = plan.phases.iter().flat_map(|p| &p.pods).find(|g| g.input.probe_as.is_some())
    {
        return Err(invalid(format!(
            "{}: {}: `probeAs: noop` measures the scheduler alone; it does not apply to lifecycle runs (set `lifecycle: false` or drop probeAs)",
            plan.source, g.source
        )));
    }
    let behaviours_file = args.behaviour.clone();
    if let Some(b) = &behaviours_file {
        // Checked now (with every pod's annotation) rather than in the targets process.
        let pods: Vec<crate::spec::Pod> =
            plan.phases.iter().flat_map(|p| p.pods.iter().map(|g| g.input.pod.clone())).collect();
        super::simulate::load_behaviours(Some(b), &pods)?;
    }
    let caps = capabilities(targets_command_available());
    let fleets: Vec<Fleet> = plan.phases.iter().map(|p| Fleet::build(&inputs(p), &caps)).collect();
    // Shards default to one per 200,000 probes/s, up to one per core (see auto_shards).
    if plan.shards == 0 {
        let rate = fleets.iter().map(|f| f.rate_by_kind().iter().sum::<f64>()).fold(0.0, f64::max);
        plan.shards = match plan.scheduler {
            SchedulerKind::Hires => crate::sched::hires::auto_shards(rate, cores()),
            // The task-per-worker way runs one runtime thread per core, as the kubelet's
            // goroutines run on GOMAXPROCS = cores.
            SchedulerKind::Naive => cores(),
        };
    }
    if fleets.iter().all(|f| f.workers() == 0) {
        return Err(invalid(format!(
            "{}: no probes to run: the pods declare no liveness, readiness or startup probes",
            plan.source
        )));
    }
    let commands = policy::exec_commands(&fleets);
    if !commands.is_empty() {
        if !plan.allow_exec {
            return Err(invalid(policy::exec_refusal(&commands)));
        }
        eprintln!("exec probes will run {} command(s) on this machine:", commands.len());
        for c in &commands {
            eprintln!("  {c}");
        }
    }
    let probe_options = crate::probe::ProbeOptions {
        allow_remote: args.allow_remote,
        kube_version: plan.kubelet_version.to_string(),
        ..crate::probe::ProbeOptions::default()
    };
    // Resolve every real probe for every pod now: a probe the kubelet could not build
    // (a remote host without --allow-remote, a bad header) refuses the run before it starts.
    let mut probers: Vec<Arc<dyn Prober>> = Vec::new();
    for (phase, fleet) in plan.phases.iter().zip(fleets.iter()) {
        let p = KubeletProber::for_fleet(fleet, &probe_options)
            .map_err(|e| invalid(format!("{}: phase {}: {e}", plan.source, phase.name)))?;
        probers.push(Arc::new(p));
    }
    // Preflight: the machine against the plan, every problem with its number and fix.
    let facts = SystemFacts::read();
    let demand = Demand::from_fleets(&fleets, &plan.bounds, plan.initial_phase, plan.seed, false);
    let checks = preflight::run(&demand, &facts);
    if checks.refused() {
        return Err(invalid(format!("refusing to start:\n{}", checks.render())));
    }
    if checks.worst() != preflight::Status::Ok {
        eprint!("{}", checks.render());
    }
    let machine = MachineLimits::from(&facts);
    let metrics = match args.metrics {
        None => None,
        Some(addr) => {
            let registry = Arc::new(Registry::new(RunInfo {
                scenario: plan.name.clone(),
                scheduler: if plan.lifecycle { "lifecycle".into() } else { plan.scheduler.as_str().into() },
                phase: plan.phases.first().map(|p| p.name.clone()).unwrap_or_default(),
            }));
            let server = prometheus::start(addr, Arc::clone(&registry), args.allow_remote)
                .map_err(|e| invalid(e.to_string()))?;
            eprintln!("metrics: http://{}/metrics", server.local_addr());
            Some((registry, server))
        }
    };
    if let Err(e) = stop::install_signal_handlers() {
        tracing::warn!("cannot install the Ctrl-C handler: {e}");
    }
    let started_unix = results_dir::unix_now();
    let run_dir = if args.no_results {
        None
    } else {
        Some(results_dir::create_run_dir(&plan.outputs.dir, &plan.name, started_unix)?)
    };
    let progress = Progress::new(std::io::stderr().is_terminal() && !args.watch);
    let mut notes = Vec::new();
    let mut phase_summaries: Vec<PhaseSummary> = Vec::new();
    let mut outputs = Vec::new();
    let scratch = tempdir_for(&run_dir)?;
    for ((phase, fleet), prober) in plan.phases.iter().zip(fleets.iter()).zip(probers) {
        if stop::requested() {
            notes.push(format!("phase {}: not run (stopped)", phase.name));
            continue;
        }
        if fleet.workers() == 0 {
            notes.push(format!("phase {}: no probes, skipped", phase.name));
            continue;
        }
        let real = fleet.templates.iter().any(|t| t.kind != MechanismKind::Noop);
        let mut cfg = engine_config(&plan, phase, fleet.rate_by_kind().iter().sum(), real);
        let prober: Arc<dyn Prober> = match &metrics {
            Some((r, _)) => {
                r.set_phase(&phase.name);
                cfg.tap = Some(live_metrics::interval_tap(Arc::clone(r), &fleet.series));
                Arc::new(live_metrics::CountingProber { inner: prober, registry: Arc::clone(r) })
            }
            None => prober,
        };
        // The interval log streams to the run directory as the run goes (memory stays flat);
        // results.rs gives it its final name.
        if let (true, Some((_, d))) = (plan.outputs.hlog, &run_dir) {
            cfg.hlog = HlogOutput::File(d.join(format!(".{}.intervals.hlog.partial", phase.name)));
        }
        // Exec probes in containers that declare ports get their pods served too (the
        // command may be a health client dialling its own pod).
        let to_pods = fleet.templates.iter().any(|t| {
            t.kind != MechanismKind::Noop
                && (t.probe.handler.action().is_some_and(crate::sched::mechanism::needs_targets)
                    || (t.kind == MechanismKind::Exec && !t.container.ports.is_empty()))
        });
        // Targets in their own process: for the lifecycle always (they run the containers),
        // otherwise only when a real probe goes to a pod address.
        let manifest = targets_manifest::manifest(phase, fleet);
        let (manifest_dir, manifest_name) = match &run_dir {
            Some((_, d)) => (d.clone(), format!("targets-{}.yaml", phase.name)),
            None => (scratch.clone(), format!("targets-{}.yaml", phase.name)),
        };
        let targets = if plan.lifecycle || to_pods {
            write_whole(&manifest_dir, &manifest_name, manifest.as_bytes())?;
            let state_dir = scratch.join(format!("state-{}", phase.name));
            let options = TargetsOptions {
                no_start: plan.lifecycle,
                admin: plan.lifecycle,
                seed: plan.seed,
                state_dir: Some(state_dir),
                behaviour: behaviours_file.as_ref().map(PathBuf::from),
            };
            let addrs = if plan.lifecycle { Vec::new() } else { targets_manifest::readiness_addrs(fleet) };
            Some(
                targets::start(&manifest_dir.join(&manifest_name), &addrs, Duration::from_secs(30), &options)
                    .map_err(|e| CommandError::Internal(e.to_string()))?,
            )
        } else {
            None
        };
        // The noop floor: the same workers, every probe a noop, before the real run.
        let calibration = if real && plan.calibration_ns > 0 {
            progress
                .stage(&format!("{}: calibrating (noop floor)", phase.name), plan.calibration_ns / 1_000_000_000 + 1);
            let noop = fleet.as_noop();
            let ccfg = EngineConfig {
                warmup_ns: 500_000_000,
                duration_ns: plan.calibration_ns,
                sample: false,
                max_events: 0,
                hlog: HlogOutput::Off,
                tap: None,
                scheduler: if plan.lifecycle { SchedulerKind::Hires } else { cfg.scheduler },
                ..cfg
            };
            let o = run_phase(&noop, &ccfg, Arc::clone(&prober), None, progress.on_interval(0), None)
                .map_err(|e| CommandError::Internal(e.to_string()))?;
            // A floor of no probes (slow periods, short calibration) is no floor at all.
            Some(summary::calibration_summary(&o, plan.calibration_ns)).filter(|c| c.probes > 0)
        } else {
            None
        };
        let lifecycle = match (&targets, plan.lifecycle) {
            (Some(t), true) => Some(lifecycle_setup(
                &plan,
                phase,
                fleet,
                t,
                &manifest,
                behaviours_file.as_deref(),
                &scratch,
                &probe_options,
                args.watch.then(|| watch_output(args.output)),
                metrics.as_ref().map(|(r, _)| Arc::clone(r)),
            )?),
            _ => None,
        };
        let warm_s = phase.warmup_ns / 1_000_000_000;
        let label = if plan.lifecycle {
            format!(
                "{} ({} pods, lifecycle)",
                phase.name,
                fleet.groups.iter().map(|g| u64::from(g.replicas)).sum::<u64>()
            )
        } else {
            format!("{} ({} workers)", phase.name, fleet.workers())
        };
        progress.stage(&label, warm_s + phase.duration_ns / 1_000_000_000);
        let mut on_interval = progress.on_interval(warm_s);
        let lag_limit_us = args.max_lag.as_secs_f64() * 1e6;
        let abort_on_lag = args.abort_on_lag;
        let hook: Box<dyn FnMut(&IntervalSummary) + Send> = Box::new(move |iv: &IntervalSummary| {
            on_interval(iv);
            if abort_on_lag && iv.probes > 0 && iv.lag_p99_us > lag_limit_us {
                stop::request(StopReason::Lag);
            }
        });
        let o = run_phase(
            fleet,
            &cfg,
            Arc::clone(&prober),
            targets.as_ref().map(targets::TargetsProcess::pid),
            hook,
            lifecycle,
        )
        .map_err(|e| CommandError::Internal(e.to_string()))?;
        if let Some(t) = targets {
            t.stop();
        }
        if o.collected.hlog_errors > 0 {
            notes.push(format!("phase {}: {} interval-log writes failed", phase.name, o.collected.hlog_errors));
        }
        if let Some(l) = &o.lifecycle {
            for e in &l.admin_errors {
                notes.push(format!("phase {}: targets admin: {e}", phase.name));
            }
        }
        let measured_ns = o.window.stop_ns.saturating_sub(o.window.measure_from_ns);
        phase_summaries.push(summary::phase_summary(
            &phase.name,
            fleet,
            &o,
            measured_ns.max(1),
            phase.warmup_ns,
            calibration,
        ));
        outputs.push((phase.name.clone(), fleet, o));
    }
    progress.finish();
    // Exec state directories and scratch manifests: nothing is left behind.
    let _ = std::fs::remove_dir_all(&scratch);
    let stopped = stop::reason();
    let mut summary = Summary {
        schema: summary::SCHEMA,
        run_id: run_dir.as_ref().map_or_else(String::new, |(id, _)| id.clone()),
        scenario: plan.name.clone(),
        started_at: results_dir::rfc3339(started_unix),
        scheduler: plan.scheduler.as_str().into(),
        timer: plan.timer.as_str().into(),
        shards: plan.shards,
        seed: plan.seed,
        limits: machine,
        needs: needs_of(&demand),
        phases: phase_summaries,
        notes,
        results_dir: run_dir.as_ref().map(|(_, d)| d.display().to_string()),
        partial: stopped.map(|r| match r {
            StopReason::Interrupted => "interrupted".to_string(),
            StopReason::Lag => "lag".to_string(),
        }),
        preflight: Some(checks),
        thresholds: Vec::new(),
        exit_code: 0,
    };
    let facts = thresholds::LifecycleFacts {
        pods: outputs.iter().filter_map(|(_, _, o)| o.lifecycle.as_ref()).flat_map(|l| l.facts.pods.clone()).collect(),
    };
    let histograms = PhaseSeries(outputs.iter().map(|(_, _, o)| o.series.as_slice()).collect());
    summary.thresholds = thresholds::evaluate(
        &valid_thresholds,
        &thresholds::Inputs {
            summary: &summary,
            histograms: Some(&histograms),
            lifecycle: plan.lifecycle.then_some(&facts),
        },
    );
    let limits = policy::Limits { max_lag_ns: args.max_lag.as_nanos() as u64, max_missed: args.max_missed };
    let (exit, reasons) = policy::decide(&summary, &summary.thresholds, stopped, limits);
    summary.exit_code = i32::from(exit.code());
    summary.notes.extend(reasons.iter().cloned());
    if let Some((_, dir)) = &run_dir {
        results::write_results(dir, &plan, &summary, &outputs)?;
        if args.report {
            match crate::report::html::write_report(dir) {
                Ok(p) => eprintln!("report: {}", p.display()),
                Err(e) => summary.notes.push(format!("report.html not written: {e}")),
            }
        }
    }
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &summary).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            out.write_all(run_table::render(&summary).as_bytes())?;
            if !summary.thresholds.is_empty() {
                writeln!(out, "\nThresholds:")?;
                out.write_all(thresholds::render_table(&summary.thresholds).as_bytes())?;
            }
        }
    }
    drop(metrics);
    Ok(exit)
}

/// Where the targets' exec state and (without a run directory) their manifest go.
fn tempdir_for(run_dir: &Option<(String, PathBuf)>) -> Result<PathBuf, CommandError> {
    let dir = std::env::temp_dir().join(format!(
        "probebench-run-{}-{}",
        std::process::id(),
        run_dir.as_ref().map_or("x", |(id, _)| id.as_str())
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn watch_output(format: OutputFormat) -> Box<dyn Write + Send> {
    match format {
        // JSON on stdout stays parseable: the watch goes to stderr.
        OutputFormat::Json => Box::new(std::io::stderr()),
        OutputFormat::Text => Box::new(std::io::stdout()),
    }
}

#[allow(clippy::too_many_arguments)]
fn lifecycle_setup(
    plan: &Plan,
    phase: &scenario::PhasePlan,
    fleet: &Fleet,
    targets: &targets::TargetsProcess,
    manifest: &str,
    behaviour: Option<&str>,
    scratch: &std::path::Path,
    probe_options: &crate::probe::ProbeOptions,
    watch: Option<Box<dyn Write + Send>>,
    metrics: Option<Arc<Registry>>,
) -> Result<LifecycleSetup, CommandError> {
    let admin = targets
        .admin_addr()
        .ok_or_else(|| CommandError::Internal("the targets did not report their admin endpoint".into()))?;
    // The same text the targets read, so both expand the same pods with the same names.
    let pods = crate::spec::load_str("targets manifest", manifest)
        .map_err(|errs| CommandError::Internal(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")))?
        .pods;
    let behaviours = super::simulate::load_behaviours(behaviour, &pods)?;
    Ok(LifecycleSetup {
        phase: phase.name.clone(),
        pods,
        behaviours,
        sim: crate::sim::SimOptions {
            duration_ns: phase.warmup_ns + phase.duration_ns,
            seed: plan.seed,
            kubelet: kubelet_config(plan, phase),
            ..crate::sim::SimOptions::default()
        },
        admin: Admin { addr: admin },
        state_root: scratch.join(format!("state-{}", phase.name)),
        probe_options: probe_options.clone(),
        series: fleet.series.clone(),
        io_threads: plan.io_threads,
        watch,
        metrics,
        max_events: 100_000,
    })
}
