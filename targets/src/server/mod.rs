//! The servers: one process serves many pods, each on its own loopback address, with one
//! listener per declared container port, acting out each container's behaviour.

mod admin;
mod conn;
mod conn_io;
mod container;
mod events;
mod grpc;
mod http;
mod listen;
mod scheduler;
mod state_dir;
mod tls;

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::future::Future;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

pub use container::{ContainerStatus, ControlError};
pub use events::{Event, EventBatch, EventKind, ExitReason};
pub use listen::BACKLOG;
pub use state_dir::{EXIT_CODE_FILE, HEALTHY_FILE, exec_env, state_dir};

use crate::addr::{PodIndexOutOfRange, pod_ip};
use crate::behaviour::{Behaviour, BehaviourFile};
use crate::error::TargetsError;
use crate::process::ensure_fd_limit;
use container::{ContainerRt, Env, PortRt, Wake};
use events::EventLog;
use state_dir::StateWriter;

/// A container to serve.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerTarget {
    /// Container name.
    pub name: String,
    /// Declared container ports (containerPort).
    pub ports: Vec<u16>,
    /// What it does.
    pub behaviour: Behaviour,
    /// Its seed (see [`crate::container_seed`]).
    pub seed: u64,
}

impl ContainerTarget {
    /// A container whose behaviour and seed come from a behaviour file.
    pub fn from_file(file: &BehaviourFile, pod: &str, name: &str, ports: Vec<u16>) -> ContainerTarget {
        ContainerTarget {
            name: name.to_string(),
            ports,
            behaviour: file.behaviour_for(pod, name).clone(),
            seed: file.seed_for(pod, name),
        }
    }
}

/// A pod to serve.
#[derive(Debug, Clone, PartialEq)]
pub struct PodTarget {
    /// Pod name (unique).
    pub name: String,
    /// Its address (normally [`pod_ip`] of its index).
    pub ip: Ipv4Addr,
    /// Its containers.
    pub containers: Vec<ContainerTarget>,
}

impl PodTarget {
    /// Pod number `index` (scenario order) at its standard address.
    pub fn numbered(
        index: u32,
        name: impl Into<String>,
        containers: Vec<ContainerTarget>,
    ) -> Result<PodTarget, PodIndexOutOfRange> {
        Ok(PodTarget { name: name.into(), ip: pod_ip(index)?, containers })
    }
}

/// How listening sockets map to pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListenMode {
    /// Dedicated if the open-file limit allows it, else shared (with a warning).
    Auto,
    /// One socket per pod address and port: refusals are real (no listener, RST to
    /// the SYN). Needs one file descriptor per declared port.
    Dedicated,
    /// One socket per distinct port number, on every loopback address (wildcard bound
    /// to `lo`), dispatching connections by destination address. Costs a handful of
    /// descriptors for any number of pods, but a port that should refuse can only
    /// accept and reset at once: an HTTP or gRPC probe fails as it would on a refusal
    /// (with another error text), while a tcpSocket probe succeeds. Use it when the
    /// limit cannot be raised (no CAP_SYS_RESOURCE) and the pods do not rely on
    /// tcpSocket probes seeing refusals.
    Shared,
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The pods.
    pub pods: Vec<PodTarget>,
    /// Admin endpoint address (loopback only; port 0 picks one), if wanted.
    pub admin: Option<SocketAddr>,
    /// Where the exec state directories go: `<state_root>/<pod>/<container>/`.
    pub state_root: PathBuf,
    /// Added to every declared port when binding (for ports below 1024 without
    /// privileges).
    pub port_offset: u16,
    /// Start every container at once (else they wait for an admin `start`).
    pub start_containers: bool,
    /// Keep the state directories after shutdown.
    pub keep_state: bool,
    /// File descriptors to reserve beyond the listeners, for connections.
    pub connection_allowance: u64,
    /// Dedicated or shared listening sockets (see [`ListenMode`]).
    pub listen_mode: ListenMode,
}

impl ServeConfig {
    /// Defaults: no admin endpoint, state in [`default_state_root`], no port
    /// offset, containers started, state removed at shutdown, 8192 connections, listen
    /// mode auto.
    pub fn new(pods: Vec<PodTarget>) -> ServeConfig {
        ServeConfig {
            pods,
            admin: None,
            state_root: default_state_root(),
            port_offset: 0,
            start_containers: true,
            keep_state: false,
            connection_allowance: 8192,
            listen_mode: ListenMode::Auto,
        }
    }
}

/// `/dev/shm/probebench-targets-<pid>` where /dev/shm exists (tmpfs: the state files
/// change at every phase edge of every container and need no disk), else the same
/// name under the temp dir.
pub fn default_state_root() -> PathBuf {
    let name = format!("probebench-targets-{}", std::process::id());
    let shm = Path::new("/dev/shm");
    if shm.is_dir() { shm.join(name) } else { std::env::temp_dir().join(name) }
}

/// A served pod's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodAddress {
    /// Pod name.
    pub name: String,
    /// Its IP.
    pub ip: Ipv4Addr,
}

/// A pod's state as the admin endpoint shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodStatus {
    /// Pod name.
    pub name: String,
    /// Its IP.
    pub ip: Ipv4Addr,
    /// Its containers.
    pub containers: Vec<ContainerStatus>,
}

/// Counters of the serving process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Pods served.
    pub pods: usize,
    /// Containers served.
    pub containers: usize,
    /// Declared ports.
    pub ports: usize,
    /// Ports with a listening socket now.
    pub listening: usize,
    /// Connections open now.
    pub open_connections: u64,
    /// Events recorded so far.
    pub events: u64,
}

struct PodEntry {
    name: String,
    ip: Ipv4Addr,
    containers: Vec<usize>,
}

/// State shared by every task of the server.
pub(crate) struct Shared {
    containers: Vec<Arc<ContainerRt>>,
    pods: Vec<PodEntry>,
    pod_index: HashMap<String, usize>,
    events: EventLog,
    files: StateWriter,
    wake_tx: mpsc::UnboundedSender<Wake>,
    tls: TlsAcceptor,
    port_offset: u16,
    shutdown: watch::Sender<bool>,
    open_connections: AtomicU64,
    /// Shared mode: (pod ip, bound port) -> (container id, port index).
    by_address: HashMap<(Ipv4Addr, u16), (usize, usize)>,
}

impl Shared {
    fn env(&self) -> Env<'_> {
        Env { events: &self.events, files: &self.files, schedule: &self.wake_tx }
    }

    fn find(&self, pod: &str, container: &str) -> Result<&Arc<ContainerRt>, ControlError> {
        let p = self
            .pod_index
            .get(pod)
            .and_then(|i| self.pods.get(*i))
            .ok_or_else(|| ControlError::NoPod(pod.to_string()))?;
        p.containers
            .iter()
            .filter_map(|i| self.containers.get(*i))
            .find(|c| c.name == container)
            .ok_or_else(|| ControlError::NoContainer { pod: pod.to_string(), container: container.to_string() })
    }

    fn pod_status(&self, p: &PodEntry) -> PodStatus {
        PodStatus {
            name: p.name.clone(),
            ip: p.ip,
            containers: p.containers.iter().filter_map(|i| self.containers.get(*i)).map(|c| c.status()).collect(),
        }
    }
}

/// In-process control of the served containers (the admin endpoint is a thin JSON
/// layer over this).
#[derive(Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

impl Control {
    /// Every pod and its containers.
    pub fn pods(&self) -> Vec<PodStatus> {
        self.shared.pods.iter().map(|p| self.shared.pod_status(p)).collect()
    }

    /// One pod.
    pub fn pod(&self, name: &str) -> Result<PodStatus, ControlError> {
        let p = self
            .shared
            .pod_index
            .get(name)
            .and_then(|i| self.shared.pods.get(*i))
            .ok_or_else(|| ControlError::NoPod(name.to_string()))?;
        Ok(self.shared.pod_status(p))
    }

    /// One container.
    pub fn container(&self, pod: &str, container: &str) -> Result<ContainerStatus, ControlError> {
        Ok(self.shared.find(pod, container)?.status())
    }

    /// Stops a container: SIGTERM semantics per its behaviour, SIGKILL after `grace`.
    /// While stopped, its ports refuse.
    pub fn stop(&self, pod: &str, container: &str, grace: Duration) -> Result<ContainerStatus, ControlError> {
        let c = self.shared.find(pod, container)?;
        c.stop(&self.shared.env(), Instant::now(), grace);
        Ok(c.status())
    }

    /// Starts a new instance of a stopped or exited container (restart count +1; the
    /// timeline restarts).
    pub fn start(&self, pod: &str, container: &str) -> Result<ContainerStatus, ControlError> {
        let c = self.shared.find(pod, container)?;
        c.start(&self.shared.env(), Instant::now())?;
        Ok(c.status())
    }

    /// Replaces a container's behaviour live (see [`Behaviour::instance_from`]).
    pub fn replace_behaviour(
        &self,
        pod: &str,
        container: &str,
        behaviour: Behaviour,
    ) -> Result<ContainerStatus, ControlError> {
        let c = self.shared.find(pod, container)?;
        c.replace(&self.shared.env(), Instant::now(), behaviour);
        Ok(c.status())
    }

    /// Events after sequence number `after` (at most `limit`).
    pub fn events_after(&self, after: u64, limit: usize) -> EventBatch {
        self.shared.events.after(after, limit)
    }

    /// Like [`Self::events_after`], waiting up to `wait` for one to happen.
    pub async fn wait_events(&self, after: u64, limit: usize, wait: Duration) -> EventBatch {
        self.shared.events.wait_after(after, limit, wait).await
    }

    /// Process counters.
    pub fn stats(&self) -> Stats {
        let s = &self.shared;
        Stats {
            pods: s.pods.len(),
            containers: s.containers.len(),
            ports: s.containers.iter().map(|c| c.ports.len()).sum(),
            listening: s
                .containers
                .iter()
                .flat_map(|c| c.ports.iter())
                .filter(|p| p.bound.load(Ordering::Acquire))
                .count(),
            open_connections: s.open_connections.load(Ordering::Relaxed),
            events: s.events.last_seq(),
        }
    }
}

/// Running targets. Dropping it stops serving (without waiting); prefer
/// [`Targets::shutdown`].
pub struct Targets {
    shared: Arc<Shared>,
    admin: Option<SocketAddr>,
    pods: Vec<PodAddress>,
    tasks: Vec<JoinHandle<()>>,
    cert_pem: String,
    cert_der: Vec<u8>,
    listen_mode: ListenMode,
    state_root: PathBuf,
    created_root: bool,
    keep_state: bool,
}

impl Targets {
    /// The admin endpoint's address, if serving one.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin
    }

    /// The pods and their addresses, in configuration order.
    pub fn pods(&self) -> &[PodAddress] {
        &self.pods
    }

    /// In-process control.
    pub fn control(&self) -> Control {
        Control { shared: self.shared.clone() }
    }

    /// The HTTPS certificate (PEM), generated at start.
    pub fn tls_certificate_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The listening mode in force: [`ListenMode::Dedicated`] or
    /// [`ListenMode::Shared`].
    pub fn listen_mode(&self) -> ListenMode {
        self.listen_mode
    }

    /// The HTTPS certificate (DER).
    pub fn tls_certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Where the state directories are.
    pub fn state_root(&self) -> &Path {
        &self.state_root
    }

    /// Stops serving: closes every listener and connection, waits for the tasks, and
    /// removes the state directories unless asked to keep them.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.send_replace(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        self.shared.files.finish();
        if !self.keep_state {
            if self.created_root {
                let _ = std::fs::remove_dir_all(&self.state_root);
            } else {
                for p in &self.pods {
                    let _ = std::fs::remove_dir_all(self.state_root.join(&p.name));
                }
            }
        }
    }
}

impl Drop for Targets {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
    }
}

fn check_name(name: &str) -> Result<(), TargetsError> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(TargetsError::InvalidName { name: name.to_string() });
    }
    Ok(())
}

/// Per pod, per container, the (declared, bound) ports.
type Layout = Vec<Vec<Vec<(u16, u16)>>>;

/// Validates names and ports and computes the bound ports.
fn layout(config: &ServeConfig) -> Result<Layout, TargetsError> {
    let mut names = HashSet::new();
    let mut taken: HashMap<(Ipv4Addr, u16), String> = HashMap::new();
    let mut out = Vec::with_capacity(config.pods.len());
    for pod in &config.pods {
        check_name(&pod.name)?;
        if !names.insert(pod.name.as_str()) {
            return Err(TargetsError::DuplicatePod { name: pod.name.clone() });
        }
        let mut pod_ports = Vec::with_capacity(pod.containers.len());
        for c in &pod.containers {
            check_name(&c.name)?;
            let mut ports = Vec::with_capacity(c.ports.len());
            for &port in &c.ports {
                let actual = port.checked_add(config.port_offset).ok_or_else(|| TargetsError::PortOverflow {
                    pod: pod.name.clone(),
                    container: c.name.clone(),
                    port,
                    offset: config.port_offset,
                })?;
                let who = format!("{}/{}", pod.name, c.name);
                if let Some(other) = taken.insert((pod.ip, actual), who) {
                    return Err(TargetsError::DuplicatePort {
                        pod: pod.name.clone(),
                        container: c.name.clone(),
                        ip: pod.ip,
                        port,
                        other,
                    });
                }
                ports.push((port, actual));
            }
            pod_ports.push(ports);
        }
        out.push(pod_ports);
    }
    Ok(out)
}

fn check_binds(config: &ServeConfig, layout: &Layout) -> Result<(), TargetsError> {
    let mut failures = Vec::new();
    for (pod, pod_ports) in config.pods.iter().zip(layout) {
        for (c, ports) in pod.containers.iter().zip(pod_ports) {
            for &(_, actual) in ports {
                let addr = SocketAddr::new(IpAddr::V4(pod.ip), actual);
                if let Err(e) = listen::check_bind(addr) {
                    failures.push(TargetsError::Bind {
                        addr,
                        pod: pod.name.clone(),
                        container: c.name.clone(),
                        hint: listen::bind_hint(addr, &e),
                        source: e,
                    });
                }
            }
        }
    }
    let count = failures.len();
    match failures.into_iter().next() {
        None => Ok(()),
        Some(first) if count == 1 => Err(first),
        Some(first) => Err(TargetsError::ManyBinds { count, first: Box::new(first) }),
    }
}

/// Starts serving `config` in the current tokio runtime and returns at once; the
/// servers run until [`Targets::shutdown`].
pub async fn start(config: ServeConfig) -> Result<Targets, TargetsError> {
    let layout = layout(&config)?;
    let listeners: u64 = layout.iter().flatten().map(|p| p.len() as u64).sum();
    let distinct_ports: Vec<u16> = {
        let mut v: Vec<u16> = layout.iter().flatten().flatten().map(|&(_, a)| a).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mode = match config.listen_mode {
        ListenMode::Dedicated => {
            ensure_fd_limit(listeners, config.connection_allowance)?;
            ListenMode::Dedicated
        }
        ListenMode::Shared => {
            ensure_fd_limit(distinct_ports.len() as u64, config.connection_allowance)?;
            ListenMode::Shared
        }
        ListenMode::Auto => match ensure_fd_limit(listeners, config.connection_allowance) {
            Ok(_) => ListenMode::Dedicated,
            Err(e @ TargetsError::FdLimit { .. }) => {
                tracing::warn!(
                    "{e}; falling back to shared listeners ({} sockets): ports that should refuse will accept and reset",
                    distinct_ports.len()
                );
                ensure_fd_limit(distinct_ports.len() as u64, config.connection_allowance)?;
                ListenMode::Shared
            }
            Err(e) => return Err(e),
        },
    };
    let shared_listeners = match mode {
        ListenMode::Shared => bind_shared(&distinct_ports)?,
        _ => {
            check_binds(&config, &layout)?;
            Vec::new()
        }
    };

    let admin_listener = match config.admin {
        Some(addr) if !addr.ip().is_loopback() => return Err(TargetsError::AdminNotLoopback(addr)),
        Some(addr) => Some(listen::listen(addr).map_err(|source| TargetsError::Admin { addr, source })?),
        None => None,
    };
    let admin_addr = match &admin_listener {
        Some(l) => {
            Some(l.local_addr().map_err(|source| TargetsError::Io { context: "admin endpoint address", source })?)
        }
        None => None,
    };
    let (tls_config, cert_pem, cert_der) = tls::self_signed()?;

    let created_root = !config.state_root.exists();
    let mut containers = Vec::new();
    let mut pods = Vec::with_capacity(config.pods.len());
    let mut pod_index = HashMap::with_capacity(config.pods.len());
    for (pod, pod_ports) in config.pods.iter().zip(&layout) {
        let mut ids = Vec::with_capacity(pod.containers.len());
        for (c, ports) in pod.containers.iter().zip(pod_ports) {
            let dir = state_dir(&config.state_root, &pod.name, &c.name);
            std::fs::create_dir_all(&dir).map_err(|source| TargetsError::StateDir { path: dir.clone(), source })?;
            let ports = ports
                .iter()
                .map(|&(declared, actual)| PortRt {
                    declared,
                    actual,
                    want: watch::Sender::new(false),
                    bound: std::sync::atomic::AtomicBool::new(false),
                    shared: mode == ListenMode::Shared,
                    listener: std::sync::Mutex::new(None),
                })
                .collect();
            let id = containers.len();
            containers.push(Arc::new(ContainerRt::new(id, pod, c, ports, dir)));
            ids.push(id);
        }
        pod_index.insert(pod.name.clone(), pods.len());
        pods.push(PodEntry { name: pod.name.clone(), ip: pod.ip, containers: ids });
    }

    let mut by_address = HashMap::new();
    if mode == ListenMode::Shared {
        for c in &containers {
            for (idx, p) in c.ports.iter().enumerate() {
                by_address.insert((c.ip, p.actual), (c.id, idx));
            }
        }
    }
    let files = StateWriter::start()
        .map_err(|source| TargetsError::Io { context: "starting the state-file writer thread", source })?;
    let (wake_tx, wake_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        containers,
        pods,
        pod_index,
        events: EventLog::new(),
        files,
        wake_tx,
        tls: TlsAcceptor::from(tls_config),
        port_offset: config.port_offset,
        shutdown: watch::Sender::new(false),
        open_connections: AtomicU64::new(0),
        by_address,
    });

    let mut tasks = Vec::with_capacity(listeners as usize + 2);
    tasks.push(tokio::spawn(scheduler::run(shared.clone(), wake_rx, BinaryHeap::new())));
    if mode == ListenMode::Shared {
        for l in shared_listeners {
            tasks.push(tokio::spawn(shared_port_task(l, shared.clone())));
        }
    } else {
        for c in &shared.containers {
            for idx in 0..c.ports.len() {
                tasks.push(tokio::spawn(port_task(c.clone(), idx, shared.clone())));
            }
        }
    }
    if let Some(l) = admin_listener {
        let control = Control { shared: shared.clone() };
        tasks.push(tokio::spawn(admin::run(l, control, shared.shutdown.subscribe())));
    }
    if config.start_containers {
        let now = Instant::now();
        let env = shared.env();
        for c in &shared.containers {
            // A fresh container cannot be running yet.
            let _ = c.start(&env, now);
        }
    }
    settle(&shared, SETTLE_LIMIT).await;
    let pod_addresses = config.pods.iter().map(|p| PodAddress { name: p.name.clone(), ip: p.ip }).collect();
    Ok(Targets {
        shared,
        admin: admin_addr,
        pods: pod_addresses,
        tasks,
        cert_pem,
        cert_der,
        listen_mode: mode,
        state_root: config.state_root,
        created_root,
        keep_state: config.keep_state,
    })
}

/// How long `start` waits for the listeners to match the containers' first state.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

/// Waits until every port's socket is in the state its timeline wants (bound or not),
/// so that when `start` returns, a container that is up at once already accepts.
async fn settle(shared: &Shared, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let pending = shared
            .containers
            .iter()
            .flat_map(|c| c.ports.iter())
            .filter(|p| p.bound.load(Ordering::Acquire) != *p.want.borrow())
            .count();
        if pending == 0 {
            return;
        }
        if Instant::now() >= deadline {
            tracing::warn!(pending, "listeners still not in their wanted state");
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Serves until `shutdown` resolves.
pub async fn serve(config: ServeConfig, shutdown: impl Future<Output = ()>) -> Result<(), TargetsError> {
    let targets = start(config).await?;
    shutdown.await;
    targets.shutdown().await;
    Ok(())
}

/// Serves on a new multi-threaded runtime until SIGTERM or SIGINT. Writes `# admin
/// http://ADDR` (if any), one `<pod> <ip>` line per pod, then `# ready` to `out`.
pub fn serve_blocking(config: ServeConfig, out: &mut dyn Write) -> Result<(), TargetsError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| TargetsError::Io { context: "creating the tokio runtime", source })?;
    rt.block_on(async {
        let io = |source| TargetsError::Io { context: "writing the pod addresses", source };
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|source| TargetsError::Io { context: "installing the SIGTERM handler", source })?;
        let targets = start(config).await?;
        if let Some(a) = targets.admin_addr() {
            writeln!(out, "# admin http://{a}").map_err(io)?;
        }
        for p in targets.pods() {
            writeln!(out, "{} {}", p.name, p.ip).map_err(io)?;
        }
        writeln!(out, "# ready").map_err(io)?;
        out.flush().map_err(io)?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        targets.shutdown().await;
        Ok(())
    })
}

fn bind_shared(ports: &[u16]) -> Result<Vec<tokio::net::TcpListener>, TargetsError> {
    ports
        .iter()
        .map(|&port| {
            let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
            listen::listen_shared(port).map_err(|source| TargetsError::Bind {
                addr,
                pod: "*".to_string(),
                container: "* (shared listener on lo)".to_string(),
                hint: listen::bind_hint(addr, &source),
                source,
            })
        })
        .collect()
}

/// Shared mode: one listener per port number, dispatching by destination address.
/// A port that should not be listening gets accept + RST (the closest a shared socket
/// can come to a refusal).
async fn shared_port_task(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        tokio::select! {
            _ = until(&mut shutdown, true) => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let target = match stream.local_addr() {
                        Ok(SocketAddr::V4(a)) => shared.by_address.get(&(*a.ip(), a.port())).copied(),
                        _ => None,
                    };
                    let container = target.and_then(|(id, idx)| {
                        let c = shared.containers.get(id)?;
                        let up = *c.ports.get(idx)?.want.borrow();
                        up.then(|| (c.clone(), idx))
                    });
                    match container {
                        Some((c, idx)) => {
                            tokio::spawn(conn::serve_connection(stream, c, idx, shared.clone()));
                        }
                        None => {
                            let _ = stream.set_zero_linger();
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(port = ?listener.local_addr().ok(), "accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
}

/// Keeps one declared port's listening socket open or closed as the timeline says.
/// `refuse` must be a real refusal — a tcpSocket probe that is accepted and then reset
/// counts as success — so the socket is closed during the phase and bound again after.
async fn port_task(c: Arc<ContainerRt>, idx: usize, shared: Arc<Shared>) {
    let Some(port) = c.ports.get(idx) else {
        return;
    };
    let addr = SocketAddr::new(IpAddr::V4(c.ip), port.actual);
    let mut want = port.want.subscribe();
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        tokio::select! {
            ok = until(&mut want, true) => if !ok { return },
            _ = until(&mut shutdown, true) => return,
        }
        let listener = match listen::listen(addr) {
            Ok(l) => Arc::new(l),
            Err(e) => {
                tracing::warn!(%addr, pod = %c.pod, container = %c.name, "cannot listen: {e}");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => continue,
                    _ = until(&mut shutdown, true) => return,
                }
            }
        };
        *lock_listener(port) = Some(listener.clone());
        port.bound.store(true, Ordering::Release);
        // The container may have stopped wanting the port while we bound it.
        if !*want.borrow() {
            port.close_listener();
        }
        loop {
            tokio::select! {
                biased;
                _ = until(&mut shutdown, true) => return,
                ok = until(&mut want, false) => {
                    if !ok {
                        return;
                    }
                    break;
                }
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        tokio::spawn(conn::serve_connection(stream, c.clone(), idx, shared.clone()));
                    }
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!(%addr, "accept: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
            }
        }
        // Usually already shut down by the container (PortRt::close_now); dropping the
        // last handle closes the descriptor.
        port.close_listener();
        drop(listener);
    }
}

/// Waits until a watched flag equals `value`; false if its sender is gone. (Returns a
/// plain bool so no watch guard is held across other awaits.)
pub(crate) async fn until(rx: &mut watch::Receiver<bool>, value: bool) -> bool {
    rx.wait_for(|v| *v == value).await.is_ok()
}

fn lock_listener(port: &PortRt) -> std::sync::MutexGuard<'_, Option<Arc<tokio::net::TcpListener>>> {
    port.listener.lock().unwrap_or_else(|e| e.into_inner())
}
