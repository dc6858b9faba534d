//! One process serves 10,000 pods, each on its own loopback address (the pod address
//! scheme), with 3 listeners each; a client reaches every listener.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use probebench_targets::{ContainerTarget, ListenMode, PodTarget, ServeConfig, parse_behaviour, pod_ip};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

const PODS: u32 = 10_000;

/// A minimal HTTP/1.1 GET on a fresh connection; returns the status code.
async fn http_status(addr: SocketAddr) -> std::io::Result<u16> {
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    s.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut buf = Vec::with_capacity(256);
    s.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad response {text:?}")))
}

/// Serves PODS pods with `ports` each, checks the mode, and reaches every listener:
/// an HTTP GET on the first port, a TCP connect on the others, gRPC on a sample.
async fn serve_and_reach_all(ports: &'static [u16], mode: ListenMode, want_mode: Option<ListenMode>) {
    let behaviour = parse_behaviour("startup: 0s").unwrap();
    let pods: Vec<PodTarget> = (0..PODS)
        .map(|i| PodTarget {
            name: format!("pod-{i}"),
            ip: pod_ip(i).unwrap(),
            containers: vec![ContainerTarget {
                name: "app".to_string(),
                ports: ports.to_vec(),
                behaviour: behaviour.clone(),
                seed: u64::from(i),
            }],
        })
        .collect();
    let ips: HashSet<_> = pods.iter().map(|p| p.ip).collect();
    assert_eq!(ips.len(), PODS as usize, "every pod has its own address");
    let mut cfg = ServeConfig::new(pods);
    cfg.state_root = std::env::temp_dir().join(format!("probebench-targets-scale-{}-{}", std::process::id(), ports[0]));
    cfg.connection_allowance = 2048;
    cfg.listen_mode = mode;
    let targets = probebench_targets::start(cfg).await.unwrap();
    eprintln!("{} ports per pod: listen mode {:?}", ports.len(), targets.listen_mode());
    if let Some(m) = want_mode {
        assert_eq!(targets.listen_mode(), m);
    }
    assert_eq!(targets.control().stats().listening, (PODS as usize) * ports.len());

    // Bounded concurrency keeps the client's own sockets well under the limits.
    let sem = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::with_capacity(PODS as usize);
    for i in 0..PODS {
        let permit = sem.clone().acquire_owned().await.unwrap();
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let ip = pod_ip(i).unwrap();
            let status = http_status(SocketAddr::new(ip.into(), ports[0])).await;
            let mut others = Vec::new();
            for p in &ports[1..] {
                others.push(TcpStream::connect(SocketAddr::new(ip.into(), *p)).await.is_ok());
            }
            (i, status.ok(), others)
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        let (i, status, others) = t.await.unwrap();
        if status != Some(200) || others.iter().any(|ok| !ok) {
            failures.push((i, status, others));
        }
    }
    assert!(failures.is_empty(), "{} pods unreachable, e.g. {:?}", failures.len(), &failures[..failures.len().min(5)]);
    // gRPC health on a sample (a tonic channel per check is the costly part).
    let grpc_port = *ports.last().unwrap();
    for i in (0..PODS).step_by(997) {
        let a = SocketAddr::new(pod_ip(i).unwrap().into(), grpc_port).to_string();
        let r = probebench_targets::health_probe(&a, "", Duration::from_secs(10)).await;
        assert_eq!(r.exit_code(), 0, "pod {i}: {r}");
    }
    targets.shutdown().await;
}

/// The working size: 3 listeners per pod. Auto picks a socket per address and port if
/// the open-file limit allows 30,000 of them, else shared listeners (this machine:
/// hard limit 20,000 and no CAP_SYS_RESOURCE to raise it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_pods_three_listeners_each() {
    serve_and_reach_all(&[8080, 8443, 50051], ListenMode::Auto, None).await;
}

/// Dedicated sockets (real refusals) for 10,000 pods, one listener each: fits a 20,000
/// descriptor limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_pods_dedicated_sockets() {
    serve_and_reach_all(&[9080], ListenMode::Dedicated, Some(ListenMode::Dedicated)).await;
}
