//! grpc: Health/Check on a fresh connection, SERVING success, every problem a failure with
//! the kubelet's prefixes.

use std::time::{Duration, Instant};

use probebench::probe::{ProbeOptions, ProbeResult, Prober, ResolvedProbe};

use crate::probe_common::*;

fn grpc_at(port: u16, service: Option<&str>) -> ResolvedProbe {
    resolve(grpc_handler(port, service), &container(), &ProbeOptions::default())
}

#[tokio::test]
async fn serving_is_success() {
    let server = grpc_server(GrpcMode::Status(1)).await;
    let out = run(&Prober::new().unwrap(), &grpc_at(server.port(), None)).await;
    assert_eq!((out.result, out.output.as_str()), (ProbeResult::Success, "service healthy"));
    assert!(out.timings.connect_us.is_some() && out.timings.first_byte_us.is_some());
}

#[tokio::test]
async fn other_statuses_are_failures_naming_the_status() {
    let prober = Prober::new().unwrap();
    for (status, name) in [(2, "NOT_SERVING"), (3, "SERVICE_UNKNOWN"), (0, "UNKNOWN")] {
        let server = grpc_server(GrpcMode::Status(status)).await;
        let out = run(&prober, &grpc_at(server.port(), None)).await;
        assert_eq!((out.result, out.errored), (ProbeResult::Failure, false));
        assert_eq!(out.output, format!("service unhealthy (responded with \"{name}\")"));
    }
}

#[tokio::test]
async fn the_service_is_sent_as_given() {
    let server = grpc_server(GrpcMode::KnownServices).await;
    let prober = Prober::new().unwrap();
    assert_eq!(run(&prober, &grpc_at(server.port(), Some("app"))).await.result, ProbeResult::Success);
    let out = run(&prober, &grpc_at(server.port(), Some("other"))).await;
    assert_eq!(out.result, ProbeResult::Failure);
    assert_eq!(out.output, "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service");
}

#[tokio::test]
async fn a_server_without_the_health_service_says_so() {
    let server = grpc_server(GrpcMode::Unimplemented).await;
    let out = run(&Prober::new().unwrap(), &grpc_at(server.port(), None)).await;
    assert_eq!(out.result, ProbeResult::Failure);
    assert_eq!(
        out.output,
        "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health"
    );
}

#[tokio::test]
async fn refused_waits_out_the_timeout_like_a_blocking_dial() {
    let addr = unused_addr().await;
    let prober = Prober::new().unwrap();
    let started = Instant::now();
    let out = run_once(&prober, &grpc_at(addr.port(), None).mechanism, Duration::from_millis(300)).await;
    assert!(started.elapsed() >= Duration::from_millis(290));
    assert_eq!((out.result, out.errored), (ProbeResult::Failure, false));
    let prefix = format!("timeout: failed to connect service \"{addr}\" within 300ms: context deadline exceeded");
    assert!(out.output.starts_with(&prefix), "{}", out.output);
    assert!(out.output.contains("connect: connection refused"), "{}", out.output);
}

#[tokio::test]
async fn a_silent_server_is_a_dial_timeout() {
    let server = raw_server(Raw::Hang).await;
    let out =
        run_once(&Prober::new().unwrap(), &grpc_at(server.port(), None).mechanism, Duration::from_millis(300)).await;
    assert!(
        out.output.starts_with(&format!("timeout: failed to connect service \"{}\" within 300ms", server.addr)),
        "{}",
        out.output
    );
}

#[tokio::test]
async fn a_check_that_never_answers_is_an_rpc_timeout() {
    let server = grpc_server(GrpcMode::Hang).await;
    let out =
        run_once(&Prober::new().unwrap(), &grpc_at(server.port(), None).mechanism, Duration::from_millis(300)).await;
    assert_eq!(
        (out.result, out.output.as_str()),
        (ProbeResult::Failure, "timeout: health rpc did not complete within 300ms")
    );
}

#[tokio::test]
async fn the_default_timeout_reads_as_go_prints_it() {
    let addr = unused_addr().await;
    let out = run(&Prober::new().unwrap(), &grpc_at(addr.port(), None)).await;
    assert!(
        out.output.starts_with(&format!("timeout: failed to connect service \"{addr}\" within 1s: ")),
        "{}",
        out.output
    );
}

#[tokio::test]
async fn the_user_agent_is_the_kubelets() {
    let server = grpc_server(GrpcMode::EchoUserAgent).await;
    let out = run(&Prober::new().unwrap(), &grpc_at(server.port(), None)).await;
    // grpc-go appends its own name to the configured agent; tonic does the same.
    assert!(
        out.output.starts_with("error: health rpc probe failed: rpc error: code = NotFound desc = kube-probe/1.35"),
        "{}",
        out.output
    );
}

#[tokio::test]
async fn a_server_that_is_not_http2_never_connects() {
    // An HTTP/1 server answers the HTTP/2 preface with an error page; grpc-go never sees a
    // SETTINGS frame, keeps redialing, and the probe ends as a dial timeout.
    let server = http_server().await;
    let out =
        run_once(&Prober::new().unwrap(), &grpc_at(server.port(), None).mechanism, Duration::from_millis(300)).await;
    assert!(
        out.output.starts_with(&format!("timeout: failed to connect service \"{}\" within 300ms", server.addr)),
        "{}",
        out.output
    );
}
