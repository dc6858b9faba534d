//! The pod lifecycle in real time (`probebench run` with `lifecycle: true`, the default for
//! plain manifests): the kubelet core that `simulate` runs on a virtual clock, here on the
//! real clock against the sample targets — failed liveness and startup probes really stop
//! the container in the targets process (SIGTERM, the grace, SIGKILL), the next instance
//! starts after the crash-loop back-off, and events and `kubectl get pods --watch` lines
//! stream as they happen.

pub mod admin;
pub mod driver;
pub mod output;

pub use admin::{Admin, AdminError};
pub use driver::{LifecycleError, LifecycleSetup, run};
pub use output::{LifecycleOutput, LifecycleSummary};
