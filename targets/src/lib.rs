//! Sample probe targets for probebench: the behaviour vocabulary and the servers that
//! act it out (HTTP(S), TCP and gRPC health), one process serving many pods.
//!
//! - [`behaviour`]: pure data and pure evaluation, shared with the simulator.
//! - [`addr`]: deterministic pod addresses on 127.0.0.0/8.

pub mod addr;
pub mod behaviour;
mod seed;

pub use addr::{MAX_PODS, PodIndexOutOfRange, pod_index, pod_ip};
pub use behaviour::{
    Behaviour, BehaviourError, BehaviourFile, Instance, Reply, ReplyKind, Request, parse_behaviour,
    parse_behaviour_file,
};
pub use seed::container_seed;
