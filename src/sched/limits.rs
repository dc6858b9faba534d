//! File descriptors and ephemeral ports: raise RLIMIT_NOFILE to the hard limit at start, and
//! the limits as the summary reports them. Reading the machine (`SystemFacts`) and checking
//! a plan against it is the preflight's job (`sched::preflight`).

use nix::sys::resource::{Resource, getrlimit, setrlimit};
use serde::Serialize;

/// The limits that bound a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MachineLimits {
    /// RLIMIT_NOFILE soft limit after raising (the hard limit, if raising worked).
    pub nofile: u64,
    pub nofile_hard: u64,
    /// Size of net.ipv4.ip_local_port_range.
    pub ephemeral_ports: u64,
    /// TIME_WAIT lasts this long on Linux (TCP_TIMEWAIT_LEN, not tunable).
    pub time_wait_s: u64,
    /// net.ipv4.tcp_tw_reuse: 1 everywhere, 2 (the default) for loopback connections, which
    /// is all probebench opens: an outgoing connect may then reuse a TIME_WAIT port, so
    /// TIME_WAIT does not consume the ephemeral range.
    pub tw_reuse_loopback: bool,
}

/// Raise the soft RLIMIT_NOFILE to the hard limit. Returns the limits in force.
pub fn raise_nofile() -> (u64, u64) {
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                (hard, hard)
            } else {
                (soft, hard)
            }
        }
        Err(_) => (1024, 1024),
    }
}

/// What a plan needs, estimated before it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Needs {
    /// Prober fds: sockets of probes in flight (the concurrency bounds of socket
    /// mechanisms), three pipes per exec in flight, and a fixed base for the runtime.
    pub prober_fds: u64,
    /// Targets process fds: one listener per (pod, declared port) plus connections in flight.
    pub targets_fds: u64,
    /// Connections per second to the busiest single destination (address:port).
    pub busiest_destination_conn_per_s: u64,
    /// Ephemeral ports that destination needs: connections in the TIME_WAIT period.
    pub busiest_destination_ports: u64,
}

/// fds the prober needs besides probes: runtime, epoll/timer/event fds per shard, files.
pub const BASE_FDS: u64 = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_reaches_the_hard_limit() {
        let (soft, hard) = raise_nofile();
        assert_eq!(soft, hard);
    }
}
