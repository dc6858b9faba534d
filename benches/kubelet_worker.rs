//! Isolates one cost: one step of a kubelet probe worker (src/kubelet/worker.rs) — the
//! decisions of `ProbeWorker::tick` (doProbe's checks in the kubelet's order) and counting
//! the result with `ProbeWorker::record`, for a running container past its initial delay,
//! as the scheduler does on every fired probe. Pure state, no clock, no I/O.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use probebench::kubelet::worker::{ContainerView, PodView, ProbeWorker, RunState, StartupHold, Tick};
use probebench::spec::ProbeType;

fn probe() -> probebench::spec::Probe {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n    livenessProbe:\n      tcpSocket: {port: 80}\n      periodSeconds: 10\n      failureThreshold: 3\n";
    let loaded = probebench::spec::load_str("bench.yaml", text).expect("valid pod");
    loaded.pods[0].spec.containers[0].liveness_probe.clone().expect("liveness probe")
}

fn bench(c: &mut Criterion) {
    let p = probe();
    let pod = PodView {
        terminal: false,
        deleting: false,
        restart_never: false,
        container: Some(ContainerView { id: 1, state: RunState::Running { started_at: 0 }, started: true }),
    };
    let mut g = c.benchmark_group("kubelet_worker");
    for (name, every_nth_fails) in [("tick_record_success", 0u64), ("tick_record_1_in_10_fails", 10)] {
        let mut w = ProbeWorker::new(ProbeType::Liveness, &p, StartupHold::default());
        let mut now = 60_000_000_000u64;
        let mut n = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                now += 10_000_000_000;
                n += 1;
                let (tick, published) = w.tick(black_box(&pod), now);
                black_box(published);
                if tick == Tick::Probe {
                    // Below the failure threshold of 3, so the worker never goes on hold.
                    let ok = every_nth_fails == 0 || !n.is_multiple_of(every_nth_fails);
                    black_box(w.record(ok));
                }
                tick
            })
        });
        assert!(!w.on_hold(), "{name}: the worker kept probing");
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
