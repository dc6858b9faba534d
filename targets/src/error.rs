//! Faults of the targets themselves (not probe outcomes: a refused probe is data).

use std::net::SocketAddr;
use std::path::PathBuf;

use thiserror::Error;

/// Why the targets could not be served.
#[derive(Debug, Error)]
pub enum TargetsError {
    /// A listening address could not be bound.
    #[error("cannot listen on {addr} (pod {pod}, container {container}): {source}{hint}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The pod.
        pod: String,
        /// The container.
        container: String,
        /// The OS error.
        source: std::io::Error,
        /// What to do about it (starts with "; ").
        hint: String,
    },
    /// More addresses failed to bind than are worth listing one by one.
    #[error("{count} listening addresses could not be bound; the first: {first}")]
    ManyBinds {
        /// How many failed.
        count: usize,
        /// The first failure.
        first: Box<TargetsError>,
    },
    /// The open-file limit is too low and cannot be raised.
    #[error(
        "need {needed} open files ({listeners} listeners + {allowance} for connections), but RLIMIT_NOFILE is {soft} (hard {hard}) and raising it failed: {reason}; raise it with `ulimit -n {needed}` as root, or serve fewer pods per process"
    )]
    FdLimit {
        /// File descriptors needed.
        needed: u64,
        /// Listening sockets among them.
        listeners: u64,
        /// Room left for connections and files.
        allowance: u64,
        /// Current soft limit.
        soft: u64,
        /// Current hard limit.
        hard: u64,
        /// Why raising failed.
        reason: String,
    },
    /// Two containers declare the same address.
    #[error("pod {pod} container {container}: port {port} on {ip} is already declared by {other}")]
    DuplicatePort {
        /// The pod.
        pod: String,
        /// The container.
        container: String,
        /// The address.
        ip: std::net::Ipv4Addr,
        /// The port.
        port: u16,
        /// Who declared it first (pod/container).
        other: String,
    },
    /// A declared port plus the offset is beyond 65535.
    #[error("pod {pod} container {container}: port {port} + offset {offset} is beyond 65535")]
    PortOverflow {
        /// The pod.
        pod: String,
        /// The container.
        container: String,
        /// Declared port.
        port: u16,
        /// The offset.
        offset: u16,
    },
    /// A pod or container name unusable as a directory name.
    #[error(
        "invalid name {name:?}: pod and container names become directory names (no '/', not '.' or '..', not empty)"
    )]
    InvalidName {
        /// The name.
        name: String,
    },
    /// Two pods share a name.
    #[error("pod name {name:?} is used twice")]
    DuplicatePod {
        /// The name.
        name: String,
    },
    /// The state directory could not be prepared.
    #[error("state directory {path}: {source}")]
    StateDir {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The self-signed certificate could not be made.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// The admin endpoint could not listen.
    #[error("admin endpoint {addr}: {source}")]
    Admin {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The admin endpoint must be on loopback.
    #[error("admin endpoint {0} is not a loopback address")]
    AdminNotLoopback(SocketAddr),
    /// The parent died before the parent-death signal was armed.
    #[error("parent process {expected} is gone (parent is now {now})")]
    ParentGone {
        /// The parent we expected.
        expected: u32,
        /// Our parent now.
        now: u32,
    },
    /// A system call failed.
    #[error("{call}: {source}")]
    Sys {
        /// Which call.
        call: &'static str,
        /// The error.
        source: nix::Error,
    },
    /// Other I/O (runtime creation, writing the address list).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The error.
        source: std::io::Error,
    },
}
