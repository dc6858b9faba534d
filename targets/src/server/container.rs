//! A served container's life: start, timeline changes, SIGTERM/SIGKILL, exit — with
//! its listeners and state files kept in step. Decisions come from the behaviour's
//! [`Instance`]; this module only applies them at the right (real) time.

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;

use super::events::{EventKind, EventLog, ExitReason, unix_ms};
use super::state_dir::{FileState, StateWriter};
use crate::behaviour::{Behaviour, ExecView, Instance, PhaseView, Reply, ReplyKind, Request, SigtermReaction};

/// A listening port of a container.
pub(crate) struct PortRt {
    /// As declared (what behaviours and probes name).
    pub declared: u16,
    /// As bound (declared + offset).
    pub actual: u16,
    /// Whether the port should have a listening socket now.
    pub want: watch::Sender<bool>,
    /// Whether it has one (set by the port's task once bound or closed).
    pub bound: std::sync::atomic::AtomicBool,
    /// Served by a shared listener: "bound" simply follows "want".
    pub shared: bool,
    /// The dedicated listening socket while bound (shared with its accept task), so it
    /// can be closed synchronously when the port must start refusing.
    pub listener: Mutex<Option<Arc<tokio::net::TcpListener>>>,
}

impl PortRt {
    /// Sets whether the port should listen (waking its listener task on a change).
    fn set_want(&self, want: bool) {
        if self.shared {
            self.bound.store(want, std::sync::atomic::Ordering::Release);
        }
        self.want.send_if_modified(|w| std::mem::replace(w, want) != want);
        if !want && !self.shared {
            self.close_now();
        }
    }
}

impl PortRt {
    /// Stops the dedicated listener at once, before its task gets round to dropping
    /// it: shutdown() on a listening socket takes it out of the listen table, so new
    /// SYNs are refused (and queued connections reset) from this moment — an exit or a
    /// refuse phase is visible as soon as it is reported.
    pub(crate) fn close_listener(&self) {
        self.close_now();
        self.bound.store(false, std::sync::atomic::Ordering::Release);
    }

    fn close_now(&self) {
        let listener = self.listener.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(l) = listener {
            // The Arc keeps the descriptor open (and its number ours) during the call.
            let _ = nix::sys::socket::shutdown(l.as_raw_fd(), nix::sys::socket::Shutdown::Both);
            self.bound.store(false, std::sync::atomic::Ordering::Release);
        }
    }
}

/// A wake-up for the timeline scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Wake {
    pub at: Instant,
    pub id: usize,
    pub generation: u64,
}

/// What the container runtime needs from the server around it.
pub(crate) struct Env<'a> {
    pub events: &'a EventLog,
    pub files: &'a StateWriter,
    pub schedule: &'a tokio::sync::mpsc::UnboundedSender<Wake>,
}

struct Stop {
    exit_at: Instant,
    code: i32,
    reason: ExitReason,
}

enum Run {
    NotStarted,
    Running { instance: Instance, started: Instant, started_unix_ms: u64, stop: Option<Stop> },
    Exited { instance: u32, started_unix_ms: u64, finished_unix_ms: u64, code: i32, reason: ExitReason },
}

struct State {
    behaviour: Behaviour,
    /// Instances started so far.
    starts: u32,
    /// Bumped whenever pending wake-ups become stale.
    generation: u64,
    run: Run,
    /// Last written state files.
    files: Option<FileState>,
}

/// One container of one pod.
pub(crate) struct ContainerRt {
    pub id: usize,
    pub pod: String,
    pub name: String,
    pub ip: Ipv4Addr,
    pub ports: Vec<PortRt>,
    pub state_dir: PathBuf,
    pub seed: u64,
    state: Mutex<State>,
}

/// Why a control request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// No such pod.
    #[error("no pod {0:?}")]
    NoPod(String),
    /// No such container in the pod.
    #[error("pod {pod:?} has no container {container:?}")]
    NoContainer {
        /// The pod.
        pod: String,
        /// The container asked for.
        container: String,
    },
    /// Start asked for a running container.
    #[error("container {pod}/{container} is running; stop it first")]
    Running {
        /// The pod.
        pod: String,
        /// The container.
        container: String,
    },
}

/// A container's state as the admin endpoint shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerStatus {
    /// Container name.
    pub name: String,
    /// `waiting` (never started), `running`, `stopping` (SIGTERM sent) or `exited`.
    pub state: &'static str,
    /// Current or last instance number (0 = first start); None before the first.
    pub instance: Option<u32>,
    /// Starts after the first.
    pub restarts: u32,
    /// When the current/last instance started (ms since the Unix epoch).
    pub started_unix_ms: Option<u64>,
    /// When the last instance ended.
    pub finished_unix_ms: Option<u64>,
    /// Exit code of the last instance, once exited.
    pub exit_code: Option<i32>,
    /// Why it ended: `exited`, `sigterm` or `sigkill`.
    pub exit_reason: Option<ExitReason>,
    /// Where in its timeline: `starting`, `phase 0`, `phase 1 (degraded), flap down`, `exited`.
    pub phase: String,
    /// Whether an exec health check would pass now.
    pub healthy: bool,
    /// Declared ports.
    pub ports: Vec<u16>,
    /// Declared ports with a listening socket now.
    pub listening: Vec<u16>,
    /// The exec state directory.
    pub state_dir: String,
}

fn describe_phase(p: &PhaseView) -> String {
    match p {
        PhaseView::Starting => "starting".to_string(),
        PhaseView::Exited(_) => "exited".to_string(),
        PhaseView::Up { index, name, flap_down, paused, draining } => {
            let mut s = format!("phase {index}");
            if let Some(n) = name {
                s.push_str(&format!(" ({n})"));
            }
            for (on, what) in [(*flap_down, "flap down"), (*paused, "paused"), (*draining, "shutting down")] {
                if on {
                    s.push_str(", ");
                    s.push_str(what);
                }
            }
            s
        }
    }
}

fn add(at: Instant, d: Duration) -> Option<Instant> {
    at.checked_add(d)
}

impl ContainerRt {
    pub fn new(
        id: usize,
        pod: &super::PodTarget,
        target: &super::ContainerTarget,
        ports: Vec<PortRt>,
        state_dir: PathBuf,
    ) -> ContainerRt {
        ContainerRt {
            id,
            pod: pod.name.clone(),
            name: target.name.clone(),
            ip: pod.ip,
            ports,
            state_dir,
            seed: target.seed,
            state: Mutex::new(State {
                behaviour: target.behaviour.clone(),
                starts: 0,
                generation: 0,
                run: Run::NotStarted,
                files: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent-enough data (plain fields);
        // keep serving rather than poison every later request.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The app's reply to a request arriving now.
    pub fn respond(&self, req: &Request) -> Reply {
        let now = Instant::now();
        let mut st = self.lock();
        match &mut st.run {
            Run::Running { instance, started, .. } => instance.respond(now.saturating_duration_since(*started), req),
            _ => Reply { kind: ReplyKind::Refuse, latency: Duration::ZERO },
        }
    }

    /// Starts a new instance (the timeline restarts).
    pub fn start(&self, env: &Env<'_>, now: Instant) -> Result<(), ControlError> {
        let mut st = self.lock();
        if matches!(st.run, Run::Running { .. }) {
            return Err(ControlError::Running { pod: self.pod.clone(), container: self.name.clone() });
        }
        let restart = st.starts;
        st.starts = st.starts.saturating_add(1);
        let instance = st.behaviour.instance(self.seed, restart);
        st.run = Run::Running { instance, started: now, started_unix_ms: unix_ms(SystemTime::now()), stop: None };
        st.generation += 1;
        env.events.push(&self.pod, &self.name, restart, EventKind::Started);
        self.apply_and_schedule(&mut st, env, now);
        Ok(())
    }

    /// SIGTERM now, SIGKILL after `grace` if still running (grace 0 = SIGKILL now).
    /// A second stop can only shorten the grace, as with the kubelet.
    pub fn stop(&self, env: &Env<'_>, now: Instant, grace: Duration) {
        let mut st = self.lock();
        let Run::Running { instance, started, stop, .. } = &mut st.run else {
            return;
        };
        let kill_at = add(now, grace).unwrap_or(now);
        match stop {
            Some(s) => {
                if kill_at < s.exit_at {
                    *s = Stop { exit_at: kill_at, code: crate::behaviour::EXIT_SIGKILL, reason: ExitReason::Sigkill };
                } else {
                    return;
                }
            }
            None => {
                instance.sigterm(now.saturating_duration_since(*started));
                let reaction = instance.on_sigterm();
                let (after, code) = reaction.outcome(grace);
                let reason = match reaction {
                    SigtermReaction::ExitAfter(d, _) if d <= grace => ExitReason::Sigterm,
                    _ => ExitReason::Sigkill,
                };
                *stop = Some(Stop { exit_at: add(now, after).unwrap_or(now), code, reason });
                let n = instance.restart();
                env.events.push(
                    &self.pod,
                    &self.name,
                    n,
                    EventKind::Stopping { grace_ms: u64::try_from(grace.as_millis()).unwrap_or(u64::MAX) },
                );
            }
        }
        st.generation += 1;
        self.apply_and_schedule(&mut st, env, now);
    }

    /// Replaces the behaviour; a running instance switches now, its new timeline
    /// starting at once (the app is already up).
    pub fn replace(&self, env: &Env<'_>, now: Instant, behaviour: Behaviour) {
        let mut st = self.lock();
        st.behaviour = behaviour.clone();
        let mut instance_no = st.starts.saturating_sub(1);
        if let Run::Running { instance, started, .. } = &mut st.run {
            let t = now.saturating_duration_since(*started);
            let mut fresh = behaviour.instance_from(self.seed, instance.restart(), t);
            if let Some(at) = instance.sigterm_at() {
                fresh.sigterm(at);
            }
            instance_no = instance.restart();
            *instance = fresh;
        }
        st.generation += 1;
        env.events.push(&self.pod, &self.name, instance_no, EventKind::BehaviourReplaced);
        self.apply_and_schedule(&mut st, env, now);
    }

    /// A scheduled wake-up: apply the timeline if it is still current.
    pub fn wake(&self, env: &Env<'_>, now: Instant, generation: u64) {
        let mut st = self.lock();
        if st.generation == generation {
            self.apply_and_schedule(&mut st, env, now);
        }
    }

    fn apply_and_schedule(&self, st: &mut State, env: &Env<'_>, now: Instant) {
        if let Some(at) = self.apply(st, env, now) {
            // Fails only once the scheduler has shut down, when nothing needs waking.
            let _ = env.schedule.send(Wake { at, id: self.id, generation: st.generation });
        }
    }

    /// Brings listeners, state files and the run state in line with the timeline at
    /// `now`; returns when to look again.
    fn apply(&self, st: &mut State, env: &Env<'_>, now: Instant) -> Option<Instant> {
        let Run::Running { instance, started, started_unix_ms, stop } = &st.run else {
            return None;
        };
        let t = now.saturating_duration_since(*started);
        let ended = match (stop, instance.exit()) {
            (Some(s), _) if now >= s.exit_at => Some((s.code, s.reason)),
            (_, Some((at, code))) if t >= at => Some((code, ExitReason::Exited)),
            _ => None,
        };
        if let Some((code, reason)) = ended {
            let n = instance.restart();
            let started_ms = *started_unix_ms;
            st.run = Run::Exited {
                instance: n,
                started_unix_ms: started_ms,
                finished_unix_ms: unix_ms(SystemTime::now()),
                code,
                reason,
            };
            st.generation += 1;
            for p in &self.ports {
                p.set_want(false);
            }
            self.set_files(st, env, FileState::Stopped, n);
            env.events.push(&self.pod, &self.name, n, EventKind::Exited { exit_code: code, reason });
            return None;
        }
        for p in &self.ports {
            p.set_want(instance.listening_at(t, p.declared));
        }
        let view = instance.exec_view_at(t);
        let next = instance.next_change_after(t).and_then(|d| add(*started, d));
        let next = match (next, stop) {
            (Some(n), Some(s)) => Some(n.min(s.exit_at)),
            (None, Some(s)) => Some(s.exit_at),
            (n, None) => n,
        };
        let n = instance.restart();
        self.set_files(st, env, FileState::View(view), n);
        next
    }

    fn set_files(&self, st: &mut State, env: &Env<'_>, files: FileState, instance: u32) {
        if st.files == Some(files) {
            return;
        }
        let was_healthy = st.files == Some(FileState::View(ExecView::Healthy));
        let healthy = files == FileState::View(ExecView::Healthy);
        env.files.set(&self.state_dir, files);
        st.files = Some(files);
        if was_healthy != healthy {
            env.events.push(&self.pod, &self.name, instance, EventKind::Health { healthy });
        }
    }

    /// The state as the admin endpoint shows it.
    pub fn status(&self) -> ContainerStatus {
        let now = Instant::now();
        let st = self.lock();
        let mut s = ContainerStatus {
            name: self.name.clone(),
            state: "waiting",
            instance: None,
            restarts: st.starts.saturating_sub(1),
            started_unix_ms: None,
            finished_unix_ms: None,
            exit_code: None,
            exit_reason: None,
            phase: "waiting".to_string(),
            healthy: false,
            ports: self.ports.iter().map(|p| p.declared).collect(),
            listening: self
                .ports
                .iter()
                .filter(|p| p.bound.load(std::sync::atomic::Ordering::Acquire))
                .map(|p| p.declared)
                .collect(),
            state_dir: self.state_dir.display().to_string(),
        };
        match &st.run {
            Run::NotStarted => {}
            Run::Running { instance, started, started_unix_ms, stop } => {
                let t = now.saturating_duration_since(*started);
                s.state = if stop.is_some() { "stopping" } else { "running" };
                s.instance = Some(instance.restart());
                s.started_unix_ms = Some(*started_unix_ms);
                s.phase = describe_phase(&instance.phase_at(t));
                s.healthy = instance.healthy_at(t);
            }
            Run::Exited { instance, started_unix_ms, finished_unix_ms, code, reason } => {
                s.state = "exited";
                s.instance = Some(*instance);
                s.started_unix_ms = Some(*started_unix_ms);
                s.finished_unix_ms = Some(*finished_unix_ms);
                s.exit_code = Some(*code);
                s.exit_reason = Some(*reason);
                s.phase = "exited".to_string();
            }
        }
        s
    }
}
