//! One container start of a behaviour: the timeline evaluated at a time since start.
//!
//! Pure and clock-free: every call takes `since_start`, so the servers (real clock) and
//! the simulator (virtual clock) get the same answers. Randomness comes from two PCG
//! streams of the instance — one for values drawn at start (startup, SIGTERM delay,
//! hooks, in that order), one for replies — so adding a reply never shifts a startup.

use std::time::Duration;

use rand::RngExt;
use rand_pcg::Pcg64Mcg;

use super::Behaviour;
use super::meaning::{self, ReplyKind, Request};
use super::model::{Latency, Phase, Response, Sigterm, Spec};
use crate::seed::stream_state;

const SETUP_STREAM: u64 = 0;
const REPLY_STREAM: u64 = 1;
/// Streams 2 (image pulls, per pod) and 3 (pause jitter) follow.
const PAUSE_STREAM: u64 = 3;

/// What the app does on SIGTERM, as drawn for this instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigtermReaction {
    /// Exits this long after SIGTERM, with this code.
    ExitAfter(Duration, i32),
    /// Keeps running until SIGKILL (exit 137).
    IgnoreUntilKill,
}

impl SigtermReaction {
    /// When and how a stop with `grace` ends: the app's own exit if it comes within
    /// the grace period, else SIGKILL at its end (exit 137), as the runtime does.
    pub fn outcome(self, grace: Duration) -> (Duration, i32) {
        match self {
            SigtermReaction::ExitAfter(d, code) if d <= grace => (d, code),
            _ => (grace, EXIT_SIGKILL),
        }
    }
}

/// Exit code of a process killed by SIGKILL (128 + 9).
pub const EXIT_SIGKILL: i32 = 137;

/// A lifecycle hook's drawn outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookOutcome {
    /// How long the handler runs.
    pub duration: Duration,
    /// Its exit code.
    pub exit: i32,
}

/// One reply: what happened and after how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// What the app did.
    pub kind: ReplyKind,
    /// How long the app took (zero for replies the kernel gives: accept, refuse).
    pub latency: Duration,
}

/// What the exec state directory shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecView {
    /// `healthy` exists; `exit-code` is 0.
    Healthy,
    /// `healthy` is absent; `exit-code` holds the code.
    Unhealthy(i32),
    /// Reads of `healthy` and `exit-code` block (they are FIFOs): the check times out.
    Hang,
}

/// Where in its timeline an instance is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhaseView {
    /// Before the app is up.
    Starting,
    /// In phase `index`.
    Up {
        /// Index into `phases`.
        index: usize,
        /// The phase's name, if it has one.
        name: Option<String>,
        /// In the down part of a flap cycle.
        flap_down: bool,
        /// In a stop-the-world pause.
        paused: bool,
        /// After SIGTERM, answering the shutdown response.
        draining: bool,
    },
    /// The app exited by itself with this code.
    Exited(i32),
}

/// One container start. See the module docs for the determinism contract: same
/// behaviour, seed, restart and sequence of calls give the same results.
#[derive(Debug, Clone)]
pub struct Instance {
    behaviour: Behaviour,
    restart: u32,
    startup: Duration,
    sigterm: SigtermReaction,
    post_start: Option<HookOutcome>,
    pre_stop: Option<HookOutcome>,
    sigterm_at: Option<Duration>,
    rng: Pcg64Mcg,
    /// Seed of the pauses' jitter: pause k's offset is a pure function of it and k.
    pause_seed: u64,
}

/// Where a time falls in the phase list (all in up-time nanoseconds).
struct At<'a> {
    index: usize,
    phase: &'a Phase,
    start: u64,
    end: Option<u64>,
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn dur(n: u64) -> Duration {
    Duration::from_nanos(n)
}

impl Instance {
    pub(crate) fn new(behaviour: &Behaviour, seed: u64, restart: u32, phases_from: Option<Duration>) -> Instance {
        let spec = behaviour.spec();
        let mut setup = Pcg64Mcg::new(stream_state(seed, restart, SETUP_STREAM));
        // Draw order is part of the contract: startup, SIGTERM delay, postStart, preStop.
        let drawn_startup = spec.startup.sample(&mut setup);
        let sigterm = match &spec.sigterm {
            Sigterm::Exit { after, code, .. } => SigtermReaction::ExitAfter(after.sample(&mut setup), *code),
            Sigterm::Ignore => SigtermReaction::IgnoreUntilKill,
        };
        let post_start =
            spec.post_start.as_ref().map(|h| HookOutcome { duration: h.duration.sample(&mut setup), exit: h.exit });
        let pre_stop =
            spec.pre_stop.as_ref().map(|h| HookOutcome { duration: h.duration.sample(&mut setup), exit: h.exit });
        Instance {
            behaviour: behaviour.clone(),
            restart,
            startup: phases_from.unwrap_or(drawn_startup),
            sigterm,
            post_start,
            pre_stop,
            sigterm_at: None,
            rng: Pcg64Mcg::new(stream_state(seed, restart, REPLY_STREAM)),
            pause_seed: stream_state(seed, restart, PAUSE_STREAM) as u64,
        }
    }

    /// The behaviour this instance follows.
    pub fn behaviour(&self) -> &Behaviour {
        &self.behaviour
    }

    /// Which start of the container this is (0 = first).
    pub fn restart(&self) -> u32 {
        self.restart
    }

    /// Time from start until the app is up: before it, the `starting` answer (default:
    /// refused) and not healthy.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// When (since start) the app exits by itself, and its code.
    pub fn exit(&self) -> Option<(Duration, i32)> {
        let spec = self.behaviour.spec();
        if spec.repeat {
            return None;
        }
        let mut offset = 0u64;
        for p in &spec.phases {
            if let Response::Exit(code) = p.respond {
                return Some((self.startup.saturating_add(dur(offset)), code));
            }
            offset = offset.saturating_add(p.duration.map_or(u64::MAX, ns));
        }
        None
    }

    /// How the app reacts to SIGTERM.
    pub fn on_sigterm(&self) -> SigtermReaction {
        self.sigterm
    }

    /// The postStart hook's outcome, if the behaviour has one.
    pub fn post_start(&self) -> Option<HookOutcome> {
        self.post_start
    }

    /// The preStop hook's outcome, if the behaviour has one.
    pub fn pre_stop(&self) -> Option<HookOutcome> {
        self.pre_stop
    }

    /// Records SIGTERM at `since_start`: from then on the shutdown answer applies (if the
    /// behaviour sets one). The caller ends the instance per [`Self::on_sigterm`].
    pub fn sigterm(&mut self, since_start: Duration) {
        if self.sigterm_at.is_none() {
            self.sigterm_at = Some(since_start);
        }
    }

    /// When SIGTERM was recorded.
    pub fn sigterm_at(&self) -> Option<Duration> {
        self.sigterm_at
    }

    /// The app's answer to `req` at `since_start`; samples latency from the instance's
    /// reply stream (only for replies that take time).
    pub fn respond(&mut self, since_start: Duration, req: &Request) -> Reply {
        let behaviour = self.behaviour.clone();
        let spec = behaviour.spec();
        let (resp, latency) = self.effective(spec, since_start, req.port(), req.path());
        let kind = meaning::answer(resp, req, spec.grpc_services.as_deref());
        let latency = if kind.takes_time() {
            let sampled = sample_latency(latency, &mut self.rng);
            sampled.saturating_add(self.pause_left(since_start))
        } else {
            Duration::ZERO
        };
        Reply { kind, latency }
    }

    /// The response in force for a port/path at a time, and the latency that goes
    /// with it. Precedence: exited > starting > shutdown answer > path > port > flap >
    /// the phase's own.
    /// The result borrows from `spec` (the caller's handle on the behaviour), not from
    /// self, so the caller can then use the reply stream mutably.
    fn effective<'s>(
        &self,
        spec: &'s Spec,
        t: Duration,
        port: Option<u16>,
        path: Option<&str>,
    ) -> (&'s Response, &'s Latency) {
        static EXITED: Response = Response::Refuse;
        if let Some((at, _)) = self.exit()
            && t >= at
        {
            return (&EXITED, &spec.latency);
        }
        let Some(up) = self.up(t) else {
            return (&spec.starting, &spec.latency);
        };
        let Some(at) = locate(spec, up) else {
            static OK: Response = Response::OK;
            return (&OK, &spec.latency);
        };
        let latency = at.phase.latency.as_ref().unwrap_or(&spec.latency);
        if let (Some(st), Sigterm::Exit { respond: Some(r), .. }) = (self.sigterm_at, &spec.sigterm)
            && t >= st
        {
            return (r, latency);
        }
        if let Some(r) = path.and_then(|p| at.phase.paths.get(p)) {
            return (r, latency);
        }
        if let Some(r) = port.and_then(|p| at.phase.ports.get(&p)) {
            return (r, latency);
        }
        if let Some(f) = &at.phase.flap
            && flap_down(f, up - at.start)
        {
            return (&f.down, latency);
        }
        (&at.phase.respond, latency)
    }

    /// Up-time at `t`, if the app is up.
    fn up(&self, t: Duration) -> Option<u64> {
        (t >= self.startup).then(|| ns(t - self.startup))
    }
}

/// The phase at up-time `up`.
fn locate(spec: &Spec, up: u64) -> Option<At<'_>> {
    let phases = &spec.phases;
    if phases.is_empty() {
        return None;
    }
    if spec.repeat {
        let cycle: u64 = phases.iter().map(|p| p.duration.map_or(0, ns)).fold(0u64, u64::saturating_add);
        if cycle == 0 {
            return None;
        }
        let base = up - up % cycle;
        let off = up % cycle;
        let mut start = 0u64;
        for (index, phase) in phases.iter().enumerate() {
            let end = start.saturating_add(phase.duration.map_or(0, ns));
            if off < end {
                return Some(At { index, phase, start: base + start, end: Some(base.saturating_add(end)) });
            }
            start = end;
        }
        return None;
    }
    let mut start = 0u64;
    let last = phases.len() - 1;
    for (index, phase) in phases.iter().enumerate() {
        let end = if index == last { None } else { Some(start.saturating_add(phase.duration.map_or(u64::MAX, ns))) };
        if end.is_none_or(|e| up < e) {
            return Some(At { index, phase, start, end });
        }
        start = end.unwrap_or(u64::MAX);
    }
    None
}

impl Instance {
    /// Up-time at which pause `k` starts: its slot plus its jitter.
    fn pause_start(&self, p: &super::model::Pauses, k: u64) -> u64 {
        let jitter = ns(p.jitter);
        let offset = if jitter == 0 { 0 } else { crate::seed::mix64(self.pause_seed ^ k) % jitter };
        ns(p.first).saturating_add(k.saturating_mul(ns(p.every))).saturating_add(offset)
    }

    /// The pause in force at up-time `up` or the next one: (start, end).
    fn pause_around(&self, p: &super::model::Pauses, up: u64) -> Option<(u64, u64)> {
        let (every, len, first) = (ns(p.every), ns(p.length), ns(p.first));
        if every == 0 {
            return None;
        }
        let k = up.saturating_sub(first) / every;
        // With jitter, the pause of the previous slot may still be running.
        for i in [k.saturating_sub(1), k, k + 1] {
            let s = self.pause_start(p, i);
            if up < s + len {
                return Some((s, s + len));
            }
        }
        None
    }

    /// Time left in the stop-the-world pause at `t` (zero outside pauses).
    fn pause_left(&self, t: Duration) -> Duration {
        let (Some(p), Some(up)) = (&self.behaviour.spec().pauses, self.up(t)) else {
            return Duration::ZERO;
        };
        match self.pause_around(p, up) {
            Some((start, end)) if start <= up => dur(end - up),
            _ => Duration::ZERO,
        }
    }

    /// True while the exec view is healthy.
    pub fn healthy_at(&self, since_start: Duration) -> bool {
        self.exec_view_at(since_start) == ExecView::Healthy
    }

    /// What an exec health check would find at `since_start`.
    pub fn exec_view_at(&self, since_start: Duration) -> ExecView {
        let spec = self.behaviour.spec();
        let (resp, _) = self.effective(spec, since_start, None, None);
        if *resp == Response::Hang {
            return ExecView::Hang;
        }
        match meaning::answer(resp, &Request::Exec { argv: Vec::new() }, spec.grpc_services.as_deref()) {
            ReplyKind::Exec { code: 0, .. } => ExecView::Healthy,
            ReplyKind::Exec { code, .. } => ExecView::Unhealthy(code),
            _ => ExecView::Hang,
        }
    }

    /// Whether `port` has a listening socket at `since_start` (false = refused).
    pub fn listening_at(&self, since_start: Duration, port: u16) -> bool {
        let (resp, _) = self.effective(self.behaviour.spec(), since_start, Some(port), None);
        !matches!(resp, Response::Refuse | Response::Exit(_))
    }

    /// Where in the timeline `since_start` falls.
    pub fn phase_at(&self, since_start: Duration) -> PhaseView {
        if let Some((at, code)) = self.exit()
            && since_start >= at
        {
            return PhaseView::Exited(code);
        }
        let Some(up) = self.up(since_start) else {
            return PhaseView::Starting;
        };
        let Some(at) = locate(self.behaviour.spec(), up) else {
            return PhaseView::Up { index: 0, name: None, flap_down: false, paused: false, draining: false };
        };
        let draining = self.sigterm_at.is_some_and(|s| since_start >= s)
            && matches!(self.behaviour.spec().sigterm, Sigterm::Exit { respond: Some(_), .. });
        PhaseView::Up {
            index: at.index,
            name: at.phase.name.clone(),
            flap_down: at.phase.flap.as_ref().is_some_and(|f| flap_down(f, up - at.start)),
            paused: !self.pause_left(since_start).is_zero(),
            draining,
        }
    }

    /// The next time after `since_start` at which anything may change — the end of
    /// startup, a phase boundary, a flap edge, a pause edge, the exit, the recorded
    /// SIGTERM — so a server can switch listeners and state files without polling.
    /// None when nothing will change any more.
    pub fn next_change_after(&self, since_start: Duration) -> Option<Duration> {
        let t = since_start;
        let exit = self.exit().map(|(at, _)| at);
        if exit.is_some_and(|e| t >= e) {
            return None;
        }
        let mut best: Option<Duration> = None;
        let mut consider = |c: Duration| {
            if c > t && best.is_none_or(|b| c < b) {
                best = Some(c);
            }
        };
        if let Some(e) = exit {
            consider(e);
        }
        if let Some(s) = self.sigterm_at {
            consider(s);
        }
        let Some(up) = self.up(t) else {
            consider(self.startup);
            return best;
        };
        let to_time = |u: u64| self.startup.saturating_add(dur(u));
        if let Some(at) = locate(self.behaviour.spec(), up) {
            if let Some(end) = at.end {
                consider(to_time(end));
            }
            if let Some(f) = &at.phase.flap {
                let (period, upn) = (ns(f.period), ns(f.up));
                if period > 0 {
                    let rel = up - at.start;
                    let cycle_start = at.start + (rel - rel % period);
                    let edge = if rel % period < upn { cycle_start + upn } else { cycle_start.saturating_add(period) };
                    consider(to_time(edge));
                }
            }
        }
        if let Some(p) = &self.behaviour.spec().pauses
            && let Some((start, end)) = self.pause_around(p, up)
        {
            consider(to_time(if start <= up { end } else { start }));
        }
        best
    }
}

fn flap_down(f: &super::model::Flap, rel: u64) -> bool {
    let period = ns(f.period);
    period > 0 && rel % period >= ns(f.up)
}

fn sample_latency(l: &Latency, rng: &mut Pcg64Mcg) -> Duration {
    if let Some(s) = &l.spike {
        // Always draw the coin, so the stream advances the same way either side.
        let coin: f64 = rng.random();
        if coin < s.probability {
            return s.latency.sample(rng);
        }
    }
    l.base.sample(rng)
}
