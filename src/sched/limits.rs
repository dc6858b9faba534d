//! File descriptors and ephemeral ports: raise RLIMIT_NOFILE to the hard limit at start,
//! and refuse a plan that needs more than the machine allows, naming the numbers, before
//! anything runs.

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

/// Ports in net.ipv4.ip_local_port_range (28,232 with the default 32768–60999).
pub fn ephemeral_port_count() -> u64 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|v| v.parse::<u64>().ok());
            let lo = it.next()??;
            let hi = it.next()??;
            Some(hi.saturating_sub(lo) + 1)
        })
        .unwrap_or(28_232)
}

impl MachineLimits {
    /// Raise the fd limit and read the rest.
    pub fn raise_and_read() -> Self {
        let (nofile, nofile_hard) = raise_nofile();
        MachineLimits {
            nofile,
            nofile_hard,
            ephemeral_ports: ephemeral_port_count(),
            time_wait_s: 60,
            tw_reuse_loopback: std::fs::read_to_string("/proc/sys/net/ipv4/tcp_tw_reuse")
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
                .is_some_and(|v| v == 1 || v == 2),
        }
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

/// A plan the machine cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the plan needs {need} file descriptors in the prober but RLIMIT_NOFILE allows {limit} (hard limit {hard}): lower the concurrency bounds or raise the hard limit (ulimit -Hn)"
    )]
    ProberFds { need: u64, limit: u64, hard: u64 },
    #[error(
        "the targets need {need} file descriptors (listeners for {listeners} pod ports plus connections) but RLIMIT_NOFILE allows {limit}: run fewer pods or raise the hard limit (ulimit -Hn)"
    )]
    TargetsFds { need: u64, listeners: u64, limit: u64 },
    #[error(
        "the plan opens {rate} connections/s to one address, which needs {need} ephemeral ports over the {time_wait}s TIME_WAIT period, but net.ipv4.ip_local_port_range has {limit}"
    )]
    Ports { rate: u64, need: u64, time_wait: u64, limit: u64 },
}

/// Check `needs` against `limits`; every shortage is reported.
pub fn check(needs: &Needs, limits: &MachineLimits, listeners: u64) -> Result<(), Vec<Refusal>> {
    let mut out = Vec::new();
    if needs.prober_fds > limits.nofile {
        out.push(Refusal::ProberFds { need: needs.prober_fds, limit: limits.nofile, hard: limits.nofile_hard });
    }
    // The targets process raises its own soft limit to the same hard limit.
    if needs.targets_fds > limits.nofile_hard {
        out.push(Refusal::TargetsFds { need: needs.targets_fds, listeners, limit: limits.nofile_hard });
    }
    if !limits.tw_reuse_loopback && needs.busiest_destination_ports > limits.ephemeral_ports {
        out.push(Refusal::Ports {
            rate: needs.busiest_destination_conn_per_s,
            need: needs.busiest_destination_ports,
            time_wait: limits.time_wait_s,
            limit: limits.ephemeral_ports,
        });
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(nofile: u64) -> MachineLimits {
        MachineLimits {
            nofile,
            nofile_hard: nofile,
            ephemeral_ports: 28_232,
            time_wait_s: 60,
            tw_reuse_loopback: false,
        }
    }

    #[test]
    fn refuses_when_fds_are_short_naming_the_numbers() {
        let needs = Needs { prober_fds: 5_000, targets_fds: 3_000, ..Needs::default() };
        assert!(check(&needs, &limits(20_000), 2_000).is_ok());
        let errs = check(&needs, &limits(1_024), 2_000).unwrap_err();
        assert_eq!(errs.len(), 2);
        let text = errs[0].to_string();
        assert!(text.contains("5000") && text.contains("1024"), "{text}");
        assert!(errs[1].to_string().contains("2000 pod ports"));
    }

    #[test]
    fn refuses_when_one_destination_needs_too_many_ports() {
        let needs =
            Needs { busiest_destination_conn_per_s: 1_000, busiest_destination_ports: 60_000, ..Needs::default() };
        let errs = check(&needs, &limits(20_000), 0).unwrap_err();
        assert!(errs[0].to_string().contains("60000 ephemeral ports"));
        // With TIME_WAIT reuse for loopback (Linux's default), ports are not the limit.
        let reuse = MachineLimits { tw_reuse_loopback: true, ..limits(20_000) };
        assert!(check(&needs, &reuse, 0).is_ok());
    }

    #[test]
    fn raising_reaches_the_hard_limit() {
        let (soft, hard) = raise_nofile();
        assert_eq!(soft, hard);
    }
}
