//! The seam where probe mechanisms plug into the engine.
//!
//! The scheduler knows a probe only as a [`ProbeTemplate`] (shared by every replica of a
//! pod template) plus a pod index. `noop` completes inline in the shard; every other
//! mechanism is run by a [`Prober`] on the I/O runtime, one task per probe in flight.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;

use crate::probe::Outcome;
use crate::spec::{Action, Container, Probe, ProbeType};

/// A probe mechanism. `Noop` measures the scheduler alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MechanismKind {
    Noop,
    Exec,
    Tcp,
    Http,
    Grpc,
}

impl MechanismKind {
    pub const ALL: [MechanismKind; 5] =
        [MechanismKind::Noop, MechanismKind::Exec, MechanismKind::Tcp, MechanismKind::Http, MechanismKind::Grpc];
    pub const COUNT: usize = 5;

    pub fn as_str(self) -> &'static str {
        match self {
            MechanismKind::Noop => "noop",
            MechanismKind::Exec => "exec",
            MechanismKind::Tcp => "tcp",
            MechanismKind::Http => "http",
            MechanismKind::Grpc => "grpc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The mechanism a probe's handler asks for.
    pub fn of(action: Action<'_>) -> Self {
        match action {
            Action::Exec(_) => MechanismKind::Exec,
            Action::HttpGet(_) => MechanismKind::Http,
            Action::TcpSocket(_) => MechanismKind::Tcp,
            Action::Grpc(_) => MechanismKind::Grpc,
        }
    }

    /// Whether the probe opens sockets (for the fd and ephemeral-port budget).
    pub fn uses_sockets(self) -> bool {
        matches!(self, MechanismKind::Tcp | MechanismKind::Http | MechanismKind::Grpc)
    }
}

/// One probe of one container of a pod template: everything but the pod it runs for.
#[derive(Debug, Clone)]
pub struct ProbeTemplate {
    /// Its index in the fleet's template list.
    pub index: u32,
    /// The first pod of the group it belongs to (pods `first_pod..first_pod+replicas`).
    pub first_pod: u32,
    pub replicas: u32,
    /// Index of the (mechanism, probe type) series it is recorded under.
    pub series: u16,
    /// What runs: the declared mechanism, or noop when the scenario says `probeAs: noop`
    /// or the mechanism is not available in this build.
    pub kind: MechanismKind,
    /// What the manifest declares.
    pub declared: MechanismKind,
    pub probe_type: ProbeType,
    pub period_ns: u64,
    pub timeout_ns: u64,
    /// The defaulted, validated probe.
    pub probe: Probe,
    /// The container it belongs to (ports for named-port resolution, env for exec).
    pub container: Arc<Container>,
}

/// A probe's future, boxed so mechanisms of different types share one task type.
pub type ProbeFuture = Pin<Box<dyn Future<Output = Outcome> + Send + 'static>>;

/// Runs probes of the real mechanisms. Implemented over `crate::probe` when the mechanisms
/// land; the engine only needs this.
pub trait Prober: Send + Sync + 'static {
    /// Whether this build can run `kind` (noop is always run inline by the shard).
    fn supports(&self, kind: MechanismKind) -> bool;
    /// Start one probe of `template` against pod `pod` (its index in the plan, which gives
    /// its loopback address). Failures are an [`Outcome`], never a panic or an error.
    fn probe(&self, template: &Arc<ProbeTemplate>, pod: u32) -> ProbeFuture;
}

/// One probe of `template` at `pod`, with the engine's outer guard: mechanisms enforce
/// timeoutSeconds themselves; this catches a prober that never returns (three timeouts
/// plus a second), so a worker cannot be stuck forever. Both schedulers use it.
pub fn guarded_probe(
    prober: &dyn Prober,
    template: &Arc<ProbeTemplate>,
    pod: u32,
) -> impl Future<Output = Outcome> + use<> {
    let guard =
        std::time::Duration::from_nanos(template.timeout_ns.saturating_mul(3)) + std::time::Duration::from_secs(1);
    let fut = prober.probe(template, pod);
    async move {
        tokio::time::timeout(guard, fut).await.unwrap_or_else(|_| Outcome::errored("the prober did not return in time"))
    }
}

/// What this build and run can do, decided before the fleet is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Mechanisms with an implementation.
    pub mechanisms: [bool; MechanismKind::COUNT],
    /// Whether sample targets can be started (`probebench targets serve` exists). Probes
    /// addressed to pod IPs need them; exec and probes with an explicit `host` do not.
    pub targets: bool,
}

impl Capabilities {
    /// Only noop (tests, and builds without mechanisms).
    pub const NOOP_ONLY: Capabilities = Capabilities { mechanisms: [true, false, false, false, false], targets: false };

    /// Whether a probe of `kind` (needing pod targets or not) can really run.
    pub fn runs(&self, kind: MechanismKind, needs_targets: bool) -> bool {
        self.mechanisms[kind.index()] && (!needs_targets || self.targets)
    }
}

/// Whether a probe goes to its pod's address (and so needs the sample targets): grpc
/// always (it has no host field), tcpSocket and httpGet unless they name a host.
pub fn needs_targets(action: Action<'_>) -> bool {
    match action {
        Action::Exec(_) => false,
        Action::TcpSocket(t) => t.host.as_deref().is_none_or(str::is_empty),
        Action::HttpGet(h) => h.host.as_deref().is_none_or(str::is_empty),
        Action::Grpc(_) => true,
    }
}

/// A prober that supports no real mechanism.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoMechanisms;

impl Prober for NoMechanisms {
    fn supports(&self, kind: MechanismKind) -> bool {
        kind == MechanismKind::Noop
    }

    fn probe(&self, template: &Arc<ProbeTemplate>, _pod: u32) -> ProbeFuture {
        let what = template.declared.as_str();
        Box::pin(async move { Outcome::errored(format!("the {what} mechanism is not available in this build")) })
    }
}

/// The real mechanisms of `crate::probe`, with every (probe, pod) resolved once before the
/// run (URLs, headers, addresses), so a dispatch only clones two `Arc`s.
pub struct KubeletProber {
    prober: Arc<crate::probe::Prober>,
    /// By template index, then pod offset in the template's group; empty for noop.
    resolved: Vec<Vec<Arc<crate::probe::ResolvedProbe>>>,
}

/// Why a fleet's probes cannot be resolved (refused before the run, exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ResolveFleetError {
    #[error("{pod}: {probe}: {source}")]
    Probe { pod: String, probe: String, source: crate::probe::ResolveError },
    #[error("cannot set up the prober: {0}")]
    Prober(#[from] crate::probe::ProberError),
    #[error("pod number {0} has no loopback address")]
    Address(u32),
}

impl KubeletProber {
    /// Resolve every real probe of `fleet` for every pod.
    pub fn for_fleet(
        fleet: &super::fleet::Fleet,
        options: &crate::probe::ProbeOptions,
    ) -> Result<Self, ResolveFleetError> {
        let prober = Arc::new(crate::probe::Prober::new()?);
        let mut resolved = Vec::with_capacity(fleet.templates.len());
        for t in &fleet.templates {
            let mut per_pod = Vec::new();
            if t.kind != MechanismKind::Noop {
                let group = fleet.group_of(t.first_pod);
                per_pod.reserve(t.replicas as usize);
                for pod in t.first_pod..t.first_pod + t.replicas {
                    let ip = probebench_targets::pod_ip(pod).map_err(|_| ResolveFleetError::Address(pod))?;
                    let pod_name = group.map_or_else(|| pod.to_string(), |g| g.pod_name(pod));
                    let ctx = crate::probe::PodContext {
                        pod_name: pod_name.clone(),
                        pod_ip: std::net::IpAddr::V4(ip),
                        state_dir: None,
                        env: Vec::new(),
                    };
                    let r = crate::probe::resolve(&t.probe, &t.container, &ctx, options).map_err(|source| {
                        ResolveFleetError::Probe {
                            pod: pod_name,
                            probe: format!("{}.{}", t.container.name, t.probe_type.field()),
                            source,
                        }
                    })?;
                    per_pod.push(Arc::new(r));
                }
            }
            resolved.push(per_pod);
        }
        Ok(KubeletProber { prober, resolved })
    }
}

impl Prober for KubeletProber {
    fn supports(&self, kind: MechanismKind) -> bool {
        kind != MechanismKind::Noop
    }

    fn probe(&self, template: &Arc<ProbeTemplate>, pod: u32) -> ProbeFuture {
        let probe = self
            .resolved
            .get(template.index as usize)
            .and_then(|v| v.get(pod.wrapping_sub(template.first_pod) as usize))
            .cloned();
        let prober = Arc::clone(&self.prober);
        Box::pin(async move {
            match probe {
                // The kubelet's attempt: the run, retried while it errored (maxProbeRetries).
                Some(p) => prober.run(&p).await,
                None => Outcome::errored("probe was not resolved for this pod"),
            }
        })
    }
}

/// What this build can run: every mechanism of `crate::probe`; targets when the binary has
/// the `targets serve` command (checked by the caller).
pub fn capabilities(targets: bool) -> Capabilities {
    Capabilities { mechanisms: [true; MechanismKind::COUNT], targets }
}
