//! Every vocabulary item against real clients on loopback. Each test has its own
//! addresses (127.77.<test>.<pod>), so tests run in parallel. No test asserts speed:
//! waits are bounded and generous; only orders and lower bounds are checked.

mod common;

use std::cell::Cell;
use std::io::ErrorKind;
use std::time::Duration;

use common::{addr, eventually, get, ip, pod, serve};
use probebench_targets::server::{EventKind, ExitReason};
use probebench_targets::{HealthProbeResult, health_probe, parse_behaviour};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const F: u8 = 77;

async fn refused(a: std::net::SocketAddr) -> bool {
    matches!(TcpStream::connect(a).await, Err(e) if e.kind() == ErrorKind::ConnectionRefused)
}

#[tokio::test]
async fn http_ok_status_and_body_size() {
    let (a, b, c) = (ip(F, 1, 1), ip(F, 1, 2), ip(F, 1, 3));
    let t = serve(
        "http_basic",
        vec![
            pod("ok", a, &[8080], "startup: 0s"),
            pod("err", b, &[8080], "startup: 0s\nrespond: 503"),
            pod("big", c, &[8080], "startup: 0s\nrespond: {body: 100KiB}"),
        ],
    )
    .await;
    let r = get(addr(a, 8080), "/healthz").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], b"200 OK\n");
    let r = get(addr(b, 8080), "/healthz").await.unwrap();
    assert_eq!(r.status, 503);
    let r = get(addr(c, 8080), "/").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 100 * 1024);
    // A port the container does not declare is refused.
    assert!(refused(addr(a, 8081)).await);
    t.shutdown().await;
    // After shutdown every listener is gone.
    assert!(refused(addr(a, 8080)).await);
}

#[tokio::test]
async fn redirects_same_path_other_port_other_host_loop() {
    let a = ip(F, 2, 1);
    let t = serve(
        "redirects",
        vec![
            pod("port", a, &[8080, 8081], "startup: 0s\nrespond: {redirect: {port: 8081}, then: {status: 204}}"),
            pod("path", ip(F, 2, 2), &[8080], "startup: 0s\nrespond: {redirect: {path: /ok}, status: 301}"),
            pod("host", ip(F, 2, 3), &[8080], "startup: 0s\nrespond: {redirect: {host: elsewhere.invalid}}"),
            pod("loop", ip(F, 2, 4), &[8080], "startup: 0s\nrespond: {redirect: loop}"),
        ],
    )
    .await;
    // Same path, another port on the same host: followed, the target answers `then`.
    let r = get(addr(a, 8080), "/healthz").await.unwrap();
    assert_eq!(r.status, 302);
    let loc = r.headers[http::header::LOCATION].to_str().unwrap().to_string();
    assert_eq!(loc, format!("http://{a}:8081/healthz"));
    let r = get(addr(a, 8081), "/healthz").await.unwrap();
    assert_eq!(r.status, 204);
    // Another path.
    let r = get(addr(ip(F, 2, 2), 8080), "/healthz").await.unwrap();
    assert_eq!((r.status, r.headers[http::header::LOCATION].to_str().unwrap()), (301, "/ok"));
    assert_eq!(get(addr(ip(F, 2, 2), 8080), "/ok").await.unwrap().status, 200);
    // Another host.
    let r = get(addr(ip(F, 2, 3), 8080), "/x").await.unwrap();
    assert_eq!(r.headers[http::header::LOCATION].to_str().unwrap(), "http://elsewhere.invalid:8080/x");
    // A loop: the Location is the request itself, every time (11 hops all redirect).
    for _ in 0..11 {
        let r = get(addr(ip(F, 2, 4), 8080), "/healthz").await.unwrap();
        assert_eq!(r.status, 302);
        assert_eq!(r.headers[http::header::LOCATION].to_str().unwrap(), "/healthz");
    }
    t.shutdown().await;
}

#[tokio::test]
async fn refuse_is_a_real_refusal_and_comes_back() {
    let a = ip(F, 3, 1);
    let t = serve(
        "refuse",
        vec![pod(
            "p",
            a,
            &[8080],
            "startup: 0s\nrepeat: true\nphases:\n- {for: 300ms, respond: ok}\n- {for: 300ms, respond: refuse}\n",
        )],
    )
    .await;
    // The phases alternate: both a refusal and an accepted connection are seen.
    let (seen_refused, seen_ok) = (Cell::new(false), Cell::new(false));
    let found = eventually(Duration::from_secs(20), || async {
        match TcpStream::connect(addr(a, 8080)).await {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => seen_refused.set(true),
            Ok(_) => seen_ok.set(true),
            // A connect racing the listener's close at a phase edge can be reset.
            Err(_) => {}
        }
        seen_refused.get() && seen_ok.get()
    })
    .await;
    assert!(found, "refused {seen_refused:?} accepted {seen_ok:?}");
    t.shutdown().await;
}

#[tokio::test]
async fn hang_accepts_tcp_but_never_answers() {
    let a = ip(F, 4, 1);
    let t = serve("hang", vec![pod("p", a, &[8080], "startup: 0s\nrespond: hang")]).await;
    // tcpSocket: the handshake succeeds.
    let s = TcpStream::connect(addr(a, 8080)).await.unwrap();
    drop(s);
    // httpGet: no answer within the client's timeout.
    let r = tokio::time::timeout(Duration::from_millis(500), get(addr(a, 8080), "/")).await;
    assert!(r.is_err(), "a hanging target answered: {:?}", r.map(|r| r.map(|r| r.status)));
    // The server lets go of hung connections once the client closes.
    let control = t.control();
    assert!(
        eventually(Duration::from_secs(20), || async { control.stats().open_connections == 0 }).await,
        "hung connections leak: {:?}",
        control.stats()
    );
    t.shutdown().await;
}

#[tokio::test]
async fn close_and_reset_on_accept() {
    let (a, b) = (ip(F, 5, 1), ip(F, 5, 2));
    let t = serve(
        "close_reset",
        vec![
            pod("close", a, &[8080], "startup: 0s\nrespond: close"),
            pod("reset", b, &[8080], "startup: 0s\nrespond: reset"),
        ],
    )
    .await;
    // close: the connect succeeds (a tcpSocket probe passes), then EOF, no answer.
    let mut s = TcpStream::connect(addr(a, 8080)).await.unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf).await.unwrap(), 0);
    assert!(get(addr(a, 8080), "/").await.is_err());
    // reset: the connect succeeds, then RST.
    let mut s = TcpStream::connect(addr(b, 8080)).await.unwrap();
    let e = s.read(&mut buf).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
    t.shutdown().await;
}

#[tokio::test]
async fn https_with_the_generated_certificate() {
    let a = ip(F, 6, 1);
    let t = serve("https", vec![pod("p", a, &[8443], "startup: 0s\nrespond: 418")]).await;
    let connector = common::tls_connector(t.tls_certificate_der());
    let tcp = TcpStream::connect(addr(a, 8443)).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    let r = common::get_on(tls, "localhost", "/").await.unwrap();
    assert_eq!(r.status, 418);
    // Same port, plain HTTP: the protocol is sniffed per connection.
    assert_eq!(get(addr(a, 8443), "/").await.unwrap().status, 418);
    t.shutdown().await;
}

async fn grpc_check(a: std::net::SocketAddr, service: &str) -> Result<ServingStatus, tonic::Status> {
    let ch = tonic::transport::Endpoint::from_shared(format!("http://{a}"))
        .unwrap()
        .connect()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let r = HealthClient::new(ch).check(HealthCheckRequest { service: service.to_string() }).await?;
    Ok(ServingStatus::try_from(r.into_inner().status).unwrap())
}

#[tokio::test]
async fn grpc_health_statuses() {
    let ps = [
        ("serving", "respond: {grpc: serving}"),
        ("notserving", "respond: {grpc: not_serving}"),
        ("unknownsvc", "respond: {grpc: unknown_service}"),
        ("unimpl", "respond: {grpc: unimplemented}"),
        ("known", "grpc_services: ['', app]"),
        ("http500", "respond: 500"),
    ];
    let pods = ps
        .iter()
        .enumerate()
        .map(|(i, (n, y))| pod(n, ip(F, 7, i as u8 + 1), &[50051], &format!("startup: 0s\n{y}")))
        .collect();
    let t = serve("grpc", pods).await;
    let at = |i: u8| addr(ip(F, 7, i), 50051);
    assert_eq!(grpc_check(at(1), "").await.unwrap(), ServingStatus::Serving);
    assert_eq!(grpc_check(at(2), "").await.unwrap(), ServingStatus::NotServing);
    assert_eq!(grpc_check(at(3), "").await.unwrap_err().code(), tonic::Code::NotFound);
    assert_eq!(grpc_check(at(4), "").await.unwrap_err().code(), tonic::Code::Unimplemented);
    assert_eq!(grpc_check(at(5), "app").await.unwrap(), ServingStatus::Serving);
    assert_eq!(grpc_check(at(5), "other").await.unwrap_err().code(), tonic::Code::NotFound);
    // An HTTP error status means NOT_SERVING to gRPC: one meaning for every protocol.
    assert_eq!(grpc_check(at(6), "").await.unwrap(), ServingStatus::NotServing);
    // The health-probe client agrees, with exit codes 0 / 1.
    let s = |i: u8| at(i).to_string();
    let timeout = Duration::from_secs(10);
    assert_eq!(health_probe(&s(1), "", timeout).await, HealthProbeResult::Serving);
    let r = health_probe(&s(2), "", timeout).await;
    assert_eq!(r, HealthProbeResult::NotServing("NOT_SERVING".to_string()));
    assert_eq!(r.exit_code(), 1);
    let r = health_probe(&s(4), "", timeout).await;
    assert!(r.to_string().contains("does not implement the grpc health protocol"), "{r}");
    assert_eq!(r.exit_code(), 1);
    assert_eq!(health_probe(&s(3), "", timeout).await.exit_code(), 1);
    t.shutdown().await;
}

#[tokio::test]
async fn grpc_hang_and_refuse() {
    let (a, b) = (ip(F, 8, 1), ip(F, 8, 2));
    let t = serve(
        "grpc_hang",
        vec![
            pod("hang", a, &[50051], "startup: 0s\nrespond: hang"),
            pod("refuse", b, &[50051], "startup: 0s\nrespond: refuse"),
        ],
    )
    .await;
    let r = health_probe(&addr(a, 50051).to_string(), "", Duration::from_millis(500)).await;
    assert!(r.to_string().starts_with("timeout"), "{r}");
    let r = health_probe(&addr(b, 50051).to_string(), "", Duration::from_secs(5)).await;
    assert!(matches!(r, HealthProbeResult::Failed(_)), "{r}");
    assert!(r.to_string().contains("failed to connect"), "{r}");
    t.shutdown().await;
}

#[tokio::test]
async fn slow_start_refuses_until_up() {
    let (a, b) = (ip(F, 9, 1), ip(F, 9, 2));
    let t =
        serve("slow_start", vec![pod("slow", a, &[8080], "startup: 60s"), pod("quick", b, &[8080], "startup: 300ms")])
            .await;
    assert!(refused(addr(a, 8080)).await);
    let st = t.control().container("slow", "app").unwrap();
    assert_eq!((st.state, st.phase.as_str(), st.healthy), ("running", "starting", false));
    assert!(
        eventually(Duration::from_secs(20), || async {
            matches!(get(addr(b, 8080), "/").await, Ok(r) if r.status == 200)
        })
        .await
    );
    t.shutdown().await;
}

#[tokio::test]
async fn latency_is_applied() {
    let a = ip(F, 10, 1);
    let t = serve("latency", vec![pod("p", a, &[8080], "startup: 0s\nlatency: 300ms")]).await;
    let started = std::time::Instant::now();
    assert_eq!(get(addr(a, 8080), "/").await.unwrap().status, 200);
    // A lower bound only: the server waited at least the latency.
    assert!(started.elapsed() >= Duration::from_millis(300));
    t.shutdown().await;
}

#[tokio::test]
async fn flapping_toggles_answers_and_listeners() {
    let (a, b) = (ip(F, 11, 1), ip(F, 11, 2));
    let t = serve(
        "flap",
        vec![
            pod("status", a, &[8080], "startup: 0s\nflap: {period: 400ms, duty: 50%}"),
            pod("listen", b, &[8080], "startup: 0s\nflap: {period: 400ms, down: refuse}"),
        ],
    )
    .await;
    let (ok, down) = (Cell::new(false), Cell::new(false));
    assert!(
        eventually(Duration::from_secs(20), || async {
            match get(addr(a, 8080), "/").await.map(|r| r.status) {
                Ok(200) => ok.set(true),
                Ok(503) => down.set(true),
                other => panic!("unexpected {other:?}"),
            }
            ok.get() && down.get()
        })
        .await
    );
    let (accepted, refusals) = (Cell::new(false), Cell::new(false));
    assert!(
        eventually(Duration::from_secs(20), || async {
            match TcpStream::connect(addr(b, 8080)).await {
                Ok(_) => accepted.set(true),
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => refusals.set(true),
                // A connect racing the listener's close at a flap edge can be reset.
                Err(_) => {}
            }
            accepted.get() && refusals.get()
        })
        .await
    );
    t.shutdown().await;
}

#[tokio::test]
async fn crash_exit_code_then_restart() {
    let a = ip(F, 12, 1);
    let t =
        serve("crash", vec![pod("p", a, &[8080], "startup: 0s\nphases:\n- for: 200ms\n- respond: {exit: 3}\n")]).await;
    let c = t.control();
    let mut after = 0;
    let exited = loop {
        let batch = c.wait_events(after, 100, Duration::from_secs(30)).await;
        assert!(!batch.events.is_empty(), "no exit within 30 s");
        after = batch.next;
        if let Some(e) = batch.events.iter().find(|e| matches!(e.kind, EventKind::Exited { .. })) {
            break e.clone();
        }
    };
    assert_eq!(exited.kind, EventKind::Exited { exit_code: 3, reason: ExitReason::Exited });
    let st = c.container("p", "app").unwrap();
    assert_eq!((st.state, st.exit_code, st.instance), ("exited", Some(3), Some(0)));
    assert!(refused(addr(a, 8080)).await);
    // A new instance: the timeline restarts.
    let st = c.start("p", "app").unwrap();
    assert_eq!((st.state, st.instance, st.restarts), ("running", Some(1), 1));
    assert!(
        eventually(Duration::from_secs(20), || async {
            matches!(get(addr(a, 8080), "/").await, Ok(r) if r.status == 200)
                || c.container("p", "app").unwrap().restarts > 1
        })
        .await
    );
    t.shutdown().await;
}

async fn stop_and_wait(t: &probebench_targets::Targets, pod: &str, grace: Duration) -> (i32, ExitReason) {
    let c = t.control();
    let start = c.events_after(0, usize::MAX).next;
    c.stop(pod, "app", grace).unwrap();
    let mut after = start;
    let mut saw_stopping = false;
    loop {
        let batch = c.wait_events(after, 100, Duration::from_secs(60)).await;
        assert!(!batch.events.is_empty(), "no exit of {pod}");
        after = batch.next;
        for e in batch.events.iter().filter(|e| e.pod == pod) {
            match e.kind {
                EventKind::Stopping { .. } => saw_stopping = true,
                EventKind::Exited { exit_code, reason } => {
                    assert!(saw_stopping, "exited before stopping");
                    return (exit_code, reason);
                }
                _ => {}
            }
        }
    }
}

#[tokio::test]
async fn sigterm_reactions() {
    let t = serve(
        "sigterm",
        vec![
            pod("atonce", ip(F, 13, 1), &[8080], "startup: 0s\nsigterm: exit"),
            pod("slow", ip(F, 13, 2), &[8080], "startup: 0s\nsigterm: {after: 300ms, code: 143}"),
            pod("stubborn", ip(F, 13, 3), &[8080], "startup: 0s\nsigterm: ignore"),
            pod("tooslow", ip(F, 13, 4), &[8080], "startup: 0s\nsigterm: {after: 1h}"),
        ],
    )
    .await;
    assert_eq!(stop_and_wait(&t, "atonce", Duration::from_secs(30)).await, (0, ExitReason::Sigterm));
    assert_eq!(stop_and_wait(&t, "slow", Duration::from_secs(30)).await, (143, ExitReason::Sigterm));
    assert_eq!(stop_and_wait(&t, "stubborn", Duration::from_millis(300)).await, (137, ExitReason::Sigkill));
    assert_eq!(stop_and_wait(&t, "tooslow", Duration::from_millis(200)).await, (137, ExitReason::Sigkill));
    // Stopped containers refuse.
    assert!(refused(addr(ip(F, 13, 3), 8080)).await);
    t.shutdown().await;
}

#[tokio::test]
async fn stopping_keeps_serving_until_exit_unless_told() {
    let a = ip(F, 14, 1);
    let t = serve("draining", vec![pod("p", a, &[8080], "startup: 0s\nsigterm: {after: 1h, respond: 503}")]).await;
    assert_eq!(get(addr(a, 8080), "/").await.unwrap().status, 200);
    let st = t.control().stop("p", "app", Duration::from_secs(3600)).unwrap();
    assert_eq!(st.state, "stopping");
    assert_eq!(get(addr(a, 8080), "/").await.unwrap().status, 503);
    // SIGKILL now (a second stop may shorten the grace).
    t.control().stop("p", "app", Duration::ZERO).unwrap();
    let st = t.control().container("p", "app").unwrap();
    assert_eq!((st.state, st.exit_code), ("exited", Some(137)));
    // The listener is shut down synchronously: refused as soon as the exit is reported.
    assert!(refused(addr(a, 8080)).await);
    t.shutdown().await;
}

#[tokio::test]
async fn replace_behaviour_live() {
    let a = ip(F, 15, 1);
    let t = serve("replace", vec![pod("p", a, &[8080], "startup: 0s")]).await;
    assert_eq!(get(addr(a, 8080), "/").await.unwrap().status, 200);
    let b = parse_behaviour("startup: 30s\nrespond: 500").unwrap();
    let st = t.control().replace_behaviour("p", "app", b).unwrap();
    // The app is already up: no new startup, the new timeline applies now.
    assert_eq!(st.instance, Some(0));
    assert_eq!(get(addr(a, 8080), "/").await.unwrap().status, 500);
    t.shutdown().await;
}

#[tokio::test]
async fn port_offset_shifts_listeners_and_locations() {
    let a = ip(F, 16, 1);
    let mut cfg =
        common::config("offset", vec![pod("p", a, &[80, 81], "startup: 0s\nrespond: {redirect: {port: 81}}")]);
    cfg.port_offset = 20000;
    let t = probebench_targets::start(cfg).await.unwrap();
    let r = get(addr(a, 20080), "/x").await.unwrap();
    assert_eq!(r.headers[http::header::LOCATION].to_str().unwrap(), format!("http://{a}:20081/x"));
    assert_eq!(get(addr(a, 20081), "/x").await.unwrap().status, 200);
    assert!(refused(addr(a, 80)).await);
    t.shutdown().await;
}

#[tokio::test]
async fn configuration_errors_are_clear() {
    let a = ip(F, 17, 1);
    // An address taken by someone else.
    let other = std::net::TcpListener::bind(addr(a, 8080)).unwrap();
    let err = probebench_targets::start(common::config("taken", vec![pod("p", a, &[8080], "")])).await.err().unwrap();
    let msg = err.to_string();
    assert!(msg.contains(&format!("{a}:8080")) && msg.contains("another process"), "{msg}");
    drop(other);
    // Two containers on one address.
    let mut p = pod("p", a, &[8080], "");
    p.containers.push(p.containers[0].clone());
    p.containers[1].name = "other".to_string();
    let err = probebench_targets::start(common::config("dup", vec![p])).await.err().unwrap();
    assert!(err.to_string().contains("already declared by p/app"), "{err}");
    // Names become directories.
    let err = probebench_targets::start(common::config("name", vec![pod("../x", a, &[1], "")])).await.err().unwrap();
    assert!(err.to_string().contains("invalid name"), "{err}");
    // The admin endpoint stays on loopback.
    let mut cfg = common::config("admin", vec![]);
    cfg.admin = Some("0.0.0.0:0".parse().unwrap());
    assert!(probebench_targets::start(cfg).await.is_err());
}

#[tokio::test]
async fn shared_listeners_dispatch_by_address() {
    // Port numbers of their own: a shared listener takes the port on every loopback
    // address.
    let (a, b) = (ip(F, 18, 1), ip(F, 18, 2));
    let mut cfg = common::config(
        "shared",
        vec![
            pod("up", a, &[18181, 18182], "startup: 0s\nports: {18182: 503}"),
            pod("down", b, &[18181], "startup: 0s\nrespond: refuse"),
        ],
    );
    cfg.listen_mode = probebench_targets::ListenMode::Shared;
    let t = probebench_targets::start(cfg).await.unwrap();
    assert_eq!(t.listen_mode(), probebench_targets::ListenMode::Shared);
    assert_eq!(get(addr(a, 18181), "/").await.unwrap().status, 200);
    assert_eq!(get(addr(a, 18182), "/").await.unwrap().status, 503);
    // A refusing port on a shared listener accepts and resets at once.
    let mut s = TcpStream::connect(addr(b, 18181)).await.unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(s.read(&mut buf).await.unwrap_err().kind(), ErrorKind::ConnectionReset);
    assert!(get(addr(b, 18181), "/").await.is_err());
    // So does a port this pod does not declare, when another pod declares it.
    let mut s = TcpStream::connect(addr(b, 18182)).await.unwrap();
    assert_eq!(s.read(&mut buf).await.unwrap_err().kind(), ErrorKind::ConnectionReset);
    // A port number nobody declares has no listener at all.
    assert!(refused(addr(a, 18183)).await);
    let st = t.control().container("down", "app").unwrap();
    assert!(st.listening.is_empty());
    t.shutdown().await;
}

#[tokio::test]
async fn gc_pauses_and_spikes_delay_real_replies() {
    let (a, b) = (ip(F, 19, 1), ip(F, 19, 2));
    let t = serve(
        "pauses",
        vec![
            pod("gc", a, &[8080], "startup: 0s\npauses: {every: 1s, for: 500ms, first: 500ms}"),
            pod("spiky", b, &[8080], "startup: 0s\nlatency: {fixed: 0s, spike: {probability: 0.5, latency: 300ms}}"),
        ],
    )
    .await;
    // Without pauses every reply would be immediate; within 5 s some request must land
    // in a pause and wait (lower bound only).
    let mut slowest = Duration::ZERO;
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < until && slowest < Duration::from_millis(200) {
        let started = std::time::Instant::now();
        assert_eq!(get(addr(a, 8080), "/").await.unwrap().status, 200);
        slowest = slowest.max(started.elapsed());
    }
    assert!(slowest >= Duration::from_millis(200), "no reply waited for a pause: {slowest:?}");
    // Spikes with probability 0.5: among 20 replies, some take the spike.
    let mut spikes = 0;
    for _ in 0..20 {
        let started = std::time::Instant::now();
        assert_eq!(get(addr(b, 8080), "/").await.unwrap().status, 200);
        if started.elapsed() >= Duration::from_millis(300) {
            spikes += 1;
        }
    }
    assert!(spikes >= 1, "no spike in 20 replies");
    t.shutdown().await;
}
