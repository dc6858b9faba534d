//! From a probe as written (`spec::Probe`) to a [`Mechanism`] ready to run many times:
//! ports resolved, `$(VAR)` expanded, headers built, addresses parsed and checked.
//!
//! Two kinds of trouble, kept apart on purpose:
//! - What the kubelet meets *at probe time* and reports as an errored probe (an
//!   unresolvable port name: `strconv.Atoi: parsing "http": invalid syntax`) becomes
//!   [`Mechanism::Unresolvable`]: every run of it is errored with that text, retried and
//!   discarded exactly as the kubelet does, so a scenario with such a probe reproduces the
//!   kubelet's behaviour (e.g. a liveness probe that never restarts anything).
//! - What probebench refuses (a target off loopback without `--allow-remote`, a header the
//!   client could not send) is a [`ResolveError`]: a configuration error reported before
//!   anything runs (exit 2), because it says nothing about the target and would otherwise
//!   be counted as the target's behaviour. Off-loopback addresses that only appear at probe
//!   time (a name that now resolves elsewhere) are refused then, as errored outcomes.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use http::HeaderValue;
use rustls::pki_types::ServerName;

use super::address::{self, AddressPolicy, HostAddr, LookupError, NotLoopback};
use super::exec::{DEFAULT_SEARCH_PATH, ExecTarget};
use super::expand;
use super::grpc::GrpcTarget;
use super::http::url::{ProbeUrl, Scheme};
use super::http::{HttpClientKind, HttpTarget, InvalidHeader, kubelet_headers};
use super::socket::LingerMode;
use super::tcp::TcpTarget;
use crate::gotext;
use crate::spec::{Action, Container, IntOrString, Probe};

/// The pod a probe belongs to, as far as running the probe needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodContext {
    pub pod_name: String,
    /// Where httpGet/tcpSocket go without `host`, and the grpc target.
    pub pod_ip: IpAddr,
    /// Working directory of exec probes (the sample targets keep a `healthy` file there).
    pub state_dir: Option<PathBuf>,
    /// Extra environment for exec probes.
    pub env: Vec<(String, String)>,
}

/// How probes are run, the same for every probe of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    /// `--allow-remote`: probe addresses outside loopback.
    pub allow_remote: bool,
    /// The Kubernetes version whose `kube-probe/<major>.<minor>` user agent is sent.
    pub kube_version: String,
    pub http_client: HttpClientKind,
    pub linger: LingerMode,
}

/// The Kubernetes release whose kubelet probebench reproduces by default.
pub const DEFAULT_KUBE_VERSION: &str = "1.35";

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            allow_remote: false,
            kube_version: DEFAULT_KUBE_VERSION.to_owned(),
            http_client: HttpClientKind::default(),
            linger: LingerMode::default(),
        }
    }
}

/// A probe's action, resolved.
#[derive(Debug, Clone)]
pub enum Mechanism {
    Exec(ExecTarget),
    Tcp(TcpTarget),
    Http(Box<HttpTarget>),
    Grpc(Box<GrpcTarget>),
    /// Success at once, to measure the scheduler alone.
    Noop,
    /// The kubelet cannot build this probe's request; every run is errored with this text.
    Unresolvable(String),
}

impl Mechanism {
    /// Name for output and metric labels: exec, tcp, http, grpc, noop, unresolvable.
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::Exec(_) => "exec",
            Mechanism::Tcp(_) => "tcp",
            Mechanism::Http(_) => "http",
            Mechanism::Grpc(_) => "grpc",
            Mechanism::Noop => "noop",
            Mechanism::Unresolvable(_) => "unresolvable",
        }
    }
}

/// A mechanism with the timeout it runs under.
#[derive(Debug, Clone)]
pub struct ResolvedProbe {
    pub mechanism: Mechanism,
    pub timeout: Duration,
}

/// A probe probebench refuses to run (see the module notes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("probe has no handler: set one of exec, httpGet, tcpSocket, grpc")]
    NoHandler,
    #[error(transparent)]
    NotLoopback(#[from] NotLoopback),
    #[error("httpGet.httpHeaders: {0}")]
    InvalidHeader(#[from] InvalidHeader),
    #[error("grpc.port: Invalid value: {0}: must be between 1 and 65535, inclusive")]
    GrpcPort(i32),
    #[error("httpGet.scheme: Unsupported value: {0:?}: supported values: \"HTTP\", \"HTTPS\"")]
    Scheme(String),
    #[error("invalid Kubernetes version {0:?}: expected <major>.<minor>, e.g. 1.35")]
    KubeVersion(String),
    #[error("{0}")]
    Internal(String),
}

/// Resolves one probe of one container.
pub fn resolve(
    probe: &Probe,
    container: &Container,
    pod: &PodContext,
    options: &ProbeOptions,
) -> Result<ResolvedProbe, ResolveError> {
    let action = probe.handler.action().ok_or(ResolveError::NoHandler)?;
    let mechanism = resolve_action(action, container, pod, options)?;
    // timeoutSeconds is defaulted 0 → 1 by the API server; be defensive about raw specs.
    let seconds = u64::try_from(probe.timeout_seconds).unwrap_or(0).max(1);
    Ok(ResolvedProbe { mechanism, timeout: Duration::from_secs(seconds) })
}

/// Resolves one action (the part of [`resolve`] that does not look at timing fields).
pub fn resolve_action(
    action: Action<'_>,
    container: &Container,
    pod: &PodContext,
    options: &ProbeOptions,
) -> Result<Mechanism, ResolveError> {
    let policy = AddressPolicy { allow_remote: options.allow_remote };
    match action {
        Action::Exec(exec) => Ok(Mechanism::Exec(exec_target(&exec.command, container, pod, &options.kube_version))),
        Action::TcpSocket(tcp) => {
            let port = match resolve_port(&tcp.port, container) {
                Ok(port) => port,
                Err(text) => return Ok(Mechanism::Unresolvable(text)),
            };
            let host = host_or_pod_ip(tcp.host.as_deref(), pod);
            check_at_config_time(&host, port, policy)?;
            Ok(Mechanism::Tcp(TcpTarget { host, port, linger: options.linger, policy }))
        }
        Action::HttpGet(get) => {
            let port = match resolve_port(&get.port, container) {
                Ok(port) => port,
                Err(text) => return Ok(Mechanism::Unresolvable(text)),
            };
            let scheme = match get.scheme.to_ascii_lowercase().as_str() {
                "" | "http" => Scheme::Http,
                "https" => Scheme::Https,
                _ => return Err(ResolveError::Scheme(get.scheme.clone())),
            };
            let host_text = match get.host.as_deref() {
                Some(h) if !h.is_empty() => h.to_owned(),
                _ => pod.pod_ip.to_string(),
            };
            let host = HostAddr::parse(&host_text);
            check_at_config_time(&host, port, policy)?;
            let url = ProbeUrl::for_probe(scheme, &host_text, port, &get.path);
            let (headers, host_header) = kubelet_headers(&get.http_headers, &user_agent(&options.kube_version)?)?;
            let first_host = match &host_header {
                Some(h) => h.clone(),
                None => HeaderValue::from_str(&url.authority)
                    .map_err(|e| ResolveError::Internal(format!("host {:?}: {e}", url.authority)))?,
            };
            let first_target = http::Uri::try_from(url.target.as_str())
                .map_err(|e| ResolveError::Internal(format!("path {:?}: {e}", url.target)))?;
            let tls_name = ServerName::try_from(url.hostname.clone())
                .unwrap_or(ServerName::IpAddress(std::net::Ipv4Addr::UNSPECIFIED.into()));
            Ok(Mechanism::Http(Box::new(HttpTarget {
                client: options.http_client,
                url,
                host,
                headers,
                host_header,
                first_host,
                first_target,
                tls_name,
                linger: options.linger,
                policy,
            })))
        }
        Action::Grpc(grpc) => {
            let port = u16::try_from(grpc.port).ok().filter(|p| *p > 0).ok_or(ResolveError::GrpcPort(grpc.port))?;
            let host = HostAddr::Ip(pod.pod_ip);
            check_at_config_time(&host, port, policy)?;
            let addr_text = gotext::join_host_port(&pod.pod_ip.to_string(), port);
            let ua = user_agent(&options.kube_version)?;
            let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr_text}"))
                .and_then(|e| e.user_agent(ua))
                .map_err(|e| ResolveError::Internal(format!("grpc endpoint {addr_text}: {e}")))?;
            Ok(Mechanism::Grpc(Box::new(GrpcTarget {
                host,
                port,
                addr_text,
                service: grpc.service.clone().unwrap_or_default(),
                endpoint,
                linger: options.linger,
                policy,
            })))
        }
    }
}

/// Where a container without its own `PATH` finds commands: probebench's `PATH` (or runc's
/// default), then the directory of the probebench executable itself, so an exec probe can
/// run `probebench targets health-probe` the way an image ships grpc_health_probe — also
/// under `cargo run`, where probebench is not on `PATH`.
fn own_search_path() -> String {
    let base = std::env::var("PATH").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| DEFAULT_SEARCH_PATH.to_owned());
    match std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.to_string_lossy().into_owned())) {
        Some(dir) if !base.split(':').any(|p| p == dir) => format!("{base}:{dir}"),
        _ => base,
    }
}

/// The exec target: `$(VAR)` expanded against the container's static env; the process
/// sees that env too, plus probebench's own variables naming the pod and container.
fn exec_target(command: &[String], container: &Container, pod: &PodContext, kube_version: &str) -> ExecTarget {
    let argv = expand::expand_command(command, &container.env);
    let mut env: Vec<(String, String)> =
        container.env.iter().filter_map(|v| v.value.as_ref().map(|value| (v.name.clone(), value.clone()))).collect();
    env.push(("PROBEBENCH_POD".to_owned(), pod.pod_name.clone()));
    env.push(("PROBEBENCH_CONTAINER".to_owned(), container.name.clone()));
    env.push(("PROBEBENCH_POD_IP".to_owned(), pod.pod_ip.to_string()));
    env.extend(pod.env.iter().cloned());
    let search_path = container
        .env
        .iter()
        .rev()
        .find(|v| v.name == "PATH")
        .and_then(|v| v.value.clone())
        .unwrap_or_else(own_search_path);
    // 1.31 moved the kubelet's CRI client to staging/cri-client, with the longer timeout text.
    let minor =
        kube_version.trim_start_matches('v').split('.').nth(1).and_then(|m| m.parse::<u32>().ok()).unwrap_or(35);
    ExecTarget { argv, env, cwd: pod.state_dir.clone(), search_path, cri_client_timeout_text: minor >= 31 }
}

/// pkg/probe/util.go ResolveContainerPort: a number is used as is; a name is looked up in
/// the container's ports, and failing that parsed as a number ("maybe it was an int stored
/// as string"); the result must be 1..65535. Errors are the kubelet's texts.
pub fn resolve_port(port: &IntOrString, container: &Container) -> Result<u16, String> {
    let number: i64 = match port {
        IntOrString::Int(n) => i64::from(*n),
        IntOrString::String(name) => match container.ports.iter().find(|p| p.name.as_deref() == Some(name.as_str())) {
            Some(p) => i64::from(p.container_port),
            None => go_atoi(name)?,
        },
    };
    match u16::try_from(number) {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("invalid port number: {number}")),
    }
}

/// Go's `strconv.Atoi` with its error texts.
fn go_atoi(s: &str) -> Result<i64, String> {
    use std::num::IntErrorKind;
    s.parse::<i64>().map_err(|e| {
        let why = match e.kind() {
            IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "value out of range",
            _ => "invalid syntax",
        };
        format!("strconv.Atoi: parsing {}: {why}", gotext::quote(s))
    })
}

fn host_or_pod_ip(host: Option<&str>, pod: &PodContext) -> HostAddr {
    match host {
        Some(h) if !h.is_empty() => HostAddr::parse(h),
        _ => HostAddr::Ip(pod.pod_ip),
    }
}

/// Refuses targets that are off loopback now. Names that do not resolve are left to probe
/// time, where the kubelet would fail them too.
fn check_at_config_time(host: &HostAddr, port: u16, policy: AddressPolicy) -> Result<(), ResolveError> {
    match address::resolve_now(host, port, policy) {
        Err(LookupError::NotLoopback(refused)) => Err(ResolveError::NotLoopback(refused)),
        _ => Ok(()),
    }
}

/// `kube-probe/<major>.<minor>` (request.go userAgent) from `1.35`, `v1.35.2` ...
pub fn user_agent(kube_version: &str) -> Result<HeaderValue, ResolveError> {
    let bad = || ResolveError::KubeVersion(kube_version.to_owned());
    let version = kube_version.strip_prefix('v').unwrap_or(kube_version);
    let mut parts = version.split('.');
    let major = parts.next().filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let minor = parts.next().filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    match (major, minor) {
        (Some(major), Some(minor)) => HeaderValue::from_str(&format!("kube-probe/{major}.{minor}")).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ContainerPort;

    fn container(ports: &[(&str, i32)]) -> Container {
        Container {
            name: "app".into(),
            image: "img".into(),
            image_pull_policy: String::new(),
            command: vec![],
            args: vec![],
            ports: ports
                .iter()
                .map(|(n, p)| ContainerPort { name: Some((*n).to_owned()), container_port: *p, protocol: "TCP".into() })
                .collect(),
            env: vec![],
            liveness_probe: None,
            readiness_probe: None,
            startup_probe: None,
            lifecycle: None,
            restart_policy: None,
        }
    }

    #[test]
    fn ports_resolve_like_the_kubelet() {
        let c = container(&[("http", 8080)]);
        assert_eq!(resolve_port(&IntOrString::Int(80), &c), Ok(80));
        assert_eq!(resolve_port(&IntOrString::String("http".into()), &c), Ok(8080));
        assert_eq!(resolve_port(&IntOrString::String("9090".into()), &c), Ok(9090));
        assert_eq!(
            resolve_port(&IntOrString::String("grpc".into()), &c),
            Err(r#"strconv.Atoi: parsing "grpc": invalid syntax"#.to_owned())
        );
        assert_eq!(
            resolve_port(&IntOrString::String("99999999999999999999".into()), &c),
            Err(r#"strconv.Atoi: parsing "99999999999999999999": value out of range"#.to_owned())
        );
        assert_eq!(resolve_port(&IntOrString::Int(70000), &c), Err("invalid port number: 70000".to_owned()));
        assert_eq!(resolve_port(&IntOrString::String("-1".into()), &c), Err("invalid port number: -1".to_owned()));
    }

    #[test]
    fn user_agent_takes_major_and_minor() {
        assert_eq!(user_agent("1.35").unwrap(), "kube-probe/1.35");
        assert_eq!(user_agent("v1.29.4").unwrap(), "kube-probe/1.29");
        assert!(user_agent("latest").is_err());
    }
}
