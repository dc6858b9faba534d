//! Isolates one cost: the timer wheel's insert and fire per worker (src/sched/wheel.rs) —
//! popping the due entries of a step and linking each one again one period later, with no
//! kubelet state, probes or histograms (benches/sched_shard.rs measures those together).
//! A million workers, period 10 s, deadlines 10 µs apart, so every 10 ms step fires exactly
//! 1,000: criterion's throughput is per worker fired and re-armed. Deadlines are dealt to
//! workers in a scrambled order, as random initial phases deal them, so the nodes a step
//! touches are scattered over the 1M-node array (in worker order they would be adjacent
//! and the figure would flatter the wheel by the cache misses it hides).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use probebench::sched::wheel::Wheel;

const WORKERS: u32 = 1_000_000;
const PERIOD_NS: u64 = 10_000_000_000;
const STEP_NS: u64 = 10_000_000;

fn bench(c: &mut Criterion) {
    let t0 = 1_000 * PERIOD_NS;
    // The payload stands for the worker state a shard keeps beside each node.
    let mut wheel: Wheel<[u32; 7]> = Wheel::new(vec![[0; 7]; WORKERS as usize], t0);
    let spacing = PERIOD_NS / u64::from(WORKERS);
    for w in 0..WORKERS {
        // w ↦ w·48271 mod 10^6 is a permutation (48271 is prime, coprime with 10^6).
        let position = u64::from(w) * 48_271 % u64::from(WORKERS);
        wheel.schedule(w, t0 + 1 + position * spacing);
    }
    let per_step = STEP_NS / spacing;
    let mut now = t0;
    let mut due = Vec::with_capacity(per_step as usize * 2);
    let mut g = c.benchmark_group("timer_wheel");
    g.throughput(Throughput::Elements(per_step));
    g.bench_function("pop_and_rearm_1000_of_1m", |b| {
        b.iter(|| {
            now += STEP_NS;
            due.clear();
            wheel.pop_due(now, &mut due);
            for &w in &due {
                let next = wheel.deadline(w) + PERIOD_NS;
                wheel.schedule(w, next);
            }
            black_box(due.len())
        })
    });
    g.finish();
    // Every worker stays linked: each one popped was linked again.
    assert_eq!(wheel.len(), WORKERS as usize);
}

criterion_group!(benches, bench);
criterion_main!(benches);
