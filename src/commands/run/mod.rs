//! `probebench run [FILE]`: fire the scenario's probes on their schedules, measure how late
//! each started, how long it took and what the prober cost, print the summary and keep
//! everything in `results/<run-id>/`.

use std::io::{IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::{CommandError, CommandResult, Exit};
use crate::cli::OutputFormat;
use crate::measure::collector::IntervalSummary;
use crate::measure::hist::Metric;
use crate::measure::overhead::ProcessCpu;
use crate::report::results_dir::{self, write_whole};
use crate::report::summary::{self, PhaseSummary, Summary};
use crate::report::{hgrm, run_table};
use crate::scenario::{self, Plan};
use crate::sched::clock::mono_now_ns;
use crate::sched::engine::{EngineConfig, PhaseOutput, SchedulerKind, run_phase};
use crate::sched::fleet::{Fleet, GroupInput};
use crate::sched::limits::{self, BASE_FDS, MachineLimits, Needs};
use crate::sched::mechanism::{KubeletProber, MechanismKind, Prober, capabilities};
use crate::sched::shard::EventKind;
use crate::sched::targets;
use crate::sched::timer::TimerBackend;
use crate::spec::IntOrString;

/// Whether this binary has `probebench targets serve` (wired by the main binary): the
/// sample targets run in their own process, started by re-running this executable.
fn targets_command_available() -> bool {
    use clap::CommandFactory;
    crate::cli::Cli::command().find_subcommand("targets").is_some_and(|t| t.find_subcommand("serve").is_some())
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (durations read like 500ms, 30s, 10m)"))
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  probebench run                                   # the built-in default scenario\n  probebench run scenarios/scheduler-100k.yaml --for 20s\n  probebench run scenarios/scheduler-100k.yaml --scheduler naive\n  probebench run targets/pods/myweb-startup.yaml   # a manifest's pods, healthy\n  probebench run --output json | jq .phases[0].total.dispatch_lag\n\nResults go to results/<run-id>/: summary.json, one .hgrm per histogram, intervals.hlog, events.jsonl, metadata.json.\nExit status: 0 ran, 2 invalid input or the machine cannot hold the plan, 3 the schedule was not held (dispatch lag p99 over 1s)."
)]
pub struct RunArgs {
    /// A scenario (kind: Scenario), or a plain pod/workload manifest whose pods then run with
    /// the default behaviour (every declared port served, healthy). Default: the built-in
    /// scenario.
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
    /// Seed for initial phases and pod UIDs.
    #[arg(long)]
    pub seed: Option<u64>,
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
    // Shards default to one per 200,000 probes/s, up to one per core (see auto_shards).
    if plan.shards == 0 {
        let rate = plan
            .phases
            .iter()
            .map(|p| {
                Fleet::build(&inputs(p), &crate::sched::mechanism::Capabilities::NOOP_ONLY)
                    .rate_by_kind()
                    .iter()
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        plan.shards = match plan.scheduler {
            SchedulerKind::Hires => crate::sched::hires::auto_shards(rate, cores()),
            // The task-per-worker way runs one runtime thread per core, as the kubelet's
            // goroutines run on GOMAXPROCS = cores.
            SchedulerKind::Naive => cores(),
        };
    }
    if plan.io_threads == 0 {
        plan.io_threads = cores();
    }
}

fn inputs(p: &scenario::PhasePlan) -> Vec<GroupInput> {
    p.pods.iter().map(|g| g.input.clone()).collect()
}

/// What the plan needs in fds and ports, from the fleets that will run.
pub fn estimate_needs(fleets: &[Fleet], bounds: &[u32; MechanismKind::COUNT]) -> (Needs, u64) {
    let mut needs = Needs::default();
    let mut listeners_max = 0;
    for f in fleets {
        let mut workers = [0u64; MechanismKind::COUNT];
        let mut listeners = 0u64;
        let mut busiest = 0f64;
        for g in &f.groups {
            let mut per_pod_rate = 0f64;
            for c in &g.containers {
                for &t in &c.templates {
                    let t = &f.templates[t as usize];
                    workers[t.kind.index()] += u64::from(g.replicas);
                    if t.kind.uses_sockets() {
                        per_pod_rate += 1e9 / t.period_ns as f64;
                    }
                }
                // The targets listen on the probed pod ports: one listener per such probe
                // (an upper bound: probes sharing a port share a listener).
                let to_pods = c
                    .templates
                    .iter()
                    .filter(|&&t| {
                        let t = &f.templates[t as usize];
                        t.kind.uses_sockets()
                            && t.probe.handler.action().is_some_and(crate::sched::mechanism::needs_targets)
                    })
                    .count() as u64;
                listeners += u64::from(g.replicas) * to_pods;
            }
            busiest = busiest.max(per_pod_rate);
        }
        let in_flight = |k: MechanismKind| u64::from(bounds[k.index()]).min(workers[k.index()]);
        let sockets: u64 =
            [MechanismKind::Tcp, MechanismKind::Http, MechanismKind::Grpc].into_iter().map(in_flight).sum();
        let prober = BASE_FDS + sockets + 3 * in_flight(MechanismKind::Exec);
        let targets = if listeners > 0 { BASE_FDS + listeners + sockets } else { 0 };
        needs.prober_fds = needs.prober_fds.max(prober);
        needs.targets_fds = needs.targets_fds.max(targets);
        let rate = busiest.ceil() as u64;
        needs.busiest_destination_conn_per_s = needs.busiest_destination_conn_per_s.max(rate);
        needs.busiest_destination_ports = needs.busiest_destination_ports.max(rate * 60);
        listeners_max = listeners_max.max(listeners);
    }
    (needs, listeners_max)
}

/// The progress bar on stderr (only on a terminal).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        let bar = enabled.then(|| {
            let bar = indicatif::ProgressBar::new(1);
            let style = indicatif::ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {bar:24} {pos}/{len}s eta {eta}  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
            bar
        });
        Progress { bar }
    }

    fn stage(&self, prefix: &str, secs: u64) {
        if let Some(b) = &self.bar {
            b.set_prefix(prefix.to_string());
            b.set_length(secs.max(1));
            b.set_position(0);
            b.reset_elapsed();
            b.reset_eta();
            b.set_message("");
        }
    }

    /// Callback for the collector: position, probes/s, lag p99, CPU.
    fn on_interval(&self, warmup_s: u64) -> Box<dyn FnMut(&IntervalSummary) + Send> {
        let bar = self.bar.clone();
        let mut last = (mono_now_ns(), ProcessCpu::now());
        Box::new(move |iv: &IntervalSummary| {
            let Some(b) = &bar else { return };
            let now = (mono_now_ns(), ProcessCpu::now());
            let cores = now.1.since(&last.1).own_ns() as f64 / (now.0.saturating_sub(last.0).max(1)) as f64;
            last = now;
            b.set_position(warmup_s + iv.t_s + 1);
            b.set_message(format!(
                "{} probes/s, lag p99 {}, CPU {:.2} cores",
                iv.probes,
                run_table::fmt_us(iv.lag_p99_us),
                cores
            ));
        })
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
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
    }
}

/// A few pod ports to check before the run: the first pod of each group, each socket probe.
fn readiness_addrs(fleet: &Fleet) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for g in &fleet.groups {
        let Ok(ip) = probebench_pod_ip(g.first_pod) else {
            continue;
        };
        for c in &g.containers {
            for &t in &c.templates {
                let t = &fleet.templates[t as usize];
                if !t.kind.uses_sockets() {
                    continue;
                }
                let port = match t.probe.handler.action() {
                    Some(crate::spec::Action::TcpSocket(a)) => resolve_port(&a.port, &t.container),
                    Some(crate::spec::Action::HttpGet(a)) => resolve_port(&a.port, &t.container),
                    Some(crate::spec::Action::Grpc(a)) => u16::try_from(a.port).ok(),
                    _ => None,
                };
                if let Some(port) = port {
                    out.push(SocketAddr::new(IpAddr::V4(ip), port));
                }
            }
        }
    }
    out.dedup();
    out
}

fn resolve_port(p: &IntOrString, c: &crate::spec::Container) -> Option<u16> {
    match p {
        IntOrString::Int(i) => u16::try_from(*i).ok(),
        IntOrString::String(name) => c
            .ports
            .iter()
            .find(|cp| cp.name.as_deref() == Some(name))
            .and_then(|cp| u16::try_from(cp.container_port).ok()),
    }
}

/// Pod `i`'s loopback address (the targets crate's scheme).
fn probebench_pod_ip(i: u32) -> Result<std::net::Ipv4Addr, ()> {
    if i >= crate::sched::fleet::MAX_PODS {
        return Err(());
    }
    Ok(std::net::Ipv4Addr::new(127, (1 + i / 65536) as u8, ((i / 256) % 256) as u8, (i % 256) as u8))
}

/// The manifest handed to `probebench targets serve`: a Deployment per pod group, in the
/// plan's order (names made unique), so pod numbers and addresses match the engine's.
fn targets_manifest(phase: &scenario::PhasePlan, fleet: &Fleet) -> String {
    let mut docs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, (p, g)) in phase.pods.iter().zip(fleet.groups.iter()).enumerate() {
        let mut name = g.name.clone();
        if !seen.insert(name.clone()) {
            name = format!("{name}-g{i}");
            seen.insert(name.clone());
        }
        let spec = serde_json::to_value(&p.input.pod.spec).unwrap_or_default();
        let doc = serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": p.input.pod.namespace},
            "spec": {
                "replicas": g.replicas,
                "selector": {"matchLabels": {"probebench.dev/group": name}},
                "template": {"metadata": {"labels": {"probebench.dev/group": name}}, "spec": spec},
            },
        });
        docs.push(serde_yaml::to_string(&doc).unwrap_or_default());
    }
    docs.join("---\n")
}

fn events_jsonl(phase: &str, fleet: &Fleet, out: &PhaseOutput) -> String {
    let mut s = String::new();
    for e in &out.events {
        let t = &fleet.templates[e.template as usize];
        let word = t.probe_type.event_word();
        let output = e.output.as_deref().unwrap_or("");
        let (ty, reason, message) = match e.kind {
            EventKind::Failed => ("Warning", "Unhealthy", format!("{word} probe failed: {output}")),
            EventKind::Warning => ("Warning", "ProbeWarning", format!("{word} probe warning: {output}")),
            EventKind::Errored => {
                ("Warning", "Unhealthy", format!("{word} probe errored and resulted in unknown state: {output}"))
            }
            EventKind::Published(r) => (
                "Normal",
                "ProbeResultChanged",
                format!(
                    "{word} result is now {}",
                    serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
                ),
            ),
        };
        let pod = fleet.group_of(e.pod).map_or_else(|| e.pod.to_string(), |g| g.pod_name(e.pod));
        let line = serde_json::json!({
            "phase": phase,
            "t_s": e.t_ns.saturating_sub(out.window.start_ns) as f64 / 1e9,
            "pod": pod,
            "container": t.container.name,
            "probe_type": t.probe_type.as_str(),
            "mechanism": t.kind.as_str(),
            "type": ty,
            "reason": reason,
            "message": message,
        });
        s.push_str(&line.to_string());
        s.push('\n');
    }
    s
}

fn read_first_line(path: &str, prefix: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().and_then(|t| {
        t.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.split_once(':').map(|(_, v)| v.trim().to_string()))
    })
}

fn git_commit() -> String {
    std::env::var("PROBEBENCH_COMMIT").ok().unwrap_or_else(|| {
        std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into())
    })
}

/// The machine's description for metadata.json.
fn metadata(plan: &Plan, summary: &Summary) -> serde_json::Value {
    serde_json::json!({
        "schema": "probebench.metadata/v1",
        "run_id": summary.run_id,
        "started_at": summary.started_at,
        "command": std::env::args().collect::<Vec<_>>(),
        "probebench_version": env!("CARGO_PKG_VERSION"),
        "commit": git_commit(),
        "cpu_model": read_first_line("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into()),
        "cores": cores(),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default(),
        "clocksource": std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource").map(|s| s.trim().to_string()).unwrap_or_default(),
        "timer_backend": plan.timer.as_str(),
        "timer_slack_ns": plan.timer_slack_ns,
        "scheduler": plan.scheduler.as_str(),
        "allocator": "system (glibc malloc)",
        "limits": summary.limits,
        "noise": summary.phases.iter().map(|p| serde_json::json!({"phase": p.name, "noise": p.overhead.noise})).collect::<Vec<_>>(),
        "scenario": plan.resolved(),
    })
}

pub fn run(args: &RunArgs, out: &mut dyn Write) -> CommandResult {
    let mut plan = match &args.file {
        Some(f) => scenario::load_file(f),
        None => scenario::default_plan(),
    }
    .map_err(|errs| CommandError::Invalid(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")))?;
    apply_overrides(&mut plan, args);
    let caps = capabilities(targets_command_available());
    let fleets: Vec<Fleet> = plan.phases.iter().map(|p| Fleet::build(&inputs(p), &caps)).collect();
    // Resolve every real probe for every pod now: a probe the kubelet could not build
    // (a remote host without --allow-remote, a bad header) refuses the run before it starts.
    let mut probers: Vec<Arc<dyn Prober>> = Vec::new();
    for (phase, fleet) in plan.phases.iter().zip(fleets.iter()) {
        let p = KubeletProber::for_fleet(fleet, &crate::probe::ProbeOptions::default())
            .map_err(|e| CommandError::Invalid(format!("{}: phase {}: {e}", plan.source, phase.name)))?;
        probers.push(Arc::new(p));
    }
    if fleets.iter().all(|f| f.workers() == 0) {
        return Err(CommandError::Invalid(format!(
            "{}: no probes to run: the pods declare no liveness, readiness or startup probes",
            plan.source
        )));
    }
    // Limits first: raise the fd limit, then refuse a plan the machine cannot hold.
    let machine = MachineLimits::raise_and_read();
    let (needs, listeners) = estimate_needs(&fleets, &plan.bounds);
    if let Err(refusals) = limits::check(&needs, &machine, listeners) {
        return Err(CommandError::Invalid(format!(
            "refusing to start: {}",
            refusals.iter().map(|r| r.to_string()).collect::<Vec<_>>().join("; ")
        )));
    }
    let started_unix = results_dir::unix_now();
    let run_dir = if args.no_results {
        None
    } else {
        Some(results_dir::create_run_dir(&plan.outputs.dir, &plan.name, started_unix)?)
    };
    let progress = Progress::new(std::io::stderr().is_terminal());
    let mut notes = Vec::new();
    let mut phase_summaries: Vec<PhaseSummary> = Vec::new();
    let mut outputs = Vec::new();
    for ((phase, fleet), prober) in plan.phases.iter().zip(fleets.iter()).zip(probers) {
        if fleet.workers() == 0 {
            notes.push(format!("phase {}: no probes, skipped", phase.name));
            continue;
        }
        let real = fleet.templates.iter().any(|t| t.kind != MechanismKind::Noop);
        let cfg = engine_config(&plan, phase, fleet.rate_by_kind().iter().sum(), real);
        let to_pods = fleet.templates.iter().any(|t| {
            t.kind != MechanismKind::Noop
                && t.probe.handler.action().is_some_and(crate::sched::mechanism::needs_targets)
        });
        // Targets in their own process, only when a real probe goes to a pod address.
        let targets = if to_pods {
            // The targets read a manifest: one Deployment per pod group, in plan order, so
            // `fleet::expand` gives pod i the same index (and address) as the engine.
            let (dir, name) = match &run_dir {
                Some((_, d)) => (d.clone(), format!("targets-{}.yaml", phase.name)),
                None => {
                    (std::env::temp_dir(), format!("probebench-targets-{}-{}.yaml", std::process::id(), phase.name))
                }
            };
            let pods_file = dir.join(&name);
            if run_dir.is_none() {
                // A stale file of an earlier run with the same pid (write_whole never replaces).
                let _ = std::fs::remove_file(&pods_file);
            }
            write_whole(&dir, &name, targets_manifest(phase, fleet).as_bytes())?;
            if phase.pods.iter().any(|p| p.behaviour.as_ref().is_some_and(|b| b.as_str() != Some("healthy"))) {
                notes.push(format!(
                    "phase {}: behaviours other than `healthy` are not passed to the targets yet; they served healthy",
                    phase.name
                ));
            }
            let started = targets::start(&pods_file, &readiness_addrs(fleet), Duration::from_secs(30))
                .map_err(|e| CommandError::Internal(e.to_string()));
            if run_dir.is_none() {
                let _ = std::fs::remove_file(&pods_file);
            }
            Some(started?)
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
                ..cfg
            };
            let o = run_phase(&noop, &ccfg, Arc::clone(&prober), None, progress.on_interval(0))
                .map_err(|e| CommandError::Internal(e.to_string()))?;
            Some(summary::calibration_summary(&o, plan.calibration_ns))
        } else {
            None
        };
        let warm_s = phase.warmup_ns / 1_000_000_000;
        progress.stage(
            &format!("{} ({} workers)", phase.name, fleet.workers()),
            warm_s + phase.duration_ns / 1_000_000_000,
        );
        let o = run_phase(
            fleet,
            &cfg,
            Arc::clone(&prober),
            targets.as_ref().map(targets::TargetsProcess::pid),
            progress.on_interval(warm_s),
        )
        .map_err(|e| CommandError::Internal(e.to_string()))?;
        if let Some(t) = targets {
            t.stop();
        }
        phase_summaries.push(summary::phase_summary(
            &phase.name,
            fleet,
            &o,
            phase.duration_ns,
            phase.warmup_ns,
            calibration,
        ));
        outputs.push((phase.name.clone(), fleet, o));
    }
    progress.finish();
    let summary = Summary {
        schema: summary::SCHEMA,
        run_id: run_dir.as_ref().map_or_else(String::new, |(id, _)| id.clone()),
        scenario: plan.name.clone(),
        started_at: results_dir::rfc3339(started_unix),
        scheduler: plan.scheduler.as_str().into(),
        timer: plan.timer.as_str().into(),
        shards: plan.shards,
        seed: plan.seed,
        limits: machine,
        needs,
        phases: phase_summaries,
        notes,
        results_dir: run_dir.as_ref().map(|(_, d)| d.display().to_string()),
    };
    if let Some((_, dir)) = &run_dir {
        write_results(dir, &plan, &summary, &outputs)?;
    }
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &summary).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        OutputFormat::Text => out.write_all(run_table::render(&summary).as_bytes())?,
    }
    let held = summary.phases.iter().all(|p| p.total.dispatch_lag.p99_us <= 1_000_000.0);
    Ok(if held { Exit::Ok } else { Exit::ScheduleNotHeld })
}

fn write_results(
    dir: &std::path::Path,
    plan: &Plan,
    summary: &Summary,
    outputs: &[(String, &Fleet, PhaseOutput)],
) -> Result<(), CommandError> {
    let multi = outputs.len() > 1;
    let mut events = String::new();
    for (name, fleet, o) in outputs {
        let prefix = if multi { format!("{name}.") } else { String::new() };
        if plan.outputs.hgrm {
            for (i, s) in o.series.iter().enumerate() {
                let tag = fleet.series.get(i).map_or_else(|| format!("series{i}"), |s| s.tag());
                for m in Metric::ALL {
                    let h = s.metrics.get(m);
                    if h.is_empty() {
                        continue;
                    }
                    write_whole(
                        dir,
                        &format!("{prefix}{tag}.{}.hgrm", m.as_str()),
                        hgrm::render(h, 1000.0).as_bytes(),
                    )?;
                }
            }
        }
        if plan.outputs.hlog {
            write_whole(dir, &format!("{prefix}intervals.hlog"), &o.collected.hlog)?;
        }
        if plan.outputs.events {
            events.push_str(&events_jsonl(name, fleet, o));
        }
    }
    if plan.outputs.events {
        write_whole(dir, "events.jsonl", events.as_bytes())?;
    }
    write_whole(
        dir,
        "metadata.json",
        serde_json::to_string_pretty(&metadata(plan, summary)).map_err(std::io::Error::other)?.as_bytes(),
    )?;
    write_whole(dir, "summary.json", serde_json::to_string_pretty(summary).map_err(std::io::Error::other)?.as_bytes())?;
    Ok(())
}
