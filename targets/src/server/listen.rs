//! Listening sockets: large backlog, SO_REUSEADDR, and bind errors that name the fix.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// Accept backlog. The kernel default of 128 overflows under connect storms (thousands
/// of probes due in the same millisecond), and an overflowed SYN is retried only after
/// a 1 s timeout — which would show up as a 1 s probe latency. (Capped by
/// net.core.somaxconn, 4096 on current kernels.)
pub const BACKLOG: u32 = 4096;

/// Binds and listens. SO_REUSEADDR lets a port closed for a `refuse` phase be bound
/// again at once, despite connections of the previous socket in TIME_WAIT.
pub(crate) fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Binds without listening, to check an address at start (before the containers are
/// up, which may be seconds later).
pub(crate) fn check_bind(addr: SocketAddr) -> io::Result<()> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)
}

/// What to do about a bind error, for the message (starts with "; ").
pub(crate) fn bind_hint(addr: SocketAddr, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied if addr.port() < 1024 => {
            let unprivileged = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "1024".to_string());
            format!(
                "; ports below {unprivileged} need root or CAP_NET_BIND_SERVICE (e.g. `sudo setcap cap_net_bind_service=+ep <binary>`), or lower net.ipv4.ip_unprivileged_port_start; or pass --port-offset N (e.g. 10000) to serve port P on P+N"
            )
        }
        io::ErrorKind::AddrInUse => {
            "; another process listens there (choose another --port-offset, or stop it)".to_string()
        }
        io::ErrorKind::AddrNotAvailable => {
            "; this system routes only some loopback addresses to lo: add them (Linux routes all of 127.0.0.0/8 by default; on macOS `ifconfig lo0 alias <ip>`)".to_string()
        }
        _ => String::new(),
    }
}

/// A listener for port `port` on every loopback address at once: bound to the wildcard
/// address but restricted to the `lo` device (SO_BINDTODEVICE), so nothing outside the
/// machine can reach it. Used when one socket per pod address does not fit the
/// open-file limit; connections are dispatched by their destination address.
pub(crate) fn listen_shared(port: u16) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    nix::sys::socket::setsockopt(&socket, nix::sys::socket::sockopt::BindToDevice, &std::ffi::OsString::from("lo"))
        .map_err(io::Error::from)?;
    socket.bind(SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), port))?;
    socket.listen(BACKLOG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_port_hint_names_the_fixes() {
        let addr: SocketAddr = "127.1.0.0:80".parse().unwrap();
        let e = io::Error::from(io::ErrorKind::PermissionDenied);
        let hint = bind_hint(addr, &e);
        assert!(hint.contains("CAP_NET_BIND_SERVICE"), "{hint}");
        assert!(hint.contains("--port-offset"), "{hint}");
        assert!(hint.contains("ip_unprivileged_port_start"), "{hint}");
        // A high port has no privilege hint.
        let high: SocketAddr = "127.1.0.0:8080".parse().unwrap();
        assert!(bind_hint(high, &e).is_empty());
    }
}
