//! The leak test, alone in its own test binary so nothing else runs in the process:
//! 10,000 exec probes (half of them timing out), then 10,000 refused and 10,000 hung probes
//! for each of tcpSocket, httpGet and grpc, must leave no child process and no extra open
//! file descriptor behind.
//!
//! Bounded for a loaded 2-core machine: exec timeouts are 1 s (with `sleep 5`), network
//! timeouts 100 ms, and a few hundred probes run at once, so the whole test takes well
//! under a minute or two.

#[path = "probe_common/mod.rs"]
mod probe_common;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use probe_common::*;
use probebench::probe::{Outcome, PodContext, ProbeOptions, Prober, ResolvedProbe};
use probebench::spec::IntOrString;

const EXEC_PROBES: usize = 10_000;
const NETWORK_PROBES: usize = 10_000;
const EXEC_CONCURRENCY: usize = 256;
const NETWORK_CONCURRENCY: usize = 500;
const NETWORK_TIMEOUT: Duration = Duration::from_millis(100);

/// Runs `total` probes, `concurrency` at a time; probe `i` is `pick(i)`. Returns how many
/// outcomes fell in each class named by `classify`.
async fn run_many(
    prober: &Arc<Prober>,
    probes: Vec<(ResolvedProbe, Duration)>,
    total: usize,
    concurrency: usize,
    classify: fn(&Outcome) -> String,
) -> BTreeMap<String, usize> {
    let probes = Arc::new(probes);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (prober, probes, next) = (Arc::clone(prober), Arc::clone(&probes), Arc::clone(&next));
        workers.spawn(async move {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return counts;
                }
                let (probe, timeout) = &probes[i % probes.len()];
                let outcome = prober.run_once(&probe.mechanism, *timeout).await;
                *counts.entry(classify(&outcome)).or_default() += 1;
            }
        });
    }
    let mut counts = BTreeMap::new();
    while let Some(done) = workers.join_next().await {
        for (class, n) in done.unwrap() {
            *counts.entry(class).or_insert(0) += n;
        }
    }
    counts
}

/// A short class for an outcome: result plus the gist of the output.
fn classify(outcome: &Outcome) -> String {
    let gist = if outcome.output.contains("failed to connect service") {
        "grpc dial timeout"
    } else if outcome.output.contains("timed out") {
        "timed out"
    } else if outcome.output.contains("connection refused") {
        "refused"
    } else if outcome.output.contains("i/o timeout") {
        "dial timeout"
    } else if outcome.output.contains("awaiting headers") {
        "awaiting headers"
    } else {
        ""
    };
    format!("{} {gist}", outcome.result.as_str()).trim().to_owned()
}

fn resolve_on(ip: IpAddr, handler: probebench::spec::Handler) -> ResolvedProbe {
    let pod = PodContext { pod_ip: ip, ..pod() };
    probebench::probe::resolve(&probe(handler, 1), &container(), &pod, &ProbeOptions::default()).unwrap()
}

/// Waits (bounded) for the fd count to come back to `baseline`: servers in this process
/// close their side when they see the probes' sockets close.
async fn settle_fds(baseline: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = open_fds();
        if now <= baseline || Instant::now() >= deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assert_no_children(phase: &str) {
    let children = child_processes();
    assert!(children.is_empty(), "{phase}: child processes left behind: {children:?}");
}

#[test]
fn ten_thousands_of_probes_leave_no_child_and_no_fd() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let prober = Arc::new(Prober::new().unwrap());
        // Each target on its own loopback address: the phases never share a port space.
        let ip = |n: u8| IpAddr::V4(Ipv4Addr::new(127, 78, 0, n));
        let refused_port = unused_addr().await.port();
        let silent = raw_server_on(ip(2), Raw::Silent).await;
        let hung = hung_listener_on(ip(3)).await;

        let exec_fast = resolve(exec_handler(&["true"]), &container(), &ProbeOptions::default());
        let exec_slow = resolve(exec_handler(&["sleep", "5"]), &container(), &ProbeOptions::default());
        let port = |p: u16| IntOrString::Int(i32::from(p));
        let tcp_refused = resolve_on(ip(1), tcp_handler(port(refused_port), None));
        let http_refused = resolve_on(ip(1), http_handler("/", port(refused_port), "HTTP", &[]));
        let grpc_refused = resolve_on(ip(1), grpc_handler(refused_port, None));
        let tcp_hung = resolve_on(ip(3), tcp_handler(port(hung.addr.port()), None));
        let http_hung = resolve_on(ip(2), http_handler("/", port(silent.port()), "HTTP", &[]));
        let grpc_hung = resolve_on(ip(2), grpc_handler(silent.port(), None));

        // Warm up everything that is created once per process (signal and pidfd drivers,
        // the reqwest client, runtime threads), then take the baseline.
        for p in [&exec_fast, &tcp_refused, &http_refused, &grpc_refused, &tcp_hung, &http_hung, &grpc_hung] {
            let _ = prober.run_once(&p.mechanism, NETWORK_TIMEOUT).await;
        }
        let _ = prober.run_once(&exec_slow.mechanism, Duration::from_millis(50)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let baseline = open_fds();
        assert_no_children("warm-up");
        let started = Instant::now();

        // exec: half fast, half killed at the 1 s timeout.
        let exec = run_many(
            &prober,
            vec![(exec_fast.clone(), Duration::from_secs(1)), (exec_slow.clone(), Duration::from_secs(1))],
            EXEC_PROBES,
            EXEC_CONCURRENCY,
            classify,
        )
        .await;
        assert_eq!(exec.get("success"), Some(&(EXEC_PROBES / 2)), "{exec:?}");
        assert_eq!(exec.get("failure timed out"), Some(&(EXEC_PROBES / 2)), "{exec:?}");
        assert_no_children("exec");
        let after_exec = settle_fds(baseline).await;
        assert!(after_exec <= baseline, "exec: {after_exec} fds open, {baseline} before");

        let cases: [(&str, &ResolvedProbe, &str); 6] = [
            ("tcp refused", &tcp_refused, "failure refused"),
            ("http refused", &http_refused, "failure refused"),
            ("grpc refused", &grpc_refused, "failure grpc dial timeout"),
            ("tcp hung", &tcp_hung, "failure dial timeout"),
            ("http hung", &http_hung, "failure awaiting headers"),
            ("grpc hung", &grpc_hung, "failure grpc dial timeout"),
        ];
        eprintln!("exec phase: {:.1}s", started.elapsed().as_secs_f64());
        for (name, probe, expected) in cases {
            let phase = Instant::now();
            let counts = run_many(
                &prober,
                vec![(probe.clone(), NETWORK_TIMEOUT)],
                NETWORK_PROBES,
                NETWORK_CONCURRENCY,
                classify,
            )
            .await;
            assert_eq!(counts.get(expected), Some(&NETWORK_PROBES), "{name}: {counts:?}");
            let fds = settle_fds(baseline).await;
            assert!(fds <= baseline, "{name}: {fds} fds open, {baseline} before");
            assert_no_children(name);
            eprintln!("{name} phase: {:.1}s", phase.elapsed().as_secs_f64());
        }
        eprintln!(
            "leak test: {} probes in {:.1}s, {baseline} fds before and after",
            EXEC_PROBES + 6 * NETWORK_PROBES,
            started.elapsed().as_secs_f64()
        );
        drop((silent, hung));
    });
}
