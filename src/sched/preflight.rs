//! Preflight: before anything starts, hold the plan's demand against the machine's
//! settings and report each problem with its numbers and its fix. Each check ends
//! [`Status::Ok`], [`Status::Warn`] (works, but degraded — the figures would show it) or
//! [`Status::Refuse`] (cannot work: the run must not start, exit 2).
//!
//! The machine's side is read once into [`SystemFacts`] ([`SystemFacts::read`] raises
//! RLIMIT_NOFILE first, as [`super::limits`] does); tests build it by hand, so every
//! verdict is covered without touching the host. The plan's side is a [`Demand`]
//! ([`Demand::from_fleets`] computes it from the fleets that will run).
//!
//! Checks: prober and targets file descriptors; ephemeral ports to the busiest destination
//! over the TIME_WAIT period (with `tcp_tw_reuse`); the accept queue (`somaxconn`) against
//! the largest burst of connections one listener can see at one tick; and target ports
//! below `ip_unprivileged_port_start` when we are neither root nor hold
//! CAP_NET_BIND_SERVICE.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::fleet::{Fleet, InitialPhase, initial_offset_ns};
use super::limits::{BASE_FDS, raise_nofile};
use super::mechanism::{MechanismKind, needs_targets};
use crate::probe::resolve::resolve_port;
use crate::spec::Action;

/// TIME_WAIT lasts 60 s on Linux (TCP_TIMEWAIT_LEN, a compile-time constant).
pub const TIME_WAIT_S: u64 = 60;
/// With tcp_tw_reuse, connect() may reuse a TIME_WAIT port only once the socket's last
/// timestamp is more than a second old (tcp_twsk_unique); 2 s bounds that from above.
pub const TW_REUSE_AGE_S: u64 = 2;
/// The Linux default of net.ipv4.ip_unprivileged_port_start (and the rule before 4.11).
pub const DEFAULT_UNPRIVILEGED_PORT_START: u32 = 1024;
/// CAP_NET_BIND_SERVICE's bit in CapEff (linux/capability.h).
const CAP_NET_BIND_SERVICE: u32 = 10;
/// A demand above this share of a limit works but leaves no headroom: warn.
const HEADROOM: f64 = 0.8;

/// The machine's settings, read once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemFacts {
    /// RLIMIT_NOFILE after raising the soft limit to the hard one.
    pub nofile_soft: u64,
    pub nofile_hard: u64,
    /// net.ipv4.ip_local_port_range, inclusive.
    pub port_range: (u32, u32),
    /// net.ipv4.tcp_tw_reuse: 0 off, 1 on, 2 loopback only (the default since 4.19).
    pub tcp_tw_reuse: u32,
    /// net.ipv4.tcp_timestamps: TIME_WAIT reuse needs them (0 disables it).
    pub tcp_timestamps: u32,
    /// net.core.somaxconn: the cap on every listen() backlog.
    pub somaxconn: u64,
    /// net.ipv4.ip_unprivileged_port_start.
    pub unprivileged_port_start: u32,
    /// Effective user id (0: root).
    pub euid: u32,
    /// CAP_NET_BIND_SERVICE in our effective capabilities.
    pub cap_net_bind_service: bool,
}

/// The summary's view of the same facts (read once, for the preflight and the summary).
impl From<&SystemFacts> for super::limits::MachineLimits {
    fn from(f: &SystemFacts) -> Self {
        super::limits::MachineLimits {
            nofile: f.nofile_soft,
            nofile_hard: f.nofile_hard,
            ephemeral_ports: f.ephemeral_ports(),
            time_wait_s: TIME_WAIT_S,
            tw_reuse_loopback: matches!(f.tcp_tw_reuse, 1 | 2),
        }
    }
}

impl SystemFacts {
    /// Raise the soft fd limit to the hard limit, then read the rest from /proc. A file
    /// that cannot be read gives the kernel's default (noted by nothing: the defaults are
    /// what a kernel without that file behaves like).
    pub fn read() -> Self {
        let (nofile_soft, nofile_hard) = raise_nofile();
        let read = |p: &str| std::fs::read_to_string(p).ok();
        let number = |p: &str| read(p).and_then(|s| s.trim().parse::<u64>().ok());
        let status = read("/proc/self/status").unwrap_or_default();
        let (euid, cap_eff) = parse_status(&status);
        SystemFacts {
            nofile_soft,
            nofile_hard,
            port_range: read("/proc/sys/net/ipv4/ip_local_port_range")
                .and_then(|s| parse_port_range(&s))
                .unwrap_or((32768, 60999)),
            tcp_tw_reuse: number("/proc/sys/net/ipv4/tcp_tw_reuse").map_or(2, |v| v as u32),
            tcp_timestamps: number("/proc/sys/net/ipv4/tcp_timestamps").map_or(1, |v| v as u32),
            somaxconn: number("/proc/sys/net/core/somaxconn").unwrap_or(4096),
            unprivileged_port_start: number("/proc/sys/net/ipv4/ip_unprivileged_port_start")
                .map_or(DEFAULT_UNPRIVILEGED_PORT_START, |v| v as u32),
            // Unknown uid: assume not root, so a low port is checked rather than waved through.
            euid: euid.unwrap_or(u32::MAX),
            cap_net_bind_service: cap_eff.is_some_and(|c| c & (1 << CAP_NET_BIND_SERVICE) != 0),
        }
    }

    /// Ports in the ephemeral range.
    pub fn ephemeral_ports(&self) -> u64 {
        u64::from(self.port_range.1.saturating_sub(self.port_range.0)) + 1
    }

    /// Whether connect() may reuse a TIME_WAIT port for our connections: all of them go to
    /// loopback, so mode 2 (loopback only) counts; reuse needs TCP timestamps.
    pub fn tw_reuse_applies(&self) -> bool {
        matches!(self.tcp_tw_reuse, 1 | 2) && self.tcp_timestamps != 0
    }

    /// Root, or CAP_NET_BIND_SERVICE: may bind any port.
    pub fn may_bind_low_ports(&self) -> bool {
        self.euid == 0 || self.cap_net_bind_service
    }
}

/// `32768\t60999` → (32768, 60999).
pub fn parse_port_range(s: &str) -> Option<(u32, u32)> {
    let mut it = s.split_whitespace().map(|v| v.parse::<u32>().ok());
    let lo = it.next()??;
    let hi = it.next()??;
    (lo <= hi).then_some((lo, hi))
}

/// The effective uid (`Uid:` real, effective, saved, fs) and CapEff (hex) of a
/// /proc/<pid>/status text.
pub fn parse_status(status: &str) -> (Option<u32>, Option<u64>) {
    let mut euid = None;
    let mut cap = None;
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix("Uid:") {
            euid = rest.split_whitespace().nth(1).and_then(|v| v.parse().ok());
        } else if let Some(rest) = line.strip_prefix("CapEff:") {
            cap = u64::from_str_radix(rest.trim(), 16).ok();
        }
    }
    (euid, cap)
}

/// What the plan asks of the machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Demand {
    /// Prober fds: sockets of probes in flight, three pipes per exec in flight, a base.
    pub prober_fds: u64,
    /// Targets fds: listeners, connections in flight, a base (0: no targets run).
    pub targets_fds: u64,
    /// Listening sockets the targets open.
    pub target_listeners: u64,
    /// The destination (address:port) receiving the most connections per second.
    pub busiest_destination: Option<String>,
    pub busiest_destination_conn_per_s: f64,
    /// The listener that can see the most connections arrive at one instant, and how many.
    pub busiest_listener: Option<String>,
    pub listener_burst: u64,
    /// The targets' listen() backlog (capped by somaxconn).
    pub listen_backlog: u64,
    /// Ports the targets must bind, ascending, only those below 1024 (the ones a
    /// privileged-port setting can forbid).
    pub low_ports: Vec<u16>,
}

/// Burst window: connections whose ticks fall within the same millisecond arrive together
/// as far as an accept loop is concerned.
const BURST_WINDOW_NS: u64 = 1_000_000;

impl Demand {
    /// The demand of the fleets that will run (the largest of any phase, as phases run one
    /// after another). `bounds` are the per-mechanism concurrency bounds; `initial` and
    /// `seed` place the workers' grids exactly as the engine does; `shared_listeners` says
    /// the targets serve one socket per port for all pods (their fd-saving mode), which
    /// makes every pod's probes of a port arrive at one listener.
    pub fn from_fleets(
        fleets: &[Fleet],
        bounds: &[u32; MechanismKind::COUNT],
        initial: InitialPhase,
        seed: u64,
        shared_listeners: bool,
    ) -> Demand {
        let mut d = Demand { listen_backlog: u64::from(probebench_targets::server::BACKLOG), ..Demand::default() };
        let mut low = std::collections::BTreeSet::new();
        for f in fleets {
            let mut workers = [0u64; MechanismKind::COUNT];
            let mut listeners = std::collections::HashSet::new();
            let mut dedicated_listeners = 0u64;
            // Destination → connections per second.
            let mut rate: HashMap<String, f64> = HashMap::new();
            // Listener → period → worker offsets (ms buckets) → count.
            let mut arrivals: HashMap<String, HashMap<u64, HashMap<u64, u64>>> = HashMap::new();
            for g in &f.groups {
                let to_pods_group = g.containers.iter().any(|c| {
                    c.templates.iter().any(|&t| {
                        let t = &f.templates[t as usize];
                        t.kind.uses_sockets() && t.probe.handler.action().is_some_and(needs_targets)
                    })
                });
                for c in &g.containers {
                    let mut pod_ports = std::collections::BTreeSet::new();
                    for &ti in &c.templates {
                        let t = &f.templates[ti as usize];
                        workers[t.kind.index()] += u64::from(g.replicas);
                        if !t.kind.uses_sockets() {
                            continue;
                        }
                        let Some((host, port)) = destination(t.probe.handler.action(), &t.container) else {
                            continue;
                        };
                        let per_s = 1e9 / t.period_ns.max(1) as f64;
                        match host {
                            // A fixed host: every pod's probe goes to the same place.
                            Some(h) => {
                                let key = format!("{h}:{port}");
                                *rate.entry(key.clone()).or_default() += per_s * f64::from(g.replicas);
                                let slots = arrivals.entry(key).or_default().entry(t.period_ns).or_default();
                                for pod in g.first_pod..g.first_pod + g.replicas {
                                    let off = initial_offset_ns(initial, seed, pod, ti, t.period_ns);
                                    *slots.entry(off / BURST_WINDOW_NS).or_default() += 1;
                                }
                            }
                            None => {
                                pod_ports.insert(port);
                                // Every pod of the group has the same rate to its own port.
                                let key = format!("pod:{port} (each pod of {})", g.name);
                                *rate.entry(key).or_default() += per_s;
                                let listener = if shared_listeners {
                                    format!("*:{port} (shared by all pods)")
                                } else {
                                    format!("pod:{port} (each pod of {})", g.name)
                                };
                                let slots = arrivals.entry(listener).or_default().entry(t.period_ns).or_default();
                                if shared_listeners {
                                    for pod in g.first_pod..g.first_pod + g.replicas {
                                        let off = initial_offset_ns(initial, seed, pod, ti, t.period_ns);
                                        *slots.entry(off / BURST_WINDOW_NS).or_default() += 1;
                                    }
                                } else {
                                    // One pod's listener sees only that pod's probes: at
                                    // worst all of them at once (a cheap upper bound).
                                    *slots.entry(0).or_default() += 1;
                                }
                            }
                        }
                    }
                    if to_pods_group {
                        // The targets listen on the declared container ports too.
                        // (The plan keeps probed containers only; their spec rides on the templates.)
                        let ports = c.templates.first().map(|&t| f.templates[t as usize].container.ports.as_slice());
                        for p in ports.unwrap_or_default() {
                            if let Ok(p) = u16::try_from(p.container_port) {
                                pod_ports.insert(p);
                            }
                        }
                        for &p in &pod_ports {
                            listeners.insert(p);
                            if p < 1024 {
                                low.insert(p);
                            }
                        }
                        dedicated_listeners += u64::from(g.replicas) * pod_ports.len() as u64;
                    }
                }
            }
            let in_flight = |k: MechanismKind| u64::from(bounds[k.index()]).min(workers[k.index()]);
            let sockets: u64 =
                [MechanismKind::Tcp, MechanismKind::Http, MechanismKind::Grpc].into_iter().map(in_flight).sum();
            let target_listeners = if shared_listeners { listeners.len() as u64 } else { dedicated_listeners };
            d.prober_fds = d.prober_fds.max(BASE_FDS + sockets + 3 * in_flight(MechanismKind::Exec));
            if target_listeners > 0 {
                d.targets_fds = d.targets_fds.max(BASE_FDS + target_listeners + sockets);
            }
            d.target_listeners = d.target_listeners.max(target_listeners);
            if let Some((k, r)) = rate.into_iter().max_by(|a, b| a.1.total_cmp(&b.1))
                && r > d.busiest_destination_conn_per_s
            {
                d.busiest_destination = Some(k);
                d.busiest_destination_conn_per_s = r;
            }
            for (listener, periods) in arrivals {
                // Upper bound over time: each period's fullest millisecond, added up (grids of
                // different periods line up again sooner or later).
                let burst: u64 = periods.values().map(|slots| slots.values().copied().max().unwrap_or(0)).sum();
                if burst > d.listener_burst {
                    d.listener_burst = burst;
                    d.busiest_listener = Some(listener);
                }
            }
        }
        d.low_ports = low.into_iter().collect();
        d
    }
}

/// Host (None: the pod's address) and resolved port of a socket probe; None when the port
/// cannot be resolved (that probe errors at probe time, as in the kubelet: no connection).
pub(crate) fn destination(
    action: Option<Action<'_>>,
    container: &crate::spec::Container,
) -> Option<(Option<String>, u16)> {
    let host = |h: &Option<String>| h.clone().filter(|h| !h.is_empty());
    match action? {
        Action::TcpSocket(t) => Some((host(&t.host), resolve_port(&t.port, container).ok()?)),
        Action::HttpGet(h) => Some((host(&h.host), resolve_port(&h.port, container).ok()?)),
        Action::Grpc(g) => Some((None, u16::try_from(g.port).ok()?)),
        Action::Exec(_) => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// Works, but degraded; the message has the number.
    Warn,
    /// Cannot work: do not start (exit 2).
    Refuse,
}

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Stable id: `prober_fds`, `targets_fds`, `ephemeral_ports`, `somaxconn`, `low_ports`.
    pub id: &'static str,
    pub status: Status,
    /// What was found, with the numbers.
    pub message: String,
    /// What to do about it (for Warn and Refuse).
    pub fix: Option<String>,
}

/// Every check's verdict, in a fixed order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preflight {
    pub checks: Vec<Check>,
}

impl Preflight {
    /// Whether any check refuses the run.
    pub fn refused(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Refuse)
    }

    /// The worst status.
    pub fn worst(&self) -> Status {
        self.checks.iter().map(|c| c.status).max().unwrap_or(Status::Ok)
    }

    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// For the terminal (stderr): one line per check, fixes indented below.
    pub fn render(&self) -> String {
        let mut out = String::from("preflight:\n");
        for c in &self.checks {
            let tag = match c.status {
                Status::Ok => "ok",
                Status::Warn => "warn",
                Status::Refuse => "REFUSE",
            };
            let _ = writeln!(out, "  {tag:<7}{}", c.message);
            if let Some(fix) = &c.fix {
                let _ = writeln!(out, "  {:<7}fix: {fix}", "");
            }
        }
        out
    }
}

fn check(id: &'static str, status: Status, message: String, fix: Option<String>) -> Check {
    Check { id, status, message, fix }
}

/// Hold `demand` against `facts`.
pub fn run(demand: &Demand, facts: &SystemFacts) -> Preflight {
    Preflight {
        checks: vec![
            prober_fds(demand, facts),
            targets_fds(demand, facts),
            ephemeral_ports(demand, facts),
            somaxconn(demand, facts),
            low_ports(demand, facts),
        ],
    }
}

fn prober_fds(d: &Demand, f: &SystemFacts) -> Check {
    let what = format!(
        "file descriptors (prober): needs {}, RLIMIT_NOFILE {} (hard {})",
        d.prober_fds, f.nofile_soft, f.nofile_hard
    );
    let fix = if f.nofile_hard > f.nofile_soft {
        format!("raise the soft limit (ulimit -n {}), or lower the concurrency bounds", f.nofile_hard)
    } else {
        format!(
            "raise the hard limit (ulimit -Hn {}, or LimitNOFILE= in systemd), or lower the concurrency bounds",
            d.prober_fds * 2
        )
    };
    if d.prober_fds > f.nofile_soft {
        check("prober_fds", Status::Refuse, format!("{what}: probes would fail with EMFILE"), Some(fix))
    } else if d.prober_fds as f64 > HEADROOM * f.nofile_soft as f64 {
        check("prober_fds", Status::Warn, format!("{what}: less than 20% headroom"), Some(fix))
    } else {
        check("prober_fds", Status::Ok, what, None)
    }
}

fn targets_fds(d: &Demand, f: &SystemFacts) -> Check {
    if d.targets_fds == 0 {
        return check("targets_fds", Status::Ok, "file descriptors (targets): no targets run".into(), None);
    }
    // The targets process raises its own soft limit to the same hard limit.
    let what = format!(
        "file descriptors (targets): needs {} ({} listeners plus connections), hard limit {}",
        d.targets_fds, d.target_listeners, f.nofile_hard
    );
    let fix = "run fewer pods, or raise the hard limit (ulimit -Hn)".to_string();
    if d.targets_fds > f.nofile_hard {
        check("targets_fds", Status::Refuse, what, Some(fix))
    } else if d.targets_fds as f64 > HEADROOM * f.nofile_hard as f64 {
        check("targets_fds", Status::Warn, format!("{what}: less than 20% headroom"), Some(fix))
    } else {
        check("targets_fds", Status::Ok, what, None)
    }
}

fn ephemeral_ports(d: &Demand, f: &SystemFacts) -> Check {
    let range = f.ephemeral_ports();
    let rate = d.busiest_destination_conn_per_s;
    let Some(dest) = &d.busiest_destination else {
        return check("ephemeral_ports", Status::Ok, "ephemeral ports: no connections".into(), None);
    };
    // Every connection may hold its local port in TIME_WAIT for 60 s — on our side when the
    // prober closes first, as tcpSocket probes do. Ports are unique per destination
    // (address:port), so the busiest destination is what can run out.
    let in_time_wait = (rate * TIME_WAIT_S as f64).ceil() as u64;
    let what = format!(
        "ephemeral ports: {rate:.0} connections/s to {dest} keep up to {in_time_wait} ports in TIME_WAIT ({TIME_WAIT_S} s); net.ipv4.ip_local_port_range has {range} ({}-{})",
        f.port_range.0, f.port_range.1
    );
    let widen = format!(
        "widen the range (sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"), lower the probe rate to one destination{}",
        if f.tw_reuse_applies() {
            ""
        } else {
            ", or allow TIME_WAIT reuse (sysctl -w net.ipv4.tcp_tw_reuse=2 with tcp_timestamps=1)"
        }
    );
    if f.tw_reuse_applies() {
        // connect() may take a TIME_WAIT port once its last timestamp is over a second
        // old, so only ~2 s of connections need distinct ports.
        let reusable_after = (rate * TW_REUSE_AGE_S as f64).ceil() as u64;
        if reusable_after > range {
            check(
                "ephemeral_ports",
                Status::Refuse,
                format!(
                    "{what}; even with tcp_tw_reuse={} ports are reused only after ~1-2 s: {reusable_after} needed",
                    f.tcp_tw_reuse
                ),
                Some(widen),
            )
        } else if in_time_wait > range {
            check(
                "ephemeral_ports",
                Status::Warn,
                format!(
                    "{what}; works only because tcp_tw_reuse={} lets connect() reuse TIME_WAIT ports (a hash lookup per connect, ports recycled every ~1-2 s)",
                    f.tcp_tw_reuse
                ),
                Some(widen),
            )
        } else {
            check("ephemeral_ports", Status::Ok, what, None)
        }
    } else if in_time_wait > range {
        check(
            "ephemeral_ports",
            Status::Refuse,
            format!(
                "{what}; TIME_WAIT reuse is off (tcp_tw_reuse={}, tcp_timestamps={}): connect() would fail with EADDRNOTAVAIL",
                f.tcp_tw_reuse, f.tcp_timestamps
            ),
            Some(widen),
        )
    } else if in_time_wait as f64 > HEADROOM * range as f64 {
        check("ephemeral_ports", Status::Warn, format!("{what}: less than 20% headroom"), Some(widen))
    } else {
        check("ephemeral_ports", Status::Ok, what, None)
    }
}

fn somaxconn(d: &Demand, f: &SystemFacts) -> Check {
    let Some(listener) = &d.busiest_listener else {
        return check("somaxconn", Status::Ok, "accept queue: no listeners".into(), None);
    };
    let queue = d.listen_backlog.min(f.somaxconn);
    let what = format!(
        "accept queue: up to {} connections can arrive at once at {listener}; it holds {queue} (backlog {} capped by net.core.somaxconn {})",
        d.listener_burst, d.listen_backlog, f.somaxconn
    );
    if d.listener_burst > queue {
        // An overflowing SYN is dropped and retransmitted after the initial RTO (1 s): the
        // probe shows a 1 s latency, or times out with timeoutSeconds 1.
        check(
            "somaxconn",
            Status::Warn,
            format!("{what}: overflowing connections wait for a SYN retransmit (1 s) and may time out"),
            Some(format!(
                "sysctl -w net.core.somaxconn={}, or spread the workers' start (initial phase `uniform` or `kubelet`)",
                d.listener_burst.next_power_of_two()
            )),
        )
    } else {
        check("somaxconn", Status::Ok, what, None)
    }
}

fn low_ports(d: &Demand, f: &SystemFacts) -> Check {
    let start = f.unprivileged_port_start;
    let blocked: Vec<u16> = d.low_ports.iter().copied().filter(|&p| u32::from(p) < start).collect();
    if blocked.is_empty() {
        return check(
            "low_ports",
            Status::Ok,
            format!("privileged ports: no target port below net.ipv4.ip_unprivileged_port_start ({start})"),
            None,
        );
    }
    let ports = blocked.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
    if f.may_bind_low_ports() {
        let who = if f.euid == 0 { "root" } else { "CAP_NET_BIND_SERVICE" };
        return check(
            "low_ports",
            Status::Ok,
            format!("privileged ports: targets bind {ports} (below {start}) as {who}"),
            None,
        );
    }
    check(
        "low_ports",
        Status::Refuse,
        format!(
            "privileged ports: the targets must bind {ports}, below net.ipv4.ip_unprivileged_port_start ({start}), and probebench is neither root nor holds CAP_NET_BIND_SERVICE"
        ),
        Some(format!(
            "sudo setcap cap_net_bind_service=+ep <probebench binary>, or sysctl -w net.ipv4.ip_unprivileged_port_start={}, or run as root",
            blocked.iter().min().copied().unwrap_or(0)
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::fleet::GroupInput;
    use crate::sched::mechanism::Capabilities;

    fn facts() -> SystemFacts {
        SystemFacts {
            nofile_soft: 65_536,
            nofile_hard: 65_536,
            port_range: (32768, 60999),
            tcp_tw_reuse: 0,
            tcp_timestamps: 1,
            somaxconn: 4096,
            unprivileged_port_start: 1024,
            euid: 1000,
            cap_net_bind_service: false,
        }
    }

    fn demand() -> Demand {
        Demand {
            prober_fds: 1_000,
            targets_fds: 2_000,
            target_listeners: 1_500,
            busiest_destination: Some("127.1.0.0:8080".into()),
            busiest_destination_conn_per_s: 10.0,
            busiest_listener: Some("127.1.0.0:8080".into()),
            listener_burst: 3,
            listen_backlog: 4096,
            low_ports: Vec::new(),
        }
    }

    fn status(p: &Preflight, id: &str) -> Status {
        p.get(id).unwrap().status
    }

    #[test]
    fn a_modest_plan_passes_every_check() {
        let p = run(&demand(), &facts());
        assert_eq!(p.checks.len(), 5);
        assert_eq!(p.worst(), Status::Ok, "{}", p.render());
        assert!(!p.refused());
        assert!(p.checks.iter().all(|c| c.fix.is_none()));
    }

    #[test]
    fn file_descriptors_refuse_and_warn_with_the_numbers() {
        let mut d = demand();
        d.prober_fds = 70_000;
        let p = run(&d, &facts());
        let c = p.get("prober_fds").unwrap();
        assert_eq!(c.status, Status::Refuse);
        assert!(c.message.contains("needs 70000") && c.message.contains("RLIMIT_NOFILE 65536"), "{c:?}");
        assert!(c.fix.as_deref().unwrap().contains("ulimit -Hn"), "soft == hard: the hard limit must rise");
        // Soft below hard (raising failed): the fix is the soft limit.
        let f = SystemFacts { nofile_soft: 1024, ..facts() };
        d.prober_fds = 2_000;
        assert!(run(&d, &f).get("prober_fds").unwrap().fix.as_deref().unwrap().contains("ulimit -n 65536"));
        d.prober_fds = 60_000;
        assert_eq!(status(&run(&d, &facts()), "prober_fds"), Status::Warn, "over 80% of the limit");

        let mut d = demand();
        d.targets_fds = 66_000;
        let p = run(&d, &facts());
        assert_eq!(status(&p, "targets_fds"), Status::Refuse);
        assert!(p.refused());
        assert!(p.get("targets_fds").unwrap().message.contains("1500 listeners"));
        d.targets_fds = 60_000;
        assert_eq!(status(&run(&d, &facts()), "targets_fds"), Status::Warn);
        d.targets_fds = 0;
        assert_eq!(status(&run(&d, &facts()), "targets_fds"), Status::Ok);
    }

    #[test]
    fn ephemeral_ports_depend_on_time_wait_reuse() {
        let mut d = demand();
        // 28,232 ports; 500/s × 60 s = 30,000 in TIME_WAIT.
        d.busiest_destination_conn_per_s = 500.0;
        let p = run(&d, &facts());
        let c = p.get("ephemeral_ports").unwrap();
        assert_eq!(c.status, Status::Refuse, "{c:?}");
        assert!(c.message.contains("30000 ports in TIME_WAIT") && c.message.contains("has 28232"), "{c:?}");
        assert!(c.message.contains("EADDRNOTAVAIL"));
        assert!(c.fix.as_deref().unwrap().contains("tcp_tw_reuse=2"));
        // With reuse for loopback it works, but only thanks to reuse: warn.
        let reuse = SystemFacts { tcp_tw_reuse: 2, ..facts() };
        let c = run(&d, &reuse).get("ephemeral_ports").unwrap().clone();
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.message.contains("tcp_tw_reuse=2"));
        // Reuse needs timestamps.
        let no_ts = SystemFacts { tcp_tw_reuse: 2, tcp_timestamps: 0, ..facts() };
        assert_eq!(status(&run(&d, &no_ts), "ephemeral_ports"), Status::Refuse);
        // Even reuse cannot hold 20,000/s: 40,000 ports in 2 s.
        d.busiest_destination_conn_per_s = 20_000.0;
        assert_eq!(status(&run(&d, &reuse), "ephemeral_ports"), Status::Refuse);
        // 400/s × 60 = 24,000: fits, with little headroom.
        d.busiest_destination_conn_per_s = 400.0;
        assert_eq!(status(&run(&d, &facts()), "ephemeral_ports"), Status::Warn);
        d.busiest_destination_conn_per_s = 100.0;
        assert_eq!(status(&run(&d, &facts()), "ephemeral_ports"), Status::Ok);
    }

    #[test]
    fn a_burst_larger_than_the_accept_queue_warns() {
        let mut d = demand();
        d.listener_burst = 5_000;
        let c = run(&d, &facts()).get("somaxconn").unwrap().clone();
        assert_eq!(c.status, Status::Warn);
        assert!(c.message.contains("5000 connections") && c.message.contains("holds 4096"), "{c:?}");
        assert!(c.fix.as_deref().unwrap().contains("net.core.somaxconn=8192"));
        // somaxconn caps the backlog.
        d.listener_burst = 200;
        let small = SystemFacts { somaxconn: 128, ..facts() };
        let c = run(&d, &small).get("somaxconn").unwrap().clone();
        assert_eq!(c.status, Status::Warn);
        assert!(c.message.contains("holds 128"), "{c:?}");
        assert_eq!(status(&run(&d, &facts()), "somaxconn"), Status::Ok);
    }

    #[test]
    fn low_ports_need_root_or_the_capability() {
        let mut d = demand();
        d.low_ports = vec![80, 443];
        let p = run(&d, &facts());
        let c = p.get("low_ports").unwrap();
        assert_eq!(c.status, Status::Refuse);
        assert!(c.message.contains("80, 443") && c.message.contains("(1024)"), "{c:?}");
        assert!(c.fix.as_deref().unwrap().contains("setcap cap_net_bind_service=+ep"));
        assert!(c.fix.as_deref().unwrap().contains("ip_unprivileged_port_start=80"));
        let root = SystemFacts { euid: 0, ..facts() };
        assert_eq!(status(&run(&d, &root), "low_ports"), Status::Ok);
        let cap = SystemFacts { cap_net_bind_service: true, ..facts() };
        assert!(run(&d, &cap).get("low_ports").unwrap().message.contains("as CAP_NET_BIND_SERVICE"));
        // A lowered threshold lets 443 through but not 80.
        let lowered = SystemFacts { unprivileged_port_start: 100, ..facts() };
        let c = run(&d, &lowered).get("low_ports").unwrap().clone();
        assert_eq!(c.status, Status::Refuse);
        assert!(c.message.contains("bind 80,"), "{c:?}");
        let zero = SystemFacts { unprivileged_port_start: 0, ..facts() };
        assert_eq!(status(&run(&d, &zero), "low_ports"), Status::Ok);
    }

    #[test]
    fn render_and_json() {
        let mut d = demand();
        d.low_ports = vec![80];
        d.listener_burst = 10_000;
        let p = run(&d, &facts());
        let text = p.render();
        assert!(text.starts_with("preflight:\n"));
        assert!(text.contains("\n  REFUSE privileged ports"), "{text}");
        assert!(text.contains("\n  warn   accept queue"), "{text}");
        assert!(text.contains("\n         fix: sudo setcap"), "{text}");
        assert!(text.contains("\n  ok     file descriptors (prober)"), "{text}");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["checks"][4]["id"], "low_ports");
        assert_eq!(json["checks"][4]["status"], "refuse");
        assert_eq!(json["checks"][0]["fix"], serde_json::Value::Null);
    }

    #[test]
    fn proc_texts_parse() {
        assert_eq!(parse_port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_port_range("60999 32768"), None);
        assert_eq!(parse_port_range("x"), None);
        let status = "Name:\tprobebench\nUid:\t1000\t0\t1000\t1000\nCapEff:\t0000000000000400\n";
        assert_eq!(parse_status(status), (Some(0), Some(0x400)));
        let f = SystemFacts { euid: 1000, cap_net_bind_service: 0x400 & (1 << CAP_NET_BIND_SERVICE) != 0, ..facts() };
        assert!(f.may_bind_low_ports());
        assert_eq!(facts().ephemeral_ports(), 28_232);
        // Reading the real machine works and raises the soft limit to the hard one.
        let real = SystemFacts::read();
        assert_eq!(real.nofile_soft, real.nofile_hard);
        assert!(real.port_range.0 <= real.port_range.1);
    }

    fn fleet(yaml: &str, replicas: u32) -> Fleet {
        let loaded = crate::spec::load::load_str("test.yaml", yaml).unwrap();
        let caps = Capabilities { mechanisms: [true; MechanismKind::COUNT], targets: true };
        Fleet::build(&[GroupInput { pod: loaded.pods[0].clone(), replicas, probe_as: None }], &caps)
    }

    const WEB: &str = "apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: app
    image: x
    ports: [{containerPort: 80, name: http}]
    livenessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
    readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 2}
    startupProbe: {tcpSocket: {port: 8443, host: 127.0.0.1}, periodSeconds: 10}
";

    #[test]
    fn demand_from_a_fleet() {
        let f = fleet(WEB, 1000);
        let bounds = [u32::MAX; MechanismKind::COUNT];
        let d = Demand::from_fleets(std::slice::from_ref(&f), &bounds, InitialPhase::None, 7, false);
        // Liveness (1/s) + readiness (0.5/s) to each pod's port 80; the startup probe of
        // every pod goes to 127.0.0.1:8443: 1000 × 0.1/s = 100/s, the busiest.
        assert_eq!(d.busiest_destination.as_deref(), Some("127.0.0.1:8443"));
        assert!((d.busiest_destination_conn_per_s - 100.0).abs() < 1e-9);
        assert_eq!(d.low_ports, vec![80], "the named port resolves to 80");
        // Dedicated listeners: one per pod (port 80); every startup probe hits one address
        // at the same instant when nothing spreads the workers.
        assert_eq!(d.target_listeners, 1000);
        assert_eq!(d.busiest_listener.as_deref(), Some("127.0.0.1:8443"));
        assert_eq!(d.listener_burst, 1000);
        assert_eq!(d.prober_fds, BASE_FDS + 3000);
        assert_eq!(d.targets_fds, BASE_FDS + 1000 + 3000);
        // Spread uniformly over the 10 s period, a 1 ms slot holds only a few.
        let spread = Demand::from_fleets(std::slice::from_ref(&f), &bounds, InitialPhase::Uniform, 7, false);
        assert!(spread.listener_burst < 20, "{spread:?}");
        assert!(spread.listener_burst >= 2, "per-pod listener: liveness + readiness at once");
        // Shared listeners: all 1000 pods' port-80 probes meet at one socket.
        let shared = Demand::from_fleets(std::slice::from_ref(&f), &bounds, InitialPhase::None, 7, true);
        assert_eq!(shared.target_listeners, 1);
        assert_eq!(shared.listener_burst, 2000, "liveness and readiness of every pod at t=0");
        assert_eq!(shared.busiest_listener.as_deref(), Some("*:80 (shared by all pods)"));
        // Concurrency bounds cap the sockets in flight.
        let mut small = [u32::MAX; MechanismKind::COUNT];
        small[MechanismKind::Http.index()] = 10;
        small[MechanismKind::Tcp.index()] = 5;
        let bounded = Demand::from_fleets(std::slice::from_ref(&f), &small, InitialPhase::None, 7, false);
        assert_eq!(bounded.prober_fds, BASE_FDS + 15);
    }
}
