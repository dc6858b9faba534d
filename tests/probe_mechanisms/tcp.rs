//! tcpSocket: connect then close; Go's dial texts; named ports; host override; linger.

use std::time::{Duration, Instant};

use probebench::probe::{LingerMode, ProbeOptions, ProbeResult, Prober, ResolveError};
use probebench::spec::IntOrString;

use crate::probe_common::*;

fn tcp_at(port: u16) -> probebench::probe::ResolvedProbe {
    resolve(tcp_handler(IntOrString::Int(i32::from(port)), None), &container(), &ProbeOptions::default())
}

#[tokio::test]
async fn an_open_port_is_success_with_empty_output() {
    let server = http_server().await;
    let prober = Prober::new().unwrap();
    let out = run(&prober, &tcp_at(server.port())).await;
    assert_eq!((out.result, out.output.as_str()), (ProbeResult::Success, ""));
    assert!(out.timings.connect_us.is_some());
}

#[tokio::test]
async fn a_server_that_closes_at_once_is_still_healthy() {
    let server = raw_server(Raw::CloseAtOnce).await;
    let out = run(&Prober::new().unwrap(), &tcp_at(server.port())).await;
    assert_eq!(out.result, ProbeResult::Success);
}

#[tokio::test]
async fn refused_is_a_failure_worded_like_go() {
    let addr = unused_addr().await;
    let out = run(&Prober::new().unwrap(), &tcp_at(addr.port())).await;
    assert_eq!((out.result, out.errored), (ProbeResult::Failure, false));
    assert_eq!(out.output, format!("dial tcp {addr}: connect: connection refused"));
}

#[tokio::test]
async fn a_connect_that_hangs_times_out() {
    let hung = hung_listener().await;
    let prober = Prober::new().unwrap();
    let resolved = tcp_at(hung.addr.port());
    let started = Instant::now();
    let out = run_once(&prober, &resolved.mechanism, Duration::from_millis(300)).await;
    assert!(started.elapsed() >= Duration::from_millis(290));
    assert_eq!(out.result, ProbeResult::Failure);
    assert_eq!(out.output, format!("dial tcp {}: i/o timeout", hung.addr));
}

#[tokio::test]
async fn named_ports_resolve_and_unknown_names_are_errored() {
    let server = http_server().await;
    let prober = Prober::new().unwrap();
    let c = with_port(container(), "web", server.port());
    let named = resolve(tcp_handler(IntOrString::String("web".into()), None), &c, &ProbeOptions::default());
    assert_eq!(run(&prober, &named).await.result, ProbeResult::Success);
    let numeric = resolve(
        tcp_handler(IntOrString::String(server.port().to_string()), None),
        &container(),
        &ProbeOptions::default(),
    );
    assert_eq!(run(&prober, &numeric).await.result, ProbeResult::Success);
    let unknown = resolve(tcp_handler(IntOrString::String("grpc".into()), None), &c, &ProbeOptions::default());
    let out = run(&prober, &unknown).await;
    assert_eq!((out.result, out.errored, out.attempts), (ProbeResult::Unknown, true, 3));
    assert_eq!(out.output, r#"strconv.Atoi: parsing "grpc": invalid syntax"#);
}

#[tokio::test]
async fn host_overrides_the_pod_ip() {
    // A target on another loopback address than the pod's 127.0.0.1.
    let listener = tokio::net::TcpListener::bind("127.77.0.2:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let prober = Prober::new().unwrap();
    let with_host = resolve(
        tcp_handler(IntOrString::Int(i32::from(port)), Some("127.77.0.2")),
        &container(),
        &ProbeOptions::default(),
    );
    assert_eq!(run(&prober, &with_host).await.result, ProbeResult::Success);
    let pod_ip = tcp_at(port);
    assert_eq!(run(&prober, &pod_ip).await.result, ProbeResult::Failure);
}

#[tokio::test]
async fn every_linger_mode_connects() {
    let server = http_server().await;
    let prober = Prober::new().unwrap();
    for linger in [LingerMode::Kubelet, LingerMode::Zero, LingerMode::Off] {
        let opts = ProbeOptions { linger, ..ProbeOptions::default() };
        let resolved = resolve(tcp_handler(IntOrString::Int(i32::from(server.port())), None), &container(), &opts);
        assert_eq!(run(&prober, &resolved).await.result, ProbeResult::Success, "{linger:?}");
    }
}

#[tokio::test]
async fn remote_hosts_are_refused_unless_allowed() {
    let handler = tcp_handler(IntOrString::Int(80), Some("10.0.0.5"));
    let refused =
        probebench::probe::resolve(&probe(handler.clone(), 1), &container(), &pod(), &ProbeOptions::default());
    assert!(matches!(refused, Err(ResolveError::NotLoopback(_))), "{refused:?}");
    let allowed = ProbeOptions { allow_remote: true, ..ProbeOptions::default() };
    assert!(probebench::probe::resolve(&probe(handler, 1), &container(), &pod(), &allowed).is_ok());
}

#[tokio::test]
async fn ipv6_targets_are_worded_with_brackets() {
    let refused = unused_addr().await.port();
    let resolved =
        resolve(tcp_handler(IntOrString::Int(i32::from(refused)), Some("::1")), &container(), &ProbeOptions::default());
    let out = run(&Prober::new().unwrap(), &resolved).await;
    assert_eq!(out.output, format!("dial tcp [::1]:{refused}: connect: connection refused"));
}
