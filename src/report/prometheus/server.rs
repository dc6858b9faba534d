//! A tiny HTTP/1 server for the live metrics: `GET /metrics` renders the registry, any
//! other path is 404, any other method on /metrics 405. It runs on its own thread with a
//! one-thread tokio runtime, so it never competes with the probe runtime's workers, and it
//! stops when the [`MetricsServer`] is dropped.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use super::registry::Registry;
use super::text::CONTENT_TYPE;

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error(
        "refusing to serve metrics on {addr}: not a loopback address (bind 127.0.0.1 or ::1, or allow remote access explicitly)"
    )]
    NotLoopback { addr: SocketAddr },
    #[error("cannot listen for metrics on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot start the metrics server: {0}")]
    Start(std::io::Error),
}

/// A running metrics endpoint; dropping it stops the server and waits for its thread.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// The address actually bound (the port, when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serve `registry` at `http://addr/metrics`. Only loopback addresses unless
/// `allow_remote` (the metrics name pods and containers; nothing else on the network
/// should see them by accident).
pub fn start(addr: SocketAddr, registry: Arc<Registry>, allow_remote: bool) -> Result<MetricsServer, MetricsError> {
    if !allow_remote && !addr.ip().is_loopback() {
        return Err(MetricsError::NotLoopback { addr });
    }
    // Bind here, synchronously, so a busy port is the caller's error and the bound port
    // is known before this returns.
    let listener = std::net::TcpListener::bind(addr).map_err(|source| MetricsError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(|source| MetricsError::Bind { addr, source })?;
    listener.set_nonblocking(true).map_err(MetricsError::Start)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().map_err(MetricsError::Start)?;
    let (stop_tx, stop_rx) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("metrics-http".into())
        .spawn(move || runtime.block_on(serve(listener, registry, stop_rx)))
        .map_err(MetricsError::Start)?;
    Ok(MetricsServer { addr: local, stop: Some(stop_tx), thread: Some(thread) })
}

async fn serve(listener: std::net::TcpListener, registry: Arc<Registry>, mut stop: oneshot::Receiver<()>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("metrics server: {e}");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let registry = Arc::clone(&registry);
                tokio::spawn(async move {
                    let svc = service_fn(move |req| respond(req, Arc::clone(&registry)));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        }
    }
    // Returning drops the runtime's remaining connection tasks with it.
}

async fn respond(req: Request<Incoming>, registry: Arc<Registry>) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: StatusCode, content_type: &'static str, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
        r
    };
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => reply(StatusCode::OK, CONTENT_TYPE, registry.render()),
        (_, "/metrics") => reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "only GET\n".into()),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found: the metrics are at /metrics\n".into()),
    })
}
