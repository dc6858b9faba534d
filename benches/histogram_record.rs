//! Isolates one cost: recording one value into a series' HDR histogram
//! (src/measure/hist.rs `MetricSet::record`: 3 significant digits, values clamped to one
//! hour, no allocation). A fired probe records five of these; the values cycle through
//! lags and latencies from 1 µs to 1 s so every bucket range is touched.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use probebench::measure::{Metric, MetricSet};

fn bench(c: &mut Criterion) {
    // Log-spread values, precomputed so the bench measures the record alone.
    let values: Vec<u64> = (0..1024).map(|i| 10f64.powf(3.0 + 6.0 * f64::from(i) / 1024.0) as u64).collect();
    let mut set = MetricSet::default();
    let mut i = 0usize;
    let mut g = c.benchmark_group("histogram");
    g.throughput(Throughput::Elements(1));
    g.bench_function("record_one_value", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            set.record(Metric::DispatchLag, black_box(values[i]));
        })
    });
    g.finish();
    assert!(!set.get(Metric::DispatchLag).is_empty());
}

criterion_group!(benches, bench);
criterion_main!(benches);
