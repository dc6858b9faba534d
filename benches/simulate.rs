//! Isolates one cost: simulated probe events per second of wall time — the virtual-time
//! engine (kubelet core, behaviour models, event queue) running a fleet, single-threaded.
//! The headline case is the issue's: 10,000 pods with a liveness and a readiness probe
//! (period 10 s) for one virtual hour, 7.2 million probe runs.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use probebench::kubelet::config::SECOND;
use probebench::sim::{SimOptions, Simulation};
use probebench_targets::BehaviourFile;

fn fleet(replicas: u32) -> Vec<probebench::spec::Pod> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/fixtures/fleet-10k.yaml"))
        .expect("benches/fixtures/fleet-10k.yaml");
    let text = text.replace("replicas: 10000", &format!("replicas: {replicas}"));
    probebench::spec::load_str("fleet.yaml", &text).expect("valid fixture").pods
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    // `cargo bench` passes --bench; without it (`cargo test --benches`, an unoptimised
    // smoke run) criterion runs each case once, and the 10k-pod hour alone takes ~15 s.
    let full = std::env::args().any(|a| a == "--bench");
    let cases: &[(u32, u64, &str)] =
        if full { &[(1_000, 1, "1k_pods_1h"), (10_000, 1, "10k_pods_1h")] } else { &[(1_000, 1, "1k_pods_1h")] };
    for &(replicas, hours, name) in cases {
        let pods = fleet(replicas);
        let opts = SimOptions { duration_ns: hours * 3600 * SECOND, ..SimOptions::default() };
        // Each pod has two workers probing every 10 s.
        group.throughput(Throughput::Elements(u64::from(replicas) * 2 * hours * 360));
        group.bench_function(name, |b| {
            b.iter(|| {
                let sim = Simulation::new(&pods, BehaviourFile::default(), opts.clone()).expect("fleet");
                let r = sim.run();
                assert!(r.probe_runs > 0);
                r.probe_runs
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
