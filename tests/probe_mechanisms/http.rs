//! httpGet with both clients: every case runs through hyper and reqwest and the outcomes
//! (result, errored, output with ephemeral ports normalized) must be identical, except
//! where a test says why not.

use std::time::{Duration, Instant};

use probebench::probe::http::{AWAITING_HEADERS, READING_BODY};
use probebench::probe::{HttpClientKind, Outcome, ProbeOptions, ProbeResult, Prober, ResolvedProbe};
use probebench::spec::{Container, IntOrString};

use crate::probe_common::*;

const CLIENTS: [HttpClientKind; 2] = [HttpClientKind::Hyper, HttpClientKind::Reqwest];

fn http_probe(path: &str, port: u16, client: HttpClientKind) -> ResolvedProbe {
    resolve(http_handler(path, IntOrString::Int(i32::from(port)), "HTTP", &[]), &container(), &options(client))
}

/// Runs the same probe with both clients, checks they agree, returns the hyper outcome.
async fn both(make: impl Fn(HttpClientKind) -> ResolvedProbe, timeout: Option<Duration>) -> Outcome {
    let prober = Prober::new().unwrap();
    let mut outcomes = Vec::new();
    for client in CLIENTS {
        let resolved = make(client);
        let out = match timeout {
            Some(t) => run_once(&prober, &resolved.mechanism, t).await,
            None => run(&prober, &resolved).await,
        };
        outcomes.push(out);
    }
    let key = |o: &Outcome| (o.result, o.errored, normalize(&o.output));
    assert_eq!(key(&outcomes[0]), key(&outcomes[1]), "hyper vs reqwest");
    outcomes.swap_remove(0)
}

#[tokio::test]
async fn status_2xx_is_success_with_the_body() {
    let server = http_server().await;
    let out = both(|c| http_probe("/ok", server.port(), c), None).await;
    assert_eq!((out.result, out.output.as_str()), (ProbeResult::Success, "ok"));
    let out = both(|c| http_probe("/status/204", server.port(), c), None).await;
    assert_eq!(out.result, ProbeResult::Success);
}

#[tokio::test]
async fn status_4xx_5xx_fail_without_the_body() {
    let server = http_server().await;
    for code in [400, 404, 500, 503] {
        let out = both(|c| http_probe(&format!("/status/{code}"), server.port(), c), None).await;
        assert_eq!((out.result, out.errored), (ProbeResult::Failure, false));
        assert_eq!(out.output, format!("HTTP probe failed with statuscode: {code}"));
    }
}

#[tokio::test]
async fn unfollowed_3xx_is_a_warning_with_the_body() {
    let server = http_server().await;
    let out = both(|c| http_probe("/found-no-location", server.port(), c), None).await;
    assert_eq!(out.result, ProbeResult::Warning);
    assert_eq!(out.output, "Probe terminated redirects, Response body: nowhere");
    // A different hostname (localhost vs 127.0.0.1) is never followed.
    let out = both(|c| http_probe("/to-other-host", server.port(), c), None).await;
    assert_eq!(out.result, ProbeResult::Warning);
    assert_eq!(out.output, "Probe terminated redirects, Response body: moved away");
}

#[tokio::test]
async fn same_hostname_redirects_are_followed_up_to_the_limit() {
    let server = http_server().await;
    let out = both(|c| http_probe("/redirect/3", server.port(), c), None).await;
    assert_eq!((out.result, out.output.as_str()), (ProbeResult::Success, "arrived"));
    // Go stops once 10 requests were sent: 9 redirects succeed, the 10th fails.
    let out = both(|c| http_probe("/redirect/9", server.port(), c), None).await;
    assert_eq!(out.result, ProbeResult::Success);
    let out = both(|c| http_probe("/redirect/10", server.port(), c), None).await;
    assert_eq!(out.result, ProbeResult::Failure);
    assert_eq!(
        out.output,
        format!("Get \"http://127.0.0.1:{}/redirect/0\": stopped after 10 redirects", server.port())
    );
    let out = both(|c| http_probe("/loop", server.port(), c), None).await;
    assert_eq!(out.output, format!("Get \"http://127.0.0.1:{}/loop\": stopped after 10 redirects", server.port()));
}

#[tokio::test]
async fn a_redirect_to_another_port_of_the_same_host_is_followed() {
    let first = http_server().await;
    let second = http_server().await;
    let out = both(|c| http_probe(&format!("/to-port/{}", second.port()), first.port(), c), None).await;
    assert_eq!((out.result, out.output.as_str()), (ProbeResult::Success, "ok"));
}

#[tokio::test]
async fn the_body_is_read_up_to_10_kib() {
    let server = http_server().await;
    let out = both(|c| http_probe("/big", server.port(), c), None).await;
    assert_eq!(out.result, ProbeResult::Success);
    assert_eq!(out.output.len(), 10 * 1024);
}

fn header_lines(out: &Outcome) -> Vec<String> {
    out.output.lines().map(str::to_owned).collect()
}

#[tokio::test]
async fn the_kubelets_request_headers_are_sent() {
    let server = http_server().await;
    let prober = Prober::new().unwrap();
    for client in CLIENTS {
        let out = run(&prober, &http_probe("/headers", server.port(), client)).await;
        let lines = header_lines(&out);
        let port = server.port();
        for expected in [
            "user-agent: kube-probe/1.35".to_owned(),
            "accept: */*".to_owned(),
            "connection: close".to_owned(),
            format!("host: 127.0.0.1:{port}"),
        ] {
            assert!(lines.contains(&expected), "{client:?} lacks {expected}: {lines:?}");
        }
        assert!(!lines.iter().any(|l| l.starts_with("accept-encoding")), "{client:?}: {lines:?}");
    }
}

#[tokio::test]
async fn user_headers_follow_the_kubelets_override_rules() {
    let server = http_server().await;
    let prober = Prober::new().unwrap();
    let headers =
        [("X-Custom", "a"), ("X-Custom", "b"), ("Accept", ""), ("Host", "health.example"), ("User-Agent", "custom/2")];
    for client in CLIENTS {
        let resolved = resolve(
            http_handler("/headers", IntOrString::Int(i32::from(server.port())), "HTTP", &headers),
            &container(),
            &options(client),
        );
        let lines = header_lines(&run(&prober, &resolved).await);
        for expected in ["x-custom: a", "x-custom: b", "host: health.example", "user-agent: custom/2"] {
            assert!(lines.contains(&expected.to_owned()), "{client:?} lacks {expected}: {lines:?}");
        }
        match client {
            // An empty Accept removes the header.
            HttpClientKind::Hyper => {
                assert!(!lines.iter().any(|l| l.starts_with("accept:")), "{lines:?}")
            }
            // reqwest adds `Accept: */*` to any request without one; the closest it can
            // get is an empty value (documented in reqwest_client.rs).
            HttpClientKind::Reqwest => assert!(lines.contains(&"accept: ".to_owned()), "{lines:?}"),
        }
    }
}

#[tokio::test]
async fn the_user_agent_follows_the_kubernetes_version() {
    let server = http_server().await;
    let prober = Prober::new().unwrap();
    for client in CLIENTS {
        let opts = ProbeOptions { kube_version: "v1.29.3".into(), ..options(client) };
        let resolved = resolve(
            http_handler("/headers", IntOrString::Int(i32::from(server.port())), "HTTP", &[]),
            &container(),
            &opts,
        );
        let lines = header_lines(&run(&prober, &resolved).await);
        assert!(lines.contains(&"user-agent: kube-probe/1.29".to_owned()), "{lines:?}");
    }
}

#[tokio::test]
async fn refused_is_a_failure_worded_like_go() {
    let addr = unused_addr().await;
    let out = both(|c| http_probe("/healthz", addr.port(), c), None).await;
    assert_eq!((out.result, out.errored), (ProbeResult::Failure, false));
    assert_eq!(out.output, format!("Get \"http://{addr}/healthz\": dial tcp {addr}: connect: connection refused"));
}

#[tokio::test]
async fn no_answer_before_the_timeout_fails_awaiting_headers() {
    let server = raw_server(Raw::Hang).await;
    let started = Instant::now();
    let out = both(|c| http_probe("/", server.port(), c), Some(Duration::from_millis(300))).await;
    assert!(started.elapsed() >= Duration::from_millis(2 * 290));
    assert_eq!((out.result, out.errored), (ProbeResult::Failure, false));
    assert_eq!(out.output, format!("Get \"http://{}/\": {AWAITING_HEADERS}", server.addr));
    // A connect that never completes reads the same (Go reports the context's error).
    let hung = hung_listener().await;
    let out = both(|c| http_probe("/", hung.addr.port(), c), Some(Duration::from_millis(300))).await;
    assert_eq!(out.output, format!("Get \"http://{}/\": {AWAITING_HEADERS}", hung.addr));
}

#[tokio::test]
async fn a_body_that_stalls_is_an_errored_failure() {
    let server = raw_server(Raw::SlowBody).await;
    let out = both(|c| http_probe("/", server.port(), c), Some(Duration::from_millis(300))).await;
    assert_eq!((out.result, out.errored), (ProbeResult::Failure, true));
    assert_eq!(out.output, READING_BODY);
}

#[tokio::test]
async fn a_body_shorter_than_announced_is_an_errored_failure() {
    let server = raw_server(Raw::ShortBody).await;
    let out = both(|c| http_probe("/", server.port(), c), None).await;
    assert_eq!((out.result, out.errored, out.output.as_str()), (ProbeResult::Failure, true, "unexpected EOF"));
    assert_eq!(out.attempts, 3, "errored runs are retried");
}

#[tokio::test]
async fn a_close_without_answer_is_eof() {
    let server = raw_server(Raw::Eof).await;
    let out = both(|c| http_probe("/", server.port(), c), None).await;
    assert_eq!((out.result, out.errored), (ProbeResult::Failure, false));
    assert_eq!(out.output, format!("Get \"http://{}/\": EOF", server.addr));
}

#[tokio::test]
async fn a_reset_is_the_socket_error() {
    let server = raw_server(Raw::Reset).await;
    let out = both(|c| http_probe("/", server.port(), c), None).await;
    assert_eq!(out.result, ProbeResult::Failure);
    assert_eq!(
        normalize(&out.output),
        format!("Get \"http://{0}/\": read tcp {0}: read: connection reset by peer", server.addr)
    );
    // hyper knows the local side, as Go does: `read tcp 127.0.0.1:P->127.0.0.1:Q`.
    assert!(out.output.contains(&format!("->{}", server.addr)), "{}", out.output);
}

#[tokio::test]
async fn https_is_probed_without_verifying_the_certificate() {
    let server = https_server().await;
    let make = |c| {
        resolve(
            http_handler("/ok", IntOrString::Int(i32::from(server.port())), "HTTPS", &[]),
            &container(),
            &options(c),
        )
    };
    let out = both(make, None).await;
    assert_eq!((out.result, out.output.as_str()), (ProbeResult::Success, "ok"));
    assert!(out.timings.tls_us.is_some());
    assert!(out.timings.tls_us <= out.timings.first_byte_us);
}

#[tokio::test]
async fn https_to_a_plain_http_server_says_so() {
    let server = http_server().await;
    let resolved = resolve(
        http_handler("/ok", IntOrString::Int(i32::from(server.port())), "HTTPS", &[]),
        &container(),
        &options(HttpClientKind::Hyper),
    );
    let out = run(&Prober::new().unwrap(), &resolved).await;
    assert_eq!(out.result, ProbeResult::Failure);
    assert_eq!(
        out.output,
        format!("Get \"https://{}/ok\": http: server gave HTTP response to HTTPS client", server.addr)
    );
}

#[tokio::test]
async fn named_ports_and_unresolvable_names() {
    let server = http_server().await;
    let c: Container = with_port(container(), "http", server.port());
    let named =
        |client| resolve(http_handler("/ok", IntOrString::String("http".into()), "HTTP", &[]), &c, &options(client));
    assert_eq!(both(named, None).await.result, ProbeResult::Success);
    let unknown =
        |client| resolve(http_handler("/ok", IntOrString::String("web".into()), "HTTP", &[]), &c, &options(client));
    let out = both(unknown, None).await;
    assert_eq!((out.result, out.errored), (ProbeResult::Unknown, true));
    assert_eq!(out.output, r#"strconv.Atoi: parsing "web": invalid syntax"#);
}

#[tokio::test]
async fn hyper_records_the_request_timeline() {
    let server = http_server().await;
    let out = run(&Prober::new().unwrap(), &http_probe("/ok", server.port(), HttpClientKind::Hyper)).await;
    let t = out.timings;
    let (connect, written, first) = (t.connect_us.unwrap(), t.request_written_us.unwrap(), t.first_byte_us.unwrap());
    assert!(connect <= written && written <= first && first <= t.total_us, "{t:?}");
}

#[tokio::test]
async fn remote_hosts_are_refused_unless_allowed() {
    let mut handler = http_handler("/", IntOrString::Int(80), "HTTP", &[]);
    if let Some(get) = handler.http_get.as_mut() {
        get.host = Some("192.0.2.10".into());
    }
    let refused = probebench::probe::resolve(&probe(handler, 1), &container(), &pod(), &ProbeOptions::default());
    assert!(matches!(refused, Err(probebench::probe::ResolveError::NotLoopback(_))), "{refused:?}");
}

#[tokio::test]
async fn the_redirect_limit_quotes_the_raw_location() {
    // Go's quirk (client.go): this error carries the Location as sent, not the resolved
    // URL. reqwest only exposes the resolved URL, so this is hyper only.
    let server = http_server().await;
    let out = run(&Prober::new().unwrap(), &http_probe("/relative/10", server.port(), HttpClientKind::Hyper)).await;
    assert_eq!(out.output, r#"Get "/relative/0": stopped after 10 redirects"#);
    let out = run(&Prober::new().unwrap(), &http_probe("/relative/9", server.port(), HttpClientKind::Hyper)).await;
    assert_eq!((out.result, out.output.as_str()), (ProbeResult::Success, "arrived"));
}

#[tokio::test]
async fn the_query_string_is_kept() {
    let server = http_server().await;
    let out = both(|c| http_probe("/echo-uri?check=deep&x=1", server.port(), c), None).await;
    assert_eq!(out.output, "/echo-uri?check=deep&x=1");
}

#[tokio::test]
async fn ipv6_hosts_are_bracketed() {
    let v6: std::net::IpAddr = "::1".parse().unwrap();
    let server = http_server_on(v6).await;
    let on_v6 = |path: &str, port: u16, client| {
        let mut handler = http_handler(path, IntOrString::Int(i32::from(port)), "HTTP", &[]);
        if let Some(get) = handler.http_get.as_mut() {
            get.host = Some("::1".into());
        }
        resolve(handler, &container(), &options(client))
    };
    let out = both(|c| on_v6("/ok", server.port(), c), None).await;
    assert_eq!((out.result, out.output.as_str()), (ProbeResult::Success, "ok"));
    let refused = unused_addr().await.port();
    let out = both(|c| on_v6("/", refused, c), None).await;
    assert_eq!(
        out.output,
        format!("Get \"http://[::1]:{refused}/\": dial tcp [::1]:{refused}: connect: connection refused")
    );
}
