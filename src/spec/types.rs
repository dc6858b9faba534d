//! The Kubernetes API subset probebench models, as typed Rust.
//!
//! Field names serialize exactly as in the API (`periodSeconds`, `httpGet`, ...). Integer
//! fields hold the API's int32 zero value when omitted: the API server's defaulting treats
//! "omitted" and "0" the same way (kubelet-semantics.md §1), so `defaults::apply` replaces
//! zeros with the defaults before validation, exactly as the API server does.

use serde::Serialize;
use std::collections::BTreeMap;

/// A pod as probebench sees it: one object to run, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    pub name: String,
    pub namespace: String,
    /// `metadata.annotations`; `probebench.dev/behaviour` may carry an inline behaviour.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    pub spec: PodSpec,
    /// The object the pod came from (a Pod, or a workload's pod template).
    pub source: Source,
}

/// Where a pod (template) was found, so errors and fleets can name it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// `kind` of the object: Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob.
    pub kind: String,
    /// `metadata.name` of that object.
    pub name: String,
    /// Replicas for workloads (Deployment, StatefulSet, ReplicaSet: `spec.replicas`, default 1;
    /// Job: `spec.parallelism`, default 1); 1 for everything else.
    pub replicas: u32,
    /// Field path from the object to its pod spec: `spec` for a Pod,
    /// `spec.template.spec` for most workloads, `spec.jobTemplate.spec.template.spec` for a
    /// CronJob. Validation errors are rendered under this prefix.
    pub spec_path: String,
    /// Position of the document in its file (0-based), and of the item inside a `kind: List`.
    pub document: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    pub containers: Vec<Container>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    /// `Always` (default), `OnFailure` or `Never`; empty until defaulted.
    pub restart_policy: String,
    /// Pod-level grace period; `None` until defaulted (default 30).
    pub termination_grace_period_seconds: Option<i64>,
    /// `spec.nodeName`, when the manifest pins the pod to a node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    pub image: String,
    /// `Always`, `IfNotPresent`, `Never`; empty until defaulted (untagged or `:latest` →
    /// Always, otherwise IfNotPresent).
    pub image_pull_policy: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    /// Only on init containers: `Always` makes it a restartable (sidecar) init container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub container_port: i32,
    /// `TCP` (default), `UDP`, `SCTP`.
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    /// A static value. Only these are expanded in exec probe commands (`$(VAR)`), as the
    /// kubelet's ExpandContainerCommandOnlyStatic does; `valueFrom` is never expanded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub value_from: bool,
}

/// Which of a container's probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeType {
    Startup,
    Readiness,
    Liveness,
}

impl ProbeType {
    /// All types in the order the kubelet creates their workers (startup, readiness, liveness).
    pub const ALL: [ProbeType; 3] = [ProbeType::Startup, ProbeType::Readiness, ProbeType::Liveness];

    /// The API field name: `livenessProbe`, ...
    pub fn field(self) -> &'static str {
        match self {
            ProbeType::Startup => "startupProbe",
            ProbeType::Readiness => "readinessProbe",
            ProbeType::Liveness => "livenessProbe",
        }
    }

    /// The word the kubelet uses in events: `Liveness`, `Readiness`, `Startup`.
    pub fn event_word(self) -> &'static str {
        match self {
            ProbeType::Startup => "Startup",
            ProbeType::Readiness => "Readiness",
            ProbeType::Liveness => "Liveness",
        }
    }

    /// Lower-case name, as in the kubelet's `probe_type` metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeType::Startup => "startup",
            ProbeType::Readiness => "readiness",
            ProbeType::Liveness => "liveness",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    #[serde(flatten)]
    pub handler: Handler,
    pub initial_delay_seconds: i32,
    pub timeout_seconds: i32,
    pub period_seconds: i32,
    pub success_threshold: i32,
    pub failure_threshold: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_grace_period_seconds: Option<i64>,
}

/// The probe's action. The API allows several fields to be set at once (and validation
/// rejects that); this keeps every one that was given so validation can report each.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Handler {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGetAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocketAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc: Option<GrpcAction>,
}

/// The one action of a valid probe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action<'a> {
    Exec(&'a ExecAction),
    HttpGet(&'a HttpGetAction),
    TcpSocket(&'a TcpSocketAction),
    Grpc(&'a GrpcAction),
}

impl Handler {
    /// The first action present, in the API's order (exec, httpGet, tcpSocket, grpc).
    pub fn action(&self) -> Option<Action<'_>> {
        if let Some(e) = &self.exec {
            return Some(Action::Exec(e));
        }
        if let Some(h) = &self.http_get {
            return Some(Action::HttpGet(h));
        }
        if let Some(t) = &self.tcp_socket {
            return Some(Action::TcpSocket(t));
        }
        self.grpc.as_ref().map(Action::Grpc)
    }
}

impl Action<'_> {
    /// Mechanism name as used in output and metrics labels: exec, http, tcp, grpc.
    pub fn mechanism(&self) -> &'static str {
        match self {
            Action::Exec(_) => "exec",
            Action::HttpGet(_) => "http",
            Action::TcpSocket(_) => "tcp",
            Action::Grpc(_) => "grpc",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecAction {
    pub command: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpGetAction {
    pub path: String,
    pub port: IntOrString,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `HTTP` (default) or `HTTPS`.
    pub scheme: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http_headers: Vec<HttpHeader>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TcpSocketAction {
    pub port: IntOrString,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrpcAction {
    pub port: i32,
    /// Sent as given; unset means the empty string (the server's overall health).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// `port` of httpGet / tcpSocket: a number or an IANA_SVC_NAME naming a container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i32),
    String(String),
}

impl std::fmt::Display for IntOrString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrString::Int(i) => write!(f, "{i}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_start: Option<LifecycleHandler>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_stop: Option<LifecycleHandler>,
}

/// A container lifecycle hook: exec, httpGet or sleep (tcpSocket is accepted by the API for
/// compatibility but never run by the kubelet).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleHandler {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGetAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocketAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sleep: Option<SleepAction>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SleepAction {
    pub seconds: i64,
}

impl Container {
    /// The container's probes that are set, in the kubelet's worker order.
    pub fn probes(&self) -> impl Iterator<Item = (ProbeType, &Probe)> {
        ProbeType::ALL.into_iter().filter_map(|t| self.probe(t).map(|p| (t, p)))
    }

    pub fn probe(&self, t: ProbeType) -> Option<&Probe> {
        match t {
            ProbeType::Startup => self.startup_probe.as_ref(),
            ProbeType::Readiness => self.readiness_probe.as_ref(),
            ProbeType::Liveness => self.liveness_probe.as_ref(),
        }
    }

    /// Whether this (init) container is a restartable sidecar (`restartPolicy: Always`).
    pub fn is_sidecar(&self) -> bool {
        self.restart_policy.as_deref() == Some("Always")
    }
}

impl PodSpec {
    /// Containers that get probe workers: every regular container and every sidecar init
    /// container (the kubelet's AddPod skips probes of non-restartable init containers).
    pub fn probed_containers(&self) -> impl Iterator<Item = (String, &Container)> {
        let sidecars = self
            .init_containers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_sidecar())
            .map(|(i, c)| (format!("initContainers[{i}]"), c));
        let regular = self.containers.iter().enumerate().map(|(i, c)| (format!("containers[{i}]"), c));
        sidecars.chain(regular)
    }
}
