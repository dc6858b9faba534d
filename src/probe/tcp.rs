//! tcpSocket probes: connect within the timeout, then close. Success has an empty output;
//! any dial error is a failure worded as Go's dialer words it
//! (pkg/probe/tcp/tcp.go DoTCPProbe, pkg/probe/dialer_others.go ProbeDialer).

use std::time::{Duration, Instant};

use super::address::{self, AddressPolicy, HostAddr, LookupError};
use super::outcome::{Outcome, Timings};
use super::socket::{LingerMode, dial, micros_since};

/// A resolved tcpSocket probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpTarget {
    pub host: HostAddr,
    pub port: u16,
    pub linger: LingerMode,
    pub policy: AddressPolicy,
}

pub async fn run(target: &TcpTarget, timeout: Duration) -> Outcome {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut timings = Timings::default();
    let lookup = tokio::time::timeout_at(deadline, address::resolve(&target.host, target.port, target.policy)).await;
    let addr = match lookup {
        Ok(Ok(addr)) => addr,
        Ok(Err(LookupError::NotLoopback(refused))) => {
            return Outcome::errored(refused.to_string()).with_timings(total(timings, start));
        }
        Ok(Err(e)) => return Outcome::failure(e.to_string()).with_timings(total(timings, start)),
        Err(_) => {
            return Outcome::failure(format!("dial tcp: lookup {}: i/o timeout", host_text(&target.host)))
                .with_timings(total(timings, start));
        }
    };
    match dial(addr, target.linger, deadline).await {
        Ok(stream) => {
            timings.connect_us = Some(micros_since(start));
            // Close at once, as the kubelet does; a server that closes first is still
            // healthy (the connect succeeded).
            drop(stream);
            Outcome::success(String::new()).with_timings(total(timings, start))
        }
        Err(e) => Outcome::failure(e.text).with_timings(total(timings, start)),
    }
}

fn host_text(host: &HostAddr) -> String {
    match host {
        HostAddr::Ip(ip) => ip.to_string(),
        HostAddr::Name(name) => name.clone(),
    }
}

fn total(mut timings: Timings, start: Instant) -> Timings {
    timings.total_us = micros_since(start);
    timings
}
