//! Isolates one cost: a behaviour's answer to one probe (the targets crate's
//! `Instance::respond`): find the phase at this time, decide what the request gets, sample
//! its latency from the instance's stream. The sample targets do this per request and the
//! simulator per simulated probe, so it bounds both.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use probebench_targets::{Request, parse_behaviour};

const CASES: [(&str, &str); 3] = [
    ("healthy_default", ""),
    ("lognormal_latency_flap", "latency: {lognormal: {p50: 5ms, p99: 80ms}}\nflap: {period: 20s, duty: 50%}\n"),
    (
        "phases_pauses",
        "startup: 10s\nlatency: {lognormal: {p50: 5ms, p99: 80ms}}\npauses: {every: 5m, for: 1s, jitter: 1m}\nphases:\n  - for: 2m\n    respond: ok\n  - for: 1m\n    respond: {status: 500}\n  - respond: ok\n",
    ),
];

fn bench(c: &mut Criterion) {
    let req = Request::Http { port: 8080, path: "/healthz".into(), host: None };
    let mut g = c.benchmark_group("behaviour");
    for (name, yaml) in CASES {
        let behaviour = parse_behaviour(yaml).expect("valid behaviour");
        let mut instance = behaviour.instance(1, 0);
        // Probe times one period apart, running through every phase of the timeline.
        let mut since = Duration::from_secs(30);
        g.bench_function(name, |b| {
            b.iter(|| {
                since += Duration::from_secs(10);
                if since > Duration::from_secs(3600) {
                    since = Duration::from_secs(30);
                }
                black_box(instance.respond(since, &req))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
