//! Sample probe targets for probebench: the behaviour vocabulary and the servers that
//! act it out (HTTP(S), TCP and gRPC health), one process serving many pods.
//!
//! - [`behaviour`]: pure data and pure evaluation, shared with the simulator.
//! - [`addr`]: deterministic pod addresses on 127.0.0.0/8.
//! - [`server`]: the servers, the admin endpoint and the exec state directories.
//! - [`health_probe()`]: a grpc_health_probe-like client.
//! - [`die_with_parent`], [`ensure_fd_limit`]: process plumbing.
//!
//! See docs/behaviours.md.

pub mod addr;
pub mod behaviour;
mod error;
mod health_probe;
mod process;
mod seed;
pub mod server;

pub use addr::{MAX_PODS, PodIndexOutOfRange, max_pods, pod_index, pod_ip};
pub use behaviour::{
    Behaviour, BehaviourError, BehaviourFile, Instance, Reply, ReplyKind, Request, parse_behaviour,
    parse_behaviour_file,
};
pub use error::TargetsError;
pub use health_probe::{HealthProbeResult, health_probe};
pub use process::{die_with_parent, ensure_fd_limit};
pub use seed::container_seed;
pub use server::{ContainerTarget, Control, ListenMode, PodTarget, ServeConfig, Targets, serve, serve_blocking, start};
