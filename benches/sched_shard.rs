//! The shard core's per-probe cost alone, with no timer waits: a million noop workers
//! (period 10 s, uniform phases) fired on a virtual clock in 500 µs steps, as a coalescing
//! shard would wake. Divides the time by the probes fired: the work a probe costs the
//! scheduler (kubelet tick + record, wheel pop and relink, five histogram records).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use probebench::measure::Recorder;
use probebench::sched::clock::VirtualClock;
use probebench::sched::fleet::{Fleet, GroupInput, InitialPhase};
use probebench::sched::mechanism::{Capabilities, MechanismKind, ProbeTemplate};
use probebench::sched::shard::{Dispatch, ProbeStart, ShardConfig, ShardCore};

struct Nothing;
impl Dispatch for Nothing {
    fn start(&mut self, _p: &ProbeStart, _t: &Arc<ProbeTemplate>) {}
}

fn fleet(pods: u32) -> Fleet {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n    livenessProbe:\n      tcpSocket: {port: 80}\n      periodSeconds: 10\n";
    let loaded = probebench::spec::load_str("bench.yaml", text).expect("valid pod");
    Fleet::build(
        &[GroupInput { pod: loaded.pods[0].clone(), replicas: pods, probe_as: Some(MechanismKind::Noop) }],
        &Capabilities::NOOP_ONLY,
    )
}

fn bench(c: &mut Criterion) {
    let f = fleet(1_000_000);
    let cfg = ShardConfig {
        initial_phase: InitialPhase::Uniform,
        seed: 1,
        bounds: [1024; MechanismKind::COUNT],
        max_events: 0,
    };
    let s = 1_000_000_000u64;
    let mut core = ShardCore::new(&f, 0, 1, cfg, Recorder::new(1, 0, s, None));
    let t0 = 1_000 * s;
    core.arm(t0, t0, u64::MAX);
    let clock = VirtualClock::new(t0);
    let mut now = t0;
    let mut g = c.benchmark_group("shard");
    g.sample_size(20);
    // One iteration = one 500 µs step (~50 probes at 100k/s).
    g.bench_function("noop_1m_workers_500us_step", |b| {
        b.iter(|| {
            now += 500_000;
            clock.set(now);
            black_box(core.run_due(&clock, &mut Nothing))
        })
    });
    g.finish();
    let fired = core.rec.series[0].counters.probes;
    let steps = (now - t0) / 500_000;
    eprintln!(
        "probes fired: {fired} over {steps} steps ({:.1} per step); divide the time per step by that for the cost per probe",
        fired as f64 / steps.max(1) as f64
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
