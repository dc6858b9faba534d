//! `run --metrics`: the Prometheus text scraped *while the run goes* parses with an
//! independent parser (the prometheus-parse crate) and its counters agree with the
//! end-of-run summary: the per-mechanism counters are fed from the same 1-second
//! intervals the summary lists, so every scrape equals the summary's count over a prefix
//! of its intervals exactly; the kubelet's per-pod family never exceeds the summary.

mod cli_common;
use cli_common::bin;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use prometheus_parse::{Scrape, Value};

fn temp_dir(name: &str) -> PathBuf {
    cli_common::temp_dir("metrics", name)
}

fn get(addr: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    let (head, body) = body.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

fn sum(scrape: &Scrape, name: &str, label: Option<(&str, &str)>) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
        .map(|s| match s.value {
            Value::Counter(v) | Value::Untyped(v) | Value::Gauge(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// Run `scenario` with `--metrics 127.0.0.1:0`, scraping once a second until it ends.
/// Returns the parsed scrapes and the JSON summary.
fn run_and_scrape(name: &str, scenario: &str, net: &str) -> (Vec<Scrape>, serde_json::Value) {
    let dir = temp_dir(name);
    let path = dir.join("s.yaml");
    std::fs::write(&path, scenario).unwrap();
    let mut child = bin()
        .env("PROBEBENCH_POD_NET", net)
        .arg("run")
        .arg(&path)
        .args(["--metrics", "127.0.0.1:0", "--no-results", "--output", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The address is printed on stderr as `metrics: http://ADDR/metrics`.
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(a) = line.strip_prefix("metrics: http://").and_then(|r| r.strip_suffix("/metrics")) {
                let _ = tx.send(a.to_string());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).expect("the metrics address on stderr");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let mut scrapes = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        if let Some(body) = get(&addr) {
            let parsed = Scrape::parse(body.lines().map(|l| Ok(l.to_string())))
                .unwrap_or_else(|e| panic!("the exposition parses: {e}\n{body}"));
            scrapes.push(parsed);
        }
        std::thread::sleep(Duration::from_millis(700));
    }
    let status = child.wait().unwrap();
    let out = reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
    (scrapes, serde_json::from_str(&out).unwrap())
}

#[test]
fn scraped_counters_agree_with_the_summary_interval_by_interval() {
    // One series (tcp liveness), 40 pods probed once a second, against the targets.
    let scenario = "kind: Scenario\nname: metrics\nduration: 8s\nwarmup: 0s\ncalibration: 0s\ninitialPhase: uniform\npods:\n- name: web\n  replicas: 40\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        ports: [{containerPort: 8081}]\n        livenessProbe: {tcpSocket: {port: 8081}, periodSeconds: 1}\n";
    let (scrapes, summary) = run_and_scrape("cannon", scenario, "127.86.0.0");
    let phase = &summary["phases"][0];
    let series = &phase["series"][0];
    assert_eq!(series["mechanism"], "tcp");
    let intervals: Vec<u64> =
        phase["intervals"].as_array().unwrap().iter().map(|i| i["probes"].as_u64().unwrap()).collect();
    let prefix_sums: Vec<u64> = std::iter::once(0)
        .chain(intervals.iter().scan(0, |acc, p| {
            *acc += p;
            Some(*acc)
        }))
        .collect();
    let mut seen_nonzero = 0;
    let mut last = 0.0;
    for s in &scrapes {
        for family in ["probebench_probes_total", "probebench_dispatch_lag_seconds", "probebench_probes_in_flight"] {
            assert!(s.docs.contains_key(family), "{family} has HELP text");
        }
        let total = sum(s, "probebench_probes_total", Some(("mechanism", "tcp")));
        assert!(total >= last, "a counter never goes down: {last} then {total}");
        last = total;
        assert!(
            prefix_sums.contains(&(total as u64)),
            "scraped {total} probes: not the summary's count over any prefix of its intervals {prefix_sums:?}"
        );
        // The histogram's count is the same probes.
        let lag_count = s
            .samples
            .iter()
            .find(|x| x.metric == "probebench_dispatch_lag_seconds_count" && x.labels.get("mechanism") == Some("tcp"))
            .map(|x| match x.value {
                Value::Untyped(v) | Value::Counter(v) => v,
                _ => -1.0,
            });
        if total > 0.0 {
            seen_nonzero += 1;
            assert_eq!(lag_count, Some(total), "dispatch-lag histogram count equals probes counted");
        }
        assert_eq!(sum(s, "probebench_probes_total", Some(("result", "failure"))), 0.0, "every pod is served");
    }
    assert!(seen_nonzero >= 2, "at least two scrapes saw probes during the run ({} scrapes)", scrapes.len());
    let summary_probes = series["counters"]["probes"].as_u64().unwrap();
    assert!(last as u64 <= summary_probes, "scraped {last} ≤ the summary's {summary_probes}");
}

#[test]
fn the_kubelet_families_of_a_lifecycle_run_stay_within_the_summary() {
    // The lifecycle: every probe passes through the kubelet core, which feeds the kubelet's
    // own per-pod families as worker.go does.
    let scenario = "kind: Scenario\nname: life\nduration: 12s\nwarmup: 0s\ncalibration: 0s\nlifecycle: true\npods:\n- name: web\n  replicas: 5\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        ports: [{containerPort: 8080}]\n        readinessProbe: {httpGet: {port: 8080, path: /}, periodSeconds: 1}\n";
    let (scrapes, summary) = run_and_scrape("lifecycle", scenario, "127.87.0.0");
    let summary_success: u64 = summary["phases"][0]["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["counters"]["success"].as_u64().unwrap())
        .sum();
    let last = scrapes.last().expect("scraped at least once");
    let successful = sum(last, "prober_probe_total", Some(("result", "successful")));
    assert!(successful > 0.0, "probes were counted while running");
    assert!(successful as u64 <= summary_success, "scraped {successful} ≤ the summary's {summary_success}");
    let pods: std::collections::BTreeSet<_> = last
        .samples
        .iter()
        .filter(|s| s.metric == "prober_probe_total")
        .filter_map(|s| s.labels.get("pod").map(str::to_string))
        .collect();
    assert_eq!(pods.len(), 5, "one series per pod: {pods:?}");
    for s in last.samples.iter().filter(|s| s.metric == "prober_probe_total") {
        assert_eq!(s.labels.get("probe_type"), Some("Readiness"), "the kubelet's capitalised probe type");
        assert_eq!(s.labels.get("namespace"), Some("default"));
        assert_eq!(s.labels.get("container"), Some("c"));
    }
}
