//! Deterministic pod addresses on the loopback network.
//!
//! Pod `i` (0-based, scenario order) gets `127.(1 + i/65536).((i/256)%256).(i%256)`.
//! `PROBEBENCH_POD_NET=127.N.0.0` (N ≥ 1) moves the range to start at `127.N.0.0`, so two
//! runs (or tests) on one machine keep out of each other's addresses; every part of
//! probebench (targets, prober, simulator texts) reads the same setting, and a child
//! process inherits it.
//! The scheme stays out of 127.0.0.0/24, where local services (resolvers, databases,
//! the admin endpoint) live, and gives about 16 million distinct addresses. On Linux the
//! whole 127.0.0.0/8 is routed to `lo`, so any of them can be bound without configuring
//! an address first.

use std::net::Ipv4Addr;

use thiserror::Error;

/// The number of pods the scheme can address: second octets 1..=255.
pub const MAX_PODS: u32 = 255 * 65536;

/// A pod index beyond what the scheme can address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("pod index {index} is beyond the {MAX_PODS} loopback addresses the pod address scheme provides")]
pub struct PodIndexOutOfRange {
    /// The index that was asked for.
    pub index: u32,
}

/// The environment variable that moves the pod range.
pub const POD_NET_ENV: &str = "PROBEBENCH_POD_NET";

/// The second octet pod addresses start at (1 unless `PROBEBENCH_POD_NET` says otherwise;
/// an unusable value is ignored with a warning, once).
pub fn pod_net_base() -> u8 {
    static BASE: std::sync::OnceLock<u8> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| match std::env::var(POD_NET_ENV) {
        Err(_) => 1,
        Ok(v) => parse_pod_net(&v).unwrap_or_else(|| {
            tracing::warn!("{POD_NET_ENV}={v:?} is not 127.N.0.0 with N from 1 to 255; using 127.1.0.0");
            1
        }),
    })
}

/// `127.N.0.0` → N (1..=255).
pub fn parse_pod_net(v: &str) -> Option<u8> {
    let ip: Ipv4Addr = v.trim().parse().ok()?;
    match ip.octets() {
        [127, n, 0, 0] if n >= 1 => Some(n),
        _ => None,
    }
}

/// Pods addressable from where the range starts now ([`MAX_PODS`] by default; fewer when
/// `PROBEBENCH_POD_NET` moves the start up).
pub fn max_pods() -> u32 {
    max_pods_from(pod_net_base())
}

/// Pods addressable from `base`.
fn max_pods_from(base: u8) -> u32 {
    (256 - u32::from(base)) * 65536
}

/// The loopback address of pod `index` (0-based, in scenario order).
pub fn pod_ip(index: u32) -> Result<Ipv4Addr, PodIndexOutOfRange> {
    pod_ip_from(pod_net_base(), index)
}

fn pod_ip_from(base: u8, index: u32) -> Result<Ipv4Addr, PodIndexOutOfRange> {
    if index >= max_pods_from(base) {
        return Err(PodIndexOutOfRange { index });
    }
    // base + index/65536 <= 255 because index < (256 - base) * 65536.
    let second = (u32::from(base) + index / 65536) as u8;
    let third = ((index / 256) % 256) as u8;
    let fourth = (index % 256) as u8;
    Ok(Ipv4Addr::new(127, second, third, fourth))
}

/// The inverse of [`pod_ip`]: which pod index an address belongs to, if any.
pub fn pod_index(ip: Ipv4Addr) -> Option<u32> {
    let base = pod_net_base();
    let [a, b, c, d] = ip.octets();
    if a != 127 || b < base {
        return None;
    }
    Some(u32::from(b - base) * 65536 + u32::from(c) * 256 + u32::from(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_can_move() {
        assert_eq!(parse_pod_net("127.40.0.0"), Some(40));
        assert_eq!(parse_pod_net("127.0.0.0"), None, "127.0.0.0/16 is for local services");
        assert_eq!(parse_pod_net("10.1.0.0"), None);
        assert_eq!(pod_ip_from(40, 0).unwrap(), Ipv4Addr::new(127, 40, 0, 0));
        assert_eq!(pod_ip_from(40, 65536).unwrap(), Ipv4Addr::new(127, 41, 0, 0));
        assert!(pod_ip_from(255, 65536).is_err());
    }

    #[test]
    fn first_pods_and_boundaries() {
        assert_eq!(pod_ip(0).unwrap(), Ipv4Addr::new(127, 1, 0, 0));
        assert_eq!(pod_ip(1).unwrap(), Ipv4Addr::new(127, 1, 0, 1));
        assert_eq!(pod_ip(256).unwrap(), Ipv4Addr::new(127, 1, 1, 0));
        assert_eq!(pod_ip(65535).unwrap(), Ipv4Addr::new(127, 1, 255, 255));
        assert_eq!(pod_ip(65536).unwrap(), Ipv4Addr::new(127, 2, 0, 0));
        assert_eq!(pod_ip(MAX_PODS - 1).unwrap(), Ipv4Addr::new(127, 255, 255, 255));
        assert_eq!(pod_ip(MAX_PODS), Err(PodIndexOutOfRange { index: MAX_PODS }));
    }

    #[test]
    fn never_in_127_0_0_0_24_and_invertible() {
        for i in (0..MAX_PODS).step_by(9973).chain([0, 255, 256, MAX_PODS - 1]) {
            let ip = pod_ip(i).unwrap();
            assert!(ip.is_loopback());
            assert_ne!(ip.octets()[1], 0, "{ip} is in 127.0.0.0/16");
            assert_eq!(pod_index(ip), Some(i));
        }
        assert_eq!(pod_index(Ipv4Addr::new(127, 0, 0, 1)), None);
        assert_eq!(pod_index(Ipv4Addr::new(10, 1, 0, 0)), None);
    }
}
