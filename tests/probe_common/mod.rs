//! Minimal in-process probe targets for the probe tests and benches: an HTTP(S) server with
//! scripted paths, raw TCP servers that misbehave on purpose, a gRPC health server, and a
//! listener whose connects hang. Everything binds 127.0.0.1 port 0 and lives on the
//! caller's tokio runtime.

#![allow(dead_code)] // each test binary uses a different subset

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use probebench::probe::{self, Mechanism, Outcome, PodContext, ProbeOptions, Prober, ResolvedProbe};
use probebench::spec::{
    Container, ContainerPort, EnvVar, ExecAction, GrpcAction, Handler, HttpGetAction, HttpHeader, IntOrString, Probe,
    TcpSocketAction,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

pub const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A background server; stopped when dropped.
pub struct Server {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// A listener with a deep accept queue (capped by net.core.somaxconn): under a flood of
/// probes a momentarily busy target must not drop SYNs, which would turn into 1 s connect
/// retries and fake timeouts.
pub fn listen(ip: IpAddr) -> TcpListener {
    let socket = match ip {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    }
    .unwrap();
    socket.bind((ip, 0).into()).unwrap();
    socket.listen(4096).unwrap()
}

/// An address nothing listens on: bound, then released.
pub async fn unused_addr() -> SocketAddr {
    let listener = TcpListener::bind((LOCALHOST, 0)).await.unwrap();
    listener.local_addr().unwrap()
}

// ---------------------------------------------------------------- HTTP

/// The scripted HTTP server. Paths:
/// - `/ok`: 200 `ok`; `/status/N`: status N with body `body of N`
/// - `/redirect/N`: 302 to `http://127.0.0.1:<port>/redirect/N-1`, `/redirect/0` answers
///   200 `arrived`; `/relative/N`: the same chain with relative Locations
/// - `/loop`: 302 to itself (absolute URL)
/// - `/to-other-host`: 302 to `http://localhost:<port>/ok`, body `moved away`
/// - `/to-port/P`: 302 to `http://127.0.0.1:P/ok`
/// - `/found-no-location`: 302 without Location, body `nowhere`
/// - `/big`: 200 with 64 KiB of `x`
/// - `/headers`: 200, body = the request's header lines `name: value`, in order
/// - `/echo-uri`: 200, body = the request target (path and query)
/// - `/slow-headers`: answers after 30 s
pub async fn http_server() -> Server {
    serve_http(LOCALHOST, None).await
}

/// [`http_server`] on a given loopback address.
pub async fn http_server_on(ip: IpAddr) -> Server {
    serve_http(ip, None).await
}

/// The same server over TLS with a fresh self-signed certificate.
pub async fn https_server() -> Server {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    serve_http(LOCALHOST, Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))).await
}

async fn serve_http(ip: IpAddr, tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
    let listener = listen(ip);
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(req, addr));
                let builder = hyper::server::conn::http1::Builder::new();
                match tls {
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                    }
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                }
            });
        }
    });
    Server { addr, task }
}

fn reply(status: u16, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder().status(status).body(Full::new(body.into())).unwrap()
}

fn redirect(status: u16, location: &str, body: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Location", location)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

async fn handle(req: Request<hyper::body::Incoming>, addr: SocketAddr) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let port = addr.port();
    let response = if path == "/ok" {
        reply(200, "ok")
    } else if let Some(code) = path.strip_prefix("/status/") {
        let code: u16 = code.parse().unwrap_or(500);
        reply(code, format!("body of {code}"))
    } else if let Some(n) = path.strip_prefix("/redirect/") {
        match n.parse::<u32>().unwrap_or(0) {
            0 => reply(200, "arrived"),
            n => redirect(302, &format!("http://127.0.0.1:{port}/redirect/{}", n - 1), "hop"),
        }
    } else if let Some(n) = path.strip_prefix("/relative/") {
        match n.parse::<u32>().unwrap_or(0) {
            0 => reply(200, "arrived"),
            n => redirect(302, &format!("/relative/{}", n - 1), "hop"),
        }
    } else if path == "/loop" {
        redirect(302, &format!("http://127.0.0.1:{port}/loop"), "again")
    } else if path == "/to-other-host" {
        redirect(302, &format!("http://localhost:{port}/ok"), "moved away")
    } else if let Some(p) = path.strip_prefix("/to-port/") {
        redirect(301, &format!("http://127.0.0.1:{p}/ok"), "elsewhere")
    } else if path == "/found-no-location" {
        reply(302, "nowhere")
    } else if path == "/big" {
        reply(200, vec![b'x'; 64 * 1024])
    } else if path == "/headers" {
        let mut lines = String::new();
        for (name, value) in req.headers() {
            lines.push_str(&format!("{}: {}\n", name, value.to_str().unwrap_or("?")));
        }
        reply(200, lines)
    } else if path == "/echo-uri" {
        reply(200, req.uri().to_string())
    } else if path == "/slow-headers" {
        tokio::time::sleep(Duration::from_secs(30)).await;
        reply(200, "late")
    } else {
        reply(404, "not found")
    };
    Ok(response)
}

// ---------------------------------------------------------------- raw TCP

/// Servers that break HTTP in one specific way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raw {
    /// Read the request, close without answering.
    Eof,
    /// Read the request, abort the connection (RST).
    Reset,
    /// Accept and never say anything.
    Hang,
    /// Accept, never say anything, close when the client does (no fd outlives the probe).
    Silent,
    /// Accept and close at once, without reading.
    CloseAtOnce,
    /// Answer 200 with Content-Length 100 and 3 bytes, then hang.
    SlowBody,
    /// Answer 200 with Content-Length 100 and 10 bytes, then close.
    ShortBody,
    /// Answer with something that is not HTTP.
    Garbage,
}

pub async fn raw_server(behaviour: Raw) -> Server {
    raw_server_on(LOCALHOST, behaviour).await
}

/// [`raw_server`] on a given loopback address.
pub async fn raw_server_on(ip: IpAddr, behaviour: Raw) -> Server {
    let listener = listen(ip);
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(raw_connection(stream, behaviour));
        }
    });
    Server { addr, task }
}

async fn read_head(stream: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

async fn raw_connection(mut stream: TcpStream, behaviour: Raw) {
    match behaviour {
        Raw::CloseAtOnce => {}
        Raw::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Raw::Silent => {
            let mut buf = [0u8; 1024];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }
        Raw::Eof => read_head(&mut stream).await,
        Raw::Reset => {
            read_head(&mut stream).await;
            let _ = stream.set_zero_linger();
        }
        Raw::SlowBody => {
            read_head(&mut stream).await;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc").await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Raw::ShortBody => {
            read_head(&mut stream).await;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789").await;
        }
        Raw::Garbage => {
            read_head(&mut stream).await;
            let _ = stream.write_all(b"HELLO THERE\r\n\r\n").await;
        }
    }
}

/// A listener whose accept queue is full, so new connects hang (the SYN is dropped) until
/// the prober's timeout. Keep it alive for as long as it is needed.
pub struct HungListener {
    pub addr: SocketAddr,
    _listener: tokio::net::TcpListener,
    _fillers: Vec<TcpStream>,
}

pub async fn hung_listener() -> HungListener {
    hung_listener_on(LOCALHOST).await
}

/// [`hung_listener`] on a given loopback address.
pub async fn hung_listener_on(ip: IpAddr) -> HungListener {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind((ip, 0).into()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    // Connect until one does not complete: from then on the queue is full. (A SYN to a
    // full queue is dropped and retried after 1 s; a loaded machine answers far sooner.)
    for _ in 0..8 {
        match tokio::time::timeout(Duration::from_millis(500), TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => fillers.push(stream),
            _ => break,
        }
    }
    HungListener { addr, _listener: listener, _fillers: fillers }
}

// ---------------------------------------------------------------- gRPC

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrpcMode {
    /// Health/Check answers with this status (1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN).
    Status(i32),
    /// SERVING for service "" and "app"; NOT_FOUND `unknown service` for others, as
    /// grpc-go's health server does.
    KnownServices,
    /// Health is not implemented (grpc-go's answer for an unregistered service).
    Unimplemented,
    /// Check never answers.
    Hang,
    /// Check fails with NOT_FOUND and the caller's user agent as message.
    EchoUserAgent,
}

struct HealthImpl(GrpcMode);

#[tonic::async_trait]
impl tonic_health::pb::health_server::Health for HealthImpl {
    async fn check(
        &self,
        request: tonic::Request<tonic_health::pb::HealthCheckRequest>,
    ) -> Result<tonic::Response<tonic_health::pb::HealthCheckResponse>, tonic::Status> {
        let status = match self.0 {
            GrpcMode::Status(s) => s,
            GrpcMode::KnownServices => match request.get_ref().service.as_str() {
                "" | "app" => 1,
                _ => return Err(tonic::Status::not_found("unknown service")),
            },
            GrpcMode::Unimplemented => {
                return Err(tonic::Status::unimplemented("unknown service grpc.health.v1.Health"));
            }
            GrpcMode::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                1
            }
            GrpcMode::EchoUserAgent => {
                let ua = request.metadata().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                return Err(tonic::Status::not_found(ua));
            }
        };
        Ok(tonic::Response::new(tonic_health::pb::HealthCheckResponse { status }))
    }

    type WatchStream =
        tonic::codegen::tokio_stream::Empty<Result<tonic_health::pb::HealthCheckResponse, tonic::Status>>;

    async fn watch(
        &self,
        _request: tonic::Request<tonic_health::pb::HealthCheckRequest>,
    ) -> Result<tonic::Response<Self::WatchStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("watch"))
    }
}

pub async fn grpc_server(mode: GrpcMode) -> Server {
    let listener = listen(LOCALHOST);
    let addr = listener.local_addr().unwrap();
    // Nagle off, as grpc-go servers have it: otherwise the response's frames wait for
    // delayed ACKs and every probe takes milliseconds.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let service = tonic_health::pb::health_server::HealthServer::new(HealthImpl(mode));
    let task = tokio::spawn(async move {
        let _ = tonic::transport::Server::builder().serve_with_incoming(service, incoming).await;
    });
    Server { addr, task }
}

// ---------------------------------------------------------------- spec builders

pub fn container() -> Container {
    Container {
        name: "app".into(),
        image: "registry.example/app:1".into(),
        image_pull_policy: "IfNotPresent".into(),
        command: vec![],
        args: vec![],
        ports: vec![],
        env: vec![],
        liveness_probe: None,
        readiness_probe: None,
        startup_probe: None,
        lifecycle: None,
        restart_policy: None,
    }
}

pub fn with_port(mut c: Container, name: &str, port: u16) -> Container {
    c.ports.push(ContainerPort {
        name: Some(name.to_owned()),
        container_port: i32::from(port),
        protocol: "TCP".into(),
    });
    c
}

pub fn with_env(mut c: Container, name: &str, value: Option<&str>) -> Container {
    c.env.push(EnvVar { name: name.to_owned(), value: value.map(str::to_owned), value_from: value.is_none() });
    c
}

pub fn probe(handler: Handler, timeout_seconds: i32) -> Probe {
    Probe {
        handler,
        initial_delay_seconds: 0,
        timeout_seconds,
        period_seconds: 10,
        success_threshold: 1,
        failure_threshold: 3,
        termination_grace_period_seconds: None,
    }
}

pub fn exec_handler(command: &[&str]) -> Handler {
    Handler {
        exec: Some(ExecAction { command: command.iter().map(|s| (*s).to_owned()).collect() }),
        ..Handler::default()
    }
}

pub fn tcp_handler(port: IntOrString, host: Option<&str>) -> Handler {
    Handler { tcp_socket: Some(TcpSocketAction { port, host: host.map(str::to_owned) }), ..Handler::default() }
}

pub fn http_handler(path: &str, port: IntOrString, scheme: &str, headers: &[(&str, &str)]) -> Handler {
    Handler {
        http_get: Some(HttpGetAction {
            path: path.to_owned(),
            port,
            host: None,
            scheme: scheme.to_owned(),
            http_headers: headers
                .iter()
                .map(|(n, v)| HttpHeader { name: (*n).to_owned(), value: (*v).to_owned() })
                .collect(),
        }),
        ..Handler::default()
    }
}

pub fn grpc_handler(port: u16, service: Option<&str>) -> Handler {
    Handler {
        grpc: Some(GrpcAction { port: i32::from(port), service: service.map(str::to_owned) }),
        ..Handler::default()
    }
}

pub fn pod() -> PodContext {
    PodContext { pod_name: "web-0".into(), pod_ip: LOCALHOST, state_dir: None, env: vec![] }
}

pub fn options(client: probe::HttpClientKind) -> ProbeOptions {
    ProbeOptions { http_client: client, ..ProbeOptions::default() }
}

pub fn resolve(handler: Handler, container: &Container, opts: &ProbeOptions) -> ResolvedProbe {
    probe::resolve(&probe(handler, 1), container, &pod(), opts).unwrap()
}

/// Runs one kubelet probe attempt (with the retry of errored runs).
pub async fn run(prober: &Prober, resolved: &ResolvedProbe) -> Outcome {
    prober.run(resolved).await
}

/// Runs one mechanism once with a custom timeout.
pub async fn run_once(prober: &Prober, mechanism: &Mechanism, timeout: Duration) -> Outcome {
    prober.run_once(mechanism, timeout).await
}

/// Replaces what differs between runs in a message (ephemeral local ports) so outcomes can
/// be compared across clients.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("read tcp ") {
        out.push_str(&rest[..i + "read tcp ".len()]);
        rest = &rest[i + "read tcp ".len()..];
        if let Some(arrow) = rest.find("->")
            && !rest[..arrow].contains(' ')
        {
            rest = &rest[arrow + 2..];
        }
    }
    out.push_str(rest);
    out
}

/// The fds this process has open.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

/// Processes whose parent is this process (children still running or not yet reaped).
pub fn child_processes() -> Vec<(u32, String)> {
    let me = std::process::id();
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command name, which is in parentheses and may contain spaces.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(me) {
            let state = fields.first().copied().unwrap_or("?");
            found.push((pid, format!("{} state {state}", &stat[..=close])));
        }
    }
    found
}
