//! End to end: a real server on 127.0.0.1:0, a real TcpStream, and a third-party parser
//! (prometheus-parse) reading what we serve.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use prometheus_parse::{Sample, Scrape, Value};

use super::*;
use crate::measure::hist::new_histogram;
use crate::spec::ProbeType;

fn get(addr: std::net::SocketAddr, method: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    // Generous: a loaded 2-core machine may be slow, but a hang must not hang the suite.
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (head.to_string(), body.to_string())
}

fn parse(body: &str) -> Scrape {
    Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).unwrap()
}

fn find<'a>(s: &'a Scrape, metric: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    s.samples.iter().filter(|x| x.metric == metric && labels.iter().all(|(k, v)| x.labels.get(k) == Some(v))).collect()
}

fn one(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found = find(s, metric, labels);
    assert_eq!(found.len(), 1, "{metric} {labels:?}: {found:?}");
    match &found[0].value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        other => panic!("{metric}: not a number: {other:?}"),
    }
}

fn buckets(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Vec<(f64, f64)> {
    let found = find(s, metric, labels);
    assert_eq!(found.len(), 1, "{metric} {labels:?}: {found:?}");
    match &found[0].value {
        Value::Histogram(h) => h.iter().map(|b| (b.less_than, b.count)).collect(),
        other => panic!("{metric}: not a histogram: {other:?}"),
    }
}

/// Cumulative counts never decrease, the last bucket is +Inf and equals `_count`.
fn assert_consistent(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Vec<(f64, f64)> {
    let b = buckets(s, metric, labels);
    assert!(b.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1), "{metric}: not monotonic: {b:?}");
    let last = b.last().unwrap();
    assert_eq!(last.0, f64::INFINITY);
    assert_eq!(last.1, one(s, &format!("{metric}_count"), labels), "{metric}: +Inf bucket != _count");
    b
}

fn labels(pod: &str, t: ProbeType) -> ProbeLabels {
    ProbeLabels {
        probe_type: t,
        container: "app".into(),
        pod: pod.into(),
        namespace: "default".into(),
        pod_uid: format!("uid-{pod}"),
    }
}

#[test]
fn metrics_over_http_parse_and_add_up() {
    let registry = Arc::new(Registry::new(RunInfo {
        scenario: "default".into(),
        scheduler: "hires".into(),
        phase: "warm".into(),
    }));
    let web0 = registry.register_probe(labels("web-0", ProbeType::Liveness));
    let web1 = registry.register_probe(labels("web-1", ProbeType::Readiness));
    assert_eq!(registry.register_probe(labels("web-0", ProbeType::Liveness)), web0, "interned");
    let ms = 1_000_000;
    for i in 0..10u64 {
        registry.record_probe(web0, ProbeResult::Successful, (i + 1) * 3 * ms);
    }
    registry.record_probe(web0, ProbeResult::Failed, 900 * ms);
    registry.record_probe(web0, ProbeResult::Errored, 5 * ms);
    registry.record_probe(web1, ProbeResult::Failed, 2 * ms);

    let http = registry.register_series("http", ProbeType::Liveness);
    let mut lag = new_histogram();
    for v in [20_000u64, 40_000, 40_000, 3 * ms, 15_000 * ms] {
        lag.record(v).unwrap();
    }
    registry.merge_series(http, SeriesHistogram::DispatchLag, &lag);
    registry.observe_series(http, SeriesHistogram::DispatchLag, 7_000);
    registry.observe_series(http, SeriesHistogram::Latency, 2 * ms);
    registry.add_results(http, ResultCounts { success: 9, warning: 1, failure: 1, errored: 1 });
    registry.add_cpu_seconds("http", 0.25);
    registry.add_cpu_seconds("http", 0.5);
    registry.add_cpu_seconds("http", -1.0);
    registry.add_in_flight(18);
    registry.add_in_flight(-1);
    registry.set_phase("steady");

    let server = start("127.0.0.1:0".parse().unwrap(), Arc::clone(&registry), false).unwrap();
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);
    let (head, body) = get(addr, "GET", "/metrics");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_lowercase().contains("content-type: text/plain; version=0.0.4"), "{head}");
    let s = parse(&body);

    // The kubelet's counter: its labels and values exactly.
    let lv = [("probe_type", "Liveness"), ("container", "app"), ("pod", "web-0"), ("namespace", "default")];
    let with = |extra: &[(&'static str, &'static str)]| lv.iter().chain(extra).copied().collect::<Vec<_>>();
    assert_eq!(one(&s, "prober_probe_total", &with(&[("result", "successful"), ("pod_uid", "uid-web-0")])), 10.0);
    assert_eq!(one(&s, "prober_probe_total", &with(&[("result", "failed")])), 1.0);
    assert!(find(&s, "prober_probe_total", &with(&[("result", "unknown")])).is_empty(), "no unknown yet");
    assert_eq!(
        one(&s, "prober_probe_total", &[("pod", "web-1"), ("probe_type", "Readiness"), ("result", "failed")]),
        1.0
    );
    assert_eq!(one(&s, "probebench_probe_errored_total", &lv), 1.0);

    // Duration: only the 10 successes (3..30 ms), the failure's 900 ms is not observed.
    let b = assert_consistent(&s, "prober_probe_duration_seconds", &lv);
    assert_eq!(b.len(), 12, "DefBuckets + Inf");
    assert_eq!(b[0], (0.005, 1.0), "3 ms");
    assert_eq!(b[1], (0.01, 3.0), "3, 6, 9 ms");
    assert_eq!(b[2], (0.025, 8.0));
    assert_eq!(b[3], (0.05, 10.0));
    assert_eq!(b[11].1, 10.0);
    let sum = one(&s, "prober_probe_duration_seconds_sum", &lv);
    assert!((sum - 0.165).abs() < 1e-9, "3+6+…+30 ms = 165 ms: {sum}");
    assert!(find(&s, "prober_probe_duration_seconds_count", &[("pod", "web-1")]).is_empty(), "failures only");
    // The duration family has no pod_uid, like the kubelet's.
    assert!(find(&s, "prober_probe_duration_seconds", &lv)[0].labels.get("pod_uid").is_none());

    // probebench families.
    let ml = [("mechanism", "http"), ("probe_type", "liveness")];
    let b = assert_consistent(&s, "probebench_dispatch_lag_seconds", &ml);
    assert_eq!(b[0], (0.00001, 1.0), "7 µs");
    assert_eq!(b[1], (0.000025, 2.0), "+ 20 µs");
    assert_eq!(b[2], (0.00005, 4.0), "+ 2 × 40 µs");
    assert_eq!(b.iter().find(|(le, _)| *le == 0.005).unwrap().1, 5.0, "+ 3 ms");
    assert_eq!(b.iter().find(|(le, _)| *le == 10.0).unwrap().1, 5.0, "15 s is above every bound");
    assert_eq!(b.last().unwrap().1, 6.0);
    let lag_sum = one(&s, "probebench_dispatch_lag_seconds_sum", &ml);
    assert!((lag_sum - 15.003107).abs() / 15.003107 < 0.001, "{lag_sum}");
    assert_consistent(&s, "probebench_probe_latency_seconds", &ml);
    let result = |r: &'static str| one(&s, "probebench_probes_total", &[ml[0], ml[1], ("result", r)]);
    assert_eq!((result("success"), result("warning"), result("failure"), result("errored")), (9.0, 1.0, 1.0, 1.0));
    assert_eq!(one(&s, "probebench_probe_cpu_seconds_total", &[("mechanism", "http")]), 0.75);
    assert_eq!(one(&s, "probebench_probes_in_flight", &[]), 17.0);
    assert_eq!(
        one(&s, "probebench_run_info", &[("scenario", "default"), ("scheduler", "hires"), ("phase", "steady")]),
        1.0
    );
    assert!(s.docs.contains_key("prober_probe_total"), "HELP lines present");

    // Counters grow between scrapes.
    registry.record_probe(web0, ProbeResult::Successful, ms);
    let (_, body) = get(addr, "GET", "/metrics");
    assert_eq!(one(&parse(&body), "prober_probe_total", &with(&[("result", "successful")])), 11.0);

    let (head, _) = get(addr, "GET", "/");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let (head, _) = get(addr, "POST", "/metrics");
    assert!(head.starts_with("HTTP/1.1 405"), "{head}");

    drop(server);
    assert!(TcpStream::connect(addr).is_err(), "the listener closes when the server is dropped");
}

#[test]
fn label_values_are_escaped_for_a_real_parser() {
    let registry = Registry::new(RunInfo { scenario: "odd \"name\"\\x".into(), ..RunInfo::default() });
    let text = registry.render();
    assert!(text.contains(r#"scenario="odd \"name\"\\x""#), "{text}");
    let s = parse(&text);
    assert_eq!(one(&s, "probebench_run_info", &[]), 1.0);
    // Nothing registered: only families without series samples.
    assert!(find(&s, "prober_probe_total", &[]).is_empty());
}

#[test]
fn only_loopback_unless_allowed() {
    let registry = Arc::new(Registry::default());
    let err = start("0.0.0.0:0".parse().unwrap(), Arc::clone(&registry), false).unwrap_err();
    assert!(matches!(err, MetricsError::NotLoopback { .. }), "{err}");
    assert!(err.to_string().contains("not a loopback address"));
    // IPv6 loopback is loopback; another 127/8 address too (each test its own).
    let s = start("127.77.3.1:0".parse().unwrap(), Arc::clone(&registry), false).unwrap();
    assert_eq!(s.local_addr().ip().to_string(), "127.77.3.1");
    // allow_remote lifts the check. Shown without exposing a port: a documentation address
    // (TEST-NET-1) is not on this machine, so the bind itself fails — after the check.
    let err = start("192.0.2.1:0".parse().unwrap(), Arc::clone(&registry), true).unwrap_err();
    assert!(matches!(err, MetricsError::Bind { .. }), "{err}");
    let err = start("192.0.2.1:0".parse().unwrap(), Arc::clone(&registry), false).unwrap_err();
    assert!(matches!(err, MetricsError::NotLoopback { .. }), "{err}");
    drop(s);
    // A port in use is a bind error naming the address.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = start(taken.local_addr().unwrap(), registry, false).unwrap_err();
    assert!(matches!(err, MetricsError::Bind { .. }), "{err}");
}

#[test]
fn concurrent_updates_while_rendering_stay_consistent() {
    let registry = Arc::new(Registry::default());
    let key = registry.register_probe(labels("web-0", ProbeType::Liveness));
    let updater = {
        let r = Arc::clone(&registry);
        std::thread::spawn(move || {
            for i in 0..20_000u64 {
                r.record_probe(key, ProbeResult::Successful, (i % 50) * 1_000_000);
            }
        })
    };
    let lv = [("pod", "web-0")];
    let mut last = 0.0;
    for _ in 0..50 {
        let s = parse(&registry.render());
        if find(&s, "prober_probe_duration_seconds", &lv).is_empty() {
            continue;
        }
        let b = assert_consistent(&s, "prober_probe_duration_seconds", &lv);
        assert!(b.last().unwrap().1 >= last, "counts never go back");
        last = b.last().unwrap().1;
    }
    updater.join().unwrap();
    let s = parse(&registry.render());
    assert_eq!(one(&s, "prober_probe_total", &[("result", "successful")]), 20_000.0);
    assert_eq!(assert_consistent(&s, "prober_probe_duration_seconds", &lv).last().unwrap().1, 20_000.0);
}
