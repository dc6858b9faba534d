//! One probe's cost per mechanism: a full round trip against an in-process target.
//!
//! Criterion reports wall time per probe. With `--bench` (what `cargo bench` passes) two
//! more tables follow:
//! - CPU per probe from getrusage around a fixed count: the probing thread alone
//!   (RUSAGE_THREAD: the targets run on another runtime's threads), the whole process
//!   (prober + in-process target + blocking-pool closes) and, for exec, the children.
//! - TIME_WAIT sockets left by 1,000 tcpSocket and 1,000 httpGet probes per linger mode.
//!
//! Run: `cargo bench --bench probe_mechanisms` (add a filter such as `http` to pick).

#[path = "../tests/probe_common/mod.rs"]
mod probe_common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use criterion::Criterion;
use nix::sys::resource::{UsageWho, getrusage};
use probe_common::*;
use probebench::probe::{HttpClientKind, LingerMode, Mechanism, PodContext, ProbeOptions, Prober, ResolvedProbe};
use probebench::spec::{Handler, IntOrString};

const TIMEOUT: Duration = Duration::from_secs(1);

/// The targets live on their own runtime and threads, so the probing thread's CPU time is
/// the prober's alone.
struct Targets {
    runtime: tokio::runtime::Runtime,
    http: Server,
    https: Server,
    grpc: Server,
}

impl Targets {
    fn start() -> Targets {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let (http, https, grpc) = runtime
            .block_on(async { (http_server().await, https_server().await, grpc_server(GrpcMode::Status(1)).await) });
        Targets { runtime, http, https, grpc }
    }
}

fn resolve_with(handler: Handler, pod_ip: IpAddr, opts: &ProbeOptions) -> ResolvedProbe {
    let pod = PodContext { pod_ip, ..pod() };
    probebench::probe::resolve(&probe(handler, 1), &container(), &pod, opts).unwrap()
}

fn port(p: u16) -> IntOrString {
    IntOrString::Int(i32::from(p))
}

/// The mechanisms measured, by name.
fn cases(t: &Targets) -> Vec<(&'static str, Mechanism)> {
    let lo = LOCALHOST;
    let opts = |client, linger| ProbeOptions { http_client: client, linger, ..ProbeOptions::default() };
    let default = ProbeOptions::default();
    vec![
        // The prober's dispatch alone: no I/O, no allocation.
        ("noop", Mechanism::Noop),
        // exec: look up `true`, posix_spawn with pipes and its own process group, wait, reap.
        ("exec_true", resolve_with(exec_handler(&["true"]), lo, &default).mechanism),
        // tcpSocket: connect and close with the kubelet's SO_LINGER {on, 1 s} (the close
        // goes to the blocking pool).
        (
            "tcp_linger_kubelet",
            resolve_with(tcp_handler(port(t.http.port()), None), lo, &opts(HttpClientKind::Hyper, LingerMode::Kubelet))
                .mechanism,
        ),
        // tcpSocket: connect and abortive close (RST), no blocking close.
        (
            "tcp_linger_zero",
            resolve_with(tcp_handler(port(t.http.port()), None), lo, &opts(HttpClientKind::Hyper, LingerMode::Zero))
                .mechanism,
        ),
        // tcpSocket: connect and plain close.
        (
            "tcp_linger_off",
            resolve_with(tcp_handler(port(t.http.port()), None), lo, &opts(HttpClientKind::Hyper, LingerMode::Off))
                .mechanism,
        ),
        // httpGet on the hyper hot path: connect, GET, 2-byte body, close.
        (
            "http_hyper",
            resolve_with(
                http_handler("/ok", port(t.http.port()), "HTTP", &[]),
                lo,
                &opts(HttpClientKind::Hyper, LingerMode::Kubelet),
            )
            .mechanism,
        ),
        // httpGet on the hyper hot path without SO_LINGER: the cost of the kubelet's
        // linger option (a close on the blocking pool) is the difference to http_hyper.
        (
            "http_hyper_linger_off",
            resolve_with(
                http_handler("/ok", port(t.http.port()), "HTTP", &[]),
                lo,
                &opts(HttpClientKind::Hyper, LingerMode::Off),
            )
            .mechanism,
        ),
        // httpGet through reqwest with pooling off: the same exchange, reqwest's overhead.
        (
            "http_reqwest",
            resolve_with(
                http_handler("/ok", port(t.http.port()), "HTTP", &[]),
                lo,
                &opts(HttpClientKind::Reqwest, LingerMode::Kubelet),
            )
            .mechanism,
        ),
        // httpGet over TLS: a full handshake (no resumption, as the kubelet) plus the GET.
        (
            "https_hyper",
            resolve_with(
                http_handler("/ok", port(t.https.port()), "HTTPS", &[]),
                lo,
                &opts(HttpClientKind::Hyper, LingerMode::Kubelet),
            )
            .mechanism,
        ),
        // grpc: fresh tonic channel (connect, HTTP/2 handshake) and one Health/Check.
        ("grpc", resolve_with(grpc_handler(t.grpc.port(), None), lo, &default).mechanism),
    ]
}

fn criterion_benches(c: &mut Criterion, targets: &Targets, runtime: &tokio::runtime::Runtime, prober: &Prober) {
    let mut group = c.benchmark_group("probe_round_trip");
    group.sample_size(30).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500));
    for (name, mechanism) in cases(targets) {
        group.bench_function(name, |b| {
            b.iter(|| {
                let outcome = runtime.block_on(prober.run_once(&mechanism, TIMEOUT));
                assert!(!outcome.errored && outcome.result.counts_as_success(), "{name}: {outcome:?}");
            })
        });
    }
    group.finish();
}

#[derive(Clone, Copy)]
struct Cpu {
    thread: Duration,
    process: Duration,
    children: Duration,
}

fn cpu_now() -> Cpu {
    let time = |who| {
        let usage = getrusage(who).unwrap();
        let tv = |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
        tv(usage.user_time()) + tv(usage.system_time())
    };
    Cpu {
        thread: time(UsageWho::RUSAGE_THREAD),
        process: time(UsageWho::RUSAGE_SELF),
        children: time(UsageWho::RUSAGE_CHILDREN),
    }
}

fn cpu_table(targets: &Targets, runtime: &tokio::runtime::Runtime, prober: &Prober) {
    println!("\nCPU per probe (getrusage around a fixed count; µs)");
    println!(
        "{:<20} {:>6} {:>10} {:>14} {:>10} {:>10}",
        "mechanism", "count", "wall", "probing thread", "process", "children"
    );
    for (name, mechanism) in cases(targets) {
        let count: u32 = match name {
            "noop" => 200_000,
            "exec_true" => 1_000,
            _ => 3_000,
        };
        // Warm up, then measure.
        runtime.block_on(async {
            for _ in 0..count / 10 {
                prober.run_once(&mechanism, TIMEOUT).await;
            }
        });
        std::thread::sleep(Duration::from_millis(200));
        let (before, wall) = (cpu_now(), Instant::now());
        let failed = runtime.block_on(async {
            let mut failed = 0u32;
            for _ in 0..count {
                let outcome = prober.run_once(&mechanism, TIMEOUT).await;
                failed += u32::from(!outcome.result.counts_as_success());
            }
            failed
        });
        let wall = wall.elapsed();
        // Let offloaded closes finish so the process total includes them.
        std::thread::sleep(Duration::from_millis(200));
        let after = cpu_now();
        let per = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(count);
        println!(
            "{name:<20} {count:>6} {:>10.2} {:>14.2} {:>10.2} {:>10.2}{}",
            per(wall),
            per(after.thread - before.thread),
            per(after.process - before.process),
            per(after.children - before.children),
            if failed > 0 { format!("  ({failed} not successful)") } else { String::new() },
        );
    }
}

/// TIME_WAIT sockets involving `addr` (either end), from /proc/net/tcp.
fn time_wait_count(addr: SocketAddr) -> (usize, usize) {
    let IpAddr::V4(ip) = addr.ip() else {
        return (0, 0);
    };
    let want = format!("{:08X}:{:04X}", u32::from_le_bytes(ip.octets()), addr.port());
    let text = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let (mut client_side, mut server_side) = (0, 0);
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(3) != Some(&"06") {
            continue;
        }
        if fields.get(2) == Some(&want.as_str()) {
            client_side += 1;
        } else if fields.get(1) == Some(&want.as_str()) {
            server_side += 1;
        }
    }
    (client_side, server_side)
}

fn time_wait_table(targets: &Targets, runtime: &tokio::runtime::Runtime, prober: &Prober) {
    println!("\nTIME_WAIT after 1,000 probes (prober side / target side)");
    println!("{:<10} {:>18} {:>18}", "linger", "tcpSocket", "httpGet (hyper)");
    for (i, linger) in [LingerMode::Kubelet, LingerMode::Zero, LingerMode::Off].into_iter().enumerate() {
        // A fresh target address per mode: earlier TIME_WAIT entries do not count.
        let ip = IpAddr::V4(Ipv4Addr::new(127, 81, i as u8, 1));
        let http = targets.runtime.block_on(http_server_on(ip));
        let opts = ProbeOptions { linger, ..ProbeOptions::default() };
        let tcp = resolve_with(tcp_handler(port(http.port()), None), ip, &opts);
        runtime.block_on(async {
            for _ in 0..1_000 {
                prober.run_once(&tcp.mechanism, TIMEOUT).await;
            }
        });
        std::thread::sleep(Duration::from_millis(500));
        let tcp_counts = time_wait_count(http.addr);
        let ip2 = IpAddr::V4(Ipv4Addr::new(127, 81, i as u8, 2));
        let http2 = targets.runtime.block_on(http_server_on(ip2));
        let get = resolve_with(http_handler("/ok", port(http2.port()), "HTTP", &[]), ip2, &opts);
        runtime.block_on(async {
            for _ in 0..1_000 {
                prober.run_once(&get.mechanism, TIMEOUT).await;
            }
        });
        std::thread::sleep(Duration::from_millis(500));
        let http_counts = time_wait_count(http2.addr);
        println!(
            "{:<10} {:>18} {:>18}",
            format!("{linger:?}"),
            format!("{} / {}", tcp_counts.0, tcp_counts.1),
            format!("{} / {}", http_counts.0, http_counts.1)
        );
    }
}

fn main() {
    let targets = Targets::start();
    // The probing side: one thread, as one scheduler shard would run it.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let prober = Prober::new().unwrap();
    let mut criterion = Criterion::default().configure_from_args();
    criterion_benches(&mut criterion, &targets, &runtime, &prober);
    criterion.final_summary();
    if std::env::args().any(|a| a == "--bench") {
        cpu_table(&targets, &runtime, &prober);
        time_wait_table(&targets, &runtime, &prober);
    }
}
