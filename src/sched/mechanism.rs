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
    pub const ALL: [MechanismKind; 5] = [
        MechanismKind::Noop,
        MechanismKind::Exec,
        MechanismKind::Tcp,
        MechanismKind::Http,
        MechanismKind::Grpc,
    ];
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
        matches!(
            self,
            MechanismKind::Tcp | MechanismKind::Http | MechanismKind::Grpc
        )
    }
}

/// One probe of one container of a pod template: everything but the pod it runs for.
#[derive(Debug, Clone)]
pub struct ProbeTemplate {
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

/// A prober that supports no real mechanism (this build's state until `probe/` lands).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoMechanisms;

impl Prober for NoMechanisms {
    fn supports(&self, kind: MechanismKind) -> bool {
        kind == MechanismKind::Noop
    }

    fn probe(&self, template: &Arc<ProbeTemplate>, _pod: u32) -> ProbeFuture {
        let what = template.declared.as_str();
        Box::pin(async move {
            Outcome::errored(format!(
                "the {what} mechanism is not available in this build"
            ))
        })
    }
}

/// The prober this build ships.
pub fn default_prober() -> Arc<dyn Prober> {
    Arc::new(NoMechanisms)
}
