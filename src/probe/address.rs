//! Where probes may go. probebench only probes loopback (127.0.0.0/8, ::1) unless the
//! user passes `--allow-remote`; the check runs after name resolution and again at every
//! redirect hop, so neither a probe's `host` nor a redirect leads off loopback by surprise.

use std::net::{IpAddr, SocketAddr};

/// A probe's host as written: an IP literal, resolved once, or a name, resolved at every
/// probe (as the kubelet's Go dialer does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostAddr {
    Ip(IpAddr),
    Name(String),
}

impl HostAddr {
    /// Parses a host as written in a probe or URL; IPv6 literals may carry brackets.
    pub fn parse(host: &str) -> HostAddr {
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        match bare.parse::<IpAddr>() {
            Ok(ip) => HostAddr::Ip(ip),
            Err(_) => HostAddr::Name(bare.to_owned()),
        }
    }
}

/// Whether an address is on this machine's loopback: 127.0.0.0/8, ::1, and the
/// IPv4-mapped form of 127.0.0.0/8 (which the kernel routes to loopback too).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// The loopback rule for one probe target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressPolicy {
    /// `--allow-remote`: any address may be probed.
    pub allow_remote: bool,
}

/// A target outside loopback without `--allow-remote`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "probebench refused to probe {addr}: not a loopback address (127.0.0.0/8, ::1); pass --allow-remote to allow it"
)]
pub struct NotLoopback {
    pub addr: SocketAddr,
}

impl AddressPolicy {
    pub fn check(&self, addr: SocketAddr) -> Result<(), NotLoopback> {
        if self.allow_remote || is_loopback(addr.ip()) { Ok(()) } else { Err(NotLoopback { addr }) }
    }
}

/// Why a name gave no usable address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// Go's resolver wording: `lookup <name>: no such host` (the kubelet's text also names
    /// the DNS server, which probebench does not know).
    #[error("dial tcp: lookup {name}: no such host")]
    NoSuchHost { name: String },
    #[error(transparent)]
    NotLoopback(#[from] NotLoopback),
}

/// Resolves a host to the address to dial, applying the loopback rule to what the name
/// resolved to. Names take the first acceptable address, as Go's dialer tries them in order.
pub async fn resolve(host: &HostAddr, port: u16, policy: AddressPolicy) -> Result<SocketAddr, LookupError> {
    match host {
        HostAddr::Ip(ip) => {
            let addr = SocketAddr::new(*ip, port);
            policy.check(addr)?;
            Ok(addr)
        }
        HostAddr::Name(name) => {
            let found: Vec<SocketAddr> = match tokio::net::lookup_host((name.as_str(), port)).await {
                Ok(addrs) => addrs.collect(),
                Err(_) => Vec::new(),
            };
            pick(name, found, policy)
        }
    }
}

/// The blocking variant of [`resolve`], for configuration time.
pub fn resolve_now(host: &HostAddr, port: u16, policy: AddressPolicy) -> Result<SocketAddr, LookupError> {
    match host {
        HostAddr::Ip(ip) => {
            let addr = SocketAddr::new(*ip, port);
            policy.check(addr)?;
            Ok(addr)
        }
        HostAddr::Name(name) => {
            use std::net::ToSocketAddrs as _;
            let found: Vec<SocketAddr> = match (name.as_str(), port).to_socket_addrs() {
                Ok(addrs) => addrs.collect(),
                Err(_) => Vec::new(),
            };
            pick(name, found, policy)
        }
    }
}

fn pick(name: &str, found: Vec<SocketAddr>, policy: AddressPolicy) -> Result<SocketAddr, LookupError> {
    let first = *found.first().ok_or_else(|| LookupError::NoSuchHost { name: name.to_owned() })?;
    found
        .into_iter()
        .find(|addr| policy.check(*addr).is_ok())
        .ok_or(LookupError::NotLoopback(NotLoopback { addr: first }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_ranges() {
        for ok in ["127.0.0.1", "127.77.3.4", "::1", "::ffff:127.0.0.9"] {
            assert!(is_loopback(ok.parse().unwrap()), "{ok}");
        }
        for no in ["10.0.0.5", "192.168.1.1", "::", "0.0.0.0", "fe80::1", "::ffff:10.0.0.1"] {
            assert!(!is_loopback(no.parse().unwrap()), "{no}");
        }
    }

    #[test]
    fn policy_refuses_remote_unless_allowed() {
        let remote: SocketAddr = "10.1.2.3:80".parse().unwrap();
        assert!(AddressPolicy::default().check(remote).is_err());
        assert!(AddressPolicy { allow_remote: true }.check(remote).is_ok());
    }

    #[test]
    fn names_are_checked_after_resolution() {
        let policy = AddressPolicy::default();
        let got = resolve_now(&HostAddr::parse("localhost"), 80, policy).unwrap();
        assert!(is_loopback(got.ip()));
        assert_eq!(resolve_now(&HostAddr::parse("[::1]"), 80, policy).unwrap(), "[::1]:80".parse().unwrap());
        assert!(matches!(resolve_now(&HostAddr::parse("10.0.0.1"), 80, policy), Err(LookupError::NotLoopback(_))));
    }
}
