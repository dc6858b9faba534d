//! The live lifecycle loop: the simulator's kubelet core ([`Simulation`] in live mode) on
//! the real clock. One thread owns the simulation; it sleeps until the next event is due
//! or until the real world answers (a probe finished, a container exited), hands the
//! simulation's [`LiveCall`]s to the I/O runtime (real probes, the targets' admin endpoint),
//! and records every probe's timings like the probe engine does.
//!
//! Why the simulator's core rather than a second implementation: `simulate` and `run` must
//! show the same events in the same order for the same pods ("one core, two clocks",
//! tests/lifecycle_consistency.rs). Only the world differs: in a virtual run the behaviour
//! model answers probes and decides exits; here the targets process and the real
//! mechanisms do, and sandbox creation and image pulls (which have no real counterpart on
//! this machine) keep the simulator's timings.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

use probebench_targets::BehaviourFile;

use super::admin::{Admin, TargetEventBatch};
use super::output::{LifecycleOutput, LiveLog};
use crate::kubelet::messages;
use crate::measure::{Metric, Recorder};
use crate::probe::{Outcome, ProbeOptions, ProbeResult, ResolvedProbe};
use crate::report::prometheus::{self, ProbeKey, Registry};
use crate::sched::clock::mono_now_ns;
use crate::sched::engine::{ProducerOutput, Window};
use crate::sched::fleet::SeriesInfo;
use crate::sched::mechanism::MechanismKind;
use crate::sim::{LiveCall, SimOptions, Simulation};
use crate::spec::{self, ProbeType};

/// Why a live lifecycle could not start.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("cannot build the pods' lifecycle: {0}")]
    Fleet(#[from] crate::fleet::FleetError),
    #[error("cannot set up the prober: {0}")]
    Prober(#[from] crate::probe::ProberError),
    #[error("cannot start the I/O runtime: {0}")]
    Runtime(std::io::Error),
}

/// Everything one phase's live lifecycle needs.
pub struct LifecycleSetup {
    pub phase: String,
    /// The pods exactly as handed to the targets (so both expand to the same names).
    pub pods: Vec<spec::Pod>,
    pub behaviours: BehaviourFile,
    /// `duration_ns` is ignored: the window decides when the run ends.
    pub sim: SimOptions,
    pub admin: Admin,
    /// The targets' exec state directories (`<root>/<pod>/<container>`).
    pub state_root: PathBuf,
    pub probe_options: ProbeOptions,
    /// The phase's series (mechanism × probe type), as the summary reports them.
    pub series: Vec<SeriesInfo>,
    pub io_threads: usize,
    /// `--watch`: `kubectl get pods --watch` lines printed as they happen.
    pub watch: Option<Box<dyn Write + Send>>,
    pub metrics: Option<Arc<Registry>>,
    pub max_events: usize,
}

/// What the real world tells the loop.
enum Answer {
    Probe { worker: u32, generation: u32, call: ProbeCall, started_ns: u64, finished_ns: u64, outcome: Outcome },
    Exited { pod: u32, container: u16, instance: u32, exit_code: i32 },
    AdminFailed(String),
}

/// A probe as dispatched: what its completion needs for recording.
#[derive(Debug, Clone, Copy)]
struct ProbeCall {
    series: u16,
    key: Option<ProbeKey>,
    intended_ns: u64,
}

/// Container starts and stops, in order per pod (a stop must follow its start).
enum AdminCall {
    Start { pod: String, container: String },
    Stop { pod: String, container: String, grace: Duration },
}

/// Lanes of admin calls: a pod always uses the same lane, so its calls stay in order while
/// pods proceed in parallel.
const ADMIN_LANES: usize = 4;

struct World {
    runtime: tokio::runtime::Runtime,
    prober: Arc<crate::probe::Prober>,
    answers: Sender<Answer>,
    lanes: Vec<tokio::sync::mpsc::UnboundedSender<AdminCall>>,
    /// What a (pod, container, probe) needs per run, worked out on its first run.
    slots: HashMap<(u32, u16, ProbeType), Arc<ProbeSlot>>,
    series_of: HashMap<(MechanismKind, ProbeType), u16>,
    metrics: Option<Arc<Registry>>,
    in_flight: u64,
}

/// Run the phase's pods live from `window.start_ns` to `window.stop_ns`, recording into
/// `rec` (the engine's interval pipeline).
pub fn run(
    mut setup: LifecycleSetup,
    mut rec: Recorder,
    window: Window,
) -> Result<(ProducerOutput, LifecycleOutput), LifecycleError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(setup.io_threads.max(1))
        .thread_name("pb-io")
        .enable_all()
        .build()
        .map_err(LifecycleError::Runtime)?;
    let mut sim = Simulation::new_live(&setup.pods, std::mem::take(&mut setup.behaviours), setup.sim.clone())?;
    let pod_index: HashMap<String, u32> = sim.pod_names().map(|(i, n)| (n.to_string(), i)).collect();
    let (tx, rx) = channel();
    let done = Arc::new(AtomicBool::new(false));
    let lanes = (0..ADMIN_LANES).map(|_| spawn_lane(&runtime, setup.admin, tx.clone())).collect();
    spawn_event_poll(&runtime, setup.admin, pod_index, container_index(&sim), tx.clone(), Arc::clone(&done));
    let series_of = setup.series.iter().enumerate().map(|(i, s)| ((s.declared, s.probe_type), i as u16)).collect();
    let mut world = World {
        prober: Arc::new(crate::probe::Prober::new()?),
        runtime,
        answers: tx,
        lanes,
        slots: HashMap::new(),
        series_of,
        metrics: setup.metrics.clone(),
        in_flight: 0,
    };
    let mut log = LiveLog::new(&setup.phase, setup.max_events, setup.watch.take());
    let start = window.start_ns;
    let mut calls = Vec::new();
    let mut unfinished = 0u64;
    loop {
        let now = mono_now_ns();
        // A signal or --abort-on-lag: stop firing, finish what is in flight.
        if now >= window.stop_ns || crate::sched::stop::requested() {
            break;
        }
        let t = now.saturating_sub(start);
        sim.run_due(t);
        carry_out(&mut sim, &mut calls, &mut world, &mut setup, &mut rec, start);
        log.take(&mut sim, start);
        rec.roll(mono_now_ns());
        // Sleep until the next event, an answer, or the end; at most 100 ms so a signal is
        // seen promptly.
        let next = sim.next_due().map_or(window.stop_ns, |d| (start + d).min(window.stop_ns));
        let wait = next.saturating_sub(mono_now_ns()).min(100_000_000);
        let first = if wait == 0 {
            rx.try_recv().ok()
        } else {
            match rx.recv_timeout(Duration::from_nanos(wait)) {
                Ok(a) => Some(a),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        };
        if let Some(a) = first {
            answer(a, &mut sim, &mut world, &mut rec, &mut log, start);
            drain(&rx, &mut sim, &mut world, &mut rec, &mut log, start);
        }
    }
    // Probes still in flight finish within their timeouts; the run's drain waits for them
    // (without firing new ones) so their results are recorded, then abandons the rest.
    let drain_until = mono_now_ns() + window.drain_deadline_ns.saturating_sub(window.stop_ns);
    while world.in_flight > 0 {
        let now = mono_now_ns();
        if now >= drain_until {
            unfinished = world.in_flight;
            break;
        }
        match rx.recv_timeout(Duration::from_nanos(drain_until - now)) {
            Ok(a @ Answer::Probe { .. }) => answer(a, &mut sim, &mut world, &mut rec, &mut log, start),
            Ok(_) => {}
            Err(_) => {
                unfinished = world.in_flight;
                break;
            }
        }
    }
    done.store(true, Ordering::Relaxed);
    let end = mono_now_ns();
    log.take(&mut sim, start);
    rec.flush();
    let result = sim.finish_live(end.saturating_sub(start));
    let World { runtime, .. } = world;
    runtime.shutdown_timeout(Duration::from_secs(1));
    let mut series = std::mem::take(&mut rec.series);
    if let Some(s) = series.first_mut() {
        s.counters.unfinished += unfinished;
    }
    let output = log.finish(&result);
    Ok((
        ProducerOutput {
            series,
            events: Vec::new(),
            events_dropped: 0,
            wakeups: 0,
            intervals_dropped: rec.intervals_dropped,
            thread_cpu_ns: None,
        },
        output,
    ))
}

fn container_index(sim: &Simulation) -> HashMap<(u32, String), u16> {
    let mut out = HashMap::new();
    for (p, _) in sim.pod_names() {
        if let Some(inst) = sim.pod_instance(p) {
            for (i, c) in inst.template.spec.containers.iter().enumerate() {
                out.insert((p, c.name.clone()), i as u16);
            }
        }
    }
    out
}

fn drain(
    rx: &Receiver<Answer>,
    sim: &mut Simulation,
    world: &mut World,
    rec: &mut Recorder,
    log: &mut LiveLog,
    start: u64,
) {
    while let Ok(a) = rx.try_recv() {
        answer(a, sim, world, rec, log, start);
    }
}

fn answer(a: Answer, sim: &mut Simulation, world: &mut World, rec: &mut Recorder, log: &mut LiveLog, start: u64) {
    match a {
        Answer::Probe { worker, generation, call, started_ns, finished_ns, outcome } => {
            world.in_flight = world.in_flight.saturating_sub(1);
            if let Some(m) = &world.metrics {
                m.add_in_flight(-1);
            }
            record_completion(rec, world, &call, started_ns, finished_ns, &outcome, start);
            sim.probe_finished(worker, generation, outcome, mono_now_ns().saturating_sub(start));
        }
        Answer::Exited { pod, container, instance, exit_code } => {
            sim.container_exited(pod, container, instance, exit_code, mono_now_ns().saturating_sub(start));
        }
        Answer::AdminFailed(why) => log.admin_failed(why),
    }
}

fn record_completion(
    rec: &mut Recorder,
    world: &World,
    call: &ProbeCall,
    started: u64,
    finished: u64,
    outcome: &Outcome,
    start: u64,
) {
    let intended = start + call.intended_ns;
    let series = usize::from(call.series);
    if rec.measured(intended) && series < rec.series.len() {
        rec.record_finished(series, intended, started, finished, outcome.errored, outcome.result);
    }
    if let (Some(m), Some(key)) = (&world.metrics, call.key) {
        let result = if outcome.errored {
            prometheus::ProbeResult::Errored
        } else {
            match outcome.result {
                ProbeResult::Success | ProbeResult::Warning => prometheus::ProbeResult::Successful,
                ProbeResult::Failure => prometheus::ProbeResult::Failed,
                ProbeResult::Unknown => prometheus::ProbeResult::Unknown,
            }
        };
        m.record_probe(key, result, finished.saturating_sub(started));
    }
}

/// Hand the simulation's calls to the real world.
fn carry_out(
    sim: &mut Simulation,
    calls: &mut Vec<LiveCall>,
    world: &mut World,
    setup: &mut LifecycleSetup,
    rec: &mut Recorder,
    start: u64,
) {
    sim.take_calls(calls);
    for call in calls.drain(..) {
        match call {
            LiveCall::Probe { worker, generation, pod, container, probe, intended_ns, overrun, exec_id } => {
                let now = mono_now_ns();
                let Some(slot) = probe_slot(sim, world, setup, pod, container, probe) else {
                    continue;
                };
                let series = slot.series;
                let intended = start + intended_ns;
                if rec.measured(intended) && usize::from(series) < rec.series.len() {
                    let c = rec.counters(usize::from(series));
                    c.dispatched += 1;
                    if overrun {
                        c.overruns += 1;
                    }
                    let metric = if overrun { Metric::OverrunDelay } else { Metric::DispatchLag };
                    rec.record(usize::from(series), metric, now.saturating_sub(intended), now);
                }
                let call = ProbeCall { series, key: slot.key, intended_ns };
                world.in_flight += 1;
                if let Some(m) = &world.metrics {
                    m.add_in_flight(1);
                }
                let tx = world.answers.clone();
                let prober = Arc::clone(&world.prober);
                world.runtime.spawn(async move {
                    let started_ns = mono_now_ns();
                    let outcome = match &slot.resolved {
                        _ if slot.mechanism == MechanismKind::Noop => Outcome::success(String::new()),
                        Ok(r) => prober.run(r).await,
                        Err(why) => Outcome::errored(why.clone()),
                    };
                    let finished_ns = mono_now_ns();
                    let outcome = as_containerd_reports(outcome, slot.program.as_deref(), exec_id.as_deref());
                    let _ = tx.send(Answer::Probe { worker, generation, call, started_ns, finished_ns, outcome });
                });
            }
            LiveCall::Start { pod, container, .. } => {
                if let Some((p, c)) = names(sim, pod, container) {
                    let _ = world.lanes[pod as usize % ADMIN_LANES].send(AdminCall::Start { pod: p, container: c });
                }
            }
            LiveCall::Stop { pod, container, grace_ns, .. } => {
                if let Some((p, c)) = names(sim, pod, container) {
                    let grace = Duration::from_nanos(grace_ns);
                    let _ =
                        world.lanes[pod as usize % ADMIN_LANES].send(AdminCall::Stop { pod: p, container: c, grace });
                }
            }
        }
    }
}

fn names(sim: &Simulation, pod: u32, container: u16) -> Option<(String, String)> {
    let inst = sim.pod_instance(pod)?;
    let c = inst.template.spec.containers.get(container as usize)?;
    Some((inst.name.clone(), c.name.clone()))
}

fn probe_spec(
    sim: &Simulation,
    pod: u32,
    container: u16,
    probe: ProbeType,
) -> Option<(&spec::Container, &spec::Probe)> {
    let inst = sim.pod_instance(pod)?;
    let c = inst.template.spec.containers.get(container as usize)?;
    Some((c, c.probe(probe)?))
}

/// Everything a probe run needs that does not change between its runs.
struct ProbeSlot {
    /// The series it is recorded under, and the mechanism that runs.
    series: u16,
    mechanism: MechanismKind,
    /// Its `prober_probe_*` series (with --metrics).
    key: Option<ProbeKey>,
    /// The probe resolved for this pod (URL, headers, exec argv and environment), or the
    /// kubelet's resolution error.
    resolved: Result<Arc<ResolvedProbe>, String>,
    /// An exec probe's program (argv\[0\]), for the runtime's error text.
    program: Option<String>,
}

/// The probe's slot, worked out on its first run and kept; `None` for a probe no series
/// records (nothing to run).
fn probe_slot(
    sim: &Simulation,
    world: &mut World,
    setup: &LifecycleSetup,
    pod: u32,
    container: u16,
    probe: ProbeType,
) -> Option<Arc<ProbeSlot>> {
    if let Some(s) = world.slots.get(&(pod, container, probe)) {
        return Some(Arc::clone(s));
    }
    let inst = sim.pod_instance(pod)?;
    let (c, p) = probe_spec(sim, pod, container, probe)?;
    let action = p.handler.action()?;
    let mechanism = MechanismKind::of(action);
    let series = *world.series_of.get(&(mechanism, probe))?;
    let key = world.metrics.as_ref().map(|registry| {
        registry.register_probe(prometheus::ProbeLabels {
            probe_type: probe,
            container: c.name.clone(),
            pod: inst.name.clone(),
            namespace: inst.namespace.clone(),
            pod_uid: inst.uid.clone(),
        })
    });
    let ctx = crate::probe::PodContext {
        pod_name: inst.name.clone(),
        pod_ip: IpAddr::V4(inst.ip),
        state_dir: Some(probebench_targets::server::state_dir(&setup.state_root, &inst.name, &c.name)),
        env: probebench_targets::server::exec_env(&inst.name, &c.name, inst.ip).to_vec(),
    };
    let resolved = crate::probe::resolve(p, c, &ctx, &setup.probe_options).map(Arc::new).map_err(|e| e.to_string());
    let program = match action {
        spec::Action::Exec(e) => e.command.first().cloned(),
        _ => None,
    };
    let slot = Arc::new(ProbeSlot { series, mechanism, key, resolved, program });
    world.slots.insert((pod, container, probe), Arc::clone(&slot));
    Some(slot)
}

/// The kubelet execs through the container runtime, so a program that does not exist is
/// reported by containerd/runc ("OCI runtime exec failed: ... executable file not found"),
/// not by Go's os/exec as our host exec says it: reword it as the runtime does, with the
/// exec ID the simulator drew, so `run` and `simulate` print the same event.
fn as_containerd_reports(mut outcome: Outcome, program: Option<&str>, exec_id: Option<&str>) -> Outcome {
    let (Some(program), Some(id)) = (program, exec_id) else {
        return outcome;
    };
    let not_found = outcome.output.starts_with("exec")
        && (outcome.output.contains("executable file not found")
            || outcome.output.contains("no such file or directory"));
    if outcome.errored && not_found {
        outcome.output = messages::exec_not_found(program, id);
    }
    outcome
}

fn spawn_lane(
    runtime: &tokio::runtime::Runtime,
    admin: Admin,
    answers: Sender<Answer>,
) -> tokio::sync::mpsc::UnboundedSender<AdminCall> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<AdminCall>();
    runtime.spawn(async move {
        while let Some(call) = rx.recv().await {
            let r = match &call {
                AdminCall::Start { pod, container } => admin.start(pod, container).await,
                AdminCall::Stop { pod, container, grace } => admin.stop(pod, container, *grace).await,
            };
            if let Err(e) = r {
                let _ = answers.send(Answer::AdminFailed(e.to_string()));
            }
        }
    });
    tx
}

/// Long-poll the targets' events and pass container exits on.
fn spawn_event_poll(
    runtime: &tokio::runtime::Runtime,
    admin: Admin,
    pods: HashMap<String, u32>,
    containers: HashMap<(u32, String), u16>,
    answers: Sender<Answer>,
    done: Arc<AtomicBool>,
) {
    runtime.spawn(async move {
        let mut after = 0;
        while !done.load(Ordering::Relaxed) {
            let batch: TargetEventBatch = match admin.events(after, Duration::from_millis(500)).await {
                Ok(b) => b,
                Err(e) => {
                    let _ = answers.send(Answer::AdminFailed(e.to_string()));
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            if batch.dropped > 0 {
                let _ = answers.send(Answer::AdminFailed(format!("{} target events were lost", batch.dropped)));
            }
            after = batch.next;
            for e in batch.events {
                if e.kind != "exited" {
                    continue;
                }
                let Some(&pod) = pods.get(&e.pod) else { continue };
                let Some(&container) = containers.get(&(pod, e.container.clone())) else { continue };
                let exit_code = e.exit_code.unwrap_or(0);
                // The targets number instances from 0, the kubelet core from 1.
                let _ = answers.send(Answer::Exited { pod, container, instance: e.instance + 1, exit_code });
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_reads_as_the_container_runtime_reports_it() {
        let host = Outcome::errored("exec: \"ls /tmp/abc\": stat ls /tmp/abc: no such file or directory");
        let o = as_containerd_reports(host, Some("ls /tmp/abc"), Some("abc123"));
        assert!(
            o.output.starts_with(
                "rpc error: code = Unknown desc = failed to exec in container: failed to start exec \"abc123\""
            ),
            "{}",
            o.output
        );
        assert!(o.output.ends_with(": unknown"));
        // Other failures keep their own text.
        let timeout = Outcome::failure("command timed out");
        assert_eq!(as_containerd_reports(timeout, Some("sleep"), Some("x")).output, "command timed out");
    }
}
