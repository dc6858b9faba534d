//! Shared test helpers: serve pods on per-test loopback addresses, real clients.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use probebench_targets::{ContainerTarget, PodTarget, ServeConfig, Targets, parse_behaviour};
use tokio::net::TcpStream;

/// Each test file picks its own second octet (127.<file>.<test>.<pod>), so files and
/// tests run in parallel without sharing an address.
pub fn ip(file: u8, test: u8, pod: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, file, test, pod)
}

/// A pod with one container `app` on `ports`, behaving as `yaml`.
pub fn pod(name: &str, ip: Ipv4Addr, ports: &[u16], yaml: &str) -> PodTarget {
    PodTarget {
        name: name.to_string(),
        ip,
        containers: vec![ContainerTarget {
            name: "app".to_string(),
            ports: ports.to_vec(),
            behaviour: parse_behaviour(yaml).unwrap(),
            seed: 1,
        }],
    }
}

pub fn config(test: &str, pods: Vec<PodTarget>) -> ServeConfig {
    let mut c = ServeConfig::new(pods);
    c.state_root = std::env::temp_dir().join(format!("probebench-targets-test-{}-{test}", std::process::id()));
    c.connection_allowance = 1024;
    c
}

pub async fn serve(test: &str, pods: Vec<PodTarget>) -> Targets {
    probebench_targets::start(config(test, pods)).await.unwrap()
}

pub fn addr(ip: Ipv4Addr, port: u16) -> SocketAddr {
    SocketAddr::new(ip.into(), port)
}

pub struct HttpReply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// One GET on a fresh connection, like a kubelet httpGet probe.
pub async fn get_on<S>(stream: S, host: &str, path: &str) -> std::io::Result<HttpReply>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(io_err)?;
    tokio::spawn(conn);
    let req = http::Request::get(path)
        .header(http::header::HOST, host)
        .header(http::header::USER_AGENT, "kube-probe/1.35")
        .header(http::header::CONNECTION, "close")
        .body(Empty::<Bytes>::new())
        .map_err(io_err)?;
    let resp = sender.send_request(req).await.map_err(io_err)?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.map_err(io_err)?.to_bytes();
    Ok(HttpReply { status, headers, body })
}

pub async fn get(addr: SocketAddr, path: &str) -> std::io::Result<HttpReply> {
    let stream = TcpStream::connect(addr).await?;
    get_on(stream, &addr.to_string(), path).await
}

/// Polls `f` every 20 ms until it returns true, for at most `limit` (generous: the
/// machine may be loaded). Returns whether it did.
pub async fn eventually<F, Fut>(limit: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if f().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn tls_connector(der: &[u8]) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(der.to_vec())).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}
