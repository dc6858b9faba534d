//! One accepted connection: the connection-level behaviour (close, reset), then the
//! protocol sniffed from the first bytes — TLS ClientHello (0x16) -> HTTPS, the HTTP/2
//! preface `PRI ` -> gRPC, anything else -> HTTP/1.1. A connection that sends nothing
//! and closes (a tcpSocket probe) was simply accepted. So manifests need no per-port
//! protocol declaration.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::Shared;
use super::conn_io::{ConnCtl, Prefixed};
use super::container::ContainerRt;
use super::{grpc, http};
use crate::behaviour::{ReplyKind, Request};

/// What protocol handlers need to know about their connection.
pub(crate) struct ConnInfo {
    pub container: Arc<ContainerRt>,
    /// Declared port (behaviours name these).
    pub declared: u16,
    /// Bound port (Location headers use these).
    pub actual: u16,
    pub port_offset: u16,
    pub ctl: Arc<ConnCtl>,
}

struct OpenGuard<'a>(&'a std::sync::atomic::AtomicU64);

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Reads the first bytes, just enough to tell the protocols apart. None: the peer
/// closed without sending anything.
async fn sniff(stream: &mut TcpStream) -> Option<Vec<u8>> {
    const PREFACE: &[u8; 4] = b"PRI ";
    let mut buf = [0u8; 4];
    let mut n = 0;
    while n < buf.len() {
        let k = stream.read(&mut buf[n..]).await.ok()?;
        if k == 0 {
            break;
        }
        n += k;
        if buf[..n] != PREFACE[..n] {
            break;
        }
    }
    (n > 0).then(|| buf[..n].to_vec())
}

pub(crate) async fn serve_connection(
    mut stream: TcpStream,
    container: Arc<ContainerRt>,
    port_idx: usize,
    shared: Arc<Shared>,
) {
    shared.open_connections.fetch_add(1, Ordering::Relaxed);
    let _open = OpenGuard(&shared.open_connections);
    // Without TCP_NODELAY each fresh-connection gRPC check pays ~40 ms of Nagle delay
    // (the HTTP/2 SETTINGS ack and the response headers go out as small writes).
    let _ = stream.set_nodelay(true);
    let Some(port) = container.ports.get(port_idx) else {
        return;
    };
    let (declared, actual) = (port.declared, port.actual);
    match container.respond(&Request::Tcp { port: declared }).kind {
        ReplyKind::Refuse | ReplyKind::Reset => {
            let _ = stream.set_zero_linger();
            return;
        }
        ReplyKind::Close => return,
        _ => {}
    }
    let ctl = Arc::new(ConnCtl::default());
    let info = Arc::new(ConnInfo { container, declared, actual, port_offset: shared.port_offset, ctl: ctl.clone() });
    let tls = shared.tls.clone();
    let work = async move {
        let Some(prefix) = sniff(&mut stream).await else {
            return;
        };
        let first = prefix[0];
        let is_h2 = prefix.as_slice() == b"PRI ";
        let io = Prefixed::new(stream, prefix, info.ctl.clone());
        if first == 0x16 {
            if let Ok(tls_stream) = tls.accept(io).await {
                http::serve(tls_stream, info, "https").await;
            }
        } else if is_h2 {
            grpc::serve(io, info).await;
        } else {
            http::serve(io, info, "http").await;
        }
    };
    let mut shutdown = shared.shutdown.subscribe();
    tokio::select! {
        _ = work => {}
        _ = ctl.aborted() => {}
        _ = super::until(&mut shutdown, true) => {}
    }
}
