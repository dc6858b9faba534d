//! Isolates one cost: a tuning sweep's wall time — 100 liveness settings (periods around
//! 10 s) × 100 pods × 24 h of virtual time each, on every core. `cargo bench --bench tune`
//! runs the full sweep once and prints the time; under `cargo test --benches` it runs a
//! small sweep as a smoke test.

use std::time::Instant;

use probebench::kubelet::config::{KubeletConfig, SECOND};
use probebench::tune::{self, app, grid::Grid, measure::Exposure, objective};

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: api}\nspec:\n  containers:\n  - name: api\n    image: api:1.0\n    ports: [{containerPort: 8080}]\n    livenessProbe:\n      httpGet: {path: /healthz, port: 8080}\n      timeoutSeconds: 1\n      failureThreshold: 1\n";
const APP: &str = "startup: {uniform: {min: 5s, max: 20s}}\nlatency: {lognormal: {p50: 5ms, p99: 80ms}}\npauses: {every: 5m, for: 1s, jitter: 1m}\nincidents:\n  hang: {every: 12h}\n";

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let pod = probebench::spec::load_str("pod.yaml", POD).expect("pod").pods.remove(0);
    let app = app::parse(APP, "api", "api").expect("app");
    let mut grid = Grid::default();
    let sweeps: &[&str] = if full {
        &[
            "liveness.periodSeconds=6,8,10,12,14",
            "liveness.timeoutSeconds=1,2,3,5",
            "liveness.failureThreshold=1,2,3,4,6",
        ]
    } else {
        &["liveness.periodSeconds=10", "liveness.timeoutSeconds=1,2"]
    };
    for s in sweeps {
        grid.set(s).expect("sweep");
    }
    let (pods, hours) = if full { (100, 24) } else { (5, 1) };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let req = tune::Request {
        pod,
        container: 0,
        app,
        grid,
        objectives: objective::defaults(),
        exposure: Exposure { pods, duration_ns: hours * 3600 * SECOND, seed: 1 },
        kubelet: KubeletConfig::default(),
        threads,
        max_extensions: 0,
        pods_per_node: 110,
        costs: tune::costs::MechanismCosts::built_in(),
    };
    let start = Instant::now();
    let out = tune::run(&req, &|_, _, _| {});
    let took = start.elapsed();
    let settings = out.candidates.len();
    let probes: f64 = out.candidates.iter().map(|c| c.metrics.probes_per_pod_hour * c.metrics.pod_days * 24.0).sum();
    println!(
        "tune sweep: {settings} settings × {pods} pods × {hours} h on {threads} threads: {:.1} s wall, {:.1} M simulated probe runs ({:.2} M/s)",
        took.as_secs_f64(),
        probes / 1e6,
        probes / 1e6 / took.as_secs_f64()
    );
    assert!(settings >= 2 && out.best.is_some() || !full);
}
