//! `probebench tune` on the cases the issue names, small enough for a debug build: the
//! exposure is a few dozen pods for half a day, the grids a handful of settings.

use probebench::kubelet::config::{KubeletConfig, SECOND};
use probebench::spec;
use probebench::tune::{self, app, grid::Grid, measure::Exposure, objective};

fn request(pod_yaml: &str, app_yaml: &str, sweeps: &[&str], pods: u32, hours: u64) -> tune::Request {
    let pod = spec::load_str("pod.yaml", pod_yaml).unwrap().pods.remove(0);
    let app = app::parse(app_yaml, &pod.name, &pod.spec.containers[0].name).unwrap();
    let mut grid = Grid::default();
    for s in sweeps {
        grid.set(s).unwrap();
    }
    tune::Request {
        pod,
        container: 0,
        app,
        grid,
        objectives: objective::defaults(),
        exposure: Exposure { pods, duration_ns: hours * 3600 * SECOND, seed: 1 },
        kubelet: KubeletConfig::default(),
        threads: 2,
        max_extensions: 0,
        pods_per_node: 110,
        costs: tune::costs::MechanismCosts::built_in(),
    }
}

const API: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: api}\nspec:\n  containers:\n  - name: api\n    image: api:1.0\n    ports: [{containerPort: 8080}]\n    livenessProbe:\n      httpGet: {path: /healthz, port: 8080}\n      timeoutSeconds: 1\n      failureThreshold: 1\n";

#[test]
fn gc_pauses_restart_a_one_second_one_strike_probe_and_tune_finds_one_that_does_not() {
    let gc = "startup: 5s\nlatency: {lognormal: {p50: 5ms, p99: 50ms}}\npauses: {every: 5m, for: 1s, jitter: 1m}\nincidents:\n  hang: {every: 6h}\n";
    let req = request(API, gc, &["liveness.timeoutSeconds=1,2,3", "liveness.failureThreshold=1,2"], 40, 24);
    let out = tune::run(&req, &|_, _, _| {});
    let current = out.candidates.iter().find(|c| c.current).unwrap();
    assert_eq!(current.label, "L 10s/1s×1");
    // A pause that a probe meets early fails it, and one failure is a restart.
    assert!(current.metrics.false_restarts > 5, "{:?}", current.metrics);
    assert!(!current.meets_all);
    let best = &out.candidates[out.best.expect("a recommendation")];
    assert_eq!(best.metrics.false_restarts, 0, "{}: {:?}", best.label, best.metrics);
    let detect = best.metrics.detect_p99_s.expect("hangs were detected");
    assert!(detect.value <= 60.0, "{}: {detect:?}", best.label);
    assert!(best.metrics.hangs > 10);
    // The closed form's window holds the simulated detections.
    let window = best.closed_form.detect_s.unwrap();
    assert!(best.metrics.detect_p50_s.unwrap().value <= window.worst_s);
}

#[test]
fn a_slow_start_without_a_startup_probe_loops_and_tune_adds_one() {
    let slow = "startup: {uniform: {min: 45s, max: 90s}}\nincidents: {hang: false}\n";
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: slow}\nspec:\n  containers:\n  - name: app\n    image: app:1.0\n    ports: [{containerPort: 8080}]\n    livenessProbe:\n      httpGet: {path: /healthz, port: 8080}\n";
    let mut req = request(pod, slow, &["startup=none,10x14"], 20, 6);
    req.objectives.retain(|o| o.metric != objective::Metric::DetectP99);
    let out = tune::run(&req, &|_, _, _| {});
    let current = out.candidates.iter().find(|c| c.current).unwrap();
    // Liveness (10 s × 3) gives up after ~30 s on an app that needs 45-90 s: it is killed
    // during every start, in a loop.
    assert!(current.metrics.startup_kills > 50, "{:?}", current.metrics);
    assert!(current.metrics.startup_kills_per_day.low > 10.0, "{:?}", current.metrics);
    let best = &out.candidates[out.best.expect("a recommendation")];
    let startup = best.setting.startup.expect("the recommendation adds a startup probe");
    assert!(startup.startup_budget_s() >= 90);
    assert_eq!(best.metrics.startup_kills, 0);
    assert_eq!(best.metrics.false_restarts, 0);
    let snippet = tune::report::yaml_snippet(&req.pod.spec.containers[0], &best.setting);
    assert!(snippet.contains("startupProbe:") && snippet.contains("failureThreshold: 14"), "{snippet}");
    assert!(startup.startup_budget_s() >= 90);
}

#[test]
fn simulation_and_closed_form_agree_where_answers_are_independent() {
    let indep = "startup: 1s\nlatency: {lognormal: {p50: 200ms, p99: 1500ms}}\nincidents: {hang: false}\n";
    let req = request(API, indep, &["liveness.failureThreshold=2,3"], 60, 24);
    let out = tune::run(&req, &|_, _, _| {});
    for c in out.candidates.iter().filter(|c| c.setting.liveness.unwrap().failure_threshold >= 2) {
        let formula = c.closed_form.false_restarts_per_day.expect("independent answers");
        let sim = c.metrics.false_restarts_per_day;
        // The formula should sit inside the simulation's 95 % interval (allowing 10 % for
        // the interval's own approximation).
        assert!(
            formula >= sim.low * 0.9 && formula <= sim.high * 1.1,
            "{}: formula {formula:.3}/day, simulated {sim:?}",
            c.label
        );
    }
}

#[test]
fn the_cli_prints_a_recommendation_and_writes_a_report() {
    let dir = std::env::temp_dir().join(format!("probebench-tune-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pod.yaml"), API).unwrap();
    std::fs::write(dir.join("app.yaml"), "startup: 2s\npauses: {every: 5m, for: 1500ms, jitter: 1m}\n").unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_probebench"))
        .current_dir(&dir)
        .args(["tune", "pod.yaml", "--behaviour", "app.yaml", "--pods", "10", "--for", "6h"])
        .args(["--sweep", "liveness.timeoutSeconds=1,2", "--sweep", "liveness.failureThreshold=1,3"])
        .args(["--report", "tune.html", "--max-extensions", "0"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("Your settings (L 10s/1s×1)"), "{text}");
    assert!(text.contains("RANK"), "{text}");
    let html = std::fs::read_to_string(dir.join("tune.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Pareto front") && html.contains("current setting"));
    let json = std::process::Command::new(env!("CARGO_BIN_EXE_probebench"))
        .current_dir(&dir)
        .args(["tune", "pod.yaml", "--behaviour", "app.yaml", "--pods", "5", "--for", "2h", "--output", "json"])
        .args(["--sweep", "liveness.timeoutSeconds=1,2", "--max-extensions", "0"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["candidates"].as_array().unwrap().len(), 2);
    assert!(v["candidates"][0]["metrics"]["false_restarts_per_day"]["high"].is_number());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn objectives_and_sweeps_are_validated() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_probebench"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tune", "targets/pods/myweb-startup.yaml", "--objective", "detec<=60s"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean \"detect\""));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_probebench"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tune", "targets/pods/myweb-startup.yaml", "--sweep", "liveness.periodSecond=5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
