//! `probebench compare` end to end: real short runs (noop probes, 3 s) compared with
//! themselves and across schedulers, and synthetic run directories written here (interval
//! logs through the library's own writer) whose verdicts and exit codes are known in
//! advance. No test asserts which scheduler is faster: the machine is shared.

mod cli_common;
use cli_common::bin;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use probebench::measure::hist::Metric;
use probebench::measure::recorder::IntervalSet;
use probebench::report::hlog::HlogBuffer;
use serde_json::{Value, json};

fn temp_dir(name: &str) -> PathBuf {
    cli_common::temp_dir("compare-cli", name)
}

/// One real run of a tiny noop scenario; returns its run directory.
fn real_run(dir: &Path, scheduler: &str) -> PathBuf {
    let scenario = dir.join("tiny.yaml");
    std::fs::write(
        &scenario,
        "kind: Scenario\nname: tiny\nduration: 3s\nwarmup: 1s\ncalibration: 0s\ninitialPhase: uniform\npods:\n- name: noop\n  replicas: 300\n  probeAs: noop\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        livenessProbe: {tcpSocket: {port: 80}, periodSeconds: 1}\n",
    )
    .unwrap();
    let out_dir = dir.join(format!("results-{scheduler}"));
    let out = bin()
        .args(["run", scenario.to_str().unwrap(), "--scheduler", scheduler, "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    // 0 ran; 3 the schedule was not held (a loaded machine): the files are written either way.
    assert!(matches!(out.status.code(), Some(0 | 3)), "run: {}", String::from_utf8_lossy(&out.stderr));
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.pop().unwrap()
}

/// The real runs, made once for every test in this file: (hires, naive).
fn real_runs() -> &'static (PathBuf, PathBuf) {
    static RUNS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    RUNS.get_or_init(|| {
        // Under the target directory (cargo's scratch space for integration tests): the
        // runs outlive every test that shares them, so no test can remove them.
        let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("compare-cli-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        (real_run(&d, "hires"), real_run(&d, "naive"))
    })
}

fn compare(args: &[&str]) -> (Output, Option<Value>) {
    let out = bin().arg("compare").args(args).output().unwrap();
    let json = serde_json::from_slice(&out.stdout).ok();
    (out, json)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn rows(v: &Value) -> &Vec<Value> {
    v["rows"].as_array().unwrap()
}

fn row<'a>(v: &'a Value, series: &str, metric: &str, stat: &str) -> &'a Value {
    rows(v)
        .iter()
        .find(|r| r["series"] == series && r["metric"] == metric && r["stat"] == stat)
        .unwrap_or_else(|| panic!("no row {series} {metric} {stat}"))
}

#[test]
fn a_run_compared_with_itself_is_the_same_in_every_figure() {
    let (hires, _) = real_runs();
    let (out, v) = compare(&[path(hires), path(hires), "--output", "json", "--fail-if-worse", "0"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let v = v.expect("JSON on stdout");
    assert_eq!(v["schema"], "probebench.compare/v1");
    assert!(rows(&v).len() >= 10, "lag, latency, rate, counts and prober rows");
    for r in rows(&v) {
        assert_eq!(r["verdict"], "same", "{r}");
        assert_eq!(r["a"], r["b"], "{r}");
    }
    assert!(v["only_in_a"].as_array().unwrap().is_empty() && v["only_in_b"].as_array().unwrap().is_empty());
    // The merged interval log gives the summary's own percentiles.
    let summary: Value = serde_json::from_slice(&std::fs::read(hires.join("summary.json")).unwrap()).unwrap();
    let p99 = row(&v, "all", "dispatch_lag", "p99")["a"]["value"].as_f64().unwrap();
    assert_eq!(p99, summary["phases"][0]["total"]["dispatch_lag"]["p99_us"].as_f64().unwrap());
    // The text table says the same.
    let (out, _) = compare(&[path(hires), path(hires)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(" 0 worse"), "{text}");
    assert!(text.contains("dispatch_lag p99.9"), "{text}");
}

#[test]
fn hires_against_naive_reports_the_dispatch_lag_difference() {
    let (hires, naive) = real_runs();
    let (out, v) = compare(&[path(hires), path(naive), "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "no --fail-if-worse: exit 0 whatever the verdicts");
    let v = v.unwrap();
    for stat in ["p50", "p99", "p99.9", "max"] {
        let r = row(&v, "all", "dispatch_lag", stat);
        let (a, b) = (r["a"]["value"].as_f64().unwrap(), r["b"]["value"].as_f64().unwrap());
        assert!(a > 0.0 && b > 0.0, "{r}");
        let ratio = r["ratio"].as_f64().unwrap();
        assert!((ratio - b / a).abs() < 1e-9 * ratio.max(1.0), "{r}");
        assert!(["better", "worse", "same"].contains(&r["verdict"].as_str().unwrap()));
        for side in ["a", "b"] {
            let e = &r[side];
            assert!(e["lo"].as_f64().unwrap() <= e["value"].as_f64().unwrap());
            assert!(e["hi"].as_f64().unwrap() >= e["value"].as_f64().unwrap());
        }
    }
    assert_eq!(v["a"][0]["scheduler"], "hires");
    assert_eq!(v["b"][0]["scheduler"], "naive");
    assert!(v["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("scheduler")), "{}", v["notes"]);
    let (out, _) = compare(&[path(hires), path(naive)]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lag = text.lines().find(|l| l.starts_with("all") && l.contains("dispatch_lag p99 ")).unwrap();
    assert!(lag.split_whitespace().count() >= 8, "{lag}");
}

#[test]
fn without_an_interval_log_the_hgrm_files_are_merged() {
    let (hires, _) = real_runs();
    let d = temp_dir("nohlog");
    let copy = d.join("copy");
    copy_dir(hires, &copy);
    std::fs::remove_file(copy.join("intervals.hlog")).unwrap();
    let (out, v) = compare(&[path(hires), path(&copy), "-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = v.unwrap();
    assert_eq!(v["b"][0]["histograms"][0], "hgrm");
    let r = row(&v, "all", "dispatch_lag", "p99");
    let (a, b) = (r["a"]["value"].as_f64().unwrap(), r["b"]["value"].as_f64().unwrap());
    assert!((a - b).abs() / a < 0.01, "the .hgrm ticks give the p99 back: {r}");
    assert_eq!(r["b"]["source"], "none", "one whole-run histogram has no spread of its own");
    for r in rows(&v) {
        assert_eq!(r["verdict"], "same", "{r}");
    }
    std::fs::remove_dir_all(d).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// A synthetic run directory: one phase, the given series, each second's dispatch lag and
/// latency drawn from a fixed pattern around `lag_us`; CPU per probe `cpu_us`.
fn synthetic_run(dir: &Path, series: &[&str], lag_us: u64, cpu_us: f64, failures: u64) -> PathBuf {
    synthetic_run_with_noise(dir, series, lag_us, cpu_us, failures, 0.1)
}

fn synthetic_run_with_noise(
    dir: &Path,
    series: &[&str],
    lag_us: u64,
    cpu_us: f64,
    failures: u64,
    other_busy_cores: f64,
) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let seconds = 10u64;
    let per_second = 200u64;
    let tags: Vec<String> = series.iter().map(|s| s.to_string()).collect();
    let mut log = HlogBuffer::new(Vec::new(), 1_800_000_000.0, &tags);
    for i in 0..seconds {
        let mut set = IntervalSet::new(series.len());
        set.index = i;
        for s in 0..series.len() {
            for k in 0..per_second {
                // ±20 % around the centre, varying by second and probe.
                let lag = lag_us * 1000 * (80 + (k * 7 + i * 13) % 41) / 100;
                set.series[s].record(Metric::DispatchLag, lag);
                set.series[s].record(Metric::CorrectedLatency, lag + 50_000);
                set.series[s].record(Metric::Latency, 50_000 + k);
            }
        }
        log.write_interval(&set, i as f64, 1.0);
    }
    std::fs::write(dir.join("intervals.hlog"), log.finish()).unwrap();
    let probes = seconds * per_second;
    let series_json = |mechanism: &str, ty: &str, n: u64, fail: u64| {
        json!({"mechanism": mechanism, "declared": mechanism, "probe_type": ty,
               "counters": {"probes": n, "success": n - fail, "failure": fail, "errored": 0},
               "rate_per_s": n as f64 / seconds as f64})
    };
    let s: Vec<Value> = series
        .iter()
        .map(|t| {
            let (m, ty) = t.split_once('.').unwrap();
            series_json(m, ty, probes, failures)
        })
        .collect();
    let n = series.len() as u64;
    let summary = json!({
        "schema": "probebench.summary/v1", "run_id": dir.file_name().unwrap().to_str().unwrap(),
        "scenario": "synthetic", "scheduler": "hires", "timer": "timerfd",
        "phases": [{"name": "main", "duration_s": seconds as f64, "workers": 200, "scheduled_rate_per_s": 200.0 * n as f64,
                    "series": s, "total": series_json("all", "all", probes * n, failures * n),
                    "overhead": {"cpu_us_per_probe": cpu_us, "cpu_us_per_probe_with_children": cpu_us,
                                 "children_cpu_s": 0.0, "rss_bytes_per_worker": 150.0,
                                 "noise": {"other_busy_cores": other_busy_cores, "steal_cores": 0.0}}}]
    });
    std::fs::write(dir.join("summary.json"), serde_json::to_vec_pretty(&summary).unwrap()).unwrap();
    dir.to_path_buf()
}

#[test]
fn fail_if_worse_exits_1_only_beyond_the_threshold_and_the_noise() {
    let d = temp_dir("gate");
    let base = synthetic_run(&d.join("base"), &["tcp.liveness"], 100, 10.0, 0);
    let same = synthetic_run(&d.join("same"), &["tcp.liveness"], 100, 10.2, 0);
    // Lag ×3 and CPU ×1.3: both beyond every interval.
    let slow = synthetic_run(&d.join("slow"), &["tcp.liveness"], 300, 13.0, 0);

    let (out, v) = compare(&[path(&base), path(&slow), "-o", "json", "--fail-if-worse", "10"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v = v.unwrap();
    let lag = row(&v, "tcp.liveness", "dispatch_lag", "p99");
    assert_eq!(lag["verdict"], "worse");
    assert_eq!(lag["regression"], true);
    assert_eq!(row(&v, "prober", "cpu_per_probe", "")["verdict"], "worse");
    assert!(v["regressions"].as_array().unwrap().iter().any(|r| r == "main/tcp.liveness dispatch_lag p99"));
    assert_eq!(row(&v, "tcp.liveness", "latency", "p50")["verdict"], "same", "latency did not change");

    // Worse, but not by more than the threshold (lag ×3 = +200 %): exit 0.
    let (out, _) = compare(&[path(&base), path(&slow), "--fail-if-worse", "250"]);
    assert_eq!(out.status.code(), Some(0));
    // Without the flag: always 0.
    let (out, _) = compare(&[path(&base), path(&slow)]);
    assert_eq!(out.status.code(), Some(0));
    // The other way round everything moved the good way: exit 0, verdict better.
    let (out, v) = compare(&[path(&slow), path(&base), "-o", "json", "--fail-if-worse", "10"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(row(v.as_ref().unwrap(), "all", "dispatch_lag", "p99")["verdict"], "better");
    // CPU 10.0 vs 10.2 (one run each): inside the 5 % minimum spread, so not a regression
    // even at a 1 % threshold.
    let (out, v) = compare(&[path(&base), path(&same), "-o", "json", "--fail-if-worse", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(row(v.as_ref().unwrap(), "prober", "cpu_per_probe", "")["verdict"], "same");
    // A smaller minimum spread makes the same 2 % a regression.
    let (out, _) = compare(&[path(&base), path(&same), "--fail-if-worse", "1", "--min-spread", "0.5"]);
    assert_eq!(out.status.code(), Some(1));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn repeated_runs_per_side_and_series_on_one_side_only() {
    let d = temp_dir("sides");
    let a1 = synthetic_run(&d.join("a1"), &["tcp.liveness"], 100, 10.0, 0);
    let a2 = synthetic_run(&d.join("a2"), &["tcp.liveness"], 110, 11.0, 0);
    let b1 = synthetic_run(&d.join("b1"), &["tcp.liveness", "grpc.liveness"], 105, 10.5, 2);
    let (out, v) = compare(&["-a", path(&a1), path(&a2), "-b", path(&b1), "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = v.unwrap();
    assert_eq!(v["a"].as_array().unwrap().len(), 2);
    assert_eq!(v["only_in_b"], json!(["series main/grpc.liveness"]));
    let lag = row(&v, "tcp.liveness", "dispatch_lag", "p99");
    assert_eq!(lag["a"]["source"], "bootstrap_runs_and_seconds");
    assert_eq!(lag["b"]["source"], "bootstrap_seconds");
    let cpu = row(&v, "prober", "cpu_per_probe", "");
    assert_eq!(cpu["a"]["source"], "runs_min_max");
    assert_eq!((cpu["a"]["lo"].as_f64(), cpu["a"]["hi"].as_f64()), (Some(10.0), Some(11.0)));
    // Two failures against none: inside Poisson noise.
    assert_eq!(row(&v, "tcp.liveness", "failure", "")["verdict"], "same");
    // B has a second series, so it schedules more probes: noted. Same machine load: no note.
    let notes = v["notes"].to_string();
    assert!(notes.contains("scheduled rates differ (A 200/s, B 400/s)"), "{notes}");
    assert!(!notes.contains("cores during"), "{notes}");
    // A side that ran beside a busy neighbour gets a note saying so.
    let busy = synthetic_run_with_noise(&d.join("busy"), &["tcp.liveness"], 100, 10.0, 0, 1.5);
    let (_, v) = compare(&[path(&a1), path(&busy), "-o", "json"]);
    let notes = v.unwrap()["notes"].to_string();
    assert!(notes.contains("0.10 cores during A, 1.50 during B"), "{notes}");
    // Positional and -a/-b mix: the first positional is A, the rest B.
    let (out, v) = compare(&[path(&a1), path(&b1), "-a", path(&a2), "-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v.unwrap()["a"].as_array().unwrap().len(), 2);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let d = temp_dir("bad");
    let good = synthetic_run(&d.join("good"), &["tcp.liveness"], 100, 10.0, 0);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![path(&good).into(), path(&d.join("missing")).into()], "no such run directory"),
        (vec![path(&good).into(), path(&d).into()], "not a run directory"),
        (vec![path(&good).into()], "runs on both sides"),
        (vec![path(&good).into(), path(&good).into(), "--fail-if-worse=-3".into()], "percentage"),
    ];
    for (args, message) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, _) = compare(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    std::fs::write(good.join("summary.json"), "{\"schema\": \"probebench.summary/v2\", \"phases\": []}").unwrap();
    let (out, _) = compare(&[path(&good), path(&good)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("probebench.summary/v2"));
    std::fs::remove_dir_all(d).unwrap();
}
